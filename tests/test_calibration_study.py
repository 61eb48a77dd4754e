"""The calibration chapter (11): its visible code, its measurements and its figures.

The chapter's model must be the helpers' model; its ECE, NLL and Brier score,
its MC-dropout average, its temperature fit and its corruptions must compute
what :mod:`helpers.studies.calibration` computes for the seed loops; and the
metrics must give the values a hand computation gives.
"""

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import keras  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import helpers  # noqa: E402,F401
from helpers import models  # noqa: E402
from helpers.models import describe  # noqa: E402
from helpers.plotting import calibration as figs  # noqa: E402
from helpers.studies import calibration as study  # noqa: E402

from .chapter_code import chapter_namespace  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

NB = "11_calibration"

# Four predictions over three classes, worked out by hand in the chapter.
HAND_PROBS = np.array([[0.95, 0.03, 0.02],   # predicts 0, right
                       [0.85, 0.10, 0.05],   # predicts 0, wrong
                       [0.30, 0.50, 0.20],   # predicts 1, right
                       [0.20, 0.35, 0.45]])  # predicts 2, wrong
HAND_Y = np.array([0, 1, 1, 0])


@pytest.fixture(scope="module")
def chapter():
    return chapter_namespace(NB, ["make_model", "ece", "nll", "brier", "mc_dropout_predict",
                                  "fit_temperature", "corrupt"])


def _random_probs(n=500, k=10, seed=0, sharpness=3.0):
    rng = np.random.default_rng(seed)
    z = sharpness * rng.standard_normal((n, k))
    return study.softmax(z), rng.integers(0, k, n)


# --------------------------------------------------------------- the model
@pytest.mark.parametrize("kwargs", [{}, {"rate": 0.0}, {"rate": 0.2}, {"hidden": 64}])
def test_chapter_model_is_the_helpers_model(chapter, kwargs):
    assert describe(chapter["make_model"](**kwargs)) == describe(study.make_model(**kwargs))


@pytest.mark.parametrize("rate", [0.5, 0.0])
def test_chapter_model_is_the_pitfalls_digits_classifier(chapter, rate):
    helper = models.mlp_classifier(input_dim=64, hidden=(256,), rate=rate)
    assert describe(chapter["make_model"](rate=rate)) == describe(helper)


def test_a_changed_chapter_model_is_caught():
    ns = chapter_namespace(NB, ["make_model"], replace=("hidden=256", "hidden=255"))
    assert describe(ns["make_model"]()) != describe(study.make_model())


