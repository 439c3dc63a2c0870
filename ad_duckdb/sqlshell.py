"""``ad-duckdb sql DB`` on a terminal: a prompt that runs each statement as it is ended with ';'.

Why here: the anomaly functions are Python functions, which DuckDB's own shell cannot load, so without a prompt of
ours an analyst exploring scores had to start the command again for every query.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import click

from . import interrupts
from .exceptions import is_interrupt

PROMPT, MORE = "ad> ", "... "
QUIT = {".quit", ".exit", "quit", "exit", "\\q"}
# A comment runs to the line's end; a ';' inside one does not end the statement. Strings are taken whole first, so
# "--" or ';' inside quotes counts as text.
_TOKENS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/|[^'\"-/]+|.", re.DOTALL)


def complete(text: str) -> bool:
    """Whether ``text`` ends a statement: its last token, comments and blanks aside, is a ';' outside quotes."""
    last = ""
    for token in _TOKENS.findall(text):
        if token.startswith(("--", "/*")) or token.isspace():
            continue
        last = token.rstrip()
    return last.endswith(";") and not last.startswith(("'", '"'))


def interact(run: Callable[[str], None], banner: str, read: Callable[[str], str] = input) -> None:
    """Read statements from the terminal and ``run`` each as it ends, until .quit or Ctrl-D. An error or a Ctrl-C
    ends that statement only: the session and what it created stay."""
    try:
        import readline  # noqa: F401  (line editing and history for input(), where the platform has it)
    except ImportError:  # pragma: no cover - Windows
        pass
    click.echo(banner, err=True)
    lines: list[str] = []
    while True:
        running = False
        # Why one handler around the whole step: DuckDB's InterruptException and Python's KeyboardInterrupt both
        # answer one Ctrl-C, and the second may surface anywhere in the step, error handling included.
        try:
            try:
                line = read(MORE if lines else PROMPT)
            except EOFError:
                click.echo("", err=True)
                return
            if not lines and line.strip().rstrip(";") in QUIT:
                return
            lines.append(line)
            text = "\n".join(lines)
            if not complete(text):
                continue
            lines.clear()
            running = True
            try:
                run(text)
            except Exception as e:  # DuckDB's answer to a Ctrl-C may be a bare RuntimeError('Query interrupted')
                if is_interrupt(e):
                    raise KeyboardInterrupt from e
                if not isinstance(e, click.ClickException):
                    raise
                click.echo(f"Error: {e.format_message()}", err=True)
        except KeyboardInterrupt:
            if interrupts.stopped_by_sigterm():
                raise  # SIGTERM ends the session, as it ends every command
            interrupts.received = None  # the next signal is told apart afresh
            lines.clear()  # as in psql: a Ctrl-C while typing drops the statement being typed
            click.echo("Error: interrupted (Ctrl-C); the statement stopped, the session goes on." if running else "",
                       err=True)
