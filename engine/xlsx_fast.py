"""The fast reader: the reader's answer from the parts the pre-check already inflated.

Why it exists. The sandbox worker pre-checks a file (:mod:`engine.precheck`,
which inflates every part once) and then reads it (:mod:`engine.reader`, with
python-calamine, which opens the zip and inflates everything again). Most of
a return is the template's own text and a few dozen answers, so reading the
handful of cells the template uses straight from the parts the pre-check kept
takes a fraction of the time of a second full read.

What it promises. :func:`read_parts` gives exactly the dict
:func:`engine.reader.read_return` gives (the same sheets with their visibility,
the same cells with the same Python values, the same ``saved_at``), or ``None``.
It reads only what Excel, LibreOffice and the engine's own writer produce, in
the plain form they write it, and copies python-calamine's typing of values
(found by experiment, see tests/test_fast_reader.py): shared strings (rich text
runs included), inline strings, formula results, booleans, errors (read as
empty), numbers (always ``float``), dates by the cell style's number format,
entities, ``_xHHHH_`` escapes and the trimming of text not marked
``xml:space="preserve"``.

When it falls back. Whenever a file holds anything it is not certain to read
exactly as python-calamine does (a namespace prefix on a tag, a cell without
its position, an unknown cell type, a number format or a date it cannot
classify, a missing part, the 1904 date system, a comment or CDATA section, a
carriage return, any other structure or any exception), :func:`read_parts`
answers ``None`` and :func:`read_return_parts` reads the file with
python-calamine instead: the answer is never different, only slower.

Text encodings. Parts are decoded as their declaration (or byte order mark)
says, so a sheet saved in UTF-16 or ISO-8859-1 reads as spreadsheets read it;
python-calamine, when it reads instead, is given a copy in UTF-8 (see
:func:`engine.reader.read_return`).

As a spreadsheet shows it. :func:`read_as_shown`, which the sandbox worker
uses, refuses (:class:`engine.reader.Unclear`) a file with a cell the engine
reads that Excel, LibreOffice and python-calamine would show differently: an
inline string in a cell not typed as one, a shared-string number that is not
one, a boolean written ``true``, an ``_xHHHH_`` escape readers decode
differently. The fast reader notes those it reads (copying python-calamine
all the same) and steps aside for the rest, which the thorough check
(:func:`engine.reader.check_cells`) finds before python-calamine reads.
"""

from __future__ import annotations

import datetime as dt
import operator
import re
from collections.abc import Mapping

from . import reader, template

FAST = "fast"
CALAMINE = "calamine"


class _Unsupported(Exception):
    """Something the fast reader does not read exactly as python-calamine would."""


#: Parts larger than this in all (a real return's are under 1 MB) go straight to
#: python-calamine: text copies of them would only add to the worker's memory.
FAST_LIMIT = 32 * 1024 * 1024


def read_return_parts(path: str, parts: dict[str, bytes] | None) -> tuple[dict, str]:
    """The reader's answer for ``path``: from ``parts`` when possible, else python-calamine.

    Returns the answer and which reader gave it (:data:`FAST` or :data:`CALAMINE`).
    ``parts`` is emptied before python-calamine reads, so its memory is given back.
    """
    raw = None
    if parts and sum(len(data) for data in parts.values()) <= FAST_LIMIT:
        raw = read_parts(parts)
    if raw is None:
        if parts:
            parts.clear()
        return reader.read_return(path), CALAMINE
    return raw, FAST


def read_parts(parts: Mapping[str, bytes], unclear: list | None = None) -> dict | None:
    """:func:`engine.reader.read_return` from the inflated parts, or ``None`` to fall back.

    Cells the engine reads that other programs would show differently are added to
    ``unclear`` (if given) as ``(sheet, cell, what)``; they are read all the same.
    """
    try:
        return _read(parts, unclear if unclear is not None else [])
    except Exception:  # noqa: BLE001 - anything unexpected: python-calamine reads the file
        return None


def read_as_shown(path: str, parts: dict[str, bytes] | None) -> tuple[dict, str]:
    """:func:`read_return_parts`, refusing a file whose cells programs would show differently.

    Raises :class:`engine.reader.Unclear` for the first such cell the engine reads:
    noted by the fast reader, or found by :func:`engine.reader.check_cells` before
    python-calamine reads a file the fast reader leaves to it.
    """
    unclear: list = []
    raw = None
    if parts and sum(len(data) for data in parts.values()) <= FAST_LIMIT:
        raw = read_parts(parts, unclear)
    if raw is None:
        if parts:
            parts.clear()
        reader.check_cells(path)
        return reader.read_return(path), CALAMINE
    if unclear:
        raise reader.unclear_cell(*unclear[0])
    return raw, FAST


