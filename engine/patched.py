"""A month's unit workbooks derived from one built workbook, byte for byte as if each was built.

:func:`engine.workbook.build_workbook` is the reference: it runs XlsxWriter over
every sheet of every unit's workbook. Most of that workbook is the same for every
unit of a month, so :class:`MonthWorkbooks` builds it once per *shape* (whether
last month's ratings are shown, and the height of the row saying where they come
from) and derives each unit's workbook from it:

- the Start sheet, which names the unit, and the Actions sheet of a unit that
  carries actions (their rows and heights follow the unit's texts) are written for
  each unit by the reference code, XlsxWriter's worksheet writer, in a small
  workbook whose formats take the built workbook's style numbers;
- every other sheet is the built sheet's XML cut at its shared-string cells: each
  unit's strings are put back cell by cell (the Last month ratings, the note above
  them, the Metadata unit and token) and numbered in first-use order exactly as
  XlsxWriter numbers them (row by row, or column by column as the Lists sheet is
  written), and the footer naming the unit is rewritten;
- the shared strings table is written with XlsxWriter's own writer, string by string;
- ``docProps/core.xml`` gets the unit's title and subject; the other parts are
  taken as built;
- the parts are zipped in XlsxWriter's order with its fixed date (1980-01-01) and
  zipfile's deflate; a part that is the same as before is not deflated again, and a
  sheet the same up to its footer is deflated from there on.

Each shape checks itself once, when it is built: derived back for its own unit,
it must give every part as built, or every unit of that shape is built in full.
The tests compare every unit's bytes with the reference build.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from dataclasses import dataclass

from xlsxwriter.sharedstrings import SharedStrings, SharedStringTable
from xlsxwriter.xmlwriter import XMLwriter

from . import template as T
from . import workbook as W
from .bank import Bank
from .home import Network, check_period
from .outputs.sheets import row_height, text_lines

_STRING_CELL = re.compile(r'<c r="([A-Z]+[0-9]+)"[^>]*? t="s"><v>([0-9]+)</v></c>')
_SHEET_PART = re.compile(r"xl/worksheets/sheet([0-9]+)\.xml")
_ESCAPE = XMLwriter()


def _escaped(text: str) -> str:
    return _ESCAPE._escape_control_characters(_ESCAPE._escape_data(text))


@dataclass
class _Sheet:
    name: str  # sheet name
    part: str  # zip entry name
    pieces: list[str]  # literal XML around the string cells (len(refs) + 1 pieces)
    refs: list[str]  # the string cells, in XML order
    strings: list[str]  # the shape's string in each of those cells
    numbers: list[int]  # their numbers in the shape's shared strings table
    order: list[int] | None = None  # the cells in the order they are written, if not XML order


@dataclass
class _Shape:
    """One built workbook cut into what stays and what each unit changes."""

    order: list[str]  # zip entry names, in XlsxWriter's order
    parts: dict[str, bytes]  # parts taken as built
    sheets: list[_Sheet]  # every sheet, in order
    live: frozenset[str]  # sheets written for each unit by the reference code
    xf: list[tuple]  # the built workbook's style numbers, format by format
    footer: str  # the built unit's footer, escaped as written
    core: str  # docProps/core.xml as built
    title: str  # the built unit's title and subject, escaped as written
    subject: str
    extra_count: int  # string writes XlsxWriter counted beyond the cells written (0)
    ok: bool  # derived for its own unit, the shape gave back its file as built


_UNUSABLE = object()  # a shape whose units are built in full


def _note_height(note: str) -> float:
    """Height of the note above each area's standards (row 4), as ``_text_row`` sets it."""
    p = W.presentation()
    size = p["fonts"]["body"] * 1.1
    return row_height(text_lines(note, sum(p["area_sheet"]["widths"]), size), size)


