"""scripts/execute_notebooks.py: parallel execution into Jupyter Book's cache.

Checks on a two-notebook toy book that a good notebook lands in the cache under
the key myst-nb's cache mode looks up (``match_cache_notebook``, the very call
myst-nb makes), that its outputs are stored, and that a failing notebook stops
the build with its name and error.
"""

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_cache import get_cache

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "execute_notebooks.py"


def _notebook(path: Path, *sources: str):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nbformat.write(nb, path)


def _book(tmp_path: Path, chapters: dict[str, tuple[str, ...]]) -> Path:
    (tmp_path / "intro.md").write_text("# Toy\n")
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nchapters:\n" + "".join(f"- file: {name}\n" for name in chapters))
    for name, sources in chapters.items():
        _notebook(tmp_path / f"{name}.ipynb", *sources)
    return tmp_path


def _run(book: Path):
    return subprocess.run([sys.executable, str(SCRIPT), "--root", str(book), "--jobs", "2"],
                          capture_output=True, text=True, timeout=300)


def test_good_notebooks_are_cached_where_myst_nb_looks_and_not_rerun(tmp_path):
    book = _book(tmp_path, {"a": ("print(6 * 7)",), "b": ("x = 2", "x + 1")})
    first = _run(book)
    assert first.returncode == 0, first.stderr
    cache = get_cache(str(book / "_build" / ".jupyter_cache"))
    for name, expected in (("a", "42"), ("b", "3")):
        nb = nbformat.read(book / f"{name}.ipynb", as_version=4)
        assert cache.match_cache_notebook(nb) is not None
        _, merged = cache.merge_match_into_notebook(nb)
        outputs = merged.cells[-1].outputs
        assert expected in (outputs[0].get("text") or outputs[0]["data"]["text/plain"])
    second = _run(book)
    assert second.returncode == 0, second.stderr
    assert second.stdout.count("[cached ]") == 2 and "executing" not in second.stdout


def test_a_failing_notebook_fails_the_build_with_its_name_and_error(tmp_path):
    book = _book(tmp_path, {"good": ("1 + 1",), "bad": ("raise ValueError('broken on purpose')",)})
    result = _run(book)
    assert result.returncode == 1
    assert "[FAILED ] bad.ipynb" in result.stderr and "broken on purpose" in result.stderr
    assert "1 notebook(s) failed: bad.ipynb" in result.stderr
    cache = get_cache(str(book / "_build" / ".jupyter_cache"))
    assert cache.match_cache_notebook(nbformat.read(book / "good.ipynb", as_version=4)) is not None
    with pytest.raises(KeyError):
        cache.match_cache_notebook(nbformat.read(book / "bad.ipynb", as_version=4))
