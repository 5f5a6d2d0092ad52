"""Bench: the curators' review queue at 10,000 submissions, against the admin's own user list page.

Claim (docs/developing/design.md, "Quality bars"): the review queue renders in a fixed number of SQL queries per page whatever
the number of submissions. This script seeds 10,000 submissions (bulk rows: the queue reads only the
submission rows), then requests the queue page and `/admin/auth/user/` side by side with Django's test client,
several rounds, and prints the queries per page and the median page time of the queue relative to the user
list. It must not be pointed at a database holding real data: it creates and drops its own test database.

Usage:  .venv/bin/python bench/review_queue.py [--rows 10000] [--rounds 15]
        DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench .venv/bin/python bench/review_queue.py
Without DATABASE_URL a temporary SQLite file is used.
"""

import argparse
import datetime
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def configure():
    """Point Django at a throwaway database before it is set up."""
    if not os.environ.get("DATABASE_URL"):
        folder = tempfile.mkdtemp(prefix="bench-review-queue-")
        os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("PORTAL_VAR_DIR", tempfile.mkdtemp(prefix="bench-var-"))
    import django

    django.setup()


def seed(rows, *, curator):
    """Insert `rows` submissions in bulk, in every open state, a third of them assigned."""
    from django.utils import timezone

    from submissions.models import Domain, Submission, TermsVersion, fold_name

    states = [
        Submission.State.SUBMITTED,
        Submission.State.IN_REVIEW,
        Submission.State.CHANGES_REQUESTED,
        Submission.State.APPROVED,
    ]
    terms = TermsVersion.current()
    domains = list(Domain.objects.all())
    now = timezone.now()
    batch = []
    for n in range(rows):
        name = f"Benchmark dataset {n}"
        batch.append(
            Submission(
                reference=f"DP-2025-{n + 1:06d}",
                name=name,
                name_key=fold_name(name),
                location=f"https://data.example.org/{n}/data.csv",
                modalities="images,text",
                domain=domains[n % len(domains)],
                contact_email=f"person{n % 900}@example.org",
                terms_version=terms,
                terms_accepted_at=now,
                state=states[n % len(states)],
                state_changed_at=now - datetime.timedelta(minutes=n),
                assignee=curator if n % 3 == 0 else None,
                check_summary=("pass", "warn", "fail")[n % 3],
            )
        )
    Submission.objects.bulk_create(batch, batch_size=1000)


def seed_users(count):
    """Add users so that the user list also shows a full page."""
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    user_model.objects.bulk_create(
        [user_model(username=f"bench-user-{n}", email=f"u{n}@example.org") for n in range(count)],
        batch_size=1000,
    )


def measure(client, url, *, rounds):
    """Return (queries per request, median seconds) of GET `url`, after one warm-up request."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    # Read now: the next request's `request_started` signal empties the connection's query log.
    queries = len(captured.captured_queries)
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        response = client.get(url)
        timings.append(time.perf_counter() - started)
        assert response.status_code == 200
    return queries, statistics.median(timings)


def main():
    """Seed, measure side by side, print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    configure()

    from django.conf import settings
    from django.test import Client
    from django.test.utils import get_runner, setup_test_environment

    setup_test_environment()
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    # As Django's TestCase does: keep one connection, so queries can be counted and no page pays a reconnect.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    settings.ALLOWED_HOSTS = ["testserver"]
    runner = get_runner(settings)(verbosity=0, interactive=False)
    old_config = runner.setup_databases()
    try:
        from django.contrib.auth import get_user_model

        from submissions.curators import make_curator

        curator = make_curator(get_user_model().objects.create_user(username="bench-curator", password="x"))
        client = Client()
        client.force_login(curator)
        queue_url = "/admin/submissions/submission/"
        seed(10, curator=curator)
        small_queries, _ = measure(client, queue_url, rounds=1)
        from submissions.models import Submission

        Submission.objects.all().delete()
        seed(args.rows, curator=curator)
        seed_users(200)
        superuser = get_user_model().objects.create_superuser(username="bench-admin", password="x")
        admin_client = Client()
        admin_client.force_login(superuser)
        results = {}
        # Interleave the two pages round by round so that machine load affects both alike.
        for _ in range(3):
            for name, page_client, url in (
                ("queue", client, queue_url),
                ("users", admin_client, "/admin/auth/user/"),
            ):
                queries, seconds = measure(page_client, url, rounds=args.rounds)
                results.setdefault(name, {"queries": queries, "times": []})["times"].append(seconds)
        queue_time = statistics.median(results["queue"]["times"])
        users_time = statistics.median(results["users"]["times"])
        engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
        print(
            f"database: {engine}; submissions: {args.rows:,} (and 10 for the small run); rounds: {args.rounds}x3"
        )
        print(
            f"review queue queries per page: {small_queries} at 10 rows, {results['queue']['queries']} at {args.rows:,}"
        )
        print(f"admin user list queries per page: {results['users']['queries']}")
        print(f"review queue median page time: {queue_time * 1000:.1f} ms")
        print(f"admin user list median page time: {users_time * 1000:.1f} ms")
        print(f"queue time / user list time: {queue_time / users_time:.2f}")
        print(f"queries fixed: {'yes' if small_queries == results['queue']['queries'] else 'NO'}")
    finally:
        runner.teardown_databases(old_config)


if __name__ == "__main__":
    main()
