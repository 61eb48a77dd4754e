"""Resumable CIFAR-10 experiment runner.

    python -m helpers.experiments cifar10 --config b --seed 0

runs one configuration of the CIFAR-10 chapter at the full protocol (50,000
training images, validation split 0.2, batch size 250, 55 epochs, then the
test set) and writes ``results/cifar10/<config>-seed<k>.json`` atomically, with
the per-epoch history and provenance. After every epoch the model, optimizer
state and history are checkpointed under ``runs/``; killed at any point, the
same command continues from the last finished epoch. A run with a reduced
protocol (``--epochs``/``--train-samples``) is labelled as such and written
under a different name, never as a full result.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from ._io import atomic_write_bytes, atomic_write_json
from ._validate import check_nonnegative_int, check_positive_int
from .data import DatasetError, cifar10_provenance, load_cifar10, prepare_cifar10
from .models import CIFAR_CONFIGS, cifar_convnet
from .paths import project_root, results_dir

FULL_PROTOCOL = {"epochs": 55, "batch_size": 250, "validation_split": 0.2, "train_samples": 50000}
#: Monte Carlo dropout passes averaged for the stored test-set probabilities.
MC_PASSES = 30


class ExperimentError(RuntimeError):
    """Bad arguments or state; the message says what to do."""


def result_name(config: str, seed: int, epochs: int, train_samples: int) -> str:
    full = epochs == FULL_PROTOCOL["epochs"] and train_samples == FULL_PROTOCOL["train_samples"]
    suffix = "" if full else f"-reduced-e{epochs}-n{train_samples}"
    return f"{config}-seed{seed}{suffix}"


def _git_commit() -> str | None:
    root = project_root() or Path.cwd()
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                             text=True, timeout=10, check=True).stdout.strip()
        # results/ is data, not code: a recorded run or search rewriting its own tracked
        # result (a resumed search's trials.json) must not make the code look uncommitted
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".",
                                ":(exclude)results"], cwd=root,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return out + ("+dirty" if dirty else "")
    except Exception:
        return None


def device_description() -> dict:
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    info = {"platform": platform.platform(), "cpu_count": os.cpu_count()}
    try:
        names = [ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                 if ln.startswith("model name")]
        info["cpu"] = names[0] if names else platform.processor()
    except OSError:
        info["cpu"] = platform.processor()
    if gpus:
        details = [tf.config.experimental.get_device_details(g).get("device_name", g.name) for g in gpus]
        info["gpu"] = details
        info["device"] = f"GPU: {', '.join(details)}"
    else:
        info["device"] = f"CPU: {info['cpu']} ({info['cpu_count']} cores)"
    return info


def versions() -> dict:
    import keras
    import tensorflow as tf

    return {"python": platform.python_version(), "tensorflow": tf.__version__, "keras": keras.__version__,
            "numpy": np.__version__}


class _EpochCheckpoint:
    """Per-epoch checkpoint: model file first, then progress.json (the commit point)."""

    def __init__(self, state_dir: Path, meta: dict):
        self.state_dir = state_dir
        self.meta = meta
        self.progress_path = state_dir / "progress.json"

    def load(self):
        if not self.progress_path.is_file():
            return None
        progress = json.loads(self.progress_path.read_text())
        if progress.get("meta") != self.meta:
            raise ExperimentError(
                f"{self.state_dir} holds an unfinished run with different settings "
                f"({progress.get('meta')}); delete that folder to start over."
            )
        for name in (progress["checkpoint"], progress.get("best", {}).get("file")):
            if name is not None and not (self.state_dir / name).is_file():
                raise ExperimentError(f"checkpoint {self.state_dir / name} is missing; "
                                      f"delete {self.state_dir} to start over.")
        return progress

    def save(self, model, epoch: int, history: dict, epoch_seconds: list, checkpoint_seconds: list,
             git_commits: list | None = None, best: dict | None = None):
        """Write the model, then progress.json (naming it); then delete older files.
        ``best`` (early stopping's record, see :func:`fit_resumable`) is stored in
        progress.json; the weights file it names must already be written."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        name = f"ckpt-epoch{epoch:03d}.keras"
        tmp = self.state_dir / f".tmp-{name}"
        model.save(tmp)
        os.replace(tmp, self.state_dir / name)
        progress = {"meta": self.meta, "epoch": epoch, "checkpoint": name, "history": history,
                    "epoch_seconds": epoch_seconds, "checkpoint_seconds": checkpoint_seconds,
                    "git_commits": list(git_commits or [])}
        if best is not None:
            progress["best"] = {k: v for k, v in best.items() if k != "weights"}
        atomic_write_json(self.progress_path, progress)
        keep = {name, (best or {}).get("file")}
        for old in [*self.state_dir.glob("ckpt-epoch*.keras"), *self.state_dir.glob("best-epoch*.weights.h5")]:
            if old.name not in keep:
                old.unlink(missing_ok=True)

    def remove(self):
        """Delete the run's folder and everything in it."""
        for f in self.state_dir.glob("*"):
            f.unlink()
        self.state_dir.rmdir()

    def save_best(self, model, epoch: int) -> str:
        """Write the weights of ``epoch`` (the best so far) under a name of their own;
        progress.json starts naming them only at the next :meth:`save`."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        name = f"best-epoch{epoch:03d}.weights.h5"
        tmp = self.state_dir / f".tmp-{name}"
        model.save_weights(tmp)
        os.replace(tmp, self.state_dir / name)
        return name


def start_or_resume(ckpt, progress, seed: int, code_commit, build, resume_message=None):
    """The model and the training state to continue from: the checkpoint's when
    ``progress`` (from ``ckpt.load()``) is given, else ``build()`` seeded with ``seed``.
    The state holds ``start`` (epochs done), ``history``, ``epoch_seconds``,
    ``checkpoint_seconds``, ``git_commits`` (``code_commit`` appended when it starts a
    new stretch) and ``best`` (early stopping's record, see :func:`fit_resumable`).
    ``resume_message``, a format string for the epoch, is printed when resuming."""
    import keras

    from .seeding import set_seed

    # Fresh, reproducible randomness for the remaining epochs, seeded *before* loading:
    # the random layers' generators are not saved with the model and are created anew
    # (from the global seed) when it is loaded.
    set_seed(seed + 1000 * progress["epoch"] if progress else seed)
    if progress:
        model = keras.models.load_model(ckpt.state_dir / progress["checkpoint"])
        state = {"start": progress["epoch"], "history": progress["history"],
                 "epoch_seconds": progress["epoch_seconds"],
                 "checkpoint_seconds": progress.get("checkpoint_seconds", []),
                 "git_commits": list(progress.get("git_commits", [])),
                 "best": dict(progress.get("best", {}))}
        if resume_message:
            print("resuming " + resume_message.format(state["start"]), flush=True)
    else:
        model = build()
        state = {"start": 0, "history": {}, "epoch_seconds": [], "checkpoint_seconds": [],
                 "git_commits": [], "best": {}}
    if not state["git_commits"] or state["git_commits"][-1] != code_commit:
        state["git_commits"].append(code_commit)  # one entry per stretch of epochs run by other code
    return model, state


def provenance(command: str, code_commit, git_commits, data_path, epoch_seconds, checkpoint_seconds,
               resumed: bool) -> dict:
    """What a recorded result says about how it was made."""
    return {
        "command": command,
        "git_commit": code_commit,
        "git_commits": git_commits,
        "date_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "device": device_description(),
        "versions": versions(),
        "dataset": cifar10_provenance(data_path),
        "wall_seconds_per_epoch": epoch_seconds,
        "wall_seconds_total": float(sum(epoch_seconds)),
        "checkpoint_seconds_per_epoch": checkpoint_seconds,
        "resumed": resumed,
    }


def fit_resumable(model, x, y, *, name: str, epochs: int, batch_size: int, start: int, history: dict,
                  epoch_seconds: list, checkpoint_seconds: list, git_commits: list, ckpt=None,
                  stop_after=None, verbose: bool = True, best: dict | None = None, **fit_kwargs):
    """``model.fit`` from epoch ``start`` to ``epochs`` (or ``stop_after``), appending each
    epoch's logs and wall time to ``history``/``epoch_seconds`` and checkpointing after
    every epoch (``ckpt``). With ``best`` (a dict, empty at the start), also keeps the
    weights of the epoch with the lowest ``val_loss`` (in ``best["file"]`` under the
    checkpoint folder, else in memory as ``best["weights"]``): early stopping's
    restored model, recorded without stopping the run."""
    import keras

    class Recorder(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            epoch_seconds.append(time.perf_counter() - self.t0)
            for k, v in (logs or {}).items():
                history.setdefault(k, []).append(float(v))
            if best is not None and history["val_loss"][-1] < best.get("val_loss", float("inf")):
                best.update(epoch=epoch + 1, val_loss=history["val_loss"][-1],
                            val_accuracy=history["val_accuracy"][-1])
                if ckpt:
                    best["file"] = ckpt.save_best(self.model, epoch + 1)
                else:
                    best["weights"] = self.model.get_weights()
            if ckpt:  # the time of this save is recorded with the next one (and in the result)
                t_save = time.perf_counter()
                ckpt.save(self.model, epoch + 1, history, epoch_seconds, checkpoint_seconds,
                          git_commits, best)
                checkpoint_seconds.append(time.perf_counter() - t_save)
            if verbose:
                print(f"{name} epoch {epoch + 1}/{epochs}: " +
                      ", ".join(f"{k}={v:.4f}" for k, v in (logs or {}).items()) +
                      f" ({epoch_seconds[-1]:.1f} s)", flush=True)
            if stop_after is not None and epoch + 1 >= stop_after:
                self.model.stop_training = True

    target = epochs if stop_after is None else min(epochs, stop_after)
    if start < target:
        model.fit(x, y, batch_size=batch_size, epochs=target, initial_epoch=start, shuffle=True,
                  verbose=0, callbacks=[Recorder()], **fit_kwargs)
    return len(history.get("loss", []))


def run_cifar10(config: str = "b", seed: int = 0, epochs: int = FULL_PROTOCOL["epochs"],
                batch_size: int = FULL_PROTOCOL["batch_size"],
                train_samples: int = FULL_PROTOCOL["train_samples"], data_path=None,
                results_dir=None, state_dir=None, overwrite: bool = False, stop_after=None,
                verbose: bool = True, command=None, mixed_precision: bool = False,
                jit_compile="auto", mc_passes: int = MC_PASSES):
    """Train one configuration; return the result dict (also written when ``results_dir``).

    ``state_dir`` enables per-epoch checkpoints and resuming; ``stop_after``
    ends this invocation after that many epochs in total (as an interruption
    would), leaving the checkpoint for the next call. ``mixed_precision`` and
    ``jit_compile`` (for GPUs) go to :func:`~helpers.models.cifar_convnet` and
    are recorded in the result. With ``results_dir``, the test-set class
    probabilities are stored beside the JSON (:func:`save_probabilities`):
    the deterministic pass and the mean of ``mc_passes`` Monte Carlo dropout
    passes (0: deterministic only).
    """

    from .seeding import set_seed

    if config not in CIFAR_CONFIGS:
        raise ExperimentError(f"config must be one of {sorted(CIFAR_CONFIGS)}, got {config!r}")
    seed = check_nonnegative_int(seed, "seed")
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    train_samples = check_positive_int(train_samples, "train_samples")
    if train_samples > FULL_PROTOCOL["train_samples"]:
        raise ExperimentError(f"train_samples must be at most 50000, got {train_samples}")
    if stop_after is not None:
        stop_after = check_positive_int(stop_after, "stop_after")
    if not isinstance(mixed_precision, bool):
        raise ExperimentError(f"mixed_precision must be True or False, got {mixed_precision!r}")
    if jit_compile not in ("auto", True, False):
        raise ExperimentError(f"jit_compile must be 'auto', True or False, got {jit_compile!r}")
    mc_passes = check_nonnegative_int(mc_passes, "mc_passes")
    name = result_name(config, seed, epochs, train_samples)
    # The code that trains is the code loaded now: its commit is read now, not when the
    # result is written (a commit made meanwhile must not be credited with this run).
    code_commit = _git_commit()
    out_path = Path(results_dir) / f"{name}.json" if results_dir else None
    if out_path is not None and out_path.exists() and not overwrite:
        raise ExperimentError(f"{out_path} already exists; pass --overwrite to replace a recorded result.")

    (x_train, y_train), (x_test, y_test) = load_cifar10(data_path)
    x_train, y_train = prepare_cifar10(x_train[:train_samples], y_train[:train_samples])
    x_test, y_test = prepare_cifar10(x_test, y_test)
    spec = CIFAR_CONFIGS[config]
    meta = {"config": config, "seed": seed, "epochs": epochs, "batch_size": batch_size,
            "train_samples": int(len(x_train)), "validation_split": FULL_PROTOCOL["validation_split"],
            "mixed_precision": mixed_precision, "jit_compile": jit_compile}
    ckpt = _EpochCheckpoint(Path(state_dir) / name, meta) if state_dir else None
    progress = ckpt.load() if ckpt else None

    model, state = start_or_resume(
        ckpt, progress, seed, code_commit,
        lambda: cifar_convnet(dropout=spec["dropout"], max_norm=spec["max_norm"],
                              optimizer=spec["optimizer"], seed=seed,
                              mixed_precision=mixed_precision, jit_compile=jit_compile),
        f"{name} after epoch {{}}/{epochs}" if verbose else None)
    state.pop("best")  # the full-protocol runs keep only their last weights
    history, epoch_seconds = state["history"], state["epoch_seconds"]
    checkpoint_seconds, git_commits = state["checkpoint_seconds"], state["git_commits"]
    done = fit_resumable(model, x_train, y_train, name=name, epochs=epochs, batch_size=batch_size,
                         stop_after=stop_after, verbose=verbose, ckpt=ckpt, **state,
                         validation_split=FULL_PROTOCOL["validation_split"])
    if done < epochs:
        return {"name": name, "finished": False, "epochs_done": done, "history": history}

    test = model.evaluate(x_test, y_test, batch_size=1000, verbose=0, return_dict=True)
    full = name == f"{config}-seed{seed}"
    result = {
        "name": name,
        "finished": True,
        "config": config,
        "label": spec["label"],
        "seed": seed,
        "full_protocol": full,
        "protocol": {**meta, "optimizer": spec["optimizer"], "dropout": spec["dropout"],
                     "max_norm": spec["max_norm"]},
        "history": history,
        "test_loss": float(test["loss"]),
        "test_accuracy": float(test["accuracy"]),
        "provenance": provenance(
            command or "helpers.experiments.run_cifar10(" + json.dumps(meta) + ")", code_commit,
            git_commits, data_path, epoch_seconds, checkpoint_seconds, progress is not None),
    }
    if out_path is not None:
        # the probabilities first: a result file never names a missing file
        set_seed(seed + 7919)  # the MC passes' masks
        result["probabilities"] = save_probabilities(
            model, x_test, y_test, out_path.with_suffix(".probs.npz"), mc_passes)
    return finish_run(result, out_path, ckpt, verbose)


def finish_run(result: dict, out_path, ckpt, verbose: bool) -> dict:
    """Write ``result`` atomically to ``out_path`` (if any), then delete the run's
    checkpoint folder (if any): only a written result ends a run's state."""
    if out_path is not None:
        atomic_write_json(out_path, result)
        if verbose:
            print(f"wrote {out_path}: test accuracy {result['test_accuracy']:.4f}", flush=True)
    if ckpt:
        ckpt.remove()
    return result


def save_probabilities(model, x_test, y_test, path, mc_passes: int = MC_PASSES) -> dict:
    """Write the test set's class probabilities to ``path`` (compressed ``.npz``,
    written atomically): ``deterministic`` (``model.predict``, dropout off),
    ``mc_mean`` (the mean of ``mc_passes`` passes with dropout on; absent for 0),
    both float16 ``[n, classes]``, and ``labels`` (uint8). Returns what the result
    JSON records about the file: its name, SHA-256, the pass count and the
    accuracy each array gives (a check that the file belongs to the run).
    A model without Dropout layers gets no MC passes (they would all be equal).
    The caller seeds the MC masks (``keras.utils.set_random_seed``)."""
    import hashlib
    import io

    import keras

    from .uncertainty import mc_predict

    mc_passes = check_nonnegative_int(mc_passes, "mc_passes")
    if not any(isinstance(layer, keras.layers.Dropout) for layer in model.layers):
        mc_passes = 0
    labels = np.asarray(y_test).argmax(-1) if np.ndim(y_test) == 2 else np.asarray(y_test).ravel()
    arrays = {"deterministic": np.asarray(model.predict(x_test, batch_size=1000, verbose=0), "float32"),
              "labels": labels.astype("uint8")}
    if mc_passes:  # dropout on: each pass draws new masks for every image
        samples = mc_predict(model, x_test, mc_passes, batch_size=1000)
        arrays["mc_mean"] = samples.astype("float64").mean(0).astype("float32")
    info = {"file": Path(path).name, "mc_passes": mc_passes, "dtype": "float16"}
    for key in ("deterministic", "mc_mean"):
        if key in arrays:
            info[f"{key}_accuracy"] = float((arrays[key].argmax(-1) == labels).mean())
            arrays[key] = arrays[key].astype("float16")
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    data = buf.getvalue()
    atomic_write_bytes(path, data)
    info["sha256"] = hashlib.sha256(data).hexdigest()
    return info


def load_probabilities(result: dict, folder=None) -> dict:
    """The arrays :func:`save_probabilities` stored for a recorded result, after
    checking the file's SHA-256 against the result's record."""
    import hashlib

    info = result.get("probabilities")
    if not info:
        raise ExperimentError(f"{result.get('name')}: no probabilities recorded (an older run; "
                              f"re-run it with the current runner)")
    path = results_dir("cifar10", folder) / info["file"]
    if not path.is_file():
        raise ExperimentError(f"{path} is missing: it is recorded beside {result.get('name')}.json")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != info["sha256"]:
        raise ExperimentError(f"{path} does not match the SHA-256 recorded in {result.get('name')}.json")
    import io

    with np.load(io.BytesIO(data)) as z:
        return {k: z[k] for k in z.files}


def load_results(folder=None, full_only: bool = True):
    """Recorded result files, keyed by name, from ``folder`` (default: the clone's
    ``results/cifar10``, see :mod:`helpers.paths`)."""
    out = {}
    for p in sorted(results_dir("cifar10", folder).glob("*.json")):
        r = json.loads(p.read_text())
        if r.get("finished") and (r.get("full_protocol") or not full_only):
            out[r["name"]] = r
    return out


HISTORY_KEYS = ("accuracy", "loss", "val_accuracy", "val_loss")


def validate_result(r: dict, stem: str | None = None) -> list[str]:
    """Everything wrong with a recorded full-protocol result (empty list: valid).

    Checks what a truncated, reduced, mislabelled or hand-edited file would get
    wrong: protocol and configuration against :data:`FULL_PROTOCOL` and
    :data:`~helpers.models.CIFAR_CONFIGS`, complete finite histories with
    accuracies in [0, 1] and losses >= 0, a test accuracy consistent with the
    last validation accuracy, exact ``--config``/``--seed`` tokens in the recorded
    command, and a wall time equal to the sum of the per-epoch times.
    """
    import re


    problems = []

    def need(ok, msg):
        if not ok:
            problems.append(msg)

    try:
        config, seed = r["config"], r["seed"]
        need(config in CIFAR_CONFIGS, f"unknown configuration {config!r}")
        need(isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0, f"bad seed {seed!r}")
        need(r.get("finished") is True and r.get("full_protocol") is True, "not a finished full run")
        need(r["name"] == f"{config}-seed{seed}", f"name {r['name']!r} does not match config/seed")
        if stem is not None:
            need(stem == r["name"], f"file name {stem!r} does not match {r['name']!r}")
        spec = CIFAR_CONFIGS.get(config, {})
        need(r.get("label") == spec.get("label"), f"label {r.get('label')!r} is not the table's")
        prot = r["protocol"]
        for key, value in FULL_PROTOCOL.items():
            need(prot.get(key) == value, f"protocol {key}={prot.get(key)!r}, not {value!r}")
        for key in ("dropout", "max_norm", "optimizer"):
            need(prot.get(key) == spec.get(key), f"protocol {key}={prot.get(key)!r} does not match {config}")
        epochs = FULL_PROTOCOL["epochs"]
        check_history(need, r["history"], epochs)
        check_test_scores(need, r, r["history"]["val_accuracy"][-1])
        prov = r["provenance"]
        cmd = prov["command"]
        need(re.search(rf"--config {re.escape(config)}(\s|$)", cmd) is not None, f"command lacks --config {config}")
        need(re.search(rf"--seed {seed}(\s|$)", cmd) is not None, f"command lacks the exact --seed {seed}")
        check_provenance(need, prov, epochs)
    except (KeyError, TypeError) as exc:
        problems.append(f"malformed result: missing or wrong-typed field {exc}")
    return problems


def check_history(need, history: dict, epochs: int) -> None:
    """Call ``need(ok, message)`` for each check of a recorded history: every key of
    :data:`HISTORY_KEYS`, ``epochs`` finite values, accuracies in [0, 1], losses >= 0."""
    import math

    for key in HISTORY_KEYS:
        values = history[key]
        need(len(values) == epochs, f"{key}: {len(values)} epochs, not {epochs}")
        need(all(isinstance(v, (int, float)) and math.isfinite(v) for v in values), f"{key}: non-finite")
        if "accuracy" in key:
            need(all(0.0 <= v <= 1.0 for v in values), f"{key} outside [0, 1]")
        else:
            need(all(v >= 0.0 for v in values), f"{key} negative")


def check_test_scores(need, scores: dict, last_val=None) -> None:
    """``scores["test_accuracy"]`` in [0, 1] (and within 0.05 of ``last_val``, the last
    validation accuracy, when given), ``scores["test_loss"]`` finite and >= 0."""
    import math

    acc, loss = scores["test_accuracy"], scores["test_loss"]
    need(0.0 <= acc <= 1.0, f"test accuracy {acc} outside [0, 1]")
    need(math.isfinite(loss) and loss >= 0.0, f"test loss {loss} negative or not finite")
    if last_val is not None:
        need(abs(acc - last_val) <= 0.05,
             f"test accuracy {acc:.4f} is implausibly far from the last validation accuracy {last_val:.4f}")


def check_provenance(need, prov: dict, epochs: int) -> None:
    """The provenance checks of every recorded result: clean git commits for every
    stretch, date, device, versions, a known dataset hash, ``epochs`` plausible
    per-epoch times and a total equal to their sum."""
    import math
    import re

    from .data import KNOWN_CIFAR10_SHA256

    need(bool(re.fullmatch(r"[0-9a-f]{40}", prov.get("git_commit") or "")), "git commit missing or dirty")
    need(all(bool(re.fullmatch(r"[0-9a-f]{40}", c or "")) for c in prov.get("git_commits", [])),
         "a stretch of the run was trained by uncommitted code")
    need(bool(prov.get("date_utc")) and bool(prov.get("device", {}).get("device")), "date or device missing")
    need({"tensorflow", "keras", "numpy", "python"} <= set(prov.get("versions", {})), "versions missing")
    need(prov.get("dataset", {}).get("sha256") in KNOWN_CIFAR10_SHA256, "dataset hash unknown")
    per_epoch = prov["wall_seconds_per_epoch"]
    need(len(per_epoch) == epochs and all(0 < t < 86400 for t in per_epoch), "per-epoch times implausible")
    need(math.isclose(prov["wall_seconds_total"], sum(per_epoch), rel_tol=1e-6),
         f"wall time {prov['wall_seconds_total']} is not the sum of the per-epoch times {sum(per_epoch):.1f}")


def summarize_results(results) -> dict:
    """Per configuration, from result dicts (``load_results().values()``): the seeds and
    their test accuracies, mean and sample standard deviation (:mod:`helpers.stats`;
    NaN for one seed), the epoch where validation loss was lowest (mean over seeds,
    1-based: where overfitting sets in), how far it has risen from that minimum by the
    last epoch, and the final gap between training and validation accuracy."""
    from .stats import mean_sd

    by_config: dict = {}
    for r in results:
        by_config.setdefault(r["config"], []).append(r)
    out = {}
    for config, rs in sorted(by_config.items()):
        rs = sorted(rs, key=lambda r: r["seed"])
        accs = [r["test_accuracy"] for r in rs]
        mean, sd = mean_sd(accs)
        out[config] = {
            "seeds": len(rs),
            "seed_list": [r["seed"] for r in rs],
            "test_accuracies": accs,
            "test_mean": mean,
            "test_sd": sd,
            "best_val_loss_epoch": float(np.mean([np.argmin(r["history"]["val_loss"]) + 1 for r in rs])),
            "epochs": int(np.mean([len(r["history"]["val_loss"]) for r in rs])),
            "val_loss_rise": float(np.mean([r["history"]["val_loss"][-1] - min(r["history"]["val_loss"])
                                            for r in rs])),
            "final_gap": float(np.mean([r["history"]["accuracy"][-1] - r["history"]["val_accuracy"][-1]
                                        for r in rs])),
        }
    return out


def compare_configs(summary: dict, left: str, right: str, level: float = 0.95) -> dict:
    """Difference of mean test accuracy ``right - left`` with its t-interval and verdict
    (:func:`helpers.stats.compare`; paired when both sides have the same seeds)."""
    from .stats import compare

    for c in (left, right):
        if c not in summary:
            raise ExperimentError(f"configuration {c!r} has no recorded result; have {sorted(summary)}")
    a, b = summary[left], summary[right]
    paired = a["seed_list"] == b["seed_list"]
    res = compare(a["test_accuracies"], b["test_accuracies"], paired=paired, level=level)
    return {"left": left, "right": right, "paired": paired, **res}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m helpers.experiments", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="experiment", required=True)
    c = sub.add_parser("cifar10", help="one CIFAR-10 configuration")
    c.add_argument("--config", required=True, choices=sorted(CIFAR_CONFIGS),
                   help="; ".join(f"{k}: {v['label']}" for k, v in CIFAR_CONFIGS.items()))
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--epochs", type=int, default=FULL_PROTOCOL["epochs"])
    c.add_argument("--batch-size", type=int, default=FULL_PROTOCOL["batch_size"])
    c.add_argument("--train-samples", type=int, default=FULL_PROTOCOL["train_samples"],
                   help="use only the first N training images (reduced protocol)")
    c.add_argument("--data", default=None, help="CIFAR-10 pack (default: $DROPOUT_BOOK_CIFAR10, data/, download)")
    root = project_root() or Path.cwd()
    c.add_argument("--results-dir", default=str(root / "results" / "cifar10"))
    c.add_argument("--state-dir", default=str(root / "runs" / "cifar10"),
                   help="where per-epoch checkpoints live until the run finishes")
    c.add_argument("--overwrite", action="store_true", help="replace an existing result file")
    c.add_argument("--stop-after", type=int, default=None,
                   help="stop after this many epochs in total (resume later with the same command)")
    c.add_argument("--mixed-precision", action="store_true",
                   help="float16 compute, float32 weights and softmax (GPUs with tensor cores)")
    c.add_argument("--jit-compile", choices=("auto", "on", "off"), default="auto",
                   help="XLA compilation of the training step (default: Keras decides)")
    c.add_argument("--mc-passes", type=int, default=MC_PASSES,
                   help=f"MC dropout passes for the stored test probabilities (default {MC_PASSES}; 0: none)")
    args = p.parse_args(argv)
    try:
        r = run_cifar10(config=args.config, seed=args.seed, epochs=args.epochs, batch_size=args.batch_size,
                        train_samples=args.train_samples, data_path=args.data, results_dir=args.results_dir,
                        state_dir=args.state_dir, overwrite=args.overwrite, stop_after=args.stop_after,
                        mixed_precision=args.mixed_precision, mc_passes=args.mc_passes,
                        jit_compile={"auto": "auto", "on": True, "off": False}[args.jit_compile],
                        command="python -m helpers.experiments " + shlex.join(sys.argv[1:] if argv is None else argv))
    except (ExperimentError, DatasetError, ValueError, TypeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not r["finished"]:
        print(f"stopped after epoch {r['epochs_done']}; run the same command again to continue")
    return 0


if __name__ == "__main__":
    sys.exit(main())
