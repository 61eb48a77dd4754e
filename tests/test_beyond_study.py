"""helpers.studies.beyond and helpers.plotting.beyond: the measures, studies,
tables and figures of the chapters on ensembles/uncertainty and on the inside
of a network trained with dropout."""

import matplotlib

matplotlib.use("Agg")

import keras  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from helpers.models import bn_convnet, circles_mlp, mlp_classifier, mlp_regressor  # noqa: E402
from helpers.plotting import beyond as figs  # noqa: E402
from helpers.plotting.style import COLORS  # noqa: E402
from helpers.stats import compare  # noqa: E402
from helpers.studies import beyond as study  # noqa: E402
from helpers.uncertainty import to_mc_dropout  # noqa: E402


# ------------------------------------------------------------------ measures
def test_hoyer_is_zero_for_flat_one_for_single_and_scale_free():
    a = np.array([[1.0, 1.0, 1.0, 1.0], [0.0, 5.0, 0.0, 0.0], [3.0, 1.0, 0.0, 0.0]])
    h = study.hoyer(a)
    np.testing.assert_allclose(h[:2], [0.0, 1.0], atol=1e-12)
    assert 0 < h[2] < 1
    np.testing.assert_allclose(study.hoyer(7.5 * a), h)
    assert np.isnan(study.hoyer(np.zeros((1, 4))))[0]
    with pytest.raises(ValueError, match="two entries"):
        study.hoyer(np.ones((3, 1)))


def test_top_k_share():
    a = np.array([[4.0, 3.0, 2.0, 1.0]])
    np.testing.assert_allclose(study.top_k_share(a, 1), [0.4])
    np.testing.assert_allclose(study.top_k_share(a, 2), [0.7])
    np.testing.assert_allclose(study.top_k_share(a, 4), [1.0])
    np.testing.assert_allclose(study.top_k_share(10 * a, 2), [0.7])
    with pytest.raises(ValueError, match="exceeds"):
        study.top_k_share(a, 5)


def test_sparsity_measures_mean_changes_with_scale_the_others_do_not():
    rng = np.random.default_rng(0)
    a = np.maximum(rng.normal(size=(50, 20)), 0)
    m1, m3 = study.sparsity_measures(a, 3), study.sparsity_measures(3 * a, 3)
    assert m3["mean activation"] == pytest.approx(3 * m1["mean activation"])
    for key in ("fraction exactly zero", "active units", "Hoyer sparsity", "top-3 share"):
        assert m3[key] == pytest.approx(m1[key])
    assert m1["active units"] == pytest.approx((a > 0).sum(1).mean())
    assert m1["fraction exactly zero"] == pytest.approx((a == 0).mean())


# ------------------------------------------------------------------ sentences
def test_grouped_and_interval_text():
    assert study.grouped([50, 100, 300], ["same", "higher", "same"], "digits") == \
        "same at 50, 300 digits; higher at 100 digits"
    with pytest.raises(ValueError):
        study.grouped([1, 2], ["a"])
    res = compare([0.1, 0.2, 0.3], [0.5, 0.6, 0.8])
    text = study.interval_text(res)
    assert text.startswith("+0.") and "interval" in text and "higher" not in text


def test_trap_and_size_sentences_follow_the_verdicts():
    real, noise = {"verdict": "higher"}, {"verdict": "within seed noise"}
    s = study.trap_sentence({"training": real, "mcdropout": noise})
    assert "larger than the Monte Carlo noise" in s and "as it must be" in s
    s = study.trap_sentence({"training": noise, "mcdropout": real})
    assert "does not show" in s and "chance" in s
    assert study.size_sentence([noise, real]).startswith("As in the paper")
    assert study.size_sentence([real, noise]).startswith("Here the smallest")


# ------------------------------------------------------------------ 06: averaging
def test_averaging_errors_geometric_mean_is_exact_for_a_linear_logit():
    z_det = np.array([0.5, -1.0, 2.0])
    noise = np.array([[2.0], [-2.0]] * 50)  # zero mean after every even N
    z_mc = z_det + noise
    p_mc, p_det = study.sigmoid(z_mc), study.sigmoid(z_det)
    err = study.averaging_errors(p_mc, z_mc, p_det)
    assert err["geometric"][-1] < 1e-12
    assert err["arithmetic"][-1] > 0.01  # Jensen: the mean of p is not sigmoid(mean z)
    assert err["gap"].shape == (3,)
    tab = study.averaging_table(err, ns=(1, 10, 1000))
    assert tab["passes N"].tolist() == [1, 10]  # 1000 > 100 passes is left out
    with pytest.raises(ValueError, match="line up"):
        study.averaging_errors(p_mc, z_mc[:, :2], p_det)


