"""Taking an inbox entry: looked at without following it, and read once.

Only a regular file is ever opened: non-blocking, never following a symbolic
link, and after its size is checked, so no entry (a named pipe, a link to a
device, a file far too large) can hang or swamp the engine. Its bytes are
read once and hashed, and a private copy of exactly those bytes is what the
checks read and what the archive keeps (see :mod:`engine.pipeline`).
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from .files import OPEN_FLAGS, display_name, open_regular, write_atomic
from .findings import Finding, error
from .precheck import MAX_BYTES, too_large


@dataclass
class Taken:
    """One inbox entry as it was taken in: its bytes' hash, and where a copy of them is."""

    path: Path
    name: str  # as a person can read it (see files.display_name)
    source: bytes  # the real path, as file-system bytes
    sha256: str = ""
    size: int = 0
    stamp: tuple = ()  # (device, inode, size, mtime) of what was read
    # When it was looked at (ISO, UTC). Never its modification time, which is when it was
    # saved: the intake replaces this with when it was first seen (engine.sightings).
    arrived: str = ""
    staged: Path | None = None
    refused: Finding | None = None  # refused unread (not a regular file, far too large)
    changing: bool = False
    gone: str = ""  # why it could not be opened at all


def _entry_kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a shortcut (symbolic link)"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not an ordinary file"


def _not_regular(kind: str) -> Finding:
    return error(
        "not-a-regular-file",
        f"This inbox entry is {kind}, not a workbook file, so SeQuIn did not open it or follow "
        "it. Move it out of the inbox and put the workbook file itself there.",
    )


def stamp_of(st: os.stat_result) -> tuple:
    """An entry's identity: (device, inode, size, modification time in ns).

    It tells one file from another; it never says when a file arrived (see
    :mod:`engine.sightings`).
    """
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def iso_time(timestamp: float) -> str:
    """A POSIX time as ISO text in UTC, to the second."""
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).replace(microsecond=0).isoformat()


# The one clock every arrival is read from (tests that pin arrivals replace it).
clock = time.time


def arrival_now() -> str:
    """This moment as an arrival (ISO, UTC, to the second), from :data:`clock`."""
    return iso_time(clock())


def take(path: Path, staging: Path | None, max_bytes: int = MAX_BYTES) -> Taken:
    """Look at one entry without following it and, if it is a regular file, read it once.

    The bytes read are hashed and, when ``staging`` is given, copied there
    under their hash for the worker and the archive. Never blocks (a named
    pipe is never opened) and never reads more than ``max_bytes`` + 1 bytes.
    ``arrived`` is the moment it was looked at, never its modification time
    (the intake uses when it was first seen in the inbox, if it was).
    """
    path = Path(path)
    t = Taken(path=path, name=display_name(path.name), source=os.fsencode(path))
    try:
        st = os.lstat(path)
    except OSError as exc:
        t.gone = exc.strerror or str(exc)
        return t
    t.arrived = arrival_now()
    if not stat.S_ISREG(st.st_mode):
        kind = _entry_kind(st.st_mode)
        target = b""
        if stat.S_ISLNK(st.st_mode):
            try:
                target = os.fsencode(os.readlink(path))
            except OSError:
                pass
        # The same entry seen again must be recognised, so it is fingerprinted by what it is.
        t.sha256 = hashlib.sha256(
            b"entry\0" + kind.encode() + b"\0" + t.source + b"\0" + target
        ).hexdigest()
        t.stamp = stamp_of(st)
        t.refused = _not_regular(kind)
        return t
    if st.st_size > max_bytes:
        # Refused unread: fingerprinted by its size, time and first bytes, never read through.
        t.size, t.stamp = st.st_size, stamp_of(st)
        head = b""
        try:
            fd = os.open(path, OPEN_FLAGS)
            try:
                head = os.read(fd, 65536)
            finally:
                os.close(fd)
        except OSError:
            pass
        t.sha256 = hashlib.sha256(
            b"too-large\0" + str(stamp_of(st)).encode() + b"\0" + head
        ).hexdigest()
        t.refused = too_large(st.st_size, max_bytes)
        return t
    try:
        fd = os.open(path, OPEN_FLAGS)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENXIO):  # replaced by a link or a pipe meanwhile
            t.changing = True
        else:
            t.gone = exc.strerror or str(exc)
        return t
    try:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode) or stamp_of(before)[:2] != stamp_of(st)[:2]:
            t.changing = True
            return t
        chunks, total = [], 0
        while total <= max_bytes:
            block = os.read(fd, min(1 << 20, max_bytes + 1 - total))
            if not block:
                break
            chunks.append(block)
            total += len(block)
        after = os.fstat(fd)
    except OSError as exc:
        t.gone = exc.strerror or str(exc)
        return t
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) != before.st_size or stamp_of(after) != stamp_of(before) or total > max_bytes:
        t.changing = True  # still being written or overwritten: take it again once still
        return t
    t.sha256 = hashlib.sha256(data).hexdigest()
    t.size, t.stamp = len(data), stamp_of(before)
    if staging is not None:
        t.staged = staging / f"{t.sha256}.xlsx"
        # Private copy: not forced to disk here; the archive copy is, before the inbox copy goes.
        write_atomic(t.staged, data, durable=False)
    return t


def read_regular(path: Path, limit: int = MAX_BYTES) -> bytes | None:
    """The bytes of a regular file (never following a link, never blocking), or None."""
    with open_regular(path) as fd:
        if fd is None:
            return None
        chunks, total = [], 0
        try:
            while total <= limit:
                block = os.read(fd, 1 << 20)
                if not block:
                    return b"".join(chunks)
                chunks.append(block)
                total += len(block)
        except OSError:
            return None
        return None
