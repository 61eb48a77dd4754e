"""Mutation-testing gate: run mutmut on the fast-testable helpers and score the result.

    python scripts/mutation_score.py              # clean run, then score (what `make mutation` does)
    python scripts/mutation_score.py --no-run     # score the results already in ./mutants
    python scripts/mutation_score.py --list       # also list every mutant that was not killed

mutmut (configured in pyproject.toml, [tool.mutmut]) copies src/ and tests/ into
./mutants, mutates the files named in ``only_mutate`` and runs the fast unit tests
named in ``pytest_add_cli_args_test_selection`` against each mutant, forking one
worker per mutant from a process that has already imported the tests (and so
TensorFlow, via ``import helpers``; none of the selected tests runs TensorFlow
ops, which is what keeps the fork safe).

mutmut mutates whole files, but only the functions in :data:`SCOPE` are run and
scored: the pure-Python parts of experiments.py and data.py are in, training,
TensorFlow decoding, subprocess and command-line code is out (see the comments).

Score definition (the gate):

    score = (killed + allow-listed) / total

where ``total`` counts every mutant in SCOPE, ``killed`` those a test failed on
(mutmut's "killed", plus "timeout": a mutant that makes a test hang is detected
too), and ``allow-listed`` the remaining ones named in tests/mutation_allowlist.txt
(equivalent mutants, or ones not worth a test; each line gives the reason).
Everything else ("survived", "no tests", "suspicious", "not checked") counts
against the score. The script exits 1 below THRESHOLD (85 %), 2 if mutmut fails.

Allow-list entries are mutant names (``helpers.stats.x_compare__mutmut_17``);
mutmut numbers the mutants of a function in order, so editing a function renames
its mutants: the script reports entries that no longer name a surviving mutant
so the list can be pruned.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MUTANTS = ROOT / "mutants"
ALLOWLIST = ROOT / "tests" / "mutation_allowlist.txt"
SAMPLE = ROOT / "results" / "mutation" / "sample.json"  # scripts/mutation_sample.py
THRESHOLD = 0.85

#: The mutants run and scored (fnmatch patterns on mutmut's mutant names).
SCOPE = (
    # whole modules: pure logic, tested in milliseconds
    "helpers.stats.*",
    "helpers._validate.*",
    "helpers._io.*",
    "helpers.paths.*",
    "helpers.theory.*",
    "helpers.book.*",
    "helpers.progress.*",
    # experiments.py: result naming, validation, summaries, the checkpoint bookkeeping.
    # Out: run_cifar10 (trains a network), main (argparse wiring around run_cifar10),
    # _git_commit (subprocess), device_description/versions (TensorFlow queries).
    "helpers.experiments.x_result_name__mutmut_*",
    "helpers.experiments.x_load_results__mutmut_*",
    "helpers.experiments.x_validate_result__mutmut_*",
    "helpers.experiments.x_check_history__mutmut_*",
    "helpers.experiments.x_check_test_scores__mutmut_*",
    "helpers.experiments.x_check_provenance__mutmut_*",
    "helpers.experiments.x_finish_run__mutmut_*",
    "helpers.experiments.x_summarize_results__mutmut_*",
    "helpers.experiments.x_compare_configs__mutmut_*",
    "helpers.experiments.x\u01c1_EpochCheckpoint\u01c1*",
    # data.py: argument checks, pack lookup, hashing, validation and preparation.
    # Out: _decode_images (TensorFlow JPEG decoding in tf.data).
    "helpers.data.x_load_circles__mutmut_*",
    "helpers.data.x_load_digits_split__mutmut_*",
    "helpers.data.x_sha256_file__mutmut_*",
    "helpers.data.x_find_cifar10_pack__mutmut_*",
    "helpers.data.x_verify_cifar10_pack__mutmut_*",
    "helpers.data.x_read_cifar10_pack__mutmut_*",
    "helpers.data.x_load_cifar10__mutmut_*",
    "helpers.data.x_cifar10_provenance__mutmut_*",
    "helpers.data.x_prepare_cifar10__mutmut_*",
    # cifar_regularisers.py: the plan, the choices, validation, tables and provenance.
    # Out: run_one (trains a network), load_data (TensorFlow decoding), main (argparse).
    *(f"helpers.cifar_regularisers.x_{f}__mutmut_*" for f in (
        "_components", "settings_of", "run_name", "command_for", "choose", "plan", "complete",
        "validate_result", "scores", "_value_text", "grid_table", "verdicts", "results_table",
        "provenance_summary", "load_results")),
)

#: mutmut 3.8.1's exit-code meanings (mutmut.stats.status_by_exit_code); unknown codes
#: are "suspicious" there, and count as not killed here.
DETECTED = {"killed", "timeout"}


def status_of(exit_code) -> str:
    from mutmut.stats import status_by_exit_code

    return status_by_exit_code[exit_code]


def in_scope(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in SCOPE)


def run_mutmut(max_children: int, keep: bool) -> int:
    if MUTANTS.exists() and not keep:
        shutil.rmtree(MUTANTS)  # a clean run: no stale stats or results from older code
    MUTANTS.mkdir(exist_ok=True)
    log = MUTANTS / "mutmut-run.log"
    env = {**os.environ, "DROPOUT_BOOK_QUIET": "1", "TF_CPP_MIN_LOG_LEVEL": "2",
           "PYTHONWARNINGS": "ignore::DeprecationWarning"}
    cmd = [sys.executable, "-m", "mutmut", "run", "--max-children", str(max_children), *SCOPE]
    print(f"running mutmut ({max_children} workers); log: {log.relative_to(ROOT)}", flush=True)
    t0 = time.perf_counter()
    with log.open("w") as f:
        code = subprocess.run(cmd, cwd=ROOT, env=env, stdout=f, stderr=subprocess.STDOUT).returncode
    print(f"mutmut finished in {time.perf_counter() - t0:.0f} s (exit code {code})", flush=True)
    if code != 0:
        print(log.read_text(errors="replace")[-4000:], file=sys.stderr)
    return code


def read_results() -> dict[str, str]:
    """Every in-scope mutant's status, from mutmut's per-file ``.meta`` files."""
    out = {}
    for meta in sorted(MUTANTS.rglob("*.py.meta")):
        for name, code in json.loads(meta.read_text())["exit_code_by_key"].items():
            if in_scope(name):
                out[name] = status_of(code)
    return out


def read_allowlist(path: Path) -> dict[str, str]:
    """``name reason...`` per line; blank lines and ``#`` comments are skipped."""
    out = {}
    if not path.is_file():
        return out
    for n, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, reason = line.partition(" ")
        if not reason.strip():
            raise SystemExit(f"{path}:{n}: {name} has no reason; say why it is allowed to survive")
        out[name] = reason.strip()
    return out


