"""Which columns a model trains on: those named (``features=``), each checked to exist and to be numeric or text
of categories, or without a list the default features (every numeric column but ids, partition keys, earlier
scores and those the filter holds at one value), with the notes on what was left out and how to bring it in."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from . import notes
from .closenames import did_you_mean
from .columnroles import _CAMEL_ID, _ID_NAME, id_like, named_like_label
from .exceptions import BadInputError, SourceNotFoundError
from .features import _DOUBLE_EXACT, _exact_type, is_numeric_type
from .namelists import _LISTED, _listed_features, cli_feature_flags, listing
from .numberhints import (
    UUID_IS_AN_ID,
    _cycle_expr,
    _from_item,
    _point_in_time_error,
    as_number_expr,
    as_number_hint,
    as_number_query,
    is_point_in_time,
)
from .optionwords import either, features_opt, opt
from .readhints import TOTALS
from .sqltext import py_text, quote_ident, shell_word, source_sql, sql_name, sql_names, where_sql
from .textnumbers import _numbers_as_text, _read_how, header_again, text_as_number, text_number_hint, written_words
from .texttimes import compares_as_text, either_way, strptime_expr, text_time_formats
from .totalsrow import column_total_words, words_left_out

if TYPE_CHECKING:  # for annotations: the functions import filecols where they compare a glob's files
    from .filecols import Compared


def _unquoted(name: str) -> str:
    """``name`` without SQL's double quotes around it (``"Amount"`` -> ``Amount``, ``"a""b"`` -> ``a"b``), else as
    given."""
    s = name.strip()
    if len(s) >= 2 and s[0] == s[-1] == '"' and '"' not in s[1:-1].replace('""', ""):
        return s[1:-1].replace('""', '"')
    return name


def choose_columns(
    columns: list[tuple[str, str]], features: Sequence[str] | None, source: str, cur: object | None = None,
    where: str | None = None,
) -> list[tuple[str, str]]:
    """Pick the feature columns, checking that each exists and is numeric (``cur``: to read a text column's values
    for the query that reads them as numbers)."""
    by_lower = {name.lower(): (name, t) for name, t in columns}
    if features is None:
        chosen = [(n, t) for n, t in columns if is_numeric_type(t)]
        if not chosen:
            listing = ", ".join(f"{sql_name(n)} {t}" for n, t in columns)
            header = header_again(cur, source, [n for n, t in columns if t.upper() == "VARCHAR"])
            if header:
                raise BadInputError(f"The source {source!r} has no numeric column to train on (columns: {listing}): "
                                    f"{header}")
            raise BadInputError(
                f"The source {source!r} has no numeric column to train on (columns: {listing}). "
                "Cast columns to a number in a query, e.g. SELECT CAST(x AS DOUBLE) AS x FROM ..."
            )
        return chosen
    if isinstance(features, str):
        features = [features]
    if len(features) == 0:
        raise BadInputError("features=[] names no column: pass the numeric columns to train on.")
    # A name quoted as in SQL ('"Amount"', CLI -f '"Amount"') is that column, unless a column is called so, quotes
    # and all. Why: it was "Column '\"Amount\"' is not in ...; its columns are: Amount".
    features = [f if f.lower() in by_lower else _unquoted(f) for f in features]
    if len({f.lower() for f in features}) != len(features):
        raise BadInputError(f"features={list(features)!r} names a column twice; list each column once.")
    out = []
    not_numeric: list[tuple[str, str]] = []
    text: list[tuple[str, str]] = []
    for f in features:
        hit = by_lower.get(f.lower())
        if hit is None:
            known = sql_names(n for n, _ in columns)
            parts = [p.strip() for p in f.split(",")]
            listed = ""
            if len(parts) > 1 and all(p.lower() in by_lower for p in parts):
                # the command line's -f count,amount habit: in Python one entry is one column's name
                meant = [q for g in features for q in (parts if g == f else [g])]
                listed = f" features= takes one name per entry: features={meant!r}."
            from .filecols import later_column_fix

            hint = listed or later_column_fix(cur, source, [f]) or did_you_mean(f, [n for n, _ in columns])
            raise SourceNotFoundError(f"Column {f!r} is not in {source!r}; its columns are: {known}.{hint}")
        if not is_numeric_type(hit[1]):
            if _words_column(hit, source, cur, where):
                text.append(hit)  # a categorical feature (categorical.py), after the numeric ones
                continue
            not_numeric.append(hit)
            continue
        out.append(hit)
    if len(not_numeric) == 1:
        raise _not_numeric_error(*not_numeric[0], source, cur, where)
    if not_numeric:
        # Why all in one: `-f count -f has_refund -f channel` named has_refund, and channel only on the next run
        shown = not_numeric[:_FIXES_SHOWN]
        fixes = " ".join(f"({i}) {_not_numeric_error(n, t, source, cur, where)}" for i, (n, t) in enumerate(shown, 1))
        rest = not_numeric[_FIXES_SHOWN:]
        more = f" And {len(rest)} more: {', '.join(f'{n!r} {t}' for n, t in rest)}." if rest else ""
        listed = ", ".join(f"{n!r} {t}" for n, t in not_numeric)
        raise BadInputError(f"{len(not_numeric)} feature columns of {source!r} are not numeric ({listed}); each with "
                            f"its fix: {fixes}{more}")
    if text and not out:
        listed = ", ".join(f"{n!r} {t}" for n, t in text)
        raise BadInputError(f"features= names only text columns of {source!r} ({listed}); a model needs at least one "
                            "numeric feature beside them (DuckDB reads a function's first feature argument as a "
                            "number): add one, such as an amount or a count.")
    return out + text


def _words_column(col: tuple[str, str], source: str, cur: object | None, where: str | None) -> bool:
    """Whether a named feature column is text a model reads as categories: VARCHAR or ENUM whose values are not
    numbers written as text (those keep their own hint: they are read as numbers in a query)."""
    from .categorical import is_text_type

    if cur is None or not is_text_type(col[1]):
        return False
    return not (col[1].upper() == "VARCHAR" and text_number_hint(cur, source, col[0], where))


# Non-numeric feature columns given their fix in full in one error; the rest are named (each fix may read the column).
_FIXES_SHOWN = 5


def _not_numeric_error(column: str, sql_type: str, source: str, cur: object | None,
                       where: str | None) -> BadInputError:
    """The error for a feature column that is not numeric, with the fix its type takes (``cur``: to read a text
    column's values for the query that reads them as numbers)."""
    as_text = text_number_hint(cur, source, column, where) if cur is not None and sql_type.upper() == "VARCHAR" \
        else None
    if as_text:  # a CSV column of numbers with "N/A" or "1,234.50" in it: CAST would fail on those
        return BadInputError(f"Column {column!r} of {source!r} is {sql_type}, not numeric, but {as_text}.")
    if is_point_in_time(sql_type):
        return _point_in_time_error(column, sql_type, source, cur)
    query = as_number_query(column, sql_type, source)
    if query:  # the whole query, so the column keeps its name and scoring takes the same expression
        return BadInputError(
            f"Column {column!r} of {source!r} is {sql_type}, not numeric. Drop it from features, or train on a "
            f"query that turns it into a number, {query}, and score with the same expression: "
            f"{as_number_expr(quote_ident(column), sql_type)}."
        )
    if sql_type.strip('"').upper() == "NULL":  # a bare NULL in a query: no value to turn into a number
        return BadInputError(f"Column {column!r} of {source!r} is of SQL type NULL (a bare NULL in the query), so it "
                             "has no non-NULL value and tells no row from another; leave it out of features, or "
                             "train on an expression or rows that give it values.")
    if sql_type.upper() == "UUID":  # no number describes a row by its id
        return BadInputError(f"Column {column!r} of {source!r} is UUID, {UUID_IS_AN_ID}.")
    return BadInputError(
        f"Column {column!r} of {source!r} is {sql_type}, not numeric. Drop it from features, "
        f"or turn it into a number in a query: {as_number_hint(quote_ident(column), sql_type)}."
    )


# A text column with at most this many distinct values (in the rows read) is treated as categories in the hint.
_CATEGORY_MAX = 50


def text_values(cur: object, source: str, column: str, where: str | None = None) -> list[tuple[str, int]] | None:
    """A text column's most common values among its first 10,000 rows, with their counts, most common first (at most
    _CATEGORY_MAX + 1, so more than _CATEGORY_MAX means free text); None when they cannot be read (best effort)."""
    c = quote_ident(column)
    q = (f"SELECT {c} AS v, count(*) AS n FROM (SELECT {c} FROM {source_sql(source)}"
         f"{where_sql(where) if where else ''} LIMIT 10000) WHERE {c} IS NOT NULL GROUP BY ALL ORDER BY n DESC, v "
         f"LIMIT {_CATEGORY_MAX + 1}")
    try:
        return [(str(v), int(n)) for v, n in cur.execute(q).fetchall()]  # type: ignore[attr-defined]
    except Exception:
        return None


# What score(into=) writes beside the source's columns (scorebatches.SCORE_OUTPUTS, anomaly_explain and, with
# model_column=True, MODEL_COLUMN; with mse=True, anomaly_mse).
SCORE_COLUMNS = ("anomaly_score", "anomaly_percentile", "is_anomaly", "anomaly_explain", "anomaly_imputed",
                 "anomaly_model", "anomaly_mse")

# The column score(model_column=True) writes: the version that scored each row ('tx_ae@3'), for a history table
# appended to across retrains, whose rows of each version otherwise sit side by side unmarked.
MODEL_COLUMN = "anomaly_model"


def default_features(
    cur: object, source: str, where: str | None, described: list[tuple[str, str]], X: np.ndarray, *, model: str,
    rising: np.ndarray | None = None,
    empty_rows: Callable[[list[str], np.ndarray], tuple[int, str | None]] | None = None,
    compared: Compared | None = None, keep_constant: bool = False,
) -> tuple[list[tuple[str, str]], np.ndarray, str | None]:
    """The default features, for a caller who named none: every numeric column except id-like ones, and except
    those of one value (unless ``keep_constant``) or none (``otherfeatures.drop_unusable``).

    ``described``: the source's columns (``sourcedescribe.describe``); ``X``: the values of its numeric ones, in
    order (what ``choose_columns(described, None, ...)`` picks), in the source's row order unless ``rising`` says
    which of them rise row by row over the whole source (``featureread.TrainingSample.rising``). Warns
    (``AdDuckDBWarning``) with what was left out, why, and how to choose otherwise. ``empty_rows``: the rows of the features chosen (names, values)
    -> how many have every one NULL and the filter that leaves them out, made part of the filter a totals row's
    'Total' gets in the note on text columns; the third value returned: the column that filter was given for.
    ``compared``: the comparison of a glob's files by name (``filecols.Compared``) the caller's other notes share.
    """
    columns = [(n, t) for n, t in described if is_numeric_type(t)]
    rises: list[bool | None] = [bool(r) for r in rising] if rising is not None else [None] * len(columns)
    ids = [(n, why) for j, (n, t) in enumerate(columns) if (why := id_like(n, t, X[:, j], rises[j])) is not None]
    from .partitions import partition_keys
    from .pysource import category_keys

    folders = partition_keys(cur, source)
    categories = category_keys(source)
    parts = [(n, f"folders {folders[n.lower()]}, ..." if n.lower() in folders else
              f"a category of numbers, as pandas and pyarrow read a folder's key: {categories[n.lower()]}, ...")
             for n, _ in columns if (n.lower() in folders or n.lower() in categories) and n not in {i for i, _ in ids}]
    left_out = {n for n, _ in ids + parts}
    # A table written by score(into=) holds the old model's verdict: as features, the new model reads it, and the
    # raw rows (which have no such columns) cannot be scored.
    scores = [n for n, _ in columns if n.lower() in SCORE_COLUMNS and n not in left_out]
    keep = [j for j, (n, _) in enumerate(columns) if n not in left_out | set(scores)]
    if not keep and scores:
        raise BadInputError(
            f"Model {model!r}: the numeric columns of {source!r} are scores ({listing([repr(n) for n in scores])}, as "
            "score(into=) writes them), which describe a model's verdict rather than the rows, so no feature is left by "
            f"default. Train on the columns that were scored, or name the columns to train on: "
            f"{features_opt(scores[:1])}."
        )
    if scores:
        from .scorecols import earlier_scores

        # a user's label named is_anomaly is no score: left out all the same (it would give the answer away)
        written = {n.lower() for n in scores} <= earlier_scores(cur, source, described)  # type: ignore[arg-type]
        what = ("scores as score(into=) writes them" if written else
                f"{'a column' if len(scores) == 1 else 'columns'} named as score(into=) names its outputs (a label or "
                "an earlier scoring's output)")
        it = "it" if len(scores) == 1 else "them"
        notes.warn(
            f"Model {model!r}: no features given, so {listing([repr(n) for n in scores])} of {source!r}, {what}, "
            f"{'is' if len(scores) == 1 else 'are'} left out: a model trained on {it} reads the answer (a label or "
            f"an old model's verdict) rather than the rows, and rows without {it} cannot be scored. To train on {it} "
            f"anyway, list the features ({_listed_features()}).",
        )
    if not keep:
        first = (ids + parts)[0][0]
        # text columns of numbers (a CSV's decimal commas) are what such a source has to train on: said first
        numbers = _text_numbers_hint(cur, source, where, [n for n, t in described if t.upper() == "VARCHAR"
                                                          and n.lower() not in SCORE_COLUMNS])
        raise BadInputError(
            f"Model {model!r}: {numbers}every numeric column of {source!r} looks like an id "
            f"({listing([f'{n!r}: {w}' for n, w in ids + parts])}), "
            "and an id tells rows apart rather than describing them, so no feature is left by default. Name the "
            f"columns to train on ({_listed_features()}), e.g. {features_opt([first])} if it is a measurement after all."
        )
    pinned = _pinned_by_filter(columns, X, keep, where)
    if pinned and len(pinned) < len(keep):
        keep = [j for j in keep if j not in pinned]
        names = [columns[j][0] for j in pinned]
        notes.warn(
            f"Model {model!r}: no features given, so {listing([repr(n) for n in names])}, which where={where!r} "
            f"holds at one value in every training row, {'is' if len(names) == 1 else 'are'} left out: a column the "
            "filter picks rows by (a label under \"label = 0\") is not a feature, and as one it would flag every "
            f"other value. To train on it anyway, list the features ({_listed_features()}).",
        )
    from .otherfeatures import drop_unusable

    lossy = [n for j, (n, t) in enumerate(columns) if _exact_type(t)
             and np.isfinite(X[:, j]).any() and float(np.nanmax(np.abs(X[:, j]))) >= _DOUBLE_EXACT]
    keep = drop_unusable(X, [n for n, _ in columns], keep, keep_constant, model=model, source=source, lossy=lossy)
    kept = [columns[j] for j in keep]
    labels = [columns[j][0] for j in keep if named_like_label(columns[j][0])
              and set(np.unique(X[:, j][~np.isnan(X[:, j])]).tolist()) == {0.0, 1.0}]
    if labels:
        # Why said here: a model trained on its label reads the answer (its anomalies score as unusual by the label's
        # value alone), which evaluate then refuses; the fix is cheap now and costly after the model is in use.
        n = labels[0]
        # Why quoted: a label named "Is Fraud?" was offered as where="Is Fraud? = 0", a syntax error, and as
        # --label Is Fraud?, two words to a shell
        normal = f"{sql_name(n)} = 0"
        notes.warn(
            f"Model {model!r}: no features given, so {listing([repr(n) for n in labels])}, a 0/1 column named like a "
            f"label, {'is a feature' if len(labels) == 1 else 'are features'}: a model trained on its label reads the "
            f"answer, and evaluate with {opt('label', n)} refuses it. If it is the label, train "
            f"on the normal rows ({opt('where', normal, py=py_text(normal))}; that leaves it out) or "
            f"name the features ({_listed_features()}).",
        )
    # a key DuckDB reads as text (month=01, region=EU) is a key all the same: said with the others, not offered as
    # text of numbers to read with TRY_CAST, which made next month's folder a feature's new value after all
    text_keys = [(n, f"folders {folders[n.lower()]}, ...") for n, t in described
                 if not is_numeric_type(t) and n.lower() in folders and n.lower() not in SCORE_COLUMNS]
    if parts or text_keys:
        keys = parts + text_keys
        example = [parts[0][0], *(n for n, _ in kept)] if parts else []
        anyway = (f" To train on it anyway, list the features: {features_opt(example[:_LISTED])}." if parts else "")
        notes.warn(
            f"Model {model!r}: no features given, so the hive partition key"
            f"{'s' if len(keys) > 1 else ''} {listing([f'{n!r} ({w})' for n, w in keys])} of {source!r} "
            f"{'are' if len(keys) > 1 else 'is'} left out: a key names the folder a row was read from, and a new "
            f"folder brings a value beyond the training range, which scores as anomalous.{anyway}",
        )
    if ids:
        example = [ids[0][0], *(n for n, _ in kept)]
        if len(example) <= _LISTED:
            listed = features_opt(example)
        else:  # a wide table's every name, three times over, buried the note
            listed = either(f"features={example[:4]!r}"[:-1] + f", ...] with the {len(kept)} above",
                            f"{cli_feature_flags(example[:4])} ... with the {len(kept)} above")
        notes.warn(
            f"Model {model!r}: no features given, so it trains on every numeric column of {source!r} but the id-like "
            f"{listing([f'{n!r} ({w})' for n, w in ids])}: an id tells rows apart rather than describing them, and new "
            f"rows bring ids beyond the training range, which score as anomalous. Features: "
            f"{listing([n for n, _ in kept])}. To train on an id column too, list the features: {listed}.",
        )
    _warn_later_columns(cur, source, model, compared)
    # (is_anomaly and anomaly_explain of a scored table: scores too, left out without a word)
    chosen = X[:, keep]
    gave = _warn_non_numeric(cur, source, where, [(n, t) for n, t in described if not is_numeric_type(t)
                                                  and n.lower() not in SCORE_COLUMNS
                                                  and n.lower() not in folders], model,
                             (lambda: empty_rows([n for n, _ in kept], chosen)) if empty_rows else None)
    return kept, chosen, gave


def _warn_later_columns(cur: object, source: str, model: str, compared: Compared | None) -> None:
    """Say which columns of a glob's later files the default features leave out, as DuckDB does not read them."""
    from .filecols import later_columns

    later = later_columns(cur, source, compared)
    if later is None:
        return
    names = list(later.columns)
    it = "it" if len(names) == 1 else "them"
    notes.warn(
        f"Model {model!r}: no features given, and {later.where(names)} of {source!r} {'is' if it == 'it' else 'are'} "
        f"left out: later files hold {it}, but DuckDB reads the columns of a glob's first file. To train on {it}, "
        f"read the files by name: {later.reads} (rows of files without {it} have {it} NULL, which training fills "
        "with the median).",
    )


def _pinned_by_filter(columns: list[tuple[str, str]], X: np.ndarray, keep: list[int], where: str | None) -> list[int]:
    """Indices (of ``keep``) of columns named in ``where`` that hold one value in every training row: the filter
    chose the rows by them (``label = 0``, ``segment = 3``), so they describe the selection, not the rows."""
    if not where or not len(X):
        return []
    text = where.lower()
    out = []
    for j in keep:
        n = columns[j][0].lower()
        named = re.search(rf"(?<![\w\"]){re.escape(n)}(?![\w\"])", text) or f'"{n}"' in text
        col = X[:, j]
        if named and np.isfinite(col).all() and col.min() == col.max():
            out.append(j)
    return out


def _text_numbers_hint(cur: object, source: str, where: str | None, names: list[str]) -> str:
    """For a source whose numeric columns are all ids: its text columns that hold numbers and the query that reads
    them all as numbers, as a sentence that ends the way to the id advice; "" when it has none."""
    text = _numbers_as_text(cur, source, names, where)
    numberish = [n for n in names if n in text and text[n][0] >= 0.5]
    if not numberish:
        return ""
    def why(n: str) -> str:
        odd = text[n][1]
        return (f"{n!r} (VARCHAR, but all its values are numbers)" if odd is None else
                f"{n!r} (VARCHAR, but its values are numbers apart from a few such as {odd!r})")

    one = len(numberish) == 1
    exprs = ", ".join(f"{text_as_number(n, text[n][2])} AS {quote_ident(n)}" for n in numberish)
    written = "".join(f"; {w}, which replace() reads" for w in dict.fromkeys(written_words(text[n][2])
                                                                               for n in numberish) if w)
    return (f"the text column{'' if one else 's'} {listing([why(n) for n in numberish])} of {source!r} "
            f"{'holds numbers' if one else 'hold numbers'}. To use {'it' if one else 'them'}, train on a query that "
            f"reads {'it as a number' if one else 'them as numbers'}: SELECT * REPLACE ({exprs}) FROM "
            f"{_from_item(source)} (a value that is not a number becomes NULL, which training fills with the "
            f"median{written}). Without that, ")


def _warn_non_numeric(cur: object, source: str, where: str | None, skipped: list[tuple[str, str]], model: str,
                      empty_rows: Callable[[], tuple[int, str | None]] | None = None) -> str | None:
    """The note on the text columns left out; the column whose totals row it gave the filter for (with the rows of
    every feature NULL, ``empty_rows``' count and filter, when there are such)."""
    if not skipped:
        return None
    text = _numbers_as_text(cur, source, [n for n, t in skipped if t.upper() == "VARCHAR"], where)
    numberish = {n: odd for n, (share, odd, _) in text.items() if share >= 0.5}  # mostly numbers: worth reading as such
    times = text_time_formats(cur, source, [n for n, t in skipped if t.upper() == "VARCHAR" and n not in numberish],
                              where)
    def why(n: str, t: str) -> str:
        if n not in numberish:
            timed = times.get(n)
            if timed is None:
                return f"{n!r} ({t})"
            read = strptime_expr(n, timed[0])
            # an ISO layout compares as text in the order of its times: a filter on it is right as it stands
            filtered = (f"; where= compares it as text, not as times: where=\"{read} < ...\", a TIMESTAMP on the "
                        "right" if compares_as_text(where, n) and not timed[0].startswith("%Y-%m-%d") else "")
            return (f"{n!r} ({t}, but its values are times written as text, such as {timed[1]!r}: {read} reads "
                    f"them as times{either_way(n, timed)}{filtered})")
        if numberish[n] is None:  # no value failed to read as a number
            return f"{n!r} ({t}, but all its values are numbers)"
        return f"{n!r} ({t}, but its values are numbers apart from a few such as {numberish[n]!r})"

    items = [why(n, t) for n, t in skipped]
    hint = ""
    if numberish:
        # the example: measurements rather than ids ('Transaction_ID' read as DOUBLE would become a feature), and
        # first those TRY_CAST alone reads as NULL (a decimal comma, a currency mark): an ERP export's 'Betrag (€)'
        # was said to hold "all numbers" beside the expression for its document number, TRY_CAST(trim(...))
        measured = [n for n in numberish if not (_ID_NAME.search(n) or _CAMEL_ID.search(n))] or list(numberish)[:1]
        written = [n for n in measured if text[n][2] is not None]
        shown = written[:_FIXES_SHOWN] or measured[:1]
        one = len(shown) == 1
        exprs = ", ".join(f"{text_as_number(n, text[n][2])} AS {quote_ident(n)}" for n in shown)
        sep = "".join(dict.fromkeys(_read_how(text[n][2]) for n in shown))
        hint = (f" To use {listing([repr(n) for n in shown])}, "
                f"train on a query that reads {'it as a number' if one else 'them as numbers'}: SELECT * REPLACE "
                f"({exprs}) FROM ... (a value that is not a number becomes NULL, which training fills with the "
                f"median{sep}).")
    totals = next(((n, odd) for n, odd in numberish.items() if isinstance(odd, str) and TOTALS.fullmatch(odd)), None)
    if totals:
        # Why say so: the row's numeric columns sum all the others, and it is trained on as one row; its 'Total'
        # is what made the column text, and the only word of it the note gave
        # a report's 'Subtotal' rows beside its 'Total': a filter on the one word the count saw kept the others
        words = column_total_words(cur, source, where, totals[0]) or [totals[1]]
        leave_out = words_left_out(totals[0], words)
        n_empty, empty_out = empty_rows() if empty_rows else (0, None)
        if n_empty and empty_out:  # the export's rows of only separators below it: one filter for both
            leave_out = f"{leave_out} AND {empty_out}"
        filtered = f"({where}) AND {leave_out}" if where else leave_out
        marks = (f"{totals[1]!r} in {totals[0]!r} marks a totals row" if len(words) == 1 else
                 f"{' and '.join(repr(w) for w in words)} in {totals[0]!r} mark totals rows")
        also = f" (and the {n_empty} rows with every feature NULL, noted next)" if n_empty and empty_out else ""
        hint += (f" {marks} (the sum of the rows above, as a spreadsheet writes it), which is trained on as a row: "
                 f"leave {'it' if len(words) == 1 and not also else 'them'} out{also} with "
                 f"{leave_out_with(filtered, where)}.")
    # last: its query ends the note, so that it can be copied as it stands (the totals sentence was glued to it)
    hint += _as_numbers_example(cur, source, where, [(n, t) for n, t in skipped if n not in numberish],
                                others=bool(numberish))
    notes.warn(
        f"Model {model!r}: no features given, so the non-numeric column{'s' if len(skipped) > 1 else ''} "
        f"{listing(items)} of {source!r} {'are' if len(skipped) > 1 else 'is'} left out.{hint}",
    )
    return totals[0] if totals else None


def leave_out_with(filtered: str, where: str | None) -> str:
    """The options that train without a row: ``filtered``, the filter that leaves it out (with ``where``, the
    caller's own, if any). Why robust=True with a filter of our own: a where= turns robust training off (it reads
    as "the normal rows", chosen by a label), and leaving out a totals row does not make the rows labelled."""
    shown = py_text(filtered)  # Why not "{filtered}": where=""Amount EUR" IS NOT NULL" was no string at all
    if where:
        return opt("where", filtered, py=shown)
    return (f"{opt('where', filtered, py=shown)} and {opt('robust', True)}, which a {opt('where')} alone turns "
            "off")


def _as_numbers_example(cur: object, source: str, where: str | None, skipped: list[tuple[str, str]], *,
                        others: bool = False) -> str:
    """One query that brings left-out columns in as numbers, one column of each kind (a BOOLEAN, a date or time, text
    of a few values), and what each expression means; "" when none is of those kinds (``others``: a hint for text
    of numbers came first).

    Why one query: the note named 24 columns of a claims table and stopped there, and the user who wanted them had
    to find out for each type what reads it as a number; one query of each kind runs as given and shows the way.
    A column named like a label gets no expression: as a feature it would read the answer.
    """
    chosen: dict[str, str] = {}  # kind -> "expression AS column"
    words = ""  # a text column of a few values: a feature as it is when named (categorical.py)
    time_type = ""  # the SQL type of the date or time column chosen, for what its expression means
    for n, t in skipped:
        if named_like_label(n):
            continue
        kind = ("flag" if t.upper() == "BOOLEAN" else "big" if t.upper() in ("BIGNUM", "VARINT")
                else "time" if as_number_expr("x", t) else None)
        if kind is None and (t.upper() == "VARCHAR" or t.upper().startswith("ENUM")) and "share" not in chosen:
            values = text_values(cur, source, n, where)
            kind = "share" if values and 1 < len(values) <= _CATEGORY_MAX else None
            words = n if kind else words
        if kind and kind not in chosen:
            c = quote_ident(n)
            # a DATE or TIMESTAMP as epoch seconds rises with time, so every later row would be out of range
            expr = (f"count(*) OVER (PARTITION BY {c}) / count(*) OVER ()" if kind == "share"
                    else f"CAST({c} AS DOUBLE)" if kind == "big"
                    else _cycle_expr(c, t, cur) if is_point_in_time(t) else str(as_number_expr(c, t)))
            chosen[kind] = f"{expr} AS {c}"
            time_type = t if kind == "time" else time_type
    if not chosen:
        return ""
    meaning = {"share": "text of a few values becomes the share of rows with its value among the rows the query "
                        "reads (a rare value is what stands out; score sets about as large as the training rows, or "
                        "(col = 'value')::INTEGER makes a 0/1 column of one value instead)",
               "flag": "a BOOLEAN becomes 1 or 0",
               # DuckDB hands a BIGNUM to Python as its own byte encoding, not a number
               "big": "a BIGNUM (an integer of any size) becomes a DOUBLE"}
    meaning["time"] = ("a timestamp becomes its hour of the day and a date its day of the week, for a daily or "
                       "weekly cycle (when the training rows span whole days or weeks; epoch seconds would rise with "
                       "time, so every later row would be out of the training range)"
                       if is_point_in_time(time_type) else "a time or interval becomes its seconds")
    src = _from_item(source)
    exprs = ", ".join(chosen.values())
    # The query comes last, with nothing after it, so that it can be copied as it stands.
    named = (f" A text column of a few values such as {words!r} is a feature as it is when named: "
             f"{either(f'features=[..., {words!r}]', f'-f {shell_word(words)}')}, read as its categories (README, \"Text columns as features\")."
             if words else "")
    return (f"{named} To use {'the others' if others else 'such columns'}, train on a query that reads them as numbers "
            f"({'; '.join(meaning[k] for k in chosen)}), and score with the same query, e.g. "
            f"SELECT * REPLACE ({exprs}) FROM {src}")


def warn_named_label(names: list[str], X: np.ndarray, model: str) -> None:
    """Note a feature the caller named that is a 0/1 column named like a label, as ``default_features`` notes one it
    chose. Why: ``-f qty -f price -f label`` trained without a word, and the mistake showed only when evaluate
    refused the model."""
    labels = [n for j, n in enumerate(names) if j < X.shape[1] and named_like_label(n)
              and set(np.unique(X[:, j][~np.isnan(X[:, j])]).tolist()) == {0.0, 1.0}]
    if not labels:
        return
    n = labels[0]
    normal = f"{sql_name(n)} = 0"
    rest = [m for m in names if m not in labels]
    notes.warn(
        f"Model {model!r}: {listing([repr(m) for m in labels])}, a 0/1 column named like a label, "
        f"{'is a feature' if len(labels) == 1 else 'are features'}: a model trained on its label reads the answer, and "
        f"evaluate with {opt('label', n)} refuses it. If it is the label, leave it out"
        + (f" ({features_opt(rest)})" if rest else "")
        + f" and train on the normal rows ({opt('where', normal, py=py_text(normal))}).",
    )
