"""From approval to a queued mirror job: the catalog's side of the workflow's publication port.

`CatalogPublisher` implements `submissions.publishing.Publisher`. `prepare` is called (through the port) by
`submissions.services.approve` and `retry_mirror` inside their transaction; it enqueues the mirroring task
only after that transaction commits, so a rolled-back approval queues nothing.
"""

import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from catalog import card_update, datacite, doi, hub, usage
from catalog.models import CardUpdate, Dataset, DoiRegistration, MirrorBatch, MirrorJob
from catalog.selectors import dataset_with_name_key, duplicate_candidates, mirror_job_for
from portal import queues
from submissions import cards
from submissions.models import ManifestFile, SourceRecord, fold_name
from submissions.publishing import Categorisation, Publication
from submissions.selectors import data_columns, reusable_record_doi

logger = logging.getLogger(__name__)

MAX_SLUG_LENGTH = 90


def repo_slug(name):
    """Return the Hub repository name for a dataset name: lowercase ASCII, hyphens, no edges."""
    slug = slugify(name.replace("_", " "))[:MAX_SLUG_LENGTH].strip("-")
    return slug or "dataset"


def unique_slug(name):
    """Return a slug for `name` that no catalog dataset uses yet (a clash gets a numbered suffix)."""
    base = repo_slug(name)
    taken = set(Dataset.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def prepare(submission):
    """Create (or reuse) the catalog dataset and mirror job of an approved submission; enqueue after commit."""
    dataset = Dataset.objects.filter(submission=submission).first()
    columns = data_columns(submission)
    if dataset is not None and dataset.columns != columns:
        # A retry after the location was revised publishes the columns of the new data.
        dataset.columns = columns
        dataset.save(update_fields=["columns", "updated_at"])
    if dataset is None:
        slug = unique_slug(submission.name)
        dataset = Dataset.objects.create(
            submission=submission,
            slug=slug,
            name=submission.name,
            name_key=fold_name(submission.name),
            repo_id=f"{settings.HUB_ORGANIZATION}/{slug}",
            hosted=submission.hosting_wanted,
            source_url=source_fields(submission)["source_url"],
            domain=submission.domain.name if submission.domain_id else submission.suggested_domain,
            modalities=submission.modalities,
            columns=columns,
        )
    if dataset.published_at is None:
        # First approval, or a retry after a location revision: the source, its records and files as now.
        for field, value in source_fields(submission).items():
            setattr(dataset, field, value)
        # The curator chose to cite the dataset by its record's DOI: it is the dataset's DOI from the start
        # (the first card carries it), and none is minted.
        dataset.doi = (reusable_record_doi(submission) or "") if submission.reuse_record_doi else ""
        dataset.save(update_fields=[*SOURCE_FIELDS, "doi", "updated_at"])
    return queue_mirror(dataset)


SOURCE_FIELDS = ("source_url", "creators", "source_dois", "paper", "code_url", "manifest")


def source_fields(submission):
    """Return what a catalog dataset takes from its submission's locations: the primary address, the records'
    creators and DOIs, the related work, and (linked datasets) the files at their source."""
    records = list(SourceRecord.objects.filter(submission=submission).order_by("position"))
    creators, seen = [], set()
    for record in records:
        for creator in record.creators:
            key = (creator.get("name"), creator.get("orcid"))
            if key not in seen:
                seen.add(key)
                creators.append(creator)
    linked_files = []
    if not submission.hosting_wanted:
        rows = ManifestFile.objects.filter(submission=submission).order_by("position")
        linked_files = [
            {"path": path, "url": url, "size": size, "checksums": checksums}
            for path, url, size, checksums in rows.values_list("path", "source_url", "size", "checksums")
        ]
    primary = submission.primary_location
    if not primary.lower().startswith("https://"):
        # A DOI line: the catalog links its record's landing page (or the DOI's own address).
        primary = (
            records[0].landing_url if records else f"https://doi.org/{primary.removeprefix('doi:').strip()}"
        )
    return {
        "source_url": primary,
        "creators": creators,
        "source_dois": [record.doi for record in records if record.doi],
        "paper": submission.paper,
        "code_url": submission.code_url,
        "manifest": linked_files,
    }


def queue_mirror(dataset):
    """Create or reset the mirror job of a catalog dataset; enqueue it after the transaction commits."""
    job, _ = MirrorJob.objects.get_or_create(dataset=dataset)
    if job.step in (MirrorJob.Step.FAILED, MirrorJob.Step.DONE):
        # A fresh start after a failure: a (private) repository left behind is reused, the files are planned
        # again from the (perhaps revised) manifest, the rest is redone.
        job.batches.all().delete()
        job.step = MirrorJob.Step.PENDING
        job.last_error = job.public_error = ""
        job.public_error_message = None
        job.finished_at = None
        job.bytes_fetched = job.bytes_uploaded = 0
        job.bytes_total = None
        job.source_sha256 = ""
        job.manifest = []
        job.card_files = {}
        job.commit_id = ""
        job.save(
            update_fields=[
                "step",
                "last_error",
                "public_error",
                "public_error_message",
                "finished_at",
                "bytes_fetched",
                "bytes_uploaded",
                "bytes_total",
                "source_sha256",
                "manifest",
                "card_files",
                "commit_id",
            ]
        )
    transaction.on_commit(lambda: enqueue(job.pk))
    return job


def withdraw(submission, *, reason):
    """Withdraw a published dataset (in the caller's transaction): it leaves the lists, its page says why,
    its DOI moves to "registered", and its Hub repository is made private after commit."""
    dataset = Dataset.objects.select_for_update().get(submission=submission)
    dataset.withdrawn_at = timezone.now()
    dataset.withdrawal_reason = reason
    # Unpublished: the lists, search, facets (their triggers), feeds, sitemaps and DCAT leave it out.
    dataset.published_at = None
    dataset.save(update_fields=["withdrawn_at", "withdrawal_reason", "published_at", "updated_at"])
    doi.hide(dataset)
    transaction.on_commit(lambda: queues.enqueue("catalog.tasks.hide_withdrawn_repository", dataset.pk))
    return dataset


def _doi_progress(dataset, submission):
    """Return the DOI fields of a `Publication`: the DOI, where its registration stands, why it failed."""
    registration = DoiRegistration.objects.select_related("card_update").filter(dataset=dataset).first()
    if registration is None:
        if dataset.doi:
            return {
                "doi": dataset.doi,
                "doi_state": "reused",
                "doi_state_label": _("The repository record's DOI (none minted)"),
            }
        published = dataset.published_at is not None
        return {"doi_retryable": published and datacite.enabled() and submission is not None}
    update = registration.card_update
    card_failed = update is not None and update.step == CardUpdate.Step.FAILED
    error = registration.last_error
    if card_failed:
        error = _("Committing the card with the DOI to the Hub failed: %(error)s") % {
            "error": update.last_error
        }
    return {
        "doi": dataset.doi or registration.doi,
        "doi_state": registration.state,
        "doi_state_label": registration.get_state_display(),
        "doi_error": error,
        "doi_retryable": registration.state == DoiRegistration.State.FAILED or card_failed,
    }


def enqueue(job_id):
    """Hand a mirror job to the workers; if the broker is down, the sweeper will enqueue it later."""
    queues.enqueue("catalog.tasks.mirror_dataset", job_id)


class CatalogPublisher:
    """Publication through the catalog: a `Dataset` and its `MirrorJob`, run by the workers."""

    def prepare(self, submission):
        """Create or reset the catalog dataset and mirror job of an approved submission."""
        prepare(submission)

    def progress(self, submission):
        """Return where the mirror job of a submission stands, or None before approval."""
        job = mirror_job_for(submission)
        if job is None:
            return None
        dataset = job.dataset
        published = dataset.published_at is not None
        if job.step == MirrorJob.Step.COPY:
            # The batches copy the files: the job's counts are theirs, added up (one query).
            totals = job.batches.aggregate(
                fetched=Sum("bytes_fetched"),
                uploaded=Sum("bytes_uploaded"),
                total=Sum("bytes_total"),
                batches=Count("id"),
                done=Count("id", filter=Q(state=MirrorBatch.State.DONE)),
            )
            job.bytes_fetched, job.bytes_uploaded = totals["fetched"] or 0, totals["uploaded"] or 0
            job.bytes_total = totals["total"] or None
            batches, done = totals["batches"], totals["done"]
        else:
            batches = done = 0
        return Publication(
            **_doi_progress(dataset, submission),
            step=job.step,
            step_label=job.get_step_display(),
            attempts=job.attempts,
            bytes_fetched=job.bytes_fetched,
            bytes_uploaded=job.bytes_uploaded,
            bytes_total=job.bytes_total,
            percent=job.percent,
            published=published,
            repo_id=dataset.repo_id,
            commit_id=job.commit_id,
            last_error=job.last_error,
            public_error=job.public_error_message or job.public_error,
            batches=batches,
            batches_done=done,
            hub_url=hub.dataset_url(dataset.repo_id) if published else None,
            catalog_url=dataset.get_absolute_url() if published else None,
        )

    def withdraw(self, submission, *, reason):
        """Take the dataset out of the catalog, hide its DOI and (after commit) its Hub repository."""
        withdraw(submission, reason=reason)

    def retry_doi(self, submission):
        """Send the dataset's DOI to DataCite again; False when there is nothing to send."""
        dataset = Dataset.objects.filter(submission=submission).first()
        if dataset is None or not datacite.enabled():
            return False
        if dataset.doi and not DoiRegistration.objects.filter(dataset=dataset).exists():
            return False  # the record's DOI, reused: not ours to register
        return doi.retry(dataset) is not None

    def name_clash(self, name_key):
        """Describe a catalog dataset whose folded name is `name_key`, or return None."""
        dataset = dataset_with_name_key(name_key)
        return None if dataset is None else f"“{dataset.name}” (published as {dataset.repo_id})"

    def published_entries(self, *, excluding_submission_id=None):
        """Yield (label, folded name, source URL) of every catalog dataset but the submission's own."""
        return duplicate_candidates(excluding_submission_id=excluding_submission_id)

    def categorisation(self, submission):
        """Return how the submission's dataset is categorised in the catalog, or None if not published."""
        dataset = Dataset.objects.published().filter(submission=submission).first()
        if dataset is None:
            return None
        added = set(cards.portal_tags(modalities=dataset.modality_list, domain=dataset.domain))
        return Categorisation(
            name=dataset.name,
            domain=dataset.domain,
            modalities=dataset.modalities,
            license=dataset.license,
            languages=tuple(dataset.languages),
            tags=tuple(
                tag
                for tag in dataset.card_overrides.get("tags", dataset.tags)
                if tag not in added and not tag.startswith("domain:")
            ),
            hosted=dataset.hosted,
            card=dataset.card,
            card_updated_at=dataset.card_updated_at,
        )

    def usage_history(self, submission):
        """Return the usage history of the submission's dataset, oldest first (empty before publication)."""
        dataset = Dataset.objects.published().filter(submission=submission).first()
        return [] if dataset is None else usage.usage_history(dataset)

    def publish_correction(self, correction):
        """Update the catalog row now and commit the changed card to the Hub after the transaction commits."""
        card_update.apply_correction(correction)
