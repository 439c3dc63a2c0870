"""Which ad_duckdb a stored model needs for correct scores: ``lib_versions.min_reader``, checked wherever a model is
read (a row of ``ad_models``, an imported or registered ``.onnx`` file).

Why a field of its own beside ``format_version``: ``format_version`` is the layout of the row and of the metadata,
and a build refuses every model of a newer one, so raising it for one new feature would lock older builds out of
every model the new build writes. An older build instead scored a newer build's models by its own rules (a row with
a missing value filled as it filled one) and said nothing. ``min_reader`` says, per model, what a build must
understand to score *that* model as it was meant: a build whose ``READER`` is lower refuses it, naming the upgrade,
and keeps scoring every other model.

``READER`` counts the changes to how a stored model is read that alter its scores; this build's is 2 (below). A later build
that makes such a change raises its ``READER`` and writes the new number only into the models that depend on it (a
model of features that can never be missing need not be locked out by a change to missing values). A model without
the field (every model stored before it existed) needs level 1, so none changes meaning. Builds older than this one
do not read the field, so they still score such models silently: the field protects from this build on.
"""

from __future__ import annotations

from typing import Any

from .exceptions import IntegrityError

# Levels: 1, every model up to text features; 2, a model with text features (categorical.py), whose stored inputs
# share one column's name: a build of level 1 would read each input as a column of its own.
BASE = 1
TEXT_FEATURES = 2
READER = TEXT_FEATURES
KEY = "min_reader"  # in lib_versions, which export carries into the file and import back into the row


def asks_upgrade(problem: str) -> bool:
    """Whether a stored row's ``problem`` (``storeload.load_all``'s) is that a newer ad_duckdb stored it (a newer
    format_version, or min_reader): such a row is sound and scores after an upgrade. Why told apart from damage:
    `list` marked it ``damaged``, and a row said to be damaged is one a user drops."""
    return _UPGRADE in problem.lower()


_UPGRADE = "upgrade ad_duckdb"  # in the messages of both refusals (here and storeload._from_row's format_version)


def needed(lib_versions: dict[str, Any]) -> int:
    """The reader level ``lib_versions`` asks for (1 when it says none); ValueError for a value of no such form."""
    v = lib_versions.get(KEY, 1)
    if type(v) is not int or v < 1:
        raise ValueError(f"lib_versions.{KEY} must be a whole number from 1; got {v!r}")
    return v


def check(lib_versions: dict[str, Any], model: str) -> None:
    """Refuse a model that needs a newer ad_duckdb than this one for correct scores (``model`` names it: "Model
    'tx_ae@3'" or "Model file 'x.onnx'")."""
    try:
        level = needed(lib_versions)
    except ValueError as e:
        raise IntegrityError(f"{model}: {e}; the model will not be used. Re-train it, or export it again from the "
                             "database it came from.") from None
    if level > READER:
        import ad_duckdb

        raise IntegrityError(
            f"{model} needs an ad_duckdb that reads models of level {level} (lib_versions.{KEY}), but this ad_duckdb "
            f"({ad_duckdb.__version__}) reads level {READER} at most: it would score the model by older rules, so "
            "the model will not be used here. Upgrade ad_duckdb (pip install -U ad_duckdb) where it is scored; "
            "other models are unaffected.")
