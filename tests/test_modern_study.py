"""The modern-architectures chapter (09): its visible code, its measurements, its figures.

The chapter's ``DropPath`` and ``AddPosition`` must be the helpers' line for
line, its ``make_digits_transformer`` the helpers' ``digits_transformer``
(``describe``), and its DropPath must behave as the chapter claims. Every
measurement in :mod:`helpers.studies.modern` must find what it claims on
cases whose answer is known, and the seed loop must train exactly what
training each freshly built model would.
"""

import inspect
import types

import matplotlib

matplotlib.use("Agg")

import keras  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import helpers  # noqa: E402,F401
from helpers import stats  # noqa: E402
from helpers.fastfit import fast_fit  # noqa: E402
from helpers.models import describe  # noqa: E402
from helpers.plotting import modern as figs  # noqa: E402
from helpers.studies import modern as study  # noqa: E402

from .chapter_code import chapter_cells, chapter_namespace  # noqa: E402

NB = "09_modern_architectures"
NAMES = ["DropPath", "AddPosition", "encoder_block", "make_digits_transformer"]
PLACEMENTS = [{}, {"attention_rate": 0.2}, {"residual_rate": 0.2}, {"embedding_rate": 0.2},
              {"path_rate": 0.2},
              {"attention_rate": 0.1, "residual_rate": 0.3, "embedding_rate": 0.2},
              {"d_model": 16, "heads": 1, "learning_rate": 0.01}]


# --------------------------------------------------------------- the chapter's code
@pytest.fixture(scope="module")
def chapter():
    return chapter_namespace(NB, NAMES)


@pytest.mark.parametrize("kwargs", PLACEMENTS)
def test_chapter_transformer_is_the_helpers(chapter, kwargs):
    page = describe(chapter["make_digits_transformer"](**kwargs))
    helper = describe(study.digits_transformer(**kwargs))
    assert page == helper


def test_describe_sees_every_placement():
    base = describe(study.digits_transformer())
    for kwargs in PLACEMENTS[1:5]:
        assert describe(study.digits_transformer(**kwargs)) != base, kwargs


def test_a_changed_chapter_model_is_caught():
    ns = chapter_namespace(NB, NAMES, replace=("2 * d_model", "3 * d_model"))
    assert describe(ns["make_digits_transformer"]()) != describe(study.digits_transformer())


@pytest.mark.parametrize("cls", [study.DropPath, study.AddPosition])
def test_chapter_layers_are_the_helpers_line_for_line(cls):
    helper_src = inspect.getsource(cls).strip()
    assert any(helper_src in src for src in chapter_cells(NB, [cls.__name__]))


def test_chapter_drop_path_drops_whole_examples(chapter):
    rate, n = 0.25, 6000
    x = np.random.default_rng(0).uniform(0.5, 1.5, (n, 4, 3)).astype("float32")
    layer = chapter["DropPath"](rate, seed=3)
    out = layer(x, training=True)
    s = study.drop_path_stats(out, x, rate)
    assert s["all or nothing"]
    assert abs(s["dropped"] - rate) <= s["bound"]
    assert s["survivor scale error"] < 1e-6
    assert np.array_equal(np.asarray(layer(x)), x)  # inference: identity
    assert not np.array_equal(np.asarray(layer(x, training=True)), np.asarray(out))


def test_chapter_drop_path_rate_checks_and_config(chapter):
    DropPath = chapter["DropPath"]
    for bad in (1.0, -0.1, 1.5):
        with pytest.raises(ValueError):
            DropPath(bad)
    x = np.ones((5, 3), "float32")
    assert np.array_equal(np.asarray(DropPath(0.0)(x, training=True)), x)
    cfg = DropPath(0.3, seed=7, name="dp").get_config()
    assert cfg["rate"] == 0.3 and cfg["seed"] == 7
    again = DropPath.from_config(cfg)
    assert again.rate == 0.3 and again.seed == 7


