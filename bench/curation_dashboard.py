"""Bench: the curation dashboard (and the daily digest's query) at 10,000 submissions.

Claim (issue 23): the dashboard's figures are computed in SQL in a constant number of queries whatever the
number of submissions. This script seeds 10 submissions, then 10,000 (bulk rows, each with a timeline of
a confirmation, a curator's first answer and, for most, a decision, spread over the last 16 weeks), and
requests the dashboard with Django's test client. It prints the queries per page at both sizes and the
page's time measured cold: the first request on a new database connection after seeding (no Django
cache, no prepared statement; PostgreSQL's shared buffers still hold what seeding wrote, which a restart
of the server would drop), then the median of warm requests. It also times the digest's one query set.
It must not be pointed at a database holding real data: it creates and drops its own test database.

Usage:  .venv/bin/python bench/curation_dashboard.py [--rows 10000] [--rounds 5]
        DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench .venv/bin/python bench/curation_dashboard.py
Without DATABASE_URL a temporary SQLite file is used. Exits 1 when the query count grows with the rows.
"""

import argparse
import datetime
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DASHBOARD = "/admin/submissions/submission/dashboard/"


def configure():
    """Point Django at a throwaway database before it is set up."""
    if not os.environ.get("DATABASE_URL"):
        folder = tempfile.mkdtemp(prefix="bench-dashboard-")
        os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("PORTAL_VAR_DIR", tempfile.mkdtemp(prefix="bench-var-"))
    # The test client's sign-in has no client address, which django-axes' log can't store on PostgreSQL.
    os.environ.setdefault("AXES_ENABLED", "false")
    import django

    django.setup()


def seed(rows, *, curators, seed_value=23):
    """Insert `rows` submissions with their timelines in bulk, across every state and the last 16 weeks."""
    from django.utils import timezone

    from submissions.models import Domain, Event, Submission, TermsVersion, fold_name

    State = Submission.State
    states = [
        State.SUBMITTED,
        State.IN_REVIEW,
        State.CHANGES_REQUESTED,
        State.APPROVED,
        State.MIRROR_FAILED,
        State.PUBLISHED,
        State.PUBLISHED,
        State.REJECTED,
        State.WITHDRAWN,
    ]
    decisions = {
        State.CHANGES_REQUESTED,
        State.APPROVED,
        State.MIRROR_FAILED,
        State.PUBLISHED,
        State.REJECTED,
    }
    rng = random.Random(seed_value)
    terms = TermsVersion.current()
    domains = list(Domain.objects.all())
    now = timezone.now()
    start = Submission.objects.count()
    submissions, timelines = [], []
    for n in range(start, start + rows):
        state = states[n % len(states)]
        confirmed_at = now - datetime.timedelta(minutes=rng.randrange(10, 16 * 7 * 24 * 60))
        answered = confirmed_at + datetime.timedelta(minutes=rng.randrange(5, 6 * 24 * 60))
        decided = answered + datetime.timedelta(minutes=rng.randrange(5, 10 * 24 * 60))
        curator = curators[n % len(curators)]
        name = f"Benchmark dataset {n}"
        submissions.append(
            Submission(
                reference=f"DP-2025-{n + 1:06d}",
                name=name,
                name_key=fold_name(name),
                location=f"https://data.example.org/{n}/data.csv",
                modalities="text",
                domain=domains[n % len(domains)],
                contact_email=f"person{n % 900}@example.org",
                terms_version=terms,
                terms_accepted_at=confirmed_at,
                state=state,
                state_changed_at=min(now, decided if state in decisions else answered),
                confirmed_at=confirmed_at,
                assignee=curator if state not in (State.SUBMITTED, State.WITHDRAWN) else None,
                spam=state == State.REJECTED and n % 4 == 0,
            )
        )
        timelines.append((confirmed_at, answered, decided if state in decisions else None, state, curator))
    created = Submission.objects.bulk_create(submissions, batch_size=1000)
    events, moments = [], []
    for submission, (confirmed_at, answered, decided, state, curator) in zip(created, timelines, strict=True):
        events.append(
            Event(submission=submission, kind="state_change", actor_kind="contributor", to_state="submitted")
        )
        moments.append(confirmed_at)
        events.append(
            Event(submission=submission, kind="message", actor_kind="curator", actor=curator, message="Hi")
        )
        moments.append(answered)
        if decided is not None:
            to_state = State.APPROVED if state in (State.MIRROR_FAILED, State.PUBLISHED) else state
            events.append(
                Event(
                    submission=submission,
                    kind="state_change",
                    actor_kind="curator",
                    actor=curator,
                    to_state=to_state,
                )
            )
            moments.append(decided)
    made = Event.objects.bulk_create(events, batch_size=2000)
    # created_at is set on insert (auto_now_add): move each event to its moment afterwards.
    for event, moment in zip(made, moments, strict=True):
        event.created_at = moment
    Event.objects.bulk_update(made, ["created_at"], batch_size=2000)


