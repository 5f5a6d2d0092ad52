"""Leases on mirror jobs: one worker at a time runs a job, and a job whose worker died is found again.

A worker takes a job's lease (`acquire`) before running it and renews it with every progress report
(`Progress`) and, during long steps that report nothing, from a `Heartbeat` thread. A lease that runs out
(the worker was killed) lets another worker take the job; `stalled_jobs` lists jobs that made no progress
for MIRROR_STALL_SECONDS so the sweeper enqueues them again. This module knows nothing of the steps.
"""

import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from catalog.errors import RetryLater
from catalog.models import MirrorJob

Step = MirrorJob.Step


def acquire(job_id, owner):
    """Take the job's lease if nobody holds a live one; return whether we got it."""
    now = timezone.now()
    ttl = timedelta(seconds=settings.MIRROR_LOCK_SECONDS)
    taken = (
        MirrorJob.objects.filter(pk=job_id)
        .filter(Q(lock_owner="") | Q(lock_expires_at__lt=now))
        .exclude(step__in=[Step.DONE, Step.FAILED])
        .update(lock_owner=owner, lock_expires_at=now + ttl)
    )
    return taken == 1


def release(job_id, owner):
    """Give a job's lease back (if this worker still holds it)."""
    MirrorJob.objects.filter(pk=job_id, lock_owner=owner).update(lock_owner="", lock_expires_at=None)


class Progress:
    """Saves a job's step and byte counts at most every few seconds, renewing the lease each time."""

    def __init__(self, job, owner, *, heartbeat=None):
        self.job = job
        self.owner = owner
        self.heartbeat = heartbeat
        self.interval = settings.MIRROR_PROGRESS_INTERVAL
        self.last_saved = 0.0

    def step(self, step):
        """Record that the job entered `step` (always saved at once)."""
        self.job.step = step
        self.save(force=True)

    def save(self, *, force=False, **fields):
        """Update the job's counters; write them if forced or the interval has passed."""
        for name, value in fields.items():
            setattr(self.job, name, value)
        now = time.monotonic()
        if not force and now - self.last_saved < self.interval:
            return
        self.last_saved = now
        self.job.progress_at = timezone.now()
        self.job.lock_expires_at = timezone.now() + timedelta(seconds=settings.MIRROR_LOCK_SECONDS)
        updated = MirrorJob.objects.filter(pk=self.job.pk, lock_owner=self.owner).update(
            step=self.job.step,
            bytes_fetched=self.job.bytes_fetched,
            bytes_uploaded=self.job.bytes_uploaded,
            bytes_total=self.job.bytes_total,
            source_sha256=self.job.source_sha256,
            source_content_type=self.job.source_content_type,
            manifest=self.job.manifest,
            commit_id=self.job.commit_id,
            progress_at=self.job.progress_at,
            lock_expires_at=self.job.lock_expires_at,
        )
        if updated != 1:
            raise RetryLater("Another worker took over this job; stopping here.", countdown=None)


class Heartbeat(threading.Thread):
    """Renews a job's lease while a long step (an upload, an extraction) reports no progress of its own."""

    def __init__(self, job_id, owner):
        super().__init__(name=f"mirror-heartbeat-{job_id}", daemon=True)
        self.job_id = job_id
        self.owner = owner
        self.stopped = threading.Event()
        self.bytes_uploaded = None  # set by the upload's counter; written by this thread

    def run(self):
        """Extend the lease while this worker holds it, and write the upload's byte count when it moved."""
        lease = settings.MIRROR_LOCK_SECONDS
        every = min(max(0.1, settings.MIRROR_PROGRESS_INTERVAL), lease / 3)
        last_renewal, written = 0.0, None
        try:
            while not self.stopped.wait(every):
                now, fields = time.monotonic(), {}
                if now - last_renewal >= lease / 3:
                    moment = timezone.now()
                    fields.update(lock_expires_at=moment + timedelta(seconds=lease), progress_at=moment)
                    last_renewal = now
                if self.bytes_uploaded is not None and self.bytes_uploaded != written:
                    fields.update(bytes_uploaded=self.bytes_uploaded, progress_at=timezone.now())
                    written = self.bytes_uploaded
                if fields:
                    MirrorJob.objects.filter(pk=self.job_id, lock_owner=self.owner).update(**fields)
        finally:
            connection.close()

    def stop(self):
        """Stop renewing and wait for the thread to end."""
        self.stopped.set()
        if self.is_alive():
            self.join(timeout=10)


def stalled_jobs():
    """Return ids of jobs that should be running but have made no progress for too long."""
    stall = timedelta(seconds=settings.MIRROR_STALL_SECONDS)
    now = timezone.now()
    return list(
        MirrorJob.objects.exclude(step__in=[Step.DONE, Step.FAILED])
        .filter(Q(lock_owner="") | Q(lock_expires_at__lt=now))
        .filter(Q(progress_at__lt=now - stall) | Q(progress_at__isnull=True, created_at__lt=now - stall))
        .values_list("pk", flat=True)
    )
