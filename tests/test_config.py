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


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[mutation]\nrunner = "fork"\n', "config key 'mutation.runner' must be one of session, pytest, got 'fork'"),
        ("[coverage]\nenabled = 1\n", "config key 'coverage.enabled' must be a boolean (true/false), got 1"),
        ('pytest_args = [1]\n', "config key 'pytest_args[0]' must be a string, got 1"),
        ('tests = ["ok", 2]\n', "config key 'tests[1]' must be a string, got 2"),
        ("timeout = 1e400\n", "config key 'timeout' must be in 1-1000000, got inf"),
        ("timeout = 0.5\n", "config key 'timeout' must be in 1-1000000, got 0.5"),
        ("workers = -1\n", "config key 'workers' must be in 0-"),
        ("tiers = 3\n", "config key 'tiers' must be a table of tiers"),
        ("[tiers]\ncore = 3\n", "config key 'tiers.core' must be a table"),
        ("[tiers.core]\nweight = 2\n", "config key 'tiers.core.modules' must list at least one module glob"),
        ('[tiers.core]\nmodules = ["a"]\ntargets = {}\n',
         "unknown config key 'tiers.core.targets' (write target keys in the tier's table)"),
        ('[tiers.core]\nmodules = ["a"]\nbranch_coverage = 101\n',
         "config key 'tiers.core.branch_coverage' must be in 0-100, got 101"),
        ('profile = "quick"\nprofiles = 3\n', "config key 'profiles' must be a table of profiles"),
        ('profile = "quick"\n[profiles]\nquick = 3\n', "config key 'profiles.quick' must be a table"),
        ('profile = "quick"\n', "unknown profile 'quick' (config key 'profile'); known: "),
    ],
)
def test_bad_values_are_refused_with_the_key_the_rule_and_the_value(tmp_path: Path, toml: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, toml)
    assert str(info.value).startswith(message), str(info.value)


def test_a_value_is_quoted_short_in_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path, environ={}, cli={"mutation.runner": "x" * 100})
    assert str(info.value).endswith(f", got '{'x' * 56}...")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path, environ={}, cli={"workers": 10**5000})
    assert str(info.value).endswith("got an integer too large to print")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path, environ={}, cli={"timeout": 10**400})
    assert str(info.value).endswith("must be in 1-1000000, got inf")


@pytest.mark.parametrize(
    ("assignments", "message"),
    [
        ({"targets": 1, "targets.branch_coverage": 2},
         "config key 'targets' is set both to a value and to a table (by 'targets.branch_coverage')"),
        ({"a.b": 1, "a.b.c": 2}, "config key 'a.b' is set both to a value and to a table (by 'a.b.c')"),
        ({"targets.branch_coverage": 2, "targets": 1}, "config key 'targets' is set both to a value and to a table"),
    ],
)
def test_a_key_set_both_as_value_and_table_is_refused(tmp_path: Path, assignments: dict[str, object],
                                                      message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path, environ={}, cli=assignments)
    assert str(info.value) == message


def test_set_values_are_toml_literals_else_strings() -> None:
    assert parse_set([" targets.branch_coverage = 80 ", "tests=[\"a\", \"b\"]", "since=main", "x=1\ny = 2",
                      f"seed={'9' * 5000}", "on=true"]) == {
        "targets.branch_coverage": 80, "tests": ["a", "b"], "since": "main", "x": "1\ny = 2", "seed": "9" * 5000,
        "on": True}
    for bad in ("=1", "a..b=1", " .x=1"):
        with pytest.raises(ConfigError, match="--set expects a dotted config key before '=', got "):
            parse_set([bad])


def test_environment_names_map_to_dotted_keys() -> None:
    assert env_assignments({"HARNESS_TARGETS__BRANCH_COVERAGE": "80", "HARNESS_SINCE": "main", "OTHER": "1",
                            "HARNESS__INTERNAL": "1"}) == {"targets.branch_coverage": 80, "since": "main"}


