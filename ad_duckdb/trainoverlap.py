"""Labelled rows that are rows the model was trained on (its figures on them optimistic): the note that
says so with the filter that holds them out, and that note read back from a stored threshold's ``chosen_on``
(``training_rows_note``)."""

from __future__ import annotations

import re
from typing import Any

import duckdb

from . import optionwords, pysource, thresholds, trainsample
from .columnroles import id_like
from .featureread import rows_fingerprint
from .samesource import same_source
from .scoring import LoadedModel
from .sqltext import source_sql, sql_name, strip_sql_ends, where_sql
from .store import Threshold


def _training_overlap(con: duckdb.DuckDBPyConnection, lm: LoadedModel, source: str, where: str | None,
                      label: str) -> str | None:
    """A note when labelled rows include rows the model was trained on (their metrics are optimistic), with the
    filter that holds them out."""
    m = lm.rec.metrics
    if not isinstance(m.get("train_source"), str) or not same_source(m["train_source"], source):
        return None  # another source (or a model from before this was recorded): nothing to compare
    tw = m.get("train_where")
    # the filter given, kept: a suggestion without it would judge the model on rows the user did not ask about.
    # Comments at the filters' ends dropped: in `NOT (label = 0 -- normal rows)` the comment swallowed the `)`,
    # so the suggested filter was a syntax error.
    given, trained = (strip_sql_ends(w) if w else w for w in (where, tw))
    q = f"SELECT count(*) FILTER (WHERE {trained or 'true'}\n)"
    if trained:
        # the normal rows its negation leaves: none when the filter picks the normal rows by their label (README's
        # where="label = 0"), and NOT (label = 0) would judge the model on anomalies alone
        q += f", count(*) FILTER (WHERE NOT ({trained}\n) AND {sql_name(label)} = 0)"
        # the anomalies it trained on: none under "label = 0"; an unlabelled part ("split = 'train'") keeps them
        q += f", count(*) FILTER (WHERE ({trained}\n) AND {sql_name(label)} = 1)"
    q += f" FROM {source_sql(source)}{where_sql(given) if given else ''}"
    cur = pysource.cursor(con, source)
    try:
        n, *normal_left = cur.execute(q).fetchall()[0]
        anomalies_trained = normal_left.pop() if normal_left else 0
        # every row the training filter reads now; train_rows counts them all, a sampled training's too
        total = f"SELECT count(*) FROM {source_sql(source)}" + (where_sql(trained) if trained else "")
        now = cur.execute(total).fetchall()[0][0] if n else 0
        key = _row_key(cur, source, lm, label) if normal_left == [0] else ""
        then_fp = m.get("train_fingerprint")
        # compared only as hashed by the same DuckDB (another release may hash the same rows otherwise)
        same_rows = (not n or not isinstance(then_fp, str) or not then_fp.endswith(f"/duckdb {duckdb.__version__}")
                     or rows_fingerprint(cur, source, lm.feature_names, trained) in (then_fp, None))
    except duckdb.Error:
        return None  # the stored filter no longer binds (a column dropped since): nothing to say
    finally:
        cur.close()
    if not n:
        return None
    then = lm.rec.train_rows
    # Why no claim: a table grown by next month's rows, or a DataFrame variable reused for held-out rows (as many
    # rows of another month, or a value corrected), has the name it was trained on, and its rows were said to be
    # training rows
    grown = isinstance(then, int) and now != then
    if grown or not same_rows:
        counts = f"then, {now} now" if grown else "then and now, but other rows"
        return (f"The source has changed since {lm.ref} was trained ({then} rows{' under its training filter' if tw else ''} "
                f"{counts}), so whether these rows include its training rows cannot be told (if they do, its "
                "figures on them are optimistic).")
    if not tw:
        how = "it was trained on all of them (unlabelled); score new rows for an estimate on unseen rows"
    elif key and anomalies_trained:
        # a fifth of every row kept out by a hash of the row's key: "OR label = 1" would add the anomalies of the
        # other four fifths, which this filter trains on
        test = f"hash({key}) % 5 = 0"
        how = (f"its training filter was {tw!r}, which leaves out no row labelled normal (0) and trains on "
               "anomalies too: hold a part out of training, "
               f"e.g. train with {_where_fix(f'({trained}) AND hash({key}) % 5 <> 0')} and evaluate with "
               f"{_where_fix(f'({given}) AND {test}' if given else test)}, for an estimate on unseen rows")
    elif key:
        # a fifth of the normal rows kept out of training by a hash of the row's key: the same rows each time
        test = f"hash({key}) % 5 = 0 OR {sql_name(label)} = 1"
        how = (f"its training filter was {tw!r}, which leaves out no row labelled normal (0): hold a part out of "
               f"training, e.g. train with {_where_fix(f'({trained}) AND hash({key}) % 5 <> 0')} and evaluate "
               f"with {_where_fix(f'({given}) AND ({test})' if given else test)}, "
               "for an estimate on unseen rows; that part holds every anomaly but a fifth of the normal rows, so "
               "precision, F1 and AUC-PR there read higher than at the data's own anomaly share (recall and AUC-ROC "
               "do not depend on it)")
    else:
        held = f"({given}) AND NOT ({trained})" if given else f"NOT ({trained})"
        how = (f"its training filter was {tw!r}; use {_where_fix(held)} or another held-out filter "
               "for an estimate on unseen rows")
    sampled = trainsample.learned_part(lm.ref, then, m, int(n))
    if sampled:  # most of the rows unseen by the network: optimistic on the sample's share of them alone
        how += f"; {sampled}"
    return f"{n} of these rows are rows {lm.ref} was trained on, so its figures on them are optimistic ({how})."