def test_seeded_pairs_share_their_initial_weights():
    without, with_dropout = study.seeded_pairs([3, 4], rate=0.5, hidden=16)
    for plain, drop in zip(without, with_dropout, strict=True):
        assert not any(type(layer).__name__ == "Dropout" for layer in plain.layers)
        assert any(type(layer).__name__ == "Dropout" for layer in drop.layers)
        for a, b in zip(plain.get_weights(), drop.get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)
    first = [w.copy() for w in without[0].get_weights()]
    again, _ = study.seeded_pairs([3], rate=0.5, hidden=16)
    for a, b in zip(first, again[0].get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(without[0].get_weights()[0], without[1].get_weights()[0])


def test_logits_give_the_models_probabilities():
    keras.utils.set_random_seed(0)
    model = study.make_model(rate=0.5, hidden=32)
    x = np.random.default_rng(0).random((20, 64)).astype("float32")
    p = np.asarray(model(x))
    np.testing.assert_allclose(study.softmax(study.logits(model, x)), p, atol=1e-6)
    np.testing.assert_allclose(study.fast_logits(study.weights(model), x),
                               study.logits(model, x), atol=1e-5)


# --------------------------------------------------------------- the metrics
@pytest.mark.parametrize("source", ["chapter", "helper"])
def test_ece_on_the_hand_example(chapter, source):
    ece = chapter["ece"] if source == "chapter" else study.ece
    # top bin (0.8, 1]: accuracy 0.5, confidence 0.9 -> 0.4; bin (0.4, 0.6]:
    # accuracy 0.5, confidence 0.475 -> 0.025; each half of the predictions
    assert ece(HAND_PROBS, HAND_Y, n_bins=5) == pytest.approx(0.5 * 0.4 + 0.5 * 0.025)
    # ten bins: 0.95 and 0.85 alone in theirs; 0.5 and 0.45 share (0.4, 0.5]
    assert ece(HAND_PROBS, HAND_Y, n_bins=10) == pytest.approx(
        0.25 * 0.05 + 0.25 * 0.85 + 0.5 * 0.025)


@pytest.mark.parametrize("source", ["chapter", "helper"])
def test_ece_bins_are_closed_on_the_right(chapter, source):
    ece = chapter["ece"] if source == "chapter" else study.ece
    # confidence exactly 0.8 belongs to (0.6, 0.8] with 5 bins, together with
    # 0.7; the two (one right, one wrong) average to accuracy 0.5, conf 0.75
    probs = np.array([[0.8, 0.2], [0.3, 0.7]])
    y = np.array([0, 0])
    assert ece(probs, y, n_bins=5) == pytest.approx(abs(0.5 - 0.75))


@pytest.mark.parametrize("source", ["chapter", "helper"])
def test_ece_is_zero_when_confidence_matches_accuracy(chapter, source):
    ece = chapter["ece"] if source == "chapter" else study.ece
    # confidence 0.75 for four predictions, three of them right
    probs = np.tile([[0.75, 0.25]], (4, 1))
    y = np.array([0, 0, 0, 1])
    assert ece(probs, y) == pytest.approx(0.0)
    assert ece(np.eye(3), np.arange(3)) == pytest.approx(0.0)


@pytest.mark.parametrize("n_bins", [1, 5, 10, 15, 20])
def test_chapter_metrics_are_the_helpers(chapter, n_bins):
    probs, y = _random_probs()
    assert chapter["ece"](probs, y, n_bins) == pytest.approx(study.ece(probs, y, n_bins))
    assert chapter["nll"](probs, y) == pytest.approx(study.nll(probs, y))
    assert chapter["brier"](probs, y) == pytest.approx(study.brier(probs, y))


def test_nll_and_brier_on_the_hand_example(chapter):
    nll = -(math.log(0.95) + math.log(0.10) + math.log(0.50) + math.log(0.20)) / 4
    brier = ((0.05**2 + 0.03**2 + 0.02**2) + (0.85**2 + 0.9**2 + 0.05**2)
             + (0.3**2 + 0.5**2 + 0.2**2) + (0.8**2 + 0.35**2 + 0.45**2)) / 4
    for ns in (chapter, vars(study)):
        assert ns["nll"](HAND_PROBS, HAND_Y) == pytest.approx(nll)
        assert ns["brier"](HAND_PROBS, HAND_Y) == pytest.approx(brier)


def test_reliability_table_adds_up_to_the_ece():
    probs, y = _random_probs(n=300, seed=1)
    table = study.reliability(probs, y, 10)
    assert table["count"].sum() == len(y)
    used = table[table["count"] > 0]
    manual = np.sum(used["count"] / len(y) * np.abs(used["accuracy"] - used["confidence"]))
    assert study.ece(probs, y, 10) == pytest.approx(manual)
    pooled = study.pooled_reliability(np.stack([probs, probs]), y, 10)
    np.testing.assert_array_equal(pooled["count"], 2 * table["count"])


def test_metrics_reject_misaligned_inputs():
    with pytest.raises(ValueError):
        study.ece(np.ones((3, 2)) / 2, np.zeros(4, int))
    with pytest.raises(ValueError):
        study.nll(np.ones(3), np.zeros(3, int))


# --------------------------------------------------------------- the predictors
@pytest.fixture(scope="module")
def dropout_net():
    keras.utils.set_random_seed(1)
    return study.make_model(rate=0.5, hidden=32)


def test_chapter_mc_average_is_the_helpers(chapter, dropout_net):
    x = np.random.default_rng(2).random((40, 64)).astype("float32")
    page = chapter["mc_dropout_predict"](dropout_net, x, 50, np.random.default_rng(7))
    helper = study.mc_dropout_predict(dropout_net, x, 50, np.random.default_rng(7))
    fast = study.fast_mc(study.weights(dropout_net), x, 0.5, 50, np.random.default_rng(7))
    np.testing.assert_allclose(page, helper, atol=1e-7)
    np.testing.assert_allclose(fast, helper, atol=1e-5)
    np.testing.assert_allclose(page.sum(1), 1.0, atol=1e-5)


def test_mc_average_matches_keras_training_true(chapter, dropout_net):
    """One mask per pass (the chapter) and one mask per row (Keras'
    ``training=True``) give every row the same average in expectation."""
    x = np.random.default_rng(3).random((30, 64)).astype("float32")
    passes = 3000
    page = chapter["mc_dropout_predict"](dropout_net, x, passes, np.random.default_rng(0))
    keras.utils.set_random_seed(0)
    tiled = np.tile(x, (passes, 1))
    keras_mean = np.asarray(dropout_net(tiled, training=True)).reshape(passes, len(x), -1).mean(0)
    assert np.abs(page - keras_mean).max() < 0.02


def test_mc_masks_drop_at_the_rate(dropout_net):
    w = study.weights(dropout_net)
    x = np.random.default_rng(4).random((5, 64)).astype("float32")
    single = study.fast_mc(w, x, 0.5, 1, np.random.default_rng(0))
    rng = np.random.default_rng(0)
    mask = (rng.random((1, 1, 32)) < 0.5) / 0.5
    h = np.maximum(x @ w[0] + w[1], 0.0)
    expected = study.softmax((h * mask[0]) @ w[2] + w[3])
    np.testing.assert_allclose(single, expected, atol=1e-5)


@pytest.mark.parametrize("true_t", [0.5, 2.0])
def test_fit_temperature_recovers_a_known_temperature(chapter, true_t):
    rng = np.random.default_rng(5)
    z = 3.0 * rng.standard_normal((20_000, 5))
    p = study.softmax(z / true_t)
    y = (p.cumsum(1) > rng.random((len(z), 1))).argmax(1)
    for fit in (chapter["fit_temperature"], study.fit_temperature):
        assert fit(z, y) == pytest.approx(true_t, rel=0.05)
    assert chapter["fit_temperature"](z, y) == pytest.approx(study.fit_temperature(z, y))


def test_temperature_lowers_validation_nll():
    probs, y = _random_probs(n=400, seed=6, sharpness=6.0)
    z = np.log(probs)
    t = study.fit_temperature(z, y)
    assert t > 1  # random labels: the fit softens
    assert study.nll(study.softmax(z, t), y) < study.nll(probs, y)
    np.testing.assert_array_equal(study.softmax(z, t).argmax(1), probs.argmax(1))


# --------------------------------------------------------------- the corruptions
@pytest.mark.parametrize("kind", list(study.SEVERITIES))
def test_chapter_corruptions_are_the_helpers(chapter, kind):
    x = np.random.default_rng(8).random((12, 64)).astype("float32")
    for sev in study.SEVERITIES[kind]:
        page = chapter["corrupt"](x, kind, sev, np.random.default_rng(9))
        helper = study.corrupt(x, kind, sev, np.random.default_rng(9))
        np.testing.assert_allclose(page, helper, atol=1e-6)
        assert page.shape == x.shape and page.dtype == np.float32


def test_corruptions_do_what_they_say():
    x = np.random.default_rng(10).random((8, 64)).astype("float32")
    noisy = study.corrupt(x, "Gaussian noise", 0.5, np.random.default_rng(0))
    assert noisy.min() >= 0.0 and noisy.max() <= 1.0 and not np.allclose(noisy, x)
    faded = study.corrupt(x, "contrast", 0.25, None)
    np.testing.assert_allclose(faded.mean(1), x.mean(1), atol=1e-6)
    np.testing.assert_allclose(faded.std(1), 0.25 * x.std(1), rtol=1e-4)
    blurred = study.corrupt(x, "blur", 1.0, None)
    assert blurred.std(1).mean() < x.std(1).mean()
    with pytest.raises(ValueError):
        study.corrupt(x, "rain", 1.0, None)


def test_shifted_sets_are_fixed_and_complete():
    x = np.random.default_rng(11).random((6, 64)).astype("float32")
    a, b = study.shifted_sets(x, seed=3), study.shifted_sets(x, seed=3)
    assert len(a) == 1 + sum(len(v) for v in study.SEVERITIES.values())
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    np.testing.assert_array_equal(a[study.CLEAN], x)
    images = study.example_images(a, index=2)
    assert set(images) == set(study.SEVERITIES)
    assert images["blur"].shape == (6, 64)


# --------------------------------------------------------------- the seed loop
@pytest.fixture(scope="module")
def small_run():
    from helpers.batched import batched_fit
    from helpers.data import load_digits_split, seed_splits

    (xp, yp), (xt, yt) = load_digits_split(random_state=0)
    seeds = [0, 1, 2]
    x_fit, y_fit, x_val, y_val = seed_splits(xp, yp, seeds, n_fit=60, n_val=60)
    without, with_dropout = study.seeded_pairs(seeds, rate=0.5, hidden=32)
    batched_fit(without + with_dropout, list(x_fit) * 2, list(y_fit) * 2, epochs=60,
                write_back=True)
    sets = study.shifted_sets(xt[:100], {"blur": (0.5, 1.0)}, seed=0)
    probs, temps = study.predict_all(without, with_dropout, sets, x_val, y_val, 20)
    return without, with_dropout, sets, probs, temps, yt[:100]


def test_predict_all_matches_the_keras_models(small_run):
    without, with_dropout, sets, probs, temps, y = small_run
    assert set(probs) == set(study.PREDICTORS)
    x = sets[study.CLEAN]
    for s, (plain, drop) in enumerate(zip(without, with_dropout, strict=True)):
        np.testing.assert_allclose(probs["no dropout"][study.CLEAN][s], np.asarray(plain(x)),
                                   atol=1e-5)
        np.testing.assert_allclose(probs["dropout"][study.CLEAN][s], np.asarray(drop(x)),
                                   atol=1e-5)
    assert np.all(temps > 0) and temps.shape == (3,)
    np.testing.assert_array_equal(probs["temperature scaling"][study.CLEAN].argmax(-1),
                                  probs["no dropout"][study.CLEAN].argmax(-1))
    assert probs["MC dropout"][("blur", 2)].shape == (3, 100, 10)


def test_scores_tables_and_verdicts(small_run):
    *_, probs, _, y = small_run
    scores = study.score_all(probs, y)
    assert set(scores["MC dropout"][study.CLEAN]) == set(study.METRICS)
    assert scores["no dropout"][study.CLEAN]["ECE"].shape == (3,)
    table = study.scores_table(scores)
    assert list(table["predictor"]) == list(study.PREDICTORS)
    assert "±" in table.loc[0, "ECE"]
    verdicts = study.verdict_table(scores)
    assert len(verdicts) == len(study.COMPARISONS)
    acc = verdicts.set_index("comparison").loc["temperature scaling − no dropout", "accuracy"]
    assert acc.startswith("0.000")
    shift = study.shift_verdicts(scores, level=2, kinds=["blur"])
    assert list(shift.columns) == ["comparison", "blur"]
    hits, total = study.count_verdicts(scores, "no dropout", "dropout", "ECE", "lower",
                                       kinds=["blur"], level_range=range(1, 3))
    assert total == 2 and 0 <= hits <= 2
    curves = study.shift_curves(scores, kinds=["blur"], n_levels=2)
    assert curves[("blur", "ECE")]["MC dropout"].shape == (3, 3)
    over = study.overconfidence(scores, "no dropout")
    np.testing.assert_allclose(over, scores["no dropout"][study.CLEAN]["confidence"]
                               - scores["no dropout"][study.CLEAN]["accuracy"])


# --------------------------------------------------------------- the figures
def test_figures_draw(small_run):
    *_, sets, probs, _, y = small_run
    scores = study.score_all(probs, y)
    diagrams = {p: study.pooled_reliability(probs[p][study.CLEAN], y) for p in probs}
    fig = figs.plot_reliability(diagrams, {p: "0.1 ± 0.0" for p in probs})
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 4
    plt.close(fig)
    images = study.example_images(sets, index=0, kinds=["blur"], n_levels=2)
    fig = figs.plot_corruptions(images, {"blur": (0.5, 1.0)})
    assert len(fig.axes) == 3
    plt.close(fig)
    curves = study.shift_curves(scores, kinds=["blur"], n_levels=2)
    fig = figs.plot_shift(curves, ["blur"])
    assert len(fig.axes) == 2
    plt.close(fig)


# ------------------------------------------------------------------ CIFAR-10, recorded
def _probs(n, k, rng, sharpen=1.0):
    z = rng.normal(size=(n, k)) * sharpen
    p = np.exp(z - z.max(1, keepdims=True))
    return p / p.sum(1, keepdims=True)


def test_bootstrap_ece_is_the_chapter_ece_and_its_verdicts_can_go_both_ways():
    from helpers import stats
    from helpers.studies import calibration as cal

    rng = np.random.default_rng(0)
    y = rng.integers(0, 5, 3000)
    base = _probs(3000, 5, rng)
    # the fast bincount ECE equals the table-based one on the whole set
    bins, correct, conf = cal._ece_bins(base, y, 10)
    assert cal._ece_of(bins, correct, conf, 10) == pytest.approx(cal.ece(base, y, 10), abs=1e-12)
    same = cal.bootstrap_difference(base, base, y, "ECE", n_boot=200)
    assert same["diff"] == 0 and same["low"] == 0 and same["high"] == 0
    assert same["verdict"] == stats.VERDICTS[2]
    # right side: the labels' probability pushed up -> better calibrated and lower NLL
    better = 0.5 * base + 0.5 * np.eye(5)[y]
    for metric, expect in (("NLL", "lower"), ("Brier", "lower"), ("accuracy", "higher")):
        r = cal.bootstrap_difference(base, better, y, metric, n_boot=300)
        assert r["verdict"] == expect, (metric, r)
        assert r["low"] <= r["diff"] <= r["high"]
    r = cal.bootstrap_difference(base, better, y, "NLL", n_boot=50)
    assert r["diff"] == pytest.approx(cal.nll(better, y) - cal.nll(base, y))
    forward = cal.bootstrap_difference(base, better, y, "Brier", n_boot=300)
    flipped = cal.bootstrap_difference(better, base, y, "Brier", n_boot=300)
    assert flipped["verdict"] == "higher" and flipped["diff"] == pytest.approx(-forward["diff"])
    worse = _probs(3000, 5, np.random.default_rng(5), sharpen=4.0)  # confident and random
    assert cal.bootstrap_difference(base, worse, y, "ECE", n_boot=300)["verdict"] == "higher"
    # the words come from the shared helper, naming the noise the interval covers
    assert "test-sample noise" in stats.describe_comparison(same, noise="test-sample")
    with pytest.raises(ValueError, match="metric"):
        cal.bootstrap_difference(base, base, y, "AUC")
    with pytest.raises(ValueError, match="line up"):
        cal.bootstrap_difference(base, base[:10], y)


def _record(folder, name, arrays, mc_passes, sha_ok=True):
    import hashlib
    import io
    import json

    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    data = buf.getvalue()
    (folder / f"{name}.probs.npz").write_bytes(data)
    info = {"file": f"{name}.probs.npz", "mc_passes": mc_passes, "dtype": "float16",
            "sha256": hashlib.sha256(data if sha_ok else b"other").hexdigest()}
    for key in ("deterministic", "mc_mean"):
        if key in arrays:
            info[f"{key}_accuracy"] = float((arrays[key].argmax(1) == arrays["labels"]).mean())
    result = {"name": name, "finished": True, "full_protocol": True, "probabilities": info}
    (folder / f"{name}.json").write_text(json.dumps(result))


def test_cifar_probabilities_reads_the_recorded_runs_and_says_how_to_make_them(tmp_path):
    from helpers.experiments import ExperimentError
    from helpers.studies import calibration as cal

    rng = np.random.default_rng(1)
    labels = rng.integers(0, 10, 50).astype("uint8")
    p = _probs(50, 10, rng, sharpen=8.0).astype("float16")  # some entries underflow to 0
    assert (p == 0).any()
    with pytest.raises(ExperimentError, match="--config a --seed 0"):
        cal.cifar_probabilities(0, tmp_path)
    _record(tmp_path, "a-seed0", {"deterministic": p, "labels": labels}, 0)
    with pytest.raises(ExperimentError, match="--config b --seed 0"):
        cal.cifar_probabilities(0, tmp_path)
    _record(tmp_path, "b-seed0", {"deterministic": p, "labels": labels}, 0)
    with pytest.raises(ExperimentError, match="mc_mean"):  # (b) without MC passes
        cal.cifar_probabilities(0, tmp_path)
    _record(tmp_path, "b-seed0", {"deterministic": p, "mc_mean": p[::-1].copy(), "labels": labels}, 30)
    probs, y, info = cal.cifar_probabilities(0, tmp_path)
    assert list(probs) == list(cal.CIFAR_PREDICTORS)
    np.testing.assert_array_equal(y, labels)
    for q in probs.values():
        assert q.dtype == np.float64 and q.min() > 0  # floored: a finite NLL
        np.testing.assert_allclose(q.sum(1), 1.0, atol=1e-12)
        assert np.isfinite(cal.nll(q, y))
    np.testing.assert_array_equal(probs["(b) MC dropout"].argmax(1), p[::-1].astype("float64").argmax(1))
    assert info["(b) MC dropout"]["mc_passes"] == 30 and info["(a) no dropout"]["mc_passes"] == 0
    assert info["(a) no dropout"]["result"] == "a-seed0"
    assert info["(a) no dropout"]["wall_seconds"] is None  # the fake records no provenance
    zero_true = int(np.sum(p[np.arange(50), labels].astype("float64") < cal.PROB_FLOOR))
    assert zero_true > 0
    assert info["(a) no dropout"]["floored"] == zero_true
    # a file that is not the run's is refused, with the fix
    _record(tmp_path, "a-seed0", {"deterministic": p, "labels": labels}, 0, sha_ok=False)
    with pytest.raises(ExperimentError, match="SHA-256.*--config a"):
        cal.cifar_probabilities(0, tmp_path)
    # runs scored on different test labels cannot be compared
    _record(tmp_path, "a-seed0", {"deterministic": p, "labels": labels[::-1].copy()}, 0)
    with pytest.raises(ExperimentError, match="labels differ"):
        cal.cifar_probabilities(0, tmp_path)


def test_floor_sentence_names_the_bounded_nlls():
    from helpers.studies import calibration as cal

    none = {"x": {"floored": 0}, "y": {"floored": 0}}
    assert "does not bound any NLL" in cal.floor_sentence(none)
    some = {"(a) no dropout": {"floored": 1234}, "(b) MC dropout": {"floored": 0}}
    text = cal.floor_sentence(some)
    assert "in 1,234 test images of (a) no dropout," in text and "MC" not in text
    assert "its NLL is a lower bound" in text
    both = {"p": {"floored": 2}, "q": {"floored": 3}}
    assert "their NLLs are lower bounds" in cal.floor_sentence(both)


def test_confidence_side():
    from helpers.studies.calibration import confidence_side

    assert confidence_side({"confidence": 0.88, "accuracy": 0.65}) == "overconfident on average"
    assert confidence_side({"confidence": 0.70, "accuracy": 0.729}) == "underconfident on average"
    assert confidence_side({"confidence": 0.7301, "accuracy": 0.7299}) == "calibrated on average"


def test_recorded_predictors_are_drawn_in_their_concept_colours():
    from helpers.plotting import calibration as pc
    from helpers.studies import calibration as cal

    for label in cal.CIFAR_PREDICTORS:
        assert label in pc.PREDICTOR_STYLES, label
    assert pc.PREDICTOR_STYLES["(a) no dropout"] == pc.PREDICTOR_STYLES["no dropout"]
    assert pc.PREDICTOR_STYLES["(b) MC dropout"] == pc.PREDICTOR_STYLES["MC dropout"]
    row = {"accuracy": 0.7, "confidence": 0.8, "ECE": 0.1, "NLL": 0.9, "Brier": 0.4}
    frame = cal.cifar_table({"(a) no dropout": row})
    assert list(frame.columns) == ["predictor", *cal.METRICS]
    assert frame.iloc[0]["predictor"] == "(a) no dropout"


def test_recorded_range_reads_every_seed_of_a_configuration():
    import json

    from helpers.studies.calibration import recorded_range, recorded_seeds

    assert recorded_seeds("a") == "0, 1, 2"
    losses = [json.loads((ROOT / "results" / "cifar10" / f"a-seed{s}.json").read_text())["test_loss"]
              for s in range(3)]
    assert recorded_range("a", "test_loss") == f"{min(losses):.2f} to {max(losses):.2f}"
    assert recorded_range("b", "test_accuracy").count(".") == 2  # three decimals each
    with pytest.raises(ValueError, match="no recorded runs"):
        recorded_range("z")
