"""Celery task that refreshes the catalog's usage figures; the beat schedule runs it periodically.

Thin: `catalog.usage.refresh_usage` does the work and keeps the last figures when the Hub fails, so the task
never retries on its own (the next scheduled run is the retry).
"""

from celery import shared_task

from catalog import usage


@shared_task(acks_late=True, ignore_result=True, name="catalog.usage_tasks.refresh_usage")
def refresh_usage():
    """Refresh downloads and likes of every dataset from one Hub listing; return the number updated."""
    return usage.refresh_usage().updated
