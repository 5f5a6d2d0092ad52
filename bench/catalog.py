"""Bench: the catalog's pages at 1,000 and 100,000 datasets on PostgreSQL, cold and warm, against goals.

For each size it seeds a dedicated PostgreSQL database (created and dropped here) and measures, in a child
process with every cache off, the SQL time and the number of queries of each kind of page over the same
randomised URLs (median and maximum; each URL the fastest of three tries, in rounds that alternate the
sizes). At the largest size it then serves the project with gunicorn (2 workers, DEBUG off, the shared
cache in its own Redis db) and loads it with wrk:

- cold: catalog caches off, a cookie on every request, and for every request a new URL from a randomised
  list (words, facets, deep pages, sorts): what a visitor's own search costs. One connection per worker, so
  the p50 is the page's latency, not a queue's.
- warm: caches on, one repeated URL without cookies, 8 connections: requests/s as a ratio to the trivial view.

Timeouts, socket errors and non-2xx answers are counted; a run with any is failed. Every measure prints one
summary line with its goal and verdict; the exit status is 1 when a goal is missed.

    .venv/bin/python bench/catalog.py --sizes 1000,10000 --duration 5     # quick, while developing
    .venv/bin/python bench/catalog.py                                     # 1,000 and 100,000 datasets
"""

import argparse
import csv
import io
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = Path(sys.executable)
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
REDIS_DB = 13  # the bench's own Redis database number (--redis-db); it is emptied before and after
URLS_PER_KIND = 4000  # more than a cold run can request: no URL repeats
SQL_SAMPLES = 30  # URLs per kind whose SQL is timed at every size
# Each URL's SQL is timed this many times, in rounds that alternate the sizes, and its fastest kept: every
# try does the same work (the caches are off, PostgreSQL's buffers hold either catalog), so the spread
# between tries is the shared machine's.
SQL_TRIES = 3
# The row triggers that keep the facet bitmaps and postings (migrations 0010 and 0011), off during a bulk load.
FACET_TRIGGERS = ("catalog_dataset_facet_bitmaps", "catalog_dataset_facet_postings")

GOAL_COLD_P50_MS = 50
GOAL_SQL_GROWTH = 2.0
GOAL_WARM_RATIO = 0.5

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
SORTS = ["newest", "downloads", "likes"]

# Kinds of page: label, and how to make the nth random URL of that kind.
KINDS = {
    "catalog page": lambda rng: "/datasets/",
    "search": lambda rng: "/datasets/?" + urllib.parse.urlencode({"q": " ".join(rng.sample(WORDS, 2))}),
    "facet filter": lambda rng: (
        "/datasets/?"
        + urllib.parse.urlencode(
            [("domain", rng.choice(DOMAINS)), ("modality", rng.choice(["text", "images", "audio", "video"]))]
            + [("language", rng.choice(LANGUAGES))] * rng.randint(0, 1)
            + [("license", rng.choice(LICENSES))] * rng.randint(0, 1)
        )
    ),
    "deep page": lambda rng: (
        "/datasets/?" + urllib.parse.urlencode({"sort": rng.choice(SORTS), "page": rng.randint(10, 50)})
    ),
    "api search": lambda rng: "/api/datasets/?" + urllib.parse.urlencode({"q": rng.choice(WORDS)}),
}
WARM = {
    "catalog page": "/datasets/",
    "search": "/datasets/?q=ocean+temperature",
    "facet filter": "/datasets/?domain=Marine&modality=images&language=fr",
    "deep page": "/datasets/?page=50&sort=downloads",
    "api search": "/api/datasets/?q=ocean",
}


def urls_of(kind):
    """The randomised URLs of a kind of page, the same list at every size (fixed seed per kind)."""
    rng = random.Random(f"bench-{kind}")
    return [KINDS[kind](rng) for _ in range(URLS_PER_KIND)]


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


def bench_environment(*, database, static_root, catalog_cache, redis_db):
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{database}",
        DATABASE_CONN_MAX_AGE="600",
        CACHE_URL=f"redis://127.0.0.1:6379/{redis_db}",
        CATALOG_FACET_CACHE_SECONDS=str(catalog_cache),
        API_ANON_RATE="100000000/minute",  # the bench is one client; it measures pages, not the throttle
        DEBUG="false",
        SECRET_KEY="bench-only-secret-key-" + "x" * 40,
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        SECURE_SSL_REDIRECT="false",
        STATIC_ROOT=str(static_root),
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="portal.settings",
        PYTHONPATH=str(ROOT),
    )
    return env


