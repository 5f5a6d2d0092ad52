"""A submission from the form to its decision and publication: submit, confirm, review, decide, publish.

Each action runs in a transaction, locks the submission row, checks that its state allows the step,
writes the change and an `Event`, and schedules side effects (e-mail, Celery tasks) after commit.
"""

import uuid

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from portal import i18n
from portal.orcid import is_orcid
from submissions import approval, emails, publishing, selectors
from submissions.cards import ParsedCard
from submissions.models import (
    Domain,
    Event,
    StatusLink,
    Submission,
    TermsVersion,
    fold_name,
)
from submissions.services.locations import LOCATION_EDITABLE_BY_CURATORS
from submissions.services.revisions import add_revision
from submissions.services.transitions import (
    InvalidTransition,
    after_commit,
    delete_files,
    enqueue_checks,
    lines,
    locked,
    message_fields,
    move,
    record_event,
    required_text,
)
from submissions.services.triage import DUPLICATE_STATES

State = Submission.State


class NameTaken(Exception):
    """Another open submission or a catalog dataset already has this name (case and punctuation aside)."""

    def __init__(self, existing):
        super().__init__(
            _(
                "A dataset with this name already exists: %(existing)s. Choose a more specific name; if it is "
                "your own submission, follow the status link in its e-mail instead of submitting again."
            )
            % {"existing": existing}
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
    announced_checksums: list | None = None,
    paper: str = "",
    code_url: str = "",
    contributor_orcid: str = "",
    contributor_given_names: str = "",
    contributor_family_names: str = "",
):
    """Create a submission with its first card revision and event; e-mail the status link after commit.

    `location` holds one location per line (files, repository records, DOIs); `announced_checksums` the
    contributor's checksums (`manifest.parse_checksums`); `paper` and `code_url` the related work.

    Returns (submission, created). A repeated call with the same `submission_key` (a double click, a
    resent POST) returns the submission created by the first call and sends nothing. Raises `NameTaken`
    when the name is already used by an open submission or a catalog dataset. `contributor_orcid` is the
    iD of an ORCID sign-in, never a typed value; with it, the names are those the dataset will credit.
    """
    if contributor_orcid and not is_orcid(contributor_orcid):
        raise ValueError("contributor_orcid must be the ORCID iD of a sign-in.")
    if not contributor_orcid:
        contributor_given_names = contributor_family_names = ""
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
                announced_checksums=announced_checksums or [],
                paper=paper,
                code_url=code_url,
                hosting_wanted=hosting_wanted,
                modalities=",".join(sorted(set(modalities))),
                domain=domain,
                suggested_domain="" if domain else suggested_domain,
                contact_email=contact_email,
                language=translation.get_language() or settings.LANGUAGE_CODE,
                contributor_orcid=contributor_orcid,
                contributor_given_names=" ".join(contributor_given_names.split())[:100],
                contributor_family_names=" ".join(contributor_family_names.split())[:100],
                terms_version=terms,
                terms_accepted_at=now,
                state=State.AWAITING_CONFIRMATION,
                state_changed_at=now,
            )
            submission.reference = f"DP-{now:%Y}-{submission.pk:06d}"
            submission.save(update_fields=["reference"])
            revision = add_revision(submission, card=card, card_raw=card_raw, card_filename=card_filename)
            stored_names.append(revision.file.name)
            Event.objects.create(
                submission=submission,
                kind=Event.Kind.STATE_CHANGE,
                actor_kind=Event.Actor.CONTRIBUTOR,
                to_state=State.AWAITING_CONFIRMATION,
                **message_fields(
                    i18n.message(
                        gettext_noop(
                            "Submitted through the contribution form, signed in with ORCID iD %(orcid)s."
                        ),
                        orcid=contributor_orcid,
                    )
                    if contributor_orcid
                    else i18n.message(gettext_noop("Submitted through the contribution form."))
                ),
            )
            token = StatusLink.objects.issue(submission)
            transaction.on_commit(lambda: emails.send_confirmation(submission, token=token))
    except IntegrityError:
        delete_files(stored_names)
        existing = Submission.objects.filter(submission_key=submission_key).first()
        if existing is not None:
            return existing, False
        clash = selectors.find_name_clash(name)
        if clash is not None:  # a concurrent submission of the same name won the unique index
            raise NameTaken(clash) from None
        raise
    except BaseException:
        delete_files(stored_names)
        raise
    return submission, True


