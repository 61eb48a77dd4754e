"""The circles case study's repeated runs, tables and sentences (chapter 4).

What the chapter runs for many seeds but does not teach: training the same
configuration from seeds 0..n-1 with :func:`helpers.batched.batched_fit`
(one full-batch step per epoch, exactly what ``model.fit`` does with 30
samples and the default batch size of 32), measuring every trained model the
same way, and turning the measurements into tables and verdicts with
:mod:`helpers.stats`.

Accuracy has two meanings here, and the tables keep them apart:

- *training mode*: ``history["accuracy"]``, which Keras computes on the
  forward pass of the training step, with dropout active (and before that
  step's update);
- *inference mode*: ``model.evaluate(x, y)``, dropout off, after training.
"""

from __future__ import annotations

import math

import numpy as np

from .. import stats

#: The configurations of the chapter's seed study, by the name the page uses.
CONFIGS = {
    "no dropout": {},
    "Dropout(0.4)": {"rate": 0.4},
    "input Dropout(0.1) + Dropout(0.4)": {"rate": 0.4, "input_rate": 0.1},
    "Dropout(0.4) + MaxNorm(0.5)": {"rate": 0.4, "max_norm": 0.5},
}
#: The reference's single run (train accuracy from ``model.evaluate``).
REFERENCE = {"no dropout": (1.000, 0.757), "Dropout(0.4)": (0.967, 0.814)}
#: ``make_circles(factor=0.8)``: class 0 lies on the outer ring (radius 1),
#: class 1 on the inner ring (radius 0.8), before the noise is added.
RING_RADII = {0: 1.0, 1: 0.8}


def _key(kwargs: dict, seed: int) -> tuple:
    """One cache key per distinct model: ``{}`` and ``{"rate": 0.0}`` coincide."""
    unknown = set(kwargs) - {"rate", "input_rate", "max_norm"}
    if unknown:
        raise ValueError(f"unknown configuration keys {sorted(unknown)}")
    max_norm = kwargs.get("max_norm")
    return (float(kwargs.get("rate", 0.0)), float(kwargs.get("input_rate", 0.0)),
            None if max_norm is None else float(max_norm), int(seed))


def accuracy(model, x, y) -> float:
    """Accuracy in inference mode (dropout off), as ``model.evaluate`` reports it."""
    p = np.asarray(model(np.asarray(x, "float32"), training=False)).reshape(-1)
    return float(np.mean((p > 0.5) == (np.asarray(y).reshape(-1) > 0.5)))


def inference_tracker(x, y) -> dict:
    """``track=`` for :func:`~helpers.fastfit.fast_fit`: after every epoch's update,
    the training set's accuracy and loss in inference mode (dropout off), as
    ``train_accuracy_inference`` and ``train_loss_inference``."""
    import keras
    import tensorflow as tf

    xt = tf.constant(np.asarray(x, "float32"))
    yt = tf.constant(np.asarray(y, "float32").reshape(-1, 1))
    bce = keras.losses.BinaryCrossentropy()

    def acc(m):
        hit = tf.cast(m(xt, training=False) > 0.5, tf.float32) == yt
        return tf.reduce_mean(tf.cast(hit, tf.float32))

    def loss(m):
        return bce(yt, m(xt, training=False))

    return {"train_accuracy_inference": acc, "train_loss_inference": loss}


def hidden_kernel(model):
    """The kernel of the model's first Dense layer (the 500 hidden units)."""
    import keras

    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    if not dense:
        raise ValueError("the model has no Dense layer")
    return np.asarray(dense[0].kernel)


def unit_norms(model) -> np.ndarray:
    """Norm of each hidden unit's incoming weight vector (what MaxNorm bounds)."""
    return np.sqrt(np.sum(hidden_kernel(model) ** 2, axis=0))


