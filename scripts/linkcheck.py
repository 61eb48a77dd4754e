"""Run Sphinx's linkcheck over the book and judge the result.

    python scripts/linkcheck.py [--config _build/_config.noexec.yml]

Broken *internal* links (local files, anchors within the book) fail the check.
External links are checked too, but a machine without internet cannot reach
them: those are listed as UNVERIFIED (OFFLINE) and do not fail the check,
while an external link that answered with an error (404 ...) does fail.
The report is printed and written to ``_build/linkcheck/report.txt``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OFFLINE_MARKERS = ("Max retries exceeded", "NameResolutionError", "Failed to resolve", "Temporary failure",
                   "Connection refused", "Network is unreachable", "timed out", "ConnectTimeout",
                   "ConnectionError", "Name or service not known")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=None, help="jupyter-book config file (default: _config.yml)")
    args = ap.parse_args(argv)
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jb), "build", str(ROOT), "--builder", "linkcheck"]
    if args.config:
        cmd += ["--config", args.config]
    started = time.time() - 1
    run = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    # jupyter-book writes the linkcheck builder's output into _build/html/
    candidates = [ROOT / "_build" / "html" / "output.json", ROOT / "_build" / "linkcheck" / "output.json"]
    out = next((p for p in candidates if p.exists() and p.stat().st_mtime >= started), None)
    if out is None:
        print(run.stdout[-3000:], run.stderr[-3000:], sep="\n")
        print("linkcheck did not produce output.json", file=sys.stderr)
        return 2
    groups = defaultdict(list)
    for line in out.read_text().splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        status, uri, info = item["status"], item["uri"], str(item.get("info", ""))
        external = uri.startswith(("http://", "https://"))
        if status in ("working", "redirected", "ignored"):
            groups["ok"].append(item)
        elif status in ("local", "unchecked"):
            groups["internal (anchors and files: verified by tests/html)"].append(item)
        elif external and any(m in info for m in OFFLINE_MARKERS):
            groups["UNVERIFIED (OFFLINE)"].append(item)
        else:
            groups["BROKEN"].append(item)
    lines = []
    for name in ("BROKEN", "UNVERIFIED (OFFLINE)", "internal (anchors and files: verified by tests/html)", "ok"):
        items = groups.get(name, [])
        lines.append(f"{name}: {len(items)}" + (" external links" if name == "ok" else ""))
        if name in ("BROKEN", "UNVERIFIED (OFFLINE)"):
            for it in items:
                lines.append(f"  {it['filename']}:{it.get('lineno', '?')}  {it['uri']}  ({str(it.get('info', ''))[:120]})")
    if groups.get("UNVERIFIED (OFFLINE)") and not groups.get("ok"):
        lines.append("No external link could be reached: this machine is offline, so external links are "
                     "unverified (not failed). Run `make check-html` with internet access to check them.")
    report = "\n".join(lines)
    (ROOT / "_build" / "linkcheck").mkdir(parents=True, exist_ok=True)
    (ROOT / "_build" / "linkcheck" / "report.txt").write_text(report + "\n")
    print(report)
    return 1 if groups.get("BROKEN") else 0


if __name__ == "__main__":
    sys.exit(main())
