"""What the platform asks for in a clarification: `clarification_fields` → dotted paths."""

from __future__ import annotations

from typing import Any


def clarification_paths(fields: Any) -> list[str]:
    """The dotted paths (`card.pan`) the platform asks for, sorted and unique.

    ASSUMPTION: the format of the clarification request is not in the provider documents we
    have (endpoint and body format unknown). Accepted, in this order: a JSON-schema-like object
    (`properties`, nested → the leaf properties; only `required` → those names), a plain nested
    object (its leaves), a list of names, a single name. Anything else → `[]`."""
    if isinstance(fields, dict):
        found = _schema_paths(fields) if _is_schema(fields) else _leaves(fields, "")
    elif isinstance(fields, list):
        found = [name.strip() for name in fields if isinstance(name, str)]
    elif isinstance(fields, str):
        found = [fields.strip()]
    else:
        found = []
    return sorted({path for path in found if path})


def _is_schema(value: dict[str, Any]) -> bool:
    return isinstance(value.get("properties"), dict) or (
        value.get("type") == "object" and isinstance(value.get("required"), list)
    )


def _schema_paths(schema: dict[str, Any]) -> list[str]:
    found = _schema_leaves(schema, "")
    if not found:  # no properties: the required names are all it says
        found = [name for name in schema.get("required") or [] if isinstance(name, str)]
    return found


def _schema_leaves(schema: dict[str, Any], prefix: str) -> list[str]:
    properties = schema.get("properties")
    if not isinstance(properties, dict) or not properties:
        return [prefix] if prefix else []
    found: list[str] = []
    for name, child in properties.items():
        path = f"{prefix}.{name}" if prefix else str(name)
        found += _schema_leaves(child, path) if isinstance(child, dict) else [path]
    return found


def _leaves(value: dict[str, Any], prefix: str) -> list[str]:
    found: list[str] = []
    for name, child in value.items():
        path = f"{prefix}.{name}" if prefix else str(name)
        found += _leaves(child, path) if isinstance(child, dict) and child else [path]
    return found
