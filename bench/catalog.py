"""Bench: catalog list, search and facet pages against a trivial view of the same project, side by side.

Seeds N published datasets (default 100,000) into a dedicated PostgreSQL database (created and dropped here),
serves the project with gunicorn (2 workers, DEBUG off) on 127.0.0.1, loads each page with wrk for the same
time, and prints requests/s as a ratio to the trivial view (`/healthz`; goal >= 0.5) and the SQL queries each
page makes (counted in-process with CaptureQueriesContext against the same database).

The facet counts are cached per query for CATALOG_FACET_CACHE_SECONDS (60 s by default); wrk repeats one URL,
so the cached run measures a warm cache. `--facet-cache 0` measures every request doing all its queries.

    .venv/bin/python bench/catalog.py --size 2000 --duration 5
    .venv/bin/python bench/catalog.py                     # 100,000 datasets
"""

import argparse
import csv
import io
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = Path(sys.executable)
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}

PAGES = [
    ("trivial view", "/healthz"),
    ("catalog page", "/datasets/"),
    ("search", "/datasets/?q=ocean+temperature"),
    ("facet filter", "/datasets/?domain=Marine&modality=images&language=fr"),
    ("catalog page 50", "/datasets/?page=50&sort=downloads"),
]

DOMAINS = [
    "Climate",
    "Marine",
    "Materials",
    "Semiconductors",
    "Time series",
    "Finance",
    "Healthcare",
    "Legal",
]
MODALITIES = ["text", "images", "audio", "video", "images,text", "audio,text"]
LICENSES = ["cc-by-4.0", "cc0-1.0", "mit", "apache-2.0", "cc-by-sa-4.0", "cdla-permissive-2.0"]
LANGUAGES = ["en", "fr", "de", "nl", "sv", "es", "it", "pt"]
WORDS = [
    "ocean",
    "temperature",
    "salinity",
    "glacier",
    "wafer",
    "defect",
    "court",
    "ruling",
    "bird",
    "song",
    "harbour",
    "tide",
    "wave",
    "archive",
    "museum",
    "photograph",
    "letter",
    "sensor",
    "buoy",
    "forecast",
    "price",
    "market",
    "patient",
    "scan",
    "speech",
    "transcript",
]


def admin_connection():
    import psycopg2

    connection = psycopg2.connect(dbname="postgres", **PG)
    connection.autocommit = True
    return connection


def recreate_database(name):
    drop_database(name)
    connection = admin_connection()
    try:
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
    finally:
        connection.close()


def drop_database(name):
    # Not `with connection:` — psycopg2 would open a transaction, and DROP DATABASE refuses to run in one.
    connection = admin_connection()
    try:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        connection.close()


def bench_environment(*, database, static_root, settings_dir, facet_cache):
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{database}",
        DATABASE_CONN_MAX_AGE="600",
        DEBUG="false",
        SECRET_KEY="bench-only-secret-key-" + "x" * 40,
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        SECURE_SSL_REDIRECT="false",
        STATIC_ROOT=str(static_root),
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="bench_catalog_settings",
        BENCH_FACET_CACHE=str(facet_cache),
        PYTHONPATH=os.pathsep.join([str(settings_dir), str(ROOT)]),
    )
    return env


def write_settings(settings_dir):
    # The portal's settings plus the one knob the bench varies; the portal's settings file is not touched.
    (settings_dir / "bench_catalog_settings.py").write_text(
        "import os\nfrom portal.settings import *  # noqa: F403\n"
        "CATALOG_FACET_CACHE_SECONDS = int(os.environ['BENCH_FACET_CACHE'])\n"
    )


