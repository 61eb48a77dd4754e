"""Dropout among the regularisers on CIFAR-10: the recorded comparison of chapter 10.

    python -m helpers.cifar_regularisers --all
    python -m helpers.cifar_regularisers --method l2 --value 0.001 --seed 0

Protocol (:data:`PROTOCOL`): the chapter's ConvNet
(:func:`helpers.models.cifar_regularised`, Adam), fitted on the first 5,000
CIFAR-10 training images for 30 epochs (batch size 250), validated after every
epoch on the last 2,500 training images (never fitted), and scored once on the
10,000 test images. Each single method has a three-point grid (:data:`GRIDS`),
tried with seed 0; the value with the highest final validation accuracy is the
method's choice, which then runs with seeds 1-5 (fresh seeds: the winning tuning
run is not reported, so the choice does not flatter it). No regularisation and
the combinations with dropout (at both components' choices) run with seeds 1-5
too. Early stopping is the unregularised run's
weights from its epoch of lowest validation loss (what
``EarlyStopping(restore_best_weights=True)`` restores when its patience outlasts
the run), so it costs no training of its own.

Every run checkpoints after each epoch under ``runs/`` and resumes from there;
results are written atomically to ``results/cifar10-regularisers/`` with the
same provenance as :mod:`helpers.experiments`. ``--all`` runs the whole plan in
order, skipping what is recorded: interrupt it at any time and start it again.
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import sys
from pathlib import Path

import numpy as np

from ._validate import check_nonnegative_int, check_positive_int, check_rate
from .data import DatasetError, load_cifar10, prepare_cifar10
from .experiments import (
    ExperimentError,
    _EpochCheckpoint,
    _git_commit,
    check_history,
    check_provenance,
    check_test_scores,
    finish_run,
    fit_resumable,
    provenance,
    start_or_resume,
)
from .models import cifar_regularised
from .paths import project_root, results_dir

PROTOCOL = {"fit_samples": 5000, "val_samples": 2500, "epochs": 30, "batch_size": 250,
            "optimizer": "adam"}
#: The three values each single method tries (seed 0; chosen on validation accuracy).
#: The reported test loss is the cross-entropy alone (``test_penalty`` holds the L2 term).
GRIDS = {
    "l2": (1e-4, 1e-3, 1e-2),  # lambda on every kernel
    "noise": (0.05, 0.1, 0.2),  # GaussianNoise sd, pixels in [0, 1]
    "dropout": (0.2, 0.35, 0.5),  # rate of both Dropout layers
    "max_norm": (1.0, 2.0, 4.0),  # c, every filter and unit
    "augment": (0.05, 0.1, 0.2),  # RandomTranslation factor (with horizontal flips)
}
#: The keyword of :func:`~helpers.models.cifar_regularised` each method sets.
SETTING = {"l2": "l2", "noise": "noise", "dropout": "rate", "max_norm": "max_norm", "augment": "shift"}
#: Combinations with dropout: both components at their own chosen values.
COMBOS = {"dropout_l2": ("dropout", "l2"), "dropout_max_norm": ("dropout", "max_norm"),
          "dropout_augment": ("dropout", "augment")}
METHODS = ("none", *GRIDS, *COMBOS)
LABELS = {"none": "no regularisation", "early_stopping": "early stopping", "l2": "L2",
          "noise": "Gaussian noise", "dropout": "dropout", "max_norm": "max-norm",
          "augment": "augmentation", "dropout_l2": "dropout + L2",
          "dropout_max_norm": "dropout + max-norm", "dropout_augment": "dropout + augmentation"}
#: Every chosen network is scored on all of CIFAR-10's test images.
TEST_SAMPLES = 10000
TUNING_SEED = 0
#: The seeds of every reported run: none of them took part in choosing a value.
SEEDS = (1, 2, 3, 4, 5)
FOLDER = "cifar10-regularisers"


def _components(method: str) -> tuple:
    if method == "none":
        return ()
    return COMBOS.get(method, (method,))


def settings_of(method: str, values) -> dict:
    """The keyword arguments of :func:`~helpers.models.cifar_regularised` for ``method``
    at ``values`` (one per component), after checking both."""
    if method not in METHODS:
        raise ExperimentError(f"method must be one of {list(METHODS)}, got {method!r}")
    parts = _components(method)
    values = tuple(values)
    if len(values) != len(parts):
        raise ExperimentError(f"{method} takes {len(parts)} value(s) ({', '.join(parts) or 'none'}), "
                              f"got {len(values)}: {values}")
    out = {}
    for part, v in zip(parts, values, strict=True):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
            raise ExperimentError(f"{part}: value must be a positive number, got {v!r}")
        if float(f"{v:g}") != v:  # the run's name and command carry the value as %g
            raise ExperimentError(f"{part}: give at most 6 significant digits, got {v!r}")
        if part in ("dropout", "augment"):  # fractions: [0, 1)
            check_rate(v, "dropout rate" if part == "dropout" else "shift")
        out[SETTING[part]] = float(v)
    return out


def run_name(method: str, values, seed: int) -> str:
    values = tuple(float(v) for v in values)
    token = "+".join(f"{v:g}" for v in values)
    return f"{method}-{token}-seed{seed}" if token else f"{method}-seed{seed}"


def command_for(method: str, values, seed: int) -> str:
    args = ["--method", method, *[a for v in values for a in ("--value", f"{float(v):g}")],
            "--seed", str(seed)]
    return "python -m helpers.cifar_regularisers " + shlex.join(args)


def load_data(data_path=None):
    """(fit, validation, test) arrays of the protocol: images in [0, 1], one-hot labels."""
    (x_train, y_train), (x_test, y_test) = load_cifar10(data_path)
    n_fit, n_val = PROTOCOL["fit_samples"], PROTOCOL["val_samples"]
    fit = prepare_cifar10(x_train[:n_fit], y_train[:n_fit])
    val = prepare_cifar10(x_train[-n_val:], y_train[-n_val:])
    if len(x_test) != TEST_SAMPLES:
        raise DatasetError(f"CIFAR-10 has {TEST_SAMPLES} test images, this copy {len(x_test)}")
    return fit, val, prepare_cifar10(x_test, y_test)


def run_one(method: str, values=(), seed: int = 0, *, data=None, data_path=None, results_dir=None,
            state_dir=None, stop_after=None, verbose: bool = True, epochs: int | None = None):
    """Train ``method`` at ``values`` with ``seed``; return the result (written to
    ``results_dir`` when given). ``epochs`` other than the protocol's is for tests
    and is never written as a recorded result."""
    settings = settings_of(method, values)
    values = tuple(float(v) for v in values)
    seed = check_nonnegative_int(seed, "seed")
    epochs = PROTOCOL["epochs"] if epochs is None else check_positive_int(epochs, "epochs")
    if results_dir is not None and epochs != PROTOCOL["epochs"]:
        raise ExperimentError("a result with other epochs than the protocol's is not written")
    if stop_after is not None:
        stop_after = check_positive_int(stop_after, "stop_after")
    name = run_name(method, values, seed)
    code_commit = _git_commit()
    out_path = Path(results_dir) / f"{name}.json" if results_dir else None
    if out_path is not None and out_path.exists():
        raise ExperimentError(f"{out_path} already exists; delete it to record that run again.")
    (x_fit, y_fit), (x_val, y_val), (x_test, y_test) = data or load_data(data_path)
    meta = {"method": method, "values": list(values), "seed": seed, "epochs": epochs,
            **{k: v for k, v in PROTOCOL.items() if k != "epochs"}}
    ckpt = _EpochCheckpoint(Path(state_dir) / name, meta) if state_dir else None
    progress = ckpt.load() if ckpt else None
    model, state = start_or_resume(ckpt, progress, seed, code_commit,
                                   lambda: cifar_regularised(**settings, seed=seed),
                                   f"{name} after epoch {{}}/{epochs}" if verbose else None)
    history, best = state["history"], state["best"]
    done = fit_resumable(model, x_fit, y_fit, name=name, epochs=epochs,
                         batch_size=PROTOCOL["batch_size"], ckpt=ckpt, stop_after=stop_after,
                         verbose=verbose, **state, validation_data=(x_val, y_val))
    if done < epochs:
        return {"name": name, "finished": False, "epochs_done": done, "history": history}

    if not best:
        raise ExperimentError(f"{name}: the validation loss was never finite, so there is no epoch "
                              f"for early stopping; delete {ckpt.state_dir if ckpt else 'the run'} "
                              f"and check the settings")
    test = test_scores(model, x_test, y_test)
    if ckpt:
        model.load_weights(ckpt.state_dir / best["file"])
    else:
        model.set_weights(best["weights"])
    restored = test_scores(model, x_test, y_test)
    result = {
        "name": name, "finished": True, "method": method, "label": LABELS[method],
        "values": list(values), "settings": settings, "seed": seed,
        "protocol": {**PROTOCOL, "epochs": epochs},
        "history": history,
        **test,
        "early_stopping": {"epoch": int(best["epoch"]), "val_loss": float(best["val_loss"]),
                           "val_accuracy": float(best["val_accuracy"]), **restored},
        "provenance": provenance(command_for(method, values, seed), code_commit, state["git_commits"],
                                 data_path, state["epoch_seconds"], state["checkpoint_seconds"],
                                 progress is not None),
    }
    return finish_run(result, out_path, ckpt, verbose)


def test_scores(model, x, y) -> dict:
    """``test_accuracy``, ``test_loss`` (the categorical cross-entropy exactly as Keras'
    ``evaluate`` computes it, *without* the L2 term it adds for an L2 model, so that
    every method's loss means the same thing) and ``test_penalty`` (that L2 term,
    ``sum(model.losses)`` at the final weights; 0 without L2)."""
    import keras

    ev = model.evaluate(x, y, batch_size=1000, verbose=0, return_dict=True)
    penalty = float(sum(float(keras.ops.convert_to_numpy(v)) for v in model.losses))
    return {"test_accuracy": float(ev["accuracy"]), "test_loss": float(ev["loss"]) - penalty,
            "test_penalty": penalty}


def load_results(folder=None) -> dict:
    """Recorded results by name (``results/cifar10-regularisers`` of the clone)."""
    out = {}
    for p in sorted(results_dir(FOLDER, folder).glob("*.json")):
        r = json.loads(p.read_text())
        if r.get("finished"):
            out[r["name"]] = r
    return out


def choose(results: dict) -> dict:
    """Each single method's chosen value: the grid value whose tuning run (seed 0)
    ended with the highest validation accuracy (ties: the first in the grid).
    Methods whose grid is not complete yet are left out."""
    chosen = {}
    for method, grid in GRIDS.items():
        scores = []
        for v in grid:
            r = results.get(run_name(method, (v,), TUNING_SEED))
            if r is None:
                break
            scores.append(r["history"]["val_accuracy"][-1])
        else:
            chosen[method] = grid[int(np.argmax(scores))]
    return chosen


def plan(results: dict) -> list[tuple]:
    """Every run of the comparison as (method, values, seed), in the order ``--all``
    runs them; runs that depend on a choice not yet made are left out."""
    runs = [(m, (v,), TUNING_SEED) for m, grid in GRIDS.items() for v in grid]
    runs += [("none", (), s) for s in SEEDS]
    chosen = choose(results)
    for m in GRIDS:
        if m in chosen:
            runs += [(m, (chosen[m],), s) for s in SEEDS]
    for combo, parts in COMBOS.items():
        if all(p in chosen for p in parts):
            runs += [(combo, tuple(chosen[p] for p in parts), s) for s in SEEDS]
    return runs


def complete(results: dict) -> bool:
    """Whether every planned run is recorded (and every choice made)."""
    return len(choose(results)) == len(GRIDS) and all(
        run_name(*r) in results for r in plan(results))


def validate_result(r: dict, stem: str | None = None) -> list[str]:
    """Everything wrong with a recorded result of the comparison (empty list: valid)."""
    problems = []

    def need(ok, msg):
        if not ok:
            problems.append(msg)

    try:
        method, values, seed = r["method"], tuple(r["values"]), r["seed"]
        need(method in METHODS, f"unknown method {method!r}")
        need(isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0, f"bad seed {seed!r}")
        need(r.get("finished") is True, "not finished")
        need(r["name"] == run_name(method, values, seed), f"name {r['name']!r} does not match")
        if stem is not None:
            need(stem == r["name"], f"file name {stem!r} does not match {r['name']!r}")
        need(r.get("label") == LABELS.get(method), f"label {r.get('label')!r} is not the table's")
        need(r.get("settings") == settings_of(method, values), "settings do not match the method's values")
        need(r.get("protocol") == PROTOCOL, f"protocol {r.get('protocol')} is not {PROTOCOL}")
        epochs = PROTOCOL["epochs"]
        check_history(need, r["history"], epochs)
        es = r["early_stopping"]
        check_test_scores(need, r, r["history"]["val_accuracy"][-1])
        check_test_scores(need, es)
        for part in (r, es):  # the test loss is the cross-entropy; the L2 term is apart
            if "l2" in r["settings"]:
                need(part.get("test_penalty", 0.0) > 0.0, "an L2 run without its penalty recorded apart")
            else:
                need(abs(part.get("test_penalty", 0.0)) <= 1e-6, "a penalty recorded for a run without L2")
        vl = r["history"]["val_loss"]
        need(es["epoch"] == int(np.argmin(vl)) + 1 and es["val_loss"] == min(vl),
             "early stopping's epoch is not the epoch of lowest validation loss")
        prov = r["provenance"]
        need(prov["command"] == command_for(method, values, seed), "command does not match the run")
        check_provenance(need, prov, epochs)
    except (KeyError, TypeError, ValueError, ExperimentError) as exc:
        problems.append(f"malformed result: {exc}")
    return problems


def reported_runs(results: dict, method: str, chosen: dict | None = None):
    """The reported runs of ``method`` (seeds :data:`SEEDS`, at its chosen values), or
    None while a choice or a run is missing."""
    chosen = choose(results) if chosen is None else chosen
    parts = _components(method)
    if not all(p in chosen for p in parts):
        return None
    rs = [results.get(run_name(method, tuple(chosen[p] for p in parts), s)) for s in SEEDS]
    return None if any(r is None for r in rs) else rs


def scores(results: dict) -> dict:
    """Per method of the comparison (early stopping included), at its chosen value:
    the seeds, test accuracies and losses (in seed order), the chosen values and
    the tuning run's final validation accuracy."""
    chosen = choose(results)
    out = {}
    for method in ("none", "early_stopping", *GRIDS, *COMBOS):
        base = "none" if method == "early_stopping" else method
        rs = reported_runs(results, base, chosen)
        if rs is None:
            continue
        values = tuple(rs[0]["values"])
        src = [r["early_stopping"] if method == "early_stopping" else r for r in rs]
        out[method] = {"label": LABELS[method], "values": values, "seeds": list(SEEDS),
                       "test_accuracy": [p["test_accuracy"] for p in src],
                       "test_loss": [p["test_loss"] for p in src]}
    return out


