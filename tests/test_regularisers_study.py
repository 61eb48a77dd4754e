"""The regularisers chapter (10): its visible code, the stacked trainer and the theory.

The chapter's ``make_model`` must be the helpers' builder; ``stacked_fit`` must
train what ``fit`` trains with the same layers, regularisers, constraints and
``EarlyStopping``; the shifts must be ``RandomTranslation``'s; the tuning
protocol must pick and compare what it claims; and the chapter's quadratic
dropout penalty must match dropout averaged over masks, with a correct gradient.
"""

import matplotlib

matplotlib.use("Agg")

import keras  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import helpers  # noqa: E402,F401
from helpers import stats  # noqa: E402
from helpers.data import seed_splits  # noqa: E402
from helpers.fastfit import fast_fit  # noqa: E402
from helpers.models import describe  # noqa: E402
from helpers.plotting import regularisers as figs  # noqa: E402
from helpers.studies import regularisers as study  # noqa: E402

from .chapter_code import chapter_namespace  # noqa: E402

NB = "10_regularisers"
KWARGS = [{}, {"rate": 0.5}, {"l2": 1e-3}, {"noise": 0.3}, {"max_norm": 2.0},
          {"shift": 1 / 16}, {"rate": 0.4, "l2": 3e-4}, {"rate": 0.6, "max_norm": 1.5},
          {"hidden": 32, "learning_rate": 0.01}]


@pytest.fixture(scope="module")
def chapter():
    return chapter_namespace(NB, ["make_model", "dropout_penalty", "objective",
                                  "fit_logistic", "masked_copies"])


# --------------------------------------------------------------- the chapter's model
@pytest.mark.parametrize("kwargs", KWARGS)
def test_chapter_model_is_the_helpers_model(chapter, kwargs):
    page, helper = chapter["make_model"](**kwargs), study.make_model(**kwargs)
    assert describe(page) == describe(helper)
    assert study.regularisers_of(page) == study.regularisers_of(helper)


def test_a_changed_chapter_model_is_caught():
    ns = chapter_namespace(NB, ["make_model"], replace=("MaxNorm(max_norm)", "MaxNorm(3.0)"))
    page, helper = ns["make_model"](max_norm=2.0), study.make_model(max_norm=2.0)
    assert study.regularisers_of(page) != study.regularisers_of(helper)
    ns = chapter_namespace(NB, ["make_model"], replace=("hidden=256", "hidden=255"))
    assert describe(ns["make_model"]()) != describe(study.make_model())


def test_regularisers_of_reads_l2_and_max_norm():
    regs = study.regularisers_of(study.make_model(l2=1e-3, max_norm=2.0))
    assert len(regs) == 2
    (reg, cap), _ = regs
    assert reg[0] == "L2" and reg[1]["l2"] == pytest.approx(1e-3)
    assert cap[0] == "MaxNorm" and cap[1]["max_value"] == 2.0
    assert study.regularisers_of(study.make_model()) == [(None, None), (None, None)]


# --------------------------------------------------------------- shifts
@pytest.mark.parametrize("dy, dx", [(0.0, 0.0), (1.0, 0.0), (-0.5, 0.25), (0.7, -1.3)])
def test_shifts_are_keras_bilinear_translation_with_zero_fill(dy, dx):
    rng = np.random.default_rng(0)
    img = rng.random((3, 8, 8)).astype("float32")
    ours = np.asarray(study.shift_images(img, np.full(3, dy), np.full(3, dx)))
    transform = np.array([[1, 0, -dx, 0, 1, -dy, 0, 0]] * 3, "float32")
    ref = np.asarray(keras.ops.image.affine_transform(
        img[..., None], transform, interpolation="bilinear", fill_mode="constant"))[..., 0]
    np.testing.assert_allclose(ours, ref, atol=1e-5)


def test_zero_shift_is_identity():
    img = np.arange(64, dtype="float32").reshape(1, 8, 8)
    np.testing.assert_array_equal(np.asarray(study.shift_images(img, [0.0], [0.0])), img)


# --------------------------------------------------------------- stacked_fit vs Keras
def _toy(seed=0, n=40, n_val=30, seeds=2):
    rng = np.random.default_rng(seed)
    x_fit = rng.random((seeds, n, 64)).astype("float32")
    y_fit = rng.integers(0, 10, (seeds, n)).astype("int32")
    x_val = rng.random((seeds, n_val, 64)).astype("float32")
    y_val = rng.integers(0, 10, (seeds, n_val)).astype("int32")
    x_test = rng.random((25, 64)).astype("float32")
    y_test = rng.integers(0, 10, 25).astype("int32")
    return x_fit, y_fit, x_val, y_val, x_test, y_test


