"""Side-by-side: executing the book's notebooks one at a time vs in parallel.

    .venv/bin/python benchmarks/bench_book_execution.py [--jobs 2]

Runs scripts/execute_notebooks.py twice on the committed notebooks, each time
into a fresh, empty cache: first with one kernel at a time (what Jupyter Book
itself does), then with ``--jobs`` kernels at once (what ``make book`` does).
Prints both wall times and their ratio; the target is ``make book`` under
10 min after install on the 2-core machine, of which execution is almost all.
Needs DROPOUT_BOOK_CIFAR10 on an offline machine, like ``make book``.
Takes about 20 min on the 2-core machine.
"""

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed_run(jobs: int) -> float:
    with tempfile.TemporaryDirectory() as cache:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, str(ROOT / "scripts" / "execute_notebooks.py"),
                        "--jobs", str(jobs), "--cache", cache], check=True)
        return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores", flush=True)
    one = timed_run(1)
    many = timed_run(args.jobs)
    print()
    print(f"{'':32s}{'1 at a time':>14s}{f'{args.jobs} at a time':>14s}")
    print(f"{'execute all notebooks (min)':32s}{one / 60:>14.1f}{many / 60:>14.1f}")
    print(f"speed-up: {one / many:.2f}x; execution with --jobs {args.jobs}: {many / 60:.1f} min "
          f"(make book target < 10 min incl. the Sphinx build: "
          f"{'met' if many < 9 * 60 else 'check'})")


if __name__ == "__main__":
    main()
