"""Text (categorical) features: a VARCHAR or ENUM column a model reads as one 0/1 input per category.

The rule (README, "Text columns as features"):

* Categories are chosen from the training rows: the most common values, each held by at least ``MIN_SHARE`` of the
  rows with a value, at most ``MAX_LEVELS`` of them. Every other value, and a value never seen in training, is read
  through one more input, "any other value" (``OTHER``).
* When the categories cover less than ``MIN_COVER`` of the rows with a value (an id, free text, a long tail), the
  column is refused with its distinct count and the fix: group its rare values in a query, or leave it out.
* A NULL is read as the column's most common training value, as a missing number takes a typical value.
* Text features come after the numeric ones, in the model's order and so in every call: DuckDB casts a function's
  first feature argument to DOUBLE (see DESIGN.md), so a text column cannot stand first.

Inside, each category is one model input (a ``FeatureSpec`` of the column's name whose ``transform`` is
``ONEHOT`` and ``category`` its value, or ``OTHER`` for the last one), scaled as it is (0 or 1): the stored feature
list and the ONNX graph hold these inputs, and ``column_names`` folds them back into the column the SQL call
passes. The graph takes the 0/1 inputs; the strings are mapped in the scoring layer (``Layout.encode``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from .exceptions import BadInputError
from .features import SLOT_TYPE, FeatureSpec
from .optionwords import FIT, SURFACE, column_refused, no_value_refused
from .shapley import Players
from .sqltext import quote_ident, quote_literal, source_sql, sql_name, where_sql

ONEHOT = "onehot"
OTHER = "other"
SLOT_TRANSFORMS = (ONEHOT, OTHER)
# Why these: one input per category widens the network; past ~24 the inputs outnumber what a small table's rows
# teach about each, and a column of that many kinds is seldom one a reviewer reads as "a channel" any more.
MAX_LEVELS = 24
MIN_SHARE = 0.01
MIN_COVER = 0.9
# The metric holding each text column's category shares in training (TrainingText.shares), for the drift note
SHARES_KEY = "category_shares"


def is_text_type(sql_type: str) -> bool:
    t = sql_type.strip().upper()
    return t == "VARCHAR" or t.startswith(("ENUM", "VARCHAR(")) or t in ("TEXT", "STRING")


def is_missing(value: Any) -> bool:
    """Whether a Python value stands for NULL as pandas writes it: None, a float NaN, ``pd.NA`` or ``pd.NaT``. Why:
    rows from ``df.to_numpy()`` hold NaN where a text value is missing, which was read as the string 'nan'."""
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return True
    return isinstance(value, float | np.floating) and bool(np.isnan(value))


def is_slot(spec: FeatureSpec) -> bool:
    return spec.transform in SLOT_TRANSFORMS


def column_names(specs: Sequence[FeatureSpec]) -> list[str]:
    """The columns a SQL call passes, in order: each numeric feature, and each text column once for its inputs."""
    out: list[str] = []
    for i, s in enumerate(specs):
        if is_slot(s) and i > 0 and is_slot(specs[i - 1]) and specs[i - 1].name == s.name:
            continue
        out.append(s.name)
    return out


@dataclass(frozen=True)
class Layout:
    """How a model's SQL columns map to its graph inputs: ``numeric`` columns first (input j is column j), then per
    text column its ``categories`` (its inputs, the "other" one last)."""

    numeric: int
    text: tuple[tuple[str, tuple[str, ...]], ...]

    @property
    def width(self) -> int:
        return self.numeric + sum(len(c) + 1 for _, c in self.text)

    def encode(self, col: Any, k: int) -> np.ndarray:
        """Text column ``k``'s Arrow values [n] -> its 0/1 inputs [n, categories + 1]: a category's own input, any
        other value the last, a NULL the most common category's (the first)."""
        import pyarrow.compute as pc  # here: a model of numbers never needs it (see arrownumbers._DECIMAL128_ID)

        from .arrownumbers import string_array, valid_mask, values_view  # here: it imports the store, which imports this

        _, cats = self.text[k]
        arr = _strings(col)
        # Why Arrow's index_in: a Python loop over the values halved the SQL functions' speed (0.21M vs 0.39M rows/s)
        # Why arrownumbers' buffer reads, not pa.array or to_numpy: those import pandas (see arrownumbers)
        found = pc.index_in(arr, value_set=string_array(cats))  # NULL where not a category, or NULL
        codes = np.full(len(arr), len(cats), dtype=np.int64)
        if found.null_count < len(arr):
            hit = valid_mask(found)
            codes[hit] = values_view(found)[hit]
        if arr.null_count:
            codes[~valid_mask(arr)] = 0  # NULL: the most common category
        out = np.zeros((len(arr), len(cats) + 1))
        out[np.arange(len(arr)), codes] = 1.0
        return out

    def rows(self, values: Sequence[Sequence[Any]]) -> np.ndarray:
        """Rows of Python values, one per SQL column (None, NaN or ``pd.NA`` for NULL) -> the graph's inputs (NaN for a
        missing number)."""
        out = np.zeros((len(values), self.width))
        for i, row in enumerate(values):
            for j in range(self.numeric):
                v = row[j]
                try:
                    out[i, j] = np.nan if v is None else float(v)
                except (TypeError, ValueError):
                    out[i, j] = np.nan
            at = self.numeric
            for k, (_, cats) in enumerate(self.text):
                v = row[self.numeric + k]
                out[i, at + (0 if is_missing(v) else cats.index(str(v)) if str(v) in cats else len(cats))] = 1.0
                at += len(cats) + 1
        return out

    def text_index(self, name: str) -> int | None:
        return next((k for k, (n, _) in enumerate(self.text) if n == name), None)

    def value_words(self, k: int, value: Any) -> str:
        """How text column ``k``'s ``value`` was read, for ``ad-duckdb explain``."""
        _, cats = self.text[k]
        listed = ", ".join(repr(c) for c in cats[:6]) + (", ..." if len(cats) > 6 else "")
        if value is None:
            return f"NULL, read as {cats[0]!r}, its most common training value"
        if str(value) in cats:
            return f"{str(value)!r}, one of its {len(cats)} training categories"
        return (f"{str(value)!r}, not one of its {len(cats)} training categories ({listed}): read as any other "
                f"value, which training rows seldom or never held{_near_category(self.text[k][0], str(value), cats)}")

    def odd_text(self, row: Sequence[Any]) -> bool:
        """Whether a row (Python values, one per SQL column) holds a text value that is not a training category."""
        return any(v is not None and str(v) not in cats
                   for v, (_, cats) in zip(row[self.numeric:], self.text, strict=True))

    def expand(self, X: np.ndarray) -> np.ndarray:
        """Rows read with each text column as its category's number (``code_sql``: NaN for NULL, ``len(categories)``
        for any other value) -> the graph's inputs."""
        parts = [X[:, : self.numeric]]
        for k, (_, cats) in enumerate(self.text):
            codes = X[:, self.numeric + k]
            codes = np.where(np.isnan(codes), 0, codes).astype(np.int64)
            one = np.zeros((len(X), len(cats) + 1))
            one[np.arange(len(X)), codes] = 1.0
            parts.append(one)
        return np.concatenate(parts, axis=1)

    def null_entries(self, held: np.ndarray, filled: np.ndarray, text: Sequence[Any], names: Sequence[str]
                     ) -> tuple[np.ndarray, np.ndarray, pa.Array]:
        """``anomaly_imputed``'s entries of a text model: the missing numbers (``held`` of the inputs, their values in
        ``filled``) and each text argument's NULLs (``text``, its column or its NULL mask), keyed ``channel='web'``
        by the category a NULL is read as, with 1.0, that category's input as scored. Why keyed so: the map's
        values are numbers (its type is kept for every model), which cannot hold the category."""
        from .arrownumbers import flags, string_array, valid_mask  # here: see encode

        k = self.numeric
        nulls = [flags(c) if pa.types.is_boolean(c.type) else ~valid_mask(_strings(c)) for c in text]
        held = np.concatenate([held[:, :k], np.column_stack(nulls)], axis=1)
        values = np.concatenate([filled[:, :k], np.ones((len(held), len(text)))], axis=1)
        keys = [*names[:k], *(f"{n}={quote_literal(cats[0])}" for n, cats in self.text)]
        return held, values, string_array(keys)

    def players(self) -> Players:
        """The Shapley players of an explanation: each numeric column, and each text column's inputs as one, absent
        at its first (most common) category, as a NULL is read."""
        groups = list(range(self.numeric))
        base = [np.nan] * self.numeric
        for k, (_, cats) in enumerate(self.text):
            groups += [self.numeric + k] * (len(cats) + 1)
            base += [1.0] + [0.0] * len(cats)
        return Players(groups=np.array(groups), base=np.array(base))


