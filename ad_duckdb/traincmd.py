"""The `train` command, added to the CLI by cli.py."""

from __future__ import annotations

import re
import shlex
from typing import Any, cast

import click
import duckdb

from . import (
    alarmrate,
    api,
    categorical,
    interrupts,
    jsonvalues,
    thresholds,
    trainhold,
    trainsample,
    udfs,
    versioncmds,
)
from .cliargs import _ATTACH, _split
from .clicommand import _QueryWordsCommand
from .clidone import _stored_if_interrupted
from .clifail import EXIT_NO_SOURCE, _add_to_message, _failure
from .clinotes import _notes
from .clinumbers import _against_spread, _raw_spread
from .cliopen import _attachments, _connect_attaching, _Creation, _lock_wait, _open, _refuse_in_memory, _remove_new_database
from .exceptions import BadInputError
from .namelists import listing
from .numbertext import share_text
from .retraincmd import FLAGS
from .showcmds import _method_text, _score_call
from .sqltext import shell_word
from .store import Threshold


def _names_missing_relation(e: BaseException) -> bool:
    """Whether DuckDB's catalog (a table, view or schema not there) refused, somewhere in ``e``'s causes."""
    chain: list[BaseException] = []
    link: BaseException | None = e
    while link is not None and link not in chain:  # a chain may loop back on itself
        chain.append(link)
        # a context raised `from None` is no cause: the error replaced it (a file path not read, no table missing)
        link = link.__cause__ or (None if link.__suppress_context__ else link.__context__)
    return any(isinstance(x, duckdb.CatalogException) for x in chain)


@click.command(cls=_QueryWordsCommand)
@click.argument("db")
@click.argument("name")
@click.argument("source")
@click.option("-f", "--feature", "features", multiple=True,
              help="Feature column (repeat, or comma-separate). Default: every numeric column except id-like ones "
                   "(integers named id, *_id or *Id, or rising row by row, or named *_No or *Number with a distinct value in "
                   "every row; a row index written out, such as 'Unnamed: 0') and "
                   "columns --where holds at one value; a note names the columns left out.")
@click.option("--where", help="SQL filter for training rows, e.g. \"label = 0\" to train on normal rows only.")
@click.option("--contamination", type=float, default=0.01, show_default=True, help="Share of training rows the default threshold flags.")
@click.option("--robust/--no-robust", default=None,
              help="Robust training for unlabelled data (stops before the rare rows are learned). "
                   "Default: on unless --where is given.")
@click.option("--epochs", type=int, help="Epoch budget (default: sized from the row count).")
@click.option("--n-models", type=int,
              help="Autoencoders in the ensemble (trained side by side, scores averaged).  [default: 1, or the "
                   "number of --code-sizes]")
@click.option("--code-sizes", callback=lambda ctx, param, value: _code_sizes(value), metavar="N,N,...",
              help="A multi-scale ensemble, for unlabelled rows: one autoencoder per size, each keeping that many "
                   "numbers of its code (--n-models and the code length follow). 2,4,8,16 scored better on "
                   "average on unlabelled benchmark data, and costs about 3-4x the scoring time and 1.5-3x the "
                   "training time (README: Quality and speed).")
@click.option("--hidden-dims", callback=lambda ctx, param, value: _hidden_dims(value), metavar="N,N,...",
              help="The encoder's layer widths, the decoder mirrors them (default: 32,16 for 2-3 features, 64,32 "
                   "above). On a few columns that go together closely, as the example's count, amount, "
                   "distinct_cards and refunds, 32,16 reconstructs rows that break how they go together worse "
                   "than 64,32, so it flags more of them (README: How it works).")
@click.option("--latent-dim", type=int, metavar="N",
              help="How many numbers the code, the narrowest layer, keeps: at most the last of --hidden-dims "
                   "(default: 8, or the largest of --code-sizes). The latent-neighbour term measures distances "
                   "between codes (README: How it works).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Random seed: the same data, options and seed train the same model.")
@click.option("--max-train-rows", type=int, default=1_000_000, show_default=True,
              help="Above this many rows the network learns from a seeded sample of them (the thresholds still "
                   "come from every row's score): memory is the sample's, plus 8 bytes a source row for those scores, plus "
                   "the table blocks DuckDB caches while it scans (up to its memory_limit).")
@click.option("--constant-columns", type=click.Choice(["error", "keep"]), default="error", show_default=True,
              help="A feature with one value in every training row: refuse it, or keep it and score any other value as outside the training range.")
@click.option("--carry-thresholds", is_flag=True,
              help="Give the new version your thresholds of earlier versions (set with `ad-duckdb threshold`; each "
                   "from the version 'NAME' means, else the newest that has it; one you set on a staged version after "
                   "staging it, later, from that one), so queries naming them keep working: one chosen on labels "
                   "is chosen again on the same labelled rows, the others move to the same point of the new "
                   "training scores. Not default and p90 ... p999, which every training sets anew.")
