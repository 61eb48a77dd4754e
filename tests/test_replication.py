"""Claims that replicate: the registry (helpers.claims), the replication
command (helpers.replicate), its recorded table, and a quick replication on
seeds neither the book nor the recorded replication used."""

import dataclasses
import json
import os
import re
from pathlib import Path

import pytest

from helpers import claims, replicate, stats

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "notebooks" / "04_circles.ipynb"
RECORDED = ROOT / "results" / "replication" / "circles.json"
CI_SEEDS = range(2000, 2006)  # unseen by the book (0-29) and the recording


# --- seed ranges ---------------------------------------------------------------

@pytest.mark.parametrize("text, seeds", [
    ("1000-1029", list(range(1000, 1030))),
    ("7", [7]),
    ("0-2,5, 9-10", [0, 1, 2, 5, 9, 10]),
    (" 3 - 4 ", [3, 4]),
])
def test_parse_seeds(text, seeds):
    assert replicate.parse_seeds(text) == seeds
    assert replicate.parse_seeds(replicate.format_seeds(seeds)) == seeds


@pytest.mark.parametrize("text", ["", " ", "-3", "5-", "a-b", "10-2", "1,1", "0-3,2",
                                  "1.5", "1--2", "1-2-3"])
def test_parse_seeds_refuses(text):
    with pytest.raises(ValueError, match="seeds"):
        replicate.parse_seeds(text)


def test_format_seeds():
    assert replicate.format_seeds(range(0, 30)) == "0-29"
    assert replicate.format_seeds([5, 0, 1, 3]) == "0-1,3,5"


# --- the registry ----------------------------------------------------------------

CIRCLES = [c.name for c in claims.CLAIMS if c.study == "circles"]


def test_registry_entries_are_complete():
    names = [c.name for c in claims.CLAIMS]
    assert len(names) == len(set(names)) and len(names) >= 3
    assert not set(names) & set(claims.STUDIES), "a claim named like a study"
    for c in claims.CLAIMS:
        assert c.verdict in stats.VERDICTS[:3], c.name
        assert (ROOT / "notebooks" / f"{c.chapter}.ipynb").is_file(), c.name
        assert c.study in claims.STUDIES and claims.STUDIES[c.study].chapter == c.chapter
        assert callable(c.run) and c.description
        assert c.glue_form in claims.GLUE_FORMS
        assert (c.label is not None) == (c.glue_form in ("grouped", "listed")), c.name
    assert all(callable(c.requests) for c in claims.CLAIMS if c.study == "circles")
    assert claims.get("circles-dropout").verdict == "higher"
    with pytest.raises(KeyError, match="no claim"):
        claims.get("nonsense")


@pytest.mark.parametrize("stated, observed, expected", [
    ("higher", "higher", "holds"),
    ("higher", "lower", "flips"),
    ("higher", "within seed noise", "not confirmed"),
    ("lower", "higher", "flips"),
    ("within seed noise", "within seed noise", "holds"),
    ("within seed noise", "lower", "flips"),
    ("higher", "needs two seeds per side", "too few seeds"),
])
def test_outcome(stated, observed, expected):
    assert claims.outcome(stated, observed) == expected


def test_outcome_refuses_unknown_verdicts():
    with pytest.raises(ValueError):
        claims.outcome("better", "higher")
    with pytest.raises(ValueError):
        claims.outcome("needs two seeds per side", "higher")


def _chapter_cells():
    return json.loads(CHAPTER.read_text())["cells"]


