"""Start real Celery worker processes against the test database, for tests that kill and restart them."""

import contextlib
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.db import connection
from kombu import Connection

from portal.celery import worker_command

ROOT = Path(__file__).resolve().parent.parent


def database_url():
    """Return a DATABASE_URL for the database this test process uses (the test database)."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Broker:
    """A broker for one test: the CI Redis when CELERY_BROKER_URL names one, else a private folder."""

    def __init__(self, tmp_path, *, url=None):
        self.queue = f"test-{uuid.uuid4().hex[:12]}"
        configured = url or os.environ.get("CELERY_BROKER_URL", "")
        if configured.startswith("redis://"):
            self.url = configured
            self.options = {"visibility_timeout": 6}
        else:
            folder = tmp_path / "broker"
            (folder / "queue").mkdir(parents=True)
            (folder / "processed").mkdir()
            (folder / "control").mkdir()
            self.url = "filesystem://"
            self.var_dir = tmp_path
            self.options = {
                "data_folder_in": str(folder / "queue"),
                "data_folder_out": str(folder / "queue"),
                "processed_folder": str(folder / "processed"),
                "control_folder": str(folder / "control"),
            }

    def env(self):
        """Return the environment that points a worker at this broker and queue."""
        env = {
            "CELERY_BROKER_URL": self.url,
            "CELERY_TASK_DEFAULT_QUEUE": self.queue,
            "CELERY_MIRROR_QUEUE": f"{self.queue}.mirror",
            "CELERY_VISIBILITY_TIMEOUT": "6",
        }
        if self.url == "filesystem://":
            env["PORTAL_VAR_DIR"] = str(self.var_dir)
        return env

    def send(self, task, *args):
        """Send a task message to this test's queue."""
        with Connection(self.url, transport_options=self.options) as conn:
            task.apply_async(args=args, connection=conn, queue=self.queue, routing_key=self.queue)


class Worker:
    """A `celery worker` process (with its embedded beat) in its own process group."""

    def __init__(self, *, env, log_path, beat=True):
        self.log_path = log_path
        command = worker_command(
            queues=[env["CELERY_TASK_DEFAULT_QUEUE"], env["CELERY_MIRROR_QUEUE"]],
            beat_schedule=log_path.with_suffix(".beat") if beat else None,
        )
        self.log = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self):
        """SIGKILL the worker and its children at once, as a crash or an OOM kill would."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.log.close()

    def stop(self):
        """Stop the worker if it still runs."""
        if self.process.poll() is None:
            self.kill()
        elif not self.log.closed:
            self.log.close()

    def output(self):
        """Return what the worker logged so far."""
        return self.log_path.read_text(errors="replace")


def worker_env(*, broker, devhub, source_server, tmp_path, media_root, **extra):
    """Return the environment of a worker that mirrors to `devhub` from `source_server`."""
    env = {
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": database_url(),
        "MEDIA_ROOT": str(media_root),
        "HF_ENDPOINT": devhub.url,
        "HF_TOKEN": "test-token",
        "HF_HUB_DISABLE_XET": "1",
        "HUB_ORGANIZATION": settings.HUB_ORGANIZATION,
        "MIRROR_WORK_DIR": str(tmp_path / "work"),
        "PORTAL_FETCH_ALLOWED_NETWORKS": "127.0.0.0/8",
        "PORTAL_FETCH_CA_BUNDLE": str(source_server.ca_path) if source_server else "",
        "PORTAL_BASE_URL": "http://testserver",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "MIRROR_LOCK_SECONDS": "4",
        "MIRROR_STALL_SECONDS": "3",
        "MIRROR_SWEEP_SECONDS": "2",
        "MIRROR_PROGRESS_INTERVAL": "0.2",
        "MIRROR_BACKOFF_BASE": "0.5",
        "MIRROR_MAX_BACKOFF": "2",
        "DEBUG": "true",
        **broker.env(),
    }
    env.update({key: str(value) for key, value in extra.items()})
    return env


def wait_for(predicate, *, timeout, interval=0.2, message="condition"):
    """Poll `predicate` until it returns something true, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"Timed out after {timeout} s waiting for {message}.")
