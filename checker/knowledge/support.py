"""Where IAM database authentication exists: engine, major version, Region and instance class.

REVIEWED: 2026-11-28

Sources (each verdict names the one it rests on):

- RDS engines and the RDS for MariaDB version x Region table:
  https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.RDS_Fea_Regions_DB-eng.Feature.IamDatabaseAuthentication.html
- Aurora MySQL 2 and 3, Aurora PostgreSQL 11 to 17, all Regions:
  https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Concepts.Aurora_Fea_Regions_DB-eng.Feature.IAMdbauth.html
- Aurora MySQL not on db.t2.small / db.t3.small; not on RDS on Outposts:
  https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/UsingWithRDS.IAMDBAuth.html
- Aurora Serverless v1 has no IAM DB auth:
  https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-serverless.html
- RDS Custom: ``EnableIAMDatabaseAuthentication`` "doesn't apply to RDS Custom":
  https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html

RDS for MySQL and RDS for PostgreSQL are documented as supported at the engine level, but their
current per-version tables could not be read (UNCONFIRMED in aws-facts.md). Their versions are
therefore SUPPORTED on the engine-level fact (the reason says so), except versions older than the
minimums of the 2019 page, which are UNKNOWN; only a live ``DescribeOrderableDBInstanceOptions``
answer can make them UNSUPPORTED. Aurora majors outside the documented lists are UNKNOWN too. No
rule turns UNKNOWN into a failure.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import lru_cache

from checker.knowledge.engines import is_aurora, major_version, version_tuple

REVIEWED = "2026-11-28"
RDS_TABLE_URL = (
    "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/"
    "Concepts.RDS_Fea_Regions_DB-eng.Feature.IamDatabaseAuthentication.html"
)
AURORA_TABLE_URL = (
    "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/"
    "Concepts.Aurora_Fea_Regions_DB-eng.Feature.IAMdbauth.html"
)
AURORA_LIMITS_URL = (
    "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/UsingWithRDS.IAMDBAuth.html"
)
RDS_LIMITS_URL = (
    "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.html"
)
SERVERLESS_V1_URL = (
    "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-serverless.html"
)
CREATE_DB_INSTANCE_URL = (
    "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html"
)
LIVE_SOURCE = "DescribeOrderableDBInstanceOptions"


class Verdict(enum.Enum):
    SUPPORTED = "supported"
    UNSUPPORTED = "unsupported"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Support:
    """A support answer: the verdict, why, what would fix it, and where it comes from."""

    verdict: Verdict
    reason: str
    source: str
    fix: str | None = None

    @property
    def supported(self) -> bool:
        return self.verdict is Verdict.SUPPORTED

    @property
    def unsupported(self) -> bool:
        return self.verdict is Verdict.UNSUPPORTED


# Engines whose DB instances can never use IAM DB auth (direct connections).
_NO_IAM_PREFIXES: tuple[tuple[str, str], ...] = (
    ("custom-", "RDS Custom"),
    ("oracle", "RDS for Oracle"),
    ("sqlserver", "RDS for SQL Server"),
    ("db2", "RDS for Db2"),
)
IAM_ENGINES = frozenset(
    {"mysql", "mariadb", "postgres", "aurora", "aurora-mysql", "aurora-postgresql"}
)

# RDS for MariaDB: versions 10.11, 11.4 and 11.8 have IAM DB auth; 10.4, 10.5 and 10.6 do not.
MARIADB_MINIMUM = (10, 11)
# Regions without IAM DB auth for any MariaDB version.
MARIADB_NO_REGIONS = {
    "ap-south-2": "Asia Pacific (Hyderabad)",
    "ap-southeast-4": "Asia Pacific (Melbourne)",
}
# Regions that have it for MariaDB 11.4 and 11.8 only.
MARIADB_11_4_REGIONS = {
    "ap-southeast-5": "Asia Pacific (Malaysia)",
    "ap-southeast-6": "Asia Pacific (New Zealand)",
    "ap-east-2": "Asia Pacific (Taipei)",
}
AURORA_MYSQL_MAJORS = frozenset({"2", "3"})
AURORA_POSTGRES_MAJORS = frozenset({"11", "12", "13", "14", "15", "16", "17"})
AURORA_MYSQL_NO_CLASSES = frozenset({"db.t2.small", "db.t3.small"})

# Minimum versions from the 2019-era RDS page (history, superseded; used only to explain
# an UNKNOWN verdict, never to fail).
_HISTORIC_MINIMUM: dict[str, dict[str, tuple[int, ...]]] = {
    "mysql": {"5.6": (5, 6, 34), "5.7": (5, 7, 16), "8.0": (8, 0, 16)},
    "postgres": {"9.5": (9, 5, 15), "9.6": (9, 6, 11), "10": (10, 6)},
}


@lru_cache(maxsize=4096)  # answers are immutable; a run asks the same questions per resource
def engine_support(
    engine: str, *, engine_mode: str | None = None, outposts: bool = False
) -> Support:
    """Whether the engine (and deployment) can have IAM DB auth at all, whatever the version."""
    name = engine.lower()
    for prefix, label in _NO_IAM_PREFIXES:
        if name.startswith(prefix):
            source = CREATE_DB_INSTANCE_URL if prefix == "custom-" else RDS_TABLE_URL
            return Support(
                Verdict.UNSUPPORTED, f"{label} has no IAM database authentication", source
            )
    if (engine_mode or "").lower() == "serverless":
        return Support(
            Verdict.UNSUPPORTED,
            "Aurora Serverless v1 has no IAM database authentication",
            SERVERLESS_V1_URL,
            fix="migrate to Aurora Serverless v2 or a provisioned cluster",
        )
    if outposts:
        return Support(
            Verdict.UNSUPPORTED,
            "RDS on Outposts has no IAM database authentication",
            RDS_LIMITS_URL,
            fix="run the database in an AWS Region instead of on Outposts",
        )
    if name in IAM_ENGINES:
        url = AURORA_TABLE_URL if is_aurora(name) else RDS_TABLE_URL
        return Support(Verdict.SUPPORTED, f"{engine} supports IAM database authentication", url)
    return Support(Verdict.UNKNOWN, f"engine '{engine}' is not in rdsiam's tables", RDS_TABLE_URL)


@lru_cache(maxsize=4096)
def version_support(
    engine: str, version: str | None, region: str, instance_class: str | None = None
) -> Support:
    """Support by engine major version, Region and instance class, from the documented tables."""
    name = engine.lower()
    major = major_version(name, version)
    label = f"{engine} {version}" if version else engine
    if name == "mariadb":
        return _mariadb(label, version, region)
    if name in {"aurora-mysql", "aurora"}:
        by_class = class_support(name, instance_class)
        if by_class.unsupported:
            return by_class
        if major in AURORA_MYSQL_MAJORS:
            return Support(
                Verdict.SUPPORTED,
                f"Aurora MySQL {major} supports IAM database authentication",
                AURORA_TABLE_URL,
            )
        return Support(
            Verdict.UNKNOWN,
            f"Aurora MySQL {major or '?'} ({label}) is not in the documented list (2 and 3)",
            AURORA_TABLE_URL,
        )
    if name == "aurora-postgresql":
        if major in AURORA_POSTGRES_MAJORS:
            return Support(
                Verdict.SUPPORTED,
                f"Aurora PostgreSQL {major} supports IAM database authentication",
                AURORA_TABLE_URL,
            )
        return Support(
            Verdict.UNKNOWN,
            f"Aurora PostgreSQL {major or '?'} is not in the documented list (11 to 17)",
            AURORA_TABLE_URL,
        )
    if name in {"mysql", "postgres"}:
        minimum = _HISTORIC_MINIMUM[name].get(major or "")
        if minimum and version_tuple(version) < minimum:
            dotted = ".".join(map(str, minimum))
            return Support(
                Verdict.UNKNOWN,
                f"{label} is older than {dotted}, the first {major} release the 2019 documentation"
                " listed with IAM database authentication; the current table is unconfirmed",
                RDS_TABLE_URL,
            )
        return Support(
            Verdict.SUPPORTED,
            f"RDS for {engine} supports IAM database authentication (documented for the engine;"
            " AWS's per-version table is unconfirmed)",
            RDS_TABLE_URL,
        )
    return engine_support(engine)


# A Region the tables single out for nothing, to compare the singled-out ones with.
_ORDINARY_REGION = "us-east-1"


def depends_on_region(engine: str, version: str | None, instance_class: str | None = None) -> bool:
    """Whether the tables answer differently in some Region for this engine and version (a
    template that does not say its Region cannot be judged on them until deploy)."""
    regions = (_ORDINARY_REGION, *MARIADB_NO_REGIONS, *MARIADB_11_4_REGIONS)
    answers = {version_support(engine, version, r, instance_class).verdict for r in regions}
    return len(answers) > 1


def class_support(engine: str, instance_class: str | None) -> Support:
    """Support by instance class alone (for cluster members, whose version the cluster has)."""
    name = engine.lower()
    if (
        name in {"aurora-mysql", "aurora"}
        and instance_class
        and instance_class.lower() in AURORA_MYSQL_NO_CLASSES
    ):
        return Support(
            Verdict.UNSUPPORTED,
            f"Aurora MySQL has no IAM database authentication on {instance_class}",
            AURORA_LIMITS_URL,
            fix="use a larger instance class, such as db.t3.medium or db.t4g.medium",
        )
    return Support(
        Verdict.SUPPORTED,
        f"instance class {instance_class or '(unknown)'} has no documented IAM restriction",
        AURORA_LIMITS_URL if is_aurora(name) else RDS_LIMITS_URL,
    )


def _mariadb(label: str, version: str | None, region: str) -> Support:
    nums = version_tuple(version)
    if region in MARIADB_NO_REGIONS:
        return Support(
            Verdict.UNSUPPORTED,
            f"RDS for MariaDB has no IAM database authentication in {MARIADB_NO_REGIONS[region]}"
            f" ({region})",
            RDS_TABLE_URL,
            fix="use RDS for MySQL or PostgreSQL, or another Region",
        )
    if len(nums) < 2:
        return Support(Verdict.UNKNOWN, f"{label}: engine version unknown", RDS_TABLE_URL)
    if region in MARIADB_11_4_REGIONS and nums[:2] < (11, 4):
        return Support(
            Verdict.UNSUPPORTED,
            f"{label} has no IAM database authentication in {MARIADB_11_4_REGIONS[region]}"
            f" ({region}), which has it for MariaDB 11.4 and 11.8 only",
            RDS_TABLE_URL,
            fix="upgrade to MariaDB 11.4 or later",
        )
    if nums[:2] < MARIADB_MINIMUM:
        return Support(
            Verdict.UNSUPPORTED,
            f"{label} has no IAM database authentication (RDS for MariaDB has it from 10.11)",
            RDS_TABLE_URL,
            fix="upgrade to MariaDB 10.11 or later (11.4 or 11.8)",
        )
    return Support(
        Verdict.SUPPORTED, f"{label} supports IAM database authentication", RDS_TABLE_URL
    )
