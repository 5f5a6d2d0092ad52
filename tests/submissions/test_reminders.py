"""Reminders, abandonment and reopening: what each step changes, records and e-mails, and what it refuses.

Time passes by moving a submission's clock back: its state's start and its timeline's events, by whole
days (`age`). Defaults: REVIEW_SLA_DAYS 5, CHANGES_REMINDER_DAYS 14, CHANGES_ABANDON_DAYS 60.
"""

import datetime
import html

import pytest
from django.core import mail
from django.db.models import F
from django.test import Client
from django.utils import timezone
from django.utils.formats import date_format

from submissions import selectors, services, tasks
from submissions.models import Event, Submission
from tests.factories import (
    UserFactory,
    changes_requested,
    committed,
    confirmed,
    in_review,
    make_curator_user,
    submit,
)

pytestmark = pytest.mark.django_db

State = Submission.State


def age(submission, days):
    """Let `days` pass for a submission: its state and every event so far began that much earlier."""
    delta = datetime.timedelta(days=days)
    Submission.objects.filter(pk=submission.pk).update(state_changed_at=F("state_changed_at") - delta)
    Event.objects.filter(submission=submission).update(created_at=F("created_at") - delta)
    submission.refresh_from_db()
    return submission


def reminders(submission):
    return list(submission.events.filter(kind=Event.Kind.REMINDER).order_by("id"))


def run(service, submission):
    """Call a reminder service as beat does, running its after-commit e-mails."""
    with committed():
        return service(submission)


# -- the assignee's reminder ---------------------------------------------------------------------------------


def test_assignee_is_reminded_once_past_the_review_deadline(curator):
    submission, _ = in_review(curator)
    age(submission, 6)
    mail.outbox.clear()

    event = run(services.remind_assignee, submission)

    assert event is not None and (event.kind, event.actor_kind, event.public) == ("reminder", "system", False)
    assert event.message.startswith("Reminder e-mailed to alice: waiting for the curators since ")
    assert "past the review deadline of 5 days" in event.message
    (sent,) = mail.outbox
    assert sent.to == ["alice@portal.test"]
    assert sent.subject == f"[{submission.reference}] Waiting past the review deadline: {submission.name}"
    assert f"/admin/submissions/submission/{submission.pk}/change/" in sent.body
    assert "past the review deadline of 5 days" in sent.body
    assert "review deadline" in sent.alternatives[0][0]

    assert run(services.remind_assignee, submission) is None
    assert len(mail.outbox) == 1 and len(reminders(submission)) == 1


def test_assignee_is_not_reminded_before_the_deadline(curator):
    submission, _ = in_review(curator)
    age(submission, 4)
    mail.outbox.clear()
    assert run(services.remind_assignee, submission) is None
    assert mail.outbox == [] and reminders(submission) == []


def test_a_submission_nobody_claimed_has_no_assignee_to_remind():
    submission, _ = confirmed()
    age(submission, 10)
    assert run(services.remind_assignee, submission) is None
    assert reminders(submission) == []
    assert submission in selectors.overdue()  # the digest lists it instead


def test_a_new_wait_gets_its_own_reminder(curator, other_curator):
    submission, _ = confirmed()
    services.assign(submission, to=other_curator, by=curator)  # assigned before review
    age(submission, 6)
    assert run(services.remind_assignee, submission) is not None
    services.claim(submission, by=other_curator)  # a new state: a new wait
    assert run(services.remind_assignee, submission) is None
    age(submission, 6)
    assert run(services.remind_assignee, submission) is not None
    assert len(reminders(submission)) == 2


def test_assignee_without_an_address_gets_the_reminder_recorded_only(curator):
    silent = make_curator_user("silent", email="")
    submission, _ = in_review(silent)
    age(submission, 6)
    mail.outbox.clear()
    event = run(services.remind_assignee, submission)
    assert event.message.startswith("Reminder due for silent, who can't be e-mailed (no address on file")
    assert mail.outbox == []
    assert run(services.remind_assignee, submission) is None