# --- text -------------------------------------------------------------------------------

_XML_DECL = re.compile(r'<\?xml version="1\.0"(?: encoding="(?i:utf-8)")?(?: standalone="yes")?\?>')
_ENTITY = re.compile(r"&(?:(lt|gt|amp|quot|apos)|#([0-9]{1,7})|#x([0-9a-fA-F]{1,6}));")
_BAD_AMPERSAND = re.compile(r"&(?!(?:lt|gt|amp|quot|apos|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});)")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}
_ESCAPE = re.compile(r"_x(....)_")
_HEX4 = re.compile(r"[0-9a-fA-F]{4}")
_TRIM = " \t\n\r"


_UTF8_DECL = b'<?xml version="1.0" encoding="UTF-8"'


def _part(parts: Mapping[str, bytes], name: str) -> str:
    """A part as text: a plain declaration, no comments, CDATA or carriage returns.

    Decoded as the part says (:func:`engine.reader.xml_text`): UTF-8 almost always.
    """
    data = parts.get(name)
    if data is None:
        raise _Unsupported(f"no {name}")
    text = data.decode("utf-8") if data.startswith(_UTF8_DECL) else reader.xml_text(data)
    if ("!" in text and "<!" in text) or "\r" in text:
        raise _Unsupported(f"{name}: comments, CDATA or carriage returns")
    if not _XML_DECL.match(text):
        raise _Unsupported(f"{name}: not plain XML")
    return text


def _entity(match: re.Match) -> str:
    named, dec, hexa = match.groups()
    if named:
        return _NAMED[named]
    code = int(dec) if dec else int(hexa, 16)
    if not (0 < code < 0xD800 or 0xE000 <= code <= 0xFFFD or 0x10000 <= code <= 0x10FFFF):
        raise _Unsupported("character reference")
    return chr(code)


def _unescape(raw: str) -> str:
    if "&" not in raw:
        return raw
    if _BAD_AMPERSAND.search(raw):
        raise _Unsupported("unknown entity")
    return _ENTITY.sub(_entity, raw)


def _escape(match: re.Match) -> str:
    digits = match.group(1)
    if not _HEX4.fullmatch(digits):
        raise _Unsupported("_x escape")
    code = int(digits, 16)
    # python-calamine decodes an escape only up to 0xFF and leaves the rest as written.
    return chr(code) if code <= 0xFF else match.group(0)


def _text(raw: str, preserve: bool = True) -> str:
    """A ``<t>`` or ``<v>``'s text as python-calamine gives it."""
    text = _unescape(raw)
    if not preserve:
        text = text.strip(_TRIM)
    if "_x" in text:
        text = _ESCAPE.sub(_escape, text)
    return text


# --- attributes -------------------------------------------------------------------------

_ATTRS = re.compile(r'(?:\s+[A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?="[^"<]*")*\s*')
_ATTR = re.compile(r'([A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?)="([^"<]*)"')


def _attributes(raw: str) -> dict[str, str]:
    if not _ATTRS.fullmatch(raw):
        raise _Unsupported("attributes")
    found: dict[str, str] = {}
    for name, value in _ATTR.findall(raw):
        if name in found or "\t" in value or "\n" in value:
            raise _Unsupported("attributes")
        found[name] = _unescape(value)
    return found


# --- workbook, relationships, styles, shared strings ------------------------------------

_PREFIXED = re.compile(r"</?[A-Za-z_][\w.\-]*:")
# The end of a prefixed tag's name (``<x:c ``): led by the rare ':', so quick to look for.
_PREFIX_END = re.compile(r":[A-Za-z_][\w.\-]*[\s/>]")
_SHEET = re.compile(r"<sheet([\s/][^>]*)>")
_WORKBOOK_PR = re.compile(r"<workbookPr([\s/][^>]*)>")
_RELATIONSHIP = re.compile(r"<Relationship([\s/][^>]*)>")
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
_STATES = {"visible": "visible", "hidden": "hidden", "veryHidden": "veryhidden"}


def _tag_attributes(raw: str) -> dict[str, str]:
    return _attributes(raw[:-1] if raw.endswith("/") else raw)


