"""Sampled mutation score for the helpers that the mutmut gate does not run.

    python scripts/mutation_sample.py                 # 50 mutants, seed 0 (resumes a stopped run)
    python scripts/mutation_sample.py --n 80 --seed 1 --out /tmp/sample.json

``make mutation`` (``scripts/mutation_score.py``) runs every mutant of the pure-Python
helpers, forked by mutmut from one process. The rest of ``src/helpers`` trains
networks, builds Keras models or runs searches: its tests use TensorFlow, which is
not safe to fork, and all of its ~20,000 mutants at tens of seconds each would take
days on this machine. This script estimates their kill rate instead:

1. it writes mutmut's mutated copies (every mutant behind a trampoline, chosen by the
   ``MUTANT_UNDER_TEST`` environment variable) of the modules in :data:`TESTS` into
   ``mutants-sample/``, beside copies of the tests and the files they read;
2. it draws ``--n`` mutants uniformly (``random.Random(seed)``) from every mutant of
   those modules that the gate does not score (``mutation_score.in_scope``);
3. it runs each module's own tests (:data:`TESTS`, not the notebook-marked ones) once
   unmutated, which must pass (otherwise every mutant would look killed), and once per
   drawn mutant in a fresh Python process; a failing test kills the mutant, a run over
   its time limit (3 x the unmutated run + 60 s) counts as killed, as in mutmut. A test
   that fails on the unmutated copy (the tests that a chapter's code equals a helper's
   compare source text, which mutmut rewrites) is deselected for its module, and listed.

Only each module's own test file is run, so a mutant that another file would catch
counts as survived: the estimate errs low. The result, with a 95 % Wilson interval and
every drawn mutant's outcome, is written atomically to ``--out`` after each mutant
(``"finished": false`` until the last), so a stopped run resumes where it was; the
first k mutants drawn for ``--n N`` are the draw of ``--n k`` (same seed), so a stopped
run can also be finished at a smaller ``--n``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "scripts"))

from mutation_score import SAMPLE, in_scope  # noqa: E402

from helpers._io import atomic_write_json  # noqa: E402
from helpers.experiments import _git_commit  # noqa: E402

WORK = ROOT / "mutants-sample"
DEFAULT_OUT = SAMPLE

#: Module -> the test file(s) that test it. Plotting is left out, as in the gate.
TESTS = {
    "helpers.batched": ["tests/test_batched.py"],
    "helpers.fastfit": ["tests/test_fastfit.py"],
    "helpers.models": ["tests/test_models.py"],
    "helpers.uncertainty": ["tests/test_uncertainty.py"],
    "helpers.seeding": ["tests/test_validation.py"],
    "helpers.replicate": ["tests/test_replication.py"],
    "helpers.claims": ["tests/test_claims_chapters.py"],
    "helpers.tune": ["tests/test_tune.py"],
    "helpers.experiments": ["tests/test_experiments.py"],
    "helpers.data": ["tests/test_data.py"],
    "helpers.make_cifar10_pack": ["tests/test_data.py"],
    "helpers.cifar_regularisers": ["tests/test_cifar_regularisers.py"],
    "helpers.studies.api": ["tests/test_api_chapter.py"],
    "helpers.studies.beyond": ["tests/test_beyond_study.py"],
    "helpers.studies.calibration": ["tests/test_calibration_study.py"],
    "helpers.studies.cifar": ["tests/test_cifar_study.py"],
    "helpers.studies.circles": ["tests/test_circles_study.py"],
    "helpers.studies.modern": ["tests/test_modern_study.py"],
    "helpers.studies.pitfalls": ["tests/test_pitfalls_study.py"],
    "helpers.studies.regularisers": ["tests/test_regularisers_study.py"],
    "helpers.studies.theory": ["tests/test_theory_studies.py"],
    "helpers.studies.tuning": ["tests/test_tuning_study.py"],
}
#: Modules whose own tests cannot run under mutmut's trampolines, with the reason; their
#: mutants are left out of the population (and said to be, in the record).
EXCLUDED = {
    "helpers.studies.modern": "mutmut wraps DropPath.__init__ (a keras.layers.Layer subclass) in a "
                              "trampoline taking *args, **kwargs, and Keras' Operation.__new__ then "
                              "fails inspecting its signature (IndexError): the unmutated tests fail",
}
COPY = ("src", "tests", "scripts", "results", "notebooks", "book", "_toc.yml", "_config.yml",
        "pyproject.toml", "README.md", "constraints.txt", "Makefile", "benchmarks", ".ci", ".gitignore")


def module_path(module: str) -> Path:
    return Path("src", *module.split(".")).with_suffix(".py")


def prepare(work: Path) -> dict[str, list[str]]:
    """Copy the tree into ``work`` and write mutmut's mutated version of each module;
    return every mutant name per module."""
    from mutmut.__main__ import write_all_mutants_to_file
    from mutmut.utils.format_utils import get_mutant_name

    if work.exists():
        shutil.rmtree(work)
    work.mkdir()
    for name in COPY:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, work / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif src.is_file():
            shutil.copy2(src, work / name)
    names = {}
    cwd = os.getcwd()
    os.chdir(ROOT)  # mutmut reads its configuration from pyproject.toml here
    try:
        for module in TESTS:
            rel = module_path(module)
            with open(work / rel, "w") as out:
                mutated = write_all_mutants_to_file(out=out, source=(ROOT / rel).read_text(), filename=rel)
            names[module] = sorted(get_mutant_name(rel, n) for n in mutated.mutant_names)
    finally:
        os.chdir(cwd)
    return names


def run_tests(work: Path, module: str, mutant: str, timeout: float,
              deselect=()) -> tuple[str, float, int | None, str]:
    """``(status, seconds, exit code, what failed)``: status ``"killed"`` (a test failed),
    ``"survived"``, ``"timeout"`` or ``"error"`` (pytest could not run the tests: not
    counted as a kill). The tests run in their own process group, killed whole on a
    timeout (some start processes of their own)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DROPOUT_BOOK_ROOT", "PYTEST_"))}
    env.update(MUTANT_UNDER_TEST=mutant, PYTHONPATH=str(work / "src"), DROPOUT_BOOK_QUIET="1",
               TF_CPP_MIN_LOG_LEVEL="2", PYTHONDONTWRITEBYTECODE="1")
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
           "-m", "not notebook", "-W", "ignore::DeprecationWarning",
           *(a for t in deselect for a in ("--deselect", t)), *TESTS[module]]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return "timeout", round(time.perf_counter() - t0, 1), None, ""
    except BaseException:  # Ctrl-C: take the tests down too
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    seconds = round(time.perf_counter() - t0, 1)
    failed = next((ln[:300] for ln in out.splitlines() if ln.startswith(("FAILED ", "ERROR "))), "")
    return {0: "survived", 1: "killed"}.get(proc.returncode, "error"), seconds, proc.returncode, failed


