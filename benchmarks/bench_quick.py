"""Every chapter in quick mode, one after another: seconds per notebook and the total.

    DROPOUT_BOOK_QUIET=1 .venv/bin/python benchmarks/bench_quick.py

Runs each notebook with papermill and only ``QUICK=True`` injected (what a reader
sets), in a temporary folder, and prints a table with the target (under a minute each).
"""

import os
import platform
import tempfile
import time
from pathlib import Path

import papermill as pm

ROOT = Path(__file__).resolve().parents[1]


def main():
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}")
    rows, total = [], 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
            t0 = time.perf_counter()
            pm.execute_notebook(str(nb), str(Path(tmp) / nb.name), parameters={"QUICK": True},
                                cwd=str(nb.parent), progress_bar=False, log_output=False)
            dt = time.perf_counter() - t0
            total += dt
            rows.append((nb.stem, dt))
    print(f"\n{'notebook':34s}{'QUICK=True (s)':>16s}  under 60 s?")
    for name, dt in rows:
        print(f"{name:34s}{dt:>16.1f}  {'yes' if dt < 60 else 'NO'}")
    print(f"{'all notebooks':34s}{total:>16.1f}")


if __name__ == "__main__":
    main()
