"""Terraform plan and state JSON (``terraform show -json``) as IaC resources.

Format: https://developer.hashicorp.com/terraform/internals/json-format (plan format 1.0 to 1.2,
state format 1.0; majors 0 and 1 are read, any other is refused as the format asks).

Where the resources come from:

- plan: ``planned_values.root_module`` and its ``child_modules``, recursively (Terraform already
  leaves out instances it will delete; one whose ``resource_changes`` actions are only
  ``["delete"]`` is skipped here too), plus the data sources of ``prior_state``: a data source
  read while planning has no change and is found only there;
- state: ``values.root_module``, where everything is known.

Values that only apply knows. The plan omits them (or, inside lists, writes null) and marks them
``true`` in the change's ``after_unknown``. Each such leaf becomes a symbol
(``checker.iac.symbols``) built from the ``references`` of its expression in ``configuration``:

- the references are reduced to the most specific ones (Terraform lists
  ``["aws_db_instance.main.resource_id", "aws_db_instance.main"]``; the second is implied);
- each is made absolute: inside module instance ``module.db[0]``, ``aws_db_instance.main[0].id``
  is ``module.db[0].aws_db_instance.main[0].id``; a module output (``module.db[0].resource_id``)
  is followed to the output's own expression in the child module, and a module variable
  (``var.db_resource_id`` inside ``module.iam``) to the expression its caller passes, so that a
  symbol names the resource attribute the value really comes from. A variable the caller sets to
  a constant, a ``local.`` value and an output the configuration does not show stay as written,
  prefixed with the module path (``${module.iam.var.db_user}``);
- the value is the concatenation of one symbol per reference, in the order Terraform lists them
  (the order of the source text), with no literal text: the plan does not carry template text, so
  ``"arn:aws:rds-db:${var.region}:${data.aws_caller_identity.current.account_id}:dbuser:${
  aws_db_instance.main.resource_id}/app"`` becomes
  ``"${var.region}${data.aws_caller_identity.current.account_id}${aws_db_instance.main.resource_id}"``.
  One reference gives one symbol: ``${aws_db_instance.main.resource_id}``. Known references
  (``var.region``) stay symbols too, because without the template their values could not be
  placed. ``symbols.references(value)`` gives the references back, and the last step of each says
  which attribute it came from (``resource_id`` or ``identifier``);
- an element of a list whose expression covers the whole list (``resources = [a.arn, b.arn]``)
  gets the references of that element when they can be told apart: the unknown elements are
  paired in order with the references that are not known in the plan when there are as many;
  a one-element list gets all of them; otherwise every unknown element gets all of them;
- a value with no expression (computed by the provider) is ``${<address>.<attribute path>}``:
  ``${aws_db_instance.main.resource_id}``, ``${aws_iam_role.app.inline_policy}``.

Policies. ``policy`` of ``aws_iam_policy``/``aws_iam_role_policy``/``aws_iam_user_policy``/
``aws_iam_group_policy``, ``assume_role_policy`` and ``inline_policy[].policy`` of
``aws_iam_role``, and ``json`` of ``data.aws_iam_policy_document`` are JSON strings; when known
they are parsed into objects (a string that is not a JSON object is left as it is, with a note).
When unknown:

- a policy document data source is rebuilt from its ``statement`` blocks (planned values with
  symbols, else the configuration) into an IAM document: ``Version`` (default 2012-10-17), ``Id``,
  ``Statement`` with ``Sid``, ``Effect`` (default Allow), ``Action``/``NotAction``/``Resource``/
  ``NotResource`` (a string when one element, as the AWS provider writes them), ``Principal``/
  ``NotPrincipal`` (``{"AWS": [...]}``, ``"*"`` for ``type = "*"``) and ``Condition``
  (``{test: {variable: values}}``); ``source_policy_documents``/``override_policy_documents`` are
  not merged (noted);
- a policy whose expression references ``data.aws_iam_policy_document.X.json`` is document X;
  one that is exactly another resource's policy attribute is that policy when it is known;
- otherwise (``jsonencode({...})`` or a template: the plan shows neither) it becomes
  ``{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "${<address>.policy}",
  "Resource": [...]}]}``: the Effect is assumed, the Action is unknown, and Resource holds one
  symbol per reference to an ARN (an attribute ``arn`` or ``*_arn``) then one string joining all
  other references, as above (noted).

Region: the default ``aws`` provider's ``region`` (a constant, or a root variable's value; an
aliased provider in another Region is noted), else a root ``data.aws_region``, else the most
common Region of the resources' ARNs (a state has no configuration). Account: a
``data.aws_caller_identity``, else the most common account of the resources' top-level ARNs.
Partition: from the Region, else from those ARNs.

Sensitive values (``sensitive_values``/``after_sensitive``) are dropped, as a snapshot never holds
a secret, except policy documents, which are not secrets.
"""

