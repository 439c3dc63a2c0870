"""The hour a zone's clocks repeat (autumn's DST change, 03:00 back to 02:00 in Paris) in a TIMESTAMP of its wall-clock
times (``timestamps_in=``, CLI ``--timestamps-in``): each wall time of that hour was written twice, once per pass.

Why: DuckDB reads such a wall time as one instant (the later pass), so both readings of 02:30 shared a time: the
statement said 12 rows shared their time with another and to drop the repeats (real readings), counted no episodes,
and by hour read an hour of none (a gap) beside one of 24 readings. A wall time alone cannot say its pass; the rows'
order can: of the readings of one repeated wall time (in one series), the first half read are the earlier pass, the
rest the later, as a logger writes them; where a series' rows are read newest first (a table exported ORDER BY ts
DESC: most of its consecutive readings go back in time), the first half read are the later pass (taken as oldest first,
the two passes swapped hours). A wall time of that hour held by one reading (or an odd number) cannot be told, and
stays as DuckDB reads it. Rows read in no time order (a table stored shuffled: neither most steps forward nor most
back, or a pass's readings read after the other pass's) are refused, with how to read them in the
order written: their passes were given at random, and the same readings stored otherwise gave other numbers.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from . import optionwords
from .exceptions import BadInputError
from .sqltext import sql_name

_EPOCH = datetime(1970, 1, 1)
_MINUTE = timedelta(minutes=1)


def _zone(name: str | None) -> ZoneInfo | None:
    try:
        return None if name is None else ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):  # a zone DuckDB (ICU) knows and Python's tz database does not
        return None


def _wall(instant: float, zone: ZoneInfo) -> float:
    """The instant's wall time in ``zone``, as epoch seconds of that wall time read as UTC (alarmzone.local_sql's)."""
    at = datetime.fromtimestamp(instant, UTC).astimezone(zone).replace(tzinfo=None)
    return (at - _EPOCH).total_seconds()


# of a series' steps between consecutive readings (in read order) that move in time, at least this share go one way
# in rows read in the order written (a logger's: all but the repeated hour's one step back); rows stored shuffled
# go either way about as often
ORDERED = 0.75


def unfold(seconds: np.ndarray, local: np.ndarray | None, series: np.ndarray | None, stored: str | None,
           days_in: str | None, who: str = "", column: str = "", source: str = "") -> tuple[np.ndarray, np.ndarray | None]:
    """``seconds`` (each row's instant, in read order) and ``local`` (its wall time in ``days_in``, the zone whose
    days count, or None) with the repeated hour's earlier pass moved to its own instants: ``stored`` is the zone of
    the TIMESTAMP's wall-clock times (None: nothing to do); ``series``: each row's series, or None. Refused where
    the rows of a series holding that hour are not read in the order written: ``who`` the caller, ``column`` the time
    column, ``source`` the rows' source, as said."""

    def refuse(at: float, both: tuple[float, float], by_time: bool) -> BadInputError:
        assert zone is not None
        start, end = _repeated_hour(at, both, zone)
        src = source if source and not source.lstrip().lower().startswith(("select", "from", "with", "(")) else "..."
        # Why said how they were read: rows sorted by the time are oldest first, but each wall time's two readings
        # sit side by side in an order the sort does not keep
        how = ("sorted by their time, each repeated wall time's two readings side by side in no known order"
               if by_time else "not read in the order they were written (neither oldest nor newest first)")
        name = sql_name(column)
        leave_out = f"NOT ({name} >= '{start:%Y-%m-%d %H:%M}' AND {name} < '{end:%Y-%m-%d %H:%M}')"
        return BadInputError(
            f"{who}: time column {column!r} holds the wall times {start:%Y-%m-%d %H:%M}-{end - _MINUTE:%H:%M} twice "
            f"(the hour {stored}'s clocks went back), and the rows of {source!r} are {how}, so which reading is of "
            "which pass cannot be told, and the same readings stored in another order would give other numbers; "
            "read them in the order written, e.g. "
            f"{optionwords.opt('source', f'SELECT * FROM {src} ORDER BY reading_id')} (a column counting the "
            f"readings; not the time, whose repeated values are the question), or, with no such column, leave that "
            f"hour out with the filter ({optionwords.opt('where')}): {leave_out}, or give the times as instants: a "
            f"TIMESTAMPTZ column, or UTC times without {optionwords.opt('timestamps_in')}.")

    zone = _zone(stored)
    if zone is None or len(seconds) < 2:
        return seconds, local
    t = np.asarray(seconds, dtype=np.float64)
    key = np.stack([t, np.zeros(len(t)) if series is None else np.asarray(series, dtype=np.float64)], axis=1)
    ok = np.isfinite(t)
    # Why sorted, not np.unique(axis=0): its sort of rows as records took 3.5 s of 16 on a million readings (every
    # alarm_rate and check-threshold with timestamps_in paid it, most with no repeated time at all); a lexsort of
    # the two columns finds the same groups in a tenth of it
    kept = np.flatnonzero(ok)
    order = np.lexsort((key[kept, 1], t[kept]))
    at_sorted, sid_sorted = t[kept][order], key[kept, 1][order]
    repeat = (at_sorted[1:] == at_sorted[:-1]) & (sid_sorted[1:] == sid_sorted[:-1])
    if not repeat.any():
        return seconds, local
    inverse = np.empty(len(kept), dtype=np.int64)
    inverse[order] = np.cumsum(np.r_[True, ~repeat]) - 1  # each row's (time, series) group
    shared = np.bincount(inverse)[inverse] >= 2
    rows = kept[shared]  # read order kept: np.flatnonzero is ascending
    group = inverse[shared]
    out_t, out_l = t.copy(), None if local is None else np.asarray(local, dtype=np.float64).copy()
    days_zone = _zone(days_in)
    backwards, ordered = _newest_first(t, key[:, 1], ok)
    passes: dict[float, tuple[float, float] | None] = {}
    first_read: dict[float, list[int]] = {}  # each series' repeated readings taken as read first, and as read last
    last_read: dict[float, list[int]] = {}
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
        if not ordered[members[0]]:
            raise refuse(at, both, False)
        sid = float(key[members[0], 1])
        first_read.setdefault(sid, []).extend(halves[0].tolist())
        last_read.setdefault(sid, []).extend(halves[1].tolist())
        for part, moved in zip(halves[::-1] if backwards[members[0]] else halves, both, strict=True):
            out_t[part] = moved
            if out_l is not None:
                # the days' zone's wall time of that pass (the same wall time where they are the stored zone's days)
                out_l[part] = out_l[part] + (moved - at) if days_zone is None else _wall(moved, days_zone)
    for sid, early in first_read.items():
        # as written, one pass's readings all come before the other's: read otherwise, a half is no pass
        if max(early) > min(last_read[sid]):
            at = float(t[early[0]])
            raise refuse(at, passes[at] or (at, at), True)
    return out_t, out_l


