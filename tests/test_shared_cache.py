"""Two web servers and a worker share one Redis cache: a publication shows on both within the stamp's time.

The catalog's pages are cached for 300 s here, keyed by the "catalog changed" stamp, which each process keeps
for CATALOG_STAMP_SECONDS (2). A third process (as a worker does) publishes a dataset; both servers show it
once their copy of the stamp has expired, while their pages and the stamp live in the one Redis database.
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NEW = "Freshly published harbour tides"

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server on PATH")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(port, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.2)
    raise AssertionError(f"nothing listens on port {port}")


@contextlib.contextmanager
def processes():
    started = []
    try:
        yield started
    finally:
        for process in started:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in started:
            process.wait(timeout=20)


def test_a_publication_shows_on_every_server_within_the_stamps_time(tmp_path):
    redis_port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DATABASE_", "CACHE_"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite3'}",
            "PORTAL_VAR_DIR": str(tmp_path / "var"),
            "CACHE_URL": f"redis://127.0.0.1:{redis_port}/9",
            "CATALOG_STAMP_SECONDS": "2",
            "CATALOG_FACET_CACHE_SECONDS": "300",
        }
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    with processes() as started:
        started.append(
            subprocess.Popen(
                [
                    "redis-server",
                    "--port",
                    str(redis_port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ],
                stdout=subprocess.DEVNULL,
                start_new_session=True,
            )
        )
        ports = [free_port(), free_port()]
        for port in ports:
            started.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "gunicorn",
                        "portal.wsgi:application",
                        "-b",
                        f"127.0.0.1:{port}",
                        "-w",
                        "1",
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
            )
        for port in (redis_port, *ports):
            wait_until_up(port)
        for port in ports:
            page = requests.get(f"http://127.0.0.1:{port}/datasets/", timeout=30)
            assert page.status_code == 200
            assert NEW not in page.text

        # Another process publishes, as a worker does.
        code = (
            "import django; django.setup(); from tests.catalog.catalog_rows import published; "
            f"published(name={NEW!r}, slug='freshly-published-harbour-tides')"
        )
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True)

        for port in ports:
            wait_for_page(f"http://127.0.0.1:{port}/datasets/", NEW)
        keys = subprocess.run(
            ["redis-cli", "-p", str(redis_port), "-n", "9", "--scan"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
    # The servers' pages and the stamp are in the shared Redis, not in each process.
    assert any("catalog" in key for key in keys), keys


def wait_for_page(url, text, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in requests.get(url, timeout=30).text:
            return
        time.sleep(0.5)
    raise AssertionError(f"{url} does not show {text!r}")
