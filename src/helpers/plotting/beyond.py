"""Figures of the chapters "Dropout as an ensemble, and MC dropout" (06) and
"Inside a network trained with dropout" (07).

Every function returns the figure; the chapter shows it. Maps that are
compared share their axis limits and carry colour bars; training points get
white edges so that they stand out on any background; curves that may
coincide differ in line style and width.
"""

from __future__ import annotations

import numpy as np

from .style import COLORS, LINESTYLES, PROB_CMAP, subplots

#: Hidden units and line widths per series: the first drawn is the widest, so
#: a curve drawn on top of it leaves its edges visible.
WIDTHS = (3.2, 2.2, 1.6, 1.1)


def _points(ax, x, y):
    """Training points in the class colours, with white edges (visible on a
    saturated background) and dark faces (visible on a pale one)."""
    x, y = np.asarray(x), np.asarray(y).reshape(-1)
    for cls, marker in ((0, "o"), (1, "^")):
        sel = y == cls
        ax.scatter(x[sel, 0], x[sel, 1], marker=marker, s=38, c=COLORS[f"class{cls}"],
                   edgecolors="white", linewidths=1.3, zorder=3, label=f"class {cls} (training)")


def _map(ax, axis, values, cmap, vmin, vmax, x, y, boundary=None, title=None):
    n = len(axis)
    mesh = ax.pcolormesh(axis, axis, np.asarray(values).reshape(n, n), cmap=cmap, vmin=vmin,
                         vmax=vmax, shading="auto")
    if boundary is not None:
        ax.contour(axis, axis, np.asarray(boundary).reshape(n, n), levels=[0.5], colors="k",
                   linewidths=1.0)
    _points(ax, x, y)
    ax.set_xlim(axis[0], axis[-1])
    ax.set_ylim(axis[0], axis[-1])
    ax.set_aspect("equal")
    ax.grid(False)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if title:
        ax.set_title(title)
    return mesh


def _log_ticks(ax, ticks, base=10):
    """A log x axis labelled with the values themselves (4, 8, 16; 50, 100)."""
    ax.set_xscale("log", base=base)
    ax.minorticks_off()
    ax.set_xticks(list(ticks), [str(t) for t in ticks])


def plot_averaging(errors: dict, axis, p_det, x_train, y_train):
    """Left: distance of the N-pass Monte Carlo averages from the deterministic
    pass, against N (log-log). Right: arithmetic ensemble mean minus
    deterministic prediction over the input plane."""
    fig, (ax, ax_map) = subplots(1, 2, height=3.5, width_ratios=(1, 1.15))
    arith, geo, gap = errors["arithmetic"], errors["geometric"], errors["gap"]
    ns = np.arange(1, len(arith) + 1)
    ax.loglog(ns, arith, color=COLORS["mc"], lw=WIDTHS[1], label="mean of p")
    ax.loglog(ns, geo, color=COLORS["mc"], lw=WIDTHS[2], ls=LINESTYLES[1],
              label="sigmoid(mean of logit)")
    ax.loglog(ns, arith[0] / np.sqrt(ns), color="k", lw=1, ls=LINESTYLES[3], label=r"$1/\sqrt{N}$")
    ax.axhline(np.abs(gap).mean(), color=COLORS["dropout"], lw=1, ls=LINESTYLES[2],
               label="|mean of p - one pass|")
    ax.set_xlabel("N stochastic passes")
    ax.set_ylabel("mean |average - one pass|")
    ax.set_title("Averages vs the one pass")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower left")
    lim = float(np.abs(gap).max()) or 1.0
    mesh = _map(ax_map, axis, gap, "PuOr", -lim, lim, x_train, y_train, boundary=p_det,
                title="mean of p - one pass")
    fig.colorbar(mesh, ax=ax_map, label="difference in P(class 1)", shrink=0.9)
    fig.tight_layout()
    return fig


