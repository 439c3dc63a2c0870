"""The score's three terms (reconstruction, neighbour, range) read from a stored graph, for ``anomaly_terms``.

The exported graph adds the terms into ``score`` (``nn.ScoringGraph.forward``: reconstruction, then + neighbour, then
+ range) and returns only the sum. Each term is a tensor inside the graph, so a second onnxruntime session on the
same bytes, with those tensors appended as outputs, returns them. Why not a third output in the exported graph: this
way every stored model shows its terms, whichever version of ad_duckdb stored it, and the stored bytes (and their
sha256) stay as they are. Appending a field to a serialized protobuf message merges into it, so no onnx package is
needed (``onnxproto.len_field``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from . import onnxproto as pb
from .exceptions import BadInputError, IntegrityError
from .integrity import OUTPUT_NAMES

TERM_NAMES = ("reconstruction", "neighbour", "range")
# A range term this small is float32 rounding, not a distance: the graph computes relu(|z - mid| - half) in float32,
# so a value at an end of the training range (a count of 1 where 1 is the training minimum: hundreds of rows of the
# example transactions) came out 2.4e-07 or 4.8e-07 beyond it, and `WHERE t.range > 0` held those rows beside the
# ones outside. Terms are in robust units (a typical row's reconstruction and neighbour terms about 1 each).
RANGE_NOISE = 1e-5


def range_cleared(values: np.ndarray) -> np.ndarray:
    """The range term of rows [n] with float32 noise at the training range's ends (under RANGE_NOISE) set to 0, as
    README says of a value inside the range; the terms then still sum to the score up to float32 rounding."""
    return np.where(values < RANGE_NOISE, 0.0, values)


def terms_on(params: Mapping[str, Any]) -> tuple[bool, bool, bool]:
    """Which terms a model's score holds, from its stored training parameters (``TrainParams``): the
    reconstruction always; the neighbour term unless ``knn_k`` is 0; the range term unless ``range_weight`` is 0."""
    k = params.get("knn_k")
    return True, k is None or k > 0, float(params.get("range_weight", 1.0)) > 0


def term_tensors(onnx: bytes, on: tuple[bool, bool, bool], *, model: str,
                 first_release: bool = False) -> list[str | None]:
    """The graph's tensor of each term in TERM_NAMES order, None for a term that is off.

    The score is a chain of Adds, ``Add(Add(reconstruction, neighbour), range)``, with one Add fewer per term that is
    off; the reconstruction term is a Sqrt's output. A graph of another shape is refused, never guessed at.
    ``first_release``: the model's parameters are of a release before the neighbour term (``stored_before_terms``),
    whose graphs kept no terms apart: said so, not as an integrity failure."""
    if first_release:
        try:
            return term_tensors(onnx, on, model=model)
        except IntegrityError:
            raise _first_release(model) from None
    producers = _producers(onnx)
    n = sum(on)
    leaves: list[str] = []
    cur = OUTPUT_NAMES[0]
    for _ in range(n - 1):
        op, ins = producers.get(cur, ("", []))
        if op != "Add" or len(ins) != 2:
            raise _unreadable(model)
        leaves.insert(0, ins[1])
        cur = ins[0]
    if producers.get(cur, ("", []))[0] != "Sqrt":
        raise _unreadable(model)
    leaves.insert(0, cur)
    found = iter(leaves)
    return [next(found) if o else None for o in on]


def with_outputs(onnx: bytes, names: list[str]) -> bytes:
    """``onnx`` with ``names`` appended to its graph's outputs (GraphProto.output, field 12 of the graph, field 7)."""
    extra = b"".join(pb.len_field(pb.MODEL_GRAPH, pb.len_field(pb.GRAPH_OUTPUT, pb.len_field(pb.VI_NAME, n.encode())))
                     for n in names if n not in OUTPUT_NAMES)
    return onnx + extra


def _producers(onnx: bytes) -> dict[str, tuple[str, list[str]]]:
    """Output tensor name -> (operator, input names) of each node of the main graph."""
    out: dict[str, tuple[str, list[str]]] = {}
    with pb.field_budget():
        for _, graph in pb.sub(memoryview(onnx), pb.MODEL_GRAPH):
            for _, op, ins, outs in pb.nodes(graph):
                for o in outs:
                    out[o] = (op, ins)
    return out


def stored_before_terms(params: Mapping[str, Any]) -> bool:
    """Whether a model's stored training parameters are of the first releases (2026-11-22), before the score had a
    neighbour term: they have no ``knn_k``, which every later release stores (None where it is off)."""
    return "knn_k" not in params


def _first_release(model: str) -> BadInputError:
    # Why not an IntegrityError (exit 8, "failed its integrity check"): the model is intact and scores as it did
    return BadInputError(f"Model {model!r} was stored by one of the first ad_duckdb releases, whose graph averages "
                         "the members' errors without keeping the score's terms apart, so anomaly_terms has none to "
                         "read; anomaly_score, anomaly_explain and its thresholds work as they did. Re-train it (a "
                         "new version) to get its terms.")


def _unreadable(model: str) -> IntegrityError:
    return IntegrityError(f"Model {model!r}: its ONNX graph does not add its score from the three terms as ad_duckdb's "
                          "exporter writes it, so anomaly_terms cannot read them; anomaly_score and anomaly_explain "
                          "still work. Re-train the model to get its terms.")
