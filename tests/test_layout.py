"""The book's structure: TOC vs files, notebook conventions, committed outputs."""

import json
import re
from pathlib import Path

import pytest
from booktools import toc_files

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _toc_files():
    return toc_files(ROOT)


def test_every_notebook_in_toc_and_every_entry_exists():
    entries = _toc_files()
    listed = {e for e in entries if e.startswith("notebooks/")}
    present = {f"notebooks/{p.stem}" for p in NOTEBOOKS}
    assert present, "no notebooks found"
    assert present - listed == set(), "notebooks missing from _toc.yml"
    assert listed - present == set(), "_toc.yml lists notebooks that do not exist"
    for e in entries:
        assert list(ROOT.glob(e + ".*")), f"_toc.yml entry {e} has no file"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_conventions(path):
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    params = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1, "exactly one cell tagged 'parameters'"
    assert re.search(r"^QUICK = False", "".join(params[0]["source"]), re.M), "QUICK flag, off by default"
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    # committed executed, in order, with no errors and no progress-bar spam
    counts = [c["execution_count"] for c in code]
    assert all(counts), "notebook is not fully executed: run `make notebooks`"
    assert counts == sorted(counts), "cells were executed out of order"
    for c in code:
        for out in c.get("outputs", []):
            assert out["output_type"] != "error", f"error output in {path.name}"
            text = "".join(out.get("text", ""))
            assert "━━━━" not in text and not re.search(r"Epoch \d+/\d+", text), "Keras progress bar in outputs"
            assert "Traceback" not in text
    assert any("NBVAL_CHECK_OUTPUT" in "".join(c["source"]) for c in code), "no nbval-checked cell"


HIDDEN = {"hide-input", "remove-input", "remove-cell", "hide-cell"}


def _tags(cell):
    return set(cell.get("metadata", {}).get("tags", []))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_reader_view(path):
    """Teach in the open: structure, short visible cells, captioned figures, no harness words."""
    cells = json.loads(path.read_text())["cells"]
    md = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    assert "What you will learn" in md, "the chapter opens with what you will learn"
    assert re.search(r"^## Key points", md, re.M), "the chapter closes with '## Key points'"
    assert not re.search(r"nbval|test suite|NBVAL", md, re.I), "test-harness words in the prose"
    assert not re.search(r"^# \d", md, re.M), "chapter numbers come from the TOC, not the title"
    for i, c in enumerate(cells):
        if c["cell_type"] != "code":
            continue
        src = "".join(c["source"])
        assert not re.search(r"\bplt\.(subplots|figure)\(", src), \
            f"cell {i}: figures come from helpers.plotting (one style), not plt.subplots"
        assert not re.search(r"['\"]#[0-9a-fA-F]{6}['\"]", src), \
            f"cell {i}: colours come from helpers.plotting.style, not literals"
        assert "display=False" not in src, f"cell {i}: glue() does not display by default"
        long_lines = [ln for ln in src.splitlines() if len(ln) > 79]
        assert not long_lines, f"cell {i}: lines over 79 characters: {long_lines[:2]}"
        if not _tags(c) & HIDDEN:
            n = len(src.splitlines())
            assert n <= 30, f"cell {i}: a visible cell of {n} lines (hide plumbing or move it)"
        images = [o for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
        if images:
            assert len(images) == 1, f"cell {i}: one figure per cell"
            meta = c.get("metadata", {}).get("mystnb", {})
            fig = meta.get("figure", {})
            assert fig.get("caption") and fig.get("name", "").startswith("fig-"), \
                f"cell {i}: a figure needs a numbered caption (mystnb.figure caption + name)"
            assert meta.get("image", {}).get("alt"), f"cell {i}: a figure needs alt text"


def _sanitizers():
    import configparser

    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "tests" / "nbval_sanitize.cfg")
    return [(re.compile(cfg[s]["regex"]), cfg[s]["replace"]) for s in cfg.sections()]


def _checked_cells(path):
    cells = json.loads(path.read_text())["cells"]
    return [c for c in cells if c["cell_type"] == "code"
            and "".join(c["source"]).lstrip().startswith("# NBVAL_CHECK_OUTPUT")]


