"""The Terraform plan/state reader: resources, symbols for unknown values, policies, errors."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from checker.errors import InputError
from checker.iac import terraform
from checker.iac.model import IacFile, IacResource
from checker.iac.symbols import is_unknown, references
from checker.iac.to_snapshot import to_snapshot

DATA = Path(__file__).resolve().parent / "data" / "terraform"

CONNECT_ARN = (
    "${var.region}${data.aws_caller_identity.current.account_id}"
    "${aws_db_instance.orders.resource_id}${var.db_user}"
)


def load(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((DATA / name).read_text())
    return doc


def read(name: str) -> IacFile:
    return terraform.read(name, load(name))


def by_address(iac: IacFile) -> dict[str, IacResource]:
    return {r.address: r for r in iac.resources}


def props(iac: IacFile, address: str) -> dict[str, Any]:
    return by_address(iac)[address].properties


@pytest.fixture(scope="module")
def plan() -> IacFile:
    return read("plan.json")


@pytest.fixture(scope="module")
def modules() -> IacFile:
    return read("plan_modules.json")


@pytest.fixture(scope="module")
def state() -> IacFile:
    return read("state.json")


# -- recognising the format ---------------------------------------------------------------------


def test_looks_like_plan_accepts_plans_and_states_only() -> None:
    assert terraform.looks_like_plan(load("plan.json"))
    assert terraform.looks_like_plan(load("state.json"))
    assert not terraform.looks_like_plan({"format": "rdsiam-snapshot", "version": 1})
    assert not terraform.looks_like_plan({"format_version": "1.2", "planned_values": {}})
    assert not terraform.looks_like_plan({"format_version": "1.2", "terraform_version": "1.9.8"})
    assert not terraform.looks_like_plan([{"format_version": "1.2"}])


# -- a plan of the root module ------------------------------------------------------------------


def test_plan_resources_in_address_order_with_data_sources_from_the_prior_state(
    plan: IacFile,
) -> None:
    addresses = [r.address for r in plan.resources]
    assert addresses == sorted(addresses)
    assert addresses == [
        "aws_db_instance.orders",
        "aws_db_parameter_group.orders",
        "aws_db_proxy.orders",
        "aws_db_proxy_default_target_group.orders",
        "aws_db_proxy_target.orders",
        "aws_iam_group.dba",
        "aws_iam_group_membership.dba",
        "aws_iam_group_policy.dba",
        "aws_iam_policy.reports_connect",
        "aws_iam_policy_attachment.reports_dba",
        "aws_iam_role.app",
        "aws_iam_role.proxy",
        "aws_iam_role_policy.connect",
        "aws_iam_role_policy_attachment.app_reports",
        "aws_iam_user.jane",
        "aws_iam_user_group_membership.jane",
        "aws_iam_user_policy.jane_connect",
        "aws_rds_cluster.reports",
        "aws_rds_cluster_instance.reports[0]",
        "aws_rds_cluster_instance.reports[1]",
        "aws_rds_cluster_parameter_group.reports",
        # read while planning: only in prior_state
        "data.aws_caller_identity.current",
        "data.aws_iam_policy_document.assume",
        # read at apply: in planned_values with a "read" change
        "data.aws_iam_policy_document.connect",
        "data.aws_iam_policy_document.proxy_assume",
    ]
    # deleted by the plan (resource_changes ["delete"], prior_state only): not a resource
    assert "aws_iam_policy.legacy_connect_all" not in addresses
    assert plan.kind == "terraform-plan"
    assert plan.path == "plan.json"
    resources = by_address(plan)
    assert resources["data.aws_iam_policy_document.connect"].type == "data.aws_iam_policy_document"
    assert resources["aws_db_instance.orders"].type == "aws_db_instance"
    assert all(r.path == "plan.json" and r.line is None for r in plan.resources)


def test_plan_region_from_the_provider_variable_and_account_from_caller_identity(
    plan: IacFile,
) -> None:
    assert (plan.region, plan.account_id, plan.partition) == ("eu-west-1", "123456789012", "aws")


def test_unknown_resource_ids_become_symbols_of_their_own_address(plan: IacFile) -> None:
    db = props(plan, "aws_db_instance.orders")
    assert db["resource_id"] == "${aws_db_instance.orders.resource_id}"
    assert db["id"] == "${aws_db_instance.orders.id}"
    assert db["arn"] == "${aws_db_instance.orders.arn}"
    assert db["ca_cert_identifier"] == "${aws_db_instance.orders.ca_cert_identifier}"
    # known values stay plain, references resolved by Terraform included
    assert db["identifier"] == "orders"
    assert db["iam_database_authentication_enabled"] is True
    assert db["parameter_group_name"] == "orders-pg16"
    assert db["vpc_security_group_ids"] == ["sg-0c4f1a7e9b2d3c5a8"]
    cluster = props(plan, "aws_rds_cluster.reports")
    assert cluster["cluster_resource_id"] == "${aws_rds_cluster.reports.cluster_resource_id}"
    assert cluster["cluster_identifier"] == "reports"
    assert cluster["db_cluster_parameter_group_name"] == "reports-apg16"


def test_unknown_value_with_an_expression_takes_its_reference(plan: IacFile) -> None:
    member = props(plan, "aws_rds_cluster_instance.reports[1]")
    assert member["cluster_identifier"] == "${aws_rds_cluster.reports.id}"
    assert member["identifier"] == "reports-1"
    assert member["dbi_resource_id"] == "${aws_rds_cluster_instance.reports[1].dbi_resource_id}"
    proxy = props(plan, "aws_db_proxy.orders")
    assert proxy["role_arn"] == "${aws_iam_role.proxy.arn}"
    # nested block attribute computed by the provider: own address with the block path
    assert proxy["auth"] == [
        {
            "auth_scheme": "SECRETS",
            "client_password_auth_type": "${aws_db_proxy.orders.auth[0].client_password_auth_type}",
            "description": "",
            "iam_auth": "REQUIRED",
            "secret_arn": (
                "arn:aws:secretsmanager:eu-west-1:123456789012:secret:orders-proxy-AbC123"
            ),
            "username": "",
        }
    ]
    target = props(plan, "aws_db_proxy_target.orders")
    assert target["target_group_name"] == "${aws_db_proxy_default_target_group.orders.name}"
    assert target["db_instance_identifier"] == "orders"
    assert target["db_proxy_name"] == "orders-proxy"
    group = props(plan, "aws_db_proxy_default_target_group.orders")
    assert group["connection_pool_config"][0]["max_connections_percent"] == 90


def test_parameter_groups_keep_their_parameter_blocks(plan: IacFile) -> None:
    assert props(plan, "aws_db_parameter_group.orders")["parameter"] == [
        {"apply_method": "immediate", "name": "rds.force_ssl", "value": "1"},
        {
            "apply_method": "pending-reboot",
            "name": "shared_preload_libraries",
            "value": "pg_stat_statements",
        },
    ]
    cluster_group = props(plan, "aws_rds_cluster_parameter_group.reports")
    assert cluster_group["family"] == "aurora-postgresql16"
    assert cluster_group["parameter"] == [
        {"apply_method": "pending-reboot", "name": "rds.force_ssl", "value": "1"}
    ]


def test_sensitive_values_are_dropped(plan: IacFile) -> None:
    assert "password" not in props(plan, "aws_db_instance.orders")
    assert "correct-horse-battery-staple" not in json.dumps([r.properties for r in plan.resources])


def test_policy_document_unknown_at_plan_is_rebuilt_from_its_statements(plan: IacFile) -> None:
    document = props(plan, "data.aws_iam_policy_document.connect")["json"]
    assert document == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ConnectAsApp",
                "Effect": "Allow",
                "Action": "rds-db:connect",
                "Resource": CONNECT_ARN,
                "Condition": {"StringEquals": {"aws:PrincipalTag/team": "orders"}},
            },
            {
                "Sid": "Describe",
                "Effect": "Allow",
                "Action": ["rds:DescribeDBInstances", "rds:DescribeDBProxies"],
                # two elements, one unknown: paired with the one reference unknown in the plan
                "Resource": [
                    "arn:aws:rds:eu-west-1:123456789012:db-proxy:*",
                    "${aws_db_instance.orders.arn}",
                ],
            },
        ],
    }
    assert references(CONNECT_ARN) == [
        "var.region",
        "data.aws_caller_identity.current.account_id",
        "aws_db_instance.orders.resource_id",
        "var.db_user",
    ]
    assert (
        "data.aws_iam_policy_document.connect: json is unknown until apply; "
        "rebuilt from its statement blocks"
    ) in plan.notes


def test_policy_from_a_document_data_source_is_that_document(plan: IacFile) -> None:
    policy = props(plan, "aws_iam_role_policy.connect")
    assert policy["policy"] == props(plan, "data.aws_iam_policy_document.connect")["json"]
    assert policy["role"] == "orders-app"
    assert (
        "aws_iam_role_policy.connect: policy is unknown until apply; "
        "taken from data.aws_iam_policy_document.connect"
    ) in plan.notes


def test_jsonencode_policy_unknown_at_plan_is_rebuilt_from_its_references(plan: IacFile) -> None:
    policy = props(plan, "aws_iam_policy.reports_connect")["policy"]
    assert policy == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "${aws_iam_policy.reports_connect.policy}",
                "Resource": [
                    "${var.region}${data.aws_caller_identity.current.account_id}"
                    "${aws_rds_cluster.reports.cluster_resource_id}"
                ],
            }
        ],
    }
    [note] = [n for n in plan.notes if n.startswith("aws_iam_policy.reports_connect:")]
    assert "jsonencode" in note
    assert "aws_rds_cluster.reports.cluster_resource_id" in note


def test_known_policies_are_parsed(plan: IacFile) -> None:
    role = props(plan, "aws_iam_role.app")
    assert role["assume_role_policy"] == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EcsTasks",
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Principal": {"Service": "ecs-tasks.amazonaws.com"},
            }
        ],
    }
    # computed by the provider when no inline_policy block is written
    assert role["inline_policy"] == "${aws_iam_role.app.inline_policy}"
    assert role["managed_policy_arns"] == "${aws_iam_role.app.managed_policy_arns}"
    # an update: the planned policy, not the one before
    jane = props(plan, "aws_iam_user_policy.jane_connect")["policy"]
    assert jane["Statement"][0]["Resource"] == [
        "arn:aws:rds-db:eu-west-1:123456789012:dbuser:db-K3ZQ5V7XWN2HBLT6YJ4RDMEPCA/jane_ro",
        "arn:aws:rds-db:eu-west-1:123456789012:dbuser:db-K3ZQ5V7XWN2HBLT6YJ4RDMEPCA/jane_rw",
    ]
    group = props(plan, "aws_iam_group_policy.dba")["policy"]
    assert group["Statement"][0]["Resource"] == (
        "arn:aws:rds-db:eu-west-1:123456789012:dbuser:orders/*"
    )
    assumed = props(plan, "data.aws_iam_policy_document.assume")["json"]
    assert assumed["Statement"][0]["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}


def test_attachments_and_memberships(plan: IacFile) -> None:
    attachment = props(plan, "aws_iam_role_policy_attachment.app_reports")
    assert attachment["role"] == "orders-app"
    assert attachment["policy_arn"] == "${aws_iam_policy.reports_connect.arn}"
    shared = props(plan, "aws_iam_policy_attachment.reports_dba")
    assert (shared["groups"], shared["users"], shared["roles"]) == (["dba"], ["jane"], None)
    assert shared["policy_arn"] == "${aws_iam_policy.reports_connect.arn}"
    assert props(plan, "aws_iam_group_membership.dba")["users"] == ["jane"]
    assert props(plan, "aws_iam_user_group_membership.jane")["groups"] == ["dba"]
    assert props(plan, "aws_iam_user.jane")["arn"] == "arn:aws:iam::123456789012:user/jane"


def test_policy_attachment_reaches_its_roles_users_and_groups_in_the_snapshot() -> None:
    """aws_iam_policy_attachment (sets of role, user and group names) attaches its policy to
    each, as the single-principal attachments do; a role's managed_policy_arns that only the
    provider computes is no attachment (and is never read as one-character ARNs)."""
    doc, _ = to_snapshot([read("plan.json")], None, None)  # mapping changes the resources
    iam = doc["accounts"][0]["iam"]
    policy = "arn:aws:iam::123456789012:policy/aws_iam_policy.reports_connect"
    attached = {
        p.get("RoleName") or p.get("UserName") or p.get("GroupName"): [
            m["PolicyArn"] for m in p["AttachedManagedPolicies"]
        ]
        for key in ("RoleDetailList", "UserDetailList", "GroupDetailList")
        for p in iam[key]
    }
    assert attached == {
        "aws_iam_role.app": [policy],  # aws_iam_role_policy_attachment.app_reports
        "aws_iam_role.proxy": [],
        "aws_iam_user.jane": [policy],  # aws_iam_policy_attachment.reports_dba
        "aws_iam_group.dba": [policy],  # aws_iam_policy_attachment.reports_dba
    }
    [managed] = [p for p in iam["Policies"] if p["Arn"] == policy]
    assert managed["AttachmentCount"] == 3


# -- a plan with modules ------------------------------------------------------------------------


def test_module_resources_recursively_with_module_addresses(modules: IacFile) -> None:
    assert [r.address for r in modules.resources] == [
        "aws_iam_role_policy.by_identifier",
        "data.aws_caller_identity.current",
        "data.aws_partition.current",
        "module.db[0].aws_db_instance.main[0]",
        # replaced (["create", "delete"]): kept
        "module.db[0].aws_db_parameter_group.this",
        "module.iam.aws_iam_role.this",
        "module.iam.aws_iam_role_policy_attachment.audit",
        "module.iam.data.aws_iam_policy_document.connect",
        "module.iam.module.audit.aws_iam_policy.audit",
    ]
    assert (modules.region, modules.account_id, modules.partition) == (
        "us-east-1",
        "210987654321",
        "aws",
    )


def test_references_inside_a_module_are_prefixed_with_its_path(modules: IacFile) -> None:
    db = props(modules, "module.db[0].aws_db_instance.main[0]")
    assert db["parameter_group_name"] == "${module.db[0].aws_db_parameter_group.this.name}"
    assert db["resource_id"] == "${module.db[0].aws_db_instance.main[0].resource_id}"
    assert db["identifier"] == "inventory"
    group = props(modules, "module.db[0].aws_db_parameter_group.this")
    assert group["family"] == "postgres16"


def test_module_variables_and_outputs_are_followed_to_the_resource(modules: IacFile) -> None:
    expected = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "rds-db:connect",
                # var.db_resource_id = module.db[0].resource_id
                #                    = module.db[0].aws_db_instance.main[0].resource_id
                "Resource": "${var.region}${data.aws_caller_identity.current.account_id}"
                "${module.db[0].aws_db_instance.main[0].resource_id}${module.iam.var.db_user}",
            }
        ],
    }
    assert props(modules, "module.iam.data.aws_iam_policy_document.connect")["json"] == expected
    role = props(modules, "module.iam.aws_iam_role.this")
    assert role["inline_policy"] == [{"name": "connect", "policy": expected}]
    assert role["assume_role_policy"]["Statement"][0]["Principal"] == {
        "Service": "lambda.amazonaws.com"
    }
    attachment = props(modules, "module.iam.aws_iam_role_policy_attachment.audit")
    assert attachment["policy_arn"] == "${module.iam.module.audit.aws_iam_policy.audit.arn}"
    # an output named db_id whose value is the instance's id
    policy = props(modules, "aws_iam_role_policy.by_identifier")["policy"]
    assert references(policy["Statement"][0]["Resource"][0])[-1] == (
        "module.db[0].aws_db_instance.main[0].id"
    )


def test_nested_child_module_policy_is_parsed(modules: IacFile) -> None:
    policy = props(modules, "module.iam.module.audit.aws_iam_policy.audit")["policy"]
    assert policy["Statement"][0]["Action"] == ["rds:DescribeDBInstances", "rds:DescribeDBClusters"]


# -- a state ------------------------------------------------------------------------------------


def test_state_everything_known(state: IacFile) -> None:
    assert [r.address for r in state.resources] == [
        "aws_db_instance.orders",
        "aws_iam_role.app",
        "aws_iam_role_policy.connect",
        "aws_rds_cluster.reports",
        "data.aws_caller_identity.current",
        "data.aws_iam_policy_document.connect",
        "module.audit.aws_iam_policy.audit",
        "random_password.db",
    ]
    assert not any(is_unknown(r.properties) for r in state.resources)
    # no configuration: the Region comes from the resources' ARNs
    assert (state.region, state.account_id, state.partition) == (
        "eu-west-1",
        "123456789012",
        "aws",
    )
    assert state.notes == []
    db = props(state, "aws_db_instance.orders")
    # provider v5: id is the DBI resource id, identifier the name
    assert db["id"] == db["resource_id"] == "db-3HGAZYX9DOWG5M4RXC7HO000VK"
    assert db["identifier"] == "orders"
    assert "password" not in db
    secret = props(state, "random_password.db")
    assert "result" not in secret and "bcrypt_hash" not in secret
    assert secret["length"] == 32
    connect = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ConnectAsApp",
                "Effect": "Allow",
                "Action": "rds-db:connect",
                "Resource": "arn:aws:rds-db:eu-west-1:123456789012:dbuser:"
                "db-3HGAZYX9DOWG5M4RXC7HO000VK/app",
            }
        ],
    }
    assert props(state, "data.aws_iam_policy_document.connect")["json"] == connect
    assert props(state, "aws_iam_role_policy.connect")["policy"] == connect
    inline = props(state, "aws_iam_role.app")["inline_policy"]
    assert [p["name"] for p in inline] == ["connect", "describe"]
    assert inline[0]["policy"] == connect
    assert inline[1]["policy"]["Statement"][0]["Action"] == "rds:DescribeDBInstances"
    assert props(state, "module.audit.aws_iam_policy.audit")["policy"]["Version"] == "2012-10-17"


# -- small hand-made plans for single behaviours ------------------------------------------------


def small_plan(
    resources: list[dict[str, Any]],
    *,
    config: list[dict[str, Any]] | None = None,
    provider: dict[str, Any] | None = None,
    variables: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A plan document from (address, type, values, after_unknown, actions) entries."""
    planned, changes = [], []
    for res in resources:
        mode = "data" if res["address"].startswith("data.") else "managed"
        name = res["address"].split(".")[-1].split("[")[0]
        entry = {
            "address": res["address"],
            "mode": mode,
            "type": res["type"],
            "name": name,
            "provider_name": "registry.terraform.io/hashicorp/aws",
            "schema_version": 0,
            "values": res.get("values", {}),
            "sensitive_values": {},
        }
        planned.append(entry)
        changes.append(
            {
                "address": res["address"],
                "mode": mode,
                "type": res["type"],
                "name": name,
                "provider_name": "registry.terraform.io/hashicorp/aws",
                "change": {
                    "actions": res.get("actions", ["create"]),
                    "before": None,
                    "after": res.get("values", {}),
                    "after_unknown": res.get("unknown", {}),
                    "before_sensitive": False,
                    "after_sensitive": {},
                },
            }
        )
    doc: dict[str, Any] = {
        "format_version": "1.2",
        "terraform_version": "1.9.8",
        "variables": {k: {"value": v} for k, v in (variables or {}).items()},
        "planned_values": {"root_module": {"resources": planned}},
        "resource_changes": changes,
        "configuration": {
            "provider_config": {
                "aws": {
                    "name": "aws",
                    "full_name": "registry.terraform.io/hashicorp/aws",
                    "expressions": provider or {},
                }
            },
            "root_module": {"resources": config or []},
        },
    }
    return doc


