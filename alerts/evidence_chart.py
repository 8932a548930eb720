"""An alert's price chart as a self-contained SVG: prints anywhere, needs no browser or script.

The pages draw charts with Plotly in the browser; an evidence pack is read later, offline and often on
paper, so it carries a static drawing made here from the same numbers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 720, 320
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 60, 20, 36, 56
Y_TICKS = 5


@dataclass(frozen=True)
class ChartLine:
    """One series to draw: a label, a colour and a value per date (``None`` leaves a gap)."""

    label: str
    colour: str
    values: Sequence[float | None]
    dashed: bool = False


def _y_range(lines: Sequence[ChartLine]) -> tuple[float, float]:
    values = [value for line in lines for value in line.values if value is not None]
    if not values:
        return 0.0, 1.0
    low, high = min(values), max(values)
    pad = (high - low) * 0.1 or max(abs(high) * 0.1, 1.0)
    return max(0.0, low - pad), high + pad


def _path(points: list[tuple[float, float] | None]) -> str:
    """An SVG path that lifts the pen over missing values."""
    commands: list[str] = []
    pen_down = False
    for point in points:
        if point is None:
            pen_down = False
            continue
        commands.append(f"{'L' if pen_down else 'M'}{point[0]:.1f},{point[1]:.1f}")
        pen_down = True
    return " ".join(commands)


def price_chart_svg(
    dates: Sequence[dt.date],
    lines: Sequence[ChartLine],
    *,
    title: str,
    unit: str,
    episode: tuple[dt.date, dt.date] | None = None,
) -> str:
    """Draw ``lines`` over ``dates`` with the episode shaded; returns the SVG document as text.

    Parameters
    ----------
    dates : sequence of date
        The x axis, ascending; every line has one value per date.
    lines : sequence of ChartLine
        Prices [元/unit] per date.
    title, unit : str
        Shown above the plot and beside the y axis.
    episode : (date, date), optional
        First and last day of the episode, shaded.
    """
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    low, high = _y_range(lines)
    first = dates[0] if dates else dt.date.today()
    span = max((dates[-1] - first).days, 1) if dates else 1

    def x_of(day: dt.date) -> float:
        return MARGIN_LEFT + plot_w * (day - first).days / span

    def y_of(value: float) -> float:
        return MARGIN_TOP + plot_h * (1 - (value - low) / (high - low))

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="Noto Sans CJK SC, sans-serif" font-size="11">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
        f'<text x="{MARGIN_LEFT}" y="20" font-size="14" font-weight="bold">{escape(title)}</text>',
    ]
    if episode is not None and dates:
        start, end = max(episode[0], first), min(episode[1], dates[-1])
        if start <= end:
            left, right = x_of(start), x_of(end)
            parts.append(
                f'<rect x="{left:.1f}" y="{MARGIN_TOP}" width="{max(right - left, 2):.1f}" '
                f'height="{plot_h}" fill="#fde2e2"><title>事件时段</title></rect>'
            )
    for tick in range(Y_TICKS + 1):
        value = low + (high - low) * tick / Y_TICKS
        y = y_of(value)
        parts.append(
            f'<line x1="{MARGIN_LEFT}" x2="{WIDTH - MARGIN_RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            'stroke="#e5e5e5"/>'
        )
        parts.append(f'<text x="{MARGIN_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{value:.2f}</text>')
    middle = MARGIN_TOP + plot_h / 2
    parts.append(
        f'<text x="14" y="{middle:.1f}" transform="rotate(-90 14 {middle:.1f})" '
        f'text-anchor="middle">{escape(unit)}</text>'
    )
    if dates:
        step = max(1, len(dates) // 6)
        for day in list(dates[::step]) + ([dates[-1]] if (len(dates) - 1) % step else []):
            x = x_of(day)
            parts.append(
                f'<text x="{x:.1f}" y="{HEIGHT - MARGIN_BOTTOM + 16}" text-anchor="middle">'
                f"{day.strftime('%m-%d')}</text>"
            )
    for line in lines:
        points = [
            None if value is None else (x_of(day), y_of(value))
            for day, value in zip(dates, line.values, strict=True)
        ]
        dash = ' stroke-dasharray="6 4"' if line.dashed else ""
        parts.append(
            f'<path d="{_path(points)}" fill="none" stroke="{line.colour}" stroke-width="2"{dash}>'
            f"<title>{escape(line.label)}</title></path>"
        )
    for index, line in enumerate(lines):
        x = MARGIN_LEFT + index * 170
        y = HEIGHT - 14
        parts.append(f'<rect x="{x}" y="{y - 9}" width="14" height="4" fill="{line.colour}"/>')
        parts.append(f'<text x="{x + 20}" y="{y - 4}">{escape(line.label)}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
