"""The mutation driver's process control without starting mutmut: the time budget, stopping a driver that
ignores Ctrl-C, the harness measuring itself, and collecting results a module may not have."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from harness.collectors.mutation import spawn
from harness.collectors.mutation.artifacts import MutationArtifacts
from harness.config import Config, MutationSettings
from harness.discover import ModuleInfo, Project
from harness.errors import ToolError


class Driver:
    """A driver process that never ends by itself; ``ignores_sigint``: it goes on after Ctrl-C too."""

    def __init__(self, ignores_sigint: bool) -> None:
        self.ignores_sigint = ignores_sigint
        self.signals: list[int] = []
        self.killed = False
        self.ended: int | None = None

    def wait(self, timeout: float | None = None) -> int:
        if self.ended is None:
            raise subprocess.TimeoutExpired("driver", timeout or 0)
        return self.ended

    def send_signal(self, sig: int) -> None:
        self.signals.append(sig)
        if not self.ignores_sigint:
            self.ended = 130

    def kill(self) -> None:
        self.killed, self.ended = True, -9


def _artifacts(tmp_path: Path, *modules: ModuleInfo) -> MutationArtifacts:
    raw = tmp_path / "raw"
    raw.mkdir()
    return MutationArtifacts(raw=raw, sandbox=tmp_path / "sandbox", modules=modules)


def test_stop_sends_ctrl_c_and_waits_for_mutmut_to_save_its_verdicts() -> None:
    driver = Driver(ignores_sigint=False)
    assert spawn._stop(driver, 0.01) == 130  # type: ignore[arg-type]
    assert driver.signals == [2] and not driver.killed


def test_stop_kills_a_driver_that_ignores_ctrl_c_after_the_wait() -> None:
    driver = Driver(ignores_sigint=True)
    assert spawn._stop(driver, 0.01) == -9  # type: ignore[arg-type]
    assert driver.signals == [2] and driver.killed


def test_watch_raises_budget_reached_at_the_deadline(tmp_path: Path) -> None:
    art = _artifacts(tmp_path)
    with pytest.raises(spawn.BudgetReached):
        spawn._watch(Driver(ignores_sigint=True), art, 3600.0, None,  # type: ignore[arg-type]
                     deadline=time.monotonic())


def test_budget_reached_before_any_mutant_was_judged_is_an_error_naming_the_phase(tmp_path: Path) -> None:
    art = _artifacts(tmp_path)
    art.budget.write_text("{}")
    cfg = Config(mutation=MutationSettings(time_budget=90))
    with pytest.raises(ToolError) as err:
        spawn._check_outcome(-2, {"phase": "clean run"}, art, cfg)
    assert str(err.value).startswith("time budget of 90 s (config key 'mutation.time_budget') reached in "
                                     "mutmut's clean run phase, before any mutant was judged; the next run resumes")
    spawn._check_outcome(-2, {"mutants_started": True}, art, cfg)  # mutants judged: their verdicts count


def test_the_harness_measuring_itself_is_imported_from_the_copy_under_test(monkeypatch: pytest.MonkeyPatch) -> None:
    """On another project the driver imports the running harness (PYTHONPATH); on the harness itself, the
    copy mutmut mutates must be the one imported, so no PYTHONPATH points elsewhere."""
    monkeypatch.setenv("PYTHONPATH", "/somewhere/else")
    itself = Project(spawn.HARNESS_HOME, "harness", ("",), ("harness",), ("tests",), ())
    assert "PYTHONPATH" not in spawn._driver_env(itself)
    other = Project(Path("/tmp/other-project"), "other", ("",), ("other",), ("tests",), ())
    assert spawn._driver_env(other)["PYTHONPATH"] == str(spawn.HARNESS_HOME)


def test_collect_copies_what_each_module_has_and_skips_what_mutmut_did_not_write(tmp_path: Path) -> None:
    mutated, untouched = ModuleInfo("pkg.a", "pkg/a.py", ""), ModuleInfo("pkg.b", "pkg/b.py", "")
    art = _artifacts(tmp_path, mutated, untouched)
    mutants = art.sandbox / "mutants" / "pkg"
    mutants.mkdir(parents=True)
    (mutants / "a.py.meta").write_text('{"exit_code_by_key": {}}')
    (art.sandbox / "pkg").mkdir(exist_ok=True)
    for m in ("a", "b"):
        (art.sandbox / "pkg" / f"{m}.py").write_text(f"# {m}\n")
    spawn._collect(art)
    assert (art.meta_dir / "pkg" / "a.py.meta").read_text() == '{"exit_code_by_key": {}}'
    assert not (art.meta_dir / "pkg" / "b.py.meta").exists()  # nothing to mutate there: no meta file
    assert (art.sources / "pkg" / "b.py").read_text() == "# b\n"
    assert not art.diffs.exists() and not art.journal.exists()  # mutmut wrote neither
    doc: dict[str, Any] = json.loads((art.raw / "modules.json").read_text())
    assert doc["modules"] == ["pkg/a.py", "pkg/b.py"]


def test_the_driver_gets_ctrl_c_back_when_the_harness_was_started_with_it_ignored() -> None:
    """``harness run ... &`` in a script ignores SIGINT, and so would the driver: the budget stop (SIGINT, so
    mutmut saves its verdicts) would not stop it."""
    import signal
    import sys

    probe = "import signal; print(signal.getsignal(signal.SIGINT) is signal.default_int_handler)"
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        inherited = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
        restored = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                                  preexec_fn=spawn._ctrl_c_default)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert (inherited.stdout.strip(), restored.stdout.strip()) == ("False", "True")