def _value_text(method: str, values) -> str:
    names = {"l2": "λ", "noise": "sd", "dropout": "rate", "max_norm": "c", "augment": "shift"}
    return ", ".join(f"{names[p]} = {v:g}" for p, v in zip(_components(method), values, strict=True))


def grid_table(results: dict):
    """Every tuning run (seed 0): method, value, final validation accuracy, chosen."""
    import pandas as pd

    chosen = choose(results)
    rows = []
    for method, grid in GRIDS.items():
        for v in grid:
            r = results.get(run_name(method, (v,), TUNING_SEED))
            rows.append({"method": LABELS[method], "setting": _value_text(method, (v,)),
                         "validation accuracy": np.nan if r is None else r["history"]["val_accuracy"][-1],
                         "chosen": "✓" if chosen.get(method) == v else ""})
    return pd.DataFrame(rows)


def verdicts(table: dict, reference: str, metric: str = "test_accuracy") -> dict:
    """Per method of :func:`scores`: :func:`helpers.stats.compare` against
    ``reference``, paired by seed."""
    from . import stats

    ref = table[reference][metric]
    return {m: stats.compare(ref, t[metric], paired=True) for m, t in table.items()}


def results_table(table: dict):
    """One row per method of :func:`scores`: chosen setting, test accuracy and loss
    (mean ± sd over seeds), paired verdicts in accuracy against no regularisation
    and against dropout."""
    import pandas as pd

    from . import stats

    vs_none, vs_drop = verdicts(table, "none"), verdicts(table, "dropout")

    def short(res):
        return f"{stats.signed(res['diff'])} ({res['verdict']})"

    rows = []
    for m, t in table.items():
        rows.append({"method": t["label"],
                     "chosen setting": "lowest validation loss" if m == "early_stopping"
                     else _value_text(m, t["values"]) or "–",
                     "test accuracy": stats.format_mean_sd(t["test_accuracy"]),
                     "test loss": stats.format_mean_sd(t["test_loss"]),
                     "vs none": "–" if m == "none" else short(vs_none[m]),
                     "vs dropout": "–" if m in ("none", "dropout") else short(vs_drop[m])})
    return pd.DataFrame(rows)


