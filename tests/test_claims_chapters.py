"""The registry of claims beyond chapter 4 (helpers.claims): each entry is the
chapter's verdict and the chapter's experiment, its recorded replication
(results/replication/<study>.json) is complete and consistent, and a quick
replication on a handful of unseen seeds fails if a stated verdict flips."""

import ast
import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import pytest

from helpers import claims, replicate, stats
from helpers.models import describe

from .chapter_code import chapter_namespace

ROOT = Path(__file__).resolve().parents[1]
STUDIES = [s for s in claims.STUDIES if s != "circles"]
NEW = [c for c in claims.CLAIMS if c.study != "circles"]
CI_SEEDS = range(2000, 2006)  # unseen by the book (0-9) and the recording (1000-1029)
# The quick replication (CI): the studies that retrain in seconds.
CI_CLAIMS = ["calibration", "regularisers", *[c.name for c in NEW if c.name.startswith(
    "inside-width-")]]


def _cells(chapter):
    return json.loads((ROOT / "notebooks" / f"{chapter}.ipynb").read_text())["cells"]


def _code(chapter) -> list[str]:
    return ["".join(c["source"]) for c in _cells(chapter) if c["cell_type"] == "code"]


def _report(chapter) -> dict:
    """The chapter's glued values, as its last cell prints them."""
    last = [c for c in _cells(chapter) if c["cell_type"] == "code"][-1]
    text = "".join("".join(o.get("text", "")) for o in last["outputs"])
    return dict(ln.split(": ", 1) for ln in text.splitlines()[1:] if ": " in ln)


def _parameters(chapter) -> dict:
    params = next(c for c in _cells(chapter)
                  if "parameters" in c["metadata"].get("tags", []))
    ns: dict = {}
    exec("".join(params["source"]), ns)
    return ns


def _assigned(chapter, name, ns=None):
    """The value the chapter assigns to ``name`` (evaluated in ``ns``)."""
    for src in _code(chapter):
        for node in ast.parse(src).body:
            if isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == name for t in node.targets):
                return eval(ast.get_source_segment(src, node.value), dict(ns or {}))
    raise AssertionError(f"{chapter} assigns no {name}")


# --- the registry is the chapters' ------------------------------------------------

# study -> (chapter parameter, registry key) pairs; the names are upper case in the chapter
KEYS = {s: list(claims.STUDIES[s].parameters) for s in STUDIES}
KEYS["regularisers"].remove("grids")
KEYS["calibration"].remove("n_bins")


@pytest.mark.parametrize("study", STUDIES)
def test_registry_runs_with_the_chapters_parameters(study):
    spec = claims.STUDIES[study]
    ns = _parameters(spec.chapter)
    assert ns["QUICK"] is False
    for key in KEYS[study]:
        assert ns[key.upper()] == spec.parameters[key], (study, key)
    if study == "regularisers":
        assert _assigned(spec.chapter, "GRIDS") == claims.REGULARISER_GRIDS
    if study == "calibration":
        assert _assigned(spec.chapter, "N_BINS") == claims.CALIBRATION["n_bins"]
    if study == "modern":
        assert _assigned(spec.chapter, "PLACEMENTS", ns) == claims.modern_placements()
    n = ns.get("N_SEEDS", ns.get("SEEDS"))
    for c in claims.of_study(study):
        assert c.book_seeds == range(ns["SEED"], ns["SEED"] + n), c.name


@pytest.mark.parametrize("claim", NEW, ids=lambda c: c.name)
def test_the_chapter_shows_the_claim_and_states_its_verdict(claim):
    report = _report(claim.chapter)
    assert claim.glue in report, f"{claim.chapter} glues no {claim.glue}"
    shown = claims.glued_verdict(claim, report[claim.glue])
    if claim.glue_form in ("interval", "ratio"):  # the verdict is stated next to it
        if claim.glue == "in_classic_cmp":
            shown = report["in_classic_verdict"]
        elif claim.glue == "eu_reg_ratio":  # the spread grew far from the data in every seed
            shown = {"in every seed": "higher"}.get(report["eu_reg_every"])
        else:  # the checked cell prints it
            assert claim.glue == "in_inv_cmp", claim.glue
            out = "".join("".join(o.get("text", "")) for c in _cells(claim.chapter)
                          if c["cell_type"] == "code" for o in c.get("outputs", []))
            found = re.search(r"dropout shrinks the largest hidden norm: (\w+)", out)
            shown = found and found.group(1)
    assert shown == claim.verdict, (claim.name, report[claim.glue])