def config_entry(address: str, rtype: str, expressions: dict[str, Any]) -> dict[str, Any]:
    mode = "data" if address.startswith("data.") else "managed"
    return {
        "address": address,
        "mode": mode,
        "type": rtype,
        "name": address.split(".")[-1],
        "provider_config_key": "aws",
        "expressions": expressions,
        "schema_version": 0,
    }


def test_deleted_resource_listed_in_planned_values_is_skipped() -> None:
    doc = small_plan(
        [
            {
                "address": "aws_iam_policy.gone",
                "type": "aws_iam_policy",
                "values": {"name": "gone", "policy": "{}"},
                "actions": ["delete"],
            },
            {
                "address": "aws_iam_policy.kept",
                "type": "aws_iam_policy",
                "values": {"name": "kept", "policy": "{}"},
                "actions": ["delete", "create"],
            },
        ]
    )
    assert [r.address for r in terraform.read("p.json", doc).resources] == ["aws_iam_policy.kept"]


def test_policy_that_is_not_json_is_left_as_a_string_and_noted() -> None:
    doc = small_plan(
        [
            {
                "address": "aws_iam_user_policy.odd",
                "type": "aws_iam_user_policy",
                "values": {"name": "odd", "user": "jane", "policy": "Version: 2012-10-17"},
            }
        ]
    )
    iac = terraform.read("p.json", doc)
    assert props(iac, "aws_iam_user_policy.odd")["policy"] == "Version: 2012-10-17"
    assert iac.notes == [
        "aws_iam_user_policy.odd: policy is not valid JSON (Expecting value); left as a string"
    ]


