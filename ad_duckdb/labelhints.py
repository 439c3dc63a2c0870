"""What a label that is no 0 / 1 column is told: its values and which of them reads as the anomaly, the query
that maps it to 0 / 1 or reads a missing label as normal, and whether ``label=`` was an expression over the source's
columns rather than a column."""

from __future__ import annotations

import json
import numbers
from typing import Any

import duckdb

from . import optionwords, pysource
from .exceptions import AdDuckDBError
from .sqltext import quote_ident, quote_literal, shell_word, source_sql, sql_name, sql_tokens, typed_from, where_sql


def _given_label(label: Any, arg: str = "label") -> str:
    """A label= that is no name, as an error shows it: a column (``df.Class``, as scikit-learn's metrics take y) or a
    list by the name to pass, not by its values (a Series' repr is a dozen lines of them)."""
    name = getattr(label, "name", None)
    if isinstance(name, str) and name and hasattr(label, "__len__"):
        return (f"a {type(label).__module__.split('.')[0]} {type(label).__name__} of {len(label)} values; pass its name: "
                f"{arg}={name!r}")
    if isinstance(label, list | tuple) and len(label) == 1 and isinstance(label[0], str):
        return f"{label!r}; pass the one name: {arg}={label[0]!r}"
    return repr(label)


def _label_counts(cur: Any, source: str, label: str, where: str | None) -> list[tuple[Any, int]]:
    """The label column's distinct non-NULL values with their row counts, most frequent first (at most 6)."""
    col = quote_ident(label)
    q = f"SELECT {col}, count(*) FROM {source_sql(source)}"
    q += where_sql(f"({where}\n) AND {col} IS NOT NULL" if where else f"{col} IS NOT NULL")
    q += " GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 6"
    return [(v, int(n)) for v, n in cur.execute(q).fetchall()]


def _null_labels(cur: Any, source: str, label: str, where: str | None) -> int:
    """How many rows of ``source`` (and ``where``) hold no label."""
    q = f"SELECT count(*) FROM {source_sql(source)}"
    q += where_sql(f"({where}\n) AND {quote_ident(label)} IS NULL" if where else f"{quote_ident(label)} IS NULL")
    return int(cur.execute(q).fetchone()[0])


def _label_value(v: Any) -> str:
    """A label value as SQL reads it: 'yes' quoted, numbers plain (-1, 0.5; not Decimal('-1.0'))."""
    if isinstance(v, str):
        return quote_literal(v)
    if isinstance(v, numbers.Number) and not isinstance(v, bool):
        return f"{float(v):g}"  # type: ignore[arg-type]
    return str(v)


def _shown_counts(counts: list[tuple[Any, int]]) -> str:
    shown = ", ".join(f"{_label_value(v)} ({n} row{'' if n == 1 else 's'})" for v, n in counts[:5])
    return shown + (", ..." if len(counts) > 5 else "")


def _label_mapping_hint(label: str, counts: list[tuple[Any, int]], source: str, nulls: int = 0) -> str:
    """How to turn the label into 0 / 1. Why not a fixed example: with -1 / 1 labels `label > 0` reads as anomalies
    the normal rows of scikit-learn's convention (-1 = outlier), and every figure would be inverted. ``nulls``: rows
    holding no label, read as normal by the query (a list of anomalies LEFT JOINed to the rows leaves the others
    NULL), with the filter that leaves them out instead; without it, the query's own column was NULL in those rows
    and the next run stopped on that."""
    # a name quoted only when it must be: the shell's query then more often fits in single quotes, Python's reads plainly
    col = sql_name(label)
    if len(counts) == 2:
        value, why = _anomaly_value(counts[0][0], counts[1][0])
        lit = _label_value(value)
        test, which = f"{col} = {lit}", f" if {lit} ({why}) marks anomalies"
    else:
        test, which = f"{col} IN (...)", ""
    if nulls:
        test = f"coalesce({test}, false)"
    lead = f"Map the value{'' if which else 's'} that mark{'s' if which else ''} an anomaly to 1"
    hint = _label_query_hint(lead, test, source, which,
                             tail="" if which else " (the values that mark anomalies in place of ...)")
    if not nulls:
        return hint
    return (f"{hint} The coalesce reads the {nulls} row{'' if nulls == 1 else 's'} without a label as 0 (normal), as "
            f"a list of anomalies LEFT JOINed to the rows leaves the others; where NULL means not labelled yet, "
            f"judge the labelled rows only: {optionwords.opt('where', f'{col} IS NOT NULL')}.")


# Label values that say which they are. Why not the rarer value alone: labelled rows are often an undersample (the
# ULB credit-card file: 492 frauds, 492 normal rows), where the anomalies are the commoner value, and the query the
# hint gave, run as given, judged the model on inverted labels.
_ANOMALY_WORDS = frozenset({"1", "true", "t", "yes", "y", "fraud", "fraudulent", "anomaly", "anomalous", "outlier",
                            "abnormal", "attack", "malicious", "bad", "positive", "pos", "suspicious", "fault", "failure"})
