"""The HTML dashboard as a reader sees it: the last runs table (newest first) and a mutant's diff, coloured by
line kind."""

from __future__ import annotations

import re
from dataclasses import replace

import reportdata

from harness.reporters import html


def test_last_runs_table_newest_first_with_commit_dirty_mark_figures_and_verdict() -> None:
    entries = reportdata.trend_entries()
    entries.append(replace(entries[1], time="2026-11-30T08:00:00+00:00", commit=None))
    page = html.render_index(reportdata.long_names_scorecard(), entries)
    table = re.search(r'<table id="runs">.*?<tbody>\n(.*?)</tbody>', page, re.S)
    assert table is not None
    rows = [re.findall(r"<td[^>]*>(?:<code>)?(.*?)(?:</code>)?</td>", row) for row in table.group(1).splitlines()]
    assert rows == [
        ["2026-11-30T08:00:00+00:00", html.DASH, "83.3 %", "83.3 %", "71.4 %", "33.3 %", "123.46 s", "ok"],
        ["2026-11-30T06:21:48+00:00", "01234567", "83.3 %", "83.3 %", "n/a", "100.0 %", "1.50 s",
         "5 missed, 1 regressed"],
        ["2026-11-29T17:40:59+00:00", "89abcdef", "83.3 %", "83.3 %", "71.4 %", "33.3 %", "123.46 s", "ok"],
        ["2026-11-28T09:15:02+00:00", "01234567+dirty", "83.3 %", "83.3 %", "71.4 %", "33.3 %", "1.50 s",
         "5 missed, 1 regressed"],
    ]


def test_a_surviving_mutants_diff_is_shown_line_by_line_with_its_kind() -> None:
    sc = reportdata.scorecard()
    page = html.render_module(sc.modules[1], sc, reportdata.CALC)
    assert ('<pre class="diff"><span class="hunk">@@ -1,3 +1,3 @@</span><span class="ctx"> def classify(...):</span>'
            '<span class="del">-    elif n == 0:</span><span class="add">+    elif n == 1:</span></pre>') in page
