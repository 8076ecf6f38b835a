"""Real open-source targets (../shared/targets.md): pinned PyPI sdists that ship their tests.

``prepare(name)`` downloads the sdist once (cached under tests/.target-cache, or $QH_TARGET_CACHE),
installs its extra test dependencies into the running interpreter, and returns a fresh unpacked copy.
"""

from __future__ import annotations

import itertools
import os
import resource
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.config import Config
    from harness.discover import Project

CACHE = Path(os.environ.get("QH_TARGET_CACHE", Path(__file__).parent / ".target-cache"))


@dataclass(frozen=True)
class Target:
    """One pinned sdist of targets.md.

    ``pytest_args`` are the options the harness needs beyond the tests it discovers (targets.md's "pytest args"
    column without the test path, which the harness finds itself); ``tests`` is set only where discovery would
    not find them. ``source`` is what the harness should discover as the source packages (checked by the
    truth tests). ``truth_args`` are extra args for the coverage-truth runs only (deselecting tests that fail
    on unchanged code, so the harness measures instead of refusing). ``ci`` marks the fast targets that the
    CI acceptance tests run; the others run with ``QH_ALL_TARGETS=1``.
    """

    name: str
    version: str
    deps: tuple[str, ...] = ()
    pytest_args: tuple[str, ...] = ()
    tests: tuple[str, ...] = ()
    source: tuple[str, ...] = ()
    setup: tuple[tuple[str, str], ...] = ()  # files to create: (relative path, content)
    truth_args: tuple[str, ...] = ()
    ci: bool = False
    timeout: float = 900  # seconds, for one harness run with mutation off
    isolated: bool = False  # its own environment (see python_for)
    # (module path, lines) whose execution depends on thread timing: a difference confined to them is allowed
    timing: tuple[tuple[str, tuple[int, ...]], ...] = ()
    known_issue: str = ""  # a harness bug the truth test hits on this target (xfail, strict: fixed = XPASS)
    # What a bare ``mutmut run`` must be told beyond the files to mutate and the tests (truth.mutmut_copy): the
    # files its work copy needs that mutmut does not copy (``also_copy``), and test-selection args that leave
    # out tests its instrumentation breaks (its stats run stops at their failure, nothing is judged)
    mutmut_also_copy: tuple[str, ...] = ()
    mutmut_test_args: tuple[str, ...] = ()

    @property
    def sdist_stem(self) -> str:
        return f"{self.name.replace('-', '_')}-{self.version}"


def _deselect(*nodeids: str) -> tuple[str, ...]:
    return tuple(arg for n in nodeids for arg in ("--deselect", n))



_AZURE_DEPS = ("pytest-asyncio", "pytest-mock", "pytest-socket", "pytest-dotenv", "pytest-freezer", "trio",
               "pytest-httpx2", "openapi-spec-validator", "pydantic-settings", "asgi-lifespan", "uvicorn",
               "requests-mock")

