"""A published dataset besides its corrections: its DOI as the workers report it, and its withdrawal.

The DOI is registered by the publisher (the catalog's workers) after publication; they report back here
(`mark_doi_registered`, `mark_doi_failed`) so that the timeline says what happened, and a curator retries a
failed registration through `retry_doi`. `withdraw_published` is a curator's decision to take a published
dataset out of the catalog: its page stays and says why (as DataCite asks of a DOI's landing page), its DOI
stops being findable, its Hub repository becomes private.
"""

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from portal import i18n
from submissions import emails, publishing
from submissions.models import CorrectionRequest, Event, Submission
from submissions.services.transitions import (
    InvalidTransition,
    after_commit,
    locked,
    move,
    record_event,
    required_text,
)

State = Submission.State


def mark_doi_registered(submission, *, doi, url):
    """The dataset's DOI is registered and findable: say so on the public timeline."""
    with transaction.atomic():
        submission = locked(submission)
        record_event(
            submission,
            kind=Event.Kind.MESSAGE,
            actor_kind=Event.Actor.SYSTEM,
            message=i18n.message(
                gettext_noop("The dataset's DOI is registered with DataCite: %(doi)s\nCite it as %(url)s"),
                doi=doi,
                url=url,
            ),
        )
    return submission


def mark_doi_failed(submission, *, doi, reason):
    """Registering the dataset's DOI stopped on an error that retrying will not heal: tell the curators.

    `reason`: plain text, or a stored message (`portal.i18n.message`).
    """
    with transaction.atomic():
        submission = locked(submission)
        record_event(
            submission,
            kind=Event.Kind.MESSAGE,
            actor_kind=Event.Actor.SYSTEM,
            message=i18n.message(
                gettext_noop("Registering the DOI %(doi)s failed: %(reason)s"), doi=doi, reason=reason
            ),
            public=False,
        )
    return submission


def retry_doi(submission, *, by):
    """A curator sends the dataset's DOI to DataCite again (after a failure, or once DataCite is configured)."""
    with transaction.atomic():
        submission = locked(submission)
        if submission.state not in (State.PUBLISHED, State.WITHDRAWN):
            raise InvalidTransition(_("Only a published dataset has a DOI to register."))
        if not publishing.publisher().retry_doi(submission):
            raise InvalidTransition(
                _(
                    "There is no DOI to register: DataCite is not configured, or the dataset uses its record's DOI."
                )
            )
        record_event(
            submission,
            kind=Event.Kind.MESSAGE,
            actor_kind=Event.Actor.CURATOR,
            actor=by,
            message=i18n.message(gettext_noop("Asked for the DOI to be registered again.")),
            public=False,
        )
    return submission


def note_publication_problem(submission, *, reason):
    """A step after publication failed for good (the Hub refused something): an internal note for curators.

    `reason`: plain text, or a stored message (`portal.i18n.message`).
    """
    with transaction.atomic():
        submission = locked(submission)
        record_event(
            submission, kind=Event.Kind.MESSAGE, actor_kind=Event.Actor.SYSTEM, message=reason, public=False
        )
    return submission


def withdraw_published(submission, *, by, reason):
    """A curator withdraws a published dataset, with a reason that its catalog page and the contributor see.

    The catalog page stays and says the dataset was withdrawn and why; the dataset leaves the catalog's
    lists, its DOI becomes "registered" (no longer findable) and its Hub repository private. Refused while a
    correction request is in progress: decide it first.
    """
    reason = required_text(
        reason, what=_("why the dataset is withdrawn"), limit=settings.PORTAL_REPLY_MAX_CHARS
    )
    with transaction.atomic():
        submission = locked(submission)
        pending = submission.corrections.filter(state__in=CorrectionRequest.IN_PROGRESS_STATES).first()
        if pending is not None:
            raise InvalidTransition(
                _(
                    "Request %(number)s is “%(state)s”: decide it, or let it finish, before withdrawing the dataset."
                )
                % {"number": pending.number, "state": pending.get_state_display().lower()}
            )
        move(
            submission,
            to=State.WITHDRAWN,
            actor_kind=Event.Actor.CURATOR,
            actor=by,
            message=i18n.message(
                gettext_noop("The curators withdrew the published dataset: %(reason)s"), reason=reason
            ),
            allowed=[State.PUBLISHED],
        )
        publishing.publisher().withdraw(submission, reason=reason)
        after_commit(emails.send_withdrawn_by_curators, submission, reason=reason)
    return submission