def test_list_elements_paired_with_their_references() -> None:
    doc = small_plan(
        [
            {
                "address": "aws_iam_role_policy_attachment.x",
                "type": "aws_iam_role_policy_attachment",
                "values": {"policy_arns": [None, "arn:aws:iam::aws:policy/ReadOnlyAccess", None]},
                "unknown": {"policy_arns": [True, False, True], "id": True},
            }
        ],
        config=[
            config_entry(
                "aws_iam_role_policy_attachment.x",
                "aws_iam_role_policy_attachment",
                {
                    "policy_arns": {
                        "references": [
                            "aws_iam_policy.a.arn",
                            "aws_iam_policy.a",
                            "aws_iam_policy.b.arn",
                            "aws_iam_policy.b",
                        ]
                    }
                },
            )
        ],
    )
    values = props(terraform.read("p.json", doc), "aws_iam_role_policy_attachment.x")
    assert values["policy_arns"] == [
        "${aws_iam_policy.a.arn}",
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
        "${aws_iam_policy.b.arn}",
    ]
    assert values["id"] == "${aws_iam_role_policy_attachment.x.id}"


def test_document_rebuilt_from_configuration_when_values_lack_statements() -> None:
    doc = small_plan(
        [
            {
                "address": "data.aws_iam_policy_document.trust",
                "type": "aws_iam_policy_document",
                "values": {"version": "2012-10-17"},
                "unknown": {"json": True, "statement": True},
                "actions": ["read"],
            }
        ],
        config=[
            config_entry(
                "data.aws_iam_policy_document.trust",
                "aws_iam_policy_document",
                {
                    "statement": [
                        {
                            "effect": {"constant_value": "Deny"},
                            "not_actions": {"constant_value": ["rds-db:connect"]},
                            "not_resources": {
                                "references": ["aws_db_instance.a.arn", "aws_db_instance.a"]
                            },
                            "principals": [
                                {
                                    "type": {"constant_value": "*"},
                                    "identifiers": {"constant_value": ["*"]},
                                }
                            ],
                        },
                        {
                            "actions": {"constant_value": ["sts:AssumeRole"]},
                            "principals": [
                                {
                                    "type": {"constant_value": "AWS"},
                                    "identifiers": {
                                        "references": ["aws_iam_role.ci.arn", "aws_iam_role.ci"]
                                    },
                                }
                            ],
                            "condition": [
                                {
                                    "test": {"constant_value": "StringEquals"},
                                    "variable": {"constant_value": "sts:ExternalId"},
                                    "values": {"constant_value": ["a", "b"]},
                                }
                            ],
                        },
                    ]
                },
            )
        ],
    )
    iac = terraform.read("p.json", doc)
    assert props(iac, "data.aws_iam_policy_document.trust")["json"] == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "NotAction": "rds-db:connect",
                "NotResource": "${aws_db_instance.a.arn}",
                "Principal": "*",
            },
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Principal": {"AWS": "${aws_iam_role.ci.arn}"},
                "Condition": {"StringEquals": {"sts:ExternalId": ["a", "b"]}},
            },
        ],
    }


