"""Many seeds at the cost of one: S copies of a small Keras MLP trained as one computation.

The book's claims rest on repeated seeds, and repeated seeds of a tiny network
are mostly overhead: :func:`helpers.fastfit.fast_fit` steps S models one after
another, so 60 models cost ~60x one. :func:`batched_fit` stacks the S copies'
weights along a leading *seed axis* (``W: [S, d_in, d_out]``) and trains all of
them with batched matrix products, with

- independent dropout masks per copy (and a dropout rate per copy, so "no
  dropout" and "Dropout(0.4)" can share one batch: a missing Dropout layer is
  rate 0),
- Adam or SGD state per copy (same update rule as Keras 3, learning rate per copy),
- max-norm per copy and per unit, as ``keras.constraints.MaxNorm(c, axis=0)``
  applies it after each update,

one full-batch step per epoch like ``fit(batch_size >= n)``. The copies start
from S ordinary Keras models (built with seeds 0..S-1, say), and the result is S
ordinary histories; ``write_back=True`` copies the trained weights into the S
models. Supported: ``Input -> [Dropout] -> Dense -> [Dropout] -> Dense ...``
with ReLU/linear hidden layers and a sigmoid, softmax or linear output, trained
with binary / categorical / sparse categorical cross-entropy or MSE. Anything
else raises a ``ValueError`` that says to use ``fast_fit``.

Exactness: with dropout off, every copy follows the computation of training
that model alone; only the rounding of batched vs single matrix products
differs (last bit), which SGD leaves there and Adam amplifies late in training
once gradients are tiny: ``tests/test_batched.py`` finds the loss curves equal
to ``fast_fit``'s within 1e-5 for 100 epochs and within 2e-4 over 200. With dropout on, the masks are drawn differently
from Keras' own, so single runs differ, while mask rates and the distribution of
results over seeds agree (tested too).
"""

from __future__ import annotations

import math

import numpy as np

from ._validate import check_nonnegative_int, check_positive_int

LOSSES = {
    "binary_crossentropy": ("binary", "sigmoid"),
    "categorical_crossentropy": ("categorical", "softmax"),
    "sparse_categorical_crossentropy": ("sparse", "softmax"),
    "mean_squared_error": ("regression", "linear"),
    "mse": ("regression", "linear"),
}
HIDDEN_ACTIVATIONS = ("relu", "linear")


class _Plan:
    """What one model contributes: layer sizes, rates, max-norm values, optimizer, loss."""

    def __init__(self, model):
        import keras

        if not isinstance(model, keras.Model):
            raise TypeError(f"expected a keras.Model, got {type(model).__name__}")
        if model.optimizer is None or getattr(model, "loss", None) is None:
            raise ValueError("batched_fit needs compiled models: call model.compile(optimizer, loss)")
        loss = model.loss if isinstance(model.loss, str) else getattr(model.loss, "name", "")
        if loss not in LOSSES:
            raise ValueError(f"batched_fit supports the losses {sorted(LOSSES)}, not {model.loss!r}; "
                             f"use helpers.fastfit.fast_fit")
        self.kind, out_act = LOSSES[loss]
        self.dense, self.rates, self.max_norms = [], [], []
        pending = 0.0
        for layer in model.layers:
            name = type(layer).__name__
            if name == "InputLayer":
                continue
            if name == "Dropout":
                if layer.noise_shape is not None:
                    raise ValueError("batched_fit: Dropout with noise_shape is not supported; use fast_fit")
                pending = 1.0 - (1.0 - pending) * (1.0 - float(layer.rate))
                continue
            if name != "Dense":
                raise ValueError(f"batched_fit handles Dense and Dropout layers only, not {name}; "
                                 f"use helpers.fastfit.fast_fit")
            if not layer.use_bias:
                raise ValueError("batched_fit: Dense layers need a bias")
            c = layer.kernel_constraint
            if c is None:
                self.max_norms.append(math.inf)
            elif type(c).__name__ == "MaxNorm" and tuple(np.atleast_1d(c.axis)) == (0,):
                self.max_norms.append(float(c.max_value))
            else:
                raise ValueError(f"batched_fit: kernel constraint {c!r} is not MaxNorm(axis=0)")
            if layer.kernel_regularizer is not None or layer.bias_regularizer is not None:
                raise ValueError("batched_fit: weight regularisers are not supported; use fast_fit")
            self.dense.append(layer)
            self.rates.append(pending)
            pending = 0.0
        if pending:
            raise ValueError("batched_fit: a Dropout after the output layer is not supported")
        if not self.dense:
            raise ValueError("batched_fit: the model has no Dense layer")
        acts = [layer.activation.__name__ for layer in self.dense]
        if any(a not in HIDDEN_ACTIVATIONS for a in acts[:-1]):
            raise ValueError(f"batched_fit: hidden activations must be in {HIDDEN_ACTIVATIONS}, got {acts}")
        if acts[-1] != out_act:
            raise ValueError(f"batched_fit: loss {loss} needs a {out_act} output layer, not {acts[-1]}")
        self.activations = acts
        self.shapes = [tuple(layer.kernel.shape) for layer in self.dense]
        opt = model.optimizer
        cfg = opt.get_config()
        lr = cfg["learning_rate"]
        if isinstance(lr, dict) or not isinstance(lr, (int, float)):
            raise ValueError("batched_fit: learning-rate schedules are not supported; use fast_fit")
        self.learning_rate = float(lr)
        if type(opt).__name__ == "Adam":
            if cfg.get("amsgrad"):
                raise ValueError("batched_fit: amsgrad is not supported")
            self.optimizer = ("adam", float(cfg["beta_1"]), float(cfg["beta_2"]), float(cfg["epsilon"]))
        elif type(opt).__name__ == "SGD":
            self.optimizer = ("sgd", float(cfg["momentum"]), bool(cfg["nesterov"]))
        else:
            raise ValueError(f"batched_fit supports Adam and SGD, not {type(opt).__name__}")
        for key in ("weight_decay", "clipnorm", "clipvalue", "global_clipnorm"):
            if cfg.get(key):
                raise ValueError(f"batched_fit: optimizer option {key} is not supported")
        self.signature = (self.kind, tuple(self.shapes), tuple(acts), self.optimizer)


