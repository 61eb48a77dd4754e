"""helpers.batched.batched_fit: S copies as one computation, exact without dropout,
statistically equivalent with it, and refusing what it cannot do."""

import numpy as np
import pytest

from helpers.batched import batched_fit
from helpers.data import load_circles
from helpers.fastfit import fast_fit
from helpers.models import circles_mlp, mlp_classifier


@pytest.fixture(scope="module")
def circles():
    return load_circles()


@pytest.mark.parametrize("jit", [True, False], ids=["xla", "graph"])
@pytest.mark.parametrize("kwargs", [{}, {"max_norm": 0.5}, {"optimizer": "sgd"}],
                         ids=["adam", "adam+maxnorm", "sgd"])
def test_without_dropout_every_copy_follows_training_alone(circles, kwargs, jit):
    (xtr, ytr), (xte, yte) = circles
    seeds = range(6)
    batched = [circles_mlp(seed=s, **kwargs) for s in seeds]
    alone = [circles_mlp(seed=s, **kwargs) for s in seeds]
    hb = batched_fit(batched, xtr, ytr, 200, validation_data=(xte, yte), write_back=True,
                     jit_compile=jit)
    ha = fast_fit(alone, xtr, ytr, 200, validation_data=(xte, yte))
    # Batched and single matrix products round differently (last bit); Adam divides
    # by sqrt(v), which amplifies such differences once gradients get small, so the
    # curves agree to 1e-5 for 100 epochs and to 2e-4 over all 200 (5e-4 with XLA's
    # fused arithmetic; SGD: 1e-5 throughout).
    late = 1e-5 if kwargs.get("optimizer") == "sgd" else (5e-4 if jit else 2e-4)
    for b, a in zip(hb, ha, strict=True):
        for key in ("loss", "val_loss"):
            np.testing.assert_allclose(b[key][:100], a[key][:100], atol=1e-5, err_msg=key)
            np.testing.assert_allclose(b[key], a[key], atol=late, err_msg=key)
        # the same points right (XLA may round the mean 14/30 differently in the last bit)
        assert np.mean(np.isclose(b["accuracy"], a["accuracy"], rtol=0, atol=1e-6)) > 0.99
    for mb, h in zip(batched, hb, strict=True):  # the trained weights are written back
        loss = mb.evaluate(xte, yte, verbose=0, return_dict=True)["loss"]
        assert loss == pytest.approx(float(h["val_loss"][-1]), abs=1e-5)
    if "max_norm" in kwargs:
        norms = np.linalg.norm(np.asarray(batched[0].get_layer("hidden").kernel), axis=0)
        assert norms.max() <= 0.5 + 1e-5


def test_with_dropout_masks_and_results_match_one_at_a_time(circles):
    (xtr, ytr), (xte, yte) = circles
    # mask rate: a 2-layer net whose first layer is the identity shows the kept fraction
    n = 12
    hb = batched_fit([circles_mlp(rate=0.4, seed=s) for s in range(n)], xtr, ytr, 300,
                     validation_data=(xte, yte))
    ha = fast_fit([circles_mlp(rate=0.4, seed=s) for s in range(n)], xtr, ytr, 300,
                  validation_data=(xte, yte))
    fb = np.array([h["val_accuracy"][-1] for h in hb])
    fa = np.array([h["val_accuracy"][-1] for h in ha])
    se = np.sqrt(fb.var(ddof=1) / n + fa.var(ddof=1) / n) + 1e-3
    assert abs(fb.mean() - fa.mean()) < 4 * se, (fb.mean(), fa.mean(), se)
    # copies are independent: not all seeds give the same curve
    assert len({round(float(h["loss"][-1]), 6) for h in hb}) > 1


def test_dropout_mask_rate_per_copy():
    import keras

    def identity_net(rate):
        inp = keras.Input((10,))
        h = keras.layers.Dropout(rate)(inp)
        out = keras.layers.Dense(1, activation="linear")(h)
        m = keras.Model(inp, out)
        m.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
        m.layers[-1].kernel.assign(np.ones((10, 1), "float32") / 10)
        m.layers[-1].bias.assign(np.zeros(1, "float32"))
        return m

    x, y = np.ones((100, 10), "float32"), np.zeros((100, 1), "float32")
    rates = [0.0, 0.2, 0.5, 0.8]
    hist = batched_fit([identity_net(r) for r in rates], x, y, 200)
    for r, h in zip(rates, hist, strict=True):
        # output = mean of kept inputs / keep = 1 in expectation; loss = E[out^2]
        # = 1 + (1 - keep) / (keep * 10): the variance reveals the drop rate
        # (20,000 draws: the tolerance is > 4 standard errors)
        keep = 1 - r
        expected = 1 + (1 - keep) / (keep * 10)
        assert np.mean(h["loss"]) == pytest.approx(expected, rel=0.03)


