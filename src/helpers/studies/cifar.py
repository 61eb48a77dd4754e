"""The CIFAR-10 chapter's bookkeeping: which recorded runs exist, the tables
that summarise them, and the sentences that put their numbers into the prose.

Everything here reads result dicts (``helpers.experiments.load_results()``)
or their per-configuration summary (``summarize_results``) and works for any
subset of the planned runs: a configuration without a recorded run is named
as "not recorded yet", never silently dropped, so the chapter reads correctly
before and after a configuration's runs are committed.
"""

from __future__ import annotations

import numpy as np

from ..experiments import compare_configs
from ..models import CIFAR_CONFIGS
from ..stats import describe_comparison, format_mean_sd, t_interval

#: Seeds the chapter plans for every configuration.
SEEDS = (0, 1, 2)

#: The chapter's comparisons: (left, right, what going from left to right adds).
#: Differences are always ``right - left``.
COMPARISONS = (
    ("a", "b", "dropout"),
    ("c", "b", "max-norm"),
    ("d", "b", "Adam instead of plain SGD"),
    ("d", "e", "Nesterov momentum and a decaying learning rate"),
    ("e", "b", "Adam instead of SGD with momentum"),
)

#: The test-accuracy range the reference tutorial reports for this network.
REFERENCE_RANGE = (0.65, 0.75)


def tag(config: str) -> str:
    """``"(b)"``: how the prose names a configuration."""
    if config not in CIFAR_CONFIGS:
        raise ValueError(f"unknown configuration {config!r}; have {sorted(CIFAR_CONFIGS)}")
    return f"({config})"


def _configs(configs=None) -> list[str]:
    configs = list(CIFAR_CONFIGS) if configs is None else list(configs)
    for c in configs:
        tag(c)
    return configs


def _join(words) -> str:
    """``"a"``, ``"a and b"``, ``"a, b and c"``."""
    words = list(words)
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


# --------------------------------------------------------------------------- which runs
def planned_runs(configs=None, seeds=SEEDS) -> list[str]:
    """Result names the chapter plans: ``a-seed0``, ``a-seed1``, ..."""
    return [f"{c}-seed{s}" for c in _configs(configs) for s in seeds]


def missing_runs(recorded, configs=None, seeds=SEEDS) -> list[str]:
    """Planned result names that ``recorded`` (names or a dict keyed by name) lacks."""
    have = set(recorded)
    return [name for name in planned_runs(configs, seeds) if name not in have]


def status_text(summary: dict, recorded, configs=None, seeds=SEEDS, digits: int = 3) -> str:
    """One line per configuration (seeds and test accuracy, or "not recorded yet"),
    then the planned runs that are missing: what the chapter's numbers rest on."""
    configs = _configs(configs)
    lines = []
    for c in configs:
        label = CIFAR_CONFIGS[c]["label"]
        if c in summary:
            s = summary[c]
            n = s["seeds"]
            acc = format_mean_sd(s["test_accuracies"], digits)
            lines.append(f"{label}: {n} seed{'s' * (n != 1)}, test accuracy {acc}")
        else:
            lines.append(f"{label}: not recorded yet")
    planned = planned_runs(configs, seeds)
    missing = missing_runs(recorded, configs, seeds)
    if missing:
        lines.append(f"Not recorded yet ({len(missing)} of {len(planned)} planned runs): "
                     + ", ".join(missing))
    else:
        lines.append(f"All {len(planned)} planned runs are recorded.")
    return "\n".join(lines)


def _provenance_counts(recorded, field) -> dict:
    """How many recorded runs have each value of ``field(provenance)``."""
    counts: dict = {}
    for r in (recorded.values() if isinstance(recorded, dict) else recorded):
        value = field(r["provenance"])
        counts[value] = counts.get(value, 0) + 1
    return counts


def dataset_sources(recorded) -> str:
    """Which CIFAR-10 copy the recorded runs read, from their provenance:
    ``"cifar10-jpeg.npz (all 12 runs)"``, or each source with its run count."""
    counts = _provenance_counts(recorded, lambda p: p["dataset"]["source"])
    if not counts:
        return "no recorded runs"
    if len(counts) == 1:
        (src, n), = counts.items()
        return f"{src} (all {n} run{'s' * (n != 1)})" if n > 1 else f"{src} (the one run)"
    return "; ".join(f"{src} ({n} run{'s' * (n != 1)})" for src, n in sorted(counts.items()))


