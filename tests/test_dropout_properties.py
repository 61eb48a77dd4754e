"""Property-based tests (hypothesis): for any rate and shape, Keras' Dropout and the
chapter's NumPy dropout agree; the validators accept exactly the valid inputs."""

import math

import keras
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers._validate import check_rate
from helpers.theory import binomial_bound

from .chapter_code import chapter_namespace

SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
rates = st.floats(min_value=0.0, max_value=0.95, allow_nan=False, exclude_max=False)
shapes = st.lists(st.integers(1, 40), min_size=1, max_size=3).filter(
    lambda s: 2_000 <= math.prod(s) * 100 <= 200_000)


@pytest.fixture(scope="module")
def numpy_dropout():
    return chapter_namespace("02_theory", ["numpy_dropout"])["numpy_dropout"]


@SETTINGS
@given(rate=rates, shape=shapes, seed=st.integers(0, 2**16))
def test_keras_and_chapter_dropout_agree(numpy_dropout, rate, shape, seed):
    x = np.random.default_rng(seed).uniform(0.5, 1.5, size=(100, *shape)).astype("float32")
    ours = numpy_dropout(x, rate, np.random.default_rng(seed + 1))  # mask independent of x
    theirs = keras.ops.convert_to_numpy(keras.layers.Dropout(rate, seed=seed)(x, training=True))
    bound = binomial_bound(rate, x.size, z=4.0) + 1e-9
    for out in (ours, theirs):
        assert out.shape == x.shape
        kept = out != 0
        assert abs((1 - kept.mean()) - rate) <= bound  # zero fraction within a binomial bound
        np.testing.assert_allclose(out[kept], x[kept] / (1 - rate), rtol=1e-5)  # scaling
        if rate < 0.9:  # the mean is preserved in expectation
            assert abs(out.mean() / x.mean() - 1) <= 1.5 * bound / (1 - rate) + 1e-6
    inference = keras.ops.convert_to_numpy(keras.layers.Dropout(rate)(x, training=False))
    assert np.array_equal(inference, x) and np.array_equal(
        numpy_dropout(x, rate, np.random.default_rng(0), training=False), x)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 5)))
def test_check_rate_accepts_exactly_zero_to_one(value):
    valid = isinstance(value, (int, float)) and not isinstance(value, bool) \
        and math.isfinite(value) and 0.0 <= value < 1.0
    if valid:
        assert check_rate(value) == float(value)
    else:
        with pytest.raises((ValueError, TypeError), match="rate"):
            check_rate(value)
