"""Hyperparameter search over the dropout rate, the max-norm value and the learning rate.

    python -m helpers.tune cifar10 --space rate-maxnorm --dir results/tuning/cifar-b
    python -m helpers.tune digits --space rate-maxnorm-lr --dir /tmp/tune-demo --epochs 5

searches the book's CIFAR-10 ConvNet (:func:`helpers.models.cifar_convnet`, optimizer
and defaults from a configuration of :data:`~helpers.models.CIFAR_CONFIGS`) or, for
tests and laptops, a tiny MLP on scikit-learn's 8 x 8 digits, with KerasTuner. The
objective is the validation accuracy (the last 20 % of the training images, as in the
chapter's protocol); the test set is never loaded into the search. Each trial trains
``--executions`` seeds (``--seed``, ``--seed`` + 1, ...) and scores the mean over seeds
of each seed's best-epoch validation accuracy.

Spaces (``--space``): ``rate`` (the dropout rate), ``rate-maxnorm`` (and the max-norm
value or none) and ``rate-maxnorm-lr`` (and the learning rate); ``--rates``,
``--max-norms`` and ``--learning-rates`` replace the default values. Tuners
(``--tuner``): ``grid`` (every combination, handed out in parallel), ``bayes``
(Gaussian-process Bayesian optimisation, ``--max-trials``) and ``hyperband``
(``--epochs`` is the largest budget).

For GPUs: ``--mixed-precision`` computes every layer in float16 with float32 weights
(policy ``"mixed_float16"``, the softmax output layer kept in float32, the optimizer
wrapped in a ``LossScaleOptimizer``); ``--jit-compile {auto,on,off}`` goes to
``model.compile(jit_compile=...)`` (``auto``, the default, is Keras' choice: XLA when
a GPU is visible, not on a CPU-only machine). Both are part of the search's identity
and are recorded in ``trials.json``, with the value ``auto`` resolved to on each worker.

Distributed: one chief hands out trials, any number of workers train them::

    python -m helpers.tune ARGS --chief 0.0.0.0:8476
    python -m helpers.tune ARGS --worker chief-host:8476 --worker-id gpu0   # one per GPU

(``scripts/tune_on_gpus.sh ARGS`` starts both on one machine). Everything lives in
``--dir``: ``state/`` is KerasTuner's project (the search's state; keep it out of git),
``trials.json`` the table of trials, written atomically with provenance after every
trial (``"finished": false``) and when the search ends. Killed at any point, the same command continues: a restarted worker
(same ``--worker-id``) re-runs the trial it was training, a restarted single process
re-runs its unfinished trial, and finished trials are never run again.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import hashlib
import importlib.util
import itertools
import json
import math
import os
import re
import shlex
import shutil
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ._io import atomic_write_json
from ._validate import check_nonnegative_int, check_positive_float, check_positive_int, check_rate

DATASETS = ("cifar10", "digits")
TUNERS = ("grid", "bayes", "hyperband")
#: Which hyperparameters each ``--space`` tunes; the others keep their fixed values.
SPACES = {
    "rate": ("rate",),
    "rate-maxnorm": ("rate", "max_norm"),
    "rate-maxnorm-lr": ("rate", "max_norm", "learning_rate"),
}
#: Default values searched, per data set (``None``: no max-norm constraint).
DEFAULT_VALUES = {
    "cifar10": {"rate": (0.0, 0.25, 0.5, 0.65), "max_norm": (None, 2.0, 3.0, 4.0)},
    "digits": {"rate": (0.0, 0.25, 0.5), "max_norm": (None, 1.0, 3.0)},
}
#: Learning rates searched per optimizer, and the one used when it is not tuned
#: (the values :func:`helpers.models.cifar_convnet` compiles with).
LEARNING_RATES = {"adam": (1e-3, 3e-4, 1e-4), "sgd": (0.05, 0.01, 0.002),
                  "sgd_nesterov": (0.05, 0.01, 0.002)}
FIXED_LEARNING_RATE = {"adam": 1e-3, "sgd": 0.01, "sgd_nesterov": 0.01}
PROTOCOL = {
    "cifar10": {"epochs": 55, "batch_size": 250, "train_samples": 50000},
    "digits": {"epochs": 20, "batch_size": 32, "train_samples": 1257},  # the 70 % train part
}
VALIDATION_SPLIT = 0.2
OBJECTIVE = "val_accuracy"
DEFAULT_BAYES_TRIALS = 10
STATE_DIR, TABLE_NAME, SETTINGS_NAME = "state", "trials.json", "search.json"
_ENV_KEYS = ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT")
_MAX_NORM_NONE = 0.0  # how "no max-norm" is spelled inside KerasTuner (choices share one type)
#: ``--jit-compile`` on the command line -> ``model.compile(jit_compile=...)``.
JIT_CHOICES = {"auto": "auto", "on": True, "off": False}
MIXED_POLICY = "mixed_float16"


class TuneError(ValueError):
    """Bad arguments or state; the message says what to do."""


@dataclass
class TuneSettings:
    """A validated search (:func:`parse_settings`); ``search_identity`` must match
    between the chief, its workers and any resumed run."""

    dataset: str
    space: str
    directory: str
    tuner: str = "grid"
    values: dict = field(default_factory=dict)  # tuned hyperparameter -> tuple of values
    fixed: dict = field(default_factory=dict)  # the others -> their value
    config: str | None = None
    optimizer: str = "adam"
    epochs: int = 0
    batch_size: int = 0
    train_samples: int = 0
    executions: int = 1
    seed: int = 0
    max_trials: int | None = None
    factor: int = 3
    data: str | None = None
    role: str = "single"  # "single", "chief" or "worker"
    host: str | None = None
    port: int | None = None
    worker_id: str | None = None
    overwrite: bool = False
    mixed_precision: bool = False  # "mixed_float16" for the searched models (float32 output layer)
    jit_compile: str | bool = "auto"  # model.compile(jit_compile=...): "auto", True or False

    def search_identity(self) -> dict:
        keys = ("dataset", "space", "tuner", "values", "fixed", "config", "optimizer", "epochs",
                "batch_size", "train_samples", "executions", "seed", "max_trials", "factor",
                "mixed_precision", "jit_compile")
        d = asdict(self)
        out = {k: d[k] for k in keys}
        out["values"] = {k: list(v) for k, v in self.values.items()}
        return json.loads(json.dumps(out))  # the form it has once written and read back

    @property
    def grid_size(self) -> int:
        return math.prod(len(v) for v in self.values.values())

    @property
    def state_dir(self) -> Path:
        return Path(self.directory) / STATE_DIR

    @property
    def table_path(self) -> Path:
        return Path(self.directory) / TABLE_NAME

    @property
    def tuner_id(self) -> str:
        return {"chief": "chief", "worker": self.worker_id}.get(self.role, "tuner0")

    @property
    def fit_samples(self) -> int:
        """Images trained on (the rest of ``train_samples`` is the validation set)."""
        return int(self.train_samples * (1.0 - VALIDATION_SPLIT))


# --------------------------------------------------------------------------- arguments
class _Parser(argparse.ArgumentParser):
    def error(self, message):  # raise, so callers (and tests) get one kind of error
        raise TuneError(message)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m helpers.tune", description=__doc__,
                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dataset_pos", nargs="?", choices=DATASETS, metavar="DATASET",
                   help="cifar10 (the chapter's ConvNet) or digits (tiny MLP, for tests and demos)")
    p.add_argument("--dataset", choices=DATASETS, help="the same as the positional DATASET")
    p.add_argument("--space", required=True, choices=sorted(SPACES),
                   help="; ".join(f"{k}: {', '.join(v)}" for k, v in SPACES.items()))
    p.add_argument("--dir", required=True, help="search folder: state/ (resumable) and trials.json")
    p.add_argument("--tuner", default="grid", choices=TUNERS)
    p.add_argument("--max-trials", type=int, default=None,
                   help=f"grid: the first N combinations (default all); bayes: default {DEFAULT_BAYES_TRIALS}")
    p.add_argument("--epochs", type=int, default=None,
                   help="epochs per trial (hyperband: the largest budget); "
                        + ", ".join(f"{k}: {v['epochs']}" for k, v in PROTOCOL.items()))
    p.add_argument("--train-samples", type=int, default=None,
                   help="use the first N training images, the last 20%% of them for validation")
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--executions", type=int, default=1, help="seeds per trial (executions_per_trial)")
    p.add_argument("--seed", type=int, default=0, help="first seed; also seeds the bayes/hyperband oracle")
    p.add_argument("--factor", type=int, default=3, help="hyperband's reduction factor")
    p.add_argument("--config", default=None, help="cifar10 only: the configuration whose optimizer "
                   "and fixed values are used (default b)")
    p.add_argument("--rates", default=None, help="comma-separated dropout rates, e.g. 0,0.25,0.5")
    p.add_argument("--max-norms", default=None, help="comma-separated max-norm values, 'none' for no constraint")
    p.add_argument("--learning-rates", default=None, help="comma-separated learning rates")
    p.add_argument("--data", default=None, help="cifar10: the CIFAR-10 pack (default as helpers.data finds it)")
    p.add_argument("--mixed-precision", action="store_true",
                   help="float16 compute, float32 weights and softmax output (GPUs with tensor cores)")
    p.add_argument("--jit-compile", nargs="?", const="on", default="auto", choices=tuple(JIT_CHOICES),
                   help="XLA compilation of the training step: auto (default: Keras decides, XLA on a "
                        "GPU, not on a CPU-only machine), on (also the bare flag) or off")
    role = p.add_mutually_exclusive_group()
    role.add_argument("--chief", metavar="HOST:PORT", default=None,
                      help="serve the search on HOST:PORT; workers train the trials")
    role.add_argument("--worker", metavar="HOST:PORT", default=None,
                      help="train trials handed out by the chief at HOST:PORT")
    p.add_argument("--worker-id", default=None,
                   help="a worker's name, stable across restarts (a restarted worker resumes its trial)")
    p.add_argument("--overwrite", action="store_true", help="start the search afresh (chief or single)")
    return p


def parse_address(text: str, flag: str) -> tuple[str, int]:
    host, sep, port = (text or "").rpartition(":")
    host = host.strip("[]")
    if not sep or not host:
        raise TuneError(f"{flag} must be HOST:PORT (e.g. 127.0.0.1:8476), got {text!r}")
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise TuneError(f"{flag} port must be a number from 1 to 65535, got {port!r}")
    return host, int(port)


def _parse_list(text: str, flag: str, convert) -> tuple:
    items = [s.strip() for s in text.split(",")]
    if not text.strip() or any(not s for s in items):
        raise TuneError(f"{flag} must be a comma-separated list of values, got {text!r}")
    values = []
    for s in items:
        try:
            values.append(convert(s))
        except (TypeError, ValueError) as exc:
            raise TuneError(f"{flag}: {exc}") from None
    if len(set(values)) != len(values):
        raise TuneError(f"{flag} lists a value twice: {text!r}")
    return tuple(values)


def _number(s: str) -> float:
    try:
        return float(s)
    except ValueError:
        raise ValueError(f"{s!r} is not a number") from None


def _rate(s):
    return check_rate(_number(s), "a dropout rate")


def _max_norm(s):
    if s.lower() == "none":
        return None
    v = _number(s)
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"max-norm values must be positive (or 'none'), got {s!r}")
    return v


def _learning_rate(s):
    v = _number(s)
    if not (math.isfinite(v) and 0 < v < 10):
        raise ValueError(f"learning rates must be in (0, 10), got {s!r}")
    return v


def parse_settings(argv=None) -> TuneSettings:
    """Parse and validate the command line; raise :class:`TuneError` saying what is wrong."""
    from .models import CIFAR_CONFIGS

    a = build_parser().parse_args(argv)
    if a.dataset_pos and a.dataset and a.dataset_pos != a.dataset:
        raise TuneError(f"two data sets given: {a.dataset_pos!r} and --dataset {a.dataset!r}")
    dataset = a.dataset_pos or a.dataset
    if dataset is None:
        raise TuneError(f"name the data set: python -m helpers.tune {{{','.join(DATASETS)}}} ...")
    for k in _ENV_KEYS:
        if k in os.environ:
            raise TuneError(f"{k} is set in the environment; unset it and use --chief/--worker instead")
    if dataset == "cifar10":
        config = a.config or "b"
        if config not in CIFAR_CONFIGS:
            raise TuneError(f"--config must be one of {sorted(CIFAR_CONFIGS)}, got {config!r}")
        spec = CIFAR_CONFIGS[config]
        optimizer = spec["optimizer"]
        fixed_rate, fixed_norm = (0.5 if spec["dropout"] else 0.0), (2.0 if spec["max_norm"] else None)
    else:
        if a.config is not None:
            raise TuneError("--config applies to cifar10 only (digits has one tiny model)")
        config, optimizer, fixed_rate, fixed_norm = None, "adam", 0.5, None
    tuned = SPACES[a.space]
    defaults = {**DEFAULT_VALUES[dataset], "learning_rate": LEARNING_RATES[optimizer]}
    given = {"rate": (a.rates, "--rates", _rate), "max_norm": (a.max_norms, "--max-norms", _max_norm),
             "learning_rate": (a.learning_rates, "--learning-rates", _learning_rate)}
    values = {}
    for name, (text, flag, convert) in given.items():
        if text is not None and name not in tuned:
            raise TuneError(f"{flag} given, but --space {a.space} does not tune {name}; "
                            f"choose a space that does ({', '.join(k for k, v in SPACES.items() if name in v)})")
        if name in tuned:
            values[name] = _parse_list(text, flag, convert) if text is not None else defaults[name]
    fixed = {k: v for k, v in {"rate": fixed_rate, "max_norm": fixed_norm,
                               "learning_rate": FIXED_LEARNING_RATE[optimizer]}.items() if k not in tuned}
    proto = PROTOCOL[dataset]
    try:
        epochs = check_positive_int(a.epochs if a.epochs is not None else proto["epochs"], "--epochs")
        batch_size = check_positive_int(a.batch_size if a.batch_size is not None
                                        else proto["batch_size"], "--batch-size")
        train_samples = check_positive_int(a.train_samples if a.train_samples is not None
                                           else proto["train_samples"], "--train-samples")
        executions = check_positive_int(a.executions, "--executions")
        seed = check_nonnegative_int(a.seed, "--seed")
        max_trials = None if a.max_trials is None else check_positive_int(a.max_trials, "--max-trials")
    except (TypeError, ValueError) as exc:
        raise TuneError(str(exc)) from None
    if not 10 <= train_samples <= proto["train_samples"]:
        raise TuneError(f"--train-samples must be from 10 to {proto['train_samples']} for {dataset}, "
                        f"got {train_samples}")
    settings = TuneSettings(dataset=dataset, space=a.space, directory=str(Path(a.dir)), tuner=a.tuner,
                            values=values, fixed=fixed, config=config, optimizer=optimizer,
                            epochs=epochs, batch_size=batch_size, train_samples=train_samples,
                            executions=executions, seed=seed, max_trials=max_trials, factor=a.factor,
                            data=a.data, overwrite=a.overwrite, mixed_precision=a.mixed_precision,
                            jit_compile=JIT_CHOICES[a.jit_compile])
    size = settings.grid_size
    if a.tuner == "hyperband":
        if max_trials is not None:
            raise TuneError("--max-trials does not apply to hyperband: it sizes its brackets from "
                            "--epochs (the largest budget) and --factor")
        if a.factor < 2:
            raise TuneError(f"--factor must be an integer of at least 2, got {a.factor}")
    elif a.factor != 3:
        raise TuneError("--factor applies to --tuner hyperband only")
    if a.tuner == "grid":
        if max_trials is not None and max_trials > size:
            raise TuneError(f"--max-trials {max_trials} is more than the grid's {size} combinations")
        settings.max_trials = max_trials or size
    if a.tuner == "bayes":
        settings.max_trials = max_trials or min(DEFAULT_BAYES_TRIALS, size)
        if settings.max_trials > size:
            raise TuneError(f"--max-trials {settings.max_trials} is more than the space's {size} "
                            "combinations; use --tuner grid to try them all")
    if a.data is not None and dataset != "cifar10":
        raise TuneError("--data applies to cifar10 only")
    if a.chief:
        settings.role = "chief"
        settings.host, settings.port = parse_address(a.chief, "--chief")
    elif a.worker:
        settings.role = "worker"
        settings.host, settings.port = parse_address(a.worker, "--worker")
        if not a.worker_id:
            raise TuneError("--worker needs --worker-id NAME, the same on every restart of that worker "
                            "(e.g. gpu0): a restarted worker resumes the trial it was training")
        if a.overwrite:
            raise TuneError("--overwrite is for the chief (or a single process), not a worker")
    if a.worker_id is not None:
        if settings.role != "worker":
            raise TuneError("--worker-id applies to --worker only")
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", a.worker_id) or "chief" in a.worker_id:
            raise TuneError("--worker-id must be letters, digits, '.', '_' or '-' (at most 64), "
                            f"and not contain 'chief', got {a.worker_id!r}")
        settings.worker_id = a.worker_id
    return settings


# --------------------------------------------------------------------------- data and models
def digits_mlp(rate: float = 0.5, max_norm=None, learning_rate: float = 1e-3, seed=None,
               hidden: int = 64, mixed_precision: bool = False, jit_compile="auto"):
    """The tiny model of the digits demo: 64 pixels -> Dense(hidden, relu, MaxNorm) ->
    [Dropout(rate)] -> Dense(10, softmax); Adam, sparse categorical cross-entropy.

    ``mixed_precision=True`` builds the hidden layers with the ``"mixed_float16"``
    policy and the softmax output layer in float32, and wraps Adam in a
    ``LossScaleOptimizer`` (as :func:`helpers.models.cifar_convnet` does);
    ``jit_compile`` goes to ``model.compile``."""
    import keras

    rate = check_rate(rate, "rate")
    max_norm = check_positive_float(max_norm, "max_norm", allow_none=True)
    _check_precision(mixed_precision, jit_compile)
    if seed is not None:
        keras.utils.set_random_seed(check_nonnegative_int(seed, "seed"))
    mp = {"dtype": MIXED_POLICY} if mixed_precision else {}
    constraint = keras.constraints.MaxNorm(max_norm, axis=0) if max_norm else None
    inputs = keras.Input(shape=(64,), name="pixels")
    h = keras.layers.Dense(hidden, activation="relu", kernel_constraint=constraint, name="hidden",
                           **mp)(inputs)
    if rate:
        h = keras.layers.Dropout(rate, name="dropout", **mp)(h)
    out_dtype = {"dtype": "float32"} if mixed_precision else {}
    outputs = keras.layers.Dense(10, activation="softmax", name="class", **out_dtype)(h)
    model = keras.Model(inputs, outputs, name="digits_mlp")
    model.compile(optimizer=_loss_scaled(keras.optimizers.Adam(learning_rate), mixed_precision),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"], jit_compile=jit_compile)
    return model


def _check_precision(mixed_precision, jit_compile) -> None:
    if not isinstance(mixed_precision, bool):
        raise TypeError(f"mixed_precision must be True or False, got {mixed_precision!r}")
    if not (isinstance(jit_compile, bool) or jit_compile == "auto"):
        raise ValueError(f"jit_compile must be 'auto', True or False, got {jit_compile!r}")


def _loss_scaled(optimizer, mixed_precision: bool):
    """``optimizer``, wrapped in a ``LossScaleOptimizer`` under mixed precision (float16
    gradients underflow without loss scaling)."""
    import keras

    return keras.optimizers.LossScaleOptimizer(optimizer) if mixed_precision else optimizer


def load_search_data(settings: TuneSettings):
    """``(x_fit, y_fit), (x_val, y_val)``: the first ``train_samples`` training images,
    the last 20 % of them held out for validation (Keras' ``validation_split``). Never
    the test set."""
    if settings.dataset == "cifar10":
        from .data import load_cifar10, prepare_cifar10

        (x, y), _ = load_cifar10(settings.data)
        x, y = prepare_cifar10(x[:settings.train_samples], y[:settings.train_samples])
    else:
        from .data import load_digits_split

        (x, y), _ = load_digits_split()
        x, y = x[:settings.train_samples], y[:settings.train_samples]
    cut = settings.fit_samples
    return (x[:cut], y[:cut]), (x[cut:], y[cut:])


def dataset_provenance(settings: TuneSettings) -> dict:
    split = (f"first {settings.train_samples} training images, the last {VALIDATION_SPLIT:.0%} "
             "of them for validation; the test set is not used")
    if settings.dataset == "cifar10":
        from .data import cifar10_provenance

        return {**cifar10_provenance(settings.data), "split": split}
    import sklearn

    (x, y), (xv, yv) = load_search_data(settings)
    h = hashlib.sha256()
    for arr in (x, y, xv, yv):
        h.update(np.ascontiguousarray(arr).tobytes())
    return {"source": "sklearn.datasets.load_digits via helpers.data.load_digits_split() (train part)",
            "sklearn": sklearn.__version__, "sha256_arrays": h.hexdigest(), "split": split}


def hp_values(settings: TuneSettings, hp) -> dict:
    """The rate, max-norm (None: no constraint) and learning rate of a trial, declaring the
    tuned ones in ``hp`` (a ``keras_tuner.HyperParameters``)."""
    out = dict(settings.fixed)
    for name, vals in settings.values.items():
        if name == "max_norm":
            v = hp.Choice(name, [_MAX_NORM_NONE if x is None else float(x) for x in vals], ordered=True)
            out[name] = None if v == _MAX_NORM_NONE else float(v)
        else:
            out[name] = float(hp.Choice(name, [float(x) for x in vals], ordered=True))
    return out


_CLASSES: dict = {}


def _classes() -> dict:
    """The KerasTuner subclasses, defined on first use (``keras_tuner`` is imported only
    after the distribution environment variables are set, and stays optional)."""
    if _CLASSES:
        return _CLASSES
    try:
        import keras_tuner as kt
    except ImportError as exc:
        raise TuneError("keras-tuner is not installed: pip install -e '.[tune]' "
                        "(keras-tuner and tensorboard, pinned in constraints.txt)") from exc
    if importlib.util.find_spec("tensorboard") is None:  # KerasTuner imports it in every trial
        raise TuneError("tensorboard is not installed, and KerasTuner's TensorFlow backend imports it "
                        "in every trial: pip install -e '.[tune]'")

    class DropoutHyperModel(kt.HyperModel):
        """The chapter's CIFAR-10 ConvNet (or the digits MLP) with a searched dropout rate,
        max-norm value and learning rate. Execution ``k`` of a trial is seeded
        ``seed + k`` (weights, dropout masks, shuffling), on any worker."""

        def __init__(self, settings: TuneSettings):
            super().__init__(name=f"dropout_{settings.dataset}", tunable=True)
            self.settings = settings
            self._execution = 0

        def begin_trial(self):
            self._execution = 0

        def build(self, hp):
            from .models import _optimizer, cifar_convnet

            s = self.settings
            v = hp_values(s, hp)
            seed = s.seed + self._execution
            self._execution += 1
            if s.dataset == "digits":
                model = digits_mlp(v["rate"], v["max_norm"], v["learning_rate"], seed=seed,
                                   mixed_precision=s.mixed_precision, jit_compile=s.jit_compile)
            else:
                model = cifar_convnet(dropout=v["rate"] > 0, max_norm=v["max_norm"] is not None,
                                      optimizer=s.optimizer, rate=v["rate"],
                                      max_norm_value=v["max_norm"] or 2.0, seed=seed,
                                      mixed_precision=s.mixed_precision)
                steps = s.epochs * math.ceil(s.fit_samples / s.batch_size)
                opt = _optimizer(s.optimizer, v["learning_rate"], decay_steps=steps)
                model.compile(optimizer=_loss_scaled(opt, s.mixed_precision),
                              loss="categorical_crossentropy", metrics=["accuracy"],
                              jit_compile=s.jit_compile)
            self.jit_compile_used = bool(model.jit_compile)  # "auto" resolved on this machine
            return model

    class ParallelGridOracle(kt.Oracle):
        """Every combination of the (all-``Choice``) space, in order, each handed out once.

        KerasTuner's ``GridSearch`` derives each combination from a *finished* trial, so
        its workers mostly wait for one another; this one gives each asking worker the
        next untried combination at once."""

        def populate_space(self, trial_id):
            space = self.get_space().space
            names = [hp.name for hp in space]
            for combo in itertools.product(*(hp.values for hp in space)):
                values = dict(zip(names, combo, strict=True))
                if not self._duplicate(values):
                    return {"status": kt.engine.trial.TrialStatus.RUNNING, "values": values}
            return {"status": kt.engine.trial.TrialStatus.STOPPED, "values": None}

    class BookTunerMixin:
        """Seeds per execution, logs trial starts/ends per tuner (``state/events-*.jsonl``)
        and backs off while the oracle has no trial ready (KerasTuner re-asks at once)."""

        events_path: Path | None = None
        after_trial = None  # called after every trial's end (the table of trials so far)
        code_commit = None  # the commit of the code this process loaded

        def _event(self, event, trial=None, **extra):
            if self.events_path is None:
                return
            rec = {"event": event, "tuner_id": self.tuner_id, "pid": os.getpid(), "time": time.time(),
                   **({"trial_id": trial.trial_id} if trial is not None else {}), **extra}
            with open(self.events_path, "a") as f:
                f.write(json.dumps(rec) + "\n")
                f.flush()
                os.fsync(f.fileno())

        def pre_create_trial(self):
            polls = getattr(self, "_idle_polls", 0)
            if polls:
                time.sleep(min(0.25 * polls, 2.0))
            self._idle_polls = polls + 1
            super().pre_create_trial()

        def on_trial_begin(self, trial):
            self._idle_polls = 0
            self._event("begin", trial, commit=self.code_commit)
            super().on_trial_begin(trial)

        def on_trial_end(self, trial):
            super().on_trial_end(trial)
            self._event("end", trial, status=str(trial.status),
                        jit_compile=getattr(self.hypermodel, "jit_compile_used", None))
            if self.after_trial is not None:  # a single process rewrites its table
                self.after_trial()

        def run_trial(self, trial, *args, **kwargs):
            self.hypermodel.begin_trial()
            return super().run_trial(trial, *args, **kwargs)

    _CLASSES.update(kt=kt, DropoutHyperModel=DropoutHyperModel, ParallelGridOracle=ParallelGridOracle,
                    BookTunerMixin=BookTunerMixin)
    return _CLASSES


def __getattr__(name):  # helpers.tune.DropoutHyperModel etc. without importing keras_tuner eagerly
    if name in ("DropoutHyperModel", "ParallelGridOracle"):
        return _classes()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def make_tuner(settings: TuneSettings):
    """The KerasTuner tuner of ``settings`` over ``settings.state_dir`` (resumed if it exists)."""
    c = _classes()
    kt = c["kt"]
    hypermodel = c["DropoutHyperModel"](settings)
    objective = kt.Objective(OBJECTIVE, direction="max")
    common = {"hypermodel": hypermodel, "executions_per_trial": settings.executions,
              "directory": settings.directory, "project_name": STATE_DIR, "overwrite": False}
    mixin = c["BookTunerMixin"]
    if settings.tuner == "grid":
        oracle = c["ParallelGridOracle"](objective=objective, max_trials=settings.max_trials,
                                         seed=settings.seed)
        tuner = type("BookGridTuner", (mixin, kt.Tuner), {})(oracle=oracle, **common)
    elif settings.tuner == "bayes":
        tuner = type("BookBayesianTuner", (mixin, kt.BayesianOptimization), {})(
            objective=objective, max_trials=settings.max_trials, seed=settings.seed, **common)
    else:
        tuner = type("BookHyperbandTuner", (mixin, kt.Hyperband), {})(
            objective=objective, max_epochs=settings.epochs, factor=settings.factor,
            seed=settings.seed, **common)
    tuner.events_path = settings.state_dir / f"events-{tuner.tuner_id}.jsonl"
    return tuner


# --------------------------------------------------------------------------- running
def _prepare_state(settings: TuneSettings, wait_s: float = 30.0) -> None:
    """Start afresh (``--overwrite``), or check that the state on disk is this search's.

    The chief (or single process) records the search's settings in ``state/search.json``;
    a worker compares its own with them, waiting up to ``wait_s`` for a chief that is
    still starting (on another machine without a shared folder it goes on without)."""
    state, marker = settings.state_dir, settings.state_dir / SETTINGS_NAME
    if settings.overwrite:
        shutil.rmtree(state, ignore_errors=True)
        settings.table_path.unlink(missing_ok=True)
    if settings.role == "worker":
        deadline = time.monotonic() + wait_s
        while not marker.is_file() and time.monotonic() < deadline:
            time.sleep(0.5)
    if marker.is_file():
        recorded, mine = json.loads(marker.read_text()), settings.search_identity()
        if recorded != mine:
            diff = sorted(k for k in set(recorded) | set(mine) if recorded.get(k) != mine.get(k))
            raise TuneError(f"{state} holds a different search (differs in: {', '.join(diff)}); "
                            "run with the same arguments, another --dir, or --overwrite "
                            "(chief / single process) to start afresh")
    elif settings.role != "worker":
        if (state / "oracle.json").is_file():
            raise TuneError(f"{state} holds a search without {SETTINGS_NAME}; delete it or pass --overwrite")
        atomic_write_json(marker, settings.search_identity())


@contextlib.contextmanager
def _oracle_locked(oracle):
    """Hold KerasTuner's lock of ``oracle`` (as its ``@synchronized`` methods do, and
    re-entrantly like them): the chief's gRPC thread changes the trials meanwhile."""
    from keras_tuner.src.engine import oracle as kt_oracle

    me = threading.current_thread().name
    if kt_oracle.THREADS[oracle] == me:
        yield
        return
    with kt_oracle.LOCKS[oracle]:
        kt_oracle.THREADS[oracle] = me
        try:
            yield
        finally:
            kt_oracle.THREADS[oracle] = None


