"""One call to make a cell reproducible."""

from __future__ import annotations

import os
import random

import numpy as np

from ._validate import check_nonnegative_int


def set_seed(seed: int = 0, deterministic_ops: bool = False) -> int:
    """Seed Python, NumPy, TensorFlow and Keras in one call.

    ``keras.utils.set_random_seed`` seeds Python's ``random``, NumPy and the
    backend; weight initialisers and ``Dropout`` layers created afterwards draw
    from that seed. ``deterministic_ops=True`` also asks TensorFlow for
    bit-reproducible kernels (slower, and some GPU ops then refuse to run).
    """
    import keras
    import tensorflow as tf

    seed = check_nonnegative_int(seed, "seed")
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(seed)
    if deterministic_ops:
        tf.config.experimental.enable_op_determinism()
    return seed
