"""Every change to a submission happens here: one function per business action.

Each action runs in a transaction, locks the submission row, checks that its state allows the step,
writes the change and an `Event`, and schedules side effects (e-mail, Celery tasks) with
`transaction.on_commit`. Views, the admin and tasks call these functions; none of them sets `state`.
This module knows nothing about requests or templates.
"""

import datetime
import logging
import secrets
import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from portal import queues
from submissions import approval, emails, publishing, selectors
from submissions.cards import ParsedCard
from submissions.categorisation import InvalidProposal, clean_proposal
from submissions.models import (
    CardRevision,
    CorrectionRequest,
    Domain,
    Event,
    SignInLink,
    StatusLink,
    Submission,
    TermsVersion,
    fold_name,
    hash_token,
)

logger = logging.getLogger(__name__)

State = Submission.State


class InvalidTransition(Exception):
    """The submission's current state does not allow the requested step; the message says why."""


class NameTaken(Exception):
    """Another open submission or a catalog dataset already has this name (case and punctuation aside)."""

    def __init__(self, existing):
        super().__init__(
            f"A dataset with this name already exists: {existing}. Choose a more specific name; if it is "
            "your own submission, follow the status link in its e-mail instead of submitting again."
        )


def submit(
    *,
    submission_key: uuid.UUID,
    name: str,
    location: str,
    hosting_wanted: bool,
    card: ParsedCard,
    card_raw: bytes,
    card_filename: str,
    modalities: list[str],
    domain: Domain | None,
    suggested_domain: str,
    contact_email: str,
    terms: TermsVersion,
):
    """Create a submission with its first card revision and event; e-mail the status link after commit.

    Returns (submission, created). A repeated call with the same `submission_key` (a double click, a
    resent POST) returns the submission created by the first call and sends nothing. Raises `NameTaken`
    when the name is already used by an open submission or a catalog dataset.
    """
    existing = Submission.objects.filter(submission_key=submission_key).first()
    if existing is not None:
        return existing, False
    clash = selectors.find_name_clash(name)
    if clash is not None:
        raise NameTaken(clash)
    stored_names = []
    try:
        with transaction.atomic():
            now = timezone.now()
            submission = Submission.objects.create(
                submission_key=submission_key,
                name=name,
                name_key=fold_name(name),
                location=location,
                hosting_wanted=hosting_wanted,
                modalities=",".join(sorted(set(modalities))),
                domain=domain,
                suggested_domain="" if domain else suggested_domain,
                contact_email=contact_email,
                terms_version=terms,
                terms_accepted_at=now,
                state=State.AWAITING_CONFIRMATION,
                state_changed_at=now,
            )
            submission.reference = f"DP-{now:%Y}-{submission.pk:06d}"
            submission.save(update_fields=["reference"])
            revision = _add_revision(submission, card=card, card_raw=card_raw, card_filename=card_filename)
            stored_names.append(revision.file.name)
            Event.objects.create(
                submission=submission,
                kind=Event.Kind.STATE_CHANGE,
                actor_kind=Event.Actor.CONTRIBUTOR,
                to_state=State.AWAITING_CONFIRMATION,
                message="Submitted through the contribution form.",
            )
            token = StatusLink.objects.issue(submission)
            transaction.on_commit(lambda: emails.send_confirmation(submission, token=token))
    except IntegrityError:
        _delete_files(stored_names)
        existing = Submission.objects.filter(submission_key=submission_key).first()
        if existing is not None:
            return existing, False
        clash = selectors.find_name_clash(name)
        if clash is not None:  # a concurrent submission of the same name won the unique index
            raise NameTaken(clash) from None
        raise
    except BaseException:
        _delete_files(stored_names)
        raise
    return submission, True


def _add_revision(submission, *, card: ParsedCard, card_raw: bytes, card_filename: str):
    return _store_revision(
        submission,
        sha256=card.sha256,
        size=card.size,
        metadata=card.metadata,
        findings=[finding.to_dict() for finding in card.findings],
        card_raw=card_raw,
        card_filename=card_filename,
    )


