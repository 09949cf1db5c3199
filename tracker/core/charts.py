"""Small server-side SVG charts: no JavaScript, no external assets, CSP-safe.

Used by web pages (scorecards, dashboards) and PDF reports (WeasyPrint), so the output is
plain SVG 1.1 (``svg``, ``g``, ``rect``, ``line``, ``polyline``, ``circle``, ``text``,
``title``, ``desc``) with presentation attributes only (``fill="#..."``, ``stroke=...``):
no ``style`` attribute, no ``<style>`` element, no script. Every text is escaped.

API (both return ``markupsafe.Markup``, ready for ``{{ chart }}`` in a template)::

    line_chart(series, categories, *, title, desc=None, width=640, height=300, y_max=100, ...)
    bar_chart(series, categories, *, title, desc=None, width=640, height=300, y_max=None, ...)

``series`` is a list of :class:`Series` or plain ``(name, values)`` pairs; ``values`` has one
number (or ``None`` for "no data") per category. ``categories`` are the x-axis labels.
The y axis starts at zero; values are clamped to ``[0, y_max]``. ``y_max=None`` picks a
round maximum from the data (whole-number steps when every value is whole). Colours come
from :data:`PALETTE` in series order unless a series names its own ``#rgb``/``#rrggbb``.
``Series(..., dashed=True)`` draws a comparison line dashed (e.g. the organisation average).

Keywords of both: ``title`` (required: the accessible name), ``desc``, ``width``/``height``
(user units; also the ``viewBox``), ``y_max``, ``y_ticks`` (intervals, 5), ``y_label`` (a
short unit shown above the axis), ``value_format`` (number → text; integers plain, others
one decimal), ``show_values`` (numbers above the marks; bars yes, lines no) and
``font_family``. Line charts show every n-th x label when they would overlap; bar charts
wrap each label onto up to two lines (ellipsis beyond). The series' names form the legend.
The root carries ``class="chart"`` for page CSS to size it; nothing else needs CSS.

Accessibility: the root has ``role="img"``, ``aria-label`` and ``<title>``; ``<desc>`` holds
``desc`` or, by default, every value as text ("name: category value; ..."), so the chart
says what it shows to screen readers and in text-only PDF extraction. Labels are text
elements, and each point or bar carries a ``<title>`` (a tooltip in browsers).

Fonts: ``font_family`` is set on the root (default ``sans-serif``); PDF templates pass
the family of their embedded CJK font so Chinese labels render.
"""
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable, Sequence

from markupsafe import Markup, escape

# Colour-blind-friendly (Okabe–Ito based), dark enough for text on white and for print.
PALETTE = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#8c6d1f", "#555555")
AXIS_COLOUR = "#6c757d"
GRID_COLOUR = "#dee2e6"
TEXT_COLOUR = "#212529"

_COLOUR_RE = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


@dataclass(frozen=True)
class Series:
    """One line or one bar per category. ``dashed`` draws a line chart series dashed (a
    comparison such as the organisation average); ``colour`` overrides the palette."""

    name: str
    values: Sequence[float | int | Decimal | None]
    colour: str | None = None
    dashed: bool = False


def format_number(value) -> str:
    """Integers without decimals, others with one (66.7)."""
    value = float(value)
    if value.is_integer():
        return str(int(value))
    return f"{value:.1f}"


