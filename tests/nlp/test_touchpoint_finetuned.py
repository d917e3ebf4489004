"""A fine-tuned touchpoint head saves, reloads and plugs into the touchpoint annotator."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("torch")

from vocmine.models.finetune import FineTuneSettings  # noqa: E402
from vocmine.models.train_touchpoints import finetune_head  # noqa: E402
from vocmine.nlp.taxonomy import load_taxonomy  # noqa: E402
from vocmine.nlp.touchpoint import (  # noqa: E402
    BlendedTouchpointHead,
    FineTunedTouchpointHead,
    TouchpointAnnotator,
    TouchpointHead,
    ZeroShotTouchpoints,
)

ROWS = [
    ("La paella estaba deliciosa", ["food"]), ("The pasta was cold and bland", ["food"]),
    ("Great steak, perfectly cooked", ["food"]), ("El postre, riquísimo", ["food"]),
    ("El camarero fue muy amable", ["service"]), ("Our waiter ignored us for an hour", ["service"]),
    ("Friendly and quick staff", ["service"]), ("Nos atendieron fatal", ["service"]),
    ("Los vinos, excelentes", ["drinks"]), ("The cocktails were watered down", ["drinks"]),
    ("Good beer selection", ["drinks"]), ("La sangría sin sabor", ["drinks"]),
    ("Fuimos un martes por la noche", []), ("We came for a birthday", []),
] * 2


def test_finetuned_head_round_trips_blends_and_annotates(tmp_path, e5) -> None:
    taxonomy = load_taxonomy("restaurant")
    frame = pd.DataFrame({"text": [t for t, _ in ROWS], "touchpoints": [labels for _, labels in ROWS]})
    settings = FineTuneSettings(epochs=4, batch_size=4, frozen_layers=10, learning_rate=3e-3,
                                head_learning_rate=1e-2, dropout=0.0, rank=4, alpha=8.0)
    head = finetune_head(frame, taxonomy, seed=0, settings=settings, source="test fixture")
    head.save(tmp_path)
    assert FineTunedTouchpointHead.exists(tmp_path)
    again = FineTunedTouchpointHead.load(tmp_path)
    texts = ["The soup was too salty", "El camarero tardó muchísimo", ""]
    scores = again.predict_scores(texts)
    assert scores.shape == (3, len(taxonomy.names))
    assert np.all((scores >= 0) & (scores <= 1)) and np.all(scores[2] == 0)
    np.testing.assert_allclose(scores, head.predict_scores(texts), atol=0.02)
    # The blend with a linear head trained on the same rows: saved next to it, reloaded, same scores.
    zero_shot = ZeroShotTouchpoints(taxonomy, embedder=e5).fit()
    linear = TouchpointHead(taxonomy, C=4.0).fit(frame["text"].tolist(), e5.encode(frame["text"].tolist()),
                                                 frame["touchpoints"].tolist(), zero_shot)
    linear.save(tmp_path, name="head")
    blend = BlendedTouchpointHead(again, linear, 0.5)
    blend.save(tmp_path, linear_dir=".", linear_name="head")
    reloaded = BlendedTouchpointHead.load(tmp_path)
    vectors = e5.encode(texts)
    np.testing.assert_allclose(reloaded.predict_scores(texts, vectors, zero_shot),
                               blend.predict_scores(texts, vectors, zero_shot), atol=1e-6)
    assert reloaded.weight == 0.5
    annotator = TouchpointAnnotator("restaurant", head=tmp_path)
    annotations = annotator.annotate(texts, vectors, ["en", "es", "en"])
    assert isinstance(annotator._resolve().head, BlendedTouchpointHead)
    assert [a.label for a in annotations][2] == "other"
    assert set(annotations[0].scores) == set(taxonomy.names)


def test_restaurant_auto_head_is_the_shipped_blend(e5) -> None:
    """With ``head="auto"`` the restaurant taxonomy gets the shipped blend of the fine-tuned and linear heads."""
    annotator = TouchpointAnnotator("restaurant")
    texts = ["La paella estaba riquísima", "The waiter was rude to us", "Demasiado caro para lo que es"]
    annotations = annotator.annotate(texts, e5.encode(texts), ["es", "en", "es"])
    head = annotator._resolve().head
    assert isinstance(head, BlendedTouchpointHead) and 0.0 < head.weight < 1.0
    assert [a.label for a in annotations] == ["food", "service", "price"]
