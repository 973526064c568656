"""CloudFormation templates: YAML short forms, JSON and CDK output, lines, parameters, pseudo
parameters, conditions, intrinsic functions, and bad input (always an InputError)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from checker.errors import InputError
from checker.iac import cloudformation
from checker.iac.cloudformation import (
    LineDict,
    looks_like_template,
    parse_yaml,
    read,
    read_parameters_file,
)
from checker.iac.model import IacFile, IacResource

DATA = Path(__file__).resolve().parent / "data" / "cloudformation"
YAML = DATA / "rds_iam.yaml"
JSON = DATA / "rds_iam.json"
CDK = DATA / "cdk.out" / "DbStack.template.json"
ACCOUNT = "123456789012"


def read_path(path: Path, **kwargs: Any) -> IacFile:
    out = read(str(path), path.read_bytes(), **kwargs)
    assert out is not None
    return out


def resources(iac: IacFile) -> dict[str, IacResource]:
    return {r.address: r for r in iac.resources}


def template(text: str, **kwargs: Any) -> IacFile:
    out = read("t.yaml", textwrap.dedent(text).encode(), **kwargs)
    assert out is not None
    return out


def props(text: str, logical: str = "R", **kwargs: Any) -> dict[str, Any]:
    return resources(template(text, **kwargs))[logical].properties


def failure(text: str, **kwargs: Any) -> InputError:
    with pytest.raises(InputError) as caught:
        template(text, **kwargs)
    return caught.value


def line_of(path: Path, needle: str, after: str | None = None) -> int:
    """The 1-based line of the first line holding ``needle`` (after the line holding
    ``after``): found by text search, independently of the reader."""
    lines = path.read_text().splitlines()
    start = 0
    if after is not None:
        start = next(i for i, line in enumerate(lines) if after in line) + 1
    return next(i + 1 for i in range(start, len(lines)) if needle in lines[i])


# -- the YAML loader --------------------------------------------------------------------------


def test_short_form_tags_become_long_forms() -> None:
    doc = parse_yaml(
        "t.yaml",
        textwrap.dedent(
            """\
            a: !Ref Db
            b: !GetAtt Db.Endpoint.Address
            c: !GetAtt [Db, DbiResourceId]
            d: !Sub "arn:${AWS::Partition}:rds-db"
            e: !Sub ["${X}-db", {X: !Ref Env}]
            f: !Join ["", [a, !Ref B]]
            g: !If [IsProd, 1, !Ref "AWS::NoValue"]
            h: !Select [0, !Split [",", "a,b"]]
            i: !FindInMap [Map, !Ref "AWS::Region", Key]
            j: !ImportValue shared-VpcId
            k: !Equals [!Ref Env, prod]
            l: !And [!Condition A, !Or [!Condition B, !Not [!Condition C]]]
            m: !Base64 text
            n: !Cidr [10.0.0.0/16, 4, 8]
            o: !GetAZs ""
            p: !Transform {Name: AWS::Include, Parameters: {Location: s3://bucket/x.yaml}}
            """
        ),
    )
    assert doc == {
        "a": {"Ref": "Db"},
        "b": {"Fn::GetAtt": ["Db", "Endpoint.Address"]},
        "c": {"Fn::GetAtt": ["Db", "DbiResourceId"]},
        "d": {"Fn::Sub": "arn:${AWS::Partition}:rds-db"},
        "e": {"Fn::Sub": ["${X}-db", {"X": {"Ref": "Env"}}]},
        "f": {"Fn::Join": ["", ["a", {"Ref": "B"}]]},
        "g": {"Fn::If": ["IsProd", 1, {"Ref": "AWS::NoValue"}]},
        "h": {"Fn::Select": [0, {"Fn::Split": [",", "a,b"]}]},
        "i": {"Fn::FindInMap": ["Map", {"Ref": "AWS::Region"}, "Key"]},
        "j": {"Fn::ImportValue": "shared-VpcId"},
        "k": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
        "l": {
            "Fn::And": [
                {"Condition": "A"},
                {"Fn::Or": [{"Condition": "B"}, {"Fn::Not": [{"Condition": "C"}]}]},
            ]
        },
        "m": {"Fn::Base64": "text"},
        "n": {"Fn::Cidr": ["10.0.0.0/16", 4, 8]},
        "o": {"Fn::GetAZs": ""},
        "p": {
            "Fn::Transform": {
                "Name": "AWS::Include",
                "Parameters": {"Location": "s3://bucket/x.yaml"},
            }
        },
    }
    # Each short form remembers where it is written, for errors inside it.
    assert doc["e"].lines == {"Fn::Sub": 5}
    assert doc.lines["p"] == 16


def test_loader_is_a_csafeloader_and_works_with_yaml_load() -> None:
    import yaml

    assert issubclass(cloudformation.TemplateLoader, yaml.CSafeLoader)
    doc = yaml.load("x: !Ref Y\ny: [1, 2]\n", Loader=cloudformation.TemplateLoader)
    assert doc == {"x": {"Ref": "Y"}, "y": [1, 2]}
    assert doc.lines == {"x": 1, "y": 2}


def test_values_keep_json_types_and_cloudformation_strings() -> None:
    doc = parse_yaml(
        "t.yaml",
        "Version: 2012-10-17\nOn: true\nPort: 5432\nRatio: 1.5\nEmpty:\n"
        "123456789012: account\n2024-01-01: date key\nQuoted: 'true'\n",
    )
    assert doc == {
        "Version": "2012-10-17",  # YAML 1.1 would make it a date
        "On": True,
        "Port": 5432,
        "Ratio": 1.5,
        "Empty": None,
        "123456789012": "account",  # keys are strings, as written
        "2024-01-01": "date key",
        "Quoted": "true",
    }


@pytest.mark.parametrize(
    ("text", "message", "location"),
    [
        ("a: 1\nb: !Foo bar\n", "unsupported YAML tag !Foo", "line 2"),
        ("a:\n  b: !!binary aGVsbG8=\n", "unsupported YAML tag tag:yaml.org,2002:binary", "line 2"),
        ("a: !!set {x, y}\n", "unsupported YAML tag tag:yaml.org,2002:set", "line 1"),
        ("a:\n  - !Ref\n    - x\n  - !Nope {}\n", "unsupported YAML tag !Nope", "line 4"),
    ],
)
def test_unknown_tags_are_refused_with_their_line(text: str, message: str, location: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_yaml("t.yaml", text)
    assert caught.value.detail == message
    assert caught.value.location == location
    assert str(caught.value) == f"t.yaml: {location}: {message}"


def test_unknown_tag_in_a_template_is_an_input_error() -> None:
    error = failure(
        """\
        Resources:
          Db:
            Type: AWS::RDS::DBInstance
            Properties:
              Engine: !Vault postgres
        """
    )
    assert (error.location, error.detail) == ("line 5", "unsupported YAML tag !Vault")


def test_aliases_are_refused_with_the_line_of_the_alias() -> None:
    text = textwrap.dedent(
        """\
        Resources:
          Db:
            Type: AWS::RDS::DBInstance
            Properties: &props
              Engine: postgres
          Replica:
            Type: AWS::RDS::DBInstance
            Properties: *props
        """
    )
    with pytest.raises(InputError) as caught:
        read("t.yaml", text.encode())
    assert caught.value.location == "line 8"
    assert caught.value.detail == (
        "YAML aliases are not allowed (this one repeats the node at line 4)"
    )


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("a: &x [1]\nb:\n  - *x\n", 3),
        ("a: &x [1]\nb:\n  - z\n  - *x\n", 4),
        ("a: &x [1]\nb:\n  - k: v\n    j: w\n  - *x\n", 5),
        ("a: &x [1]\nb:\n  - [1, 2]\n  - *x\n", 4),
        ("a: &x [1]\nb: [z, *x]\n", 2),
        ("a: &x [1]\nb:\n  c: *x\n", 3),
    ],
)
def test_alias_lines_in_sequences_and_mappings(text: str, line: int) -> None:
    with pytest.raises(InputError) as caught:
        parse_yaml("t.yaml", text)
    assert caught.value.location == f"line {line}"
    assert caught.value.detail == (
        "YAML aliases are not allowed (this one repeats the node at line 1)"
    )


BILLION_LAUGHS = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
      b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
      c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
      d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
      e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
      f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
      g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
      h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
      i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def test_billion_laughs_fails_fast_in_bounded_memory() -> None:
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(InputError) as from_read:
            read("laughs.yaml", BILLION_LAUGHS.encode())
        with pytest.raises(InputError) as from_parse:
            parse_yaml("laughs.yaml", BILLION_LAUGHS)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Expanded, the document holds 9**9 (387 million) strings.
    assert elapsed < 0.5
    assert peak < 2_000_000
    for caught in (from_read, from_parse):
        assert caught.value.location == "line 7"
        assert caught.value.detail.startswith("YAML aliases are not allowed")


def test_deep_nesting_is_refused_without_crashing() -> None:
    # libyaml's composer recurses in C and crashes the interpreter some 30,000 levels down:
    # run in a child process, so that a crash fails this test instead of the whole run.
    code = textwrap.dedent(
        """\
        from checker.errors import InputError
        from checker.iac import cloudformation
        head = b"Resources:\\n  B:\\n    Type: AWS::S3::Bucket\\n    Properties:\\n      A: "
        for body in (b"[" * 60000 + b"]" * 60000, b"\\n        " + b"- " * 60000 + b"x"):
            try:
                cloudformation.read("deep.yaml", head + body + b"\\n")
            except InputError as exc:
                print(exc)
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    # Refused either by rdsiam's own limit or, with newer PyYAML builds, by libyaml's: one
    # InputError line each, naming the line, and no crash.
    lines = proc.stdout.splitlines()
    assert len(lines) == 2, lines
    for line, number in zip(lines, (5, 6), strict=True):
        assert line.startswith(f"deep.yaml: line {number}"), line
        assert "nest" in line, line


def test_nesting_is_bounded() -> None:
    head = "Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      A: "
    error = failure(head + "[" * 800 + "]" * 800 + "\n")
    assert (error.detail, error.location) == ("nested deeper than 500 levels", "line 5")
    value = props(head + "[" * 100 + "x" + "]" * 100 + "\n", logical="B")["A"]
    for _ in range(100):
        assert isinstance(value, list) and len(value) == 1
        value = value[0]
    assert value == "x"


def test_deep_json_is_an_input_error() -> None:
    head = '{"Resources": {"B": {"Type": "AWS::S3::Bucket", "Properties": {"A": '
    data = (head + "[" * 5000 + "]" * 5000 + "}}}}").encode()
    with pytest.raises(InputError) as caught:
        read("deep.json", data)
    assert (caught.value.detail, caught.value.location) == ("invalid JSON: nested too deeply", None)


def test_garbage_collector_is_left_as_found() -> None:
    import gc

    assert gc.isenabled()
    read_path(YAML)
    assert gc.isenabled()
    with pytest.raises(InputError):
        read("t.yaml", b"Resources:\n  B: {Type: AWS::S3::Bucket, Properties: !Bad x}\n")
    assert gc.isenabled()
    gc.disable()
    try:
        read_path(YAML)
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.parametrize(
    ("text", "location", "problem"),
    [
        (
            "Resources:\n  Db:\n    Type: [AWS::RDS::DBInstance\n",
            "line 4, column 1",
            "did not find expected ',' or ']'",
        ),
        (
            "Resources:\n  Db:\n    Type: AWS::RDS::DBInstance\n   Properties: {}\n",
            "line 4, column 4",
            "did not find expected key",
        ),
        (
            "Resources:\n\tDb:\n",
            "line 2, column 1",
            "found character that cannot start any token",
        ),
    ],
)
def test_invalid_yaml_names_line_and_column(text: str, location: str, problem: str) -> None:
    with pytest.raises(InputError) as caught:
        read("bad.yaml", text.encode())
    assert caught.value.location == location
    assert caught.value.detail == f"invalid YAML: {problem}"
    with pytest.raises(InputError) as parsed:
        parse_yaml("bad.yaml", text)
    assert parsed.value.location == location


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"Properties: {A: \xff}\n", "invalid YAML: invalid leading UTF-8 octet (character 255)"),
        (
            b'Properties: {A: "\x00"}\n',
            "invalid YAML: control characters are not allowed (character 0)",
        ),
    ],
)
def test_undecodable_yaml_names_the_line(data: bytes, message: str) -> None:
    head = b"\xef\xbb\xbfResources:\n  B:\n    Type: AWS::S3::Bucket\n    "
    with pytest.raises(InputError) as caught:
        read("t.yaml", head + data)
    assert (caught.value.detail, caught.value.location) == (message, "line 4")


