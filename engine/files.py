"""Small file-system helpers: atomic writes and safe names."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from .faults import crashpoint

TEMP_PREFIX = ".sequin-tmp-"


def write_atomic(path: Path, data: bytes, durable: bool = True) -> Path:
    """Write ``data`` to ``path`` so that nobody ever sees a half-written file.

    The bytes go to a hidden temporary file in the same folder and the file is
    renamed into place in one step. With ``durable`` the bytes are also forced
    to disk first, so a power cut cannot leave an empty file behind.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
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
