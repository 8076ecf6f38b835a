"""Config values are validated fully at load: finite numbers in range for every numeric key, one config source,
globs that match, a well-formed shard; each refusal is one line naming the key (or file), exit 2."""

from __future__ import annotations

import time

import pytest

from .conftest import Fault

HUGE = "9" * 400
ENORMOUS = "9" * 5000  # more digits than Python turns into an int by default


@pytest.mark.parametrize(
    ("toml", "names"),
    [
        ("[targets]\nbranch_coverage = nan\n", ["'targets.branch_coverage'", "got nan"]),
        ("[targets]\nsuite_runtime = inf\n", ["'targets.suite_runtime'", "got inf"]),
        ("[targets]\nflaky_rate = -nan\n", ["'targets.flaky_rate'"]),
        (f"[targets]\nline_coverage = {HUGE}\n", ["'targets.line_coverage'"]),
        (f"timeout = {HUGE}\n", ["'timeout'"]),
        (f"workers = {HUGE}\n", ["'workers'", "must be in 0-512"]),
        (f"[flakiness]\nseed = {HUGE}\n", ["'flakiness.seed'"]),
        ("[mutation]\nmemory_limit_mb = 1e3\n", ["'mutation.memory_limit_mb'", "must be an integer"]),
        ("[mutation]\nmemory_limit_mb = 99999999999\n", ["'mutation.memory_limit_mb'", "must be in 0-"]),
        ("[ratchet]\ntolerance = nan\n", ["'ratchet.tolerance'"]),
        ("[ratchet]\nruntime_tolerance = inf\n", ["'ratchet.runtime_tolerance'"]),
        ("[sample]\nmutants = nan\n", ["'sample.mutants'"]),
        ("[mutation]\ntimeout_multiplier = nan\n", ["'mutation.timeout_multiplier'"]),
        ('[overrides."simple.*"]\nbranch_coverage = nan\n', ["overrides.simple.*.branch_coverage"]),
        ('[tiers.core]\nmodules = ["simple.*"]\nweight = nan\n', ["'tiers.core.weight'"]),
        ('[tiers.core]\nmodules = ["simple.*"]\nmutation_score = inf\n', ["'tiers.core.mutation_score'"]),
        ('[profiles.fast]\n"runtime.runs" = 0\n', ["'profiles.fast.runtime.runs'"]),
        (f"[targets]\nline_coverage = {ENORMOUS}\n", ["config/quality.toml", "not usable TOML"]),
        ('[mutation]\nshard = "0/4"\n', ["'mutation.shard'", "K/N"]),
        ('[tool]\nharness = 5\n', ["unknown config key 'tool'"]),
    ],
    ids=["nan-target", "inf-target", "minus-nan", "huge-float-key", "huge-timeout", "huge-int-key", "huge-seed",
         "float-for-int", "memory-range", "nan-tolerance", "inf-runtime-tolerance", "nan-sample",
         "nan-multiplier", "nan-override", "nan-tier-weight", "inf-tier-target", "profile-range",
         "5000-digits", "shard-zero", "tool-table"],
)
def test_bad_value_in_config_file(fault: Fault, toml: str, names: list[str]) -> None:
    fault.write({"config/quality.toml": toml})
    fault.fails("run", fault.root, code=2, names=names, skip=())