def test_registry_uses_the_chapters_seeds_and_the_chapter_uses_the_registry():
    cells = _chapter_cells()
    params = next(c for c in cells if "parameters" in c["metadata"].get("tags", []))
    ns: dict = {}
    exec("".join(params["source"]), ns)
    seed, n, ext = ns["SEED"], ns["N_SEEDS"], ns["EXT_SEEDS"]
    assert ns["EPOCHS"] == claims.CIRCLES_EPOCHS
    expected = {"circles-dropout": range(seed, seed + n),
                "circles-input-dropout": range(seed, seed + ext),
                "circles-max-norm": range(seed, seed + ext)}
    for name, seeds in expected.items():
        assert claims.get(name).book_seeds == seeds, name
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    for c in claims.CLAIMS:
        if c.chapter == CHAPTER.stem:  # computed through the registry, glued
            assert re.search(rf'claims\.estimate\((\s*#.*)?\s*"{c.name}"', code), c.name
            assert f'glue("{c.glue}"' in code, c.glue
    # the exercises' solutions (after "## Exercises") compare other configurations
    end = next(i for i, c in enumerate(cells) if c["cell_type"] == "markdown"
               and re.search(r"^## Exercises$", "".join(c["source"]), re.M))
    page = "\n".join("".join(c["source"]) for c in cells[:end] if c["cell_type"] == "code")
    assert "study.paired(" not in page, "a second copy of a registry comparison"


def test_book_requests_are_the_chapters_batch():
    # The chapter trains, in one batch: no dropout and Dropout(0.4) on 30
    # seeds, then input dropout and max-norm on 10 (its seed-study cell).
    from helpers.studies.circles import CONFIGS, _key

    todo = []
    for kwargs, seeds in claims.book_requests("circles"):
        todo += [_key(kwargs, s) for s in seeds if _key(kwargs, s) not in todo]
    chapter = [_key(CONFIGS[name], s) for name, n in [
        ("no dropout", 30), ("Dropout(0.4)", 30),
        ("input Dropout(0.1) + Dropout(0.4)", 10),
        ("Dropout(0.4) + MaxNorm(0.5)", 10)] for s in range(n)]
    assert todo == chapter


# --- the table: atomic, merged ----------------------------------------------------

def _entry(name, verdict="higher", outcome="holds"):
    return {"name": name, "study": "circles", "stated_verdict": verdict, "outcome": outcome,
            "replication": {"n": 3, "text": "+0.010 (...): higher"}}


def test_write_table_merges_and_leaves_no_temporary_file(tmp_path):
    prov = {"command": "test"}
    replicate.write_table(tmp_path, {"circles-max-norm": _entry("circles-max-norm")}, prov)
    replicate.write_table(tmp_path, {"circles-dropout": _entry("circles-dropout")}, prov)
    table = json.loads((tmp_path / "circles.json").read_text())
    assert list(table["claims"]) == ["circles-dropout", "circles-max-norm"]  # registry order
    assert table["claims"]["circles-dropout"]["provenance"] == prov
    assert os.listdir(tmp_path) == ["circles.json"]
    assert replicate.load_table("circles", tmp_path) == table["claims"]
    assert replicate.load_table("circles", tmp_path / "absent") == {}


