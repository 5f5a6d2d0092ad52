"""From approval to a queued mirror job: the catalog entry and its job, created in the approving transaction.

`prepare` is called by `submissions.services.approve` and `retry_mirror` inside their transaction; it
enqueues the mirroring task only after that transaction commits, so a rolled-back approval queues nothing.
"""

import logging

from django.conf import settings
from django.db import transaction
from django.utils.text import slugify

from catalog.models import Dataset, MirrorJob
from submissions.models import fold_name
from submissions.selectors import data_columns

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
            source_url=submission.location,
            domain=submission.domain.name if submission.domain_id else submission.suggested_domain,
            modalities=submission.modalities,
            columns=columns,
        )
    job, _ = MirrorJob.objects.get_or_create(dataset=dataset)
    if job.step in (MirrorJob.Step.FAILED, MirrorJob.Step.DONE):
        # A fresh start after a failure: the repository (if created) is kept, everything else is redone.
        job.step = MirrorJob.Step.PENDING
        job.last_error = ""
        job.finished_at = None
        job.bytes_fetched = job.bytes_uploaded = 0
        job.bytes_total = None
        job.source_sha256 = ""
        job.manifest = []
        job.commit_id = ""
        job.save(
            update_fields=[
                "step",
                "last_error",
                "finished_at",
                "bytes_fetched",
                "bytes_uploaded",
                "bytes_total",
                "source_sha256",
                "manifest",
                "commit_id",
            ]
        )
    transaction.on_commit(lambda: enqueue(job.pk))
    return job


def enqueue(job_id):
    """Hand a mirror job to the workers; if the broker is down, the sweeper will enqueue it later."""
    from catalog import tasks

    try:
        tasks.mirror_dataset.delay(job_id)
    except Exception:
        # Runs after the approval committed: failing the request now would hide a change that was saved.
        logger.exception("Could not enqueue mirror job %s; the sweeper will pick it up.", job_id)
