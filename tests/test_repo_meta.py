"""Repository metadata: workflows valid and least-privilege, one repository URL everywhere."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def test_workflows_exist():
    assert {p.name for p in WORKFLOWS} >= {"ci.yml", "pages.yml"}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_matches_the_github_schema(path):
    exe = Path(sys.executable).with_name("check-jsonschema")
    r = subprocess.run([str(exe), "--builtin-schema", "vendor.github-workflows", str(path)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_least_privilege_and_pinned_actions(path):
    wf = yaml.safe_load(path.read_text())
    assert wf.get("permissions") == {"contents": "read"}, "read-only default for the workflow"
    for name, job in wf["jobs"].items():
        assert "permissions" in job, f"job {name} states its permissions"
        writes = {k for k, v in job["permissions"].items() if v == "write"}
        assert not writes or name == "deploy", f"only the deploy job may write: {name} {writes}"
        for step in job.get("steps", []):
            uses = step.get("uses")
            if uses:
                assert re.fullmatch(r"[\w.-]+/[\w.-]+@(v\d+(\.\d+)*|[0-9a-f]{40})", uses), uses


def test_one_repository_url_everywhere():
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", url)
    for name in ("CITATION.cff", "pyproject.toml", "book/cite.md", "README.md"):
        text = (ROOT / name).read_text()
        found = set(re.findall(r"https://github\.com/[\w.-]+/[\w.-]+", text))
        found = {u for u in found if "github.com/" + url.split("github.com/")[1].split("/")[0] in u
                 or "dropout" in u}
        assert found == {url}, f"{name} names {found}, not {url}"


def test_licence_and_citation_present():
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0" and cff["license"] == "MIT"
    assert "CC BY 4.0" in (ROOT / "_config.yml").read_text()


def test_readme_lists_every_chapter(root):
    """The README's chapter table has a row per notebook (chapters 11 and 12 were
    once missing from it)."""
    readme = (root / "README.md").read_text()
    numbers = sorted(int(p.name[:2]) for p in (root / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert numbers, "no chapters found"
    missing = [n for n in numbers if f"\n| {n} " not in readme]
    assert not missing, f"README's chapter table lacks chapters {missing}"