def _ended_trials(oracle) -> tuple:
    return tuple(sorted(t.trial_id for t in oracle.trials.values() if t.status not in ("RUNNING", "IDLE")))


def _serve(tuner, settings: TuneSettings, on_progress=None) -> None:
    """Serve the oracle to the workers until every trial has ended and every worker that
    asked for one has been told to stop (KerasTuner's own chief polls every 20 s).
    ``on_progress()`` runs whenever another trial has ended."""
    from concurrent import futures

    import grpc
    from keras_tuner.src import protos
    from keras_tuner.src.distribute import oracle_chief

    # so_reuseport off: a second chief on the same port must fail, not share it silently
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1), options=[("grpc.so_reuseport", 0)])
    servicer = oracle_chief.OracleServicer(tuner.oracle)
    protos.get_service_grpc().add_OracleServicer_to_server(servicer, server)
    address = f"{_grpc_host(settings.host)}:{settings.port}"
    try:
        bound = server.add_insecure_port(address)
    except RuntimeError:
        bound = 0
    if not bound:
        raise TuneError(f"the chief cannot listen on {address} (port in use, or not this machine's "
                        "address?); choose another --chief HOST:PORT")
    server.start()
    ended = _ended_trials(tuner.oracle)
    try:
        while not (servicer.stop_triggered and oracle_chief.exit_chief(tuner.oracle)):
            time.sleep(0.5)
            with _oracle_locked(tuner.oracle):
                now = _ended_trials(tuner.oracle)
            if on_progress is not None and now != ended:
                ended = now
                try:
                    on_progress()
                except Exception as exc:  # the search goes on; the final table is written at the end
                    print(f"warning: the table of the trials so far was not written: {exc!r}",
                          file=sys.stderr, flush=True)
    finally:
        server.stop(grace=5)


