"""Tables as the commands print them (aligned columns, numbers to the right, cells on one line) and the values in
them as text: shared by the CLI and the library objects that print as the CLI does (``compare_versions``'s answer)."""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from . import jsonvalues, textwidth


class Number(str):
    """A number already written as text (a share to fixed decimals, '-' for none), which a table right-aligns as the
    number it is, where other text stays left."""


CELL_WIDTH = 60


# Why: a line break or tab in a cell split the row or shifted the columns after it; DuckDB's own box renderer shows
# them escaped the same way.
_CONTROL_ESCAPES = str.maketrans({"\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v", "\f": "\\f"})


@dataclass
class Table:
    """A table's lines as the commands print them, and what was left out to fit a terminal's width."""

    lines: list[str]
    hidden: list[str]  # the names of the columns hidden behind the '…' column
    first_cut: bool  # whether the first column's values were cut to fit beside it


def table(names: list[str], rows: list[tuple[Any, ...]], fit_width: int | None = None) -> Table:
    """Numeric columns right-aligned, as psql and DuckDB's shell print a query's result, in every command's table
    and in the text of ``compare_versions``'s answer. ``fit_width``: the terminal's width, which a wider table fits
    by hiding its middle columns behind a '…' column (as DuckDB's shell does)."""

    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return float_text(v)
        if isinstance(v, list) and v and isinstance(v[0], dict) and "share" in v[0]:
            return ", ".join(f"{d['feature']} {d['share']:.0%}" for d in v)
        return cell_text(v)

    names = [one_line(n) for n in names]
    cells = [[clip(one_line(fmt(v))) for v in r] for r in rows]
    widths = [min(CELL_WIDTH, max([textwidth.width(n)] + [textwidth.width(c[i]) for c in cells]))
              for i, n in enumerate(names)]
    pads = [textwidth.rjust if numeric_column(rows, i) else textwidth.ljust
            for i in range(len(names))]
    shown = _columns_that_fit(widths, fit_width) if fit_width else list(range(len(names)))
    # the first column is kept however wide: beside the '…' it is cut to what the terminal leaves, else each row
    # wrapped over lines, no column under its name (a lone column wraps with nothing to misalign: whole)
    first_cut = fit_width is not None and None in shown and widths[0] + 3 > fit_width
    if first_cut and fit_width is not None:
        widths[0] = max(2, fit_width - 3)
        names[0] = clip(names[0], widths[0])
        for c in cells:
            c[0] = clip(c[0], widths[0])

    def line(texts: Sequence[str], hidden: str) -> str:
        return "  ".join(hidden if i is None else pads[i](texts[i], widths[i]) for i in shown)

    return Table([line(names, "…"), line(["-" * w for w in widths], "-"), *(line(c, "…") for c in cells)],
                 [n for i, n in enumerate(names) if i not in shown], first_cut)


def numeric_column(rows: list[tuple[Any, ...]], i: int) -> bool:
    """Whether column ``i`` holds numbers (integers, decimals, floats, Number texts; NULLs aside), which a table
    right-aligns."""
    # Why by the column's set of types: an isinstance per value took a tenth of printing 100k rows
    kinds = {type(r[i]) for r in rows} - {type(None)}
    return bool(kinds) and all(issubclass(k, (int, float, decimal.Decimal, Number)) and not issubclass(k, bool)
                               for k in kinds)


def _columns_that_fit(widths: list[int], limit: int) -> list[int | None]:
    """The columns a table ``limit`` terminal columns wide shows: all if they fit, else the first and last ones that
    fit, taken in turn from either end, with None for a '…' column where the rest are hidden. Why both ends: the
    first columns name the row (an id) and a query's last ones are often what it computed (a score). An end whose next
    column does not fit leaves the turn to the other: a wide column hid the narrow ones past it, which fit."""
    if sum(widths) + 2 * (len(widths) - 1) <= limit or len(widths) < 2:
        return list(range(len(widths)))
    left: list[int] = [0]  # the first column at least, however wide
    right: list[int] = []
    used = widths[0] + 3  # the '…' column and its gap
    # (never every column: with them all and the '…' the table would be wider than it is whole, which does not fit)
    while True:
        for side in ((right, left) if len(right) < len(left) else (left, right)):
            k = len(widths) - 1 - len(right) if side is right else len(left)
            if used + widths[k] + 2 <= limit:
                used += widths[k] + 2
                side.append(k)
                break
        else:
            return [*left, None, *reversed(right)]


def float_text(v: float) -> str:
    """A float as tables print it: whole when it has at most 10 significant digits, else to 6.

    Why not .6g alone: an amount of 1234567.89 read 1.23457e+06. Short by its digits, not its length: a float32
    score (344.35400390625) printed whole among 6-digit neighbours."""
    whole = repr(v)
    digits = len(whole.lstrip("-").replace(".", "").lstrip("0"))
    return whole if digits <= 10 and "e" not in whole else f"{v:.6g}"


def figure(v: float) -> str:
    """A share or rate to 3 decimals, or 3 significant digits below 0.01. Why: a flag budget's 2 rows in 3060 printed
    as "flagged_share 0.001" (0.00065), and 1 row in 10,000 as 0.000, read as flagging none."""
    return f"{v:.3f}" if v == 0 or abs(v) >= 0.01 else f"{v:.3g}"


def csv_cell(v: Any) -> Any:
    # Lists, structs and maps (anomaly_explain) as JSON, which any CSV reader's consumer can parse; the
    # csv module alone would write Python's repr, with single quotes.
    if isinstance(v, dict | list | tuple):
        return jsonvalues.dumps(v)
    # BLOBs and INTERVALs as the json format writes them (PostgreSQL's \x hex, '3 days 04:05:06.000000'): the csv
    # module would write Python's b'\x01\xff' and '3 days, 4:05:06'
    if isinstance(v, bytes | bytearray | memoryview | datetime.timedelta):
        return jsonvalues.jsonable(v)
    if isinstance(v, bool):
        return "true" if v else "false"  # as DuckDB's COPY ... (FORMAT csv) writes them, not Python's True/False
    return v


def cell_text(v: Any) -> str:
    """A value as the table and explain's row line show it: SQL's words (NULL, true, \\x01ff, '3 days 04:05:06'),
    lists and structs as JSON. Why: Python's str gave b'x25', '25 days, 0:00:00' (a comma inside one value of a
    comma-separated row line), False and None."""
    if v is None:
        return "NULL"
    return str(csv_cell(v))


def one_line(text: str) -> str:
    """``text`` with its line breaks and tabs written as ``\\n``, ``\\r``, ``\\t``: one aligned line per row."""
    return text.translate(_CONTROL_ESCAPES)


def clip(text: str, width: int = CELL_WIDTH) -> str:
    """``text`` cut to ``width`` characters, at a word or list boundary when one is near, ending in an ellipsis.

    Why: a cell cut mid-word ("..., count 0%, am") reads as a value; the ellipsis says there is more.
    """
    if textwidth.width(text) <= width:
        return text
    end = textwidth.fit(text, width - 1)  # in terminal columns: a CJK character takes two
    comma = text.rfind(", ", 0, end)  # anomaly_explain's "feature share" items: whole items only
    if comma >= 0 and textwidth.width(text[:comma]) >= width // 2:
        return text[:comma] + ", …"
    space = text.rfind(" ", 0, end)
    if space >= 0 and textwidth.width(text[:space]) >= width // 2:
        return text[:space] + "…"
    return text[:end] + "…"
