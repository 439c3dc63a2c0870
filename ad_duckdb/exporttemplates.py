"""The ONNX bytes of a trained graph from the export of an earlier graph of the same shape, without running the exporter.

Why: torch's TorchScript exporter costs about 90 ms of CPU per small graph (tracing, its ONNX passes, shape
inference), a third of a small training, and every training pays it (dbt projects and per-segment models train many
graphs of one shape in one process). For graphs of one structure the exporter writes the same bytes but for the raw
data of the initializers, and each of those is the graph's own weights and buffers, sliced or transposed (a member's
layer, a bank's transpose, the preprocessing constants as registered). So after one export of a structure, the next
graph's file is that file with its weights copied into the initializers, byte for byte what the exporter writes.

How it is known where each initializer value comes from: at the second graph of a structure, the structure is exported
once more with every float value of its weights and buffers replaced by a tag (plus or minus 2^23 + its position, exact
in float32), and the tags read back from the initializers say which weight each value is; a value that is no tag is a
constant the exporter made. A template is kept only when it rebuilds the first graph's real export exactly (the bytes
outside the weights identical to the tagged export's, each weight value where the tags say, each constant unchanged),
and a graph is filled in only when its structure key (module classes and their methods, the functions and constants of
their module, every non-tensor attribute, every tensor's dtype, shape and strides, non-float tensors' values) is the
template's. Anything else (a structure seen once, weights equal where the exporter would merge them, an attribute of a
type not understood, over MAX_VALUES weight values) is exported by torch, as before.

What this relies on, and the check above would not see for every graph: the graph's Python code branches on shapes
and attributes (in the key), never on its weights' values (``nn.ScoringGraph`` reads no weight as a Python number).
"""

from __future__ import annotations

import copy
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import onnxproto as pb

# Structures kept (least recently used dropped): a process trains a few shapes, and each holds its template's bytes.
MAX_STRUCTURES = 8
_TAG_BASE = float(2**23)  # from 2^23 to 2^24 every integer is a float32, and no tag is another's negative
# Why a bound below the 2^23 tags there are: a template holds 4 bytes per weight value (where it comes from), and the
# exporter's time is a small part of training a larger network.
MAX_VALUES = 1_000_000
_FLOAT, _DOUBLE = 1, 11  # TensorProto.DataType
_NUMPY: dict[int, np.dtype[Any]] = {_FLOAT: np.dtype("<f4"), _DOUBLE: np.dtype("<f8")}
_SIMPLE = (int, float, bool, str, type(None))

Export = Callable[[Any, int], bytes]  # the exporter


@dataclass
class _Init:
    """One initializer of an exported file: its name, type, dims, and where its raw data lies in the file."""

    name: str
    data_type: int
    dims: tuple[int, ...]
    start: int
    end: int


@dataclass
class _Source:
    """Where an initializer's values come from: at ``positions``, the pooled float values ``sources``; elsewhere
    the constant ``values`` the exporter wrote (both None when every value is a weight's, as in ad_duckdb's graphs)."""

    data_type: int
    dims: tuple[int, ...]
    sources: np.ndarray
    positions: np.ndarray | None
    values: np.ndarray | None


@dataclass
class _Template:
    chunks: list[bytes]  # the file's bytes between the initializers' raw data
    slots: list[_Source]


@dataclass
class _Structure:
    first: tuple[list[np.ndarray], bytes] | None = None  # the first graph's pools and its real export
    tagged: tuple[list[bytes], dict[str, _Source]] | None = None  # the tagged export: its bytes around the weights,
    # and where each initializer's values come from
    template: _Template | None = None
    off: bool = False


class _Stats:
    filled = 0  # files made from a template
    exported = 0  # files the exporter wrote for a graph (tagged exports not counted)


_stats = _Stats()
_lock = threading.Lock()
_structures: OrderedDict[tuple[Any, ...], _Structure] = OrderedDict()
_bypass = threading.local()


def stats() -> dict[str, int]:
    """How many graphs' files were filled in from a template, and how many the exporter wrote, in this process."""
    return {"filled": _stats.filled, "exported": _stats.exported}


@contextmanager
def exporter_only() -> Iterator[None]:
    """In this block (this thread), every file is written by torch's exporter and no template is read or made: what
    the templates' files are compared with (bench/export_speed.py)."""
    before = getattr(_bypass, "on", False)
    _bypass.on = True
    try:
        yield
    finally:
        _bypass.on = before


def cached() -> int:
    """How many structures are remembered (at most MAX_STRUCTURES)."""
    with _lock:
        return len(_structures)


