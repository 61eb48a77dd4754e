"""The tuning chapter's figures (chapter 12), in the book's style.

Each function returns one figure. The tuners are not concepts of the book, so
they are drawn in greys that differ in line style and marker; the recorded
search keeps the concept colours (dropout alone red, dropout with a max-norm
cap blue).
"""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import MaxNLocator

from .style import COLORS, LINESTYLES, subplots

#: Line colour, style, width and marker per tuner (greys: not concepts of the
#: book). Widths fall in drawing order, so a line drawn on top of another
#: leaves it visible.
TUNER_STYLES = {
    "grid": (COLORS["train"], "-", 4.0, "o"),
    "Bayes": (COLORS["none"], "--", 2.4, "s"),
    "Hyperband": ("0.05", ":", 1.8, "^"),
}


def _style(name: str, i: int):
    return TUNER_STYLES.get(name, (COLORS["train"], LINESTYLES[i % len(LINESTYLES)], 1.6, "o"))


def plot_best_so_far(curves: dict, floor: float | None = None):
    """Best validation accuracy found so far, per tuner: after each trial
    (left) and against the epochs trained so far, all seeds counted (right).
    ``curves`` maps a tuner's name to :func:`helpers.studies.tuning.best_so_far`;
    the faint markers are the trials' own scores. ``floor`` cuts the y-axis
    (scores below it are drawn at the bottom edge)."""
    if not curves:
        raise ValueError("no curves to plot")
    fig, axes = subplots(1, 2, height=3.6, sharey=True)
    for i, (name, c) in enumerate(curves.items()):
        color, style, width, marker = _style(name, i)
        for ax, x in zip(axes, (c["trial"], c["epochs"]), strict=True):
            ax.step(x, c["best"], where="post", color=color, ls=style, lw=width, label=name,
                    zorder=2 + i)
            score = np.asarray(c["score"], dtype=float)
            if floor is not None:
                score = np.maximum(score, floor)
            ax.plot(x, score, ls="none", marker=marker, ms=4, color=color, alpha=0.4,
                    zorder=1)
    axes[0].set_xlabel("trial")
    axes[0].xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[1].set_xlabel("epochs trained (all seeds)")
    axes[0].set_ylabel("best validation accuracy so far")
    if floor is not None:
        axes[0].set_ylim(bottom=floor)
    axes[0].legend(loc="lower right")
    fig.tight_layout()
    return fig


def plot_recorded(frame):
    """A recorded search: validation accuracy against the dropout rate, one line
    per max-norm value (the best over learning rates where those were tuned).
    ``frame`` is :func:`helpers.studies.tuning.recorded_frame`."""
    if frame is None or len(frame) == 0:
        raise ValueError("no completed trials to plot")
    best = frame.groupby(["max-norm", "rate"], sort=False)["val_accuracy"].max().reset_index()
    caps = sorted(best["max-norm"].unique(), key=lambda v: (v != "none", float(v) if v != "none" else 0.0))
    fig, ax = subplots(height=3.4)
    for i, cap in enumerate(caps):
        part = best[best["max-norm"] == cap].sort_values("rate")
        color = COLORS["dropout"] if cap == "none" else COLORS["maxnorm"]
        ax.plot(part["rate"], part["val_accuracy"], marker="o", ms=4, color=color,
                ls=LINESTYLES[i % len(LINESTYLES)], lw=2.0 - 0.3 * (i % 3),
                label="no max-norm" if cap == "none" else f"max-norm {cap}")
    ax.set_xlabel("dropout rate")
    ax.set_ylabel("validation accuracy")
    ax.legend(loc="best")
    fig.tight_layout()
    return fig