def test_chapter_drop_path_is_seeded(chapter):
    x = np.ones((200, 2), "float32")
    a = chapter["DropPath"](0.5, seed=11)(x, training=True)
    b = chapter["DropPath"](0.5, seed=11)(x, training=True)
    assert np.array_equal(np.asarray(a), np.asarray(b))


def test_chapter_transformer_trains_with_fit(chapter):
    keras.utils.set_random_seed(0)
    model = chapter["make_digits_transformer"](
        attention_rate=0.2, residual_rate=0.2, embedding_rate=0.2, path_rate=0.2)
    rng = np.random.default_rng(0)
    x = rng.random((64, 8, 8)).astype("float32")
    y = rng.integers(0, 10, 64)
    h = model.fit(x, y, epochs=2, batch_size=16, verbose=0)  # symbolic batch size
    assert np.isfinite(h.history["loss"]).all()
    assert model(x[:3]).shape == (3, 10)


def test_add_position_is_a_learned_table():
    layer = study.AddPosition()
    x = np.zeros((2, 8, 4), "float32")
    out = np.asarray(layer(x))
    assert layer.table.shape == (8, 4)
    np.testing.assert_allclose(out[0], out[1])
    assert np.std(out) > 0  # positions differ from each other


def test_builder_validates():
    with pytest.raises(ValueError):
        study.digits_transformer(attention_rate=1.0)
    with pytest.raises(ValueError):
        study.digits_transformer(d_model=30, heads=4)


# --------------------------------------------------------------- data
def test_digit_rows_and_small_split():
    x = np.arange(3 * 64, dtype="float32").reshape(3, 64)
    rows = study.digit_rows(x)
    assert rows.shape == (3, 8, 8)
    np.testing.assert_array_equal(rows[1, 2], x[1, 16:24])  # row 3 of digit 2
    with pytest.raises(ValueError):
        study.digit_rows(np.zeros((3, 8, 8)))
    y = np.array([0, 1, 2, 0, 1, 2])
    xs, ys = study.small_split(np.arange(6), y, 3)
    assert list(ys) == [0, 1, 2] and list(xs) == [0, 1, 2]
    with pytest.raises(ValueError):
        study.small_split(np.arange(6), np.array([0, 0, 1, 1, 2, 2]), 2)  # misses a class
    with pytest.raises(ValueError):
        study.small_split(np.arange(6), y, 7)


# --------------------------------------------------------------- masks
def test_shared_axes():
    assert study.shared_axes(None, 3) == ()
    assert study.shared_axes((None, 1, 16), 3) == (1,)
    assert study.shared_axes((None, 1, 1, 16), 4) == (1, 2)
    assert study.shared_axes((None, 8, 1), 3) == (2,)
    with pytest.raises(ValueError):
        study.shared_axes((None, 1), 3)
    assert study.shape_text((None, 1, 16)) == "(batch, 1, 16)"


@pytest.mark.parametrize("noise_shape, draws", [(None, 2000 * 6 * 5), ((None, 1, 5), 2000 * 5),
                                                ((None, 6, 1), 2000 * 6), ((None, 1, 1), 2000)])
def test_mask_stats_counts_draws_of_keras_masks(noise_shape, draws):
    rate = 0.3
    x = np.ones((2000, 6, 5), "float32")
    out = keras.layers.Dropout(rate, noise_shape=noise_shape, seed=2)(x, training=True)
    s = study.mask_stats(out, x, rate, study.shared_axes(noise_shape, 3))
    assert s["draws"] == draws
    assert s["within bound"] and s["shared axes constant"]
    assert s["survivor scale error"] < 1e-6
    assert s["bound"] == pytest.approx(3.29 * np.sqrt(rate * (1 - rate) / draws))


def test_mask_stats_spots_a_mask_that_is_not_shared():
    x = np.ones((500, 6, 5), "float32")
    out = keras.layers.Dropout(0.5, seed=1)(x, training=True)  # element-wise
    s = study.mask_stats(out, x, 0.5, shared=(1,))
    assert not s["shared axes constant"]


