"""What ``train`` refuses before reading a row: a name an older release stored, an unknown kind, a network too
large to store; and its own keywords, with the names users type for them."""

from __future__ import annotations

import shlex
from typing import Any

import duckdb

from . import interrupts, modelnames, optionwords, store, storeload
from .exceptions import BadInputError, OptionError


def _check_new_version_name(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """``modelnames.check_name``; for a name an older release stored (it allowed 'fraud.onnx'), the way to move it.

    Why: "name it without the ending" alone read as if the model did not exist, and the user's queries, thresholds
    and pinned versions all hang on the stored name.
    """
    try:
        modelnames.check_name(name)
    except BadInputError:
        if not isinstance(name, str):
            raise
        cur = interrupts.cursor(con)
        try:
            versions = store.known_models(cur).get(name)
            row = cur.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
        finally:
            cur.close()
        if not versions:
            raise
        db = shlex.quote(row[0][0]) if row and row[0][0] else "DB"
        new, last = modelnames.name_without_onnx(name), max(versions)
        file = shlex.quote(f"{new}_v{last}.onnx")
        raise BadInputError(
            f"Model name {name!r} is stored ({name}@{last}, by an older ad_duckdb, which allowed names ending in "
            "'.onnx') and still scores, but no new version can be stored under it: register(models=...) and the dbt "
            f"plugin's 'models' read such a name as an exported file. Move the model to a name without the ending, "
            f"thresholds included: ad-duckdb export {db} {shlex.quote(name)} {file}, then ad-duckdb import {db} "
            f"{file} --name {new}; train {new!r} from then on and change the queries to anomaly_score({new!r}, ...) "
            f"(drop {name!r} once nothing calls it)."
        ) from None


# train's own keywords, and names users type for them (columns= is score's word for the columns it keeps)
_TRAIN_KEYWORDS = ("features", "where", "kind", "carry_thresholds", "wait", "promote")
_TRAIN_OTHER_NAMES = {"columns": "features", "cols": "features", "feature_columns": "features",
                      "feature_names": "features", "filter": "where", "model_kind": "kind"}


def _check_storable(name: str, p: Any, d: int) -> None:
    """Refuse, before training, a network whose weights alone are over the size a stored model may take.

    Why here and not as a bound on hidden_dims: the size grows with hidden_dims, the feature count and n_models
    together, and the detector, which stores nothing, has no such limit; a model over it trained in full (hours for
    hidden_dims=(3000, 3000)) and was then refused with "raise AD_DUCKDB_MAX_MODEL_BYTES if you trust it"."""
    size, limit = p.weight_bytes(d), storeload.max_model_bytes()
    if size <= limit:
        return
    hidden = p.sizes(d)[0]
    # in the caller's words: --hidden-dims 3000,3000 from the command line, hidden_dims=(3000, 3000) from Python
    widths = optionwords.either(f"hidden_dims={hidden}", f"--hidden-dims {','.join(map(str, hidden))}")
    members = f" x {optionwords.opt('n_models', p.n_models)}" if p.n_models > 1 else ""
    usual = type(p)().sizes(d)[0]
    default = optionwords.either(str(usual), ",".join(map(str, usual)))
    raise BadInputError(
        f"Model {name!r}: {widths} on {d} features{members} makes {size / 2**20:.1f} MB of weights, over "
        f"the limit of {limit / 2**20:.1f} MB a stored model may take (AD_DUCKDB_MAX_MODEL_BYTES), so it could not "
        f"be stored once trained. Train narrower layers (the default for {d} features is {default})"
        f"{' or fewer members' if members else ''}, or raise AD_DUCKDB_MAX_MODEL_BYTES in every process that loads "
        "this database (it is the limit each checks a model against).")


def _check_kind(name: str, kind: str, params: dict[str, Any]) -> None:
    """``kind`` decides whether the model is variational; a ``variational=`` saying otherwise is refused, as the
    stored kind would then misdescribe the model. Sets ``variational`` in ``params`` from ``kind``."""
    if kind not in ("autoencoder", "vae"):
        raise BadInputError(f"Model kind {kind!r} is not available; use kind='autoencoder' (default) or 'vae'.")
    wanted = kind == "vae"
    sizes = params.get("code_sizes")
    if wanted and isinstance(sizes, list | tuple):  # said here, in train's spelling: the detector's says variational=
        from .trainer import vae_code_sizes

        why = vae_code_sizes(tuple(sizes), "kind='vae'", "train kind='autoencoder'")
        raise OptionError(f"Model {name!r}: {why}")
    given = params.setdefault("variational", wanted)
    # a non-bool is left to TrainParams.validate, whose message says what variational= takes
    if isinstance(given, bool) and given != wanted:
        raise BadInputError(
            f"Model {name!r}: kind={kind!r} and variational={given!r} disagree. The kind decides: pass kind='vae' "
            "for a variational autoencoder or kind='autoencoder' for a plain one, and leave variational= out."
        )
