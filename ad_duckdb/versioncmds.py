"""The `promote`, `rollback` and `history` commands (promotion.py), added to the CLI by cli.py."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click
import duckdb

from . import jsonvalues, modelnames, store, thresholdlog, typedpaths


def staged_line(con: duckdb.DuckDBPyConnection, name: str, version: int) -> str | None:
    """What `train --no-promote` says after "stored ...": which version the bare name still means, and how to
    promote the new one; None when the name means the new version."""
    stored = store.known_models(con).get(name, [])
    current = store.bare_version(con, name, stored) if stored else None
    if current is None or current == version:
        return None
    db = typedpaths.cli_db(con)
    return (f"staged: '{name}' still means {name}@{current} (queries, views and dashboards calling it do not move); "
            f"score the new one as '{name}@{version}', then `ad-duckdb promote {db} {name}@{version}`")


def _moved(name: str, was: int | None, now: int) -> str:
    if was == now:
        return f"'{name}' already means {name}@{now}: nothing changed"
    return f"'{name}' now means {name}@{now}" + (f" (was {name}@{was})" if was is not None else "")


# promote's and rollback's output option
_WAS_NOW = click.option("--format", "out_format", type=click.Choice(["table", "json"]), default="table",
                        show_default=True, help="json: one object (name, was, now: versions) for scripts.")


@click.command()
@click.argument("db")
@click.argument("model")
@_WAS_NOW
def promote(db: str, model: str, out_format: str) -> None:
    """Make 'NAME' mean version N (MODEL is NAME@N; NAME alone: its newest version).

    Queries, views, dbt models and a server calling 'NAME' then score with it (a server after SIGHUP); calls
    pinning 'NAME@M' do not move. Stage a retrain with `train --no-promote`, look at it as 'NAME@N'
    (`ad-duckdb compare DB NAME NAME@N SOURCE`), then promote it. `ad-duckdb rollback DB NAME` goes back.

    \b
    Example: stage a retrain, then make 'tx_ae' mean it (tx_ae alone: its newest version; tx_ae@N: that one):
      ad-duckdb train warehouse.duckdb tx_ae transactions -f count -f amount --no-promote
      ad-duckdb promote warehouse.duckdb tx_ae
    """
    from . import promotion
    from .clinotes import _notes
    from .cliopen import _open

    with _open(db) as con, _notes():
        was, now = promotion.promote(con, model)
    _report(modelnames.parse_ref(model)[0], was, now, out_format)


@click.command()
@click.argument("db")
@click.argument("name")
@_WAS_NOW
def rollback(db: str, name: str, out_format: str) -> None:
    """Make 'NAME' mean the version it meant before its current one (when that one is still stored).

    Nothing is dropped: the version rolled back from stays, as 'NAME@N', and `ad-duckdb promote` brings it back (a
    second rollback does too). `ad-duckdb history DB NAME` shows which version 'NAME' meant when.

    \b
    Example:
      ad-duckdb rollback warehouse.duckdb tx_ae
    """
    import shlex

    from . import promotion
    from .clifail import _failure
    from .clinotes import _notes
    from .cliopen import _open

    if "@" in name:
        # Why here: the library's words name ad_duckdb.promote(con, ...) first and DB as a placeholder, exit 1,
        # for what is a wrong argument of this command
        bare = name.split("@")[0]
        raise _failure(f"rollback takes a model name without @N: ad-duckdb rollback {shlex.quote(db)} "
                       f"{shlex.quote(bare)}; to make {bare!r} mean {name}, promote it: ad-duckdb promote "
                       f"{shlex.quote(db)} {shlex.quote(name)}.", code=2)
    with _open(db) as con, _notes():
        was, now = promotion.rollback(con, name)
    _report(name, was, now, out_format)


def _report(name: str, was: int | None, now: int, out_format: str) -> None:
    if out_format == "json":
        click.echo(jsonvalues.dumps({"name": name, "was": was, "now": now}, indent=1))
    else:
        click.echo(_moved(name, was, now))


@click.command()
@click.argument("db")
@click.argument("name")
@click.option("--format", "out_format", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="json: one object (name, current, versions: each with status, created_at, source, where, "
                   "train_rows, features, thresholds, figures, sha256, events) for scripts.")
def history(db: str, name: str, out_format: str) -> None:
    """The changelog of model NAME: per version, when and on what rows it was trained, its features, thresholds
    and training figures, its sha256, and who stored, promoted, rolled back or dropped it and when (UTC).

    A dropped version keeps its sha256 and what it was trained on here, so a score table's anomaly_model
    ('tx_ae@3') can still be traced. Versions dropped before this release kept no record, and say so.

    \b
    Example:
      ad-duckdb history warehouse.duckdb tx_ae --format json
    """
    from . import promotion
    from .clinotes import _notes
    from .cliopen import _open

    with _open(db, read_only=True) as con, _notes():
        doc = promotion.model_history(con, name)
    if out_format == "json":
        click.echo(jsonvalues.dumps(doc, indent=1))
        return
    click.echo("\n".join(history_lines(doc)))


def _when(at: Any) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S") if isinstance(at, dt.datetime) else str(at)[:19]


def _value(x: Any) -> str:
    return f"{x:.6g}" if isinstance(x, float) else str(x)


def history_lines(doc: dict[str, Any]) -> list[str]:
    name, current = doc["name"], doc["current"]
    head = (f"'{name}' means {name}@{current}" if current is not None else f"no version of '{name}' is stored")
    lines = [f"{name}: {head} (times UTC)"]
    for v in reversed(doc["versions"]):  # newest first, as a changelog reads
        lines.append("")
        status = {"current": f"what '{name}' means", "staged": "staged (newer than what the name means)",
                  "unreadable": "stored, unreadable"}.get(
            v["status"], v["status"])
        lines.append(f"{name}@{v['version']}  {status}")
        if v.get("problem"):
            lines.append(f"  {v['problem']}")
        if v.get("unrecorded"):
            lines.append("  dropped before this database kept a changelog: no record of it")
            continue
        if v["created_at"] is not None:
            rows = f"{v['train_rows']} rows of {v['source']}" if v["train_rows"] is not None else str(v["source"])
            lines.append(f"  trained {_when(v['created_at'])} on {rows}")
        if v["features"]:
            lines.append(f"  features: {', '.join(v['features'])}")
        if v["thresholds"]:
            lines.append("  thresholds: " + ", ".join(f"{k} {_value(x)}" for k, x in v["thresholds"].items()))
        if v["figures"]:
            lines.append("  training: " + ", ".join(f"{k} {_value(x)}" for k, x in v["figures"].items()))
        if v["sha256"]:
            lines.append(f"  sha256 {v['sha256']}")
        for e in v["events"]:
            said = e["event"]
            if e["event"] in ("trained", "imported") and e.get("promoted") is False:
                said += f" (staged: '{name}' stayed {name}@{e['was']})" if e.get("was") is not None else " (staged)"
            elif e["event"] in ("promoted", "rolled back") and e.get("was") is not None:
                said = f"{'promoted' if e['event'] == 'promoted' else 'rolled back to'}: '{name}' was {name}@{e['was']}"
            elif e["event"] == thresholdlog.EVENT:
                said = thresholdlog.said(e)
            lines.append(f"  {_when(e['at'])}  {said} by {e['by']}")
    return lines


COMMANDS = (promote, rollback, history)