def _keras_copy(seed, hidden, **kwargs):
    keras.utils.set_random_seed(seed)
    start = study.make_model(hidden).get_weights()
    model = study.make_model(hidden, **kwargs)
    model.set_weights(start)
    return model


@pytest.mark.parametrize("setting", [study.Setting(study.NONE),
                                     study.Setting("L2", l2=3e-3),
                                     study.Setting("max-norm", max_norm=0.8)])
def test_deterministic_settings_train_like_fast_fit(setting):
    x_fit, y_fit, x_val, y_val, x_test, y_test = _toy()
    seeds, hidden, epochs = [3, 4], 32, 25
    out = study.stacked_fit([setting], seeds, x_fit, y_fit, x_val, y_val, x_test, y_test,
                            epochs=epochs, hidden=hidden)
    for s, seed in enumerate(seeds):
        model = _keras_copy(seed, hidden, **setting.model_kwargs())
        h = fast_fit(model, x_fit[s], y_fit[s], epochs, validation_data=(x_val[s], y_val[s]))
        np.testing.assert_allclose(out["loss"][:, 0, s], h["loss"], rtol=2e-4, atol=2e-5)
        np.testing.assert_allclose(out["val_loss_curve"][:, 0, s], h["val_loss"], rtol=2e-4,
                                   atol=2e-5)
        kernel = out["weights"][0][0, s]
        np.testing.assert_allclose(kernel, np.asarray(model.layers[1].kernel), atol=2e-4)
        _, acc = model.evaluate(x_test, y_test, verbose=0)
        assert out["test_accuracy"][0, s] == pytest.approx(acc, abs=1e-6)


def test_early_stopping_is_keras_early_stopping():
    rng = np.random.default_rng(1)
    x = rng.random((1, 40, 64)).astype("float32")
    y = rng.integers(0, 10, (1, 40)).astype("int32")
    xv = rng.random((1, 30, 64)).astype("float32")
    yv = rng.integers(0, 10, (1, 30)).astype("int32")
    hidden, epochs, patience = 32, 80, 4
    setting = study.Setting("early stopping", patience=patience)
    out = study.stacked_fit([setting], [7], x, y, xv, yv, xv[0], yv[0], epochs=epochs,
                            hidden=hidden, learning_rate=0.01)
    model = _keras_copy(7, hidden, learning_rate=0.01)
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience,
                                         restore_best_weights=True)
    h = model.fit(x[0], y[0], batch_size=40, epochs=epochs, validation_data=(xv[0], yv[0]),
                  callbacks=[stop], verbose=0, shuffle=False).history
    assert len(h["loss"]) < epochs, "the toy problem should stop early"
    assert out["epochs_run"][0, 0] == len(h["loss"])
    assert out["best_epoch"][0, 0] == int(np.argmin(h["val_loss"])) + 1
    np.testing.assert_allclose(out["weights"][0][0, 0], np.asarray(model.layers[1].kernel),
                               atol=2e-4)
    val_loss, val_acc = model.evaluate(xv[0], yv[0], verbose=0)
    assert out["val_loss"][0, 0] == pytest.approx(val_loss, abs=1e-4)
    assert out["val_accuracy"][0, 0] == pytest.approx(val_acc, abs=1e-6)


def test_noisy_settings_draw_their_own_noise_and_leave_others_alone():
    x_fit, y_fit, x_val, y_val, x_test, y_test = _toy()
    settings = [study.Setting(study.NONE), study.Setting("dropout", rate=0.5),
                study.Setting("Gaussian noise", noise=0.3), study.Setting("shifts", shift=1 / 8)]
    out = study.stacked_fit(settings, [0, 1], x_fit, y_fit, x_val, y_val, x_test, y_test,
                            epochs=15, hidden=32)
    alone = study.stacked_fit(settings[:1], [0, 1], x_fit, y_fit, x_val, y_val, x_test, y_test,
                              epochs=15, hidden=32)
    np.testing.assert_allclose(out["loss"][:, 0], alone["loss"][:, 0], rtol=1e-5)
    first = out["loss"][0]  # epoch 1: same weights, so any difference is the noise
    for k in (1, 2, 3):
        assert np.all(first[k] != first[0])
    assert np.all(np.isfinite(out["test_loss"]))


