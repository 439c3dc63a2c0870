"""Which columns of a source named like the score columns (``featurechoice.SCORE_COLUMNS``) an earlier scoring wrote.

Why it matters: re-scoring a scored table replaces its old score columns, but a column of the user's under one of
those names (a label called ``is_anomaly``, as evaluate's own notes suggest) must never be replaced by the model's
output. ``score(into=)`` marks the columns it writes with a column comment (``MARK``); a table with no mark (written
before the marks, or a copy: CREATE TABLE AS and exports drop comments) counts as scored only when it holds all three
default outputs with their types, which a label column alone never does.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from .exceptions import BadInputError
from .featurechoice import MODEL_COLUMN, SCORE_COLUMNS
from .intotable import named_objects
from .optionwords import either
from .sqltext import is_query, py_text, quote_ident, quote_literal, shell_word, source_sql, sql_name, strip_sql_ends

# The start of the comment score(into=) puts on each column it writes; the rest names the model version.
MARK = "ad_duckdb: written by score"

# The Arrow field metadata key on a kept column an earlier scoring wrote, so that the table written marks it again.
CARRIED = b"ad_duckdb.earlier_score"

# The types score(into=) writes, as DESCRIBE spells them with quotes and blanks taken out (see _plain).
_TYPES = {"anomaly_score": "DOUBLE", "anomaly_percentile": "DOUBLE", "is_anomaly": "BOOLEAN",
          "anomaly_explain": "STRUCT(FEATUREVARCHAR,SHAREDOUBLE)[]", "anomaly_imputed": "MAP(VARCHAR,DOUBLE)",
          "anomaly_model": "VARCHAR", "anomaly_mse": "DOUBLE"}


def _plain(sql_type: str) -> str:
    return "".join(sql_type.replace('"', "").split()).upper()


def mark_statements(target_sql: str, columns: Sequence[str], ref: str, flags_at: str = "") -> list[str]:
    """The COMMENT ON COLUMN statements that mark ``columns`` of the table ``target_sql`` as written by scoring;
    ``flags_at``: what the ``is_anomaly`` column's mark adds (``flagcut.mark_text``: the threshold it is at)."""
    def note(c: str) -> str:
        return quote_literal(f"{MARK} with {ref}{flags_at if c.lower() == 'is_anomaly' else ''}; re-scoring "
                             "replaces this column")
    return [f"COMMENT ON COLUMN {target_sql}.{quote_ident(c)} IS {note(c)}" for c in columns]


def _marked(cur: duckdb.DuckDBPyConnection, source: str) -> set[str] | None:
    """The names (lower case) of the marked columns of the table ``source`` names; None if it has none (or is a
    query, a file, a view)."""
    if is_query(source):
        return None
    try:
        tables = named_objects(cur, source_sql(source))
    except duckdb.Error:  # a table function call or a file path: no catalog entry to hold marks
        return None
    rows = cur.execute(
        "SELECT database_name, schema_name, table_name, column_name FROM duckdb_columns() WHERE starts_with(comment, ?)",
        [MARK]).fetchall()
    marked = {c.lower() for d, s, t, c in rows if (d.lower(), s.lower(), t.lower()) in tables}
    return marked or None


def earlier_scores(cur: duckdb.DuckDBPyConnection, source: str, cols: list[tuple[str, str]]) -> set[str]:
    """The columns of ``source`` (``cols``: its names and types, from ``describe``; lower case here) that an earlier
    scoring wrote, and re-scoring may replace."""
    named = {c.lower(): t for c, t in cols if c.lower() in SCORE_COLUMNS}
    if not named:
        return set()
    marked = _marked(cur, source)
    if marked is not None:  # marks say which: a column added under a score name since is the user's
        return set(named) & marked
    trio = ("anomaly_score", "anomaly_percentile", "is_anomaly")
    if not all(n in named and _plain(named[n]) == _TYPES[n] for n in trio):
        return set()
    return {n for n, t in named.items() if _plain(t) == _TYPES[n]}


