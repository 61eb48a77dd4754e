"""The tuning chapter (12): its visible code, its bookkeeping and its figures.

The chapter's HyperModel must build the models of ``helpers.tune`` for the same
hyperparameter values (the search the reader sees is the search the command
runs); a search run with the chapter's code must score every setting as
``python -m helpers.tune`` does; the summaries in
:mod:`helpers.studies.tuning` must find what they claim on trials whose answer
is known; and the recorded-search loader must say the truth whether
``trials.json`` is complete, incomplete, in progress, missing or broken.
"""

import copy
import json
import subprocess

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import helpers  # noqa: E402,F401
from helpers import models, tune  # noqa: E402
from helpers.models import describe  # noqa: E402
from helpers.plotting import style  # noqa: E402
from helpers.plotting import tuning as figs  # noqa: E402
from helpers.studies import tuning as study  # noqa: E402

from .chapter_code import chapter_namespace  # noqa: E402

NB = "12_tuning"
kt = pytest.importorskip("keras_tuner", reason="keras-tuner is not installed: pip install -e '.[tune]'")


@pytest.fixture(scope="module")
def chapter():
    return chapter_namespace(NB, ["make_convnet", "DropoutHyperModel", "make_digits_mlp"])


def _fixed(rate, max_norm, learning_rate):
    """A ``HyperParameters`` whose three values are fixed (a ``Choice`` of the
    same name then returns them)."""
    hp = kt.HyperParameters()
    hp.Fixed("rate", float(rate))
    hp.Fixed("max_norm", 0.0 if max_norm is None else float(max_norm))
    hp.Fixed("learning_rate", float(learning_rate))
    return hp


def _settings(dataset, rate, max_norm, learning_rate, *extra):
    return tune.parse_settings([dataset, "--space", "rate-maxnorm-lr", "--dir", "unused",
                                "--rates", f"{rate}", "--max-norms", f"{max_norm}".lower(),
                                "--learning-rates", f"{learning_rate}", *extra])


# --------------------------------------------------------------- the chapter's models
CIFAR_VALUES = [(0.3, 3.0, 3e-4), (0.0, None, 1e-3), (0.5, 2.0, 1e-4), (0.65, 4.0, 1e-3),
                (0.25, None, 3e-4)]


@pytest.mark.parametrize("rate, max_norm, lr", CIFAR_VALUES)
def test_chapter_hypermodel_builds_helpers_tune_convnet(chapter, rate, max_norm, lr):
    page_hm = chapter["DropoutHyperModel"](chapter["make_convnet"], [rate], [max_norm or 0.0], [lr])
    page = describe(page_hm.build(_fixed(rate, max_norm, lr)))
    helper = describe(tune.DropoutHyperModel(_settings("cifar10", rate, max_norm, lr))
                      .build(kt.HyperParameters()))
    assert page == helper
    assert page["optimizer"]["learning_rate"] == pytest.approx(lr)
    assert ("Dropout" in [e["class"] for e in page["layers"]]) == (rate > 0)


@pytest.mark.parametrize("rate, max_norm, lr", [(0.25, 1.0, 1e-2), (0.0, None, 1e-3), (0.5, 3.0, 1e-4)])
def test_chapter_hypermodel_builds_helpers_tune_digits_mlp(chapter, rate, max_norm, lr):
    page_hm = chapter["DropoutHyperModel"](chapter["make_digits_mlp"], [rate], [max_norm or 0.0], [lr])
    page = describe(page_hm.build(_fixed(rate, max_norm, lr)))
    helper = describe(tune.DropoutHyperModel(_settings("digits", rate, max_norm, lr))
                      .build(kt.HyperParameters()))
    assert page == helper
    assert page == describe(tune.digits_mlp(rate, max_norm, lr))  # what score_on_test trains


@pytest.mark.parametrize("kwargs", [{}, {"max_norm": False}, {"dropout": False}])
def test_chapter_convnet_is_the_cifar_chapters(chapter, kwargs):
    args = {"rate": 0.5 if kwargs.get("dropout", True) else 0.0,
            "max_norm": 2.0 if kwargs.get("max_norm", True) else None}
    assert describe(chapter["make_convnet"](**args)) == describe(models.cifar_convnet(**kwargs))