def confirm(submission):
    """Confirm the contributor's e-mail address (the status page's button): the dataset is submitted.

    Confirming again later changes nothing. Returns the submission as it is now.
    """
    with transaction.atomic():
        submission = locked(submission)
        if submission.state != State.AWAITING_CONFIRMATION:
            return submission
        submission.confirmed_at = timezone.now()
        submission.save(update_fields=["confirmed_at", "updated_at"])
        move(
            submission,
            to=State.SUBMITTED,
            actor_kind=Event.Actor.CONTRIBUTOR,
            message=i18n.message(
                gettext_noop("E-mail address confirmed; the dataset is waiting for a curator.")
            ),
            allowed=[State.AWAITING_CONFIRMATION],
        )
        enqueue_checks(submission)
        after_commit(emails.notify_curators_new_submission, submission)
    return submission


def touch_status_link(link):
    """Record that a status link was used just now."""
    StatusLink.objects.filter(pk=link.pk).update(last_used_at=timezone.now())


# Curators' actions ---------------------------------------------------------------------------------


def claim(submission, *, by):
    """A curator takes a submitted dataset into review and becomes its assignee."""
    with transaction.atomic():
        submission = locked(submission)
        if submission.state == State.IN_REVIEW and submission.assignee_id not in (None, by.pk):
            raise InvalidTransition(
                _("%(reference)s is already being reviewed by %(curator)s. Use “assign” to take it over.")
                % {"reference": submission.reference, "curator": submission.assignee}
            )
        if submission.state == State.IN_REVIEW and submission.assignee_id == by.pk:
            return submission
        submission.assignee = by
        submission.save(update_fields=["assignee", "updated_at"])
        move(
            submission,
            to=State.IN_REVIEW,
            actor_kind=Event.Actor.CURATOR,
            actor=by,
            message=i18n.message(gettext_noop("A curator started reviewing the dataset.")),
            allowed=[State.SUBMITTED],
        )
    return submission


def assign(submission, *, to, by):
    """Make `to` the curator responsible for a submission (an internal timeline entry)."""
    with transaction.atomic():
        submission = locked(submission)
        if submission.state in (*Submission.CLOSED_STATES, State.PUBLISHED):
            raise InvalidTransition(
                _("%(reference)s is closed; there is nothing left to assign.")
                % {"reference": submission.reference}
            )
        if submission.assignee_id == to.pk:
            return submission
        previous = submission.assignee
        submission.assignee = to
        submission.save(update_fields=["assignee", "updated_at"])
        record_event(
            submission,
            kind=Event.Kind.ASSIGNMENT,
            actor_kind=Event.Actor.CURATOR,
            actor=by,
            message=i18n.message(
                gettext_noop("Assigned to %(curator)s (was %(previous)s)."),
                curator=str(to),
                previous=str(previous),
            )
            if previous
            else i18n.message(gettext_noop("Assigned to %(curator)s."), curator=str(to)),
            public=False,
        )
    return submission


def send_message(submission, *, by, text, public=True):
    """A curator writes to the contributor (public) or leaves an internal note for other curators."""
    text = required_text(text, what=_("the message"), limit=settings.PORTAL_REPLY_MAX_CHARS)
    with transaction.atomic():
        submission = locked(submission)
        if public and submission.state == State.AWAITING_CONFIRMATION:
            raise InvalidTransition(
                _(
                    "The contributor has not confirmed their e-mail address yet; leave an internal note instead."
                )
            )
        event = record_event(
            submission,
            kind=Event.Kind.MESSAGE,
            actor_kind=Event.Actor.CURATOR,
            actor=by,
            message=text,
            public=public,
        )
        if public:
            after_commit(emails.send_curator_message, submission, event=event)
    return submission


def request_changes(submission, *, by, message):
    """Send a submission back to its contributor with what to change (a message is required)."""
    message = required_text(message, what=_("what should change"), limit=settings.PORTAL_REPLY_MAX_CHARS)
    with transaction.atomic():
        submission = locked(submission)
        move(
            submission,
            to=State.CHANGES_REQUESTED,
            actor_kind=Event.Actor.CURATOR,
            actor=by,
            message=message,
            allowed=[State.IN_REVIEW],
        )
        after_commit(emails.send_changes_requested, submission, message=message)
    return submission


