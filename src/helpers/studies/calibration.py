"""The calibration chapter's machinery: four predictors, many seeds, shifted digits.

What the chapter uses but does not teach:

- :func:`make_model`, the builder that repeats the chapter's visible
  ``make_model`` (the tests compare the two with ``helpers.models.describe``),
  and :func:`seeded_pairs`, which builds per seed one network with dropout and
  one without from the *same* initial weights (paired comparisons);
- the metrics the chapter writes out (:func:`ece`, :func:`nll`,
  :func:`brier`), here with the per-bin numbers of a reliability diagram
  (:func:`reliability`), and the chapter's :func:`mc_dropout_predict`,
  :func:`fit_temperature` and :func:`corrupt`, line for line in what they
  compute (the tests check each against the chapter's cell);
- the loops over seeds and shifted test sets (:func:`predict_all`,
  :func:`score_all`) and the tables and verdicts (:func:`scores_table`,
  :func:`verdict_table`, :func:`shift_verdicts`).
- the recorded CIFAR-10 runs' stored test-set probabilities
  (:func:`cifar_probabilities`) and, with one run per side, intervals over test
  images instead of seeds (:func:`bootstrap_difference`).

Every mean ± sd and verdict comes from :mod:`helpers.stats`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import stats
from .._validate import check_positive_int, check_rate

#: The four predictors, in the order of every table and figure.
PREDICTORS = ("no dropout", "dropout", "MC dropout", "temperature scaling")
#: The corruptions and their severities (level 1..5; level 0 is the clean set).
SEVERITIES = {
    "Gaussian noise": (0.1, 0.2, 0.3, 0.4, 0.5),   # sd, pixels in [0, 1]
    "blur": (0.5, 0.75, 1.0, 1.25, 1.5),           # Gaussian sd, in pixels
    "contrast": (0.7, 0.5, 0.35, 0.25, 0.15),      # factor c (1 = unchanged)
}
METRICS = ("accuracy", "confidence", "ECE", "NLL", "Brier")
#: The metrics of the paired verdicts (mean confidence is not a score).
SCORES = ("accuracy", "ECE", "NLL", "Brier")


# ------------------------------------------------------------------ the model
def make_model(rate=0.5, hidden=256):
    """The chapter's ``make_model``: 64 pixels -> Dense(hidden, relu) ->
    [Dropout(rate)] -> Dense(10, softmax); Adam, sparse categorical
    cross-entropy."""
    import keras
    from keras import layers

    check_rate(rate, "rate")
    check_positive_int(hidden, "hidden")
    inputs = keras.Input(shape=(64,))
    h = layers.Dense(hidden, activation="relu")(inputs)
    if rate:
        h = layers.Dropout(rate)(h)
    outputs = layers.Dense(10, activation="softmax")(h)
    model = keras.Model(inputs, outputs)
    model.compile(
        optimizer="adam",
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def seeded_pairs(seeds, rate=0.5, hidden=256):
    """Per seed ``s``: ``keras.utils.set_random_seed(s)``, then a network with
    ``Dropout(rate)`` and one without, the second given the first's initial
    weights. Returns ``(without, with_dropout)``, two lists in seed order."""
    import keras

    without, with_dropout = [], []
    for s in seeds:
        keras.utils.set_random_seed(int(s))
        drop = make_model(rate, hidden)
        plain = make_model(0.0, hidden)
        plain.set_weights(drop.get_weights())
        without.append(plain)
        with_dropout.append(drop)
    return without, with_dropout


def logits(model, x) -> np.ndarray:
    """The output layer's input before the softmax, in inference mode (for
    this model: ``relu(x W1 + b1) W2 + b2``)."""
    out = model.layers[-1]
    h = np.asarray(x, "float32")
    for layer in model.layers[1:-1]:
        h = layer(h, training=False)
    return np.asarray(h, "float64") @ np.asarray(out.kernel, "float64") + np.asarray(
        out.bias, "float64")


def softmax(z, temperature=1.0) -> np.ndarray:
    z = np.asarray(z, "float64") / float(temperature)
    z = z - z.max(-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(-1, keepdims=True)


# ------------------------------------------------------------------ metrics
def _check(probs, y):
    probs = np.asarray(probs, "float64")
    y = np.asarray(y).reshape(-1).astype(int)
    if probs.ndim != 2 or len(probs) != len(y) or len(y) == 0:
        raise ValueError(f"probs {probs.shape} and labels {y.shape} do not line up")
    return probs, y


def reliability(probs, y, n_bins=10) -> pd.DataFrame:
    """Per equal-width confidence bin ``((b-1)/M, b/M]``: the number of
    predictions, their accuracy and their mean confidence (NaN when empty)."""
    probs, y = _check(probs, y)
    n_bins = check_positive_int(n_bins, "n_bins")
    bins, correct, conf = _ece_bins(probs, y, n_bins)
    correct = correct.astype(bool)
    rows = []
    for b in range(n_bins):
        inside = bins == b
        rows.append({
            "low": b / n_bins, "high": (b + 1) / n_bins, "count": int(inside.sum()),
            "accuracy": float(correct[inside].mean()) if inside.any() else np.nan,
            "confidence": float(conf[inside].mean()) if inside.any() else np.nan,
        })
    return pd.DataFrame(rows)


def ece(probs, y, n_bins=10) -> float:
    """Expected calibration error: sum over bins of (share of predictions in
    the bin) x |accuracy - mean confidence| (equal-width bins)."""
    table = reliability(probs, y, n_bins)
    used = table[table["count"] > 0]
    share = used["count"] / table["count"].sum()
    return float(np.sum(share * np.abs(used["accuracy"] - used["confidence"])))


def _per_sample(metric, probs, y) -> np.ndarray:
    """One value per prediction whose mean is the metric (NLL, Brier, accuracy)."""
    if metric == "NLL":
        return -np.log(probs[np.arange(len(y)), y])
    if metric == "Brier":
        return np.sum((probs - np.eye(probs.shape[1])[y]) ** 2, axis=1)
    return (probs.argmax(1) == y).astype(float)


def nll(probs, y) -> float:
    """Mean negative log-likelihood of the true class (natural log)."""
    return float(np.mean(_per_sample("NLL", *_check(probs, y))))


def brier(probs, y) -> float:
    """Multi-class Brier score: mean over samples of sum_k (p_k - [y = k])^2."""
    return float(np.mean(_per_sample("Brier", *_check(probs, y))))


def accuracy(probs, y) -> float:
    return float(np.mean(_per_sample("accuracy", *_check(probs, y))))


def score(probs, y, n_bins=10) -> dict:
    """Accuracy, mean confidence (top-class probability), ECE, NLL and
    Brier score of one set of predictions."""
    return {"accuracy": accuracy(probs, y),
            "confidence": float(np.mean(np.asarray(probs).max(1))),
            "ECE": ece(probs, y, n_bins),
            "NLL": nll(probs, y), "Brier": brier(probs, y)}


# ------------------------------------------------------------------ predictors
def mc_dropout_predict(model, x, passes, rng):
    """Mean softmax output of ``passes`` thinned networks: one mask over the
    hidden units per pass, shared by all rows of ``x`` (the chapter's
    function)."""
    passes = check_positive_int(passes, "passes")
    dense, dropout, output = model.layers[1:]
    h = np.asarray(dense(np.asarray(x, "float32")))
    keep = 1.0 - dropout.rate
    masks = (rng.random((passes, 1, h.shape[1])) < keep) / keep
    thinned = (h * masks).reshape(-1, h.shape[1]).astype("float32")
    probs = np.asarray(output(thinned), "float64")
    return probs.reshape(passes, len(h), -1).mean(0)


def fit_temperature(z, y) -> float:
    """The temperature T > 0 that minimises the NLL of softmax(z / T) on
    ``(z, y)`` (bounded search over log T in [-3, 3])."""
    from scipy.optimize import minimize_scalar

    z = np.asarray(z, "float64")
    y = np.asarray(y).reshape(-1).astype(int)

    def nll_at(log_t):
        s = z / np.exp(log_t)
        s = s - s.max(1, keepdims=True)
        log_p = s - np.log(np.exp(s).sum(1, keepdims=True))
        return -log_p[np.arange(len(y)), y].mean()

    log_t = minimize_scalar(nll_at, bounds=(-3, 3), method="bounded").x
    return float(np.exp(log_t))


def corrupt(x, kind, severity, rng):
    """The 8 x 8 digits (flat, pixels in [0, 1]) under one corruption:
    ``"Gaussian noise"`` (sd ``severity``, clipped to [0, 1]), ``"blur"``
    (Gaussian filter of sd ``severity`` pixels, zeros outside the image) or
    ``"contrast"`` (each image pulled towards its mean, factor ``severity``)."""
    from scipy.ndimage import gaussian_filter

    img = np.asarray(x, "float32").reshape(-1, 8, 8)
    if kind == "Gaussian noise":
        out = img + severity * rng.standard_normal(img.shape)
        out = np.clip(out, 0.0, 1.0)
    elif kind == "blur":
        out = gaussian_filter(img, sigma=(0, severity, severity), mode="constant")
    elif kind == "contrast":
        mean = img.mean(axis=(1, 2), keepdims=True)
        out = mean + severity * (img - mean)
    else:
        raise ValueError(f"unknown corruption {kind!r}")
    return out.reshape(len(img), 64).astype("float32")


def shifted_sets(x, severities=None, seed=0) -> dict:
    """``{(kind, level): x}`` for level 0 (the clean set, once, under key
    ``("clean", 0)``) and levels 1..5 of every corruption; the noise is drawn
    once per set (``seed``), the same for every network."""
    severities = SEVERITIES if severities is None else severities
    sets = {("clean", 0): np.asarray(x, "float32")}
    for k, (kind, values) in enumerate(severities.items()):
        for level, sev in enumerate(values, start=1):
            rng = np.random.default_rng([seed, k, level])
            sets[(kind, level)] = corrupt(x, kind, sev, rng)
    return sets


def weights(model):
    """``(W1, b1, W2, b2)`` of the chapter's network, as float32 arrays."""
    dense = [layer for layer in model.layers if type(layer).__name__ == "Dense"]
    if len(dense) != 2:
        raise ValueError("expected the chapter's network: two Dense layers")
    return tuple(np.asarray(v, "float32") for layer in dense
                 for v in (layer.kernel, layer.bias))


