"""All of the book's figures, in one style (:mod:`helpers.plotting.style`).

Shared figure types live here (training curves, decision boundaries); figures
that belong to one chapter live in a submodule named after it. Notebooks never
call ``plt.subplots`` themselves: they call these functions or :func:`subplots`.
"""

from __future__ import annotations

import numpy as np

from .style import CIFAR_COLORS, COLORS, LINESTYLES, PROB_CMAP, WIDTH, subplots, use_book_style

__all__ = ["CIFAR_COLORS", "COLORS", "LINESTYLES", "PROB_CMAP", "WIDTH", "curve_band",
           "plot_decision_boundary", "plot_history", "scatter_classes", "subplots", "use_book_style"]

PALETTE = tuple(COLORS[k] for k in ("none", "dropout", "maxnorm", "input_dropout", "mc", "l2"))


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
                 title=None, validation_label="test", band=True, legend="axes", colors=None,
                 train=True):
    """Train (dashed) and validation (solid) curves per metric, one panel each.

    ``legend="axes"`` puts a legend in every panel; ``legend="below"`` draws one
    shared legend under the figure, so that long labels never cover the curves.

    ``histories`` is one history or a list of *configurations*, each of which is
    one history or a list of histories (repeated seeds: drawn as mean with a
    ±1 standard-deviation band). ``colors`` gives one colour per configuration
    (default: the book's concept colours in order); configurations also differ
    in line width so that coinciding curves stay visible. ``train=False`` omits
    the training curves.
    """
    if isinstance(histories, dict) or hasattr(histories, "history"):
        histories = [histories]
    configs = [_as_runs(h) for h in histories]
    labels = list(labels) if labels is not None else [f"run {i + 1}" for i in range(len(configs))]
    if len(labels) != len(configs):
        raise ValueError(f"{len(labels)} labels for {len(configs)} histories")
    if legend not in ("axes", "below"):
        raise ValueError(f"legend must be 'axes' or 'below', not {legend!r}")
    if axes is None:
        fig, axes = subplots(1, len(metrics), height=3.3, squeeze=False)
        axes = axes[0]
    else:
        fig = axes[0].figure
    for ax, metric in zip(axes, metrics, strict=False):
        for i, (runs, label) in enumerate(zip(configs, labels, strict=True)):
            color = colors[i] if colors is not None else PALETTE[i % len(PALETTE)]
            width = 2.4 - 0.6 * (i % 3)  # first series widest: a curve drawn on top leaves it visible
            for key, style, part in ((metric, "--", "train"), (f"val_{metric}", "-", validation_label)):
                if key not in runs[0] or (part == "train" and not train):
                    continue
                mean, std, n = curve_band(runs, key)
                epochs = np.arange(1, len(mean) + 1)
                suffix = f" (mean of {n})" if n > 1 else ""
                ax.plot(epochs, mean, style, color=color, lw=width if style == "-" else 1.2,
                        label=f"{label}, {part}{suffix}")
                if band and n > 1:
                    ax.fill_between(epochs, mean - std, mean + std, color=color, alpha=0.15, lw=0)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.set_title(metric.replace("_", " "))
        if legend == "axes":
            ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    if legend == "below":
        handles, names = axes[0].get_legend_handles_labels()
        fig.legend(handles, names, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=2)
    return fig


def plot_decision_boundary(predict, x, y, ax=None, title=None, resolution=200, margin=0.3,
                           cmap=PROB_CMAP, lim=None, colorbar=False):
    """Shade P(class 1) over the input plane (colours fixed to 0..1); plot the points.

    ``predict`` maps an (n, 2) float32 array to probabilities (n,) or (n, 1),
    e.g. ``lambda a: model(a, training=False)``. ``lim=(low, high)`` fixes both
    axes (use the same for panels that are compared); ``colorbar=True`` adds a
    colour bar for P(class 1).
    """
    x = np.asarray(x)
    y = np.asarray(y).reshape(-1)
    if lim is not None:
        lo, hi = np.array([lim[0], lim[0]]), np.array([lim[1], lim[1]])
    else:
        lo, hi = x.min(0) - margin, x.max(0) + margin
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    grid = np.c_[gx.ravel(), gy.ravel()].astype("float32")
    p = np.asarray(predict(grid)).reshape(gx.shape)
    if ax is None:
        _, ax = subplots(height=4.2)
    cs = ax.contourf(gx, gy, p, levels=np.linspace(0, 1, 11), cmap=cmap, alpha=0.75, vmin=0, vmax=1)
    ax.contour(gx, gy, p, levels=[0.5], colors="k", linewidths=1.2)
    for cls, marker, color in ((0, "o", "#08306b"), (1, "^", "#67000d")):
        sel = y == cls
        ax.scatter(x[sel, 0], x[sel, 1], marker=marker, c=color, edgecolor="w", s=30, label=f"class {cls}")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_aspect("equal")
    ax.grid(False)
    ax.legend(loc="upper right")
    if colorbar:
        ax.figure.colorbar(cs, ax=ax, label="P(class 1)", shrink=0.85)
    if title:
        ax.set_title(title)
    return cs


def scatter_classes(x, y, ax=None, title=None):
    """Scatter a 2-D two-class data set coloured by class."""
    x = np.asarray(x)
    y = np.asarray(y).reshape(-1)
    if ax is None:
        _, ax = subplots(height=4.2)
    for cls, marker, color in ((0, "o", COLORS["class0"]), (1, "^", COLORS["class1"])):
        sel = y == cls
        ax.scatter(x[sel, 0], x[sel, 1], marker=marker, c=color, s=28, label=f"class {cls}")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_aspect("equal")
    ax.legend()
    if title:
        ax.set_title(title)
    return ax