def seed(size, *, database):
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
                json.dumps(rng.sample(WORDS, 2)),
                summary,
                card,
                "",
                json.dumps([{"path": "data.csv", "size": 1000 + number, "sha256": "0" * 64}]),
                rng.randint(0, 100_000),
                rng.randint(0, 500),
                published,
                published,
                published,
                "{}",
                "[]",
            ]
        )
    buffer.seek(0)
    with psycopg2.connect(dbname=database, **PG) as connection, connection.cursor() as cursor:
        # A bulk load as docs/developing/catalog-search.md describes it: the facet bitmaps and postings are rebuilt once at the end
        # instead of being updated row by row (the row triggers cost a few milliseconds per publication).
        for trigger in FACET_TRIGGERS:
            cursor.execute(f"ALTER TABLE catalog_dataset DISABLE TRIGGER {trigger}")
        cursor.copy_expert(
            "COPY catalog_dataset (slug, name, name_key, repo_id, hosted, source_url, license, domain, "
            "modalities, languages, tags, summary, card, hub_commit, manifest, downloads, likes, published_at, "
            "created_at, updated_at, card_overrides, columns) FROM STDIN WITH (FORMAT csv, FORCE_NOT_NULL (hub_commit))",
            buffer,
        )
    with psycopg2.connect(dbname=database, **PG) as connection, connection.cursor() as cursor:
        for trigger in FACET_TRIGGERS:
            cursor.execute(f"ALTER TABLE catalog_dataset ENABLE TRIGGER {trigger}")
        cursor.execute("SELECT catalog_rebuild_facet_bitmaps()")
    # As autovacuum would soon after a bulk load: statistics, and a visibility map for index-only scans.
    connection = psycopg2.connect(dbname=database, **PG)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    finally:
        connection.close()


def seeded_rows(database):
    """The number of datasets in a database kept by an earlier `--keep` run, or None when there is none."""
    import psycopg2

    try:
        connection = psycopg2.connect(dbname=database, **PG)
    except psycopg2.OperationalError:
        return None
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass('catalog_dataset') IS NOT NULL")
            if not cursor.fetchone()[0]:
                return None
            cursor.execute("SELECT count(*) FROM catalog_dataset")
            return cursor.fetchone()[0]
    finally:
        connection.close()


def prepare(size, *, database, env, reuse=False):
    manage = [str(PYTHON), str(ROOT / "manage.py")]
    kept = reuse and seeded_rows(database) == size
    if not kept:
        recreate_database(database)
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, cwd=ROOT)
    if not Path(env["STATIC_ROOT"]).exists():  # the templates need the static manifest
        subprocess.run([*manage, "collectstatic", "--noinput", "-v0"], env=env, check=True, cwd=ROOT)
    if kept:
        print(f"Reusing the {size:,} datasets kept in {database} (migrated to this code).", flush=True)
        return
    started = time.monotonic()
    seed(size, database=database)
    print(f"Seeded {size:,} published datasets in {time.monotonic() - started:.1f} s.", flush=True)


SQL_SCRIPT = """
import json, sys, time, django
django.setup()
from django.db import connection
from django.test import Client
urls = json.loads(sys.stdin.read())
client = Client()
client.cookies["visitor"] = "bench"  # a visitor's request: never the anonymous page cache
spent = []
def timed(execute, sql, params, many, context):
    # Around the driver's execute, which also fetches the rows (psycopg2's client-side cursors).
    started = time.perf_counter()
    try:
        return execute(sql, params, many, context)
    finally:
        spent.append(time.perf_counter() - started)
result = {}
for kind, paths in urls.items():
    client.get(paths[0])  # the connection and this code path once, untimed
    times, counts, statuses = [], [], set()
    for path in paths:
        spent.clear()
        with connection.execute_wrapper(timed):
            statuses.add(client.get(path).status_code)
        times.append(sum(spent) * 1000)
        counts.append(len(spent))
    result[kind] = {"times": times, "counts": counts, "statuses": sorted(statuses)}
print(json.dumps(result))
"""