def fast_logits(w, x) -> np.ndarray:
    """:func:`logits` from the weights ``w`` (:func:`weights`), in NumPy."""
    w1, b1, w2, b2 = w
    h = np.maximum(np.asarray(x, "float32") @ w1 + b1, 0.0)
    return (h @ w2 + b2).astype("float64")


def fast_mc(w, x, rate, passes, rng) -> np.ndarray:
    """:func:`mc_dropout_predict` from the weights: the same masks for the
    same ``rng`` state, the same mean; each pass scales the output layer's
    rows (``h * m) @ W2 == h @ (m[:, None] * W2)``) instead of the hidden
    activations."""
    w1, b1, w2, b2 = w
    h = np.maximum(np.asarray(x, "float32") @ w1 + b1, 0.0)
    keep = 1.0 - rate
    masks = (rng.random((passes, 1, h.shape[1])) < keep) / keep  # as the chapter
    thinned = masks[:, 0, :, None].astype("float32") * w2  # [passes, hidden, k]
    wide = thinned.transpose(1, 0, 2).reshape(h.shape[1], -1)  # one product
    z = (h @ wide).reshape(len(h), passes, -1) + b2  # [n, passes, k]
    z = z - z.max(-1, keepdims=True)
    e = np.exp(z)  # float32: the softmax of every pass
    return (e / e.sum(-1, keepdims=True)).mean(1, dtype="float64")


