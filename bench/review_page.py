"""Bench: a submission's review page with a manifest of 10,000 files.

Claim (docs/developing/design.md, "Quality bars"; issue 20): the review page of a 10,000-file manifest renders
in under 300 ms, in the same number of SQL queries as with 100 files. This script makes one submission through
the services (a card, its checks' rows), gives it a repository record and 10,000 manifest rows, then requests
its review page as a signed-in curator with Django's test client: first the newest-first file order, then
sorted by size (both directions) and the last page, each several rounds. The first request of each URL is
reported apart (cold: a query plan, a template not yet compiled in this process); the median of the rest is
what a curator meets when paging. It prints the queries at 100 and 10,000 files, the times, and the verdict.

Usage:  .venv/bin/python bench/review_page.py [--files 10000] [--rounds 15]
        DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench .venv/bin/python bench/review_page.py
Without DATABASE_URL a temporary SQLite file is used. It creates and drops its own test database.
"""

import argparse
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.review_queue import configure  # noqa: E402 (after the project root is on the path)

GOAL_MS = 300


def make_submission(curator):
    """Return a submission in review, made through the services (checks left as they ran offline)."""
    from django.test import TestCase

    from submissions import cards, services
    from submissions.models import Domain, TermsVersion

    raw = (ROOT / "submissions" / "demo" / "harbour-water-quality.md").read_bytes()
    with TestCase.captureOnCommitCallbacks(execute=False):
        submission, _ = services.submit(
            submission_key=uuid.uuid4(),
            name="Bench record of many files",
            location="https://data.example.org/records/1",
            hosting_wanted=True,
            card=cards.parse_card(raw, filename="README.md"),
            card_raw=raw,
            card_filename="README.md",
            modalities=["text"],
            domain=Domain.objects.get(name="Marine"),
            suggested_domain="",
            contact_email="bench@example.org",
            terms=TermsVersion.current(),
        )
        services.confirm(submission)
        services.claim(submission, by=curator)
    return submission


def seed_manifest(submission, files):
    """Replace the submission's manifest with a record of `files` files in three splits."""
    from submissions.models import ManifestFile, SourceRecord

    ManifestFile.objects.filter(submission=submission).delete()
    SourceRecord.objects.filter(submission=submission).delete()
    record = SourceRecord.objects.create(
        submission=submission,
        position=0,
        location="https://data.example.org/records/1",
        family="invenio",
        landing_url="https://data.example.org/records/1",
        api_url="https://data.example.org/api/records/1",
        doi="10.5072/bench.1",
        title="Bench record",
        creators=[{"name": "Doe, Jane", "orcid": "0000-0002-1825-0097", "affiliation": ""}],
        license="cc-by-4.0",
        license_name="CC BY 4.0",
        keywords=["bench"],
    )
    splits = ("train", "validation", "test")
    ManifestFile.objects.bulk_create(
        [
            ManifestFile(
                submission=submission,
                record=record,
                position=n,
                path=f"{splits[n % 3]}/shard-{n:06d}.parquet",
                source_url=f"https://data.example.org/api/records/1/files/shard-{n:06d}.parquet/content",
                size=1_000_000 + (n * 7919) % 5_000_000,
                checksums={"md5": f"{n:032x}"},
                checksums_from={"md5": "record"},
                split=splits[n % 3],
            )
            for n in range(files)
        ],
        batch_size=2000,
    )


def measure(client, url, *, rounds):
    """Return (queries, first request's seconds, median seconds of the next `rounds`)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    started = time.perf_counter()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    first = time.perf_counter() - started
    assert response.status_code == 200, (url, response.status_code)
    queries = len(captured.captured_queries)
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        response = client.get(url)
        timings.append(time.perf_counter() - started)
    return queries, first, statistics.median(timings)


def main():
    """Seed, measure, print the verdict."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    configure()

    from django.conf import settings
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections
    from django.test import Client
    from django.test.utils import get_runner, setup_test_environment

    setup_test_environment()
    # As Django's TestCase does: one connection, so queries can be counted and no page pays a reconnect.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    settings.ALLOWED_HOSTS = ["testserver"]
    # force_login has no client address, which django-axes would log as "unknown" (refused by PostgreSQL's inet).
    settings.AXES_ENABLED = False
    runner = get_runner(settings)(verbosity=0, interactive=False)
    old_config = runner.setup_databases()
    try:
        from django.contrib.auth import get_user_model

        from submissions.curators import make_curator

        curator = make_curator(get_user_model().objects.create_user(username="bench-curator", password="x"))
        client = Client()
        client.force_login(curator)
        submission = make_submission(curator)
        url = f"/admin/submissions/submission/{submission.pk}/change/"
        seed_manifest(submission, 100)
        small_queries, _, _ = measure(client, url, rounds=1)
        seed_manifest(submission, args.files)
        pages = 1 + (args.files - 1) // 200
        rows = {}
        for label, query in (
            ("first page, path order", ""),
            ("largest files first", "?files_order=-size"),
            ("smallest files first", "?files_order=size"),
            (f"last page ({pages})", f"?files_page={pages}"),
        ):
            rows[label] = measure(client, url + query, rounds=args.rounds)
        engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
        print(
            f"database: {engine}; manifest: {args.files:,} files (and 100 for the query count); rounds: {args.rounds}"
        )
        print(f"{'page':<28} {'queries':>8} {'first (cold)':>14} {'median':>10}")
        for label, (queries, first, median) in rows.items():
            print(f"{label:<28} {queries:>8} {first * 1000:>11.1f} ms {median * 1000:>7.1f} ms")
        worst = max(max(first, median) for _queries, first, median in rows.values())
        fixed = all(queries == small_queries for queries, _first, _median in rows.values())
        print(
            f"queries at 100 files: {small_queries}; the same at {args.files:,}: {'yes' if fixed else 'NO'}"
        )
        met = worst * 1000 < GOAL_MS and fixed
        print(
            f"slowest page {worst * 1000:.1f} ms (cold included), goal < {GOAL_MS} ms and a fixed query count: "
            f"{'MET' if met else 'MISSED'}"
        )
        sys.exit(0 if met else 1)
    finally:
        runner.teardown_databases(old_config)


if __name__ == "__main__":
    main()