# The labels are lazy: the review page's form shows them in the curator's language.
CHECKLIST_ITEMS = {
    "licence_compatible": translation.gettext_lazy("The licence is compatible with the contribution terms"),
    "no_personal_data": translation.gettext_lazy(
        "No personal or sensitive data, or a documented basis for it"
    ),
    "provenance_stated": translation.gettext_lazy("The provenance of the data is stated"),
    "card_usable": translation.gettext_lazy("The card is complete enough to use the dataset"),
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
        return [str(CHECKLIST_ITEMS[item]) for item, ticked in self.ticks.items() if not ticked]

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
    reuse_record_doi=False,
):
    """Approve a submission in review and start its publication to the Hub after commit.

    A failing location or data check, or personal data in the data, needs `concerns_override` (the
    curator's reason, recorded as an event); personal data also needs `personal_data_reviewed`.
    `reuse_record_doi`: the dataset is cited by its repository record's DOI and no DOI is minted (only for
    a dataset that is one record with a DOI, `selectors.reusable_record_doi`).
    """
    if checklist.missing and not checklist.override_reason:
        raise InvalidTransition(
            _(
                "Tick every item of the review checklist, or give a reason to override it. Unticked: %(items)s."
            )
            % {"items": "; ".join(checklist.missing)}
        )
    concerns_override = (concerns_override or "").strip()
    with transaction.atomic():
        submission = locked(submission)
        gate = approval.gate_for(submission)
        if gate.needs_override and not concerns_override:
            raise InvalidTransition(
                _("Approving needs an override with a reason: %(concerns)s")
                % {"concerns": " ".join(str(concern) for concern in gate.concerns)}
            )
        if gate.needs_personal_data_tick and not personal_data_reviewed:
            raise InvalidTransition(
                _("Personal data was found in the data: tick “%(item)s” to approve.")
                % {"item": approval.PERSONAL_DATA_ITEM}
            )
        record_doi = selectors.reusable_record_doi(submission) if reuse_record_doi else None
        if reuse_record_doi and record_doi is None:
            raise InvalidTransition(
                _(
                    "The record's DOI can be reused only when the dataset is one repository record with a DOI "
                    "and every file comes from it; untick “Reuse the record's DOI”."
                )
            )
        submission.review_checklist = checklist.as_record()
        submission.unpack_archives = bool(unpack_archives and submission.hosting_wanted)
        submission.reuse_record_doi = record_doi is not None
        submission.save(
            update_fields=["review_checklist", "unpack_archives", "reuse_record_doi", "updated_at"]
        )
        move(
            submission,
            to=State.APPROVED,
            actor_kind=Event.Actor.CURATOR,
            actor=by,
            message=i18n.message(
                gettext_noop("Approved. The dataset will now be published to the Hugging Face Hub.")
            ),
            allowed=[State.IN_REVIEW],
        )
        if gate.needs_override:
            record_event(
                submission,
                kind=Event.Kind.OVERRIDE,
                actor_kind=Event.Actor.CURATOR,
                actor=by,
                message=lines(
                    i18n.message(
                        gettext_noop("Approved despite: %(concerns)s Personal data reviewed.")
                        if gate.needs_personal_data_tick
                        else gettext_noop("Approved despite: %(concerns)s"),
                        concerns=" ".join(str(concern) for concern in gate.concerns),
                    ),
                    i18n.message(gettext_noop("Reason: %(reason)s"), reason=concerns_override),
                ),
                public=False,
            )
        record_event(
            submission,
            kind=Event.Kind.MESSAGE,
            actor_kind=Event.Actor.CURATOR,
            actor=by,
            message=lines(
                _checklist_record(checklist),
                checklist.missing
                and i18n.message(
                    gettext_noop("Checklist overridden: %(reason)s"), reason=checklist.override_reason
                ),
                record_doi is not None
                and i18n.message(
                    gettext_noop("The dataset is cited by its record's DOI %(doi)s; no new DOI is minted."),
                    doi=record_doi,
                ),
                note.strip(),
            ),
            public=False,
        )
        _start_publication(submission)
        after_commit(emails.send_approved, submission)
    return submission


