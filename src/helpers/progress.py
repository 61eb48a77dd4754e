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