def line_chart(
    series,
    categories,
    *,
    title,
    desc=None,
    width: int = 640,
    height: int = 300,
    y_max: float | None = 100,
    y_ticks: int = 5,
    y_label: str = "",
    value_format: Callable = format_number,
    show_values: bool = False,
    font_family: str = "sans-serif",
) -> Markup:
    """Lines over categories (e.g. a score per month). ``None`` values leave a gap."""
    chart = _Frame(series, categories, title=title, desc=desc, width=width, height=height, y_max=y_max,
                   y_ticks=y_ticks, y_label=y_label, value_format=value_format, font_family=font_family,
                   headroom=show_values)
    body = []
    for index, s in enumerate(chart.series):
        colour = chart.colour(index)
        dash = ' stroke-dasharray="6 4"' if s.dashed else ""
        body.append(f'<g class="series" fill="{colour}" stroke="{colour}">')
        for segment in _segments(s.values):
            if len(segment) > 1:
                points = " ".join(f"{chart.x(i):.1f},{chart.y(v):.1f}" for i, v in segment)
                body.append(f'<polyline points="{points}" fill="none" stroke-width="2"{dash}/>')
        for i, v in enumerate(s.values):
            if v is None:
                continue
            label = _esc(f"{s.name}, {chart.categories[i]}: {value_format(v)}")
            body.append(
                f'<circle cx="{chart.x(i):.1f}" cy="{chart.y(v):.1f}" r="3" '
                f'stroke="#ffffff" stroke-width="1">'
                f"<title>{label}</title></circle>"
            )
            if show_values:
                body.append(
                    chart.text(chart.x(i), chart.y(v) - 6, value_format(v), anchor="middle", fill=colour)
                )
        body.append("</g>")
    return chart.render(body)


def bar_chart(
    series,
    categories,
    *,
    title,
    desc=None,
    width: int = 640,
    height: int = 300,
    y_max: float | None = None,
    y_ticks: int = 5,
    y_label: str = "",
    value_format: Callable = format_number,
    show_values: bool = True,
    font_family: str = "sans-serif",
) -> Markup:
    """Grouped bars: one group per category, one bar per series (e.g. unit vs organisation)."""
    chart = _Frame(series, categories, title=title, desc=desc, width=width, height=height, y_max=y_max,
                   y_ticks=y_ticks, y_label=y_label, value_format=value_format, font_family=font_family,
                   headroom=show_values, wrap_labels=True)
    body = []
    n = max(len(chart.series), 1)
    group = chart.slot * 0.8
    bar = group / n
    for index, s in enumerate(chart.series):
        colour = chart.colour(index)
        body.append(f'<g class="series" fill="{colour}">')
        for i, v in enumerate(s.values):
            if v is None:
                continue
            x = chart.x(i) - group / 2 + index * bar
            top = chart.y(v)
            label = _esc(f"{s.name}, {chart.categories[i]}: {value_format(v)}")
            body.append(
                f'<rect x="{x:.1f}" y="{top:.1f}" width="{max(bar - 1, 1):.1f}" '
                f'height="{chart.baseline - top:.1f}"><title>{label}</title></rect>'
            )
            if show_values:
                body.append(chart.text(x + bar / 2, top - 3, value_format(v), anchor="middle",
                                       size=chart.font_size - 1))
        body.append("</g>")
    return chart.render(body)


# --- internals --------------------------------------------------------------------------------


def _esc(text) -> str:
    return str(escape(str(text)))


def _number(value):
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def _text_width(text: str, size: float) -> float:
    """Rough advance width: CJK characters are square, others about 0.6 em."""
    return sum(size if ord(ch) >= 0x2E80 else size * 0.6 for ch in text)


def _wrap(text: str, width: float, size: float, max_lines: int = 2) -> list[str]:
    """Greedy line breaks: at spaces where there are any, else between characters (Chinese);
    a label longer than ``max_lines`` ends with an ellipsis (its full text stays in the
    marks' ``<title>`` and in ``<desc>``)."""
    lines, line = [], ""
    for ch in text:
        if not line or _text_width(line + ch, size) <= width:
            line += ch
            continue
        cut = line.rfind(" ")
        if ch != " " and cut > 0:
            lines.append(line[:cut])
            line = line[cut + 1:] + ch
        else:
            lines.append(line.rstrip())
            line = ch.strip()
    if line:
        lines.append(line)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and _text_width(last + "…", size) > width:
            last = last[:-1]
        lines[-1] = last + "…"
    return lines or [""]


def _segments(values):
    """Runs of consecutive non-missing values as (index, value) lists."""
    run = []
    for i, v in enumerate(values):
        if v is None:
            if run:
                yield run
            run = []
        else:
            run.append((i, v))
    if run:
        yield run


