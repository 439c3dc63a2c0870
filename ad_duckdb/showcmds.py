"""The `list`, `show` and `drop` commands, added to the CLI by cli.py."""

from __future__ import annotations

import json
import re
import shlex
import sys
from collections.abc import Sequence
from typing import Any

import click
import duckdb

from . import (
    alarmrate,
    api,
    budgetshare,
    categorical,
    costs,
    jsonvalues,
    modelnames,
    optionwords,
    store,
    storedrop,
    thresholds,
    trainsample,
    weights,
)
from .clicommand import _Command
from .clidone import _done_if_interrupted, _read_quietly
from .clifail import _failure
from .clinotes import _note, _notes, _notes_are_errors, notes_ignored
from .clinumbers import _against_spread, _raw_spread
from .cliopen import _open
from .clirows import _print_rows
from .exceptions import AdDuckDBError, OptionError
from .models import views_calling_version
from .numbertext import value_text
from .scoretail import TOP
from .sourcedescribe import describe
from .sqltext import is_query, name_parts, quote_ident, quote_literal, strip_sql_ends
from .store import ModelRecord, imported_parts
from .texttable import Number as _Number
from .texttable import float_text as _float_text
from .trainoverlap import training_rows_note
from .trainscores import RANKS

_BARE_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _sql_idents(con: duckdb.DuckDBPyConnection, names: list[str]) -> str:
    """Column names as DuckDB writes them back (CREATE TABLE in duckdb_tables()): quoted only when needed."""
    keywords = {k for (k,) in con.execute("SELECT keyword_name FROM duckdb_keywords()").fetchall()}
    return ", ".join(n if _BARE_IDENT.fullmatch(n) and n.lower() not in keywords else quote_ident(n) for n in names)


def _score_call(con: duckdb.DuckDBPyConnection, model: str, features: list[str], source: str | None) -> str:
    """The SQL that scores rows with ``model``: its features in order, as SQL names."""
    # A model trained on a query (0/1 columns of a category, a cast) scores rows that query makes: say so, rather
    # than "FROM ...", which reads as "any table with these columns".
    frm = f"({strip_sql_ends(source)})" if source is not None and is_query(source) else "..."
    return f"SELECT *, anomaly_score({quote_literal(model)}, {_sql_idents(con, features)}) FROM {frm}"


def _source_columns(con: duckdb.DuckDBPyConnection, rec: ModelRecord) -> set[str] | None:
    """The columns (lower case) of this database's table or view of the name ``rec`` was trained on (for an imported
    model's note in `show`), empty when there is none; None for a source of another kind (a query, a file)."""

    trained_on = (rec.metrics or {}).get("train_source")
    if not isinstance(trained_on, str) or is_query(trained_on) or name_parts(trained_on) is None:
        return None
    try:
        return {c.lower() for c, _ in describe(con, trained_on)}
    except (duckdb.Error, AdDuckDBError):
        return set()


_FORMAT = click.option("--format", "out_format", type=click.Choice(["table", "csv", "json"]), default="table",
                       show_default=True, help="table for people; csv or json for scripts (every row, no clipping).")


@click.command("list", cls=_Command)
@click.argument("db")
@_FORMAT
def list_cmd(db: str, out_format: str) -> None:
    """List stored models and their versions.

    \b
    Examples:
      ad-duckdb list warehouse.duckdb
      ad-duckdb list warehouse.duckdb --format csv
    """
    with _open(db, read_only=True) as con:
        _print_models(con, out_format)


