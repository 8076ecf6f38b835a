"""Config: declared keys, precedence, and errors that name the key."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

import pytest
from conftest import write_tree

from harness import config_schema
from harness.config import Config, describe_keys, env_assignments, load_config, parse_set
from harness.errors import ConfigError


def _load(tmp_path: Path, toml: str, **kw):  # type: ignore[no-untyped-def]
    write_tree(tmp_path, {"config/quality.toml": toml})
    return load_config(tmp_path, environ=kw.pop("environ", {}), **kw)[0]


def test_defaults_match_the_documented_targets() -> None:
    t = Config().targets
    assert (t.branch_coverage, t.line_coverage, t.mutation_score, t.suite_runtime, t.flaky_rate) == (
        75.0, 85.0, 70.0, 10.0, 1.0)
    cfg = Config()
    assert cfg.coverage.enabled and cfg.runtime.enabled and cfg.mutation.enabled and cfg.flakiness.enabled


def test_file_then_env_then_cli(tmp_path: Path) -> None:
    cfg = _load(tmp_path, "workers = 3\n[targets]\nbranch_coverage = 80\nline_coverage = 90\n",
                environ={"HARNESS_TARGETS__BRANCH_COVERAGE": "85", "HARNESS_WORKERS": "4"},
                cli=parse_set(["targets.branch_coverage=95"]))
    assert cfg.targets.branch_coverage == 95.0  # CLI beats env beats file
    assert cfg.workers == 4  # env beats file
    assert cfg.targets.line_coverage == 90.0  # file beats default


def test_pyproject_tool_harness_is_read(tmp_path: Path) -> None:
    write_tree(tmp_path, {"pyproject.toml": "[tool.harness]\nomit = ['pkg._version']\n"})
    cfg, source = load_config(tmp_path, environ={})
    assert cfg.omit == ("pkg._version",)
    assert source is not None and "[tool.harness]" in source


def test_overrides_apply_by_glob_in_order(tmp_path: Path) -> None:
    cfg = _load(tmp_path, '[overrides."pkg.*"]\nbranch_coverage = 90\n'
                          '[overrides."pkg.critical"]\nbranch_coverage = 100\nmutation_score = 100\n')
    assert cfg.targets_for("pkg.critical").branch_coverage == 100.0
    assert cfg.targets_for("pkg.critical").mutation_score == 100.0
    assert cfg.targets_for("pkg.other").branch_coverage == 90.0
    assert cfg.targets_for("pkg.other").mutation_score == 70.0
    assert cfg.targets_for("elsewhere").branch_coverage == 75.0


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("colour = 1\n", "unknown config key 'colour'"),
        ("[targets]\nbranch_coverag = 1\n", "unknown config key 'targets.branch_coverag' (did you mean"),
        ("[targets]\nbranch_coverage = 'high'\n", "config key 'targets.branch_coverage' must be a number"),
        ("[targets]\nbranch_coverage = 101\n", "config key 'targets.branch_coverage' must be in 0-100"),
        ("[targets]\nmutation_score = -1\n", "config key 'targets.mutation_score' must be in 0-100"),
        ("workers = 1.5\n", "config key 'workers' must be an integer"),
        ("workers = true\n", "config key 'workers' must be an integer"),
        ("tests = 3\n", "config key 'tests' must be a list of string"),
        ("targets = 3\n", "config key 'targets' must be a table"),
        ('[overrides."a.*"]\nbranch_coverage = 120\n', "config key 'overrides.a.*.branch_coverage' must be in"),
        ('[overrides."a.*"]\nspeed = 1\n', "unknown config key 'overrides.a.*.speed'"),
        ("[targets\n", "is not valid TOML"),
        ("overrides = 3\n", "config key 'overrides' must be a table of module globs"),
        ("profiles = 3\n", "config key 'profiles' must be a table of profiles"),
        ("[profiles]\nquick = 3\n", "config key 'profiles.quick' must be a table"),
        ("[profiles.quick]\nprofiles = {}\n", "config key 'profiles.quick' cannot set 'profile' or 'profiles'"),
    ],
)
def test_bad_config_names_the_key(tmp_path: Path, toml: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, toml)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_env_value_is_validated_like_file_values(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"'targets\.flaky_rate' must be in 0-100"):
        load_config(tmp_path, environ={"HARNESS_TARGETS__FLAKY_RATE": "250"})


def test_internal_env_vars_are_not_config() -> None:
    assert env_assignments({"HARNESS__COVERAGE": "/x", "HARNESS_WORKERS": "2", "OTHER": "1"}) == {"workers": 2}


def test_set_requires_key_value() -> None:
    with pytest.raises(ConfigError, match="--set expects key=value"):
        parse_set(["targets.branch_coverage"])


def test_missing_explicit_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path, config_file=tmp_path / "nope.toml", environ={})


def test_every_key_has_help() -> None:
    rows = describe_keys()
    assert {"targets.branch_coverage", "workers", "source", "tests", "overrides"} <= {k for k, _, _ in rows}
    assert all(h for _, _, h in rows)


def test_a_declared_key_carries_its_default_help_and_range() -> None:
    def check(v: str) -> str | None:
        return None

    declared = config_schema.key(5, "How many.", lo=1, hi=9, choices=("a",), check=check)
    assert declared.default == 5
    assert dict(declared.metadata) == {"help": "How many.", "lo": 1, "hi": 9, "choices": ("a",), "check": check}
    with pytest.raises(TypeError, match=r"^use tuples for sequence defaults$"):
        config_schema.key([1], "A list.")


@dataclass
class _Undocumented:
    plain: int = 3
    table: dict[str, int] = field(default_factory=dict)


def test_describe_keys_of_keys_without_help_or_default() -> None:
    assert [f.name for f in fields(_Undocumented)] == ["plain", "table"]
    assert describe_keys(_Undocumented, "x.") == [("x.plain", "3", ""), ("x.table", "'{}'", "")]


@pytest.mark.parametrize(("workers", "cpus", "effective"), [(2, 8, 2), (0, 8, 8), (0, None, 1)])
def test_effective_workers(monkeypatch: pytest.MonkeyPatch, workers: int, cpus: int | None, effective: int) -> None:
    monkeypatch.setattr(config_schema.os, "cpu_count", lambda: cpus)
    assert Config(workers=workers).effective_workers() == effective


@pytest.mark.parametrize("shard", ["5/4", "0/2", "x"])
def test_a_bad_shard_is_refused_with_the_form_it_needs(tmp_path: Path, shard: str) -> None:
    with pytest.raises(ConfigError, match=r"^config key 'mutation.shard' must be K/N with 1 <= K <= N \(e.g. 1/4\), "
                                          f"got '{shard}'$"):
        load_config(tmp_path, environ={}, cli={"mutation.shard": shard})


def test_an_unknown_key_without_a_close_match_is_named_alone(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, "zzzzzz = 1\n")
    assert str(info.value) == "unknown config key 'zzzzzz'"


def test_profiles_are_kept_as_written_with_dotted_keys_nested(tmp_path: Path) -> None:
    cfg = _load(tmp_path, '[profiles.quick]\n"runtime.runs" = 2\nworkers = 1\n')
    assert [(name, dict(table)) for name, table in cfg.profiles] == [
        ("quick", {"runtime": {"runs": 2}, "workers": 1})]
