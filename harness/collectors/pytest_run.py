"""Spawning the target's pytest: one place that decides which options every phase gets.

The target's own ``addopts`` are neutralised (``-o addopts=``) and random-order plugins and the cache
provider are disabled, so ``--cov-fail-under``, ``-x`` or a shuffling plugin cannot distort a phase; each phase
adds the options it needs, then the user's ``pytest_args`` from the harness config come last.
"""

from __future__ import annotations

import ctypes
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.config import Config
from harness.discover import Project
from harness.errors import ToolError

BASE_ARGS: tuple[str, ...] = (
    "-p", "harness_pytest",
    "-p", "no:cacheprovider",
    "-p", "no:randomly",
    "-p", "no:random_order",
    "-o", "addopts=",
    "--continue-on-collection-errors",  # one test file that cannot be imported is reported, not fatal
    "-q", "--no-header", "-rN",
)

# pytest's exit codes (pytest.ExitCode), the one table the harness reads them from.
PYTEST_EXIT = {0: "all tests passed", 1: "some tests failed", 2: "interrupted", 3: "internal error",
               4: "usage error", 5: "no tests collected"}


@dataclass(frozen=True)
class PytestRun:
    returncode: int
    wall_seconds: float
    output_file: Path
    # User + system CPU seconds of pytest and every process it waited for (xdist workers): moved far less than
    # wall time by other load on the machine.
    cpu_seconds: float = 0.0


# An outer pytest's variables, inherited when the harness runs inside a test (the harness's own suite, or a
# project's test that drives it): its options, and pytest-xdist's worker identity - a serial run that inherits a
# worker's PYTEST_XDIST_TESTRUNUID sees the outer run's id in every run (ids built from it stop varying).
OUTER_PYTEST_VARS = ("PYTEST_ADDOPTS", "PYTEST_CURRENT_TEST", "PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT",
                     "PYTEST_XDIST_TESTRUNUID")


