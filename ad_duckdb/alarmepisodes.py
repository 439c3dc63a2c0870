"""Alarms as episodes: runs of consecutive flagged readings, in time order.

Why beside the count of flagged rows: alarm_rate's "3 alarms a day" counts flagged rows, but readings close in time
move together, so a fault's readings are flagged in a run, and an on-call engineer paged once for the run hears
"3 a day" as 3 pages. On NAB's machine_temperature, "3 a day" set on a normal week flagged 21 readings in 12 runs
(1.71 a day); the statement says both, and a user who means pages reads the episodes.
"""

from __future__ import annotations

import numpy as np


def count(flagged: np.ndarray, seconds: np.ndarray, weighted: bool = False) -> int | None:
    """How many runs of consecutive flagged rows there are in time order (``seconds``: each row's time, NaN for
    none, left out); None where runs cannot be told: rows sharing a time (several series in one table, whose
    readings interleave), or ``weighted`` rows (a sample, whose neighbours in time are not the readings')."""
    t = np.asarray(seconds, dtype=np.float64)
    ok = np.isfinite(t)
    if weighted or not ok.any() or len(np.unique(t[ok])) < int(ok.sum()):
        return None
    f = np.asarray(flagged, dtype=bool)[ok][np.argsort(t[ok], kind="stable")]
    return int(f[0]) + int(np.count_nonzero(f[1:] & ~f[:-1]))


def text(episodes: int | None, flagged: int, per: str, rows_per: float, rows: int) -> str:
    """The statement's part on episodes: how many, and a period's worth ("a day" with ``per`` 'day') at the
    stretch's ``rows_per`` rows a period of its ``rows`` rows; '' where ``count`` could not tell."""
    if episodes is None:
        return ""
    a = "an" if per == "hour" else "a"
    each = f", {flagged / episodes:.3g} readings each on average" if episodes else ""
    return (f"; as episodes (runs of consecutive flagged readings, e.g. one page each): {episodes}, "
            f"{episodes * rows_per / rows:.3g} {a} {per}{each} (the alarms {a} {per} above count flagged readings)")
