"""Work handed to the workers by name survives a broker that is down: logged, not raised."""

import logging

import pytest
from kombu.exceptions import OperationalError

from portal import queues
from portal.celery import app


def test_enqueue_with_the_broker_down_logs_and_returns_false(caplog, monkeypatch):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to redis:6379. Connection refused.")

    monkeypatch.setattr(app.tasks["submissions.tasks.run_checks"], "apply_async", broker_down)
    with caplog.at_level(logging.ERROR, logger="portal.queues"):
        assert queues.enqueue("submissions.tasks.run_checks", 12345) is False
    assert "Could not queue submissions.tasks.run_checks(12345,)" in caplog.text


@pytest.mark.django_db
def test_enqueue_runs_a_task_by_name():
    # Tests run tasks eagerly, so the named task runs here.
    assert queues.enqueue("submissions.tasks.sweep_pending_checks") is True
