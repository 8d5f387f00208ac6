"""Safety pre-check of a returned workbook, run on its raw bytes before any parser.

Anything can land in the inbox, and every spreadsheet reader trusts the file it
is given: a zip bomb or one cell at ``XFD1048576`` can exhaust memory or abort
the whole process in native code, where no exception can be caught. So before
any reader runs, this module looks at the bytes itself: the size, the first
bytes, the zip's table of contents, and then every part, inflated in bounded
chunks and scanned with regular expressions rather than an XML parser.

``precheck()`` never raises and reports at most one finding: the first reason
to refuse the file, in words an involvement lead can act on. An empty list
means the file is safe to hand to a reader.

A return saved in another spreadsheet format (.ods, .fods, .xls, .xlsb, Excel
2003 XML, Apple Numbers) still holds its ratings, so it is never read here but
its finding starts with the one line that turns it into a return: open it and
Save As an Excel workbook (.xlsx). No message asks for a workbook to be filled
in again.
"""

from __future__ import annotations

import codecs
import html
import itertools
import logging
import os
import posixpath
import re
import stat
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from . import template
from .findings import Finding, error

MiB = 1024 * 1024

#: Files above this size are refused unread: NHSmail's attachment limit.
MAX_BYTES = 35 * MiB
#: A SeQuIn workbook has about 20 parts.
MAX_PARTS = 200
#: Most data all parts together may unpack to (declared, and actually inflated).
MAX_UNPACKED_TOTAL = 100 * MiB
#: Most data one part may unpack to; also the most held in memory at once.
MAX_UNPACKED_PART = 20 * MiB
#: Real returns compress by a factor below 15.
MAX_RATIO = 200
#: The ratio is judged only for parts at least this large: small parts (a page of
#: printer settings is mostly zeros) compress far better than 200 to 1 yet cannot
#: exhaust anything, and every part is bounded by the limits above anyway.
RATIO_FLOOR = 1 * MiB

_READ_CHUNK = 64 * 1024
_INFLATE_CHUNK = 256 * 1024
_HEAD = 4096
# Files up to this size are read with one call: cheaper than a seek per part.
_SLURP = 4 * MiB
# Sheets up to this size get the quick check, whose match lists grow with the sheet.
_PLAIN_LIMIT = 1 * MiB
# A real table of contents is a few kilobytes.
_MAX_CENTRAL = 4 * MiB
# Longest match of _DOCTYPE, kept between chunks so a split marker is still found.
_CARRY = 24

_ZIP_MAGIC = b"PK\x03\x04"
_EMPTY_ZIP = "an empty zip archive (a compressed folder with nothing in it)"
_EMPTY_ZIP_MAGIC = b"PK\x05\x06"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

_EOCD = struct.Struct("<4s4H2LH")
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")
_CENTRAL = struct.Struct("<4s6H3L5H2L")
_LOCAL = struct.Struct("<4s5H3L2H")
_U32 = 0xFFFFFFFF

_CONTENT_TYPES = "[content_types].xml"
_WORKBOOK = "xl/workbook.xml"
_WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"

_log = logging.getLogger(__name__)


# --- what the lead reads --------------------------------------------------------------

#: For a file that is not the workbook at all (a PDF, a picture, an email): the unit most
#: likely still has the workbook they filled in, so they are asked for that, not to start again.
_SEND_WORKBOOK = (
    "Ask the unit to send the .xlsx file they filled in (the SeQuIn workbook): if they "
    "saved their ratings in it, nothing needs filling in again."
)
#: The one-line advice for a return saved in another spreadsheet format: a Save As keeps
#: every rating, so it is the first thing the lead reads (and can forward).
SAVE_AS_XLSX = (
    "Open this file in Excel or LibreOffice and use File > Save As, choosing Excel Workbook "
    "(.xlsx) in Excel or Excel 2007-365 (.xlsx) in LibreOffice, then put the saved .xlsx "
    "file in the inbox (or ask the unit to do that and send it): Save As keeps the ratings, "
    "so nothing needs filling in again."
)
#: The same for LibreOffice's own format, naming LibreOffice first.
SAVE_AS_XLSX_FROM_ODS = SAVE_AS_XLSX.replace(
    "in Excel or LibreOffice and use File > Save As, choosing Excel Workbook (.xlsx) in "
    "Excel or Excel 2007-365 (.xlsx) in LibreOffice",
    "in LibreOffice or Excel and use File > Save As, choosing Excel 2007-365 (.xlsx) in "
    "LibreOffice or Excel Workbook (.xlsx) in Excel",
)
#: Apple Numbers has no Save As to .xlsx: it exports.
EXPORT_FROM_NUMBERS = (
    "Open this file in Numbers (on a Mac, iPad or iPhone) and use File > Export To > Excel, "
    "then put the exported .xlsx file in the inbox (or ask the unit to do that and send it): "
    "exporting keeps the ratings, so nothing needs filling in again."
)
_TAMPERED = (
    "Files saved by Excel or LibreOffice never look like this, so it was not opened. "
    "Ask the unit to send the workbook again; if the same happens again, tell whoever "
    "looks after SeQuIn."
)


def column_letters(number: int) -> str:
    """A column's letters from its number (1 -> A, 28 -> AB)."""
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


_TEMPLATE_AREA = f"A1 to {column_letters(template.MAX_COL)}{template.MAX_ROW}"


class _Refused(Exception):
    """Carries the finding that ends the pre-check."""

    def __init__(self, finding: Finding):
        super().__init__(finding.code)
        self.finding = finding


def _refuse(code: str, message: str, **where: str) -> _Refused:
    return _Refused(error(code, message, **where))


def _truncated(detail: str) -> _Refused:
    return _refuse(
        "file-truncated",
        f"This file is incomplete: {detail}. It may be a copy that had not finished when it "
        "was picked up, or an attachment that was cut off. If it is still being copied, wait "
        "for the copy to finish; otherwise ask the unit to send the workbook again.",
    )


def _corrupt(detail: str) -> _Refused:
    return _refuse(
        "zip-corrupt",
        f"This file is damaged: {detail}. This can happen when a copy goes wrong, and files "
        f"altered on purpose look the same. {_TAMPERED}",
    )


def _bomb(detail: str) -> _Refused:
    return _refuse(
        "zip-bomb",
        f"This file would unpack to far more data than any SeQuIn return ({detail}). Files "
        "like this can make spreadsheet programs run out of memory, so it was not opened. "
        "Ask the unit to delete any large pictures or attachments added to their workbook, "
        "save it and send it again: their ratings stay in it.",
    )


# The intake pre-checks its private copy of the bytes, named after their sha256 (see
# engine/pipeline.py): that name says nothing about what the lead dropped in the inbox.
_PRIVATE_COPY = re.compile(r"[0-9a-f]{64}\.xlsx")


