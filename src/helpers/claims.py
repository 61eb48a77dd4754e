"""The book's quantitative verdicts, each re-runnable on seeds it never used.

A *claim* is a comparison a chapter makes over seeds and the verdict it
states (:data:`helpers.stats.VERDICTS`: "higher", "lower" or "within seed
noise"). Each entry of :data:`CLAIMS` names the function that trains both
sides for any list of seeds and returns the paired per-seed values
``(left, right)``; :func:`estimate` turns them into
:func:`helpers.stats.compare` of ``right - left``. The chapter computes its
numbers through these functions, and ``python -m helpers.replicate`` runs the
same functions on seeds the chapter never used (see :mod:`helpers.replicate`).

Only cheap claims are here: each one retrains in minutes on a CPU.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from . import stats

#: Training length of the circles case study (chapter 4).
CIRCLES_EPOCHS = 4000


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
    requests: Callable  # requests(seeds) -> [(configuration, seeds), ...]
    paired: bool = True  # run i of both sides shares seed i


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


#: The registry, in the order the chapters make the claims. In a study, the
#: order also fixes the order in which the book's seeds train together
#: (:func:`book_requests`), which must be the chapter's.
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
]


def get(name: str) -> Claim:
    """The registry entry called ``name``."""
    for claim in CLAIMS:
        if claim.name == name:
            return claim
    raise KeyError(f"no claim {name!r}; the registry has {[c.name for c in CLAIMS]}")


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
        if claim.study == study:
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