def test_mask_stats_spots_wrong_scaling_and_rejects_zeros():
    x = np.ones((100, 10))
    out = x.copy()
    out[::2] = 0.0
    s = study.mask_stats(out, x, 0.5)  # survivors kept at 1, not 2
    assert s["survivor scale error"] == pytest.approx(0.5)
    with pytest.raises(ValueError):
        study.mask_stats(out, np.zeros_like(x), 0.5)
    with pytest.raises(ValueError):
        study.mask_stats(out[:5], x, 0.5)


def test_spatial_dropout_1d_is_locked_dropout():
    x = np.ones((50, 7, 4), "float32")
    a = keras.layers.SpatialDropout1D(0.5, seed=4)(x, training=True)
    b = keras.layers.Dropout(0.5, noise_shape=(None, 1, 4), seed=4)(x, training=True)
    assert np.array_equal(np.asarray(a), np.asarray(b))
    assert study.tokens_dropped(a) < 0.2  # a token vanishes only if all 4 features do


def test_tokens_dropped():
    out = np.ones((2, 4, 3))
    out[0, 1] = 0.0
    out[1, 2, 0] = 0.0  # one feature only: the token survives
    assert study.tokens_dropped(out) == 1 / 8


def test_variant_table():
    s = {"draws": 10, "dropped": 0.3, "bound": 0.1, "within bound": True,
         "shared axes constant": True, "survivor scale error": 0.0}
    t = study.variant_table({"a": ((None, 1, 4), "example", s, True),
                             "b": ("text", "entry", {**s, "survivor scale error": 0.5}, False)})
    assert list(t["mask shape"]) == ["(batch, 1, 4)", "text"]
    assert list(t["inference"]) == ["input unchanged", "changed"]
    assert t.loc[1, "survivors"].startswith("off by")


def test_drop_path_stats_on_known_arrays():
    x = np.full((4, 2, 2), 2.0)
    out = x.copy() / 0.5
    out[1] = 0.0
    s = study.drop_path_stats(out, x, 0.5)
    assert s["dropped"] == 0.25 and s["all or nothing"] and s["survivor scale error"] == 0
    out[2, 0, 0] = 0.0  # a partly dropped example
    assert not study.drop_path_stats(out, x, 0.5)["all or nothing"]


# --------------------------------------------------------------- attention dropout
def _probe(rate, seed=0, n=300, t=6):
    mha = keras.layers.MultiHeadAttention(1, key_dim=t, dropout=rate, seed=seed)
    tokens = np.random.default_rng(seed).normal(size=(n, t, t)).astype("float32")
    eye = np.tile(np.eye(t, dtype="float32"), (n, 1, 1))
    mha(tokens, eye, key=tokens)
    study.pass_probabilities_through(mha)
    return mha, tokens, eye


def test_identity_probe_returns_the_attention_probabilities():
    mha, tokens, eye = _probe(0.0)
    out, probs = mha(tokens, eye, key=tokens, return_attention_scores=True)
    np.testing.assert_allclose(np.asarray(out), np.asarray(probs)[:, 0], atol=1e-6)


def test_multi_head_attention_drops_probabilities():
    rate = 0.4
    mha, tokens, eye = _probe(rate)
    dropped, probs = mha(tokens, eye, key=tokens, training=True, return_attention_scores=True)
    s = study.attention_dropout_stats(dropped, np.asarray(probs)[:, 0], rate)
    assert s["zero or scaled"] and s["returned rows sum to 1"]
    assert abs(s["dropped"] - rate) <= s["bound"]
    assert s["row sums after dropout (min)"] < 1 < s["row sums after dropout (max)"]
    assert s["row sums after dropout (mean)"] == pytest.approx(1.0, abs=0.05)


def test_probe_needs_one_head():
    mha = keras.layers.MultiHeadAttention(2, key_dim=4)
    x = np.ones((1, 4, 4), "float32")
    mha(x, x)
    with pytest.raises(ValueError):
        study.pass_probabilities_through(mha)