_GOLDEN = 0x9E3779B9  # odd: multiplying by it permutes the 32-bit integers


def _mix(x: int) -> int:
    """MurmurHash3's 32-bit finaliser (a bijection with full avalanche), in Python."""
    x &= 0xFFFFFFFF
    x ^= x >> 16
    x = (x * 0x85EBCA6B) & 0xFFFFFFFF
    x ^= x >> 13
    x = (x * 0xC2B2AE35) & 0xFFFFFFFF
    return x ^ (x >> 16)


def _tf_fmix(x):
    """The same finaliser on a uint32 tensor."""
    import tensorflow as tf

    def shift_xor(v, n):
        return tf.bitwise.bitwise_xor(v, tf.bitwise.right_shift(v, tf.constant(n, tf.uint32)))

    x = shift_xor(x, 16) * tf.constant(0x85EBCA6B, tf.uint32)
    x = shift_xor(x, 13) * tf.constant(0xC2B2AE35, tf.uint32)
    return shift_xor(x, 16)


def mask_bits(key: int, epoch, shape, offset: int = 0):
    """Uniform 32-bit words for one layer's dropout masks at one epoch: the
    finaliser of (position * golden ratio) XOR a key mixed from (key, epoch).
    Distinct positions give distinct words (both steps are bijections); keys
    and epochs decorrelate through the finaliser's avalanche (tests/test_batched.py).
    ``offset`` is the flat position of the first word: the words of a slice of a
    larger tensor are that slice of the larger tensor's words."""
    import tensorflow as tf

    golden = tf.constant(_GOLDEN, tf.uint32)
    mixed = _tf_fmix(tf.constant(key & 0xFFFFFFFF, tf.uint32) + tf.cast(epoch, tf.uint32) * golden)
    count = int(np.prod(shape))
    index = tf.bitcast(tf.reshape(tf.range(offset, offset + count, dtype=tf.int32), shape), tf.uint32)
    return _tf_fmix(tf.bitwise.bitwise_xor(index * golden, mixed))


def _runs(flags):
    """Maximal runs of equal flags as (start, stop, flag): [F, T, T, F] -> (0,1,F), (1,3,T), (3,4,F)."""
    out, start = [], 0
    for i in range(1, len(flags) + 1):
        if i == len(flags) or flags[i] != flags[start]:
            out.append((start, i, bool(flags[start])))
            start = i
    return out


