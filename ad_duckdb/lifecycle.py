"""Which version the bare model name means, and what happened to each version (the changelog).

A name with no row in ``ad_model_current`` means its newest version, as it always did. A row appears once a version
is staged (``train --no-promote``) or promoted (``ad-duckdb promote``): the bare name then means that version until
another is promoted, so a retrain can be looked at (``'tx_ae@9'``) while dashboards calling ``'tx_ae'`` stay put.
Every store, promotion and drop is written to ``ad_model_log`` (who, when; a dropped version's sha256 and what it
was trained on), which ``ad-duckdb history`` reads.

This module reads the tables with plain SQL and imports nothing of the store, so ``store`` can use it.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import unicodedata
from contextvars import ContextVar
from typing import Any

from .exceptions import BadInputError

CURRENT = "ad_model_current"
# the training figures (ad_models.metrics) a changelog shows of each version, kept in the log when it is dropped
FIGURES = ("train_rows_used", "validation_rows", "best_validation_loss", "train_score_mean", "train_score_std",
           "train_seconds")
LOG = "ad_model_log"


def _has(cur: Any, table: str) -> bool:
    """Whether ``table`` exists in the store's schema: a store made by an older release lacks the tables until a write
    adds them (a read-only file never gets them), and reads then fall back to the old meaning."""
    return bool(cur.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND schema_name = current_schema() "
        "AND database_name = current_database()", [table]).fetchall()[0][0])


def promoted(cur: Any, *, present: bool | None = None) -> dict[str, int]:
    """The promoted version of each name that has one (``ad_model_current``). ``present``: whether that table exists,
    when the caller read the catalog already (``storestamp.stamp``)."""
    if not (_has(cur, CURRENT) if present is None else present):
        return {}
    return {str(n): int(v) for n, v in cur.execute("SELECT name, version FROM ad_model_current").fetchall()}


def bare_version(stored: list[int], pin: int | None) -> int | None:
    """The version the bare name means: the promoted one while it is stored, else the newest; None with none stored."""
    if not stored:
        return None
    return pin if pin in stored else max(stored)


# Who the command line's ``--who`` names (set for one command by cli.py); None: not given
BY: ContextVar[str | None] = ContextVar("ad_duckdb_who", default=None)
USER_VAR = "AD_DUCKDB_USER"


def who() -> str:
    """The user a log entry names: ``ad-duckdb --who``, else ``$AD_DUCKDB_USER``, else the operating system's login
    (``getpass``), or the uid where there is none (a container whose uid has no passwd entry). Why a name of its own:
    a scheduler runs every job as one service account, and the changelog could not tell which job (or which person
    who triggered it) promoted or rolled back a version; a blank value falls back, as an unset one. A line break, tab
    or other control character in it is a space: `history` prints one line an entry, and one name ("alice\nbob",
    a terminal's escape sequence) broke its table or wrote to the reader's terminal."""
    for given in (BY.get(), os.environ.get(USER_VAR)):
        name = " ".join("".join(" " if unicodedata.category(c).startswith("C") else c for c in given or "").split())
        if name:
            return name
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"


def now() -> dt.datetime:
    """UTC as a plain TIMESTAMP, as ``ad_models.created_at``."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def log(cur: Any, name: str, version: int, event: str, detail: dict[str, Any] | None = None) -> None:
    cur.execute("INSERT INTO ad_model_log (name, version, logged_at, event, by_user, detail) VALUES (?, ?, ?, ?, ?, ?::JSON)",
                [name, version, now(), event, who(), json.dumps(detail or {}, default=str)])


def _set(cur: Any, name: str, version: int) -> None:
    cur.execute("INSERT INTO ad_model_current (name, version) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET "
                "version = excluded.version", [name, version])


def on_store(cur: Any, name: str, version: int, before: list[int], promote: bool, how: str) -> None:
    """In ``storesave.save``'s transaction, once ``name@version`` is written: log it, and keep the bare name where it was
    unless ``promote``. ``before``: the versions stored before this one."""
    pins = promoted(cur)
    was = bare_version(before, pins.get(name))
    if promote:
        if name in pins:  # a name with a pin follows each promoted store; one without keeps meaning the newest
            _set(cur, name, version)
    elif was is not None:
        _set(cur, name, was)
    log(cur, name, version, how, {"promoted": bool(promote or was is None), "was": was})


def on_set_store(cur: Any, name: str, new: list[int], final: int, was: int | None) -> None:
    """In a set import's transaction (``modelsets``), once its versions of ``name`` are stored (``new``): make the
    bare name mean ``final`` and log each new version: ``final`` as what the name means now, moved from ``was`` (what
    it meant before the set), the others as staged. Why one move, not one per version as one file's import: each
    was logged as once meant, so a rollback after a deploy went to the set's staged retrain, not to what the name
    meant here before the deploy, and history called that retrain a version once used."""
    stored = [int(v) for (v,) in cur.execute("SELECT version FROM ad_models WHERE name = ?", [name]).fetchall()]
    if name in promoted(cur) or final != max(stored):
        _set(cur, name, final)
    for v in new:  # a staged one's "was": what the name means instead of it (history: "staged: 'tx_ae' stayed ...")
        log(cur, name, v, "imported", {"promoted": v == final, "was": was if v == final else final})
    if final not in new and final != was:  # a version here already held the set's current one
        log(cur, name, final, "promoted", {"was": was})


def set_current(cur: Any, name: str, version: int, stored: list[int], event: str) -> int | None:
    """Make the bare ``name`` mean ``version`` (one of ``stored``), logged as ``event``; returns what it meant before."""
    was = bare_version(stored, promoted(cur).get(name))
    if was == version:
        # Why nothing written: a re-run promotion logged a move from the version to itself, which the changelog
        # showed as a change; without a row the name means the newest, which it is, and a later store moves it alike
        return was
    _set(cur, name, version)
    log(cur, name, version, event, {"was": was})
    return was


def rollback_target(cur: Any, name: str, stored: list[int]) -> int | None:
    """The version the bare ``name`` meant before its current one became it, while still stored: the ``was`` of the
    newest log entry that made the current version the bare name's meaning; else the newest stored version older
    than the current one. None when there is none."""
    current = bare_version(stored, promoted(cur).get(name))
    if current is None:
        return None
    if _has(cur, LOG):
        rows = cur.execute(
            "SELECT detail->>'was' FROM ad_model_log WHERE name = ? AND version = ? AND event IN "
            "('promoted', 'rolled back', 'trained', 'imported') AND coalesce(detail->>'promoted', 'true') = 'true' "
            "ORDER BY logged_at DESC, rowid DESC", [name, current]).fetchall()
        for (was,) in rows:
            if was is not None and int(was) in stored and int(was) != current:
                return int(was)
    older = [v for v in stored if v < current]
    return max(older) if older else None


def on_drop(cur: Any, name: str, dropping: list[int], stored: list[int], rows: list[dict[str, Any]]) -> int | None:
    """In ``storedrop.drop``'s transaction, before the rows go: log each dropped version with its sha256 and what it was
    trained on (an old score table naming it can still be traced), and move a pin off a dropped version to the
    newest older one left (as dropping the newest always made the name mean the one before). Returns the version
    the bare name means afterwards (None when none is left)."""
    pins = promoted(cur)
    current = bare_version(stored, pins.get(name))
    left = [v for v in stored if v not in dropping]
    for r in rows:
        log(cur, name, int(r["version"]), "dropped", r)
    if not left:
        if name in pins:
            cur.execute("DELETE FROM ad_model_current WHERE name = ?", [name])
        return None
    if name in pins and current in dropping:
        older = [v for v in left if current is not None and v < current]
        if not older:
            # Why refused: the versions left are newer ones staged with --no-promote, never promoted; dashboards
            # calling the name would move to one nobody chose
            staged = ", ".join(f"{name}@{v}" for v in sorted(left))
            raise BadInputError(
                f"Cannot drop {name}@{current}: it is what {name!r} means (set by promote or rollback), and the "
                f"versions left ({staged}) are newer, so the name would move to one nobody chose for it now (a "
                f"staged retrain, or one rolled back from). Promote one first (ad-duckdb promote DB {name}@{max(left)}; "
                f"ad_duckdb.promote(con, '{name}@{max(left)}')), then drop {name}@{current}; or drop {name!r} whole.")
        _set(cur, name, max(older))
    return bare_version(left, promoted(cur).get(name))


def events(cur: Any, name: str) -> list[tuple[int, dt.datetime, str, str, dict[str, Any]]]:
    """Every log entry of ``name``, oldest first: (version, at, event, by, detail)."""
    if not _has(cur, LOG):
        return []
    rows = cur.execute("SELECT version, logged_at, event, by_user, detail::VARCHAR FROM ad_model_log WHERE name = ? "
                       "ORDER BY logged_at, rowid", [name]).fetchall()
    return [(int(v), at, str(e), str(by or ""), json.loads(d) if d else {}) for v, at, e, by, d in rows]