def _print_models(con: duckdb.DuckDBPyConnection, out_format: str, pattern: str | None = None) -> None:
    """`list`'s table; ``pattern``: only the names it matches (.models PATTERN, ILIKE as .tables takes it). Why a
    pattern: .models nope listed every model, as if the word were not there."""
    rows = api.list_models(con)
    names = ["name", "version", "created_at", "n_features", "train_rows", "onnx_bytes", "source"]
    if pattern is not None:
        known = sorted({r["name"] for r in rows})
        rows = [r for r in rows if con.execute("SELECT ? ILIKE ?", [r["name"], pattern]).fetchall()[0][0]]
        if not rows and out_format == "table":
            click.echo(f"no model matches {pattern!r} (ILIKE: % for any text); the models: "
                       f"{', '.join(known) if known else 'none stored yet'}")
            return
    if not rows and out_format == "table":
        click.echo("no models stored yet; train one with `ad-duckdb train`")
        return
    # latest: which version the bare name means (what views and dashboards calling 'tx_ae' score with), also when
    # it is damaged, where 'tx_ae' fails rather than falling back to an older one (list_models says, as here)
    if out_format == "table":
        for r in rows:
            r["latest"] = "yes" if r["latest"] else "no"
    cols = [*names, "latest", "status"]
    problems = [r["problem"] for r in rows if r["problem"] is not None]
    if out_format == "json":
        # the problem a field of each row, as json's notes are (a damaged row's "status" alone said not what or why)
        cols.append("problem")
    else:
        _notes_are_errors(*problems)  # a report fails before it prints, as show and evaluate do
    _print_rows(cols, [tuple(r[k] for k in cols) for r in rows], out_format)
    for problem in problems:
        _note(problem)


def _method_text(t: Any, prices: bool = True) -> str:
    """The method, with ", confident" for a goal met by the lower end of its interval, min_cost with its prices
    (``prices``), and ", sampled normal" for a goal chosen on a sample that kept every anomaly: said in chosen_on,
    which the table clips. Why the sampling: its intervals (and so a confident goal's cut) are evaluate --sampled
    normal's, not an audit's, and a retrain with --carry-thresholds chooses it again so."""
    if t.method == "min_cost":  # its prices end chosen_on too
        stated = costs.stated(t.chosen_on) if prices else ""
        text = f"{t.method} ({stated})" if stated else t.method
    else:
        text = f"{t.method}, confident" if (t.chosen_on or "").endswith(thresholds.CONFIDENT_NOTE) else t.method
    return f"{text}, sampled normal" if weights.sampled_normal(t.chosen_on) else text