def nice_max(value: float, ticks: int = 5, *, integers: bool = False) -> tuple[float, float]:
    """A round axis maximum at or above ``value`` and its tick step (1, 2, 2.5, 5 × 10^k)."""
    if value <= 0:
        return (float(ticks) if integers else 1.0), (1.0 if integers else 1.0 / ticks)
    raw = value / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw - 1e-12)
    if integers:
        step = max(1.0, math.ceil(step))
    return step * math.ceil(value / step - 1e-9), step


class _Frame:
    """Axes, grid, labels and legend; the chart functions draw their marks inside it."""

    font_size = 11

    def __init__(self, series, categories, *, title, desc, width, height, y_max, y_ticks, y_label,
                 value_format, font_family, headroom=False, wrap_labels=False):
        self.categories = [str(c) for c in categories]
        self.series = []
        for s in series:
            s = s if isinstance(s, Series) else Series(*s)
            self.series.append(Series(str(s.name), [_number(v) for v in s.values], s.colour, s.dashed))
        for s in self.series:
            if len(s.values) != len(self.categories):
                raise ValueError(
                    f"series {s.name!r} has {len(s.values)} values for {len(self.categories)} categories"
                )
            if s.colour is not None and not _COLOUR_RE.match(s.colour):
                raise ValueError(f"colour {s.colour!r} is not #rgb or #rrggbb")
        if width < 120 or height < 100:
            raise ValueError("a chart needs at least 120 × 100 units")
        self.title, self.desc = str(title), desc
        self.width, self.height = int(width), int(height)
        self.value_format = value_format
        self.font_family = font_family
        self.y_label = str(y_label or "")

        values = [v for s in self.series for v in s.values if v is not None]
        if y_max is None:
            integers = all(v.is_integer() for v in values)
            self.y_max, self.step = nice_max(max(values, default=0), y_ticks, integers=integers)
        else:
            if y_max <= 0:
                raise ValueError("y_max must be positive")
            self.y_max, self.step = float(y_max), float(y_max) / y_ticks
        self.ticks = [self.step * k for k in range(int(round(self.y_max / self.step)) + 1)]

        tick_width = max(_text_width(value_format(t), self.font_size) for t in self.ticks)
        self.left = max(28.0, tick_width + 10)
        self.right = 12.0
        # Room for the top tick label, the y-axis label and value labels above the highest mark.
        self.top = 10.0 + (self.font_size + 8 if self.y_label else 0) + (self.font_size if headroom else 0)
        self.legend_rows = self._legend_layout()
        self.has_legend = any(s.name for s in self.series)
        self.plot_w = self.width - self.left - self.right
        self.slot = self.plot_w / max(len(self.categories), 1)
        self.category_lines = self._category_labels(wrap_labels)
        label_rows = max((len(lines) for lines in self.category_lines.values()), default=1)
        self.label_height = label_rows * (self.font_size + 3) + 6
        legend_height = len(self.legend_rows) * (self.font_size + 8) + 4 if self.has_legend else 0
        self.bottom = self.label_height + legend_height + 4
        self.plot_h = self.height - self.top - self.bottom
        if self.plot_h < 20:
            raise ValueError("the chart is too low for its labels and legend")
        self.baseline = self.top + self.plot_h

    # coordinates
    def x(self, index: int) -> float:
        """Centre of the category's slot."""
        return self.left + (index + 0.5) * self.slot

    def y(self, value: float) -> float:
        value = min(max(float(value), 0.0), self.y_max)
        return self.top + self.plot_h * (1 - value / self.y_max)

    def colour(self, index: int) -> str:
        return self.series[index].colour or PALETTE[index % len(PALETTE)]

    def text(self, x, y, content, *, anchor="start", size=None, fill=TEXT_COLOUR) -> str:
        return (
            f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size or self.font_size}" text-anchor="{anchor}" '
            f'fill="{fill}" stroke="none">{_esc(content)}</text>'
        )

    def _category_labels(self, wrap: bool) -> dict[int, list[str]]:
        """{category index: label lines}. Wrapped labels take up to two lines under their own
        slot (bar charts: every bar keeps its name); otherwise every n-th label is shown so
        that none overlap (line charts over many months)."""
        if wrap:
            return {i: _wrap(c, self.slot - 4, self.font_size) for i, c in enumerate(self.categories)}
        widest = max((_text_width(c, self.font_size) for c in self.categories), default=0)
        every = max(1, math.ceil((widest + 6) / self.slot))
        return {i: [c] for i, c in enumerate(self.categories) if i % every == 0}

    def _legend_layout(self):
        rows, row, used = [], [], 0.0
        available = self.width - 24
        for index, s in enumerate(self.series):
            item = 18 + _text_width(s.name, self.font_size) + 16
            if row and used + item > available:
                rows.append(row)
                row, used = [], 0.0
            row.append((index, used))
            used += item
        if row:
            rows.append(row)
        return rows

    def _default_desc(self) -> str:
        parts = []
        for s in self.series:
            values = ", ".join(
                f"{c} {'—' if v is None else self.value_format(v)}" for c, v in zip(self.categories, s.values)
            )
            parts.append(f"{s.name}: {values}")
        return "; ".join(parts)

    def _axes(self):
        out = ['<g class="axes">']
        for tick in self.ticks:
            y = self.y(tick)
            colour = AXIS_COLOUR if tick == 0 else GRID_COLOUR
            out.append(f'<line x1="{self.left:.1f}" y1="{y:.1f}" x2="{self.width - self.right:.1f}" '
                       f'y2="{y:.1f}" stroke="{colour}" stroke-width="1"/>')
            out.append(self.text(self.left - 5, y + self.font_size / 3, self.value_format(tick), anchor="end",
                                 fill=AXIS_COLOUR))
        out.append(f'<line x1="{self.left:.1f}" y1="{self.top:.1f}" x2="{self.left:.1f}" '
                   f'y2="{self.baseline:.1f}" stroke="{AXIS_COLOUR}" stroke-width="1"/>')
        if self.y_label:
            out.append(self.text(4, self.font_size + 4, self.y_label, fill=AXIS_COLOUR))
        for i, lines in self.category_lines.items():
            for row, line in enumerate(lines):
                y = self.baseline + (row + 1) * (self.font_size + 3) + 1
                out.append(self.text(self.x(i), y, line, anchor="middle", fill=AXIS_COLOUR))
        out.append("</g>")
        return out

    def _legend(self):
        if not self.has_legend:
            return []
        out = ['<g class="legend">']
        row_height = self.font_size + 8
        first_y = self.baseline + self.label_height + 4
        for r, row in enumerate(self.legend_rows):
            y = first_y + r * row_height
            for index, offset in row:
                x = 12 + offset
                s = self.series[index]
                colour = self.colour(index)
                dash = ' stroke-dasharray="4 2"' if s.dashed else ""
                out.append(f'<line x1="{x:.1f}" y1="{y + row_height / 2:.1f}" x2="{x + 14:.1f}" '
                           f'y2="{y + row_height / 2:.1f}" stroke="{colour}" stroke-width="4"{dash}/>')
                out.append(self.text(x + 18, y + row_height / 2 + self.font_size / 3, s.name))
        out.append("</g>")
        return out

    def render(self, body) -> Markup:
        desc = self.desc if self.desc is not None else self._default_desc()
        head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" role="img" '
            f'aria-label="{_esc(self.title)}" '
            f'width="{self.width}" height="{self.height}" viewBox="0 0 {self.width} {self.height}" '
            f'font-family="{_esc(self.font_family)}" class="chart">'
            f"<title>{_esc(self.title)}</title><desc>{_esc(desc)}</desc>"
            f'<rect x="0" y="0" width="{self.width}" height="{self.height}" fill="#ffffff"/>'
        )
        return Markup("".join([head, *self._axes(), *body, *self._legend(), "</svg>"]))
