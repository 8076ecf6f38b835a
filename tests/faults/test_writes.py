"""Files the harness writes get the mode a plain ``open`` would give them (the umask's, or the replaced file's),
not mkstemp's 0600; every numeric config key has both bounds."""

from __future__ import annotations

import dataclasses
import os
import stat
import typing
from collections.abc import Iterator
from pathlib import Path

import pytest
import reportdata

from harness.config import Config
from harness.reporters import write_all
from harness.workspace import atomic_file, atomic_write_text


@pytest.fixture
def umask() -> Iterator[typing.Callable[[int], None]]:
    old = os.umask(0o022)
    try:
        yield os.umask
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664), (0o077, 0o600)])
def test_new_reports_honour_the_umask(tmp_path: Path, umask: typing.Callable[[int], None], mask: int,
                                      mode: int) -> None:
    umask(mask)
    written = write_all(reportdata.scorecard(str(tmp_path)), tmp_path / "reports")
    assert written and {oct(_mode(p)) for p in written} == {oct(mode)}


def test_a_replaced_file_keeps_its_mode(tmp_path: Path, umask: typing.Callable[[int], None]) -> None:
    path = tmp_path / "scorecard.md"
    path.write_text("old")
    path.chmod(0o664)
    umask(0o077)
    atomic_write_text(path, "new")
    assert path.read_text() == "new" and _mode(path) == 0o664
    with atomic_file(tmp_path / "bundle.tar.gz") as tmp:
        tmp.write_bytes(b"x")
    assert _mode(tmp_path / "bundle.tar.gz") == 0o600


def test_every_numeric_key_has_both_bounds() -> None:
    def walk(cls: type, prefix: str = "") -> Iterator[tuple[str, typing.Any, typing.Mapping[str, typing.Any]]]:
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            if dataclasses.is_dataclass(hints[f.name]):
                yield from walk(hints[f.name], f"{prefix}{f.name}.")
            else:
                yield prefix + f.name, hints[f.name], f.metadata

    from harness.config import Tier

    numeric = [(k, m) for k, tp, m in [*walk(Config), *walk(Tier, "tiers.*.")] if tp in (int, float)]
    assert len(numeric) > 20
    assert [k for k, m in numeric if m.get("lo") is None or m.get("hi") is None] == []