def _named(name: str, *, unless: tuple[str, ...] = ()) -> str:
    """``, even though its name ends in .xlsx`` when the name claims another format."""
    suffix = Path(name).suffix
    if not suffix or suffix.lower() in unless or _PRIVATE_COPY.fullmatch(name):
        return ""
    return f", even though its name ends in {suffix}"


def _not_a_spreadsheet(kind: str, name: str) -> _Refused:
    return _refuse(
        "not-a-spreadsheet",
        f"This file is {kind}, not an Excel workbook{_named(name)}. SeQuIn can only read the "
        f"workbook itself. {_SEND_WORKBOOK}",
    )


def _save_as(advice: str, saved_as: str) -> _Refused:
    """A return saved in another spreadsheet format: the Save As advice first, then why."""
    return _refuse(
        "save-as-xlsx",
        f"{advice} This file was saved as {saved_as}, which SeQuIn does not read: it reads "
        "only Excel workbooks (.xlsx), so that every return goes through the same checks.",
    )


def _doctype(part: str) -> _Refused:
    return _refuse(
        "xml-doctype",
        f"This file contains hidden XML instructions (a DOCTYPE or ENTITY declaration, in "
        f"part {part}) that can make spreadsheet programs fetch outside content or fill "
        f"all memory. {_TAMPERED}",
    )


def _hidden_encoding(part: str, encoding: str) -> _Refused:
    return _refuse(
        "xml-doctype",
        f"Part {part} of this file is written in a text encoding ({encoding}) that Excel "
        "never uses and that can hide XML instructions (a DOCTYPE or ENTITY declaration) "
        f"from checks. {_TAMPERED}",
    )


def _on(sheet: str) -> str:
    return f"on sheet '{sheet}'" if sheet else "on one of its sheets"


def _out_of_range(what: str, ref: str, sheet: str) -> _Refused:
    on = _on(sheet)
    return _refuse(
        "cell-out-of-range",
        f"{what} {on} is outside the area the SeQuIn form uses (cells {_TEMPLATE_AREA} "
        "on each sheet). Spreadsheet programs can run out of memory or crash on files like "
        "this, so it was not opened. Ask the unit to delete anything typed, pasted or "
        "formatted outside the form on that sheet (or to copy their answers into a fresh "
        "copy of the workbook they were sent) and send it again.",
        sheet=sheet,
        cell=ref,
    )


def _crowded(sheet: str) -> _Refused:
    return _refuse(
        "cell-out-of-range",
        f"The file holds far more cells {_on(sheet)} than the SeQuIn form has room for "
        f"(cells {_TEMPLATE_AREA}). {_TAMPERED}",
        sheet=sheet,
    )


def _bad_position(sheet: str) -> _Refused:
    return _refuse(
        "cell-out-of-range",
        f"A cell or range {_on(sheet)} has its position written in a way Excel never "
        f"writes, so different programs would put it in different places. {_TAMPERED}",
        sheet=sheet,
    )


# --- entry point ----------------------------------------------------------------------


def precheck(path: Path, *, max_bytes: int = MAX_BYTES) -> list[Finding]:
    """Check an untrusted file before any spreadsheet reader opens it.

    Returns an empty list when the file is safe to parse, otherwise one error
    finding saying what the file is and what to do. Never raises; memory use
    stays bounded (no part is inflated beyond ``MAX_UNPACKED_PART``) whatever
    the file contains.
    """
    return precheck_parts(path, max_bytes=max_bytes)[0]


#: Parts kept for the reader besides the worksheets, workbook, its relationships and
#: content types (keys: names as compared, ignoring case).
READER_PARTS = frozenset({"xl/sharedstrings.xml", "xl/styles.xml", "docprops/core.xml"})


def precheck_parts(
    path: Path, *, max_bytes: int = MAX_BYTES
) -> tuple[list[Finding], dict[str, bytes]]:
    """:func:`precheck`, and the parts a reader needs, inflated once and checked.

    The parts (by their names in the zip) are the worksheets, ``xl/workbook.xml``
    and its relationships, ``[Content_Types].xml``, ``xl/sharedStrings.xml``,
    ``xl/styles.xml`` and ``docProps/core.xml``, whichever the file has; none
    when the file is refused or is not a zip. They are bounded by the limits
    every part is inflated under (``MAX_UNPACKED_TOTAL`` in all).
    """
    path = Path(path)
    parts: dict[str, bytes] = {}
    try:
        # O_NONBLOCK: a named pipe dropped in the inbox must not block the open.
        flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
        with os.fdopen(os.open(path, flags), "rb") as fh:
            _check(fh, path.name, max_bytes, parts)
    except _Refused as refused:
        return [refused.finding], {}
    except OSError:
        return [
            error(
                "file-unreadable",
                "SeQuIn could not read this file: it may still be being copied, or be open "
                "in another program. Try again in a minute; if it still fails, ask the unit "
                "to send the workbook again.",
            )
        ], {}
    except Exception:  # noqa: BLE001 (an answer for every input: a surprise must not stop the inbox)
        _log.exception("pre-check failed unexpectedly on %s", path)
        return [
            error(
                "file-unreadable",
                "SeQuIn could not check this file safely, so it was not opened. Ask the unit "
                "to send the workbook again; if the same happens again, tell whoever looks "
                "after SeQuIn.",
            )
        ], {}
    return [], parts


class _Source:
    """Random access to the file's bytes; small files are read with one call."""

    def __init__(self, fh: BinaryIO, size: int):
        self._fh = fh
        self._data = fh.read(size + 1) if size <= _SLURP else None
        # The file may have changed since it was measured (a copy in progress).
        self.size = len(self._data) if self._data is not None else size

    def read_at(self, offset: int, length: int) -> bytes:
        if offset < 0 or length <= 0:
            return b""
        if self._data is not None:
            return self._data[offset : offset + length]
        self._fh.seek(offset)
        return self._fh.read(length)


def _check(fh: BinaryIO, name: str, max_bytes: int, parts: dict[str, bytes]) -> None:
    st = os.fstat(fh.fileno())
    if not stat.S_ISREG(st.st_mode):
        raise _refuse(
            "file-unreadable",
            "This is not an ordinary file (it may be a folder or a shortcut), so SeQuIn "
            "cannot read it. Move it out of the inbox and put the workbook file itself there.",
        )
    if st.st_size == 0:
        raise _empty()
    if st.st_size > max_bytes:
        raise _Refused(too_large(st.st_size, max_bytes))
    src = _Source(fh, st.st_size)
    head = src.read_at(0, _HEAD)
    if not head:
        raise _empty()
    if head.startswith(_ZIP_MAGIC):
        _check_zip(src, name, parts)
    elif head.startswith(_OLE_MAGIC):
        _check_ole(src, name)
    else:
        _sniff(head, name)


