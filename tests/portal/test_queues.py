"""Work handed to the workers by name survives a broker that is down: logged, not raised."""

import logging

import pytest
from django.conf import settings
from kombu.exceptions import OperationalError

from portal import queues
from portal.celery import app
from submissions import tasks as submission_tasks


def test_enqueue_with_the_broker_down_logs_and_returns_false(caplog, monkeypatch):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to redis:6379. Connection refused.")

    # The task object itself (importing its module registers it: the test must not depend on another test
    # having imported it first in this process).
    monkeypatch.setattr(submission_tasks.run_checks, "apply_async", broker_down)
    with caplog.at_level(logging.ERROR, logger="portal.queues"):
        assert queues.enqueue("submissions.tasks.run_checks", 12345) is False
    assert "Could not queue submissions.tasks.run_checks(12345,)" in caplog.text


@pytest.mark.django_db
def test_enqueue_runs_a_task_by_name():
    # Tests run tasks eagerly, so the named task runs here.
    assert queues.enqueue("submissions.tasks.sweep_pending_checks") is True


@pytest.mark.parametrize(
    ("task", "queue_setting"),
    [
        ("catalog.tasks.mirror_dataset", "CELERY_MIRROR_QUEUE"),
        ("submissions.tasks.run_checks", "CELERY_TASK_DEFAULT_QUEUE"),
        ("submissions.tasks.send_sign_in_link", "CELERY_TASK_DEFAULT_QUEUE"),
        ("submissions.tasks.deliver_email", "CELERY_TASK_DEFAULT_QUEUE"),
        ("submissions.tasks.sweep_pending_checks", "CELERY_TASK_DEFAULT_QUEUE"),
        ("catalog.tasks.sweep_stalled_mirrors", "CELERY_TASK_DEFAULT_QUEUE"),
    ],
)
def test_mirroring_has_its_own_queue_so_checks_and_e_mails_never_wait_behind_it(task, queue_setting):

    app.loader.import_default_modules()
    route = app.amqp.router.route({}, task, args=(), kwargs={})
    assert route["queue"].name == getattr(settings, queue_setting)
    assert settings.CELERY_MIRROR_QUEUE != settings.CELERY_TASK_DEFAULT_QUEUE
