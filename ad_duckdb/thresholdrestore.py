"""``ad-duckdb restore-thresholds``: a store whose block holding the thresholds is damaged (``damagedthresholds``) gets
each version's training thresholds again, and the damaged table is kept.

Why renamed aside, not dropped: nothing the user stored is thrown away, so a byte-level recovery or a backup can
still be tried on it; the models and every other table are not touched.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np

from . import canwrite, filegoals, lifecycle, storetables, thresholdlog, thresholdrows
from .damagedthresholds import ASIDE, unreadable
from .percentiles import share_of_training_above
from .sqltext import quote_ident
from .thresholds import FROM_TRAINING, QUANTILES, Threshold


def _aside_name(cur: Any) -> str:
    taken = {str(t) for (t,) in cur.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = "
        "current_schema()").fetchall()}
    return next(n for n in (ASIDE, *(f"{ASIDE}_{i}" for i in range(2, 10_000))) if n not in taken)


def _table_ddl() -> str:
    found = re.search(r"CREATE TABLE IF NOT EXISTS ad_thresholds \(.*?\);", storetables.schema_sql(), re.S)
    assert found is not None  # the package's own schema.sql
    return found.group(0)


def _training_thresholds(source: str, contamination: float, quantiles: list[float],
                         metrics: dict[str, Any] | None = None) -> list[Threshold]:
    """What ``thresholds.from_training_scores`` stored at training, read off the training scores' quantile grid
    (the grid holds p90 ... p999 as points; the default's quantile is interpolated between two)."""
    q = np.asarray(quantiles, dtype=np.float64)
    grid = np.linspace(0.0, 1.0, len(q))
    wanted = [("default", 1.0 - contamination, "contamination",
               f"training scores of {source} (contamination={contamination:g})")]
    wanted += [(name, at, "quantile", f"training scores of {source}") for name, at in QUANTILES.items()]
    out = []
    for name, at, method, chosen_on in wanted:
        v = float(np.interp(at, grid, q))
        out.append(Threshold(name=name, value=v, method=method, chosen_on=chosen_on,
                             flagged_share=share_of_training_above(q, v, metrics)))
    return out


def restore(cur: Any, db: str) -> list[str]:
    """Store again each version's thresholds that are lost, in one transaction; the lines to print (what was stored,
    what to set again). A damaged ad_thresholds is renamed aside and made anew, a missing one made anew; from a
    readable one only the rows a version lacks are stored (deleted by hand: every command then said the version
    has no threshold 'default', and this command, that there was nothing to restore)."""
    if not lifecycle._has(cur, "ad_models") or not cur.execute("SELECT count(*) FROM ad_models").fetchall()[0][0]:
        # Why its own words: "the thresholds stored ... read" said of a file that stores none
        return [f"nothing to restore: {db!r} stores no model (table ad_models is missing or empty), so there are no "
                "thresholds to store again."]
    table = lifecycle._has(cur, "ad_thresholds")
    damaged = table and unreadable(cur) is not None
    present = _present(cur) if table and not damaged else {}
    rows = cur.execute("SELECT name, version, created_at, source, params::VARCHAR, metrics::VARCHAR FROM "
                       "ad_models ORDER BY name, version").fetchall()
    hand = thresholdlog.latest(cur)
    lacking = [r for r in rows if _lost(r, present, hand)]
    if not lacking:
        return [f"nothing to restore: the thresholds stored in {db!r} read, and each of its {len(rows)} model "
                "versions has its training thresholds (default, p90 ... p999) and the ones its changelog names.",
                *_to_choose(db, rows, present)]
    canwrite.check_can_write(cur, f"Cannot restore the thresholds stored in {db!r}")
    lines = []
    with storetables.transaction(cur):
        if damaged:
            aside = _aside_name(cur)
            lines.append(f"the damaged table ad_thresholds is kept as table {aside} (its damaged block cannot be read; "
                         f"drop it once the file is restored or no longer needed: DROP TABLE {aside}).")
            cur.execute(f"ALTER TABLE ad_thresholds RENAME TO {quote_ident(aside)}")
        elif not table:
            lines.append("table ad_thresholds was missing (dropped or renamed by hand?): created anew.")
        if not table or damaged:
            cur.execute(_table_ddl())
        for name, version, created, source, params_json, metrics_json in lacking:
            ref = f"{name}@{version}"
            has = present.get((str(name), int(version)), set())
            params, metrics = (_object(t) for t in (params_json, metrics_json))
            quantiles = metrics.get("score_quantiles")
            if not isinstance(quantiles, list) or len(quantiles) < 2:
                if not has.issuperset(FROM_TRAINING):
                    lines.append(f"{ref}: it keeps no training scores, so set its thresholds again: ad-duckdb "
                                 f"threshold {db} {ref} default --method manual --value V.")
            elif not has.issuperset(FROM_TRAINING):
                contamination = params.get("contamination")
                c = float(contamination) if isinstance(contamination, (int, float)) else 0.01
                made = [t for t in _training_thresholds(str(source or ""), c, quantiles, metrics)
                        if t.name not in has]
                for t in made:
                    thresholdrows.write_threshold(cur, str(name), int(version), t, created_at=created)
                lines.append(f"{ref}: {', '.join(t.name for t in made)} stored again from its training scores.")
            own, _came = filegoals.split(metrics, source)
            # a goal's threshold is chosen again on its labelled rows (_to_choose), as before the changelog kept it
            own_set = {k: t for k, t in hand.get((str(name), int(version)), {}).items() if k not in own and k not in has}
            for logged, set_at in own_set.values():  # with the time it was set, as before the damage
                thresholdrows.write_threshold(cur, str(name), int(version), Threshold(**logged), created_at=set_at)
            if own_set:
                lines.append(f"{', '.join(map(repr, sorted(own_set)))} of {ref} stored again as last set (its "
                             "changelog, ad_model_log, keeps each threshold set).")
    lines += _to_choose(db, rows, present)
    if not hand:  # a file from before the changelog kept each threshold set (or with none set)
        lost = "damaged block" if damaged else "lost rows"
        lines.append("thresholds of your own set by value or quantile (ad-duckdb threshold ... --method manual, "
                     f"quantile, contamination) were in the {lost} and cannot be named here: set them again, or "
                     "import the model's exported .onnx file, which holds them, under another name and read them with "
                     "ad-duckdb show.")
    else:  # a release before the changelog kept each threshold set may have stored cuts it does not name
        # Why only the versions stored before the first logged cut: a version stored after it was stored by a release
        # that logs its cuts, and the date alone read as if every version's cuts before it might be lost (on a file
        # this release made, merely the time the first cut was set)
        # Why a word on an older build run on the file since, whatever the versions: it sets cuts without logging
        # them on any version, and its models and changelog entries are as this release's, so nothing tells a restore
        # it ran (checked with a real older build run on a file after this release set a cut: its cuts on versions
        # stored after that one were lost without a word)
        first = thresholdlog.since(cur)
        older = [f"{n}@{v}" for n, v, created, *_ in lacking if created is not None and created < first]
        since = "an older ad-duckdb run on this file since (one that does not log the cuts it sets)"
        lines.append((f"a cut of your own set before {first:%Y-%m-%d %H:%M} UTC (the changelog's first threshold set) "
                      f"on {_listed(older)}, stored before it, by a release that did not log it, is not named here; "
                      f"nor is one set by {since}" if older else f"a cut of your own set by {since} is not named here")
                     + ": set it again if ad-duckdb show lacks it.")
    return lines


def _present(cur: Any) -> dict[tuple[str, int], set[str]]:
    """Per (model, version), the names of the thresholds a readable ad_thresholds holds."""
    out: dict[tuple[str, int], set[str]] = {}
    for model, version, name in cur.execute("SELECT model, version, threshold_name FROM ad_thresholds").fetchall():
        out.setdefault((str(model), int(version)), set()).add(str(name))
    return out


def _lost(row: tuple[Any, ...], present: dict[tuple[str, int], set[str]],
          hand: dict[tuple[str, int], dict[str, Any]]) -> bool:
    """Whether version ``row`` of ad_models lacks a threshold this command stores: one training stores, or one its
    changelog names as set by hand (not one chosen on labelled rows: only its command can choose it again)."""
    key = (str(row[0]), int(row[1]))
    own, _came = filegoals.split(_object(row[5]), row[3])
    return not present.get(key, set()).issuperset({*FROM_TRAINING, *(set(hand.get(key, {})) - set(own))})


def _to_choose(db: str, rows: list[Any], present: dict[tuple[str, int], set[str]]) -> list[str]:
    """Lines for thresholds chosen on labelled rows that are missing (lost, or restored earlier and not chosen again
    yet): only their command can choose them again."""
    out = []
    for name, version, _created, source, _params, metrics_json in rows:
        own, _came = filegoals.split(_object(metrics_json), source)
        has, ref = present.get((str(name), int(version)), set()), f"{name}@{version}"
        for threshold, goal in sorted(own.items()):
            if threshold not in has:
                method = goal.get("method") if isinstance(goal, dict) else None
                out.append(f"{threshold!r} of {ref} was chosen on labelled rows ({method}); choose it again: "
                           f"{filegoals.choose_again(db, ref, threshold, goal)}")
    return out


def _listed(refs: list[str]) -> str:
    return ", ".join(refs[:8]) + (f" and {len(refs) - 8} more" if len(refs) > 8 else "")


def _object(text: str | None) -> dict[str, Any]:
    try:
        got = json.loads(text or "{}")
    except ValueError:
        return {}
    return got if isinstance(got, dict) else {}