class SeedRuns:
    """Trained models by configuration and seed, each trained once.

    ``runs.get({"rate": 0.4}, range(30))`` trains the seeds not trained yet
    and returns one record per seed: the model, its history, its accuracies
    (test set, training set in both modes) and its hidden units' norms.
    ``runs.train([(kwargs, seeds), ...])`` trains what is missing of several
    configurations at once.

    The models are trained together with :func:`helpers.batched.batched_fit`
    (one stacked computation, one full-batch step per epoch, exactly the
    update ``model.fit`` makes with 30 samples and a batch size of 32). Its
    dropout masks come from its own random stream, drawn per position in the
    batch, so a record is reproducible for the same sequence of calls but is
    not the same run as ``model.fit`` from that seed (whose single runs the
    chapter shows separately); over seeds the two agree (tests/test_batched.py).
    """

    def __init__(self, train, test, epochs: int, build=None, mask_seed: int = 0):
        from .._validate import check_nonnegative_int, check_positive_int

        self.x_train, self.y_train = (np.asarray(a, "float32") for a in train)
        self.x_test, self.y_test = (np.asarray(a, "float32") for a in test)
        self.epochs = check_positive_int(epochs, "epochs")
        self.mask_seed = check_nonnegative_int(mask_seed, "mask_seed")
        if build is None:
            from ..models import circles_mlp as build
        self.build = build
        self._records: dict[tuple, dict] = {}
        self.trained = 0  # models trained so far (cache misses)
        self.calls = 0  # batched_fit calls so far

    def train(self, requests) -> int:
        """Train every (configuration, seed) of ``requests`` not trained yet,
        in one :func:`~helpers.batched.batched_fit` call; returns how many."""
        from ..batched import batched_fit

        todo: dict[tuple, tuple[dict, int]] = {}
        for kwargs, seeds in requests:
            for s in seeds:
                key = _key(kwargs, s)
                if key not in self._records and key not in todo:
                    todo[key] = (dict(kwargs), int(s))
        if not todo:
            return 0
        models = [self.build(seed=s, **kw) for kw, s in todo.values()]
        hs = batched_fit(models, self.x_train, self.y_train, self.epochs,
                         validation_data=(self.x_test, self.y_test),
                         seed=self.mask_seed + self.calls, write_back=True)
        for (key, (kw, s)), m, h in zip(todo.items(), models, hs, strict=True):
            self._records[key] = self._measure(s, m, h, kw)
        self.trained += len(todo)
        self.calls += 1
        return len(todo)

    def get(self, kwargs: dict, seeds) -> list[dict]:
        seeds = [int(s) for s in seeds]
        self.train([(kwargs, seeds)])
        return [self._records[_key(kwargs, s)] for s in seeds]

    def _measure(self, seed, model, history, kwargs) -> dict:
        norms = unit_norms(model)
        rec = {
            "seed": seed,
            "model": model,
            "history": history,
            "unit_norms": norms,
            "test_accuracy": accuracy(model, self.x_test, self.y_test),
            "train_accuracy_inference": accuracy(model, self.x_train, self.y_train),
            "train_accuracy_training": float(history["accuracy"][-1]),
            "max_unit_norm": float(norms.max()),
        }
        return rec

    def frame(self, kwargs: dict, seeds):
        """The records' numbers as a DataFrame, one row per seed."""
        import pandas as pd

        rows = [{k: v for k, v in r.items() if k not in ("model", "history", "unit_norms")}
                for r in self.get(kwargs, seeds)]
        return pd.DataFrame(rows)


def layer_table(model):
    """The model's layers in order: type, output shape, parameters, and the
    dropout rate or max-norm bound where there is one."""
    import pandas as pd

    rows = []
    for layer in model.layers:
        cfg = layer.get_config()
        constraint = getattr(layer, "kernel_constraint", None)
        note = ""
        if "rate" in cfg:
            note = f"rate {cfg['rate']:g}"
        elif constraint is not None and hasattr(constraint, "max_value"):
            note = f"MaxNorm({constraint.max_value:g})"
        if "activation" in cfg:
            note = ", ".join(t for t in (cfg["activation"], note) if t)
        rows.append({"layer": type(layer).__name__,
                     "output shape": str(tuple(layer.output.shape)),
                     "parameters": int(layer.count_params()),
                     "settings": note})
    return pd.DataFrame(rows)


