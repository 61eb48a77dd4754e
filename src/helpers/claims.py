"""The book's quantitative verdicts, each re-runnable on seeds it never used.

A *claim* is a comparison a chapter makes over seeds and the verdict it
states (:data:`helpers.stats.VERDICTS`: "higher", "lower" or "within seed
noise"). Each entry of :data:`CLAIMS` names the function that trains both
sides for any list of seeds and returns the per-seed values ``(left,
right)``; :func:`estimate` turns them into :func:`helpers.stats.compare` of
``right - left``. Every run function calls the study function its chapter
calls, with the chapter's parameters (:data:`STUDIES`; the tests compare them
with each chapter's parameters cell), so that ``python -m helpers.replicate``
runs the same experiment on seeds the chapter never used (see
:mod:`helpers.replicate`). Chapter 4 computes its numbers through this
registry; for the other chapters, the tests check that the registry's
estimate on the book's seeds is the one the chapter shows.

Claims of one *study* (one results file, ``results/replication/<study>.json``)
that read the same experiment share one training of it: their run functions
take a cache, ``runs`` (:class:`Runs`; for the circles study a
:class:`~helpers.studies.circles.SeedRuns`), whose ``mask_seed`` chooses the
stream of dropout masks and noise (0: the chapter's).

Only cheap claims are here: each study retrains in minutes on a CPU.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from . import stats
from ._validate import check_nonnegative_int

#: Training length of the circles case study (chapter 4).
CIRCLES_EPOCHS = 4000

#: How a chapter shows a claim's book estimate in its glued value ``glue``:
#: ``text``: :func:`helpers.stats.describe_comparison`, verdict included;
#: ``interval``: the same without the verdict (the prose states it);
#: ``grouped``: :func:`helpers.studies.beyond.grouped` (``"lower at 8, 16
#: units; ..."``), the claim's ``label`` under its verdict;
#: ``listed``: the names of the methods with the claim's verdict (``"L2,
#: dropout"``), the claim's ``label`` among them;
#: ``ratio``: the per-seed ratio right / left as mean ± sd, to
#: :data:`RATIO_DIGITS` decimals (the prose states the verdict).
GLUE_FORMS = ("text", "interval", "grouped", "listed", "ratio")
RATIO_DIGITS = 1


@dataclass(frozen=True)
class Claim:
    """One verdict of the book: what is compared, on which seeds, and what the
    chapter says about it."""

    name: str  # short identifier, used on the command line
    chapter: str  # the notebook's stem
    study: str  # the results file: results/replication/<study>.json
    description: str  # what is compared, in words
    left: str  # the reference side
    right: str  # the side whose difference (right - left) is judged
    book_seeds: range  # the seeds the chapter used
    verdict: str  # the verdict the chapter states
    glue: str  # the chapter's glued name for the estimate
    run: Callable  # run(seeds, runs=None) -> (left values, right values)
    requests: Callable | None = None  # circles: requests(seeds) -> [(configuration, seeds)]
    paired: bool = True  # run i of both sides shares seed i
    digits: int = 3  # decimals of the chapter's text
    glue_form: str = "text"  # how ``glue`` shows the estimate (:data:`GLUE_FORMS`)
    label: str | None = None  # the claim's label in a grouped or listed glue
    details: Callable | None = None  # details(seeds, runs) -> dict, recorded beside the values


@dataclass(frozen=True)
class Study:
    """What the claims of one results file share: the chapter, its parameters
    (which the run functions use), and how to make the cache they read."""

    name: str
    chapter: str
    parameters: dict = field(default_factory=dict)
    new_runs: Callable | None = None  # new_runs(mask_seed) -> a cache; default Runs


class Runs:
    """The experiments of a study trained so far, by experiment and seeds: the
    claims that read one experiment train it once.

    ``mask_seed`` chooses the stream of dropout masks and noise of the
    experiments whose masks do not follow the model's seed (0: the
    chapter's). Every experiment records its wall-clock and CPU seconds;
    ``log`` lists the experiments read, in order.
    """

    def __init__(self, mask_seed: int = 0):
        self.mask_seed = check_nonnegative_int(mask_seed, "mask_seed")
        self.results: dict = {}
        self.seconds: dict = {}  # key -> (wall, cpu)
        self.log: list = []

    @property
    def trained(self) -> int:
        """How many experiments were computed (not read from the cache)."""
        return len(self.results)

    def get(self, experiment: str, seeds, compute: Callable):
        """``compute()``'s result for ``experiment`` on ``seeds``, computed once."""
        key = (experiment, tuple(int(s) for s in seeds))
        if key not in self.results:
            wall, cpu = time.perf_counter(), time.process_time()
            self.results[key] = compute()
            self.seconds[key] = (time.perf_counter() - wall, time.process_time() - cpu)
        self.log.append(key)
        return self.results[key]


# --- the circles case study (chapter 4) ---------------------------------------