def _checklist_record(checklist):
    """Return the timeline's line of a review checklist: each item ticked (✓) or not (✗)."""
    items = [
        i18n.message(f"{'✓' if ticked else '✗'} %(item)s", item=i18n.label_message(CHECKLIST_ITEMS[item]))
        for item, ticked in checklist.ticks.items()
    ]
    return i18n.message(
        gettext_noop("Review checklist: %(items)s"), items=i18n.joined(items, separator=i18n.CLAUSES)
    )


def _start_publication(submission):
    publishing.publisher().prepare(submission)


def reject(submission, *, by, reason):
    """Decline a submission in review; the reason is required and shown to the contributor."""
    reason = required_text(
        reason, what=_("the reason for the decision"), limit=settings.PORTAL_REPLY_MAX_CHARS
    )
    with transaction.atomic():
        submission = locked(submission)
        move(
            submission,
            to=State.REJECTED,
            actor_kind=Event.Actor.CURATOR,
            actor=by,
            message=reason,
            allowed=[State.IN_REVIEW],
        )
        after_commit(emails.send_rejected, submission, reason=reason)
    return submission


def retry_mirror(submission, *, by):
    """Send a submission whose publication failed back to approved, and publish it again."""
    with transaction.atomic():
        submission = locked(submission)
        move(
            submission,
            to=State.APPROVED,
            actor_kind=Event.Actor.CURATOR,
            actor=by,
            message=i18n.message(gettext_noop("A curator restarted the publication.")),
            allowed=[State.MIRROR_FAILED],
        )
        _start_publication(submission)
    return submission


def rerun_checks(submission, *, by):
    """Run the automatic checks of a submission again (after a fix on the contributor's side, or an error)."""
    with transaction.atomic():
        submission = locked(submission)
        if submission.state == State.AWAITING_CONFIRMATION:
            raise InvalidTransition(
                _("The checks run once the contributor has confirmed their e-mail address.")
            )
        submission.check_summary = "pending"
        submission.save(update_fields=["check_summary", "updated_at"])
        record_event(
            submission,
            kind=Event.Kind.MESSAGE,
            actor_kind=Event.Actor.CURATOR,
            actor=by,
            message=i18n.message(gettext_noop("Asked for the automatic checks to run again.")),
            public=False,
        )
        enqueue_checks(submission)
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
    if state == State.PUBLISHED:
        names.add("withdraw-published")
    if state in LOCATION_EDITABLE_BY_CURATORS:
        names.add("change-location")
    if state in DUPLICATE_STATES:
        names.add("mark-duplicate")
    if state == State.AWAITING_CONFIRMATION:
        names.discard("rerun-checks")
    return names


# The worker's steps of publication (called by catalog.mirror) -------------------------------------


def start_mirroring(submission):
    """The worker began copying an approved submission to the Hub."""
    with transaction.atomic():
        submission = locked(submission)
        if submission.state == State.MIRRORING:
            return submission
        move(
            submission,
            to=State.MIRRORING,
            actor_kind=Event.Actor.SYSTEM,
            message=i18n.message(gettext_noop("Publishing to the Hugging Face Hub started.")),
            allowed=[State.APPROVED],
        )
    return submission


def mark_published(submission, *, hub_url, catalog_url):
    """The dataset is on the Hub and verified: close the submission as published and tell the contributor."""
    with transaction.atomic():
        submission = locked(submission)
        if submission.state == State.PUBLISHED:
            return submission
        move(
            submission,
            to=State.PUBLISHED,
            actor_kind=Event.Actor.SYSTEM,
            message=i18n.message(
                gettext_noop(
                    "Published on the Hugging Face Hub: %(hub_url)s\nIn the catalog: %(catalog_url)s"
                ),
                hub_url=hub_url,
                catalog_url=catalog_url,
            ),
            allowed=[State.APPROVED, State.MIRRORING],
        )
        after_commit(emails.send_published, submission, hub_url=hub_url, catalog_url=catalog_url)
    return submission


