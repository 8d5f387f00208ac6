"""Filing: returns a person can find, and an inbox that holds only what needs the lead.

What goes where (the ledger and the archive stay the source of truth; these
folders are readable copies, laid out from the ledger and rebuilt when the
counted return changes):

``inbox/``
    files not yet taken in; rejected files beside their problems report; and
    returns *kept but not counted* (an older save, or a return for a closed
    month) beside their receipt, because they wait for the lead's decision
    (``sequin release``). Nothing else stays there.

``returns/YYYY-MM/<code> <name>/``
    the return counted for that unit and month under the name it arrived with,
    and its receipt. ``earlier/`` holds everything else of that unit and month,
    each name starting with when it arrived (``2026-12-03 1015 ...``): returns
    it replaced (receipt marked REPLACED), copies sent again, and rejected files
    with their problems report once a corrected return was accepted (report
    marked SUPERSEDED).

``returns/YYYY-MM/<code> <name>/family/``
    every family and friends response counted for that unit and month, each
    with its receipt, named by when it arrived and its number in ``sequin
    returns`` (``2026-12-03 1015 #57 SeQuIn_family_M01_2026-11.xlsx``), since
    many responses arrive under the same name; ``family/earlier/`` holds copies
    of a response sent again (counted once). A response for a closed month waits
    in the inbox beside its receipt until ``sequin release`` counts it; a
    rejected response stays in the inbox beside its problems report until the
    lead deals with it (another family's response never replaces it).
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import os
import stat
from pathlib import Path

from .entries import read_regular, stamp_of
from .faults import crashpoint
from .files import (
    NAME_MAX,
    display_name,
    open_regular,
    safe_stem,
    sha256_file,
    write_atomic,
    write_text_atomic,
)
from .home import Home
from .ledger import Drop, Ledger, is_counted
from .receipts import PROBLEMS_SUFFIX, RECEIPT_SUFFIX, when

RETURNS = "returns"
EARLIER = "earlier"
FAMILY = "family"
SUPERSEDED_SUFFIX = ".problems (superseded).txt"


def archive_path(home: Home, sha256: str) -> Path:
    """Where an accepted original is kept, named by its content (the source of truth)."""
    return home.archive / sha256[:2] / f"{sha256}.xlsx"


def unit_folder(home: Home, unit: str, period: str) -> Path:
    """``returns/YYYY-MM/<code> <name>/`` for a unit of the network."""
    u = home.network.unit(unit)
    label = f"{unit} {safe_stem(u.name, 60)}" if u is not None and u.name != unit else unit
    return home.root / RETURNS / period / label


def _fit(name: str, longest_suffix: str = SUPERSEDED_SUFFIX) -> str:
    """``name`` shortened (at a letter boundary) so that it and its report fit in a file name."""
    limit = NAME_MAX - len(longest_suffix.encode())
    raw = name.encode()
    if len(raw) <= limit:
        return name
    _stem, dot, ext = name.rpartition(".")
    keep = f"{dot}{ext}" if dot and len(ext) <= 8 else ""
    head = raw[: limit - len(keep.encode())].decode("utf-8", "ignore")
    return head + keep


def filed_name(drop: Drop, earlier: bool) -> str:
    """The name a drop's file has in its unit's folder."""
    name = display_name(drop.original_name).replace("/", "_").replace("\\", "_")
    if earlier:
        try:
            t = dt.datetime.fromisoformat(drop.arrived_at)
            name = f"{t:%Y-%m-%d %H%M} {name}"
        except ValueError:
            name = f"{drop.id} {name}"
    return _fit(name)


def family_name(drop: Drop) -> str:
    """The name a family and friends response has in ``family/``: when it arrived, and its number
    (many responses arrive under the same name)."""
    name = display_name(drop.original_name).replace("/", "_").replace("\\", "_")
    try:
        arrived = f"{dt.datetime.fromisoformat(drop.arrived_at):%Y-%m-%d %H%M} "
    except ValueError:
        arrived = ""
    return _fit(f"{arrived}#{drop.id} {name}")


def report_of(path: Path, outcome: str) -> Path:
    return path.with_name(
        path.name + (RECEIPT_SUFFIX if outcome == "accepted" else PROBLEMS_SUFFIX)
    )


def _relative(home: Home, path: Path) -> str:
    return path.relative_to(home.root).as_posix()


def _holds(path: Path, sha256: str) -> bool:
    """True if ``path`` is a regular file whose bytes hash to ``sha256``."""
    with open_regular(path) as fd:
        if fd is None:
            return False
        digest = hashlib.sha256()
        while True:
            block = os.read(fd, 1 << 20)
            if not block:
                return digest.hexdigest() == sha256
            digest.update(block)


def _prepend(path: Path, line: str) -> None:
    """Add a first line to a report (REPLACED, RELEASED, SUPERSEDED), once."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError:
        return
    if text.startswith(line.split(":")[0]):
        return
    write_text_atomic(path, f"{line}\n\n{text}", durable=False)