def circles_runs(epochs: int = CIRCLES_EPOCHS, mask_seed: int = 0):
    """A :class:`~helpers.studies.circles.SeedRuns` on the case study's data
    (the first 30 of ``make_circles(100, noise=0.1, random_state=1)`` for
    training, the other 70 for testing), as the chapter builds it."""
    from .data import load_circles
    from .studies.circles import SeedRuns

    train, test = load_circles()
    return SeedRuns(train, test, epochs, mask_seed=mask_seed)


def _circles_pair(left: str, right: str):
    """``(run, requests)`` for "test accuracy of ``right`` vs ``left``"."""
    from .studies.circles import CONFIGS

    for name in (left, right):
        if name not in CONFIGS:
            raise ValueError(f"unknown circles configuration {name!r}")

    def requests(seeds) -> list:
        seeds = [int(s) for s in seeds]
        return [(CONFIGS[left], seeds), (CONFIGS[right], seeds)]

    def run(seeds: Sequence[int], runs=None) -> tuple[np.ndarray, np.ndarray]:
        """Per seed, the test accuracy of both sides (inference mode).

        ``runs``: a ``SeedRuns`` holding (or to train) the models; by default
        a fresh one from :func:`circles_runs`. Both sides that are missing
        train together, in one batched call.
        """
        runs = circles_runs() if runs is None else runs
        seeds = [int(s) for s in seeds]
        if not seeds:
            raise ValueError("no seeds")
        runs.train(requests(seeds))
        values = [[r["test_accuracy"] for r in runs.get(CONFIGS[name], seeds)]
                  for name in (left, right)]
        return np.asarray(values[0]), np.asarray(values[1])

    return run, requests


def _circles_claim(name, description, left, right, book_seeds, verdict, glue):
    run, requests = _circles_pair(left, right)
    return Claim(name=name, chapter="04_circles", study="circles",
                 description=description, left=left, right=right,
                 book_seeds=book_seeds, verdict=verdict, glue=glue, run=run,
                 requests=requests)


# --- helpers of the other studies ----------------------------------------------

def _claim(study: str, name: str, description: str, left: str, right: str,
           verdict: str, glue: str, run: Callable, book_seeds: range, **kwargs) -> Claim:
    return Claim(name=name, chapter=STUDIES[study].chapter, study=study,
                 description=description, left=left, right=right, book_seeds=book_seeds,
                 verdict=verdict, glue=glue, run=run, **kwargs)


def _digits(seed: int, images: bool = False):
    from .data import load_digits_split

    return load_digits_split(random_state=seed, images=images)


# --- dropout as an ensemble, and MC dropout (chapter 6) --------------------------

#: Chapter 6's parameters for its regression toy (its parameters cell).
ENSEMBLES = {"seed": 0, "n_seeds": 5, "reg_epochs": 3000, "reg_passes": 500}
ENSEMBLES_SEEDS = range(ENSEMBLES["seed"], ENSEMBLES["seed"] + ENSEMBLES["n_seeds"])


def ensembles_spread(seeds, runs: Runs):
    """The chapter's regression toy on ``seeds``: its 60 noisy samples of
    sin(1.5 x) (drawn once, from ``SEED``), one ``make_regressor`` per seed
    (:func:`helpers.models.mlp_regressor` with ``MCDropout``) trained with
    ``fast_fit``, ``mc_predict`` on the line x in [-5, 5], and
    ``study.spread_ratios``: the mean MC standard deviation inside the
    training range and far from it, per seed."""
    def compute():
        from functools import partial

        from .fastfit import fast_fit
        from .models import mlp_regressor
        from .studies import beyond
        from .uncertainty import mc_predict

        rng = np.random.default_rng(ENSEMBLES["seed"])
        x_reg = np.sort(rng.uniform(-2, 2, (60, 1)), axis=0).astype("float32")
        noise = 0.1 * rng.standard_normal(x_reg.shape)
        y_reg = (np.sin(1.5 * x_reg) + noise).astype("float32")
        x_line = np.linspace(-5, 5, 201, dtype="float32")[:, None]
        models = beyond.seeded_models(partial(mlp_regressor, mc_dropout=True),
                                      [int(s) for s in seeds])
        fast_fit(models, x_reg, y_reg, ENSEMBLES["reg_epochs"])
        samples = [mc_predict(m, x_line, ENSEMBLES["reg_passes"])[..., 0] for m in models]
        return beyond.spread_ratios(samples, x_line)

    return runs.get("regression", seeds, compute)


def _ensembles_claims() -> list[Claim]:
    def run(seeds, runs=None):
        spread = ensembles_spread(seeds, runs if runs is not None else Runs())
        return spread.iloc[:, 0].to_numpy(), spread.iloc[:, 1].to_numpy()

    def details(seeds, runs=None):
        ratio = ensembles_spread(seeds, runs if runs is not None else Runs())["ratio"]
        return {"seeds with the larger spread far from the data":
                f"{int((ratio > 1).sum())} of {len(ratio)}",
                "ratio, far over inside": stats.format_mean_sd(ratio, RATIO_DIGITS)}

    return [_claim("ensembles", "ensembles-regression-spread",
                   "MC-dropout standard deviation of the regression toy, mean for |x| >= 4 "
                   "(far from the data) minus mean for |x| <= 2 (the training range)",
                   "sd for |x| <= 2", "sd for |x| >= 4", "higher", "eu_reg_ratio", run,
                   ENSEMBLES_SEEDS, glue_form="ratio", details=details)]


