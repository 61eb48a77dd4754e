"""The dropout code that chapters 1 and 2 show is the dropout that Keras runs.

``numpy_dropout``, ``ClassicDropout`` and the chapters' models are read from the
notebooks (``chapter_namespace``), so these tests check the code the reader
sees, by its behaviour: the fraction dropped, the scaling of survivors, the
mean, and what happens at inference.
"""

import keras
import numpy as np
import pytest

from helpers.models import circles_mlp, describe
from helpers.theory import binomial_bound, paper_p_to_keras_rate

from .chapter_code import chapter_cells, chapter_namespace

N = 50_000


@pytest.fixture(scope="module")
def chapter():
    return chapter_namespace("02_theory", ["numpy_dropout", "ClassicDropout", "make_mlp"])


def dropped_fraction(out):
    return float(np.mean(np.asarray(out) == 0))


def as_numpy(t):
    return keras.ops.convert_to_numpy(t)


# ------------------------------------------------------------ binomial_bound
def test_binomial_bound_known_values():
    assert binomial_bound(0.5, 10_000) == pytest.approx(3.29 * 0.005)
    assert binomial_bound(0.2, 100) == pytest.approx(3.29 * 0.04)
    assert binomial_bound(0.0, 10) == 0.0
    assert binomial_bound(0.5, 400, z=1.0) == pytest.approx(0.025)
    with pytest.raises(ValueError):
        binomial_bound(0.5, 0)


def test_binomial_bound_holds_for_a_fair_draw_and_rejects_a_wrong_rate():
    rng = np.random.default_rng(0)
    fracs = (rng.random((200, 10_000)) < 0.2).mean(axis=1)
    bound = binomial_bound(0.2, 10_000)
    assert np.mean(np.abs(fracs - 0.2) < bound) >= 0.99
    assert not np.any(np.abs(fracs - 0.25) < bound)


def test_rate_trap_conversion():
    assert paper_p_to_keras_rate(0.8) == pytest.approx(0.2)
    assert paper_p_to_keras_rate(0.5) == pytest.approx(0.5)
    assert paper_p_to_keras_rate(0.75) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="retain probability"):
        paper_p_to_keras_rate(0.0)


# ------------------------------------------------------------ numpy_dropout
@pytest.mark.parametrize("rate", [0.2, 0.5, 0.8])
def test_numpy_dropout_is_inverted_dropout(chapter, rate):
    rng = np.random.default_rng(0)
    x = rng.uniform(0.5, 1.5, size=(1, N)).astype("float32")
    out = chapter["numpy_dropout"](x, rate, rng)
    bound = binomial_bound(rate, N)
    assert abs(dropped_fraction(out) - rate) < bound
    kept = out != 0
    np.testing.assert_allclose(out[kept], x[kept] / (1 - rate), rtol=1e-6)
    assert abs(out.mean() / x.mean() - 1) < 2 * bound / (1 - rate)
    assert np.array_equal(chapter["numpy_dropout"](x, rate, rng, training=False), x)


def test_numpy_dropout_matches_keras_dropout(chapter):
    rate = 0.2
    x = np.random.default_rng(1).uniform(0.5, 1.5, size=(1, N)).astype("float32")
    ours = chapter["numpy_dropout"](x, rate, np.random.default_rng(2))
    theirs = as_numpy(keras.layers.Dropout(rate, seed=1)(x, training=True))
    bound = binomial_bound(rate, N)
    assert abs(dropped_fraction(ours) - dropped_fraction(theirs)) < 2 * bound
    for out in (ours, theirs):
        kept = out != 0
        np.testing.assert_allclose(out[kept] * (1 - rate), x[kept], rtol=1e-6)


def test_numpy_dropout_classic_variant(chapter):
    rate = 0.2
    x = np.ones((1, N), "float32")
    rng = np.random.default_rng(3)
    train = chapter["numpy_dropout"](x, rate, rng, inverted=False)
    assert set(np.unique(train)) == {0.0, 1.0}  # survivors are not rescaled
    assert abs(dropped_fraction(train) - rate) < binomial_bound(rate, N)
    infer = chapter["numpy_dropout"](x, rate, rng, training=False, inverted=False)
    np.testing.assert_allclose(infer, 1 - rate)
    assert abs(train.mean() - infer.mean()) < binomial_bound(rate, N)  # same expectation


