"""Read queries of the submissions app used by more than one caller."""

import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Count, Exists, Max, OuterRef, Q, Subquery, Sum, Window
from django.db.models.functions import Coalesce
from django.utils import timezone

from submissions.curators import curator_users
from submissions.inspection.columns import catalog_columns
from submissions.models import (
    CheckResult,
    CorrectionRequest,
    CuratorPreferences,
    DigestDelivery,
    Event,
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
        .exclude(state__in=Submission.RELEASED_STATES)
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


# Reminders: who is due one. The services ask the same questions again under the submission's row lock. --


def _latest_event_at(events):
    return Subquery(events.order_by("-created_at").values("created_at")[:1])


def with_contributor_clock(queryset):
    """Annotate submissions with when their contributor last acted and when they were last reminded.

    `contributor_active_at`: the change request (when the state began) or the contributor's latest
    message since, whichever is later: a reply counts as an answer. `reminded_at`: the latest reminder
    sent since then, or None.
    """
    since_state = Event.objects.filter(
        submission=OuterRef("pk"), created_at__gte=OuterRef("state_changed_at")
    )
    return queryset.annotate(
        contributor_active_at=Coalesce(
            _latest_event_at(since_state.filter(actor_kind=Event.Actor.CONTRIBUTOR)), "state_changed_at"
        )
    ).annotate(
        reminded_at=_latest_event_at(
            Event.objects.filter(
                submission=OuterRef("pk"),
                kind=Event.Kind.REMINDER,
                created_at__gte=OuterRef("contributor_active_at"),
            )
        )
    )


def contributors_to_remind(*, now=None):
    """Return the submissions whose contributor has not answered a change request in CHANGES_REMINDER_DAYS."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.CHANGES_REMINDER_DAYS)
    waiting = Submission.objects.filter(
        state=Submission.State.CHANGES_REQUESTED, state_changed_at__lte=cutoff
    )
    return with_contributor_clock(waiting).filter(contributor_active_at__lte=cutoff, reminded_at__isnull=True)


def abandonment_deadline(*, active_at, reminded_at):
    """Return when a change request left unanswered closes: CHANGES_ABANDON_DAYS after the contributor's
    last answer, and never sooner after the reminder than the reminder's own lead time."""
    lead = timedelta(days=settings.CHANGES_ABANDON_DAYS - settings.CHANGES_REMINDER_DAYS)
    return max(active_at + timedelta(days=settings.CHANGES_ABANDON_DAYS), reminded_at + lead)


def submissions_to_abandon(*, now=None):
    """Return the submissions whose contributor was reminded and has still not answered by the deadline."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.CHANGES_ABANDON_DAYS)
    lead = timedelta(days=settings.CHANGES_ABANDON_DAYS - settings.CHANGES_REMINDER_DAYS)
    waiting = Submission.objects.filter(
        state=Submission.State.CHANGES_REQUESTED, state_changed_at__lte=cutoff
    )
    return with_contributor_clock(waiting).filter(
        contributor_active_at__lte=cutoff, reminded_at__lte=now - lead
    )


def overdue(*, now=None):
    """Return the submissions waiting for the curators (submitted or in review) longer than REVIEW_SLA_DAYS."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.REVIEW_SLA_DAYS)
    return Submission.objects.filter(
        state__in=Submission.AWAITING_CURATORS_STATES, state_changed_at__lte=cutoff
    )


def assignees_to_remind(*, now=None):
    """Return the overdue submissions with an assignee who has not been reminded of them in this wait."""
    reminded = Event.objects.filter(
        submission=OuterRef("pk"), kind=Event.Kind.REMINDER, created_at__gte=OuterRef("state_changed_at")
    )
    return overdue(now=now).filter(assignee__isnull=False).exclude(Exists(reminded))


# The curators' daily digest ------------------------------------------------------------------------------

# Entries listed per section of a digest; the rest is counted and left to the queue.
DIGEST_SECTION_LIMIT = 50
# A curator's first digest, or one after a long pause, lists new submissions of at most this long ago.
DIGEST_LOOKBACK = timedelta(days=7)


@dataclass(frozen=True)
class DigestSection:
    """Some rows of one kind (submissions or correction requests) and how many there are in all."""

    rows: list
    total: int = 0

    @property
    def more(self):
        """How many rows are counted but not listed."""
        return self.total - len(self.rows)


@dataclass(frozen=True)
class Digest:
    """What one curator's daily digest says; each section lists at most DIGEST_SECTION_LIMIT rows."""

    curator: object
    since: object
    until: object
    new: DigestSection
    overdue: DigestSection
    corrections: DigestSection
    failed: DigestSection
    failed_corrections: DigestSection

    @property
    def count(self):
        """How many entries the digest counts in all."""
        return sum(
            section.total
            for section in (self.new, self.overdue, self.corrections, self.failed, self.failed_corrections)
        )

    @property
    def is_empty(self):
        """Whether there is nothing to say."""
        return self.count == 0


def _section(queryset):
    rows = list(queryset.annotate(total_rows=Window(Count("pk")))[:DIGEST_SECTION_LIMIT])
    return DigestSection(rows=rows, total=rows[0].total_rows if rows else 0)


def curator_digests(*, now=None):
    """Return the `Digest` of every curator who wants one and has an e-mail address, in a fixed number of queries.

    New submissions are those confirmed since the moment the curator's previous digest was read (at most
    DIGEST_LOOKBACK ago), up to `now`;
    the other sections are the same for everyone: submissions waiting past REVIEW_SLA_DAYS (oldest first,
    the curator's own claims marked by the template), open correction requests, failed publications.
    """
    now = now or timezone.now()
    opted_out = CuratorPreferences.objects.filter(digest=False).values("user")
    curators = list(curator_users().exclude(email="").exclude(pk__in=opted_out).order_by("pk"))
    if not curators:
        return []
    previous = dict(
        DigestDelivery.objects.filter(curator__in=curators)
        .values("curator")
        .annotate(last=Max("covers_until"))
        .values_list("curator", "last")
    )
    oldest = now - DIGEST_LOOKBACK
    since = {curator.pk: max(previous.get(curator.pk) or oldest, oldest) for curator in curators}
    new = list(
        Submission.objects.filter(
            confirmed_at__gt=min(since.values()),
            confirmed_at__lte=now,
            state__in=Submission.AWAITING_CURATORS_STATES,
        )
        .select_related("assignee")
        .order_by("confirmed_at", "pk")
    )
    overdue_section = _section(overdue(now=now).select_related("assignee").order_by("state_changed_at", "pk"))
    corrections = _section(
        CorrectionRequest.objects.filter(state=CorrectionRequest.State.OPEN)
        .select_related("submission")
        .order_by("created_at", "pk")
    )
    failed = _section(
        Submission.objects.filter(state=Submission.State.MIRROR_FAILED)
        .select_related("assignee")
        .order_by("state_changed_at", "pk")
    )
    failed_corrections = _section(
        CorrectionRequest.objects.filter(state=CorrectionRequest.State.FAILED)
        .select_related("submission")
        .order_by("decided_at", "pk")
    )
    digests = []
    for curator in curators:
        mine = [row for row in new if row.confirmed_at > since[curator.pk]]
        digests.append(
            Digest(
                curator=curator,
                since=since[curator.pk],
                until=now,
                new=DigestSection(rows=mine[:DIGEST_SECTION_LIMIT], total=len(mine)),
                overdue=overdue_section,
                corrections=corrections,
                failed=failed,
                failed_corrections=failed_corrections,
            )
        )
    return digests