def score(results: dict[str, str], allow: dict[str, str], show_all: bool) -> float:
    counts = Counter(results.values())
    killed = sum(counts[s] for s in DETECTED)
    undetected = sorted(n for n, s in results.items() if s not in DETECTED)
    allowed = [n for n in undetected if n in allow]
    survived = [n for n in undetected if n not in allow]
    stale = sorted(set(allow) - set(allowed))
    total = len(results)
    rate = (killed + len(allowed)) / total if total else 0.0

    print("\nmutmut statuses in scope: " + ", ".join(f"{s} {c}" for s, c in sorted(counts.items())))
    if survived:
        print(f"\nnot killed and not allow-listed ({len(survived)}); `mutmut show NAME` shows the change:")
        for n in survived:
            print(f"  {n}  [{results[n]}]")
    if show_all and allowed:
        print(f"\nallow-listed ({len(allowed)}):")
        for n in allowed:
            print(f"  {n}  {allow[n]}")
    if stale:
        print(f"\nallow-list entries that name no surviving mutant (prune them): {len(stale)}")
        for n in stale:
            print(f"  {n}  [{results.get(n, 'no such mutant')}]")
    print(f"\nkilled {killed} (timeouts {counts['timeout']}), survived {len(survived)}, "
          f"allow-listed {len(allowed)}, total {total}")
    print(f"score = (killed + allow-listed) / total = {rate:.1%} (gate: {THRESHOLD:.0%})")
    return rate


def whole_package(results: dict[str, str], allow: dict[str, str], sample_path: Path) -> dict | None:
    """The score of every non-plotting helper: the gate's exact counts plus the
    sampled kill rate (``scripts/mutation_sample.py``, committed in
    ``results/mutation/sample.json``) over the mutants outside the gate, with the
    sample's 95 % interval carried through. None (and a line saying so) without a
    finished sample."""
    where = sample_path.relative_to(ROOT) if sample_path.is_relative_to(ROOT) else sample_path
    if not sample_path.is_file():
        print(f"\nno {where}: run scripts/mutation_sample.py for the helpers "
              "outside the gate")
        return None
    rec = json.loads(sample_path.read_text())
    if not rec.get("finished"):
        print(f"\n{where} is unfinished: run scripts/mutation_sample.py again")
        return None
    s, pop = rec["summary"], rec["population"]
    gate_ok = sum(st in DETECTED or n in allow for n, st in results.items())
    total = len(results) + pop
    est = {k: (gate_ok + v * pop) / total
           for k, v in (("low", s["wilson95"][0]), ("rate", s["rate"]), ("high", s["wilson95"][1]))}
    print(f"\noutside the gate ({pop:,} mutants of the training, model, search and study modules; "
          f"sampled at {rec['provenance']['git_commit'][:10]}, {rec['provenance']['date_utc'][:10]}): "
          f"{s['killed']}/{s['drawn']} drawn mutants killed = {s['rate']:.1%} "
          f"(95 % interval {s['wilson95'][0]:.1%}-{s['wilson95'][1]:.1%})")
    left_out = rec.get("excluded") or {}
    also = "".join(f", {m} ({v['mutants']:,} mutants: its tests cannot run under mutmut)"
                   for m, v in left_out.items())
    print(f"src/helpers without plotting{also} ({total:,} mutants): estimated score {est['rate']:.1%} "
          f"(95 % interval {est['low']:.1%}-{est['high']:.1%})")
    return est


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--no-run", action="store_true", help="only score the results already in ./mutants")
    p.add_argument("--keep", action="store_true", help="reuse ./mutants (mutmut's cache) instead of a clean run")
    p.add_argument("--max-children", type=int, default=os.cpu_count() or 2, help="parallel mutant workers")
    p.add_argument("--allowlist", type=Path, default=ALLOWLIST)
    p.add_argument("--list", action="store_true", help="also list the allow-listed mutants")
    args = p.parse_args(argv)

    if not args.no_run and run_mutmut(args.max_children, args.keep) != 0:
        print("mutmut failed; see the log above", file=sys.stderr)
        return 2
    results = read_results()
    if not results:
        print("no mutmut results in ./mutants: run without --no-run first", file=sys.stderr)
        return 2
    rate = score(results, read_allowlist(args.allowlist), args.list)
    whole_package(results, read_allowlist(args.allowlist), SAMPLE)
    if rate < THRESHOLD:
        print(f"FAIL: mutation score {rate:.1%} is below {THRESHOLD:.0%}")
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
