"""Names as the plots draw them: in characters the fonts matplotlib finds here have, wrapped rather than cut."""

from __future__ import annotations

import textwrap
from functools import lru_cache


@lru_cache(maxsize=1)
def _glyphs() -> frozenset[int]:
    """The characters the fonts of matplotlib's sans-serif list installed here have (matplotlib falls back along that
    list, glyph by glyph), and its default font's."""
    from matplotlib import rcParams
    from matplotlib.font_manager import FontProperties, findfont, fontManager
    from matplotlib.ft2font import FT2Font

    families = set(rcParams["font.sans-serif"])
    paths = {f.fname for f in fontManager.ttflist if f.name in families} | {findfont(FontProperties())}
    codes: set[int] = set()
    for p in paths:
        try:
            codes.update(FT2Font(p).get_charmap())
        except (OSError, RuntimeError, ValueError):  # a font file that will not open draws nothing either
            continue
    return frozenset(codes)


def drawable(text: str) -> str:
    """``text`` with each character no font here has written as its ``\\u`` escape (as Python's ``ascii()`` writes
    it). Why: a model named in Chinese on a server with DejaVu Sans alone was drawn as empty boxes that told
    nothing, and matplotlib warned 'Glyph 24322 missing from font(s)' for each character, an error under -W error;
    the escape names the character, one that can be pasted into Python. Cyrillic and Greek, which DejaVu has, stay."""
    have = _glyphs()
    if all(ord(ch) in have or ch.isspace() for ch in text):
        return text
    return "".join(ch if ord(ch) in have or ch.isspace() else ch.encode("unicode_escape").decode("ascii") for ch in text)


def wrapped(text: str, width: int) -> str:
    """``text`` (drawable) in lines of at most ``width`` characters, a name longer than a line broken within it.
    Why not cut: two thresholds chosen on labels, named alike for their first 40 characters, read the same."""
    shown = drawable(text)
    return "\n".join(textwrap.wrap(shown, width, break_on_hyphens=False)) or shown
