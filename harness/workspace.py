"""Where the harness may write: its work copy of the target, its raw artifacts and its reports.

Nothing the user owns is modified: the cache and reports folders must be folders of their own
(:meth:`Workspace.for_target`), every tool runs in a synced copy of the target under the cache dir, and every
file is written atomically (temp file + rename), so an interrupted run leaves the last good file intact. One run
at a time uses a folder (:func:`run_lock`). Every JSON file the harness writes carries
``{"format": N, "harness_version": ...}``; readers refuse unknown formats and wrong shapes with one
:class:`ArtifactError` naming the file.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import shutil
import socket
import stat
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from harness import __version__
from harness.config import Config
from harness.discover import SKIP_DIRS, Project
from harness.errors import ArtifactError, BusyError, ConfigError, UsageError
from harness.model import Scorecard
from harness.serialize import scorecard_from_dict

# Format history of the harness's JSON files:
#   1 - first version (scorecard, module scorecards, run records, history entries)
FORMAT = 1


CACHE_TAG = "CACHEDIR.TAG"  # the Cache Directory Tagging Specification's file: backup tools skip the folder
CACHE_TAG_TEXT = ("Signature: 8a477f597d28d172789f06886806bc55\n"
                  "# The cache of quality-harness (config key cache_dir): its work copies. Safe to delete.\n")
LOCK_FILE = ".harness.lock"
# What the harness itself puts in a cache folder: an untagged folder holding anything else is not its own.
CACHE_ENTRIES = frozenset({"work", "mutation", "verdicts", CACHE_TAG, LOCK_FILE})  # verdicts: issue 14, alone in CI


@dataclass(frozen=True)
class Workspace:
    """The paths of one run. ``work`` is the copy of the target every tool runs in."""

    root: Path
    reports: Path
    cache: Path

    @classmethod
    def for_target(cls, root: Path, cfg: Config, project: Project | None = None) -> Workspace:
        """The run's folders, refused (naming the key) unless each is a folder of its own: not the project root
        or a folder containing it, not each other's, and (given the ``project``) apart from its source and test
        paths. The harness writes and deletes in them, so they must hold nothing of the user's."""
        root = root.resolve()
        cache = dedicated_folder(root, cfg.cache_dir, "config key 'cache_dir'")
        reports = dedicated_folder(root, cfg.reports_dir, "config key 'reports_dir'")
        if _overlap(cache, reports):
            raise ConfigError(f"config keys 'cache_dir' and 'reports_dir' must name separate folders, neither "
                              f"inside the other (got {cfg.cache_dir!r} and {cfg.reports_dir!r})")
        if project is not None:
            for name, path, value in (("cache_dir", cache, cfg.cache_dir), ("reports_dir", reports, cfg.reports_dir)):
                for kind, entries in (("source", project.source), ("test", project.tests)):
                    for entry in entries:
                        other = (root / entry.split("::")[0]).resolve()
                        if other != root and _overlap(path, other):
                            raise ConfigError(f"config key '{name}' ({value!r}) overlaps the {kind} path {entry}: "
                                              "the harness's folders must be apart from the project's files")
        return cls(root=root, reports=reports, cache=cache)

    @property
    def work(self) -> Path:
        return self.cache / "work"

    @property
    def raw(self) -> Path:
        return self.reports / "raw"

    def excluded(self) -> set[Path]:
        return {self.reports, self.cache}

    def prepare(self) -> None:
        """Create the cache and reports folders before anything is measured, refusing (naming the key) a path
        that is a file or cannot be written, and a cache folder that holds files the harness did not write.
        Everything is checked before anything is created."""
        folders = (("cache_dir", self.cache), ("reports_dir", self.reports))
        for name, path in folders:
            check_folder(path, f"config key '{name}'")
        if self.cache.is_dir() and not (self.cache / CACHE_TAG).is_file():
            foreign = sorted(p.name for p in self.cache.iterdir() if p.name not in CACHE_ENTRIES)
            if foreign:
                raise ConfigError(f"config key 'cache_dir': {self.cache} is not a harness cache folder (it holds "
                                  f"{', '.join(foreign[:3])}{', ...' if len(foreign) > 3 else ''}, which the "
                                  "harness did not write); name a folder of its own")
        for name, path in folders:
            writable_folder(path, f"config key '{name}'")
        if not (self.cache / CACHE_TAG).is_file():
            atomic_write_text(self.cache / CACHE_TAG, CACHE_TAG_TEXT)


def dedicated_folder(root: Path, value: str, what: str) -> Path:
    """``value`` (the config key or option ``what`` names) resolved against ``root``, refused when it is empty,
    the root itself or one of its ancestors: the harness would write into, or sync, the user's own tree."""
    if not value.strip():
        raise ConfigError(f"{what} must name a folder, got {value!r}")
    root = root.resolve()
    path = (root / value).resolve()
    if path == root or path in root.parents:
        raise ConfigError(f"{what} must be a folder of its own, not the project root or a folder that contains "
                          f"it (got {value!r}, which is {path})")
    return path


