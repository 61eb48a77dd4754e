"""fast_fit must reproduce model.fit, not approximate it."""

import numpy as np
import pytest

from helpers.data import load_circles
from helpers.fastfit import fast_fit
from helpers.models import circles_mlp

EPOCHS = 200


@pytest.fixture(scope="module")
def circles():
    return load_circles()


def _both(circles, shuffle, **model_kwargs):
    (xtr, ytr), (xte, yte) = circles
    m_fit = circles_mlp(seed=0, **model_kwargs)
    m_fast = circles_mlp(seed=0, **model_kwargs)
    np.testing.assert_array_equal(m_fit.get_weights()[0], m_fast.get_weights()[0])
    h_fit = m_fit.fit(xtr, ytr, validation_data=(xte, yte), epochs=EPOCHS, batch_size=32,
                      shuffle=shuffle, verbose=0).history
    h_fast = fast_fit(m_fast, xtr, ytr, EPOCHS, validation_data=(xte, yte))
    return h_fit, h_fast, m_fit, m_fast


def test_matches_fit_without_dropout(circles):
    h_fit, h_fast, m_fit, m_fast = _both(circles, shuffle=True, max_norm=None)
    assert set(h_fast) == {"loss", "accuracy", "val_loss", "val_accuracy"} == set(h_fit)
    for key in h_fit:
        assert len(h_fast[key]) == EPOCHS
        np.testing.assert_allclose(h_fast[key], h_fit[key], atol=1e-4, err_msg=key)
    for a, b in zip(m_fit.get_weights(), m_fast.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-4)


def test_matches_fit_with_dropout_and_maxnorm_mask_for_mask(circles):
    # With shuffle=False both draw the same dropout masks in the same order, so
    # the curves agree exactly; with shuffling, fit applies the same i.i.d.
    # masks to permuted rows, which has the same distribution.
    h_fit, h_fast, _, _ = _both(circles, shuffle=False, rate=0.4, max_norm=1.0)
    for key in h_fit:
        np.testing.assert_allclose(h_fast[key], h_fit[key], atol=1e-4, err_msg=key)


def test_dropout_masks_change_every_epoch(circles):
    (xtr, ytr), _ = circles
    m = circles_mlp(rate=0.5, seed=1, learning_rate=1e-12)  # weights ~frozen: loss varies only by mask
    h = fast_fit(m, xtr, ytr, 50)
    assert np.unique(np.round(h["loss"], 6)).size > 25


def test_several_models_in_lock_step_equal_one_by_one(circles):
    (xtr, ytr), (xte, yte) = circles
    together = fast_fit([circles_mlp(seed=s, rate=0.3) for s in (0, 1)], xtr, ytr, 30,
                        validation_data=(xte, yte))
    alone = fast_fit(circles_mlp(seed=1, rate=0.3), xtr, ytr, 30, validation_data=(xte, yte))
    np.testing.assert_allclose(together[1]["val_loss"], alone["val_loss"], atol=1e-6)


def test_input_validation(circles):
    (xtr, ytr), _ = circles
    m = circles_mlp(seed=0)
    with pytest.raises(ValueError, match="epochs"):
        fast_fit(m, xtr, ytr, 0)
    with pytest.raises(ValueError, match="same, non-zero number"):
        fast_fit(m, xtr, ytr[:5], 10)
    with pytest.raises(ValueError, match="finite"):
        fast_fit(m, np.full_like(xtr, np.nan), ytr, 10)
    with pytest.raises(TypeError, match="keras.Model"):
        fast_fit("model", xtr, ytr, 10)
    import keras

    raw = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="compiled"):
        fast_fit(raw, xtr, ytr, 10)
    raw.compile(optimizer="adam", loss="hinge")
    with pytest.raises(ValueError, match="supports the losses"):
        fast_fit(raw, xtr, ytr, 10)


def test_track_records_a_series_per_epoch_and_maxnorm_caps_it(circles):
    import tensorflow as tf

    (xtr, ytr), _ = circles
    def norm(m):
        return tf.reduce_max(tf.norm(m.get_layer("hidden").kernel, axis=0))

    free, capped = circles_mlp(rate=0.4, seed=3), circles_mlp(rate=0.4, seed=3, max_norm=0.2)
    h_free, h_capped = fast_fit([free, capped], xtr, ytr, 300, track={"max_norm": norm})
    assert h_free["max_norm"].shape == (300,)
    # recorded after each update: the last entry is the final model's value
    np.testing.assert_allclose(h_free["max_norm"][-1], float(norm(free)), rtol=1e-6)
    assert h_capped["max_norm"].max() <= 0.2 + 1e-5
    assert h_free["max_norm"].max() > 0.2  # the bound binds, so the test can fail


def test_track_validates_names_and_callables(circles):
    (xtr, ytr), _ = circles
    with pytest.raises(ValueError, match="overwrite"):
        fast_fit(circles_mlp(seed=0), xtr, ytr, 2, track={"loss": lambda m: 0.0})
    with pytest.raises(TypeError, match="callable"):
        fast_fit(circles_mlp(seed=0), xtr, ytr, 2, track={"w": 3})


def test_one_training_set_per_model_equals_separate_runs(circles):
    (xtr, ytr), (xte, yte) = circles
    halves = [(xtr[:15], ytr[:15]), (xtr[15:], ytr[15:])]
    together = fast_fit([circles_mlp(seed=5), circles_mlp(seed=6)], [h[0] for h in halves],
                        [h[1] for h in halves], 50, validation_data=(xte, yte))
    for seed, (xs, ys), h in zip((5, 6), halves, together, strict=True):
        alone = fast_fit(circles_mlp(seed=seed), xs, ys, 50, validation_data=(xte, yte))
        for key in alone:
            np.testing.assert_allclose(h[key], alone[key], atol=1e-6, err_msg=key)
    with pytest.raises(ValueError, match="training sets"):
        fast_fit([circles_mlp(seed=0)], [xtr, xtr], [ytr, ytr], 2)
    with pytest.raises(TypeError, match="both"):
        fast_fit([circles_mlp(seed=0)], [xtr], ytr, 2)