@click.command(cls=_Command)
@click.argument("db")
@click.argument("model")
@click.option("--format", "out_format", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="json: one object (ref, features, thresholds, metrics, params, ...) for scripts.")
def show(db: str, model: str, out_format: str) -> None:
    """Show a model: features and transforms, thresholds, training metrics, library versions, and the
    ad_duckdb.train call that trains it again, and the ad-duckdb train command when its options are all flags (the
    same rows in the same order give the same sha256).

    \b
    Examples:
      ad-duckdb show warehouse.duckdb tx_ae@1
      ad-duckdb show warehouse.duckdb tx_ae --format json
    """
    from .retrain import retrain_call, retrain_note
    from .retraincmd import retrain_command

    with _open(db, read_only=True) as con:
        rec = api.load_model(con, model)
        call = retrain_call(rec)
        command, no_flag = retrain_command(rec, db)
        call_note = retrain_note(rec, [d for (d,) in con.execute("SELECT database_name FROM duckdb_databases()").fetchall()],
                                 _source_columns(con, rec))
        # Why: the first thing asked of a model stored weeks ago is how to call it (its features' order)
        trained_on = (rec.metrics or {}).get("train_source")
        score_call = _score_call(con, model, rec.feature_names, trained_on if isinstance(trained_on, str) else None)
        stored = store.known_models(con).get(rec.name, [rec.version])
        versions, live = store.version_features(con, rec.name), store.bare_version(con, rec.name, stored)
        calling = views_calling_version(con, rec.name, rec.version, live)
        if out_format != "json":  # json's notes are fields of its one object, kept as ignore keeps them
            _notes_are_errors(call_note if call is not None else None,
                              *(f"threshold {t.name!r}: {n}" if (n := training_rows_note(t)) else None
                                for t in rec.thresholds))
        # Why both shares: a threshold chosen on labelled rows flags their share, mostly far above the traffic's
        quantiles = budgetshare.quantiles_of(rec.metrics)
        if out_format == "json":
            from dataclasses import asdict

            doc = {"ref": rec.ref, "name": rec.name, "version": rec.version, "kind": rec.kind,
                   "created_at": rec.created_at, "source": rec.source, "train_rows": rec.train_rows,
                   "sha256": rec.sha256, "onnx_bytes": len(rec.onnx), "format_version": rec.format_version,
                   "features": [f.to_json() for f in rec.features],
                   "thresholds": [{**asdict(t), "flagged_share_of": budgetshare.of_rows(t),
                                   "training_flagged_share": budgetshare.split(t, quantiles, rec.metrics)[0]}
                                  for t in rec.thresholds],
                   "metrics": rec.metrics, "params": rec.params, "lib_versions": rec.lib_versions,
                   "retrain_with": call, "retrain_command": command, "retrain_note": call_note, "score_with": score_call,
                   "versions": stored, "latest_ref": f"{rec.name}@{live}",
                   "views_calling": [{"view": v, "calls": refs} for v, refs in calling]}
            click.echo(jsonvalues.dumps(doc, indent=1))
            return
        sample = trainsample.sample_size(rec.train_rows, rec.metrics)
        # Why: an imported model's source, "imported from FILE (name@N; SOURCE)", read "rows of imported from ..."
        imported = imported_parts(rec.source)
        of = rec.source if imported is None else imported[2]
        came = "" if imported is None else f", as {imported[1]} (imported from {imported[0]})"
        if sample is None:
            rows = f"{rec.train_rows} rows of {of}{came}"
        else:
            rows = (f"a seeded sample of {sample} of the {rec.train_rows} rows of {of}{came} (thresholds from all "
                    f"{rec.train_rows}; max_train_rows={(rec.params or {}).get('max_train_rows', sample)})")
        click.echo(f"{rec.ref}  kind={rec.kind}{_members_text(rec.params or {})}  created {rec.created_at}  "
                   f"trained on {rows}")
        # Why: what dashboards calling the bare name score with, and whether this version's columns still fit them
        if live == rec.version:
            means = "is this one"
        elif live not in versions:  # its features unreadable: a damaged row, which `list` reports
            means = f"is {rec.name}@{live}"
        elif not store.same_features(versions[live], rec.feature_names):
            means = f"is {rec.name}@{live}, of other columns ({', '.join(versions[live])})"
        else:
            means = f"is {rec.name}@{live}, of the same columns"
        click.echo(f"versions: {', '.join(map(str, stored))}; '{rec.name}' {means}"
                   f"{f', {rec.ref}' if live == rec.version else ''}")
        called = "; ".join(f"{v} ({', '.join(map(repr, refs))})" for v, refs in calling)
        click.echo(f"views calling it: {called or 'none in this database'}")
        click.echo(f"sha256 {rec.sha256}  ({len(rec.onnx)} bytes of ONNX)")
        libs = ", ".join(f"{k} {v}" for k, v in (rec.lib_versions or {}).items()) or "not recorded"
        click.echo(f"libraries: {libs}")
        click.echo(f"score with: {score_call}")
        if call is None:
            click.echo("retrain with: not recorded (a model stored before ad_duckdb recorded the source it was trained "
                       f"on; its source column says {rec.source!r})\n")
        else:
            click.echo(f"retrain with: {call}")
            if command is not None:
                click.echo(f"  or in a shell: {command}")
            elif no_flag:  # Why said: a shell user otherwise looks for a command line that cannot exist
                click.echo(f"  (no shell command: {', '.join(no_flag)} {'has' if len(no_flag) == 1 else 'have'} no "
                           "flag of ad-duckdb train)")
            if call_note and not notes_ignored():  # a note as any other: PYTHONWARNINGS=ignore leaves it out
                click.echo(f"  note: {call_note}")
            click.echo("  (the same rows in the same order, with these library versions, store the same sha256 and "
                       "training thresholds)\n")
        # fill is a raw value, center and scale after the transform: each read against its own units' spread
        lay = categorical.layout(rec.features)
        numeric = rec.features if lay is None else rec.features[: lay.numeric]
        _print_rows(["feature", "sql_type", "transform", "fill (NULL/NaN)", "center", "scale"],
                    [(f.name, f.sql_type, f.transform, _Number(_against_spread(f.fill, _raw_spread(f))),
                      _Number(_against_spread(f.center, f.scale)), _Number(value_text(f.scale)))
                     for f in numeric]
                    + [(n, t, "categories", cats[0], "", "") for (n, cats), t in zip(
                        lay.text if lay else (), categorical.text_types(rec.features), strict=True)])
        for n, cats in lay.text if lay else ():
            click.echo(f"text feature {n!r}: {len(cats)} categories ({', '.join(repr(c) for c in cats)}), and any "
                       "other value (one input more); NULL is read as the first")
        click.echo("")
        click.echo("flagged_training: the share of the model's training rows each threshold flags (from their score "
                   "quantiles for one chosen elsewhere); flagged_chosen_on: the share of the rows it was chosen on "
                   "(labelled rows, or alarm_rate's rows), far larger on labelled rows rich in anomalies")
        _print_rows(["threshold", "value", "method", "precision", "recall", "f1", "flagged_training",
                     "flagged_chosen_on", "chosen_on"],
                    [(t.name, t.value, _method_text(t), *(None if v is None else _Number(f"{v:.3f}")
                                                           for v in (t.precision, t.recall, t.f1)),
                      *budgetshare.split(t, quantiles, rec.metrics),
                      t.chosen_on) for t in rec.thresholds])
        for t in rec.thresholds:
            if (optimistic := training_rows_note(t)) is not None and not notes_ignored():
                click.echo(f"note: threshold {t.name!r}: {optimistic}")
            if t.method == alarmrate.METHOD:  # its statement (rows, period, rate achieved) is cut off in the table
                click.echo(f"threshold {t.name!r} chosen on {optionwords.said_stored(t.chosen_on or '')}")
        click.echo("")
        m = {k: v for k, v in rec.metrics.items() if k not in ("score_quantiles", RANKS, TOP)}  # lists too long to show
        sizes = _code_sizes_of(rec.params or {})
        for k, v in m.items():
            # train_where None is "no filter": Python's None read as a filter named None
            # Why the cut beside latent_dim: alone it read as every member's code size, wider than most keep
            kept = f" (members keep {_and_list(sizes)})" if k == "latent_dim" and sizes else ""
            click.echo(f"{k:<24} {'(none)' if v is None else _metric_text(v)}{kept}")
        p = rec.params
        click.echo(f"{'params':<24} {json.dumps(p, default=str)}")


