"""The repeated experiments of the chapters "Dropout as an ensemble, and MC
dropout" (06) and "Inside a network trained with dropout" (07), and the tables
and sentences that summarise them.

The chapters write their models visibly; the studies here take those builders
as arguments (``build(**kwargs)`` returning a compiled model), seed Keras before
each call, train the models together (:func:`helpers.batched.batched_fit` for
the plain MLPs of the width and data-size studies, one stacked computation;
:func:`helpers.fastfit.fast_fit` for everything else) and summarise over seeds
with :mod:`helpers.stats`.
"""

from __future__ import annotations

import numpy as np

from .._validate import check_nonnegative_int, check_positive_int
from ..stats import compare, describe_comparison, format_mean_sd

# --------------------------------------------------------------------------- shared


def seeded_models(build, seeds, **kwargs) -> list:
    """``build(**kwargs)`` once per seed, with Keras seeded first (same seed:
    same initial weights and the same dropout masks)."""
    import keras

    out = []
    for s in seeds:
        keras.utils.set_random_seed(check_nonnegative_int(int(s), "seed"))
        out.append(build(**kwargs))
    return out


def final_scores(models, x, y) -> tuple[np.ndarray, np.ndarray]:
    """Test accuracy and loss of each compiled model, in inference mode.

    Computed once at the end, which is all a study needs (``fast_fit``'s
    per-epoch validation would cost more than the training on small sets).
    """
    import keras

    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y)
    acc, loss = [], []
    for m in models:
        pred = np.asarray(m(x, training=False))
        binary = pred.shape[-1] == 1
        target = y.reshape(-1, 1) if binary else y
        loss.append(float(np.mean(np.asarray(keras.losses.get(m.loss)(target, pred)))))
        if binary:
            hit = (pred.reshape(-1) > 0.5) == (y.reshape(-1) > 0.5)
        else:
            hit = pred.argmax(-1) == y.reshape(-1)
        acc.append(float(np.mean(hit)))
    return np.array(acc), np.array(loss)


def interval_text(result: dict, digits: int = 3) -> str:
    """``"+0.045 (95 % interval +0.008 to +0.081)"``: a :func:`helpers.stats.compare`
    result without its verdict, for a sentence that states the verdict itself."""
    return describe_comparison(result, digits).rsplit(":", 1)[0]


def grouped(labels, verdicts, unit: str = "") -> str:
    """``"higher at 300; within seed noise at 50, 100"``: labels grouped by verdict."""
    labels, verdicts = list(labels), list(verdicts)
    if len(labels) != len(verdicts) or not labels:
        raise ValueError("need one verdict per label, and at least one")
    groups: dict[str, list[str]] = {}
    for label, v in zip(labels, verdicts, strict=True):
        groups.setdefault(v, []).append(str(label))
    suffix = f" {unit}" if unit else ""
    return "; ".join(f"{v} at {', '.join(ls)}{suffix}" for v, ls in groups.items())


# --------------------------------------------------------------------------- 07: the builders
# Chapter 07 writes its models in visible cells; these repeat them line for line
# (tests/test_claims_chapters.py builds both and compares helpers.models.describe),
# so that helpers.claims can re-run the chapter's studies outside the notebook.


def autoencoder(rate=0.5):
    """The chapter's ``make_autoencoder``: 64 pixels -> Dense(256, relu,
    name "hidden") -> [Dropout(rate)] -> Dense(64); Adam, MSE."""
    import keras
    from keras import layers

    inputs = keras.Input(shape=(64,))
    h = layers.Dense(256, activation="relu", name="hidden")(inputs)
    if rate:
        h = layers.Dropout(rate)(h)
    outputs = layers.Dense(64)(h)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="mean_squared_error")
    return model


def classic_circles_mlp(rate=0.4):
    """The chapter's ``make_classic_mlp``: chapter 4's circles network with the
    paper's classic dropout (``Dropout(rate)`` then a fixed ``Rescaling(1 - rate)``)."""
    import keras
    from keras import layers

    inputs = keras.Input(shape=(2,))
    h = layers.Dense(500, activation="relu", name="hidden")(inputs)
    h = layers.Dropout(rate)(h)
    h = layers.Rescaling(1 - rate)(h)
    outputs = layers.Dense(1, activation="sigmoid", name="output")(h)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


def digits_mlp(width=256, rate=0.5):
    """The chapter's ``make_digits_mlp``: 64 pixels -> Dense(width, relu) ->
    [Dropout(rate)] -> Dense(10, softmax); Adam, sparse categorical
    cross-entropy. The same network as chapter 11's, so it is built there."""
    from .calibration import make_model

    return make_model(rate=rate, hidden=width)


