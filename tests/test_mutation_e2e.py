"""The mutation phase end to end on fixture projects: known mutants, the sandbox's guarantees, the refusals,
kill -9 and resume, a warm re-run, and 2 shards merged against a single run. Real harness, mutmut, pytest."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest
from conftest import LOAD_PROOF_RUNTIME, SIMPLE_PROJECT, HarnessResult, run_harness, tree_checksum

from harness import shard_plan

pytestmark = pytest.mark.slow

FAST = (
    "--set",
    "flakiness.enabled=false",
    "--set",
    "runtime.enabled=false",
    "--set",
    "mutation.enabled=true",
    "--quiet",
)


def run_mutation(root: Path, *extra: str) -> HarnessResult:
    return run_harness("run", root, *FAST, *extra, cwd=root)


def results(root: Path) -> dict[str, dict[str, object]]:
    doc = json.loads((root / "reports" / "mutation.json").read_text(encoding="utf-8"))
    return doc["modules"]


def statuses(root: Path) -> dict[str, str]:
    return {m["name"]: m["status"] for mm in results(root).values() for m in mm["mutants"]}


def executions(root: Path) -> list[str]:
    """The mutants the run forked (the driver's executions.jsonl)."""
    path = root / "reports" / "raw" / "mutation" / "executions.jsonl"
    return [json.loads(ln)["mutant"] for ln in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def driver_status(root: Path) -> dict[str, Any]:
    return cast(dict[str, Any], json.loads((root / "reports" / "raw" / "mutation" / "status.json").read_text("utf-8")))


def journal_results(root: Path) -> list[str]:
    lines = (root / "reports" / "raw" / "mutation" / "journal.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(ln)["mutant"] for ln in lines if '"result"' in ln]


def test_known_mutants_sandboxed_and_incremental(target_project: Callable[..., Path]) -> None:
    root = target_project()
    before = tree_checksum(root)
    first = run_mutation(root)
    assert first.returncode == 1, first.output  # 46 % mutation score misses the 70 % target
    assert "MISSED simple.calc: mutation score 46.2 %" in first.output
    calc = results(root)["simple.calc"]
    assert calc["counts"]["killed"] == 6 and calc["counts"]["survived"] == 3
    # unused() is never called; classify's line 5 (`return "zero"`) runs in no test (line selection: no
    # coverage, where mutmut's function-level selection runs classify's tests and calls them survived)
    assert calc["counts"]["no_coverage"] == 4
    survivors = {(m["function"], m["line"]) for m in calc["mutants"] if m["status"] == "survived"}
    assert survivors == {("classify", 2), ("classify", 4)}
    unreached = {m["name"] for m in calc["mutants"] if m["status"] == "no_coverage" and m["function"] == "classify"}
    assert {m["line"] for m in calc["mutants"] if m["name"] in unreached} == {5}
    assert all(m["diff"].count("\n-") >= 1 for m in calc["mutants"])
    assert results(root)["simple"]["not_mutated_reason"]
    card = json.loads((root / "reports" / "scorecard.json").read_text())
    assert "mutation_score" in card["metrics"]
    assert tree_checksum(root) == before  # no mutants/, no config, nothing written in the user's files
    assert not (root / "mutants").exists()
    assert len(journal_results(root)) == 11  # every mutant with mutmut tests is registered (the 2 unreached
    assert len(executions(root)) == 9  # ones without a fork); unused()'s never reach the runner

    # Warm re-run after editing one function: only its mutants run again; the other verdicts stand.
    calc_py = root / "simple" / "calc.py"
    calc_py.write_text(calc_py.read_text().replace("return a + b", "return b + a"))
    second = run_mutation(root)
    assert second.returncode == 1, second.output
    rerun = journal_results(root)
    assert rerun and all(".x_add__" in name for name in rerun), rerun  # the unreached ones stay no coverage
    assert statuses(root)["simple.calc.x_classify__mutmut_1"] == "survived"
    # mutmut's stats were kept: its test listing came from the session the clean run then used (one collection)
    assert driver_status(root).get("listing_from_session") is True

    # A stronger test, in a new test file: mutmut keeps survivors whatever the tests do; the harness re-checks
    # the survivors whose covering tests changed or are new, and the no-coverage mutants a test now reaches,
    # and only those.
    survived = {k for k, v in statuses(root).items() if v == "survived"} | unreached
    (root / "tests" / "test_zero.py").write_text(
        'from simple.calc import classify\n\n\ndef test_zero():\n    assert classify(0) == "zero"\n')
    third = run_mutation(root)
    assert third.returncode in (0, 1), third.output
    assert set(journal_results(root)) == survived
    after = statuses(root)
    assert after["simple.calc.x_classify__mutmut_7"] == after["simple.calc.x_classify__mutmut_8"] == "killed"
    assert tree_checksum(root) != before  # (the user edited one file and added one; the harness wrote none)


FAULTS = {
    "pyproject.toml": '[project]\nname = "faults"\nversion = "0"\n',
    "faults/__init__.py": "",
    "faults/loops.py": """
        def count_to(n):
            i = 0
            while i < n:
                i += 1
            return i
    """,
    "faults/memory.py": """
        def fill(n):
            data = []
            while len(data) != n:
                data.extend([0] * 1000)
            return data
    """,
    "faults/files.py": """
        from pathlib import Path


        def remove_matching(folder, suffix):
            removed = []
            for path in sorted(Path(folder).iterdir()):
                if path.suffix == suffix:
                    path.unlink()
                    removed.append(path.name)
            return removed
    """,
    "data/keep.txt": "the user's data\n",
    "tests/test_faults.py": """
        from pathlib import Path

        from faults.files import remove_matching
        from faults.loops import count_to
        from faults.memory import fill

        DATA = Path(__file__).resolve().parent.parent / "data"


        def test_count():
            assert count_to(3) == 3


        def test_fill():
            assert len(fill(3000)) == 3000


        def test_remove_matching():
            (DATA / "junk.tmp").write_text("x")
            assert remove_matching(DATA, ".tmp") == ["junk.tmp"]
            assert (DATA / "keep.txt").exists()
    """,
}


def test_runaway_mutants_are_contained(target_project: Callable[..., Path]) -> None:
    """Infinite loops time out, unbounded allocation hits the memory cap, file deletion stays in the sandbox;
    the run goes on and scores every mutant."""
    root = target_project(FAULTS)
    before = tree_checksum(root)
    result = run_mutation(
        # the time limit (clean duration + 0.5 s) x 5 leaves the allocating mutants time to reach the memory cap
        # on a loaded machine (x 2 let them time out first, now and then, under `pytest -n 2`)
        root, "--set", "mutation.memory_limit_mb=300", "--set", "mutation.timeout_multiplier=5"
    )
    assert result.returncode in (0, 1), result.output  # it ended: the loops stopped at their time limits
    by_name = statuses(root)
    loops = {k: v for k, v in by_name.items() if ".loops." in k}
    assert "timeout" in loops.values(), loops  # i -= 1 or i = 1 never reaches n
    memory = [m for m in results(root)["faults.memory"]["mutants"] if m["note"]]
    assert memory and all(m["status"] == "killed" and "memory limit" in m["note"] for m in memory)
    assert not [v for v in by_name.values() if v in ("not_checked", "interrupted")]
    assert tree_checksum(root) == before  # the deleting mutants deleted the sandbox's copy, not data/keep.txt
    assert (root / "data" / "keep.txt").read_text() == "the user's data\n"


def test_forced_fail_refusal_exits_3(target_project: Callable[..., Path]) -> None:
    """A suite that swallows every exception detects no mutant: mutmut's forced-fail check, one line, exit 3."""
    files = {k: v for k, v in SIMPLE_PROJECT.items() if not k.startswith("tests/")}
    test = (
        "from simple.calc import add\n\n\ndef test_add():\n    try:\n        add(1, 2)\n"
        "    except Exception:\n        pass\n"
    )
    root = target_project(files, **{"tests__test_calc.py": test})
    result = run_mutation(root)
    assert result.returncode == 3, result.output
    # The phase's refusal leaves the mutation cells NOT MEASURED with the cause; the other reports are written.
    assert "NOT MEASURED simple.calc: mutation score: mutation phase failed:" in result.stdout
    assert "forced-fail check failed" in result.stdout
    assert "Traceback" not in result.output


def test_a_test_listing_module_contents_is_measured(target_project: Callable[..., Path]) -> None:
    """mutmut's injected names are hidden from the mutated module's namespace: a test that lists it judges
    mutants like any other (it used to stop the phase with "exclude the module")."""
    files = {k: v for k, v in SIMPLE_PROJECT.items() if not k.startswith("tests/")}
    test = (
        "import simple.calc\n\n\ndef test_names():\n"
        "    assert not [n for n in vars(simple.calc) if 'mutmut' in n]\n"
        "    assert simple.calc.add(1, 2) == 3\n"
    )
    root = target_project(files, **{"tests__test_calc.py": test})
    result = run_mutation(root)
    assert result.returncode == 1, result.output
    assert "mutation score 7.7 %" in result.output and "exclude" not in result.output
    assert results(root)["simple.calc"]["counts"]["killed"] == 1


def test_zero_mutants_exit_3(target_project: Callable[..., Path]) -> None:
    root = target_project(
        {
            "pyproject.toml": '[project]\nname = "consts"\nversion = "0"\n',
            "consts/__init__.py": "LIMIT = 3\nNAMES = ('a', 'b')\n",
            "tests/test_consts.py": "from consts import LIMIT\n\n\ndef test_limit():\n"
            "    assert LIMIT == 3\n",
        }
    )
    result = run_mutation(root)
    assert result.returncode == 3, result.output
    assert "no test executes any mutated function" in result.output or "zero mutants" in result.output
    assert "NOT MEASURED consts: mutation score" in result.stdout


def test_a_hidden_pytest_config_is_copied_into_mutmuts_work_copy(target_project: Callable[..., Path]) -> None:
    """A project whose pytest config is ``.pytest.ini`` with ``pythonpath = src`` (semver): without the file in
    mutmut's work copy, pytest found the sandbox's ``.pytest.ini`` one folder up and put the sandbox's unmutated
    ``src`` first on sys.path, so no test ran a mutated function and the phase ended "not measured" (exit 3)."""
    files = {k.replace("simple/", "src/simple/"): v for k, v in SIMPLE_PROJECT.items()}
    files[".pytest.ini"] = "[pytest]\npythonpath = src\n"
    root = target_project(files)
    result = run_mutation(root)
    assert result.returncode == 1, result.output  # measured: the score misses its target, as for SIMPLE_PROJECT
    assert "no test executes any mutated function" not in result.output
    calc = results(root)["simple.calc"]
    assert (calc["counts"]["killed"], calc["counts"]["survived"], calc["counts"]["no_coverage"]) == (6, 3, 4), \
        calc["counts"]


SLOW_PROJECT = {
    "pyproject.toml": '[project]\nname = "slowcalc"\nversion = "0"\n',
    "slowcalc/__init__.py": "",
    "slowcalc/ops.py": "\n\n".join(
        f"def op{i}(a, b):\n    if a > {i}:\n        return a + b * {i}\n    return a - b + {i}\n"
        for i in range(8)
    ),
    "tests/test_ops.py": "import time\n\nfrom slowcalc import ops\n\n\n"
    + "\n\n".join(
        f"def test_op{i}():\n    time.sleep(0.15)\n    assert ops.op{i}({i + 1}, 2) == {i + 1} + 2 * {i}\n"
        for i in range(8)
    ),
}


def test_kill_9_then_resume_loses_no_verdict(target_project: Callable[..., Path]) -> None:
    root = target_project(SLOW_PROJECT)
    mutants = root / ".harness-cache" / "mutation" / "mutants"
    journal = mutants / "harness-journal.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HARNESS")} | LOAD_PROOF_RUNTIME
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness", "run", str(root), *FAST],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if journal.exists() and journal.read_text().count('"result"') >= 6:
            break
        assert proc.poll() is None, "the run ended before it could be killed"
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    time.sleep(1.5)  # PR_SET_PDEATHSIG takes mutmut and its children down with the harness
    recorded = {}  # every verdict recorded before the kill: saved in the meta file or journaled
    meta = json.loads((mutants / "slowcalc" / "ops.py.meta").read_text())
    recorded.update({k: v for k, v in meta["exit_code_by_key"].items() if v is not None})
    for line in journal.read_text().splitlines():
        if '"result"' in line and line.endswith("}"):
            event = json.loads(line)
            recorded[event["mutant"]] = event["exit_code"]
    assert 6 <= len(recorded) < len(meta["exit_code_by_key"])

    result = run_mutation(root)
    assert result.returncode in (0, 1), result.output
    plan = json.loads((root / "reports" / "raw" / "mutation" / "journal.jsonl").read_text().splitlines()[0])
    assert plan["event"] == "plan" and plan["total"] - plan["todo"] >= len(recorded)
    assert not set(journal_results(root)) & set(recorded)  # nothing recorded ran twice
    final = json.loads((mutants / "slowcalc" / "ops.py.meta").read_text())
    assert {k: final["exit_code_by_key"][k] for k in recorded} == recorded
    assert None not in final["exit_code_by_key"].values()


def test_two_shards_merged_equal_a_single_run(target_project: Callable[..., Path], tmp_path: Path) -> None:
    """Two shards by name hash (no plan yet), merged; the merge writes the shard plan; two fresh shards that
    follow it (restored into their cache, as CI does) merge into the same scorecard as a single run."""
    single = target_project(SLOW_PROJECT)
    assert run_mutation(single).returncode in (0, 1)
    first = [run_shard(target_project(SLOW_PROJECT), k) for k in (1, 2)]
    assert all("split by name hash: no shard plan at .harness-cache/verdicts/shard-plan.json yet" in
               " ".join(n["text"] for n in card_of(r)["notes"]) for r in first)
    assert_merged_equals_single(first, tmp_path / "merged", single)
    plan_file = tmp_path / ".harness-cache" / "verdicts" / "shard-plan.json"
    count, plan = shard_plan.from_document(json.loads(plan_file.read_text()))
    assert count == 2 and set(plan) == set(statuses(single))
    assert any("the next shard plan (2 shards" in n["text"] for n in card_of(tmp_path / "merged")["notes"])

    second = []
    for k in (1, 2):
        root = target_project(SLOW_PROJECT)
        (root / ".harness-cache" / "verdicts").mkdir(parents=True)
        shutil.copyfile(plan_file, root / ".harness-cache" / "verdicts" / "shard-plan.json")
        second.append(run_shard(root, k))
        mine = {n for n, s in plan.items() if s == k}
        assert set(statuses(root)) == mine and set(journal_results(root)) <= mine  # the driver followed it
        assert any("split by the shard plan .harness-cache/verdicts/shard-plan.json" in n["text"]
                   for n in card_of(root)["notes"])
    assert_merged_equals_single(second, tmp_path / "merged2", single)


def run_shard(root: Path, k: int) -> Path:
    part = run_mutation(root, "--shard", f"{k}/2")
    assert part.returncode in (0, 1), part.output
    assert "mutation_score" not in card_of(root)["metrics"]  # a partial score is not gated
    return root


def card_of(root: Path) -> dict[str, Any]:
    folder = root / "reports" if (root / "reports").is_dir() else root
    return cast(dict[str, Any], json.loads((folder / "scorecard.json").read_text()))


def assert_merged_equals_single(shards: list[Path], output: Path, single: Path) -> None:
    merged = run_harness("merge", *(r / "reports" for r in shards), "--output", output, cwd=output.parent)
    assert merged.returncode in (0, 1), merged.output
    whole = json.loads((single / "reports" / "mutation.json").read_text())["modules"]
    both = json.loads((output / "mutation.json").read_text())["modules"]
    assert {m: v["counts"] for m, v in both.items()} == {m: v["counts"] for m, v in whole.items()}
    assert {m["name"]: m["status"] for v in both.values() for m in v["mutants"]} == {
        m["name"]: m["status"] for v in whole.values() for m in v["mutants"]
    }
    card, single_card = card_of(output), card_of(single)
    assert card["totals"]["mutation"] == single_card["totals"]["mutation"]
    assert [c["mutation"]["counts"] for c in card["modules"]] == [
        c["mutation"]["counts"] for c in single_card["modules"]
    ]
