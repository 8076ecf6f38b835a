"""Fuzzing the config: files, ``--set`` values and ``HARNESS_*`` variables of every shape. Whatever comes in,
the harness either accepts it (and every number it kept is finite) or refuses it with a one-line
:class:`ConfigError` that names the key (or the file); never another exception."""

from __future__ import annotations

import dataclasses
import json
import math
import re
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import SIMPLE_PROJECT, write_tree
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.config import CONFIG_FILE, Config, check_globs, describe_keys, load_config, parse_set
from harness.errors import ConfigError
from harness.serialize import to_data
from harness.workspace import Workspace

DECLARED = [k for k, _default, _help in describe_keys()]

NAMES = st.sampled_from(["a", "x", "simple", "simple.*", "simple.calc", "*", "core", "pr", "nightly", ""])
KEYS = st.one_of(
    st.sampled_from(DECLARED),
    st.builds(lambda g, t: f'overrides.{g}.{t}', NAMES, st.sampled_from([*DECLARED[:5], "branch_coverag"])),
    st.builds(lambda n, k: f"tiers.{n}.{k}", NAMES, st.sampled_from(["modules", "weight", "line_coverage", "x"])),
    st.builds(lambda n, k: f"profiles.{n}.{k}", NAMES, st.sampled_from(DECLARED)),
    st.builds(lambda t, n: f"{t}.{n}", st.sampled_from(["overrides", "tiers", "profiles"]), NAMES),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz_.", max_size=12),
)
SCALARS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.integers().map(lambda n: n * 10**300),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.sampled_from(["", ".", "..", "/", "simple", "tests", "reports", ".harness-cache", "1/2", "3/2", "0/0",
                     " 2 / 4 ", "session", "pr", "nightly", "simple.*", "nan", "inf"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=10),
)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                         st.dictionaries(NAMES, inner, max_size=3)),
                      max_leaves=6)


def declared_keys(cls: type = Config, prefix: str = "") -> Iterator[tuple[str, Any, dict[str, Any]]]:
    """(dotted key, type, metadata) of every declared scalar or list key."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        if dataclasses.is_dataclass(tp):
            yield from declared_keys(tp, f"{prefix}{f.name}.")  # type: ignore[arg-type]
        elif f.name not in ("overrides", "tiers", "profiles"):
            yield prefix + f.name, tp, dict(f.metadata)


def plausible(tp: Any, meta: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Mostly values a key accepts, and its edges: the bounds, just past them, nan, inf, huge numbers."""
    lo, hi = meta.get("lo"), meta.get("hi")
    if tp is bool:
        return st.booleans()
    if tp in (int, float):
        low = -(10**6) if lo is None else lo
        high = 10**6 if hi is None else hi
        edges = [low, high, low - 1, high + 1, 10**30, -(10**30)]
        inside = st.integers(math.ceil(low), math.floor(high))
        if tp is float:
            inside = st.one_of(inside, st.floats(low, high))
            edges += [math.nan, math.inf, -math.inf, 1e308 * 10]
        return st.one_of(inside, inside, st.sampled_from(edges))
    if tp is str:
        choices = meta.get("choices") or ()
        return st.one_of(st.sampled_from([*choices, "", "1/2", "2/2", "4/3"]), NAMES, SCALARS)
    return st.lists(st.one_of(NAMES, SCALARS), max_size=3)


TYPED = [(k, plausible(tp, meta)) for k, tp, meta in declared_keys()]
ASSIGNMENT = st.one_of(*[st.tuples(st.just(k), v) for k, v in TYPED])


