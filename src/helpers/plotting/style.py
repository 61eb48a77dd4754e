"""The book's one figure style: sizes, fonts and one colour per concept.

Every figure in the book is made with :func:`subplots` (or a helper that calls
it). Figures are :data:`WIDTH` inches wide at :data:`DPI`, i.e. about as wide in
pixels as the book's content column, so the browser shows them unscaled and
9-point text stays >= 9 px on screen.
"""

from __future__ import annotations

WIDTH = 6.6  # inches; 660 px at DPI, the content column is ~680-720 px at 1280 px
DPI = 100
MIN_FONT_PT = 9

#: One colour per concept, used in every chapter.
COLORS = {
    "none": "#4d4d4d",            # no regularisation / no dropout: dark grey
    "dropout": "#d62728",         # Dropout: red
    "maxnorm": "#1f77b4",         # max-norm alone: blue
    "input_dropout": "#ff7f0e",   # dropout on the inputs: orange
    "mc": "#2ca02c",              # MC dropout: green
    "l2": "#8c564b",              # L2 weight decay: brown
    "noise": "#e377c2",           # Gaussian noise: pink
    "augment": "#17becf",         # data augmentation: cyan
    "early_stopping": "#bcbd22",  # early stopping: olive
    "train": "#7f7f7f",           # training-set curves when only one model is shown
    "class0": "#2166ac",          # the two circles classes
    "class1": "#b2182b",
}
#: The CIFAR-10 configurations (a)-(e): the same colour in every figure.
CIFAR_COLORS = {"a": "#4d4d4d", "b": "#d62728", "c": "#1f77b4", "d": "#2ca02c", "e": "#9467bd"}
#: Line styles cycled per series, so curves that coincide stay visible.
LINESTYLES = ("-", "--", "-.", ":")
#: Sequential colour map for probability maps (with a colour bar).
PROB_CMAP = "RdBu_r"

RC = {
    "figure.figsize": (WIDTH, 3.6),
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "figure.facecolor": "white",
    "font.size": 10,
    "axes.titlesize": 10.5,
    "axes.labelsize": 10,
    "legend.fontsize": MIN_FONT_PT,
    "legend.title_fontsize": MIN_FONT_PT,
    "xtick.labelsize": MIN_FONT_PT,
    "ytick.labelsize": MIN_FONT_PT,
    "figure.titlesize": 11,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "lines.linewidth": 1.6,
    "legend.frameon": False,
}


def use_book_style() -> None:
    """Apply the book's rcParams (idempotent; :func:`subplots` calls it)."""
    import matplotlib as mpl
    from cycler import cycler

    mpl.rcParams.update(RC)
    order = ("none", "dropout", "maxnorm", "input_dropout", "mc", "l2", "noise", "augment")
    mpl.rcParams["axes.prop_cycle"] = cycler(color=[COLORS[k] for k in order])


def subplots(nrows: int = 1, ncols: int = 1, height: float | None = None, **kwargs):
    """``plt.subplots`` at the book's width and style. ``height`` in inches
    (default: 3.6 per row, capped so a figure never fills more than a screen)."""
    import matplotlib.pyplot as plt

    use_book_style()
    if "figsize" in kwargs:
        raise TypeError("figures are WIDTH wide; pass height= instead of figsize=")
    if height is None:
        height = min(3.2 * nrows + 0.4, 8.0)
    return plt.subplots(nrows, ncols, figsize=(WIDTH, height), **kwargs)
