"""Train small Keras models full-batch with the whole epoch loop compiled.

Why: on a tiny data set (the circles case study has 30 training points),
``model.fit`` spends almost all of its ~0.1 s per epoch on per-epoch Python
work: callbacks, progress logging, building the validation data iterator and
calling ``evaluate``. The arithmetic of one epoch takes microseconds.
:func:`fast_fit` runs the same optimizer, loss and metrics, one full-batch
step per epoch exactly like ``fit(batch_size >= n_samples)``, but inside one
``tf.function`` that loops over the epochs and
records the per-epoch numbers in ``History.history``'s names.
"""

from __future__ import annotations

import numpy as np

from ._validate import check_positive_int

SUPPORTED_LOSSES = {
    "binary_crossentropy": "binary",
    "categorical_crossentropy": "categorical",
    "sparse_categorical_crossentropy": "sparse",
    "mean_squared_error": "regression",
    "mse": "regression",
}


def _loss_name(model) -> str:
    loss = getattr(model, "loss", None)
    if loss is None:
        raise ValueError("fast_fit needs a compiled model: call model.compile(optimizer, loss) first")
    name = loss if isinstance(loss, str) else getattr(loss, "name", None) or getattr(loss, "__name__", "")
    if name not in SUPPORTED_LOSSES:
        raise ValueError(
            f"fast_fit supports the losses {sorted(SUPPORTED_LOSSES)}; the model was compiled with {loss!r}"
        )
    return name


def _check_xy(x, y, what):
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y, dtype=np.float32)
    if x.ndim < 2:
        raise ValueError(f"{what}: x must have a batch axis and features, got shape {x.shape}")
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(f"{what}: x and y must hold the same, non-zero number of samples "
                         f"({len(x)} vs {len(y)})")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError(f"{what}: x and y must be finite")
    return x, y