# --------------------------------------------------------------- placements
@pytest.fixture(scope="module")
def tiny_data():
    rng = np.random.default_rng(1)
    x = rng.random((40, 8, 8)).astype("float32")
    y = np.arange(40) % 10
    return (x[:30], y[:30]), (x[30:], y[30:])


def test_runner_trains_exactly_what_fast_fit_trains(tiny_data):
    (x, y), (xt, yt) = tiny_data
    kwargs = {"attention_rate": 0.2, "residual_rate": 0.2, "embedding_rate": 0.2,
              "path_rate": 0.2}
    keras.utils.set_random_seed(5)
    start = study.digits_transformer().get_weights()  # the plain network's
    keras.utils.set_random_seed(5)
    fresh = study.digits_transformer(**kwargs)
    fresh.set_weights(start)
    ref = fast_fit(fresh, x, y, 4, validation_data=(xt, yt))
    # the runner is traced on seed 4's model and then loaded with seed 5's
    _, curves = study.placement_study({"p": kwargs}, [4, 5], (x, y), (xt, yt), 4)
    got = curves["p"][1]
    np.testing.assert_allclose(got["loss"], ref["loss"], rtol=1e-5)
    np.testing.assert_allclose(got["val_loss"], ref["val_loss"], rtol=1e-5)


def test_every_placement_of_a_seed_starts_from_the_same_weights(tiny_data):
    seen = {}

    def build(**kwargs):
        model = study.digits_transformer(**kwargs)
        seen.setdefault(tuple(sorted(kwargs)), []).append(model)
        return model

    placements = {"no dropout": {}, "all": {"attention_rate": 0.2, "residual_rate": 0.2,
                                      "embedding_rate": 0.2, "path_rate": 0.2}}
    keras.utils.set_random_seed(2)
    expected = study.digits_transformer().get_weights()
    study.placement_study(placements, [2], *tiny_data, epochs=1, build=build)
    trained = seen[tuple(sorted(placements["all"]))][0]
    # one step from the same start: the first layer moved, but only a little
    first = trained.get_weights()[0]
    assert first.shape == expected[0].shape
    assert 0 < np.abs(first - expected[0]).max() < 0.05


def test_placement_study_shapes_and_scoring(tiny_data):
    placements = {"no dropout": {}, "attention": {"attention_rate": 0.3}}
    results, curves = study.placement_study(placements, [0, 1, 2], *tiny_data, epochs=7,
                                            score_every=3)
    assert list(results.columns) == ["placement", "seed", "train accuracy", "test accuracy",
                                     "test loss"]
    assert len(results) == 6 and set(curves) == set(placements)
    h = curves["no dropout"][0]
    assert len(h["loss"]) == 7 and list(h["val_epoch"]) == [3, 6, 7]
    assert len(h["val_loss"]) == 3
    assert results["test accuracy"].between(0, 1).all()
    with pytest.raises(ValueError):
        study.placement_study({}, [0], *tiny_data, epochs=2)


def _fake_results():
    rows = []
    for seed in range(4):
        for name, shift in (("no dropout", 0.0), ("up", 0.05), ("same", 0.0)):
            acc = 0.8 + 0.01 * seed + shift + (0.001 * (-1) ** seed if name == "same" else 0)
            rows.append({"placement": name, "seed": seed, "train accuracy": 1.0,
                         "test accuracy": acc, "test loss": 1.0 - acc})
    return pd.DataFrame(rows)