# --- inside a network trained with dropout (chapter 7) -------------------------

#: Chapter 7's parameters (its parameters cell; the tests compare).
INSIDE = {"seed": 0, "n_seeds": 5, "ae_epochs": 500, "top_k": 10, "epochs": 4000,
          "widths": [4, 8, 16, 32, 64], "width_epochs": 500,
          "data_sizes": [50, 100, 300, 1000], "size_epochs": 1000, "bn_epochs": 150}
INSIDE_SEEDS = range(INSIDE["seed"], INSIDE["seed"] + INSIDE["n_seeds"])
#: The dropout rates the chapter compares in its sparsity, width and size studies.
INSIDE_RATES = [0.0, 0.5]


def inside_sparsity(seeds, runs: Runs):
    """The chapter's ``study.sparsity_study`` table (autoencoders, no dropout
    and ``Dropout(0.5)``, on the digits of ``load_digits_split(SEED)``)."""
    def compute():
        from .studies import beyond

        (x_train, _), (x_test, _) = _digits(INSIDE["seed"])
        table, _, _ = beyond.sparsity_study(
            beyond.autoencoder, x_train, x_test, rates=INSIDE_RATES, seeds=list(seeds),
            epochs=INSIDE["ae_epochs"], k=INSIDE["top_k"])
        return table

    return runs.get("sparsity", seeds, compute)


#: The configurations of the chapter's weight-norm study, in its order.
NORM_CONFIGS = ("no dropout", "Dropout(0.4)", "classic dropout", "Dropout(0.4) + MaxNorm(0.5)")


def inside_norms(seeds, runs: Runs):
    """The chapter's ``study.norm_study`` table (circles networks: the four
    configurations of :data:`NORM_CONFIGS`)."""
    def compute():
        from .data import load_circles
        from .models import circles_mlp
        from .studies import beyond

        (x_train, y_train), (x_test, y_test) = load_circles()
        builds = dict(zip(NORM_CONFIGS, (
            lambda: circles_mlp(),
            lambda: circles_mlp(rate=0.4),
            lambda: beyond.classic_circles_mlp(rate=0.4),
            lambda: circles_mlp(rate=0.4, max_norm=0.5)), strict=True))
        table, _ = beyond.norm_study(builds, x_train, y_train, x_test, y_test, list(seeds),
                                     INSIDE["epochs"])
        return table

    return runs.get("norms", seeds, compute)


def inside_widths(seeds, runs: Runs) -> np.ndarray:
    """The chapter's ``study.width_study``: test accuracy (widths, rates, seeds)."""
    def compute():
        from .studies import beyond

        (x, y), (x_test, y_test) = _digits(INSIDE["seed"])
        return beyond.width_study(beyond.digits_mlp, x, y, x_test, y_test, INSIDE["widths"],
                                  rates=INSIDE_RATES, seeds=list(seeds),
                                  epochs=INSIDE["width_epochs"], mask_seed=runs.mask_seed)

    return runs.get("widths", seeds, compute)


def inside_sizes(seeds, runs: Runs) -> dict:
    """The chapter's ``study.data_size_study``: test accuracy and loss
    (sizes, rates, seeds); seed s draws its own training subset."""
    def compute():
        from .studies import beyond

        (x, y), (x_test, y_test) = _digits(INSIDE["seed"])
        return beyond.data_size_study(lambda rate: beyond.digits_mlp(256, rate), x, y, x_test,
                                      y_test, INSIDE["data_sizes"], seeds=list(seeds),
                                      epochs=INSIDE["size_epochs"], mask_seed=runs.mask_seed)

    return runs.get("sizes", seeds, compute)


#: The dropout positions of the chapter's BatchNorm study, in its order.
BN_POSITIONS = ("none", "after_bn", "before_bn")


def inside_bn(seeds, runs: Runs):
    """The chapter's ``study.bn_study`` table (its ``make_bn_convnet`` is
    :func:`helpers.models.bn_convnet` with 8 filters and momentum 0.9)."""
    def compute():
        from functools import partial

        from .models import bn_convnet
        from .studies import beyond

        (x, y), (x_test, y_test) = _digits(INSIDE["seed"], images=True)
        build = partial(bn_convnet, rate=0.5, filters=8, bn_momentum=0.9)
        return beyond.bn_study(build, x, y, x_test, y_test, list(BN_POSITIONS),
                               seeds=list(seeds), epochs=INSIDE["bn_epochs"])

    return runs.get("batchnorm", seeds, compute)


