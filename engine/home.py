"""A network home: configuration, folders, ledger location and signing secret.

A home is a folder holding ``network.toml``, ``inbox/``, ``outbox/``, the
ledger and the secret. A folder without ``network.toml`` (such as a fresh
clone of the repository) works as a home with the embedded default network.

A home is never made by accident: only ``init_home`` (and the demo, in a new
or empty folder) creates one or its secret. ``open_home`` refuses a folder
that is not a home, ``Home.secret`` refuses a lost or replaced secret (the
ledger keeps its fingerprint) and ``Home.open_ledger`` refuses a damaged,
emptied or lost ledger, so the engine never answers wrongly in silence.
"""

from __future__ import annotations

import codecs
import datetime as dt
import hashlib
import hmac
import os
import re
import secrets
import sqlite3
import stat
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from . import template as T
from .bank import Bank, load_bank
from .errors import ConfigError, SequinError, UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SECRET_FILE = ".sequin-secret"
CONFIG_FILE = "network.toml"
LEDGER_FILE = "ledger.sqlite"
FINGERPRINT_KEY = "secret_fingerprint"
PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
FIRST_YEAR, LAST_YEAR = 2000, 2999
_UNIT_CODE = re.compile(r"^[A-Za-z0-9]{1,12}$")


@dataclass(frozen=True)
class ScaleLabel:
    """One choice of the rating drop-down."""

    label: str
    points: int
    applicable: bool = True


@dataclass(frozen=True)
class Unit:
    """A unit of the network. ``code`` is its anonymous code."""

    code: str
    name: str
    security: str = ""
    rebase: tuple[str, ...] = ()  # months a new period of its process control charts starts


@dataclass(frozen=True)
class Network:
    """The network's configuration (``network.toml``)."""

    name: str
    units: tuple[Unit, ...]
    scale: tuple[ScaleLabel, ...]
    green: float = 80.0
    amber: float = 50.0
    return_instructions: str = ""
    due_day: int = 10  # returns for a month are due on this day of the following month
    sheet_password: str = ""
    bank_version: str = ""
    show_unit_names: bool = False
    show_ranking: bool = False
    contact: str = ""  # who readers of the outputs can ask (``[outputs] contact``)
    rebase: tuple[str, ...] = ()  # ``[spc] rebase``: months a new SPC period starts, network-wide
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def max_points(self) -> int:
        """Points for the best rating."""
        return max(s.points for s in self.scale if s.applicable)

    @property
    def labels(self) -> list[str]:
        """The drop-down labels in order."""
        return [s.label for s in self.scale]

    @property
    def not_met_label(self) -> str:
        """The lowest applicable rating ("Not met" on the default scale)."""
        applicable = [s for s in self.scale if s.applicable]
        return min(applicable, key=lambda s: s.points).label

    def due_date(self, period: str) -> dt.date:
        """When returns for ``period`` are due: ``due_day`` of the following month."""
        year, month = int(period[:4]), int(period[5:7])
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return dt.date(year, month, self.due_day)

    def unit(self, code: str) -> Unit | None:
        """The unit with this code, or None (found in constant time)."""
        index = self.__dict__.get("_by_code")
        if index is None:
            index = {u.code: u for u in self.units}
            object.__setattr__(self, "_by_code", index)
        return index.get(code)

    def rebase_for(self, code: str | None = None) -> tuple[str, ...]:
        """The rebase dates of a unit's process control charts (the network's and its own),
        or of the network's own charts when ``code`` is None; in month order."""
        unit = self.unit(code) if code is not None else None
        own = unit.rebase if unit is not None else ()
        return tuple(sorted({*self.rebase, *own}))

    def rag(self, percent: float | None) -> str:
        """The RAG word for a percentage (``""`` when there is nothing to rate)."""
        if percent is None:
            return ""
        if percent >= self.green:
            return "Green"
        if percent >= self.amber:
            return "Amber"
        return "Red"

    def display_name(self, code: str) -> str:
        """How shared outputs name a unit: its code, or its name when configured."""
        unit = self.unit(code)
        if self.show_unit_names and unit is not None:
            return f"{unit.name} ({code})"
        return code


def _due_day(data: dict, fail) -> int:
    raw = data.get("returns", {}).get("due_day", 10)
    if not isinstance(raw, int) or isinstance(raw, bool) or not 1 <= raw <= 28:
        raise fail("[returns] due_day must be a whole day of the month from 1 to 28")
    return raw


