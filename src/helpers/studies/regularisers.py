"""The regularisers chapter's machinery: one model, nine regularisers, many seeds.

What the chapter uses but does not teach:

- :func:`make_model`, the builder that repeats the chapter's visible
  ``make_model`` (the tests compare the two with ``helpers.models.describe``);
- :func:`stacked_fit`, which trains every (setting, seed) copy of that small
  MLP at once, as one stacked computation, with everything the chapter
  compares: L2 weight decay, Gaussian noise on the inputs, dropout on the
  hidden units, max-norm, random sub-pixel shifts of the 8 x 8 digits, and
  early stopping on a validation split with the best weights restored;
- the tuning protocol (:func:`grid`, :func:`select`, :func:`results_table`,
  :func:`verdicts`) (the data splits are :func:`helpers.data.seed_splits`);
- the logistic-regression side of the theory section: the quadratic
  approximation of input dropout (Wager, Wang & Liang 2013), the fits it is
  compared with, and the agreement measures.

Every mean ± sd and verdict comes from :mod:`helpers.stats`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import stats
from .._validate import check_positive_int, check_rate

# ------------------------------------------------------------------ the model
IMAGE = 8  # the digits are 8 x 8 pixels


def make_model(hidden=256, rate=0.0, l2=0.0, noise=0.0, max_norm=None,
               shift=0.0, learning_rate=0.003):
    """The chapter's ``make_model``: 64 pixels -> [RandomTranslation] ->
    [GaussianNoise] -> Dense(hidden, relu) -> [Dropout] -> Dense(10, softmax);
    L2 and max-norm on both kernels; Adam, sparse categorical cross-entropy.
    """
    import keras
    from keras import layers

    check_positive_int(hidden, "hidden")
    check_rate(rate, "rate")
    reg = keras.regularizers.L2(l2) if l2 else None
    cap = keras.constraints.MaxNorm(max_norm) if max_norm else None
    inputs = keras.Input(shape=(64,))
    h = inputs
    if shift:  # random sub-pixel shifts of the 8 x 8 image
        h = layers.Reshape((8, 8, 1))(h)
        h = layers.RandomTranslation(shift, shift, fill_mode="constant")(h)
        h = layers.Flatten()(h)
    if noise:
        h = layers.GaussianNoise(noise)(h)
    h = layers.Dense(hidden, activation="relu", kernel_regularizer=reg,
                     kernel_constraint=cap)(h)
    if rate:
        h = layers.Dropout(rate)(h)
    outputs = layers.Dense(10, activation="softmax", kernel_regularizer=reg,
                           kernel_constraint=cap)(h)
    model = keras.Model(inputs, outputs)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def regularisers_of(model) -> list:
    """Per Dense layer: its kernel regulariser's and constraint's configs
    (what :func:`helpers.models.describe` leaves out)."""
    out = []
    for layer in model.layers:
        if type(layer).__name__ != "Dense":
            continue
        reg, cap = layer.kernel_regularizer, layer.kernel_constraint
        out.append((None if reg is None else (type(reg).__name__, reg.get_config()),
                    None if cap is None else (type(cap).__name__, cap.get_config())))
    return out


# ------------------------------------------------------------------ settings
@dataclass(frozen=True)
class Setting:
    """One configuration of the model and its training: the knobs of
    ``make_model`` plus ``patience`` (early stopping, ``None`` = off)."""

    method: str
    rate: float = 0.0
    l2: float = 0.0
    noise: float = 0.0
    max_norm: float | None = None
    shift: float = 0.0
    patience: int | None = None
    label: str = field(default="", compare=False)

    def model_kwargs(self) -> dict:
        return {"rate": self.rate, "l2": self.l2, "noise": self.noise,
                "max_norm": self.max_norm, "shift": self.shift}

    def knob(self) -> str:
        """The tuned hyper-parameter(s) as text, e.g. ``"rate 0.5, c 3"``."""
        parts = []
        if self.rate:
            parts.append(f"rate {self.rate:g}")
        if self.l2:
            parts.append(f"λ {self.l2:g}")
        if self.noise:
            parts.append(f"sd {self.noise:g}")
        if self.max_norm:
            parts.append(f"c {self.max_norm:g}")
        if self.shift:
            parts.append(f"shift ±{self.shift * IMAGE:g} px")
        if self.patience is not None:
            parts.append(f"patience {self.patience}")
        return ", ".join(parts) or "–"


def grid(method: str, values) -> list[Setting]:
    """Settings of one method, one per grid value. Single-knob methods take
    numbers; the combinations take pairs (``(rate, l2)`` or ``(rate, c)``)."""
    knob = {"L2": "l2", "Gaussian noise": "noise", "dropout": "rate",
            "max-norm": "max_norm", "shifts": "shift", "early stopping": "patience"}
    out = []
    for v in values:
        if method in knob:
            out.append(Setting(method, **{knob[method]: v}))
        elif method == "dropout + L2":
            out.append(Setting(method, rate=v[0], l2=v[1]))
        elif method == "dropout + max-norm":
            out.append(Setting(method, rate=v[0], max_norm=v[1]))
        else:
            raise ValueError(f"unknown method {method!r}")
    return out


# ------------------------------------------------------------------ shifts
def shift_matrices(d, size: int = IMAGE):
    """Bilinear shift by ``d`` pixels (any real number, one per row of ``d``)
    with zeros shifted in, as a matrix: ``out = T @ column``; ``T[i, k] =
    max(0, 1 - |k - (i - d)|)`` (the tent weights of bilinear interpolation)."""
    import tensorflow as tf

    i = tf.range(size, dtype=tf.float32)
    src = i[:, None] - tf.convert_to_tensor(d, tf.float32)[..., None, None]
    return tf.nn.relu(1.0 - tf.abs(i[None, :] - src))


def shift_images(images, dy, dx):
    """Shift each 8 x 8 image (``[..., 8, 8]``) by ``(dy, dx)`` pixels,
    bilinear, zeros shifted in: what ``RandomTranslation(fill_mode=
    "constant")`` does for the shift it drew."""
    import tensorflow as tf

    return tf.matmul(tf.matmul(shift_matrices(dy), images), shift_matrices(dx),
                     transpose_b=True)


# ------------------------------------------------------------------ training
def stacked_fit(settings, seeds, x_fit, y_fit, x_val, y_val, x_test, y_test,
                epochs: int, hidden: int = 256, learning_rate: float = 0.003,
                noise_seed: int = 0) -> dict:
    """Train one copy of :func:`make_model` per (setting, seed), all at once.

    Full batch: one Adam step per epoch on the seed's ``x_fit[s]`` (what
    ``fit(batch_size >= n)`` does). Copy (k, s) starts from the initial
    weights of ``make_model(hidden)`` built after
    ``keras.utils.set_random_seed(seed)``, so the settings of one seed share
    their data split and their initial weights (paired comparisons), and
    draws its own shifts, noise and dropout masks.

    Per copy, as the Keras layers do in training mode: ``RandomTranslation
    (shift, shift, fill_mode="constant")`` (a uniform shift in
    ±shift x 8 pixels per image, bilinear), ``GaussianNoise(noise)`` on the
    pixels, ``Dropout(rate)`` (inverted) on the hidden units, the L2 penalty
    ``l2 * sum(W**2)`` over both kernels added to the loss, and
    ``MaxNorm(max_norm)`` (axis 0) after each update. Early stopping
    (``patience``) follows ``keras.callbacks.EarlyStopping(monitor=
    "val_loss", patience=..., restore_best_weights=True)``: the copy stops
    updating once ``val_loss`` (with its penalty, as Keras reports it) has not
    improved for ``patience`` epochs and ends with its best epoch's weights.

    Returns a dict of arrays ``[K, S]``: ``val_accuracy``, ``val_loss``,
    ``test_accuracy``, ``test_loss``, ``train_accuracy`` (final weights,
    inference mode), ``epochs_run`` and ``best_epoch`` (1-based), plus the
    per-epoch curves ``loss`` and ``val_loss_curve`` ``[epochs, K, S]``.
    """
    import keras
    import tensorflow as tf

    settings, seeds = list(settings), list(seeds)
    K, S = len(settings), len(seeds)
    C = K * S
    epochs = check_positive_int(epochs, "epochs")
    x_fit, x_val = np.asarray(x_fit, np.float32), np.asarray(x_val, np.float32)
    if x_fit.shape[0] != S or x_val.shape[0] != S:
        raise ValueError(f"x_fit and x_val need one split per seed ({S}), "
                         f"got {x_fit.shape[0]} and {x_val.shape[0]}")
    init = []
    for s in seeds:
        keras.utils.set_random_seed(int(s))
        init.append([np.asarray(w) for w in make_model(hidden).get_weights()])
    W1, b1, W2, b2 = (tf.Variable(np.concatenate([np.stack([w[j] for w in init])] * K))
                      for j in range(4))  # copy c = k * S + s
    params = [W1, b1, W2, b2]

    def per_copy(values):
        return tf.constant(np.repeat(np.asarray(values, np.float32), S))

    rate = per_copy([st.rate for st in settings])
    l2 = per_copy([st.l2 for st in settings])
    noise = per_copy([st.noise for st in settings])
    shift = per_copy([st.shift * IMAGE for st in settings])
    cap = per_copy([st.max_norm or 0.0 for st in settings])
    patience = per_copy([st.patience if st.patience is not None else np.inf for st in settings])
    is_es = tf.constant(np.repeat([st.patience is not None for st in settings], S))
    use = {"rate": any(st.rate for st in settings), "noise": any(st.noise for st in settings),
           "shift": any(st.shift for st in settings),
           "cap": any(st.max_norm for st in settings)}

    seed_of = np.tile(np.arange(S), K)
    xf = tf.constant(x_fit[seed_of])
    yf = tf.constant(np.asarray(y_fit)[seed_of].astype(np.int32))
    xv = tf.constant(x_val[seed_of])
    yv = tf.constant(np.asarray(y_val)[seed_of].astype(np.int32))
    n = x_fit.shape[1]
    hid = W1.shape[-1]

    def col(t, ndim):
        return tf.reshape(t, [C] + [1] * (ndim - 1))

    # The random parts act on the copies that use them only (gather, scatter).
    idx = {key: np.flatnonzero(np.repeat([bool(getattr(st, key)) for st in settings], S))
           for key in ("rate", "noise", "shift")}
    sub = {key: tf.constant(i[:, None].astype(np.int32)) for key, i in idx.items()}

    def on_subset(key, t, fn):
        part = fn(tf.gather_nd(t, sub[key]))
        return tf.tensor_scatter_nd_update(t, sub[key], part)

    def forward(x, u=None):
        h = tf.nn.relu(tf.matmul(x, W1) + b1[:, None, :])
        if u is not None:
            r = tf.gather(rate, idx["rate"])[:, None, None]
            h = on_subset("rate", h, lambda hs: tf.where(u >= r, hs / (1.0 - r),
                                                          tf.zeros_like(hs)))
        return tf.matmul(h, W2) + b2[:, None, :]

    def penalty():
        return l2 * (tf.reduce_sum(tf.square(W1), [1, 2]) + tf.reduce_sum(tf.square(W2), [1, 2]))

    def scores(x, y):
        z = forward(x)
        ce = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=z), 1)
        acc = tf.reduce_mean(tf.cast(tf.cast(tf.argmax(z, -1), tf.int32) == y, tf.float32), 1)
        return ce, acc

    m_slots = [tf.Variable(tf.zeros_like(v)) for v in params]
    v_slots = [tf.Variable(tf.zeros_like(v)) for v in params]
    best = [tf.Variable(v) for v in params]
    best_loss = tf.Variable(tf.fill([C], np.inf))
    wait = tf.Variable(tf.zeros([C]))
    active = tf.Variable(tf.ones([C], tf.bool))
    epochs_run = tf.Variable(tf.zeros([C]))
    best_epoch = tf.Variable(tf.zeros([C]))
    b1_, b2_, eps = 0.9, 0.999, 1e-7  # Keras' Adam defaults

    def draws(e):
        key = lambda j: tf.stack([noise_seed * 7919 + j, e])  # noqa: E731
        size = {key: len(i) for key, i in idx.items()}
        u = tf.random.stateless_uniform([size["rate"], n, hid], key(0)) if use["rate"] else None
        g = tf.random.stateless_normal([size["noise"], n, 64], key(1)) if use["noise"] else None
        d = (tf.random.stateless_uniform([size["shift"], n, 2], key(2), -1.0, 1.0)
             * tf.gather(shift, idx["shift"])[:, None, None] if use["shift"] else None)
        return u, g, d

    @tf.function
    def step(e, u, g, d):
        x = xf
        if d is not None:
            x = on_subset("shift", x, lambda xs: tf.reshape(shift_images(
                tf.reshape(xs, [-1, n, IMAGE, IMAGE]), d[..., 0], d[..., 1]), [-1, n, 64]))
        if g is not None:
            sd = tf.gather(noise, idx["noise"])[:, None, None]
            x = on_subset("noise", x, lambda xs: xs + g * sd)
        with tf.GradientTape() as tape:
            z = forward(x, u)
            ce = tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(labels=yf, logits=z), 1)
            loss = ce + penalty()
            total = tf.reduce_sum(loss)
        grads = tape.gradient(total, params)
        t = tf.cast(e + 1, tf.float32)
        alpha = learning_rate * tf.sqrt(1 - b2_**t) / (1 - b1_**t)
        for v, gr, m, s2 in zip(params, grads, m_slots, v_slots, strict=True):
            on = col(tf.cast(active, tf.float32), len(v.shape))
            m.assign_add((gr - m) * (1 - b1_) * on)
            s2.assign_add((tf.square(gr) - s2) * (1 - b2_) * on)
            v.assign_sub(on * m * alpha / (tf.sqrt(s2) + eps))
        if use["cap"]:
            for w in (W1, W2):
                norms = tf.sqrt(tf.reduce_sum(tf.square(w), axis=1, keepdims=True))
                c3 = col(cap, 3)
                desired = tf.clip_by_value(norms, 0.0, c3)
                w.assign(tf.where(c3 > 0, w * (desired / (1e-7 + norms)), w))
        val_ce, _ = scores(xv, yv)
        val_loss = val_ce + penalty()
        # keras.callbacks.EarlyStopping(monitor="val_loss", restore_best_weights=True)
        was = tf.identity(active)
        better = was & (val_loss < best_loss)
        best_loss.assign(tf.where(better, val_loss, best_loss))
        best_epoch.assign(tf.where(better, t, best_epoch))
        for v, bv in zip(params, best, strict=True):
            bv.assign(tf.where(col(better, len(v.shape)), v, bv))
        wait.assign(tf.where(better, 0.0, tf.where(was, wait + 1.0, wait)))
        stop = was & ~better & (wait >= patience) & (e > 0)
        active.assign(was & ~stop)
        epochs_run.assign(tf.where(was, t, epochs_run))
        return loss, val_loss

    losses, val_losses = [], []
    for e in range(epochs):
        u, g, d = draws(tf.constant(e))
        loss, val_loss = step(tf.constant(e), u, g, d)
        losses.append(loss.numpy())
        val_losses.append(val_loss.numpy())
    for v, bv in zip(params, best, strict=True):
        v.assign(tf.where(col(is_es, len(v.shape)), bv, v))
    out = {}
    for name, (x, y) in {"val": (xv, yv), "train": (xf, yf)}.items():
        ce, acc = scores(x, y)
        out[f"{name}_loss"], out[f"{name}_accuracy"] = ce.numpy(), acc.numpy()
    xt = tf.constant(np.broadcast_to(np.asarray(x_test, np.float32), (C, *np.shape(x_test))))
    yt = tf.constant(np.broadcast_to(np.asarray(y_test, np.int32), (C, len(y_test))))
    ce, acc = scores(xt, yt)
    out["test_loss"], out["test_accuracy"] = ce.numpy(), acc.numpy()
    out["epochs_run"], out["best_epoch"] = epochs_run.numpy(), best_epoch.numpy()
    out = {k: v.reshape(K, S) for k, v in out.items()}
    out["best_epoch"] = np.where(out["best_epoch"] > 0, out["best_epoch"], np.nan)
    out["loss"] = np.stack(losses).reshape(epochs, K, S)
    out["val_loss_curve"] = np.stack(val_losses).reshape(epochs, K, S)
    out["weights"] = [v.numpy().reshape(K, S, *v.shape[1:]) for v in params]
    return out


# ------------------------------------------------------------------ protocol
NONE = "no regularisation"


def build_settings(grids: dict) -> list[Setting]:
    """``[Setting("no regularisation")]`` followed by every method's grid."""
    out = [Setting(NONE)]
    for method, values in grids.items():
        out += grid(method, values)
    return out


