"""``python -m checker``: the same as the ``rdsiam`` command."""

from checker.cli import entry

entry()
