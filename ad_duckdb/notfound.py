"""The error for a model name or version that is not stored: dropped, trained elsewhere, or misspelt."""

from __future__ import annotations

from collections.abc import Callable

from .closenames import close_names
from .exceptions import ModelNotFoundError
from .modelnames import parse_ref
from .pysource import from_command_line

# How a connection whose functions loaded the models earlier sees the ones stored since
REFRESH_FIX = ("call ad_duckdb.refresh(con) (a running `ad-duckdb serve`: send it SIGHUP; with --snapshot, then "
               "reconnect: a connection keeps the copy it started on)")


def _instead_of_dropped(name: str, version: int, stored: dict[int, tuple[str, list[str]]]) -> str:
    """What to pin in place of the dropped ``name@version``: a stored copy of it (an import of its exported file,
    a rollback: its source reads "imported from FILE (name@version; ...)"), else what each stored version takes.

    Why: its columns went with it, and "pin one of those" left the user to find which version scores the same
    columns, or that the rollback they imported is the very model."""
    mark = f"({name}@{version};"
    copies = [(v, src) for v, (src, _) in sorted(stored.items(), reverse=True)
              if src.startswith("imported from ") and mark in src]
    if copies:
        # Why hedged: the mark names the version the file was exported as, in the database it came from, which
        # may be another one's tx_ae@1 (a dev database's); the dropped version's bytes are gone, so not compared
        said = "; ".join(f"'{name}@{v}' ({src})" for v, src in copies)
        one = len(copies) == 1
        which = repr(f"{name}@{copies[0][0]}") if one else "the one exported from this database"
        return (f" A stored copy of it, if the file came from this database: {said}, "
                f"{'an import' if one else 'imports'} of a file exported as '{name}@{version}'; pin {which} where "
                f"'{name}@{version}' was pinned, to score as it did.")
    sets: dict[tuple[str, ...], int] = {}
    for v, (_, feats) in stored.items():
        sets[tuple(feats)] = max(v, sets.get(tuple(feats), v))
    if not sets:
        return ""
    takes = ", ".join(f"'{name}@{v}' takes ({', '.join(f)})" for f, v in sorted(sets.items(), key=lambda x: -x[1]))
    return (f" Its model went with it (the changelog keeps its columns: ad-duckdb history DB {name}@{version}); pin the version "
            f"that takes the columns your query passes: {takes}.")


def not_found(ref: str, known: dict[str, list[int]], dropped: dict[str, int] | None = None,
              afresh: bool | None = None, stored: dict[int, tuple[str, list[str]]] | None = None,
              train_with: Callable[[str], str] | None = None) -> ModelNotFoundError:
    """The error for a name or version that is not stored. ``dropped`` (``dropped_versions``) tells a dropped version
    or model from one trained elsewhere that this connection has not seen, for which refresh() is the fix.
    ``afresh``: whether ``known`` was read for this very call (a command's own connection), so refresh() is not;
    default: whether the ``ad-duckdb`` command runs this call. ``stored``: the name's stored versions
    (``stored_versions``), for what to pin in place of a dropped one. ``train_with``: how to train the name, where
    the caller is no Python session holding ``con`` (the dbt plugin: a training model, see Registry.train_with)."""
    name, version = parse_ref(ref)
    last = (dropped or {}).get(name)
    listing = ", ".join(repr(k) for k in sorted(known)) or "none yet"
    if last is not None and (version is None and name not in known or
                             version is not None and version <= last and version not in known.get(name, [])):
        if name in known:  # one version dropped, others stored
            vs = ", ".join(str(v) for v in known[name])
            return ModelNotFoundError(
                f"Model '{name}@{version}' was dropped (ad-duckdb drop / drop_model); {name!r} now has "
                f"version{'s' if len(known[name]) > 1 else ''} {vs}. "
                f"Version numbers are never reused: pin "
                f"{'one of those' if len(known[name]) > 1 else repr(f'{name}@{known[name][0]}')}, or use '{name}' "
                f"(its promoted version, else its newest).{_instead_of_dropped(name, version, stored or {}) if version is not None else ''}",
                dropped=True
            )
        what = f"'{name}@{version}'" if version is not None else f"{name!r} (every version, up to {name}@{last})"
        return ModelNotFoundError(
            f"Model {what} was dropped (ad-duckdb drop / drop_model); known models: {listing}. Train {name!r} again "
            f"(it becomes {name}@{last + 1}: version numbers are never reused) or import it (ad-duckdb import).",
            # Why only a version: the name is trained again (a later dbt node may), the dropped number never is
            dropped=version is not None,
        )
    if name in known and version is not None:
        vs = ", ".join(str(v) for v in known[name])
        # Why not on the command line: a command opens the file afresh, so it knows every stored version, and a
        # shell user has no connection to refresh
        elsewhere = "." if (from_command_line() if afresh is None else afresh) else (
            f", or, if it was trained in another connection, {REFRESH_FIX}.")
        return ModelNotFoundError(f"Model {name!r} has no version {version} (versions: {vs}). Use '{name}' (its "
                                  f"promoted version, else its newest){elsewhere}")

    def suggest(k: str) -> str:  # never a version the stored model lacks
        if version is None:
            return repr(k)
        if version in known[k]:
            return repr(f"{k}@{version}")
        return f"{k!r} (versions: {', '.join(str(v) for v in known[k])})"

    same = [k for k in sorted(known) if k.lower() == name.lower()]
    if same:
        # Why say so: column names match in any case (DuckDB's rule), so 'tx_ae' for 'TX_AE' looks like it should too
        return ModelNotFoundError(
            f"No model {name!r} in table ad_models; model names are case-sensitive: did you mean "
            f"{' or '.join(suggest(k) for k in same)}? (known models: {listing})", guessed=True
        )
    close = close_names(name, list(known))
    maybe = f" Did you mean {' or '.join(suggest(k) for k in close)}?" if close else ""
    from .optionwords import either

    return ModelNotFoundError(
        f"No model {name!r} in table ad_models; known models: {listing}.{maybe} "
        f"{'Or train' if maybe else 'Train'} one with "
        f"{train_with(name) if train_with else either('ad_duckdb.train(con, ...)', '`ad-duckdb train`')}.",
        guessed=bool(close),
    )
