"""The recorded CIFAR-10 regulariser comparison (chapter 10): its plan, its choices,
its validation of result files, resuming with early stopping's weights, and the
recorded files themselves."""

import copy
import json

import numpy as np
import pytest

from helpers import cifar_regularisers as cr
from helpers.data import KNOWN_CIFAR10_SHA256
from helpers.experiments import ExperimentError
from helpers.paths import project_root


def fake_result(method="dropout", values=(0.35,), seed=0, final_val=0.6, test_acc=None):
    """A result that passes validation: what the runner writes, with made-up numbers."""
    test_acc = final_val if test_acc is None else test_acc
    penalty = 0.05 if "l2" in cr.settings_of(method, values) else 0.0
    e = cr.PROTOCOL["epochs"]
    val_loss = [2.0 - 0.05 * i for i in range(10)] + [1.6 + 0.01 * i for i in range(e - 10)]
    r = {
        "name": cr.run_name(method, values, seed), "finished": True, "method": method,
        "label": cr.LABELS[method], "values": list(values), "settings": cr.settings_of(method, values),
        "seed": seed, "protocol": dict(cr.PROTOCOL),
        "history": {"accuracy": [0.5] * e, "loss": [1.0] * e, "val_accuracy": [0.5] * (e - 1) + [final_val],
                    "val_loss": val_loss},
        "test_loss": 1.2, "test_accuracy": test_acc, "test_penalty": penalty,
        "early_stopping": {"epoch": 10, "val_loss": min(val_loss), "val_accuracy": 0.55,
                           "test_loss": 1.1, "test_accuracy": 0.58, "test_penalty": penalty},
        "provenance": {"command": cr.command_for(method, values, seed), "git_commit": "a" * 40,
                       "git_commits": ["a" * 40], "date_utc": "2026-11-30T17:00:00+00:00",
                       "device": {"device": "CPU: test"},
                       "versions": {"tensorflow": "2", "keras": "3", "numpy": "2", "python": "3"},
                       "dataset": {"sha256": next(iter(KNOWN_CIFAR10_SHA256))},
                       "wall_seconds_per_epoch": [2.0] * e, "wall_seconds_total": 2.0 * e,
                       "checkpoint_seconds_per_epoch": [0.1] * e, "resumed": False},
    }
    return r


def test_a_fake_result_is_valid():
    assert cr.validate_result(fake_result()) == []
    assert cr.validate_result(fake_result("none", ())) == []
    assert cr.validate_result(fake_result("dropout_l2", (0.35, 0.001))) == []


@pytest.mark.parametrize("edit,needle", [
    (lambda r: r.update(test_accuracy=0.99), "far from the last validation"),
    (lambda r: r["history"]["val_accuracy"].__setitem__(3, 5.0), "outside [0, 1]"),
    (lambda r: r.update(test_loss=-1.0), "negative"),
    (lambda r: r["provenance"].update(wall_seconds_total=1e9), "sum of the per-epoch"),
    (lambda r: r["provenance"].update(command=r["provenance"]["command"].replace("--seed 0", "--seed 10")),
     "command does not match"),
    (lambda r: r.update(values=[0.5]), "name"),
    (lambda r: r.update(settings={"rate": 0.5}), "settings do not match"),
    (lambda r: r.update(label="dropout (best)"), "label"),
    (lambda r: r["protocol"].update(epochs=20), "protocol"),
    (lambda r: r["history"]["loss"].pop(), "29 epochs"),
    (lambda r: r["early_stopping"].update(epoch=30), "lowest validation loss"),
    (lambda r: r["early_stopping"].update(test_accuracy=1.5), "outside [0, 1]"),
    (lambda r: r["provenance"].update(git_commit="a" * 40 + "+dirty"), "dirty"),
    (lambda r: r["provenance"]["git_commits"].append(None), "uncommitted"),
    (lambda r: r["provenance"]["dataset"].update(sha256="0" * 64), "dataset hash"),
    (lambda r: r.update(method="bagging"), "unknown method"),
    (lambda r: r.pop("early_stopping"), "malformed"),
    (lambda r: r.update(values=[1.5], name="dropout-1.5-seed0"), "malformed"),
    (lambda r: r.update(test_penalty=0.2), "penalty recorded for a run without L2"),
])
def test_validation_rejects_each_edit(edit, needle):
    r = fake_result()
    edit(r)
    problems = cr.validate_result(r)
    assert any(needle in p for p in problems), problems


