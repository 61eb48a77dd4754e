import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
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
        pytest.skip("no CIFAR-10 pack: set DROPOUT_BOOK_CIFAR10 (CI points it at ../shared)")
    return pack
