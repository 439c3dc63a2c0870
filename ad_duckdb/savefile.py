"""Writing an output file (a plot, an exported model) whole or not at all, with an error that names it."""
from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path


def write_whole(path: Path, write: Callable[[Path], object]) -> Path:
    """Call ``write`` on a temporary file beside ``path``, then rename it to ``path``; returns ``path``.

    Why: a write that fails part-way (a full disk, a file size limit, a Ctrl-C) left a truncated file under the real
    name (an empty PNG), and the OSError of a failed write or close carries no file name, so the user read "No space
    left on device." without the file it was about; it is raised again naming ``path``.
    """
    # Why a random part beside the process id: two threads of one process writing the same path shared the name, and
    # the other's write truncated and renamed it mid-way (the file left was half of one)
    tmp = path.with_name(f".{path.name}.{os.getpid()}_{secrets.token_hex(4)}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    except OSError as e:
        if e.filename is None or os.fsdecode(e.filename) == str(tmp):
            raise type(e)(e.errno, e.strerror or str(e), str(path)) from e
        raise
    finally:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            # Why ignored: on a read-only file system unlink fails (EROFS) even when nothing was made, and its error,
            # naming the temporary file, replaced the one above naming ``path``
            pass
    return path