class Filing:
    """Lays out a unit's month from the ledger: the counted return on top, the rest in earlier/."""

    def __init__(self, home: Home, ledger: Ledger, archive_path):
        self.home = home
        self.ledger = ledger
        self.archive_path = archive_path

    def destination(
        self, drop: Drop, counted_drop: Drop | None, finishing: bool = False
    ) -> Path | None:
        """Where this drop's file belongs, or None when it stays where it arrived."""
        if drop.state != "done" and not finishing:
            return None  # another run's unfinished work: its own finishing files it
        if drop.is_family:
            return self._family_destination(drop)
        if drop.outcome == "accepted":
            row = self.ledger.return_row(drop.return_id)
            if row is None:
                return None
            folder = unit_folder(self.home, row["unit"], row["period"])
            if counted_drop is not None and drop.id == counted_drop.id:
                return folder / filed_name(drop, earlier=False)
            if row["held"] is not None and not is_counted(row):
                return None  # waits in the inbox for the lead's decision
            return folder / EARLIER / filed_name(drop, earlier=True)
        # Rejected: retired once a corrected return for the same unit and month is accepted.
        folder = unit_folder(self.home, drop.unit or "", drop.period or "")
        if (
            counted_drop is not None
            and drop.unit
            and drop.id < counted_drop.id
            and self.home.network.unit(drop.unit) is not None
        ):
            return folder / EARLIER / filed_name(drop, earlier=True)
        return None

    def _family_destination(self, drop: Drop) -> Path | None:
        """``family/`` for a counted response, ``family/earlier/`` for a copy sent again; a held
        or rejected response stays in the inbox for the lead."""
        row = self.ledger.response_row(drop.response_id) if drop.response_id else None
        if drop.outcome != "accepted" or row is None or row["held"] is not None:
            return None
        folder = unit_folder(self.home, row["unit"], row["period"]) / FAMILY
        first = self.ledger.first_drop_of_response(row["id"])
        if first is not None and first.id != drop.id:
            folder = folder / EARLIER
        return folder / family_name(drop)

    def counted_drop(self, unit: str, period: str) -> Drop | None:
        current = self.ledger.current_return(unit, period)
        if current is None:
            return None
        first = self.ledger.first_drop_of_return(current["id"])
        return first

    def lay_out(self, unit: str, period: str, *, finishing: Drop | None = None) -> Path | None:
        """Move every file of a unit's month to where it belongs; returns ``finishing``'s place."""
        if not unit or not period or self.home.network.unit(unit) is None:
            return None
        counted = self.counted_drop(unit, period)
        placed = None
        if finishing is not None:
            placed = self.destination(finishing, counted, finishing=True)
        for drop in self.ledger.drops_of(unit, period):
            if finishing is not None and drop.id == finishing.id:
                continue  # being finished: the caller writes it there
            want = self.destination(drop, counted)
            if want is None or drop.filed_as == _relative(self.home, want):
                continue
            self._move(drop, want, counted)
        return placed

    def _move(self, drop: Drop, want: Path, counted: Drop | None) -> None:
        if drop.filed_as:
            here = self.home.root / drop.filed_as
        else:
            here = drop.source_path or self.home.inbox / drop.original_name
            if here.parent != self.home.inbox:
                self._file_copy(drop, here, want)
                return
        report_here = (
            report_of(here, drop.outcome)
            if drop.filed_as
            else here.parent / (drop.report_name or "")
        )
        want.parent.mkdir(parents=True, exist_ok=True)
        moved = False
        try:
            if not drop.filed_as and not _holds(here, drop.sha256):
                # The lead dropped another file under the same name (a corrected return
                # named like the rejected one): that file is not this drop's to move.
                raise FileNotFoundError(str(here))
            os.replace(here, want)
            moved = True
        except FileNotFoundError:
            if drop.outcome == "accepted" and self.archive_path(drop.sha256).exists():
                write_atomic(want, self.archive_path(drop.sha256).read_bytes(), durable=False)
                moved = True
        if drop.outcome == "rejected":
            report_want = want.with_name(want.name + SUPERSEDED_SUFFIX)
        else:
            report_want = report_of(want, drop.outcome)
        try:
            os.replace(report_here, report_want)
        except (FileNotFoundError, IsADirectoryError):
            pass
        if drop.is_family:
            if not drop.filed_as and want.parent.name == FAMILY:
                _prepend(
                    report_want,
                    "RELEASED: this family and friends response is now counted (sequin release).",
                )
        elif drop.outcome == "rejected" and counted is not None:
            _prepend(
                report_want,
                f"SUPERSEDED: the corrected return '{counted.original_name}' was "
                f"accepted {when(counted.arrived_at)}; nothing here needs doing.",
            )
        elif drop.outcome == "accepted" and want.parent.name == EARLIER and counted is not None:
            if not drop.duplicate_of:
                _prepend(
                    report_want,
                    f"REPLACED: no longer counted; '{counted.original_name}' "
                    f"(received {when(counted.arrived_at)}) is counted instead.",
                )
        elif drop.outcome == "accepted" and want.parent.name != EARLIER:
            _prepend(
                report_want,
                "RELEASED: this return is now the one counted for its unit and "
                "month (sequin release).",
            )
        if moved or report_want.exists():
            self.ledger.set_filed(drop.id, _relative(self.home, want))

    def _file_copy(self, drop: Drop, here: Path, want: Path) -> None:
        """File a copy of an accepted return given from outside the inbox (``sequin process``).

        The file and its receipt where the lead gave it are not the engine's to
        move; a copy of the archived original, and of its receipt, is filed
        instead (a released return must sit where a counted one lives).
        """
        source = self.archive_path(drop.sha256)
        if drop.outcome != "accepted" or not source.exists():
            return
        want.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(want, source.read_bytes(), durable=False)
        try:
            text = (here.parent / (drop.report_name or "")).read_text(encoding="utf-8-sig")
        except OSError:
            text = ""
        if text:
            write_text_atomic(report_of(want, "accepted"), text, durable=False)
        self.ledger.set_filed(drop.id, _relative(self.home, want))


