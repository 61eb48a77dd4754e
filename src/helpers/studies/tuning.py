"""The tuning chapter's bookkeeping (chapter 12): trials, summaries, tables, the
recorded search.

What the chapter measures but does not teach: reading the trials out of a
KerasTuner tuner (or out of ``trials.json``, the table that
``python -m helpers.tune`` writes) into one plain form, the best validation
accuracy found so far after each trial and each epoch trained, how many trials
and epochs a tuner spent before it reached its best, the chosen setting's
test accuracy over the search's seeds, and the recorded full-scale search:
found, checked and described, or reported missing. Every mean ± sd comes from
:mod:`helpers.stats`.
"""

from __future__ import annotations

import json
import math
import numbers
from pathlib import Path

import numpy as np
import pandas as pd

from .. import stats
from .._validate import check_nonnegative_int, check_positive_int

#: How the chapter's HyperModel (and ``helpers.tune``) spell "no max-norm" in a
#: KerasTuner ``Choice``: the values of one choice must share one type.
MAX_NORM_NONE = 0.0
HPARAMS = ("rate", "max_norm", "learning_rate")
OBJECTIVE = "val_accuracy"
#: Where ``python -m helpers.tune ... --dir results/tuning/<name>`` records a search.
RESULTS_KIND = "tuning"
TABLE_NAME = "trials.json"


class TuningResultError(ValueError):
    """A recorded ``trials.json`` that is not what ``helpers.tune`` writes."""


# --------------------------------------------------------------- formatting
def _num(x) -> str:
    return f"{x:g}"


def max_norm_text(value) -> str:
    """``"none"`` for no constraint (None or 0.0), else the cap."""
    return "none" if value is None or value == MAX_NORM_NONE else _num(float(value))


def setting_text(setting: dict) -> str:
    """``"rate 0.25, max-norm none, learning rate 0.001"``."""
    return (f"rate {_num(setting['rate'])}, max-norm {max_norm_text(setting.get('max_norm'))}, "
            f"learning rate {_num(setting['learning_rate'])}")


def _key(setting: dict) -> tuple:
    mn = setting.get("max_norm")
    return (float(setting["rate"]), None if mn is None or mn == MAX_NORM_NONE else float(mn),
            float(setting["learning_rate"]))


# --------------------------------------------------------------- the space
def space_table(hp) -> pd.DataFrame:
    """One row per hyperparameter of a KerasTuner ``HyperParameters``: its name,
    the values searched and how many."""
    rows = []
    for p in hp.space:
        values = list(getattr(p, "values", [getattr(p, "value", None)]))
        shown = [max_norm_text(v) if p.name == "max_norm" else _num(v) for v in values]
        rows.append({"hyperparameter": p.name, "values": ", ".join(shown), "count": len(values)})
    return pd.DataFrame(rows)


def space_size(hp) -> int:
    """Combinations in a space of ``Choice`` hyperparameters (what a grid trains)."""
    return math.prod(len(list(getattr(p, "values", [None]))) for p in hp.space)


# --------------------------------------------------------------- trials
def trial_rows(tuner, epochs: int) -> list[dict]:
    """The trials of a KerasTuner tuner, in the order they were created: the
    setting, the score (mean over executions of each one's best-epoch
    ``val_accuracy``), and the epochs each execution trained in this trial
    (Hyperband continues a trial from ``tuner/initial_epoch``)."""
    epochs = check_positive_int(epochs, "epochs")
    executions = int(getattr(tuner, "executions_per_trial", 1))
    rows = []
    for trial_id in sorted(tuner.oracle.trials):
        t = tuner.oracle.trials[trial_id]
        v = t.hyperparameters.values
        mn = v.get("max_norm")
        rows.append({
            "trial_id": trial_id, "status": str(t.status),
            "rate": float(v["rate"]), "max_norm": None if mn in (None, MAX_NORM_NONE) else float(mn),
            "learning_rate": float(v["learning_rate"]),
            OBJECTIVE: None if t.score is None else float(t.score),
            "epochs": int(v.get("tuner/epochs", epochs)) - int(v.get("tuner/initial_epoch", 0)),
            "executions": executions,
            "continued": "tuner/trial_id" in v,
        })
    return rows


