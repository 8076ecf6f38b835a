"""Scorecard JSON (harness.serialize): derived figures written for readers and ignored on reading, and a damaged
document refused with the place and the reason."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import reportdata

from harness import model
from harness.serialize import ShapeError, from_data, scorecard_from_dict, scorecard_to_dict

DOC = scorecard_to_dict(reportdata.scorecard())


def test_derived_figures_are_written_and_ignored_on_reading() -> None:
    calc = DOC["modules"][1]
    assert calc["passed"] is False and DOC["passed"] is False
    assert calc["coverage"]["numbers"]["line_percent"] == 80.0
    assert calc["coverage"]["missing_arcs_text"] == ["4->5", "13->14"]
    assert calc["mutation"]["counts"]["score"] == 60.0 and calc["mutation"]["counts"]["valid"] == 5
    assert DOC["totals"]["runtime"]["median"] == 1.5 and calc["verdicts"][0]["comparison"] == ">="
    doc = copy.deepcopy(DOC)
    doc["modules"][1]["mutation"]["counts"]["score"] = 1.0
    doc["passed"] = True
    assert scorecard_from_dict(doc) == reportdata.scorecard()


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def damage(doc: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        here: Any = doc
        for key in parents:
            here = here[int(key) if key.isdigit() else key]
        here[int(last) if last.isdigit() else last] = value
    return damage


@pytest.mark.parametrize(("damage", "message"), [
    (_set("modules/1/coverage/numbers/statements", "10"),
     "modules[1].coverage.numbers.statements: expected an integer, got str"),
    (_set("modules/1/coverage/numbers/statements", True),
     "modules[1].coverage.numbers.statements: expected an integer, got bool"),
    (_set("modules/0/coverage/numbers/partial_branches", 1.5),
     "modules[0].coverage.numbers.partial_branches: expected an integer, got float"),
    (_set("totals/runtime/wall_seconds/0", "1"), "totals.runtime.wall_seconds[0]: expected a number, got str"),
    (_set("totals/runtime/wall_seconds/0", False), "totals.runtime.wall_seconds[0]: expected a number, got bool"),
    (_set("totals/runtime/wall_seconds/0", 1e400), "totals.runtime.wall_seconds[0]: expected a finite number, got inf"),
    (_set("totals/runtime/wall_seconds/0", 10**400),
     "totals.runtime.wall_seconds[0]: expected a finite number, got 10000000000000000000"),
    (_set("modules/1/mutation/mutants/0/status", "zombie" * 10),
     "modules[1].mutation.mutants[0].status: 'zombiezombiezombiezombiezombiezombiezomb' is not a MutantStatus"),
    (lambda doc: [doc["modules"][1].pop(k) for k in ("module", "path")], "modules[1]: missing module, path"),
    (_set("modules/1/coverage/missing_arcs/0", [4]), "modules[1].coverage.missing_arcs[0]: expected 2 items, got 1"),
    (_set("modules", {}), "modules: expected a list, got dict"),
    (_set("modules/1/coverage", 3), "modules[1].coverage: expected an object, got int"),
    (_set("meta", []), "meta: expected an object, got list"),
    (_set("project", None), "project: expected a string, got null"),
    (_set("modules/1/mutation/mutants/0/line", "2"),
     "modules[1].mutation.mutants[0].line: expected an integer, got str"),
])
def test_a_damaged_scorecard_is_refused_naming_the_place(damage: Callable[[dict[str, Any]], None],
                                                          message: str) -> None:
    doc = copy.deepcopy(DOC)
    damage(doc)
    with pytest.raises(ShapeError) as err:
        scorecard_from_dict(doc)
    assert str(err.value) == message


def test_shapes_outside_a_scorecard() -> None:
    with pytest.raises(ShapeError, match=r"^the document: expected an object, got list$"):
        from_data(model.Scorecard, [])
    with pytest.raises(ShapeError, match=r"^\['a'\]: expected an integer, got str$"):
        from_data(dict[str, int], {"a": "x"})
    with pytest.raises(ShapeError, match=r"^the document: expected true or false, got int$"):
        from_data(bool, 1)
    with pytest.raises(ShapeError, match=r"^the document: expected a list, got str$"):
        from_data(tuple[int, ...], "x")
    assert from_data(int | None, None) is None and from_data(tuple[int, str], [1, "a"]) == (1, "a")
