"""Side by side, in one run: model.fit vs per-model fast_fit vs batched_fit.

    .venv/bin/python benchmarks/bench_batched.py [--seeds 30] [--epochs 4000] [--fit-epochs 200]
                                                 [--repeats 3]

The workload is the circles chapter's repeated evaluation: SEEDS seeds x 2
configurations (no dropout, Dropout(0.4)) x EPOCHS full-batch epochs, with
validation after every epoch. Each trainer's time covers its training call
(compilation included) on models built beforehand. model.fit is timed on FIT_EPOCHS epochs of one
model and extrapolated (it would take hours), and is labelled so. batched_fit, a few
seconds long and so the most exposed to a noisy machine, runs REPEATS times on fresh
models: the table shows the median, the last line every run.
"""

import argparse
import gc
import os
import platform
import statistics
import time

os.environ.setdefault("DROPOUT_BOOK_QUIET", "1")  # no progress bars between the figures

# isort: off
import helpers  # noqa: F401  (first: imports TensorFlow and Keras quietly)
import keras
import numpy as np
import tensorflow as tf
# isort: on
from helpers.batched import _default_groups, batched_fit
from helpers.data import load_circles
from helpers.fastfit import fast_fit
from helpers.models import circles_mlp


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=30)
    ap.add_argument("--epochs", type=int, default=4000)
    ap.add_argument("--fit-epochs", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    (xtr, ytr), (xte, yte) = load_circles()
    val = (xte, yte)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}; TensorFlow {tf.__version__}, Keras {keras.__version__}")

    def models():
        return [circles_mlp(rate=r, seed=s) for r in (0.0, 0.4) for s in range(args.seeds)]

    n = 2 * args.seeds
    m = circles_mlp(rate=0.4, seed=0)
    m.fit(xtr, ytr, validation_data=val, epochs=2, verbose=0)
    t0 = time.perf_counter()
    m.fit(xtr, ytr, validation_data=val, epochs=args.fit_epochs, verbose=0)
    fit_total = (time.perf_counter() - t0) / args.fit_epochs * args.epochs * n

    batched_fit(models()[:2], xtr, ytr, 5, validation_data=val)  # warm-up (graph building)
    fast_fit(circles_mlp(seed=0), xtr, ytr, 5, validation_data=val)

    # Training is timed; building the same 60 Keras models (the same for both) is not.
    t0 = time.perf_counter()
    for_fast = models()
    build = time.perf_counter() - t0
    gc.collect()  # each timed call starts from a collected heap
    t0 = time.perf_counter()
    hf = fast_fit(for_fast, xtr, ytr, args.epochs, validation_data=val)
    fast_total = time.perf_counter() - t0
    runs = []
    for _ in range(max(1, args.repeats)):
        for_batched = models()
        gc.collect()
        t0 = time.perf_counter()
        hb = batched_fit(for_batched, xtr, ytr, args.epochs, validation_data=val)
        runs.append(time.perf_counter() - t0)
    batched_total = statistics.median(runs)

    def mean_final(hs, part):
        return np.mean([h["val_accuracy"][-1] for h in hs[part]])

    none, drop = slice(0, args.seeds), slice(args.seeds, n)
    print(f"\nworkload: {args.seeds} seeds x 2 configurations x {args.epochs} epochs ({n} models)\n")
    print(f"{'':34s}{'model.fit':>14s}{'fast_fit':>12s}{'batched_fit':>13s}")
    print(f"{'wall time (s)':34s}{fit_total:>13.0f}*{fast_total:>12.1f}{batched_total:>13.1f}")
    print(f"{'ratio to batched_fit':34s}{fit_total / batched_total:>13.0f}x"
          f"{fast_total / batched_total:>11.1f}x{1:>12.0f}x")
    print(f"{'mean final test acc, no dropout':34s}{'':>14s}{mean_final(hf, none):>12.3f}"
          f"{mean_final(hb, none):>13.3f}")
    print(f"{'mean final test acc, Dropout(0.4)':34s}{'':>14s}{mean_final(hf, drop):>12.3f}"
          f"{mean_final(hb, drop):>13.3f}")
    print(f"* extrapolated from {args.fit_epochs} epochs of one model")
    print(f"batched_fit: median of {len(runs)} runs ({', '.join(f'{t:.1f}' for t in runs)} s), "
          f"the copies in {_default_groups()} groups at once")
    print(f"training times, compilation included; building the {n} Keras models (needed by "
          f"both, not timed above) took {build:.1f} s")
    print(f"targets: batched <= 6 s: {'met' if batched_total <= 6 else 'NOT met'}; "
          f">= 10x fast_fit: {'met' if fast_total / batched_total >= 10 else 'NOT met'}")


if __name__ == "__main__":
    main()
