"""The call that trains a stored model again, read from its record: what a lead needs to answer "how was this
model made?" and to reproduce it (the same rows in the same order, options and seed train the same ONNX bytes)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import fields
from typing import Any

from . import relfiles
from .attachfiles import Attached, option_hint, statement
from .sqltext import name_parts, sql_name
from .store import ModelRecord
from .trainer import TrainParams

# Not model options: the progress bar changes nothing stored, and kind= sets variational.
_LEFT_OUT = {"progress", "variational"}


def retrain_call(rec: ModelRecord) -> str | None:
    """``ad_duckdb.train(con, ...)`` as Python source, with the options that differ from the defaults and the seed;
    None for a record that does not say what it was trained on (a model stored before ad_duckdb recorded it).

    Why Python rather than the command line: the command line takes a few of the options (no ``kind``,
    ``hidden_dims``, ``max_train_rows``, ...), so only the Python call can name every model the API trains.
    """
    metrics, params = rec.metrics or {}, rec.params or {}
    if "train_source" not in metrics or not params:
        return None
    where = metrics.get("train_where")
    args = [repr(rec.name), repr(trained_source(metrics)), f"features={rec.feature_names!r}"]
    if where is not None:
        args.append(f"where={where!r}")
    if rec.kind != "autoencoder":
        args.append(f"kind={rec.kind!r}")
    options = stored_options(rec, robust_default=where is None)
    args += [f"{name}={_literal(name, value)}" for name, value in options.items() if name != "seed"]
    args.append(f"seed={options['seed']!r}")
    return f"ad_duckdb.train(con, {', '.join(args)})"


def trained_source(metrics: dict[str, Any]) -> str:
    """The source a model's metrics record, its relative file paths joined to the folder training ran in, so that
    the call (or command) that reads it again runs from any folder."""
    source = str(metrics["train_source"])
    folder = metrics.get("train_folder")
    return (relfiles.joined(source, folder) if isinstance(folder, str) else None) or source


def stored_options(rec: ModelRecord, *, robust_default: bool) -> dict[str, Any]:
    """The training options of ``rec`` that differ from what training would choose by itself, and the seed; the
    values as stored (lists for sizes). ``robust_default``: what ``robust`` is when not given (``ad_duckdb.train``:
    on without a where= filter; ``AutoEncoderDetector``: on)."""
    params = rec.params or {}
    defaults = {f.name: f.default for f in fields(TrainParams)}
    # hidden_dims and latent_dim are stored as trained (sized from the feature count when not given), robust as
    # decided: named only where they differ from what training would choose.
    hidden, latent = TrainParams().sizes(len(rec.features))
    chosen = {"hidden_dims": list(hidden), "latent_dim": latent, "robust": robust_default}
    sizes = params.get("code_sizes")
    if isinstance(sizes, list) and sizes:  # n_models and latent_dim follow from code_sizes (with_code_sizes)
        chosen |= {"n_models": len(sizes), "latent_dim": max(sizes)}
    out = {name: value for name, value in params.items()
           if name not in _LEFT_OUT and name != "seed" and value != chosen.get(name, defaults.get(name, _Missing))}
    return out | {"seed": params.get("seed", defaults["seed"])}


class _Missing:
    """Stands for an option this release does not know (stored by a newer one): always named."""


def _literal(name: str, value: Any) -> str:
    """``value`` as Python source; layer and code sizes as a tuple, as the API documents them."""
    if name in ("hidden_dims", "code_sizes") and isinstance(value, list):
        return repr(tuple(value))
    return repr(value)


def retrain_note(rec: ModelRecord, databases: Collection[str] | None = None,
                 source_columns: Collection[str] | None = None) -> str | None:
    """What the ``retrain_call`` of ``rec`` cannot say by itself: that its source was a Python variable of the
    training session, a source of the database an imported model was exported from, or a table of a database the
    training connection had attached and this one (``databases``: the names it has) has not; else None.
    ``source_columns``: the columns (lower case) this database's source of the training source's name has, empty
    when it has none; None: not looked at."""
    metrics = rec.metrics or {}
    if "train_source" not in metrics:
        return None
    files = metrics.get("train_attached")
    known = {d.lower() for d in databases or ()}
    missing = {a: p for a, p in files.items() if a.lower() not in known} if isinstance(files, dict) else {}
    if databases is not None and missing:  # the files were recorded (train_attached): the statements that attach them
        which = ", ".join(map(repr, missing))
        return (f"{which} {'was a database' if len(missing) == 1 else 'were databases'} the training connection had "
                f"attached: run {'; '.join(statement(Attached(p, a)) for a, p in missing.items())} on con first "
                f"(the shell command attaches {'it' if len(missing) == 1 else 'them'} with --attach).")
    parts = name_parts(str(metrics["train_source"]))
    if (not isinstance(files, dict) and databases is not None and parts is not None and len(parts) == 3
            and parts[0].lower() not in known):
        return (f"{parts[0]!r} was a database the training connection had attached (ATTACH '...' AS "
                f"{sql_name(parts[0])}); attach the same file under that name on con first. From the command line, "
                f"{option_hint(parts[0])}.")
    if (rec.source or "").startswith("imported from "):
        # import_model's source: "imported from <file> (<exported ref>; <source there>)"
        said = f"this model was imported ({rec.source}): {metrics['train_source']!r} is a source of the database it "
        # Why looked at: a model promoted to a database that has the same table read "may not hold" it either way
        if source_columns and all(f.lower() in source_columns for f in rec.feature_names):
            return (f"{said}was exported from; this database has a table {metrics['train_source']!r} with the model's "
                    "columns, which the call reads: it stores the same sha256 if it holds the same rows in the same "
                    "order.")
        held = "may not hold" if source_columns is None else "does not hold" if not source_columns else (
            "holds without the model's columns")
        return f"{said}was exported from, which this one {held}; run the call there, or on a source of the same rows."
    python = metrics.get("train_source_python")
    if python:
        names = ", ".join(repr(n) for n in python)
        return (f"{names} {'was a Python variable' if len(python) == 1 else 'were Python variables'} (a DataFrame or "
                "Arrow table) of the session that trained this model, not a table of the database: run the call in "
                "Python where that name holds the same rows in the same order.")
    relative = relfiles.relative_files(str(metrics["train_source"]))
    if relative and not isinstance(metrics.get("train_folder"), str):
        return (f"{relative[0]!r} is relative to the working folder of the process that trained {rec.ref}, which the "
                "release that stored it did not record: run the call from that folder, or give the path in full.")
    return None