def rows_from_table(table: dict) -> list[dict]:
    """The trials of a ``trials.json`` table (see :func:`validate_table`) in the
    form of :func:`trial_rows`."""
    s = table["settings"]
    rows = []
    for t in sorted(table["trials"], key=lambda r: r["trial_id"]):
        hb = t.get("hyperband") or {}
        rows.append({
            "trial_id": t["trial_id"], "status": t["status"], "rate": float(t["rate"]),
            "max_norm": None if t["max_norm"] is None else float(t["max_norm"]),
            "learning_rate": float(t["learning_rate"]), OBJECTIVE: t[OBJECTIVE],
            "epochs": int(hb.get("epochs", s["epochs"])) - int(hb.get("initial_epoch", 0)),
            "executions": int(s["executions"]), "continued": "trial_id" in hb,
        })
    return rows


def _completed(rows):
    return [r for r in rows if r["status"] == "COMPLETED" and r[OBJECTIVE] is not None]


def best_so_far(rows) -> dict:
    """After each trial (in order): the trial's score, the best score so far,
    and the epochs trained so far in all (epochs x executions). Trials without a
    score keep the best so far (NaN before the first score)."""
    scores, best, spent, total, top = [], [], [], 0, float("nan")
    for r in rows:
        score = r[OBJECTIVE] if r["status"] == "COMPLETED" and r[OBJECTIVE] is not None else float("nan")
        if not math.isnan(score) and (math.isnan(top) or score > top):
            top = score
        total += r["epochs"] * r["executions"]
        scores.append(score)
        best.append(top)
        spent.append(total)
    return {"trial": np.arange(1, len(rows) + 1), "score": np.array(scores, float),
            "best": np.array(best, float), "epochs": np.array(spent, int)}


def summarise(rows) -> dict:
    """What a search spent and found: trials, distinct settings, epochs trained
    (x executions), the best score, its setting, and the trials and epochs spent
    up to and including the first trial that reached it."""
    rows = list(rows)
    done = _completed(rows)
    if not done:
        raise ValueError("no completed trial with a score")
    curve = best_so_far(rows)
    top = max(r[OBJECTIVE] for r in done)
    first = next(i for i, r in enumerate(rows) if r in done and r[OBJECTIVE] == top)
    return {
        "trials": len(rows), "completed": len(done),
        "settings": len({_key(r) for r in rows}),
        "epochs": int(curve["epochs"][-1]),
        "best": float(top), "setting": {k: rows[first][k] for k in HPARAMS},
        "trials_to_best": first + 1, "epochs_to_best": int(curve["epochs"][first]),
    }


def same_setting_scores(rows_a, rows_b) -> dict:
    """For settings that both searches trained from scratch for the same number
    of epochs: how many, and the largest difference of their scores."""
    def table(rows):
        return {(_key(r), r["epochs"]): r[OBJECTIVE] for r in _completed(rows) if not r["continued"]}

    a, b = table(rows_a), table(rows_b)
    shared = set(a) & set(b)
    diff = max((abs(a[k] - b[k]) for k in shared), default=float("nan"))
    return {"shared": len(shared), "max_difference": float(diff)}


# --------------------------------------------------------------- the test set, once
def score_on_test(setting: dict, fit, test, seeds, epochs: int, batch_size: int,
                  cache: dict | None = None) -> list[float]:
    """Train ``setting`` on ``fit = (x, y)`` as a trial of the search did (one
    model per seed, seeded before it is built, ``epochs`` epochs) and score each
    model once on ``test = (x, y)``. The models are :func:`helpers.tune.digits_mlp`,
    the chapter's ``make_digits_mlp``. ``cache`` (a dict) reuses the scores of
    a setting scored before."""
    import keras

    from ..tune import digits_mlp

    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    seeds = [check_nonnegative_int(s, "seed") for s in seeds]
    key = (_key(setting), tuple(seeds), epochs, batch_size)
    if cache is not None and key in cache:
        return cache[key]
    rate, mn, lr = key[0]
    out = []
    for seed in seeds:
        keras.backend.clear_session()
        model = digits_mlp(rate, mn, lr, seed=seed)
        model.fit(*fit, epochs=epochs, batch_size=batch_size, verbose=0)
        out.append(float(model.evaluate(*test, verbose=0)[1]))
    if cache is not None:
        cache[key] = out
    return out


def comparison_table(summaries: dict) -> pd.DataFrame:
    """One row per tuner: what it spent and what it found."""
    return pd.DataFrame([{
        "tuner": name, "trials": s["trials"], "settings tried": s["settings"],
        "epochs trained": s["epochs"], "best val. accuracy": s["best"],
        "trials to best": s["trials_to_best"], "epochs to best": s["epochs_to_best"],
    } for name, s in summaries.items()])


