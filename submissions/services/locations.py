"""Where the data lives: the contributor's and the curators' changes of a submission's locations."""

from django.conf import settings
from django.db import transaction

from submissions import emails
from submissions.models import Event, Submission
from submissions.services.transitions import (
    InvalidTransition,
    after_commit,
    enqueue_checks,
    locked,
    move,
    record_event,
    required_text,
)

State = Submission.State


def set_location(submission, *, location):
    """Store a new location on the locked submission and queue the checks again; return the old one."""
    location = (location or "").strip()
    if not location:
        raise InvalidTransition("Enter the new https:// address of the data.")
    if location == submission.location:
        raise InvalidTransition("This is already the dataset's location; enter the new address.")
    previous = submission.location
    submission.location = location
    submission.check_summary = "pending"
    submission.save(update_fields=["location", "check_summary", "updated_at"])
    enqueue_checks(submission)
    return previous


def revise_location(submission, *, location, comment=""):
    """The contributor gives a new data location while changes are requested or after a failed publication.

    Changes requested: the dataset goes back to the curators' queue, as with a revised card. Publishing
    failed: the state stays; the curators are told and restart the publication, which uses the new address.
    The caller validates the address (`forms.clean_location`).
    """
    with transaction.atomic():
        submission = locked(submission)
        if not submission.accepts_location_revision:
            raise InvalidTransition(
                "A new location can be given only while the curators ask for changes or after publishing "
                "failed."
            )
        previous = set_location(submission, location=location)
        comment = (comment or "").strip()[:2000]
        record_event(
            submission,
            kind=Event.Kind.LOCATION_CHANGE,
            actor_kind=Event.Actor.CONTRIBUTOR,
            message=f"Changed the data location from {previous} to {submission.location}."
            + (f"\n{comment}" if comment else ""),
        )
        if submission.state == State.CHANGES_REQUESTED:
            move(
                submission,
                to=State.SUBMITTED,
                actor_kind=Event.Actor.CONTRIBUTOR,
                message="The dataset is back in the curators' queue with the new location.",
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


def change_location(submission, *, by, location, message):
    """A curator corrects the data location, with a message the contributor receives; the state stays.

    After a failed publication the curator then uses "retry", which publishes from the new address.
    The caller validates the address (`forms.clean_location`).
    """
    message = required_text(
        message, what="a message to the contributor", limit=settings.PORTAL_REPLY_MAX_CHARS
    )
    with transaction.atomic():
        submission = locked(submission)
        if submission.state not in LOCATION_EDITABLE_BY_CURATORS:
            raise InvalidTransition(
                f"{submission.reference} is “{submission.get_state_display()}”; its location can't be "
                "changed now."
            )
        previous = set_location(submission, location=location)
        record_event(
            submission,
            kind=Event.Kind.LOCATION_CHANGE,
            actor_kind=Event.Actor.CURATOR,
            actor=by,
            message=f"Changed the data location from {previous} to {submission.location}.\n{message}",
        )
        after_commit(emails.send_location_changed, submission, previous=previous, message=message)
    return submission
