"""Data inspection time, bytes read and memory, measured side by side with a plain DuckDB DESCRIBE.

For each CSV size (default 10 MiB, 256 MiB and 1 GiB; the issue's 10 MB, 1 GB and 5 GB with
`--sizes 10,1024,5120`) and one Parquet file (default 256 MiB; `--parquet 1024` for 1 GB), the script writes
the file to a temporary folder, serves it from a local https source (with byte ranges, as most servers do),
and runs the data check's whole inspection (`submissions.inspection.report.inspect_location`) in a fresh
child process. Side by side, another fresh child runs DuckDB's `DESCRIBE` on the same local file. It prints
the times, their ratio, the bytes the inspection read and each child's peak RSS, then the goals:

- bytes read never above INSPECT_MAX_BYTES;
- peak RSS of the inspection flat across sizes and under 300 MiB;
- inspection time at the largest CSV within 1.5x of the smallest.

    .venv/bin/python bench/inspection.py [--sizes 10,256,1024] [--parquet 256] [--cap 64] [--json]

Everything lives in a temporary folder that is removed at the end; nothing else is touched.
"""

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.children import run_child  # noqa: E402 (after the project root is on the path)

MiB = 1024 * 1024
RSS_GOAL_MIB = 300
TIME_GOAL_RATIO = 1.5

INSPECT_CODE = """
import json, time, django
django.setup()
from portal.i18n import english
from submissions.inspection.report import inspect_location
started = time.perf_counter()
outcome, summary, details = inspect_location({url!r}, modalities=["text"])
seconds = time.perf_counter() - started
print(seconds, json.dumps({{"outcome": outcome, "summary": english(summary), "read": details.get("sampled_bytes", 0)}}))
"""

DESCRIBE_CODE = """
import json, time, duckdb
connection = duckdb.connect(":memory:")
started = time.perf_counter()
rows = connection.execute("DESCRIBE SELECT * FROM {reader}('" + {path!r}.replace("'", "''") + "')").fetchall()
seconds = time.perf_counter() - started
print(seconds, json.dumps({{"columns": len(rows)}}))
"""


def write_csv(path, size):
    """Write a CSV of about `size` bytes: a header and varied rows, repeated block by block."""
    rows = [
        f"{n},2024-{1 + n % 12:02d}-{1 + n % 28:02d}T{n % 24:02d}:00:00Z,ST{n % 97:03d},{(n * 7919) % 10007 / 100:.2f},"
        f"{n % 3},note {n % 13}\n"
        for n in range(20_000)
    ]
    block = "".join(rows).encode()
    with path.open("wb") as out:
        out.write(b"id,observed_at,station,value,flag,note\n")
        written = 0
        while written < size:
            piece = block[: size - written]
            # End on a whole row.
            piece = piece[: piece.rfind(b"\n") + 1] or piece
            out.write(piece)
            written += len(piece)


def write_parquet(path, size):
    """Write a Parquet file of about `size` bytes in row groups of one million rows."""
    import pyarrow
    import pyarrow.compute
    import pyarrow.parquet

    rows = 1_000_000
    schema = pyarrow.schema(
        [("id", pyarrow.int64()), ("value", pyarrow.float64()), ("station", pyarrow.string())]
    )
    stations = pyarrow.array([f"ST{n % 97:03d}" for n in range(rows)])
    with pyarrow.parquet.ParquetWriter(str(path), schema) as writer:
        start = 0
        while path.stat().st_size < size:
            table = pyarrow.table(
                {
                    "id": pyarrow.array(range(start, start + rows), pyarrow.int64()),
                    "value": pyarrow.compute.random(rows),
                    "station": stations,
                },
                schema=schema,
            )
            writer.write_table(table, row_group_size=rows)
            start += rows


def child_env(var_dir, ca_path):
    return {
        **os.environ,
        "PORTAL_VAR_DIR": str(var_dir),
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "PORTAL_FETCH_ALLOWED_NETWORKS": "127.0.0.0/8",
        "PORTAL_FETCH_CA_BUNDLE": str(ca_path),
        "INSPECT_WORK_DIR": str(var_dir / "inspect"),
        "PYTHONPATH": str(ROOT),
    }