def keep_original(home: Home, staging: Path, sha256: str, path: Path) -> Path:
    """Put an accepted original into the archive, from the bytes that were read and hashed.

    The private copy made when the file was taken (in ``staging``) is moved into
    the archive after it is forced to disk; if it is gone (a power cut), the
    original is used, again only if its hash matches.
    """
    target = archive_path(home, sha256)
    if target.exists():
        return target
    staged = staging / f"{sha256}.xlsx"
    for candidate in (staged, path):
        data = read_regular(candidate)
        if data is None or hashlib.sha256(data).hexdigest() != sha256:
            continue
        if candidate == staged:
            try:
                fd = os.open(staged, os.O_RDONLY | getattr(os, "O_BINARY", 0))
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(staged, target)
                return target
            except OSError:
                pass  # another disk, or no fsync here: write a copy instead
        write_atomic(target, data)
        return target
    raise FileNotFoundError(
        errno.ENOENT,
        "neither the private copy nor the original of this file is left",
        str(path),
    )


def remove_original(sha256: str, path: Path, stamp: tuple) -> None:
    """Remove the inbox copy, but only if it is still the file whose bytes were recorded."""
    try:
        st = os.lstat(path)
    except OSError:
        return
    if not stat.S_ISREG(st.st_mode):
        return
    if stamp:
        if stamp_of(st) != stamp:
            return  # overwritten since it was read: it is a new file, taken again
    elif sha256_file(path) != sha256:
        return
    crashpoint("archived, before removing from the inbox")
    os.unlink(path)
    crashpoint("removed from the inbox, before done")