def _cached(cache: dict, key, compute):
    """``compute()``, remembered for ``key``: returns of one network share these parts."""
    found = cache.get(key)
    if found is None:
        found = compute()
        if len(cache) >= 8:
            cache.clear()
        cache[key] = found
    return found


_SHEETS_CACHE: dict = {}
_STYLES_CACHE: dict = {}


def _sheets(parts: Mapping[str, bytes]) -> tuple[list[list[str]], dict[str, str]]:
    """Sheets in order with their visibility, and each sheet's part name."""
    key = (parts.get("xl/workbook.xml"), parts.get("xl/_rels/workbook.xml.rels"))
    sheets, where, related = _cached(_SHEETS_CACHE, key, lambda: _read_sheets(parts))
    for target in where.values():
        if target not in parts:
            raise _Unsupported("sheet part")
    if "xl/sharedStrings.xml" in parts and not related:
        # Spreadsheets show no shared strings the relationships do not name.
        raise _Unsupported("shared strings without a relationship")
    return [list(sheet) for sheet in sheets], where


def _read_sheets(
    parts: Mapping[str, bytes],
) -> tuple[tuple[tuple[str, str], ...], dict[str, str], bool]:
    workbook = _part(parts, "xl/workbook.xml")
    rels = _part(parts, "xl/_rels/workbook.xml.rels")
    if _PREFIXED.search(rels) or re.search(r"</?[\w.\-]+:(?:sheets?|workbookPr)\b", workbook):
        raise _Unsupported("prefixed tags")
    if workbook.count("<sheets>") != 1 or workbook.count("<sheets") != 1:
        raise _Unsupported("sheets")
    for raw in _WORKBOOK_PR.findall(workbook):
        if _tag_attributes(raw).get("date1904", "false") not in ("false", "0"):
            raise _Unsupported("1904 date system")
    targets: dict[str, str] = {}
    by_type: dict[str, list[str]] = {}
    for raw in _RELATIONSHIP.findall(rels):
        attrs = _tag_attributes(raw)
        target = attrs.get("Target", "")
        if "TargetMode" in attrs or target.startswith("/") or ".." in target or "\\" in target:
            raise _Unsupported("relationship target")
        rel_id = attrs.get("Id", "")
        if rel_id in targets:
            raise _Unsupported("relationship ids")
        targets[rel_id] = "xl/" + target
        by_type.setdefault(attrs.get("Type", ""), []).append(target)
    for kind, name in (("sharedStrings", "sharedStrings.xml"), ("styles", "styles.xml")):
        if by_type.get(_REL + kind, [name]) != [name]:
            raise _Unsupported(f"{kind} elsewhere")
    sheets: list[tuple[str, str]] = []
    where: dict[str, str] = {}
    for raw in _SHEET.findall(workbook):
        attrs = _tag_attributes(raw)
        name = attrs.get("name", "")
        rel_id = attrs.get("r:id")
        state = _STATES.get(attrs.get("state", "visible"))
        target = targets.get(rel_id or "")
        if not name or "_x" in name or name != name.strip(_TRIM) or state is None:
            raise _Unsupported("sheet")
        if name in where or target is None:
            raise _Unsupported("sheet part")
        if target[3:] not in by_type.get(_REL + "worksheet", ()):
            raise _Unsupported("not a worksheet")
        sheets.append((name, state))
        where[name] = target
    if not sheets:
        raise _Unsupported("no sheets")
    return tuple(sheets), where, _REL + "sharedStrings" in by_type


# Built-in number formats as python-calamine 0.9 classifies them (by experiment).
_BUILTIN_DATES = {*range(14, 23), *range(27, 37), 45, 47, *range(50, 59)}
_BUILTIN_NUMBERS = {*range(14), *range(23, 27), *range(37, 45), 48, 49, *range(59, 82)}
_NUM_FMT = re.compile(r"<numFmt([\s/][^>]*)>")
_XF = re.compile(r"<xf([\s/][^>]*)>")
_CELL_XFS = re.compile(r"<cellXfs(?:\s[^>]*)?>(.*?)</cellXfs>", re.S)
_DATE, _NUMBER, _UNKNOWN = "date", "number", "unknown"