def _table_claim(name, description, experiment, by, left, right, column, verdict, glue,
                 paired=True, **kwargs):
    """A claim on one column of a per-model table, ``right`` minus ``left``."""
    def run(seeds: Sequence[int], runs=None):
        from .studies import beyond

        table = experiment(seeds, runs if runs is not None else Runs())
        return (beyond.column(table, by, left, column), beyond.column(table, by, right, column))

    return _claim("inside", name, description, str(left), str(right), verdict, glue, run,
                  INSIDE_SEEDS, paired=paired, **kwargs)


def _sparsity_claim(name, measure, verdict, glue, digits=3):
    what = ("reconstruction MSE of the autoencoder on the test digits" if measure == "test MSE"
            else f"{measure} of the autoencoder (hidden layer; test digits)")
    return _table_claim(name, f"{what}, Dropout(0.5) minus no dropout", inside_sparsity,
                        "model", "no dropout", "Dropout(0.5)", measure, verdict, glue,
                        digits=digits)


def _width_claim(n: int, widened: bool, verdict: str):
    widths = INSIDE["widths"]
    i, j = widths.index(n), widths.index(2 * n if widened else n)

    def run(seeds, runs=None):
        acc = inside_widths(seeds, runs if runs is not None else Runs())
        return acc[i, 0], acc[j, 1]

    if widened:
        return _claim("inside", f"inside-width-{n}-widened",
                      f"digits test accuracy, Dropout(0.5) with {2 * n} units minus no "
                      f"dropout with {n} (the n/p rule)", f"no dropout, {n} units",
                      f"Dropout(0.5), {2 * n} units", verdict, "in_wide_text", run,
                      INSIDE_SEEDS, paired=False, glue_form="grouped", label=str(n))
    return _claim("inside", f"inside-width-{n}",
                  f"digits test accuracy, Dropout(0.5) minus no dropout, {n} units each",
                  f"no dropout, {n} units", f"Dropout(0.5), {n} units", verdict,
                  "in_same_text", run, INSIDE_SEEDS, paired=False, glue_form="grouped",
                  label=str(n))


def _size_claim(n: int, metric: str, verdict: str):
    j = INSIDE["data_sizes"].index(n)
    key = {"accuracy": "accuracy", "loss": "loss"}[metric]

    def run(seeds, runs=None):
        a = inside_sizes(seeds, runs if runs is not None else Runs())[key][j]
        return a[0], a[1]

    what = "test accuracy" if metric == "accuracy" else "test cross-entropy"
    return _claim("inside", f"inside-size-{n}" + ("-loss" if metric == "loss" else ""),
                  f"digits {what} with {n} training digits, Dropout(0.5) minus no dropout",
                  "no dropout", "Dropout(0.5)", verdict,
                  "in_size_acc_text" if metric == "accuracy" else "in_size_loss_text", run,
                  INSIDE_SEEDS, glue_form="grouped", label=str(n))


def _inside_claims() -> list[Claim]:
    norm = dict(zip(("none", "inv", "classic", "mn"), NORM_CONFIGS, strict=True))
    out = [
        _sparsity_claim("inside-sparsity-zeros", "fraction exactly zero", "higher",
                        "in_zero_cmp"),
        _sparsity_claim("inside-sparsity-hoyer", "Hoyer sparsity", "higher", "in_hoyer_cmp"),
        _sparsity_claim("inside-sparsity-top-k", f"top-{INSIDE['top_k']} share", "higher",
                        "in_topk_cmp"),
        _sparsity_claim("inside-reconstruction", "test MSE", "higher", "in_mse_cmp", digits=4),
        _table_claim("inside-norms-dropout", "largest incoming-weight norm of a hidden unit "
                     "(circles), Dropout(0.4) minus no dropout", inside_norms, "configuration",
                     norm["none"], norm["inv"], "hidden max", "lower", "in_inv_cmp",
                     glue_form="interval"),
        _table_claim("inside-norms-classic", "norm of the output weights (circles), classic "
                     "dropout minus Keras' inverted Dropout(0.4)", inside_norms,
                     "configuration", norm["inv"], norm["classic"], "output norm", "higher",
                     "in_classic_cmp", glue_form="interval"),
        _table_claim("inside-classic-accuracy", "circles test accuracy, classic dropout minus "
                     "Keras' inverted Dropout(0.4)", inside_norms, "configuration",
                     norm["inv"], norm["classic"], "test accuracy", "lower",
                     "in_acc_classic_cmp"),
    ]
    same = {4: "within seed noise", 8: "lower", 16: "lower", 32: "lower", 64: "lower"}
    out += [_width_claim(n, False, v) for n, v in same.items()]
    wide = {4: "higher", 8: "higher", 16: "within seed noise", 32: "within seed noise"}
    out += [_width_claim(n, True, v) for n, v in wide.items()]
    acc = {50: "within seed noise", 100: "within seed noise", 300: "higher",
           1000: "within seed noise"}
    out += [_size_claim(n, "accuracy", v) for n, v in acc.items()]
    loss = {50: "within seed noise", 100: "within seed noise", 300: "lower", 1000: "lower"}
    out += [_size_claim(n, "loss", v) for n, v in loss.items()]
    out += [
        _table_claim("inside-bn-after", "digits test accuracy (small ConvNet), Dropout(0.5) "
                     "after BatchNorm + ReLU minus no dropout", inside_bn, "position", "none",
                     "after_bn", "test accuracy", "within seed noise", "in_bn_acc_after",
                     paired=False),
        _table_claim("inside-bn-before", "digits test accuracy (small ConvNet), Dropout(0.5) "
                     "before BatchNorm minus no dropout", inside_bn, "position", "none",
                     "before_bn", "test accuracy", "lower", "in_bn_acc_before", paired=False),
        _table_claim("inside-bn-shift", "BatchNorm variance shift (moving variance over the "
                     "variance seen at inference), dropout before minus after BatchNorm",
                     inside_bn, "position", "after_bn", "before_bn", "variance shift",
                     "higher", "in_bn_shift_cmp", paired=False, digits=2),
    ]
    return out


