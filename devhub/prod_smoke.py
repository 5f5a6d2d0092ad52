"""`make prod-smoke`: the production stack on this machine, driven over HTTP like a contributor and a curator.

Starts, each in its own process group and all under one temporary folder: a private Redis (append-only,
broker on db 0, cache on db 1), a database of its own on the PostgreSQL at SMOKE_DATABASE_SERVER, the dev
Hub and the demo https data source, then with production settings (DEBUG off, a random SECRET_KEY)
`migrate`, gunicorn, a worker per queue and beat. It submits a hosted dataset through the form, confirms
it with the button of the e-mailed link's page, signs into the admin and claims and approves it through the admin's forms, waits
for publication, checks the catalog page and the repository on the Hub, and stops everything it started
(and drops its database), whatever happened. Exit status 0 means every step passed.
"""

import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SERVER = os.environ.get("SMOKE_DATABASE_SERVER", "postgres://postgres@127.0.0.1:5432")
ADMIN_PASSWORD = secrets.token_urlsafe(16)
TIMEOUT = 180


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(what, predicate, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            value = predicate()
            if value:
                return value
        time.sleep(0.5)
    raise SystemExit(f"prod-smoke: timed out waiting for {what}")


def port_open(port):
    with socket.create_connection(("127.0.0.1", port), timeout=1):
        return True


class Stack:
    """The processes and the database of one smoke run; `stop()` ends them all."""

    def __init__(self, folder):
        self.folder = folder
        self.processes = []
        self.database = f"portal_smoke_{os.getpid()}_{secrets.token_hex(3)}"

    def spawn(self, name, command, env=None):
        log = open(self.folder / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.processes.append((name, process, log))
        return process

    def log(self, name):
        return (self.folder / f"{name}.log").read_text(errors="replace")

    def psql(self, sql):
        subprocess.run(["psql", f"{SERVER}/postgres", "-qAtc", sql], check=True, capture_output=True)

    def stop(self):
        for _name, process, _log in reversed(self.processes):
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        for _name, process, log in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
            log.close()
        with contextlib.suppress(subprocess.CalledProcessError):
            self.psql(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')


def start(stack, **settings):
    """Start every part, with `settings` added to the environment; return (portal URL, Hub URL, source port)."""
    folder = stack.folder
    redis_port, hub_port, source_port, web_port = free_port(), free_port(), free_port(), free_port()
    stack.spawn(
        "redis",
        [
            "redis-server",
            "--port",
            str(redis_port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(folder),
            "--appendonly",
            "yes",
            "--save",
            "",
        ],
    )
    stack.spawn("devhub", [PYTHON, "-m", "devhub", "--port", str(hub_port), "--data", str(folder / "hub")])
    source_dir = folder / "source"
    stack.spawn(
        "source", [PYTHON, "-m", "devhub.datasource", "--port", str(source_port), "--dir", str(source_dir)]
    )
    stack.psql(f'CREATE DATABASE "{stack.database}"')
    wait_for(
        "Redis, the dev Hub and the data source",
        lambda: all(port_open(p) for p in (redis_port, hub_port, source_port)),
    )
    wait_for("the data source's certificate", lambda: (source_dir / "cert.pem").exists())

    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_", "CELERY_", "CACHE_", "PORTAL_", "HF_", "STORAGE_"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
            "PORTAL_BASE_URL": f"http://127.0.0.1:{web_port}",
            # Plain http on loopback for the smoke run; production sits behind a TLS proxy.
            "SECURE_SSL_REDIRECT": "false",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "SECURE_HSTS_SECONDS": "0",
            "DATABASE_URL": f"{SERVER}/{stack.database}",
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
            "CACHE_URL": f"redis://127.0.0.1:{redis_port}/1",
            "PORTAL_VAR_DIR": str(folder / "var"),
            "MIRROR_WORK_DIR": str(folder / "scratch"),
            "HF_ENDPOINT": f"http://127.0.0.1:{hub_port}",
            "HF_TOKEN": "smoke-token",
            "HF_HUB_DISABLE_XET": "1",
            "HUB_ORGANIZATION": "dataset-portal",
            "PORTAL_FETCH_ALLOWED_NETWORKS": "127.0.0.1/32",
            "PORTAL_FETCH_CA_BUNDLE": str(source_dir / "cert.pem"),
            "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
            "LOG_FORMAT": "json",
            **settings,
        }
    )
    manage = [PYTHON, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run(
        [*manage, "collectstatic", "--noinput"], cwd=ROOT, env=env, check=True, capture_output=True
    )
    subprocess.run(
        [*manage, "createsuperuser", "--noinput", "--username", "smoke", "--email", "smoke@portal.test"],
        cwd=ROOT,
        env={**env, "DJANGO_SUPERUSER_PASSWORD": ADMIN_PASSWORD},
        check=True,
        capture_output=True,
    )
    stack.spawn(
        "web",
        [
            PYTHON,
            "-m",
            "gunicorn",
            "portal.wsgi:application",
            "--bind",
            f"127.0.0.1:{web_port}",
            "--workers",
            "3",
        ],
        env,
    )
    celery = [PYTHON, "-m", "celery", "-A", "portal"]
    stack.spawn(
        "worker-checks", [*celery, "worker", "-Q", "celery", "-n", "checks@%h", "--concurrency=2"], env
    )
    stack.spawn(
        "worker-mirror",
        [*celery, "worker", "-Q", "celery.mirror", "-n", "mirror@%h", "--concurrency=1", "-O", "fair"],
        env,
    )
    stack.spawn("beat", [*celery, "beat", "--schedule", str(folder / "celerybeat-schedule")], env)
    portal = f"http://127.0.0.1:{web_port}"
    wait_for("/readyz", lambda: requests.get(f"{portal}/readyz", timeout=5).status_code == 200)
    return portal, env["HF_ENDPOINT"], source_port


def field(html, name):
    """Return the value of the form field `name` in `html`."""
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    if not match:
        raise SystemExit(f"prod-smoke: no {name} in the page")
    return match.group(1)


def submit(stack, portal, source_port):
    """Contributor: fill in the form, then open the e-mailed status link."""
    contributor = requests.Session()
    page = contributor.get(f"{portal}/contribute/", timeout=10).text
    marine = re.search(r'<option value="(\d+)"[^>]*>\s*Marine\s*</option>', page).group(1)
    card_text = "---\nlicense: cc-by-4.0\nlanguage:\n- en\npretty_name: Smoke buoys\n---\n\n# Smoke buoys\n\nHourly buoy temperatures.\n"
    response = contributor.post(
        f"{portal}/contribute/",
        data={
            "csrfmiddlewaretoken": field(page, "csrfmiddlewaretoken"),
            "submission_key": field(page, "submission_key"),
            "name": f"Smoke buoys {secrets.token_hex(3)}",
            "location": f"https://127.0.0.1:{source_port}/baltic-buoys-2010-2024.csv",
            "hosting_wanted": "on",
            "modalities": "text",
            "domain": marine,
            "contact_email": "contributor@smoke.test",
            "accept_terms": "on",
        },
        files={"card": ("README.md", card_text.encode(), "text/markdown")},
        headers={"Referer": f"{portal}/contribute/"},
        timeout=30,
    )
    reference = re.search(r"DP-\d{4}-\d{6}", response.text)
    if response.status_code != 200 or "/contribute/received/" not in response.url or not reference:
        raise SystemExit(f"prod-smoke: the form was not accepted ({response.status_code})")
    # E-mails are delivered by the checks worker (console backend here).
    link = wait_for(
        "the confirmation e-mail", lambda: re.search(r"(/status/[A-Za-z0-9_-]+/)", stack.log("worker-checks"))
    )
    contributor.get(f"{portal}{link.group(1)}", timeout=10).raise_for_status()
    # Opening the link changes nothing (mail scanners open links); the page's button confirms.
    confirmed = contributor.post(f"{portal}{link.group(1)}confirm/", timeout=10)
    if confirmed.status_code != 200 or "Confirm my e-mail address</button>" in confirmed.text:
        raise SystemExit(f"prod-smoke: confirming the address failed ({confirmed.status_code})")
    print(f"prod-smoke: submitted and confirmed {reference.group(0)}")
    return reference.group(0)


def approve(portal, reference):
    """Curator: sign into the admin, open the submission, claim it, tick the checklist and approve."""
    curator = requests.Session()
    login = curator.get(f"{portal}/admin/login/", timeout=10).text
    response = curator.post(
        f"{portal}/admin/login/?next=/admin/",
        data={
            "csrfmiddlewaretoken": field(login, "csrfmiddlewaretoken"),
            "username": "smoke",
            "password": ADMIN_PASSWORD,
        },
        headers={"Referer": f"{portal}/admin/login/"},
        timeout=10,
    )
    if "/admin/login/" in response.url:
        raise SystemExit("prod-smoke: the admin sign-in failed")
    queue = curator.get(f"{portal}/admin/submissions/submission/?q={reference}", timeout=10).text
    path = re.search(r'href="(/admin/submissions/submission/(\d+)/change/[^"]*)"', queue)
    if not path:
        raise SystemExit(f"prod-smoke: {reference} is not in the review queue")
    review_url = f"{portal}/admin/submissions/submission/{path.group(2)}/"

    def post_action(name, extra=None):
        page = curator.get(f"{review_url}change/", timeout=10).text
        form = re.search(rf'<form[^>]*action="[^"]*/{name}/"[^>]*>(.*?)</form>', page, re.S)
        if not form:
            raise SystemExit(f"prod-smoke: no {name} form on the review page")
        data = {"csrfmiddlewaretoken": field(page, "csrfmiddlewaretoken")}
        for box in re.findall(r'<input type="checkbox" name="([^"]+)"', form.group(1)):
            if box != "unpack_archives":
                data[box] = "on"
        data.update(extra or {})
        result = curator.post(
            f"{review_url}{name}/", data=data, headers={"Referer": f"{review_url}change/"}, timeout=30
        )
        result.raise_for_status()
        return result.text

    post_action("claim")
    text = post_action("approve")
    if "is approved" not in text:
        raise SystemExit("prod-smoke: the approval was not accepted")
    print(f"prod-smoke: {reference} claimed and approved through the admin")


def check_published(portal, hub, reference):
    """The dataset page in the catalog and the repository on the Hub, with the data file."""

    def published():
        listing = requests.get(f"{portal}/datasets/?q=Smoke+buoys", timeout=10).text
        match = re.search(r'href="(/datasets/[a-z0-9-]+/)"', listing)
        return match and match.group(1)

    page = wait_for("publication in the catalog", published, timeout=TIMEOUT)
    detail = requests.get(f"{portal}{page}", timeout=10)
    detail.raise_for_status()
    repo = re.search(r"dataset-portal/[a-z0-9-]+", detail.text).group(0)
    files = requests.get(f"{hub}/api/datasets/{repo}/tree/main?recursive=true", timeout=10).json()
    paths = {entry["path"] for entry in files}
    if "README.md" not in paths or not any(path.endswith(".csv") for path in paths):
        raise SystemExit(f"prod-smoke: the Hub repository {repo} lacks its files: {sorted(paths)}")
    if "Content-Security-Policy" not in detail.headers:
        raise SystemExit("prod-smoke: the dataset page has no Content-Security-Policy")
    print(f"prod-smoke: {reference} is published at {page} and on the Hub as {repo} ({len(paths)} files)")


def main():
    for tool in ("redis-server", "psql"):
        if not shutil.which(tool):
            raise SystemExit(f"prod-smoke: {tool} is not installed")
    folder = Path(tempfile.mkdtemp(prefix="portal-smoke-"))
    stack = Stack(folder)
    ok = False
    try:
        portal, hub, source_port = start(stack)
        reference = submit(stack, portal, source_port)
        approve(portal, reference)
        check_published(portal, hub, reference)
        ok = True
    finally:
        stack.stop()
        if ok:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            print(f"prod-smoke: FAILED; the logs are in {folder}", file=sys.stderr)
    print("prod-smoke: passed")


if __name__ == "__main__":
    main()
