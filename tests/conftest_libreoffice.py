"""Pytest plugin: one real headless LibreOffice shared by a test session.

Load it with ``pytest_plugins = ["tests.conftest_libreoffice"]`` in the main
``conftest.py`` or with ``pytest -p tests.conftest_libreoffice``; it also works
imported as plain ``conftest_libreoffice`` with ``tests/`` on ``sys.path``.

Fixtures and helpers:

* ``libreoffice`` (session scope): a started :class:`libreoffice.LibreOffice`,
  closed at the end of the session.
* :func:`require_libreoffice`: call at the start of a test that needs
  ``soffice`` without the running instance (e.g. PDF rendering).

Without LibreOffice these skip, except when the environment variable ``CI`` is
``true``: there the real-spreadsheet tests must run, so they fail instead.

It also registers the ``slow`` marker.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

_TESTS_DIR = str(Path(__file__).resolve().parent)
if _TESTS_DIR not in sys.path:
    sys.path.append(_TESTS_DIR)
# One module object whichever name it was imported under first.
sys.modules.setdefault("conftest_libreoffice", sys.modules[__name__])

from libreoffice import LibreOffice, pdftoppm_available, soffice_available

__all__ = [
    "libreoffice",
    "pytest_configure",
    "require_libreoffice",
    "require_pdftoppm",
    "running_in_ci",
]


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers this plugin's tests use."""
    config.addinivalue_line(
        "markers", "slow: drives a real LibreOffice or another slow external tool"
    )


def running_in_ci() -> bool:
    """True when the ``CI`` environment variable is ``true``."""
    return os.environ.get("CI", "").strip().lower() == "true"


def _require(available: bool, what: str) -> None:
    """Skip (or, in CI, fail) the current test when ``what`` is missing."""
    if available:
        return
    if running_in_ci():
        pytest.fail(f"{what} is required when CI=true but is not available", pytrace=False)
    pytest.skip(f"{what} not installed")


def require_pyphen():
    """The pyphen module (a test dependency), or a skip; in CI a failure, never a silent skip."""
    try:
        import pyphen
    except ImportError:
        _require(False, "pyphen (pip install -e '.[test]')")
    return pyphen


def require_libreoffice() -> None:
    """Skip the test without LibreOffice (``soffice`` and ``python3-uno``); fail in CI."""
    _require(soffice_available(), "LibreOffice")


def require_pdftoppm() -> None:
    """Skip the test without ``pdftoppm`` (poppler-utils); fail in CI."""
    _require(pdftoppm_available(), "pdftoppm")


@pytest.fixture(scope="session")
def libreoffice():
    """A running headless LibreOffice for the whole session."""
    require_libreoffice()
    office = LibreOffice()
    office.start()
    try:
        yield office
    finally:
        office.close()
