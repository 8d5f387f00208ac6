"""The question bank: 12 areas of 10 standards each, loaded from TOML data.

Every bank version ever issued stays in ``engine/data/banks`` (one file per
version), so a return made from an older workbook can still be checked and
scored against the wording it was issued with. A home may add versions in its
own ``banks/`` folder.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from .errors import BankError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

AREA_COUNT = 12
STANDARDS_PER_AREA = 10
AREA_ORDER = ("INV", "REC", "COL", "RRP", "CPA", "FFC", "MDT", "DIN", "ACT", "RSK", "RAS", "TEC")
_ID = re.compile(r"^[A-Z]{3}-\d{2}$")
_SHEET_FORBIDDEN = set(":\\/?*[]")
MAX_SHORT_NAME = 24


@dataclass(frozen=True)
class Standard:
    """One standard: what is rated, in full and easy-read wording."""

    id: str
    text: str
    easy_read: str
    evidence: tuple[str, ...]
    # An essential standard: a Not met on it is named even when its area is Green.
    essential: bool = False


@dataclass(frozen=True)
class Area:
    """One area of practice with its 10 standards."""

    id: str
    name: str
    short_name: str
    description: str
    standards: tuple[Standard, ...]
    index: int  # 1-based position in the bank


@dataclass(frozen=True)
class Bank:
    """A versioned question bank."""

    version: str
    areas: tuple[Area, ...]

    @property
    def standards(self) -> list[Standard]:
        """All standards in bank order."""
        return [s for a in self.areas for s in a.standards]

    @property
    def essentials(self) -> list[Standard]:
        """The essential standards, in bank order (none in banks before 2026.2)."""
        return [s for a in self.areas for s in a.standards if s.essential]

    def area(self, area_id: str) -> Area:
        """The area with this ID."""
        for a in self.areas:
            if a.id == area_id:
                return a
        raise KeyError(area_id)


def version_key(version: str) -> tuple:
    """Sort key for versions such as ``2026.1`` (numeric parts compare as numbers)."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"[.\-]", version))


def parse_bank(data: dict, source: str = "bank") -> Bank:
    """Build a Bank from parsed TOML, rejecting anything broken with a clear message."""

    def fail(msg: str) -> BankError:
        return BankError(f"{source}: {msg}", hint="Fix the question bank file and run again.")

    version = str(data.get("bank_version", "")).strip()
    if not version:
        raise fail("bank_version is missing")
    retired = set(data.get("retired_ids", []))
    raw_areas = data.get("areas")
    if not isinstance(raw_areas, list) or len(raw_areas) != AREA_COUNT:
        n = len(raw_areas) if isinstance(raw_areas, list) else 0
        raise fail(f"expected {AREA_COUNT} areas, found {n}")
    seen: set[str] = set()
    areas = []
    for index, ra in enumerate(raw_areas, start=1):
        aid = str(ra.get("id", "")).strip()
        if not aid:
            raise fail(f"area {index} has no id")
        if aid in seen:
            raise fail(f"duplicate area id {aid}")
        seen.add(aid)
        for key in ("name", "short_name", "description"):
            if not str(ra.get(key, "")).strip():
                raise fail(f"area {aid} has no {key}")
        short = ra["short_name"].strip()
        if len(short) > MAX_SHORT_NAME or _SHEET_FORBIDDEN & set(short):
            raise fail(
                f"area {aid} short_name '{short}' must be at most {MAX_SHORT_NAME} characters "
                "without : \\ / ? * [ ]"
            )
        raw_std = ra.get("standards")
        if not isinstance(raw_std, list) or len(raw_std) != STANDARDS_PER_AREA:
            n = len(raw_std) if isinstance(raw_std, list) else 0
            raise fail(f"area {aid} must have {STANDARDS_PER_AREA} standards, found {n}")
        standards = []
        for rs in raw_std:
            sid = str(rs.get("id", "")).strip()
            if not _ID.match(sid) or not sid.startswith(aid + "-"):
                raise fail(f"standard id '{sid}' in area {aid} must look like {aid}-01")
            if sid in seen:
                raise fail(f"duplicate standard id {sid}")
            if sid in retired:
                raise fail(f"standard id {sid} was retired and must not be reused")
            seen.add(sid)
            for key in ("text", "easy_read"):
                if not str(rs.get(key, "")).strip():
                    raise fail(f"standard {sid} has no {key} wording")
            evidence = tuple(str(e).strip() for e in rs.get("evidence", []) if str(e).strip())
            if not evidence:
                raise fail(f"standard {sid} has no evidence example")
            essential = rs.get("essential", False)
            if not isinstance(essential, bool):
                raise fail(
                    f"standard {sid} has essential = {essential!r}: write essential = true (no quotes), "
                    "or leave the line out"
                )
            standards.append(
                Standard(sid, rs["text"].strip(), rs["easy_read"].strip(), evidence, essential)
            )
        areas.append(
            Area(aid, ra["name"].strip(), short, ra["description"].strip(), tuple(standards), index)
        )
    return Bank(version, tuple(areas))


def load_bank_file(path: Path) -> Bank:
    """Load and check one bank file."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise BankError(f"{path}: cannot read the question bank ({exc})") from exc
    return parse_bank(data, source=str(path))


def _bank_files(extra_dir: Path | None) -> list[Path]:
    files = []
    pkg = resources.files("engine") / "data" / "banks"
    with resources.as_file(pkg) as folder:
        files.extend(sorted(Path(folder).glob("*.toml")))
    if extra_dir is not None and extra_dir.is_dir():
        files.extend(sorted(extra_dir.glob("*.toml")))
    return files


@lru_cache(maxsize=16)
def _all_banks(extra_dir: str | None, _stamp: tuple = ()) -> dict[str, Bank]:
    banks: dict[str, Bank] = {}
    for path in _bank_files(Path(extra_dir) if extra_dir else None):
        bank = load_bank_file(path)
        if bank.version in banks:
            raise BankError(f"{path}: bank_version {bank.version} is defined twice")
        banks[bank.version] = bank
    if not banks:
        raise BankError("no question bank found")
    return banks


def known_banks(extra_dir: Path | None = None) -> dict[str, Bank]:
    """Every bank version the engine knows, keyed by version."""
    stamp: tuple = ()
    if extra_dir is not None and Path(extra_dir).is_dir():
        # A bank added to the home's banks/ folder is seen without a restart.
        stamp = tuple(
            (p.name, p.stat().st_mtime_ns) for p in sorted(Path(extra_dir).glob("*.toml"))
        )
    return _all_banks(str(extra_dir) if extra_dir else None, stamp)


def load_bank(version: str = "", extra_dir: Path | None = None) -> Bank:
    """The bank with this version, or the newest when ``version`` is empty."""
    banks = known_banks(extra_dir)
    if not version:
        return banks[max(banks, key=version_key)]
    if version not in banks:
        raise BankError(
            f"question bank version {version} is not known",
            hint=f"Known versions: {', '.join(sorted(banks, key=version_key))}.",
        )
    return banks[version]