def _as_stack(x, y, n_models, what):
    """One shared (x, y) or a list with one (equal-shaped) array per model -> [S, n, ...]."""
    if isinstance(x, (list, tuple)) != isinstance(y, (list, tuple)):
        raise TypeError(f"{what}: x and y must both be arrays, or both lists with one array per model")
    if isinstance(x, (list, tuple)):
        if len(x) != n_models or len(y) != n_models:
            raise ValueError(f"{what}: {n_models} models need {n_models} arrays, got {len(x)} and {len(y)}")
        xs, ys = [np.asarray(a, np.float32) for a in x], [np.asarray(b, np.float32) for b in y]
        if len({a.shape for a in xs}) != 1 or len({b.shape for b in ys}) != 1:
            raise ValueError(f"{what}: per-model arrays must all have the same shape")
        xs, ys = np.stack(xs), np.stack(ys)
    else:
        xs = np.broadcast_to(np.asarray(x, np.float32), (n_models, *np.shape(x)))
        ys = np.broadcast_to(np.asarray(y, np.float32), (n_models, *np.shape(y)))
    if xs.ndim != 3:
        raise ValueError(f"{what}: x must be (n_samples, n_features), got {xs.shape[1:]}")
    if xs.shape[1] == 0 or xs.shape[1] != ys.shape[1]:
        raise ValueError(f"{what}: x and y must hold the same, non-zero number of samples")
    if not (np.isfinite(xs).all() and np.isfinite(ys).all()):
        raise ValueError(f"{what}: x and y must be finite")
    return np.ascontiguousarray(xs), np.ascontiguousarray(ys)


def _default_groups() -> int:
    import os

    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8))


