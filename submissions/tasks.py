"""Celery tasks of the submissions app: thin wrappers that take ids and call `checks`."""

from celery import shared_task

from submissions import checks


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_checks(submission_id):
    """Run the automatic checks of a submission's newest card revision."""
    return checks.run_all(submission_id)
