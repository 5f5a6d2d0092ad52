"""Mirroring throughput and memory, measured side by side in one run, against goals.

For each size (default 64 MiB and 1 GiB) this script serves generated files from a local https source and
publishes two of them to the project's dev Hub through the real mirroring task (`catalog.mirror.run`, in a
child process): one from a source that sends no digest (the common case: the mirror must receive and hash
the whole file before the Hub lets it upload), and one from a source that announces the file's SHA-256
(`Repr-Digest`, RFC 9530: the mirror uploads while it downloads and checks the digest as the bytes pass).
Side by side it copies other bytes between the same two servers with a plain streaming GET-to-PUT (given
the SHA-256 in advance), and a hash-first copy that, like any Git LFS client without a digest, must hash
the bytes before it may upload them. Every run uses bytes the Hub has never seen (a new seed per file), and
the Hub's request log must show each mirror's own LFS upload of its bytes, answered 200: a mirror whose
upload was skipped as "already stored" fails the run. Each measure starts with the disk's dirty pages
written out (`sync`), so that no measure pays for the writes of the one before.

Then a record of many small files (default 1,000 files of 1 MiB, from the repository double of
devhub/repositories.py through the real resolvers) is mirrored the same way: its location check builds the
manifest, and one worker process runs the job, batch after batch. Side by side a plain copy sends other
bytes of the same sizes, file after file, from the same double to the same Hub over kept-alive connections
(given each SHA-256). The Hub's log must show each of the mirror's files uploaded once.

It prints one summary line per measure with its goal and verdict, and exits 1 when a goal is missed:
each mirror's throughput at least 0.8x the plain copy's at sizes of 1 GiB and more, and the mirroring
process's peak RSS under 150 MiB at every size; for the record of many files, at most 10 commits, at least
0.5x the plain copy's throughput, peak RSS under 150 MiB.

    .venv/bin/python bench/mirror.py [--sizes 64,1024,5120] [--repeat 1] [--record-files 1000] [--record-file-mib 1]

`--sizes 0` skips the single files; `--record-files 0` skips the record.

It uses a temporary SQLite database and folder; nothing else is touched.
"""

import argparse
import base64
import itertools
import json
import os
import sys
import tempfile
import time
import typing
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.children import run_child  # noqa: E402 (after the project root is on the path)

MiB = 1024 * 1024
GOAL_RATIO = 0.8
GOAL_RATIO_FROM_MIB = 1024  # below, start-up costs weigh on the ratio; reported, not judged
GOAL_PEAK_RSS_MIB = 150
GOAL_RECORD_RATIO = 0.5
GOAL_RECORD_COMMITS = 10