from __future__ import annotations

import copy
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from checker.errors import InputError
from checker.iac.model import IacFile, IacResource
from checker.iac.symbols import is_unknown, symbol
from checker.knowledge.regions import partition_of

KIND = "terraform-plan"
POLICY_VERSION = "2012-10-17"

# Attributes holding a policy document as a JSON string, by resource type.
POLICY_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "aws_iam_policy": ("policy",),
    "aws_iam_role_policy": ("policy",),
    "aws_iam_user_policy": ("policy",),
    "aws_iam_group_policy": ("policy",),
    "aws_iam_role": ("assume_role_policy",),
}
POLICY_DOCUMENT = "data.aws_iam_policy_document"
# Reference heads whose values the plan always knows.
_KNOWN_HEADS = ("count", "each", "path", "terraform", "self")
_ARN = re.compile(r"arn:(aws[a-z-]*):([a-z0-9-]+):([a-z0-9-]*):(\d{12}):")
_NAME_KEY = re.compile(r"([^\[]*)((?:\[.*\])?)")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_MAX_DEPTH = 32


def looks_like_plan(doc: Any) -> bool:
    """True for the JSON that ``terraform show -json`` prints for a plan or a state."""
    return (
        isinstance(doc, dict)
        and "format_version" in doc
        and "terraform_version" in doc
        and any(key in doc for key in ("planned_values", "values", "resource_changes"))
    )


def read(path: str, doc: dict[str, Any]) -> IacFile:
    """The resources of a plan or state document; InputError when it cannot be read."""
    return _Reader(path, doc).run()


@dataclass(frozen=True)
class _Ref:
    """An absolute reference and whether the plan knows its value (None: cannot tell)."""

    text: str
    known: bool | None


@dataclass
class _Module:
    """One module of the configuration."""

    body: dict[str, Any]
    resources: dict[str, dict[str, Any]]  # module-relative address -> block expressions


@dataclass
class _Resource:
    address: str
    mode: str
    type: str
    name: str
    steps: tuple[tuple[str, str], ...]  # module instance path: (call name, "[key]" or "")
    values: dict[str, Any]
    location: str
    sensitive: Any = None
    unknown: dict[str, Any] = field(default_factory=dict)
    expressions: dict[str, Any] | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    # For each unknown leaf, by attribute path: the references its symbol was built from.
    leaf_refs: dict[tuple[str | int, ...], list[_Ref]] = field(default_factory=dict)

    @property
    def iac_type(self) -> str:
        return f"data.{self.type}" if self.mode == "data" else self.type

    @property
    def base_address(self) -> str:
        """The address without the instance key: ``aws_db_instance.main[0]`` -> ``...main``."""
        return re.sub(r"\[[^\[\]]*\]$", "", self.address)