# --- dropout among the regularisers (chapter 10) --------------------------------

#: Chapter 10's parameters (its parameters cell) and grids (its ``GRIDS``).
REGULARISERS = {"seed": 0, "seeds": 10, "n_fit": 100, "n_val": 100, "epochs": 150}
REGULARISER_GRIDS = {
    "L2": [1e-4, 3e-4, 1e-3, 3e-3],
    "early stopping": [5, 10, 20, 40],
    "Gaussian noise": [0.1, 0.2, 0.3, 0.5],
    "shifts": [1 / 32, 1 / 16, 3 / 32, 1 / 8],
    "max-norm": [1.0, 1.5, 2.0, 3.0],
    "dropout": [0.2, 0.4, 0.6, 0.8],
    "dropout + L2": [(0.4, 3e-4), (0.4, 1e-3), (0.6, 3e-4), (0.6, 1e-3)],
    "dropout + max-norm": [(0.4, 1.5), (0.4, 3.0), (0.6, 1.5), (0.6, 3.0)],
}
REGULARISERS_SEEDS = range(REGULARISERS["seed"], REGULARISERS["seed"] + REGULARISERS["seeds"])


def regularisers_protocol(seeds, runs: Runs) -> dict:
    """The chapter's comparison on ``seeds``: every seed its own training and
    validation split (``seed_splits``), every setting of the grids trained with
    ``study.stacked_fit`` (noise and masks from ``runs.mask_seed``), each
    method's setting chosen on the validation splits (``study.select``).
    Returns the settings, the chosen index per method and the test scores."""
    def compute():
        from .data import seed_splits
        from .studies import regularisers as study

        (x_pool, y_pool), (x_test, y_test) = _digits(REGULARISERS["seed"])
        seeds_ = [int(s) for s in seeds]
        splits = seed_splits(x_pool, y_pool, seeds_, n_fit=REGULARISERS["n_fit"],
                             n_val=REGULARISERS["n_val"])
        settings = study.build_settings(REGULARISER_GRIDS)
        results = study.stacked_fit(settings, seeds_, *splits, x_test, y_test,
                                    epochs=REGULARISERS["epochs"], noise_seed=runs.mask_seed)
        chosen = study.select(settings, results)
        keep = ("test_accuracy", "test_loss", "val_accuracy", "best_epoch")
        return {"settings": settings, "chosen": chosen,
                **{k: np.asarray(results[k]) for k in keep}}

    return runs.get("protocol", seeds, compute)


def _regulariser_claim(name, left, right, metric, verdict, glue, **kwargs):
    key = {"accuracy": "test_accuracy", "loss": "test_loss"}[metric]

    def run(seeds, runs=None):
        r = regularisers_protocol(seeds, runs if runs is not None else Runs())
        return r[key][r["chosen"][left]], r[key][r["chosen"][right]]

    def details(seeds, runs=None):
        r = regularisers_protocol(seeds, runs if runs is not None else Runs())
        return {"chosen": {m: r["settings"][r["chosen"][m]].knob() for m in (left, right)}}

    what = "test accuracy" if metric == "accuracy" else "test loss"
    return _claim("regularisers", name, f"digits {what} (100 per seed), {right} minus {left}, "
                  "each at the setting chosen on the validation splits", left, right, verdict,
                  glue, run, REGULARISERS_SEEDS, details=details, **kwargs)


