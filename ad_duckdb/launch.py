"""The `ad-duckdb` command's entry point: imports the command line, then runs it.

Why a module of its own: importing the command line (DuckDB, numpy, pyarrow, click) takes about 1.5 s, before
the command watches for Ctrl-C; a Ctrl-C then printed a 30-line traceback through the import machinery. Here it is
one line and exit 130, as a Ctrl-C anywhere later.
"""

from __future__ import annotations

import signal
import sys

STARTING = "Error: interrupted (Ctrl-C) while the command was starting; it did nothing.\n"


def interrupted_while_starting() -> None:
    """Say ``STARTING`` and exit 130, as a Ctrl-C anywhere later does. Why stderr is checked: a Ctrl-C before
    ``hold_closed`` finds a closed stderr as None."""
    if sys.stderr is not None:
        sys.stderr.write(STARTING)
    raise SystemExit(130) from None


def main() -> None:
    # Why the guard holds stdfds too: a Ctrl-C in its import (a slow disk, a loaded machine) killed Python by SIGINT,
    # exit -2 and a traceback, where any later point said one line and exited 130
    try:
        from .stdfds import hold_closed

        hold_closed()  # before the import opens any file, which could take a closed stdout's or stderr's number
        from . import exitsignals

        exitsignals.hook_last()
        from .cli import main as run
        from .interrupts import raise_terminated
    except KeyboardInterrupt:
        interrupted_while_starting()
    ended: SystemExit | None = None
    try:
        try:
            run()
        except SystemExit as e:
            ended = e
        # a Ctrl-C in Python's shutdown, from here on: one line and exit 130 (exitsignals)
        exitsignals.exiting(ended.code if ended else 0, signal.getsignal(signal.SIGTERM) is raise_terminated)
    except KeyboardInterrupt:  # as the command returned, before the line above
        exitsignals.interrupted_as_it_ended(ended.code if ended else 0)
    if ended is not None:
        raise ended
