"""alarm_rate's ``series=`` (CLI ``--series``): the column telling apart several series in one table (a sensor's
id, a merchant's), read row for row with the features so that episodes and the scores' autocorrelation are taken
within each series, not across their interleaved readings (alarmepisodes)."""

from __future__ import annotations

from typing import Any

from . import optionwords
from .closenames import did_you_mean
from .exceptions import BadInputError, SourceNotFoundError
from .sqltext import quote_ident, sql_names


def check_column(who: str, source: str, series: Any, cols: list[tuple[str, str]], time: str | None = None,
                 missing: str = "") -> str:
    """The series column as ``source`` names it; refused by name: not a name, missing (with the near names, then
    ``missing``: what else to do), or the time column itself."""
    if not isinstance(series, str) or not series:
        raise BadInputError(f"{who}: {optionwords.opt('series')} must name the column of {source!r} telling its "
                            f"series apart (e.g. {optionwords.opt('series', 'sensor')}); got {series!r}.")
    types = {c.lower(): c for c, _ in cols}
    if series.lower() not in types:
        raise SourceNotFoundError(f"{who}: series column {series!r} is not in {source!r}; its columns: "
                                  f"{sql_names(c for c, _ in cols)}{missing}."
                                  f"{did_you_mean(series, [c for c, _ in cols])}")
    if time is not None and series.lower() == time.lower():
        raise BadInputError(f"{who}: series column {series!r} is the time column; {optionwords.opt('series')} names "
                            "the column telling the series apart, e.g. a sensor's id.")
    return types[series.lower()]


def sql(column: str) -> str:
    """Each row's series as a DOUBLE, equal for equal values (NULL is one series of its own): a hash, any type of
    column taken, streamed with the rows (no window over the whole table)."""
    return f"hash({quote_ident(column)})::DOUBLE"