def _regulariser_claims() -> list[Claim]:
    none = "no regularisation"  # helpers.studies.regularisers.NONE
    return [
        _regulariser_claim("regularisers-dropout", none, "dropout", "accuracy", "higher",
                           "rg_drop_vs_none"),
        _regulariser_claim("regularisers-dropout-loss", none, "dropout", "loss", "lower",
                           "rg_drop_loss_vs_none"),
        _regulariser_claim("regularisers-early-stopping", none, "early stopping", "accuracy",
                           "within seed noise", "rg_es_vs_none"),
        _regulariser_claim("regularisers-early-stopping-loss", none, "early stopping", "loss",
                           "lower", "rg_es_loss_vs_none"),
        _regulariser_claim("regularisers-noise-vs-dropout", "dropout", "Gaussian noise",
                           "accuracy", "higher", "rg_beat_drop", glue_form="listed",
                           label="Gaussian noise"),
        _regulariser_claim("regularisers-dropout-l2", "dropout", "dropout + L2", "accuracy",
                           "within seed noise", "rg_combo_l2"),
        _regulariser_claim("regularisers-dropout-max-norm", "dropout", "dropout + max-norm",
                           "accuracy", "within seed noise", "rg_combo_mn"),
    ]


# --- calibration (chapter 11) ----------------------------------------------------

#: Chapter 11's parameters (its parameters cell, and ``N_BINS``).
CALIBRATION = {"seed": 0, "seeds": 10, "n_fit": 100, "n_val": 100, "epochs": 1000,
               "rate": 0.5, "passes": 100, "n_bins": 10}
CALIBRATION_SEEDS = range(CALIBRATION["seed"], CALIBRATION["seed"] + CALIBRATION["seeds"])


def calibration_scores(seeds, runs: Runs) -> dict:
    """The chapter's clean-test-set scores on ``seeds``: per seed its own split
    (``seed_splits``), a pair of networks from one start (``study.seeded_pairs``)
    trained together with ``batched_fit`` (masks from ``runs.mask_seed``),
    the four predictors (``study.predict_all``, MC masks from
    ``runs.mask_seed``) scored with ``study.score_all``:
    ``scores[predictor][metric]``, one value per seed."""
    def compute():
        from .batched import batched_fit
        from .data import seed_splits
        from .studies import calibration as study

        c = CALIBRATION
        (x_pool, y_pool), (x_test, y_test) = _digits(c["seed"])
        seeds_ = [int(s) for s in seeds]
        x_fit, y_fit, x_val, y_val = seed_splits(x_pool, y_pool, seeds_, n_fit=c["n_fit"],
                                                 n_val=c["n_val"])
        without, with_dropout = study.seeded_pairs(seeds_, rate=c["rate"])
        batched_fit(without + with_dropout, list(x_fit) * 2, list(y_fit) * 2,
                    epochs=c["epochs"], seed=runs.mask_seed, write_back=True)
        probs, _ = study.predict_all(without, with_dropout, {study.CLEAN: x_test}, x_val,
                                     y_val, c["passes"], seed=runs.mask_seed)
        scores = study.score_all(probs, y_test, c["n_bins"])
        return {p: by_set[study.CLEAN] for p, by_set in scores.items()}

    return runs.get("clean", seeds, compute)


def _calibration_claim(name, left, right, metric, verdict, glue):
    def run(seeds, runs=None):
        scores = calibration_scores(seeds, runs if runs is not None else Runs())
        return scores[left][metric], scores[right][metric]

    return _claim("calibration", name, f"{metric} on the clean test digits, {right} minus "
                  f"{left}", left, right, verdict, glue, run, CALIBRATION_SEEDS)


def _calibration_claims() -> list[Claim]:
    return [
        _calibration_claim("calibration-dropout-ece", "no dropout", "dropout", "ECE",
                           "within seed noise", "cb_drop_none_ece"),
        _calibration_claim("calibration-dropout-nll", "no dropout", "dropout", "NLL", "lower",
                           "cb_drop_none_nll"),
        _calibration_claim("calibration-mc-ece", "no dropout", "MC dropout", "ECE", "lower",
                           "cb_mc_none_ece"),
        _calibration_claim("calibration-mc-vs-dropout-ece", "dropout", "MC dropout", "ECE",
                           "within seed noise", "cb_mc_drop_ece"),
        _calibration_claim("calibration-temperature-ece", "no dropout", "temperature scaling",
                           "ECE", "lower", "cb_ts_none_ece"),
        _calibration_claim("calibration-mc-vs-temperature-ece", "temperature scaling",
                           "MC dropout", "ECE", "within seed noise", "cb_mc_ts_ece"),
        _calibration_claim("calibration-mc-vs-temperature-nll", "temperature scaling",
                           "MC dropout", "NLL", "lower", "cb_mc_ts_nll"),
        _calibration_claim("calibration-mc-accuracy", "no dropout", "MC dropout", "accuracy",
                           "within seed noise", "cb_mc_none_accuracy"),
    ]


# --- dropout in modern architectures (chapter 9) -----------------------------------

#: Chapter 9's parameters for its placement study (its parameters cell).
MODERN = {"seed": 0, "rate": 0.2, "n_train": 200, "epochs": 150, "seeds": 5,
          "score_every": 5}
MODERN_SEEDS = range(MODERN["seed"], MODERN["seed"] + MODERN["seeds"])


