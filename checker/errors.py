"""Errors that end a run with exit code 2 and one line on stderr."""

from __future__ import annotations


class UsageError(Exception):
    """A command-line mistake (exit 2)."""


class InputError(Exception):
    """Unreadable or invalid input (exit 2): names the file and, where known, the location."""

    def __init__(self, path: str, message: str, location: str | None = None) -> None:
        self.path = path
        self.location = location
        self.detail = message
        where = f"{path}: {location}" if location else path
        super().__init__(f"{where}: {message}")


class NoInputs(InputError):
    """None of the paths is a recognized input (with ``--skip-unknown``: nothing to check)."""
