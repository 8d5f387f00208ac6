"""The key charts as PNG images for board papers."""

from __future__ import annotations

from . import charts as C
from . import spc
from .figures import PeriodData
from .sheets import presentation


def chart_palette() -> C.Palette:
    return C.Palette.from_dict(presentation().get("chart_colours", {}))


def chart_images(data: PeriodData) -> dict[str, bytes]:
    """The key network charts as PNG images, by file name (none when nothing was returned)."""
    if not data.units:
        return {}
    pal = chart_palette()
    names = [f"{a.index}. {a.short_name}" for a in data.areas]
    spreads = [data.area_spread[a.id] for a in data.areas]
    net = data.network
    per = data.period
    images = {
        f"SeQuIn_units_by_area_{per}.png": C.units_by_area_png(
            title=f"Each unit's score per area against the network median: {data.month}",
            areas=names,
            scores=[
                [
                    r.areas[a.id].percent
                    for r in data.results.values()
                    if a.id in r.areas
                    and r.areas[a.id].complete
                    and r.areas[a.id].percent is not None
                ]
                for a in data.areas
            ],
            medians=[s.median for s in spreads],
            green=net.green,
            amber=net.amber,
            palette=pal,
        ),
        f"SeQuIn_area_ratings_{per}.png": C.rag_counts_png(
            title=f"Units rated Green, Amber and Red in each area: {data.month}",
            areas=names,
            counts=[data.area_rag[a.id] for a in data.areas],
            palette=pal,
        ),
        f"SeQuIn_network_trend_{per}.png": C.network_trend_png(
            title=f"Network median score and co-production by month, up to {data.month}",
            months=[m.period for m in data.months],
            medians=[m.overall.median for m in data.months],
            lows=[m.overall.low for m in data.months],
            highs=[m.overall.high for m in data.months],
            coproduction=[m.coproduction for m in data.months],
            palette=pal,
        ),
    }
    images[f"SeQuIn_network_spc_{per}.png"] = spc.xmr_png(
        spc.network_xmr(data),
        f"Network median score as a process control chart, up to {data.month}",
    )
    return images
