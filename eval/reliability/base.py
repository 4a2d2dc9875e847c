"""What every reliability category takes and returns."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field


class Options(BaseModel):
    quick: bool = Field(default=False, description="The fast subset CI runs (fewer cases, fake model only).")
    llm: str = Field(default="fake", description="LLM backend for categories that talk to the assistant: fake or default.")
    attacks: Path | None = Field(default=None, description="Extra attack prompts, JSONL (see docs/reliability.md).")
    seed: int = 0
    stack: str = Field(default="local", description="local: one `aisle serve` on SQLite; postgres: two replicas on "
                       "PostgreSQL + a Chroma server + Redis (eval/reliability/replicas.py).")
    agent: str = Field(default="code", description="The dialogue agent attacked in `authorisation`: code or tools.")
    kinds: list[str] = Field(default_factory=list, description="authorisation: only attacks of these kinds (empty: all).")
    tools_model: str = Field(default="adversary", description="--agent tools: the model driving it, `adversary` (a scripted "
                             "model that obeys any planted or typed instruction: tests the gates) or `served` "
                             "(AISLE_LLM_URL, else the packaged GGUF on a local server: tests realism).")


class CategoryResult(BaseModel):
    category: str
    tried: int = Field(description="Cases tried.")
    failures: int = Field(description="Cases that broke a rule (5xx, traceback, leak, unauthorised write, lost write…).")
    examples: list[str] = Field(default_factory=list, description="Up to 10 failed cases, briefly.")
    seconds: float = 0.0
    figures: dict[str, float] = Field(default_factory=dict, description="Measured figures, e.g. latency percentiles.")
    notes: list[str] = Field(default_factory=list)

    def fail(self, example: str) -> None:
        self.failures += 1
        if len(self.examples) < 10:
            self.examples.append(example[:300])
