"""How many terminal columns text takes, for the tables the commands print.

Why: a CJK character (and a fullwidth one) takes two columns and a combining accent none, so a table padded by
characters shifted every column after such a cell, as DuckDB's own box renderer does not.
"""

from __future__ import annotations

import unicodedata


def width(text: str) -> int:
    """Terminal columns ``text`` takes: 2 for an East Asian wide or fullwidth character, 0 for a combining mark."""
    if text.isascii():  # almost every cell: no per-character lookup
        return len(text)
    return sum(_char_width(c) for c in text)


def _char_width(c: str) -> int:
    if unicodedata.combining(c) or unicodedata.category(c) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1


def ljust(text: str, columns: int) -> str:
    """``text`` padded with spaces to ``columns`` terminal columns."""
    return text + " " * (columns - width(text))


def rjust(text: str, columns: int) -> str:
    """``text`` padded on the left with spaces to ``columns`` terminal columns."""
    return " " * (columns - width(text)) + text


def fit(text: str, columns: int) -> int:
    """How many of ``text``'s first characters fit in ``columns`` terminal columns (with the marks that follow the
    last of them)."""
    used = 0
    for i, c in enumerate(text):
        used += _char_width(c)
        if used > columns:
            return i
    return len(text)
