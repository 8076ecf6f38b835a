"""harness.collectors.mutation.parse: what a mutation run's artifacts say, read into results - the notes a user
reads, the figures (run time, executed mutants, population of a sample), each mutant's diff, line and note, and
the causes of modules that cannot be scored. Built on test_mutation_results's captured simple-project run."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from test_mutation_results import ARTIFACTS, CALC, INIT, PROJECT, raw_dir

from harness.collectors import mutation
from harness.collectors.mutation.parse import lost_results
from harness.discover import ModuleInfo
from harness.errors import ArtifactError, NoDataError
from harness.model import Metric, MutantStatus, MutationCounts, Note
from harness.sampling import Scope

CODES = json.loads((ARTIFACTS / "simple" / "calc.py.meta").read_text())["exit_code_by_key"]


def texts(notes: tuple[Note, ...]) -> tuple[str, ...]:
    return tuple(n.text for n in notes)


def lines(*events: dict[str, object]) -> str:
    return "".join(json.dumps(e) + "\n" for e in events)


def test_driver_notes_limits_and_figures_of_a_run(tmp_path: Path) -> None:
    art = raw_dir(tmp_path, limits=lines(
        {"mutant": "simple.calc.x_add__mutmut_1", "error": "boom"},
        {"mutant": "simple.calc.x_classify__mutmut_1", "error": "later"},
        {"mutant": "simple.calc.x_classify__mutmut_2", "warning": "memory limit not applied"},
        {"mutant": "simple.calc.x_classify__mutmut_6", "warning": "memory limit not applied"},
    ))
    art.status.write_text(json.dumps({"notes": ["driver healed the stats", 3], "started": 5.0, "ended": 7.25}))
    art.journal.write_text(lines(
        {"event": "plan", "total": 13, "todo": 2},
        {"event": "result", "mutant": "a", "exit_code": 1, "duration": 1.0},
        {"event": "start", "mutant": "b", "at": 1.0},
        {"event": "result", "mutant": "b", "exit_code": 0, "duration": 1.0},
    ))
    result = mutation.parse(art, PROJECT)
    assert texts(result.notes) == (
        "driver healed the stats",
        f"mutation: the harness's runner failed on 2 mutant(s), counted suspicious (first: boom); details in "
        f"{art.limits}",
        "mutation: memory limit not applied (1 mutant(s))",
    )
    assert result.run_seconds == 2.25 and result.executed_this_run == 2
    calc = {m.name: m for m in result.by_module["simple.calc"].mutants}
    assert calc["simple.calc.x_add__mutmut_1"].note == "the harness's runner failed: boom"
    assert calc["simple.calc.x_classify__mutmut_1"].note == "the harness's runner failed: later"
    assert calc["simple.calc.x_classify__mutmut_2"].note == ""
    add = calc["simple.calc.x_add__mutmut_1"]
    assert (add.line, add.duration, add.function, add.module) == (10, 0.043971, "add", "simple.calc")
    assert add.diff.endswith("-    return a + b\n+    return a - b")
    assert calc["simple.calc.x_unused__mutmut_1"].duration is None


def test_without_status_journal_or_fingerprints_the_figures_are_zero(tmp_path: Path) -> None:
    art = raw_dir(tmp_path)
    art.status.write_text(json.dumps({"started": 4.0}))  # never ended
    result = mutation.parse(art, PROJECT)
    assert (result.run_seconds, result.executed_this_run, result.notes) == (0.0, 0, ())
    assert (result.source_fingerprint, result.config_fingerprint) == ("", "")
    assert result.by_module["simple.calc"].population == 0
    art.fingerprint.write_text(json.dumps({"source": "s1", "config": "c1"}))
    art.status.write_text(json.dumps({"started": 4.0, "ended": 4.5}))  # started: when no mutants_started
    again = mutation.parse(art, PROJECT)
    assert (again.source_fingerprint, again.config_fingerprint, again.run_seconds) == ("s1", "c1", 0.5)


def test_unjudged_mutants_are_noted_apart(tmp_path: Path) -> None:
    codes = {**CODES, "simple.calc.x_classify__mutmut_1": None, "simple.calc.x_classify__mutmut_2": 2,
             "simple.calc.x_classify__mutmut_6": 2, "simple.calc.x_classify__mutmut_7": -11}
    result = mutation.parse(raw_dir(tmp_path, codes=codes), PROJECT)
    counts = result.by_module["simple.calc"].counts
    assert (counts.not_checked, counts.interrupted, counts.suspicious) == (1, 2, 1)
    assert texts(result.notes) == (
        "mutation: 3 mutant(s) in scope were not checked (interrupted or left over) and are not in any score; "
        "run again to check them",
        "mutation: 1 suspicious mutant(s) (their test process crashed or was killed by a signal) are in no score",
    )


def test_a_sample_says_its_size_score_and_interval_and_counts_its_population(tmp_path: Path) -> None:
    art = replace(raw_dir(tmp_path), scope=Scope(sample=5, seed=3))
    result = mutation.parse(art, PROJECT)
    calc = result.by_module["simple.calc"]
    assert calc.counts == MutationCounts(killed=2, survived=2, no_coverage=1)
    assert calc.population == 13
    assert result.generation["simple.calc"] == mutation.ModuleGeneration(13, result.mutants_digest, 5)
    assert result.mutants_total == 13
    assert texts(result.notes) == (
        "mutation: a random sample of 5 of 13 mutants (seed 3): score 40.0 %; 95 % interval 11.8-76.9 % (Wilson)",
    )


def test_diff_mode_tests_only_the_changed_functions_mutants(tmp_path: Path) -> None:
    art = replace(raw_dir(tmp_path), scope=Scope(since="HEAD~1", functions={"simple.calc": ["classify", "add"]}))
    result = mutation.parse(art, PROJECT)
    calc = result.by_module["simple.calc"]
    assert calc.counts == MutationCounts(killed=6, survived=5)
    assert {m.function for m in calc.mutants} == {"classify", "add"}
    assert calc.population == 0  # not a sample
    assert texts(result.notes) == (
        "mutation: diff mode since HEAD~1: only the 11 mutants of the 2 function(s) changed were tested",
    )
    both = replace(raw_dir(tmp_path / "both"), scope=Scope(sample=4, seed=1, since="main",
                                                           functions={"simple.calc": ["classify"]}))
    sampled = mutation.parse(both, PROJECT)
    assert sampled.by_module["simple.calc"].population == 10
    assert sampled.by_module["simple.calc"].counts.total == 4
    assert sampled.notes[0].text == ("mutation: diff mode since main: only the 10 mutants of the 1 function(s) changed "
                                "were tested")
    assert sampled.notes[1].text.startswith("mutation: a random sample of 4 of 10 mutants (seed 1): score ")


def test_a_sample_with_no_valid_mutant_has_no_score_and_no_interval(tmp_path: Path) -> None:
    codes = {k: (34 if "unused" not in k else 33) for k in CODES}
    codes["simple.calc.x_unused__mutmut_1"] = 34
    codes["simple.calc.x_unused__mutmut_2"] = 34
    art = replace(raw_dir(tmp_path, codes=codes), scope=Scope(sample=3, seed=0))
    result = mutation.parse(art, PROJECT)
    assert texts(result.notes) == ("mutation: a random sample of 3 of 13 mutants (seed 0): score n/a",)


def test_what_mutmut_found_nothing_to_mutate_in_is_worded_by_reach(tmp_path: Path) -> None:
    art = raw_dir(tmp_path)
    init = mutation.parse(art, PROJECT).by_module["simple"]
    assert init.not_mutated_reason == (
        "mutmut found nothing to mutate: no function it can mutate (module-level code, class bodies and "
        "decorated functions are out of its reach)"
    )
    (art.sources / "simple" / "__init__.py").write_text("def f():\n    pass\n")
    init = mutation.parse(art, PROJECT).by_module["simple"]
    assert init.not_mutated_reason == "mutmut found nothing to mutate: its functions hold no mutable expression"
    assert (init.statements, init.mutable_statements) == (2, 2)
    (art.sources / "simple" / "__init__.py").write_text("class K:\n    class In:\n        def g(self): pass\n")
    assert mutation.parse(art, PROJECT).by_module["simple"].unmutable_functions == ("K.In.g",)


def test_a_source_that_does_not_parse_is_an_artifact_error(tmp_path: Path) -> None:
    art = raw_dir(tmp_path)
    (art.sources / "simple" / "calc.py").write_text("def (:\n")
    with pytest.raises(ArtifactError, match=r"^cannot parse simple/calc.py to measure what mutmut can reach$"):
        mutation.parse(art, PROJECT)


def test_zero_mutants_names_every_module(tmp_path: Path) -> None:
    with pytest.raises(NoDataError, match=r"generated zero mutants in simple, simple.calc: nothing it can"):
        mutation.parse(raw_dir(tmp_path, codes={}), PROJECT)


def test_modules_left_out_say_which_keys(tmp_path: Path) -> None:
    other = ModuleInfo("simple.other", "simple/other.py", "")
    project = replace(PROJECT, modules=(INIT, CALC, other))
    left = mutation.parse(raw_dir(tmp_path), project).by_module["simple.other"]
    assert left.not_mutated_reason == (
        "not mutated: left out by config keys 'mutation.modules'/'mutation.exclude'")
    assert left.counts == MutationCounts()


def test_a_damaged_diff_entry_leaves_the_mutant_without_diff_or_line(tmp_path: Path) -> None:
    art = raw_dir(tmp_path)
    diffs = json.loads(art.diffs.read_text())
    diffs["simple.calc.x_add__mutmut_1"] = ["only one"]
    diffs["simple.calc.x_classify__mutmut_1"] = "not a pair"
    art.diffs.write_text(json.dumps(diffs))
    calc = {m.name: m for m in mutation.parse(art, PROJECT).by_module["simple.calc"].mutants}
    for name in ("simple.calc.x_add__mutmut_1", "simple.calc.x_classify__mutmut_1"):
        assert (calc[name].diff, calc[name].line) == ("", None)
    assert calc["simple.calc.x_classify__mutmut_2"].line == 2


def test_an_unreadable_meta_file_says_why(tmp_path: Path) -> None:
    art = raw_dir(tmp_path)
    path = art.meta_dir / "simple" / "calc.py.meta"
    path.write_text("[]")
    cells = {u.module: u for u in mutation.parse(art, PROJECT).unmeasured}
    assert cells["simple.calc"].metric is Metric.MUTATION_SCORE
    assert cells["simple.calc"].cause == (
        f"mutmut's results for simple.calc are unreadable ({path} is not a mutmut 3.8.1 meta file (no "
        "exit_code_by_key)); the next run rebuilds them")


def test_lost_results_causes() -> None:
    names = ["m.x_f__mutmut_1", "m.x_f__mutmut_2"]
    assert lost_results(CALC, names[::-1], None, names, {}, True) is None
    assert lost_results(CALC, [], "missing", [], {}, True) is None  # nothing generated, nothing lost
    assert lost_results(CALC, [], None, names, {}, False) == (
        "the mutation driver's record of what mutmut generated is missing, so this module's results cannot be "
        "checked; run again")
    assert lost_results(CALC, [], None, None, {"problem": "libcst failed"}, True) == (
        "mutmut generated no readable set of mutants for simple/calc.py (libcst failed); run again")
    assert lost_results(CALC, [], None, None, None, True) == (
        "mutmut generated no readable set of mutants for simple/calc.py (no mutated file was recorded); run again")
    assert lost_results(CALC, [], "missing", names, {}, True) == (
        "mutmut's results for simple.calc are missing (its meta file was deleted during the run?) although "
        "generation produced 2 mutants; the next run regenerates them")


def test_quarantined_covering_tests_make_a_module_unmeasured(tmp_path: Path) -> None:
    codes = {k: 33 for k in CODES}
    art = raw_dir(tmp_path, codes=codes)
    art.quarantine.write_text(json.dumps({"tests": [
        {"nodeid": "tests/t.py::test_x", "cause": "pickling",
         "functions": ["simple.calc.x_add", "simple.calc.x_classify", "simple.calc.x_unused"]}]}))
    result = mutation.parse(art, PROJECT)
    (cell,) = [u for u in result.unmeasured if u.module == "simple.calc"]
    assert cell.cause == ("every test that covers it was quarantined (tests/t.py::test_x (pickling)); none of its "
                          "13 mutants could be judged")
    assert result.quarantine_cover["simple.calc.x_add"] == ("tests/t.py::test_x",)
    assert all(m.status is MutantStatus.NO_COVERAGE for m in result.by_module["simple.calc"].mutants)


def test_runner_errors_of_a_module_are_its_unmeasured_cause(tmp_path: Path) -> None:
    codes = {k: 35 for k in CODES}
    art = raw_dir(tmp_path, codes=codes, limits=lines({"mutant": "simple.calc.x_add__mutmut_1", "error": "boom"}))
    (cell,) = [u for u in mutation.parse(art, PROJECT).unmeasured if u.module == "simple.calc"]
    assert cell.cause == ("none of its 13 mutants got a verdict (13 suspicious); the harness's runner failed: "
                          "boom; executed but unjudged is not a pass")
