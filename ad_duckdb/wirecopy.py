"""COPY's messages (``WireCopy``, a part of wirehandler.Handler): COPY ... FROM STDIN's CopyInResponse and the client's
CopyData loaded as they come (pgcopyin), COPY ... TO STDOUT's CopyOutResponse and CopyData."""

from __future__ import annotations

import struct
import time

from .pgerrors import ProtocolError
from .pgresult import Result
from .pgsession import Session
from .pgstate import TIMEOUT_MESSAGE
from .pgtxn import copy_begin, copy_end
from .wireio import WireIO


class WireCopy(WireIO):
    """COPY in and out of one client."""

    def copy_in(self, s: Session, r: Result, extended: bool) -> None:
        """COPY ... FROM STDIN: CopyInResponse, then the client's CopyData loaded in batches until CopyDone (``COPY
        n``) or CopyFail; all rows or none. After an error the client's remaining CopyData are ignored (the loop
        drops them), as PostgreSQL does."""
        load, r.copy_in = r.copy_in, None  # one run: a second Execute of the portal finds it done
        assert load is not None
        n = len(load.names)
        fmt = int(load.spec.binary)
        self.send(b"G", struct.pack(f"!bh{n}h", fmt, n, *[fmt] * n))
        self.flush()
        s.cancel_requested = False

        def data() -> bytes | None:
            """The next CopyData's bytes; None at CopyDone. (DuckDB calls this from its threads while this one waits
            for the INSERT that reads the rows.)"""
            while True:
                kind, body = self.read_message()
                if s.cancel_requested:
                    raise ProtocolError("canceling statement due to user request", "57014")
                if s.deadline is not None and time.monotonic() > s.deadline:
                    s.timed_out = True
                    raise ProtocolError(TIMEOUT_MESSAGE, "57014")
                if kind == b"d":
                    return body
                if kind == b"c":
                    return None
                if kind == b"f":
                    reason = body.rstrip(b"\x00").decode(errors="replace")
                    raise ProtocolError(f"COPY from stdin failed: {reason}", "57014")
                if kind == b"X":
                    raise ConnectionError("client closed the connection during COPY FROM STDIN")
                if kind not in (b"H", b"S"):  # PostgreSQL ignores Flush and Sync during COPY (libpq may send them)
                    raise ProtocolError(f"unexpected message type 0x{kind[0]:02X} during COPY from stdin", "08P01")

        own = copy_begin(s, extended)
        ok = False
        try:
            count = load.run(data)
            ok = True
        finally:
            copy_end(s, own, ok)
        self.send(b"C", f"COPY {count}".encode() + b"\x00")

    def copy_out(self, r: Result) -> None:
        """COPY ... TO STDOUT: CopyOutResponse, a CopyData per line as the rows are read, CopyDone, ``COPY n``."""
        assert r.copy is not None and r.columns is not None
        n = len(r.columns)
        self.send(b"H", struct.pack(f"!bh{n}h", 0, n, *[0] * n))  # text format, every column
        if r.copy.header:
            self.send(b"d", r.copy.header_line([c[0] for c in r.columns]))
        oids = [c[1] for c in r.columns]
        for row in r.rows:
            self.send(b"d", r.copy.line(row, oids))
            r.sent += 1
        self.send(b"c")
        self.send(b"C", f"COPY {r.sent}".encode() + b"\x00")