def _grpc_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host  # an IPv6 address


def _search_done(oracle) -> bool:
    """True when a (resumed) grid or bayes search has nothing left to run."""
    if not oracle.max_trials or oracle.ongoing_trials or getattr(oracle, "_retry_queue", None):
        return False
    return len(oracle.trials) >= oracle.max_trials


def _events(state_dir: Path) -> list[dict]:
    out = []
    for p in sorted(state_dir.glob("events-*.jsonl")):
        for line in p.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:  # a line cut short by a kill
                continue
    return out


def _trial_seconds(events: list[dict], trial_id: str) -> float | None:
    """Seconds from the last start of ``trial_id`` to the end that followed it (None
    if it has not ended); time spent in attempts that were killed is not counted."""
    begin, out = None, None
    for e in sorted((e for e in events if e.get("trial_id") == trial_id), key=lambda e: e["time"]):
        if e["event"] == "begin":
            begin, out = e["time"], None
        elif e["event"] == "end" and begin is not None:
            out = round(e["time"] - begin, 1)
    return out


def trials_table(tuner, settings: TuneSettings, command: str, seconds: float, finished: bool = True,
                 commit: str | None = None) -> dict:
    """The result file: every trial with its hyperparameters and score, the best trial,
    the search's settings and provenance. ``finished`` is False for the table of the
    trials so far, written after each trial; ``commit`` is the code's commit when this
    process started (read then, so a commit made during the search is not credited)."""
    with _oracle_locked(tuner.oracle):  # the chief's gRPC thread changes the trials meanwhile
        return _trials_table(tuner, settings, command, seconds, finished, commit)


