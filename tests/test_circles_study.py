"""helpers.studies.circles and helpers.plotting.circles: chapter 4's repeated runs,
tables, selection protocol and figures."""

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from helpers import stats  # noqa: E402
from helpers.plotting import circles as figures  # noqa: E402
from helpers.plotting.style import COLORS, WIDTH  # noqa: E402
from helpers.studies import circles as study  # noqa: E402


class RadiusModel:
    """A stand-in model: P(class 1) = 1 inside radius ``r``, else 0; records
    the ``training`` flag it was called with."""

    def __init__(self, r=0.9):
        self.r, self.calls = r, []

    def __call__(self, x, training=None):
        self.calls.append(training)
        x = np.asarray(x)
        return (np.linalg.norm(x, axis=1) < self.r).astype("float32").reshape(-1, 1)


# --- small numbers and tables ------------------------------------------------------------

def test_accuracy_is_inference_mode_and_thresholds_at_one_half():
    m = RadiusModel(0.9)
    x = np.array([[0.5, 0.0], [1.0, 0.0], [0.0, 0.8], [0.0, 1.2]], "float32")
    y = np.array([[1], [0], [0], [0]], "float32")  # third point is misclassified
    assert study.accuracy(m, x, y) == pytest.approx(0.75)
    assert m.calls == [False]


def test_cache_key_treats_missing_rate_as_zero_and_rejects_unknown_keys():
    assert study._key({}, 3) == study._key({"rate": 0.0}, 3)
    assert study._key({"rate": 0.4}, 3) != study._key({"rate": 0.4, "max_norm": 0.5}, 3)
    with pytest.raises(ValueError, match="unknown"):
        study._key({"hidden": 10}, 0)


def test_reproduction_table_keeps_the_two_train_accuracies_apart():
    ours = {"no dropout": {"train_training": 1.0, "train_inference": 1.0, "test": 0.75},
            "Dropout(0.4)": {"train_training": 0.9, "train_inference": 0.96, "test": 0.8}}
    t = study.reproduction_table(ours, seed=7).set_index(["model", "run"])
    ref = t.loc[("Dropout(0.4)", "reference")]
    assert ref["train, dropout off (evaluate)"] == 0.967
    assert math.isnan(ref["train, dropout on (history, last epoch)"])  # the reference has none
    mine = t.loc[("Dropout(0.4)", "ours, seed 7")]
    assert mine["train, dropout off (evaluate)"] == 0.96
    assert mine["train, dropout on (history, last epoch)"] == 0.9
    assert mine["test (evaluate)"] == 0.8


def _frame(seeds, test, train=None):
    train = test if train is None else train
    return pd.DataFrame({"seed": seeds, "test_accuracy": test,
                         "train_accuracy_inference": train, "train_accuracy_training": train})


def test_paired_comparison_aligns_seeds_whatever_the_row_order():
    a = _frame([0, 1, 2, 3], [0.70, 0.72, 0.74, 0.71])
    b = _frame([3, 2, 1, 0, 9], [0.75, 0.80, 0.74, 0.73, 0.10])  # seed 9 has no partner
    res = study.paired({"a": a, "b": b}, "a", "b")
    expected = stats.compare([0.70, 0.72, 0.74, 0.71], [0.73, 0.74, 0.80, 0.75], paired=True)
    assert res["n_left"] == 4
    assert res["diff"] == pytest.approx(expected["diff"])
    assert res["low"] == pytest.approx(expected["low"])
    np.testing.assert_allclose(study.paired_differences({"a": a, "b": b}, "a", "b"),
                               [0.03, 0.02, 0.06, 0.04])
    with pytest.raises(ValueError, match="share no seed"):
        study.paired({"a": a, "c": _frame([5, 6], [0.5, 0.6])}, "a", "c")


def test_seed_summary_uses_the_books_mean_sd_and_extremes():
    f = _frame([0, 1, 2], [0.7, 0.8, 0.9], train=[1.0, 1.0, 0.9])
    row = study.seed_summary({"x": f}).iloc[0]
    assert row["seeds"] == 3
    assert row["test (mean ± sd)"] == stats.format_mean_sd([0.7, 0.8, 0.9])
    assert (row["test, lowest"], row["test, highest"]) == (0.7, 0.9)
    assert row["train, evaluate (mean ± sd)"] == stats.format_mean_sd([1.0, 1.0, 0.9])


