"""Cached models are released on request, and load again when asked for."""

from __future__ import annotations

import pytest

from vocmine.models.loaded import release_models


def test_release_models_clears_per_text_caches_and_keeps_the_embedder_when_asked() -> None:
    pytest.importorskip("torch")
    from vocmine.models import e5_torch
    from vocmine.nlp import sentences

    sentences._pipeline("es")
    e5_torch.load_e5_torch()
    assert sentences._pipeline.cache_info().currsize >= 1
    assert release_models(keep_embedder=True) >= 1
    assert sentences._pipeline.cache_info().currsize == 0
    assert e5_torch.load_e5_torch.cache_info().currsize >= 1  # kept
    release_models()
    assert e5_torch.load_e5_torch.cache_info().currsize == 0
    model, tokenizer = e5_torch.load_e5_torch()  # loads again
    assert model.config.hidden_size == 384 and tokenizer.encode("hola")


def test_release_models_without_anything_loaded_is_harmless() -> None:
    release_models()
    assert release_models() == 0


def test_release_models_drops_the_shared_e5_states_and_stops_keeping_them(monkeypatch) -> None:
    import numpy as np

    from vocmine.models import e5_trunk

    cache = e5_trunk.TrunkCache()
    monkeypatch.setattr(e5_trunk, "TRUNKS", cache)
    cache.wanted = True
    cache.put("base", [0, 5, 2], np.zeros((3, 384), dtype=np.float32))
    assert release_models() >= 1
    assert len(cache) == 0 and cache.bytes == 0 and not cache.wanted
