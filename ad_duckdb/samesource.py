"""Whether two spellings of a source read the same table: the one a model was trained on, named again for a
threshold or a retrain (``transactions`` and ``main.transactions``; a dbt ``ref()`` renders
``"warehouse"."analytics"."stg_tx"``, and ``ad_duckdb.dbt.train_model`` stores ``select * from`` it)."""

from __future__ import annotations

import re

from .sqltext import name_parts

SELECT_ALL_FROM = re.compile(r'^\s*\(?\s*select\s+\*\s+from\s+((?:"[^"]+"|\w+)(?:\s*\.\s*(?:"[^"]+"|\w+))*)\s*\)?\s*;?\s*$',
                             re.I)


def source_key(source: str) -> tuple[str | None, str, str] | str:
    """What a source reads, for comparing two spellings (``same_source``): a table's (database or None, schema,
    name), lower case, the schema ``main`` when not named (``transactions``, ``main.transactions`` and dbt's
    ``select * from "wh"."main"."transactions"`` are one); else the text itself.

    Why the schema: warehouses hold the same name in several schemas (staging.tx, analytics.tx), and a model trained
    on one was said to have been trained on every row of the other."""
    s = source.strip()
    m = SELECT_ALL_FROM.match(s)
    parts = name_parts(m.group(1) if m else s)
    if parts is None:
        return " ".join(s.lower().split())
    low = [p.lower() for p in parts]
    return (low[0], low[1], low[2]) if len(low) == 3 else (None, *(["main", *low] if len(low) == 1 else low))  # type: ignore[return-value]


def same_source(a: str, b: str) -> bool:
    """Whether sources ``a`` and ``b`` read the same table (a database named in one only is taken as the same)."""
    ka, kb = source_key(a), source_key(b)
    if isinstance(ka, tuple) and isinstance(kb, tuple):
        return ka[1:] == kb[1:] and (ka[0] is None or kb[0] is None or ka[0] == kb[0])
    return ka == kb
