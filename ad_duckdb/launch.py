"""The `ad-duckdb` command's entry point: imports the command line, then runs it.

Why a module of its own: importing the command line (DuckDB, numpy, pyarrow, click) takes about 1.5 s, before
the command watches for Ctrl-C; a Ctrl-C then printed a 30-line traceback through the import machinery. Here it is
one line and exit 130, as a Ctrl-C anywhere later.
"""

from __future__ import annotations

import sys


def main() -> None:
    from .stdfds import hold_closed

    hold_closed()  # before the import opens any file, which could take a closed stdout's or stderr's number
    try:
        from .cli import main as run
    except KeyboardInterrupt:
        sys.stderr.write("Error: interrupted (Ctrl-C) while the command was starting; it did nothing.\n")
        raise SystemExit(130) from None
    run()