def _code_sizes_of(params: dict[str, Any]) -> list[int]:
    """A stored version's code_sizes, [] for none (or a malformed value of an imported file)."""
    sizes = params.get("code_sizes")
    return sizes if isinstance(sizes, list) and sizes and all(isinstance(n, int) for n in sizes) else []


def _and_list(items: Sequence[object]) -> str:
    """'1 and 4', '2, 4, 8 and 16'."""
    words = [str(i) for i in items]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _members_text(params: dict[str, Any]) -> str:
    """What `show`'s head adds to kind= for an ensemble: its members and, multi-scale, their code sizes."""
    sizes, n = _code_sizes_of(params), params.get("n_models")
    if len(sizes) == 1:
        return f" (its code cut to {sizes[0]} numbers)"
    if sizes:
        return f" (a multi-scale ensemble of {len(sizes)}: codes of {_and_list(sizes)} numbers)"
    return f" (an ensemble of {n})" if isinstance(n, int) and not isinstance(n, bool) and n > 1 else ""


def _metric_text(v: Any) -> str:
    """A training metric as `show` prints it: floats as its tables print them (--format json: whole)."""
    if isinstance(v, float):
        return _float_text(v)
    if isinstance(v, list) and any(isinstance(x, float) for x in v):
        return "[" + ", ".join(_metric_text(x) for x in v) + "]"
    return str(v)


