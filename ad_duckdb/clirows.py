"""A command's rows printed as a table, csv or json."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

import click

from . import jsonvalues, texttable
from .clinotes import _note
from .texttable import csv_cell as _csv_cell
from .texttable import one_line as _one_line


def _write_rows(names: list[str], batches: Iterable[list[tuple[Any, ...]]], out_format: str) -> None:
    """Rows as csv, or as one JSON array of objects, written batch by batch as they come (``_stream_rows``)."""
    if out_format == "csv":
        import csv

        # Why \n, not the csv module's \r\n: a \r left on the last column broke `awk -F, '$NF == "ok"'` and `cut`;
        # DuckDB's COPY ... TO and psql --csv end rows so too, and every CSV reader takes it.
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(names)
        for rows in batches:
            w.writerows([_csv_cell(v) for v in r] for r in rows)
        return
    opening = "[\n "
    names = _distinct_names(names)
    for rows in batches:
        # the text json.dumps(all_rows, indent=1) writes, a batch at a time (a JSON string holds no raw line break)
        if rows:
            sys.stdout.write(opening + ",\n ".join(jsonvalues.row_objects(names, rows)))
            opening = ",\n "
    sys.stdout.write("[]\n" if opening == "[\n " else "\n]\n")


def _distinct_names(names: list[str]) -> list[str]:
    """``names`` as DuckDB names a subquery's columns: a repeated one (case aside) gets ``_1``, ``_2``, ...

    Why: JSON objects hold one value per key, so a self-join's `SELECT a.count, b.count` lost a column."""
    seen: set[str] = set()
    repeats: dict[str, int] = {}
    distinct = []
    for name in names:
        new, key = name, name.lower()
        if key in seen:
            k = repeats.get(key, 0) + 1
            while f"{key}_{k}" in seen:
                k += 1
            repeats[key] = k
            new = f"{name}_{k}"
        seen.add(new.lower())
        distinct.append(new)
    return distinct


def _print_rows(names: list[str], rows: list[tuple[Any, ...]], out_format: str = "table",
                fit_width: int | None = None) -> None:
    """A command's rows as a table (``texttable.table``), or csv or json. ``fit_width``: the terminal's width, which
    a wider table fits by hiding its middle columns behind a '…' column, with a note on stderr."""
    if out_format in ("csv", "json"):
        _write_rows(names, [rows], out_format)
        return
    shown = texttable.table(names, rows, fit_width)
    for line in shown.lines:
        click.echo(line)
    cut = shown.hidden
    if cut:
        # on stderr, as the prompt's other notes: the table on stdout stays the result's
        which = cut[0] if len(cut) == 1 else f"{cut[0]} … {cut[-1]}"
        values = f" and the values of {_one_line(names[0])!r} cut" if shown.first_cut else ""
        _note(f"{len(cut)} of {len(names)} columns hidden ({which}){values} to fit the terminal's "
              f"{fit_width} columns; every column{' whole' if shown.first_cut else ''}: .mode csv or json at the "
              "prompt, --format csv or json on the command line, or a pipe (| less -S).")


# Above this many features `score --top`'s table leaves them out (unless -c names columns to show)
_TOP_FEATURES_SHOWN = 20