def format_kind(code: str) -> str:
    """``date``, ``timedelta`` or ``number``: how python-calamine takes a custom format.

    Only the first section counts; quoted text and escaped characters are not
    looked at; a d, m, h, y or s outside brackets makes a date, as does ``a``
    followed by ``p``, ``m`` or ``/`` (``AM/PM``); ``[h]``, ``[m]`` or ``[s]`` an
    elapsed time.
    """
    escaped = is_quote = ap = hms = False
    brackets = 0
    prev = " "
    for ch in code:
        if escaped:
            escaped = False
        elif ch in "_\\":
            escaped = True
        elif is_quote:
            if ch == '"':
                is_quote = False
        elif ch == '"':
            is_quote = True
        elif ch == ";":
            return _NUMBER
        elif ch == "[":
            brackets += 1
            if brackets > 200:  # python-calamine counts in a byte
                raise _Unsupported("number format")
        elif ch == "]" and brackets == 1 and hms:
            return "timedelta"
        elif ch == "]":
            brackets = max(brackets - 1, 0)
        elif ch in "aA" and not ap and brackets == 0:
            ap = True
        elif (ch in "pm/PM" and ap and brackets == 0) or (
            ch in "dmhysDMHYS" and not ap and brackets == 0
        ):
            return _DATE
        elif not (hms and ch.lower() == prev.lower()):
            hms = prev == "[" and ch in "mhsMHS"
        prev = ch
    return _NUMBER


def _styles(parts: Mapping[str, bytes]) -> tuple[str, ...]:
    """How each cell style's number format is read: date, number or unknown."""
    return _cached(_STYLES_CACHE, parts.get("xl/styles.xml"), lambda: _read_styles(parts))


def _read_styles(parts: Mapping[str, bytes]) -> tuple[str, ...]:
    styles = _part(parts, "xl/styles.xml")
    if re.search(r"</?[\w.\-]+:(?:numFmts?|cellXfs|xf)\b", styles):
        raise _Unsupported("prefixed tags")
    custom: dict[int, str] = {}
    for raw in _NUM_FMT.findall(styles):
        attrs = _tag_attributes(raw)
        number = int(attrs["numFmtId"])
        if number < 164 or number in custom or not attrs["numFmtId"].isdigit():
            raise _Unsupported("number format id")
        custom[number] = format_kind(attrs["formatCode"])
    sections = _CELL_XFS.findall(styles)
    if len(sections) != 1 or styles.count("<cellXfs") != 1:
        raise _Unsupported("cell styles")
    kinds = []
    for raw in _XF.findall(sections[0]):
        number_text = _tag_attributes(raw).get("numFmtId", "")
        if not number_text.isdigit():
            raise _Unsupported("number format id")
        number = int(number_text)
        if number in custom:
            kinds.append(custom[number])
        elif number in _BUILTIN_DATES:
            kinds.append(_DATE)
        elif number in _BUILTIN_NUMBERS:
            kinds.append(_NUMBER)
        else:
            kinds.append(_UNKNOWN)
    return tuple(kinds)


_SI = re.compile(r'<si><t( xml:space="preserve")?>([^<]*)</t></si>|<si>(.+?)</si>', re.S)
_EMPTY_TAG = r'<[A-Za-z]+(?:\s+[\w:]+="[^"<]*")*\s*/>'
_RUN = re.compile(
    rf"<r>(?:<rPr>(?:{_EMPTY_TAG})*</rPr>|<rPr/>)?<t( xml:space=\"preserve\")?>([^<]*)</t></r>"
)
_PHONETIC = (
    r'(?:<rPh(?:\s+\w+="[^"<]*")*>(?:<t(?: xml:space="preserve")?>[^<]*</t>)?</rPh>)*'
    r'(?:<phoneticPr(?:\s+\w+="[^"<]*")*\s*/>)?'
)
_RICH = re.compile(rf"(?:{_RUN.pattern})+{_PHONETIC}")
_PLAIN_PHONETIC = re.compile(rf"<t( xml:space=\"preserve\")?>([^<]*)</t>{_PHONETIC}|<t/>")