def test_duplicate_keys_are_refused() -> None:
    error = failure(
        """\
        Resources:
          Db:
            Type: AWS::RDS::DBInstance
            Properties:
              EnableIAMDatabaseAuthentication: true
              EnableIAMDatabaseAuthentication: false
        """
    )
    assert error.location == "line 6"
    assert error.detail == "duplicate key 'EnableIAMDatabaseAuthentication' (first at line 5)"
    with pytest.raises(InputError) as caught:
        read("t.json", b'{"Resources": {"B": {"Type": "AWS::S3::Bucket", "Type": "x"}}}')
    assert caught.value.detail == "duplicate key 'Type'"


# -- what is a template -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        # docker-compose with anchors and aliases: not a template, so not refused either
        "x-common: &common\n  restart: always\nservices:\n  db:\n    <<: *common\n"
        "    image: postgres:16\n",
        # Kubernetes: has Resources-like words but no template shape
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - name: x\n"
        "      resources:\n        limits: {cpu: 1}\n",
        # Serverless Framework: the template sits under resources:
        "service: api\nresources:\n  Resources:\n    Table:\n      Type: AWS::DynamoDB::Table\n",
        # Resources, but not CloudFormation's
        "Resources:\n  cpu: 2\n  memory: 4Gi\n",
        "Resources:\n  Thing:\n    Type: Kubernetes::Pod\n",
        "- Resources\n- AWSTemplateFormatVersion is mentioned in a list\n",
        "",
        "# just a comment, Resources\n",
        "no template here\n",
        '{"Resources": [1, 2]}',
        '{"format_version": "1.2", "resource_changes": [], "Resources": null}',
        "[]",
    ],
)
def test_other_documents_are_not_templates(text: str) -> None:
    assert read("other.yaml", text.encode()) is None


def test_binary_data_is_not_a_template() -> None:
    assert read("x.bin", bytes(range(256)) * 4) is None


def test_looks_like_template() -> None:
    assert looks_like_template({"AWSTemplateFormatVersion": "2010-09-09"})
    assert looks_like_template({"Resources": {"Db": {"Type": "AWS::RDS::DBInstance"}}})
    assert looks_like_template({"Resources": {"X": {"Type": "Custom::Thing"}}})
    assert looks_like_template(json.loads(CDK.read_text()))
    assert not looks_like_template({"Resources": {"X": {"Type": "Other::Thing"}}})
    assert not looks_like_template({"Resources": {"X": "AWS::S3::Bucket"}})
    assert not looks_like_template({"Resources": []})
    assert not looks_like_template({"resources": {"X": {"Type": "AWS::S3::Bucket"}}})
    assert not looks_like_template([{"Type": "AWS::S3::Bucket"}])
    assert not looks_like_template(None)


