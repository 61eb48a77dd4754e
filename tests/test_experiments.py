"""The CIFAR-10 runner: resume after an interruption, atomic results, clear refusals."""

import json

import numpy as np
import pytest

from helpers import experiments
from helpers.experiments import ExperimentError, run_cifar10

from .test_data import _fake_archive


@pytest.fixture(scope="module")
def tiny_pack(tmp_path_factory):
    from helpers.make_cifar10_pack import build_pack

    d = tmp_path_factory.mktemp("pack")
    _fake_archive(d / "cifar-10-python.tar.gz", n_train_per_batch=8, n_test=10)
    build_pack(d / "cifar-10-python.tar.gz", d / "pack.npz")
    return d / "pack.npz"


def _run(tiny_pack, tmp_path, **kw):
    args = dict(config="b", seed=0, epochs=4, batch_size=8, train_samples=40, data_path=tiny_pack,
                results_dir=tmp_path / "results", state_dir=tmp_path / "runs", verbose=False)
    args.update(kw)
    return run_cifar10(**args)


def test_interrupt_then_resume_keeps_every_epoch(tiny_pack, tmp_path):
    first = _run(tiny_pack, tmp_path, stop_after=2)
    assert not first["finished"] and first["epochs_done"] == 2
    progress = json.loads((tmp_path / "runs" / "b-seed0-reduced-e4-n40" / "progress.json").read_text())
    assert progress["epoch"] == 2 and len(progress["history"]["loss"]) == 2
    assert not (tmp_path / "results").exists() or not list((tmp_path / "results").iterdir())

    done = _run(tiny_pack, tmp_path)
    assert done["finished"] and done["provenance"]["resumed"]
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert len(done["history"][key]) == 4, key
    # the first two epochs are the ones recorded before the interruption
    assert done["history"]["loss"][:2] == progress["history"]["loss"]
    assert len(done["provenance"]["wall_seconds_per_epoch"]) == 4
    saved = json.loads((tmp_path / "results" / "b-seed0-reduced-e4-n40.json").read_text())
    assert saved["full_protocol"] is False
    assert saved["provenance"]["dataset"]["sha256"]
    assert {"tensorflow", "keras"} <= set(saved["provenance"]["versions"])
    assert not (tmp_path / "runs" / "b-seed0-reduced-e4-n40").exists(), "checkpoints cleaned up"


def test_probabilities_stored_beside_the_result(tiny_pack, tmp_path):
    """The test set's probabilities (deterministic and MC-averaged) sit beside the
    JSON, float16, checked by SHA-256; config (a) has no dropout, so no MC passes."""
    r = _run(tiny_pack, tmp_path, epochs=1, mc_passes=3)
    info = r["probabilities"]
    assert info["file"] == "b-seed0-reduced-e1-n40.probs.npz" and info["mc_passes"] == 3
    arrays = experiments.load_probabilities(r, tmp_path / "results")
    assert set(arrays) == {"deterministic", "mc_mean", "labels"}
    for key in ("deterministic", "mc_mean"):
        p = arrays[key]
        assert p.dtype == np.float16 and p.shape == (10, 10)
        np.testing.assert_allclose(p.astype("float64").sum(1), 1.0, atol=5e-3)
        assert info[f"{key}_accuracy"] == pytest.approx((p.argmax(1) == arrays["labels"]).mean())
    assert not np.array_equal(arrays["deterministic"], arrays["mc_mean"])  # dropout was on
    assert info["deterministic_accuracy"] == pytest.approx(r["test_accuracy"], abs=1e-6)
    # a changed file is refused
    path = tmp_path / "results" / info["file"]
    path.write_bytes(path.read_bytes()[:-1] + b"x")
    with pytest.raises(ExperimentError, match="SHA-256"):
        experiments.load_probabilities(r, tmp_path / "results")
    a = _run(tiny_pack, tmp_path, config="a", epochs=1, mc_passes=3)
    assert a["probabilities"]["mc_passes"] == 0
    assert "mc_mean" not in experiments.load_probabilities(a, tmp_path / "results")
    with pytest.raises(ExperimentError, match="no probabilities"):
        experiments.load_probabilities({"name": "old"}, tmp_path / "results")


def test_mixed_precision_and_xla_options_are_recorded(tiny_pack, tmp_path):
    r = _run(tiny_pack, tmp_path, epochs=1, mixed_precision=True, jit_compile=False, mc_passes=0,
             state_dir=None)
    assert r["protocol"]["mixed_precision"] is True and r["protocol"]["jit_compile"] is False
    from helpers.models import cifar_convnet

    m = cifar_convnet(seed=0, mixed_precision=True)
    assert m.get_layer("conv1").compute_dtype == "float16"
    assert m.get_layer("conv1").variable_dtype == "float32"
    assert m.get_layer("class").compute_dtype == "float32"  # the softmax stays float32
    assert type(m.optimizer).__name__ == "LossScaleOptimizer"
    with pytest.raises(ExperimentError, match="mixed_precision"):
        _run(tiny_pack, tmp_path, epochs=1, mixed_precision="yes")
    with pytest.raises(ExperimentError, match="jit_compile"):
        _run(tiny_pack, tmp_path, epochs=1, jit_compile="fast")


def test_refuses_to_overwrite(tiny_pack, tmp_path):
    _run(tiny_pack, tmp_path, epochs=1)
    with pytest.raises(ExperimentError, match="--overwrite"):
        _run(tiny_pack, tmp_path, epochs=1)
    assert _run(tiny_pack, tmp_path, epochs=1, overwrite=True)["finished"]


