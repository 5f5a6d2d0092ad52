"""Every transition of submissions.services: what it changes, the event it records, what it refuses."""

import pytest
from django.core import mail

from catalog.models import MirrorJob
from submissions import services
from submissions.models import Event, Submission
from tests.factories import OFFLINE_OVERRIDE, changes_requested, committed, confirmed, in_review, submit

pytestmark = pytest.mark.django_db

State = Submission.State


def unchanged(submission):
    """Return a snapshot of what a refused action must leave as it was."""
    submission.refresh_from_db()
    return (
        submission.state,
        submission.assignee_id,
        submission.state_changed_at,
        submission.review_checklist,
        submission.events.count(),
    )


def test_submit_records_awaiting_confirmation_event():
    submission, token = submit()
    event = submission.events.get()
    assert (event.from_state, event.to_state, event.actor_kind) == (
        "",
        State.AWAITING_CONFIRMATION,
        "contributor",
    )
    assert token


def test_confirm_moves_to_submitted_once():
    submission, _ = confirmed()
    assert submission.state == State.SUBMITTED
    assert submission.confirmed_at is not None
    services.confirm(submission)
    assert submission.events.filter(to_state=State.SUBMITTED).count() == 1


def test_claim_makes_curator_assignee_and_records_event(curator):
    submission, _ = confirmed()
    services.claim(submission, by=curator)
    submission.refresh_from_db()
    assert submission.state == State.IN_REVIEW
    assert submission.assignee == curator
    event = submission.events.latest("id")
    assert (event.from_state, event.to_state, event.actor, event.actor_kind) == (
        State.SUBMITTED,
        State.IN_REVIEW,
        curator,
        "curator",
    )


def test_claim_of_submission_reviewed_by_another_is_refused(curator, other_curator):
    submission, _ = in_review(curator)
    before = unchanged(submission)
    with pytest.raises(services.InvalidTransition, match="already being reviewed by alice"):
        services.claim(submission, by=other_curator)
    assert unchanged(submission) == before


def test_assign_is_an_internal_event(curator, other_curator):
    submission, _ = in_review(curator)
    services.assign(submission, to=other_curator, by=curator)
    submission.refresh_from_db()
    assert submission.assignee == other_curator
    event = submission.events.latest("id")
    assert event.kind == Event.Kind.ASSIGNMENT and not event.public
    assert "bob" in event.message and "alice" in event.message


def test_request_changes_requires_a_message(curator):
    submission, _ = in_review(curator)
    before = unchanged(submission)
    for empty in ("", "   \n "):
        with pytest.raises(services.InvalidTransition, match="can't be empty"):
            services.request_changes(submission, by=curator, message=empty)
    assert unchanged(submission) == before


def test_reject_requires_a_reason(curator):
    submission, _ = in_review(curator)
    before = unchanged(submission)
    with pytest.raises(services.InvalidTransition, match="reason"):
        services.reject(submission, by=curator, reason=" ")
    assert unchanged(submission) == before


def test_approve_requires_checklist_or_override_reason(curator):
    submission, _ = in_review(curator)
    before = unchanged(submission)
    partial = services.ReviewChecklist(licence_compatible=True, provenance_stated=True)
    with pytest.raises(services.InvalidTransition, match="No personal or sensitive data"):
        services.approve(submission, by=curator, checklist=partial)
    assert unchanged(submission) == before
    assert not MirrorJob.objects.exists()


def test_approve_with_override_records_reason(curator, queued_mirrors):
    submission, _ = in_review(curator)
    checklist = services.ReviewChecklist(
        licence_compatible=True, provenance_stated=True, override_reason="Card completed by us on the Hub."
    )
    with committed():
        services.approve(submission, by=curator, checklist=checklist, concerns_override=OFFLINE_OVERRIDE)
    submission.refresh_from_db()
    assert submission.state == State.APPROVED
    assert submission.review_checklist["override_reason"] == "Card completed by us on the Hub."
    assert submission.review_checklist["items"]["no_personal_data"] is False
    note = submission.events.filter(public=False, kind=Event.Kind.MESSAGE).get()
    assert "Checklist overridden: Card completed by us on the Hub." in note.message
    job = MirrorJob.objects.get(dataset__submission=submission)
    assert queued_mirrors == [job.pk]


def test_approval_enqueues_the_mirror_only_after_commit(curator, queued_mirrors):
    submission, _ = in_review(curator)
    with committed():
        services.approve(
            submission,
            by=curator,
            checklist=services.ReviewChecklist.all_ticked(),
            concerns_override=OFFLINE_OVERRIDE,
        )
        assert queued_mirrors == []
        sent_before_commit = len(mail.outbox)
    assert len(queued_mirrors) == 1
    assert len(mail.outbox) == sent_before_commit + 1
    assert "approved" in mail.outbox[-1].subject


@pytest.mark.parametrize(
    "action",
    [
        lambda s, c: services.approve(
            s, by=c, checklist=services.ReviewChecklist.all_ticked(), concerns_override=OFFLINE_OVERRIDE
        ),
        lambda s, c: services.reject(s, by=c, reason="Out of scope."),
        lambda s, c: services.request_changes(s, by=c, message="Add a licence."),
        lambda s, c: services.retry_mirror(s, by=c),
    ],
    ids=["approve", "reject", "request_changes", "retry_mirror"],
)
def test_decisions_on_a_submitted_dataset_are_refused(curator, action):
    submission, _ = confirmed()
    before = unchanged(submission)
    with pytest.raises(services.InvalidTransition, match="Submitted, waiting for a curator"):
        action(submission, curator)
    assert unchanged(submission) == before


