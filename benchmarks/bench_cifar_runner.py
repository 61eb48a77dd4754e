"""Side by side: the resumable CIFAR-10 runner vs the plain seed-style script.

    .venv/bin/python benchmarks/bench_cifar_runner.py [--config b] [--train-samples 5000] [--epochs 3]

Both train the same ConvNet configuration from the same seed with the same
protocol (batch size 250, validation split 0.2) on this machine, one after the
other in one process:

- plain:  ``model.fit(x, y, batch_size=250, epochs=E, validation_split=0.2, verbose=0)``
  then ``model.evaluate`` on the test set, as the classic tutorial script does;
- runner: ``helpers.experiments.run_cifar10`` with per-epoch checkpoints
  (model + optimizer state + history written atomically after every epoch).

It prints the median seconds per epoch (epochs after the first, which includes
graph tracing) and the total wall time of each, and their ratios: the cost of
being resumable. Defaults are small enough for a CPU; on a GPU pass
``--train-samples 50000 --epochs 5`` for the full-size number.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time

# isort: off
import helpers  # noqa: F401  (first: imports TensorFlow and Keras quietly)
import keras
import tensorflow as tf
# isort: on
from helpers.data import load_cifar10, prepare_cifar10
from helpers.experiments import FULL_PROTOCOL, device_description, run_cifar10
from helpers.models import CIFAR_CONFIGS, cifar_convnet
from helpers.seeding import set_seed


class EpochTimer(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self.t0 = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.t0)


def plain(config: str, seed: int, epochs: int, n: int, data):
    t0 = time.perf_counter()
    (x, y), (xt, yt) = load_cifar10(data)
    x, y = prepare_cifar10(x[:n], y[:n])
    xt, yt = prepare_cifar10(xt, yt)
    spec = CIFAR_CONFIGS[config]
    set_seed(seed)
    model = cifar_convnet(dropout=spec["dropout"], max_norm=spec["max_norm"], optimizer=spec["optimizer"],
                          seed=seed)
    timer = EpochTimer()
    model.fit(x, y, batch_size=FULL_PROTOCOL["batch_size"], epochs=epochs,
              validation_split=FULL_PROTOCOL["validation_split"], verbose=0, callbacks=[timer])
    acc = model.evaluate(xt, yt, batch_size=1000, verbose=0, return_dict=True)["accuracy"]
    return timer.seconds, time.perf_counter() - t0, acc


def runner(config: str, seed: int, epochs: int, n: int, data):
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        result = run_cifar10(config=config, seed=seed, epochs=epochs, train_samples=n, data_path=data,
                             state_dir=tmp, results_dir=tmp, verbose=False)
    prov = result["provenance"]
    # an epoch of the runner = training + validation + writing its checkpoint
    epochs = [e + c for e, c in zip(prov["wall_seconds_per_epoch"], prov["checkpoint_seconds_per_epoch"], strict=True)]
    return epochs, time.perf_counter() - t0, result["test_accuracy"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="b", choices=sorted(CIFAR_CONFIGS))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--train-samples", type=int, default=5000)
    ap.add_argument("--repeats", type=int, default=2, help="alternate plain/runner this many times")
    ap.add_argument("--data", default=None, help="CIFAR-10 pack (default: $DROPOUT_BOOK_CIFAR10, data/, download)")
    args = ap.parse_args(argv)
    if args.epochs < 2:
        ap.error("--epochs must be at least 2 (the first epoch includes tracing and is not timed)")

    dev = device_description()
    print(f"device: {dev['device']}; {platform.python_version()}, TensorFlow {tf.__version__}, "
          f"Keras {keras.__version__}")
    print(f"config {args.config}, seed {args.seed}, {args.train_samples} training images "
          f"(of which 20 % validation), {args.epochs} epochs, batch size {FULL_PROTOCOL['batch_size']}")
    load_cifar10(args.data)  # warm the file cache so neither side pays for the first read
    runs = {"plain model.fit script": [], "resumable runner": []}
    for rep in range(args.repeats):
        order = list(runs.items()) if rep % 2 == 0 else list(runs.items())[::-1]
        for name, results in order:
            fn = plain if name.startswith("plain") else runner
            epochs, total, acc = fn(args.config, args.seed, args.epochs, args.train_samples, args.data)
            results.append((statistics.median(epochs[1:]), total, acc))
            print(f"  [{rep + 1}] {name:24s} {results[-1][0]:8.2f} s/epoch (median of epochs 2..{args.epochs})"
                  f"   total {total:7.1f} s   test accuracy {acc:.4f}", flush=True)
    p_epoch, p_total = (statistics.median(r[i] for r in runs["plain model.fit script"]) for i in (0, 1))
    r_epoch, r_total = (statistics.median(r[i] for r in runs["resumable runner"]) for i in (0, 1))
    print(f"medians over {args.repeats} alternating repeats: plain {p_epoch:.2f} s/epoch, runner {r_epoch:.2f} s/epoch"
          " (training + validation + checkpoint)")
    per_image = r_epoch / (args.train_samples * (1 - FULL_PROTOCOL["validation_split"])) * 1000
    print(f"ratio runner / plain: {r_epoch / p_epoch:.3f} per epoch, {r_total / p_total:.3f} in total")
    print(f"runner: {per_image:.3f} ms per training image-epoch; the full protocol (40,000 images x 55 epochs) "
          f"would take about {per_image * 40 * 55 / 60:.0f} min here")
    return 0


if __name__ == "__main__":
    sys.exit(main())
