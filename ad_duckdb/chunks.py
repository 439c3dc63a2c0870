"""Row chunks for the training side's torch passes, so that no intermediate outgrows a fixed budget.

Scoring in onnxruntime runs in batches of at most 2048 rows; the torch side (calibration, validation, scoring
the training rows, the parity check) would otherwise take every row at once, and the latent-neighbour term's
distances are [members, rows, bank] values: at the parameters' edge (16 members, 65,536 codes) 2048 rows asked
for 8.6 GB and 65,536 rows for 270 GB. Rows are independent in every such pass, so chunks change nothing
but the peak memory; below the budget a pass is one chunk, exactly as before.
"""

from __future__ import annotations

from collections.abc import Iterable

# Bytes of the largest intermediate of one chunk. Why 256 MiB: a few such tensors are alive at once (the distances,
# their selection, a temporary of the same shape), so a pass stays near a gigabyte on this 2-core, 23 GB machine
# shared with other work; per row the chunk still holds 64 MiB / bank codes rows, enough to keep the matmuls efficient.
CHUNK_BYTES = 256 * 2**20
_FLOAT = 4  # float32
_INDEX = 8  # int64, torch.topk's indices


def row_bytes(n_models: int, widths: Iterable[int], *, bank_size: int = 0, bank_groups: int = 1, knn_k: int = 0) -> int:
    """Bytes per row of the largest intermediate: a layer [E, width], the bank distances [E, bank] or, for
    ``knn_k`` > 1, topk's values and indices [E, groups, k]."""
    per_member = max([_FLOAT * w for w in widths] + [_FLOAT * bank_size, (_FLOAT + _INDEX) * bank_groups * knn_k])
    return max(1, n_models * per_member)


def rows_per_chunk(bytes_per_row: int, budget: int | None = None) -> int:
    """Rows in one chunk: as many as keep ``bytes_per_row`` x rows under ``budget`` (default CHUNK_BYTES, read at
    each call), at least one."""
    return max(1, (CHUNK_BYTES if budget is None else budget) // max(1, bytes_per_row))


def row_slices(n_rows: int, rows: int) -> list[slice]:
    """Consecutive slices of ``rows`` rows covering ``n_rows``; one (empty) slice for no rows, so that a pass over
    an empty input still returns results of the right shapes."""
    return [slice(a, a + rows) for a in range(0, max(n_rows, 1), rows)]