def test_stacked_dropout_acts_in_training_only():
    # epoch 1, same initial weights: the rate-0.8 copy's training loss (masks on)
    # differs from the plain copy's; after one step its weights differ too
    x_fit, y_fit, x_val, y_val, x_test, y_test = _toy(seeds=1)
    settings = [study.Setting(study.NONE), study.Setting("dropout", rate=0.8)]
    out = study.stacked_fit(settings, [0], x_fit, y_fit, x_val, y_val, x_test, y_test,
                            epochs=1, hidden=64)
    assert out["loss"][0, 1, 0] != out["loss"][0, 0, 0]
    assert out["val_loss_curve"][0, 1, 0] != out["val_loss_curve"][0, 0, 0]


def test_stacked_fit_checks_its_inputs():
    x_fit, y_fit, x_val, y_val, x_test, y_test = _toy(seeds=2)
    with pytest.raises(ValueError, match="one split per seed"):
        study.stacked_fit([study.Setting(study.NONE)], [0, 1, 2], x_fit, y_fit, x_val, y_val,
                          x_test, y_test, epochs=2)


# --------------------------------------------------------------- protocol
def test_grid_and_settings():
    settings = study.build_settings({"dropout": [0.2, 0.5], "dropout + L2": [(0.4, 1e-3)],
                                     "early stopping": [5]})
    assert [s.method for s in settings] == [study.NONE, "dropout", "dropout", "dropout + L2",
                                            "early stopping"]
    assert settings[3].rate == 0.4 and settings[3].l2 == 1e-3
    assert settings[4].patience == 5 and settings[4].model_kwargs()["rate"] == 0.0
    assert settings[3].knob() == "rate 0.4, λ 0.001"
    assert study.Setting("shifts", shift=1 / 16).knob() == "shift ±0.5 px"
    with pytest.raises(ValueError, match="unknown method"):
        study.grid("dropconnect", [0.5])


def _fake_results():
    val = np.array([[0.80, 0.80], [0.82, 0.84], [0.90, 0.88], [0.85, 0.85]])
    test = np.array([[0.80, 0.81, 0.79], [0.85, 0.86, 0.84], [0.83, 0.85, 0.84],
                     [0.80, 0.81, 0.79]])
    return {"val_accuracy": val, "test_accuracy": test, "test_loss": 1 - test}


def test_select_picks_the_best_validation_mean_per_method():
    settings = [study.Setting(study.NONE), study.Setting("dropout", rate=0.2),
                study.Setting("dropout", rate=0.5), study.Setting("L2", l2=1e-3)]
    res = _fake_results()
    chosen = study.select(settings, res)
    assert chosen == {study.NONE: 0, "dropout": 2, "L2": 3}
    grid = study.grid_table(settings, res, chosen)
    assert grid["chosen"].tolist() == ["✓", "", "✓", "✓"]
    v = study.verdicts(res, chosen, study.NONE)
    assert v["dropout"]["diff"] == pytest.approx(0.04)
    assert v["dropout"] == stats.compare(res["test_accuracy"][0], res["test_accuracy"][2],
                                         paired=True)
    assert v["L2"]["verdict"] == "within seed noise"
    table = study.results_table(settings, res, chosen)
    assert table.loc[0, "vs none"] == "–" and table.loc[1, "vs dropout"] == "–"
    assert "higher" in table.loc[1, "vs none"]


def test_seed_splits_are_stratified_and_disjoint():
    rng = np.random.default_rng(0)
    x = rng.random((300, 64)).astype("float32")
    y = np.repeat(np.arange(10), 30)
    x_fit, y_fit, x_val, y_val = seed_splits(x, y, [0, 1], n_fit=50, n_val=30)
    assert x_fit.shape == (2, 50, 64) and x_val.shape == (2, 30, 64)
    for s in range(2):
        assert set(y_fit[s]) == set(range(10)) and set(y_val[s]) == set(range(10))
        rows_fit = {r.tobytes() for r in x_fit[s]}
        assert not rows_fit & {r.tobytes() for r in x_val[s]}
    assert not np.array_equal(x_fit[0], x_fit[1])
    with pytest.raises(ValueError):
        seed_splits(x, y, [0], n_fit=290, n_val=20)


