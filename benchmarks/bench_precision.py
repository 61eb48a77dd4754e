"""Seconds per epoch of the CIFAR-10 ConvNet: float32 vs mixed precision, XLA off vs on.

    .venv/bin/python benchmarks/bench_precision.py [--images 10000] [--epochs 2]

Side by side, in one run, on whatever device TensorFlow sees (a GPU when there
is one). The images are random numbers of CIFAR-10's shape: speed does not
depend on their content, and the benchmark needs no dataset. The first epoch
of each variant (compilation) is reported apart from the steady epochs. On a
CPU, mixed precision is expected to be slower (no float16 arithmetic units);
it pays on GPUs with tensor cores (compute capability 7.0 and newer).
"""

import argparse
import time

# isort: off
import helpers  # noqa: F401  (first: imports TensorFlow and Keras quietly)
import keras
import numpy as np
import tensorflow as tf
# isort: on
from helpers.experiments import device_description
from helpers.models import cifar_convnet

VARIANTS = [("float32", False, False), ("float32 + XLA", False, True),
            ("mixed_float16", True, False), ("mixed_float16 + XLA", True, True)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=10000)
    ap.add_argument("--epochs", type=int, default=2, help="steady epochs timed after the first")
    ap.add_argument("--batch-size", type=int, default=250)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    x = rng.random((args.images, 32, 32, 3), dtype=np.float32)
    y = keras.utils.to_categorical(rng.integers(0, 10, args.images), 10)
    print(f"device: {device_description()['device']}; TensorFlow {tf.__version__}, Keras {keras.__version__}")
    print(f"workload: {args.images} random 32x32x3 images, batch {args.batch_size}, "
          f"configuration (b)\n")
    rows = []
    for label, mixed, xla in VARIANTS:
        model = cifar_convnet(seed=0, mixed_precision=mixed, jit_compile=xla)
        times = []
        for _ in range(1 + args.epochs):
            t0 = time.perf_counter()
            model.fit(x, y, batch_size=args.batch_size, epochs=1, verbose=0)
            times.append(time.perf_counter() - t0)
        rows.append((label, times[0], float(np.mean(times[1:]))))
    base = rows[0][2]
    print(f"{'variant':24s}{'first epoch (s)':>17s}{'steady epoch (s)':>18s}{'speed vs float32':>18s}")
    for label, first, steady in rows:
        print(f"{label:24s}{first:>17.2f}{steady:>18.2f}{base / steady:>17.2f}x")


if __name__ == "__main__":
    main()
