"""The matplotlib Figure the plot functions return: one a notebook shows as a picture, with or without pyplot."""

from __future__ import annotations

from io import BytesIO

from matplotlib.figure import Figure


class NotebookFigure(Figure):
    """A Figure that draws itself for IPython's display.

    Why: IPython draws a Figure only through the formatter pyplot's inline backend registers when pyplot makes its
    first figure, so in a kernel that had not drawn with pyplot (importing it is not enough) a returned figure read
    ``<Figure size 700x450 with 1 Axes>``. ``_repr_png_`` is called only when no formatter is registered for the
    type; once pyplot's is, that one draws it, so the picture is shown once either way.
    """

    def _repr_png_(self) -> bytes:
        out = BytesIO()
        # cut to the drawn area, as IPython's inline backend does: the legends sit below the axes
        self.savefig(out, format="png", bbox_inches="tight", facecolor=self.get_facecolor(),
                     edgecolor=self.get_edgecolor())
        return out.getvalue()
