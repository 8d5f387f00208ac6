"""Pictures for the easy-read pages: simple, bold pictograms drawn by the project.

Each picture is drawn here with matplotlib shapes (no text, no fonts) and saved
once as a PNG into ``engine/data/pictures/`` by running::

    python -m engine.outputs.pictures

The outputs load the saved files (:func:`picture`), so a rebuild never draws
and always gives the same bytes. Every picture has alt text saying what it
shows (:data:`PICTURES`). Colours are the Okabe-Ito palette on white with a
near-black outline, which stays clear when printed in black and white and at
about 1.5 cm across.
"""

from __future__ import annotations

import io
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

SIZE_IN = 2.0  # drawn 2 inches square ...
DPI = 120  # ... at 120 dots per inch: 240 x 240 pixels
INK = "#1B1B3A"
BLUE = "#0072B2"
SKY = "#56B4E9"
GREEN = "#009E73"
AMBER = "#E69F00"
RED = "#D55E00"
YELLOW = "#F0E442"
PINK = "#CC79A7"
PALE = "#DCEBFA"
GREY = "#8C8C8C"
WHITE = "#FFFFFF"
LW = 5.0  # outline width in points


@dataclass(frozen=True)
class Picture:
    """A picture: its file name, what it shows (alt text) and how it is drawn."""

    name: str
    alt: str
    draw: Callable

    @property
    def file(self) -> str:
        return f"{self.name}.png"


# --- shapes -------------------------------------------------------------------------------


def _p():
    from matplotlib import patches

    return patches


def _circle(ax, x, y, r, fill, lw=LW, edge=INK, z=2):
    ax.add_patch(_p().Circle((x, y), r, facecolor=fill, edgecolor=edge, linewidth=lw, zorder=z))


def _box(ax, x, y, w, h, fill, lw=LW, round_=0.0, edge=INK, z=2):
    p = _p()
    style = f"round,pad=0,rounding_size={round_}" if round_ else "square,pad=0"
    ax.add_patch(
        p.FancyBboxPatch(
            (x, y), w, h, boxstyle=style, facecolor=fill, edgecolor=edge, linewidth=lw, zorder=z
        )
    )


def _poly(ax, points, fill, lw=LW, edge=INK, z=2, closed=True):
    ax.add_patch(
        _p().Polygon(
            points,
            closed=closed,
            facecolor=fill,
            edgecolor=edge,
            linewidth=lw,
            zorder=z,
            joinstyle="round",
        )
    )


def _line(ax, xs, ys, color=INK, lw=LW, z=3):
    ax.plot(
        xs, ys, color=color, linewidth=lw, solid_capstyle="round", solid_joinstyle="round", zorder=z
    )


def _person(ax, x, y, s, fill, z=2):
    """A person seen from the front: a head over rounded shoulders; (x, y) is the feet middle."""
    p = _p()
    ax.add_patch(
        p.Wedge((x, y), 13 * s, 0, 180, facecolor=fill, edgecolor=INK, linewidth=LW, zorder=z)
    )
    _circle(ax, x, y + 21 * s, 8 * s, fill, z=z)


def _tick(ax, cx, cy, s, color=WHITE, lw=11.0):
    _line(ax, [cx - 14 * s, cx - 4 * s, cx + 15 * s], [cy, cy - 11 * s, cy + 13 * s], color, lw)


def _arrow(ax, points_from, points_to, color, width=14, head=30, head_len=24):
    """A bold arrow with an outline."""
    (x0, y0), (x1, y1) = points_from, points_to
    ax.add_patch(
        _p().FancyArrow(
            x0,
            y0,
            x1 - x0,
            y1 - y0,
            width=width,
            head_width=head,
            head_length=head_len,
            length_includes_head=True,
            facecolor=color,
            edgecolor=INK,
            linewidth=LW,
            zorder=3,
            joinstyle="round",
        )
    )


# --- the pictures -------------------------------------------------------------------------


