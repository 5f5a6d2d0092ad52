"""The machinery every service shares: the domain exception, the row lock, a state move and its event.

A service opens a transaction, takes `locked(submission)`, checks the state with `move(...)` (which records
the state-change event) or adds another event with `record_event(...)`, and schedules side effects with
`after_commit(...)`. Nothing here decides a business rule.

An event's `message` is either text a person typed (kept as typed) or a sentence of the portal's own, made
with `portal.i18n.message` so that each reader sees it in their language (`Event.portal_message`; its English
goes to `Event.message`). `lines(...)` joins both kinds, one per line.
"""

import logging

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from portal import i18n, queues
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


def message_fields(message):
    """Return an event's message fields: English text, and the stored message when the portal wrote it."""
    if i18n.is_message(message):
        return {"message": i18n.english(message), "portal_message": message}
    return {"message": message}


# Lines are no sentence to translate: makemessages is not meant to find this id, and it renders as it is.
LINES = "%(first)s\n%(then)s"


def lines(*parts):
    """Return `parts` (stored messages or typed text) one per line, as one stored message; empty ones are left
    out, and a single part is returned as it is."""
    return i18n.joined([part for part in parts if part], separator=LINES)


def move(submission, *, to, actor_kind, actor=None, message="", public=True, allowed):
    """Change the locked `submission` to state `to` if its state is in `allowed`, and record the event.

    `message`: typed text, or a stored message (`portal.i18n.message`) for a sentence of the portal's own.
    """
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
        public=public,
        **message_fields(message),
    )


def record_event(submission, *, kind, actor_kind, actor=None, message="", public=True):
    """Add an event other than a state change (a message, a note, a revision) to the timeline (`message` as
    in `move`)."""
    return Event.objects.create(
        submission=submission,
        kind=kind,
        actor_kind=actor_kind,
        actor=actor,
        public=public,
        **message_fields(message),
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
