"""Deterministic generator of a large, synthetic, schema-valid rdsiam snapshot.

    python3 bench/generate.py -o big.json [--instances N --clusters N --groups N
                                           --regions N --params N --seed S --indent N]

or, from Python::

    from bench.generate import generate, write
    doc = generate(instances=2000, clusters=400, groups=200)
    write(doc, "snapshot.json")

Everything comes from one ``random.Random(seed)``: the same arguments give the same bytes.
The shapes follow what DescribeDBInstances / DescribeDBClusters / DescribeDBProxies /
DescribeDBProxyTargets / DescribeDBParameters / DescribeCertificates return (AWS CLI JSON), with
the fields rdsiam does not read kept in, so the file size per resource is realistic:
in the written file an instance takes about 4.0 KB, a cluster 2.8 KB and a parameter 0.53 KB
(``--indent 2``; about 0.3 KB compact).

The defaults (10,000 instances, 2,000 clusters, 1,000 parameter groups of ~300 parameters,
4 Regions) give a file of about 205 MB, three quarters of it parameters. Sizes scale roughly
linearly with ``instances`` and ``groups * params``; ``estimate_bytes`` gives the size before
generating: ``generate(instances=2500, clusters=500, groups=250)`` is about 51 MB.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from typing import Any

ACCOUNT_ID = "123456789012"
PARTITION = "aws"
COLLECTED_AT = "2026-11-28T12:00:00Z"
REGIONS = (
    "us-east-1",
    "us-west-2",
    "eu-west-1",
    "ap-southeast-2",
    "eu-central-1",
    "ap-northeast-1",
    "us-east-2",
    "ca-central-1",
    "eu-north-1",
    "sa-east-1",
    "ap-south-1",
    "eu-west-2",
)
ZONE_LETTERS = "abc"

# Rough bytes per item at indent=2 (measured on the default snapshot), for estimate_bytes.
BYTES_PER_INSTANCE = 4000
BYTES_PER_CLUSTER = 2800
BYTES_PER_PARAMETER = 530

# --- engines -----------------------------------------------------------------------------------

# (engine, version, weight) of standalone DB instances.
STANDALONE_ENGINES: tuple[tuple[str, str, int], ...] = (
    ("postgres", "11.22", 2),
    ("postgres", "12.19", 3),
    ("postgres", "13.15", 5),
    ("postgres", "14.12", 8),
    ("postgres", "15.7", 9),
    ("postgres", "16.3", 10),
    ("postgres", "17.2", 5),
    ("mysql", "5.7.44", 3),
    ("mysql", "8.0.35", 9),
    ("mysql", "8.0.39", 7),
    ("mysql", "8.4.3", 4),
    ("mariadb", "10.4.34", 1),
    ("mariadb", "10.5.25", 2),
    ("mariadb", "10.6.14", 3),
    ("mariadb", "10.6.18", 2),
    ("mariadb", "10.11.8", 4),
    ("mariadb", "11.4.3", 2),
    ("oracle-ee", "19.0.0.0.ru-2024-04.rur-2024-04.r1", 2),
    ("oracle-se2", "19.0.0.0.ru-2024-07.rur-2024-07.r1", 1),
    ("sqlserver-se", "15.00.4365.2.v1", 2),
    ("sqlserver-ee", "16.00.4135.4.v1", 1),
)

# (engine, version, engine mode, weight) of DB clusters.
CLUSTER_ENGINES: tuple[tuple[str, str, str, int], ...] = (
    ("aurora-postgresql", "13.12", "provisioned", 3),
    ("aurora-postgresql", "14.10", "provisioned", 5),
    ("aurora-postgresql", "15.4", "provisioned", 8),
    ("aurora-postgresql", "16.2", "provisioned", 6),
    ("aurora-mysql", "5.7.mysql_aurora.2.11.5", "provisioned", 3),
    ("aurora-mysql", "8.0.mysql_aurora.3.05.2", "provisioned", 7),
    ("aurora-mysql", "8.0.mysql_aurora.3.07.1", "provisioned", 5),
    ("aurora-mysql", "5.7.mysql_aurora.2.11.5", "serverless", 1),
    ("postgres", "16.3", "provisioned", 1),  # Multi-AZ DB cluster
    ("mysql", "8.0.39", "provisioned", 1),  # Multi-AZ DB cluster
    ("neptune", "1.3.1.0", "provisioned", 2),
    ("docdb", "5.0.0", "provisioned", 2),
)

PORTS = {
    "postgres": 5432,
    "aurora-postgresql": 5432,
    "mysql": 3306,
    "mariadb": 3306,
    "aurora-mysql": 3306,
    "oracle-ee": 1521,
    "oracle-se2": 1521,
    "sqlserver-se": 1433,
    "sqlserver-ee": 1433,
    "neptune": 8182,
    "docdb": 27017,
}
LOG_EXPORTS = {
    "postgres": ("postgresql", "upgrade", "iam-db-auth-error"),
    "aurora-postgresql": ("postgresql", "instance", "iam-db-auth-error"),
    "mysql": ("error", "general", "slowquery", "audit", "iam-db-auth-error"),
    "mariadb": ("error", "general", "slowquery", "audit", "iam-db-auth-error"),
    "aurora-mysql": ("error", "general", "slowquery", "audit", "instance", "iam-db-auth-error"),
    "oracle-ee": ("alert", "audit", "listener", "trace"),
    "oracle-se2": ("alert", "audit", "listener", "trace"),
    "sqlserver-se": ("agent", "error"),
    "sqlserver-ee": ("agent", "error"),
    "neptune": ("audit", "slowquery"),
    "docdb": ("audit", "profiler"),
}
INSTANCE_CLASSES = {
    "default": (
        "db.t3.micro",
        "db.t3.medium",
        "db.t4g.medium",
        "db.m5.large",
        "db.m6g.large",
        "db.m6g.xlarge",
        "db.m6i.2xlarge",
        "db.r6g.large",
        "db.r6g.2xlarge",
        "db.r6i.4xlarge",
        "db.m7g.large",
        "db.r7g.xlarge",
    ),
    "aurora": (
        "db.t3.small",
        "db.t3.medium",
        "db.t4g.medium",
        "db.r6g.large",
        "db.r6g.xlarge",
        "db.r6g.2xlarge",
        "db.r7g.large",
        "db.r7g.4xlarge",
        "db.serverless",
    ),
    "oracle": ("db.m5.large", "db.m5.xlarge", "db.r5.2xlarge", "db.r6i.xlarge"),
    "sqlserver": ("db.m5.xlarge", "db.m6i.xlarge", "db.r5.xlarge", "db.r6i.2xlarge"),
    "neptune": ("db.r5.large", "db.r6g.large", "db.r6g.xlarge", "db.serverless"),
    "docdb": ("db.t3.medium", "db.r5.large", "db.r6g.large", "db.r6g.xlarge"),
}
LICENSE = {
    "oracle-ee": "bring-your-own-license",
    "oracle-se2": "license-included",
    "sqlserver-se": "license-included",
    "sqlserver-ee": "license-included",
    "mariadb": "general-public-license",
    "mysql": "general-public-license",
    "aurora-mysql": "general-public-license",
    "neptune": "amazon-license",
    "docdb": "na",
}
APPS = (
    "orders",
    "billing",
    "payments",
    "inventory",
    "catalog",
    "search",
    "auth",
    "users",
    "ledger",
    "reports",
    "analytics",
    "events",
    "shipping",
    "pricing",
    "crm",
    "erp",
    "hr",
    "audit",
    "notify",
    "media",
    "geo",
    "fraud",
    "risk",
    "quotes",
    "claims",
    "loyalty",
    "ads",
    "metrics",
    "sessions",
    "gateway",
)
ENVS = ("prod", "prod", "prod", "staging", "dev", "qa", "perf", "dr")
TEAMS = ("platform", "payments", "data", "growth", "core", "identity", "fulfilment", "finance")

# --- certificates ------------------------------------------------------------------------------

CERTIFICATES = (
    ("rds-ca-2019", "2019-09-19T18:16:53Z", "2024-08-22T17:08:50Z"),
    ("rds-ca-rsa2048-g1", "2021-05-25T22:41:55Z", "2061-05-24T22:59:00Z"),
    ("rds-ca-rsa4096-g1", "2021-05-25T23:34:57Z", "2121-05-24T23:59:59Z"),
    ("rds-ca-ecc384-g1", "2021-05-25T23:31:52Z", "2121-05-24T23:59:59Z"),
)
# (CA, weight) of instances.
CA_MIX = (
    ("rds-ca-rsa2048-g1", 70),
    ("rds-ca-rsa4096-g1", 10),
    ("rds-ca-ecc384-g1", 8),
    ("rds-ca-2019", 12),
)

# --- parameters --------------------------------------------------------------------------------

FORCE_SSL = "rds.force_ssl"
REQUIRE_SECURE_TRANSPORT = "require_secure_transport"
TLS_VERSION = "tls_version"
SSL_MIN_PROTOCOL_VERSION = "ssl_min_protocol_version"

_PG_NAMES = (
    "archive_command",
    "archive_timeout",
    "array_nulls",
    "authentication_timeout",
    "autovacuum",
    "autovacuum_analyze_scale_factor",
    "autovacuum_analyze_threshold",
    "autovacuum_freeze_max_age",
    "autovacuum_max_workers",
    "autovacuum_naptime",
    "autovacuum_vacuum_cost_delay",
    "autovacuum_vacuum_cost_limit",
    "autovacuum_vacuum_scale_factor",
    "autovacuum_vacuum_threshold",
    "backslash_quote",
    "bgwriter_delay",
    "bgwriter_lru_maxpages",
    "bgwriter_lru_multiplier",
    "bytea_output",
    "checkpoint_completion_target",
    "checkpoint_timeout",
    "checkpoint_warning",
    "client_encoding",
    "client_min_messages",
    "commit_delay",
    "commit_siblings",
    "constraint_exclusion",
    "cpu_index_tuple_cost",
    "cpu_operator_cost",
    "cpu_tuple_cost",
    "cursor_tuple_fraction",
    "datestyle",
    "deadlock_timeout",
    "default_statistics_target",
    "default_transaction_isolation",
    "default_transaction_read_only",
    "effective_cache_size",
    "effective_io_concurrency",
    "enable_bitmapscan",
    "enable_hashagg",
    "enable_hashjoin",
    "enable_indexscan",
    "enable_material",
    "enable_mergejoin",
    "enable_nestloop",
    "enable_seqscan",
    "enable_sort",
    "enable_tidscan",
    "escape_string_warning",
    "extra_float_digits",
    "from_collapse_limit",
    "geqo",
    "geqo_effort",
    "geqo_threshold",
    "gin_fuzzy_search_limit",
    "hot_standby_feedback",
    "idle_in_transaction_session_timeout",
    "intervalstyle",
    "join_collapse_limit",
    "lc_messages",
    "lc_monetary",
    "lc_numeric",
    "lc_time",
    "lock_timeout",
    "log_autovacuum_min_duration",
    "log_checkpoints",
    "log_connections",
    "log_disconnections",
    "log_duration",
    "log_error_verbosity",
    "log_executor_stats",
    "log_hostname",
    "log_lock_waits",
    "log_min_duration_statement",
    "log_min_error_statement",
    "log_min_messages",
    "log_parser_stats",
    "log_planner_stats",
    "log_rotation_age",
    "log_rotation_size",
    "log_statement",
    "log_statement_stats",
    "log_temp_files",
    "log_timezone",
    "maintenance_work_mem",
    "max_connections",
    "max_files_per_process",
    "max_locks_per_transaction",
    "max_parallel_workers",
    "max_parallel_workers_per_gather",
    "max_prepared_transactions",
    "max_replication_slots",
    "max_stack_depth",
    "max_standby_archive_delay",
    "max_standby_streaming_delay",
    "max_wal_senders",
    "max_wal_size",
    "max_worker_processes",
    "min_wal_size",
    "pg_stat_statements.max",
    "pg_stat_statements.track",
    "pgaudit.log",
    "pgaudit.role",
    "random_page_cost",
    "rds.log_retention_period",
    "rds.logical_replication",
    "rds.rds_superuser_reserved_connections",
    "rds.restrict_password_commands",
    "search_path",
    "seq_page_cost",
    "session_replication_role",
    "shared_buffers",
    "shared_preload_libraries",
    "ssl",
    "ssl_max_protocol_version",
    "standard_conforming_strings",
    "statement_timeout",
    "synchronous_commit",
    "tcp_keepalives_count",
    "tcp_keepalives_idle",
    "tcp_keepalives_interval",
    "temp_buffers",
    "temp_file_limit",
    "timezone",
    "track_activities",
    "track_activity_query_size",
    "track_commit_timestamp",
    "track_counts",
    "track_functions",
    "track_io_timing",
    "transform_null_equals",
    "vacuum_cost_delay",
    "vacuum_cost_limit",
    "vacuum_freeze_min_age",
    "vacuum_freeze_table_age",
    "wal_buffers",
    "wal_compression",
    "wal_keep_size",
    "wal_receiver_timeout",
    "wal_sender_timeout",
    "work_mem",
    "xmlbinary",
    "xmloption",
)
_MY_NAMES = (
    "auto_increment_increment",
    "auto_increment_offset",
    "autocommit",
    "binlog_cache_size",
    "binlog_checksum",
    "binlog_format",
    "binlog_row_image",
    "bulk_insert_buffer_size",
    "character_set_client",
    "character_set_connection",
    "character_set_database",
    "character_set_filesystem",
    "character_set_results",
    "character_set_server",
    "collation_connection",
    "collation_server",
    "completion_type",
    "concurrent_insert",
    "connect_timeout",
    "default_storage_engine",
    "default_time_zone",
    "delay_key_write",
    "div_precision_increment",
    "event_scheduler",
    "explicit_defaults_for_timestamp",
    "flush_time",
    "ft_max_word_len",
    "ft_min_word_len",
    "general_log",
    "group_concat_max_len",
    "init_connect",
    "innodb_adaptive_hash_index",
    "innodb_autoinc_lock_mode",
    "innodb_buffer_pool_size",
    "innodb_change_buffering",
    "innodb_deadlock_detect",
    "innodb_file_per_table",
    "innodb_flush_log_at_trx_commit",
    "innodb_flush_method",
    "innodb_io_capacity",
    "innodb_io_capacity_max",
    "innodb_lock_wait_timeout",
    "innodb_log_buffer_size",
    "innodb_max_dirty_pages_pct",
    "innodb_old_blocks_time",
    "innodb_online_alter_log_max_size",
    "innodb_print_all_deadlocks",
    "innodb_purge_threads",
    "innodb_read_io_threads",
    "innodb_sort_buffer_size",
    "innodb_stats_on_metadata",
    "innodb_stats_persistent",
    "innodb_strict_mode",
    "innodb_thread_concurrency",
    "innodb_write_io_threads",
    "interactive_timeout",
    "join_buffer_size",
    "key_buffer_size",
    "local_infile",
    "lock_wait_timeout",
    "log_bin_trust_function_creators",
    "log_output",
    "log_queries_not_using_indexes",
    "long_query_time",
    "lower_case_table_names",
    "max_allowed_packet",
    "max_binlog_size",
    "max_connect_errors",
    "max_connections",
    "max_execution_time",
    "max_heap_table_size",
    "max_prepared_stmt_count",
    "max_user_connections",
    "min_examined_row_limit",
    "net_buffer_length",
    "net_read_timeout",
    "net_retry_count",
    "net_write_timeout",
    "performance_schema",
    "query_cache_size",
    "query_cache_type",
    "read_buffer_size",
    "read_only",
    "read_rnd_buffer_size",
    "server_audit_events",
    "server_audit_logging",
    "skip_name_resolve",
    "slow_query_log",
    "sort_buffer_size",
    "sql_mode",
    "sync_binlog",
    "table_definition_cache",
    "table_open_cache",
    "thread_cache_size",
    "thread_stack",
    "time_zone",
    "tmp_table_size",
    "transaction_isolation",
    "wait_timeout",
)
_ORA_NAMES = (
    "_allow_level_without_connect_by",
    "aq_tm_processes",
    "archive_lag_target",
    "audit_trail",
    "compatible",
    "cursor_sharing",
    "db_block_checking",
    "db_cache_size",
    "db_file_multiblock_read_count",
    "ddl_lock_timeout",
    "job_queue_processes",
    "log_buffer",
    "max_string_size",
    "memory_target",
    "nls_date_format",
    "nls_length_semantics",
    "open_cursors",
    "optimizer_mode",
    "parallel_max_servers",
    "pga_aggregate_limit",
    "pga_aggregate_target",
    "processes",
    "recyclebin",
    "remote_login_passwordfile",
    "resource_limit",
    "sec_case_sensitive_logon",
    "session_cached_cursors",
    "sessions",
    "sga_target",
    "sqlnetora.sqlnet.encryption_server",
    "undo_retention",
)
_MSSQL_NAMES = (
    "access check cache bucket count",
    "ad hoc distributed queries",
    "backup compression default",
    "blocked process threshold (s)",
    "contained database authentication",
    "cost threshold for parallelism",
    "cursor threshold",
    "default full-text language",
    "fill factor (%)",
    "index create memory (kb)",
    "max degree of parallelism",
    "max server memory (mb)",
    "max worker threads",
    "min memory per query (kb)",
    "optimize for ad hoc workloads",
    "priority boost",
    "query governor cost limit",
    "query wait (s)",
    "rds.force_ssl",
    "remote access",
    "remote query timeout (s)",
    "user connections",
)
_NEPTUNE_NAMES = (
    "neptune_query_timeout",
    "neptune_result_cache",
    "neptune_enable_audit_log",
    "neptune_lab_mode",
    "neptune_streams",
    "neptune_dfe_query_engine",
)
_DOCDB_NAMES = (
    "audit_logs",
    "change_stream_log_retention_duration",
    "profiler",
    "profiler_sampling_rate",
    "profiler_threshold_ms",
    "tls",
    "ttl_monitor",
)


def _pool(family: str) -> tuple[str, ...]:
    if "postgres" in family:
        return _PG_NAMES
    if "mysql" in family or "mariadb" in family:
        return _MY_NAMES
    if "oracle" in family:
        return _ORA_NAMES
    if "sqlserver" in family:
        return _MSSQL_NAMES
    if "neptune" in family:
        return _NEPTUNE_NAMES
    return _DOCDB_NAMES


def _prefix(family: str) -> str:
    if "postgres" in family:
        return "pg"
    if "mysql" in family:
        return "innodb" if "aurora" not in family else "aurora"
    if "mariadb" in family:
        return "aria"
    return family.split("-")[0].rstrip("0123456789.")


def family_of(engine: str, version: str) -> str:
    """The DBParameterGroupFamily (``postgres16``, ``aurora-mysql8.0``, ``oracle-ee-19``)."""
    nums = [int(p) for p in version.split(".")[:2] if p.isdigit()]
    if engine == "postgres" or engine == "aurora-postgresql":
        return f"{engine}{nums[0]}"
    if engine == "aurora-mysql":
        return f"aurora-mysql{nums[0]}.{nums[1]}"
    if engine in ("mysql", "mariadb"):
        return f"{engine}{nums[0]}.{nums[1]}"
    if engine.startswith("oracle"):
        return f"{engine}-{nums[0]}"
    if engine.startswith("sqlserver"):
        return f"{engine}-{nums[0]}.0"
    if engine == "neptune":
        return f"neptune{nums[0]}.{nums[1]}"
    if engine == "docdb":
        return f"docdb{nums[0]}.{nums[1]}"
    return engine


def _tls_parameters(family: str, cluster_level: bool) -> tuple[str, ...]:
    """The TLS parameters rdsiam reads in a group of this family and level."""
    aurora = family.startswith("aurora")
    if "postgres" in family:
        return (FORCE_SSL, SSL_MIN_PROTOCOL_VERSION) if (cluster_level or not aurora) else ()
    if "mysql" in family or "mariadb" in family:
        return (REQUIRE_SECURE_TRANSPORT, TLS_VERSION) if (cluster_level or not aurora) else ()
    return ()


class _Templates:
    """Per family: the (shared) description, data type and allowed values of each parameter,
    made once so 300,000 parameter items share their long strings."""

    def __init__(self, rng: random.Random, params: int) -> None:
        self.rng = rng
        self.params = params
        self.cache: dict[tuple[str, bool], list[dict[str, Any]]] = {}

    def of(self, family: str, cluster_level: bool) -> list[dict[str, Any]]:
        key = (family, cluster_level)
        if key not in self.cache:
            self.cache[key] = self._make(family, cluster_level)
        return self.cache[key]

    def _make(self, family: str, cluster_level: bool) -> list[dict[str, Any]]:
        rng = random.Random(f"{self.rng.random()}:{family}:{cluster_level}")
        names: list[str] = list(_pool(family))
        prefix = _prefix(family)
        words = (
            "buffer",
            "cache",
            "timeout",
            "limit",
            "threshold",
            "size",
            "count",
            "mode",
            "delay",
            "interval",
            "enabled",
            "max",
            "min",
            "level",
            "ratio",
            "workers",
        )
        i = 0
        target = max(self.params + rng.randint(-30, 30), 10) if self.params > 0 else 0
        while len(names) < target:
            names.append(f"{prefix}_{words[i % len(words)]}_{words[(i // 7) % len(words)]}_{i}")
            i += 1
        names = names[:target] if target else []
        out = []
        for name in names:
            kind = rng.choice(("integer", "integer", "boolean", "string", "list", "float"))
            allowed: str | None
            default: str | None
            if kind == "boolean":
                allowed, default = "0,1", rng.choice(("0", "1"))
            elif kind == "integer":
                low = rng.choice((0, 1, 10, 100))
                high = rng.choice((1024, 65535, 2147483647, 1073741823))
                allowed, default = f"{low}-{high}", str(rng.randint(low, min(high, 100000)))
            elif kind == "float":
                allowed, default = "0-1", f"{rng.random():.2f}"
            elif kind == "list":
                choices = rng.sample(
                    (
                        "off",
                        "on",
                        "all",
                        "none",
                        "ddl",
                        "mod",
                        "read",
                        "write",
                        "function",
                        "role",
                        "misc",
                    ),
                    4,
                )
                allowed, default = ",".join(choices), choices[0]
            else:
                allowed, default = None, rng.choice(("UTF8", "default", "en_US.UTF-8", None))
            out.append(
                {
                    "name": name,
                    "description": rng.choice(("Sets the ", "Controls the ", "Specifies the "))
                    + name.replace("_", " ").replace(".", " ")
                    + ".",
                    "type": kind,
                    "allowed": allowed,
                    "default": default,
                    "apply": rng.choice(("dynamic", "dynamic", "static")),
                    "modifiable": rng.random() < 0.85,
                }
            )
        for name in _tls_parameters(family, cluster_level):
            if name in names:
                continue
            if name in (FORCE_SSL, REQUIRE_SECURE_TRANSPORT):
                allowed = "0,1" if name == FORCE_SSL or "mariadb" not in family else "ON,OFF"
                kind = "boolean"
            else:
                allowed, kind = (
                    "TLSv1,TLSv1.1,TLSv1.2,TLSv1.3",
                    "list" if name == TLS_VERSION else "string",
                )
            out.append(
                {
                    "name": name,
                    "description": f"Transport security: {name}.",
                    "type": kind,
                    "allowed": allowed,
                    "default": None,
                    "apply": "dynamic",
                    "modifiable": True,
                }
            )
        out.sort(key=lambda t: str(t["name"]))
        return out


def _tls_value(rng: random.Random, family: str, name: str) -> str:
    """A value a user would have set for a TLS parameter (good most of the time)."""
    if name == FORCE_SSL:
        return "1" if rng.random() < 0.7 else "0"
    if name == REQUIRE_SECURE_TRANSPORT:
        on = rng.random() < 0.6
        if "mariadb" in family:
            return "ON" if on else "OFF"
        return "1" if on else "0"
    if name == SSL_MIN_PROTOCOL_VERSION:
        return rng.choice(("TLSv1.2", "TLSv1.2", "TLSv1.3", "TLSv1"))
    return rng.choice(("TLSv1.2,TLSv1.3", "TLSv1.2", "TLSv1.2,TLSv1.3", "TLSv1,TLSv1.1,TLSv1.2"))


def _parameters(
    rng: random.Random, templates: _Templates, family: str, cluster_level: bool, custom: bool
) -> list[dict[str, Any]]:
    """DescribeDB[Cluster]Parameters items of one group."""
    tls = set(_tls_parameters(family, cluster_level))
    drop_tls = rng.random() < 0.1  # some collections page short / omit the TLS items
    set_tls = custom and rng.random() < 0.6
    items = []
    for t in templates.of(family, cluster_level):
        name = t["name"]
        if name in tls and drop_tls:
            continue
        item: dict[str, Any] = {"ParameterName": name}
        if name in tls and set_tls:
            item["ParameterValue"] = _tls_value(rng, family, name)
            item["Source"] = "user"
        elif custom and t["modifiable"] and rng.random() < 0.04:
            item["ParameterValue"] = t["default"] or "1"
            item["Source"] = "user"
        else:
            if t["default"] is not None:
                item["ParameterValue"] = t["default"]
            item["Source"] = "engine-default" if t["modifiable"] else "system"
        item["Description"] = t["description"]
        item["ApplyType"] = t["apply"]
        item["DataType"] = t["type"]
        if t["allowed"] is not None:
            item["AllowedValues"] = t["allowed"]
        item["IsModifiable"] = t["modifiable"]
        item["ApplyMethod"] = "pending-reboot" if t["apply"] == "static" else "immediate"
        if cluster_level:
            item["SupportedEngineModes"] = ["provisioned"]
        items.append(item)
    return items


# --- helpers -----------------------------------------------------------------------------------


def _weighted(rng: random.Random, table: tuple[tuple[Any, ...], ...]) -> tuple[Any, ...]:
    return rng.choices(table, weights=[row[-1] for row in table])[0]


def _hex(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def _upper(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(n))


def _time(rng: random.Random, start_year: int = 2019, end_year: int = 2026) -> str:
    year = rng.randint(start_year, end_year)
    month = rng.randint(1, 10) if year == end_year else rng.randint(1, 12)
    return (
        f"{year}-{month:02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:"
        f"{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}.{rng.randint(0, 999):03d}000+00:00"
    )


def _backup_window(rng: random.Random) -> str:
    hour = rng.randint(0, 23)
    return f"{hour:02d}:00-{hour:02d}:30"


def _tags(rng: random.Random, app: str, env: str) -> list[dict[str, str]]:
    tags = [
        {"Key": "Name", "Value": app},
        {"Key": "env", "Value": env},
        {"Key": "team", "Value": rng.choice(TEAMS)},
        {"Key": "cost-center", "Value": f"cc-{rng.randint(1000, 9999)}"},
        {"Key": "owner", "Value": f"{rng.choice(TEAMS)}-oncall@example.com"},
    ]
    if rng.random() < 0.5:
        tags.append({"Key": "backup-policy", "Value": rng.choice(("daily", "weekly", "none"))})
    if rng.random() < 0.3:
        tags.append(
            {
                "Key": "data-classification",
                "Value": rng.choice(("public", "internal", "confidential", "restricted")),
            }
        )
    return tags


class _Network:
    """VPCs, subnets and security groups of one Region (shared by its resources)."""

    def __init__(self, rng: random.Random, region: str) -> None:
        self.region = region
        self.vpcs = [f"vpc-{_hex(rng, 17)}" for _ in range(4)]
        self.subnet_groups: list[dict[str, Any]] = []
        for i, vpc in enumerate(self.vpcs):
            for tier in ("db", "data", "private"):
                subnets = [
                    {
                        "SubnetIdentifier": f"subnet-{_hex(rng, 17)}",
                        "SubnetAvailabilityZone": {"Name": f"{region}{z}"},
                        "SubnetOutpost": {},
                        "SubnetStatus": "Active",
                    }
                    for z in ZONE_LETTERS
                ]
                self.subnet_groups.append(
                    {
                        "DBSubnetGroupName": f"{tier}-subnets-{i}",
                        "DBSubnetGroupDescription": f"{tier} tier subnets of VPC {i}",
                        "VpcId": vpc,
                        "SubnetGroupStatus": "Complete",
                        "Subnets": subnets,
                    }
                )
        self.security_groups = [f"sg-{_hex(rng, 17)}" for _ in range(40)]
        self.kms_keys = [
            f"arn:aws:kms:{region}:{ACCOUNT_ID}:key/{_hex(rng, 8)}-{_hex(rng, 4)}-"
            f"{_hex(rng, 4)}-{_hex(rng, 4)}-{_hex(rng, 12)}"
            for _ in range(6)
        ]
        self.zone_id = rng.choice(
            ("Z2R2ITUGPM61AM", "Z1PVIF0B656C1W", "Z29XKXDKYMONMX", "Z2VFMSZA74J7XZ")
        )
        self.dns_suffix = f"{_hex(rng, 12)}.{region}.rds.amazonaws.com"


def _domain(rng: random.Random) -> dict[str, Any]:
    return {
        "Domain": f"d-{rng.randint(9000000000, 9099999999)}",
        "Status": rng.choice(("joined", "kerberos-enabled", "joined")),
        "FQDN": rng.choice(("corp.example.com", "ad.example.net")),
        "IAMRoleName": "rds-directoryservice-access-role",
        "OU": "OU=RDS,DC=corp,DC=example,DC=com",
    }


# --- resources ---------------------------------------------------------------------------------


def _instance(
    rng: random.Random,
    net: _Network,
    ident: str,
    engine: str,
    version: str,
    instance_class: str,
    iam: bool,
    parameter_group: str,
    app: str,
    env: str,
    cluster: dict[str, Any] | None = None,
    writer: bool = False,
    as_of_year: int = 2026,
) -> dict[str, Any]:
    region = net.region
    zone = f"{region}{rng.choice(ZONE_LETTERS)}"
    port = PORTS.get(engine, 5432)
    aurora_like = cluster is not None and engine.startswith(("aurora", "neptune", "docdb"))
    storage = (
        "aurora"
        if aurora_like and engine.startswith("aurora")
        else "aurora"
        if aurora_like
        else rng.choice(("gp3", "gp3", "gp2", "io1", "io2"))
    )
    ca = _weighted(rng, CA_MIX)[0]
    if ca == "rds-ca-2019":
        valid_till = "2024-08-22T17:08:50Z"
    else:
        # Server certificates: mostly next year; a few expire within a month of the bench's
        # --as-of (2026-11-28) or already expired.
        roll = rng.random()
        if roll < 0.04:
            valid_till = f"2026-12-{rng.randint(1, 27):02d}T{rng.randint(0, 23):02d}:00:00Z"
        elif roll < 0.06:
            valid_till = f"2026-{rng.randint(1, 10):02d}-{rng.randint(1, 28):02d}T00:00:00Z"
        else:
            valid_till = (
                f"{as_of_year + 1}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
                f"T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00Z"
            )
    subnet_group = rng.choice(net.subnet_groups)
    sgs = rng.sample(net.security_groups, rng.randint(1, 3))
    multi_az = cluster is None and rng.random() < 0.35
    logs = [x for x in LOG_EXPORTS.get(engine, ()) if rng.random() < 0.45]
    monitoring = rng.choice((0, 0, 15, 60))
    resource_id = f"db-{_upper(rng, 26)}"
    allocated = 1 if aurora_like else rng.choice((20, 50, 100, 200, 500, 1000, 2000))
    item: dict[str, Any] = {
        "DBInstanceIdentifier": ident,
        "DBInstanceClass": instance_class,
        "Engine": engine,
        "DBInstanceStatus": rng.choices(
            (
                "available",
                "available",
                "backing-up",
                "modifying",
                "stopped",
                "storage-optimization",
            ),
            weights=(80, 5, 3, 2, 3, 2),
        )[0],
        "MasterUsername": rng.choice(("admin", "postgres", "root", "dbadmin", "master")),
        "DBName": app.replace("-", "_"),
        "Endpoint": {
            "Address": f"{ident}.{net.dns_suffix}",
            "Port": port,
            "HostedZoneId": net.zone_id,
        },
        "AllocatedStorage": allocated,
        "InstanceCreateTime": _time(rng),
        "PreferredBackupWindow": _backup_window(rng),
        "BackupRetentionPeriod": rng.choice((1, 7, 7, 14, 35)),
        "DBSecurityGroups": [],
        "VpcSecurityGroups": [{"VpcSecurityGroupId": sg, "Status": "active"} for sg in sgs],
        "DBParameterGroups": [
            {
                "DBParameterGroupName": parameter_group,
                "ParameterApplyStatus": "pending-reboot" if rng.random() < 0.04 else "in-sync",
            }
        ],
        "AvailabilityZone": zone,
        "DBSubnetGroup": subnet_group,
        "PreferredMaintenanceWindow": f"{rng.choice(('sun', 'mon', 'tue', 'sat'))}:0"
        f"{rng.randint(3, 8)}:00-{rng.choice(('sun', 'mon'))}:0"
        f"{rng.randint(0, 9)}:30",
        "PendingModifiedValues": (
            {"DBInstanceClass": "db.r6g.xlarge"} if rng.random() < 0.02 else {}
        ),
        "LatestRestorableTime": "2026-11-28T11:55:00+00:00",
        "MultiAZ": multi_az,
        "EngineVersion": version,
        "AutoMinorVersionUpgrade": rng.random() < 0.8,
        "ReadReplicaDBInstanceIdentifiers": [],
        "LicenseModel": LICENSE.get(engine, "postgresql-license"),
        "OptionGroupMemberships": [
            {
                "OptionGroupName": f"default:{engine}-{version.split('.')[0]}",
                "Status": "in-sync",
            }
        ],
        "PubliclyAccessible": rng.random() < 0.03,
        "StorageType": storage,
        "DbInstancePort": 0,
        "StorageEncrypted": rng.random() < 0.9,
        "KmsKeyId": rng.choice(net.kms_keys),
        "DbiResourceId": resource_id,
        "CACertificateIdentifier": ca,
        "DomainMemberships": [],
        "CopyTagsToSnapshot": True,
        "MonitoringInterval": monitoring,
        "DBInstanceArn": f"arn:aws:rds:{region}:{ACCOUNT_ID}:db:{ident}",
        "IAMDatabaseAuthenticationEnabled": iam,
        "DatabaseInsightsMode": "standard",
        "PerformanceInsightsEnabled": rng.random() < 0.5,
        "EnabledCloudwatchLogsExports": logs,
        "DeletionProtection": env == "prod",
        "AssociatedRoles": [],
        "TagList": _tags(rng, app, env),
        "CustomerOwnedIpEnabled": False,
        "ActivityStreamStatus": "stopped",
        "BackupTarget": "region",
        "NetworkType": "IPV4",
        "CertificateDetails": {"CAIdentifier": ca, "ValidTill": valid_till},
        "DedicatedLogVolume": False,
        "IsStorageConfigUpgradeAvailable": False,
        "EngineLifecycleSupport": "open-source-rds-extended-support",
    }
    if multi_az:
        item["SecondaryAvailabilityZone"] = f"{region}{rng.choice(ZONE_LETTERS)}"
    if storage in ("io1", "io2", "gp3"):
        item["Iops"] = rng.choice((3000, 6000, 12000))
    if storage == "gp3":
        item["StorageThroughput"] = rng.choice((125, 250, 500))
    if not aurora_like:
        item["MaxAllocatedStorage"] = allocated * 2
    if monitoring:
        item["EnhancedMonitoringResourceArn"] = (
            f"arn:aws:logs:{region}:{ACCOUNT_ID}:log-group:RDSOSMetrics:log-stream:{resource_id}"
        )
        item["MonitoringRoleArn"] = f"arn:aws:iam::{ACCOUNT_ID}:role/rds-monitoring-role"
    if item["PerformanceInsightsEnabled"]:
        item["PerformanceInsightsKMSKeyId"] = item["KmsKeyId"]
        item["PerformanceInsightsRetentionPeriod"] = 7
    if engine.startswith("oracle"):
        item["CharacterSetName"] = "AL32UTF8"
        item["NcharCharacterSetName"] = "AL16UTF16"
    if engine.startswith("sqlserver"):
        item["Timezone"] = "UTC"
    if cluster is not None:
        item["DBClusterIdentifier"] = cluster["DBClusterIdentifier"]
        item["PromotionTier"] = 0 if writer else rng.randint(1, 15)
        item["StorageEncrypted"] = cluster["StorageEncrypted"]
        item["KmsKeyId"] = cluster["KmsKeyId"]
    return item


def _cluster(
    rng: random.Random,
    net: _Network,
    ident: str,
    engine: str,
    version: str,
    mode: str,
    iam: bool,
    parameter_group: str,
    app: str,
    env: str,
) -> dict[str, Any]:
    region = net.region
    port = PORTS.get(engine, 5432)
    multi_az_db_cluster = engine in ("postgres", "mysql")
    item: dict[str, Any] = {
        "AllocatedStorage": 1 if not multi_az_db_cluster else 400,
        "AvailabilityZones": [f"{region}{z}" for z in ZONE_LETTERS],
        "BackupRetentionPeriod": rng.choice((1, 7, 14, 35)),
        "DatabaseName": app.replace("-", "_"),
        "DBClusterIdentifier": ident,
        "DBClusterParameterGroup": parameter_group,
        "DBSubnetGroup": rng.choice(net.subnet_groups)["DBSubnetGroupName"],
        "Status": "available",
        "EarliestRestorableTime": "2026-11-21T03:12:45.120000+00:00",
        "Endpoint": f"{ident}.cluster-{net.dns_suffix}",
        "ReaderEndpoint": f"{ident}.cluster-ro-{net.dns_suffix}",
        "MultiAZ": True,
        "Engine": engine,
        "EngineVersion": version,
        "LatestRestorableTime": "2026-11-28T11:55:00+00:00",
        "Port": port,
        "MasterUsername": rng.choice(("admin", "postgres", "root", "dbadmin")),
        "PreferredBackupWindow": _backup_window(rng),
        "PreferredMaintenanceWindow": "sun:05:00-sun:05:30",
        "ReadReplicaIdentifiers": [],
        "DBClusterMembers": [],
        "VpcSecurityGroups": [
            {"VpcSecurityGroupId": sg, "Status": "active"}
            for sg in rng.sample(net.security_groups, rng.randint(1, 2))
        ],
        "HostedZoneId": net.zone_id,
        "StorageEncrypted": rng.random() < 0.95,
        "KmsKeyId": rng.choice(net.kms_keys),
        "DbClusterResourceId": f"cluster-{_upper(rng, 26)}",
        "DBClusterArn": f"arn:aws:rds:{region}:{ACCOUNT_ID}:cluster:{ident}",
        "AssociatedRoles": [],
        "IAMDatabaseAuthenticationEnabled": iam,
        "ClusterCreateTime": _time(rng),
        "EnabledCloudwatchLogsExports": [
            x for x in LOG_EXPORTS.get(engine, ()) if rng.random() < 0.5
        ],
        "EngineMode": mode,
        "DeletionProtection": env == "prod",
        "HttpEndpointEnabled": False,
        "ActivityStreamStatus": "stopped",
        "CopyTagsToSnapshot": True,
        "CrossAccountClone": False,
        "DomainMemberships": [],
        "TagList": _tags(rng, app, env),
        "AutoMinorVersionUpgrade": True,
        "NetworkType": "IPV4",
        "StorageType": "aurora" if not multi_az_db_cluster else "io1",
        "EngineLifecycleSupport": "open-source-rds-extended-support",
    }
    if multi_az_db_cluster:
        item["DBClusterInstanceClass"] = "db.m6gd.large"
        item["Iops"] = 3000
        item["CertificateDetails"] = {
            "CAIdentifier": "rds-ca-rsa2048-g1",
            "ValidTill": "2027-06-01T00:00:00Z",
        }
    if mode == "serverless":
        item["Capacity"] = 2
        item["ScalingConfigurationInfo"] = {
            "MinCapacity": 1,
            "MaxCapacity": 16,
            "AutoPause": True,
            "SecondsUntilAutoPause": 300,
            "TimeoutAction": "RollbackCapacityChange",
        }
    elif engine.startswith("aurora") and rng.random() < 0.25:
        item["ServerlessV2ScalingConfiguration"] = {"MinCapacity": 0.5, "MaxCapacity": 64.0}
    return item


def _proxy(rng: random.Random, net: _Network, name: str, family: str) -> dict[str, Any]:
    region = net.region
    proxy_id = f"prx-{_hex(rng, 17)}"
    auth = []
    for user in rng.sample(("app", "reporting", "etl", "admin", "readonly"), rng.randint(0, 3)):
        entry = {
            "Description": f"{user} credentials",
            "UserName": user,
            "AuthScheme": "SECRETS",
            "SecretArn": f"arn:aws:secretsmanager:{region}:{ACCOUNT_ID}:secret:{name}-{user}-"
            f"{_upper(rng, 6)}",
            "IAMAuth": rng.choice(("REQUIRED", "REQUIRED", "DISABLED", "ENABLED")),
            "ClientPasswordAuthType": (
                "POSTGRES_SCRAM_SHA_256"
                if family == "POSTGRESQL"
                else "MYSQL_NATIVE_PASSWORD"
                if family == "MYSQL"
                else "SQL_SERVER_AUTHENTICATION"
            ),
        }
        auth.append(entry)
    item: dict[str, Any] = {
        "DBProxyName": name,
        "DBProxyArn": f"arn:aws:rds:{region}:{ACCOUNT_ID}:db-proxy:{proxy_id}",
        "Status": "available",
        "EngineFamily": family,
        "VpcId": net.vpcs[0],
        "VpcSecurityGroupIds": rng.sample(net.security_groups, 2),
        "VpcSubnetIds": [s["SubnetIdentifier"] for s in net.subnet_groups[0]["Subnets"]],
        "Auth": auth,
        "RoleArn": f"arn:aws:iam::{ACCOUNT_ID}:role/{name}-role",
        "Endpoint": f"{name}.proxy-{net.dns_suffix}",
        "RequireTLS": rng.random() < 0.75,
        "IdleClientTimeout": 1800,
        "DebugLogging": False,
        "CreatedDate": _time(rng, 2021),
        "UpdatedDate": _time(rng, 2025),
    }
    if not auth or rng.random() < 0.2:
        item["DefaultAuthScheme"] = "IAM_AUTH"
    else:
        item["DefaultAuthScheme"] = "NONE"
    return item


# --- the snapshot ------------------------------------------------------------------------------


def _split(total: int, parts: int) -> list[int]:
    """``total`` spread over ``parts`` (first parts get the remainder)."""
    if parts <= 0:
        return []
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def generate(
    instances: int = 10_000,
    clusters: int = 2_000,
    groups: int = 1_000,
    regions: int = 4,
    seed: int = 0,
    params: int = 300,
    proxies: int | None = None,
) -> dict[str, Any]:
    """A synthetic rdsiam snapshot of one account.

    ``instances`` counts every DB instance, cluster members included (each cluster gets 1 to 3
    members while there are instances left for them). ``groups`` counts DB parameter groups
    and DB cluster parameter groups together, ``default.*`` ones included; each holds about
    ``params`` parameters. ``proxies`` defaults to one per 200 instances.
    """
    if min(instances, clusters, groups, params) < 0 or regions < 1:
        raise ValueError("counts must be >= 0 and regions >= 1")
    if regions > len(REGIONS):
        raise ValueError(f"at most {len(REGIONS)} Regions")
    rng = random.Random(seed)
    region_names = REGIONS[:regions]
    networks = {r: _Network(rng, r) for r in region_names}
    templates = _Templates(rng, params)
    proxies = max(1, instances // 200) if proxies is None else proxies

    # Cluster specs first (their members count within `instances`).
    cluster_specs = []
    member_counts = []
    for _ in range(clusters):
        engine, version, mode, _w = _weighted(rng, CLUSTER_ENGINES)
        cluster_specs.append((engine, version, mode))
        want = (
            3
            if engine in ("postgres", "mysql")
            else 1
            if mode == "serverless"
            else rng.randint(1, 3)
        )
        member_counts.append(want)
    # Keep at least a quarter of the instances standalone; trim members to fit.
    budget = max(instances - max(instances // 4, 0), 0) if clusters else 0
    if budget < clusters:
        budget = min(instances, clusters)
    total = sum(member_counts)
    for floor in (1, 0):  # first down to one member each, then (more clusters than instances) 0
        for i in range(len(member_counts) - 1, -1, -1):
            if total <= budget:
                break
            cut = min(member_counts[i] - floor, total - budget)
            if cut > 0:
                member_counts[i] -= cut
                total -= cut
    members_left = instances - sum(member_counts)
    standalone_specs = [_weighted(rng, STANDALONE_ENGINES)[:2] for _ in range(members_left)]

    # Families in use, per level, and how often (for choosing which custom groups to make).
    db_family_use: dict[str, int] = {}
    cluster_family_use: dict[str, int] = {}
    for engine, version in standalone_specs:
        fam = family_of(engine, version)
        db_family_use[fam] = db_family_use.get(fam, 0) + 1
    for (engine, version, _mode), count in zip(cluster_specs, member_counts, strict=True):
        fam = family_of(engine, version)
        cluster_family_use[fam] = cluster_family_use.get(fam, 0) + 1
        if engine not in ("postgres", "mysql"):  # Multi-AZ DB cluster members use the cluster's
            db_family_use[fam] = db_family_use.get(fam, 0) + count

    # Parameter groups: per Region, default.* of every family in use, then custom ones.
    per_region_groups = _split(groups, regions)
    group_index: dict[tuple[str, bool, str], list[str]] = {}  # (region, cluster?, family)
    region_groups: dict[str, tuple[dict[str, list[Any]], dict[str, list[Any]]]] = {}
    db_fams = sorted(db_family_use, key=lambda f: (-db_family_use[f], f))
    cl_fams = sorted(cluster_family_use, key=lambda f: (-cluster_family_use[f], f))
    for region, count in zip(region_names, per_region_groups, strict=True):
        db_groups: dict[str, list[Any]] = {}
        cl_groups: dict[str, list[Any]] = {}
        plan: list[tuple[bool, str, str]] = []
        defaults = [(False, f, f"default.{f}") for f in db_fams] + [
            (True, f, f"default.{f}") for f in cl_fams
        ]
        # Interleave DB and cluster defaults by use so a small budget keeps the common ones.
        defaults.sort(key=lambda d: -(cluster_family_use if d[0] else db_family_use)[d[1]])
        plan.extend(defaults[:count])
        serial = 0
        while len(plan) < count:
            cluster_level = rng.random() < 0.35 and bool(cl_fams)
            use = cluster_family_use if cluster_level else db_family_use
            fams = cl_fams if cluster_level else db_fams
            if not fams:
                cluster_level, use, fams = True, cluster_family_use, cl_fams
                if not fams:
                    break
            fam = rng.choices(fams, weights=[use[f] for f in fams])[0]
            app = rng.choice(APPS)
            serial += 1
            kind = "cluster-" if cluster_level else ""
            plan.append((cluster_level, fam, f"{app}-{kind}{fam.replace('.', '-')}-{serial:04d}"))
        for cluster_level, fam, name in plan:
            custom = not name.startswith("default.")
            items = _parameters(rng, templates, fam, cluster_level, custom)
            (cl_groups if cluster_level else db_groups)[name] = items
            if custom:
                group_index.setdefault((region, cluster_level, fam), []).append(name)
        region_groups[region] = (db_groups, cl_groups)

    def pick_group(region: str, cluster_level: bool, fam: str) -> str:
        custom = group_index.get((region, cluster_level, fam))
        if custom and rng.random() < 0.6:
            return rng.choice(custom)
        return f"default.{fam}"

    # Resources per Region.
    region_data: dict[str, dict[str, Any]] = {
        r: {"region": r, "DBInstances": [], "DBClusters": [], "DBProxies": [], "DBProxyTargets": {}}
        for r in region_names
    }
    used_names: set[str] = set()

    def unique(base: str) -> str:
        name, n = base, 1
        while name in used_names:
            n += 1
            name = f"{base}-{n}"
        used_names.add(name)
        return name

    def iam_for(engine: str, version: str) -> bool:
        if engine.startswith(("oracle", "sqlserver")):
            return False
        if engine in ("neptune", "docdb"):
            return rng.random() < 0.3
        if engine == "mariadb" and version.startswith("10.6"):
            return rng.random() < 0.05
        return rng.random() < 0.55

    for i, ((engine, version, mode), count) in enumerate(
        zip(cluster_specs, member_counts, strict=True)
    ):
        region = region_names[i % regions]
        net = networks[region]
        app, env = rng.choice(APPS), rng.choice(ENVS)
        ident = unique(f"{app}-{env}-{engine.split('-')[-1]}-{i:05d}")
        fam = family_of(engine, version)
        iam = iam_for(engine, version)
        cl = _cluster(
            rng, net, ident, engine, version, mode, iam, pick_group(region, True, fam), app, env
        )
        if rng.random() < 0.03 and engine.startswith("aurora"):
            cl["DomainMemberships"] = [_domain(rng)]
        if engine.startswith("aurora"):
            classes = INSTANCE_CLASSES["aurora"]
        elif engine in ("neptune", "docdb"):
            classes = INSTANCE_CLASSES[engine]
        else:
            classes = (cl.get("DBClusterInstanceClass", "db.m6gd.large"),)
        instance_class = rng.choice(classes)
        members = []
        for m in range(count):
            member = unique(f"{ident}-{m + 1}" if m else f"{ident}-instance-1")
            writer = m == 0
            if engine in ("postgres", "mysql"):
                group = f"default.{fam}"
            else:
                group = pick_group(region, False, fam)
            inst = _instance(
                rng,
                net,
                member,
                engine,
                version,
                instance_class,
                iam,
                group,
                app,
                env,
                cluster=cl,
                writer=writer,
            )
            if cl["DomainMemberships"]:
                inst["DomainMemberships"] = [dict(cl["DomainMemberships"][0])]
            region_data[region]["DBInstances"].append(inst)
            members.append(
                {
                    "DBInstanceIdentifier": member,
                    "IsClusterWriter": writer,
                    "DBClusterParameterGroupStatus": (
                        "pending-reboot" if rng.random() < 0.03 else "in-sync"
                    ),
                    "PromotionTier": inst["PromotionTier"],
                }
            )
        cl["DBClusterMembers"] = members
        region_data[region]["DBClusters"].append(cl)

    for i, (engine, version) in enumerate(standalone_specs):
        region = region_names[i % regions]
        net = networks[region]
        app, env = rng.choice(APPS), rng.choice(ENVS)
        ident = unique(f"{app}-{env}-{engine.split('-')[0]}-{i:05d}")
        fam = family_of(engine, version)
        if engine.startswith("oracle"):
            classes = INSTANCE_CLASSES["oracle"]
        elif engine.startswith("sqlserver"):
            classes = INSTANCE_CLASSES["sqlserver"]
        else:
            classes = INSTANCE_CLASSES["default"]
        inst = _instance(
            rng,
            net,
            ident,
            engine,
            version,
            rng.choice(classes),
            iam_for(engine, version),
            pick_group(region, False, fam),
            app,
            env,
        )
        domain_rate = 0.3 if engine.startswith(("sqlserver", "oracle")) else 0.02
        if rng.random() < domain_rate:
            inst["DomainMemberships"] = [_domain(rng)]
        region_data[region]["DBInstances"].append(inst)

    # Read replicas point at a few sources (same Region, standalone postgres/mysql/mariadb).
    for region in region_names:
        standalone = [
            d
            for d in region_data[region]["DBInstances"]
            if "DBClusterIdentifier" not in d and d["Engine"] in ("postgres", "mysql", "mariadb")
        ]
        for source, replica in zip(standalone[::40], standalone[1::40], strict=False):
            if source is replica:
                continue
            source["ReadReplicaDBInstanceIdentifiers"] = [replica["DBInstanceIdentifier"]]
            replica["ReadReplicaSourceDBInstanceIdentifier"] = source["DBInstanceIdentifier"]

    # Proxies with targets (instances of matching engine, or clusters tracked with members).
    for i in range(proxies):
        region = region_names[i % regions]
        net = networks[region]
        rd = region_data[region]
        candidates = [
            c
            for c in rd["DBClusters"]
            if c["Engine"] in ("aurora-postgresql", "aurora-mysql") and c["DBClusterMembers"]
        ]
        singles = [
            d
            for d in rd["DBInstances"]
            if "DBClusterIdentifier" not in d
            and d["Engine"] in ("postgres", "mysql", "mariadb", "sqlserver-se")
        ]
        use_cluster = bool(candidates) and (rng.random() < 0.5 or not singles)
        targets: list[dict[str, Any]] = []
        if use_cluster:
            cl = rng.choice(candidates)
            family = "POSTGRESQL" if "postgres" in cl["Engine"] else "MYSQL"
            name = unique(f"{cl['DBClusterIdentifier']}-proxy")
            targets.append(
                {
                    "TrackedClusterId": cl["DBClusterIdentifier"],
                    "RdsResourceId": cl["DBClusterIdentifier"],
                    "Port": cl["Port"],
                    "Type": "TRACKED_CLUSTER",
                }
            )
            by_id = {
                d["DBInstanceIdentifier"]: d
                for d in rd["DBInstances"]
                if d.get("DBClusterIdentifier") == cl["DBClusterIdentifier"]
            }
            for member in cl["DBClusterMembers"]:
                inst = by_id[member["DBInstanceIdentifier"]]
                targets.append(
                    {
                        "TargetArn": inst["DBInstanceArn"],
                        "Endpoint": inst["Endpoint"]["Address"],
                        "TrackedClusterId": cl["DBClusterIdentifier"],
                        "RdsResourceId": inst["DBInstanceIdentifier"],
                        "Port": cl["Port"],
                        "Type": "RDS_INSTANCE",
                        "Role": "READ_WRITE" if member["IsClusterWriter"] else "READ_ONLY",
                        "TargetHealth": {"State": "AVAILABLE"},
                    }
                )
        elif singles:
            inst = rng.choice(singles)
            engine = inst["Engine"]
            family = (
                "POSTGRESQL"
                if engine == "postgres"
                else "SQLSERVER"
                if engine.startswith("sqlserver")
                else "MYSQL"
            )
            name = unique(f"{inst['DBInstanceIdentifier']}-proxy")
            targets.append(
                {
                    "TargetArn": inst["DBInstanceArn"],
                    "Endpoint": inst["Endpoint"]["Address"],
                    "RdsResourceId": inst["DBInstanceIdentifier"],
                    "Port": inst["Endpoint"]["Port"],
                    "Type": "RDS_INSTANCE",
                    "Role": "READ_WRITE",
                    "TargetHealth": {"State": "AVAILABLE"},
                }
            )
        else:
            continue
        rd["DBProxies"].append(_proxy(rng, net, name, family))
        rd["DBProxyTargets"][name] = targets

    for region in region_names:
        db_groups, cl_groups = region_groups[region]
        rd = region_data[region]
        rd["DBParameterGroups"] = db_groups
        rd["DBClusterParameterGroups"] = cl_groups
        rd["Certificates"] = [
            {
                "CertificateIdentifier": cid,
                "CertificateType": "CA",
                "Thumbprint": _hex(rng, 40),
                "ValidFrom": valid_from,
                "ValidTill": valid_till,
                "CertificateArn": f"arn:aws:rds:{region}::cert:{cid}",
                "CustomerOverride": False,
            }
            for cid, valid_from, valid_till in CERTIFICATES
        ]

    errors = []
    if regions > 1:
        errors.append(
            {
                "account_id": ACCOUNT_ID,
                "region": region_names[-1],
                "operation": "DescribeDBProxies",
                "code": "AccessDenied",
                "message": "User is not authorized to perform: rds:DescribeDBProxies",
            }
        )
        region_data[region_names[-1]].pop("DBProxies")
        region_data[region_names[-1]].pop("DBProxyTargets")
    return {
        "format": "rdsiam-snapshot",
        "version": 1,
        "collected_at": COLLECTED_AT,
        "source": {"kind": "aws", "tool": "rdsiam bench/generate.py"},
        "accounts": [
            {
                "account_id": ACCOUNT_ID,
                "partition": PARTITION,
                "regions": [region_data[r] for r in region_names],
            }
        ],
        "errors": errors,
    }


def estimate_bytes(
    instances: int = 10_000, clusters: int = 2_000, groups: int = 1_000, params: int = 300
) -> int:
    """Rough size of ``generate(...)`` written with ``indent=2``."""
    return (
        instances * BYTES_PER_INSTANCE
        + clusters * BYTES_PER_CLUSTER
        + groups * params * BYTES_PER_PARAMETER
    )


def write(doc: dict[str, Any], path: str, indent: int | None = 2) -> int:
    """Write the snapshot as JSON; returns the number of bytes written."""
    separators = (",", ": ") if indent else (",", ":")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(doc, handle, indent=indent or None, separators=separators, ensure_ascii=False)
        handle.write("\n")
        return handle.tell()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a synthetic rdsiam snapshot.")
    parser.add_argument("-o", "--output", required=True, metavar="FILE")
    parser.add_argument("--instances", type=int, default=10_000)
    parser.add_argument("--clusters", type=int, default=2_000)
    parser.add_argument("--groups", type=int, default=1_000)
    parser.add_argument("--regions", type=int, default=4)
    parser.add_argument(
        "--params", type=int, default=300, help="about this many parameters per group (default 300)"
    )
    parser.add_argument(
        "--proxies", type=int, default=None, help="RDS proxies (default: one per 200 instances)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--indent", type=int, default=2, help="JSON indent; 0 = compact")
    parser.add_argument(
        "--validate",
        action="store_true",
        help="check the result against schemas/snapshot.schema.json",
    )
    args = parser.parse_args(argv)
    doc = generate(
        args.instances,
        args.clusters,
        args.groups,
        args.regions,
        args.seed,
        args.params,
        args.proxies,
    )
    if args.validate:
        validate(doc)
    size = write(doc, args.output, args.indent)
    print(f"{args.output}: {size:,} bytes", file=sys.stderr)
    return 0


def validate(doc: dict[str, Any]) -> None:
    """Raise if ``doc`` is not valid against the snapshot schema."""
    from pathlib import Path

    from jsonschema import Draft202012Validator

    schema_path = Path(__file__).resolve().parent.parent / "schemas" / "snapshot.schema.json"
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    Draft202012Validator(schema).validate(doc)


if __name__ == "__main__":
    sys.exit(main())
