"""A model store whose block holding the thresholds (table ad_thresholds) is damaged: named as such, with what still
reads, and the repair (``thresholdrestore``: ``ad-duckdb restore-thresholds``).

Why: every command said "the database file is damaged ... restore the file from a backup", as for a file cut short,
though the models (their ONNX bytes, features and training figures) and the user's tables are other blocks and read
well, and each version's training thresholds (default, p90 ... p999) can be stored again from the training-score
quantiles its ``ad_models.metrics`` keeps.
"""

from __future__ import annotations

from typing import Any

import duckdb

from . import damagedstore
from .damagedfile import is_damage

# Where the damaged table is kept (a number added when an earlier repair's copy is there)
ASIDE = "ad_thresholds_damaged"
_SHOWN = 8


def unreadable(cur: Any) -> BaseException | None:
    """DuckDB's error (``is_damage``) when the stored thresholds cannot be read for a damaged block, else None."""
    try:
        cur.execute("SELECT model, version, threshold_name, value, method, chosen_on, precision, recall, f1, "
                    "flagged_share, created_at FROM ad_thresholds").fetchall()
    except duckdb.Error as e:
        if is_damage(e):
            return e
    return None


def _versions(cur: Any) -> list[str]:
    try:
        return [f"{n}@{v}" for n, v in cur.execute("SELECT name, version FROM ad_models ORDER BY name, version")
                .fetchall()]
    except duckdb.Error:
        return []


def _listed(items: list[str]) -> str:
    return ", ".join(items[:_SHOWN]) + (f" and {len(items) - _SHOWN} more" if len(items) > _SHOWN else "")


def message(cur: Any, db: str, e: BaseException) -> str:
    """One line for ``unreadable``'s error on ``db``: what is lost, what still reads, and the repair."""
    said = " ".join(str(e).split())
    versions, tables = _versions(cur), damagedstore.user_tables(cur)
    models = f" The models themselves still read ({_listed(versions)})" if versions else " The models still read"
    own = f", as do its own tables ({_listed(tables)})" if tables else ""
    return (f"Cannot read the thresholds stored in {db!r}: the block holding table ad_thresholds is damaged, its "
            f"checksum does not match its bytes (altered on disk: a disk fault, or a tool that wrote into the file) "
            f"({said}), so no row can be flagged: is_anomaly, is_anomaly_at and the commands writing is_anomaly (score, "
            f"score --into) fail; anomaly_score, anomaly_percentile and anomaly_explain still score.{models}"
            f"{own}. It was left as it is. Fix: restore the file from a backup; or run `ad-duckdb restore-thresholds "
            f"{db}`, which keeps the damaged table as {ASIDE}, stores every version's training thresholds (default, "
            "p90 ... p999) again from the training scores ad_models keeps, and names the commands that set the "
            "others again.")
