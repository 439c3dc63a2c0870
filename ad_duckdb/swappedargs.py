"""A Python call's model and source given the other way round: the model it names, or an error that says so."""

from __future__ import annotations

import duckdb

from . import pysource
from .exceptions import ModelNotFoundError
from .scoring import LoadedModel
from .store import given_the_other_way_round
from .udfs import registry


def swapped_hint(con: duckdb.DuckDBPyConnection, model: object, source: object) -> str:
    """" 'tx_ae' is a model and 'transactions' is not: ..." for a Python call whose model and source came the other
    way round (the source a stored model's name, the model none); "" otherwise, and for the CLI, which says it with
    its own command (cliopen._swapped_hint)."""
    if not isinstance(source, str) or not isinstance(model, str) or pysource.from_command_line():
        return ""
    cur = con.cursor()  # not con: a failed statement may have left its transaction aborted
    try:
        if not given_the_other_way_round(cur, model, source):
            return ""
    finally:
        cur.close()
    return (f" {source.strip()!r} is a model and {model!r} is not: the model's name comes first, then the source "
            f"(con, {source.strip()!r}, {model!r}, ...).")


def model_named(con: duckdb.DuckDBPyConnection, model: str, source: object) -> LoadedModel:
    """The stored model ``model`` names, for a call of (con, model, source, ...): score, evaluate and the plots. Why
    one place: each of them met a swapped pair with "No model 'transactions'" alone until score said why."""
    try:
        return registry(con).get(model)
    except ModelNotFoundError as e:
        raise ModelNotFoundError(f"{e}{swapped_hint(con, model, source)}") from None
