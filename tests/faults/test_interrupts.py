"""Issue 10: interrupt ``harness run`` at each phase boundary with SIGINT, SIGTERM and SIGKILL, then run it again:
the final scorecard equals an uninterrupted run's, no verdict is lost, the user's tree is untouched.

Each case pauses the run at the start of a phase (``interrupts_util``: deterministic, no timing), sends the
signal, checks what the interrupted run left, then runs the harness to completion on the same project and
compares with an uninterrupted run of a copy of it (times, durations and the run's facts scrubbed).

What each signal gives (the run is paused inside the phase's tool, or in the harness for the reports):

* SIGINT, to the process group (Ctrl-C): exit 130, ``harness: interrupted; ...`` last on stderr;
* SIGTERM, to the harness only (``kill PID``): handled as Ctrl-C (the tools stopped, the locks released), exit
  143 (128 + 15), ``harness: terminated (SIGTERM); ...``;
* SIGKILL, to the harness only: exit -9 (nothing printed); its tools die with it (``PR_SET_PDEATHSIG``), the
  next run takes its run locks over with a note.

Every case takes ~20-35 s on a 2-core machine, so CI runs one case per phase (every signal at least twice);
``QH_ALL_INTERRUPTS=1`` runs all 21.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest
from conftest import tree_checksum, write_tree
from interrupts_util import (
    PHASES,
    PROJECT,
    SIGNALS,
    interrupt,
    run,
    scorecard,
    split_notes,
    unparsable,
    verdicts,
)

ALL = os.environ.get("QH_ALL_INTERRUPTS") == "1"
# One signal per phase in CI: SIGINT x3, SIGTERM x2, SIGKILL x2.
REPRESENTATIVE = {
    ("coverage", signal.SIGINT), ("runs", signal.SIGTERM), ("generation", signal.SIGKILL),
    ("stats", signal.SIGINT), ("clean", signal.SIGTERM), ("mutants", signal.SIGKILL), ("reports", signal.SIGINT),
}
EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGKILL: -signal.SIGKILL}
LAST_LINE = {signal.SIGINT: "harness: interrupted; completed results are kept and the next run resumes",
             signal.SIGTERM: "harness: terminated (SIGTERM); completed results are kept and the next run resumes"}
# Known harness bugs a case reveals: (phase, signal) -> the cause (xfail strict).
KNOWN: dict[tuple[str, signal.Signals], str] = {}


def _cases() -> list[Any]:
    out = []
    for phase in PHASES:
        for sig in SIGNALS:
            marks: list[Any] = []
            if (phase, sig) not in REPRESENTATIVE and not ALL:
                marks.append(pytest.mark.skip(reason="set QH_ALL_INTERRUPTS=1 for the full matrix"))
            if (phase, sig) in KNOWN:
                marks.append(pytest.mark.xfail(strict=True, reason=KNOWN[phase, sig]))
            out.append(pytest.param(phase, sig, marks=marks, id=f"{phase}-{sig.name}"))
    return out


def test_sigterm_is_handled_as_ctrl_c(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """In-process: SIGTERM during a command ends it as Ctrl-C does (exit 143, one line), and main puts the
    previous SIGTERM handler back."""
    from harness import cli

    def command(*_args: Any) -> int:
        os.kill(os.getpid(), signal.SIGTERM)
        raise AssertionError("SIGTERM was not raised in the command")

    monkeypatch.setitem(cli.COMMANDS, "config", command)
    before = signal.getsignal(signal.SIGTERM)
    assert cli.main(["config"]) == 143
    assert capsys.readouterr().err == LAST_LINE[signal.SIGTERM] + "\n"
    assert signal.getsignal(signal.SIGTERM) == before


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, dict[str, str], int]:
    """The scorecard (scrubbed), the mutants' verdicts and the exit code of an uninterrupted run."""
    root = write_tree(tmp_path_factory.mktemp("uninterrupted") / "proj", PROJECT)
    done = run(root)
    assert done.returncode == 0, done.stdout + done.stderr
    return scorecard(root), verdicts(root), done.returncode


@pytest.mark.slow
@pytest.mark.parametrize(("phase", "sig"), _cases())
def test_interrupt_then_resume(phase: str, sig: signal.Signals, tmp_path: Path,
                               uninterrupted: tuple[Any, dict[str, str], int]) -> None:
    root = write_tree(tmp_path / "proj", PROJECT)
    before = tree_checksum(root)
    stopped = interrupt(root, phase, sig, tmp_path)

    assert stopped.returncode == EXIT[sig], stopped.stderr
    assert "Traceback" not in stopped.stdout + stopped.stderr, stopped.stderr
    assert "internal error" not in stopped.stderr, stopped.stderr
    if sig in LAST_LINE:
        assert stopped.stderr.strip().splitlines()[-1] == LAST_LINE[sig], stopped.stderr
    assert not stopped.survivors, f"processes of the interrupted run left running: {stopped.survivors}"
    assert tree_checksum(root) == before
    reports = root / "reports"
    assert not unparsable(reports), unparsable(reports)  # every report whole (atomic writes) or absent
    card = None
    if (reports / "scorecard.json").exists():
        assert phase == "reports", "a scorecard written before the reports phase"
        card, _ = split_notes(scorecard(root))  # this run's, complete: what the resumed run writes
    if sig is not signal.SIGKILL:
        assert not (reports / ".harness.lock").exists() and not (root / ".harness-cache" / ".harness.lock").exists()

    again = run(root)
    assert again.returncode == uninterrupted[2], again.stdout + again.stderr
    assert "Traceback" not in again.stdout + again.stderr
    if sig is signal.SIGKILL:
        assert "took over the run lock of an earlier harness run" in again.stderr
    else:
        assert "took over the run lock" not in again.stderr
    expected, _ = split_notes(uninterrupted[0])
    resumed, _healed = split_notes(scorecard(root))
    assert resumed == expected
    if card is not None:
        assert card == expected
    assert verdicts(root) == uninterrupted[1]  # no verdict lost, none changed
    assert tree_checksum(root) == before