class _Strings:
    """The shared strings: each one's structure checked, its text decoded when a cell uses it."""

    def __init__(self, parts: Mapping[str, bytes]):
        self.raw: list[tuple[str, str, str]] = []
        self.text: list[str] = []
        if "xl/sharedStrings.xml" not in parts:
            return
        sst = _part(parts, "xl/sharedStrings.xml")
        self.raw = _SI.findall(sst)
        opening = sst.find("<sst")
        head_end = sst.find(">", opening)
        if opening < 0 or head_end < 0 or sst[head_end - 1] == "/":
            raise _Unsupported("shared strings")
        # Every '<' is accounted for by the declaration, <sst> and </sst>, and the
        # strings matched: no other tag (a prefixed one, say) hides anywhere.
        tags = 3 + 4 * len(self.raw)
        for _preserve, _plain, other in self.raw:
            if other:
                tags += other.count("<") - 2
        if sst.count("<") != tags or sst[:opening].count("<") != 1:
            raise _Unsupported("shared strings")
        if not sst.rstrip().endswith("</sst>"):
            raise _Unsupported("shared strings")
        if "&" in sst and _BAD_AMPERSAND.search(sst):
            raise _Unsupported("unknown entity")
        self.text = [
            _complex_string(other)
            if other
            else _text(plain, bool(preserve))
            if "&" in plain or "_x" in plain
            else plain
            if preserve
            else plain.strip(_TRIM)
            for preserve, plain, other in self.raw
        ]
        # Strings other programs read differently, by index (what is wrong): rare, so
        # looked for only among strings with an escape, an entity or formatting.
        self.unclear = {
            index: problem
            for index, (_preserve, plain, other) in enumerate(self.raw)
            if (other or "_x" in plain or "&" in plain)
            and (problem := _unclear_string(other or f"<t>{plain}</t>"))
        }

    def __getitem__(self, index: int) -> str:
        return self.text[index]


def _unclear_string(content: str) -> str | None:
    """What makes a string's content read differently in other programs, or ``None``.

    The fast reader's share of :func:`engine.reader.string_problem`: spaces at the
    edge of one of several runs without ``xml:space="preserve"``, and escapes
    programs decode differently.
    """
    match = _PLAIN_PHONETIC.fullmatch(content)
    runs = [match.groups()] if match else _RUN.findall(content)
    for preserve, raw in runs:
        text = _unescape(raw or "")
        if len(runs) > 1 and not preserve and text != text.strip(_TRIM):
            return reader.SPACES
        if "_x" in text and reader.unclear_escapes(text):
            return reader.CODED
    return None


def _complex_string(content: str) -> str:
    """Rich text runs, or plain text with phonetic guides."""
    match = _PLAIN_PHONETIC.fullmatch(content)
    if match:
        preserve, text = match.groups()
        return "" if text is None else _text(text, bool(preserve))
    if not _RICH.fullmatch(content):
        raise _Unsupported("shared string structure")
    return "".join(_text(text, bool(preserve)) for preserve, text in _RUN.findall(content))


# --- cells ------------------------------------------------------------------------------

_CELL = re.compile(
    r'<c r="([A-Z]{1,3}[0-9]{1,7})"(?: s="([0-9]{1,9})")?(?: t="([A-Za-z]{1,9})")?'
    # A formula in a cell typed as a shared or inline string is no cell Excel writes.
    r'>(?:(?<!t="s">)(?<!t="inlineStr">)<f(?:\s[^<>]*)?(?:/>|>[^<]*</f>))?'
    r"(?:<v>([^<]*)</v>|<v/>|<is>((?:[^<]|<(?!/?(?:is|c|v|f)[\s/>]))*)</is>)?"
    r"</c>"
)
# Every cell the pre-check lets through lies within the template's bounds.
_REFS = {
    f"{chr(64 + col) if col <= 26 else 'A' + chr(38 + col)}{row}": (row, col)
    for row in range(1, template.MAX_ROW + 1)
    for col in range(1, min(template.MAX_COL, 52) + 1)
}
_NUMBER_TEXT = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_ERRORS = {"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!"}
_BOOLS = {"1": True, "0": False, "true": True, "false": False}
_EPOCH = dt.date(1899, 12, 30)
_FIRST_DATE, _LAST_DATE = 61, 2958465  # 1 March 1900 to 31 December 9999


def _value(t: str, s: str, v: str, inline: str, strings: _Strings, styles: tuple[str, ...]):
    """A cell's value as python-calamine gives it; ``""`` for an empty cell."""
    if inline:
        if t != "inlineStr" or v:
            raise _Unsupported("inline string")
        return _complex_string(inline)
    if t in ("", "n"):
        if not v:
            return ""
        if not _NUMBER_TEXT.fullmatch(v):
            raise _Unsupported("number")
        number = float(v)
        kind = styles[int(s)] if s and int(s) < len(styles) else _NUMBER
        if kind == _NUMBER:
            return number
        if kind == _DATE and number.is_integer() and _FIRST_DATE <= number <= _LAST_DATE:
            return _EPOCH + dt.timedelta(days=int(number))
        raise _Unsupported("date or time")
    if t == "s":
        if not v:
            return ""
        if not v.isdigit() or not v.isascii():
            raise _Unsupported("shared string index")
        return strings[int(v)]  # an index past the end raises: python-calamine refuses it too
    if t == "str":
        return _text(v)
    if t == "b":
        if v not in _BOOLS:
            raise _Unsupported("boolean")
        return _BOOLS[v]
    if t == "e":
        if v not in _ERRORS:
            raise _Unsupported("error")
        return ""  # python-calamine gives an error as an empty cell
    raise _Unsupported(f"cell type {t}")


