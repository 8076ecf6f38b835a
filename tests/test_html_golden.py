"""The HTML dashboard's pages against golden files (tests/golden/html_index.html, html_module.html;
UPDATE_GOLDEN=1 rewrites them), their inline CSS and JS left out: every figure, class, sort key, title, sparkline
point and source-line mark the view data gives the templates."""

from __future__ import annotations

import re

import reportdata
from test_reports import check_golden, scrub

from harness.reporters import html


def _body(page: str) -> str:
    return re.sub(r"<(style|script)>.*?</\1>", r"<\1>…</\1>", page, flags=re.S)


def test_index_golden() -> None:
    page = html.render_index(reportdata.long_names_scorecard(), reportdata.trend_entries())
    check_golden("html_index.html", scrub(_body(page), "/project/demo"))


def test_module_page_golden() -> None:
    sc = reportdata.long_names_scorecard()
    card = sc.modules[1]  # demo.calc's figures: missed lines and arcs, mutants of every status, a flaky test
    page = html.render_module(card, sc, reportdata.CALC, reportdata.trend_entries())
    check_golden("html_module.html", scrub(_body(page), "/project/demo"))
