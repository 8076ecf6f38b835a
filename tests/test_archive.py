"""The release bundle (harness.archive): what environment.json says, which files the bundle holds and how the
bundle and its members are named."""

from __future__ import annotations

import email.message
import os
import platform
import sys
import tarfile
from dataclasses import replace
from pathlib import Path

import pytest
import reportdata

from harness import __version__, archive
from harness.config import Config
from harness.model import RunMeta


class FakeDist:
    def __init__(self, name: str | None, version: str) -> None:
        self.metadata = email.message.Message()
        if name is not None:
            self.metadata["Name"] = name
        self.version = version


def test_packages_are_every_named_distribution_sorted_by_name_whatever_the_case(
        monkeypatch: pytest.MonkeyPatch) -> None:
    dists = [FakeDist("beta", "2.0"), FakeDist("Alpha", "1.0"), FakeDist("a_b", "3.1"), FakeDist("AB", "0.9"),
             FakeDist(None, "9.9"), FakeDist("", "9.8")]
    monkeypatch.setattr(archive.importlib.metadata, "distributions", lambda: iter(dists))
    packages = archive.packages()
    assert list(packages.items()) == [("a_b", "3.1"), ("AB", "0.9"), ("Alpha", "1.0"), ("beta", "2.0")]


@pytest.fixture
def few_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Listing every installed distribution takes a second on a loaded machine: one stands for them here."""
    monkeypatch.setattr(archive.importlib.metadata, "distributions", lambda: iter([FakeDist("pytest", "8.0")]))


@pytest.mark.usefixtures("few_packages")
def test_environment_describes_the_run_the_interpreter_and_the_machine() -> None:
    sc = reportdata.scorecard("/project/demo")
    env = archive.environment(sc, Config(), "config/quality.toml")
    assert env["harness_version"] == __version__
    assert env["time"] == reportdata.META["time"]
    assert (env["project"], env["root"]) == ("demo", "/project/demo")
    assert env["git"] == {"commit": reportdata.META["commit"], "dirty": False}
    assert env["python"] == {"version": platform.python_version(), "implementation": platform.python_implementation(),
                             "executable": sys.executable}
    assert env["platform"] == {"system": platform.system(), "release": platform.release(),
                               "machine": platform.machine(), "cpus": os.cpu_count()}
    assert env["profile"] is None and env["config_source"] == "config/quality.toml"
    assert env["config"]["archive"] is False and env["packages"] == {"pytest": "8.0"}
    assert archive.environment(sc, Config(profile="release"), None)["profile"] == "release"
    dirty = replace(sc, meta=replace(sc.meta, dirty=True))
    assert archive.environment(dirty, Config(), None)["git"]["dirty"] is True


def test_bundle_members_are_the_written_and_lasting_reports_never_raw_files_or_bundles(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    names = ["scorecard.json", "history.json", "baseline.json", "plan.md", "plan.json", "environment.json",
             "raw/coverage.json", "archive-old.tar.gz", "notes.txt"]
    for name in names:
        (reports / name).parent.mkdir(parents=True, exist_ok=True)
        (reports / name).write_text("x")
    outside = tmp_path / "elsewhere.json"
    outside.write_text("x")
    written = [reports / "scorecard.json", reports / "raw" / "coverage.json", reports / "archive-old.tar.gz",
               outside, reports / "gone.json"]
    members = archive.bundle_members(reports, written)
    assert [p.relative_to(reports.resolve()).as_posix() for p in members] == [
        "baseline.json", "environment.json", "history.json", "plan.json", "plan.md", "scorecard.json"]


@pytest.mark.usefixtures("few_packages")
def test_bundle_is_named_after_the_run_time_and_holds_its_files_in_one_folder(tmp_path: Path) -> None:
    root = reportdata.write_sources(tmp_path / "project")
    sc = reportdata.scorecard(str(root))
    reports = root / "reports"
    reports.mkdir()
    (reports / "scorecard.json").write_text("{}")
    out = archive.write(sc, Config(), reports, [reports / "scorecard.json"], None)
    assert [p.name for p in out] == ["plan.md", "plan.json", "environment.json", "archive-2026-11-21T180000Z.tar.gz"]
    with tarfile.open(out[-1]) as tar:
        assert sorted(tar.getnames()) == [f"archive-2026-11-21T180000Z/{n}" for n in
                                          ("environment.json", "plan.json", "plan.md", "scorecard.json")]


@pytest.mark.usefixtures("few_packages")
def test_bundle_of_a_run_without_time_and_plan_notes_on_unreadable_sources(tmp_path: Path) -> None:
    root = tmp_path / "project"  # no sources written: the plan notes every module as unreadable
    root.mkdir()
    sc = replace(reportdata.scorecard(str(root)), meta=RunMeta())
    reports = root / "reports"
    out = archive.write(sc, Config(), reports, [], None)
    assert out[-1].name == "archive-run.tar.gz"
    assert "demo/calc.py is unreadable now" in (reports / "plan.md").read_text()
    with tarfile.open(out[-1]) as tar:
        assert "archive-run/plan.md" in tar.getnames()
