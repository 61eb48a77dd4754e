"""Behaviour, not restatement: what the helpers do, checked against Keras itself.

Each test here would fail for a plausible bug that the narrower tests let
through: a runner that resumes from a freshly built model, ``fast_fit``
scoring sparse labels as if one-hot, a BatchNorm model whose moving
statistics drift from ``fit``'s, a builder that ignores ``input_rate``.
"""

import json

import keras
import numpy as np
import pytest

from helpers.data import load_digits_split
from helpers.experiments import run_cifar10
from helpers.fastfit import fast_fit
from helpers.models import bn_convnet, circles_mlp

from .test_experiments import tiny_pack  # noqa: F401  (fixture)

EPOCHS = 30


def _fit_and_fast(build, x, y, xv, yv, epochs=EPOCHS):
    a, b = build(), build()
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)
    h_fit = a.fit(x, y, batch_size=len(x), epochs=epochs, validation_data=(xv, yv),
                  shuffle=False, verbose=0).history
    h_fast = fast_fit(b, x, y, epochs, validation_data=(xv, yv))
    return a, b, h_fit, h_fast


def _digits(n=200):
    (x, y), (xv, yv) = load_digits_split(random_state=0)
    return x[:n], y[:n], xv[:100], yv[:100]


def _mlp(n_out, activation, loss, metrics):
    def build():
        keras.utils.set_random_seed(3)
        inputs = keras.Input(shape=(64,))
        h = keras.layers.Dense(32, activation="relu")(inputs)
        model = keras.Model(inputs, keras.layers.Dense(n_out, activation=activation)(h))
        model.compile(optimizer=keras.optimizers.Adam(0.01), loss=loss, metrics=metrics)
        return model
    return build


@pytest.mark.parametrize("kind", ["sparse", "categorical", "mse"])
def test_fast_fit_equals_fit_for_every_loss(kind):
    x, y, xv, yv = _digits()
    if kind == "sparse":
        build = _mlp(10, "softmax", "sparse_categorical_crossentropy", ["accuracy"])
    elif kind == "categorical":
        y, yv = np.eye(10)[y], np.eye(10)[yv]
        build = _mlp(10, "softmax", "categorical_crossentropy", ["accuracy"])
    else:  # regress the digit's value
        y, yv = y.astype("float32")[:, None] / 9, yv.astype("float32")[:, None] / 9
        build = _mlp(1, None, "mse", [])
    a, b, h_fit, h_fast = _fit_and_fast(build, x, y, xv, yv)
    for key in h_fit:
        assert key in h_fast, key
        np.testing.assert_allclose(h_fast[key], h_fit[key], atol=1e-4, err_msg=key)
    if kind != "mse":  # and the accuracy is really an accuracy: about 1/10 at the start
        assert 0.0 < h_fast["accuracy"][0] < 0.4 and h_fast["accuracy"][-1] > 0.8


def test_fast_fit_equals_fit_with_batchnorm_and_its_moving_statistics():
    (x, y), (xv, yv) = load_digits_split(random_state=0, images=True)
    x, y, xv, yv = x[:128], y[:128], xv[:64], yv[:64]

    def build():
        return bn_convnet(position="none", filters=4, seed=5, bn_momentum=0.9)

    a, b, h_fit, h_fast = _fit_and_fast(build, x, y, xv, yv, epochs=15)
    for key in h_fit:
        np.testing.assert_allclose(h_fast[key], h_fit[key], atol=1e-4, err_msg=key)
    bn_a = next(layer for layer in a.layers if isinstance(layer, keras.layers.BatchNormalization))
    bn_b = b.get_layer(bn_a.name)
    assert not np.allclose(np.asarray(bn_a.moving_mean), 0.0), "the statistics moved"
    np.testing.assert_allclose(np.asarray(bn_b.moving_mean), np.asarray(bn_a.moving_mean), atol=1e-5)
    np.testing.assert_allclose(np.asarray(bn_b.moving_variance), np.asarray(bn_a.moving_variance),
                               atol=1e-5)


def test_circles_builder_honours_input_rate():
    model = circles_mlp(rate=0.4, input_rate=0.1, seed=0)
    drops = [layer for layer in model.layers if isinstance(layer, keras.layers.Dropout)]
    assert [d.rate for d in drops] == [0.1, 0.4]
    # the first dropout acts on the two inputs: about 10 % of the coordinates zeroed
    feed = keras.Model(model.inputs[0], drops[0].output)
    out = np.asarray(feed(np.ones((20000, 2), "float32"), training=True))
    assert abs(np.mean(out == 0) - 0.1) < 0.01
    np.testing.assert_allclose(out[out != 0], 1 / 0.9, rtol=1e-6)


def test_resume_starts_from_the_checkpoint(tiny_pack, tmp_path, monkeypatch):  # noqa: F811
    args = dict(config="b", seed=0, epochs=4, batch_size=8, train_samples=40, data_path=tiny_pack,
                results_dir=tmp_path / "results", state_dir=tmp_path / "runs", verbose=False)
    run_cifar10(stop_after=2, **args)
    state = tmp_path / "runs" / "b-seed0-reduced-e4-n40"
    progress = json.loads((state / "progress.json").read_text())
    saved = keras.models.load_model(state / progress["checkpoint"])
    saved_weights = [np.asarray(w) for w in saved.get_weights()]
    saved_iterations = int(saved.optimizer.iterations.numpy())
    assert saved_iterations == 2 * 4  # two epochs of 32 training images in batches of 8

    seen = {}
    original = keras.Model.fit

    def spy(self, *a, **kw):
        seen["weights"] = [np.asarray(w).copy() for w in self.get_weights()]
        seen["iterations"] = int(self.optimizer.iterations.numpy())
        seen["initial_epoch"] = kw.get("initial_epoch")
        return original(self, *a, **kw)

    monkeypatch.setattr(keras.Model, "fit", spy)
    done = run_cifar10(**args)
    assert done["finished"] and done["provenance"]["resumed"]
    assert seen["initial_epoch"] == 2
    assert seen["iterations"] == saved_iterations
    for got, want in zip(seen["weights"], saved_weights, strict=True):
        np.testing.assert_array_equal(got, want)