def modern_placements() -> dict:
    """The chapter's ``PLACEMENTS``: the keyword arguments of the encoder per
    placement of ``Dropout(RATE)``."""
    r = MODERN["rate"]
    return {"no dropout": {}, "attention": {"attention_rate": r},
            "residual": {"residual_rate": r}, "embedding": {"embedding_rate": r},
            "drop path": {"path_rate": r},
            "all three": {"attention_rate": r, "residual_rate": r, "embedding_rate": r}}


def modern_results(seeds, runs: Runs):
    """The chapter's ``study.placement_study`` table on ``seeds`` (the small
    Transformer encoder on the first ``N_TRAIN`` digit rows)."""
    def compute():
        from .studies import modern as study

        (x_train, y_train), (x_test, y_test) = _digits(MODERN["seed"])
        x_train, x_test = study.digit_rows(x_train), study.digit_rows(x_test)
        x_small, y_small = study.small_split(x_train, y_train, MODERN["n_train"])
        results, _ = study.placement_study(
            modern_placements(), seeds=[int(s) for s in seeds], train=(x_small, y_small),
            test=(x_test, y_test), epochs=MODERN["epochs"], score_every=MODERN["score_every"])
        return results

    return runs.get("placements", seeds, compute)


def _modern_claim(placement: str, metric: str, verdict: str):
    column = {"accuracy": "test accuracy", "loss": "test loss"}[metric]
    key = placement.replace(" ", "_")

    def run(seeds, runs=None):
        from .studies import beyond

        table = modern_results(seeds, runs if runs is not None else Runs())
        return (beyond.column(table, "placement", "no dropout", column),
                beyond.column(table, "placement", placement, column))

    slug = placement.replace(" ", "-")
    return _claim("modern", f"modern-{slug}" + ("-loss" if metric == "loss" else ""),
                  f"digits {column} of a small Transformer encoder, {placement} dropout "
                  "minus no dropout", "no dropout", placement, verdict,
                  f"mod_{'cmp' if metric == 'accuracy' else 'lcmp'}_{key}", run, MODERN_SEEDS)


def _modern_claims() -> list[Claim]:
    acc = {"attention": "higher", "residual": "higher", "embedding": "within seed noise",
           "drop path": "within seed noise", "all three": "within seed noise"}
    loss = {"attention": "within seed noise", "residual": "within seed noise",
            "embedding": "lower", "drop path": "within seed noise", "all three": "lower"}
    return ([_modern_claim(p, "accuracy", v) for p, v in acc.items()]
            + [_modern_claim(p, "loss", v) for p, v in loss.items()])


#: The studies, one results file each (``results/replication/<name>.json``).
STUDIES: dict[str, Study] = {s.name: s for s in [
    Study("circles", "04_circles", {"epochs": CIRCLES_EPOCHS},
          lambda mask_seed: circles_runs(CIRCLES_EPOCHS, mask_seed=mask_seed)),
    Study("ensembles", "06_ensembles_uncertainty", ENSEMBLES),
    Study("inside", "07_inside_the_network", INSIDE),
    Study("modern", "09_modern_architectures", MODERN),
    Study("regularisers", "10_regularisers",
          {**REGULARISERS, "grids": {k: [list(v) if isinstance(v, tuple) else v for v in vs]
                                     for k, vs in REGULARISER_GRIDS.items()}}),
    Study("calibration", "11_calibration", CALIBRATION),
]}


def new_runs(study: str, mask_seed: int = 0):
    """A fresh cache for the claims of ``study`` (masks from ``mask_seed``)."""
    spec = STUDIES[study]
    return spec.new_runs(mask_seed) if spec.new_runs else Runs(mask_seed)


#: The registry, in the order the chapters make the claims. In the circles
#: study, the order also fixes the order in which the book's seeds train
#: together (:func:`book_requests`), which must be the chapter's.
CLAIMS: list[Claim] = [
    _circles_claim(
        "circles-dropout", "test accuracy, Dropout(0.4) minus no dropout",
        "no dropout", "Dropout(0.4)", range(0, 30), "higher", "c_gain"),
    _circles_claim(
        "circles-input-dropout",
        "test accuracy, input Dropout(0.1) + Dropout(0.4) minus Dropout(0.4)",
        "Dropout(0.4)", "input Dropout(0.1) + Dropout(0.4)", range(0, 10),
        "lower", "c_input_cmp"),
    _circles_claim(
        "circles-max-norm",
        "test accuracy, Dropout(0.4) + MaxNorm(0.5) minus Dropout(0.4)",
        "Dropout(0.4)", "Dropout(0.4) + MaxNorm(0.5)", range(0, 10),
        "within seed noise", "c_mn_cmp"),
    *_ensembles_claims(),
    *_inside_claims(),
    *_modern_claims(),
    *_regulariser_claims(),
    *_calibration_claims(),
]


