"""Read queries of the submissions app used by more than one caller."""

import uuid

from django.core.paginator import Paginator
from django.db.models import Count, Q, Sum
from django.utils import timezone

from submissions.inspection.columns import catalog_columns
from submissions.models import (
    CheckResult,
    CorrectionRequest,
    ManifestFile,
    SignInLink,
    SourceRecord,
    StatusLink,
    Submission,
    fold_name,
    hash_token,
)
from submissions.publishing import publisher


def find_name_clash(name):
    """Return a description of an open submission whose name folds to the same key, or None."""
    key = fold_name(name)
    if not key:
        return None
    clash = (
        Submission.objects.filter(name_key=key)
        .exclude(state__in=Submission.CLOSED_STATES)
        .only("reference", "name")
        .first()
    )
    if clash is not None:
        return f"“{clash.name}” ({clash.reference})"
    return publisher().name_clash(key)


def submission_for_token(token):
    """Return (status link, submission) for a raw status token, or None when no link matches."""
    if not token or len(token) > 128:
        return None
    link = (
        StatusLink.objects.select_related("submission", "submission__domain")
        .filter(token_hash=hash_token(token))
        .first()
    )
    if link is None:
        return None
    return link, link.submission


def submission_for_key(key):
    """Return the submission created by the form with this submission key, or None."""
    try:
        key = uuid.UUID(str(key))
    except ValueError:
        return None
    return Submission.objects.filter(submission_key=key).first()


def public_timeline(submission):
    """Return the events of a submission that its contributor may see, oldest first."""
    return submission.events.filter(public=True).select_related("actor").order_by("created_at", "id")


def sign_in_link_is_valid(token):
    """Whether a raw sign-in token belongs to a link that is neither used nor expired."""
    if not token or len(token) > 128:
        return False
    return SignInLink.objects.filter(
        token_hash=hash_token(token), used_at__isnull=True, expires_at__gt=timezone.now()
    ).exists()


def submissions_for_email(email):
    """Return every submission sent from an e-mail address, newest first."""
    return (
        Submission.objects.filter(contact_email__iexact=email)
        .select_related("domain")
        .order_by("-created_at")
    )


def submissions_for_identity(*, orcid, emails):
    """Return every submission of a signed-in contributor's ORCID iD or of one of their addresses, newest first."""
    match = Q(contributor_orcid=orcid) if orcid else Q(pk__in=[])
    for email in emails:
        match |= Q(contact_email__iexact=email)
    return Submission.objects.filter(match).select_related("domain").order_by("-created_at")


def publication(submission):
    """Return the publication of an approved submission (a `publishing.Publication`), or None before approval."""
    return publisher().progress(submission)


def categorisation(submission):
    """Return how a published submission is categorised in the catalog (a `publishing.Categorisation`), or None."""
    if submission.state != Submission.State.PUBLISHED:
        return None
    return publisher().categorisation(submission)


def usage_history(submission):
    """Return the usage history of a published submission's dataset (`UsagePoint`s), oldest first."""
    if submission.state != Submission.State.PUBLISHED:
        return []
    return publisher().usage_history(submission)


def corrections(submission):
    """Return the correction requests and card versions of a submission, newest first."""
    return submission.corrections.select_related("decided_by").order_by("-number")


def correction_in_progress(submission):
    """Return the request of a submission that is open, being published or failed, or None."""
    return (
        submission.corrections.filter(
            state__in=[*CorrectionRequest.IN_PROGRESS_STATES, CorrectionRequest.State.FAILED]
        )
        .order_by("-number")
        .first()
    )


def data_check(revision):
    """Return the data check's result for a card revision, or None before it has run."""
    if revision is None:
        return None
    return CheckResult.objects.filter(revision=revision, kind=CheckResult.Kind.DATA).first()


def location_check(revision):
    """Return the location check's result for a card revision, or None before it has run."""
    if revision is None:
        return None
    return CheckResult.objects.filter(revision=revision, kind=CheckResult.Kind.LOCATION).first()


def data_columns(submission):
    """Return the columns found by the data check of a submission's newest revision: [{name, type}]."""
    check = data_check(submission.latest_revision)
    return catalog_columns(check.details) if check is not None else []


def reference_of(submission_id):
    """Return the reference of a submission by id (for log lines), or "" if there is none."""
    return Submission.objects.filter(pk=submission_id).values_list("reference", flat=True).first() or ""


def records(submission):
    """Return the repository records the submission's locations named, in the order of the lines."""
    return list(SourceRecord.objects.filter(submission=submission).order_by("position"))


def reusable_record_doi(submission):
    """Return the DOI of the one repository record a submission's data is, or None.

    Only then may the approving curator choose to cite the dataset by the record's DOI instead of minting a
    new one: a single record, with a DOI, and every file of the dataset from it (the same bytes).
    """
    rows = list(SourceRecord.objects.filter(submission=submission).values_list("pk", "doi")[:2])
    if len(rows) != 1 or not rows[0][1]:
        return None
    record_id, doi = rows[0]
    if ManifestFile.objects.filter(submission=submission).exclude(record_id=record_id).exists():
        return None
    return doi


MANIFEST_ORDERS = {
    "path": ("position",),
    "size": ("size", "position"),
    "-size": ("-size", "position"),
}


def manifest_page(submission, *, page=1, order="path", per_page=200):
    """Return a `Page` of the submission's manifest files, in the manifest's order or by size."""
    files = (
        ManifestFile.objects.filter(submission=submission)
        .select_related("record")
        .order_by(*MANIFEST_ORDERS.get(order, MANIFEST_ORDERS["path"]))
    )
    return Paginator(files, per_page).get_page(page)


def manifest_totals(submission):
    """Return the manifest's totals: files, bytes, unknown sizes, restricted files, and per split and source.

    Two queries whatever the number of files.
    """
    rows = (
        ManifestFile.objects.filter(submission=submission)
        .values("split", "record")
        .annotate(
            files=Count("id"),
            bytes=Sum("size"),
            unknown=Count("id", filter=Q(size__isnull=True)),
            restricted=Count("id", filter=Q(restricted=True)),
            checked=Count("id", filter=~Q(checksums={})),
        )
        .order_by("split", "record")
    )
    totals = {"files": 0, "size": 0, "unknown_sizes": 0, "restricted": 0, "with_checksums": 0}
    splits, sources = {}, {}
    for row in rows:
        for key, field in (
            ("files", "files"),
            ("size", "bytes"),
            ("unknown_sizes", "unknown"),
            ("restricted", "restricted"),
            ("with_checksums", "checked"),
        ):
            totals[key] += row[field] or 0
        split = splits.setdefault(row["split"], {"split": row["split"], "files": 0, "size": 0})
        split["files"] += row["files"]
        split["size"] += row["bytes"] or 0
        source = sources.setdefault(row["record"], {"record": row["record"], "files": 0, "size": 0})
        source["files"] += row["files"]
        source["size"] += row["bytes"] or 0
    order = {"train": 0, "validation": 1, "test": 2, "": 3}
    totals["splits"] = sorted(splits.values(), key=lambda item: order.get(item["split"], 4))
    totals["sources"] = list(sources.values())
    return totals
