"""The harness's configuration: every key declared once (name, type, default, help), validated on load.

Precedence, lowest first: declared defaults < ``config/quality.toml`` in the target (or ``[tool.harness]`` in
its ``pyproject.toml``) < ``HARNESS_*`` environment variables < ``--set key=value`` on the command line.
Unknown keys, wrong types and out-of-range values raise :class:`ConfigError` naming the key.
The resulting :class:`Config` is immutable and passed explicitly; there is no global config.
"""

from __future__ import annotations

import fnmatch
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any, TypeVar, get_args, get_origin

from harness.errors import ConfigError
from harness.model import Metric

ENV_PREFIX = "HARNESS_"
CONFIG_FILE = Path("config") / "quality.toml"


def key(default: Any, help: str, *, lo: float | None = None, hi: float | None = None,
        choices: tuple[str, ...] | None = None) -> Any:
    """Declare a config key: its default, its help text (the user documentation) and its allowed range."""
    meta = {"help": help, "lo": lo, "hi": hi, "choices": choices}
    if isinstance(default, (list, dict)):
        raise TypeError("use tuples for sequence defaults")
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class Targets:
    """Targets a module must meet. Coverage and score are minimums (>=); runtime and flaky rate maxima (<)."""

    line_coverage: float = key(85.0, "Minimum line coverage, percent of statements executed.", lo=0, hi=100)
    branch_coverage: float = key(75.0, "Minimum branch coverage, percent of possible arcs taken.", lo=0, hi=100)
    mutation_score: float = key(70.0, "Minimum mutation score, detected / valid mutants, percent.", lo=0, hi=100)
    suite_runtime: float = key(10.0, "Maximum suite wall time in seconds (median of the runs); "
                                     "a project-level target.", lo=0)
    flaky_rate: float = key(1.0, "Maximum flaky rate, percent of tests that both passed and failed.",
                            lo=0, hi=100)

    def value(self, metric: Metric) -> float:
        return float(getattr(self, metric.value))


TARGET_KIND: dict[Metric, str] = {
    Metric.LINE_COVERAGE: "min",
    Metric.BRANCH_COVERAGE: "min",
    Metric.MUTATION_SCORE: "min",
    Metric.SUITE_RUNTIME: "max",
    Metric.FLAKY_RATE: "max",
}


@dataclass(frozen=True)
class CoverageSettings:
    enabled: bool = key(True, "Measure line and branch coverage (coverage.py, branch mode, per-test contexts).")
    parallel: bool = key(True, "Run the coverage pass under pytest-xdist with `workers` workers.")


@dataclass(frozen=True)
class RuntimeSettings:
    enabled: bool = key(True, "Measure suite wall time and per-test durations in uninstrumented xdist runs.")
    runs: int = key(3, "How many uninstrumented runs time the suite (the flakiness phase adds its own and "
                       "shares them).", lo=1, hi=1000)
    slowest: int = key(5, "How many slowest tests each module scorecard lists.", lo=0, hi=1000)


@dataclass(frozen=True)
class Config:
    """The whole configuration. Nested sections are dataclasses; ``overrides`` maps module globs to targets."""

    source: tuple[str, ...] = key((), "Source packages or directories to measure, relative to the target root. "
                                      "Empty: discovered (src/ layout, flat packages).")
    tests: tuple[str, ...] = key((), "Test paths handed to pytest. Empty: tests/ or test/, else tests inside the "
                                     "package.")
    omit: tuple[str, ...] = key((), "Module-name globs to leave out of the scorecard (e.g. 'pkg._version').")
    pytest_args: tuple[str, ...] = key((), "Extra pytest arguments for every phase (after the harness's own, "
                                           "e.g. '-o', 'addopts=--import-mode=importlib').")
    workers: int = key(0, "pytest-xdist workers; 0 means one per CPU core.", lo=0, hi=512)
    timeout: float = key(1800.0, "Seconds one pytest run may take before the harness stops it.", lo=1)
    reports_dir: str = key("reports", "Where reports are written, relative to the target root.")
    cache_dir: str = key(".harness-cache", "Where the harness keeps its work copy and caches, relative to the "
                                           "target root.")
    targets: Targets = field(default_factory=Targets, metadata={"help": "Default targets for every module."})
    overrides: tuple[tuple[str, Mapping[str, float]], ...] = field(
        default=(), metadata={"help": "Per-module targets: a table per module-name glob, e.g. "
                                      "[overrides.\"pkg.core.*\"] branch_coverage = 100. Later globs win."})
    coverage: CoverageSettings = field(default_factory=CoverageSettings, metadata={"help": "Coverage phase."})
    runtime: RuntimeSettings = field(default_factory=RuntimeSettings, metadata={"help": "Runtime phase."})

    def targets_for(self, module: str) -> Targets:
        """The targets of one module: the defaults with every matching override applied in order."""
        result = self.targets
        for pattern, values in self.overrides:
            if fnmatch.fnmatchcase(module, pattern):
                result = replace(result, **values)
        return result

    def effective_workers(self) -> int:
        return self.workers or (os.cpu_count() or 1)


# --------------------------------------------------------------------------------------------------- loading

T = TypeVar("T")


def _type_name(tp: Any) -> str:
    origin = get_origin(tp)
    if origin is tuple:
        return f"list of {_type_name(get_args(tp)[0])}"
    return {int: "integer", float: "number", bool: "boolean", str: "string"}.get(tp, str(tp))


