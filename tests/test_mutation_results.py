"""Mutation collector's pure parts: parse() on captured artifacts, shards and their merge (a Hypothesis
property: merging any shard split gives the whole run's results), and the mutmut config it writes."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness import shards
from harness.collectors import mutation
from harness.collectors.mutation import sandbox
from harness.config import load_config
from harness.discover import ModuleInfo, Project, discover
from harness.errors import ArtifactError, ConfigError, NoDataError
from harness.model import ModuleMutation, Mutant, MutantStatus, MutationCounts, QuarantineCause

ARTIFACTS = Path(__file__).parent / "artifacts" / "mutmut"
CALC = ModuleInfo("simple.calc", "simple/calc.py", "")
INIT = ModuleInfo("simple", "simple/__init__.py", "")


def raw_dir(
    tmp_path: Path,
    *,
    shard: mutation.Shard | None = None,
    limits: str = "",
    codes: dict[str, int | None] | None = None,
    generated: dict[str, list[str] | None] | None = None,
) -> mutation.MutationArtifacts:
    """A reports/raw/mutation folder as ``run`` leaves it, from the captured simple-project artifacts; the
    driver's generation record lists each meta file's mutants unless ``generated`` says otherwise."""
    art = mutation.MutationArtifacts(
        raw=tmp_path / "raw", sandbox=tmp_path / "sandbox", modules=(INIT, CALC), shard=shard
    )
    (art.meta_dir / "simple").mkdir(parents=True)
    (art.sources / "simple").mkdir(parents=True)
    shutil.copyfile(ARTIFACTS / "simple" / "__init__.py.meta", art.meta_dir / "simple" / "__init__.py.meta")
    meta = json.loads((ARTIFACTS / "simple" / "calc.py.meta").read_text(encoding="utf-8"))
    if codes is not None:
        meta["exit_code_by_key"] = codes
    (art.meta_dir / "simple" / "calc.py.meta").write_text(json.dumps(meta), encoding="utf-8")
    shutil.copyfile(ARTIFACTS / "simple" / "calc.py.txt", art.sources / "simple" / "calc.py")
    (art.sources / "simple" / "__init__.py").write_text("", encoding="utf-8")
    shutil.copyfile(ARTIFACTS / "simple" / "diffs.json", art.diffs)
    art.limits.write_text(limits, encoding="utf-8")
    art.status.write_text(json.dumps({"finished": True, "mutants_started": 10.0, "ended": 12.5}))
    made = {"simple/__init__.py": [], "simple/calc.py": sorted(meta["exit_code_by_key"])}
    made.update(generated or {})
    art.generated.write_text(
        json.dumps({"generator": "x", "files": {p: {"mutants": names, "sha256": "0"} for p, names in made.items()}})
    )
    return art


PROJECT = Project(
    root=Path("/nonexistent"),
    name="simple",
    import_roots=("",),
    source=("simple",),
    tests=("tests",),
    modules=(INIT, CALC),
)


def test_parse_captured_run(tmp_path: Path) -> None:
    result = mutation.parse(raw_dir(tmp_path), PROJECT)
    calc = result.by_module["simple.calc"]
    assert calc.counts == MutationCounts(killed=6, survived=5, no_coverage=2)
    assert calc.counts.score == pytest.approx(100 * 6 / 13)
    assert calc.counts.covered_score == pytest.approx(100 * 6 / 11)
    assert len(calc.mutants) == 13 and all(m.diff for m in calc.mutants)
    survivors = [m for m in calc.mutants if m.status is MutantStatus.SURVIVED]
    assert {(m.function, m.line) for m in survivors} == {("classify", 2), ("classify", 4), ("classify", 5)}
    assert [m.name for m in calc.mutants][:3] == [
        "simple.calc.x_add__mutmut_1",
        "simple.calc.x_classify__mutmut_1",
        "simple.calc.x_classify__mutmut_2",
    ]  # numeric order in a function
    assert (calc.statements, calc.mutable_statements, calc.reachable_percent) == (10, 10, 100.0)
    init = result.by_module["simple"]
    assert init.counts.total == 0 and init.counts.score is None
    assert init.not_mutated_reason and "nothing to mutate" in init.not_mutated_reason
    assert result.mutants_total == 13 and result.run_seconds == pytest.approx(2.5)


def test_memory_limited_mutants_are_noted(tmp_path: Path) -> None:
    line = json.dumps({"mutant": "simple.calc.x_add__mutmut_1", "limit": "memory"})
    result = mutation.parse(raw_dir(tmp_path, limits=line + "\n{half a li"), PROJECT)
    add = next(m for m in result.by_module["simple.calc"].mutants if m.function == "add")
    assert add.note == "killed by the memory limit"
    assert any("memory limit" in n.text for n in result.notes)


def test_zero_executed_is_not_measured(tmp_path: Path) -> None:
    codes = dict.fromkeys(json.loads((ARTIFACTS / "simple" / "calc.py.meta").read_text())["exit_code_by_key"])
    result = mutation.parse(raw_dir(tmp_path, codes=codes), PROJECT)
    [cell] = result.unmeasured
    assert cell.module == "simple.calc" and "none of its 13 mutants got a verdict (13 not checked)" in cell.cause


def test_zero_mutants_is_refused(tmp_path: Path) -> None:
    with pytest.raises(NoDataError, match="generated zero mutants"):
        mutation.parse(raw_dir(tmp_path, codes={}), PROJECT)


def test_shard_keeps_its_slice(tmp_path: Path) -> None:
    whole = mutation.parse(raw_dir(tmp_path / "w"), PROJECT)
    parts = [
        mutation.parse(raw_dir(tmp_path / str(k), shard=mutation.Shard(k, 3)), PROJECT) for k in (1, 2, 3)
    ]
    assert sum(p.by_module["simple.calc"].counts.total for p in parts) == 13
    assert all(p.mutants_total == 13 and p.mutants_digest == whole.mutants_digest for p in parts)
    assert "shard 1/3" in parts[0].notes[0].text
    assert shards.merge_results(parts).by_module == whole.by_module


def test_shards_following_a_plan_record_what_it_gives_them_and_merge_whole(tmp_path: Path) -> None:
    whole = mutation.parse(raw_dir(tmp_path / "w"), PROJECT)
    names = sorted(m.name for m in whole.by_module["simple.calc"].mutants)
    plan = {n: 1 for n in names[:10]} | {"simple.calc.x_gone__mutmut_1": 2}  # 3 new mutants; one gone
    parts = [mutation.parse(raw_dir(tmp_path / str(k), shard=mutation.Shard(k, 2, plan=plan, plan_digest="d",
                                                                           split="split by the shard plan p")),
                            PROJECT) for k in (1, 2)]
    assert parts[0].planned == tuple(names[:10]) and parts[1].planned == ()  # the gone mutant is not listed
    assert all(p.shard_plan == "d" for p in parts)
    held = [{m.name for m in p.by_module["simple.calc"].mutants} for p in parts]
    assert held[0] >= set(names[:10]) and held[0] | held[1] == set(names)
    assert parts[1].notes[0].text.startswith(f"mutation: shard 2/2 holds {len(held[1])} of 13 mutants (split by the "
                                             f"shard plan p: {len(held[1])} of them here)")  # all new: by name hash
    assert shards.merge_results(parts).by_module == whole.by_module
    path = mutation.write_results(parts[0], tmp_path)
    back = mutation.read_results(path)
    assert (back.shard_plan, back.planned) == ("d", tuple(names[:10]))
    assert mutation.read_results(mutation.write_results(whole, tmp_path / "w")).shard_plan == ""


@pytest.mark.parametrize(("text", "index", "count"), [("1/2", 1, 2), (" 3 / 4 ", 3, 4), ("1/1", 1, 1)])
def test_shard_parse(text: str, index: int, count: int) -> None:
    assert mutation.Shard.parse(text) == mutation.Shard(index, count)


@pytest.mark.parametrize("text", ["0/2", "3/2", "1", "a/b", "1/0", ""])
def test_shard_parse_refuses(text: str) -> None:
    with pytest.raises(ConfigError, match="shard must be K/N"):
        mutation.Shard.parse(text)


# --------------------------------------------------------------------------------------------------- merge

STATUSES = st.sampled_from(list(MutantStatus))


@st.composite
def runs(draw: st.DrawFn) -> dict[str, ModuleMutation]:
    out = {}
    for module in draw(st.lists(st.sampled_from(["a", "b.c", "d"]), min_size=1, max_size=3, unique=True)):
        functions = draw(st.lists(st.sampled_from(["f", "g", "h"]), min_size=0, max_size=3, unique=True))
        mutants = tuple(
            Mutant(
                name=f"{module}.x_{fn}__mutmut_{i}",
                module=module,
                function=fn,
                line=i,
                status=draw(STATUSES),
                diff=f"-{i}\n+{i}",
            )
            for fn in sorted(functions)
            for i in range(1, draw(st.integers(1, 12)) + 1)
        )
        out[module] = ModuleMutation(
            counts=MutationCounts.from_statuses(m.status for m in mutants),
            mutants=mutants,
            statements=draw(st.integers(0, 50)),
            mutable_statements=3,
        )
    return out


def shard_of(whole: dict[str, ModuleMutation], shard: mutation.Shard) -> mutation.MutationResult:
    names = [m.name for mm in whole.values() for m in mm.mutants]
    by_module = {}
    for name, mm in whole.items():
        mine = tuple(m for m in mm.mutants if mutation.in_shard(m.name, shard))
        by_module[name] = ModuleMutation(
            counts=MutationCounts.from_statuses(m.status for m in mine),
            mutants=mine,
            statements=mm.statements,
            mutable_statements=mm.mutable_statements,
        )
    return mutation.MutationResult(
        by_module=by_module, shard=shard, mutants_digest=mutation.names_digest(names), mutants_total=len(names)
    )


@settings(max_examples=30, deadline=None)
@given(whole=runs(), count=st.integers(1, 5), data=st.data())
def test_merging_any_shard_split_gives_the_whole_run(
    whole: dict[str, ModuleMutation], count: int, data: st.DataObject
) -> None:
    parts = [shard_of(whole, mutation.Shard(k, count)) for k in range(1, count + 1)]
    parts = data.draw(st.permutations(parts))
    assert shards.merge_results(parts).by_module == whole
    merged_total = sum((m.counts for m in shards.merge_results(parts).by_module.values()), start=MutationCounts())
    assert merged_total == sum((m.counts for m in whole.values()), start=MutationCounts())


def test_merge_refuses_incomplete_or_mismatched_shards() -> None:
    whole = {
        "a": ModuleMutation(
            counts=MutationCounts(killed=2),
            mutants=tuple(
                Mutant(f"a.x_f__mutmut_{i}", "a", "f", i, MutantStatus.KILLED) for i in (1, 2, 3, 4, 5, 6)
            ),
        )
    }
    parts = [shard_of(whole, mutation.Shard(k, 3)) for k in (1, 2, 3)]
    with pytest.raises(ArtifactError, match="do not form a whole run"):
        shards.merge_results(parts[:2])
    with pytest.raises(ArtifactError, match="do not form a whole run"):
        shards.merge_results([parts[0], parts[0], parts[2]])
    other = mutation.MutationResult(
        by_module={}, shard=mutation.Shard(2, 3), mutants_digest="x", mutants_total=1
    )
    with pytest.raises(ArtifactError, match="different code"):
        shards.merge_results([parts[0], other, parts[2]])
    with pytest.raises(ArtifactError, match="nothing to merge"):
        shards.merge_results([])


def test_results_file_round_trip(tmp_path: Path) -> None:
    art = raw_dir(tmp_path)
    quarantine = [{"nodeid": "tests/t.py::test_x", "cause": "pickling", "detail": "d", "reproduce": "r",
                   "functions": ["simple.calc.x_unused"]}]
    art.quarantine.write_text(json.dumps({"tests": quarantine}))
    art.fingerprint.write_text(json.dumps({"source": "s1", "config": "c1"}))
    result = mutation.parse(art, PROJECT)
    path = mutation.write_results(result, tmp_path / "reports")
    back = mutation.read_results(path)
    assert back == replace(result, run_seconds=0.0, executed_this_run=0)
    assert back.quarantined[0].cause is QuarantineCause.PICKLING and back.source_fingerprint == "s1"
    assert back.generation["simple.calc"] == mutation.ModuleGeneration(13, result.mutants_digest, 13)
    assert json.loads(path.read_text())["format"] == 1


def test_mutants_left_with_no_test_by_the_quarantine_say_so(tmp_path: Path) -> None:
    art = raw_dir(tmp_path)
    art.quarantine.write_text(json.dumps({"tests": [
        {"nodeid": "tests/t.py::test_x", "cause": "flaky", "functions": ["simple.calc.x_unused"]}]}))
    calc = mutation.parse(art, PROJECT).by_module["simple.calc"]
    unused = [m for m in calc.mutants if m.function == "unused"]
    assert unused and all(m.status is MutantStatus.NO_COVERAGE for m in unused)
    assert all(m.note == "no test left: its covering tests were quarantined: tests/t.py::test_x (flaky)"
               for m in unused)
    assert not [m for m in calc.mutants if m.function != "unused" and m.note]


@pytest.mark.parametrize(
    ("damage", "cause"),
    [
        ("meta deleted", "mutmut's results for simple.calc are missing"),
        ("meta corrupt", "mutmut's results for simple.calc are unreadable"),
        ("mutants differ", "hold 13 mutants but generation produced 14"),
        ("generation failed", "mutmut generated no readable set of mutants for simple/calc.py"),
        ("no record", "record of what mutmut generated is missing"),
    ],
)
def test_results_that_are_not_the_generated_mutants_are_not_measured(tmp_path: Path, damage: str,
                                                                      cause: str) -> None:
    """The run's invariant (issue 10a): a module whose mutants at the end are not what generation produced is not
    measured with the cause - never n/a ("nothing to mutate"), never a score from a partial set."""
    names = sorted(json.loads((ARTIFACTS / "simple" / "calc.py.meta").read_text())["exit_code_by_key"])
    generated: dict[str, list[str] | None] = {
        "mutants differ": {"simple/calc.py": [*names, "simple.calc.x_add__mutmut_2"]},
        "generation failed": {"simple/calc.py": None},
    }.get(damage, {})
    art = raw_dir(tmp_path, generated=generated)
    if damage == "meta deleted":
        (art.meta_dir / "simple" / "calc.py.meta").unlink()
    elif damage == "meta corrupt":
        (art.meta_dir / "simple" / "calc.py.meta").write_text("{")
    elif damage == "no record":
        art.generated.unlink()
    result = mutation.parse(art, PROJECT)
    cells = {u.module: u.cause for u in result.unmeasured}
    assert cause in cells["simple.calc"]
    assert result.by_module["simple.calc"].not_mutated_reason is None
    assert "simple.calc" in result.lost


def test_a_stalled_run_names_the_test_or_the_mutants(tmp_path: Path) -> None:
    art = raw_dir(tmp_path)
    art.current.write_text(json.dumps({"phase": "stats", "test": "tests/t.py::test_hangs", "since": 1}))
    message = mutation.stall_message(art, 1860)
    assert message.startswith("mutation: no progress for 1860 s (config key 'timeout') in mutmut's stats phase, "
                              "in test tests/t.py::test_hangs")
    assert "mutation.quarantine" in message and "\n" not in message
    art.current.write_text(json.dumps({"phase": "mutants", "test": ""}))
    art.live_journal.parent.mkdir(parents=True)
    art.live_journal.write_text("\n".join(json.dumps(e) for e in [
        {"event": "start", "mutant": "m.x_f__mutmut_1"}, {"event": "start", "mutant": "m.x_f__mutmut_2"},
        {"event": "result", "mutant": "m.x_f__mutmut_1", "exit_code": 1}]))
    assert mutation.stall_message(art, 99).endswith(f"mutants still running: m.x_f__mutmut_2; log {art.log}")


def test_strict_gates_turn_the_automatic_quarantine_off(target_project) -> None:
    root = target_project()
    assert mutation.auto_quarantine(load_config(root)[0])
    assert not mutation.auto_quarantine(load_config(root, cli={"gate.strict": True})[0])
    assert not mutation.auto_quarantine(load_config(root, cli={"profile": "release"})[0])
    assert not mutation.auto_quarantine(load_config(root, cli={"mutation.auto_quarantine": False})[0])
    with pytest.raises(ConfigError, match=r"'mutation\.memory_limit_mb' must be in 0-524288"):
        load_config(root, cli={"mutation.memory_limit_mb": 99999999999999999999})


def test_fingerprints_change_with_the_code_and_the_relevant_config(target_project) -> None:
    root = target_project()
    cfg, _ = load_config(root)
    project = discover(root, cfg)
    modules = mutation.selected_modules(project, cfg)
    tests = mutation.hash_test_files(root)
    code = mutation.source_fingerprint(root, modules, tests)
    assert code == mutation.source_fingerprint(root, modules, dict(tests))
    (root / "simple" / "calc.py").write_text((root / "simple" / "calc.py").read_text() + "# a comment\n")
    assert mutation.source_fingerprint(root, modules, tests) != code
    assert mutation.source_fingerprint(root, modules, {**tests, "tests/test_calc.py": "0"}) != code
    config = mutation.config_fingerprint(cfg, project)
    for setting, same in [({"mutation.shard": "1/2"}, True), ({"mutation.max_children": 3}, True),
                          ({"mutation.timeout_multiplier": 5}, False), ({"mutation.quarantine": ["t"]}, False),
                          ({"pytest_args": ["-k", "x"]}, False)]:
        other = mutation.config_fingerprint(load_config(root, cli=setting)[0], project)
        assert (other == config) is same, setting


# --------------------------------------------------------------------------------------------------- config


def test_mutmut_config_copies_hidden_files_not_hidden_folders(target_project, tmp_path: Path) -> None:
    """Hidden top-level files (``.pytest.ini``, ``.env``) go into mutmut's work copy: pytest would otherwise find
    the sandbox's config one folder up (semver: ``pythonpath = src`` then imports the unmutated code). Hidden
    folders, the harness's own files and coverage data do not."""
    root = target_project(**{".pytest.ini": "[pytest]\n", ".env": "A=1\n", ".github/ci.yml": "",
                             ".coverage": "", ".coverage.host.1": "", ".harness.lock": ""})
    cfg, _ = load_config(root)
    project = discover(root, cfg)
    text = mutation.mutmut_config(project, cfg, mutation.selected_modules(project, cfg), root)
    assert 'also_copy = [".env", ".pytest.ini", "tests"]' in text