def choice_table(summaries: dict, test_scores: dict) -> pd.DataFrame:
    """One row per tuner: the setting it chose, the validation score that chose
    it, and its test accuracy (mean ± sd over seeds)."""
    return pd.DataFrame([{
        "tuner": name, "chosen setting": setting_text(s["setting"]),
        "best val. accuracy": s["best"],
        "test accuracy": stats.format_mean_sd(test_scores[name]),
    } for name, s in summaries.items()])


def same_setting(a: dict, b: dict) -> bool:
    """Whether two settings (hyperparameter values; max-norm 0.0 or None for
    none) are the same."""
    return _key(a) == _key(b)


def top_settings(rows, k: int = 2) -> list[dict]:
    """The ``k`` best distinct settings of a search, best first (ties: first
    tried first)."""
    seen, out = set(), []
    for r in sorted(_completed(rows), key=lambda r: -r[OBJECTIVE]):
        if _key(r) not in seen:
            seen.add(_key(r))
            out.append({**{h: r[h] for h in HPARAMS}, OBJECTIVE: r[OBJECTIVE]})
    return out[:check_positive_int(k, "k")]


def ranking(rows, top: int = 5) -> pd.DataFrame:
    """The ``top`` distinct settings of a search by score, as a table."""
    return pd.DataFrame([{"rate": r["rate"], "max-norm": max_norm_text(r["max_norm"]),
                          "learning rate": r["learning_rate"], OBJECTIVE: r[OBJECTIVE]}
                         for r in top_settings(rows, top)])


# --------------------------------------------------------------- the recorded search
def command_for(name: str, dataset: str = "cifar10", space: str = "rate-maxnorm") -> str:
    """The command that records ``results/tuning/<name>``."""
    return f"python -m helpers.tune {dataset} --space {space} --dir results/{RESULTS_KIND}/{name}"


def _fail(msg):
    raise TuningResultError(msg)


def _is_number(x) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool) and math.isfinite(x)


def validate_table(table) -> dict:
    """Check that ``table`` has the form :func:`helpers.tune.trials_table` writes
    and that its numbers agree with each other; return it, or raise
    :class:`TuningResultError` saying what is wrong."""
    if not isinstance(table, dict):
        _fail("the file does not hold a JSON object")
    for key in ("dataset", "space", "tuner", "settings", "trials", "n_trials", "n_completed", "best",
                "provenance", "objective"):
        if key not in table:
            _fail(f"no {key!r} entry")
    if not isinstance(table.get("finished"), bool):
        _fail("'finished' must be true (the search ended) or false (the trials so far)")
    if (table["objective"] or {}).get("name") != OBJECTIVE:
        _fail(f"the objective is not {OBJECTIVE}")
    s = table["settings"]
    for key in ("epochs", "executions", "train_samples", "values"):
        if key not in s:
            _fail(f"settings lack {key!r}")
    if not (isinstance(s["epochs"], int) and s["epochs"] > 0 and isinstance(s["executions"], int)
            and s["executions"] > 0):
        _fail("settings: epochs and executions must be positive integers")
    trials = table["trials"]
    if not isinstance(trials, list):
        _fail("'trials' is not a list")
    ids = [t.get("trial_id") for t in trials if isinstance(t, dict)]
    if len(ids) != len(trials) or len(set(ids)) != len(ids):
        _fail("every trial needs a unique trial_id")
    for t in trials:
        for key in ("status", *HPARAMS, OBJECTIVE):
            if key not in t:
                _fail(f"trial {t['trial_id']} has no {key!r}")
        if not (_is_number(t["rate"]) and 0 <= t["rate"] < 1):
            _fail(f"trial {t['trial_id']}: rate {t['rate']!r} is not in [0, 1)")
        if t["max_norm"] is not None and not (_is_number(t["max_norm"]) and t["max_norm"] > 0):
            _fail(f"trial {t['trial_id']}: max_norm {t['max_norm']!r} is neither null nor positive")
        if not (_is_number(t["learning_rate"]) and t["learning_rate"] > 0):
            _fail(f"trial {t['trial_id']}: learning_rate {t['learning_rate']!r} is not positive")
        score = t[OBJECTIVE]
        if score is not None and not (_is_number(score) and 0 <= score <= 1):
            _fail(f"trial {t['trial_id']}: {OBJECTIVE} {score!r} is not in [0, 1]")
        if t["status"] == "COMPLETED" and score is None:
            _fail(f"trial {t['trial_id']} is completed but has no score")
    done = [t for t in trials if t["status"] == "COMPLETED" and t[OBJECTIVE] is not None]
    if table["n_trials"] != len(trials) or table["n_completed"] != len(done):
        _fail("n_trials / n_completed do not match the trials listed")
    if done:
        top = min(done, key=lambda t: (-t[OBJECTIVE], t["trial_id"]))  # as helpers.tune picks it
        best = table["best"] or {}
        if best.get("trial_id") != top["trial_id"] or best.get(OBJECTIVE) != top[OBJECTIVE]:
            _fail("'best' is not the completed trial with the highest score")
    elif table["best"] is not None:
        _fail("'best' is set, but no trial completed")
    prov = table["provenance"]
    if not isinstance(prov, dict) or not all(k in prov for k in ("command", "git_commit", "versions")):
        _fail("provenance lacks the command, the commit or the versions")
    commits = [prov["git_commit"], *(prov.get("git_commits") or [])]
    if any(str(c).endswith("+dirty") for c in commits):
        _fail("trained or recorded by uncommitted code (a '+dirty' commit): record it again from a "
              "clean checkout")
    return table


