"""Labelled rows: ``evaluate`` (precision, recall, AUC on them), ``set_threshold`` (by hand, on the training-score
quantiles, or for a goal on labelled rows), and the thresholds a retrain carries (goals chosen again). The maths is
``thresholds`` and ``metrics``; this module reads the rows and stores the results."""

from __future__ import annotations

import json
import numbers
import re
import shlex
from collections.abc import Sequence
from dataclasses import replace as with_fields
from pathlib import Path
from typing import Any, TypeGuard

import duckdb
import numpy as np

from . import (
    alarmrate,
    attachedmodels,
    carryorder,
    categorical,
    costintervals,
    costs,
    filegoals,
    goalcheck,
    indexcols,
    interrupts,
    intervals,
    leancurve,
    normalonly,
    notes,
    optionwords,
    pysource,
    relfiles,
    repeatedrows,
    store,
    thresholds,
    trainsample,
    weights,
)
from . import sampled as sampling
from .callerview import into_caller_schema
from .closenames import did_you_mean
from .columnroles import id_like
from .connarg import check_connection
from .drift import DriftTally
from .exceptions import (
    AdDuckDBError,
    BadInputError,
    IntegrityError,
    NoRowsError,
    NoTimesError,
    OptionError,
    SourceNotFoundError,
)
from .featureread import feature_batches, rows_fingerprint
from .features import is_numeric_type
from .intotable import check_replace, check_target
from .progress import rows as progress_rows
from .samesource import same_source
from .scoring import LoadedModel
from .sourcecols import feature_columns
from .sourcedescribe import describe
from .sqltext import (
    quote_ident,
    quote_literal,
    shell_word,
    shown_source,
    source_sql,
    sql_name,
    sql_names,
    sql_tokens,
    strip_sql_ends,
    table_sql,
    typed_from,
    where_sql,
)
from .store import ModelRecord, Threshold
from .udfs import refresh, registry


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
            prev = store.load(cur, f"{name}@{version}")
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
        f"To choose it on labelled rows, name them yourself: {filegoals.choose_again(store.cli_db(cur), name, t.name, goal)}"
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
    cli = " ".join(shlex.quote(w) for w in ("ad-duckdb", "threshold", store.cli_db(cur), new_ref, own, "--method",
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
    cli = " ".join(shlex.quote(w) for w in ("ad-duckdb", "threshold", store.cli_db(cur), new_ref, t.name, "--method",
                                            method))
    call = f"ad_duckdb.set_threshold(con, {new_ref!r}, {t.name!r}, {method!r}, source=..., label=...)"
    notes.warn(
        f"Threshold {t.name!r} ({method}{f', {where}' if where else ''}) is carried to {new_ref} at the same "
        f"point of its training scores, not chosen again on its labels: the older ad_duckdb that stored it on {ref} "
        f"kept no record of its goal. Choose it again on labelled rows: "
        f"{optionwords.either(call, cli + ' --source ... --label ...')}; later retrains then choose it again "
        "themselves.")


def _is_goal(goal: Any) -> TypeGuard[dict[str, Any]]:
    """Whether a stored goal (ad_models.metrics, which an imported file also brings) has what choosing needs."""
    if isinstance(goal, dict) and goal.get("method") == alarmrate.METHOD:
        return alarmrate.from_goal(goal) is not None
    return (isinstance(goal, dict) and goal.get("method") in thresholds.LABELLED
            and all(isinstance(goal.get(k), str) for k in ("source", "label"))
            and isinstance(goal.get("where"), (str, type(None))) and isinstance(goal.get("confident"), bool)
            and isinstance(goal.get("weight"), (str, type(None)))
            and goal.get("sampled") in (None, *sampling.CHOICES)
            and (goal.get("target") is None or isinstance(goal.get("target"), (int, float)))
            and (goal["method"] != "min_cost" or _costs_ok(goal)))


def _costs_ok(goal: dict[str, Any]) -> bool:
    try:
        costs.prices(goal.get("miss_cost"), goal.get("alarm_cost"), goal.get("anomaly_share"), "")
    except AdDuckDBError:
        return False
    return True


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
    return (f" Choose it again on {lm.ref}: {shown} (SOURCE: a query of {goal['source']} giving {lm.ref}'s "
            f"columns ({', '.join(lm.feature_names)}), e.g. SELECT * RENAME (old AS new) FROM {goal['source']}); "
            "later retrains with --carry-thresholds choose it on that query.")


def _threshold_command(con: duckdb.DuckDBPyConnection, model: str, name: str, goal: dict[str, Any],
                       source: str) -> str:
    """``ad-duckdb threshold`` choosing ``goal`` again for ``model`` (a name or name@N) on ``source`` (shell text as
    given)."""
    cur = con.cursor()
    try:
        db = store.cli_db(cur)
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


def _labelled_scores(con: duckdb.DuckDBPyConnection, model: str | LoadedModel, source: str, label: str,
                     where: str | None, tally: list[DriftTally] | None = None, repeats: list[str] | None = None,
                     progress: str | None = None, weight: str | None = None,
                     weights_read: list[np.ndarray] | None = None, *,
                     scored: bool = True) -> tuple[LoadedModel, np.ndarray, np.ndarray]:
    """Scores and 0/1 labels of the rows of ``source`` (``model``: a name, or a model not stored yet). ``tally``:
    a list that receives a ``DriftTally`` of the rows labelled 0, for the drift note; ``repeats``: a list that
    receives ``repeatedrows.note`` when rows repeat; ``progress``: the rows scored so far on stderr, as ``score``'s,
    headed by this text and the model (``'evaluating '``: "evaluating tx_ae@1: 65536 rows"). ``weight``: a
    column of ``source`` holding each row's weight, read with the rows (checked by ``weights``) and appended to
    ``weights_read``. ``scored=False``: the labels' checks alone, no row scored (the scores returned are empty): for
    a caller that wants evaluate's error for a label before it scores anything (compare --label)."""
    lm = model if isinstance(model, LoadedModel) else registry(con).get(model)
    counted = DriftTally(lm)
    if tally is not None:
        tally.append(counted)
    if not isinstance(label, str) or not label:
        raise BadInputError(f"Model {lm.ref!r}: {optionwords.opt('label')} must name the column of {source!r} that "
                            f"holds 1 (anomaly) or 0 (normal), e.g. {optionwords.opt('label', 'is_fraud')}; got "
                            f"{_given_label(label)}.")
    if label.lower() in {f.lower() for f in lm.feature_names}:
        # the filter as SQL that runs: a name with a space or a quote in it needs SQL's quotes
        col = sql_name(label)
        normal = f"where='{col} = 0'" if '"' in col else f'where="{col} = 0"'
        raise BadInputError(
            f"Model {lm.ref!r}: label column {label!r} is one of its features, so its scores read the answer. Evaluate "
            f"a model trained without it: {optionwords.either('features= leaving out', '-f for each column but')} "
            f"{label!r}, or, on the normal rows, {optionwords.opt('where', f'{col} = 0', py=normal[6:])} without "
            f"{optionwords.either('features=', '-f')} (which leaves the label out)."
        )
    cur = pysource.cursor(con, source)
    try:
        cols = describe(cur, source, lm.ref, caller=con)
        feats = feature_columns(cols, lm, source, cur)
        label_type = {c.lower(): t for c, t in cols}.get(label.lower())
        if label_type is None:
            if _expression_over(cur, source, label, [c for c, _ in cols]):
                hint = _label_query_hint("Make it a 0 / 1 column", strip_sql_ends(label), source, name_source=True)
                raise SourceNotFoundError(f"Model {lm.ref!r}: label column {label!r} is not in {source!r}, but reads "
                                          f"as an expression over its columns; {optionwords.opt('label')} names a column. "
                                          f"{hint}")
            raise SourceNotFoundError(f"Model {lm.ref!r}: label column {label!r} is not in {source!r}; its columns: "
                                f"{sql_names(c for c, _ in cols)}.{did_you_mean(label, [c for c, _ in cols])}")
        wcol = None if weight is None else weights.check_column(lm.ref, source, weight, label, cols)
        # Scored a batch at a time, keeping each row's score and label: an evaluation holds two numbers per row,
        # not every feature of every row (10M rows x 6 columns: 0.5 GB).
        read_src, read_where = categorical.read_source(lm.rec.features, source, where)  # text features as numbers
        # the ids' hashes read with the rows: whether an id repeats, without reading the source (a label join) again
        ids = repeatedrows.id_columns(cols, feats, label) if repeats is not None and scored else []
        batches = feature_batches(cur, read_src, [*feats, label, *([wcol] if wcol else [])], read_where,
                                  what=f"features {list(feats)} and label {label!r}"
                                       f"{f' and weight {wcol!r}' if wcol else ''}", who=f"Model {lm.ref!r}",
                                  also=repeatedrows.id_hashes(ids) or None)
        scores, labels, read_w = [np.empty(0)], [np.empty(0)], [np.empty(0)]
        hashes = [np.empty((0, len(ids)))]
        # Why: scoring is most of an evaluation's time (2M rows: 2 s of 3), and 50M rows ran minutes without a word
        bar = progress_rows(f"{progress}{lm.ref}", progress is not None)
        try:
            while True:
                try:
                    M = next(batches)
                except StopIteration:
                    break
                except BadInputError as e:
                    if is_numeric_type(label_type) or label_type.upper() == "BOOLEAN":
                        raise
                    # the values as they are, so that the user maps the one that marks an anomaly (not our guess 'yes')
                    counts = _label_counts(cur, source, label, where)
                    raise BadInputError(
                        f"Model {lm.ref!r}: label column {label!r} of {source!r} is {label_type}, not 0 (normal) / 1 "
                        f"(anomaly); its values: {_shown_counts(counts)}. {_label_mapping_hint(label, counts, source)}"
                    ) from e
                if ids:  # the ids' hashes read last: the rest as without them
                    hashes.append(M[:, -len(ids):].copy())
                    M = M[:, :-len(ids)]
                if wcol is not None:  # the weight read last: the rest as without one
                    read_w.append(M[:, -1].copy())
                    M = M[:, :-1]
                # copies: a view kept past the batch keeps its every feature alive (10M rows x 40 columns: 3.2 GB)
                labels.append(M[:, -1].copy())
                if scored:
                    X = categorical.inputs(lm.rec.features, M[:, :-1])
                    scores.append(lm.scores(X).astype(np.float64))
                    # the normal rows only: the labelled anomalies are meant to score above the threshold
                    normal = M[:, -1] == 0
                    counted.add(X[normal], scores[-1][normal])
                bar.advance(len(M))
        finally:
            bar.close()
        s, y = np.concatenate(scores), np.concatenate(labels)
        counts = _label_counts(cur, source, label, where) if len(y) and not np.isin(y, (0, 1)).all() else []
        repeated = (repeatedrows.note(cur, source, where, cols, feats, label, len(y),
                                      np.concatenate(hashes) if ids else None)
                    if repeats is not None and len(y) else None)
        del hashes
    finally:
        cur.close()
    filt = f" with {optionwords.opt('where', where)}" if where else ""
    if len(y) == 0:
        raise NoRowsError(f"No labelled rows to judge {lm.ref!r} on: {source!r}"
                            f"{filt} has no rows. Check the source and the filter.")
    missing = int(np.isnan(y).sum())
    if missing == len(y):
        # Why not the filter below: "IS NOT NULL" would keep no row here, and then fail as "has no rows"
        raise BadInputError(f"Model {lm.ref!r}: label column {label!r} is NULL (or NaN) in every one of the {len(y)} "
                            f"rows of {source!r}{filt}, so no row is labelled; "
                            f"check that {optionwords.opt('label')} names the column holding 1 (anomaly) or 0 (normal), "
                            "and that the filter keeps rows whose labels are filled in.")
    if missing:
        col = sql_name(label)
        keep = f"{col} IS NOT NULL" + (f" AND NOT isnan({col})" if label_type.upper() in ("DOUBLE", "FLOAT", "REAL")
                                       else "")
        keep = f"({where}) AND {keep}" if where else keep
        given = y[~np.isnan(y)]
        if (given == 1).all():
            raise BadInputError(f"Model {lm.ref!r}: label column {label!r} is NULL (or NaN) in {missing} of the "
                                f"{len(y)} rows of {source!r}{filt}, and every "
                                f"row labelled is 1 (anomaly). {_unlisted_as_normal_hint(col, source)}")
        raise BadInputError(f"Model {lm.ref!r}: label column {label!r} is NULL (or NaN) in {missing} of the {len(y)} "
                            f"rows of {source!r}{filt}, which are neither normal "
                            f"nor anomalies; judge the labelled rows only: {_where_fix(keep)}.")
    if counts:
        # checked before the integer cast, which would quietly turn 0.7 into 0 and 1.5 into 1
        raise BadInputError(f"Model {lm.ref!r}: label column {label!r} must hold 0 (normal) or 1 (anomaly); its values "
                            f"in {source!r}: {_shown_counts(counts)}. {_label_mapping_hint(label, counts, source)}")
    if repeated and repeats is not None:
        repeats.append(repeated)
    if wcol is not None:
        w = np.concatenate(read_w)
        weights.check_values(lm.ref, source, where, wcol, w)
        weights.check_classes(lm.ref, wcol, y, w)
        if weights_read is not None:
            weights_read.append(w)
    return lm, s, y.astype(np.int64)


def _given_label(label: Any, arg: str = "label") -> str:
    """A label= that is no name, as an error shows it: a column (``df.Class``, as scikit-learn's metrics take y) or a
    list by the name to pass, not by its values (a Series' repr is a dozen lines of them)."""
    name = getattr(label, "name", None)
    if isinstance(name, str) and name and hasattr(label, "__len__"):
        return (f"a {type(label).__module__.split('.')[0]} {type(label).__name__} of {len(label)} values; pass its name: "
                f"{arg}={name!r}")
    if isinstance(label, list | tuple) and len(label) == 1 and isinstance(label[0], str):
        return f"{label!r}; pass the one name: {arg}={label[0]!r}"
    return repr(label)


def _label_counts(cur: Any, source: str, label: str, where: str | None) -> list[tuple[Any, int]]:
    """The label column's distinct non-NULL values with their row counts, most frequent first (at most 6)."""
    col = quote_ident(label)
    q = f"SELECT {col}, count(*) FROM {source_sql(source)}"
    q += where_sql(f"({where}\n) AND {col} IS NOT NULL" if where else f"{col} IS NOT NULL")
    q += " GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 6"
    return [(v, int(n)) for v, n in cur.execute(q).fetchall()]


def _label_value(v: Any) -> str:
    """A label value as SQL reads it: 'yes' quoted, numbers plain (-1, 0.5; not Decimal('-1.0'))."""
    if isinstance(v, str):
        return quote_literal(v)
    if isinstance(v, numbers.Number) and not isinstance(v, bool):
        return f"{float(v):g}"  # type: ignore[arg-type]
    return str(v)


def _shown_counts(counts: list[tuple[Any, int]]) -> str:
    shown = ", ".join(f"{_label_value(v)} ({n} row{'' if n == 1 else 's'})" for v, n in counts[:5])
    return shown + (", ..." if len(counts) > 5 else "")


def _label_mapping_hint(label: str, counts: list[tuple[Any, int]], source: str) -> str:
    """How to turn the label into 0 / 1. Why not a fixed example: with -1 / 1 labels `label > 0` reads as anomalies
    the normal rows of scikit-learn's convention (-1 = outlier), and every figure would be inverted."""
    # a name quoted only when it must be: the shell's query then more often fits in single quotes, Python's reads plainly
    col = sql_name(label)
    if len(counts) == 2:
        value, why = _anomaly_value(counts[0][0], counts[1][0])
        lit = _label_value(value)
        test, which = f"{col} = {lit}", f" if {lit} ({why}) marks anomalies"
    else:
        test, which = f"{col} IN (...)", ""
    lead = f"Map the value{'' if which else 's'} that mark{'s' if which else ''} an anomaly to 1"
    return _label_query_hint(lead, test, source, which,
                             tail="" if which else " (the values that mark anomalies in place of ...)")


# Label values that say which they are. Why not the rarer value alone: labelled rows are often an undersample (the
# ULB credit-card file: 492 frauds, 492 normal rows), where the anomalies are the commoner value, and the query the
# hint gave, run as given, judged the model on inverted labels.
_ANOMALY_WORDS = frozenset({"1", "true", "t", "yes", "y", "fraud", "fraudulent", "anomaly", "anomalous", "outlier",
                            "abnormal", "attack", "malicious", "bad", "positive", "pos", "suspicious", "fault", "failure"})
_NORMAL_WORDS = frozenset({"0", "false", "f", "no", "n", "ok", "normal", "legit", "legitimate", "genuine", "benign",
                           "inlier", "good", "negative", "neg", "clean", "none"})


def _anomaly_value(common: Any, rare: Any) -> tuple[Any, str]:
    """Which of a label's two values (most frequent first) reads as the anomaly, and why the hint says so."""
    def word(v: Any) -> str | None:
        return v.strip().lower() if isinstance(v, str) else None

    for a, b in ((common, rare), (rare, common)):
        if word(a) in _ANOMALY_WORDS and word(b) not in _ANOMALY_WORDS:
            return a, "as its word says"
        if word(b) in _NORMAL_WORDS and word(a) not in _NORMAL_WORDS:
            return a, f"{_label_value(b)} reads as normal"
    nums = [float(v) for v in (common, rare) if isinstance(v, numbers.Number) and not isinstance(v, bool)]  # type: ignore[arg-type]
    if len(nums) == 2 and set(nums) == {-1.0, 1.0}:
        return (common if float(common) == -1.0 else rare), "scikit-learn's mark of an outlier"
    if len(nums) == 2 and 0.0 in nums:
        return (rare if float(common) == 0.0 else common), "0 reads as normal"
    return rare, "the rarer value here"


def _label_query_hint(lead: str, test: str, source: str, which: str = "", *, tail: str = "",
                      name_source: bool = False) -> str:
    """``lead`` and a query that makes the SQL condition ``test`` the 0 / 1 column is_anomaly: from Python, a string
    to pass as the source with label='is_anomaly' (``FROM ...`` unless ``name_source``); from the CLI, the whole
    query, shell-quoted, as the source."""
    src = typed_from(source)
    if not pysource.from_command_line():
        # a Python string literal (json's quoting is Python's too): a name in double quotes inside the double-quoted
        # example was a SyntaxError where it was pasted
        example = json.dumps(f"SELECT *, ({test})::INTEGER AS is_anomaly FROM {src if name_source else '...'}",
                             ensure_ascii=False)
        return f"{lead} in a query and pass that column, e.g. {example} with label='is_anomaly'{which}."
    # Why the whole query, shell-quoted: a shell user pastes it as the source; double quotes around SQL that
    # double-quotes a name were split by the shell
    query = f"SELECT *, ({test})::INTEGER AS is_anomaly FROM {src}"
    return f"{lead} in a query and pass that query as the source, e.g. {shell_word(query)} --label is_anomaly{which}{tail}."


def _unlisted_as_normal_hint(col: str, source: str) -> str:
    """The source that reads a missing label as 0. Why: labels kept as a list of the known anomalies (frauds.csv of
    their ids), LEFT JOINed to the rows, leave every normal row's label NULL; judging the labelled rows alone, as
    for a review not finished, keeps the anomalies only (every precision 1, AUC-ROC undefined)."""
    query = f"SELECT * REPLACE (coalesce({col}, 0) AS {col}) FROM {typed_from(source)}"
    shown = shell_word(query) if pysource.from_command_line() else json.dumps(query, ensure_ascii=False)
    return (f"If the rows without a label are the normal ones (a list of the known anomalies, LEFT JOINed to the "
            f"rows, leaves theirs NULL), read a missing label as 0 (normal) with coalesce({col}, 0): as the "
            f"source, {shown}.")


def _expression_over(cur: Any, source: str, text: str, columns: list[str]) -> bool:
    """Whether ``text`` (a label= that names no column) is one SQL expression that binds over ``source`` and reads
    one of its ``columns`` (``ys = 'fraud'``); a misspelt name or a constant is not."""
    try:
        toks = sql_tokens(text)
    except Exception:
        return False
    if not toks:  # blank, or a comment alone: no expression (zip below would fail on the one end it is given)
        return False
    ends = [p for p, _ in toks[1:]] + [len(text)]
    names = {text[p:e].strip().strip('"').replace('""', '"').lower()
             for (p, kind), e in zip(toks, ends, strict=True) if kind == duckdb.token_type.identifier}
    if not names & {c.lower() for c in columns}:
        return False
    binds = f"({text}\n) IS NOT NULL"  # the newline: a trailing -- comment cannot reach the parenthesis
    try:
        # bound, not run: DESCRIBE reads no row; where_sql keeps the text to one expression of one SELECT
        cur.execute(f"DESCRIBE SELECT * FROM {source_sql(source)}{where_sql(binds)}")
    except (duckdb.Error, AdDuckDBError):
        return False
    return True


def _training_overlap(con: duckdb.DuckDBPyConnection, lm: LoadedModel, source: str, where: str | None,
                      label: str) -> str | None:
    """A note when labelled rows include rows the model was trained on (their metrics are optimistic), with the
    filter that holds them out."""
    m = lm.rec.metrics
    if not isinstance(m.get("train_source"), str) or not same_source(m["train_source"], source):
        return None  # another source (or a model from before this was recorded): nothing to compare
    tw = m.get("train_where")
    # the filter given, kept: a suggestion without it would judge the model on rows the user did not ask about.
    # Comments at the filters' ends dropped: in `NOT (label = 0 -- normal rows)` the comment swallowed the `)`,
    # so the suggested filter was a syntax error.
    given, trained = (strip_sql_ends(w) if w else w for w in (where, tw))
    q = f"SELECT count(*) FILTER (WHERE {trained or 'true'}\n)"
    if trained:
        # the normal rows its negation leaves: none when the filter picks the normal rows by their label (README's
        # where="label = 0"), and NOT (label = 0) would judge the model on anomalies alone
        q += f", count(*) FILTER (WHERE NOT ({trained}\n) AND {sql_name(label)} = 0)"
        # the anomalies it trained on: none under "label = 0"; an unlabelled part ("split = 'train'") keeps them
        q += f", count(*) FILTER (WHERE ({trained}\n) AND {sql_name(label)} = 1)"
    q += f" FROM {source_sql(source)}{where_sql(given) if given else ''}"
    cur = pysource.cursor(con, source)
    try:
        n, *normal_left = cur.execute(q).fetchall()[0]
        anomalies_trained = normal_left.pop() if normal_left else 0
        # every row the training filter reads now; train_rows counts them all, a sampled training's too
        total = f"SELECT count(*) FROM {source_sql(source)}" + (where_sql(trained) if trained else "")
        now = cur.execute(total).fetchall()[0][0] if n else 0
        key = _row_key(cur, source, lm, label) if normal_left == [0] else ""
        then_fp = m.get("train_fingerprint")
        # compared only as hashed by the same DuckDB (another release may hash the same rows otherwise)
        same_rows = (not n or not isinstance(then_fp, str) or not then_fp.endswith(f"/duckdb {duckdb.__version__}")
                     or rows_fingerprint(cur, source, lm.feature_names, trained) in (then_fp, None))
    except duckdb.Error:
        return None  # the stored filter no longer binds (a column dropped since): nothing to say
    finally:
        cur.close()
    if not n:
        return None
    then = lm.rec.train_rows
    # Why no claim: a table grown by next month's rows, or a DataFrame variable reused for held-out rows (as many
    # rows of another month, or a value corrected), has the name it was trained on, and its rows were said to be
    # training rows
    grown = isinstance(then, int) and now != then
    if grown or not same_rows:
        counts = f"then, {now} now" if grown else "then and now, but other rows"
        return (f"The source has changed since {lm.ref} was trained ({then} rows{' under its training filter' if tw else ''} "
                f"{counts}), so whether these rows include its training rows cannot be told (if they do, its "
                "figures on them are optimistic).")
    if not tw:
        how = "it was trained on all of them (unlabelled); score new rows for an estimate on unseen rows"
    elif key and anomalies_trained:
        # a fifth of every row kept out by a hash of the row's key: "OR label = 1" would add the anomalies of the
        # other four fifths, which this filter trains on
        test = f"hash({key}) % 5 = 0"
        how = (f"its training filter was {tw!r}, which leaves out no row labelled normal (0) and trains on "
               "anomalies too: hold a part out of training, "
               f"e.g. train with {_where_fix(f'({trained}) AND hash({key}) % 5 <> 0')} and evaluate with "
               f"{_where_fix(f'({given}) AND {test}' if given else test)}, for an estimate on unseen rows")
    elif key:
        # a fifth of the normal rows kept out of training by a hash of the row's key: the same rows each time
        test = f"hash({key}) % 5 = 0 OR {sql_name(label)} = 1"
        how = (f"its training filter was {tw!r}, which leaves out no row labelled normal (0): hold a part out of "
               f"training, e.g. train with {_where_fix(f'({trained}) AND hash({key}) % 5 <> 0')} and evaluate "
               f"with {_where_fix(f'({given}) AND ({test})' if given else test)}, "
               "for an estimate on unseen rows; that part holds every anomaly but a fifth of the normal rows, so "
               "precision, F1 and AUC-PR there read higher than at the data's own anomaly share (recall and AUC-ROC "
               "do not depend on it)")
    else:
        held = f"({given}) AND NOT ({trained})" if given else f"NOT ({trained})"
        how = (f"its training filter was {tw!r}; use {_where_fix(held)} or another held-out filter "
               "for an estimate on unseen rows")
    sampled = trainsample.learned_part(lm.ref, then, m, int(n))
    if sampled:  # most of the rows unseen by the network: optimistic on the sample's share of them alone
        how += f"; {sampled}"
    return f"{n} of these rows are rows {lm.ref} was trained on, so its figures on them are optimistic ({how})."


# Where _training_overlap's note starts in a goal threshold's chosen_on (lowercased there, after the rows)
_OVERLAP_NOTE = re.compile(r"; (\d+ of these rows are rows \S+ was trained on, |the source has changed since \S+ "
                           r"was trained \()")
_AGAIN_NOTE = re.compile(r"; chosen again for this version \(the goal of [^()]*\)$")


def training_rows_note(t: Threshold) -> str | None:
    """The note that ``t``'s figures are (or may be) on rows its model was trained on, so optimistic, from the
    ``chosen_on`` it was stored with (``_training_overlap``'s, without the notes after it); None when it has none.
    Why: said only at the end of ``chosen_on``, which ``show``'s table cuts off."""
    on = t.chosen_on or ""
    m = _OVERLAP_NOTE.search(on)
    if m is None:
        return None
    note = on[m.start() + 2:].removesuffix(f"; {thresholds.CONFIDENT_NOTE}")
    if t.method == "min_cost":  # its prices end chosen_on
        note = note.rpartition("; ")[0] or note
    return _AGAIN_NOTE.sub("", note)


def _py_text(text: str) -> str:
    """``text`` as a Python string in a note: in double quotes unless it holds one (a quoted name, "Is Fraud")."""
    return f'"{text}"' if '"' not in text else repr(text)


def _where_fix(text: str) -> str:
    """A filter a message offers as the caller spells it: ``where="..."`` from Python, ``--where '...'`` in the
    shell's word for it from the command line. Why the shell's word: a filter holding both quotes ("Is Fraud" and
    'test') was offered as Python's repr, with backslash escapes inside single quotes, which a POSIX shell does not
    read: pasted after --where, the command broke."""
    return optionwords.opt("where", text, py=_py_text(text))


def _row_key(cur: Any, source: str, lm: LoadedModel, label: str) -> str:
    """The columns a hash that splits ``source``'s rows reads: its id column (a row key), else the model's
    features (rows alike in every feature then fall on the same side, which only groups copies)."""
    cols = cur.execute(f"DESCRIBE SELECT * FROM {source_sql(source)}").fetchall()
    ids = [c for c, t, *_ in cols if c.lower() != label.lower() and id_like(c, t) is not None]
    return sql_name(ids[0]) if ids else ", ".join(sql_name(f) for f in lm.feature_names)


# Below this many labelled anomalies, evaluate says how little its recall figures can tell thresholds apart.
FEW_ANOMALIES = 30


@attachedmodels.names_the_file
@indexcols.keeps_times  # a frame indexed by its times (a pandas time series) is plotted over them (plots_dir=)
def evaluate(
    con: duckdb.DuckDBPyConnection,
    model: str,
    source: str,
    *,
    label: str,
    where: str | None = None,
    plots_dir: str | Path | None = None,
    into: str | None = None,
    replace: bool = False,
    time: str | None = None,
    miss_cost: float | None = None,
    alarm_cost: float | None = None,
    anomaly_share: float | None = None,
    progress: bool = False,
    weight: str | None = None,
    sampled: str | None = None,
) -> Any:
    """Precision, recall, F1, AUC-ROC and AUC-PR of ``model`` on labelled rows (1 = anomaly).

    ``source``: a table, view, table function, ``SELECT`` query, or a pandas or polars DataFrame by its variable's
    name (``'df'``), as for ``train``. ``label``: the name of its column holding 1 (anomaly) or 0 (normal), or
    ``true`` / ``false`` (a text label such as 'fraud' / 'ok' is refused with the query that maps it; rows whose
    label is NULL are refused with the filter that leaves them out). ``where``: a SQL filter of the rows to judge,
    text in single quotes (``"split = 'test'"``): rows the model was not trained on, for figures that are not
    optimistic.

    Rows all labelled 0 (known to be normal) give each threshold's false-alarm rate
    (``report.at_thresholds[name]['false_alarm_rate']``, with ``_lo`` and ``_hi``, its Wilson 95% interval); recall,
    F1 and both AUCs are NaN there, and ``report.table`` is empty (``normalonly``).

    Returns an ``ad_duckdb.metrics.Report`` (``print(report)`` shows the table; ``report.auc_roc``,
    ``report.auc_roc_interval``, ``report.auc_pr``, ``report.at_thresholds[name]['precision']``, and
    ``report.table``, the candidate thresholds: ``pd.DataFrame(report.table)``, each row's ``flagged_share`` the
    share of these labelled rows it flags and ``training_flagged_share`` that of the model's training rows (None for
    a model stored without score quantiles); ``report.pr_curve()`` and
    ``report.score_hist()``, the plots as matplotlib figures a notebook shows); ``into`` writes the
    candidate-threshold table to DuckDB (an existing table only with ``replace=True``) and ``plots_dir`` writes a
    precision-recall curve and a score histogram by label (PNG), and, for a source with one DATE/TIMESTAMP column (or the one ``time`` names), the
    scores over time with the labelled anomalies shaded (``<model>_v<version>_scores_over_time_labelled.png``, so
    that it leaves ``plot_scores_over_time``'s file in the same folder alone).

    ``miss_cost`` and ``alarm_cost`` (both or neither): what a missed anomaly and a false alarm cost, e.g. 400 and
    5; the report's ``costs`` (``metrics.Costs``) then gives each threshold's cost per row (its ``at_thresholds``
    entry's ``cost_per_row``), the cheapest cut, and the cost of flagging no row, and the plots mark the cheapest
    cut as ``lowest cost``. ``anomaly_share``: the share of anomalies in the rows the thresholds will judge (e.g.
    0.002), when the labelled rows hold more (or fewer); each threshold's ``at_thresholds`` entry then gets
    ``precision_at_share``, its precision at that share (from its recall and false-alarm rate on these rows), with
    its 95% interval (``precision_at_share_lo``, ``_hi``), and with the costs their misses and false alarms are
    weighed to it. ``report.auc_roc_interval_method`` names how the AUC-ROC interval was made.

    ``progress=True``: the rows scored so far on stderr, as ``score(progress=True)`` prints them (a bar on a
    terminal, a line every 30 s in a log).

    ``weight``: a column of ``source`` holding each row's sample weight, when the labelled rows are a sample (every
    fraud but 1 in 50 normal rows: weight 50 on those; an audit sample: 1 / inclusion probability). A row of weight w
    counts as w rows in every figure, as scikit-learn's metrics with ``sample_weight``; the intervals take Kish's
    effective sample size (sum w)^2 / sum w^2 of each class for the counts (``report.weights`` says so, with the
    weighted totals). Rows of weight 0 count as none; NULL, negative or infinite weights are refused.
    ``sampled`` (with ``weight``): which rows the sample drew. ``'rows'`` (the default): either class, as an audit
    (the alerts reviewed, 1 in k of the rest), whose intervals count the misses it may not have drawn; ``'normal'``:
    every anomaly kept at one weight and only the normal rows sampled, at their own strata's rates whatever the
    score: AUC-ROC's interval is then DeLong's and Newcombe's and recall's Wilson's of the anomalies drawn
    (``report.weights['sampled']``); anomalies of differing weights are refused there.
    """
    with interrupts.raised_as_interrupt("evaluate", model):
        con = check_connection(con, "evaluate")
        from . import timeplot
        from .plotfiles import plot, plots_folder

        if isinstance(into, str):  # after the caller's USE: as score(into=) (callerview.into_caller_schema)
            into = into_caller_schema(con, into)
        check_replace(into, replace, f"Evaluating {model!r}")
        sampling.check(f"evaluate {model!r}", sampled, weight)
        both = "what a missed anomaly and a false alarm cost (e.g. 400 and 5)"
        if (miss_cost is None) != (alarm_cost is None):
            given, other = ("miss_cost", "alarm_cost") if alarm_cost is None else ("alarm_cost", "miss_cost")
            raise OptionError(f"evaluate {model!r}: {optionwords.opt(given)} goes with {optionwords.opt(other)}: give "
                              f"both, {both}, or neither.")
        # before the rows are read and scored
        share = costs.share(anomaly_share, f"evaluate {model!r} needs")
        prices = None if miss_cost is None else costs.prices(miss_cost, alarm_cost, anomaly_share,
                                                             f"evaluate {model!r} needs")
        if into is not None:
            check_target(con, into, replace, source, what="thresholds")
        timeplot.without_plots(model, time, plots_dir)
        over_time: tuple[str | None, str | None] = (None, None)
        if plots_dir is not None:
            plots_folder(plots_dir, model)
            over_time = timeplot.choose(con, model, source, time)
        tally: list[DriftTally] = []
        repeats: list[str] = []
        read_w: list[np.ndarray] = []
        lm, s, y = _labelled_scores(con, model, source, label, where, tally, repeats,
                                    progress="evaluating " if progress else None, weight=weight,
                                    weights_read=read_w)
        w = read_w[0] if read_w else None
        if w is not None:
            sampling.check_anomalies(f"evaluate {lm.ref!r}", weight, sampled, y, w)  # type: ignore[arg-type]
            summary = weights.summary(weight, y, w)  # type: ignore[arg-type]
            if sampled is not None:  # only when said: the JSON of an evaluation without it stays as it was
                summary["sampled"] = sampled
            s, y, w = s[w > 0], y[w > 0], w[w > 0]  # a row of weight 0 counts as none, in the notes too
        # rows known to be normal answer one question, each threshold's false-alarm rate (normalonly)
        normal_only = len(y) > 0 and set(np.unique(y).tolist()) == {0}
        if normal_only:
            rep = normalonly.report(lm, s, w, share)
            if w is not None:
                rep.keep_weights(summary)
        else:
            thresholds.check_labels(s, y, f"evaluate {lm.ref!r}")
            rep = (_report(lm, s, y, share) if w is None
                   else _weighted_report(lm, s, y, w, summary, share, sampled))
        at, auc, table = rep.at_thresholds, rep.auc_roc, rep.table
        for r in table:  # beside the labelled rows' share: the traffic's, which a budget of alerts is planned on
            # None (JSON null, SQL NULL) for a model stored without its training-score quantiles
            r["training_flagged_share"] = (None if lm.quantiles is None  # type: ignore[assignment]
                                           else lm.share_above(r["threshold"]))
        marked = dict(lm.thresholds)
        if prices is not None:
            rep.costs = _costs(s, y, at, prices) if w is None else _costs(s, y, at, prices, w)
            marked["lowest cost"] = rep.costs.best["value"]
        rep.keep_scores(s, y, marked, shown_source(source, where), w, sampled)
        if rep.anomalies == rep.rows:
            rep.notes.append("No row here is labelled normal (0), so every threshold's precision is 1 and AUC-ROC and "
                             "AUC-PR say nothing; the recall figures hold. Add normal rows (label 0) to judge precision.")
        if normal_only:
            rep.notes.append(normalonly.NOTE)
        rep.notes += repeats
        inverted = None if normal_only else _inverted_labels(lm, label, s, y, auc, rep.auc_roc_ci)
        if inverted:
            rep.notes.append(inverted)
        few = None if normal_only else _few_anomalies(rep.anomalies, rep.weights)
        if few:
            rep.notes.append(few)
        # the rows without the source: the report is about them, and a source spelled two ways gives the same notes
        moved = tally[0].note("rows labelled normal (0)")
        if moved:
            rep.notes.append(moved)
        overlap = _training_overlap(con, lm, source, where, label)
        if overlap:
            rep.notes.append(overlap)
        rows_text = f"{source}{' WHERE ' + where if where else ''} (label"
        fitted = sorted(t.name for t in lm.rec.thresholds if (t.chosen_on or "").startswith(rows_text))
        if fitted:
            # Why quoted: a threshold's name is free text, and 'a, b' or 'w f1' listed bare read as other thresholds
            rep.notes.append(f"Threshold(s) {', '.join(map(repr, fitted))} were chosen on these same labelled rows: their precision "
                             "and recall here are what they were fitted to; judge them on other labelled rows.")
        overlapping = _chosen_on_overlap(con, lm, source, where, rep.rows, skip=set(fitted))
        if overlapping:
            shared = ", ".join(text for _name, text in overlapping)
            rep.notes.append(f"Threshold(s) chosen on labelled rows that include rows here: {shared}: their precision "
                             "and recall on these rows are partly what they were fitted to; judge them on other labelled "
                             "rows.")
        if not normal_only:  # the goals of thresholds chosen on other rows, checked here
            # a file's goals are left out: whether their rows are these cannot be told
            rep.goal_checks = goalcheck.checks(lm.rec.thresholds, filegoals.split(lm.rec.metrics, lm.rec.source)[0], at,
                                               {*fitted, *(name for name, _text in overlapping)})
        if plots_dir is not None:
            rep.plots = plot(s, y, plots_dir, lm.ref, marked, shown_source(source, where), w, sampled)
            note = over_time[1]
            if over_time[0]:
                try:
                    # the histogram's thresholds ('lowest cost' too): one colour each in both, one score axis
                    rep.plots.append(timeplot.plot(con, lm, source, over_time[0], plots_dir, shown_source(source, where),
                                                   where, label, thresholds=marked))
                except NoTimesError as e:  # the other plots are written: a note, as for a source without a time column
                    note = e.note
            if note:
                rep.notes.append(note)
        if into is not None:
            cur = interrupts.cursor(con)
            try:
                with store.transaction(cur):  # all or nothing: a replaced table is never left half-written
                    cur.execute(
                        f"CREATE OR REPLACE TABLE {table_sql(into)} (model VARCHAR, threshold DOUBLE, precision DOUBLE, "
                        "recall DOUBLE, f1 DOUBLE, flagged_share DOUBLE, training_flagged_share DOUBLE)"
                    )
                    if table:  # none of rows labelled normal only; DuckDB's executemany refuses an empty list
                        cur.executemany(
                            f"INSERT INTO {table_sql(into)} VALUES (?, ?, ?, ?, ?, ?, ?)",
                            [[lm.ref, r["threshold"], r["precision"], r["recall"], r["f1"], r["flagged_share"],
                              r["training_flagged_share"]] for r in table],
                        )
            finally:
                cur.close()
        return rep


def _few_anomalies(anomalies: int, summary: dict[str, Any] | None) -> str | None:
    """evaluate's note on too few labelled anomalies to tell thresholds apart by recall, or None. Of weighted rows
    (``summary``: ``weights.summary``) the count is Kish's effective size of the anomalies, which the recall
    intervals take. Why: 10 anomalies of weight 100 beside 30 of weight 1 are as certain as 10.6, and 40 rows read
    passed the check."""
    if summary is not None:
        n = float(summary["effective_anomalies"])
        if not 0 < n < FEW_ANOMALIES:
            return None
        k = min(n, max(1.0, n / 2))
        lo, hi = thresholds.wilson(k, n)
        return (f"Only an effective {n:.1f} labelled anomalies ({anomalies} rows weighted by {summary['column']!r}; "
                f"Kish's effective size): a recall of {k / n:.2f} could be anywhere in {lo:.2f}-{hi:.2f} on another "
                "sample like this one; label more anomalies (or keep their weights alike) to tell thresholds apart.")
    if not 0 < anomalies < FEW_ANOMALIES:
        return None
    # the recall nearest 0.5 these labels can give; of a single anomaly, the recall of 1 (found), as the table's
    # rows read: "a recall of 0 of 1" described no threshold a reader would keep
    k, m = max(1, anomalies // 2), anomalies
    lo, hi = thresholds.wilson(k, m)
    return (f"Only {m} labelled {'anomaly' if m == 1 else 'anomalies'}: a recall of {k} of {m} could be anywhere in "
            f"{lo:.2f}-{hi:.2f} on another sample of as many; label more anomalies to tell thresholds apart.")


def _report(lm: LoadedModel, s: np.ndarray, y: np.ndarray, share: float | None) -> Any:
    """evaluate's ``metrics.Report`` of labelled scores ``s`` / ``y``: each stored threshold's figures (with
    ``share``, its precision at that share of anomalies), both AUCs and the candidate table."""
    from .auc import auc_pr, curve_auc_roc
    from .candidates import candidate_table
    from .confusion import at_share, confusion
    from .report import Report

    at = {}
    for name, value in sorted(lm.thresholds.items()):
        m = confusion(s, y, value)
        at[name] = {"value": value, **m}
        if share is not None:
            at[name].update(at_share(m, share))
    # the rows sorted once for the curve, the table and both AUCs: at 2M rows the five sorts they made took longer
    # than scoring the rows; the curve kept to the arrays they read whole (leancurve)
    c = leancurve.LeanCurve(s, y)
    table = candidate_table(s, y, c=c)
    anomalies = int(y.sum())
    auc = curve_auc_roc(c, anomalies, len(y) - anomalies)
    return Report(model=lm.ref, rows=len(s), anomalies=anomalies, auc_roc=auc, auc_pr=auc_pr(s, y, c=c),
                  at_thresholds=at, table=table, anomaly_share=share,
                  auc_roc_ci=intervals.auc_roc(c, anomalies, len(y) - anomalies, auc))


def _weighted_report(lm: LoadedModel, s: np.ndarray, y: np.ndarray, w: np.ndarray, summary: dict[str, Any],
                     share: float | None, sampled: str | None = None) -> Any:
    """evaluate's ``metrics.Report`` of rows of weights ``w`` (all above 0), each counted ``w`` times; the
    intervals on Kish's effective sizes of each class (``summary``: ``weights.summary``, kept as its ``weights``);
    ``sampled``: ``evaluate``'s."""
    from .auc import auc_pr, curve_auc_roc
    from .candidates import candidate_table
    from .confusion import at_share
    from .report import Report

    c = weights.curve(s, y, w)
    yb = y.astype(bool)
    pos, neg = float(w[yb].sum()), float(w[~yb].sum())
    eff = (weights.effective(w[yb]), weights.effective(w[~yb]))
    at: dict[str, dict[str, float]] = {}
    for name, value in sorted(lm.thresholds.items()):
        m = weights.confusion(s, y, w, value, sampled)
        at[name] = {"value": value, **m}
        if share is not None:
            at[name].update(at_share(m, share, counts=weights.effective_counts(m, *eff)))
    auc = curve_auc_roc(c, pos, neg)
    rep = Report(model=lm.ref, rows=len(s), anomalies=int(yb.sum()), auc_roc=auc, auc_pr=auc_pr(s, y, c=c),
                 at_thresholds=at, table=candidate_table(s, y, c=c), anomaly_share=share,
                 auc_roc_ci=intervals.auc_roc(c, pos, neg, auc, eff=eff, band=sampled != sampling.NORMAL))
    rep.keep_weights(summary)
    return rep


def _costs(s: np.ndarray, y: np.ndarray, at: dict[str, dict[str, float]], prices: costs.Prices,
           w: np.ndarray | None = None) -> Any:
    """``metrics.Costs`` of labelled scores ``s`` / ``y`` (``w``: their weights); adds each threshold's
    ``cost_per_row`` to its ``at`` entry."""
    from .reportcosts import Costs

    pos = int(y.sum()) if w is None else float(w[y.astype(bool)].sum())
    n = len(s) if w is None else float(w.sum())
    costs.check_totals(prices, n)  # type: ignore[arg-type]
    yb = y.astype(bool)
    eff = None if w is None else (weights.effective(w[yb]), weights.effective(w[~yb]))
    for m in at.values():
        m["cost_per_row"] = float(costs.per_row(m["fn"], m["fp"], n, pos, prices))  # type: ignore[arg-type]
        m["cost_per_row_lo"], m["cost_per_row_hi"] = costintervals.per_row(m["fn"], m["fp"], pos, n - pos, prices, eff)
    c = thresholds.curve(s, y) if w is None else weights.curve(s, y, w)
    k = costs.at_cuts(c, len(s), prices)
    i = costs.cheapest(k)
    # the value method min_cost stores from these rows: the same pick of the same curve
    th = thresholds.pick(c, i, "lowest cost", "min_cost", "")
    # whole rows, as each threshold's fn and fp: counts a script compares with them
    best = {"value": th.value, "cost_per_row": float(k.per_row[i]),
            "missed": int(k.missed[i]) if w is None else float(k.missed[i]),
            "alarms": int(k.alarms[i]) if w is None else float(k.alarms[i]), "precision": th.precision, "recall": th.recall,
            "flagged_share": th.flagged_share}
    # conditional on the cut, as each threshold's: chosen on these rows, it is a little cheaper here than later
    best["cost_per_row_lo"], best["cost_per_row_hi"] = costintervals.per_row(
        float(k.missed[i]), float(k.alarms[i]), pos, n - pos, prices, eff)
    return Costs(prices=prices, best=best, flag_none=k.none)


def _chosen_on_overlap(con: duckdb.DuckDBPyConnection, lm: LoadedModel, source: str, where: str | None, rows: int,
                       skip: set[str]) -> list[tuple[str, str]]:
    """The thresholds of ``lm`` (but ``skip``) chosen on labelled rows of ``source`` that share rows with ``where``'s,
    each by name with how many: ``'all_rows' (all 1530 of them)``, ``'low' (530 of 1530)``; empty if none.

    Why counted, not matched as text: a threshold chosen on every labelled row and judged on the test part of them
    (or on a slice that shares some) flattered its figures as much as one judged on its own rows, without a word."""
    goals = filegoals.split(lm.rec.metrics, lm.rec.source)[0]  # a file's goals' SQL is never run
    if not goals:
        return []
    shown = []
    cur = pysource.cursor(con, source)
    try:
        for t in sorted(lm.rec.thresholds, key=lambda t: t.name):
            goal = goals.get(t.name)
            # t.method: a carried threshold not chosen again keeps its goal for the next retrain, but is a point of
            # the training scores ('quantile'), chosen on no labelled rows
            # an alarm_rate cut was set on the rows' scores without their labels: not fitted to them
            if (t.name in skip or not _is_goal(goal) or t.method != goal["method"]
                    or goal["method"] == alarmrate.METHOD or not same_source(goal["source"], source)):
                continue
            conds = [f"({w}\n)" for w in (where, goal["where"]) if w]
            q = f"SELECT count(*) FROM {source_sql(source)}" + (where_sql(" AND ".join(conds)) if conds else "")
            try:
                n = cur.execute(q).fetchall()[0][0]
            except duckdb.Error:
                continue  # its filter no longer binds (a column dropped since): nothing to say
            if n:
                shown.append((t.name, f"{t.name!r} ({f'all {rows} of them' if n >= rows else f'{n} of {rows}'})"))
    finally:
        cur.close()
    return shown


@attachedmodels.names_the_file
def set_threshold(
    con: duckdb.DuckDBPyConnection,
    model: str,
    name: str,
    method: str,
    *,
    value: float | None = None,
    target: float | None = None,
    source: str | None = None,
    label: str | None = None,
    where: str | None = None,
    confident: bool = False,
    miss_cost: float | None = None,
    alarm_cost: float | None = None,
    anomaly_share: float | None = None,
    rate: float | str | None = None,
    per_hour: float | None = None,
    per_day: float | None = None,
    per_week: float | None = None,
    time: str | None = None,
    progress: bool = False,
    weight: str | None = None,
    series: str | None = None,
    tz: str | None = None,
    timestamps_in: str | None = None,
    sampled: str | None = None,
) -> Threshold:
    """Store a named threshold for a model version (``'name'`` means its latest version).

    ``method``: ``manual`` (``value``), ``quantile`` / ``contamination`` (``target``: a quantile of
    training scores, or the share of training rows to flag), or a goal on labelled rows of ``source``:
    ``max_f1``, ``min_precision`` / ``min_recall`` (``target``), ``flag_budget`` (``target``: the largest share to
    flag; the cut of best F1 among those within it).
    ``min_cost`` (``miss_cost``, ``alarm_cost``: what a missed anomaly and a false alarm cost, e.g. 400 and 5): the
    cut of lowest ``missed x miss_cost + false alarms x alarm_cost`` per row of the labelled rows, or, with
    ``anomaly_share`` (e.g. 0.002), of rows holding that share of anomalies (labelled rows richer in anomalies than
    live traffic otherwise put the cut too low); its ``chosen_on`` ends with what that cut costs per row and per
    10,000 rows.
    ``alarm_rate``: a rate of alarms on rows the model did not train on, believed normal or mostly normal (``source``,
    ``where``): ``rate`` (a share of them, 0.005 or ``'0.5%'``) or alarms per period (``per_day=3``, ``per_hour``,
    ``per_week``) over their ``time`` column (DATE or TIMESTAMP). Its ``chosen_on`` records the rows, the period they
    cover, the target and the rate achieved with its 95% interval if rows were independent, and with ``time`` 95%
    intervals for a later day (hour, week) and for a later stretch as long, the wider of a t over how the stretch's
    days vary and of the count of its alarms on the independent rows it is worth by the rows' autocorrelation in
    time (readings close in time move together, so these are the wider, truer ones); a stretch of fewer than 20
    alarms' worth of rows warns that the cut is uncertain. ``weight``: rows that are a sample of the stretch (1 in 4
    kept: 4), each counted as that many rows, in the cut, the rows a day and the periods' rates, the intervals on
    Kish's effective size. ``series``: the column telling apart several series in one table (``series='sensor'``),
    within each of which episodes (runs of flagged readings) are counted and the rows' autocorrelation read; the
    target counts the whole table's alarms. ``tz``: the time zone whose days the weekend and volume checks read
    (default: a TIMESTAMPTZ column's session zone, a TIMESTAMP's own wall time; with ``tz`` a TIMESTAMP is taken
    as UTC, as its ``chosen_on`` says). ``timestamps_in``: the zone whose wall-clock times a TIMESTAMP column holds
    (``'Europe/Paris'`` for a Paris logger's), whose days count unless ``tz`` names others: each time is read as that
    zone's, so a DST change's 23- and 25-hour days are as long as they were. A retrain with ``carry_thresholds`` chooses it again on the same rows.
    ``confident=True`` (min_precision / min_recall): the lower end of the figure's 95% interval must meet the target,
    so few labels give a more cautious threshold rather than a lucky one.
    A goal's labelled rows: ``label`` names the column of ``source`` holding 1 (anomaly) or 0 (normal), and
    ``where`` (optional) filters ``source``'s rows. A method takes only the arguments it uses; others are refused.
    ``progress=True``: the labelled rows scored so far on stderr, as ``score(progress=True)`` prints them.
    ``weight`` (a goal on labelled rows, or alarm_rate): the column of ``source`` holding each row's sample weight (normal rows
    sampled 1 in 50: 50), each row counted as that many rows, as ``evaluate(weight=)``; its ``chosen_on`` says so,
    and a retrain with ``carry_thresholds`` weighs the rows again.
    ``sampled`` (a goal on labelled rows, with ``weight``): which rows the sample drew, as ``evaluate(sampled=)``:
    ``'rows'`` (the default, an audit) or ``'normal'`` (every anomaly kept at one weight, the normal rows sampled by
    their own strata), whose intervals (``confident=True``'s lower ends, and those printed) are evaluate's of
    ``sampled='normal'``: recall's Wilson's of the anomalies drawn, not widened for misses an audit may not have
    drawn. Its ``chosen_on`` says so, and a retrain with ``carry_thresholds`` reads the rows the same way.
    """
    with interrupts.raised_as_interrupt("set_threshold", model):
        con = check_connection(con, "set_threshold")
        lm = registry(con).get(model)
        if not isinstance(name, str) or not name or len(name) > 64:
            raise OptionError(f"Threshold name {name!r} must be a non-empty string of at most 64 characters.")
        # An option the method does not read is a mistake to report, not to drop: the stored threshold would
        # not be what was asked for.
        goal: dict[str, Any] | None = None  # what a threshold chosen on labels was chosen for (carry_thresholds)
        uses = {"manual": {"value"}, "quantile": {"target"}, "contamination": {"target"},
                "max_f1": {"source", "label", "where", "weight", "sampled"},
                "min_precision": {"target", "source", "label", "where", "confident", "weight", "sampled"},
                "min_recall": {"target", "source", "label", "where", "confident", "weight", "sampled"},
                "flag_budget": {"target", "source", "label", "where", "weight", "sampled"},
                "min_cost": {"source", "label", "where", "miss_cost", "alarm_cost", "anomaly_share", "weight",
                             "sampled"},
                alarmrate.METHOD: {"source", "where", "rate", "per_hour", "per_day", "per_week", "time",
                                   "weight", "series", "tz", "timestamps_in"}}.get(method)
        if not isinstance(confident, bool):
            raise OptionError(f"Threshold {name!r} for {lm.ref!r}: confident= must be True or False; got {confident!r}.")
        given = {k for k, v in {"value": value, "target": target, "source": source, "label": label, "where": where,
                                "confident": confident or None, "miss_cost": miss_cost, "alarm_cost": alarm_cost,
                                "anomaly_share": anomaly_share, "rate": rate, "per_hour": per_hour, "per_day": per_day,
                                "per_week": per_week, "time": time, "weight": weight, "series": series,
                                "tz": tz, "timestamps_in": timestamps_in, "sampled": sampled}.items()
                 if v is not None}
        if uses is not None and given - uses:
            raise OptionError(
                f"Threshold {name!r} for {lm.ref!r}: method {method!r} does not use "
                f"{optionwords.opts(*sorted(given - uses))}; it takes {optionwords.opts(*sorted(uses))}. Leave the "
                "others out, or pick the method that uses them."
            )
        for arg, v in (("value", value), ("target", target)):
            if v is not None and (isinstance(v, bool) or not isinstance(v, numbers.Real)):
                raise OptionError(f"Threshold {name!r} for {lm.ref!r}: {optionwords.opt(arg)} must be a number, e.g. "
                                  f"{optionwords.opt(arg, 0.9 if arg == 'target' else 3.5)}; got {v!r}.")
        if method == "min_cost":  # before the labelled rows are read and scored
            # as floats: a numpy integer is no JSON number, and the goal kept for a retrain would hold text
            pr = costs.prices(miss_cost, alarm_cost, anomaly_share,
                              f"Threshold {name!r} for {lm.ref!r}: method 'min_cost' needs")
            miss_cost, alarm_cost, anomaly_share = pr.miss_cost, pr.alarm_cost, pr.anomaly_share
        want = None
        if method == alarmrate.METHOD:  # before the rows are read and scored
            try:
                want = alarmrate.target(rate, per_hour, per_day, per_week, time)
            except OptionError as e:
                raise OptionError(f"Threshold {name!r} for {lm.ref!r}: {str(e)[:1].lower()}{str(e)[1:]}") from None
            if source is None:
                raise OptionError(f"Threshold {name!r} for {lm.ref!r}: method {method!r} is chosen on rows believed "
                                  f"normal that the model did not train on; pass {optionwords.opt('source')}, a table, "
                                  f"view or query, and optionally {optionwords.opt('where')}, e.g. last week's rows.")
        chk = interrupts.cursor(con)
        try:
            store.check_can_write(chk, f"Cannot store threshold {name!r} for {lm.ref!r}")
        finally:
            chk.close()
        if method == "manual":
            if value is None or not np.isfinite(value):
                raise OptionError(f"Threshold {name!r} for {lm.ref!r}: method 'manual' needs a finite "
                                  f"{optionwords.opt('value')}, e.g. {optionwords.opt('value', 3.5)}; got {value!r}.")
            # Why the share: a cut read off the --plots histogram is checked against the share the plot gave it
            th = Threshold(name=name, value=float(value), method="manual", chosen_on="set by hand",
                           flagged_share=None if lm.quantiles is None else lm.share_above(float(value)))
        elif method in ("quantile", "contamination"):
            if lm.quantiles is None:
                raise BadInputError(
                    f"Threshold {name!r} for {lm.ref!r}: method {method!r} reads the training-score quantiles stored with "
                    f"a model, and {lm.ref} has none (it was stored without them). Re-train it, or choose the threshold "
                    f"another way: method 'manual' with {optionwords.opt('value')}, or a goal on labelled rows such as "
                    f"'max_f1' with {optionwords.opt('source')} and {optionwords.opt('label')}."
                )
            if target is None or not (0.0 < target < 1.0):
                # the example fits the method: a contamination of 0.99 would flag 99% of rows, and 5 is likely 5%
                what = "the quantile of the training scores, e.g. 0.99"
                if method == "contamination":
                    pct = (f" (for {target:g}%, target={target / 100:g})" if target is not None and 1.0 <= target < 100.0
                           else "")
                    what = f"the share of training rows to flag, e.g. 0.01 for 1%; got {target!r}{pct}"
                else:
                    what += f"; got {target!r}{thresholds.percent_hint(target)}"
                raise OptionError(f"Threshold {name!r} for {lm.ref!r}: method {method!r} needs "
                                  f"{optionwords.opt('target')} in (0, 1), {what}{'' if what.endswith('?') else '.'}")
            q = 1.0 - target if method == "contamination" else target
            v = float(np.interp(q, np.linspace(0, 1, len(lm.quantiles)), lm.quantiles))
            th = Threshold(name=name, value=v, method=method, chosen_on=f"training scores ({method} {target:g})",
                           flagged_share=lm.share_above(v))
        elif want is not None and source is not None:
            for arg, given_col in (("series", series), ("tz", tz), ("timestamps_in", timestamps_in)):
                if given_col is not None and time is None:
                    raise OptionError(f"Threshold {name!r} for {lm.ref!r}: {optionwords.opt(arg)} reads the rows' "
                                      f"times; name their DATE or TIMESTAMP column with {optionwords.opt('time')}.")
            # kept: a retrain chooses it again on the same rows
            goal = relfiles.with_folder(alarmrate.goal(want, source, where, weight, series, tz, timestamps_in))
            th = alarmrate.choose(con, lm, name, want, source, where, progress=progress, weight=weight, keep=goal,
                                  series=series, tz=tz, timestamps_in=timestamps_in)
        elif method in thresholds.LABELLED:
            if source is None or label is None:
                raise OptionError(
                    f"Threshold {name!r} for {lm.ref!r}: method {method!r} is chosen on labelled rows; pass "
                    f"{optionwords.opt('source')} and {optionwords.opt('label')}. Without labels: method 'contamination' "
                    f"with {optionwords.opt('target')}, the share of training rows to flag, e.g. 0.01; 'quantile' with "
                    f"{optionwords.opt('target')}, a quantile of the training scores, e.g. 0.99; or 'manual' with "
                    f"{optionwords.opt('value')}, a cut read off the scores' histogram (`ad-duckdb score ... --plots "
                    "DIR`)."
                )
            try:  # before the labelled rows are read and scored
                if method in thresholds.TARGETED:
                    thresholds.goal_target(method, target)
            except OptionError as e:
                raise OptionError(f"Threshold {name!r} for {lm.ref!r}: {str(e)[:1].lower()}{str(e)[1:]}") from None
            # a plain float: a numpy number (np.float32(0.9)) was kept as the text '0.9', which a retrain with
            # carry_thresholds no longer read as a goal
            goal = {"method": method, "target": None if target is None else float(target), "source": source,
                    "label": label, "where": where, "confident": confident}
            if method == "min_cost":  # kept with the goal: a retrain chooses it again at the same costs
                goal |= {"miss_cost": miss_cost, "alarm_cost": alarm_cost, "anomaly_share": anomaly_share}
            if weight is not None:  # kept with the goal (only when given: a goal without it reads as before)
                goal["weight"] = weight
            if sampling.check(f"Threshold {name!r} for {lm.ref!r}", sampled, weight) is not None:
                goal["sampled"] = sampled  # as weight: only when given
            goal = relfiles.with_folder(goal)
            th = _goal_threshold(con, lm, name, goal, progress=progress)
        elif isinstance(method, numbers.Real) and not isinstance(method, bool):  # a cut read off a histogram
            raise OptionError(f"Threshold {name!r} for {lm.ref!r}: method is the way the threshold is chosen, not its value; "
                              f"for a value of your own: set_threshold(con, {model!r}, {name!r}, 'manual', "
                              f"value={method!r}). Methods: {', '.join(thresholds.METHODS)}.")
        else:
            raise BadInputError(f"Unknown threshold method {method!r}; use one of: {', '.join(thresholds.METHODS)}.")
        was = next((t for t in lm.rec.thresholds if t.name == name), None)
        if was is not None and name in ("default", *thresholds.QUANTILES):
            # Why said: these names carry a meaning fixed at training ('default' is what is_anomaly flags above, 'p99'
            # the training scores' 99th percentile); a goal or a hand value stored under one changes it for every query.
            effect = f"is_anomaly({lm.ref!r}, ...) now flags scores above {th.value:.6g}" if name == "default" else \
                f"{name!r} no longer names its quantile of the training scores"
            notes.warn(f"Threshold {name!r} for {lm.ref!r} replaces the stored one ({was.value:.6g}, "
                       f"{was.method}): {effect}. To keep it, store yours under another name, e.g. {name}_{method}.")
        cur = interrupts.cursor(con)
        try:
            store.set_threshold(cur, lm.name, lm.version, th, goal)
        finally:
            cur.close()
        refresh(con, changed_only=True)
        return th


def _goal_threshold(con: duckdb.DuckDBPyConnection, lm: LoadedModel, name: str, goal: dict[str, Any],
                    note: str = "", progress: bool = False) -> Threshold:
    """The threshold meeting ``goal`` (method, target, source, label, where, confident) on the labelled rows, for
    model ``lm``; ``note`` goes into its ``chosen_on`` after the rows; ``progress``: the rows scored, on stderr."""
    if goal["method"] == alarmrate.METHOD:
        want = alarmrate.from_goal(goal)
        if want is None:
            raise BadInputError(f"Threshold {name!r} for {lm.ref!r}: its stored alarm-rate goal {goal!r} is malformed; "
                                "set it again with method 'alarm_rate'.")
        # keep=goal: the retrain's new cut gets its own promise, stored with the goal for the new version
        return alarmrate.choose(con, lm, name, want, goal["source"], goal["where"], progress=progress, note=note,
                                weight=goal.get("weight"), keep=goal, series=goal.get("series"), tz=goal.get("tz"),
                                timestamps_in=goal.get("timestamps_in"))
    from .auc import curve_auc_roc
    from .numbertext import count_text

    source, label, where, weight = goal["source"], goal["label"], goal["where"], goal.get("weight")
    sampled = goal.get("sampled")
    repeats: list[str] = []
    read_w: list[np.ndarray] = []
    _, s, y = _labelled_scores(con, lm, source, label, where, repeats=repeats,
                               progress=f"choosing threshold {name!r} for " if progress else None, weight=weight,
                               weights_read=read_w)
    w = read_w[0] if read_w else None
    on = f"{source}{' WHERE ' + where if where else ''} (label {label}, {len(s)} rows, {int(y.sum())} anomalies"
    if w is not None:
        sampling.check_anomalies(f"Threshold {name!r} for {lm.ref!r}", weight, sampled, y, w)  # type: ignore[arg-type]
        k = weights.summary(weight, y, w)  # type: ignore[arg-type]
        s, y, w = s[w > 0], y[w > 0], w[w > 0]  # a row of weight 0 counts as none
        on += (f"; weighted by {weight}: {count_text(k['rows'])} rows, {count_text(k['anomalies'])} anomalies, "
               f"Kish's effective sizes {weights.size_text(k['effective_anomalies'])} anomalies and "
               f"{weights.size_text(k['effective_normal'])} normal rows")
    sizes = len(on)  # where the flagged cells' sizes go, once the threshold is chosen
    on += ")"
    overlap = _training_overlap(con, lm, source, where, label)
    on += f"; {overlap[:1].lower()}{overlap[1:]}" if overlap else ""
    on += f"; {note}" if note else ""
    try:
        # one sort of the rows for the goal and the inverted-label check's AUC-ROC (each sorted them: 2M rows, 0.5 s)
        c = thresholds.goal_curve(s, y, goal["method"], w, sampled)
        th = thresholds.from_goal(s, y, goal["method"], target=goal["target"], name=name, chosen_on=on,
                                  confident=goal["confident"], miss_cost=goal.get("miss_cost"),
                                  alarm_cost=goal.get("alarm_cost"), anomaly_share=goal.get("anomaly_share"), c=c)
    except BadInputError as e:  # from_goal knows the rows, not the model: name it, as the checks above do
        msg = str(e)
        raise type(e)(f"Threshold {name!r} for {lm.ref!r}: {msg[:1].lower()}{msg[1:]}") from None
    if w is not None and (th.chosen_on or "").startswith(on):  # from_goal may add a note after (confident=True)
        # the cells' effective sizes at the value: threshold prints evaluate's intervals from them (weights.figure_intervals)
        th.chosen_on = on[:sizes] + weights.flagged_sizes(s, y, w, th.value, sampled) + (th.chosen_on or "")[sizes:]
    for said in repeats:
        notes.warn(f"Threshold {name!r} for {lm.ref!r} was chosen on rows that repeat: {said}")
    if w is None:
        anomalies = int(y.sum())
        inverted = _inverted_labels(lm, label, s, y, curve_auc_roc(c, anomalies, len(y) - anomalies))
    else:
        inverted = _weighted_inverted(lm, label, s, y, w, c)
    if inverted:
        how = "no better than chance" if _A_LITTLE_BELOW in inverted else "the wrong way round"
        notes.warn(f"Threshold {name!r} for {lm.ref!r} was chosen on labels {lm.ref} ranks {how}: {inverted}")
    return th


def _weighted_inverted(lm: LoadedModel | ModelRecord, label: str, s: np.ndarray, y: np.ndarray, w: np.ndarray,
                       c: dict[str, np.ndarray]) -> str | None:
    """``_inverted_labels`` of rows of weights ``w`` (their ``weights.curve`` ``c``): the weighted AUC-ROC and its
    interval on Kish's effective sizes."""
    from .auc import curve_auc_roc

    pos, neg = float(c["tp"][-1]), float(c["flagged"][-1] - c["tp"][-1])
    auc = curve_auc_roc(c, pos, neg)
    eff = (weights.effective(w[y == 1]), weights.effective(w[y == 0]))
    return _inverted_labels(lm, label, s, y, auc, intervals.auc_roc(c, pos, neg, auc, eff=eff))


# Below this AUC-ROC (and clearly below 0.5) the labels may be inverted: inverted, they would give at least 0.6
SLIGHTLY_BELOW_CHANCE = 0.4
_A_LITTLE_BELOW = "is a little below 0.5"


def _inverted_labels(lm: LoadedModel | ModelRecord, label: str, s: np.ndarray, y: np.ndarray,
                     auc: float | None = None, ci: intervals.AUCInterval | None = None) -> str | None:
    """A note when the model ranks the rows labelled 0 clearly above those labelled 1 (the whole 95% interval of
    AUC-ROC below 0.5). Why: labels with 1 on the normal rows (scikit-learn's predict gives 1 to inliers) passed the
    0/1 check, and every figure, and every goal (max_f1 flagged every row), came out inverted without a word."""
    from .auc import curve_auc_roc

    n_pos = int(y.sum())
    if auc is None or ci is None:  # ``auc`` and ``ci``: their AUC-ROC and its interval, when already computed
        c = thresholds.curve(s, y)
        auc = curve_auc_roc(c, n_pos, len(y) - n_pos)
        ci = intervals.auc_roc(c, n_pos, len(y) - n_pos, auc)
    lo, hi = ci.low, ci.high
    if not hi < 0.5:  # NaN (one class only) or not clearly below chance: nothing to say
        return None
    if auc > SLIGHTLY_BELOW_CHANCE:
        # Why not the inversion question: on many rows a model at chance is "clearly" below 0.5 by a hair, and
        # inverted labels would make it no better; the labels are then likely right and the model blind to them
        return (f"AUC-ROC {auc:.3f} (95% interval {lo:.3f}-{hi:.3f}) {_A_LITTLE_BELOW}: {lm.ref} ranks the rows "
                f"labelled 1 no better than chance, and inverting label column {label!r} would make it "
                f"{1 - auc:.3f}, no better. These anomalies are not what {lm.ref} finds odd in its features "
                f"({', '.join(lm.feature_names)}): add the columns that tell them apart, or train on rows known "
                f"normal ({optionwords.opt('where')}).")
    return (f"AUC-ROC {auc:.3f} (95% interval {lo:.3f}-{hi:.3f}) is below 0.5: {lm.ref} scores the rows labelled 0 "
            f"above those labelled 1. Is label column {label!r} inverted? It must be 1 for an anomaly; if 1 marks "
            f"normal rows, pass ({quote_ident(label)} = 0)::INTEGER AS is_anomaly from a query "
            f"({optionwords.opt('label', 'is_anomaly')}). If the labels are right, {lm.ref} ranks these anomalies as "
            "normal.")