def _versions_to_drop(db: str, model: str, keep: int | None) -> list[int]:
    """The versions drop would drop, read before its question: a model or version not stored fails here (exit 5)."""
    with _open(db, read_only=True) as con:
        return storedrop.chosen(con, model, keep)


@click.command(cls=_Command)
@click.argument("db")
@click.argument("model")
@click.option("--keep", type=click.IntRange(min=1),
              help="Prune: drop every version of MODEL (a name without @N) but the KEEP newest (and the one the bare "
                   "name means, when an older one was promoted).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--format", "out_format", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="json: what was dropped, as one object (name, dropped: the versions, latest: what the name "
                   "means now, null when no version is left), for scripts.")
def drop(db: str, model: str, keep: int | None, yes: bool, out_format: str) -> None:
    """Drop MODEL: 'name' drops every version, 'name@N' one version, 'name --keep N' all but the N newest.

    Version numbers are never reused, so a query pinned to a kept 'name@M' keeps working.

    \b
    Examples:
      ad-duckdb drop warehouse.duckdb tx_ae@1 --yes
      ad-duckdb drop warehouse.duckdb tx_ae --keep 7 --yes
    """
    if keep is not None and "@" in model:
        # a wrong combination of arguments, as a script's exit code 2 says (it was 1, after opening the database)
        raise click.UsageError(f"--keep prunes the older versions of a name: give the name without @N "
                               f"({model.split('@')[0]!r}), or drop {model!r} without --keep.")
    try:
        modelnames.parse_ref(model)  # before the question: a typo'd reference, once confirmed, still dropped nothing
    except OptionError as e:
        raise _failure(str(e), e) from None
    # Why looked up before the question: a name or version not stored was asked about, and only a 'y' told that
    # there was nothing to drop; the question names the versions, read-only so no writer waits on the answer
    base = model.split("@")[0]
    to_drop = [] if yes else _versions_to_drop(db, model, keep)
    if to_drop:  # (none: --keep prunes nothing, which the drop below says without a question)
        listed = f"{base}@{to_drop[0]}" if len(to_drop) == 1 else f"{base} versions {', '.join(map(str, to_drop))}"
        whole = " (its only version)" if len(to_drop) == 1 else " (every version)"
        what = listed + (f" (all but the {keep} newest)" if keep else "" if "@" in model else whole)
        try:
            # the question on stderr: stdout is the command's output, which a script may parse
            click.confirm(f"Drop {what} from {db}?", abort=True, err=True)
        except click.Abort:
            if sys.stdin.isatty():
                raise
            # Why: a script without a terminal (cron) got the question on stdout and a bare "Aborted!"
            # --keep kept in the command shown: without it, pasting the hint dropped every version instead of pruning
            again = shlex.join(["ad-duckdb", "drop", db, model, *(["--keep", str(keep)] if keep else []), "--yes"])
            raise click.UsageError(f"drop was not confirmed (standard input is not a terminal, and gave no 'y'): in a "
                                   f"script add --yes, e.g. {again}") from None
    with _open(db) as con, _notes(), _done_if_interrupted(
            lambda: set(_read_quietly(con, "SELECT list(version) FROM ad_models WHERE name = ?", [base]) or []),
            lambda b, a: f"{base} version(s) {', '.join(map(str, sorted(b - a)))} were dropped" if b - a else None):
        before = store.known_models(con).get(base, [])
        was = store.bare_version(con, base, before) if before else None
        versions = api.drop_model(con, model, keep=keep)
        now = store.known_models(con).get(base, [])
        bare = store.bare_version(con, base, now) if now else None
        if out_format == "json":
            click.echo(jsonvalues.dumps({"name": base, "dropped": versions,
                                         "latest": f"{base}@{bare}" if now else None}, indent=1))
            return
        if not versions:
            click.echo(f"dropped nothing: {base} has at most {keep} version(s) besides the one '{base}' means")
            return
        # Why said: dropping the newest is a roll-back, and a script's log should show what 'name' means after it
        moved = f": '{base}' is now {base}@{bare}" if now and bare != was else ""
        click.echo(f"dropped {base} version(s) {', '.join(map(str, versions))}{moved}")
