"""Quarantine per test, end to end through the mutation phase (real mutmut, driver and reports), on one tiny
project per way a test fails on mutmut's instrumented copy (tests/fixtures/quarantine_projects.py).

Each run writes a scorecard that lists the quarantined test with its cause; every module's mutation counts equal
those of the same project without that test; the exit code is 3 only where a module is left with no usable test
(the introspection project's ``app.config``), else 0 (targets at 0: only measurement is under test here).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fixtures import quarantine_projects as qp
from mutationrun import measure

from harness.errors import ToolError
from harness.model import QuarantineCause, QuarantinedTest

pytestmark = pytest.mark.slow

ANY_SCORE = "targets.mutation_score=0"
EXIT_BY_PROJECT = {"introspection": 3}  # app.config's only test is quarantined: not measured


@pytest.mark.parametrize("name", list(qp.PROJECTS))
def test_offending_test_is_quarantined_with_its_cause(target_project: Callable[..., Path], name: str) -> None:
    nodeid, cause, module = qp.OFFENDING[name]
    root = target_project(qp.PROJECTS[name])
    run = measure(root, ANY_SCORE)
    assert run.quarantined() == {nodeid: cause}, run.output
    assert run.exit_code == EXIT_BY_PROJECT.get(name, 0), run.output
    card = run.scorecard_json(root)
    assert [(q["nodeid"], q["cause"]) for q in card["quarantined"]] == [(nodeid, cause)]
    assert all(q["reproduce"] and q["detail"] for q in card["quarantined"])
    if name in EXIT_BY_PROJECT:
        assert [u["module"] for u in card["unmeasured"]] == [module]
        assert nodeid in card["unmeasured"][0]["tests"]
        verdict = next(v for c in card["modules"] if c["module"] == module for v in c["verdicts"]
                       if v["metric"] == "mutation_score")
        assert verdict["status"] == "not measured"
        assert f"NOT MEASURED {module}: mutation score: every test that covers it was quarantined" in run.output
    else:
        assert card["unmeasured"] == []
    alone = measure(target_project(qp.without(qp.PROJECTS[name], nodeid)), ANY_SCORE)
    assert alone.exit_code == 0 and alone.quarantined() == {}
    assert run.counts() == alone.counts()  # every module, the offending one included (no coverage either way)
    print(f"{name}: exit {run.exit_code}; quarantined {run.quarantined()}; counts {run.counts()}")


@pytest.mark.parametrize(
    ("name", "extra"),
    [
        ("pickling", "tests/test_records.py::test_points_pickle"),
        ("recursion", "tests/test_tree.py::test_deep_tree"),
        ("introspection", "tests/test_plugins.py::test_public_names_are_exported"),
    ],
)
def test_without_the_driver_fixes_more_tests_are_quarantined(
    target_project: Callable[..., Path], monkeypatch: pytest.MonkeyPatch, name: str, extra: str
) -> None:
    """What each fix buys: the test it repairs is quarantined when the fixes are off."""
    monkeypatch.setenv("HARNESS__MUTATION_FIXES", "")
    nodeid, cause, _module = qp.OFFENDING[name]
    run = measure(target_project(qp.PROJECTS[name]), ANY_SCORE)
    assert run.quarantined() == {nodeid: cause, extra: cause}, run.output


def test_given_and_manual_quarantine_leave_tests_out_from_the_start(target_project: Callable[..., Path]) -> None:
    """Tests the flakiness phase hands over, and config's globs, never run in mutmut's phases; they are listed
    with their cause, and the mutants only they cover say so."""
    nodeid = qp.OFFENDING["broken"][0]
    given = QuarantinedTest(nodeid, QuarantineCause.BROKEN, "failed in all 12 runs", "pytest " + nodeid)
    root = target_project(qp.PROJECTS["broken"])
    run = measure(root, ANY_SCORE, "mutation.quarantine=['tests/test_calc.py::test_cl*', 'tests/nothing.py']",
                  quarantine=[given])
    assert run.quarantined() == {nodeid: "broken", "tests/test_calc.py::test_clamp": "manual"}
    assert next(q for q in run.result.quarantined if q.nodeid == nodeid) == given
    clamp = [m for m in run.result.by_module["app.calc"].mutants if m.function == "clamp"]
    assert clamp and all(m.status.value == "no_coverage" for m in clamp)
    assert all("tests/test_calc.py::test_clamp (manual)" in m.note for m in clamp)
    assert any("'tests/nothing.py' matches no test" in n.text for n in run.result.notes)
    assert run.exit_code == 0  # app.calc keeps test_add: measured


def test_strict_runs_stop_instead_of_quarantining(target_project: Callable[..., Path]) -> None:
    root = target_project(qp.PROJECTS["state-leak"])
    for setting in ("mutation.auto_quarantine=false", "gate.strict=true"):
        with pytest.raises(ToolError) as info:
            measure(root, ANY_SCORE, setting)
        message = str(info.value)
        assert "\n" not in message
        assert "tests/test_registry.py::test_first_plugin_is_alone (state-leak: passes " in message
        assert "mutation.auto_quarantine" in message


def test_a_test_that_fails_only_under_mutmut_is_quarantined(target_project: Callable[..., Path]) -> None:
    """A test that fails on mutmut's copy for a reason of its own (here: it inspects mutmut's variable) leaves
    the phase as 'instrumented'; its module, with no other test, is not measured: exit 3, never a score."""
    root = target_project(
        {
            **qp.BASE,
            "tests/test_calc.py": "import os\nfrom app.calc import add\n\n\ndef test_add():\n"
            "    assert os.environ.get('MUTANT_UNDER_TEST') != ''\n    assert add(1, 2) == 3\n",
        }
    )
    run = measure(root, ANY_SCORE)
    assert run.quarantined() == {"tests/test_calc.py::test_add": "instrumented"}
    assert run.exit_code == 3 and set(run.unmeasured()) == {"app.calc"}
    add = [m for m in run.result.by_module["app.calc"].mutants if m.function == "add"]
    assert add and all(m.status.value == "no_coverage" and "quarantined" in m.note for m in add)