def plot_mc_maps(axis, p_mean, p_std, p_det, x_train, y_train):
    """Predictive mean and standard deviation of P(class 1) over the plane, on
    the same axes, each with its colour bar."""
    fig, axes = subplots(1, 2, height=3.3, sharex=True, sharey=True)
    mesh = _map(axes[0], axis, p_mean, PROB_CMAP, 0.0, 1.0, x_train, y_train, boundary=p_det,
                title="predictive mean")
    fig.colorbar(mesh, ax=axes[0], label="P(class 1)", shrink=0.9)
    mesh = _map(axes[1], axis, p_std, "viridis", 0.0, float(np.max(p_std)) or 1.0, x_train, y_train,
                boundary=p_det, title="predictive sd")
    fig.colorbar(mesh, ax=axes[1], label="sd of P(class 1)", shrink=0.9)
    axes[1].set_ylabel("")
    fig.tight_layout()
    return fig


def plot_regression_band(x_line, samples, x_reg, y_reg, truth, train_range=(-2.0, 2.0)):
    """MC-dropout regression: predictive mean ± 2 sd from ``samples`` (passes,
    points), the true function and the training data."""
    x = np.asarray(x_line).reshape(-1)
    s = np.asarray(samples).reshape(len(samples), -1)
    mean, std = s.mean(0), s.std(0)
    fig, ax = subplots(height=3.4)
    ax.axvspan(*train_range, color="0.93", zorder=0, label="training range")
    ax.fill_between(x, mean - 2 * std, mean + 2 * std, color=COLORS["mc"], alpha=0.25, lw=0,
                    label="mean ± 2 sd")
    ax.plot(x, mean, color=COLORS["mc"], lw=WIDTHS[1], label=f"mean of {len(s)} passes")
    ax.plot(x, truth, color="k", lw=1, ls=LINESTYLES[3], label="true function")
    ax.scatter(np.ravel(x_reg), np.ravel(y_reg), s=14, color=COLORS["train"], zorder=3,
               label="training data")
    ax.set_ylim(-2.5, 2.5)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.legend(loc="upper left", ncol=2)
    fig.tight_layout()
    return fig


def plot_sparsity(per_input: dict, labels: dict, k: int):
    """Histograms over the test inputs of two scale-free measures: units active
    per input and the share of the input's activation in its top-k units.

    ``per_input`` maps a configuration to ``(active_units, top_k_share)``
    arrays; ``labels`` maps it to its legend entry."""
    fig, axes = subplots(1, 2, height=3.1)
    colors = (COLORS["none"], COLORS["dropout"])
    # common bins per panel, so that the two histograms are drawn on one scale
    bins = [np.linspace(min(np.min(v[j]) for v in per_input.values()),
                        max(np.max(v[j]) for v in per_input.values()), 41) for j in (0, 1)]
    for i, (key, (active, share)) in enumerate(per_input.items()):
        style = {"histtype": "step", "color": colors[i % 2], "lw": WIDTHS[i % 2 + 1],
                 "ls": LINESTYLES[i % 2], "label": labels[key]}
        axes[0].hist(active, bins=bins[0], **style)
        axes[1].hist(share, bins=bins[1], **style)
    axes[0].set_xlabel("units active for one digit")
    axes[1].set_xlabel(f"share of activation in the top {k} units")
    for ax in axes:
        ax.set_ylabel("test digits")
        ax.legend(loc="upper center")
    fig.tight_layout()
    return fig


def plot_norms(curves: dict, styles: dict):
    """Largest hidden-unit norm and output-layer norm per epoch: mean over
    seeds, band from the smallest to the largest seed.

    ``curves`` maps a configuration to (seeds, epochs, 3) arrays (hidden max,
    hidden median, output norm); ``styles`` maps it to ``(colour key,
    line style)``."""
    fig, axes = subplots(1, 2, height=3.3)
    for i, (name, arr) in enumerate(curves.items()):
        color, ls = COLORS[styles[name][0]], styles[name][1]
        epochs = np.arange(1, arr.shape[1] + 1)
        for ax, j in zip(axes, (0, 2), strict=True):
            ax.plot(epochs, arr[:, :, j].mean(0), color=color, ls=ls, lw=WIDTHS[i % len(WIDTHS)],
                    label=name)
            ax.fill_between(epochs, arr[:, :, j].min(0), arr[:, :, j].max(0), color=color,
                            alpha=0.15, lw=0)
    axes[0].set_title("largest hidden-unit norm")
    axes[1].set_title("output-layer weight norm")
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.set_ylabel("norm")
        ax.set_ylim(bottom=0)
    axes[0].legend(loc="upper left")
    fig.tight_layout()
    return fig


