"""Figures every chapter needs: training curves (one run or many) and decision boundaries."""

from __future__ import annotations

import numpy as np

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def _as_runs(h):
    """A history (dict of per-epoch lists), a keras History, or a list of histories."""
    if hasattr(h, "history"):
        h = h.history
    if isinstance(h, dict):
        return [h]
    runs = [r.history if hasattr(r, "history") else r for r in h]
    if not runs or not all(isinstance(r, dict) for r in runs):
        raise TypeError("expected a history dict, a keras History, or a list of them")
    return runs


def curve_band(runs, key):
    """Mean and standard deviation across runs of one per-epoch series."""
    series = [np.asarray(r[key], dtype=float) for r in runs]
    n = min(len(s) for s in series)
    a = np.stack([s[:n] for s in series])
    return a.mean(0), a.std(0), len(series)


def plot_history(histories, labels=None, metrics=("accuracy", "loss"), axes=None,
                 title=None, validation_label="test", band=True, legend="axes"):
    """Train (dashed) and validation (solid) curves per metric, one panel each.

    ``legend="axes"`` puts a legend in every panel; ``legend="below"`` draws one
    shared legend under the figure, so that long labels never cover the curves.

    ``histories`` is one history or a list of *configurations*, each of which is
    one history or a list of histories (repeated seeds: drawn as mean with a
    ±1 standard-deviation band).
    """
    import matplotlib.pyplot as plt

    if isinstance(histories, dict) or hasattr(histories, "history"):
        histories = [histories]
    configs = [_as_runs(h) for h in histories]
    labels = list(labels) if labels is not None else [f"run {i + 1}" for i in range(len(configs))]
    if len(labels) != len(configs):
        raise ValueError(f"{len(labels)} labels for {len(configs)} histories")
    if legend not in ("axes", "below"):
        raise ValueError(f"legend must be 'axes' or 'below', not {legend!r}")
    if axes is None:
        fig, axes = plt.subplots(1, len(metrics), figsize=(5.2 * len(metrics), 3.8), squeeze=False)
        axes = axes[0]
    else:
        fig = axes[0].figure
    for ax, metric in zip(axes, metrics, strict=False):
        for i, (runs, label) in enumerate(zip(configs, labels, strict=True)):
            color = PALETTE[i % len(PALETTE)]
            for key, style, part in ((metric, "--", "train"), (f"val_{metric}", "-", validation_label)):
                if key not in runs[0]:
                    continue
                mean, std, n = curve_band(runs, key)
                epochs = np.arange(1, len(mean) + 1)
                suffix = f" (mean of {n})" if n > 1 else ""
                ax.plot(epochs, mean, style, color=color, lw=1.3, label=f"{label}, {part}{suffix}")
                if band and n > 1:
                    ax.fill_between(epochs, mean - std, mean + std, color=color, alpha=0.15, lw=0)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.set_title(metric.replace("_", " "))
        ax.grid(alpha=0.3)
        if legend == "axes":
            ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    if legend == "below":
        handles, names = axes[0].get_legend_handles_labels()
        fig.legend(handles, names, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=2, fontsize=8,
                   frameon=False)
    return fig


def plot_decision_boundary(predict, x, y, ax=None, title=None, resolution=200, margin=0.3,
                           cmap="RdBu_r"):
    """Shade P(class 1) over the input plane; plot the points by class.

    ``predict`` maps an (n, 2) float32 array to probabilities (n,) or (n, 1),
    e.g. ``lambda a: model(a, training=False)``.
    """
    import matplotlib.pyplot as plt

    x = np.asarray(x)
    y = np.asarray(y).reshape(-1)
    lo, hi = x.min(0) - margin, x.max(0) + margin
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    grid = np.c_[gx.ravel(), gy.ravel()].astype("float32")
    p = np.asarray(predict(grid)).reshape(gx.shape)
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4.2))
    cs = ax.contourf(gx, gy, p, levels=np.linspace(0, 1, 11), cmap=cmap, alpha=0.75)
    ax.contour(gx, gy, p, levels=[0.5], colors="k", linewidths=1.2)
    for cls, marker, color in ((0, "o", "#08306b"), (1, "^", "#67000d")):
        sel = y == cls
        ax.scatter(x[sel, 0], x[sel, 1], marker=marker, c=color, edgecolor="w", s=30, label=f"class {cls}")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=8)
    if title:
        ax.set_title(title)
    return cs


def scatter_classes(x, y, ax=None, title=None):
    """Scatter a 2-D two-class data set coloured by class."""
    import matplotlib.pyplot as plt

    x = np.asarray(x)
    y = np.asarray(y).reshape(-1)
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4.2))
    for cls, marker, color in ((0, "o", "#1f77b4"), (1, "^", "#d62728")):
        sel = y == cls
        ax.scatter(x[sel, 0], x[sel, 1], marker=marker, c=color, s=28, label=f"class {cls}")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_aspect("equal")
    ax.legend()
    if title:
        ax.set_title(title)
    return ax
