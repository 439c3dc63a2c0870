"""The `explain` command, added to the CLI by cli.py."""

from __future__ import annotations

import datetime
import math
import uuid
from collections.abc import Sequence
from typing import Any

import click
import duckdb
import numpy as np

from . import api, batchdrift, categorical, explaincost, explainlines, textliteral, texttable, textwidth
from .cliargs import _ATTACH
from .clicommand import _QueryWordsCommand
from .clifail import EXIT_NO_ROWS, EXIT_NO_SOURCE, _failure
from .clinotes import _note, _notes
from .cliopen import _open
from .clirows import _TOP_FEATURES_SHOWN, _print_rows
from .duckerrors import first_part, is_missing_column
from .exceptions import is_interrupt, raised_in_function
from .explainwords import (
    EXPLAIN_ALL_LINES,
    MINOR_SHARE,
    TYPICAL_SPREADS,
    _against_text,
    _feature_value,
    _rank_text,
    _spreads_input,
    _terms_text,
    _typical,
    _value_text,
    row_spreads,
)
from .scoreterms import TERM_NAMES, terms_on
from .scoring import LoadedModel
from .sourcecols import source_features
from .sourcedescribe import describe
from .sqltext import quote_ident, quote_literal, sql_name, sql_names
from .store import Threshold
from .texttable import cell_text as _cell_text
from .texttable import one_line as _one_line
from .udfs import registry


def _literal_text(v: Any) -> str:
    """A value as explain's row line shows it: text, dates, times, UUIDs and intervals as SQL literals, which paste
    into --where as they stand (day=2024-01-06 unquoted is 2024 - 1 - 6, and 'Smith, John' read as two values)."""
    if isinstance(v, str | datetime.date | datetime.time | datetime.timedelta | uuid.UUID):
        return quote_literal(_cell_text(v))
    return _cell_text(v)


@click.command(cls=_QueryWordsCommand)
@click.argument("db")
@click.argument("model")
@click.argument("source")
@click.option("--where", required=True, help="SQL filter selecting the row(s) to explain, e.g. \"transaction_id = 42\".")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True,
              help="Explain at most N matching rows, the highest scores first.")
@click.option("--format", "out_format", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True,
              help="table: a reason per column, for people; csv or json for scripts: each row's columns with "
                   "anomaly_score, anomaly_percentile, is_anomaly, anomaly_terms and anomaly_explain, as the SQL "
                   "functions name them (lists and structs as JSON text in csv).")