def _near_category(column: str, value: str, cats: Sequence[str]) -> str:
    """For ``explain``: the category ``value`` differs from only in case or spaces, with the query expression that
    reads it as that category; empty when none. Why: a warehouse's 'Web' or 'web ' scored as an outlier, and
    nothing said it was 'web' written otherwise."""
    from .textvalues import fix_sql, near

    cat = near(value, cats)
    if cat is None:
        return ""
    fix = fix_sql(column, [(value, cat)])
    how = (f": score {fix} AS {sql_name(column)} to read it as that category" if fix is not None else
           ": write it as that category upstream or in the query")
    return f"; it differs from {cat!r} only in case or spaces{how}"


def layout(specs: Sequence[FeatureSpec]) -> Layout | None:
    """The layout of a model with text features; None for a model of numbers alone (scored as before)."""
    if not any(is_slot(s) for s in specs):
        return None
    numeric = next(i for i, s in enumerate(specs) if is_slot(s))
    text: list[tuple[str, list[str]]] = []
    for s in specs[numeric:]:
        if not text or text[-1][0] != s.name:
            text.append((s.name, []))
        text[-1][1].append(s.category)  # type: ignore[arg-type]
    return Layout(numeric, tuple((n, tuple(c for c in cats if c is not None)) for n, cats in text))