def clear() -> None:
    """Forget every template (the next graph of each structure is exported by torch again)."""
    with _lock:
        _structures.clear()


def export(graph: Any, n_features: int, run: Export) -> bytes:
    """The file ``run(graph, n_features)`` writes (``run``: the exporter), from a template when there is one."""
    key = None if getattr(_bypass, "on", False) else structure_key(graph, n_features)
    if key is None:
        return _exported(run, graph, n_features)
    with _lock:
        s = _structures.get(key)
        if s is None:
            s = _structures[key] = _Structure()
            while len(_structures) > MAX_STRUCTURES:
                _structures.popitem(last=False)
        _structures.move_to_end(key)
        first, template, off = s.first, s.template, s.off
    if off:
        return _exported(run, graph, n_features)
    pools = _pools(graph)
    if template is None and first is not None:
        template = _build(s, graph, n_features, run, first)
    if template is not None:
        filled = _fill(template, pools)
        if filled is not None:
            with _lock:
                _stats.filled += 1
            return filled
    data = _exported(run, graph, n_features)
    with _lock:
        if s.first is None and s.template is None and not s.off:
            s.first = (pools, data)
    return data


def _exported(run: Export, graph: Any, n_features: int) -> bytes:
    with _lock:
        _stats.exported += 1
    return run(graph, n_features)


def _build(s: _Structure, graph: Any, n_features: int, run: Export,
           first: tuple[list[np.ndarray], bytes]) -> _Template | None:
    """The template of ``s`` from a tagged export, checked against the first graph's real export (or None, and the
    structure left to the exporter, when it does not rebuild that export exactly)."""
    template, tagged = None, s.tagged
    try:
        if tagged is None:
            copied, n_tags = _tagged(graph)
            data = run(copied, n_features)
            tagged = (_split(data)[0], _sources(data, n_tags))
        pools, real = first
        sources = list(tagged[1].values())
        if _merged(sources, [_filled(v, pools) for v in sources]):
            # the first graph's file has initializers merged (equal weights, by chance), which the tagged one cannot
            # have: the next graph's export is the one to check the tags against
            with _lock:
                s.first, s.tagged = None, tagged
            return None
        template = _checked(tagged[0], real, tagged[1], pools)
    except Exception:  # noqa: BLE001  (the graph's own export follows, and raises what torch raises for it)
        template = None
    with _lock:
        s.first, s.tagged, s.template, s.off = None, None, template, template is None
    return template


def _sources(tagged: bytes, n_tags: tuple[int, int]) -> dict[str, _Source]:
    """Each float initializer of a tagged export, by name: which pooled value each of its values is."""
    n32, n64 = n_tags
    out = {}
    for init in _initializers(tagged):
        dtype = _NUMPY.get(init.data_type)
        if dtype is None:
            continue
        values = np.frombuffer(tagged[init.start : init.end], dtype=dtype)
        with np.errstate(invalid="ignore"):
            index = np.abs(values) - _TAG_BASE
            lo, hi = (0, n32) if init.data_type == _FLOAT else (n32, n32 + n64)
            ok = np.isfinite(index) & (index == np.floor(index)) & (index >= lo) & (index < hi)
        u = np.where(ok, index, 0).astype(np.int64)
        ok &= (values > 0) == (u % 2 == 0)  # the tag's sign: a copy keeps it, an abs() or a relu() does not
        if ok.all():
            out[init.name] = _Source(init.data_type, init.dims, u.astype(np.int32), None, None)
        else:
            positions = np.flatnonzero(ok)
            out[init.name] = _Source(init.data_type, init.dims, u[positions].astype(np.int32), positions, values.copy())
    return out


def _checked(t_chunks: list[bytes], real: bytes, sources: dict[str, _Source],
             pools: list[np.ndarray]) -> _Template | None:
    """The template made of ``real`` (an export of a graph of pooled values ``pools``), when the tagged export (the
    bytes ``t_chunks`` around its initializers) is the same file but for the tags, and the tags put every weight value
    of ``real`` where it is."""
    r_chunks, r_inits = _split(real)
    if t_chunks != r_chunks:
        return None
    slots = []
    for init in r_inits:
        src = sources[init.name]
        if _filled(src, pools).tobytes() != real[init.start : init.end]:
            return None
        slots.append(src)
    return _Template(r_chunks, slots)


