"""The note on an integer feature that looks like a category code (``type_code`` 10, 20, 30, ...): the model reads it
as a number. Never imports torch.

Why: codes that name kinds (a payment type, a channel, a status) have no order, but as one number code 30 lies
between 20 and 40, and a row is judged beside the rows of nearby codes. On a table whose amounts depend on
``type_code`` (six codes), the 100 rows planted with another type's amount were 22 of the 100 highest scores with the
code as a number, and 62 with one 0/1 column per code; training had said nothing.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence

import numpy as np

from . import notes
from .features import is_integer_type
from .optionwords import either
from .sqltext import sql_name

# Words of a column name that say its integers name kinds rather than measure something
_CODE_WORDS = frozenset({"code", "codes", "type", "kind", "category", "status", "segment", "channel", "country",
                         "region"})
# Words that make the name a measure of codes (status_changes, channel_count, num_types): no note, whatever code
# word the name also holds
_MEASURE_WORDS = frozenset({"count", "counts", "cnt", "num", "number", "nb", "n", "total", "qty", "quantity", "changes",
                            "changed", "age", "days", "hours", "size", "length", "amount", "rate", "ratio", "share",
                            "pct", "percent", "score", "level", "grade", "rank"})
# From 3 codes (a 0/1 column is its own one-hot) up to this many, one 0/1 column per code is a workable query
MAX_CODES = 30
# Codes written out in the note's query; past this, the first ones and how many more
_SHOWN = 8


def _words(name: str) -> set[str]:
    """The lower-case words of a column name: ``Payment Type``, ``payment_type`` and ``paymentType`` alike."""
    return {w.lower() for w in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])", name)}


def code_like(name: str, sql_type: str, values: np.ndarray) -> list[int] | None:
    """The distinct codes of an integer column named like a category code (not like a measure of them:
    ``status_changes``) with 3 to MAX_CODES of them, or None."""
    words = _words(name)
    if not is_integer_type(sql_type) or not (words & _CODE_WORDS) or words & _MEASURE_WORDS:
        return None
    given = values[np.isfinite(values)]
    codes = np.unique(given)
    if not 3 <= len(codes) <= MAX_CODES:
        return None
    return [int(c) for c in codes]


def one_hot_sql(name: str, codes: Sequence[int]) -> str:
    """``(type_code = 10)::INTEGER AS type_code_10, ...``: one 0/1 column per code (the first _SHOWN of them)."""
    cols = [f"({sql_name(name)} = {c})::INTEGER AS {sql_name(f'{name}_{c}')}" for c in codes[:_SHOWN]]
    more = len(codes) - _SHOWN
    return ", ".join(cols) + (f", ... ({more} more codes)" if more > 0 else "")


def warn_category_codes(model: str, features: Sequence[str], types: Mapping[str, str], X: np.ndarray,
                        source_item: str) -> None:
    """Note the ``features`` (columns of ``X``, SQL ``types``) that look like category codes, with the query that
    gives one 0/1 column per code. ``source_item``: the source as a FROM item."""
    found = [(c, codes) for j, c in enumerate(features)
             if (codes := code_like(c, types.get(c, ""), np.asarray(X[:, j], dtype=np.float64))) is not None]
    if not found:
        return
    col, codes = found[0]
    also = f" (so do {', '.join(repr(c) for c, _ in found[1:])})" if len(found) > 1 else ""
    others = [c for c in features if c not in {c for c, _ in found}]
    keep = " ".join(f"-f {shlex.quote(c)}" for c in others)
    notes.warn(
        f"Model {model!r}: column {col!r} looks like a category code{also} (an integer named so, {len(codes)} "
        f"distinct values: {', '.join(map(str, codes[:_SHOWN]))}{', ...' if len(codes) > _SHOWN else ''}), and the "
        f"model reads it as a number: code {codes[1]} lies between {codes[0]} and {codes[2]}, and a row is judged "
        "beside the rows of nearby codes. If its codes name kinds (a type, a channel, a status), train on one 0/1 "
        f"column per code instead, and score with the same query: SELECT *, {one_hot_sql(col, codes)} FROM "
        f"{source_item}, with its 0/1 columns as features in place of {sql_name(col)}"
        + (either(".", f" ({keep} and -f for each).") if keep else ".")
        + " If its codes are ordered (a level, a grade), this note does not apply."
    )
