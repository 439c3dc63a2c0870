"""The SQL functions' look at a text argument's values that are not training categories (categorical.to_inputs):
a value that differs from a category only in case or spaces is noted, once per value and query, with the call that
reads it as the category; a column passed in a text feature's place (an id, another column's words) is refused, as
two text features swapped are (categorical.check_text_order).

Why: 'Online ' for 'online' was read as "any other value", so each such row could be flagged, and nothing said why
(``ad-duckdb explain`` and the drift note of ``score`` do, the SQL functions did not). Cheap in the normal case: the
"other" input's sum, which is 0 where every value is a category.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from .arrownumbers import string_array, to_arrow, values_view
from .categorical import MIN_SHARE
from .exceptions import BadInputError
from .sqltext import sql_name

# A text argument whose rows with a value are at most this share training categories (values that differ from one
# only in case or spaces counted as categories) is taken as another column passed in its place when its other values
# are of more kinds than training read in the column and training held no other value (trained_other); fewer kinds
# (a new channel in every row of a WHERE) are scored.
ALMOST_NONE = 0.1
# The distinct values looked at for the note (the most common first): a batch holds at most 2048 rows
LOOKED_AT = 256
# Values named in one note or refusal
SHOWN = 4


def fold(value: str) -> str:
    return value.strip().casefold()


def near(value: str, cats: Sequence[str]) -> str | None:
    """The category ``value`` differs from only in case or spaces; None when none."""
    return _folded(tuple(cats)).get(fold(value))


@functools.lru_cache(maxsize=256)
def _folded(cats: tuple[str, ...]) -> dict[str, str]:
    """Each category by its folded form (the first, most common, where two fold alike). Why kept: a batch of 2048
    rows may hold a few hundred values that are not categories, each looked up."""
    out: dict[str, str] = {}
    for c in cats:
        out.setdefault(fold(c), c)
    return out


def fix_sql(column: str, pairs: Sequence[tuple[str, str]]) -> str | None:
    """The SQL expression that reads each (value, category) of ``pairs`` as its category, over ``column``: trim,
    lower(trim) or upper(trim); None when none does (a category of mixed case)."""
    c = sql_name(column)
    for expr, how in ((f"trim({c})", lambda s: s.strip()), (f"lower(trim({c}))", lambda s: s.strip().lower()),
                      (f"upper(trim({c}))", lambda s: s.strip().upper())):
        if all(how(v) == cat for v, cat in pairs):
            return expr
    return None


def check_values(model: Any, cols: Sequence[Any], encoded: Sequence[np.ndarray], func: str) -> None:
    """For each text argument (``cols``, its 0/1 inputs ``encoded``) with values that are not categories: refuse a
    column passed in its place, else note the values that differ from a category only in case or spaces."""
    import pyarrow.compute as pc

    from .categorical import ORDER_ROWS, _strings

    lay = model.layout
    for k, (c, one) in enumerate(zip(cols, encoded, strict=True)):
        unseen = one[:, -1] > 0
        count = int(np.count_nonzero(unseen))
        if not count:
            continue
        name, cats = lay.text[k]
        arr = _strings(c)
        odd = arr.filter(to_arrow(unseen, pa.bool_()))
        valued = len(arr) - arr.null_count
        # Why in Arrow first: a batch may hold hundreds of values that are not categories (a long tail training read
        # as any other value), and a Python look at each cost a tenth of the SQL functions' time
        lowered = pc.utf8_lower(pc.utf8_trim_whitespace(odd))
        hit = pc.is_in(lowered, value_set=string_array(_lowered(tuple(cats))))
        some_near = pc.any(hit).as_py()
        trained = trained_other(model, name)
        if model.check_order and valued >= ORDER_ROWS and count >= (1 - ALMOST_NONE) * valued \
                and (trained is None or trained < MIN_SHARE):
            counts = pc.value_counts(odd)
            values = [str(v) for v in counts.field("values").to_pylist()]
            n = values_view(counts.field("counts"))
            far = [(v, int(m)) for v, m in zip(values, n, strict=True) if near(v, cats) is None]
            if valued - sum(m for _, m in far) <= ALMOST_NONE * valued:
                far.sort(key=lambda vm: -vm[1])
                if len(far) > len(cats) + 1 and trained == 0:
                    _refuse(model, func, k, [v for v, _ in far], len(far), sum(m for _, m in far) / valued)
                _note_unseen(model, func, k, [v for v, _ in far], sum(m for _, m in far) / valued)
        if some_near:
            held = pc.unique(odd.filter(hit)).to_pylist()
            found = [(str(v), cat) for v in held[:LOOKED_AT] if (cat := near(str(v), cats)) is not None]
            _note_near(model, func, name, found)


def trained_other(model: Any, name: str) -> float | None:
    """The share of the training rows text column ``name`` held a value that is no category in ("any other value":
    the last of the model's SHARES_KEY shares); None for a model stored before those shares were.

    Why it decides: a batch of rows holding almost no category, in many kinds of value, reads as another column passed
    in the column's place only where training held no such value. Where it held a tail of rare values (each under
    MIN_SHARE, up to 10% of the rows together), rows of that tail alone are a WHERE on it, or a table sorted by the
    column (a batch of 2048 rows of its rare values): refusing them failed a query on the training table itself, and
    where training held them in MIN_SHARE of its rows or more, such rows are no outliers to note either."""
    from .categorical import SHARES_KEY

    shares = (model.rec.metrics.get(SHARES_KEY) or {}).get(name)
    return float(shares[-1]) if shares else None


@functools.lru_cache(maxsize=256)
def _lowered(cats: tuple[str, ...]) -> list[str]:
    """The categories as ``check_values`` first compares values with them (Arrow's lower case of the trimmed text)."""
    return sorted({c.strip().lower() for c in cats})


def _refuse(model: Any, func: str, k: int, examples: list[str], kinds: int, share: float) -> None:
    from .argorder import _call, order_check_off
    from .numbertext import share_text

    lay = model.layout
    name, cats = lay.text[k]
    listed = ", ".join(repr(v) for v in cats[:SHOWN]) + (", ..." if len(cats) > SHOWN else "")
    shown = ", ".join(repr(v[:40]) for v in examples[:SHOWN])
    # a BadInputError, as categorical.check_text_order's: a FeatureMismatchError would point to another version
    raise BadInputError(
        f"{func}('{model.ref}', ...): argument {lay.numeric + k + 1}, the model's text column {name!r}, looks like "
        f"another column: {share_text(share)} of its rows with a value hold none of its {len(cats)} training "
        f"categories ({listed}), in {kinds} distinct values ({shown}, ...), more kinds than training read in "
        f"{name!r}, so every such row scores as an outlier. The model's features are, in order: "
        f"({', '.join(sql_name(n) for n in model.feature_names)}). Call {_call(func, model)}. If these rows "
        f"really hold such values in {name!r}, {order_check_off(model)}")


def _note_unseen(model: Any, func: str, k: int, values: list[str], share: float) -> None:
    """Note, once until the registry's next statement, a text argument whose rows hold almost no category in a few
    kinds of value (too few to refuse as another column: a new channel, or a column of a few words in its place)."""
    from .argorder import _call
    from .numbertext import share_text

    lay = model.layout
    name, cats = lay.text[k]
    if (name, "") in model.said:  # "" is never a value read as any other: it is its own key
        return
    model.said.add((name, ""))
    from . import notes

    listed = ", ".join(repr(v) for v in cats[:SHOWN]) + (", ..." if len(cats) > SHOWN else "")
    shown = ", ".join(repr(v[:40]) for v in values[:SHOWN]) + (", ..." if len(values) > SHOWN else "")
    notes.warn(f"{func}('{model.ref}', ...): argument {lay.numeric + k + 1}, the model's text column {name!r}: "
               f"{share_text(share)} of its rows with a value hold none of its training categories ({listed}) but "
               f"{shown}, read as any other value, so these rows score as outliers. If another column is passed in "
               f"its place, call {_call(func, model)}; if {name!r} now holds new values, train on rows that hold them.")


def _note_near(model: Any, func: str, name: str, found: list[tuple[str, str]]) -> None:
    """Note the values of text column ``name`` that differ from a category only in case or spaces, each once until
    the registry's next statement (``LoadedModel.said``)."""
    new = [(v, cat) for v, cat in found if (name, v) not in model.said]
    if not new:
        return
    model.said.update((name, v) for v, _ in new)
    from . import notes

    if len(new) == 1:
        held = f"{new[0][0]!r}, which differs from its training category {new[0][1]!r}"
    else:
        held = ", ".join(f"{v!r} (for {cat!r})" for v, cat in new[:SHOWN]) + (
            f" and {len(new) - SHOWN} more" if len(new) > SHOWN else "") + ", which differ from its training categories"
    fix = fix_sql(name, new)
    if fix is None:
        how = "write them as the categories upstream or in the query"
    else:
        args = ", ".join(fix if n == name else sql_name(n) for n in model.feature_names)
        threshold = ", 'threshold_name'" if func == "is_anomaly_at" else ""
        called = model.ref if model.superseded_by is not None else model.name  # as argorder._call names it
        how = (f"pass {fix} to read {'them as the categories' if len(new) > 1 else 'it as the category'}: "
               f"{func}('{called}'{threshold}, {args})")
    notes.warn(f"{func}('{model.ref}', ...): text column {name!r} holds {held} only in case or spaces; a value is read "
               "as a category only when it is that category exactly, so these rows are read as any other value and may "
               f"score as anomalies: {how}.")