def reproduction_table(ours: dict, seed: int = 0):
    """The reference's single run beside ours, one row each, with the two
    meanings of "train accuracy" in separate columns.

    ``ours[name]`` holds ``train_training`` (last epoch of
    ``history["accuracy"]``, dropout on), ``train_inference`` and ``test``
    (``model.evaluate``, dropout off). The reference reports only
    ``evaluate`` numbers: its "dropout on" cell is empty.
    """
    import pandas as pd

    rows = []
    for name, (ref_train, ref_test) in REFERENCE.items():
        o = ours[name]
        rows.append({"model": name, "run": "reference", "train, dropout off (evaluate)": ref_train,
                     "train, dropout on (history, last epoch)": float("nan"),
                     "test (evaluate)": ref_test})
        rows.append({"model": name, "run": f"ours, seed {seed}",
                     "train, dropout off (evaluate)": float(o["train_inference"]),
                     "train, dropout on (history, last epoch)": float(o["train_training"]),
                     "test (evaluate)": float(o["test"])})
    return pd.DataFrame(rows)


def seed_summary(frames: dict):
    """One row per configuration: seeds, test accuracy (mean ± sd, lowest,
    highest) and the training set's accuracy in both modes (mean ± sd)."""
    import pandas as pd

    rows = []
    for name, f in frames.items():
        rows.append({
            "configuration": name,
            "seeds": int(len(f)),
            "test (mean ± sd)": stats.format_mean_sd(f["test_accuracy"]),
            "test, lowest": float(f["test_accuracy"].min()),
            "test, highest": float(f["test_accuracy"].max()),
            "train, evaluate (mean ± sd)": stats.format_mean_sd(f["train_accuracy_inference"]),
            "train, dropout on (mean ± sd)": stats.format_mean_sd(f["train_accuracy_training"]),
        })
    return pd.DataFrame(rows)


def paired(frames: dict, left: str, right: str, column: str = "test_accuracy") -> dict:
    """:func:`helpers.stats.compare` of ``right - left``, paired by seed over the
    seeds both configurations ran (the same seed gives the same hidden-layer
    initial weights unless one of them adds input dropout)."""
    a, b = frames[left].set_index("seed"), frames[right].set_index("seed")
    common = sorted(set(a.index) & set(b.index))
    if not common:
        raise ValueError(f"{left!r} and {right!r} share no seed")
    return stats.compare(a.loc[common, column].to_numpy(), b.loc[common, column].to_numpy(),
                         paired=True)


def peak_of_mean(histories, key: str = "val_accuracy") -> tuple[float, int]:
    """The highest value of the per-epoch mean over runs of ``key``, and its
    epoch (1-based; the first one if several tie)."""
    series = [np.asarray(h[key], dtype=float) for h in histories]
    if not series:
        raise ValueError("no histories")
    n = min(len(a) for a in series)
    mean = np.mean([a[:n] for a in series], axis=0)
    i = int(np.argmax(mean))
    return float(mean[i]), i + 1


def paired_differences(frames: dict, left: str, right: str,
                       column: str = "test_accuracy") -> np.ndarray:
    """Per shared seed, ``right - left`` (in seed order)."""
    a, b = frames[left].set_index("seed"), frames[right].set_index("seed")
    common = sorted(set(a.index) & set(b.index))
    if not common:
        raise ValueError(f"{left!r} and {right!r} share no seed")
    return b.loc[common, column].to_numpy() - a.loc[common, column].to_numpy()


