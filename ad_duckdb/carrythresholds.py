"""The thresholds a retrain carries (``carry_thresholds``): the user's cuts of earlier versions moved to
the new training scores, those chosen on labels chosen again on the same rows (``choose_goals_again``), and the
warnings for the ones that cannot be."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Sequence
from dataclasses import replace as with_fields
from typing import Any

import duckdb
import numpy as np

from . import alarmrate, carryorder, filegoals, notes, optionwords, relfiles, store, storeload, thresholds, typedpaths
from .exceptions import AdDuckDBError, BadInputError, IntegrityError, SourceNotFoundError
from .goalthreshold import _goal_threshold, _is_goal
from .scoring import LoadedModel
from .sqltext import shell_word, source_sql
from .store import ModelRecord, Threshold


def carried_thresholds(cur: Any, name: str, scores: np.ndarray, quantiles: Sequence[float] | None = None, *,
                       version: int, promote: bool = True) -> tuple[list[Threshold], dict[str, tuple[dict[str, Any], str]], dict[str, Any]]:
    """``carry_thresholds``: the user's thresholds of earlier versions, moved to these training scores (whose
    ``score_quantiles`` are ``quantiles``), and the goals of those chosen on labels (name -> (goal, the version it
    comes from)). Each name from the version the bare name means (the promoted one, else the newest) when it has it,
    else from the newest that has it: one retrain run without the flag does not lose them for the next.
    ``version``: the one the new model is stored as, which the notes name; ``promote``: whether the bare name is to
    mean it (a staged one's notes say what flags by it now). Third: the goals of carried thresholds
    that came in a model file (``filegoals``), never run: the new version keeps them to show."""
    new_ref = f"{name}@{version}"
    out: list[Threshold] = []
    goals: dict[str, tuple[dict[str, Any], str]] = {}
    from_files: dict[str, Any] = {}
    newest = True  # the first version read: the one the name means
    stored = sorted(store.known_models(cur).get(name, []), reverse=True)
    # Why the version the name means first: with a retrain staged (promote=False), the newest is one no query used,
    # and a cut re-set since on the promoted one (what dashboards calling the name flag by) was lost to the staged
    # version's older copy; without a promoted version it is the newest, as before
    prefer: dict[str, int] = {}
    current = store.bare_version(cur, name, stored) if stored else 0
    if stored:
        # a cut set last on a staged version first, taking only those (a damaged one's then come from the others)
        prefer = carryorder.preferred(cur, name, stored, current)
        first = sorted(set(prefer.values()), reverse=True)
        stored = [*first, current, *(v for v in stored if v != current)]
    for i, version in enumerate(stored):
        only = {t for t, v in prefer.items() if v == version} if i < len(set(prefer.values())) else None
        try:
            prev = storeload.load(cur, f"{name}@{version}")
        except IntegrityError as e:
            # Why skipped, not fatal: a damaged old version (list shows it) would otherwise stop every nightly
            # retrain, though the newer versions hold the thresholds; its own were chosen on a model no query uses.
            notes.warn(f"Model '{name}@{version}' is damaged, so its thresholds are not carried to the new "
                       f"version ({e}).")
            continue
        if newest and version == current:  # what the queries used until now; the others' were replaced by a retrain
            _warn_replaced_not_carried(cur, thresholds.replaced_by_user(prev.thresholds), prev.ref, new_ref, promote)
            newest = False
        taken = {t.name for t in out}
        own = [t for t in prev.thresholds if t.name not in thresholds.FROM_TRAINING and t.name not in taken
               and (only is None or t.name in only)]
        grid = (prev.metrics or {}).get("score_quantiles")
        if own and not grid:
            raise BadInputError(
                f"Model {prev.ref!r} stores no training-score quantiles (imported from an older file?), so its "
                f"thresholds {', '.join(repr(t.name) for t in own)} cannot be moved to a new version: train without "
                f"{optionwords.opt('carry_thresholds')} and set them again with "
                f"{'ad-duckdb threshold' if optionwords.SURFACE.get() == 'cli' else 'ad_duckdb.set_threshold'}."
            )
        out += thresholds.carried(own, grid or [], scores, prev.ref, quantiles, prev.metrics)
        kept, came = filegoals.split(prev.metrics, prev.source)
        for t in own:
            goal = kept.get(t.name)
            if _is_goal(goal):
                goals[t.name] = (goal, prev.ref)
            elif t.name in came:
                from_files[t.name] = came[t.name]
                _warn_goal_from_file(cur, t, came[t.name], prev.ref, new_ref)
            elif t.method in thresholds.LABELLED:
                _warn_goal_not_kept(cur, t, prev.ref, new_ref)
            elif (origin := _carried_origin(name, t)) is not None:
                found, method = _goal_carried_from(cur, name, t.name, origin)
                if found is not None:
                    goals[t.name] = found
                elif method is not None:
                    _warn_goal_not_kept(cur, t, prev.ref, new_ref,
                                        method=method, origin=f"carried from {name}@{origin[0]}")
    return out, goals, from_files


def _warn_goal_from_file(cur: Any, t: Threshold, goal: Any, ref: str, new_ref: str) -> None:
    """A carried threshold whose goal came in a model file is not chosen again: say so, and the command that does."""
    name = ref.rpartition("@")[0]
    notes.warn(
        f"Threshold {t.name!r} is carried to {new_ref} at the same point of its training scores, not chosen again on "
        f"labelled rows: its goal came in an imported model file ({ref}), and ad_duckdb runs no SQL a file brings. "
        f"To choose it on labelled rows, name them yourself: {filegoals.choose_again(typedpaths.cli_db(cur), name, t.name, goal)}"
        "; later retrains then choose it again.")


# What thresholds.carried writes (and wrote before goals were kept): "carried from NAME@K (METHOD, VALUE: ..."
_CARRIED = re.compile(r"carried from (?P<ref>.+)@(?P<version>\d+) \((?P<method>\w+), ")


def _carried_origin(name: str, t: Threshold) -> tuple[int, str] | None:
    """The version a threshold was carried from, and its method there, for one a retrain carried as a plain
    'quantile' cut; None for any other threshold."""
    m = _CARRIED.match(t.chosen_on or "")
    if t.method != "quantile" or m is None or m["ref"] != name:
        return None
    return int(m["version"]), m["method"]


def _goal_carried_from(cur: Any, name: str, threshold: str, origin: tuple[int, str],
                       ) -> tuple[tuple[dict[str, Any], str] | None, str | None]:
    """The goal of ``threshold`` (and the version keeping it) on the version it was carried from (``origin``),
    following carries back while the versions are stored; and the labelled method it was chosen by, if any link
    says. (None, None): a cut never chosen on labels (one set by hand, carried).

    Why: a team whose nightly job still ran a release before dffb181 while its analysts upgraded got the goal
    dropped at that job's retrain (the cut carried as a plain quantile), and then every later retrain carried it
    as a plain quantile too, while the version the goal was chosen on still held it."""
    seen: set[int] = set()
    version, method = origin
    labelled = method if method in thresholds.LABELLED else None
    while version not in seen:
        seen.add(version)
        row = cur.execute("SELECT m.metrics::VARCHAR, t.chosen_on, t.method, m.source FROM ad_models m "
                          "LEFT JOIN ad_thresholds t "
                          "ON t.model = m.name AND t.version = m.version AND t.threshold_name = $3 WHERE m.name = $1 "
                          "AND m.version = $2", [name, version, threshold]).fetchall()
        if not row:
            return None, labelled  # dropped since: nothing left to read the goal from
        metrics, chosen_on, kind, source = row[0]
        try:
            kept = filegoals.split(json.loads(metrics or "{}"), source)[0]
        except (ValueError, AttributeError):  # metrics hand-edited into something else than an object
            kept = {}
        goal = kept.get(threshold)
        if _is_goal(goal) and labelled in (None, goal["method"]):
            return (goal, f"{name}@{version}"), goal["method"]
        back = _carried_origin(name, Threshold(name=threshold, value=0.0, method=kind or "", chosen_on=chosen_on))
        if back is None:
            return None, labelled or (kind if kind in thresholds.LABELLED else None)
        version = back[0]
        labelled = labelled or (back[1] if back[1] in thresholds.LABELLED else None)
    return None, labelled


def _warn_replaced_not_carried(cur: Any, mine: list[Threshold], ref: str, new_ref: str, promote: bool = True) -> None:
    """Say which of the user's cuts stored under a training's name (``thresholds.replaced_by_user``) the retrain
    does not carry. Why: it gives the new version the training's own under those names, so the queries naming
    them flagged by another cut the next morning (a 90%-precision 'p90' became the 90% quantile), and nothing said.
    ``promote``: whether the bare name means ``new_ref`` now; staged, the version's calls flag by it, the name's once
    it is promoted."""
    if not mine:
        return
    name = ref.rpartition("@")[0]
    many = len(mine) > 1

    def calls(model: str) -> str:
        return " and ".join(f"is_anomaly({model!r}, ...)" if t.name == "default" else
                            f"is_anomaly_at({model!r}, {t.name!r}, ...)" for t in mine)

    listed = " and ".join(f"{t.name!r} ({t.method}, {t.value:.6g})" for t in mine)
    later = "" if promote else f" ({calls(name)} once {new_ref} is promoted)"
    example = next((t for t in mine if t.name != "default"), mine[0])
    own = f"{example.name}_{example.method}"
    # Why the new version, not the name: a retrain staged (promote=False) leaves the name meaning the older one,
    # on which the cut would be stored
    cli = " ".join(shlex.quote(w) for w in ("ad-duckdb", "threshold", typedpaths.cli_db(cur), new_ref, own, "--method",
                                            example.method))
    call = f"ad_duckdb.set_threshold(con, {new_ref!r}, {own!r}, {example.method!r}, ...)"
    default = (f"; for 'default', train with the share it should flag, {optionwords.opt('contamination')}"
               if any(t.name == "default" for t in mine) else "")
    notes.warn(
        f"Threshold{'s' if many else ''} {listed} of {ref} {'are' if many else 'is'} not carried to {new_ref}: "
        f"every training sets its own under {'these names' if many else 'this name'}, so "
        f"{calls(name if promote else new_ref)} now flag{'' if many else 's'} by the training scores of {new_ref}{later}. "
        f"To keep a cut of yours, store it under a name of your own, which later "
        f"retrains carry: {optionwords.either(call, cli + ' ...')}{default}.")


def _warn_goal_not_kept(cur: Any, t: Threshold, ref: str, new_ref: str, method: str | None = None,
                        origin: str | None = None) -> None:
    """A threshold chosen on labels whose goal ``ref`` does not keep (stored by a release before goals were kept
    in ad_models.metrics) cannot be chosen again: say so, and how to choose it again. Why: the retrain's own line
    ("carried f1: ..., at the same point of the training scores") reads as if labels had been consulted.
    ``method`` and ``origin``: for one such a release carried, the method it was chosen by and where it came from."""
    method = method or t.method
    on = (t.chosen_on or "").partition("; ")[0]  # the rows and label; a later note about training rows is not needed
    where = origin or (f"chosen on {on}" if on else "")
    cli = " ".join(shlex.quote(w) for w in ("ad-duckdb", "threshold", typedpaths.cli_db(cur), new_ref, t.name, "--method",
                                            method))
    call = f"ad_duckdb.set_threshold(con, {new_ref!r}, {t.name!r}, {method!r}, source=..., label=...)"
    notes.warn(
        f"Threshold {t.name!r} ({method}{f', {where}' if where else ''}) is carried to {new_ref} at the same "
        f"point of its training scores, not chosen again on its labels: the older ad_duckdb that stored it on {ref} "
        f"kept no record of its goal. Choose it again on labelled rows: "
        f"{optionwords.either(call, cli + ' --source ... --label ...')}; later retrains then choose it again "
        "themselves.")


def choose_goals_again(con: duckdb.DuckDBPyConnection, rec: ModelRecord,
                       goals: dict[str, tuple[dict[str, Any], str]], version: int, progress: bool = False,
                       promote: bool = True) -> None:
    """Carried thresholds that were chosen on labels, chosen again on the same labelled rows for the new model
    ``rec`` (to be stored as ``version``), in place of their training-score point; where that fails (the rows are
    gone, the goal is out of reach), the point stays, with a warning. Their goals go with the new version, for
    the next retrain. ``progress``: the labelled rows scored, on stderr, as the training's own progress.
    ``promote``: whether the bare name is to mean the new version (a staged one's commands name it as name@N).

    Why: a goal ("precision at least 0.9 on the labelled rows") is what the user chose; the same share of training
    rows is only a stand-in for it, whose precision on a new model nobody measured."""
    lm = LoadedModel(with_fields(rec, version=version))
    for name, (goal, ref) in goals.items():
        try:
            th = _goal_threshold(con, lm, name, goal, note=f"chosen again for this version (the goal of {ref})",
                                 progress=progress)
        except (AdDuckDBError, duckdb.Error) as e:
            again = (_choose_on_new_columns(con, lm, name, goal, promote) if isinstance(e, SourceNotFoundError)
                     else "")
            notes.warn(f"Threshold {name!r} is carried to {lm.ref} at the same point of its training scores, not "
                       f"chosen again on its {'rows' if goal['method'] == alarmrate.METHOD else 'labels'} "
                       f"({goal['method']} on {goal['source']}): {e}{again}")
            continue
        rec.thresholds = [th if t.name == name else t for t in rec.thresholds]
    rec.metrics[store.GOALS] = {name: goal for name, (goal, _) in goals.items()}


def _choose_on_new_columns(con: duckdb.DuckDBPyConnection, lm: LoadedModel, name: str, goal: dict[str, Any],
                           promote: bool = True) -> str:
    """The ``threshold`` command that chooses a carried goal again on a query of its labelled rows giving the new
    version's columns, which the retrain's next --carry-thresholds then reads; when the goal's relative file paths
    were read in another working folder than this one, that folder and the command on the files' full paths.

    Why: the error's fix is scoring's ("rename them in a query"), but a retrain takes no query of the labelled rows:
    after a column renamed upstream, the goal stayed on rows the new version cannot score, at every later retrain."""
    moved = relfiles.absolute_source(goal)
    # a staged version (promote=False) by its ref: the bare name still means the older one, which the command
    # would have chosen it on
    shown = _threshold_command(con, lm.rec.name if promote else lm.ref, name, goal,
                               "SOURCE" if moved is None else shell_word(moved))
    if moved is not None:
        return (f" {relfiles.elsewhere(goal)}: run the retrain from there, or choose it again on {lm.ref} with the "
                f"files' full paths: {shown}; later retrains with --carry-thresholds read them from any folder.")
    if not _readable(con, str(goal["source"])):
        # Why its own words: the labelled rows are gone (a table dropped), and renaming columns of it was no fix
        return (f" Choose it again on {lm.ref}: {shown} (SOURCE: where the labelled rows are now, giving {lm.ref}'s "
                f"columns ({', '.join(lm.feature_names)})); later retrains with --carry-thresholds choose it there.")
    return (f" Choose it again on {lm.ref}: {shown} (SOURCE: a query of {goal['source']} giving {lm.ref}'s "
            f"columns ({', '.join(lm.feature_names)}), e.g. SELECT * RENAME (old AS new) FROM {goal['source']}); "
            "later retrains with --carry-thresholds choose it on that query.")


def _readable(con: duckdb.DuckDBPyConnection, source: str) -> bool:
    """Whether ``source`` (a goal's labelled rows: a table, view, file or query) can be read at all."""
    cur = con.cursor()
    try:
        cur.execute(f"SELECT * FROM {source_sql(source)} LIMIT 0")
        return True
    except (duckdb.Error, AdDuckDBError):
        return False
    finally:
        cur.close()


def _threshold_command(con: duckdb.DuckDBPyConnection, model: str, name: str, goal: dict[str, Any],
                       source: str) -> str:
    """``ad-duckdb threshold`` choosing ``goal`` again for ``model`` (a name or name@N) on ``source`` (shell text as
    given)."""
    cur = con.cursor()
    try:
        db = typedpaths.cli_db(cur)
    finally:
        cur.close()
    words = ["ad-duckdb", "threshold", db, model, name, "--method", goal["method"]]
    if goal.get("target") is not None:
        words += ["--target", repr(goal["target"])]
    if goal["method"] == alarmrate.METHOD:
        # no label: the rows believed normal, at the same rate (an alarm_rate goal's SourceNotFoundError reached
        # goal['label'] here, a KeyError that ended the retrain in a traceback)
        if goal.get("per") and goal.get("alarms") is not None:
            words += [f"--per-{goal['per']}", f"{goal['alarms']:g}"]
        elif goal.get("rate") is not None:
            words += ["--rate", f"{goal['rate']:g}"]
        if goal.get("time"):
            words += ["--time", goal["time"]]
    shown = " ".join(shlex.quote(w) for w in words) + f" --source {source}"
    if goal.get("label"):
        shown += f" --label {shlex.quote(goal['label'])}"
    for option, key in (("--where", "where"), ("--weight", "weight"), ("--sampled", "sampled"), ("--series", "series"),
                        ("--tz", "tz"), ("--timestamps-in", "timestamps_in")):
        if goal.get(key):
            shown += f" {option} {shlex.quote(goal[key])}"
    shown += " --confident" if goal.get("confident") else ""
    return shown + (" ..." if goal["method"] == "min_cost" else "")