def plot_widths(acc, widths, factor: int = 2):
    """Left: test accuracy against width with and without dropout (mean ± sd
    over seeds). Right: no dropout at n units against dropout at factor x n.
    Both panels share the accuracy axis."""
    acc = np.asarray(acc)
    widths = list(widths)
    fig, axes = subplots(1, 2, height=3.3, sharey=True)
    none, drop = (COLORS["none"], LINESTYLES[0]), (COLORS["dropout"], LINESTYLES[1])
    for j, (label, (color, ls)) in enumerate((("no dropout", none), ("Dropout(0.5)", drop))):
        axes[0].errorbar(widths, acc[:, j].mean(1), yerr=acc[:, j].std(1, ddof=1), color=color,
                         ls=ls, lw=WIDTHS[j + 1], marker="os"[j], capsize=3, label=label)
    pairs = [(i, widths.index(factor * w)) for i, w in enumerate(widths) if factor * w in widths]
    ns = [widths[i] for i, _ in pairs]
    axes[1].errorbar(ns, [acc[i, 0].mean() for i, _ in pairs],
                     yerr=[acc[i, 0].std(ddof=1) for i, _ in pairs], color=none[0], ls=none[1],
                     lw=WIDTHS[1], marker="o", capsize=3, label="no dropout, n units")
    axes[1].errorbar(ns, [acc[k, 1].mean() for _, k in pairs],
                     yerr=[acc[k, 1].std(ddof=1) for _, k in pairs], color=drop[0], ls=drop[1],
                     lw=WIDTHS[2], marker="s", capsize=3, label=f"Dropout(0.5), {factor}n units")
    axes[0].set_xlabel("hidden units")
    axes[1].set_xlabel("n")
    axes[0].set_ylabel("test accuracy")
    axes[0].set_title("same width")
    axes[1].set_title(f"dropout {factor}x wider")
    for ax, ticks in zip(axes, (widths, ns), strict=True):
        _log_ticks(ax, ticks, base=2)
        ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


def plot_data_size(acc, sizes, gains):
    """Left: test accuracy against training-set size with and without dropout
    (mean ± sd). Right: the paired gain with its 95 % interval
    (``gains``: :func:`helpers.stats.compare` results, one per size)."""
    acc = np.asarray(acc)
    fig, axes = subplots(1, 2, height=3.3)
    for j, (label, key) in enumerate((("no dropout", "none"), ("Dropout(0.5)", "dropout"))):
        axes[0].errorbar(sizes, acc[:, j].mean(1), yerr=acc[:, j].std(1, ddof=1),
                         color=COLORS[key], ls=LINESTYLES[j], lw=WIDTHS[j + 1], marker="os"[j],
                         capsize=3, label=label)
    diff = np.array([g["diff"] for g in gains])
    err = np.array([[g["diff"] - g["low"] for g in gains], [g["high"] - g["diff"] for g in gains]])
    axes[1].errorbar(sizes, diff, yerr=err, color=COLORS["dropout"], marker="s", capsize=3,
                     lw=WIDTHS[2])
    axes[1].axhline(0, color="k", lw=0.8)
    axes[0].set_ylabel("test accuracy")
    axes[1].set_ylabel("dropout - no dropout")
    axes[0].set_title("test accuracy")
    axes[1].set_title("gain, 95 % interval")
    axes[0].legend(loc="lower right")
    for ax in axes:
        _log_ticks(ax, sizes)
        ax.set_xlabel("training digits")
    fig.tight_layout()
    return fig