def text_types(specs: Sequence[FeatureSpec]) -> list[str]:
    """Each text column's SQL type, in the model's order."""
    lay = layout(specs)
    return [] if lay is None else [next(s.sql_type for s in specs if is_slot(s) and s.name == n) for n, _ in lay.text]


def _strings(col: Any) -> pa.Array:
    """A text argument as one plain string array (an ENUM's dictionary decoded; a NULL-typed one as NULL strings)."""
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    if pa.types.is_dictionary(col.type):  # an ENUM
        col = col.dictionary_decode()
    if pa.types.is_null(col.type):
        return pa.nulls(len(col), pa.string())
    if not pa.types.is_string(col.type):  # large_string, string_view
        col = col.cast(pa.string())
    return col


def is_text_arrow(t: pa.DataType) -> bool:
    """Text, or a dictionary of text (an ENUM; a pandas category of strings, whose values Arrow reads large)."""
    if pa.types.is_dictionary(t):
        t = t.value_type
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)


# --- training ---------------------------------------------------------------------------------------------------


def choose_categories(cur: Any, source: str, column: str, where: str | None, *, model: str) -> list[str]:
    """The categories of text ``column`` among the training rows (the module's rule), most common first; refuses a
    column of one value, of none, or of too many."""
    c = quote_ident(column)
    column_rows = f"SELECT {c} AS v FROM {source_sql(source)}{where_sql(where) if where else ''}"
    total, distinct = cur.execute(f"SELECT count(v), count(DISTINCT v) FROM ({column_rows})").fetchone()
    rows = cur.execute(f"SELECT v::VARCHAR, count(*) AS n FROM ({column_rows}) WHERE v IS NOT NULL GROUP BY v "
                       "ORDER BY n DESC, v LIMIT ?", [MAX_LEVELS + 1]).fetchall()
    who, leave_out = column_refused(model, column)
    if not total:
        raise BadInputError(no_value_refused(model, column))
    if distinct == 1:
        raise BadInputError(f"{who}text column {column!r} holds only {rows[0][0]!r} (and NULLs) in the training rows, "
                            f"which tells no row from another; {leave_out}.")
    kept = [str(v) for v, n in rows[:MAX_LEVELS] if n >= MIN_SHARE * total]
    covered = sum(n for v, n in rows[: len(kept)]) / total
    if covered < MIN_COVER:
        top = ", ".join(repr(str(v)[:30]) for v, _ in rows[:3])
        listed = ", ".join(quote_literal(str(v)) for v, _ in rows[:3])
        group = (f"X first, e.g. X[{column!r}] = X[{column!r}].where(X[{column!r}].isin("
                 f"[{', '.join(repr(str(v)) for v, _ in rows[:3])}, ...]), 'other')" if SURFACE.get() == FIT else
                 f"a query and train on that, e.g. SELECT * REPLACE (CASE WHEN {c} IN ({listed}, ...) "
                 f"THEN {c} ELSE 'other' END AS {c}) FROM {source_sql(source)}")
        raise BadInputError(
            f"{who}text column {column!r} has {distinct:,} distinct values in the training rows (such as "
            f"{top}); a text feature keeps at most {MAX_LEVELS} values, each in at least {MIN_SHARE:.0%} of the rows, "
            f"and those must cover {MIN_COVER:.0%} of the rows, but here they cover {covered:.0%}. An id or free text "
            f"tells a model nothing: {leave_out}. For a column of many kinds, group the rare ones in {group}.")
    return kept


