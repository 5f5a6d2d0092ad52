"""Running a measured piece of Python in a child process, for the benches: its own time and peak memory."""

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Written by the child as it exits: the peak resident set size of its own program. The `ru_maxrss` that
# wait4 reports is no use here: Linux carries the parent's peak over into the child at exec (the address
# space it was forked from counts), so a child of a large bench process would report the bench's memory.
_PEAK_RSS_HOOK = """
import atexit as _atexit

def _write_peak(path={path!r}):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                with open(path, "w") as out:
                    out.write(line.split()[1])

_atexit.register(_write_peak)
"""


def run_child(code, env):
    """Run Python code in a child process; return (seconds it reported, its peak RSS in MiB, the rest of its line).

    The child prints, as its last line, the seconds it measured and then its result, separated by a space.
    """
    with tempfile.NamedTemporaryFile(prefix="bench-peak-", suffix=".txt") as peak:
        wrapped = _PEAK_RSS_HOOK.format(path=peak.name) + code
        process = subprocess.Popen([sys.executable, "-c", wrapped], env=env, cwd=ROOT, stdout=subprocess.PIPE)
        out = process.stdout.read()
        status = process.wait()
        if status != 0:
            raise SystemExit(f"child failed ({status}): {out.decode(errors='replace')}")
        rss_kib = int(Path(peak.name).read_text() or 0)
    seconds, result = out.decode().strip().splitlines()[-1].split(" ", 1)
    return float(seconds), rss_kib / 1024, result
