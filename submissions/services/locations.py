"""Where the data lives: the contributor's and the curators' changes of a submission's locations."""

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from portal import i18n
from submissions import emails
from submissions.models import Event, Submission
from submissions.services.transitions import (
    InvalidTransition,
    after_commit,
    enqueue_checks,
    lines,
    locked,
    move,
    record_event,
    required_text,
)

State = Submission.State


def set_location(submission, *, location, checksums=None):
    """Store new locations (and checksums, when given) on the locked submission and queue the checks again.

    Returns the previous locations. Raises InvalidTransition when nothing changes.
    """
    location = "\n".join(line.strip() for line in (location or "").splitlines() if line.strip())
    if not location:
        raise InvalidTransition(_("Enter the new https:// address of the data, or the DOI of its record."))
    checksums = submission.announced_checksums if checksums is None else checksums
    if location == submission.location and checksums == submission.announced_checksums:
        raise InvalidTransition(
            _("These are already the dataset's locations and checksums; change them first.")
        )
    previous = submission.location
    submission.location = location
    submission.announced_checksums = checksums
    submission.check_summary = "pending"
    submission.save(update_fields=["location", "announced_checksums", "check_summary", "updated_at"])
    enqueue_checks(submission)
    return previous


def describe_change(previous, current):
    """Return a timeline line saying how the locations changed (a stored message, `portal.i18n`)."""
    before, after = previous.splitlines(), current.splitlines()
    if before == after:
        return i18n.message(gettext_noop("Changed the checksums of the data."))
    if len(before) == len(after) == 1:
        return i18n.message(
            gettext_noop("Changed the data location from %(before)s to %(after)s."),
            before=before[0],
            after=after[0],
        )
    return i18n.message(
        gettext_noop("Changed the data locations:\n%(changes)s"),
        changes="\n".join(
            [
                *(f"− {line}" for line in before if line not in after),
                *(f"+ {line}" for line in after if line not in before),
            ]
        ),
    )


def revise_location(submission, *, location, checksums=None, comment=""):
    """The contributor gives new data locations (and checksums) when the portal shows they are wrong.

    Allowed while changes are requested, while a submitted or reviewed dataset's location or data check
    fails, and after a failed publication. Changes requested: the dataset goes back to the curators' queue,
    as with a revised card. Otherwise the state stays and the checks run again; after a failed publication
    the curators restart it, which uses the new addresses. The caller validates them (`fields`).
    """
    with transaction.atomic():
        submission = locked(submission)
        if not submission.accepts_location_revision:
            raise InvalidTransition(
                _(
                    "New locations can be given while the curators ask for changes, while a check of the "
                    "location fails, or after publishing failed."
                )
            )
        previous = set_location(submission, location=location, checksums=checksums)
        comment = (comment or "").strip()[:2000]
        record_event(
            submission,
            kind=Event.Kind.LOCATION_CHANGE,
            actor_kind=Event.Actor.CONTRIBUTOR,
            message=lines(describe_change(previous, submission.location), comment),
        )
        if submission.state == State.CHANGES_REQUESTED:
            move(
                submission,
                to=State.SUBMITTED,
                actor_kind=Event.Actor.CONTRIBUTOR,
                message=i18n.message(
                    gettext_noop("The dataset is back in the curators' queue with the new location.")
                ),
                allowed=[State.CHANGES_REQUESTED],
            )
        after_commit(emails.notify_curators_location, submission, previous=previous)
    return submission


# States in which a curator may change the location: not before confirmation, not while publishing runs.
LOCATION_EDITABLE_BY_CURATORS = (
    State.SUBMITTED,
    State.IN_REVIEW,
    State.CHANGES_REQUESTED,
    State.MIRROR_FAILED,
)


def change_location(submission, *, by, location, message, checksums=None):
    """A curator corrects the data location, with a message the contributor receives; the state stays.

    After a failed publication the curator then uses "retry", which publishes from the new address.
    The caller validates the address (`forms.clean_location`).
    """
    message = required_text(
        message, what=_("a message to the contributor"), limit=settings.PORTAL_REPLY_MAX_CHARS
    )
    with transaction.atomic():
        submission = locked(submission)
        if submission.state not in LOCATION_EDITABLE_BY_CURATORS:
            raise InvalidTransition(
                _("%(reference)s is “%(state)s”; its location can't be changed now.")
                % {"reference": submission.reference, "state": submission.get_state_display()}
            )
        previous = set_location(submission, location=location, checksums=checksums)
        record_event(
            submission,
            kind=Event.Kind.LOCATION_CHANGE,
            actor_kind=Event.Actor.CURATOR,
            actor=by,
            message=lines(describe_change(previous, submission.location), message),
        )
        after_commit(emails.send_location_changed, submission, previous=previous, message=message)
    return submission
