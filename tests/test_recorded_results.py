"""Every committed result under results/cifar10/ is a finished, full-protocol run with provenance.

These files feed the CIFAR-10 chapter's numbers; a hand-edited, truncated or
reduced-protocol file must fail here rather than reach the book. The tampering
tests below edit a copy of a real file in the ways a careless (or hopeful) edit
would, and each must be caught.

After recording new runs, refresh the summary snapshot with
``UPDATE_SNAPSHOTS=1 pytest tests/test_recorded_results.py`` and commit it.
"""

import copy
import json
import os
from pathlib import Path

import numpy as np
import pytest

from helpers.experiments import load_results, summarize_results, validate_result
from helpers.models import CIFAR_CONFIGS

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "results" / "cifar10"
FILES = sorted(RESULTS.glob("*.json"))
SNAPSHOT = ROOT / "tests" / "snapshots" / "cifar10_summary.json"
SEEDS = (0, 1, 2)
COMPLETE = ("a", "b", "c", "d", "e")  # every configuration recorded in full


def test_results_folder_has_files():
    assert FILES, f"no recorded results in {RESULTS}"


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_recorded_result_is_valid(path):
    assert validate_result(json.loads(path.read_text()), path.stem) == []


#: Runs whose test-set probabilities the calibration chapter reads (re-run with the
#: current runner, which stores them).
WITH_PROBABILITIES = ("a-seed0", "b-seed0")


@pytest.mark.parametrize("name", WITH_PROBABILITIES)
def test_stored_probabilities_belong_to_their_run(name):
    """The .probs.npz beside a result: present, committed (not git-ignored), its
    SHA-256 the one the result records, and its predictions the run's own: the
    deterministic pass gives the recorded test accuracy (float16 storage can tie a
    handful of the 10,000 rows), MC passes only where the model has Dropout."""
    import subprocess

    from helpers.experiments import load_probabilities

    result = json.loads((RESULTS / f"{name}.json").read_text())
    assert "probabilities" in result, f"{name} was recorded without probabilities"
    info = result["probabilities"]
    path = RESULTS / info["file"]
    # asked of the repository's own path (a copy of the tree inside an ignored folder,
    # like mutmut's mutants/, would otherwise report every file as ignored)
    top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=ROOT, capture_output=True,
                         text=True).stdout.strip()
    rel = path.relative_to(ROOT).as_posix()
    ignored = subprocess.run(["git", "-C", top, "check-ignore", "-q", rel]).returncode == 0
    assert not ignored, f"{path.name} is git-ignored: it would never reach the repository"
    arrays = load_probabilities(result, RESULTS)
    labels = arrays["labels"]
    assert labels.shape == (10000,) and set(np.unique(labels)) == set(range(10))
    for key in ("deterministic", "mc_mean"):
        if key not in arrays:
            continue
        p = arrays[key]
        assert p.shape == (10000, 10) and p.dtype == np.float16
        assert np.allclose(p.astype("float64").sum(1), 1.0, atol=1e-2)
        acc = float((p.argmax(1) == labels).mean())  # float16 can tie a few rows
        assert abs(acc - info[f"{key}_accuracy"]) <= 5e-4, (key, acc, info[f"{key}_accuracy"])
    det = float((arrays["deterministic"].argmax(1) == labels).mean())
    assert abs(det - result["test_accuracy"]) <= 5e-4, (det, result["test_accuracy"])
    has_dropout = CIFAR_CONFIGS[result["config"]]["dropout"]
    assert ("mc_mean" in arrays) == bool(has_dropout) == (info["mc_passes"] > 0)


@pytest.mark.parametrize("config", COMPLETE)
def test_planned_runs_are_all_present(config):
    missing = [f"{config}-seed{s}" for s in SEEDS if not (RESULTS / f"{config}-seed{s}.json").exists()]
    assert not missing, f"planned runs missing: {missing} (scripts/run_cifar10_all.sh 3)"


def test_every_configuration_is_planned_or_pending():
    pending = [f"{c}-seed{s}" for c in CIFAR_CONFIGS if c not in COMPLETE for s in SEEDS
               if not (RESULTS / f"{c}-seed{s}.json").exists()]
    if pending:
        pytest.xfail(f"still to record: {pending}")


def test_summary_matches_the_snapshot():
    summary = summarize_results(load_results(RESULTS).values())
    table = {c: {"seeds": v["seed_list"], "test_mean": round(v["test_mean"], 4),
                 "test_accuracies": [round(a, 4) for a in v["test_accuracies"]]}
             for c, v in summary.items()}
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
    assert table == json.loads(SNAPSHOT.read_text()), "results changed: refresh the snapshot on purpose"


def test_load_results_reads_every_file():
    assert sorted(load_results(RESULTS)) == [p.stem for p in FILES]


def _b0():
    return json.loads((RESULTS / "b-seed0.json").read_text())


def _edit(r, path, value):
    node = r
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return r


TAMPERING = {
    "test accuracy raised to 0.99": (("test_accuracy",), 0.99),
    "validation accuracy 5.0": (("history", "val_accuracy", 10), 5.0),
    "negative loss": (("history", "loss", 3), -1.0),
    "negative test loss": (("test_loss",), -1.0),
    "wall time 1e9 s": (("provenance", "wall_seconds_total"), 1e9),
    "seed token 10 for seed 1": (("provenance", "command"), "python -m helpers.experiments cifar10 --config b --seed 10"),
    "label of another configuration": (("label",), CIFAR_CONFIGS["c"]["label"]),
    "optimizer changed": (("protocol", "optimizer"), "sgd"),
    "fewer epochs": (("protocol", "epochs"), 30),
    "dirty commit": (("provenance", "git_commit"), "0" * 40 + "+dirty"),
    "unknown dataset": (("provenance", "dataset", "sha256"), "f" * 64),
    "seed True (a bool is an int in Python)": (("seed",), True),
}


@pytest.mark.parametrize("edit", sorted(TAMPERING))
def test_tampered_result_is_rejected(edit):
    r = copy.deepcopy(_b0())
    if edit == "seed token 10 for seed 1":
        r = {**r, "seed": 1, "name": "b-seed1", "protocol": {**r["protocol"], "seed": 1}}
    if edit.startswith("seed True"):  # everything else consistent with seed 1 == True
        r = {**r, "name": "b-seed1", "protocol": {**r["protocol"], "seed": 1},
             "provenance": {**r["provenance"],
                            "command": "python -m helpers.experiments cifar10 --config b --seed 1"}}
    path, value = TAMPERING[edit]
    problems = validate_result(_edit(r, path, value))
    assert problems, f"not caught: {edit}"
    if edit.startswith("seed True"):
        assert any("bad seed" in p for p in problems), problems


def test_truncated_history_is_rejected():
    r = copy.deepcopy(_b0())
    r["history"]["val_loss"] = r["history"]["val_loss"][:40]
    assert any("val_loss" in p for p in validate_result(r))