def test_uncertainty_regions_and_distance():
    grid = np.array([[0.0, 0.0], [3.0, 0.0], [0.1, 0.0]])
    p_det = np.array([0.5, 0.95, 0.02])
    p_std = np.array([0.3, 0.01, 0.02])
    d = study.distance_to_nearest(grid, np.array([[0.0, 0.0]]))
    np.testing.assert_allclose(d, [0.0, 3.0, 0.1])
    tab, masks = study.uncertainty_regions(grid, p_det, p_std, np.array([[0.0, 0.0]]))
    assert tab["grid points"].tolist() == [1, 2, 1, 3]
    np.testing.assert_allclose(tab["mean sd of P(class 1)"], [0.3, 0.015, 0.01, 0.11])
    assert masks["whole grid"].all()


def test_spread_ratios():
    x = np.linspace(-5, 5, 11)
    rng = np.random.default_rng(0)
    scale = np.where(np.abs(x) >= 4, 3.0, 1.0)
    base = rng.choice([-1.0, 1.0], size=(400, 1)) * np.ones((1, 11))
    df = study.spread_ratios([base * scale], x)
    assert df["ratio"].iloc[0] == pytest.approx(3.0)
    with pytest.raises(ValueError, match="inside and outside"):
        study.spread_ratios([base[:, :3]], x[4:7])


# ------------------------------------------------------------------ 06: the trap
def test_moved_by_one_call_reports_and_restores():
    net = bn_convnet(filters=4, seed=0, bn_momentum=0.5)
    x = np.random.default_rng(0).uniform(size=(3, 8, 8, 1)).astype("float32") + 2
    bn = net.get_layer("bn")
    before = [np.asarray(v).copy() for v in (bn.moving_mean, bn.moving_variance)]
    assert study.moved_by_one_call(net, x) > 0.0
    np.testing.assert_array_equal(np.asarray(bn.moving_mean), before[0])
    np.testing.assert_array_equal(np.asarray(bn.moving_variance), before[1])


def test_batch_dependence_table_and_restored_statistics():
    net = bn_convnet(filters=4, seed=0)
    x = np.random.default_rng(1).uniform(size=(6, 8, 8, 1)).astype("float32")
    before = np.asarray(net.get_layer("bn").moving_mean).copy()
    tab, cmp = study.batch_dependence(net, to_mc_dropout(net), x[:1], 3, x[1:], 8)
    assert list(tab["recipe"]) == ["model(x, training=True)", "MCDropout, inference mode"]
    assert "in a batch of 6" in tab.columns
    assert set(cmp) == {"training", "mcdropout"} and cmp["training"]["n_left"] == 8
    np.testing.assert_array_equal(np.asarray(net.get_layer("bn").moving_mean), before)
    with pytest.raises(ValueError, match="recipe"):
        study.probe_samples(net, x[:1], 0, x[1:], 2, "eval")


# ------------------------------------------------------------------ shared
def test_seeded_models_same_seed_same_weights():
    a, b, c = study.seeded_models(lambda: circles_mlp(hidden=8), [0, 0, 1])
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)
    assert not np.array_equal(a.get_weights()[0], c.get_weights()[0])


def test_final_scores_binary_and_sparse():
    inp = keras.Input((2,))
    m = keras.Model(inp, keras.layers.Dense(1, activation="sigmoid")(inp))
    m.compile(loss="binary_crossentropy")
    m.set_weights([np.array([[10.0], [0.0]]), np.zeros(1)])  # class 1 iff x1 > 0
    x = np.array([[1.0, 0.0], [-1.0, 0.0], [2.0, 5.0], [-3.0, 1.0]], "float32")
    acc, loss = study.final_scores([m], x, np.array([1, 0, 0, 0], "float32"))
    assert acc[0] == 0.75 and loss[0] > 0
    out = keras.layers.Dense(3, activation="softmax")(inp)
    clf = keras.Model(inp, out)
    clf.compile(loss="sparse_categorical_crossentropy")
    clf.set_weights([np.zeros((2, 3)), np.array([0.0, 5.0, 0.0])])  # always class 1
    acc, loss = study.final_scores([clf], x, np.array([1, 1, 0, 2]))
    assert acc[0] == 0.5 and loss[0] > 0