def devices(recorded) -> str:
    """The devices the recorded runs ran on, most frequent first."""
    counts = _provenance_counts(recorded, lambda p: p["device"]["device"])
    if not counts:
        return "no device"
    return _join(d for d, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


# --------------------------------------------------------------------------- tables
def configs_frame(configs=None):
    """The configurations as a table: what each one switches on."""
    import pandas as pd

    names = {"adam": "Adam (rate 0.001)", "sgd": "SGD (rate 0.01, no momentum)",
             "sgd_nesterov": "SGD (rate 0.01, cosine decay, Nesterov 0.9)"}
    rows = []
    for c in _configs(configs):
        spec = CIFAR_CONFIGS[c]
        rows.append({"configuration": spec["label"], "dropout": "yes" if spec["dropout"] else "no",
                     "max-norm": "yes" if spec["max_norm"] else "no",
                     "optimizer": names.get(spec["optimizer"], spec["optimizer"])})
    return pd.DataFrame(rows)


def summary_frame(summary: dict, recorded=None, configs=None, digits: int = 3):
    """Per configuration (recorded or not): seeds, test accuracy mean ± sd, its
    95 % t-interval, where validation loss bottoms out, how far it rises after,
    the final train - validation accuracy gap and seconds per epoch."""
    import pandas as pd

    by_config: dict = {}
    for r in (recorded.values() if isinstance(recorded, dict) else recorded or ()):
        by_config.setdefault(r["config"], []).append(r)
    rows = []
    for c in _configs(configs):
        row = {"configuration": CIFAR_CONFIGS[c]["label"]}
        if c not in summary:
            rows.append({**row, "seeds": 0, "test accuracy": "not recorded yet",
                         "95 % interval": "–", "lowest val loss at epoch": np.nan,
                         "val loss rise after it": np.nan, "train − val accuracy": np.nan,
                         "s per epoch": np.nan})
            continue
        s = summary[c]
        _, low, high = t_interval(s["test_accuracies"])
        interval = "–" if np.isnan(low) else f"{low:.{digits}f} to {high:.{digits}f}"
        runs = by_config.get(c, [])
        secs = (float(np.mean([np.mean(r["provenance"]["wall_seconds_per_epoch"]) for r in runs]))
                if runs else np.nan)
        rows.append({**row, "seeds": int(s["seeds"]),
                     "test accuracy": format_mean_sd(s["test_accuracies"], digits),
                     "95 % interval": interval,
                     "lowest val loss at epoch": float(s["best_val_loss_epoch"]),
                     "val loss rise after it": float(s["val_loss_rise"]),
                     "train − val accuracy": float(s["final_gap"]), "s per epoch": secs})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- sentences
def loss_shape_text(best_epoch: float, epochs: int, rise: float, averaged: bool = False) -> str:
    """How a validation-loss curve ends, in words, for "the validation loss ...".

    ``best_epoch`` is 1-based (a mean over seeds when ``averaged``); ``rise`` is
    the last value minus the minimum.
    """
    where = f"epoch {best_epoch:.0f} of {epochs}"
    mean = ", mean over seeds" if averaged else ""
    if best_epoch >= epochs - 2:
        return f"keeps falling to the end (lowest at {where}{mean})"
    return (f"is lowest at {where}{' (mean over seeds)' if averaged else ''}, then turns "
            f"up: by the last epoch it is {rise:.2f} above that minimum")


def recorded_shape_text(summary: dict, config: str) -> str:
    """:func:`loss_shape_text` for a recorded configuration, or "not recorded yet"."""
    if config not in summary:
        return f"is not known yet ({tag(config)} has no recorded run)"
    s = summary[config]
    return loss_shape_text(s["best_val_loss_epoch"], s["epochs"], s["val_loss_rise"],
                           averaged=s["seeds"] > 1)


def gap_text(summary: dict, config: str, digits: int = 2) -> str:
    """The final train - validation accuracy gap of a configuration, as a number."""
    if config not in summary:
        return "unknown (not recorded yet)"
    return f"{summary[config]['final_gap']:.{digits}f}"


def training_state_text(summary: dict, config: str, gap: float = 0.05) -> str:
    """Whether a recorded configuration was still improving when training stopped
    (validation loss lowest in the last epochs and train - validation accuracy
    gap below ``gap``) or had begun to overfit, as a clause."""
    if config not in summary:
        return f"whether {tag(config)} under-trains or overfits is not known yet"
    s = summary[config]
    if s["best_val_loss_epoch"] >= s["epochs"] - 2 and s["final_gap"] < gap:
        return (f"{tag(config)} is still improving when training stops, so in this budget "
                f"it under-trains rather than overfits")
    if s["best_val_loss_epoch"] >= s["epochs"] - 2:
        return (f"{tag(config)}'s validation loss is still falling at the end, although "
                f"training accuracy already runs ahead of validation accuracy")
    return f"{tag(config)} has begun to overfit before training stops"


def effect_text(summary: dict, left: str, right: str, digits: int = 3) -> str:
    """``right - left`` in mean test accuracy with its 95 % interval and verdict
    (:func:`helpers.stats.describe_comparison`), or why it is not known yet."""
    absent = [tag(c) for c in (left, right) if c not in summary]
    if absent:
        verb = "has" if len(absent) == 1 else "have"
        return f"not measured yet ({_join(absent)} {verb} no recorded run)"
    cmp = compare_configs(summary, left, right)
    text = describe_comparison(cmp, digits)
    n_left, n_right = summary[left]["seeds"], summary[right]["seeds"]
    if n_left == n_right:
        seeds = f"{n_left} seeds per side"
    else:
        seeds = f"{n_left} seed{'s' * (n_left != 1)} of {tag(left)}, {n_right} of {tag(right)}"
    pairing = ", paired by seed" if cmp["paired"] else ""
    return f"{text} ({seeds}{pairing})"


def optimizer_text(summary: dict, digits: int = 3) -> str:
    """What SGD with Nesterov momentum and a decaying rate, (e), changes against
    plain SGD (d) and against Adam (b); readable with or without (e) recorded."""
    d, e, b = "d", "e", "b"
    if e not in summary:
        return (f"Configuration {tag(e)} has no recorded run yet, so this page cannot yet "
                f"say whether momentum and a decaying learning rate close the gap between "
                f"{tag(d)} and {tag(b)}; the list of missing runs above names the runs needed")
    acc = format_mean_sd(summary[e]["test_accuracies"], digits)
    parts = [f"Configuration {tag(e)} reaches a test accuracy of {acc}"]
    if d in summary:
        parts.append(f"against plain SGD, {tag(e)} − {tag(d)} is "
                     f"{effect_text(summary, d, e, digits)}")
    if b in summary:
        parts.append(f"against Adam, {tag(b)} − {tag(e)} is "
                     f"{effect_text(summary, e, b, digits)}")
    return "; ".join(parts)


def range_text(summary: dict, bounds=REFERENCE_RANGE, digits: int = 3) -> str:
    """Which recorded configurations' mean test accuracy lies in ``bounds``."""
    low, high = bounds
    inside = [tag(c) for c, s in summary.items() if low <= s["test_mean"] <= high]
    outside = [f"{tag(c)} at {s['test_mean']:.{digits}f}" for c, s in summary.items()
               if not low <= s["test_mean"] <= high]
    if not summary:
        return "no configuration is recorded yet"
    text = f"inside it: {_join(inside) or 'none'}"
    return text + (f"; outside it: {_join(outside)}" if outside else "; outside it: none")


# --------------------------------------------------------------------------- live run
def live_summary(history: dict) -> dict:
    """Where one run's validation loss bottoms out and how its curves end."""
    val_loss = np.asarray(history["val_loss"], dtype=float)
    best = int(np.argmin(val_loss))
    return {"epochs": int(val_loss.size), "best_epoch": best + 1,
            "best_val_loss": float(val_loss[best]), "last_val_loss": float(val_loss[-1]),
            "rise": float(val_loss[-1] - val_loss[best]),
            "train_accuracy": float(history["accuracy"][-1]),
            "val_accuracy": float(history["val_accuracy"][-1])}


def live_shape_text(history: dict) -> str:
    """:func:`loss_shape_text` for one live run."""
    s = live_summary(history)
    return loss_shape_text(s["best_epoch"], s["epochs"], s["rise"])


def live_outcome_text(histories: dict, without: str = "a", with_: str = "b") -> str:
    """One sentence comparing the live run's two models at the last epoch."""
    a, b = live_summary(histories[without]), live_summary(histories[with_])
    loss = "lower" if b["last_val_loss"] < a["last_val_loss"] else "higher"
    acc = ("higher than" if b["val_accuracy"] > a["val_accuracy"]
           else "lower than" if b["val_accuracy"] < a["val_accuracy"] else "equal to")
    return (f"at the last epoch the validation loss of {tag(with_)} is {loss} than that of "
            f"{tag(without)} ({b['last_val_loss']:.2f} against {a['last_val_loss']:.2f}), and "
            f"its validation accuracy is {acc} that of {tag(without)} "
            f"({b['val_accuracy']:.3f} against {a['val_accuracy']:.3f})")
