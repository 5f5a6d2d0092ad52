"""Run the whole portal on one machine: web server, a Celery worker per queue (one with beat), and (offline) a dev Hub.

Used by `make run`. With no `HF_TOKEN` in the environment it starts the project's Hub-compatible server
(devhub) and a local https data source (devhub.datasource, which also doubles the research-data repositories
and serves a Zenodo-style demo record, DOI 10.5072/zenodo.1001) on 127.0.0.1 and points the portal at them
(DOI_RESOLVER_URL too), so that approving a hosted or a linked dataset publishes end to end with no internet. With `HF_TOKEN` and
`HUB_ORGANIZATION` set, it publishes to the configured Hub instead.

Every part runs as a child process configured through its environment (the settings are read there and
nowhere else), and the children are stopped when the command stops. A copy started on another port than
`make run`'s keeps everything it stores in a folder of its own (`var/port-<port>/`, unless `PORTAL_VAR_DIR`
says otherwise), migrated and loaded with the demo as `make run` does: two copies never share a database,
a queue or a dev Hub, so neither's workers take the other's tasks.

Without ORCID_CLIENT_ID or OIDC_ISSUER/OIDC_CLIENT_ID it also starts a local OpenID Connect provider
(devhub.oidc) and points the missing sign-in at it, so that "Sign in with ORCID" and "Sign in with the
institution" work offline with demo users.

Without any DATACITE_* setting it starts the DataCite double (devhub.datacite) and points the portal at it,
with DataCite's test prefix 10.5072, so that a published dataset gets a DOI offline (one that resolves
nowhere, as every DOI under the test prefix).
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from portal.celery import worker_command
from submissions.management.commands.loaddemo import CURATOR_PASSWORD, CURATOR_USERNAME

DEVHUB_DEMO_TOKEN = "devhub-demo-token"  # noqa: S105 - the dev Hub accepts any token
# The offline demo's sign-in (devhub.oidc, started when ORCID and the institution's provider are not set).
DEMO_ORCID_CLIENT = ("APP-DEMO0000PORTAL", "orcid-demo-secret")
DEMO_INSTITUTION_CLIENT = ("dataset-portal", "institution-demo-secret")
DEMO_INSTITUTION_NAME = "Example Institution (demo)"
# The offline demo's DOIs (devhub.datacite, started when no DATACITE_* setting is given): DataCite's test
# prefix, never a real one.
DEMO_DATACITE_ACCOUNT = ("DEMO.PORTAL", "datacite-demo-password")
DEMO_DATACITE_PREFIX = "10.5072"
DEFAULT_ADDRPORT = "127.0.0.1:8000"  # make run's
READY_SECONDS = 60


def split_addrport(addrport):
    """Return (host, port) of runserver's `addrport` argument ("8000", "127.0.0.1:8000", "[::1]:8000")."""
    host, _, port = addrport.rpartition(":")
    if not port.isdigit():
        raise CommandError(f"{addrport!r} is not an address and port such as 127.0.0.1:8000.")
    return (host.strip("[]") or "127.0.0.1"), int(port)


def url_of(host, port):
    """Return the http:// address at which a server bound to (host, port) is reached from this machine."""
    host = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104 - an address to visit, not a bind
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def copy_var_dir(port, environ):
    """Return the folder of a copy on another port than make run's, or None when it uses the settings' own.

    `PORTAL_VAR_DIR` set by the caller always wins; so does make run's port, whose folder is `var/`.
    """
    if environ.get("PORTAL_VAR_DIR") or port == split_addrport(DEFAULT_ADDRPORT)[1]:
        return None
    return settings.BASE_DIR / "var" / f"port-{port}"