def test_a_changed_chapter_model_is_caught():
    ns = chapter_namespace(NB, ["make_convnet", "DropoutHyperModel"], replace=("256", "255"))
    hm = ns["DropoutHyperModel"](ns["make_convnet"], [0.5], [2.0], [1e-3])
    helper = tune.DropoutHyperModel(_settings("cifar10", 0.5, 2.0, 1e-3)).build(kt.HyperParameters())
    assert describe(hm.build(_fixed(0.5, 2.0, 1e-3))) != describe(helper)


def test_chapter_hypermodel_declares_the_space_and_seeds_each_execution(chapter):
    hm = chapter["DropoutHyperModel"](chapter["make_digits_mlp"], [0.0, 0.5], [0.0, 1.0], [1e-2, 1e-3],
                                      seed=7, executions=2)
    hp = kt.HyperParameters()
    first = hm.build(hp)  # declares the space; defaults are the first values
    assert study.space_size(hp) == 8
    assert list(study.space_table(hp)["values"]) == ["0, 0.5", "none, 1", "0.01, 0.001"]
    assert "Dropout" not in [e["class"] for e in describe(first)["layers"]]
    x, y = np.zeros((4, 64), "float32"), np.zeros(4, "int32")
    weights = []
    for _ in range(4):  # two trials of two executions: seeds 7, 8, 7, 8
        model = hm.build(hp)
        weights.append(model.get_weights()[0])
        hm.fit(hp, model, x, y, epochs=1, verbose=0)
    assert np.array_equal(weights[0], weights[2]) and np.array_equal(weights[1], weights[3])
    assert not np.array_equal(weights[0], weights[1])
    assert hm.execution == 0


# --------------------------------------------------------------- the chapter's search = the command's
TINY = ["digits", "--space", "rate-maxnorm-lr", "--rates", "0,0.5", "--max-norms", "none",
        "--learning-rates", "0.01", "--epochs", "2", "--train-samples", "100", "--executions", "2"]


@pytest.fixture(scope="module")
def command_table(tmp_path_factory):
    import helpers.experiments

    d = tmp_path_factory.mktemp("tune") / "tiny"
    with pytest.MonkeyPatch.context() as mp:  # a clean commit, whatever the working tree's state
        mp.setattr(helpers.experiments, "_git_commit", lambda: "0123456789abcdef")
        return tune.run(tune.parse_settings([*TINY, "--dir", str(d)]), verbose=False), d


def test_chapter_search_scores_settings_as_the_command_does(chapter, command_table, tmp_path):
    table, _ = command_table
    settings = tune.parse_settings([*TINY, "--dir", "unused"])
    (x, y), (xv, yv) = tune.load_search_data(settings)
    hm = chapter["DropoutHyperModel"](chapter["make_digits_mlp"], [0.0, 0.5], [0.0], [1e-2],
                                      seed=0, executions=2)
    tuner = kt.GridSearch(hm, objective="val_accuracy", executions_per_trial=2, seed=0,
                          directory=str(tmp_path), project_name="page", overwrite=True)
    tuner.search(x, y, validation_data=(xv, yv), epochs=2, batch_size=32, verbose=0)
    page = {r["rate"]: r["val_accuracy"] for r in study.trial_rows(tuner, 2)}
    cli = {r["rate"]: r["val_accuracy"] for r in study.rows_from_table(table)}
    assert set(page) == set(cli) == {0.0, 0.5}
    for rate in page:
        assert page[rate] == pytest.approx(cli[rate], abs=1e-6)


def test_the_commands_table_is_a_valid_recorded_search(command_table):
    table, d = command_table
    rec = study.load_recorded(d.name, root=d.parent)
    assert rec["status"] == "complete" and rec["table"]["n_completed"] == 2
    text = study.recorded_sentence(rec, study.command_for(d.name))
    assert "completed all 2 trials" in text and "digits network at a reduced protocol" in text
    assert "(2 epochs on 100 training images" in text and "2 seeds per trial)" in text
    frame = study.recorded_frame(table)
    assert list(frame["val_accuracy"]) == sorted(frame["val_accuracy"], reverse=True)
    plt.close(figs.plot_recorded(frame))


