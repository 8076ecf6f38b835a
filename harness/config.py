"""The harness's configuration: every key declared once (:mod:`harness.config_schema`: name, type, default, help,
range), loaded and validated here.

Precedence, lowest first: declared defaults < ``config/quality.toml`` in the target (or ``[tool.harness]`` in
its ``pyproject.toml``) < ``HARNESS_*`` environment variables < ``--set key=value`` on the command line.
Unknown keys, wrong types and out-of-range values raise :class:`ConfigError` naming the key.
The resulting :class:`Config` is immutable and passed explicitly; there is no global config.
"""

from __future__ import annotations

import math
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import fields, is_dataclass, replace
from pathlib import Path
from typing import Any, TypeVar, get_args, get_origin

from harness.config_schema import (
    MAX_SECONDS,
    MAX_SEED,
    Config,
    CoverageSettings,
    FlakinessSettings,
    GateSettings,
    HistorySettings,
    MutationSettings,
    RatchetSettings,
    RuntimeSettings,
    SampleSettings,
    Targets,
    Tier,
    check_globs,
    describe_keys,
    key,
)
from harness.errors import ConfigError

ENV_PREFIX = "HARNESS_"
CONFIG_FILE = Path("config") / "quality.toml"
PYPROJECT_TABLE = "[tool.harness]"

__all__ = [
    "CONFIG_FILE",
    "ENV_PREFIX",
    "MAX_SECONDS",
    "MAX_SEED",
    "PYPROJECT_TABLE",
    "Config",
    "CoverageSettings",
    "FlakinessSettings",
    "GateSettings",
    "HistorySettings",
    "MutationSettings",
    "RatchetSettings",
    "RuntimeSettings",
    "SampleSettings",
    "Targets",
    "Tier",
    "apply_profile",
    "check_globs",
    "describe_keys",
    "env_assignments",
    "key",
    "load_config",
    "parse_set",
    "read_file_config",
]


# --------------------------------------------------------------------------------------------------- loading

T = TypeVar("T")


def _type_name(tp: Any) -> str:
    origin = get_origin(tp)
    if origin is tuple:
        return f"list of {_type_name(get_args(tp)[0])}"
    return {int: "integer", float: "number", bool: "boolean", str: "string"}.get(tp, str(tp))


def _show(value: Any) -> str:
    """A value as an error message quotes it: its repr, cut short (a 5000-digit integer has no repr)."""
    try:
        text = repr(value)
    except ValueError:
        return "an integer too large to print"
    return text if len(text) <= 60 else text[:57] + "..."


def _bound(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


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
            raise ConfigError(f"config key '{name}' must be a {_type_name(tp)}, got {_show(value)}")
        return tuple(_coerce(f"{name}[{i}]", item, v, {}) for i, v in enumerate(value))
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"config key '{name}' must be a boolean (true/false), got {_show(value)}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"config key '{name}' must be an integer, got {_show(value)}")
    elif tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"config key '{name}' must be a number, got {_show(value)}")
        try:
            value = float(value)
        except OverflowError:
            value = math.inf
    elif tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"config key '{name}' must be a string, got {_show(value)}")
        choices = meta.get("choices")
        if choices and value not in choices:
            raise ConfigError(f"config key '{name}' must be one of {', '.join(choices)}, got {_show(value)}")
        check = meta.get("check")
        problem = check(value) if check else None
        if problem:
            raise ConfigError(f"config key '{name}' {problem}, got {_show(value)}")
        return value
    lo, hi = meta.get("lo"), meta.get("hi")
    finite = not isinstance(value, float) or math.isfinite(value)
    if not finite or (lo is not None and value < lo) or (hi is not None and value > hi):
        bounds = f"{_bound(lo)}-{_bound(hi)}" if lo is not None and hi is not None else "a finite number"
        raise ConfigError(f"config key '{name}' must be in {bounds}, got {_show(value)}")
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
        elif name == "tiers":
            values[name] = _build_tiers(value, full)
        elif name == "profiles":
            values[name] = _build_profiles(value, full)
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