def select(settings, results) -> dict:
    """Per method, the index of its setting with the highest mean validation
    accuracy over seeds (the first one on a tie)."""
    val = np.asarray(results["val_accuracy"]).mean(1)
    chosen = {}
    for k, st in enumerate(settings):
        if st.method not in chosen or val[k] > val[chosen[st.method]]:
            chosen[st.method] = k
    return chosen


def grid_table(settings, results, chosen) -> pd.DataFrame:
    """Every setting: method, value, mean validation accuracy, chosen or not."""
    val = np.asarray(results["val_accuracy"]).mean(1)
    picked = set(chosen.values())
    return pd.DataFrame({
        "method": [st.method for st in settings],
        "setting": [st.knob() for st in settings],
        "validation accuracy": val,
        "chosen": ["✓" if k in picked else "" for k in range(len(settings))],
    })


def verdicts(results, chosen, reference: str, metric: str = "test_accuracy") -> dict:
    """Per method: :func:`helpers.stats.compare` of its chosen setting against
    ``reference``'s, paired by seed (same data split, same initial weights)."""
    values = np.asarray(results[metric])
    ref = values[chosen[reference]]
    return {m: stats.compare(ref, values[k], paired=True) for m, k in chosen.items()}


def results_table(settings, results, chosen) -> pd.DataFrame:
    """One row per method: chosen setting, test accuracy and test loss (mean ±
    sd over seeds), and the paired verdicts vs no regularisation and vs dropout."""
    rows = []
    vs_none = verdicts(results, chosen, NONE)
    vs_drop = verdicts(results, chosen, "dropout") if "dropout" in chosen else {}
    for method, k in chosen.items():
        rows.append({
            "method": method,
            "chosen setting": settings[k].knob(),
            "test accuracy": stats.format_mean_sd(results["test_accuracy"][k]),
            "test loss": stats.format_mean_sd(results["test_loss"][k]),
            "vs none": "–" if method == NONE else _short(vs_none[method]),
            "vs dropout": "–" if method in (NONE, "dropout") or not vs_drop
            else _short(vs_drop[method]),
        })
    return pd.DataFrame(rows)


