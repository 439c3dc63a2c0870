"""The fix for DuckDB's binder error on an anomaly function called without its model's name or its features.

Why: the functions are typed (VARCHAR, DOUBLE, *args), so anomaly_score(count, amount) (the name left out) or
anomaly_score('tx_ae') (the features left out) fail in DuckDB's binder with "No function matches ...", before our
code runs, and without a word on what the call needs; a number in the name's place read as a first feature "not a
number" and the fix was to cast it.
"""

from __future__ import annotations

import re

from .udfnames import FUNCTIONS

_BINDER_MISMATCH = re.compile(r"No function matches the given name and argument types "
                              rf"'({'|'.join(FUNCTIONS)})\((.*?)\)'(?=\.)")
# types DuckDB casts to the VARCHAR of the model's name by itself (an ENUM column binds)
_PLACEHOLDER = "'MODEL'"
_TEXT = ("VARCHAR", "STRING_LITERAL", '"NULL"', "NULL")


def argument_types(listed: str) -> list[str]:
    """The argument types of DuckDB's "No function matches ... 'f(T1, T2)'" (``listed``: "T1, T2").

    Why not split(","): DECIMAL(14,2) is one type, and its halves read as two arguments."""
    return [t.strip() for t in re.findall(r"(?:[^,(]|\([^)]*\))+", listed)]


def _shape(func: str, model: str) -> str:
    """How a call of ``func`` is written, with model ``model``."""
    if func == "anomaly_threshold":
        return f"anomaly_threshold({model}, 'default')"
    if func == "is_anomaly_at":
        return f"is_anomaly_at({model}, 'p99', x1, x2, ...)"
    if func == "anomaly_model":
        return f"anomaly_model({model})"
    return f"{func}({model}, x1, x2, ...)"


def call_shape_hint(error: str, statement: str = "") -> str:
    """For DuckDB's binder error on a call of an anomaly function whose first argument is no model name, or that has
    no feature (or threshold) arguments: what the call takes and how to write it; else ""."""
    m = _BINDER_MISMATCH.search(error)
    if m is None:
        return ""
    func, types = m.group(1), argument_types(m.group(2))
    if types and types[0] not in _TEXT and not types[0].startswith("ENUM"):
        return (f" ({func}'s first argument is the model's name in quotes ('tx_ae', or 'tx_ae@2' for one version), "
                f"here {types[0]}: {_shape(func, _PLACEHOLDER)}; `ad-duckdb list DB` lists the models, "
                "`ad-duckdb show DB MODEL` their features in order)")
    # the functions without features take exactly their arguments: one more (a third of anomaly_threshold's, a
    # feature after anomaly_model's name) fails in the binder too
    exact = {"anomaly_threshold": 2, "anomaly_model": 1}.get(func)
    if (len(types) == exact) if exact else len(types) >= (3 if func == "is_anomaly_at" else 2):
        return ""
    from .firstarg import _call_arguments

    named = {a[0] for a in _call_arguments(statement, func.lower()) if a and re.fullmatch(r"'(?:[^']|'')*'", a[0])}
    model = named.pop() if len(named) == 1 else _PLACEHOLDER
    what = "the threshold's name" if func == "anomaly_threshold" else "the model's feature columns in its order"
    if func == "anomaly_model":
        return (f" (anomaly_model takes the model's name only: {_shape(func, model)}; `ad-duckdb list DB` lists the "
                "models)")
    if exact and len(types) > exact:
        what = "the threshold's name, and nothing else"
    if func == "is_anomaly_at":
        what = "the threshold's name, then the model's feature columns in its order"
    return (f" ({func} takes the model's name, then {what}: {_shape(func, model)}; "
            "`ad-duckdb show DB MODEL` lists the features and thresholds)")