@click.option("--promote/--no-promote", default=True, show_default=True,
              help="--no-promote stages the new version: 'NAME' keeps meaning the version it meant (dashboards "
                   "calling it do not move) while 'NAME@N' scores with the new one; `ad-duckdb promote DB NAME@N` "
                   "makes 'NAME' mean it later.")
@click.option("-q", "--quiet", is_flag=True, help="No progress on stderr (a bar on a terminal; in a log, a line at start, "
              "about one per tenth of the steps, and how it ended; above --max-train-rows, also the rows read for "
              "the sample and scored for the thresholds, every 30 s).")
@click.option("--format", "out_format", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="json: what was stored, as one object (model, name, version, rows, sample_rows, features, "
                   "threshold, flagged_share, contamination, thresholds, filled_values, carried, train_seconds), "
                   "for a scheduler's next step; notes stay on stderr.")
@_ATTACH
def train(db: str, name: str, source: str, features: tuple[str, ...], where: str | None, contamination: float,
          robust: bool | None, epochs: int | None, n_models: int | None, code_sizes: tuple[int, ...] | None,
          hidden_dims: tuple[int, ...] | None, latent_dim: int | None, seed: int, max_train_rows: int, constant_columns: str,
          carry_thresholds: bool, promote: bool, quiet: bool, out_format: str, attach: tuple[str, ...]) -> None:
    """Train model NAME on SOURCE (a table, view, read_parquet(...) or a SELECT) and store it in DB.

    \b
    Example (no labels, every row; without -f every numeric column but the id-like ones is a feature):
      ad-duckdb train warehouse.duckdb tx_ae transactions -f count -f amount
    The classic fraud recipe, normal rows only (name the features, or the label column and every
    other numeric column become features too):
      ad-duckdb train cards.duckdb card_small cards -f V1 -f V2 -f Amount --where "split = 'train'"
    Re-training the same NAME adds a version; SQL uses 'NAME' (its promoted version, else its newest) or 'NAME@2'.
    A nightly retrain that keeps your thresholds ('cut', 'prec90') for is_anomaly_at:
      ad-duckdb train warehouse.duckdb tx_ae transactions -f count -f amount --carry-thresholds
    A table of another DuckDB file, read where it is (read-only), the model stored in models.duckdb:
      ad-duckdb train models.duckdb tx_ae lake.main.tx -f count -f amount --attach lake.duckdb
    Unlabelled rows, four autoencoders with codes of 2, 4, 8 and 16 numbers (about x3 the scoring time):
      ad-duckdb train warehouse.duckdb tx_ms transactions -f count -f amount --code-sizes 2,4,8,16
    A narrower network, for a few columns that go together closely (README: How it works):
      ad-duckdb train warehouse.duckdb tx_n transactions -f count,amount,distinct_cards,refunds --hidden-dims 32,16
    What was stored, as one JSON object on stdout for a scheduler's next step (its "model": the name@version):
      ad-duckdb train warehouse.duckdb tx_ae transactions -f count -f amount --quiet --format json
    `ad-duckdb show DB NAME` gives the command that trains a stored version again (the same rows, the same model).
    """
    _refuse_in_memory(db, "train", f"ad-duckdb train models.duckdb {shlex.quote(name)} {shell_word(source)}")
    creation = _Creation()
    stored = False
    done: list[str] = []
    held: trainhold.FileHold | None = None
    try:
        with (_open(db, create=True, creation=creation, attach=attach) as opened,
              _stored_if_interrupted(lambda: held.con if held else opened, name) as done):
            # the file is let go while the network learns, and opened again (as --attach had it) to store the model
            held = trainhold.FileHold(opened, lambda wait: _reopen(db, attach, wait))
            with _notes():
                # n_models, code_sizes, hidden_dims and latent_dim only when given: code_sizes sets n_models and
                # latent_dim unless they are given, and the default widths follow the feature count
                given = {k: v for k, v in (("n_models", n_models), ("code_sizes", code_sizes),
                                           ("hidden_dims", hidden_dims), ("latent_dim", latent_dim)) if v is not None}
                info = _train(held, name, source, features, where, contamination=contamination, robust=robust,
                              epochs=epochs, seed=seed, max_train_rows=max_train_rows,
                              constant_columns=constant_columns, carry_thresholds=carry_thresholds,
                              promote=promote, progress=not quiet, **given)
            stored = True
            con = held.con
            m = info.metrics
            sample = trainsample.sample_size(info.train_rows, m)
            if out_format == "json":
                _print_trained(con, info, contamination, sample, carry_thresholds)
                return
            # Why said: "N rows" alone read as the network having learned from all N of a table above the limit
            sampled = (f" (the network learned from a seeded sample of {sample}, --max-train-rows; thresholds from all)"
                       if sample is not None else "")
            names = listing(info.features)
            if names != ", ".join(info.features):
                names += "; `ad-duckdb show` lists them"
            cut, members = m.get("code_sizes"), m.get("n_models")
            codes = (f", codes cut to {', '.join(map(str, cut))} ({len(cut)} members)" if cut else
                     f", {members} members" if isinstance(members, int) and members > 1 else "")
            click.echo(f"stored {info.ref}: {info.train_rows} rows{sampled}, features ({names}), "
                       f"layers {m['hidden_dims']} latent {m['latent_dim']}{codes}, {m['train_seconds']:.1f}s")
            filled = {c: n for c, n in (m.get("filled_values") or {}).items() if n}
            if filled:
                # Why both said: "amount 400" read as the median when it was the count of values filled
                specs = api.load_model(con, info.ref).features
                fills = {f.name: f for f in specs}
                # a text column's NULLs read as its first category (categorical.Layout.encode), not a median
                lay = categorical.layout(specs)
                firsts = {n: cats[0] for n, cats in (lay.text if lay else ())}
                click.echo("filled NULL / NaN values with the training median"
                           + (" (a text column's with its most common value)" if set(filled) & set(firsts) else "")
                           + ": " + ", ".join(
                    f"{c} ({n} value{'s' if n != 1 else ''}, "
                    + (f"read as {firsts[c]!r}, its most common value)" if c in firsts else
                       f"median {_against_spread(fills[c].fill, _raw_spread(fills[c]))})") for c, n in filled.items()))
            if robust is None and m.get("robust") is False:
                click.echo(_ROBUST_OFF.format(where=shell_word(where or "")))
            _print_train_hint(con, info, name, contamination, source)
            staged = versioncmds.staged_line(con, info.name, info.version)
            if staged:
                click.echo(staged)
            if carry_thresholds:
                _print_carried(api.load_model(con, info.ref).thresholds)
    except BaseException as e:
        if held is not None:
            held.con.close()  # before the look at the file below, which a connection of ours would keep from it
        # a mistyped path must not leave an empty database behind; one let go while the model trained may hold what
        # another process wrote meanwhile, so it goes only if it is still empty
        if creation.ours and not stored and not done and (held is None or not held.let_go or trainhold.still_empty(db)):
            _remove_new_database(db)
            if isinstance(e, click.ClickException) and e.exit_code == EXIT_NO_SOURCE and _names_missing_relation(e):
                # Why said: "not a table or view in this database" sent a user who mistyped the database's path to
                # look for the table in the database they meant, where it is. Why only then: a misspelt column or a
                # missing file of a CSV source (a first training into a new database) is no fault of the path
                _add_to_message(e, f" The database {db!r} did not exist before this run (train creates one) and is "
                                   "removed again: check its path if you meant an existing one.")
        raise
    finally:
        if held is not None:
            held.con.close()  # the connection opened again to store (_open closes the first)