def test_measure_table_and_paired_comparison():
    runs = pd.DataFrame({"model": ["a"] * 3 + ["b"] * 3, "seed": [0, 1, 2, 2, 0, 1],
                         "x": [1.0, 2.0, 3.0, 3.5, 1.4, 2.6]})
    res = study.compare_groups(runs, "model", "a", "b", "x")  # paired by seed: +0.4, +0.6, +0.5
    assert res["verdict"] == "higher" and res["diff"] == pytest.approx(0.5)
    unpaired = study.compare_groups(runs, "model", "a", "b", "x", paired=False)
    assert unpaired["verdict"] == "within seed noise"
    tab = study.measure_table(runs, "model", ["x"], digits=1, pair=("a", "b"))
    assert tab.columns.tolist() == ["measure", "a", "b", "b - a"]
    assert tab.loc[0, "a"] == "2.0 ± 1.0" and tab.loc[0, "b - a"].endswith("higher")
    assert study.ratio_mean_sd(runs, "model", "a", "b", "x") == "1.29 ± 0.12"


def test_width_comparisons_pairs_n_with_2n():
    acc = np.zeros((3, 2, 4))
    acc[:, 0] = np.array([0.5, 0.7, 0.9])[:, None] + [0.0, 0.01, -0.01, 0.0]
    acc[:, 1] = np.array([0.4, 0.5, 0.7])[:, None] + [0.0, 0.01, -0.01, 0.0]
    out = study.width_comparisons(acc, [4, 8, 16])
    assert [r["verdict"] for r in out["same width"].values()] == ["lower"] * 3
    assert list(out["widened"]) == [4, 8]
    assert out["widened"][4]["diff"] == pytest.approx(0.0)  # 0.5 at 8 vs 0.5 at 4
    assert out["widened"][8]["diff"] == pytest.approx(0.0)


def test_size_table():
    res = {"accuracy": np.array([[[0.5, 0.6], [0.6, 0.7]]])}
    gains = [compare([0.5, 0.6], [0.6, 0.7], paired=True)]
    tab = study.size_table(res, [50], gains, gains)
    assert tab.loc[0, "no dropout"] == "0.550 ± 0.071" and "higher" in tab.loc[0, "accuracy gain"]


# ------------------------------------------------------------------ studies, tiny
def test_sparsity_study_small():
    x = np.random.default_rng(0).uniform(size=(30, 64)).astype("float32")

    def build(rate):
        return mlp_regressor(input_dim=64, hidden=(16,), output_dim=64, rate=rate)

    runs, acts, models = study.sparsity_study(build, x, x[:10], [0.0, 0.5], [0, 1], 3, k=4,
                                              layer="hidden_1")
    assert runs["model"].tolist() == ["no dropout"] * 2 + ["Dropout(0.5)"] * 2
    assert set(acts) == {0.0, 0.5} and acts[0.0].shape == (10, 16) and len(models) == 4
    assert runs["unexplained variance"].gt(0).all()


def test_norm_study_records_curves_and_maxnorm_holds():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 2)).astype("float32")
    y = (x[:, :1] > 0).astype("float32")
    builds = {"free": lambda: circles_mlp(hidden=8),
              "capped": lambda: circles_mlp(hidden=8, rate=0.2, max_norm=0.3)}
    runs, curves = study.norm_study(builds, x, y, x, y, [0, 1], 8)
    assert curves["free"].shape == (2, 8, 3)
    assert runs[runs["configuration"] == "capped"]["hidden max"].max() <= 0.3 + 1e-5
    assert runs["hidden median"].le(runs["hidden max"]).all()


def test_width_and_data_size_studies_small():
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(40, 64)).astype("float32")
    y = rng.integers(0, 10, 40)

    def build(width=8, rate=0.5):
        return mlp_classifier(input_dim=64, hidden=(width,), rate=rate)

    acc = study.width_study(build, x, y, x, y, [2, 4], [0.0, 0.5], [0, 1], 2)
    assert acc.shape == (2, 2, 2) and ((acc >= 0) & (acc <= 1)).all()
    res = study.data_size_study(build, x, y, x, y, [10, 20], [0, 1], 2)
    assert res["accuracy"].shape == res["loss"].shape == (2, 2, 2)
    with pytest.raises(ValueError, match="subset"):
        study.data_size_study(build, x, y, x, y, [41], [0], 1)