def test_numpy_dropout_refuses_a_rate_of_one(chapter):
    with pytest.raises(ValueError, match="rate"):
        chapter["numpy_dropout"](np.ones(3), 1.0, np.random.default_rng(0))


# ------------------------------------------------------------ ClassicDropout
def test_classic_dropout_layer(chapter):
    rate = 0.2  # not 0.5: a layer that keeps with probability `rate` must fail
    layer = chapter["ClassicDropout"](rate, seed=0)
    assert isinstance(layer, keras.layers.Layer)
    x = np.ones((1, N), "float32")
    train = as_numpy(layer(x, training=True))
    assert abs(dropped_fraction(train) - rate) < binomial_bound(rate, N)
    assert set(np.unique(train)) == {0.0, 1.0}  # classic: no scaling in training
    np.testing.assert_allclose(as_numpy(layer(x, training=False)), 1 - rate)
    np.testing.assert_allclose(as_numpy(layer(x)), 1 - rate)  # default: inference
    assert abs(train.mean() - (1 - rate)) < binomial_bound(rate, N)  # mean preserved
    again = as_numpy(layer(x, training=True))
    assert not np.array_equal(train, again)  # a fresh mask at every call


def test_a_classic_layer_that_keeps_with_probability_rate_is_caught():
    """The test above can fail: swap the keep probability and the rate."""
    wrong, right = "u < keep", "u < self.rate"
    assert any(wrong in src for src in chapter_cells("02_theory", ["ClassicDropout"]))
    ns = chapter_namespace("02_theory", ["ClassicDropout"], replace=(wrong, right))
    out = as_numpy(ns["ClassicDropout"](0.2, seed=0)(np.ones((1, N), "float32"), training=True))
    assert abs(dropped_fraction(out) - 0.2) > binomial_bound(0.2, N)


# ------------------------------------------------------------ the chapters' models
@pytest.mark.parametrize("rate", [0.0, 0.4])
def test_chapter_2_network_is_the_case_study_network(chapter, rate):
    dropout = keras.layers.Dropout(rate) if rate else None
    page = chapter["make_mlp"](dropout)
    assert page.count_params() == 2 * 500 + 500 + 500 + 1
    assert describe(page) == describe(circles_mlp(rate=rate))


def test_classic_and_inverted_networks_agree_after_rescaling(chapter):
    """The chapter's conversion: a classic network = an inverted one with W -> pW."""
    rate, p = 0.4, 0.6
    classic = chapter["make_mlp"](chapter["ClassicDropout"](rate, seed=0), seed=1)
    inverted = chapter["make_mlp"](keras.layers.Dropout(rate, seed=0), seed=2)
    inverted.get_layer("hidden").set_weights(classic.get_layer("hidden").get_weights())
    w, b = classic.get_layer("output").get_weights()
    inverted.get_layer("output").set_weights([w * p, b])
    grid = np.random.default_rng(0).uniform(-1.5, 1.5, (500, 2)).astype("float32")
    np.testing.assert_allclose(as_numpy(classic(grid)), as_numpy(inverted(grid)), atol=1e-6)
    inverted.get_layer("output").set_weights([w, b])  # without the rescaling they differ
    assert np.max(np.abs(as_numpy(classic(grid)) - as_numpy(inverted(grid)))) > 1e-3


def test_chapter_1_probe_switches_dropout_with_the_call():
    ns = chapter_namespace("01_dropout_in_one_cell", ["make_probe"])
    n, rate = 100, 0.2
    model = ns["make_probe"](n, rate, seed=0)
    x = np.ones((512, n), "float32")
    y = np.full((512, 1), n, "float32")
    fit_loss = model.fit(x, y, epochs=1, batch_size=64, verbose=0).history["loss"][0]
    expected = n * rate / (1 - rate)  # variance of the dropped-out sum
    assert 0.5 * expected < fit_loss < 1.5 * expected
    assert model.evaluate(x, y, verbose=0) == 0.0
    np.testing.assert_array_equal(model.predict(x, verbose=0), y)
    np.testing.assert_array_equal(as_numpy(model(x)), y)
    assert np.std(as_numpy(model(x, training=True))) > 1.0
    np.testing.assert_array_equal(model.get_weights()[0], np.ones((n, 1)))  # lr 0