def planned_trials(table: dict) -> int | None:
    """Trials a grid search set out to run (None for Bayes and Hyperband, whose
    number of trials is their own)."""
    s = table["settings"]
    if table["tuner"] != "grid":
        return None
    size = math.prod(len(v) for v in s["values"].values())
    return int(s.get("max_trials") or size)


def load_recorded(name: str, root=None) -> dict:
    """The recorded search ``results/tuning/<name>``: a dict with ``status``
    (``"complete"``, ``"incomplete"``, ``"running"``: a search state but no
    table yet, ``"missing"``, ``"invalid"``), ``path``, ``table`` (or None) and
    ``reason`` (what is missing or wrong)."""
    from ..paths import ResultsNotFound, results_dir

    try:
        folder = (Path(root) / name) if root is not None else results_dir(RESULTS_KIND, must_exist=False) / name
    except ResultsNotFound as exc:
        return {"status": "missing", "path": None, "table": None, "reason": str(exc), "name": name}
    path = folder / TABLE_NAME
    out = {"status": "missing", "path": path, "table": None, "reason": "", "name": name}
    if not path.is_file():
        if (folder / "state").is_dir():
            out.update(status="running", reason="the search has started but has not written its table")
        else:
            out["reason"] = f"no {path.parent.name}/{TABLE_NAME}"
        return out
    try:
        table = validate_table(json.loads(path.read_text()))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        out.update(status="invalid", reason=f"not readable JSON ({exc.msg if hasattr(exc, 'msg') else exc})")
        return out
    except TuningResultError as exc:
        out.update(status="invalid", reason=str(exc))
        return out
    out["table"] = table
    planned = planned_trials(table)
    if (not table["finished"] or table["n_completed"] < table["n_trials"]
            or (planned is not None and table["n_trials"] < planned)):
        of = planned or table["n_trials"]
        out.update(status="incomplete", reason=f"{table['n_completed']} of {of} trials completed"
                   + ("" if table["finished"] else "; the search has not ended"))
    else:
        out["status"] = "complete"
    return out


def _scale_text(table: dict) -> str:
    s = table["settings"]
    from ..tune import PROTOCOL

    proto = PROTOCOL.get(table["dataset"], {})
    full = s["epochs"] == proto.get("epochs") and s["train_samples"] == proto.get("train_samples")
    what = "the full protocol" if full else "a reduced protocol"
    return (f"{what} ({s['epochs']} epochs on {s['train_samples']:,} training images, the last "
            f"20 % of them for validation; {count_text(s['executions'], 'seed')} per trial)")


def _devices_text(prov: dict) -> str:
    """Where the trials ran: the workers' devices (a single process is one
    worker), else the recording process's device."""
    workers = prov.get("workers") or {}
    devices = sorted({d for d in workers.values() if d})
    if len(workers) > 1:
        return f"{len(workers)} workers ({'; '.join(devices) or 'devices not recorded'})"
    if devices:
        return devices[0]
    return (prov.get("device") or {}).get("device") or "an unrecorded device"


