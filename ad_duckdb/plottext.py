"""Names as the plots draw them: in characters the fonts matplotlib finds here have, wrapped rather than cut
(cut only in a label beside a line), and the titles that carry them."""

from __future__ import annotations

import textwrap
from functools import lru_cache

import numpy as np

from .numbertext import count_text
from .sqltext import cut


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


def _of(model: str, source: str | None, rows: int, weights: np.ndarray | None = None) -> str:
    """``model on source (N rows)`` for a title (``weights``: and what they stand for). Why the rows: evaluate's
    plots of one model keep their file names from run to run (a test split's replace a training split's), so the
    picture must say what it shows."""
    stood = "" if weights is None else f", weighted {count_text(float(np.sum(weights)))}"
    return f"{model} on {source} ({rows} {'row' if rows == 1 else 'rows'}{stood})" if source else model


def _title(text: str, width_in: float) -> str:
    """``text`` wrapped to lines that fit a figure ``width_in`` inches wide at the title's size. Why: model and
    threshold names run to 128 characters; in one line they ran off both edges of the figure."""
    shown = drawable(text)
    return "\n".join(textwrap.wrap(shown, int(width_in * 9), break_on_hyphens=False)) or shown


def _short(name: str, n: int = 40) -> str:
    """``name`` cut to ``n`` characters for a legend or a label beside a line, whose width tight_layout otherwise
    takes from the axes (a 128-character model name left a sliver of plot); titles carry names whole."""
    return cut(drawable(name), n)
