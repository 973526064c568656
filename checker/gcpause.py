"""The cyclic garbage collector, paused while a run builds its objects."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_off() -> Iterator[None]:
    """No cyclic garbage collection while the inputs are read, the rules run and the report
    is written; back on afterwards (the tests run many checks in one process). Nested uses
    leave it to the outermost.

    A large run keeps millions of objects that form no cycles: the snapshot, the grant index,
    300,000 findings. On the 100,000-grant bench the collector still made 60 passes over them
    (1.1 to 1.3 s) and freed 1,314 objects in all, and peak memory is the same without it:
    reference counting frees nearly everything, as before. (Raising the thresholds and
    freezing the inputs, tried first, kept about half of that cost.) Reading a CloudFormation
    template is the same: tens of thousands of small acyclic parser events and values, and the
    collector's passes over them were a third of the time.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
