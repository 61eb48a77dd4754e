"""The pitfalls chapter's measurements, repeated draws and tables (chapter 8).

What the chapter measures but does not teach: accuracy in either mode,
the radial profile of a circles classifier, the repeated draws of the
validation and test sets behind "choosing the rate on the test set", the
BatchNorm variance ratio, Monte Carlo passes one input at a time, and the
short outcome strings of the Keras 2 idioms. Every mean ± sd and every
verdict comes from :mod:`helpers.stats`.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from .. import stats
from .._validate import check_nonnegative_int, check_positive_int

#: ``make_circles(factor=0.8)``: class 0 on the outer ring (radius 1), class 1
#: on the inner ring (radius 0.8), before the noise is added.
RING_RADII = {0: 1.0, 1: 0.8}


# --------------------------------------------------------------- accuracy
def predictions(model, x, training: bool = False) -> np.ndarray:
    """Predicted classes: ``p > 0.5`` for one sigmoid output, else the argmax."""
    p = np.asarray(model(np.asarray(x, "float32"), training=training))
    return (p.reshape(-1) > 0.5).astype(int) if p.shape[-1] == 1 else p.argmax(-1)


def scores(model, x, y) -> dict:
    """Accuracy and mean cross-entropy of a softmax classifier on ``(x, y)``
    (integer labels) in inference mode, as ``model.evaluate`` reports them."""
    p = np.asarray(model(np.asarray(x, "float32"), training=False), dtype=float)
    y = np.asarray(y).reshape(-1).astype(int)
    picked = np.clip(p[np.arange(len(y)), y], 1e-7, 1.0)
    return {"accuracy": float(np.mean(p.argmax(-1) == y)), "loss": float(-np.mean(np.log(picked)))}


def accuracy(model, x, y, training: bool = False) -> float:
    """Accuracy of ``model`` on ``(x, y)``; ``training=False`` is what
    ``model.evaluate`` measures (dropout off)."""
    y = np.asarray(y).reshape(-1)
    return float(np.mean(predictions(model, x, training) == y.astype(int)))


# --------------------------------------------------------------- input dropout
def radius(x) -> np.ndarray:
    """Distance of each 2-D point from the origin."""
    x = np.asarray(x, dtype=float)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"radius needs points of shape (n, 2), got {x.shape}")
    return np.sqrt((x**2).sum(1))


def mask_counts(seen, x) -> dict:
    """Shares of the rows of ``seen`` (inputs after dropout, row i from
    ``x[i % len(x)]``) with both, one or no coordinates kept."""
    seen = np.asarray(seen, dtype=float)
    x = np.asarray(x, dtype=float)
    if len(seen) % len(x):
        raise ValueError("seen must hold whole repeats of x")
    src = np.tile(x, (len(seen) // len(x), 1))
    kept = ((seen != 0) | (src == 0)).sum(1)
    return {k: float(np.mean(kept == k)) for k in (2, 1, 0)}


def radial_profile(model, radii, n_angles: int = 72) -> np.ndarray:
    """P(class 1) in inference mode, averaged over ``n_angles`` directions, at
    each radius in ``radii``: how the classifier reads distance from the
    centre."""
    n_angles = check_positive_int(n_angles, "n_angles")
    radii = np.asarray(radii, dtype="float32").reshape(-1)
    angles = np.linspace(0, 2 * np.pi, n_angles, endpoint=False)
    pts = np.stack([np.outer(radii, np.cos(angles)), np.outer(radii, np.sin(angles))], -1)
    p = np.asarray(model(pts.reshape(-1, 2).astype("float32"), training=False))
    return p.reshape(len(radii), n_angles).mean(1)


def crossing_radius(radii, profile, level: float = 0.5) -> float:
    """The largest radius at which ``profile`` falls from >= ``level`` to below
    it (linear interpolation): the decision boundary between the inner
    (class 1) and the outer ring. NaN if the profile never crosses."""
    r = np.asarray(radii, dtype=float).reshape(-1)
    p = np.asarray(profile, dtype=float).reshape(-1)
    if r.shape != p.shape or r.size < 2:
        raise ValueError("radii and profile must be 1-D arrays of the same length >= 2")
    down = np.nonzero((p[:-1] >= level) & (p[1:] < level))[0]
    if down.size == 0:
        return float("nan")
    i = down[-1]
    return float(r[i] + (p[i] - level) / (p[i] - p[i + 1]) * (r[i + 1] - r[i]))


def seed_table(values: dict, digits: int = 3) -> pd.DataFrame:
    """One row per configuration: ``mean ± sd`` over seeds, min and max."""
    rows = []
    for name, v in values.items():
        a = np.asarray(v, dtype=float)
        rows.append({"configuration": name, "seeds": int(a.size),
                     "mean ± sd": stats.format_mean_sd(a, digits),
                     "min": float(a.min()), "max": float(a.max())})
    return pd.DataFrame(rows)


# --------------------------------------------------------------- selection
def selection_study(correct, n_val: int, n_test: int, draws: int, seed: int = 0) -> pd.DataFrame:
    """Choose a candidate on a validation set or on the test set, many times.

    ``correct`` is a boolean array (candidates, pool points): whether each
    trained candidate classifies each held-out point correctly. Every draw
    takes ``n_val`` validation and ``n_test`` test points from the pool
    without replacement; the candidates' *true* accuracy is measured on the
    rest of the pool. Two strategies pick the candidate with the best
    accuracy on the test set or on the validation set (ties: the first
    candidate) and report its test accuracy.

    Returns one row per draw: for each strategy (``test``, ``val``) the chosen
    index, the reported test accuracy and the true accuracy of that choice.
    """
    correct = np.asarray(correct, dtype=bool)
    if correct.ndim != 2 or correct.shape[0] < 1:
        raise ValueError(f"correct must be (candidates, points), got shape {correct.shape}")
    n_val, n_test = check_positive_int(n_val, "n_val"), check_positive_int(n_test, "n_test")
    draws = check_positive_int(draws, "draws")
    n = correct.shape[1]
    if n_val + n_test >= n:
        raise ValueError(f"the pool ({n} points) must be larger than n_val + n_test")
    rng = np.random.default_rng(check_nonnegative_int(seed, "seed"))
    totals = correct.sum(1)
    rows = []
    for d in range(draws):
        idx = rng.permutation(n)[: n_val + n_test]
        val, test = idx[:n_val], idx[n_val:]
        val_acc = correct[:, val].mean(1)
        test_acc = correct[:, test].mean(1)
        true_acc = (totals - correct[:, idx].sum(1)) / (n - n_val - n_test)
        row = {"draw": d}
        for name, score in (("test", test_acc), ("val", val_acc)):
            k = int(np.argmax(score))
            row.update({f"chosen_by_{name}": k, f"reported_by_{name}": float(test_acc[k]),
                        f"true_by_{name}": float(true_acc[k])})
        rows.append(row)
    return pd.DataFrame(rows)


STRATEGIES = {"test": "chosen on the test set", "val": "chosen on a validation set"}


def selection_summary(draws: pd.DataFrame, digits: int = 3):
    """Reported vs true accuracy per strategy, with the paired comparison
    ``reported - true`` over the draws. Returns ``(table, comparisons)``."""
    rows, comps = [], {}
    for key, label in STRATEGIES.items():
        rep, true = draws[f"reported_by_{key}"], draws[f"true_by_{key}"]
        comps[key] = stats.compare(true, rep, paired=True)
        rows.append({"strategy": label, "reported test accuracy": stats.format_mean_sd(rep, digits),
                     "true accuracy": stats.format_mean_sd(true, digits),
                     "reported − true": stats.describe_comparison(comps[key], digits, noise="data-draw")})
    return pd.DataFrame(rows), comps


# --------------------------------------------------------------- BatchNorm
def bn_inputs(model, layer: str, x) -> np.ndarray:
    """What the BatchNorm layer ``layer`` receives for ``x`` in inference mode,
    flattened to (values, channels)."""
    import keras

    bn = model.get_layer(layer)
    if not isinstance(bn, keras.layers.BatchNormalization):
        raise ValueError(f"layer {layer!r} is a {type(bn).__name__}, not BatchNormalization")
    feed = keras.Model(model.inputs[0], bn.input)
    seen = np.asarray(feed(np.asarray(x, "float32"), training=False), dtype=float)
    return seen.reshape(-1, seen.shape[-1])


def bn_variance_ratio(model, layer: str, x) -> np.ndarray:
    """Per channel: the BatchNorm layer's moving variance divided by the
    variance of the layer's inputs on ``x`` in inference mode.

    1 means the stored statistic matches what the layer sees at inference.
    Channels whose inputs are constant at inference (dead ReLU units) give NaN.
    """
    var = bn_inputs(model, layer, x).var(0)
    moving = np.asarray(model.get_layer(layer).moving_variance, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(var > 1e-12, moving / var, np.nan)


def shift_theory(mean, var, rate: float):
    """The variance shift Dropout(rate) causes in a following BatchNorm for an
    input with this mean and variance: Var(training) / Var(inference) =
    ((var + mean²) / (1 - rate) - mean²) / var."""
    mean, var = np.asarray(mean, dtype=float), np.asarray(var, dtype=float)
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"rate must be in [0, 1), got {rate!r}")
    return ((var + mean**2) / (1.0 - rate) - mean**2) / var


# --------------------------------------------------------------- MC dropout
def passes_one_at_a_time(model, x, passes: int, training=None) -> np.ndarray:
    """``passes`` predictions of every row of ``x``, each made alone (a batch
    of one), as ``model(x[i:i+1], training=training)``. Shape (passes, n, ...)."""
    passes = check_positive_int(passes, "passes")
    x = np.asarray(x, dtype="float32")
    kw = {} if training is None else {"training": training}
    return np.stack([np.concatenate([np.asarray(model(x[i:i + 1], **kw)) for i in range(len(x))])
                     for _ in range(passes)])


def moving_variance(model, layer: str) -> np.ndarray:
    """A copy of a BatchNorm layer's moving variance."""
    return np.array(model.get_layer(layer).moving_variance.numpy(), dtype=float)