def _filled(src: _Source, pools: list[np.ndarray]) -> np.ndarray:
    pool = pools[0] if src.data_type == _FLOAT else pools[1]
    offset = 0 if src.data_type == _FLOAT else len(pools[0])
    if src.positions is None:
        return pool[src.sources - offset]
    assert src.values is not None
    out = src.values.copy()
    out[src.positions] = pool[src.sources - offset]
    return out


def _fill(template: _Template, pools: list[np.ndarray]) -> bytes | None:
    """The template's file with the weights of ``pools``; None when the exporter would write another file for them."""
    arrays = [_filled(src, pools) for src in template.slots]
    if _merged(template.slots, arrays):
        return None
    parts = [template.chunks[0]]
    for a, chunk in zip(arrays, template.chunks[1:], strict=True):
        parts.append(a.tobytes())
        parts.append(chunk)
    return b"".join(parts)


def _merged(slots: list[_Source], arrays: list[np.ndarray]) -> bool:
    """Whether two initializers of one type and shape hold equal values: the exporter keeps one of them then (torch's
    deduplication of initializers by value, in which -0.0 equals 0.0 and NaN equals nothing)."""
    seen: set[tuple[Any, ...]] = set()
    for src, a in zip(slots, arrays, strict=True):
        if np.isnan(a).any():
            continue
        k = (src.data_type, src.dims, (a + 0.0).tobytes())  # + 0.0: -0.0 becomes 0.0
        if k in seen:
            return True
        seen.add(k)
    return False


def _split(data: bytes) -> tuple[list[bytes], list[_Init]]:
    """A file's float initializers and the bytes around their raw data."""
    inits = [i for i in _initializers(data) if i.data_type in _NUMPY]
    chunks, pos = [], 0
    for i in inits:
        chunks.append(data[pos : i.start])
        pos = i.end
    chunks.append(data[pos:])
    return chunks, inits


def _initializers(data: bytes) -> list[_Init]:
    """The graph's initializers that hold raw data, with its place in ``data`` (a ModelProto)."""
    buf = memoryview(data)
    out = []
    for f, w, start, end in _fields(buf, 0, len(buf)):
        if f != pb.MODEL_GRAPH or w != pb.LEN:
            continue
        for gf, gw, gs, ge in _fields(buf, start, end):
            if gf != pb.GRAPH_INIT or gw != pb.LEN:
                continue
            name, dtype, dims, raw = "", 0, list[int](), None
            for tf, tw, ts, te in _fields(buf, gs, ge):
                if tf == pb.TENSOR_NAME and tw == pb.LEN:
                    name = bytes(buf[ts:te]).decode()
                elif tf == pb.TENSOR_TYPE and tw == pb.VARINT:
                    dtype = ts
                elif tf == pb.TENSOR_DIMS:
                    if tw == pb.VARINT:
                        dims.append(ts)
                    else:
                        p = ts
                        while p < te:
                            d, p = pb.varint(buf, p)
                            dims.append(d)
                elif tf == pb.TENSOR_RAW and tw == pb.LEN:
                    raw = (ts, te)
            if raw is not None:
                out.append(_Init(name, dtype, tuple(dims), *raw))
    return out


def _fields(buf: memoryview, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """(field, wire type, start, end) of each field of the message at ``buf[start:end]``; a varint's value is
    given as its start (and its end as -1). Our exporter's own files only: nothing here meets a stranger's bytes."""
    out = []
    pos = start
    while pos < end:
        key, pos = pb.varint(buf, pos)
        f, w = key >> 3, key & 7
        if w == pb.VARINT:
            v, pos = pb.varint(buf, pos)
            out.append((f, w, v, -1))
        elif w == pb.LEN:
            n, pos = pb.varint(buf, pos)
            out.append((f, w, pos, pos + n))
            pos += n
        elif w == pb.I64:
            pos += 8
        elif w == pb.I32:
            pos += 4
        else:
            raise pb.Malformed(f"unsupported wire type {w}")
    return out


def _tensors(graph: Any) -> list[Any]:
    """Every parameter and buffer of ``graph``, each once, in module order."""
    out, seen = [], set()
    for m in graph.modules():
        for t in (*m._parameters.values(), *m._buffers.values()):
            if t is not None and id(t) not in seen:
                seen.add(id(t))
                out.append(t)
    return out


def _floats(tensors: list[Any]) -> tuple[list[Any], list[Any]]:
    import torch

    return [t for t in tensors if t.dtype == torch.float32], [t for t in tensors if t.dtype == torch.float64]


def _pools(graph: Any) -> list[np.ndarray]:
    """The graph's float32 and float64 values, each kind in one array (module order, each tensor's elements in order)."""
    pools = []
    for kind, dtype in zip(_floats(_tensors(graph)), ("<f4", "<f8"), strict=True):
        parts = [t.detach().reshape(-1).numpy() for t in kind]
        pools.append(np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype=dtype))
    return pools


