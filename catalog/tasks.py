"""Celery tasks of the catalog: thin wrappers that take ids and call `catalog.mirror`."""

import logging

from celery import shared_task
from django.conf import settings

from catalog import lease, mirror, selectors
from portal import requestlog

logger = logging.getLogger(__name__)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True, max_retries=None)
def mirror_dataset(self, job_id):
    """Mirror one approved dataset to the Hub; retry with backoff on errors that may heal."""
    requestlog.bind(submission=selectors.submission_reference_of_job(job_id))
    try:
        return mirror.run(job_id)
    except mirror.RetryLater as exc:
        limit = settings.MIRROR_MAX_RETRIES
        # The job's own attempt count, not Celery's: a job re-enqueued by the sweeper starts at retries=0.
        if max(self.request.retries, exc.attempts - 1) >= limit:
            mirror.give_up(job_id, reason=str(exc))
            return "failed"
        countdown = mirror.backoff(self.request.retries + 1, retry_after=exc.countdown)
        logger.info("Mirror job %s will retry in %.0f s: %s", job_id, countdown, exc)
        raise self.retry(countdown=countdown, exc=exc) from exc


@shared_task(acks_late=True, ignore_result=True)
def sweep_stalled_mirrors():
    """Re-enqueue mirror jobs that should be running but made no progress for too long."""
    stalled = lease.stalled_jobs()
    for job_id in stalled:
        logger.warning("Mirror job %s made no progress; enqueueing it again.", job_id)
        mirror_dataset.delay(job_id)
    return len(stalled)
