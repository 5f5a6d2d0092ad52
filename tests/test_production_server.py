"""The portal under gunicorn on a PostgreSQL of its own: fifty contributors at once, and a database restart.

The PostgreSQL is private to this module (initdb and pg_ctl under a temporary folder, on a free port), so
restarting it disturbs nobody else. gunicorn runs the production settings' stack (DEBUG off) with three
workers; e-mails go to its console, where the test counts them.
"""

import contextlib
import glob
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg2
import pytest
import requests

from tests.factories import GOOD_CARD

ROOT = Path(__file__).resolve().parent.parent
PG_BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
CONTRIBUTORS = 50

pytestmark = pytest.mark.skipif(
    not PG_BIN or shutil.which("runuser") is None,
    reason="needs PostgreSQL's initdb and pg_ctl (Debian's postgresql)",
)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, *, timeout, message):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if predicate():
                return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {message}")


class PrivatePostgres:
    """A PostgreSQL cluster in a temporary folder, run as the postgres user (initdb refuses root)."""

    def __init__(self, folder):
        self.folder = folder
        self.data = folder / "data"
        self.port = free_port()
        self.bin = PG_BIN[-1]

    def run(self, *command):
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *command], check=True, capture_output=True, timeout=60
        )

    def init(self):
        self.run(f"{self.bin}/initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.start()
        self.run(f"{self.bin}/createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "portal")

    def start(self):
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.run(
            f"{self.bin}/pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.folder / "pg.log"),
            "-w",
            "start",
        )

    def stop(self):
        self.run(f"{self.bin}/pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    @property
    def url(self):
        return f"postgres://postgres@127.0.0.1:{self.port}/portal"

    def query(self, sql):
        with contextlib.closing(psycopg2.connect(self.url)) as conn, conn.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """gunicorn with production settings on the private PostgreSQL; yields (url, postgres, log path)."""
    folder = tmp_path_factory.mktemp("production")
    # The postgres user must reach the cluster's folder: not under pytest's private temporary folder.
    pg_folder = Path(tempfile.mkdtemp(prefix="portal-test-pg-"))
    shutil.chown(pg_folder, "postgres", "postgres")
    postgres = PrivatePostgres(pg_folder)
    postgres.init()
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_", "CACHE_", "CELERY_"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "false",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "DATABASE_URL": postgres.url,
            "PORTAL_VAR_DIR": str(folder / "var"),
            # No broker runs: the form still accepts submissions and the sweeper queues their checks later.
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{free_port()}/0",
            "CACHE_URL": f"redis://127.0.0.1:{free_port()}/1",
            "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
            "RATELIMIT_ENABLE": "false",
            "LOG_FORMAT": "json",
        }
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    log_path = folder / "gunicorn.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "portal.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "3",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: requests.get(f"{url}/healthz", timeout=2).ok, timeout=60, message="gunicorn")
        yield url, postgres, log_path, folder / "var" / "media"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        with contextlib.suppress(subprocess.CalledProcessError):
            postgres.stop()
        shutil.rmtree(pg_folder, ignore_errors=True)


def marine_id(url):
    page = requests.get(f"{url}/contribute/", timeout=10).text
    return re.search(r'<option value="(\d+)"[^>]*>\s*Marine\s*</option>', page).group(1)


def open_form(url):
    """Return a browser session that has the form open, and the form's CSRF token."""
    session = requests.Session()
    page = session.get(f"{url}/contribute/", timeout=30).text
    return session, re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def contribute(url, number, domain, *, label, opened=None):
    session, token = opened or open_form(url)
    return session.post(
        f"{url}/contribute/",
        data={
            "csrfmiddlewaretoken": token,
            "submission_key": str(uuid.uuid4()),
            "name": f"{label} harbour series {number:02d} {uuid.uuid4().hex[:6]}",
            "location": f"https://data.harbour.example/{label}/{number}.csv",
            "hosting_wanted": "on",
            "modalities": "text",
            "domain": domain,
            "contact_email": f"{label}{number}@example.org",
            "accept_terms": "on",
        },
        files={"card": ("README.md", GOOD_CARD.encode(), "text/markdown")},
        allow_redirects=False,
        timeout=60,
    )


def test_fifty_contributors_at_once_through_gunicorn_on_postgresql(server):
    url, postgres, log_path, media = server
    domain = marine_id(url)
    start = threading.Barrier(CONTRIBUTORS)

    def one(number):
        start.wait(timeout=60)
        return contribute(url, number, domain, label="load").status_code

    with ThreadPoolExecutor(max_workers=CONTRIBUTORS) as pool:
        statuses = list(pool.map(one, range(CONTRIBUTORS)))

    assert statuses == [302] * CONTRIBUTORS
    rows = postgres.query("SELECT reference FROM submissions_submission WHERE contact_email LIKE 'load%%'")
    references = [row[0] for row in rows]
    assert len(references) == CONTRIBUTORS
    assert len(set(references)) == CONTRIBUTORS and all(references)
    ((cards,),) = postgres.query(
        "SELECT count(*) FROM submissions_cardrevision r JOIN submissions_submission s ON s.id = r.submission_id "
        "WHERE s.contact_email LIKE 'load%%'"
    )
    assert cards == CONTRIBUTORS
    ((events,),) = postgres.query(
        "SELECT count(DISTINCT e.submission_id) FROM submissions_event e "
        "JOIN submissions_submission s ON s.id = e.submission_id WHERE s.contact_email LIKE 'load%%'"
    )
    assert events == CONTRIBUTORS
    log = log_path.read_text(errors="replace")
    mailed = set(re.findall(r"^To: (load\d+@example\.org)$", log, re.M))
    assert mailed == {f"load{number}@example.org" for number in range(CONTRIBUTORS)}
    stored = {path.parent.name for path in media.glob("cards/*/*.md")}
    assert set(references) <= stored


def test_postgresql_restart_answers_503_then_works_and_nothing_is_half_written(server):
    url, postgres, _log, media = server
    domain = marine_id(url)
    ((before,),) = postgres.query("SELECT count(*) FROM submissions_submission")
    files_before = sorted(media.rglob("*"))
    opened = open_form(url)
    postgres.stop()
    try:
        for during in (
            contribute(url, 1, domain, label="outage", opened=opened),
            requests.get(f"{url}/datasets/", timeout=30),
        ):
            assert during.status_code == 503
            assert int(during.headers["Retry-After"]) > 0
            assert "briefly unavailable" in during.text
        ready = requests.get(f"{url}/readyz", timeout=30)
        assert ready.status_code == 503
        assert "database" in ready.json()["down"]
    finally:
        postgres.start()
    ((after_restart,),) = postgres.query("SELECT count(*) FROM submissions_submission")
    assert after_restart == before
    assert sorted(media.rglob("*")) == files_before
    response = contribute(url, 2, domain, label="after")
    assert response.status_code == 302
    assert requests.get(f"{url}/datasets/", timeout=30).status_code == 200