class _Reader:
    def __init__(self, path: str, doc: Any) -> None:
        self.path = path
        self.doc = doc
        self.notes: list[str] = []
        self.variables: dict[str, Any] = {}
        self.modules: dict[tuple[str, ...], _Module] = {}
        self.resources: list[_Resource] = []
        self.by_address: dict[str, list[_Resource]] = {}
        self.documents: dict[str, Any] = {}  # policy document address -> document

    # -- validation -------------------------------------------------------------------------

    def fail(self, location: str, message: str) -> InputError:
        return InputError(self.path, message, location)

    def obj(self, value: Any, location: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(location, f"expected an object, found {_json_type(value)}")
        return value

    def lst(self, value: Any, location: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(location, f"expected an array, found {_json_type(value)}")
        return value

    def text(self, value: Any, location: str) -> str:
        if not isinstance(value, str):
            raise self.fail(location, f"expected a string, found {_json_type(value)}")
        return value

    def opt_obj(self, parent: dict[str, Any], key: str, location: str) -> dict[str, Any]:
        """An optional object member: {} when absent or null."""
        value = parent.get(key)
        return {} if value is None else self.obj(value, f"{location}.{key}")

    def opt_lst(self, parent: dict[str, Any], key: str, location: str) -> list[Any]:
        """An optional array member: [] when absent or null."""
        value = parent.get(key)
        return [] if value is None else self.lst(value, f"{location}.{key}")

    def member(self, parent: dict[str, Any], key: str, location: str) -> Any:
        if key not in parent:
            raise self.fail(f"{location}.{key}", "missing")
        return parent[key]

    # -- the whole document -----------------------------------------------------------------

    def run(self) -> IacFile:
        doc = self.obj(self.doc, "$")
        is_plan = "planned_values" in doc or "resource_changes" in doc
        kind = "plan" if is_plan else "state"
        self.check_version(doc, kind)
        if is_plan:
            self.load_plan(doc)
        elif "values" in doc:
            values = self.obj(doc["values"], "$.values")
            self.walk_values(self.member(values, "root_module", "$.values"), "$.values.root_module")
        else:
            raise self.fail("$", "neither planned_values nor values: not a Terraform plan or state")
        for res in sorted(self.resources, key=lambda r: r.address):
            self.by_address.setdefault(res.address, []).append(res)
            if res.base_address != res.address:
                self.by_address.setdefault(res.base_address, []).append(res)
        ordered = sorted(self.resources, key=lambda r: r.address)
        for res in ordered:
            res.properties = self.fill(res, res.values, res.unknown, res.expressions, ())
        for res in ordered:
            if res.iac_type == POLICY_DOCUMENT:
                self.policy_document(res)
        for res in ordered:
            self.policies(res)
        for res in ordered:
            res.properties = _drop_sensitive(res.properties, res.sensitive, _kept(res))
        region = self.region(ordered)
        account, arn_partition = self.account(ordered)
        partition = partition_of(region) if region else arn_partition
        return IacFile(
            path=self.path,
            kind=KIND,
            resources=[
                IacResource(r.address, r.iac_type, r.properties, self.path, None) for r in ordered
            ],
            region=region,
            account_id=account,
            partition=partition,
            notes=self.notes,
        )

    def check_version(self, doc: dict[str, Any], kind: str) -> None:
        version = self.text(self.member(doc, "format_version", "$"), "$.format_version")
        match = re.fullmatch(r"(\d+)(?:\.\d+)+", version)
        if not match:
            raise self.fail("$.format_version", f"not a format version: {version!r}")
        if match.group(1) not in ("0", "1"):
            raise self.fail("$.format_version", f"unsupported {kind} format version {version}")

    def load_plan(self, doc: dict[str, Any]) -> None:
        for name, var in self.opt_obj(doc, "variables", "$").items():
            if isinstance(var, dict) and "value" in var:
                self.variables[name] = var["value"]
        if "configuration" in doc:
            self.load_configuration(self.obj(doc["configuration"], "$.configuration"))
        planned = self.obj(self.member(doc, "planned_values", "$"), "$.planned_values")
        self.walk_values(
            self.member(planned, "root_module", "$.planned_values"), "$.planned_values.root_module"
        )
        changes: dict[str, dict[str, Any]] = {}
        for i, change in enumerate(self.opt_lst(doc, "resource_changes", "$")):
            where = f"$.resource_changes[{i}]"
            change = self.obj(change, where)
            if "deposed" in change:
                continue
            address = self.text(self.member(change, "address", where), f"{where}.address")
            body = self.obj(self.member(change, "change", where), f"{where}.change")
            actions = self.lst(
                self.member(body, "actions", f"{where}.change"), f"{where}.change.actions"
            )
            for j, action in enumerate(actions):
                self.text(action, f"{where}.change.actions[{j}]")
            changes[address] = body
        kept = []
        for res in self.resources:
            change = changes.get(res.address)
            if change is not None:
                if change["actions"] == ["delete"]:
                    continue
                unknown = change.get("after_unknown")
                res.unknown = unknown if isinstance(unknown, dict) else {}
                if res.sensitive is None:
                    res.sensitive = change.get("after_sensitive")
            kept.append(res)
        self.resources = kept
        # Data sources read while planning have no change: they are in the prior state only.
        prior = doc.get("prior_state")
        if prior is not None:
            prior = self.obj(prior, "$.prior_state")
            values = prior.get("values")
            if values is not None:
                values = self.obj(values, "$.prior_state.values")
                if "root_module" in values:
                    planned_addresses = {r.address for r in self.resources}
                    before = len(self.resources)
                    self.walk_values(values["root_module"], "$.prior_state.values.root_module")
                    self.resources[before:] = [
                        r
                        for r in self.resources[before:]
                        if r.mode == "data" and r.address not in planned_addresses
                    ]
        for res in self.resources:
            module = self.modules.get(tuple(name for name, _ in res.steps))
            if module is not None:
                relative = (f"data.{res.type}" if res.mode == "data" else res.type) + "." + res.name
                res.expressions = module.resources.get(relative)

    def load_configuration(self, config: dict[str, Any]) -> None:
        if "root_module" in config:
            self.load_module(config["root_module"], (), "$.configuration.root_module")

    def load_module(self, body: Any, names: tuple[str, ...], location: str) -> None:
        body = self.obj(body, location)
        resources: dict[str, dict[str, Any]] = {}
        for i, block in enumerate(self.opt_lst(body, "resources", location)):
            where = f"{location}.resources[{i}]"
            block = self.obj(block, where)
            address = self.text(self.member(block, "address", where), f"{where}.address")
            resources[address] = self.opt_obj(block, "expressions", where)
        self.modules[names] = _Module(body, resources)
        calls = self.opt_obj(body, "module_calls", location)
        for name, call in calls.items():
            where = f"{location}.module_calls.{name}"
            call = self.obj(call, where)
            self.opt_obj(call, "expressions", where)
            if "module" in call:
                self.load_module(call["module"], (*names, name), f"{where}.module")

    def walk_values(self, module: Any, location: str) -> None:
        module = self.obj(module, location)
        steps: tuple[tuple[str, str], ...] = ()
        if "address" in module:
            steps = _module_steps(self.text(module["address"], f"{location}.address"))
        for i, item in enumerate(self.opt_lst(module, "resources", location)):
            where = f"{location}.resources[{i}]"
            item = self.obj(item, where)
            address = self.text(self.member(item, "address", where), f"{where}.address")
            mode = self.text(self.member(item, "mode", where), f"{where}.mode")
            if mode not in ("managed", "data"):
                raise self.fail(f"{where}.mode", f"expected managed or data, found {mode!r}")
            values = item.get("values")
            self.resources.append(
                _Resource(
                    address=address,
                    mode=mode,
                    type=self.text(self.member(item, "type", where), f"{where}.type"),
                    name=self.text(self.member(item, "name", where), f"{where}.name"),
                    steps=steps,
                    values=self.obj(values, f"{where}.values") if values is not None else {},
                    location=where,
                    sensitive=item.get("sensitive_values"),
                )
            )
        children = self.opt_lst(module, "child_modules", location)
        for i, child in enumerate(children):
            self.walk_values(child, f"{location}.child_modules[{i}]")

    # -- unknown values ---------------------------------------------------------------------

    def fill(
        self, res: _Resource, value: Any, unknown: Any, expr: Any, path: tuple[str | int, ...]
    ) -> Any:
        """``value`` with a symbol at every leaf that ``unknown`` marks ``true``."""
        if unknown is True:
            return self.unknown_leaf(res, expr if _is_expression(expr) else None, path)
        if isinstance(unknown, dict):
            out = copy.deepcopy(value) if isinstance(value, dict) else {}
            for key, sub in unknown.items():
                if _has_true(sub):
                    out[key] = self.fill(
                        res, out.get(key), sub, _sub_expression(expr, key), (*path, key)
                    )
            return out
        if isinstance(unknown, list):
            items = copy.deepcopy(value) if isinstance(value, list) else []
            items += [None] * (len(unknown) - len(items))
            if _is_expression(expr):
                return self.fill_list(res, items, unknown, expr, path)
            blocks = [expr] if isinstance(expr, dict) else expr if isinstance(expr, list) else []
            for i, sub in enumerate(unknown):
                if _has_true(sub):
                    block = _match_block(blocks, items, i)
                    items[i] = self.fill(res, items[i], sub, block, (*path, i))
            return items
        return copy.deepcopy(value)

    def fill_list(
        self,
        res: _Resource,
        items: list[Any],
        unknown: list[Any],
        expr: dict[str, Any],
        path: tuple[str | int, ...],
    ) -> list[Any]:
        """Elements of a list written as one expression: pair unknown ones with references."""
        refs = self.resolve_expression(expr, res.steps, 0)
        whole = [i for i, sub in enumerate(unknown) if sub is True]
        pending = [r for r in refs if r.known is not True]
        for i, sub in enumerate(unknown):
            if sub is True:
                if len(unknown) > 1 and refs and len(pending) == len(whole):
                    own = [pending[whole.index(i)]]
                elif len(unknown) > 1 and len(pending) == 1:
                    own = pending
                else:
                    own = refs
                res.leaf_refs[(*path, i)] = own
                items[i] = _joined(own) if own else symbol(res.address + _path_text((*path, i)))
            elif _has_true(sub):
                items[i] = self.fill(res, items[i], sub, expr, (*path, i))
        return items

    def unknown_leaf(
        self, res: _Resource, expr: dict[str, Any] | None, path: tuple[str | int, ...]
    ) -> str:
        refs = self.resolve_expression(expr, res.steps, 0) if expr is not None else []
        res.leaf_refs[path] = refs
        return _joined(refs) if refs else symbol(res.address + _path_text(path))

    def resolve_expression(
        self, expr: dict[str, Any], steps: tuple[tuple[str, str], ...], depth: int
    ) -> list[_Ref]:
        """The most specific references of an expression, absolute and followed through modules."""
        raw = expr.get("references")
        if not isinstance(raw, list) or depth > _MAX_DEPTH:
            return []
        out: list[_Ref] = []
        for ref in _most_specific([r for r in raw if isinstance(r, str)]):
            out.extend(self.resolve_reference(ref, steps, depth))
        return out

    def resolve_reference(
        self, ref: str, steps: tuple[tuple[str, str], ...], depth: int
    ) -> list[_Ref]:
        tokens = _split(ref)
        prefix = _module_prefix(steps)
        head = tokens[0]
        if head == "var" and len(tokens) >= 2:
            if not steps:
                return [_Ref(ref, True)]
            call = self.module_call(steps)
            given = _name_key(tokens[1])[0]
            expr = (call.get("expressions") or {}).get(given) if call else None
            if _is_expression(expr) and expr.get("references"):
                inner = self.resolve_expression(expr, steps[:-1], depth + 1)
                return _with_rest(inner, tokens[2:]) or [_Ref(prefix + ref, None)]
            return [_Ref(prefix + ref, True)]
        if head == "module" and len(tokens) >= 3:
            child = (*steps, _name_key(tokens[1]))
            module = self.modules.get(tuple(name for name, _ in child))
            output = _name_key(tokens[2])[0]
            outputs = module.body.get("outputs") if module else None
            spec = outputs.get(output) if isinstance(outputs, dict) else None
            expr = spec.get("expression") if isinstance(spec, dict) else None
            if _is_expression(expr) and expr.get("references"):
                inner = self.resolve_expression(expr, child, depth + 1)
                # Output values are known unless they come from something unknown.
                resolved = _with_rest(inner, tokens[3:])
                if resolved:
                    return resolved
            return [_Ref(prefix + ref, None)]
        if head in _KNOWN_HEADS:
            return [_Ref(prefix + ref, True)]
        if head in ("local", "module"):
            return [_Ref(prefix + ref, None)]
        size = 3 if head == "data" else 2
        if len(tokens) < size:
            return [_Ref(prefix + ref, None)]
        address = prefix + ".".join(tokens[:size])
        return [_Ref(prefix + ref, self.known(address, tokens[size:]))]

    def module_call(self, steps: tuple[tuple[str, str], ...]) -> dict[str, Any] | None:
        parent = self.modules.get(tuple(name for name, _ in steps[:-1]))
        if parent is None:
            return None
        call = (parent.body.get("module_calls") or {}).get(steps[-1][0])
        return call if isinstance(call, dict) else None

    def known(self, address: str, attribute: list[str]) -> bool | None:
        """Whether the plan knows ``address``'s attribute (None: not in this plan)."""
        found = self.by_address.get(address)
        if not found:
            return None
        if not attribute:
            return not any(_has_true(r.unknown) for r in found)
        name = _name_key(attribute[0])[0]
        return not any(_has_true(r.unknown.get(name)) for r in found)

    # -- policies ---------------------------------------------------------------------------

    def policy_document(self, res: _Resource) -> None:
        props = res.properties
        text = props.get("json")
        if isinstance(text, str) and not is_unknown(text):
            props["json"] = self.parse_policy(res, "json", text)
        else:
            statements = props.get("statement")
            if not isinstance(statements, list) and res.expressions is not None:
                statements = self.config_blocks(res, res.expressions.get("statement"))
            source = {**props, "statement": statements if isinstance(statements, list) else []}
            props["json"] = _document_from_statements(source)
            self.notes.append(
                f"{res.address}: json is unknown until apply; rebuilt from its statement blocks"
            )
            merged = [
                key
                for key in ("source_policy_documents", "override_policy_documents")
                if props.get(key) or (res.expressions or {}).get(key)
            ]
            if merged:
                self.notes.append(f"{res.address}: {' and '.join(merged)} not merged")
        self.documents[res.address] = props["json"]

    def config_blocks(self, res: _Resource, blocks: Any) -> list[dict[str, Any]]:
        """Nested blocks from the configuration alone: constants, and symbols for the rest."""
        if isinstance(blocks, dict):
            blocks = [blocks]
        if not isinstance(blocks, list):
            return []
        out = []
        for block in blocks:
            if not isinstance(block, dict):
                continue
            item: dict[str, Any] = {}
            for key, expr in block.items():
                if isinstance(expr, list) or (isinstance(expr, dict) and not _is_expression(expr)):
                    item[key] = self.config_blocks(res, expr)
                elif isinstance(expr, dict) and "constant_value" in expr:
                    item[key] = expr["constant_value"]
                elif isinstance(expr, dict):
                    refs = self.resolve_expression(expr, res.steps, 0)
                    if refs:
                        item[key] = _joined(refs)
            out.append(item)
        return out

    def policies(self, res: _Resource) -> None:
        props = res.properties
        attributes = POLICY_ATTRIBUTES.get(res.type, ()) if res.mode == "managed" else ()
        for attr in attributes:
            if attr in props:
                props[attr] = self.policy_value(res, (attr,), props[attr])
        if res.type == "aws_iam_role" and isinstance(props.get("inline_policy"), list):
            for i, item in enumerate(props["inline_policy"]):
                if isinstance(item, dict) and "policy" in item:
                    item["policy"] = self.policy_value(
                        res, ("inline_policy", i, "policy"), item["policy"]
                    )

    def policy_value(self, res: _Resource, path: tuple[str | int, ...], value: Any) -> Any:
        where = _path_text(path).lstrip(".")
        if not isinstance(value, str) or value == "":
            return value
        if not is_unknown(value):
            return self.parse_policy(res, where, value)
        refs = res.leaf_refs.get(path)
        if not refs:
            self.notes.append(f"{res.address}: {where} is unknown until apply")
            return value
        documents = [a for a in (_document_address(r.text) for r in refs) if a]
        if documents:
            found = self.documents.get(documents[0])
            if found is None:  # referenced without its instance key
                found = next(
                    (
                        self.documents[r.address]
                        for r in self.by_address.get(documents[0], [])
                        if r.address in self.documents
                    ),
                    None,
                )
            if found is None:
                self.notes.append(
                    f"{res.address}: {where} is unknown until apply and {documents[0]} is not "
                    "in the plan"
                )
                return value
            self.notes.append(
                f"{res.address}: {where} is unknown until apply; taken from {documents[0]}"
            )
            return copy.deepcopy(found)
        if len(refs) == 1 and _last_name(refs[0].text) in ("policy", "assume_role_policy", "json"):
            owner, attr = refs[0].text.rsplit(".", 1)
            for other in self.by_address.get(owner, []):
                known = other.properties.get(attr)
                if isinstance(known, dict):
                    self.notes.append(
                        f"{res.address}: {where} is unknown until apply; taken from {owner}"
                    )
                    return copy.deepcopy(known)
            self.notes.append(f"{res.address}: {where} is unknown until apply")
            return value
        arns = [r for r in refs if _last_name(r.text) == "arn" or r.text.endswith("_arn")]
        rest = [r for r in refs if r not in arns]
        resources = [symbol(r.text) for r in arns] + ([_joined(rest)] if rest else [])
        self.notes.append(
            f"{res.address}: {where} is built by an expression the plan does not show "
            "(jsonencode or a template) and is unknown until apply; rebuilt as one Allow "
            f"statement with an unknown Action and Resource from its references: "
            f"{', '.join(r.text for r in refs)}"
        )
        return {
            "Version": POLICY_VERSION,
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": symbol(res.address + _path_text(path)),
                    "Resource": resources,
                }
            ],
        }

    def parse_policy(self, res: _Resource, where: str, text: str) -> Any:
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            self.notes.append(
                f"{res.address}: {where} is not valid JSON ({exc.msg}); left as a string"
            )
            return text
        if not isinstance(doc, dict):
            self.notes.append(f"{res.address}: {where} is not a JSON object; left as a string")
            return text
        return doc

    # -- where -------------------------------------------------------------------------------

    def region(self, resources: list[_Resource]) -> str | None:
        config = self.doc.get("configuration")
        providers = config.get("provider_config") if isinstance(config, dict) else None
        if isinstance(providers, dict):
            found = {
                key: self.provider_region(p)
                for key, p in providers.items()
                if isinstance(p, dict) and p.get("name") == "aws"
            }
            default = next(
                (
                    key
                    for key, p in providers.items()
                    if key in found and not p.get("alias") and not p.get("module_address")
                ),
                None,
            )
            chosen = found.get(default) if default else None
            for key, region in found.items():
                if key != default and region and region != chosen:
                    self.notes.append(
                        f"provider {key} sets Region {region}; the file's Region is "
                        f"{chosen or 'not set'}"
                    )
            if chosen:
                return chosen
        for res in resources:
            if res.iac_type == "data.aws_region" and not res.steps:
                for key in ("region", "name"):
                    value = res.properties.get(key)
                    if isinstance(value, str) and value and not is_unknown(value):
                        return value
        regions = Counter(m.group(3) for m in _own_arns(resources) if m.group(3))
        return regions.most_common(1)[0][0] if regions else None

    def provider_region(self, provider: dict[str, Any]) -> str | None:
        """A provider configuration's ``region``: a constant, or a root variable's value."""
        expressions = provider.get("expressions")
        expr = expressions.get("region") if isinstance(expressions, dict) else None
        if not isinstance(expr, dict):
            return None
        constant = expr.get("constant_value")
        if isinstance(constant, str) and constant:
            return constant
        for ref in expr.get("references") or []:
            if isinstance(ref, str) and ref.startswith("var.") and "module_address" not in provider:
                value = self.variables.get(ref[len("var.") :])
                if isinstance(value, str) and value:
                    return value
        return None

    def account(self, resources: list[_Resource]) -> tuple[str | None, str | None]:
        for res in resources:
            if res.iac_type == "data.aws_caller_identity":
                value = res.properties.get("account_id")
                if isinstance(value, str) and re.fullmatch(r"\d{12}", value):
                    arn = _ARN.match(str(res.properties.get("arn", "")))
                    return value, arn.group(1) if arn else None
        matches = _own_arns(resources)
        accounts = Counter(m.group(4) for m in matches)
        if not accounts:
            return None, None
        account = accounts.most_common(1)[0][0]
        return account, next(m.group(1) for m in matches if m.group(4) == account)