@_ATTACH
def explain(db: str, model: str, source: str, where: str, limit: int, out_format: str, attach: tuple[str, ...]) -> None:
    """Explain why rows of SOURCE matching --where score as they do: each column's share of the score.

    Rows are shown highest score first; when more than --limit rows match, the rest are counted, not shown.

    \b
    Examples:
      ad-duckdb explain warehouse.duckdb tx_ae transactions --where "transaction_id = 42"
      ad-duckdb explain warehouse.duckdb tx_ae transactions --where "transaction_id > 1000" --limit 5 --format json
    """
    # Why no order check: the calls below name the model's columns (see `score`); rows that look swapped are
    # rows a user explains on purpose.
    with _open(db, read_only=True, check_order=False, attach=attach) as con, _notes():
        from .sqltext import source_sql, where_sql

        rec = api.load_model(con, model)
        args = ", ".join(quote_ident(f) for f in rec.feature_names)
        ref = quote_literal(model)
        # as `score` does: a missing feature column or one read as text, named with the query that fixes it,
        # rather than a binder error or "feature argument 2 is VARCHAR" from inside the SQL functions
        source_features(con, rec, source)
        stale: set[str] = set()
        if out_format != "table":  # before the rows are explained, which costs many scoring passes
            from .scorecols import explained_for_scripts

            stale = explained_for_scripts(con, source, describe(con, source), out_format)
        try:
            matching = con.execute(f"SELECT count(*) FROM {source_sql(source)}{where_sql(where)}").fetchall()[0][0]
        except duckdb.Error as err:
            described = describe(con, source)
            cols = sql_names(c for c, _ in described)
            raise _failure(f"--where {where!r} does not run on {source} ({str(err).splitlines()[0]}); "
                           f"its columns: {cols}.{textliteral.quote_fix(str(err), where, described)}",
                           code=EXIT_NO_SOURCE if is_missing_column(err) else None) from None
        if not matching:
            raise _failure(f"No row of {source} matches --where {where!r}.", code=EXIT_NO_ROWS)
        # a model whose graph does not show its terms (scoreterms) is still explained, without its terms line
        lm = registry(con).get(model)
        batchdrift.unsaid(lm)
        cost = explaincost.note(lm, min(matching, limit), False, "a smaller --limit or a narrower --where shortens it")
        if cost:
            _note(cost)
        # Why names the source lacks: a column of its own named __s was read as the row's score ("score 1 (normal)"
        # for a flagged row), and sorted by in its place
        taken = {c.lower() for c, _ in describe(con, source)}
        s_, p_, e_, t_ = (_free_alias(taken, a) for a in ("__s", "__p", "__e", "__t"))
        terms = f", anomaly_terms({ref}, {args}) AS {quote_ident(t_)}" if lm.terms_readable() else ""
        # Why score, sort and cut before explaining: an explanation costs many scoring passes (LoadedModel.attribution).
        try:
            rows = con.execute(
                f"SELECT *, anomaly_percentile({ref}, {args}) AS {quote_ident(p_)}, anomaly_explain({ref}, {args}) AS "
                f"{quote_ident(e_)}{terms} FROM (SELECT *, anomaly_score({ref}, {args}) AS {quote_ident(s_)} FROM "
                f"{source_sql(source)}{where_sql(where)} ORDER BY {quote_ident(s_)} DESC NULLS LAST "
                f"LIMIT {int(limit)}) ORDER BY {quote_ident(s_)} DESC NULLS LAST"
            )
            names = [d[0] for d in rows.description]
            data = rows.fetchall()
        except duckdb.Error as err:
            # Why: a row the source's query cannot compute (error(), a cast of text) was DuckDB's words alone,
            # naming neither the model nor the source; our functions' own errors name them, a Ctrl-C stays one
            if is_interrupt(err) or raised_in_function(str(err)) is not None:
                raise
            raise _failure(f"Explaining with {lm.ref!r}: cannot read {source!r}: {first_part(str(err))}.", err) from err
        threshold = rec.threshold("default")
        quantiles = rec.metrics.get("score_quantiles") or []
        specs = {f.name: f for f in rec.features}
        lay = categorical.layout(rec.features)  # text features: their words said, not spreads (categorical.py)
        # Why the longest name: padded to 20, a longer name pushed its share and bar right of the other lines'
        # (in terminal columns: a name such as 数量 takes two a character, and padded by characters it did the same)
        width = max(20, *(textwidth.width(n) for n in rec.feature_names))
        on = terms_on(rec.params)
        robust = rec.params.get("robust") is not False  # None: the default, robust
        if out_format != "table":
            _print_explained(names, data, threshold, on, out_format, stale, (s_, p_, e_, t_),
                             _imputed(lm, rec.feature_names, names, data))
            if matching > len(data):  # on stderr: the rows on stdout stay data
                _note(f"showing {len(data)} of {matching} matching rows, the highest scores first; "
                      "--limit N shows more")
            return
        for r in data:
            row = dict(zip(names, r, strict=True))
            s, p, e, t = row.pop(s_), row.pop(p_), row.pop(e_), row.pop(t_, None)
            flagged = bool(threshold and s > threshold.value)
            # name=value as SQL (a keyword's name quoted, text and dates as literals), so a pair pastes into --where;
            # a value longer than a table cell clipped as score's table clips it (a 480-character note made the line
            # 515 characters), its cut literal left open: no paste takes it for the whole value
            # Why the features left out of a wide row's line (as score --top's table leaves them): 150 of them made
            # it 3,500 characters; the lines below give the values that matter, --format json every one
            wide = len(rec.feature_names) > _TOP_FEATURES_SHOWN
            features = {f.lower() for f in rec.feature_names}
            cells = [f"{sql_name(k)}={texttable.clip(_one_line(_literal_text(v)))}" for k, v in row.items()
                     if not (wide and k.lower() in features)]
            if wide:
                cells.append(f"and its {len(rec.feature_names)} feature values (the ones that matter below; "
                             "every one with --format json)")
            _echo_lines(explainlines.row_lines(cells))
            _echo_lines(explainlines.wrapped(
                f"score {s:.6g} ({'ANOMALY' if flagged else 'normal'}; default threshold "
                f"{threshold.value if threshold else float('nan'):.6g}), {_rank_text(s, p, quantiles)}"))
            if t is not None:
                # Why only the model's own terms: a left-out term is 0, and "neighbour 0" read as a row inside a
                # group of training rows, which a model trained with knn_k=0 never measured
                own_terms = {k: t[k] for k, o in zip(TERM_NAMES, on, strict=True) if o}
                _echo_lines(explainlines.wrapped(_terms_text(own_terms, flagged, one_column=len(rec.features) == 1,
                                                             robust=robust)))
            if not e:  # anomaly_explain's empty list: say so rather than print no reason at all
                _echo_lines(explainlines.wrapped("every feature is missing, and a missing value is never a reason: "
                                                 "nothing to explain (each is scored at its most typical value)"))
            spreads = {}
            rest = []
            shown = 0
            # the row as scored: a missing value is printed with the value scoring chose for it
            values = [_feature_value(row, n) for n in rec.feature_names]
            given = np.array([_spreads_input(v) for v in values]) if lay is None else lay.rows([values])[0]
            scored = lm.as_scored(given[None, :])[0]
            row_z = row_spreads(rec.features, given)
            at = {n: i for i, n in enumerate(rec.feature_names)}
            for part in e:
                if lay is not None and (k := lay.text_index(part["feature"])) is not None:  # a text column
                    shown += 1
                    _echo_lines(explainlines.column_lines(
                        f"  {textwidth.ljust(part['feature'], width)} {part['share']:>6.1%} "
                        f"{'#' * int(round(part['share'] * 40))}",
                        f"({lay.value_words(k, _feature_value(row, part['feature']))})", width))
                    continue
                f = specs[part["feature"]]
                value = _feature_value(row, f.name)
                spreads[f.name] = z = float(row_z[at[f.name]])
                if (len(e) > EXPLAIN_ALL_LINES and _typical(f, z)
                        and (part["share"] < MINOR_SHARE or shown >= EXPLAIN_ALL_LINES)):
                    rest.append(part["share"])
                    continue
                shown += 1
                bar = "#" * int(round(part["share"] * 40))
                _echo_lines(explainlines.column_lines(
                    f"  {textwidth.ljust(part['feature'], width)} {part['share']:>6.1%} {bar}",
                    f"({_value_text(f, value, z, float(scored[at[f.name]]), robust)})", width))
            if rest:
                most = f"under {MINOR_SHARE:.1%}" if max(rest) < MINOR_SHARE else f"at most {max(rest):.1%}"
                _echo_lines(explainlines.wrapped(f"and {len(rest)} more columns, each typical and {most}, "
                                                 f"{sum(rest):.1%} together"))
            present = [z for z in spreads.values() if math.isfinite(z)]
            all_typical = all(_typical(specs[n], z) for n, z in spreads.items() if math.isfinite(z))
            if not flagged and present and all_typical and threshold:
                # Why: the shares still sum to 100%, of what little the row scores above a row of medians; printed
                # alone with their bars they read as a cause for a row nothing is wrong with.
                _echo_lines(explainlines.wrapped("nothing stands out: every value is typical and the score is under "
                                                 "the threshold, so the shares above are no reason to look at this "
                                                 "row"))
            if flagged and len(present) > 1 and all_typical and lay is None:
                # Why the pair on a line of its own: with the partner's value, one line ran past 200 characters
                pair = _against_text(lm, e, scored, given)
                _echo_lines(explainlines.wrapped(
                    f"no value is far from its training median on its own (each within {TYPICAL_SPREADS:g} "
                    f"spreads): the combination is what is unusual{':' if pair else ''}"))
                if pair:
                    _echo_lines(explainlines.wrapped(pair))
        if matching > len(data):
            click.echo(f"showing {len(data)} of {matching} matching rows, the highest scores first; "
                       "--limit N shows more")


