"""The ``ad-duckdb train`` command that trains a stored model again, beside retrain.py's Python call: what a user who
trains from a shell or a scheduler pastes, where the Python call asked them to open a notebook. Made from the same
stored options (``retrain.stored_options``), so the two say the same model."""

from __future__ import annotations

import shlex
from typing import Any

from . import attachfiles
from .retrain import stored_options, trained_source
from .sqltext import shell_word
from .store import ModelRecord

# Each training option ``ad-duckdb train`` takes, and its flag (train's errors name an option by it too). The others
# (lr, batch_size, ...) are the Python API's alone: a model trained with one of them has no command line.
FLAGS = {
    "contamination": "--contamination",
    "epochs": "--epochs",
    "n_models": "--n-models",
    "code_sizes": "--code-sizes",
    "hidden_dims": "--hidden-dims",
    "latent_dim": "--latent-dim",
    "max_train_rows": "--max-train-rows",
    "constant_columns": "--constant-columns",
    "seed": "--seed",
}


def retrain_command(rec: ModelRecord, db: str) -> tuple[str | None, list[str]]:
    """``ad-duckdb train DB NAME SOURCE -f ... [flags]`` that trains ``rec`` again into the database file ``db``,
    and []; or None and the options it was trained with that have no flag (empty when the record does not say what
    it was trained on, or its source was a Python variable: ``retrain_note`` says so for both forms)."""
    metrics, params = rec.metrics or {}, rec.params or {}
    if "train_source" not in metrics or not params or metrics.get("train_source_python"):
        return None, []
    where = metrics.get("train_where")
    options = stored_options(rec, robust_default=where is None)
    # Why "kind" first: a VAE is a kind, not an option, in the Python call too
    missing = (["kind"] if rec.kind != "autoencoder" else []) + [
        n for n in options if n not in FLAGS and n != "robust"]
    if missing:
        return None, missing
    words = ["ad-duckdb", "train", _word(db), _word(rec.name), _word(trained_source(metrics)),
             *_feature_words(rec.feature_names)]
    files = metrics.get("train_attached")
    if isinstance(files, dict):  # the other DuckDB files the source read, attached as training had them
        words += [_word(w) for w in attachfiles.option_words(files)]
    if where is not None:
        words += ["--where", _word(str(where))]
    if "robust" in options:
        words.append("--robust" if options["robust"] else "--no-robust")
    words += [w for n, v in options.items() if n in FLAGS and n != "seed" for w in (FLAGS[n], _value(v))]
    words += ["--seed", str(options["seed"])]
    return " ".join(words), []


def _word(text: str) -> str:
    """``text`` as a shell word: bare where nothing in it is special to the shell (a table name, a path), else
    quoted as a fix's SQL is (double quotes around SQL with a quoted literal)."""
    return text if text and shlex.quote(text) == text else shell_word(text)


def _feature_words(names: list[str]) -> list[str]:
    """``-f a,b,c`` as train's help writes it, where every name is a plain shell word; else one ``-f`` per column
    (``-f 'Amount EUR' -f v1``, not ``-f 'Amount EUR,v1'``; and a name's own comma is then no separator to read)."""
    if all(n and "," not in n and shlex.quote(n) == n for n in names):
        return ["-f", ",".join(names)]
    return [w for n in names for w in ("-f", _word(n))]


def _value(value: Any) -> str:
    """A stored option as its flag's value: sizes comma-separated, as ``--hidden-dims 32,16``."""
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return _word(str(value))
