"""Merge snapshots and AWS CLI fragments into one snapshot document.

Identical duplicates merge silently; the same item with different content in two inputs is an
input error naming both files (an auditor must not get a report built on one of two
contradicting exports without knowing it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from checker import __version__
from checker.collect.files import ITEM_KEY, Fragment, Loaded
from checker.errors import InputError
from checker.knowledge.regions import partition_of

LIST_SECTIONS = (
    "DBInstances",
    "DBClusters",
    "DBProxies",
    "Certificates",
    "OrderableDBInstanceOptions",
)
MAP_SECTIONS = (
    "DBProxyTargets",
    "DBParameterGroups",
    "DBClusterParameterGroups",
    "EngineDefaultParameters",
    "EngineDefaultClusterParameters",
)
IAM_LISTS = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")


class Merger:
    """Accumulates accounts -> Regions -> sections, remembering which file gave what."""

    def __init__(self, account: str | None = None, region: str | None = None) -> None:
        self.default_account = account
        self.default_region = region
        self.accounts: dict[str, dict[str, Any]] = {}
        self.origin: dict[tuple[str, ...], str] = {}
        self.errors: list[dict[str, Any]] = []
        self.kinds: set[str] = set()
        self.collected: list[str] = []
        self.notes: list[str] = []

    # -- structure ---------------------------------------------------------------------

    def _account(self, account_id: str, partition: str | None, path: str) -> dict[str, Any]:
        acc = self.accounts.get(account_id)
        if acc is None:
            acc = self.accounts[account_id] = {
                "account_id": account_id,
                "partition": partition or "aws",
                "regions": {},
            }
        elif partition and acc["partition"] != partition:
            raise InputError(
                path,
                f"account {account_id} is in partition {partition} here but"
                f" {acc['partition']} in {self.origin.get((account_id,), '?')}",
            )
        self.origin.setdefault((account_id,), path)
        return acc

    def _region(
        self, account_id: str, partition: str | None, region: str, path: str
    ) -> dict[str, Any]:
        acc = self._account(account_id, partition or partition_of(region), path)
        regions: dict[str, dict[str, Any]] = acc["regions"]
        return regions.setdefault(region, {})

    def _put(
        self,
        where: tuple[str, ...],
        container: dict[str, Any],
        key: str,
        value: Any,
        path: str,
        what: str,
    ) -> None:
        if key in container:
            if container[key] != value:
                other = self.origin.get((*where, key), "another input")
                raise InputError(path, f"{what} differs from the one in {other}")
            return
        container[key] = value
        self.origin[(*where, key)] = path

    def place(
        self,
        account_id: str,
        partition: str | None,
        region: str,
        section: str,
        payload: Any,
        path: str,
        name: str | None = None,
    ) -> None:
        """Add a section's items (a list, or one named list for map sections)."""
        reg = self._region(account_id, partition, region, path)
        where = (account_id, region, section)
        if section in LIST_SECTIONS:
            bucket = reg.setdefault(section, {})
            for item in payload:
                key = str(item.get(ITEM_KEY[section])) if section in ITEM_KEY else _canon(item)
                label = f"{section[:-1] if section.endswith('s') else section} '{key}'"
                if section == "OrderableDBInstanceOptions":
                    label = "an orderable option"
                self._put(where, bucket, key, item, path, f"{label} in {account_id}/{region}")
        else:
            bucket = reg.setdefault(section, {})
            items = payload if name is None else {name: payload}
            for key, value in items.items():
                self._put(
                    where,
                    bucket,
                    key,
                    value,
                    path,
                    f"{section} entry '{key}' in {account_id}/{region}",
                )

    # -- inputs ------------------------------------------------------------------------

    def add_snapshot(self, path: str, doc: dict[str, Any]) -> None:
        source = doc.get("source") or {}
        self.kinds.add(source.get("kind") or "snapshot")
        if doc.get("collected_at"):
            self.collected.append(doc["collected_at"])
        for acc in doc.get("accounts", []):
            account_id = acc["account_id"]
            record = self._account(account_id, acc.get("partition"), path)
            if "iam" in acc:
                self._merge_iam(record, acc["iam"], path)
            if "databases" in acc:
                dbs = record.setdefault("databases", {})
                for db in acc["databases"]:
                    self._put(
                        (account_id, "databases"),
                        dbs,
                        db["resource_id"],
                        db,
                        path,
                        f"database users of {db['resource_id']}",
                    )
            for reg in acc.get("regions", []):
                region = reg["region"]
                self._region(account_id, acc.get("partition"), region, path)
                for section in (*LIST_SECTIONS, *MAP_SECTIONS):
                    if section in reg:
                        self.place(
                            account_id, acc.get("partition"), region, section, reg[section], path
                        )
        for err in doc.get("errors", []):
            if err not in self.errors:
                self.errors.append(err)

    def _merge_iam(self, record: dict[str, Any], iam: dict[str, Any], path: str) -> None:
        target = record.setdefault("iam", {k: {} for k in IAM_LISTS})
        for key in IAM_LISTS:
            for item in iam.get(key, []):
                ident = str(item.get("Arn") or _canon(item))
                self._put(
                    (record["account_id"], "iam", key),
                    target[key],
                    ident,
                    item,
                    path,
                    f"IAM entry {ident}",
                )

    def add_fragments(self, fragments: list[Fragment]) -> None:
        """Place CLI fragments: first those that know (or are told) their scope, then the rest."""
        later: list[Fragment] = []
        for frag in fragments:
            self.kinds.add("aws-cli")
            if frag.section in ("DBInstances", "DBClusters", "DBProxies"):
                account, region = self._require_scope(frag)
                self.place(account, frag.partition, region, frag.section, frag.payload, frag.path)
            elif frag.section == "iam":
                owner = frag.account_id or self.default_account
                if owner is None:
                    raise InputError(
                        frag.path,
                        "cannot tell which account this IAM data belongs"
                        " to (no account ARN inside); pass --account",
                    )
                record = self._account(owner, frag.partition, frag.path)
                self._merge_iam(record, frag.payload, frag.path)
            else:
                later.append(frag)
        for frag in later:
            if frag.section in ("Certificates", "OrderableDBInstanceOptions"):
                self._place_everywhere(frag)
            elif frag.section == "Parameters":
                self._place_parameters(frag)
            elif frag.section == "DBProxyTargets":
                self._place_targets(frag)
            elif frag.section == "EngineDefaults":
                self._place_defaults(frag)
            elif frag.section == "databases":
                self._place_users(frag)

    def _require_scope(self, frag: Fragment) -> tuple[str, str]:
        account = frag.account_id or self.default_account
        region = frag.region or self.default_region
        what = {"DBInstances": "DB instance", "DBClusters": "DB cluster", "DBProxies": "DB proxy"}[
            frag.section
        ]
        first = frag.payload[0].get(ITEM_KEY[frag.section]) if frag.payload else None
        if account is None:
            raise InputError(
                frag.path,
                f"cannot tell the account of {what} '{first}' (no ARN inside); pass --account",
            )
        if region is None:
            raise InputError(
                frag.path,
                f"cannot tell the Region of {what} '{first}' (no ARN or"
                " Availability Zone inside); pass --region",
            )
        return account, region

    def _accounts_for(self, frag: Fragment, partition: str) -> list[str]:
        known = [a for a, rec in self.accounts.items() if rec["partition"] == partition]
        if self.default_account:
            return [self.default_account]
        if known:
            return known
        raise InputError(
            frag.path,
            "cannot tell which account this data belongs to (no other"
            " input names one); pass --account",
        )

    def _place_everywhere(self, frag: Fragment) -> None:
        """Region-wide data with no account of its own (certificates, orderable options)."""
        region = frag.region or self.default_region
        if region is None:
            raise InputError(frag.path, "cannot tell the Region of this output; pass --region")
        partition = frag.partition or partition_of(region)
        for account in self._accounts_for(frag, partition):
            self.place(account, partition, region, frag.section, frag.payload, frag.path)

    def _place_parameters(self, frag: Fragment) -> None:
        """A describe-db-[cluster-]parameters output, tied to its group by the file name."""
        group = frag.name or ""
        used = False
        for account_id, acc in self.accounts.items():
            for region, reg in acc["regions"].items():
                for db in reg.get("DBInstances", {}).values():
                    names = [g.get("DBParameterGroupName") for g in db.get("DBParameterGroups", [])]
                    if group in names:
                        self.place(
                            account_id,
                            None,
                            region,
                            "DBParameterGroups",
                            frag.payload,
                            frag.path,
                            name=group,
                        )
                        used = True
                        break
                for cluster in reg.get("DBClusters", {}).values():
                    if cluster.get("DBClusterParameterGroup") == group:
                        self.place(
                            account_id,
                            None,
                            region,
                            "DBClusterParameterGroups",
                            frag.payload,
                            frag.path,
                            name=group,
                        )
                        used = True
                        break
        if not used:
            self.notes.append(
                f"{frag.path}: parameter group '{group}' (from the file name) is"
                " used by no DB instance or cluster in the inputs; skipped"
            )

    def _place_targets(self, frag: Fragment) -> None:
        proxy = frag.name or ""
        placed = False
        for account_id, acc in self.accounts.items():
            for region, reg in acc["regions"].items():
                if proxy in reg.get("DBProxies", {}):
                    self.place(
                        account_id,
                        None,
                        region,
                        "DBProxyTargets",
                        frag.payload,
                        frag.path,
                        name=proxy,
                    )
                    placed = True
        if not placed:
            if frag.account_id and frag.region:
                self.place(
                    frag.account_id,
                    frag.partition,
                    frag.region,
                    "DBProxyTargets",
                    frag.payload,
                    frag.path,
                    name=proxy,
                )
            else:
                self.notes.append(
                    f"{frag.path}: proxy '{proxy}' (from the file name) is in no input; skipped"
                )

    def _place_defaults(self, frag: Fragment) -> None:
        """Engine defaults of a family hold for every Region; the output does not say whether
        they came from the instance or the cluster call, so both sections get them."""
        scopes = [(a, r) for a, acc in self.accounts.items() for r in acc["regions"]]
        if self.default_region and self.default_account:
            scopes = [(self.default_account, self.default_region)]
        for account_id, region in scopes:
            for section in ("EngineDefaultParameters", "EngineDefaultClusterParameters"):
                self.place(
                    account_id, None, region, section, frag.payload, frag.path, name=frag.name
                )

    def _place_users(self, frag: Fragment) -> None:
        """A database's users: in the account the file names, else the account whose DB
        instance or cluster has that resource id, else ``--account``."""
        rid = frag.payload["resource_id"]
        account = frag.account_id
        if account is None:
            for account_id, acc in self.accounts.items():
                for reg in acc["regions"].values():
                    items = [
                        *reg.get("DBInstances", {}).values(),
                        *reg.get("DBClusters", {}).values(),
                    ]
                    if any(
                        rid in (i.get("DbiResourceId"), i.get("DbClusterResourceId")) for i in items
                    ):
                        account = account_id
        account = account or self.default_account
        if account is None:
            raise InputError(
                frag.path,
                f"cannot tell which account database {rid} belongs to (no input lists it);"
                " pass --account",
            )
        record = self._account(account, None, frag.path)
        self._put(
            (account, "databases"),
            record.setdefault("databases", {}),
            rid,
            frag.payload,
            frag.path,
            f"database users of {rid}",
        )

    # -- output ------------------------------------------------------------------------

    def document(self) -> dict[str, Any]:
        """The merged snapshot document."""
        kinds = self.kinds or {"aws-cli"}
        kind = next(iter(kinds)) if len(kinds) == 1 else "merged"
        accounts = []
        for account_id in sorted(self.accounts):
            acc = self.accounts[account_id]
            out: dict[str, Any] = {"account_id": account_id, "partition": acc["partition"]}
            if "iam" in acc:
                out["iam"] = {k: list(v.values()) for k, v in acc["iam"].items()}
            regions = []
            for name in sorted(acc["regions"]):
                reg: dict[str, Any] = {"region": name}
                for section, value in acc["regions"][name].items():
                    reg[section] = list(value.values()) if section in LIST_SECTIONS else value
                regions.append(reg)
            out["regions"] = regions
            if "databases" in acc:
                out["databases"] = list(acc["databases"].values())
            accounts.append(out)
        doc: dict[str, Any] = {
            "format": "rdsiam-snapshot",
            "version": 1,
            "source": {"kind": kind, "tool": f"rdsiam {__version__}"},
            "accounts": accounts,
            "errors": self.errors,
        }
        if self.collected:
            doc["collected_at"] = min(self.collected, key=_when)
        return doc


def _when(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _canon(item: Any) -> str:
    import json

    return json.dumps(item, sort_keys=True, default=str)


def merge(loaded: Loaded, account: str | None = None, region: str | None = None) -> dict[str, Any]:
    """One snapshot document from everything loaded."""
    merger = Merger(account, region)
    for path, doc in loaded.snapshots:
        merger.add_snapshot(path, doc)
    merger.add_fragments(loaded.fragments)
    loaded.notes.extend(merger.notes)
    return merger.document()