def _echo_lines(lines: list[str]) -> None:
    for line in lines:
        click.echo(line)


def _free_alias(taken: set[str], name: str) -> str:
    """``name``, with underscores added until no column of ``taken`` (lower case) has it, as DuckDB matches names."""
    while name.lower() in taken:
        name += "_"
    return name


def _imputed(lm: LoadedModel, features: list[str], names: list[str], data: list[tuple[Any, ...]]
             ) -> list[dict[str, float] | None]:
    """Per row of ``data`` (columns ``names``), each NULL feature's value as scoring took it (``as_scored``), which
    the table format prints on the feature's line; None for a row with no value missing."""
    values = [[_feature_value(dict(zip(names, r, strict=True)), f) for f in features] for r in data]
    given = np.array([[_spreads_input(v) for v in row] for row in values], dtype=np.float64).reshape(
        len(data), len(features)) if lm.layout is None else lm.layout.rows(values)
    scored = lm.as_scored(given)
    if lm.layout is not None:  # a text NULL keyed by the category it was read as, as anomaly_imputed keys it
        import pyarrow as pa

        held, scored, keys = lm.layout.null_entries(np.isnan(given), scored, [
            pa.array([row[k] is None for row in values], pa.bool_()) for k in range(lm.layout.numeric, len(features))],
            features)
        return [{keys[j].as_py(): float(scored[i, j]) for j in np.flatnonzero(m)} if m.any() else None
                for i, m in enumerate(held)]
    return [{features[j]: float(scored[i, j]) for j in np.flatnonzero(m)} if m.any() else None
            for i, m in enumerate(np.isnan(given))]


