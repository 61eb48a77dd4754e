"""Where the book's files are, found without assuming where ``helpers`` is installed.

``helpers`` may be installed in editable mode from a clone, from a wheel into
site-packages (Colab, Binder), or imported by a notebook copied anywhere. So the
project folder is never derived from this file's location. It is, in order:

1. an explicit argument;
2. ``$DROPOUT_BOOK_ROOT`` (the folder holding ``results/``);
3. the current directory or one of its parents that holds ``results/`` and
   ``_toc.yml`` (a clone: notebooks run from ``notebooks/``).

If none is found, :func:`results_dir` raises :class:`ResultsNotFound` with a
message saying how to point the book at the recorded results.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT_ENV = "DROPOUT_BOOK_ROOT"


class ResultsNotFound(FileNotFoundError):
    """The recorded results could not be located; the message says how to fix it."""


def project_root(start=None) -> Path | None:
    """The clone this process works in (``$DROPOUT_BOOK_ROOT`` first), or None."""
    env = os.environ.get(ROOT_ENV)
    if env:
        return Path(env).expanduser().resolve()
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "_toc.yml").is_file() and (folder / "results").is_dir():
            return folder
    return None


def results_dir(kind: str = "cifar10", path=None, must_exist: bool = True) -> Path:
    """The folder of recorded results of one kind (``results/<kind>``)."""
    if path is not None:
        folder = Path(path).expanduser()
    else:
        root = project_root()
        if root is None:
            raise ResultsNotFound(
                f"cannot find the book's recorded results (results/{kind}/): run from a clone of "
                f"the repository (any folder inside it), or set {ROOT_ENV}=/path/to/clone, or pass "
                f"the folder explicitly.")
        folder = root / "results" / kind
    if must_exist and not folder.is_dir():
        raise ResultsNotFound(f"{folder} does not exist: no recorded {kind} results there "
                              f"(set {ROOT_ENV} or pass the folder explicitly).")
    return folder


def data_dir() -> Path:
    """Where local data packs are looked for: ``<clone>/data``, else ``./data``."""
    root = project_root()
    return (root or Path.cwd()) / "data"
