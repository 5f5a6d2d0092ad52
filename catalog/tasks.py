"""Celery tasks of the catalog: thin wrappers that take ids and call `catalog.mirror`, `catalog.card_update`
or `catalog.doi`."""

import logging

from celery import shared_task
from django.conf import settings
from django.utils.translation import gettext_noop

from catalog import card_update, doi, hub, lease, mirror, selectors
from catalog.errors import RetryLater
from catalog.models import Dataset
from portal import i18n, requestlog
from submissions import services

logger = logging.getLogger(__name__)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True, max_retries=None)
def mirror_dataset(self, job_id):
    """Mirror one approved dataset to the Hub; retry with backoff on errors that may heal."""
    requestlog.bind(submission=selectors.submission_reference_of_job(job_id))
    try:
        return mirror.run(job_id)
    except mirror.RetryLater as exc:
        return _retry_or_give_up(
            self,
            exc,
            what=f"Mirror job {job_id}",
            give_up=lambda error: mirror.give_up(job_id, reason=str(error)),
        )


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True, max_retries=None)
def mirror_batch(self, batch_id):
    """Copy one batch of a dataset's files to the Hub; retry with backoff on errors that may heal."""
    requestlog.bind(submission=selectors.submission_reference_of_batch(batch_id))
    try:
        return mirror.run_batch(batch_id)
    except mirror.RetryLater as exc:
        return _retry_or_give_up(
            self,
            exc,
            what=f"Mirror batch {batch_id}",
            give_up=lambda error: mirror.give_up_batch(batch_id, reason=str(error)),
        )


@shared_task(acks_late=True, ignore_result=True)
def sweep_stalled_mirrors():
    """Re-enqueue mirror jobs and batches that should be running but made no progress for too long."""
    stalled = lease.stalled_jobs()
    for job_id in stalled:
        logger.warning("Mirror job %s made no progress; enqueueing it again.", job_id)
        mirror_dataset.delay(job_id)
    batches = lease.stalled_batches()
    for batch_id in batches:
        logger.warning("Mirror batch %s made no progress; enqueueing it again.", batch_id)
        mirror_batch.delay(batch_id)
    return len(stalled) + len(batches)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True, max_retries=None)
def update_card(self, update_id):
    """Commit a corrected card to the Hub; retry with backoff while the Hub may heal, then give up."""
    try:
        return card_update.run(update_id)
    except card_update.RetryLater as exc:
        return _retry_or_give_up(
            self,
            exc,
            what=f"Card update {update_id}",
            give_up=lambda error: card_update.fail(
                update_id, reason=mirror.gave_up_reason(str(error), attempts=error.attempts)
            ),
        )


def _retry_or_give_up(task, exc, *, what, give_up):
    """Retry a task after a backoff, or call `give_up(exc)` and return "failed" once MIRROR_MAX_RETRIES is reached."""
    # The work's own attempt count, not Celery's: work re-enqueued by a sweeper starts at retries=0.
    if max(task.request.retries, exc.attempts - 1) >= settings.MIRROR_MAX_RETRIES:
        give_up(exc)
        return "failed"
    countdown = mirror.backoff(task.request.retries + 1, retry_after=exc.countdown)
    logger.info("%s will retry in %.0f s: %s", what, countdown, exc)
    raise task.retry(countdown=countdown, exc=exc) from exc


@shared_task(acks_late=True, ignore_result=True)
def sweep_stalled_card_updates():
    """Enqueue card updates that a broker outage or a lost worker left waiting."""
    stalled = card_update.stalled_updates()
    for update_id in stalled:
        logger.warning("Card update %s made no progress; enqueueing it again.", update_id)
        update_card.delay(update_id)
    return len(stalled)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True, max_retries=None)
def register_doi(self, registration_id):
    """Register (or update, or hide) a dataset's DOI at DataCite; retry with backoff while DataCite may heal."""
    try:
        return doi.run(registration_id)
    except RetryLater as exc:
        return _retry_or_give_up(
            self,
            exc,
            what=f"DOI registration {registration_id}",
            # DataCite down for long is no reason to fail: the registration stays pending for the sweeper.
            give_up=lambda error: doi.wait_for_sweeper(registration_id, reason=str(error)),
        )


@shared_task(acks_late=True, ignore_result=True)
def sweep_pending_dois():
    """Enqueue DOI registrations that are waiting: a broker outage, a lost worker, or DataCite down for long."""
    pending = doi.pending_registrations()
    for registration_id in pending:
        logger.info("DOI registration %s is pending; enqueueing it again.", registration_id)
        register_doi.delay(registration_id)
    return len(pending)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True, max_retries=None)
def hide_withdrawn_repository(self, dataset_id):
    """Make a withdrawn dataset's Hub repository private; retry while the Hub may heal, then tell the curators."""
    dataset = Dataset.objects.select_related("submission").filter(pk=dataset_id).first()
    if dataset is None or dataset.withdrawn_at is None:
        return "gone"
    try:
        hub.make_private(dataset.repo_id)
    except hub.HubError as exc:
        if exc.retryable:
            return _retry_or_give_up(
                self,
                RetryLater(str(exc), countdown=exc.retry_after, attempts=self.request.retries + 1),
                what=f"Hiding the repository of withdrawn dataset {dataset_id}",
                give_up=lambda error: _repository_not_hidden(dataset, error),
            )
        _repository_not_hidden(dataset, exc)
        return "failed"
    return "private"


def _repository_not_hidden(dataset, error):
    logger.error("The Hub repository %s of a withdrawn dataset is still public: %s", dataset.repo_id, error)
    if dataset.submission is not None:
        services.note_publication_problem(
            dataset.submission,
            reason=i18n.message(
                gettext_noop(
                    "The Hub repository %(repo)s of the withdrawn dataset could not be made private: %(error)s "
                    "Make it private on the Hub by hand."
                ),
                repo=dataset.repo_id,
                error=str(error),
            ),
        )