# Why said: --where turns robust training off on the reading that it keeps the normal rows (--where "label = 0"), and
# a filter that does not (dates, a region) trained as if no anomaly were among its rows, with no word of it
_ROBUST_OFF = ("robust training off: the rows --where {where} keeps are taken as normal; if they may hold anomalies "
               "(the filter picks dates or a region, not labels), add --robust")


def _print_trained(con: duckdb.DuckDBPyConnection, info: api.ModelInfo, contamination: float, sample: int | None,
                   carried: bool) -> None:
    """`train --format json`: the version stored, as one object. Why: a job parsed "stored tx_ae@2: ..." for the
    version, or ran `show` after it, which a retrain in between made another version's."""
    share = info.flagged_shares.get("default")
    m = info.metrics
    doc: dict[str, Any] = {
        "model": info.ref, "name": info.name, "version": info.version, "rows": info.train_rows, "sample_rows": sample,
        "features": info.features, "threshold": info.thresholds["default"],
        "flagged_share": share if share is not None else contamination, "contamination": contamination,
        "thresholds": info.thresholds, "filled_values": {c: n for c, n in (m.get("filled_values") or {}).items() if n},
        "carried": [{"name": t.name, "value": t.value, "method": t.method}
                    for t in (api.load_model(con, info.ref).thresholds if carried else [])
                    if t.name not in thresholds.FROM_TRAINING],
        "hidden_dims": m["hidden_dims"], "latent_dim": m["latent_dim"], "train_seconds": m["train_seconds"]}
    click.echo(jsonvalues.dumps(doc, indent=1))


