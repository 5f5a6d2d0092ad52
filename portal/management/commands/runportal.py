"""Run the whole portal on one machine: web server, a Celery worker with beat, and (offline) a dev Hub.

Used by `make run`. With no `HF_TOKEN` in the environment it starts the project's Hub-compatible server
(devhub) and a local https data source (devhub.datasource) on 127.0.0.1 and points the
portal at them, so that approving a hosted or a linked dataset publishes end to end with no internet. With `HF_TOKEN` and `HUB_ORGANIZATION` set, it publishes to the configured Hub instead.
Without ORCID_CLIENT_ID or OIDC_ISSUER/OIDC_CLIENT_ID it also starts a local OpenID Connect provider
(devhub.oidc) and points the missing sign-in at it, so that "Sign in with ORCID" and "Sign in with the
institution" work offline with demo users. Child processes are stopped when the command stops.
"""

import contextlib
import io
import os
import signal
import socket
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from portal.celery import worker_command
from submissions.management.commands.loaddemo import CURATOR_PASSWORD, CURATOR_USERNAME

DEVHUB_DEMO_TOKEN = "devhub-demo-token"  # noqa: S105 - the dev Hub accepts any token
# The offline demo's sign-in (devhub.oidc, started when ORCID and the institution's provider are not set).
DEMO_ORCID_CLIENT = ("APP-DEMO0000PORTAL", "orcid-demo-secret")
DEMO_INSTITUTION_CLIENT = ("dataset-portal", "institution-demo-secret")
DEMO_INSTITUTION_NAME = "Example Institution (demo)"