def test_an_l2_run_must_record_its_penalty_apart():
    r = fake_result("l2", (0.001,))
    r["early_stopping"].pop("test_penalty")
    assert any("L2 run without its penalty" in p for p in cr.validate_result(r))


def test_a_file_named_for_another_run_is_rejected():
    assert any("file name" in p for p in cr.validate_result(fake_result(), stem="dropout-0.5-seed0"))


@pytest.mark.parametrize("method,values,msg", [
    ("bagging", (), "method must be one of"),
    ("l2", (), "takes 1 value"),
    ("dropout_l2", (0.3,), "takes 2 value"),
    ("l2", (-1e-3,), "positive number"),
    ("noise", (float("nan"),), "positive number"),
    ("none", (0.1,), "takes 0 value"),
    ("l2", (0.1234567,), "at most 6 significant digits"),
])
def test_settings_are_checked(method, values, msg):
    with pytest.raises(ExperimentError, match=msg):
        cr.settings_of(method, values)


def test_a_bad_dropout_rate_is_refused_by_the_model():
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        cr.run_one("dropout", (1.5,), 0, data=((None, None),) * 3)


def test_settings_name_and_command():
    assert cr.settings_of("dropout_max_norm", (0.35, 2)) == {"rate": 0.35, "max_norm": 2.0}
    assert cr.run_name("dropout_l2", (0.35, 0.001), 3) == "dropout_l2-0.35+0.001-seed3"
    assert cr.run_name("none", (), 1) == "none-seed1"
    assert cr.command_for("dropout_l2", (0.35, 0.001), 3) == (
        "python -m helpers.cifar_regularisers --method dropout_l2 --value 0.35 --value 0.001 --seed 3")


def _tuned(best):
    """Recorded tuning runs where ``best[method]`` has the highest validation accuracy."""
    out = {}
    for m, grid in cr.GRIDS.items():
        for v in grid:
            r = fake_result(m, (v,), 0, final_val=0.7 if v == best[m] else 0.6)
            out[r["name"]] = r
    return out


def test_choice_is_the_best_validation_accuracy_and_drives_the_plan():
    best = {m: grid[i % 3] for i, (m, grid) in enumerate(cr.GRIDS.items())}
    results = _tuned(best)
    assert cr.choose(results) == best
    runs = cr.plan(results)
    assert len(runs) == len(set(runs)) == 15 + 5 + 5 * 5 + 3 * 5
    assert ("dropout_l2", (best["dropout"], best["l2"]), 5) in runs
    # the reported runs use fresh seeds: the winning tuning run is not one of them
    assert [r[2] for r in runs[15:]] == [1, 2, 3, 4, 5] * 9
    assert not cr.complete(results)
    for r in runs:
        results.setdefault(cr.run_name(*r), fake_result(r[0], r[1], r[2]))
    assert cr.complete(results)
    table = cr.scores(results)
    assert list(table) == ["none", "early_stopping", *cr.GRIDS, *cr.COMBOS]
    assert table["early_stopping"]["test_accuracy"] == [0.58] * 5


def test_ties_go_to_the_first_value_and_an_incomplete_grid_chooses_nothing():
    results = _tuned({m: None for m in cr.GRIDS})  # every value scores 0.6
    assert cr.choose(results) == {m: g[0] for m, g in cr.GRIDS.items()}
    del results[cr.run_name("l2", (cr.GRIDS["l2"][2],), 0)]
    assert "l2" not in cr.choose(results)
    assert not any(r[0] == "dropout_l2" for r in cr.plan(results))


def test_resume_keeps_early_stoppings_weights(tmp_path, monkeypatch):
    """Stopped after 2 of 4 epochs, the state folder holds one model and the best
    weights named in progress.json; resumed, the run finishes with early
    stopping's epoch at the lowest validation loss and cleans up."""
    rng = np.random.default_rng(0)
    x = rng.random((120, 32, 32, 3), dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 120)]
    data = ((x[:60], y[:60]), (x[60:90], y[60:90]), (x[90:], y[90:]))
    first = cr.run_one("dropout", (0.3,), 1, data=data, state_dir=tmp_path, stop_after=2, epochs=4,
                       verbose=False)
    assert not first["finished"] and first["epochs_done"] == 2
    folder = tmp_path / first["name"]
    progress = json.loads((folder / "progress.json").read_text())
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["progress.json", progress["checkpoint"], progress["best"]["file"]])
    assert progress["best"]["epoch"] == int(np.argmin(progress["history"]["val_loss"])) + 1
    import keras

    loaded, original = [], keras.Model.load_weights

    def spy(model, path, *args, **kwargs):
        loaded.append(str(path))
        return original(model, path, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "load_weights", spy)
    done = cr.run_one("dropout", (0.3,), 1, data=data, state_dir=tmp_path, epochs=4, verbose=False)
    assert done["finished"] and done["provenance"]["resumed"]
    # early stopping's scores come from the best epoch's weights, loaded from their file
    assert loaded == [str(folder / f"best-epoch{done['early_stopping']['epoch']:03d}.weights.h5")]
    vl = done["history"]["val_loss"]
    assert len(vl) == 4 and done["history"]["val_loss"][:2] == progress["history"]["val_loss"]
    assert done["early_stopping"]["epoch"] == int(np.argmin(vl)) + 1
    assert not folder.exists()


