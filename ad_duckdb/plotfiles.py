"""The plots as files: their folder checked before the scoring that feeds them, the precision-recall curve and the
histogram by label (``plot``), the histogram of unlabelled scores (``plot_scores``)."""

from __future__ import annotations

import tempfile
from functools import partial
from pathlib import Path

import numpy as np

from . import workfolder
from .exceptions import BadInputError
from .histfigures import label_hist_figure, scores_figure
from .plotfigure import _subplots
from .prfigure import pr_figure
from .savefile import write_whole


def plots_folder(out_dir: str | Path, model: str) -> Path:
    """The folder plots of ``model`` go to, created, with matplotlib importable: checked before the scoring that
    feeds the plots. Why first: a path that is a file or a missing [plots] extra surfaced only after every row was
    scored, when `score --into` had already written its table and then exited with an error."""
    _subplots(model, (1, 1))  # MissingDependencyError naming the extra
    out = Path(out_dir)
    if out.suffix.lower() in _IMAGE_SUFFIXES and not out.is_dir():
        # Why refused: 'plots/x.png' became a folder x.png holding the plots, which no one looks for there
        raise BadInputError(
            f"{str(out_dir)!r} looks like an image file's name, but plots go to a folder, as files named after the "
            f"model ({_file_stem(model.replace('@', '_v'))}_scores.png, ..._pr_curve.png): give the folder, e.g. "
            f"{str(out.parent) if str(out.parent) != '.' else 'plots'}/ (--plots; Python: plots_dir=).")
    # a folder that exists but takes no files (read-only) passed mkdir, and failed only at savefig, after the rows
    # were scored and written: a file made and removed proves it takes them (the error names the folder, not the
    # temporary file's random name)
    try:
        out.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=out).close()
    except PermissionError as e:
        # one message, no filename: the command line prints it as it is (its path and fix said here)
        raise type(e)(e.errno, f"cannot write plots to {str(out)!r}{workfolder.where(out)}: {e.strerror}; choose a "
                      "path you may use: give --plots (Python: plots_dir=) a folder you may write, such as an absolute "
                      "path under /tmp") from e
    except OSError as e:
        raise type(e)(e.errno, e.strerror, str(out)) from e
    return out


def plot(scores: np.ndarray, labels: np.ndarray, out_dir: str | Path, model: str,
         thresholds: dict[str, float] | None = None, source: str | None = None,
         weights: np.ndarray | None = None, sampled: str | None = None) -> list[str]:
    """Write ``<model>_pr_curve.png`` and ``<model>_score_hist.png`` (``name@2``: ``name_v2_pr_curve.png``, titled
    ``name@2``, with the rows evaluated: ``source``; the histogram alone where no row is labelled an anomaly); returns
    their paths. ``weights``: each row's sample weight
    (all above 0), each row drawn as that many, as evaluate's weighted figures count it; ``sampled``: evaluate's."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    safe = _file_stem(model.replace("@", "_v"))
    paths: list[str] = []
    # Why no curve without a labelled anomaly: it drew every threshold at "precision 0.000, recall 0.000" and "AUC-PR
    # nan" beside a report saying recall and AUC-PR are undefined there (rows all labelled normal, normalonly)
    curve_too = bool(np.asarray(labels).astype(bool).any())
    figures = ([(partial(pr_figure, scores, labels, model, thresholds, source, weights, sampled), "pr_curve")]
               if curve_too else [])
    figures.append((partial(label_hist_figure, scores, labels, model, thresholds, source, weights), "score_hist"))
    for draw, what in figures:
        fig = draw()
        p = write_whole(out / f"{safe}_{what}.png", partial(fig.savefig, dpi=110, format="png"))
        paths.append(str(p))
    return paths


def plot_scores(scores: np.ndarray, out_dir: str | Path, model: str, thresholds: dict[str, float],
                source: str) -> str:
    """Write ``<model>_scores.png`` (``name@2``: ``name_v2_scores.png``): a histogram of ``scores`` (rows counted
    on a log axis, so the few highest stay visible), each stored threshold drawn with how many of these rows it
    flags. For choosing a threshold without labels: a gap or a change of slope in the tail is where to cut.
    Returns the path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    fig = scores_figure(scores, model, thresholds, source)
    p = write_whole(out / f"{_file_stem(model.replace('@', '_v'))}_scores.png",
                    lambda t: fig.savefig(t, dpi=110, format="png"))
    return str(p)


# What a file name for a plot ends in (given where the folder goes)
_IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".svg", ".pdf", ".gif", ".webp"})


def _file_stem(model: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in model)
