"""The notes a training gives on what changed meanwhile: the queries of its name, the rows it read (while the
file was let go), the thresholds it was to carry whose versions were dropped."""

from __future__ import annotations

import shlex

import duckdb

from . import notes, optionwords, store, storetables, thresholds
from .featureread import rows_fingerprint
from .models import warn_if_code_sizes_left_out, warn_if_features_changed


def _warn_train_changes(cur: duckdb.DuckDBPyConnection, rec: store.ModelRecord) -> None:
    """The notes on what a new version changes for queries of its name (storesave.save's before_insert of train)."""
    warn_if_features_changed(cur, rec, "train")
    warn_if_code_sizes_left_out(cur, rec)


def _warn_if_rows_changed(cur: duckdb.DuckDBPyConnection, name: str, source: str, names: list[str],
                          where: str | None, before: str | None) -> None:
    """Say so when the training rows changed while the file was let go (another process wrote them meanwhile).

    Why a warning, not a refusal: the model learned from the rows as they were when read, which is what a training
    started a moment earlier would have stored too; but its thresholds (read again above ``max_train_rows``) and
    an evaluation on "the training rows" then describe other rows, which the user should know."""
    if before is None:
        return
    after = rows_fingerprint(cur, source, names, where)
    if after is None or after == before:
        return
    rows = f"{source}{f' WHERE {where}' if where else ''}"
    # Why read once more: a source that draws its rows at random (random(), USING SAMPLE without a seed) differs
    # on every read, and was said to have been written by another process, with "train it again" as the fix, which
    # draws other rows again. Held now, the file is written by no other process between these two reads.
    if rows_fingerprint(cur, source, names, where) != after:
        notes.warn(
            f"Model {name!r}: {rows} gave other rows each time it was read (it draws them at random, as random() "
            "and USING SAMPLE without a seed do): the model learned from the rows of one read, and what reads them "
            "again (evaluate, a threshold chosen on them, a retrain's carried goal) reads other rows. For the same "
            "rows on every read, give the sample a seed (USING SAMPLE 10% (bernoulli, 42)), or store the drawn rows "
            "and train on that table (CREATE TABLE train_rows AS ...).")
        return
    notes.warn(
        f"Model {name!r}: the rows of {rows} changed while the model trained "
        "(another process wrote them while the file was let go): it learned from the rows as they were read at the "
        "start. Train it again if it must cover the new rows.")


def _own_threshold_names(cur: duckdb.DuckDBPyConnection, name: str) -> set[str]:
    """The names of the user's thresholds (not the ones every training sets) of the stored versions of ``name``."""
    if not storetables.tables_exist(cur):
        return set()
    rows = cur.execute("SELECT DISTINCT threshold_name FROM ad_thresholds t SEMI JOIN ad_models m ON "
                       "t.model = m.name AND t.version = m.version WHERE t.model = ?", [name]).fetchall()
    return {r[0] for r in rows} - set(thresholds.FROM_TRAINING)


def _warn_if_not_carried(cur: duckdb.DuckDBPyConnection, name: str, version: int, lost: set[str]) -> None:
    """Say which thresholds carry_thresholds was to carry when the training began, but whose versions were dropped
    before it stored (the file is let go while it trains). Why: the retrain stored the new version without them and
    said nothing, so the queries naming them failed later with no word in the job's log on why."""
    if not lost:
        return
    shown = ", ".join(repr(t) for t in sorted(lost))
    row = cur.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    db = shlex.quote(row[0][0]) if row and row[0][0] else "DB"
    notes.warn(
        f"Model {name!r}: threshold{'s' if len(lost) > 1 else ''} {shown} not carried to {name}@{version}: the versions "
        f"holding {'them' if len(lost) > 1 else 'it'} were dropped while it trained. Set "
        f"{'them' if len(lost) > 1 else 'it'} again if queries still name {'them' if len(lost) > 1 else 'it'}: "
        + optionwords.either(f"ad_duckdb.set_threshold(con, '{name}@{version}', ...).",
                             f"ad-duckdb threshold {db} {shlex.quote(f'{name}@{version}')} "
                             f"{shlex.quote(sorted(lost)[0])} --method METHOD."))
