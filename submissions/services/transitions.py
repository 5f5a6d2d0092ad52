"""The machinery every service shares: the domain exception, the row lock, a state move and its event.

A service opens a transaction, takes `locked(submission)`, checks the state with `move(...)` (which records
the state-change event) or adds another event with `record_event(...)`, and schedules side effects with
`after_commit(...)`. Nothing here decides a business rule.
"""

import logging

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from portal import queues
from submissions.models import Event, Submission

logger = logging.getLogger(__name__)

State = Submission.State


class InvalidTransition(Exception):
    """The submission's current state does not allow the requested step; the message says why.

    The message is read by the person who asked (a contributor's form error, a curator's admin message):
    raise it with `gettext`, at request time, so that it is in their language.
    """


def delete_files(names):
    """Remove stored card files of a change that did not happen (a failed transaction)."""
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:
            logger.warning("Could not remove the stored card %s after a failed submission.", name)


def locked(submission):
    """Return the submission re-read under a row lock; call inside a transaction."""
    return Submission.objects.select_for_update().get(pk=submission.pk)


def move(submission, *, to, actor_kind, actor=None, message="", public=True, allowed):
    """Change the locked `submission` to state `to` if its state is in `allowed`, and record the event."""
    if submission.state not in allowed:
        raise InvalidTransition(
            _("%(reference)s is “%(state)s”; it can't be moved to “%(to)s” from there.")
            % {
                "reference": submission.reference,
                "state": submission.get_state_display(),
                "to": State(to).label,
            }
        )
    from_state = submission.state
    submission.state = to
    submission.state_changed_at = timezone.now()
    submission.save(update_fields=["state", "state_changed_at", "updated_at"])
    return Event.objects.create(
        submission=submission,
        kind=Event.Kind.STATE_CHANGE,
        actor_kind=actor_kind,
        actor=actor,
        from_state=from_state,
        to_state=to,
        message=message,
        public=public,
    )


def record_event(submission, *, kind, actor_kind, actor=None, message="", public=True):
    """Add an event other than a state change (a message, a note, a revision) to the timeline."""
    return Event.objects.create(
        submission=submission, kind=kind, actor_kind=actor_kind, actor=actor, message=message, public=public
    )


def after_commit(function, *args, **kwargs):
    """Call `function` once the current transaction commits (never if it rolls back)."""
    transaction.on_commit(lambda: function(*args, **kwargs))


def enqueue_checks(submission):
    """Queue the automatic checks of a submission after the transaction commits."""
    after_commit(queues.enqueue, "submissions.tasks.run_checks", submission.pk)


def required_text(text, *, what, limit=None):
    """Return `text` stripped, or raise InvalidTransition when it is empty or longer than `limit`.

    `what` names the text in the reader's language, as the object of "Write …" ("the reason for the decision").
    """
    text = (text or "").strip()
    if not text:
        # Translators: %(what)s names the text to write, e.g. "the reason for the decision".
        raise InvalidTransition(_("Write %(what)s; it can't be empty.") % {"what": what})
    if limit is not None and len(text) > limit:
        raise InvalidTransition(
            # Translators: %(what)s names the text, e.g. "the reason for the decision".
            _("Shorten %(what)s to at most %(limit)s characters (it has %(count)s).")
            % {"what": what, "limit": _number(limit), "count": _number(len(text))}
        )
    return text


def _number(value):
    """Return a count written the reader's way ("10,000", "10 000")."""
    return formats.number_format(value, force_grouping=True)