def test_jsonencode_policy_keeps_arn_references_as_separate_resources() -> None:
    doc = small_plan(
        [
            {
                "address": "aws_iam_policy.p",
                "type": "aws_iam_policy",
                "values": {"name": "p"},
                "unknown": {"policy": True},
            }
        ],
        config=[
            config_entry(
                "aws_iam_policy.p",
                "aws_iam_policy",
                {
                    "policy": {
                        "references": [
                            "aws_rds_cluster.a.arn",
                            "aws_rds_cluster.a",
                            "var.region",
                            "aws_rds_cluster.a.cluster_identifier",
                            "aws_rds_cluster.a",
                        ]
                    }
                },
            )
        ],
        variables={"region": "eu-central-1"},
        provider={"region": {"references": ["var.region"]}},
    )
    iac = terraform.read("p.json", doc)
    assert props(iac, "aws_iam_policy.p")["policy"]["Statement"][0]["Resource"] == [
        "${aws_rds_cluster.a.arn}",
        "${var.region}${aws_rds_cluster.a.cluster_identifier}",
    ]
    assert (iac.region, iac.partition, iac.account_id) == ("eu-central-1", "aws", None)


def test_without_configuration_unknown_values_name_their_own_attribute() -> None:
    doc = small_plan(
        [
            {
                "address": "aws_iam_role_policy.p",
                "type": "aws_iam_role_policy",
                "values": {"name": "p", "role": "r"},
                "unknown": {"policy": True},
            }
        ]
    )
    del doc["configuration"]
    iac = terraform.read("p.json", doc)
    assert props(iac, "aws_iam_role_policy.p")["policy"] == "${aws_iam_role_policy.p.policy}"
    assert iac.notes == ["aws_iam_role_policy.p: policy is unknown until apply"]
    assert (iac.region, iac.account_id, iac.partition) == (None, None, None)


