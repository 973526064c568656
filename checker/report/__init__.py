"""Output formats: one module per format, each ``render(report)`` yielding text; atomic writing."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from checker.model.report import Report

FORMATS = ("text", "json", "sarif", "junit", "markdown", "html")


def renderer(fmt: str) -> Callable[..., Iterator[str]]:
    """The render function of a format (imported on demand)."""
    if fmt == "json":
        from checker.report import jsonfmt

        return jsonfmt.render
    if fmt == "sarif":
        from checker.report import sarif

        return sarif.render
    if fmt == "junit":
        from checker.report import junit

        return junit.render
    if fmt == "markdown":
        from checker.report import markdown

        return markdown.render
    if fmt == "html":
        from checker.report import html

        return html.render
    from checker.report import text

    return text.render


def write_atomic(path: str, chunks: Iterable[str]) -> None:
    """Write to ``path`` through a temporary file and a rename, so a reader never sees half a
    report and a failed run leaves the old file in place. The file gets the usual permissions
    (the old file's, else 0666 less the umask), not mkstemp's 0600."""
    from checker.errors import InputError

    directory = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise InputError(path, "cannot write the output: it is a directory")
    try:
        fd, tmp = tempfile.mkstemp(prefix=".rdsiam-", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise InputError(path, f"cannot write the output ({exc.strerror or exc})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            for chunk in chunks:
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, _mode_for(path))
        os.replace(tmp, path)
    except BaseException as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError):  # the disk filled up, say: the old file is still there
            raise InputError(path, f"cannot write the output ({exc.strerror or exc})") from None
        raise


def _mode_for(path: str) -> int:
    try:
        return os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


__all__ = ["FORMATS", "Report", "renderer", "write_atomic"]
