"""The CIFAR-10 chapter's bookkeeping and figures work for any subset of recorded runs.

Result dicts here are synthetic (the shape ``helpers.experiments`` writes), so
every branch is exercised: configurations missing, one seed, unequal seeds,
curves that turn up and curves that keep falling.
"""

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from helpers.experiments import summarize_results  # noqa: E402
from helpers.models import CIFAR_CONFIGS  # noqa: E402
from helpers.plotting import cifar as cplot  # noqa: E402
from helpers.plotting.style import CIFAR_COLORS  # noqa: E402
from helpers.studies import cifar as study  # noqa: E402

EPOCHS = 10


def _history(best_epoch, rise=0.5, gap=0.1, floor=1.0):
    """val_loss falls to ``floor`` at ``best_epoch`` (1-based) and rises by ``rise`` after."""
    e = np.arange(1, EPOCHS + 1)
    val_loss = np.where(e <= best_epoch, floor + (best_epoch - e) * 0.1,
                        floor + rise * (e - best_epoch) / max(EPOCHS - best_epoch, 1))
    val_acc = np.linspace(0.3, 0.6, EPOCHS)
    return {"loss": list(np.linspace(2.0, 0.5, EPOCHS)), "val_loss": list(val_loss),
            "accuracy": list(val_acc + gap), "val_accuracy": list(val_acc)}


def _result(config, seed, acc, best_epoch=EPOCHS, rise=0.0, gap=0.1, source="cifar10-jpeg.npz",
            seconds=20.0, device="CPU: test (2 cores)"):
    return {"name": f"{config}-seed{seed}", "config": config, "seed": seed, "test_accuracy": acc,
            "history": _history(best_epoch, rise, gap),
            "provenance": {"dataset": {"source": source, "sha256": "x"},
                           "device": {"device": device},
                           "wall_seconds_per_epoch": [seconds] * EPOCHS}}


@pytest.fixture
def recorded():
    """(a) overfits, (b) and (c) fine, (d) one seed, (e) not recorded."""
    rs = [_result("a", s, 0.63 + 0.01 * s, best_epoch=3, rise=0.6, gap=0.3) for s in range(3)]
    rs += [_result("b", s, 0.72 + 0.001 * s) for s in range(3)]
    rs += [_result("c", s, 0.719 + 0.004 * s, best_epoch=6, rise=0.1) for s in range(3)]
    rs += [_result("d", 0, 0.56, gap=-0.02)]
    return {r["name"]: r for r in rs}


@pytest.fixture
def summary(recorded):
    return summarize_results(recorded.values())


def test_missing_runs_lists_every_planned_run_not_recorded(recorded):
    missing = study.missing_runs(recorded)
    assert missing == ["d-seed1", "d-seed2", "e-seed0", "e-seed1", "e-seed2"]
    assert len(study.planned_runs()) == 3 * len(CIFAR_CONFIGS)
    assert study.missing_runs(study.planned_runs()) == []


def test_status_text_names_missing_configurations_and_runs(recorded, summary):
    text = study.status_text(summary, recorded)
    lines = text.splitlines()
    assert lines[0] == f"{CIFAR_CONFIGS['a']['label']}: 3 seeds, test accuracy 0.640 ± 0.010"
    assert lines[3] == f"{CIFAR_CONFIGS['d']['label']}: 1 seed, test accuracy 0.560"
    assert lines[4] == f"{CIFAR_CONFIGS['e']['label']}: not recorded yet"
    assert lines[5].startswith("Not recorded yet (5 of 15 planned runs): d-seed1")
    full = {f"{c}-seed{s}" for c in CIFAR_CONFIGS for s in study.SEEDS}
    assert study.status_text(summary, full).endswith("All 15 planned runs are recorded.")


def test_summary_frame_has_a_row_per_configuration(recorded, summary):
    df = study.summary_frame(summary, recorded)
    assert list(df["configuration"]) == [v["label"] for v in CIFAR_CONFIGS.values()]
    row = df.set_index("configuration").loc[CIFAR_CONFIGS["e"]["label"]]
    assert row["seeds"] == 0 and row["test accuracy"] == "not recorded yet"
    assert math.isnan(row["lowest val loss at epoch"])
    a = df.iloc[0]
    assert a["seeds"] == 3 and a["lowest val loss at epoch"] == 3.0
    assert a["s per epoch"] == pytest.approx(20.0)
    low, high = (float(v) for v in a["95 % interval"].split(" to "))
    assert low < 0.64 < high  # mean 0.64; t-interval with 2 degrees of freedom
    assert df.iloc[3]["95 % interval"] == "–"  # one seed: no interval
    assert df["seeds"].dtype.kind == "i"


def test_effect_text_verdicts_and_missing_sides(summary):
    ab = study.effect_text(summary, "a", "b")
    assert ab.startswith("+0.081") and "higher" in ab and "paired by seed" in ab
    assert "within seed noise" in study.effect_text(summary, "c", "b")
    db = study.effect_text(summary, "d", "b")
    assert "needs two seeds per side" in db and "1 seed of (d), 3 of (b)" in db
    assert study.effect_text(summary, "d", "e") == "not measured yet ((e) has no recorded run)"
    both = study.effect_text({}, "a", "e")
    assert both == "not measured yet ((a) and (e) have no recorded run)"


