"""A result to the client (``WireRows``, a part of wirehandler.Handler): its RowDescription, its rows as DataRow
messages in text or binary, as many as an Execute asks for, and its command tag."""

from __future__ import annotations

import struct

from .pgerrors import ProtocolError
from .pgresult import Result
from .pgtypes import as_told, encode_binary, encode_text
from .wirecopy import WireCopy


class WireRows(WireCopy):
    """A result's columns and rows; a COPY ... TO STDOUT's are WireCopy's."""

    def row_description(self, cols: list[tuple[str, int, int]], formats: list[int] | None = None) -> None:
        body = struct.pack("!h", len(cols))
        for i, (name, oid, size) in enumerate(cols):
            body += name.encode() + b"\x00" + struct.pack("!ihihih", 0, 0, oid, size, -1, formats[i] if formats else 0)
        self.send(b"T", body)

    def data_rows(self, r: Result, max_rows: int, formats: list[int] | None = None,
                  described: list[tuple[str, int, int]] | None = None) -> None:
        if r.copy is not None:
            self.copy_out(r)
            return
        if r.columns is None:
            self.send(b"C", r.tag.encode() + b"\x00")
            return
        # Binary where the client asked for it (JDBC does from a statement's fifth run on, psycopg's binary cursors).
        encoders = [encode_binary if formats and formats[i] else encode_text for i in range(len(r.columns))]
        oids = [c[1] for c in r.columns]
        # The client decodes by the types it was told at Describe; a run whose parameters changed a column's type
        # is sent as that type, or refused, never as bytes of another type.
        told = [c[1] for c in described] if described and len(described) == len(oids) else oids
        page = 0  # rows sent by this Execute (its row limit counts these, not the portal's total)
        for row in r.rows:
            body = bytearray(struct.pack("!h", len(row)))
            for i, (v, oid, enc) in enumerate(zip(row, oids, encoders, strict=True)):
                if v is None:
                    body += b"\xff\xff\xff\xff"
                    continue
                if told[i] != oid:
                    v, oid = as_told(v, oid, told[i], r.columns[i][0]), told[i]
                try:
                    t = enc(v, oid)
                except (struct.error, OverflowError) as e:
                    raise ProtocolError(f"Column {r.columns[i][0]!r}: {v!r} does not fit type OID {oid} ({e}); cast it in "
                                        "the query.", "22003") from e
                body += struct.pack("!i", len(t)) + t
            self.send(b"D", bytes(body))
            r.sent += 1
            page += 1
            if max_rows and page == max_rows:
                self.send(b"s")  # PortalSuspended: the client asks for more with another Execute
                return
        # PostgreSQL's tags count rows, also those of INSERT / UPDATE / DELETE ... RETURNING
        tag = {"SELECT": f"SELECT {r.sent}", "INSERT": f"INSERT 0 {r.sent}", "UPDATE": f"UPDATE {r.sent}",
               "DELETE": f"DELETE {r.sent}", "FETCH": f"FETCH {r.sent}"}.get(r.tag, r.tag)
        self.send(b"C", tag.encode() + b"\x00")
