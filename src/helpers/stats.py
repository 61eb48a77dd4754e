"""The book's one way to summarise repeated runs: mean ± sd, intervals, verdicts.

Every chapter that says "over N seeds" or "larger than the seed noise" calls
these functions, so the wording and the arithmetic are the same everywhere.

Intervals are Student-t intervals over seeds. They describe where the mean of
*new* seeds would fall (the seeds are a sample from all seeds one could draw),
which a bootstrap over the seeds already drawn does not. A difference is called
"higher" or "lower" only when its 95 % t-interval excludes zero; otherwise it is
"within seed noise".
"""

from __future__ import annotations

import math

import numpy as np

VERDICTS = ("higher", "lower", "within seed noise", "needs two seeds per side")


def _values(values, name: str = "values") -> np.ndarray:
    a = np.asarray(values, dtype=float).reshape(-1)
    if a.size == 0:
        raise ValueError(f"{name} is empty: need at least one run")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or infinity: {a.tolist()}")
    return a


def _t_quantile(df: int, level: float) -> float:
    from scipy import stats as _st

    return float(_st.t.ppf(0.5 + level / 2.0, df))


def _check_level(level: float) -> float:
    level = float(level)
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    return level


def mean_sd(values) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof=1; NaN for a single run)."""
    a = _values(values)
    return float(a.mean()), float(a.std(ddof=1)) if a.size > 1 else float("nan")


def format_mean_sd(values, digits: int = 3) -> str:
    """``"0.757 ± 0.012"``; a single run shows only its value."""
    m, s = mean_sd(values)
    if math.isnan(s):
        return f"{m:.{digits}f}"
    return f"{_clean(m, digits)} ± {_clean(s, digits)}"


def _clean(x: float, digits: int) -> str:
    """Round for display without a negative zero ("-0.000" -> "0.000")."""
    text = f"{x:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def signed(x: float, digits: int = 3) -> str:
    """``"+0.027"`` / ``"-0.010"`` / ``"0.000"``: a difference for the prose."""
    text = _clean(x, digits)
    return text if text.startswith("-") or float(text) == 0 else "+" + text


def t_interval(values, level: float = 0.95) -> tuple[float, float, float]:
    """``(mean, low, high)``: the Student-t interval for the mean over seeds."""
    level = _check_level(level)
    a = _values(values)
    m = float(a.mean())
    if a.size < 2:
        return m, float("nan"), float("nan")
    half = _t_quantile(a.size - 1, level) * float(a.std(ddof=1)) / math.sqrt(a.size)
    return m, m - half, m + half


def compare(left, right, paired: bool = False, level: float = 0.95) -> dict:
    """Is ``mean(right) - mean(left)`` larger than the seed noise?

    ``paired=True`` when run i of both sides shares seed i (same data split,
    same initial weights): the interval is then a t-interval of the per-seed
    differences. Otherwise Welch's interval (unequal variances). Returns
    ``diff``, ``se``, ``low``, ``high``, ``n_left``, ``n_right`` and ``verdict``
    (one of :data:`VERDICTS`).
    """
    level = _check_level(level)
    a, b = _values(left, "left"), _values(right, "right")
    out = {"diff": float(b.mean() - a.mean()), "n_left": int(a.size), "n_right": int(b.size),
           "level": level}
    if min(a.size, b.size) < 2:
        return {**out, "se": float("nan"), "low": float("nan"), "high": float("nan"),
                "verdict": VERDICTS[3]}
    if paired:
        if a.size != b.size:
            raise ValueError(f"paired comparison needs equal run counts, got {a.size} and {b.size}")
        d = b - a
        se = float(d.std(ddof=1) / math.sqrt(d.size))
        df = d.size - 1
    else:
        va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
        se = float(math.sqrt(va + vb))
        # Welch-Satterthwaite degrees of freedom (a large number when both spreads are 0)
        denom = va**2 / (a.size - 1) + vb**2 / (b.size - 1)
        df = (va + vb) ** 2 / denom if denom > 0 else 1e9
    if se == 0.0:
        low = high = out["diff"]
    else:
        half = _t_quantile(df, level) * se
        low, high = out["diff"] - half, out["diff"] + half
    if low > 0:
        verdict = VERDICTS[0]
    elif high < 0:
        verdict = VERDICTS[1]
    else:
        verdict = VERDICTS[2]
    return {**out, "se": se, "low": float(low), "high": float(high), "verdict": verdict}


def describe_comparison(result: dict, digits: int = 3, noise: str = "seed") -> str:
    """``"+0.027 (95 % interval +0.019 to +0.035): higher"`` for the prose.

    ``noise`` names what the repeats vary ("seed", "Monte Carlo", "data-draw"):
    the neutral verdict reads "within <noise> noise".
    """
    if not isinstance(noise, str) or not noise.strip():
        raise ValueError(f"noise must name what the repeats vary (e.g. 'seed'), got {noise!r}")
    verdict = result["verdict"]
    if verdict == VERDICTS[2]:
        verdict = f"within {noise.strip()} noise"
    if math.isnan(result["se"]):
        return f"{signed(result['diff'], digits)} ({verdict})"
    pct = round(100 * result["level"])
    return (f"{signed(result['diff'], digits)} ({pct} % interval {signed(result['low'], digits)} "
            f"to {signed(result['high'], digits)}): {verdict}")
