"""Small server-rendered SVG charts for the console (the CSP allows no script, no inline style).

Each chart is a ``<figure>`` holding an ``<svg role="img">`` labelled by its ``<title>`` and
``<desc>``, and the same numbers as a table that only screen readers see (class
``visually-hidden`` in ``outreach.css``). Colours and sizes are SVG presentation attributes,
which the CSP permits; every label is escaped.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from markupsafe import Markup

PALETTE = ("#1f5f99", "#d9822b", "#2e7d32", "#8e44ad", "#c0392b", "#00838f", "#5b6673")
WIDTH = 680
LABEL_WIDTH = 190
ROW_HEIGHT = 26
PLOT_HEIGHT = 200
LEGEND_HEIGHT = 26
AXIS_WIDTH = 44
MAX_COLUMN_WIDTH = 72.0
MAX_LABEL_CHARS = 26
NO_DATA = "No data in this period."


def bar_chart(
    series: Sequence[tuple[str, float]], title: str, unit: str = "", *, ident: str | None = None
) -> Markup:
    """A horizontal bar chart: one labelled bar per ``(label, value)``.

    Args:
        series: The bars, top to bottom; negative or non-finite values are drawn as 0.
        title: The chart's title (shown as the figure caption and the SVG ``<title>``).
        unit: What the values count, e.g. ``"messages"``; shown after each value.
        ident: The id prefix of the chart's elements (default: derived from the title).

    Returns:
        The ``<figure>`` as safe markup.
    """
    bars = [(label, _clean(value)) for label, value in series]
    top = max((value for _, value in bars), default=0.0) or 1.0
    parts = [_bar(i, label, value, top, unit) for i, (label, value) in enumerate(bars)]
    if not bars:
        parts.append(_empty(LABEL_WIDTH, ROW_HEIGHT / 2 + 8))
    table = _table(title, ["", unit or "value"], [(label, [value]) for label, value in bars])
    height = max(1, len(bars)) * ROW_HEIGHT + 8
    body = Markup("").join(parts)
    return _figure(ident or _slug(title), title, _summary(bars), height, body, table)


def stacked_chart(
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    title: str,
    unit: str = "",
    *,
    ident: str | None = None,
) -> Markup:
    """A vertical stacked column chart: one column per category, one colour per series.

    Args:
        categories: The columns, left to right (e.g. the 24 hours of a day).
        series: ``(name, values)`` per stacked layer; each has one value per category.
        title: The chart's title.
        unit: What the values count.
        ident: The id prefix of the chart's elements (default: derived from the title).

    Returns:
        The ``<figure>`` as safe markup.

    Raises:
        ValueError: When a series has not exactly one value per category.
    """
    if any(len(values) != len(categories) for _, values in series):
        raise ValueError("every series needs one value per category")
    layers = [(name, [_clean(v) for v in values]) for name, values in series]
    totals = [sum(values[i] for _, values in layers) for i in range(len(categories))]
    top = max(totals, default=0.0) or 1.0
    step = (WIDTH - AXIS_WIDTH - 8) / max(1, len(categories))
    parts = [_legend([name for name, _ in layers]), _axis(top)]
    for i, category in enumerate(categories):
        stack = [(name, values[i]) for name, values in layers]
        parts.append(_column(AXIS_WIDTH + i * step, step, category, stack, top, unit))
    if not any(totals):
        parts.append(_empty(AXIS_WIDTH + 8, LEGEND_HEIGHT + PLOT_HEIGHT / 2))
    summary = _summary([(c, t) for c, t in zip(categories, totals, strict=True) if t])
    rows = [(c, [*(v[i] for _, v in layers), totals[i]]) for i, c in enumerate(categories)]
    table = _table(title, ["", *(name for name, _ in layers), "total"], rows)
    height = LEGEND_HEIGHT + PLOT_HEIGHT + 22
    body = Markup("").join(parts)
    return _figure(ident or _slug(title), title, summary, height, body, table)


def _bar(index: int, label: str, value: float, top: float, unit: str) -> Markup:
    y = 4 + index * ROW_HEIGHT
    width = round((WIDTH - LABEL_WIDTH - 90) * value / top, 1)
    shown = f"{_number(value)} {unit}".strip()
    return Markup(
        "<g><title>{full}: {shown}</title>"
        '<text x="{lx}" y="{ty}" text-anchor="end" font-size="13">{label}</text>'
        '<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{fill}" rx="2"></rect>'
        '<text x="{vx}" y="{ty}" font-size="13">{shown}</text></g>'
    ).format(
        full=label,
        shown=shown,
        label=_short(label),
        lx=LABEL_WIDTH - 8,
        ty=y + ROW_HEIGHT / 2 + 4,
        x=LABEL_WIDTH,
        y=y + 3,
        w=width,
        h=ROW_HEIGHT - 6,
        fill=PALETTE[0],
        vx=LABEL_WIDTH + width + 6,
    )


def _column(
    x: float, step: float, category: str, stack: Sequence[tuple[str, float]], top: float, unit: str
) -> Markup:
    """One column: its layers bottom to top, then its label under the axis."""
    base = LEGEND_HEIGHT + PLOT_HEIGHT
    width = min(MAX_COLUMN_WIDTH, max(1.0, step - 4))
    left, y, parts = x + (step - width) / 2, float(base), []
    for colour, (name, value) in enumerate(stack):
        if value <= 0:
            continue
        height = PLOT_HEIGHT * value / top
        y -= height
        parts.append(
            Markup(
                '<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{fill}">'
                "<title>{cat} · {name}: {value} {unit}</title></rect>"
            ).format(
                x=round(left, 1),
                y=round(y, 1),
                w=round(width, 1),
                h=round(height, 1),
                fill=PALETTE[colour % len(PALETTE)],
                cat=category,
                name=name,
                value=_number(value),
                unit=unit,
            )
        )
    parts.append(
        Markup('<text x="{x}" y="{y}" text-anchor="middle" font-size="11">{label}</text>').format(
            x=round(x + step / 2, 1), y=base + 14, label=_short(category, 10)
        )
    )
    return Markup("").join(parts)


def _figure(
    key: str, title: str, summary: str, height: float, body: Markup, table: Markup
) -> Markup:
    return Markup(
        '<figure class="chart" id="{key}">'
        '<figcaption class="chart-title">{title}</figcaption>'
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" '
        'height="{h}" role="img" aria-labelledby="{key}-title {key}-desc">'
        '<title id="{key}-title">{title}</title><desc id="{key}-desc">{summary}</desc>'
        "{body}</svg>{table}</figure>"
    ).format(
        key=key, title=title, summary=summary, w=WIDTH, h=round(height), body=body, table=table
    )


def _legend(names: Sequence[str]) -> Markup:
    items, x = [], AXIS_WIDTH
    for index, name in enumerate(names):
        items.append(
            Markup(
                '<rect x="{x}" y="6" width="12" height="12" fill="{fill}"></rect>'
                '<text x="{tx}" y="16" font-size="12">{name}</text>'
            ).format(x=x, fill=PALETTE[index % len(PALETTE)], tx=x + 16, name=_short(name, 18))
        )
        x += 24 + 8 * min(len(name), 18)
    return Markup('<g class="legend">{}</g>').format(Markup("").join(items))


def _axis(top: float) -> Markup:
    base, lines = LEGEND_HEIGHT + PLOT_HEIGHT, []
    for fraction in (0.0, 0.5, 1.0):
        y = round(base - PLOT_HEIGHT * fraction, 1)
        lines.append(
            Markup(
                '<line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" stroke="#dde2e8"></line>'
                '<text x="{tx}" y="{ty}" text-anchor="end" font-size="11">{v}</text>'
            ).format(
                x1=AXIS_WIDTH,
                x2=WIDTH - 8,
                y=y,
                tx=AXIS_WIDTH - 4,
                ty=y + 4,
                v=_number(top * fraction),
            )
        )
    return Markup('<g class="axis" aria-hidden="true">{}</g>').format(Markup("").join(lines))


def _empty(x: float, y: float) -> Markup:
    return Markup('<text x="{x}" y="{y}" font-size="13" fill="#5b6673">{t}</text>').format(
        x=x, y=y, t=NO_DATA
    )


def _table(
    title: str, header: Sequence[str], rows: Sequence[tuple[str, Sequence[float]]]
) -> Markup:
    head = Markup("").join(Markup('<th scope="col">{}</th>').format(h) for h in header)
    body = Markup("").join(
        Markup('<tr><th scope="row">{}</th>{}</tr>').format(
            label, Markup("").join(Markup("<td>{}</td>").format(_number(v)) for v in values)
        )
        for label, values in rows
    )
    return Markup(
        '<table class="visually-hidden"><caption>{}</caption><thead><tr>{}</tr></thead>'
        "<tbody>{}</tbody></table>"
    ).format(title, head, body)


def _summary(pairs: Sequence[tuple[str, float]]) -> str:
    if not any(value for _, value in pairs):
        return NO_DATA
    return "; ".join(f"{label}: {_number(value)}" for label, value in pairs) + "."


def _clean(value: float) -> float:
    return float(value) if math.isfinite(value) and value > 0 else 0.0


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}".rstrip("0")


def _short(label: str, limit: int = MAX_LABEL_CHARS) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _slug(title: str) -> str:
    return "chart-" + (re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "x")


__all__ = ["bar_chart", "stacked_chart"]
