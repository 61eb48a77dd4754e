"""The pitfalls chapter (08): its visible code, its measurements and its figures.

The chapter's models must be the helpers' models; its ``MCDropout`` must be
``helpers.uncertainty.MCDropout`` line for line; its custom loop with the flag
forgotten must train exactly the network without dropout; and every
measurement in :mod:`helpers.studies.pitfalls` must find what it claims on
cases whose answer is known.
"""

import inspect
import warnings

import matplotlib

matplotlib.use("Agg")

import keras  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import helpers  # noqa: E402,F401
from helpers import models, uncertainty  # noqa: E402
from helpers.models import describe  # noqa: E402
from helpers.plotting import pitfalls as figs  # noqa: E402
from helpers.studies import pitfalls as study  # noqa: E402

from .chapter_code import chapter_cells, chapter_namespace  # noqa: E402

NB = "08_pitfalls"


# --------------------------------------------------------------- the chapter's code
@pytest.fixture(scope="module")
def chapter():
    return chapter_namespace(NB, ["make_digits_mlp", "make_circles_mlp", "make_bn_mlp",
                                  "MCDropout", "train"])


@pytest.mark.parametrize("rate", [0.5, 0.0, 0.2])
def test_digits_model_is_the_helpers_classifier(chapter, rate):
    page = describe(chapter["make_digits_mlp"](rate=rate))
    helper = describe(models.mlp_classifier(input_dim=64, hidden=(256,), rate=rate))
    assert page == helper


@pytest.mark.parametrize("kwargs", [{}, {"input_rate": 0.2}, {"rate": 0.4},
                                    {"rate": 0.3, "learning_rate": 0.01}])
def test_circles_model_is_the_helpers_circles_mlp(chapter, kwargs):
    assert describe(chapter["make_circles_mlp"](**kwargs)) == describe(models.circles_mlp(**kwargs))


def test_a_changed_chapter_model_is_caught():
    ns = chapter_namespace(NB, ["make_circles_mlp"], replace=("500", "499"))
    assert describe(ns["make_circles_mlp"]()) != describe(models.circles_mlp())


def test_mcdropout_is_the_helpers_line_for_line():
    helper_src = inspect.getsource(uncertainty.MCDropout).strip()
    cells = chapter_cells(NB, ["MCDropout"])
    assert any(helper_src in src for src in cells), "the chapter's MCDropout differs from helpers'"


def test_chapter_mcdropout_samples_in_inference_mode(chapter):
    layer = chapter["MCDropout"](0.5, seed=1)
    x = np.ones((200, 50), "float32")
    a, b = np.asarray(layer(x)), np.asarray(layer(x))
    assert 0.4 < np.mean(a == 0) < 0.6 and not np.array_equal(a, b)


def test_bn_builder_orders(chapter):
    def order(m):
        return [type(layer).__name__ for layer in m.layers[1:]]

    wrong = order(chapter["make_bn_mlp"](dropout_first=True))
    right = order(chapter["make_bn_mlp"]())
    assert wrong.index("Dropout") < wrong.index("BatchNormalization")
    assert right.index("BatchNormalization") < right.index("Dropout")
    mc = chapter["make_bn_mlp"](dropout=chapter["MCDropout"])
    assert any(type(layer).__name__ == "MCDropout" for layer in mc.layers)


def test_forgotten_flag_trains_exactly_the_network_without_dropout(chapter):
    rng = np.random.default_rng(0)
    x = rng.random((96, 64)).astype("float32")
    y = rng.integers(0, 10, 96).astype("int32")
    keras.utils.set_random_seed(0)
    make, train = chapter["make_digits_mlp"], chapter["train"]
    forgot = make(rate=0.5)
    start = forgot.get_weights()
    plain, right = make(rate=0.0), make(rate=0.5)
    plain.set_weights(start)
    right.set_weights(start)
    train(forgot, x, y, 2, forget_flag=True, seed=0)
    train(plain, x, y, 2, seed=0)
    train(right, x, y, 2, seed=0)
    assert study.weight_difference(forgot, plain) == 0.0
    assert study.weight_difference(right, plain) > 1e-4  # the flag makes dropout act


# --------------------------------------------------------------- accuracy and scores
class _Fixed:
    """A stand-in model returning fixed outputs."""

    def __init__(self, out):
        self.out = np.asarray(out, "float32")

    def __call__(self, x, training=False):
        return self.out


