"""Small file-system helpers: atomic writes and safe names."""

from __future__ import annotations

import hashlib
import os
import re
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .faults import crashpoint

TEMP_PREFIX = ".sequin-tmp-"


def write_atomic(path: Path, data: bytes, durable: bool = True) -> Path:
    """Write ``data`` to ``path`` so that nobody ever sees a half-written file.

    The bytes go to a hidden temporary file in the same folder and the file is
    renamed into place in one step. With ``durable`` the bytes are also forced
    to disk first, so a power cut cannot leave an empty file behind. The ledger's
    files are always durable; outputs that can be rebuilt from the ledger at any time
    (the month's reports) are written without it, as forcing each to disk costs more
    than building it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return _write_atomic(path, data, durable)
    except OSError as exc:
        if (
            exc.filename is None
        ):  # say which file (and so which disk) it was: "disk full" alone helps nobody
            raise OSError(exc.errno, exc.strerror, str(path)) from exc
        raise


def _write_atomic(path: Path, data: bytes, durable: bool) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        # mkstemp makes owner-only files; outputs are for everyone the folder is shared with.
        os.chmod(tmp, 0o666 & ~_umask())
        crashpoint(f"before rename {path.name}")
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def sync_quietly(path: Path) -> None:
    """Force a file already written to disk, if it can be; a failure is left for later.

    Whoever needs the file durable forces it again (cheap once it is clean) and
    handles the error there.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text_atomic(path: Path, text: str, durable: bool = True) -> Path:
    """Write text as UTF-8 with a byte-order mark and Windows line endings.

    Notepad on a locked-down PC shows such a file correctly, accents included.
    """
    body = text.replace("\r\n", "\n").replace("\n", "\r\n")
    return write_atomic(path, "\ufeff".encode("utf-8") + body.encode("utf-8"), durable)


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while True:
            block = fh.read(chunk)
            if not block:
                break
            digest.update(block)
    return digest.hexdigest()


def clean_up_temp_files(folder: Path) -> int:
    """Remove temporary files a killed run may have left behind; returns how many."""
    count = 0
    if not folder.is_dir():
        return 0
    for path in folder.rglob(TEMP_PREFIX + "*"):
        try:
            path.unlink()
            count += 1
        except OSError:
            pass
    return count


_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


def safe_stem(name: str, limit: int = 80) -> str:
    """A file-name stem safe on Windows and Linux, derived from ``name``."""
    stem = _UNSAFE.sub("_", name).strip(" .") or "file"
    return stem[:limit]


_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def display_name(name: str) -> str:
    """A file name as text a person and a log can show: always valid UTF-8, on one line.

    Names on Linux are bytes; one that is not valid UTF-8 arrives in Python with
    placeholder characters that cannot be written to a text file, a log or the
    ledger. Undecodable bytes become U+FFFD and control characters (a newline in
    a name) become ``?``. The real name is kept as bytes where the file is needed.
    """
    text = os.fsencode(name).decode("utf-8", "replace")
    return _CONTROL_CHARS.sub("?", text)


#: Longest file name, in bytes, on the file systems a home lives on (ext4, NTFS via SMB).
NAME_MAX = 255


def name_beside(name: str, suffix: str) -> str:
    """The name of a file written beside ``name`` (a receipt): ``name`` + ``suffix``.

    Always valid UTF-8 without control characters, and at most :data:`NAME_MAX`
    bytes. When the name had to be changed to get there (shortened, or odd
    bytes replaced) a short fingerprint of the whole original name is added, so
    two long names that share a beginning still get different reports.
    """
    raw = os.fsencode(name)
    text = _CONTROL_CHARS.sub("_", raw.decode("utf-8", "replace").replace("\ufffd", "_"))
    limit = NAME_MAX - len(suffix.encode())
    if text.encode() == raw and len(raw) <= limit:
        return name + suffix
    tag = "~" + hashlib.sha256(raw).hexdigest()[:8]
    encoded = text.encode()[: limit - len(tag)]
    text = encoded.decode("utf-8", "ignore")  # never cut a letter in half
    return text + tag + suffix


#: Opening an inbox entry: never following a link, never blocking (a named pipe), never inherited.
OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_BINARY", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
)


@contextmanager
def open_regular(path: Path) -> Iterator[int | None]:
    """A descriptor for ``path`` if it is a regular file (see :data:`OPEN_FLAGS`), else None."""
    try:
        fd = os.open(path, OPEN_FLAGS)
    except OSError:
        yield None
        return
    try:
        yield fd if stat.S_ISREG(os.fstat(fd).st_mode) else None
    finally:
        os.close(fd)
