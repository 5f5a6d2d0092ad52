"""Celery tasks of the submissions app: thin wrappers that take ids and call `checks`."""

import logging
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from submissions import checks
from submissions.models import Submission

logger = logging.getLogger(__name__)

# Checks still pending after this long were lost (a broker outage when they were queued): queue them again.
PENDING_CHECKS_AFTER = timedelta(minutes=10)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_checks(submission_id):
    """Run the automatic checks of a submission's newest card revision."""
    return checks.run_all(submission_id)


def enqueue_checks(submission_id):
    """Queue the checks of a submission; if the broker is down, `sweep_pending_checks` queues them later."""
    try:
        run_checks.delay(submission_id)
    except Exception:
        # Called after the transaction committed: the contributor's action is saved and must not fail now.
        logger.exception("Could not queue the checks of submission %s; the sweeper will.", submission_id)


@shared_task(ignore_result=True)
def send_sign_in_link(email):
    """Send a "my submissions" sign-in link if the address has submissions (and has not asked too often)."""
    from submissions import services

    services.request_sign_in(email)


def enqueue_sign_in_link(email):
    """Queue a sign-in link request; the web request does the same work whatever the address."""
    try:
        send_sign_in_link.delay(email)
    except Exception:
        logger.exception("Could not queue a sign-in link request.")


@shared_task(acks_late=True, ignore_result=True)
def sweep_pending_checks():
    """Queue again the checks of submissions whose checks never ran."""
    stale = Submission.objects.filter(
        check_summary="pending",
        state__in=[Submission.State.SUBMITTED, Submission.State.IN_REVIEW],
        updated_at__lt=timezone.now() - PENDING_CHECKS_AFTER,
    ).values_list("pk", flat=True)[:500]
    for submission_id in stale:
        enqueue_checks(submission_id)
    return len(stale)