def code_sql(column: str, categories: Sequence[str]) -> str:
    """SQL reading text ``column`` as its category's number (0 for the first), ``len(categories)`` for any other value,
    NULL for NULL (read as the first category by ``Layout.expand``)."""
    c = quote_ident(column)
    whens = " ".join(f"WHEN {quote_literal(v)} THEN {i}" for i, v in enumerate(categories))
    return f"CASE WHEN {c} IS NULL THEN NULL ELSE (CASE {c}::VARCHAR {whens} ELSE {len(categories)} END) END"


def coded_source(source: str, where: str | None, text: Sequence[tuple[str, Sequence[str]]]) -> str:
    """A query of the source's training rows with each text column replaced by its category numbers (``code_sql``),
    so that the numeric reading of training (counts, samples, batches) reads them as any other column."""
    repl = ", ".join(f"{code_sql(n, cats)} AS {quote_ident(n)}" for n, cats in text)
    return f"SELECT * REPLACE ({repl}) FROM {source_sql(source)}{where_sql(where) if where else ''}"


def fit_names(names: Sequence[str], types: Sequence[str],
              text: Sequence[tuple[str, Sequence[str]]]) -> tuple[list[str], list[str]]:
    """Names and types for ``AutoEncoderDetector.fit`` of the expanded rows: the numeric ``names`` as they are, then
    one unique name per category input, typed ``SLOT_TYPE`` (fit_specs scales those as they are)."""
    out = list(names)
    for n, cats in text:
        out += [f"{n}={v}" for v in cats] + [f"{n}=(other)"]
    return out, list(types) + [SLOT_TYPE] * (len(out) - len(names))


def slot_spec(name: str, col: np.ndarray, range_quantile: float) -> FeatureSpec:
    """A 0/1 input's constants: read as it is (centre 0, spread 1), its training range the range of its values
    (so a category rarer than ``range_quantile`` lies outside it, as an unseen one does)."""
    return FeatureSpec(name=name, sql_type=SLOT_TYPE, transform="none", fill=0.0, center=0.0, scale=1.0,
                       lo=float(np.quantile(col, range_quantile)), hi=float(np.quantile(col, 1.0 - range_quantile)))


def stored_specs(specs: Sequence[FeatureSpec], numeric: int, text: Sequence[tuple[str, Sequence[str], str]]
                 ) -> list[FeatureSpec]:
    """The fitted specs as stored: each category input named after its column, with its category (``text``: name,
    categories, SQL type per text column)."""
    out = list(specs[:numeric])
    at = numeric
    for n, cats, t in text:
        for i in range(len(cats) + 1):
            s = specs[at + i]
            out.append(FeatureSpec(name=n, sql_type=t, transform=ONEHOT if i < len(cats) else OTHER, fill=s.fill,
                                   center=s.center, scale=s.scale, lo=s.lo, hi=s.hi,
                                   category=cats[i] if i < len(cats) else None))
        at += len(cats) + 1
    return out


def warn_order(model: str, given: Sequence[str], ordered: Sequence[str]) -> None:
    """Note features given with a text column before a numeric one: the order the model takes instead."""
    if [g.lower() for g in given] == [o.lower() for o in ordered]:
        return
    from . import notes

    notes.warn(f"Model {model!r}: text features come after the numeric ones (DuckDB reads a function's first feature "
               f"argument as a number), so the model takes them in this order: anomaly_score('{model}', "
               f"{', '.join(sql_name(n) for n in ordered)}).")