def _tagged(graph: Any) -> tuple[Any, tuple[int, int]]:
    """A copy of ``graph`` whose float values are tags: pooled value u (float32 ones first) is +-(2^23 + u), the sign
    alternating."""
    import torch

    copied = copy.deepcopy(graph)
    f32, f64 = _floats(_tensors(copied))
    n32, n64 = sum(t.numel() for t in f32), sum(t.numel() for t in f64)
    u = 0
    with torch.no_grad():
        for t in (*f32, *f64):
            idx = torch.arange(u, u + t.numel(), dtype=torch.float64)
            tags = (_TAG_BASE + idx) * (1 - 2 * (idx % 2))
            t.copy_(tags.reshape(t.shape))
            u += t.numel()
    return copied, (n32, n64)


def structure_key(graph: Any, n_features: int) -> tuple[Any, ...] | None:
    """What the exporter's file depends on but the float values of the weights: None when something in the graph is
    not understood here, or it has over MAX_VALUES float values (its file is then always the exporter's)."""
    import torch

    parts: list[Any] = [n_features, torch.__version__]
    if sum(t.numel() for t in _tensors(graph) if t.dtype in (torch.float32, torch.float64)) > MAX_VALUES:
        return None
    storages: set[int] = set()
    code: dict[str, Any] = {}
    for name, m in graph.named_modules():
        cls = type(m)
        parts.append((name, cls, _class_code(cls)))
        if not cls.__module__.startswith("torch."):
            code.setdefault(cls.__module__, _module_code(cls.__module__))
        for k, v in vars(m).items():
            if k in ("_parameters", "_buffers"):
                for pn, t in v.items():
                    if t is None:
                        parts.append((k, pn, None))
                        continue
                    if t.device.type != "cpu" or t.is_sparse:
                        return None
                    if t.numel():
                        ptr = t.untyped_storage().data_ptr()
                        if ptr in storages:  # a shared storage: tagging one tensor would tag another
                            return None
                        storages.add(ptr)
                    # a float tensor's values are the template's to fill in; any other's are part of the structure
                    values = b"" if t.dtype in (torch.float32, torch.float64) else t.detach().numpy().tobytes()
                    parts.append((k, pn, str(t.dtype), tuple(t.shape), t.stride(), t.storage_offset(),
                                  t.requires_grad, values))
            elif k == "_modules":
                parts.append((k, tuple(v)))
            elif k == "_non_persistent_buffers_set":
                parts.append((k, tuple(sorted(v))))
            elif isinstance(v, torch.dtype):
                parts.append((k, str(v)))
            elif _simple(v):
                parts.append((k, _value(v)))
            elif isinstance(v, (dict, set)) and not v:  # torch's hook registries, empty
                parts.append((k, type(v).__name__))
            else:
                return None
    parts.append(tuple(sorted(code.items())))
    return tuple(parts)


def _simple(v: Any) -> bool:
    return isinstance(v, _SIMPLE) or (isinstance(v, tuple) and all(_simple(x) for x in v))


def _value(v: Any) -> Any:
    """A key part for a plain value: its type and repr (0.0 and -0.0, or 1 and True, trace differently)."""
    if isinstance(v, tuple):
        return tuple(_value(x) for x in v)
    return (type(v).__name__, repr(v))


def _class_code(cls: type) -> tuple[Any, ...]:
    """The methods of ``cls`` and its bases below ``nn.Module``, held (not their ids): a method replaced in a test traces
    another graph, and a held function's id cannot be reused by its replacement."""
    import torch

    out: list[tuple[str, str, Any]] = []
    for c in cls.__mro__:
        if c is torch.nn.Module:
            break
        out.extend((c.__qualname__, k, v) for k, v in vars(c).items() if callable(v) or isinstance(v, (staticmethod,
                                                                                                       classmethod)))
    return tuple(out)


def _module_code(module_name: str) -> tuple[Any, ...]:
    """The functions and plain constants of the module defining a graph's class (``nn``: ``_row_sum``, ``CLIP``)."""
    module = sys.modules.get(module_name)
    if module is None:
        return ()
    return tuple((k, v if callable(v) else _value(v)) for k, v in vars(module).items()
                 if not k.startswith("__") and (callable(v) or _simple(v)))