def test_template_with_broken_resources_is_an_input_error() -> None:
    error = failure(
        """\
        AWSTemplateFormatVersion: "2010-09-09"
        Resources:
          Db:
            Properties: {Engine: postgres}
        """
    )
    assert (error.location, error.detail) == ("line 3", "resource 'Db' has no Type")
    error = failure("AWSTemplateFormatVersion: '2010-09-09'\nResources: [a]\n")
    assert (error.location, error.detail) == ("line 2", "Resources must be a mapping, found a list")
    error = failure("Resources:\n  Db:\n    Type: AWS::RDS::DBInstance\n    Properties: [1]\n")
    assert (error.location, error.detail) == (
        "line 4",
        "resource 'Db': Properties must be a mapping, found a list",
    )


# -- the fixture template ---------------------------------------------------------------------


def test_resources_in_template_order_with_types_and_lines() -> None:
    iac = read_path(YAML)
    assert iac.path == str(YAML)
    assert iac.kind == "cloudformation"
    assert [(r.address, r.type) for r in iac.resources] == [
        ("DbSubnetGroup", "AWS::RDS::DBSubnetGroup"),
        ("DbSecurityGroup", "AWS::EC2::SecurityGroup"),
        ("DbParameterGroup", "AWS::RDS::DBParameterGroup"),
        ("Db", "AWS::RDS::DBInstance"),
        ("ClusterParameterGroup", "AWS::RDS::DBClusterParameterGroup"),
        ("Cluster", "AWS::RDS::DBCluster"),
        ("ClusterMember", "AWS::RDS::DBInstance"),
        ("ProxyRole", "AWS::IAM::Role"),
        ("Proxy", "AWS::RDS::DBProxy"),
        ("ProxyTargetGroup", "AWS::RDS::DBProxyTargetGroup"),
        ("AppRole", "AWS::IAM::Role"),
        ("ClusterConnectPolicy", "AWS::IAM::ManagedPolicy"),
        # ReplicaDb: condition IsProd is false with the default Env
        ("MonitoringRole", "AWS::IAM::Role"),
        ("BastionSubnet", "AWS::EC2::Subnet"),
        ("Bastion", "AWS::EC2::Instance"),
    ]
    for res in iac.resources:
        assert res.path == str(YAML)
        assert res.line == line_of(YAML, f"  {res.address}:", after="Resources:")
    assert resources(iac)["Db"].line == 97


def test_property_lines_use_dotted_paths() -> None:
    found = resources(read_path(YAML))
    db = found["Db"].property_lines
    assert db["Type"] == line_of(YAML, "Type: AWS::RDS::DBInstance")
    assert db["Properties"] == line_of(YAML, "Properties:", after="  Db:")
    assert db["Properties.EnableIAMDatabaseAuthentication"] == line_of(
        YAML, "EnableIAMDatabaseAuthentication:"
    )
    assert db["Properties.VPCSecurityGroups.0"] == line_of(YAML, "- !GetAtt DbSecurityGroup")
    # The Backup tag is removed (AWS::NoValue): the Env tag is item 1 of the resolved list.
    assert db["Properties.Tags.1"] == line_of(YAML, "- Key: Env")
    assert db["Properties.Tags.1.Value"] == line_of(YAML, "Value: !Ref Env")
    assert "Properties.Tags.2" not in db
    assert db["Metadata.Owner"] == line_of(YAML, 'Owner: !Sub "team-${Env}"')
    assert db["Metadata.cfn-lint.config.ignore_checks.0"] == line_of(YAML, "ignore_checks:")

    role = found["AppRole"].property_lines
    statements = "Properties.Policies.0.PolicyDocument.Statement"
    assert role[f"{statements}.0.Resource"] == line_of(YAML, "Resource: !Sub arn:${AWS::Partition}")
    assert role[f"{statements}.1"] == line_of(YAML, "- Sid: ConnectByIdentifier")
    assert role[f"{statements}.1.Resource"] == line_of(YAML, "Resource: !Join")
    policy = found["ClusterConnectPolicy"].property_lines
    assert policy["Properties.PolicyDocument.Statement.0.Resource.1"] == line_of(
        YAML, "${!aws:username}"
    )
    # The Deny statement is an Fn::If that is false by default: no line for it.
    assert "Properties.PolicyDocument.Statement.1" not in policy


def test_property_lines_follow_the_chosen_branch_of_fn_if() -> None:
    policy = resources(read_path(YAML, parameters={"Env": "prod"}))["ClusterConnectPolicy"]
    lines = policy.property_lines
    assert lines["Properties.PolicyDocument.Statement.1.Effect"] == line_of(YAML, "Effect: Deny")
    assert lines["Properties.PolicyDocument.Statement.1.Condition.Bool"] == line_of(
        YAML, "Bool: {aws:SecureTransport"
    )


def test_resolved_properties_with_defaults() -> None:
    found = resources(read_path(YAML))
    assert found["Db"].properties == {
        "Engine": "postgres",
        "EngineVersion": "15.4",
        "DBInstanceClass": "db.t4g.micro",
        "AllocatedStorage": "20",
        "Port": "5432",  # Ref of a Number parameter: its string
        "EnableIAMDatabaseAuthentication": True,
        "DBParameterGroupName": "${DbParameterGroup}",
        "DBSubnetGroupName": "${DbSubnetGroup}",
        "VPCSecurityGroups": ["${DbSecurityGroup.GroupId}"],
        "MasterUsername": "postgres",
        "ManageMasterUserPassword": True,
        "BackupRetentionPeriod": 1,
        # CaByRegion gives the same value in every Region: known without the Region
        "CACertificateIdentifier": "rds-ca-rsa2048-g1",
        "AvailabilityZone": "${Fn::Select}",
        "DeletionProtection": False,
        "StorageEncrypted": True,
        "PubliclyAccessible": False,
        "Tags": [
            {"Key": "Name", "Value": "${AWS::StackName}-db"},
            {"Key": "Env", "Value": "dev"},
        ],
    }
    assert found["Db"].metadata == {
        "cfn-lint": {"config": {"ignore_checks": ["W3005"]}},
        "Owner": "team-dev",
    }
    assert found["DbParameterGroup"].properties == {
        "Description": "Force TLS",
        "Family": "postgres15",
        "Parameters": {"rds.force_ssl": "1", "log_connections": 1},
    }
    statements = found["AppRole"].properties["Policies"][0]["PolicyDocument"]["Statement"]
    assert [s["Resource"] for s in statements] == [
        "arn:${AWS::Partition}:rds-db:${AWS::Region}:${AWS::AccountId}:dbuser:${Db.DbiResourceId}/app",
        # Ref of the instance: its identifier, which rds-db:connect ARNs do not take
        "arn:${AWS::Partition}:rds-db:${AWS::Region}:${AWS::AccountId}:dbuser:${Db}/app",
    ]
    assert found["ClusterConnectPolicy"].properties == {
        "Description": "Connect to ${Cluster} as app or as one's own IAM user name",
        "Roles": ["${AppRole}"],
        "PolicyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["rds-db:connect"],
                    "Resource": [
                        "arn:${AWS::Partition}:rds-db:${AWS::Region}:${AWS::AccountId}:dbuser:"
                        "${Cluster.DBClusterResourceId}/app",
                        "arn:${AWS::Partition}:rds-db:${AWS::Region}:${AWS::AccountId}:dbuser:"
                        "${Cluster.DBClusterResourceId}/${aws:username}",
                    ],
                }
            ],
        },
    }
    assert found["Proxy"].properties == {
        "DBProxyName": "${AWS::StackName}-proxy",
        "EngineFamily": "POSTGRESQL",
        "RequireTLS": True,
        "RoleArn": "${ProxyRole.Arn}",
        "VpcSubnetIds": "${SubnetIds}",
        "Auth": [
            {
                "AuthScheme": "SECRETS",
                "IAMAuth": "REQUIRED",
                "SecretArn": "${Cluster.MasterUserSecret.SecretArn}",
            }
        ],
    }
    assert found["ProxyTargetGroup"].properties["DBClusterIdentifiers"] == ["${Cluster}"]
    assert found["ClusterMember"].properties["DBClusterIdentifier"] == "${Cluster}"
    assert found["Cluster"].properties["VpcSecurityGroupIds"] == ["${DbSecurityGroup.GroupId}"]
    assert found["Cluster"].properties["EnableIAMDatabaseAuthentication"] is True
    assert found["BastionSubnet"].properties == {
        "VpcId": "${Fn::ImportValue:dev-VpcId}",
        "CidrBlock": "10.20.1.0/24",
        "AvailabilityZone": "${Fn::Select}",
    }
    bastion = found["Bastion"].properties
    assert bastion["ImageId"] == "${BastionAmi}"  # an SSM parameter: deploy time reads it
    assert bastion["UserData"] == "IyEvYmluL2Jhc2gKZG5mIGluc3RhbGwgLXkgcG9zdGdyZXNxbDE1Cg=="
    assert bastion["Tags"] == [
        {"Key": "Account", "Value": "${Fn::FindInMap}"},  # two accounts, two names
        {"Key": "Scope", "Value": "narrow"},  # NotProd decides DevOrUsEast1
        {"Key": "Tier", "Value": "standard"},  # two accounts, one tier
        {"Key": "Site", "Value": "${Fn::If:InUsEast1}"},
        {"Key": "Shared", "Value": "${Fn::ImportValue:shared-network-NatGatewayId}"},
    ]
    assert found["DbSecurityGroup"].properties["SecurityGroupIngress"] == [
        {"IpProtocol": "tcp", "FromPort": "5432", "ToPort": "5432", "CidrIp": "10.0.0.0/16"},
        {"IpProtocol": "tcp", "FromPort": "5432", "ToPort": "5432", "CidrIp": "10.1.0.0/16"},
    ]


