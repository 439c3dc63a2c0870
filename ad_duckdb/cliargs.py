"""Arguments and options several commands share: column lists (-f, -c), values refused when empty, --attach, --time, --weight."""

from __future__ import annotations

import click
import duckdb

from . import interrupts
from .clifail import _failure
from .exceptions import AdDuckDBError
from .sourcedescribe import describe

_ATTACH = click.option(
    "--attach", "attach", multiple=True, metavar="PATH[=ALIAS]",
    help="Also read the tables of this DuckDB file, attached read-only as ALIAS (default: its name up to the first "
         "dot, as DuckDB's ATTACH names it): SOURCE lake.main.tx with --attach path/to/lake.duckdb. Repeatable; "
         "DuckDB files only (a Parquet or CSV file is a source itself).")


def _split(values: tuple[str, ...], con: duckdb.DuckDBPyConnection | None = None, source: str | None = None,
           option: str = "-c") -> list[str] | None:
    """``-f a,b -f c`` as [a, b, c]; commas inside a column name of ``source`` stay (the longest name that matches),
    and so do spaces at its ends (``-f ' Amount'``); others around a name are dropped (``-f 'a, b'``). Values that
    name no column at all (``-f ''``, ``-c ,``) are refused, exit 2: the option ``option``, left empty, read as its
    absence, so a script's unset "$FEATURES" trained on every numeric column (-c: kept every column).

    Why: an export's column "Amount, EUR" could not be named at all (split into 'Amount' and 'EUR'), nor its
    " Amount" (stripped to 'Amount'), though the default-features note suggests ``-f 'Amount, EUR'`` and
    ``-f ' Amount'``.
    """
    known: set[str] = set()
    if con is not None and source is not None and any("," in v or v != v.strip() for v in values):
        cur = interrupts.cursor(con)
        try:
            known = {c.lower() for c, _ in describe(cur, source)}
        except AdDuckDBError:
            pass  # the command reports the source's own error when it reads it
        finally:
            cur.close()
    out = []
    for item in values:
        parts, i = item.split(","), 0
        while i < len(parts):
            j = next((j for j in range(len(parts), i + 1, -1) if ",".join(parts[i:j]).strip().lower() in known), i + 1)
            name = ",".join(parts[i:j])
            out.append(name if name.lower() in known else name.strip())
            i = j
    named = [v for v in out if v]
    if values and not named:
        raise _failure(f"{option} {values[0]!r} names no column: {_NO_NAMES_FIX[option]}.", code=2)
    return named or None


def _refuse_empty(value: str | None, what: str, fix: str) -> None:
    """Refuse, exit 2, an argument or option given as ''. Why: '' read as the option's absence (score --into '' printed
    the rows and wrote no table; --plots '' drew nothing) or, as a path, as the folder '.' (import '' stored every
    .onnx file of the working folder), where a script's unset variable ("$OUT") was given."""
    if value == "":
        raise _failure(f"{what} '' is empty: {fix}.", code=2)


# What an option of column names given only empty ones (-f '') should say instead
_NO_NAMES_FIX = {"-f": "give the feature columns (-f amount -f count), or leave -f out to train on every numeric column "
                       "but the id-like ones",
                 "-c": "give the columns to keep beside the scores (-c transaction_id), or leave -c out to keep them all"}


_TIME = click.option(
    "--time", help="With --plots: the date or timestamp column to draw the scores over time against (default: the "
    "source's one DATE or TIMESTAMP column; with none, or several and no --time, no such plot).")


_WEIGHT = click.option(
    "--weight", help="Column of SOURCE holding each labelled row's sample weight, when the rows are a sample: every "
    "fraud but 1 in 50 normal rows gives those weight 50 (an audit sample: 1 / inclusion probability). A row of weight "
    "w counts as w rows, as scikit-learn's sample_weight; the 95% intervals take Kish's effective sample size of each "
    "class.")