_MAIN_NAMESPACE = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
# Values other programs read differently, though python-calamine reads them: a boolean
# written as a word (LibreOffice shows "true" as FALSE), an escape in a formula's text.
_UNCLEAR_BOOLEANS = {"true", "false"}


def _unclear_value(t: str, v: str, inline: str) -> str | None:
    """What makes a cell that is not a shared string read differently elsewhere, or ``None``."""
    if t == "b":
        return reader.BOOLEAN if v in _UNCLEAR_BOOLEANS else None
    if t == "str":
        return reader.CODED if "_x" in v and reader.unclear_escapes(_unescape(v)) else None
    return _unclear_string(inline) if inline else None


def _cells(
    text: str, strings: _Strings, styles: tuple[str, ...], unclear: list
) -> list[tuple[int, int, object]]:
    """Every cell with content, as ``(row, column, value)`` in row and column order, 1-based.

    Cells other programs would show differently are added to ``unclear`` as
    ``(row, column, what)``.
    """
    begin = text.find("<sheetData>")
    if begin < 0 or text.count("<sheetData") != 1:
        if "<sheetData/>" in text and text.count("<sheetData") == 1:
            return []
        raise _Unsupported("sheet data")
    if text.find(_MAIN_NAMESPACE, 0, begin) < 0:
        raise _Unsupported("a sheet in another namespace")
    end = text.find("</sheetData>", begin)
    if end < 0:
        raise _Unsupported("sheet data")
    data = text[begin + 11 : end]
    if ":" in data and _PREFIX_END.search(data):
        raise _Unsupported("prefixed tags")
    matches = _CELL.findall(data)
    # Each match is one cell with its </c>: as many as there are </c> means every cell
    # with content is written plainly. The others are <c .../>, where python-calamine
    # records nothing (not even over a cell written before); the pre-check has seen
    # that every cell's position is plain and within the form.
    # "</c" also counts an end tag written "</c >", which a plain count of "</c>" would miss.
    if len(matches) != data.count("</c") or "<c>" in data:
        raise _Unsupported("cell structure")
    found: list[tuple[int, int, object]] = []
    refs = _REFS
    texts = strings.text
    for ref, s, t, v, inline in matches:
        if t == "s" and v.isdigit() and v.isascii():
            value = texts[int(v)]  # an index past the end raises: so does python-calamine
        else:
            value = _value(t, s, v, inline, strings, styles)
            if t in _NOTED and (problem := _unclear_value(t, v, inline)):
                unclear.append((*refs[ref], problem))
        row, col = refs[ref]
        found.append((row, col, value))
    if len({ref for ref, *_rest in matches}) != len(matches):
        raise _Unsupported("a cell written twice")
    if strings.unclear:
        unclear.extend(
            (*refs[ref], strings.unclear[int(v)])
            for ref, _s, t, v, _inline in matches
            if t == "s" and v and int(v) in strings.unclear
        )
    found.sort(key=_POSITION)
    return found


_POSITION = operator.itemgetter(0, 1)
_NOTED = {"b", "str", "inlineStr"}


def _read(parts: Mapping[str, bytes], unclear: list) -> dict:
    sheets, where = _sheets(parts)
    strings = _Strings(parts)
    styles = _styles(parts)
    cells: dict[str, dict] = {}
    for name, _visible in sheets:
        if name in reader.SKIP:
            continue
        noted: list[tuple[int, int, str]] = []
        found = _cells(_part(parts, where[name]), strings, styles, noted)
        unclear.extend(
            (name, f"{reader.column_letters(col)}{row}", problem)
            for row, col, problem in noted
            if reader.is_read(name, row, col)
        )

        def upto(last_row: int, last_col: int, found=found):
            return (entry for entry in found if entry[0] <= last_row and entry[1] <= last_col)

        cells[name] = reader.sheet_cells(name, upto)
    core = parts.get("docProps/core.xml")
    saved = "" if core is None or len(core) > reader.CORE_LIMIT else reader.saved_at_from(core)
    return {"sheets": sheets, "cells": cells, "saved_at": saved}
