"""DuckDB values (lists, structs, maps, anomaly_explain) as JSON text, for the CLI's output and the server's json.

Why not ``json.dumps(v, default=str)``: it writes DECIMAL as a string, BLOB as Python's ``b'...'``, NaN as
invalid JSON, and refuses MAP keys that are dates or numbers.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import json
import math
from collections.abc import Callable
from typing import Any


def interval_text(v: dt.timedelta) -> str:
    """An interval as PostgreSQL writes one: ``3 days 04:05:06.000000``."""
    sign = "-" if v < dt.timedelta(0) else ""
    v = abs(v)
    hours, rest = divmod(v.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{sign}{v.days} days {sign}{hours:02d}:{minutes:02d}:{seconds:02d}.{v.microseconds:06d}"


class Digits(str):
    """A DECIMAL's exact digits (more than a float holds): text to ``json.dumps``, a number to ``dumps``."""


def jsonable(v: Any) -> Any:
    """``v`` with every part JSON can hold as such: numbers as numbers, other scalars as text."""
    if v is None or isinstance(v, bool | int | str):
        return v
    if isinstance(v, dict):
        return {k if isinstance(k, str) else str(jsonable(k)): jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [jsonable(x) for x in v]
    if isinstance(v, float):
        return v if math.isfinite(v) else None  # JSON has no NaN or Infinity
    if isinstance(v, decimal.Decimal):
        if not v.is_finite():
            return None
        if v == v.to_integral_value():
            return int(v)
        # a number where a float holds it exactly (444.92), else its exact digits, which ``dumps`` writes as a number
        return float(v) if decimal.Decimal(repr(float(v))) == v else Digits(format(v, "f"))
    if isinstance(v, bytes | bytearray | memoryview):
        return "\\x" + bytes(v).hex()
    if isinstance(v, dt.timedelta):
        return interval_text(v)
    if isinstance(v, dt.date | dt.time):
        return v.isoformat()
    return str(v)


def loads(text: str) -> Any:
    """``json.loads``, with JSON nested too deeply for Python's parser a ValueError like any other malformed JSON.

    Why: the RecursionError it raises otherwise passed every ``except ValueError`` of the checks on stored rows and
    model files, so one such row stopped the functions from loading for every model of the database.
    """
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


_SCALAR = json.JSONEncoder(allow_nan=False, ensure_ascii=False).encode
_TEXT: Any = json.encoder.encode_basestring  # type: ignore[attr-defined]  # what _SCALAR writes a str with


def dumps(v: Any, indent: int | None = None) -> str:
    """``json.dumps(jsonable(v), allow_nan=False, ensure_ascii=False, indent=indent)``, with each DECIMAL a number
    of all its digits, as DuckDB's to_json and PostgreSQL write one.

    Why not text for the digits a float cannot hold: a column was then numbers on some rows and strings on others;
    jq's `add` failed on it, and `select(.d < 1e20)` dropped those rows (jq orders every string after numbers)."""
    return _encoded(jsonable(v), indent, 0)


def _encoded(v: Any, indent: int | None, level: int) -> str:
    # Why the common kinds first, without _SCALAR: it builds an encoder per call, which halved `sql --format json`'s speed
    if v is None:
        return "null"
    kind = type(v)
    if kind is str:
        return str(_TEXT(v))
    if kind is bool:
        return "true" if v else "false"
    if kind is int or kind is float:  # finite: ``jsonable`` made NaN and infinities null
        return repr(v)
    if kind is Digits:
        return str.__str__(v)
    if isinstance(v, dict):
        items = [f"{_TEXT(str(k))}: {_encoded(x, indent, level + 1)}" for k, x in v.items()]
        return _joined("{", items, "}", indent, level)
    if isinstance(v, list | tuple):
        return _joined("[", [_encoded(x, indent, level + 1) for x in v], "]", indent, level)
    return _SCALAR(v)


def _joined(opening: str, items: list[str], closing: str, indent: int | None, level: int) -> str:
    """``items`` between the brackets as json.dumps lays them out, with or without ``indent``."""
    if not items:
        return opening + closing
    if indent is None:
        return opening + ", ".join(items) + closing
    inner, outer = "\n" + " " * (indent * (level + 1)), "\n" + " " * (indent * level)
    return opening + inner + ("," + inner).join(items) + outer + closing


def _float_text(v: float) -> str:
    return repr(v) if math.isfinite(v) else "null"


def _date_text(v: dt.date) -> str:
    return f'"{v.isoformat()}"'  # ISO text holds nothing JSON escapes


# What ``dumps`` writes for a value of the common exact types, without its walk through ``jsonable`` and
# ``_encoded``: a million rows of `sql --format json` took 18 s against csv's 13 s, most of it in those two calls
_FAST: dict[type, Any] = {int: repr, float: _float_text, str: _TEXT, bool: lambda v: "true" if v else "false",
                          dt.date: _date_text, dt.datetime: _date_text, type(None): lambda v: "null",
                          decimal.Decimal: lambda v: _encoded(jsonable(v), None, 0)}


def _nested_text(v: Any) -> str:
    """Any other value as ``dumps(row, indent=1)`` writes a row's field, one level further in."""
    return _nested(v, 1)


# What ``_encoded`` writes for a scalar of these exact types (``jsonable`` keeps them as they are, a non-finite float
# as null); a subclass (numpy's float64) takes the general path.
_PLAIN: dict[type, Any] = {str: _TEXT, float: _float_text, int: repr, bool: lambda v: "true" if v else "false",
                           type(None): lambda v: "null"}


@functools.cache
def _breaks(lv: int) -> tuple[str, str]:
    """The line breaks before a container's items and before its closing bracket, at depth ``lv`` of a row's field."""
    return "\n" + " " * (lv + 2), "\n" + " " * (lv + 1)


def _nested(v: Any, lv: int) -> str:
    """``_encoded(jsonable(v), 1, lv).replace("\n", "\n ")``: a row's field (``lv`` 1) or a value inside one, as
    ``row_objects`` writes it. Lists and dicts of plain values are written directly.

    Why: `explain --format json` spent most of its writing in the general walk (``jsonable``, then ``_encoded``), on
    each row's anomaly_explain (a list of {feature, share} per column), its terms and its imputed values."""
    kind = type(v)
    plain = _PLAIN.get(kind)
    if plain is not None:
        return str(plain(v))
    if v:
        if kind is list:
            get, deeper = _PLAIN.get, _deeper(lv)
            if type(v[0]) is dict:  # anomaly_explain's list of {feature, share}: each written as _nested would
                items = [_dict_text(x, lv + 1) if type(x) is dict and x else deeper(x) for x in v]
            else:
                items = [(get(type(x)) or deeper)(x) for x in v]
            inner, outer = _breaks(lv)
            return "[" + inner + ("," + inner).join(items) + outer + "]"
        if kind is dict:
            return _dict_text(v, lv)
    return _encoded(jsonable(v), 1, lv).replace("\n", "\n ")


def _dict_text(v: dict[Any, Any], lv: int) -> str:
    """``_nested`` of a dict (not empty): its values filled into the text of its keys (``_dict_template``)."""
    keys = tuple(v)
    template = _TEMPLATES.get((keys, lv), _UNSEEN)
    if template is _UNSEEN:
        template = _TEMPLATES[keys, lv] = _dict_template(keys, lv) if len(_TEMPLATES) < 1024 else None
    if template is None:  # keys that are numbers or dates: written as jsonable's text of them
        return _encoded(jsonable(v), 1, lv).replace("\n", "\n ")
    get, deeper = _PLAIN.get, _deeper(lv)
    return template % tuple([(get(type(x)) or deeper)(x) for x in v.values()])


# _dict_template's texts by (keys, depth); None for keys it cannot write. Why not functools.cache: its call cost
# was a fifth of a small dict's writing. Bounded: a table of MAP values of ever-new keys would fill it.
_TEMPLATES: dict[tuple[tuple[Any, ...], int], str | None] = {}
_UNSEEN = "\0"  # a _TEMPLATES miss (no template is this text)


def _dict_template(keys: tuple[Any, ...], lv: int) -> str | None:
    """The text of a dict of ``keys`` at depth ``lv`` with a %s for each value; None unless every key is a str.
    Why: a row's anomaly_explain holds a dict of the same two keys per column, laid out alike each time."""
    if not all(type(k) is str for k in keys):
        return None
    inner, outer = _breaks(lv)
    return "{" + inner + ("," + inner).join(_TEXT(k).replace("%", "%%") + ": %s" for k in keys) + outer + "}"


@functools.cache
def _deeper(lv: int) -> Callable[[Any], str]:
    """``_nested`` one level below ``lv``, as a function of the value."""
    return lambda x: _nested(x, lv + 1)


def row_objects(names: list[str], rows: list[tuple[Any, ...]]) -> list[str]:
    """Each row as ``dumps(dict(zip(names, row)), indent=1)`` writes it, every line indented one more space (an
    element of an array written with indent=1); ``names`` distinct. The same text, several times faster."""
    if not names:
        return ["{}"] * len(rows)
    keys = ["\n  " + _TEXT(name) + ": " for name in names]
    fast, nested = _FAST.get, _nested_text
    return ["{" + ",".join([k + (fast(type(v)) or nested)(v) for k, v in zip(keys, row, strict=True)]) + "\n }"
            for row in rows]
