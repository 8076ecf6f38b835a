"""A verdict cache keyed by content, portable across machines and checkouts (issue 14).

A mutant's verdict depends on the mutated function (its source and the mutation), on the tests run against it
(their code, and the project code they execute), on the tools (Python, mutmut, pytest...) and on the settings
that change verdicts (timeouts, selection, fixes). :func:`mutant_key` hashes exactly those, by content only:
no absolute path, time or machine name enters it, so a fresh checkout in CI that restores the cache folder
(``actions/cache``, see docs/ci.md) finds the same keys and re-runs only the mutants whose key changed.

The cache is one folder holding one JSON file (:data:`FILE`), ``{key: [exit code, seconds]}``; it is read once,
updated in memory and written atomically (:meth:`VerdictCache.save`). It never replaces the sandbox's own
incremental results; it makes a cold sandbox warm.

Pure except :meth:`VerdictCache.load` and :meth:`VerdictCache.save`.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.workspace import atomic_write_text

FILE = "verdicts.json"
FORMAT = 1
# Exit codes worth keeping: verdicts the tests decided (killed, survived, no tests, timeout), never an
# interrupted check, a runner failure or a crash whose cause may be the machine (memory, signals).
CACHEABLE = frozenset({0, 1, 3, 5, 33, 36, -24, 24, 152, 255})


def digest(text: str | bytes) -> str:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class KeyInputs:
    """Everything a verdict depends on, by content. ``tests``: node id -> digest of the test's code (its file and
    the conftest.py files above it); ``code``: project file -> digest, for every project file the tests execute
    (the mutated module included), of the code they can depend on (:func:`executed_code`); ``tools``: name ->
    version; ``settings``: the verdict-changing config."""

    function_source: str
    mutant_source: str
    tests: Mapping[str, str]
    code: Mapping[str, str]
    tools: Mapping[str, str]
    settings: Mapping[str, Any]

    def canonical(self) -> str:
        return json.dumps(
            {
                "format": FORMAT,
                "function": self.function_source,
                "mutant": self.mutant_source,
                "tests": sorted(self.tests.items()),
                "code": sorted(self.code.items()),
                "tools": sorted(self.tools.items()),
                "settings": self.settings,
            },
            sort_keys=True,
            separators=(",", ":"),
            default=_jsonable,
        )


def _jsonable(value: Any) -> Any:
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if isinstance(value, (tuple, list)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not a setting value")


def mutant_key(inputs: KeyInputs) -> str:
    """The cache key of a mutant's verdict: sha256 of its inputs' canonical JSON (order-independent maps)."""
    return digest(inputs.canonical())


def code_digest(test_file_text: str, conftests: Iterable[str]) -> str:
    """The digest of a test's code: its file and the conftest.py files that apply to it (outermost first)."""
    h = hashlib.sha256()
    for text in (*conftests, test_file_text):
        h.update(digest(text).encode())
    return h.hexdigest()