def too_large(size: int, max_bytes: int = MAX_BYTES) -> Finding:
    """The finding for a file too large to be a return (the intake refuses it unread)."""
    return error(
        "file-too-large",
        f"This file is {_size(size)}, more than the {_size(max_bytes)} SeQuIn "
        "accepts (a SeQuIn return is usually well under 1 MB, and NHSmail refuses "
        "attachments over 35 MB). Ask the unit to delete any pictures or attachments added "
        "to their workbook, save it and send it again: their ratings stay in it.",
    )


def _size(count: int) -> str:
    return f"{count / MiB:.1f} MB" if count >= MiB else f"{max(count // 1024, 1)} KB"


def _empty() -> _Refused:
    return _refuse(
        "file-empty",
        "This file is empty (0 bytes). It may be a copy that did not finish. "
        "Ask the unit to send the workbook again.",
    )


# --- not a zip: say what it is --------------------------------------------------------

_IMAGE_MAGICS = (
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",
    b"GIF87a",
    b"GIF89a",
    b"II*\x00",
    b"MM\x00*",
)
_ARCHIVE_MAGICS = (b"\x1f\x8b", b"7z\xbc\xaf\x27\x1c", b"Rar!\x1a\x07", b"BZh")
# Bytes that plain text may contain (tab, line feed, form feed, carriage return, printable).
_TEXT_BYTES = bytes([9, 10, 12, 13, *range(32, 256)])


def _sniff(head: bytes, name: str) -> None:
    if head.count(0) == len(head):
        raise _truncated("it starts with nothing but blank bytes, as a copy just begun does")
    if len(head) < len(_OLE_MAGIC) and (_ZIP_MAGIC.startswith(head) or _OLE_MAGIC.startswith(head)):
        raise _truncated(f"it is only {len(head)} bytes long")
    if head.startswith(_EMPTY_ZIP_MAGIC):
        raise _not_a_workbook(_EMPTY_ZIP, name)
    if _looks_like_text(head):
        lowered = head.lower()
        if b"<?xml" in lowered[:64]:
            if b"opendocument.spreadsheet" in lowered and b"office:document" in lowered:
                raise _save_as(
                    SAVE_AS_XLSX_FROM_ODS,
                    "a LibreOffice spreadsheet in flat XML (OpenDocument format, .fods)",
                )
            if b"urn:schemas-microsoft-com:office:spreadsheet" in lowered or (
                b'progid="excel.sheet"' in lowered
            ):
                raise _save_as(SAVE_AS_XLSX, "an Excel 2003 XML spreadsheet (.xml)")
    raise _not_a_spreadsheet(_describe(head), name)