def test_rejected_submission_can_no_longer_be_approved_or_withdrawn(curator):
    submission, _ = in_review(curator)
    services.reject(submission, by=curator, reason="Not open data.")
    before = unchanged(submission)
    with pytest.raises(services.InvalidTransition):
        services.approve(
            submission,
            by=curator,
            checklist=services.ReviewChecklist.all_ticked(),
            concerns_override=OFFLINE_OVERRIDE,
        )
    with pytest.raises(services.InvalidTransition, match="can no longer be withdrawn"):
        services.withdraw(submission)
    with pytest.raises(services.InvalidTransition, match="no longer takes messages"):
        services.reply(submission, text="But why?")
    assert unchanged(submission) == before


def test_reply_while_changes_requested_keeps_the_state(curator):
    submission, _ = changes_requested(curator)
    services.reply(submission, text="I added the licence to the page.")
    submission.refresh_from_db()
    assert submission.state == State.CHANGES_REQUESTED
    kinds = list(submission.events.order_by("-id").values_list("kind", "actor_kind")[:1])
    assert kinds == [("message", "contributor")]


def test_reply_in_review_keeps_the_state(curator):
    submission, _ = in_review(curator)
    services.reply(submission, text="A question about hosting.")
    submission.refresh_from_db()
    assert submission.state == State.IN_REVIEW


def test_withdraw_from_each_open_state(curator):
    makers = [submit, confirmed, lambda: in_review(curator), lambda: changes_requested(curator)]
    for make in makers:
        submission, _ = make()
        services.withdraw(submission, reason="Found a better home.")
        submission.refresh_from_db()
        assert submission.state == State.WITHDRAWN
        assert submission.events.latest("id").message == "Found a better home."


def test_withdraw_after_approval_is_refused(curator, queued_mirrors):
    submission, _ = in_review(curator)
    services.approve(
        submission,
        by=curator,
        checklist=services.ReviewChecklist.all_ticked(),
        concerns_override=OFFLINE_OVERRIDE,
    )
    before = unchanged(submission)
    with pytest.raises(services.InvalidTransition, match="can no longer be withdrawn"):
        services.withdraw(submission)
    assert unchanged(submission) == before


def test_mirror_failure_then_retry_goes_back_to_approved(curator, queued_mirrors):
    submission, _ = in_review(curator)
    with committed():
        services.approve(
            submission,
            by=curator,
            checklist=services.ReviewChecklist.all_ticked(),
            concerns_override=OFFLINE_OVERRIDE,
        )
    mail.outbox.clear()
    with committed():
        services.mark_mirror_failed(submission, reason="The Hub refused the upload (403).")
    submission.refresh_from_db()
    assert submission.state == State.MIRROR_FAILED
    assert mail.outbox[0].to == ["curators@portal.test"]
    assert "403" in mail.outbox[0].body
    with committed():
        services.retry_mirror(submission, by=curator)
    submission.refresh_from_db()
    assert submission.state == State.APPROVED
    assert len(queued_mirrors) == 2
    assert MirrorJob.objects.get(dataset__submission=submission).step == MirrorJob.Step.PENDING


def test_events_cannot_be_edited():
    submission, _ = submit()
    event = submission.events.get()
    event.message = "rewritten"
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    assert submission.events.get().message == "Submitted through the contribution form."


def test_message_to_unconfirmed_contributor_is_refused_but_note_allowed(curator):
    submission, _ = submit()
    with pytest.raises(services.InvalidTransition, match="internal note"):
        services.send_message(submission, by=curator, text="Hello")
    services.send_message(submission, by=curator, text="Spam?", public=False)
    assert submission.events.filter(public=False).count() == 1


def test_rerun_checks_is_an_internal_event_and_queues_the_checks(curator, monkeypatch):
    from portal import queues

    queued = []
    monkeypatch.setattr(queues, "enqueue", lambda name, *args: queued.append((name, *args)))
    submission, _ = in_review(curator)
    Submission.objects.filter(pk=submission.pk).update(check_summary="fail")
    queued.clear()
    with committed():
        services.rerun_checks(submission, by=curator)
    submission.refresh_from_db()
    assert submission.check_summary == "pending"
    event = submission.events.order_by("-id").first()
    assert (event.actor, event.public) == (curator, False)
    assert "checks to run again" in event.message
    assert queued == [("submissions.tasks.run_checks", submission.pk)]


def test_rerun_checks_waits_for_confirmation(curator):
    submission, _ = submit()
    with pytest.raises(services.InvalidTransition, match="confirmed"):
        services.rerun_checks(submission, by=curator)


def test_submit_refuses_a_name_taken_by_an_open_submission():
    submit(name="Harbour water levels 2001-2024")
    with pytest.raises(services.NameTaken, match="already exists"):
        submit(name="harbour water LEVELS, 2001–2024")
    assert Submission.objects.count() == 1