def measure(source, env, path, *, kind):
    """Inspect the served file and DESCRIBE the local one; return one row of figures."""
    # Write the new file out first, so that the kernel's write-back does not slow the measured run.
    os.sync()
    route = f"/{path.name}"
    source.add_file(route, path, content_type="text/csv" if kind == "CSV" else "application/octet-stream")
    seconds, rss, result = run_child(INSPECT_CODE.format(url=source.url(route)), env)
    result = json.loads(result)
    reader = "read_csv" if kind == "CSV" else "read_parquet"
    describe_seconds, describe_rss, _ = run_child(DESCRIBE_CODE.format(reader=reader, path=str(path)), env)
    return {
        "kind": kind,
        "size_mib": round(path.stat().st_size / MiB),
        "inspect_seconds": round(seconds, 3),
        "describe_seconds": round(describe_seconds, 3),
        "bytes_read": result["read"],
        "inspect_rss_mib": round(rss, 1),
        "describe_rss_mib": round(describe_rss, 1),
        "summary": result["summary"],
    }


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10,256,1024", help="CSV sizes in MiB, comma-separated")
    parser.add_argument("--parquet", type=int, default=256, help="Parquet size in MiB (0: none)")
    parser.add_argument(
        "--cap", type=int, default=0, help="INSPECT_MAX_BYTES in MiB for this run (default: settings)"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",") if size]

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    if args.cap:
        os.environ["INSPECT_MAX_BYTES"] = str(args.cap * MiB)
    from django.conf import settings

    from tests.sources import SourceServer

    cap = settings.INSPECT_MAX_BYTES
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-inspect-") as tmp, SourceServer() as source:
        var_dir = Path(tmp)
        env = child_env(var_dir, source.ca_path)
        for size in sizes:
            path = var_dir / f"data-{size}.csv"
            write_csv(path, size * MiB)
            rows.append(measure(source, env, path, kind="CSV"))
            path.unlink()
        if args.parquet:
            path = var_dir / f"data-{args.parquet}.parquet"
            write_parquet(path, args.parquet * MiB)
            rows.append(measure(source, env, path, kind="Parquet"))
            path.unlink()

    print(f"INSPECT_MAX_BYTES = {cap / MiB:.0f} MiB")
    print(
        f"{'file':>16} {'inspect':>9} {'DESCRIBE':>9} {'ratio':>6} {'bytes read':>11} "
        f"{'RSS inspect':>12} {'RSS DESCRIBE':>13}  summary"
    )
    for row in rows:
        ratio = row["inspect_seconds"] / max(row["describe_seconds"], 1e-6)
        print(
            f"{row['kind'] + ' ' + str(row['size_mib']) + ' MiB':>16} {row['inspect_seconds']:>8.2f}s "
            f"{row['describe_seconds']:>8.2f}s {ratio:>6.1f} {row['bytes_read'] / MiB:>7.1f} MiB "
            f"{row['inspect_rss_mib']:>8.1f} MiB {row['describe_rss_mib']:>9.1f} MiB  {row['summary']}"
        )
    csv_rows = [row for row in rows if row["kind"] == "CSV"]
    peaks = [row["inspect_rss_mib"] for row in rows]
    read_ok = all(row["bytes_read"] <= cap for row in rows)
    print(f"goal: bytes read never above the cap: {'met' if read_ok else 'MISSED'}")
    rss_ok = max(peaks) < RSS_GOAL_MIB
    print(
        f"goal: peak RSS under {RSS_GOAL_MIB} MiB and flat: {'met' if rss_ok else 'MISSED'} "
        f"({min(peaks):.1f} to {max(peaks):.1f} MiB, spread {max(peaks) - min(peaks):.1f} MiB)"
    )
    if len(csv_rows) > 1:
        growth = csv_rows[-1]["inspect_seconds"] / csv_rows[0]["inspect_seconds"]
        print(
            f"goal: time at {csv_rows[-1]['size_mib']} MiB within {TIME_GOAL_RATIO}x of {csv_rows[0]['size_mib']} MiB: "
            f"{'met' if growth <= TIME_GOAL_RATIO else 'MISSED'} ({growth:.2f}x)"
        )
    if args.json:
        print(json.dumps(rows))
    missed = not read_ok or not rss_ok or (len(csv_rows) > 1 and growth > TIME_GOAL_RATIO)
    if missed:
        sys.exit(1)


if __name__ == "__main__":
    main()
