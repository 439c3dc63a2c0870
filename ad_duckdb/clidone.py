"""What a command stopped midway (Ctrl-C, SIGTERM, a note made an error) had already committed, said in its error."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click
import duckdb

from . import outputerrors
from .clifail import _failure, _interrupted
from .clinotes import _MADE_ERROR
from .exceptions import AdDuckDBWarning, is_interrupt


def _read_quietly(con: duckdb.DuckDBPyConnection, query: str, params: list[object]) -> Any:
    """The first value of ``query``'s first row, None when there is none or the read fails (no table yet).

    Why on a cursor of its own: after a Ctrl-C the watcher's ``interrupt()`` of ``con`` may still be pending, and
    would stop this query, which reads what the interrupted command stored."""
    try:
        with con.cursor() as cur:
            rows = cur.execute(query, params).fetchall()
    except duckdb.Error:
        return None
    return rows[0][0] if rows else None


def _latest_version(con: duckdb.DuckDBPyConnection, name: str) -> int:
    """The highest version of ``name`` in ad_models, 0 for none (or no table yet)."""
    return int(_read_quietly(con, "SELECT coalesce(max(version), 0) FROM ad_models WHERE name = ?", [name]) or 0)


@contextmanager
def _done_if_interrupted(read: Callable[[], Any], said: Callable[[Any, Any], str | None]) -> Iterator[list[str]]:
    """Around a step that commits a change: a Ctrl-C (or SIGTERM) that lands once it is committed says so, and the
    list yielded then holds what was done, for the caller's clean-up (a new database is kept). ``read`` reads the
    stored state, before and after; ``said(before, after)`` is what changed ("tx_ae@2 was stored"), None if nothing.

    Why: DuckDB's COMMIT runs to its end, and a signal landing after it (while the command printed what it stored)
    said "Nothing is left half-written", which read as "nothing was stored": the job ran again and stored it twice.
    """
    done: list[str] = []
    before = read()
    try:
        yield done
    except BaseException as e:
        if isinstance(e, OSError) and outputerrors.is_output_error(e):
            # stored, then its line failed to print: a job's retry would store it again
            what = said(before, read())
            if what is not None:
                done.append(what)
            raise click.ClickException(outputerrors.output_failed(e, what)) from e
        if isinstance(e, AdDuckDBWarning):  # a note made an error (PYTHONWARNINGS) once the change was committed
            what = said(before, read())
            if what is None:
                raise
            done.append(what)
            raise _failure(f"{e}{_MADE_ERROR}; meanwhile {what}.") from e
        if not is_interrupt(e):
            raise
        what = said(before, read())
        if what is None:
            raise
        done.append(what)
        raise _interrupted(f"{what}, whole, before it; only what came after it did not run (no need to run the "
                           "command again).") from e


def _stored_if_interrupted(con: duckdb.DuckDBPyConnection | Callable[[], duckdb.DuckDBPyConnection],
                           name: str) -> Any:
    """``_done_if_interrupted`` around a step that stores a version of ``name``; ``con`` may be a function giving the
    connection of the moment (train's, let go and opened again)."""
    return _done_if_interrupted(lambda: _latest_version(con() if callable(con) else con, name),
                                lambda b, a: f"{name}@{a} was stored" if a > b else None)


def _threshold_stored_if_interrupted(con: duckdb.DuckDBPyConnection, model: str, name: str) -> Any:
    """``_done_if_interrupted`` around a step that stores threshold ``name`` for a version of ``model``."""
    base = model.split("@")[0]

    def read() -> Any:
        return _read_quietly(con, "SELECT max({'at': created_at, 'version': version}) FROM ad_thresholds "
                                  "WHERE model = ? AND threshold_name = ?", [base, name])

    return _done_if_interrupted(
        read, lambda b, a: f"threshold {name!r} of {base}@{a['version']} was stored" if a and a != b else None)
