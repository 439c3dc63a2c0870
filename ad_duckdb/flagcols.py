"""True/False columns of a frame given to the detector: refused by name, with the cast that reads them as 1/0.

Why refused rather than read as 1/0: SQL refuses a BOOLEAN feature (training names it and leaves it out, DuckDB's
binder refuses it as anomaly_score's first argument), so a detector that read True as 1 fitted a model that
``ad_duckdb.train`` on the same frame did not (it left the column out), and whose rows SQL could not score as they
stood. With the cast written out, the same expression fits and scores in both, and the model's features are
numbers wherever it is read."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa


def pandas_flags(X: Any) -> list[tuple[Any, str]]:
    """A pandas DataFrame's True/False columns (numpy bool, nullable ``boolean``, ``bool[pyarrow]``, or an object
    column of Python bools), as (its label, the dtype its cast to 1/0 takes). Why the label, not its text: the
    columns of ``pd.DataFrame(array)`` are labelled 0, 1, 2, and a cast of ``'2'`` is refused by pandas."""
    flags = []
    for c, t in X.dtypes.items():
        if t.kind == "b":
            # a nullable column's missing values need a nullable integer (astype('int8') stops at pd.NA)
            flags.append((c, "int8" if str(t) == "bool" else "Int8"))
        elif t is np.dtype(object):
            kinds = set(X[c].dropna().map(type))
            if kinds and all(issubclass(k, bool) or k.__name__ == "bool_" for k in kinds):
                flags.append((c, "Int8"))
    return flags


def arrow_flags(table: pa.Table) -> list[str]:
    """An Arrow table's bool columns, by name."""
    return [n for n, col in zip(table.column_names, table.columns, strict=True) if pa.types.is_boolean(col.type)]


def flags_refused(what: str, names: Sequence[str], library: str, dtypes: Sequence[str] = (),
                  labels: Sequence[Any] = ()) -> str:
    """The refusal of True/False columns ``names`` in ``library`` ('pandas', 'polars', 'duckdb' or 'arrow', whose
    call reads them as 1/0); ``dtypes``: pandas' integer dtype for each, ``labels`` its column label (by default
    its name)."""
    from .frames import _py
    from .sqltext import quote_ident

    sql = ", ".join(f"{quote_ident(n)}::INTEGER AS {quote_ident(n)}" for n in names)
    if library == "pandas":
        fix = "X.astype({" + ", ".join(f"{n!r}: {t!r}" for n, t in zip(labels or names, dtypes, strict=True)) + "})"
    elif library == "polars":
        fix = "X.with_columns(" + ", ".join(f"pl.col({_py(n)}).cast(pl.Int8)" for n in names) + ")"
    elif library == "duckdb":
        fix = f"X.project({_py(f'* REPLACE ({sql})')})"
    else:  # DuckDB reads an Arrow table (or a dict of columns) by its variable's name
        fix = f"duckdb.sql({_py(f'SELECT * REPLACE ({sql}) FROM X')})"
    listed = ", ".join(repr(n) for n in names)
    return (f"{what}: column(s) {listed} hold True/False, not numbers, which SQL refuses as a feature (a BOOLEAN), "
            f"so the detector does too: read them as 1/0 first, {fix}, and score later rows the same way (in SQL, "
            f"{', '.join(quote_ident(n) + '::INTEGER' for n in names)}).")
