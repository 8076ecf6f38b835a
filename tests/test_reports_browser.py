"""Acceptance: the HTML dashboard of a real target's run (toolz==1.2.0) opened in headless Chromium.

Chromium is Debian's ``chromium``; when absent, the fixture installs it with apt-get (as root) and skips with
the reason only where it cannot be installed. Screenshots and the rendered pages are kept as test artifacts
under reports/test-artifacts/ in this repository (the path is printed).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
import realtargets
from conftest import REPO, run_harness

from harness.reporters import stryker

pytestmark = [pytest.mark.slow, pytest.mark.acceptance]

ARTIFACTS = REPO / "reports" / "test-artifacts"
SCHEMA = REPO / "harness" / "schemas" / stryker.SCHEMA_FILE
# Coverage and one timed run: enough for every column and page section the HTML draws from a real run.
QUICK = ["--set", "flakiness.enabled=false", "--set", "runtime.runs=1", "--set", "mutation.enabled=false"]


def _install_chromium() -> str | None:
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        return "chromium is not installed and cannot be: apt-get is missing or this is not root"
    proc = subprocess.run(
        ["bash", "-c", "apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium"],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if proc.returncode != 0:
        return f"apt-get install chromium failed (exit {proc.returncode}): {proc.stderr.strip()[-300:]}"
    return None


@pytest.fixture(scope="session")
def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        reason = _install_chromium()
        found = shutil.which("chromium")
        if found is None:
            pytest.skip(reason or "chromium was installed but is not on PATH")
    return found


def browse(chromium: str, url: str, profile: Path, screenshot: Path | None = None, height: int = 1200) -> str:
    """Load ``url`` in headless Chromium; the DOM after the page's scripts ran ("" with a screenshot)."""
    args = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        f"--window-size=1400,{height}",
        "--hide-scrollbars",
    ]
    args += [f"--screenshot={screenshot}"] if screenshot else ["--dump-dom"]
    proc = subprocess.run([*args, url], capture_output=True, text=True, timeout=180, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    if screenshot:
        assert screenshot.stat().st_size > 10_000, f"{screenshot} looks empty"
    return proc.stdout


@pytest.fixture(scope="module")
def toolz_reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = realtargets.prepare("toolz", tmp_path_factory.mktemp("toolz"))
    result = run_harness("run", root, "--quiet", *QUICK, *realtargets.harness_config("toolz"), timeout=1800)
    assert result.returncode in (0, 1), result.output
    return root / "reports"


def test_toolz_dashboard_renders_in_chromium(chromium: str, toolz_reports: Path, tmp_path: Path) -> None:
    card = json.loads((toolz_reports / "scorecard.json").read_text())
    modules = [m["module"] for m in card["modules"]]
    assert len(modules) >= 14
    index = (toolz_reports / "html" / "index.html").resolve()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shots = {"index": ARTIFACTS / "toolz-index.png"}

    dom = browse(chromium, index.as_uri(), tmp_path / "profile")
    rows = re.findall(r'<tr data-module="([^"]+)" data-failed="[01]"', dom)
    assert rows == modules  # one row per module, in the scorecard's order
    body = dom.split('id="modules"', 1)[1]
    assert f"TOTAL ({len(modules)} modules)" in body
    assert f"{card['totals']['coverage']['line_percent']:.1f} %" in body.split("<tfoot>", 1)[1]
    columns = {"line_coverage", "branch_coverage", "mutation_score", "flaky_rate"} & set(card["metrics"])
    assert len(re.findall(r'<td class="num (pass|fail|na|skipped)"', body)) == len(columns) * len(modules)

    # The scripts run from file://: a linked filter hides the other rows, a linked sort reorders them.
    dom = browse(chromium, index.as_uri() + "#filter=itertoolz&sort=0&desc=1", tmp_path / "profile")
    shown = re.findall(r'<tr data-module="([^"]+)" data-failed="[01]"(?! style="display: none;")>', dom)
    assert shown == [m for m in modules if "itertoolz" in m]
    ordered = re.findall(r'<tr data-module="([^"]+)"', dom)
    assert ordered == sorted(modules, reverse=True)
    assert f'<span id="shown-count">{len(shown)}</span>' in dom

    # A module page: every source line, missed lines and partial branches marked as the scorecard says.
    cov = {m["module"]: m["coverage"] for m in card["modules"] if m["coverage"]}
    module = max(cov, key=lambda m: (len(cov[m]["missing_lines"]) + len(cov[m]["missing_arcs"]), m))
    page = (toolz_reports / "html" / "modules" / f"{module}.html").resolve()
    dom = browse(chromium, page.as_uri(), tmp_path / "profile")
    path = next(m["path"] for m in card["modules"] if m["module"] == module)
    source = (toolz_reports.parent / path).read_text().splitlines()
    assert len(re.findall(r'<tr id="L\d+"', dom)) == len(source)
    missed = [int(n) for n in re.findall(r'<tr id="L(\d+)" class="missed"', dom)]
    assert missed == sorted(cov[module]["missing_lines"])
    partial = {int(n) for n in re.findall(r'<tr id="L(\d+)" class="partial"', dom)}
    assert partial == {a for a, _ in cov[module]["missing_arcs"]} - set(missed)
    assert 'id="slowest"' in dom  # the slowest tests of the timed run
    shots["module"] = ARTIFACTS / "toolz-module.png"

    browse(chromium, index.as_uri(), tmp_path / "profile", screenshot=shots["index"])
    browse(chromium, page.as_uri(), tmp_path / "profile", screenshot=shots["module"])
    shutil.copytree(toolz_reports / "html", ARTIFACTS / "toolz-html", dirs_exist_ok=True)
    print(f"\nscreenshots: {shots['index']} {shots['module']} (module {module})")
    print(f"pages: {ARTIFACTS / 'toolz-html'}")


MUTATED = "toolz.dicttoolz"  # 137 mutants, about ten survivors: every status mapping and inline diff is used


def test_toolz_mutation_reports(
    chromium: str, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    """The real mutation phase on one toolz module: Stryker's JSON validates against the official schema and
    gives our score; the module page shows every survivor and no-coverage mutant inline in Chromium."""
    root = realtargets.prepare("toolz", tmp_path_factory.mktemp("toolz-mutation"))
    result = run_harness(
        "run",
        root,
        "--quiet",
        "--set",
        "flakiness.enabled=false",
        "--set",
        "runtime.enabled=false",
        "--set",
        "mutation.enabled=true",
        "--set",
        f"mutation.modules=['{MUTATED}']",
        *realtargets.harness_config("toolz"),
        timeout=3000,
    )
    assert result.returncode in (0, 1), result.output
    reports = root / "reports"
    doc = json.loads((reports / "mutation-report.json").read_text())
    jsonschema.validate(doc, json.loads(SCHEMA.read_text()))
    card = json.loads((reports / "scorecard.json").read_text())
    module = next(m for m in card["modules"] if m["module"] == MUTATED)
    statuses = [m["status"] for m in doc["files"][module["path"]]["mutants"]]
    counts = module["mutation"]["counts"]
    assert len(statuses) == counts["total"] > 0
    assert statuses.count("Survived") == counts["survived"] > 0
    detected = sum(s in ("Killed", "Timeout") for s in statuses)
    valid = detected + sum(s in ("Survived", "NoCoverage") for s in statuses)
    assert counts["score"] == pytest.approx(100 * detected / valid)

    page = (reports / "html" / "modules" / f"{MUTATED}.html").resolve()
    dom = browse(chromium, page.as_uri(), tmp_path / "profile")
    boxes = re.findall(r'<div class="mutant-box (survived|no_coverage|suspicious)">', dom)
    assert len(boxes) == counts["survived"] + counts["no_coverage"] + counts["suspicious"]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "toolz-mutants.png"
    browse(chromium, page.as_uri(), tmp_path / "profile", screenshot=shot, height=3000)
    print(
        f"\nStryker report {reports / 'mutation-report.json'}: {len(statuses)} mutants of {MUTATED}, valid "
        f"against schema {stryker.SCHEMA_PACKAGE_VERSION}; score {100 * detected / valid:.1f} %; "
        f"{len(boxes)} mutants inline; screenshot {shot}"
    )