def test_results_of_a_shortened_run_are_never_written(tmp_path):
    with pytest.raises(ExperimentError, match="not written"):
        cr.run_one("none", (), 0, results_dir=tmp_path, epochs=3, data=((None, None),) * 3)


# ---------------------------------------------------------------- the recorded files
RECORDED = (project_root() or cr.Path(".")) / "results" / cr.FOLDER


def _recorded():
    if not RECORDED.is_dir():
        pytest.fail(f"{RECORDED} is missing: the recorded comparison belongs to the repository")
    return {p.stem: json.loads(p.read_text()) for p in sorted(RECORDED.glob("*.json"))}


def test_every_recorded_file_is_valid():
    recorded = _recorded()
    assert recorded
    for stem, r in recorded.items():
        assert cr.validate_result(r, stem) == [], stem


def test_the_plan_is_complete_and_nothing_else_is_recorded():
    recorded = _recorded()
    results = {r["name"]: r for r in recorded.values()}
    assert cr.complete(results), "runs missing: " + ", ".join(
        cr.run_name(*r) for r in cr.plan(results) if cr.run_name(*r) not in results)
    assert set(results) == {cr.run_name(*r) for r in cr.plan(results)}


def test_a_deleted_file_breaks_completeness():
    results = {r["name"]: r for r in _recorded().values()}
    victim = cr.run_name("dropout_l2", (cr.choose(results)["dropout"], cr.choose(results)["l2"]), 2)
    broken = copy.deepcopy(results)
    broken.pop(victim)
    assert not cr.complete(broken)


def _complete_fake():
    best = {m: grid[1] for m, grid in cr.GRIDS.items()}
    results = _tuned(best)
    for i, r in enumerate(cr.plan(results)):
        if cr.run_name(*r) not in results:
            acc = 0.62 if r[0] == "dropout" else 0.60 + 0.001 * r[2]
            res = fake_result(r[0], r[1], r[2], final_val=acc, test_acc=acc)
            res["provenance"]["wall_seconds_total"] = 60.0 + i
            res["provenance"]["date_utc"] = f"2026-12-0{1 + i % 2}T10:00:00+00:00"
            results[res["name"]] = res
    return results, best


def test_tables_and_verdicts_of_a_complete_comparison():
    results, best = _complete_fake()
    grid = cr.grid_table(results)
    assert len(grid) == 15 and list(grid["chosen"]).count("✓") == 5
    row = grid[(grid["method"] == "L2") & (grid["chosen"] == "✓")].iloc[0]
    assert row["setting"] == "λ = 0.001" and row["validation accuracy"] == 0.7
    table = cr.scores(results)
    v = cr.verdicts(table, "none")
    assert v["dropout"]["verdict"] == "higher" and v["none"]["diff"] == 0.0
    assert v["dropout"]["diff"] == pytest.approx(np.mean(table["dropout"]["test_accuracy"]) - 0.603)
    rows = cr.results_table(table).set_index("method")
    assert list(rows.index) == [cr.LABELS[m] for m in table]
    assert rows.loc["dropout + L2", "chosen setting"] == "rate = 0.35, λ = 0.001"
    assert rows.loc["early stopping", "chosen setting"] == "lowest validation loss"
    assert rows.loc["no regularisation", "vs none"] == "–" and rows.loc["dropout", "vs dropout"] == "–"
    assert rows.loc["no regularisation", "test accuracy"].startswith("0.603 ±")
    assert rows.loc["dropout + L2", "vs dropout"].endswith("(lower)")
    assert "(higher)" in rows.loc["dropout", "vs none"]