# -- helpers -----------------------------------------------------------------------------------


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _split(reference: str) -> list[str]:
    """``module.db[0].aws_db_instance.main["a.b"].id`` -> ``["module", "db[0]", ..., "id"]``."""
    tokens: list[str] = []
    current = ""
    depth = 0
    quoted = False
    escaped = False
    for ch in reference:
        if quoted:
            current += ch
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                quoted = False
            continue
        if ch == '"':
            quoted = True
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == "." and depth == 0:
            tokens.append(current)
            current = ""
            continue
        current += ch
    tokens.append(current)
    return tokens


def _name_key(token: str) -> tuple[str, str]:
    """``db[0]`` -> ``("db", "[0]")``."""
    match = _NAME_KEY.fullmatch(token)
    return (match.group(1), match.group(2)) if match else (token, "")


def _module_steps(address: str) -> tuple[tuple[str, str], ...]:
    tokens = _split(address)
    steps = []
    while len(tokens) >= 2 and tokens[0] == "module":
        steps.append(_name_key(tokens[1]))
        tokens = tokens[2:]
    return tuple(steps)


def _module_prefix(steps: tuple[tuple[str, str], ...]) -> str:
    return "".join(f"module.{name}{key}." for name, key in steps)


def _most_specific(references: list[str]) -> list[str]:
    """Drop references implied by a longer one (``a.b`` by ``a.b.c`` or ``a.b[0]``) and repeats."""
    out: list[str] = []
    for ref in references:
        if ref in out:
            continue
        if any(other.startswith((ref + ".", ref + "[")) for other in references):
            continue
        out.append(ref)
    return out


