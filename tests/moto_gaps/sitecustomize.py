"""TEST-ONLY: fill moto's gaps inside ``python -m checker`` subprocesses of tests/test_live.py.

tests/test_live.py puts this directory on PYTHONPATH of the CLI subprocesses it runs against
a moto server, with RDSIAM_TEST_MOTO_GAPS=1; Python then imports this module at start-up
(``site``), and every boto3.Session created in the process gets the client-side gap fills of
tests/live_support.py (``install_moto_gaps``) for the moto server at AWS_ENDPOINT_URL. Without
that variable it does nothing. It is never installed, packaged or on the path of a real run.
"""

from __future__ import annotations

import os

if os.environ.get("RDSIAM_TEST_MOTO_GAPS") == "1":
    import sys
    from pathlib import Path

    _TESTS = str(Path(__file__).resolve().parent.parent)
    sys.path.insert(0, _TESTS)
    try:
        import live_support
    finally:
        sys.path.remove(_TESTS)
    live_support.install_on_every_session(os.environ["AWS_ENDPOINT_URL"])
