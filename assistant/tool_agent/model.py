"""The tools agent's chat model: LangChain's `ChatOpenAI` pointed at any OpenAI-compatible server."""

from __future__ import annotations

import httpx


def chat_model_from_settings(url: str | None = None):
    """AISLE_LLM_URL (vLLM, llama.cpp's server, Ollama, a hosted API) if set; otherwise the packaged
    GGUF behind a local llama-cpp-python server started for this process."""
    from langchain_openai import ChatOpenAI

    from retrieval.config import get_settings

    settings = get_settings()
    url = url or settings.llm_url
    if url is None:
        from assistant.tool_agent.local_server import shared_server

        url = shared_server().url
    model = settings.llm_server_model or _first_model(url, settings.llm_api_key)
    return ChatOpenAI(base_url=url, api_key=settings.llm_api_key or "unused", model=model, temperature=0,
                      max_tokens=settings.agent_max_tokens, timeout=settings.llm_timeout_s, max_retries=2,
                      stream_usage=True)  # token counts also when the answer streams  # fmt: skip


def _first_model(url: str, api_key: str | None) -> str:
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        models = httpx.get(f"{url.rstrip('/')}/models", headers=headers, timeout=10.0).json().get("data", [])
    except (httpx.HTTPError, ValueError):
        models = []
    return models[0]["id"] if models else "default"
