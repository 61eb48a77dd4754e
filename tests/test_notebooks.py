"""Every notebook runs end to end with papermill in quick mode (only QUICK=True injected).

Quick mode is the notebook's own: the cell right after the ``parameters`` cell
reads ``QUICK`` and shrinks the run, so a reader who sets ``QUICK = True`` in
JupyterLab or Colab gets the same fast run as this test.
"""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
# These chapters' quick runs happen in tests/test_reader_paths.py, in a fresh
# Colab-like environment, with the same checks (check_quick_run): running them
# here as well would execute them twice.
RUN_AS_DOWNLOADS = ("01_dropout_in_one_cell", "04_circles", "05_cifar10")


def check_quick_run(out_path):
    """The output of a papermill run with QUICK=True: parameter injected, every cell run."""
    out = json.loads(Path(out_path).read_text())
    code = [c for c in out["cells"] if c["cell_type"] == "code"]
    injected = [c for c in code if "injected-parameters" in c.get("metadata", {}).get("tags", [])]
    assert injected and "QUICK = True" in "".join(injected[0]["source"])
    assert all(c.get("execution_count") for c in code), "quick run skipped cells"


def _code_cells(path):
    return [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_quick_is_read_right_after_the_parameters_cell(path):
    code = _code_cells(path)
    i = next(i for i, c in enumerate(code) if "parameters" in c.get("metadata", {}).get("tags", []))
    params = "".join(code[i]["source"])
    assert re.search(r"^QUICK = False\b", params, re.M), "parameters cell must hold QUICK = False"
    following = "".join(code[i + 1]["source"])
    assert re.search(r"^if QUICK:", following, re.M), "the cell after the parameters reads QUICK"
    # quick mode must change something the parameters cell sets
    def assigned(text, indent):
        found = set()
        for m in re.finditer(rf"^{indent}([A-Z_][A-Z0-9_]*(?:\s*,\s*[A-Z_][A-Z0-9_]*)*)\s*=(?!=)",
                             text, re.M):
            found |= {n.strip() for n in m.group(1).split(",")}
        return found

    names = assigned(params, "") - {"QUICK"}
    changed = assigned(following, r"\s+")
    assert names & changed or not names, f"QUICK changes none of {sorted(names)}"


def test_every_chapter_has_a_quick_run():
    here = {p.stem for p in NOTEBOOKS if p.stem not in RUN_AS_DOWNLOADS}
    from .test_reader_paths import DOWNLOADED

    assert set(DOWNLOADED) == set(RUN_AS_DOWNLOADS)
    assert here | set(DOWNLOADED) == {p.stem for p in NOTEBOOKS}


@pytest.mark.notebook
@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p.stem not in RUN_AS_DOWNLOADS],
                         ids=lambda p: p.stem)
def test_notebook_runs_quick(path, tmp_path):
    import papermill as pm

    out_path = tmp_path / path.name
    pm.execute_notebook(str(path), str(out_path), parameters={"QUICK": True},
                        cwd=str(path.parent), kernel_name="python3", progress_bar=False,
                        log_output=False)
    check_quick_run(out_path)