# -- the contributor's reminder ------------------------------------------------------------------------------


def test_contributor_is_reminded_once_of_an_unanswered_change_request(curator):
    submission, _ = changes_requested(curator)
    age(submission, 14)
    mail.outbox.clear()

    event = run(services.remind_contributor, submission)

    assert (event.kind, event.actor_kind, event.public) == ("reminder", "system", True)
    closes_on = date_format(timezone.localdate() + datetime.timedelta(days=46), "j F Y")
    assert f"by {closes_on}, the submission will be closed" in event.message
    (sent,) = mail.outbox
    assert sent.to == [submission.contact_email]
    assert sent.subject == f"[{submission.reference}] The curators are waiting for your changes"
    assert "/status/" in sent.body and f"Without an answer by {closes_on}, the submission" in sent.body

    assert run(services.remind_contributor, submission) is None
    assert len(mail.outbox) == 1
    status = html.unescape(Client().get(f"/status/{status_token(sent)}/").content.decode())
    assert "Reminder: the curators are waiting for the changes they asked for." in status


def status_token(message):
    from tests.factories import status_token_from

    return status_token_from(message.body)


def test_contributor_is_not_reminded_before_the_reminder_days(curator):
    submission, _ = changes_requested(curator)
    age(submission, 13)
    assert run(services.remind_contributor, submission) is None


def test_a_reply_counts_as_an_answer_and_restarts_the_clock(curator):
    submission, _ = changes_requested(curator)
    age(submission, 20)
    with committed():
        services.reply(submission, text="I am on it; the new card comes next week.")
    assert run(services.remind_contributor, submission) is None
    age(submission, 14)
    assert run(services.remind_contributor, submission) is not None


def test_no_contributor_reminder_outside_a_change_request(curator):
    submission, _ = in_review(curator)
    age(submission, 30)
    assert run(services.remind_contributor, submission) is None
    assert [event.public for event in reminders(submission)] == []


# -- abandonment -------------------------------------------------------------------------------------------------


def test_unanswered_change_request_closes_as_abandoned_after_the_reminder(curator):
    submission, _ = changes_requested(curator)
    age(submission, 14)
    run(services.remind_contributor, submission)
    age(submission, 45)  # 59 days since the request: not yet
    assert run(services.abandon, submission) is None
    age(submission, 1)
    mail.outbox.clear()

    event = run(services.abandon, submission)

    submission.refresh_from_db()
    assert submission.state == State.ABANDONED
    assert (event.from_state, event.to_state, event.actor_kind, event.public) == (
        State.CHANGES_REQUESTED,
        State.ABANDONED,
        "system",
        True,
    )
    assert "not answered in 60 days" in event.message
    (sent,) = mail.outbox
    assert sent.to == [submission.contact_email]
    assert (
        sent.subject
        == f"[{submission.reference}] Your submission was closed: no answer to the requested changes"
    )
    assert "reopen the submission" in sent.body and "/status/" in sent.body
    assert run(services.abandon, submission) is None


def test_no_abandonment_without_a_reminder_first(curator):
    submission, _ = changes_requested(curator)
    age(submission, 61)
    assert run(services.abandon, submission) is None
    # The reminder comes late (the sweeper was down): the contributor still gets its full 46 days.
    event = run(services.remind_contributor, submission)
    closes_on = date_format(timezone.localdate() + datetime.timedelta(days=46), "j F Y")
    assert f"by {closes_on}," in event.message
    age(submission, 45)
    assert run(services.abandon, submission) is None
    age(submission, 1)
    assert run(services.abandon, submission) is not None


def test_the_beat_task_sends_what_is_due_and_nothing_twice(curator, other_curator):
    overdue, _ = in_review(other_curator)
    age(overdue, 6)
    silent, _ = changes_requested(curator)
    age(silent, 15)
    closing, _ = changes_requested(curator)
    age(closing, 14)
    run(services.remind_contributor, closing)
    age(closing, 47)
    fresh, _ = changes_requested(curator)
    mail.outbox.clear()

    with committed():
        done = tasks.send_reminders()

    assert done == {"assignees": 1, "contributors": 1, "abandoned": 1}
    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        ["bob@portal.test", silent.contact_email, closing.contact_email]
    )
    with committed():
        assert tasks.send_reminders() == {"assignees": 0, "contributors": 0, "abandoned": 0}
    assert reminders(fresh) == []


