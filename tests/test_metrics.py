"""collect --metrics against moto's CloudWatch, judged by RIA701."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from conftest import MOTO_ACCESS, run_cli

from checker.collect.live import Options, collect

ACCESS = MOTO_ACCESS
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def metrics_world(moto_url: str) -> str:
    """Three instances (two with IAM) and their connection metrics."""
    url = moto_url
    rds = boto3.client("rds", endpoint_url=url, region_name="us-east-1", **ACCESS)
    for name, iam in (("busy", True), ("calm", True), ("password", False)):
        rds.create_db_instance(
            DBInstanceIdentifier=name,
            Engine="postgres",
            EngineVersion="16.3",
            DBInstanceClass="db.m6g.large",
            MasterUsername="master",
            AllocatedStorage=20,
            MasterUserPassword="not-a-real-password",
            EnableIAMDatabaseAuthentication=iam,
        )
    cloudwatch = boto3.client("cloudwatch", endpoint_url=url, region_name="us-east-1", **ACCESS)
    for name, per_minute in (("busy", [900, 13_500, 60]), ("calm", [30, 120])):
        for minutes_ago, value in enumerate(per_minute, start=1):
            cloudwatch.put_metric_data(
                Namespace="AWS/RDS",
                MetricData=[
                    {
                        "MetricName": "IamDbAuthConnectionRequests",
                        "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": name}],
                        "Timestamp": NOW - timedelta(minutes=minutes_ago),
                        "Value": value,
                        "Unit": "Count",
                    }
                ],
            )
    return url


def session_factory(url: str):  # type: ignore[no-untyped-def]
    def make(**kwargs: object) -> boto3.Session:
        kwargs.pop("profile_name", None)
        return boto3.Session(**{"region_name": "us-east-1", **ACCESS, **kwargs})  # type: ignore[arg-type]

    return make


def test_metrics_keep_each_iam_instance_peak(metrics_world: str) -> None:
    doc, stats = collect(
        Options(regions=["us-east-1"], metrics_days=14, workers=2),
        session_factory=session_factory(metrics_world),
        endpoint_for=lambda service, region: metrics_world,
        clock=lambda: NOW,
    )
    (region,) = doc["accounts"][0]["regions"]
    series = region["Metrics"]["IamDbAuthConnectionRequests"]
    assert series["period_seconds"] == 60 and series["days"] == 14
    assert series["end"] == "2026-11-28T12:00:00Z"
    # only IAM-enabled instances are asked for, and only their peaks are kept
    assert series["instances"] == {
        "busy": {"max_per_minute": 13_500.0, "datapoints": 3},
        "calm": {"max_per_minute": 120.0, "datapoints": 2},
    }
    assert stats.calls["GetMetricData"] == 1  # both instances in one batch


def test_metrics_off_by_default_and_judged_by_ria701(metrics_world: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    doc, stats = collect(
        Options(regions=["us-east-1"], workers=2),
        session_factory=session_factory(metrics_world),
        endpoint_for=lambda service, region: metrics_world,
        clock=lambda: NOW,
    )
    assert "Metrics" not in doc["accounts"][0]["regions"][0]
    assert stats.calls["GetMetricData"] == 0
    with_metrics, _ = collect(
        Options(regions=["us-east-1"], metrics_days=14, workers=2),
        session_factory=session_factory(metrics_world),
        endpoint_for=lambda service, region: metrics_world,
        clock=lambda: NOW,
    )
    path = tmp_path / "snap.json"
    path.write_text(json.dumps(with_metrics))
    proc = run_cli("check", str(path), "--format", "json", "--select", "RIA701")
    got = {f["resource"]["id"]: f["status"] for f in json.loads(proc.stdout)["findings"]}
    assert got == {"busy": "fail", "calm": "pass", "password": "not_applicable"}


def test_live_usage_errors() -> None:
    for args, text in (
        (["collect", "-o", "x.json", "--org"], "--role-name"),
        (["collect", "-o", "x.json", "--workers", "0"], "--workers"),
        (["scan", "--metrics", "--metrics-days", "0"], "--metrics-days"),
        (["scan", "--select", "RIA999"], "RIA999"),
    ):
        proc = run_cli(*args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert proc.stderr.count("\n") == 1 and text in proc.stderr, proc.stderr
