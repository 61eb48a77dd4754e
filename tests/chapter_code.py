"""Read code that a chapter shows, so tests check the code the reader sees.

A chapter defines its teaching code (a model builder, numpy_dropout, a custom
layer) in a visible cell. ``chapter_namespace`` executes only the cells that
define the requested names, in notebook order, in a namespace that already has
``np``, ``keras`` and ``layers`` (``from keras import layers``). Such cells must
need nothing else from earlier cells (they may import what they use).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def chapter_cells(notebook: str, names) -> list[str]:
    path = ROOT / "notebooks" / f"{notebook}.ipynb"
    cells = [("".join(c["source"])) for c in json.loads(path.read_text())["cells"]
             if c["cell_type"] == "code"]
    chosen = []
    for name in names:
        pattern = re.compile(rf"^(def|class)\s+{re.escape(name)}\b", re.M)
        hits = [src for src in cells if pattern.search(src)]
        assert hits, f"{notebook} defines no visible `{name}`"
        for src in hits:
            if src not in chosen:
                chosen.append(src)
    return [src for src in cells if src in chosen]  # notebook order


def chapter_namespace(notebook: str, names, replace: tuple[str, str] | None = None) -> dict:
    import keras
    import numpy as np
    from keras import layers

    ns = {"np": np, "keras": keras, "layers": layers, "__name__": f"chapter_{notebook}"}
    for src in chapter_cells(notebook, names):
        src = "\n".join(line for line in src.splitlines() if not line.lstrip().startswith(("%", "!")))
        if replace is not None:
            src = src.replace(*replace)
        exec(compile(src, f"<{notebook}>", "exec"), ns)
    return ns
