"""``ad-duckdb explain``'s lines for people, kept within WIDTH characters: a line that would run longer continues on
the next ones, indented, broken between words (a number, a quoted name or a ``name=value`` cell is never cut).
WIDTH counts terminal columns, not characters: a CJK character takes two (``textwidth``), and cut by characters a
line of Japanese names ran to twice the width, folded by the terminal mid-word.

Why: a column's line (its share, bar, value, median, typical range and where the value stands) ran 130-190
characters, and a 150-column row's ``row`` line 3,500, which an 80-100 column terminal folds mid-word, mixing the
columns' lines. ``--format json|csv`` are for scripts and keep every value on one line.
"""

from __future__ import annotations

import re

from .textwidth import width as shown_width

WIDTH = 100
# Continuation lines of a column's line start under its share, at most this far in (a long column name would
# otherwise leave a narrow strip)
MAX_HANG = 24


def wrapped(text: str, first: str = "  ", rest: str = "    ", width: int = WIDTH) -> list[str]:
    """``text`` in lines of at most ``width`` terminal columns (longer only where one word is), the first indented
    by ``first``, the others by ``rest``; spaces between words on a line are kept (a column's aligned share and bar),
    those where a line breaks dropped.

    Why not textwrap: it counts characters, and a CJK character takes two columns."""
    lines: list[str] = []
    lead = text[:len(text) - len(text.lstrip())]
    line, used, words = first + lead, shown_width(first + lead), 0
    gap = ""
    for chunk in re.split(r"(\s+)", text.strip()):
        if not chunk:
            continue
        if chunk.isspace():
            gap = " " * len(chunk)  # a line break or tab in a value as one space each, as textwrap did
            continue
        w = shown_width(chunk)
        if words and used + len(gap) + w > width:
            lines.append(line)
            line, used = rest + chunk, shown_width(rest) + w
        else:
            line, used = line + (gap if words else "") + chunk, used + (len(gap) if words else 0) + w
        words += 1
    lines.append(line)
    return lines if words else [first.rstrip()]


def column_lines(head: str, detail: str, name_width: int) -> list[str]:
    """A column's line: ``head`` (name, share, bar) and ``detail`` (in parentheses) on one line where they fit, else
    the detail continued under the share."""
    line = f"{head}  {detail}"
    if shown_width(line) <= WIDTH:
        return [line]
    hang = " " * min(2 + name_width + 1, MAX_HANG)
    return wrapped(line, first="", rest=hang)


def row_lines(cells: list[str]) -> list[str]:
    """The ``row`` line's ``name=value`` cells, as many on a line as fit, the next lines indented."""
    lines: list[str] = []
    line = "row"
    for i, cell in enumerate(cells):
        sep = " " if i == 0 else ", "
        if i and shown_width(line) + len(sep) + shown_width(cell) + 1 > WIDTH:  # + 1: the comma ending the line
            lines.append(line + ",")
            line = "    " + cell
        else:
            line += sep + cell
    return [*lines, line]
