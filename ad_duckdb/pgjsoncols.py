"""Which column names of the database are JSON columns', read once per statement for pgjsonb's ``||``.

Why: pgjsonb asks of each name beside a ``||`` (each side of each operator) whether it is a JSON column's, and
whether the database has a JSON column at all; each question was a scan of ``duckdb_columns()``, every column of every
table. On a warehouse of 2,000 tables (62,000 columns) a scan is ~0.12 s, and ``c1 || ' ' || c2 || ' ' || c3 || ' ' ||
c4`` asked nine times: 1.1 s for a query of 3 ms. One scan gives every name some JSON column has, and whether all
columns of that name are JSON; any other name is no JSON column's."""

from __future__ import annotations

from collections.abc import Callable

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
