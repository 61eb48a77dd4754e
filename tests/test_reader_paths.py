"""The paths readers take outside `make`: a notebook downloaded alone, in an
environment with only what Colab ships for this book (TensorFlow, Keras,
scikit-learn, matplotlib, pandas), installs the book itself and runs."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .test_notebooks import check_quick_run

ROOT = Path(__file__).resolve().parents[1]
COLAB_PACKAGES = ["tensorflow", "keras", "scikit-learn", "matplotlib", "pandas", "scipy",
                  "ipykernel", "papermill"]  # papermill only to run the notebook here


def test_every_notebook_has_the_current_install_cell():
    r = subprocess.run([sys.executable, "scripts/install_cell.py", "--check"], cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    version = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M)[1]
    cell = json.loads((ROOT / "notebooks" / "01_dropout_in_one_cell.ipynb").read_text())["cells"]
    first = next(c for c in cell if c["cell_type"] == "code")
    assert f'BOOK_REF = "v{version}"' in "".join(first["source"]), "install cell pins the release tag"
    assert "remove-cell" in first["metadata"]["tags"]


@pytest.fixture(scope="module")
def colab_like_python(tmp_path_factory):
    venv = tmp_path_factory.mktemp("colab") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    r = subprocess.run([str(py), "-m", "pip", "install", "-q", "-c", str(ROOT / "constraints.txt"),
                        *COLAB_PACKAGES], capture_output=True, text=True, timeout=1500)
    assert r.returncode == 0, r.stderr[-3000:]
    subprocess.run([str(py), "-m", "ipykernel", "install", "--prefix", str(venv), "--name", "colab-like"],
                   check=True, capture_output=True)
    r = subprocess.run([str(py), "-c", "import importlib.util as u; print(u.find_spec('helpers'))"],
                       capture_output=True, text=True)
    assert r.stdout.strip() == "None", "the fresh environment must not have the book installed"
    return py


DOWNLOADED = ["01_dropout_in_one_cell", "04_circles", "05_cifar10"]


@pytest.mark.notebook
@pytest.mark.parametrize("name", DOWNLOADED)
def test_downloaded_notebook_runs_in_a_colab_like_environment(colab_like_python, name, tmp_path,
                                                              cifar_pack):
    work = tmp_path / "downloads"
    work.mkdir()
    nb = work / f"{name}.ipynb"
    nb.write_text((ROOT / "notebooks" / f"{name}.ipynb").read_text())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DROPOUT_BOOK_ROOT", "VIRTUAL_ENV"))}
    env.update(DROPOUT_BOOK_SOURCE=str(ROOT), DROPOUT_BOOK_CIFAR10=str(cifar_pack),
               PATH=f"{colab_like_python.parent}:{env['PATH']}")
    r = subprocess.run([str(colab_like_python), "-m", "papermill", str(nb), str(work / "out.ipynb"),
                        "-k", "colab-like", "-p", "QUICK", "True", "--cwd", str(work)],
                       capture_output=True, text=True, env=env, timeout=1200)
    assert r.returncode == 0, r.stderr[-4000:]
    check_quick_run(work / "out.ipynb")  # this is these chapters' quick run (test_notebooks.py)


@pytest.mark.notebook
def test_binder_environment_and_postbuild(tmp_path):
    """What repo2docker does with .binder/: install requirements.txt (pinned by
    constraints.txt) into a fresh environment, run postBuild in the repository,
    then the notebooks import the book's helpers and find its results."""
    repo = tmp_path / "repo"
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")
    for f in filter(None, files):
        if (ROOT / f).is_file():
            (repo / f).parent.mkdir(parents=True, exist_ok=True)
            (repo / f).write_bytes((ROOT / f).read_bytes())
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    r = subprocess.run([str(py), "-m", "pip", "install", "-q", "-r", ".binder/requirements.txt"],
                       cwd=repo, capture_output=True, text=True, timeout=1500)
    assert r.returncode == 0, r.stderr[-3000:]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DROPOUT_BOOK_", "VIRTUAL_ENV"))}
    env["PATH"] = f"{venv / 'bin'}:{env['PATH']}"
    r = subprocess.run(["bash", ".binder/postBuild"], cwd=repo, env=env, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    probe = ("import helpers, json; from helpers.experiments import load_results; "
             "print(json.dumps([helpers.__file__, len(load_results())]))")
    r = subprocess.run([str(py), "-c", probe], cwd=repo / "notebooks", env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    path, n_results = json.loads(r.stdout.strip().splitlines()[-1])
    assert path.startswith(str(repo)), "helpers comes from the repository (editable install)"
    assert n_results >= 12, "the recorded CIFAR-10 results are found from the notebooks folder"
    r = subprocess.run([str(venv / "bin" / "jupyter"), "nbconvert", "--to", "notebook", "--execute",
                        "--output-dir", str(tmp_path), "notebooks/01_dropout_in_one_cell.ipynb"],
                       cwd=repo, env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