def ward(ax):
    _poly(ax, [(8, 56), (50, 88), (92, 56)], BLUE)
    _box(ax, 16, 12, 68, 46, PALE)
    for x in (22, 60):
        for y in (38,):
            _box(ax, x, y, 14, 12, SKY, lw=4)
    _box(ax, 42, 12, 16, 26, AMBER, lw=4)
    _line(ax, [4, 96], [12, 12])
    _box(ax, 44, 64, 12, 12, WHITE, lw=3.5)
    _line(ax, [50, 50], [66, 74], RED, 5)
    _line(ax, [46, 54], [70, 70], RED, 5)


def together(ax):
    _person(ax, 24, 14, 1.05, SKY)
    _person(ax, 76, 14, 1.05, PINK)
    _person(ax, 50, 10, 1.25, AMBER, z=3)


def going_well(ax):
    _circle(ax, 50, 50, 42, GREEN)
    _tick(ax, 50, 48, 1.5)


def getting_there(ax):
    _circle(ax, 50, 50, 42, AMBER)
    # A half-full bar and an arrow moving on.
    _box(ax, 20, 30, 60, 14, WHITE, lw=4)
    _box(ax, 20, 30, 30, 14, INK, lw=4)
    _arrow(ax, (24, 64), (80, 64), WHITE, width=10, head=24, head_len=18)


def needs_work(ax):
    _circle(ax, 50, 50, 42, RED)
    # A spanner, drawn upright then turned.
    import matplotlib.transforms as mt

    turn = mt.Affine2D().rotate_deg_around(50, 50, -45) + ax.transData
    p = _p()
    shapes = [
        p.FancyBboxPatch((45, 20), 10, 46, boxstyle="round,pad=0,rounding_size=4"),
        p.Circle((50, 70), 14),
        p.Circle((50, 24), 9),
    ]
    for s in shapes:
        s.set(facecolor=WHITE, edgecolor=INK, linewidth=3.5, zorder=3, transform=turn)
        ax.add_patch(s)
    notch = p.Rectangle(
        (45, 70), 10, 20, facecolor=RED, edgecolor=RED, linewidth=0, zorder=4, transform=turn
    )
    ax.add_patch(notch)
    cover = p.FancyBboxPatch(
        (46.8, 22),
        6.4,
        44,
        boxstyle="round,pad=0,rounding_size=3",
        facecolor=WHITE,
        edgecolor=WHITE,
        linewidth=0,
        zorder=4,
        transform=turn,
    )
    ax.add_patch(cover)


def calendar(ax):
    _box(ax, 12, 10, 76, 74, WHITE, round_=6)
    _box(ax, 12, 64, 76, 20, RED, round_=6)
    for x in (30, 70):
        _line(ax, [x, x], [78, 92], INK, 7)
    for row in range(3):
        for col in range(4):
            fill = BLUE if (row, col) == (1, 2) else PALE
            _box(ax, 20 + col * 16, 18 + row * 15, 11, 10, fill, lw=2.5)


def better(ax):
    _arrow(ax, (50, 8), (50, 92), GREEN, width=26, head=66, head_len=40)


def worse(ax):
    _arrow(ax, (50, 92), (50, 8), RED, width=26, head=66, head_len=40)


def same(ax):
    _arrow(ax, (8, 50), (92, 50), SKY, width=26, head=66, head_len=40)


def speech(ax):
    _poly(ax, [(22, 40), (14, 14), (42, 36)], WHITE)
    _box(ax, 8, 30, 84, 58, WHITE, round_=18)
    _poly(ax, [(23, 41), (17, 22), (40, 38)], WHITE, lw=0, edge=WHITE, z=3)
    for x in (30, 50, 70):
        _circle(ax, x, 59, 6, BLUE, lw=0)


def question(ax):
    from matplotlib import patches

    _circle(ax, 50, 50, 42, BLUE)
    ax.add_patch(
        patches.Arc((50, 61), 30, 28, theta1=-90, theta2=180, color=WHITE, linewidth=11, zorder=3)
    )
    _line(ax, [50, 50], [47, 37], WHITE, 11)
    _circle(ax, 50, 23, 6, WHITE, lw=0, z=3)


