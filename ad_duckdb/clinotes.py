"""The command line's notes: the library's warnings as ``note:`` lines on stderr, or as errors, as PYTHONWARNINGS says."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from .clifail import _failure
from .exceptions import AdDuckDBWarning


@contextmanager
def _notes() -> Iterator[None]:
    """Print the library's ``AdDuckDBWarning``s (features left out, few rows) as ``note:`` lines on stderr, as they come.

    Why as they come: the note on the features chosen shows before a long training, while it can be stopped.
    Each note once: `score --plots` reads the rows twice (the top rows, then the histogram), and so notes twice.
    """
    shown: set[str] = set()

    def show(message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any) -> None:
        if str(message) not in shown:
            shown.add(str(message))
            _note(str(message))

    with warnings.catch_warnings():
        warnings.simplefilter("error" if _NOTES_ARE_ERRORS else "ignore" if _NOTES_IGNORED else "always",
                              AdDuckDBWarning)
        warnings.showwarning = show
        try:
            yield
        except AdDuckDBWarning as w:
            raise _failure(f"{w}{_MADE_ERROR}") from w


_MADE_ERROR = " (a note, made an error by PYTHONWARNINGS / -W error)"


# Whether notes end the command as errors: what the -W / PYTHONWARNINGS options the process was started with say of
# AdDuckDBWarning (read by take_warning_filters, which main() calls). Why honour them: a job that must not go on when a note appears (few rows,
# features chosen for it) sets PYTHONWARNINGS=error::UserWarning, Python's own switch; _notes overrode it, exit 0.
# Why read at start-up only: a test runner or an embedding program adds filters of its own later.
_NOTES_ARE_ERRORS = False


# Whether notes are left out: ignore::UserWarning (or -W ignore) in PYTHONWARNINGS, read as _NOTES_ARE_ERRORS is.
# Why Python's switch again: a scheduler's log that must hold errors alone had no way to drop the `note:` lines
# (_notes forced the library's on), and error::UserWarning already speaks of notes so.
_NOTES_IGNORED = False


def take_warning_filters() -> None:
    """Read what the process's warning filters (-W, PYTHONWARNINGS) say of notes, once, as the command starts
    (``_NOTES_ARE_ERRORS``, ``_NOTES_IGNORED``)."""
    global _NOTES_ARE_ERRORS
    global _NOTES_IGNORED
    action = _notes_action(AdDuckDBWarning)
    _NOTES_ARE_ERRORS, _NOTES_IGNORED = action == "error", action == "ignore"


def notes_ignored() -> bool:
    """Whether PYTHONWARNINGS leaves notes out (``_NOTES_IGNORED``), for a report that prints its notes itself."""
    return _NOTES_IGNORED


def _note(message: str) -> None:
    """A ``note: ...`` line on stderr, unless PYTHONWARNINGS ignores notes (_NOTES_IGNORED)."""
    if not _NOTES_IGNORED:
        click.echo(f"note: {message}", err=True)


def _warn(message: str) -> None:
    """A note on the results (few labelled anomalies, a damaged model, rows unlike the training ones): a ``note:``
    line (``_note``), or, under PYTHONWARNINGS=error, an ``AdDuckDBWarning`` raised, which ``_notes`` makes the
    Error line. Why two kinds: a note on the output alone (columns hidden to fit the terminal, a database created)
    is no reason to stop a job, while error::UserWarning is how a job says it must stop on a note on the data."""
    _notes_are_errors(message)
    _note(message)


def _notes_are_errors(*notes: str | None) -> None:
    """Raise the first of ``notes`` as an ``AdDuckDBWarning`` under PYTHONWARNINGS=error (``_warn``); a report
    calls it before printing, as a Python warning made an error stops the program where it is raised."""
    first = next((n for n in notes if n), None)
    if _NOTES_ARE_ERRORS and first is not None:
        raise AdDuckDBWarning(first)


def _notes_action(category: type[Warning]) -> str | None:
    """What Python's warning filters do with every ``category`` warning ("error", "ignore", ...; None: no filter
    says): the first filter for all of them decides, as in ``warnings.warn``; filters for particular messages or
    modules are not about every note."""
    for action, message, cat, module, lineno in warnings.filters:
        if message is None and module is None and not lineno and issubclass(category, cat):
            return str(action)
    return None
