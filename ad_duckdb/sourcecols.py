"""A source's columns for a model's features: found by name (DuckDB's case rule), and refused when missing or held
as text, with the query that fixes it."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable
from typing import Any

from . import categorical
from .exceptions import BadInputError, SourceNotFoundError
from .featurechoice import text_values
from .features import is_numeric_type
from .filecols import later_column_fix, warn_cast_columns
from .namelists import listing
from .numberhints import _from_item, as_number_hint, as_number_query
from .scoring import LoadedModel
from .sourcedescribe import describe
from .sqltext import is_query, quote_ident, source_sql, sql_name, sql_names, strip_sql_ends
from .store import ModelRecord
from .textnumbers import _numbers_as_text, header_again, text_as_number, text_number_hint, written_words


def source_features(cur: Any, model: LoadedModel | ModelRecord, source: str) -> list[str]:
    """The source's names of the model's features; a missing column, or one the source holds as text, is refused
    with the query that fixes it (what ``score`` checks, for callers that score through the SQL functions)."""
    cols = describe(cur, source, model.ref)
    feats = feature_columns(cols, model, source, cur)
    check_text_features(cur, cols, feats, model, source)
    return feats


def check_unique_names(cur: Any, source: str, described: list[tuple[str, str]], model: str) -> None:
    """Refuse a query whose result names two columns alike (DuckDB's names ignore case).

    Why: wrapped as a subquery, DuckDB renames the second 'count' to 'count_1', so features=['count'] took the first
    of the two unasked, and a model took a 'count_1' the query never wrote. A view renames at its creation, where
    ``DESCRIBE`` shows the new names, so only a query is checked.
    """
    if not is_query(source):
        return
    source_sql(source)  # one SELECT, refused otherwise: binding it below then runs nothing
    try:
        raw = [str(c) for c in cur.sql(strip_sql_ends(source)).columns]
    except Exception:  # not DESCRIBE-able on its own: the wrapped read already worked, nothing to compare
        return
    if len(raw) != len(described):
        return
    seen: dict[str, list[int]] = {}
    for i, name in enumerate(raw):
        seen.setdefault(name.lower(), []).append(i)
    for places in seen.values():
        if len(places) > 1:
            name = raw[places[0]]
            renamed = ", ".join(repr(described[i][0]) for i in places)
            raise BadInputError(
                f"Model {model!r}: the query {source!r} has {len(places)} columns named {name!r} (DuckDB names them "
                f"{renamed} outside it), so which one a feature means is not clear. Give each its own name with AS in "
                f"the query, e.g. SELECT ..., x AS {name}_2, and name the features by those.")


def _refuse_lookalikes(lm: Any, source: str, cols: list[tuple[str, Any]], missing: list[str],
                       key: Callable[[str], str], how: str, other_fix: str) -> None:
    """Refuse a source whose columns are the missing features' names under ``key`` (another Unicode form, spaces),
    naming them and the query that renames them."""
    by_key = {key(c): c for c, _ in cols}
    found = [(by_key[key(f)], f) for f in missing if key(f) in by_key]
    if found:
        made = ", ".join(f"{quote_ident(c)} AS {quote_ident(f)}" for c, f in found)
        raise SourceNotFoundError(
            f"Model {lm.ref!r} needs columns {lm.feature_names}, but {source!r} has "
            f"{', '.join(repr(c) for c, _ in found)} {how}. Score a query that renames them: "
            f"SELECT *, {made} FROM ..., or {other_fix}."
        )


def feature_columns(cols: list[tuple[str, str]], lm: LoadedModel | ModelRecord, source: str,
                    cur: Any = None) -> list[str]:
    """The source's names of the model's features (``cols``: the source's columns, from ``describe``; ``cur``: to
    look for them in a glob's later files)."""
    by_lower = {c.lower(): c for c, _ in cols}
    missing = [f for f in lm.feature_names if f.lower() not in by_lower]
    if missing:
        # The same letters in another Unicode form (a decomposed 'Ä', as some macOS files write it) are another
        # identifier to DuckDB; shown side by side, the two names looked alike and the message read as nonsense.
        _refuse_lookalikes(lm, source, cols, missing, lambda n: unicodedata.normalize("NFC", n).lower(),
                           "written in another Unicode form (the same letters, other code points), which DuckDB "
                           "takes for another name",
                           "normalise the names first (df.columns = [unicodedata.normalize('NFC', c) for c in "
                           "df.columns])")
        # A CSV header 'id, Count, Amount' read by pandas without skipinitialspace names the columns ' Count' and
        # ' Amount'; listed bare, the spaces were invisible and the message read as if the columns were there.
        _refuse_lookalikes(lm, source, [(c, t) for c, t in cols if c != c.strip()], missing,
                           lambda n: n.strip().lower(),
                           "with spaces around the name (a CSV header 'a, b' read by pd.read_csv keeps the space after "
                           "each comma)",
                           "read the file with pd.read_csv(..., skipinitialspace=True) (or df.columns = "
                           "df.columns.str.strip())")
        trained_on = (lm if isinstance(lm, ModelRecord) else lm.rec).source
        # A model trained on a query (0/1 columns of a category, a cast) needs those columns made the same way.
        shown = sql_name(missing[0])
        rename = f"them in a query: SELECT x AS {shown}, ..."
        fix = (f"The model was trained on {trained_on}: score a query that makes them the same way, or rename {rename}"
               if trained_on and is_query(trained_on) and trained_on != source
               else _trained_source_fix(cur, lm if isinstance(lm, ModelRecord) else lm.rec, source, missing, rename)
               or f"Rename {rename}")
        fix = later_column_fix(cur, source, missing).strip() or fix
        close = _close_columns(missing, [c for c, _ in cols if c.lower() not in {f.lower() for f in lm.feature_names}])
        if close:
            # Why first: a feature renamed upstream (distinct_cards became unique_cards) is the commonest cause,
            # and "SELECT x AS unique_cards" left the user to find which of the source's columns x is
            theirs, ours = ", ".join(repr(c) for c, _ in close), ", ".join(repr(f) for _, f in close)
            renames = ", ".join(f"{sql_name(c)} AS {sql_name(f)}" for c, f in close)
            src = f"({' '.join(strip_sql_ends(source).split())})" if is_query(source) else source.strip()
            # the bare "Rename them in a query: SELECT x AS ..." says nothing more once each missing one has its rename
            rest = "" if len(close) == len(missing) and fix == f"Rename {rename}" else f" {fix}"
            fix = (f"{source!r} has {theirs}, close to {ours} (renamed upstream?): score SELECT * RENAME ({renames}) "
                   f"FROM {src}.{rest}")
        raise SourceNotFoundError(
            f"Model {lm.ref!r} needs columns {lm.feature_names}, but {source!r} lacks {missing} "
            f"(its columns: {sql_names(c for c, _ in cols)}). {fix}"
        )
    feats = [by_lower[f.lower()] for f in lm.feature_names]
    if cur is not None:
        # Why at scoring too: a glob whose newer file holds a feature as DOUBLE where the first file has BIGINT is
        # read with that file's 0.05 as 0, and its rows were scored on the changed values without a word (training
        # on the same glob said so)
        warn_cast_columns(cur, source, feats, model=lm.ref)
    return feats


def _close_columns(missing: list[str], spare: list[str]) -> list[tuple[str, str]]:
    """(source column, feature) for each ``missing`` feature with a close name among the ``spare`` columns (those no
    feature reads), each column offered once: difflib's ratio of 0.6 or more, or a shared word of 4 letters or more
    ('distinct_cards' for 'unique_cards', whose ratio is 0.54; not 'merchant_id' for 'transaction_id')."""
    def words(n: str) -> set[str]:
        return {w for w in re.split(r"[^0-9a-z]+", n.lower()) if len(w) >= 4}

    out: list[tuple[str, str]] = []
    for f in missing:
        scored = [(difflib.SequenceMatcher(None, f.lower(), c.lower()).ratio(), c) for c in spare
                  if c not in {o for o, _ in out}]
        near = [(r, c) for r, c in scored if r >= 0.6 or words(f) & words(c)]
        if near:
            out.append((max(near)[1], f))
    return out


def _trained_source_fix(cur: Any, rec: ModelRecord, source: str, missing: list[str], rename: str) -> str:
    """The fix when the table or view ``rec`` was trained on holds the ``missing`` columns: score it (a query of its
    rows); empty otherwise.

    Why: a view of window features (lag(), a rolling mean) over a Parquet file per day, scored on one day's file,
    was told to rename the file's columns, which hold no such values; the view computes them, from the rows
    before too."""
    trained_on = rec.metrics.get("train_source")  # rec.source is shown with its filter: "temps WHERE ts < ..."
    if cur is None or not isinstance(trained_on, str) or not trained_on or trained_on == source:
        return ""
    try:
        has = {c.lower() for c, _ in describe(cur, trained_on)}
    except Exception:  # gone, renamed, or in a file not attached now: nothing to point to
        return ""
    if not all(m.lower() in has for m in missing):
        return ""
    return (f"The model was trained on {trained_on}, which has them: score it, or a query of its rows, e.g. "
            f"SELECT * FROM {_from_item(trained_on)} WHERE ..., so that the rows get those columns as training's did; "
            f"or, where {source!r} holds them under other names, rename {rename}")


def check_text_features(cur: Any, cols: list[tuple[str, str]], feats: list[str], lm: LoadedModel | ModelRecord,
                        source: str) -> None:
    """Refuse a feature column the source holds as text, naming it and the query that reads it as numbers.

    Why here: scoring would stop on the first batch with "feature argument 2 is VARCHAR", naming neither the column
    nor a cast that works on a CSV column with "N/A" or "1,234.50" in it (CAST fails on those).
    """
    types = {c.lower(): t for c, t in cols}
    lay = categorical.layout((lm if isinstance(lm, ModelRecord) else lm.rec).features)
    for i, (f, c) in enumerate(zip(lm.feature_names, feats, strict=True)):
        if lay is not None and i >= lay.numeric:  # a text feature (categorical.py): its words are what it takes
            continue
        query = as_number_query(c, types[c.lower()], source)
        if query:  # a BOOLEAN or date column (trained on as a number through such a query): not "pass the columns
            # in the model's order", which is what the SQL functions' error would say
            trained_on = (lm if isinstance(lm, ModelRecord) else lm.rec).source
            # the expression is the training query's: a date read as epoch seconds by a model of days of the week
            # scored every row as far outside its training range
            how = (f"The model was trained on {trained_on}. Score a query that turns it into a number as that one does"
                   if trained_on and is_query(trained_on) and trained_on != source
                   else "Score a query that turns it into a number")
            raise BadInputError(
                f"Scoring with {lm.ref!r}: column {c!r} of {source!r} is {types[c.lower()]}, and feature {f!r} takes "
                f"numbers. {how}, e.g. {query}."
            )
        if types[c.lower()].upper() != "VARCHAR":
            _refuse_other_type(c, types[c.lower()], f, lm, source)
            continue
        hint = text_number_hint(cur, source, c)
        words = None if hint else text_values(cur, source, c)
        if words:
            # TRY_CAST would turn every word into NULL, and the rows would be scored on filled-in values
            trained_on = (lm if isinstance(lm, ModelRecord) else lm.rec).source
            some = ", ".join(repr(v[:40]) for v, _ in words[:3]) + (", ..." if len(words) > 3 else "")
            raise BadInputError(
                f"Scoring with {lm.ref!r}: column {c!r} of {source!r} holds words ({some}), and feature {f!r} takes "
                f"numbers. Score a query that makes {f!r} the number the model was trained on"
                + (f" (it was trained on {trained_on})." if trained_on else ".")
            )
        if not hint and _empty(cur, source, c):
            # A feed that lost a column writes it empty in every row, which DuckDB types VARCHAR: "is VARCHAR" alone
            # read as if the file held text there.
            raise BadInputError(
                f"Scoring with {lm.ref!r}: column {c!r} of {source!r} holds no value in any row (every one empty or "
                f"NULL, which DuckDB reads as VARCHAR), and feature {f!r} takes numbers. To score the rows on their "
                f"other features, {f!r} missing, read it as a number in a query: SELECT * REPLACE "
                f"({text_as_number(c, None)} AS {quote_ident(c)}) FROM ..."
            )
        if hint:
            # the header's line read as numbers would be a row of NULLs, scored on filled-in values and written
            header = header_again(cur, source, [n for n, t in cols if t.upper() == "VARCHAR"])
            if header:
                raise BadInputError(f"Scoring with {lm.ref!r}: column {c!r} of {source!r} is VARCHAR: {header}")
            _all_text_numbers(cur, [x for x in feats if types[x.lower()].upper() == "VARCHAR"], lm, source)
        raise BadInputError(
            f"Scoring with {lm.ref!r}: column {c!r} of {source!r} is VARCHAR, and feature {f!r} takes numbers"
            + (f"; {hint}." if hint else f". Read it as a number in a query: SELECT * REPLACE ({text_as_number(c, None)} "
                                        f"AS {quote_ident(c)}) FROM ...")
        )


# Types scoring reads as numbers though DESCRIBE does not call them numeric
_READ_AS_NUMBERS = ("BIGNUM", "VARINT", '"NULL"', "NULL")


def _refuse_other_type(column: str, sql_type: str, feature: str, lm: LoadedModel | ModelRecord, source: str) -> None:
    """Refuse a feature column of a type scoring cannot read as numbers (BIT, BLOB, a list, a struct, UUID ...),
    naming it with the expression that turns it into one. Why: scoring stopped on the first batch with "feature
    argument 2 is BIT", its fix written for a placeholder `col`, naming neither the column nor its feature."""
    if is_numeric_type(sql_type) or sql_type.upper() in _READ_AS_NUMBERS:
        return
    raise BadInputError(
        f"Scoring with {lm.ref!r}: column {column!r} of {source!r} is {sql_type}, and feature {feature!r} takes "
        f"numbers. Score a query that turns it into a number: {as_number_hint(quote_ident(column), sql_type)}."
    )


def _all_text_numbers(cur: Any, text: list[str], lm: LoadedModel | ModelRecord, source: str) -> None:
    """Refuse several feature columns of numbers held as text (an export's decimal-comma amounts) in one error, with
    one query that reads them all, each as its values are written. Why: the error named the first with a query
    reading it alone, and the next run stopped on the second."""
    read = _numbers_as_text(cur, source, text, None)
    numbers = [c for c in text if c in read and read[c][0] >= 0.5]
    if len(numbers) < 2:
        return

    def holds(c: str) -> str:
        odd, style = read[c][1], read[c][2]
        said = "all numbers" if odd is None else f"numbers apart from a few such as {odd!r}"
        return f"{c!r}: {said}{f', {written_words(style)}' if style is not None else ''}"

    exprs = ", ".join(f"{text_as_number(c, read[c][2])} AS {quote_ident(c)}" for c in numbers)
    raise BadInputError(
        f"Scoring with {lm.ref!r}: columns {listing([repr(c) for c in numbers])} of {source!r} are VARCHAR, and the "
        f"model's features take numbers; their values are numbers ({'; '.join(holds(c) for c in numbers)}). Read them "
        f"as numbers in a query: SELECT * REPLACE ({exprs}) FROM {_from_item(source)} (a value that is not a number "
        "becomes NULL, a missing value)."
    )


def _empty(cur: Any, source: str, column: str) -> bool:
    """Whether ``column`` of ``source`` is NULL in every row (read up to its first value)."""
    try:
        return not cur.execute(f"SELECT 1 FROM {source_sql(source)} WHERE {quote_ident(column)} IS NOT NULL "
                               "LIMIT 1").fetchall()
    except Exception:  # a source that cannot be read again here: the plain message still holds
        return False
