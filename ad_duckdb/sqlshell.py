"""``ad-duckdb sql DB`` on a terminal: a prompt that runs each statement as it is ended with ';'.

Why here: the anomaly functions are Python functions, which DuckDB's own shell cannot load, so without a prompt of
ours an analyst exploring scores had to start the command again for every query.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import click

from . import interrupts
from .exceptions import is_interrupt

PROMPT, MORE = "ad> ", "... "
QUIT = {".quit", ".exit", "quit", "exit", "\\q"}
HISTORY_LINES = 1000
_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_][A-Za-z_0-9]*)?\$")  # $$ or $tag$; $1 is a parameter, no quote


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch in "_$"


def _quote_end(text: str, i: int) -> int:
    """Where the string or quoted name opening at ``i`` ends (just past its closing quote), -1 if it runs on."""
    q = text[i]
    escapes = q == "'" and i > 0 and text[i - 1] in "eE" and (i < 2 or not _is_word(text[i - 2]))  # E'it\'s'
    j = i + 1
    while j < len(text):
        if escapes and text[j] == "\\":
            j += 2
        elif text[j] != q:
            j += 1
        elif text.startswith(q * 2, j):  # '' inside a string, "" inside a name
            j += 2
        else:
            return j + 1
    return -1


def _comment_end(text: str, i: int) -> int:
    """Where the /* comment opening at ``i`` ends, -1 if it runs on. Why counted: DuckDB's comments nest."""
    depth, j = 0, i
    while j < len(text):
        if text.startswith("/*", j):
            depth, j = depth + 1, j + 2
        elif text.startswith("*/", j):
            depth, j = depth - 1, j + 2
            if not depth:
                return j
        else:
            j += 1
    return -1


def _scan(text: str) -> tuple[str, bool]:
    """(the last character outside strings, names and comments; whether ``text`` ends inside one of them)."""
    last, i = "", 0
    while i < len(text):
        ch = text[i]
        tag = _DOLLAR_TAG.match(text, i) if ch == "$" and (i == 0 or not _is_word(text[i - 1])) else None
        if text.startswith("--", i):
            newline = text.find("\n", i)
            i = len(text) if newline < 0 else newline + 1
            continue
        if tag is not None:
            close = text.find(tag.group(), tag.end())
            end = -1 if close < 0 else close + len(tag.group())
        elif text.startswith("/*", i):
            end = _comment_end(text, i)
        elif ch in "'\"":
            end = _quote_end(text, i)
        else:
            if not ch.isspace():
                last = ch
            i += 1
            continue
        if end < 0:
            return last, True
        if not text.startswith("/*", i):
            last = text[end - 1]
        i = end
    return last, False


def complete(text: str) -> bool:
    """Whether ``text`` ends a statement: its last character, comments and blanks aside, is a ';' outside strings
    (DuckDB's: '...' and E'...' over lines, $$...$$ and $tag$...$tag$), quoted names and (nested) comments."""
    last, inside = _scan(text)
    return last == ";" and not inside


def _quits(line: str) -> bool:
    return line.strip().rstrip(";").strip().lower() in QUIT


def interact(run: Callable[[str], None], banner: str, read: Callable[[str], str] = input) -> None:
    """Read statements from the terminal and ``run`` each as it ends, until .quit or Ctrl-D. An error or a Ctrl-C
    ends that statement only: the session and what it created stay."""
    history = _load_history() if read is input else None  # history is the terminal's line editor's
    click.echo(banner, err=True)
    try:
        _read_and_run(run, read)
    finally:
        _save_history(history)


def _history_path() -> Path | None:
    """AD_DUCKDB_HISTORY names the file (empty: keep none); else ~/.ad_duckdb_history, as psql keeps ~/.psql_history."""
    named = os.environ.get("AD_DUCKDB_HISTORY")
    if named is not None:
        return Path(named) if named else None
    return Path.home() / ".ad_duckdb_history"


def _load_history() -> Path | None:
    """Turn on line editing, and read earlier sessions' statements for the up arrow; the file they go back to."""
    try:
        import readline
    except ImportError:  # pragma: no cover - platforms without readline: plain input(), no history
        return None
    path = _history_path()
    if path is not None:
        readline.set_history_length(HISTORY_LINES)
        try:
            readline.read_history_file(path)
        except OSError:
            pass  # none yet, or unreadable: this session starts one
    return path


def _save_history(path: Path | None) -> None:
    if path is None:
        return
    import readline

    try:
        readline.write_history_file(path)
    except OSError as e:  # a read-only home: the session's work is done, only its recall is lost
        click.echo(f"note: could not keep the prompt's history in {path} ({e.strerror}).", err=True)


def _read_and_run(run: Callable[[str], None], read: Callable[[str], str]) -> None:
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
            if _quits(line) and (not lines or line.strip()[:1] in ".\\" and not _scan("\n".join(lines))[1]):
                return  # mid-statement only .quit, .exit and \q, as in psql: "exit" there may be a column's name
            if not lines and line.lstrip().startswith((".", "\\")):
                # Why: DuckDB's shell (and psql's \dt) users type these; taken for SQL, the line left the prompt
                # waiting for a ';' in which even .quit was text
                click.echo(f"Error: {line.strip()} is not a command here: end SQL statements with ';' (SHOW TABLES; "
                           "lists the tables, DESCRIBE t; a table's columns); .quit or Ctrl-D leaves.", err=True)
                continue
            if not lines and not line.strip():
                continue  # Enter on an empty prompt starts no statement (the prompt stays ad>, as psql's does)
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
            if not interrupts.go_on_after_ctrl_c():
                raise  # SIGTERM ends the session, as it ends every command
            lines.clear()  # as in psql: a Ctrl-C while typing drops the statement being typed
            click.echo("Error: interrupted (Ctrl-C); the statement stopped, the session goes on." if running else "",
                       err=True)
