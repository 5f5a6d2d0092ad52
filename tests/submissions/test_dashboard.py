"""The curation team's dashboard: its figures against hand-computed ones, its queries, its page.

Times are set by hand (rows written through the services, then their timestamps moved) so that every
expected number below can be checked with pencil and paper.
"""

import datetime
import html

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from submissions import dashboard, services
from submissions.models import Domain, Event, Submission, TermsVersion, fold_name
from tests.factories import UserFactory, committed, confirmed, in_review, make_curator_user

pytestmark = pytest.mark.django_db

State = Submission.State
UTC = datetime.UTC
# A Wednesday: its week began on Monday 23 November 2026.
NOW = datetime.datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
DASHBOARD = "/admin/submissions/submission/dashboard/"


def at(days=0, hours=0, minutes=0):
    """Return the moment `days`, `hours` and `minutes` before NOW."""
    return NOW - datetime.timedelta(days=days, hours=hours, minutes=minutes)


def set_state(submission, state, *, since, assignee=None):
    """Put a submission in a state since a given moment (test arrangement, not a transition)."""
    Submission.objects.filter(pk=submission.pk).update(state=state, state_changed_at=since, assignee=assignee)


def curator_event(submission, *, when, public=True, to_state="", curator=None):
    """Add a curator's event to a submission's timeline at a given moment."""
    event = Event.objects.create(
        submission=submission,
        kind=Event.Kind.STATE_CHANGE if to_state else Event.Kind.MESSAGE,
        actor_kind=Event.Actor.CURATOR,
        actor=curator,
        to_state=to_state,
        public=public,
        message="…",
    )
    Event.objects.filter(pk=event.pk).update(created_at=when)


def confirmed_at(when, **kwargs):
    """Return a confirmed submission whose confirmation (and every event so far) happened at `when`."""
    submission, _ = confirmed(**kwargs)
    Submission.objects.filter(pk=submission.pk).update(confirmed_at=when, state_changed_at=when)
    Event.objects.filter(submission=submission).update(created_at=when)
    submission.refresh_from_db()
    return submission


# -- the backlog -------------------------------------------------------------------------------------------


def test_backlog_counts_each_state_by_age():
    for since in (at(hours=1), at(days=1, hours=23), at(days=2), at(days=7), at(days=7, minutes=1)):
        set_state(confirmed()[0], State.SUBMITTED, since=since)
    set_state(confirmed()[0], State.CHANGES_REQUESTED, since=at(days=30))
    set_state(confirmed()[0], State.MIRROR_FAILED, since=at(hours=3))
    # Not in the backlog: unconfirmed, published and closed ones.
    for state in (
        State.AWAITING_CONFIRMATION,
        State.PUBLISHED,
        State.REJECTED,
        State.WITHDRAWN,
        State.ABANDONED,
    ):
        set_state(confirmed()[0], state, since=at(days=20))

    rows = {row.state: row.buckets for row in dashboard.backlog(now=NOW)}

    # under 2 days: 1 h and 1 d 23 h; 2 to 7 days: exactly 2 d and exactly 7 d; over 7 days: 7 d 1 min.
    assert rows == {
        State.SUBMITTED: [2, 2, 1],
        State.IN_REVIEW: [0, 0, 0],
        State.CHANGES_REQUESTED: [0, 0, 1],
        State.APPROVED: [0, 0, 0],
        State.MIRRORING: [0, 0, 0],
        State.MIRROR_FAILED: [1, 0, 0],
    }


# -- claims ------------------------------------------------------------------------------------------------


def test_claims_per_curator_with_those_past_the_deadline(curator, other_curator):
    carol = make_curator_user("carol")  # a curator without claims is listed too
    set_state(confirmed()[0], State.IN_REVIEW, since=at(days=6), assignee=curator)  # past 5 days
    set_state(confirmed()[0], State.IN_REVIEW, since=at(days=1), assignee=curator)
    set_state(confirmed()[0], State.SUBMITTED, since=at(days=9), assignee=curator)  # assigned before review
    set_state(confirmed()[0], State.CHANGES_REQUESTED, since=at(days=40), assignee=curator)
    set_state(confirmed()[0], State.MIRROR_FAILED, since=at(days=2), assignee=other_curator)
    set_state(confirmed()[0], State.PUBLISHED, since=at(days=2), assignee=other_curator)  # not open
    set_state(confirmed()[0], State.REJECTED, since=at(days=2), assignee=carol)  # not open
    former = UserFactory(username="dave")  # no longer a curator, still holding a claim
    set_state(confirmed()[0], State.IN_REVIEW, since=at(days=3), assignee=former)

    rows = {row.curator.username: row for row in dashboard.claims(now=NOW, sla_days=5)}

    assert set(rows) == {"alice", "bob", "carol", "dave"}
    alice = rows["alice"]
    assert (alice.to_review, alice.changes_requested, alice.publishing, alice.overdue) == (3, 1, 0, 2)
    assert alice.oldest == at(days=9)
    assert (rows["bob"].to_review, rows["bob"].publishing, rows["bob"].total) == (0, 1, 1)
    assert rows["carol"].total == 0 and rows["carol"].oldest is None
    assert rows["dave"].to_review == 1
    assert [row.curator.username for row in dashboard.claims(now=NOW, sla_days=5)] == [
        "alice",
        "bob",
        "dave",
        "carol",
    ]


