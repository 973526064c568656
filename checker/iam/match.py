"""IAM wildcard matching: ``*`` (any run of characters) and ``?`` (one character).

Actions match case-insensitively, resources case-sensitively. IAM lets ``*`` span ARN segments
("a * that ends a segment can expand to match beyond the colon boundaries"), so a pattern is a
glob over the whole string; no character other than ``*`` and ``?`` is special.
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
"""

from __future__ import annotations

import re
from functools import lru_cache

CONNECT = "rds-db:connect"


@lru_cache(maxsize=65536)
def _compile(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    parts = []
    for ch in pattern:
        if ch == "*":
            parts.append(".*")
        elif ch == "?":
            parts.append(".")
        else:
            parts.append(re.escape(ch))
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def wildcard_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """Whether ``value`` matches the IAM pattern as a whole."""
    if "*" not in pattern and "?" not in pattern:
        return pattern.lower() == value.lower() if ignore_case else pattern == value
    return _compile(pattern, ignore_case).fullmatch(value) is not None


@lru_cache(maxsize=1 << 14)  # a few action patterns, asked about for every statement
def action_matches(pattern: str, action: str) -> bool:
    """IAM action patterns are case-insensitive (``RDS-DB:Connect`` is ``rds-db:connect``)."""
    return wildcard_match(pattern, action, ignore_case=True)


def resource_matches(pattern: str, arn: str) -> bool:
    """IAM resource patterns are case-sensitive."""
    return wildcard_match(pattern, arn)


def has_wildcard(text: str) -> bool:
    return "*" in text or "?" in text