# --------------------------------------------------------------- bookkeeping on known trials
def _row(i, rate, mn, lr, score, epochs=6, executions=2, continued=False, status="COMPLETED"):
    return {"trial_id": f"{i:02d}", "status": status, "rate": rate, "max_norm": mn, "learning_rate": lr,
            "val_accuracy": score, "epochs": epochs, "executions": executions, "continued": continued}


GRID = [_row(0, 0.0, None, 1e-2, 0.95), _row(1, 0.0, None, 1e-3, 0.90), _row(2, 0.5, None, 1e-2, 0.97),
        _row(3, 0.5, None, 1e-3, 0.97), _row(4, 0.5, 1.0, 1e-2, 0.96)]


def test_best_so_far_and_summary():
    c = study.best_so_far(GRID)
    assert list(c["best"]) == [0.95, 0.95, 0.97, 0.97, 0.97]
    assert list(c["epochs"]) == [12, 24, 36, 48, 60] and list(c["trial"]) == [1, 2, 3, 4, 5]
    s = study.summarise(GRID)
    assert (s["trials"], s["settings"], s["epochs"], s["best"]) == (5, 5, 60, 0.97)
    assert (s["trials_to_best"], s["epochs_to_best"]) == (3, 36)
    assert s["setting"] == {"rate": 0.5, "max_norm": None, "learning_rate": 1e-2}  # first of the tie
    failed = [_row(0, 0.0, None, 1e-2, None, status="FAILED"), *GRID[1:]]
    c = study.best_so_far(failed)
    assert np.isnan(c["best"][0]) and c["best"][1] == 0.90 and np.isnan(c["score"][0])
    with pytest.raises(ValueError, match="no completed trial"):
        study.summarise([_row(0, 0.0, None, 1e-2, None, status="FAILED")])


def test_hyperband_epochs_and_repeats():
    hb = [_row(0, 0.0, None, 1e-2, 0.90, epochs=2), _row(1, 0.5, None, 1e-2, 0.80, epochs=2),
          _row(2, 0.0, None, 1e-2, 0.96, epochs=4, continued=True)]
    s = study.summarise(hb)
    assert (s["trials"], s["settings"], s["epochs"], s["epochs_to_best"]) == (3, 2, 16, 16)
    bayes = [*GRID[:2], _row(5, 0.0, 0.0, 1e-2, 0.95)]  # max-norm 0.0 is "none": a repeat of trial 0
    assert study.repeats_text(study.summarise(bayes)).startswith("proposed 1 setting it had already")
    assert study.repeats_text(study.summarise(GRID)) == "proposed no setting twice"
    same = study.same_setting_scores(GRID, [*bayes, *hb])
    assert same == {"shared": 2, "max_difference": 0.0}  # continued trials and other budgets excluded


def test_ranks_and_sentences():
    assert study.rank_in(GRID, {"rate": 0.5, "max_norm": 0.0, "learning_rate": 1e-3}) == 1
    assert study.rank_in(GRID, {"rate": 0.5, "max_norm": 1.0, "learning_rate": 1e-2}) == 3
    assert study.rank_in(GRID, {"rate": 0.25, "max_norm": None, "learning_rate": 1e-2}) is None
    assert study.found_text(GRID[4], GRID) == "the setting the grid ranks 3rd"
    assert study.found_text(GRID[2], GRID) == "the grid's best setting"
    assert study.near_best(GRID, 0.01) == 3
    assert study.near_best_sentence(GRID, 200).startswith("Yet 2 other settings score within 2")
    assert study.near_best_sentence(GRID[:2], 200).startswith("No other setting")
    assert [s["val_accuracy"] for s in study.top_settings(GRID, 3)] == [0.97, 0.97, 0.96]
    assert study.setting_text(GRID[4]) == "rate 0.5, max-norm 1, learning rate 0.01"
    assert study.count_text(1, "distinct setting") == "1 distinct setting"
    same = {"grid": study.summarise(GRID), "Bayes": study.summarise(GRID)}
    assert study.choices_sentence(same).startswith("All 2 tuners chose the same setting")
    other = {**same, "Hyperband": study.summarise(GRID[:2])}
    assert study.choices_sentence(other).startswith("The 3 tuners chose 2 distinct settings")
    assert study.same_setting({"rate": 0.5, "max_norm": 0.0, "learning_rate": 1e-2, "tuner/epochs": 2},
                              GRID[2])