def test_the_chapters_verdict_words_for_the_interval_claims():
    # An interval glue (no verdict in it) must sit in prose that states the verdict.
    md = "\n".join("".join(c["source"]) for c in _cells("07_inside_the_network")
                   if c["cell_type"] == "markdown")
    assert "**Dropout shrank the weights.**" in md and "{glue:}`in_inv_cmp`" in md
    assert "{glue:}`in_classic_cmp`" in md
    md = "\n".join("".join(c["source"]) for c in _cells("06_ensembles_uncertainty")
                   if c["cell_type"] == "markdown")
    assert "Here the spread does grow away from the data" in md and "`eu_reg_ratio`" in md


@pytest.mark.parametrize("chapter_fn, helper, kwargs", [
    ("make_autoencoder", "autoencoder", {}),
    ("make_autoencoder", "autoencoder", {"rate": 0.0}),
    ("make_classic_mlp", "classic_circles_mlp", {}),
    ("make_digits_mlp", "digits_mlp", {}),
    ("make_digits_mlp", "digits_mlp", {"width": 8, "rate": 0.0}),
    ("make_digits_mlp", "digits_mlp", {"width": 64, "rate": 0.5}),
])
def test_chapter_7_builders_are_the_registrys(chapter_fn, helper, kwargs):
    import keras

    from helpers.studies import beyond

    ns = chapter_namespace("07_inside_the_network", [chapter_fn])
    keras.utils.set_random_seed(3)
    page = ns[chapter_fn](**kwargs)
    keras.utils.set_random_seed(3)
    ours = getattr(beyond, helper)(**kwargs)
    assert describe(page) == describe(ours)
    assert _layer_configs(page) == _layer_configs(ours)
    for a, b in zip(page.get_weights(), ours.get_weights(), strict=True):  # same start
        np.testing.assert_array_equal(a, b)


def _layer_configs(model) -> list:
    """Every layer's type and configuration, its name aside (names differ by
    the order of construction; the fixed names "hidden"/"output" count)."""
    out = []
    for layer in model.layers:
        cfg = layer.get_config()
        name = cfg.pop("name")
        out.append((type(layer).__name__, name if name in ("hidden", "output") else None, cfg))
    return out