_NAMES = {"rate": "the dropout rate", "max_norm": "the max-norm value",
          "learning_rate": "the learning rate"}
_MODELS = {"cifar10": "CIFAR-10 ConvNet", "digits": "digits network"}
_TUNERS = {"grid": "a grid search", "bayes": "Bayesian optimisation", "hyperband": "Hyperband"}


def recorded_sentence(rec: dict, command: str) -> str:
    """One true sentence about the recorded search, whatever its state (plain
    text: a glued value is not parsed as Markdown)."""
    status, table = rec["status"], rec["table"]
    if status == "missing":
        return f"The full-scale search is not recorded yet: run {command}."
    if status == "running":
        return ("The full-scale search has started but not finished (its state is there, its "
                f"table is not): run {command} again to continue it.")
    if status == "invalid":
        return (f"The recorded full-scale search could not be used ({rec['reason']}); "
                f"record it again with {command}.")
    t = table
    prov = t["provenance"]
    device = _devices_text(prov)
    tuned = " and ".join(_NAMES.get(k, k) for k in t["settings"]["values"])
    model = _MODELS.get(t["dataset"], f"{t['dataset']} model")
    head = (f"The recorded search, {_TUNERS.get(t['tuner'], t['tuner'])} over {tuned} of the "
            f"{model} at {_scale_text(t)}, ")
    if status == "incomplete":
        head += f"is incomplete ({rec['reason']}): {command} continues it."
    else:
        head += f"completed all {t['n_completed']} trials."
    b = t["best"]
    if b is not None:
        so_far = " so far" if status == "incomplete" else ""
        head += (f" Its best setting{so_far} is {setting_text(b)}, with a validation accuracy of "
                 f"{b[OBJECTIVE]:.3f}.")
    secs = prov.get("trial_seconds")
    if secs and t["n_completed"]:
        took = f"{secs / 3600:.1f} h" if secs >= 3600 else f"{secs / 60:.0f} min"
        head += f" Its {count_text(t['n_completed'], 'completed trial')} took {took} of training."
    # the commits that trained, in order, then the one that wrote the table
    commits = list(dict.fromkeys(c for c in [*(prov.get("git_commits") or []), prov.get("git_commit")] if c))
    commit = ("an unrecorded commit" if not commits else f"commit {commits[0][:10]}" if len(commits) == 1
              else "commits " + ", ".join(c[:10] for c in commits))
    return head + f" It ran on {device} at {commit}."


def recorded_frame(table: dict) -> pd.DataFrame:
    """The completed trials of a recorded search, best first."""
    rows = _completed(rows_from_table(table))
    rows.sort(key=lambda r: (-r[OBJECTIVE], r["trial_id"]))
    best_epoch = {t["trial_id"]: t.get("best_epoch") for t in table["trials"]}
    return pd.DataFrame([{"rate": r["rate"], "max-norm": max_norm_text(r["max_norm"]),
                          "learning rate": r["learning_rate"], OBJECTIVE: r[OBJECTIVE],
                          "best epoch": best_epoch.get(r["trial_id"])} for r in rows])


# --------------------------------------------------------------- sentences
def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def rank_in(rows, setting: dict) -> int | None:
    """Rank of ``setting`` among the completed settings of ``rows`` by score:
    1 + the number of settings that scored strictly higher (None if absent)."""
    scores = {}
    for r in _completed(rows):
        k = _key(r)
        scores[k] = max(scores.get(k, -1.0), r[OBJECTIVE])
    k = _key(setting)
    if k not in scores:
        return None
    return 1 + sum(v > scores[k] for v in scores.values())


def found_text(setting: dict, grid_rows) -> str:
    """How the grid ranks a tuner's chosen setting, in words."""
    rank = rank_in(grid_rows, setting)
    if rank is None:
        return "a setting the grid did not train"
    if rank == 1:
        return "the grid's best setting"
    return f"the setting the grid ranks {_ordinal(rank)}"


def near_best(rows, margin: float) -> int:
    """How many distinct settings score within ``margin`` of the best."""
    scores = {}
    for r in _completed(rows):
        scores[_key(r)] = max(scores.get(_key(r), -1.0), r[OBJECTIVE])
    top = max(scores.values())
    return sum(v >= top - margin - 1e-12 for v in scores.values())