def test_the_same_template_in_json_reads_the_same() -> None:
    from_yaml = read_path(YAML)
    from_json = read_path(JSON)
    assert [r.address for r in from_json.resources] == [r.address for r in from_yaml.resources]
    for y, j in zip(from_yaml.resources, from_json.resources, strict=True):
        assert (j.type, j.properties, j.metadata) == (y.type, y.properties, y.metadata)
        assert set(j.property_lines) == set(y.property_lines)
    assert [re.sub(r"line \d+", "line N", n.replace(str(JSON), "")) for n in from_json.notes] == [
        re.sub(r"line \d+", "line N", n.replace(str(YAML), "")) for n in from_yaml.notes
    ]
    assert len(from_json.notes) == 2
    db = resources(from_json)["Db"]
    assert db.line == line_of(JSON, '    "Db": {')
    assert db.property_lines["Properties.EnableIAMDatabaseAuthentication"] == line_of(
        JSON, '"EnableIAMDatabaseAuthentication"'
    )
    role = resources(from_json)["AppRole"].property_lines
    assert role["Properties.Policies.0.PolicyDocument.Statement.1.Resource"] == line_of(
        JSON, '"Resource"', after='"Sid": "ConnectByIdentifier"'
    )
    assert role["Properties.Policies.0.PolicyDocument.Statement.1"] == line_of(
        JSON, '"Sid": "ConnectByIdentifier"'
    )


def test_json_with_tabs_bom_and_escapes_keeps_lines() -> None:
    text = (
        '\ufeff{\n\t"Description": "caf\\u00e9 \\ud83d\\ude00 \\"quoted\\" \\\\ back",\n'
        '\t"Resources": {\n\t\t"Db": {\n\t\t\t"Type": "AWS::RDS::DBInstance",\n'
        '\t\t\t"Properties": {\n\t\t\t\t"Port": 5432, "Scale": 1e3,\n'
        '\t\t\t\t"Tags": [1, "two",\n\t\t\t\t\t{"Key": "k"}]\n\t\t\t}\n\t\t}\n\t}\n}\n'
    )
    iac = read("t.json", text.encode())
    assert iac is not None
    (db,) = iac.resources
    assert (db.line, db.properties) == (
        4,
        {"Port": 5432, "Scale": 1000.0, "Tags": [1, "two", {"Key": "k"}]},
    )
    assert db.property_lines == {
        "Type": 5,
        "Properties": 6,
        "Properties.Port": 7,
        "Properties.Scale": 7,
        "Properties.Tags": 8,
        "Properties.Tags.0": 8,  # a number: the line of the string before it ("Tags")
        "Properties.Tags.1": 8,
        "Properties.Tags.2": 9,
        "Properties.Tags.2.Key": 9,
    }


def test_json_that_is_yaml_only_is_read_as_yaml() -> None:
    # A trailing comma and a comment: not JSON, but YAML (as CloudFormation accepts it).
    text = '{\n  "Resources": {\n    "B": {"Type": "AWS::S3::Bucket",}, # the bucket\n  }\n}\n'
    iac = read("t.json", text.encode())
    assert iac is not None
    assert [(r.address, r.line) for r in iac.resources] == [("B", 3)]


def test_invalid_json_names_line_and_column() -> None:
    with pytest.raises(InputError) as caught:
        read("t.json", b'{\n  "Resources": {\n    "B": {"Type": "AWS::S3::Bucket"\n  }\n')
    assert caught.value.location == "line 5, column 1"
    assert caught.value.detail == "invalid JSON: Expecting ',' delimiter"


# -- CDK --------------------------------------------------------------------------------------


def test_cdk_output_reads_as_is() -> None:
    iac = read_path(CDK)
    found = resources(iac)
    assert list(found) == [
        "VpcDbSubnet1SubnetA1B2C3D4",
        "DatabaseSubnetGroup7D60F180",
        "DatabaseSecret3B817195",
        "DatabaseParameterGroup5EE7AB3A",
        "DatabaseB269D8BB",
        "AppRole6C9E0C6E",
        "AppRoleDefaultPolicy7B2F0E1A",
        "CDKMetadata",
    ]
    db = found["DatabaseB269D8BB"]
    assert db.line == line_of(CDK, '  "DatabaseB269D8BB": {')
    assert db.metadata == {"aws:cdk:path": "DbStack/Database/Resource"}
    assert db.properties["EnableIAMDatabaseAuthentication"] is True
    assert db.properties["DBParameterGroupName"] == "${DatabaseParameterGroup5EE7AB3A}"
    # A dynamic reference stays a string for CloudFormation to resolve.
    assert db.properties["MasterUserPassword"] == (
        "{{resolve:secretsmanager:${DatabaseSecret3B817195}:SecretString:password::}}"
    )
    policy = found["AppRoleDefaultPolicy7B2F0E1A"]
    assert policy.properties["PolicyDocument"]["Statement"][0]["Resource"] == (
        "arn:${AWS::Partition}:rds-db:${AWS::Region}:${AWS::AccountId}:dbuser:"
        "${DatabaseB269D8BB.DbiResourceId}/app"
    )
    assert policy.properties["Roles"] == ["${AppRole6C9E0C6E}"]
    assert policy.property_lines["Properties.PolicyDocument.Statement.0.Resource"] == line_of(
        CDK, '"Resource": {', after='"rds-db:connect"'
    )
    assert found["VpcDbSubnet1SubnetA1B2C3D4"].properties["VpcId"] == (
        "${Fn::ImportValue:NetworkStack:ExportsOutputRefVpc8378EB38272D6E3A}"
    )
    # CDKMetadataAvailable is an Fn::Or over Regions: undecidable without one, and CDK's usage
    # report is not worth a note either way.
    assert found["CDKMetadata"].metadata == {"aws:cdk:path": "DbStack/CDKMetadata/Default"}
    assert iac.notes == []


def test_cdk_output_with_region_and_account() -> None:
    iac = read_path(CDK, region="eu-west-1", account="111122223333")
    policy = resources(iac)["AppRoleDefaultPolicy7B2F0E1A"]
    assert policy.properties["PolicyDocument"]["Statement"][0]["Resource"] == (
        "arn:aws:rds-db:eu-west-1:111122223333:dbuser:${DatabaseB269D8BB.DbiResourceId}/app"
    )
    assert "CDKMetadata" in resources(iac)
    assert iac.notes == []
    elsewhere = read_path(CDK, region="us-iso-east-1")
    assert "CDKMetadata" not in resources(elsewhere)
    assert elsewhere.partition == "aws-iso"
    assert elsewhere.notes == []


