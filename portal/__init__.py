"""Project package: settings, URLs, the Celery app and cross-app pieces (Markdown, safe fetching)."""

from portal.celery import app as celery_app

__all__ = ["celery_app"]