def test_variance_shift_is_one_when_statistics_fit():
    net = bn_convnet(position="none", filters=4, seed=0)
    x = np.random.default_rng(0).uniform(size=(50, 8, 8, 1)).astype("float32")
    pre = np.asarray(keras.Model(net.input, net.get_layer("bn").input)(x))
    seen = pre.reshape(-1, 4).var(0)
    net.get_layer("bn").moving_variance.assign(seen)
    assert study.variance_shift(net, x) == pytest.approx(1.0, rel=1e-5)
    net.get_layer("bn").moving_variance.assign(2 * seen)
    assert study.variance_shift(net, x) == pytest.approx(2.0, rel=1e-5)


def test_bn_study_small():
    x = np.random.default_rng(0).uniform(size=(30, 8, 8, 1)).astype("float32")
    y = np.arange(30) % 10
    runs = study.bn_study(lambda position: bn_convnet(position=position, filters=2), x, y, x, y,
                          ["none", "before_bn"], [0, 1], 2)
    assert runs["dropout"].tolist() == ["no dropout"] * 2 + ["before BN"] * 2
    assert runs["variance shift"].gt(0).all()


# ------------------------------------------------------------------ figures
def _colorbars(fig):
    return [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]


def test_mc_maps_share_limits_have_colorbars_and_white_edged_points():
    axis = np.linspace(-1.5, 1.5, 5)
    p = np.linspace(0, 1, 25)
    x = np.array([[0.0, 0.0], [1.0, 1.0]])
    fig = figs.plot_mc_maps(axis, p, p / 4, p, x, np.array([0, 1]))
    maps = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(maps) == 2 and len(_colorbars(fig)) == 2
    assert maps[0].get_xlim() == maps[1].get_xlim() and maps[0].get_ylim() == maps[1].get_ylim()
    points = [c for c in maps[0].collections if type(c).__name__ == "PathCollection"]
    assert len(points) == 2 and all(np.allclose(c.get_edgecolor()[0][:3], 1.0) for c in points)
    plt.close(fig)


def test_averaging_figure_has_a_symmetric_colorbar():
    axis = np.linspace(-1.5, 1.5, 4)
    err = {"arithmetic": np.linspace(0.1, 0.01, 20), "geometric": np.linspace(0.1, 0.001, 20),
           "gap": np.linspace(-0.02, 0.01, 16)}
    fig = figs.plot_averaging(err, axis, np.full(16, 0.5), np.zeros((2, 2)), np.array([0, 1]))
    (cbar,) = _colorbars(fig)
    lo, hi = cbar.get_ylim()
    assert lo == pytest.approx(-0.02) and hi == pytest.approx(0.02)
    plt.close(fig)


def test_norm_curves_differ_in_style_so_overlaps_stay_visible():
    arr = np.ones((2, 5, 3))
    curves = {"a": arr, "b": arr, "c": arr}
    styles = {"a": ("dropout", "-"), "b": ("dropout", ":"), "c": ("maxnorm", "--")}
    fig = figs.plot_norms(curves, styles)
    lines = fig.axes[0].get_lines()
    assert len({(ln.get_linestyle(), ln.get_linewidth()) for ln in lines}) == 3
    assert matplotlib.colors.to_hex(lines[2].get_color()) == COLORS["maxnorm"]
    plt.close(fig)


def test_widths_and_data_size_figures_label_ticks_with_values():
    acc = np.random.default_rng(0).uniform(0.5, 1.0, size=(3, 2, 3))
    fig = figs.plot_widths(acc, [4, 8, 16])
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["4", "8", "16"]
    assert fig.axes[0].get_ylim() == fig.axes[1].get_ylim()
    plt.close(fig)
    gains = [compare(a[0], a[1]) for a in acc]
    fig = figs.plot_data_size(acc, [50, 100, 300], gains)
    assert [t.get_text() for t in fig.axes[1].get_xticklabels()] == ["50", "100", "300"]
    plt.close(fig)