def provenance_summary(results: dict) -> dict:
    """What the recorded runs have in common and what they cost: devices, dates,
    code commits, versions, dataset hashes, and the total and mean wall time."""
    rs = list(results.values())
    prov = [r["provenance"] for r in rs]
    walls = [p["wall_seconds_total"] for p in prov]
    dates = sorted(p["date_utc"] for p in prov)
    return {
        "runs": len(rs),
        "devices": sorted({p["device"]["device"] for p in prov}),
        "first_date": dates[0][:10], "last_date": dates[-1][:10],
        # in the order they first trained a run
        "commits": list(dict.fromkeys(c[:7] for p in sorted(prov, key=lambda p: p["date_utc"])
                                      for c in p["git_commits"])),
        "versions": sorted({f"TensorFlow {p['versions']['tensorflow']}, Keras {p['versions']['keras']}"
                            for p in prov}),
        "dataset_sha256": sorted({p["dataset"]["sha256"] for p in prov}),
        "wall_hours": float(sum(walls) / 3600), "wall_minutes_per_run": float(np.mean(walls) / 60),
        "resumed": sum(bool(p["resumed"]) for p in prov),
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m helpers.cifar_regularisers", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--all", action="store_true", help="run every planned run not yet recorded")
    p.add_argument("--method", choices=METHODS)
    p.add_argument("--value", type=float, action="append", default=[],
                   help="the method's value (twice for a combination: dropout rate, then the other)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data", default=None, help="CIFAR-10 pack (default: $DROPOUT_BOOK_CIFAR10, data/, download)")
    root = project_root() or Path.cwd()
    p.add_argument("--results-dir", default=str(root / "results" / FOLDER))
    p.add_argument("--state-dir", default=str(root / "runs" / FOLDER))
    p.add_argument("--stop-after", type=int, default=None,
                   help="stop after this many epochs in total (resume later with the same command)")
    args = p.parse_args(argv)
    if args.all == (args.method is not None):
        p.error("give either --all or --method")
    try:
        if args.method:
            todo = [(args.method, tuple(args.value), args.seed)]
        data = load_data(args.data)
        Path(args.results_dir).mkdir(parents=True, exist_ok=True)
        while True:
            if args.all:
                recorded = load_results(args.results_dir)
                todo = [r for r in plan(recorded) if run_name(*r) not in recorded][:1]
                if not todo:
                    print(f"all {len(plan(recorded))} runs recorded in {args.results_dir}")
                    return 0
            r = run_one(*todo[0], data=data, data_path=args.data, results_dir=args.results_dir,
                        state_dir=args.state_dir, stop_after=args.stop_after)
            if not r["finished"]:
                print(f"stopped after epoch {r['epochs_done']}; run the same command again to continue")
                return 0
            if not args.all:
                return 0
    except (ExperimentError, DatasetError, ValueError, TypeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