def predict_all(without, with_dropout, sets, x_val, y_val, passes, seed=0):
    """Probabilities of the four predictors on every set, per seed.

    ``without[s]`` / ``with_dropout[s]``: trained networks of seed ``s``;
    ``x_val[s], y_val[s]``: that seed's validation split (the temperature is
    fitted there, on the network without dropout). MC dropout draws its masks
    from ``numpy.random.default_rng([seed, s])``, set after set. Returns
    ``(probs, temperatures)`` with ``probs[predictor][set_key]`` of shape
    ``[S, n, 10]``."""
    passes = check_positive_int(passes, "passes")
    probs = {p: {key: [] for key in sets} for p in PREDICTORS}
    temperatures = []
    for s, (plain, drop) in enumerate(zip(without, with_dropout, strict=True)):
        w_plain, w_drop = weights(plain), weights(drop)
        rate = float(drop.layers[2].rate)
        t = fit_temperature(fast_logits(w_plain, x_val[s]), y_val[s])
        temperatures.append(t)
        rng = np.random.default_rng([seed, s])
        for key, x in sets.items():
            z = fast_logits(w_plain, x)
            probs["no dropout"][key].append(softmax(z))
            probs["temperature scaling"][key].append(softmax(z, t))
            probs["dropout"][key].append(softmax(fast_logits(w_drop, x)))
            probs["MC dropout"][key].append(fast_mc(w_drop, x, rate, passes, rng))
    out = {p: {key: np.stack(v) for key, v in d.items()} for p, d in probs.items()}
    return out, np.asarray(temperatures)


