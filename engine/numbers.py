"""The one rounding rule: every percentage is shown as Excel displays it.

Excel (and LibreOffice) display a number under a ``0.0`` format by rounding the
value half away from zero: 13 of 16 points, 81.25 %, shows as 81.3 %, where
Python's ``round()`` and ``format()`` round half to even on the binary float and
give 81.2 %. The unit's own Summary sheet is computed and shown by the
spreadsheet, so everything the engine says (receipts, ``validate``, ``status``,
``chase``, every output and CSV) rounds the same way, here and only here.

A score is rounded from its exact fraction (:func:`percent_of`); any other
figure (a median, a difference) from its shortest decimal form, which is what
a spreadsheet shows for the same stored number. RAG is never decided on a
rounded value: :mod:`engine.scoring` compares the exact fraction.

Example::

    percent_of(13, 16)          # 81.3
    rounded(56.25)              # 56.3
    rounded(-1.25)              # -1.3
    percent_text(81.25)         # '81.3%'
    points_text(-1.25)          # '-1.3'
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

PLACES = 1  # decimal places every percentage is shown with


def _quantum(places: int) -> Decimal:
    return Decimal(1).scaleb(-places)


def rounded(value: float | int | Fraction | Decimal, places: int = PLACES) -> float:
    """``value`` rounded half away from zero to ``places`` decimals, as a spreadsheet shows it.

    ``ROUND_HALF_UP`` in :mod:`decimal` rounds ties away from zero (-1.25 to -1.3).
    A float is taken at its shortest decimal form (``repr``), so 81.25 is a tie
    and 0.1 + 0.2 is 0.3, as a spreadsheet's 15 significant digits show them.
    """
    if isinstance(value, Fraction):
        exact = Decimal(value.numerator) / Decimal(value.denominator)
        # Decimal division keeps 28 digits: a fraction that only looks like a tie
        # (1/3 style) cannot be rounded the wrong way at one decimal.
        d = exact
    elif isinstance(value, Decimal):
        d = value
    else:
        d = Decimal(repr(float(value))) if isinstance(value, float) else Decimal(value)
    result = float(d.quantize(_quantum(places), rounding=ROUND_HALF_UP))
    return 0.0 if result == 0 else result  # never "-0.0"


def percent_of(points: int, available: int, places: int = PLACES) -> float | None:
    """``points`` of ``available`` as a percentage rounded from the exact fraction."""
    if not available:
        return None
    return rounded(Fraction(100 * points, available), places)


def number_text(value: float | int | Fraction | None, places: int = PLACES, missing="-") -> str:
    """``value`` rounded by the rule and written with ``places`` decimals."""
    if value is None:
        return missing
    return f"{rounded(value, places):.{places}f}"


def percent_text(
    value: float | int | Fraction | None, places: int = PLACES, missing: str = "-", sep: str = ""
) -> str:
    """``81.3%`` (``sep=" "``: ``81.3 %``); ``missing`` for ``None``."""
    if value is None:
        return missing
    return f"{number_text(value, places)}{sep}%"


def points_text(value: float | int | Fraction | None, places: int = PLACES, missing="-") -> str:
    """A signed change in percentage points: ``+1.3``, ``-0.4``, ``0.0``."""
    if value is None:
        return missing
    r = rounded(value, places)
    return f"{r:+.{places}f}" if r else f"{0:.{places}f}"
