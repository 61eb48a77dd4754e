"""Tables and glue values of chapters 1 and 2 (helpers.studies.theory)."""

import numpy as np
import pytest

from helpers.studies import theory as study
from helpers.theory import binomial_bound


def test_call_modes_table_marks_dropout_active_only_for_a_positive_loss():
    df = study.call_modes_table({"model.fit(x, y)": 24.8, "model.predict(x)": 0.0})
    assert df["dropout"].tolist() == ["active", "off"]
    assert df["call"].tolist() == ["model.fit(x, y)", "model.predict(x)"]
    with pytest.raises(ValueError):
        study.call_modes_table({"model(x)": float("nan")})
    with pytest.raises(ValueError):
        study.call_modes_table({})


def test_overfitting_summary_finds_the_lowest_test_loss():
    h = {"val_loss": [0.7, 0.5, 0.6, 0.9], "accuracy": [0.5, 0.8, 0.9, 1.0],
         "val_accuracy": [0.5, 0.7, 0.7, 0.68]}
    s = study.overfitting_summary(h)
    assert s == {"best_epoch": 2, "best_val_loss": "0.500", "final_val_loss": "0.900",
                 "peak_test_acc": "0.700",
                 "final_train_acc": "1.000", "final_test_acc": "0.680"}


def _inverted(x, rate, rng):
    mask = rng.random(x.shape) >= rate
    return np.where(mask, x / (1 - rate), 0.0)


def test_dropout_summary_and_agreement_accept_inverted_dropout():
    rng = np.random.default_rng(0)
    x = rng.uniform(0.5, 1.5, (1, 20_000))
    rows = [study.dropout_summary("ok", x, _inverted(x, r, rng), r) for r in (0.2, 0.5)]
    assert rows[0]["1 / (1 - rate)"] == pytest.approx(1.25)
    assert rows[0]["survivor scale (min)"] == pytest.approx(1.25)
    assert rows[0]["99.9 % bound"] == binomial_bound(0.2, 20_000)
    assert study.agreement(rows)["ok"]
    assert study.dropout_table(rows)["rate"].tolist() == ["0.2", "0.5"]


@pytest.mark.parametrize("broken", ["unscaled", "keeps_rate", "biased_mean"])
def test_agreement_rejects_a_wrong_dropout(broken):
    rng = np.random.default_rng(1)
    x = rng.uniform(0.5, 1.5, (1, 20_000))
    rate = 0.2
    if broken == "unscaled":
        out = np.where(rng.random(x.shape) >= rate, x, 0.0)
    elif broken == "keeps_rate":  # keeps with probability `rate` instead of 1 - rate
        out = np.where(rng.random(x.shape) < rate, x / (1 - rate), 0.0)
    else:  # right fraction and scale, but drops the large inputs first
        out = np.where(x > np.quantile(x, 1 - rate), 0.0, x / (1 - rate))
    assert not study.agreement([study.dropout_summary("bad", x, out, rate)])["ok"]


def test_agreement_at_rate_zero_needs_the_identity():
    x = np.random.default_rng(2).uniform(0.5, 1.5, (1, 1000))
    assert study.agreement([study.dropout_summary("id", x, x, 0.0)])["ok"]
    half = x.copy()
    half[0, 0] = 0.0
    assert not study.agreement([study.dropout_summary("bad", x, half, 0.0)])["ok"]


def test_dropout_summary_refuses_inputs_with_zeros():
    with pytest.raises(ValueError, match="zeros"):
        study.dropout_summary("x", np.array([0.0, 1.0]), np.array([0.0, 1.0]), 0.5)


def test_scaling_summary_reports_survivor_values_and_mean():
    out = np.array([0.0, 1.25, 1.25, 1.25, 0.0])
    row = study.scaling_summary("Dropout", True, out)
    assert row["mode"] == "training" and row["survivors become"] == "1.250"
    assert row["dropped fraction"] == pytest.approx(0.4)
    assert row["mean output"] == pytest.approx(0.75)
    assert study.scaling_summary("X", False, np.full(4, 0.6))["survivors become"] == "0.600"


def test_rate_trap_table_converts_retain_probability_to_rate():
    df = study.rate_trap_table(((0.8, "inputs"), (0.75, "conv")))
    assert df["Keras rate = 1 - p"].tolist() == pytest.approx([0.2, 0.25])
    assert df["Keras layer"].tolist() == ["Dropout(0.2)", "Dropout(0.25)"]

