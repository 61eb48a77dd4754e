"""Behavioural tests written to kill the mutants that survived `make mutation`.

Each test states a property of the helper that the book relies on; see
scripts/mutation_score.py and tests/mutation_allowlist.txt.
"""

import array
import json
import math
import re
import sys
import types
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import _io, _validate, book, experiments, paths, progress, stats, theory
from helpers import data as hdata
from helpers.experiments import ExperimentError, validate_result

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "results" / "cifar10"


# --------------------------------------------------------------------------- stats
def test_one_run_has_no_spread_and_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # ddof=1 on one value would warn "Degrees of freedom <= 0"
        m, s = stats.mean_sd([0.7])
    assert m == 0.7 and math.isnan(s)


def test_two_runs_give_a_finite_interval_around_the_mean():
    m, low, high = stats.t_interval([0.5, 0.7])
    assert m == pytest.approx(0.6) and low < 0.6 < high
    assert high - 0.6 == pytest.approx(0.6 - low)


@pytest.mark.parametrize("level", [0.0, 1.0])
def test_level_must_be_strictly_inside_0_1(level):
    with pytest.raises(ValueError, match="level must be in"):
        stats.t_interval([0.5, 0.7], level=level)


def test_errors_name_the_side_that_is_wrong():
    with pytest.raises(ValueError, match="^values is empty"):
        stats.mean_sd([])
    with pytest.raises(ValueError, match="^left is empty"):
        stats.compare([], [1.0, 2.0])
    with pytest.raises(ValueError, match="^right contains NaN"):
        stats.compare([1.0, 2.0], [1.0, float("nan")])


def test_compare_reports_run_counts_and_nan_interval_for_one_run():
    r = stats.compare([0.5], [0.6, 0.7])
    assert (r["n_left"], r["n_right"]) == (1, 2)
    assert math.isnan(r["se"]) and math.isnan(r["low"]) and math.isnan(r["high"])
    assert r["verdict"] == "needs two seeds per side"
    assert stats.compare([0.5, 0.6, 0.7], [0.6, 0.7])["n_left"] == 3


def test_identical_runs_have_a_zero_width_interval():
    # no spread at all: the interval collapses onto the difference (no division by zero)
    r = stats.compare([0.5, 0.5], [0.6, 0.6])
    assert r["se"] == 0.0 and r["low"] == r["high"] == pytest.approx(0.1)
    assert r["verdict"] == "higher"
    assert stats.compare([0.6, 0.6], [0.5, 0.5])["verdict"] == "lower"
    same = stats.compare([0.5, 0.5], [0.5, 0.5])
    assert same["low"] == same["high"] == 0.0 and same["verdict"] == "within seed noise"


def test_describe_comparison_uses_the_requested_digits():
    r = stats.compare([0.5, 0.52, 0.51], [0.6, 0.61, 0.63])
    text = stats.describe_comparison(r, digits=2)
    assert text.startswith(f"+{r['diff']:.2f} (95 % interval +{r['low']:.2f} to +{r['high']:.2f})")
    one = stats.compare([0.5], [0.61234])
    assert stats.describe_comparison(one, digits=2) == "+0.11 (needs two seeds per side)"


# --------------------------------------------------------------------------- theory
def test_binomial_bound_edges():
    assert theory.binomial_bound(1.0, 10) == 0.0  # rate 1 is a valid (degenerate) rate here
    assert theory.binomial_bound(0.5, 1) == pytest.approx(3.29 * 0.5)  # one unit is enough
    with pytest.raises(ValueError, match=r"rate must be in \[0, 1\], got 1.5"):
        theory.binomial_bound(1.5, 10)
    with pytest.raises(ValueError, match="n must be a positive number of units, got 0"):
        theory.binomial_bound(0.5, 0)


def test_paper_p_edges():
    assert theory.paper_p_to_keras_rate(1.0) == 0.0  # keep everything = drop nothing
    with pytest.raises(ValueError, match="retain probability"):
        theory.paper_p_to_keras_rate(1.5)


# --------------------------------------------------------------------------- _validate
def test_integer_checks_accept_their_smallest_value_and_name_the_argument():
    assert _validate.check_positive_int(1, "epochs") == 1
    assert _validate.check_nonnegative_int(0, "seed") == 0
    with pytest.raises(TypeError, match="^epochs must be a positive integer, got '3'"):
        _validate.check_positive_int("3", "epochs")
    with pytest.raises(TypeError, match="^seed must be a non-negative integer, got 1.5"):
        _validate.check_nonnegative_int(1.5, "seed")


