"""Read a SAM / CloudFormation template and resolve its intrinsic functions.

The loader understands the short intrinsic tags (``!Ref``, ``!Sub``, ``!GetAtt``, ``!If`` ...) and turns
them into their long form (``{"Ref": ...}``, ``{"Fn::Sub": ...}``), as CloudFormation does. The
:class:`Resolver` then evaluates a value against parameters (with their defaults, overridable),
pseudo parameters, conditions, mappings and the physical ids that provisioning recorded.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "NO_VALUE",
    "PhysicalResource",
    "Resolver",
    "Template",
    "TemplateError",
    "UnresolvedReferenceError",
    "load_yaml",
    "merge_globals",
    "scalar_to_string",
    "truthy",
]

SERVERLESS_FUNCTION = "AWS::Serverless::Function"


class TemplateError(ValueError):
    """The template says something this tool cannot evaluate."""


class UnresolvedReferenceError(TemplateError):
    """A Ref / GetAtt / Sub names a resource that has no physical id (yet)."""

    def __init__(self, logical_id: str, attribute: str | None = None) -> None:
        self.logical_id = logical_id
        self.attribute = attribute
        target = f"{logical_id}.{attribute}" if attribute else logical_id
        super().__init__(f"no physical value for {target}")


class _NoValue:
    """``AWS::NoValue``: removes the property (or list item) that resolves to it."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()

# ---------------------------------------------------------------------------------------------
# YAML
# ---------------------------------------------------------------------------------------------

_SHORT_TAGS = {
    "Ref": "Ref",
    "Condition": "Condition",
    "GetAtt": "Fn::GetAtt",
    "Sub": "Fn::Sub",
    "If": "Fn::If",
    "Equals": "Fn::Equals",
    "Not": "Fn::Not",
    "And": "Fn::And",
    "Or": "Fn::Or",
    "Join": "Fn::Join",
    "Select": "Fn::Select",
    "Split": "Fn::Split",
    "FindInMap": "Fn::FindInMap",
    "Base64": "Fn::Base64",
    "GetAZs": "Fn::GetAZs",
    "ImportValue": "Fn::ImportValue",
    "Cidr": "Fn::Cidr",
    "Length": "Fn::Length",
    "ToJsonString": "Fn::ToJsonString",
    "Transform": "Fn::Transform",
}


_SafeLoader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present


class TemplateLoader(_SafeLoader):
    """YAML's safe loader (libyaml's when installed) that accepts CloudFormation's short intrinsic tags."""


def _construct_intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    key = _SHORT_TAGS[tag_suffix]
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if key == "Fn::GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {key: value}


