"""Every notebook runs end to end with papermill at its quick parameters."""

import json
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

# Quick values injected by the tests (the notebooks' defaults give the book's results).
QUICK_PARAMETERS = {
    "01_dropout_in_one_cell": {"QUICK": True},
    "02_theory": {"QUICK": True, "EPOCHS": 300, "N_DRAWS": 20_000},
    "03_keras_api": {"QUICK": True, "EPOCHS": 2},
    "04_circles": {"QUICK": True, "EPOCHS": 200, "N_SEEDS": 3, "GRID_RATES": [0.0, 0.5], "GRID_SEEDS": 2,
                   "CHECK_EPOCHS": 20},
    "05_cifar10": {"QUICK": True, "LIVE_TRAIN_SAMPLES": 500, "LIVE_EPOCHS": 2},
    "06_beyond": {"QUICK": True, "EPOCHS": 200, "MC_PASSES": 50, "GRID": 12, "N_SEEDS": 2, "REG_EPOCHS": 200,
                  "AE_EPOCHS": 30, "WIDTHS": [4, 8], "DIGITS_EPOCHS": 30, "DATA_SIZES": [50, 100],
                  "SIZE_EPOCHS": 30, "BN_EPOCHS": 5},
}


def _parameter_names(path):
    nb = json.loads(path.read_text())
    cell = next(c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", []))
    names = set()
    for line in "".join(cell["source"]).splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            names.add(line.split("=")[0].strip())
    return names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_quick_parameters_exist(path):
    assert path.stem in QUICK_PARAMETERS, f"add quick parameters for {path.name}"
    unknown = set(QUICK_PARAMETERS[path.stem]) - _parameter_names(path)
    assert not unknown, f"quick parameters not in the notebook's parameters cell: {unknown}"


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_quick(path, tmp_path):
    import papermill as pm

    start = time.perf_counter()
    pm.execute_notebook(str(path), str(tmp_path / path.name), parameters=QUICK_PARAMETERS[path.stem],
                        cwd=str(path.parent), kernel_name="python3", progress_bar=False,
                        log_output=False)
    out = json.loads((tmp_path / path.name).read_text())
    errors = [o for c in out["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert not errors
    print(f"{path.stem}: {time.perf_counter() - start:.1f} s in quick mode")
