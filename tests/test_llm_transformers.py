"""The transformers backend's plumbing on a tiny randomly initialised Qwen2 built offline.

Its text is noise; the test proves loading, chat templating, streaming, greedy determinism,
max_tokens and stop handling, not quality.
"""

from __future__ import annotations

import pytest

from assistant.llm import ChatMessage, GenerationConfig, LLMUnavailable, make_llm

CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
WORDS = "a an the red blue green shoe shoes shirt size order return refund help please yes no".split()


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("tiny-qwen2"))


def build_tiny_model(path):
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    # A byte-level BPE like Qwen's own, trained on a few words: any text encodes, and it round-trips.
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=320, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    core.train_from_iterator([" ".join(WORDS + ["system", "user", "assistant"])] * 5, trainer)
    vocab = core.get_vocab()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core, eos_token="<|im_end|>", pad_token="<|endoftext|>",
        additional_special_tokens=["<|im_start|>"],
    )
    tokenizer.chat_template = CHATML
    torch.manual_seed(0)
    config = Qwen2Config(
        vocab_size=len(vocab), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
        eos_token_id=vocab["<|im_end|>"], pad_token_id=vocab["<|endoftext|>"],
    )
    Qwen2ForCausalLM(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


MESSAGES = [ChatMessage(role="system", content="help please"), ChatMessage(role="user", content="red shoes size")]


def test_streams_greedy_deterministic_text(model_dir):
    llm = make_llm("transformers", model=str(model_dir))
    assert llm.device in ("cpu", "cuda")
    config = GenerationConfig(max_tokens=12)
    pieces = list(llm.stream(MESSAGES, config))
    assert pieces and all(isinstance(p, str) for p in pieces)
    assert 1 <= llm.last_stats.completion_tokens <= 12
    assert llm.last_stats.prompt_tokens > 5
    assert "".join(pieces) == llm.complete(MESSAGES, config)  # temperature 0: greedy and repeatable


def test_stop_string_and_early_exit(model_dir):
    llm = make_llm("transformers", model=str(model_dir))
    text = llm.complete(MESSAGES, GenerationConfig(max_tokens=20))
    assert len(text) >= 4  # seeded weights: the same text every run
    stop = text[len(text) // 2 : len(text) // 2 + 2]
    cut = llm.complete(MESSAGES, GenerationConfig(max_tokens=20, stop=[stop]))
    assert cut == text[: text.find(stop)]
    stream = llm.stream(MESSAGES, GenerationConfig(max_tokens=20))
    next(stream)
    stream.close()  # the reader leaves: generation must end and free the lock
    assert llm.complete(MESSAGES, GenerationConfig(max_tokens=20)) == text


def test_missing_model_dir(tmp_path):
    with pytest.raises(LLMUnavailable, match="config.json"):
        make_llm("transformers", model=str(tmp_path))