def batched_fit(models, x, y, epochs: int, validation_data=None, seed: int = 0,
                write_back: bool = False, jit_compile: bool = True, groups: int | None = None):
    """Train ``models`` (S compiled Keras MLPs of one architecture) as one stacked computation.

    Parameters
    ----------
    models : list of keras.Model
        Same layer sizes, activations, loss and optimizer type; dropout rates,
        max-norm values and learning rates may differ per model.
    x, y : arrays, or lists with one array per model (a training set per seed)
        One full-batch step per epoch on all of it.
    epochs : int
    validation_data : (x_val, y_val), optional
        Evaluated in inference mode after each epoch's update, like ``fit``.
    seed : int
        Seeds the dropout masks (copy s and epoch e get their own stream).
    write_back : bool
        Copy the trained weights into ``models``.
    jit_compile : bool
        Compile each epoch's update with XLA (default): about 1.8x faster on
        a 2-core CPU, the same results to rounding (tests/test_batched.py).
    groups : int, optional
        Train the copies as this many groups at once, one per core (default: the
        number of cores this process may use, at most 8). The results do not
        depend on it (tested).

    Returns
    -------
    list of dict
        Per model, per-epoch ``loss`` and ``accuracy`` (training pass, before the
        update, dropout active, as ``fit`` reports them) and ``val_loss`` /
        ``val_accuracy``; NumPy arrays. Regression histories have no accuracy.
    """
    import tensorflow as tf

    models = list(models) if isinstance(models, (list, tuple)) else None
    if not models:
        raise TypeError("models must be a non-empty list of keras.Model")
    if len({id(m) for m in models}) != len(models):
        raise ValueError("the same model appears twice in models")
    epochs = check_positive_int(epochs, "epochs")
    seed = check_nonnegative_int(seed, "seed")
    plans = [_Plan(m) for m in models]
    if len({p.signature for p in plans}) != 1:
        raise ValueError("batched_fit: all models need the same layer sizes, activations, loss and "
                         "optimizer type (rates, max-norm values and learning rates may differ)")
    plan = plans[0]
    n_models = len(models)
    xs, ys = _as_stack(x, y, n_models, "training data")
    has_val = validation_data is not None
    if has_val:
        if len(validation_data) != 2:
            raise ValueError("validation_data must be a pair (x_val, y_val)")
        xv, yv = _as_stack(validation_data[0], validation_data[1], len(models), "validation_data")
        xv, yv = xv[:1], yv[:1]  # shared: broadcast in the graph
    if xs.shape[2] != plan.shapes[0][0]:
        raise ValueError(f"x has {xs.shape[2]} features, the models expect {plan.shapes[0][0]}")

    n_layers = len(plan.dense)
    n_out = 4 if has_val else 2

    def make_group(lo, hi):
        """Variables and compiled training of copies lo..hi-1 (one group)."""
        gplans = plans[lo:hi]
        S = hi - lo
        W = [tf.Variable(np.stack([np.asarray(p.dense[k].kernel) for p in gplans])) for k in range(n_layers)]
        B = [tf.Variable(np.stack([np.asarray(p.dense[k].bias) for p in gplans])) for k in range(n_layers)]
        params = W + B
        rates = [tf.constant([p.rates[k] for p in gplans], tf.float32) for k in range(n_layers)]
        use_dropout = [any(p.rates[k] > 0 for p in gplans) for k in range(n_layers)]
        caps = [np.array([p.max_norms[k] for p in gplans], np.float32) for k in range(n_layers)]
        has_cap = [tf.constant(np.isfinite(c)) for c in caps]
        caps = [tf.constant(np.where(np.isfinite(c), c, 0.0).astype(np.float32)) for c in caps]
        any_cap = [bool(np.any(p.max_norms[k] < math.inf for p in gplans)) for k in range(n_layers)]
        lr = tf.constant([p.learning_rate for p in gplans], tf.float32)
        opt = plan.optimizer
        slots = [[tf.Variable(tf.zeros_like(v)) for v in params] for _ in range(2 if opt[0] == "adam" else 1)]
        kind = plan.kind
        eps_k = 1e-7  # keras.backend.epsilon(), used by MaxNorm

        def bcast(t, v):  # per-copy scalar -> broadcastable against v [S, ...]
            return tf.reshape(t, [S] + [1] * (len(v.shape) - 1))

        def forward(x_, epoch=None):
            h = x_
            for k in range(n_layers):
                if epoch is not None and use_dropout[k]:
                    h = dropped(k, epoch, h)
                h = tf.matmul(h, W[k]) + B[k][:, None, :]
                if k < n_layers - 1 and plan.activations[k] == "relu":
                    h = tf.nn.relu(h)
            return h  # logits (or the linear output)

        def loss_acc(z, y_):
            if kind == "binary":
                per = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=y_, logits=z), -1)
                acc = tf.reduce_mean(tf.cast(tf.cast(z > 0, tf.float32) == y_, tf.float32), [1, 2])
            elif kind == "categorical":
                per = tf.nn.softmax_cross_entropy_with_logits(labels=y_, logits=z)
                acc = tf.reduce_mean(tf.cast(tf.argmax(z, -1) == tf.argmax(y_, -1), tf.float32), 1)
            elif kind == "sparse":
                labels = tf.cast(tf.reshape(y_, tf.shape(z)[:2]), tf.int32)
                per = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=z)
                acc = tf.reduce_mean(tf.cast(tf.cast(tf.argmax(z, -1), tf.int32) == labels, tf.float32), 1)
            else:
                per = tf.reduce_mean(tf.square(z - y_), -1)
                acc = tf.zeros([S])
            return tf.reduce_mean(per, 1), acc

        xs_t, ys_t = tf.constant(xs[lo:hi]), tf.constant(ys[lo:hi])
        if has_val:
            xv_t = tf.broadcast_to(tf.constant(xv), [S, *xv.shape[1:]])
            yv_t = tf.broadcast_to(tf.constant(yv), [S, *yv.shape[1:]])

        # Dropout masks: a counter-based hash of (mask seed, layer, epoch, position),
        # computed inside the compiled update and fused with the layer's arithmetic, so
        # the random numbers never exist as arrays. A 32-bit hash below keep * 2**32
        # keeps a unit with probability 1 - rate (to 2**-32).
        mask_keys = [_mix(seed * 1009 + k + 1) for k in range(n_layers)]
        # P(bits <= keep * 2**32 - 1) = keep (exact in float64); no dropout keeps every unit
        thresholds = [tf.constant(np.array([math.floor((1.0 - p.rates[k]) * 2.0**32) - 1 for p in gplans],
                                           np.uint32)) for k in range(n_layers)]

        # Copies at rate 0 keep every unit: their part of h passes unchanged and no hash
        # is computed for it. The words of a run of dropping copies are computed at their
        # positions in the whole [S, n, d] tensor, so the masks do not depend on which
        # other copies share the batch.
        drop_runs = [_runs([p.rates[k] > 0 for p in gplans]) for k in range(n_layers)]

        def dropped(k, e, h):
            """Layer k's input h [S, n, d] with inverted dropout: kept units times 1/keep."""
            per_copy = int(np.prod(h.shape[1:]))
            parts = []
            for a, b, drops in drop_runs[k]:
                part = h[a:b]
                if drops:
                    bits = mask_bits(mask_keys[k], e, part.shape, offset=(lo + a) * per_copy)
                    keep = bits <= tf.reshape(thresholds[k][a:b], [b - a, 1, 1])
                    part = tf.where(keep, part * tf.reshape(1.0 / (1.0 - rates[k][a:b]), [b - a, 1, 1]), 0.0)
                parts.append(part)
            return parts[0] if len(parts) == 1 else tf.concat(parts, axis=0)

        def update(e):
            with tf.GradientTape() as tape:
                loss, acc = loss_acc(forward(xs_t, e), ys_t)
                total = tf.reduce_sum(loss)  # copies share no weights: d total / d W_s = d loss_s / d W_s
            grads = tape.gradient(total, params)
            t = tf.cast(e + 1, tf.float32)
            for i, (v, g) in enumerate(zip(params, grads, strict=True)):
                lr_b = bcast(lr, v)
                if opt[0] == "adam":
                    _, b1, b2, eps = opt
                    m, s2 = slots[0][i], slots[1][i]
                    alpha = lr_b * tf.sqrt(1 - b2**t) / (1 - b1**t)
                    m.assign_add((g - m) * (1 - b1))
                    s2.assign_add((tf.square(g) - s2) * (1 - b2))
                    v.assign_sub(m * alpha / (tf.sqrt(s2) + eps))
                else:
                    _, momentum, nesterov = opt
                    if momentum:
                        m = slots[0][i]
                        m.assign(m * momentum - g * lr_b)
                        v.assign_add(m * momentum - g * lr_b if nesterov else m)
                    else:
                        v.assign_sub(g * lr_b)
            for k in range(n_layers):
                if any_cap[k]:
                    w = W[k]
                    norms = tf.sqrt(tf.reduce_sum(tf.square(w), axis=1, keepdims=True))
                    desired = tf.clip_by_value(norms, 0.0, bcast(caps[k], w))
                    W[k].assign(tf.where(bcast(has_cap[k], w), w * (desired / (eps_k + norms)), w))
            out = [loss, acc]
            if has_val:
                out += list(loss_acc(forward(xv_t), yv_t))
            return out

        def run(start, n_epochs):
            # the whole piece of training, loop included, is one compiled program
            arrays = tuple(tf.TensorArray(tf.float32, size=n_epochs) for _ in range(n_out))

            def body(i, arrays):
                values = update(start + i)  # the epoch number drives Adam's step and the masks
                return i + 1, tuple(a.write(i, v) for a, v in zip(arrays, values, strict=True))

            _, arrays = tf.while_loop(lambda i, _: i < n_epochs, body, (tf.constant(0), arrays))
            return [a.stack() for a in arrays]

        compiled = {}  # one program per piece length (at most two: the pieces and the rest)

        def run_piece(start, count):
            if count not in compiled:
                compiled[count] = tf.function(lambda s_: run(s_, count), jit_compile=jit_compile)
            return [o.numpy() for o in compiled[count](tf.constant(start))]

        return run_piece, W, B

    from concurrent.futures import ThreadPoolExecutor

    from .progress import epoch_chunks

    # The copies are independent, so they can be trained as G groups, each its own
    # compiled program, running at the same time on G cores: XLA spreads one program
    # of small operations over the cores poorly. The masks do not depend on the
    # grouping (positions are global), so the histories are the same for any G.
    n_groups = min(n_models, _default_groups() if groups is None else check_positive_int(groups, "groups"))
    bounds = np.linspace(0, n_models, n_groups + 1).round().astype(int)
    made = [make_group(lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]
    pieces = []
    with ThreadPoolExecutor(max_workers=n_groups) as pool:
        for start, count in epoch_chunks(epochs, f"batched_fit ({n_models} models)"):
            parts = list(pool.map(lambda g: g[0](start, count), made))  # noqa: B023 (used at once)
            pieces.append([np.concatenate([part[j] for part in parts], axis=1) for j in range(n_out)])
    out = [np.concatenate([p[j] for p in pieces]) for j in range(n_out)]  # each [epochs, S]
    keys = ["loss", "accuracy", "val_loss", "val_accuracy"][:n_out]
    histories = []
    for s in range(len(models)):
        h = {key: out[j][:, s].copy() for j, key in enumerate(keys)}
        if plan.kind == "regression":
            h = {key: v for key, v in h.items() if "accuracy" not in key}
        histories.append(h)
    if write_back:
        for (_, W, B), lo, hi in zip(made, bounds[:-1], bounds[1:], strict=True):
            for s in range(lo, hi):
                for k, layer in enumerate(plans[s].dense):
                    layer.kernel.assign(W[k][s - lo].numpy())
                    layer.bias.assign(B[k][s - lo].numpy())
    return histories
