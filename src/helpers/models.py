"""Model builders used across the book, all from parameters and all validated."""

from __future__ import annotations

import keras
import numpy as np

from ._validate import (
    check_choice,
    check_nonnegative_float,
    check_nonnegative_int,
    check_positive_float,
    check_positive_int,
    check_rate,
)

OPTIMIZERS = ("adam", "sgd", "sgd_nesterov")

# Configuration (e)'s optimizer: what Srivastava et al. (2014) recommend with dropout
# and max-norm -- a learning rate that decays and high (Nesterov) momentum (0.9 makes
# the effective step 10x the plain-SGD step of configuration (d)).
NESTEROV_LR, NESTEROV_MOMENTUM = 0.01, 0.9
# Full CIFAR-10 protocol: 55 epochs x ceil(40,000 / 250) = 160 steps per epoch.
CIFAR_DECAY_STEPS = 55 * 160


def _seed(seed) -> None:
    """Seed Keras (weights, dropout masks) when a seed is given."""
    if seed is not None:
        keras.utils.set_random_seed(check_nonnegative_int(seed, "seed"))


def _optimizer(name: str, learning_rate=None, momentum: float = 0.0, decay_steps=None):
    check_choice(name, OPTIMIZERS, "optimizer")
    if name == "adam":
        return keras.optimizers.Adam(**({"learning_rate": learning_rate} if learning_rate else {}))
    if name == "sgd_nesterov":
        steps = check_positive_int(decay_steps or CIFAR_DECAY_STEPS, "decay_steps")
        schedule = keras.optimizers.schedules.CosineDecay(learning_rate or NESTEROV_LR, steps)
        return keras.optimizers.SGD(learning_rate=schedule, momentum=NESTEROV_MOMENTUM, nesterov=True)
    return keras.optimizers.SGD(learning_rate=learning_rate or 0.01, momentum=momentum)