def test_provenance_summary_adds_up():
    results, _ = _complete_fake()
    s = cr.provenance_summary(results)
    walls = [r["provenance"]["wall_seconds_total"] for r in results.values()]
    assert s["runs"] == len(results) == 60
    assert s["wall_hours"] == pytest.approx(sum(walls) / 3600)
    assert s["wall_minutes_per_run"] == pytest.approx(np.mean(walls) / 60)
    assert (s["first_date"], s["last_date"]) == ("2026-11-30", "2026-12-02")
    assert s["devices"] == ["CPU: test"] and s["commits"] == ["aaaaaaa"] and s["resumed"] == 0
    assert s["versions"] == ["TensorFlow 2, Keras 3"]


def test_load_results_skips_unfinished_files(tmp_path):
    done, partial = fake_result(), fake_result(seed=1)
    partial["finished"] = False
    for r in (done, partial):
        (tmp_path / f"{r['name']}.json").write_text(json.dumps(r))
    assert list(cr.load_results(tmp_path)) == [done["name"]]


def test_the_test_loss_is_the_cross_entropy_and_the_l2_term_is_apart():
    from helpers.models import cifar_regularised

    rng = np.random.default_rng(1)
    x = rng.random((40, 32, 32, 3), dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 40)]
    plain = cr.test_scores(cifar_regularised(seed=0), x, y)
    assert plain["test_penalty"] == 0.0
    model = cifar_regularised(l2=1e-3, seed=0)  # the same initial weights, with L2
    s = cr.test_scores(model, x, y)
    assert s["test_loss"] == pytest.approx(plain["test_loss"], rel=1e-5)
    assert s["test_accuracy"] == plain["test_accuracy"]
    penalty = sum(1e-3 * float(np.sum(np.square(w))) for w in model.get_weights() if w.ndim > 1)
    assert s["test_penalty"] == pytest.approx(penalty, rel=1e-4)


# ---------------------------------------------------------------- exact words and edge cases
def test_every_validation_message_names_the_problem_exactly():
    r = fake_result("l2", (0.001,))
    r.update(finished=False, seed=-1, label="x", settings={"l2": 0.01}, protocol={})
    r["early_stopping"]["epoch"] = 1
    r["provenance"].update(command="x", git_commits=["bad"])
    r["early_stopping"].pop("test_penalty")
    problems = cr.validate_result(r, stem="other")
    for msg in ("bad seed -1", "not finished", "file name 'other' does not match 'l2-0.001-seed0'",
                "label 'x' is not the table's", "settings do not match the method's values",
                f"protocol {{}} is not {cr.PROTOCOL}", "an L2 run without its penalty recorded apart",
                "early stopping's epoch is not the epoch of lowest validation loss",
                "command does not match the run", "a stretch of the run was trained by uncommitted code"):
        assert msg in problems, (msg, problems)
    ok = fake_result("none", ())
    ok["test_penalty"] = 1e-6  # float32 noise is no penalty; more is
    assert cr.validate_result(ok) == []
    ok["test_penalty"] = 1.1e-6
    assert cr.validate_result(ok) == ["a penalty recorded for a run without L2"]
    ok["test_penalty"] = 0.0
    ok.pop("test_penalty")  # older files: no penalty field means none
    assert cr.validate_result(ok) == []
    ok["seed"], ok["name"] = True, "none-seedTrue"
    assert any(p.startswith("bad seed True") for p in cr.validate_result(ok))


def test_a_matching_stem_passes():
    assert cr.validate_result(fake_result(), stem="dropout-0.35-seed0") == []


def test_setting_messages_and_the_fraction_checks():
    with pytest.raises(ExperimentError, match=r"^none takes 0 value\(s\) \(none\), got 1: \(0\.1,\)$"):
        cr.settings_of("none", (0.1,))
    with pytest.raises(ExperimentError, match=r"^dropout_l2 takes 2 value\(s\) \(dropout, l2\), got 1"):
        cr.settings_of("dropout_l2", (0.3,))
    with pytest.raises(ValueError, match="^dropout rate must be in"):
        cr.settings_of("dropout", (1.0,))
    with pytest.raises(ValueError, match="^shift must be in"):
        cr.settings_of("augment", (1.5,))
    with pytest.raises(ExperimentError, match="value must be a positive number, got 0"):
        cr.settings_of("l2", (0,))
    with pytest.raises(ExperimentError, match="positive number, got True"):
        cr.settings_of("l2", (True,))
    assert cr.settings_of("max_norm", (3,)) == {"max_norm": 3.0}  # ints are numbers
    assert cr.settings_of("noise", (2.0,)) == {"noise": 2.0}  # no upper bound for noise


