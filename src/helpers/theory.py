"""Dropout written out by hand, to check Keras against the definition."""

from __future__ import annotations

import numpy as np

from ._validate import check_rate


def numpy_dropout(x, rate: float, rng: np.random.Generator, training: bool = True,
                  inverted: bool = True):
    """Dropout from its definition.

    Each entry of ``x`` is kept with probability ``p = 1 - rate`` (an
    independent Bernoulli draw) and zeroed otherwise. Inverted dropout (Keras,
    PyTorch) divides the survivors by ``p`` during training and leaves inference
    alone; classic dropout (the paper) leaves training alone and multiplies by
    ``p`` at inference. Either way the expected activation in training equals
    the inference activation. Returns ``(output, keep_mask)``.
    """
    rate = check_rate(rate)
    x = np.asarray(x, dtype=np.float32)
    keep = 1.0 - rate
    if not training:
        return (x if inverted else x * np.float32(keep)), np.ones_like(x, dtype=bool)
    mask = rng.random(x.shape) < keep
    out = np.where(mask, x, np.float32(0.0))
    if inverted:
        out = out / np.float32(keep)
    return out.astype(np.float32), mask


def binomial_bound(rate: float, n: int, z: float = 3.29) -> float:
    """Half-width of a two-sided ~99.9 % normal-approximation interval for the
    fraction of ``n`` units dropped at ``rate``."""
    return float(z * np.sqrt(rate * (1.0 - rate) / n))


def paper_p_to_keras_rate(p: float) -> float:
    """The paper's retain probability p -> Keras' drop ``rate``."""
    if not 0.0 < p <= 1.0:
        raise ValueError(f"retain probability p must be in (0, 1], got {p!r}")
    return round(1.0 - p, 10)


def classic_dropout_layer(rate: float, **kwargs):
    """A Keras layer implementing *classic* (non-inverted) dropout: survivors are
    not rescaled in training, and inference multiplies by ``1 - rate``."""
    import keras

    rate = check_rate(rate)

    class ClassicDropout(keras.layers.Layer):
        def __init__(self, rate, seed=None, **kw):
            super().__init__(**kw)
            self.rate = rate
            self.seed_generator = keras.random.SeedGenerator(seed)

        def call(self, inputs, training=False):
            keep = 1.0 - self.rate
            if training and self.rate > 0:
                u = keras.random.uniform(keras.ops.shape(inputs), seed=self.seed_generator)
                return keras.ops.where(u < keep, inputs, keras.ops.zeros_like(inputs))
            return inputs * keep

    return ClassicDropout(rate, **kwargs)