def test_predictions_sigmoid_and_softmax():
    assert study.predictions(_Fixed([[0.2], [0.7]]), np.zeros((2, 2))).tolist() == [0, 1]
    soft = _Fixed([[0.1, 0.9, 0.0], [0.6, 0.3, 0.1]])
    assert study.predictions(soft, np.zeros((2, 2))).tolist() == [1, 0]
    assert study.accuracy(soft, np.zeros((2, 2)), [1, 2]) == 0.5


def test_scores_match_keras_cross_entropy():
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], "float32")
    y = np.array([0, 1])
    got = study.scores(_Fixed(p), np.zeros((2, 2)), y)
    want = float(keras.losses.SparseCategoricalCrossentropy()(y, p))
    assert got["accuracy"] == 0.5
    assert got["loss"] == pytest.approx(want, rel=1e-5)


# --------------------------------------------------------------- input dropout
def test_radius_and_mask_counts():
    x = np.array([[0.6, 0.8], [1.0, 0.0]], "float32")
    np.testing.assert_allclose(study.radius(x), [1.0, 1.0])
    with pytest.raises(ValueError):
        study.radius(np.zeros((3, 3)))
    # rows: both kept, one dropped, both dropped, both kept (the 0 in x counts as kept)
    seen = np.array([[0.75, 1.0], [0.0, 1.0], [0.0, 0.0], [1.25, 0.0]], "float32")
    counts = study.mask_counts(seen, x)
    assert counts == {2: 0.5, 1: 0.25, 0: 0.25}


def test_keras_input_dropout_inflates_kept_points_by_one_over_keep():
    x = np.tile(np.array([[0.6, 0.8]], "float32"), (2000, 1))
    seen = np.asarray(keras.layers.Dropout(0.2, seed=3)(x, training=True))
    r = study.radius(seen)
    both = (seen != 0).all(1)
    np.testing.assert_allclose(r[both], 1.25, rtol=1e-5)
    assert study.mask_counts(seen, x[:1])[2] == pytest.approx(0.64, abs=0.03)


def test_crossing_radius_interpolates_and_takes_the_last_fall():
    r = np.array([0.0, 0.5, 1.0, 1.5])
    assert study.crossing_radius(r, [1.0, 0.8, 0.2, 0.0]) == pytest.approx(0.5 + 0.3 / 0.6 * 0.5)
    assert np.isnan(study.crossing_radius(r, [0.9, 0.8, 0.7, 0.6]))
    # a dip below 0.5 and back: the boundary is the last fall
    assert study.crossing_radius(r, [0.6, 0.4, 0.6, 0.4]) == pytest.approx(1.25)
    with pytest.raises(ValueError):
        study.crossing_radius(r, [1.0, 0.0])


def test_radial_profile_of_a_ring_classifier():
    class Ring:
        def __call__(self, x, training=False):
            x = np.asarray(x)
            return (np.sqrt((x**2).sum(1)) < 0.9).astype("float32")[:, None]

    radii = np.linspace(0, 1.6, 33)
    prof = study.radial_profile(Ring(), radii, n_angles=12)
    assert prof.shape == radii.shape and prof[0] == 1.0 and prof[-1] == 0.0
    assert 0.85 <= study.crossing_radius(radii, prof) <= 0.9


def test_seed_table():
    t = study.seed_table({"a": [0.5, 0.7], "b": [0.9]})
    assert list(t["seeds"]) == [2, 1]
    assert t.loc[0, "mean ± sd"] == "0.600 ± 0.141" and t.loc[1, "mean ± sd"] == "0.900"


# --------------------------------------------------------------- choosing on the test set
def _equal_candidates(n_cand=6, n=4000, acc=0.8, seed=0):
    return np.random.default_rng(seed).random((n_cand, n)) < acc


def test_choosing_on_the_test_set_is_optimistic_and_on_validation_is_not():
    draws = study.selection_study(_equal_candidates(), 70, 70, draws=400, seed=1)
    optimism_test = (draws["reported_by_test"] - draws["true_by_test"]).mean()
    optimism_val = (draws["reported_by_val"] - draws["true_by_val"]).mean()
    assert optimism_test > 0.03  # the maximum of six noisy estimates
    assert abs(optimism_val) < 0.01
    table, comps = study.selection_summary(draws)
    assert comps["test"]["verdict"] == "higher"
    assert comps["val"]["verdict"] == "within seed noise"
    assert list(table["strategy"]) == list(study.STRATEGIES.values())


def test_a_clearly_better_candidate_is_found_either_way():
    correct = _equal_candidates()
    correct[3] = np.random.default_rng(9).random(correct.shape[1]) < 0.99
    draws = study.selection_study(correct, 70, 70, draws=50, seed=0)
    assert (draws["chosen_by_test"] == 3).all() and (draws["chosen_by_val"] == 3).all()


