"""Labelled rows that repeat: one id with the same features more than once among the rows an evaluation or a
threshold goal reads, as a join with a label table that holds an id twice gives.

Why said: each copy counts in every figure (precision, recall, AUC, the cut a goal picks), so a label table with a
row labelled again (appended rather than updated) moved the figures a threshold is defended with, without a word;
a row labelled both 0 and 1 was judged as both.
"""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np

from .columnroles import id_like, id_named
from .sqltext import quote_ident, source_sql, sql_name, where_sql


def id_columns(cols: list[tuple[str, str]], feats: list[str], label: str) -> list[str]:
    """The columns of ``cols`` (the source's (name, type)) that read as a row's id, up to three, neither a feature
    nor the label: those ``note`` checks. Why text and UUID ids too: a label table keyed by 'TX-0001' or a UUID,
    holding one twice, doubled rows in every figure without a word (only integer ids were checked); a text column
    only when named as an id, since a name or a channel repeats over rows."""
    taken = {label.lower(), *(f.lower() for f in feats)}
    return [c for c, t in cols if c.lower() not in taken and (id_like(c, t) is not None or _text_key(c, t))][:3]


def _text_key(name: str, sql_type: str) -> bool:
    """A UUID column, or a text one named as an id (``tx_id``, ``customerId``)."""
    typ = sql_type.strip().upper()
    return typ == "UUID" or (typ in ("VARCHAR", "TEXT", "STRING") and id_named(name))


def id_hashes(ids: list[str]) -> tuple[str, ...]:
    """SQL of each id's hash as a DOUBLE (its top 53 bits, which a double holds exactly; NULL stays NULL), to read
    with the rows (``featureread.feature_batches``' ``also``) for ``repeating``."""
    return tuple(f"CASE WHEN {quote_ident(c)} IS NULL THEN NULL ELSE (hash({quote_ident(c)}) >> 11)::DOUBLE END"
                 for c in ids)


def repeating(ids: list[str], hashes: np.ndarray) -> list[str]:
    """The columns of ``ids`` some of whose values may repeat: their ``id_hashes`` (a column each of ``hashes``,
    read with the rows) hold a value twice. Two ids of one hash (about 1 in 200 tables of 10M distinct ids) only
    cost ``note`` its exact check, which finds no repeat.

    Why from the rows read, not a query: count(DISTINCT id) over the source ran its label join again and held a
    hash table of every id, evaluate's peak at 10M rows (+370 MB, 13 s; bench/results/labels7_2026-12-06.md)."""
    out = []
    for i, c in enumerate(ids):
        h = hashes[:, i][~np.isnan(hashes[:, i])]
        h.sort()
        if len(h) > 1 and bool((h[1:] == h[:-1]).any()):
            out.append(c)
    return out


def note(cur: Any, source: str, where: str | None, cols: list[tuple[str, str]], feats: list[str], label: str,
         rows: int, hashes: np.ndarray | None = None) -> str | None:
    """What to say when the ``rows`` rows of ``source`` (filtered by ``where``) repeat one id and the same features,
    or None. ``cols``: the source's (name, type); ``feats``: its names of the model's features; ``hashes``: the
    ``id_hashes`` of its ``id_columns`` read with the rows, which tell the ids that repeat without another read.

    Only with an id column: without one, rows alike in every feature may be different rows that happen to agree."""
    ids = id_columns(cols, feats, label)
    try:
        for idcol in (_repeating(cur, source, where, ids) if hashes is None else repeating(ids, hashes)):
            got = _repeats(cur, source, where, idcol, feats, label)
            if got is not None:
                return _said(idcol, label, *got, rows)
    except duckdb.Error:
        return None  # a note, never the reason an evaluation fails
    return None


def _repeating(cur: Any, source: str, where: str | None, ids: list[str]) -> list[str]:
    """The columns of ``ids`` holding some value more than once, in one read of the source. Why one: the source
    may be a label join, run again by each read; an id that never repeats (the usual case) costs a count of its
    distinct values there."""
    if not ids:
        return []
    counts = ", ".join(f"count({quote_ident(c)}) > count(DISTINCT {quote_ident(c)})" for c in ids)
    got = cur.execute(f"SELECT {counts} FROM {source_sql(source)}{where_sql(where or 'true')}").fetchall()[0]
    return [c for c, repeats in zip(ids, got, strict=True) if repeats]


def _repeats(cur: Any, source: str, where: str | None, idcol: str, feats: list[str],
             label: str) -> tuple[int, int, int] | None:
    """(ids repeated, extra rows, ids labelled both ways) where ``idcol``, which repeats, is a row key, else None.

    A row key: each id with one set of features. Why required: a shop's or a customer's id (``shop_id``) repeats
    over rows of other features too, and two of its rows alike by chance are two rows."""
    # the features as one hash: grouping by every column of a wide source cost a minute on millions of rows. Grouped
    # by the id alone, its rows' lowest and highest hash equal when it has one set of features: a shop's id over 2M
    # rows makes a few thousand groups (0.06 s) where id and hash together made 2M (0.9 s)
    cols = ", ".join(quote_ident(c) for c in feats)
    groups, extra, both, keyed = cur.execute(
        f"SELECT count(*) FILTER (WHERE n > 1), sum(n - 1)::BIGINT, count(*) FILTER (WHERE n > 1 AND k > 1), "
        f"bool_and(lo = hi) FROM (SELECT i, count(*) AS n, count(DISTINCT l) AS k, min(h) AS lo, max(h) AS hi "
        f"FROM (SELECT {quote_ident(idcol)} AS i, {quote_ident(label)} AS l, hash({cols}) AS h FROM "
        f"{source_sql(source)}{where_sql(where or 'true')}) WHERE i IS NOT NULL GROUP BY i)").fetchall()[0]
    return (int(groups), int(extra), int(both)) if groups and keyed else None


def _said(idcol: str, label: str, groups: int, extra: int, both: int, rows: int) -> str:
    idc, lc = sql_name(idcol), sql_name(label)
    conflict = (f", {both} of them labelled both 0 and 1, so judged as an anomaly and as a normal row at once"
                if both else "")
    return (f"{extra} of these {rows} rows repeat another row: {groups} values of id column {idcol!r} appear more "
            f"than once with the same features{conflict}. Each copy counts in every figure here, as a join with a "
            f"label table that holds an id more than once gives; judge each row once, e.g. join the labels one row "
            f"per id: (SELECT {idc}, max({lc}) AS {lc} FROM labels GROUP BY {idc}).")
