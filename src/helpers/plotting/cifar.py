"""Figures of the CIFAR-10 chapter: sample images, the network's layers, and
the training curves and test accuracies of configurations (a)-(e).

Every configuration has one colour in every figure
(:data:`helpers.plotting.style.CIFAR_COLORS`) and is named by its label in
:data:`helpers.models.CIFAR_CONFIGS`. Figures of recorded results take whatever
configurations are recorded and say in the figure which are not recorded yet.
"""

from __future__ import annotations

import numpy as np

from ..models import CIFAR_CONFIGS
from . import plot_history
from .style import CIFAR_COLORS, COLORS, subplots

__all__ = ["history_limits", "plot_architecture", "plot_configs", "plot_sample_images",
           "plot_test_accuracies"]


def _check(configs):
    configs = list(configs)
    unknown = [c for c in configs if c not in CIFAR_CONFIGS]
    if unknown:
        raise ValueError(f"unknown configurations {unknown}; have {sorted(CIFAR_CONFIGS)}")
    return configs


def plot_sample_images(x, y, classes, per_class: int = 3):
    """A grid of training images: one column per class (named on top), the
    first ``per_class`` images of that class down the column."""
    x, y = np.asarray(x), np.asarray(y).reshape(-1)
    fig, axes = subplots(per_class, len(classes), height=0.72 * per_class + 0.45, squeeze=False)
    for c, name in enumerate(classes):
        idx = np.flatnonzero(y == c)[:per_class]
        for r in range(per_class):
            ax = axes[r, c]
            if r < len(idx):
                ax.imshow(x[idx[r]], interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
            for side in ax.spines.values():
                side.set_visible(False)
        axes[0, c].set_title(name, fontsize=9, rotation=30, ha="left", va="bottom")
    fig.subplots_adjust(left=0.01, right=0.97, top=0.80, bottom=0.01, wspace=0.08, hspace=0.08)
    return fig


def _layer_text(layer) -> tuple[str, str]:
    """(box text, kind) for one layer of a Keras model."""
    kind = type(layer).__name__
    shape = "×".join(str(d) for d in layer.output.shape[1:])
    extra = ""
    if kind == "Dropout":
        extra = f"\nrate {layer.rate:g}"
    elif getattr(layer, "kernel_constraint", None) is not None:
        c = layer.kernel_constraint.get_config()
        extra = f"\nmax-norm {c.get('max_value'):g}"
    elif kind == "Dense" and layer.get_config().get("activation") == "softmax":
        extra = "\nsoftmax"
    name = {"InputLayer": "Input", "MaxPooling2D": "MaxPool"}.get(kind, kind)
    return f"{name}\n{shape}{extra}", kind


def plot_architecture(model, per_row: int = 5, title=None):
    """The model's layers as boxes in reading order (``per_row`` to a row), each
    with its output shape; dropout layers in the dropout colour, layers with a
    max-norm constraint outlined in the max-norm colour."""
    from matplotlib.patches import FancyBboxPatch

    layers = list(model.layers)
    if type(layers[0]).__name__ != "InputLayer":  # Sequential hides its input
        layers = [None, *layers]
    rows = int(np.ceil(len(layers) / per_row))
    fig, ax = subplots(height=1.25 * rows + 0.35)
    w, h, gap_x, gap_y = 1.0, 0.8, 0.35, 0.45
    fills = {"Dropout": "#f7c6c6", "Conv2D": "#dceaf5", "Dense": "#dceaf5"}
    centres = []
    for i, layer in enumerate(layers):
        r, col = divmod(i, per_row)
        x0, y0 = col * (w + gap_x), -r * (h + gap_y)
        if layer is None:
            text, kind = f"Input\n{'×'.join(str(d) for d in model.input_shape[1:])}", "InputLayer"
        else:
            text, kind = _layer_text(layer)
        constrained = getattr(layer, "kernel_constraint", None) is not None
        ax.add_patch(FancyBboxPatch((x0, y0), w, h, boxstyle="round,pad=0.02",
                                    facecolor=fills.get(kind, "#eeeeee"),
                                    edgecolor=COLORS["maxnorm"] if constrained else "0.35",
                                    lw=2.2 if constrained else 0.9))
        ax.text(x0 + w / 2, y0 + h / 2, text, ha="center", va="center", fontsize=9)
        centres.append((x0, y0))
    for (xa, ya), (xb, yb) in zip(centres[:-1], centres[1:], strict=True):
        if ya == yb:
            ax.annotate("", xy=(xb, yb + h / 2), xytext=(xa + w, ya + h / 2),
                        arrowprops={"arrowstyle": "->", "color": "0.3"})
        else:  # wrap: down from the row's last box, left, down into the next row
            mid = yb + h + gap_y / 2
            ax.plot([xa + w / 2, xa + w / 2, xb + w / 2], [ya, mid, mid], color="0.3", lw=1)
            ax.annotate("", xy=(xb + w / 2, yb + h), xytext=(xb + w / 2, mid),
                        arrowprops={"arrowstyle": "->", "color": "0.3"})
    ax.set_xlim(-0.1, per_row * (w + gap_x) - gap_x + 0.1)
    ax.set_ylim(-(rows - 1) * (h + gap_y) - 0.1, h + 0.1)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def _runs(h):
    """A history dict or a list of them -> list of history dicts."""
    if hasattr(h, "history"):
        h = h.history
    return [h] if isinstance(h, dict) else [r.history if hasattr(r, "history") else r for r in h]


def history_limits(histories: dict, metrics=("loss", "accuracy"), pad: float = 0.04) -> dict:
    """Per metric, ``(low, high)`` over the train and validation curves of every
    configuration in ``histories``: figures that are compared share these."""
    out = {}
    for m in metrics:
        values = [np.asarray(run[k], dtype=float) for h in histories.values() for run in _runs(h)
                  for k in (m, f"val_{m}") if k in run]
        if not values:
            continue
        lo, hi = min(v.min() for v in values), max(v.max() for v in values)
        span = (hi - lo) or 1.0
        out[m] = (lo - pad * span, hi + pad * span)
    return out


def plot_configs(histories: dict, configs, title=None, limits=None,
                 metrics=("loss", "accuracy"), mark_best: bool = True):
    """Training (dashed) and validation (solid) curves of ``configs`` that
    ``histories`` (config -> history or list of seed histories) holds, in
    their colours; repeated seeds as mean ± sd band. A dot marks the epoch of
    lowest mean validation loss. Configurations without a history are named
    under the title as not recorded yet. ``limits`` (metric -> (low, high))
    defaults to :func:`history_limits` of all of ``histories``, so figures drawn
    from the same dictionary share their axes."""
    configs = _check(configs)
    present = [c for c in configs if c in histories]
    absent = [c for c in configs if c not in histories]
    limits = history_limits(histories, metrics) if limits is None else limits
    fig, axes = subplots(1, len(metrics), height=3.6, squeeze=False)
    axes = axes[0]
    if present:
        plot_history([histories[c] for c in present],
                     labels=[CIFAR_CONFIGS[c]["label"] for c in present],
                     metrics=metrics, axes=axes, validation_label="validation",
                     legend="below", colors=[CIFAR_COLORS[c] for c in present])
        fig.legends.clear()  # replaced by the shorter legend of _legend_below
    if mark_best and "loss" in metrics and present:
        ax = axes[list(metrics).index("loss")]
        for c in present:
            runs = _runs(histories[c])
            n = min(len(r["val_loss"]) for r in runs)
            mean = np.mean([np.asarray(r["val_loss"][:n], dtype=float) for r in runs], axis=0)
            best = int(np.argmin(mean))
            ax.plot(best + 1, mean[best], "o", ms=7, color=CIFAR_COLORS[c], mec="white",
                    zorder=5)
    from matplotlib.ticker import MaxNLocator

    for ax, m in zip(axes, metrics, strict=True):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
        if m in limits:
            ax.set_ylim(*limits[m])
        ax.set_title(m)
    note = ""
    if absent:
        names = ", ".join(f"({c})" for c in absent)
        note = f"{names}: not recorded yet"
    if title or note:
        fig.suptitle("\n".join(t for t in (title, note) if t))
    fig.tight_layout()
    _legend_below(fig, present, histories, mark_best and "loss" in metrics)
    return fig


def _legend_below(fig, configs, histories, best_marker: bool):
    """Under the figure: one entry per configuration (its colour and seed
    count) on the left; which line style is which on the right."""
    from matplotlib.lines import Line2D

    def seeds(c):
        n = len(_runs(histories[c]))
        return f" ({n} seeds)" if n > 1 else ""

    handles = [Line2D([], [], color=CIFAR_COLORS[c], lw=2.4,
                      label=CIFAR_CONFIGS[c]["label"] + seeds(c)) for c in configs]
    styles = [Line2D([], [], color="0.3", ls="--", lw=1.2, label="training"),
              Line2D([], [], color="0.3", ls="-", lw=2.2, label="validation")]
    if best_marker:
        styles.append(Line2D([], [], color="0.3", ls="", marker="o", ms=7, mec="white",
                             label="lowest validation loss"))
    top = 0.0
    if handles:  # configurations first, the line styles in one row under them
        first = fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.0, 0.0))
        fig.canvas.draw()
        box = first.get_window_extent().transformed(fig.transFigure.inverted())
        top = box.y0
    fig.legend(handles=styles, loc="upper left", bbox_to_anchor=(0.0, top), ncol=len(styles))


