"""The tool-calling chat format for local GGUF models: Hermes-style `<tool_call>` blocks, as Qwen2.5
is trained to write them and as vLLM's `--tool-call-parser hermes` reads them.

Why Aisle has its own: llama-cpp-python's `chatml-function-calling` format drops tool results from
the prompt (its template renders only system, user and assistant messages), so the model never
sees what a tool returned; and its plain-message path is constrained by a grammar that only admits
function names. This handler renders the whole conversation (tool calls and results included),
lets the model write freely, and parses the calls out of its answer; a call that is not valid JSON
is passed on as it is, so the client sees it as a malformed call, never as a silent text answer.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any

CALL_RE = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.DOTALL)
STOP = ["<|im_end|>", "<|endoftext|>"]
TOOLS_INTRO = (
    "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n{tools}\n</tools>\n\n"
    "For each function call, return a json object with function name and arguments within "
    "<tool_call></tool_call> XML tags:\n<tool_call>\n{{\"name\": <function-name>, \"arguments\": <args-json-object>}}\n</tool_call>"
)


def _text(content: Any) -> str:
    if isinstance(content, list):  # OpenAI content parts
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return content or ""


def _compact(schema: Any, in_properties: bool = False) -> Any:
    """The schema without pydantic's titles, null defaults and `anyOf [X, null]`: fewer prompt tokens
    (the prompt is read on a CPU), nothing the model needs lost."""
    if isinstance(schema, dict):
        if not in_properties:
            options = schema.get("anyOf")
            if isinstance(options, list) and len(options) == 2 and {"type": "null"} in options:
                schema = {**{k: v for k, v in schema.items() if k != "anyOf"}, **next(o for o in options if o != {"type": "null"})}
        return {k: _compact(v, k == "properties" and not in_properties) for k, v in schema.items()
                if in_properties or (k != "title" and not (k == "default" and v is None) and k != "additionalProperties")}  # fmt: skip
    if isinstance(schema, list):
        return [_compact(v) for v in schema]
    return schema


def render(messages: list[dict], tools: list[dict] | None) -> str:
    """The ChatML prompt of a conversation, with the tools in the system message (Qwen2.5's layout)."""
    out: list[str] = []
    system = ""
    if messages and messages[0].get("role") == "system":
        system, messages = _text(messages[0].get("content")), messages[1:]
    if tools:
        # The tools first, then the system text: the text ends with what changes between conversations
        # (who the shopper is), so the server's cached prompt prefix covers the tools and the policy.
        lines = "\n".join(json.dumps(_compact(t), ensure_ascii=False) for t in tools)
        system = TOOLS_INTRO.format(tools=lines).lstrip() + "\n\n" + system
    if system:
        out.append(f"<|im_start|>system\n{system}<|im_end|>\n")
    i = 0
    while i < len(messages):
        m = messages[i]
        role = m.get("role")
        if role == "tool":  # consecutive results go in one turn, as the model was trained
            parts = []
            while i < len(messages) and messages[i].get("role") == "tool":
                parts.append(f"<tool_response>\n{_text(messages[i].get('content'))}\n</tool_response>")
                i += 1
            out.append("<|im_start|>user\n" + "\n".join(parts) + "<|im_end|>\n")
            continue
        if role == "assistant":
            body = _text(m.get("content"))
            for call in m.get("tool_calls") or []:
                fn = call.get("function", {})
                try:
                    arguments = json.loads(fn.get("arguments") or "{}")
                except (TypeError, json.JSONDecodeError):
                    arguments = fn.get("arguments")
                body += "\n<tool_call>\n" + json.dumps({"name": fn.get("name"), "arguments": arguments}, ensure_ascii=False) + "\n</tool_call>"
            out.append(f"<|im_start|>assistant\n{body.strip()}<|im_end|>\n")
        else:
            out.append(f"<|im_start|>{role}\n{_text(m.get('content'))}<|im_end|>\n")
        i += 1
    out.append("<|im_start|>assistant\n")
    return "".join(out)


FENCED_RE = re.compile(r"```(?:json)?\s*(\{.*?\})\s*```", re.DOTALL)


def parse(text: str, names: set[str] | None = None) -> tuple[str, list[dict]]:
    """(the answer's text, its tool calls in OpenAI's shape). Small models sometimes write the call as
    a bare or fenced JSON object instead of a <tool_call> block: when tools were offered (`names`), an
    object with a "name" and "arguments" is taken as a call, also of a tool that does not exist (it is
    then refused, readably, and the model tries again) rather than shown to the shopper as JSON."""
    calls = []
    bodies = CALL_RE.findall(text)
    if not bodies and names:
        for candidate in FENCED_RE.findall(text) or [text.strip()]:
            try:
                data = json.loads(candidate)
            except json.JSONDecodeError:
                continue
            if isinstance(data, dict) and isinstance(data.get("name"), str) and isinstance(data.get("arguments"), dict):
                bodies.append(candidate)
        if bodies:
            text = FENCED_RE.sub("", text) if FENCED_RE.search(text) else ""
    for body in bodies:
        try:
            data = json.loads(body)
            name, arguments = data.get("name"), data.get("arguments", {})
            arguments = arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)
        except (json.JSONDecodeError, AttributeError):
            found = re.search(r'"name"\s*:\s*"([^"]+)"', body)
            name, arguments = (found.group(1) if found else "unknown"), body  # malformed: the client sees it as such
        calls.append({"id": f"call_{uuid.uuid4().hex[:12]}", "type": "function",
                      "function": {"name": str(name), "arguments": arguments}})  # fmt: skip
    content = CALL_RE.sub("", text).strip()
    return content, calls


