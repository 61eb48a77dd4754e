"""Figures of the chapter "Dropout in the Keras API": which entries a mask drops.

Each function takes masks the chapter computed with Keras (arrays of a layer's
output on inputs of ones: 0 where an entry was dropped) and draws dropped
entries in the book's dropout colour, kept ones in white. Panels that are
compared share their axes; a legend says which colour is which.
"""

from __future__ import annotations

import numpy as np

from .style import COLORS, subplots

__all__ = ["mask_image", "plot_sequence_masks", "plot_channel_masks"]


def _cmap():
    from matplotlib.colors import ListedColormap

    return ListedColormap(["white", COLORS["dropout"]])


def _legend(fig):
    from matplotlib.patches import Patch

    handles = [Patch(facecolor="white", edgecolor="0.4", label="kept"),
               Patch(facecolor=COLORS["dropout"], edgecolor="0.4", label="dropped")]
    fig.legend(handles=handles, loc="lower center", ncol=2, bbox_to_anchor=(0.5, 0.0))


def mask_image(ax, out, title=None):
    """Draw one 2-D layer output as a mask: dropped (== 0) entries coloured."""
    out = np.asarray(out)
    if out.ndim != 2:
        raise ValueError(f"expected a 2-D array, got shape {out.shape}")
    ax.imshow(out == 0, cmap=_cmap(), vmin=0, vmax=1, interpolation="nearest")
    rows, cols = out.shape
    ax.set_xticks(np.arange(cols) - 0.5, minor=True)
    ax.set_yticks(np.arange(rows) - 0.5, minor=True)
    ax.grid(which="minor", color="0.75", lw=0.5)
    ax.grid(which="major", visible=False)
    ax.tick_params(which="minor", length=0)
    for spine in ax.spines.values():  # a closed frame around every mask
        spine.set_visible(True)
    if title:
        ax.set_title(title)
    return ax


def plot_sequence_masks(panels):
    """One panel per ``(title, out)``, ``out`` shaped (time steps, features)."""
    panels = list(panels)
    shapes = {np.asarray(out).shape for _, out in panels}
    if len(shapes) != 1:
        raise ValueError(f"panels to compare must have one shape, got {sorted(shapes)}")
    fig, axes = subplots(1, len(panels), height=3.6, sharex=True, sharey=True,
                         squeeze=False)
    for ax, (title, out) in zip(axes[0], panels, strict=True):
        mask_image(ax, out, title)
        ax.set_xlabel("feature")
    axes[0, 0].set_ylabel("time step")
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    _legend(fig)
    return fig


def plot_channel_masks(rows):
    """One row of panels per ``(name, out)``, ``out`` shaped (height, width,
    channels): one small panel per channel."""
    rows = list(rows)
    shapes = {np.asarray(out).shape for _, out in rows}
    if len(shapes) != 1:
        raise ValueError(f"rows to compare must have one shape, got {sorted(shapes)}")
    channels = next(iter(shapes))[-1]
    fig, axes = subplots(len(rows), channels, height=1.6 * len(rows) + 0.7,
                         sharex=True, sharey=True, squeeze=False)
    for r, (name, out) in enumerate(rows):
        for c in range(channels):
            ax = mask_image(axes[r, c], np.asarray(out)[:, :, c])
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"channel {c}", fontsize=9)
        axes[r, 0].set_ylabel(name)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    _legend(fig)
    return fig