def test_mutmut_config_from_harness_config(target_project, tmp_path: Path) -> None:
    root = target_project(
        **{"conftest.py": "", "pytest.ini": "[pytest]\naddopts = -x --cov\n", "data/x.txt": "1"}
    )
    cfg, _ = load_config(
        root,
        cli={
            "mutation.exclude": ["simple"],
            "pytest_args": ["-k", "not slow"],
            "mutation.timeout_multiplier": 3,
        },
    )
    project = discover(root, cfg)
    modules = mutation.selected_modules(project, cfg)
    assert [m.name for m in modules] == ["simple.calc"]
    text = mutation.mutmut_config(project, cfg, modules, root)
    assert 'only_mutate = ["simple/calc.py"]' in text
    assert 'do_not_mutate = ["simple/__init__.py"]' in text
    assert 'also_copy = ["conftest.py", "data", "pytest.ini", "tests"]' in text
    assert '"-o", "addopts=", "-p", "no:xdist", "-k", "not slow"]' in text
    assert '"no:randomly"' in text and '"no:cacheprovider"' in text and "harness_pytest" not in text
    assert "timeout_multiplier = 3.0" in text and 'pytest_add_cli_args_test_selection = ["tests"]' in text


def test_the_work_copy_follows_changed_and_deleted_files_mutmut_would_leave_stale(tmp_path: Path) -> None:
    """mutmut copies a source folder's files into mutants/ once and never deletes: an incremental run would
    render a stale template and collect a deleted test. Mutated .py files and their .meta stay mutmut's."""
    box = tmp_path / "box"
    files = {"pkg/a.py": "def f(): pass\n", "pkg/page.html": "<p>new</p>\n", "pkg/gone.py": None,
             "tests/test_a.py": "def test_a(): pass\n", "tests/test_gone.py": None, "conftest.py": "# new\n"}
    for rel, text in files.items():
        copy = box / "mutants" / rel
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_text("# mutated by mutmut\n" if rel.endswith(".py") else "<p>old</p>\n")
        if text is not None:
            (box / rel).parent.mkdir(parents=True, exist_ok=True)
            (box / rel).write_text(text)
    for meta in ("pkg/a.py.meta", "pkg/gone.py.meta", "pkg/a.py.spans", "pkg/gone.py.spans"):
        (box / "mutants" / meta).write_text("{}")
    (box / "mutants" / "tests" / "__pycache__").mkdir()
    (box / "mutants" / "tests" / "__pycache__" / "test_a.cpython-311.pyc").write_bytes(b"x")
    (box / "mutants" / "mutmut-stats.json").write_text("{}")

    changed = sandbox.refresh_work_copy(box, ["pkg"], ["conftest.py", "tests"])
    assert sorted(changed) == ["conftest.py", "pkg/gone.py", "pkg/gone.py.meta", "pkg/gone.py.spans",
                               "pkg/page.html", "tests/test_a.py", "tests/test_gone.py"]
    work = box / "mutants"
    assert (work / "pkg" / "page.html").read_text() == "<p>new</p>\n"
    assert (work / "pkg" / "a.py").read_text() == "# mutated by mutmut\n" and (work / "pkg" / "a.py.meta").exists()
    assert (work / "pkg" / "a.py.spans").exists()  # mutmut's line index: line selection reads it on warm runs
    assert (work / "tests" / "test_a.py").read_text() == "def test_a(): pass\n"
    assert (work / "conftest.py").read_text() == "# new\n"
    assert not (work / "pkg" / "gone.py").exists() and not (work / "tests" / "test_gone.py").exists()
    assert (work / "tests" / "__pycache__" / "test_a.cpython-311.pyc").exists()
    assert (work / "mutmut-stats.json").exists()
    assert sandbox.refresh_work_copy(box, ["pkg"], ["conftest.py", "tests"]) == []
    assert sandbox.refresh_work_copy(tmp_path / "fresh", ["pkg"], ["tests"]) == []  # no work copy yet


