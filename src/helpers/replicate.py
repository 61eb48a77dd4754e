"""Re-test the book's verdicts on seeds the chapters never used.

    python -m helpers.replicate [--claims NAME ...] [--seeds 1000-1029]
                                [--out results/replication/]

For every claim of :data:`helpers.claims.CLAIMS` (or those named), trains
both sides on the book's seeds, exactly as the chapter does, and on the given
seeds, which must be disjoint from the book's; prints both estimates with
their 95 % t-intervals and whether the stated verdict holds; and writes
``<out>/<study>.json`` atomically, with provenance. Claims not run keep their
entry in an existing file. Exit status 1 when a verdict flips.

    python -m helpers.replicate --cifar10

re-tests chapter 5's CIFAR-10 comparisons against their own recorded seeds
(one held out at a time, :func:`leave_one_seed_out`; retraining is 20-80 min
per run on a CPU) and says how many seeds the measured spread would need.

The replication's dropout masks come from their own stream too
(``mask_seed`` = the first replication seed), so nothing but the code is
shared with the book's runs.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import re
import shlex
import sys
import time
from pathlib import Path

from . import claims as _claims
from . import stats
from ._io import atomic_write_json


def parse_seeds(text: str) -> list[int]:
    """``"1000-1029"`` -> 1000..1029; also ``"3"``, ``"0-4,10,12-13"``."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("seeds: empty; write e.g. 1000-1029")
    seeds: list[int] = []
    for part in text.split(","):
        m = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
        if m is None:
            raise ValueError(f"seeds: {part.strip()!r} is not N or N-M (non-negative integers)")
        a = int(m.group(1))
        b = a if m.group(2) is None else int(m.group(2))
        if b < a:
            raise ValueError(f"seeds: {part.strip()!r} runs backwards")
        seeds += range(a, b + 1)
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds: {text!r} names a seed twice")
    return seeds


def format_seeds(seeds) -> str:
    """The inverse of :func:`parse_seeds`: ``[0, 1, 2, 5]`` -> ``"0-2,5"``."""
    seeds = sorted(int(s) for s in seeds)
    parts, i = [], 0
    while i < len(seeds):
        j = i
        while j + 1 < len(seeds) and seeds[j + 1] == seeds[j] + 1:
            j += 1
        parts.append(str(seeds[i]) if i == j else f"{seeds[i]}-{seeds[j]}")
        i = j + 1
    return ",".join(parts)


def _summary(claim, left, right, seeds) -> dict:
    res = stats.compare(left, right, paired=claim.paired)
    return {"seeds": format_seeds(seeds), "n": len(seeds), **res,
            "text": stats.describe_comparison(res),
            "left_values": [float(v) for v in left],
            "right_values": [float(v) for v in right]}


def replicate(names=None, seeds=range(1000, 1030), epochs=None, book=True,
              verbose=False, runs=None) -> dict:
    """Run the claims (all, or those named) on ``seeds``; one entry per claim.

    ``book``: also recompute the book's estimate with the chapter's batch.
    ``epochs``: shorter training for quick checks (default: the chapter's).
    ``runs``: a ``SeedRuns`` to train the replication in (and reuse its
    models); by default a fresh one whose masks are seeded by ``min(seeds)``.
    """
    chosen = [_claims.get(n) for n in names] if names else list(_claims.CLAIMS)
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("no replication seeds")
    if len(set(seeds)) != len(seeds):
        raise ValueError("a replication seed appears twice")
    for c in chosen:
        used = sorted(set(seeds) & set(c.book_seeds))
        if used:
            raise ValueError(f"{c.name}: seeds {format_seeds(used)} are the book's own "
                             f"({format_seeds(c.book_seeds)}); replicate on unseen seeds")
    studies = sorted({c.study for c in chosen})
    if studies != ["circles"]:
        raise ValueError(f"only the circles study can be replicated, got {studies}")
    epochs = _claims.CIRCLES_EPOCHS if epochs is None else epochs
    out: dict = {}
    t0 = time.perf_counter()
    book_runs = None
    if book:  # the chapter's batch: every claim of the study, the book's seeds
        book_runs = _claims.circles_runs(epochs)
        book_runs.train(_claims.book_requests("circles"))
    t_book = time.perf_counter() - t0
    if runs is None:
        runs = _claims.circles_runs(epochs, mask_seed=min(seeds))
    elif runs.epochs != epochs:
        raise ValueError(f"runs trains {runs.epochs} epochs, not {epochs}")
    runs.train([r for c in chosen for r in c.requests(seeds)])  # one batch
    t_rep = time.perf_counter() - t0 - t_book  # 0 when ``runs`` had them all
    for c in chosen:
        entry = {"name": c.name, "chapter": c.chapter, "study": c.study,
                 "description": c.description, "left": c.left, "right": c.right,
                 "glue": c.glue, "stated_verdict": c.verdict, "epochs": epochs}
        if book:
            entry["book"] = _summary(c, *c.run(c.book_seeds, book_runs), c.book_seeds)
        rep = _summary(c, *c.run(seeds, runs), seeds)
        entry["replication"] = {**rep, "mask_seed": runs.mask_seed}
        entry["outcome"] = _claims.outcome(c.verdict, rep["verdict"])
        out[c.name] = entry
        if verbose:
            print(report_lines(entry), flush=True)
    for entry in out.values():
        entry["wall_seconds"] = {"book": round(t_book, 1), "replication": round(t_rep, 1)}
    return out


