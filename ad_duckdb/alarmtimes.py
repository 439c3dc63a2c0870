"""The columns alarm_rate and check-threshold read with the rows' features, row for row: each row's time (epoch
seconds), its wall time in the zone whose days count (alarmzone; where that is not the column's own) and its series
(alarmseries), last in that order."""

from __future__ import annotations

import numpy as np

from .sqltext import quote_ident


def sql(time: str, local: str | None, series: str | None, stored: str | None = None) -> tuple[str, ...]:
    """The expressions read after the features: the time column's epoch (a TIMESTAMP of ``stored``'s wall-clock
    times: its instant's, so that a DST change's missing hour is no gap), ``local`` (SQL, or None) and the series
    column's value (``series``: its name, or None)."""
    from . import alarmseries, alarmzone

    at = quote_ident(time) if stored is None else alarmzone.instant_sql(quote_ident(time), "TIMESTAMP", stored)
    return (f"epoch({at})::DOUBLE", *([local] if local else []),
            *([alarmseries.sql(series)] if series else []))


def split(M: np.ndarray, local: bool, series: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A batch read with ``sql``'s columns as (the columns before them, times, wall times, series); an empty array
    for each not read. The times and series are copies: a view kept past the batch keeps its every feature alive
    until the last batch was read (10 million rows of 40 columns: 3.2 GB)."""
    extra = 1 + int(local) + int(series)
    rest, tail = M[:, :-extra], M[:, -extra:]
    empty = np.empty(0)
    return rest, tail[:, 0].copy(), tail[:, 1].copy() if local else empty, tail[:, -1].copy() if series else empty
