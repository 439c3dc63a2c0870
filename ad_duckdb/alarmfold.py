"""The hour a zone's clocks repeat (autumn's DST change, 03:00 back to 02:00 in Paris) in a TIMESTAMP of its wall-clock
times (``timestamps_in=``, CLI ``--timestamps-in``): each wall time of that hour was written twice, once per pass.

Why: DuckDB reads such a wall time as one instant (the later pass), so both readings of 02:30 shared a time: the
statement said 12 rows shared their time with another and to drop the repeats (real readings), counted no episodes,
and by hour read an hour of none (a gap) beside one of 24 readings. A wall time alone cannot say its pass; the rows'
order can: of the readings of one repeated wall time (in one series), the first half read are the earlier pass, the
rest the later, as a logger writes them; where a series' rows are read newest first (a table exported ORDER BY ts
DESC: most of its consecutive readings go back in time), the first half read are the later pass (taken as oldest first,
the two passes swapped hours). A wall time of that hour held by one reading (or an odd number) cannot be told, and
stays as DuckDB reads it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

_EPOCH = datetime(1970, 1, 1)


def _zone(name: str | None) -> ZoneInfo | None:
    try:
        return None if name is None else ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):  # a zone DuckDB (ICU) knows and Python's tz database does not
        return None


def _wall(instant: float, zone: ZoneInfo) -> float:
    """The instant's wall time in ``zone``, as epoch seconds of that wall time read as UTC (alarmzone.local_sql's)."""
    at = datetime.fromtimestamp(instant, UTC).astimezone(zone).replace(tzinfo=None)
    return (at - _EPOCH).total_seconds()


def unfold(seconds: np.ndarray, local: np.ndarray | None, series: np.ndarray | None, stored: str | None,
           days_in: str | None) -> tuple[np.ndarray, np.ndarray | None]:
    """``seconds`` (each row's instant, in read order) and ``local`` (its wall time in ``days_in``, the zone whose
    days count, or None) with the repeated hour's earlier pass moved to its own instants: ``stored`` is the zone of
    the TIMESTAMP's wall-clock times (None: nothing to do); ``series``: each row's series, or None."""
    zone = _zone(stored)
    if zone is None or len(seconds) < 2:
        return seconds, local
    t = np.asarray(seconds, dtype=np.float64)
    key = np.stack([t, np.zeros(len(t)) if series is None else np.asarray(series, dtype=np.float64)], axis=1)
    ok = np.isfinite(t)
    _, inverse, counts = np.unique(key[ok], axis=0, return_inverse=True, return_counts=True)
    shared = counts[inverse.ravel()] >= 2
    if not shared.any():
        return seconds, local
    rows = np.flatnonzero(ok)[shared]  # read order kept: np.flatnonzero is ascending
    group = inverse.ravel()[shared]
    out_t, out_l = t.copy(), None if local is None else np.asarray(local, dtype=np.float64).copy()
    days_zone = _zone(days_in)
    backwards = _newest_first(t, key[:, 1], ok)
    passes: dict[float, tuple[float, float] | None] = {}
    for g in np.unique(group):
        members = rows[group == g]
        if len(members) % 2:
            continue  # an odd number: which pass each is cannot be told
        at = float(t[members[0]])
        if at not in passes:
            wall = datetime.fromtimestamp(at, UTC).astimezone(zone).replace(tzinfo=None)
            first, second = (wall.replace(tzinfo=zone, fold=f).timestamp() for f in (0, 1))
            passes[at] = (first, second) if first != second else None  # None: a wall time the clocks do not repeat
        both = passes[at]
        if both is None:
            continue
        halves = (members[: len(members) // 2], members[len(members) // 2:])
        for part, moved in zip(halves[::-1] if backwards[members[0]] else halves, both, strict=True):
            out_t[part] = moved
            if out_l is not None:
                # the days' zone's wall time of that pass (the same wall time where they are the stored zone's days)
                out_l[part] = out_l[part] + (moved - at) if days_zone is None else _wall(moved, days_zone)
    return out_t, out_l


def _newest_first(t: np.ndarray, series: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """For each row, whether its series is read newest first: more of the series' consecutive readings (in read
    order, rows with a time) go back in time than forward."""
    rows = np.flatnonzero(ok)
    by = rows[np.argsort(series[rows], kind="stable")]  # each series' rows together, in read order
    ids = np.unique(series[by], return_inverse=True)[1].ravel()
    same = ids[1:] == ids[:-1]
    step = np.sign(np.diff(t[by]))[same]
    votes = np.bincount(ids[1:][same], weights=-step, minlength=int(ids.max(initial=-1)) + 1)
    out = np.zeros(len(t), dtype=bool)
    out[by] = votes[ids] > 0
    return out