def test_region_constant_and_partition_from_it() -> None:
    doc = small_plan([], provider={"region": {"constant_value": "cn-northwest-1"}})
    iac = terraform.read("p.json", doc)
    assert (iac.region, iac.partition) == ("cn-northwest-1", "aws-cn")


def test_provider_alias_in_another_region_is_noted() -> None:
    doc = small_plan([], provider={"region": {"constant_value": "eu-west-1"}})
    doc["configuration"]["provider_config"]["aws.replica"] = {
        "name": "aws",
        "full_name": "registry.terraform.io/hashicorp/aws",
        "alias": "replica",
        "expressions": {"region": {"constant_value": "eu-central-1"}},
    }
    iac = terraform.read("p.json", doc)
    assert iac.region == "eu-west-1"
    assert iac.notes == [
        "provider aws.replica sets Region eu-central-1; the file's Region is eu-west-1"
    ]


def test_policy_from_a_document_missing_from_the_plan_stays_a_symbol() -> None:
    doc = small_plan(
        [
            {
                "address": "aws_iam_role_policy.p",
                "type": "aws_iam_role_policy",
                "values": {"name": "p", "role": "r"},
                "unknown": {"policy": True},
            }
        ],
        config=[
            config_entry(
                "aws_iam_role_policy.p",
                "aws_iam_role_policy",
                {
                    "policy": {
                        "references": [
                            "data.aws_iam_policy_document.x.json",
                            "data.aws_iam_policy_document.x",
                        ]
                    }
                },
            )
        ],
    )
    iac = terraform.read("p.json", doc)
    assert props(iac, "aws_iam_role_policy.p")["policy"] == "${data.aws_iam_policy_document.x.json}"
    assert iac.notes == [
        "aws_iam_role_policy.p: policy is unknown until apply and "
        "data.aws_iam_policy_document.x is not in the plan"
    ]


