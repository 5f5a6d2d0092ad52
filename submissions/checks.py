"""Automatic checks on a submission's newest card revision: card lint, location, duplicates, data.

Checks advise the curator; they never change a submission's state. Each check stores one `CheckResult`
per revision (pass / warn / fail, or error when the check itself broke and should be re-run). The
location check goes through `portal.safefetch`, the only way the portal reaches a contributor's URL.
"""

import difflib
import logging
from urllib.parse import urlsplit, urlunsplit

from django.db import transaction
from django.template.defaultfilters import filesizeformat

from portal import safefetch
from submissions.models import CheckResult, Submission
from submissions.publishing import publisher

logger = logging.getLogger(__name__)

Outcome = CheckResult.Outcome
SEVERITY = {Outcome.PASS: 0, Outcome.WARN: 1, Outcome.ERROR: 2, Outcome.FAIL: 3}
# Names whose folded forms are at least this similar are reported as possible duplicates.
NAME_SIMILARITY = 0.9


def run_all(submission_id):
    """Run every check on the newest revision of a submission and update its queue summary."""
    submission = Submission.objects.filter(pk=submission_id).first()
    if submission is None:
        return None
    revision = submission.latest_revision
    if revision is None:
        return None
    for kind, check in CHECKS.items():
        try:
            outcome, summary, details = check(submission, revision)
        except Exception as exc:
            logger.exception("The %s check of %s failed.", kind, submission.reference)
            outcome, summary, details = Outcome.ERROR, f"The check itself failed ({type(exc).__name__}).", {}
        CheckResult.objects.update_or_create(
            revision=revision,
            kind=kind,
            defaults={"outcome": outcome, "summary": summary[:300], "details": details},
        )
    return update_summary(submission)


def update_summary(submission):
    """Store the worst outcome of the newest revision's checks on the submission, for the queue."""
    with transaction.atomic():
        revision = submission.latest_revision
        outcomes = list(CheckResult.objects.filter(revision=revision).values_list("outcome", flat=True))
        summary = max(outcomes, key=lambda outcome: SEVERITY[outcome]) if outcomes else "pending"
        Submission.objects.filter(pk=submission.pk).update(check_summary=summary)
    return summary


def check_card(submission, revision):
    """Summarise the card's lint findings (computed once, at upload)."""
    warnings = revision.warnings
    if not warnings:
        return Outcome.PASS, "The card has the recommended metadata and sections.", {}
    first = warnings[0]["message"]
    more = f" (and {len(warnings) - 1} more)" if len(warnings) > 1 else ""
    return Outcome.WARN, f"{first}{more}", {"findings": warnings}


def check_location(submission, revision):
    """Probe the dataset location through the SSRF-safe client: reachable, content type, size."""
    try:
        result = safefetch.probe(submission.location)
    except safefetch.FetchBlocked as exc:
        return Outcome.FAIL, f"Blocked: {exc}", {"blocked": True, "reason": str(exc)}
    except safefetch.FetchFailed as exc:
        return Outcome.FAIL, f"Unreachable: {exc}", {"reachable": False, "reason": str(exc)}
    details = {
        "reachable": result.reachable,
        "status": result.status,
        "final_url": result.final_url,
        "content_type": result.content_type,
        "size": result.size,
        "redirects": list(result.redirects),
        "accepts_ranges": result.accepts_ranges,
    }
    if not result.reachable:
        return Outcome.FAIL, f"The server answered HTTP {result.status}.", details
    described = ", ".join(
        part
        for part in (
            result.content_type or "unknown type",
            filesizeformat(result.size) if result.size else "",
        )
        if part
    )
    if result.size is None and submission.hosting_wanted:
        return (
            Outcome.WARN,
            f"Reachable ({described}); the server does not say how large the data is.",
            details,
        )
    return Outcome.PASS, f"Reachable ({described}).", details


def check_duplicates(submission, revision):
    """Look for the same location or a near-same name among other submissions and published datasets."""
    location = normalise_location(submission.location)
    others = (
        Submission.objects.exclude(pk=submission.pk)
        .exclude(state__in=Submission.CLOSED_STATES)
        .values_list("reference", "name", "name_key", "location")
    )
    same_location, similar_names = [], []
    for reference, name, name_key, other_location in others.iterator(chunk_size=2000):
        if normalise_location(other_location) == location:
            same_location.append(f"{reference} “{name}”")
        elif _similar(submission.name_key, name_key):
            similar_names.append(f"{reference} “{name}”")
    for label, name_key, other_location in publisher().published_entries(
        excluding_submission_id=submission.pk
    ):
        if other_location and normalise_location(other_location) == location:
            same_location.append(label)
        elif _similar(submission.name_key, name_key):
            similar_names.append(label)
    details = {"same_location": same_location, "similar_names": similar_names}
    if same_location:
        return Outcome.FAIL, "Same location as " + ", ".join(same_location[:3]) + ".", details
    if similar_names:
        return Outcome.WARN, "Similar name to " + ", ".join(similar_names[:3]) + ".", details
    return Outcome.PASS, "No other submission or dataset with this location or a similar name.", details


def check_data(submission, revision):
    """Inspect a bounded sample of the data itself: format, schema, first rows, personal data (masked)."""
    # Imported here, not with the module: the inspection's libraries (DuckDB, pyarrow, NumPy, Pillow: about
    # 60 MiB) then load only in a process that runs a data check. Every worker imports this module with the
    # task modules, and a mirroring worker, whose memory must stay flat and small, never inspects data.
    from submissions.inspection import report as inspection

    return inspection.inspect_location(
        submission.location, modalities=submission.modality_list, card_metadata=revision.metadata
    )


def _similar(key, other):
    if not key or not other:
        return False
    if key == other:
        return True
    matcher = difflib.SequenceMatcher(None, key, other)
    return matcher.real_quick_ratio() >= NAME_SIMILARITY and matcher.ratio() >= NAME_SIMILARITY


def normalise_location(url):
    """Return a URL in a form where trivially different spellings of the same address compare equal."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().rstrip(".")
    port = f":{parts.port}" if parts.port and parts.port != 443 else ""
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((parts.scheme.lower(), host + port, path, parts.query, ""))


CHECKS = {
    CheckResult.Kind.CARD: check_card,
    CheckResult.Kind.LOCATION: check_location,
    CheckResult.Kind.DUPLICATE: check_duplicates,
    CheckResult.Kind.DATA: check_data,
}
