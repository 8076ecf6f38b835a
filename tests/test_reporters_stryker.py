"""Stryker's report as its viewer reads it: each mutant's fields, where the file's source is missing, and the
run's facts; a module without mutation results has no file entry."""

from __future__ import annotations

from dataclasses import replace

import reportdata

from harness.model import RunMeta
from harness.reporters import stryker


def test_stryker_report_fields() -> None:
    sc = reportdata.scorecard()
    empty, calc, util = sc.modules
    assert calc.mutation is not None
    killed, _, _, no_tests = calc.mutation.mutants[:4]
    calc = replace(calc, mutation=replace(calc.mutation, mutants=(replace(killed, duration=0.0123456), no_tests)))
    report = stryker.report(replace(sc, modules=(replace(empty, mutation=None), calc, util)),
                            {"demo.calc": reportdata.CALC})
    assert {k: v for k, v in report.items() if k != "files"} == {
        "schemaVersion": "2", "thresholds": {"high": 70, "low": 70}, "projectRoot": "/project/demo",
        "framework": {"name": "quality-harness (mutmut)", "version": "0.1.0"}, "config": {"project": "demo"}}
    assert list(report["files"]) == ["demo/calc.py", "demo/util.py"]
    calc_file = report["files"]["demo/calc.py"]
    assert calc_file["language"] == "python" and calc_file["source"] == reportdata.CALC
    diff = "--- demo/calc.py\n+++ demo/calc.py\n@@ -1,3 +1,3 @@\n def {}(...):\n-{}\n+{}"
    assert calc_file["mutants"] == [
        {"id": "demo.calc.x_classify__mutmut_1", "mutatorName": "mutmut",
         "location": {"start": {"line": 2, "column": 11}, "end": {"line": 2, "column": 11}}, "status": "Killed",
         "replacement": "=", "description": "classify: " + diff.format("classify", "    if n < 0:", "    if n <= 0:"),
         "duration": 12.346},
        {"id": "demo.calc.x_scale__mutmut_4", "mutatorName": "mutmut",
         "location": {"start": {"line": 15, "column": 27}, "end": {"line": 15, "column": 34}},
         "status": "NoCoverage", "replacement": "XXtoo bigXX",
         "description": "scale: " + diff.format("scale", '        raise ValueError("too big")',
                                                '        raise ValueError("XXtoo bigXX")'),
         "statusReason": "no test executes the mutated code", "duration": 250.0},
    ]
    util_file = report["files"]["demo/util.py"]
    assert util_file["source"] == ""  # no source handed in
    assert util_file["mutants"][1] == {  # no diff, no duration
        "id": "demo.util.x_ident__mutmut_2", "mutatorName": "mutmut",
        "location": {"start": {"line": 1, "column": 1}, "end": {"line": 1, "column": 1}}, "status": "Killed",
        "replacement": "", "description": "ident"}
    no_meta = stryker.report(replace(reportdata.scorecard(), meta=RunMeta()), {})
    assert no_meta["framework"] == {"name": "quality-harness (mutmut)", "version": ""}
