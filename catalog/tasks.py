"""Celery tasks of the catalog: mirroring to the Hub and refreshing usage figures."""

from celery import shared_task


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def mirror_dataset(job_id):
    """Mirror one approved dataset to the Hub (filled in by the mirroring work)."""
    from catalog import mirror

    return mirror.run(job_id)