def _build_tiers(data: Any, name: str) -> tuple[tuple[str, Tier], ...]:
    if not isinstance(data, Mapping):
        raise ConfigError(f"config key '{name}' must be a table of tiers")
    target_keys = {f.name for f in fields(Targets)}
    out = []
    for tier_name, table in data.items():
        full = f"{name}.{tier_name}"
        if not isinstance(table, Mapping):
            raise ConfigError(f"config key '{full}' must be a table")
        own = {k: v for k, v in table.items() if k not in target_keys}
        if "targets" in own:
            raise ConfigError(f"unknown config key '{full}.targets' (write target keys in the tier's table)")
        tier = _build(Tier, own, full + ".")
        if not tier.modules:
            raise ConfigError(f"config key '{full}.modules' must list at least one module glob")
        targets = {k: v for k, v in table.items() if k in target_keys}
        built = _build(Targets, targets, full + ".")
        out.append((tier_name, replace(tier, targets=types.MappingProxyType(
            {k: getattr(built, k) for k in targets}))))
    return tuple(out)


def _build_profiles(data: Any, name: str) -> tuple[tuple[str, Mapping[str, Any]], ...]:
    """Profiles are partial configs: each is validated as one (unknown keys named) and kept as written."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"config key '{name}' must be a table of profiles")
    out = []
    for profile, table in data.items():
        full = f"{name}.{profile}"
        if not isinstance(table, Mapping):
            raise ConfigError(f"config key '{full}' must be a table")
        if "profiles" in table or "profile" in table:
            raise ConfigError(f"config key '{full}' cannot set 'profile' or 'profiles'")
        table = _undot(table)
        _build(Config, table, full + ".")
        out.append((profile, types.MappingProxyType(table)))
    return tuple(out)


def _undot(table: Mapping[str, Any]) -> dict[str, Any]:
    """A table whose keys may be quoted dotted keys (``"runtime.runs" = 2``) as nested tables."""
    out: dict[str, Any] = {}
    for k, v in table.items():
        out = _merge(out, _dotted({k: v}))
    return out


def apply_profile(data: Mapping[str, Any], later: Mapping[str, Any]) -> dict[str, Any]:
    """Merge the selected profile's settings over the file's ``data``.

    The profile is named by ``profile`` in ``later`` (environment and command line, which win) or in ``data``.
    A built-in profile (``harness.profiles``) is extended by a ``[profiles.NAME]`` table of the same name.
    """
    from harness.profiles import BUILTIN

    name = later.get("profile", data.get("profile", ""))
    if not name:
        return dict(data)
    if not isinstance(name, str):
        raise ConfigError(f"config key 'profile' must be a string, got {name!r}")
    own = data.get("profiles", {})
    if not isinstance(own, Mapping):
        raise ConfigError("config key 'profiles' must be a table of profiles")
    if name not in BUILTIN and name not in own:
        known = sorted({*BUILTIN, *own})
        raise ConfigError(f"unknown profile '{name}' (config key 'profile'); known: {', '.join(known)}")
    if not isinstance(own.get(name, {}), Mapping):
        raise ConfigError(f"config key 'profiles.{name}' must be a table")
    settings = _merge(_dotted(BUILTIN.get(name, {})), _undot(own.get(name, {})))
    return _merge(dict(data), settings)


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
        doc = tomllib.loads(f"v = {text}")
    except (tomllib.TOMLDecodeError, ValueError):  # ValueError: an integer of more than 4300 digits
        return text
    return doc["v"] if len(doc) == 1 else text  # "1\nx = 2" is a string, not 1 and a stray key


def _dotted(assignments: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for dotted, value in assignments.items():
        node = out
        *parents, last = dotted.split(".")
        for i, p in enumerate(parents):
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                raise ConfigError(f"config key '{'.'.join(parents[:i + 1])}' is set both to a value and to "
                                  f"a table (by '{dotted}')")
        if isinstance(node.get(last), dict):
            raise ConfigError(f"config key '{dotted}' is set both to a value and to a table")
        node[last] = value
    return out


def _names_a_key(dotted: str) -> bool:
    """Is ``dotted`` a key name at every level (``a.b``; not ``""``, ``a.`` or ``a..b``)?"""
    return all(part.strip() for part in dotted.split("."))


def env_assignments(environ: Mapping[str, str]) -> dict[str, Any]:
    """``HARNESS_TARGETS__BRANCH_COVERAGE=80`` -> ``{"targets.branch_coverage": 80}``."""
    out = {}
    for name, text in environ.items():
        if name.startswith(ENV_PREFIX) and not name.startswith("HARNESS__"):  # HARNESS__* are internal
            dotted = name[len(ENV_PREFIX):].lower().replace("__", ".")
            if not _names_a_key(dotted):
                raise ConfigError(f"environment variable {name}: no config key after {ENV_PREFIX} "
                                  "(e.g. HARNESS_TARGETS__BRANCH_COVERAGE=80)")
            out[dotted] = _parse_value(text)
    return out


def parse_set(items: list[str]) -> dict[str, Any]:
    out = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"--set expects key=value, got {item!r}")
        k, text = item.split("=", 1)
        if not _names_a_key(k):
            raise ConfigError(f"--set expects a dotted config key before '=', got {item!r}")
        out[k.strip()] = _parse_value(text.strip())
    return out


def read_file_config(root: Path, config_file: Path | None = None) -> tuple[dict[str, Any], str | None]:
    """The target's harness config table and where it came from (``None`` when there is none).

    ``--config FILE`` is read alone. Otherwise ``config/quality.toml`` or ``[tool.harness]`` in
    ``pyproject.toml``; both at once is an error (one would be silently ignored).
    """
    if config_file is not None:
        if not config_file.exists():
            raise ConfigError(f"config file {config_file} does not exist")
        if not config_file.is_file():
            raise ConfigError(f"config file {config_file} is not a file")
        return _load_toml(config_file), str(config_file)
    path = root / CONFIG_FILE
    if path.exists() and not path.is_file():
        raise ConfigError(f"config file {path} is not a file")
    pyproject = root / "pyproject.toml"
    table = _pyproject_table(pyproject) if pyproject.is_file() else None
    if path.exists():
        if table:
            raise ConfigError(f"both {path} and {PYPROJECT_TABLE} in {pyproject} configure the harness: keep "
                              "one (or name one with --config)")
        return _load_toml(path), str(path)
    if table:
        return table, f"{pyproject} {PYPROJECT_TABLE}"
    return {}, None


def _pyproject_table(pyproject: Path) -> dict[str, Any] | None:
    """``[tool.harness]`` of a pyproject.toml; None when it has none (or an empty one)."""
    tool = _parse_toml(pyproject).get("tool", {})  # other tools' tables are theirs: only ours is checked
    table = tool.get("harness") if isinstance(tool, dict) else None
    if table is not None and not isinstance(table, dict):
        raise ConfigError(f"{PYPROJECT_TABLE} in {pyproject} must be a table")
    if table and (where := _empty_key(table)) is not None:
        raise ConfigError(f"{PYPROJECT_TABLE} in {pyproject}: a key with an empty name (\"\") in {where}")
    return dict(table) if table else None


def _empty_key(table: Mapping[str, Any], prefix: str = "") -> str | None:
    """Where a key with an empty name sits in ``table`` ("" names nothing: no message could name it)."""
    for name, value in table.items():
        if not name.strip():
            return prefix.rstrip(".") or "the top level"
        if isinstance(value, Mapping) and (inner := _empty_key(value, f"{prefix}{name}.")) is not None:
            return inner
    return None


def _load_toml(path: Path) -> dict[str, Any]:
    data = _parse_toml(path)
    where = _empty_key(data)
    if where is not None:
        raise ConfigError(f"{path}: a key with an empty name (\"\") in {where}")
    return data


def _parse_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path} is not UTF-8 text (byte {exc.start}): TOML files are UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    except ValueError as exc:  # an integer of more than 4300 digits
        raise ConfigError(f"{path} is not usable TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None


def load_config(root: Path, *, config_file: Path | None = None, environ: Mapping[str, str] | None = None,
                cli: Mapping[str, Any] | None = None) -> tuple[Config, str | None]:
    """Defaults < file < environment < command line. Returns the config and the file it was read from."""
    data, source = read_file_config(root, config_file)
    env = _dotted(env_assignments(os.environ if environ is None else environ))
    data = apply_profile(data, _merge(env, _dotted(dict(cli or {}))))
    data = _merge(data, env)
    data = _merge(data, _dotted(dict(cli or {})))
    return _build(Config, data), source
