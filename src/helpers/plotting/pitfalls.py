"""The pitfalls chapter's figures (chapter 8), in the book's style.

Each function returns one figure. Dropout keeps its concept colour, input
dropout its own, "no dropout" dark grey; quantities that are not concepts of
the book (two ways of choosing a model) are drawn in greys that differ in
fill and line style.
"""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import MaxNLocator, NullFormatter

from .style import COLORS, subplots

#: Radii of the two rings of ``make_circles(factor=0.8)`` before the noise.
RING_RADII = {0: 1.0, 1: 0.8}
RING_NAMES = {0: "outer ring (class 0)", 1: "inner ring (class 1)"}


def _epochs(values):
    return np.arange(1, len(values) + 1)


def plot_fit_accuracy(history: dict, dropout_off, dropout_on=None):
    """Per epoch: the accuracy ``fit`` reports, the training set's accuracy at
    the end of the epoch with dropout off (and on), and the test accuracy."""
    fig, ax = subplots(height=3.6)
    series = [
        (history["accuracy"], "fit's history: dropout on, averaged over the epoch",
         COLORS["dropout"], "--", 2.0),
        (dropout_on, "training set at the end of the epoch, dropout on", COLORS["dropout"], ":", 1.6),
        (dropout_off, "training set at the end of the epoch, dropout off", COLORS["train"], "-", 2.6),
        (history.get("val_accuracy"), "test set (dropout off)", COLORS["none"], "-.", 1.4),
    ]
    for values, label, color, style, width in series:
        if values is None:
            continue
        values = np.asarray(values, dtype=float)
        ax.plot(_epochs(values), values, style, color=color, lw=width, label=label, marker="o",
                ms=3)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy")
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


def plot_input_radii(r_test, y_test, r_seen, y_seen, rate: float, bins=None):
    """Distance from the centre of the points the network sees: the test
    points at inference (left) and the training points after input dropout in
    training mode (right), per class, same axes; dotted lines at the rings."""
    bins = np.linspace(0.0, 1.8, 37) if bins is None else bins
    fig, axes = subplots(1, 2, height=3.4, sharex=True, sharey=True)
    panels = ((r_test, y_test, "inference: test points"),
              (r_seen, y_seen, f"training: after Dropout({rate:g})"))
    for ax, (r, y, title) in zip(axes, panels, strict=True):
        r = np.asarray(r, dtype=float)
        y = np.asarray(y).reshape(-1).astype(int)
        for cls, style in ((0, "stepfilled"), (1, "step")):
            ax.hist(r[y == cls], bins=bins, density=True, histtype=style,
                    color=COLORS[f"class{cls}"], alpha=0.45 if style == "stepfilled" else 1.0,
                    lw=2.0, label=RING_NAMES[cls])
        for cls, radius in RING_RADII.items():
            ax.axvline(radius, color=COLORS[f"class{cls}"], ls=":", lw=1.4)
        ax.set_title(title)
        ax.set_xlabel("distance from the centre")
    axes[0].set_ylabel("density")
    fig.tight_layout()
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=2)
    return fig


def plot_radial_profiles(radii, profiles: dict, colors: dict | None = None):
    """P(inner ring) against the distance from the centre, averaged over
    directions: mean over seeds with a ±1 sd band, one curve per
    configuration; dotted lines at the two rings, dashed at 0.5."""
    colors = colors or {}
    fig, ax = subplots(height=3.4)
    radii = np.asarray(radii, dtype=float)
    for i, (name, runs) in enumerate(profiles.items()):
        runs = np.atleast_2d(np.asarray(runs, dtype=float))
        mean, sd = runs.mean(0), runs.std(0)
        color = colors.get(name, COLORS["input_dropout"] if "input" in name.lower() else COLORS["none"])
        ax.plot(radii, mean, color=color, lw=2.4 - 0.8 * (i % 2), ls=("-", "--")[i % 2],
                label=f"{name} (mean of {len(runs)})" if len(runs) > 1 else name)
        if len(runs) > 1:
            ax.fill_between(radii, mean - sd, mean + sd, color=color, alpha=0.15, lw=0)
    ax.axhline(0.5, color="k", lw=0.8, ls="--")
    for cls, radius in RING_RADII.items():
        ax.axvline(radius, color=COLORS[f"class{cls}"], ls=":", lw=1.4)
    ax.set_ylim(0, 1)
    ax.set_xlim(radii.min(), radii.max())
    ax.set_xlabel("distance from the centre")
    ax.set_ylabel("P(inner ring)")
    ax.legend(loc="upper right")
    fig.tight_layout()
    return fig


