"""``manifest.json``: the files one ``export --all`` wrote (each with its sha256) and the version each name means, so
that ``import DB DIR`` reads exactly that set.

Why: the import took every ``.onnx`` of the folder, so two sets copied into one folder (``cp set_b/* set_a/``), or a
file of one set copied over the other's of the same name, were stored as one set, each name's versions mixed. A
folder without the file (written by a build before it) is read as that build read it: every ``.onnx`` in it, with
``current.json`` (which the manifest does not replace, so that such a build still reads this build's sets).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

from . import jsonvalues
from .exceptions import BadInputError
from .savefile import write_whole

NAME = "manifest.json"
_KIND = "ad_duckdb model set"
_AGAIN = "export the set again into an empty folder (ad-duckdb export DB --all DIR)"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write(folder: Path, files: list[Path], means: dict[str, str], back: dict[str, str], database: str | None) -> Path:
    """Write the manifest of the set ``files`` (in ``folder``); ``means``: every name's version; ``back``: the version
    ``rollback`` makes each name mean where the set is exported (names with one)."""
    body = {"kind": _KIND, "format": 1, "exported_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "database": database, "files": {p.name: digest(p) for p in files}, "means": dict(sorted(means.items())),
            "rolls_back_to": dict(sorted(back.items()))}
    text = jsonvalues.dumps(body, indent=1) + "\n"
    return write_whole(folder / NAME, lambda t: t.write_text(text))


def read(folder: Path) -> tuple[dict[str, str], dict[str, str], dict[str, str]] | None:
    """(file -> sha256, name -> the version it means, name -> the version it rolls back to) of the set in
    ``folder``; None without a manifest."""
    file = folder / NAME
    if not file.exists():
        return None
    try:
        got = jsonvalues.loads(file.read_text())
    except (OSError, ValueError) as e:
        raise BadInputError(f"{str(file)!r} cannot be read ({e}); {_AGAIN}.") from e
    files, means, back = ((got.get("files"), got.get("means"), got.get("rolls_back_to", {})) if isinstance(got, dict)
                          else (None, None, None))
    if (not isinstance(got, dict) or got.get("kind") != _KIND or not isinstance(files, dict) or not files
            or not isinstance(means, dict) or not isinstance(back, dict)
            or not all(isinstance(k, str) and isinstance(v, str) for k, v in [*files.items(), *means.items(),
                                                                             *back.items()])):
        raise BadInputError(f"{str(file)!r} is not the manifest `ad-duckdb export DB --all DIR` writes (a list of the "
                            f"set's files); {_AGAIN}, or delete it to import every .onnx file of the folder.")
    return files, means, back


def files_of_set(folder: Path, on_disk: list[str], files: dict[str, str]) -> list[Path]:
    """The set's files in ``folder`` (``on_disk``: the names of its ``.onnx`` files): refuses a folder holding files
    the manifest does not list, or lacking one it lists."""
    where = f"{str(folder)!r}"
    extra = sorted(set(on_disk) - set(files))
    if extra:
        raise BadInputError(
            f"{where} holds {_some(extra)}, not of this set: its {NAME} (the set `export --all` wrote there last) does "
            f"not list {'it' if len(extra) == 1 else 'them'}, so {'it is' if len(extra) == 1 else 'they are'} another "
            f"set's (copied into the folder) or added by hand. Nothing was imported: move them to a folder of their own "
            f"(import that one after), or {_AGAIN}.")
    lacking = sorted(set(files) - set(on_disk))
    if lacking:
        raise BadInputError(f"{where} lacks {_some(lacking)}, which its {NAME} lists (a copy cut short?); nothing was "
                            f"imported: copy the whole folder again, or {_AGAIN}.")
    return [folder / f for f in sorted(files)]


def check_file(path: Path, files: dict[str, str]) -> None:
    """Refuse a file of the set whose content is not the one the manifest lists. Why after the file is read: a file
    cut short or damaged is said so by the read, more precisely than "not the file the export wrote"."""
    if digest(path) != files[path.name]:
        raise BadInputError(f"{path.name} is not the file the set's export wrote (its sha256 is not the one {NAME} "
                            f"lists): another set's file of the same name was copied over it, or it was changed. "
                            f"Nothing was imported: {_AGAIN}.")


def _some(names: list[str]) -> str:
    return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