# -- parameters -------------------------------------------------------------------------------


def test_parameter_overrides() -> None:
    iac = read_path(
        YAML,
        parameters={
            "Env": "prod",
            "SubnetIds": "subnet-0aaa,subnet-0bbb",
            "DbPort": "6432",
            "BastionAmi": "ami-0123456789abcdef0",
            "NotInTemplate": "x",
        },
    )
    found = resources(iac)
    db = found["Db"].properties
    assert (db["DBInstanceClass"], db["BackupRetentionPeriod"], db["Port"]) == (
        "db.r6g.large",
        7,
        "6432",
    )
    assert (db["MultiAZ"], db["DeletionProtection"]) == (True, True)
    assert db["Tags"] == [
        {"Key": "Name", "Value": "${AWS::StackName}-db"},
        {"Key": "Backup", "Value": "daily"},
        {"Key": "Env", "Value": "prod"},
    ]
    assert found["DbSubnetGroup"].properties["SubnetIds"] == ["subnet-0aaa", "subnet-0bbb"]
    assert found["Proxy"].properties["VpcSubnetIds"] == ["subnet-0aaa", "subnet-0bbb"]
    # An SSM parameter's value is in Parameter Store, whatever name is passed.
    assert found["Bastion"].properties["ImageId"] == "${BastionAmi}"
    assert found["ReplicaDb"].properties == {
        "SourceDBInstanceIdentifier": "${Db}",
        "DBInstanceClass": "db.r6g.large",
    }
    assert found["BastionSubnet"].properties["VpcId"] == "${Fn::ImportValue:prod-VpcId}"
    assert iac.notes == [
        f"{YAML}: parameter 'NotInTemplate' is given but the template has none",
        f"{YAML}: line {found['MonitoringRole'].line}: resource 'MonitoringRole' kept:"
        " condition 'InUsEast1' depends on deploy-time values",
    ]


def test_iam_auth_switched_off_by_a_parameter() -> None:
    db = resources(read_path(YAML, parameters={"EnableIamAuth": "false"}))["Db"]
    assert db.properties["EnableIAMDatabaseAuthentication"] is False


def test_parameters_without_default_stay_symbols() -> None:
    found = resources(read_path(YAML))
    assert found["DbSecurityGroup"].properties["VpcId"] == "${VpcId}"
    assert found["DbSubnetGroup"].properties["SubnetIds"] == "${SubnetIds}"


def test_parameters_file_formats() -> None:
    assert read_parameters_file(str(DATA / "params.aws-cli.json")) == {
        "Env": "prod",
        "VpcId": "vpc-0a1b2c3d4e5f60718",
        "SubnetIds": "subnet-0aaa1111,subnet-0bbb2222",
        # DbUser: UsePreviousValue, nothing to pass
    }
    assert read_parameters_file(str(DATA / "params.codepipeline.json")) == {
        "Env": "prod",
        "DbPort": "6432",
        "EnableIamAuth": "false",
    }
    assert read_parameters_file(str(DATA / "params.flat.yaml")) == {
        "Env": "prod",
        "DbPort": "6432",
        "EnableIamAuth": "true",
        "AdminCidrs": "192.168.0.0/24,192.168.1.0/24",
    }


def test_parameters_file_as_key_value_list(tmp_path: Path) -> None:
    path = tmp_path / "overrides.json"
    path.write_text('["Env=prod", "Tag=a=b"]')
    assert read_parameters_file(str(path)) == {"Env": "prod", "Tag": "a=b"}


def test_parameters_file_drives_the_template() -> None:
    values = read_parameters_file(str(DATA / "params.flat.yaml"))
    found = resources(read_path(YAML, parameters=values))
    assert found["Db"].properties["Port"] == "6432"
    assert found["Db"].properties["EnableIAMDatabaseAuthentication"] is True
    ingress = found["DbSecurityGroup"].properties["SecurityGroupIngress"]
    assert [rule["CidrIp"] for rule in ingress] == ["192.168.0.0/24", "192.168.1.0/24"]


@pytest.mark.parametrize(
    ("text", "message", "location"),
    [
        (
            '[\n  {"ParameterKey": "Env", "ParameterValue": "x"},\n  {"ParameterKey": "B"}\n]',
            "parameter entry 2 has no ParameterValue",
            "line 3",
        ),
        (
            "- Env=prod\n- 5\n",
            "parameter entry 2 is not {ParameterKey, ParameterValue} nor Key=Value",
            "line 2",
        ),
        ("Env: {nested: map}\n", "parameter 'Env' has a value that is not a string", None),
        ('"just a string"', "not a parameters file (expected a list or a mapping)", None),
        ("Env: [unclosed\n", "invalid YAML: did not find expected ',' or ']'", "line 2, column 1"),
    ],
)
def test_bad_parameters_files(
    tmp_path: Path, text: str, message: str, location: str | None
) -> None:
    path = tmp_path / "params.txt"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        read_parameters_file(str(path))
    assert (caught.value.path, caught.value.detail, caught.value.location) == (
        str(path),
        message,
        location,
    )