def test_config_files_the_harness_reads(tmp_path: Path) -> None:
    from harness.config import read_file_config

    assert read_file_config(tmp_path) == ({}, None)
    write_tree(tmp_path, {"pyproject.toml": "[project]\nname = 'x'\n[tool.harness]\n"})
    assert read_file_config(tmp_path) == ({}, None)  # an empty table configures nothing
    (tmp_path / "pyproject.toml").write_text("[tool.harness]\nworkers = 2\n")
    assert read_file_config(tmp_path) == ({"workers": 2}, f"{tmp_path / 'pyproject.toml'} [tool.harness]")
    write_tree(tmp_path, {"config/quality.toml": "workers = 3\n"})
    with pytest.raises(ConfigError) as info:
        read_file_config(tmp_path)
    assert str(info.value) == (f"both {tmp_path / 'config/quality.toml'} and [tool.harness] in "
                               f"{tmp_path / 'pyproject.toml'} configure the harness: keep one (or name one with "
                               "--config)")
    assert read_file_config(tmp_path, tmp_path / "config/quality.toml") == (
        {"workers": 3}, str(tmp_path / "config/quality.toml"))
    (tmp_path / "pyproject.toml").write_text("[tool]\nharness = 3\n")
    with pytest.raises(ConfigError, match=r"^\[tool\.harness\] in .*pyproject\.toml must be a table$"):
        read_file_config(tmp_path)
    (tmp_path / "pyproject.toml").unlink()
    assert read_file_config(tmp_path) == ({"workers": 3}, str(tmp_path / "config/quality.toml"))
    with pytest.raises(ConfigError, match=r"^config file .*config is not a file$"):
        read_file_config(tmp_path, tmp_path / "config")
    (tmp_path / "config/quality.toml").unlink()
    (tmp_path / "config/quality.toml").mkdir()
    with pytest.raises(ConfigError, match=r"^config file .*quality\.toml is not a file$"):
        read_file_config(tmp_path)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"workers = 1\n# caf\xe9\n", r"is not UTF-8 text \(byte 17\): TOML files are UTF-8$"),
        (b"workers = " + b"9" * 5000 + b"\n", r"is not usable TOML: "),
        (b"workers = \n", r"is not valid TOML: "),
    ],
)
def test_unreadable_toml_names_the_file_and_the_cause(tmp_path: Path, data: bytes, message: str) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config/quality.toml").write_bytes(data)
    with pytest.raises(ConfigError, match=r"^" + str(tmp_path / "config/quality.toml") + " " + message):
        load_config(tmp_path, environ={})


def test_an_environment_variable_naming_no_key_is_refused_by_its_name() -> None:
    """``HARNESS_=1`` or ``HARNESS_TARGETS__=1`` (found by the fuzzer: "unknown config key ''" named nothing)."""
    for name in ("HARNESS_", "HARNESS_TARGETS__"):
        with pytest.raises(ConfigError, match=rf"^environment variable {name}: no config key after HARNESS_ "):
            env_assignments({name: "1"})
    assert env_assignments({"HARNESS_WORKERS": "2", "HARNESS__INTERNAL": "x"}) == {"workers": 2}


def test_a_config_key_with_an_empty_name_is_refused_naming_the_file_and_table(tmp_path: Path) -> None:
    """``"" = []`` (found by the fuzzer: "unknown config key ''" named neither a key nor the file)."""
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.other]\n"" = 1\n')
    assert load_config(tmp_path)[1] is None  # another tool's table is not ours to check
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "quality.toml").write_text('[mutation]\n"" = 1\n')
    with pytest.raises(ConfigError, match=r"quality\.toml: a key with an empty name \(\"\"\) in mutation$"):
        load_config(tmp_path)
    (tmp_path / "config" / "quality.toml").write_text('"" = 1\n')
    with pytest.raises(ConfigError, match=r"in the top level$"):
        load_config(tmp_path)
