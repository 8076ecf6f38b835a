"""The harness's pytest plugin, loaded into the target's test runs with ``-p harness_pytest``.

It lives outside the ``harness`` package so that loading it imports nothing the harness measures about itself.
Neutral unless asked:

* ``HARNESS__COVERAGE=<json file>`` switches coverage.py's dynamic context to the running test's node id in
  every process, so the data says which test executed which line. Coverage itself is started at interpreter
  start-up by coverage.py's own process-start hook (its ``.pth`` file, with ``COVERAGE_PROCESS_CONFIG`` made by
  :func:`coverage_process_config`), in the controller, every pytest-xdist worker and every Python subprocess
  the tests start - before pytest imports anything of the target (an ini ``filterwarnings`` naming a project
  class, a ``-p`` plugin, ``pytest_plugins``), so the figures equal ``coverage run -m pytest``. Where the hook
  did not run, the plugin starts coverage itself as early as a plugin can. Each process writes its own data
  file; the harness combines. ``HARNESS__COVERAGE_SUBPROCESS=0`` keeps the tests' own subprocesses unmeasured.
* ``--harness-record=FILE`` writes every test's outcome, failing phase and duration to ``FILE`` (JSON), from
  the controller, plus collection errors and the session's exit status.
* ``--harness-order=declared|reversed|shuffle`` with ``--harness-seed=N`` reorders the collected tests
  (identically in every xdist worker, as xdist requires).
"""

from __future__ import annotations

import json
import os
import random
import time
from pathlib import Path
from typing import Any

import pytest

_cov: Any = None


def coverage_process_config(spec_file: str) -> str:
    """The serialized coverage.py config every measured process starts with (``COVERAGE_PROCESS_CONFIG``).

    The target's own coverage config (read from the current directory, as ``coverage run`` does) with the
    harness's settings on top: branch mode, the source, one data file per process, no dynamic context of its
    own (the plugin switches contexts per test).
    """
    import coverage

    spec = json.loads(Path(spec_file).read_text(encoding="utf-8"))
    cov = coverage.Coverage(config_file=spec.get("config_file", True), data_file=spec["data_file"],
                            data_suffix=True, branch=True, source=spec["source"])
    cov.set_option("run:dynamic_context", None)
    serialized: str = cov.config.serialize()
    return serialized


def _start_coverage() -> None:
    global _cov
    spec_file = os.environ.get("HARNESS__COVERAGE")
    if not spec_file or _cov is not None:
        return
    import coverage

    started = getattr(coverage.process_startup, "coverage", None)  # by coverage.py's .pth at start-up
    if started is not None and os.environ.get("COVERAGE_PROCESS_CONFIG"):
        _cov = started
        return
    spec = json.loads(Path(spec_file).read_text(encoding="utf-8"))
    _cov = coverage.Coverage(
        data_file=spec["data_file"],
        data_suffix=True,
        branch=True,
        source=spec["source"],
        config_file=spec.get("config_file", True),
    )
    _cov.start()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness", "quality-harness recording and ordering")
    group.addoption("--harness-record", default=None, metavar="FILE",
                    help="Write each test's outcome, phase and duration to FILE as JSON.")
    group.addoption("--harness-order", default="declared", choices=("declared", "reversed", "shuffle"),
                    help="Order of the collected tests: as declared, reversed, or shuffled with --harness-seed.")
    group.addoption("--harness-seed", default=0, type=int, metavar="N",
                    help="Seed for --harness-order=shuffle; printed in every reproduction command.")


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    _start_coverage()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if _cov is not None:
        _cov.switch_context(item.nodeid)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """In a coverage run, the setup report carries the test's shared fixtures (``user_properties``, which
    pytest-xdist forwards to the controller's recorder): a later run that re-measures only some tests re-runs
    every test sharing a fixture value with them (harness.collectors.coverage_reuse)."""
    outcome = yield
    if _cov is not None and call.when == "setup" and outcome.excinfo is None:
        outcome.get_result().user_properties.append((SHARED_PROPERTY, shared_fixtures(item)))


SHARED_PROPERTY = "harness_shared_fixtures"


def shared_fixtures(item: pytest.Item) -> list[str]:
    """``name@baseid`` of every fixture of wider than function scope the test uses that the project defines (a
    conftest.py, a test module, a class; xunit ``setup_module``/``setUpClass``): its value is made once and seen
    by other tests. Fixtures of pytest and its plugins (no baseid, code outside the rootdir) are left out."""
    info = getattr(item, "_fixtureinfo", None)
    root = str(item.config.rootpath)
    out = set()
    for name, defs in (getattr(info, "name2fixturedefs", None) or {}).items():
        for fixturedef in defs:
            if str(getattr(fixturedef, "scope", "function")) == "function":
                continue
            code = getattr(getattr(fixturedef, "func", None), "__code__", None)
            if fixturedef.baseid or str(getattr(code, "co_filename", "")).startswith(root):
                out.add(f"{name}@{fixturedef.baseid}")
    return sorted(out)


