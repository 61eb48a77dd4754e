"""Progress bars for people, silence for the book.

Long loops (seeds, grids, epochs of a live run) wrap their iterable in
:func:`progress`. A reader running a chapter in JupyterLab or Colab sees a
one-line text bar that updates in place; when the book's outputs are produced
or checked (``make notebooks``, ``make test``, CI), ``DROPOUT_BOOK_QUIET=1`` is
set and nothing is printed, so no bar ends up in the committed outputs.
"""

from __future__ import annotations

import os

QUIET_ENV = "DROPOUT_BOOK_QUIET"


def quiet() -> bool:
    return os.environ.get(QUIET_ENV, "").lower() in ("1", "true", "yes")


def progress(iterable, desc: str = "", total: int | None = None):
    """``iterable``, with a text progress bar unless ``$DROPOUT_BOOK_QUIET`` is set."""
    if quiet():
        return iterable
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm is optional: no bar, same loop
        return iterable
    return tqdm(iterable, desc=desc, total=total, leave=False, dynamic_ncols=True)


def epoch_chunks(epochs: int, desc: str = "epochs", n_chunks: int = 20):
    """Split ``epochs`` into ``(start, count)`` pieces for a compiled training loop.

    Quiet (or without tqdm): one piece, ``(0, epochs)``, so nothing changes.
    Otherwise about ``n_chunks`` pieces, with a bar that advances after each;
    the loop runs the same epochs in the same order either way.
    """
    import math

    if quiet():
        yield 0, epochs
        return
    try:
        from tqdm.auto import tqdm
    except ImportError:
        yield 0, epochs
        return
    size = max(1, math.ceil(epochs / max(1, n_chunks)))
    with tqdm(total=epochs, desc=desc, unit="epoch", leave=False, dynamic_ncols=True) as bar:
        for start in range(0, epochs, size):
            count = min(size, epochs - start)
            yield start, count
            bar.update(count)


def keras_bar(epochs: int, desc: str = "fit"):
    """A Keras callback: one tidy bar over the epochs of ``model.fit(verbose=0)``,
    nothing when ``$DROPOUT_BOOK_QUIET`` is set. Pass it in ``callbacks=[...]``."""
    import keras

    class _Bar(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.bar = None
            if not quiet():
                try:
                    from tqdm.auto import tqdm
                except ImportError:
                    return
                self.bar = tqdm(total=epochs, desc=desc, unit="epoch", leave=False,
                                dynamic_ncols=True)

        def on_epoch_end(self, epoch, logs=None):
            if self.bar is not None:
                self.bar.update(1)
                if logs and "val_accuracy" in logs:
                    self.bar.set_postfix(val_accuracy=f"{logs['val_accuracy']:.3f}")

        def on_train_end(self, logs=None):
            if self.bar is not None:
                self.bar.close()

    return _Bar()
