"""CloudFormation templates (YAML or JSON, CDK output included) as ``IacFile`` records.

Reading keeps the line of every mapping key (``LineDict.lines``) and sequence item
(``LineList.lines``), so that findings point at the resource and at the property they judge:

- YAML goes through ``TemplateLoader``, derived from libyaml's ``CSafeLoader``, which builds the
  document from the parser's events, knows the short-form tags (``!Ref``, ``!Sub``, ...) and
  refuses aliases without ever expanding one (a "billion laughs" document costs its own size);
- JSON goes through the ``json`` module (a CDK template of several megabytes in a fraction of
  the time libyaml takes), and the lines come from one scan of the text for its string tokens,
  which appear in the same order as a pre-order walk of the parsed document meets them.

Evaluation then resolves what the template and the command line know (parameters, pseudo
parameters, conditions, mappings, intrinsic functions) and writes what only deploy time knows as
symbols (``checker.iac.symbols``). Nested stacks are read as ordinary resources; transforms
(SAM, ``Fn::ForEach``) are not expanded.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import re
from collections.abc import Callable, Mapping
from itertools import accumulate, chain, islice, repeat
from typing import Any

import yaml
from yaml.nodes import ScalarNode

from checker.errors import InputError
from checker.gcpause import collector_off
from checker.iac.model import IacFile, IacResource
from checker.iac.symbols import SYMBOL, is_unknown, symbol
from checker.knowledge.regions import partition_of

try:
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # PyYAML built without libyaml: same behaviour, slower
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]

KIND = "cloudformation"
_TYPE_PREFIXES = ("AWS::", "Custom::")
_SSM_PARAMETER = "AWS::SSM::Parameter::Value<"
# Real templates nest a few dozen levels; a document nested deeper than this is refused before
# anything recurses over it.
_MAX_DEPTH = 500
# A JSON string token; in valid JSON nothing between two strings holds a quote, so every match
# starts a string.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')


class LineDict(dict[str, Any]):
    """A template mapping that remembers the line (1-based) of each of its keys."""

    __slots__ = ("lines",)
    lines: dict[str, int]


class LineList(list[Any]):
    """A template sequence that remembers the line (1-based) of each of its items."""

    __slots__ = ("lines",)
    lines: list[int]


class _NoValue:
    """``AWS::NoValue``: the property or list item is removed."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()