def plot_test_accuracies(summary: dict, configs=None, bounds=None):
    """Test accuracy of every recorded seed (dots) with the mean and its 95 %
    t-interval (bar), one row per configuration in its colour; rows without a
    recorded run say so. ``bounds`` shades a reference range."""
    from ..stats import t_interval

    configs = _check(CIFAR_CONFIGS if configs is None else configs)
    import textwrap

    fig, ax = subplots(height=0.62 * len(configs) + 1.1)
    values = [a for c in configs if c in summary for a in summary[c]["test_accuracies"]]
    lo = min([*values, *(bounds or ())], default=0.5) - 0.02
    hi = max([*values, *(bounds or ())], default=0.8) + 0.02
    if bounds:
        ax.axvspan(*bounds, color="0.9", zorder=0, label="range the tutorial reports")
    for i, c in enumerate(configs):
        y = len(configs) - 1 - i
        color = CIFAR_COLORS[c]
        if c not in summary:
            ax.text(lo + 0.005, y, "not recorded yet", va="center", fontsize=9, color="0.35")
            continue
        accs = np.asarray(summary[c]["test_accuracies"], dtype=float)
        ax.plot(accs, np.full(accs.size, y + 0.12), "o", color=color, ms=6, alpha=0.8,
                mec="white")
        mean, low, high = t_interval(accs)
        if not np.isnan(low):
            ax.plot([low, high], [y - 0.12, y - 0.12], "-", color=color, lw=2.2)
        ax.plot([mean], [y - 0.12], "|", color="k", ms=12, mew=2)
    ax.set_yticks(range(len(configs)))
    ax.set_yticklabels([textwrap.fill(CIFAR_CONFIGS[c]["label"], 30) for c in reversed(configs)])
    ax.set_ylim(-0.6, len(configs) - 0.4)
    ax.set_xlim(lo, hi)
    ax.set_xlabel("test accuracy (dots: seeds; bar: mean and 95 % interval)")
    ax.grid(axis="y", visible=False)
    if bounds:
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0))
    fig.tight_layout()
    return fig