@dataclass(frozen=True)
class TrainingText:
    """The text features of a training: their categories (``layout``), their SQL types, and the query reading the
    training rows with each as its categories' numbers (``source``)."""

    layout: Layout
    types: tuple[str, ...]
    source: str

    def fit_inputs(self, X: np.ndarray, cols: Sequence[tuple[str, str]]) -> tuple[np.ndarray, list[str], list[str]]:
        """The expanded rows, names and types ``AutoEncoderDetector.fit`` trains on."""
        k = self.layout.numeric
        names, types = fit_names([n for n, _ in cols[:k]], [t for _, t in cols[:k]], self.layout.text)
        return self.layout.expand(X), names, types

    def filled_values(self, X: np.ndarray, filled: dict[str, int]) -> dict[str, int]:
        """``fit``'s count of values filled per input -> per column: each text column's NULLs (read as its first
        category) under its own name, where fit saw its 0/1 inputs, which hold no NULL, and counted 0."""
        k = self.layout.numeric
        out = dict(list(filled.items())[:k])
        for j, (n, _) in enumerate(self.layout.text):
            out[n] = int(np.count_nonzero(np.isnan(X[:, k + j])))
        return out

    def shares(self, X: np.ndarray) -> dict[str, list[float]]:
        """Per text column, each category's share of the training rows ``X`` (as ``filled_values`` reads them), then
        any other value's, as scoring reads them (a NULL as the first category): the model's ``SHARES_KEY`` metric."""
        k = self.layout.numeric
        out: dict[str, list[float]] = {}
        for j, (n, cats) in enumerate(self.layout.text):
            codes = np.nan_to_num(X[:, k + j], nan=0.0).astype(np.int64)
            out[n] = [round(float(v), 6) for v in np.bincount(codes, minlength=len(cats) + 1) / max(len(X), 1)]
        return out

    def stored(self, specs: Sequence[FeatureSpec]) -> list[FeatureSpec]:
        return stored_specs(specs, self.layout.numeric,
                            [(n, c, t) for (n, c), t in zip(self.layout.text, self.types, strict=True)])


def training_text(cur: Any, source: str, where: str | None, cols: Sequence[tuple[str, str]], *,
                  model: str) -> TrainingText | None:
    """``TrainingText`` of the chosen feature columns (numeric first, then text: ``featurechoice.choose_columns``); None
    when none is text."""
    from .features import is_numeric_type

    numeric = sum(is_numeric_type(t) for _, t in cols)
    text = [(n, t) for n, t in cols[numeric:]]
    if not text:
        return None
    cats = [(n, tuple(choose_categories(cur, source, n, where, model=model))) for n, _ in text]
    return TrainingText(Layout(numeric, tuple(cats)), tuple(t for _, t in text), coded_source(source, where, cats))


# --- scoring ----------------------------------------------------------------------------------------------------


def read_source(specs: Sequence[FeatureSpec], source: str, where: str | None) -> tuple[str, str | None]:
    """For a numeric read of a model's feature columns (``featureread.feature_batches``: evaluations, threshold
    choices): the source and filter to read, with each text feature as its categories' numbers (``coded_source``;
    ``Layout.expand`` makes the inputs of them); the source and filter as they are for a model of numbers."""
    lay = layout(specs)
    if lay is None:
        return source, where
    return coded_source(source, where, lay.text), None


def inputs(specs: Sequence[FeatureSpec], M: np.ndarray) -> np.ndarray:
    """Rows read through ``read_source`` (one column per feature) -> the graph's inputs."""
    lay = layout(specs)
    return M if lay is None else lay.expand(M)


