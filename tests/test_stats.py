"""helpers.stats: the book's one way to state mean ± sd, intervals and verdicts."""

import math

import numpy as np
import pytest
from scipy import stats as st

from helpers import stats


def test_mean_sd_and_format():
    assert stats.mean_sd([1.0, 2.0, 3.0]) == (2.0, 1.0)
    m, s = stats.mean_sd([0.5])
    assert m == 0.5 and math.isnan(s)
    assert stats.format_mean_sd([0.75, 0.76, 0.77]) == "0.760 ± 0.010"
    assert stats.format_mean_sd([0.75]) == "0.750"
    assert stats.format_mean_sd([-0.0001, 0.0001], digits=3) == "0.000 ± 0.000"  # no "-0.000"


def test_signed():
    assert stats.signed(0.0271) == "+0.027"
    assert stats.signed(-0.0104) == "-0.010"
    assert stats.signed(-0.0001) == "0.000"


def test_t_interval_matches_scipy():
    x = [0.71, 0.74, 0.69, 0.73, 0.72]
    m, lo, hi = stats.t_interval(x)
    ref = st.t.interval(0.95, len(x) - 1, loc=np.mean(x), scale=st.sem(x))
    assert m == pytest.approx(np.mean(x)) and (lo, hi) == pytest.approx(ref)
    assert math.isnan(stats.t_interval([1.0])[1])


def test_compare_welch_and_paired():
    a, b = [0.60, 0.62, 0.61], [0.70, 0.71, 0.69]
    r = stats.compare(a, b)
    assert r["verdict"] == "higher" and r["diff"] == pytest.approx(0.09)
    ref = st.ttest_ind(b, a, equal_var=False).confidence_interval(0.95)
    assert (r["low"], r["high"]) == pytest.approx((ref.low, ref.high))
    assert stats.compare(b, a)["verdict"] == "lower"
    p = stats.compare(a, b, paired=True)
    ref = st.ttest_rel(b, a).confidence_interval(0.95)
    assert (p["low"], p["high"]) == pytest.approx((ref.low, ref.high))
    noisy = stats.compare([0.60, 0.70, 0.65], [0.62, 0.71, 0.64])
    assert noisy["verdict"] == "within seed noise" and noisy["low"] < 0 < noisy["high"]
    assert stats.compare([0.6], [0.7, 0.8])["verdict"] == "needs two seeds per side"


def test_describe_comparison():
    r = stats.compare([0.60, 0.62, 0.61], [0.70, 0.71, 0.69])
    text = stats.describe_comparison(r)
    assert text.startswith("+0.090 (95 % interval +0.0") and text.endswith(": higher")


@pytest.mark.parametrize("bad", [[], [float("nan"), 1.0], [1.0, float("inf")]])
def test_bad_values_are_refused(bad):
    with pytest.raises(ValueError, match="empty|NaN"):
        stats.mean_sd(bad)


def test_bad_level_and_unequal_pairs():
    with pytest.raises(ValueError, match="level"):
        stats.t_interval([1.0, 2.0], level=1.5)
    with pytest.raises(ValueError, match="paired"):
        stats.compare([1.0, 2.0], [1.0, 2.0, 3.0], paired=True)


def test_describe_comparison_names_the_noise():
    r = stats.compare([0.60, 0.70, 0.65], [0.62, 0.71, 0.64], paired=True)
    assert stats.describe_comparison(r).endswith("within seed noise")
    assert stats.describe_comparison(r, noise="data-draw").endswith("within data-draw noise")
    clear = stats.compare([0.60, 0.62, 0.61], [0.70, 0.71, 0.69])
    assert stats.describe_comparison(clear, noise="data-draw").endswith(": higher")
    with pytest.raises(ValueError, match="noise"):
        stats.describe_comparison(r, noise=" ")
