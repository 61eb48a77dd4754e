"""The regularisers chapter's figures, in the book's style.

Each regulariser keeps its concept colour from :data:`helpers.plotting.COLORS`;
the combinations with dropout are drawn as dropout (red fill) outlined in the
partner's colour.
"""

from __future__ import annotations

import numpy as np

from .. import stats
from .style import COLORS, subplots

#: Fill and edge colour of each method's marker.
METHOD_COLORS = {
    "no regularisation": ("none", "none"),
    "L2": ("l2", "l2"),
    "early stopping": ("early_stopping", "early_stopping"),
    "Gaussian noise": ("noise", "noise"),
    "shifts": ("augment", "augment"),
    "augmentation": ("augment", "augment"),
    "max-norm": ("maxnorm", "maxnorm"),
    "dropout": ("dropout", "dropout"),
    "dropout + L2": ("dropout", "l2"),
    "dropout + max-norm": ("dropout", "maxnorm"),
    "dropout + augmentation": ("dropout", "augment"),
}


def method_colors(method: str) -> tuple[str, str]:
    fill, edge = METHOD_COLORS.get(method, ("train", "train"))
    return COLORS[fill], COLORS[edge]


def plot_method_scores(accuracy: dict, loss: dict):
    """Two panels, one row per method: test accuracy and test cross-entropy,
    mean over seeds with ±1 sd error bars; dotted line at "no
    regularisation"'s mean."""
    methods = list(accuracy)
    fig, axes = subplots(1, 2, height=0.32 * len(methods) + 1.4, sharey=True)
    ypos = np.arange(len(methods))[::-1]
    for ax, values, label in ((axes[0], accuracy, "test accuracy"),
                              (axes[1], loss, "test loss (cross-entropy)")):
        for y, m in zip(ypos, methods, strict=True):
            mean, sd = stats.mean_sd(values[m])
            fill, edge = method_colors(m)
            ax.errorbar(mean, y, xerr=0.0 if np.isnan(sd) else sd, fmt="o", ms=8,
                        color=edge, mfc=fill, mec=edge, mew=2.2, capsize=3, lw=1.6)
        ref = values.get("no regularisation")
        if ref is not None:
            ax.axvline(np.mean(ref), color=COLORS["none"], ls=":", lw=1.2)
        ax.set_xlabel(label)
    axes[0].set_yticks(ypos)
    axes[0].set_yticklabels(methods)
    fig.tight_layout()
    return fig


def plot_weight_agreement(reference, fits: dict, p: float):
    """Scatter of fitted logistic-regression weights against the input-dropout
    fit's (``reference``), one marker series per other fit, with the identity
    line."""
    styles = {0: ("dropout", "o"), 1: ("l2", "s"), 2: ("train", "^")}
    fig, ax = subplots(height=4.0)
    reference = np.asarray(reference, float)
    lo, hi = reference.min(), reference.max()
    for i, (label, w) in enumerate(fits.items()):
        color, marker = styles.get(i, ("train", "x"))
        w = np.asarray(w, float)
        lo, hi = min(lo, w.min()), max(hi, w.max())
        ax.scatter(reference, w, s=28, marker=marker, color=COLORS[color],
                   alpha=0.85, label=label)
    pad = 0.05 * (hi - lo)
    ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color=COLORS["none"], ls="--",
            lw=1.0, label="same weight")
    ax.set_xlabel(f"weight fitted with input dropout (rate {p:g}), averaged over masks")
    ax.set_ylabel("weight fitted deterministically")
    ax.legend(loc="upper left")
    fig.tight_layout()
    return fig
