"""Clearing the queue of what should not be reviewed: spam, and a submission that duplicates another.

Both close the submission as rejected, before any approval, with a state-change event; a spam rejection
sends no e-mail (the sender's address may be forged: answering would make the portal a spam relay), a
duplicate's contributor is told which submission it duplicates.
"""

from django.conf import settings
from django.db import transaction
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from portal import i18n
from submissions import emails
from submissions.models import Event, Submission
from submissions.services.transitions import (
    InvalidTransition,
    after_commit,
    lines,
    locked,
    move,
    record_event,
    required_text,
)

State = Submission.State

# Spam may sit anywhere before a decision, unconfirmed too (a spammer rarely confirms an address).
SPAM_STATES = (
    State.AWAITING_CONFIRMATION,
    State.SUBMITTED,
    State.IN_REVIEW,
    State.CHANGES_REQUESTED,
    State.ABANDONED,
)
# A duplicate's contributor is e-mailed, so its address must be confirmed.
DUPLICATE_STATES = (State.SUBMITTED, State.IN_REVIEW, State.CHANGES_REQUESTED, State.ABANDONED)


def reject_as_spam(submission, *, by, reason):
    """Reject a submission as spam: no e-mail to its sender, and left out of the team's pace figures."""
    reason = required_text(reason, what=_("the reason"), limit=settings.PORTAL_REPLY_MAX_CHARS)
    with transaction.atomic():
        submission = locked(submission)
        if submission.state not in SPAM_STATES:
            raise InvalidTransition(
                _("%(reference)s is “%(state)s”: only a submission not yet decided can be rejected as spam.")
                % {"reference": submission.reference, "state": submission.get_state_display()}
            )
        submission.spam = True
        submission.save(update_fields=["spam", "updated_at"])
        move(
            submission,
            to=State.REJECTED,
            actor_kind=Event.Actor.CURATOR,
            actor=by,
            message=reason,
            allowed=SPAM_STATES,
        )
    return submission


def mark_duplicate(submission, *, of, by, message=""):
    """Close `submission` as a duplicate of `of`: both are linked, and the duplicate's contributor is told.

    `message` (optional) is added for the contributor. The original must be a different submission that
    is not closed for good itself (rejected or withdrawn: then it has no standing to be duplicated).
    """
    message = (message or "").strip()
    if len(message) > settings.PORTAL_REPLY_MAX_CHARS:
        raise InvalidTransition(
            _("Shorten the message to at most %(limit)s characters.")
            % {"limit": formats.number_format(settings.PORTAL_REPLY_MAX_CHARS, force_grouping=True)}
        )
    if of.pk == submission.pk:
        raise InvalidTransition(
            _("A submission can't be a duplicate of itself; give the other one's reference.")
        )
    with transaction.atomic():
        # Both rows locked, always in the same order, so that two curators linking a pair both ways wait
        # for each other instead of deadlocking.
        rows = {
            row.pk: row for row in (locked(item) for item in sorted((submission, of), key=lambda s: s.pk))
        }
        submission, original = rows[submission.pk], rows[of.pk]
        if original.duplicate_of_id == submission.pk:
            raise InvalidTransition(
                _("%(reference)s is already closed as a duplicate of this submission.")
                % {"reference": original.reference}
            )
        if original.state in Submission.RELEASED_STATES:
            if original.duplicate_of_id:
                raise InvalidTransition(
                    _("%(reference)s is itself closed as a duplicate of %(original)s: use that one.")
                    % {"reference": original.reference, "original": original.duplicate_of.reference}
                )
            raise InvalidTransition(
                _(
                    "%(reference)s is “%(state)s”: a submission can only duplicate one that is still open or "
                    "published."
                )
                % {"reference": original.reference, "state": original.get_state_display()}
            )
        if submission.state not in DUPLICATE_STATES:
            raise InvalidTransition(
                _(
                    "%(reference)s is “%(state)s”: only a confirmed submission not yet decided can be closed as "
                    "a duplicate."
                )
                % {"reference": submission.reference, "state": submission.get_state_display()}
            )
        submission.duplicate_of = original
        submission.save(update_fields=["duplicate_of", "updated_at"])
        closing = i18n.message(
            gettext_noop("Closed as a duplicate of %(reference)s “%(name)s”."),
            reference=original.reference,
            name=original.name,
        )
        move(
            submission,
            to=State.REJECTED,
            actor_kind=Event.Actor.CURATOR,
            actor=by,
            message=lines(closing, message),
            allowed=DUPLICATE_STATES,
        )
        record_event(
            original,
            kind=Event.Kind.MESSAGE,
            actor_kind=Event.Actor.CURATOR,
            actor=by,
            message=i18n.message(
                gettext_noop("%(reference)s “%(name)s” was closed as a duplicate of this submission."),
                reference=submission.reference,
                name=submission.name,
            ),
            public=False,
        )
        after_commit(emails.send_closed_as_duplicate, submission, original=original, message=message)
    return submission