@pytest.hookimpl(trylast=True)
def pytest_runtest_logfinish(nodeid: str, location: Any) -> None:
    if _cov is not None:
        _cov.switch_context("")


def pytest_unconfigure(config: pytest.Config) -> None:
    global _cov
    if _cov is not None:
        import warnings

        _cov.stop()
        with warnings.catch_warnings():  # e.g. "no data collected" in an xdist controller that ran no test
            warnings.simplefilter("ignore")
            _cov.save()
        _cov._auto_save = False  # saved: the process-start hook's exit handler need not write it again
        _cov = None


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    order = config.getoption("harness_order")
    if order == "reversed":
        items.reverse()
    elif order == "shuffle":
        random.Random(config.getoption("harness_seed")).shuffle(items)


class _Recorder:
    """Collects reports in the controller (xdist forwards workers' reports to it) and writes them once."""

    def __init__(self, path: Path, config: pytest.Config) -> None:
        self.path = path
        self.config = config
        self.tests: dict[str, dict[str, Any]] = {}
        self.order: list[str] = []
        self.collection_errors: list[dict[str, str]] = []
        self.collected = 0
        self.started = time.perf_counter()
        self.finished = 0
        self.live_at = 0.0  # when the live progress file was last written

    def _live(self, nodeid: str) -> None:
        """At most once a second: tests finished so far, of how many, and the last one (``<record>.live``, read
        by the harness while the run goes on, for its progress lines)."""
        now = time.perf_counter()
        if now - self.live_at < 1.0 and self.finished < self.collected:
            return
        self.live_at = now
        live = self.path.with_suffix(".live")
        tmp = self.path.with_suffix(".live.tmp")
        tmp.write_text(json.dumps({"done": self.finished, "total": self.collected, "current": nodeid}),
                       encoding="utf-8")
        os.replace(tmp, live)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collection_errors.append({"nodeid": report.nodeid, "message": _short(report)})

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.collected = len(session.items)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        self.collected = max(self.collected, len(ids))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        entry = self.tests.get(report.nodeid)
        if entry is None:
            entry = {"nodeid": report.nodeid, "outcome": "passed", "phase": None, "duration": 0.0,
                     "message": "", "worker": getattr(report, "node", None) and report.node.gateway.id,
                     "start": getattr(report, "start", 0.0), "stop": 0.0}
            self.tests[report.nodeid] = entry
            self.order.append(report.nodeid)
        entry["duration"] += report.duration
        for name, value in getattr(report, "user_properties", ()):
            if name == SHARED_PROPERTY and value:
                entry["shared"] = list(value)
        if report.when == "teardown":
            self.finished += 1
            self._live(report.nodeid)
        entry["stop"] = max(entry["stop"], getattr(report, "stop", 0.0))  # epoch seconds: who ran alongside
        if entry["outcome"] in ("failed", "error"):
            return
        if report.failed:
            entry["outcome"] = "failed" if report.when == "call" else "error"
            entry["phase"] = report.when
            entry["message"] = _short(report)
        elif report.skipped and report.when in ("setup", "call"):
            entry["outcome"] = "skipped"
            entry["phase"] = report.when

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        doc = {
            "format": 1,
            "kind": "run-record",
            "order": self.config.getoption("harness_order"),
            "seed": self.config.getoption("harness_seed"),
            "exitstatus": int(exitstatus),
            "collected": self.collected,
            "session_seconds": time.perf_counter() - self.started,
            "collection_errors": self.collection_errors,
            "tests": [self.tests[n] for n in self.order],
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(doc), encoding="utf-8")
        os.replace(tmp, self.path)


def _short(report: Any) -> str:
    text = str(getattr(report, "longreprtext", "") or report.longrepr or "")
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1][:500] if lines else ""


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("HARNESS__COVERAGE_SUBPROCESS") == "0":
        # The tests' own subprocesses stay unmeasured: only an xdist controller (which starts the workers)
        # keeps the variable that makes coverage.py start in new processes.
        controller = not hasattr(config, "workerinput") and bool(getattr(config.option, "numprocesses", None))
        if not controller:
            os.environ.pop("COVERAGE_PROCESS_CONFIG", None)
    record = config.getoption("harness_record")
    if record and not hasattr(config, "workerinput"):
        config.pluginmanager.register(_Recorder(Path(record), config), "harness-recorder")
