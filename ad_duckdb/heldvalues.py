"""A ``--replace-where`` condition that a row the ``--into`` table holds cannot be converted for: the column, the
value and a condition that reads every held row.

Why: the check before the scoring evaluates the condition on the table's first rows only (a full scan of a large
history table per run would cost more than the run), so a text column whose later row holds 'n/a' passed it, and
the DELETE of the held rows failed with DuckDB's words alone ("Conversion Error: invalid date field format: "n/a"
... LINE 1: DELETE FROM "hist" WHERE ..."), naming neither the table's row nor what to write instead.
"""

from __future__ import annotations

import re
from typing import Any

from .optionwords import opt
from .sqltext import shown_table

# DuckDB's words for the column a value was cast from, the value, and the type it was cast to
_COLUMN = re.compile(r'when casting from source column ("(?:[^"]|"")+"|\S+)')
_STRING = re.compile(r"""Could not convert string '((?:[^']|'')*)' to (\w+)""")
_FIELD = re.compile(r"""invalid (date|timestamp|time) field format: "([^"]*)\"""", re.I)
# DuckDB's internal names in "to INT32" for the SQL type to cast to
_SQL_TYPE = {"INT8": "TINYINT", "INT16": "SMALLINT", "INT32": "INTEGER", "INT64": "BIGINT", "INT128": "HUGEINT",
             "UINT8": "UTINYINT", "UINT16": "USMALLINT", "UINT32": "UINTEGER", "UINT64": "UBIGINT", "BOOL": "BOOLEAN"}


def _held(said: str) -> tuple[str, str, str] | None:
    """(column, value, SQL type) of DuckDB's conversion error ``said``; None where it names no column."""
    column = _COLUMN.search(said)
    if column is None:
        return None
    name = column.group(1)
    if (m := _STRING.search(said)) is not None:
        return name, m.group(1).replace("''", "'"), _SQL_TYPE.get(m.group(2).upper(), m.group(2).upper())
    if (m := _FIELD.search(said)) is not None:
        return name, m.group(2), m.group(1).upper()
    return None


def types(cur: Any, target: str) -> dict[str, str]:
    """The column types of ``target`` (a table as SQL names it), by name. Why read ahead of the statement: a failed
    statement aborts the run's transaction, which then answers no query."""
    return {str(d[0]): str(d[1]) for d in cur.execute(f"SELECT * FROM {target} LIMIT 0").description or []}


def message(who: str, into: str, condition: str, e: BaseException, types: dict[str, str]) -> str | None:
    """The error for ``condition`` meeting a held value of ``into`` it cannot convert (``e``), None where DuckDB's
    words name no column (a constant that is no value, DATE ''); ``types``: the table's column types (``types``)."""
    said = " ".join(str(e).split("LINE 1:")[0].split())
    held = _held(said)
    if held is None:
        return None
    table = shown_table(into)
    column, value, to = held
    bare = column.strip('"').replace('""', '"')
    has = types.get(bare)
    # the column, not inside a quoted constant nor as part of another name, read through TRY_CAST
    word = re.compile(rf"(?<![\w.'\"]){re.escape(column)}(?![\w'\"])")
    tried = word.sub(lambda _m: f"TRY_CAST({column} AS {to})", condition)
    fix = f'write "{tried}" (a held value that does not convert is then not selected)'
    if has is not None and has.upper() == "VARCHAR":
        as_text = re.sub(rf"\b{re.escape(to)}\s+('(?:[^']|'')*')", r"\1", condition, flags=re.I)
        if as_text != condition:
            fix += f', or compare as text, "{as_text}"'
    return (f"{who}: {opt('replace_where', condition)} cannot be evaluated on every row {table} "
            f"holds: its column {bare} ({has or 'its type'}) holds {value!r}, which does not convert to {to} ({said}); "
            f"{table} was left as it was (no row deleted or added). To replace the rows the condition means, {fix}; "
            "or correct the held value.")
