"""The legend below a histogram: the thresholds listed in it, and the labels with no room above the bars moved to
it."""

from __future__ import annotations

from typing import Any

from .plotaxes import _count_axis
from .plottext import wrapped
from .thresholdmarks import _DASHES, _LISTED_CHARS, _THRESHOLD_COLOURS


def _list_thresholds(ax: Any, entries: list[tuple[Any, str]], drop: float) -> None:
    """A legend below the axes (``drop``: its top, in axes heights below them) of the data's entries and the
    thresholds `_mark_thresholds` listed, two columns; the figure taller by its rows."""
    if not entries:
        return
    styles = [(str(ln.get_color()), str(ln.get_linestyle())) for ln in ax.lines]
    if len(set(styles)) < len(styles):
        from matplotlib.lines import Line2D

        # Why: past 28 thresholds (7 colours, 4 dashes) a listed threshold's colour and dash are another line's too
        entries = [*entries, (Line2D([], [], ls="none"), wrapped(
            f"line styles repeat past {len(_THRESHOLD_COLOURS) * len(_DASHES)} thresholds: tell a listed one's line "
            "by its value on the score axis", _LISTED_CHARS))]
    ax.legend([h for h, _ in entries], [x for _, x in entries], fontsize=7, loc="upper center",
              bbox_to_anchor=(0.5, drop), ncol=2)
    ax.figure.set_figheight(ax.figure.get_figheight() + _LEGEND_ROW_IN * _legend_rows(entries))


# The height a row of the two-column legend below a histogram adds to the figure, in inches
_LEGEND_ROW_IN = 0.15


def _legend_rows(entries: list[tuple[Any, str]]) -> int:
    """The text lines of the two-column legend of ``entries``."""
    return sum(max(x.count("\n") + 1 for _, x in entries[k:k + 2]) for k in range(0, len(entries), 2))


class _Legend:
    """The legend below a histogram's axes: the data's entries and the thresholds `_mark_thresholds` listed, to
    which labels with no room beside their lines are added (``add``), thresholds by value; the figure as tall as
    before any legend plus the legend's rows."""

    def __init__(self, ax: Any, data: list[tuple[Any, str]], beside: list[tuple[Any, tuple[Any, str]]],
                 listed: list[tuple[Any, str]]) -> None:
        self.ax, self.data = ax, list(data)
        self.order = [whole for _, whole in beside]  # every threshold's entry, by value
        self.listed = list(listed)
        self.height = ax.figure.get_figheight() - (_legend_rows([*data, *listed]) * _LEGEND_ROW_IN if listed else 0.0)

    def add(self, more: list[tuple[Any, str]]) -> None:
        self.listed += [e for e in more if all(e is not x for x in self.listed)]  # a cut name's is listed already
        ranked = [e for e in self.order if any(e is x for x in self.listed)]
        self.ax.figure.set_figheight(self.height)
        _list_thresholds(self.ax, [*self.data, *ranked], -0.13)


def _laid_out_below_labels(fig: Any, ax: Any, rows: int | None = None,
                           beside: list[tuple[Any, tuple[Any, str]]] | None = None,
                           legend: _Legend | None = None) -> None:
    """``fig`` laid out, its bars clear of the threshold labels (see `labelroom`); ``rows``: those of the log
    row-count axis, which reaches no higher, and whose ticks are chosen again for its new top. Twice: ticks of a
    taller axis can be wider, and the axes narrower for them, so the labels a little wider against it.

    ``beside``: each threshold's label (None: in the legend only) with its legend entry; a label still over a bar
    once the axis is as tall as it may be goes to the ``legend`` instead, whole, and the labels under it move up
    into the rows left (`labelroom.unplaced`), the default threshold's kept first. Why:
    with 14 thresholds the lowest labels stepped down over the bulk's bars in white boxes, hiding their tops."""
    from . import labelroom

    fig.tight_layout()
    first = ax.get_ylim()
    for _ in range(len(beside or ()) + 1):
        for _ in range(2):
            labelroom.clear_of_bars(ax, rows if ax.get_yscale() == "log" else None)
            if rows:
                _count_axis(ax)
            fig.tight_layout()
        if legend is None or beside is None:
            return
        drawn = [(t, whole) for t, whole in beside if t is not None]
        if not labelroom.covering(ax, [t for t, _ in drawn]):
            break
        over = labelroom.unplaced(ax, [t for t, _ in drawn], _default_label(drawn))
        if not over:  # clear by the rows' own measure (a gap of points): nothing to move
            break
        _to_legend(over, beside, legend)
        ax.set_ylim(*first)  # the room measured again, for the labels left
    if legend is None or beside is None:
        return
    # last, what no row can clear: a label over another text of the axes ('no rows to draw') goes to the legend
    drawn = [(t, whole) for t, whole in beside if t is not None]
    hit = labelroom.colliding(ax, [t for t, _ in drawn], _default_label(drawn))
    if hit:
        for t in hit:
            t.remove()
        _to_legend(hit, beside, legend)
        fig.tight_layout()


def _default_label(drawn: list[tuple[Any, tuple[Any, str]]]) -> Any | None:
    """The label of the threshold group holding ``default`` among ``drawn`` (label, legend entry), if drawn."""
    return next((t for t, (_, text) in drawn if "default" in text.split(" > ")[0].split(" = ")), None)


def _to_legend(gone: list[Any], beside: list[tuple[Any, tuple[Any, str]]], legend: _Legend) -> None:
    """The labels ``gone`` (taken off the axes) listed in ``legend`` instead, and marked in ``beside`` as listed."""
    legend.add([whole for t, whole in beside if t is not None and any(t is o for o in gone)])
    beside[:] = [(None if any(t is o for o in gone) else t, whole) for t, whole in beside]