# -- pace ----------------------------------------------------------------------------------------------------


@pytest.fixture
def paced(curator):
    """Submissions answered and decided in known weeks, with hand-computed medians.

    This week (from Monday 23 November): first answers after 1 h, 3 h and 8 h (median 3 h); decisions
    after 2 h and 10 h (median 6 h, the mean of the two middle values). The week before: one answer and
    one decision after 2 days. Ignored: events before confirmation, internal notes, a contributor's
    message, a spam rejection, an unconfirmed submission, and answers before the 12 weeks.
    """
    monday = datetime.datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
    a = confirmed_at(monday + datetime.timedelta(hours=1))
    curator_event(a, when=monday + datetime.timedelta(hours=1, minutes=-30), public=True)  # before confirming
    curator_event(a, when=monday + datetime.timedelta(hours=1, minutes=30), public=False)  # internal note
    curator_event(a, when=monday + datetime.timedelta(hours=2))  # first answer: 1 h
    curator_event(a, when=monday + datetime.timedelta(hours=3), to_state=State.CHANGES_REQUESTED)  # 2 h

    b = confirmed_at(monday + datetime.timedelta(hours=5))
    curator_event(b, when=monday + datetime.timedelta(hours=8), to_state=State.IN_REVIEW)  # answer: 3 h
    curator_event(b, when=monday + datetime.timedelta(hours=15), to_state=State.APPROVED)  # decision: 10 h

    c = confirmed_at(monday + datetime.timedelta(hours=10))
    Event.objects.create(
        submission=c, kind=Event.Kind.MESSAGE, actor_kind=Event.Actor.CONTRIBUTOR, message="?"
    )
    curator_event(c, when=monday + datetime.timedelta(hours=18))  # answer: 8 h, no decision yet

    before = confirmed_at(monday - datetime.timedelta(days=5))
    curator_event(before, when=monday - datetime.timedelta(days=3), to_state=State.REJECTED)  # 2 d, both

    spam = confirmed_at(monday + datetime.timedelta(hours=1))
    Submission.objects.filter(pk=spam.pk).update(spam=True)
    curator_event(spam, when=monday + datetime.timedelta(hours=1, minutes=1), to_state=State.REJECTED)

    old = confirmed_at(monday - datetime.timedelta(weeks=20))
    curator_event(old, when=monday - datetime.timedelta(weeks=19), to_state=State.APPROVED)
    return monday


def test_weekly_medians_of_first_answer_and_decision(paced):
    weeks = dashboard.pace(now=NOW)
    assert len(weeks) == 12
    assert weeks[0].week == datetime.date(2026, 9, 7)
    this_week, last_week = weeks[-1], weeks[-2]
    assert this_week.week == datetime.date(2026, 11, 23)
    assert (this_week.answers, this_week.answer_median) == (3, datetime.timedelta(hours=3))
    assert (this_week.decisions, this_week.decision_median) == (2, datetime.timedelta(hours=6))
    assert (last_week.answers, last_week.answer_median) == (1, datetime.timedelta(days=2))
    assert (last_week.decisions, last_week.decision_median) == (1, datetime.timedelta(days=2))
    assert all(row.answers == row.decisions == 0 and row.answer_median is None for row in weeks[:-2])


def test_the_window_median_gives_percentile_conts_numbers(paced, curator):
    # An even and an odd week with uneven gaps, so that the middle values matter.
    monday = paced - datetime.timedelta(weeks=3)
    for hours in (1, 2, 4, 30):
        s = confirmed_at(monday)
        curator_event(s, when=monday + datetime.timedelta(hours=hours), to_state=State.APPROVED)
    start = timezone.make_aware(datetime.datetime(2026, 9, 7))
    for kind in ("answer", "decision"):
        waits = dashboard._waits(kind, start=start)
        window = dashboard.weekly_medians_window(waits)
        assert window[monday.date()] == (4, datetime.timedelta(hours=3))
        if connection.vendor == "postgresql":
            assert dashboard.weekly_medians_percentile(waits) == window