def _last_name(reference: str) -> str:
    """The name of a reference's last step: ``aws_iam_role.app.arn`` -> ``arn``."""
    return _name_key(_split(reference)[-1])[0]


def _document_address(reference: str) -> str | None:
    """``module.iam.data.aws_iam_policy_document.x.json`` -> ``module.iam.data...x``, else None."""
    tokens = _split(reference)
    while len(tokens) >= 2 and tokens[0] == "module":
        tokens = tokens[2:]
    if (
        len(tokens) == 4
        and tokens[:2] == ["data", "aws_iam_policy_document"]
        and tokens[3] in ("json", "minified_json")
    ):
        return reference.rsplit(".", 1)[0]
    return None


def _with_rest(refs: list[_Ref], rest: list[str]) -> list[_Ref]:
    """Append the remaining traversal (``var.x.arn``) when the value is one reference."""
    if not rest:
        return refs
    if len(refs) != 1:
        return []
    return [_Ref(refs[0].text + "." + ".".join(rest), refs[0].known)]


def _joined(refs: list[_Ref]) -> str:
    return "".join(symbol(r.text) for r in refs)


def _path_text(path: tuple[str | int, ...]) -> str:
    out = ""
    for step in path:
        if isinstance(step, int):
            out += f"[{step}]"
        elif _IDENT.fullmatch(step):
            out += f".{step}"
        else:
            out += f"[{json.dumps(step)}]"
    return out


