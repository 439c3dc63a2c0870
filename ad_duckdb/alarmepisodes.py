"""Alarms as episodes: runs of consecutive flagged readings, in time order, within each series.

Why beside the count of flagged rows: alarm_rate's "3 alarms a day" counts flagged rows, but readings close in time
move together, so a fault's readings are flagged in a run, and an on-call engineer paged once for the run hears
"3 a day" as 3 pages. On NAB's machine_temperature, "3 a day" set on a normal week flagged 21 readings in 12 runs
(1.71 a day); the statement says both, and a user who means pages reads the episodes.

Why within each series (alarm_rate's ``series=``): a table of several sensors interleaves their readings in time,
and runs read across them joined one sensor's run with another's (two sensors a minute apart, flagging alike,
counted half their episodes).
"""

from __future__ import annotations

import numpy as np

from . import optionwords


def count(flagged: np.ndarray, seconds: np.ndarray, weighted: bool = False,
          series: np.ndarray | None = None) -> int | None:
    """How many runs of consecutive flagged rows there are in time order (``seconds``: each row's time, NaN for
    none, left out), within each of ``series`` (each row's series, any number standing for it; None: one series);
    None where runs cannot be told: rows of one series sharing a time (several series in one table, whose readings
    interleave, with no ``series`` to tell them apart), or ``weighted`` rows (a sample, whose neighbours in time are
    not the readings')."""
    t = np.asarray(seconds, dtype=np.float64)
    ok = np.isfinite(t)
    if weighted or not ok.any():
        return None
    s = np.zeros(len(t)) if series is None else np.asarray(series, dtype=np.float64)
    order = np.lexsort((t[ok], s[ok]))  # by series, then time
    ts, ss = t[ok][order], s[ok][order]
    same = ss[1:] == ss[:-1]
    if np.any(same & (ts[1:] == ts[:-1])):
        return None
    f = np.asarray(flagged, dtype=bool)[ok][order]
    return int(f[0]) + int(np.count_nonzero(f[1:] & ~(f[:-1] & same)))


def shared_times(seconds: np.ndarray, series: np.ndarray | None = None) -> int:
    """How many rows share their time with an earlier row of their series (0: runs can be told)."""
    t = np.asarray(seconds, dtype=np.float64)
    ok = np.isfinite(t)
    if not ok.any():
        return 0
    # Why sorted rather than np.unique(axis=0) of (series, time) pairs: that took 40 s of a 10-million-row
    # alarm_rate run; a sort by time, then series, and a look at each row's predecessor takes a few
    if series is None:
        ts = np.sort(t[ok])
        return int(np.count_nonzero(ts[1:] == ts[:-1]))
    s = np.asarray(series, dtype=np.float64)[ok]
    order = np.lexsort((t[ok], s))
    ts, ss = t[ok][order], s[order]
    return int(np.count_nonzero((ts[1:] == ts[:-1]) & (ss[1:] == ss[:-1])))


def text(episodes: int | None, flagged: int, per: str, rows_per: float, rows: int, shared: int = 0,
         series: str | None = None) -> str:
    """The statement's part on episodes: how many, and a period's worth ("a day" with ``per`` 'day') at the
    stretch's ``rows_per`` rows a period of its ``rows`` rows; where ``count`` could not tell for ``shared`` rows
    sharing a time, why, and the fix."""
    a = "an" if per == "hour" else "a"
    if episodes is None:
        if not shared:
            return ""
        if series:
            return (f"; episodes not counted: {shared} rows share their time with another row of their {series}, so "
                    "runs cannot be told in time order; drop the repeated readings with the filter")
        return (f"; episodes not counted: {shared} rows share their time with another row, so runs cannot be told "
                "in time order: where the rows are several series in one table, name the column telling them apart "
                f"with {optionwords.opt('series')}; where readings repeat, drop the repeats with the filter")
    each = f", {flagged / episodes:.3g} readings each on average" if episodes else ""
    within = f" within each {series}" if series else ""
    return (f"; as episodes (runs of consecutive flagged readings{within}, e.g. one page each): {episodes}, "
            f"{episodes * rows_per / rows:.3g} {a} {per}{each} (the alarms {a} {per} above count flagged readings)")
