"""``ad-duckdb sql DB`` on a terminal: a prompt that runs each statement as it is ended with ';'; and the same reading
of a script's lines into statements and dot commands (script_steps).

Why here: the anomaly functions are Python functions, which DuckDB's own shell cannot load, so without a prompt of
ours an analyst exploring scores had to start the command again for every query.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import click
import duckdb

from . import interrupts
from .exceptions import is_interrupt
from .sqltext import sql_tokens

PROMPT, MORE = "ad> ", "... "
QUIT = {".quit", ".exit", "quit", "exit", "\\q"}
HISTORY_LINES = 1000


def complete(text: str) -> bool:
    """Whether ``text`` ends a statement: its last token, comments aside, is a ';'. DuckDB's own tokenizer reads
    it (as sqltext.strip_sql_ends does), so a ';' inside a string over lines, E'...', $$...$$ or $tag$...$tag$, a
    quoted name or a (nested) comment is what DuckDB takes it for."""
    try:
        tokens = sql_tokens(text)
    except Exception:  # not SQL that tokenizes: run it at its ';', for the parser to report
        return text.rstrip().endswith(";")
    if not tokens:
        return False
    ends = [start for start, _ in tokens[1:]] + [len(text)]
    code = [(start, end, kind) for (start, kind), end in zip(tokens, ends, strict=True)
            if kind != duckdb.token_type.comment]
    if not code:  # comments only
        return False
    start, end, kind = code[-1]  # an operator token may hold several characters: ");"
    return kind == duckdb.token_type.operator and text[start:end].rstrip().endswith(";")


def _inside_string_or_comment(text: str) -> bool:
    # Why the probe: a ';' on a line of its own is a token of its own unless the text so far left a string, quoted
    # name or block comment open, which takes the ';' in. Why not complete(probe): it skips comments, so after
    # "SELECT 1;\n/*" it found the earlier ';' and took the open comment for closed.
    if not text.strip():
        return False
    probe = text + "\n;"
    try:
        tokens = sql_tokens(probe)
    except Exception:  # not SQL that tokenizes: the parser reports it
        return False
    return not tokens or tokens[-1][0] != len(probe) - 1


class PointedError(click.ClickException):
    """An error whose one-line message holds DuckDB's ``LINE n: ...`` quote of the statement (``quoted``), and the
    lines that show it with a '^' under the mistake (``pointer``), for the prompt to show them as DuckDB's shell
    and psql do. Why kept apart: a script's error stays one line, for logs and greps, where a '^' line joined into
    it pointed at nothing."""

    def __init__(self, message: str, quoted: str, pointer: str) -> None:
        super().__init__(message)
        self.quoted, self.pointer = quoted, pointer


def shown_error(e: click.ClickException) -> str:
    """``e``'s message as the prompt shows it: a syntax error with its ``LINE n:`` and '^' lines under it."""
    message = e.format_message()
    if not isinstance(e, PointedError) or e.quoted not in message:
        return message
    # the hints and prefixes added to the message since it was made stay, the quote moves under it
    head, _, tail = message.partition(e.quoted)
    return f"{head.rstrip()}{tail}\n{e.pointer}"


def quits(line: str) -> bool:
    return line.strip().rstrip(";").strip().lower() in QUIT


def is_command(line: str) -> bool:
    """Whether ``line``, where a statement could start, is a dot command (dotcmds) rather than SQL."""
    return line.lstrip().startswith((".", "\\"))


@dataclass(frozen=True)
class Step:
    """One step of a script: ``kind`` "sql" (one or more statements) or "command" (one dot command line), with the
    number of the line it starts on, for errors."""

    kind: str
    text: str
    line: int


def _has_code(text: str) -> bool:
    """Whether ``text`` holds more than comments and ';'. Why the ';' too: a script of ';' alone ended as "no SQL
    statement to run" (exit 2) where one of comments alone ran as empty; DuckDB's shell and psql skip both."""
    try:
        tokens = sql_tokens(text)
    except Exception:  # not SQL that tokenizes: the parser reports it
        return bool(text.strip().replace(";", "").strip())
    ends = [start for start, _ in tokens[1:]] + [len(text)] if tokens else []
    # an operator token may hold several characters (");"), so its text, not its kind, tells a ';' alone
    return any(kind != duckdb.token_type.comment and text[start:end].replace(";", "").strip()
               for (start, kind), end in zip(tokens, ends, strict=True))


