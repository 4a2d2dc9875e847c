"""Aisle's JSON tool-call protocol for models that get no native tool calling.

The model answers with one JSON object: {"tool": NAME, "arguments": {...}} to call a tool, or
{"reply": TEXT} to answer. `parse_model_output` extracts and repairs that object (code fences,
single quotes, trailing commas, Python literals), then validates it against the tool's pydantic
model. Anything that does not parse, names an unknown tool or fails validation is a
`ProtocolError` and is never executed.
"""

from __future__ import annotations

import json
import re

from pydantic import BaseModel

from assistant.tools import TOOLS, ToolError


class ProtocolError(ValueError):
    pass


class ToolCall(BaseModel):
    tool: str
    arguments: dict


class Reply(BaseModel):
    reply: str


def call_schema(tool_names: list[str]) -> dict:
    """JSON schema of a valid answer, for backends that constrain decoding to a schema."""
    return {
        "anyOf": [
            {
                "type": "object",
                "properties": {"tool": {"const": name}, "arguments": TOOLS[name].model_schema()},
                "required": ["tool", "arguments"],
            }
            for name in tool_names
        ]
        + [{"type": "object", "properties": {"reply": {"type": "string"}}, "required": ["reply"]}]
    }


def _extract_object(text: str) -> str:
    text = re.sub(r"```(?:json)?", "", text)
    start = text.find("{")
    if start < 0:
        raise ProtocolError("no JSON object in the model's answer")
    depth, in_str, esc = 0, False, False
    for i, ch in enumerate(text[start:], start):
        if in_str:
            esc = ch == "\\" and not esc
            if ch == '"' and not esc:
                in_str = False
            continue
        if ch == '"':
            in_str = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return text[start : i + 1]
    return text[start:] + "}" * depth  # a truncated answer: close what was opened


def _loads_repaired(raw: str) -> object:
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        pass
    fixed = re.sub(r",\s*([}\]])", r"\1", raw)  # trailing commas
    fixed = re.sub(r"\bTrue\b", "true", re.sub(r"\bFalse\b", "false", re.sub(r"\bNone\b", "null", fixed)))
    if '"' not in fixed:
        fixed = fixed.replace("'", '"')
    try:
        return json.loads(fixed)
    except json.JSONDecodeError as exc:
        raise ProtocolError(f"the model's answer is not valid JSON: {exc.msg}") from exc


def parse_model_output(text: str, allowed: set[str] | None = None) -> ToolCall | Reply:
    data = _loads_repaired(_extract_object(text))
    if not isinstance(data, dict):
        raise ProtocolError("the model's answer is not a JSON object")
    if "reply" in data and isinstance(data["reply"], str):
        return Reply(reply=data["reply"])
    name = data.get("tool") or data.get("name") or data.get("function")
    arguments = data.get("arguments", data.get("args", data.get("parameters", {})))
    if not isinstance(name, str):
        raise ProtocolError("the answer names no tool and gives no reply")
    if name not in TOOLS or (allowed is not None and name not in allowed):
        raise ProtocolError(f"unknown tool {name!r}")
    if isinstance(arguments, str):
        arguments = _loads_repaired(arguments)
    if not isinstance(arguments, dict):
        raise ProtocolError(f"{name}: arguments must be a JSON object")
    tool = TOOLS[name]
    try:
        tool.validate(arguments, {})  # session fields are filled later, by the session
    except ToolError as exc:
        raise ProtocolError(str(exc)) from exc
    return ToolCall(tool=name, arguments={k: v for k, v in arguments.items() if k not in tool.session_fields})
