"""Keeping pace: reminders to an overdue submission's assignee and to a contributor who has not answered a
change request, closing a change request left unanswered as abandoned, and reopening it.

Beat runs the reminders on every replica (`tasks.send_reminders`); each function asks whether its step is
due again under the submission's row lock, with the same query that found it (`selectors`), so a reminder
is sent once however many runs race. Every reminder is an `Event` on the timeline.
"""

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from submissions import emails, selectors
from submissions.models import Event, Submission
from submissions.services.transitions import after_commit, locked, move

State = Submission.State


def _due(query, submission):
    """Return the submission as the reminder query sees it now (with its annotations), or None."""
    return query.filter(pk=submission.pk).first()


def remind_assignee(submission):
    """Remind the assignee of a submission waiting for the curators past REVIEW_SLA_DAYS, once per wait.

    Returns the reminder's (internal) event, or None when none is due: not overdue, nobody assigned, or
    already reminded since the submission began to wait.
    """
    with transaction.atomic():
        submission = locked(submission)
        if _due(selectors.assignees_to_remind(), submission) is None:
            return None
        curator = submission.assignee
        waiting_since = submission.state_changed_at
        sent = bool(curator.email) and curator.is_active
        message = (
            _(
                "Reminder e-mailed to {curator}: waiting for the curators since {since}, past the review "
                "deadline of {days} days."
            )
            if sent
            else _(
                "Reminder due for {curator}, who can't be e-mailed (no address on file, or the account is "
                "inactive): waiting for the curators since {since}, past the review deadline of {days} days."
            )
        )
        event = Event.objects.create(
            submission=submission,
            kind=Event.Kind.REMINDER,
            actor_kind=Event.Actor.SYSTEM,
            message=message.format(
                curator=curator,
                since=date_format(timezone.localtime(waiting_since), "j F Y"),
                days=settings.REVIEW_SLA_DAYS,
            ),
            public=False,
        )
        if sent:
            after_commit(
                emails.send_review_reminder, submission, curator=curator, waiting_since=waiting_since
            )
    return event


def remind_contributor(submission):
    """Remind a contributor who has not answered a change request in CHANGES_REMINDER_DAYS, once per silence.

    The timeline shows the reminder (a public event) with the day the submission closes without an answer.
    Returns the event, or None when no reminder is due.
    """
    with transaction.atomic():
        submission = locked(submission)
        due = _due(selectors.contributors_to_remind(), submission)
        if due is None:
            return None
        now = timezone.now()
        closes_on = selectors.abandonment_deadline(active_at=due.contributor_active_at, reminded_at=now)
        shown = date_format(timezone.localtime(closes_on), "j F Y")
        event = Event.objects.create(
            submission=submission,
            kind=Event.Kind.REMINDER,
            actor_kind=Event.Actor.SYSTEM,
            message=_(
                "Reminder: the curators are waiting for the changes they asked for. Without a revised card, "
                "a new location or a message by {day}, the submission will be closed; you could reopen it."
            ).format(day=shown),
            public=True,
        )
        after_commit(emails.send_changes_reminder, submission, closes_on=closes_on)
    return event


def abandon(submission):
    """Close a submission whose contributor was reminded and did not answer the change request in time.

    Returns the state-change event, or None when the submission is not (or no longer) due to close.
    """
    with transaction.atomic():
        submission = locked(submission)
        if _due(selectors.submissions_to_abandon(), submission) is None:
            return None
        event = move(
            submission,
            to=State.ABANDONED,
            actor_kind=Event.Actor.SYSTEM,
            message=_(
                "Closed: the requested changes were not answered in {days} days. The contributor can reopen "
                "the submission from its status page."
            ).format(days=settings.CHANGES_ABANDON_DAYS),
            allowed=[State.CHANGES_REQUESTED],
        )
        after_commit(emails.send_abandoned, submission)
    return event


def reopen(submission):
    """The contributor reopens a submission closed as abandoned: the change request stands again."""
    with transaction.atomic():
        submission = locked(submission)
        move(
            submission,
            to=State.CHANGES_REQUESTED,
            actor_kind=Event.Actor.CONTRIBUTOR,
            message=_(
                "Reopened by the contributor: the requested changes are awaited again (a revised card, a new "
                "location or a message)."
            ),
            allowed=[State.ABANDONED],
        )
        after_commit(emails.notify_curators_reopened, submission)
    return submission
