"""``AutoEncoderDetector.fit`` of a frame with text columns (a channel, a country): trained as ``ad_duckdb.train``
trains them (categorical.py), in an in-memory DuckDB, and loaded back as ``from_store`` loads a stored text model.

Why through train: the text columns' categories, their inputs and the model's column order are train's rule (the
most common values, the rare ones as "any other value", numeric columns first), and a detector that picked them
otherwise (``pd.get_dummies``, which the refusal advised) scored a layout no stored model reads: a model loaded
``from_store`` and fitted again on the same frame refused its own text columns."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from .categorical import is_text_arrow
from .exceptions import BadInputError
from .features import check_row_count
from .modelnames import valid_name
from .optionwords import FIT, SURFACE, no_value_refused

# the table the rows are trained from, in the in-memory database (its name shows in train's notes)
_TABLE = "fit_rows"
_MODEL = "model"


def text_columns(frame: Any) -> tuple[pa.Table, list[str]] | None:
    """``frame`` (a pandas DataFrame or an Arrow table) as an Arrow table and its text columns, when it has some that
    are words rather than numbers written as text (those keep their own hint, the call reading them as numbers);
    None otherwise, or when Arrow cannot read the frame (its own refusal then says why)."""
    from .textnumbers import written_in

    if isinstance(frame, pa.Table):
        table = frame
    else:
        try:
            table = pa.Table.from_pandas(frame, preserve_index=False)
        except (pa.ArrowException, TypeError, ValueError):
            return None
    text = [n for n, t in zip(table.column_names, table.schema.types, strict=True) if is_text_arrow(t)]
    if any(n not in text and not _number(t) for n, t in zip(table.column_names, table.schema.types, strict=True)):
        return None  # a date, a flag: refused with their fixes, the text ones said to need none (frames.text_kept)
    for n in text:
        col = table.column(n).slice(0, 10_000)
        if pa.types.is_dictionary(col.type):
            col = col.cast(col.type.value_type)
        values = [v for v in col.to_pylist() if v is not None]
        if values and written_in(values)[0] >= 0.5:
            return None
    return (table, text) if text else None


def refuse_empty(frame: Any) -> None:
    """Refuse a column of ``frame`` (pandas or Arrow) that holds no value at all: Arrow's null type, pandas' object
    column of None (a query's NULL VARCHAR read by ``.df()``), a category of numbers with every value missing. Why
    here, before the text and numeric paths: the numeric one read it as NaN ("no finite value (all NaN or
    infinite)", of a column that never held a number), and train, given it as a table, as SQL type NULL ("not
    numeric", with a CAST to write)."""
    if isinstance(frame, pa.Table):
        empty = [n for n, t in zip(frame.column_names, frame.schema.types, strict=True) if pa.types.is_null(t)]
        # Why apart: a category of numbers is read as its numbers, and said as one ("no finite value (all NaN or
        # infinite)"), of a category column that holds no value at all
        categories = [n for n, col in zip(frame.column_names, frame.columns, strict=True)
                      if pa.types.is_dictionary(col.type) and _number(col.type) and len(col) and col.null_count == len(col)]
    else:
        empty = [str(c) for c, t in frame.dtypes.items()
                 if t == object and len(frame) and bool(frame[c].isna().all())]  # noqa: E721  (numpy's object dtype)
        categories = [str(c) for c, t in frame.dtypes.items()
                      if str(t) == "category" and t.categories.dtype.kind in "biuf" and len(frame)
                      and bool(frame[c].isna().all())]
    for names, kind in ((empty, "column"), (categories, "category column")):
        if names:
            said_as_fit = SURFACE.set(FIT)
            try:
                raise BadInputError(no_value_refused("", names[0], kind))
            finally:
                SURFACE.reset(said_as_fit)


def _number(t: pa.DataType) -> bool:
    if pa.types.is_dictionary(t):  # a pandas category of numbers
        t = t.value_type
    return pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t) or pa.types.is_null(t)


def fit_text(det: Any, table: pa.Table, text: list[str], feature_names: Any, model_name: str,
             score_training_rows: bool) -> Any:
    """Fit ``det`` on ``table`` through ``ad_duckdb.train`` (its numeric columns first, then its ``text`` ones) and
    give it the stored model's state, as ``from_store`` would, with no stored reference."""
    import duckdb

    from .fromstore import stored_state
    from .training import train

    if feature_names is not None:  # the frame's columns renamed, as fit's feature_names= names them
        if len(feature_names) != table.num_columns:
            raise BadInputError(f"AutoEncoderDetector.fit: feature_names= has {len(feature_names)} name(s) for X's "
                                f"{table.num_columns} column(s); give one per column, in X's order.")
        at = [table.column_names.index(n) for n in text]
        table = table.rename_columns([str(n) for n in feature_names])
        text = [table.column_names[i] for i in at]
    names = [str(n) for n in table.column_names]
    ordered = [n for n in names if n not in text] + [n for n in names if n in text]
    # said of X here: train would name its table (fit_rows) and its features= and where=, which fit has none of
    check_row_count(table.num_rows, model_name, None)
    if len(text) == len(names):
        raise BadInputError(
            f"AutoEncoderDetector.fit: X's columns are all text ({', '.join(map(repr, text))}); a model needs at "
            "least one numeric column beside them (a stored model's SQL functions read the first feature as a "
            "number): add one, such as an amount or a count.")
    con = duckdb.connect()
    try:
        con.register("rows_in", table)
        con.execute("CREATE TABLE fit_rows AS SELECT * FROM rows_in")  # _TABLE
        con.unregister("rows_in")
        # a name for the in-memory store only: fit's model_name names nothing stored (a numeric fit takes any)
        stored = model_name if valid_name(model_name) else _MODEL
        said_as_fit = SURFACE.set(FIT)  # train's refusals of a text column said of X (optionwords.column_refused)
        try:
            train(con, stored, _TABLE, features=ordered, **det.params)
        finally:
            SURFACE.reset(said_as_fit)
        _, state = stored_state(con, stored)
    finally:
        con.close()
    for name in ("_scorer", "_flag_share", "threshold_name_", "graph_", "history_"):
        det.__dict__.pop(name, None)
    det.__dict__.update(state)
    det.stored_ref_ = None
    det.history_ = dict(state["_record"].metrics)  # what fit's history_ holds, as train stores it
    if score_training_rows:
        det.decision_scores_ = det.decision_function(table)
        det.threshold_ = float(np.quantile(det.decision_scores_, 1.0 - det.train_params_.contamination))
        det.labels_ = (det.decision_scores_ > det.threshold_).astype(np.int64)
    else:
        for name in ("decision_scores_", "threshold_", "labels_"):
            det.__dict__.pop(name, None)
    return det
