"""Profiles (named settings between the config file and env/CLI), the strict gate and the release archive."""

from __future__ import annotations

import json
import re
import tarfile
from dataclasses import replace
from pathlib import Path

import pytest
import reportdata
from conftest import REPO, run_harness, write_tree

from harness import archive, profiles
from harness.cli import main
from harness.config import Config, GateSettings, load_config, parse_set
from harness.errors import ConfigError
from harness.gate import gate
from harness.model import Metric, Status
from harness.reporters import write_all


def _load(tmp_path: Path, toml: str = "", environ: dict[str, str] | None = None,
          cli: dict[str, object] | None = None) -> Config:
    write_tree(tmp_path, {"config/quality.toml": toml})
    return load_config(tmp_path, environ=environ or {}, cli=cli)[0]


@pytest.mark.parametrize(
    ("toml", "environ", "cli", "runs", "strict"),
    [
        ("", {}, {}, 3, False),  # no profile: the declared default
        ("", {}, {"profile": "release"}, 5, True),  # the profile's settings
        ("[runtime]\nruns = 9\n", {}, {"profile": "release"}, 5, True),  # profile beats the file
        ("", {"HARNESS_RUNTIME__RUNS": "7"}, {"profile": "release"}, 7, True),  # env beats the profile
        ("", {"HARNESS_RUNTIME__RUNS": "7"}, {"profile": "release", "runtime.runs": 8}, 8, True),  # CLI wins
        ('profile = "pr"\n', {}, {}, 1, False),  # chosen in the file
        ('profile = "pr"\n', {"HARNESS_PROFILE": "release"}, {}, 5, True),  # env chooses over the file
        # a file's table extends the built-in profile of the same name
        ('[profiles.release]\n"runtime.runs" = 11\n', {}, {"profile": "release"}, 11, True),
        ('[profiles.quick]\nruntime.runs = 2\n', {}, {"profile": "quick"}, 2, False),  # user-defined
    ],
)
def test_precedence(tmp_path: Path, toml: str, environ: dict[str, str], cli: dict[str, object], runs: int,
                    strict: bool) -> None:
    cfg = _load(tmp_path, toml, environ, cli)
    assert (cfg.runtime.runs, cfg.gate.strict) == (runs, strict)


@pytest.mark.parametrize("name", sorted(profiles.BUILTIN))
def test_builtin_profiles_are_valid_config(tmp_path: Path, name: str) -> None:
    cfg = _load(tmp_path, cli={"profile": name})
    assert cfg.profile == name
    for dotted, value in profiles.BUILTIN[name].items():
        node: object = cfg
        for part in dotted.split("."):
            node = getattr(node, part)
        assert node == value, dotted