def hermes_tools(llama, messages, tools=None, tool_choice=None, temperature: float = 0.2, top_p: float = 0.95,
                 top_k: int = 40, min_p: float = 0.05, repeat_penalty: float = 1.1, max_tokens: int | None = None,
                 stream: bool = False, stop=None, seed: int | None = None, response_format=None, grammar=None,
                 **kwargs):  # fmt: skip
    """A llama-cpp-python chat completion handler (registered as `hermes-tools`). A `response_format` of
    type json_object (with or without a schema) is applied as a grammar when no tools are offered; with
    tools it is ignored: the answer is free text with <tool_call> blocks, checked by the caller."""
    offered = tools if tools and tool_choice != "none" else None
    if seed is not None:
        llama.set_seed(seed)
    if grammar is None and response_format and not offered:
        from llama_cpp.llama_chat_format import _grammar_for_response_format

        grammar = _grammar_for_response_format(response_format, verbose=getattr(llama, "verbose", False))
    completion = llama.create_completion(
        prompt=render(messages, offered), temperature=temperature, top_p=top_p, top_k=top_k, min_p=min_p,
        repeat_penalty=repeat_penalty, max_tokens=max_tokens, stop=STOP + ([stop] if isinstance(stop, str) else list(stop or [])),
        stream=False, grammar=grammar,
    )
    text = completion["choices"][0]["text"]
    content, calls = parse(text, {t["function"]["name"] for t in offered}) if offered else (text.strip(), [])
    message: dict[str, Any] = {"role": "assistant", "content": content or None}
    if calls:
        message["tool_calls"] = calls
    finish = "tool_calls" if calls else completion["choices"][0]["finish_reason"]
    created, cid = int(time.time()), "chat" + completion["id"]
    if not stream:
        return {"id": cid, "object": "chat.completion", "created": created, "model": completion["model"],
                "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
                "usage": completion["usage"]}  # fmt: skip
    delta = dict(message)
    if calls:
        delta["tool_calls"] = [{"index": n, **c} for n, c in enumerate(calls)]

    def chunks():  # the whole answer in one piece (the calls must be parsed before anything is sent), then the usage
        base = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": completion["model"]}
        yield {**base, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}]}
        yield {**base, "choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": finish}], "usage": completion["usage"]}

    return chunks()


def register() -> None:
    from llama_cpp.llama_chat_format import LlamaChatCompletionHandlerRegistry

    LlamaChatCompletionHandlerRegistry().register_chat_completion_handler("hermes-tools", hermes_tools, overwrite=True)