def setup_django(var_dir):
    os.environ["PORTAL_VAR_DIR"] = str(var_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ["HF_HUB_DISABLE_XET"] = "1"
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.dummy.EmailBackend"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def child_env(var_dir, hub_url, ca_path):
    return {
        **os.environ,
        "PORTAL_VAR_DIR": str(var_dir),
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "HF_ENDPOINT": hub_url,
        "HF_TOKEN": "bench-token",
        "HF_HUB_DISABLE_XET": "1",
        "PORTAL_FETCH_ALLOWED_NETWORKS": "127.0.0.0/8",
        "PORTAL_FETCH_CA_BUNDLE": str(ca_path),
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "MIRROR_WORK_DIR": str(var_dir / "work"),
        "MIRROR_MAX_BYTES": str(64 * 1024**3),
        # One worker process does the whole job: the coordinator, its batches one after the other (each
        # fetching MIRROR_FILE_CONCURRENCY files at once), and the run that publishes.
        "CELERY_TASK_ALWAYS_EAGER": "true",
        "PYTHONPATH": str(ROOT),
    }


# Each child times its own work, so that interpreter and Django start-up are not counted.
MIRROR_CODE = """
import time, django
django.setup()
from catalog import mirror
from django.urls import reverse
reverse("catalog:list")  # a worker that has run before has loaded the URLconf: do not time that import
import cProfile, os, pstats
profile = cProfile.Profile() if os.environ.get("BENCH_PROFILE") else None
started, cpu = time.perf_counter(), time.process_time()
if profile:
    profile.enable()
mirror.run({job_id})  # its batches, and the run that publishes, follow in this process (eager tasks)
elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
from catalog.models import MirrorJob
result = MirrorJob.objects.get(pk={job_id}).step
if profile:
    profile.disable()
    pstats.Stats(profile, stream=open(os.environ["BENCH_PROFILE"], "w")).sort_stats("cumulative").print_stats(40)
print(elapsed, cpu, result)
"""

COPY_CODE = """
import http.client, ssl, time, urllib.parse
started, cpu = time.perf_counter(), time.process_time()
source = urllib.parse.urlsplit({source!r})
hub = urllib.parse.urlsplit({hub!r})
context = ssl.create_default_context(cafile={ca!r})
get = http.client.HTTPSConnection(source.hostname, source.port, context=context)
get.request("GET", source.path)
response = get.getresponse()
put = http.client.HTTPConnection(hub.hostname, hub.port)
def body():
    while chunk := response.read(1024 * 1024):
        yield chunk
put.request("PUT", {upload_path!r}, body=body(), headers={{"Content-Length": str({size})}})
answer = put.getresponse()
answer.read()
print(time.perf_counter() - started, time.process_time() - cpu, answer.status)
"""


# The same copy as a client that must learn the SHA-256 first, as Git LFS requires before an upload: stream
# to a file while hashing, then PUT the file. This is the best a verified mirror can do.
HASH_FIRST_CODE = """
import hashlib, http.client, os, ssl, tempfile, time, urllib.parse
started, cpu = time.perf_counter(), time.process_time()
source = urllib.parse.urlsplit({source!r})
hub = urllib.parse.urlsplit({hub!r})
context = ssl.create_default_context(cafile={ca!r})
get = http.client.HTTPSConnection(source.hostname, source.port, context=context)
get.request("GET", source.path)
response = get.getresponse()
digest = hashlib.sha256()
with tempfile.NamedTemporaryFile(dir={tmp!r}) as handle:
    while chunk := response.read(1024 * 1024):
        digest.update(chunk)
        handle.write(chunk)
    handle.flush()
    size = handle.tell()
    handle.seek(0)
    put = http.client.HTTPConnection(hub.hostname, hub.port)
    def body():  # in 1 MiB chunks like the plain copy (a file body is sent 8 KiB at a time)
        while chunk := handle.read(1024 * 1024):
            yield chunk
    put.request("PUT", "/_lfs/upload/" + digest.hexdigest() + "?size=" + str(size), body=body(),
                headers={{"Content-Length": str(size)}})
    answer = put.getresponse()
    answer.read()
print(time.perf_counter() - started, time.process_time() - cpu, answer.status)
"""


# A plain copy of many files: one kept-alive connection to each server, each file streamed from a GET into a
# PUT of its LFS object (its SHA-256 given), one after the other.
MANY_COPY_CODE = """
import http.client, json, ssl, time, urllib.parse
files = json.load(open({listing!r}))
started, cpu = time.perf_counter(), time.process_time()
hub = urllib.parse.urlsplit({hub!r})
context = ssl.create_default_context(cafile={ca!r})
get = put = None
statuses = set()
for url, sha256, size in files:
    source = urllib.parse.urlsplit(url)
    if get is None:
        get = http.client.HTTPSConnection(source.hostname, source.port, context=context)
        put = http.client.HTTPConnection(hub.hostname, hub.port)
    get.request("GET", source.path + ("?" + source.query if source.query else ""))
    response = get.getresponse()
    def body():
        while chunk := response.read(1024 * 1024):
            yield chunk
    put.request("PUT", "/_lfs/upload/" + sha256 + "?size=" + str(size), body=body(),
                headers={{"Content-Length": str(size)}})
    answer = put.getresponse()
    answer.read()
    statuses.add(answer.status)
print(time.perf_counter() - started, time.process_time() - cpu, ",".join(map(str, sorted(statuses))))
"""


def approve_one(location, name, *, run_checks=False):
    import uuid

    from django.contrib.auth import get_user_model

    from catalog.models import MirrorJob
    from submissions import cards, services
    from submissions.curators import make_curator
    from submissions.models import Domain, TermsVersion

    curator, _ = get_user_model().objects.get_or_create(username="bench-curator")
    make_curator(curator)
    raw = f"---\nlicense: cc-by-4.0\npretty_name: {name}\n---\n# {name}\n\n## Dataset Description\n\nBench.\n".encode()
    submission, _ = services.submit(
        submission_key=uuid.uuid4(),
        name=name,
        location=location,
        hosting_wanted=True,
        card=cards.parse_card(raw, filename="README.md"),
        card_raw=raw,
        card_filename="README.md",
        modalities=["text"],
        domain=Domain.objects.first(),
        suggested_domain="",
        contact_email="bench@example.org",
        terms=TermsVersion.current(),
    )
    services.confirm(submission)
    if run_checks:
        # The location check resolves the record into the manifest the mirror copies (no worker runs here).
        from submissions import checks

        checks.run_all(submission.pk)
    services.claim(submission, by=curator)
    services.approve(
        submission,
        by=curator,
        checklist=services.ReviewChecklist.all_ticked(),
        concerns_override="Bench data: generated bytes.",
        personal_data_reviewed=True,
    )
    return MirrorJob.objects.get(dataset__submission=submission).pk


def record_case(var_dir, hub, seeds, *, files, file_mib, repeat):
    """Mirror a record of `files` files of `file_mib` MiB beside a plain copy; return the kept measures."""
    import trustme
    from django.conf import settings
    from django.db import connection
    from huggingface_hub import HfApi

    from catalog.models import MirrorJob
    from devhub.repositories import DataFile, Deposit, RepositoryDouble

    ca = trustme.CA()
    ca_path, pem_path = var_dir / "record-ca.pem", var_dir / "record.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(pem_path))
    size = file_mib * MiB
    best, peak, commits = {}, 0.0, 0
    with RepositoryDouble(cert_file=pem_path, key_file=pem_path) as double:
        settings.PORTAL_FETCH_ALLOWED_NETWORKS = ["127.0.0.0/8"]
        settings.PORTAL_FETCH_CA_BUNDLE = str(ca_path)
        env = child_env(var_dir, hub.url, ca_path)
        for attempt in range(repeat):
            seed = next(seeds)
            records = {
                kind: double.add_invenio(
                    f"{kind}{seed}",
                    Deposit(
                        title=f"Bench record {seed} {kind}",
                        files=[DataFile(f"r{seed}/{kind}/part-{n:05}.bin", size=size) for n in range(files)],
                        doi=f"10.5072/bench.{kind}{seed}",
                    ),
                )
                for kind in ("mirror", "copy")
            }
            job_id = approve_one(
                records["mirror"].landing_url, f"Bench record {files} files run {attempt}", run_checks=True
            )
            connection.close()
            listing = var_dir / f"copy-{seed}.json"
            listing.write_text(
                json.dumps([[item.url, item.sha256, item.length] for item in records["copy"].deposit.files])
            )
            code = MANY_COPY_CODE.format(listing=str(listing), hub=hub.url, ca=str(ca_path))
            keep_best(best, "copy", measure(code, env, expect="200"))
            clear_hub_log(hub.url)
            run = measure(MIRROR_CODE.format(job_id=job_id), env, expect="done")
            shas = {item.sha256 for item in records["mirror"].deposit.files}
            sent = lfs_uploads(hub.url)
            missing = [sha for sha in shas if sent.get(sha) != [200]]
            if missing:
                raise SystemExit(
                    f"FAILED: {len(missing)} of the record's {files} files were not uploaded exactly once by the "
                    "mirror (the Hub's log): it measured nothing"
                )
            repo_id = MirrorJob.objects.get(pk=job_id).dataset.repo_id
            made = [
                commit
                for commit in HfApi(endpoint=hub.url, token="bench-token").list_repo_commits(
                    repo_id, repo_type="dataset"
                )
                if commit.title != "initial commit"
            ]
            commits = max(commits, len(made))
            keep_best(best, "mirror", run)
            peak = max(peak, run.rss)
    return best, peak, commits


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="64,1024", help="sizes in MiB, comma-separated (default 64,1024)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per size; the best of each is kept")
    parser.add_argument("--record-files", type=int, default=1000, help="files of the record (0: no record)")
    parser.add_argument("--record-file-mib", type=int, default=1, help="size of each of its files, MiB")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",") if int(size)]

    with tempfile.TemporaryDirectory(prefix="bench-mirror-") as tmp:
        var_dir = Path(tmp)
        setup_django(var_dir)
        from django.db import connection

        from devhub.server import DevHub
        from portal.celery import app as celery_app
        from tests.sources import SourceServer, generated_sha256

        celery_app.conf.task_always_eager = False
        # Approval enqueues the job; the bench runs it itself in a child process instead.
        from catalog import publishing

        publishing.enqueue = lambda job_id: None
        rows, cpu_rows = [], []
        with SourceServer() as source, DevHub(data_dir=var_dir / "hub") as hub:
            env = child_env(var_dir, hub.url, source.ca_path)
            os.environ.update({key: env[key] for key in ("HF_ENDPOINT", "HF_TOKEN")})
            from django.conf import settings

            settings.HF_ENDPOINT, settings.HF_TOKEN = hub.url, "bench-token"
            seeds = itertools.count(int(time.time()))  # bytes no earlier run has given the Hub either
            started_load = os.getloadavg()
            for size_mib in sizes:
                size = size_mib * MiB
                best = {}
                peak = 0.0
                for attempt in range(args.repeat):
                    seed = {kind: next(seeds) for kind in ("mirror", "digest", "copy", "hash-first")}
                    paths = {kind: f"/{kind}-{value}.bin" for kind, value in seed.items()}
                    sha = {kind: generated_sha256(size, seed=value) for kind, value in seed.items()}
                    for kind in ("mirror", "copy", "hash-first"):
                        source.add_generated(paths[kind], size, seed=seed[kind])
                    announced = base64.b64encode(bytes.fromhex(sha["digest"])).decode()
                    source.add_generated(
                        paths["digest"],
                        size,
                        seed=seed["digest"],
                        headers={"Repr-Digest": f"sha-256=:{announced}:"},
                    )
                    jobs = {
                        kind: approve_one(
                            source.url(paths[kind]),
                            f"Bench data {size_mib} MiB run {attempt} {kind}",
                            run_checks=True,
                        )
                        for kind in ("mirror", "digest")
                    }
                    connection.close()

                    servers = {"hub": hub.url, "ca": str(source.ca_path)}
                    copies = {
                        "copy": COPY_CODE.format(
                            source=source.url(paths["copy"]),
                            upload_path=f"/_lfs/upload/{sha['copy']}?size={size}",
                            size=size,
                            **servers,
                        ),
                        "hash-first": HASH_FIRST_CODE.format(
                            source=source.url(paths["hash-first"]), tmp=str(var_dir), **servers
                        ),
                    }
                    for kind, code in copies.items():
                        keep_best(best, kind, measure(code, env, expect="200"))
                    for kind in ("mirror", "digest"):
                        clear_hub_log(hub.url)
                        run = measure(MIRROR_CODE.format(job_id=jobs[kind]), env, expect="done")
                        uploaded = uploads_of(hub.url, sha[kind])
                        if uploaded != [200]:
                            raise SystemExit(
                                f"FAILED: the Hub's log shows {uploaded or 'no'} upload(s) of the {kind} mirror's "
                                f"{size_mib} MiB: the mirror did not send its bytes once, so it measured nothing"
                            )
                        keep_best(best, kind, run)
                        peak = max(peak, run.rss)
                rows.append((size_mib, {kind: run.seconds for kind, run in best.items()}, peak))
                cpu_rows.append((size_mib, best))
            record = None
            if args.record_files:
                record = record_case(
                    var_dir,
                    hub,
                    seeds,
                    files=args.record_files,
                    file_mib=args.record_file_mib,
                    repeat=args.repeat,
                )
        runs = "one run per measure" if args.repeat == 1 else f"best of {args.repeat} runs per measure"
        print(
            f"Load average (1, 5, 15 min): {format_load(started_load)} at the start, "
            f"{format_load(os.getloadavg())} at the end; {runs}.\n"
        )
        print(
            f"{'size':>8} {'plain copy':>13} {'hash-first copy':>16} {'mirror, no digest':>18} {'ratio':>6} "
            f"{'mirror, digest':>15} {'ratio':>6} {'peak RSS':>10}"
        )
        for size_mib, best, rss in rows:
            copy = best["copy"]
            print(
                f"{size_mib:>5} MiB {size_mib / copy:>7.1f} MiB/s {size_mib / best['hash-first']:>10.1f} MiB/s "
                f"{size_mib / best['mirror']:>12.1f} MiB/s {copy / best['mirror']:>6.2f} "
                f"{size_mib / best['digest']:>9.1f} MiB/s {copy / best['digest']:>6.2f} {rss:>7.1f} MiB"
            )
        print(
            "\nCPU seconds of the kept runs, the copying or mirroring process + the source and Hub "
            f"(this process), on {os.cpu_count()} cores:"
        )
        kinds = {"copy": "plain copy", "hash-first": "hash-first copy", "mirror": "mirror, no digest"}
        kinds["digest"] = "mirror, digest"
        print(f"{'size':>8} " + " ".join(f"{label:>18}" for label in kinds.values()))
        for size_mib, best in cpu_rows:
            cells = (f"{best[kind].client_cpu:.1f} + {best[kind].servers_cpu:.1f} s" for kind in kinds)
            print(f"{size_mib:>5} MiB " + " ".join(f"{cell:>18}" for cell in cells))
        if record is not None:
            best, rss, commits = record
            total = args.record_files * args.record_file_mib
            print(
                f"\nA record of {args.record_files} files of {args.record_file_mib} MiB ({total} MiB): plain copy "
                f"{total / best['copy'].seconds:.1f} MiB/s, mirror {total / best['mirror'].seconds:.1f} MiB/s "
                f"({commits} commits), CPU {best['copy'].client_cpu:.1f} + {best['copy'].servers_cpu:.1f} s and "
                f"{best['mirror'].client_cpu:.1f} + {best['mirror'].servers_cpu:.1f} s"
            )
        missed = []
        print("\nSummary")
        for size_mib, best, rss in rows:
            judged = size_mib >= GOAL_RATIO_FROM_MIB
            goal = f">= {GOAL_RATIO}" if judged else f"(judged from {GOAL_RATIO_FROM_MIB} MiB)"
            for kind, label in (("mirror", "no digest"), ("digest", "digest announced")):
                ratio = best["copy"] / best[kind]
                summary(
                    f"{size_mib} MiB: mirror ({label}) / plain copy",
                    f"{ratio:.2f}",
                    goal,
                    ratio >= GOAL_RATIO or not judged,
                    missed,
                )
            # Without a digest the protocol's bound is the hash-first copy (receive and hash, then send).
            print(
                f"{f'{size_mib} MiB: hash-first copy / plain copy':<48} {best['copy'] / best['hash-first']:<12.2f} "
                f"(the bound of a mirror without a digest; not a goal)"
            )
            summary(
                f"{size_mib} MiB: mirror peak RSS",
                f"{rss:.1f} MiB",
                f"< {GOAL_PEAK_RSS_MIB} MiB",
                rss < GOAL_PEAK_RSS_MIB,
                missed,
            )
        if record is not None:
            best, rss, commits = record
            ratio = best["copy"].seconds / best["mirror"].seconds
            label = f"record of {args.record_files} x {args.record_file_mib} MiB"
            summary(
                f"{label}: mirror / plain copy",
                f"{ratio:.2f}",
                f">= {GOAL_RECORD_RATIO}",
                ratio >= GOAL_RECORD_RATIO,
                missed,
            )
            summary(
                f"{label}: commits",
                str(commits),
                f"<= {GOAL_RECORD_COMMITS}",
                commits <= GOAL_RECORD_COMMITS,
                missed,
            )
            summary(
                f"{label}: peak RSS",
                f"{rss:.1f} MiB",
                f"< {GOAL_PEAK_RSS_MIB} MiB",
                rss < GOAL_PEAK_RSS_MIB,
                missed,
            )
        print(
            json.dumps(
                {
                    "record": None
                    if record is None
                    else {
                        "ratio": round(record[0]["copy"].seconds / record[0]["mirror"].seconds, 3),
                        "commits": record[2],
                        "peak_rss_mib": round(record[1], 1),
                    },
                    "sizes": [row[0] for row in rows],
                    "ratios_no_digest": [round(row[1]["copy"] / row[1]["mirror"], 3) for row in rows],
                    "ratios_digest": [round(row[1]["copy"] / row[1]["digest"], 3) for row in rows],
                    "ratios_hash_first": [round(row[1]["copy"] / row[1]["hash-first"], 3) for row in rows],
                    "peak_rss_mib": [round(row[2], 1) for row in rows],
                }
            )
        )
        print(f"{'FAILED' if missed else 'PASSED'}: {len(missed)} goal(s) missed")
        sys.exit(1 if missed else 0)


