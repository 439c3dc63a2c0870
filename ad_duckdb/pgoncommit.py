"""PostgreSQL's ``CREATE TEMPORARY TABLE ... ON COMMIT DROP`` and ``ON COMMIT DELETE ROWS`` for ``ad-duckdb serve``:
DuckDB keeps a temporary table's rows until the session ends (its only action is PRESERVE ROWS), so the session
(pgsession) does the other two itself, just before each COMMIT, in the transaction that commits.

Tables are known by DuckDB's oid, which a RENAME or ALTER keeps and a new table of a dropped one's name does not
share: the clause goes with the table, as in PostgreSQL, never with its name.
"""

from __future__ import annotations

import duckdb

from .pgsql import OnCommit
from .sqltext import quote_ident

# The session's temporary tables among the oids given, by name (a table dropped since, or rolled back, is absent).
_FIND_SQL = "SELECT table_oid, table_name FROM duckdb_tables() WHERE temporary AND list_contains(?, table_oid)"
# Statements that can add rows to a table: in autocommit, each runs in a transaction of its own, whose commit
# empties the ON COMMIT DELETE ROWS tables (pgsession.Session.run); any other leaves them empty as they were.
WRITES = frozenset(("INSERT", "UPDATE", "DELETE", "MERGE", "COPY", "WITH", "EXECUTE", "CALL"))


def _oid(cur: duckdb.DuckDBPyConnection, name: str) -> int | None:
    rows = cur.execute("SELECT table_oid FROM duckdb_tables() WHERE temporary AND lower(table_name) = ?",
                       [name]).fetchall()
    return int(rows[0][0]) if rows else None


class OnCommitTables:
    """A session's temporary tables with ON COMMIT DROP or DELETE ROWS, by oid."""

    def __init__(self) -> None:
        self.tables: dict[int, str] = {}  # oid -> DROP or DELETE ROWS
        self.new: set[int] = set()  # created in the open transaction: gone if it rolls back

    def before(self, cur: duckdb.DuckDBPyConnection, clause: OnCommit) -> int | None:
        """Before CREATE ... IF NOT EXISTS runs: the oid of a table of that name that exists already (which keeps
        its own ON COMMIT, as in PostgreSQL); None otherwise."""
        return _oid(cur, clause.name) if clause.if_not_exists else None

    def created(self, cur: duckdb.DuckDBPyConnection, clause: OnCommit, existed: int | None,
                in_transaction: bool) -> None:
        """The CREATE ran: remember its table."""
        oid = _oid(cur, clause.name)
        if oid is None or oid == existed:
            return
        self.tables[oid] = clause.action
        if in_transaction:
            self.new.add(oid)

    def commit(self, cur: duckdb.DuckDBPyConnection) -> None:
        """Just before COMMIT, in the transaction that commits: drop the ON COMMIT DROP tables, empty the ON COMMIT
        DELETE ROWS ones."""
        if not self.tables:
            return
        names = dict(cur.execute(_FIND_SQL, [list(self.tables)]).fetchall())
        for oid, action in list(self.tables.items()):
            name = names.get(oid)
            if name is None or action == "DROP":
                del self.tables[oid]  # dropped since (or rolled back), or dropped now
            if name is not None and action == "DROP":
                cur.execute(f"DROP TABLE temp.main.{quote_ident(name)}")
            elif name is not None:
                cur.execute(f"DELETE FROM temp.main.{quote_ident(name)}")

    def ended(self, committed: bool) -> None:
        """The transaction ended: a table created in it is gone unless it committed."""
        if not committed:
            for oid in self.new:
                self.tables.pop(oid, None)
        self.new.clear()

    def clear(self) -> None:
        """DISCARD TEMP / ALL dropped every temporary table."""
        self.tables.clear()
        self.new.clear()
