"""Figures of the theory chapter: thinned networks and the papers' results."""

from __future__ import annotations

import numpy as np

from .style import COLORS, subplots

#: Colours of the thinned-network drawing: kept units and their connections in
#: the "no regularisation" grey, dropped units outlined in the dropout colour.
_KEPT, _OFF_EDGE = COLORS["none"], "#dddddd"


def thinned_masks(rng, sizes=(4, 6, 6, 1), keep: float = 0.5, n_networks: int = 3):
    """Keep-masks for ``n_networks`` thinned networks: hidden layers (all but the
    first and last entry of ``sizes``) keep each unit with probability ``keep``;
    input and output units are always kept."""
    if not 0.0 < keep <= 1.0:
        raise ValueError(f"keep must be in (0, 1], got {keep!r}")
    if len(sizes) < 3:
        raise ValueError("sizes needs an input, at least one hidden and an output layer")
    nets = []
    for _ in range(n_networks):
        masks = [np.ones(sizes[0], bool)]
        masks += [rng.random(n) < keep for n in sizes[1:-1]]
        masks.append(np.ones(sizes[-1], bool))
        nets.append(masks)
    return nets


def plot_thinned_networks(seed: int = 0, sizes=(4, 6, 6, 1), keep: float = 0.5,
                          n_networks: int = 3):
    """Draw ``n_networks`` thinned networks side by side: kept units filled,
    dropped units hollow with a cross, and only connections between two kept
    units drawn dark. Returns ``(fig, masks)``."""
    masks = thinned_masks(np.random.default_rng(seed), sizes, keep, n_networks)
    fig, axes = subplots(1, n_networks, height=2.9, squeeze=False)
    axes = axes[0]
    pos = [[(li, (n - 1) / 2 - j) for j in range(n)] for li, n in enumerate(sizes)]
    n_hidden = sum(sizes[1:-1])
    for ax, keepm in zip(axes, masks, strict=True):
        for li in range(len(sizes) - 1):
            for a, (xa, ya) in enumerate(pos[li]):
                for b, (xb, yb) in enumerate(pos[li + 1]):
                    on = bool(keepm[li][a] and keepm[li + 1][b])
                    ax.plot([xa, xb], [ya, yb], color=_KEPT if on else _OFF_EDGE,
                            lw=0.9 if on else 0.6, zorder=1 if on else 0, gid="on" if on else "off")
        for li, layer_pos in enumerate(pos):
            xs, ys = np.array(layer_pos).T
            on = keepm[li]
            ax.scatter(xs[on], ys[on], s=150, c=_KEPT, zorder=2, gid="kept")
            ax.scatter(xs[~on], ys[~on], s=150, facecolors="white", edgecolors=COLORS["dropout"],
                       linewidths=1.4, zorder=2, gid="dropped")
            ax.scatter(xs[~on], ys[~on], s=40, marker="x", c=COLORS["dropout"], zorder=3)
        kept = int(sum(m.sum() for m in keepm[1:-1]))
        ax.set_title(f"{kept} of {n_hidden} hidden units kept")
        ax.set_xlim(-0.4, len(sizes) - 0.6)
        ax.set_ylim(-max(sizes) / 2, max(sizes) / 2)
        ax.axis("off")
    fig.tight_layout()
    return fig, masks


def plot_paper_results(results, xlabel: str = "test error (%)"):
    """Horizontal bars of reported test errors, one panel per group of
    ``results`` (``{title: ((label, error, colour key), ...)}``), the value
    printed at each bar. Panels of the same data set share their x-axis."""
    groups = list(results.items())
    heights = [len(v) for _, v in groups]
    fig, axes = subplots(len(groups), 1, height=0.34 * sum(heights) + 0.7 * len(groups),
                         squeeze=False, gridspec_kw={"height_ratios": heights})
    axes = axes[:, 0]
    limits = {}
    for title, entries in groups:
        key = title.split(":")[0]
        limits[key] = max(limits.get(key, 0.0), max(e for _, e, _ in entries))
    for ax, (title, entries) in zip(axes, groups, strict=True):
        labels = [lab for lab, _, _ in entries]
        errors = [e for _, e, _ in entries]
        colors = [COLORS[c] for _, _, c in entries]
        y = np.arange(len(entries))[::-1]
        ax.barh(y, errors, color=colors, height=0.65)
        for yi, e in zip(y, errors, strict=True):
            ax.text(e, yi, f" {e:.2f}", va="center", fontsize=9)
        ax.set_yticks(y, labels)
        ax.set_xlim(0, limits[title.split(":")[0]] * 1.15)
        ax.set_title(title, loc="left")
        ax.grid(axis="y", visible=False)
    axes[-1].set_xlabel(xlabel)
    fig.tight_layout()
    return fig
