"""Text Python decoded under an ASCII locale, back to the UTF-8 it was.

Why: without Python's UTF-8 mode (PYTHONUTF8=0, or an embedding) an ASCII locale such as a bare cron
environment's LC_ALL=C decodes command-line arguments and standard input as ASCII, keeping each other byte as a
lone surrogate. DuckDB takes only text it can encode as UTF-8, so a query holding 'Zürich' failed with a TypeError
traceback. The bytes are almost always UTF-8 (what the shell, the editor and DuckDB write).
"""

from __future__ import annotations


def as_utf8(text: str, encoding: str, what: str) -> str:
    """``text`` as decoded with ``encoding`` and surrogateescape, re-read as UTF-8; text without surrogates as it is.

    Raises ValueError naming ``what`` (e.g. "argument 2") when its bytes are not UTF-8 either.
    """
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        raw = text.encode(encoding, "surrogateescape")
    except (UnicodeEncodeError, LookupError):
        raw = text.encode("utf-8", "surrogateescape")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        shown = raw[max(0, e.start - 20):e.start + 20].decode("utf-8", "backslashreplace")
        raise ValueError(
            f"{what} is not UTF-8 text (byte {raw[e.start]:#04x} in {shown!r}): write it as UTF-8, or run the "
            "command with a UTF-8 locale (LC_ALL=C.UTF-8) if your terminal sends another encoding.") from None
