"""Tables and glue sentences for chapters 1 (dropout in one cell) and 2 (theory).

The chapters compute the numbers with visible code; these functions only turn
them into the rows of a results table or the values glued into the prose.
"""

from __future__ import annotations

import numpy as np

from ..theory import binomial_bound, paper_p_to_keras_rate

#: Retain probabilities the papers used, and where (for the rate-trap table).
PAPER_SETTINGS = (
    (0.5, "hidden units (Hinton 2012; Srivastava 2014)"),
    (0.8, "input units (Hinton 2012; Srivastava 2014, text)"),
    (0.9, "input images (Srivastava 2014, vision)"),
    (0.75, "convolutional layers (Srivastava 2014, vision)"),
)

#: Test errors (%) reported by Srivastava et al. (2014) on MNIST and CIFAR-10;
#: each entry is (setting, error, concept colour key).
PAPER_RESULTS = {
    "MNIST: networks": (
        ("standard net", 1.60, "none"),
        ("dropout, ReLU", 1.25, "dropout"),
        ("dropout, ReLU, max-norm", 1.06, "dropout"),
        ("same, 2 × 8192 units", 0.95, "dropout"),
    ),
    "MNIST: regularisers": (
        ("L2", 1.62, "l2"),
        ("max-norm", 1.35, "maxnorm"),
        ("dropout + L2", 1.25, "dropout"),
        ("dropout + max-norm", 1.05, "dropout"),
    ),
    "CIFAR-10: conv nets": (
        ("conv + max pooling", 14.98, "none"),
        ("+ dropout, FC layers", 14.32, "dropout"),
        ("+ dropout, all layers", 12.61, "dropout"),
    ),
}


def _np(a):
    """A Keras tensor or array as a NumPy array."""
    if hasattr(a, "numpy"):
        a = a.numpy()
    return np.asarray(a)


# ---------------------------------------------------------------- chapter 1
def call_modes_table(losses: dict):
    """One row per way of running a model: the call, its loss against the
    no-dropout targets, and whether dropout was active (a loss above zero).

    ``losses`` maps a call written as code (``"model.fit(x, y)"``) to the mean
    squared error that call produced.
    """
    import pandas as pd

    if not losses:
        raise ValueError("losses is empty")
    rows = []
    for call, loss in losses.items():
        loss = float(loss)
        if not np.isfinite(loss) or loss < 0:
            raise ValueError(f"loss of {call!r} must be finite and >= 0, got {loss!r}")
        rows.append({"call": call, "loss (MSE)": loss,
                     "dropout": "active" if loss > 1e-9 else "off"})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- chapter 2
def overfitting_summary(history) -> dict:
    """The numbers the overfitting paragraph quotes, as strings to glue:
    the epoch of the lowest test loss, that loss, the final test loss, the
    highest test accuracy, and the final train and test accuracy."""
    h = history.history if hasattr(history, "history") else history
    val_loss = np.asarray(h["val_loss"], dtype=float)
    best = int(np.argmin(val_loss))
    return {
        "best_epoch": best + 1,
        "best_val_loss": f"{val_loss[best]:.3f}",
        "final_val_loss": f"{val_loss[-1]:.3f}",
        "peak_test_acc": f"{float(np.max(h['val_accuracy'])):.3f}",
        "final_train_acc": f"{float(h['accuracy'][-1]):.3f}",
        "final_test_acc": f"{float(h['val_accuracy'][-1]):.3f}",
    }


def dropout_summary(implementation: str, x, out, rate: float) -> dict:
    """One row of the from-scratch-versus-Keras table, for inputs ``x`` (no
    zeros) and a training-mode output ``out``: the dropped fraction, its 99.9 %
    binomial bound, how survivors were scaled (``out / x`` where kept) against
    ``1 / (1 - rate)``, and the mean output over the mean input."""
    x, out = _np(x).astype(float), _np(out).astype(float)
    if x.shape != out.shape:
        raise ValueError(f"x and out differ in shape: {x.shape} vs {out.shape}")
    if np.any(x == 0):
        raise ValueError("x must have no zeros, or dropped and kept units cannot be told apart")
    kept = out != 0
    if not kept.any():
        raise ValueError("every unit was dropped: nothing to measure")
    scale = out[kept] / x[kept]
    return {
        "rate": float(rate),
        "implementation": implementation,
        "dropped fraction": float(1.0 - kept.mean()),
        "99.9 % bound": binomial_bound(rate, x.size),
        "survivor scale (min)": float(scale.min()),
        "survivor scale (max)": float(scale.max()),
        "1 / (1 - rate)": 1.0 / (1.0 - rate),
        "mean out / mean in": float(out.mean() / x.mean()),
    }


def agreement(rows) -> dict:
    """Did every row of :func:`dropout_summary` behave like inverted dropout?

    Returns the largest gap between dropped fraction and rate in units of the
    bound; the largest relative error of the survivor scale; the largest
    ``|mean out / mean in - 1|`` in units of what sampling allows
    (``1.5 * bound / (1 - rate)``); and ``ok`` when all three are small.
    """
    tiny = 1e-12  # rate 0: the bound is 0, and any gap at all is too large
    gaps = [abs(r["dropped fraction"] - r["rate"]) / max(r["99.9 % bound"], tiny) for r in rows]
    scale_err = [max(abs(r[k] / r["1 / (1 - rate)"] - 1)
                     for k in ("survivor scale (min)", "survivor scale (max)")) for r in rows]
    mean_err = [abs(r["mean out / mean in"] - 1) * (1 - r["rate"])
                / max(1.5 * r["99.9 % bound"], 1e-6) for r in rows]
    out = {"largest gap / bound": float(max(gaps)),
           "largest scale error": float(max(scale_err)),
           "largest mean error / allowed": float(max(mean_err))}
    out["ok"] = (out["largest gap / bound"] < 1.0 and out["largest scale error"] < 1e-6
                 and out["largest mean error / allowed"] < 1.0)
    return out


def dropout_table(rows):
    """The rows of :func:`dropout_summary` as a table, the rate shown as given
    (``0.1``, not ``0.1000``)."""
    import pandas as pd

    df = pd.DataFrame(rows)
    df["rate"] = [f"{r:g}" for r in df["rate"]]
    return df


def scaling_summary(layer: str, training: bool, out) -> dict:
    """How a dropout layer scaled an input of ones: the dropped fraction, the
    value(s) the survivors took, and the mean output (the next layer's
    expected input)."""
    out = _np(out).astype(float).reshape(-1)
    kept = out[out != 0]
    values = np.unique(np.round(kept, 6))
    return {
        "layer": layer,
        "mode": "training" if training else "inference",
        "dropped fraction": float(1.0 - kept.size / out.size),
        "survivors become": ", ".join(f"{v:.3f}" for v in values) if values.size else "–",
        "mean output": float(out.mean()),
    }


def rate_trap_table(settings=PAPER_SETTINGS):
    """Paper retain probability p -> Keras ``rate`` and layer, per setting."""
    import pandas as pd

    rows = []
    for p, where in settings:
        rate = paper_p_to_keras_rate(p)
        rows.append({"paper's retain probability p": p, "Keras rate = 1 - p": rate,
                     "Keras layer": f"Dropout({rate:g})", "where the papers used it": where})
    return pd.DataFrame(rows)