TARGETS = {
    "toolz": Target("toolz", "1.2.0", source=("tlz", "toolz"), ci=True,
                    # they list module namespaces and meet mutmut's injected `_mutmut_mutated`
                    mutmut_test_args=_deselect("toolz/tests/test_curried.py::test_curried_operator",
                                               "toolz/tests/test_curried.py::test_curried_namespace")),
    "itsdangerous": Target("itsdangerous", "2.2.0", deps=("freezegun",), source=("src/itsdangerous",), ci=True),
    "semver": Target("semver", "3.1.1", pytest_args=("-o", "addopts=--import-mode=importlib"),
                     source=("src/semver",), ci=True),
    # tests/test_release.py reads README.md and imports tools/
    "python-slugify": Target("python-slugify", "9.2.0", source=("slugify",), ci=True,
                             mutmut_also_copy=("README.md", "tools")),
    "starlette-exporter": Target("starlette-exporter", "0.24.0", deps=("fastapi", "httpx"),
                                 source=("starlette_exporter",),
                                 setup=(("tests/static/test.txt", "static file\n"),)),
    "fastapi-azure-auth": Target("fastapi-azure-auth", "5.3.0", deps=_AZURE_DEPS, source=("fastapi_azure_auth",),
                                 isolated=True, mutmut_also_copy=("pytest.ini", "demo_project")),
    "attrs": Target("attrs", "26.1.0", deps=("hypothesis", "pympler", "cloudpickle"),
                    pytest_args=("--deselect", "tests/test_converters.py::TestPipe::test_wrapped_annotation"),
                    source=("src/attr", "src/attrs")),
    "python-dateutil": Target("python-dateutil", "4.0.0", deps=("freezegun", "hypothesis", "attrs", "pytest-cov"),
                              source=("src/dateutil",),
                              # broken on this machine's time zone data: fail on every plain run
                              truth_args=_deselect(
                                  "tests/test_tz.py::test_gettz_link[tzpath-Europe/Monaco-Europe/Paris]",
                                  "tests/test_tzfile.py::test_gettz_local_abbreviation_without_time_zone_data",
                                  "tests/test_tzpath_data.py::test_dst_matches_tzdata_zi[tzpath]")),
    "arrow": Target("arrow", "1.4.0", deps=("dateparser", "pytest-mock", "pytz", "simplejson"),
                    pytest_args=("-o", "addopts="), source=("arrow",)),
    "humanize": Target("humanize", "4.17.0", deps=("freezegun",),
                       pytest_args=("--ignore=tests/test_benchmarks.py",), source=("src/humanize",), ci=True),
    "jmespath": Target("jmespath", "1.0.1", source=("jmespath",), ci=True),
    "pyparsing": Target("pyparsing", "3.3.3", deps=("railroad-diagrams", "jinja2"), source=("pyparsing",),
                        timeout=1800),
    "a2wsgi": Target("a2wsgi", "1.10.10", deps=("pytest-asyncio", "httpx", "starlette", "baize"),
                     source=("a2wsgi",), isolated=True,
                     # `except asyncio.CancelledError: pass` in asgi_done_callback: whether the ASGI task is
                     # cancelled before it finishes depends on thread timing (seen missed under xdist on 2 busy
                     # cores, taken in serial runs)
                     timing=(("a2wsgi/asgi.py", (183, 184)),)),
}


def _download(t: Target) -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    for candidate in CACHE.glob(f"*{t.version}.tar.gz"):
        if candidate.name.lower().replace("-", "_").startswith(t.name.lower().replace("-", "_")):
            return candidate
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "-q",
                    "-d", str(CACHE), f"{t.name}=={t.version}"], check=True)
    return _download(t)


ENVS = CACHE / "envs"
# Address-space cap of a harness run on a real target (and of every process it starts): a run that needs more
# fails with MemoryError instead of drawing the shared machine's OOM killer onto other people's processes.
MEMORY_LIMIT = int(os.environ.get("QH_TARGET_MEMORY_MB", "8192")) << 20


def limit_memory() -> None:
    """``preexec_fn`` of a harness run: cap its address space at MEMORY_LIMIT."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

_CHECK = """
import sys
from importlib import metadata
name, version, *deps = sys.argv[1:]
try:
    ok = metadata.version(name) == version and all(metadata.distribution(d) for d in deps)
except metadata.PackageNotFoundError:
    ok = False