#: Largest seed count :func:`seeds_needed` reports; beyond it, "more than".
MAX_SEEDS = 1000


def seeds_needed(diffs, level: float = 0.95, limit: int = MAX_SEEDS) -> int | None:
    """The smallest number of paired seeds n >= 2 whose t-interval would
    exclude zero if the per-seed differences kept the mean and spread measured
    in ``diffs``: ``t(n-1) * sd / sqrt(n) < |mean|``. A planning figure, not a
    promise (the mean and spread are themselves estimates). ``None`` when even
    ``limit`` seeds would not do (the mean is tiny against the spread)."""
    import math

    d = stats._values(diffs, "diffs")
    if d.size < 2:
        raise ValueError("seeds_needed: need the differences of at least two seeds")
    mean, sd = float(d.mean()), float(d.std(ddof=1))
    if sd == 0.0:
        return 2 if mean != 0.0 else None
    for n in range(2, int(limit) + 1):
        if stats._t_quantile(n - 1, level) * sd / math.sqrt(n) < abs(mean):
            return n
    return None


def leave_one_seed_out(summary: dict, comparisons=None, level: float = 0.95) -> dict:
    """The CIFAR-10 comparisons re-tested against their own recorded seeds.

    Retraining a configuration takes 20-80 minutes on a CPU, so instead each
    recorded seed is held out in turn: the other seeds give an estimate, and
    the held-out seed's difference either has the same sign as that estimate
    or not. ``summary``: :func:`helpers.experiments.summarize_results`;
    ``comparisons``: ``(left, right, what)`` triples (default: chapter 5's).
    Per comparison: the all-seeds :func:`helpers.stats.compare` (paired), one
    row per held-out seed, how many held-out seeds agree in sign, and
    :func:`seeds_needed`.
    """
    import numpy as np

    if comparisons is None:
        from .studies.cifar import COMPARISONS as comparisons
    out = {}
    for left, right, what in comparisons:
        for c in (left, right):
            if c not in summary:
                raise ValueError(f"configuration {c!r} has no recorded result")
        a, b = summary[left], summary[right]
        if a["seed_list"] != b["seed_list"]:
            raise ValueError(f"({left}) and ({right}) need the same recorded seeds to pair them")
        seeds = list(a["seed_list"])
        if len(seeds) < 3:
            raise ValueError(f"({right}) - ({left}): leave-one-seed-out needs 3 or more seeds")
        d = np.asarray(b["test_accuracies"], float) - np.asarray(a["test_accuracies"], float)
        full = stats.compare(a["test_accuracies"], b["test_accuracies"], paired=True, level=level)
        rows = []
        for i, seed in enumerate(seeds):
            rest = np.delete(d, i)
            rest_cmp = stats.compare(np.zeros(rest.size), rest, paired=True, level=level)
            rows.append({"held_out": int(seed), "held_out_diff": float(d[i]),
                         "rest_diff": float(rest.mean()), "rest_verdict": rest_cmp["verdict"],
                         "same_sign": bool(np.sign(d[i]) == np.sign(rest.mean()) != 0)})
        out[f"cifar10-{left}-{right}"] = {
            "name": f"cifar10-{left}-{right}", "chapter": "05_cifar10", "study": "cifar10",
            "description": f"test accuracy, ({right}) minus ({left}): {what}",
            "left": left, "right": right, "seeds": format_seeds(seeds),
            "book": {**full, "text": stats.describe_comparison(full)},
            "leave_one_out": rows,
            "agree": sum(r["same_sign"] for r in rows), "held_out_count": len(rows),
            "seeds_needed": seeds_needed(d, level),
        }
    return out


def loo_sentence(entry: dict | None) -> str:
    """A clause for the prose about one CIFAR-10 comparison's held-out seeds."""
    if not entry or "leave_one_out" not in entry:
        return "not re-tested yet (run python -m helpers.replicate --cifar10)"
    k, n = entry["agree"], entry["held_out_count"]
    agree = (f"each of the {n} seeds, held out, differs in the direction the other "
             f"{n - 1} give" if k == n else
             f"{k} of {n} held-out seeds differ{'s' * (k == 1)} in the direction the other "
             f"{n - 1} give")
    need = entry["seeds_needed"]
    if need is None:
        more = f"no number of seeds up to {MAX_SEEDS} would separate it from zero at this spread"
    elif need <= n:
        more = f"{n} seeds already separate it from zero"
    else:
        more = f"about {need} seeds would be needed to separate it from zero at this spread"
    return f"{agree}; {more}"