def _overlap(a: Path, b: Path) -> bool:
    return a == b or a.is_relative_to(b) or b.is_relative_to(a)


def check_folder(path: Path, what: str) -> None:
    """Refuse a folder path that is a file, or lies under one; ``what`` names it in the error."""
    existing = next((p for p in (path, *path.parents) if p.exists()), path)
    if not existing.is_dir():
        raise ConfigError(f"{what}: {existing} is a file, not a folder")


def writable_folder(path: Path, what: str) -> None:
    """Create ``path`` if needed and check that a file can be made in it; ``what`` names it in the error."""
    check_folder(path, what)
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".harness-probe.", dir=path)
    except OSError as exc:
        raise ConfigError(f"{what}: cannot write in {path}: {_reason(exc, path)}") from None
    os.close(fd)
    Path(probe).unlink(missing_ok=True)


def _reason(exc: OSError, path: Path) -> str:
    """An OSError in a few words: its message, and the file it concerns when that is not ``path``."""
    reason = exc.strerror or str(exc)
    return f"{exc.filename}: {reason}" if exc.filename and str(exc.filename) != str(path) else reason


# ------------------------------------------------------------------------------------------------ run lock


@dataclass(frozen=True)
class Holder:
    """Who holds (or held) a run lock, as its lock file says."""

    pid: int | None = None
    host: str = "?"
    started: str = "?"
    command: str = ""

    def describe(self) -> str:
        command = f", `{self.command}`" if self.command else ""
        return f"pid {self.pid if self.pid is not None else '?'} on {self.host}, started {self.started}{command}"


def _read_holder(fd: int) -> Holder | None:
    """The holder recorded in an open lock file; None when it is empty."""
    data = os.pread(fd, 4096, 0)
    if not data.strip():
        return None
    try:
        doc = json.loads(data)
        return Holder(pid=int(doc["pid"]), host=str(doc["host"]), started=str(doc["started"]),
                      command=str(doc.get("command", "")))
    except (ValueError, TypeError, KeyError):
        return Holder()


@contextmanager
def run_lock(folder: Path, command: str) -> Iterator[Holder | None]:
    """Hold the run lock of ``folder`` (a file in it naming this process) for the block.

    The lock is an ``flock`` on ``folder/.harness.lock``: the system releases it when its process dies, so a
    lock file left by a killed run is taken over; the block gets that run's :class:`Holder` (else None) to note
    it. While another live process holds it, raises :class:`BusyError` naming that run.
    """
    path = folder / LOCK_FILE
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as exc:
            raise ConfigError(f"cannot create the run lock {path}: {_reason(exc, path)}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd) or Holder()
            os.close(fd)
            raise BusyError(f"another harness run is using {folder} ({holder.describe()}); wait for it to "
                            f"finish (its lock: {path})") from None
        except OSError as exc:  # a file system without locks (some network mounts)
            os.close(fd)
            raise UsageError(f"cannot lock {path}: {_reason(exc, path)}; put the harness's folders on a local "
                             "disk (config keys 'cache_dir' and 'reports_dir')") from None
        try:  # the previous holder removes the file as it ends: a lock on a removed file locks nothing
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        stale = _read_holder(fd)
        mine = Holder(pid=os.getpid(), host=socket.gethostname(),
                      started=dt.datetime.now().astimezone().isoformat(timespec="seconds"), command=command)
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(asdict(mine)).encode(), 0)
        yield stale
    finally:
        path.unlink(missing_ok=True)  # before the lock is released (see above)
        os.close(fd)


@contextmanager
def run_locks(folders: Sequence[Path], command: str) -> Iterator[list[Holder]]:
    """:func:`run_lock` on each folder in turn; the block gets the stale holders taken over."""
    with ExitStack() as stack:
        yield [h for f in folders if (h := stack.enter_context(run_lock(f, command))) is not None]


# ------------------------------------------------------------------------------------------------- files


def _umask() -> int:
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _mode_for(path: Path) -> int:
    """The mode ``open(path, "w")`` would leave: the file's own when it exists, else 0o666 less the umask."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return 0o666 & ~_umask()


@contextmanager
def atomic_file(path: Path) -> Iterator[Path]:
    """A temp file beside ``path`` for the block to write; renamed over ``path`` when the block succeeds and
    removed when it fails, so ``path`` is never half-written. Its mode is what a plain ``open`` gives (mkstemp's
    0600 would ignore the umask). A file that cannot be written raises :class:`ArtifactError` naming it."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise ArtifactError(f"cannot write {path}: {_reason(exc, path)}") from None
    tmp = Path(name)
    try:
        try:
            os.fchmod(fd, _mode_for(path))
        finally:
            os.close(fd)
        yield tmp
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise ArtifactError(f"cannot write {path}: {_reason(exc, tmp)}") from None
        raise


