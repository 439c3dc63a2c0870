"""What stores a missing threshold when the SQL functions run in ``ad-duckdb serve``: the command line's
``ad-duckdb threshold DB ...`` cannot write a file the server holds (read-only or read-write: DuckDB lets no other
process open it), so the message writes out what works for the way the server runs.

Why: serve's message printed the command for ``ad-duckdb sql``, which then failed with the lock error (exit 4). A
``--snapshot`` server holds only its copy, so the command runs on the file (then SIGHUP publishes it); a
``--read-write`` one takes the row as SQL through itself (the statements after it use it: servedwrites); a plain
one must be stopped, or restarted with ``--snapshot``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .sqltext import quote_literal
from .thresholdcmd import chosen, cli_command


@dataclass(frozen=True)
class Served:
    """How the server serves its file: ``mode`` "read-only", "read-write" or "snapshot"; ``db`` the file as the
    command line named it (a snapshot's original, not its copy); ``pid`` the server's process."""
    mode: str
    db: str
    pid: int


def _value(lm: Any, method: str, options: dict[str, float]) -> float | None:
    """The cut ``method`` with ``options`` gives on ``lm``'s training scores (as set_threshold computes it)."""
    if method == "manual":
        return float(options["value"])
    if lm.quantiles is None:
        return None
    q = options["target"] if method == "quantile" else 1.0 - options["target"]
    return float(np.interp(q, np.linspace(0, 1, len(lm.quantiles)), lm.quantiles))


def insert_sql(lm: Any, name: str, method: str, options: dict[str, float]) -> str | None:
    """The INSERT a ``--read-write`` server's client sends to store the cut; None without training quantiles."""
    v = _value(lm, method, options)
    if v is None:
        return None
    on = "set by hand" if method == "manual" else f"training scores ({method} {next(iter(options.values())):g})"
    share = lm.share_above(v) if lm.quantiles is not None else None
    return (f"INSERT INTO ad_thresholds (model, version, threshold_name, value, method, chosen_on, flagged_share, "
            f"created_at) VALUES ({quote_literal(lm.name)}, {lm.version}, {quote_literal(name)}, {v!r}, "
            f"{quote_literal(method)}, {quote_literal(on)}, {'NULL' if share is None else repr(share)}, "
            "now()::TIMESTAMP)")


def store_fix(served: Served, lm: Any, model: str, name: str, homes: list[Any]) -> str:
    """What stores threshold ``name`` for ``lm`` (``model``: as a query names it) while this server runs."""
    method, options, why = chosen(name, homes)
    cli = cli_command(model, name, served.db, method, options)
    if served.mode == "snapshot":
        return (f"this server serves a copy of {served.db!r}, so the command runs on the file beside it: {cli} "
                f"({why}), then publish it with kill -HUP {served.pid} (SIGHUP: a fresh copy)")
    if served.mode == "read-write":
        sql = insert_sql(lm, name, method, options)
        if why.startswith("an example"):  # the CLI's options do not apply to the SQL
            why = f"an example: the {options['target']:g} quantile of the training scores; put your own value in its place"
        if sql is not None:
            # no SIGHUP: the server loads the store again once the INSERT commits (servedwrites)
            return (f"send it through this server ({why}; the file is this server's to write, so `ad-duckdb "
                    f"threshold` cannot run beside it): {sql}; the statements after it use it")
    return (f"this server holds {served.db!r}, so no other process can write it, `ad-duckdb threshold` neither: stop "
            f"it (kill {served.pid}), run {cli} ({why}) and start it again; or serve with --snapshot, beside which "
            "the command runs (then SIGHUP)")


def carry_fix(served: Served) -> str:
    """How a retrain keeps the thresholds of the file this server serves. Why not the flag alone: a client of the
    server trains elsewhere, by the command line or Python, and neither can write a file the server holds."""
    train = "--carry-thresholds (ad-duckdb train) or carry_thresholds=True (ad_duckdb.train)"
    if served.mode == "snapshot":
        return (f"retrain {served.db!r} beside this server with {train}, then SIGHUP (kill -HUP {served.pid}) "
                "serves the new version")
    return (f"retrain with {train}, which cannot write {served.db!r} while this server holds it: stop it "
            f"(kill {served.pid}) first, or serve with --snapshot")