def look(ax):
    _line(ax, [60, 88], [40, 12], INK, 16)
    _line(ax, [60, 88], [40, 12], AMBER, 9)
    _circle(ax, 40, 60, 28, PALE, lw=7)
    ax.add_patch(
        _p().Arc((40, 60), 40, 40, theta1=100, theta2=170, color=WHITE, linewidth=6, zorder=3)
    )


def plan(ax):
    _box(ax, 18, 6, 64, 82, WHITE, round_=5)
    _box(ax, 36, 80, 28, 14, GREY, round_=3)
    for i, y in enumerate((62, 42, 22)):
        _box(ax, 27, y, 10, 10, PALE if i else GREEN, lw=3)
        if i == 0:
            _line(ax, [28.5, 31.5, 36], [67, 63.5, 71], WHITE, 3.5)
        _line(ax, [44, 72], [y + 5, y + 5], INK, 5)


def post(ax):
    _box(ax, 8, 18, 84, 60, WHITE, round_=4)
    _poly(ax, [(8, 78), (50, 44), (92, 78)], PALE, lw=LW, closed=False)
    _line(ax, [8, 38], [18, 50], INK, 4)
    _line(ax, [92, 62], [18, 50], INK, 4)


def not_done(ax):
    _poly(ax, [(24, 88), (76, 88), (54, 50), (76, 12), (24, 12), (46, 50)], WHITE)
    _poly(ax, [(34, 20), (66, 20), (50, 38)], AMBER, lw=0)
    _poly(ax, [(36, 76), (64, 76), (50, 58)], AMBER, lw=0)
    _line(ax, [18, 82], [90, 90], INK, 7)
    _line(ax, [18, 82], [10, 10], INK, 7)


# --- the 12 parts of ward life ------------------------------------------------------------


def involvement(ax):
    _person(ax, 22, 40, 0.95, SKY)
    _person(ax, 50, 44, 0.95, AMBER)
    _person(ax, 78, 40, 0.95, PINK)
    _box(ax, 6, 22, 88, 16, YELLOW, round_=3, z=4)
    _line(ax, [18, 18], [22, 6], INK, 6)
    _line(ax, [82, 82], [22, 6], INK, 6)


def recovery_plan(ax):
    _poly(ax, [(8, 4), (92, 4), (56, 64), (44, 64)], GREY, lw=4)
    for y0, y1 in ((8, 20), (28, 38), (46, 54)):
        _line(ax, [50, 50], [y0, y1], WHITE, 6 - y0 / 14)
    _line(ax, [50, 50], [64, 96], INK, 5)
    _poly(ax, [(50, 96), (84, 87), (50, 78)], GREEN)


def recovery_college(ax):
    # An open book with a graduation cap on it.
    _poly(ax, [(50, 14), (10, 22), (10, 62), (50, 54)], WHITE)
    _poly(ax, [(50, 14), (90, 22), (90, 62), (50, 54)], WHITE)
    for dy in (8, 18, 28):
        _line(ax, [18, 42], [30 + dy, 25 + dy], SKY, 4)
        _line(ax, [58, 82], [25 + dy, 30 + dy], SKY, 4)
    _poly(ax, [(50, 92), (84, 80), (50, 68), (16, 80)], INK, lw=3)
    _poly(ax, [(34, 74), (34, 64), (50, 59), (66, 64), (66, 74), (50, 68)], INK, lw=3)
    _line(ax, [84, 84], [80, 64], AMBER, 4)
    _circle(ax, 84, 62, 3.5, AMBER, lw=0)


def restrictions(ax):
    from matplotlib import patches

    ax.add_patch(
        patches.Arc((66, 58), 34, 50, theta1=0, theta2=180, color=INK, linewidth=13, zorder=2)
    )
    ax.add_patch(
        patches.Arc((66, 58), 34, 50, theta1=0, theta2=180, color=GREY, linewidth=6, zorder=2)
    )
    _line(ax, [83, 83], [58, 50], INK, 13, z=2)
    _line(ax, [83, 83], [58, 50], GREY, 6, z=2)
    _box(ax, 12, 8, 56, 44, AMBER, round_=6, z=3)
    _circle(ax, 40, 34, 6, INK, lw=0, z=4)
    _poly(ax, [(37, 32), (43, 32), (45, 18), (35, 18)], INK, lw=0, z=4)


