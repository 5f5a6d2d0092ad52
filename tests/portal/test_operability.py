"""Operability: /readyz names what is down, request and task log lines carry the reference and never a
token, JSON log lines, and the Content-Security-Policy header on every page."""

import json
import logging
import logging.config
import socket

import pytest
from django.test import Client

from portal.celery import app as celery_app
from tests.factories import committed, submit

pytestmark = pytest.mark.django_db


# What every request line carries (request log), whatever the request.
LOG_FIELDS = {"method", "route", "view", "status", "duration_ms"}


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_readyz_is_ready_with_everything_up():
    response = Client().get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}
    assert "no-cache" in response["Cache-Control"]


def test_readyz_names_the_cache_and_the_broker_when_they_are_down(settings, monkeypatch):
    port = closed_port()
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/9",
            "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        }
    }
    # Celery reads CELERY_BROKER_URL from the environment before its configuration (CI sets it).
    monkeypatch.setenv("CELERY_BROKER_URL", f"redis://127.0.0.1:{port}/12")
    previous = celery_app.conf.broker_url, celery_app.conf.broker_transport_options
    celery_app.conf.broker_url = f"redis://127.0.0.1:{port}/12"
    celery_app.conf.broker_transport_options = {}
    try:
        response = Client().get("/readyz")
    finally:
        celery_app.conf.broker_url, celery_app.conf.broker_transport_options = previous
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert set(body["down"]) == {"cache", "broker"}
    assert "database" not in body["down"]


def request_lines(caplog):
    return [record for record in caplog.records if record.name == "portal.requests"]


def test_one_request_line_with_the_reference_and_never_the_token(caplog):
    submission, token = submit()
    caplog.set_level(logging.INFO)
    caplog.clear()
    with committed():
        assert Client().get(f"/status/{token}/").status_code == 200
    lines = request_lines(caplog)
    assert len(lines) == 1
    line = lines[0]
    assert line.route == "/status/<str:token>/"
    assert line.status == 200
    assert line.method == "GET"
    assert line.submission == submission.reference
    assert set(vars(line)) >= LOG_FIELDS  # the line carries every field, the time taken included
    everything = " ".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    assert token not in everything


def test_task_state_changes_are_logged_with_the_reference(caplog):
    caplog.set_level(logging.INFO)
    with committed():
        submission, _token = submit()
    # Confirmation queues the checks (eager in tests): their task runs and logs its state changes.
    from submissions import services

    caplog.clear()
    with committed():
        services.confirm(submission)
    tasks = [record for record in caplog.records if record.name == "portal.tasks"]
    states = [(record.task, record.state) for record in tasks]
    assert ("submissions.tasks.run_checks", "started") in states
    assert ("submissions.tasks.run_checks", "succeeded") in states
    done = next(record for record in tasks if record.state == "succeeded")
    assert done.submission == submission.reference


def test_json_log_lines_are_one_object_each(settings):
    # Built as the LOGGING setting builds it (dictConfig), so a wrong key there fails here.
    formatter = logging.config.DictConfigurator(settings.LOGGING).configure_formatter(
        settings.LOGGING["formatters"]["json"]
    )
    record = logging.LogRecord("portal.requests", logging.INFO, __file__, 1, "request", None, None)
    record.route, record.status, record.submission = "/contribute/", 302, "DP-2026-0001"
    data = json.loads(formatter.format(record))
    assert data["message"] == "request"
    assert data["level"] == "INFO"
    assert data["route"] == "/contribute/"
    assert data["submission"] == "DP-2026-0001"


@pytest.mark.parametrize("url", ["/", "/contribute/", "/datasets/", "/my-submissions/", "/admin/login/"])
def test_every_page_has_a_content_security_policy_without_inline_code(url):
    response = Client().get(url)
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
