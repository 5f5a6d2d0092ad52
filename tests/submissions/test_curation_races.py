""" "Once" under concurrent beat runs: the digest and the reminders, run by several threads at the same moment.

Each thread has its own database connection and commits for real. On PostgreSQL the digest's unique row
and the submission's row lock decide; SQLite serialises writers (every transaction begins IMMEDIATE), so
the same tests hold there too.
"""

import datetime

import pytest
from django.core import mail
from django.db.models import F

from submissions import services, tasks
from submissions.models import DigestDelivery, Event, Submission
from tests.factories import changes_requested, confirmed, in_review, make_curator_user
from tests.submissions.test_concurrency import race

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def age(submission, days):
    delta = datetime.timedelta(days=days)
    Submission.objects.filter(pk=submission.pk).update(state_changed_at=F("state_changed_at") - delta)
    Event.objects.filter(submission=submission).update(created_at=F("created_at") - delta)


def test_two_digest_runs_at_once_send_each_curator_one_digest():
    make_curator_user("alice")
    make_curator_user("bob")
    confirmed(name="Kelp forest survey")
    mail.outbox.clear()

    outcomes = race(tasks.send_digests, tasks.send_digests, tasks.send_digests)

    assert all(kind == "won" for kind, _ in outcomes), outcomes
    assert sum(sent for _, sent in outcomes) == 2  # each run says how many digests it sent itself
    assert sorted(message.to[0] for message in mail.outbox) == ["alice@portal.test", "bob@portal.test"]
    assert DigestDelivery.objects.count() == 2


def test_two_reminder_runs_at_once_remind_once():
    alice = make_curator_user("alice")
    overdue, _ = in_review(alice)
    age(overdue, 6)
    silent, _ = changes_requested(alice)
    age(silent, 15)
    mail.outbox.clear()

    outcomes = race(tasks.send_reminders, tasks.send_reminders)

    assert all(kind == "won" for kind, _ in outcomes), outcomes
    totals = {
        key: sum(done[key] for _, done in outcomes) for key in ("assignees", "contributors", "abandoned")
    }
    assert totals == {"assignees": 1, "contributors": 1, "abandoned": 0}
    assert Event.objects.filter(kind=Event.Kind.REMINDER).count() == 2
    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        ["alice@portal.test", silent.contact_email]
    )


def test_abandoning_and_reopening_at_once_leave_one_consistent_state():
    alice = make_curator_user("alice")
    submission, _ = changes_requested(alice)
    age(submission, 14)
    services.remind_contributor(submission)
    age(submission, 47)

    outcomes = race(*(lambda: services.abandon(submission) for _ in range(3)))

    assert [kind for kind, _ in outcomes] == ["won"] * 3
    assert sum(result is not None for _, result in outcomes) == 1
    submission.refresh_from_db()
    assert submission.state == Submission.State.ABANDONED
    assert submission.events.filter(to_state=Submission.State.ABANDONED).count() == 1