@dataclass
class VerdictCache:
    """The folder's verdicts, in memory: ``get`` a key's (exit code, seconds), ``put`` a new one, ``save``."""

    folder: Path | None
    verdicts: dict[str, tuple[int, float]] = field(default_factory=dict)
    hits: int = 0
    added: int = 0

    @classmethod
    def load(cls, folder: Path | None) -> VerdictCache:
        cache = cls(folder)
        if folder is None:
            return cache
        try:
            doc = json.loads((folder / FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cache
        if isinstance(doc, dict) and doc.get("format") == FORMAT and isinstance(doc.get("verdicts"), dict):
            for key, value in doc["verdicts"].items():
                if isinstance(value, list) and len(value) == 2 and isinstance(value[0], int):
                    cache.verdicts[str(key)] = (int(value[0]), float(value[1]))
        return cache

    def get(self, key: str) -> tuple[int, float] | None:
        found = self.verdicts.get(key)
        if found is not None:
            self.hits += 1
        return found

    def put(self, key: str, exit_code: int, seconds: float) -> None:
        if exit_code in CACHEABLE and self.verdicts.get(key) != (exit_code, seconds):
            self.verdicts[key] = (exit_code, round(seconds, 4))
            self.added += 1

    def save(self) -> None:
        if self.folder is None or not self.added:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.folder / FILE, json.dumps({"format": FORMAT, "verdicts": {k: list(v) for k, v in
                                                                                 sorted(self.verdicts.items())}}))
        self.added = 0


def function_bodies(source: str) -> list[tuple[int, int]]:
    """(first, last) body lines of every top-level function and method of a top-level class: the code a test
    that never runs the function cannot depend on (its signature and decorators stay: they run at import)."""
    import ast

    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    out = []
    for node in tree.body:
        members = node.body if isinstance(node, ast.ClassDef) else [node]
        for fn in members:
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and fn.body[0].lineno > fn.lineno:
                out.append((fn.body[0].lineno, fn.end_lineno or fn.body[0].lineno))
    return out


def executed_code(lines: list[str], bodies: Iterable[tuple[int, int]], kept: Iterable[int]) -> str:
    """A file's code as far as some tests can depend on it: every line except the bodies of the functions
    they never ran (``bodies``, by index; ``kept``: the indexes of the bodies they ran)."""
    spans = list(bodies)
    keep = set(kept)
    dropped = [False] * (len(lines) + 2)
    for i, (first, last) in enumerate(spans):
        if i not in keep:
            for n in range(first, min(last, len(lines)) + 1):
                dropped[n] = True
    return "\n".join(f"{n}:{line}" for n, line in enumerate(lines, start=1) if not dropped[n])


# --------------------------------------------------------------------------------------------------- the driver's side

PYTEST_CONFIG_FILES = ("pytest.ini", ".pytest.ini", "tox.ini", "setup.cfg", "pyproject.toml")


@functools.cache
def _tool_versions() -> tuple[tuple[str, str], ...]:
    import sys
    from importlib import metadata

    dists = sorted({f"{(d.metadata['Name'] or '').lower()}=={d.version}" for d in metadata.distributions()})
    return (("python", sys.version.split()[0]), ("distributions", digest("\n".join(dists))))


def tool_versions() -> dict[str, str]:
    """Python's version and a digest of every installed distribution (name and version: mutmut, pytest, the
    target's dependencies); computed once per process (the installed tools do not change during a run)."""
    return dict(_tool_versions())


class DriverCache:
    """In the driver (the sandbox is the working directory): each submitted mutant's key, its cached verdict,
    and the verdicts mutmut registers, kept under their keys. ``files`` is the line selection's view of
    mutmut's files and of the coverage run's contexts (:class:`harness.selection.MutmutFiles`)."""

    SAVE_INTERVAL = 5.0

    def __init__(self, spec: Mapping[str, Any], files: Any, root: Path = Path(".")) -> None:
        folder = spec.get("verdict_cache")
        self.read = bool(spec.get("verdict_cache_read", True))
        self.cache = VerdictCache.load(Path(folder) if folder else None)
        self.settings = dict(spec.get("verdict_settings") or {})
        self.files = files
        self.root = root
        self.keys: dict[str, str] = {}
        self._keys: dict[tuple[str, tuple[str, ...]], str | None] = {}
        self._files_by_test: dict[str, set[str]] | None = None
        self._texts: dict[str, str | None] = {}
        self._tools: dict[str, str] | None = None
        self._saved = 0.0
        self._bodies: dict[str, tuple[list[str], list[tuple[int, int]], list[frozenset[str]], bool]] = {}
        self._digests: dict[tuple[str, tuple[int, ...]], str] = {}
        self._test_digests: dict[str, str] = {}

    @property
    def enabled(self) -> bool:
        return self.cache.folder is not None

    def _text(self, rel: str) -> str | None:
        if rel not in self._texts:
            try:
                self._texts[rel] = (self.root / rel).read_text(encoding="utf-8", errors="replace")
            except OSError:
                self._texts[rel] = None
        return self._texts[rel]

    def _test_digest(self, nodeid: str) -> str:
        file = nodeid.split("::")[0]
        if file not in self._test_digests:  # one per test file: a mutant's tests share a few files
            path = Path(file)
            conftests = [self._text((parent / "conftest.py").as_posix()) for parent in reversed(path.parents)]
            configs = [self._text(name) for name in PYTEST_CONFIG_FILES]
            self._test_digests[file] = code_digest(self._text(file) or "", [t or "" for t in (*configs, *conftests)])
        return self._test_digests[file]

    def _code_digest(self, path: str, tests: list[str]) -> str:
        """The digest of ``path`` as far as ``tests`` can depend on it: the bodies of functions none of them
        executed in the coverage run are left out, so editing one function changes only the keys of mutants
        whose tests ran it."""
        if path not in self._bodies:
            text = self._text(path)
            lines = text.splitlines() if text is not None else []
            bodies = function_bodies(text) if text is not None else []
            line_tests = self.files.contexts.get(path, ("", {}))[1]
            runners = [frozenset().union(*(line_tests.get(n, frozenset()) for n in range(a, b + 1)))
                       for a, b in bodies]
            self._bodies[path] = (lines, bodies, runners, text is None)
        lines, bodies, runners, missing = self._bodies[path]
        if missing:
            return digest("\0missing")
        wanted = set(tests)
        kept = tuple(i for i, r in enumerate(runners) if r & wanted)
        memo = (path, kept)
        if memo not in self._digests:
            self._digests[memo] = digest(executed_code(lines, bodies, kept))
        return self._digests[memo]

    def key(self, mutant: str, tests: Iterable[str]) -> str | None:
        """The mutant's key, or None when the coverage data or mutmut's files cannot say what it depends on
        (computed once per mutant and tests: :meth:`peek` before the clean run, :meth:`lookup` at submission)."""
        tests = sorted(set(tests))
        memo = (mutant, tuple(tests))
        if memo not in self._keys:
            self._keys[memo] = self._key(mutant, tests)
        return self._keys[memo]

    def _key(self, mutant: str, tests: list[str]) -> str | None:
        sources = self.files.sources(mutant)
        if sources is None:
            return None
        if self._files_by_test is None:
            self._files_by_test = {}
            for path, covering in self.files.tests_by_file().items():
                for test in covering:
                    self._files_by_test.setdefault(test, set()).add(path)
        if not self._files_by_test:
            return None  # no coverage data: which project code the tests run is unknown
        module = mutant.rpartition(".")[0]
        own = self.files.path_by_module.get(module)
        paths = set().union(*(self._files_by_test.get(t, set()) for t in tests)) | ({own} if own else set())
        code = {p: self._code_digest(p, tests) for p in sorted(paths)}
        if self._tools is None:
            self._tools = tool_versions()
        return mutant_key(KeyInputs(function_source=sources[0], mutant_source=sources[1],
                                    tests={t: self._test_digest(t) for t in tests}, code=code, tools=self._tools,
                                    settings=self.settings))

    def lookup(self, mutant: str, tests: Iterable[str]) -> tuple[int, float] | None:
        """The cached verdict of a mutant about to run ``tests`` (None: run it); remembers its key."""
        if not self.enabled:
            return None
        key = self.key(mutant, tests)
        if key is None:
            return None
        self.keys[mutant] = key
        return self.cache.get(key) if self.read else None

    def peek(self, mutant: str, tests: Iterable[str]) -> bool:
        """Would :meth:`lookup` find the verdict (counting nothing)?"""
        if not self.enabled or not self.read:
            return False
        key = self.key(mutant, tests)
        return key is not None and key in self.cache.verdicts

    def store(self, mutant: str, exit_code: int, seconds: float) -> None:
        key = self.keys.pop(mutant, None)
        if key is None:
            return
        self.cache.put(key, exit_code, seconds)
        import time

        now = time.monotonic()
        if now - self._saved >= self.SAVE_INTERVAL:
            self._saved = now
            self.cache.save()


# ------------------------------------------------------------------------------ mutmut's stats, restored with the cache
# A cold sandbox (a fresh checkout) makes mutmut run the whole suite once, instrumented, to learn which tests call
# which function (``mutants/mutmut-stats.json``) before any mutant. The cache folder keeps that file, with the
# driver's quarantine record it goes with, under a key of everything it depends on: every file of the project
# copy, the pytest and mutmut settings, the tools and the verdict-changing config. With the same key a restored
# cache puts them back, and mutmut goes its incremental way exactly as in a warm sandbox (it lists the tests and
# runs stats for new ones only). The bundle also keeps what mutmut generated (each mutated file, its meta file
# without verdicts, its line index, the driver's generation record): a cold sandbox then skips generation too.
STATS_DIR = "stats"
STATS_FORMAT = 1
KEEP_STATS = 4  # bundles kept (newest first): a nightly matrix's shards share one; a branch's last few stay


def stats_key(parts: Mapping[str, Any]) -> str:
    """The key of a stats bundle: sha256 of its inputs' canonical JSON."""
    return digest(json.dumps({"format": STATS_FORMAT, **parts}, sort_keys=True, separators=(",", ":"),
                             default=_jsonable))


def restore_stats(folder: Path | None, mutants: Path, key: str, names: Iterable[str]) -> bool:
    """Put the bundle ``key`` back into ``mutants`` when it has none of ``names`` (a cold sandbox): every file the
    bundle holds (``names`` and any other kept with them). A bundle that is missing, unreadable or of another
    format restores nothing: mutmut then runs its full stats."""
    names = list(names)
    if folder is None or any((mutants / n).exists() for n in names):
        return False
    try:
        doc = json.loads((folder / STATS_DIR / f"{key}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    files = doc.get("files") if isinstance(doc, dict) and doc.get("format") == STATS_FORMAT else None
    if not isinstance(files, dict) or not isinstance(files.get(names[0]), str):
        return False
    root = mutants.resolve()
    for name, text in files.items():
        target = (mutants / name).resolve()
        if isinstance(text, str) and target.is_relative_to(root):
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(target, text)
    return True


def keep_stats(folder: Path | None, mutants: Path, key: str, names: Iterable[str],
               scrub: Callable[[str, str], str] | None = None) -> bool:
    """Store ``names`` of ``mutants`` (the first one must exist; the others when they do) as the bundle ``key``,
    each text passed through ``scrub(name, text)``; keep the newest :data:`KEEP_STATS` bundles."""
    names = list(names)
    if folder is None:
        return False
    files: dict[str, str] = {}
    for name in names:
        try:
            text = (mutants / name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        files[name] = scrub(name, text) if scrub is not None else text
    if names[0] not in files:
        return False
    target = folder / STATS_DIR
    target.mkdir(parents=True, exist_ok=True)
    atomic_write_text(target / f"{key}.json", json.dumps({"format": STATS_FORMAT, "files": files}))
    bundles = sorted(target.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in bundles[KEEP_STATS:]:
        old.unlink(missing_ok=True)
    return True
