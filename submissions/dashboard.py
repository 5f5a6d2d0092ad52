"""The curation team's figures: the backlog by state and age, each curator's open claims, the weekly pace.

Every figure is computed by the database in a fixed number of queries whatever the number of submissions
(five in all); nothing here loops over rows in Python. Definitions, also shown on the dashboard:

- *Waiting*: the time since the submission's current state began (the queue's "waiting since").
- *First answer*: the first public event by a curator after the contributor confirmed the submission (a
  claim, a message, a request for changes or a decision).
- *Decision*: the first approval, rejection or request for changes by a curator after confirmation.
- A week runs from Monday, in the portal's time zone; an answer or a decision counts in the week it was
  given. Submissions rejected as spam are left out of the pace.

The weekly medians come from PostgreSQL's `percentile_cont(0.5)`; other databases (SQLite, the demo)
rank the durations with window functions and average the middle one or two, which is the same number.
"""

import datetime
from dataclasses import dataclass

from django.db import connection
from django.db.models import (
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Min,
    Q,
)
from django.db.models.functions import TruncWeek
from django.utils import timezone

from submissions.curators import curator_users
from submissions.models import Event, Submission

State = Submission.State

# The states of the backlog: everything confirmed that is neither published nor closed.
BACKLOG_STATES = (
    State.SUBMITTED,
    State.IN_REVIEW,
    State.CHANGES_REQUESTED,
    State.APPROVED,
    State.MIRRORING,
    State.MIRROR_FAILED,
)
# Age buckets of the backlog: under 2 days, 2 to 7 days, over 7 days.
AGE_LIMITS = (datetime.timedelta(days=2), datetime.timedelta(days=7))
DECISION_STATES = (State.APPROVED, State.REJECTED, State.CHANGES_REQUESTED)
# A claim is open while its submission needs someone: from review to publication.
PUBLISHING_STATES = (State.APPROVED, State.MIRRORING, State.MIRROR_FAILED)
CLAIM_STATES = (*Submission.AWAITING_CURATORS_STATES, State.CHANGES_REQUESTED, *PUBLISHING_STATES)
WEEKS = 12


@dataclass(frozen=True)
class BacklogRow:
    """How many submissions of one state wait under 2 days, 2 to 7 days and over 7 days."""

    state: str
    under_2_days: int
    from_2_to_7_days: int
    over_7_days: int

    @property
    def label(self):
        """The state's name."""
        return State(self.state).label

    @property
    def total(self):
        """How many submissions are in this state."""
        return self.under_2_days + self.from_2_to_7_days + self.over_7_days

    @property
    def buckets(self):
        """The three counts, youngest first."""
        return [self.under_2_days, self.from_2_to_7_days, self.over_7_days]


@dataclass(frozen=True)
class ClaimRow:
    """One curator's open claims: submissions assigned to them that still need someone.

    `to_review`: waiting for the curators (in review, or assigned before review); `overdue`: of those, the
    ones waiting past the review deadline; `oldest`: when the longest of those began to wait.
    """

    curator: object
    to_review: int = 0
    changes_requested: int = 0
    publishing: int = 0
    overdue: int = 0
    oldest: datetime.datetime | None = None

    @property
    def total(self):
        """How many open claims the curator has."""
        return self.to_review + self.changes_requested + self.publishing

    @property
    def buckets(self):
        """The counts by kind, as the chart stacks them."""
        return [self.to_review, self.changes_requested, self.publishing]


@dataclass(frozen=True)
class WeekRow:
    """The pace of one week: answers and decisions given, and their median time since confirmation."""

    week: datetime.date
    answers: int = 0
    answer_median: datetime.timedelta | None = None
    decisions: int = 0
    decision_median: datetime.timedelta | None = None


def backlog(*, now=None):
    """Return a `BacklogRow` per backlog state (in the workflow's order), in one query."""
    now = now or timezone.now()
    young, old = now - AGE_LIMITS[0], now - AGE_LIMITS[1]
    counted = dict.fromkeys(BACKLOG_STATES, (0, 0, 0))
    rows = (
        Submission.objects.filter(state__in=BACKLOG_STATES)
        .values("state")
        .annotate(
            under=Count("pk", filter=Q(state_changed_at__gt=young)),
            middle=Count("pk", filter=Q(state_changed_at__lte=young, state_changed_at__gte=old)),
            over=Count("pk", filter=Q(state_changed_at__lt=old)),
        )
        .order_by()
    )
    for row in rows:
        counted[row["state"]] = (row["under"], row["middle"], row["over"])
    return [BacklogRow(state, *counted[state]) for state in BACKLOG_STATES]


