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