def score_all(probs, y, n_bins=10) -> dict:
    """``scores[predictor][set_key][metric]``: one value per seed."""
    out = {}
    for p, by_set in probs.items():
        out[p] = {}
        for key, stack in by_set.items():
            per_seed = [score(q, y, n_bins) for q in stack]
            out[p][key] = {m: np.array([d[m] for d in per_seed]) for m in METRICS}
    return out


# ------------------------------------------------------------------ tables
CLEAN = ("clean", 0)


def scores_table(scores, key=CLEAN) -> pd.DataFrame:
    """One row per predictor: every metric as mean ± sd over seeds."""
    rows = []
    for p in scores:
        row = {"predictor": p}
        for m in METRICS:
            row[m] = stats.format_mean_sd(scores[p][key][m])
        rows.append(row)
    return pd.DataFrame(rows)


#: The paired comparisons of the chapter: (reference, other).
COMPARISONS = (("no dropout", "dropout"), ("no dropout", "MC dropout"),
               ("dropout", "MC dropout"), ("no dropout", "temperature scaling"),
               ("temperature scaling", "MC dropout"))


def compare(scores, left, right, metric, key=CLEAN) -> dict:
    """:func:`helpers.stats.compare` of ``right - left``, paired by seed."""
    return stats.compare(scores[left][key][metric], scores[right][key][metric],
                         paired=True)


def verdict_table(scores, key=CLEAN, comparisons=COMPARISONS) -> pd.DataFrame:
    """One row per comparison, one column per metric: the paired difference
    (other minus reference) and its verdict."""
    rows = []
    for left, right in comparisons:
        row = {"comparison": f"{right} − {left}"}
        for m in SCORES:
            r = compare(scores, left, right, m, key)
            row[m] = f"{stats.signed(r['diff'])} ({r['verdict']})"
        rows.append(row)
    return pd.DataFrame(rows)


def levels(scores, kind, predictor, metric, n_levels=5) -> np.ndarray:
    """``[levels + 1, S]``: the metric per seed at level 0 (clean) .. n."""
    keys = [CLEAN] + [(kind, k) for k in range(1, n_levels + 1)]
    return np.stack([scores[predictor][key][metric] for key in keys])


def shift_verdicts(scores, metric="ECE", level=5, comparisons=COMPARISONS,
                   kinds=None) -> pd.DataFrame:
    """At severity ``level`` of every corruption: one row per comparison, one
    column per corruption, the paired difference and its verdict."""
    kinds = list(SEVERITIES) if kinds is None else kinds
    rows = []
    for left, right in comparisons:
        row = {"comparison": f"{right} − {left}"}
        for kind in kinds:
            r = compare(scores, left, right, metric, (kind, level))
            row[kind] = f"{stats.signed(r['diff'])} ({r['verdict']})"
        rows.append(row)
    return pd.DataFrame(rows)


def count_verdicts(scores, left, right, metric, verdict, kinds=None,
                   level_range=range(1, 6)) -> tuple[int, int]:
    """How many (corruption, level) sets give ``verdict`` for ``right - left``,
    and how many sets there are."""
    kinds = list(SEVERITIES) if kinds is None else kinds
    hits = [compare(scores, left, right, metric, (k, lv))["verdict"] == verdict
            for k in kinds for lv in level_range]
    return int(sum(hits)), len(hits)


def pooled_reliability(stack, y, n_bins=10) -> pd.DataFrame:
    """:func:`reliability` of all seeds' predictions together (``stack``:
    ``[S, n, classes]``), for the diagram."""
    stack = np.asarray(stack)
    return reliability(stack.reshape(-1, stack.shape[-1]), np.tile(y, len(stack)),
                       n_bins)


def mean_confidence(stack) -> np.ndarray:
    """Per seed: the mean of the top-class probability."""
    return np.asarray(stack).max(-1).mean(-1)


def shift_curves(scores, kinds=None, metrics=("accuracy", "ECE"), n_levels=5) -> dict:
    """``curves[(kind, metric)][predictor]``: ``[levels + 1, S]`` arrays for
    :func:`helpers.plotting.calibration.plot_shift`."""
    kinds = list(SEVERITIES) if kinds is None else kinds
    return {(k, m): {p: levels(scores, k, p, m, n_levels) for p in scores}
            for k in kinds for m in metrics}


