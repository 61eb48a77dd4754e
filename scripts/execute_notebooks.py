"""Execute the book's notebooks in parallel into Jupyter Book's execution cache.

    python scripts/execute_notebooks.py [--jobs N] [--cache _build/.jupyter_cache]

``make book`` runs this before ``jupyter-book build``. Jupyter Book executes
notebooks one after another; here up to ``--jobs`` kernels run at once (the
longest notebooks first, by the run times recorded in the committed notebooks),
and each result is stored in the same jupyter-cache database that Jupyter Book's
``execute_notebooks: cache`` mode reads, keyed by the notebook's code. The build
then finds every notebook already executed and only renders. A notebook whose
code is unchanged since its last successful execution is not run again.

Any execution error stops the build: the failing notebook, cell and traceback
are printed and the exit status is 1.

Each kernel gets ``TF_NUM_INTRAOP_THREADS = cores // jobs`` (unless already
set), so parallel kernels share the cores instead of oversubscribing them.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import nbformat

from helpers.book import notebook_seconds, toc_files

ROOT = Path(__file__).resolve().parents[1]


def book_notebooks(root: Path = ROOT) -> list[Path]:
    """The notebooks listed in ``_toc.yml``, longest recorded run time first."""
    paths = [root / f"{name}.ipynb" for name in toc_files(root) if (root / f"{name}.ipynb").exists()]
    return sorted(paths, key=lambda p: -(notebook_seconds(p) or 0.0))


def _execute(path: str, timeout: int, threads: int | None):
    """Run one notebook in its own kernel (in a worker process); return (nb json, seconds, error)."""
    from jupyter_cache.executors.utils import single_nb_execution

    if threads and "TF_NUM_INTRAOP_THREADS" not in os.environ:
        os.environ["TF_NUM_INTRAOP_THREADS"] = str(threads)
    nb = nbformat.read(path, as_version=4)
    # The same call, working directory and options myst-nb's cache mode uses.
    result = single_nb_execution(nb, cwd=str(Path(path).parent), allow_errors=False,
                                 timeout=timeout, meta_override=True)
    error = result.exc_string if result.err is not None else None
    return nbformat.writes(nb), result.time, error


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                    help="kernels at once (default: 2, or 1 on a one-core machine)")
    ap.add_argument("--root", type=Path, default=ROOT, help="the book's folder (holding _toc.yml)")
    ap.add_argument("--cache", default=None,
                    help="jupyter-cache folder (default: Jupyter Book's, ROOT/_build/.jupyter_cache)")
    ap.add_argument("--timeout", type=int, default=1800, help="seconds per cell (as in _config.yml)")
    args = ap.parse_args(argv)
    if args.jobs < 1:
        ap.error(f"--jobs must be at least 1, got {args.jobs}")

    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    root = args.root.resolve()
    cache = get_cache(args.cache or str(root / "_build" / ".jupyter_cache"))
    todo = []
    for path in book_notebooks(root):
        try:
            record = cache.match_cache_notebook(nbformat.read(path, as_version=4))
        except KeyError:
            record = None
        if record is None:
            todo.append(path)
        else:
            print(f"[cached ] {path.relative_to(root)}", flush=True)
    if not todo:
        return 0

    threads = max(1, (os.cpu_count() or 1) // min(args.jobs, len(todo)))
    print(f"executing {len(todo)} notebook(s), {args.jobs} at a time, "
          f"TF_NUM_INTRAOP_THREADS={os.environ.get('TF_NUM_INTRAOP_THREADS', threads)}", flush=True)
    t0, failed = time.perf_counter(), []
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(_execute, str(p), args.timeout, threads): p for p in todo}
        for future in as_completed(futures):
            path = futures[future]
            rel = path.relative_to(root)
            text, seconds, error = future.result()
            if error is not None:
                failed.append(rel)
                print(f"[FAILED ] {rel} after {seconds:.0f} s:\n{error}", file=sys.stderr, flush=True)
                continue
            record = cache.add_nb_to_project(str(path))
            cache.cache_notebook_bundle(
                CacheBundleIn(nbformat.reads(text, as_version=4), record.uri,
                              data={"execution_seconds": seconds}),
                check_validity=False, overwrite=True)
            print(f"[done   ] {rel} in {seconds:.0f} s "
                  f"({time.perf_counter() - t0:.0f} s since start)", flush=True)
    print(f"executed in {time.perf_counter() - t0:.0f} s wall", flush=True)
    if failed:
        print(f"{len(failed)} notebook(s) failed: {', '.join(map(str, failed))}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