def _is_expression(value: Any) -> TypeGuard[dict[str, Any]]:
    """An expression representation (not a block): only constant_value and/or references."""
    return isinstance(value, dict) and set(value) <= {"constant_value", "references"}


def _sub_expression(expr: Any, key: str) -> Any:
    if _is_expression(expr):
        return expr  # a map or object attribute written as one expression
    if isinstance(expr, dict):
        return expr.get(key)
    if isinstance(expr, list) and len(expr) == 1 and isinstance(expr[0], dict):
        return expr[0].get(key)
    return None


def _match_block(blocks: list[Any], items: list[Any], index: int) -> Any:
    """The configuration block of a value's nested block: by a known ``name``, else position."""
    item = items[index] if index < len(items) else None
    name = item.get("name") if isinstance(item, dict) else None
    if isinstance(name, str):
        for block in blocks:
            expr = block.get("name") if isinstance(block, dict) else None
            if isinstance(expr, dict) and expr.get("constant_value") == name:
                return block
    return blocks[index] if index < len(blocks) else None


def _has_true(value: Any) -> bool:
    if value is True:
        return True
    if isinstance(value, dict):
        return any(_has_true(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_true(v) for v in value)
    return False


def _elements(value: Any) -> Any:
    """A statement element as the AWS provider writes it: one string, or a list of several."""
    if value is None:
        return None
    if isinstance(value, str):
        return value or None
    if not isinstance(value, list):
        return value
    items = [v for v in value if v is not None and v != ""]
    if not items:
        return None
    return items[0] if len(items) == 1 else items


def _principals(blocks: Any) -> Any:
    if isinstance(blocks, str):
        return blocks or None
    if not isinstance(blocks, list):
        return None
    grouped: dict[str, list[Any]] = {}
    for block in blocks:
        if not isinstance(block, dict):
            continue
        kind = str(block.get("type") or "")
        ids = block.get("identifiers")
        grouped.setdefault(kind, []).extend(ids if isinstance(ids, list) else [ids])
    if not grouped:
        return None
    if list(grouped) == ["*"] and all(i == "*" for i in grouped["*"]):
        return "*"
    return {kind: _elements(ids) for kind, ids in grouped.items()}


def _conditions(blocks: Any) -> Any:
    if isinstance(blocks, str):
        return blocks or None
    if not isinstance(blocks, list):
        return None
    out: dict[str, dict[str, Any]] = {}
    for block in blocks:
        if not isinstance(block, dict):
            continue
        values = block.get("values")
        tests = out.setdefault(str(block.get("test")), {})
        listed = tests.setdefault(str(block.get("variable")), [])
        listed.extend(values if isinstance(values, list) else [values])
    if not out:
        return None
    return {t: {v: _elements(vals) for v, vals in tests.items()} for t, tests in out.items()}


def _document_from_statements(values: dict[str, Any]) -> dict[str, Any]:
    """An IAM policy document from ``aws_iam_policy_document`` attribute values."""
    doc: dict[str, Any] = {"Version": values.get("version") or POLICY_VERSION}
    if values.get("policy_id"):
        doc["Id"] = values["policy_id"]
    statements = []
    for block in values.get("statement") or []:
        if not isinstance(block, dict):
            continue
        item: dict[str, Any] = {}
        if block.get("sid"):
            item["Sid"] = block["sid"]
        item["Effect"] = block.get("effect") or "Allow"
        parts: list[tuple[str, Any]] = [
            ("Action", _elements(block.get("actions"))),
            ("NotAction", _elements(block.get("not_actions"))),
            ("Resource", _elements(block.get("resources"))),
            ("NotResource", _elements(block.get("not_resources"))),
            ("Principal", _principals(block.get("principals"))),
            ("NotPrincipal", _principals(block.get("not_principals"))),
            ("Condition", _conditions(block.get("condition"))),
        ]
        item.update({key: value for key, value in parts if value is not None})
        statements.append(item)
    doc["Statement"] = statements
    return doc


def _drop_sensitive(value: Any, sensitive: Any, keep: tuple[str, ...] = ()) -> Any:
    """``value`` without its sensitive leaves, except the top-level attributes in ``keep``."""
    if not _has_true(sensitive):
        return value
    if sensitive is True:
        return None
    if isinstance(value, dict) and isinstance(sensitive, dict):
        out = {}
        for key, item in value.items():
            sub = sensitive.get(key)
            if key in keep:
                out[key] = item
            elif sub is not True:
                out[key] = _drop_sensitive(item, sub)
        return out
    if isinstance(value, list) and isinstance(sensitive, list):
        return [
            _drop_sensitive(item, sensitive[i] if i < len(sensitive) else None)
            for i, item in enumerate(value)
        ]
    return value


def _kept(res: _Resource) -> tuple[str, ...]:
    """Attributes kept even when sensitive: policy documents, which are not secrets."""
    if res.iac_type == POLICY_DOCUMENT:
        return ("json", "minified_json")
    if res.mode != "managed":
        return ()
    extra = ("inline_policy",) if res.type == "aws_iam_role" else ()
    return POLICY_ATTRIBUTES.get(res.type, ()) + extra


def _own_arns(resources: list[_Resource]) -> list[re.Match[str]]:
    """ARNs in resources' top-level string attributes (not inside policy documents)."""
    found = []
    for res in resources:
        for value in res.properties.values():
            if isinstance(value, str) and not is_unknown(value):
                match = _ARN.match(value)
                if match:
                    found.append(match)
    return found
