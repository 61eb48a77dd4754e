"""Re-test the book's verdicts on seeds the chapters never used.

    python -m helpers.replicate [--claims NAME ...] [--seeds 1000-1029]
                                [--out results/replication/]

For every claim of :data:`helpers.claims.CLAIMS` (or those named; a study's
name, e.g. ``calibration``, names all its claims), trains both sides on the
book's seeds, exactly as the chapter does, and on the given seeds, which must
be disjoint from the book's; prints both estimates with their 95 %
t-intervals and whether the stated verdict holds; and writes
``<out>/<study>.json`` atomically (one file per study), with provenance and
the wall-clock and CPU seconds of the training. Claims not run keep their
entry in an existing file. Exit status 1 when a verdict flips.

    python -m helpers.replicate --cifar10

re-tests chapter 5's CIFAR-10 comparisons against their own recorded seeds
(one held out at a time, :func:`leave_one_seed_out`; retraining is 20-80 min
per run on a CPU) and says how many seeds the measured spread would need.

The replication's dropout masks (and, in chapter 10, its noise and shifts)
come from their own stream too (``mask_seed`` = the first replication seed)
wherever they do not already follow each model's seed, so nothing but the
code is shared with the book's runs. Data splits that depend on the seed
(:func:`helpers.data.seed_splits`, chapter 7's training subsets) follow it;
the chapters' fixed splits stay fixed.
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
            "text": stats.describe_comparison(res, claim.digits),
            "left_values": [float(v) for v in left],
            "right_values": [float(v) for v in right]}


def replicate(names=None, seeds=range(1000, 1030), epochs=None, book=True,
              verbose=False, runs=None) -> dict:
    """Run the claims (all, or those named; a study's name stands for all its
    claims) on ``seeds``; one entry per claim.

    ``book``: also recompute the book's estimate with the chapter's code and
    seeds (and the chapter's mask stream, ``mask_seed`` 0).
    ``epochs``: shorter training for quick checks of the circles claims
    (default: the chapter's; the other studies always run the chapter's protocol).
    ``runs``: the cache to train the replication in (and reuse its models),
    for the claims of one study: a ``SeedRuns`` for circles, a
    :class:`helpers.claims.Runs` otherwise; by default a fresh one whose masks
    are seeded by ``min(seeds)``.
    """
    chosen = _claims.select(names)
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
    studies = list(dict.fromkeys(c.study for c in chosen))
    if runs is not None and len(studies) != 1:
        raise ValueError(f"runs: the claims of one study at a time, got {studies}")
    if epochs is not None and studies != ["circles"]:
        raise ValueError("epochs: only the circles claims train shorter for quick checks; "
                         "the other studies run the chapter's protocol")
    out: dict = {}
    for study in studies:
        group = [c for c in chosen if c.study == study]
        if study == "circles":
            out.update(_replicate_circles(group, seeds, epochs, book, verbose, runs))
        else:
            out.update(_replicate_study(study, group, seeds, book, verbose, runs))
    return out


def _replicate_circles(chosen, seeds, epochs, book, verbose, runs) -> dict:
    """The circles claims: the chapter's batch (every claim of the study, the
    book's seeds) for the book, one batch for the replication."""
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


def _seconds(runs, start: int) -> tuple[list, float, float]:
    """The experiments ``runs`` read since ``runs.log[start]``, and their
    wall-clock and CPU seconds (an experiment shared by several claims counts
    for each)."""
    keys = list(dict.fromkeys(runs.log[start:]))
    wall = sum(runs.seconds[k][0] for k in keys)
    cpu = sum(runs.seconds[k][1] for k in keys)
    return keys, round(wall, 1), round(cpu, 1)


def _replicate_study(study, chosen, seeds, book, verbose, runs) -> dict:
    """The claims of one study other than circles: each reads its study's
    experiments from a cache, the book's (mask stream 0) and the
    replication's (mask stream ``min(seeds)``)."""
    spec = _claims.STUDIES[study]
    book_runs = _claims.new_runs(study, 0) if book else None
    if runs is None:
        runs = _claims.new_runs(study, mask_seed=min(seeds))
    out: dict = {}
    for c in chosen:
        entry = {"name": c.name, "chapter": c.chapter, "study": c.study,
                 "description": c.description, "left": c.left, "right": c.right,
                 "glue": c.glue, "stated_verdict": c.verdict, "paired": c.paired,
                 "protocol": spec.parameters}
        if c.label is not None:
            entry["label"] = c.label
        wall, cpu = {}, {}
        if book:
            start = len(book_runs.log)
            entry["book"] = {**_summary(c, *c.run(c.book_seeds, book_runs), c.book_seeds),
                             "mask_seed": book_runs.mask_seed}
            if c.details is not None:
                entry["book"]["details"] = c.details(c.book_seeds, book_runs)
            _, wall["book"], cpu["book"] = _seconds(book_runs, start)
        start = len(runs.log)
        rep = _summary(c, *c.run(seeds, runs), seeds)
        if c.details is not None:
            rep["details"] = c.details(seeds, runs)
        keys, wall["replication"], cpu["replication"] = _seconds(runs, start)
        entry["replication"] = {**rep, "mask_seed": runs.mask_seed}
        entry["outcome"] = _claims.outcome(c.verdict, rep["verdict"])
        entry["experiments"] = [k[0] for k in keys]
        entry["wall_seconds"], entry["cpu_seconds"] = wall, cpu
        out[c.name] = entry
        if verbose:
            print(report_lines(entry), flush=True)
    if verbose:
        for label, r in (("book", book_runs), ("replication", runs)):
            for (name, s), (w, cpu_s) in ({} if r is None else r.seconds).items():
                print(f"  [{study}] {label}: {name} on {len(s)} seeds: {w:.0f} s, "
                      f"CPU {cpu_s:.0f} s", flush=True)
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
            for what, value in e.get("details", {}).items():
                lines.append(f"  {'':<34} {what}: {value}")
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


#: ``outcome`` in words, for one verdict and for several.
_OUTCOME_WORDS = {"holds": ("holds", "hold"), "flips": ("flips", "flip"),
                  "not confirmed": ("is not confirmed", "are not confirmed"),
                  "too few seeds": ("has too few seeds", "have too few seeds")}


def group_sentence(entries, unit: str = "", labels=None, at: str = "at") -> str:
    """One clause for several claims (e.g. one per width): ``"replicated on
    30 unseen seeds: 8 of 9 verdicts hold; the verdict at 4 units flips"``.
    ``entries``: recorded entries (``None`` for a claim not recorded yet);
    ``labels`` name them (default: each entry's ``label``, else its ``right``
    side, else its name), ``at`` and ``unit`` frame the label."""
    entries = list(entries)
    if not entries or any(not e or "replication" not in e for e in entries):
        return "not replicated yet (run python -m helpers.replicate)"
    if labels is None:
        labels = [e.get("label", e.get("right", e["name"])) for e in entries]
    if len(labels) != len(entries):
        raise ValueError(f"{len(labels)} labels for {len(entries)} entries")
    ns = sorted({e["replication"]["n"] for e in entries})
    n = ns[0] if len(ns) == 1 else f"{ns[0]} to {ns[-1]}"
    held = sum(e["outcome"] == "holds" for e in entries)
    if held == len(entries):
        every = "both verdicts hold" if len(entries) == 2 else f"all {len(entries)} verdicts hold"
        return f"replicated on {n} unseen seeds: {every}"
    suffix = f" {unit}" if unit else ""
    rest: dict = {}
    for e, label in zip(entries, labels, strict=True):
        if e["outcome"] != "holds":
            rest.setdefault(e["outcome"], []).append(str(label))
    parts = []
    for outcome_, names in rest.items():
        one, many = _OUTCOME_WORDS[outcome_]
        parts.append(f"the verdict {at} {names[0]}{suffix} {one}" if len(names) == 1 else
                     f"the verdicts {at} {', '.join(names)}{suffix} {many}")
    return (f"replicated on {n} unseen seeds: {held} of {len(entries)} verdicts hold; "
            + "; ".join(parts))


def main(argv=None) -> int:
    from .paths import project_root

    p = argparse.ArgumentParser(prog="python -m helpers.replicate", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--claims", nargs="+", metavar="NAME",
                   help="claims to run (default: all), or studies for all their claims ("
                   + ", ".join(_claims.STUDIES) + "): "
                   + ", ".join(c.name for c in _claims.CLAIMS))
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