def test_tables():
    s = {"grid": study.summarise(GRID), "Bayes": study.summarise(GRID[:2])}
    t = study.comparison_table(s)
    assert list(t["tuner"]) == ["grid", "Bayes"] and list(t["trials to best"]) == [3, 1]
    c = study.choice_table(s, {"grid": [0.96, 0.97], "Bayes": [0.95]})
    assert list(c["test accuracy"]) == ["0.965 ± 0.007", "0.950"]
    assert list(study.ranking(GRID, 2)["max-norm"]) == ["none", "none"]


def test_score_on_test_trains_each_seed_once_and_caches():
    x = np.random.default_rng(0).random((64, 64)).astype("float32")
    y = np.arange(64) % 10
    cache = {}
    setting = {"rate": 0.5, "max_norm": 0.0, "learning_rate": 1e-2}
    a = study.score_on_test(setting, (x, y), (x, y), [0, 1], 1, 32, cache=cache)
    assert len(a) == 2 and all(0 <= v <= 1 for v in a) and len(cache) == 1
    assert study.score_on_test(dict(setting, max_norm=None), (x, y), (x, y), [0, 1], 1, 32,
                               cache=cache) is a
    assert study.score_on_test(setting, (x, y), (x, y), [0, 1], 1, 32) == a  # seeded: reproducible


# --------------------------------------------------------------- the recorded search
def _table(n_trials=4, completed=4, tuner="grid"):
    grid = [(r, m) for r in (0.0, 0.5) for m in (None, 2.0)]
    trials = []
    for i, (rate, mn) in enumerate(grid[:n_trials]):
        done = i < completed
        trials.append({"trial_id": f"{i:02d}", "status": "COMPLETED" if done else "RUNNING",
                       "rate": rate, "max_norm": mn, "learning_rate": 0.001,
                       "val_accuracy": 0.6 + 0.05 * i if done else None, "best_epoch": 9 if done else None,
                       "metrics": {}, "starts": 1, "ran_on": "tuner0"})
    done = [t for t in trials if t["status"] == "COMPLETED"]
    best = max(done, key=lambda t: t["val_accuracy"]) if done else None
    return {
        "name": "made-up", "finished": True, "dataset": "cifar10", "space": "rate-maxnorm", "tuner": tuner,
        "objective": {"name": "val_accuracy", "direction": "max"},
        "settings": {"dataset": "cifar10", "space": "rate-maxnorm", "tuner": tuner,
                     "values": {"rate": [0.0, 0.5], "max_norm": [None, 2.0]},
                     "fixed": {"learning_rate": 0.001}, "epochs": 10, "batch_size": 250,
                     "train_samples": 10000, "executions": 1, "seed": 0, "max_trials": 4, "factor": 3},
        "n_trials": len(trials), "n_completed": len(done),
        "best": None if best is None else {k: best[k] for k in ("trial_id", "rate", "max_norm",
                                                                "learning_rate", "val_accuracy",
                                                                "best_epoch")},
        "trials": trials,
        "provenance": {"command": "python -m helpers.tune cifar10 ...", "git_commit": "0123456789abcdef",
                       "versions": {"keras": "3"}, "device": {"device": "CPU: made up (2 cores)"},
                       "workers": {"tuner0": "CPU: made up (2 cores)"}},
    }


def _write(root, name, table):
    (root / name).mkdir(parents=True, exist_ok=True)
    (root / name / "trials.json").write_text(table if isinstance(table, str) else json.dumps(table))


CMD = study.command_for("cifar-rate-maxnorm")


def test_recorded_complete(tmp_path):
    _write(tmp_path, "s", _table())
    rec = study.load_recorded("s", root=tmp_path)
    assert rec["status"] == "complete"
    text = study.recorded_sentence(rec, CMD)
    assert text.startswith("The recorded search, a grid search over the dropout rate and the max-norm "
                           "value of the CIFAR-10 ConvNet at a reduced protocol (10 epochs on 10,000")
    assert "1 seed per trial), completed all 4 trials." in text
    assert "rate 0.5, max-norm 2, learning rate 0.001" in text and "0.750" in text
    assert "CPU: made up (2 cores)" in text and "commit 0123456789" in text
    frame = study.recorded_frame(rec["table"])
    assert list(frame["rate"]) == [0.5, 0.5, 0.0, 0.0] and list(frame["max-norm"])[0] == "2"
    fig = figs.plot_recorded(frame)
    assert len(fig.axes[0].lines) == 2
    plt.close(fig)


