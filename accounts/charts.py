"""Charts drawn on the server as SVG, for every app (hence here, at the bottom of the layers).

A chart is worked out here as plain geometry (paths, ticks, labels in the SVG's own units) and
drawn by `templates/includes/chart_line.html`, `chart_bar.html` or `chart_sparkline.html`: no
chart library, no JavaScript, no build step. Each chart is an image with a title and a description
(`role="img"`), carries the same numbers as a table (`ChartTable`, drawn beside it by
`chart_table.html`), and never tells its lines apart by colour alone: each line has its own
pattern (solid, dashed, dotted) and marker, and a label by its last point as well as the key.
The colours are GOV.UK's, each at least 4.5:1 on white (WCAG AA for text, above the 3:1 asked of
graphics).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

BLUE = "#1d70b8"
BLACK = "#0b0c0c"
RED = "#d4351c"
GREEN = "#00703c"
PURPLE = "#4c2c92"
GREY = "#505a5f"
GRID = "#b1b4b6"

# Sized for a two-thirds column on a desktop (about 1:1) and still readable on a 375 px phone,
# where the whole chart is drawn at about 0.6 of these units (text at about 13 px).
WIDTH, HEIGHT = 560, 320
FONT = 22
LEFT, RIGHT, TOP, BOTTOM = 100, 116, 20, 56
FONT_FAMILY = '"GDS Transport", arial, sans-serif'
DASHES = {"solid": "", "dashed": "10 6", "dotted": "3 5"}

Number = Decimal | int | float


@dataclass(frozen=True)
class Series:
    """One line: its points (x, y) in the data's units (a None y breaks the line), how it looks."""

    name: str
    points: Sequence[tuple[Number, Number | None]]
    colour: str = BLUE
    pattern: str = "solid"
    marker: str = "circle"


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class ChartTable:
    """The chart's numbers: a caption, column headings, and rows whose first cell heads the row."""

    caption: str
    head: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class DrawnLine:
    name: str
    colour: str
    dash: str
    marker: str
    segments: list[str]
    markers: list[tuple[float, float]]
    label_x: float | None = None
    label_y: float | None = None


@dataclass(frozen=True)
class Bar:
    label: str
    x: float
    y: float
    width: float
    height: float
    shown: bool


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    summary: str
    table: ChartTable | None
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    lines: list[DrawnLine] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    marks: list[Tick] = field(default_factory=list)
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM
    font: int = FONT
    font_family: str = FONT_FAMILY

    @property
    def plot_width(self) -> int:
        return self.right - self.left


def nice_step(span: Decimal, ticks: int = 4) -> Decimal:
    """A round step (1, 2 or 5 times a power of ten) giving about `ticks` steps over `span`."""
    if span <= 0:
        return Decimal(1)
    raw = span / ticks
    magnitude = Decimal(1).scaleb(raw.adjusted())
    for multiple in (1, 2, 5, 10):
        if magnitude * multiple >= raw:
            return magnitude * multiple
    return magnitude * 10


def _y_scale(top_value: Decimal, fmt: Callable[[Decimal], str], floor: Decimal = Decimal(0)):
    step = nice_step(top_value - floor)
    ticks_to = floor
    while ticks_to < top_value:
        ticks_to += step
    if ticks_to == floor:
        ticks_to = floor + step
    span = ticks_to - floor

    def y(value: Number) -> float:
        return round(float(HEIGHT - BOTTOM - (Decimal(str(value)) - floor) / span * (HEIGHT - BOTTOM - TOP)), 1)

    ticks, value = [], floor
    while value <= ticks_to:
        ticks.append(Tick(y(value), fmt(value)))
        value += step
    return y, ticks


def _spread(labels: list[list], gap: float) -> None:
    """Move end labels ([y, …] lists) apart so that no two are closer than `gap`, in place."""
    labels.sort(key=lambda item: item[0])
    for before, after in itertools.pairwise(labels):
        if after[0] - before[0] < gap:
            after[0] = before[0] + gap