def test_chapter_6_regressor_is_the_registrys():
    import keras

    from helpers.models import mlp_regressor

    ns = chapter_namespace("06_ensembles_uncertainty", ["MCDropout", "make_regressor"])
    keras.utils.set_random_seed(3)
    page = ns["make_regressor"]()
    keras.utils.set_random_seed(3)
    ours = mlp_regressor(mc_dropout=True)
    assert describe(page) == describe(ours)
    assert [(t, cfg) for t, _, cfg in _layer_configs(page)] == \
        [(t, cfg) for t, _, cfg in _layer_configs(ours)]
    for a, b in zip(page.get_weights(), ours.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("fn, replace", [
    ("make_classic_mlp", ("Rescaling(1 - rate)", "Rescaling(1.0)")),
    ("make_digits_mlp", ("activation=\"relu\"", "activation=\"tanh\"")),
    ("make_autoencoder", ("name=\"hidden\"", "name=\"code\"")),
])
def test_a_changed_chapter_7_builder_is_caught(fn, replace):
    from helpers.studies import beyond

    helper = {"make_classic_mlp": beyond.classic_circles_mlp, "make_digits_mlp": beyond.digits_mlp,
              "make_autoencoder": beyond.autoencoder}[fn]
    ns = chapter_namespace("07_inside_the_network", [fn], replace=replace)
    assert _layer_configs(ns[fn]()) != _layer_configs(helper())


def test_the_chapters_call_the_registrys_study_functions():
    calls = {"06_ensembles_uncertainty": ["study.seeded_models(make_regressor, seeds)",
                                          "fast_fit(regressors, x_reg, y_reg, REG_EPOCHS)",
                                          "mc_predict(m, x_line, REG_PASSES)",
                                          "study.spread_ratios(samples, x_line)"],
             "07_inside_the_network": ["study.sparsity_study(", "study.norm_study(",
                                       "study.width_study(", "study.data_size_study(",
                                       "study.bn_study("],
             "09_modern_architectures": ["study.placement_study("],
             "10_regularisers": ["seed_splits(", "study.stacked_fit(", "study.select("],
             "11_calibration": ["seed_splits(", "study.seeded_pairs(", "batched_fit(",
                                "study.predict_all(", "study.score_all("]}
    for chapter, needles in calls.items():
        code = "\n".join(_code(chapter))
        for needle in needles:
            assert needle in code, (chapter, needle)


def test_mask_seed_zero_is_the_chapters_stream():
    from helpers.studies.beyond import MASK_STREAM_STRIDE, _mask_stream

    assert [_mask_stream(w, 0) for w in (4, 64, 1000)] == [4, 64, 1000]
    assert _mask_stream(4, 1000) == 4 + 1000 * MASK_STREAM_STRIDE
    assert MASK_STREAM_STRIDE > max(claims.INSIDE["data_sizes"] + claims.INSIDE["widths"])
    with pytest.raises(ValueError):
        _mask_stream(4, -1)


# --- selection, sentences, the cache ---------------------------------------------

def test_select_expands_studies_and_keeps_order():
    assert [c.name for c in claims.select(["calibration"])] == [
        c.name for c in claims.CLAIMS if c.study == "calibration"]
    picked = claims.select(["regularisers-dropout", "circles", "regularisers-dropout"])
    assert [c.name for c in picked] == ["regularisers-dropout", "circles-dropout",
                                        "circles-input-dropout", "circles-max-norm"]
    assert claims.select(None) == claims.CLAIMS
    with pytest.raises(KeyError, match="no claim"):
        claims.select(["calibrations"])
    with pytest.raises(KeyError, match="no study"):
        claims.of_study("nonsense")


@pytest.mark.parametrize("name, glued, expected", [
    ("inside-width-4", "within seed noise at 4 units; lower at 8, 16, 32, 64 units",
     "within seed noise"),
    ("inside-width-64", "within seed noise at 4 units; lower at 8, 16, 32, 64 units", "lower"),
    ("inside-size-1000-loss", "within seed noise at 50, 100 digits; lower at 300, 1000 digits",
     "lower"),
    ("inside-size-100", "higher at 50 digits; within seed noise at 100 digits",
     "within seed noise"),
    ("inside-width-8", "lower at 4 units", None),
    ("regularisers-noise-vs-dropout", "Gaussian noise", "higher"),
    ("regularisers-noise-vs-dropout", "L2, Gaussian noise", "higher"),
    ("regularisers-noise-vs-dropout", "none", None),
    ("calibration-mc-ece", "-0.015 (95 % interval -0.027 to -0.003): lower", "lower"),
    ("calibration-mc-accuracy", "+0.001 (95 % interval -0.006 to +0.003): within seed noise",
     "within seed noise"),
    ("inside-norms-dropout", "-1.948 (95 % interval -2.185 to -1.710)", None),
])
def test_glued_verdict(name, glued, expected):
    assert claims.glued_verdict(claims.get(name), glued) == expected


def test_shown_estimate_follows_the_glue_form():
    res = stats.compare([0.0, 0.1, 0.2], [1.0, 1.2, 1.1], paired=True)
    assert claims.shown_estimate(claims.get("inside-norms-dropout"), res) == \
        stats.describe_comparison(res).rsplit(": ", 1)[0]
    assert claims.shown_estimate(claims.get("inside-reconstruction"), res) == \
        stats.describe_comparison(res, 4)


def _entry(name, outcome="holds", n=30, label=None):
    e = {"name": name, "outcome": outcome, "replication": {"n": n, "text": "..."}}
    return e if label is None else {**e, "label": label}


def test_group_sentence():
    group = [_entry("a", label="4"), _entry("b", label="8")]
    assert replicate.group_sentence(group) == "replicated on 30 unseen seeds: both verdicts hold"
    group += [_entry("c", "flips", label="16"), _entry("d", "not confirmed", label="32"),
              _entry("e", "not confirmed", label="64")]
    assert replicate.group_sentence(group, "units") == (
        "replicated on 30 unseen seeds: 2 of 5 verdicts hold; the verdict at 16 units flips; "
        "the verdicts at 32, 64 units are not confirmed")
    assert replicate.group_sentence([_entry("a"), None]).startswith("not replicated yet")
    assert replicate.group_sentence([_entry("a")] * 3) == \
        "replicated on 30 unseen seeds: all 3 verdicts hold"
    two = [_entry("a", "flips"), {**_entry("b", "flips"), "right": "residual"}]
    assert replicate.group_sentence(two, at="for") == (
        "replicated on 30 unseen seeds: 0 of 2 verdicts hold; the verdicts for a, residual flip")
    assert replicate.group_sentence(two, labels=["x", "y"], at="for").endswith("for x, y flip")
    with pytest.raises(ValueError, match="labels"):
        replicate.group_sentence(two, labels=["x"])


def test_runs_cache_computes_once_and_times_it():
    runs = claims.Runs(mask_seed=7)
    calls = []
    for _ in range(3):
        assert runs.get("x", [1, 2], lambda: calls.append(1) or "value") == "value"
    runs.get("x", [1, 3], lambda: "other")
    assert len(calls) == 1 and runs.trained == 2 and len(runs.log) == 4
    assert set(runs.seconds) == {("x", (1, 2)), ("x", (1, 3))}
    assert all(w >= 0 and c >= 0 for w, c in runs.seconds.values())
    with pytest.raises(TypeError):
        claims.Runs(mask_seed=1.5)


def test_replicate_refuses_mixed_runs_and_short_epochs_outside_circles():
    with pytest.raises(ValueError, match="one study at a time"):
        replicate.replicate(["circles-dropout", "calibration-mc-ece"], seeds=[2000, 2001],
                            runs=claims.Runs(2000))
    with pytest.raises(ValueError, match="epochs"):
        replicate.replicate(["calibration-mc-ece"], seeds=[2000, 2001], epochs=10)
    with pytest.raises(ValueError, match="book's own"):
        replicate.replicate(["regularisers-dropout"], seeds=[9, 2000], book=False)


def test_write_table_one_file_per_study(tmp_path):
    entries = {"calibration-mc-ece": {"name": "calibration-mc-ece", "study": "calibration"},
               "inside-width-8": {"name": "inside-width-8", "study": "inside"},
               "inside-width-4": {"name": "inside-width-4", "study": "inside"}}
    paths = replicate.write_table(tmp_path, entries, {"command": "test"})
    assert sorted(p.name for p in paths) == ["calibration.json", "inside.json"]
    inside = json.loads((tmp_path / "inside.json").read_text())
    assert inside["study"] == "inside"
    assert list(inside["claims"]) == ["inside-width-4", "inside-width-8"]  # registry order
    assert sorted(p.name for p in tmp_path.iterdir()) == ["calibration.json", "inside.json"]


# --- the recorded replications ------------------------------------------------------

@pytest.mark.parametrize("study", STUDIES)
def test_recorded_replication_is_complete_and_consistent(study):
    table = json.loads((ROOT / "results" / "replication" / f"{study}.json").read_text())
    assert table["study"] == study
    spec = claims.STUDIES[study]
    report = _report(spec.chapter)
    for c in claims.of_study(study):
        e = table["claims"][c.name]
        rep, book = e["replication"], e["book"]
        seeds = replicate.parse_seeds(rep["seeds"])
        assert len(seeds) >= 30 and not set(seeds) & set(c.book_seeds), c.name
        assert rep["n"] == len(seeds) == len(rep["left_values"]) == len(rep["right_values"])
        assert rep["mask_seed"] == min(seeds) != 0 and book["mask_seed"] == 0
        for part in (rep, book):
            again = stats.compare(part["left_values"], part["right_values"], paired=c.paired)
            assert stats.describe_comparison(again, c.digits) == part["text"], c.name
            assert again["verdict"] == part["verdict"]
        assert e["stated_verdict"] == c.verdict == book["verdict"], c.name
        assert e["outcome"] == claims.outcome(c.verdict, rep["verdict"])
        assert e["protocol"] == json.loads(json.dumps(spec.parameters))
        assert e["paired"] == c.paired and e.get("label") == c.label
        # the book's estimate, recomputed by the command, is the one the chapter shows
        assert book["seeds"] == replicate.format_seeds(c.book_seeds)
        if c.glue_form in ("text", "interval", "ratio"):
            assert report[c.glue] == claims.shown_estimate(c, book), c.name
        else:
            assert claims.glued_verdict(c, report[c.glue]) == book["verdict"], c.name
        assert e["cpu_seconds"]["replication"] > 0 and e["wall_seconds"]["replication"] > 0
        prov = e["provenance"]
        assert prov["command"].startswith("python -m helpers.replicate ")
        assert prov["git_commit"] and prov["date_utc"] and prov["device"]["device"]
        assert {"python", "tensorflow", "keras", "numpy"} <= set(prov["versions"])


# --- a quick replication (CI): 6 unseen seeds, the chapters' protocols -----------------

def _recorded_failures(outcome: str = "flips") -> dict:
    """The claims whose recorded replication (30 unseen seeds) has ``outcome``."""
    out = {}
    for study in STUDIES:
        path = ROOT / "results" / "replication" / f"{study}.json"
        if path.is_file():
            for name, e in json.loads(path.read_text())["claims"].items():
                if e["outcome"] == outcome and e["stated_verdict"] == claims.get(name).verdict:
                    out[name] = e["replication"]["text"]
    return out


@pytest.fixture(scope="module")
def quick():
    out = {}
    for study in dict.fromkeys(c.study for c in claims.select(CI_CLAIMS)):
        names = [c.name for c in claims.select(CI_CLAIMS) if c.study == study]
        runs = claims.new_runs(study, mask_seed=CI_SEEDS[0])
        out[study] = (replicate.replicate(names, seeds=CI_SEEDS, book=False, runs=runs), runs)
    return out


def test_no_stated_verdict_flips_on_a_handful_of_unseen_seeds(quick):
    """Fails when a verdict flips that the recorded replication kept: a change
    in the code or the chapter, not a verdict already known to need rewording
    (those are :func:`test_every_recorded_verdict_replicates`'s)."""
    entries = {n: e for ents, _ in quick.values() for n, e in ents.items()}
    assert set(entries) == {c.name for c in claims.select(CI_CLAIMS)}
    known = _recorded_failures()
    flips = {n: e["replication"]["text"] for n, e in entries.items()
             if e["outcome"] == "flips" and n not in known}
    assert not flips, f"stated verdicts flip on seeds {replicate.format_seeds(CI_SEEDS)}: {flips}"
    for e in entries.values():
        assert e["replication"]["n"] == len(CI_SEEDS)
        assert e["replication"]["mask_seed"] == CI_SEEDS[0]


def test_every_verdict_that_did_not_replicate_is_shown_beside_it():
    """A stated verdict that flips, or is not confirmed, on 30 unseen seeds stays
    in its chapter only with the replication beside it: the chapter glues the
    claim's replication sentence (which names the outcome), and its prose shows
    a replication glue that names that outcome."""
    failing = {**_recorded_failures("flips"), **_recorded_failures("not confirmed")}
    for name in failing:
        c = claims.get(name)
        report = _report(c.chapter)
        prefix = c.glue.split("_", 1)[0]
        own = f"{prefix}_rep_" + c.name.removeprefix(f"{c.study}-").replace("-", "_")
        words = {"flips": "flip", "not confirmed": "not confirmed"}
        recorded = json.loads((ROOT / "results" / "replication" / f"{c.study}.json")
                              .read_text())["claims"][name]["outcome"]
        assert words[recorded] in report.get(own, ""), (name, own)
        prose = "".join("".join(x["source"]) for x in _cells(c.chapter)
                        if x["cell_type"] == "markdown")
        shown = [g for g in re.findall(r"\{glue:\}`(\w+_rep_\w+)`", prose)
                 if words[recorded] in report.get(g, "")]
        assert shown, f"{name}: {recorded} on unseen seeds, and the prose does not show it"


@pytest.mark.parametrize("name, wrong", [
    ("calibration-dropout-nll", "higher"),  # stated "lower"
    ("regularisers-dropout-loss", "within seed noise"),  # stated "lower"
    ("inside-width-16", "higher"),  # stated "lower"
])
def test_a_flipped_stated_verdict_is_caught(quick, monkeypatch, name, wrong):
    study = claims.get(name).study
    _, runs = quick[study]
    known = _recorded_failures()
    registry = [dataclasses.replace(c, verdict=wrong) if c.name == name else c
                for c in claims.CLAIMS]
    monkeypatch.setattr(claims, "CLAIMS", registry)
    trained = runs.trained
    entries = replicate.replicate([name], seeds=CI_SEEDS, book=False, runs=runs)
    assert runs.trained == trained  # the same models, only the stated verdict differs
    assert entries[name]["stated_verdict"] == wrong
    assert entries[name]["outcome"] == "flips"
    assert name not in known  # so the CI test above would report it