def circles_mlp(hidden: int = 500, rate: float = 0.0, input_rate: float = 0.0,
                max_norm=None, seed=None, optimizer: str = "adam", learning_rate=None):
    """The case study's network: 2 inputs -> Dense(hidden, relu) -> [Dropout(rate)]
    -> Dense(1, sigmoid), compiled with binary cross-entropy and accuracy.

    ``input_rate`` adds dropout on the inputs (the visible layer); ``max_norm``
    bounds each hidden unit's incoming weight vector (``MaxNorm(max_norm)``).
    ``seed`` seeds Keras first, so the same seed gives the same initial weights
    and the same dropout masks.
    """
    hidden = check_positive_int(hidden, "hidden")
    rate = check_rate(rate, "rate")
    input_rate = check_rate(input_rate, "input_rate")
    max_norm = check_positive_float(max_norm, "max_norm", allow_none=True)
    _seed(seed)
    constraint = keras.constraints.MaxNorm(max_norm) if max_norm else None
    inputs = keras.Input(shape=(2,), name="xy")
    h = keras.layers.Dropout(input_rate, name="input_dropout")(inputs) if input_rate else inputs
    h = keras.layers.Dense(hidden, activation="relu", kernel_constraint=constraint, name="hidden")(h)
    if rate:
        h = keras.layers.Dropout(rate, name="dropout")(h)
    outputs = keras.layers.Dense(1, activation="sigmoid", name="output")(h)
    model = keras.Model(inputs, outputs, name=f"circles_mlp_r{rate:g}")
    model.compile(optimizer=_optimizer(optimizer, learning_rate), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


def _mlp_trunk(input_dim, hidden, rate, seed, input_name: str, dense_name: str, dropout_cls):
    """Validated ``Input -> [Dense(units, relu) -> dropout_cls(rate)]`` per entry of
    ``hidden`` (layers named ``{dense_name}_{i}`` and ``dropout_{i}``), seeded
    first; returns ``(inputs, last_tensor)``."""
    input_dim = check_positive_int(input_dim, "input_dim")
    rate = check_rate(rate, "rate")
    hidden = tuple(check_positive_int(h, "hidden") for h in hidden)
    _seed(seed)
    inputs = keras.Input(shape=(input_dim,), name=input_name)
    h = inputs
    for i, units in enumerate(hidden, start=1):
        h = keras.layers.Dense(units, activation="relu", name=f"{dense_name}_{i}")(h)
        if rate:
            h = dropout_cls(rate, name=f"dropout_{i}")(h)
    return inputs, h


def mlp_classifier(input_dim: int = 784, hidden=(128, 64), rate: float = 0.5,
                   n_classes: int = 10, seed=None, learning_rate=None):
    """The tutorial classic: input -> Dense(128) -> Dropout -> Dense(64) -> Dropout
    -> Dense(n_classes, softmax); Adam and sparse categorical cross-entropy."""
    n_classes = check_positive_int(n_classes, "n_classes")
    inputs, h = _mlp_trunk(input_dim, hidden, rate, seed, "pixels", "dense", keras.layers.Dropout)
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="class")(h)
    model = keras.Model(inputs, outputs, name="mlp_classifier")
    model.compile(optimizer=_optimizer("adam", learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def mlp_regressor(input_dim: int = 1, hidden=(128, 128), rate: float = 0.1, output_dim: int = 1,
                  seed=None, learning_rate=None, mc_dropout: bool = False):
    """input -> [Dense(units, relu) -> Dropout(rate)] per entry of ``hidden`` ->
    Dense(output_dim) (linear), compiled with Adam and mean squared error.

    Used for the MC-dropout regression toy (1 -> 1) and, with
    ``input_dim == output_dim``, as the autoencoder of the sparsity study.
    ``mc_dropout`` uses :class:`helpers.uncertainty.MCDropout` (stochastic at
    inference too) instead of ``Dropout``.
    """
    from .uncertainty import MCDropout

    output_dim = check_positive_int(output_dim, "output_dim")
    drop = MCDropout if mc_dropout else keras.layers.Dropout
    inputs, h = _mlp_trunk(input_dim, hidden, rate, seed, "x", "hidden", drop)
    outputs = keras.layers.Dense(output_dim, name="y")(h)
    model = keras.Model(inputs, outputs, name="mlp_regressor")
    model.compile(optimizer=_optimizer("adam", learning_rate), loss="mean_squared_error")
    return model


DROPOUT_POSITIONS = ("none", "after_bn", "before_bn")


def bn_convnet(position: str = "after_bn", rate: float = 0.5, filters: int = 32, seed=None,
               input_shape=(8, 8, 1), n_classes: int = 10, learning_rate=None, bn_momentum: float = 0.99):
    """A small CNN with batch normalisation, for "where does dropout go?":

    - ``"none"``: Conv2D -> BatchNorm -> ReLU -> MaxPool -> Flatten -> Dense(softmax)
    - ``"after_bn"``: Conv2D -> BatchNorm -> ReLU -> Dropout -> MaxPool -> ...
    - ``"before_bn"``: Conv2D -> Dropout -> BatchNorm -> ReLU -> MaxPool -> ...

    Adam, sparse categorical cross-entropy, accuracy. ``bn_momentum`` is the
    moving-average momentum of the BatchNorm statistics (Keras' default 0.99
    needs many hundreds of steps to forget its initial values; full-batch
    training with few steps wants a smaller one).
    """
    check_choice(position, DROPOUT_POSITIONS, "position")
    rate = check_rate(rate, "rate")
    filters = check_positive_int(filters, "filters")
    if not 0.0 <= float(bn_momentum) < 1.0:
        raise ValueError(f"bn_momentum must be in [0, 1), got {bn_momentum!r}")
    _seed(seed)
    layers = keras.layers
    inputs = keras.Input(shape=tuple(input_shape), name="image")
    h = layers.Conv2D(filters, 3, padding="same", use_bias=False, name="conv")(inputs)
    if position == "before_bn":
        h = layers.Dropout(rate, name="dropout")(h)
    h = layers.BatchNormalization(momentum=bn_momentum, name="bn")(h)
    h = layers.Activation("relu", name="relu")(h)
    if position == "after_bn":
        h = layers.Dropout(rate, name="dropout")(h)
    h = layers.MaxPooling2D(2, name="pool")(h)
    h = layers.Flatten(name="flatten")(h)
    outputs = layers.Dense(n_classes, activation="softmax", name="class")(h)
    model = keras.Model(inputs, outputs, name=f"bn_convnet_{position}")
    model.compile(optimizer=_optimizer("adam", learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


CIFAR_CONFIGS = {
    "a": {"dropout": False, "max_norm": True, "optimizer": "adam",
          "label": "(a) no dropout (max-norm, Adam)"},
    "b": {"dropout": True, "max_norm": True, "optimizer": "adam",
          "label": "(b) dropout + max-norm + Adam (reference)"},
    "c": {"dropout": True, "max_norm": False, "optimizer": "adam",
          "label": "(c) dropout, no max-norm (Adam)"},
    "d": {"dropout": True, "max_norm": True, "optimizer": "sgd",
          "label": "(d) dropout + max-norm + plain SGD"},
    "e": {"dropout": True, "max_norm": True, "optimizer": "sgd_nesterov",
          "label": "(e) dropout + max-norm + SGD, Nesterov 0.9, decaying rate"},
}


def cifar_convnet(dropout: bool = True, max_norm: bool = True, optimizer: str = "adam",
                  rate: float = 0.5, max_norm_value: float = 2.0, seed=None,
                  input_shape=(32, 32, 3), n_classes: int = 10, mixed_precision: bool = False,
                  jit_compile="auto", l2: float = 0.0, noise: float = 0.0, shift: float = 0.0):
    """The chapter's ConvNet: [Conv2D(64, 3x3) -> MaxPool(2x2) -> Dropout] x 2 ->
    Flatten -> Dense(256) -> Dense(n_classes, softmax). He-uniform initialisation.

    The other regularisers of the regulariser comparison (chapter 10), all off by
    default: ``shift`` > 0 puts data augmentation first (``RandomFlip("horizontal")``
    and ``RandomTranslation(shift, shift)``), ``noise`` > 0 then adds
    ``GaussianNoise(noise)`` to the pixels, and ``l2`` > 0 puts an L2 penalty of that
    strength on every kernel (both Conv2D and both Dense layers).

    With ``max_norm``, every Conv2D filter (``axis=[0, 1, 2]``: kernel height,
    width and input channels) and every Dense unit (``axis=0``) has its incoming
    weight vector's norm capped at ``max_norm_value``. Compiled with categorical
    cross-entropy (one-hot labels) and accuracy. Plain SGD uses Keras' default
    learning rate of 0.01 and no momentum; ``"sgd_nesterov"`` starts at 0.01 and
    decays it to zero over the full protocol's steps (cosine) with Nesterov momentum 0.9.

    For GPUs: ``mixed_precision=True`` computes every layer in float16 with float32
    weights (policy ``"mixed_float16"``) except the softmax output layer, which stays
    float32, and wraps the optimizer in a ``LossScaleOptimizer``; ``jit_compile``
    goes to ``model.compile`` (``"auto"``: Keras decides, ``True``: XLA).
    """
    rate = check_rate(rate, "rate")
    check_choice(optimizer, OPTIMIZERS, "optimizer")
    if not isinstance(mixed_precision, bool):
        raise TypeError(f"mixed_precision must be True or False, got {mixed_precision!r}")
    if jit_compile not in ("auto", True, False):
        raise ValueError(f"jit_compile must be 'auto', True or False, got {jit_compile!r}")
    mp = {"dtype": "mixed_float16"} if mixed_precision else {}
    max_norm_value = check_positive_float(max_norm_value, "max_norm_value")
    l2, noise = check_nonnegative_float(l2, "l2"), check_nonnegative_float(noise, "noise")
    shift = check_nonnegative_float(shift, "shift")
    if shift >= 1:
        raise ValueError(f"shift must be in [0, 1) (a fraction of the image size), got {shift!r}")
    _seed(seed)
    conv_c = keras.constraints.MaxNorm(max_norm_value, axis=[0, 1, 2]) if max_norm else None
    dense_c = keras.constraints.MaxNorm(max_norm_value, axis=0) if max_norm else None
    reg = {"kernel_regularizer": keras.regularizers.L2(l2)} if l2 else {}
    layers = keras.layers
    inputs = keras.Input(shape=tuple(input_shape), name="image")
    h = inputs
    if shift:
        h = layers.RandomFlip("horizontal", name="flip", **mp)(h)
        h = layers.RandomTranslation(shift, shift, name="shift", **mp)(h)
    if noise:
        h = layers.GaussianNoise(noise, name="noise", **mp)(h)
    for block in (1, 2):
        h = layers.Conv2D(64, (3, 3), activation="relu", kernel_initializer="he_uniform",
                          kernel_constraint=conv_c, name=f"conv{block}", **reg, **mp)(h)
        h = layers.MaxPooling2D((2, 2), name=f"pool{block}", **mp)(h)
        if dropout and rate:
            h = layers.Dropout(rate, name=f"dropout{block}", **mp)(h)
    h = layers.Flatten(name="flatten", **mp)(h)
    h = layers.Dense(256, activation="relu", kernel_initializer="he_uniform",
                     kernel_constraint=dense_c, name="dense", **reg, **mp)(h)
    out_dtype = {"dtype": "float32"} if mixed_precision else {}
    outputs = layers.Dense(n_classes, activation="softmax", name="class", **reg, **out_dtype)(h)
    model = keras.Model(inputs, outputs, name="cifar_convnet")
    opt = _optimizer(optimizer)
    if mixed_precision:
        opt = keras.optimizers.LossScaleOptimizer(opt)
    model.compile(optimizer=opt, loss="categorical_crossentropy", metrics=["accuracy"],
                  jit_compile=jit_compile)
    return model


def cifar_regularised(rate: float = 0.0, l2: float = 0.0, noise: float = 0.0, max_norm=None,
                      shift: float = 0.0, seed=None, mixed_precision: bool = False,
                      jit_compile="auto"):
    """Chapter 10's CIFAR-10 model: :func:`cifar_convnet` (Adam) with every regulariser
    of the comparison as a switch, all off by default: dropout ``rate``, ``l2``,
    Gaussian ``noise``, ``max_norm`` (the cap c, or None) and augmentation ``shift``."""
    rate = check_rate(rate, "rate")
    if max_norm is not None:
        max_norm = check_positive_float(max_norm, "max_norm")
    return cifar_convnet(dropout=rate > 0, max_norm=max_norm is not None, rate=rate or 0.5,
                         max_norm_value=max_norm or 2.0, seed=seed, l2=l2, noise=noise,
                         shift=shift, mixed_precision=mixed_precision, jit_compile=jit_compile)


def unit_norms(kernel, axis=0):
    """Norm of each unit's incoming weight vector, reducing over ``axis`` as MaxNorm does."""
    k = np.asarray(kernel)
    return np.sqrt(np.sum(k**2, axis=tuple(np.atleast_1d(axis))))


def describe(model) -> dict:
    """What makes two models "the same architecture": per layer its type, size,
    activation, dropout rate / noise shape, kernel constraint and initializer;
    the parameter count; the optimizer's class and settings and the loss.

    Names, seeds and weights are left out, so a chapter's visibly written model
    and the builder that repeats it can be compared with ``==``.
    """
    def _cfg(obj):
        if obj is None:
            return None
        cfg = obj.get_config() if hasattr(obj, "get_config") else {}
        cfg = {k: v for k, v in cfg.items() if k not in ("seed", "name")}
        return {"class": type(obj).__name__, **cfg}

    keys = ("units", "filters", "kernel_size", "strides", "padding", "pool_size", "activation",
            "use_bias", "rate", "noise_shape", "stddev", "momentum", "epsilon", "axis",
            "dropout", "recurrent_dropout", "return_sequences", "target_shape", "mode",
            "height_factor", "width_factor", "fill_mode", "interpolation")
    layers = []
    for layer in model.layers:
        cfg = layer.get_config()
        entry = {"class": type(layer).__name__}
        entry.update({k: cfg[k] for k in keys if k in cfg})
        if hasattr(layer, "kernel_constraint"):
            entry["kernel_constraint"] = _cfg(layer.kernel_constraint)
        if hasattr(layer, "kernel_regularizer"):
            entry["kernel_regularizer"] = _cfg(layer.kernel_regularizer)
        if hasattr(layer, "kernel_initializer"):
            entry["kernel_initializer"] = type(layer.kernel_initializer).__name__
        if type(layer).__name__ == "InputLayer":
            entry["shape"] = tuple(layer.batch_shape[1:]) if hasattr(layer, "batch_shape") else None
        layers.append(entry)
    out = {"layers": layers, "params": int(model.count_params())}
    opt = getattr(model, "optimizer", None)
    if opt is not None:
        ocfg = opt.get_config()
        lr = ocfg.get("learning_rate")
        out["optimizer"] = {"class": type(opt).__name__,
                            "learning_rate": lr if isinstance(lr, dict) else round(float(lr), 8),
                            **{k: ocfg[k] for k in ("momentum", "nesterov") if k in ocfg}}
        loss = getattr(model, "loss", None)
        out["loss"] = loss if isinstance(loss, str) else type(loss).__name__
    return out
