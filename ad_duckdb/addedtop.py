"""The highest-scoring rows among those a scoring writes, kept while they stream into the table (``score --into T
--append --top N``): the rows this run added, which the table alone cannot tell from earlier runs' rows."""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa


class AddedTop:
    """The ``n`` highest ``anomaly_score`` rows of every batch passed through ``tee``, highest first (``table``)."""

    def __init__(self, n: int) -> None:
        self.n = n
        self._top: pa.Table | None = None
        self._schema: pa.Schema | None = None

    def tee(self, reader: pa.RecordBatchReader) -> pa.RecordBatchReader:
        """``reader``'s batches, unchanged, each counted in as it is read."""
        self._schema = reader.schema

        def batches() -> Iterator[pa.RecordBatch]:
            for batch in reader:
                self._add(batch)
                yield batch

        return pa.RecordBatchReader.from_batches(reader.schema, batches())

    def _add(self, batch: pa.RecordBatch) -> None:
        # Why the top kept batch by batch: an incremental run may add millions of rows, and only n are shown
        if self.n <= 0 or batch.num_rows == 0:
            return
        # Why here: pyarrow.compute costs every scoring process 9 MiB; only --top with --append needs it
        import pyarrow.compute as pc

        rows = pa.Table.from_batches([batch])
        if self._top is not None:
            rows = pa.concat_tables([self._top, rows])
        keep = pc.select_k_unstable(rows, k=min(self.n, rows.num_rows), sort_keys=[("anomaly_score", "descending")])
        self._top = rows.take(keep)

    def table(self) -> pa.Table:
        """The rows kept, highest score first (none when no row was read)."""
        if self._top is None:
            return pa.Table.from_batches([], schema=self._schema) if self._schema is not None else pa.table({})
        import pyarrow.compute as pc

        order = pc.sort_indices(self._top, sort_keys=[("anomaly_score", "descending")])
        return self._top.take(order)
