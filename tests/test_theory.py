"""Dropout from its definition agrees with keras.layers.Dropout."""

import keras
import numpy as np
import pytest

from helpers.theory import (
    binomial_bound,
    classic_dropout_layer,
    numpy_dropout,
    paper_p_to_keras_rate,
)

N = 50_000


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.8])
def test_numpy_and_keras_dropout_agree(rate):
    rng = np.random.default_rng(0)
    x = rng.uniform(0.5, 1.5, size=(1, N)).astype("float32")
    ours, mask = numpy_dropout(x, rate, rng)
    theirs = keras.ops.convert_to_numpy(keras.layers.Dropout(rate, seed=1)(x, training=True))
    bound = binomial_bound(rate, N)
    for out in (ours, theirs):
        kept = out != 0
        assert abs((1 - kept.mean()) - rate) < bound
        np.testing.assert_allclose(out[kept], x[kept] / (1 - rate), rtol=1e-6)
        assert abs(out.mean() / x.mean() - 1) < 2 * bound / (1 - rate)
    assert np.array_equal(mask, ours != 0)
    assert np.array_equal(numpy_dropout(x, rate, rng, training=False)[0], x)
    assert np.array_equal(keras.ops.convert_to_numpy(keras.layers.Dropout(rate)(x, training=False)), x)


def test_classic_dropout_scales_at_inference():
    x = np.ones((1, N), "float32")
    out, _ = numpy_dropout(x, 0.25, np.random.default_rng(0), training=False, inverted=False)
    assert np.allclose(out, 0.75)
    layer = classic_dropout_layer(0.25, seed=0)
    assert np.allclose(keras.ops.convert_to_numpy(layer(x, training=False)), 0.75)
    train = keras.ops.convert_to_numpy(layer(x, training=True))
    assert set(np.unique(train)) == {0.0, 1.0}  # survivors are not rescaled in training


def test_rate_trap_table():
    assert paper_p_to_keras_rate(0.8) == pytest.approx(0.2)
    assert paper_p_to_keras_rate(0.5) == pytest.approx(0.5)
    assert paper_p_to_keras_rate(0.75) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="retain probability"):
        paper_p_to_keras_rate(0.0)
    with pytest.raises(ValueError, match="rate"):
        numpy_dropout(np.ones(3), 1.0, np.random.default_rng(0))
