"""RDS certificate authorities and their validity.

REVIEWED: 2026-11-28
SOURCE: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.SSL.html
ValidTill values are those DescribeCertificates returns (AWS CLI example for us-west-2). A live
``Certificates`` section in the snapshot wins over this table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

REVIEWED = "2026-11-28"
SOURCE_URL = "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.SSL.html"


@dataclass(frozen=True, slots=True)
class KnownCA:
    id: str
    valid_till: datetime
    rotation_without_restart: bool


CERTIFICATE_AUTHORITIES: dict[str, KnownCA] = {
    ca.id: ca
    for ca in (
        KnownCA("rds-ca-2019", datetime(2024, 8, 22, 17, 8, 50, tzinfo=UTC), False),
        KnownCA("rds-ca-rsa2048-g1", datetime(2061, 5, 24, 22, 59, 0, tzinfo=UTC), True),
        KnownCA("rds-ca-rsa4096-g1", datetime(2121, 5, 24, 23, 3, 20, tzinfo=UTC), True),
        KnownCA("rds-ca-ecc384-g1", datetime(2121, 5, 24, 23, 6, 59, tzinfo=UTC), True),
    )
}