def care_meeting(ax):
    _person(ax, 30, 30, 1.3, SKY)
    _box(ax, 56, 12, 38, 56, WHITE, round_=3, z=4)
    _box(ax, 66, 62, 18, 10, GREY, round_=2, z=5)
    for y in (50, 38, 26):
        _line(ax, [63, 87], [y, y], BLUE, 5, z=5)
    _box(ax, 4, 18, 50, 12, YELLOW, round_=3, z=3)
    _line(ax, [12, 12], [18, 4], INK, 6)
    _line(ax, [46, 46], [18, 4], INK, 6)


def family(ax):
    _person(ax, 24, 10, 1.25, SKY)
    _person(ax, 76, 10, 1.25, PINK)
    _person(ax, 50, 10, 0.8, AMBER, z=3)
    heart = [(50, 66)]
    for t in range(0, 361, 10):
        a = math.radians(t)
        x = 16 * math.sin(a) ** 3
        y = 13 * math.cos(a) - 5 * math.cos(2 * a) - 2 * math.cos(3 * a) - math.cos(4 * a)
        heart.append((50 + 0.7 * x, 80 + 0.7 * y))
    _poly(ax, heart[1:], RED, lw=3.5)


def ward_round(ax):
    from matplotlib import patches

    colours = [SKY, AMBER, PINK]
    for i, x in enumerate((22, 50, 78)):
        _person(ax, x, 54, 0.8, colours[i])
    ax.add_patch(
        patches.Ellipse((50, 44), 64, 26, facecolor=YELLOW, edgecolor=INK, linewidth=LW, zorder=3)
    )
    _person(ax, 12, 12, 0.8, GREEN, z=4)
    _person(ax, 88, 12, 0.8, SKY, z=4)
    _person(ax, 50, 4, 0.8, PINK, z=4)


def food(ax):
    _circle(ax, 50, 50, 30, WHITE)
    _circle(ax, 50, 50, 19, PALE, lw=3)
    # Fork (left) and knife (right).
    _line(ax, [10, 10], [14, 56], INK, 7)
    for x in (4, 10, 16):
        _line(ax, [x, x], [66, 86], INK, 4)
    _line(ax, [4, 16], [62, 62], INK, 7)
    _line(ax, [10, 10], [56, 64], INK, 7)
    _line(ax, [90, 90], [14, 50], INK, 7)
    _poly(ax, [(86, 50), (86, 86), (96, 72), (94, 50)], GREY, lw=3)


def activities(ax):
    _circle(ax, 34, 34, 28, WHITE)
    _poly(ax, [(34, 44), (43.5, 37), (40, 26), (28, 26), (24.5, 37)], INK, lw=0, z=3)
    for a in (90, 162, 234, 306, 18):
        r = math.radians(a)
        _line(
            ax,
            [34 + 10 * math.cos(r), 34 + 27 * math.cos(r)],
            [34 + 10 * math.sin(r), 34 + 27 * math.sin(r)],
            INK,
            3.5,
        )
    # A paintbrush.
    _line(ax, [64, 90], [60, 94], INK, 12)
    _line(ax, [64, 90], [60, 94], AMBER, 6)
    _poly(ax, [(56, 50), (64, 56), (70, 64), (60, 72), (50, 66)], BLUE, lw=3.5)


def risk(ax):
    _poly(ax, [(50, 94), (86, 80), (84, 42), (50, 6), (16, 42), (14, 80)], BLUE)
    _tick(ax, 50, 50, 1.2, WHITE, 10)


def choosing_staff(ax):
    _person(ax, 36, 8, 1.9, SKY)
    _box(ax, 40, 20, 14, 10, WHITE, lw=3, z=3)
    _circle(ax, 76, 72, 20, GREEN)
    _tick(ax, 76, 71, 0.75, WHITE, 7)


