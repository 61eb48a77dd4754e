"""The Keras-API chapter's helpers: running old idioms, the LSTM mask log,
the noise-layer statistics, the results table and the mask figures."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from helpers.plotting.api import plot_channel_masks, plot_sequence_masks  # noqa: E402
from helpers.plotting.style import COLORS  # noqa: E402
from helpers.studies import api  # noqa: E402


# ------------------------------------------------------------------ run_code
def test_run_code_reports_a_value_a_warning_and_an_exception():
    ns = {"np": np}
    assert api.run_code("1 + 1", dict(ns)) == {"kind": "runs", "phrase": "runs",
                                               "text": "returns 2"}
    warned = api.run_code("import warnings; warnings.warn('old stuff'); 'x'", dict(ns))
    assert warned["kind"] == "warns" and warned["phrase"] == "runs with a UserWarning"
    assert warned["text"] == "returns 'x', with a UserWarning: old stuff"
    failed = api.run_code("{}['acc']", dict(ns))
    assert failed == {"kind": "fails", "phrase": "raises KeyError", "text": "raises KeyError: 'acc'"}


def test_run_code_runs_statements_and_keeps_namespaces_apart():
    ns = {}
    assert api.run_code("y = 3", ns)["text"] == "runs"
    assert ns["y"] == 3
    assert api.run_code("import math", {})["text"] == "runs"
    # a failure in the middle stops the code: the last line is not evaluated
    assert api.run_code("1 / 0\n2", {})["phrase"] == "raises ZeroDivisionError"


def test_run_code_first_warning_counts_and_long_messages_are_cut():
    code = "import warnings; warnings.warn('a' * 500, DeprecationWarning); warnings.warn('b')"
    out = api.run_code(code, {})
    assert out["phrase"] == "runs with a DeprecationWarning"
    assert out["text"].endswith("…") and len(out["text"]) < 260


@pytest.mark.parametrize("value,text", [
    (None, "runs"),
    (0.05, "returns 0.05"),
    (["acc", "loss"], "returns ['acc', 'loss']"),
    (np.zeros((8, 3)), "returns an array of shape (8, 3)"),
    (np.float32(0.5), "returns 0.5"),
    (np.array(2.0), "returns 2.0"),
    (object(), "returns an instance of object"),
])
def test_describe_value(value, text):
    assert api.describe_value(value) == text


def test_run_idioms_one_row_per_pair_with_hidden_columns():
    idioms = {"ok": ("1", "2"), "bad": ("undefined_name", "3")}
    df = api.run_idioms(idioms, {}, version="9.9")
    assert list(df["key"]) == ["ok", "bad"]
    assert list(df["old_kind"]) == ["runs", "fails"] and list(df["new_kind"]) == ["runs", "runs"]
    assert df.loc[1, "on Keras 9.9"] == "raises NameError: name 'undefined_name' is not defined"
    shown = api.idiom_table(df)
    assert list(shown.columns) == ["old code", "on Keras 9.9", "current code", "current code does"]


def test_run_idioms_does_not_leak_names_between_pieces():
    df = api.run_idioms({"a": ("z = 1", "z")}, {}, version="x")
    assert df.loc[0, "new_kind"] == "fails"  # z from the old code is not visible


def test_keras_idioms_behave_as_the_chapter_says():
    import keras
    from keras import layers

    ns = {"keras": keras, "layers": layers, "np": np}
    assert api.run_code("keras.constraints.max_norm(3)", dict(ns))["text"] == \
        "returns an instance of MaxNorm"
    assert api.run_code("keras.constraints.maxnorm(3)", dict(ns))["phrase"] == "raises AttributeError"
    assert api.run_code("layers.Dense(4, input_dim=3)", dict(ns))["phrase"] == \
        "runs with a UserWarning"
    assert api.run_code("keras.optimizers.Adam(lr=0.01)", dict(ns))["phrase"] == "raises ValueError"
    decay = "keras.optimizers.schedules.InverseTimeDecay(0.1, 1, 1e-4)(10_000)"
    assert api.run_code(decay, dict(ns))["text"] == "returns 0.05"


# ------------------------------------------------------------ LSTM mask log
M1, M2 = np.array([[2.0, 0.0, 2.0]]), np.array([[0.0, 2.0, 2.0]])


def _log(second=M2, reset_first=True):
    events = [("call 1 starts", None), ("get before step 1", M1), ("get at step 1", M1),
              ("get at step 2", M1)]
    events += [("reset_dropout_mask()", None)] if reset_first else []
    events += [("call 1 returns", None), ("call 2 starts", None), ("get before step 1", second),
               ("get at step 1", second), ("reset_dropout_mask()", None), ("call 2 returns", None)]
    return events


def test_mask_log_facts_of_a_good_log():
    facts = api.mask_log_facts(_log())
    assert facts == {"calls": 2, "masks per call": [3, 2], "one mask within each call": True,
                     "new mask in each later call": True, "reset before each call returns": True}


def test_mask_log_facts_see_a_reused_mask_a_changed_mask_and_a_late_reset():
    assert api.mask_log_facts(_log(second=M1))["new mask in each later call"] is False
    assert api.mask_log_facts(_log(reset_first=False))["reset before each call returns"] is False
    changed = _log()
    changed[3] = ("get at step 2", M2)
    assert api.mask_log_facts(changed)["one mask within each call"] is False


def test_mask_log_facts_refuse_a_log_without_calls_or_masks():
    with pytest.raises(ValueError, match="before any call"):
        api.mask_log_facts([("get at step 1", M1)])
    with pytest.raises(ValueError, match="at least one"):
        api.mask_log_facts([("call 1 starts", None), ("call 1 returns", None)])


def test_mask_log_table_shows_first_sample_as_bits():
    df = api.mask_log_table([("call 1 starts", None), ("get", np.array([[2.0, 0.0], [0.0, 0.0]]))])
    assert list(df.iloc[:, 1]) == ["", "1 0"]
    assert list(df["event"]) == ["call 1 starts", "get"]


def test_the_real_lstm_reuses_its_mask_and_resets_at_the_end_of_a_call():
    """What the chapter demonstrates, on the installed Keras."""
    import keras
    from keras import layers

    class Logged(layers.LSTMCell):
        def __init__(self, *a, **k):
            super().__init__(*a, **k)
            self.events = []

        def get_dropout_mask(self, step_input):
            mask = super().get_dropout_mask(step_input)
            self.events.append(("get", keras.ops.convert_to_numpy(mask)))
            return mask

        def reset_dropout_mask(self):
            super().reset_dropout_mask()
            self.events.append(("reset", None))

    keras.utils.set_random_seed(0)
    cell = Logged(2, dropout=0.5)
    rnn = layers.RNN(cell, unroll=True)
    x = np.ones((3, 4, 8), "float32")
    for i in (1, 2):
        cell.events.append((f"call {i} starts", None))
        rnn(x, training=True)
        cell.events.append((f"call {i} returns", None))
    facts = api.mask_log_facts(list(cell.events))
    assert facts["masks per call"] == [5, 5]  # prepared once, then one per step
    assert facts["one mask within each call"] and facts["new mask in each later call"]
    assert facts["reset before each call returns"]


# ------------------------------------------------------------- noise + table
def test_noise_stats_of_dropout_on_ones():
    import keras

    row = api.noise_stats("Dropout(0.5)", keras.layers.Dropout(0.5, seed=1),
                          np.ones((1, 100_000)), "ones")
    assert row["mean in"] == 1.0 and row["sd in"] == 0.0
    assert row["sd out"] == pytest.approx(1.0, abs=0.02)  # sqrt(0.5 / 0.5)
    assert row["identity at inference"] == "yes"


def test_noise_stats_sees_a_layer_that_is_not_the_identity_at_inference():
    class Doubler:
        def __call__(self, x, training=False):
            return 2 * x

    row = api.noise_stats("x2", Doubler(), np.ones((1, 4)), "ones")
    assert row["identity at inference"] == "no" and row["mean out"] == 2.0


def test_results_table_keeps_order_and_refuses_nothing():
    df = api.results_table({"b": 0.5, "a": np.float32(0.75)})
    assert list(df["model"]) == ["b", "a"] and df["test accuracy"].tolist() == [0.5, 0.75]
    with pytest.raises(ValueError):
        api.results_table({})


# ------------------------------------------------------------------ figures
def test_sequence_masks_share_axes_and_colour_dropped_entries():
    a = np.array([[0.0, 2.0], [2.0, 2.0]])
    fig = plot_sequence_masks([("left", a), ("right", a[::-1])])
    left, right = fig.axes
    assert left.get_xlim() == right.get_xlim() and left.get_ylim() == right.get_ylim()
    img = left.get_images()[0]
    rgba = img.cmap(img.norm(img.get_array()))
    assert matplotlib.colors.to_hex(rgba[0, 0]) == COLORS["dropout"]   # dropped
    assert matplotlib.colors.to_hex(rgba[0, 1]) == "#ffffff"           # kept
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["kept", "dropped"]
    plt.close(fig)


def test_channel_masks_one_panel_per_channel_and_row():
    out = np.ones((6, 6, 4))
    fig = plot_channel_masks([("Dropout", out), ("Spatial", out)])
    assert len(fig.axes) == 8
    plt.close(fig)


@pytest.mark.parametrize("bad", [
    lambda: plot_sequence_masks([("a", np.ones((2, 2))), ("b", np.ones((3, 2)))]),
    lambda: plot_channel_masks([("a", np.ones((2, 2, 1))), ("b", np.ones((2, 2, 2)))]),
])
def test_figures_refuse_panels_of_different_shapes(bad):
    with pytest.raises(ValueError, match="one shape"):
        bad()
    plt.close("all")