def test_value_text_names_every_knob():
    assert cr._value_text("dropout_augment", (0.35, 0.1)) == "rate = 0.35, shift = 0.1"
    assert cr._value_text("dropout_max_norm", (0.35, 1)) == "rate = 0.35, c = 1"
    assert cr._value_text("noise", (0.05,)) == "sd = 0.05"
    assert cr._value_text("l2", (0.001,)) == "λ = 0.001"
    with pytest.raises(ValueError):
        cr._value_text("l2", (0.001, 0.1))  # one value per knob


def test_scores_skip_a_method_with_a_missing_seed_and_keep_the_rest():
    results, best = _complete_fake()
    del results[cr.run_name("l2", (best["l2"],), 3)]
    table = cr.scores(results)
    assert "l2" not in table and "noise" in table and "dropout_augment" in table
    assert table["noise"]["seeds"] == list(cr.SEEDS)
    del results[cr.run_name("none", (), 1)]
    table = cr.scores(results)
    assert "none" not in table and "early_stopping" not in table and "dropout" in table


def test_verdicts_are_paired_by_seed():
    a = {"label": "a", "test_accuracy": [0.50, 0.60, 0.70]}
    b = {"label": "b", "test_accuracy": [0.51, 0.61, 0.71]}
    v = cr.verdicts({"none": a, "x": b}, "none")
    assert v["x"]["se"] == 0.0 and v["x"]["verdict"] == "higher"  # Welch would say noise


def test_results_table_rows_for_early_stopping_and_the_references():
    results, _ = _complete_fake()
    rows = cr.results_table(cr.scores(results)).set_index("method")
    assert list(rows.columns) == ["chosen setting", "test accuracy", "test loss", "vs none", "vs dropout"]
    assert rows.loc["no regularisation", "chosen setting"] == "–"
    assert rows.loc["early stopping", "vs none"].endswith("(lower)")
    assert rows.loc["early stopping", "vs dropout"].endswith("(lower)")
    assert rows.loc["no regularisation", "vs dropout"] == "–"
    assert rows.loc["early stopping", "test loss"] == "1.100 ± 0.000"


def test_grid_table_shows_a_missing_tuning_run_as_nan():
    results, _ = _complete_fake()
    del results[cr.run_name("noise", (cr.GRIDS["noise"][0],), 0)]
    grid = cr.grid_table(results)
    assert np.isnan(grid.loc[3, "validation accuracy"]) and grid.loc[3, "chosen"] == ""
    assert list(grid["chosen"][:3]) == ["", "✓", ""]


def test_provenance_dates_and_resumed_runs():
    results, _ = _complete_fake()
    rs = list(results.values())
    rs[0]["provenance"].update(date_utc="2026-11-29T23:00:00+00:00", resumed=True)
    rs[1]["provenance"].update(date_utc="2026-12-03T01:00:00+00:00")
    rs[2]["provenance"]["dataset"]["sha256"] = "f" * 64
    rs[1]["provenance"]["git_commits"] = ["b" * 40, "0" * 40]
    rs[0]["provenance"]["git_commits"] = ["c" * 40]
    s = cr.provenance_summary(results)
    assert (s["first_date"], s["last_date"], s["resumed"]) == ("2026-11-29", "2026-12-03", 1)
    assert s["commits"] == ["ccccccc", "aaaaaaa", "bbbbbbb", "0000000"]  # by date of first use
    assert s["dataset_sha256"] == sorted({next(iter(KNOWN_CIFAR10_SHA256)), "f" * 64})


def test_load_results_reads_the_default_folder(tmp_path, monkeypatch):
    folder = tmp_path / "results" / cr.FOLDER
    folder.mkdir(parents=True)
    r = fake_result()
    (folder / f"{r['name']}.json").write_text(json.dumps(r))
    monkeypatch.setenv("DROPOUT_BOOK_ROOT", str(tmp_path))
    assert cr.load_results() == {r["name"]: r}


def test_scores_skip_a_method_whose_value_is_not_chosen_yet():
    results, _ = _complete_fake()
    del results[cr.run_name("l2", (cr.GRIDS["l2"][0],), 0)]  # l2's grid incomplete: no choice
    table = cr.scores(results)
    assert "l2" not in table and "dropout_l2" not in table
    assert {"noise", "dropout", "max_norm", "augment", "dropout_augment"} <= set(table)