class _Fail(yaml.YAMLError):
    """A template mistake, with the line (and column) where known; becomes an InputError."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column

    def error(self, path: str) -> InputError:
        where = None
        if self.line is not None:
            where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        return InputError(path, self.message, where)


# -- YAML ------------------------------------------------------------------------------------

_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
# YAML 1.1 reads an unquoted 2012-10-17 (an IAM policy's Version) as a date; CloudFormation
# keeps it as written.
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_SCALAR_TAGS: dict[str, Callable[[Any, ScalarNode], Any]] = {
    "tag:yaml.org,2002:null": _SafeLoader.construct_yaml_null,
    "tag:yaml.org,2002:bool": _SafeLoader.construct_yaml_bool,
    "tag:yaml.org,2002:int": _SafeLoader.construct_yaml_int,
    "tag:yaml.org,2002:float": _SafeLoader.construct_yaml_float,
}
_SHORT_TAGS = {
    "!Ref": "Ref",
    "!Condition": "Condition",
    "!GetAtt": "Fn::GetAtt",
    **{
        f"!{name}": f"Fn::{name}"
        for name in (
            "Sub",
            "Join",
            "If",
            "Select",
            "Split",
            "FindInMap",
            "ImportValue",
            "Equals",
            "And",
            "Or",
            "Not",
            "Base64",
            "Cidr",
            "GetAZs",
            "Transform",
        )
    },
}
_MAP_TAGS = (None, "!", _MAP)
_SEQ_TAGS = (None, "!", _SEQ)


def _line_of(event: yaml.Event) -> int:
    mark = event.start_mark
    return int(mark.line) + 1 if mark is not None else 0


class TemplateLoader(_SafeLoader):
    """The safe CloudFormation YAML loader: JSON types only, short-form tags (``!Ref``,
    ``!GetAtt``, ...) as their long forms, no aliases, and the line of every mapping key and
    sequence item.

    It builds the document from libyaml's events, without PyYAML's node graph: a third faster,
    an alias is seen where it is written (and never expanded: the "billion laughs" stop at the
    first one), and nesting costs no recursion. What the loader refuses (an alias, a tag it does
    not know, a duplicate key) becomes ``None`` in place and ``self.problem``, so that a caller
    can still tell a template (an error) from another YAML document (not its business)."""

    problem: _Fail | None = None

    def get_single_data(self) -> Any:
        """The document (``yaml.load`` calls this); raises the first problem."""
        doc = self.build()
        if self.problem is not None:
            raise self.problem
        return doc

    def build(self) -> Any:
        """The document (None when the stream has none), problems in ``self.problem``."""
        get: Callable[[], Any] = self.get_event
        resolvers = self.yaml_implicit_resolvers
        scalar_event, alias_event = yaml.ScalarEvent, yaml.AliasEvent
        mapping_start, mapping_end = yaml.MappingStartEvent, yaml.MappingEndEvent
        sequence_start, sequence_end = yaml.SequenceStartEvent, yaml.SequenceEndEvent
        get()  # StreamStartEvent
        if self.check_event(yaml.StreamEndEvent):
            return None
        get()  # DocumentStartEvent
        # The collection being built lives in locals (the hot loop), the enclosing ones on
        # the stack; container None is the document's root.
        stack: list[tuple[Any, Any, bool, str | None, int, str | None]] = []
        container: Any = None
        lines: Any = None
        is_map = False
        key: str | None = None  # a mapping's key waiting for its value
        start = 0  # the line where the collection starts
        short: str | None = None  # the short-form tag on the collection (!Join [...])
        anchors: dict[str, int] = {}  # anchor -> line, to name what an alias repeats
        value: Any = None
        while True:
            event = get()
            kind = type(event)
            line = event.start_mark.line + 1
            if kind is scalar_event:
                text = event.value
                if is_map and key is None:
                    # A key: its text as written (123456789012 and 2012-10-17 stay strings).
                    key = text
                    if key in lines:
                        self._refuse(f"duplicate key '{key}' (first at line {lines[key]})", line)
                    else:
                        lines[key] = line
                    continue
                tag = event.tag
                if tag is None and (not event.implicit[0] or (text and text[0] not in resolvers)):
                    value = text  # quoted, or plain with no resolver for its first character
                else:
                    value = self._scalar(text, tag, event.implicit, line)
                if event.anchor is not None:
                    anchors[event.anchor] = line
            elif kind is mapping_start or kind is sequence_start:
                if len(stack) >= _MAX_DEPTH:
                    raise _Fail(f"nested deeper than {_MAX_DEPTH} levels", line)
                stack.append((container, lines, is_map, key, start, short))
                tag = event.tag
                if kind is mapping_start:
                    container, lines, is_map = LineDict(), {}, True
                    known = tag in _MAP_TAGS
                else:
                    container, lines, is_map = LineList(), [], False
                    known = tag in _SEQ_TAGS
                container.lines = lines
                key, start, short = None, line, None
                if not known:
                    if tag in _SHORT_TAGS:
                        short = tag
                    else:
                        self._refuse(f"unsupported YAML tag {tag}", line)
                if event.anchor is not None:
                    anchors[event.anchor] = line
                continue
            elif kind is mapping_end or kind is sequence_end:
                value, line = container, start
                if short is not None:
                    value = self._short_form(short, value, line)
                container, lines, is_map, key, start, short = stack.pop()
            elif kind is alias_event:
                self._refuse(
                    "YAML aliases are not allowed (this one repeats the node at line"
                    f" {anchors.get(event.anchor, '?')})",
                    line,
                )
                value = None
            else:
                raise _Fail(f"unexpected YAML event {kind.__name__}", line)
            if container is None:
                break  # the root is complete
            if not is_map:
                container.append(value)
                lines.append(line)
            elif key is not None:
                container[key] = value
                key = None
            else:  # a mapping or sequence as a key
                self._refuse("a mapping key must be a string", line)
                key = f"(key at line {line})"
                lines[key] = line
        get()  # DocumentEndEvent
        if not self.check_event(yaml.StreamEndEvent):
            event = get()
            raise _Fail("expected a single document in the stream", _line_of(event))
        return value

    def _scalar(self, text: str, tag: str | None, implicit: tuple[bool, bool], line: int) -> Any:
        if tag is None:
            tag = self.resolve(ScalarNode, text, implicit)  # type: ignore[no-untyped-call]
        elif tag == "!":
            return text
        if tag in (_STR, _TIMESTAMP):
            return text
        plain = _SCALAR_TAGS.get(tag)
        if plain is not None:
            return plain(self, ScalarNode(tag, text))
        if tag in _SHORT_TAGS:
            return self._short_form(tag, text, line)
        self._refuse(f"unsupported YAML tag {tag}", line)
        return None

    @staticmethod
    def _short_form(tag: str, arg: Any, line: int) -> LineDict:
        name = _SHORT_TAGS[tag]
        if name == "Fn::GetAtt" and isinstance(arg, str) and "." in arg:
            arg = arg.split(".", 1)
        out = LineDict({name: arg})
        out.lines = {name: line}
        return out

    def _refuse(self, message: str, line: int) -> None:
        if self.problem is None:
            self.problem = _Fail(message, line)


def _yaml_fail(exc: yaml.YAMLError, source: bytes) -> _Fail:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or exc.context or "invalid YAML"
        if mark is not None:
            return _Fail(f"invalid YAML: {what}", mark.line + 1, mark.column + 1)
        return _Fail(f"invalid YAML: {what}")
    if isinstance(exc, yaml.reader.ReaderError):
        line = source.count(b"\n", 0, exc.position) + 1 if exc.position >= 0 else None
        return _Fail(f"invalid YAML: {exc.reason} (character {exc.character!r})", line)
    return _Fail(f"invalid YAML: {exc}")


def _build(source: bytes) -> tuple[Any, _Fail | None]:
    """The document and the first problem the loader refused; _Fail on invalid YAML."""
    loader = TemplateLoader(source)
    try:
        return loader.build(), loader.problem
    except _Fail:
        raise
    except yaml.YAMLError as exc:
        raise _yaml_fail(exc, source) from None
    finally:
        loader.dispose()


def parse_yaml(path: str, text: str) -> Any:
    """The document, read with ``TemplateLoader``; InputError (with line) on bad YAML."""
    try:
        doc, problem = _build(text.encode("utf-8", "surrogatepass"))
    except _Fail as exc:
        raise exc.error(path) from None
    if problem is not None:
        raise problem.error(path)
    return doc


# -- JSON ------------------------------------------------------------------------------------


def _json_object(pairs: list[tuple[str, Any]]) -> LineDict:
    out = LineDict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Fail(f"duplicate key '{key}'")
            seen.add(key)
    return out


def _parse_json(text: str) -> Any:
    """The JSON document with plain dicts turned into ``LineDict`` (lines not yet set)."""
    return json.loads(text, object_pairs_hook=_json_object)


def _with_lines(doc: Any, text: str) -> Any:
    """``doc`` (read by ``_parse_json`` from ``text``) with the line of every key and item.

    A pre-order walk of the document meets its strings (keys and values) in the order they are
    written, so the n-th string of the walk is the n-th string token of the text; a number,
    boolean or null takes the line of the string before it (close, and only used as the line
    of a sequence item). Lists become ``LineList``."""
    starts = [m.start() for m in _JSON_STRING.finditer(text)]
    # Line of each string token: 1 + the newlines before it, counted between tokens.
    lines_of = list(
        accumulate(map(text.count, repeat("\n"), chain((0,), starts), starts), initial=1)
    )
    del lines_of[0]
    lines_of.append(lines_of[-1] if lines_of else 1)  # a sentinel: never read past the end
    token = 0

    def walk(value: Any) -> tuple[Any, int]:
        nonlocal token
        if type(value) is LineDict:
            lines: dict[str, int] = {}
            first = lines_of[token]
            for key, item in value.items():
                lines[key] = lines_of[token]
                token += 1
                kind = type(item)
                if kind is str:
                    token += 1
                elif kind is LineDict or kind is list:
                    value[key] = walk(item)[0]
            value.lines = lines
            return value, first
        if type(value) is list:
            out = LineList(value)
            item_lines: list[int] = []
            previous = lines_of[token - 1] if token else 1
            for index, item in enumerate(value):
                kind = type(item)
                if kind is str:
                    previous = lines_of[token]
                    token += 1
                elif kind is LineDict or kind is list:
                    out[index], previous = walk(item)
                item_lines.append(previous)
            out.lines = item_lines
            return out, item_lines[0] if item_lines else previous
        if type(value) is str:
            token += 1
            return value, lines_of[token - 1]
        return value, lines_of[token - 1] if token else 1

    return walk(doc)[0]


def _json_fail(exc: json.JSONDecodeError) -> _Fail:
    return _Fail(f"invalid JSON: {exc.msg}", exc.lineno, exc.colno)


# -- reading ---------------------------------------------------------------------------------


def looks_like_template(doc: Any) -> bool:
    """True for a CloudFormation template: ``AWSTemplateFormatVersion``, or ``Resources``
    holding at least one ``{"Type": "AWS::..."}`` (or ``Custom::...``)."""
    if not isinstance(doc, dict):
        return False
    if "AWSTemplateFormatVersion" in doc:
        return True
    resources = doc.get("Resources")
    if not isinstance(resources, dict):
        return False
    for resource in resources.values():
        if isinstance(resource, dict):
            rtype = resource.get("Type")
            if isinstance(rtype, str) and rtype.startswith(_TYPE_PREFIXES):
                return True
    return False


def _looks_like_json(data: bytes) -> bool:
    return data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"[")


def _load(path: str, data: bytes, templates_only: bool) -> Any:
    """The document in ``data`` (JSON or YAML) with lines; with ``templates_only``, None
    when it is not a CloudFormation template."""
    json_error = None
    if _looks_like_json(data):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InputError(path, "not UTF-8 text") from None
        try:
            doc = _parse_json(text)
        except json.JSONDecodeError as exc:
            json_error = exc  # YAML is a superset (trailing commas, comments): try it
        except _Fail as exc:
            raise exc.error(path) from None
        except RecursionError:
            raise InputError(path, "invalid JSON: nested too deeply") from None
        else:
            if templates_only and not looks_like_template(doc):
                return None
            try:
                return _with_lines(doc, text)
            except RecursionError:
                raise InputError(path, "invalid JSON: nested too deeply") from None
    try:
        doc, problem = _build(data)
    except _Fail as exc:
        if json_error is not None:
            raise _json_fail(json_error).error(path) from None
        raise exc.error(path) from None
    if templates_only and not looks_like_template(doc):
        return None  # whatever it holds (aliases, other tags) is not ours to judge
    if problem is not None:
        raise problem.error(path)
    return doc


def read(
    path: str,
    data: bytes,
    *,
    parameters: Mapping[str, str] | None = None,
    region: str | None = None,
    account: str | None = None,
    partition: str | None = None,
) -> IacFile | None:
    """The template's resources, evaluated; None when ``data`` is not a CloudFormation
    template (JSON or YAML), InputError when it is one but broken."""
    if b"Resources" not in data and b"AWSTemplateFormatVersion" not in data:
        return None  # cannot be a template: no parsing at all
    if partition is None and region:
        partition = partition_of(region)
    with collector_off():
        doc = _load(path, data, templates_only=True)
        if doc is None:
            return None
        try:
            return _Template(path, doc, parameters or {}, region, account, partition).file()
        except _Fail as exc:
            raise exc.error(path) from None
        except RecursionError:
            raise InputError(path, "template nested too deeply") from None


def read_parameters_file(path: str) -> dict[str, str]:
    """Parameter values from a file: the AWS CLI's ``[{"ParameterKey", "ParameterValue"}]``
    (or ``["Key=Value"]``), CodePipeline's ``{"Parameters": {...}}``, or a flat
    ``{key: value}`` map, in JSON or YAML."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from None
    doc = _load(path, data, templates_only=False)
    items: list[tuple[Any, Any]] = []
    if isinstance(doc, list):
        for index, entry in enumerate(doc):
            if isinstance(entry, dict) and "ParameterKey" in entry:
                if "ParameterValue" in entry:
                    items.append((entry["ParameterKey"], entry["ParameterValue"]))
                elif not entry.get("UsePreviousValue"):
                    raise _entry_error(path, doc, index, "has no ParameterValue")
            elif isinstance(entry, str) and "=" in entry:
                key, _, value = entry.partition("=")
                items.append((key, value))
            else:
                raise _entry_error(
                    path, doc, index, "is not {ParameterKey, ParameterValue} nor Key=Value"
                )
    elif isinstance(doc, dict):
        params = doc["Parameters"] if isinstance(doc.get("Parameters"), dict) else doc
        items = list(params.items())
    else:
        raise InputError(path, "not a parameters file (expected a list or a mapping)")
    out: dict[str, str] = {}
    for key, value in items:
        if not isinstance(key, str):
            raise InputError(path, f"parameter name {key!r} is not a string")
        text = _parameter_text(value)
        if text is None:
            raise InputError(path, f"parameter '{key}' has a value that is not a string")
        out[key] = text
    return out


