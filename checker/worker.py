"""Text of a large JSON report made by a forked worker while this process goes on.

A large run is single-threaded Python on a machine with at least two cores. The access matrix
of a JSON report needs nothing the rules compute: once the grant index is built, a child
process, forked with everything already in memory (copy-on-write), renders the report's
``access`` array into an anonymous temporary file, exactly as the parent would, and the parent
copies that text in when it gets there.

Measured on the 100,000-grant bench (bench/grants.py), runs alternated with and without the
worker: 13.6 to 16.6 s against 16.4 to 17.7 s (the matrix and its text are 2.5 to 3 s; the
twelve 3xx rules, 7 to 9 s). Writing the second half of the findings in a worker as well was
tried and dropped: the copy-on-write page faults of a 700 MiB heap ate the gain on the grants
bench and made the 1,000-template bench slower.

The report is the same bytes either way. When the platform cannot fork, when other threads
run (a fork copies only the calling thread, and any lock another thread holds stays held), or
when the worker fails for any reason (it is killed, runs out of memory), the parent makes the
text itself: the worker can make a run faster, never different.
"""

from __future__ import annotations

import codecs
import os
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import IO

CHUNK = 1 << 20

Produce = Callable[[], Iterable[str]]


class Pending:
    """Text a worker is making; ``chunks`` waits for it (or makes it here, if it failed)."""

    def __init__(self, pid: int, produce: Produce, text: IO[bytes]) -> None:
        self._pid = pid
        self._produce = produce
        self._text = text

    def chunks(self) -> Iterator[str]:
        _, status = os.waitpid(self._pid, 0)
        try:
            if os.waitstatus_to_exitcode(status) != 0:
                yield from self._produce()
                return
            self._text.seek(0)
            # a block may end inside a character of several bytes: decode across blocks
            decoder = codecs.getincrementaldecoder("utf-8")()
            while block := self._text.read(CHUNK):
                yield decoder.decode(block)
            yield decoder.decode(b"", final=True)
        finally:
            self._text.close()


def start(produce: Produce) -> Pending | None:
    """Fork a worker that writes what ``produce`` yields; None when the caller had better
    produce it itself (no fork, other threads, no process left)."""
    if not hasattr(os, "fork") or threading.active_count() > 1:
        return None
    text = tempfile.TemporaryFile(prefix="rdsiam-worker-")  # noqa: SIM115 - Pending closes it
    try:
        pid = os.fork()
    except OSError:
        text.close()
        return None
    if pid == 0:  # pragma: no cover - the child; what it writes is compared in the tests
        code = 1
        try:
            for chunk in produce():
                text.write(chunk.encode())
            text.flush()
            code = 0
        finally:
            # no atexit handlers, no flushing of the parent's buffered output: only the file
            os._exit(code)
    return Pending(pid, produce, text)