def test_peak_of_mean_finds_the_epoch_of_the_best_mean():
    h1 = {"val_accuracy": [0.5, 0.9, 0.7, 0.6]}
    h2 = {"val_accuracy": [0.5, 0.7, 0.9, 0.6, 0.99]}  # longer run: cut to the shortest
    assert study.peak_of_mean([h1, h2]) == (pytest.approx(0.8), 2)
    with pytest.raises(ValueError):
        study.peak_of_mean([])


def test_max_norm_table_counts_units_at_the_bound():
    recs = [{"unit_norms": np.array([0.5, 0.2, 0.4999, 0.1]), "max_unit_norm": 0.5,
             "test_accuracy": 0.8},
            {"unit_norms": np.array([0.5, 0.5, 0.3, 0.1]), "max_unit_norm": 0.5,
             "test_accuracy": 0.9}]
    row = study.max_norm_table({"c": recs}, bound=0.5).iloc[0]
    assert row["units at norm ≥ 0.5 (mean share)"] == pytest.approx(0.5)
    assert row["largest unit norm (mean ± sd)"] == "0.500 ± 0.000"


# --- input dropout and the radius ---------------------------------------------------------

def test_mask_kinds_counts_zeroed_coordinates():
    x = np.array([[1.0, 2.0], [0.0, 2.0], [1.0, 0.0], [0.0, 0.0]])
    assert study.mask_kinds(x) == {"both kept": 0.25, "one dropped": 0.5, "both dropped": 0.25}


def test_radius_table_reports_medians_per_class():
    x = np.array([[0.8, 0], [0, 0.9], [1.0, 0], [0, 1.2]], "float32")
    y = np.array([1, 1, 0, 0])
    t = study.radius_table(x, y, 2 * x, y).set_index("ring radius")
    assert t.loc[0.8, "median radius, inputs as they are"] == pytest.approx(0.85)
    assert t.loc[1.0, "median radius, under input dropout"] == pytest.approx(2.2)


def test_radial_profile_and_boundary_radius_find_the_circle():
    radii = np.linspace(0, 1.6, 17)
    p = study.radial_profile(RadiusModel(0.95), radii, n_angles=36)
    assert p[radii < 0.95].min() == 1.0 and p[radii > 0.95].max() == 0.0
    r = study.boundary_radius(radii, p)
    assert 0.9 <= r <= 1.0
    assert study.boundary_radius([0, 1, 2], [1.0, 0.6, 0.2]) == pytest.approx(1.25)
    assert math.isnan(study.boundary_radius([0, 1], [0.9, 0.8]))
    assert study.boundary_radius([0, 1], [0.4, 0.1]) == 0.0


def test_inputs_under_keras_dropout_are_scaled_by_one_over_keep():
    import keras

    keras.utils.set_random_seed(0)
    x = np.tile(np.array([[0.6, 0.8]], "float32"), (2000, 1))  # radius 1
    seen = keras.ops.convert_to_numpy(keras.layers.Dropout(0.1)(x, training=True))
    kinds = study.mask_kinds(seen)
    assert kinds["both kept"] == pytest.approx(0.81, abs=0.03)
    both = (seen != 0).all(axis=1)
    np.testing.assert_allclose(np.linalg.norm(seen[both], axis=1), 1 / 0.9, rtol=1e-5)


# --- choosing the rate --------------------------------------------------------------------

def _grid():
    rows = []
    # validation prefers 0.2, test prefers 0.4; seed 1 has a tie on validation
    table = {0: {0.0: (0.70, 0.70), 0.2: (0.80, 0.74), 0.4: (0.75, 0.80)},
             1: {0.0: (0.72, 0.71), 0.2: (0.78, 0.76), 0.4: (0.78, 0.79)},
             2: {0.0: (0.69, 0.73), 0.2: (0.81, 0.75), 0.4: (0.74, 0.77)}}
    for seed, by_rate in table.items():
        for rate, (val, test) in by_rate.items():
            rows.append({"rate": rate, "seed": seed, "val_accuracy": val, "test_accuracy": test})
    return pd.DataFrame(rows)