def test_recorded_incomplete(tmp_path):
    _write(tmp_path, "partial", _table(n_trials=4, completed=3))
    rec = study.load_recorded("partial", root=tmp_path)
    assert rec["status"] == "incomplete" and rec["reason"] == "3 of 4 trials completed"
    text = study.recorded_sentence(rec, CMD)
    assert "is incomplete (3 of 4 trials completed): " + CMD + " continues it." in text
    assert "best setting so far" in text
    _write(tmp_path, "short", _table(n_trials=2, completed=2))  # the grid planned 4
    rec = study.load_recorded("short", root=tmp_path)
    assert rec["status"] == "incomplete" and rec["reason"] == "2 of 4 trials completed"


def test_recorded_so_far(tmp_path):
    """The table written after each trial (unfinished) is shown as incomplete, even when
    the trials it lists all completed."""
    table = _table(n_trials=2, completed=2, tuner="bayes")
    table["finished"] = False
    table["provenance"]["trial_seconds"] = 5400.0
    _write(tmp_path, "so-far", table)
    rec = study.load_recorded("so-far", root=tmp_path)
    assert (rec["status"], rec["reason"]) == ("incomplete", "2 of 2 trials completed; the search has not ended")
    text = study.recorded_sentence(rec, CMD)
    assert "is incomplete (2 of 2 trials completed; the search has not ended): " in text
    assert "best setting so far" in text
    assert "took 1.5 h of training" in text
    table["finished"] = True
    _write(tmp_path, "so-far", table)
    assert study.load_recorded("so-far", root=tmp_path)["status"] == "complete"


def test_recorded_missing_running_and_invalid(tmp_path):
    rec = study.load_recorded("nothing", root=tmp_path)
    assert rec["status"] == "missing"
    assert study.recorded_sentence(rec, CMD) == f"The full-scale search is not recorded yet: run {CMD}."
    (tmp_path / "started" / "state").mkdir(parents=True)
    rec = study.load_recorded("started", root=tmp_path)
    assert rec["status"] == "running" and CMD in study.recorded_sentence(rec, CMD)
    _write(tmp_path, "cut", json.dumps(_table())[:200])  # half a file
    rec = study.load_recorded("cut", root=tmp_path)
    assert rec["status"] == "invalid" and "not readable JSON" in rec["reason"]
    assert study.recorded_sentence(rec, CMD).startswith("The recorded full-scale search could not be used")


@pytest.mark.parametrize("tamper, match", [
    (lambda t: t.pop("provenance"), "no 'provenance'"),
    (lambda t: t.update(finished="yes"), "'finished' must be true"),
    (lambda t: t["provenance"].update(git_commit="0123abc+dirty"), "uncommitted code"),
    (lambda t: t["provenance"].update(git_commits=["0123abc", "4567def+dirty"]), "uncommitted code"),
    (lambda t: t["objective"].update(name="val_loss"), "objective"),
    (lambda t: t["trials"][0].update(rate=1.5), "not in \\[0, 1\\)"),
    (lambda t: t["trials"][1].update(max_norm=-2), "neither null nor positive"),
    (lambda t: t["trials"][2].update(val_accuracy=1.2), "not in \\[0, 1\\]"),
    (lambda t: t["trials"][3].update(val_accuracy=None), "completed but has no score"),
    (lambda t: t["trials"][3].update(trial_id="00"), "unique trial_id"),
    (lambda t: t.update(n_completed=3), "do not match"),
    (lambda t: t["best"].update(trial_id="00"), "'best' is not"),
    (lambda t: t["provenance"].pop("git_commit"), "provenance lacks"),
    (lambda t: t["settings"].update(epochs=0), "positive integers"),
])
def test_a_tampered_table_is_refused(tmp_path, tamper, match):
    table = copy.deepcopy(_table())
    tamper(table)
    with pytest.raises(study.TuningResultError, match=match):
        study.validate_table(table)
    _write(tmp_path, "t", table)
    assert study.load_recorded("t", root=tmp_path)["status"] == "invalid"