# -- an abandoned submission: its name, reopening, withdrawing ----------------------------------------------------


@pytest.fixture
def abandoned(curator):
    submission, token = changes_requested(curator, name="Fjord salinity 1990-2020")
    age(submission, 14)
    run(services.remind_contributor, submission)
    age(submission, 47)
    run(services.abandon, submission)
    submission.refresh_from_db()
    assert submission.state == State.ABANDONED
    return submission, token


def test_an_abandoned_submission_keeps_its_name(abandoned):
    submission, _ = abandoned
    assert (
        selectors.find_name_clash("fjord SALINITY 1990 2020")
        == f"“{submission.name}” ({submission.reference})"
    )
    with pytest.raises(services.NameTaken):
        submit(name="Fjord salinity 1990-2020")


def test_contributor_reopens_an_abandoned_submission_from_the_status_page(abandoned):
    submission, token = abandoned
    page = html.unescape(Client().get(f"/status/{token}/").content.decode())
    assert "Closed: no answer to the requested changes" in page
    assert "Its name stays reserved for you: reopen it below" in page
    assert f'action="/status/{token}/reopen/"' in page
    assert 'id="reply"' not in page  # closed: reopen first
    mail.outbox.clear()

    contributor = Client()
    with committed():
        response = contributor.post(f"/status/{token}/reopen/")

    assert response.status_code == 302 and response["Location"] == f"/status/{token}/"
    submission.refresh_from_db()
    assert submission.state == State.CHANGES_REQUESTED
    event = submission.events.latest("id")
    assert (event.from_state, event.to_state, event.actor_kind, event.public) == (
        State.ABANDONED,
        State.CHANGES_REQUESTED,
        "contributor",
        True,
    )
    (sent,) = mail.outbox
    assert sent.to == ["curators@portal.test"] and sent.subject.endswith("Reopened by the contributor")
    page = html.unescape(contributor.get(f"/status/{token}/").content.decode())
    assert "The submission is open again" in page and 'id="revise"' in page
    # The clock starts again from the reopening: no reminder until 14 days have passed.
    assert run(services.remind_contributor, submission) is None


def test_reopening_is_refused_unless_abandoned(curator):
    submission, token = changes_requested(curator)
    before = (submission.state, submission.events.count())
    with pytest.raises(services.InvalidTransition, match="can't be moved to “Changes requested”"):
        services.reopen(submission)
    response = Client().post(f"/status/{token}/reopen/", follow=True)
    assert "can't be moved to “Changes requested”" in html.unescape(response.content.decode())
    submission.refresh_from_db()
    assert (submission.state, submission.events.count()) == before
    assert Client().get(f"/status/{token}/reopen/").status_code == 405
    assert Client().post("/status/not-a-token/reopen/").status_code == 404


def test_contributor_may_withdraw_an_abandoned_submission(abandoned):
    submission, _ = abandoned
    with committed():
        services.withdraw(submission, reason="We will not come back to it.")
    submission.refresh_from_db()
    assert submission.state == State.WITHDRAWN
    assert selectors.find_name_clash(submission.name) is None  # withdrawn: the name is free


def test_curators_see_abandoned_submissions_as_closed(abandoned, curator):
    submission, _ = abandoned
    client = Client()
    client.force_login(curator)
    open_refs = [
        row.reference
        for row in client.get("/admin/submissions/submission/?open=open").context["cl"].result_list
    ]
    closed = client.get("/admin/submissions/submission/?open=closed").context["cl"].result_list
    assert submission.reference not in open_refs
    assert submission.reference in [row.reference for row in closed]
    with pytest.raises(services.InvalidTransition, match="is closed"):
        services.assign(submission, to=UserFactory(username="x"), by=curator)