def test_mutation_measures_the_tree_as_it_was_when_the_run_started(target_project) -> None:
    """The sandbox is synced with the work copy at the start: an edit during the coverage phase is measured by
    no phase of this run (the next run sees it). Without a snapshot of this process, it syncs as before."""
    from harness.workspace import Workspace

    root = target_project()
    cfg, _ = load_config(root)
    project = discover(root, cfg)
    ws = Workspace.for_target(root, cfg)
    modules = mutation.selected_modules(project, cfg)
    calc = root / "simple" / "calc.py"
    before = calc.read_text()
    box = mutation.snapshot_sandbox(project, ws)
    calc.write_text(before + "\n# edited while the run went on\n")
    assert mutation.prepare_sandbox(project, cfg, ws, modules) == box
    assert (box / "simple" / "calc.py").read_text() == before
    assert not (box / sandbox.SNAPSHOT_MARK).exists()
    mutation.prepare_sandbox(project, cfg, ws, modules)  # a later run (or no snapshot): synced
    assert (box / "simple" / "calc.py").read_text() == calc.read_text()
    (box / sandbox.SNAPSHOT_MARK).write_text("1")  # another process's snapshot, left by an interrupted run
    calc.write_text(before)
    mutation.prepare_sandbox(project, cfg, ws, modules)
    assert (box / "simple" / "calc.py").read_text() == before


