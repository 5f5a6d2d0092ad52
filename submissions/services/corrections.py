"""After publication: corrections of the categorisation and new card versions, asked, decided, published.

At most one request per submission is in progress, so two changes never race to the Hub; the published
card is always built from accepted revisions only.
"""

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from portal import i18n
from submissions import emails, publishing, selectors
from submissions.cards import ParsedCard
from submissions.categorisation import InvalidProposal, clean_proposal
from submissions.models import CorrectionRequest, Event, Submission, fold_name
from submissions.services.revisions import store_revision
from submissions.services.transitions import (
    InvalidTransition,
    after_commit,
    delete_files,
    lines,
    locked,
    record_event,
    required_text,
)

State = Submission.State
# After publication: corrections and new card versions ------------------------------------------------


def _open_correction_guard(submission):
    """Refuse a correction for a dataset that is not published, or while another one is in progress."""
    if submission.state != State.PUBLISHED:
        raise InvalidTransition(
            _("This submission is %(state)s: only a published dataset can be corrected.")
            % {"state": submission.get_state_display().lower()}
        )
    pending = submission.corrections.filter(state__in=CorrectionRequest.IN_PROGRESS_STATES).first()
    if pending is None:
        pending = submission.corrections.filter(state=CorrectionRequest.State.FAILED).first()
    if pending is not None:
        raise InvalidTransition(
            _("Your request %(number)s (%(kind)s) is “%(state)s”; send another change once it is settled.")
            % {
                "number": pending.number,
                "kind": pending.get_kind_display().lower(),
                "state": pending.get_state_display().lower(),
            }
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
            {
                "message": _("Shorten the message to %(limit)s characters.")
                % {"limit": formats.number_format(settings.PORTAL_REPLY_MAX_CHARS, force_grouping=True)}
            }
        )
    with transaction.atomic():
        submission = locked(submission)
        _open_correction_guard(submission)
        published = publishing.publisher().categorisation(submission)
        if published is None:
            raise InvalidTransition(_("The dataset is not in the catalog; write to the curators instead."))
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
                    {
                        "name": _("Another dataset already has this name: %(existing)s. Choose another.")
                        % {"existing": clash}
                    }
                )
        if not changes:
            raise InvalidTransition(
                _("Nothing would change: every proposed value is the one already published.")
            )
        correction = CorrectionRequest.objects.create(
            submission=submission,
            number=_next_correction_number(submission),
            kind=CorrectionRequest.Kind.CATEGORISATION,
            changes=changes,
            message=message,
        )
        record_event(
            submission,
            kind=Event.Kind.CORRECTION,
            actor_kind=Event.Actor.CONTRIBUTOR,
            message=lines(
                i18n.message(
                    gettext_noop("Asked for a correction (request %(number)s): %(changes)s"),
                    number=correction.number,
                    changes=_changes(correction),
                ),
                message,
            ),
        )
        after_commit(emails.notify_curators_correction, submission, correction=correction)
    return correction


def _changes(correction):
    """Return a correction's changes as a stored message: "Domain: Climate → Marine; Tags: a → a, b"."""
    rows = []
    for field, (old, new) in correction.changes.items():
        label = CorrectionRequest.FIELDS.get(field)
        rows.append(
            i18n.message(
                "%(label)s: %(old)s → %(new)s",
                label=i18n.label_message(label) if label else field,
                old=_shown(old),
                new=_shown(new),
            )
        )
    return i18n.joined(rows, separator=i18n.CLAUSES)


def _shown(value):
    return ", ".join(value) if isinstance(value, list) else str(value)