class MonthWorkbooks:
    """Every unit's workbook for one period, built once per shape and patched per unit."""

    def __init__(self, network: Network, bank: Bank, period: str) -> None:
        check_period(period)
        self.network, self.bank, self.period = network, bank, period
        self._shapes: dict[tuple, _Shape | object] = {}
        self.full_builds = 0  # workbooks built in full (one per shape, and any misfit)
        self._strings = _Strings()
        self._deflated = _Deflated()
        sheets = [T.START_SHEET, T.SUMMARY_SHEET]
        sheets += [T.area_sheet_name(a.index, a.short_name) for a in bank.areas]
        self._sheet_names = [*sheets, T.ACTIONS_SHEET, T.LISTS_SHEET, T.META_SHEET]
        p = W.presentation()["area_sheet"]
        self._not_rated = p["not_rated"]
        last = W.LAYOUT.col_last_month
        self._last_cells = {
            T.area_sheet_name(a.index, a.short_name): [
                f"{last}{T.standard_row(pos)}" for pos in range(len(a.standards))
            ]
            for a in bank.areas
        }
        self._area_ids = {
            T.area_sheet_name(a.index, a.short_name): [s.id for s in a.standards]
            for a in bank.areas
        }

    # --- the reference, and what can be derived from it --------------------------

    def build(self, unit: str, token: str, carry: W.Carry | None = None) -> bytes:
        """The bytes :func:`engine.workbook.build_workbook` gives for this unit."""
        if self.network.unit(unit) is None:
            raise KeyError(unit)
        previous = carry.previous if carry else None
        note = W.last_month_note(previous)
        found = previous is not None and previous.found
        actions = bool(carry and carry.actions)
        key = (found, _note_height(note))
        shape = self._shapes.get(key)
        if shape is None:
            self.full_builds += 1
            wb, data = W._build(self.network, self.bank, unit, self.period, token, carry)
            try:
                shape = self._cut(data, wb, unit, token, note, carry, actions)
            except Exception:  # noqa: BLE001 - an order not known here, or XlsxWriter changed
                shape = None
            self._shapes[key] = shape if shape is not None and shape.ok else _UNUSABLE
            return data
        if shape is _UNUSABLE:
            self.full_builds += 1
            return W.build_workbook(self.network, self.bank, unit, self.period, token, carry)
        parts, table = self._derive(shape, unit, token, note, carry)
        parts["xl/sharedStrings.xml"] = self._strings.xml(table, shape.extra_count)
        return self._pack(shape, parts)

    def _pack(self, shape: _Shape, parts: dict[str, bytes]) -> bytes:
        """The workbook's zip: the unit's parts, and the shape's where the unit has none."""
        deflated, packed = self._deflated, {}
        for name in shape.order:
            data = parts.get(name) or shape.parts[name]
            cut = data.rfind(b"<headerFooter>") if name.startswith("xl/worksheets/") else -1
            packed[name] = (len(data), *deflated.part(name, data, cut))
        return _zip(shape.order, packed)

    def _cut(self, data: bytes, wb, unit: str, token: str, note: str, carry, actions) -> _Shape:
        """The built workbook cut at its string cells; checked by deriving it back from itself."""
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            order = z.namelist()
            raw = {name: z.read(name) for name in order}
        built = wb.str_table
        sst = built.string_array
        live = {T.START_SHEET, T.ACTIONS_SHEET} if actions else {T.START_SHEET}
        sheets = []
        for name in order:
            m = _SHEET_PART.fullmatch(name)
            if not m:
                continue
            sheet_name = self._sheet_names[int(m.group(1)) - 1]
            xml = raw[name].decode("utf-8")
            pieces, refs, strings, numbers, at = [], [], [], [], 0
            if sheet_name not in live:
                for cell in _STRING_CELL.finditer(xml):
                    start, end = cell.span(2)
                    pieces.append(xml[at:start])
                    refs.append(cell.group(1))
                    numbers.append(int(cell.group(2)))
                    strings.append(sst[numbers[-1]])
                    at = end
            pieces.append(xml[at:])
            sheets.append(_Sheet(sheet_name, name, pieces, refs, strings, numbers))
        title, subject = W.unit_title(unit, self.period)
        shape = _Shape(
            order=order,
            parts=raw,
            sheets=sheets,
            live=frozenset(live),
            xf=[(x.xf_index, x.dxf_index) for x in wb.formats],
            footer=_escaped(W.unit_footer(unit, self.period)),
            core=raw["docProps/core.xml"].decode("utf-8"),
            title=_escaped(title),
            subject=_escaped(subject),
            extra_count=0,
            ok=False,
        )
        # Derived for its own unit, the shape must give back every part, and the whole
        # file, as built.
        parts, table = self._derive(shape, unit, token, note, carry, check=True)
        shape.extra_count = built.count - table.count
        parts["xl/sharedStrings.xml"] = self._strings.xml(table, shape.extra_count)
        shape.ok = all(parts.get(n, raw[n]) == raw[n] for n in order)
        shape.ok = shape.ok and self._pack(shape, parts) == data
        return shape

    # --- one unit ------------------------------------------------------------------

    def _derive(self, shape: _Shape, unit: str, token: str, note: str, carry, check=False):
        """The unit's parts that differ from the shape's (uncompressed; not yet the shared
        strings table), and the unit's shared strings table.

        ``check``: the unit is the shape's own; each sheet learns the order its strings
        are written in (row by row, or column by column as in the Lists sheet).
        """
        previous = carry.previous if carry else None
        carried = bool(carry and carry.actions)  # its Actions sheet is written for it
        live = _Live(self, shape, unit)
        table = live.wb.str_table
        index = table._get_shared_string_index
        footer = _escaped(W.unit_footer(unit, self.period))
        overrides: dict[str, dict[str, str]] = {}
        meta_rows = list(T.META_ROWS)
        overrides[T.META_SHEET] = {
            f"B{meta_rows.index('unit') + 1}": unit,
            f"B{meta_rows.index('token') + 1}": token,
        }
        if previous is not None and not previous.found:
            previous = None
        for name, cells in self._last_cells.items():
            o = {"A4": note}
            if previous is not None:
                ratings = previous.ratings
                for ref, sid in zip(cells, self._area_ids[name]):
                    o[ref] = ratings.get(sid) or self._not_rated
            overrides[name] = o
        parts: dict[str, bytes] = {}
        for sheet in shape.sheets:
            if sheet.name == T.START_SHEET:
                parts[sheet.part] = live.start(note).encode("utf-8")
                continue
            if sheet.name == T.ACTIONS_SHEET and (sheet.name in shape.live or carried):
                parts[sheet.part] = live.actions(carry).encode("utf-8")
                continue
            o = overrides.get(sheet.name)
            if check:
                if o and not set(o) <= set(sheet.refs):
                    raise _Misfit(f"{sheet.name}: no text in {sorted(set(o) - set(sheet.refs))}")
                sheet.order = _written_order(sheet, table, o or {})
            pieces = sheet.pieces
            out = [pieces[0]]
            if sheet.order is not None:
                strings = (
                    [o.get(r, x) for r, x in zip(sheet.refs, sheet.strings)] if o else sheet.strings
                )
                numbers = [0] * len(strings)
                for i in sheet.order:
                    numbers[i] = index(strings[i])
                for n, piece in zip(numbers, pieces[1:]):
                    out.append(str(n))
                    out.append(piece)
            elif o:
                for ref, s, piece in zip(sheet.refs, sheet.strings, pieces[1:]):
                    out.append(str(index(o.get(ref, s))))
                    out.append(piece)
            else:
                for s, piece in zip(sheet.strings, pieces[1:]):
                    out.append(str(index(s)))
                    out.append(piece)
            xml = "".join(out)
            tail = xml.rfind("<headerFooter>")
            if tail >= 0:
                xml = xml[:tail] + xml[tail:].replace(shape.footer, footer)
            parts[sheet.part] = xml.encode("utf-8")
        title, subject = (_escaped(x) for x in W.unit_title(unit, self.period))
        core = shape.core.replace(
            f"<dc:title>{shape.title}</dc:title>", f"<dc:title>{title}</dc:title>", 1
        ).replace(
            f"<dc:subject>{shape.subject}</dc:subject>", f"<dc:subject>{subject}</dc:subject>", 1
        )
        parts["docProps/core.xml"] = core.encode("utf-8")
        return parts, table


