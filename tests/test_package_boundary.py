"""The package boundary: build tools need no TensorFlow; helpers work outside the repo."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

BLOCK = textwrap.dedent("""
    import sys
    class _Block:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in {BLOCKED}:
                raise ImportError("blocked for this test: " + name)
    sys.meta_path.insert(0, _Block())
""")


def _run(code, blocked, cwd=ROOT, env=None):
    src = BLOCK.replace("{BLOCKED}", repr(set(blocked))) + textwrap.dedent(code)
    return subprocess.run([sys.executable, "-c", src], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env=env)


def test_build_scripts_import_no_tensorflow():
    code = """
        import runpy, sys
        sys.path.insert(0, "scripts")
        import booktools
        files = booktools.toc_files(".")
        assert files[0] == "book/intro", files
        nbs = [f for f in files if f.startswith("notebooks/")]
        assert nbs and all(booktools.notebook_seconds(f + ".ipynb") is not None for f in nbs)
        sys.argv = ["chapter_map.py", "--check"]
        try:
            runpy.run_path("scripts/chapter_map.py", run_name="__main__")
        except SystemExit:
            pass
        assert "tensorflow" not in sys.modules and "keras" not in sys.modules
        print("ok")
    """
    r = _run(code, {"tensorflow", "keras"})
    assert r.returncode == 0 and r.stdout.strip().endswith("ok"), r.stderr[-2000:]


def test_glue_without_myst_nb_returns_the_value(tmp_path):
    r = _run("""
        from helpers.book import glue
        assert glue("x", 0.5) == 0.5 and glue("s", "text") == "text"
        print("ok")
    """, {"myst_nb"}, cwd=tmp_path)
    assert r.returncode == 0 and "ok" in r.stdout, r.stderr[-2000:]


def test_results_are_found_from_a_clone_or_the_variable_and_refused_elsewhere(tmp_path):
    code = """
        from helpers.paths import ResultsNotFound, results_dir
        try:
            results_dir("cifar10")
            print("found", results_dir("cifar10"))
        except ResultsNotFound as e:
            print("refused:", e)
    """
    outside = _run(code, set(), cwd=tmp_path)
    assert "refused:" in outside.stdout and "DROPOUT_BOOK_ROOT" in outside.stdout, outside.stderr
    inside = _run(code, set(), cwd=ROOT / "notebooks")
    assert f"found {ROOT / 'results' / 'cifar10'}" in inside.stdout, inside.stderr
    env = {**__import__("os").environ, "DROPOUT_BOOK_ROOT": str(ROOT)}
    via_env = _run(code, set(), cwd=tmp_path, env=env)
    assert "found" in via_env.stdout, via_env.stderr


@pytest.mark.notebook
def test_a_notebook_copied_outside_the_repository_runs(tmp_path):
    """A reader downloads chapter 1 alone: it imports helpers and glues without the repo."""
    import papermill as pm

    src = ROOT / "notebooks" / "01_dropout_in_one_cell.ipynb"
    (tmp_path / src.name).write_text(src.read_text())
    out = tmp_path / "out.ipynb"
    pm.execute_notebook(str(tmp_path / src.name), str(out), parameters={"QUICK": True},
                        cwd=str(tmp_path), kernel_name="python3", progress_bar=False,
                        log_output=False)
    cells = json.loads(out.read_text())["cells"]
    glued = [o for c in cells for o in c.get("outputs", [])
             if "scrapbook" in json.dumps(o.get("metadata", {}))]
    assert glued, "no glued values in the copied notebook's outputs"
