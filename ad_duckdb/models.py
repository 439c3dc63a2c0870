"""The stored model versions as the Python API offers them: ``ModelInfo``, load, list and drop, and export to /
import from a self-contained ``.onnx`` file (whose format ``onnxfile`` owns)."""

from __future__ import annotations

import json
import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from . import (
    attachedmodels,
    budgetshare,
    canwrite,
    damagedfile,
    damagedstore,
    interrupts,
    lifecycle,
    modelnames,
    notes,
    onnxfile,
    readers,
    store,
    storedrop,
    storeload,
    storesave,
    storetables,
    thresholds,
    typedpaths,
)
from .connarg import check_connection
from .exceptions import AdDuckDBError, BadInputError, OptionError
from .optionwords import either, opt
from .store import ModelRecord
from .udfs import refresh


@dataclass
class ModelInfo:
    """A stored model version, as ``train`` and ``import_model`` return it.

    Attributes
    ----------
    name : str
        The model's name, as the SQL functions take it (``'tx_ae'``: its latest version).
    version : int
        This version's number; ``ref`` is ``'name@version'``, which pins it in SQL (``anomaly_score('tx_ae@3',
        ...)``).
    features : list of str
        The feature columns, in the order the SQL functions take them.
    train_rows : int or None
        How many rows of the source (under ``where=``) the thresholds were taken from: every one, also where
        training itself used a sample of ``max_train_rows`` (``metrics['train_rows_used']`` and
        ``metrics['validation_rows']`` count the sample). None for a model file that does not record it.
    thresholds : dict of str to float
        Each stored threshold's value by name (``default``, ``p90`` ... ``p999`` and your own); a row is flagged
        by one when its ``anomaly_score`` is above the value (``is_anomaly`` uses ``default``).
    flagged_training : dict of str to float or None
        By threshold name, the share of the model's training rows it flags (for a cut chosen elsewhere, read from
        their stored score quantiles, to within 0.1% of the rows), as ``ad-duckdb show``'s ``flagged_training``: the
        alerts to plan on traffic like the training rows. None where the model records neither. Not in the repr.
    flagged_chosen_on : dict of str to float or None
        By threshold name, the share of the rows it was chosen on that it flags, where those are not the training
        rows (the labelled rows of ``max_f1``, ``min_precision``, ...; alarm_rate's rows); None for a cut from the
        training scores. As ``show``'s ``flagged_chosen_on``: labelled rows holding every known fraud are flagged far
        more than the traffic is. Not in the repr.
    flagged_share_of : dict of str to str
        By threshold name, what its stored share (``flagged_shares``) is a share of: ``'training rows'``,
        ``'labelled rows'`` or ``'rows it was chosen on'`` (``show --format json``'s ``flagged_share_of``).
    flagged_shares : dict of str to float or None
        Each threshold's stored share, as before ``flagged_training`` and ``flagged_chosen_on`` split it: of the
        training rows or of the rows it was chosen on, by its method (``flagged_share_of`` says which), so one dict
        can hold 0.01 of the traffic beside 0.2 of 40 labelled rows; kept for code that reads it. Not in the repr.
    metrics : dict
        Training figures, not in the repr: ``score_quantiles`` (1001 quantiles of the training scores, which
        ``anomaly_percentile`` reads), ``train_score_mean``, ``train_score_std`` and ``threshold_ranks`` (the sorted
        training scores of the ranks around the default threshold's, which ``AutoEncoderDetector.from_store``'s
        ``predict_confidence`` reads), ``train_seconds``, the training curve (``validation_loss``,
        ``best_validation_loss``, ``steps_run``, ``stopped_early``), the network (``hidden_dims``, ``latent_dim``,
        ``n_models``), ``robust`` (False after a ``where=`` without ``robust=True``), ``filled_values`` (how many
        NULL / NaN values of each feature training filled with its median), ``parity_max_abs_diff`` (the ONNX
        graph's largest difference from torch's scores) and the source it read (``train_source``, ``train_where``).
    """

    name: str
    version: int
    features: list[str]
    train_rows: int | None
    thresholds: dict[str, float]
    metrics: dict[str, Any] = field(repr=False)  # 1001 score quantiles and the training curve: too long to show
    flagged_shares: dict[str, float | None] = field(default_factory=dict, repr=False)
    # after flagged_shares: code building a ModelInfo by position keeps working
    flagged_training: dict[str, float | None] = field(default_factory=dict, repr=False)
    flagged_chosen_on: dict[str, float | None] = field(default_factory=dict, repr=False)
    flagged_share_of: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    @classmethod
    def of(cls, rec: ModelRecord) -> ModelInfo:
        quantiles = budgetshare.quantiles_of(rec.metrics)
        split = {t.name: budgetshare.split(t, quantiles, rec.metrics) for t in rec.thresholds}
        return cls(rec.name, rec.version, rec.feature_names, rec.train_rows,
                   {t.name: float(t.value) for t in rec.thresholds}, rec.metrics,
                   {t.name: t.flagged_share for t in rec.thresholds},
                   {n: v[0] for n, v in split.items()}, {n: v[1] for n, v in split.items()},
                   {t.name: budgetshare.of_rows(t) for t in rec.thresholds})