def _store_revision(submission, *, sha256, size, metadata, findings, card_raw, card_filename):
    number = (submission.revisions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    revision = CardRevision(
        submission=submission,
        number=number,
        original_filename=card_filename[:255],
        sha256=sha256,
        size=size,
        metadata=metadata,
        findings=findings,
    )
    revision.file.save("card.md", ContentFile(card_raw), save=False)
    try:
        revision.save()
    except BaseException:
        revision.file.delete(save=False)
        raise
    return revision


def _delete_files(names):
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:
            logger.warning("Could not remove the stored card %s after a failed submission.", name)


def _locked(submission):
    """Return the submission re-read under a row lock; call inside a transaction."""
    return Submission.objects.select_for_update().get(pk=submission.pk)


def _move(submission, *, to, actor_kind, actor=None, message="", public=True, allowed):
    """Change the locked `submission` to state `to` if its state is in `allowed`, and record the event."""
    if submission.state not in allowed:
        raise InvalidTransition(
            f"{submission.reference} is “{submission.get_state_display()}”; it can't be "
            f"moved to “{State(to).label}” from there."
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


def _note(submission, *, kind, actor_kind, actor=None, message="", public=True):
    return Event.objects.create(
        submission=submission, kind=kind, actor_kind=actor_kind, actor=actor, message=message, public=public
    )


def _after_commit(function, *args, **kwargs):
    transaction.on_commit(lambda: function(*args, **kwargs))


def _enqueue_checks(submission):
    _after_commit(queues.enqueue, "submissions.tasks.run_checks", submission.pk)


def _required_text(text, *, what, limit=None):
    text = (text or "").strip()
    if not text:
        raise InvalidTransition(f"Write {what}; it can't be empty.")
    if limit is not None and len(text) > limit:
        raise InvalidTransition(f"Shorten {what} to at most {limit:,} characters (it has {len(text):,}).")
    return text


def confirm(submission):
    """Confirm the contributor's e-mail address: the first visit of a status link submits the dataset.

    Visiting again later changes nothing. Returns the submission as it is now.
    """
    with transaction.atomic():
        submission = _locked(submission)
        if submission.state != State.AWAITING_CONFIRMATION:
            return submission
        submission.confirmed_at = timezone.now()
        submission.save(update_fields=["confirmed_at", "updated_at"])
        _move(
            submission,
            to=State.SUBMITTED,
            actor_kind=Event.Actor.CONTRIBUTOR,
            message="E-mail address confirmed; the dataset is waiting for a curator.",
            allowed=[State.AWAITING_CONFIRMATION],
        )
        _enqueue_checks(submission)
        _after_commit(emails.notify_curators_new_submission, submission)
    return submission


def touch_status_link(link):
    """Record that a status link was used just now."""
    StatusLink.objects.filter(pk=link.pk).update(last_used_at=timezone.now())


# Curators' actions ---------------------------------------------------------------------------------


def claim(submission, *, by):
    """A curator takes a submitted dataset into review and becomes its assignee."""
    with transaction.atomic():
        submission = _locked(submission)
        if submission.state == State.IN_REVIEW and submission.assignee_id not in (None, by.pk):
            raise InvalidTransition(
                f"{submission.reference} is already being reviewed by {submission.assignee}. "
                "Use “assign” to take it over."
            )
        if submission.state == State.IN_REVIEW and submission.assignee_id == by.pk:
            return submission
        submission.assignee = by
        submission.save(update_fields=["assignee", "updated_at"])
        _move(
            submission,
            to=State.IN_REVIEW,
            actor_kind=Event.Actor.CURATOR,
            actor=by,
            message="A curator started reviewing the dataset.",
            allowed=[State.SUBMITTED],
        )
    return submission


def assign(submission, *, to, by):
    """Make `to` the curator responsible for a submission (an internal timeline entry)."""
    with transaction.atomic():
        submission = _locked(submission)
        if submission.state in (*Submission.CLOSED_STATES, State.PUBLISHED):
            raise InvalidTransition(f"{submission.reference} is closed; there is nothing left to assign.")
        if submission.assignee_id == to.pk:
            return submission
        previous = submission.assignee
        submission.assignee = to
        submission.save(update_fields=["assignee", "updated_at"])
        _note(
            submission,
            kind=Event.Kind.ASSIGNMENT,
            actor_kind=Event.Actor.CURATOR,
            actor=by,
            message=f"Assigned to {to}" + (f" (was {previous})." if previous else "."),
            public=False,
        )
    return submission


def send_message(submission, *, by, text, public=True):
    """A curator writes to the contributor (public) or leaves an internal note for other curators."""
    text = _required_text(text, what="the message", limit=settings.PORTAL_REPLY_MAX_CHARS)
    with transaction.atomic():
        submission = _locked(submission)
        if public and submission.state == State.AWAITING_CONFIRMATION:
            raise InvalidTransition(
                "The contributor has not confirmed their e-mail address yet; leave an internal note instead."
            )
        event = _note(
            submission,
            kind=Event.Kind.MESSAGE,
            actor_kind=Event.Actor.CURATOR,
            actor=by,
            message=text,
            public=public,
        )
        if public:
            _after_commit(emails.send_curator_message, submission, event=event)
    return submission


def request_changes(submission, *, by, message):
    """Send a submission back to its contributor with what to change (a message is required)."""
    message = _required_text(message, what="what should change", limit=settings.PORTAL_REPLY_MAX_CHARS)
    with transaction.atomic():
        submission = _locked(submission)
        _move(
            submission,
            to=State.CHANGES_REQUESTED,
            actor_kind=Event.Actor.CURATOR,
            actor=by,
            message=message,
            allowed=[State.IN_REVIEW],
        )
        _after_commit(emails.send_changes_requested, submission, message=message)
    return submission


CHECKLIST_ITEMS = {
    "licence_compatible": "The licence is compatible with the contribution terms",
    "no_personal_data": "No personal or sensitive data, or a documented basis for it",
    "provenance_stated": "The provenance of the data is stated",
    "card_usable": "The card is complete enough to use the dataset",
}


class ReviewChecklist:
    """The curator's checklist before approval; every item ticked, or an override with a reason."""

    def __init__(self, *, override_reason="", **ticks):
        unknown = set(ticks) - set(CHECKLIST_ITEMS)
        if unknown:
            raise ValueError(f"Unknown checklist items: {sorted(unknown)}")
        self.ticks = {item: bool(ticks.get(item)) for item in CHECKLIST_ITEMS}
        self.override_reason = (override_reason or "").strip()

    @classmethod
    def all_ticked(cls):
        """Return a checklist with every item ticked."""
        return cls(**dict.fromkeys(CHECKLIST_ITEMS, True))

    @property
    def missing(self):
        """Return the labels of the unticked items."""
        return [CHECKLIST_ITEMS[item] for item, ticked in self.ticks.items() if not ticked]

    def as_record(self):
        """Return the checklist as stored with the submission."""
        return {"items": self.ticks, "override_reason": self.override_reason}


def approve(
    submission,
    *,
    by,
    checklist: ReviewChecklist,
    note="",
    unpack_archives=False,
    concerns_override="",
    personal_data_reviewed=False,
):
    """Approve a submission in review and start its publication to the Hub after commit.

    A failing location or data check, or personal data in the data, needs `concerns_override` (the
    curator's reason, recorded as an event); personal data also needs `personal_data_reviewed`.
    """
    if checklist.missing and not checklist.override_reason:
        raise InvalidTransition(
            "Tick every item of the review checklist, or give a reason to override it. Unticked: "
            + "; ".join(checklist.missing)
            + "."
        )
    concerns_override = (concerns_override or "").strip()
    with transaction.atomic():
        submission = _locked(submission)
        gate = approval.gate_for(submission)
        if gate.needs_override and not concerns_override:
            raise InvalidTransition("Approving needs an override with a reason: " + " ".join(gate.concerns))
        if gate.needs_personal_data_tick and not personal_data_reviewed:
            raise InvalidTransition(
                f"Personal data was found in the data: tick “{approval.PERSONAL_DATA_ITEM}” to approve."
            )
        submission.review_checklist = checklist.as_record()
        submission.unpack_archives = bool(unpack_archives and submission.hosting_wanted)
        submission.save(update_fields=["review_checklist", "unpack_archives", "updated_at"])
        _move(
            submission,
            to=State.APPROVED,
            actor_kind=Event.Actor.CURATOR,
            actor=by,
            message="Approved. The dataset will now be published to the Hugging Face Hub.",
            allowed=[State.IN_REVIEW],
        )
        if gate.needs_override:
            _note(
                submission,
                kind=Event.Kind.OVERRIDE,
                actor_kind=Event.Actor.CURATOR,
                actor=by,
                message="Approved despite: "
                + " ".join(gate.concerns)
                + (" Personal data reviewed." if gate.needs_personal_data_tick else "")
                + f"\nReason: {concerns_override}",
                public=False,
            )
        record = [
            "Review checklist: "
            + "; ".join(
                f"{'✓' if ticked else '✗'} {CHECKLIST_ITEMS[item]}"
                for item, ticked in checklist.ticks.items()
            )
        ]
        if checklist.missing:
            record.append(f"Checklist overridden: {checklist.override_reason}")
        if note.strip():
            record.append(note.strip())
        _note(
            submission,
            kind=Event.Kind.MESSAGE,
            actor_kind=Event.Actor.CURATOR,
            actor=by,
            message="\n".join(record),
            public=False,
        )
        _start_publication(submission)
        _after_commit(emails.send_approved, submission)
    return submission


def _start_publication(submission):
    publishing.publisher().prepare(submission)


def reject(submission, *, by, reason):
    """Decline a submission in review; the reason is required and shown to the contributor."""
    reason = _required_text(reason, what="the reason for the decision", limit=settings.PORTAL_REPLY_MAX_CHARS)
    with transaction.atomic():
        submission = _locked(submission)
        _move(
            submission,
            to=State.REJECTED,
            actor_kind=Event.Actor.CURATOR,
            actor=by,
            message=reason,
            allowed=[State.IN_REVIEW],
        )
        _after_commit(emails.send_rejected, submission, reason=reason)
    return submission


def retry_mirror(submission, *, by):
    """Send a submission whose publication failed back to approved, and publish it again."""
    with transaction.atomic():
        submission = _locked(submission)
        _move(
            submission,
            to=State.APPROVED,
            actor_kind=Event.Actor.CURATOR,
            actor=by,
            message="A curator restarted the publication.",
            allowed=[State.MIRROR_FAILED],
        )
        _start_publication(submission)
    return submission


def rerun_checks(submission, *, by):
    """Run the automatic checks of a submission again (after a fix on the contributor's side, or an error)."""
    with transaction.atomic():
        submission = _locked(submission)
        if submission.state == State.AWAITING_CONFIRMATION:
            raise InvalidTransition("The checks run once the contributor has confirmed their e-mail address.")
        submission.check_summary = "pending"
        submission.save(update_fields=["check_summary", "updated_at"])
        _note(
            submission,
            kind=Event.Kind.MESSAGE,
            actor_kind=Event.Actor.CURATOR,
            actor=by,
            message="Asked for the automatic checks to run again.",
            public=False,
        )
        _enqueue_checks(submission)
    return submission


def available_actions(submission, *, user):
    """Return the names of the curator actions that the submission's state allows (for the review page)."""
    state = submission.state
    names = {"message", "rerun-checks"}
    if state == State.SUBMITTED:
        names |= {"claim", "assign"}
    if state == State.IN_REVIEW:
        names |= {"assign", "request-changes", "approve", "reject"}
        if submission.assignee_id != user.pk:
            names.add("claim")
    if state in (State.CHANGES_REQUESTED, State.APPROVED, State.MIRRORING, State.MIRROR_FAILED):
        names.add("assign")
    if state == State.MIRROR_FAILED:
        names.add("retry-mirror")
    if state in LOCATION_EDITABLE_BY_CURATORS:
        names.add("change-location")
    if state == State.AWAITING_CONFIRMATION:
        names.discard("rerun-checks")
    return names


# The worker's steps of publication (called by catalog.mirror) -------------------------------------


def start_mirroring(submission):
    """The worker began copying an approved submission to the Hub."""
    with transaction.atomic():
        submission = _locked(submission)
        if submission.state == State.MIRRORING:
            return submission
        _move(
            submission,
            to=State.MIRRORING,
            actor_kind=Event.Actor.SYSTEM,
            message="Publishing to the Hugging Face Hub started.",
            allowed=[State.APPROVED],
        )
    return submission


def mark_published(submission, *, hub_url, catalog_url):
    """The dataset is on the Hub and verified: close the submission as published and tell the contributor."""
    with transaction.atomic():
        submission = _locked(submission)
        if submission.state == State.PUBLISHED:
            return submission
        _move(
            submission,
            to=State.PUBLISHED,
            actor_kind=Event.Actor.SYSTEM,
            message=f"Published on the Hugging Face Hub: {hub_url}\nIn the catalog: {catalog_url}",
            allowed=[State.APPROVED, State.MIRRORING],
        )
        _after_commit(emails.send_published, submission, hub_url=hub_url, catalog_url=catalog_url)
    return submission


def mark_mirror_failed(submission, *, reason):
    """Publication stopped on an error that retrying will not heal; curators see the reason."""
    with transaction.atomic():
        submission = _locked(submission)
        if submission.state == State.MIRROR_FAILED:
            return submission
        _move(
            submission,
            to=State.MIRROR_FAILED,
            actor_kind=Event.Actor.SYSTEM,
            message="Publishing failed; the curators have been told.",
            allowed=[State.APPROVED, State.MIRRORING],
        )
        _note(
            submission, kind=Event.Kind.MESSAGE, actor_kind=Event.Actor.SYSTEM, message=reason, public=False
        )
        _after_commit(emails.notify_curators_mirror_failed, submission, reason=reason)
        _after_commit(emails.send_mirror_failed, submission)
    return submission


# Contributors' actions ------------------------------------------------------------------------------


def reply(submission, *, text):
    """The contributor writes to the curators; the state stays as it is and the curators are told.

    A reply to a change request keeps "changes requested", so the contributor can still send a revised
    card or location afterwards (a reply alone changes nothing a curator must review again).
    """
    text = _required_text(text, what="your message", limit=settings.PORTAL_REPLY_MAX_CHARS)
    with transaction.atomic():
        submission = _locked(submission)
        if not submission.accepts_reply:
            raise InvalidTransition(
                f"This submission is {submission.get_state_display().lower()}; it no longer takes messages."
            )
        _note(submission, kind=Event.Kind.MESSAGE, actor_kind=Event.Actor.CONTRIBUTOR, message=text)
        _after_commit(emails.notify_curators_reply, submission, text=text)
    return submission


def revise_card(submission, *, card: ParsedCard, card_raw: bytes, card_filename: str, comment=""):
    """The contributor uploads a revised card while changes are requested; older revisions are kept."""
    stored = []
    try:
        with transaction.atomic():
            submission = _locked(submission)
            if not submission.accepts_revision:
                raise InvalidTransition("A revised card can be sent only while the curators ask for changes.")
            revision = _add_revision(submission, card=card, card_raw=card_raw, card_filename=card_filename)
            stored.append(revision.file.name)
            _note(
                submission,
                kind=Event.Kind.CARD_REVISION,
                actor_kind=Event.Actor.CONTRIBUTOR,
                message=f"Uploaded a revised dataset card (revision {revision.number})."
                + (f"\n{comment.strip()}" if comment and comment.strip() else ""),
            )
            _move(
                submission,
                to=State.SUBMITTED,
                actor_kind=Event.Actor.CONTRIBUTOR,
                message="The dataset is back in the curators' queue with the revised card.",
                allowed=[State.CHANGES_REQUESTED],
            )
            submission.check_summary = "pending"
            submission.save(update_fields=["check_summary"])
            _enqueue_checks(submission)
            _after_commit(emails.notify_curators_revision, submission, revision=revision)
    except BaseException:
        _delete_files(stored)
        raise
    return submission


def _set_location(submission, *, location):
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
    _enqueue_checks(submission)
    return previous


def revise_location(submission, *, location, comment=""):
    """The contributor gives a new data location while changes are requested or after a failed publication.

    Changes requested: the dataset goes back to the curators' queue, as with a revised card. Publishing
    failed: the state stays; the curators are told and restart the publication, which uses the new address.
    The caller validates the address (`forms.clean_location`).
    """
    with transaction.atomic():
        submission = _locked(submission)
        if not submission.accepts_location_revision:
            raise InvalidTransition(
                "A new location can be given only while the curators ask for changes or after publishing "
                "failed."
            )
        previous = _set_location(submission, location=location)
        comment = (comment or "").strip()[:2000]
        _note(
            submission,
            kind=Event.Kind.LOCATION_CHANGE,
            actor_kind=Event.Actor.CONTRIBUTOR,
            message=f"Changed the data location from {previous} to {submission.location}."
            + (f"\n{comment}" if comment else ""),
        )
        if submission.state == State.CHANGES_REQUESTED:
            _move(
                submission,
                to=State.SUBMITTED,
                actor_kind=Event.Actor.CONTRIBUTOR,
                message="The dataset is back in the curators' queue with the new location.",
                allowed=[State.CHANGES_REQUESTED],
            )
        _after_commit(emails.notify_curators_location, submission, previous=previous)
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
    message = _required_text(
        message, what="a message to the contributor", limit=settings.PORTAL_REPLY_MAX_CHARS
    )
    with transaction.atomic():
        submission = _locked(submission)
        if submission.state not in LOCATION_EDITABLE_BY_CURATORS:
            raise InvalidTransition(
                f"{submission.reference} is “{submission.get_state_display()}”; its location can't be "
                "changed now."
            )
        previous = _set_location(submission, location=location)
        _note(
            submission,
            kind=Event.Kind.LOCATION_CHANGE,
            actor_kind=Event.Actor.CURATOR,
            actor=by,
            message=f"Changed the data location from {previous} to {submission.location}.\n{message}",
        )
        _after_commit(emails.send_location_changed, submission, previous=previous, message=message)
    return submission


def withdraw(submission, *, reason=""):
    """The contributor withdraws a submission that is not approved yet."""
    with transaction.atomic():
        submission = _locked(submission)
        if not submission.is_withdrawable:
            raise InvalidTransition(
                f"This submission is {submission.get_state_display().lower()}; it can no longer be withdrawn."
            )
        _move(
            submission,
            to=State.WITHDRAWN,
            actor_kind=Event.Actor.CONTRIBUTOR,
            message=(reason or "").strip()[:2000] or "The contributor withdrew the submission.",
            allowed=Submission.WITHDRAWABLE_STATES,
        )
        _after_commit(emails.notify_curators_withdrawn, submission)
    return submission


def adopt_domain(name, *, by):
    """Add a contributor's suggested domain to the curated list (group "Other"); return the domain."""
    name = " ".join((name or "").split())
    if not 2 <= len(name) <= 60:
        raise InvalidTransition("A domain name has 2 to 60 characters.")
    existing = Domain.objects.filter(name__iexact=name).first()
    if existing is not None:
        if not existing.active:
            existing.active = True
            existing.save(update_fields=["active"])
        return existing
    position = (
        Domain.objects.filter(group=Domain.Group.OTHER)
        .order_by("-position")
        .values_list("position", flat=True)
        .first()
        or 0
    ) + 1
    return Domain.objects.create(name=name, group=Domain.Group.OTHER, position=position)


# After publication: corrections and new card versions ------------------------------------------------

Correction = CorrectionRequest


def _open_correction_guard(submission):
    """Refuse a correction for a dataset that is not published, or while another one is in progress."""
    if submission.state != State.PUBLISHED:
        raise InvalidTransition(
            f"This submission is {submission.get_state_display().lower()}: only a published dataset can be "
            "corrected."
        )
    pending = submission.corrections.filter(state__in=Correction.IN_PROGRESS_STATES).first()
    if pending is None:
        pending = submission.corrections.filter(state=Correction.State.FAILED).first()
    if pending is not None:
        raise InvalidTransition(
            f"Your request {pending.number} ({pending.get_kind_display().lower()}) is "
            f"“{pending.get_state_display().lower()}”; send another change once it is settled."
        )


def _next_correction_number(submission):
    return (submission.corrections.order_by("-number").values_list("number", flat=True).first() or 0) + 1


def request_correction(submission, *, proposal, message=""):
    """The contributor asks to change how a published dataset is categorised; curators decide.

    `proposal` holds the full categorisation wanted (see `categorisation.clean_proposal`); only the fields
    that differ from the published ones are recorded. Raises InvalidProposal for a bad value and
    InvalidTransition when nothing changes or the dataset cannot be corrected now.
    """
    message = (message or "").strip()
    if len(message) > settings.PORTAL_REPLY_MAX_CHARS:
        raise InvalidProposal(
            {"message": f"Shorten the message to {settings.PORTAL_REPLY_MAX_CHARS:,} characters."}
        )
    with transaction.atomic():
        submission = _locked(submission)
        _open_correction_guard(submission)
        published = publishing.publisher().categorisation(submission)
        if published is None:
            raise InvalidTransition("The dataset is not in the catalog; write to the curators instead.")
        proposal = clean_proposal(proposal, current_domain=published.domain)
        current = {
            "name": published.name,
            "domain": published.domain,
            "modalities": sorted(published.modality_list),
            "license": published.license,
            "languages": list(published.languages),
            "tags": list(published.tags),
        }
        changes = {
            field: [current[field], value] for field, value in proposal.items() if value != current[field]
        }
        if "name" in changes and fold_name(proposal["name"]) != fold_name(published.name):
            clash = selectors.find_name_clash(proposal["name"])
            if clash is not None:
                raise InvalidProposal(
                    {"name": f"Another dataset already has this name: {clash}. Choose another."}
                )
        if not changes:
            raise InvalidTransition(
                "Nothing would change: every proposed value is the one already published."
            )
        correction = Correction.objects.create(
            submission=submission,
            number=_next_correction_number(submission),
            kind=Correction.Kind.CATEGORISATION,
            changes=changes,
            message=message,
        )
        _note(
            submission,
            kind=Event.Kind.CORRECTION,
            actor_kind=Event.Actor.CONTRIBUTOR,
            message=f"Asked for a correction (request {correction.number}): "
            + "; ".join(f"{label}: {old} → {new}" for label, old, new in correction.change_rows)
            + (f"\n{message}" if message else ""),
        )
        _after_commit(emails.notify_curators_correction, submission, correction=correction)
    return correction


def submit_card_version(submission, *, card: ParsedCard, card_raw: bytes, card_filename: str, message=""):
    """The contributor sends a new version of a published dataset's card; curators review the diff."""
    stored = []
    try:
        with transaction.atomic():
            submission = _locked(submission)
            _open_correction_guard(submission)
            latest = submission.latest_revision
            if latest is not None and latest.sha256 == card.sha256:
                raise InvalidTransition(
                    "This card is the one already published; change it before sending it."
                )
            correction = Correction(
                submission=submission,
                number=_next_correction_number(submission),
                kind=Correction.Kind.CARD,
                message=(message or "").strip()[: settings.PORTAL_REPLY_MAX_CHARS],
                card_filename=card_filename[:255],
                card_sha256=card.sha256,
                card_size=card.size,
                card_metadata=card.metadata,
                card_findings=[finding.to_dict() for finding in card.findings],
            )
            correction.card_file.save("card.md", ContentFile(card_raw), save=False)
            stored.append(correction.card_file.name)
            correction.save()
            _note(
                submission,
                kind=Event.Kind.CORRECTION,
                actor_kind=Event.Actor.CONTRIBUTOR,
                message=f"Sent a new version of the dataset card (request {correction.number})."
                + (f"\n{correction.message}" if correction.message else ""),
            )
            _after_commit(emails.notify_curators_correction, submission, correction=correction)
    except BaseException:
        _delete_files(stored)
        raise
    return correction


def _locked_correction(correction):
    """Lock the submission, then its correction (always in this order); return both, re-read."""
    submission = _locked(correction.submission)
    return submission, Correction.objects.select_for_update().get(pk=correction.pk)


def accept_correction(correction, *, by, note=""):
    """A curator accepts a correction or card version: the catalog changes and the card goes to the Hub."""
    stored = []
    try:
        with transaction.atomic():
            submission, correction = _locked_correction(correction)
            if correction.state != Correction.State.OPEN:
                raise InvalidTransition(
                    f"Request {correction.number} is “{correction.get_state_display().lower()}”; only an open "
                    "request can be accepted."
                )
            if submission.state != State.PUBLISHED:
                raise InvalidTransition("Only a published dataset can be corrected.")
            if correction.kind == Correction.Kind.CARD:
                with correction.card_file.open("rb") as handle:
                    card_raw = handle.read()
                revision = _store_revision(
                    submission,
                    sha256=correction.card_sha256,
                    size=correction.card_size,
                    metadata=correction.card_metadata,
                    findings=correction.card_findings,
                    card_raw=card_raw,
                    card_filename=correction.card_filename,
                )
                stored.append(revision.file.name)
                correction.revision = revision
            correction.state = Correction.State.ACCEPTED
            correction.decided_by = by
            correction.decided_at = timezone.now()
            correction.decision_note = (note or "").strip()[: settings.PORTAL_REPLY_MAX_CHARS]
            correction.save()
            _note(
                submission,
                kind=Event.Kind.CORRECTION,
                actor_kind=Event.Actor.CURATOR,
                actor=by,
                message=f"Accepted request {correction.number}; the catalog is updated and the card is being "
                "published to the Hub."
                + (f"\n{correction.decision_note}" if correction.decision_note else ""),
            )
            publishing.publisher().publish_correction(correction)
            _after_commit(emails.send_correction_decided, submission, correction=correction)
    except BaseException:
        _delete_files(stored)
        raise
    return correction


def decline_correction(correction, *, by, reason):
    """A curator declines a correction or card version; the reason is required and sent to the contributor."""
    reason = _required_text(reason, what="the reason for the decision", limit=settings.PORTAL_REPLY_MAX_CHARS)
    with transaction.atomic():
        submission, correction = _locked_correction(correction)
        if correction.state != Correction.State.OPEN:
            raise InvalidTransition(
                f"Request {correction.number} is “{correction.get_state_display().lower()}”; only an open "
                "request can be declined."
            )
        correction.state = Correction.State.DECLINED
        correction.decided_by = by
        correction.decided_at = timezone.now()
        correction.decision_note = reason
        correction.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
        _note(
            submission,
            kind=Event.Kind.CORRECTION,
            actor_kind=Event.Actor.CURATOR,
            actor=by,
            message=f"Declined request {correction.number}: {reason}",
        )
        _after_commit(emails.send_correction_decided, submission, correction=correction)
    return correction


def retry_correction(correction, *, by):
    """A curator publishes an accepted correction again after its publication failed."""
    with transaction.atomic():
        submission, correction = _locked_correction(correction)
        if correction.state != Correction.State.FAILED:
            raise InvalidTransition(f"Request {correction.number} did not fail; there is nothing to retry.")
        correction.state = Correction.State.ACCEPTED
        correction.save(update_fields=["state"])
        _note(
            submission,
            kind=Event.Kind.CORRECTION,
            actor_kind=Event.Actor.CURATOR,
            actor=by,
            message=f"Restarted the publication of request {correction.number}.",
            public=False,
        )
        publishing.publisher().publish_correction(correction)
    return correction


def mark_correction_published(correction, *, hub_url):
    """The worker committed and verified the changed card on the Hub (called by the publisher)."""
    with transaction.atomic():
        submission, correction = _locked_correction(correction)
        if correction.state == Correction.State.PUBLISHED:
            return correction
        if correction.state != Correction.State.ACCEPTED:
            raise InvalidTransition(f"Request {correction.number} is not being published.")
        correction.state = Correction.State.PUBLISHED
        correction.published_at = timezone.now()
        correction.save(update_fields=["state", "published_at"])
        _note(
            submission,
            kind=Event.Kind.CORRECTION,
            actor_kind=Event.Actor.SYSTEM,
            message=f"Request {correction.number} is published: the updated card is on the Hub at {hub_url}",
        )
    return correction


def mark_correction_failed(correction, *, reason):
    """Publishing an accepted correction stopped on an error retrying will not heal; curators see why."""
    with transaction.atomic():
        submission, correction = _locked_correction(correction)
        if correction.state != Correction.State.ACCEPTED:
            return correction
        correction.state = Correction.State.FAILED
        correction.save(update_fields=["state"])
        _note(
            submission,
            kind=Event.Kind.CORRECTION,
            actor_kind=Event.Actor.SYSTEM,
            message=f"Publishing request {correction.number} to the Hub failed; the curators have been told.",
        )
        _note(
            submission, kind=Event.Kind.MESSAGE, actor_kind=Event.Actor.SYSTEM, message=reason, public=False
        )
        _after_commit(emails.notify_curators_mirror_failed, submission, reason=reason)
    return correction


# "My submissions" -----------------------------------------------------------------------------------


SIGN_IN_LINK_LIFETIME_MINUTES = 30
SIGN_IN_LINKS_PER_HOUR = 5


def request_sign_in(email):
    """E-mail a single-use sign-in link listing an address's submissions, if it has any.

    The caller answers the same whether or not the address is known.
    """
    email = email.strip()
    if not Submission.objects.filter(contact_email__iexact=email).exists():
        return None
    now = timezone.now()
    recent = SignInLink.objects.filter(email__iexact=email, created_at__gt=now - datetime.timedelta(hours=1))
    if recent.count() >= SIGN_IN_LINKS_PER_HOUR:
        # Nobody can flood an inbox through this form; the page answers the same either way.
        return None
    token = secrets.token_urlsafe(32)
    link = SignInLink.objects.create(
        email=email,
        token_hash=hash_token(token),
        expires_at=now + datetime.timedelta(minutes=SIGN_IN_LINK_LIFETIME_MINUTES),
    )
    _after_commit(emails.send_sign_in_link, email=email, token=token)
    return link


def use_sign_in(token):
    """Spend a sign-in link and return the list of (submission, fresh status token), or None if not valid.

    A link works once and for 30 minutes; a wrong, used or expired link returns None.
    """
    if not token or len(token) > 128:
        return None
    with transaction.atomic():
        now = timezone.now()
        spent = SignInLink.objects.filter(
            token_hash=hash_token(token), used_at__isnull=True, expires_at__gt=now
        ).update(used_at=now)
        if spent != 1:
            return None
        link = SignInLink.objects.get(token_hash=hash_token(token))
        return [
            (submission, StatusLink.objects.issue(submission))
            for submission in selectors.submissions_for_email(link.email)
        ]
