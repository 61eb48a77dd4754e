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

