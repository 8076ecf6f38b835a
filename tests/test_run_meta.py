"""Scorecard.meta as a dataclass: the same JSON keys in the same order, baseline only when used, older files read."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from reportdata import scorecard

from harness.model import RunMeta
from harness.serialize import ShapeError, scorecard_from_dict, scorecard_to_dict

KEYS = ["time", "harness_version", "python", "config_source", "profile", "workers", "phase_seconds", "commit",
        "dirty", "config_fingerprint"]


def _doc(meta: RunMeta) -> dict[str, object]:
    return json.loads(json.dumps(scorecard_to_dict(replace(scorecard(), meta=meta))))


def test_meta_is_written_under_its_keys_and_read_back() -> None:
    meta = RunMeta(time="2026-11-30T12:00:00+00:00", harness_version="0.1.0", python="3.11.7", workers=2,
                   phase_seconds={"coverage": 1.5, "total": 2.0}, commit="abc", dirty=True, config_fingerprint="f")
    doc = _doc(meta)
    assert list(doc["meta"]) == KEYS  # type: ignore[call-overload]
    assert scorecard_from_dict(doc).meta == meta
    with_base = _doc(replace(meta, baseline="reports/baseline.json"))
    assert list(with_base["meta"]) == [*KEYS, "baseline"]  # type: ignore[call-overload]
    assert scorecard_from_dict(with_base).meta.baseline == "reports/baseline.json"


def test_an_older_partial_meta_reads_with_defaults_and_a_wrong_type_is_refused() -> None:
    doc = _doc(RunMeta())
    doc["meta"] = {"time": "t", "commit": None, "an_old_key": 1}
    meta = scorecard_from_dict(doc).meta
    assert (meta.time, meta.commit, meta.harness_version, meta.phase_seconds, meta.baseline) == ("t", None, "", {},
                                                                                                   None)
    doc["meta"] = {"workers": "two"}
    with pytest.raises(ShapeError, match=r"meta\.workers"):
        scorecard_from_dict(doc)