def test_missing_parameters_file(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        read_parameters_file(str(tmp_path / "none.json"))
    assert caught.value.detail == "cannot read: No such file or directory"


def test_bad_parameter_declarations() -> None:
    error = failure("Parameters:\n  Env: dev\nResources:\n  B:\n    Type: AWS::S3::Bucket\n")
    assert (error.location, error.detail) == (
        "line 2",
        "parameter 'Env' must be a mapping with a Type",
    )
    error = failure(
        "Parameters:\n  Env:\n    Type: String\n    Default: {a: 1}\n"
        "Resources:\n  B:\n    Type: AWS::S3::Bucket\n"
    )
    assert (error.location, error.detail) == ("line 4", "parameter 'Env': Default must be a string")


# -- pseudo parameters ------------------------------------------------------------------------

PSEUDO = """\
Resources:
  R:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      Region: !Ref AWS::Region
      Account: !Ref AWS::AccountId
      Partition: !Ref AWS::Partition
      Stack: !Ref AWS::StackName
      StackId: !Ref AWS::StackId
      Suffix: !Ref AWS::URLSuffix
      Topics: !Ref AWS::NotificationARNs
      Gone: !Ref AWS::NoValue
      Arn: !Sub arn:${AWS::Partition}:rds-db:${AWS::Region}:${AWS::AccountId}:dbuser:*/*
"""


def test_pseudo_parameters_not_given_are_symbols() -> None:
    iac = template(PSEUDO)
    assert (iac.region, iac.account_id, iac.partition) == (None, None, None)
    assert iac.resources[0].properties == {
        "Region": "${AWS::Region}",
        "Account": "${AWS::AccountId}",
        "Partition": "${AWS::Partition}",
        "Stack": "${AWS::StackName}",
        "StackId": "${AWS::StackId}",
        "Suffix": "${AWS::URLSuffix}",
        "Topics": "${AWS::NotificationARNs}",
        "Arn": "arn:${AWS::Partition}:rds-db:${AWS::Region}:${AWS::AccountId}:dbuser:*/*",
    }


@pytest.mark.parametrize(
    ("region", "partition", "expected"),
    [
        ("eu-west-1", None, "aws"),
        ("cn-north-1", None, "aws-cn"),
        ("us-gov-west-1", None, "aws-us-gov"),
        ("eu-west-1", "aws-test", "aws-test"),
    ],
)
def test_pseudo_parameters_given(region: str, partition: str | None, expected: str) -> None:
    iac = template(PSEUDO, region=region, account=ACCOUNT, partition=partition)
    assert (iac.region, iac.account_id, iac.partition) == (region, ACCOUNT, expected)
    got = iac.resources[0].properties
    assert (got["Region"], got["Account"], got["Partition"]) == (region, ACCOUNT, expected)
    assert got["Arn"] == f"arn:{expected}:rds-db:{region}:{ACCOUNT}:dbuser:*/*"
    assert got["Stack"] == "${AWS::StackName}"


def test_fixture_with_region_and_account() -> None:
    found = resources(read_path(YAML, region="eu-west-1", account=ACCOUNT))
    statements = found["AppRole"].properties["Policies"][0]["PolicyDocument"]["Statement"]
    assert statements[0]["Resource"] == (
        f"arn:aws:rds-db:eu-west-1:{ACCOUNT}:dbuser:${{Db.DbiResourceId}}/app"
    )
    assert statements[1]["Resource"] == f"arn:aws:rds-db:eu-west-1:{ACCOUNT}:dbuser:${{Db}}/app"
    assert found["AppRole"].properties["RoleName"] == "${AWS::StackName}-app-eu-west-1"
    tags = {t["Key"]: t["Value"] for t in found["Bastion"].properties["Tags"]}
    assert (tags["Account"], tags["Site"]) == ("payments-dev", "secondary")
    assert "MonitoringRole" not in found  # InUsEast1 is false in eu-west-1


# -- conditions -------------------------------------------------------------------------------


def test_conditions_true_false_and_undecidable() -> None:
    iac = read_path(YAML)
    found = resources(iac)
    assert "ReplicaDb" not in found
    replica_line = line_of(YAML, "  ReplicaDb:")
    assert iac.notes == [
        f"{YAML}: line {replica_line}: resource 'ReplicaDb' left out: condition 'IsProd' is false",
        f"{YAML}: line {found['MonitoringRole'].line}: resource 'MonitoringRole' kept: condition"
        " 'InUsEast1' depends on deploy-time values",
    ]
    # ProdInUsEast1 = And(IsProd: false, InUsEast1: unknown): false
    assert found["MonitoringRole"].properties["Path"] == "/"

    prod_east = resources(read_path(YAML, region="us-east-1", parameters={"Env": "prod"}))
    assert prod_east["MonitoringRole"].properties["Path"] == "/prod/"
    assert "ReplicaDb" in prod_east
    statements = prod_east["ClusterConnectPolicy"].properties["PolicyDocument"]["Statement"]
    assert statements[1] == {
        "Effect": "Deny",
        "Action": "rds-db:connect",
        "Resource": "*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    tags = {t["Key"]: t["Value"] for t in prod_east["Bastion"].properties["Tags"]}
    assert (tags["Scope"], tags["Site"]) == ("narrow", "primary")  # Or(false, true)


CONDITIONS = """\
Parameters:
  Env: {Type: String, Default: dev}
  Flag: {Type: String}
Conditions:
  IsDev: !Equals [dev, !Ref Env]
  FlagOn: !Equals [!Ref Flag, "true"]
  Both: !And [!Condition IsDev, !Condition FlagOn]
  Either: !Or [!Condition IsDev, !Condition FlagOn]
  NotFlag: !Not [!Condition FlagOn]
  Lists: !Equals [[a, 1, true], !Split [",", "a,1,true"]]
Resources:
  R:
    Type: AWS::S3::Bucket
    Properties:
      Both: !If [Both, yes, no]
      Either: !If [Either, yes, no]
      NotFlag: !If [NotFlag, yes, no]
      Lists: !If [Lists, yes, no]
      Same: !If [FlagOn, {Enabled: true}, {Enabled: true}]
"""


def test_condition_functions() -> None:
    assert props(CONDITIONS) == {
        "Both": "${Fn::If:Both}",
        "Either": True,  # YAML 1.1: yes is a boolean
        "NotFlag": "${Fn::If:NotFlag}",
        "Lists": True,
        "Same": {"Enabled": True},  # undecidable, but both branches agree
    }
    assert props(CONDITIONS, parameters={"Flag": "true", "Env": "prod"}) == {
        "Both": False,
        "Either": True,
        "NotFlag": False,
        "Lists": True,
        "Same": {"Enabled": True},
    }


@pytest.mark.parametrize(
    ("conditions", "use", "message", "location"),
    [
        ("A: !Equals [a, a]", "!If [B, 1, 2]", "unknown condition 'B'", "line 7"),
        ("A: !Condition A", "!If [A, 1, 2]", "condition 'A' depends on itself", "line 2"),
        ("A: !Equals [a]", "!If [A, 1, 2]", "Fn::Equals takes [value, value]", "line 2"),
        ("A: !Or [!Condition A]", "!If [A, 1, 2]", "Fn::Or takes 2 to 10 conditions", "line 2"),
        ("A: !Not [x, y]", "!If [A, 1, 2]", "Fn::Not takes [condition]", "line 2"),
        (
            "A: !Ref Env",
            "!If [A, 1, 2]",
            "Ref is not a condition function",
            "line 2",
        ),
        (
            "A: true",
            "!If [A, 1, 2]",
            "a condition must be Fn::Equals, Fn::And, Fn::Or, Fn::Not or Condition",
            "line 2",
        ),
    ],
)
def test_bad_conditions(conditions: str, use: str, message: str, location: str) -> None:
    error = failure(
        f"Conditions:\n  {conditions}\nResources:\n  R:\n    Type: AWS::S3::Bucket\n"
        f"    Properties:\n      X: {use}\n"
    )
    assert (error.detail, error.location) == (message, location)


def test_resource_condition_must_exist() -> None:
    error = failure("Resources:\n  R:\n    Type: AWS::S3::Bucket\n    Condition: Missing\n")
    assert (error.detail, error.location) == ("unknown condition 'Missing'", "line 4")


# -- intrinsic functions ----------------------------------------------------------------------

HEAD = """\
Parameters:
  Env: {Type: String, Default: dev}
  Flag: {Type: String, Default: "true"}
  Subnets: {Type: CommaDelimitedList, Default: "subnet-a,subnet-b,subnet-c"}
  Unknown: {Type: String}
  UnknownList: {Type: CommaDelimitedList}
Mappings:
  Sizes:
    dev: {Class: db.t4g.micro, Storage: 20}
    prod: {Class: db.r6g.large, Storage: 20}
Conditions:
  IsDev: !Equals [!Ref Env, dev]
  Deploy: !Equals [!Ref Unknown, x]
Resources:
  Db:
    Type: AWS::RDS::DBInstance
  R:
    Type: AWS::IAM::ManagedPolicy
    Properties:
"""


def evaluate(body: str, **kwargs: Any) -> dict[str, Any]:
    text = HEAD + textwrap.indent(textwrap.dedent(body), " " * 6)
    iac = read("t.yaml", text.encode(), **kwargs)
    assert iac is not None
    return resources(iac)["R"].properties


def evaluation_error(body: str) -> InputError:
    text = HEAD + textwrap.indent(textwrap.dedent(body), " " * 6)
    with pytest.raises(InputError) as caught:
        read("t.yaml", text.encode())
    return caught.value


FIRST_BODY_LINE = HEAD.count("\n") + 1


def test_ref() -> None:
    assert evaluate(
        """\
        Param: !Ref Env
        Flag: !Ref Flag
        List: !Ref Subnets
        Resource: !Ref Db
        NoDefault: !Ref Unknown
        Items: [a, !Ref AWS::NoValue, b]
        Gone: !Ref AWS::NoValue
        """
    ) == {
        "Param": "dev",
        "Flag": "true",  # a string: coercion is the mapper's
        "List": ["subnet-a", "subnet-b", "subnet-c"],
        "Resource": "${Db}",
        "NoDefault": "${Unknown}",
        "Items": ["a", "b"],
    }


def test_get_att() -> None:
    assert evaluate(
        """\
        A: !GetAtt Db.Endpoint.Address
        B: !GetAtt [Db, DbiResourceId]
        C: {"Fn::GetAtt": "Db.Endpoint.Port"}
        D: !GetAtt [Db, !Ref Unknown]
        """
    ) == {
        "A": "${Db.Endpoint.Address}",
        "B": "${Db.DbiResourceId}",
        "C": "${Db.Endpoint.Port}",
        "D": "${Fn::GetAtt}",
    }


def test_sub() -> None:
    assert evaluate(
        """\
        A: !Sub "${Env}-${Db}-${Db.DbiResourceId}-${AWS::Region}"
        B: !Sub ["${Prefix}:${Env}", {Prefix: !Join ["/", [x, !Ref Unknown]]}]
        C: !Sub "${!Literal} and ${!aws:username} stay"
        D: !Sub ["${Env}", {Env: overridden}]
        E: !Sub "no variables"
        F: !Sub "${ Env }"
        """
    ) == {
        "A": "dev-${Db}-${Db.DbiResourceId}-${AWS::Region}",
        "B": "x/${Unknown}:dev",
        "C": "${Literal} and ${aws:username} stay",
        "D": "overridden",
        "E": "no variables",
        "F": "dev",
    }


def test_join() -> None:
    assert evaluate(
        """\
        A: !Join [":", [arn, !Ref AWS::Partition, rds-db, !Ref Db, 5432, true]]
        B: !Join [",", !Ref Subnets]
        C: !Join [",", !Ref UnknownList]
        D: !Join ["", [a, !If [IsDev, !Ref AWS::NoValue, b], c]]
        E: !Join ["-", []]
        """
    ) == {
        "A": "arn:${AWS::Partition}:rds-db:${Db}:5432:true",
        "B": "subnet-a,subnet-b,subnet-c",
        "C": "${Fn::Join}",
        "D": "ac",
        "E": "",
    }


def test_if() -> None:
    assert evaluate(
        """\
        A: !If [IsDev, small, large]
        B: !If [Deploy, small, large]
        C: !If [Deploy, same, same]
        D: !If [IsDev, !Ref AWS::NoValue, kept]
        E: [!If [IsDev, !Ref AWS::NoValue, x], y]
        F: !If [IsDev, {Nested: !Ref Env}, other]
        """
    ) == {
        "A": "small",
        "B": "${Fn::If:Deploy}",
        "C": "same",
        "E": ["y"],
        "F": {"Nested": "dev"},
    }


def test_undecidable_if_does_not_judge_the_branches() -> None:
    # Only a production deploy would look up prod's key: not an error while undecided.
    assert evaluate("X: !If [Deploy, !FindInMap [Sizes, test, Class], none]\n") == {
        "X": "${Fn::If:Deploy}"
    }


def test_select_and_split() -> None:
    assert evaluate(
        """\
        A: !Select [1, !Ref Subnets]
        B: !Select ["2", !Split [",", "a,b,c"]]
        C: !Select [0, !Ref UnknownList]
        D: !Select [!Ref Unknown, [a, b]]
        E: !Split ["/", !Sub "arn:${AWS::Partition}:x/y"]
        F: !Select [0, !Split [".", "15.4"]]
        G: !Split [",", ""]
        """
    ) == {
        "A": "subnet-b",
        "B": "c",
        "C": "${Fn::Select}",
        "D": "${Fn::Select}",
        "E": "${Fn::Split}",
        "F": "15",
        "G": [""],
    }


def test_find_in_map() -> None:
    assert evaluate(
        """\
        A: !FindInMap [Sizes, !Ref Env, Class]
        B: !FindInMap [Sizes, !Ref Unknown, Class]
        C: !FindInMap [Sizes, !Ref Unknown, Storage]
        D: !FindInMap [Sizes, test, Class, {DefaultValue: db.t3.small}]
        E: !FindInMap [Sizes, prod, !Ref Unknown]
        """
    ) == {
        "A": "db.t4g.micro",
        "B": "${Fn::FindInMap}",  # dev or prod: two classes
        "C": 20,  # dev or prod: the same storage
        "D": "db.t3.small",
        "E": "${Fn::FindInMap}",
    }


def test_other_functions() -> None:
    assert evaluate(
        """\
        ImportPlain: !ImportValue network-VpcId
        ImportBuilt: !ImportValue {"Fn::Sub": "${AWS::StackName}-VpcId"}
        Base64: !Base64 "echo hello"
        Base64Unknown: !Base64 {"Fn::Sub": "echo ${AWS::Region}"}
        Cidr: !Cidr [10.0.0.0/24, 3, 6]
        Cidr6: !Cidr ["2001:db8::/56", 2, 64]
        AZs: !GetAZs ""
        Length: {"Fn::Length": [a, b, c]}
        Json: {"Fn::ToJsonString": {a: [1, true, !Ref Env]}}
        JsonUnknown: {"Fn::ToJsonString": {a: !Ref Db}}
        Transform: !Transform {Name: AWS::Include, Parameters: {Location: s3://b/k}}
        Unknown: {"Fn::Future": [1]}
        """
    ) == {
        "ImportPlain": "${Fn::ImportValue:network-VpcId}",
        "ImportBuilt": "${Fn::ImportValue:AWS::StackName-VpcId}",
        "Base64": "ZWNobyBoZWxsbw==",
        "Base64Unknown": "${Fn::Base64}",
        "Cidr": ["10.0.0.0/26", "10.0.0.64/26", "10.0.0.128/26"],
        "Cidr6": ["2001:db8::/64", "2001:db8:0:1::/64"],
        "AZs": "${Fn::GetAZs}",
        "Length": 3,
        "Json": '{"a":[1,true,"dev"]}',
        "JsonUnknown": "${Fn::ToJsonString}",
        "Transform": "${Fn::Transform}",
        "Unknown": "${Fn::Future}",
    }


def test_an_intrinsic_needs_a_single_key_mapping() -> None:
    # A two-key mapping with Ref is data; so is an IAM Condition block.
    assert evaluate(
        """\
        A: {Ref: Env, Other: 1}
        Condition: {StringEquals: {"aws:username": !Ref Env}}
        """
    ) == {"A": {"Ref": "Env", "Other": 1}, "Condition": {"StringEquals": {"aws:username": "dev"}}}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("X: !Ref Missing", "Ref to unknown name 'Missing'"),
        ("X: !Ref [Env]", "Ref takes a name, found a list"),
        ("X: !GetAtt NoDot", "Fn::GetAtt takes [resource, attribute] or 'resource.attribute'"),
        ("X: !GetAtt Missing.Arn", "Fn::GetAtt of unknown resource 'Missing'"),
        ("X: !GetAtt [Db, a, b]", "Fn::GetAtt takes [resource, attribute] or 'resource.attribute'"),
        ("X: !Sub [a, b, c]", "Fn::Sub takes a string or [string, {variables}]"),
        ("X: !Sub ${Missing}", "Fn::Sub refers to unknown name 'Missing'"),
        ("X: !Sub ${Missing.Arn}", "Fn::Sub refers to unknown resource 'Missing'"),
        ("X: !Sub ${Subnets}", "Fn::Sub ${Subnets}: expected a string, found a list"),
        ("X: !Sub ${}", "Fn::Sub: empty ${}"),
        ("X: !Join [a]", "Fn::Join takes [delimiter, [values]]"),
        ("X: !Join ['', a]", "Fn::Join: expected a list of values, found a string"),
        ("X: !Join ['', [[a]]]", "Fn::Join: expected a string, found a list"),
        ("X: !If [IsDev, a]", "Fn::If takes [condition, value if true, value if false]"),
        ("X: !Select [0]", "Fn::Select takes [index, list]"),
        ("X: !Select [3, [a, b]]", "Fn::Select: index 3 is out of range (2 items)"),
        ("X: !Select [x, [a, b]]", "Fn::Select: the index must be a number, found 'x'"),
        ("X: !Select [0, abc]", "Fn::Select: expected a list, found a string"),
        ("X: !Split [',']", "Fn::Split takes [delimiter, string]"),
        (
            "X: !FindInMap [Sizes, dev]",
            "Fn::FindInMap takes [map, top-level key, second-level key]",
        ),
        ("X: !FindInMap [Nope, dev, Class]", "Fn::FindInMap: no mapping 'Nope'"),
        (
            "X: !FindInMap [Sizes, test, Class]",
            "Fn::FindInMap: mapping 'Sizes' has no [test][Class]",
        ),
        ("X: !Cidr [10.0.0.0/24, 3]", "Fn::Cidr takes [ipBlock, count, cidrBits]"),
        ("X: !Cidr [10.0.0.0/24, 8, 6]", "Fn::Cidr: 10.0.0.0/24 holds fewer than 8 such blocks"),
        ("X: !ImportValue [a]", "Fn::ImportValue: expected a string, found a list"),
    ],
)
def test_malformed_intrinsics_name_their_line(body: str, message: str) -> None:
    error = evaluation_error("Fine: !Ref Env\n" + body + "\n")
    assert (error.path, error.detail, error.location) == (
        "t.yaml",
        message,
        f"line {FIRST_BODY_LINE + 1}",
    )