def phones(ax):
    from matplotlib import patches

    _box(ax, 14, 6, 40, 74, INK, round_=7)
    _box(ax, 19, 17, 30, 54, SKY, lw=0, z=3)
    _circle(ax, 34, 11.5, 3, WHITE, lw=0, z=3)
    for r in (16, 28, 40):
        ax.add_patch(
            patches.Arc((62, 60), r, r, theta1=0, theta2=90, color=GREEN, linewidth=7, zorder=3)
        )
    _circle(ax, 62, 60, 4, GREEN, lw=0)


PICTURES: dict[str, Picture] = {
    p.name: p
    for p in (
        Picture("ward", "A picture of a ward building.", ward),
        Picture("together", "A picture of three people together.", together),
        Picture("going_well", "A green circle with a tick in it.", going_well),
        Picture(
            "getting_there", "An orange circle with a half-full bar and an arrow.", getting_there
        ),
        Picture("needs_work", "A red circle with a spanner in it.", needs_work),
        Picture("calendar", "A picture of a calendar.", calendar),
        Picture("better", "A green arrow pointing up.", better),
        Picture("worse", "A red arrow pointing down.", worse),
        Picture("same", "A blue arrow pointing across.", same),
        Picture("speech", "A speech bubble.", speech),
        Picture("question", "A blue circle with a question mark in it.", question),
        Picture("look", "A magnifying glass.", look),
        Picture("plan", "A clipboard with a list on it.", plan),
        Picture("not_done", "An hourglass.", not_done),
        Picture("post", "A letter in an envelope.", post),
        Picture("involvement", "People sitting together at a table.", involvement),
        Picture("recovery_plan", "A road going to a flag.", recovery_plan),
        Picture("recovery_college", "An open book with a graduation cap on it.", recovery_college),
        Picture("restrictions", "An open padlock.", restrictions),
        Picture("care_meeting", "A person at a table, with a clipboard.", care_meeting),
        Picture("family", "A family of two grown-ups and a child, with a heart.", family),
        Picture("ward_round", "People sitting around a round table.", ward_round),
        Picture("food", "A plate with a knife and fork.", food),
        Picture("activities", "A ball and a paintbrush.", activities),
        Picture("risk", "A shield with a tick on it.", risk),
        Picture(
            "choosing_staff",
            "A person with a name badge and a green tick beside them.",
            choosing_staff,
        ),
        Picture("phones", "A mobile phone with a signal.", phones),
    )
}

# The picture of each of the 12 areas (by area id).
AREA_PICTURES = {
    "INV": "involvement",
    "REC": "recovery_plan",
    "COL": "recovery_college",
    "RRP": "restrictions",
    "CPA": "care_meeting",
    "FFC": "family",
    "MDT": "ward_round",
    "DIN": "food",
    "ACT": "activities",
    "RSK": "risk",
    "RAS": "choosing_staff",
    "TEC": "phones",
}


def draw(name: str) -> bytes:
    """Draw picture ``name`` and return its PNG bytes (the same bytes every time)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(SIZE_IN, SIZE_IN), dpi=DPI, facecolor=WHITE)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(-2, 102)
    ax.set_ylim(-2, 102)
    ax.set_aspect("equal")
    ax.axis("off")
    PICTURES[name].draw(ax)
    buffer = io.BytesIO()
    fig.savefig(
        buffer, format="png", dpi=DPI, metadata={"Software": None}, pil_kwargs={"optimize": True}
    )
    return buffer.getvalue()


def picture(name: str) -> bytes:
    """The saved PNG of picture ``name`` (shipped with the package)."""
    return (resources.files("engine") / "data" / "pictures" / PICTURES[name].file).read_bytes()


def folder() -> Path:
    """Where the pictures are saved in the source tree."""
    return Path(__file__).resolve().parent.parent / "data" / "pictures"


def save_all(target: Path | None = None) -> list[Path]:
    """Draw every picture and save it as a PNG; returns the files written."""
    target = target or folder()
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, pic in PICTURES.items():
        path = target / pic.file
        path.write_bytes(draw(name))
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    written = save_all(Path(args[0]) if args else None)
    print(f"{len(written)} pictures saved in {written[0].parent}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
