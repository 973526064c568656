"""The rule catalog. ``ALL_RULES`` is explicit and sorted by id; a test walks this package and
fails on any rule class missing from it."""

from __future__ import annotations

from checker.rule import Rule
from rules.auth_mode import (
    AuroraMemberDoesNotSetIam,
    ClusterIamAuthEnabled,
    IamAuthErrorLogExported,
    InstanceIamAuthEnabled,
    ProxyIamTargetsIamEnabled,
    ProxyRequiresIam,
)
from rules.db_users import (
    GrantedUserCaseMatches,
    GrantedUserExists,
    GrantedUserSetUpForIam,
    IamAndKerberosRoleExclusive,
    IamUserNotReplication,
    MasterUserNotIam,
)
from rules.engine_support import IamAuthOnSupportedEngine, IamAuthVersionSupported
from rules.exclusivity import PostgresIamKerberosExclusive
from rules.grants import (
    ConnectActionValid,
    ConnectArnResourceExists,
    ConnectArnScopeConsistent,
    ConnectArnUsesResourceId,
    ConnectArnWellFormed,
    ConnectConditionsSupported,
    ConnectGrantBounded,
    ConnectGrantedToRoles,
    ConnectNotThroughNegation,
    ConnectRoleTrustRestricted,
    ConnectTargetIamEnabled,
    ConnectUsesClusterResourceId,
)
from rules.operations import IamConnectionRate
from rules.transport import (
    CertificateValid,
    MinimumTlsVersion,
    MysqlRequireSecureTransport,
    PostgresForceSsl,
    ProxyRequiresTls,
)

ALL_RULES: tuple[type[Rule], ...] = (
    InstanceIamAuthEnabled,
    ClusterIamAuthEnabled,
    ProxyRequiresIam,
    ProxyIamTargetsIamEnabled,
    IamAuthErrorLogExported,
    AuroraMemberDoesNotSetIam,
    IamAuthOnSupportedEngine,
    IamAuthVersionSupported,
    ConnectArnWellFormed,
    ConnectArnUsesResourceId,
    ConnectArnResourceExists,
    ConnectGrantBounded,
    ConnectTargetIamEnabled,
    ConnectArnScopeConsistent,
    ConnectConditionsSupported,
    ConnectNotThroughNegation,
    ConnectGrantedToRoles,
    ConnectRoleTrustRestricted,
    ConnectActionValid,
    ConnectUsesClusterResourceId,
    PostgresForceSsl,
    MysqlRequireSecureTransport,
    MinimumTlsVersion,
    CertificateValid,
    ProxyRequiresTls,
    MasterUserNotIam,
    IamAndKerberosRoleExclusive,
    IamUserNotReplication,
    GrantedUserExists,
    GrantedUserSetUpForIam,
    GrantedUserCaseMatches,
    PostgresIamKerberosExclusive,
    IamConnectionRate,
)