def test_select_rates_chooses_on_each_set_and_measures_the_optimism():
    sel = study.select_rates(_grid())
    assert sel["grid_by_val"] == 0.2 and sel["grid_by_test"] == 0.4
    assert sel["grid_test_of_val_pick"] == pytest.approx(0.75)
    assert sel["grid_test_of_test_pick"] == pytest.approx(0.78666, abs=1e-4)
    ps = sel["per_seed"].set_index("seed")
    assert ps.loc[1, "rate by validation"] == 0.2  # tie 0.78 / 0.78: the lower rate
    assert list(ps["test, chosen by test"]) == [0.80, 0.79, 0.77]
    assert sel["optimism"]["diff"] == pytest.approx(np.mean([0.06, 0.03, 0.02]))
    assert sel["optimism"] == stats.compare([0.74, 0.76, 0.75], [0.80, 0.79, 0.77], paired=True)
    t = study.selection_table(sel)
    assert list(t["rate (from the means over seeds)"]) == ["0.4", "0.2"]
    assert "0.2" in study.selection_sentence(sel) and "0.4" in study.selection_sentence(sel)


def test_selection_sentence_when_both_sets_agree():
    g = _grid()
    g.loc[g["rate"] == 0.4, "val_accuracy"] += 0.2
    sel = study.select_rates(g)
    assert sel["grid_by_val"] == sel["grid_by_test"] == 0.4
    assert "same rate, 0.4" in study.selection_sentence(sel)


def test_grid_summary_columns_and_values():
    s = study.grid_summary(_grid()).set_index("rate")
    assert list(s.columns) == ["validation mean", "validation sd", "test mean", "test sd"]
    assert s.loc[0.2, "validation mean"] == pytest.approx(0.79666, abs=1e-4)


# --- training with Keras (small models, few epochs) -----------------------------------------

@pytest.fixture(scope="module")
def tiny_runs():
    from helpers.data import load_circles
    from helpers.models import circles_mlp

    def build(seed, **kw):
        return circles_mlp(hidden=16, seed=seed, **kw)

    train, test = load_circles()
    return study.SeedRuns(train, test, epochs=5, build=build)


def test_seed_runs_train_each_model_once_and_measure_it(tiny_runs):
    first = tiny_runs.get({}, [0, 1])
    assert tiny_runs.trained == 2
    again = tiny_runs.get({"rate": 0.0}, [1, 0, 2])  # same models, one new seed
    assert tiny_runs.trained == 3
    assert again[0]["model"] is first[1]["model"] and again[1]["model"] is first[0]["model"]
    r = again[2]
    assert r["seed"] == 2
    assert r["test_accuracy"] == study.accuracy(r["model"], tiny_runs.x_test, tiny_runs.y_test)
    assert r["train_accuracy_training"] == pytest.approx(float(r["history"]["accuracy"][-1]))
    f = tiny_runs.frame({}, [0, 1, 2])
    assert list(f["seed"]) == [0, 1, 2] and "model" not in f and "unit_norms" not in f


def test_max_norm_bound_holds_in_the_recorded_norms(tiny_runs):
    (r,) = tiny_runs.get({"rate": 0.4, "max_norm": 0.05}, [0])
    assert r["max_unit_norm"] <= 0.05 + 1e-5
    assert np.all(r["unit_norms"] <= 0.05 + 1e-5)


def test_grid_frame_adds_validation_accuracy(tiny_runs):
    val = (tiny_runs.x_test[:10], tiny_runs.y_test[:10])
    g = study.grid_frame(tiny_runs, [0.0], [0, 1], val)
    models = tiny_runs.get({}, [0, 1])
    assert list(g["val_accuracy"]) == [study.accuracy(m["model"], *val) for m in models]


def test_inference_tracker_matches_evaluate_after_training():
    from helpers.data import load_circles
    from helpers.fastfit import fast_fit
    from helpers.models import circles_mlp

    (xt, yt), _ = load_circles()
    model = circles_mlp(hidden=16, rate=0.5, seed=1)
    h = fast_fit(model, xt, yt, 8, track=study.inference_tracker(xt, yt))
    assert h["train_accuracy_inference"][-1] == pytest.approx(study.accuracy(model, xt, yt))
    loss, _ = model.evaluate(xt, yt, verbose=0)
    assert h["train_loss_inference"][-1] == pytest.approx(loss, rel=1e-5)