def _text_output(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        parts.append("".join(out.get("text", "")))
        parts.append("".join(out.get("data", {}).get("text/plain", "")))
    return "".join(parts)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_checked_cells_show_computed_numbers(path):
    """Each nbval-checked cell shows a result that the sanitizers leave in
    place and that its own source does not contain (not a printed constant):
    a number, or the outcome of a check (True/False, a verdict)."""
    subs = _sanitizers()
    for cell in _checked_cells(path):
        src = "".join(cell["source"])
        text = _text_output(cell)
        for rx, rep in subs:
            text = rx.sub(rep, text)
        tokens = set(re.findall(r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?|\b(?:True|False|"
                                r"higher|lower|within seed noise|warns|fails|runs)\b", text))
        printed = re.sub(r"=\s*(True|False)\b", "=", src)  # a keyword argument is not a print
        computed = {t for t in tokens if t not in printed}
        assert computed, (f"{path.name}: the checked cell starting {src.splitlines()[1]!r} "
                          f"shows no computed number (output: {text[:200]!r})")


GLUE_REF = re.compile(r"\{glue(?::\w*)?\}`([\w.-]+)`")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_glued_value_is_under_output_comparison(path):
    """The chapter's last code cell prints helpers.book.glue_report() and is
    checked, and its committed output lists every value the prose uses."""
    cells = json.loads(path.read_text())["cells"]
    last = [c for c in cells if c["cell_type"] == "code"][-1]
    src = "".join(last["source"])
    assert src.startswith("# NBVAL_CHECK_OUTPUT") and "print(glue_report())" in src, \
        "the last code cell prints glue_report() under # NBVAL_CHECK_OUTPUT"
    report = _text_output(last)
    listed = dict(line.split(": ", 1) for line in report.splitlines()[1:] if ": " in line)
    used = {m.group(1) for c in cells if c["cell_type"] == "markdown"
            for m in GLUE_REF.finditer("".join(c["source"]))}
    assert used, "the prose uses no glued value"
    missing = sorted(used - set(listed))
    assert not missing, f"glued values the report does not list: {missing[:5]}"


EXERCISE = re.compile(r"^```\{exercise\}[^\n]*\n:label: (ex-\d\d-\d+)\n", re.M)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_exercises_with_hidden_executable_solutions(path):
    """Each chapter ends with 2-4 sphinx-exercise exercises after its key points;
    each solution is a dropdown (hidden by default) around code cells that nbval
    runs with the chapter, and that print what they found."""
    cells = json.loads(path.read_text())["cells"]
    text = ["".join(c["source"]) for c in cells]
    md = [i for i, c in enumerate(cells) if c["cell_type"] == "markdown"]
    heads = [i for i in md if re.search(r"^## Exercises$", text[i], re.M)]
    key = [i for i in md if re.search(r"^## Key points$", text[i], re.M)]
    assert len(heads) == 1 and key and heads[0] > key[-1], "one '## Exercises' after '## Key points'"
    titles = [t for i in md for t in re.findall(r"^```\{exercise\}(.*)$", text[i], re.M)]
    # sphinx-exercise 1.2 fails to register an exercise whose title holds `code`
    # (its solution then reports "undefined label"): plain words in titles
    assert not any("`" in t for t in titles), titles
    labels = [(i, m) for i in md for m in EXERCISE.findall(text[i])]
    number = path.stem[:2]
    assert 2 <= len(labels) <= 4, f"{len(labels)} exercises (2-4 expected)"
    assert [m for _, m in labels] == [f"ex-{number}-{k}" for k in range(1, len(labels) + 1)]
    assert labels[0][0] == heads[0]
    for (i, label), nxt in zip(labels, [j for j, _ in labels[1:]] + [len(cells) - 1], strict=True):
        start = i + 1
        assert text[start].strip() == f"```{{solution-start}} {label}\n:class: dropdown\n```", label
        end = next(j for j in range(start, nxt) if text[j].strip() == "```{solution-end}\n```")
        body = cells[start + 1:end]
        assert body and all(c["cell_type"] == "code" for c in body), f"{label}: no solution code"
        for c in body:
            assert not _tags(c) & HIDDEN, f"{label}: the dropdown hides the solution, not a tag"
            assert c["execution_count"], f"{label}: solution not executed"
            shown = "".join("".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", ""))
                            for o in c.get("outputs", []))
            assert shown.strip(), f"{label}: the solution shows no result"
    assert cells[-1]["cell_type"] == "code" and "glue_report" in text[-1], "the report cell stays last"