def _short(result) -> str:
    return f"{stats.signed(result['diff'])} ({result['verdict']})"


def scores_by_method(results, chosen, metric: str) -> dict:
    """``{method: values over seeds}`` of the chosen settings."""
    return {m: np.asarray(results[metric][k]) for m, k in chosen.items()}


# ------------------------------------------------------------------ theory
def binary_digits(x, y, n: int, min_active: float = 0.3):
    """Odd (1) vs even (0) on the first ``n`` images, keeping the pixels that
    are non-zero in at least ``min_active`` of them (float64). Pixels lit in a
    few images only let an unpenalised weight grow without bound."""
    x, y = np.asarray(x[:n], np.float64), (np.asarray(y[:n]) % 2).astype(np.float64)
    return x[:, (x > 0).mean(0) >= min_active], y


def agreement(w, reference) -> dict:
    """Pearson correlation and relative difference ``|w - ref| / |ref|``."""
    w, reference = np.asarray(w, float), np.asarray(reference, float)
    return {"correlation": float(np.corrcoef(w, reference)[0, 1]),
            "relative difference": float(np.linalg.norm(w - reference) / np.linalg.norm(reference))}


def strengths(w, b, x, p: float) -> np.ndarray:
    """The per-weight L2 strengths of the quadratic dropout penalty,
    ``(1/2) p/(1-p) mean_i A_i x_ij**2`` with ``A_i = s_i (1 - s_i)``."""
    s = 1.0 / (1.0 + np.exp(-(np.asarray(x) @ w + b)))
    return 0.5 * p / (1 - p) * ((s * (1 - s)) @ np.asarray(x) ** 2) / len(x)


def match_l2(fit_l2, target_norm: float, low: float = -8.0, high: float = 1.0) -> float:
    """The L2 strength ``lam`` whose fit ``fit_l2(lam) -> w`` has
    ``|w| = target_norm`` (root of the norm in log10(lam); the norm falls as
    lam grows)."""
    from scipy.optimize import brentq

    def gap(log_lam):
        return float(np.linalg.norm(fit_l2(10.0**log_lam))) - target_norm

    return 10.0 ** brentq(gap, low, high, xtol=1e-4)


def monte_carlo_penalty(w, b, x, y, x_masked, copies: int) -> float:
    """Mean log-loss over masked copies (``x_masked``: ``copies`` rows per
    example, as ``np.repeat(x, copies, 0)`` orders them) minus the clean one."""
    def logloss(xx, yy):
        z = xx @ w + b
        return float(np.mean(np.logaddexp(0.0, z) - yy * z))

    return logloss(x_masked, np.repeat(y, copies)) - logloss(x, y)