def max_norm_table(records: dict, bound: float):
    """Per configuration (``records[name]``: :meth:`SeedRuns.get`'s list): the
    largest hidden-unit norm and the share of hidden units whose norm is at
    least ``bound`` (within 1e-3), both over seeds, and the test accuracy."""
    import pandas as pd

    rows = []
    for name, recs in records.items():
        rows.append({
            "configuration": name,
            "seeds": len(recs),
            "largest unit norm (mean ± sd)": stats.format_mean_sd(
                [r["max_unit_norm"] for r in recs]),
            f"units at norm ≥ {bound:g} (mean share)": float(np.mean(
                [np.mean(r["unit_norms"] >= bound - 1e-3) for r in recs])),
            "test (mean ± sd)": stats.format_mean_sd([r["test_accuracy"] for r in recs]),
        })
    return pd.DataFrame(rows)


# --- input dropout and the radius -------------------------------------------------------

def mask_kinds(x_seen) -> dict:
    """Shares of rows of ``x_seen`` with both coordinates kept, one dropped,
    both dropped (a dropped coordinate is exactly 0)."""
    kept = (np.asarray(x_seen) != 0).sum(axis=1)
    return {"both kept": float(np.mean(kept == 2)), "one dropped": float(np.mean(kept == 1)),
            "both dropped": float(np.mean(kept == 0))}


def radius_table(x, y, x_seen, y_seen):
    """Median radius ``||x||`` per class, as the points are and as input dropout
    shows them to the network in training; beside the ring's radius."""
    import pandas as pd

    r = np.linalg.norm(np.asarray(x), axis=1)
    rs = np.linalg.norm(np.asarray(x_seen), axis=1)
    y, y_seen = np.asarray(y).reshape(-1), np.asarray(y_seen).reshape(-1)
    rows = []
    for cls in (1, 0):
        rows.append({
            "class": f"{cls} ({'inner' if cls else 'outer'} ring)",
            "ring radius": RING_RADII[cls],
            "median radius, inputs as they are": float(np.median(r[y == cls])),
            "median radius, under input dropout": float(np.median(rs[y_seen == cls])),
        })
    return pd.DataFrame(rows)


def radial_profile(model, radii, n_angles: int = 360):
    """Mean predicted P(class 1) (inference mode) on circles of the given radii."""
    radii = np.asarray(radii, dtype="float32")
    angles = np.linspace(0, 2 * np.pi, n_angles, endpoint=False, dtype="float32")
    pts = np.stack([np.outer(radii, np.cos(angles)), np.outer(radii, np.sin(angles))], -1)
    p = np.asarray(model(pts.reshape(-1, 2), training=False)).reshape(len(radii), n_angles)
    return p.mean(axis=1)


def boundary_radius(radii, p) -> float:
    """The first radius at which the mean P(class 1) falls below 0.5 (linear
    interpolation between grid points); NaN if it never does."""
    radii, p = np.asarray(radii, float), np.asarray(p, float)
    below = np.nonzero(p < 0.5)[0]
    if below.size == 0:
        return float("nan")
    i = int(below[0])
    if i == 0:
        return float(radii[0])
    r0, r1, p0, p1 = radii[i - 1], radii[i], p[i - 1], p[i]
    return float(r0 + (p0 - 0.5) * (r1 - r0) / (p0 - p1))


# --- the rate grid: choose on validation data, report on test data ------------------------

def grid_frame(runs: SeedRuns, rates, seeds, validation):
    """Validation and test accuracy per (rate, seed), long format; the
    validation accuracy is measured on ``validation = (x_val, y_val)``."""
    import pandas as pd

    rows = []
    runs.train([({"rate": float(rate)}, seeds) for rate in rates])  # one batch
    for rate in rates:
        for r in runs.get({"rate": float(rate)}, seeds):
            rows.append({"rate": float(rate), "seed": r["seed"],
                         "val_accuracy": accuracy(r["model"], *validation),
                         "test_accuracy": r["test_accuracy"]})
    return pd.DataFrame(rows)


