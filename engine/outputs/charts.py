"""Charts for the benchmark outputs: native Excel charts and PNG images for board papers.

Native charts are built with xlsxwriter from cells already written on a
worksheet, so they stay live in Excel and render in LibreOffice. PNG images
are drawn with matplotlib's Agg renderer (no display needed); matplotlib is
imported only when an image is drawn.

Colours come from the Okabe-Ito palette (``workbook_templates/reports.toml``),
which stays distinguishable with the common kinds of colour blindness; process
control charts use Making Data Count's own three (improvement blue, concern
orange, common cause grey), as boards know them. Every chart has a title that
says what it shows and a label on every axis; RAG and SPC colours always come
with a word, a label, a marker shape or a hatching pattern.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

# A cell range on a worksheet: (sheet name, first row, first col, last row, last col), 0-based.
Range = tuple[str, int, int, int, int]

FONT = "Calibri"
PERCENT_AXIS = '0"%"'
DPI = 100


@dataclass(frozen=True)
class Palette:
    """Chart colours (Okabe-Ito by default)."""

    unit: str = "#0072B2"
    network: str = "#E69F00"
    range: str = "#56B4E9"
    coproduction: str = "#CC79A7"
    other: str = "#8C8C8C"  # other units, never named: a neutral grey beside the unit's own colour
    band: str = "#D0D0D0"  # the lowest-to-highest range behind the markers
    green: str = "#009E73"
    amber: str = "#E69F00"
    red: str = "#D55E00"
    text: str = "#000000"
    # Process control charts, as Making Data Count colours them.
    improvement: str = "#289DE0"  # special cause, improvement: blue
    concern: str = "#FAB428"  # special cause, concern: orange
    common: str = "#7B7D7D"  # common cause: grey

    @classmethod
    def from_dict(cls, values: dict) -> Palette:
        known = {k: str(v) for k, v in values.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def _font(size: int = 11, bold: bool = False) -> dict:
    return {"name": FONT, "size": size, "bold": bold}


def diamond(fill: str, border: str, size: int = 9) -> dict:
    """A diamond marker: how every chart marks a point it singles out (a median, a special cause)."""
    return {"type": "diamond", "size": size, "fill": {"color": fill}, "border": {"color": border}}


def _percent_axis(title: str, low: float = 0, high: float = 100, step: float = 20) -> dict:
    return {
        "name": title,
        "name_font": _font(11, True),
        "num_font": _font(11),
        "min": low,
        "max": high,
        "major_unit": step,
        "num_format": PERCENT_AXIS,
        "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}},
    }


def fitted_axis(
    values: Sequence[float | None], floor: int = 0, ceiling: int = 100
) -> tuple[float, float, float]:
    """(lowest, highest, step between gridlines) of a value axis that fits ``values``.

    As NHSRplotthedots draws a process control chart: the axis spans the values
    (points, limits, target) with a margin of a tenth of their range (at least 1)
    on each side, rounded out to a whole step, and stays within ``floor`` to
    ``ceiling`` (0 % to 100 %, the range a score can take). At most 8 steps.
    """
    known = [v for v in values if v is not None]
    if not known:
        return floor, ceiling, 20
    lo, hi = min(known), max(known)
    margin = max((hi - lo) * 0.1, 1.0)
    lo, hi = max(floor, lo - margin), min(ceiling, hi + margin)
    step = next(s for s in (1, 2, 5, 10, 20, 25, 50) if (hi - lo) / s <= 8)
    low = max(floor, math.floor(lo / step) * step)
    high = min(ceiling, math.ceil(hi / step) * step)
    return low, high, step


def _category_axis(title: str, rotate: int = 0) -> dict:
    axis = {"name": title, "name_font": _font(11, True), "num_font": _font(11)}
    if rotate:
        axis["num_font"] = {**_font(11), "rotation": rotate}
    return axis


def _title(text: str) -> dict:
    return {"name": text, "name_font": _font(13, True), "overlay": False}


def bars_against_network(
    wb,
    *,
    title: str,
    categories: Range,
    values: Range,
    network: Range,
    values_name: str,
    network_name: str,
    x_title: str,
    y_title: str = "Score (%)",
    palette: Palette = Palette(),
    size: tuple[int, int] = (900, 420),
    rotate: int = 0,
):
    """Columns for each category (units or areas) with the network figure as markers.

    Used per area (every unit against the network median) and per unit (the
    unit's profile across the areas against the network median).
    """
    chart = wb.add_chart({"type": "column"})
    chart.add_series(
        {
            "name": values_name,
            "categories": list(categories),
            "values": list(values),
            "fill": {"color": palette.unit},
            "border": {"none": True},
            "gap": 60,
        }
    )
    line = wb.add_chart({"type": "line"})
    line.add_series(
        {
            "name": network_name,
            "categories": list(categories),
            "values": list(network),
            "line": {"none": True},
            "marker": diamond(palette.network, palette.text),
        }
    )
    chart.combine(line)
    chart.set_title(_title(title))
    chart.set_x_axis(_category_axis(x_title, rotate))
    chart.set_y_axis(_percent_axis(y_title))
    chart.set_legend({"position": "bottom", "font": _font(11)})
    chart.set_size({"width": size[0], "height": size[1]})
    return chart


def trend_lines(
    wb,
    *,
    title: str,
    categories: Range,
    series: Sequence[tuple],
    x_title: str = "Month",
    y_title: str = "Score (%)",
    size: tuple[int, int] = (760, 380),
    rotate: int | None = None,
):
    """A line per series over the months.

    ``series``: (name, values, colour, dash type), optionally followed by the line
    width in points (2.5 when left out; a thick line picks out the unit's own).
    """
    chart = wb.add_chart({"type": "line"})
    markers = ("circle", "square", "triangle", "diamond")
    for i, (name, values, colour, dash, *rest) in enumerate(series):
        width = rest[0] if rest else 2.5
        chart.add_series(
            {
                "name": name,
                "categories": list(categories),
                "values": list(values),
                "line": {"color": colour, "width": width, "dash_type": dash},
                "marker": {
                    "type": markers[i % len(markers)],
                    "size": 9 if width > 3 else 6,
                    "fill": {"color": colour},
                    "border": {"color": colour},
                },
            }
        )
    chart.set_title(_title(title))
    if rotate is None:
        months = categories[3] - categories[1] + 1
        rotate = -45 if months * 70 > size[0] else 0
    chart.set_x_axis(_category_axis(x_title, rotate))
    chart.set_y_axis(_percent_axis(y_title))
    chart.set_legend({"position": "bottom", "font": _font(11)})
    chart.set_size({"width": size[0], "height": size[1]})
    return chart


def unit_in_range(
    wb,
    *,
    title: str,
    categories: Range,
    lows: Range,
    spans: Range,
    medians: Range,
    values: Range,
    values_name: str = "Your unit",
    x_title: str = "Area",
    y_title: str = "Score (%)",
    palette: Palette = Palette(),
    size: tuple[int, int] = (760, 460),
    rotate: int = -45,
):
    """Per category, the range of every unit (a grey bar from the lowest to the highest),
    the network median (a diamond) and the unit's own score (a large dot in a strong colour).

    The bar stands on an invisible column as high as the lowest unit, so ``spans`` is
    the highest minus the lowest. Other units are never shown one by one.
    """
    chart = wb.add_chart({"type": "column", "subtype": "stacked"})
    chart.add_series(
        {
            "name": "Lowest unit",
            "categories": list(categories),
            "values": list(lows),
            "fill": {"none": True},
            "border": {"none": True},
            "gap": 120,
        }
    )
    chart.add_series(
        {
            "name": "Range of all units: lowest to highest",
            "categories": list(categories),
            "values": list(spans),
            "fill": {"color": palette.band},
            "border": {"color": "#595959", "width": 0.75},
            "gap": 120,
        }
    )
    line = wb.add_chart({"type": "line"})
    line.add_series(
        {
            "name": "Network median",
            "categories": list(categories),
            "values": list(medians),
            "line": {"none": True},
            "marker": diamond(palette.network, palette.text, size=10),
        }
    )
    line.add_series(
        {
            "name": values_name,
            "categories": list(categories),
            "values": list(values),
            "line": {"none": True},
            "marker": {
                "type": "circle",
                "size": 11,
                "fill": {"color": palette.unit},
                "border": {"color": palette.text, "width": 1},
            },
        }
    )
    chart.combine(line)
    chart.set_title(_title(title))
    chart.set_x_axis(_category_axis(x_title, rotate))
    chart.set_y_axis(_percent_axis(y_title))
    # The invisible column under each bar is not a series a reader needs to know about.
    chart.set_legend({"position": "bottom", "font": _font(11), "delete_series": [0]})
    chart.set_size({"width": size[0], "height": size[1]})
    return chart


def units_by_band(
    wb,
    *,
    title: str,
    categories: Range,
    others: Range,
    own: Range,
    own_band: int | None,
    others_name: str = "Other units (not named)",
    own_name: str = "Your unit",
    x_title: str = "Units (number)",
    y_title: str = "Overall score (%)",
    most: int = 1,
    palette: Palette = Palette(),
    size: tuple[int, int] = (440, 480),
):
    """How many units score in each band, as horizontal bars (lowest band at the bottom).

    The unit's own block comes first in each bar, in a strong colour and labelled
    ``own_name``; the other units follow in grey. ``own_band``: the index of the
    unit's band, if its score is counted.
    """
    chart = wb.add_chart({"type": "bar", "subtype": "stacked"})
    bands = categories[3] - categories[1] + 1
    own_series = {
        "name": own_name,
        "categories": list(categories),
        "values": list(own),
        "fill": {"color": palette.unit},
        "border": {"color": palette.text, "width": 1},
        "gap": 40,
    }
    if own_band is not None:
        # Black text reads on the blue block and on the grey one beside it if it runs over.
        own_series["data_labels"] = {
            "value": True,
            "position": "inside_base",
            "font": {**_font(11, True), "color": palette.text},
            "custom": [
                {"value": own_name} if i == own_band else {"delete": True} for i in range(bands)
            ],
        }
    chart.add_series(own_series)
    chart.add_series(
        {
            "name": others_name,
            "categories": list(categories),
            "values": list(others),
            "fill": {"color": palette.other},
            "border": {"none": True},
            "gap": 40,
        }
    )
    chart.set_title(_title(title))
    chart.set_y_axis(_category_axis(y_title))
    chart.set_x_axis(
        {
            "name": x_title,
            "name_font": _font(11, True),
            "num_font": _font(11),
            "min": 0,
            "max": max(2, most),
            "major_unit": max(1, math.ceil(most / 6)),
            "num_format": "0",
            "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}},
        }
    )
    chart.set_legend({"position": "bottom", "font": _font(11)})
    chart.set_size({"width": size[0], "height": size[1]})
    return chart


def medians_with_range(
    wb,
    *,
    title: str,
    categories: Range,
    medians: Range,
    lows: Range,
    highs: Range,
    x_title: str = "Area",
    y_title: str = "Score (%)",
    palette: Palette = Palette(),
    size: tuple[int, int] = (900, 420),
):
    """The network median per area as columns, with the lowest and highest unit as markers."""
    chart = wb.add_chart({"type": "column"})
    chart.add_series(
        {
            "name": "Network median",
            "categories": list(categories),
            "values": list(medians),
            "fill": {"color": palette.unit},
            "border": {"none": True},
            "gap": 80,
            "data_labels": {
                "value": True,
                "position": "inside_end",
                "num_format": '0"%"',
                "font": {**_font(11, True), "color": "#FFFFFF"},
            },
        }
    )
    line = wb.add_chart({"type": "line"})
    for name, values, marker, colour in (
        ("Lowest unit", lows, "triangle", palette.red),
        ("Highest unit", highs, "diamond", palette.green),
    ):
        line.add_series(
            {
                "name": name,
                "categories": list(categories),
                "values": list(values),
                "line": {"none": True},
                "marker": {
                    "type": marker,
                    "size": 8,
                    "fill": {"color": colour},
                    "border": {"color": palette.text},
                },
            }
        )
    chart.combine(line)
    chart.set_title(_title(title))
    chart.set_x_axis(_category_axis(x_title, -45))
    chart.set_y_axis(_percent_axis(y_title))
    chart.set_legend({"position": "bottom", "font": _font(11)})
    chart.set_size({"width": size[0], "height": size[1]})
    return chart


def _figure(
    width: float, height: float, *, left: float = 2.7, bottom: float = 1.3, top: float = 0.6
):
    """A figure with fixed margins in inches (cheaper than automatic layout, same every time)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    fig.subplots_adjust(
        left=left / width, right=1 - 0.3 / width, bottom=bottom / height, top=1 - top / height
    )
    return fig


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    # No 'Software' stamp: the image depends only on the data drawn.
    fig.savefig(buffer, format="png", metadata={"Software": None}, pil_kwargs={"compress_level": 1})
    return buffer.getvalue()


def _style_axis(ax, palette: Palette) -> None:
    ax.tick_params(labelsize=11, colors=palette.text)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _title_and_legend(fig, ax, title: str, ncol: int) -> None:
    # Title and legend belong to the figure, so long ones are not cut off by the axes.
    fig.suptitle(title, x=0.015, y=0.985, ha="left", va="top", fontsize=13, fontweight="bold")
    fig.legend(
        *ax.get_legend_handles_labels(),
        loc="lower center",
        bbox_to_anchor=(0.5, 0.0),
        ncol=ncol,
        fontsize=11,
        frameon=False,
    )


def _thresholds(ax, green: float, amber: float, palette: Palette) -> None:
    """The RAG thresholds as labelled vertical lines."""
    for value, word, style in ((amber, "Amber", (0, (2, 2))), (green, "Green", (0, (6, 3)))):
        ax.axvline(value, color="#444444", linestyle=style, linewidth=1.2, zorder=1)
        ax.annotate(
            f"{word} from {value:g}%",
            (value, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=10,
            color=palette.text,
        )


def units_by_area_png(
    *,
    title: str,
    areas: Sequence[str],
    scores: Sequence[Sequence[float]],
    medians: Sequence[float | None],
    green: float,
    amber: float,
    palette: Palette = Palette(),
) -> bytes:
    """Each unit's score in each area as a dot, with the network median as a bar mark."""
    fig = _figure(10, 0.5 * len(areas) + 2.3, bottom=1.2, top=0.8)
    ax = fig.add_subplot()
    ys = list(range(len(areas)))[::-1]
    first = True
    for y, values, m in zip(ys, scores, medians):
        n = len(values)
        # Spread dots a little up and down (deterministically) so equal scores stay visible.
        offsets = [((i * 7) % 9 - 4) * 0.05 for i in range(n)]
        ax.scatter(
            values,
            [y + o for o in offsets],
            s=28 if n < 100 else 10,
            color=palette.unit,
            alpha=0.75 if n < 100 else 0.35,
            edgecolors="white",
            linewidths=0.4,
            label="One unit" if first else None,
            zorder=2,
        )
        if m is not None:
            ax.plot(
                [m, m],
                [y - 0.38, y + 0.38],
                color=palette.network,
                linewidth=4,
                label="Network median" if first else None,
                zorder=3,
            )
        first = False
    _thresholds(ax, green, amber, palette)
    ax.set_yticks(ys, list(areas), fontsize=11)
    ax.set_xlim(-2, 102)
    ax.set_xlabel("Score (% of the best possible rating)", fontsize=11)
    ax.set_ylabel("Area", fontsize=11)
    _style_axis(ax, palette)
    _title_and_legend(fig, ax, title, 2)
    return _png(fig)


def network_trend_png(
    *,
    title: str,
    months: Sequence[str],
    medians: Sequence[float | None],
    lows: Sequence[float | None],
    highs: Sequence[float | None],
    coproduction: Sequence[float | None],
    palette: Palette = Palette(),
) -> bytes:
    """Network median over the months with its range (top), and the co-production share
    (bottom): two panels, each with its own axis, sharing the months."""
    fig = _figure(10, 7.4, left=1.0, bottom=1.7, top=0.6)
    top, bottom = fig.subplots(
        2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2], "hspace": 0.25}
    )
    xs = list(range(len(months)))
    band = [(x, lo, hi) for x, lo, hi in zip(xs, lows, highs) if lo is not None and hi is not None]
    if band:
        top.fill_between(
            [b[0] for b in band],
            [b[1] for b in band],
            [b[2] for b in band],
            color=palette.range,
            alpha=0.3,
            label="Range: lowest to highest unit",
        )
    pts = [(x, m) for x, m in zip(xs, medians) if m is not None]
    top.plot(
        [p[0] for p in pts],
        [p[1] for p in pts],
        color=palette.unit,
        linewidth=2.5,
        marker="o",
        label="Network median score",
    )
    cps = [(x, c) for x, c in zip(xs, coproduction) if c is not None]
    bottom.plot(
        [p[0] for p in cps],
        [p[1] for p in cps],
        color=palette.coproduction,
        linewidth=2,
        linestyle="--",
        marker="s",
        label="Area ratings agreed with a service user",
    )
    step = max(1, math.ceil(len(months) / 12))
    bottom.set_xticks(xs[::step], list(months)[::step], rotation=45, ha="right", fontsize=11)
    if len(xs) == 1:
        bottom.set_xlim(-0.5, 0.5)
    for ax, label in ((top, "Score (%)"), (bottom, "Area ratings (%)")):
        ax.set_ylim(0, 100)
        ax.set_ylabel(label, fontsize=11)
        _style_axis(ax, palette)
    bottom.set_xlabel("Month", fontsize=11)
    handles, labels = top.get_legend_handles_labels()
    more, more_labels = bottom.get_legend_handles_labels()
    fig.suptitle(title, x=0.015, y=0.985, ha="left", va="top", fontsize=13, fontweight="bold")
    fig.legend(
        handles + more,
        labels + more_labels,
        loc="lower center",
        bbox_to_anchor=(0.5, 0.0),
        ncol=3,
        fontsize=11,
        frameon=False,
    )
    return _png(fig)


def rag_counts_png(
    *,
    title: str,
    areas: Sequence[str],
    counts: Sequence[tuple[int, int, int]],
    palette: Palette = Palette(),
) -> bytes:
    """Stacked bars: how many units are Green, Amber and Red in each area (complete areas)."""
    fig = _figure(10, 0.45 * len(areas) + 2.3, bottom=1.2, top=0.6)
    ax = fig.add_subplot()
    ys = list(range(len(areas)))[::-1]
    left = [0] * len(areas)
    styles = (
        ("Green", palette.green, ""),
        ("Amber", palette.amber, "//"),
        ("Red", palette.red, "xx"),
    )
    for k, (word, colour, hatch) in enumerate(styles):
        widths = [c[k] for c in counts]
        bars = ax.barh(
            ys,
            widths,
            left=left,
            color=colour,
            hatch=hatch,
            edgecolor="white",
            height=0.65,
            label=word,
        )
        for bar, w in zip(bars, widths):
            if w:
                ax.text(
                    bar.get_x() + bar.get_width() / 2,
                    bar.get_y() + bar.get_height() / 2,
                    str(w),
                    ha="center",
                    va="center",
                    fontsize=11,
                    color="black",
                    bbox={
                        "boxstyle": "round,pad=0.15",
                        "facecolor": "white",
                        "edgecolor": "none",
                        "alpha": 0.85,
                    },
                )
        left = [a + b for a, b in zip(left, widths)]
    ax.set_yticks(ys, list(areas), fontsize=11)
    ax.set_xlabel("Number of units (areas completed)", fontsize=11)
    ax.set_ylabel("Area", fontsize=11)
    ax.set_xlim(0, max([1, *left]) * 1.02)
    _style_axis(ax, palette)
    _title_and_legend(fig, ax, title, 3)
    return _png(fig)
