"""Data sets used by the book: the circles toy problem and CIFAR-10.

CIFAR-10 comes from ``keras.datasets.cifar10.load_data()`` for readers with
internet access. Offline machines (this project's CI among them) use a local
pack of the same 60,000 images, described in ``book/how-to-run.md``.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from ._validate import check_nonnegative_int, check_positive_float, check_positive_int
from .paths import data_dir

CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip

#: Environment variable naming a local CIFAR-10 pack.
CIFAR10_ENV = "DROPOUT_BOOK_CIFAR10"
#: SHA-256 of the project's shared JPEG pack (see ``book/how-to-run.md``).
KNOWN_CIFAR10_SHA256 = {
    "de48e75b6daf95c3ee93b41f5285521bd6babb8407be78c2e0ee0e2ba11670ba": "cifar10-jpeg.npz",
}
_PACK_KEYS = ("train_jpeg", "train_offsets", "y_train", "test_jpeg", "test_offsets", "y_test")



class DatasetError(RuntimeError):
    """A data set is missing, corrupt or unreadable; the message says how to fix it."""


# --------------------------------------------------------------------------- circles
def load_circles(n_samples: int = 100, noise: float = 0.1, random_state: int = 1,
                 n_train: int = 30):
    """The case study's data: ``make_circles`` with the first ``n_train`` samples as
    the training set and the rest as the test set.

    Returns ``(x_train, y_train), (x_test, y_test)`` as float32 arrays, labels of
    shape ``(n, 1)`` for a sigmoid output.
    """
    from sklearn.datasets import make_circles

    n_samples = check_positive_int(n_samples, "n_samples")
    n_train = check_positive_int(n_train, "n_train")
    random_state = check_nonnegative_int(random_state, "random_state")
    noise = check_positive_float(noise, "noise") if noise else 0.0
    if n_train >= n_samples:
        raise ValueError(f"n_train ({n_train}) must be smaller than n_samples ({n_samples})")
    x, y = make_circles(n_samples=n_samples, noise=noise, random_state=random_state)
    x = x.astype("float32")
    y = y.astype("float32").reshape(-1, 1)
    return (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:])


def load_digits_split(test_size: float = 0.3, random_state: int = 0, images: bool = False):
    """scikit-learn's bundled digits (1,797 images of 8 x 8 pixels, no download),
    scaled to [0, 1] and split stratified into train and test.

    Returns ``(x_train, y_train), (x_test, y_test)``; ``x`` is flat ``(n, 64)``
    or, with ``images``, ``(n, 8, 8, 1)``; ``y`` holds integer labels 0-9.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    if not 0.0 < float(test_size) < 1.0:
        raise ValueError(f"test_size must be in (0, 1), got {test_size!r}")
    random_state = check_nonnegative_int(random_state, "random_state")
    d = load_digits()
    x = (d.images / 16.0).astype("float32")
    x = x[..., None] if images else x.reshape(len(x), -1)
    y = d.target.astype("int32")
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=float(test_size), random_state=random_state,
                                              stratify=y)
    return (x_tr, y_tr), (x_te, y_te)


# --------------------------------------------------------------------------- CIFAR-10
def seed_splits(x, y, seeds, n_fit: int, n_val: int):
    """Per seed, a random training subset of ``n_fit + n_val`` images from
    ``(x, y)``, split into a fitting part and a validation part (stratified,
    so every class appears in both). Returns stacked arrays
    ``x_fit [S, n_fit, 64], y_fit, x_val [S, n_val, 64], y_val``."""
    from sklearn.model_selection import train_test_split

    n_fit, n_val = check_positive_int(n_fit, "n_fit"), check_positive_int(n_val, "n_val")
    if n_fit + n_val > len(x):
        raise ValueError(f"{n_fit} + {n_val} images requested from {len(x)}")
    parts = [[], [], [], []]
    for s in seeds:
        sub, _ = train_test_split(np.arange(len(x)), train_size=n_fit + n_val,
                                  random_state=int(s), stratify=y)
        fit, val = train_test_split(sub, train_size=n_fit, random_state=int(s),
                                    stratify=y[sub])
        for part, arr in zip(parts, (x[fit], y[fit], x[val], y[val]), strict=True):
            part.append(arr)
    return tuple(np.stack(p) for p in parts)