def test_malformed_intrinsic_in_json_names_its_line() -> None:
    text = (
        '{\n "Resources": {\n  "R": {\n   "Type": "AWS::S3::Bucket",\n   "Properties": {\n'
        '    "BucketName": {\n     "Fn::Join": [\n      "-"\n     ]\n    }\n   }\n  }\n }\n}\n'
    )
    with pytest.raises(InputError) as caught:
        read("t.json", text.encode())
    assert (caught.value.detail, caught.value.location) == (
        "Fn::Join takes [delimiter, [values]]",
        "line 7",
    )


def test_nested_stacks_transforms_and_for_each() -> None:
    iac = template(
        """\
        Transform: [AWS::LanguageExtensions, AWS::Serverless-2016-10-31]
        Resources:
          Network:
            Type: AWS::CloudFormation::Stack
            Properties:
              TemplateURL: https://s3.amazonaws.com/bucket/network.yaml
              Parameters: {Env: dev}
          Fn::ForEach::Buckets:
            - Name
            - [a, b]
            - Bucket${Name}: {Type: AWS::S3::Bucket}
          Function:
            Type: AWS::Serverless::Function
            Properties:
              Role: !GetAtt FunctionRole.Arn
              Vpc: !GetAtt Network.Outputs.VpcId
        """
    )
    found = resources(iac)
    assert list(found) == ["Network", "Function"]
    assert found["Network"].properties == {
        "TemplateURL": "https://s3.amazonaws.com/bucket/network.yaml",
        "Parameters": {"Env": "dev"},
    }
    # With a transform, names it creates (FunctionRole) are not errors.
    assert found["Function"].properties == {
        "Role": "${FunctionRole.Arn}",
        "Vpc": "${Network.Outputs.VpcId}",
    }
    assert iac.notes == [
        "t.yaml: line 1: Transform AWS::LanguageExtensions, AWS::Serverless-2016-10-31 is not"
        " expanded; resources are read as written",
        "t.yaml: line 8: Fn::ForEach::Buckets (AWS::LanguageExtensions) is not expanded",
    ]