def mc_table(recipes: dict, before: dict) -> pd.DataFrame:
    """The MC recipes side by side. ``recipes`` maps a name to ``(MC accuracy,
    stored variance after / before per channel, scores afterwards)``;
    ``before`` holds the trained network's scores before any sampling.

    The variance ratio is the median over channels with 3 significant digits
    (it can fall by orders of magnitude); the scores are test accuracy and
    cross-entropy of the ordinary, unsampled network.
    """
    rows = [{"recipe": "trained network, before sampling", "MC accuracy": float("nan"),
             "stored variance, after / before": "1",
             "test accuracy": before["accuracy"], "test loss": before["loss"]}]
    for name, (mc_acc, ratio, after) in recipes.items():
        rows.append({"recipe": name, "MC accuracy": float(mc_acc),
                     "stored variance, after / before":
                         f"{float(np.median(np.asarray(ratio, dtype=float))):.3g}",
                     "test accuracy": after["accuracy"], "test loss": after["loss"]})
    return pd.DataFrame(rows)


# --------------------------------------------------------------- custom loops
def weight_difference(a, b) -> float:
    """Largest absolute difference between the weights of two models of the
    same shapes (0.0 means identical to the last bit)."""
    wa, wb = a.get_weights(), b.get_weights()
    if len(wa) != len(wb) or any(x.shape != y.shape for x, y in zip(wa, wb, strict=True)):
        raise ValueError("the two models' weights do not have the same shapes")
    return float(max(np.max(np.abs(x - y)) for x, y in zip(wa, wb, strict=True)))