# Where _training_overlap's note starts in a goal threshold's chosen_on (lowercased there, after the rows)
_OVERLAP_NOTE = re.compile(r"; (\d+ of these rows are rows \S+ was trained on, |the source has changed since \S+ "
                           r"was trained \()")
_AGAIN_NOTE = re.compile(r"; chosen again for this version \(the goal of [^()]*\)$")


def training_rows_note(t: Threshold) -> str | None:
    """The note that ``t``'s figures are (or may be) on rows its model was trained on, so optimistic, from the
    ``chosen_on`` it was stored with (``_training_overlap``'s, without the notes after it); None when it has none.
    Why: said only at the end of ``chosen_on``, which ``show``'s table cuts off."""
    on = t.chosen_on or ""
    m = _OVERLAP_NOTE.search(on)
    if m is None:
        return None
    note = on[m.start() + 2:].removesuffix(f"; {thresholds.CONFIDENT_NOTE}")
    if t.method == "min_cost":  # its prices end chosen_on
        note = note.rpartition("; ")[0] or note
    return _AGAIN_NOTE.sub("", note)


def _py_text(text: str) -> str:
    """``text`` as a Python string in a note: in double quotes unless it holds one (a quoted name, "Is Fraud")."""
    return f'"{text}"' if '"' not in text else repr(text)


def _where_fix(text: str) -> str:
    """A filter a message offers as the caller spells it: ``where="..."`` from Python, ``--where '...'`` in the
    shell's word for it from the command line. Why the shell's word: a filter holding both quotes ("Is Fraud" and
    'test') was offered as Python's repr, with backslash escapes inside single quotes, which a POSIX shell does not
    read: pasted after --where, the command broke."""
    return optionwords.opt("where", text, py=_py_text(text))


def _row_key(cur: Any, source: str, lm: LoadedModel, label: str) -> str:
    """The columns a hash that splits ``source``'s rows reads: its id column (a row key), else the model's
    features (rows alike in every feature then fall on the same side, which only groups copies)."""
    cols = cur.execute(f"DESCRIBE SELECT * FROM {source_sql(source)}").fetchall()
    ids = [c for c, t, *_ in cols if c.lower() != label.lower() and id_like(c, t) is not None]
    return sql_name(ids[0]) if ids else ", ".join(sql_name(f) for f in lm.feature_names)