def _entry_error(path: str, doc: Any, index: int, what: str) -> InputError:
    lines = getattr(doc, "lines", None)
    where = f"line {lines[index]}" if lines else None
    return InputError(path, f"parameter entry {index + 1} {what}", where)


def _parameter_text(value: Any) -> str | None:
    """A parameter value as CloudFormation passes it: a string (lists comma-joined)."""
    if isinstance(value, list):
        parts = [_parameter_text(item) for item in value]
        return None if any(p is None for p in parts) else ",".join(p or "" for p in parts)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return None


# -- evaluation ------------------------------------------------------------------------------


def _line(container: Any, key: str | int) -> int | None:
    lines = getattr(container, "lines", None)
    if lines is None:
        return None
    if isinstance(lines, dict):
        return lines.get(key)
    return lines[key] if isinstance(key, int) and key < len(lines) else None


def _text(value: Any, what: str, line: int | None) -> str:
    """A resolved value inside a string (``Fn::Sub``, ``Fn::Join``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if value is None:
        return ""
    raise _Fail(f"{what}: expected a string, found {_kind(value)}", line)


def _kind(value: Any) -> str:
    if value is NO_VALUE:
        return "AWS::NoValue"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "null" if value is None else type(value).__name__


def _comparable(value: Any) -> Any:
    """A value as Fn::Equals compares it: CloudFormation compares strings."""
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


def _is_list_type(ptype: str) -> bool:
    return ptype == "CommaDelimitedList" or ptype.startswith("List<")


Intrinsic = Callable[["_Template", Any, "int | None"], Any]


class _Template:
    """One template being evaluated."""

    def __init__(
        self,
        path: str,
        doc: dict[str, Any],
        parameters: Mapping[str, str],
        region: str | None,
        account: str | None,
        partition: str | None,
    ) -> None:
        self.path = path
        self.doc = doc
        self.region = region
        self.account = account
        self.partition = partition
        self.notes: list[str] = []
        self.transform = doc.get("Transform")
        # A transform (SAM) adds resources the template can refer to: no unknown-name errors.
        self.lenient = self.transform is not None
        self.resources = self._section("Resources")
        self.mappings = self._section("Mappings")
        self.conditions = self._section("Conditions")
        self.pseudo: dict[str, Any] = {
            "AWS::Region": region or symbol("AWS::Region"),
            "AWS::AccountId": account or symbol("AWS::AccountId"),
            "AWS::Partition": partition or symbol("AWS::Partition"),
            "AWS::StackName": symbol("AWS::StackName"),
            "AWS::StackId": symbol("AWS::StackId"),
            "AWS::URLSuffix": symbol("AWS::URLSuffix"),
            "AWS::NotificationARNs": symbol("AWS::NotificationARNs"),
            "AWS::NoValue": NO_VALUE,
        }
        self.params = self._parameters(parameters)
        self.decided: dict[str, bool | None] = {}
        self.deciding: set[str] = set()

    def _section(self, name: str) -> dict[str, Any]:
        value = self.doc.get(name)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise _Fail(f"{name} must be a mapping, found {_kind(value)}", _line(self.doc, name))
        return value

    def _note(self, line: int | None, text: str) -> None:
        self.notes.append(f"{self.path}: line {line}: {text}" if line else f"{self.path}: {text}")

    def _parameters(self, given: Mapping[str, str]) -> dict[str, Any]:
        section = self._section("Parameters")
        values: dict[str, Any] = {}
        for name, spec in section.items():
            line = _line(section, name)
            if not isinstance(spec, dict) or not isinstance(spec.get("Type"), str):
                raise _Fail(f"parameter '{name}' must be a mapping with a Type", line)
            ptype = spec["Type"]
            value: Any
            if ptype.startswith(_SSM_PARAMETER):
                value = symbol(name)  # the value is in Parameter Store, the default its name
            elif name in given:
                value = given[name]
            elif "Default" in spec:
                value = _parameter_text(spec["Default"])
                if value is None:
                    raise _Fail(
                        f"parameter '{name}': Default must be a string", _line(spec, "Default")
                    )
            else:
                value = symbol(name)
            if _is_list_type(ptype) and not is_unknown(value):
                value = value.split(",") if value else []
            values[name] = value
        for name in given:
            if name not in section:
                self._note(None, f"parameter '{name}' is given but the template has none")
        return values

    # -- the file --------------------------------------------------------------------------

    def file(self) -> IacFile:
        if self.transform is not None:
            names = self.transform if isinstance(self.transform, list) else [self.transform]
            shown = ", ".join(n if isinstance(n, str) else "(a macro)" for n in names)
            self._note(
                _line(self.doc, "Transform"),
                f"Transform {shown} is not expanded; resources are read as written",
            )
        resources = []
        for logical, spec in self.resources.items():
            resource = self._resource(logical, spec, _line(self.resources, logical))
            if resource is not None:
                resources.append(resource)
        return IacFile(
            self.path,
            KIND,
            resources,
            region=self.region,
            account_id=self.account,
            partition=self.partition,
            notes=self.notes,
        )

    def _resource(self, logical: str, spec: Any, line: int | None) -> IacResource | None:
        if logical.startswith("Fn::ForEach::"):
            self._note(line, f"{logical} (AWS::LanguageExtensions) is not expanded")
            return None
        if not isinstance(spec, dict):
            raise _Fail(f"resource '{logical}' must be a mapping, found {_kind(spec)}", line)
        rtype = spec.get("Type")
        if not isinstance(rtype, str) or not rtype:
            raise _Fail(f"resource '{logical}' has no Type", line)
        condition = spec.get("Condition")
        if condition is not None:
            cond_line = _line(spec, "Condition")
            if not isinstance(condition, str):
                raise _Fail(f"resource '{logical}': Condition must be a name", cond_line)
            decided = self._condition(condition, cond_line)
            quiet = rtype == "AWS::CDK::Metadata"  # CDK's usage report: no note about it
            if decided is False:
                if not quiet:
                    self._note(
                        line, f"resource '{logical}' left out: condition '{condition}' is false"
                    )
                return None
            if decided is None and not quiet:
                self._note(
                    line,
                    f"resource '{logical}' kept: condition '{condition}' depends on deploy-time"
                    " values",
                )
        lines: dict[str, int] = {}
        src_lines = getattr(spec, "lines", None)
        if src_lines:
            lines.update(src_lines)
        properties = self._section_of(spec, "Properties", lines, logical)
        metadata = self._section_of(spec, "Metadata", lines, logical)
        return IacResource(
            address=logical,
            type=rtype,
            properties=properties,
            path=self.path,
            line=line,
            metadata=metadata,
            property_lines=lines,
        )

    def _section_of(
        self, spec: dict[str, Any], key: str, lines: dict[str, int], logical: str
    ) -> dict[str, Any]:
        if key not in spec:
            return {}
        value = self._value(spec[key], key, lines)
        if value is NO_VALUE or value is None:
            return {}
        if not isinstance(value, dict):
            if isinstance(value, str) and is_unknown(value):
                self._note(
                    _line(spec, key),
                    f"resource '{logical}': {key} is {value}, read as empty",
                )
                return {}
            raise _Fail(
                f"resource '{logical}': {key} must be a mapping, found {_kind(value)}",
                _line(spec, key),
            )
        return value

    # -- values ----------------------------------------------------------------------------

    def _value(self, value: Any, path: str | None = None, out: dict[str, int] | None = None) -> Any:
        """``value`` resolved; with ``path``, the line of each key and item goes into ``out``
        under its dotted path (``Properties.PolicyDocument.Statement.0.Resource``)."""
        if isinstance(value, dict):
            if len(value) == 1:
                key = next(iter(value))
                if key == "Ref" or key.startswith("Fn::"):
                    line = _line(value, key)
                    if key == "Fn::If":
                        return self._if(value[key], line, path, out)
                    function = _INTRINSICS.get(key)
                    if function is None:  # Fn::GetAZs, Fn::Transform, ...: deploy time knows
                        return symbol(key)
                    return function(self, value[key], line)
            result: dict[str, Any] = {}
            lines = getattr(value, "lines", None)
            for key, item in value.items():
                sub = None if path is None else f"{path}.{key}"
                resolved = self._value(item, sub, out)
                if resolved is NO_VALUE:
                    continue
                result[key] = resolved
                if sub is not None and out is not None and lines and key in lines:
                    out[sub] = lines[key]
            return result
        if isinstance(value, list):
            items: list[Any] = []
            item_lines = getattr(value, "lines", None)
            for index, item in enumerate(value):
                sub = None if path is None else f"{path}.{len(items)}"
                resolved = self._value(item, sub, out)
                if resolved is NO_VALUE:
                    continue
                items.append(resolved)
                if sub is not None and out is not None and item_lines:
                    out[sub] = item_lines[index]
            return items
        return value

    def _name(self, name: str, what: str, line: int | None) -> Any:
        """The value of a name in ``Ref`` or ``Fn::Sub``: parameter, pseudo parameter or
        resource (its physical id, a symbol)."""
        if name in self.params:
            return self.params[name]
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.resources or self.lenient:
            return symbol(name)
        raise _Fail(f"{what} to unknown name '{name}'", line)

    def _ref(self, arg: Any, line: int | None) -> Any:
        if not isinstance(arg, str):
            raise _Fail(f"Ref takes a name, found {_kind(arg)}", line)
        value = self._name(arg, "Ref", line)
        return list(value) if isinstance(value, list) else value

    def _get_att(self, arg: Any, line: int | None) -> Any:
        if isinstance(arg, str) and "." in arg:
            arg = arg.split(".", 1)
        if not (isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str)):
            raise _Fail("Fn::GetAtt takes [resource, attribute] or 'resource.attribute'", line)
        logical = arg[0]
        attribute = self._value(arg[1])
        if not isinstance(attribute, str) or not attribute:
            raise _Fail(
                f"Fn::GetAtt: the attribute must be a string, found {_kind(attribute)}", line
            )
        if logical not in self.resources and not self.lenient:
            raise _Fail(f"Fn::GetAtt of unknown resource '{logical}'", line)
        if is_unknown(attribute):
            return symbol("Fn::GetAtt")
        return symbol(f"{logical}.{attribute}")

    def _sub(self, arg: Any, line: int | None) -> Any:
        variables: dict[str, Any] = {}
        if isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], dict):
            template = arg[0]
            variables = {k: self._value(v) for k, v in arg[1].items()}
        else:
            template = arg
        if not isinstance(template, str):
            raise _Fail("Fn::Sub takes a string or [string, {variables}]", line)

        def replace(match: re.Match[str]) -> str:
            name = match.group(1).strip()
            if name.startswith("!"):
                return "${" + name[1:] + "}"  # ${!Literal} is written ${Literal}
            if not name:
                raise _Fail("Fn::Sub: empty ${}", line)
            if name in variables:
                value = variables[name]
            elif "." in name and name not in self.params and name not in self.pseudo:
                logical = name.split(".", 1)[0]
                if logical not in self.resources and not self.lenient:
                    raise _Fail(f"Fn::Sub refers to unknown resource '{logical}'", line)
                value = symbol(name)
            else:
                value = self._name(name, "Fn::Sub refers", line)
            return _text(value, f"Fn::Sub ${{{name}}}", line)

        return _SUB_VARIABLE.sub(replace, template)

    def _join(self, arg: Any, line: int | None) -> Any:
        if not (isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str)):
            raise _Fail("Fn::Join takes [delimiter, [values]]", line)
        items = self._value(arg[1])
        if isinstance(items, str) and is_unknown(items):
            return symbol("Fn::Join")  # a list only deploy time knows
        if not isinstance(items, list):
            raise _Fail(f"Fn::Join: expected a list of values, found {_kind(items)}", line)
        return arg[0].join(_text(item, "Fn::Join", line) for item in items)

    def _if(self, arg: Any, line: int | None, path: str | None, out: dict[str, int] | None) -> Any:
        if not (isinstance(arg, list) and len(arg) == 3 and isinstance(arg[0], str)):
            raise _Fail("Fn::If takes [condition, value if true, value if false]", line)
        decided = self._condition(arg[0], line)
        if decided is not None:
            return self._value(arg[1] if decided else arg[2], path, out)
        # Undecidable; still known when both branches agree. A branch deploy time may not
        # take need not be valid (a FindInMap key only that case has): no error from it.
        lines: dict[str, int] | None = {} if out is not None else None
        try:
            when_true = self._value(arg[1], path, lines)
            agree = when_true == self._value(arg[2])
        except _Fail:
            agree = False
        if agree:
            if out is not None and lines:
                out.update(lines)
            return when_true
        return symbol(f"Fn::If:{arg[0]}")

    def _select(self, arg: Any, line: int | None) -> Any:
        if not (isinstance(arg, list) and len(arg) == 2):
            raise _Fail("Fn::Select takes [index, list]", line)
        index = self._value(arg[0])
        items = self._value(arg[1])
        if isinstance(index, str) and is_unknown(index):
            return symbol("Fn::Select")
        if isinstance(index, str) and index.isdigit():
            index = int(index)
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            raise _Fail(f"Fn::Select: the index must be a number, found {index!r}", line)
        if isinstance(items, str) and is_unknown(items):
            return symbol("Fn::Select")
        if not isinstance(items, list):
            raise _Fail(f"Fn::Select: expected a list, found {_kind(items)}", line)
        if index >= len(items):
            raise _Fail(f"Fn::Select: index {index} is out of range ({len(items)} items)", line)
        return items[index]

    def _split(self, arg: Any, line: int | None) -> Any:
        if not (isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str) and arg[0]):
            raise _Fail("Fn::Split takes [delimiter, string]", line)
        source = self._value(arg[1])
        if isinstance(source, str) and is_unknown(source):
            return symbol("Fn::Split")
        return _text(source, "Fn::Split", line).split(arg[0])

    def _find_in_map(self, arg: Any, line: int | None) -> Any:
        if not (isinstance(arg, list) and len(arg) in (3, 4)):
            raise _Fail("Fn::FindInMap takes [map, top-level key, second-level key]", line)
        default: Any = NO_VALUE
        if len(arg) == 4:
            option = arg[3]
            if not (isinstance(option, dict) and set(option) == {"DefaultValue"}):
                raise _Fail("Fn::FindInMap: the fourth item must be {DefaultValue: ...}", line)
            default = self._value(option["DefaultValue"])
        keys = [self._value(a) for a in arg[:3]]
        for key in keys:
            if isinstance(key, dict | list) or key is NO_VALUE:
                raise _Fail(f"Fn::FindInMap: a key must be a string, found {_kind(key)}", line)
        name, top, second = (_text(k, "Fn::FindInMap", line) for k in keys)
        if is_unknown(name):
            return symbol("Fn::FindInMap")
        mapping = self.mappings.get(name)
        if not isinstance(mapping, dict):
            raise _Fail(f"Fn::FindInMap: no mapping '{name}'", line)
        # A key only deploy time knows is one of the mapping's keys: when every candidate
        # gives the same value, that is the value.
        found = []
        for top_key in list(mapping) if is_unknown(top) else [top]:
            level = mapping.get(top_key)
            if not isinstance(level, dict):
                continue
            for second_key in list(level) if is_unknown(second) else [second]:
                if second_key in level:
                    found.append(level[second_key])
        if not is_unknown(top) and not is_unknown(second):
            if found:
                return self._value(found[0])
            if default is not NO_VALUE:
                return default
            raise _Fail(f"Fn::FindInMap: mapping '{name}' has no [{top}][{second}]", line)
        if found and all(f == found[0] for f in found):
            return self._value(found[0])
        return symbol("Fn::FindInMap")

    def _import_value(self, arg: Any, line: int | None) -> Any:
        name = _text(self._value(arg), "Fn::ImportValue", line)
        # Symbols inside the export name lose their braces: a symbol cannot nest.
        return symbol("Fn::ImportValue:" + SYMBOL.sub(lambda m: m.group(1), name))

    def _base64(self, arg: Any, line: int | None) -> Any:
        value = self._value(arg)
        if isinstance(value, str) and not is_unknown(value):
            return base64.b64encode(value.encode()).decode("ascii")
        return symbol("Fn::Base64")

    def _cidr(self, arg: Any, line: int | None) -> Any:
        if not (isinstance(arg, list) and len(arg) == 3):
            raise _Fail("Fn::Cidr takes [ipBlock, count, cidrBits]", line)
        block, count, bits = (self._value(a) for a in arg)
        if any(isinstance(v, str) and is_unknown(v) for v in (block, count, bits)):
            return symbol("Fn::Cidr")
        try:
            network = ipaddress.ip_network(str(block), strict=False)
            wanted, host_bits = int(count), int(bits)
            subnets = [
                str(n)
                for n in islice(
                    network.subnets(new_prefix=network.max_prefixlen - host_bits), wanted
                )
            ]
        except ValueError as exc:
            raise _Fail(f"Fn::Cidr: {exc}", line) from None
        if len(subnets) < wanted:
            raise _Fail(f"Fn::Cidr: {block} holds fewer than {wanted} such blocks", line)
        return subnets

    def _length(self, arg: Any, line: int | None) -> Any:
        value = self._value(arg)
        return len(value) if isinstance(value, list) else symbol("Fn::Length")

    def _to_json_string(self, arg: Any, line: int | None) -> Any:
        value = self._value(arg)
        if is_unknown(value):
            return symbol("Fn::ToJsonString")
        return json.dumps(value, separators=(",", ":"))

    # -- conditions ------------------------------------------------------------------------

    def _condition(self, name: str, line: int | None) -> bool | None:
        """A named condition: True, False, or None when only deploy time can tell."""
        if name in self.decided:
            return self.decided[name]
        if name not in self.conditions:
            raise _Fail(f"unknown condition '{name}'", line)
        if name in self.deciding:
            raise _Fail(f"condition '{name}' depends on itself", line)
        self.deciding.add(name)
        result = self._decide(self.conditions[name], _line(self.conditions, name))
        self.deciding.discard(name)
        self.decided[name] = result
        return result

    def _decide(self, value: Any, line: int | None) -> bool | None:
        if not (isinstance(value, dict) and len(value) == 1):
            raise _Fail(
                "a condition must be Fn::Equals, Fn::And, Fn::Or, Fn::Not or Condition", line
            )
        key, arg = next(iter(value.items()))
        line = _line(value, key) or line
        if key == "Condition":
            if not isinstance(arg, str):
                raise _Fail("Condition takes a condition name", line)
            return self._condition(arg, line)
        if key == "Fn::Equals":
            if not (isinstance(arg, list) and len(arg) == 2):
                raise _Fail("Fn::Equals takes [value, value]", line)
            left, right = self._value(arg[0]), self._value(arg[1])
            if is_unknown(left) or is_unknown(right):
                return None
            return bool(_comparable(left) == _comparable(right))
        if key == "Fn::Not":
            if not (isinstance(arg, list) and len(arg) == 1):
                raise _Fail("Fn::Not takes [condition]", line)
            inner = self._decide(arg[0], line)
            return None if inner is None else not inner
        if key in ("Fn::And", "Fn::Or"):
            if not (isinstance(arg, list) and 2 <= len(arg) <= 10):
                raise _Fail(f"{key} takes 2 to 10 conditions", line)
            results = [self._decide(item, line) for item in arg]
            stop: bool = key == "Fn::Or"  # the value that decides alone
            if stop in results:
                return stop
            return None if None in results else not stop
        raise _Fail(f"{key} is not a condition function", line)


_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


_INTRINSICS: dict[str, Intrinsic] = {
    "Ref": _Template._ref,
    "Fn::GetAtt": _Template._get_att,
    "Fn::Sub": _Template._sub,
    "Fn::Join": _Template._join,
    "Fn::Select": _Template._select,
    "Fn::Split": _Template._split,
    "Fn::FindInMap": _Template._find_in_map,
    "Fn::ImportValue": _Template._import_value,
    "Fn::Base64": _Template._base64,
    "Fn::Cidr": _Template._cidr,
    "Fn::Length": _Template._length,
    "Fn::ToJsonString": _Template._to_json_string,
}