# --------------------------------------------------------------- theory
@pytest.fixture(scope="module")
def logistic():
    rng = np.random.default_rng(0)
    x = rng.random((150, 6)) * (rng.random((150, 6)) < 0.6)
    w_true = np.array([2.0, -1.5, 1.0, 0.0, 0.5, -2.0])
    y = (rng.random(150) < 1 / (1 + np.exp(-(x @ w_true - 0.2)))).astype(float)
    return x, y


def test_chapter_penalty_is_the_formula_and_matches_masks(chapter, logistic):
    x, y = logistic
    w, b, p = np.array([1.0, -0.5, 0.3, 0.2, -0.1, 0.8]), 0.1, 0.1
    s = 1 / (1 + np.exp(-(x @ w + b)))
    by_hand = 0.5 * p / (1 - p) * np.mean(s * (1 - s) * ((x * w) ** 2).sum(1))
    assert chapter["dropout_penalty"](w, b, x, p) == pytest.approx(by_hand)
    lam = study.strengths(w, b, x, p)
    assert (lam * w**2).sum() == pytest.approx(by_hand)
    copies = 4000
    keras.utils.set_random_seed(0)
    x_masked = chapter["masked_copies"](x, p, copies, seed=0)
    mc = study.monte_carlo_penalty(w, b, x, y, x_masked, copies)
    assert mc == pytest.approx(by_hand, rel=0.1)


def test_masked_copies_are_inverted_dropout(chapter, logistic):
    x, _ = logistic
    keras.utils.set_random_seed(0)
    m = chapter["masked_copies"](x, 0.3, 50, seed=1)
    rows = np.repeat(x, 50, 0)
    kept = m != 0
    np.testing.assert_allclose(m[kept], rows[kept] / 0.7, rtol=1e-6)
    assert abs(1 - kept[rows != 0].mean() - 0.3) < 0.01


@pytest.mark.parametrize("p, lam", [(0.0, 0.0), (0.3, 0.0), (0.0, 0.01), (0.5, 0.02)])
def test_chapter_objective_gradient(chapter, logistic, p, lam):
    from scipy.optimize import check_grad

    x, y = logistic
    theta = np.random.default_rng(1).normal(size=7)
    f = chapter["objective"]
    err = check_grad(lambda t: f(t, x, y, p, lam)[0], lambda t: f(t, x, y, p, lam)[1], theta)
    assert err < 1e-5


def test_quadratic_fit_is_closer_to_dropout_than_matched_l2(chapter, logistic):
    x, y = logistic
    fit, masked = chapter["fit_logistic"], chapter["masked_copies"]
    p, copies = 0.3, 300
    keras.utils.set_random_seed(0)
    w_drop, _ = fit(masked(x, p, copies, seed=0), np.repeat(y, copies))
    w_quad, _ = fit(x, y, p=p)
    lam = study.match_l2(lambda lam: fit(x, y, lam=lam)[0], np.linalg.norm(w_drop))
    w_l2, _ = fit(x, y, lam=lam)
    assert np.linalg.norm(w_l2) == pytest.approx(np.linalg.norm(w_drop), rel=1e-3)
    q, l2 = study.agreement(w_quad, w_drop), study.agreement(w_l2, w_drop)
    assert q["relative difference"] < l2["relative difference"]
    assert q["correlation"] > 0.98


def test_agreement_and_binary_digits():
    a = study.agreement([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    assert a["correlation"] == pytest.approx(1.0) and a["relative difference"] == 0.0
    b = study.agreement([2.0, 4.0, 6.0], [1.0, 2.0, 3.0])
    assert b["correlation"] == pytest.approx(1.0) and b["relative difference"] == pytest.approx(1.0)
    x = np.zeros((10, 3))
    x[:, 0], x[:2, 1] = 1.0, 1.0
    xs, ys = study.binary_digits(x, np.arange(10), 10, min_active=0.3)
    assert xs.shape == (10, 1) and ys.tolist() == [0, 1] * 5


# --------------------------------------------------------------- figures
def test_figures_draw():
    rng = np.random.default_rng(0)
    methods = list(figs.METHOD_COLORS)
    fig = figs.plot_method_scores({m: rng.random(5) for m in methods},
                                  {m: rng.random(5) for m in methods})
    assert len(fig.axes) == 2
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == methods
    plt.close(fig)
    w = rng.normal(size=20)
    fig = figs.plot_weight_agreement(w, {"a": w + 0.1, "b": 0.5 * w}, 0.3)
    assert len(fig.axes[0].collections) == 2
    plt.close(fig)