def test_mismatched_state_is_refused(tiny_pack, tmp_path):
    _run(tiny_pack, tmp_path, stop_after=1)
    state = tmp_path / "runs" / "b-seed0-reduced-e4-n40" / "progress.json"
    p = json.loads(state.read_text())
    p["meta"]["batch_size"] = 99
    state.write_text(json.dumps(p))
    with pytest.raises(ExperimentError, match="different settings"):
        _run(tiny_pack, tmp_path)


@pytest.mark.parametrize("kw, match", [({"config": "z"}, "config"), ({"epochs": 0}, "epochs"),
                                       ({"train_samples": 60000}, "train_samples"), ({"seed": -1}, "seed")])
def test_bad_arguments(tiny_pack, tmp_path, kw, match):
    with pytest.raises((ExperimentError, ValueError, TypeError), match=match):
        _run(tiny_pack, tmp_path, **kw)


def test_cli_reports_errors_cleanly(tmp_path, capsys):
    code = experiments.main(["cifar10", "--config", "b", "--data", str(tmp_path / "missing.npz"),
                             "--results-dir", str(tmp_path)])
    assert code == 2
    assert "does not exist" in capsys.readouterr().err


def test_full_protocol_name():
    assert experiments.result_name("a", 1, 55, 50000) == "a-seed1"
    assert experiments.result_name("a", 1, 10, 50000) == "a-seed1-reduced-e10-n50000"


def _fake_result(config, acc, val_loss, train_acc=0.9, val_acc=0.7, seed=0):
    return {"config": config, "test_accuracy": acc, "seed": seed,
            "history": {"val_loss": val_loss, "accuracy": [0.5, train_acc], "val_accuracy": [0.4, val_acc]}}


def test_summarize_and_compare():
    from helpers.experiments import compare_configs, summarize_results

    results = [_fake_result("a", 0.60, [1.0, 0.9, 1.2]), _fake_result("a", 0.62, [1.0, 1.1, 1.3], seed=1),
               _fake_result("b", 0.70, [1.0, 0.9, 0.8]), _fake_result("b", 0.71, [1.0, 0.8, 0.85], seed=1),
               _fake_result("c", 0.605, [1.0, 0.9, 0.8])]
    s = summarize_results(results)
    assert s["a"]["seeds"] == 2 and abs(s["a"]["test_mean"] - 0.61) < 1e-12
    assert abs(s["a"]["test_sd"] - np.std([0.60, 0.62], ddof=1)) < 1e-12
    assert s["a"]["best_val_loss_epoch"] == 1.5  # epochs 2 and 1
    assert s["b"]["best_val_loss_epoch"] == 2.5  # epochs 3 and 2
    assert abs(s["a"]["final_gap"] - 0.2) < 1e-12
    assert s["a"]["val_loss_rise"] == pytest.approx(0.3)  # (1.2 - 0.9 + 1.3 - 1.0) / 2
    assert s["b"]["val_loss_rise"] == pytest.approx(0.025)
    assert np.isnan(s["c"]["test_sd"])
    ab = compare_configs(s, "a", "b")
    assert ab["verdict"] == "higher" and abs(ab["diff"] - 0.095) < 1e-12
    assert compare_configs(s, "b", "a")["verdict"] == "lower"
    assert compare_configs(s, "a", "c")["verdict"] == "needs two seeds per side"
    # same means as a but a tiny difference: not resolved
    s2 = summarize_results(results[:2] + [_fake_result("d", 0.611, [1.0]),
                                          _fake_result("d", 0.629, [1.0], seed=1)])
    assert compare_configs(s2, "a", "d")["verdict"] == "within seed noise"
    with pytest.raises(ExperimentError, match="no recorded result"):
        compare_configs(s, "a", "z")


def test_the_commit_is_the_one_the_code_was_loaded_from(tiny_pack, tmp_path, monkeypatch):
    """A commit made while a run trains must not be credited with it: the commit is
    read when the run starts, and a resumed run lists the commit of every stretch."""
    commits = iter(["a" * 40, "b" * 40, "c" * 40, "d" * 40])
    monkeypatch.setattr(experiments, "_git_commit", lambda: next(commits))
    first = _run(tiny_pack, tmp_path, stop_after=2)  # reads "a"
    assert not first["finished"]
    done = _run(tiny_pack, tmp_path)  # reads "b"; "c" would be a read at the end
    assert done["provenance"]["git_commit"] == "b" * 40
    assert done["provenance"]["git_commits"] == ["a" * 40, "b" * 40]
    fresh = _run(tiny_pack, tmp_path / "other")  # one stretch, read at its start
    assert fresh["provenance"]["git_commits"] == [fresh["provenance"]["git_commit"]] == ["c" * 40]


def test_a_stretch_trained_by_uncommitted_code_is_refused():
    from pathlib import Path

    real = json.loads((Path(__file__).resolve().parents[1] / "results" / "cifar10" / "b-seed1.json")
                      .read_text())
    assert experiments.validate_result(real, "b-seed1") == []
    tampered = json.loads(json.dumps(real))
    tampered["provenance"]["git_commits"] = [real["provenance"]["git_commit"],
                                             real["provenance"]["git_commit"] + "+dirty"]
    assert any("uncommitted" in p for p in experiments.validate_result(tampered, "b-seed1"))
