"""Running a measured piece of Python in a child process, for the benches: its own time and peak memory."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_child(code, env):
    """Run Python code in a child process; return (seconds it reported, peak RSS in MiB, the rest of its line).

    The child prints, as its last line, the seconds it measured and then its result, separated by a space.
    """
    process = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=ROOT, stdout=subprocess.PIPE)
    out = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise SystemExit(f"child failed ({status}): {out.decode(errors='replace')}")
    seconds, result = out.decode().strip().splitlines()[-1].split(" ", 1)
    return float(seconds), usage.ru_maxrss / 1024, result
