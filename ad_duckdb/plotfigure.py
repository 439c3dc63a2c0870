"""A figure and its axes for a plot, outside pyplot."""

from __future__ import annotations

from typing import Any


def _subplots(model: str, figsize: tuple[float, float], ncols: int = 1) -> tuple[Any, Any]:
    """A figure and its axes, outside pyplot. Why not pyplot: choosing its backend (``matplotlib.use("Agg")``, as
    before) switched the caller's own, so in a notebook or a GUI session ``plt.show()`` stopped showing plots after
    the first ``evaluate(plots_dir=...)``; a bare Figure draws to a file with no backend chosen, and nothing to
    close. A ``NotebookFigure``, so that the ones returned show in a notebook as pictures. ``ncols`` > 1: an array
    of that many axes side by side."""
    try:
        from .shownfigure import NotebookFigure
    except ImportError as e:
        from .exceptions import MissingDependencyError

        raise MissingDependencyError(f"Plots for {model!r} need matplotlib: pip install 'ad_duckdb[plots]' ({e}).") from e
    fig = NotebookFigure(figsize=figsize)
    return fig, fig.subplots(1, ncols)
