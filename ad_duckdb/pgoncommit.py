"""PostgreSQL's ``CREATE TEMPORARY TABLE ... ON COMMIT DROP`` and ``ON COMMIT DELETE ROWS`` for ``ad-duckdb serve``:
DuckDB keeps a temporary table's rows until the session ends (its only action is PRESERVE ROWS), so the session
(pgsession) does the other two itself, just before each COMMIT, in the transaction that commits.

Tables are known by DuckDB's oid, which a RENAME or ALTER keeps and a new table of a dropped one's name does not
share: the clause goes with the table, as in PostgreSQL, never with its name.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from .pgsql import OnCommit, _ident, _words, from_first_word, keyword_tag
from .sqltext import quote_ident

# The session's temporary tables among the oids given, by name (a table dropped since, or rolled back, is absent).
_FIND_SQL = "SELECT table_oid, table_name FROM duckdb_tables() WHERE temporary AND list_contains(?, table_oid)"
# Statements that can add rows to a table (UPDATE and DELETE never do, and the tables are empty when a transaction
# starts): may_fill tells which may fill an ON COMMIT DELETE ROWS table. In autocommit such a statement runs in a
# transaction of its own, whose commit empties them (pgsession.Session.run); a commit after none skips the work.
WRITES = frozenset(("INSERT", "MERGE", "COPY", "WITH", "EXECUTE", "CALL"))
# The word before the table they write: INSERT INTO t, MERGE INTO t, COPY t FROM.
_TARGET_AFTER = {"INSERT": "into", "WITH": "into", "MERGE": "into", "COPY": "copy"}


def _oid(cur: duckdb.DuckDBPyConnection, name: str) -> int | None:
    rows = cur.execute("SELECT table_oid FROM duckdb_tables() WHERE temporary AND lower(table_name) = ?",
                       [name]).fetchall()
    return int(rows[0][0]) if rows else None


class OnCommitTables:
    """A session's temporary tables with ON COMMIT DROP or DELETE ROWS, by oid."""

    def __init__(self) -> None:
        self.tables: dict[int, str] = {}  # oid -> DROP or DELETE ROWS
        self.new: set[int] = set()  # created in the open transaction: gone if it rolls back
        # Whether a statement of the open transaction may have added rows to one (may_fill), or made one with rows
        # (CREATE ... AS): the next commit empties them, one without does not need to.
        self.filled = False
        self._names: set[str] | None = None  # the tables' names, lower case; None: to be read again (a RENAME)

    def may_fill(self, cur: duckdb.DuckDBPyConnection, sql: str, before_lookup: Callable[[], None] = lambda: None) -> bool:
        """Whether ``sql`` may add rows to one of the tables: an INSERT, MERGE or COPY whose target's name is one of
        theirs (not knowing the schema it resolves to, a name alike is enough), an EXECUTE or CALL (the statement
        they run is not known). Why: each write paid a transaction, a lookup and a DELETE per table, an INSERT into
        any other table too. ``before_lookup`` runs before the lookup of their names on ``cur`` (once after each
        change: a commit, a RENAME)."""
        head = keyword_tag(sql)
        if not self.tables or head not in WRITES:
            return False
        if head not in _TARGET_AFTER:
            return True
        try:
            words = _words(from_first_word(sql))
        except duckdb.Error:
            return True
        low = [w.lower() for _, w, _ in words]
        if _TARGET_AFTER[head] not in low:
            return head != "WITH"  # WITH ... SELECT writes nothing
        i = low.index(_TARGET_AFTER[head]) + 1
        while i + 2 < len(words) and low[i + 1] == ".":
            i += 2  # temp.main.name: its last part names it
        if i >= len(words):
            return True
        if self._names is None:
            before_lookup()
            self._names = {str(n).lower() for n in self._found(cur).values()}
        return _ident(words[i][1]) in self._names

    def altered(self) -> None:
        """An ALTER ran: a table may have another name now."""
        self._names = None

    def _found(self, cur: duckdb.DuckDBPyConnection) -> dict[int, str]:
        return dict(cur.execute(_FIND_SQL, [list(self.tables)]).fetchall())

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
        self.filled, self._names = True, None  # (CREATE ... AS: with rows)
        if in_transaction:
            self.new.add(oid)

    def commit(self, cur: duckdb.DuckDBPyConnection) -> None:
        """Just before COMMIT, in the transaction that commits: drop the ON COMMIT DROP tables, empty the ON COMMIT
        DELETE ROWS ones."""
        if not self.tables or not self.filled and "DROP" not in self.tables.values():
            return  # nothing added rows to them since the last commit, and none is dropped
        names = self._found(cur)
        self._names = None
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
            self._names = None
        self.new.clear()
        self.filled = False

    def clear(self) -> None:
        """DISCARD TEMP / ALL dropped every temporary table."""
        self.tables.clear()
        self.new.clear()
        self._names = None
