"""The `export`, `import` and `dbt-package` commands, added to the CLI by cli.py."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import click

from . import api, dbtpackage, jsonvalues, modelnames, modelsets, setmanifest, store, versioncmds
from .cliargs import _refuse_empty
from .clicommand import _Command
from .clidone import _stored_if_interrupted
from .clifail import EXIT_NO_SOURCE, _failure
from .clinotes import _note, _notes
from .cliopen import _Creation, _exists, _open, _refuse_in_memory, _remove_new_database
from .exceptions import OptionError
from .models import import_record
from .onnxfile import STDIN, file_bytes, read_stream


@click.command("export", cls=_Command)
@click.argument("db")
@click.argument("model")
@click.argument("path", required=False)
@click.option("--replace", is_flag=True, help="Overwrite PATH if it exists.")
@click.option("--all", "every", is_flag=True,
              help="Write every version of every model into the folder DIR (ad-duckdb export DB --all DIR), as "
                   "NAME@VERSION.onnx, with manifest.json naming those files and the version each name means; "
                   "`ad-duckdb import OTHER_DB DIR` stores them all. With --replace, an earlier set's files there go.")
@click.option("--string-inputs", is_flag=True,
              help="A model with text features: the file's graph takes the numeric features as input `numeric` and "
                   "each text column as a string input of its name ('' for NULL), instead of the 0/1 input per "
                   "category the stored graph takes (README, \"The .onnx file\").")
@click.option("--format", "out_format", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="json: for scripts; one object (file, model) for one model, a list of them for --all, each with "
                   "current: whether the bare name means that version.")
def export_cmd(db: str, model: str, path: str | None, replace: bool, every: bool, string_inputs: bool,
               out_format: str) -> None:
    """Write MODEL as a self-contained .onnx file (metadata inside).

    PATH may be a folder: the file is then FOLDER/NAME.onnx, as cp does; a PATH ending in / is a folder,
    created if missing. PATH - writes the file to standard output (for a pipe; refused on a terminal).

    \b
    Examples:
      ad-duckdb export warehouse.duckdb tx_ae tx_ae.onnx
      ad-duckdb export warehouse.duckdb tx_ae@2 models/
      ad-duckdb export warehouse.duckdb --all release/
    """
    if every and string_inputs:
        raise click.UsageError("--string-inputs exports one model: ad-duckdb export DB MODEL PATH --string-inputs; "
                               "--all writes the files import reads back as a set.")
    if every:
        _refuse_empty(model, "DIR", "give the folder to write the models to, e.g. ad-duckdb export DB --all release/")
        if path is not None:
            raise click.UsageError(f"--all exports every model: give only the folder, e.g. ad-duckdb export "
                                   f"{shlex.quote(db)} --all {shlex.quote(path)}.")
        with _open(db, read_only=True) as con:
            written = modelsets.export_all(con, model, replace=replace)
        files = [p for p in written if p.name.endswith(modelsets.SUFFIX)]
        if out_format == "json":
            means = set((setmanifest.read(Path(model)) or ({}, {}))[1].values())
            click.echo(jsonvalues.dumps([{"file": p.name, "model": p.name[:-len(modelsets.SUFFIX)],
                                          "current": p.name[:-len(modelsets.SUFFIX)] in means} for p in files], indent=1))
            return
        click.echo(f"wrote {len(files)} model file{'' if len(files) == 1 else 's'} to {model}")
        return
    if path is None:
        raise click.UsageError(f"Missing argument 'PATH'. ad-duckdb export takes DB MODEL PATH (the .onnx file or "
                               f"folder to write), e.g. ad-duckdb export {shlex.quote(db)} {shlex.quote(model)} "
                               f"{shlex.quote(model.split('@')[0])}.onnx; or --all DIR for every model.")
    _refuse_empty(path, "PATH", f"give the .onnx file or folder to write, e.g. {shlex.quote(model.split('@')[0])}.onnx")
    if path == "-":
        _export_to_stdout(db, model, string_inputs)
        return
    with _open(db, read_only=True) as con, _notes():
        p = api.export_model(con, model, path, replace=replace, string_inputs=string_inputs)
        if out_format == "json":
            click.echo(jsonvalues.dumps({"file": str(p), "model": api.load_model(con, model).ref}, indent=1))
            return
        click.echo(f"wrote {p}")


def _export_to_stdout(db: str, model: str, string_inputs: bool) -> None:
    """``export DB MODEL -``. Why standard output: gzip -c, curl -o - and tar -f - read '-' so, and it was written
    as a file named '-'; a terminal is refused, as gzip refuses, since the bytes would only garble it."""
    if sys.stdout.isatty():
        name = model.split("@", 1)[0]
        raise click.UsageError(
            f"standard output is a terminal, which would show {model}'s .onnx bytes: redirect it "
            f"(ad-duckdb export {shlex.quote(db)} {shlex.quote(model)} - > {name}.onnx) or give a file path.")
    with _open(db, read_only=True) as con:
        data = file_bytes(api.load_model(con, model), string_inputs=string_inputs)
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


@click.command("import", cls=_Command)
@click.argument("db")
@click.argument("path")
@click.option("--name", help="Store under this name (default: the name inside the file).")
@click.option("--format", "out_format", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="json: one object (model: the version to pin here, name, version, stored: false when the latest "
                   "version already is this model, exported_as: the file's own name@version), for scripts; for a "
                   "folder, a list of (file, model, stored, exported_as, current: whether the name means it here).")
@click.option("--promote/--no-promote", default=True, show_default=True,
              help="--no-promote stages the imported version (for a folder, every version of the set): the name "
                   "keeps meaning the version it meant until `ad-duckdb promote DB NAME@N`.")
def import_cmd(db: str, path: str, name: str | None, out_format: str, promote: bool) -> None:
    """Store a model from an .onnx file written by `ad-duckdb export`.

    PATH - reads the file from standard input (refused on a terminal), so
    `ad-duckdb export DB MODEL - | ad-duckdb import OTHER_DB -` copies a model with no file in between.
    PATH a folder (as `ad-duckdb export DB --all DIR` writes): the .onnx files its manifest.json names, all or
    nothing (a folder holding other .onnx files, of another set, is refused; one without manifest.json, written
    by an older build: every .onnx file in it); a file a version here already holds stores nothing, so a re-run
    adds no version.

    \b
    Example:
      ad-duckdb import other.duckdb tx_ae.onnx --name tx_ae
      ad-duckdb import other.duckdb release/
    """
    _refuse_in_memory(db, "import", f"ad-duckdb import models.duckdb {shlex.quote(path)}")
    _refuse_empty(path, "PATH", "give the .onnx file `ad-duckdb export` wrote, e.g. tx_ae.onnx, or the folder `ad-duckdb "
                  "export DB --all DIR` wrote")
    if path == "-" and sys.stdin.isatty():
        # Why refused: the bytes of an .onnx file cannot be typed, and the import would wait for them with no word
        raise click.UsageError(
            f"standard input is a terminal, not an .onnx file: redirect one into it (ad-duckdb import "
            f"{shlex.quote(db)} - < tx_ae.onnx), pipe `ad-duckdb export DB MODEL -` into it, or give the file's path.")
    if _exists(path, EXIT_NO_SOURCE) and Path(path).is_dir():
        _import_folder(db, path, name, out_format, promote)
        return
    creation = _Creation()
    stored = False
    done: list[str] = []
    try:
        with _open(db, create=True, creation=creation) as con, _notes():
            # read once: standard input cannot be read again
            rec = read_stream(sys.stdin.buffer) if path == "-" else api.read_onnx_file(Path(path))
            exported = rec.ref
            target = name or exported.split("@")[0]
            before = {m["version"] for m in api.list_models(con) if m["name"] == target}
            with _stored_if_interrupted(con, target) as done:
                info = import_record(con, rec, STDIN if path == "-" else Path(path).name, name, promote=promote)
                stored = True
            # Why say the file's ref: version numbers start again in each database, so a query here pinned to the
            # exported 'tx_ae@3' would score with whatever this database numbered 3
                if out_format == "json":
                    click.echo(jsonvalues.dumps({"model": info.ref, "name": info.name, "version": info.version,
                                                 "stored": info.version not in before, "exported_as": exported},
                                                indent=1))
                    return
                moved = f" (exported as {exported}: pin {info.ref!r} here)" if exported != info.ref else ""
                # the same model as the latest version stores nothing (a note says so): not "stored" on stdout
                click.echo(f"already stored {info.ref}{moved}" if info.version in before else f"stored {info.ref}{moved}")
                # an already stored version may be a staged one: say so too (the name did not move)
                staged = versioncmds.staged_line(con, info.name, info.version)
                if staged:
                    click.echo(staged)
    except BaseException:
        if creation.ours and not stored and not done:  # as train: a refused file must not leave an empty database behind
            _remove_new_database(db)
        raise


def _import_folder(db: str, path: str, name: str | None, out_format: str, promote: bool) -> None:
    """``import DB DIR``: the set ``export --all`` wrote, all or nothing (``modelsets.import_folder``)."""
    if not any(p.name.endswith(modelsets.SUFFIX) for p in Path(path).iterdir()):
        raise click.ClickException(
            f"{path!r} is a folder, not a model file, and holds no .onnx file: give the .onnx file that "
            f"`ad-duckdb export` wrote, e.g. {str(Path(path) / 'tx_ae.onnx')!r}, or the folder `ad-duckdb export DB "
            "--all DIR` wrote.")
    if name is not None:
        raise click.UsageError(f"--name renames one model; {path!r} is a folder of models, stored under their own "
                               "names: import one file of it to rename it.")
    creation = _Creation()
    done: list[tuple[str, str, bool]] = []
    means: dict[str, tuple[str, str]] = {}
    current: set[str] = set()
    exported: dict[str, str] = {}
    staged: list[str] = []
    try:
        with _open(db, create=True, creation=creation) as con, _notes():
            done = modelsets.import_folder(con, path, means, exported, promote=promote)
            known = store.known_models(con)
            current = {f"{n}@{store.bare_version(con, n, known[n])}" for n in {ref.split("@")[0] for _, ref, _ in done}}
            # a staged set (--no-promote): per name, what it still means and how to promote the set's newest
            newest = {n: v for _, ref, stored in done if stored for n, v in [modelnames.parse_ref(ref)]}
            staged = [line for n, v in sorted(newest.items()) if v is not None
                      and (line := versioncmds.staged_line(con, n, v)) is not None]
    except BaseException:
        if creation.ours:  # nothing was stored: leave no empty database behind
            _remove_new_database(db)
        raise
    if out_format == "json":
        # Why exported_as and current: version numbers start again in each database, and a deployment script must
        # know which version each name means here after the set (current.json's names too)
        click.echo(jsonvalues.dumps([{"file": f, "model": ref, "stored": stored, "exported_as": exported[f],
                                      "current": ref in current} for f, ref, stored in done], indent=1))
        return
    for f, ref, stored in done:
        click.echo(f"{'stored' if stored else 'already stored'} {ref} from {f}")
    for name, (ref, theirs) in sorted(means.items()):
        click.echo(f"{name!r} means {ref} (the set's {theirs}), as where the set was exported")
    for line in staged:
        click.echo(line)


@click.command("dbt-package", cls=_Command)
@click.option("--copy-to", "copy_to", metavar="DIR",
              help="Copy the package into DIR (created; an earlier copy there is replaced) instead of printing its path: "
                   "for a project whose machines install ad_duckdb in different places. packages.yml then says "
                   "local: DIR (relative to the project's folder). Copy again after upgrading ad_duckdb.")
def dbt_package(copy_to: str | None) -> None:
    """Print the folder of the dbt package ad_duckdb (its macros) for a dbt project's packages.yml.

    Name it in packages.yml (beside dbt_project.yml) and run `dbt deps`, which links the folder, so the macros follow
    upgrades of ad_duckdb. Call them with the package's name in front, e.g. in a hook
    {{ ad_duckdb.set_threshold('tx_ae', 'cut', 'contamination', target=0.02) }}. The profile needs the plugin too
    (module: ad_duckdb.dbt).

    \b
    Examples:
      ad-duckdb dbt-package
      ad-duckdb dbt-package --copy-to vendor/ad_duckdb
    then packages.yml says  packages: [{local: PRINTED_PATH}]  (or local: vendor/ad_duckdb), and after dbt deps:
      dbt run-operation ad_duckdb.set_threshold --args "{model: tx_ae, name: cut, method: manual, value: 12}"
    """
    if dbtpackage.missing_dbt_duckdb():
        # Why said: the macros call the plugin's functions, which this Python cannot load without dbt-duckdb
        _note("dbt-duckdb is not installed in this Python environment; the profile's plugin (module: ad_duckdb.dbt), "
              "which the macros need, must run in the Python that runs dbt: pip install 'ad_duckdb[dbt]' there.")
    _refuse_empty(copy_to, "--copy-to", "give the folder to copy the package into, e.g. --copy-to vendor/ad_duckdb")
    if copy_to is None:
        click.echo(str(dbtpackage.package_dir()))
        return
    try:
        copied = dbtpackage.copy_package(copy_to)
    except OptionError as e:
        raise _failure(str(e), e) from None
    except OSError as e:
        raise _failure(f"could not copy the dbt package to {copy_to!r}: {e.strerror or e} ({e.filename or copy_to}); "
                       f"give a folder you can write, e.g. vendor/ad_duckdb in the dbt project.", e) from None
    click.echo(f"copied the dbt package ad_duckdb {dbtpackage.package_version(copied)} to {copied}; add it to the "
               f"project's packages.yml (beside dbt_project.yml), then run dbt deps:\npackages:\n"
               f"  - local: {dbtpackage.local_path(copied)}")