def sha256_file(path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def find_cifar10_pack(path=None):
    """Where the local pack is, or ``None``: ``path``, then ``$DROPOUT_BOOK_CIFAR10``,
    then ``data/cifar10-jpeg.npz`` in the project root."""
    if path is not None:
        p = Path(path).expanduser()
        if not p.is_file():
            raise DatasetError(f"CIFAR-10 pack {p} does not exist (passed as path=).")
        return p
    env = os.environ.get(CIFAR10_ENV)
    if env:
        p = Path(env).expanduser()
        if not p.is_file():
            raise DatasetError(
                f"${CIFAR10_ENV} points to {p}, which does not exist. Set it to the path of "
                "cifar10-jpeg.npz, or unset it to download CIFAR-10 with Keras."
            )
        return p
    p = data_dir() / "cifar10-jpeg.npz"
    return p if p.is_file() else None


def verify_cifar10_pack(path) -> str:
    """Check the pack's SHA-256 against the known pack or its ``.sha256`` sidecar.

    Returns the digest; raises :class:`DatasetError` on any mismatch.
    """
    path = Path(path)
    digest = sha256_file(path)
    if digest in KNOWN_CIFAR10_SHA256:
        return digest
    sidecar = path.with_name(path.name + ".sha256")
    if sidecar.is_file():
        expected = sidecar.read_text().split()[0].strip().lower()
        if digest == expected:
            return digest
        raise DatasetError(
            f"{path} is corrupt or truncated: its SHA-256 is {digest}, but {sidecar.name} "
            f"says {expected}. Copy or rebuild the file (python -m helpers.make_cifar10_pack)."
        )
    raise DatasetError(
        f"{path} is not a known CIFAR-10 pack (SHA-256 {digest}; the project's pack has "
        f"{next(iter(KNOWN_CIFAR10_SHA256))}). It may be truncated or a different file: copy "
        "it again, or build one from the official cifar-10-python.tar.gz with "
        "`python -m helpers.make_cifar10_pack`, which also writes the .sha256 file."
    )


def _decode_images(blob: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    import tensorflow as tf

    if offsets.ndim != 1 or offsets[0] != 0 or offsets[-1] != blob.size or np.any(np.diff(offsets) <= 0):
        raise DatasetError("CIFAR-10 pack is inconsistent: offsets do not cover the image bytes.")
    raw = blob.tobytes()
    images = [raw[a:b] for a, b in zip(offsets[:-1], offsets[1:], strict=True)]

    def decode(data):
        return tf.cond(
            tf.io.is_jpeg(data),
            lambda: tf.io.decode_jpeg(data, channels=3, dct_method="INTEGER_ACCURATE"),
            lambda: tf.io.decode_png(data, channels=3),
        )

    ds = tf.data.Dataset.from_tensor_slices(tf.constant(images))
    ds = ds.map(decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    out = np.concatenate(list(ds.batch(4096).as_numpy_iterator()), axis=0)
    if out.shape[1:] != (32, 32, 3):
        raise DatasetError(f"CIFAR-10 pack holds images of shape {out.shape[1:]}, not (32, 32, 3).")
    return out.astype(np.uint8)


_CACHE: dict = {}


def read_cifar10_pack(path, verify: bool = True):
    """Decode a local pack into the arrays ``keras.datasets.cifar10.load_data()`` returns."""
    path = Path(path)
    digest = verify_cifar10_pack(path) if verify else None
    key = (str(path.resolve()), path.stat().st_mtime_ns, digest)
    if key in _CACHE:
        return _CACHE[key]
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [k for k in _PACK_KEYS if k not in z.files]
            if missing:
                raise DatasetError(f"{path} is not a CIFAR-10 pack: arrays {missing} are missing.")
            arrays = {k: z[k] for k in _PACK_KEYS}
    except DatasetError:
        raise
    except Exception as exc:  # zipfile.BadZipFile, EOFError, ValueError ...
        raise DatasetError(
            f"{path} could not be read as a CIFAR-10 pack ({type(exc).__name__}: {exc}). "
            "The file is probably truncated: copy it again."
        ) from exc
    x_train = _decode_images(arrays["train_jpeg"], arrays["train_offsets"])
    x_test = _decode_images(arrays["test_jpeg"], arrays["test_offsets"])
    y_train = arrays["y_train"].astype(np.uint8).reshape(-1, 1)
    y_test = arrays["y_test"].astype(np.uint8).reshape(-1, 1)
    if len(x_train) != len(y_train) or len(x_test) != len(y_test):
        raise DatasetError(f"{path}: image and label counts differ.")
    result = (x_train, y_train), (x_test, y_test)
    _CACHE.clear()
    _CACHE[key] = result
    return result


def load_cifar10(path=None, *, download: bool = True, verify: bool = True):
    """CIFAR-10 as ``keras.datasets.cifar10.load_data()`` returns it.

    Source order: ``path``; the file named by ``$DROPOUT_BOOK_CIFAR10``;
    ``data/cifar10-jpeg.npz`` in the project root; else Keras' own download
    (``download=False`` forbids that). Returns ``(x_train, y_train), (x_test, y_test)``:
    uint8 images (N, 32, 32, 3) and uint8 labels (N, 1).
    """
    pack = find_cifar10_pack(path)
    if pack is not None:
        return read_cifar10_pack(pack, verify=verify)
    hint = (
        f"either set {CIFAR10_ENV}=/path/to/cifar10-jpeg.npz (or copy that file to "
        f"{data_dir() / 'cifar10-jpeg.npz'}), or connect to the internet so Keras "
        "can download CIFAR-10 (about 170 MB)."
    )
    if not download:
        raise DatasetError(f"No local CIFAR-10 pack found and download=False. To fix it, {hint}")
    import keras

    try:
        return keras.datasets.cifar10.load_data()
    except Exception as exc:
        raise DatasetError(
            f"No local CIFAR-10 pack was found and the download failed "
            f"({type(exc).__name__}: {exc}). To fix it, {hint}"
        ) from exc


def cifar10_provenance(path=None) -> dict:
    """Which CIFAR-10 copy ``load_cifar10`` uses, with its SHA-256 (for result files)."""
    pack = find_cifar10_pack(path)
    if pack is None:
        return {"source": "keras.datasets.cifar10.load_data()", "sha256": None}
    return {"source": str(pack.name), "sha256": sha256_file(pack)}


def prepare_cifar10(x, y, num_classes: int = 10):
    """Scale images to [0, 1] float32 and one-hot encode the labels."""
    x = np.asarray(x, dtype=np.float32) / 255.0
    y = np.eye(num_classes, dtype=np.float32)[np.asarray(y).reshape(-1)]
    return x, y