class _Misfit(Exception):
    """A built sheet whose strings are numbered in an order this module does not know."""


def _written_order(sheet: _Sheet, table: SharedStringTable, overrides: dict) -> list[int] | None:
    """The order the sheet's string cells were written in: None for XML order (row by row),
    or column by column; the one that numbers new strings as the built workbook did."""
    strings = [overrides.get(r, x) for r, x in zip(sheet.refs, sheet.strings)]
    by_column = sorted(range(len(strings)), key=lambda i: _column_first(sheet.refs[i]))
    for way in (None, by_column):
        trial = dict(table.string_table)
        for i in way or range(len(strings)):
            trial.setdefault(strings[i], len(trial))
        if all(trial[x] == n for x, n in zip(strings, sheet.numbers)):
            return way
    raise _Misfit(sheet.name)


class _Live:
    """Sheets written for one unit by the reference code, in a workbook of their own.

    The workbook shares nothing with the built one but its numbering: its formats
    take the built workbook's style numbers, and its shared strings table runs on
    through the unit's other sheets.
    """

    def __init__(self, month: MonthWorkbooks, shape: _Shape, unit: str) -> None:
        self.month, self.unit = month, unit
        self.wb = W.new_workbook(io.BytesIO())
        self.f = W._formats(self.wb)
        for fmt, (xf, dxf) in zip(self.wb.formats, shape.xf):
            fmt.xf_index, fmt.dxf_index = xf, dxf
        self.footer = W.unit_footer(unit, month.period)

    def _xml(self, ws) -> str:
        out = io.StringIO()
        ws._set_xml_writer(out)
        ws._assemble_xml_file()
        return out.getvalue()

    def start(self, note: str) -> str:
        m = self.month
        W._start_sheet(self.wb, self.f, m.network, m.bank, self.unit, m.period, self.footer, note)
        ws = self.wb.worksheets()[-1]
        # What Workbook._store_workbook does for the active first sheet.
        ws.selected, ws.hidden, ws.active = 1, 0, 1
        return self._xml(ws)

    def actions(self, carry) -> str:
        m = self.month
        W._actions_sheet(self.wb, self.f, m.network, m.bank, self.footer, carry)
        return self._xml(self.wb.worksheets()[-1])