def test_line_tables_are_plain_data() -> None:
    doc = parse_yaml("t.yaml", "a:\n  b: [1, 2]\n")
    assert isinstance(doc, LineDict) and isinstance(doc, dict)
    assert json.loads(json.dumps(doc)) == {"a": {"b": [1, 2]}}
    # Resolved properties are plain dicts and lists, not the line-keeping subclasses.
    props = resources(read_path(YAML))["Db"].properties
    assert type(props) is dict and type(props["Tags"]) is list


# -- speed ------------------------------------------------------------------------------------


def resource_text(text: str) -> str:
    return textwrap.indent(textwrap.dedent(text), "  ")


def fifty_resources() -> str:
    arn = "arn:${AWS::Partition}:rds-db:${AWS::Region}:${AWS::AccountId}:dbuser"
    parts = [
        "AWSTemplateFormatVersion: '2010-09-09'\n",
        "Parameters:\n  Env: {Type: String, Default: dev}\n  Vpc: {Type: AWS::EC2::VPC::Id}\n",
        "Conditions:\n  IsProd: !Equals [!Ref Env, prod]\n",
        "Resources:\n",
    ]
    for i in range(10):
        parts.append(
            resource_text(
                f"""\
                  Pg{i}:
                    Type: AWS::RDS::DBParameterGroup
                    Properties:
                      Family: postgres15
                      Description: !Sub "${{AWS::StackName}} {i}"
                      Parameters: {{rds.force_ssl: "1", log_connections: "1"}}
                  Db{i}:
                    Type: AWS::RDS::DBInstance
                    Metadata: {{Owner: team-{i}}}
                    Properties:
                      Engine: postgres
                      EngineVersion: "15.4"
                      DBInstanceClass: !If [IsProd, db.r6g.large, db.t4g.micro]
                      AllocatedStorage: "20"
                      EnableIAMDatabaseAuthentication: true
                      DBParameterGroupName: !Ref Pg{i}
                      MasterUsername: postgres
                      ManageMasterUserPassword: true
                      MultiAZ: !If [IsProd, true, !Ref AWS::NoValue]
                      Tags:
                        - {{Key: Name, Value: !Sub "${{AWS::StackName}}-db{i}"}}
                        - {{Key: Env, Value: !Ref Env}}
                  Sg{i}:
                    Type: AWS::EC2::SecurityGroup
                    Properties:
                      GroupDescription: db {i}
                      VpcId: !Ref Vpc
                      SecurityGroupIngress:
                        - {{IpProtocol: tcp, FromPort: 5432, ToPort: 5432, CidrIp: 10.0.0.0/16}}
                  Role{i}:
                    Type: AWS::IAM::Role
                    Properties:
                      AssumeRolePolicyDocument:
                        Version: 2012-10-17
                        Statement:
                          - Effect: Allow
                            Principal: {{Service: ec2.amazonaws.com}}
                            Action: sts:AssumeRole
                      Policies:
                        - PolicyName: connect
                          PolicyDocument:
                            Version: 2012-10-17
                            Statement:
                              - Effect: Allow
                                Action: rds-db:connect
                                Resource: !Sub {arn}:${{Db{i}.DbiResourceId}}/app
                  Policy{i}:
                    Type: AWS::IAM::ManagedPolicy
                    Properties:
                      Roles: [!Ref Role{i}]
                      PolicyDocument:
                        Version: "2012-10-17"
                        Statement:
                          - Effect: Allow
                            Action: [rds-db:connect]
                            Resource:
                              - !Join
                                - ""
                                - - "arn:"
                                  - !Ref AWS::Partition
                                  - ":rds-db:"
                                  - !Ref AWS::Region
                                  - ":"
                                  - !Ref AWS::AccountId
                                  - ":dbuser:"
                                  - !GetAtt [Db{i}, DbiResourceId]
                                  - /admin
                """
            )
        )
    return "".join(parts)


def test_fifty_resource_templates_read_fast() -> None:
    text = fifty_resources()
    doc = parse_yaml("t.yaml", text)
    as_json = json.dumps(doc, indent=2).encode()
    for name, data in (("t.yaml", text.encode()), ("t.json", as_json)):
        iac = read(name, data, region="eu-west-1", account=ACCOUNT)
        assert iac is not None and len(iac.resources) == 50
        assert resources(iac)["Policy9"].properties["PolicyDocument"]["Statement"][0][
            "Resource"
        ] == [f"arn:aws:rds-db:eu-west-1:{ACCOUNT}:dbuser:${{Db9.DbiResourceId}}/admin"]
        best = min(timed(lambda n=name, d=data: read(n, d)) for _ in range(5))  # type: ignore[misc]
        assert best < 0.1, f"{name}: {best:.3f} s"


def timed(action: Any) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started