def repeats_text(summary: dict) -> str:
    """Whether a search trained some setting more than once from scratch."""
    extra = summary["trials"] - summary["settings"]
    if extra <= 0:
        return "proposed no setting twice"
    return (f"proposed {extra} setting{'s' if extra != 1 else ''} it had already trained, "
            f"so it tried {summary['settings']} distinct settings in {summary['trials']} trials")


def count_text(n: int, noun: str) -> str:
    """``"1 distinct setting"``, ``"3 distinct settings"``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def near_best_sentence(rows, n_val: int, images: int = 2) -> str:
    """How many other settings score within ``images`` validation images of the
    best, as a sentence."""
    n_val, images = check_positive_int(n_val, "n_val"), check_positive_int(images, "images")
    others = near_best(rows, images / n_val) - 1
    if others == 0:
        return f"No other setting scores within {images} validation images of it."
    return (f"Yet {count_text(others, 'other setting')} score{'s' if others == 1 else ''} within "
            f"{images} validation images of it: the top of the space is flat, and which setting "
            "comes first is partly the luck of the validation digits.")


def choices_sentence(summaries: dict) -> str:
    """Whether the tuners agreed on a setting, as a sentence."""
    n = len({_key(s["setting"]) for s in summaries.values()})
    if n == 1:
        return f"All {len(summaries)} tuners chose the same setting, so one setting reached the test set."
    return (f"The {len(summaries)} tuners chose {n} distinct settings between them; only these "
            "reached the test set.")


# --------------------------------------------------------------- the recorded search vs chapter 5
def _config_setting(spec: dict) -> dict:
    """The rate, max-norm cap and learning rate :mod:`helpers.tune` gives a
    configuration of :data:`helpers.models.CIFAR_CONFIGS`."""
    from ..tune import FIXED_LEARNING_RATE

    return {"rate": 0.5 if spec["dropout"] else 0.0, "max_norm": 2.0 if spec["max_norm"] else None,
            "learning_rate": FIXED_LEARNING_RATE[spec["optimizer"]]}


def _best_epoch(history: dict) -> tuple[float, int]:
    """Best validation accuracy of a run and its epoch (1-based, the first if tied)."""
    va = [float(v) for v in history["val_accuracy"]]
    i = int(np.argmax(va))
    return va[i], i + 1


def runs_retrained(table: dict, runs: dict) -> list[dict]:
    """The recorded CIFAR-10 runs (``helpers.experiments.load_results()``) that a
    recorded one-seed CIFAR-10 search trained again: a completed trial whose setting,
    optimizer, seed and protocol are a run's. One dict per pair: ``trial_id``,
    ``config``, ``seed``, ``rate``, the trial's ``score`` and ``epoch``, the run's
    ``run_score`` and ``run_epoch``."""
    from ..models import CIFAR_CONFIGS

    s = table["settings"]
    if table["dataset"] != "cifar10" or s.get("executions") != 1 or s.get("mixed_precision"):
        return []
    out = []
    for name in sorted(runs):
        r = runs[name]
        proto, spec = r["protocol"], CIFAR_CONFIGS.get(r["config"])
        if spec is None or spec["optimizer"] != s.get("optimizer") or proto.get("mixed_precision"):
            continue
        if (proto["epochs"], proto["batch_size"], proto["train_samples"], proto["seed"]) != (
                s["epochs"], s["batch_size"], s["train_samples"], s["seed"]):
            continue
        want = _key(_config_setting(spec))
        for t in _completed(rows_from_table(table)):
            if _key(t) == want:
                run_score, run_epoch = _best_epoch(r["history"])
                best_epoch = {x["trial_id"]: x.get("best_epoch") for x in table["trials"]}[t["trial_id"]]
                out.append({"trial_id": t["trial_id"], "config": r["config"], "seed": proto["seed"],
                            "rate": t["rate"], "score": t[OBJECTIVE], "epoch": best_epoch,
                            "run_score": run_score, "run_epoch": run_epoch})
    return out


def retrained_sentence(pairs: list[dict]) -> str:
    """Whether the search's trials reproduce the runs they re-trained, in words."""
    if not pairs:
        return ""
    which = " and ".join(f"rate {_num(p['rate'])} is configuration ({p['config']})" for p in pairs)
    seeds = sorted({p["seed"] for p in pairs})
    one = len(pairs) == 1
    count = {1: "One", 2: "Two", 3: "Three", 4: "Four", 5: "Five"}.get(len(pairs), str(len(pairs)))
    head = (f"{count} of the settings {'is a run' if one else 'are runs'} of the CIFAR-10 "
            f"chapter: {which}, at seed {', '.join(map(str, seeds))}")
    off = [p for p in pairs if not (abs(p["score"] - p["run_score"]) < 1e-6 and p["epoch"] == p["run_epoch"])]
    if not off:
        scores = " and ".join(f"{p['score']:.4f}" for p in pairs)
        epochs = " and ".join(str(p["epoch"]) for p in pairs)
        return (head + f". {'The' if one else 'Each'} trial's best validation accuracy ({scores}, at "
                f"epoch{'' if one else 's'} {epochs}) is the recorded run's, to the last digit: the search "
                "trains the same network as the experiment runner, step for step.")
    diffs = "; ".join(f"({p['config']}) {p['score']:.4f} at epoch {p['epoch']} against the run's "
                      f"{p['run_score']:.4f} at epoch {p['run_epoch']}" for p in off)
    which_off = "the trial does" if one else (
        "the trials do" if len(off) == len(pairs) else f"{len(off)} of the {len(pairs)} trials do")
    return head + f". {which_off[0].upper() + which_off[1:]} not reproduce the run exactly: {diffs}."


