"""The Celery application: configured from Django settings (CELERY_*), tasks found in the apps."""

import os
import sys
from pathlib import Path

from celery import Celery

from portal import requestlog  # noqa: F401 - connects the task log lines to Celery's signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(related_name="usage_tasks")


def worker_command(
    *, beat_schedule=None, concurrency=1, queues=(), log_level="INFO", name="worker", quiet=False
):
    """Return the command line of a worker process (with an embedded beat if `beat_schedule` is a path).

    `quiet` leaves out the start-up banner.
    """
    command = [sys.executable, "-m", "celery", "-A", "portal", *(["--quiet"] if quiet else []), "worker"]
    command += [f"--loglevel={log_level}"]
    command += [f"--concurrency={concurrency}", "--without-gossip", "--without-mingle", "-n", f"{name}@%h"]
    if queues:
        command += ["-Q", ",".join(queues)]
    if beat_schedule is not None:
        command += ["--beat", "-s", str(beat_schedule)]
    return command


@app.on_after_configure.connect
def make_broker_folders(sender, **kwargs):
    """Create the folders of the embedded filesystem broker, which needs no server."""
    options = sender.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)
