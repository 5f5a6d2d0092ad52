"""Bar charts of the curators' dashboard, drawn on the server as SVG (no JavaScript): geometry and tooltips.

Like `portal.usage_chart`, this module computes coordinates; the template
`admin/submissions/submission/includes/bar_chart.html` draws them with a title and a summary in words as
the chart's text alternative, and the dashboard shows the same figures as a table beside each chart.
"""

from dataclasses import dataclass

from django.utils.translation import gettext as _

WIDTH = 560
LABEL_WIDTH = 150  # room for a row's label left of a horizontal bar
VALUE_ROOM = 44  # room for a bar's total right of it
ROW_HEIGHT = 22
BAR_THICKNESS = 14
TOP = 8
LEGEND_HEIGHT = 24
COLUMN_CHART_HEIGHT = 170
COLUMN_PADDING_LEFT = 44
COLUMN_PADDING_BOTTOM = 22
COLUMN_PADDING_TOP = 14


@dataclass(frozen=True)
class Rect:
    """One drawn rectangle with the words a screen reader or a tooltip gives for it."""

    x: float
    y: float
    width: float
    height: float
    color: str
    title: str


@dataclass(frozen=True)
class Label:
    """A piece of text at a position (anchor: start, middle or end)."""

    x: float
    y: float
    text: str
    anchor: str = "start"


@dataclass(frozen=True)
class LegendEntry:
    """A colour swatch and the series it stands for."""

    x: float
    y: float
    color: str
    text: str


@dataclass(frozen=True)
class BarChart:
    """Everything a template needs to draw a bar chart: its size, rectangles, labels, legend and words."""

    key: str
    title: str
    summary: str
    width: int
    height: int
    rects: list[Rect]
    labels: list[Label]
    legend: list[LegendEntry]
    axis: list[tuple[float, float, float, float]]


def _legend(series, colors, *, y):
    entries, x = [], 8
    for text, color in zip(series, colors, strict=True):
        entries.append(LegendEntry(x=x, y=y, color=color, text=str(text)))
        x += 14 + 7 * len(str(text)) + 16  # swatch, text at under 7 px a character at 11 px, gap
    return entries


def stacked_bars(rows, *, series, colors, key, title, summary):
    """Return a horizontal `BarChart`: one bar per (label, [value per series]) row, its parts stacked.

    Bars are scaled to the largest row total; a row of zeros has no bar but keeps its label and total.
    """
    totals = [sum(values) for _label, values in rows]
    largest = max(totals, default=0) or 1
    span = WIDTH - LABEL_WIDTH - VALUE_ROOM
    rects, labels = [], []
    for index, ((label, values), total) in enumerate(zip(rows, totals, strict=True)):
        top = TOP + index * ROW_HEIGHT
        labels.append(Label(x=LABEL_WIDTH - 6, y=top + BAR_THICKNESS - 3, text=str(label), anchor="end"))
        x = LABEL_WIDTH
        for value, name, color in zip(values, series, colors, strict=True):
            if value:
                width = round(span * value / largest, 1)
                rects.append(
                    Rect(
                        x=x,
                        y=top,
                        width=width,
                        height=BAR_THICKNESS,
                        color=color,
                        title=_("%(label)s, %(series)s: %(value)s")
                        % {"label": label, "series": name, "value": value},
                    )
                )
                x = round(x + width, 1)
        labels.append(Label(x=x + 4, y=top + BAR_THICKNESS - 3, text=str(total)))
    bottom = TOP + len(rows) * ROW_HEIGHT
    return BarChart(
        key=key,
        title=str(title),
        summary=str(summary),
        width=WIDTH,
        height=bottom + LEGEND_HEIGHT,
        rects=rects,
        labels=labels,
        legend=_legend(series, colors, y=bottom + 8),
        axis=[(LABEL_WIDTH, TOP - 2, LABEL_WIDTH, bottom - ROW_HEIGHT + BAR_THICKNESS + 2)] if rows else [],
    )


def column_bars(points, *, color, key, title, summary, value_text, axis_text):
    """Return a vertical `BarChart`: one column per (label, value or None) point, left to right.

    `value_text(value)` words a value for its tooltip; `axis_text(value)` words the axis' top. A point
    without a value (no answer that week) has no column; its label stays.
    """
    values = [value for _label, value in points if value is not None]
    largest = max(values, default=0) or 1
    left, right = COLUMN_PADDING_LEFT, WIDTH - 8
    top, bottom = COLUMN_PADDING_TOP, COLUMN_CHART_HEIGHT - COLUMN_PADDING_BOTTOM
    slot = (right - left) / max(1, len(points))
    rects, labels = [], []
    for index, (label, value) in enumerate(points):
        x = left + index * slot
        if value is not None:
            height = round((bottom - top) * value / largest, 1)
            rects.append(
                Rect(
                    x=round(x + slot * 0.15, 1),
                    y=round(bottom - height, 1),
                    width=round(slot * 0.7, 1),
                    height=height,
                    color=color,
                    title=_("%(label)s: %(value)s") % {"label": label, "value": value_text(value)},
                )
            )
        if index in (0, len(points) - 1) or index % 2 == 0:
            labels.append(
                Label(x=round(x + slot / 2, 1), y=COLUMN_CHART_HEIGHT - 6, text=str(label), anchor="middle")
            )
    labels.append(Label(x=left - 4, y=top + 4, text=axis_text(largest) if values else "", anchor="end"))
    labels.append(Label(x=left - 4, y=bottom, text="0", anchor="end"))
    return BarChart(
        key=key,
        title=str(title),
        summary=str(summary),
        width=WIDTH,
        height=COLUMN_CHART_HEIGHT,
        rects=rects,
        labels=labels,
        legend=[],
        axis=[(left, bottom, right, bottom), (left, top, left, bottom)],
    )
