"""The output comparison catches a changed result, and only timings are masked.

``make test`` re-executes every chapter and compares the outputs of its checked
cells with the committed ones; the last of them prints every glued value
(``helpers.book.glue_report``). Here a copy of a chapter whose committed report
says one glued number one unit higher in its last digit must fail the same
comparison; the unchanged copy must pass.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "notebooks" / "01_dropout_in_one_cell.ipynb"


def _report_cell(nb):
    cell = [c for c in nb["cells"] if c["cell_type"] == "code"][-1]
    assert "glue_report" in "".join(cell["source"])
    return cell


def _bump_last_digit(text: str) -> tuple[str, str]:
    """Add one unit in the last digit of the first compared number of the report."""
    for line in text.splitlines()[1:]:
        name, _, value = line.partition(": ")
        m = re.search(r"\d(?!.*\d)", value)
        if m and "not compared" not in value:
            digit = int(m.group())
            new_value = value[:m.start()] + str((digit + 1) % 10) + value[m.end():]
            return text.replace(line, f"{name}: {new_value}", 1), name
    raise AssertionError("no compared number in the report")


def _nbval(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "-p", "no:cacheprovider", "-q",
         "--nbval-sanitize-with", str(ROOT / "tests" / "nbval_sanitize.cfg"), str(path)],
        cwd=path.parent, capture_output=True, text=True, timeout=900)


@pytest.mark.notebook
def test_a_glued_number_changed_by_one_unit_fails_the_comparison(tmp_path):
    nb = json.loads(CHAPTER.read_text())
    cell = _report_cell(nb)
    out = cell["outputs"][0]
    text = "".join(out["text"])
    changed, name = _bump_last_digit(text)
    assert changed != text
    (tmp_path / "same.ipynb").write_text(json.dumps(nb))
    out["text"] = changed.splitlines(True)
    (tmp_path / "changed.ipynb").write_text(json.dumps(nb))
    same, bad = _nbval(tmp_path / "same.ipynb"), _nbval(tmp_path / "changed.ipynb")
    assert same.returncode == 0, same.stdout[-3000:]
    assert bad.returncode != 0 and name in bad.stdout, bad.stdout[-3000:]