sys.exit(0 if ok else 1)
"""


def python_for(name: str) -> str:
    """The interpreter that runs the harness (and the reference runs) on target ``name``.

    Most targets share the running interpreter. An ``isolated`` target (its test plugins would change other
    targets' suites: pytest-asyncio warns at start-up, which ``filterwarnings = error`` turns into an internal
    error) gets its own virtual environment under the cache, layered on the running one: its own packages come
    first, then every package of the running environment (the harness, pytest, coverage.py, mutmut), whose
    ``.pth`` hooks (coverage.py's process start-up hook, editable installs) still apply.
    """
    t = TARGETS[name]
    if not t.isolated:
        return sys.executable
    env = ENVS / name
    python = env / "bin" / "python"
    ready = env / "layered"  # written last: an environment whose creation was interrupted is made again
    if not ready.exists():
        shutil.rmtree(env, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(env)], check=True, capture_output=True)
        purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                 check=True, capture_output=True, text=True).stdout.strip()
        shared = sysconfig.get_paths()["purelib"]
        Path(purelib, "_shared_environment.pth").write_text(f"import site; site.addsitedir({shared!r})\n")
        ready.write_text(shared + "\n")
    return str(python)


def _installed(t: Target, python: str) -> bool:
    """The target at its pinned version and every extra test dependency are already installed."""
    return subprocess.run([python, "-c", _CHECK, t.name, t.version, *t.deps], check=False).returncode == 0


def _install(t: Target, root: Path) -> None:
    """Install the target (for its metadata and runtime dependencies) and its extra test dependencies.

    The harness puts its work copy first on sys.path, so the installed copy's code is never the one measured.
    Skipped when the pinned version and every dependency are installed already.
    """
    python = python_for(t.name)
    if _installed(t, python):
        return
    subprocess.run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check", str(root), *t.deps],
                   check=True, capture_output=True)


def prepare(name: str, dest: Path) -> Path:
    """Unpack a fresh copy of target ``name`` under ``dest``; returns the project root."""
    t = TARGETS[name]
    archive = _download(t)
    with tarfile.open(archive) as tar:
        tar.extractall(dest, filter="data")
    roots = [p for p in dest.iterdir() if p.is_dir()]
    assert len(roots) == 1, roots
    root = roots[0]
    for rel, content in t.setup:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(content)
    _install(t, root)
    for junk in [*root.glob("*.egg-info"), *root.glob("src/*.egg-info"), root / "build"]:
        shutil.rmtree(junk, ignore_errors=True)
    return root


def toml_list(items: Sequence[str]) -> str:
    """A ``--set`` value: a TOML list of literal strings."""
    return "[" + ", ".join(f"'{a}'" for a in items) + "]"


def harness_config(name: str, *, truth: bool = False) -> list[str]:
    """``--set`` arguments a target needs (its pytest args; with ``truth``, also its truth-only args)."""
    t = TARGETS[name]
    args = [*t.pytest_args, *(t.truth_args if truth else ())]
    out = []
    if args:
        out += ["--set", f"pytest_args={toml_list(args)}"]
    if t.tests:
        out += ["--set", f"tests={toml_list(t.tests)}"]
    return out


def selected(names: Sequence[str] = ()) -> list[str]:
    """Targets to run: ``names`` if given, else every target with ``QH_ALL_TARGETS=1``, else the CI ones."""
    if names:
        unknown = sorted(set(names) - set(TARGETS))
        if unknown:
            raise KeyError(f"unknown target(s) {', '.join(unknown)}; known: {', '.join(TARGETS)}")
        return list(names)
    if os.environ.get("QH_ALL_TARGETS") == "1":
        return list(TARGETS)
    return [n for n, t in TARGETS.items() if t.ci]


def coverage_config_file(root: Path) -> Path:
    """The file coverage.py reads its config from in ``root``: .coveragerc, else the first of setup.cfg and
    tox.ini with a ``[coverage:`` section, else pyproject.toml (coverage.py's own order)."""
    if (root / ".coveragerc").is_file():
        return root / ".coveragerc"
    for name in ("setup.cfg", "tox.ini"):
        path = root / name
        if path.is_file() and "[coverage:" in path.read_text(encoding="utf-8", errors="replace"):
            return path
    return root / "pyproject.toml"


def patch_subprocess(root: Path) -> Path:
    """Turn on coverage.py's subprocess measurement (``patch = subprocess``) in whichever config file coverage.py
    reads in ``root`` (a copy): ini sections, ``[tool.coverage.run]`` tables and ``[tool.coverage]`` dotted keys
    alike, leaving a config that already has it as it is. Returns the file changed."""
    path = coverage_config_file(root)
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if path.suffix == ".toml":
        run = tomllib.loads(text).get("tool", {}).get("coverage", {}).get("run", {})
        if "subprocess" in run.get("patch", ()):
            return path
        if "patch" in run:
            raise ValueError(f"{path}: coverage patch = {run['patch']!r}; add subprocess by hand")
        if "\n[tool.coverage.run]" in "\n" + text:
            text = text.replace("[tool.coverage.run]", '[tool.coverage.run]\npatch = ["subprocess"]', 1)
        elif "\n[tool.coverage]" in "\n" + text:
            text = text.replace("[tool.coverage]", '[tool.coverage]\nrun.patch = ["subprocess"]', 1)
        else:
            text += '\n[tool.coverage.run]\npatch = ["subprocess"]\n'
    else:
        section = "[run]" if path.name == ".coveragerc" else "[coverage:run]"
        if section in text:
            head, _, tail = text.partition(section)
            if "patch" in tail.split("\n[", 1)[0]:
                raise ValueError(f"{path}: {section} already sets patch; add subprocess by hand")
            text = f"{head}{section}\npatch = subprocess{tail}"
        else:
            text += f"\n{section}\npatch = subprocess\n"
    path.write_text(text, encoding="utf-8")
    return path


def set_values(set_args: Sequence[str]) -> list[str]:
    """The ``key=value`` items of ``["--set", "k=v", ...]``."""
    return [a for prev, a in itertools.pairwise(set_args) if prev == "--set"]


def harness_project(root: Path, set_args: Sequence[str] = ()) -> tuple[Project, Config]:
    """(Project, Config) as ``harness run ROOT *set_args`` resolves them (HARNESS_* variables ignored)."""
    from harness.config import load_config, parse_set
    from harness.discover import discover

    cfg, _ = load_config(root, environ={}, cli=parse_set(set_values(set_args)))
    return discover(root, cfg), cfg


def reference_args(cfg: Config, project: Project) -> list[str]:
    """pytest args of the independent reference run: the harness's effective suite invocation as a user would
    type it. The target's ``addopts`` are neutralised first (the harness does so, documented), then the
    configured ``pytest_args`` (which may set ``addopts`` again) and the discovered tests."""
    return ["-o", "addopts=", *cfg.pytest_args, *project.tests]


def reference_for(root: Path, dest: Path, set_args: Sequence[str] = (), python: str = sys.executable
                  ) -> dict[str, Any]:
    """coverage.py's JSON files of a plain serial ``coverage run --branch`` of the target's suite (truth.py), in
    a copy of ``root`` whose coverage config measures subprocesses (as the harness does by default), with the
    source paths, import roots, tests and pytest args the harness resolves for ``set_args``."""
    from truth import copy_target, reference_coverage

    project, cfg = harness_project(root, set_args)
    dest.mkdir(parents=True, exist_ok=True)
    patched = copy_target(root, dest / "patched")
    patch_subprocess(patched)
    return reference_coverage(patched, dest / "reference", project.source, reference_args(cfg, project),
                              import_roots=project.import_roots, python=python)


def _arc_lines(arc: str) -> set[int]:
    return {int(x) for x in arc.split("->") if x.lstrip("-").isdigit()}


def compare(name: str, scorecard: dict[str, Any], reference: dict[str, Any]) -> tuple[int, list[str], list[str]]:
    """truth.compare_coverage, except that a module with timing-dependent lines (``Target.timing``) matches when
    its statements and branches are equal and its missing lines and arcs differ only on those lines.

    Returns (modules matched, differences, notes on timing-dependent differences allowed).
    """
    from truth import compare_coverage

    timing = dict(TARGETS[name].timing)
    rest = {**scorecard, "modules": [m for m in scorecard["modules"] if m["path"] not in timing]}
    matched, diffs = compare_coverage(rest, reference)
    notes = []
    for m in scorecard["modules"]:
        if m["path"] not in timing:
            continue
        one, one_diffs = compare_coverage({**scorecard, "modules": [m]}, reference)
        if one:
            matched += 1
            continue
        ref, cov, lines = reference.get(m["path"]), m["coverage"], set(timing[m["path"]])
        if ref is None or cov is None:
            diffs += one_diffs
            continue
        nums, summary = cov["numbers"], ref["summary"]
        arcs = {f"{a}->{b if b > 0 else 'exit'}" for a, b in ref["missing_branches"]}
        line_diff = set(cov["missing_lines"]) ^ set(ref["missing_lines"])
        arc_diff = set(cov["missing_arcs_text"]) ^ arcs
        if ((nums["statements"], nums["branches"]) == (summary["num_statements"], summary["num_branches"])
                and line_diff <= lines and all(_arc_lines(a) & lines for a in arc_diff)):
            matched += 1
            notes.append(f"{m['module']}: differs only on its timing-dependent lines {sorted(line_diff)} "
                         f"{sorted(arc_diff)}")
        else:
            diffs += one_diffs
    return matched, diffs, notes