class Command(BaseCommand):
    help = "Run the web server, a Celery worker with beat and, without HF_TOKEN, the local dev Hub."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument("--devhub-port", type=int, default=8800)
        parser.add_argument(
            "--source-port", type=int, default=8801, help="port of the demo data source (offline mode)"
        )
        parser.add_argument(
            "--oidc-port",
            type=int,
            default=8802,
            help="port of the demo's OpenID Connect provider (when ORCID and OIDC settings are not set)",
        )

    def handle(self, *args, addrport, devhub_port, source_port, oidc_port, **options):
        # A SIGTERM (from a process manager or `kill`) must stop the children too, through `finally` below.
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
        children = []
        env = dict(os.environ)
        try:
            if not settings.HF_TOKEN:
                url = f"http://127.0.0.1:{devhub_port}"
                children.append(
                    self._spawn(
                        "dev Hub",
                        [
                            sys.executable,
                            "-m",
                            "devhub",
                            "--port",
                            str(devhub_port),
                            "--data",
                            str(settings.VAR_DIR / "devhub"),
                        ],
                        env,
                    )
                )
                source_dir = settings.VAR_DIR / "demo-source"
                children.append(
                    self._spawn(
                        "demo data source",
                        [
                            sys.executable,
                            "-m",
                            "devhub.datasource",
                            "--port",
                            str(source_port),
                            "--dir",
                            str(source_dir),
                            "--files",
                            str(settings.PORTAL_DEMO_DATA_DIR),
                        ],
                        env,
                    )
                )
                ca_bundle = source_dir / "cert.pem"
                self._wait_for(ca_bundle)
                offline = {
                    "HF_ENDPOINT": url,
                    "HF_TOKEN": DEVHUB_DEMO_TOKEN,
                    "HF_HUB_DISABLE_XET": "1",
                    # The demo's hosted dataset is served by the local https source: let fetches reach it.
                    "PORTAL_FETCH_ALLOWED_NETWORKS": "127.0.0.1/32",
                    "PORTAL_FETCH_CA_BUNDLE": str(ca_bundle),
                    "PORTAL_DEMO_DATA_URL": f"https://127.0.0.1:{source_port}/",
                }
                env.update(offline)
                os.environ.update(offline)
                settings.HF_ENDPOINT, settings.HF_TOKEN = url, DEVHUB_DEMO_TOKEN
                settings.PORTAL_FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]
                settings.PORTAL_FETCH_CA_BUNDLE = str(ca_bundle)
                settings.PORTAL_DEMO_DATA_URL = offline["PORTAL_DEMO_DATA_URL"]
                self.stdout.write(
                    f"No HF_TOKEN set: publishing to the local dev Hub at {url}. Drop your own data files into "
                    f"{settings.PORTAL_DEMO_DATA_DIR}/: they are served at https://127.0.0.1:{source_port}/<name>."
                )
            demo_sign_in = self._start_sign_in_provider(addrport, oidc_port, env, children)
            # A worker per queue, as in production: a long mirror never holds up a check or an e-mail.
            children.append(
                self._spawn(
                    "Celery worker for checks and e-mails",
                    worker_command(
                        beat_schedule=settings.VAR_DIR / "celerybeat-schedule",
                        queues=[settings.CELERY_TASK_DEFAULT_QUEUE],
                        name="checks",
                        log_level="WARNING",
                        quiet=True,
                    ),
                    env,
                )
            )
            children.append(
                self._spawn(
                    "Celery worker for mirroring",
                    worker_command(
                        queues=[settings.CELERY_MIRROR_QUEUE], name="mirror", log_level="WARNING", quiet=True
                    ),
                    env,
                )
            )
            time.sleep(1)
            self.stdout.write(self.style.SUCCESS(f"Portal: http://{addrport}/  (stop with Ctrl-C)"))
            if settings.DEBUG:
                # Last, where a newcomer looks first; runserver's own banner is left out for that reason.
                self.stdout.write(
                    self.style.SUCCESS(
                        f"Curators sign in at http://{addrport}/admin/ as “{CURATOR_USERNAME}”, "
                        f"password “{CURATOR_PASSWORD}”."
                    )
                )
                for line in demo_sign_in:
                    self.stdout.write(self.style.SUCCESS(line))
            call_command("runserver", addrport, use_reloader=False, stdout=io.StringIO())
        finally:
            for name, process in reversed(children):
                if process.poll() is None:
                    self.stdout.write(f"Stopping the {name}…")
                    process.send_signal(signal.SIGTERM)
            for _name, process in children:
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()

    def _start_sign_in_provider(self, addrport, port, env, children):
        """Start devhub.oidc for ORCID and the institution where their settings are not given; return the lines
        that tell a newcomer how to sign in."""
        fill_orcid = not settings.ORCID_CLIENT_ID
        fill_institution = not (settings.OIDC_ISSUER and settings.OIDC_CLIENT_ID)
        if not (fill_orcid or fill_institution):
            return []
        host, _, web_port = addrport.rpartition(":")
        portals = [f"http://{host or '127.0.0.1'}:{web_port}", f"http://localhost:{web_port}"]
        command = [sys.executable, "-m", "devhub.oidc", "--port", str(port)]
        command += [argument for url in portals for argument in ("--portal", url)]
        command += ["--orcid-client", ":".join(DEMO_ORCID_CLIENT)]
        command += ["--institution-client", ":".join(DEMO_INSTITUTION_CLIENT)]
        children.append(self._spawn("demo sign-in provider (OpenID Connect)", command, env))
        self._wait_for_port(port)
        url = f"http://127.0.0.1:{port}"
        demo = {}
        if fill_orcid:
            demo.update(
                ORCID_BASE_URL=f"{url}/orcid",
                ORCID_CLIENT_ID=DEMO_ORCID_CLIENT[0],
                ORCID_CLIENT_SECRET=DEMO_ORCID_CLIENT[1],
            )
        if fill_institution:
            demo.update(
                OIDC_ISSUER=f"{url}/institution",
                OIDC_CLIENT_ID=DEMO_INSTITUTION_CLIENT[0],
                OIDC_CLIENT_SECRET=DEMO_INSTITUTION_CLIENT[1],
                OIDC_PROVIDER_NAME=DEMO_INSTITUTION_NAME,
            )
        env.update(demo)
        os.environ.update(demo)
        for name, value in demo.items():
            setattr(settings, name, value)
        lines = []
        if fill_orcid:
            lines.append(
                f"Contributors: “Sign in with ORCID” at http://{addrport}/contribute/ opens the local demo "
                "provider; pick “Ada Okafor” (ORCID iD 0001-0002-1825-0093)."
            )
        if fill_institution:
            lines.append(
                f"Curators: “Sign in with {DEMO_INSTITUTION_NAME}” at http://{addrport}/admin/ and pick “Casey "
                "Curator” (curator@institution.example, in the curators group); “Lee Librarian” is not a curator."
            )
        return lines

    def _wait_for_port(self, port, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
            time.sleep(0.1)

    def _wait_for(self, path, timeout=30):
        deadline = time.monotonic() + timeout
        while not path.exists() and time.monotonic() < deadline:
            time.sleep(0.2)

    def _spawn(self, name, command, env):
        self.stdout.write(f"Starting the {name}: {' '.join(command[1:])}")
        return name, subprocess.Popen(command, env=env, cwd=settings.BASE_DIR)