@pytest.mark.parametrize("bad", [None, 0, -1.0, True, "x"])
def test_positive_float_refuses_non_positive_and_non_numbers(bad):
    with pytest.raises(ValueError, match=f"^noise must be a positive number, got {bad!r}"):
        _validate.check_positive_float(bad, "noise")


def test_positive_float_none_only_when_allowed():
    assert _validate.check_positive_float(None, "clip", allow_none=True) is None
    assert _validate.check_positive_float(2, "clip", allow_none=True) == 2.0


def test_check_choice():
    assert _validate.check_choice("b", {"a", "b"}, "config") == "b"
    with pytest.raises(ValueError, match=r"^config must be one of \['a', 'b'\], got 'z'"):
        _validate.check_choice("z", {"b", "a"}, "config")


# --------------------------------------------------------------------------- _io
def test_atomic_json_format_and_nested_folders(tmp_path):
    target = tmp_path / "a" / "b" / "r.json"
    out = _io.atomic_write_json(target, {"z": 1, "a": [1, 2]})
    assert out == target
    assert target.read_text() == '{\n "z": 1,\n "a": [\n  1,\n  2\n ]\n}\n'  # key order kept
    assert [p.name for p in target.parent.iterdir()] == ["r.json"]  # no temporary left


def test_atomic_write_stages_beside_the_target(tmp_path, monkeypatch):
    seen = []
    real_replace = _io.os.replace
    monkeypatch.setattr(_io.os, "replace", lambda src, dst: (seen.append(Path(src)), real_replace(src, dst)))
    _io.atomic_write_bytes(tmp_path / "x.bin", b"abc")
    (tmp,) = seen
    # same folder (so os.replace is a rename on one file system), hidden, recognisable
    assert tmp.parent == tmp_path and tmp.name.startswith(".x.bin.") and tmp.name.endswith(".tmp")
    assert (tmp_path / "x.bin").read_bytes() == b"abc"


def test_failed_write_leaves_nothing_and_keeps_the_old_file(tmp_path):
    target = tmp_path / "r.json"
    target.write_text("old")
    with pytest.raises(TypeError):
        _io.atomic_write_bytes(target, "not bytes")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


# --------------------------------------------------------------------------- paths
def test_project_root_from_variable_or_a_clone(tmp_path, monkeypatch):
    monkeypatch.setenv(paths.ROOT_ENV, str(tmp_path))
    assert paths.project_root() == tmp_path.resolve()
    monkeypatch.delenv(paths.ROOT_ENV)
    clone = tmp_path / "clone"
    (clone / "results" / "cifar10").mkdir(parents=True)
    (clone / "notebooks").mkdir()
    assert paths.project_root(clone / "notebooks") is None  # no _toc.yml yet: not a clone
    (clone / "_toc.yml").write_text("")
    assert paths.project_root(clone / "notebooks") == clone.resolve()
    only_toc = tmp_path / "only_toc"
    only_toc.mkdir()
    (only_toc / "_toc.yml").write_text("")
    assert paths.project_root(only_toc) is None  # _toc.yml without results/ is not a clone
    monkeypatch.chdir(clone / "notebooks")
    assert paths.results_dir() == clone.resolve() / "results" / "cifar10"
    assert paths.data_dir() == clone.resolve() / "data"


