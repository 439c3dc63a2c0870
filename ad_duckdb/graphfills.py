"""Whether a model file's feature list is its graph's: the fill value and spread of each column, which the graph holds
as constants (``nn.Preprocess``: ``pre.fill``, ``pre.scale_diag`` or ``pre.inv_scale``), against the ``features``
of its metadata.

Why: the graph checks see only the feature count, so a file whose feature list was reordered by hand (or taken from
another model's file of as many columns) imported, and the graph then scored each column's values as the one in its
place under `score DB MODEL TABLE` (which reads the columns by the list's names), while missing values and
explanations used the list's constants. A graph without these constants (another exporter's) is not judged here.
"""

from __future__ import annotations

import numpy as np

from . import onnxproto as pb
from .exceptions import IntegrityError
from .features import FeatureSpec

_FLOAT = 1  # TensorProto.DataType.FLOAT
_RTOL = 1e-5  # the graph's float32 rounding of a float64 constant is within 6e-8 relative


def _constants(onnx: bytes, d: int) -> dict[str, np.ndarray]:
    """The graph's float32 initializers named ``pre.*`` of d (or d x d) values, by name."""
    out: dict[str, np.ndarray] = {}
    with pb.field_budget():
        for _, g in pb.sub(memoryview(onnx), pb.MODEL_GRAPH):
            for _, v in pb.sub(g, pb.GRAPH_INIT):
                t = pb.tensor(v)
                if (t.name.startswith("pre.") and t.data_type == _FLOAT and t.raw is not None
                        and len(t.raw) in (4 * d, 4 * d * d)):
                    out[t.name] = np.frombuffer(bytes(t.raw), dtype="<f4").astype(np.float64)
    return out


def input_width(onnx: bytes) -> int | None:
    """The column count of the graph's one input ``x`` [n, d]; None for a graph of no such input (or not readable)."""
    try:
        with pb.field_budget():
            graphs = [g for _, g in pb.sub(memoryview(onnx), pb.MODEL_GRAPH)]
            ins = pb.signature(graphs[0])[0] if len(graphs) == 1 else []
    except pb.Malformed:
        return None
    if len(ins) != 1 or len(ins[0][2]) != 2 or not isinstance(ins[0][2][1], int):
        return None
    return ins[0][2][1]


def names(specs: list[FeatureSpec], shown: int = 8) -> str:
    """The first ``shown`` feature names, quoted, for a message."""
    more = f", and {len(specs) - shown:,} more" if len(specs) > shown else ""
    return ", ".join(pb.quote(s.name) for s in specs[:shown]) + more


def _close(a: float, b: float) -> bool:
    # the absolute part: float32 holds no value below 1.4e-45, and rounds those below 1.2e-38 coarsely
    return abs(a - b) <= _RTOL * max(abs(a), abs(b)) + 1e-37


def check(onnx: bytes, specs: list[FeatureSpec]) -> None:
    """Raise ``IntegrityError`` (read on from "Model file 'PATH': ") when a column's fill value or spread in the
    graph is not the one its ``specs`` entry says; run after ``integrity.check_onnx`` passed."""
    d = len(specs)
    consts = _constants(onnx, d)
    fills = consts.get("pre.fill")
    if fills is not None and len(fills) == d:
        for j, s in enumerate(specs):
            # the graph holds fill - centre for a column of a large centre (nn.Preprocess's float64 offset)
            if not (_close(fills[j], s.fill) or _close(fills[j], s.fill - s.center)):
                raise _mismatch(j, s, "fills a missing value with", float(fills[j]), "fill", s.fill, specs, fills)
    diag = consts.get("pre.scale_diag")
    inv = np.diag(diag.reshape(d, d)) if diag is not None and len(diag) == d * d else consts.get("pre.inv_scale")
    if inv is not None and len(inv) == d:
        for j, s in enumerate(specs):
            if not _close(float(inv[j]), 1.0 / s.scale):
                raise _mismatch(j, s, "divides by the spread", 1.0 / float(inv[j]), "scale", s.scale, specs, None)


def _mismatch(j: int, s: FeatureSpec, does: str, graph_value: float, key: str, value: float, specs: list[FeatureSpec],
              fills: np.ndarray | None) -> IntegrityError:
    hint = ""
    if fills is not None:  # which listed column the graph's value is, when it is another's: a reordered list
        other = [i for i, o in enumerate(specs) if i != j and (_close(fills[j], o.fill)
                                                                 or _close(fills[j], o.fill - o.center))]
        if other:
            hint = f" (the fill features[{other[0]}] {pb.quote(specs[other[0]].name)} has: the list is reordered)"
    return IntegrityError(
        f"its graph {does} {graph_value:.7g} in input column {j + 1}, but its ad_duckdb metadata has features[{j}]."
        f"{key} = {value!r} ({pb.quote(s.name)}){hint}: the feature list is not the graph's (reordered, edited, or "
        "another model's), so missing values, explanations and the columns read by name would not be what the graph "
        "scores; the model was not imported: export it again from the database it came from (ad-duckdb "
        "export DB MODEL FILE), or train it again.")