def plot_selection(draws, labels: dict | None = None):
    """Histogram over the draws of reported minus true accuracy, for the model
    chosen on the test set and the one chosen on a validation set (shared
    bins); vertical lines at zero and at each mean."""
    labels = labels or {"test": "chosen on the test set", "val": "chosen on a validation set"}
    gaps = {k: np.asarray(draws[f"reported_by_{k}"], float) - np.asarray(draws[f"true_by_{k}"], float)
            for k in labels}
    lo = min(g.min() for g in gaps.values())
    hi = max(g.max() for g in gaps.values())
    bins = np.linspace(lo - 0.005, hi + 0.005, 26)
    fig, ax = subplots(height=3.4)
    styles = {"test": ("stepfilled", COLORS["train"], 0.55, "-"),
              "val": ("step", COLORS["none"], 1.0, "--")}
    for key, label in labels.items():
        histtype, color, alpha, ls = styles.get(key, ("step", COLORS["none"], 1.0, ":"))
        g = gaps[key]
        ax.hist(g, bins=bins, histtype=histtype, color=color, alpha=alpha, lw=2.0, ls=ls,
                label=f"{label} (mean {g.mean():+.3f})")
        ax.axvline(g.mean(), color=color, lw=2.0, ls=ls)
    ax.axvline(0.0, color="k", lw=0.8)
    ax.set_xlabel("reported test accuracy − true accuracy")
    ax.set_ylabel(f"draws (of {len(draws)})")
    fig.tight_layout()
    handles, names = ax.get_legend_handles_labels()
    fig.legend(handles, names, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=2)
    return fig


def plot_variance_ratios(ratios: dict, rate: float, seed: int = 0, colors: dict | None = None):
    """Per BatchNorm channel, moving variance / inference-time variance of its
    inputs, one column of dots per layout (log scale); a solid line at 1 (the
    statistic fits) and a dotted one at 1 / (1 - rate)."""
    colors = colors or {}
    rng = np.random.default_rng(seed)
    fig, ax = subplots(height=3.4)
    names = list(ratios)
    for i, name in enumerate(names):
        r = np.asarray(ratios[name], dtype=float)
        r = r[np.isfinite(r)]
        color = colors.get(name, COLORS["dropout"])
        ax.scatter(i + rng.uniform(-0.18, 0.18, r.size), r, s=10, color=color, alpha=0.6,
                   label=f"{name}: median {np.median(r):.2f}")
        ax.plot([i - 0.3, i + 0.3], [np.median(r)] * 2, color="k", lw=2)
    ax.axhline(1.0, color="k", lw=0.8)
    ax.axhline(1.0 / (1.0 - rate), color="k", lw=0.8, ls=":")
    ax.set_yscale("log")
    finite = np.concatenate([np.asarray(r, float)[np.isfinite(r)] for r in ratios.values()])
    lo, hi = min(finite.min(), 1.0), max(finite.max(), 1.0 / (1.0 - rate))
    ticks = [v for v in (0.5, 0.7, 1, 1.5, 2, 3, 5, 10, 20, 50, 100, 1000, 10000) if lo <= v <= hi * 1.05]
    ax.set_yticks(ticks, [f"{v:g}" for v in ticks])
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_xticks(range(len(names)), names)
    ax.set_xlim(-0.6, len(names) - 0.4)
    ax.set_ylabel("moving variance / inference variance")
    ax.grid(axis="x", visible=False)
    ax.legend(loc="upper right")
    fig.tight_layout()
    return fig
