"""Acceptance: on real targets, the harness's per-module mutant counts equal mutmut's own ``mutmut results``
for the same sandbox run (toolz 1.2.0 itertoolz + dicttoolz, itsdangerous 2.2.0 whole)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from conftest import run_harness
from realtargets import harness_config, prepare

from harness.collectors.mutmut_adapter import STATUS_BY_EXIT_CODE

pytestmark = [pytest.mark.slow, pytest.mark.acceptance]

# mutmut's status names -> the harness's; a name two codes share with different meanings must not occur.
NAME_TO_STATUS: dict[str, str] = {}
for _name, _status in STATUS_BY_EXIT_CODE.values():
    NAME_TO_STATUS[_name] = (
        _status.value if NAME_TO_STATUS.get(_name, _status.value) == _status.value else "ambiguous"
    )


def mutmut_results(sandbox: Path) -> dict[str, Counter[str]]:
    """``mutmut results --all True`` in the sandbox -> harness status counts per module."""
    mutmut = Path(sys.executable).parent / "mutmut"
    proc = subprocess.run(
        [str(mutmut), "results", "--all", "True"], cwd=sandbox, capture_output=True, text=True, check=True
    )
    out: dict[str, Counter[str]] = {}
    for line in proc.stdout.splitlines():
        name, sep, status = line.strip().partition(": ")
        if sep:
            out.setdefault(name.rpartition(".")[0], Counter())[NAME_TO_STATUS.get(status, "suspicious")] += 1
    return out


@pytest.mark.parametrize(
    ("target", "modules"),
    [
        ("toolz", ["toolz.itertoolz", "toolz.dicttoolz"]),
        ("itsdangerous", []),
    ],
)
def test_counts_equal_mutmut_results(tmp_path: Path, target: str, modules: list[str]) -> None:
    root = prepare(target, tmp_path)
    selection = ["--set", "mutation.modules=" + json.dumps(modules)] if modules else []
    result = run_harness(
        "run",
        root,
        *harness_config(target),
        "--set",
        "mutation.enabled=true",
        "--set",
        "flakiness.enabled=false",
        "--set",
        "runtime.enabled=false",
        *selection,
        "--quiet",
        cwd=root,
        timeout=1800,
    )
    assert result.returncode in (0, 1), result.output
    ours = json.loads((root / "reports" / "mutation.json").read_text(encoding="utf-8"))["modules"]
    theirs = mutmut_results(root / ".harness-cache" / "mutation")
    assert "ambiguous" not in {s for c in theirs.values() for s in c}
    compared = {m: v for m, v in ours.items() if v["counts"]["total"]}
    assert compared and (not modules or set(compared) == set(modules))
    matched = 0
    for module, data in compared.items():
        counts = Counter(
            {
                k: v
                for k, v in data["counts"].items()
                if k in {s.value for _n, s in STATUS_BY_EXIT_CODE.values()} and v
            }
        )
        assert counts == theirs.get(module, Counter()), module
        matched += 1
    print(
        f"{target}: {matched}/{len(compared)} modules match mutmut results; "
        + "; ".join(f"{m} {dict(v['counts'])}" for m, v in compared.items())
    )


def test_toolz_is_scored_whole_without_excluding_a_module(tmp_path: Path) -> None:
    """toolz keeps its tests inside the package and some list module contents, which mutmut's injected names used
    to upset (the phase stopped, asking to exclude four modules). Now: no ``mutation.exclude``, every module that
    has mutants gets a score, a test that still cannot judge mutants would be quarantined with its cause, and no
    module is left unmeasured."""
    root = prepare("toolz", tmp_path)
    started = time.monotonic()
    result = run_harness(
        "run",
        root,
        "--set",
        "mutation.enabled=true",
        "--set",
        "flakiness.enabled=false",
        "--set",
        "runtime.enabled=false",
        "--quiet",
        cwd=root,
        timeout=1800,
    )
    seconds = time.monotonic() - started
    assert result.returncode == 1, result.output  # measured: some modules miss the 70 % target
    doc = json.loads((root / "reports" / "mutation.json").read_text(encoding="utf-8"))
    scored = {m: v["counts"] for m, v in doc["modules"].items() if v["counts"]["total"]}
    assert {"toolz.itertoolz", "toolz.functoolz", "toolz.dicttoolz", "toolz._signatures"} <= set(scored)
    assert all(c["score"] is not None for c in scored.values())
    assert doc["unmeasured"] == [] and "exclude" not in result.output
    assert {q["cause"] for q in doc["quarantined"]} <= {"introspection", "state-leak", "pickling", "recursion"}
    print(
        f"toolz: {len(scored)} modules scored in {seconds:.0f} s; quarantined "
        f"{[(q['nodeid'], q['cause']) for q in doc['quarantined']]}; "
        + "; ".join(f"{m} {c['score']:.1f} % ({c['killed'] + c['timeout']}/{c['valid']})" for m, c in scored.items())
    )
