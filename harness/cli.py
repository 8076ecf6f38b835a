"""The ``harness`` command. The only module that prints and the only one that picks exit codes.

Exit codes: 0 all targets met, 1 a target missed, 2 usage or config error, 3 a tool could not measure.
Expected failures (:class:`HarnessError`) become one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from harness import __version__
from harness.config import describe_keys, load_config, parse_set
from harness.discover import check_root
from harness.errors import EXIT_OK, EXIT_TARGET_MISSED, EXIT_USAGE, HarnessError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        """argparse errors are usage errors: one line, exit 2."""
        sys.stderr.write(f"harness: error: {message}\n")
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="harness", description="Per-module test quality scorecards gated against targets.")
    p.add_argument("--version", action="version", version=f"quality-harness {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    r = sub.add_parser("run", help="measure the target project and write its scorecards")
    r.add_argument("path", nargs="?", default=".", help="the target project's root (default: .)")
    r.add_argument("--config", type=Path, default=None,
                   help="config file (default: config/quality.toml in the target, else [tool.harness] in its "
                        "pyproject.toml)")
    r.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config key, e.g. --set targets.branch_coverage=90 (repeatable)")
    r.add_argument("--workers", type=int, default=None, help="pytest-xdist workers (default: cores)")
    r.add_argument("--quiet", action="store_true", help="print only the verdict lines")

    c = sub.add_parser("config", help="list every config key with its default and help")
    c.add_argument("--markdown", action="store_true", help="as a Markdown table")
    return p


def _cli_settings(args: argparse.Namespace) -> dict[str, object]:
    settings: dict[str, object] = parse_set(args.set)
    if args.workers is not None:
        settings["workers"] = args.workers
    return settings


def cmd_run(args: argparse.Namespace, out: Console, err: Console) -> int:
    from harness import pipeline
    from harness.reporters import terminal

    root = Path(args.path)
    check_root(root)
    cfg, source = load_config(root, config_file=args.config, cli=_cli_settings(args))
    progress = None if args.quiet else (lambda msg: err.print(f"[dim]› {msg}[/dim]"))
    outcome = pipeline.run(root, cfg, config_source=source, progress=progress)
    sc = outcome.scorecard
    if not args.quiet:
        out.print(terminal.table(sc))
        for note in sc.notes:
            out.print(f"note: {note}")
    for line in terminal.verdict_lines(sc):
        out.print(line, highlight=False)
    out.print(f"reports: {outcome.workspace.reports}", highlight=False)
    if sc.passed:
        out.print("[green]all targets met[/green]")
        return EXIT_OK
    out.print(f"[bold red]{len(sc.violations)} target(s) missed[/bold red]")
    return EXIT_TARGET_MISSED


def cmd_config(args: argparse.Namespace, out: Console, err: Console) -> int:
    rows = describe_keys()
    if args.markdown:
        print("| key | default | meaning |\n|---|---|---|")
        for k, d, h in rows:
            print(f"| `{k}` | `{d}` | {h} |")
    else:
        for k, d, h in rows:
            print(f"{k} = {d}\n    {h}")
    return EXIT_OK


COMMANDS = {"run": cmd_run, "config": cmd_config}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    out = Console(highlight=False)
    err = Console(stderr=True, highlight=False)
    try:
        return COMMANDS[args.command](args, out, err)
    except HarnessError as exc:
        sys.stderr.write(f"harness: error: {exc}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("harness: interrupted; completed results are kept and the next run resumes\n")
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