def _rebase(raw, where: str, fail) -> tuple[str, ...]:
    """A list of rebase months (``["2026-04"]``), checked; ``where`` names the setting."""
    example = 'e.g. rebase = ["2026-04"]'
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise fail(f"{where} must be a list of months written YYYY-MM in brackets, {example}")
    months = []
    for value in raw:
        m = PERIOD.match(value) if isinstance(value, str) else None
        if not m or not FIRST_YEAR <= int(m.group(1)) <= LAST_YEAR:
            raise fail(f"{where}: {value!r} is not a month written YYYY-MM, {example}")
        if value in months:
            raise fail(f"{where}: {value} is listed twice")
        months.append(value)
    return tuple(sorted(months))


def default_config_text() -> str:
    """The embedded default ``network.toml``."""
    return (resources.files("engine") / "data" / "network.toml").read_text(encoding="utf-8")


def parse_network(text: str, source: str = CONFIG_FILE) -> Network:
    """Read and check a network configuration."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{source}: not valid TOML ({exc})", hint="Fix the file and run again."
        ) from None

    def fail(msg: str) -> ConfigError:
        return ConfigError(f"{source}: {msg}", hint="Fix the file and run again.")

    units = []
    codes: set[str] = set()  # a network of thousands of units is checked in linear time
    for raw in data.get("units", []):
        code = str(raw.get("code", "")).strip()
        if not _UNIT_CODE.match(code):
            raise fail(f"unit code '{code}' must be 1 to 12 letters or digits")
        if code in codes:
            raise fail(f"unit code {code} is listed twice")
        codes.add(code)
        units.append(
            Unit(
                code,
                str(raw.get("name", code)).strip(),
                str(raw.get("security", "")),
                _rebase(raw.get("rebase"), f"unit {code} rebase", fail),
            )
        )
    if not units:
        raise fail("no [[units]] listed")
    scale = []
    for raw in data.get("scale", []):
        label = str(raw.get("label", "")).strip()
        if not label:
            raise fail("a [[scale]] entry has no label")
        scale.append(
            ScaleLabel(label, int(raw.get("points", 0)), bool(raw.get("applicable", True)))
        )
    if len({s.label.casefold() for s in scale}) != len(scale) or len(scale) < 2:
        raise fail("the [[scale]] labels must be at least two, all different")
    rag = data.get("rag", {})
    green, amber = float(rag.get("green", 80)), float(rag.get("amber", 50))
    if not 0 <= amber <= green <= 100:
        raise fail("[rag] needs 0 <= amber <= green <= 100")
    outputs = data.get("outputs", {})
    spc = data.get("spc", {})
    if not isinstance(spc, dict):
        raise fail("spc must be a table: [spc] on a line of its own, then rebase = [...]")
    return Network(
        name=str(data.get("name", "SeQuIn network")),
        units=tuple(units),
        scale=tuple(scale),
        green=green,
        amber=amber,
        return_instructions=str(data.get("return_instructions", "")),
        due_day=_due_day(data, fail),
        sheet_password=str(data.get("sheet_password", "")),
        bank_version=str(data.get("bank_version", "")),
        show_unit_names=bool(outputs.get("show_unit_names", False)),
        show_ranking=bool(outputs.get("show_ranking", False)),
        contact=str(outputs.get("contact", "")).strip(),
        rebase=_rebase(spc.get("rebase"), "[spc] rebase", fail),
        extra=data,
    )


def check_period(period: str) -> str:
    """Return ``period`` if it is a month ``YYYY-MM`` from 2000 on, else raise UsageError."""
    m = PERIOD.match(period or "")
    if not m or not FIRST_YEAR <= int(m.group(1)) <= LAST_YEAR:
        raise UsageError(
            f"period '{period}' is not a month",
            hint="Write it as YYYY-MM with a year from 2000 on, e.g. 2026-11.",
        )
    return period


def check_units(network: Network, codes: list[str] | tuple[str, ...]) -> None:
    """Raise UsageError naming any code that is not a unit of ``network``."""
    unknown = [c for c in codes if network.unit(c) is None]
    if unknown:
        raise UsageError(
            f"unit {', '.join(unknown)} is not in the network",
            hint="Units: " + ", ".join(u.code for u in network.units),
        )


def secret_fingerprint(secret: bytes) -> str:
    """What the ledger keeps of the secret: enough to tell it from another, nothing to sign with."""
    return hashlib.sha256(secret).hexdigest()[:16]


def is_home(root: Path | str) -> bool:
    """True for a folder with ``network.toml`` or the engine's own state.

    The state is the ledger, the secret, or both ``inbox/`` and ``outbox/``
    (as in the repository, which is a home with the embedded default network).
    """
    root = Path(root)
    try:
        if not root.is_dir():
            return False
        if (
            (root / CONFIG_FILE).is_file()
            or (root / LEDGER_FILE).exists()
            or (root / SECRET_FILE).exists()
        ):
            return True
        return (root / "inbox").is_dir() and (root / "outbox").is_dir()
    except OSError:
        return False


def _is_new_folder(root: Path) -> bool:
    """A folder that does not exist yet, or exists and is empty."""
    try:
        return not root.exists() or (root.is_dir() and next(root.iterdir(), None) is None)
    except OSError:
        return False


def not_a_home(root: Path | str) -> ConfigError:
    """The refusal for a folder that is not a home, saying why."""
    root = Path(root).absolute()
    if not root.exists():
        why = "there is no such folder"
    elif not root.is_dir():
        why = "it is a file, not a folder"
    else:
        why = f"it has no {CONFIG_FILE}, no ledger, no secret and no inbox/ and outbox/ folders"
    return ConfigError(
        f"{root} is not a SeQuIn home ({why})",
        hint=f"Run 'sequin init {root}' to make one, or check --home / SEQUIN_HOME.",
    )


def open_home(root: Path | str, *, allow_open_secret: bool = False, new_ok: bool = False) -> Home:
    """The home at ``root``, refusing a folder that is not one (nothing is created).

    With ``new_ok`` (the demo) a folder that does not exist yet or is empty is
    accepted as a new home too.
    """
    path = Path(root)
    if is_home(path) or (new_ok and _is_new_folder(path)):
        return Home(path, allow_open_secret=allow_open_secret)
    raise not_a_home(path)


def ledger_error(path: Path | str, exc: sqlite3.Error) -> SequinError:
    """A plain refusal for an SQLite error on the ledger, by what went wrong."""
    name = getattr(exc, "sqlite_errorname", "")
    text = str(exc)
    folder = Path(path).parent
    if name == "SQLITE_FULL" or "disk is full" in text:
        return SequinError(
            f"the disk holding {folder} is full (the ledger could not be written)",
            hint="Free some space on that disk, then run the command again; nothing was lost.",
        )
    if name in ("SQLITE_BUSY", "SQLITE_LOCKED") or "locked" in text:
        return SequinError(
            f"the ledger {path} is busy ({text})",
            hint="Another program has it open: close it (or wait), then run again.",
        )
    if (
        name in ("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH")
        or "readonly" in text
        or "unable to open" in text
    ):
        return ConfigError(
            f"the ledger {path} cannot be opened for writing ({text})",
            hint=f"Check that you may write to {folder} and to the ledger file.",
        )
    return ConfigError(
        f"the ledger {path} is damaged ({text})",
        hint="Stop the engine and put back ledger.sqlite from your latest backup (the archive/ folder "
        "keeps every accepted original); 'sequin doctor' then shows what is missing.",
    )


class Home:
    """A network home folder."""

    def __init__(self, root: Path | str, *, allow_open_secret: bool = False):
        self.root = Path(root).resolve()
        self.allow_open_secret = allow_open_secret
        self._network: Network | None = None
        self._secret: tuple[tuple, bytes] | None = None  # (file identity, value) once checked
        self._ledger_checked = False  # the integrity check runs once per Home

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_FILE

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def outbox(self) -> Path:
        return self.root / "outbox"

    @property
    def archive(self) -> Path:
        return self.root / "archive"

    @property
    def ledger_path(self) -> Path:
        return self.root / LEDGER_FILE

    @property
    def secret_path(self) -> Path:
        return self.root / SECRET_FILE

    @property
    def banks_dir(self) -> Path:
        return self.root / "banks"

    @property
    def network(self) -> Network:
        """The home's network, or the embedded default when it has no config file."""
        if self._network is None:
            if self.config_path.exists():
                try:  # utf-8-sig: Notepad may have saved it with a byte order mark
                    text = self.config_path.read_text(encoding="utf-8-sig")
                except UnicodeDecodeError:
                    raise ConfigError(
                        f"{self.config_path} is not UTF-8 text",
                        hint="Save it as UTF-8 and run again.",
                    ) from None
                self._network = parse_network(text, str(self.config_path))
            else:
                self._network = parse_network(default_config_text(), "embedded default network")
        return self._network

    def bank(self, version: str = "") -> Bank:
        """A question bank known to this home (the configured or newest by default)."""
        return load_bank(version or self.network.bank_version, self.banks_dir)

    def newest_generated(self) -> str | None:
        """The newest month whose workbooks were generated (``outbox/YYYY-MM/workbooks``), or None."""
        try:
            names = os.listdir(self.outbox)
        except OSError:
            return None
        months = [n for n in names if PERIOD.match(n) and (self.outbox / n / "workbooks").is_dir()]
        return max(months) if months else None

    def ensure_folders(self) -> None:
        """Create inbox, outbox and archive if missing."""
        for folder in (self.inbox, self.outbox, self.archive):
            folder.mkdir(parents=True, exist_ok=True)

    def archive_has_files(self) -> bool:
        """True if ``archive/`` holds at least one accepted original."""
        try:
            return any(
                f.suffix == ".xlsx"
                for d in self.archive.iterdir()
                if d.is_dir()
                for f in d.iterdir()
            )
        except OSError:
            return False

    def _read_secret(self) -> tuple[tuple, bytes] | None:
        """The secret file's identity and value, or None when there is none.

        A byte order mark, a Windows line ending or spaces around the value
        (a file restored through Notepad) are forgiven.
        """
        path = self.secret_path
        try:
            st = path.stat()
        except FileNotFoundError:
            return None
        if os.name == "posix" and not self.allow_open_secret:
            mode = stat.S_IMODE(st.st_mode)
            if mode & 0o077:
                raise ConfigError(
                    f"the signing secret {path} can be read by other users (mode {mode:o})",
                    hint=f"Run 'chmod 600 {path}', or pass --allow-open-secret if you accept the risk.",
                )
        raw = path.read_bytes()
        try:
            if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                text = raw.decode("utf-16")
            else:
                text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = ""
        value = text.strip()
        if len(value) < 32 or not value.isascii() or any(c.isspace() for c in value):
            raise ConfigError(
                f"the signing secret {path} is not a valid secret (too short or not plain text)",
                hint="Put back .sequin-secret from your backup. Only in a home that has never sent out "
                "a workbook may you delete it and run 'sequin init' for a new one.",
            )
        return (st.st_ino, st.st_size, st.st_mtime_ns), value.encode("ascii")

    def secret(self) -> bytes:
        """The signing secret; never created here (only ``init_home`` and the demo make one).

        Refuses a secret that other users can read, unless the home was opened
        with ``allow_open_secret``: anyone who can read it can forge returns.
        Refuses a missing secret, and one that is not the secret the ledger
        was started with: every workbook already sent is signed with that one.
        """
        found = self._read_secret()
        if found is None:
            if self.ledger_path.exists() or self.archive_has_files():
                self.open_ledger().close()  # refuses, saying how to restore the secret
            raise ConfigError(
                f"there is no signing secret ({SECRET_FILE}) in {self.root}",
                hint=f"If this home has sent workbooks to units, put back {SECRET_FILE} from your backup; "
                f"for a new home, run 'sequin init {self.root}'.",
            )
        if self._secret is None or self._secret[0] != found[0]:
            if self.ledger_path.exists() or self.archive_has_files():
                self._secret = None
                self.open_ledger().close()  # checks the ledger and the secret's fingerprint
            self._secret = found
        return found[1]

    def create_secret(self) -> bytes:
        """Make the signing secret of a new home, owner-only (for ``init_home`` and the demo).

        Refuses when the ledger shows that workbooks were signed with a secret
        that is now missing: a new one would make every one of them fail.
        """
        path = self.secret_path
        if not path.exists():
            if self.ledger_path.exists() or self.archive_has_files():
                self.open_ledger().close()  # refuses if the ledger knew another secret
            self.root.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                try:
                    with os.fdopen(fd, "w", encoding="ascii") as fh:
                        fh.write(secrets.token_hex(32) + "\n")
                except BaseException:
                    path.unlink(missing_ok=True)  # never leave half a secret behind
                    raise
        return self.secret()

    def open_ledger(self):
        """The home's ledger (an ``engine.ledger.Ledger``), opened once it can be trusted.

        Refuses (ConfigError, with what to do) a ledger that is missing or
        emptied while ``archive/`` holds accepted originals, a damaged ledger,
        and a signing secret that is missing or not the one the ledger was
        started with. The secret's fingerprint is recorded the first time.
        A home with no ledger and an empty archive gets a new ledger.
        """
        from .ledger import Ledger

        path = self.ledger_path
        if not path.exists() and self.archive_has_files():
            raise ConfigError(
                f"the ledger {path} is missing, but archive/ holds accepted returns",
                hint=f"Put back {LEDGER_FILE} from your latest backup (a new ledger would start the "
                "history again and count those returns as never received); then run 'sequin doctor'.",
            )
        try:
            ledger = Ledger(path)
        except sqlite3.Error as exc:
            raise ledger_error(path, exc) from None
        try:
            self._check_ledger(ledger)
        except sqlite3.Error as exc:
            ledger.close()
            raise ledger_error(path, exc) from None
        except BaseException:
            ledger.close()
            raise
        return ledger

    def _check_ledger(self, ledger) -> None:
        """Integrity (once per Home), history against the archive, secret against its fingerprint."""
        path = self.ledger_path
        if not self._ledger_checked:
            problem = ledger.quick_check()
            if problem != "ok":
                raise ledger_error(path, sqlite3.DatabaseError(problem))
            self._ledger_checked = True
        if self.archive_has_files() and ledger.return_count() == 0:
            raise ConfigError(
                f"the ledger {path} holds no returns, but archive/ holds accepted ones",
                hint=f"The ledger was emptied or replaced: put back {LEDGER_FILE} from your latest backup; "
                "then run 'sequin doctor'.",
            )
        stored = ledger.get_meta(FINGERPRINT_KEY)
        found = self._read_secret()
        if found is None:
            drops = ledger.drop_count()
            if stored or drops:
                raise ConfigError(
                    f"the signing secret {self.secret_path} is missing, but the ledger holds {drops} "
                    "file(s) taken in with it",
                    hint=f"Put back {SECRET_FILE} from your backup (the same file, e.g. with 'cp BACKUP/"
                    f"{SECRET_FILE} {self.root}/' and 'chmod 600'). Do not make a new one: every "
                    "workbook already sent to units is signed with the old secret and would be "
                    "rejected as made by another network.",
                )
            return
        fingerprint = secret_fingerprint(found[1])
        if stored is None:
            ledger.set_meta(FINGERPRINT_KEY, fingerprint)
        elif stored != fingerprint:
            raise ConfigError(
                f"the signing secret {self.secret_path} is not the one this home's ledger was started with",
                hint=f"Put back the original {SECRET_FILE} from your backup: every workbook already sent "
                "to units is signed with it and would be rejected as made by another network. "
                "'sequin doctor' checks the secret against the ledger.",
            )

    def token(self, unit: str, period: str, bank_version: str, form: str = T.UNIT_FORM) -> str:
        """The token that ties a workbook to its form, unit, period and bank version."""
        return make_token(self.secret(), unit, period, bank_version, form)


