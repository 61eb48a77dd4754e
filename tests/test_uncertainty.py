"""MC dropout helpers: sampling shape, safety with BatchNorm, MCDropout semantics."""

import keras
import numpy as np
import pytest

from helpers.models import bn_convnet, circles_mlp, mlp_regressor
from helpers.uncertainty import MCDropout, mc_predict, running_mean, running_mean_error


def test_mc_predict_shape_and_randomness():
    m = circles_mlp(rate=0.5, seed=0)
    x = np.random.default_rng(0).normal(size=(7, 2)).astype("float32")
    s = mc_predict(m, x, 25, chunk_rows=20)  # several calls of 2 passes each
    assert s.shape == (25, 7, 1)
    assert np.ptp(s, axis=0).max() > 0  # masks differ between passes
    # the mean of many passes approaches the deterministic prediction (one
    # dropout layer before a sigmoid: close, not equal)
    many = mc_predict(m, x, 4000).mean(0)
    np.testing.assert_allclose(many, np.asarray(m(x, training=False)), atol=0.05)


def test_mc_predict_in_row_batches():
    """batch_size: one pass at a time, its rows in slices (large inputs)."""
    m = circles_mlp(rate=0.5, seed=0)
    x = np.random.default_rng(0).normal(size=(7, 2)).astype("float32")
    s = mc_predict(m, x, 30, batch_size=3)
    assert s.shape == (30, 7, 1)
    assert np.ptp(s, axis=0).min() > 0  # every row gets new masks in every pass
    with pytest.raises(ValueError, match="batch_size"):
        mc_predict(m, x, 3, batch_size=0)


def test_mc_predict_refuses_batchnorm_with_training_true():
    m = bn_convnet(position="after_bn", seed=0)
    x = np.zeros((2, 8, 8, 1), "float32")
    with pytest.raises(ValueError, match="MCDropout"):
        mc_predict(m, x, 3)


def test_mc_predict_refuses_model_without_dropout():
    with pytest.raises(ValueError, match="no Dropout"):
        mc_predict(circles_mlp(rate=0.0, seed=0), np.zeros((2, 2), "float32"), 3)


def test_mcdropout_samples_at_inference_and_leaves_batchnorm_alone():
    keras.utils.set_random_seed(0)
    inp = keras.Input((4,))
    h = keras.layers.BatchNormalization(name="bn")(inp)
    out = MCDropout(0.5)(h)
    m = keras.Model(inp, out)
    x = np.random.default_rng(1).normal(size=(64, 4)).astype("float32") * 3 + 5
    before = m.get_layer("bn").moving_mean.numpy().copy()
    s = mc_predict(m, x, 10)
    assert s.shape == (10, 64, 4)
    np.testing.assert_array_equal(m.get_layer("bn").moving_mean.numpy(), before)
    assert (s == 0).mean() == pytest.approx(0.5, abs=0.05)
    # in contrast, the unsafe recipe moves the moving averages
    m(x, training=True)
    assert np.abs(m.get_layer("bn").moving_mean.numpy() - before).max() > 1e-3


def test_mlp_regressor_mc_flag_uses_mcdropout():
    m = mlp_regressor(rate=0.2, seed=0, mc_dropout=True)
    assert any(isinstance(layer, MCDropout) for layer in m.layers)
    x = np.ones((3, 1), "float32")
    assert not np.allclose(m(x, training=False), m(x, training=False))


def test_running_mean_error():
    samples = np.array([[1.0], [3.0], [2.0]])
    np.testing.assert_allclose(running_mean_error(samples, np.array([2.0])), [1.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="line up"):
        running_mean_error(samples, np.array([1.0, 2.0]))


def test_running_mean_and_transformed_error():
    samples = np.array([[0.0, 4.0], [2.0, 0.0], [4.0, 2.0]])
    np.testing.assert_allclose(running_mean(samples), [[0, 4], [1, 2], [2, 2]])
    # squash the running mean (of logits, say) before comparing: |2 * mean - target|
    err = running_mean_error(samples, np.array([2.0, 4.0]), transform=lambda m: 2 * m)
    np.testing.assert_allclose(err, [(2 + 4) / 2, (0 + 0) / 2, (2 + 0) / 2])
    with pytest.raises(ValueError, match="non-empty"):
        running_mean(np.zeros((0, 2)))


def test_to_mc_dropout_keeps_weights_and_batchnorm_statistics():
    from helpers.uncertainty import to_mc_dropout

    m = bn_convnet(position="after_bn", seed=0)
    mc = to_mc_dropout(m)
    assert any(isinstance(layer, MCDropout) for layer in mc.layers)
    for a, b in zip(m.get_weights(), mc.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    x = np.random.default_rng(0).uniform(size=(16, 8, 8, 1)).astype("float32")
    before = mc.get_layer("bn").moving_variance.numpy().copy()
    s = mc_predict(mc, x, 5)
    assert s.shape == (5, 16, 10) and np.ptp(s, axis=0).max() > 0
    np.testing.assert_array_equal(mc.get_layer("bn").moving_variance.numpy(), before)
    with pytest.raises(ValueError, match="no Dropout"):
        to_mc_dropout(circles_mlp(rate=0.0, seed=0))


def test_logit_model_matches_sigmoid_inverse():
    from helpers.uncertainty import logit_model

    m = circles_mlp(rate=0.3, seed=0)
    x = np.random.default_rng(0).normal(size=(9, 2)).astype("float32")
    z = np.asarray(logit_model(m, "output")(x, training=False))
    np.testing.assert_allclose(1 / (1 + np.exp(-z)), np.asarray(m(x, training=False)), rtol=1e-5)
    with pytest.raises(ValueError, match="not a Dense"):
        logit_model(m, "dropout")


def test_chapter_mcdropout_is_the_helpers_class():
    """The chapter writes MCDropout out; helpers.uncertainty.MCDropout is the same code."""
    import ast
    import inspect

    from helpers.uncertainty import MCDropout as helper_class

    from .chapter_code import chapter_cells

    (cell,) = [c for c in chapter_cells("06_ensembles_uncertainty", ["MCDropout"])]
    tree = ast.parse(cell)
    (node,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "MCDropout"]
    page = ast.get_source_segment(cell, node)
    helper = inspect.getsource(helper_class)
    assert " ".join(page.split()) == " ".join(helper.split())
