import io
import pickle
import tarfile

import numpy as np
import pytest

from helpers import data
from helpers.data import DatasetError


def test_circles_split_and_reproducibility():
    (xtr, ytr), (xte, yte) = data.load_circles()
    assert xtr.shape == (30, 2) and ytr.shape == (30, 1)
    assert xte.shape == (70, 2) and yte.shape == (70, 1)
    from sklearn.datasets import make_circles

    x, y = make_circles(n_samples=100, noise=0.1, random_state=1)
    np.testing.assert_allclose(xtr, x[:30].astype("float32"))
    np.testing.assert_array_equal(yte.ravel(), y[30:])


def test_circles_rejects_bad_split():
    with pytest.raises(ValueError, match="n_train"):
        data.load_circles(n_samples=30, n_train=30)


def _fake_archive(path, n_train_per_batch=4, n_test=6, seed=0):
    """A tiny archive in the official cifar-10-python.tar.gz layout."""
    rng = np.random.default_rng(seed)

    def batch(n):
        return {b"data": rng.integers(0, 256, size=(n, 3072), dtype=np.uint8),
                b"labels": list(rng.integers(0, 10, size=n))}

    batches = {f"data_batch_{i}": batch(n_train_per_batch) for i in range(1, 6)}
    batches["test_batch"] = batch(n_test)
    with tarfile.open(path, "w:gz") as tar:
        for name, d in batches.items():
            raw = pickle.dumps(d)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    return batches


@pytest.fixture()
def built_pack(tmp_path):
    from helpers.make_cifar10_pack import build_pack

    batches = _fake_archive(tmp_path / "cifar-10-python.tar.gz")
    out = tmp_path / "pack.npz"
    build_pack(tmp_path / "cifar-10-python.tar.gz", out)
    return out, batches


def test_pack_roundtrip_is_lossless(built_pack):
    out, batches = built_pack
    (xtr, ytr), (xte, yte) = data.load_cifar10(out)
    expected = np.concatenate([batches[f"data_batch_{i}"][b"data"] for i in range(1, 6)])
    expected = expected.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    assert xtr.dtype == np.uint8 and xtr.shape == (20, 32, 32, 3)
    np.testing.assert_array_equal(xtr, expected)
    assert ytr.shape == (20, 1) and yte.shape == (6, 1) and xte.shape == (6, 32, 32, 3)


def test_truncated_pack_is_refused(built_pack, tmp_path):
    out, _ = built_pack
    bad = tmp_path / "bad.npz"
    bad.write_bytes(out.read_bytes()[:-100])
    (tmp_path / "bad.npz.sha256").write_text((tmp_path / "pack.npz.sha256").read_text())
    with pytest.raises(DatasetError, match="corrupt or truncated"):
        data.load_cifar10(bad)


def test_unknown_file_is_refused(tmp_path):
    f = tmp_path / "cifar10-jpeg.npz"
    f.write_bytes(b"not a pack")
    with pytest.raises(DatasetError, match="not a known CIFAR-10 pack"):
        data.load_cifar10(f)


def test_env_var_pointing_nowhere(monkeypatch, tmp_path):
    monkeypatch.setenv(data.CIFAR10_ENV, str(tmp_path / "missing.npz"))
    with pytest.raises(DatasetError, match="does not exist"):
        data.load_cifar10()


def test_offline_without_pack_says_both_fixes(monkeypatch, tmp_path):
    import keras

    monkeypatch.delenv(data.CIFAR10_ENV, raising=False)
    monkeypatch.setattr(data, "data_dir", lambda: tmp_path)

    def no_network():
        raise OSError("URL fetch failure: no network")

    monkeypatch.setattr(keras.datasets.cifar10, "load_data", no_network)
    with pytest.raises(DatasetError) as err:
        data.load_cifar10()
    msg = str(err.value)
    assert data.CIFAR10_ENV in msg and "internet" in msg and "download failed" in msg
    with pytest.raises(DatasetError, match="download=False"):
        data.load_cifar10(download=False)


def test_download_path_is_used_without_pack(monkeypatch, tmp_path):
    import keras

    monkeypatch.delenv(data.CIFAR10_ENV, raising=False)
    monkeypatch.setattr(data, "data_dir", lambda: tmp_path)
    sentinel = ((np.zeros((1, 32, 32, 3), np.uint8), np.zeros((1, 1), np.uint8)),) * 2
    monkeypatch.setattr(keras.datasets.cifar10, "load_data", lambda: sentinel)
    assert data.load_cifar10() is sentinel


def test_real_pack_matches_load_data_contract(cifar_pack):
    (xtr, ytr), (xte, yte) = data.load_cifar10(cifar_pack)
    assert xtr.shape == (50000, 32, 32, 3) and xtr.dtype == np.uint8
    assert xte.shape == (10000, 32, 32, 3) and yte.shape == (10000, 1) and ytr.dtype == np.uint8
    assert np.bincount(ytr.ravel()).tolist() == [5000] * 10
    assert np.bincount(yte.ravel()).tolist() == [1000] * 10
    # PROVENANCE.md: test channel means 126.0, 123.7, 114.9 on 0-255
    np.testing.assert_allclose(xte.reshape(-1, 3).mean(0), [126.0, 123.7, 114.9], atol=0.15)


def test_prepare_cifar10():
    x, y = data.prepare_cifar10(np.full((2, 32, 32, 3), 255, np.uint8), np.array([[3], [9]]))
    assert x.dtype == np.float32 and x.max() == 1.0
    assert y.shape == (2, 10) and y[0, 3] == 1 and y[1, 9] == 1