def test_layer_table_shows_where_dropout_sits():
    from helpers.models import circles_mlp

    t = study.layer_table(circles_mlp(rate=0.4, max_norm=0.5))
    assert list(t["layer"]) == ["InputLayer", "Dense", "Dropout", "Dense"]
    assert t["settings"][1] == "relu, MaxNorm(0.5)" and t["settings"][2] == "rate 0.4"
    assert list(t["parameters"]) == [0, 1500, 0, 501]


# --- figures ------------------------------------------------------------------------------

def _hist(n=20, tracked=True):
    e = np.linspace(0, 1, n)
    h = {"accuracy": e, "loss": 1 - e, "val_accuracy": e / 2, "val_loss": 1 - e / 2}
    if tracked:
        h.update(train_accuracy_inference=e, train_loss_inference=1 - e)
    return h


def test_config_colours_follow_the_book_concepts():
    assert figures.config_color("no dropout") == COLORS["none"]
    assert figures.config_color("Dropout(0.3) + MaxNorm(2)") == COLORS["maxnorm"]
    assert figures.config_color("input Dropout(0.2)") == COLORS["input_dropout"]
    assert figures.config_color("Dropout(0.2)") == COLORS["dropout"]


def test_reproduction_figure_draws_three_curves_per_panel_with_shared_rows():
    fig = figures.plot_reproduction({"no dropout": _hist(), "Dropout(0.4)": _hist(tracked=False)})
    axes = np.array(fig.axes).reshape(2, 2)
    assert len(axes[0, 0].lines) == 3 and len(axes[0, 1].lines) == 2
    assert axes[0, 0].get_ylim() == axes[0, 1].get_ylim()
    assert len(fig.legends) == 1
    assert fig.get_size_inches()[0] == pytest.approx(WIDTH)
    plt.close(fig)


def test_boundary_figure_shares_the_plane_and_has_one_colour_bar():
    x = np.array([[0.1, 0.2], [1.0, 0.1]], "float32")
    y = np.array([1, 0])
    fig = figures.plot_boundaries({"a": RadiusModel(), "b": RadiusModel(0.5)}, x, y, x, y)
    maps = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(maps) == 4 and len(fig.axes) == 5
    assert all(ax.get_xlim() == figures.PLANE for ax in maps)
    assert all(ax.get_legend() is None for ax in maps) and len(fig.legends) == 1
    plt.close(fig)


def test_seed_spread_and_curves_and_radius_and_grid_figures():
    frames = {"no dropout": _frame([0, 1, 2], [0.7, 0.75, 0.72]),
              "Dropout(0.4)": _frame([0, 1, 2], [0.8, 0.78, 0.79])}
    fig = figures.plot_seed_spread(frames)
    assert len(fig.axes[0].collections) == 2  # one dot cloud per configuration
    plt.close(fig)
    fig = figures.plot_seed_curves({"no dropout": [_hist(), _hist()], "Dropout(0.4)": [_hist()]})
    assert len(fig.axes) == 2
    plt.close(fig)
    r = np.array([0.8, 1.0, 0.9])
    prof = {"Dropout(0.4)": (np.linspace(0, 1.6, 5), np.linspace(1, 0, 5))}
    fig = figures.plot_input_radius(r, [1, 0, 1], r * 1.1, [1, 0, 1], prof, ring_radii=[0.8, 1.0])
    assert fig.axes[0].get_xlim() == fig.axes[1].get_xlim()
    plt.close(fig)
    summary = study.grid_summary(_grid())
    fig = figures.plot_rate_grid(summary, by_val=0.2, by_test=0.4)
    labels = fig.legends[0].get_texts()
    assert any("validation set: 0.2" in t.get_text() for t in labels)
    assert sorted(line.get_xdata()[0] for line in fig.axes[0].lines if line.get_color() == "k") \
        == [0.2, 0.4]
    assert any("test set: 0.4" in t.get_text() for t in labels)
    plt.close(fig)