def test_optimizer_text_reads_right_with_and_without_e(recorded, summary):
    without = study.optimizer_text(summary)
    assert "(e) has no recorded run yet" in without
    more = dict(recorded)
    for s in range(3):
        more[f"e-seed{s}"] = _result("e", s, 0.70 + 0.002 * s)
        more[f"d-seed{s}"] = _result("d", s, 0.56 + 0.002 * s)
    text = study.optimizer_text(summarize_results(more.values()))
    assert text.startswith("Configuration (e) reaches a test accuracy of 0.702 ± 0.002")
    assert "(e) − (d) is +0.140" in text and "(b) − (e) is +0.019" in text
    assert text.count("higher") == 2


def test_loss_shape_text_distinguishes_falling_from_turning_up():
    assert study.loss_shape_text(55, 55, 0.0).startswith("keeps falling to the end")
    turned = study.loss_shape_text(6, 55, 0.66, averaged=True)
    assert turned.startswith("is lowest at epoch 6 of 55 (mean over seeds), then turns up")
    assert turned.endswith("0.66 above that minimum")
    assert study.loss_shape_text(54, 55, 0.01, averaged=True) == (
        "keeps falling to the end (lowest at epoch 54 of 55, mean over seeds)")
    assert study.recorded_shape_text({}, "e").startswith("is not known yet")


def test_training_state_text(summary):
    assert "under-trains rather than overfits" in study.training_state_text(summary, "d")
    assert "begun to overfit" in study.training_state_text(summary, "a")
    assert "not known yet" in study.training_state_text(summary, "e")


def test_range_and_gap_text(summary):
    assert study.range_text(summary) == ("inside it: (b) and (c); outside it: (a) at 0.640 "
                                         "and (d) at 0.560")
    assert study.range_text({}) == "no configuration is recorded yet"
    assert study.gap_text(summary, "a") == "0.30"
    assert study.gap_text(summary, "e").startswith("unknown")


def test_dataset_sources_and_devices(recorded):
    assert study.dataset_sources(recorded) == "cifar10-jpeg.npz (all 10 runs)"
    mixed = [*recorded.values(), _result("e", 0, 0.7, source="keras.datasets.cifar10.load_data()")]
    assert study.dataset_sources(mixed) == ("cifar10-jpeg.npz (10 runs); "
                                            "keras.datasets.cifar10.load_data() (1 run)")
    assert study.devices(recorded) == "CPU: test (2 cores)"


def test_live_summary_and_outcome():
    over, good = _history(3, rise=0.9, gap=0.4), _history(EPOCHS, gap=0.05)
    s = study.live_summary(over)
    assert s["best_epoch"] == 3 and s["rise"] == pytest.approx(0.9)
    assert study.live_shape_text(good).startswith("keeps falling")
    good["val_accuracy"][-1] = 0.7
    text = study.live_outcome_text({"a": over, "b": good})
    assert "validation loss of (b) is lower than that of (a) (1.00 against 1.90)" in text
    assert "validation accuracy is higher than that of (a) (0.700 against 0.600)" in text


def test_unknown_configuration_is_refused():
    with pytest.raises(ValueError, match="unknown configuration"):
        study.tag("z")
    with pytest.raises(ValueError, match="unknown configurations"):
        cplot.plot_configs({}, ["z"])


# --------------------------------------------------------------------------- figures
def _histories(recorded):
    out = {}
    for r in recorded.values():
        out.setdefault(r["config"], []).append(r["history"])
    return out


def test_plot_configs_colours_missing_note_and_shared_limits(recorded):
    hist = _histories(recorded)
    fig = cplot.plot_configs(hist, ["d", "e", "b"])
    assert "(e): not recorded yet" in fig._suptitle.get_text()
    loss_ax = fig.axes[0]
    colours = {matplotlib.colors.to_hex(line.get_color()) for line in loss_ax.get_lines()}
    assert colours == {CIFAR_COLORS["d"], CIFAR_COLORS["b"]}
    other = cplot.plot_configs(hist, ["a", "b"])
    assert fig.axes[0].get_ylim() == other.axes[0].get_ylim()  # same dictionary, same axes
    # the dot for (a) sits at the epoch of lowest mean validation loss
    dots = [ln for ln in other.axes[0].get_lines() if ln.get_marker() == "o"]
    assert sorted(d.get_xdata()[0] for d in dots) == [3, EPOCHS]
    labels = [t.get_text() for t in other.legends[0].get_texts()]
    assert labels == [CIFAR_CONFIGS["a"]["label"] + " (3 seeds)",
                      CIFAR_CONFIGS["b"]["label"] + " (3 seeds)"]
    plt.close("all")


def test_plot_test_accuracies_marks_unrecorded_rows(summary):
    fig = cplot.plot_test_accuracies(summary, bounds=study.REFERENCE_RANGE)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts] == ["not recorded yet"]
    assert len(ax.get_yticklabels()) == len(CIFAR_CONFIGS)
    lo, hi = ax.get_xlim()
    assert lo < 0.56 and hi > 0.75
    plt.close(fig)


def test_plot_architecture_draws_one_box_per_layer():
    from helpers.models import cifar_convnet

    model = cifar_convnet()
    fig = cplot.plot_architecture(model)
    texts = [t.get_text() for t in fig.axes[0].texts if t.get_text()]  # not arrows
    assert len(texts) == len(model.layers)
    assert texts[0] == "Input\n32×32×3" and "rate 0.5" in texts[3]
    assert sum("max-norm 2" in t for t in texts) == 3
    plt.close(fig)


def test_plot_sample_images_grid():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, (40, 32, 32, 3), dtype=np.uint8)
    y = np.repeat(np.arange(10), 4)
    fig = cplot.plot_sample_images(x, y, [f"class {i}" for i in range(10)], per_class=2)
    assert len(fig.axes) == 20
    assert [fig.axes[i].get_title() for i in range(10)] == [f"class {i}" for i in range(10)]
    plt.close(fig)