def get(name: str) -> Claim:
    """The registry entry called ``name``."""
    for claim in CLAIMS:
        if claim.name == name:
            return claim
    raise KeyError(f"no claim {name!r}; the registry has {[c.name for c in CLAIMS]}")


def select(names=None) -> list[Claim]:
    """The claims called ``names`` (a study's name stands for all its claims),
    in the order given; all claims when ``names`` is empty."""
    if not names:
        return list(CLAIMS)
    out: list[Claim] = []
    for name in names:
        group = ([c for c in CLAIMS if c.study == name] if name in STUDIES else [get(name)])
        out += [c for c in group if c not in out]
    return out


def of_study(study: str) -> list[Claim]:
    """The claims of one study, in registry order."""
    if study not in STUDIES:
        raise KeyError(f"no study {study!r}; the studies are {list(STUDIES)}")
    return [c for c in CLAIMS if c.study == study]


def glued_verdict(claim: Claim, glued: str) -> str | None:
    """The verdict that the chapter's glued value ``glued`` (the text of
    ``claim.glue``) states for this claim: the text after the last colon
    (``text``), the group the claim's label is in (``grouped``), the claim's
    stated verdict if its label is listed (``listed``; else ``None``), and
    ``None`` for ``interval`` (the prose states the verdict in words)."""
    form = claim.glue_form
    if form not in GLUE_FORMS:
        raise ValueError(f"{claim.name}: unknown glue form {form!r}")
    if form == "text":
        return _verdict_of(glued.rsplit(": ", 1)[-1])
    if form in ("interval", "ratio"):
        return None
    if form == "listed":
        names = [n.strip() for part in glued.split(", ") for n in part.split(" and ")]
        return claim.verdict if claim.label in names else None
    for group in glued.split("; "):
        verdict, _, labels = group.partition(" at ")
        labels = labels.rsplit(" ", 1)[0] if " " in labels.split(", ")[-1] else labels
        if claim.label in [x.strip() for x in labels.split(",")]:
            return _verdict_of(verdict)
    return None


def _verdict_of(text: str) -> str:
    """``"within seed noise"``, ``"higher"`` ...: the verdict of :data:`stats.VERDICTS`."""
    text = text.strip()
    if text.startswith("within ") and text.endswith(" noise"):
        return stats.VERDICTS[2]
    if text in stats.VERDICTS:
        return text
    raise ValueError(f"no verdict in {text!r}")


def shown_estimate(claim: Claim, result: dict) -> str:
    """The text the chapter shows for ``result`` in a ``text``, ``interval``
    or ``ratio`` glue: :func:`helpers.stats.compare`'s result, or for
    ``ratio`` a recorded summary with ``left_values`` and ``right_values``."""
    if claim.glue_form == "ratio":
        ratio = np.asarray(result["right_values"]) / np.asarray(result["left_values"])
        return stats.format_mean_sd(ratio, RATIO_DIGITS)
    text = stats.describe_comparison(result, claim.digits)
    return text.rsplit(": ", 1)[0] if claim.glue_form == "interval" else text


def estimate(claim, seeds, runs=None, level: float = 0.95) -> dict:
    """:func:`helpers.stats.compare` of the claim's ``right - left`` over
    ``seeds`` (``claim``: a :class:`Claim` or its name)."""
    claim = get(claim) if isinstance(claim, str) else claim
    left, right = claim.run(seeds, runs)
    return stats.compare(left, right, paired=claim.paired, level=level)


def book_requests(study: str, seeds_of=None) -> list:
    """Everything a study's claims train, in registry order, as one list for
    ``SeedRuns.train``: with the book's seeds, the chapter's own batch.

    ``seeds_of(claim)``: the seeds per claim (default: ``claim.book_seeds``).
    """
    seeds_of = seeds_of or (lambda c: c.book_seeds)
    out = []
    for claim in CLAIMS:
        if claim.study == study and claim.requests is not None:
            out += claim.requests(seeds_of(claim))
    if not out:
        raise KeyError(f"no claim of study {study!r}")
    return out


#: ``outcome(stated, observed)`` values.
OUTCOMES = ("holds", "flips", "not confirmed", "too few seeds")


def outcome(stated: str, observed: str) -> str:
    """Whether a replication's verdict keeps the stated one.

    ``holds``: the same verdict. ``flips``: the opposite direction, or an
    effect where the chapter found none. ``not confirmed``: the chapter found
    an effect, the replication's interval includes zero.
    """
    for v in (stated, observed):
        if v not in stats.VERDICTS:
            raise ValueError(f"unknown verdict {v!r}; expected one of {stats.VERDICTS}")
    if stated == stats.VERDICTS[3]:
        raise ValueError("a stated verdict needs two seeds per side")
    if observed == stats.VERDICTS[3]:
        return OUTCOMES[3]
    if observed == stated:
        return OUTCOMES[0]
    if stated == stats.VERDICTS[2] or observed != stats.VERDICTS[2]:
        return OUTCOMES[1]
    return OUTCOMES[2]