for _tag in _SHORT_TAGS:
    TemplateLoader.add_constructor(f"!{_tag}", lambda loader, node, _t=_tag: _construct_intrinsic(loader, _t, node))


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Parse a template file (YAML or JSON) into plain dicts with long-form intrinsics."""
    with Path(path).open(encoding="utf-8") as handle:
        document = yaml.load(handle, Loader=TemplateLoader)  # noqa: S506 - a safe loader (SafeConstructor)
    if not isinstance(document, dict) or "Resources" not in document:
        raise TemplateError(f"{path} is not a CloudFormation template (no Resources)")
    return document


# ---------------------------------------------------------------------------------------------
# Template model
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    """A parsed template and where it lives (CodeUri paths are relative to its directory)."""

    path: Path
    document: dict[str, Any]

    @classmethod
    def load(cls, path: str | Path) -> Template:
        resolved = Path(path).resolve()
        return cls(resolved, load_yaml(resolved))

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    @property
    def parameters(self) -> dict[str, dict[str, Any]]:
        return self.document.get("Parameters") or {}

    @property
    def conditions(self) -> dict[str, Any]:
        return self.document.get("Conditions") or {}

    @property
    def mappings(self) -> dict[str, Any]:
        return self.document.get("Mappings") or {}

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.document.get("Resources") or {}

    @property
    def outputs(self) -> dict[str, dict[str, Any]]:
        return self.document.get("Outputs") or {}

    @property
    def function_globals(self) -> dict[str, Any]:
        return (self.document.get("Globals") or {}).get("Function") or {}

    def resources_of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {lid: res for lid, res in self.resources.items() if res.get("Type") == resource_type}

    def function_properties(self, logical_id: str) -> dict[str, Any]:
        """A function's properties with ``Globals.Function`` merged in, as SAM does."""
        props = self.resources[logical_id].get("Properties") or {}
        return merge_globals(self.function_globals, props)

    def parameter_values(self, overrides: Mapping[str, str] | None = None) -> dict[str, Any]:
        """Every parameter's value: the caller's override, else its Default."""
        overrides = dict(overrides or {})
        unknown = set(overrides) - set(self.parameters)
        if unknown:
            raise TemplateError(f"unknown parameter(s): {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {}
        for name, spec in self.parameters.items():
            if name in overrides:
                raw: Any = overrides[name]
            elif "Default" in spec:
                raw = spec["Default"]
            else:
                raise TemplateError(f"parameter {name} has no Default: pass it explicitly")
            values[name] = _parameter_value(spec.get("Type", "String"), raw)
            _check_parameter(name, spec, values[name])
        return values


def _check_parameter(name: str, spec: dict[str, Any], value: Any) -> None:
    """CloudFormation's AllowedValues / AllowedPattern checks, so a bad override fails as a deploy would."""
    allowed = spec.get("AllowedValues")
    if allowed is not None and value not in [scalar_to_string(option) for option in allowed]:
        raise TemplateError(f"parameter {name}={value!r} is not one of {allowed}")
    pattern = spec.get("AllowedPattern")
    if pattern is not None and isinstance(value, str) and not re.fullmatch(pattern, value):
        raise TemplateError(f"parameter {name}={value!r} does not match {pattern}")


def _parameter_value(param_type: str, raw: Any) -> Any:
    if param_type.startswith("List<") or param_type == "CommaDelimitedList":
        if isinstance(raw, list):
            return [str(item) for item in raw]
        return [item.strip() for item in str(raw).split(",")] if str(raw) else []
    return scalar_to_string(raw)


def scalar_to_string(value: Any) -> str:
    """CloudFormation's view of a scalar: booleans become ``true``/``false``, numbers their text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def truthy(value: Any) -> bool:
    """CloudFormation's view of a boolean: ``true`` in any case (a string), or a truthy value."""
    return value.lower() == "true" if isinstance(value, str) else bool(value)


def merge_globals(global_props: Mapping[str, Any], props: Mapping[str, Any]) -> dict[str, Any]:
    """SAM's Globals rules: maps merge (resource wins), lists concatenate, scalars are overridden."""
    merged: dict[str, Any] = dict(global_props)
    for key, value in props.items():
        base = merged.get(key)
        if isinstance(base, dict) and isinstance(value, dict) and not _is_intrinsic(value):
            merged[key] = merge_globals(base, value)
        elif isinstance(base, list) and isinstance(value, list):
            merged[key] = [*base, *value]
        else:
            merged[key] = value
    return merged


def _is_intrinsic(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in _INTRINSIC_KEYS


_INTRINSIC_KEYS = {"Ref", "Condition", *(_SHORT_TAGS.values())}


# ---------------------------------------------------------------------------------------------
# Resolution
# ---------------------------------------------------------------------------------------------

_SUB_VARIABLE = re.compile(r"\$\{(?!!)([^}]+)\}")


@dataclass
class PhysicalResource:
    """What a logical id became: the value of its Ref and of its GetAtt attributes."""

    logical_id: str
    resource_type: str
    ref: str
    attributes: dict[str, Any] = field(default_factory=dict)

    def get_att(self, attribute: str) -> Any:
        if attribute in self.attributes:
            return self.attributes[attribute]
        raise UnresolvedReferenceError(self.logical_id, attribute)


PSEUDO_PARAMETERS = (
    "AWS::Region",
    "AWS::AccountId",
    "AWS::Partition",
    "AWS::URLSuffix",
    "AWS::StackName",
    "AWS::StackId",
    "AWS::NotificationARNs",
    "AWS::NoValue",
)


@dataclass
class Resolver:
    """Evaluates intrinsic functions against parameters, conditions and physical resources."""

    template: Template
    parameters: dict[str, Any]
    region: str
    account_id: str
    stack_name: str
    physical: dict[str, PhysicalResource] = field(default_factory=dict)
    _conditions: dict[str, bool] = field(default_factory=dict)

    # ----- public -----------------------------------------------------------------------------

    def resolve(self, value: Any) -> Any:
        """Resolve every intrinsic inside ``value``; ``AWS::NoValue`` entries are dropped."""
        if isinstance(value, dict):
            if len(value) == 1:
                key, arg = next(iter(value.items()))
                handler = self._functions().get(key)
                if handler is not None:
                    return handler(arg)
            resolved = {k: self.resolve(v) for k, v in value.items()}
            return {k: v for k, v in resolved.items() if v is not NO_VALUE}
        if isinstance(value, list):
            items = [self.resolve(item) for item in value]
            return [item for item in items if item is not NO_VALUE]
        return value

    def condition(self, name: str) -> bool:
        """The value of a named condition from the template's Conditions section."""
        if name not in self._conditions:
            if name not in self.template.conditions:
                raise TemplateError(f"unknown condition {name}")
            self._conditions[name] = bool(self._truth(self.template.conditions[name]))
        return self._conditions[name]

    def pseudo(self, name: str) -> Any:
        values: dict[str, Any] = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": self.stack_name,
            "AWS::StackId": (
                f"arn:aws:cloudformation:{self.region}:{self.account_id}:stack/{self.stack_name}/"
                "00000000-0000-0000-0000-000000000000"
            ),
            "AWS::NotificationARNs": [],
            "AWS::NoValue": NO_VALUE,
        }
        return values[name]

    # ----- intrinsic functions ----------------------------------------------------------------

    def _functions(self) -> dict[str, Callable[[Any], Any]]:
        return {
            "Ref": self._ref,
            "Fn::GetAtt": self._get_att,
            "Fn::Sub": self._sub,
            "Fn::If": self._if,
            "Fn::Equals": self._equals,
            "Fn::Not": self._not,
            "Fn::And": lambda arg: all(self._truth(c) for c in arg),
            "Fn::Or": lambda arg: any(self._truth(c) for c in arg),
            "Condition": self.condition,
            "Fn::Join": self._join,
            "Fn::Select": self._select,
            "Fn::Split": self._split,
            "Fn::FindInMap": self._find_in_map,
            "Fn::Base64": lambda arg: base64.b64encode(str(self.resolve(arg)).encode()).decode(),
            "Fn::GetAZs": lambda _arg: [f"{self.region}{zone}" for zone in "abc"],
            "Fn::Length": lambda arg: len(self.resolve(arg)),
            "Fn::ToJsonString": lambda arg: json.dumps(self.resolve(arg), separators=(",", ":")),
            "Fn::ImportValue": self._unsupported("Fn::ImportValue"),
            "Fn::Cidr": self._unsupported("Fn::Cidr"),
            "Fn::Transform": self._unsupported("Fn::Transform"),
        }

    @staticmethod
    def _unsupported(name: str) -> Callable[[Any], Any]:
        def fail(_arg: Any) -> Any:
            raise TemplateError(f"{name} is not supported by the local stack")

        return fail

    def _ref(self, name: Any) -> Any:
        name = self.resolve(name)
        if name in PSEUDO_PARAMETERS:
            return self.pseudo(name)
        if name in self.parameters:
            return self.parameters[name]
        if name in self.physical:
            return self.physical[name].ref
        if name in self.template.resources:
            raise UnresolvedReferenceError(name)
        raise TemplateError(f"Ref to unknown name {name!r}")

    def _get_att(self, arg: Any) -> Any:
        arg = self.resolve(arg)
        logical_id, attribute = arg if isinstance(arg, list) else str(arg).split(".", 1)
        if logical_id not in self.physical:
            if logical_id in self.template.resources:
                raise UnresolvedReferenceError(logical_id, attribute)
            raise TemplateError(f"GetAtt of unknown resource {logical_id!r}")
        return self.physical[logical_id].get_att(attribute)

    def _sub(self, arg: Any) -> str:
        if isinstance(arg, list):
            text, variables = arg[0], {k: self.resolve(v) for k, v in (arg[1] if len(arg) > 1 else {}).items()}
        else:
            text, variables = arg, {}
        if not isinstance(text, str):
            raise TemplateError(f"Fn::Sub needs a string, got {text!r}")

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return _to_text(variables[name])
            if "." in name and name.split(".", 1)[0] in self.template.resources:
                return _to_text(self._get_att(name.split(".", 1)))
            return _to_text(self._ref(name))

        substituted = _SUB_VARIABLE.sub(replace, text)
        return substituted.replace("${!", "${")

    def _if(self, arg: Any) -> Any:
        name, when_true, when_false = arg
        return self.resolve(when_true if self.condition(name) else when_false)

    def _equals(self, arg: Any) -> bool:
        left, right = (self.resolve(item) for item in arg)
        return _to_text(left) == _to_text(right)

    def _not(self, arg: Any) -> bool:
        (inner,) = arg
        return not self._truth(inner)

    def _truth(self, value: Any) -> bool:
        return truthy(self.resolve(value))

    def _join(self, arg: Any) -> str:
        delimiter, items = arg
        resolved = self.resolve(items)
        return str(delimiter).join(_to_text(item) for item in resolved)

    def _select(self, arg: Any) -> Any:
        index, items = arg
        return self.resolve(items)[int(self.resolve(index))]

    def _split(self, arg: Any) -> list[str]:
        delimiter, text = arg
        return str(self.resolve(text)).split(str(delimiter))

    def _find_in_map(self, arg: Any) -> Any:
        map_name, top, second = (self.resolve(item) for item in arg)
        try:
            return self.template.mappings[map_name][top][second]
        except KeyError as error:
            raise TemplateError(f"Fn::FindInMap: no {map_name}/{top}/{second}") from error


def _to_text(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(_to_text(item) for item in value)
    return scalar_to_string(value)
