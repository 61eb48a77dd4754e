import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))  # booktools: the build utilities (no TensorFlow)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def pytest_configure(config):
    config.addinivalue_line("markers", "notebook: executes a notebook end to end (slow)")


@pytest.fixture(scope="session")
def root():
    return ROOT


@pytest.fixture(scope="session")
def cifar_pack():
    """The offline CIFAR-10 pack, or a skip that says how to provide it."""
    from helpers.data import find_cifar10_pack

    pack = find_cifar10_pack()
    if pack is None:
        msg = ("no CIFAR-10 pack: set DROPOUT_BOOK_CIFAR10=/path/to/cifar10-jpeg.npz "
               "(.ci/run points it at ../shared/data) or put it at data/cifar10-jpeg.npz")
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(msg + " -- in CI this is an error, not a skip")
        pytest.skip(msg)
    return pack


#: Seconds each slow unit of `make test` takes on the 2-core reference machine
#: (pytest --durations=0, 2026-11-30; files for tests, whole notebooks for nbval).
#: `make test` runs two workers that take whole files (--dist loadfile) in collection
#: order; starting the longest first (longest-processing-time scheduling) keeps one
#: worker from idling at the end while the other finishes a two-minute chapter.
#: Stale figures only cost balance, never a check; tests/test_repo_meta.py keeps
#: every name here pointing at a file that exists.
SLOW_UNITS = {
    "tests/test_reader_paths.py": 184,
    "tests/test_notebooks.py": 171,
    "notebooks/07_inside_the_network.ipynb": 148,
    "notebooks/12_tuning.ipynb": 145,
    "notebooks/05_cifar10.ipynb": 103,
    "notebooks/03_keras_api.ipynb": 68,
    "notebooks/09_modern_architectures.ipynb": 60,
    "notebooks/04_circles.ipynb": 60,
    "notebooks/10_regularisers.ipynb": 58,
    "tests/test_claims_chapters.py": 50,
    "notebooks/06_ensembles_uncertainty.ipynb": 40,
    "tests/test_fastfit.py": 38,
    "tests/test_batched.py": 45,
    "tests/test_tune.py": 30,
    "tests/test_package_boundary.py": 25,
    "notebooks/08_pitfalls.ipynb": 24,
    "notebooks/11_calibration.ipynb": 21,
}


def pytest_collection_modifyitems(config, items):
    """Slowest files first (stable: the order inside a file, and so a notebook's
    cells, is kept)."""
    def weight(item):
        path = Path(str(item.path)).resolve()
        try:
            rel = path.relative_to(ROOT).as_posix()
        except ValueError:
            return 0
        return SLOW_UNITS.get(rel, 0)

    items.sort(key=lambda item: -weight(item))