def toml_value(v: Any) -> str:
    """A TOML literal for ``v`` (strings escaped as TOML basic strings)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v).replace("\x7f", "\\u007f")
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(x)}" for k, x in v.items()) + "}"


def toml_document(assignments: list[tuple[str, Any]]) -> tuple[str, set[str]]:
    """One line per assignment (dotted keys quoted part by part), skipping any that TOML would refuse as a
    redefinition; and the top-level keys written."""
    lines, seen, tops = [], set(), set()
    for dotted, value in assignments:
        parts = dotted.split(".")
        prefixes = {".".join(parts[:i]) for i in range(1, len(parts))}
        if dotted in seen or prefixes & seen or any(s.startswith(dotted + ".") for s in seen):
            continue
        seen.add(dotted)
        tops.add(parts[0])
        lines.append(".".join(json.dumps(p) for p in parts) + " = " + toml_value(value))
    return "\n".join(lines) + "\n", tops


def numbers(data: Any) -> Iterator[float]:
    if isinstance(data, dict):
        for v in data.values():
            yield from numbers(v)
    elif isinstance(data, list):
        for v in data:
            yield from numbers(v)
    elif isinstance(data, float):
        yield data


def judge(root: Path, tops: set[str], **load: Any) -> str:
    """Load (and check the folders and globs of) a config; 'ok' or the refusal, which must name a key."""
    try:
        cfg, _ = load_config(root, **load)
        Workspace.for_target(root, cfg)
        check_globs(cfg, ["simple", "simple.calc"])
    except ConfigError as exc:
        message = str(exc)
        assert "\n" not in message, message
        named = re.findall(r"config keys? '([^']*)'(?: and '([^']*)')?|unknown profile '[^']*' \(config key "
                           r"'([^']*)'\)", message)  # "config keys 'cache_dir' and 'reports_dir' must ..."
        keys = {k for ks in named for k in ks if k}
        assert keys or str(CONFIG_FILE) in message or "--set" in message or "environment variable HARNESS_" \
            in message, f"names no key: {message}"
        if tops & {"profile", "profiles"}:  # a profile may set any key
            tops = tops | {k.split(".")[0] for k in DECLARED}
        assert not keys or any(k.split(".")[0].split("[")[0] in tops | {"profile"} for k in keys), message
        return "refused"
    assert all(math.isfinite(x) for x in numbers(to_data(cfg))), cfg
    return "ok"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tree(tmp_path_factory.mktemp("fuzz"), SIMPLE_PROJECT)


ANY_ASSIGNMENT = st.tuples(KEYS, VALUES)
# A profile selected and defined (as anything at all): the two must meet for the profile's table to be read.
PROFILE = st.tuples(NAMES, st.one_of(VALUES, st.dictionaries(st.sampled_from(DECLARED), VALUES, max_size=3)))


def with_profile(doc: list[tuple[str, Any]], profile: tuple[str, Any] | None) -> list[tuple[str, Any]]:
    if profile is None:
        return doc
    return [*doc, ("profile", profile[0]), (f"profiles.{profile[0]}", profile[1])]


FILES = st.one_of(
    st.builds(with_profile,
              st.lists(st.one_of(ASSIGNMENT, ASSIGNMENT, ASSIGNMENT, ANY_ASSIGNMENT), min_size=1, max_size=8),
              st.one_of(st.none(), PROFILE)),
    st.binary(max_size=40),
)
SETTINGS = st.lists(st.one_of(ASSIGNMENT.map(lambda kv: (kv[0], toml_value(kv[1]))),
                              st.tuples(KEYS, st.one_of(VALUES.map(toml_value), st.text(max_size=12)))),
                    min_size=1, max_size=5)
OUTCOMES: dict[str, dict[str, int]] = {}


def fuzz_file(project: Path, doc: list[tuple[str, Any]] | bytes, tally: dict[str, int]) -> None:
    path = project / CONFIG_FILE
    path.parent.mkdir(exist_ok=True)
    if isinstance(doc, bytes):
        path.write_bytes(doc)
        tops: set[str] = set()
    else:
        text, tops = toml_document(doc)
        path.write_text(text, encoding="utf-8")
    outcome = judge(project, tops, environ={})
    tally[outcome] = tally.get(outcome, 0) + 1


def fuzz_settings(project: Path, items: list[tuple[str, str]], tally: dict[str, int]) -> None:
    (project / CONFIG_FILE).unlink(missing_ok=True)
    tops = {k.split(".")[0] for k, _ in items}
    env = {"HARNESS_" + k.upper().replace(".", "__"): v for k, v in items[::2]}
    try:
        cli = parse_set([f"{k}={v}" for k, v in items[1::2]])
    except ConfigError as exc:
        assert "--set" in str(exc)
        outcome = "refused"
    else:
        outcome = judge(project, tops, environ=env, cli=cli)
    tally[outcome] = tally.get(outcome, 0) + 1




def fuzz(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.mark.slow
@fuzz(600)
@given(doc=FILES)
def test_fuzz_config_files(project: Path, doc: list[tuple[str, Any]] | bytes) -> None:
    fuzz_file(project, doc, OUTCOMES.setdefault("files", {}))


@pytest.mark.slow
@fuzz(600)
@given(items=SETTINGS)
def test_fuzz_set_and_environment(project: Path, items: list[tuple[str, str]]) -> None:
    fuzz_settings(project, items, OUTCOMES.setdefault("settings", {}))


@fuzz(40)
@given(doc=FILES, items=SETTINGS)
def test_fuzz_quick(project: Path, doc: list[tuple[str, Any]] | bytes, items: list[tuple[str, str]]) -> None:
    fuzz_file(project, doc, OUTCOMES.setdefault("quick", {}))
    fuzz_settings(project, items, OUTCOMES.setdefault("quick", {}))


def test_fuzz_report(capsys: pytest.CaptureFixture[str]) -> None:
    """Not a check: prints how many fuzzed configs were accepted and refused (run with -s to see it)."""
    with capsys.disabled():
        for name, tally in OUTCOMES.items():
            print(f"\nconfig fuzz {name}: {sum(tally.values())} examples, {tally}")