@pytest.mark.parametrize(
    ("toml", "cli", "message"),
    [
        ("", {"profile": "nope"}, "unknown profile 'nope'"),
        ("[profiles.pr]\nbogus = 1\n", {}, "profiles.pr.bogus"),
        ("[profiles.pr]\nruntime.runs = 0\n", {}, "profiles.pr.runtime.runs"),
        ('[profiles.pr]\nprofile = "release"\n', {}, "profiles.pr"),
        ("profile = 3\n", {}, "'profile'"),
    ],
)
def test_profile_errors_name_the_key(tmp_path: Path, toml: str, cli: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        _load(tmp_path, toml, cli=cli)


def test_unknown_profile_on_the_command_line_is_a_usage_error(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    root = write_tree(tmp_path, {"pkg/__init__.py": "", "tests/test_x.py": "def test_x():\n    pass\n"})
    assert main(["run", str(root), "--profile", "nope"]) == 2
    assert "unknown profile 'nope'" in capsys.readouterr().err


def test_readme_documents_every_profile() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert profiles.markdown_table() in readme
    for name in profiles.BUILTIN:
        assert f"`{name}`" in readme


def test_set_values_parse_like_toml() -> None:
    assert parse_set(["profile=release"]) == {"profile": "release"}


# --------------------------------------------------------------------------------------------------- strict


def test_strict_gate_fails_unmeasured_metrics() -> None:
    sc = reportdata.scorecard()
    sc = replace(sc, metrics=(Metric.LINE_COVERAGE, Metric.BRANCH_COVERAGE))
    sc = replace(sc, modules=tuple(replace(c, mutation=None, flakiness=None) for c in sc.modules))
    lenient = gate(sc, Config())
    strict = gate(sc, Config(gate=GateSettings(strict=True)))
    skipped = [(c.module, v.metric) for c in lenient.modules for v in c.verdicts
               if v.status is Status.SKIPPED]
    failed = {(c.module, v.metric) for c in strict.modules for v in c.verdicts
              if v.status is Status.FAIL and v.reason.startswith("strict gate")}
    assert skipped and set(skipped) == failed
    assert all(v.status is Status.FAIL for v in strict.totals.verdicts if v.metric is Metric.SUITE_RUNTIME)
    assert not strict.passed


# --------------------------------------------------------------------------------------------------- archive


def test_archive_holds_every_report_and_the_environment(tmp_path: Path) -> None:
    root = reportdata.write_sources(tmp_path / "project")
    sc = reportdata.scorecard(str(root))
    reports = root / "reports"
    written = write_all(sc, reports)
    (reports / "raw" / "coverage").mkdir(parents=True)
    (reports / "raw" / "coverage" / "coverage.json").write_text("{}")
    cfg = Config(profile="release", archive=True)
    out = archive.write(sc, cfg, reports, written, "config/quality.toml")
    bundle = next(p for p in out if p.name.endswith(".tar.gz"))
    assert bundle.parent == reports and bundle.name.startswith("archive-")
    with tarfile.open(bundle) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames()}
        member = next(m for m in tar.getmembers() if m.name.endswith("environment.json"))
        env = json.load(tar.extractfile(member))  # type: ignore[arg-type]
    expected = {p.relative_to(reports).as_posix() for p in written}
    assert expected <= names
    assert {"environment.json", "plan.md", "plan.json", "scorecard.json", "junit.xml"} <= names
    assert not any(n.startswith("raw/") for n in names)
    assert env["kind"] == "environment" and env["format"] == 1
    assert env["git"]["commit"] == reportdata.META["commit"]
    assert env["python"]["version"].count(".") == 2
    assert "coverage" in {k.lower() for k in env["packages"]}
    assert env["config"]["profile"] == "release" and env["config_source"] == "config/quality.toml"


@pytest.mark.slow
def test_release_profile_writes_one_archive(target_project) -> None:  # type: ignore[no-untyped-def]
    root = target_project()
    result = run_harness("run", root, "--profile", "release", "--quiet", "--set", "flakiness.runs=2",
                         "--set", "flakiness.reruns=1", "--set", "runtime.runs=2")
    assert result.returncode in (0, 1), result.output
    reports = root / "reports"
    bundles = list(reports.glob("archive-*.tar.gz"))
    assert len(bundles) == 1, result.output
    with tarfile.open(bundles[0]) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames()}
    on_disk = {p.relative_to(reports).as_posix() for p in reports.rglob("*")
               if p.is_file() and not p.relative_to(reports).as_posix().startswith(("raw/", "archive-"))}
    assert on_disk <= names, on_disk - names
    assert "environment.json" in names and "scorecard.json" in names and "plan.md" in names
    env = json.loads((reports / "environment.json").read_text())
    assert env["profile"] == "release" and env["config"]["gate"]["strict"] is True


def test_pr_profile_needs_its_base_ref(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The pr profile diffs against origin/main: without it, exit 2 naming the ref, before any tool runs."""
    import subprocess

    root = write_tree(tmp_path / "p", {"pkg/__init__.py": "", "pkg/m.py": "def f():\n    return 1\n",
                                       "tests/test_m.py": "def test_f():\n    pass\n"})
    for args in (["init", "-q", "-b", "main"], ["add", "."], ["commit", "-q", "-m", "base"]):
        subprocess.run(["git", "-C", str(root), "-c", "user.email=t@e.com", "-c", "user.name=t", *args],
                       check=True, capture_output=True)
    assert main(["run", str(root), "--profile", "pr"]) == 2
    err = capsys.readouterr().err
    assert "origin/main" in err and "Traceback" not in err, err
    assert not (root / "reports" / "scorecard.json").exists()  # refused before anything was measured
