"""Reusable code of the "Dropout in Keras" book; notebooks import it, never copy it.

Importing ``helpers`` imports TensorFlow and Keras once with the C++ start-up
chatter (CUDA probing on machines without a GPU) silenced, so notebook outputs
hold only what the reader needs. Errors still raise as usual.
"""

from __future__ import annotations

import contextlib
import os
import sys

__version__ = "0.1.0"

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@contextlib.contextmanager
def _quiet_fd2():
    """Send file descriptor 2 (C++ logging) to /dev/null for the block."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no real fd 2 (some embedded consoles)
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


with _quiet_fd2():
    import keras  # noqa: E402,F401
    import tensorflow as tf  # noqa: E402

    tf.config.list_physical_devices()

# fast_fit builds one tf.function per call by design; TF's retracing warning is noise here.
tf.get_logger().setLevel("ERROR")
