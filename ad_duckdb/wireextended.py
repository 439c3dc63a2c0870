"""The extended query protocol (``WireExtended``, a part of wirehandler.Handler): Parse, Bind, Describe and Execute of
a client's prepared statements and portals."""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator
from contextlib import contextmanager

from .pgarrayparams import array_cast_oids
from .pgcommands import TXN_WORD
from .pgerrors import ProtocolError, in_failed_transaction
from .pgresult import Portal, Result
from .pgsession import Session
from .pgsql import from_first_word, parameter_casts, typed_parameters
from .pgtypes import decode_param
from .wirerows import WireRows


@contextmanager
def _layout(message: str) -> Iterator[None]:
    """Reading a message's fields: one that ends early or lacks a terminator is PostgreSQL's "invalid message format"
    (08P01), not Python's "unpack requires a buffer of 2 bytes" or "not enough values to unpack" (XX000)."""
    try:
        yield
    except UnicodeDecodeError:
        raise
    except (struct.error, ValueError) as e:
        raise ProtocolError(f"invalid {message} message format ({e})", "08P01") from e


class WireExtended(WireRows):
    """A client's extended protocol messages; the rows of an Execute are WireRows'."""

    def parse(self, s: Session, body: bytes) -> None:
        with _layout("Parse"):
            name, rest = body.split(b"\x00", 1)
            query, rest = rest.split(b"\x00", 1)
            (n,) = struct.unpack("!H", rest[:2])  # unsigned, as PostgreSQL reads it: up to 65,535 parameters
            oids = list(struct.unpack(f"!{n}i", rest[2:2 + 4 * n])) if n else []
        # (the client's own text too: an error quotes it, not the parameters' casts added, pgerrorline)
        # (a parameter cast to an array, $1::text[], takes that type, as PostgreSQL infers it: pgarrayparams)
        s.statements[name.decode()] = (typed_parameters(query.decode(), oids), array_cast_oids(query.decode(), oids),
                                       query.decode())
        s.described.pop(name.decode(), None)
        self.send(b"1")

    def bind(self, s: Session, body: bytes) -> None:
        with _layout("Bind"):
            portal, rest = body.split(b"\x00", 1)
            stmt, rest = rest.split(b"\x00", 1)
        if stmt.decode() not in s.statements:
            raise ProtocolError(f'prepared statement "{stmt.decode()}" does not exist', "26000")
        sql, oids, written = s.statements[stmt.decode()]
        pos = 0

        def i16(fmt: str = "!h") -> int:
            nonlocal pos
            v = struct.unpack(fmt, rest[pos:pos + 2])[0]
            pos += 2
            return int(v)

        with _layout("Bind"):
            # Counts are unsigned, as PostgreSQL reads them: read signed, 32,768 parameters or more came out negative
            formats = [i16() for _ in range(i16("!H"))]
            values: list[bytes | None] = []
            for _ in range(i16("!H")):
                ln = struct.unpack("!i", rest[pos:pos + 4])[0]
                pos += 4
                if ln > len(rest) - pos:
                    raise struct.error("a parameter value runs past the message's end")
                values.append(None if ln < 0 else rest[pos:pos + ln])
                if ln > 0:
                    pos += ln
            result_formats = [i16() for _ in range(i16("!H"))]
        if len(formats) not in (0, 1, len(values)) or any(c not in (0, 1) for c in formats):
            raise ProtocolError(f"Bind gave parameter format codes {formats} for {len(values)} parameters.")
        fmts = [formats[0] if len(formats) == 1 else formats[i] if formats else 0 for i in range(len(values))]
        if any(f == 1 and (i >= len(oids) or not oids[i]) for i, f in enumerate(fmts)):
            # A binary value of a parameter untyped since the statement's Parse: asyncpg without its statement cache
            # (behind PgBouncer) Parses again before each Bind and encodes by the types the first Describe gave.
            # PostgreSQL types parameters at Parse; here they are typed once a binary one needs it (text ones cast).
            oids = self._type_parameters(s, stmt.decode())
        params = []
        for i, raw in enumerate(values):
            fmt = fmts[i]
            params.append(decode_param(raw, oids[i] if i < len(oids) else 0, fmt))
        old = s.portals.get(portal.decode())
        s.forget(old.result if old else None)
        s.portals[portal.decode()] = Portal(sql, params, result_formats, described=s.described.get(stmt.decode()),
                                            written=written)
        self.send(b"2")

    def _run_portal(self, s: Session, p: Portal) -> Result:
        if p.result is None:
            p.result = s.run_one(p.sql, p.params or None, p.written)
        return p.result

    @staticmethod
    def _type_parameters(s: Session, name: str) -> list[int]:
        """The statement ``name``'s parameter types, as its ParameterDescription gives them, kept for Bind (and its
        result columns, in ``s.described``). A parameter the client left untyped takes the type the query casts it
        to ($1::INTEGER), else the one DuckDB binds it as (amount > $1), else 0, text (DuckDB casts text to the type
        the query needs)."""
        sql, oids, written = s.statements[name]
        n = max([len(oids), *(int(x) for x in re.findall(r"\$(\d+)", sql))])
        cols, bound = s.describe(sql, n)
        s.described[name] = cols
        cast = parameter_casts(sql)
        oids = [o or cast.get(i + 1) or bound.get(i + 1, 0) for i, o in enumerate(oids + [0] * (n - len(oids)))]
        s.statements[name] = (sql, oids, written)
        return oids

    def describe(self, s: Session, body: bytes) -> None:
        what, name = body[:1], body[1:].rstrip(b"\x00").decode()
        if what == b"S":
            if name not in s.statements:
                raise ProtocolError(f'prepared statement "{name}" does not exist', "26000")
            oids = self._type_parameters(s, name)
            types = [o or 25 for o in oids]
            self.send(b"t", struct.pack(f"!H{len(types)}i", len(types), *types))
            cols = s.described[name]
        else:
            if name not in s.portals and name in s.cursors.open:
                # psycopg's named cursors DECLARE, then Describe the portal of the cursor's name for its columns
                c = s.cursors.open[name]
                cols = c.source.columns
                if cols is not None:
                    self.row_description(cols, [int(c.binary)] * len(cols))
                    return
            elif name not in s.portals:
                raise ProtocolError(f'portal "{name}" does not exist', "34000")
            else:
                p = s.portals[name]
                r = self._run_portal(s, p)
                # A COMMIT / ROLLBACK ends its transaction's portals, but not itself: its Execute comes next
                s.portals.setdefault(name, p)
                cols = p.described = None if r.copy else r.columns  # COPY: NoData, as in PostgreSQL
            if cols is not None:
                self.row_description(cols, p.formats(len(cols)))
                return
        if cols is None:
            self.send(b"n")
        else:
            self.row_description(cols)

    def execute(self, s: Session, body: bytes) -> None:
        with _layout("Execute"):
            name, rest = body.split(b"\x00", 1)
            (max_rows,) = struct.unpack("!i", rest[:4])
        portal = s.portals.get(name.decode())
        if portal is None:
            raise ProtocolError(f'portal "{name.decode()}" does not exist', "34000")
        if portal.sql.strip().strip(";").strip() == "":
            self.send(b"I")
            return
        if s.status == b"E" and not TXN_WORD.match(from_first_word(portal.sql)):
            raise in_failed_transaction()
        r = self._run_portal(s, portal)
        self.send_notices(s)
        if r.sent == 0 and r.columns is not None and portal.plan_changed(r.columns):
            s.forget(r)
            if s.status == b"T":
                s.status = b"E"  # as any error in a transaction block
            # PostgreSQL's error and routine, on which asyncpg and PgJDBC prepare the statement again and retry
            raise ProtocolError("cached plan must not change result type", "0A000", routine="RevalidateCachedQuery")
        if r.copy_in is not None:
            self.copy_in(s, r, extended=True)
            return
        self.data_rows(r, max_rows, portal.formats(len(r.columns)) if r.columns else None, portal.described)
