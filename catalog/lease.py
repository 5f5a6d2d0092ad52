"""Leases on mirror jobs and their batches: one worker at a time runs each, and one whose worker died is
found again.

A worker takes a job's (or a batch's) lease (`acquire`) before running it and renews it with every progress
report (`Progress`) and, during long steps that report nothing, from a `Heartbeat` thread. A lease that runs
out (the worker was killed) lets another worker take it; `stalled_jobs` and `stalled_batches` list work that
made no progress for MIRROR_STALL_SECONDS so the sweeper enqueues it again. This module knows nothing of
the steps.
"""

import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from catalog.errors import RetryLater
from catalog.models import MirrorBatch, MirrorJob

Step = MirrorJob.Step
# The field that says a job or batch is finished, and its finished values.
_FINISHED = {MirrorJob: ("step", [Step.DONE, Step.FAILED]), MirrorBatch: ("state", ["done", "failed"])}


def acquire(job_id, owner, *, model=MirrorJob):
    """Take the lease of a job (or a batch, with `model=MirrorBatch`) if nobody holds a live one; return
    whether we got it."""
    now = timezone.now()
    ttl = timedelta(seconds=settings.MIRROR_LOCK_SECONDS)
    field, finished = _FINISHED[model]
    taken = (
        model.objects.filter(pk=job_id)
        .filter(Q(lock_owner="") | Q(lock_expires_at__lt=now))
        .exclude(**{f"{field}__in": finished})
        .update(lock_owner=owner, lock_expires_at=now + ttl)
    )
    return taken == 1


def release(job_id, owner, *, model=MirrorJob):
    """Give a job's (or a batch's) lease back (if this worker still holds it)."""
    model.objects.filter(pk=job_id, lock_owner=owner).update(lock_owner="", lock_expires_at=None)


class Progress:
    """Saves a job's (or a batch's) step and counters at most every few seconds, renewing the lease each time."""

    JOB_FIELDS = (
        "step",
        "bytes_fetched",
        "bytes_uploaded",
        "bytes_total",
        "source_sha256",
        "source_content_type",
        "manifest",
        "card_files",
        "commit_id",
    )
    BATCH_FIELDS = (
        "state",
        "bytes_fetched",
        "bytes_uploaded",
        "bytes_total",
        "results",
        "commit_ids",
        "rejected_commits",
    )

    def __init__(self, job, owner, *, heartbeat=None):
        self.job = job
        self.owner = owner
        self.heartbeat = heartbeat
        self.interval = settings.MIRROR_PROGRESS_INTERVAL
        self.last_saved = 0.0
        self.fields = self.BATCH_FIELDS if isinstance(job, MirrorBatch) else self.JOB_FIELDS

    def step(self, step):
        """Record that the job entered `step` (a batch: its state), saved at once."""
        setattr(self.job, "state" if isinstance(self.job, MirrorBatch) else "step", step)
        self.save(force=True)

    def save(self, *, force=False, **fields):
        """Update the counters; write them if forced or the interval has passed."""
        for name, value in fields.items():
            setattr(self.job, name, value)
        now = time.monotonic()
        if not force and now - self.last_saved < self.interval:
            return
        self.last_saved = now
        self.job.progress_at = timezone.now()
        self.job.lock_expires_at = timezone.now() + timedelta(seconds=settings.MIRROR_LOCK_SECONDS)
        updated = (
            type(self.job)
            .objects.filter(pk=self.job.pk, lock_owner=self.owner)
            .update(
                progress_at=self.job.progress_at,
                lock_expires_at=self.job.lock_expires_at,
                **{name: getattr(self.job, name) for name in self.fields},
            )
        )
        if updated != 1:
            raise RetryLater("Another worker took over this work; stopping here.", countdown=None)


class Heartbeat(threading.Thread):
    """Renews a job's (or a batch's) lease while a long step (downloads, an upload, an extraction) reports
    no progress of its own, and writes the byte counts those set on it."""

    def __init__(self, job_id, owner, *, model=MirrorJob):
        super().__init__(name=f"mirror-heartbeat-{job_id}", daemon=True)
        self.job_id = job_id
        self.owner = owner
        self.model = model
        self.stopped = threading.Event()
        self.bytes_uploaded = None  # set by the upload's counter; written by this thread
        self.bytes_fetched = None  # set by the downloads of a batch; written by this thread

    def run(self):
        """Extend the lease while this worker holds it, and write the upload's byte count when it moved."""
        lease = settings.MIRROR_LOCK_SECONDS
        every = min(max(0.1, settings.MIRROR_PROGRESS_INTERVAL), lease / 3)
        last_renewal, written = 0.0, {}
        try:
            while not self.stopped.wait(every):
                now, fields = time.monotonic(), {}
                if now - last_renewal >= lease / 3:
                    moment = timezone.now()
                    fields.update(lock_expires_at=moment + timedelta(seconds=lease), progress_at=moment)
                    last_renewal = now
                for name in ("bytes_uploaded", "bytes_fetched"):
                    value = getattr(self, name)
                    if value is not None and value != written.get(name):
                        fields.update({name: value, "progress_at": timezone.now()})
                        written[name] = value
                if fields:
                    self.model.objects.filter(pk=self.job_id, lock_owner=self.owner).update(**fields)
        finally:
            connection.close()

    def stop(self):
        """Stop renewing and wait for the thread to end."""
        self.stopped.set()
        if self.is_alive():
            self.join(timeout=10)


def stalled_jobs():
    """Return ids of jobs that should be running but have made no progress for too long.

    A job copying its files waits for its batches; it is stalled only when none of them moves either.
    """
    stall = timedelta(seconds=settings.MIRROR_STALL_SECONDS)
    now = timezone.now()
    moving_batches = MirrorBatch.objects.filter(job=OuterRef("pk"), progress_at__gte=now - stall)
    return list(
        MirrorJob.objects.exclude(step__in=[Step.DONE, Step.FAILED])
        .filter(Q(lock_owner="") | Q(lock_expires_at__lt=now))
        .filter(Q(progress_at__lt=now - stall) | Q(progress_at__isnull=True, created_at__lt=now - stall))
        .exclude(Exists(moving_batches))
        .values_list("pk", flat=True)
    )


def stalled_batches():
    """Return ids of the unfinished batches of running jobs that have made no progress for too long."""
    stall = timedelta(seconds=settings.MIRROR_STALL_SECONDS)
    now = timezone.now()
    return list(
        MirrorBatch.objects.exclude(state__in=["done", "failed"])
        .filter(job__step=Step.COPY)
        .filter(Q(lock_owner="") | Q(lock_expires_at__lt=now))
        .filter(Q(progress_at__lt=now - stall) | Q(progress_at__isnull=True, created_at__lt=now - stall))
        .values_list("pk", flat=True)
    )
