"""The ``fault`` fixture: run ``harness`` in-process on a throwaway project and check how it fails."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest

from harness.cli import main

HARNESS_DIRS = (".harness-cache",)


def snapshot(root: Path, skip: Sequence[str] = HARNESS_DIRS) -> dict[str, tuple[str, int]]:
    """Every file and folder under ``root`` (but the ``skip`` folders): its sha256 (files) and mode."""
    out: dict[str, tuple[str, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        base = Path(dirpath)
        dirnames[:] = [d for d in dirnames if (base / d).relative_to(root).as_posix() not in skip]
        for name in [*dirnames, *filenames]:
            path = base / name
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
            out[path.relative_to(root).as_posix()] = (digest, path.stat().st_mode)
    return out


def assert_one_line(code: int, out: str, err: str, want: int, names: Sequence[str]) -> str:
    """The failure contract: exit ``want``, exactly one line on stderr naming every one of ``names``, nothing
    on stdout, no traceback. Returns the line."""
    lines = err.strip().splitlines()
    assert code == want, f"exit {code}, not {want}: {err}"
    assert len(lines) == 1, f"not one line: {err!r}"
    assert "Traceback" not in out + err and not out.strip(), (out, err)
    for name in names:
        assert name in lines[0], f"{name!r} not named in: {lines[0]}"
    return lines[0]


def skip_new_folder(root: Path, skip: Sequence[str]) -> set[str]:
    """``reports`` when it is an empty folder and the harness's folders are skipped (the default)."""
    reports = root / "reports"
    empty = reports.is_dir() and not any(reports.iterdir())
    return {"reports"} if empty and skip else set()


class Fault:
    """A throwaway project (``root``) and the ``harness`` command run on it in this process."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
        self.root = root
        self._monkeypatch = monkeypatch
        self._capsys = capsys
        for name in list(os.environ):
            if name.startswith("HARNESS"):
                monkeypatch.delenv(name)
        monkeypatch.setenv("HARNESS_MUTATION__ENABLED", "false")

    def write(self, files: Mapping[str, str | bytes]) -> None:
        for rel, data in files.items():
            path = self.root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(data, bytes):
                path.write_bytes(data)
            else:
                path.write_text(data, encoding="utf-8")

    def run(self, *args: str | Path, env: Mapping[str, str] | None = None) -> tuple[int, str, str]:
        for name, value in (env or {}).items():
            self._monkeypatch.setenv(name, value)
        self._capsys.readouterr()
        code = main([str(a) for a in args])
        out, err = self._capsys.readouterr()
        return code, out, err

    def fails(self, *args: str | Path, code: int, names: Sequence[str], env: Mapping[str, str] | None = None,
              skip: Sequence[str] = HARNESS_DIRS) -> str:
        """Run, check the failure contract, and that the tree (but the ``skip`` folders) is unchanged."""
        before = snapshot(self.root, skip)
        line = assert_one_line(*self.run(*args, env=env), code, names)
        after = snapshot(self.root, skip)
        if "reports" not in before and "reports" in skip_new_folder(self.root, skip):
            after.pop("reports")  # the harness's own reports folder, made (empty) before the run failed
        assert after == before, "the user's tree changed"
        return line


@pytest.fixture
def fault(target_project: Callable[..., Path], monkeypatch: pytest.MonkeyPatch,
          capsys: pytest.CaptureFixture[str]) -> Fault:
    """A fresh copy of SIMPLE_PROJECT (see ``target_project``) to fail on; mutation off unless asked for."""
    return Fault(target_project(), monkeypatch, capsys)