def script_steps(text: str) -> list[Step]:
    """A script's statements and dot commands, in order; blank and comment-only stretches dropped.

    A line is a dot command where the prompt would take it for one: starting with '.' or '\\' where a statement
    could start. Inside a statement, a string or a comment it is SQL (SELECT\\n.5;), as in DuckDB's shell."""
    steps: list[Step] = []
    lines: list[str] = []
    first = 1

    def flush() -> None:
        chunk = "\n".join(lines)
        if _has_code(chunk):
            steps.append(Step("sql", chunk, first))
        lines.clear()

    for number, line in enumerate(text.splitlines(), 1):
        # Why the cheap test first: the tokenizer reads all the text so far, so only a line that looks like a command
        # pays for it, and a script of SQL alone pays nothing
        if is_command(line) and _at_statement_start("\n".join(lines)):
            flush()
            steps.append(Step("command", line.strip(), number))
            continue
        if not lines:
            first = number
        lines.append(line)
    flush()
    return steps


def _at_statement_start(text: str) -> bool:
    """Whether ``text`` leaves no statement, string or comment open: what follows starts a statement."""
    return not _inside_string_or_comment(text) and (complete(text) or not _has_code(text))


def interact(run: Callable[[str], None], banner: str, command: Callable[[str], object],
             read: Callable[[str], str] = input, words: Callable[[], Iterable[str]] | None = None) -> None:
    """Read statements from the terminal and ``run`` each as it ends, until .quit or Ctrl-D; a line starting with
    '.' or '\\' goes to ``command`` (dotcmds). An error or a Ctrl-C ends that statement only: the session and what
    it created stay. ``words``: what Tab completes (names of tables, columns, models, functions), asked afresh at
    each Tab, so a table the session just created is among them."""
    history = _load_history() if read is input else None  # history is the terminal's line editor's
    if read is input and words is not None:
        _complete_with(words)
    click.echo(banner, err=True)
    try:
        _read_and_run(run, read, command, _join_history if read is input else None)
    finally:
        _save_history(history)


# Why these: a word ends at SQL's punctuation and at a quote, so Tab completes a model's name inside
# anomaly_score(' and a column after "t." would not be cut at the dot (qualified names complete whole)
_WORD_BREAKS = " \t\n'\"(),;=<>+-*/|"


def _complete_with(words: Callable[[], Iterable[str]]) -> None:
    """Tab completes the word before the cursor from ``words()``, and a dot command at the start of a line."""
    try:
        import readline
    except ImportError:  # pragma: no cover - platforms without readline: no completion
        return
    matches: list[str] = []

    def complete_word(text: str, state: int) -> str | None:
        nonlocal matches
        if state == 0:
            # Why every error kept in here: readline calls this from C and swallows an exception, leaving the Tab
            # dead without a word; an empty list is the same to the user, and the session goes on
            try:
                first = not readline.get_line_buffer()[:readline.get_begidx()].strip()
                pool = DOT_COMMANDS if first and text[:1] in ".\\" else words()
                low = text.lower()
                matches = sorted({w for w in pool if w.lower().startswith(low)}, key=str.lower)
            except Exception:
                matches = []
        return matches[state] if state < len(matches) else None

    readline.set_completer_delims(_WORD_BREAKS)
    readline.set_completer(complete_word)
    # libedit (macOS's Python) reads another binding syntax than GNU readline
    readline.parse_and_bind("bind ^I rl_complete" if "libedit" in (readline.__doc__ or "") else "tab: complete")


# The dot commands Tab completes at the start of a line (dotcmds.HELP lists what each does)
DOT_COMMANDS = (".tables", ".schema", ".models", ".mode", ".read", ".timer", ".once", ".output", ".help", ".quit", ".exit",
                "\\dt", "\\d", "\\i", "\\o", "\\q", "\\?")


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
        _history_lines(readline, _LINE_MARK, "\n")
    return path


