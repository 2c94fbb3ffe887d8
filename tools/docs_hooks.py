"""mkdocs hook (mkdocs.yml `hooks:`): renders docs/openapi.json into the API page at build time.

A page that holds the marker `<!-- openapi:operations -->` gets, in its place, every operation
of the document grouped by tag (method, path, summary, request body, answers) and every
request and response model with its fields. Read from the checked-in file only: the build
needs no network and no running gateway.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = ROOT / "docs" / "openapi.json"
MARKER = "<!-- openapi:operations -->"
METHODS = ("get", "post", "put", "patch", "delete")


def _cell(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _ref_name(schema: dict[str, Any]) -> str:
    ref = schema.get("$ref", "")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else ""


def _type_of(schema: dict[str, Any]) -> str:
    if name := _ref_name(schema):
        return f"[{name}](#{name.lower()})"
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return " or ".join(_type_of(option) for option in schema[key])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"array of {_type_of(schema.get('items', {}))}"
    if "enum" in schema:
        return " \\| ".join(f"`{value}`" for value in schema["enum"])
    if "const" in schema:
        return f"`{schema['const']}`"
    return str(kind)


def _body(operation: dict[str, Any]) -> str:
    content = operation.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema", {})
    return _type_of(schema) if schema else ""


def _answers(operation: dict[str, Any]) -> str:
    codes = sorted(operation.get("responses", {}))
    return ", ".join(codes)


def operations(document: dict[str, Any]) -> str:
    """Every operation, grouped by its first tag in the order the tags first appear."""
    groups: dict[str, list[str]] = {}
    for path, item in document["paths"].items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            tag = (operation.get("tags") or ["other"])[0]
            summary = _cell(operation.get("summary", ""))
            description = _cell(operation.get("description", ""))
            what = f"{summary}. {description}" if description else summary
            row = (
                f"| `{method.upper()} {path}` | {what} | {_body(operation)} "
                f"| {_answers(operation)} |"
            )
            groups.setdefault(tag, []).append(row)
    parts = []
    for tag, rows in groups.items():
        parts.append(
            f"### {tag.capitalize()}\n\n| operation | what | body | answers |\n|---|---|---|---|\n"
            + "\n".join(rows)
        )
    return "\n\n".join(parts)


def models(document: dict[str, Any]) -> str:
    """Every component schema as a table of its fields (an enum as its values)."""
    parts = []
    for name, schema in sorted(document.get("components", {}).get("schemas", {}).items()):
        lines = [f"### {name}"]
        if description := schema.get("description"):
            lines.append(_cell(description))
        properties: dict[str, Any] = schema.get("properties", {})
        required = set(schema.get("required", []))
        if properties:
            lines.append("| field | type | required | meaning |\n|---|---|---|---|")
            lines.extend(
                f"| `{field}` | {_type_of(spec)} | {'yes' if field in required else ''} "
                f"| {_cell(spec.get('description', ''))} |"
                for field, spec in properties.items()
            )
        elif "enum" in schema:
            lines.append("One of " + ", ".join(f"`{value}`" for value in schema["enum"]) + ".")
        parts.append("\n\n".join(lines))
    return "\n\n".join(parts)


def render(document: dict[str, Any]) -> str:
    info = document.get("info", {})
    return (
        f"{_cell(info.get('description', ''))}\n\n"
        f"## Every operation\n\n{operations(document)}\n\n## Every model\n\n{models(document)}\n"
    )


def on_page_markdown(markdown: str, **_: Any) -> str:
    """mkdocs event: replace the marker with the rendered document (other pages unchanged)."""
    if MARKER not in markdown:
        return markdown
    document = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    return markdown.replace(MARKER, render(document))
