"""The calibration chapter's figures, in the book's style.

"No dropout" is dark grey, dropout red and MC dropout green, as everywhere in
the book. Temperature scaling has no concept colour in
:data:`helpers.plotting.style.COLORS`; it is drawn in the purple of the
fifth CIFAR-10 configuration, which no figure of this chapter uses otherwise.
"""

from __future__ import annotations

import numpy as np

from .. import stats
from .style import CIFAR_COLORS, COLORS, LINESTYLES, subplots

#: Colour, line style and marker of each predictor.
PREDICTOR_STYLES = {
    "no dropout": (COLORS["none"], LINESTYLES[0], "o"),
    "dropout": (COLORS["dropout"], LINESTYLES[1], "s"),
    "MC dropout": (COLORS["mc"], LINESTYLES[2], "^"),
    "temperature scaling": (CIFAR_COLORS["e"], LINESTYLES[3], "D"),
}
# the recorded CIFAR-10 predictors (helpers.studies.calibration.CIFAR_PREDICTORS)
PREDICTOR_STYLES.update({
    "(a) no dropout": PREDICTOR_STYLES["no dropout"],
    "(b) dropout, inference pass": PREDICTOR_STYLES["dropout"],
    "(b) MC dropout": PREDICTOR_STYLES["MC dropout"],
})


def _style(name):
    return PREDICTOR_STYLES.get(name, (COLORS["train"], "-", "x"))


def plot_reliability(diagrams: dict, ece_text: dict, ncols: int = 2):
    """One panel per predictor: the accuracy of each equal-width confidence
    bin (bars), the gap to the diagonal (hatched), the bin's mean confidence
    (black dots) and, in the corner, the share of predictions in the top bin.

    ``diagrams[name]`` is a :func:`helpers.studies.calibration.reliability`
    table (predictions of all seeds pooled); ``ece_text[name]`` the ECE as
    text for the panel title; ``ncols`` panels per row."""
    names = list(diagrams)
    nrows = int(np.ceil(len(names) / ncols))
    height = (3.0 * nrows + 0.7) if ncols <= 2 else (2.6 * nrows + 0.9)
    fig, axes = subplots(nrows, ncols, height=height, sharex=True, sharey=True)
    axes = np.atleast_1d(axes).ravel()
    for ax, name in zip(axes, names, strict=False):
        table = diagrams[name]
        color = _style(name)[0]
        width = float(table["high"].iloc[0] - table["low"].iloc[0])
        centre = (table["low"] + table["high"]).to_numpy() / 2
        used = table["count"].to_numpy() > 0
        acc = table["accuracy"].to_numpy()
        conf = table["confidence"].to_numpy()
        ax.bar(centre[used], acc[used], width=width * 0.95, color=color, alpha=0.75,
               label="accuracy in the bin")
        gap_low = np.minimum(acc, conf)[used]
        ax.bar(centre[used], np.abs(conf - acc)[used], bottom=gap_low, width=width * 0.95,
               fill=False, hatch="///", edgecolor=COLORS["none"], lw=0.6,
               label="gap to the mean confidence")
        ax.plot(centre[used], conf[used], "o", color="black", ms=3, label="mean confidence")
        ax.plot([0, 1], [0, 1], ls="--", color=COLORS["train"], lw=1.0)
        top = table["count"].iloc[-1] / table["count"].sum()
        ax.text(0.03, 0.95, f"top bin: {top:.0%}\nof predictions", transform=ax.transAxes,
                va="top", fontsize=9)
        ax.set_title(f"{name}\nECE {ece_text[name]}")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
    for ax in axes[len(names):]:
        ax.set_visible(False)
    for ax in axes[-ncols:]:  # three panels side by side leave room for one word
        ax.set_xlabel("confidence (top-class probability)" if ncols <= 2 else "confidence")
    for ax in axes[::ncols]:
        ax.set_ylabel("accuracy")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=9)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


def plot_corruptions(images: dict, severities: dict):
    """One row per corruption, one column per level (0 = clean): the same
    test digit. ``images[kind]``: ``[levels + 1, 64]``."""
    kinds = list(images)
    n_cols = len(next(iter(images.values())))
    fig, axes = subplots(len(kinds), n_cols, height=1.15 * len(kinds) + 0.5, squeeze=False)
    for r, kind in enumerate(kinds):
        for c in range(n_cols):
            ax = axes[r, c]
            ax.imshow(np.asarray(images[kind][c]).reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
            for spine in ax.spines.values():
                spine.set_visible(True)
                spine.set_color(COLORS["train"])
            label = "clean" if c == 0 else f"{severities[kind][c - 1]:g}"
            ax.set_title(label, fontsize=9)
        axes[r, 0].set_ylabel(kind, fontsize=9, rotation=0, ha="right", va="center")
    fig.tight_layout()
    return fig


def plot_shift(curves: dict, kinds, metrics=("accuracy", "ECE")):
    """Rows: ``metrics``; columns: corruptions; x: severity level (0 =
    clean); one line per predictor, mean over seeds with ±1 sd error bars.

    ``curves[(kind, metric)][predictor]`` is ``[levels + 1, S]``."""
    kinds = list(kinds)
    fig, axes = subplots(len(metrics), len(kinds), height=2.6 * len(metrics) + 0.9,
                         sharex=True, sharey="row", squeeze=False)
    for c, kind in enumerate(kinds):
        for r, metric in enumerate(metrics):
            ax = axes[r, c]
            series = curves[(kind, metric)]
            n = len(series)
            for i, (name, values) in enumerate(series.items()):
                values = np.asarray(values, float)
                ms = np.array([stats.mean_sd(v) for v in values])
                x = np.arange(len(values)) + 0.08 * (i - (n - 1) / 2)
                color, ls, marker = _style(name)
                ax.errorbar(x, ms[:, 0], yerr=np.nan_to_num(ms[:, 1]), color=color, ls=ls,
                            marker=marker, ms=4, capsize=2, lw=1.4, label=name)
            if r == 0:
                ax.set_title(kind)
            if r == len(metrics) - 1:
                ax.set_xlabel("severity level")
            if c == 0:
                ax.set_ylabel(metric)
            ax.set_xticks(range(len(next(iter(series.values())))))
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=len(labels), fontsize=9,
               bbox_to_anchor=(0.5, 1.0))
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    return fig