def test_comparisons_table_and_sentences():
    results = _fake_results()
    cmp = study.placement_comparisons(results)
    assert cmp["up"]["verdict"] == "higher" and cmp["same"]["verdict"] == "within seed noise"
    assert cmp["up"]["diff"] == pytest.approx(0.05)
    table = study.placement_table(results)
    assert list(table["placement"]) == ["no dropout", "up", "same"]
    assert table.loc[0, "test accuracy − no dropout"] == "–"
    assert table.loc[1, "test accuracy − no dropout"] == stats.describe_comparison(cmp["up"])
    by_acc = study.verdict_lists(cmp)
    assert by_acc == {"higher": "up", "lower": study.NOBODY, "within seed noise": "same"}
    by_loss = study.verdict_lists(study.placement_comparisons(results, column="test loss"))
    sentence = study.effect_sentence(by_acc, by_loss, 4)
    assert sentence == "over 4 seeds, the test accuracy rose with up; the test loss fell with up."
    quiet = {"higher": study.NOBODY, "lower": study.NOBODY, "within seed noise": "a and b"}
    assert "no placement moved the test accuracy" in study.effect_sentence(quiet, quiet, 3)
    assert study.verdict_lists({k: {"verdict": "lower"} for k in "abc"})["lower"] == "a, b and c"


def test_curve_sentence():
    epochs = np.array([5, 10, 15, 20])
    assert "climbs to 0.700" in study.curve_sentence([0.9, 0.6, 0.65, 0.7], epochs)
    assert "lowest after 10 epochs" in study.curve_sentence([0.9, 0.6, 0.65, 0.7], epochs)
    assert "falls to 0.500" in study.curve_sentence([0.9, 0.7, 0.6, 0.5], epochs)
    with pytest.raises(ValueError):
        study.curve_sentence([1.0], epochs)


def test_mean_curve():
    hs = [{"val_loss": np.array([1.0, 2.0])}, {"val_loss": np.array([3.0, 4.0])}]
    np.testing.assert_allclose(study.mean_curve(hs, "val_loss"), [2.0, 3.0])


# --------------------------------------------------------------- the Keras layers
def test_dropout_arguments_of_keras_layers():
    table = study.dropout_arguments()
    layers = dict(zip(table["layer"], table["arguments (default)"], strict=True))
    assert layers["MultiHeadAttention"] == "dropout=0.0"
    assert layers["LSTM"] == "dropout=0.0, recurrent_dropout=0.0"
    for plain in ("Dropout", "SpatialDropout1D", "Dense", "GaussianDropout"):
        assert plain not in layers  # their argument is rate, or there is none
    mha = table[table["layer"] == "Attention"].iloc[0]
    assert mha["family"] == "attention" and "attention scores" in mha["docstring"]


def test_dropout_arguments_on_a_fake_module():
    class Doc:
        """A layer.

        Args:
            my_dropout: Float between 0 and 1. Fraction dropped,
                per step. Default: 0.
            other: something.
        """

        def __init__(self, units, my_dropout=0.25):
            pass

    class NoDrop:
        def __init__(self, rate=0.5):
            pass

    fake = types.SimpleNamespace(Doc=Doc, Alias=Doc, NoDrop=NoDrop, not_a_class=3)
    table = study.dropout_arguments(fake)
    assert list(table["layer"]) == ["Alias"]  # Doc is the same class: listed once
    assert table.loc[0, "arguments (default)"] == "my_dropout=0.25"
    assert table.loc[0, "docstring"] == "my_dropout: Fraction dropped, per step."


# --------------------------------------------------------------- figures
def test_figures():
    kept = np.random.default_rng(0).random((3, 4, 5)) > 0.3
    fig = figs.plot_masks([("a", kept), ("b", kept)])
    assert len(fig.axes) == 2
    plt.close(fig)
    with pytest.raises(ValueError):
        figs.plot_masks([("a", kept[0])])
    hist = {"loss": np.linspace(2, 0.1, 6), "val_loss": np.array([1.5, 1.0, 1.2]),
            "val_epoch": np.array([2, 4, 6])}
    fig = figs.plot_placement_curves({"no dropout": [hist, hist], "attention": [hist]})
    assert len(fig.axes) == 2
    line = fig.axes[1].lines[0]
    assert list(line.get_xdata()) == [2, 4, 6]
    plt.close(fig)
    fig = figs.plot_placement_scores(_fake_results())
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert labels == ["no dropout", "up", "same"]
    plt.close(fig)