def test_sparse_softmax_matches_fast_fit():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 20)).astype("float32")
    y = rng.integers(0, 5, size=64)
    a = [mlp_classifier(input_dim=20, hidden=(16,), rate=0.0, n_classes=5, seed=s) for s in range(3)]
    b = [mlp_classifier(input_dim=20, hidden=(16,), rate=0.0, n_classes=5, seed=s) for s in range(3)]
    hb = batched_fit(a, x, y, 50)
    ha = fast_fit(b, x, y, 50)
    for p, q in zip(hb, ha, strict=True):
        np.testing.assert_allclose(p["loss"], q["loss"], atol=1e-5)
        np.testing.assert_array_equal(p["accuracy"], q["accuracy"])


def test_refuses_what_it_cannot_do(circles):
    (xtr, ytr), _ = circles
    from helpers.models import bn_convnet

    with pytest.raises(ValueError, match="fast_fit"):
        batched_fit([bn_convnet(seed=0)], np.zeros((4, 8, 8, 1)), np.zeros(4), 2)
    with pytest.raises(ValueError, match="same layer sizes"):
        batched_fit([circles_mlp(seed=0), circles_mlp(hidden=20, seed=1)], xtr, ytr, 2)
    with pytest.raises(ValueError, match="epochs"):
        batched_fit([circles_mlp(seed=0)], xtr, ytr, 0)
    with pytest.raises(TypeError):
        batched_fit([], xtr, ytr, 2)


def test_mask_words_are_uniform_and_independent():
    """The counter-based hash behind the masks: the TensorFlow finaliser equals the
    Python one, words are uniform bit by bit, and the masks of two epochs, two
    layers' keys or two neighbouring positions are uncorrelated."""
    import tensorflow as tf

    from helpers.batched import _mix, _tf_fmix, mask_bits

    xs = np.array([0, 1, 2, 12345, 0xFFFFFFFF, 0x9E3779B9], np.uint32)
    assert [int(v) for v in _tf_fmix(tf.constant(xs)).numpy()] == [_mix(int(v)) for v in xs]
    assert _mix(0) == 0 and _mix(1) == 0x514E28B7  # MurmurHash3 fmix32 known values
    shape = (20, 50, 100)  # 100,000 words
    a = mask_bits(_mix(7), 0, shape).numpy()
    b = mask_bits(_mix(7), 1, shape).numpy()
    c = mask_bits(_mix(8), 0, shape).numpy()
    assert a.shape == shape and a.dtype == np.uint32
    assert len(np.unique(a)) == a.size  # one word per position, no repeats
    bits = (a.ravel()[:, None] >> np.arange(32, dtype=np.uint32)) & 1
    se = 0.5 / np.sqrt(a.size)
    assert np.all(np.abs(bits.mean(0) - 0.5) < 5 * se)
    keep = 0.6
    t = np.uint32(int(keep * 2**32) - 1)
    ma, mb, mc = (m.ravel() <= t for m in (a, b, c))
    for m in (ma, mb, mc):
        assert abs(m.mean() - keep) < 5 * np.sqrt(keep * (1 - keep) / m.size)
    for x, y in ((ma, mb), (ma, mc), (ma[:-1], ma[1:])):
        assert abs(np.corrcoef(x, y)[0, 1]) < 5 / np.sqrt(x.size)


def test_results_do_not_depend_on_the_grouping(circles):
    """The copies run as G groups at once (one per core); the masks are hashed at
    each copy's position in the whole stack, so every G draws the same masks and gives
    the same histories and weights up to the rounding of differently shaped batched
    products (last bit): a mix of rates (a run of rate-0 copies between dropping ones,
    input dropout, max-norm) split one, two and four ways (uneven groups included)."""
    (xtr, ytr), (xte, yte) = circles
    specs = [dict(rate=0.4), dict(), dict(), dict(rate=0.2, input_rate=0.1),
             dict(rate=0.5, max_norm=1.0), dict()]

    def run(groups):
        models = [circles_mlp(seed=s, **kw) for s, kw in enumerate(specs)]
        hs = batched_fit(models, xtr, ytr, 60, validation_data=(xte, yte), seed=3,
                         write_back=True, groups=groups)
        return hs, [np.asarray(m.get_layer("hidden").kernel) for m in models]

    (h1, w1), (h2, w2), (h3, w3) = run(1), run(2), run(4)
    for hs, ws in ((h2, w2), (h3, w3)):
        for a, b in zip(h1, hs, strict=True):
            for key in a:  # a different mask would move a curve by ~1e-2, not 1e-6
                np.testing.assert_allclose(a[key], b[key], rtol=0, atol=2e-6, err_msg=key)
        for a, b in zip(w1, ws, strict=True):
            np.testing.assert_allclose(a, b, rtol=0, atol=2e-6)
    # and the dropping copies really dropped: their training curves are not smooth copies
    assert not np.array_equal(h1[0]["loss"], h1[1]["loss"])
    with pytest.raises(ValueError, match="groups"):
        batched_fit([circles_mlp(seed=0)], xtr, ytr, 2, groups=0)
