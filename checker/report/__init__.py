"""Output formats: one module per format, each ``render(report) -> str``; atomic writing."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable

from checker.model.report import Report

FORMATS = ("text", "json")


def renderer(fmt: str) -> Callable[..., str]:
    """The render function of a format (imported on demand)."""
    if fmt == "json":
        from checker.report import jsonfmt

        return jsonfmt.render
    from checker.report import text

    return text.render


def write_atomic(path: str, content: str) -> None:
    """Write ``content`` to ``path`` through a temporary file and a rename, so a reader never
    sees half a report and a failed run leaves the old file in place."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".rdsiam-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


__all__ = ["FORMATS", "Report", "renderer", "write_atomic"]
