"""A reader's batches read ahead by a thread, so reading the next overlaps scoring this one."""

from __future__ import annotations

import queue
import threading
from typing import Any

_END = object()


def _prefetched(reader: Any, cur: Any, depth: int = 2) -> Any:
    """Yield the batches of ``reader``, read ahead by a thread into a queue of ``depth`` batches.

    Why: DuckDB's scan releases the GIL, so reading the next batch overlaps onnxruntime scoring this
    one; the bounded queue keeps memory flat however large the table. Closes ``cur`` when done.
    """
    q: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for batch in reader:
                if not put(batch):
                    return
            put(_END)
        except BaseException as e:  # handed to the consumer, which raises it in its own thread
            put(e)

    t = threading.Thread(target=produce, name="ad_duckdb-scan", daemon=True)
    t.start()
    try:
        while True:
            item = q.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        t.join()
        cur.close()
