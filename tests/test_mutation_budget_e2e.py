"""The mutation phase's time budget (``mutation.time_budget``), end to end: real mutmut, driver and reports.

The project (tests/fixtures/quarantine_projects.py's ``app/calc.py`` and its tests, plus ``app/slow.py``) is
made to stop mid-way deterministically, not by the machine's speed: while the file ``HOLD_ENV`` names exists,
the test of ``slow.triple`` waits whenever a mutant is active, so the run reaches its budget inside
``triple``'s mutants (mutmut runs the mutants with the fastest tests first, and that test is the slowest),
after every mutant of ``app.calc`` and of ``slow.double`` was judged. The first run exits 3 with every report
written: ``app.calc`` scored, ``app.slow`` not measured with how far it got. The second run, the hold lifted,
resumes (``app.calc``'s verdicts are not re-run) and completes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fixtures import quarantine_projects as qp
from mutationrun import measure

pytestmark = pytest.mark.slow

HOLD_ENV = "BUDGET_E2E_HOLD"
BUDGET = 45  # well above the few seconds generation, stats, clean and forced-fail runs take on this project

PROJECT = {
    **qp.BASE,
    "app/slow.py": """
        def double(x):
            return x * 2


        def triple(x):
            return x * 3
    """,
    "tests/test_slow.py": f"""
        import os
        import time

        from app.slow import double, triple


        def test_double():
            assert double(4) == 8


        def test_triple():
            time.sleep(0.5)  # the slowest test: mutmut runs triple's mutants last
            hold = os.environ.get("{HOLD_ENV}", "")
            if "__mutmut_" in os.environ.get("MUTANT_UNDER_TEST", ""):
                deadline = time.monotonic() + 600
                while hold and os.path.exists(hold) and time.monotonic() < deadline:
                    time.sleep(0.1)
            assert triple(4) == 12
    """,
}
SETTINGS = ("targets.mutation_score=0", "mutation.max_children=1", "mutation.timeout_constant=1000",
            f"mutation.time_budget={BUDGET}")
REPORTS = ("scorecard.json", "scorecard.md", "junit.xml", "mutation-report.json", "mutation.json",
           "html/index.html", "modules/app.calc.md", "modules/app.slow.json")


def test_budget_stops_mid_way_scores_what_was_judged_and_the_next_run_resumes(
    target_project: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hold = tmp_path / "hold"
    hold.touch()
    monkeypatch.setenv(HOLD_ENV, str(hold))
    root = target_project(PROJECT)
    first = measure(root, *SETTINGS)
    assert first.exit_code == 3, first.output
    for name in REPORTS:
        assert (root / "reports" / name).is_file(), name
    calc, slow = first.counts()["app.calc"], first.counts()["app.slow"]
    assert calc["not_checked"] + calc["interrupted"] == 0 and calc["killed"] > 0
    left = slow["not_checked"] + slow["interrupted"]
    total = sum(slow.values())
    assert 0 < left < total  # double's mutants judged, triple's not
    [cause] = first.unmeasured().values()
    assert list(first.unmeasured()) == ["app.slow"]
    assert cause.startswith(f"time budget of {BUDGET} s reached (config key 'mutation.time_budget'): "
                            f"{total - left} of {total} mutants judged (score so far ")
    assert cause.endswith("%); the next run resumes")
    card = first.scorecard_json(root)
    status = {c["module"]: v["status"] for c in card["modules"] for v in c["verdicts"]
              if v["metric"] == "mutation_score"}
    assert status["app.slow"] == "not measured" and status["app.calc"] != "not measured"
    assert [u["module"] for u in card["unmeasured"]] == ["app.slow"]
    assert "time budget" in card["unmeasured"][0]["cause"]

    hold.unlink()
    second = measure(root, *SETTINGS)
    assert second.exit_code == 0, second.output
    assert second.unmeasured() == {}
    assert second.counts()["app.calc"] == calc  # kept, not re-run
    assert not any(second.counts()["app.slow"][k] for k in ("not_checked", "interrupted"))
    assert 0 < second.result.executed_this_run <= left < second.result.mutants_total