def _column_first(ref: str) -> tuple:
    """Sort key of a cell reference, column by column: ``A1, A2, ..., B1``."""
    m = re.fullmatch(r"([A-Z]+)([0-9]+)", ref)
    return len(m.group(1)), m.group(1), int(m.group(2))


class _Strings:
    """The shared strings table as XlsxWriter writes it, each string's ``<si>`` written once."""

    def __init__(self) -> None:
        self._si: dict[str, str] = {}

    def xml(self, table: SharedStringTable, extra: int) -> bytes:
        si = self._si
        array = sorted(table.string_table, key=table.string_table.__getitem__)
        missing = [x for x in array if x not in si]
        if missing:
            writer = SharedStrings()
            for x in missing:
                out = io.StringIO()
                writer._set_xml_writer(out)
                writer._write_si(x)
                si[x] = out.getvalue()
        head = _sst_xml(table.count + extra, table.unique_count)
        return (head[: -len("</sst>")] + "".join(map(si.__getitem__, array)) + "</sst>").encode(
            "utf-8"
        )


def _sst_xml(count: int, unique: int) -> str:
    """XlsxWriter's shared strings part with no strings (its head and tail)."""
    table = SharedStringTable()
    table.count, table.unique_count = count, unique
    table._sort_string_data()
    writer = SharedStrings()
    writer.string_table = table
    out = io.StringIO()
    writer._set_xml_writer(out)
    writer._assemble_xml_file()
    return out.getvalue()


_DATE = (1980, 1, 1, 0, 0, 0)


class _Deflated:
    """Parts deflated as :mod:`zipfile` deflates them for XlsxWriter, reusing what is the same.

    A part seen before is not deflated again; a sheet whose XML before its footer is the
    same as before is deflated from there on (zlib gives the same stream whether its
    input comes in one piece or two).
    """

    def __init__(self) -> None:
        self._whole: dict[str, tuple[bytes, int, bytes]] = {}
        self._heads: dict[str, tuple[bytes, object, bytes, int]] = {}

    def part(self, name: str, data: bytes, cut: int = -1) -> tuple[int, bytes]:
        seen = self._whole.get(name)
        if seen is not None and seen[0] == data:
            return seen[1], seen[2]
        known = self._heads.get(name) if cut > 0 else None
        if known is None and cut > 0:
            # The first unit's head is kept (later units differ in their footer only,
            # unless they show last month's ratings: then the whole sheet is deflated).
            head = data[:cut]
            c = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
            known = self._heads[name] = (head, c, c.compress(head), zlib.crc32(head))
        if known is not None and data.startswith(known[0]):
            head = known[0]
            c = known[1].copy()
            tail = data[len(head) :]
            packed = known[2] + c.compress(tail) + c.flush()
            crc = zlib.crc32(tail, known[3])
        elif cut > 0:
            c = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
            packed = c.compress(data) + c.flush()
            crc = zlib.crc32(data)
        else:
            c = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
            packed = c.compress(data) + c.flush()
            crc = zlib.crc32(data)
            self._whole[name] = (data, crc, packed)
        return crc, packed


def _zip(order: list[str], parts: dict[str, tuple[int, int, bytes]]) -> bytes:
    """The zip XlsxWriter writes in memory: its order, date 1980-01-01, deflated, no flags."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name in order:
            size, crc, packed = parts[name]
            info = zipfile.ZipInfo(name, _DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            info.flag_bits = 0
            info.file_size, info.CRC, info.compress_size = size, crc, len(packed)
            info.header_offset = buffer.tell()
            buffer.write(info.FileHeader(False))
            buffer.write(packed)
            z.filelist.append(info)
            z.NameToInfo[name] = info
            z.start_dir = buffer.tell()
            z._didModify = True
    return buffer.getvalue()