# --------------------------------------------------------------------------- 06: ensemble view


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64)))


def averaging_errors(p_mc, z_mc, p_det) -> dict:
    """How far Monte Carlo averages of N passes are from the deterministic pass.

    ``p_mc`` (passes, points): sampled probabilities; ``z_mc``: the sampled
    logits of the same unit; ``p_det``: the deterministic (weight-scaled)
    probability. Returns the running mean absolute error of the arithmetic mean
    of probabilities (``"arithmetic"``) and of the sigmoid of the mean logit
    (``"geometric"``, the normalised geometric mean), for N = 1..passes, and the
    final ``gap`` (arithmetic mean minus deterministic) per point.
    """
    from ..uncertainty import running_mean_error

    p_mc, z_mc, p_det = (np.asarray(a, dtype=np.float64) for a in (p_mc, z_mc, p_det))
    if p_mc.shape != z_mc.shape or p_mc.shape[1:] != p_det.shape:
        raise ValueError(f"shapes do not line up: {p_mc.shape}, {z_mc.shape}, {p_det.shape}")
    return {"arithmetic": running_mean_error(p_mc, p_det),
            "geometric": running_mean_error(z_mc, p_det, transform=sigmoid),
            "gap": p_mc.mean(0) - p_det}


def averaging_table(errors: dict, ns=(1, 10, 100, 1000)):
    """The errors of :func:`averaging_errors` at a few N, as a DataFrame."""
    import pandas as pd

    n_max = len(errors["arithmetic"])
    ns = [n for n in ns if n <= n_max]
    return pd.DataFrame({
        "passes N": ns,
        "mean of p": [errors["arithmetic"][n - 1] for n in ns],
        "sigmoid(mean of logit)": [errors["geometric"][n - 1] for n in ns],
    })


def distance_to_nearest(points, data) -> np.ndarray:
    """Euclidean distance from each row of ``points`` to the nearest row of ``data``."""
    points, data = np.asarray(points, float), np.asarray(data, float)
    return np.sqrt(((points[:, None, :] - data[None, :, :]) ** 2).sum(-1)).min(1)


def uncertainty_regions(grid, p_det, p_std, x_train, boundary=0.1, confident=0.4, far=0.5):
    """Mean MC standard deviation near the boundary, where the model is
    confident, far from every training point, and overall; returns
    ``(table, masks)``."""
    import pandas as pd

    p_det, p_std = np.asarray(p_det).reshape(-1), np.asarray(p_std).reshape(-1)
    masks = {
        f"near the boundary (|p - 0.5| < {boundary})": np.abs(p_det - 0.5) < boundary,
        f"confident (|p - 0.5| > {confident})": np.abs(p_det - 0.5) > confident,
        f"far from the data (> {far} away)": distance_to_nearest(grid, x_train) > far,
        "whole grid": np.ones_like(p_det, dtype=bool),
    }
    table = pd.DataFrame({"region": list(masks),
                          "grid points": [int(m.sum()) for m in masks.values()],
                          "mean sd of P(class 1)": [float(p_std[m].mean()) if m.any() else np.nan
                                                    for m in masks.values()]})
    return table, masks


def spread_ratios(samples, x, inside: float = 2.0, outside: float = 4.0):
    """Per model: mean MC standard deviation for |x| <= inside, for |x| >= outside,
    and their ratio. ``samples`` is a list of (passes, points) arrays over ``x``."""
    import pandas as pd

    x = np.asarray(x).reshape(-1)
    ins, outs = np.abs(x) <= inside, np.abs(x) >= outside
    if not ins.any() or not outs.any():
        raise ValueError("x must have points both inside and outside the limits")
    rows = []
    for s in samples:
        sd = np.asarray(s).reshape(len(s), -1).std(0)
        rows.append({f"sd for |x| <= {inside:g}": sd[ins].mean(),
                     f"sd for |x| >= {outside:g}": sd[outs].mean()})
    df = pd.DataFrame(rows)
    df["ratio"] = df.iloc[:, 1] / df.iloc[:, 0]
    return df