def _coerce(name: str, tp: Any, value: Any, meta: Mapping[str, Any]) -> Any:
    """Check ``value`` against the declared type and range of key ``name``; return it in the field's type."""
    origin = get_origin(tp)
    if origin in (types.UnionType, typing.Union):
        tp = next(a for a in get_args(tp) if a is not type(None))
        origin = get_origin(tp)
    if origin is tuple:
        item = get_args(tp)[0]
        if isinstance(value, str) and item is str:
            value = [value]
        if not isinstance(value, list):
            raise ConfigError(f"config key '{name}' must be a {_type_name(tp)}, got {value!r}")
        return tuple(_coerce(f"{name}[{i}]", item, v, {}) for i, v in enumerate(value))
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"config key '{name}' must be a boolean (true/false), got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"config key '{name}' must be an integer, got {value!r}")
    elif tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"config key '{name}' must be a number, got {value!r}")
        value = float(value)
    elif tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"config key '{name}' must be a string, got {value!r}")
        choices = meta.get("choices")
        if choices and value not in choices:
            raise ConfigError(f"config key '{name}' must be one of {', '.join(choices)}, got {value!r}")
        return value
    lo, hi = meta.get("lo"), meta.get("hi")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        bounds = f"{lo:g}-{hi:g}" if lo is not None and hi is not None else f">= {lo:g}"
        raise ConfigError(f"config key '{name}' must be in {bounds}, got {value!r}")
    return value


def _build(cls: type[T], data: Mapping[str, Any], prefix: str = "") -> T:
    """Build dataclass ``cls`` from a (TOML) mapping, refusing unknown keys."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"config key '{prefix.rstrip('.')}' must be a table")
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in fields(cls)}  # type: ignore[arg-type]
    values: dict[str, Any] = {}
    for name, value in data.items():
        full = prefix + name
        if name not in known:
            raise ConfigError(f"unknown config key '{full}'" + _suggest(name, known))
        tp = hints[name]
        if name == "overrides":
            values[name] = _build_overrides(value, full)
        elif isinstance(tp, type) and is_dataclass(tp):
            values[name] = _build(tp, value, full + ".")
        else:
            values[name] = _coerce(full, tp, value, known[name].metadata)
    return cls(**values)


def _build_overrides(data: Any, name: str) -> tuple[tuple[str, Mapping[str, float]], ...]:
    if not isinstance(data, Mapping):
        raise ConfigError(f"config key '{name}' must be a table of module globs")
    out = []
    for pattern, targets in data.items():
        built = _build(Targets, targets, f"{name}.{pattern}.")
        out.append((pattern, types.MappingProxyType({k: getattr(built, k) for k in targets})))
    return tuple(out)


def _suggest(name: str, known: Mapping[str, Any]) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in extra.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def _parse_value(text: str) -> Any:
    """A ``--set``/environment value: a TOML literal if it parses as one, else the plain string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _dotted(assignments: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for dotted, value in assignments.items():
        node = out
        *parents, last = dotted.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[last] = value
    return out


def env_assignments(environ: Mapping[str, str]) -> dict[str, Any]:
    """``HARNESS_TARGETS__BRANCH_COVERAGE=80`` -> ``{"targets.branch_coverage": 80}``."""
    out = {}
    for name, text in environ.items():
        if name.startswith(ENV_PREFIX) and not name.startswith("HARNESS__"):  # HARNESS__* are internal
            dotted = name[len(ENV_PREFIX):].lower().replace("__", ".")
            out[dotted] = _parse_value(text)
    return out


def parse_set(items: list[str]) -> dict[str, Any]:
    out = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"--set expects key=value, got {item!r}")
        k, text = item.split("=", 1)
        out[k.strip()] = _parse_value(text.strip())
    return out


def read_file_config(root: Path, config_file: Path | None = None) -> tuple[dict[str, Any], str | None]:
    """The target's harness config table and where it came from (``None`` when there is none)."""
    candidates = [config_file] if config_file else [root / CONFIG_FILE]
    for path in candidates:
        if path is not None and path.is_file():
            return _load_toml(path), str(path)
    if config_file is not None:
        raise ConfigError(f"config file {config_file} does not exist")
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        table = _load_toml(pyproject).get("tool", {}).get("harness")
        if table:
            return dict(table), f"{pyproject} [tool.harness]"
    return {}, None


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None


def load_config(root: Path, *, config_file: Path | None = None, environ: Mapping[str, str] | None = None,
                cli: Mapping[str, Any] | None = None) -> tuple[Config, str | None]:
    """Defaults < file < environment < command line. Returns the config and the file it was read from."""
    data, source = read_file_config(root, config_file)
    data = _merge(data, _dotted(env_assignments(os.environ if environ is None else environ)))
    data = _merge(data, _dotted(dict(cli or {})))
    return _build(Config, data), source


def describe_keys(cls: type = Config, prefix: str = "") -> list[tuple[str, str, str]]:
    """(key, default, help) for every declared key: the source of ``harness config --help`` and the docs."""
    rows = []
    hints = typing.get_type_hints(cls)
    for f in fields(cls):
        tp = hints[f.name]
        if isinstance(tp, type) and is_dataclass(tp):
            rows += describe_keys(tp, f"{prefix}{f.name}.")
            continue
        default = f.default if f.default is not MISSING else "{}"
        rows.append((prefix + f.name, repr(default), f.metadata.get("help", "")))
    return rows
