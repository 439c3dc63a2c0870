"""Replacing spans of a statement given by its tokens' offsets, nested ones too: the spans after and inside a span
first, as a rewrite that runs from the end of a statement to its start makes them.

Why: such a rewrite keeps the offsets before each span it replaces, but a span it met earlier may lie inside a later
one (``round(avg(x))``, ``f(x::text)::text``): the outer span's end and its inner parts moved, and slicing the
statement at the tokens' offsets cut a word in two ('VARCHpg_text'). Offsets here stay the original statement's and
are moved past each replacement made before them.
"""

from __future__ import annotations


class Edits:
    """A statement and the replacements made in it, each of a span of the original statement's offsets."""

    def __init__(self, sql: str) -> None:
        self.sql = sql
        self._done: list[tuple[int, int, int]] = []  # each replacement's original start and end, and its new length

    def at(self, pos: int) -> int:
        """Where the original offset ``pos`` is now (a replacement's start stays its start)."""
        return pos + sum(n - (end - start) for start, end, n in self._done if end <= pos)

    def text(self, start: int, end: int) -> str:
        """The current text of the original span from ``start`` to ``end``."""
        return self.sql[self.at(start):self.at(end)]

    def replace(self, start: int, end: int, new: str) -> None:
        """The original span from ``start`` to ``end`` (holding any replacement made inside it) as ``new``."""
        a, b = self.at(start), self.at(end)
        self.sql = f"{self.sql[:a]}{new}{self.sql[b:]}"
        self._done = [d for d in self._done if not (start <= d[0] and d[1] <= end)]
        self._done.append((start, end, len(new)))
