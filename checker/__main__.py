"""``python -m checker``: the same as the ``rdsiam`` command."""

import sys

from checker.cli import main

sys.exit(main())
