"""Local GGUF models on the CPU through llama-cpp-python, with the state of fixed prompt prefixes kept.

On a few CPU cores, reading the prompt costs more than writing a short answer, and an agent's
prompt is mostly fixed (system prompt, tool descriptions). llama-cpp-python already reuses the
longest common token prefix with its previous call, but two prompts used in turn (say a router's
and a responder's) evict each other. So `warm(prefix)` evaluates a prefix once and keeps a copy of
the context state (the KV cache of those tokens) in RAM; a later prompt that starts with it restores
that copy instead of re-reading it. The copy is llama.cpp's own state blob: `Llama.save_state()` and
`LlamaRAMCache` would also copy a logits buffer of n_batch × vocabulary floats (~300 MB here).
"""

from __future__ import annotations

import ctypes
import json
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from assistant.llm.base import LLM, ChatMessage, GenerationConfig, GenerationStats, LLMUnavailable, check_messages


def _common_prefix(a: np.ndarray, b: list[int]) -> int:
    n = min(len(a), len(b))
    diff = np.nonzero(a[:n] != np.asarray(b[:n], dtype=a.dtype))[0]
    return int(diff[0]) if len(diff) else n


class LlamaCppLLM(LLM):
    name = "llama_cpp"

    def __init__(
        self,
        model_path: str | Path,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        n_batch: int = 512,
        cached_prefixes: int = 4,
        verbose: bool = False,
    ):
        try:
            import llama_cpp
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter
            from llama_cpp.llama_grammar import LlamaGrammar
        except ImportError as exc:
            raise LLMUnavailable("the llama_cpp backend needs llama-cpp-python: pip install llama-cpp-python") from exc
        path = Path(model_path)
        if not path.is_file():
            raise LLMUnavailable(f"model file not found: {path}")
        self._lib, self._grammar_type = llama_cpp, LlamaGrammar
        threads = n_threads or os.cpu_count() or 1
        start = time.perf_counter()
        try:
            self._llm = llama_cpp.Llama(
                model_path=str(path),
                n_ctx=n_ctx,
                n_batch=n_batch,
                n_ubatch=n_batch,
                n_threads=threads,
                n_threads_batch=threads,
                use_mmap=True,
                verbose=verbose,
            )
        except (ValueError, RuntimeError) as exc:
            raise LLMUnavailable(f"llama.cpp could not load {path}: {exc}") from exc
        self.load_s = time.perf_counter() - start
        self.model_path = path
        template = self._llm.metadata.get("tokenizer.chat_template")
        if not template:
            raise LLMUnavailable(f"{path.name} has no chat template in its metadata")
        eos, bos = (
            self._llm.detokenize([i], special=True).decode("utf-8", "replace") if i != -1 else ""
            for i in (self._llm.token_eos(), self._llm.token_bos())
        )
        self._formatters = {
            flag: Jinja2ChatFormatter(template, eos_token=eos, bos_token=bos, add_generation_prompt=flag)
            for flag in (True, False)
        }
        self._lock = threading.Lock()  # a llama.cpp context is not re-entrant
        self._prefixes: OrderedDict[tuple[int, ...], bytes] = OrderedDict()
        self._max_prefixes = cached_prefixes
        self._grammars: dict[str, Any] = {}

    # -- prompts -----------------------------------------------------------------------------
    def tokens(self, messages: list[ChatMessage], generation_prompt: bool = True) -> list[int]:
        """The chat template applied to `messages`, as token ids."""
        rendered = self._formatters[generation_prompt](messages=[m.model_dump() for m in messages])
        return self._llm.tokenize(rendered.prompt.encode("utf-8"), add_bos=not rendered.added_special, special=True)

    def _grammar(self, schema: dict[str, Any] | None):
        if schema is None:
            return None
        key = json.dumps(schema or {"type": "object"}, sort_keys=True)
        if key not in self._grammars:
            try:
                self._grammars[key] = self._grammar_type.from_json_schema(key, verbose=False)
            except Exception as exc:  # the converter raises assorted types on schemas it cannot express
                raise ValueError(f"cannot turn this JSON schema into a grammar: {exc}") from exc
        return self._grammars[key]

    # -- prefix state ------------------------------------------------------------------------
    def _save_state(self) -> bytes:
        ctx = self._llm.ctx
        size = self._lib.llama_state_get_size(ctx)
        buffer = (ctypes.c_uint8 * size)()
        written = self._lib.llama_state_get_data(ctx, buffer, size)
        return bytes(memoryview(buffer)[:written])

    def _load_state(self, tokens: tuple[int, ...], blob: bytes) -> None:
        buffer = (ctypes.c_uint8 * len(blob)).from_buffer_copy(blob)
        if self._lib.llama_state_set_data(self._llm.ctx, buffer, len(blob)) != len(blob):
            raise LLMUnavailable("llama.cpp could not restore a cached prompt state")
        self._llm.input_ids[: len(tokens)] = tokens
        self._llm.n_tokens = len(tokens)
        self._llm._requires_eval = True  # restored logits are stale: generate() must decode a token first

    def _reuse_prefix(self, prompt: list[int]) -> int:
        """Restore the longest kept prefix of `prompt` if it beats what the context holds; tokens reused."""
        current = _common_prefix(self._llm.input_ids[: self._llm.n_tokens], prompt)
        best = max(
            (key for key in self._prefixes if len(key) > current and tuple(prompt[: len(key)]) == key),
            key=len,
            default=None,
        )
        if best is None:
            return current
        self._load_state(best, self._prefixes[best])
        self._prefixes.move_to_end(best)
        return len(best)

    def warm(self, system_prompt: str | list[ChatMessage]) -> None:
        """Read a fixed prefix (a system prompt, or leading messages) once and keep its state."""
        if self._max_prefixes == 0:
            return
        messages = (
            [ChatMessage(role="system", content=system_prompt)]
            if isinstance(system_prompt, str)
            else check_messages(system_prompt)
        )
        key = tuple(self.tokens(messages, generation_prompt=False))
        with self._lock:
            if key in self._prefixes:
                self._prefixes.move_to_end(key)
                return
            # Keep exactly the prefix in the context: eval() first drops everything after n_tokens.
            done = min(self._reuse_prefix(list(key)), len(key) - 1)
            self._llm.n_tokens = done
            self._llm.eval(list(key[done:]))
            self._prefixes[key] = self._save_state()
            while len(self._prefixes) > self._max_prefixes:
                self._prefixes.popitem(last=False)

    def forget(self) -> None:
        """Drop kept prefixes and the context's tokens: the next call reads its whole prompt (cold)."""
        with self._lock:
            self._prefixes.clear()
            self._llm.reset()

    # -- generation --------------------------------------------------------------------------
    def stream(self, messages: list[ChatMessage], config: GenerationConfig | None = None) -> Iterator[str]:
        messages, config = check_messages(messages), config or GenerationConfig()
        prompt = self.tokens(messages)
        room = self._llm.n_ctx() - len(prompt)
        if room < 1:
            raise ValueError(f"the prompt has {len(prompt)} tokens; the context holds {self._llm.n_ctx()}")
        grammar = self._grammar(config.json_schema)
        with self._lock:
            start = time.perf_counter()
            cached = self._reuse_prefix(prompt)
            first, pieces = None, 0
            chunks = self._llm.create_completion(
                prompt=prompt,
                max_tokens=min(config.max_tokens, room),
                temperature=config.temperature,
                top_p=config.top_p,
                stop=config.stop or None,
                seed=config.seed,
                repeat_penalty=1.0,
                grammar=grammar,
                stream=True,
            )
            try:
                for chunk in chunks:
                    text = chunk["choices"][0]["text"]
                    if text:
                        first = first or time.perf_counter()
                        pieces += 1
                        yield text
            finally:
                chunks.close()
                end = time.perf_counter()
                self.last_stats = GenerationStats(
                    prompt_tokens=len(prompt),
                    cached_prompt_tokens=min(cached, len(prompt) - 1),
                    # Every generated token but the last is fed back into the context.
                    completion_tokens=max(self._llm.n_tokens - len(prompt) + 1, pieces),
                    ttft_s=(first or end) - start,
                    total_s=end - start,
                )

    def close(self) -> None:
        with self._lock:
            self._prefixes.clear()
            self._llm.close()