# What stands for a line break inside a statement kept whole (_join_history) in the history file, which holds a line
# per entry: a control character no statement typed at a prompt holds
_LINE_MARK = "\x1e"


def _history_lines(readline: ModuleType, old: str, new: str) -> None:
    """Write each history entry's ``old`` as ``new``: the line breaks of a statement kept whole, to and from the file."""
    for position in range(readline.get_current_history_length()):  # zero-based for replace_history_item
        entry = readline.get_history_item(position + 1)
        if entry and old in entry:
            readline.replace_history_item(position, entry.replace(old, new))


def _join_history(lines: list[str]) -> None:
    """Make the history entries of a statement's ``lines`` one entry, the statement: the up arrow then recalls it
    whole, as in DuckDB's shell and psql. Why: readline keeps each line typed, and the last line of a statement
    typed over lines ran alone as a syntax error."""
    try:
        import readline
    except ImportError:  # pragma: no cover - platforms without readline: no history
        return
    if len(lines) < 2:
        return
    # Why matched from the end rather than counted: Python's input() adds a line only when it is not empty and not
    # the entry before it
    position = readline.get_current_history_length()  # one-based: the last entry
    for typed in reversed([line for line in lines if line]):
        if position >= 1 and readline.get_history_item(position) == typed:
            readline.remove_history_item(position - 1)  # zero-based
            position -= 1
    readline.add_history("\n".join(lines))


def _save_history(path: Path | None) -> None:
    if path is None:
        return
    import readline

    _history_lines(readline, "\n", _LINE_MARK)  # the session is over: its entries are the file's from here
    try:
        readline.write_history_file(path)
    except OSError as e:  # a read-only home: the session's work is done, only its recall is lost
        click.echo(f"note: could not keep the prompt's history in {path} ({e.strerror}).", err=True)


def _read_and_run(run: Callable[[str], None], read: Callable[[str], str], command: Callable[[str], object],
                  joined: Callable[[list[str]], None] | None = None) -> None:
    """``joined(lines)``: told of each statement that ended, with the lines it was typed as."""
    lines: list[str] = []
    after_ctrl_c = False
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
            mid_statement = bool(lines)
            if quits(line) and (not mid_statement or line.strip()[:1] in ".\\"
                                 and not _inside_string_or_comment("\n".join(lines))):
                return  # mid-statement only .quit, .exit and \q, as in psql: "exit" there may be a column's name
            step: Callable[[str], object] = run
            text = line
            if not lines and is_command(line):
                step = command  # a dot command (dotcmds), at the start of a statement only
            elif not lines and not line.strip():
                continue  # Enter on an empty prompt starts no statement (the prompt stays ad>, as psql's does)
            else:
                lines.append(line)
                text = "\n".join(lines)
                if not complete(text):
                    continue
                if joined is not None:
                    joined(lines)
                lines.clear()
                if not _has_code(text):
                    continue  # ';' alone (or after comments) is no statement: nothing to run or say, as in psql
            if after_ctrl_c:  # the watcher thread's interrupt for that Ctrl-C must not stop this statement
                interrupts.caught_up()
                after_ctrl_c = False
            running = True
            try:
                step(text)
            except Exception as e:  # DuckDB's answer to a Ctrl-C may be a bare RuntimeError('Query interrupted')
                if is_interrupt(e):
                    raise KeyboardInterrupt from e
                if not isinstance(e, click.ClickException):
                    raise
                click.echo(f"Error: {shown_error(e)}", err=True)
        except KeyboardInterrupt:
            if not interrupts.go_on_after_ctrl_c():
                raise  # SIGTERM ends the session, as it ends every command
            lines.clear()  # as in psql: a Ctrl-C while typing drops the statement being typed
            after_ctrl_c = True
            click.echo("Error: interrupted (Ctrl-C); the statement stopped, the session goes on." if running else "",
                       err=True)