def example_images(sets, index=0, kinds=None, n_levels=5) -> dict:
    """``{kind: [levels + 1, 64]}``: test image ``index`` clean and at every
    level of every corruption."""
    kinds = list(SEVERITIES) if kinds is None else kinds
    return {k: np.stack([sets[CLEAN][index]] + [sets[(k, lv)][index]
                                                for lv in range(1, n_levels + 1)])
            for k in kinds}


def overconfidence(scores, predictor, key=CLEAN) -> np.ndarray:
    """Per seed: mean confidence minus accuracy (> 0: overconfident)."""
    d = scores[predictor][key]
    return d["confidence"] - d["accuracy"]


# ------------------------------------------------------------------ CIFAR-10, recorded
#: The recorded CIFAR-10 predictors: label -> (configuration, stored array). (a) has
#: no Dropout layer, so its run stores no MC passes.
CIFAR_PREDICTORS = {
    "(a) no dropout": ("a", "deterministic"),
    "(b) dropout, inference pass": ("b", "deterministic"),
    "(b) MC dropout": ("b", "mc_mean"),
}
#: float16 storage cannot hold a probability below ~6e-8 (it becomes 0): the NLL
#: is computed with every probability floored here, and says so.
PROB_FLOOR = 1e-7


def cifar_probabilities(seed: int = 0, folder=None):
    """The recorded full-protocol runs' test-set probabilities.

    Returns ``(probs, labels, info)``: ``probs[label]`` a float64 ``[n, 10]`` array
    (the stored float16 values renormalised per row and floored at
    :data:`PROB_FLOOR`), the labels, and per predictor the result's name, its MC
    pass count, the stored accuracy (a check that the file is the run's), how many
    true-class probabilities were below the floor (their NLL terms are lower bounds)
    and the run's wall time in seconds.
    A missing result or probability file raises ``ExperimentError`` naming the
    command that records it."""
    from ..experiments import ExperimentError, load_probabilities, load_results

    results = load_results(folder)
    probs, labels, info = {}, None, {}
    for label, (config, key) in CIFAR_PREDICTORS.items():
        name = f"{config}-seed{seed}"
        command = f"python -m helpers.experiments cifar10 --config {config} --seed {seed} --overwrite"
        if name not in results:
            raise ExperimentError(f"no recorded full-protocol result {name}; record it with: {command}")
        try:
            arrays = load_probabilities(results[name], folder)
        except ExperimentError as err:
            raise ExperimentError(f"{err}; record it with: {command}") from None
        if key not in arrays:
            raise ExperimentError(f"{name}'s probabilities hold no {key!r} array; re-run: {command}")
        if labels is None:
            labels = arrays["labels"].astype(int)
        elif not np.array_equal(labels, arrays["labels"]):
            raise ExperimentError(f"{name}'s labels differ from the other runs' test labels")
        raw = arrays[key].astype("float64")
        p = np.maximum(raw, PROB_FLOOR)
        probs[label] = p / p.sum(1, keepdims=True)
        record = results[name]["probabilities"]
        info[label] = {"result": name, "mc_passes": record["mc_passes"] if key == "mc_mean" else 0,
                       "stored_accuracy": record[f"{key}_accuracy"],
                       # true-class probabilities stored as 0: their NLL terms are lower bounds
                       "floored": int(np.sum(raw[np.arange(len(labels)), labels] < PROB_FLOOR)),
                       # Keras' test loss, from the logits of the softmax (no floor, float32)
                       "test_loss": results[name].get("test_loss"),
                       "wall_seconds": results[name].get("provenance", {}).get("wall_seconds_total")}
    return probs, labels, info


def _ece_bins(probs, y, n_bins):
    conf = probs.max(1)
    correct = (probs.argmax(1) == y).astype(float)
    bins = np.clip(np.ceil(conf * n_bins).astype(int) - 1, 0, n_bins - 1)
    return bins, correct, conf


def _ece_of(bins, correct, conf, n_bins):
    count = np.bincount(bins, minlength=n_bins)
    gap = np.abs(np.bincount(bins, correct, n_bins) - np.bincount(bins, conf, n_bins))
    return float(gap.sum() / count.sum())  # sum_b n_b/n * |acc_b - conf_b|