def mark_mirror_failed(submission, *, reason):
    """Publication stopped on an error that retrying will not heal; curators see the reason.

    `reason`: plain text, or a stored message (`portal.i18n.message`) shown in each curator's language.
    """
    with transaction.atomic():
        submission = locked(submission)
        if submission.state == State.MIRROR_FAILED:
            return submission
        move(
            submission,
            to=State.MIRROR_FAILED,
            actor_kind=Event.Actor.SYSTEM,
            message=i18n.message(gettext_noop("Publishing failed; the curators have been told.")),
            allowed=[State.APPROVED, State.MIRRORING],
        )
        record_event(
            submission, kind=Event.Kind.MESSAGE, actor_kind=Event.Actor.SYSTEM, message=reason, public=False
        )
        after_commit(emails.notify_curators_mirror_failed, submission, reason=i18n.translated_lazy(reason))
        after_commit(emails.send_mirror_failed, submission)
    return submission


# Contributors' actions ------------------------------------------------------------------------------


def reply(submission, *, text):
    """The contributor writes to the curators; the state stays as it is and the curators are told.

    A reply to a change request keeps "changes requested", so the contributor can still send a revised
    card or location afterwards (a reply alone changes nothing a curator must review again).
    """
    text = required_text(text, what=_("your message"), limit=settings.PORTAL_REPLY_MAX_CHARS)
    with transaction.atomic():
        submission = locked(submission)
        if not submission.accepts_reply:
            raise InvalidTransition(
                _("This submission is %(state)s; it no longer takes messages.")
                % {"state": submission.get_state_display().lower()}
            )
        record_event(submission, kind=Event.Kind.MESSAGE, actor_kind=Event.Actor.CONTRIBUTOR, message=text)
        after_commit(emails.notify_curators_reply, submission, text=text)
    return submission


def revise_card(submission, *, card: ParsedCard, card_raw: bytes, card_filename: str, comment=""):
    """The contributor uploads a revised card before the curators decide; older revisions are kept.

    While changes are requested the dataset goes back to the curators' queue; submitted or in review, the
    state stays (the curator sees the new revision and its diff). The checks run again on it.
    """
    stored = []
    try:
        with transaction.atomic():
            submission = locked(submission)
            if not submission.accepts_revision:
                raise InvalidTransition(
                    _(
                        "This submission is %(state)s: a revised card can be sent only before the curators "
                        "decide. Once published, send a new version of the card instead."
                    )
                    % {"state": submission.get_state_display().lower()}
                )
            revision = add_revision(submission, card=card, card_raw=card_raw, card_filename=card_filename)
            stored.append(revision.file.name)
            record_event(
                submission,
                kind=Event.Kind.CARD_REVISION,
                actor_kind=Event.Actor.CONTRIBUTOR,
                message=lines(
                    i18n.message(
                        gettext_noop("Uploaded a revised dataset card (revision %(number)s)."),
                        number=revision.number,
                    ),
                    (comment or "").strip(),
                ),
            )
            if submission.state == State.CHANGES_REQUESTED:
                move(
                    submission,
                    to=State.SUBMITTED,
                    actor_kind=Event.Actor.CONTRIBUTOR,
                    message=i18n.message(
                        gettext_noop("The dataset is back in the curators' queue with the revised card.")
                    ),
                    allowed=[State.CHANGES_REQUESTED],
                )
            submission.check_summary = "pending"
            submission.save(update_fields=["check_summary"])
            enqueue_checks(submission)
            after_commit(emails.notify_curators_revision, submission, revision=revision)
    except BaseException:
        delete_files(stored)
        raise
    return submission


def withdraw(submission, *, reason=""):
    """The contributor withdraws a submission that is not approved yet."""
    with transaction.atomic():
        submission = locked(submission)
        if not submission.is_withdrawable:
            raise InvalidTransition(
                _("This submission is %(state)s; it can no longer be withdrawn.")
                % {"state": submission.get_state_display().lower()}
            )
        move(
            submission,
            to=State.WITHDRAWN,
            actor_kind=Event.Actor.CONTRIBUTOR,
            message=(reason or "").strip()[:2000]
            or i18n.message(gettext_noop("The contributor withdrew the submission.")),
            allowed=Submission.WITHDRAWABLE_STATES,
        )
        after_commit(emails.notify_curators_withdrawn, submission)
    return submission


def adopt_domain(name, *, by):
    """Add a contributor's suggested domain to the curated list (group "Other"); return the domain."""
    name = " ".join((name or "").split())
    if not 2 <= len(name) <= 60:
        raise InvalidTransition(_("A domain name has 2 to 60 characters."))
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