class Run(typing.NamedTuple):
    """One measure: its seconds, the peak RSS of its process, and the CPU seconds of each side."""

    seconds: float
    rss: float
    client_cpu: float  # the copying or mirroring process, over the measured span
    servers_cpu: float  # the source and the Hub (this process), from the child's start to its end


def measure(code, env, *, expect):
    """Run one measure in a child process, after writing out the disk's dirty pages; return a Run."""
    os.sync()
    started = time.process_time()
    seconds, rss, out = run_child(code, env)
    servers_cpu = time.process_time() - started
    cpu, result = out.split(" ", 1)
    assert result.strip() == expect, out
    return Run(seconds, rss, float(cpu), servers_cpu)


def keep_best(best, kind, run):
    if kind not in best or run.seconds < best[kind].seconds:
        best[kind] = run


def format_load(load):
    return ", ".join(f"{value:.1f}" for value in load)


def summary(measure, figure, goal, ok, missed):
    if not ok:
        missed.append(measure)
    print(f"{measure:<48} {figure:<12} goal {goal:<26} {'MET' if ok else 'MISSED'}")


def clear_hub_log(hub_url):
    urllib.request.urlopen(
        urllib.request.Request(f"{hub_url}/_devhub/log", method="DELETE"), timeout=10
    ).read()


def lfs_uploads(hub_url):
    """Return {sha256: [statuses]} of every LFS upload in the Hub's request log."""
    with urllib.request.urlopen(f"{hub_url}/_devhub/log", timeout=30) as response:
        entries = json.load(response)
    found = {}
    for entry in entries:
        if entry["method"] == "PUT" and entry["path"].startswith("/_lfs/upload/"):
            sha = entry["path"].removeprefix("/_lfs/upload/").split("?", 1)[0]
            found.setdefault(sha, []).append(entry["status"])
    return found


def uploads_of(hub_url, sha256):
    """The statuses of the LFS uploads of an object in the Hub's request log."""
    with urllib.request.urlopen(f"{hub_url}/_devhub/log", timeout=10) as response:
        entries = json.load(response)
    return [
        entry["status"]
        for entry in entries
        if entry["method"] == "PUT" and entry["path"].startswith("/_lfs/upload/") and sha256 in entry["path"]
    ]


if __name__ == "__main__":
    main()
