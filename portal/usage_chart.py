"""A small line chart of a dataset's usage history, drawn on the server as SVG (no JavaScript needed).

Both the public dataset page and the contributor's status page show it, so it lives here rather than in
either app. `usage_chart` only computes coordinates and words (in the reader's language, so it is called
while the page is drawn); `templates/includes/usage_chart.html` draws them, with a text summary and a table
as the chart's text alternative.
"""

import datetime
from dataclasses import dataclass

from django.utils.dateformat import format as format_date
from django.utils.formats import number_format
from django.utils.translation import gettext

WIDTH = 320
HEIGHT = 130
PADDING_LEFT = 44
PADDING_RIGHT = 8
PADDING_TOP = 22  # room for the series' label above the plot
PADDING_BOTTOM = 22


@dataclass(frozen=True)
class UsagePoint:
    """The usage figures of one dataset on one day."""

    day: datetime.date
    downloads: int
    likes: int


@dataclass(frozen=True)
class Series:
    """One line of the chart: its label, SVG polyline points, axis bounds and the words that describe it."""

    key: str
    label: str
    points: str
    dots: list[tuple[float, float]]
    maximum: int
    latest: int
    summary: str


@dataclass(frozen=True)
class UsageChart:
    """Everything the template needs to draw the usage history and say it in words."""

    history: list[UsagePoint]
    series: list[Series]
    first_day: datetime.date
    last_day: datetime.date
    width: int = WIDTH
    height: int = HEIGHT
    plot_left: int = PADDING_LEFT
    plot_right: int = WIDTH - PADDING_RIGHT
    plot_top: int = PADDING_TOP
    plot_bottom: int = HEIGHT - PADDING_BOTTOM

    @property
    def one_day(self):
        """Whether the history holds a single day (then the time axis has one label)."""
        return self.first_day == self.last_day


def _series(history, *, key, label):
    values = [getattr(point, key) for point in history]
    maximum = max(values)
    span_x = PADDING_LEFT, WIDTH - PADDING_RIGHT
    span_y = PADDING_TOP, HEIGHT - PADDING_BOTTOM
    first, last = history[0].day, history[-1].day
    days = max(1, (last - first).days)
    dots = []
    for point, value in zip(history, values, strict=True):
        # A single day is drawn at the right edge: it is the latest figure.
        share_x = (point.day - first).days / days if last != first else 1
        x = span_x[0] + (span_x[1] - span_x[0]) * share_x
        # A flat line sits at the bottom when it is all zeros, and in the middle otherwise.
        share = value / maximum if maximum else 0
        y = span_y[1] - (span_y[1] - span_y[0]) * share
        dots.append((round(x, 1), round(y, 1)))
    change = values[-1] - values[0]
    words = {
        "label": label,
        "latest": _number(values[-1]),
        "last": format_date(last, "j F Y"),
        "first": format_date(first, "j F Y"),
        "change": _number(abs(change)),
        "maximum": _number(maximum),
    }
    if len(history) == 1:
        template = gettext("%(label)s: %(latest)s on %(last)s.")
    elif change > 0:
        template = gettext(
            "%(label)s: %(latest)s on %(last)s, up %(change)s since %(first)s; highest %(maximum)s."
        )
    elif change < 0:
        template = gettext(
            "%(label)s: %(latest)s on %(last)s, down %(change)s since %(first)s; highest %(maximum)s."
        )
    else:
        template = gettext(
            "%(label)s: %(latest)s on %(last)s, unchanged since %(first)s; highest %(maximum)s."
        )
    summary = template % words
    return Series(
        key=key,
        label=label,
        points=" ".join(f"{x},{y}" for x, y in dots),
        dots=dots,
        maximum=maximum,
        latest=values[-1],
        summary=summary,
    )


def _number(value):
    return number_format(value, force_grouping=True)


def usage_chart(history):
    """Return a `UsageChart` for usage points (any order), or None when there is no history yet."""
    history = sorted(history, key=lambda point: point.day)
    if not history:
        return None
    return UsageChart(
        history=history,
        series=[
            _series(history, key="downloads", label=gettext("Downloads")),
            _series(history, key="likes", label=gettext("Likes")),
        ],
        first_day=history[0].day,
        last_day=history[-1].day,
    )
