"""The official ARI definitions (Swagger 1.1 ``*.json``) as a checker for requests and events.

The fake ARI server (:mod:`autoinformer.testing.fake_ari`) passes every request it receives and
every event it sends through :class:`AriSpec`, so the backend cannot drift from what a real
Asterisk accepts (an operation that does not exist, a misspelt or missing parameter, a value
of the wrong type) and the fake cannot invent event fields Asterisk never sends.

The definitions are Asterisk's own ``rest-api/api-docs/*.json`` (ARI 2.0.0, Asterisk 22); a
copy ships in ``autoinformer/testing/ari_reference/`` (:func:`bundled_reference_dir`), and
:meth:`AriSpec.load` takes any directory of them (e.g. a newer Asterisk's).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import attrs

__all__ = ["AriSpec", "Operation", "Parameter", "bundled_reference_dir"]

_GLOBAL_QUERY = frozenset({"api_key"})
_LIST = re.compile(r"^List\[(.+)\]$")


def bundled_reference_dir() -> Path:
    """The copy of the ARI definitions shipped with this package."""
    return Path(str(resources.files("autoinformer.testing") / "ari_reference"))


@attrs.frozen
class Parameter:
    """One parameter of an operation (``paramType`` path, query or body)."""

    name: str
    kind: str
    required: bool
    data_type: str
    allow_multiple: bool = False
    allowed: tuple[str, ...] | None = None


@attrs.frozen
class Operation:
    """One ARI operation: method, path template (relative to ``/ari``) and parameters."""

    method: str
    path: str
    nickname: str
    parameters: tuple[Parameter, ...]
    pattern: re.Pattern[str] = attrs.field(eq=False, repr=False)

    def parameter(self, name: str) -> Parameter | None:
        """The parameter called ``name`` (None if the operation has none)."""
        return next((p for p in self.parameters if p.name == name), None)


def _scalar_ok(data_type: str, value: str) -> bool:
    if data_type in ("int", "long"):
        return re.fullmatch(r"-?\d+", value) is not None
    if data_type == "double":
        try:
            float(value)
        except ValueError:
            return False
        return True
    if data_type == "boolean":
        return value in ("true", "false")
    return True


@attrs.define(kw_only=True)
class AriSpec:
    """The operations and models of one set of ARI definitions."""

    operations: list[Operation]
    models: dict[str, Mapping[str, Any]]
    _cache: dict[str, dict[str, Mapping[str, Any]]] = attrs.field(init=False, factory=dict)

    @classmethod
    def load(cls, directory: Path | str | None = None) -> AriSpec:
        """Read every ``*.json`` resource in ``directory`` (default: the bundled copy).

        Raises:
            FileNotFoundError: the directory holds no ARI definitions.
        """
        folder = Path(directory) if directory is not None else bundled_reference_dir()
        files = sorted(folder.glob("*.json"))
        if not files:
            raise FileNotFoundError(f"no ARI definitions (*.json) in {folder}")
        operations: list[Operation] = []
        models: dict[str, Mapping[str, Any]] = {}
        for file in files:
            data = json.loads(file.read_text(encoding="utf-8"))
            models.update(data.get("models", {}))
            for api in data.get("apis", []):
                path = api["path"]
                regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path))
                for op in api.get("operations", []):
                    params = tuple(
                        Parameter(
                            name=p["name"],
                            kind=p["paramType"],
                            required=bool(p.get("required", False)),
                            data_type=p.get("dataType", "string"),
                            allow_multiple=bool(p.get("allowMultiple", False)),
                            allowed=tuple(p["allowableValues"]["values"])
                            if p.get("allowableValues", {}).get("valueType") == "LIST"
                            else None,
                        )
                        for p in op.get("parameters", [])
                    )
                    operations.append(
                        Operation(
                            method=op["httpMethod"].upper(),
                            path=path,
                            nickname=op["nickname"],
                            parameters=params,
                            pattern=re.compile(f"^{regex}$"),
                        )
                    )
        # Literal paths first, so /channels/create is not read as /channels/{channelId}.
        operations.sort(key=lambda o: o.path.count("{"))
        return cls(operations=operations, models=models)

    def match(self, method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
        """The operation for ``method`` and ``path`` (relative to ``/ari``) and its path values."""
        for op in self.operations:
            if op.method != method.upper():
                continue
            found = op.pattern.match(path)
            if found is not None:
                return op, found.groupdict()
        return None

    def check_request(
        self,
        op: Operation,
        query: Sequence[tuple[str, str]],
        body: Any,
    ) -> list[str]:
        """Problems with a request for ``op``: unknown or missing parameters, wrong types."""
        problems: list[str] = []
        where = f"{op.method} {op.path} ({op.nickname})"
        seen: dict[str, list[str]] = {}
        for name, value in query:
            seen.setdefault(name, []).append(value)
        for name, values in seen.items():
            if name in _GLOBAL_QUERY:
                continue
            param = op.parameter(name)
            if param is None or param.kind not in ("query", "body"):
                problems.append(f"{where}: unknown query parameter {name!r}")
                continue
            if len(values) > 1 and not param.allow_multiple:
                problems.append(f"{where}: {name!r} given {len(values)} times")
            items = [
                v
                for value in values
                for v in (value.split(",") if param.allow_multiple else [value])
            ]
            for item in items:
                if param.kind == "query" and not _scalar_ok(param.data_type, item):
                    problems.append(f"{where}: {name}={item!r} is not a {param.data_type}")
                if param.allowed is not None and item not in param.allowed:
                    problems.append(f"{where}: {name}={item!r} not one of {list(param.allowed)}")
        body_params = [p for p in op.parameters if p.kind == "body"]
        body_fields: Mapping[str, Any] = body if isinstance(body, Mapping) else {}
        if body is not None and not isinstance(body, Mapping):
            problems.append(f"{where}: the JSON body should be an object")
        elif body is not None and not body_params:
            problems.append(f"{where}: takes no body")
        for param in body_params:
            # Asterisk hands the whole body to the body parameter. A ``containers`` one
            # (channel variables) is read from the key of its own name, e.g.
            # {"variables": {"A": "1"}}; an ``object`` one (an event filter) is free-form.
            if param.data_type != "containers":
                continue
            for name, value in body_fields.items():
                if name != param.name:
                    problems.append(f"{where}: unknown body field {name!r}")
                elif not (
                    isinstance(value, Mapping) and all(isinstance(v, str) for v in value.values())
                ):
                    problems.append(f"{where}: {name!r} should be an object of strings")
        for param in op.parameters:
            missing = param.name not in seen and param.name not in body_fields
            if param.required and param.kind == "query" and missing:
                problems.append(f"{where}: required parameter {param.name!r} missing")
            if param.required and param.kind == "body" and body is None:
                problems.append(f"{where}: required body {param.name!r} missing")
        return problems

    # --- models -----------------------------------------------------------------------------

    def _properties(self, name: str) -> dict[str, Mapping[str, Any]]:
        """Properties of model ``name`` including those of the models it extends."""
        cached = self._cache.get(name)
        if cached is not None:
            return cached
        props: dict[str, Mapping[str, Any]] = {}
        for parent_name, parent in self.models.items():
            if name in parent.get("subTypes", []) and parent_name != name:
                props.update(self._properties(parent_name))
        props.update(self.models[name].get("properties", {}))
        self._cache[name] = props
        return props

    def check_model(self, name: str, value: Any, where: str = "") -> list[str]:
        """Problems with ``value`` as an instance of model (or type) ``name``."""
        where = where or name
        listed = _LIST.match(name)
        if listed is not None:
            if not isinstance(value, list):
                return [f"{where}: expected a list"]
            return [
                p
                for i, v in enumerate(value)
                for p in self.check_model(listed[1], v, f"{where}[{i}]")
            ]
        simple: dict[str, type | tuple[type, ...]] = {
            "string": str,
            "Date": str,
            "int": int,
            "long": int,
            "double": (int, float),
            "boolean": bool,
            "object": dict,
        }
        if name in simple:
            ok = isinstance(value, simple[name]) and not (
                name in ("int", "long") and isinstance(value, bool)
            )
            return [] if ok else [f"{where}: expected {name}, got {value!r}"]
        if name not in self.models:
            return [f"{where}: unknown model {name!r}"]
        if not isinstance(value, Mapping):
            return [f"{where}: expected a {name} object"]
        props = self._properties(name)
        problems: list[str] = []
        for key, item in value.items():
            prop = props.get(key)
            if prop is None:
                problems.append(f"{where}: field {key!r} is not in the {name} model")
                continue
            problems.extend(self.check_model(prop.get("type", "object"), item, f"{where}.{key}"))
            allowed = prop.get("allowableValues", {})
            if allowed.get("valueType") == "LIST" and item not in allowed.get("values", []):
                problems.append(f"{where}.{key}: {item!r} not one of {allowed['values']}")
        for key, prop in props.items():
            if prop.get("required") and key not in value:
                problems.append(f"{where}: required field {key!r} missing")
        return problems

    def check_event(self, event: Mapping[str, Any]) -> list[str]:
        """Problems with a WebSocket event against its model in ``events.json``."""
        kind = event.get("type")
        if not isinstance(kind, str) or kind not in self.models:
            return [f"event type {kind!r} is not an ARI event model"]
        return self.check_model(kind, event, kind)