def test_a_failed_write_keeps_the_old_table(tmp_path, monkeypatch):
    import helpers._io as io

    replicate.write_table(tmp_path, {"circles-dropout": _entry("circles-dropout")}, {})
    before = (tmp_path / "circles.json").read_bytes()

    def crash(*args):
        raise OSError("disk full")

    monkeypatch.setattr(io.os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        replicate.write_table(tmp_path, {"circles-max-norm": _entry("circles-max-norm")}, {})
    assert (tmp_path / "circles.json").read_bytes() == before
    assert os.listdir(tmp_path) == ["circles.json"]


def test_sentence():
    e = _entry("circles-dropout")
    assert replicate.sentence(e) == ("replicated on 3 unseen seeds: +0.010 (...): higher; "
                                     "the verdict holds")
    assert replicate.sentence(None).startswith("not replicated yet")


def test_command_line_writes_the_table_and_fails_on_a_flip(tmp_path, monkeypatch, capsys):
    flipped = _entry("circles-dropout", outcome="flips")
    flipped.update(chapter="04_circles", description="d",
                   replication={**flipped["replication"], "seeds": "1000-1002"})
    seen = {}

    def fake(names, seeds, book, verbose):
        seen.update(names=names, seeds=seeds, book=book)
        return {"circles-dropout": flipped}

    monkeypatch.setattr(replicate, "replicate", fake)
    monkeypatch.setattr(replicate, "provenance", lambda command: {"command": command})
    rc = replicate.main(["--claims", "circles-dropout", "--seeds", "1000-1002",
                         "--out", str(tmp_path), "--no-book"])
    assert rc == 1
    assert seen == {"names": ["circles-dropout"], "seeds": [1000, 1001, 1002], "book": False}
    table = json.loads((tmp_path / "circles.json").read_text())
    assert table["claims"]["circles-dropout"]["provenance"]["command"] == (
        "python -m helpers.replicate --claims circles-dropout --seeds 1000-1002 "
        f"--out {tmp_path} --no-book")
    assert replicate.main(["--seeds", "9-1", "--out", str(tmp_path)]) == 2
    assert "runs backwards" in capsys.readouterr().err


def test_replication_refuses_the_books_own_seeds():
    with pytest.raises(ValueError, match="book's own"):
        replicate.replicate(["circles-max-norm"], seeds=[5, 1000], book=False)


# --- the recorded replication -------------------------------------------------------

def _glue_report():
    last = [c for c in _chapter_cells() if c["cell_type"] == "code"][-1]
    text = "".join("".join(o.get("text", "")) for o in last["outputs"])
    return dict(ln.split(": ", 1) for ln in text.splitlines()[1:] if ": " in ln)


def test_recorded_table_is_complete_and_consistent():
    table = json.loads(RECORDED.read_text())
    assert table["study"] == "circles"
    report = _glue_report()
    for c in claims.of_study("circles"):
        e = table["claims"][c.name]
        rep, book = e["replication"], e["book"]
        seeds = replicate.parse_seeds(rep["seeds"])
        assert not set(seeds) & set(c.book_seeds), "replicated on the book's own seeds"
        assert rep["n"] == len(seeds) == len(rep["left_values"]) == len(rep["right_values"])
        assert rep["mask_seed"] != 0, "the replication reused the book's dropout masks"
        again = stats.compare(rep["left_values"], rep["right_values"], paired=True)
        assert stats.describe_comparison(again) == rep["text"]
        assert e["stated_verdict"] == c.verdict
        assert e["outcome"] == claims.outcome(c.verdict, again["verdict"])
        assert e["epochs"] == claims.CIRCLES_EPOCHS
        # the book's estimate, recomputed by the command, is the chapter's
        assert book["seeds"] == replicate.format_seeds(c.book_seeds)
        assert report[c.glue] == book["text"], c.name
        prov = e["provenance"]
        assert prov["command"].startswith("python -m helpers.replicate")
        assert prov["git_commit"] and prov["date_utc"] and prov["device"]["device"]
        assert {"python", "tensorflow", "keras", "numpy"} <= set(prov["versions"])


# --- a quick replication (CI): 6 unseen seeds, full training, batched --------------

@pytest.fixture(scope="module")
def quick():
    runs = claims.circles_runs(mask_seed=CI_SEEDS[0])
    entries = replicate.replicate(["circles"], seeds=CI_SEEDS, book=False, runs=runs)
    return entries, runs


def test_no_stated_verdict_flips_on_unseen_seeds(quick):
    entries, _ = quick
    assert set(entries) == set(CIRCLES)
    flips = {n: e["replication"]["text"] for n, e in entries.items() if e["outcome"] == "flips"}
    assert not flips, f"stated verdicts flip on seeds {replicate.format_seeds(CI_SEEDS)}: {flips}"
    for e in entries.values():
        assert e["replication"]["n"] == len(CI_SEEDS)
        assert e["outcome"] in claims.OUTCOMES


def test_a_flipped_stated_verdict_is_caught(quick, monkeypatch):
    _, runs = quick
    name = "circles-input-dropout"  # stated "lower", by a wide margin
    registry = [dataclasses.replace(c, verdict="higher") if c.name == name else c
                for c in claims.CLAIMS]
    monkeypatch.setattr(claims, "CLAIMS", registry)
    trained = runs.trained
    entries = replicate.replicate([name], seeds=CI_SEEDS, book=False, runs=runs)
    assert runs.trained == trained  # the same models, only the stated verdict differs
    assert entries[name]["stated_verdict"] == "higher"
    assert entries[name]["outcome"] == "flips"


# --- CIFAR-10: the recorded seeds against each other ---------------------------

def test_seeds_needed_known_values():
    from helpers.replicate import seeds_needed

    # mean 1, sd 1: t(5) / sqrt(6) = 1.05 > 1, t(6) / sqrt(7) = 0.925 < 1
    assert seeds_needed([0.0, 1.0, 2.0]) == 7
    assert seeds_needed([1.0, 1.0, 1.0]) == 2  # no spread at all
    assert seeds_needed([-1.0, 1.0]) is None  # mean zero
    assert seeds_needed([0.1, 0.3, 0.2], level=0.95) == 4  # t(3) * 0.1 / 2 < 0.2
    assert seeds_needed([0.2, 0.21, 0.19]) == 2  # tiny spread
    with pytest.raises(ValueError, match="two seeds"):
        seeds_needed([1.0])


def _summary(accs: dict):
    return {c: {"seed_list": [0, 1, 2], "test_accuracies": v} for c, v in accs.items()}


def test_leave_one_seed_out_on_made_up_results():
    from helpers.replicate import leave_one_seed_out, loo_sentence

    s = _summary({"a": [0.60, 0.61, 0.62], "b": [0.70, 0.72, 0.69], "c": [0.70, 0.70, 0.71]})
    out = leave_one_seed_out(s, [("a", "b", "dropout"), ("b", "c", "nothing")])
    ab, bc = out["cifar10-a-b"], out["cifar10-b-c"]
    assert [r["held_out"] for r in ab["leave_one_out"]] == [0, 1, 2]
    assert ab["agree"] == 3 and ab["book"]["verdict"] == "higher"
    assert ab["leave_one_out"][0]["rest_diff"] == pytest.approx((0.11 + 0.07) / 2)
    # b -> c: differences 0.00, -0.02, +0.02: no held-out seed agrees in sign
    assert bc["agree"] == 0 and bc["seeds_needed"] is None
    assert "each of the 3 seeds" in loo_sentence(ab) and "already separate" in loo_sentence(ab)
    assert "0 of 3 held-out seeds differ in" in loo_sentence(bc)
    assert "not re-tested" in loo_sentence(None)
    with pytest.raises(ValueError, match="same recorded seeds"):
        leave_one_seed_out({**s, "b": {"seed_list": [0, 1, 3], "test_accuracies": [0.7] * 3}},
                           [("a", "b", "x")])
    with pytest.raises(ValueError, match="3 or more"):
        leave_one_seed_out({c: {"seed_list": [0, 1], "test_accuracies": [0.5, 0.6]}
                            for c in "ab"}, [("a", "b", "x")])


def test_recorded_cifar_table_matches_the_committed_results():
    """results/replication/cifar10.json is what the committed runs give now."""
    from helpers.experiments import load_results, summarize_results
    from helpers.replicate import leave_one_seed_out, load_table

    table = load_table("cifar10")
    fresh = leave_one_seed_out(summarize_results(load_results().values()))
    assert set(table) == set(fresh)
    for name, entry in fresh.items():
        rec = table[name]
        for key in ("agree", "held_out_count", "seeds_needed", "seeds"):
            assert rec[key] == entry[key], (name, key)
        assert rec["book"]["text"] == entry["book"]["text"]
        assert rec["provenance"]["command"] == "python -m helpers.replicate --cifar10"
