"""Side-by-side: model.fit vs helpers.fastfit.fast_fit on the circles case study.

    make benchmark        (or: .venv/bin/python benchmarks/bench_fast_fit.py [--fit-epochs 300])

Prints seconds per epoch of both on this machine and their ratio (target: fast_fit
at least 200x faster), then times the 30-seed repeated evaluation of the
no-dropout and Dropout(0.4) models at 4000 epochs (target: under 120 s).
"""

import argparse
import os
import platform
import time

# isort: off
import helpers  # noqa: F401  (first: imports TensorFlow and Keras quietly)
import keras
import tensorflow as tf
# isort: on
from helpers.data import load_circles
from helpers.fastfit import fast_fit
from helpers.models import circles_mlp


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fit-epochs", type=int, default=300)
    ap.add_argument("--fast-epochs", type=int, default=4000)
    ap.add_argument("--seeds", type=int, default=30)
    args = ap.parse_args()
    (xtr, ytr), (xte, yte) = load_circles()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"TensorFlow {tf.__version__}, Keras {keras.__version__}")

    m = circles_mlp(rate=0.4, seed=0)
    m.fit(xtr, ytr, validation_data=(xte, yte), epochs=2, verbose=0)  # warm-up: build the train step
    t0 = time.perf_counter()
    m.fit(xtr, ytr, validation_data=(xte, yte), epochs=args.fit_epochs, verbose=0)
    fit_epoch = (time.perf_counter() - t0) / args.fit_epochs

    fast_fit(circles_mlp(rate=0.4, seed=0), xtr, ytr, 5, validation_data=(xte, yte))  # warm-up
    t0 = time.perf_counter()
    fast_fit(circles_mlp(rate=0.4, seed=0), xtr, ytr, args.fast_epochs, validation_data=(xte, yte))
    fast_epoch = (time.perf_counter() - t0) / args.fast_epochs

    print()
    print(f"{'':28s}{'model.fit':>14s}{'fast_fit':>14s}")
    print(f"{'epochs timed':28s}{args.fit_epochs:>14d}{args.fast_epochs:>14d}")
    print(f"{'seconds per epoch':28s}{fit_epoch:>14.5f}{fast_epoch:>14.6f}")
    print(f"{'4000 epochs, one model (s)':28s}{fit_epoch * 4000:>14.1f}{fast_epoch * 4000:>14.2f}")
    ratio = fit_epoch / fast_epoch
    print(f"speed-up: {ratio:.0f}x  (target >= 200x: {'met' if ratio >= 200 else 'NOT met'})")

    t0 = time.perf_counter()
    for rate in (0.0, 0.4):
        fast_fit([circles_mlp(rate=rate, seed=s) for s in range(args.seeds)], xtr, ytr, 4000,
                 validation_data=(xte, yte))
    rep = time.perf_counter() - t0
    print(f"\n{args.seeds} seeds x 2 models x 4000 epochs with fast_fit: {rep:.1f} s "
          f"(target < 120 s: {'met' if rep < 120 else 'NOT met'}); "
          f"model.fit would take about {fit_epoch * 4000 * 2 * args.seeds / 60:.0f} min")


if __name__ == "__main__":
    main()