def test_bayes_and_hyperband_tables_have_no_planned_size():
    assert study.planned_trials(_table()) == 4
    assert study.planned_trials(_table(tuner="bayes")) is None


# --------------------------------------------------------------- figures
def test_best_so_far_figure_fits_the_column():
    curves = {"grid": study.best_so_far(GRID), "Bayes": study.best_so_far(GRID[:2]),
              "Hyperband": study.best_so_far([_row(0, 0.0, None, 1e-2, 0.5, epochs=2)])}
    fig = figs.plot_best_so_far(curves, floor=0.85)
    assert fig.get_figwidth() == pytest.approx(style.WIDTH)
    assert len(fig.axes) == 2 and fig.axes[0].get_ylim()[0] == pytest.approx(0.85)
    fonts = [t.get_fontsize() for ax in fig.axes for t in
             (*ax.get_xticklabels(), *ax.get_yticklabels(), ax.xaxis.label, ax.yaxis.label)]
    assert min(fonts) >= style.MIN_FONT_PT
    plt.close(fig)
    with pytest.raises(ValueError, match="no curves"):
        figs.plot_best_so_far({})
    with pytest.raises(ValueError, match="no completed trials"):
        figs.plot_recorded(pd.DataFrame())


def test_every_committed_search_table_is_valid(root):
    """A recorded search (``results/tuning/<name>/trials.json``) in the repository is a
    table ``helpers.tune`` wrote: valid, from committed code, made by the command."""
    tables = sorted((root / "results" / study.RESULTS_KIND).glob("*/trials.json"))
    for path in tables:
        rec = study.load_recorded(path.parent.name, root=path.parent.parent)
        assert rec["status"] in ("complete", "incomplete"), f"{path}: {rec['reason']}"
        prov = rec["table"]["provenance"]
        assert prov["command"].startswith("python -m helpers.tune "), path
        assert prov["trial_seconds"] > 0 and prov["dataset"], path
    ignored = subprocess.run(["git", "check-ignore", "-q", "results/tuning/x/state/oracle.json"], cwd=root)
    assert ignored.returncode == 0, "a search's state/ must stay out of git"


# --------------------------------------------------------------- the recorded search vs chapter 5
def _run(config, seed, val, epochs=10):
    return {"config": config, "history": {"val_accuracy": val},
            "protocol": {"config": config, "seed": seed, "epochs": epochs, "batch_size": 250,
                         "train_samples": 10000, "mixed_precision": False}}


def _rate_table(scores, epochs=10, executions=1, seed=0):
    t = _table()
    t["settings"].update(values={"rate": [0.0, 0.5]}, fixed={"max_norm": 2.0, "learning_rate": 0.001},
                         optimizer="adam", epochs=epochs, executions=executions, seed=seed, space="rate")
    t["trials"] = [{"trial_id": f"{i:02d}", "status": "COMPLETED", "rate": r, "max_norm": 2.0,
                    "learning_rate": 0.001, "val_accuracy": sc, "best_epoch": ep, "metrics": {},
                    "starts": 1, "ran_on": "tuner0"} for i, (r, sc, ep) in enumerate(scores)]
    t["n_trials"] = t["n_completed"] = len(scores)
    return t


