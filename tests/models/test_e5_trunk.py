"""e5's trunk (states after six layers): kept by the embedder, cut into a bottom graph, bounded in memory."""

from __future__ import annotations

import numpy as np
import pytest

from vocmine.models import e5_onnx, e5_trunk
from vocmine.models.e5_trunk import TRUNK_LAYERS, TrunkCache

TEXTS = [
    "La habitación estaba sucia y nadie vino a limpiarla.",
    "Staff at the front desk were lovely, check-in took two minutes.",
    "el wifi no funcionaba 😤 y el desayuno, frío",
    "Precio/calidad: 10/10, volveremos seguro!!",
]


@pytest.fixture
def trunks(monkeypatch: pytest.MonkeyPatch) -> TrunkCache:
    """A fresh, wanted cache in place of the process's."""
    cache = TrunkCache()
    cache.wanted = True
    monkeypatch.setattr(e5_trunk, "TRUNKS", cache)
    return cache


def test_the_cache_is_keyed_by_source_and_token_ids_and_keeps_a_copy() -> None:
    cache = TrunkCache()
    states = np.ones((3, 4), dtype=np.float32)
    cache.put("base-a", np.array([0, 7, 2]), states)
    states[:] = 5  # the caller's array changes afterwards (a reused batch buffer)
    assert np.array_equal(cache.get("base-a", [0, 7, 2]), np.ones((3, 4)))
    assert cache.get("base-b", [0, 7, 2]) is None  # another base model's states are not these
    assert cache.get("base-a", [0, 7]) is None  # a text cut shorter has other states
    cache.put("base-a", [0, 8, 2], np.ones((3, 4), dtype=np.float16))  # kept, and counted, as float32
    assert cache.get("base-a", [0, 8, 2]).dtype == np.float32 and cache.bytes == 2 * 3 * 4 * 4


def test_the_cache_drops_its_oldest_states_beyond_its_bound() -> None:
    one = np.zeros((2, 4), dtype=np.float32)  # 32 bytes
    cache = TrunkCache(max_bytes=3 * one.nbytes)
    for token in range(4):
        cache.put("base", [0, token, 2], one)
    assert len(cache) == 3 and cache.bytes == 3 * one.nbytes
    assert cache.get("base", [0, 0, 2]) is None and cache.get("base", [0, 3, 2]) is not None
    cache.put("base", [9] * 40, np.zeros((40, 4), dtype=np.float32))  # larger than the whole bound: not kept
    assert len(cache) == 3
    cache.clear()
    assert len(cache) == 0 and cache.bytes == 0


def test_nothing_is_kept_until_a_model_wants_the_trunk() -> None:
    cache = TrunkCache()
    assert cache.keeper("base") is None
    cache.wanted = True
    keep = cache.keeper("base")
    ids = np.array([[0, 5, 6, 2], [0, 8, 2, 1]])
    mask = np.array([[1, 1, 1, 1], [1, 1, 1, 0]])
    keep(ids, mask, np.arange(2 * 4 * 3, dtype=np.float32).reshape(2, 4, 3))
    assert cache.get("base", [0, 8, 2]).shape == (3, 3)  # unpadded
    assert cache.get("base", [0, 8, 2, 1]) is None


def test_the_bottom_graph_gives_the_base_exports_trunk(trunks: TrunkCache) -> None:
    """The states kept while embedding and those from the bottom graph (texts not embedded here) are the
    same numbers: the bottom graph is cut from the base export."""
    session, tokenizer = e5_onnx.load_e5_onnx()
    encoded = [tokenizer.encode(t) for t in TEXTS]
    e5_onnx.embed_with_session(session, tokenizer, TEXTS, keep_trunk=trunks.keeper(e5_trunk.trunk_source()))
    kept = e5_trunk.trunk_states(encoded, tokenizer)
    assert len(trunks) == len(TEXTS)
    trunks.clear()
    cut = e5_trunk.trunk_states(encoded, tokenizer)
    for a, b, ids in zip(kept, cut, encoded, strict=True):
        assert a.shape == (len(ids), 384)
        np.testing.assert_array_equal(a, b)
    assert len(trunks) == 0  # states computed for a lookup are not added
    assert f"bottom{TRUNK_LAYERS}" in e5_trunk.bottom_model_path().name


def test_the_bottom_graph_is_not_taken_for_a_superseded_base_export() -> None:
    """It sits next to the base export, and neither deletes the other (remove_superseded_exports)."""
    base, bottom = e5_onnx.onnx_model_path(), e5_trunk.bottom_model_path()
    assert base.parent == bottom.parent and base.name != bottom.name
    assert base.name.partition("-int8-")[0] != bottom.name.partition("-int8-")[0]
    assert base.name.partition("-int8-")[2] == bottom.name.partition("-int8-")[2]


def test_padded_states_and_mask() -> None:
    hidden, mask = e5_trunk.padded([np.ones((2, 3), np.float32), np.full((4, 3), 2, np.float32)])
    assert hidden.shape == (2, 4, 3) and hidden.dtype == np.float32
    assert mask.tolist() == [[1, 1, 0, 0], [1, 1, 1, 1]]
    assert hidden[0, 2:].sum() == 0