def measure(client, url, *, rounds):
    """Return (queries, cold seconds, median warm seconds) of GET `url`; the first request is on a new connection."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    connection.close()
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        response = client.get(url)
        cold = time.perf_counter() - started
    assert response.status_code == 200, (url, response.status_code)
    # Only the page's own queries: the session and the user are read before the view, as for every page.
    queries = len(captured.captured_queries)
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        assert client.get(url).status_code == 200
        timings.append(time.perf_counter() - started)
    return queries, cold, statistics.median(timings)


def time_digest():
    """Return (queries, seconds) of building every curator's digest once."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from submissions import selectors

    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        digests = selectors.curator_digests()
        seconds = time.perf_counter() - started
    assert digests
    return len(captured.captured_queries), seconds


def main():
    """Seed, measure at both sizes, print the figures; exit 1 if the query count grows."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    configure()

    from django.conf import settings
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections
    from django.test import Client
    from django.test.utils import get_runner, setup_test_environment

    setup_test_environment()
    # As Django's TestCase does: keep one connection between requests, so queries can be counted.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    settings.ALLOWED_HOSTS = ["testserver"]
    runner = get_runner(settings)(verbosity=0, interactive=False)
    old_config = runner.setup_databases()
    try:
        from django.contrib.auth import get_user_model

        from submissions.curators import make_curator

        users = get_user_model()
        curators = [
            make_curator(
                users.objects.create_user(username=f"curator{n}", email=f"c{n}@example.org", password="x")
            )
            for n in range(6)
        ]
        client = Client()
        client.force_login(curators[0])
        client.get(DASHBOARD)  # content types, permissions: what any first page of a process reads once
        seed(10, curators=curators)
        small_queries, small_cold, small_warm = measure(client, DASHBOARD, rounds=args.rounds)
        small_digest_queries, _ = time_digest()
        seed(args.rows - 10, curators=curators)
        queries, cold, warm = measure(client, DASHBOARD, rounds=args.rounds)
        digest_queries, digest_seconds = time_digest()
        engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
        print(
            f"database: {engine}; submissions: {args.rows:,} (and 10 for the small run); warm rounds: {args.rounds}"
        )
        print(f"dashboard queries per page: {small_queries} at 10 rows, {queries} at {args.rows:,}")
        print(
            f"dashboard cold page time: {small_cold * 1000:.1f} ms at 10 rows, {cold * 1000:.1f} ms at {args.rows:,}"
        )
        print(
            f"dashboard warm median page time: {small_warm * 1000:.1f} ms at 10 rows, {warm * 1000:.1f} ms at {args.rows:,}"
        )
        print(
            f"digest queries (all curators): {small_digest_queries} at 10 rows, {digest_queries} at {args.rows:,}; "
            f"{digest_seconds * 1000:.1f} ms"
        )
        fixed = small_queries == queries and small_digest_queries == digest_queries
        print(f"queries fixed: {'yes' if fixed else 'NO'}")
    finally:
        runner.teardown_databases(old_config)
    sys.exit(0 if fixed else 1)


if __name__ == "__main__":
    main()
