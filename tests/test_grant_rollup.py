"""The 3xx pass roll-up: a policy whose grants all passed plainly reuses the grant index's
entries (GrantIndex.per_policy); the finding is the one the general roll-up makes."""

from __future__ import annotations

import json

import pytest
from conftest import AS_OF
from test_worker import RULES, account_doc

from checker.engine import run
from checker.iam.grants import GrantIndex
from checker.model.snapshot import Snapshot
from checker.report import jsonfmt


@pytest.mark.parametrize("per_role", [6, 1])
def test_the_shortcut_gives_the_general_roll_up(
    per_role: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Policies of six grants (the count and statements in the message) and of one (that
    grant's own message)."""
    snap = Snapshot.model_validate(account_doc(roles=30, per_role=per_role))
    fast = "".join(jsonfmt.render(run(snap, RULES, now=AS_OF)))
    # without the index's entries every policy goes through the general roll-up
    monkeypatch.setattr(GrantIndex, "per_policy", property(lambda self: {}))
    general = "".join(jsonfmt.render(run(snap, RULES, now=AS_OF)))
    assert fast == general
    passes = [f for f in json.loads(fast)["findings"] if f["status"] == "pass"]
    several = [f for f in passes if len(f["evidence"]["grants"]) > 1]
    if per_role > 1:
        assert several and all("connect grants (statements" in f["message"] for f in several)
    else:
        assert passes and not several
        assert all("connect grants" not in f["message"] for f in passes)