def test_results_dir_outside_a_clone(tmp_path, monkeypatch):
    monkeypatch.delenv(paths.ROOT_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    assert paths.data_dir() == tmp_path / "data"
    with pytest.raises(paths.ResultsNotFound, match=r"results/cifar10/.*DROPOUT_BOOK_ROOT"):
        paths.results_dir()
    explicit = tmp_path / "mine"
    with pytest.raises(paths.ResultsNotFound, match="mine does not exist: no recorded beyond results"):
        paths.results_dir("beyond", explicit)
    assert paths.results_dir("beyond", explicit, must_exist=False) == explicit
    explicit.mkdir()
    assert paths.results_dir("beyond", explicit) == explicit


# --------------------------------------------------------------------------- book
def test_glue_report_shows_values_as_the_prose_does(monkeypatch):
    monkeypatch.setattr(book, "GLUED", {})
    monkeypatch.setitem(sys.modules, "myst_nb", None)  # no myst-nb: glue only records
    assert book.glue("acc", np.float32(0.75)) == np.float32(0.75)
    book.glue("flag", True)
    book.glue("text", "0.757")
    book.glue("arr", np.zeros(3))
    book.glue("zero_d", np.array(0.25))
    book.glue("seq", array.array("d", [1.0]))  # has tolist() but no ndim: not a scalar
    book.glue("obj", object())
    book.glue("fit_seconds", 12.5)
    assert book.glue_report() == "\n".join([
        "8 glued values", "acc: 0.75", "flag: True", "text: 0.757", "arr: <ndarray>", "zero_d: 0.25",
        "seq: <array>", "obj: <object>",
        "fit_seconds: (measured on this machine, not compared)"])


def test_glue_passes_strings_bare_to_myst_nb(monkeypatch):
    calls = []
    fake = types.ModuleType("myst_nb")
    fake.glue = lambda name, value, display=True: calls.append((name, value, display))
    monkeypatch.setitem(sys.modules, "myst_nb", fake)
    monkeypatch.setattr(book, "GLUED", {})
    assert book.glue("s", "0.757") == "0.757"
    book.glue("n", 3, display=True)
    (n1, v1, d1), (n2, v2, d2) = calls
    assert (n1, repr(v1), d1) == ("s", "0.757", False)
    assert (n2, v2, d2) == ("n", 3, True)
    assert book.GLUED == {"s": "0.757", "n": 3}


def test_table_formats_numbers_for_the_page():
    df = pd.DataFrame({"n": [1, 2], "x": [0.12345, -0.0001], "p": [0.5, float("nan")],
                       "z": [1 + 2j, 0j], "s": ["a", "b"]})
    html = book.table(df, percent=("p",), caption="Results").to_html()
    cells = [c.split(">", 1)[1] for c in html.split("</td>")[:-1]]
    cells = [c.rsplit(">", 1)[-1].strip() for c in cells]
    assert cells == ["1", "0.123", "50.0 %", "(1+2j)", "a", "2", "0.000", "–", "0j", "b"]
    assert "Results" in html and "row_heading" not in html  # no 0..n index
    assert "0.1235" in book.table(df, digits=4).to_html()
    assert "Results" not in book.table(df).to_html()
    with pytest.raises(TypeError, match="got list"):
        book.table([1, 2])
    nan_float = book.table(pd.DataFrame({"x": [float("nan"), 0.0]})).to_html()
    assert ">–</td>" in nan_float and ">0.000</td>" in nan_float


# --------------------------------------------------------------------------- progress
@pytest.mark.parametrize(("value", "expected"), [("1", True), ("TRUE", True), ("yes", True),
                                                 ("0", False), ("", False), ("no", False)])
def test_quiet_values(monkeypatch, value, expected):
    monkeypatch.setenv(progress.QUIET_ENV, value)
    assert progress.quiet() is expected


class _FakeBar:
    made: list = []

    def __init__(self, iterable=None, **kw):
        self.iterable, self.kw, self.updates, self.closed, self.postfix = iterable, kw, [], False, {}
        _FakeBar.made.append(self)

    def __iter__(self):
        return iter(self.iterable)

    def update(self, n):
        self.updates.append(n)

    def set_postfix(self, **kw):
        self.postfix = kw

    def close(self):
        self.closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


@pytest.fixture()
def fake_tqdm(monkeypatch):
    monkeypatch.setenv(progress.QUIET_ENV, "0")
    _FakeBar.made = []
    auto = types.ModuleType("tqdm.auto")
    auto.tqdm = _FakeBar
    monkeypatch.setitem(sys.modules, "tqdm.auto", auto)
    return _FakeBar.made


def test_progress_bar_settings(fake_tqdm):
    bar = progress.progress(range(3), desc="seeds", total=3)
    assert list(bar) == [0, 1, 2]
    assert bar.kw == {"desc": "seeds", "total": 3, "leave": False, "dynamic_ncols": True}
    assert progress.progress([1]).kw["desc"] == ""


def test_progress_without_tqdm_is_the_plain_loop(monkeypatch):
    monkeypatch.setenv(progress.QUIET_ENV, "0")
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    it = [1, 2]
    assert progress.progress(it) is it
    assert list(progress.epoch_chunks(7)) == [(0, 7)]


@pytest.mark.parametrize(("epochs", "n_chunks", "expected"), [
    (55, 20, [3] * 18 + [1]), (7, 20, [1] * 7), (10, 3, [4, 4, 2]), (5, 0, [5])])
def test_epoch_chunks_cover_every_epoch_in_order(fake_tqdm, epochs, n_chunks, expected):
    pieces = list(progress.epoch_chunks(epochs, n_chunks=n_chunks))
    assert [c for _, c in pieces] == expected
    assert [s for s, _ in pieces] == list(np.cumsum([0] + expected[:-1]))
    (bar,) = fake_tqdm
    assert bar.updates == expected and bar.closed
    assert bar.kw == {"total": epochs, "desc": "epochs", "unit": "epoch", "leave": False,
                      "dynamic_ncols": True}


def test_epoch_chunks_quiet_is_one_piece(monkeypatch):
    monkeypatch.setenv(progress.QUIET_ENV, "1")
    assert list(progress.epoch_chunks(55)) == [(0, 55)]


def test_keras_bar_counts_epochs_and_shows_val_accuracy(fake_tqdm):
    cb = progress.keras_bar(3, desc="circles")
    cb.on_train_begin()
    cb.on_epoch_end(0, {"val_accuracy": 0.81234})
    cb.on_epoch_end(1, {"loss": 0.5})
    cb.on_epoch_end(2, None)
    cb.on_train_end()
    (bar,) = fake_tqdm
    assert bar.kw == {"total": 3, "desc": "circles", "unit": "epoch", "leave": False, "dynamic_ncols": True}
    assert bar.updates == [1, 1, 1] and bar.postfix == {"val_accuracy": "0.812"} and bar.closed
    assert progress.keras_bar(2).__class__.__name__ == "_Bar"
    default = progress.keras_bar(2)
    default.on_train_begin()
    assert fake_tqdm[-1].kw["desc"] == "fit"


def test_keras_bar_quiet_or_without_tqdm_does_nothing(monkeypatch):
    for env, mod in (("1", sys.modules.get("tqdm.auto")), ("0", None)):
        monkeypatch.setenv(progress.QUIET_ENV, env)
        monkeypatch.setitem(sys.modules, "tqdm.auto", mod)
        cb = progress.keras_bar(2)
        cb.on_train_begin()
        cb.on_epoch_end(0, {"val_accuracy": 0.5})
        cb.on_train_end()
        assert cb.bar is None


# --------------------------------------------------------------------------- experiments
def _b0():
    return json.loads((RESULTS / "b-seed0.json").read_text())


DELETE = object()


def _set(r, path, value):
    node = r
    for key in path[:-1]:
        node = node[key]
    if value is DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return r


# (path, value, problems that must be reported) for single edits of a valid recorded result
EDITS = [
    (("config",), "z", ["unknown configuration 'z'", "name 'b-seed0' does not match config/seed",
                        "label '(b)", "protocol dropout=", "command lacks --config z"]),
    (("seed",), -1, ["bad seed -1", "name 'b-seed0' does not match config/seed",
                     "command lacks the exact --seed -1"]),
    (("seed",), 1.5, ["bad seed 1.5", "name 'b-seed0' does not match config/seed",
                      "command lacks the exact --seed 1.5"]),
    (("finished",), False, ["not a finished full run"]),
    (("full_protocol",), False, ["not a finished full run"]),
    (("name",), "b-seed1", ["name 'b-seed1' does not match config/seed"]),
    (("label",), "x", ["label 'x' is not the table's"]),
    (("protocol", "batch_size"), 128, ["protocol batch_size=128, not 250"]),
    (("protocol", "dropout"), "nope", ["protocol dropout='nope' does not match b"]),
    (("protocol", "max_norm"), 99, ["protocol max_norm=99 does not match b"]),
    (("history", "loss", 0), float("nan"), ["loss: non-finite"]),
    (("history", "loss", 0), "0.5", ["loss: non-finite"]),
    (("history", "accuracy", 0), 1.5, ["accuracy outside [0, 1]"]),
    (("history", "val_loss", 0), -0.1, ["val_loss negative"]),
    (("test_accuracy",), -0.01, ["test accuracy -0.01 outside [0, 1]"]),
    (("test_accuracy",), 1.01, ["test accuracy 1.01 outside [0, 1]"]),
    (("test_loss",), float("inf"), ["test loss inf negative or not finite"]),
    (("provenance", "command"), "python -m helpers.experiments cifar10 --config bb --seed 0",
     ["command lacks --config b"]),
    (("provenance", "git_commit"), None, ["git commit missing or dirty"]),
    (("provenance", "date_utc"), "", ["date or device missing"]),
    (("provenance", "device"), {}, ["date or device missing"]),
    (("provenance", "versions"), {"python": "3.11"}, ["versions missing"]),
    (("provenance", "device"), DELETE, ["date or device missing"]),
    (("provenance", "versions"), DELETE, ["versions missing"]),
    (("provenance", "dataset"), DELETE, ["dataset hash unknown"]),
    (("provenance", "dataset", "sha256"), "f" * 64, ["dataset hash unknown"]),
    (("provenance", "wall_seconds_per_epoch", 3), 0.0, ["per-epoch times implausible",
                                                        "wall time"]),
]


@pytest.mark.parametrize(("path", "value", "expected"), EDITS, ids=[f"{'.'.join(map(str, e[0]))}={'deleted' if e[1] is DELETE else repr(e[1])}"
                                                                    for e in EDITS])
def test_each_edit_is_named_in_the_problems(path, value, expected):
    problems = validate_result(_set(_b0(), path, value))
    for want in expected:
        assert any(msg.startswith(want) for msg in problems), (want, problems)


def test_valid_result_at_the_edges_of_the_ranges():
    r = _b0()
    n = len(r["history"]["accuracy"])
    r["history"]["accuracy"] = [0.0] * (n - 1) + [1.0]
    r["history"]["loss"] = [0.0] * n
    r["test_loss"] = 0.0
    r["history"]["val_accuracy"][-1] = 1.0
    r["history"]["val_accuracy"][-2] = 0.0  # only the last epoch is compared with the test accuracy
    r["test_accuracy"] = 1.0
    assert validate_result(r) == []
    r["test_accuracy"] = r["history"]["val_accuracy"][-1] = 0.0
    assert validate_result(r) == []
    r["history"]["val_accuracy"][-1] = 0.05  # exactly the allowed distance
    assert validate_result(r) == []
    r["history"]["val_accuracy"][-1] = 0.0625
    assert validate_result(r) == ["test accuracy 0.0000 is implausibly far from the last "
                                  "validation accuracy 0.0625"]


def test_stem_is_checked_only_when_given():
    assert validate_result(_b0(), "b-seed0") == []
    assert validate_result(_b0(), "b-seed0 (copy)") == ["file name 'b-seed0 (copy)' does not match 'b-seed0'"]


def test_wall_time_tolerance_is_relative_and_tight():
    r = _b0()
    total = sum(r["provenance"]["wall_seconds_per_epoch"])
    r["provenance"]["wall_seconds_total"] = total * (1 + 1e-7)
    assert validate_result(r) == []
    r["provenance"]["wall_seconds_total"] = total * (1 + 1e-5)
    assert validate_result(r) == [f"wall time {total * (1 + 1e-5)} is not the sum of the per-epoch "
                                  f"times {total:.1f}"]


def test_per_epoch_times_may_be_short_but_not_a_day():
    r = _b0()
    per_epoch = r["provenance"]["wall_seconds_per_epoch"]
    for t, ok in ((0.5, True), (86399.0, True), (86400.0, False)):
        per_epoch[0] = t
        r["provenance"]["wall_seconds_total"] = sum(per_epoch)
        assert (validate_result(r) == []) is ok, t


def test_malformed_result_is_reported_not_raised():
    r = _b0()
    del r["provenance"]
    assert validate_result(r) == ["malformed result: missing or wrong-typed field 'provenance'"]


def test_load_results_full_only(tmp_path):
    full = _b0()
    reduced = {**full, "name": "b-seed0-reduced-e1-n100", "full_protocol": False}
    unfinished = {"name": "b-seed1", "finished": False}
    for r in (full, reduced, unfinished):
        (tmp_path / f"{r['name']}.json").write_text(json.dumps(r))
    assert list(experiments.load_results(tmp_path)) == ["b-seed0"]
    assert sorted(experiments.load_results(tmp_path, full_only=False)) == ["b-seed0", "b-seed0-reduced-e1-n100"]


def test_load_results_default_is_the_clone(tmp_path, monkeypatch):
    monkeypatch.setenv(paths.ROOT_ENV, str(ROOT))
    assert sorted(experiments.load_results()) == sorted(p.stem for p in RESULTS.glob("*.json"))


def _res(config, seed, acc, n=3):
    return {"config": config, "seed": seed, "test_accuracy": acc,
            "history": {"val_loss": [1.0] * n, "accuracy": [0.5] * n, "val_accuracy": [0.4] * n}}


def test_summary_epochs_and_final_gap_use_the_last_epoch():
    r = _res("a", 0, 0.6, n=4)
    r["history"]["accuracy"] = [0.1, 0.9, 0.3, 0.8]
    r["history"]["val_accuracy"] = [0.2, 0.1, 0.5, 0.6]
    s = experiments.summarize_results([r])["a"]
    assert s["epochs"] == 4 and s["final_gap"] == pytest.approx(0.2)


def test_compare_configs_pairs_only_matching_seeds():
    summary = experiments.summarize_results(
        [_res("a", 0, 0.60), _res("a", 1, 0.70), _res("b", 0, 0.62), _res("b", 1, 0.72),
         _res("c", 1, 0.62), _res("c", 2, 0.72)])
    paired = experiments.compare_configs(summary, "a", "b")
    assert paired["paired"] is True and (paired["left"], paired["right"]) == ("a", "b")
    # the per-seed differences are all 0.02: paired, the interval has no width
    assert paired["se"] == 0.0 and paired["verdict"] == "higher"
    welch = experiments.compare_configs(summary, "a", "c", level=0.5)
    assert welch["paired"] is False and welch["verdict"] == "within seed noise" and welch["level"] == 0.5
    assert welch["se"] == pytest.approx(math.sqrt(2 * np.var([0.6, 0.7], ddof=1) / 2))


class _FakeModel:
    def save(self, path):
        Path(path).write_text("weights")

    def save_weights(self, path):
        assert str(path).endswith(".weights.h5")  # Keras refuses other names
        Path(path).write_text("best weights")


def test_checkpoint_round_trip_keeps_only_the_latest(tmp_path):
    meta = {"config": "b", "seed": 0}
    run = tmp_path / "runs" / "cifar10" / "b-seed0"  # created on the first save
    ck = experiments._EpochCheckpoint(run, meta)
    assert ck.progress_path == run / "progress.json"
    assert ck.load() is None
    ck.save(_FakeModel(), 1, {"loss": [1.0]}, [2.0], [])
    ck.save(_FakeModel(), 2, {"loss": [1.0, 0.9]}, [2.0, 2.1], [0.1], ["f" * 40])
    assert sorted(p.name for p in run.iterdir()) == ["ckpt-epoch002.keras", "progress.json"]
    assert ck.load() == {"meta": meta, "epoch": 2, "checkpoint": "ckpt-epoch002.keras",
                         "history": {"loss": [1.0, 0.9]}, "epoch_seconds": [2.0, 2.1],
                         "checkpoint_seconds": [0.1], "git_commits": ["f" * 40]}


def test_checkpoint_keeps_the_best_weights_it_names_and_no_others(tmp_path):
    ck = experiments._EpochCheckpoint(tmp_path / "run", {"seed": 0})
    best = {"epoch": 1, "val_loss": 1.5, "file": ck.save_best(_FakeModel(), 1), "weights": [0]}
    assert best["file"] == "best-epoch001.weights.h5"
    assert (tmp_path / "run" / best["file"]).read_text() == "best weights"
    ck.save(_FakeModel(), 1, {}, [], [], ["f" * 40], best)
    best.update(epoch=2, val_loss=1.2, file=ck.save_best(_FakeModel(), 2))
    # written, not yet named: both best files exist until progress.json names the new one
    assert len(list((tmp_path / "run").glob("best-epoch*"))) == 2
    ck.save(_FakeModel(), 3, {}, [], [], ["f" * 40], best)
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == [
        "best-epoch002.weights.h5", "ckpt-epoch003.keras", "progress.json"]
    progress = ck.load()
    assert progress["best"] == {"epoch": 2, "val_loss": 1.2, "file": "best-epoch002.weights.h5"}
    assert progress["git_commits"] == ["f" * 40] and progress["epoch"] == 3
    ck.save(_FakeModel(), 4, {}, [], [])  # no best: no "best" key, and git_commits is a list
    assert "best" not in ck.load() and ck.load()["git_commits"] == []


def test_checkpoint_refuses_other_settings_or_a_missing_model(tmp_path):
    experiments._EpochCheckpoint(tmp_path, {"seed": 0}).save(_FakeModel(), 3, {}, [], [])
    with pytest.raises(ExperimentError, match=r"holds an unfinished run with different settings \(\{'seed': 0\}\)"):
        experiments._EpochCheckpoint(tmp_path, {"seed": 1}).load()
    (tmp_path / "ckpt-epoch003.keras").unlink()
    with pytest.raises(ExperimentError, match="ckpt-epoch003.keras is missing; delete"):
        experiments._EpochCheckpoint(tmp_path, {"seed": 0}).load()


# --------------------------------------------------------------------------- data
@pytest.mark.parametrize(("kwargs", "name"), [({"n_samples": 0}, "n_samples"), ({"n_train": 0}, "n_train"),
                                              ({"random_state": -1}, "random_state"), ({"noise": -0.1}, "noise")])
def test_load_circles_names_the_bad_argument(kwargs, name):
    with pytest.raises(ValueError, match=f"^{name} must be"):
        hdata.load_circles(**kwargs)


def test_load_circles_sizes_dtypes_and_noise_free_option():
    (xtr, ytr), (xte, yte) = hdata.load_circles(n_samples=50, n_train=20, noise=0)
    assert xtr.dtype == ytr.dtype == np.float32 and ytr.shape == (20, 1) and xte.shape == (30, 2)
    r = np.hypot(*np.concatenate([xtr, xte]).T)
    assert {round(float(v), 5) for v in r} == {0.8, 1.0}  # noise=0: points exactly on the two circles


def test_load_digits_split_contract():
    with pytest.raises(ValueError, match="^random_state must be"):
        hdata.load_digits_split(random_state=-1)
    for bad in (0.0, 1.0):
        with pytest.raises(ValueError, match="test_size must be in"):
            hdata.load_digits_split(test_size=bad)
    (xtr, ytr), (xte, yte) = hdata.load_digits_split(test_size=0.5)
    assert xtr.dtype == np.float32 and xtr.shape[1] == 64 and ytr.dtype == np.int32
    assert xtr.max() == 1.0 and len(xte) == 899
    # stratified: every class keeps its share in the test set
    counts = np.bincount(np.concatenate([ytr, yte]))
    assert np.all(np.abs(np.bincount(yte) - counts / 2) <= 1)
    (a, _), _ = hdata.load_digits_split()
    (b, _), _ = hdata.load_digits_split(random_state=0)
    np.testing.assert_array_equal(a, b)  # default random_state is 0
    (img, _), _ = hdata.load_digits_split(images=True)
    assert img.shape[1:] == (8, 8, 1)


def test_prepare_cifar10_labels_of_any_shape():
    x, y = hdata.prepare_cifar10(np.zeros((2, 1, 1, 3), np.uint8), [[3], [9]])
    assert y.dtype == np.float32 and y.argmax(1).tolist() == [3, 9]


def test_sha256_file_reads_in_chunks(tmp_path):
    import hashlib

    p = tmp_path / "f"
    p.write_bytes(b"x" * 1000)
    assert hdata.sha256_file(p, chunk=7) == hashlib.sha256(b"x" * 1000).hexdigest()


def test_find_pack_order_and_provenance(tmp_path, monkeypatch):
    monkeypatch.delenv(hdata.CIFAR10_ENV, raising=False)
    monkeypatch.setattr(hdata, "data_dir", lambda: tmp_path)
    assert hdata.find_cifar10_pack() is None
    assert hdata.cifar10_provenance() == {"source": "keras.datasets.cifar10.load_data()", "sha256": None}
    pack = tmp_path / "cifar10-jpeg.npz"
    pack.write_bytes(b"pack")
    assert hdata.find_cifar10_pack() == pack
    import hashlib

    assert hdata.cifar10_provenance() == {"source": "cifar10-jpeg.npz",
                                          "sha256": hashlib.sha256(b"pack").hexdigest()}
    other = tmp_path / "other.npz"
    other.write_bytes(b"other")
    assert hdata.cifar10_provenance(other)["source"] == "other.npz"
    monkeypatch.setenv(hdata.CIFAR10_ENV, str(tmp_path / "gone.npz"))
    with pytest.raises(hdata.DatasetError, match="cifar10-jpeg.npz, or unset it to download CIFAR-10"):
        hdata.find_cifar10_pack()


def test_unreadable_or_incomplete_pack_is_refused(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(hdata.DatasetError, match=r"bad.npz could not be read as a CIFAR-10 pack \((ValueError|BadZipFile)"
                                                  r".*The file is probably truncated"):
        hdata.read_cifar10_pack(bad, verify=False)
    part = tmp_path / "part.npz"
    np.savez(part, y_train=np.zeros(2), obj=np.array([{}], dtype=object))
    with pytest.raises(hdata.DatasetError, match=r"part.npz is not a CIFAR-10 pack: arrays \['train_jpeg'"):
        hdata.read_cifar10_pack(part, verify=False)


def test_unknown_pack_message_says_how_to_rebuild(tmp_path):
    p = tmp_path / "x.npz"
    p.write_bytes(b"x")
    with pytest.raises(hdata.DatasetError, match="copy it again, or build one from the official "
                                                  "cifar-10-python.tar.gz with `python -m helpers.make_cifar10_pack`, "
                                                  "which also writes the .sha256 file"):
        hdata.verify_cifar10_pack(p)


def test_atomic_write_leaves_a_readable_file(tmp_path):
    """mkstemp creates 0600 files; a recorded result must be readable like the rest of the clone."""
    import stat

    from helpers._io import atomic_write_json

    path = atomic_write_json(tmp_path / "r.json", {"a": 1})
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_checkpoint_remove_deletes_the_folder(tmp_path):
    ck = experiments._EpochCheckpoint(tmp_path / "run", {"seed": 0})
    ck.save(_FakeModel(), 1, {}, [], [])
    ck.remove()
    assert not (tmp_path / "run").exists() and tmp_path.exists()


def test_finish_run_writes_the_result_then_removes_the_state(tmp_path, capsys):
    ck = experiments._EpochCheckpoint(tmp_path / "run", {"seed": 0})
    ck.save(_FakeModel(), 1, {}, [], [])
    result = {"name": "x", "test_accuracy": 0.5}
    out = tmp_path / "res" / "x.json"
    assert experiments.finish_run(result, out, ck, verbose=True) is result
    assert json.loads(out.read_text()) == result and not (tmp_path / "run").exists()
    assert capsys.readouterr().out == f"wrote {out}: test accuracy 0.5000\n"
    assert experiments.finish_run(result, None, None, verbose=True) is result
    assert capsys.readouterr().out == ""


def test_check_nonnegative_float():
    from helpers._validate import check_nonnegative_float

    assert check_nonnegative_float(0, "l2") == 0.0 and isinstance(check_nonnegative_float(0, "l2"), float)
    assert check_nonnegative_float(2.5, "noise") == 2.5
    for bad in (-1e-9, float("nan"), True, "0.1", None):
        with pytest.raises(ValueError, match=rf"^l2 must be a number >= 0 \(0: off\), got {re.escape(repr(bad))}$"):
            check_nonnegative_float(bad, "l2")


def test_checkpoint_load_refuses_a_missing_best_weights_file(tmp_path):
    ck = experiments._EpochCheckpoint(tmp_path / "a" / "run", {"seed": 0})  # parents created
    best = {"epoch": 1, "val_loss": 1.0, "file": ck.save_best(_FakeModel(), 1)}
    ck.save(_FakeModel(), 2, {}, [], [], [], best)
    assert ck.load()["best"]["file"] == "best-epoch001.weights.h5"
    (tmp_path / "a" / "run" / "best-epoch001.weights.h5").unlink()
    with pytest.raises(ExperimentError, match=r"best-epoch001\.weights\.h5 is missing; delete .*run to start over"):
        ck.load()


def test_checkpoint_save_tolerates_a_file_deleted_meanwhile(tmp_path, monkeypatch):
    ck = experiments._EpochCheckpoint(tmp_path / "run", {"seed": 0})
    ck.save(_FakeModel(), 1, {}, [], [])
    real_glob = Path.glob

    def glob_with_ghost(self, pattern):  # a stale listing: a file another process removed
        found = list(real_glob(self, pattern))
        return found + ([self / "ckpt-epoch000.keras"] if pattern.startswith("ckpt") else [])

    monkeypatch.setattr(Path, "glob", glob_with_ghost)
    ck.save(_FakeModel(), 2, {}, [], [])  # must not raise FileNotFoundError
    assert ck.load()["epoch"] == 2


def test_check_provenance_rejects_empty_commits():
    problems = []
    prov = {"git_commit": None, "git_commits": [None, ""], "date_utc": "d", "device": {"device": "x"},
            "versions": {"tensorflow": 1, "keras": 1, "numpy": 1, "python": 1},
            "dataset": {"sha256": "0"}, "wall_seconds_per_epoch": [1.0], "wall_seconds_total": 1.0}
    experiments.check_provenance(lambda ok, msg: ok or problems.append(msg), prov, 1)
    assert problems == ["git commit missing or dirty", "a stretch of the run was trained by uncommitted code",
                        "dataset hash unknown"]
