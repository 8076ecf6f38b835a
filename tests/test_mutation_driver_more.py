"""The driver's memory cap: none for 0, the hard limit respected (in a forked child, whose limits are its own),
a cap the system refuses reported instead of raised."""

from __future__ import annotations

import os
import resource

import pytest

from harness.collectors.mutation import driver_state as mutation_driver


def test_no_cap_for_zero_megabytes() -> None:
    assert mutation_driver.limit_memory(0) is None
    assert mutation_driver.limit_memory(-5) is None


def test_a_hard_limit_caps_the_cap() -> None:
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit code
        code = 1
        try:
            hard = 64 * 2**30
            resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
            ok = mutation_driver.limit_memory(2**20) is None  # 1 TiB asked: the hard limit kept
            code = 0 if ok and resource.getrlimit(resource.RLIMIT_AS) == (hard, hard) else 3
        except BaseException:
            code = 4
        finally:
            os._exit(code)
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0


def test_a_refused_cap_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*a: object) -> None:
        raise ValueError("not allowed")

    monkeypatch.setattr(mutation_driver.resource, "setrlimit", refuse)
    assert mutation_driver.limit_memory(5) == "memory limit of 5 MiB not applied: not allowed"


def test_drop_test_modules_forgets_the_tests_and_conftests_only(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    import sys
    import types

    base = tmp_path / "mutants"
    files = {"t_a": "tests/test_a.py", "t_pkg": "tests/__init__.py", "t_sub": "tests/sub/test_b.py",
             "root_conftest": "conftest.py", "app_conftest": "app/conftest.py", "app_mod": "app/mod.py",
             "app_tests": "app/tests/test_c.py", "outside": "../elsewhere/test_d.py"}
    for name, rel in files.items():
        module = types.ModuleType(f"_drop_probe_{name}")
        module.__file__ = str(base / rel)
        monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setitem(sys.modules, "_drop_probe_builtin", types.ModuleType("_drop_probe_builtin"))  # no file

    def probes(dropped: dict[str, object]) -> set[str]:
        return {n.removeprefix("_drop_probe_") for n in dropped if n.startswith("_drop_probe_")}

    dropped = mutation_driver.drop_test_modules(["tests", "app/tests"], base)
    assert probes(dropped) == {"t_a", "t_pkg", "t_sub", "root_conftest", "app_conftest", "app_tests"}
    assert "_drop_probe_app_mod" in sys.modules and "_drop_probe_t_a" not in sys.modules
    sys.modules.update(dropped)
    assert probes(mutation_driver.drop_test_modules([".", ""], base)) == {"root_conftest", "app_conftest"}
