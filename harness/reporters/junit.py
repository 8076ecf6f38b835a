"""JUnit XML of the gate: one test case per module x metric, so CI test views show a missed target (or a
ratchet regression) like a failed test, with the figure and the target in the failure message.

Passed verdicts are passing cases; a cell that could not be measured is a failure of type ``not-measured``
(it never passes); n/a and disabled metrics are skipped cases carrying the reason.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from harness.model import Regression, Scorecard, Status, Verdict
from harness.reporters.fmt import METRIC_LABEL, figure, regression_text, target, verdict_text
from harness.workspace import FORMAT


def _case(suite: ET.Element, classname: str, v: Verdict, regressed: Regression | None) -> tuple[int, int]:
    """Add one test case; returns (failures, skipped) it counts for."""
    case = ET.SubElement(suite, "testcase", classname=classname, name=METRIC_LABEL[v.metric], time="0")
    if v.status is Status.FAIL:
        fail = ET.SubElement(case, "failure", type="target-missed",
                             message=f"{METRIC_LABEL[v.metric]} {figure(v)} misses its target {target(v)}")
        fail.text = f"{classname}: {verdict_text(v)}"
        if regressed is not None:
            fail.text += f"\n{classname}: {regression_text(regressed)}"
        return 1, 0
    if regressed is not None:
        fail = ET.SubElement(case, "failure", type="regressed", message=regression_text(regressed))
        fail.text = f"{classname}: {regression_text(regressed)}; {verdict_text(v)}"
        return 1, 0
    if v.status is Status.NOT_MEASURED:
        err = ET.SubElement(case, "failure", type="not-measured", message=f"{METRIC_LABEL[v.metric]} not measured")
        err.text = f"{classname}: {verdict_text(v)}"
        return 1, 0
    if v.status in (Status.NA, Status.SKIPPED):
        reason = f"{v.status.value}: {v.reason}" if v.reason else v.status.value
        ET.SubElement(case, "skipped", message=reason)
        return 0, 1
    out = ET.SubElement(case, "system-out")
    out.text = verdict_text(v)
    return 0, 0


def report(sc: Scorecard) -> str:
    """The JUnit XML document (one ``testsuite`` named after the project)."""
    root = ET.Element("testsuites", name=f"quality-harness: {sc.project}")
    suite = ET.SubElement(root, "testsuite", name=f"quality gate: {sc.project}",
                          timestamp=sc.meta.time, hostname="quality-harness")
    props = ET.SubElement(suite, "properties")
    for name, value in (("harness_format", str(FORMAT)),
                        ("harness_version", sc.meta.harness_version),
                        ("commit", sc.meta.commit or ""),
                        ("baseline", sc.meta.baseline or "")):
        ET.SubElement(props, "property", name=name, value=value)
    regressed = {(r.module, r.metric): r for r in sc.regressions}
    tests = failures = skipped = 0
    rows = [(c.module, v) for c in sc.modules for v in c.verdicts]
    rows += [("project", v) for v in sc.totals.verdicts]
    for classname, v in rows:
        f, s = _case(suite, classname, v, regressed.pop((classname, v.metric), None))
        tests, failures, skipped = tests + 1, failures + f, skipped + s
    for r in regressed.values():  # a regression without a verdict of its own (e.g. project suite runtime)
        case = ET.SubElement(suite, "testcase", classname=r.module, name=f"{METRIC_LABEL[r.metric]} ratchet",
                             time="0")
        ET.SubElement(case, "failure", type="regressed", message=regression_text(r)).text = regression_text(r)
        tests, failures = tests + 1, failures + 1
    for el in (root, suite):
        el.set("tests", str(tests))
        el.set("failures", str(failures))
        el.set("errors", "0")
        el.set("skipped", str(skipped))
        el.set("time", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