def claims(*, now=None, sla_days):
    """Return a `ClaimRow` per curator (those without claims too), most claims first, in two queries."""
    now = now or timezone.now()
    overdue_since = now - datetime.timedelta(days=sla_days)
    grouped = (
        Submission.objects.filter(assignee__isnull=False, state__in=CLAIM_STATES)
        .values("assignee")
        .annotate(
            to_review=Count("pk", filter=Q(state__in=Submission.AWAITING_CURATORS_STATES)),
            changes_requested=Count("pk", filter=Q(state=State.CHANGES_REQUESTED)),
            publishing=Count("pk", filter=Q(state__in=PUBLISHING_STATES)),
            overdue=Count(
                "pk",
                filter=Q(state__in=Submission.AWAITING_CURATORS_STATES, state_changed_at__lte=overdue_since),
            ),
            oldest=Min("state_changed_at", filter=Q(state__in=Submission.AWAITING_CURATORS_STATES)),
        )
        .order_by()
    )
    by_user = {row.pop("assignee"): row for row in grouped}
    # Curators, and anyone else who still holds a claim (a former curator's claims need a new owner).
    users = curator_users()
    people = users.model.objects.filter(Q(pk__in=users.values("pk")) | Q(pk__in=list(by_user)))
    rows = [ClaimRow(curator=person, **by_user.get(person.pk, {})) for person in people]
    return sorted(rows, key=lambda row: (-row.total, -row.overdue, row.curator.get_username()))


# The median with PostgreSQL's ordered-set aggregate.
_PERCENTILE_MEDIAN = """
SELECT week, COUNT(*), PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY wait)
FROM ({inner}) AS waits
GROUP BY week
"""

# The median without percentile_cont: rank each week's durations, keep the middle one (odd count) or two
# (even count) and average them; the same number as percentile_cont(0.5).
_WINDOW_MEDIAN = """
SELECT week, MAX(size), AVG(wait) FROM (
    SELECT week, wait,
           ROW_NUMBER() OVER (PARTITION BY week ORDER BY wait) AS position,
           COUNT(*) OVER (PARTITION BY week) AS size
    FROM ({inner}) AS waits
) AS ranked
WHERE position IN ((size + 1) / 2, (size + 2) / 2)
GROUP BY week
"""


def _waits(kind, *, start):
    """Return the submissions first answered (or decided) since `start`: the week of it and how long it took.

    One row per submission: its timeline is joined and grouped once (the earliest matching event), never
    searched again per output column.
    """
    after_confirmation = {
        "events__actor_kind": Event.Actor.CURATOR,
        "events__created_at__gte": F("confirmed_at"),
    }
    if kind == "answer":
        after_confirmation["events__public"] = True
    else:
        after_confirmation["events__kind"] = Event.Kind.STATE_CHANGE
        after_confirmation["events__to_state__in"] = DECISION_STATES
    return (
        Submission.objects.filter(confirmed_at__isnull=False, spam=False, **after_confirmation)
        .values("pk")
        .annotate(done_at=Min("events__created_at"))
        .filter(done_at__gte=start)
        .annotate(
            week=TruncWeek("done_at", tzinfo=timezone.get_current_timezone()),
            wait=ExpressionWrapper(F("done_at") - F("confirmed_at"), output_field=DurationField()),
        )
        .values("week", "wait")
        .order_by()
    )


def _as_date(value):
    if isinstance(value, str):  # SQLite returns the truncated week as text to raw SQL
        value = datetime.datetime.fromisoformat(value)
    return value.date() if isinstance(value, datetime.datetime) else value


def _as_duration(value):
    if value is None or isinstance(value, datetime.timedelta):
        return value
    return datetime.timedelta(microseconds=round(value))  # SQLite: microseconds, as Django stores them


def _medians(template, waits):
    inner, params = waits.query.get_compiler(connection=connection).as_sql()
    with connection.cursor() as cursor:
        cursor.execute(template.format(inner=inner), params)
        rows = cursor.fetchall()
    return {_as_date(week): (count, _as_duration(median)) for week, count, median in rows}


def weekly_medians_percentile(waits):
    """Return {week: (count, median)} with PostgreSQL's percentile_cont (one query)."""
    return _medians(_PERCENTILE_MEDIAN, waits)


def weekly_medians_window(waits):
    """Return {week: (count, median)} with window functions, on any database (one query)."""
    return _medians(_WINDOW_MEDIAN, waits)


def weekly_medians(waits):
    """Return {week: (count, median)}: percentile_cont on PostgreSQL, window functions elsewhere."""
    if connection.vendor == "postgresql":
        return weekly_medians_percentile(waits)
    return weekly_medians_window(waits)


def first_week(*, now=None, weeks=WEEKS):
    """Return the Monday that starts the first of the last `weeks` weeks (this one included)."""
    today = timezone.localdate(now or timezone.now())
    return today - datetime.timedelta(days=today.weekday(), weeks=weeks - 1)


def pace(*, now=None, weeks=WEEKS):
    """Return a `WeekRow` for each of the last `weeks` weeks, oldest first, in two queries."""
    monday = first_week(now=now, weeks=weeks)
    start = timezone.make_aware(datetime.datetime.combine(monday, datetime.time.min))
    answers = weekly_medians(_waits("answer", start=start))
    decisions = weekly_medians(_waits("decision", start=start))
    rows = []
    for n in range(weeks):
        week = monday + datetime.timedelta(weeks=n)
        answered, answer_median = answers.get(week, (0, None))
        decided, decision_median = decisions.get(week, (0, None))
        rows.append(WeekRow(week, answered, answer_median, decided, decision_median))
    return rows