def test_old_major_version_zero_is_read() -> None:
    doc = small_plan([])
    doc["format_version"] = "0.2"
    assert terraform.read("p.json", doc).resources == []


# -- bad input ----------------------------------------------------------------------------------


def error_of(doc: Any) -> InputError:
    with pytest.raises(InputError) as caught:
        terraform.read("bad.json", doc)
    return caught.value


def test_unsupported_major_format_version_is_refused() -> None:
    doc = load("plan.json")
    doc["format_version"] = "2.0"
    err = error_of(doc)
    assert err.location == "$.format_version"
    assert str(err) == "bad.json: $.format_version: unsupported plan format version 2.0"


def test_planned_values_without_root_module_names_the_path() -> None:
    doc = load("plan.json")
    del doc["planned_values"]["root_module"]
    err = error_of(doc)
    assert str(err) == "bad.json: $.planned_values.root_module: missing"


@pytest.mark.parametrize(
    ("damage", "location", "message"),
    [
        (lambda d: d.update(format_version=1.2), "$.format_version", "expected a string"),
        (lambda d: d.update(format_version="one"), "$.format_version", "not a format version"),
        (lambda d: d.pop("format_version"), "$.format_version", "missing"),
        (
            lambda d: d["planned_values"]["root_module"].update(resources={}),
            "$.planned_values.root_module.resources",
            "expected an array, found an object",
        ),
        (
            lambda d: d["planned_values"]["root_module"]["resources"][2].pop("address"),
            "$.planned_values.root_module.resources[2].address",
            "missing",
        ),
        (
            lambda d: d["planned_values"]["root_module"]["resources"][0].update(mode="ephemeral"),
            "$.planned_values.root_module.resources[0].mode",
            "expected managed or data",
        ),
        (
            lambda d: d["planned_values"]["root_module"]["resources"][1].update(values=[]),
            "$.planned_values.root_module.resources[1].values",
            "expected an object, found an array",
        ),
        (
            lambda d: d["resource_changes"][3]["change"].update(actions="create"),
            "$.resource_changes[3].change.actions",
            "expected an array",
        ),
        (
            lambda d: d["configuration"]["root_module"]["resources"][0].update(expressions=[]),
            "$.configuration.root_module.resources[0].expressions",
            "expected an object",
        ),
        (
            lambda d: d["prior_state"]["values"].update(root_module="x"),
            "$.prior_state.values.root_module",
            "expected an object, found a string",
        ),
    ],
)
def test_malformed_plan_names_the_json_path(damage: Any, location: str, message: str) -> None:
    doc = copy.deepcopy(load("plan.json"))
    damage(doc)
    err = error_of(doc)
    assert err.location == location
    assert message in err.detail


def test_malformed_state_and_non_documents() -> None:
    state = load("state.json")
    del state["values"]["root_module"]
    assert str(error_of(state)) == "bad.json: $.values.root_module: missing"
    assert error_of([]).location == "$"
    err = error_of({"format_version": "1.0", "terraform_version": "1.9.8"})
    assert "neither planned_values nor values" in err.detail
    module = load("plan_modules.json")
    module["planned_values"]["root_module"]["child_modules"][1]["child_modules"][0]["resources"][0][
        "type"
    ] = None
    assert error_of(module).location == (
        "$.planned_values.root_module.child_modules[1].child_modules[0].resources[0].type"
    )