def test_true_accuracy_uses_the_points_outside_the_draw():
    correct = np.zeros((2, 10), bool)
    correct[0, :] = True
    draws = study.selection_study(correct, 2, 3, draws=5, seed=0)
    assert (draws["true_by_test"] == 1.0).all() and (draws["chosen_by_val"] == 0).all()


def test_selection_study_is_seeded_and_checks_its_input():
    c = _equal_candidates(n=500)
    a = study.selection_study(c, 50, 50, draws=10, seed=4)
    pd.testing.assert_frame_equal(a, study.selection_study(c, 50, 50, draws=10, seed=4))
    with pytest.raises(ValueError):
        study.selection_study(c, 300, 300, draws=1)
    with pytest.raises(ValueError):
        study.selection_study(c[0], 10, 10, draws=1)


# --------------------------------------------------------------- BatchNorm
def _dropout_bn(rate):
    inputs = keras.Input(shape=(4,))
    h = keras.layers.Dropout(rate, seed=0)(inputs) if rate else inputs
    outputs = keras.layers.BatchNormalization(momentum=0.0, name="bn")(h)
    return keras.Model(inputs, outputs)


@pytest.mark.parametrize("mean", [0.0, 1.0])
def test_variance_ratio_measures_dropouts_shift(mean):
    x = (np.random.default_rng(0).standard_normal((20000, 4)) + mean).astype("float32")
    for rate in (0.5, 0.0):
        m = _dropout_bn(rate)
        m(x, training=True)  # momentum 0: the moving variance is this batch's
        ratio = study.bn_variance_ratio(m, "bn", x)
        want = study.shift_theory(mean, 1.0, rate)
        np.testing.assert_allclose(ratio, want, rtol=0.05)


def test_variance_ratio_leaves_out_constant_channels_and_checks_the_layer():
    x = np.random.default_rng(1).standard_normal((500, 4)).astype("float32")
    x[:, 2] = 3.0
    m = _dropout_bn(0.0)
    m(x, training=True)
    ratio = study.bn_variance_ratio(m, "bn", x)
    assert np.isnan(ratio[2]) and np.isfinite(ratio[[0, 1, 3]]).all()
    assert study.bn_inputs(m, "bn", x).shape == (500, 4)
    with pytest.raises(ValueError):
        study.bn_variance_ratio(m, m.layers[0].name, x)


def test_shift_theory_values():
    assert study.shift_theory(0.0, 1.0, 0.5) == pytest.approx(2.0)
    assert study.shift_theory(1.0, 1.0, 0.5) == pytest.approx(3.0)
    assert study.shift_theory(2.0, 1.0, 0.0) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        study.shift_theory(0.0, 1.0, 1.0)


# --------------------------------------------------------------- MC dropout
def _bn_dropout_net(dropout_cls):
    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(3,))
    h = keras.layers.BatchNormalization(momentum=0.9, name="bn")(inputs)
    h = dropout_cls(0.5)(h)
    outputs = keras.layers.Dense(2, activation="softmax")(h)
    return keras.Model(inputs, outputs)


def test_one_at_a_time_with_training_rewrites_batchnorm_and_mcdropout_does_not():
    x = np.random.default_rng(0).standard_normal((6, 3)).astype("float32") + 2.0
    net = _bn_dropout_net(keras.layers.Dropout)
    before = study.moving_variance(net, "bn")
    out = study.passes_one_at_a_time(net, x, 3, training=True)
    assert out.shape == (3, 6, 2)
    assert np.all(study.moving_variance(net, "bn") < 0.5 * before)  # pulled towards 0
    mc = _bn_dropout_net(uncertainty.MCDropout)
    before = study.moving_variance(mc, "bn")
    out = study.passes_one_at_a_time(mc, x, 4)
    np.testing.assert_array_equal(study.moving_variance(mc, "bn"), before)
    assert out.std(0).max() > 0  # still sampling


def test_mc_table_rows():
    s = {"accuracy": 0.9, "loss": 0.3}
    t = study.mc_table({"a": (0.1, [1e-5, 1e-3], s), "b": (0.95, [1.0, 1.0], s)}, s)
    assert list(t["recipe"]) == ["trained network, before sampling", "a", "b"]
    assert list(t["stored variance, after / before"]) == ["1", "0.000505", "1"]
    assert np.isnan(t.loc[0, "MC accuracy"])


