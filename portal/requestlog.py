"""One log line per request and per Celery task state change, with the submission's reference, never a token.

A view or task that knows which submission it works on calls `bind(submission=reference)`; the line
written when the request or task ends carries it. Paths are logged as their URL pattern
(`status/<str:token>/`), so the private tokens in status and sign-in links never reach a log. With
LOG_FORMAT=json each line is one JSON object (python-json-logger), the fields below as keys.
"""

import contextvars
import logging
import time

from celery import signals

logger = logging.getLogger("portal.requests")
task_logger = logging.getLogger("portal.tasks")

_context = contextvars.ContextVar("portal_log_context", default=None)


def bind(**fields):
    """Add fields (e.g. `submission="DP-…"`) to the log line of the current request or task."""
    current = _context.get()
    if current is not None:
        current.update(fields)


class RequestLogMiddleware:
    """Log each request: method, URL pattern, status, duration in ms, and what views bound."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        fields = {}
        token = _context.set(fields)
        started = time.monotonic()
        try:
            response = self.get_response(request)
        finally:
            _context.reset(token)
        match = request.resolver_match
        _log(
            logger,
            "request",
            method=request.method,
            # The pattern, not the path: status and sign-in paths hold private tokens.
            route=("/" + match.route) if match is not None else "(unmatched)",
            view=match.view_name if match is not None else "",
            status=response.status_code,
            duration_ms=round((time.monotonic() - started) * 1000, 1),
            **fields,
        )
        return response


def _log(target, kind, **fields):
    # The fields go both into the message (readable as plain text) and onto the record (JSON keys).
    target.info("%s %s", kind, " ".join(f"{key}={value}" for key, value in fields.items()), extra=fields)


def _task_line(state, task, task_id, **extra):
    fields = _context.get() or {}
    _log(task_logger, "task", task=task.name if task else "", task_id=task_id, state=state, **fields, **extra)


def _ids_only(args):
    # Task arguments are logged only when they are ids: some tasks take an e-mail address.
    return list(args) if all(isinstance(arg, int) for arg in args or ()) else "(not logged)"


# A task run eagerly inside a request must give the request its own context back when it ends.
_task_tokens = {}


@signals.task_prerun.connect
def _task_started(sender=None, task_id=None, task=None, args=None, **kwargs):
    _task_tokens[task_id] = _context.set({})
    _task_line("started", task, task_id, task_args=_ids_only(args))


@signals.task_retry.connect
def _task_retry(sender=None, request=None, reason=None, **kwargs):
    _task_line("retry", sender, getattr(request, "id", None), reason=str(reason)[:500])


@signals.task_failure.connect
def _task_failed(sender=None, task_id=None, exception=None, **kwargs):
    _task_line("failed", sender, task_id, error=f"{type(exception).__name__}: {exception}"[:500])


@signals.task_success.connect
def _task_succeeded(sender=None, **kwargs):
    _task_line("succeeded", sender, sender.request.id if sender else None)


@signals.task_postrun.connect
def _task_finished(sender=None, task_id=None, **kwargs):
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        _context.reset(token)
