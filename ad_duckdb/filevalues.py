"""The values inside an imported model file's metadata that would spoil that model alone, refused before anything is
stored: names with NUL or of megabytes, repeated feature or threshold names, NaN / infinite thresholds, scaling
constants that are not positive finite numbers.

Why a check of its own: ``onnxfile`` checked the metadata's form (a list of features, a number per threshold), so a
file edited by hand (or written by another tool) whose ``default`` threshold was NaN flagged no row, one whose two
features had one name scored the second column with the first's values under `score DB MODEL TABLE`, and one whose
feature scale was negative filled missing values with the wrong values: each was stored and scored without a word.
Models ad_duckdb trains never hold such values (``features.fit_specs``, ``thresholds``).

Every error reads on from "Model file 'PATH': " and names the field, its value and the fix.
"""

from __future__ import annotations

import math
from typing import Any

from .exceptions import IntegrityError
from .onnxshapes import quote

MAX_NAME_CHARS = 4096  # a feature name: a DuckDB column's, an expression's text at most; far past any real one
MAX_THRESHOLD_NAME_CHARS = 128  # set_threshold takes 64; older releases' carried names stay under 128
MAX_WORD_CHARS = 256  # kind, sql_type, a threshold's method
MAX_TEXT_CHARS = 1_000_000  # source, chosen_on: a training query's text
# features.fit_specs' transforms, as nn.Preprocess and missing.py read them; a text column's inputs (categorical.py)
TRANSFORMS = ("none", "slog", "onehot", "other")
_SHARES = ("precision", "recall", "f1", "flagged_share")
_FIX = "export it again from the database it came from (ad-duckdb export DB MODEL FILE), or train it again"


def _shown(v: object) -> str:
    if not isinstance(v, str):
        text = repr(v)  # a number or true/false as JSON's reader made it (nan, inf, True)
        return text if len(text) <= 40 else text[:40] + "…"
    return quote(v, 40) + (f" ({len(v):,} characters)" if len(v) > 40 else "")


def _refuse(field: str, value: object, why: str) -> IntegrityError:
    return IntegrityError(f"its ad_duckdb metadata has {field} = {_shown(value)}, {why}; the model was not imported: "
                          f"{_FIX}.")


def _number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _text(field: str, v: object, limit: int, *, empty: bool = False) -> None:
    if not isinstance(v, str):
        raise _refuse(field, v, "not text")
    if not v and not empty:
        raise _refuse(field, v, "empty")
    if "\x00" in v:
        raise _refuse(field, v, "which holds a NUL character (no name or text ad_duckdb writes does)")
    if len(v) > limit:
        raise _refuse(field, v, f"over the {limit:,} characters such a field may hold")


def _finite(field: str, v: object) -> float:
    if not _number(v):
        raise _refuse(field, v, "not a number (a JSON number is needed, not text or true/false)")
    x = float(v)  # type: ignore[arg-type]
    if not math.isfinite(x):
        raise _refuse(field, v, "not a finite number")
    return x


def check(meta: dict[str, Any]) -> None:
    """Raise ``IntegrityError`` naming the first value of ``meta`` (a file's ad_duckdb metadata) that would spoil the
    model; the form itself (keys present, lists) is ``onnxfile.record_from_metadata``'s to judge."""
    for key, limit in (("kind", MAX_WORD_CHARS), ("source", MAX_TEXT_CHARS)):
        if meta.get(key) is not None:
            _text(key, meta[key], limit, empty=key == "source")
    version = meta.get("version")
    if type(version) is int and version < 1:  # the type is record_from_metadata's to judge
        raise _refuse("version", version, "not a version number (versions start at 1)")
    feats = meta.get("features")
    if isinstance(feats, list):
        _check_features(feats)
    ths = meta.get("thresholds")
    if isinstance(ths, list):
        _check_thresholds(ths)


def _check_features(feats: list[Any]) -> None:
    seen: dict[str, int] = {}
    for i, f in enumerate(feats):
        if not isinstance(f, dict):
            continue  # malformed: record_from_metadata says so
        at = f"features[{i}]"
        name = f.get("name")
        _text(f"{at}.name", name, MAX_NAME_CHARS)
        # Why ASCII case-blind: DuckDB's column names are ('Count' and 'count' read one column; 'Ä' and 'ä' two)
        key = "".join(c.lower() if c.isascii() else c for c in str(name))
        # the next input of the same text column (categorical.py): one name for all its inputs
        same_text = key in seen and seen[key] == i - 1 and f.get("transform") in ("onehot", "other") \
            and isinstance(feats[i - 1], dict) and feats[i - 1].get("transform") == "onehot"
        if f.get("transform") == "onehot":
            _text(f"{at}.category", f.get("category"), MAX_NAME_CHARS, empty=True)
        if key in seen and not same_text:
            j = seen[key]
            raise IntegrityError(
                f"its ad_duckdb metadata has features[{j}].name = {_shown(feats[j].get('name'))} and {at}.name = "
                f"{_shown(name)}, one column named twice: scored from a table (ad-duckdb score DB MODEL TABLE), both "
                f"inputs would read the same column; the model was not imported: {_FIX}.")
        seen[key] = i
        if f.get("sql_type") is not None:
            _text(f"{at}.sql_type", f["sql_type"], MAX_WORD_CHARS)
        if f.get("transform") not in TRANSFORMS:
            raise _refuse(f"{at}.transform", f.get("transform"), f"not one of {', '.join(map(repr, TRANSFORMS))}")
        for k in ("fill", "center"):
            _finite(f"{at}.{k}", f.get(k))
        if _finite(f"{at}.scale", f.get("scale")) <= 0:
            raise _refuse(f"{at}.scale", f.get("scale"), "not above 0 (a spread, by which values are divided)")
        lo, hi = _finite(f"{at}.lo", f.get("lo")), _finite(f"{at}.hi", f.get("hi"))
        if lo > hi:
            raise IntegrityError(f"its ad_duckdb metadata has {at}.lo = {lo!r} above {at}.hi = {hi!r} (the training "
                                 f"range's ends); the model was not imported: {_FIX}.")


def _check_thresholds(ths: list[Any]) -> None:
    seen: dict[str, int] = {}
    for i, t in enumerate(ths):
        if not isinstance(t, dict):
            continue
        at = f"thresholds[{i}]"
        name = t.get("name")
        _text(f"{at}.name", name, MAX_THRESHOLD_NAME_CHARS)
        if name in seen:
            raise IntegrityError(
                f"its ad_duckdb metadata has two thresholds named {_shown(name)} (thresholds[{seen[name]}] and {at}), "
                f"of which one would silently replace the other; the model was not imported: {_FIX}.")
        seen[str(name)] = i
        value = t.get("value")
        if _number(value) and not math.isfinite(float(value)):  # type: ignore[arg-type]
            raise _refuse(f"{at}.value", value, "not a finite number, so it would flag no row or every row")
        _finite(f"{at}.value", value)
        _text(f"{at}.method", t.get("method"), MAX_WORD_CHARS)
        if t.get("chosen_on") is not None:
            _text(f"{at}.chosen_on", t["chosen_on"], MAX_TEXT_CHARS, empty=True)
        for k in _SHARES:
            if t.get(k) is not None and not 0.0 <= _finite(f"{at}.{k}", t[k]) <= 1.0:
                raise _refuse(f"{at}.{k}", t[k], "not a share from 0 to 1")
