"""Put (or refresh) the first cell of every chapter: installs the book when run outside a clone.

    python scripts/install_cell.py          # insert or update the cell in notebooks/*.ipynb
    python scripts/install_cell.py --check  # exit 1 if a notebook lacks the current cell

The cell is tagged ``remove-cell`` (the HTML book hides it). In a clone, or
wherever ``helpers`` is importable, it does nothing. In Colab, Binder or a
notebook downloaded on its own, it clones the repository at the release tag
(``v`` + the version in pyproject.toml: a fixed ref, never a moving branch),
installs the helpers from it with no extras (the notebooks need none), and
points ``DROPOUT_BOOK_ROOT`` at the clone so recorded results are found.
``DROPOUT_BOOK_SOURCE`` replaces the clone by a local folder (used by tests).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
TAG = "install-book"

TEMPLATE = '''\
# Colab, Binder or a notebook downloaded on its own: get the book's helpers.
# (In a clone of the repository this cell does nothing.)
import importlib
import importlib.util
import os
import subprocess
import sys

BOOK_REPO = "{repo}"
BOOK_REF = "{ref}"  # the release this notebook belongs to
src = os.environ.get("DROPOUT_BOOK_SOURCE") or os.path.abspath(
    "dropout-in-keras")
if importlib.util.find_spec("helpers") is None:
    if not os.path.isdir(src):
        subprocess.run(["git", "clone", "-q", "--depth", "1", "--branch",
                        BOOK_REF, BOOK_REPO, src], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", src],
                   check=True)
    importlib.invalidate_caches()
if os.path.isdir(os.path.join(src, "results")):  # the release's results
    os.environ.setdefault("DROPOUT_BOOK_ROOT", src)'''


def cell_source() -> str:
    repo = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    version = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M).group(1)
    return TEMPLATE.format(repo=repo, ref=f"v{version}")


def update(path: Path, check: bool) -> bool:
    nb = json.loads(path.read_text())
    src = cell_source()
    first = next((i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"), None)
    cell = nb["cells"][first] if first is not None else None
    if cell is not None and TAG in cell.get("metadata", {}).get("tags", []):
        if "".join(cell["source"]) == src:
            return True
        if check:
            return False
        cell["source"] = src.splitlines(keepends=True)
    else:
        if check:
            return False
        new = {"cell_type": "code", "execution_count": None, "id": "install-book",
               "metadata": {"tags": [TAG, "remove-cell"]}, "outputs": [],
               "source": src.splitlines(keepends=True)}
        nb["cells"].insert(first if first is not None else 0, new)
    path.write_text(json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    return True


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args(argv)
    bad = [p.name for p in sorted((ROOT / "notebooks").glob("*.ipynb")) if not update(p, args.check)]
    if bad:
        print("notebooks without the current install cell (run scripts/install_cell.py):", bad)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