def make_token(
    secret: bytes, unit: str, period: str, bank_version: str, form: str = T.UNIT_FORM
) -> str:
    """HMAC-SHA256 over the form, unit, period and bank version, as hex.

    The form (see :mod:`engine.template`) is part of what is signed, so a family
    and friends workbook can never pass as a unit's return, nor the other way
    round, nor one unit form as another. Workbooks of the first form (``unit/1``)
    were signed without it, and still verify as they were issued.
    """
    if form == T.FORM_UNIT_1:
        message = f"sequin|{unit}|{period}|{bank_version}"
    else:
        message = f"sequin|{form}|{unit}|{period}|{bank_version}"
    return hmac.new(secret, message.encode(), hashlib.sha256).hexdigest()


def verify_token(
    secret: bytes, token: str, unit: str, period: str, bank_version: str, form: str = T.UNIT_FORM
) -> bool:
    """True if ``token`` was made with this secret for this form, unit, period and bank version."""
    expected = make_token(secret, unit, period, bank_version, form)
    return hmac.compare_digest(expected, str(token or "").strip().lower())


def init_home(root: Path | str) -> Home:
    """Create a home: default config (unless one exists), folders and secret.

    In an existing home this keeps what is there; it refuses to make a new
    secret where the ledger shows that one was lost (see ``Home.create_secret``).
    """
    home = Home(root)
    home.root.mkdir(parents=True, exist_ok=True)
    if not home.config_path.exists():
        home.config_path.write_text(default_config_text(), encoding="utf-8")
    home.ensure_folders()
    home.create_secret()
    return home