# --------------------------------------------------------------- custom loops
def test_weight_difference_and_loop_table():
    a = models.mlp_classifier(input_dim=4, hidden=(3,), rate=0.0, seed=0)
    b = models.mlp_classifier(input_dim=4, hidden=(3,), rate=0.5, seed=0)
    b.set_weights(a.get_weights())
    assert study.weight_difference(a, b) == 0.0
    w = b.get_weights()
    w[0][0, 0] += 0.25
    b.set_weights(w)
    assert study.weight_difference(a, b) == pytest.approx(0.25)
    with pytest.raises(ValueError):
        study.weight_difference(a, models.mlp_classifier(input_dim=4, hidden=(5,)))
    x = np.eye(4, dtype="float32")
    y = np.arange(4) % 3
    t = study.loop_table({"a": a, "b": b}, x, y, x, y, a)
    assert list(t["weight difference"]) == [0.0, pytest.approx(0.25)]
    assert (t["train − test"] == 0).all()


def test_prediction_spread():
    y = np.array([0, 1, 2, 3])
    p = np.array([[0, 1, 2, 3], [0, 1, 2, 0], [0, 1, 2, 3]])
    s = study.prediction_spread(p, y)
    np.testing.assert_allclose(s["accuracy"], [1.0, 0.75, 1.0])
    assert s["changed"] == 0.25 and s["min"] == 0.75 and s["max"] == 1.0
    steady = study.prediction_spread(np.tile(y, (3, 1)), y)
    assert steady["changed"] == 0.0 and steady["mean ± sd"] == "1.000 ± 0.000"
    with pytest.raises(ValueError):
        study.prediction_spread(y, y)


# --------------------------------------------------------------- Keras 2 idioms
def test_outcome_texts():
    assert study.outcome() == "runs"
    assert study.outcome(KeyError("acc")) == "KeyError: 'acc'"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.warn("Argument `decay` is no longer supported.", stacklevel=1)
    assert study.outcome(caught=caught) == "runs, with a warning: Argument `decay` is no longer supported."
    long = study.outcome(ValueError("x" * 200), width=40)
    assert len(long) == 40 and long.endswith("…")
    assert study.outcome(ValueError("first\nsecond")) == "ValueError: first"


def test_keras3_behaves_as_the_chapter_says():
    """The chapter's table of Keras 2 idioms depends on these facts."""
    assert keras.constraints.max_norm is keras.constraints.MaxNorm
    with pytest.raises(ValueError):
        keras.optimizers.Adam(lr=0.01)
    m = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1)])
    assert not hasattr(m, "predict_classes") and not hasattr(m, "fit_generator")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        keras.optimizers.SGD(0.01, decay=1e-6)
    assert any("decay" in str(w.message) for w in caught)


def test_fraction_zero_and_percent():
    assert study.fraction_zero([0, 1, 0, 2]) == 0.5
    assert study.percent(0.1234) == "12.3 %" and study.percent(float("nan")) == "–"


# --------------------------------------------------------------- figures
def test_figures_build_with_shared_axes_and_close():
    h = {"accuracy": [0.5, 0.7], "val_accuracy": [0.6, 0.8]}
    fig = figs.plot_fit_accuracy(h, [0.7, 0.9], [0.6, 0.8])
    assert len(fig.axes[0].lines) == 4
    plt.close(fig)

    rng = np.random.default_rng(0)
    fig = figs.plot_input_radii(rng.random(20), rng.integers(0, 2, 20), rng.random(40) * 1.5,
                                rng.integers(0, 2, 40), rate=0.2)
    a, b = fig.axes[:2]
    assert a.get_xlim() == b.get_xlim() and a.get_ylim() == b.get_ylim()
    assert "Dropout(0.2)" in b.get_title()
    plt.close(fig)

    radii = np.linspace(0, 1.6, 9)
    fig = figs.plot_radial_profiles(radii, {"no dropout": [np.linspace(1, 0, 9)] * 2,
                                            "input Dropout(0.2)": [np.linspace(0.7, 0.3, 9)]})
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["no dropout (mean of 2)", "input Dropout(0.2)"]
    plt.close(fig)

    draws = study.selection_study(_equal_candidates(n=600), 50, 50, draws=30, seed=0)
    fig = figs.plot_selection(draws)
    assert fig.axes[0].get_legend() is None and len(fig.legends) == 1  # below, not on the bars
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels[0].startswith("chosen on the test set (mean +")
    plt.close(fig)

    fig = figs.plot_variance_ratios({"a": [2.0, 3.0, np.nan], "b": [1.0, 1.01]}, rate=0.5)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and 1 in ax.get_yticks() and 2 in ax.get_yticks()
    plt.close(fig)