def test_weeks_follow_the_portal_time_zone(settings, curator):
    settings.TIME_ZONE = "Pacific/Auckland"  # UTC+13 in November: Monday begins on Sunday at 11:00 UTC
    timezone.activate("Pacific/Auckland")
    try:
        sunday_noon_utc = datetime.datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
        s = confirmed_at(sunday_noon_utc - datetime.timedelta(hours=2))
        curator_event(s, when=sunday_noon_utc, to_state=State.APPROVED)
        weeks = dashboard.pace(now=NOW)
        assert weeks[-1].week == datetime.date(2026, 11, 23) and weeks[-1].decisions == 1
    finally:
        timezone.deactivate()


# -- the page ------------------------------------------------------------------------------------------------


def seed(count, *, curator):
    """Insert `count` submissions in bulk, each with a confirmation and a curator's answer and decision."""
    terms = TermsVersion.current()
    domain = Domain.objects.get(name="Marine")
    now = timezone.now()
    start = Submission.objects.count()
    states = [State.SUBMITTED, State.IN_REVIEW, State.CHANGES_REQUESTED, State.APPROVED, State.REJECTED]
    rows = []
    for n in range(start, start + count):
        rows.append(
            Submission(
                reference=f"DP-2025-{n + 1:06d}",
                name=f"Bulk dataset {n}",
                name_key=fold_name(f"Bulk dataset {n}"),
                location=f"https://data.example.org/{n}.csv",
                modalities="text",
                domain=domain,
                contact_email=f"person{n}@example.org",
                terms_version=terms,
                terms_accepted_at=now,
                state=states[n % len(states)],
                state_changed_at=now - datetime.timedelta(hours=n),
                confirmed_at=now - datetime.timedelta(hours=n + 5),
                assignee=curator if n % 3 == 0 else None,
            )
        )
    created = Submission.objects.bulk_create(rows, batch_size=500)
    events = []
    for submission in created:
        events.append(
            Event(submission=submission, kind="message", actor_kind="curator", actor=curator, message="Hello")
        )
        events.append(
            Event(
                submission=submission,
                kind="state_change",
                actor_kind="curator",
                actor=curator,
                to_state=State.CHANGES_REQUESTED,
            )
        )
    Event.objects.bulk_create(events, batch_size=500)


DASHBOARD_MAX_QUERIES = 9


def test_dashboard_query_count_does_not_grow_with_rows(curator, django_assert_max_num_queries):
    client = Client()
    client.force_login(curator)
    client.get(DASHBOARD)  # warm the session and content types
    seed(10, curator=curator)
    with CaptureQueriesContext(connection) as at_ten:
        assert client.get(DASHBOARD).status_code == 200
    seed(290, curator=curator)
    with django_assert_max_num_queries(DASHBOARD_MAX_QUERIES), CaptureQueriesContext(connection) as at_300:
        response = client.get(DASHBOARD)
    assert response.status_code == 200
    assert len(at_ten.captured_queries) == len(at_300.captured_queries)
    assert sum(row.total for row in response.context["backlog"]) == 240  # 4 of each 5 are open


def test_dashboard_page_shows_charts_tables_and_definitions(curator, other_curator):
    in_review(curator)
    client = Client()
    client.force_login(curator)
    page = html.unescape(client.get(DASHBOARD).content.decode())
    for text in (
        "Backlog by state and age",
        'role="img"',
        '<desc id="chart-backlog-desc">1 submission in the backlog',
        "The first public event by a curator after the contributor confirmed the submission",
        "The first approval, rejection or request for changes by a curator after confirmation.",
        "alice (you)",
        "1 open claim. 1 curator holds them; the most are alice's (1). 0 of them wait past the review deadline.",
        "Median time to the first answer",
    ):
        assert text in page, text
    assert "/admin/submissions/submission/dashboard/" in client.get("/admin/").content.decode()
    assert (
        "/admin/submissions/submission/dashboard/"
        in client.get("/admin/submissions/submission/").content.decode()
    )


def test_dashboard_is_for_curators_only(curator):
    staff = UserFactory(username="helpdesk", is_staff=True)
    client = Client()
    client.force_login(staff)
    assert client.get(DASHBOARD).status_code == 403
    assert "/admin/submissions/submission/dashboard/" not in client.get("/admin/").content.decode()
    anonymous = Client().get(DASHBOARD)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/admin/login/")


def test_spam_rejections_stay_out_of_the_pace(curator):
    submission, _ = confirmed()
    with committed():
        services.reject_as_spam(submission, by=curator, reason="Spam.")
    weeks = dashboard.pace()
    assert sum(row.decisions + row.answers for row in weeks) == 0