def loop_table(models: dict, x_train, y_train, x_test, y_test, reference) -> pd.DataFrame:
    """Per model: training and test accuracy in inference mode, their gap, and
    the largest weight difference from ``reference``."""
    rows = []
    for name, m in models.items():
        tr, te = accuracy(m, x_train, y_train), accuracy(m, x_test, y_test)
        rows.append({"network": name, "train accuracy": tr, "test accuracy": te,
                     "train − test": tr - te,
                     "weight difference": weight_difference(m, reference)})
    return pd.DataFrame(rows)


# --------------------------------------------------------------- repeated predictions
def prediction_spread(pred_classes, y) -> dict:
    """For repeated predictions (repeats, n) of the same inputs: accuracy of
    each repeat, as ``mean ± sd`` and range, and the share of inputs whose
    predicted class is not the same in every repeat."""
    p = np.asarray(pred_classes)
    if p.ndim != 2:
        raise ValueError(f"pred_classes must be (repeats, n), got shape {p.shape}")
    acc = (p == np.asarray(y).reshape(1, -1)).mean(1)
    changed = float(np.mean((p != p[:1]).any(0)))
    return {"accuracy": acc, "mean ± sd": stats.format_mean_sd(acc), "min": float(acc.min()),
            "max": float(acc.max()), "changed": changed}


def spread_table(spreads: dict) -> pd.DataFrame:
    """One row per way of calling the model, from :func:`prediction_spread`."""
    return pd.DataFrame([{"call": k, "test accuracy": v["mean ± sd"], "min": v["min"],
                          "max": v["max"], "digits whose class changes": v["changed"]}
                         for k, v in spreads.items()])


# --------------------------------------------------------------- Keras 2 idioms
def outcome(error: BaseException | None = None, caught=(), width: int = 90) -> str:
    """What running an idiom did, in one short line: the error's type and
    first line, or the first warning, or "runs"."""
    def clip(text):
        text = " ".join(str(text).split())
        return text if len(text) <= width else text[: width - 1].rstrip() + "…"

    if error is not None:
        return clip(f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}")
    for w in caught:
        message = w.message if isinstance(w, warnings.WarningMessage) else w
        return clip(f"runs, with a warning: {message}")
    return "runs"


def fraction_zero(a) -> float:
    """Share of exact zeros in ``a``."""
    return float(np.mean(np.asarray(a) == 0))


def percent(x: float, digits: int = 1) -> str:
    """``0.123 -> "12.3 %"``; NaN as "–"."""
    return "–" if x != x or math.isinf(x) else f"{100 * x:.{digits}f} %"
