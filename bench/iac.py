"""Benchmark of ``rdsiam check`` on CloudFormation templates.

Writes one YAML template of 50 resources (DB instances, an Aurora cluster with members,
parameter groups, a proxy, IAM roles with connect policies built with ``!Sub`` / ``!GetAtt``),
times ``rdsiam check`` on it in a fresh process (the median of several runs: this is the
pre-commit case), then on a directory of 1,000 such templates in one run. It reports; it does
not assert.

    python3 bench/iac.py [--templates 1000] [--runs 5] [--many-runs 3]

The machine's speed changes by half from minute to minute on a shared VM: each figure is the
median and the minimum of several runs, between two "reference work" lines.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from measure import measure, reference  # bench/measure.py: bench/ is on sys.path when run

ROOT = Path(__file__).resolve().parent.parent


def template(seed: int) -> str:
    """A realistic 50-resource template (the seed varies names)."""
    out = [
        "AWSTemplateFormatVersion: '2010-09-09'",
        f"Description: bench stack {seed}",
        "Parameters:",
        "  EnableIam:",
        "    Type: String",
        "    Default: 'true'",
        "    AllowedValues: ['true', 'false']",
        "  Env:",
        "    Type: String",
        "    Default: prod",
        "Conditions:",
        "  IsProd: !Equals [!Ref Env, prod]",
        "Resources:",
        "  PgParams:",
        "    Type: AWS::RDS::DBParameterGroup",
        "    Properties:",
        "      Family: postgres16",
        "      Description: pg",
        "      Parameters:",
        "        rds.force_ssl: '1'",
        "  Cluster:",
        "    Type: AWS::RDS::DBCluster",
        "    Properties:",
        "      Engine: aurora-postgresql",
        "      EngineVersion: '16.4'",
        "      EnableIAMDatabaseAuthentication: true",
        "      MasterUsername: admin",
        "      ManageMasterUserPassword: true",
    ]
    for i in range(3):
        out += [
            f"  Member{i}:",
            "    Type: AWS::RDS::DBInstance",
            "    Properties:",
            "      Engine: aurora-postgresql",
            "      DBClusterIdentifier: !Ref Cluster",
            "      DBInstanceClass: db.r6g.large",
        ]
    for i in range(20):
        out += [
            f"  Db{i}:",
            "    Type: AWS::RDS::DBInstance",
            "    Properties:",
            "      Engine: postgres",
            "      EngineVersion: '16.4'",
            "      DBInstanceClass: db.m6g.large",
            "      AllocatedStorage: '20'",
            "      MasterUsername: admin",
            "      ManageMasterUserPassword: true",
            "      DBParameterGroupName: !Ref PgParams",
            "      EnableIAMDatabaseAuthentication: !Ref EnableIam",
            f"      DBInstanceIdentifier: !Sub '${{Env}}-db{i}-{seed}'",
        ]
    for i in range(20):
        target = f"Db{i}"
        # every fifth grant makes the identifier mistake (!Ref gives the identifier)
        resource_part = f"${{{target}.DbiResourceId}}" if i % 5 else f"${{{target}}}"
        out += [
            f"  Role{i}:",
            "    Type: AWS::IAM::Role",
            "    Properties:",
            "      AssumeRolePolicyDocument:",
            "        Version: '2012-10-17'",
            "        Statement:",
            "          - Effect: Allow",
            "            Principal: {Service: ecs-tasks.amazonaws.com}",
            "            Action: sts:AssumeRole",
            "      Policies:",
            "        - PolicyName: connect",
            "          PolicyDocument:",
            "            Version: '2012-10-17'",
            "            Statement:",
            "              - Effect: Allow",
            "                Action: rds-db:connect",
            "                Resource: !Sub 'arn:${AWS::Partition}:rds-db:${AWS::Region}:"
            f"${{AWS::AccountId}}:dbuser:{resource_part}/app'",
        ]
    out += [
        "  Proxy:",
        "    Type: AWS::RDS::DBProxy",
        "    Condition: IsProd",
        "    Properties:",
        "      DBProxyName: !Sub '${Env}-proxy'",
        "      EngineFamily: POSTGRESQL",
        "      RequireTLS: true",
        "      RoleArn: !GetAtt Role0.Arn",
        "      VpcSubnetIds: [subnet-1, subnet-2]",
        "      Auth:",
        "        - AuthScheme: SECRETS",
        "          IAMAuth: REQUIRED",
        "          SecretArn: arn:aws:secretsmanager:us-east-1:123456789012:secret:x",
        "  ProxyTargets:",
        "    Type: AWS::RDS::DBProxyTargetGroup",
        "    Properties:",
        "      DBProxyName: !Ref Proxy",
        "      TargetGroupName: default",
        "      DBInstanceIdentifiers: [!Ref Db0]",
        "  Managed:",
        "    Type: AWS::IAM::ManagedPolicy",
        "    Properties:",
        "      Roles: [!Ref Role1]",
        "      PolicyDocument:",
        "        Version: '2012-10-17'",
        "        Statement:",
        "          - Effect: Allow",
        "            Action: rds-db:connect",
        "            Resource: !Sub 'arn:aws:rds-db:${AWS::Region}:${AWS::AccountId}:dbuser:"
        "${Cluster.DBClusterResourceId}/reporting'",
    ]
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--templates", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--many-runs", type=int, default=3)
    args = parser.parse_args()
    print(reference())
    with tempfile.TemporaryDirectory(prefix="rdsiam-iac-") as tmp:
        one = Path(tmp) / "stack.yaml"
        one.write_text(template(0), encoding="utf-8")
        count = one.read_text(encoding="utf-8").count("\n    Type: ")
        walls = []
        for _ in range(args.runs):
            wall, rss, code, crashed = measure("check", str(one), "--format", "json")
            walls.append(wall)
        flag = " CRASHED" if crashed or code == 2 else ""
        print(
            f"one template ({count} resources): median {statistics.median(walls):.2f} s,"
            f" min {min(walls):.2f} s over {args.runs} runs, {rss / 2**20:.0f} MiB, exit"
            f" {code}{flag}  (target: under 0.5 s)"
        )
        many = Path(tmp) / "stacks"
        many.mkdir()
        started = time.perf_counter()
        for i in range(args.templates):
            (many / f"stack{i:04d}.yaml").write_text(template(i), encoding="utf-8")
        written = time.perf_counter() - started
        walls = []
        for _ in range(args.many_runs):
            wall, rss, code, crashed = measure(
                "check", str(many), "--format", "json", "--output", str(Path(tmp) / "r.json")
            )
            walls.append(wall)
        flag = " CRASHED" if crashed or code == 2 else ""
        print(
            f"{args.templates} templates in one run: median {statistics.median(walls):.2f} s,"
            f" min {min(walls):.2f} s over {args.many_runs} runs, {rss / 2**20:.0f} MiB, exit"
            f" {code}{flag}  (target: under 20 s; writing them took {written:.1f} s)"
        )
    print(reference())


if __name__ == "__main__":
    main()