def test_selecting_no_module_is_a_config_error(target_project) -> None:
    root = target_project()
    cfg, _ = load_config(root, cli={"mutation.modules": ["nope.*"]})
    with pytest.raises(ConfigError, match=r"mutation\.modules"):
        mutation.selected_modules(discover(root, cfg), cfg)


def test_a_module_pattern_naming_no_module_is_refused_by_name(target_project) -> None:
    """A typo in ``mutation.modules`` would mutate less than asked, silently: refused, naming the pattern."""
    root = target_project()
    cfg, _ = load_config(root, cli={"mutation.modules": ["simple.calc", "simple.cacl"]})
    with pytest.raises(ConfigError, match=r"'mutation\.modules': 'simple\.cacl' names no measured module "
                                          r"\(e\.g\. 'simple'"):
        mutation.selected_modules(discover(root, cfg), cfg)
    cfg, _ = load_config(root, cli={"mutation.modules": ["simple.c*"]})
    assert [m.name for m in mutation.selected_modules(discover(root, cfg), cfg)] == ["simple.calc"]


def test_existing_mutmut_table_is_replaced() -> None:
    text = (
        '[project]\nname = "x"\n\n[tool.mutmut]\npaths_to_mutate = ["x"]\n\n[tool.mutmut.extra]\na = 1\n\n'
        '[tool.pytest.ini_options]\naddopts = "-x"\n'
    )
    out = sandbox._with_config(text, '[tool.mutmut]\nsource_paths = ["y"]\n')
    assert "paths_to_mutate" not in out and "a = 1" not in out
    assert out.count("[tool.mutmut]") == 1 and '[tool.pytest.ini_options]\naddopts = "-x"' in out
    import tomllib

    assert tomllib.loads(out)["tool"]["mutmut"] == {"source_paths": ["y"]}