def moved_by_one_call(model, x, layer: str = "bn") -> float:
    """Largest change of the BatchNorm moving mean after one
    ``model(x, training=True)``, relative to its largest entry (absolute if
    the moving mean is all zero); the moving statistics are restored
    afterwards."""
    bn = model.get_layer(layer)
    saved = [np.asarray(v).copy() for v in (bn.moving_mean, bn.moving_variance)]
    model(np.asarray(x, np.float32), training=True)
    change = float(np.abs(np.asarray(bn.moving_mean) - saved[0]).max())
    scale = float(np.abs(saved[0]).max())
    bn.moving_mean.assign(saved[0])
    bn.moving_variance.assign(saved[1])
    return change / scale if scale > 0 else change


def probe_samples(model, probe, label: int, company, n_passes: int, recipe: str,
                  layer: str = "bn") -> np.ndarray:
    """``n_passes`` sampled probabilities of class ``label`` for the one image
    ``probe``, predicted together with the images in ``company`` (may be empty).

    ``recipe="training"`` calls ``model(x, training=True)`` (the usual recipe)
    and restores the BatchNorm moving statistics after every call, so that all
    passes see the same trained model; ``recipe="mcdropout"`` calls a model
    built with MCDropout in inference mode.
    """
    from ..uncertainty import mc_predict

    n_passes = check_positive_int(n_passes, "n_passes")
    x = np.concatenate([np.asarray(probe, np.float32), np.asarray(company, np.float32)])
    if recipe == "mcdropout":
        return mc_predict(model, x, n_passes)[:, 0, label].astype(float)
    if recipe != "training":
        raise ValueError(f"recipe must be 'training' or 'mcdropout', got {recipe!r}")
    bn = model.get_layer(layer)
    saved = [np.asarray(v).copy() for v in (bn.moving_mean, bn.moving_variance)]
    out = []
    for _ in range(n_passes):
        out.append(float(np.asarray(model(x, training=True))[0, label]))
        bn.moving_mean.assign(saved[0])
        bn.moving_variance.assign(saved[1])
    return np.array(out)


def batch_dependence(net, net_mc, probe, label, company, n_passes: int):
    """The BatchNorm trap: the probe's P(true class) alone and inside
    ``company``, with ``training=True`` and with MCDropout.

    Returns ``(table, comparisons)``: a DataFrame with mean ± sd per cell and,
    per recipe, the :func:`helpers.stats.compare` result of "in company" minus
    "alone" (independent passes, Welch interval).
    """
    import pandas as pd

    empty = np.zeros((0,) + np.asarray(probe).shape[1:], np.float32)
    rows, comparisons = [], {}
    for recipe, model, name in (("training", net, "model(x, training=True)"),
                                ("mcdropout", net_mc, "MCDropout, inference mode")):
        alone = probe_samples(model, probe, label, empty, n_passes, recipe)
        crowd = probe_samples(model, probe, label, company, n_passes, recipe)
        res = compare(alone, crowd)
        comparisons[recipe] = res
        rows.append({"recipe": name,
                     "alone": format_mean_sd(alone),
                     f"in a batch of {len(company) + 1}": format_mean_sd(crowd),
                     "difference (95 % interval)": describe_comparison(res, noise="Monte Carlo")})
    return pd.DataFrame(rows), comparisons


def trap_sentence(comparisons: dict) -> str:
    """One or two sentences on the verdicts of :func:`batch_dependence`."""
    real = ("higher", "lower")
    train, mc = comparisons["training"]["verdict"], comparisons["mcdropout"]["verdict"]
    if train in real:
        first = ("With `training=True` the difference is larger than the Monte Carlo noise: "
                 "the prediction for one image depends on which other images share its batch.")
    else:
        first = ("With `training=True` the difference is within the Monte Carlo noise of these "
                 "passes, so this probe does not show the dependence clearly, although "
                 "normalising with the batch's statistics makes it exist.")
    if mc in real:
        second = ("With `MCDropout` it is larger than the noise too, which the layer cannot "
                  "cause: treat it as a chance result of the passes.")
    else:
        second = ("With `MCDropout` it is within the noise, as it must be: every image is then "
                  "normalised with the stored statistics, on its own.")
    return f"{first} {second}"


# --------------------------------------------------------------------------- 07: sparsity


def hoyer(a, axis: int = -1) -> np.ndarray:
    """Hoyer's sparsity of each vector along ``axis``:
    (sqrt(n) - L1/L2) / (sqrt(n) - 1); 0 when all entries are equal, 1 when
    one is non-zero. Scale-free: multiplying a vector by c > 0 leaves it
    unchanged. All-zero vectors give NaN."""
    a = np.abs(np.asarray(a, dtype=np.float64))
    n = a.shape[axis]
    if n < 2:
        raise ValueError("Hoyer sparsity needs vectors of at least two entries")
    l1, l2 = a.sum(axis), np.sqrt((a**2).sum(axis))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (np.sqrt(n) - l1 / l2) / (np.sqrt(n) - 1)