def grid_summary(grid):
    """Per rate: mean and sd over seeds of validation and test accuracy."""
    g = grid.groupby("rate")
    out = g[["val_accuracy", "test_accuracy"]].agg(["mean", "std"])
    out.columns = [f"{a.split('_')[0]} {b}" for a, b in out.columns]
    return out.reset_index().rename(columns={"val mean": "validation mean",
                                             "val std": "validation sd",
                                             "test std": "test sd"})


def select_rates(grid) -> dict:
    """Choose the rate twice, on the test set and on the validation set.

    ``grid_*``: from the means over seeds. ``per_seed``: as a single-run
    tutorial would, separately for each seed (ties go to the lower rate).
    ``optimism``: :func:`helpers.stats.compare` of the test accuracy reported
    by test selection minus that of validation selection, paired by seed.
    """
    s = grid_summary(grid)
    by_test = float(s.loc[s["test mean"].idxmax(), "rate"])
    by_val = float(s.loc[s["validation mean"].idxmax(), "rate"])
    rows = []
    for seed, f in grid.sort_values("rate").groupby("seed"):
        f = f.reset_index(drop=True)
        t, v = int(f["test_accuracy"].to_numpy().argmax()), int(f["val_accuracy"].to_numpy().argmax())
        rows.append({"seed": int(seed), "rate by test": float(f["rate"][t]),
                     "test, chosen by test": float(f["test_accuracy"][t]),
                     "rate by validation": float(f["rate"][v]),
                     "test, chosen by validation": float(f["test_accuracy"][v])})
    import pandas as pd

    per_seed = pd.DataFrame(rows)
    return {
        "grid_by_test": by_test,
        "grid_by_val": by_val,
        "grid_test_of_test_pick": float(s.set_index("rate").loc[by_test, "test mean"]),
        "grid_test_of_val_pick": float(s.set_index("rate").loc[by_val, "test mean"]),
        "per_seed": per_seed,
        "optimism": stats.compare(per_seed["test, chosen by validation"],
                                  per_seed["test, chosen by test"], paired=True),
    }


def selection_table(sel: dict):
    """The two ways of choosing the rate and the test accuracy each reports."""
    import pandas as pd

    ps = sel["per_seed"]
    return pd.DataFrame([
        {"rate chosen on": "test set",
         "rate (from the means over seeds)": f"{sel['grid_by_test']:g}",
         "its mean test accuracy": sel["grid_test_of_test_pick"],
         "one run per rate, chosen per seed: test accuracy (mean ± sd)":
             stats.format_mean_sd(ps["test, chosen by test"])},
        {"rate chosen on": "validation set",
         "rate (from the means over seeds)": f"{sel['grid_by_val']:g}",
         "its mean test accuracy": sel["grid_test_of_val_pick"],
         "one run per rate, chosen per seed: test accuracy (mean ± sd)":
             stats.format_mean_sd(ps["test, chosen by validation"])},
    ])


def selection_sentence(sel: dict) -> str:
    """One sentence on the rates chosen from the means over seeds (see
    :func:`select_rates`)."""
    t, v = sel["grid_by_test"], sel["grid_by_val"]
    tv, tt = sel["grid_test_of_val_pick"], sel["grid_test_of_test_pick"]
    if t == v:
        return (f"On the means over seeds, both sets choose the same rate, {v:g}, whose "
                f"test accuracy is {fmt(tv)}: here the honest number and the test-chosen "
                f"one coincide.")
    return (f"On the means over seeds, the validation set chooses rate {v:g}, whose test "
            f"accuracy is {fmt(tv)}; the test set would choose {t:g} and report {fmt(tt)}, "
            f"{stats.signed(tt - tv)} more.")


def fmt(x: float, digits: int = 3) -> str:
    """A number for the prose, ``"0.757"``; ``"–"`` for NaN."""
    return "–" if x != x or math.isinf(x) else f"{x:.{digits}f}"