def _repeated_hour(at: float, both: tuple[float, float], zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The wall times ``zone`` repeats around the instant ``at`` (``both``: one of its wall times' two instants), as
    [start, end): the clocks go back at an instant between the two passes, found by halving."""
    lo, hi = both  # lo in the earlier offset, hi in the later
    later = datetime.fromtimestamp(hi, UTC).astimezone(zone).utcoffset()
    while hi - lo > 1.0:
        mid = (lo + hi) / 2.0
        if datetime.fromtimestamp(mid, UTC).astimezone(zone).utcoffset() == later:
            hi = mid
        else:
            lo = mid
    start = datetime.fromtimestamp(round(hi), UTC).astimezone(zone).replace(tzinfo=None)
    return start, start + timedelta(seconds=both[1] - both[0])


def _newest_first(t: np.ndarray, series: np.ndarray, ok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each row, whether its series is read newest first (more of the series' consecutive readings, in read
    order, rows with a time, go back in time than forward), and whether it is read in time order either way (at
    least ``ORDERED`` of the steps that move go one way)."""
    rows = np.flatnonzero(ok)
    by = rows[np.argsort(series[rows], kind="stable")]  # each series' rows together, in read order
    ids = np.unique(series[by], return_inverse=True)[1].ravel()
    same = ids[1:] == ids[:-1]
    step = np.sign(np.diff(t[by]))[same]
    size = int(ids.max(initial=-1)) + 1
    votes = np.bincount(ids[1:][same], weights=-step, minlength=size)
    moves = np.bincount(ids[1:][same], weights=np.abs(step), minlength=size)
    out, ordered = np.zeros(len(t), dtype=bool), np.ones(len(t), dtype=bool)
    out[by] = votes[ids] > 0
    ordered[by] = np.abs(votes[ids]) >= (2 * ORDERED - 1) * moves[ids]
    return out, ordered
