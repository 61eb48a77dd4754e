"""The sampled mutation score (scripts/mutation_sample.py): its statistics, and the
committed record that `make mutation` folds into the package's score."""

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

sys.path.insert(0, str(ROOT / "scripts"))
import mutation_sample as ms  # noqa: E402
import mutation_score  # noqa: E402


def test_wilson_interval_known_values():
    lo, hi = ms.wilson(10, 10)
    assert (round(lo, 4), hi) == (0.7225, 1.0)  # the textbook 10-out-of-10 bound
    lo, hi = ms.wilson(5, 10)
    assert lo == pytest.approx(1 - hi) and round(lo, 4) == 0.2366
    assert ms.wilson(0, 0) == (0.0, 1.0)


def test_summary_counts_timeouts_as_killed_and_errors_as_not():
    rec = {"mutants": [{"status": s} for s in ("killed", "killed", "timeout", "survived", "error")]}
    s = ms.summary(rec)
    assert (s["drawn"], s["killed"], s["rate"]) == (5, 3, 0.6)
    assert s["by_status"] == {"killed": 2, "timeout": 1, "survived": 1, "error": 1}


def test_every_sampled_module_has_tests_and_a_source_file():
    for module, tests in ms.TESTS.items():
        assert (ROOT / ms.module_path(module)).is_file(), module
        assert tests and all((ROOT / t).is_file() for t in tests), module
        assert not module.startswith("helpers.plotting")


def test_whole_package_score_adds_the_gate_and_the_sample(tmp_path, capsys):
    sample = {"finished": True, "population": 300, "summary": {"drawn": 10, "killed": 8, "rate": 0.8,
                                                                 "wilson95": [0.5, 0.95]},
              "provenance": {"git_commit": "abcdef0123", "date_utc": "2026-11-30T00:00:00+00:00"}}
    path = tmp_path / "sample.json"
    try:
        path.write_text(json.dumps(sample))
        results = {f"m{i}": "killed" for i in range(90)} | {f"s{i}": "survived" for i in range(10)}
        est = mutation_score.whole_package(results, {"s0": "equivalent"}, path)
    finally:
        path.unlink(missing_ok=True)
    # (91 + 0.8 x 300) / 400
    assert est["rate"] == pytest.approx(331 / 400) and est["low"] == pytest.approx(241 / 400)
    out = capsys.readouterr().out
    assert "8/10 drawn mutants killed = 80.0%" in out and "estimated score 82.8%" in out
    sample["finished"] = False
    try:
        path.write_text(json.dumps(sample))
        assert mutation_score.whole_package(results, {}, path) is None
    finally:
        path.unlink(missing_ok=True)


def test_the_committed_sample_is_complete_and_consistent():
    path = ROOT / "results" / "mutation" / "sample.json"
    assert path.is_file(), "no results/mutation/sample.json: run `make mutation-sample` and commit it"
    rec = json.loads(path.read_text())
    assert rec["finished"] is True and len(rec["mutants"]) == rec["n"]
    names = [m["name"] for m in rec["mutants"]]
    assert len(set(names)) == len(names)
    for m in rec["mutants"]:
        assert m["status"] in ("killed", "timeout", "survived", "error"), m
        assert m["module"] in ms.TESTS and m["name"].startswith(m["module"] + ".x"), m
        assert not mutation_score.in_scope(m["name"]), f"{m['name']} is scored by the gate, not sampled"
        assert m["seconds"] > 0
    assert rec["summary"] == ms.summary(rec)
    assert rec["code_sha256"] and all("failed" in m for m in rec["mutants"])
    assert sum(rec["population_by_module"].values()) == rec["population"]
    assert set(rec["baseline"]) >= {m["module"] for m in rec["mutants"]}
    prov = rec["provenance"]
    assert not prov["git_commit"].endswith("+dirty") and prov["command"].startswith("python scripts/")


def test_a_smaller_draw_is_the_start_of_a_larger_one():
    population = [f"m{i}" for i in range(18000)]
    import random

    assert random.Random(0).sample(population, 50)[:30] == random.Random(0).sample(population, 30)


def test_run_tests_classifies_outcomes(tmp_path, monkeypatch):
    """A passing test file: survived; a failing one: killed, naming the test; one that
    hangs: timeout (its process group killed); one pytest cannot collect: error."""
    (tmp_path / "src").mkdir()
    bodies = {"passes": "def test_a():\n    assert True\n",
              "fails": "def test_a():\n    assert True\n\ndef test_b():\n    assert False\n",
              "hangs": "import time\n\ndef test_a():\n    time.sleep(60)\n",
              "broken": "def test_a(:\n"}
    for name, body in bodies.items():
        (tmp_path / f"test_{name}.py").write_text(body)
    monkeypatch.setattr(ms, "TESTS", {f"m.{n}": [f"test_{n}.py"] for n in bodies})
    assert ms.run_tests(tmp_path, "m.passes", "", 60)[0] == "survived"
    status, _, code, failed = ms.run_tests(tmp_path, "m.fails", "", 60)
    assert (status, code) == ("killed", 1) and failed.startswith("FAILED test_fails.py::test_b")
    status, seconds, code, _ = ms.run_tests(tmp_path, "m.hangs", "", 5)
    assert (status, code) == ("timeout", None) and seconds < 30
    assert ms.run_tests(tmp_path, "m.broken", "", 60)[:3:2] == ("error", 2)


def test_excluded_modules_say_why_and_are_not_drawn():
    for module, why in ms.EXCLUDED.items():
        assert module in ms.TESTS and len(why) > 40
    path = ROOT / "results" / "mutation" / "sample.json"
    rec = json.loads(path.read_text())
    assert set(rec["excluded"]) == set(ms.EXCLUDED)
    assert not any(m["module"] in ms.EXCLUDED for m in rec["mutants"])
    assert not set(rec["population_by_module"]) & set(ms.EXCLUDED)
