"""Language-model backends behind one interface.

    from assistant.llm import ChatMessage, GenerationConfig, get_llm
    llm = get_llm()                       # chosen by AISLE_LLM_BACKEND; loaded on first use
    llm.warm(SYSTEM_PROMPT)               # keep the fixed prefix's state (llama_cpp)
    for piece in llm.stream([ChatMessage(role="system", content=SYSTEM_PROMPT),
                             ChatMessage(role="user", content="…")], GenerationConfig(max_tokens=64)):
        ...

Nothing loads at import time; backends import their heavy libraries only when built.
"""

from __future__ import annotations

import threading

from assistant.llm.base import LLM, ChatMessage, GenerationConfig, GenerationStats, LLMUnavailable

BACKENDS = ("llama_cpp", "openai", "transformers", "fake")

__all__ = [
    "BACKENDS",
    "LLM",
    "ChatMessage",
    "GenerationConfig",
    "GenerationStats",
    "LLMUnavailable",
    "get_llm",
    "make_llm",
    "set_llm",
]

_instance: LLM | None = None
_instance_lock = threading.Lock()


def make_llm(backend: str | None = None, model: str | None = None, progress: bool = True) -> LLM:
    """A new backend from settings; `backend` and `model` override AISLE_LLM_BACKEND / AISLE_LLM_MODEL
    (for openai, `model` is the server's model name; for transformers, a model directory)."""
    from retrieval.config import get_settings

    settings = get_settings()
    backend = backend or settings.llm_backend
    if backend == "llama_cpp":
        from assistant.llm.assemble import ensure_model
        from assistant.llm.llama_cpp_backend import LlamaCppLLM

        path = ensure_model(model or settings.llm_model, settings.models_dir, progress=progress)
        return LlamaCppLLM(
            path,
            n_ctx=settings.llm_n_ctx,
            n_threads=settings.llm_n_threads,
            n_batch=settings.llm_n_batch,
            cached_prefixes=settings.llm_cached_prefixes,
        )
    if backend == "openai":
        from assistant.llm.openai_backend import OpenAICompatibleLLM

        if not settings.llm_url:
            raise LLMUnavailable("the openai backend needs AISLE_LLM_URL (e.g. http://127.0.0.1:8000/v1)")
        return OpenAICompatibleLLM(
            settings.llm_url, settings.llm_api_key, model or settings.llm_server_model, settings.llm_timeout_s
        )
    if backend == "transformers":
        from assistant.llm.transformers_backend import TransformersLLM

        model_dir = model or settings.llm_model_dir
        if not model_dir:
            raise LLMUnavailable("the transformers backend needs AISLE_LLM_MODEL_DIR (a local model directory)")
        return TransformersLLM(model_dir, timeout_s=settings.llm_timeout_s)
    if backend == "fake":
        from assistant.llm.fake import FakeLLM

        return FakeLLM()
    raise ValueError(f"unknown LLM backend {backend!r}; choose one of {', '.join(BACKENDS)}")


def get_llm() -> LLM:
    """The process's one model, built from settings on first call."""
    global _instance
    with _instance_lock:
        if _instance is None:
            _instance = make_llm()
        return _instance


def set_llm(llm: LLM | None) -> None:
    """Replace (or with None, drop) the process's model: for tests and for switching at run time."""
    global _instance
    with _instance_lock:
        old, _instance = _instance, llm
    if old is not None and old is not llm:
        old.close()
