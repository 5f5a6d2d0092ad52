"""Readiness: whether this web process can serve, i.e. reach the database, the broker and the shared cache.

`/healthz` (liveness) answers without touching anything; `/readyz` checks each dependency with a short
timeout and answers 503 naming what is down, so a load balancer takes the replica out and an operator
reads at once which part failed. Nothing here writes to the database.
"""

import logging
import uuid

from celery import current_app
from django.core.cache import caches
from django.db import InterfaceError, OperationalError, connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 2


def database_ready():
    """Run a trivial query on the default database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def broker_ready():
    """Open (and close) a connection to the Celery broker."""
    with current_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=CHECK_TIMEOUT_SECONDS)


def cache_ready():
    """Write and read back a short-lived key in the shared cache.

    The production cache ignores its own errors (a Redis outage must not fail pages), so a read that does
    not return what was written is what tells that it is down.
    """
    cache = caches["default"]
    key, value = "readyz:probe", uuid.uuid4().hex
    cache.set(key, value, timeout=10)
    if cache.get(key) != value:
        raise ConnectionError("the cache does not keep what is written to it")


CHECKS = {"database": database_ready, "broker": broker_ready, "cache": cache_ready}


@never_cache
@require_safe
def readyz(request):
    """Answer 200 with every dependency reachable, else 503 naming each one that is down and why."""
    down = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as exc:
            down[name] = f"{type(exc).__name__}: {str(exc)[:200]}"
    if down:
        return JsonResponse({"status": "unavailable", "down": down}, status=503)
    return JsonResponse({"status": "ready"})


class DatabaseUnavailableMiddleware:
    """Answer 503 "try again shortly" when the database cannot be reached, instead of a 500 error.

    A restart or failover of PostgreSQL drops connections; each service runs in one transaction, so a request
    that failed this way wrote nothing, and the same request succeeds once the database is back.
    """

    RETRY_AFTER_SECONDS = 30

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        """Turn a lost or refused database connection into the 503 page."""
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.warning("Database unavailable: %s", type(exception).__name__)
        response = render(request, "503.html", {"retry_after": self.RETRY_AFTER_SECONDS}, status=503)
        response["Retry-After"] = str(self.RETRY_AFTER_SECONDS)
        return response
