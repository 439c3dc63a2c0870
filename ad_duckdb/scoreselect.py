"""The query scoring reads a source with: the columns kept beside the scores (``columns=``, an earlier
scoring's giving way), then each feature."""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from . import optionwords
from .closenames import did_you_mean
from .columnargs import _column_names
from .exceptions import BadInputError, OptionError, SourceNotFoundError
from .featurechoice import SCORE_COLUMNS
from .scorecols import earlier_scores, refusal
from .scoring import LoadedModel
from .sourcecols import check_text_features, feature_columns
from .sourcedescribe import describe
from .sqltext import quote_ident, source_sql, sql_names


def _kept_sql(cols: list[tuple[str, str]], kept: Sequence[str], lm: LoadedModel, source: str) -> str:
    """The select list of the source columns to keep beside the scores (``cols``: the source's, from ``describe``)."""
    known = {c.lower() for c, _ in cols}
    missing = [c for c in kept if c.lower() not in known]
    if missing:
        raise SourceNotFoundError(
            f"Scoring with {lm.ref!r}: {optionwords.opt('columns', flag='column')} names {missing}, not in {source!r} (its columns: "
            f"{sql_names(c for c, _ in cols)}).{did_you_mean(missing[0], [c for c, _ in cols])} Name columns of the "
            f"source to keep beside the scores, or leave {optionwords.opt('columns', flag='column')} out to keep them "
            "all."
        )
    lowered = [c.lower() for c in kept]
    twice = next((kept[lowered.index(c)] for i, c in enumerate(lowered) if lowered.index(c) < i), None)
    if twice is not None:  # DuckDB would keep it twice, the second as <name>_1
        raise OptionError(f"Scoring with {lm.ref!r}: {optionwords.opt('columns', flag='column')} names {twice!r} twice; list each column once.")
    return ", ".join(quote_ident(c) for c in kept)


def _kept_select(cols: list[tuple[str, str]], kept: Sequence[str], written: set[str], ours: set[str],
                 lm: LoadedModel, source: str) -> str:
    """The select list of the source columns kept beside the ``written`` score columns: ``kept``, or all of them.

    Re-scoring a scored table: its old score columns give way to the new ones (rather than sitting under the
    expected names while the new values land in anomaly_score_1, ...), but only those an earlier scoring wrote
    (``ours``, from ``scorecols.earlier_scores``); a column of the user's under a name the scores take (a label
    called is_anomaly) is refused, never replaced.
    """
    present = {c.lower() for c, _ in cols}
    if kept:
        # a score name the source lacks is written anyway; an earlier scoring's gives way to the new column
        chosen = [c for c in kept if not (c.lower() in SCORE_COLUMNS
                                          and (c.lower() not in present or c.lower() in ours & written))]
        if not chosen:
            raise BadInputError(f"columns={list(kept)!r} names only score columns, which scoring writes anew; "
                                "name columns of the source to keep, e.g. columns=['transaction_id'].")
        keeps = {c.lower() for c in chosen}
    else:
        keeps = present - ours
    own = [(c, t) for c, t in cols if c.lower() in written - ours and c.lower() in keeps]
    if own:
        raise refusal(lm.ref, source, own)
    if kept:
        return _kept_sql(cols, chosen, lm, source)
    stale = [c for c, _ in cols if c.lower() in ours]
    return f"* EXCLUDE ({', '.join(quote_ident(c) for c in stale)})" if stale else "*"


def _wide_number(sql_type: str) -> bool:
    """A HUGEINT, UHUGEINT or DECIMAL wider than 18 digits: a type that Arrow holds in 128 bits."""
    t = sql_type.upper().replace(" ", "")
    return t in ("HUGEINT", "UHUGEINT") or (t.startswith("DECIMAL(") and int(t[8:].split(",")[0].rstrip(")")) > 18)


def scoring_select(cur: duckdb.DuckDBPyConnection, con: duckdb.DuckDBPyConnection, lm: LoadedModel, source: str,
                   kept: Sequence[str], written: set[str], lossless: bool,
                   source_types: dict[str, str] | None) -> tuple[str, list[str], set[str]]:
    """The query ``_scored_batches`` reads ``source`` with, on ``cur`` (whose session it sets as the read needs):
    the kept columns, then each feature as ``__ad_f<i>``; with the features and the kept columns that are an
    earlier scoring's (marked again). ``written``: the columns the scoring writes (refused in the source)."""
    # Why smaller than DuckDB's 10 MiB: the read-ahead thread (_prefetched) already overlaps the scan with
    # scoring, so a larger buffer only holds more rows in memory. A setting of this cursor alone. Measured
    # (bench/speed.py data from Parquet): 10M rows at d=2, peak RSS 301-306 -> 296-297 MiB; 3M rows at d=30,
    # 737-753 -> 686-731 MiB; the same speed.
    cur.execute("SET streaming_buffer_size = '2MiB'")
    if lossless:
        # SESSION: a bare SET of this option is global in DuckDB, and it stayed on for every connection to the
        # database after a scoring, the user's own .arrow() then giving a HUGEINT as 16 raw bytes
        cur.execute("SET SESSION arrow_lossless_conversion = true")
    cols = describe(cur, source, lm.ref, caller=con)
    if source_types is not None:
        source_types.update((c.lower(), t) for c, t in cols)
    feats = feature_columns(cols, lm, source, cur)
    check_text_features(cur, cols, feats, lm, source)
    ours = earlier_scores(cur, source, cols)
    extra_sql = _kept_select(cols, kept, written, ours, lm, source)
    carried = ours - written  # kept beside the new scores: marked again (score)
    # Why DuckDB casts the 128-bit types to DOUBLE here, as the SQL functions' DOUBLE arguments have it cast:
    # a UHUGEINT arrives in Arrow as decimal128(38, 0), wrapping values from 2^127 up to negatives (2^128 - 1
    # scored as -1); a HUGEINT under lossless as two 64-bit halves; and pyarrow's cast of a wide decimal to
    # float64 can be one unit in the last place off DuckDB's (9 of 20,000 DECIMAL(38, 18) values).
    casts = {c.lower(): "DOUBLE" for c, t in cols if _wide_number(t)}
    fsql = ", ".join(
        f"{f'CAST({quote_ident(f)} AS {casts[f.lower()]})' if f.lower() in casts else quote_ident(f)} "
        f"AS {quote_ident(f'__ad_f{i}')}" for i, f in enumerate(feats))
    return f"SELECT {extra_sql}, {fsql} FROM {source_sql(source)}", feats, carried


def _kept_columns(model: str, columns: Sequence[str] | None) -> list[str]:
    """The source columns ``columns=`` keeps beside the scores (none named: all of them)."""
    columns = _column_names(f"Scoring with {model!r}", "columns", "-c", columns)
    return list(columns or ())
