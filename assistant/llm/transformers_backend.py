"""A Hugging Face model from a local directory, on CUDA when there is one (for GPU hosts).

Generation runs in a worker thread and streams through `TextIteratorStreamer`. JSON schemas cannot
constrain decoding here, so they are stated in the system message.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import retrieval.config  # noqa: F401  (offline environment before transformers loads)
from assistant.llm.base import (
    LLM,
    ChatMessage,
    GenerationConfig,
    GenerationStats,
    LLMUnavailable,
    StopFilter,
    check_messages,
    with_json_instruction,
)


class TransformersLLM(LLM):
    name = "transformers"

    def __init__(self, model_dir: str | Path, device: str | None = None, timeout_s: float = 60.0):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        path = Path(model_dir)
        if not (path / "config.json").is_file():
            raise LLMUnavailable(f"no model directory (config.json) at {path}")
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        start = time.perf_counter()
        try:
            self._tokenizer = AutoTokenizer.from_pretrained(path)
            self._model = AutoModelForCausalLM.from_pretrained(
                path, dtype=torch.bfloat16 if self.device == "cuda" else torch.float32
            ).to(self.device)
        except (OSError, ValueError) as exc:
            raise LLMUnavailable(f"transformers could not load {path}: {exc}") from exc
        self._model.eval()
        self.load_s = time.perf_counter() - start
        self.timeout_s = timeout_s
        self._lock = threading.Lock()  # one generation at a time: bounded memory, ordered GPU work

    def stream(self, messages: list[ChatMessage], config: GenerationConfig | None = None) -> Iterator[str]:
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        messages, config = check_messages(messages), config or GenerationConfig()
        if config.json_schema is not None:
            messages = with_json_instruction(messages, config.json_schema)
        inputs = self._tokenizer.apply_chat_template(
            [m.model_dump() for m in messages], add_generation_prompt=True, return_tensors="pt", return_dict=True
        ).to(self.device)
        prompt_len = int(inputs["input_ids"].shape[1])
        halt = threading.Event()  # set when the reader stops early: ends generation at the next token

        class _Halt(StoppingCriteria):
            def __call__(self, input_ids, scores, **kwargs):
                return torch.full((input_ids.shape[0],), halt.is_set(), dtype=torch.bool, device=input_ids.device)

        streamer = TextIteratorStreamer(
            self._tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=self.timeout_s
        )
        sampling = (
            {"do_sample": True, "temperature": config.temperature, "top_p": config.top_p}
            if config.temperature > 0
            else {"do_sample": False}
        )
        result: dict = {}

        def run():
            try:
                torch.manual_seed(config.seed)
                with torch.inference_mode():
                    result["ids"] = self._model.generate(
                        **inputs,
                        max_new_tokens=config.max_tokens,
                        streamer=streamer,
                        stopping_criteria=StoppingCriteriaList([_Halt()]),
                        pad_token_id=self._tokenizer.pad_token_id or self._tokenizer.eos_token_id,
                        **sampling,
                    )
            except Exception as exc:  # surfaced to the reader below
                result["error"] = exc
                streamer.end()

        with self._lock:
            start, first = time.perf_counter(), None
            worker = threading.Thread(target=run, name="aisle-llm-generate", daemon=True)
            worker.start()
            try:
                for piece in StopFilter(config.stop).filter(streamer):
                    first = first or time.perf_counter()
                    yield piece
            except queue.Empty as exc:
                raise LLMUnavailable(f"the model produced nothing for {self.timeout_s} s") from exc
            finally:
                halt.set()
                worker.join()
            if "error" in result:
                raise LLMUnavailable(f"generation failed: {result['error']}") from result["error"]
            end = time.perf_counter()
            self.last_stats = GenerationStats(
                prompt_tokens=prompt_len,
                cached_prompt_tokens=0,
                completion_tokens=int(result["ids"].shape[1]) - prompt_len if "ids" in result else None,
                ttft_s=(first or end) - start,
                total_s=end - start,
            )