def measure_sql_once(env):
    """The SQL time (ms) and query count of every URL of every kind, every cache off, in a child process."""
    urls = {kind: urls_of(kind)[:SQL_SAMPLES] for kind in KINDS}
    child_env = dict(env, CACHE_URL="dummycache://", CATALOG_FACET_CACHE_SECONDS="0")
    done = subprocess.run(
        [str(PYTHON), "-c", SQL_SCRIPT],
        input=json.dumps(urls),
        env=child_env,
        stdout=subprocess.PIPE,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_sql(envs):
    """Per size and kind of page: the median over its URLs of each URL's fastest SQL time, and query counts.

    The sizes take turns, SQL_TRIES rounds of one try per URL, so that a slow moment of the machine falls on
    both sizes alike instead of on whichever was measured then.
    """
    rounds = {size: [] for size in envs}
    for _ in range(SQL_TRIES):
        for size, env in envs.items():
            rounds[size].append(measure_sql_once(env))
    sql = {}
    for size, measured in rounds.items():
        sql[size] = {}
        for kind in KINDS:
            fastest = [min(times) for times in zip(*(one[kind]["times"] for one in measured), strict=True)]
            counts = [n for one in measured for n in one[kind]["counts"]]
            sql[size][kind] = {
                "sql_ms": statistics.median(fastest),
                "sql_max_ms": max(fastest),
                "queries": max(counts),
                "min_queries": min(counts),
                "statuses": sorted({status for one in measured for status in one[kind]["statuses"]}),
            }
    return sql


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


WRK_SCRIPT = """
local paths = {%s}
local counter = 0
local step = 1
function setup(thread)
  thread:set("first", counter)
  counter = counter + 1
end
function init(args)
  step = first
end
function request()
  -- Each of the two threads walks its own half of the list: no URL is requested twice.
  step = step + 2
  return wrk.format("GET", paths[(step %% #paths) + 1], {["Cookie"] = "visitor=bench-" .. step})
end
"""


def run_wrk(url, *, duration, connections, paths=None, temp):
    """Run wrk; return requests/s, p50 in ms, errors (timeouts, socket errors, non-2xx) and requests made."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--timeout", "5s", "--latency"]
    if paths is not None:
        script = temp / "paths.lua"
        script.write_text(WRK_SCRIPT % ",".join(json.dumps(path) for path in paths))
        command += ["-s", str(script)]
    done = subprocess.run([*command, url], capture_output=True, text=True, check=True, timeout=duration + 60)
    out = done.stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    value, unit = re.search(r"50%\s+([\d.]+)(us|ms|s)\b", out).groups()
    p50 = float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors += int(non_2xx.group(1)) if non_2xx else 0
    return {"rate": rate, "p50": p50, "errors": errors, "requests": requests}


QUIET = ["--log-level", "warning"]


def serve(env, *, temp, catalog_cache):
    port = free_port()
    server_env = dict(env, CATALOG_FACET_CACHE_SECONDS=str(catalog_cache))
    server = subprocess.Popen(
        [str(PYTHON.with_name("gunicorn")), "portal.wsgi", "-w", "2", "-b", f"127.0.0.1:{port}", *QUIET],
        env=server_env,
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{port}"
    wait_until_up(base + "/healthz")
    return server, base


def stop(server):
    server.terminate()
    server.wait(timeout=30)


def clear_cache(env):
    import redis

    redis.Redis.from_url(env["CACHE_URL"]).flushdb()  # the bench's own db number only


def load(env, *, duration, temp):
    """Cold and warm wrk runs against gunicorn; returns {kind: {"cold": ..., "warm": ...}, "trivial": ...}."""
    results = {kind: {} for kind in KINDS}
    clear_cache(env)
    server, base = serve(env, temp=temp, catalog_cache=0)
    try:
        for kind in KINDS:  # each worker's connection, once
            for _ in range(2):
                urllib.request.urlopen(base + urls_of(kind)[-1], timeout=60).read()
        for kind in KINDS:
            cold = run_wrk(base, duration=duration, connections=2, paths=urls_of(kind), temp=temp)
            if cold["requests"] > URLS_PER_KIND:
                raise SystemExit(f"{kind}: {cold['requests']} requests repeated URLs; raise URLS_PER_KIND")
            results[kind]["cold"] = cold
    finally:
        stop(server)
    clear_cache(env)
    server, base = serve(env, temp=temp, catalog_cache=60)
    try:
        for path in WARM.values():  # fills the shared cache through one worker; the other must hit it
            urllib.request.urlopen(base + path, timeout=60).read()
        trivial = run_wrk(base + "/healthz", duration=duration, connections=8, temp=temp)
        for kind, path in WARM.items():
            results[kind]["warm"] = run_wrk(base + path, duration=duration, connections=8, temp=temp)
    finally:
        stop(server)
    clear_cache(env)
    return results, trivial


def verdict(ok):
    return "MET" if ok else "MISSED"


def report(sizes, sql, load_results, trivial, *, duration):
    small, large = sizes[0], sizes[-1]
    missed = []

    def line(measure, figure, goal, ok):
        if not ok:
            missed.append(measure)
        print(f"{measure:<40} {figure:<34} goal {goal:<22} {verdict(ok)}")

    print(
        f"\nSQL per page, every cache off, median of {SQL_SAMPLES} randomised URLs, each the fastest of "
        f"{SQL_TRIES} tries (max queries of any)"
    )
    print(f"{'page':<14}" + "".join(f"{f'{size:,} SQL ms':>16}{'queries':>9}" for size in sizes))
    for kind in KINDS:
        cells = "".join(
            f"{sql[size][kind]['sql_ms']:>16.2f}{sql[size][kind]['queries']:>9}" for size in sizes
        )
        print(f"{kind:<14}{cells}")
    if load_results:
        print(f"\nLoad at {large:,} datasets, gunicorn 2 workers, wrk {duration} s per page")
        print(
            f"{'page':<14}{'cold p50 ms':>12}{'cold req/s':>11}{'requests':>9}{'errors':>7}"
            f"{'warm req/s':>11}{'ratio':>7}{'errors':>7}"
        )
        for kind in KINDS:
            cold, warm = load_results[kind]["cold"], load_results[kind]["warm"]
            print(
                f"{kind:<14}{cold['p50']:>12.1f}{cold['rate']:>11.1f}{cold['requests']:>9}{cold['errors']:>7}"
                f"{warm['rate']:>11.1f}{warm['rate'] / trivial['rate']:>7.2f}{warm['errors']:>7}"
            )
        print(
            f"{'trivial view':<14}{'':>12}{'':>11}{'':>9}{'':>7}{trivial['rate']:>11.1f}{1:>7.2f}{trivial['errors']:>7}"
        )

    print("\nSummary")
    for kind in KINDS:
        statuses = {status for size in sizes for status in sql[size][kind]["statuses"]}
        line(f"{kind}: answers", ",".join(map(str, sorted(statuses))), "all 200", statuses == {200})
        fixed = len({sql[size][kind]["queries"] for size in sizes}) == 1
        counts = " / ".join(str(sql[size][kind]["queries"]) for size in sizes)
        line(f"{kind}: queries at {' / '.join(f'{s:,}' for s in sizes)}", counts, "the same", fixed)
        growth = sql[large][kind]["sql_ms"] / max(sql[small][kind]["sql_ms"], 1e-9)
        line(
            f"{kind}: SQL {large:,} / {small:,}",
            f"{sql[large][kind]['sql_ms']:.2f} / {sql[small][kind]['sql_ms']:.2f} ms = {growth:.2f}x",
            f"<= {GOAL_SQL_GROWTH}x",
            growth <= GOAL_SQL_GROWTH,
        )
        if load_results:
            cold, warm = load_results[kind]["cold"], load_results[kind]["warm"]
            line(
                f"{kind}: cold p50 at {large:,}",
                f"{cold['p50']:.1f} ms",
                f"< {GOAL_COLD_P50_MS} ms",
                cold["p50"] < GOAL_COLD_P50_MS,
            )
            line(f"{kind}: cold errors", f"{cold['errors']} of {cold['requests']}", "0", cold["errors"] == 0)
            ratio = warm["rate"] / trivial["rate"]
            line(
                f"{kind}: warm ratio to trivial view",
                f"{ratio:.2f} ({warm['rate']:.0f} req/s)",
                f">= {GOAL_WARM_RATIO}",
                ratio >= GOAL_WARM_RATIO,
            )
            line(f"{kind}: warm errors", f"{warm['errors']} of {warm['requests']}", "0", warm["errors"] == 0)
    if load_results:
        line(
            "trivial view: errors",
            f"{trivial['errors']} of {trivial['requests']}",
            "0",
            trivial["errors"] == 0,
        )
    print(
        f"\n{'FAILED' if missed else 'PASSED'}: {len(missed)} goal(s) missed"
        + (f": {', '.join(missed)}" if missed else "")
    )
    return not missed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="1000,100000", help="comma-separated catalog sizes; load at the last"
    )
    parser.add_argument("--size", type=int, help="one size only (SQL and load at it, no growth comparison)")
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per page and phase")
    parser.add_argument("--database", default="portal_bench", help="prefix of the databases created here")
    parser.add_argument("--redis-db", type=int, default=REDIS_DB, help="Redis db for the shared cache")
    parser.add_argument("--no-load", action="store_true", help="only the SQL measures, no gunicorn/wrk")
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="use databases kept by --keep when they hold the same number of rows",
    )
    args = parser.parse_args()
    sizes = [args.size] if args.size else sorted(int(size) for size in args.sizes.split(","))

    load_results, trivial = None, None
    with tempfile.TemporaryDirectory(prefix="bench-catalog-") as temp:
        temp = Path(temp)
        envs = {}
        try:
            for size in sizes:
                envs[size] = bench_environment(
                    database=f"{args.database}_{size}",
                    static_root=temp / "static",
                    catalog_cache=0,
                    redis_db=args.redis_db,
                )
                prepare(size, database=f"{args.database}_{size}", env=envs[size], reuse=args.reuse)
            sql = measure_sql(envs)
            if not args.no_load:
                load_results, trivial = load(envs[sizes[-1]], duration=args.duration, temp=temp)
        finally:
            if not args.keep:
                for size in envs:
                    drop_database(f"{args.database}_{size}")
    ok = report(sizes, sql, load_results, trivial, duration=args.duration)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
