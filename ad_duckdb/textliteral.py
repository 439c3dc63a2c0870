"""A filter comparing a text column with a number: which column is text, and the filter with the value quoted.

Why: the README's `--where "transaction_id = 42"` on a warehouse whose ids are text ('TX00000042') got DuckDB's
"Could not convert string 'TX00000000' to INT32 when casting from source column Transaction_ID" alone, which names
neither the fix nor that the column, not the number, is what DuckDB tried to convert.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_CAST = re.compile(r"Could not convert string '.*?' to \w+ when casting from source column (\S+)")


def quote_fix(message: str, where: str, columns: Sequence[tuple[str, str]]) -> str:
    """" COL is text (VARCHAR): ..." with ``where`` given its number in quotes, where DuckDB's ``message`` says it
    could not read a text column of ``columns`` (name, type) as a number; else ""."""
    m = _CAST.search(message)
    if not m:
        return ""
    said = m.group(1).strip('"').rstrip(".")
    col = next((c for c, t in columns if c.lower() == said.lower() and t.upper().startswith("VARCHAR")), None)
    if col is None:
        return ""
    number = re.compile(rf'(\b{re.escape(col)}\b"?\s*(?:=|<>|!=|<=|>=|<|>)\s*)(-?\d+(?:\.\d+)?)\b', re.IGNORECASE)
    fixed = number.sub(lambda g: f"{g[1]}'{g[2]}'", where, count=1)
    how = f'--where "{fixed}"' if fixed != where else f"{col} = '42'"
    return f" {col} is text (VARCHAR): compare it with text, its value in quotes: {how}."
