"""Python's cyclic garbage collector during the long batch commands (`ttdn import`, `ttdn reindex`).

A batch job allocates millions of small containers (a line's dict, its model, its snapshot, its
rows, its search document) that live until their batch is written and indexed. With the
collector's default thresholds they survive young collections by the thousand, and each time
enough have, a full collection walks every live object again: the batches in flight and the
200,000 or so that the application's modules and libraries hold. In a 20,000-line import that
was 11% of the command's CPU (bench/RESULTS.md).

Inside `batch_job()` the objects alive at its start are frozen (no collection looks at them
again: they are modules, classes and caches, not garbage) and young collections run every
10,000 allocations instead of 700, so far fewer objects are promoted and the older generations
are collected far more rarely. Garbage without reference cycles is freed by reference counting
as always, and collections still run, only less often.
"""

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# (young, middle, old): allocations between young collections, and young (middle) collections
# between middle (old) ones. Python's default is (700, 10, 10).
BATCH_THRESHOLDS = (10_000, 20, 20)


@contextmanager
def batch_job() -> Iterator[None]:
    """Collect less often while the block runs; the collector is as it was afterwards."""
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(*BATCH_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
