"""What a tool is: a name, one pydantic argument model, a function, and the policy gates it needs.

The argument model is the only schema: the model's prompt, argument validation, the LangChain
`StructuredTool` and the HTTP API all derive from it. Fields the session supplies (the signed-in
user, the session id) are listed in `session_fields`: hidden from the model and always
overwritten from the session, so the model never chooses whose data it sees.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError


class ToolError(Exception):
    """A tool could not do what was asked; the message is safe to show to the shopper."""


class StoreUnavailable(RuntimeError):
    """The store database is locked past its busy timeout or unreachable: nothing was changed;
    the shopper may try again. The agent answers with replies.yaml's `store_unavailable`."""


class ToolResult(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    tool: str
    ok: bool
    data: Any = None
    message: str = ""


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    args: type[BaseModel]
    run: Callable[[Any, BaseModel], Any]  # (ToolContext, validated args) -> JSON-able data
    writes: bool = False  # changes the store: needs an explicit "yes" in the next user turn
    needs_user: bool = False  # needs a signed-in (authenticated) user
    session_fields: frozenset[str] = field(default_factory=frozenset)

    def model_schema(self) -> dict:
        """The JSON schema the model sees: the argument model without session-supplied fields."""
        schema = self.args.model_json_schema()
        props = schema.get("properties", {})
        for name in self.session_fields:
            props.pop(name, None)
        if "required" in schema:
            schema["required"] = [r for r in schema["required"] if r not in self.session_fields]
        return schema

    def prompt_line(self) -> str:
        """One compact line per tool: short prompts keep a small local model fast."""
        props = self.model_schema().get("properties", {})
        required = set(self.model_schema().get("required", []))
        args = ", ".join(f"{n}{'' if n in required else '?'}: {_type_name(p)}" for n, p in props.items())
        return f"{self.name}({args}): {self.description}"

    def validate(self, arguments: dict, session_values: dict[str, Any]) -> BaseModel:
        """Validate model-supplied arguments; session fields always come from the session."""
        if not isinstance(arguments, dict):
            raise ToolError(f"{self.name}: arguments must be a JSON object")
        merged = {k: v for k, v in arguments.items() if k not in self.session_fields}
        merged.update({k: v for k, v in session_values.items() if k in self.session_fields})
        try:
            return self.args.model_validate(merged)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}" for e in exc.errors()
            )
            raise ToolError(f"{self.name}: {problems}") from exc


def _type_name(prop: dict) -> str:
    if "enum" in prop:
        return "|".join(json.dumps(v) for v in prop["enum"])
    if "anyOf" in prop:
        return "|".join(_type_name(p) for p in prop["anyOf"] if p.get("type") != "null")
    kind = prop.get("type", "any")
    if kind == "array":
        return f"[{_type_name(prop.get('items', {}))}]"
    return {"string": "str", "integer": "int", "number": "float", "boolean": "bool", "object": "obj"}.get(kind, kind)