def submit_card_version(submission, *, card: ParsedCard, card_raw: bytes, card_filename: str, message=""):
    """The contributor sends a new version of a published dataset's card; curators review the diff."""
    stored = []
    try:
        with transaction.atomic():
            submission = locked(submission)
            _open_correction_guard(submission)
            latest = submission.latest_revision
            if latest is not None and latest.sha256 == card.sha256:
                raise InvalidTransition(
                    _("This card is the one already published; change it before sending it.")
                )
            correction = CorrectionRequest(
                submission=submission,
                number=_next_correction_number(submission),
                kind=CorrectionRequest.Kind.CARD,
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
            record_event(
                submission,
                kind=Event.Kind.CORRECTION,
                actor_kind=Event.Actor.CONTRIBUTOR,
                message=lines(
                    i18n.message(
                        gettext_noop("Sent a new version of the dataset card (request %(number)s)."),
                        number=correction.number,
                    ),
                    correction.message,
                ),
            )
            after_commit(emails.notify_curators_correction, submission, correction=correction)
    except BaseException:
        delete_files(stored)
        raise
    return correction


def _locked_correction(correction):
    """Lock the submission, then its correction (always in this order); return both, re-read."""
    submission = locked(correction.submission)
    return submission, CorrectionRequest.objects.select_for_update().get(pk=correction.pk)


def accept_correction(correction, *, by, note=""):
    """A curator accepts a correction or card version: the catalog changes and the card goes to the Hub."""
    stored = []
    try:
        with transaction.atomic():
            submission, correction = _locked_correction(correction)
            if correction.state != CorrectionRequest.State.OPEN:
                raise InvalidTransition(
                    _("Request %(number)s is “%(state)s”; only an open request can be accepted.")
                    % {"number": correction.number, "state": correction.get_state_display().lower()}
                )
            if submission.state != State.PUBLISHED:
                raise InvalidTransition(_("Only a published dataset can be corrected."))
            if correction.kind == CorrectionRequest.Kind.CARD:
                with correction.card_file.open("rb") as handle:
                    card_raw = handle.read()
                revision = store_revision(
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
            correction.state = CorrectionRequest.State.ACCEPTED
            correction.decided_by = by
            correction.decided_at = timezone.now()
            correction.decision_note = (note or "").strip()[: settings.PORTAL_REPLY_MAX_CHARS]
            correction.save()
            record_event(
                submission,
                kind=Event.Kind.CORRECTION,
                actor_kind=Event.Actor.CURATOR,
                actor=by,
                message=lines(
                    i18n.message(
                        gettext_noop(
                            "Accepted request %(number)s; the catalog is updated and the card is being "
                            "published to the Hub."
                        ),
                        number=correction.number,
                    ),
                    correction.decision_note,
                ),
            )
            publishing.publisher().publish_correction(correction)
            after_commit(emails.send_correction_decided, submission, correction=correction)
    except BaseException:
        delete_files(stored)
        raise
    return correction


def decline_correction(correction, *, by, reason):
    """A curator declines a correction or card version; the reason is required and sent to the contributor."""
    reason = required_text(
        reason, what=_("the reason for the decision"), limit=settings.PORTAL_REPLY_MAX_CHARS
    )
    with transaction.atomic():
        submission, correction = _locked_correction(correction)
        if correction.state != CorrectionRequest.State.OPEN:
            raise InvalidTransition(
                _("Request %(number)s is “%(state)s”; only an open request can be declined.")
                % {"number": correction.number, "state": correction.get_state_display().lower()}
            )
        correction.state = CorrectionRequest.State.DECLINED
        correction.decided_by = by
        correction.decided_at = timezone.now()
        correction.decision_note = reason
        correction.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
        record_event(
            submission,
            kind=Event.Kind.CORRECTION,
            actor_kind=Event.Actor.CURATOR,
            actor=by,
            message=i18n.message(
                gettext_noop("Declined request %(number)s: %(reason)s"),
                number=correction.number,
                reason=reason,
            ),
        )
        after_commit(emails.send_correction_decided, submission, correction=correction)
    return correction


def retry_correction(correction, *, by):
    """A curator publishes an accepted correction again after its publication failed."""
    with transaction.atomic():
        submission, correction = _locked_correction(correction)
        if correction.state != CorrectionRequest.State.FAILED:
            raise InvalidTransition(
                _("Request %(number)s did not fail; there is nothing to retry.")
                % {"number": correction.number}
            )
        correction.state = CorrectionRequest.State.ACCEPTED
        correction.save(update_fields=["state"])
        record_event(
            submission,
            kind=Event.Kind.CORRECTION,
            actor_kind=Event.Actor.CURATOR,
            actor=by,
            message=i18n.message(
                gettext_noop("Restarted the publication of request %(number)s."), number=correction.number
            ),
            public=False,
        )
        publishing.publisher().publish_correction(correction)
    return correction


def mark_correction_published(correction, *, hub_url):
    """The worker committed and verified the changed card on the Hub (called by the publisher)."""
    with transaction.atomic():
        submission, correction = _locked_correction(correction)
        if correction.state == CorrectionRequest.State.PUBLISHED:
            return correction
        if correction.state != CorrectionRequest.State.ACCEPTED:
            raise InvalidTransition(
                _("Request %(number)s is not being published.") % {"number": correction.number}
            )
        correction.state = CorrectionRequest.State.PUBLISHED
        correction.published_at = timezone.now()
        correction.save(update_fields=["state", "published_at"])
        record_event(
            submission,
            kind=Event.Kind.CORRECTION,
            actor_kind=Event.Actor.SYSTEM,
            message=i18n.message(
                gettext_noop(
                    "Request %(number)s is published: the updated card is on the Hub at %(hub_url)s"
                ),
                number=correction.number,
                hub_url=hub_url,
            ),
        )
    return correction


def mark_correction_failed(correction, *, reason):
    """Publishing an accepted correction stopped on an error retrying will not heal; curators see why.

    `reason`: plain text, or a stored message (`portal.i18n.message`) shown in each curator's language.
    """
    with transaction.atomic():
        submission, correction = _locked_correction(correction)
        if correction.state != CorrectionRequest.State.ACCEPTED:
            return correction
        correction.state = CorrectionRequest.State.FAILED
        correction.save(update_fields=["state"])
        record_event(
            submission,
            kind=Event.Kind.CORRECTION,
            actor_kind=Event.Actor.SYSTEM,
            message=i18n.message(
                gettext_noop("Publishing request %(number)s to the Hub failed; the curators have been told."),
                number=correction.number,
            ),
        )
        record_event(
            submission, kind=Event.Kind.MESSAGE, actor_kind=Event.Actor.SYSTEM, message=reason, public=False
        )
        after_commit(emails.notify_curators_mirror_failed, submission, reason=i18n.translated_lazy(reason))
    return correction