def _print_explained(names: list[str], data: list[tuple[Any, ...]], threshold: Threshold | None,
                     on: Sequence[bool], out_format: str, stale: set[str], aliases: tuple[str, str, str, str],
                     imputed: list[dict[str, float] | None]) -> None:
    """`explain --format csv|json`: each row's columns, then its score, percentile, flag, terms and shares, under
    the SQL functions' names (``aliases``: explain's query's own for them, score, percentile, shares and terms); the
    source's columns
    ``stale`` (lower case: an earlier scoring's outputs) left out, as the fresh ones replace them. Last,
    ``anomaly_imputed``: ``imputed``, the value each NULL feature was scored at (the table format's "scored at"),
    added after the others so that scripts reading them by position or name keep working."""
    s_, p_, e_, t_ = aliases
    ours = {n: i for i, n in enumerate(names) if n in aliases}
    # by position: a source's columns may repeat a name (a join's), which a dict of the row would merge
    kept = [i for i in range(len(names)) if i not in ours.values() and names[i].lower() not in stale]
    rows = []
    for r, filled in zip(data, imputed, strict=True):
        s, p, e = r[ours[s_]], r[ours[p_]], r[ours[e_]]
        t = r[ours[t_]] if t_ in ours else None
        flagged = None if threshold is None or s is None else bool(s > threshold.value)
        # the model's own terms, as the table prints them (a term left out is 0, not measured)
        terms = None if t is None else {k: t[k] for k, o in zip(TERM_NAMES, on, strict=True) if o}
        rows.append((*(r[i] for i in kept), s, p, flagged, terms, e, filled))
    cols = [names[i] for i in kept]
    _print_rows([*cols, "anomaly_score", "anomaly_percentile", "is_anomaly", "anomaly_terms", "anomaly_explain",
                 "anomaly_imputed"], rows, out_format)