def line_chart(
    *,
    key: str,
    title: str,
    summary: str,
    series: Sequence[Series],
    x_max: Number,
    x_ticks: Sequence[tuple[Number, str]],
    fmt: Callable[[Decimal], str],
    table: ChartTable | None,
    x_min: Number = 0,
    y_floor: Decimal = Decimal(0),
    y_top: Decimal | None = None,
) -> Chart:
    """A line chart: x runs from `x_min` to `x_max` (days, or a month's place), y from `y_floor`
    up to a round number at or above the highest point (or `y_top`)."""
    values = [Decimal(str(y)) for s in series for _, y in s.points if y is not None]
    top_value = max([*values, y_top or Decimal(0), y_floor + 1])
    y, y_ticks = _y_scale(top_value, fmt, y_floor)
    span = float(x_max - x_min) or 1.0

    def x(value: Number) -> float:
        return round(LEFT + float(value - x_min) / span * (WIDTH - RIGHT - LEFT), 1)

    drawn, ends = [], []
    for s in series:
        segments, current, markers = [], [], []
        for px, py in s.points:
            if py is None:
                if current:
                    segments.append(current)
                current = []
                continue
            current.append((x(px), y(py)))
            if px != x_min:  # a line's starting point at the axis is not a reading
                markers.append((x(px), y(py)))
        if current:
            segments.append(current)
        paths = ["M" + " L".join(f"{a},{b}" for a, b in seg) for seg in segments if seg]
        drawn.append([s, paths, markers])
        if segments:
            last_x, last_y = segments[-1][-1]
            ends.append([last_y, len(drawn) - 1, last_x])
    # Labels that end at the same place are moved apart; the others stay by their line.
    label_at = {}
    for end_x in {end[2] for end in ends}:
        group = [end for end in ends if end[2] == end_x]
        _spread(group, FONT + 2)
        label_at.update({index: (end_x, end_y) for end_y, index, _ in group})
    lines = []
    for index, (s, paths, markers) in enumerate(drawn):
        end_x, end_y = label_at.get(index, (None, None))
        lines.append(
            DrawnLine(
                name=s.name,
                colour=s.colour,
                dash=DASHES[s.pattern],
                marker=s.marker,
                segments=paths,
                markers=markers if s.marker else [],
                label_x=None if end_x is None else end_x + 10,
                label_y=None if end_y is None else end_y + FONT / 3,
            )
        )
    return Chart(
        key=key,
        title=title,
        summary=summary,
        table=table,
        y_ticks=y_ticks,
        x_ticks=[Tick(x(px), label) for px, label in x_ticks],
        lines=lines,
    )


def bar_chart(
    *,
    key: str,
    title: str,
    summary: str,
    bars: Sequence[tuple[str, Number | None]],
    fmt: Callable[[Decimal], str],
    table: ChartTable | None,
) -> Chart:
    """A bar for each label (a month); a None value is a gap (a figure not shown), marked with a
    dash on the axis so it is not mistaken for nothing."""
    values = [Decimal(str(v)) for _, v in bars if v is not None]
    y, y_ticks = _y_scale(max([*values, Decimal(1)]), fmt)
    slot = (WIDTH - RIGHT + 64 - LEFT) / max(len(bars), 1)
    width = round(slot * 0.7, 1)
    drawn, x_ticks, marks = [], [], []
    every = 1 + (len(bars) - 1) // 8
    for i, (label, value) in enumerate(bars):
        centre = LEFT + slot * (i + 0.5)
        if value is None:
            drawn.append(Bar(label, round(centre - width / 2, 1), 0, width, 0, False))
            marks.append(Tick(round(centre, 1), "–"))
        else:
            top = y(value)
            drawn.append(Bar(label, round(centre - width / 2, 1), top, width, round(HEIGHT - BOTTOM - top, 1), True))
        if i % every == 0:
            x_ticks.append(Tick(round(centre, 1), label))
    return Chart(
        key=key,
        title=title,
        summary=summary,
        table=table,
        y_ticks=y_ticks,
        x_ticks=x_ticks,
        bars=drawn,
        marks=marks,
        right=WIDTH - RIGHT + 64,
    )


@dataclass(frozen=True)
class Sparkline:
    """A small trend line for a table cell: `label` says in words what it shows; `path` joins the
    readings (a period without one is passed over) and `points` marks each reading."""

    label: str
    path: str
    points: list[tuple[float, float]]
    width: int = 64
    height: int = 28


def sparkline(values: Sequence[Number | None], *, label: str, low: Number, high: Number) -> Sparkline:
    """Values evenly spaced left to right between `low` and `high` (a None is passed over)."""
    width, height, pad = 64, 28, 4
    count = max(len(values) - 1, 1)
    span = float(high - low) or 1.0
    points = [
        (
            round(pad + i / count * (width - 2 * pad), 1),
            round(height - pad - float(value - low) / span * (height - 2 * pad), 1),
        )
        for i, value in enumerate(values)
        if value is not None
    ]
    path = ("M" + " L".join(f"{a},{b}" for a, b in points)) if len(points) > 1 else ""
    return Sparkline(label, path, points)


def pounds(value: Decimal) -> str:
    """An axis label in whole pounds: £12,000."""
    return f"£{value:,.0f}"


def whole(value: Decimal) -> str:
    return f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.1f}"
