"""A network home: configuration, folders, ledger location and signing secret.

A home is a folder holding ``network.toml``, ``inbox/``, ``outbox/``, the
ledger and the secret. A folder without ``network.toml`` (such as a fresh
clone of the repository) works as a home with the embedded default network.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import stat
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from .bank import Bank, load_bank
from .errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SECRET_FILE = ".sequin-secret"
CONFIG_FILE = "network.toml"
LEDGER_FILE = "ledger.sqlite"
PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
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


@dataclass(frozen=True)
class Network:
    """The network's configuration (``network.toml``)."""

    name: str
    units: tuple[Unit, ...]
    scale: tuple[ScaleLabel, ...]
    green: float = 80.0
    amber: float = 50.0
    return_instructions: str = ""
    sheet_password: str = ""
    bank_version: str = ""
    show_unit_names: bool = False
    show_ranking: bool = False
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def max_points(self) -> int:
        """Points for the best rating."""
        return max(s.points for s in self.scale if s.applicable)

    @property
    def labels(self) -> list[str]:
        """The drop-down labels in order."""
        return [s.label for s in self.scale]

    def unit(self, code: str) -> Unit | None:
        """The unit with this code, or None."""
        for u in self.units:
            if u.code == code:
                return u
        return None

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


def default_config_text() -> str:
    """The embedded default ``network.toml``."""
    return (resources.files("engine") / "data" / "network.toml").read_text(encoding="utf-8")


def parse_network(text: str, source: str = CONFIG_FILE) -> Network:
    """Read and check a network configuration."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML ({exc})", hint="Fix the file and run again.")

    def fail(msg: str) -> ConfigError:
        return ConfigError(f"{source}: {msg}", hint="Fix the file and run again.")

    units = []
    for raw in data.get("units", []):
        code = str(raw.get("code", "")).strip()
        if not _UNIT_CODE.match(code):
            raise fail(f"unit code '{code}' must be 1 to 12 letters or digits")
        if any(u.code == code for u in units):
            raise fail(f"unit code {code} is listed twice")
        units.append(Unit(code, str(raw.get("name", code)).strip(), str(raw.get("security", ""))))
    if not units:
        raise fail("no [[units]] listed")
    scale = []
    for raw in data.get("scale", []):
        label = str(raw.get("label", "")).strip()
        if not label:
            raise fail("a [[scale]] entry has no label")
        scale.append(ScaleLabel(label, int(raw.get("points", 0)), bool(raw.get("applicable", True))))
    if len({s.label.casefold() for s in scale}) != len(scale) or len(scale) < 2:
        raise fail("the [[scale]] labels must be at least two, all different")
    rag = data.get("rag", {})
    green, amber = float(rag.get("green", 80)), float(rag.get("amber", 50))
    if not 0 <= amber <= green <= 100:
        raise fail("[rag] needs 0 <= amber <= green <= 100")
    outputs = data.get("outputs", {})
    return Network(
        name=str(data.get("name", "SeQuIn network")),
        units=tuple(units),
        scale=tuple(scale),
        green=green,
        amber=amber,
        return_instructions=str(data.get("return_instructions", "")),
        sheet_password=str(data.get("sheet_password", "")),
        bank_version=str(data.get("bank_version", "")),
        show_unit_names=bool(outputs.get("show_unit_names", False)),
        show_ranking=bool(outputs.get("show_ranking", False)),
        extra=data,
    )


def check_period(period: str) -> str:
    """Return ``period`` if it looks like ``YYYY-MM``, else raise ConfigError."""
    if not PERIOD.match(period or ""):
        raise ConfigError(f"period '{period}' is not a month", hint="Write it as YYYY-MM, e.g. 2026-11.")
    return period


class Home:
    """A network home folder."""

    def __init__(self, root: Path | str, *, allow_open_secret: bool = False):
        self.root = Path(root).resolve()
        self.allow_open_secret = allow_open_secret
        self._network: Network | None = None

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
                text = self.config_path.read_text(encoding="utf-8")
                self._network = parse_network(text, str(self.config_path))
            else:
                self._network = parse_network(default_config_text(), "embedded default network")
        return self._network

    def bank(self, version: str = "") -> Bank:
        """A question bank known to this home (the configured or newest by default)."""
        return load_bank(version or self.network.bank_version, self.banks_dir)

    def ensure_folders(self) -> None:
        """Create inbox, outbox and archive if missing."""
        for folder in (self.inbox, self.outbox, self.archive):
            folder.mkdir(parents=True, exist_ok=True)

    def secret(self, create: bool = True) -> bytes:
        """The signing secret, created with owner-only permissions on first use.

        Refuses a secret that other users can read, unless the home was opened
        with ``allow_open_secret``: anyone who can read it can forge returns.
        """
        path = self.secret_path
        if not path.exists():
            if not create:
                raise ConfigError(f"no signing secret in {self.root}", hint="Run 'sequin init'.")
            self.root.mkdir(parents=True, exist_ok=True)
            value = secrets.token_hex(32)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "w", encoding="ascii") as fh:
                    fh.write(value + "\n")
        if os.name == "posix" and not self.allow_open_secret:
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode & 0o077:
                raise ConfigError(
                    f"the signing secret {path} can be read by other users (mode {mode:o})",
                    hint=f"Run 'chmod 600 {path}', or pass --allow-open-secret if you accept the risk.",
                )
        value = path.read_text(encoding="ascii").strip()
        if len(value) < 32:
            raise ConfigError(f"the signing secret {path} is too short", hint="Delete it and run 'sequin init'.")
        return value.encode("ascii")

    def token(self, unit: str, period: str, bank_version: str) -> str:
        """The token that ties a workbook to its unit, period and bank version."""
        return make_token(self.secret(), unit, period, bank_version)


def make_token(secret: bytes, unit: str, period: str, bank_version: str) -> str:
    """HMAC-SHA256 over unit, period and bank version, as hex."""
    message = f"sequin|{unit}|{period}|{bank_version}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def verify_token(secret: bytes, token: str, unit: str, period: str, bank_version: str) -> bool:
    """True if ``token`` was made with this secret for this unit, period and bank version."""
    expected = make_token(secret, unit, period, bank_version)
    return hmac.compare_digest(expected, str(token or "").strip().lower())


def init_home(root: Path | str) -> Home:
    """Create a home: default config (unless one exists), folders and secret."""
    home = Home(root)
    home.root.mkdir(parents=True, exist_ok=True)
    if not home.config_path.exists():
        home.config_path.write_text(default_config_text(), encoding="utf-8")
    home.ensure_folders()
    home.secret(create=True)
    return home