@pytest.mark.parametrize(
    ("args", "env", "names"),
    [
        (["--set", "targets.branch_coverage=nan"], {}, ["'targets.branch_coverage'", "nan"]),
        (["--set", f"targets.suite_runtime={HUGE}"], {}, ["'targets.suite_runtime'"]),
        (["--set", f"targets.suite_runtime={ENORMOUS}"], {}, ["'targets.suite_runtime'", "must be a number"]),
        ([], {"HARNESS_TARGETS__LINE_COVERAGE": "inf"}, ["'targets.line_coverage'"]),
        ([], {"HARNESS_TIMEOUT": "nan"}, ["'timeout'"]),
        (["--set", "targets=5", "--set", "targets.line_coverage=1"], {}, ["'targets'", "both"]),
        (["--set", "=5"], {}, ["--set", "'=5'"]),
        (["--set", "targets..line_coverage=5"], {}, ["--set", "targets..line_coverage"]),
        (["--set", "workers=1\nflakiness.runs = 1"], {}, ["'workers'", "must be an integer"]),
        (["--shard", "3/2"], {}, ["'mutation.shard'", "'3/2'"]),
        (["--shard", "two"], {}, ["'mutation.shard'", "'two'"]),
        (["--sample", "nan"], {}, ["'sample.mutants'"]),
        (["--workers", "-1"], {}, ["'workers'"]),
        (["--profile", "nightlyy"], {}, ["unknown profile 'nightlyy'"]),
    ],
    ids=["set-nan", "set-huge", "set-enormous", "env-inf", "env-nan", "set-value-and-table", "set-no-key",
         "set-empty-part", "set-two-lines", "shard-k-above-n", "shard-word", "sample-nan", "workers-negative",
         "profile-typo"],
)
def test_bad_value_on_the_command_line(fault: Fault, args: list[str], env: dict[str, str],
                                       names: list[str]) -> None:
    fault.fails("run", fault.root, *args, env=env, code=2, names=names, skip=())


def test_a_bad_shard_is_refused_at_once(fault: Fault) -> None:
    start = time.monotonic()
    fault.fails("run", fault.root, "--shard", "5/4", "--set", "mutation.enabled=true", code=2,
                names=["'mutation.shard'"], skip=())
    assert time.monotonic() - start < 2


def test_both_config_sources_is_an_error(fault: Fault) -> None:
    pyproject = (fault.root / "pyproject.toml").read_text()
    fault.write({"config/quality.toml": "workers = 1\n",
                 "pyproject.toml": pyproject + "\n[tool.harness]\nworkers = 2\n"})
    fault.fails("run", fault.root, code=2, names=["config/quality.toml", "[tool.harness]", "pyproject.toml"],
                skip=())


def test_an_empty_tool_harness_table_is_no_second_source(fault: Fault) -> None:
    pyproject = (fault.root / "pyproject.toml").read_text()
    fault.write({"config/quality.toml": "[targets]\nline_coverage = 5000\n",
                 "pyproject.toml": pyproject + "\n[tool.harness]\n"})
    fault.fails("run", fault.root, code=2, names=["'targets.line_coverage'"], skip=())


def test_config_paths_that_are_folders(fault: Fault) -> None:
    (fault.root / "config" / "quality.toml").mkdir(parents=True)
    fault.fails("run", fault.root, code=2, names=["quality.toml", "is not a file"], skip=())
    fault.fails("run", fault.root, "--config", fault.root / "config", code=2, names=["config", "is not a file"],
                skip=())
    fault.fails("run", fault.root, "--config", fault.root / "nope.toml", code=2,
                names=["nope.toml", "does not exist"], skip=())


@pytest.mark.parametrize(
    ("toml", "names"),
    [
        ('[overrides."simple.cal"]\nbranch_coverage = 90\n', ["'overrides.\"simple.cal\"'", "'simple.cal'",
                                                               "simple.calc"]),
        ('[tiers.core]\nmodules = ["simple.calc", "simpel.*"]\n', ["'tiers.core.modules'", "'simpel.*'"]),
    ],
    ids=["override", "tier"],
)
def test_globs_that_match_no_module(fault: Fault, toml: str, names: list[str]) -> None:
    fault.write({"config/quality.toml": toml})
    fault.fails("run", fault.root, code=2, names=names, skip=())


def test_files_named_on_the_command_line_must_exist(fault: Fault) -> None:
    fault.fails("run", fault.root, "--baseline", fault.root / "nope.json", code=2,
                names=["--baseline", "nope.json", "does not exist"])
    fault.fails("run", fault.root, "--baseline", fault.root / "simple", code=2,
                names=["--baseline", "simple", "not a file"])
    fault.fails("baseline", "update", fault.root, "--from", fault.root / "nope.json", code=2,
                names=["--from", "nope.json"])