def _trials_table(tuner, settings, command, seconds, finished, commit) -> dict:
    import keras_tuner as kt

    from .experiments import _git_commit, device_description, versions

    oracle = tuner.oracle
    events = _events(settings.state_dir)
    rows = []
    for trial_id in sorted(oracle.trials):
        t = oracle.trials[trial_id]
        vals = t.hyperparameters.values
        hp = dict(settings.fixed)
        for name in settings.values:
            v = vals.get(name)
            hp[name] = None if name == "max_norm" and v == _MAX_NORM_NONE else v
        mine = [e for e in events if e.get("trial_id") == trial_id]
        ends = [e for e in mine if e["event"] == "end"]
        row = {"trial_id": trial_id, "status": str(t.status), **hp,
               OBJECTIVE: None if t.score is None else float(t.score),
               "best_epoch": None if t.best_step is None  # 1-based; hyperband continues a trial
               else int(vals.get("tuner/initial_epoch", 0)) + int(t.best_step) + 1,
               "metrics": {name: float(t.metrics.get_last_value(name))
                           for name in sorted(t.metrics.metrics) if t.metrics.get_last_value(name) is not None},
               "starts": sum(e["event"] == "begin" for e in mine),
               "ran_on": ends[-1]["tuner_id"] if ends else None,
               "seconds": _trial_seconds(events, trial_id)}
        budget = {k.split("/", 1)[1]: v for k, v in vals.items() if k.startswith("tuner/")}
        if budget:
            row["hyperband"] = budget
        rows.append(row)
    done = [r for r in rows if r["status"] == kt.engine.trial.TrialStatus.COMPLETED
            and r[OBJECTIVE] is not None]
    best = min(done, key=lambda r: (-r[OBJECTIVE], r["trial_id"])) if done else None
    workers = {e["tuner_id"]: e.get("device") for e in events if e["event"] == "start"}
    jit_used = {e["tuner_id"]: e["jit_compile"] for e in events
                if e["event"] == "end" and e.get("jit_compile") is not None}
    commit = commit if commit is not None else _git_commit()
    # the code of every process that trained a trial, in the order they began
    commits = list(dict.fromkeys(e["commit"] for e in sorted(events, key=lambda e: e["time"])
                                 if e["event"] == "begin" and e.get("commit")))
    return {
        "name": Path(settings.directory).name,
        "finished": bool(finished),
        "dataset": settings.dataset,
        "space": settings.space,
        "tuner": settings.tuner,
        "objective": {"name": OBJECTIVE, "direction": "max",
                      "score": "mean over the trial's seeds of each seed's best-epoch val_accuracy"},
        "settings": settings.search_identity(),
        "n_trials": len(rows),
        "n_completed": len(done),
        "best": None if best is None else {k: best[k] for k in ("trial_id", *SPACES["rate-maxnorm-lr"],
                                                                OBJECTIVE, "best_epoch")},
        "trials": rows,
        "provenance": {
            "command": command,
            "git_commit": commit,
            "git_commits": commits,  # every process that trained a trial (several: a resumed search)
            "date_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "device": device_description(),
            "workers": workers,
            "mixed_precision": settings.mixed_precision,
            "dtype_policy": MIXED_POLICY if settings.mixed_precision else "float32",
            "jit_compile": settings.jit_compile,
            "jit_compile_resolved": jit_used,
            "versions": {**versions(), "keras_tuner": kt.__version__},
            "dataset": dataset_provenance(settings),
            "wall_seconds": seconds,  # this process's, from its start to this table
            "trial_seconds": round(sum(r["seconds"] or 0.0 for r in done), 1),  # the completed trials
        },
    }


