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


@pytest.mark.notebook
@pytest.mark.parametrize("name", ["01_dropout_in_one_cell", "04_circles", "05_cifar10"])
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