class Command(BaseCommand):
    help = "Run the web server, a Celery worker per queue with beat and, without HF_TOKEN, the local dev Hub."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default=DEFAULT_ADDRPORT)
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
        parser.add_argument(
            "--datacite-port",
            type=int,
            default=8803,
            help="port of the DataCite double (when no DATACITE_* setting is given)",
        )
        parser.add_argument(
            "--demo",
            action="store_true",
            help="migrate and load the demo data first, as make run does (implied for a copy's own folder)",
        )

    def handle(self, *args, addrport, devhub_port, source_port, oidc_port, datacite_port, demo, **options):
        # A SIGTERM (from a process manager or `kill`) must stop the children too, through `finally` below.
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
        host, port = split_addrport(addrport)
        env = dict(os.environ)
        var_dir = Path(settings.VAR_DIR)
        own = copy_var_dir(port, os.environ)
        if own is not None:
            var_dir = own
            env["PORTAL_VAR_DIR"] = str(own)
            demo = demo or settings.DEBUG
            self.stdout.write(
                f"Port {port} is not make run's: this copy keeps its database, queue and dev Hub in {own}/ "
                "(set PORTAL_VAR_DIR to choose the folder)."
            )
        # E-mailed links must lead to this copy, not to make run's.
        base_url = url_of(host, port)
        env.setdefault("PORTAL_BASE_URL", base_url)
        # Where the demo's hosted datasets are served, also when this copy's source listens on another port.
        source_url = f"https://127.0.0.1:{source_port}/"
        children = []
        try:
            if demo:
                self._prepare(env, source_url)
            if not settings.HF_TOKEN:
                env.update(self._start_offline_parts(children, env, var_dir, devhub_port, source_port))
            sign_in, demo_sign_in = self._start_sign_in_provider(base_url, oidc_port, env, children)
            env.update(sign_in)
            dois, doi_lines = self._start_datacite_double(datacite_port, env, children)
            env.update(dois)
            demo_sign_in = [*demo_sign_in, *doi_lines]
            # A worker per queue, as in production: a long mirror never holds up a check or an e-mail.
            children.append(
                self._spawn(
                    "Celery worker for checks and e-mails",
                    worker_command(
                        beat_schedule=var_dir / "celerybeat-schedule",
                        queues=[settings.CELERY_TASK_DEFAULT_QUEUE],
                        name="checks",
                        log_level="WARNING",
                        quiet=True,
                    ),
                    env,
                )
            )
            self._wait_for_first_worker(var_dir)
            children.append(
                self._spawn(
                    "Celery worker for mirroring",
                    worker_command(
                        queues=[settings.CELERY_MIRROR_QUEUE], name="mirror", log_level="WARNING", quiet=True
                    ),
                    env,
                )
            )
            # runserver's own banner is left out: the lines below say where to go, once the server answers.
            web = self._spawn(
                "web server",
                [sys.executable, "manage.py", "runserver", addrport, "--noreload"],
                env,
                stdout=subprocess.DEVNULL,
            )
            children.append(web)
            if not self._wait_for_port(host, port, web[1]):
                raise CommandError(f"The web server did not start on {addrport}; its error is above.")
            self.stdout.write(self.style.SUCCESS(f"Portal: {base_url}/  (stop with Ctrl-C)"))
            if settings.DEBUG:
                self.stdout.write(
                    self.style.SUCCESS(
                        f"Curators sign in at {base_url}/admin/ as “{CURATOR_USERNAME}”, "
                        f"password “{CURATOR_PASSWORD}”."
                    )
                )
                for line in demo_sign_in:
                    self.stdout.write(self.style.SUCCESS(line))
                self.stdout.write(self.style.SUCCESS("The demo's e-mails follow, one line each."))
            web[1].wait()
        except KeyboardInterrupt:
            pass
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

    def _prepare(self, env, source_url):
        """Migrate this copy's database and load the demo into it, as make run does for var/."""
        manage = [sys.executable, "manage.py"]
        for command in (
            ["migrate", "--noinput", "--verbosity", "0"],
            ["loaddemo", "--source-url", source_url],
            ["loadcatalogdemo", "--source-url", source_url],
        ):
            if subprocess.run([*manage, *command], env=env, cwd=settings.BASE_DIR).returncode != 0:
                raise CommandError(f"manage.py {command[0]} failed; see above.")

    def _start_offline_parts(self, children, env, var_dir, devhub_port, source_port):
        """Start the dev Hub and the demo data source; return the settings that point the portal at them."""
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
                    str(var_dir / "devhub"),
                ],
                env,
            )
        )
        source_dir = var_dir / "demo-source"
        # settings.PORTAL_DEMO_DATA_DIR, for this copy's folder.
        data_dir = var_dir / "demo-data"
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
                    str(data_dir),
                ],
                env,
            )
        )
        ca_bundle = source_dir / "cert.pem"
        self._wait_for(ca_bundle)
        self.stdout.write(
            f"No HF_TOKEN set: publishing to the local dev Hub at {url}. Drop your own data files into "
            f"{data_dir}/: they are served at https://127.0.0.1:{source_port}/<name>. A demo repository "
            f"record: https://127.0.0.1:{source_port}/records/1001 (DOI 10.5072/zenodo.1001)."
        )
        return {
            "HF_ENDPOINT": url,
            "HF_TOKEN": DEVHUB_DEMO_TOKEN,
            "HF_HUB_DISABLE_XET": "1",
            # The demo's hosted datasets are served by the local https source: let fetches reach it.
            "PORTAL_FETCH_ALLOWED_NETWORKS": "127.0.0.1/32",
            "PORTAL_FETCH_CA_BUNDLE": str(ca_bundle),
            "PORTAL_DEMO_DATA_URL": f"https://127.0.0.1:{source_port}/",
            # The same source doubles the repositories: its demo record's DOI resolves offline there.
            "DOI_RESOLVER_URL": f"https://127.0.0.1:{source_port}/doi/",
        }

    def _wait_for(self, path, timeout=30):
        deadline = time.monotonic() + timeout
        while not path.exists() and time.monotonic() < deadline:
            time.sleep(0.2)

    def _wait_for_first_worker(self, var_dir, timeout=30):
        """With the embedded broker, wait until the first worker has declared its control queue.

        kombu's filesystem transport creates an exchange's table empty before it locks and writes it: a
        second worker binding the same exchange in that instant reads the empty file and dies on a
        JSONDecodeError. Starting the second worker once the first one's table is written avoids it.
        """
        if not settings.CELERY_BROKER_URL.startswith("filesystem://"):
            return
        # settings.CELERY_BROKER_TRANSPORT_OPTIONS["control_folder"], for this copy's folder.
        control = var_dir / "broker" / "control"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(table.stat().st_size for table in control.glob("*.pidbox.exchange")):
                return
            time.sleep(0.2)

    def _wait_for_port(self, host, port, process):
        """Wait until the web server accepts connections; False if it exits or does not within a minute."""
        target = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104 - an address to reach
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline and process.poll() is None:
            try:
                socket.create_connection((target, port), timeout=1).close()
                return True
            except OSError:
                time.sleep(0.2)
        return False

    def _start_sign_in_provider(self, base_url, port, env, children):
        """Start devhub.oidc for ORCID and the institution where their settings are not given.

        Returns (the settings that point the portal at it, the lines that tell a newcomer how to sign in).
        """
        fill_orcid = not settings.ORCID_CLIENT_ID
        fill_institution = not (settings.OIDC_ISSUER and settings.OIDC_CLIENT_ID)
        if not (fill_orcid or fill_institution):
            return {}, []
        web_port = base_url.rsplit(":", 1)[1]
        portals = [base_url, f"http://localhost:{web_port}"]
        command = [sys.executable, "-m", "devhub.oidc", "--port", str(port)]
        command += [argument for url in portals for argument in ("--portal", url)]
        command += ["--orcid-client", ":".join(DEMO_ORCID_CLIENT)]
        command += ["--institution-client", ":".join(DEMO_INSTITUTION_CLIENT)]
        provider = self._spawn("demo sign-in provider (OpenID Connect)", command, env)
        children.append(provider)
        if not self._wait_for_port("127.0.0.1", port, provider[1]):
            raise CommandError(f"The demo sign-in provider did not start on port {port}; its error is above.")
        url = f"http://127.0.0.1:{port}"
        demo, lines = {}, []
        if fill_orcid:
            demo.update(
                ORCID_BASE_URL=f"{url}/orcid",
                ORCID_CLIENT_ID=DEMO_ORCID_CLIENT[0],
                ORCID_CLIENT_SECRET=DEMO_ORCID_CLIENT[1],
            )
            lines.append(
                f"Contributors: “Sign in with ORCID” at {base_url}/contribute/ opens the local demo provider; "
                "pick “Ada Okafor” (ORCID iD 0001-0002-1825-0093)."
            )
        if fill_institution:
            demo.update(
                OIDC_ISSUER=f"{url}/institution",
                OIDC_CLIENT_ID=DEMO_INSTITUTION_CLIENT[0],
                OIDC_CLIENT_SECRET=DEMO_INSTITUTION_CLIENT[1],
                OIDC_PROVIDER_NAME=DEMO_INSTITUTION_NAME,
            )
            lines.append(
                f"Curators: “Sign in with {DEMO_INSTITUTION_NAME}” at {base_url}/admin/ and pick “Casey Curator” "
                "(curator@institution.example, in the curators group); “Lee Librarian” is not a curator."
            )
        return demo, lines

    def _start_datacite_double(self, port, env, children):
        """Start devhub.datacite when no DATACITE_* setting is given (never a real prefix: 10.5072 is the test one).

        Returns (the settings that point the portal at it, the lines that tell a newcomer about it).
        """
        configured = (settings.DATACITE_REPOSITORY_ID, settings.DATACITE_PASSWORD, settings.DATACITE_PREFIX)
        if any(configured) or env.get("DATACITE_API_URL"):
            return {}, []
        command = [sys.executable, "-m", "devhub.datacite", "--port", str(port)]
        command += ["--repository-id", DEMO_DATACITE_ACCOUNT[0], "--password", DEMO_DATACITE_ACCOUNT[1]]
        command += ["--prefix", DEMO_DATACITE_PREFIX]
        double = self._spawn("DataCite double", command, env)
        children.append(double)
        if not self._wait_for_port("127.0.0.1", port, double[1]):
            raise CommandError(f"The DataCite double did not start on port {port}; its error is above.")
        settings_for_children = {
            "DATACITE_API_URL": f"http://127.0.0.1:{port}",
            "DATACITE_REPOSITORY_ID": DEMO_DATACITE_ACCOUNT[0],
            "DATACITE_PASSWORD": DEMO_DATACITE_ACCOUNT[1],
            "DATACITE_PREFIX": DEMO_DATACITE_PREFIX,
        }
        line = (
            f"DOIs: a published dataset gets a DOI under DataCite's test prefix {DEMO_DATACITE_PREFIX} from the "
            f"local DataCite double (http://127.0.0.1:{port}/dois/<doi>); test DOIs resolve nowhere."
        )
        return settings_for_children, [line]

    def _spawn(self, name, command, env, stdout=None):
        self.stdout.write(f"Starting the {name}: {' '.join(command[1:])}")
        return name, subprocess.Popen(command, env=env, cwd=settings.BASE_DIR, stdout=stdout)