def test_journal_progress(tmp_path: Path) -> None:
    journal = tmp_path / "j.jsonl"
    assert mutation.journal_progress(journal) == (0, 0, 0)
    lines = [{"event": "plan", "total": 10, "todo": 4}] + [
        {"event": "result", "mutant": f"m{i}"} for i in range(3)
    ]
    journal.write_text("\n".join(json.dumps(x) for x in lines) + '\n{"event": "res', encoding="utf-8")
    assert mutation.journal_progress(journal) == (9, 10, 4)


def test_modules_left_out_by_config_are_na_with_the_reason(tmp_path: Path) -> None:
    other = ModuleInfo("simple.other", "simple/other.py", "")
    project = Project(root=Path("/nonexistent"), name="simple", import_roots=("",), source=("simple",),
                      tests=("tests",), modules=(INIT, CALC, other))
    left = mutation.parse(raw_dir(tmp_path), project).by_module["simple.other"]
    assert left.counts.total == 0 and left.counts.score is None
    assert left.not_mutated_reason and "mutation.exclude" in left.not_mutated_reason


def test_a_results_file_with_only_its_header_reads_as_empty(tmp_path: Path) -> None:
    from harness.collectors.mutation.results import RESULTS_KIND, mutant_order
    from harness.workspace import write_json

    path = tmp_path / "mutation.json"
    write_json(path, RESULTS_KIND, {})
    assert mutation.read_results(path) == mutation.MutationResult(by_module={}, shard=None, mutants_digest="",
                                                                  mutants_total=0)
    assert mutant_order("pkg.x_f__mutmut_12") == ("pkg.x_f", 12)
    assert mutant_order("pkg.x_f__mutmut_orig") == ("pkg.x_f", 0)