def _reopen(db: str, attach: tuple[str, ...], wait: float) -> duckdb.DuckDBPyConnection:
    """DB opened again for train to store its model, with the --attach files, waiting up to ``wait`` seconds (or
    --wait, if longer) while another process holds it; tracked for Ctrl-C as _open's connection is."""
    con = _connect_attaching(db, False, None, None, _attachments(db, attach), wait=max(wait, _lock_wait()) if wait else 0)
    interrupts.track(con)
    udfs.registry(con).opened_afresh = True
    return con


def _sizes(value: str | None, flag: str, example: str, each: str) -> tuple[int, ...] | None:
    """A comma-separated list of sizes (``--code-sizes 2,4,8,16``) as a tuple of ints; ``each``: what one size is."""
    if value is None:
        return None
    parts = [p.strip() for p in value.split(",")]
    if not all(p.isdigit() and int(p) >= 1 for p in parts):
        raise click.BadParameter(f"{value!r} is not a list of positive whole numbers, e.g. {example} ({each}).",
                                 param_hint=f"'{flag}'")
    return tuple(int(p) for p in parts)


def _code_sizes(value: str | None) -> tuple[int, ...] | None:
    """--code-sizes 2,4,8,16 as (2, 4, 8, 16); the library checks them against --n-models."""
    return _sizes(value, "--code-sizes", "2,4,8,16", "one code size per autoencoder")


def _hidden_dims(value: str | None) -> tuple[int, ...] | None:
    """--hidden-dims 32,16 as (32, 16); the library checks the code against the last width."""
    return _sizes(value, "--hidden-dims", "32,16", "one width per layer of the encoder")


def _print_carried(stored: list[Threshold]) -> None:
    """One line per threshold carried to the new version: what it flags now, and how it was set."""
    for t in stored:
        if t.name in thresholds.FROM_TRAINING:
            continue
        if t.method in thresholds.LABELLED:
            # which goal was met again (confident, sampled normal): a precision and a recall read as any goal's
            how = (f"chosen again on labels ({_method_text(t, prices=False)}): precision {t.precision:.3f}, "
                   f"recall {t.recall:.3f}")
            if t.method == "min_cost":  # what the new version's cut costs: what its goal is about
                how += f"; {(t.chosen_on or '').rpartition('; ')[2]}"
        elif t.method == alarmrate.METHOD:  # chosen again on its rows (carrythresholds.choose_goals_again), not moved
            said = re.search(r"target [^:;]+: flags \d+ of \d+ rows", t.chosen_on or "")
            how = f"chosen again on its rows{f' ({said[0]})' if said else ''}"
        else:
            assert t.flagged_share is not None  # thresholds.carried gives each point it moves the share it flags
            how = f"at the same point of the training scores (flags {share_text(t.flagged_share)} of training rows)"
        click.echo(f"carried {t.name}: {t.value:.6g}, {how}")


def _train(held: trainhold.FileHold, name: str, source: str, features: tuple[str, ...], where: str | None,
           **params: Any) -> api.ModelInfo:
    try:
        # a FileHold, which train takes as the file it may let go while the network learns (not a public type)
        return api.train(cast(Any, held), name, source, features=_split(features, held.con, source, "-f"),
                         where=where, **params)
    except BadInputError as e:
        # A training option out of range is a wrong option (exit 2), named by its flag, as click names its own
        param = re.match(r"The '(\w+)' parameter (must be .*)", str(e))
        if param and param.group(1) in FLAGS:
            allowed = param.group(2).replace(" or None.", " (or leave the option out).")
            raise _failure(f"Invalid value for '{FLAGS[param.group(1)]}': {allowed}", e, code=2) from e
        sizes = re.match(r"(code_sizes|latent_dim)=", str(e))
        if sizes:  # --code-sizes against --n-models, a code wider than its layer: a wrong option too
            said = getattr(e, "cli", None) or str(e)  # in flags, where the library has the command line's spelling
            raise _failure(f"Invalid value for '{FLAGS[sizes.group(1)]}': {said}", e, code=2) from e
        # Without -f every numeric column is a feature, so a label column is constant under --where "label = 0"
        # and an empty column fails too: the library's error then gives the features to keep, -f flags included
        # (otherfeatures), so it is raised as is.
        raise


def _print_train_hint(con: duckdb.DuckDBPyConnection, info: api.ModelInfo, name: str, contamination: float,
                      source: str) -> None:
    share = info.flagged_shares.get("default")
    share = share if share is not None else contamination
    click.echo(f"default threshold {info.thresholds['default']:.6g} (flags {share_text(share)} of training rows; "
               f"contamination {share_text(contamination)})")
    click.echo(f"score with: {_score_call(con, name, info.features, source)}")
