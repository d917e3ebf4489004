"""A fine-tuned touchpoint head saves, reloads, blends with the linear and lexical heads and plugs into the
touchpoint annotator."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("torch")

from vocmine.errors import VocmineError  # noqa: E402
from vocmine.models.finetune import FineTuneSettings  # noqa: E402
from vocmine.models.train_touchpoints import blend_heads, finetune_head  # noqa: E402
from vocmine.nlp.taxonomy import load_taxonomy  # noqa: E402
from vocmine.nlp.touchpoint import (  # noqa: E402
    BlendedTouchpointHead,
    FineTunedTouchpointHead,
    LexicalTouchpointHead,
    TouchpointAnnotator,
    TouchpointHead,
    ZeroShotTouchpoints,
)


def test_finetuned_head_round_trips_blends_and_annotates(tmp_path, e5, restaurant_rows) -> None:
    taxonomy = load_taxonomy("restaurant")
    rows = restaurant_rows * 2
    frame = pd.DataFrame({"text": [t for t, _ in rows], "touchpoints": [labels for _, labels in rows]})
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
    # The blend with a linear and a lexical head trained on the same rows: saved, reloaded, same scores.
    zero_shot = ZeroShotTouchpoints(taxonomy, embedder=e5).fit()
    linear = TouchpointHead(taxonomy, C=4.0).fit(frame["text"].tolist(), e5.encode(frame["text"].tolist()),
                                                 frame["touchpoints"].tolist(), zero_shot)
    linear.save(tmp_path, name="head")
    lexical = LexicalTouchpointHead(taxonomy).fit(frame["text"].tolist(), frame["touchpoints"].tolist())
    lexical.save(tmp_path)
    blend = BlendedTouchpointHead([("e5_lora", again, 0.3), ("linear", linear, 0.4), ("lexical", lexical, 0.3)])
    blend.save(tmp_path, linear_dir=".", linear_name="head")
    reloaded = BlendedTouchpointHead.load(tmp_path)
    vectors = e5.encode(texts)
    np.testing.assert_allclose(reloaded.predict_scores(texts, vectors, zero_shot),
                               blend.predict_scores(texts, vectors, zero_shot), atol=1e-6)
    assert reloaded.weights == {"e5_lora": 0.3, "linear": 0.4, "lexical": 0.3}
    members = reloaded.member_scores(texts, vectors, zero_shot)
    np.testing.assert_allclose(reloaded.combine(members),
                               0.3 * members["e5_lora"] + 0.4 * members["linear"] + 0.3 * members["lexical"])
    annotator = TouchpointAnnotator("restaurant", head=tmp_path)
    annotations = annotator.annotate(texts, vectors, ["en", "es", "en"])
    assert isinstance(annotator._resolve().head, BlendedTouchpointHead)
    assert [a.label for a in annotations][2] == "other"
    assert set(annotations[0].scores) == set(taxonomy.names)
    # A blend written before the lexical member (one weight) still loads, as two members.
    (tmp_path / "blend.json").write_text('{"weight": 0.6, "linear_dir": ".", "linear_name": "head"}')
    assert BlendedTouchpointHead.load(tmp_path).weights == {"e5_lora": 0.6, "linear": pytest.approx(0.4)}
    with pytest.raises(VocmineError, match="disagree"):
        retail = LexicalTouchpointHead("retail").fit(frame["text"].tolist(), [[]] * len(frame))
        BlendedTouchpointHead([("e5_lora", again, 0.5), ("lexical", retail, 0.5)])
    # blend_heads: weights on the grid, summing to 1, the fine-tuned heads sharing theirs.
    tuned = blend_heads(frame, e5.encode(frame["text"].tolist()), {"e5_lora": again, "e5_lora_2": again}, linear,
                        zero_shot, seed=0)
    assert sum(tuned.weights.values()) == pytest.approx(1.0)
    assert tuned.weights.get("e5_lora", 0.0) == tuned.weights.get("e5_lora_2", 0.0)
    assert tuned.tuning["held_out_rows"] > 0


def test_restaurant_auto_head_is_the_shipped_blend(e5) -> None:
    """With ``head="auto"`` the restaurant taxonomy gets the shipped blend of the fine-tuned and linear heads."""
    annotator = TouchpointAnnotator("restaurant")
    texts = ["La paella estaba riquísima", "The waiter was rude to us", "Demasiado caro para lo que es"]
    annotations = annotator.annotate(texts, e5.encode(texts), ["es", "en", "es"])
    head = annotator._resolve().head
    assert isinstance(head, BlendedTouchpointHead)
    assert set(head.weights) == {"e5_lora", "e5_lora_2", "linear", "lexical"}
    assert sum(head.weights.values()) == pytest.approx(1.0)
    assert [a.label for a in annotations] == ["food", "service", "price"]