def fast_fit(models, x, y, epochs: int, validation_data=None, track=None):
    """Full-batch training of one model or several models in lock-step.

    Parameters
    ----------
    models : keras.Model or list of keras.Model
        Compiled models (optimizer + one of :data:`SUPPORTED_LOSSES`). Several
        models are trained in one compiled loop, which amortises its overhead
        (use it for repeated seeds). Each keeps its own optimizer state.
    x, y : arrays, or lists of arrays (one per model)
        The whole training set; one gradient step per epoch on all of it,
        which is what ``fit`` does when ``batch_size >= len(x)``. With lists,
        model ``i`` trains on ``x[i], y[i]`` (e.g. a different draw of the
        training set per seed); the validation data stay shared.
    epochs : int
    validation_data : (x_val, y_val), optional
        Evaluated after every epoch's update, in inference mode, as ``fit``
        does; gives ``val_loss`` and ``val_accuracy``.

    Returns
    -------
    dict or list of dict
        Per-epoch ``loss`` and ``accuracy`` (computed on the training forward
        pass, before the update, like ``fit``) and, with validation data,
        ``val_loss`` and ``val_accuracy``; as NumPy arrays.
    """
    import keras
    import tensorflow as tf

    single = isinstance(models, keras.Model)
    models = [models] if single else list(models)
    if not models or not all(isinstance(m, keras.Model) for m in models):
        raise TypeError("models must be a keras.Model or a non-empty list of them")
    if len({id(m) for m in models}) != len(models):
        raise ValueError("the same model appears twice in models")
    epochs = check_positive_int(epochs, "epochs")
    if isinstance(x, (list, tuple)) or isinstance(y, (list, tuple)):
        if not (isinstance(x, (list, tuple)) and isinstance(y, (list, tuple))):
            raise TypeError("x and y must both be arrays, or both lists with one array per model")
        if len(x) != len(models) or len(y) != len(models):
            raise ValueError(f"{len(models)} models need {len(models)} training sets, got {len(x)} x and {len(y)} y")
        train = [_check_xy(a, b, f"training data of model {i}") for i, (a, b) in enumerate(zip(x, y, strict=True))]
    else:
        train = [_check_xy(x, y, "training data")] * len(models)
    x, y = train[0]
    has_val = validation_data is not None
    if has_val:
        if len(validation_data) != 2:
            raise ValueError("validation_data must be a pair (x_val, y_val)")
        xv, yv = _check_xy(*validation_data, "validation_data")
    else:
        xv, yv = x[:1], y[:1]

    track = dict(track or {})
    for name, fn in track.items():
        if not callable(fn):
            raise TypeError(f"track[{name!r}] must be a callable taking the model, got {type(fn).__name__}")
        if name in ("loss", "accuracy", "val_loss", "val_accuracy"):
            raise ValueError(f"track name {name!r} would overwrite a metric; pick another name")

    kinds, loss_fns = [], []
    for i, m in enumerate(models):
        name = _loss_name(m)
        kinds.append(SUPPORTED_LOSSES[name])
        loss_fns.append(keras.losses.get(name))
        if m.optimizer is None:
            raise ValueError("fast_fit needs a compiled model: call model.compile(optimizer, loss) first")
        if not m.built:
            m(train[i][0][:1])
        m.optimizer.build(m.trainable_variables)

    def accuracy(kind, y_true, y_pred):
        if kind == "binary":
            hit = tf.cast(y_pred > 0.5, y_true.dtype) == y_true
        elif kind == "categorical":
            hit = tf.argmax(y_pred, -1) == tf.argmax(y_true, -1)
        elif kind == "sparse":
            hit = tf.cast(tf.argmax(y_pred, -1), tf.int64) == tf.cast(tf.reshape(y_true, [-1]), tf.int64)
        else:
            return tf.constant(0.0)
        return tf.reduce_mean(tf.cast(hit, tf.float32))

    def objective(i, xb, yb, training):
        m = models[i]
        pred = m(xb, training=training)
        loss = tf.reduce_mean(loss_fns[i](yb, pred))
        if m.losses:
            loss = loss + tf.add_n(m.losses)
        return loss, accuracy(kinds[i], yb, pred)

    n = len(models)

    n_metrics = 4 if has_val else 2
    n_out = n_metrics + len(track)

    def epoch_step():
        # One epoch of every model: a full-batch update, then validation.
        values = []
        for i, m in enumerate(models):
            with tf.GradientTape() as tape:
                loss, acc = objective(i, *train_[i], True)
            grads = tape.gradient(loss, m.trainable_variables)
            m.optimizer.apply(grads, m.trainable_variables)
            values += [loss, acc]
            if has_val:
                values += list(objective(i, xv_, yv_, False))
            values += [tf.cast(fn(m), tf.float32) for fn in track.values()]
        return values

    # Not XLA: on CPU, XLA made this loop 3x slower, and 15x with dropout's RNG.
    step = tf.function(epoch_step)

    def body(e, arrays):
        values = step()
        return e + 1, tuple(a.write(e, v) for a, v in zip(arrays, values, strict=True))

    @tf.function
    def run(n_epochs):
        arrays = tuple(tf.TensorArray(tf.float32, size=n_epochs, infer_shape=True) for _ in range(n_out * n))
        _, arrays = tf.while_loop(lambda e, _: e < n_epochs, body, (tf.constant(0), arrays))
        return [a.stack() for a in arrays]

    uniq = {}
    train_ = [uniq.setdefault((id(t[0]), id(t[1])), (tf.constant(t[0]), tf.constant(t[1]))) for t in train]
    xv_, yv_ = tf.constant(xv), tf.constant(yv)
    from .progress import epoch_chunks

    pieces = [[o.numpy() for o in run(tf.constant(count))]
              for _, count in epoch_chunks(epochs, f"fast_fit ({n} models)")]
    out = [np.concatenate([p[j] for p in pieces]) for j in range(len(pieces[0]))]
    keys = ["loss", "accuracy", "val_loss", "val_accuracy"] if has_val else ["loss", "accuracy"]
    keys += list(track)
    k = len(keys)
    histories = []
    for i, kind in enumerate(kinds):
        h = {key: out[k * i + j] for j, key in enumerate(keys)}
        if kind == "regression":
            h = {key: v for key, v in h.items() if "accuracy" not in key}
        histories.append(h)
    return histories[0] if single else histories
