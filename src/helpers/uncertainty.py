"""Monte Carlo dropout (Gal & Ghahramani, 2016) done safely.

The usual recipe, ``model(x, training=True)`` repeated N times, switches on
*every* layer's training behaviour, not only dropout's. For a
``BatchNormalization`` layer that means normalising with the statistics of the
current batch (so a prediction depends on which other samples share its batch)
and, in Keras 3, updating the moving mean and variance on every call: the
trained model changes while you sample from it. :class:`MCDropout` is a dropout
layer that is stochastic in inference mode too, so ``model(x)`` samples
dropout masks while every other layer stays in inference mode.
:func:`mc_predict` uses it when present and refuses the unsafe recipe on models
with batch normalisation.
"""

from __future__ import annotations

import keras  # helpers/__init__ has already imported it quietly
import numpy as np

from ._validate import check_positive_int


class MCDropout(keras.layers.Dropout):
    """Dropout that also drops at inference: each call samples masks."""

    def call(self, inputs, training=None):
        return super().call(inputs, training=True)


# The class above is written out, line for line, in the chapter "Dropout as an
# ensemble, and MC dropout"; registering it here (not with a decorator) keeps
# the two sources identical and lets saved models that use it load again.
keras.saving.register_keras_serializable(package="helpers")(MCDropout)


def _has_layer(model, cls) -> bool:
    def walk(layer):
        yield layer
        for sub in getattr(layer, "layers", []) or []:
            yield from walk(sub)

    return any(isinstance(layer, cls) for layer in walk(model) if layer is not model)


def mc_predict(model, x, n_samples: int, chunk_rows: int = 16_384, batch_size=None):
    """``n_samples`` stochastic forward passes of ``model`` on ``x``.

    Returns an array of shape ``(n_samples, len(x), ...outputs)``. Each pass
    draws fresh dropout masks, independently for every sample. The passes are
    batched (``x`` tiled, at most ``chunk_rows`` rows per call), which is what
    makes N = 1000 cheap. For large inputs (CIFAR-10's test set), ``batch_size``
    instead runs one pass at a time, ``batch_size`` rows per call.

    Models with :class:`MCDropout` layers are called in inference mode (only
    those layers are random). Other models are called with ``training=True``;
    if such a model contains ``BatchNormalization`` this raises ``ValueError``,
    because that call would normalise with batch statistics and overwrite the
    moving averages.
    """
    n_samples = check_positive_int(n_samples, "n_samples")
    chunk_rows = check_positive_int(chunk_rows, "chunk_rows")
    x = np.asarray(x, dtype=np.float32)
    if x.ndim < 2 or len(x) == 0:
        raise ValueError(f"x must have a non-empty batch axis and features, got shape {x.shape}")
    if _has_layer(model, MCDropout):
        training = False
    elif _has_layer(model, keras.layers.BatchNormalization):
        raise ValueError(
            "mc_predict: this model has BatchNormalization, and model(x, training=True) would also put it "
            "in training mode (batch statistics, moving averages overwritten). Build the model with "
            "helpers.uncertainty.MCDropout instead of Dropout; mc_predict then samples only the dropout masks."
        )
    elif not _has_layer(model, keras.layers.Dropout):
        raise ValueError("mc_predict: the model has no Dropout layer, so every pass would be identical")
    else:
        training = True
    if batch_size is not None:
        batch_size = check_positive_int(batch_size, "batch_size")
        return np.stack([
            np.concatenate([np.asarray(model(x[i:i + batch_size], training=training))
                            for i in range(0, len(x), batch_size)])
            for _ in range(n_samples)])
    per_call = max(1, chunk_rows // len(x))
    out = []
    done = 0
    while done < n_samples:
        k = min(per_call, n_samples - done)
        pred = np.asarray(model(np.tile(x, (k,) + (1,) * (x.ndim - 1)), training=training))
        out.append(pred.reshape((k, len(x)) + pred.shape[1:]))
        done += k
    return np.concatenate(out, axis=0)


def running_mean(samples):
    """Running mean along axis 0: row ``N - 1`` is the mean of the first N samples."""
    samples = np.asarray(samples, dtype=np.float64)
    if samples.ndim == 0 or len(samples) == 0:
        raise ValueError(f"running_mean needs a non-empty stack of samples, got shape {samples.shape}")
    return np.cumsum(samples, axis=0) / np.arange(1, len(samples) + 1).reshape((-1,) + (1,) * (samples.ndim - 1))


def running_mean_error(samples, target, transform=None):
    """Mean absolute error between the running mean of the first N samples and
    ``target``, for N = 1..len(samples) (samples along axis 0).

    ``transform`` (optional) is applied to each running mean before the
    comparison, e.g. a sigmoid to compare an average of logits with probabilities.
    """
    samples = np.asarray(samples, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    if samples.shape[1:] != target.shape:
        raise ValueError(f"samples {samples.shape} and target {target.shape} do not line up")
    running = running_mean(samples)
    if transform is not None:
        running = np.asarray(transform(running), dtype=np.float64)
    return np.abs(running - target).reshape(len(samples), -1).mean(axis=1)


def to_mc_dropout(model):
    """A copy of ``model`` (same weights) whose ``Dropout`` layers are
    :class:`MCDropout`: ``copy(x)`` then samples masks with every other layer,
    BatchNorm included, in inference mode."""
    def swap(layer):
        if type(layer) is keras.layers.Dropout:
            return MCDropout.from_config(layer.get_config())
        return layer.__class__.from_config(layer.get_config())

    if not _has_layer(model, keras.layers.Dropout):
        raise ValueError("to_mc_dropout: the model has no Dropout layer")
    copy = keras.models.clone_model(model, clone_function=swap)
    copy.set_weights(model.get_weights())
    return copy


def logit_model(model, layer: str):
    """A model computing the pre-activation (logit) of the Dense layer ``layer``
    of ``model``, sharing its weights; for averaging in logit space."""
    dense = model.get_layer(layer)
    if not isinstance(dense, keras.layers.Dense):
        raise ValueError(f"layer {layer!r} is a {type(dense).__name__}, not a Dense layer")
    kernel, bias = dense.kernel, dense.bias
    z = keras.ops.matmul(dense.input, kernel)
    if bias is not None:
        z = z + bias
    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    return keras.Model(inputs, z, name=f"{model.name}_logits")