def test_runs_retrained_pairs_trials_with_the_recorded_runs_and_says_if_they_agree():
    runs = {"a-seed0": _run("a", 0, [0.5, 0.6, 0.55]), "b-seed0": _run("b", 0, [0.5, 0.7, 0.72]),
            "b-seed1": _run("b", 1, [0.1, 0.9, 0.2]),  # another seed: not re-trained
            "c-seed0": _run("c", 0, [0.99, 0.1, 0.1])}  # no max-norm: not in a max-norm-2 search
    table = _rate_table([(0.0, 0.6, 2), (0.5, 0.72, 3)])
    pairs = study.runs_retrained(table, runs)
    assert [(p["config"], p["rate"], p["run_score"], p["run_epoch"]) for p in pairs] == [
        ("a", 0.0, 0.6, 2), ("b", 0.5, 0.72, 3)]
    text = study.retrained_sentence(pairs)
    assert text.startswith("Two of the settings are runs of the CIFAR-10 chapter: rate 0 is configuration "
                           "(a) and rate 0.5 is configuration (b), at seed 0.")
    assert "Each trial's best validation accuracy (0.6000 and 0.7200, at epochs 2 and 3) is the recorded run's" in text
    table["trials"][1].update(best_epoch=4)  # same score, another epoch: not a reproduction
    text = study.retrained_sentence(study.runs_retrained(table, runs))
    assert text.endswith(". 1 of the 2 trials do not reproduce the run exactly: (b) 0.7200 at epoch 4 against "
                         "the run's 0.7200 at epoch 3.")
    one = study.runs_retrained(_rate_table([(0.5, 0.72, 3)]), runs)
    assert study.retrained_sentence(one).startswith(
        "One of the settings is a run of the CIFAR-10 chapter: rate 0.5 is configuration (b), at seed 0. "
        "The trial's best validation accuracy (0.7200, at epoch 3) is the recorded run's")
    assert study.runs_retrained(_rate_table([(0.5, 0.72, 3)], epochs=11), runs) == []  # another protocol
    assert study.runs_retrained(_rate_table([(0.5, 0.72, 3)], executions=2), runs) == []  # a mean of seeds
    assert study.runs_retrained(_rate_table([(0.5, 0.72, 3)], seed=1), runs)[0]["run_score"] == 0.9
    assert study.retrained_sentence([]) == ""


def test_seed_spread_and_the_leads_verdict():
    runs = {f"b-seed{i}": _run("b", i, [0.5, v]) for i, v in enumerate((0.74, 0.738, 0.735))}
    sd, n = study.seed_spread(runs, "b")
    assert n == 3 and sd == pytest.approx(np.std([0.74, 0.738, 0.735], ddof=1))
    with pytest.raises(ValueError, match="needs 2"):
        study.seed_spread(runs, "a")
    frame = study.recorded_frame(_rate_table([(0.0, 0.70, 2), (0.5, 0.74, 3), (0.25, 0.735, 5)]))
    text = study.lead_sentence(frame, sd, n, "b")
    assert text.startswith("The best rate, 0.5, leads the runner-up, rate 0.25, by 0.0050.")
    assert f"{sd:.4f}" in text and f"{np.sqrt(2) * sd:.4f}" in text
    assert f"The lead is {0.005 / (np.sqrt(2) * sd):.1f} times it" in text  # 1.4
    assert "needs 4.3 times (Student's t, 2 degrees of freedom, 95 %)" in text and text.endswith(
        "This lead does not: one seed per setting does not settle the order of the top two "
        "(--executions 3 would tell more).")
    far = study.recorded_frame(_rate_table([(0.0, 0.70, 2), (0.5, 0.74, 3)]))
    assert study.lead_sentence(far, sd, n, "b").endswith("This lead has it.")  # 11.2 times
    assert study.lead_sentence(far.head(1), sd, n, "b") == ""
    tie = study.recorded_frame(_rate_table([(0.0, 0.74, 2), (0.5, 0.74, 3)]))
    assert study.lead_sentence(tie, sd, n, "b") == ("The two best rates, 0 and 0.5, tie at 0.7400: one seed "
                                                    "per setting does not choose between them.")
    assert study.lead_sentence(far, 0.0, n, "b") == "The best rate, 0.5, leads the runner-up, rate 0, by 0.0400."


def test_still_rising_names_trials_best_at_their_last_epoch():
    t = _rate_table([(0.0, 0.70, 2), (0.5, 0.74, 10), (0.25, 0.73, 10)])  # 10 epochs
    assert study.still_rising_sentence(t) == (
        "Rate 0.5 and rate 0.25 scored their best at the last of the 10 epochs: they may still have "
        "been improving when the budget ended, and a longer run could raise their score.")
    t["trials"][2]["best_epoch"] = 9
    assert study.still_rising_sentence(t).startswith("Rate 0.5 scored its best at the last of the 10 epochs: it may")
    t["trials"][1]["best_epoch"] = 9
    assert study.still_rising_sentence(t) == ""
