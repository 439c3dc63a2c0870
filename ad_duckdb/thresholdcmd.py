"""The commands that store a threshold a version lacks, written out for the missing threshold's message.

Why: "no threshold 'p97'" said to add it "with ad_duckdb.set_threshold(...) or `ad-duckdb threshold`", which left
the method, its option and the model's spelling to look up; a quantile named as the training's own are (p90, p999)
has one obvious command, and a cut another version holds has the one that stored it.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

# p97, p995, q9995: the quantile its digits give after "0.", as the training's own p90 ... p999 are named
_QUANTILE_NAME = re.compile(r"[pPqQ](\d{2,4})")
# The general example, for a name that tells no method: the top 0.5% of training scores (between p99 and p999)
_EXAMPLE_TARGET = 0.995


def quantile_in_name(name: str) -> float | None:
    """The training-score quantile a threshold's name reads as (``p97`` -> 0.97, ``q995`` -> 0.995), else None."""
    m = _QUANTILE_NAME.fullmatch(name)
    if m is None or m.group(1) == "100":
        return None
    q = float("0." + m.group(1))
    return q if 0 < q < 1 else None


def _from_other_version(name: str, homes: list[Any]) -> tuple[str, dict[str, float], str] | None:
    """(method, options, why) that store ``name`` as the newest other version holding it stored it, where that can
    be told from its stored row alone (a cut typed in, a quantile or a share of training rows); else None."""
    for home in homes:
        t = next((t for t in home.rec.thresholds if t.name == name), None)
        if t is None:
            continue
        if t.method == "manual":
            return "manual", {"value": float(t.value)}, f"the cut {home.ref} has"
        share = t.flagged_share
        if t.method in ("quantile", "contamination") and share is not None and 0 < share < 1:
            target = round(1.0 - share, 6) if t.method == "quantile" else round(share, 6)
            return t.method, {"target": target}, f"as on {home.ref}, on this version's training scores"
        return None
    return None


def chosen(name: str, homes: list[Any], cli: bool = True) -> tuple[str, dict[str, float], str]:
    """(method, options, why) ``store_commands`` writes out for threshold ``name`` (``homes``: as there); ``cli``:
    the example's other ways said in the command line's words, else in Python's."""
    found = _from_other_version(name, homes)
    q = quantile_in_name(name)
    if found is not None:
        return found
    if q is not None:
        return "quantile", {"target": q}, f"the {q:g} quantile of the training scores, as its name says"
    others = ("--method manual --value V for a cut of your own, or a goal on labelled rows, `ad-duckdb threshold "
              "--help`" if cli else "method 'manual' with value=V for a cut of your own, or a goal on labelled rows, "
              "help(ad_duckdb.set_threshold)")
    return "quantile", {"target": _EXAMPLE_TARGET}, (
        f"an example: {_EXAMPLE_TARGET} flags the top {round((1 - _EXAMPLE_TARGET) * 100, 3):g}% of training "
        f"scores; {others}")


def cli_command(model: str, name: str, db: str, method: str, options: dict[str, float]) -> str:
    """``ad-duckdb threshold DB MODEL NAME --method METHOD --OPTION VALUE``, quoted for a shell."""
    words = ["ad-duckdb", "threshold", db, model, name, "--method", method]
    for key, value in options.items():
        words += [f"--{key}", repr(value)]
    return " ".join(shlex.quote(w) for w in words)


def store_commands(model: str, name: str, db: str, homes: list[Any], cli: bool) -> str:
    """The CLI command (``cli``: the caller is the command line, ``ad-duckdb sql`` included) or else the Python call
    that stores threshold ``name`` for ``model`` (as a query names it: the bare name, or 'name@N') of the database
    the CLI names ``db``; ``homes``: other versions holding ``name``, newest first. The method fits the name (p97:
    the 0.97 quantile) or the other version's row; else a quantile, as an example to change.

    Why one: a command's error named the Python call beside its own command, and a notebook's the command (the
    messages are said in the caller's words: optionwords)."""
    method, options, why = chosen(name, homes, cli)
    if cli:
        return f"{cli_command(model, name, db, method, options)} ({why})"
    kwargs = ", ".join(f"{k}={v!r}" for k, v in options.items())
    return f"ad_duckdb.set_threshold(con, {model!r}, {name!r}, {method!r}, {kwargs}) ({why})"
