"""The terminal goldens: an entry point that prints a fixed scorecard as ``harness run`` does, and the command
that captures it from real terminals into ``tests/golden/terminal_*.txt``.

    python tests/termdemo.py              # print reportdata.long_names_scorecard() as `harness run` would
    python tests/termdemo.py trend        # print reportdata.trend_entries() as `harness trend` would
    python tests/termdemo.py --update     # regenerate the goldens (needs tmux), then review `git diff`

``--update`` runs the entry point in tmux panes of WIDTHS columns (``capture-pane``: the text a user sees, no
colours) and once through a pipe with no terminal at all (stdin, stdout and stderr not terminals, no
``COLUMNS``: rich's 80 columns, as under tox and in CI logs). tests/test_terminal.py checks that the renderer
still produces them exactly and that no figure in them is cut.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden"
WIDTHS = (60, 80, 120, 200)
PANE_HEIGHT = 150  # taller than the longest output, so nothing scrolls away
SOCKET = "harness-goldens"


KINDS = ("terminal", "trend")  # what the entry point prints: `harness run`'s scorecard, `harness trend`'s table


def golden_path(width: int | None, kind: str = "terminal") -> Path:
    """``terminal_80.txt`` for a tmux pane of 80 columns, ``terminal_piped.txt`` for the piped run
    (``trend_80.txt``, ``trend_piped.txt`` for the trend table)."""
    return GOLDEN / (f"{kind}_{width}.txt" if width else f"{kind}_piped.txt")


def normalise(text: str) -> str:
    """What a capture and a render share: lines without trailing blanks, no blank lines at the end."""
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n"


def show(kind: str = "terminal") -> int:
    sys.path.insert(0, str(HERE))
    import reportdata

    from harness.cli import print_scorecard
    from harness.cli_output import console
    from harness.reporters import trend

    out = console("auto")
    if kind == "trend":  # as cmd_trend prints it
        out.print(trend.table(reportdata.trend_entries(), None, out.width))
    else:
        print_scorecard(reportdata.long_names_scorecard(), out, Path("reports"))
    return 0


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR",
                                                           "TTY_COMPATIBLE", "TMUX")}
    env["PYTHONPATH"] = os.pathsep.join([str(HERE.parent), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def capture_tmux(width: int, timeout: float = 30.0, kind: str = "terminal") -> str:
    """Run the entry point in a detached tmux pane ``width`` columns wide and return the pane's text."""
    tmux = ["tmux", "-L", f"{SOCKET}-{os.getpid()}-{width}", "-f", os.devnull]
    session = f"w{width}"
    command = f"{sys.executable} {Path(__file__).resolve()} {kind}; tmux wait-for -S {session}-done; sleep 600"
    subprocess.run([*tmux, "new-session", "-d", "-s", session, "-x", str(width), "-y", str(PANE_HEIGHT),
                    command], check=True, env=_env(), cwd=HERE.parent)
    try:
        subprocess.run([*tmux, "wait-for", f"{session}-done"], check=True, timeout=timeout)
        time.sleep(0.2)  # let the pane draw the last lines
        shown = subprocess.run([*tmux, "capture-pane", "-p", "-t", session, "-S", "-", "-E", "-"],
                               check=True, capture_output=True, text=True).stdout
    finally:
        socket = subprocess.run([*tmux, "display-message", "-p", "#{socket_path}"], check=False,
                                capture_output=True, text=True).stdout.strip()
        subprocess.run([*tmux, "kill-server"], check=False, capture_output=True)
        if socket:
            Path(socket).unlink(missing_ok=True)
    return normalise(shown)


def capture_piped(kind: str = "terminal") -> str:
    """The entry point's stdout through a pipe, with no terminal anywhere."""
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), kind], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, env=_env(), cwd=HERE.parent, check=True)
    return normalise(proc.stdout)


def update() -> int:
    for kind in KINDS:
        for width in WIDTHS:
            golden_path(width, kind).write_text(capture_tmux(width, kind=kind), encoding="utf-8")
            print(f"wrote {golden_path(width, kind)}")
        golden_path(None, kind).write_text(capture_piped(kind), encoding="utf-8")
        print(f"wrote {golden_path(None, kind)}")
    return 0


if __name__ == "__main__":
    args = sys.argv[1:]
    raise SystemExit(update() if args == ["--update"] else show(args[0] if args else "terminal"))
