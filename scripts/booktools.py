"""Book-building utilities for scripts and tests; imports no TensorFlow."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import yaml


def toc_files(root) -> list[str]:
    """Every ``file`` entry of the book's ``_toc.yml`` (the root first), in order."""
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
    total, seen = 0.0, False
    for cell in json.loads(Path(path).read_text())["cells"]:
        ex = cell.get("metadata", {}).get("execution", {})
        start, end = ex.get("iopub.execute_input"), ex.get("shell.execute_reply")
        if start and end:
            total += (dt.datetime.fromisoformat(end.replace("Z", "+00:00"))
                      - dt.datetime.fromisoformat(start.replace("Z", "+00:00"))).total_seconds()
            seen = True
    return total if seen else None