def pytest_env(project: Project, work: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a target test run: the work copy's import roots first on ``sys.path``.

    Internal ``HARNESS__*`` variables inherited from an outer harness run are dropped, so a harness measuring
    a project that itself runs the harness (as the harness's own suite does) never mixes the two runs' data;
    so are an outer pytest's (:data:`OUTER_PYTEST_VARS`).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("HARNESS__")}
    paths = [str(work / r) if r else str(work) for r in project.import_roots]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env["PYTHONHASHSEED"] = env.get("PYTHONHASHSEED", "0")
    for name in OUTER_PYTEST_VARS:
        env.pop(name, None)
    # The work copy is the harness's own: pytest caches its rewritten test modules there and Python its
    # bytecode, so each repeated run (timed, flakiness) measures the tests, not recompiling every module (as
    # the mutation phase does). An inherited PYTHONDONTWRITEBYTECODE (tox, many CI images) made every run pay
    # it: a third of the CPU of the harness's own fast suite.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(extra or {})
    return env


def _prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return fn


_PRCTL = _prctl()  # looked up here: the child between fork and exec only calls it
_PR_SET_PDEATHSIG = 1


def dies_with_harness() -> Callable[[], None] | None:
    """``preexec_fn`` for a tool's process: the kernel SIGKILLs it when the harness dies (kill -9, the OOM
    killer), so no test run goes on writing into the work copy under the next run (the mutation driver does the
    same for itself). None where there is no ``prctl``."""
    prctl = _PRCTL
    if prctl is None:
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the harness died before the request was made
            os._exit(1)

    return preexec


def xdist_args(workers: int) -> list[str]:
    return ["-n", str(workers)] if workers > 1 else ["-p", "no:xdist"]


def order_args(order: str = "declared", seed: int = 0) -> list[str]:
    """The harness plugin's order options: the tests run in exactly this order, with the seed shown."""
    return [f"--harness-order={order}", f"--harness-seed={seed}"]


# A reproduction command's options: one process, no addopts, no cache, no reordering plugin.
REPRODUCE_ARGS: tuple[str, ...] = (
    "-p", "harness_pytest",
    "-p", "no:xdist",
    "-p", "no:randomly",
    "-p", "no:cacheprovider",
    "-o", "addopts=",
)


def reproduce_command(nodeids: Sequence[str], *, order: str = "declared", seed: int = 0,
                      pytest_args: Sequence[str] = (), parallel: int = 0) -> str:
    """The one-line command that replays ``nodeids`` in that order in one process, from the project root.

    The target's ``addopts``, xdist and random-order plugins are switched off so the order is exactly the one
    printed; the harness plugin keeps the seed visible (``--harness-order``/``--harness-seed``). ``parallel``
    (parallel-unsafe tests) asks for that many xdist workers first.
    """
    base = list(REPRODUCE_ARGS)
    if parallel:  # xdist on, with that many workers (the order is then xdist's, not the printed one)
        i = base.index("no:xdist")
        base[i - 1:i + 1] = ["-n", str(parallel)]
        return shlex.join(["python", "-m", "pytest", *base, *pytest_args, *nodeids])
    return shlex.join(["python", "-m", "pytest", *base, *pytest_args, *order_args(order, seed), *nodeids])


POLL_SECONDS = 2.0  # how often a run with a watcher (``on_wait``) calls it


def run_pytest(project: Project, cfg: Config, work: Path, phase_args: Sequence[str], log: Path,
               env_extra: Mapping[str, str] | None = None, prefix: Sequence[str] = (),
               after: Sequence[str] = (), on_wait: Callable[[], None] | None = None) -> PytestRun:
    """Run pytest in the work copy; the console output goes to ``log``. Times out after ``cfg.timeout``.

    ``after`` comes after the user's ``pytest_args``, so a phase can override them (the coverage phase's own
    ``coverage.pytest_args``). ``on_wait`` is called every POLL_SECONDS while pytest runs (progress); the timed
    runs pass none, so their wall time is not touched by polling."""
    cmd = [sys.executable, *prefix, "-m", "pytest", *BASE_ARGS, *phase_args, *cfg.pytest_args, *after,
           *project.tests]
    log.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    before = _children_cpu()
    with log.open("w", encoding="utf-8") as out:
        out.write("$ " + " ".join(cmd) + "\n")
        out.flush()
        proc = subprocess.Popen(cmd, cwd=work, env=pytest_env(project, work, env_extra), stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, preexec_fn=dies_with_harness())
        try:
            returncode = _wait(proc, start + cfg.timeout, on_wait)
        except subprocess.TimeoutExpired:
            raise ToolError(f"pytest did not finish within {cfg.timeout:g} s (config key 'timeout'); "
                            f"log: {log}") from None
        finally:
            if proc.poll() is None:  # timed out, Ctrl-C, or a watcher failed: pytest does not outlive the wait
                proc.kill()
                proc.wait()
    return PytestRun(returncode=returncode, wall_seconds=time.perf_counter() - start, output_file=log,
                     cpu_seconds=_children_cpu() - before)


def _wait(proc: subprocess.Popen[bytes], deadline: float, on_wait: Callable[[], None] | None) -> int:
    """The exit code of ``proc``; calls ``on_wait`` every POLL_SECONDS; TimeoutExpired at ``deadline``."""
    while True:
        left = deadline - time.perf_counter()
        if on_wait is None or left <= POLL_SECONDS:
            return proc.wait(timeout=max(left, 0.0))
        try:
            return proc.wait(timeout=POLL_SECONDS)
        except subprocess.TimeoutExpired:
            on_wait()


def _children_cpu() -> float:
    """CPU seconds of this process's waited-for children so far (the runs are sequential: deltas are theirs)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def run_printed(project: Project, cfg: Config, work: Path, command: str, log: Path) -> int | None:
    """Run a printed reproduction command as printed (``python`` is this interpreter) in the work copy; its
    exit code, or None when it ran over ``cfg.timeout``."""
    argv = shlex.split(command)
    with log.open("w", encoding="utf-8") as out:
        out.write("$ " + command + "\n")
        out.flush()
        try:
            proc = subprocess.run([sys.executable, *argv[1:]], cwd=work, stdout=out, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, check=False, env=pytest_env(project, work),
                                  timeout=cfg.timeout, preexec_fn=dies_with_harness())
        except subprocess.TimeoutExpired:
            return None
    return proc.returncode
