"""Which column names of the database are JSON columns', read once per statement for pgjsonb's ``||``, and kept by
the session while the catalogue stays as it was (JsonNamesCache).

Why: pgjsonb asks of each name beside a ``||`` (each side of each operator) whether it is a JSON column's, and
whether the database has a JSON column at all; each question was a scan of ``duckdb_columns()``, every column of every
table. On a warehouse of 2,000 tables (62,000 columns) a scan is ~0.12 s, and ``c1 || ' ' || c2 || ' ' || c3 || ' ' ||
c4`` asked nine times: 1.1 s for a query of 3 ms. One scan gives every name some JSON column has, and whether all
columns of that name are JSON; any other name is no JSON column's. Once per statement still cost a scan for each
statement with an undecided ``||`` (~0.12 s of a 3 ms query, every time); the session keeps what it read until a
statement of any session may have changed the catalogue (pgcatalogversion)."""

from __future__ import annotations

from collections.abc import Callable

from .pgcatalogversion import VERSION

# name (lower case) -> whether every column of that name is JSON, for each name some JSON column has (temporary
# tables' too; DuckDB's own views aside: duckdb_tables' tags is a MAP)
JSON_NAMES_SQL = ("SELECT lower(column_name), bool_and(data_type = 'JSON') FROM duckdb_columns() WHERE NOT internal "
                  "GROUP BY 1 HAVING bool_or(data_type = 'JSON')")


class JsonColumns:
    """One statement's view of the JSON column names: ``read`` runs JSON_NAMES_SQL (its rows; None where the
    transaction has failed, when no name is JSON), at most once, and only when a question is asked."""

    def __init__(self, read: Callable[[], list[tuple[str, bool]] | None]) -> None:
        self._read = read
        self._names: dict[str, bool] | None = None

    def _all(self) -> dict[str, bool]:
        if self._names is None:
            self._names = dict(self._read() or [])
        return self._names

    def column(self, name: str) -> bool | None:
        """Whether every column named ``name`` (lower case) is JSON: True; some of them, not all: None; none (or no
        column of that name): False."""
        every = self._all().get(name)
        return False if every is None else True if every else None

    def any(self) -> bool:
        """Whether the database has a JSON column."""
        return bool(self._all())


class JsonNamesCache:
    """A session's JSON column names (JSON_NAMES_SQL's rows), kept while the catalogue's version (pgcatalogversion)
    stays. Rows read in a transaction block are its snapshot's, which may predate a change committed since (and the
    version bumped at that commit): they are dropped when the block ends (``transaction_ended``)."""

    def __init__(self) -> None:
        self._rows: list[tuple[str, bool]] | None = None
        self._version = -1
        self._in_block = False

    def read(self, read: Callable[[], list[tuple[str, bool]] | None], in_block: bool) -> list[tuple[str, bool]] | None:
        """The rows as of the catalogue's version now: the kept ones, or ``read()``'s (kept unless None: a failed
        transaction reads nothing)."""
        version = VERSION.now()  # (before the read: a change committed while it runs bumps past it)
        if self._rows is not None and self._version == version:
            return self._rows
        rows = read()
        if rows is not None:
            self._rows, self._version, self._in_block = rows, version, in_block
        return rows

    def transaction_ended(self) -> None:
        """The session's transaction block ended: rows read in it are dropped."""
        if self._in_block:
            self._rows, self._in_block = None, False
