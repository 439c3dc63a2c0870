"""Scores over time: the plot `--plots` adds for a source with a date or timestamp column (sensor readings, daily
transactions), where people look for when things went odd rather than how many did. Many rows are drawn as the
highest score of each time bucket, aggregated in SQL: matplotlib never holds millions of points."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np

from . import pysource
from .closenames import did_you_mean
from .exceptions import BadInputError, NoTimesError, OptionError, SourceNotFoundError
from .features import is_numeric_type
from .numberhints import is_point_in_time
from .numbertext import share_text
from .optionwords import opt
from .plotaxes import _log_axis, _on_axis, log_ticks
from .plotfigure import _subplots
from .plotfiles import _file_stem
from .plottext import _short, _title, drawable
from .savefile import write_whole
from .scoring import LoadedModel
from .sourcedescribe import describe
from .sqltext import is_query, quote_ident, shell_word, shown_source, source_sql, sql_name, strip_sql_ends, where_sql
from .texttimes import either_way, strptime_expr, text_time_format, text_time_formats
from .thresholdmarks import _colour, _dash, _fmt_score, _threshold_groups

if TYPE_CHECKING:
    from .drift import DriftTally

# Up to this many rows each is drawn; above it, the highest score per bucket, BUCKETS buckets over the time range
# (a 10-inch figure at 110 dpi is 1100 pixels wide: more points than that only overdraw).
RAW_ROWS = 5000
BUCKETS = 600
# Flagged points are marked only while they are at most this share of the points drawn.
MARK_AT_MOST = 0.5
# The line breaks where the time to the next point is over this many times the usual one (a gap without rows).
GAP_STEPS = 10
# A legend entry is wrapped to lines of at most this many characters (three columns of them fit the figure).
LEGEND_CHARS = 50
# The legend's top lies this many inches below the axes (the date ticks, the offset date and the axis label fit).
LEGEND_DROP_IN = 0.5
# The legend's height (inches) the figure's own height leaves room for (two rows of entries); a taller legend makes the
# figure taller, not the axes shorter
LEGEND_ROOM_IN = 0.5
_DAY_US = 86_400_000_000


def time_column(cols: list[tuple[str, str]], time: str | None, model: str, source: str,
                text_format: str | None = None) -> tuple[str | None, str | None]:
    """The column to draw the scores against, and a note when there is none to choose by itself: ``time`` if
    given (checked), else the source's one DATE/TIMESTAMP column. None without a note: no such column.
    ``text_format``: the strptime format that reads a text ``time`` column, for the query the error offers."""
    found = [c for c, t in cols if is_point_in_time(t)]
    if time is not None:
        match = {c.lower(): (c, t) for c, t in cols}.get(time.lower())
        if match is None:
            have = f"its date and timestamp columns: {', '.join(found)}" if found else "it has no DATE or TIMESTAMP column"
            raise SourceNotFoundError(f"Model {model!r}: time column {time!r} (--time) is not in {source!r}; {have}."
                                      f"{did_you_mean(time, [c for c, _ in cols])}")
        if not is_point_in_time(match[1]):
            # quoted only where SQL needs it: the example sits inside double quotes of its own
            q = sql_name(match[0])
            if is_numeric_type(match[1]):  # DuckDB casts no number to TIMESTAMP: epoch seconds read with to_timestamp
                how, expr, other = "reads it as a time", f"to_timestamp({q})", "epoch seconds; epoch_ms for milliseconds"
            elif text_format is not None and not text_format.startswith("%Y-%m-%d"):
                # CAST reads ISO times only: its own layout, as read from its values
                how, expr, other = "reads it as a time", strptime_expr(match[0], text_format), "the layout its values have"
            else:
                how, expr, other = "casts it", f"CAST({q} AS TIMESTAMP)", "strptime for other text formats"
            raise BadInputError(
                f"Model {model!r}: time column {time!r} of {source!r} is {match[1]}, not a DATE or TIMESTAMP; score "
                f"a query that {how}, e.g. {shell_word(f'SELECT * REPLACE ({expr} AS {q}) FROM ...')} ({other})."
            )
        return match[0], None
    if len(found) > 1:
        return None, (f"no scores-over-time plot: {source} has {len(found)} date/timestamp columns "
                      f"({', '.join(found)}); choose one with --time (time= in Python).")
    return (found[0] if found else None), None


def choose(con: duckdb.DuckDBPyConnection, model: str, source: str,
           time: str | None) -> tuple[str | None, str | None]:
    """``time_column`` of ``source`` as read from the database: checked before any scoring, so that a wrong
    ``--time`` fails before ``score --into`` writes its table."""
    if time is not None and (not isinstance(time, str) or not time.strip()):
        raise BadInputError(f"Model {model!r}: {opt('time')} names the date or timestamp column to draw the "
                            f"scores against, e.g. {opt('time', 'created_at')}; got {time!r}.")
    cur = pysource.cursor(con, source)
    try:
        cols = describe(cur, source, model, caller=con)
        # a --time column of text: the layout its values have, for the query the error offers
        text = next((c for c, t in cols if time is not None and c.lower() == time.lower() and t.upper() == "VARCHAR"),
                    None)
        read = text_time_format(cur, source, text) if text else None
        untimed = None if time is not None or any(is_point_in_time(t) for _, t in cols) else _text_times_note(
            cur, source, [c for c, t in cols if t.upper() == "VARCHAR"])
    finally:
        cur.close()
    in_index = pysource.index_times(source)
    if in_index is not None:
        if time is None and not any(is_point_in_time(t) for _, t in cols):
            return None, f"no scores-over-time plot: {in_index}"
        if time is not None and time.lower() not in {c.lower() for c, _ in cols}:
            raise SourceNotFoundError(f"Model {model!r}: time column {time!r} (--time) is not in {source!r}: {in_index}")
    if untimed:
        return None, untimed
    return time_column(cols, time, model, source, read[0] if read else None)


# Text columns looked at for times when a source has no DATE or TIMESTAMP column: the first few, a query each.
TEXT_COLUMNS_LOOKED_AT = 3


def _text_times_note(cur: duckdb.DuckDBPyConnection, source: str, texts: list[str]) -> str | None:
    """The note for a source without a DATE or TIMESTAMP column whose text column holds times: which, and the query
    that reads it as times. Why: a CSV's '02.12.2013 21:15' stays VARCHAR, and --plots then drew no plot over time
    without a word of why."""
    found = text_time_formats(cur, source, texts[:TEXT_COLUMNS_LOOKED_AT])
    for c in texts[:TEXT_COLUMNS_LOOKED_AT]:
        read = found.get(c)
        if read:
            src = f"({strip_sql_ends(source)})" if is_query(source) else source_sql(source)
            return (f"no scores-over-time plot: {source} has no DATE or TIMESTAMP column, but its text column {c!r} "
                    f"holds times (such as {read[1]!r}); score SELECT * REPLACE ({strptime_expr(c, read[0])} AS "
                    f"{sql_name(c)}) FROM {src} for one{either_way(c, read)}.")
    return None


@dataclass
class Series:
    """What the plot draws: one point per row (``per`` "") or per time or time bucket (its highest score)."""

    t: np.ndarray            # datetime64[us]: each row's time, each time rows share, or each bucket's middle
    top: np.ndarray          # the row's score, or the time's or bucket's highest
    median: np.ndarray | None  # the time's or bucket's median score (None for rows)
    labelled: np.ndarray     # bool: the row is a labelled anomaly, or the bucket holds one
    flagged: dict[str, int]  # rows above each threshold group (its joined names)
    rows: int                # rows drawn (with a time)
    untimed: int             # rows without a time on the axis (NULL or ±infinity), not drawn
    anomalies: int           # labelled anomalies among the drawn rows
    per: str                 # what a point stands for, for the legend: "" (a row), " per day", " at each ts", ...
    utc: bool = False        # the times are the instants of a TIMESTAMP WITH TIME ZONE, in UTC
    # the lowest and highest finite score of every row scored (those without a time too), None without one: the
    # score axis is chosen from them, as the histograms choose theirs from every row
    score_range: tuple[float, float] | None = None


def series(con: duckdb.DuckDBPyConnection, lm: LoadedModel, source: str, time: str, where: str | None = None,
           label: str | None = None, tally: list[DriftTally] | None = None,
           thresholds: dict[str, float] | None = None) -> Series:
    """Scores of ``source``'s rows (``where``) against ``time``, bucketed in SQL when there are many. ``tally``: as
    ``scorebatches._scored_batches``' (the drift note, from this one scoring pass). ``NoTimesError`` before any scoring when
    no row has a time to draw. ``thresholds``: those counted (the model's, by default)."""
    from .scorebatches import _scored_batches, _scored_view

    # NULL for a NULL time and for 'infinity' / '-infinity', which have no place on the axis: every filter and count
    # below goes by it, not by the column (an infinite time was drawn at 1970, or folded into the last bucket).
    src = f"SELECT * FROM {source_sql(source)}{where_sql(where)}" if where else source
    cur = pysource.cursor(con, source)
    try:
        utc = _zoned(cur, src, time)
        # A zoned time as its instant: cast to TIMESTAMP it is the wall-clock time of the zone of the machine drawing
        # it, where the clocks going back put an hour of readings on the hour before it.
        t_us_sql = f"epoch_us({quote_ident(time)})" if utc else f"epoch_us(CAST({quote_ident(time)} AS TIMESTAMP))"
        lo, hi, n, total, distinct, sql_type = cur.execute(
            f"SELECT min({t_us_sql}), max({t_us_sql}), count({t_us_sql}), count(*), "
            f"approx_count_distinct({t_us_sql}), any_value(typeof({quote_ident(time)})) FROM {source_sql(src)}"
        ).fetchall()[0]
    finally:
        cur.close()
    if not total:
        # Why not the note below: 'NULL or infinite in every one of the 0 rows ... or fill it' had nothing to fill
        raise NoTimesError(lm.ref, f"no scores-over-time plot: {shown_source(source, where)} has no rows.")
    if not n:
        # Why not an empty plot: its axis was 1970 and it said nothing of why; the other plots still go ahead
        raise NoTimesError(lm.ref, f"no scores-over-time plot: {time} is NULL or infinite in every one of the {total} "
                                   f"rows of {shown_source(source, where)}; choose another column with --time "
                                   "(time= in Python), or fill it.")
    groups = _threshold_groups(lm.thresholds if thresholds is None else thresholds)
    counts = "".join(", count(*) FILTER (WHERE anomaly_score > ?)" for _ in groups)
    lab_sql = f"coalesce(CAST({quote_ident(label)} AS DOUBLE) = 1, false)" if label else "false"
    kept = [time, label] if label else [time]
    daily = str(sql_type).upper() == "DATE"
    # Why not always BUCKETS buckets: daily rows over 90 days were drawn "per 3.56 h", each point one day's rows at a
    # made-up hour. Few distinct times (by an estimate) get a point each; dates are bucketed in whole days.
    width = None if n <= RAW_ROWS else 1 if distinct <= BUCKETS else max(1, -(-(hi - lo + 1) // BUCKETS))
    if width and width > 1 and daily:
        width = -(-width // _DAY_US) * _DAY_US
    per = "" if width is None else (" per day" if daily else f" at each {_short(time)}") if width == 1 \
        else f" per {_duration(width)}"
    if width is not None and lo == hi:  # one point: "per day" or "at each ts" would suggest several times
        per = " of the rows, all at one time"
    _, reader, close, failed = _scored_batches(con, lm.ref, src, kept, outputs=["anomaly_score"], tally=tally)
    params = [t for _, t in groups]
    with _scored_view(con, reader, close, failed, lm.ref, source) as sc:
        if width is None:
            # the rows without a time too (last): they are not drawn, but their scores set the score axis' scale
            rows = sc.execute(f"SELECT {t_us_sql} AS t, anomaly_score, {lab_sql} AS lab FROM __ad_scored "
                              "ORDER BY t NULLS LAST").fetchnumpy()
            every = np.asarray(rows["anomaly_score"], dtype=np.float64)
            timed = ~np.ma.getmaskarray(rows["t"])
            tt, top, labelled, med = np.asarray(rows["t"])[timed], every[timed], np.asarray(rows["lab"])[timed], None
            flagged = {names: int((np.asarray(top) > t).sum()) for names, t in groups}
            tt, top, med, labelled, per = _per_time(tt, top, labelled, per, daily, time)
        else:
            # width 1: a point per distinct time, at that time (no clamp: an estimate of the count may be low)
            bucket = (f"{t_us_sql} - {int(lo)}" if width == 1 else
                      f"least(({t_us_sql} - {int(lo)}) // {int(width)}, {int(-(-(hi - lo + 1) // width) - 1)})")
            # the rows without a time are a bucket of their own (b NULL, last), for the range of scores only (least()
            # skips a NULL: it put them in the last bucket)
            bucket = f"CASE WHEN {t_us_sql} IS NOT NULL THEN {bucket} END"
            got = sc.execute(f"SELECT {bucket} AS b, max(anomaly_score), median(anomaly_score), bool_or({lab_sql}), "
                             "min(anomaly_score) FILTER (WHERE isfinite(anomaly_score)), "
                             f"max(anomaly_score) FILTER (WHERE isfinite(anomaly_score)){counts} FROM __ad_scored "
                             "GROUP BY b ORDER BY b NULLS LAST", params).fetchall()
            ends = [v for r in got for v in r[4:6] if v is not None]
            every = np.array([min(ends), max(ends)] if ends else [], dtype=np.float64)
            got = [r for r in got if r[0] is not None]
            tt = np.array([lo + r[0] * width + width // 2 for r in got], dtype=np.int64)
            top = np.array([r[1] for r in got], dtype=np.float64)
            med = np.array([r[2] for r in got], dtype=np.float64)
            labelled = np.array([bool(r[3]) for r in got], dtype=bool)
            flagged = {names: int(sum(r[6 + i] for r in got)) for i, (names, _) in enumerate(groups)}
    anomalies = 0
    if label:
        cur = pysource.cursor(con, source)
        try:
            anomalies = int(cur.execute(f"SELECT count(*) FROM {source_sql(src)} WHERE {t_us_sql} IS NOT NULL "
                                        f"AND {lab_sql}").fetchall()[0][0])
        finally:
            cur.close()
    return Series(t=np.asarray(tt, dtype=np.int64).astype("datetime64[us]"), top=np.asarray(top, dtype=np.float64),
                  median=med, labelled=np.asarray(labelled, dtype=bool), flagged=flagged, rows=int(n),
                  untimed=int(total) - int(n), anomalies=anomalies, per=per, utc=utc, score_range=_range(every))


def _per_time(t: np.ndarray, top: np.ndarray, labelled: np.ndarray, per: str, daily: bool, time: str
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray, str]:
    """Rows (sorted by ``t``) that share their times as a point per time: its highest and median score, whether it
    holds a labelled anomaly, and the legend's ``per``, as the bucketed path draws more rows; rows of distinct times,
    or all of one time (drawn as dots, each row's score), as they are.

    Why: last week's daily rows of 60 merchants were one line up and down each day's rows and then from the last row
    read of a day to the first of the next, a slope made of the rows' order; with most steps 0, no gap was broken."""
    times, first, counts = np.unique(t, return_index=True, return_counts=True)
    if times.size in (t.size, 1):
        return t, top, None, labelled, per
    ends = first + counts
    highest = np.array([np.max(top[a:b]) for a, b in zip(first, ends, strict=True)], dtype=np.float64)
    median = np.array([np.median(top[a:b]) for a, b in zip(first, ends, strict=True)], dtype=np.float64)
    held = np.array([bool(np.any(labelled[a:b])) for a, b in zip(first, ends, strict=True)], dtype=bool)
    return times, highest, median, held, " per day" if daily else f" at each {_short(time)}"


def _range(scores: np.ndarray) -> tuple[float, float] | None:
    """The lowest and highest finite of ``scores``, None without one."""
    finite = scores[np.isfinite(scores)]
    return (float(finite.min()), float(finite.max())) if finite.size else None


def _zoned(cur: duckdb.DuckDBPyConnection, src: str, time: str) -> bool:
    """``time`` of ``src`` is a TIMESTAMP WITH TIME ZONE (any precision)."""
    description = cur.execute(f"SELECT {quote_ident(time)} FROM {source_sql(src)} LIMIT 0").description or []
    return "WITH TIME ZONE" in str(description[0][1]).upper() if description else False


def _duration(us: int) -> str:
    """A bucket's width in the largest whole-ish unit: ``3 s``, ``1.5 h``, ``2 days``."""
    for unit, size in (("days", 86_400e6), ("h", 3_600e6), ("min", 60e6), ("s", 1e6), ("ms", 1e3)):
        if us >= size:
            v = us / size
            return f"{v:.3g} {unit}" if unit != "days" or v != 1 else "1 day"
    return f"{us} µs"


def figure(s: Series, model: str, thresholds: dict[str, float], source: str, time: str) -> Any:
    """The scores against time: a line of every row's score (or of each bucket's highest, with its median), each
    threshold a dashed horizontal line in the colour the histograms give it, the rows the ``default`` threshold
    flags marked, and labelled anomalies shaded (a matplotlib Figure, not registered with pyplot)."""
    from matplotlib.dates import AutoDateLocator, DateFormatter, DayLocator
    from matplotlib.transforms import ScaledTranslation

    fig, ax = _subplots(model, (10, 4.5))
    top = s.top
    finite = top[np.isfinite(top)]
    # from every row's scores, as the histograms of the same run: bucket highs alone (0.08-185 as 2.5-185) drew on
    # a linear axis the scores the histogram drew in log
    scale = np.asarray(s.score_range, dtype=np.float64) if s.score_range else finite
    use_log = _log_axis(scale, thresholds)
    per = s.per
    # Why dots when every row has one time (today's rows scored alone): a line ran up and down through them at that
    # one spot; a line of one vertex is not drawn at all
    one_time = bool(s.t.size) and s.t.min() == s.t.max()
    # Two points have no usual step to tell a gap by: a line between them read as a steady rise over the weeks
    # between a few ids looked up, where no row lies; they are dots as well
    unjoined = one_time or top.size < 3
    marker = "." if unjoined else None
    if s.labelled.any():
        _shade(ax, s)
    t_drawn, (top_drawn, med_drawn), lone, gaps, over = _broken_at_gaps(s.t, top, s.median)
    # a lone point between two gaps is a line of one vertex, not drawn: it gets a dot
    dots: dict[str, Any] = {"marker": marker} if marker or not lone else {"marker": ".", "markevery": lone}
    if unjoined:
        dots["ls"] = "none"
    ax.plot(t_drawn, top_drawn, lw=0.8, color="C0", **dots, label=f"highest score{per}" if per else "anomaly score")
    if s.labelled.any():
        # Why marked as well as shaded: a labelled row among thousands drawn shades a sliver under a pixel wide, so of
        # 98 labelled anomalies about 15 could be seen; a ring at its score shows each (in the shading's colour)
        lab = s.labelled & np.isfinite(top)
        ax.scatter(s.t[lab], top[lab], s=28, facecolors="none", edgecolors="C1", linewidths=1.1, zorder=4)
    if med_drawn is not None:
        ax.plot(t_drawn, med_drawn, lw=0.6, color="C7", **dots, label=f"median score{per}")
    if gaps:
        ax.plot([], [], ls="none", label=f"line broken at {gaps} {'gap' if gaps == 1 else 'gaps'} of over {over} "
                                         "without rows")
    vals = np.log10(scale) if use_log else scale
    on_axis = set(_on_axis(vals, thresholds, use_log).values())
    for i, (names, t) in enumerate(_threshold_groups(thresholds)):
        n = s.flagged.get(names, 0)
        # whole (wrapped with the legend): names cut at 40 characters read alike
        text = f"{drawable(names)} > {_fmt_score(t)}: {n} {'row' if n == 1 else 'rows'} ({share_text(n / max(s.rows, 1))})"
        if t in on_axis:
            ax.axhline(t, color=_colour(i), ls=_dash(i), lw=1, label=text)
        else:  # far from the scores: named, not drawn, so that the scores keep the axis
            side = "above" if finite.size and t > finite.max() else "below"
            ax.plot([], [], color=_colour(i), ls=_dash(i), lw=1, label=f"{text} ({side} the axis)")
        if "default" in names.split(" = "):
            # what a point is: a row, a time (a day, each ts, the one time) or a bucket of several times
            points = _points(per)
            hit = top > t
            # Why not marked past half: when most points are flagged (data unlike the training rows), the dots
            # cover the line they mark and tell nothing the threshold line does not.
            if hit.any() and hit.mean() <= MARK_AT_MOST:
                ax.scatter(s.t[hit], top[hit], s=14, color=_colour(i), zorder=3,
                           label=f"{f'{points} with rows' if per else 'rows'} the default threshold flags")
            elif hit.any() and per:  # a bucket above holds at least one row above: give the rows' share too
                ax.plot([], [], ls="none", label=f"{hit.mean():.0%} of the {points} drawn hold rows above the default "
                                                 f"threshold ({share_text(n / max(s.rows, 1))} of the rows): not marked")
            elif hit.any():
                ax.plot([], [], ls="none", label=f"{hit.mean():.0%} of the rows drawn are above the default threshold: "
                                                 "not marked")
    if use_log:
        from matplotlib.ticker import FuncFormatter, NullFormatter

        ax.set_yscale("log")
        # in plain numbers, as the histograms' score axes: 1, 10, 100 read as values for `threshold --value`, where
        # matplotlib's 10⁰, 10¹, 10² need converting; and at their ticks (1, 2, 5 of each decade on two or three
        # decades). Why: matplotlib ticked whole decades alone, so scores of 1.5-400 read 10 and 100 and no more
        lo, hi = ax.get_ylim()
        ax.set_yticks(log_ticks(float(np.log10(lo)), float(np.log10(hi))))
        ax.set_ylim(lo, hi)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(NullFormatter())
    if s.t.size:
        if one_time and s.t[0] == s.t[0].astype("datetime64[D]"):
            # rows all at midnight of one day (a DATE column's): its day and those either side, each in full. Why:
            # the axis was ticked 06:00, 12:00, 18:00, hours a date does not have
            ax.xaxis.set_major_locator(DayLocator())
            ax.xaxis.set_major_formatter(DateFormatter("%Y-%m-%d"))
        else:
            locator = AutoDateLocator()
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(_dates(locator))
    if one_time:
        # matplotlib widens an axis of one date to two years either side (2024-2028 for a day of 2026)
        ax.set_xlim(s.t[0] - np.timedelta64(1, "D"), s.t[0] + np.timedelta64(1, "D"))
    rows = f"{s.rows} {'row' if s.rows == 1 else 'rows'}"
    untimed = f", {s.untimed} with a NULL or infinite {time} not drawn" if s.untimed else ""
    ax.set(xlabel=_short(time) + (" (UTC)" if s.utc else ""), ylabel="anomaly score" + (" (log scale)" if use_log else ""),
           title=_title(f"Scores over time of {source} by {model} ({rows}{untimed})", 10))
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        # Why wrapped: three columns as wide as their longest entry ('98% of the buckets drawn hold rows above the
        # default threshold (1.06% of the rows): not marked') made a legend wider than the figure, cut off at both
        # edges; entries of at most LEGEND_CHARS characters a line keep three columns within it
        ax.legend(handles, ["\n".join(textwrap.wrap(x, LEGEND_CHARS, break_on_hyphens=False)) or x for x in labels],
                  fontsize=7, loc="upper center", ncol=3, bbox_to_anchor=(0.5, 0),
                  # a fixed distance below the axes, clear of the tick labels and the axis label: a fraction of the
                  # axes' height shrank with them as the legend grew, and the axis label ended on its frame
                  bbox_transform=ax.transAxes + ScaledTranslation(0, -LEGEND_DROP_IN, fig.dpi_scale_trans))
        # taller by the legend's height past what the figure leaves it. Why: 32 thresholds made a legend of 12 rows
        # under a figure of fixed height, and tight_layout shrank the axes the scores are drawn in to an inch
        fig.draw_without_rendering()
        legend_in = ax.get_legend().get_window_extent().height / fig.dpi
        fig.set_figheight(fig.get_figheight() + max(0.0, legend_in - LEGEND_ROOM_IN))
    fig.tight_layout()
    return fig


def _dates(locator: Any) -> Any:
    """matplotlib's concise date labels, but ticks of days over several months take the year(s) as their context.

    Why: matplotlib put the last tick's year and month under the axis ('2014-Feb' for 2 December 2013 to 19 February
    2014, ticks 'Dec 15 Jan 15 Feb'), so that nothing said December was 2013's and every day read as February's;
    the transactions example's January to March read '2026-Apr'. Its ticks name each month already: the context is
    the year, or the years ('2013–2014', the first of January labelled '2014', as matplotlib labels ticks of whole
    months)."""
    from matplotlib.dates import ConciseDateFormatter, num2date

    class Dates(ConciseDateFormatter):
        def format_ticks(self, values: Any) -> list[str]:
            labels: list[str] = super().format_ticks(values)
            days = [num2date(v, tz=self._tz) for v in values]
            # labelled in days (matplotlib's level 2): the day varies over the ticks, no finer field does
            in_days = (len({d.day for d in days}) > 1 and len({(d.hour, d.minute, d.second) for d in days}) == 1)
            if not in_days or len({(d.year, d.month) for d in days}) < 2:
                return labels
            years = sorted({d.year for d in days})
            if len(years) > 1:
                labels = [str(d.year) if (d.month, d.day) == (1, 1) else x for d, x in zip(days, labels, strict=True)]
            self._offset_string = str(years[0]) if len(years) == 1 else f"{years[0]}–{years[-1]}"
            return labels

    return Dates(locator)


def _broken_at_gaps(t: np.ndarray, *ys: np.ndarray | None
                    ) -> tuple[np.ndarray, list[np.ndarray | None], list[int], int, str]:
    """``t`` and each of ``ys`` with a NaN point inserted in each gap over ``GAP_STEPS`` times the median step
    between points, where matplotlib breaks the line; the indices of points alone between two breaks; the number of
    gaps and the gap length in words.

    Why: a sensor that stopped reporting for two days was drawn as a straight ramp from the score before the gap to
    the one after, which reads as two days of rising scores with no reading in them."""
    tt = t.astype(np.int64)
    if tt.size < 3:
        return t, list(ys), [], 0, ""
    step = np.diff(tt)
    typical = float(np.median(step))
    at = np.nonzero(step > GAP_STEPS * typical)[0] if typical > 0 else np.array([], dtype=np.int64)
    if not at.size:
        return t, list(ys), [], 0, ""
    mid = (tt[at] + tt[at + 1]) // 2
    t_out = np.insert(tt, at + 1, mid).astype("datetime64[us]")
    ys_out = [None if y is None else np.insert(np.asarray(y, dtype=np.float64), at + 1, np.nan) for y in ys]
    finite = np.ones(t_out.size, dtype=bool)
    finite[at + 1 + np.arange(at.size)] = False
    before, after = np.r_[False, finite[:-1]], np.r_[finite[1:], False]
    lone = [int(i) for i in np.nonzero(finite & ~before & ~after)[0]]
    return t_out, ys_out, lone, int(at.size), _duration(int(GAP_STEPS * typical))


def _points(per: str) -> str:
    """What a point of a plot of many rows is, for the legend: ``times`` (a day, each ts, the one time) or ``buckets``
    (of several times)."""
    return "buckets" if per.startswith(" per ") and per != " per day" else "times"


def _shade(ax: Any, s: Series) -> None:
    """Runs of labelled rows (or buckets) as orange spans, from halfway to the point before to halfway to the one
    after: a single labelled row keeps a visible width."""
    t = s.t.astype(np.int64).astype(np.float64)
    edges = np.r_[t[0] - (t[1] - t[0]) / 2 if t.size > 1 else t[0] - 5e5, (t[1:] + t[:-1]) / 2,
                  t[-1] + (t[-1] - t[-2]) / 2 if t.size > 1 else t[-1] + 5e5]
    lab = s.labelled.astype(np.int8)
    d = np.diff(np.r_[0, lab, 0])
    starts, ends = np.nonzero(d == 1)[0], np.nonzero(d == -1)[0]
    rows = f"{s.anomalies} {'row' if s.anomalies == 1 else 'rows'}"
    text = f"labelled anomalies ({rows})"
    if s.per:
        # Why not 'labelled anomalies' for points of many rows: 200 anomalies among 20,000 daily rows fall on 83 of 90
        # days, and a nearly all-orange axis so named read as a mostly anomalous period
        text = f"{_points(s.per)} holding labelled anomalies ({int(lab.sum())} of the {lab.size} drawn; {rows})"
    for k, (a, b) in enumerate(zip(starts, ends, strict=True)):
        ax.axvspan(np.datetime64(int(edges[a]), "us"), np.datetime64(int(edges[b]), "us"), color="C1", alpha=0.25,
                   lw=0, label=text if k == 0 else None)


def write(s: Series, out_dir: str | Path, model: str, thresholds: dict[str, float], source: str, time: str,
          labelled: bool = False) -> str:
    """Write ``<model>_v<version>_scores_over_time.png`` beside the histogram (``labelled``, evaluate's with the
    labelled anomalies shaded: ``..._scores_over_time_labelled.png``); returns its path."""
    # Why a name of its own: score --plots and evaluate --plots into one folder wrote the same file, and the second
    # replaced the first without a word; score's name is the one README and plot_scores_over_time gave out
    suffix = "_labelled" if labelled else ""
    p = Path(out_dir) / f"{_file_stem(model.replace('@', '_v'))}_scores_over_time{suffix}.png"
    fig = figure(s, model, thresholds, source, time)
    write_whole(p, lambda t: fig.savefig(t, dpi=110, format="png"))
    return str(p)


def plot(con: duckdb.DuckDBPyConnection, lm: LoadedModel, source: str, time: str, out_dir: str | Path | None,
         shown: str, where: str | None = None, label: str | None = None,
         tally: list[DriftTally] | None = None, thresholds: dict[str, float] | None = None) -> Any:
    """``write`` (``out_dir`` given: the path) or ``figure`` (None: the Figure) of ``series``. ``thresholds``: those
    drawn, the model's by default; evaluate's histogram's (with its 'lowest cost'), so that each threshold has one
    colour in both and both choose their score axis from the same lines."""
    th = lm.thresholds if thresholds is None else thresholds
    s = series(con, lm, source, time, where, label, tally, th)
    if out_dir is None:
        return figure(s, lm.ref, th, shown, time)
    return write(s, out_dir, lm.ref, th, shown, time, labelled=label is not None)


def without_plots(model: str, time: str | None, plots: object) -> None:
    """``time`` names the plot's column: given without a plots folder it would do nothing, silently."""
    if time is not None and plots is None:
        raise OptionError(f"Model {model!r}: {opt('time', time)} names the column of the scores-over-time "
                          f"plot, which only a plots folder gets: give {opt('plots_dir', flag='plots')} too.")
