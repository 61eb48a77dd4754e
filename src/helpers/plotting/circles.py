"""The circles case study's figures (chapter 4), in the book's style.

Each function returns one figure; configurations keep the book's concept
colours (:data:`CONFIG_COLORS`), and curves that can coincide differ in line
style and width.
"""

from __future__ import annotations

import numpy as np

from . import plot_decision_boundary, plot_history, scatter_classes
from .style import COLORS, LINESTYLES, subplots

#: One colour per configuration name used in the chapter.
CONFIG_COLORS = {
    "no dropout": COLORS["none"],
    "Dropout(0.4)": COLORS["dropout"],
    "input Dropout(0.1) + Dropout(0.4)": COLORS["input_dropout"],
    "Dropout(0.4) + MaxNorm(0.5)": COLORS["maxnorm"],
}
#: Axis limits of every map of the input plane in the chapter.
PLANE = (-1.5, 1.5)


def config_color(name: str) -> str:
    """The concept colour of a configuration name (input dropout, max-norm,
    dropout, none), so that new names still get the right colour."""
    if name in CONFIG_COLORS:
        return CONFIG_COLORS[name]
    low = name.lower()
    if "input" in low:
        return COLORS["input_dropout"]
    if "maxnorm" in low or "max-norm" in low:
        return COLORS["maxnorm"]
    if "dropout" in low and "no dropout" not in low:
        return COLORS["dropout"]
    return COLORS["none"]


def plot_data(x_train, y_train, x_test, y_test):
    """The training and the test points side by side, same axes."""
    fig, axes = subplots(1, 2, height=3.6, sharex=True, sharey=True)
    scatter_classes(x_train, y_train, ax=axes[0], title=f"training set ({len(x_train)} points)")
    scatter_classes(x_test, y_test, ax=axes[1], title=f"test set ({len(x_test)} points)")
    for ax in axes:
        ax.set_xlim(*PLANE)
        ax.set_ylim(*PLANE)
        ax.get_legend().remove()
    axes[1].set_ylabel("")
    fig.tight_layout()
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=2)
    return fig


#: (history key, label, line style, line width, alpha, z-order) of the reproduction
#: figure; the noisy training-mode curve is drawn faint and underneath.
_REPRO_SERIES = (
    ("{m}", "train, dropout on (history)", ":", 0.8, 0.45, 1),
    ("train_{m}_inference", "train, dropout off (as evaluate)", "--", 1.6, 1.0, 2),
    ("val_{m}", "test (dropout off)", "-", 2.0, 1.0, 3),
)


def plot_reproduction(histories: dict):
    """Accuracy (top) and loss (bottom) per epoch, one column per model; in each,
    the test curve and the training curve measured both ways."""
    names = list(histories)
    fig, axes = subplots(2, len(names), height=5.6, sharex=True, sharey="row", squeeze=False)
    for col, name in enumerate(names):
        h, color = histories[name], config_color(name)
        for row, metric in enumerate(("accuracy", "loss")):
            ax = axes[row, col]
            for key, label, style, width, alpha, z in _REPRO_SERIES:
                key = key.format(m=metric)
                if key not in h:
                    continue
                y = np.asarray(h[key], dtype=float)
                ax.plot(np.arange(1, len(y) + 1), y, style, color=color, lw=width,
                        alpha=alpha, zorder=z, label=label)
            ax.set_ylabel(metric if col == 0 else "")
            if row == 0:
                ax.set_title(name)
            else:
                ax.set_xlabel("epoch")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    order = sorted(range(len(labels)), key=lambda i: -_REPRO_SERIES[i][5])
    fig.tight_layout()
    fig.legend([handles[i] for i in order], [labels[i] for i in order], loc="upper center",
               bbox_to_anchor=(0.5, 0.0), ncol=2)
    return fig


def plot_boundaries(models: dict, x_train, y_train, x_test, y_test):
    """P(class 1) over the plane, one row per model: training points left,
    test points right; one colour bar and one legend for all panels."""
    fig, axes = subplots(len(models), 2, height=3.0 * len(models) + 0.6, squeeze=False,
                         sharex=True, sharey=True, layout="constrained")
    cs = None
    for row, (name, model) in enumerate(models.items()):

        def predict(a, m=model):
            return m(a, training=False)

        for col, (x, y, part) in enumerate(((x_train, y_train, "training points"),
                                            (x_test, y_test, "test points"))):
            ax = axes[row, col]
            cs = plot_decision_boundary(predict, x, y, ax=ax, title=f"{name}: {part}",
                                        lim=PLANE, resolution=120)
            ax.get_legend().remove()
            if col:
                ax.set_ylabel("")
            if row < len(models) - 1:
                ax.set_xlabel("")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.colorbar(cs, ax=axes.ravel().tolist(), label="P(class 1)", shrink=0.8)
    fig.legend(handles, labels, loc="outside lower center", ncol=2)
    return fig


