"""One torch thread for training's own passes: the loop, the calibration, the export and the parity check."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def one_thread() -> Iterator[None]:
    """Run the block with one torch thread, the caller's count restored after it.

    Why: the networks are small, so threads only add synchronisation; on a busy 2-core machine the calibration and
    the parity check's three torch passes took 0.5 s of CPU with 2 threads against 0.01 s with one (a training of
    2,000 rows x 4 columns and 3 epochs: 0.79 -> 0.27 s CPU). And one thread is reproducible: with two, the k-means
    of the neighbour bank (``where=``, rows known normal) summed its assignments in another order, so the same data,
    options and seed stored another model on a machine with another core count (or under OMP_NUM_THREADS).
    """
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