_NORMAL_WORDS = frozenset({"0", "false", "f", "no", "n", "ok", "normal", "legit", "legitimate", "genuine", "benign",
                           "inlier", "good", "negative", "neg", "clean", "none"})


def _anomaly_value(common: Any, rare: Any) -> tuple[Any, str]:
    """Which of a label's two values (most frequent first) reads as the anomaly, and why the hint says so."""
    def word(v: Any) -> str | None:
        return v.strip().lower() if isinstance(v, str) else None

    for a, b in ((common, rare), (rare, common)):
        if word(a) in _ANOMALY_WORDS and word(b) not in _ANOMALY_WORDS:
            return a, "as its word says"
        if word(b) in _NORMAL_WORDS and word(a) not in _NORMAL_WORDS:
            return a, f"{_label_value(b)} reads as normal"
    nums = [float(v) for v in (common, rare) if isinstance(v, numbers.Number) and not isinstance(v, bool)]  # type: ignore[arg-type]
    if len(nums) == 2 and set(nums) == {-1.0, 1.0}:
        return (common if float(common) == -1.0 else rare), "scikit-learn's mark of an outlier"
    if len(nums) == 2 and 0.0 in nums:
        return (rare if float(common) == 0.0 else common), "0 reads as normal"
    return rare, "the rarer value here"


def _label_query_hint(lead: str, test: str, source: str, which: str = "", *, tail: str = "",
                      name_source: bool = False) -> str:
    """``lead`` and a query that makes the SQL condition ``test`` the 0 / 1 column is_anomaly: from Python, a string
    to pass as the source with label='is_anomaly' (``FROM ...`` unless ``name_source``); from the CLI, the whole
    query, shell-quoted, as the source."""
    src = typed_from(source)
    if not pysource.from_command_line():
        # a Python string literal (json's quoting is Python's too): a name in double quotes inside the double-quoted
        # example was a SyntaxError where it was pasted
        example = json.dumps(f"SELECT *, ({test})::INTEGER AS is_anomaly FROM {src if name_source else '...'}",
                             ensure_ascii=False)
        return f"{lead} in a query and pass that column, e.g. {example} with label='is_anomaly'{which}."
    # Why the whole query, shell-quoted: a shell user pastes it as the source; double quotes around SQL that
    # double-quotes a name were split by the shell
    query = f"SELECT *, ({test})::INTEGER AS is_anomaly FROM {src}"
    return f"{lead} in a query and pass that query as the source, e.g. {shell_word(query)} --label is_anomaly{which}{tail}."


def _unlisted_as_normal_hint(col: str, source: str) -> str:
    """The source that reads a missing label as 0. Why: labels kept as a list of the known anomalies (frauds.csv of
    their ids), LEFT JOINed to the rows, leave every normal row's label NULL; judging the labelled rows alone, as
    for a review not finished, keeps the anomalies only (every precision 1, AUC-ROC undefined)."""
    query = f"SELECT * REPLACE (coalesce({col}, 0) AS {col}) FROM {typed_from(source)}"
    shown = shell_word(query) if pysource.from_command_line() else json.dumps(query, ensure_ascii=False)
    return (f"If the rows without a label are the normal ones (a list of the known anomalies, LEFT JOINed to the "
            f"rows, leaves theirs NULL), read a missing label as 0 (normal) with coalesce({col}, 0): as the "
            f"source, {shown}.")


def _expression_over(cur: Any, source: str, text: str, columns: list[str]) -> bool:
    """Whether ``text`` (a label= that names no column) is one SQL expression that binds over ``source`` and reads
    one of its ``columns`` (``ys = 'fraud'``); a misspelt name or a constant is not."""
    try:
        toks = sql_tokens(text)
    except Exception:
        return False
    if not toks:  # blank, or a comment alone: no expression (zip below would fail on the one end it is given)
        return False
    ends = [p for p, _ in toks[1:]] + [len(text)]
    names = {text[p:e].strip().strip('"').replace('""', '"').lower()
             for (p, kind), e in zip(toks, ends, strict=True) if kind == duckdb.token_type.identifier}
    if not names & {c.lower() for c in columns}:
        return False
    binds = f"({text}\n) IS NOT NULL"  # the newline: a trailing -- comment cannot reach the parenthesis
    try:
        # bound, not run: DESCRIBE reads no row; where_sql keeps the text to one expression of one SELECT
        cur.execute(f"DESCRIBE SELECT * FROM {source_sql(source)}{where_sql(binds)}")
    except (duckdb.Error, AdDuckDBError):
        return False
    return True
