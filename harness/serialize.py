"""Scorecard <-> plain JSON data (pure). Derived percentages are written for readers but ignored on load.

The document is versioned by :data:`harness.workspace.FORMAT`; ``scorecard_from_dict`` rebuilds the exact
dataclasses, so a written scorecard read back compares equal to the one in memory (tested).
"""

from __future__ import annotations

import collections.abc
import dataclasses
import math
import sys
import types
import typing
from enum import Enum
from typing import Any

from harness import model
from harness.model import Scorecard
from harness.notes import read_note

# Properties written next to the stored counts so that a reader of the JSON never recomputes a figure.
DERIVED: dict[type, tuple[str, ...]] = {
    model.CoverageNumbers: ("line_percent", "branch_percent", "missing", "missing_branches"),
    model.ModuleCoverage: ("missing_arcs_text",),
    model.MutationCounts: ("total", "detected", "valid", "score", "covered_score"),
    model.ModuleMutation: ("reachable_percent", "score_interval"),
    model.SuiteRuntime: ("median", "minimum", "maximum", "cpu_median"),
    model.ModuleFlakiness: ("rate",),
    model.FlakyTest: ("failure_rate",),
    model.Verdict: ("comparison",),
    model.ModuleScorecard: ("passed",),
    model.ProjectTotals: ("flaky_rate", "flaky_detectable"),
    model.Scorecard: ("passed",),
    model.Note: ("text",),  # the note worded, for readers of the JSON
}


def to_data(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out = {f.name: to_data(getattr(obj, f.name)) for f in dataclasses.fields(obj)
               if not (f.metadata.get("omit_if_none") and getattr(obj, f.name) is None)}
        for name in DERIVED.get(type(obj), ()):
            out[name] = to_data(getattr(obj, name))
        return out
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, (tuple, list)):
        return [to_data(x) for x in obj]
    if isinstance(obj, typing.Mapping):
        return {str(k): to_data(v) for k, v in obj.items()}
    return obj


class ShapeError(ValueError):
    """A document's value does not have the type the model declares; the message names where it is."""


def _kind(data: Any) -> str:
    return "null" if data is None else type(data).__name__


def from_data(tp: Any, data: Any, where: str = "") -> Any:
    """Rebuild a value of (annotated) type ``tp`` from :func:`to_data` output; unknown keys are ignored.

    Strict about everything else: a missing field, a value of the wrong type or a number that is not finite
    raises :class:`ShapeError` naming its place (``modules[2].coverage.numbers.statements``), so that a damaged
    or foreign file is refused on reading instead of failing somewhere later.
    """
    here = where or "the document"
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(tp) if a is not type(None)]
        if data is None and len(members) < len(typing.get_args(tp)):
            return None
        return from_data(members[0], data, where)
    if tp is Any:
        return data
    if tp is model.Note:
        try:
            return read_note(data)
        except ValueError as exc:
            raise ShapeError(f"{here}: {exc}") from None
    if dataclasses.is_dataclass(tp):
        if not isinstance(data, dict):
            raise ShapeError(f"{here}: expected an object, got {_kind(data)}")
        hints = typing.get_type_hints(tp, {**vars(model), **vars(sys.modules[tp.__module__])})
        kwargs = {f.name: from_data(hints[f.name], data[f.name], f"{where}.{f.name}".lstrip("."))
                  for f in dataclasses.fields(tp) if f.init and f.name in data}
        missing = [f.name for f in dataclasses.fields(tp) if f.init and f.name not in data
                   and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
        if missing:
            raise ShapeError(f"{here}: missing {', '.join(missing)}")
        return tp(**kwargs)  # type: ignore[operator]
    if origin is tuple:
        if not isinstance(data, list):
            raise ShapeError(f"{here}: expected a list, got {_kind(data)}")
        items = typing.get_args(tp)
        if len(items) == 2 and items[1] is Ellipsis:
            return tuple(from_data(items[0], x, f"{where}[{i}]") for i, x in enumerate(data))
        if len(items) != len(data):
            raise ShapeError(f"{here}: expected {len(items)} items, got {len(data)}")
        return tuple(from_data(a, x, f"{where}[{i}]") for i, (a, x) in enumerate(zip(items, data, strict=True)))
    if origin in (dict, typing.Mapping, collections.abc.Mapping) or tp is dict:
        if not isinstance(data, dict):
            raise ShapeError(f"{here}: expected an object, got {_kind(data)}")
        args = typing.get_args(tp)
        value_type = args[1] if len(args) == 2 else Any
        return {k: from_data(value_type, v, f"{where}[{k!r}]") for k, v in data.items()}
    if isinstance(tp, type) and issubclass(tp, Enum):
        try:
            return tp(data)
        except ValueError:
            raise ShapeError(f"{here}: {str(data)[:40]!r} is not a {tp.__name__}") from None
    return _scalar(tp, data, here)


def _scalar(tp: Any, data: Any, here: str) -> Any:
    if tp is float:
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            raise ShapeError(f"{here}: expected a number, got {_kind(data)}")
        try:
            value = float(data)
        except OverflowError:
            value = math.inf
        if not math.isfinite(value):
            raise ShapeError(f"{here}: expected a finite number, got {str(data)[:20]}")
        return value
    if tp is int and (isinstance(data, bool) or not isinstance(data, int)):
        raise ShapeError(f"{here}: expected an integer, got {_kind(data)}")
    if tp is bool and not isinstance(data, bool):
        raise ShapeError(f"{here}: expected true or false, got {_kind(data)}")
    if tp is str and not isinstance(data, str):
        raise ShapeError(f"{here}: expected a string, got {_kind(data)}")
    return data


def scorecard_to_dict(card: Scorecard) -> dict[str, Any]:
    data: dict[str, Any] = to_data(card)
    return data


def scorecard_from_dict(data: dict[str, Any]) -> Scorecard:
    card: Scorecard = from_data(Scorecard, data)
    return card