def seed(size, *, env):
    """COPY `size` published datasets; the trigger of migration 0002 fills the search column per row."""
    import psycopg2

    rng = random.Random(6)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    now = time.time()
    for number in range(size):
        words = rng.sample(WORDS, 3)
        name = f"{words[0].title()} {words[1]} {words[2]} {number}"
        slug = f"bench-{number}"
        tags = rng.sample(WORDS, 2)
        summary = f"{' '.join(rng.sample(WORDS, 8))} measured by station {number % 500}."
        card = f"---\nlicense: cc-by-4.0\n---\n\n# {name}\n\n{summary}\n\n## Uses\n\n{' '.join(rng.sample(WORDS, 12))}.\n"
        published = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(now - number * 60))
        writer.writerow(
            [
                slug,
                name,
                re.sub(r"\W+", "", name.lower()),
                f"dataset-portal/{slug}",
                rng.random() < 0.7,
                f"https://data.example.org/{slug}.zip",
                rng.choice(LICENSES),
                rng.choice(DOMAINS),
                rng.choice(MODALITIES),
                json.dumps(rng.sample(LANGUAGES, rng.randint(0, 2))),
                json.dumps(tags),
                summary,
                card,
                "",
                json.dumps([{"path": "data.csv", "size": 1000 + number, "sha256": "0" * 64}]),
                rng.randint(0, 100_000),
                rng.randint(0, 500),
                published,
                published,
                published,
            ]
        )
    buffer.seek(0)
    database = env["DATABASE_URL"].rsplit("/", 1)[1]
    with psycopg2.connect(dbname=database, **PG) as connection, connection.cursor() as cursor:
        cursor.copy_expert(
            "COPY catalog_dataset (slug, name, name_key, repo_id, hosted, source_url, license, domain, "
            "modalities, languages, tags, summary, card, hub_commit, manifest, downloads, likes, published_at, "
            "created_at, updated_at) FROM STDIN WITH (FORMAT csv, FORCE_NOT_NULL (hub_commit))",
            buffer,
        )
    # As autovacuum would soon after a bulk load: statistics, and a visibility map for index-only scans.
    connection = psycopg2.connect(dbname=database, **PG)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE catalog_dataset")
    finally:
        connection.close()


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(url, *, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"gunicorn did not answer at {url}")


def run_wrk(url, *, duration):
    done = subprocess.run(
        ["wrk", "-t2", "-c8", f"-d{duration}s", url],
        capture_output=True,
        text=True,
        check=True,
        timeout=duration + 60,
    )
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", done.stdout).group(1))
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", done.stdout)
    return rate, int(errors.group(1)) if errors else 0


def count_queries(env):
    """Count each page's SQL queries in a child process configured exactly like the served project."""
    script = (
        "import json, django\n"
        "django.setup()\n"
        "from django.db import connection\n"
        "from django.test import Client\n"
        "from django.test.utils import CaptureQueriesContext\n"
        f"pages = {[path for _, path in PAGES]!r}\n"
        "client, counts = Client(), {}\n"
        "for path in pages:\n"
        "    with CaptureQueriesContext(connection) as queries:\n"
        "        status = client.get(path).status_code\n"
        "    counts[path] = (status, len(queries))\n"
        "print(json.dumps(counts))\n"
    )
    done = subprocess.run(
        [str(PYTHON), "-c", script], env=env, capture_output=True, text=True, check=True, cwd=ROOT
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000, help="published datasets to seed")
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per page")
    parser.add_argument("--database", default="portal_bench")
    parser.add_argument("--facet-cache", type=int, default=60, help="CATALOG_FACET_CACHE_SECONDS for the run")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-catalog-") as temp:
        temp = Path(temp)
        write_settings(temp)
        env = bench_environment(
            database=args.database,
            static_root=temp / "static",
            settings_dir=temp,
            facet_cache=args.facet_cache,
        )
        recreate_database(args.database)
        server = None
        try:
            manage = [str(PYTHON), str(ROOT / "manage.py")]
            subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, cwd=ROOT)
            subprocess.run([*manage, "collectstatic", "--noinput", "-v0"], env=env, check=True, cwd=ROOT)
            started = time.monotonic()
            seed(args.size, env=env)
            print(f"Seeded {args.size} published datasets in {time.monotonic() - started:.1f} s.")
            counts = count_queries(env)

            port = free_port()
            server = subprocess.Popen(
                [
                    str(PYTHON.with_name("gunicorn")),
                    "portal.wsgi",
                    "-w",
                    "2",
                    "-b",
                    f"127.0.0.1:{port}",
                    "--log-level",
                    "warning",
                ],
                env=env,
                cwd=ROOT,
            )
            base = f"http://127.0.0.1:{port}"
            wait_until_up(base + "/healthz")
            for _, path in PAGES:  # warm each worker's connection and caches
                urllib.request.urlopen(base + path, timeout=60).read()
            results = {path: run_wrk(base + path, duration=args.duration) for _, path in PAGES}
        finally:
            if server is not None:
                server.terminate()
                server.wait(timeout=30)
            if not args.keep:
                drop_database(args.database)

    trivial = results["/healthz"][0]
    print(
        f"\n{args.size} datasets, gunicorn 2 workers, wrk -t2 -c8 -d{args.duration}s, facet cache {args.facet_cache} s"
    )
    print(f"{'page':<16} {'req/s':>9} {'ratio':>7} {'queries':>8} {'errors':>7}  path")
    for label, path in PAGES:
        rate, errors = results[path]
        status, queries = counts[path]
        flag = "" if status == 200 else f" (status {status})"
        print(f"{label:<16} {rate:>9.1f} {rate / trivial:>7.2f} {queries:>8} {errors:>7}  {path}{flag}")


if __name__ == "__main__":
    main()