def atomic_write_text(path: Path, text: str) -> None:
    with atomic_file(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(path: Path, kind: str, payload: dict[str, Any]) -> None:
    """Write a harness JSON file with its format header, atomically."""
    doc = {"format": FORMAT, "kind": kind, "harness_version": __version__, **payload}
    atomic_write_text(path, json.dumps(doc, indent=2, sort_keys=False) + "\n")


def read_json(path: Path, kind: str) -> dict[str, Any]:
    """Read a harness JSON file, refusing unknown formats and kinds with a clear error."""
    doc = read_document(path)
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or doc.get("kind") != kind:
        raise ArtifactError(f"{path} is not a {kind} file of format {FORMAT} "
                            f"(found {_found(doc, kind)})")
    return doc


def read_document(path: Path) -> Any:
    """The JSON in ``path``; a missing, unreadable or non-JSON file is an :class:`ArtifactError` naming it."""
    try:
        doc = json.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise ArtifactError(f"{path} does not exist") from None
    except OSError as exc:
        raise ArtifactError(f"{path} is not a readable harness file: {_reason(exc, path)}") from None
    except (UnicodeDecodeError, RecursionError):
        raise ArtifactError(f"{path} is not a harness file: it is not JSON text") from None
    except ValueError as exc:
        raise ArtifactError(f"{path} is not a readable harness file: {exc}") from None
    return doc


def _found(doc: Any, kind: str) -> str:
    if not isinstance(doc, dict):
        return f"a JSON {type(doc).__name__}"
    other = doc.get("kind")
    return f"format {str(doc.get('format'))[:20]}" + (f", kind {str(other)[:40]!r}" if other != kind else "")


def read_scorecard(path: Path) -> Scorecard:
    """A run's ``scorecard.json``; a damaged or foreign file is an :class:`ArtifactError` naming it."""
    doc = read_json(path, "scorecard")
    with reading(path):
        return scorecard_from_dict(doc)


@contextmanager
def reading(path: Path) -> Iterator[None]:
    """Around the decoding of a harness file: a wrong shape (a missing key, a value of the wrong type) becomes
    one :class:`ArtifactError` naming the file, never a traceback."""
    try:
        yield
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        detail = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        raise ArtifactError(f"{path} is malformed ({detail}); was it written by another tool or "
                            "damaged?") from None


def _walk_files(root: Path, excluded: set[Path]) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        d = Path(dirpath)
        dirnames[:] = [n for n in dirnames if n not in SKIP_DIRS and not n.endswith(".egg-info")
                       and (d / n).resolve() not in excluded]
        for name in filenames:
            if name.endswith((".pyc", ".pyo")) or name.startswith(".coverage"):
                continue
            yield d / name


def sync_copy(src: Path, dest: Path, excluded: set[Path]) -> int:
    """Make ``dest`` mirror ``src`` (minus VCS, caches, venvs and ``excluded``); copy only changed files.

    Returns the number of files copied. Files that vanished from ``src`` are removed from ``dest``. ``dest``
    must lie outside ``src`` or inside one of the ``excluded`` folders: a copy of the tree inside itself would
    move the user's files one level down on every run.
    """
    check_copy_target(src, dest, excluded)
    dest.mkdir(parents=True, exist_ok=True)
    wanted: set[Path] = set()
    copied = 0
    for f in _walk_files(src, excluded):
        rel = f.relative_to(src)
        target = dest / rel
        wanted.add(rel)
        try:
            s = f.stat()
        except OSError:
            continue
        try:
            t = target.stat()
            if t.st_size == s.st_size and t.st_mtime_ns == s.st_mtime_ns:
                continue
        except OSError:
            pass
        target.parent.mkdir(parents=True, exist_ok=True)
        if f.is_symlink():
            continue
        shutil.copy2(f, target)
        copied += 1
    for f in list(_walk_files(dest, set())):
        rel = f.relative_to(dest)
        if rel not in wanted:
            f.unlink()
    return copied


def check_copy_target(src: Path, dest: Path, excluded: set[Path]) -> None:
    """Refuse a sync of ``src`` into itself, into one of its ancestors, or into a folder it would copy."""
    src, dest = src.resolve(), dest.resolve()
    inside = dest.is_relative_to(src) and not any(dest.is_relative_to(e.resolve()) for e in excluded)
    if src.is_relative_to(dest) or inside:
        raise UsageError(f"refusing to copy {src} into {dest}: the work copy must be in the cache folder, "
                         "apart from the project's own files")


def hash_files(folder: Path, keep: Callable[[str], bool] = lambda rel: True) -> dict[str, str]:
    """sha256 of every file of the folder that ``keep`` keeps (its relative path; outside ``mutants/``, tool
    folders and hidden folders), by relative path."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames
                             if d not in SKIP_DIRS and not d.startswith(".") and not d.endswith(".egg-info"))
        for name in filenames:
            rel = (Path(dirpath) / name).relative_to(folder).as_posix()
            if keep(rel):
                try:
                    out[rel] = hashlib.sha256((Path(dirpath) / name).read_bytes()).hexdigest()
                except OSError:
                    continue
    return out
