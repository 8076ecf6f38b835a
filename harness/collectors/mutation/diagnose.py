"""Why a mutation run failed: one line naming the cause (a phase mutmut stopped in, tests failing on its
instrumented copy, a crash), from the driver's status file and mutmut's log."""

from __future__ import annotations

import signal
from collections.abc import Mapping, Sequence

from harness.collectors.mutation import quarantine as mq
from harness.collectors.mutation.artifacts import MutationArtifacts
from harness.collectors.mutation.protocol import DRIVER_INTERRUPTED, DriverStatus, read_current, read_text
from harness.discover import ModuleInfo
from harness.errors import NoDataError, ToolError
from harness.model import QuarantineCause, QuarantinedTest

FAILED_PHASE = {
    "generate": "mutmut could not generate the mutants",
    "stats": "the tests fail on mutmut's instrumented copy (stats run)",
    "associations": "mutmut found no test for any mutated function under the module names it expects",
    "clean": "the clean run failed: the tests fail on mutmut's instrumented copy with no mutant active",
    "forced_fail": "mutmut's forced-fail check failed: making every mutated function raise failed no test",
}


def failure(  # KeyboardInterrupt when mutmut was interrupted, else the HarnessError naming the cause
    status: DriverStatus,
    returncode: int,
    art: MutationArtifacts,
    modules: Sequence[ModuleInfo],
) -> BaseException:
    if status.get("interrupted") or returncode in (DRIVER_INTERRUPTED, -signal.SIGINT):
        return KeyboardInterrupt()
    phase = str(status.get("phase", "generate")).removesuffix("-classify")
    log_text = read_text(art.log)
    unjudging = [e for e in status.get("unjudging") or () if isinstance(e, Mapping)]
    if unjudging:
        shown = "; ".join(f"{e.get('nodeid')} ({e.get('cause')}: {e.get('detail')})" for e in unjudging[:3])
        more = f" and {len(unjudging) - 3} more" if len(unjudging) > 3 else ""
        return ToolError(
            f"{len(unjudging)} test(s) fail on mutmut's instrumented copy with no mutant active: {shown}{more}; "
            f"automatic quarantine is off (config key 'mutation.auto_quarantine' or 'gate.strict'): quarantine "
            f"them with config key 'mutation.quarantine' or turn it on; log {art.log}"
        )
    crash = crash_culprit(returncode, status, art)
    if crash is not None:
        return ToolError(
            f"{crash.nodeid} {crash.detail.replace('on the instrumented copy', 'in its ' + phase + ' phase')}; "
            f"automatic quarantine is off or gave up after {MAX_CRASHES} crashes: quarantine it with config key "
            f"'mutation.quarantine'; log {art.log}"
        )
    if "could not find any test case for any mutant" in log_text:
        return NoDataError(
            f"no test executes any mutated function of {', '.join(m.name for m in modules)}; log {art.log}"
        )
    failing = [str(t) for t in status.get("failed_tests", [])]
    shown = f" (failing: {', '.join(failing[:3])})" if failing else ""
    reason = FAILED_PHASE.get(phase, f"mutmut stopped in its {phase} phase")
    last = _last_line(log_text)
    return ToolError(
        f"{reason}{shown}; refusing to score mutants"
        + (f" (mutmut's last words: {last})" if last else "")
        + f"; log {art.log}"
    )


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("$ ")]
    line = lines[-1] if lines else ""
    return line if len(line) <= 200 else line[:197] + "..."


MAX_CRASHES = 3  # tests that crash mutmut's process (a fatal signal) quarantined, one per new start of the driver


def crash_culprit(returncode: int, status: DriverStatus, art: MutationArtifacts) -> QuarantinedTest | None:
    """The test that crashed mutmut's process with no mutant active (a segfault in the stats or clean run, or in
    the clean run's second pass), as a quarantine entry; None when the driver did not die that way."""
    test = str(status.get("crashed_test") or "")
    code = int(status.get("crash") or returncode)
    if not test:
        where = read_current(art.current)
        if returncode >= 0 or str(where.get("phase")) in ("mutants", "collect", ""):
            return None
        test = str(where.get("test") or "")
    if not test:
        return None
    how = f"signal {signal.Signals(-code).name}" if code < 0 and -code in signal.valid_signals() else f"exit {code}"
    return QuarantinedTest(
        nodeid=test,
        cause=QuarantineCause.INSTRUMENTED,
        detail=f"crashed mutmut's test process ({how}) on the instrumented copy with no mutant active",
        reproduce=mq.reproduce_instrumented(str(art.sandbox / "mutants"), test, after=()),
    )

