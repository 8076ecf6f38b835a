"""Faults in the mutation phase (issue 10): lost, corrupt or mismatched caches and shards, unjudged mutants, hung
and file-deleting tests. Each ends in a figure or a cell marked not measured with its cause - never a silent n/a,
never a pass - and no verdict is lost. Real harness, mutmut and pytest on fixture projects."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import SIMPLE_PROJECT, HarnessResult, run_harness
from mutationrun import measure

from harness.collectors import mutation
from harness.collectors.mutation import spawn
from harness.errors import ToolError

pytestmark = pytest.mark.slow

MUTATION_ONLY = ("--set", "flakiness.enabled=false", "--set", "runtime.enabled=false", "--set",
                 "mutation.enabled=true", "--quiet")


def run(root: Path, *extra: str) -> HarnessResult:
    return run_harness("run", root, *MUTATION_ONLY, *extra, cwd=root)


def verdicts(root: Path, folder: str = "reports") -> dict[str, str | None]:
    """Every mutant's status in the run's mutation.json."""
    doc = json.loads((root / folder / "mutation.json").read_text(encoding="utf-8"))
    return {m["name"]: m["status"] for mm in doc["modules"].values() for m in mm["mutants"]}


def notes(root: Path) -> list[str]:
    return [n["text"] for n in json.loads((root / "reports" / "scorecard.json").read_text())["notes"]]


def mutants_dir(root: Path) -> Path:
    return root / ".harness-cache" / "mutation" / "mutants"


# --------------------------------------------------------------------------------------------------- (a) (c)


@pytest.mark.parametrize(
    ("damage", "note"),
    [
        ("delete the meta file", "regenerated the mutants of simple/calc.py: its meta file was missing"),
        ("corrupt the meta file", "meta file of simple/calc.py was unreadable"),
        ("interrupted generation", "regenerated the mutants of simple/calc.py: its meta file was missing"),
        ("corrupt mutmut's stats", "mutmut's stats file was unreadable"),
        ("corrupt the generation record", "the generation record was unreadable"),
    ],
)
def test_lost_or_corrupt_caches_heal(target_project: Callable[..., Path], damage: str, note: str) -> None:
    """A meta file deleted (or a kill -9 while mutmut wrote the mutants), or any cache unreadable: the next run
    rebuilds it and scores the module as before, saying so - never "nothing to mutate", never a traceback."""
    root = target_project()
    first = run(root)
    assert first.returncode == 1, first.output  # 46.2 % misses 70 %
    before = verdicts(root)
    assert len(before) == 13
    cache = mutants_dir(root)
    meta = cache / "simple" / "calc.py.meta"
    if damage == "delete the meta file":
        meta.unlink()
    elif damage == "corrupt the meta file":
        meta.write_text('{"exit_code_by_key": {"simple.calc.x_add__mutmut_1": ', encoding="utf-8")
    elif damage == "interrupted generation":  # killed between writing the mutated file and its meta file
        mutated = cache / "simple" / "calc.py"
        mutated.write_text(mutated.read_text(encoding="utf-8")[:300], encoding="utf-8")
        meta.unlink()
    elif damage == "corrupt mutmut's stats":
        (cache / "mutmut-stats.json").write_text('{"tests_by_mangled_function_name": {}}', encoding="utf-8")
    else:
        (cache / "harness-generated.json").write_text("\x00garbage", encoding="utf-8")
    healed = run(root)
    assert healed.returncode == 1, healed.output
    assert "Traceback" not in healed.output and "MISSED simple.calc: mutation score 46.2 %" in healed.output
    assert verdicts(root) == before  # no verdict lost
    assert any(note in n for n in notes(root)), notes(root)
    again = run(root)  # healed for good: nothing left to heal
    assert again.returncode == 1 and verdicts(root) == before
    assert not any(note in n for n in notes(root)), notes(root)


# --------------------------------------------------------------------------------------------------- (b)

CRASHING = {
    "pyproject.toml": '[project]\nname = "crash"\nversion = "0"\n',
    "crash/__init__.py": "",
    "crash/calc.py": "def add(a, b):\n    return a + b\n\n\ndef double(x):\n    return 2 * x\n",
    "tests/test_calc.py": """
        import os
        import signal

        from crash.calc import add, double

        NO_MUTANT = ("", "stats", "fail", "list_all_tests", "mutant_generation")


        def test_calc():
            if os.environ.get("MUTANT_UNDER_TEST", "") not in NO_MUTANT:
                os.kill(os.getpid(), signal.SIGSEGV)  # every mutant's process crashes
            assert add(1, 2) == 3
            assert double(4) == 8
    """,
}


def test_executed_but_unjudged_is_not_measured(target_project: Callable[..., Path]) -> None:
    """Every mutant suspicious (its process crashed): the module is not measured, exit 3 - it used to be n/a and
    "all targets met"."""
    root = target_project(CRASHING)
    result = measure(root)
    assert result.exit_code == 3, result.output
    counts = result.counts()["crash.calc"]
    assert counts["suspicious"] > 0 and sum(counts.values()) == counts["suspicious"]
    assert "NOT MEASURED crash.calc: mutation score: none of its" in result.output
    assert "suspicious" in result.unmeasured()["crash.calc"]
    assert set(verdicts(root).values()) == {"suspicious"}  # every verdict kept, none dropped


def test_an_absurd_memory_limit_is_a_config_error(target_project: Callable[..., Path]) -> None:
    root = target_project()
    result = run(root, "--set", "mutation.memory_limit_mb=99999999999999999999")
    assert result.returncode == 2, result.output
    assert "mutation.memory_limit_mb" in result.stderr and result.stderr.count("\n") == 1
    assert mutation.Limits is not None


# --------------------------------------------------------------------------------------------------- (d)

HANGING = {
    "pyproject.toml": '[project]\nname = "hang"\nversion = "0"\n',
    "hang/__init__.py": "",
    "hang/calc.py": "def add(a, b):\n    return a + b\n\n\ndef neg(x):\n    return -x\n",
    "tests/test_calc.py": """
        import os
        import time

        from hang.calc import add, neg


        def test_add_waits_under_mutmut():
            if "MUTANT_UNDER_TEST" in os.environ:
                time.sleep(600)  # hangs on mutmut's copy only
            assert add(1, 2) == 3


        def test_neg():
            assert neg(2) == -2
    """,
}


def test_a_hung_test_is_named_and_quarantined(target_project: Callable[..., Path]) -> None:
    """A test that hangs with no mutant active fails after the timeout, named, and is quarantined; the rest is
    measured (it used to wait the full timeout and name nothing)."""
    root = target_project(HANGING)
    result = measure(root, "timeout=3", "targets.mutation_score=0")
    nodeid = "tests/test_calc.py::test_add_waits_under_mutmut"
    assert result.quarantined() == {nodeid: "instrumented"}, result.output
    detail = next(q.detail for q in result.result.quarantined if q.nodeid == nodeid)
    assert "ran over 3 s with no mutant active" in detail
    assert result.counts()["hang.calc"]["killed"] >= 1  # neg's mutants: measured
    assert result.exit_code == 0  # add's mutants are no coverage (their test quarantined), neg's judged


# --------------------------------------------------------------------------------------------------- (e) (f)


def test_merge_refuses_shards_of_different_code_or_config(target_project: Callable[..., Path],
                                                          tmp_path: Path) -> None:
    """Same mutant names, different code (or config): one line, exit 3, nothing written; a shard never gates its
    own partial score."""
    one, two, other = (target_project() for _ in range(3))
    calc = other / "simple" / "calc.py"
    calc.write_text(calc.read_text().replace('return "zero"', 'return "nil"'))  # the same mutant names
    assert run(one, "--shard", "1/2").returncode in (0, 1)
    for root in (two, other):
        assert run(root, "--shard", "2/2").returncode in (0, 1)
        card = json.loads((root / "reports" / "scorecard.json").read_text())
        assert "mutation_score" not in card["metrics"]  # (f) not gated before the merge
        assert all(v["status"] != "fail" for c in card["modules"] for v in c["verdicts"]
                   if v["metric"] == "mutation_score")
    assert json.loads((two / "reports" / "mutation.json").read_text())["mutants_digest"] == json.loads(
        (other / "reports" / "mutation.json").read_text())["mutants_digest"]
    bad = run_harness("merge", one / "reports", other / "reports", "--output", tmp_path / "m1", cwd=tmp_path)
    assert bad.returncode == 3 and bad.stderr.count("\n") == 1, bad.output
    assert "different code" in bad.stderr and "source fingerprint" in bad.stderr
    assert not (tmp_path / "m1" / "mutation.json").exists()
    changed = target_project()
    assert run(changed, "--shard", "2/2", "--set", "mutation.timeout_multiplier=5").returncode in (0, 1)
    bad = run_harness("merge", one / "reports", changed / "reports", "--output", tmp_path / "m2", cwd=tmp_path)
    assert bad.returncode == 3 and "different config" in bad.stderr and bad.stderr.count("\n") == 1
    good = run_harness("merge", one / "reports", two / "reports", "--output", tmp_path / "m3", cwd=tmp_path)
    assert good.returncode == 1, good.output  # 46.2 % misses 70 %: gated after the merge
    assert len(verdicts(tmp_path, "m3")) == 13


# --------------------------------------------------------------------------------------------------- (g)

CLEANING = {
    **{k: v for k, v in SIMPLE_PROJECT.items()},
    "simple/files.py": """
        from pathlib import Path


        def cleanup(folder):
            removed = []
            for path in sorted(Path(folder).iterdir()):
                if path.is_file() and path.suffix != ".py":
                    path.unlink()
                    removed.append(path.name)
            return removed
    """,
    "tests/test_files.py": """
        from pathlib import Path

        from simple.files import cleanup

        PACKAGE = Path(__file__).resolve().parent.parent / "simple"


        def test_cleanup_removes_generated_files():
            (PACKAGE / "scratch.tmp").write_text("x")
            assert "scratch.tmp" in cleanup(PACKAGE)
            assert (PACKAGE / "calc.py").exists()
    """,
}


def test_a_test_deleting_files_in_the_work_copy_loses_no_module(target_project: Callable[..., Path]) -> None:
    """The test deletes every non-.py file next to the package's modules - in mutmut's copy, its meta files.
    The modules are still measured (restored from the generation record, written back), never n/a."""
    root = target_project(CLEANING)
    result = measure(root, "targets.mutation_score=0")
    assert result.exit_code == 0, result.output
    counts = result.counts()
    assert sum(counts["simple.calc"].values()) == 13 and counts["simple.calc"]["killed"] == 6
    assert sum(counts["simple.files"].values()) > 0 and counts["simple.files"]["killed"] > 0
    assert not result.unmeasured()
    assert any("lost its mutants during the run" in n.text or "deleted during the run" in n.text
               for n in result.result.notes)
    again = measure(root, "targets.mutation_score=0")
    assert again.counts() == counts and again.exit_code == 0


def test_results_missing_at_the_end_are_not_measured(target_project: Callable[..., Path],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """If a module's results are gone all the same (here: deleted after the run, before they are read), the
    module is not measured with the cause - the invariant, checked when the results are read."""
    root = target_project()
    real_collect = spawn._collect

    def collect_then_lose(art: mutation.MutationArtifacts) -> None:
        real_collect(art)
        os.unlink(art.meta_dir / "simple" / "calc.py.meta")

    monkeypatch.setattr(spawn, "_collect", collect_then_lose)
    result = measure(root)
    assert result.exit_code == 3
    assert "mutmut's results for simple.calc are missing" in result.unmeasured()["simple.calc"]
    shutil.rmtree(root / "reports")


CRASH_WITH_NO_MUTANT = {
    **{k: v for k, v in SIMPLE_PROJECT.items()},
    "tests/test_crash.py": """
        import os
        import signal

        from simple.calc import add


        def test_native_extension_under_mutmut():
            if os.environ.get("MUTANT_UNDER_TEST") == "stats":  # a crash only mutmut's instrumentation triggers
                os.kill(os.getpid(), signal.SIGSEGV)
            assert add(2, 2) == 4
    """,
}


def test_a_test_crashing_mutmuts_process_is_quarantined(target_project: Callable[..., Path]) -> None:
    """A test that kills the process running the suite (a segfault) with no mutant active: named, quarantined,
    and the phase runs again without it - the other tests' verdicts are all there."""
    root = target_project(CRASH_WITH_NO_MUTANT)
    result = measure(root, "targets.mutation_score=0")
    nodeid = "tests/test_crash.py::test_native_extension_under_mutmut"
    assert result.quarantined() == {nodeid: "instrumented"}
    detail = next(q.detail for q in result.result.quarantined if q.nodeid == nodeid)
    assert "crashed mutmut's test process (signal SIGSEGV)" in detail
    assert sum(result.counts()["simple.calc"].values()) == 13 and result.exit_code == 0
    assert (root / "reports" / "raw" / "mutation" / "mutmut-crash-1.log").is_file()
    again = measure(root, "targets.mutation_score=0")  # kept in quarantine: no crash, no second start
    assert again.quarantined() == {nodeid: "instrumented"} and again.counts() == result.counts()
    assert not (root / "reports" / "raw" / "mutation" / "mutmut-crash-1.log").exists()
    (root / "tests" / "test_crash.py").write_text((root / "tests" / "test_crash.py").read_text() + "\n")
    with pytest.raises(ToolError, match=r"crashed mutmut.s test process \(signal SIGSEGV\) in its stats phase"):
        measure(root, "targets.mutation_score=0", "mutation.auto_quarantine=false")
