"""The server's own read lock on each ``serve --attach`` file, held from start to stop whatever its backends close.

Why: DuckDB locks a database file with POSIX record locks (fcntl F_SETLK), which belong to the process, not to the
handle: closing any handle of the file lets go of the lock every other handle of the process relied on (measured,
DuckDB 2.0). A --snapshot SIGHUP reload attaches the files again on its new backend, and closing the old backend
(or a new one that failed after attaching them) left the files served with no lock, so a writer opened one while the
server still read it. An open-file-description lock (Linux F_OFD_SETLK) belongs to its own descriptor instead:
closing another handle leaves it held, and a writer's DuckDB conflicts with it as with DuckDB's own read lock.
"""

from __future__ import annotations

import logging
import os
import struct
import sys
from collections.abc import Sequence

from .exceptions import DatabaseLockedError, DatabaseUnavailableError

try:
    import fcntl
except ImportError:  # Windows: DuckDB's LockFileEx locks belong to each handle, so nothing is let go there
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("ad_duckdb")

# The command only where _lock's layout is the kernel's (64-bit Linux); elsewhere the POSIX lock alone (renew)
_OFD_SETLK: int | None = (getattr(fcntl, "F_OFD_SETLK", None) if fcntl is not None and sys.platform == "linux"
                          and struct.calcsize("P") == 8 else None)


def _lock(kind: int) -> bytes:
    """Linux's struct flock over the whole file (length 0), as DuckDB locks it: l_type, l_whence (short), l_start,
    l_len (off_t), l_pid (pid_t, 0 for an OFD lock)."""
    return struct.pack("hhqqi4x", kind, os.SEEK_SET, 0, 0, 0)


class HeldFiles:
    """A read-only descriptor of each file, locked until ``release``."""

    def __init__(self, paths: Sequence[str]) -> None:
        """Taken while a backend has the files attached (its lock keeps writers off meanwhile), so none can be held
        by a writer here; one that is anyway raises DatabaseLockedError."""
        self._paths = list(paths)
        self._fds: list[int] = []
        if fcntl is None:
            return
        try:
            for path in paths:
                try:
                    fd = os.open(path, os.O_RDONLY)
                except OSError as e:  # removed or made unreadable since the backend attached it
                    raise DatabaseUnavailableError(
                        f"Cannot hold --attach {path!r} open read-only ({e.strerror}); check that the file is still "
                        "there and readable, then start the server again.") from e
                self._fds.append(fd)
                try:
                    if _OFD_SETLK is not None:
                        fcntl.fcntl(fd, _OFD_SETLK, _lock(fcntl.F_RDLCK))
                    fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                except OSError as e:
                    raise DatabaseLockedError(
                        f"Cannot hold --attach {path!r} read-only: another process has it open for writing "
                        f"({e.strerror}); wait for it to finish, then start the server again.") from e
        except BaseException:
            self.release()
            raise

    def renew(self) -> None:
        """Take the process's POSIX read lock again, after a backend's handle of a file closed and let go of it.

        Why, beside the OFD lock that keeps writers off: DuckDB names the holder of the first lock it meets in a
        refused writer's error, "Conflicting lock is held in ... (PID 1234)" for a POSIX lock, "PID -1" for an OFD
        one; the OFD lock is taken again after the POSIX one so that the POSIX one comes first (Linux lists a file's
        locks in the order taken). Meanwhile the POSIX lock keeps writers off. Where there is no OFD lock (macOS, 32-bit),
        the POSIX lock alone takes the file back, a moment after the close. The caller serialises this with the
        closes of its backends, whose close would let go of the POSIX lock between the two steps.
        """
        if fcntl is None:
            return
        for path, fd in zip(self._paths, self._fds, strict=True):
            try:
                fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                if _OFD_SETLK is not None:
                    fcntl.fcntl(fd, _OFD_SETLK, _lock(fcntl.F_UNLCK))
                    fcntl.fcntl(fd, _OFD_SETLK, _lock(fcntl.F_RDLCK))
            except OSError as e:  # only where the close left the file unlocked (no OFD lock) and a writer took it
                log.warning("--attach %r: a process took it for writing while served (%s); stop the server, let the "
                            "writer finish, and start the server again", path, e.strerror)

    def release(self) -> None:
        fds, self._fds, self._paths = self._fds, [], []
        for fd in fds:
            os.close(fd)
