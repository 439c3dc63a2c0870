"""Every model of a database at once: ``export_all`` writes each version (thresholds and goals inside, as
``export_model`` does) to a folder, and ``import_folder`` stores such a folder in another database, all or nothing.

Why: moving a set of models between machines took one export and one import per version, in the right order by
hand, and an import failing halfway left half the set stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from . import (
    canwrite,
    interrupts,
    jsonvalues,
    lifecycle,
    notes,
    onnxfile,
    setmanifest,
    setnotes,
    store,
    storeload,
    storesave,
    storetables,
    thresholds,
    typedpaths,
)
from .connarg import check_connection
from .exceptions import BadInputError, IntegrityError
from .optionwords import opt
from .store import ModelRecord
from .udfs import refresh

SUFFIX = ".onnx"
# Which version each name means where it is not the newest (promoted, rolled back): {"tx_ae": "tx_ae@1"}. Why a file
# beside the models: which version a name means belongs to the database, not to any one model's file
CURRENT = "current.json"


def export_all(con: duckdb.DuckDBPyConnection, folder: str | Path, *, replace: bool = False) -> list[Path]:
    """Write every version of every model to ``folder`` (created if missing) as ``NAME@VERSION.onnx``; returns the
    paths written. An existing file there is replaced only with ``replace=True``, and then none is written
    unless all can be: the existing ones are named first."""
    con = check_connection(con, "export_all")
    cur = interrupts.cursor(con)
    try:
        known = store.known_models(cur)
        refs = [f"{name}@{v}" for name, versions in sorted(known.items()) for v in sorted(versions)]
        # Why all read before any is written: a damaged version found halfway left half the set in the folder
        recs = [_checked(cur, ref) for ref in refs]
        pins = lifecycle.promoted(cur)
        every = {name: f"{name}@{lifecycle.bare_version(sorted(versions), pins.get(name))}"
                 for name, versions in sorted(known.items())}
        means = {name: ref for name, ref in every.items() if ref != f"{name}@{max(known[name])}"}
        # Why said: in a database the name is new to, rollback has no version it meant before there to go to
        back = {name: f"{name}@{v}" for name, versions in sorted(known.items())
                if (v := lifecycle.rollback_target(cur, name, sorted(versions))) is not None}
        database = typedpaths.cli_db(cur)
    finally:
        cur.close()
    if not refs:
        raise BadInputError("The database holds no model to export; train one first (ad-duckdb train ...).")
    out = Path(folder)
    if out.exists() and not out.is_dir():
        raise BadInputError(f"{str(out)!r} is a file; export --all writes one file per model version into a folder.")
    there = [f"{ref}{SUFFIX}" for ref in refs if (out / f"{ref}{SUFFIX}").exists()]
    there += [f for f in (CURRENT, setmanifest.NAME) if (out / f).exists()]
    if there and not replace:
        raise BadInputError(f"{str(out)!r} already holds {', '.join(there[:5])}"
                            f"{' ...' if len(there) > 5 else ''}; pass {opt('replace', True)} to overwrite, "
                            "or export to an empty folder.")
    earlier = _earlier_set(out) if replace else []
    mine = {f"{ref}{SUFFIX}" for ref in refs}
    others = sorted(p.name for p in out.iterdir() if p.name.endswith(SUFFIX) and p.name not in mine
                    and p.name not in earlier) if out.is_dir() else []
    if others:
        # Why refused: `import DIR` reads one set, and would refuse the folder; a file not written by an export is
        # the user's, never removed
        raise BadInputError(f"{str(out)!r} holds {', '.join(others[:5])}{' ...' if len(others) > 5 else ''}, not of "
                            "this set (another export's, or your own): nothing was exported. Export to an empty "
                            "folder, or move them out of it.")
    out.mkdir(parents=True, exist_ok=True)
    written = [onnxfile.write_file(rec, out / f"{rec.ref}{SUFFIX}", replace=replace) for rec in recs]
    for f in earlier:  # the earlier set's files this one has not replaced: an import would mix them in
        if f not in mine:
            (out / f).unlink(missing_ok=True)
    (out / CURRENT).unlink(missing_ok=True)  # an earlier export's (replace=True) must not outlive its set
    if means:
        (out / CURRENT).write_text(jsonvalues.dumps(means, indent=1) + "\n")
    # Why current.json stays beside the manifest: a build before the manifest reads which version each name means there
    setmanifest.write(out, written, every, back, database)
    return [*written, *([out / CURRENT] if means else []), out / setmanifest.NAME]


def _earlier_set(out: Path) -> list[str]:
    """The model files the manifest in ``out`` lists (an earlier ``export --all`` there), which ``replace`` replaces;
    [] without one, or with one that cannot be read (its files are then left, and named if not of the new set)."""
    try:
        got = setmanifest.read(out) if out.is_dir() else None
    except BadInputError:
        return []
    return [f for f in got[0] if f.endswith(SUFFIX) and "/" not in f and "\\" not in f] if got else []


def _checked(cur: Any, ref: str) -> ModelRecord:
    try:
        return storeload.load(cur, ref)
    except IntegrityError as e:
        raise IntegrityError(f"{e} Nothing was exported: drop {ref} (ad-duckdb drop DB {ref} --yes), or export the "
                             "other versions one by one (ad-duckdb export DB NAME@VERSION DIR/).") from e


def import_folder(con: duckdb.DuckDBPyConnection, folder: str | Path,
                  means: dict[str, tuple[str, str]] | None = None,
                  exported_as: dict[str, str] | None = None, *, promote: bool = True) -> list[tuple[str, str, bool]]:
    """Store every ``.onnx`` file of ``folder`` (as ``export_all`` writes them), each name's versions in their
    exported order, in one transaction: a file that cannot be read or stored stores none of the set. A file whose
    graph and thresholds a version of its name here already holds stores nothing, so a re-run adds no version.
    Returns (file, version here, stored) per file. Each name the set stores a version of comes to mean the version
    it meant where the set was exported (its newest, or the one ``current.json`` names), moved once from what it
    meant here (which ``rollback`` goes back to); the set's other versions are staged. A name the set stores nothing
    of keeps its meaning. ``promote=False`` (CLI: ``--no-promote``) stages them all: each name keeps meaning what it
    meant here (a name new here means the set's version, as a first training does). ``means`` gets, per name of
    ``current.json`` meaning its version here, (the version here, the set's), and ``exported_as``, per file, the
    set's version it holds (its name@version there)."""
    from .models import import_checks

    con = check_connection(con, "import_folder")
    path = Path(folder)
    files = sorted(p for p in path.iterdir() if p.name.endswith(SUFFIX)) if path.is_dir() else []
    if not files:
        raise BadInputError(f"{str(path)!r} holds no {SUFFIX} file; give the folder `ad-duckdb export DB --all DIR` "
                            "wrote, or one model file.")
    manifest = setmanifest.read(path)
    if manifest is not None:
        files = setmanifest.files_of_set(path, [p.name for p in files], manifest[0])
    recs: list[tuple[Path, ModelRecord]] = []
    for p in files:
        rec = onnxfile.read_file(p)  # any file refused: nothing stored
        if manifest is not None:
            setmanifest.check_file(p, manifest[0])
        import_checks(rec, p.name)
        recs.append((p, rec))
    recs.sort(key=lambda pr: (pr[1].name, pr[1].version))
    wanted = _wanted(path)
    if manifest is not None:
        wanted = _means_of(path, manifest[1], [rec for _, rec in recs], wanted)
    here: dict[str, str] = {}  # the set's ref -> the version here holding it
    made: dict[str, tuple[str, str, ModelRecord]] = {}  # the ref here -> (its file, the set's ref, the record stored)
    done: list[tuple[str, str, bool]] = []
    cur = interrupts.cursor(con)
    try:
        storetables.ensure_schema(cur)
        canwrite.check_can_write(cur, f"Cannot store the models of {str(path)!r}")
        with storetables.transaction(cur):
            before = {name: setnotes.meant(cur, name) for name in dict.fromkeys(rec.name for _, rec in recs)}
            known = store.known_models(cur)
            was = {name: store.bare_version(cur, name, known[name]) if name in known else None for name in before}
            new: dict[str, list[int]] = {}  # per name, the versions the set stores
            newest: dict[str, str] = {}  # per name, the set's newest version (recs come sorted)
            for p, rec in recs:
                exported = rec.ref
                newest[rec.name] = exported
                if exported_as is not None:
                    exported_as[p.name] = exported
                held = _held(cur, rec)
                if held is not None:
                    done.append((p.name, held, False))
                    here[exported] = held
                    made[held] = (p.name, exported, rec)
                    continue
                rec.source = f"imported from {p.name} ({rec.ref}; {rec.source})"
                rec.carried, rec.imported_from = thresholds.users_own(rec.thresholds), p.name
                storesave.insert_next(cur, rec)
                new.setdefault(rec.name, []).append(rec.version)
                done.append((p.name, rec.ref, True))
                here[exported] = rec.ref
                made[rec.ref] = (p.name, exported, rec)
            for name, ref in wanted.items():
                if ref not in here:
                    raise BadInputError(f"{str(path / CURRENT)!r} says {name!r} means {ref}, but the folder holds no "
                                        f"{ref}{SUFFIX}; export the set again (ad-duckdb export DB --all DIR --replace).")
            # Why only names the set stored a version of: a re-run stores nothing, and must not undo what was done
            # here since (a rollback after the deploy)
            for name, versions in new.items():
                final = int(here[wanted.get(name, newest[name])].rpartition("@")[2])
                back = was[name]
                if not promote and back is not None:
                    final = back
                if back is None and manifest is not None and manifest[2].get(name) in here:
                    # new here: rollback goes where it goes where the set was exported
                    back = int(here[manifest[2][name]].rpartition("@")[2])
                lifecycle.on_set_store(cur, name, versions, final, back)
            for name, ref in wanted.items():
                stored = store.known_models(cur)[name]
                if means is not None and f"{name}@{store.bare_version(cur, name, stored)}" == here[ref]:
                    means[name] = (here[ref], ref)
            # Why after the set is stored, against what each name meant before it: the notes one file's import gives
            # (other columns, the user's thresholds lacked, an older model) are of what the name comes to mean, and
            # a set's older versions are never that; in the transaction, so a note made an error stores nothing
            setnotes.warn_moved(cur, before, made)
    finally:
        cur.close()
    if not any(stored for _, _, stored in done):
        notes.warn(f"Every model of {str(path)!r} is already stored here; nothing imported.")
    refresh(con, changed_only=True)
    return done


def _wanted(path: Path) -> dict[str, str]:
    """``current.json`` of the set at ``path``: name -> the set's version it means; {} without the file."""
    file = path / CURRENT
    if not file.exists():
        return {}
    try:
        got = jsonvalues.loads(file.read_text())
    except (OSError, ValueError) as e:
        raise BadInputError(f"{str(file)!r} cannot be read ({e}); export the set again (ad-duckdb export DB --all DIR "
                            "--replace), or delete the file to let each name mean its newest version.") from e
    if not isinstance(got, dict) or not all(isinstance(k, str) and isinstance(v, str) and v.startswith(f"{k}@")
                                            and v.rpartition("@")[2].isdigit() for k, v in got.items()):
        raise BadInputError(f"{str(file)!r} is not a map of names to versions ({{\"tx_ae\": \"tx_ae@1\"}}); export the "
                            "set again (ad-duckdb export DB --all DIR --replace), or delete the file.")
    return got


def _means_of(path: Path, means: dict[str, str], recs: list[ModelRecord], current: dict[str, str]) -> dict[str, str]:
    """The names of the manifest's ``means`` that mean another version than their newest in the set (as
    ``current.json`` lists them); refuses a ``current.json`` that says otherwise (another set's, copied in)."""
    newest: dict[str, str] = {}
    for rec in recs:
        newest[rec.name] = rec.ref  # recs come sorted by name and version
    wanted = {name: ref for name, ref in means.items() if ref != newest.get(name)}
    bad = sorted(set(means) - set(newest)) + sorted(n for n, r in wanted.items() if r.rpartition("@")[0] != n)
    if bad:
        raise BadInputError(f"{str(path / setmanifest.NAME)!r} names {', '.join(map(repr, bad))}, of no file of the set "
                            "as it says; export the set again into an empty folder (ad-duckdb export DB --all DIR).")
    if (path / CURRENT).exists() and current != wanted:
        raise BadInputError(f"{str(path / CURRENT)!r} is not the one of this set's {setmanifest.NAME} (another set's, "
                            "copied into the folder?); nothing was imported: export the set again into an empty folder "
                            "(ad-duckdb export DB --all DIR).")
    return wanted


def _held(cur: Any, rec: ModelRecord) -> str | None:
    """The version of ``rec.name`` here holding the same graph and each of ``rec``'s thresholds at the same value
    (it may have more, set here), else None. Why any version, not the latest as one import checks: a set's older
    versions are stored before its newer ones, so at a re-run each but the last is older than the latest."""
    sha = store.sha256_hex(rec.onnx)
    want = {t.name: float(t.value) for t in rec.thresholds}
    rows = cur.execute("SELECT version FROM ad_models WHERE name = ? AND sha256 = ? ORDER BY version DESC",
                       [rec.name, sha]).fetchall()
    for (version,) in rows:
        have = dict(cur.execute("SELECT threshold_name, value FROM ad_thresholds WHERE model = ? AND version = ?",
                                [rec.name, version]).fetchall())
        if all(have.get(k) == v for k, v in want.items()):
            return f"{rec.name}@{version}"
    return None
