"""Keeping pace: reminders to an overdue submission's assignee and to a contributor who has not answered a
change request, closing a change request left unanswered as abandoned, and reopening it.

Beat runs the reminders on every replica (`tasks.send_reminders`); each function asks whether its step is
due again under the submission's row lock, with the same query that found it (`selectors`), so a reminder
is sent once however many runs race. Every reminder is an `Event` on the timeline.
"""

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext_noop

from portal import i18n
from submissions import emails, selectors
from submissions.models import Event, Submission
from submissions.services.transitions import after_commit, locked, message_fields, move

State = Submission.State


def _day(moment):
    """Return the day of `moment` as a stored message: "3 December 2026", or "3 décembre 2026" for a French reader."""
    day = timezone.localtime(moment)
    with translation.override("en"):
        # The month's English name is a message id of Django's own catalog: translated where it is read.
        month = date_format(day, "F")
    return i18n.message("%(day)s %(month)s %(year)s", day=day.day, month=i18n.message(month), year=day.year)


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
        facts = {"count": settings.REVIEW_SLA_DAYS, "curator": str(curator), "since": _day(waiting_since)}
        message = (
            i18n.message_plural(
                "Reminder e-mailed to %(curator)s: waiting for the curators since %(since)s, past the "
                "review deadline of %(count)s day.",
                "Reminder e-mailed to %(curator)s: waiting for the curators since %(since)s, past the "
                "review deadline of %(count)s days.",
                **facts,
            )
            if sent
            else i18n.message_plural(
                "Reminder due for %(curator)s, who can't be e-mailed (no address on file, or the account "
                "is inactive): waiting for the curators since %(since)s, past the review deadline of "
                "%(count)s day.",
                "Reminder due for %(curator)s, who can't be e-mailed (no address on file, or the account "
                "is inactive): waiting for the curators since %(since)s, past the review deadline of "
                "%(count)s days.",
                **facts,
            )
        )
        event = Event.objects.create(
            submission=submission,
            kind=Event.Kind.REMINDER,
            actor_kind=Event.Actor.SYSTEM,
            public=False,
            **message_fields(message),
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
        message = i18n.message(
            gettext_noop(
                "Reminder: the curators are waiting for the changes they asked for. Without a revised card, "
                "a new location or a message by %(day)s, the submission will be closed; you could reopen it."
            ),
            day=_day(closes_on),
        )
        event = Event.objects.create(
            submission=submission,
            kind=Event.Kind.REMINDER,
            actor_kind=Event.Actor.SYSTEM,
            public=True,
            **message_fields(message),
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
            message=i18n.message_plural(
                "Closed: the requested changes were not answered in %(count)s day. The contributor can "
                "reopen the submission from its status page.",
                "Closed: the requested changes were not answered in %(count)s days. The contributor can "
                "reopen the submission from its status page.",
                count=settings.CHANGES_ABANDON_DAYS,
            ),
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
            message=i18n.message(
                gettext_noop(
                    "Reopened by the contributor: the requested changes are awaited again (a revised card, a "
                    "new location or a message)."
                )
            ),
            allowed=[State.ABANDONED],
        )
        after_commit(emails.notify_curators_reopened, submission)
    return submission