@attachedmodels.names_the_file
def load_model(con: duckdb.DuckDBPyConnection, model: str) -> ModelRecord:
    """The stored model ``'name'`` (its latest version) or ``'name@N'``, checked (sha256, format version).

    Returns a ``ModelRecord``: ``features`` (each a ``FeatureSpec`` with ``name``, ``transform``, ``fill``, ...),
    ``thresholds``, ``onnx`` (the graph's bytes), ``params``, ``metrics`` and ``lib_versions``. Raises
    ``ModelNotFoundError`` (listing the known models) for an unknown name or version. To score, predict or explain
    with it in Python, as SQL does: ``AutoEncoderDetector.from_store(con, model)``.
    """
    con = check_connection(con, "load_model")
    cur = interrupts.cursor(con)
    try:
        return storeload.load(cur, model)
    finally:
        cur.close()


def list_models(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Every stored model version, by name then version, as dicts with ``name``, ``version``, ``created_at``,
    ``kind``, ``n_features``, ``train_rows``, ``source``, ``onnx_bytes``, ``latest`` (True for the version the
    bare name scores with, as ``ad-duckdb list`` shows), ``status`` (``'ok'``; ``'damaged'`` for a row that
    fails its integrity checks and will not score, as ``ad-duckdb list`` says; ``'needs_upgrade'`` for one a newer
    ad_duckdb stored, of a newer format_version or min_reader, which scores once this one is upgraded: not to drop)
    and ``problem`` (what is wrong with a damaged one, else None); ``[]`` before any training."""
    con = check_connection(con, "list_models")
    cur = interrupts.cursor(con)
    try:
        if not storetables.tables_exist(cur):
            return []
        # n_features: the columns a call passes; a text column's category inputs (categorical.py) but one of them
        listed = ("SELECT name, version, created_at, kind, json_array_length(features) - len(list_filter("
                  "json_extract_string(features, '$[*].transform'), lambda t: t = 'onehot')) AS n_features, train_rows, "
                  "source, octet_length(onnx) AS onnx_bytes, version = max(version) OVER (PARTITION BY name) AS latest "
                  "FROM ad_models ORDER BY name, version")
        try:
            rows = cur.execute(listed).fetchall()
        except duckdb.Error as e:
            if not damagedfile.is_damage(e):
                raise
            # a damaged block of the ONNX bytes: every row listed without their size (None), the damaged ones
            # named by load_all; the names, sources and the rest still read
            unread = damagedstore.names_unreadable(cur)
            if unread is not None:  # the block of the names themselves: which models are lost, what still reads
                raise unread from e
            rows = cur.execute(listed.replace("octet_length(onnx)", "NULL::BIGINT")).fetchall()
        # Why each version checked: a damaged row listed like the others passed a nightly health check, and failed
        # only when a query used it
        problems = storeload.load_all(cur)[1]
        pins = lifecycle.promoted(cur)
    finally:
        cur.close()
    # Why from the pins: 'latest' says which version the bare name means, the promoted one where there is one
    of_name: dict[str, list[int]] = {}
    for r in rows:
        of_name.setdefault(r[0], []).append(int(r[1]))
    rows = [(*r[:-1], r[1] == lifecycle.bare_version(of_name[r[0]], pins.get(r[0]))) for r in rows]
    # latest, status and problem last: code reading the keys before them by position keeps working
    keys = ["name", "version", "created_at", "kind", "n_features", "train_rows", "source", "onnx_bytes", "latest"]
    out = []
    for r in rows:
        problem = problems.get((r[0], r[1]))
        status = "ok" if problem is None else "needs_upgrade" if readers.asks_upgrade(problem) else "damaged"
        out.append(dict(zip(keys, r, strict=True)) | {"status": status, "problem": problem})
    return out


def drop_model(con: duckdb.DuckDBPyConnection, model: str, keep: int | None = None) -> list[int]:
    """Drop ``model``: ``'name'`` (every version) or ``'name@N'``; with ``keep=N``, every version of ``'name'`` but
    the N newest (``keep=None``, the default, keeps none). Returns the versions dropped."""
    con = check_connection(con, "drop_model")
    cur = interrupts.cursor(con)
    try:
        canwrite.check_can_write(cur, f"Cannot drop {model!r}")
        name = modelnames.parse_ref(model)[0]
        # read before the drop: a dropped version's features say which stored one a view pinning it can call
        was = store.version_features(cur, name)
        meant = store.bare_version(cur, name, list(was)) if was else None
        out = storedrop.drop(cur, model, keep=keep)
        if out:
            _warn_broken_views(cur, name, was)
            _warn_latest_changed(cur, name, was, meant)
    finally:
        cur.close()
    refresh(con, changed_only=True)
    return out


def _views_calling(cur: Any, name: str) -> list[tuple[str, list[str]]]:
    """(view, the refs of ``name`` it calls: 'name' or 'name@N') for each view of the database that calls one."""
    calls = re.compile("'" + re.escape(name) + r"(?:@(\d+))?'")
    out = []
    for schema, view, sql in cur.execute(
            "SELECT schema_name, view_name, sql FROM duckdb_views() WHERE NOT internal AND database_name = "
            "current_database() ORDER BY schema_name, view_name").fetchall():
        refs = sorted({m.group(0) for m in calls.finditer(sql or "")})
        if refs:
            out.append((view if schema == "main" else f"{schema}.{view}", refs))
    return out


def views_calling_version(cur: Any, name: str, version: int, latest: int) -> list[tuple[str, list[str]]]:
    """(view, the refs it calls, unquoted) for each view of the database that calls ``name@version``, or the bare
    ``name`` when ``version`` is the ``latest``. Why: switching dashboards to a new version, or dropping an old one,
    starts from which views use it; a drop named them only once they were broken."""
    wanted = {f"'{name}@{version}'", *([f"'{name}'"] if version == latest else [])}
    return [(view, [r.strip("'") for r in refs if r in wanted]) for view, refs in _views_calling(cur, name)
            if wanted & set(refs)]


def _warn_broken_views(cur: Any, name: str, was: dict[int, list[str]]) -> None:
    """Warn of the views that call a version of ``name`` no longer stored (or ``name`` itself, once every version
    is dropped). Why: a dashboard's view pinned to 'tx_ae@3' failed at its next refresh, far from the `drop --keep`
    that broke it, which had said only which versions it dropped. ``was``: each version's features before the drop,
    so that the version advised takes the view's columns (the latest may take others after a retrain)."""
    stored = store.known_models(cur).get(name, [])
    last = max([*stored, store.dropped_versions(cur).get(name, 0)])
    broken: list[str] = []
    gone: set[int] = set()
    for view, refs in _views_calling(cur, name):
        versions = {ref: modelnames.parse_ref(ref.strip("'"))[1] for ref in refs}
        lost = [ref for ref, v in versions.items() if (v is None and not stored) or
                (v is not None and v <= last and v not in stored)]
        if lost:
            broken.append(f"view {view} calls {', '.join(lost)}")
            gone |= {v for ref in lost if (v := versions[ref]) is not None}
    if not broken:
        return
    one = len(broken) == 1
    # Why the version the bare name means, not the newest: with a retrain staged, the newest is one nobody chose
    current = store.bare_version(cur, name, stored) if stored else 0
    fix = (f"until {'it calls' if one else 'they call'} a stored version ('{name}@{current}', or '{name}', which means "
           "it)" if stored else
           f"until you train or import '{name}' again: every version of '{name}' is dropped")
    if stored:
        now = store.version_features(cur, name)
        latest = now.get(current)
        # Why per version: after a retrain on other features, the latest takes other columns than the view passes
        other = [v for v in sorted(gone) if v in was and latest is not None and not store.same_features(was[v], latest)]
        # a version an earlier drop removed: its columns are gone with it, so the latest may take others (a retrain
        # on other features); say what each stored feature set is rather than advise one
        unknown = [v for v in sorted(gone) if v not in was]
        # a version an earlier drop removed: its columns are in the changelog's entry of that drop
        logged = {v: list(d["features"]) for v, _at, event, _by, d in lifecycle.events(cur, name)
                  if event == "dropped" and v in unknown and isinstance(d.get("features"), list) and d["features"]}
        other = sorted([*other, *(v for v in unknown if v in logged and latest is not None
                                   and not store.same_features(logged[v], latest))])
        was = {**was, **logged}
        unknown = [v for v in unknown if v not in logged]
        if other or unknown:
            fix = f"until {'it calls' if one else 'they call'} a stored version: " + "; ".join(
                [_version_of_columns(name, v, was[v], now, current) for v in other] +
                ([_stored_feature_sets(name, unknown, now)] if unknown else []))
    notes.warn(f"{'; '.join(broken)}, no longer stored: {'its' if one else 'their'} queries fail {fix} "
               f"(CREATE OR REPLACE VIEW ... to change a view).")


def _stored_feature_sets(name: str, versions: list[int], now: dict[int, list[str]]) -> str:
    """What the stored versions take, for views calling ``versions`` (dropped earlier: their columns unknown)."""
    sets: dict[tuple[str, ...], int] = {}
    for v, f in now.items():
        sets[tuple(f)] = max(v, sets.get(tuple(f), v))
    took = ", ".join(f"'{name}@{v}'" for v in versions)
    return (f"one that takes the columns of {took} (dropped earlier, so they are no longer known): "
            + ", ".join(f"'{name}@{v}' takes ({', '.join(f)})" for f, v in sorted(sets.items(), key=lambda i: -i[1])))


def _version_of_columns(name: str, version: int, cols: list[str], now: dict[int, list[str]], latest: int) -> str:
    """Which stored version takes the columns dropped ``version`` took, or that none does."""
    shown = ", ".join(cols)
    same = [v for v, f in now.items() if store.same_features(f, cols)]
    if same:
        return f"'{name}@{max(same)}' takes the columns '{name}@{version}' took ({shown})"
    return (f"'{name}@{version}' took ({shown}), which no stored version takes ('{name}@{latest}' takes "
            f"({', '.join(now[latest])})): change the view's columns, or train '{name}' on them again")


def _warn_latest_changed(cur: Any, name: str, was: dict[int, list[str]], meant: int | None) -> None:
    """Say that 'name' now means an older version of other features, as train and import_model do when it comes to
    mean a newer one. Why: a query passing the dropped version's columns keeps running when their count is the
    same, each value scored as the feature in its place. ``meant``: the version 'name' meant before the drop."""
    if not was or meant is None or meant not in was:
        return
    now = store.latest_features(cur, name)
    before = meant
    if now is None or now[0] == before or store.same_features(now[1], was[before]):
        return
    views = [view for view, refs in _views_calling(cur, name) if f"'{name}'" in refs]
    calling = f" (view{'s' if len(views) > 1 else ''} {', '.join(views)} call{'' if len(views) > 1 else 's'} " \
              f"'{name}')" if views else ""
    notes.warn(
        f"'{name}' is now {name}@{now[0]}, which takes ({', '.join(now[1])}), but {name}@{before} took "
        f"({', '.join(was[before])}): queries calling '{name}' must pass {name}@{now[0]}'s columns in its order"
        f"{calling}, or train '{name}' on the dropped version's columns again.")


# Suffixes of formats the data and the database come in (a model file named so is read as one)
_DATA_SUFFIXES = frozenset({".duckdb", ".db", ".ddb", ".wal", ".parquet", ".csv", ".tsv", ".json", ".jsonl",
                            ".ndjson", ".txt", ".xlsx", ".sql", ".arrow", ".feather"})


@attachedmodels.names_the_file
def export_model(con: duckdb.DuckDBPyConnection, model: str, path: str | Path, *, replace: bool = False,
                 string_inputs: bool = False) -> Path:
    """Write a self-contained ``.onnx`` file: the graph any ONNX runtime can run, with ad_duckdb metadata inside.

    The graph takes ``x`` [n, d] (float32, or float64 where a column has a large centre) in the model's feature
    order and gives ``score`` [n] and ``feature_error`` [n, d]. The features and thresholds are JSON under the
    ``ad_duckdb`` key of its ``metadata_props`` (README, "Models, versions, thresholds"). An existing file is
    replaced only with ``replace=True``, and the database's own file never; the file appears whole or not at all
    (written beside it, then renamed). A folder for ``path`` gets ``<name>.onnx`` inside it, as ``cp`` does; a
    ``path`` text ending in ``/`` names a folder, created if missing. Returns the path written.

    ``string_inputs=True`` (a model with text features): the graph takes ``numeric`` [n, numeric features] and each
    text column as a string tensor [n] named by the column, a NULL written as ``''`` (README, "The .onnx file");
    ``import_model`` stores the same graph as the plain file's.

    Examples
    --------
    >>> path = ad_duckdb.export_model(con, "tx_ae", "tx_ae.onnx")                       # doctest: +SKIP
    >>> sess = onnxruntime.InferenceSession(path)                                      # doctest: +SKIP
    >>> meta = json.loads(sess.get_modelmeta().custom_metadata_map["ad_duckdb"])        # doctest: +SKIP
    >>> default = next(t["value"] for t in meta["thresholds"] if t["name"] == "default")  # doctest: +SKIP
    >>> [f["name"] for f in meta["features"]], default   # is_anomaly: score > default   # doctest: +SKIP
    (['count', 'amount'], 7.86)
    """
    con = check_connection(con, "export_model")
    _check_path(path, "export_model", "the .onnx file to write (or a folder)")
    rec = load_model(con, model)
    p = _export_target(path, rec.name)
    cur = interrupts.cursor(con)  # not con itself: a query on it would replace a result the caller is still reading
    try:
        db_files = {Path(r[0]).resolve() for r in cur.execute("SELECT path FROM duckdb_databases() WHERE path IS NOT NULL")
                    .fetchall()}
    finally:
        cur.close()
    if p.resolve() in db_files or p.resolve() in {Path(f"{f}.wal") for f in db_files}:
        raise BadInputError(f"{str(p)!r} is a database file in use; export {model!r} to a new path, e.g. {rec.name}.onnx.")
    written = onnxfile.write_file(rec, p, replace=replace, string_inputs=string_inputs)
    if p.suffix.lower() in _DATA_SUFFIXES:
        # a note, not a refusal: any name holds the model, and import reads it; but a name that says rows or a
        # database is read as one by the next person (or tool) who opens it
        notes.warn(f"Wrote model {rec.ref!r} as an ONNX file named {str(p)!r}, whose suffix {p.suffix!r} says "
                   f"another format; import reads it all the same, but name it .onnx ({p.with_suffix('.onnx').name}) "
                   "for tools and people that go by the name.")
    return written


def _export_target(path: str | Path, name: str) -> Path:
    """The file export_model writes: ``path``, or ``<name>.onnx`` inside it when it is a folder. Why a trailing
    slash makes the folder: 'models/' in a fresh directory (--help's example) otherwise became a file named
    'models', as Path drops the slash; cp and --plots read it as a folder too."""
    text = str(path)
    seps = tuple(s for s in (os.sep, os.altsep) if s)
    p = Path(path)
    if isinstance(path, str) and text.endswith(seps) and text.rstrip("".join(seps)):
        if p.exists() and not p.is_dir():
            raise BadInputError(f"{text!r} ends in {text[-1]!r}, so it names a folder, but {p} is a file; give a "
                                f"folder, or the file's own path without the {text[-1]!r} (with replace=True / "
                                f"--replace to overwrite it).")
        p.mkdir(parents=True, exist_ok=True)
    if p.is_dir():
        p = p / f"{name}.onnx"
    return p


def read_onnx_file(path: Path) -> ModelRecord:
    """Read and check a file written by ``export_model`` (see ``onnxfile.read_file``)."""
    return onnxfile.read_file(path)


def import_model(con: duckdb.DuckDBPyConnection, path: str | Path, name: str | None = None,
                 promote: bool = True) -> ModelInfo:
    """Store the model in the ``.onnx`` file at ``path`` (written by ``export_model``) as the next version of
    ``name``; with ``name=None`` (the default), of the name stored in the file, the one it was exported under.
    Returns its ``ModelInfo``; a file holding the model that name's newest version, or the one the name means,
    already is imports nothing (a warning says so) and returns that version's. ``promote=False`` (CLI: ``--no-promote``) stages it, as
    ``train``'s: the bare name keeps meaning the version it meant until ``promote``."""
    con = check_connection(con, "import_model")
    _check_path(path, "import_model", "the .onnx file export_model wrote")
    return import_record(con, onnxfile.read_file(Path(path)), Path(path).name, name, promote=promote)


def _check_path(path: object, func: str, what: str) -> None:
    """Refuse a ``path`` argument that is no path. Why: None, a number or the file's bytes failed in pathlib with
    "expected str, bytes or os.PathLike object", naming neither the argument nor the fix."""
    if isinstance(path, str | os.PathLike):
        return
    fix = (" (the file's bytes: write them to a file first, e.g. pathlib.Path('model.onnx').write_bytes(data))"
           if isinstance(path, bytes | bytearray) else "")
    raise BadInputError(f"{func}() takes {what} as a path (str or pathlib.Path); got {type(path).__name__} "
                        f"{path!r:.80}{fix}.")


def import_checks(rec: ModelRecord, origin: str, name: str | None = None) -> None:
    """What import refuses in a file read from ``origin`` before anything is stored: a graph onnxruntime's checks
    refuse, and (``name``: none given) a name no model may have now."""
    from .ortruns import make_session

    make_session(rec.onnx, model=rec.name, n_features=len(rec.features))
    if name is None and modelnames.is_model_file(rec.name):  # an older release's export: say how to give it a name, as the store refuses it
        new = modelnames.name_without_onnx(rec.name)
        raise OptionError(
            f"{origin!r} holds model {rec.name!r} (exported by an older ad_duckdb, which allowed names ending "
            f"in '.onnx'), a name no model may have now: register(models=...) and the dbt plugin's 'models' read it "
            f"as the path of an exported file. Import it under another name: {opt('name', new)}."
        )


def import_record(con: duckdb.DuckDBPyConnection, rec: ModelRecord, origin: str,
                  name: str | None = None, promote: bool = True) -> ModelInfo:
    """Store ``rec``, read by ``onnxfile`` from ``origin`` (a file's name, or standard input), as ``import_model``."""
    import_checks(rec, origin, name)
    # Why the file's own ref: the version numbers start again in each database, so the file's tx_ae@3 is stored as
    # tx_ae@1 in a fresh one, and a query pinned to 'tx_ae@3' there scores with another model (or none). Taken
    # before a rename: 'fraud@3' would name a version that never existed.
    exported = rec.ref
    if name is not None:
        rec.name = modelnames.check_name(name)
    rec.source = store.imported_source(origin, exported, rec.source)
    rec.carried, rec.imported_from = thresholds.users_own(rec.thresholds), origin  # logged, as restore reads them
    def unless_stored(r: ModelRecord) -> None:
        # Why again in the save's transaction: imports of one file at once (a deployment step run by several
        # workers) each saw no copy before their save, and stored it once each.
        same = _same_as_latest(cur, r)
        if same is not None:
            raise _AlreadyStored(same)
        if promote:  # a staged import changes nothing for queries of the bare name: promote says these when it moves
            warn_if_features_changed(cur, r, "import")
            warn_if_older_than_latest(cur, r, exported, origin)
            warn_if_own_thresholds_lacked(cur, r)

    cur = interrupts.cursor(con)
    try:
        try:
            same = _same_as_latest(cur, rec)
            if same is None:
                canwrite.check_can_write(cur, f"Cannot store model {rec.name!r}")
                storesave.save(cur, rec, before_insert=unless_stored, promote=promote, how="imported")
        except _AlreadyStored as e:
            same = e.latest
        if same is not None:
            # Why: a deployment step re-run (a retried Airflow task, a nightly import of an unchanged file) would
            # otherwise add a version per run, each the same model, and move no pinned query forward.
            own = sorted({t.name for t in same.thresholds} - {t.name for t in rec.thresholds})
            also = (f"; it also has threshold{'s' if len(own) > 1 else ''} {', '.join(map(repr, own))}, set in this database, "
                    "not in the file" if own else "")
            notes.warn(f"{same.ref} is already this model (same ONNX sha256 {rec.sha256[:12]}… and thresholds{also}); "
                       f"nothing imported. Pass {opt('name')} to store a copy under another name."
                       + _not_what_the_name_means(cur, same, promote))
            return ModelInfo.of(same)
    finally:
        cur.close()
    refresh(con, changed_only=True)
    return ModelInfo.of(rec)


def _not_what_the_name_means(cur: Any, same: ModelRecord, promote: bool) -> str:
    """The end of the 'already this model' note of an import to promote (``promote=True``) that found the model stored
    as a staged version: the bare name still means another one, and nothing moved it."""
    if not promote:
        return ""
    current = store.bare_version(cur, same.name, store.known_models(cur)[same.name])
    if current == same.version:
        return ""
    return (f" '{same.name}' means {same.name}@{current} (queries calling it do not move); to make it mean this model: "
            f"{either(f'ad_duckdb.promote(con, {same.ref!r})', f'ad-duckdb promote DB {same.ref}')}.")


class _AlreadyStored(Exception):  # noqa: N818 (a signal that ends the save, never shown)
    """Raised in ``storesave.save``'s transaction when the latest version is already the model being imported."""

    def __init__(self, latest: ModelRecord) -> None:
        super().__init__(latest.ref)
        self.latest = latest


# What the bare name meant before a store: (version, its feature names), as store.latest_features says
Before = tuple[int, list[str]] | None


def warn_if_features_changed(cur: Any, rec: ModelRecord, doing: str, before: Before | bool = True) -> None:
    """Say that ``'name'`` will mean a version of other features, when it will (``storesave.save``'s ``before_insert``
    of ``train`` or ``import_model``, named by ``doing``). Why: a query that calls it with the old columns keeps
    running when their count is the same, and scores each value as the new feature in its place. ``before``: what
    the name meant before (``True``: look it up now)."""
    before = store.latest_features(cur, rec.name) if before is True else before
    if before is None or before is False:
        return
    if before is None or store.same_features(before[1], rec.feature_names):
        return
    old, was = f"{rec.name}@{before[0]}", before[1]
    notes.warn(
        f"{rec.ref!r} takes ({', '.join(rec.feature_names)}), but {old!r} took ({', '.join(was)}): once it is stored, "
        f"queries calling {rec.name!r} get {rec.ref} and must pass its columns in its order. Update them, pin {old!r} "
        f"in the ones that keep the old columns, or {doing} the new feature set under another name.",
    )


def newest_made(cur: Any, name: str) -> tuple[int, Any] | None:
    """The newest stored version of ``name`` and when it was made (None with none stored)."""
    row = cur.execute("SELECT version, created_at FROM ad_models WHERE name = ? ORDER BY version DESC LIMIT 1",
                      [name]).fetchone()
    return None if row is None else (int(row[0]), row[1])


def warn_if_older_than_latest(cur: Any, rec: ModelRecord, exported: str, origin: str,
                              was: tuple[tuple[int, Any] | None, Before] | None = None) -> None:
    """Say that ``'name'`` will score with the imported model, when it was made before the latest version (an
    export of an older release's model, imported to compare after an upgrade and a retrain). Why: the import is
    the newest version, so every query, dbt run and server naming the model moved back to it, and nothing said.
    ``was``: (``newest_made``, what the name meant) before the import; None: look them up now."""
    row, before = was if was is not None else (newest_made(cur, rec.name), store.latest_features(cur, rec.name))
    if row is None or row[1] is None or rec.created_at >= row[1]:
        return
    if before is not None and not store.same_features(before[1], rec.feature_names):
        return  # warn_if_features_changed says that queries naming it get the import, and what to do
    latest, other = f"{rec.name}@{row[0]}", f"{rec.name}_imported"
    drop = " ".join(shlex.quote(w) for w in ("ad-duckdb", "drop", typedpaths.cli_db(cur), rec.ref))
    notes.warn(
        f"{rec.name!r} now scores with {rec.ref}, imported from {origin!r} ({exported}, created "
        f"{rec.created_at:%Y-%m-%d %H:%M}), a model made before {latest}, the latest version until now: queries, "
        f"dbt runs and servers naming {rec.name!r} use it from their next registration; pin {latest!r} in queries "
        f"that must keep it. To compare the two without that, drop it "
        f"({either(f'ad_duckdb.drop_model(con, {rec.ref!r})', drop)}) and import it under another name instead "
        f"({opt('name', other)}).")


def warn_if_own_thresholds_lacked(cur: Any, rec: ModelRecord, before: Before | bool = True) -> None:
    """Say which thresholds of the user's own (not the ones every training sets) the latest version of the name has
    and the imported model lacks, with how each was set and the command that sets it on the new version.

    Why: a model trained in dev and imported into prod becomes what 'name' means there, and dashboards calling
    is_anomaly_at('name', 'c2', ...) failed from their next registration on, while the import said nothing; a
    retrain has --carry-thresholds for this, an import has only the thresholds in its file. ``before``: what the name
    meant before (``True``: look it up now)."""
    before = store.latest_features(cur, rec.name) if before is True else before
    if before is None or before is False:
        return
    have = {t.name for t in rec.thresholds}
    lacked = [r for r in cur.execute(
        "SELECT threshold_name, method, value, chosen_on FROM ad_thresholds WHERE model = ? AND version = ? ORDER BY "
        "threshold_name", [rec.name, before[0]]).fetchall()
        if r[0] not in have and r[0] not in thresholds.FROM_TRAINING]
    if not lacked:
        return
    old, names = f"{rec.name}@{before[0]}", [r[0] for r in lacked]
    shown = (" or ".join(map(repr, names)) if len(names) <= 2 else
             ", ".join(map(repr, names[:-1])) + f" or {names[-1]!r}")
    how = "; ".join(f"{n!r} ({m}, {v:.6g}{f', on {on}' if on else ''})" for n, m, v, on in lacked)
    first, method = lacked[0][0], lacked[0][1]
    cmd = " ".join(shlex.quote(w) for w in ("ad-duckdb", "threshold", typedpaths.cli_db(cur), rec.name, first, "--method",
                                            method))
    notes.warn(
        f"{rec.name!r} now means {rec.ref}, which has no threshold {shown} that {old} (the latest version until now) "
        f"has: queries calling is_anomaly_at({rec.name!r}, {first!r}, ...) or anomaly_threshold({rec.name!r}, "
        f"{first!r}) fail from their next registration. On {old} they were set so: {how}. Set each on {rec.ref} "
        f"({either(f'ad_duckdb.set_threshold(con, {rec.name!r}, {first!r}, {method!r}, ...)', f'{cmd} ...')}), or pin "
        f"{old!r} in the queries that use them.")


def _members(params: dict[str, Any]) -> str:
    """What a version's ``params`` made of it: one autoencoder, an ensemble, or a multi-scale one."""
    sizes = params.get("code_sizes")
    if isinstance(sizes, list) and sizes:
        return f"a multi-scale ensemble (code_sizes={tuple(sizes)!r})"
    n = params.get("n_models")
    return f"an ensemble of {n} autoencoders with whole codes" if isinstance(n, int) and n > 1 else "one autoencoder"


def warn_if_code_sizes_left_out(cur: Any, rec: ModelRecord) -> None:
    """Say that a training without ``code_sizes`` ends the multi-scale ensemble the latest version of its name was.

    Why: each training takes its own options, so a nightly retrain written from the README's plain example (or an
    old script) silently turned a multi-scale model into one autoencoder, and its scores and their spread changed.
    A first opt-in, or other sizes given, is the user's choice and says nothing.
    """
    if rec.params.get("code_sizes") or not storetables.tables_exist(cur):
        return
    row = cur.execute("SELECT version, params::VARCHAR FROM ad_models WHERE name = ? ORDER BY version DESC LIMIT 1",
                      [rec.name]).fetchone()
    try:
        before = json.loads(row[1]) if row is not None and row[1] else {}
    except ValueError:
        return  # a damaged row, which `list` reports
    sizes = before.get("code_sizes") if isinstance(before, dict) else None
    if not (isinstance(sizes, list) and sizes and all(isinstance(n, int) for n in sizes)):
        return
    old = f"{rec.name}@{row[0]}"
    notes.warn(
        f"{rec.ref!r} is {_members(rec.params)}, but {old!r} was {_members(before)}: each training takes its own "
        f"options, and this one gave no code_sizes. To keep the multi-scale ensemble, train again with "
        f"{opt('code_sizes', ','.join(map(str, sizes)), py=repr(tuple(sizes)))}; pin {old!r} meanwhile.",
    )


def _same_as_latest(cur: Any, rec: ModelRecord) -> ModelRecord | None:
    """The newest stored version of ``rec.name``, or the one the bare name means (a promoted older one), when it holds
    the same graph and each of ``rec``'s thresholds at the same value (and perhaps more thresholds of its own), else
    None.

    Why both: with a version staged (``promote=False``) the newest is not what the name means; a rerun staging the
    same file compared it with the promoted one and stored a copy per run, and a re-import of what the name means
    compared it with the staged one and stored a copy of it."""
    stored = store.known_models(cur).get(rec.name)
    if not stored:
        return None
    sha = store.sha256_hex(rec.onnx)
    for v in dict.fromkeys((max(stored), store.bare_version(cur, rec.name, stored))):
        try:
            held = storeload.load(cur, f"{rec.name}@{v}")
        except AdDuckDBError:
            continue  # a damaged version: the import replaces it as the newest
        if store.sha256_hex(held.onnx) != sha:
            continue
        # Why the stored version may hold more: thresholds set where the file was imported (prod's own 'c2') are not
        # the file's, and a re-run deployment step stored the same graph again without them, so 'c2' failed on what
        # 'tx_ae' meant
        have = {t.name: float(t.value) for t in held.thresholds}
        if all(have.get(t.name) == float(t.value) for t in rec.thresholds):
            return held
    return None