def seed_spread(runs: dict, config: str) -> tuple[float, int]:
    """Standard deviation over seeds of a configuration's best validation accuracy,
    and the number of seeds."""
    scores = [_best_epoch(r["history"])[0] for r in runs.values() if r["config"] == config]
    if len(scores) < 2:
        raise ValueError(f"configuration {config!r} has {len(scores)} recorded seed(s); the spread needs 2")
    return float(np.std(scores, ddof=1)), len(scores)


def lead_sentence(frame: pd.DataFrame, sd: float, n_seeds: int, config: str) -> str:
    """How the best setting's lead over the runner-up compares with seed noise. A
    difference of two one-seed scores varies with a standard deviation of about
    sqrt(2) x the seed-to-seed one; a lead under twice that could be a seed's doing."""
    if len(frame) < 2:
        return ""
    top, second = frame.iloc[0], frame.iloc[1]
    lead = float(top[OBJECTIVE] - second[OBJECTIVE])

    def name(row):
        return _num(row["rate"]) + ("" if frame["max-norm"].nunique() == 1 else f" (max-norm {row['max-norm']})")

    if lead < 5e-5:  # scores are counts of validation images: a tie is possible
        return (f"The two best rates, {name(top)} and {name(second)}, tie at {top[OBJECTIVE]:.4f}: one seed "
                "per setting does not choose between them.")
    head = f"The best rate, {name(top)}, leads the runner-up, rate {name(second)}, by {lead:.4f}."
    if not sd > 0 or n_seeds < 2:
        return head
    noise = math.sqrt(2) * sd  # sd of the difference of two independent one-seed scores
    t = stats._t_quantile(n_seeds - 1, 0.95)  # the sd itself is estimated from n_seeds runs
    times = round(lead / noise, 1)
    head += (f" The {n_seeds} recorded seeds of configuration ({config}) put the seed-to-seed standard "
             f"deviation of a best validation accuracy at {sd:.4f}, so the difference of two one-seed "
             f"scores varies by about {noise:.4f} (√2 times that). The lead is {times:.1f} times it; with "
             f"the spread estimated from {n_seeds} seeds, a difference needs {t:.1f} times "
             f"(Student's t, {n_seeds - 1} degrees of freedom, 95 %) before seed noise is an unlikely "
             "explanation. ")
    if times >= round(t, 1):
        return head + "This lead has it."
    return head + ("This lead does not: one seed per setting does not settle the order of the top two "
                   "(--executions 3 would tell more).")


def still_rising_sentence(table: dict) -> str:
    """The completed trials whose best validation accuracy came at their last epoch:
    their score may be a budget's verdict more than the setting's."""
    last = table["settings"]["epochs"]
    rising = [t for t in table["trials"] if t["status"] == "COMPLETED" and t.get("best_epoch") == last
              and "hyperband" not in t]
    if not rising:
        return ""
    names = " and ".join(f"rate {_num(t['rate'])}" for t in rising)
    one = len(rising) == 1
    return (f"{names[0].upper() + names[1:]} scored {'its' if one else 'their'} best at the last of the "
            f"{last} epochs: {'it' if one else 'they'} may still have been improving when the budget ended, "
            f"and a longer run could raise {'its' if one else 'their'} score.")