def plot_seed_spread(frames: dict, column: str = "test_accuracy",
                     ylabel: str = "test accuracy", seed: int = 0):
    """One box per configuration with every seed's value as a dot."""
    names = list(frames)
    fig, ax = subplots(height=3.6)
    data = [np.asarray(frames[n][column], dtype=float) for n in names]
    box = ax.boxplot(data, showmeans=True, widths=0.5, patch_artist=True,
                     medianprops={"color": "k"},
                     meanprops={"marker": "D", "markerfacecolor": "w", "markeredgecolor": "k"})
    rng = np.random.default_rng(seed)
    for i, (name, values, patch) in enumerate(zip(names, data, box["boxes"], strict=True), start=1):
        color = config_color(name)
        patch.set_facecolor(color)
        patch.set_alpha(0.25)
        ax.scatter(i + rng.uniform(-0.12, 0.12, len(values)), values, s=12, color=color,
                   zorder=3)
    ax.set_xticks(range(1, len(names) + 1),
                  [f"{n.replace(' + ', chr(10) + '+ ')}\n({len(d)} seeds)" for n, d in zip(names, data, strict=True)])
    ax.set_ylabel(ylabel)
    ax.grid(axis="x", visible=False)
    fig.tight_layout()
    return fig


def plot_seed_curves(histories: dict):
    """Test accuracy and loss per epoch, mean and ±1 sd band over seeds."""
    names = list(histories)
    return plot_history([histories[n] for n in names], labels=names, train=False,
                        colors=[config_color(n) for n in names], legend="below")


def plot_input_radius(radius_clean, y_clean, radius_seen, y_seen, profiles: dict, ring_radii):
    """Left: the training points' distance from the centre as they are (filled)
    and as input dropout shows them in training (lines). Right: the trained
    models' mean P(class 1) on circles of each radius, in inference mode."""
    fig, axes = subplots(1, 2, height=3.5, sharex=True)
    ax = axes[0]
    bins = np.linspace(0, 1.6, 33)
    y_clean, y_seen = np.asarray(y_clean).reshape(-1), np.asarray(y_seen).reshape(-1)
    for cls in (0, 1):
        color = COLORS[f"class{cls}"]
        ax.hist(np.asarray(radius_clean)[y_clean == cls], bins=bins, density=True, color=color,
                alpha=0.25, label=f"class {cls}, as they are")
        ax.hist(np.asarray(radius_seen)[y_seen == cls], bins=bins, density=True, color=color,
                histtype="step", lw=1.8, label=f"class {cls}, under input dropout")
    ax.set_xlabel(r"radius $\|x\|$")
    ax.set_ylabel("density")
    ax.set_title("training points' radius")
    ax = axes[1]
    for i, (name, (radii, p)) in enumerate(profiles.items()):
        ax.plot(radii, p, LINESTYLES[i % len(LINESTYLES)], color=config_color(name),
                lw=2.2 - 0.6 * (i % 2), label=name)
    ax.axhline(0.5, color="k", lw=0.8)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(r"radius $\|x\|$")
    ax.set_ylabel("mean P(class 1)")
    ax.set_title("trained models, dropout off")
    for a in axes:
        for r in ring_radii:
            a.axvline(r, color=COLORS["train"], ls="--", lw=1.0)
    axes[0].set_xlim(0, 1.6)
    fig.tight_layout()
    handles = axes[0].get_legend_handles_labels()
    handles2 = axes[1].get_legend_handles_labels()
    fig.legend(handles[0] + handles2[0], handles[1] + handles2[1], loc="upper center",
               bbox_to_anchor=(0.5, 0.0), ncol=2)
    return fig


def plot_rate_grid(summary, by_val: float, by_test: float):
    """Validation and test accuracy (mean ± 1 sd over seeds) per dropout rate,
    with the rate each set would choose marked."""
    fig, ax = subplots(height=3.6)
    color = COLORS["dropout"]
    rates = np.asarray(summary["rate"], dtype=float)
    for part, style, shift, marker in (("validation", "--", -0.006, "s"), ("test", "-", 0.006, "o")):
        mean_col = f"{part} mean"
        sd_col = f"{part} sd"
        ax.errorbar(rates + shift, summary[mean_col], yerr=summary[sd_col], fmt=style,
                    marker=marker, color=color, capsize=3, lw=2.0 if part == "test" else 1.3,
                    mfc="w" if part == "validation" else color, label=f"{part} set")
    for rate, part, style in ((by_val, "validation", "--"), (by_test, "test", "-")):
        ax.axvline(rate, color="k", ls=style, lw=1.0, zorder=0,
                   label=f"rate chosen on the {part} set: {rate:g}")
    ax.set_xlabel("Keras Dropout rate (fraction dropped)")
    ax.set_ylabel("accuracy after training")
    fig.tight_layout()
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=2)
    return fig
