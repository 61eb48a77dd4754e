"""Every committed result under results/cifar10/ is a finished, full-protocol run with provenance.

These files feed the CIFAR-10 chapter's numbers; a hand-edited, truncated or
reduced-protocol file must fail here rather than reach the book.
"""

import json
import math
from pathlib import Path

import pytest

from helpers.data import KNOWN_CIFAR10_SHA256
from helpers.experiments import FULL_PROTOCOL, load_results
from helpers.models import CIFAR_CONFIGS

RESULTS = Path(__file__).resolve().parents[1] / "results" / "cifar10"
FILES = sorted(RESULTS.glob("*.json"))
HISTORY_KEYS = ("accuracy", "loss", "val_accuracy", "val_loss")


def test_results_folder_has_files():
    assert FILES, f"no recorded results in {RESULTS}"


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_recorded_result_is_complete_and_honest(path):
    r = json.loads(path.read_text())
    assert r["name"] == path.stem
    assert r["finished"] is True
    assert r["config"] in CIFAR_CONFIGS
    assert path.stem == f"{r['config']}-seed{r['seed']}", "only full-protocol runs are committed"
    assert r["full_protocol"] is True
    protocol = r["protocol"]
    for key in ("epochs", "batch_size", "train_samples", "validation_split"):
        assert protocol[key] == FULL_PROTOCOL[key], key
    model = CIFAR_CONFIGS[r["config"]]
    for key in ("dropout", "max_norm", "optimizer"):
        assert protocol[key] == model[key], key
    epochs = FULL_PROTOCOL["epochs"]
    for key in HISTORY_KEYS:
        values = r["history"][key]
        assert len(values) == epochs, f"{key}: {len(values)} epochs, not {epochs}"
        assert all(math.isfinite(v) for v in values), key
    assert 0.0 < r["test_accuracy"] < 1.0 and math.isfinite(r["test_loss"])

    prov = r["provenance"]
    assert f"--config {r['config']}" in prov["command"] and f"--seed {r['seed']}" in prov["command"]
    assert len(prov["git_commit"]) == 40
    assert prov["date_utc"] and prov["device"]["device"]
    assert {"tensorflow", "keras", "numpy", "python"} <= set(prov["versions"])
    assert prov["dataset"]["sha256"] in KNOWN_CIFAR10_SHA256
    assert len(prov["wall_seconds_per_epoch"]) == epochs
    assert prov["wall_seconds_total"] >= sum(prov["wall_seconds_per_epoch"]) * 0.99


def test_load_results_reads_every_file():
    assert sorted(load_results(RESULTS)) == [p.stem for p in FILES]
