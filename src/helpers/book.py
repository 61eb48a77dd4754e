"""Small helpers for the book's pages."""

from __future__ import annotations


class _Text:
    """Shows as its text, without the quotes a ``str`` repr adds."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


def glue(name: str, value, display: bool = False):
    """``myst_nb.glue`` that renders strings bare (``0.757``, not ``'0.757'``) in the prose."""
    from myst_nb import glue as _glue

    if isinstance(value, str):
        value = _Text(value)
    return _glue(name, value, display=display)


def toc_files(root) -> list[str]:
    """Every ``file`` entry of the book's ``_toc.yml`` (the root first), in order."""
    from pathlib import Path

    import yaml

    toc = yaml.safe_load((Path(root) / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(toc.get("parts", []))
    walk(toc.get("chapters", []))
    return files


def notebook_seconds(path) -> float | None:
    """Sum of a notebook's cell execution times (from its metadata), or None if unrecorded."""
    import datetime as dt
    import json
    from pathlib import Path

    total, seen = 0.0, False
    for cell in json.loads(Path(path).read_text())["cells"]:
        ex = cell.get("metadata", {}).get("execution", {})
        start, end = ex.get("iopub.execute_input"), ex.get("shell.execute_reply")
        if start and end:
            total += (dt.datetime.fromisoformat(end.replace("Z", "+00:00"))
                      - dt.datetime.fromisoformat(start.replace("Z", "+00:00"))).total_seconds()
            seen = True
    return total if seen else None