def _own_columns(source: str, own: list[tuple[str, str]]) -> tuple[str, str]:
    """What ``source`` has of its own under the outputs' names, said; and the query that renames them."""
    listed = " and ".join(f"{n!r} ({t})" for n, t in own)
    new = ", ".join(f"{sql_name(n)} AS {sql_name(_renamed(n))}" for n, _ in own)
    query = is_query(source)
    src = f"({' '.join(strip_sql_ends(source).split())})" if query else strip_sql_ends(source)
    said = (f"{'the query' if query else repr(source)} has {'a column' if len(own) == 1 else 'columns'} {listed} of "
            "its own (not one written by scoring)")
    return said, f"SELECT * RENAME ({new}) FROM {src}"


def _renamed(name: str) -> str:
    """What a column of the user's under an output's name may be called instead."""
    return "label" if name.lower() == "is_anomaly" else f"{name}_own"


def _index_named(source: str, own: list[tuple[str, str]]) -> list[str]:
    """The names of ``own`` that are index levels of the caller's pandas DataFrame ``source`` names alone (kept as
    columns beside the scores, `indexcols`)."""
    from .pysource import named_frame  # not at the top: pysource reads the caller's frames, a concern of its own

    value = named_frame(source)
    if value is None:
        return []
    levels = {str(n) for n in value.index.names if n is not None} - {str(c) for c in value.columns}
    return [n for n, _ in own if n in levels]


def refusal(ref: str, source: str, own: list[tuple[str, str]]) -> BadInputError:
    """The error for scoring that would write its columns under the names of ``own`` (name, type), columns of the
    user's in ``source``."""
    if levels := _index_named(source, own):
        # Why not the query's fix: the frame has no such column for a query to rename (DuckDB reads no index); the
        # level is kept beside the scores under its name, so the error said 'a column of its own' the user could
        # not find in frame.columns
        name = source.strip()
        listed = " and ".join(map(repr, levels))
        mapping = "{" + ", ".join(f"{n!r}: {_renamed(n)!r}" for n in levels) + "}"
        return BadInputError(
            f"Scoring with {ref!r}: the index of {name!r} is named {listed} (kept beside the scores as a column, as "
            "scoring keeps a frame's index), and the scores would be written under that name; scoring never "
            f"replaces a column of yours. Name the index otherwise and score that: {name}_r = "
            f"{name}.rename_axis(index={mapping}), then score '{name}_r'; or keep only other columns beside the "
            "scores (columns=[...])."
        )
    said, renamed = _own_columns(source, own)
    return BadInputError(
        f"Scoring with {ref!r}: {said}, and the scores would be written under that name; scoring never replaces a "
        # quoted as the caller pastes it: a source holding a double quote ("Sales"."Q1 tx") broke out of \"...\"
        f"column of yours. Rename it in a query and score that, e.g. {either(py_text(renamed), shell_word(renamed))}, "
        "or keep only other columns "
        f"beside the scores ({either('columns=[...]', '-c COLUMN')})."
    )


def explained_for_scripts(cur: duckdb.DuckDBPyConnection, source: str, cols: list[tuple[str, str]],
                          out_format: str) -> set[str]:
    """The columns of ``source`` (``cols``, from ``describe``) that ``explain --format csv|json`` leaves out: those an
    earlier scoring wrote (lower case), which the fresh outputs replace; an error for a column of the user's under
    an output's name.

    Why: each row then held two columns of one name, and json's writer called the fresh one ``anomaly_score_1``, so
    a script reading ``anomaly_score`` got the table's stored score (after a retrain, another model's), or a label
    called ``is_anomaly`` in place of the flag."""
    ours = earlier_scores(cur, source, cols)
    # (not the model or mse column: explain writes neither, so a user's own of such a name takes no output's place)
    own = [(c, t) for c, t in cols if c.lower() in (*SCORE_COLUMNS, "anomaly_terms")
           and c.lower() not in (MODEL_COLUMN, "anomaly_mse")
           and c.lower() not in ours]
    if own:
        said, renamed = _own_columns(source, own)
        raise BadInputError(
            f"explain --format {out_format}: {said}, and each row's outputs take that name; rename it in a query and "
            f"explain that, e.g. \"{renamed}\" (the table format, without --format, shows the row as it is).")
    return ours
