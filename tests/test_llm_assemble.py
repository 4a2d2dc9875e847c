"""Reassembling a model split over part packages: order, size and sha256 checks, no half-written file."""

from __future__ import annotations

import hashlib
import os

import pytest

from assistant.llm import assemble as asm
from assistant.llm.assemble import ModelAssemblyError, ModelSpec, assemble, ensure_model, model_specs, part_paths


def _fake_parts(root, chunks: list[bytes], module: str = "aisletest_model_part{n}") -> None:
    """Installed-looking part packages: <module>/data/partNN.bin, importable from `root`."""
    for n, chunk in enumerate(chunks, start=1):
        data = root / module.format(n=n) / "data"
        data.mkdir(parents=True)
        (data.parent / "__init__.py").write_text("")
        (data / f"part{n:02d}.bin").write_bytes(chunk)


@pytest.fixture
def parts(tmp_path, monkeypatch):
    # 11 parts so that lexical order (1, 10, 11, 2, …) would give a different file than numeric order.
    chunks = [os.urandom(1000 + n) for n in range(11)]
    _fake_parts(tmp_path / "site", chunks)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    whole = b"".join(chunks)
    spec = ModelSpec(
        name="tiny",
        description="test",
        filename="tiny.gguf",
        part_package="aisletest-model-part{n}",
        part_module="aisletest_model_part{n}",
        version="1.0",
        parts=len(chunks),
        size=len(whole),
        sha256=hashlib.sha256(whole).hexdigest(),
    )
    return spec, whole


def test_parts_join_in_numeric_order(parts, tmp_path, monkeypatch):
    spec, whole = parts
    paths = part_paths(spec)
    assert [p.name for p in paths][9:] == ["part10.bin", "part11.bin"]
    monkeypatch.setattr(asm, "model_specs", lambda: {"tiny": spec})
    target = ensure_model("tiny", tmp_path / "models", progress=False)
    assert target.read_bytes() == whole
    assert [p.name for p in target.parent.iterdir()] == ["tiny.gguf"]
    assert ensure_model("tiny", tmp_path / "models", progress=False) == target  # second call: reused
    assert ensure_model(str(target), tmp_path / "elsewhere") == target  # a plain path is used as it is


def test_missing_part_names_its_package(parts, tmp_path):
    spec, _ = parts
    spec = spec.model_copy(update={"parts": 12})
    with pytest.raises(ModelAssemblyError, match=r"part 12 of 12 is missing.*aisletest-model-part12==1\.0"):
        part_paths(spec)


def test_corrupt_part_fails_and_leaves_nothing(parts, tmp_path):
    spec, _ = parts
    paths = part_paths(spec)
    bad = bytearray(paths[3].read_bytes())
    bad[10] ^= 0xFF  # same size, different bytes
    paths[3].write_bytes(bytes(bad))
    out = tmp_path / "models"
    with pytest.raises(ModelAssemblyError, match="sha256 .* does not match"):
        assemble(paths, out / "tiny.gguf", spec.size, spec.sha256, progress=False)
    assert list(out.iterdir()) == []


def test_wrong_total_size_fails_before_writing(parts, tmp_path):
    spec, _ = parts
    paths = part_paths(spec)
    paths[0].write_bytes(paths[0].read_bytes()[:-1])
    with pytest.raises(ModelAssemblyError, match="expected"):
        assemble(paths, tmp_path / "m" / "tiny.gguf", spec.size, spec.sha256, progress=False)
    assert not (tmp_path / "m" / "tiny.gguf").exists()


def test_catalogue_pins_the_shipped_models():
    specs = model_specs()
    assert specs["qwen1.5b"].parts == 22 and specs["qwen1.5b"].size == 1_117_320_768
    assert specs["qwen1.5b"].sha256 == "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
    assert specs["qwen0.5b"].parts == 6 and specs["qwen0.5b"].size == 491_400_064
