"""Latency under load: the contribution form's POST and the catalog page, as ratios to a trivial view.

Runs the production stack of `make prod-smoke` (gunicorn with 3 workers, both Celery workers, beat, Redis,
PostgreSQL, DEBUG off), then for each kind of request keeps `--concurrency` clients busy for `--requests`
requests and records each latency: the trivial view (`/healthz`), the catalog page (`/datasets/`, no
cookie, so the shared cache serves repeats) and the form POST (a fresh submission each, card included;
the form's GET that fetches the CSRF token is not timed). Rate limits are off: all clients share one address.
Prints p50 and p95 of each and their ratios to the trivial view's (the goal: POST p95 within 5x).
"""

import argparse
import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ops.prod_smoke import Stack, field, start

CARD = b"---\nlicense: cc-by-4.0\nlanguage:\n- en\npretty_name: Load buoys\n---\n\n# Load buoys\n\nHourly buoy temperatures.\n"


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def run(concurrency, count, one):
    """Call `one(number)` `count` times from `concurrency` threads; return the latencies in ms."""
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return list(pool.map(one, range(count)))


def timed_get(url):
    def one(_number):
        started = time.perf_counter()
        response = requests.get(url, timeout=60)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"GET {url} answered {response.status_code}")
        return elapsed

    return one


def timed_post(portal, domain):
    def one(number):
        session = requests.Session()
        page = session.get(f"{portal}/contribute/", timeout=60).text
        data = {
            "csrfmiddlewaretoken": field(page, "csrfmiddlewaretoken"),
            "submission_key": str(uuid.uuid4()),
            "name": f"Load buoys {number} {uuid.uuid4().hex[:8]}",
            "location": f"https://data.example.org/load/{uuid.uuid4().hex}.csv",
            "hosting_wanted": "on",
            "modalities": "text",
            "domain": domain,
            "contact_email": f"load{number}@example.org",
            "accept_terms": "on",
        }
        started = time.perf_counter()
        response = session.post(
            f"{portal}/contribute/",
            data=data,
            files={"card": ("README.md", CARD, "text/markdown")},
            allow_redirects=False,
            timeout=60,
        )
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 302:
            raise SystemExit(f"POST /contribute/ answered {response.status_code}")
        return elapsed

    return one


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--requests", type=int, default=1000, help="requests of each kind")
    args = parser.parse_args()
    stack = Stack(Path(tempfile.mkdtemp(prefix="portal-load-")))
    try:
        portal, _hub, _source = start(stack, RATELIMIT_ENABLE="false")
        page = requests.get(f"{portal}/contribute/", timeout=10).text
        domain = re.search(r'<option value="(\d+)"[^>]*>\s*Marine\s*</option>', page).group(1)
        kinds = {
            "trivial view (/healthz)": timed_get(f"{portal}/healthz"),
            "catalog page (/datasets/)": timed_get(f"{portal}/datasets/"),
            "form POST (/contribute/)": timed_post(portal, domain),
        }
        results = {}
        for name, one in kinds.items():
            run(args.concurrency, args.concurrency, one)  # warm up
            results[name] = run(args.concurrency, args.requests, one)
    finally:
        stack.stop()
        shutil.rmtree(stack.folder, ignore_errors=True)
    base50 = statistics.median(results["trivial view (/healthz)"])
    base95 = percentile(results["trivial view (/healthz)"], 0.95)
    print(f"{args.concurrency} concurrent clients, {args.requests} requests of each kind (ms):")
    for name, values in results.items():
        p50, p95 = statistics.median(values), percentile(values, 0.95)
        print(
            f"  {name:28} p50 {p50:8.1f}  p95 {p95:8.1f}   ratio p50 {p50 / base50:5.1f}x  p95 {p95 / base95:5.1f}x"
        )
    post95 = percentile(results["form POST (/contribute/)"], 0.95)
    met = post95 <= 5 * base95
    print(
        f"form POST p95 is {post95 / base95:.1f}x the trivial view's p95: {'meets' if met else 'misses'} the 5x goal"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
