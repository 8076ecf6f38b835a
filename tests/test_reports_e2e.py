"""End to end: the reports of a real run of the fixture project, against golden files (timestamps, paths and
fingerprints scrubbed), and the set of files a run leaves in reports/."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import run_harness
from test_reports import check_golden, scrub

pytestmark = pytest.mark.slow

# Coverage only: every figure is then exact, so the reports are byte-for-byte stable.
QUICK = [
    "--set",
    "runtime.enabled=false",
    "--set",
    "flakiness.enabled=false",
    "--set",
    "mutation.enabled=false",
    "--workers",
    "1",
]


def scrub_run(text: str, root: Path) -> str:
    text = scrub(text, root)
    return re.sub(r"(config `|fingerprint: <span class=\"mono\">)[0-9a-f]{12}", r"\1<FINGERPRINT>", text)


def test_fixture_run_reports_match_their_golden_files(target_project: Callable[..., Path]) -> None:
    root = target_project()
    result = run_harness("run", root, *QUICK)
    assert result.returncode == 0, result.output
    reports = root / "reports"
    check_golden("simple_summary.md", scrub_run((reports / "scorecard.md").read_text(), root))
    check_golden("simple_junit.xml", scrub_run((reports / "junit.xml").read_text(), root))
    written = {p.relative_to(reports).as_posix() for p in reports.rglob("*") if p.is_file()}
    assert {
        "scorecard.json",
        "scorecard.md",
        "junit.xml",
        "history.json",
        "html/index.html",
        "html/modules/simple.calc.html",
        "badges/branch_coverage.svg",
    } <= written
    assert "mutation-report.json" not in written  # no mutation measured, no Stryker report
    page = (reports / "html" / "modules" / "simple.calc.html").read_text()
    assert re.search(r'<tr id="L5" class="missed"', page) and re.search(r'<tr id="L4" class="partial"', page)
    entry = json.loads((reports / "history.json").read_text())["entries"][0]
    assert entry["commit"] is None and re.fullmatch(r"[0-9a-f]{12}", entry["config_fingerprint"])