def code_hash() -> str:
    """SHA-256 of the helpers and the tests: a resumed sample must run against the same code."""
    h = hashlib.sha256()
    for folder in ("src/helpers", "tests"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            h.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def summary(record: dict) -> dict:
    done = record["mutants"]
    detected = sum(m["status"] in ("killed", "timeout") for m in done)
    lo, hi = wilson(detected, len(done))
    return {"drawn": len(done), "killed": detected, "rate": detected / len(done) if done else None,
            "wilson95": [lo, hi],
            "by_status": {s: sum(m["status"] == s for m in done) for s in ("killed", "timeout", "survived", "error")}}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=50, help="mutants to draw")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="mutants run at once")
    args = p.parse_args(argv)
    if args.n < 1 or args.jobs < 1:
        p.error("--n and --jobs must be at least 1")
    commit = _git_commit() or "unknown"  # as the experiment runners record it (results/ is not code)
    names = prepare(WORK)
    population = sorted(n for module in TESTS if module not in EXCLUDED for n in names[module]
                        if not in_scope(n))
    if args.n > len(population):
        p.error(f"--n is larger than the {len(population)} mutants to draw from")
    drawn = random.Random(args.seed).sample(population, args.n)
    record = {"finished": False, "seed": args.seed, "n": args.n, "population": len(population),
              "code_sha256": code_hash(),
              "population_by_module": {m: sum(not in_scope(n) for n in names[m]) for m in TESTS
                                       if m not in EXCLUDED},
              "excluded": {m: {"mutants": sum(not in_scope(n) for n in names[m]), "reason": why}
                           for m, why in EXCLUDED.items()},
              "baseline": {}, "mutants": []}
    if args.out.is_file():
        old = json.loads(args.out.read_text())
        if old.get("code_sha256") == record["code_sha256"]:  # the same code: its baselines hold
            record["baseline"] = old.get("baseline", {})
            record["deselected"] = old.get("deselected", {})
        if (old.get("seed"), old.get("population"), old.get("code_sha256")) == (
                args.seed, len(population), record["code_sha256"]):
            # resume; the draw of a smaller --n is the start of a larger one's (the same
            # random sequence), so a run stopped part-way can also be finished with less
            keep = set(drawn)
            record.update(baseline=old.get("baseline", {}),
                          mutants=[m for m in old.get("mutants", []) if m["name"] in keep])
            print(f"resuming: {len(record['mutants'])} of {args.n} mutants already run", flush=True)
    record["provenance"] = {
        "command": "python scripts/mutation_sample.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "git_commit": commit, "date_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": sys.version.split()[0], "cpu_count": os.cpu_count(),
        "mutmut": __import__("importlib.metadata").metadata.version("mutmut"),
    }
    modules = {n: n.split(".x_")[0].split(".xǁ")[0] for n in drawn}
    t_start = time.perf_counter()
    missing = [m for m in sorted(set(modules.values())) if m not in record["baseline"]]
    record.setdefault("deselected", {})

    def baseline(module):
        """The unmutated tests must pass. A test that fails only because mutmut rewrote the
        module's source (the chapter-equals-helper tests compare source text) is deselected
        for this module, and recorded; anything else stops the sample."""
        skip = []
        for _ in range(5):
            status, seconds, code, failed = run_tests(WORK, module, "", 1800, skip)
            if status == "survived":
                return module, seconds, skip, None
            test = failed.split()[1] if failed.startswith("FAILED ") else None
            if test is None or test in skip:
                return module, seconds, skip, f"{status}, exit {code}: {failed or 'no test named'}"
            skip.append(test)
        return module, seconds, skip, "more than 5 tests fail on the unmutated code"

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for future in as_completed([pool.submit(baseline, m) for m in missing]):
            module, seconds, skip, problem = future.result()
            if problem:  # the unmutated code must pass its tests
                print(f"FAIL: {TESTS[module]} do not pass on the unmutated {module} ({problem}); "
                      "fix that first", file=sys.stderr)
                return 2
            record["baseline"][module] = seconds
            record["deselected"][module] = skip
            print(f"baseline {module}: {seconds:.0f} s" + (f" (deselected: {', '.join(skip)})" if skip else ""),
                  flush=True)
            atomic_write_json(args.out, record)
    seen = {m["name"] for m in record["mutants"]}
    todo = [n for n in drawn if n not in seen]

    def one(name):
        module = modules[name]
        return name, module, run_tests(WORK, module, name, timeout=3 * record["baseline"][module] + 60,
                                       deselect=record["deselected"].get(module, ()))

    pool = ThreadPoolExecutor(max_workers=args.jobs)  # each job runs its tests in their own process
    try:
        for future in as_completed([pool.submit(one, n) for n in todo]):
            name, module, (status, seconds, code, failed) = future.result()
            record["mutants"].append({"name": name, "module": module, "status": status, "seconds": seconds,
                                      "exit_code": code, "failed": failed})
            record["mutants"].sort(key=lambda m: drawn.index(m["name"]))  # the draw's order, however run
            record["summary"] = summary(record)
            atomic_write_json(args.out, record)
            print(f"[{len(record['mutants'])}/{args.n}] {status:8s} {seconds:6.1f} s  {name}", flush=True)
    except BaseException:  # Ctrl-C: run no queued mutant; the finished ones are on disk
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    record["finished"] = True
    record["summary"] = summary(record)
    record["provenance"]["wall_seconds_this_run"] = round(time.perf_counter() - t_start, 1)
    atomic_write_json(args.out, record)
    s = record["summary"]
    print(f"\nsampled mutation score, helpers outside the gate: {s['killed']}/{s['drawn']} killed = "
          f"{s['rate']:.0%} (95 % Wilson interval {s['wilson95'][0]:.0%}-{s['wilson95'][1]:.0%}; "
          f"population {len(population):,} mutants)")
    survived = [m["name"] for m in record["mutants"] if m["status"] in ("survived", "error")]
    if survived:
        print("not killed (`mutmut show` needs ./mutants; the mutated source is in mutants-sample/):")
        for n in survived:
            print("  " + n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