# ------------------------------------------------------------------------------------------------- time budget


def test_time_budget_keeps_fully_judged_modules_and_leaves_the_others_not_measured(tmp_path: Path) -> None:
    from harness.collectors.mutation.parse import budget_unmeasured

    judged = ModuleMutation(counts=MutationCounts(killed=3, survived=1))
    assert budget_unmeasured("a", judged, 60) is None  # every mutant judged: its score stands
    partial = ModuleMutation(counts=MutationCounts(killed=2, survived=1, no_coverage=1, not_checked=5,
                                                   interrupted=1))
    cell = budget_unmeasured("b", partial, 60)
    assert cell is not None and cell.module == "b"
    assert cell.cause == ("time budget of 60 s reached (config key 'mutation.time_budget'): 4 of 10 mutants "
                          "judged (score so far 50.0 %); the next run resumes")
    untouched = budget_unmeasured("c", ModuleMutation(counts=MutationCounts(not_checked=4)), 3600)
    assert untouched is not None and "0 of 4 mutants judged (no score yet)" in untouched.cause

    meta = json.loads((ARTIFACTS / "simple" / "calc.py.meta").read_text(encoding="utf-8"))["exit_code_by_key"]
    art = raw_dir(tmp_path / "whole")
    art.budget.write_text(json.dumps({"budget": 60, "phase": "mutants"}))
    whole = mutation.parse(art, PROJECT)  # stopped after the last verdict: nothing left unmeasured
    assert not whole.unmeasured and whole.by_module["simple.calc"].counts.score == pytest.approx(100 * 6 / 13)
    assert any("time budget of 60 s" in n.text and "13 of 13 mutants judged" in n.text for n in whole.notes)

    codes = {k: (None if i % 3 == 0 else v) for i, (k, v) in enumerate(sorted(meta.items()))}
    art = raw_dir(tmp_path / "cut", codes=codes)
    art.budget.write_text(json.dumps({"budget": 60, "phase": "mutants"}))
    cut = mutation.parse(art, PROJECT)
    [cell] = cut.unmeasured
    left = sum(1 for v in codes.values() if v is None)
    counts = cut.by_module["simple.calc"].counts
    assert counts.not_checked == left and counts.score is not None
    assert cell.module == "simple.calc" and cell.cause == (
        f"time budget of 60 s reached (config key 'mutation.time_budget'): {13 - left} of 13 mutants judged "
        f"(score so far {counts.score:.1f} %); the next run resumes")
    assert mutation.parse(raw_dir(tmp_path / "nobudget", codes=codes), PROJECT).unmeasured == ()
