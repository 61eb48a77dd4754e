"""The modern-architectures chapter's figures (chapter 9), in the book's style.

Each function returns one figure. A dropped entry is drawn in dropout's
concept colour, a kept one in light grey. The placements of dropout in the
Transformer block keep one colour each in every figure of the chapter: no
dropout dark grey, dropout on the residual branches dropout's red, dropout
on the token embeddings the colour of input dropout.
"""

from __future__ import annotations

import numpy as np
from matplotlib.colors import ListedColormap

from .style import CIFAR_COLORS, COLORS, LINESTYLES, subplots

#: One colour per placement of dropout in the encoder block.
PLACEMENT_COLORS = {
    "no dropout": COLORS["none"],
    "attention": CIFAR_COLORS["e"],
    "residual": COLORS["dropout"],
    "embedding": COLORS["input_dropout"],
    "drop path": COLORS["maxnorm"],
    "all three": COLORS["mc"],
}
KEPT = "#dddddd"


def _color(name: str, i: int) -> str:
    if name in PLACEMENT_COLORS:
        return PLACEMENT_COLORS[name]
    extra = list(CIFAR_COLORS.values())
    return extra[i % len(extra)]


def plot_masks(panels):
    """Masks side by side: ``panels`` is a list of ``(title, kept)`` with
    ``kept`` a boolean array ``(examples, positions, channels)``; each panel
    stacks the examples vertically (thin white lines between them), positions
    down, channels across. Dropped entries in red."""
    panels = [(t, np.asarray(k, dtype=bool)) for t, k in panels]
    if not panels:
        raise ValueError("no masks to draw")
    for title, kept in panels:
        if kept.ndim != 3:
            raise ValueError(f"mask {title!r} must be (examples, positions, channels), got {kept.shape}")
    fig, axes = subplots(1, len(panels), height=3.9, squeeze=False)
    cmap = ListedColormap([COLORS["dropout"], KEPT])
    for ax, (title, kept) in zip(axes[0], panels, strict=True):
        n, t, c = kept.shape
        ax.imshow(kept.reshape(n * t, c), cmap=cmap, vmin=0, vmax=1, aspect="auto",
                  interpolation="nearest")
        for i in range(1, n):
            ax.axhline(i * t - 0.5, color="white", lw=2.5)
        ax.set_title(title, fontsize=9)
        ax.set_xticks([0, c - 1], [1, c])
        ax.set_yticks([(i + 0.5) * t - 0.5 for i in range(n)],
                      [f"ex. {i + 1}" for i in range(n)] if ax is axes[0][0] else [])
        ax.tick_params(length=0)
        ax.grid(False)
        ax.set_xlabel("channel")
    axes[0][0].set_ylabel("positions of each example")
    fig.tight_layout()
    return fig


def plot_placement_curves(curves: dict):
    """Two panels, one curve per placement, mean over seeds with a ±1 sd
    band: the training loss that the training step saw (dropout on) at every
    epoch (log scale), and the test loss (inference mode) at the epochs in
    each history's ``val_epoch``, zoomed on the end of training (the first
    epochs run off the top). One colour and line style per placement."""
    fig, axes = subplots(1, 2, height=3.7)
    panels = (("loss", "training loss (dropout on)"), ("val_loss", "test loss"))
    for ax, (key, title) in zip(axes, panels, strict=True):
        for i, (name, histories) in enumerate(curves.items()):
            runs = np.stack([np.asarray(h[key], dtype=float) for h in histories])
            mean, sd = runs.mean(0), runs.std(0)
            if key == "val_loss" and "val_epoch" in histories[0]:
                epochs = np.asarray(histories[0]["val_epoch"])
            else:
                epochs = np.arange(1, len(mean) + 1)
            color = _color(name, i)
            ax.plot(epochs, mean, LINESTYLES[i % len(LINESTYLES)], color=color,
                    lw=2.2 if name == "no dropout" else 1.5, label=f"{name} (mean of {len(runs)})")
            ax.fill_between(epochs, np.maximum(mean - sd, 1e-6), mean + sd, color=color,
                            alpha=0.12, lw=0)
        ax.set_title(title)
    axes[0].set_yscale("log")
    ends = [np.mean([h["val_loss"][-1] for h in hs]) for hs in curves.values()]
    lows = [np.min(np.mean([h["val_loss"] for h in hs], axis=0)) for hs in curves.values()]
    axes[1].set_ylim(0.85 * min(lows), 1.6 * max(ends))  # the first epochs run off the top
    for ax in axes:
        ax.set_xlabel("epoch (one full-batch step)")
    axes[0].set_ylabel("cross-entropy")
    fig.tight_layout()
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=3)
    return fig


def plot_placement_scores(results, column: str = "test accuracy", baseline: str = "no dropout"):
    """One column of dots per placement (one dot per seed, lines join the
    seeds' values across placements); a dash marks each mean."""
    names = list(dict.fromkeys(results["placement"]))
    fig, ax = subplots(height=3.4)
    seeds = sorted(results["seed"].unique())
    table = results.pivot(index="seed", columns="placement", values=column)[names]
    for seed in seeds:
        ax.plot(range(len(names)), table.loc[seed].to_numpy(float), "-", color=COLORS["train"],
                lw=0.6, alpha=0.6, zorder=1)
    for i, name in enumerate(names):
        values = table[name].to_numpy(float)
        ax.scatter(np.full(len(values), i), values, s=26, color=_color(name, i), zorder=2,
                   edgecolor="white", linewidth=0.5)
        ax.plot([i - 0.25, i + 0.25], [values.mean()] * 2, color="black", lw=2, zorder=3)
    ax.axhline(table[baseline].mean(), color=COLORS["none"], ls=":", lw=1.2)
    ax.set_xticks(range(len(names)), names)
    ax.set_ylabel(column)
    ax.set_xlim(-0.5, len(names) - 0.5)
    fig.tight_layout()
    return fig
