"""Run the whole portal on one machine: web server, a Celery worker with beat, and (offline) a dev Hub.

Used by `make run`. With no `HF_TOKEN` in the environment it starts the project's Hub-compatible server
(devhub) and a local https data source (devhub.datasource, which also doubles the research-data
repositories and serves a Zenodo-style demo record, DOI 10.5072/zenodo.1001) on 127.0.0.1 and points the
portal at them (DOI_RESOLVER_URL too), so that approving a hosted or a linked dataset publishes end to end with no internet. With `HF_TOKEN` and `HUB_ORGANIZATION` set, it publishes to the configured Hub instead.
Child processes are stopped when the command stops.
"""

import io
import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from portal.celery import worker_command
from submissions.management.commands.loaddemo import CURATOR_PASSWORD, CURATOR_USERNAME

DEVHUB_DEMO_TOKEN = "devhub-demo-token"  # noqa: S105 - the dev Hub accepts any token


class Command(BaseCommand):
    help = "Run the web server, a Celery worker with beat and, without HF_TOKEN, the local dev Hub."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument("--devhub-port", type=int, default=8800)
        parser.add_argument(
            "--source-port", type=int, default=8801, help="port of the demo data source (offline mode)"
        )

    def handle(self, *args, addrport, devhub_port, source_port, **options):
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
                    # The same source doubles the repositories: its demo Zenodo-style record's DOI
                    # (10.5072/zenodo.1001) resolves offline there.
                    "DOI_RESOLVER_URL": f"https://127.0.0.1:{source_port}/doi/",
                }
                env.update(offline)
                os.environ.update(offline)
                settings.HF_ENDPOINT, settings.HF_TOKEN = url, DEVHUB_DEMO_TOKEN
                settings.PORTAL_FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]
                settings.PORTAL_FETCH_CA_BUNDLE = str(ca_bundle)
                settings.PORTAL_DEMO_DATA_URL = offline["PORTAL_DEMO_DATA_URL"]
                settings.DOI_RESOLVER_URL = offline["DOI_RESOLVER_URL"]
                self.stdout.write(
                    f"No HF_TOKEN set: publishing to the local dev Hub at {url}. Drop your own data files into "
                    f"{settings.PORTAL_DEMO_DATA_DIR}/: they are served at https://127.0.0.1:{source_port}/<name>. "
                    f"A demo repository record: https://127.0.0.1:{source_port}/records/1001 "
                    "(DOI 10.5072/zenodo.1001)."
                )
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

    def _wait_for(self, path, timeout=30):
        deadline = time.monotonic() + timeout
        while not path.exists() and time.monotonic() < deadline:
            time.sleep(0.2)

    def _spawn(self, name, command, env):
        self.stdout.write(f"Starting the {name}: {' '.join(command[1:])}")
        return name, subprocess.Popen(command, env=env, cwd=settings.BASE_DIR)
