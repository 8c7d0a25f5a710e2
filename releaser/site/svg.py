"""The site's drawings as inline SVG: no script, no outside asset, the same figures give the same bytes.

Colours are CSS classes (`s0`..`s7` for series, `new`, `head`, ...) that the site's
stylesheet sets, so a drawing follows the page into dark mode and onto paper. Every
text drawn is escaped here; the pages embed the result as markup.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

SERIES_CLASSES = 10


def _n(x: float) -> str:
    """A coordinate, short and stable: one decimal, no '-0.0'."""
    text = f"{x:.1f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _seconds(value: float) -> str:
    return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[float | None, ...]  # one per x label; None: no figure there
    ceilings: tuple[float | None, ...] = ()  # per x label: the time above which a cut is refused


@dataclass(frozen=True)
class Chart:
    """A drawn chart, to be shown with one x highlighted or none: drawn once for every page of a site."""

    head: str
    body: str
    labelled: frozenset[int]  # the x whose labels are drawn
    marks: tuple[str, ...]  # per x: its highlight, and its label if not drawn anyway

    def svg(self, mark: int | None = None) -> str:
        return self.head + (self.marks[mark] if mark is not None and 0 <= mark < len(self.marks) else "") + self.body


def line_chart(
    title: str, labels: Sequence[str], series: Sequence[Series], *, width: int = 720, height: int = 300,
) -> Chart:
    """One line per series over the x labels; dashed, each series' ceiling; an x to highlight chosen later."""
    left, right, top, bottom = 56, 150, 16, 64
    plot_w, plot_h = width - left - right, height - top - bottom
    figures = [v for s in series for v in s.values if v is not None]
    ceilings = [v for s in series for v in s.ceilings if v is not None]
    top_figure = max(figures, default=1.0)
    # The ceilings are in scale when near the figures; a loose max-slowdown (50x) would flatten them.
    # The lowest is always in scale, so the chart shows where the nearest refusal is.
    reach = max(1.6 * top_figure, min(ceilings, default=0.0))
    high = _nice(max(top_figure, min(max(ceilings, default=0.0), reach)) * 1.1)
    count = max(len(labels), 1)

    def x(i: int) -> float:
        return left + (plot_w * (i + 0.5) / count)

    def y(v: float) -> float:
        return top + plot_h - plot_h * min(v, high) / high

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'role="img" aria-labelledby="chart-title"><title id="chart-title">{escape(title)}</title>',
    ]
    for step in range(5):  # gridlines and their seconds
        value = high * step / 4
        out.append(f'<line class="grid" x1="{left}" x2="{left + plot_w}" y1="{_n(y(value))}" y2="{_n(y(value))}"/>')
        out.append(f'<text class="tick" x="{left - 6}" y="{_n(y(value) + 4)}" text-anchor="end">{escape(_seconds(value))}</text>')
    head, out = "".join(out), []

    def label(i: int) -> str:
        return (
            f'<text class="tick" x="{_n(x(i))}" y="{top + plot_h + 14}" text-anchor="end" '
            f'transform="rotate(-30 {_n(x(i))} {top + plot_h + 14})">{escape(labels[i])}</text>'
        )

    every = max(1, -(-len(labels) // 12))  # at most about 12 x labels
    labelled = frozenset(i for i in range(len(labels)) if i % every == 0)
    marks = tuple(
        f'<rect class="mark" x="{_n(x(i) - plot_w / count / 2)}" y="{top}" width="{_n(plot_w / count)}" height="{plot_h}"/>'
        + ("" if i in labelled else label(i))
        for i in range(len(labels))
    )
    out += [label(i) for i in sorted(labelled)]
    for k, s in enumerate(series):
        css = f"s{k % SERIES_CLASSES}"
        out.append(f'<g class="series {css}"><title>{escape(s.name)}</title>')
        half = plot_w / count / 4
        for i, c in enumerate(s.ceilings):  # a dash across the RC's column: above it, the cut is refused
            if c is not None and c <= high:  # one off the scale is left out, not drawn at the top
                out.append(
                    f'<line class="ceiling" x1="{_n(x(i) - half)}" x2="{_n(x(i) + half)}" '
                    f'y1="{_n(y(c))}" y2="{_n(y(c))}"><title>{escape(f"{s.name}, {labels[i]}: refused above {_seconds(c)}")}</title></line>'
                )
        out.append(_path(s.values, x, y, 'class="line"'))
        for i, v in enumerate(s.values):
            if v is not None:
                out.append(f'<circle cx="{_n(x(i))}" cy="{_n(y(v))}" r="3"><title>{escape(f"{s.name}, {labels[i]}: {_seconds(v)}")}</title></circle>')
        ly = top + 12 + 16 * k
        out.append(f'<line class="line" x1="{width - right + 12}" x2="{width - right + 30}" y1="{ly - 4}" y2="{ly - 4}"/>')
        out.append(f'<text class="legend" x="{width - right + 36}" y="{ly}">{escape(s.name)}</text></g>')
    out.append(f'<line class="axis" x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}"/>')
    out.append(f'<line class="axis" x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}"/>')
    out.append("</svg>")
    return Chart(head, "".join(out), labelled, marks)


def _path(values: Sequence[float | None], x: Callable[[int], float], y: Callable[[float], float], attrs: str) -> str:
    """A polyline through the figures, broken where there is none."""
    parts: list[str] = []
    pen = "M"
    for i, v in enumerate(values):
        if v is None:
            pen = "M"
            continue
        parts.append(f"{pen}{_n(x(i))} {_n(y(v))}")
        pen = "L"
    return f'<path {attrs} d="{" ".join(parts)}"/>' if parts else ""


def _nice(value: float) -> float:
    """The round number at or above `value` an axis ends at: 1, 2, 2.5 or 5 times a power of ten."""
    if value <= 0:
        return 1.0
    power = 10.0 ** _floor_log10(value)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def _floor_log10(value: float) -> int:
    import math

    return math.floor(math.log10(value))
