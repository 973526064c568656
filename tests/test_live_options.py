"""Live options not covered by the world of test_live.py: --external-id and the progress line."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from conftest import MOTO_ACCESS

from checker.collect.live import Options, collect

ACCESS = MOTO_ACCESS


def test_external_id_is_sent_with_every_assume_role(moto_url: str) -> None:
    org = boto3.client("organizations", endpoint_url=moto_url, region_name="us-east-1", **ACCESS)
    org.create_organization(FeatureSet="ALL")
    org.create_account(AccountName="member", Email="member@example.com")
    seen: list[dict[str, Any]] = []

    def factory(**kwargs: Any) -> boto3.Session:
        kwargs.pop("profile_name", None)
        session = boto3.Session(**{"region_name": "us-east-1", **ACCESS, **kwargs})
        session.events.register(
            "before-parameter-build.sts.AssumeRole", lambda params, **_: seen.append(dict(params))
        )
        return session

    doc, _ = collect(
        Options(
            org=True, role_name="audit", external_id="ext-7f3c", regions=["us-east-1"], workers=2
        ),
        session_factory=factory,
        endpoint_for=lambda service, region: moto_url,
    )
    assert len(doc["accounts"]) == 2
    # moto does not implement DescribeCertificates (test_live.py fills that gap); nothing else
    # may have failed, AssumeRole least of all.
    assert {e["operation"] for e in doc["errors"]} <= {"DescribeCertificates"}
    assert len(seen) == 2, seen
    assert [p.get("ExternalId") for p in seen] == ["ext-7f3c"] * 2, seen
    assert {p["RoleArn"].split(":")[4] for p in seen} == {a["account_id"] for a in doc["accounts"]}


def test_progress_line_counts_tasks_and_resources(
    moto_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rds = boto3.client("rds", endpoint_url=moto_url, region_name="eu-west-1", **ACCESS)
    rds.create_db_instance(
        DBInstanceIdentifier="p1",
        Engine="postgres",
        EngineVersion="16.3",
        DBInstanceClass="db.m6g.large",
        MasterUsername="master",
        MasterUserPassword="not-a-real-password",
        AllocatedStorage=20,
    )

    def factory(**kwargs: Any) -> boto3.Session:
        kwargs.pop("profile_name", None)
        return boto3.Session(**{"region_name": "us-east-1", **ACCESS, **kwargs})

    collect(
        Options(regions=["us-east-1", "eu-west-1"], progress=True, workers=2),
        session_factory=factory,
        endpoint_for=lambda service, region: moto_url,
    )
    err = capsys.readouterr().err
    # one IAM task and two Region tasks; the last update is complete
    assert err.rstrip("\n").rsplit("\r", 1)[-1] == (
        "rdsiam: 3/3 account and Region tasks, 1 resources"
    )
    collect(
        Options(regions=["eu-west-1"], progress=False, workers=2),
        session_factory=factory,
        endpoint_for=lambda service, region: moto_url,
    )
    assert capsys.readouterr().err == ""