def bootstrap_difference(probs_left, probs_right, y, metric="ECE", n_boot=2000, seed=0,
                         level=0.95, n_bins=10) -> dict:
    """``metric(right) - metric(left)`` on one test set, with a percentile interval
    from resampling the test images (the same resample for both sides: paired).

    This is the uncertainty of a finite test set only: one trained network per
    side, so it says nothing about seed noise. Returns the keys of
    :func:`helpers.stats.compare` (``se`` is the bootstrap standard error), so
    :func:`helpers.stats.describe_comparison` words it."""
    level = stats._check_level(level)
    n_boot = check_positive_int(n_boot, "n_boot")
    left, y = _check(probs_left, y)
    right, _ = _check(probs_right, y)
    if left.shape != right.shape:
        raise ValueError(f"the two sides do not line up: {left.shape} and {right.shape}")
    if metric == "ECE":
        parts = [_ece_bins(p, y, n_bins) for p in (left, right)]

        def value(side, idx):
            bins, correct, conf = parts[side]
            return _ece_of(bins[idx], correct[idx], conf[idx], n_bins)
    elif metric in ("NLL", "Brier", "accuracy"):
        per = [_per_sample(metric, p, y) for p in (left, right)]

        def value(side, idx):
            return float(per[side][idx].mean())
    else:
        raise ValueError(f"metric must be ECE, NLL, Brier or accuracy, not {metric!r}")
    everything = np.arange(len(y))
    diff = value(1, everything) - value(0, everything)
    rng = np.random.default_rng(seed)
    draws = np.empty(n_boot)
    for i in range(n_boot):
        idx = rng.integers(0, len(y), len(y))
        draws[i] = value(1, idx) - value(0, idx)
    low, high = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2])
    verdict = stats.VERDICTS[0] if low > 0 else stats.VERDICTS[1] if high < 0 else stats.VERDICTS[2]
    return {"diff": float(diff), "se": float(draws.std(ddof=1)), "low": float(low),
            "high": float(high), "level": level, "n_left": len(y), "n_right": len(y),
            "verdict": verdict}


def cifar_table(scores: dict) -> pd.DataFrame:
    """One row per recorded predictor: accuracy, mean confidence, ECE, NLL, Brier."""
    return pd.DataFrame([{"predictor": name, **{m: s[m] for m in METRICS}}
                         for name, s in scores.items()])


def floor_sentence(info: dict) -> str:
    """What float16 storage did to the NLLs, from :func:`cifar_probabilities`' info."""
    hit = {name: i["floored"] for name, i in info.items() if i["floored"]}
    if not hit:
        return ("no true-class probability was below 1e-7, so storing them as float16 "
                "does not bound any NLL")
    parts = " and ".join(f"{n:,} test image{'s' if n != 1 else ''} of {name}"
                         for name, n in hit.items())
    whose = "its NLL is a lower bound" if len(hit) == 1 else "their NLLs are lower bounds"
    return (f"float16 cannot hold probabilities much below 6e-8 (it rounds them to 0 or to "
            f"6e-8), and the true class's stored probability was below the floor of 1e-7 used "
            f"here in {parts}, so {whose}")


def confidence_side(score_row: dict) -> str:
    """"overconfident on average" / "underconfident on average" / "calibrated on
    average" from a
    :func:`score` row (mean confidence against accuracy, to 3 decimals)."""
    gap = round(score_row["confidence"] - score_row["accuracy"], 3)
    if gap > 0:
        return "overconfident on average"
    if gap < 0:
        return "underconfident on average"
    return "calibrated on average"


def _recorded_runs(config: str, folder=None) -> list:
    from ..experiments import load_results

    runs = sorted((r for r in load_results(folder).values() if r["config"] == config),
                  key=lambda r: r["seed"])
    if not runs:
        raise ValueError(f"no recorded runs of configuration {config!r}")
    return runs


def recorded_range(config: str, key: str = "test_loss", folder=None) -> str:
    """``"1.59 to 1.81"``: the spread of one recorded quantity between the seeds of a
    configuration (what one run per side cannot show)."""
    values = [float(r[key]) for r in _recorded_runs(config, folder)]
    digits = 2 if key == "test_loss" else 3
    return f"{min(values):.{digits}f} to {max(values):.{digits}f}"


def recorded_seeds(config: str, folder=None) -> str:
    """``"0, 1, 2"``: the seeds recorded for a configuration."""
    return ", ".join(str(r["seed"]) for r in _recorded_runs(config, folder))