def _describe(head: bytes) -> str:
    """What a non-zip, non-Office file looks like, as a phrase for the lead."""
    if head.startswith(b"%PDF"):
        return "a PDF document"
    if head.startswith(_IMAGE_MAGICS) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return "an image"
    if head[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1"):
        return "an image"
    if head.startswith(_ARCHIVE_MAGICS):
        return "a compressed archive"
    if head.startswith(b"{\\rtf"):
        return "a Rich Text (RTF) document"
    if head.startswith(b"MZ") and b"\x00" in head[:64]:
        return "a program"
    if _looks_like_text(head):
        lowered = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
        if lowered.startswith((b"<!doctype html", b"<html")):
            return "a web page (HTML)"
        if lowered.startswith(b"<?xml"):
            return "a text file in XML"
        return "a text or CSV file"
    return "a file of a type SeQuIn does not recognise"


def _looks_like_text(head: bytes) -> bool:
    if head.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return True
    if b"\x00" in head:
        return False
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return True
    except UnicodeDecodeError:
        pass
    # Windows-1252 text: almost no control characters.
    return len(head.translate(None, _TEXT_BYTES)) * 100 <= len(head)


# --- OLE compound files: old .xls, password-encrypted workbooks ------------------------


def _check_ole(src: _Source, name: str) -> None:
    names = {n.casefold() for n in _ole_names(src)}
    if {"encryptioninfo", "encryptedpackage"} & names:
        raise _refuse(
            "workbook-encrypted",
            "This workbook is protected with a password to open it, so SeQuIn cannot read "
            "it. Ask the unit to remove the password (in Excel: File > Info > Protect "
            "Workbook > Encrypt with Password, delete the password, press OK and save) and "
            "send it again.",
        )
    if {"workbook", "book"} & names:
        named = _named(name, unless=(".xls", ".xlt"))
        raise _refuse(
            "old-xls-format",
            f"{SAVE_AS_XLSX} This file was saved in the old Excel 97-2003 format (.xls)"
            f"{named}, which SeQuIn does not read: that format loses the SeQuIn form's "
            "drop-down lists and protection.",
        )
    if any(n.startswith(("__substg1.0_", "__properties_version1.0")) for n in names):
        raise _refuse(
            "not-a-spreadsheet",
            "This file is an Outlook email message, not an Excel workbook. Open the email, "
            "save the attached workbook itself, and put that file in the inbox.",
        )
    if "worddocument" in names:
        raise _not_a_spreadsheet("an old-format Word document (.doc)", name)
    if "powerpoint document" in names:
        raise _not_a_spreadsheet("an old-format PowerPoint file (.ppt)", name)
    raise _not_a_spreadsheet("an older Microsoft Office file that SeQuIn cannot read", name)


_OLE_FREE = 0xFFFFFFFA  # sector numbers from here on are markers, not sectors
_OLE_MAX_DIR_SECTORS = 1024


def _ole_names(src: _Source) -> list[str]:
    """Names in an OLE compound file's directory; empty if the directory is unreadable.

    Follows the directory's sector chain through the allocation table, reading
    only the few sectors needed and stopping at any loop or impossible number.
    """
    header = src.read_at(0, 512)
    if len(header) < 512:
        raise _truncated("it ends within its first 512 bytes")
    shift = struct.unpack_from("<H", header, 0x1E)[0]
    if shift not in (9, 12):
        return []
    sector = 1 << shift
    per_sector = sector // 4
    num_fat, first_dir = struct.unpack_from("<LL", header, 0x2C)
    first_difat, num_difat = struct.unpack_from("<LL", header, 0x44)
    fat_sectors = [s for s in struct.unpack_from("<109L", header, 0x4C) if s < _OLE_FREE]
    difat, seen = first_difat, set()
    while difat < _OLE_FREE and difat not in seen and len(seen) < min(num_difat, 4096):
        seen.add(difat)
        block = src.read_at((difat + 1) * sector, sector)
        if len(block) < sector:
            break
        entries = struct.unpack_from(f"<{per_sector}L", block)
        fat_sectors.extend(s for s in entries[:-1] if s < _OLE_FREE)
        difat = entries[-1]
    fat_sectors = fat_sectors[:num_fat]

    if first_dir >= _OLE_FREE:
        return []
    if (first_dir + 1) * sector >= src.size:
        raise _truncated("its table of contents is missing")
    names: list[str] = []
    current, visited = first_dir, set()
    while current < _OLE_FREE and current not in visited and len(visited) < _OLE_MAX_DIR_SECTORS:
        visited.add(current)
        block = src.read_at((current + 1) * sector, sector)
        for pos in range(0, len(block) - 127, 128):
            length = struct.unpack_from("<H", block, pos + 64)[0]
            if block[pos + 66] in (1, 2, 5) and 2 <= length <= 64 and length % 2 == 0:
                names.append(block[pos : pos + length - 2].decode("utf-16-le", "replace"))
        index, slot = divmod(current, per_sector)
        if index >= len(fat_sectors):
            break
        entry = src.read_at((fat_sectors[index] + 1) * sector + slot * 4, 4)
        if len(entry) < 4:
            break
        current = struct.unpack("<L", entry)[0]
    return names


# --- zip containers -------------------------------------------------------------------


@dataclass(eq=False)
class _Member:
    """One part, as the zip's table of contents declares it."""

    name: str
    raw_name: bytes
    flags: int
    method: int
    crc: int
    packed: int
    size: int
    offset: int
    end: int = 0  # where the next part (or the table of contents) begins
    key: str = ""  # the name as compared: part names ignore case

    def __post_init__(self) -> None:
        self.key = self.name.replace("\\", "/").casefold()


def _check_zip(src: _Source, name: str, parts: dict[str, bytes]) -> None:
    members, central_start = _table_of_contents(src, name)
    _check_names(members)
    _check_declared_sizes(members)
    _check_layout(members, central_start)
    keys = {m.key: m for m in members}
    _check_macro_names(keys)
    _check_structure(src, members, keys, name)
    for member in members:
        if member.flags & 0x1:
            raise _corrupt(f"part {member.name} is locked with a zip password")
        if member.method not in (0, 8):
            raise _corrupt(f"part {member.name} is packed in a way Excel never uses")
    _Scan(src, members, keys, parts).run()


def _not_a_workbook(kind: str, name: str, what_to_do: str = _SEND_WORKBOOK) -> _Refused:
    return _refuse(
        "not-a-workbook",
        f"This file is {kind}, not an Excel workbook{_named(name)}. {what_to_do}",
    )


def _table_of_contents(src: _Source, name: str) -> tuple[list[_Member], int]:
    """The parts listed in the zip's central directory, and where that directory starts."""
    tail_length = min(src.size, _EOCD.size + 0xFFFF)
    tail_start = src.size - tail_length
    tail = src.read_at(tail_start, tail_length)
    pos = tail.rfind(_EMPTY_ZIP_MAGIC)
    while pos >= 0:
        if pos + _EOCD.size <= len(tail):
            record = _EOCD.unpack_from(tail, pos)
            if pos + _EOCD.size + record[7] <= len(tail):
                break
        pos = tail.rfind(_EMPTY_ZIP_MAGIC, 0, pos)
    else:
        raise _truncated("the end of it is missing")
    _, disk, central_disk, _, count, central_size, central_start, _ = record
    central_end = tail_start + pos

    locator_at = central_end - _ZIP64_LOCATOR.size
    locator = src.read_at(locator_at, _ZIP64_LOCATOR.size) if locator_at >= 0 else b""
    if len(locator) == _ZIP64_LOCATOR.size and locator[:4] == b"PK\x06\x07":
        record_at = _ZIP64_LOCATOR.unpack(locator)[2]
        raw = src.read_at(record_at, _ZIP64_EOCD.size)
        if len(raw) < _ZIP64_EOCD.size or raw[:4] != b"PK\x06\x06":
            raise _corrupt("its table of contents is unreadable")
        _, _, _, _, disk, central_disk, _, count, central_size, central_start = _ZIP64_EOCD.unpack(
            raw
        )
        central_end = record_at

    if disk or central_disk:
        raise _not_a_workbook("one piece of a zip archive split over several files", name)
    if count > MAX_PARTS:
        raise _too_many(count)
    if central_start + central_size != central_end or central_size > _MAX_CENTRAL:
        raise _corrupt("its table of contents does not match its contents")
    central = src.read_at(central_start, central_size)
    if len(central) != central_size:
        raise _truncated("part of its table of contents is missing")

    members: list[_Member] = []
    pos = 0
    while pos < len(central):
        if len(members) >= MAX_PARTS:
            raise _too_many(None)
        if pos + _CENTRAL.size > len(central) or central[pos : pos + 4] != b"PK\x01\x02":
            raise _corrupt("its table of contents is unreadable")
        fields = _CENTRAL.unpack_from(central, pos)
        flags, method, crc, packed, size = fields[3], fields[4], fields[7], fields[8], fields[9]
        name_length, extra_length, comment_length, disk_start = fields[10:14]
        offset = fields[16]
        name_end = pos + _CENTRAL.size + name_length
        end = name_end + extra_length + comment_length
        if end > len(central):
            raise _corrupt("its table of contents is unreadable")
        raw_name = central[pos + _CENTRAL.size : name_end]
        if _U32 in (packed, size, offset) or disk_start == 0xFFFF:
            size, packed, offset = _zip64_sizes(
                central[name_end : name_end + extra_length], size, packed, offset, disk_start
            )
        try:
            part_name = raw_name.decode("utf-8" if flags & 0x800 else "cp437")
        except UnicodeDecodeError:
            raise _corrupt("a part has an unreadable name") from None
        members.append(_Member(part_name, raw_name, flags, method, crc, packed, size, offset))
        pos = end
    if len(members) != count:
        raise _corrupt("its table of contents does not match its contents")
    if not members:
        raise _not_a_workbook(_EMPTY_ZIP, name)
    return members, central_start


def _zip64_sizes(
    extra: bytes, size: int, packed: int, offset: int, disk_start: int
) -> tuple[int, int, int]:
    pos = 0
    while pos + 4 <= len(extra):
        tag, length = struct.unpack_from("<HH", extra, pos)
        if pos + 4 + length > len(extra):
            break
        if tag == 0x0001:
            values = iter(struct.unpack_from(f"<{length // 8}Q", extra, pos + 4))
            try:
                if size == _U32:
                    size = next(values)
                if packed == _U32:
                    packed = next(values)
                if offset == _U32:
                    offset = next(values)
            except StopIteration:
                break
            return size, packed, offset
        pos += 4 + length
    raise _corrupt("a part's sizes are missing from its table of contents")


def _too_many(count: int | None) -> _Refused:
    how_many = f"{count} internal parts" if count else f"more than {MAX_PARTS} internal parts"
    return _refuse(
        "too-many-parts",
        f"This file is made of {how_many}; a SeQuIn workbook has about 20. Files like this "
        "can slow spreadsheet programs to a halt, so it was not opened. Ask the unit to "
        "delete any extra sheets, pictures or objects added to their workbook, save it and "
        "send it again: their ratings stay in it.",
    )


_DRIVE = re.compile(r"[A-Za-z]:")


def _check_names(members: list[_Member]) -> None:
    seen: set[str] = set()
    for member in members:
        name = member.name
        if not name or "\x00" in name:
            raise _corrupt("a part has an unreadable name")
        if name.startswith(("/", "\\")) or _DRIVE.match(name):
            raise _corrupt(f"part {name[:80]} points outside the file")
        if ".." in re.split(r"[/\\]", name):
            raise _corrupt(f"part {name[:80]} points outside the file")
        if member.key in seen:
            raise _corrupt(f"two parts are both called {name[:80]}")
        seen.add(member.key)


def _check_declared_sizes(members: list[_Member]) -> None:
    total = sum(m.size for m in members)
    if total > MAX_UNPACKED_TOTAL:
        raise _bomb(f"it says it holds {total / MiB:,.0f} MB")
    for member in members:
        if member.size > MAX_UNPACKED_PART:
            raise _bomb(f"one part says it holds {member.size / MiB:,.0f} MB")
        if member.size >= RATIO_FLOOR and member.size > MAX_RATIO * max(member.packed, 1):
            raise _bomb(f"one part is packed {member.size // max(member.packed, 1):,} to 1")
    for member in members:
        # Deflate never grows data by more than a few bytes per 16 KB; an eighth is
        # the most even a careless encoder adds.
        if member.method == 0 and member.packed != member.size:
            raise _corrupt(f"part {member.name} is not the size its header says")
        if member.method == 8 and member.packed > member.size + member.size // 8 + 1024:
            raise _corrupt(f"part {member.name} is larger than its header says it unpacks to")


def _check_layout(members: list[_Member], central_start: int) -> None:
    """Every part lies before the table of contents, and no two parts share bytes."""
    ordered = sorted(members, key=lambda m: m.offset)
    for member, following in zip(ordered, [*ordered[1:], None], strict=True):
        member.end = following.offset if following else central_start
        if member.offset + _LOCAL.size > member.end:
            raise _corrupt("two parts overlap, or a part lies outside the file")


def _check_macro_names(keys: dict[str, _Member]) -> None:
    for key in keys:
        base = key.rsplit("/", 1)[-1]
        if (base.startswith("vbaproject") and base.endswith(".bin")) or "/macrosheets/" in key:
            raise _macro()


def _macro() -> _Refused:
    return _refuse(
        "macro-enabled",
        "This file contains macros: it is a macro-enabled workbook (.xlsm), even if its "
        "name ends in .xlsx. SeQuIn never opens files with macros, and it is safer not to "
        "open this one. Ask the unit to open their own copy in Excel, use File > Save As > "
        "Excel Workbook (.xlsx), which leaves the macros out, and send that file: Save As "
        "keeps the ratings, so nothing needs filling in again.",
    )


def _check_structure(
    src: _Source, members: list[_Member], keys: dict[str, _Member], name: str
) -> None:
    if _CONTENT_TYPES in keys and _WORKBOOK in keys:
        return
    if "mimetype" in keys or "meta-inf/manifest.xml" in keys:
        media_type = _odf_media_type(src, members, keys)
        if media_type.startswith(_ODF + "spreadsheet"):
            raise _save_as(
                SAVE_AS_XLSX_FROM_ODS,
                "a LibreOffice spreadsheet (OpenDocument format, .ods)",
            )
        kind = _ODF_KINDS.get(
            media_type.removeprefix(_ODF).split("-")[0],
            "an OpenDocument file (as saved by LibreOffice or OpenOffice in their own format)",
        )
    elif "xl/workbook.bin" in keys:
        named = _named(name, unless=(".xlsb",))
        raise _save_as(SAVE_AS_XLSX, f"an Excel binary workbook (.xlsb){named}")
    elif any(k.startswith("index/") and k.endswith(".iwa") for k in keys):
        raise _save_as(EXPORT_FROM_NUMBERS, "an Apple Numbers spreadsheet (.numbers)")
    elif "word/document.xml" in keys:
        kind = "a Word document"
    elif "ppt/presentation.xml" in keys:
        kind = "a PowerPoint presentation"
    else:
        raise _not_a_workbook(
            "a zip archive (a compressed folder)",
            name,
            "If the workbook is inside it, take it out (right-click the file, Extract All) and "
            "put the workbook itself in the inbox. If not, ask the unit to send the .xlsx "
            "file they filled in (the SeQuIn workbook): if they saved their ratings in it, "
            "nothing needs filling in again.",
        )
    raise _not_a_workbook(kind, name)


_ODF = "application/vnd.oasis.opendocument."
_ODF_KINDS = {
    "text": "an OpenDocument text document (as saved by LibreOffice Writer)",
    "presentation": "an OpenDocument presentation (as saved by LibreOffice Impress)",
    "graphics": "an OpenDocument drawing (as saved by LibreOffice Draw)",
}
_MAX_MANIFEST = 1 * MiB


def _odf_media_type(src: _Source, members: list[_Member], keys: dict[str, _Member]) -> str:
    """What kind of OpenDocument file this is, from its ``mimetype`` part or its manifest.

    Both parts are small; they are inflated with the same bounds and checks as every
    part of a workbook. An answer of ``""`` means the file does not say (or is damaged).
    """
    scan = _Scan(src, members, keys)
    member = keys.get("mimetype")
    if member is not None and member.size <= 200:
        try:
            found = scan.inflate(member, keep=True).decode("ascii", "replace").strip().lower()
        except _Refused:
            found = ""
        if found.startswith(_ODF):
            return found
    member = keys.get("meta-inf/manifest.xml")
    if member is not None and member.size <= _MAX_MANIFEST:
        try:
            data = scan.inflate(member, keep=True)
            for (raw,) in scan.tags(_FILE_ENTRY_TAG, data, "META-INF/manifest.xml"):
                attrs = _attributes(raw)
                if attrs.get("full-path") == "/":
                    return attrs.get("media-type", "").lower()
        except _Refused:
            pass
    return ""


# --- inflating and scanning every part ------------------------------------------------

_DOCTYPE = re.compile(
    rb"<!(?:doctype|entity)"
    # the same in UTF-16 (either byte order: the match starts at the '<' byte)
    rb"|<\x00!\x00(?:d\x00o\x00c\x00t\x00y\x00p\x00e|e\x00n\x00t\x00i\x00t\x00y)",
    re.IGNORECASE,
)
_XML_ENCODING = re.compile(rb"\s*<\?xml[^>]*?\sencoding\s*=\s*[\"']([A-Za-z0-9._:\-]{1,40})[\"']")
_SCANNABLE_ENCODINGS = {
    "utf-8",
    "utf-8-sig",
    "ascii",
    "latin-1",
    "utf-16",
    "utf-16-le",
    "utf-16-be",
}
_MACRO_WORDS = (b"macroenabled", b"vbaproject", b"macrosheet")

# An attribute list, with '>' allowed inside quoted values as XML allows. The number of
# pieces is bounded (32 attributes) so that one giant tag cannot grow the regex engine's
# backtracking memory; the last group is empty when the tag did not close within it.
_ATTRS = rb"((?:[^>\"']+|\"[^\"]*\"|'[^']*'){0,64})(>?)"
_PREFIX = rb"<(?:[A-Za-z_][\w.\-]*:)?"
# The lookbehind keeps a long run of name characters from being retried at every offset.
_ATTR = re.compile(rb"(?<![\w.:\-])([\w.:\-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
# Cells and rows. Excel, LibreOffice and XlsxWriter write r="..." first; that form is
# matched directly, anything else falls back to reading the attribute list.
_CELL_TAG = re.compile(
    _PREFIX + rb"(row|c)(?=[\s/>])(?:\s+r=\"([A-Z]{0,3})([0-9]{1,7})\"(?=[\s/>]))?" + _ATTRS
)
_R_ATTR = re.compile(rb"\sr\s*=\s*([\"'])(.*?)\1", re.DOTALL)
_REF_PARTS = re.compile(rb"([A-Z]{0,3})([0-9]{1,7})")
# Ranges some readers allocate or expand cell by cell: openpyxl builds every cell of a
# merged range and of a linked range, and read-only openpyxl sizes sheets by <dimension>.
# LibreOffice 7.4 writes <dimension> as the used area (cells with content or with row
# formatting), so a normal save of the form stays within the template bounds.
_RANGE_TAG = re.compile(_PREFIX + rb"(dimension|mergeCell|hyperlink)(?=[\s/>])" + _ATTRS)
_REF_ATTR = re.compile(rb"\sref\s*=\s*([\"'])(.*?)\1", re.DOTALL)
_RANGE_WHAT = {
    b"dimension": "The sheet's recorded size",
    b"mergeCell": "A merged range",
    b"hyperlink": "A link on the range",
}
_TYPE_TAG = re.compile(_PREFIX + rb"(Default|Override)(?=[\s/>])" + _ATTRS)
_RELATIONSHIP_TAG = re.compile(_PREFIX + rb"Relationship(?=[\s/>])" + _ATTRS)
_SHEET_TAG = re.compile(_PREFIX + rb"sheet(?=[\s/>])" + _ATTRS)
_FILE_ENTRY_TAG = re.compile(_PREFIX + rb"file-entry(?=[\s/>])" + _ATTRS)
_WORKSHEET_TYPES = ("worksheet+xml", "dialogsheet+xml")
_XML_SUFFIXES = {"xml", "rels", "vml"}

_COLS = {column_letters(n).encode(): n for n in range(1, template.MAX_COL + 1)}
# A sheet of the form has at most one tag per cell and row: allow four times that.
_MAX_SHEET_TAGS = 4 * (template.MAX_ROW * template.MAX_COL + template.MAX_ROW)
_ROWS = {str(n).encode(): n for n in range(1, template.MAX_ROW + 1)}
_CELL_REFS = {letters + row for letters in _COLS for row in _ROWS}

# The plain form: r="..." first, then other attributes each as name="value" after one
# space. The second branch matches any other cell or row tag, captured as b"".
_PLAIN_ATTRS = rb'(?: (?!r=)[\w:.\-]+="[^"]*"){0,32}\s*/?>'
_PLAIN_CELL = re.compile(rb'<c(?: r="([A-Z]{1,3}[0-9]{1,7})"' + _PLAIN_ATTRS + rb"|[\s/>])")
_PLAIN_ROW = re.compile(rb'<row(?: r="([0-9]{1,7})"' + _PLAIN_ATTRS + rb"|[\s/>])")
_PLAIN_RANGE = re.compile(
    rb"<(?:dimension|mergeCell|hyperlink)"
    rb'(?: ref="([^"]*)"(?: (?!ref=)[\w:.\-]+="[^"]*"){0,32}\s*/?>|[\s/>])'
)
_PREFIXED_TAG = re.compile(rb":(?:c|row|dimension|mergeCell|hyperlink)[\s/>]")


class _Scan:
    """Inflates every part once, in bounded chunks, checking it as it goes."""

    def __init__(
        self,
        src: _Source,
        members: list[_Member],
        keys: dict[str, _Member],
        parts: dict[str, bytes] | None = None,
    ):
        self.src = src
        self.parts = parts if parts is not None else {}
        self.members = members
        self.keys = keys
        self.inflated = 0
        self.xml_suffixes = set(_XML_SUFFIXES)
        self.xml_parts: set[str] = set()
        self.sheets = {
            k
            for k in keys
            if k.startswith("xl/worksheets/") and k.endswith(".xml") and "/_rels/" not in k
        }
        self.sheet_names: dict[str, str] = {}

    def run(self) -> None:
        first = [
            self.keys[k] for k in (_CONTENT_TYPES, _WORKBOOK_RELS, _WORKBOOK) if k in self.keys
        ]
        rest = sorted((m for m in self.members if m not in first), key=lambda m: m.offset)
        names_by_rel: dict[str, str] = {}
        for member in first + rest:
            key = member.key
            keep = key in self.sheets or member in first or key in READER_PARTS
            data = self.inflate(member, keep=keep)
            if keep:
                self.parts[member.name] = data
            if key in (_CONTENT_TYPES, _WORKBOOK_RELS, _WORKBOOK):
                # Scanned as UTF-8: in UTF-16 its entries would hide from the byte scans,
                # and readers follow them (a sheet named there is a sheet to check).
                data = _utf16_as_utf8(data)
            if key == _CONTENT_TYPES:
                self.read_content_types(data)
            elif key == _WORKBOOK_RELS:
                if _names_macros(data):
                    raise _macro()
                names_by_rel = self.read_workbook_rels(data)
            elif key == _WORKBOOK:
                self.read_sheet_names(data, names_by_rel)
                kind = template.output_kind(self.sheet_names.values())
                if kind:  # one of the engine's own outputs: say so before any sheet is judged
                    from .checks import output_finding

                    raise _Refused(output_finding(kind))
            elif key in self.sheets:
                _check_sheet(data, self.sheet_names.get(key, ""))

    def inflate(self, member: _Member, keep: bool) -> bytes:
        """Inflate one part, checking sizes, checksum and markup; return it if ``keep``."""
        start = self.local_header(member)
        end = start + member.packed
        inflater = zlib.decompressobj(-15) if member.method == 8 else None
        kept: list[bytes] | None = [] if keep else None
        head = b""
        carry = b""
        crc = produced = 0
        pos = start
        pending = b""
        while True:
            if not pending and pos < end:
                pending = self.src.read_at(pos, min(_READ_CHUNK, end - pos))
                if not pending:
                    raise _corrupt(f"part {member.name} is cut short")
                pos += len(pending)
            if inflater is None:
                out, pending = pending, b""
                stuck = not out
            else:
                try:
                    # Never more than one byte past the declared size: enough to catch a lie.
                    # Called with no input too, to drain output zlib still holds.
                    out = inflater.decompress(
                        pending, min(_INFLATE_CHUNK, member.size + 1 - produced)
                    )
                except zlib.error:
                    raise _corrupt(f"part {member.name} cannot be unpacked") from None
                stuck = not out and len(inflater.unconsumed_tail) == len(pending)
                pending = inflater.unconsumed_tail
            if stuck:
                break
            if out:
                produced += len(out)
                self.inflated += len(out)
                if produced > member.size:
                    raise _corrupt(f"part {member.name} unpacks to more than its header says")
                if self.inflated > MAX_UNPACKED_TOTAL:
                    raise _bomb(f"more than {MAX_UNPACKED_TOTAL // MiB} MB unpacked")
                crc = zlib.crc32(out, crc)
                buf = carry + out if carry else out
                # '!' is a fast byte search and rare in XML, where '<' is everywhere.
                if b"!" in buf and (b"<!" in buf or b"<\x00!" in buf) and _DOCTYPE.search(buf):
                    raise _doctype(member.name)
                carry = buf[-_CARRY:]
                if len(head) < 512:
                    head += out[: 512 - len(head)]
                if kept is not None:
                    kept.append(out)
            if inflater is not None and inflater.eof:
                break
        if inflater is not None:
            if not inflater.eof:
                reason = "cannot be unpacked" if pending else "is cut short"
                raise _corrupt(f"part {member.name} {reason}")
            if pending or inflater.unused_data or pos < end:
                raise _corrupt(f"part {member.name} has stray data after it")
        if produced != member.size:
            raise _corrupt(f"part {member.name} unpacks to less than its header says")
        if crc != member.crc:
            raise _corrupt(f"part {member.name} fails its checksum")
        if self.is_xml(member):
            encoding = _hidden_markup_encoding(head)
            if encoding:
                raise _hidden_encoding(member.name, encoding)
        return b"".join(kept) if kept is not None else b""

    def local_header(self, member: _Member) -> int:
        """Check the part's own header against the table of contents; where its data starts."""
        raw = self.src.read_at(member.offset, _LOCAL.size)
        if len(raw) < _LOCAL.size or raw[:4] != _ZIP_MAGIC:
            raise _corrupt(f"the header of part {member.name} is missing")
        _, _, flags, method, _, _, crc, packed, size, name_length, extra_length = _LOCAL.unpack(raw)
        start = member.offset + _LOCAL.size + name_length + extra_length
        if self.src.read_at(member.offset + _LOCAL.size, name_length) != member.raw_name:
            raise _corrupt(f"part {member.name} has two different names")
        if method != member.method:
            raise _corrupt(f"the headers of part {member.name} disagree")
        # With bit 3 set the sizes follow the data; the table of contents is authoritative.
        if (
            not flags & 0x8
            and _U32 not in (packed, size)
            and (crc, packed, size) != (member.crc, member.packed, member.size)
        ):
            raise _corrupt(f"the headers of part {member.name} disagree")
        if start + member.packed > member.end:
            raise _corrupt("two parts overlap, or a part lies outside the file")
        return start

    def is_xml(self, member: _Member) -> bool:
        key = member.key
        return key.rsplit(".", 1)[-1] in self.xml_suffixes or key in self.xml_parts

    def tags(self, pattern: re.Pattern[bytes], data: bytes, part: str) -> Iterator[list[bytes]]:
        """Tags of a workbook-level part: a few per part, each closed within the bound."""
        return _tags(
            pattern,
            data,
            2 * MAX_PARTS,
            malformed=lambda: _corrupt(f"part {part} has an entry that never ends"),
            crowded=lambda: _too_many(None),
        )

    def read_content_types(self, data: bytes) -> None:
        if _names_macros(data):
            raise _macro()
        for tag, raw in self.tags(_TYPE_TAG, data, "[Content_Types].xml"):
            attrs = _attributes(raw)
            content_type = attrs.get("ContentType", "").lower()
            if tag == b"Default":
                if content_type.endswith("xml"):
                    self.xml_suffixes.add(attrs.get("Extension", "").casefold())
                continue
            part = attrs.get("PartName", "").lstrip("/").casefold()
            if content_type.endswith("xml"):
                self.xml_parts.add(part)
            if content_type.endswith(_WORKSHEET_TYPES):
                self.sheets.add(part)

    def read_workbook_rels(self, data: bytes) -> dict[str, str]:
        """Relationship id to part key, adding every worksheet target to the sheets."""
        targets = {}
        for (raw,) in self.tags(_RELATIONSHIP_TAG, data, _WORKBOOK_RELS):
            attrs = _attributes(raw)
            target = attrs.get("Target", "").replace("\\", "/")
            target = target[1:] if target.startswith("/") else posixpath.join("xl", target)
            key = posixpath.normpath(target).casefold()
            targets[attrs.get("Id", "")] = key
            if attrs.get("Type", "").endswith(("/worksheet", "/dialogsheet")):
                self.sheets.add(key)
        return targets

    def read_sheet_names(self, data: bytes, targets: dict[str, str]) -> None:
        for (raw,) in self.tags(_SHEET_TAG, data, _WORKBOOK):
            attrs = _attributes(raw)
            key = targets.get(attrs.get("id", ""))
            if key:
                self.sheet_names[key] = attrs.get("name", "")[:100]


def _names_macros(data: bytes) -> bool:
    """True if content types or relationships mention a macro part."""
    lowered = data.lower()
    return any(word in lowered for word in _MACRO_WORDS)


def _attributes(raw: bytes) -> dict[str, str]:
    """Attributes by local name (``r:id`` as ``id``), values unescaped."""
    found = {}
    for name, double, single in _groups(_ATTR, raw):
        local = name.rsplit(b":", 1)[-1].decode("ascii", "replace")
        value = (double or single).decode("utf-8", "replace")
        found[local] = html.unescape(value) if "&" in value else value
    return found


def _hidden_markup_encoding(head: bytes) -> str | None:
    """The encoding of an XML part if it could hide markup from a byte scan, else None.

    In UTF-8 and the single-byte ISO and Windows encodings, ASCII bytes mean
    ASCII characters, so ``<!DOCTYPE`` has one spelling; UTF-16 is scanned for
    directly. Anything else (UTF-32, EBCDIC, UTF-7, which can write ``<`` as
    ``+ADw-``) could spell it differently, and no Office writer uses them.
    """
    if head.startswith(
        (b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00", b"\x00\x00\x00<", b"<\x00\x00\x00")
    ):
        return "UTF-32"
    if head.startswith((b"\xfe\xff", b"\xff\xfe", b"\x00<", b"<\x00")):
        return None
    if head.startswith(b"\x4c\x6f\xa7\x94"):
        return "EBCDIC"
    match = _XML_ENCODING.match(head[3:] if head.startswith(b"\xef\xbb\xbf") else head)
    if not match:
        return None
    encoding = match.group(1).decode("ascii")
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        return encoding
    if name in _SCANNABLE_ENCODINGS or name.startswith(("iso8859-", "cp125")):
        return None
    return encoding


def _utf16_as_utf8(data: bytes) -> bytes:
    """A UTF-16 part (known by its byte order mark or first character) in UTF-8, for the scans."""
    if data.startswith((b"\xfe\xff", b"\xff\xfe")):
        return data.decode("utf-16", "replace").encode("utf-8", "replace")
    if data.startswith((b"\x00<", b"<\x00")):
        encoding = "utf-16-be" if data[:1] == b"\x00" else "utf-16-le"
        return data.decode(encoding, "replace").encode("utf-8", "replace")
    return data


def _check_sheet(data: bytes, sheet: str) -> None:
    """Refuse any cell, row or range beyond the template's bounds."""
    data = _utf16_as_utf8(data)
    if len(data) > _PLAIN_LIMIT or not _plainly_inside(data):
        _find_outside(data, sheet)


def _plainly_inside(data: bytes) -> bool:
    """True if every cell, row and range is written as Excel writes it, within bounds.

    The quick answer for normal sheets: a few literal-led searches and set
    comparisons. Anything unusual (a namespace prefix, a missing or second
    position, odd quoting) answers False and gets the thorough scan.
    """
    if _PREFIXED_TAG.search(data):
        return False
    cells = _PLAIN_CELL.findall(data)
    rows = _PLAIN_ROW.findall(data)
    if len(cells) + len(rows) > _MAX_SHEET_TAGS:
        return False
    # b"" marks a cell or row not written the plain way.
    if not _CELL_REFS.issuperset(cells) or not _ROWS.keys() >= set(rows):
        return False
    for value in _PLAIN_RANGE.findall(data):
        ends = value.split(b":")
        if len(ends) > 2 or not _CELL_REFS.issuperset(ends):
            return False
    return True


def _find_outside(data: bytes, sheet: str) -> None:
    """Read every cell, row and range tag in order and refuse the first one outside."""

    def tags(pattern: re.Pattern[bytes]) -> Iterator[list[bytes]]:
        return _tags(
            pattern,
            data,
            _MAX_SHEET_TAGS,
            malformed=lambda: _bad_position(sheet),
            crowded=lambda: _crowded(sheet),
        )

    for tag, raw in tags(_RANGE_TAG):
        refs = _first_two(_REF_ATTR, raw)
        if len(refs) > 1:
            raise _bad_position(sheet)
        if refs and not _range_inside(refs[0][1]):
            value = _printable(refs[0][1])
            raise _out_of_range(f"{_RANGE_WHAT[tag]} ({value})", value.split(":")[-1], sheet)
    row = col = 0
    for tag, letters, digits, rest in tags(_CELL_TAG):
        if digits:
            if b"r" in rest and _R_ATTR.search(rest):
                raise _bad_position(sheet)
        elif b"r" in rest:
            found = _first_two(_R_ATTR, rest)
            if len(found) > 1:
                raise _bad_position(sheet)
            if found:
                parts = _REF_PARTS.fullmatch(found[0][1])
                if not parts:
                    raise _bad_position(sheet)
                letters, digits = parts.groups()
        if tag == b"row":
            col = 0
            if digits:
                number = _ROWS.get(digits)
                if letters or number is None:
                    raise _out_of_range(f"Row {_printable(letters + digits)}", "", sheet)
                row = number
            else:
                row += 1
                if row > template.MAX_ROW:
                    raise _out_of_range(f"Row {row}", "", sheet)
        elif digits:
            col = _COLS.get(letters, 0)
            if not col or digits not in _ROWS:
                ref = _printable(letters + digits)
                raise _out_of_range(f"Cell {ref}", ref, sheet)
        else:
            col += 1
            if col > template.MAX_COL or max(row, 1) > template.MAX_ROW:
                ref = f"{column_letters(col)}{max(row, 1)}"
                raise _out_of_range(f"Cell {ref}", ref, sheet)


def _groups(pattern: re.Pattern[bytes], data: bytes) -> Iterator[tuple[bytes, ...]]:
    """Each match's groups, one at a time: a list of them all could outgrow memory."""
    return (match.groups() for match in pattern.finditer(data))


def _tags(
    pattern: re.Pattern[bytes],
    data: bytes,
    limit: int,
    malformed: Callable[[], _Refused],
    crowded: Callable[[], _Refused],
) -> Iterator[list[bytes]]:
    """The groups of each tag ``pattern`` (ending in ``_ATTRS``) finds, closing group dropped.

    Refuses a tag that does not close within the bound, and more than ``limit`` tags.
    """
    for count, match in enumerate(pattern.finditer(data), 1):
        if count > limit:
            raise crowded()
        *groups, closed = match.groups()
        if not closed:
            raise malformed()
        yield groups


def _first_two(pattern: re.Pattern[bytes], data: bytes) -> list[tuple[bytes, ...]]:
    """The groups of the first two matches: enough to tell one from several."""
    return [match.groups() for match in itertools.islice(pattern.finditer(data), 2)]


def _range_inside(value: bytes) -> bool:
    ends = value.split(b":")
    if len(ends) > 2:
        return False
    for end in ends:
        parts = _REF_PARTS.fullmatch(end)
        if not parts or parts.group(1) not in _COLS or parts.group(2) not in _ROWS:
            return False
    return True


def _printable(value: bytes) -> str:
    text = value[:24].decode("ascii", "replace")
    return "".join(ch if ch.isprintable() and ch != "\ufffd" else "?" for ch in text)