def report_lines(entry: dict) -> str:
    lines = [f"{entry['name']} ({entry['chapter']}): {entry['description']}"]
    if "leave_one_out" in entry:
        lines.append(f"  book, seeds {entry['seeds']}: {entry['book']['text']}")
        for r in entry["leave_one_out"]:
            lines.append(f"  seed {r['held_out']} held out: its difference "
                         f"{stats.signed(r['held_out_diff'])}, the others' "
                         f"{stats.signed(r['rest_diff'])} ({r['rest_verdict']})")
        lines.append(f"  {loo_sentence(entry)}")
        return "\n".join(lines)
    for key, label in (("book", "book"), ("replication", "replication")):
        if key in entry:
            e = entry[key]
            lines.append(f"  {label + ', seeds ' + e['seeds'] + ':':<34} {e['text']}")
    lines.append(f"  stated verdict: {entry['stated_verdict']} -> {entry['outcome']}")
    return "\n".join(lines)


def provenance(command: str) -> dict:
    from .experiments import _git_commit, device_description, versions

    return {"command": command, "git_commit": _git_commit(),
            "date_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "device": device_description(), "versions": versions()}


def write_table(folder, entries: dict, prov: dict) -> list[Path]:
    """Merge ``entries`` into ``<folder>/<study>.json`` (one file per study),
    each entry with ``prov``; written atomically. Returns the paths."""
    paths = []
    for study in sorted({e["study"] for e in entries.values()}):
        path = Path(folder) / f"{study}.json"
        table = json.loads(path.read_text()) if path.is_file() else {}
        if table and table.get("study") != study:
            raise ValueError(f"{path} is not the {study} table")
        table = {"study": study, "claims": dict(table.get("claims", {}))}
        for name, e in entries.items():
            if e["study"] == study:
                old = table["claims"].get(name, {})
                new = {**e, "provenance": prov}
                if "book" not in new and "book" in old:  # --no-book keeps it
                    new["book"] = old["book"]
                table["claims"][name] = new
        order = [c.name for c in _claims.CLAIMS]
        table["claims"] = dict(sorted(
            table["claims"].items(),
            key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)))
        paths.append(atomic_write_json(path, table))
    return paths


def load_table(study: str = "circles", folder=None) -> dict:
    """The recorded replications of a study, by claim name (empty if none).

    ``folder``: default the clone's ``results/replication`` (:mod:`helpers.paths`).
    """
    from .paths import ResultsNotFound, results_dir

    try:
        path = results_dir("replication", folder) / f"{study}.json"
    except ResultsNotFound:
        return {}
    if not path.is_file():
        return {}
    return json.loads(path.read_text())["claims"]


def sentence(entry: dict | None) -> str:
    """A clause for the prose: ``"replicated on 30 unseen seeds: +0.015
    (95 % interval ...): higher; the verdict holds"``."""
    if not entry or "replication" not in entry:
        return "not replicated yet (run python -m helpers.replicate)"
    rep = entry["replication"]
    verdict = {"holds": "the verdict holds", "flips": "the verdict flips",
               "not confirmed": "not confirmed", "too few seeds": "too few seeds"}
    return (f"replicated on {rep['n']} unseen seeds: {rep['text']}; "
            f"{verdict[entry['outcome']]}")


def main(argv=None) -> int:
    from .paths import project_root

    p = argparse.ArgumentParser(prog="python -m helpers.replicate", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--claims", nargs="+", metavar="NAME",
                   help="claims to run (default: all): " +
                   ", ".join(c.name for c in _claims.CLAIMS))
    p.add_argument("--seeds", default="1000-1029", type=str,
                   help="unseen seeds, e.g. 1000-1029 or 1000-1009,2000 (default 1000-1029)")
    root = project_root() or Path.cwd()
    p.add_argument("--out", default=str(root / "results" / "replication"),
                   help="folder of the tables (default results/replication/)")
    p.add_argument("--no-book", action="store_true",
                   help="skip recomputing the book's own estimates")
    p.add_argument("--cifar10", action="store_true",
                   help="instead: hold out each recorded CIFAR-10 seed in turn (results/cifar10)")
    args = p.parse_args(argv)
    try:
        command = "python -m helpers.replicate " + shlex.join(
            sys.argv[1:] if argv is None else argv)
        if args.cifar10:
            from .experiments import load_results, summarize_results

            entries = leave_one_seed_out(summarize_results(load_results().values()))
            for entry in entries.values():
                print(report_lines(entry), flush=True)
            for path in write_table(args.out, entries, provenance(command)):
                print(f"wrote {path}")
            return 0
        seeds = parse_seeds(args.seeds)
        entries = replicate(args.claims, seeds, book=not args.no_book, verbose=True)
        for path in write_table(args.out, entries, provenance(command)):
            print(f"wrote {path}")
    except (KeyError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 1 if any(e["outcome"] == "flips" for e in entries.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
