"""checker/iam: wildcard matching (against a reference), connect ARNs, policy documents."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checker.iam.arn import ArnProblem, DbUserArn, parse_dbuser_arn
from checker.iam.documents import PolicyError, iter_policies, load_document, statements
from checker.iam.match import action_matches, resource_matches, wildcard_match


def reference(pattern: str, value: str) -> bool:
    """Straightforward recursive glob: '*' any run, '?' one character, the rest literal."""
    if not pattern:
        return not value
    head, rest = pattern[0], pattern[1:]
    if head == "*":
        return any(reference(rest, value[i:]) for i in range(len(value) + 1))
    if not value:
        return False
    return (head == "?" or head == value[0]) and reference(rest, value[1:])


ALPHABET = st.sampled_from(list("ab:/-.*?[]\\^$()+|{}"))
TEXT = st.text(alphabet=st.sampled_from(list("ab:/-.[]\\^$()+|{}")), max_size=12)


@settings(max_examples=400, deadline=None)
@given(pattern=st.text(alphabet=ALPHABET, max_size=10), value=TEXT)
def test_wildcard_match_agrees_with_the_reference(pattern: str, value: str) -> None:
    assert wildcard_match(pattern, value) == reference(pattern, value)


@settings(max_examples=200, deadline=None)
@given(value=TEXT)
def test_a_pattern_without_wildcards_matches_only_itself(value: str) -> None:
    assert wildcard_match(value, value)
    assert not wildcard_match(value, value + "x")


def test_action_case_insensitive_resource_case_sensitive() -> None:
    assert action_matches("RDS-DB:Connect", "rds-db:connect")
    assert action_matches("rds-db:*", "rds-db:connect")
    assert action_matches("*", "rds-db:connect")
    assert action_matches("rds-db:c?nnect", "rds-db:connect")
    assert not action_matches("rds:connect", "rds-db:connect")
    assert not action_matches("rds-db:connnect", "rds-db:connect")
    arn = "arn:aws:rds-db:us-east-1:123456789012:dbuser:db-ABC/app"
    assert resource_matches("arn:aws:rds-db:*:*:dbuser:*/*", arn)
    assert resource_matches("arn:aws:rds-db:us-east-1:123456789012:dbuser:db-ABC/*", arn)
    assert not resource_matches("arn:aws:rds-db:us-east-1:123456789012:dbuser:db-abc/app", arn)
    assert resource_matches("arn:aws:rds-db:*", arn)  # '*' spans segments


@pytest.mark.parametrize(
    ("resource", "reason"),
    [
        ("arn:aws:rds:us-east-1:123456789012:db:orders", "an 'rds' ARN"),
        ("arn:aws:rds-db:us-east-1:123456789012:db-user:db-ABC/app", "resource type 'db-user'"),
        ("arn:aws:rds-db:us-east-1:123456789012:userdb:db-ABC/app", "resource type 'userdb'"),
        ("arn:aws:rds-db:us-east-1:123456789012:dbuser/db-ABC/app", "'dbuser/'"),
        ("arn:aws:rds-db:us-east-1:123456789012:dbuser:db-ABC", "no database user"),
        ("arn:aws:rds-db:us-east-1::dbuser:db-ABC/app", "empty account"),
        ("arn:aws:rds-db:us-east-1:123456789012:dbuser:/app", "empty resource id"),
        ("arn:aws:rds-db:us-east-1:123456789012:dbuser:db-ABC/", "empty database user"),
        ("rds-db:dbuser:db-ABC/app", "not an ARN"),
    ],
)
def test_malformed_connect_arns(resource: str, reason: str) -> None:
    problem = parse_dbuser_arn(resource)
    assert isinstance(problem, ArnProblem) and reason in problem.reason, problem


def test_well_formed_connect_arns() -> None:
    parsed = parse_dbuser_arn(
        "arn:aws:rds-db:us-east-2:123456789012:dbuser:db-ABCDEFGHIJKL01234/jane_doe"
    )
    assert parsed == DbUserArn(
        "aws", "us-east-2", "123456789012", "db-ABCDEFGHIJKL01234", "jane_doe"
    )
    assert parsed.resource_kind == "instance"
    cluster = parse_dbuser_arn("arn:aws:rds-db:eu-west-1:123456789012:dbuser:cluster-ABC123/app")
    assert isinstance(cluster, DbUserArn) and cluster.resource_kind == "cluster"
    proxy = parse_dbuser_arn("arn:aws:rds-db:eu-west-1:123456789012:dbuser:prx-0123a01b12345c0ab/u")
    assert isinstance(proxy, DbUserArn) and proxy.resource_kind == "proxy"
    name = parse_dbuser_arn("arn:aws:rds-db:eu-west-1:123456789012:dbuser:my-prod-db/app")
    assert isinstance(name, DbUserArn) and name.resource_kind is None  # RIA302's case
    wild = parse_dbuser_arn("arn:aws:rds-db:*:*:dbuser:*/*")
    assert isinstance(wild, DbUserArn) and wild.resource_id == "*"


CONNECT_DOC = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "Connect",
            "Effect": "Allow",
            "Action": "rds-db:connect",
            "Resource": "arn:aws:rds-db:us-east-1:123456789012:dbuser:db-ABC/app",
        },
        {"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"},
        {"Effect": "Allow", "NotAction": ["rds-db:*"], "Resource": "*"},
        {"Effect": "Deny", "Action": "rds-db:connect", "Resource": "*"},
        {"Effect": "Allow", "Action": ["rds:connect"], "Resource": "*"},
    ],
}


def test_statements_and_which_can_grant_connect() -> None:
    found = statements(CONNECT_DOC)
    assert [s.label for s in found] == ["Connect", "#1", "#2", "#3", "#4"]
    assert [s.can_grant_connect() for s in found] == [True, True, False, False, False]
    single = statements({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}})
    assert single[0].actions == ("*",) and single[0].can_grant_connect()


def test_documents_url_encoded_or_objects() -> None:
    encoded = quote(json.dumps(CONNECT_DOC))
    assert load_document(encoded) == CONNECT_DOC
    assert load_document(json.dumps(CONNECT_DOC)) == CONNECT_DOC
    assert load_document(CONNECT_DOC) is CONNECT_DOC
    with pytest.raises(PolicyError):
        load_document("%7Bnot json")


def test_iter_policies_reads_default_versions_and_attachments() -> None:
    old = {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
    iam = {
        "RoleDetailList": [
            {
                "RoleName": "app",
                "Arn": "arn:aws:iam::123456789012:role/app",
                "RolePolicyList": [
                    {"PolicyName": "db", "PolicyDocument": quote(json.dumps(CONNECT_DOC))}
                ],
                "AttachedManagedPolicies": [
                    {"PolicyName": "shared", "PolicyArn": "arn:aws:iam::123456789012:policy/shared"}
                ],
            }
        ],
        "UserDetailList": [
            {
                "UserName": "jane",
                "Arn": "arn:aws:iam::123456789012:user/jane",
                "AttachedManagedPolicies": [
                    {"PolicyArn": "arn:aws:iam::123456789012:policy/shared"}
                ],
            }
        ],
        "GroupDetailList": [],
        "Policies": [
            {
                "PolicyName": "shared",
                "Arn": "arn:aws:iam::123456789012:policy/shared",
                "DefaultVersionId": "v3",
                "PolicyVersionList": [
                    {"VersionId": "v1", "IsDefaultVersion": False, "Document": old},
                    {
                        "VersionId": "v3",
                        "IsDefaultVersion": True,
                        "Document": quote(json.dumps(CONNECT_DOC)),
                    },
                ],
            }
        ],
    }
    docs = {d.name: d for d in iter_policies(iam)}
    assert set(docs) == {"app/db", "shared"}
    assert docs["app/db"].kind == "inline"
    assert docs["app/db"].attached_to == ("arn:aws:iam::123456789012:role/app",)
    assert docs["shared"].document == CONNECT_DOC  # v3, not v1
    assert docs["shared"].attached_to == (
        "arn:aws:iam::123456789012:role/app",
        "arn:aws:iam::123456789012:user/jane",
    )
