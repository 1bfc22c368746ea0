"""Tool definitions for the model, generated from the tools' pydantic argument models."""

from __future__ import annotations

from typing import Any

from agent.tools import ToolSpec

# Verification data never goes through the model: it calls verify_identity without
# arguments and the engine fills them from what was parsed locally from the debtor's text.
LOCAL_ARGUMENTS = frozenset({"verify_identity"})


def _clean(schema: dict[str, Any]) -> dict[str, Any]:
    """Drop pydantic's titles; keep types, constraints, descriptions and definitions."""
    cleaned: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "title":
            continue
        if isinstance(value, dict):
            value = {k: _clean(v) if isinstance(v, dict) else v for k, v in value.items()}
            if key not in ("properties", "$defs"):
                value = _clean(value)
        elif isinstance(value, list):
            value = [_clean(v) if isinstance(v, dict) else v for v in value]
        cleaned[key] = value
    return cleaned


def tool_schema(spec: ToolSpec) -> dict[str, Any]:
    """The OpenAI ``tools`` entry of one tool."""
    if spec.name in LOCAL_ARGUMENTS:
        parameters: dict[str, Any] = {"type": "object", "properties": {}}
        description = (
            spec.description + " Call it without arguments: the system supplies the data the"
            " debtor gave, which you never see."
        )
    else:
        parameters = _clean(spec.args_model.model_json_schema())
        parameters.setdefault("properties", {})
        description = spec.description
    return {
        "type": "function",
        "function": {"name": spec.name, "description": description, "parameters": parameters},
    }


def tool_schemas(registry: dict[str, ToolSpec]) -> list[dict[str, Any]]:
    """Every tool of the registry, in registry order."""
    return [tool_schema(spec) for spec in registry.values()]