def to_inputs(cols: Sequence[Any], model: Any, func: str, dtype: Any) -> np.ndarray:
    """A call's argument columns (``arrownumbers.to_matrix``'s, of a model with text features) -> the graph's inputs:
    numeric columns as numbers, each text column as its 0/1 inputs (``Layout.encode``). A text argument where the
    model takes a number, or the reverse, gets the call in the model's order."""
    from .argorder import _call
    from .arrownumbers import _sql_type_name, column_to_numbers

    lay: Layout = model.layout
    names = model.feature_names
    parts: list[np.ndarray] = []
    for i, c in enumerate(cols):
        t = c.type
        text_here = i >= lay.numeric
        if is_text_arrow(t) != text_here and not pa.types.is_null(t):
            want = "text (its categories)" if text_here else "a number"
            if func == "score":
                # Why its own words: score reads the columns by name, so "call columns (x, cat)" in the model's order
                # was no fix; the column's type is
                col = sql_name(names[i])
                fix = (f"SELECT * REPLACE (CAST({col} AS VARCHAR) AS {col}) FROM ..., if its values are the "
                       "categories" if text_here else "SELECT * REPLACE (...) FROM ..., making it the number")
                raise BadInputError(
                    f"Scoring with '{model.ref}': column {names[i]!r} is {_sql_type_name(t)}, but the model takes "
                    f"{want} there (it was trained on {model.rec.source}). Score a query that reads it so: {fix} "
                    "it was trained on.")
            # a BadInputError: a FeatureMismatchError would point to another version taking as many columns
            raise BadInputError(
                f"{func}('{model.ref}', ...): feature argument {i + 1} is {_sql_type_name(t)}, but the model takes "
                f"{want} there ({names[i]!r}). Its numeric features come first, then its text ones: call "
                f"{_call(func, model)}.")
        if text_here:
            parts.append(lay.encode(c, i - lay.numeric))
        else:
            parts.append(column_to_numbers(c, i + 1, model.ref, func, names[i], model.rec.source)[:, None])
    if func != "score":  # score reads the columns by name (no order to get wrong), and its drift note reads values
        if model.check_order:
            check_text_order(model, cols[lay.numeric:], parts[lay.numeric:], func)
        from .textvalues import check_values

        check_values(model, cols[lay.numeric:], parts[lay.numeric:], func)
    with np.errstate(over="ignore"):
        return np.concatenate(parts, axis=1).astype(dtype, copy=False)


# A text argument is checked against the model's other text columns from this many rows with a value (as
# argorder.check_order's 32 scores): fewer say little about which column's values they are
ORDER_ROWS = 32


def check_text_order(model: Any, cols: Sequence[Any], encoded: Sequence[np.ndarray], func: str) -> None:
    """Raise when a call's text argument holds, in most of its rows with a value, the categories of another of the
    model's text columns and not its own: two text arguments given in each other's place.

    Why: both are text, so no type tells them apart (a number where text belongs is refused by type), and every row
    read as "any other value" twice scored as an outlier (a BI query's ``country, channel``: a median of 41 against
    a threshold of 9), unlike numeric arguments, which ``argorder.check_order`` catches by their scores. Cheap in the
    normal case: one sum of the "other" input per text column."""
    import pyarrow.compute as pc

    from .argorder import _call, order_check_off
    from .arrownumbers import flags, string_array  # here: see Layout.encode

    lay: Layout = model.layout
    if len(lay.text) < 2:
        return

    def crossed(k: int, m: int) -> int:
        """The rows of argument ``k`` read as any other value that hold one of column ``m``'s categories (a
        category of both reads as k's own)."""
        theirs = pc.is_in(_strings(cols[k]), value_set=string_array(lay.text[m][1]))
        return int(np.count_nonzero(flags(theirs) & (encoded[k][:, -1] > 0)))

    for k, (c, one) in enumerate(zip(cols, encoded, strict=True)):
        arr = _strings(c)
        valued = len(arr) - arr.null_count
        # a NULL is encoded as the first category: only valued rows can reach the "other" input
        if not valued or 2 * int(one[:, -1].sum()) < valued:
            continue
        for m, (other, cats) in enumerate(lay.text):
            if m == k or 2 * crossed(k, m) < valued:
                continue
            # Why both ways below ORDER_ROWS: a few rows (a drill-down to one row) say little about which column's
            # values they are, unless each argument holds only the other's categories, none of its own
            theirs = _strings(cols[m])
            if valued < ORDER_ROWS and (crossed(k, m) < valued or not len(theirs) - theirs.null_count
                                        or crossed(m, k) < len(theirs) - theirs.null_count):
                continue
            name = lay.text[k][0]
            at = lay.numeric + k + 1
            shown = ", ".join(repr(v) for v in cats[:4]) + (", ..." if len(cats) > 4 else "")
            # a BadInputError, as in to_inputs: a FeatureMismatchError would point to another version
            raise BadInputError(
                f"{func}('{model.ref}', ...): the arguments look out of order: argument {at}, the model's text column "
                f"{name!r}, holds in {'most rows' if valued >= ORDER_ROWS else 'each row'} values of its text column "
                f"{other!r} ({shown}), none of them a training "
                f"category of {name!r}, so every such row scores as an outlier. The model's features are, in order: "
                f"({', '.join(sql_name(n) for n in model.feature_names)}). Call {_call(func, model)}. If these rows "
                f"really hold such values in {name!r}, {order_check_off(model)}")