def top_k_share(a, k: int, axis: int = -1) -> np.ndarray:
    """Share of each vector's total (absolute) activation carried by its ``k``
    largest entries; scale-free like :func:`hoyer`."""
    k = check_positive_int(k, "k")
    a = np.abs(np.asarray(a, dtype=np.float64))
    if k > a.shape[axis]:
        raise ValueError(f"k={k} exceeds the {a.shape[axis]} entries per vector")
    top = -np.sort(-a, axis=axis).take(range(k), axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return top.sum(axis) / a.sum(axis)


def sparsity_measures(acts, k: int) -> dict:
    """Per-input sparsity of hidden activations ``acts`` (inputs, units), averaged
    over inputs: the scale-dependent mean activation and the scale-free
    fraction of exact zeros, active units, Hoyer sparsity and top-k share."""
    acts = np.asarray(acts, dtype=np.float64)
    return {"mean activation": float(acts.mean()),
            "fraction exactly zero": float((acts == 0).mean()),
            "active units": float((acts > 0).sum(1).mean()),
            "Hoyer sparsity": float(np.nanmean(hoyer(acts))),
            f"top-{k} share": float(np.nanmean(top_k_share(acts, k)))}


def sparsity_study(build, x_train, x_test, rates, seeds, epochs: int, k: int = 10,
                   layer: str = "hidden"):
    """Autoencoders ``build(rate=r)`` per rate and seed, trained to copy
    ``x_train``; the hidden layer ``layer`` is measured on ``x_test`` in
    inference mode. Returns ``(runs, acts, models)``: one row per model (rate,
    seed, :func:`sparsity_measures`, test reconstruction MSE, share of the test
    pixel variance it leaves unexplained), the first seed's activations per
    rate, and the trained models."""
    import keras
    import pandas as pd

    from ..fastfit import fast_fit

    seeds = list(seeds)
    models = [m for r in rates for m in seeded_models(build, seeds, rate=r)]
    fast_fit(models, x_train, x_train, epochs)
    x_test = np.asarray(x_test, np.float32)
    variance = float(((x_test - x_test.mean(0)) ** 2).mean())
    rows, acts = [], {}
    for i, m in enumerate(models):
        r, s = rates[i // len(seeds)], seeds[i % len(seeds)]
        a = np.asarray(keras.Model(m.input, m.get_layer(layer).output)(x_test))
        acts.setdefault(r, a)
        mse = float(np.mean((np.asarray(m(x_test, training=False)) - x_test) ** 2))
        rows.append({"model": rate_label(r), "rate": r, "seed": s, **sparsity_measures(a, k),
                     "test MSE": mse,
                     "unexplained variance": mse / variance})
    return pd.DataFrame(rows), acts, models


def rate_label(rate: float) -> str:
    """``"no dropout"`` or ``"Dropout(0.5)"``."""
    return "no dropout" if not rate else f"Dropout({rate:g})"


def _column(runs, by, value, column):
    return runs[runs[by] == value].sort_values("seed")[column].to_numpy()


def column(runs, by: str, value, name: str) -> np.ndarray:
    """The values of column ``name`` for the rows of ``runs`` whose ``by``
    is ``value``, in seed order (one side of :func:`compare_groups`)."""
    return _column(runs, by, value, name)


def compare_groups(runs, by: str, left, right, column: str, paired: bool = True) -> dict:
    """:func:`helpers.stats.compare` of ``column`` between two groups of
    ``runs``: ``right`` minus ``left``; ``paired`` matches runs by seed (same
    seed: same initial weights, same data)."""
    return compare(_column(runs, by, left, column), _column(runs, by, right, column),
                   paired=paired)


def measure_table(runs, by: str, measures, digits=3, pair=None, paired: bool = True):
    """One row per measure, one column per value of ``by`` (mean ± sd over
    seeds); with ``pair=(left, right)`` a last column with the difference
    right - left, its 95 % interval and verdict (:mod:`helpers.stats`).
    ``digits`` is one number or a dict per measure."""
    import pandas as pd

    groups = list(dict.fromkeys(runs[by]))
    rows = []
    for m in measures:
        d = digits.get(m, 3) if isinstance(digits, dict) else digits
        row = {"measure": m, **{str(g): format_mean_sd(_column(runs, by, g, m), d) for g in groups}}
        if pair is not None:
            res = compare(_column(runs, by, pair[0], m), _column(runs, by, pair[1], m), paired=paired)
            row[f"{pair[1]} - {pair[0]}"] = describe_comparison(res, d)
        rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- 07: weight norms


def norm_trackers(hidden: str = "hidden", output: str = "output") -> dict:
    """``fast_fit`` trackers: the largest and the median incoming-weight norm of
    the hidden units, and the norm of the output unit's weight vector."""
    import tensorflow as tf

    def unit_norms(m):
        return tf.norm(m.get_layer(hidden).kernel, axis=0)

    def median(m):
        n = tf.sort(unit_norms(m))
        return n[tf.size(n) // 2]

    return {"hidden max": lambda m: tf.reduce_max(unit_norms(m)),
            "hidden median": median,
            "output norm": lambda m: tf.norm(m.get_layer(output).kernel)}


def norm_study(builds: dict, x, y, x_test, y_test, seeds, epochs: int):
    """Train ``build()`` per configuration and seed; record the norms of
    :func:`norm_trackers` after every epoch. Returns ``(runs, curves)``: one row
    per model (configuration, seed, final norms, the largest norm's growth over
    the last quarter of training, test accuracy) and, per configuration, the
    per-epoch norms as an array (seeds, epochs, 3)."""
    import pandas as pd

    from ..fastfit import fast_fit

    seeds = list(seeds)
    names = list(builds)
    models = [m for name in names for m in seeded_models(builds[name], seeds)]
    trackers = norm_trackers()
    hist = fast_fit(models, x, y, epochs, track=trackers)
    acc, _ = final_scores(models, x_test, y_test)
    q = max(1, epochs * 3 // 4) - 1
    rows, curves = [], {}
    for i, h in enumerate(hist):
        name, s = names[i // len(seeds)], seeds[i % len(seeds)]
        series = np.stack([h[k] for k in trackers], -1)
        curves.setdefault(name, []).append(series)
        rows.append({"configuration": name, "seed": s,
                     **{k: float(h[k][-1]) for k in trackers},
                     "hidden max, growth in last quarter": float(h["hidden max"][-1] / h["hidden max"][q] - 1),
                     "test accuracy": acc[i]})
    return pd.DataFrame(rows), {k: np.stack(v) for k, v in curves.items()}


def ratio_mean_sd(runs, by: str, left, right, column: str, digits: int = 2) -> str:
    """Per-seed ratio of ``column``, ``right`` over ``left``, as mean ± sd."""
    return format_mean_sd(_column(runs, by, right, column) / _column(runs, by, left, column), digits)


# --------------------------------------------------------------------------- 07: width and data size


#: Distance between the dropout-mask streams of two ``mask_seed`` values in
#: :func:`width_study` and :func:`data_size_study` (larger than any width or size).
MASK_STREAM_STRIDE = 100_003


def _mask_stream(group: int, mask_seed: int) -> int:
    """``batched_fit``'s mask seed for one stacked group (a width, a size):
    the group itself for the chapter (``mask_seed=0``), a stream of its own
    for every other ``mask_seed``."""
    return int(group) + MASK_STREAM_STRIDE * check_nonnegative_int(mask_seed, "mask_seed")


def width_study(build, x, y, x_test, y_test, widths, rates, seeds, epochs: int,
                mask_seed: int = 0) -> np.ndarray:
    """Test accuracy of ``build(width=w, rate=r)`` per width, rate and seed:
    an array of shape (widths, rates, seeds). ``mask_seed``: 0 gives the
    chapter's dropout masks; a replication passes its own (see
    :mod:`helpers.replicate`)."""
    from ..batched import batched_fit

    widths, rates, seeds = list(widths), list(rates), list(seeds)
    models = []
    for w in widths:  # one stacked computation per width (all rates and seeds)
        group = [m for r in rates for m in seeded_models(build, seeds, width=w, rate=r)]
        batched_fit(group, x, y, epochs, seed=_mask_stream(w, mask_seed), write_back=True)
        models += group
    acc, _ = final_scores(models, x_test, y_test)
    return acc.reshape(len(widths), len(rates), len(seeds))


def width_comparisons(acc, widths, factor: int = 2) -> dict:
    """From :func:`width_study` with rates (0, r): at every width, dropout minus
    none (``"same width"``); and for every n with ``factor * n`` also measured,
    dropout at ``factor * n`` minus none at n (``"widened"``). Independent
    models: Welch intervals."""
    widths = list(widths)
    same = {w: compare(acc[i, 0], acc[i, 1]) for i, w in enumerate(widths)}
    wide = {w: compare(acc[i, 0], acc[widths.index(factor * w), 1])
            for i, w in enumerate(widths) if factor * w in widths}
    return {"same width": same, "widened": wide}


def data_size_study(build, x, y, x_test, y_test, sizes, seeds, epochs: int, rates=(0.0, 0.5),
                    draw_seed: int = 1000, mask_seed: int = 0) -> dict:
    """Train ``build(rate=r)`` on random subsets of ``sizes`` examples; seed s
    draws its own subset (``draw_seed + s``), shared by both rates. Returns
    ``{"accuracy": a, "loss": l}``, arrays of shape (sizes, rates, seeds).
    ``mask_seed``: as in :func:`width_study`."""
    from ..batched import batched_fit

    sizes, seeds, rates = list(sizes), list(seeds), list(rates)
    if max(sizes) > len(x):
        raise ValueError(f"a subset of {max(sizes)} from {len(x)} examples")
    models = []
    for n in sizes:  # one stacked computation per size: each copy its own subset
        draws = [np.random.default_rng(draw_seed + s).choice(len(x), n, replace=False) for s in seeds]
        group, xs, ys = [], [], []
        for r in rates:
            group += seeded_models(build, seeds, rate=r)
            xs += [x[d] for d in draws]
            ys += [y[d] for d in draws]
        batched_fit(group, xs, ys, epochs, seed=_mask_stream(n, mask_seed), write_back=True)
        models += group
    acc, loss = final_scores(models, x_test, y_test)
    shape = (len(sizes), len(rates), len(seeds))
    return {"accuracy": acc.reshape(shape), "loss": loss.reshape(shape)}


def size_table(results: dict, sizes, gains, loss_changes):
    """Per training-set size: test accuracy without and with dropout (mean ±
    sd) and the paired changes in accuracy and loss with their verdicts."""
    import pandas as pd

    acc = np.asarray(results["accuracy"])
    return pd.DataFrame({
        "training digits": list(sizes),
        "no dropout": [format_mean_sd(a[0]) for a in acc],
        "Dropout(0.5)": [format_mean_sd(a[1]) for a in acc],
        "accuracy gain": [describe_comparison(g) for g in gains],
        "test loss change": [describe_comparison(c) for c in loss_changes],
    })


def size_sentence(gains) -> str:
    """Whether the smallest training set gains from dropout, given the
    :func:`helpers.stats.compare` results per size (smallest first)."""
    gains = list(gains)
    if gains[0]["verdict"] == "higher":
        return ("Here the smallest training set does gain: on these digits the folk version "
                "holds at the small end.")
    return ("As in the paper, the smallest training set gains nothing measurable: the pattern "
            "is not \"the less data, the more dropout helps\".")


# --------------------------------------------------------------------------- 07: BatchNorm


def variance_shift(model, x, layer: str = "bn") -> float:
    """BatchNorm's moving variance divided by the variance of its inputs on
    ``x`` in inference mode, averaged over channels: 1 when the stored
    statistics match what the layer sees at inference."""
    import keras

    bn = model.get_layer(layer)
    pre = np.asarray(keras.Model(model.input, bn.input)(np.asarray(x, np.float32), training=False))
    seen = pre.reshape(-1, pre.shape[-1]).var(0)
    return float(np.mean(np.asarray(bn.moving_variance) / seen))


POSITION_LABELS = {"none": "no dropout", "after_bn": "after BN + ReLU", "before_bn": "before BN"}


def bn_study(build, x, y, x_test, y_test, positions, seeds, epochs: int):
    """``build(position=p)`` per position and seed, trained full batch; returns
    a DataFrame: position, its label (``dropout``), seed, test accuracy and
    variance shift (on ``x``)."""
    import pandas as pd

    from ..fastfit import fast_fit

    positions, seeds = list(positions), list(seeds)
    models = [m for p in positions for m in seeded_models(build, seeds, position=p)]
    fast_fit(models, x, y, epochs)
    acc, _ = final_scores(models, x_test, y_test)
    return pd.DataFrame([{"position": positions[i // len(seeds)],
                          "dropout": POSITION_LABELS.get(positions[i // len(seeds)],
                                                         positions[i // len(seeds)]),
                          "seed": seeds[i % len(seeds)],
                          "test accuracy": acc[i], "variance shift": variance_shift(m, x)}
                         for i, m in enumerate(models)])
