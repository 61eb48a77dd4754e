"""Build a local CIFAR-10 pack from the official ``cifar-10-python.tar.gz``.

For air-gapped machines: download the archive anywhere you can (it is the file
``keras.datasets.cifar10.load_data()`` fetches), carry it over, then run::

    python -m helpers.make_cifar10_pack cifar-10-python.tar.gz -o data/cifar10-pack.npz

The pack has the layout ``helpers.data.load_cifar10`` reads (the same arrays as
the project's JPEG pack) but stores every image as a lossless PNG, so the pixels
are exactly the official ones. A ``.sha256`` file is written beside it; the
loader checks it. Point ``$DROPOUT_BOOK_CIFAR10`` at the pack, or name it
``data/cifar10-jpeg.npz`` in the project root.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import pickle
import sys
import tarfile
from pathlib import Path

import numpy as np

from ._io import atomic_write_bytes

TRAIN_BATCHES = [f"data_batch_{i}" for i in range(1, 6)]
TEST_BATCHES = ["test_batch"]


def _read_batches(tar: tarfile.TarFile, names):
    members = {Path(m.name).name: m for m in tar.getmembers() if m.isfile()}
    xs, ys = [], []
    for name in names:
        if name not in members:
            raise SystemExit(f"error: {name} is missing from the archive; is it cifar-10-python.tar.gz?")
        # The official archive stores NumPy arrays pickled by Python 2; this is
        # the same decoding keras.datasets.cifar10 performs.
        d = pickle.load(tar.extractfile(members[name]), encoding="bytes")  # noqa: S301
        xs.append(np.asarray(d[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
        ys.append(np.asarray(d[b"labels"], dtype=np.uint8).reshape(-1, 1))
    return np.concatenate(xs), np.concatenate(ys)


def _encode(images):
    import tensorflow as tf

    blobs = [tf.io.encode_png(img).numpy() for img in images]
    offsets = np.zeros(len(blobs) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(b) for b in blobs])
    return np.frombuffer(b"".join(blobs), dtype=np.uint8), offsets


def build_pack(archive, output) -> str:
    """Write the pack and its ``.sha256`` sidecar; return the SHA-256."""
    archive, output = Path(archive), Path(output)
    if not archive.is_file():
        raise SystemExit(f"error: {archive} does not exist")
    with tarfile.open(archive, "r:gz") as tar:
        x_train, y_train = _read_batches(tar, TRAIN_BATCHES)
        x_test, y_test = _read_batches(tar, TEST_BATCHES)
    train_blob, train_off = _encode(x_train)
    test_blob, test_off = _encode(x_test)
    buf = io.BytesIO()
    np.savez_compressed(buf, train_jpeg=train_blob, train_offsets=train_off, y_train=y_train,
                        test_jpeg=test_blob, test_offsets=test_off, y_test=y_test)
    data = buf.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    atomic_write_bytes(output, data)
    atomic_write_bytes(output.with_name(output.name + ".sha256"), f"{digest}  {output.name}\n".encode())
    return digest


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m helpers.make_cifar10_pack", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("archive", help="path to the official cifar-10-python.tar.gz")
    p.add_argument("-o", "--output", default="data/cifar10-pack.npz", help="pack to write")
    args = p.parse_args(argv)
    digest = build_pack(args.archive, args.output)
    print(f"wrote {args.output} (SHA-256 {digest})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