def run(settings: TuneSettings, command: str | None = None, verbose: bool | None = None):
    """Run this process's part of the search; the chief or a single process returns the
    table (also written to ``<dir>/trials.json``), a worker returns None."""
    from .experiments import _git_commit, device_description
    from .progress import quiet

    verbose = (not quiet()) if verbose is None else verbose
    command = command or "helpers.tune.run(" + json.dumps(settings.search_identity()) + ")"
    t0 = time.perf_counter()
    commit = _git_commit()  # the code that trains is the code loaded now
    if settings.role == "single":
        for k in _ENV_KEYS:
            os.environ.pop(k, None)
    else:  # KerasTuner reads these; they are set before it is imported
        os.environ.update(KERASTUNER_TUNER_ID=settings.tuner_id, KERASTUNER_ORACLE_IP=_grpc_host(settings.host),
                          KERASTUNER_ORACLE_PORT=str(settings.port))
    _classes()  # imports keras_tuner, or says how to install it
    _prepare_state(settings)
    tuner = make_tuner(settings)
    tuner.oracle.verbose = 1 if verbose and settings.role != "worker" else 0

    def so_far():  # the table of the trials ended so far, marked unfinished
        atomic_write_json(settings.table_path, trials_table(tuner, settings, command, time.perf_counter() - t0,
                                                            finished=False, commit=commit))

    if settings.role == "chief":
        if not _search_done(tuner.oracle):
            tuner.save()
            if verbose:
                print(f"chief serving {settings.host}:{settings.port}: start workers with "
                      f"--worker HOST:{settings.port} --worker-id NAME", flush=True)
            _serve(tuner, settings, on_progress=so_far)
    else:
        tuner.code_commit = commit
        tuner._event("start", device=device_description().get("device"), commit=commit)
        if settings.role == "single":
            tuner.after_trial = so_far
        (x, y), (xv, yv) = load_search_data(settings)
        tuner.search(x, y, validation_data=(xv, yv), epochs=settings.epochs,
                     batch_size=settings.batch_size, shuffle=True, verbose=2 if verbose else 0)
        if settings.role == "worker":
            return None
    table = trials_table(tuner, settings, command, time.perf_counter() - t0, commit=commit)
    atomic_write_json(settings.table_path, table)
    if verbose:
        b = table["best"]
        print(f"wrote {settings.table_path}: {table['n_completed']}/{table['n_trials']} trials completed"
              + (f"; best trial {b['trial_id']}: rate={b['rate']}, max_norm={b['max_norm']}, "
                 f"learning_rate={b['learning_rate']}, {OBJECTIVE}={b[OBJECTIVE]:.4f}" if b else ""),
              flush=True)
    return table


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        settings = parse_settings(args)
        run(settings, command="python -m helpers.tune " + shlex.join(args))
    except TuneError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        from .data import DatasetError

        if isinstance(exc, DatasetError):
            print(f"error: {exc}", file=sys.stderr)
            return 2
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
