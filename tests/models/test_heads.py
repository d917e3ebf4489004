"""Classifier heads: fit / predict / save / load on tiny es+en fixtures, errors, registry names."""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path

import numpy as np
import pytest

from vocmine import registry
from vocmine.errors import ModelNotFoundError, NotFittedError
from vocmine.models.heads import EmbeddingLogisticHead, TfidfLogisticHead, fit_temperature, softmax

TEXTS = [
    "El pedido llegó tarde y nadie contestó.",
    "Pésima atención, no vuelvo.",
    "The food was cold and overpriced.",
    "Terrible service, we waited an hour.",
    "Staff were lovely and helpful.",
    "La atención fue excelente, muy amables.",
    "Great food, friendly waiters.",
    "Todo perfecto, lo recomiendo.",
    "The store opens at nine.",
    "El local está en la calle Mayor.",
    "We ordered two coffees.",
    "Pedimos la carta del día.",
]
LABELS = ["negative"] * 4 + ["positive"] * 4 + ["neutral"] * 4


class KeywordEmbedder:
    """A fake, deterministic embedder: cue words light up fixed dimensions, the rest is hash noise."""

    name = "test-keywords"
    dim = 8
    CUES = {
        0: ("tarde", "pésima", "cold", "terrible", "nadie", "no vuelvo", "waited"),
        1: ("lovely", "excelente", "great", "perfecto", "friendly", "amables"),
    }

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            lower = text.lower()
            for dim, cues in self.CUES.items():
                out[i, dim] = float(any(cue in lower for cue in cues))
            digest = hashlib.sha256(text.encode()).digest()
            out[i, 2:] = np.frombuffer(digest[:6], dtype=np.uint8) / 2550.0
            out[i, 7] = 0.5
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_softmax_rows_sum_to_one() -> None:
    proba = softmax(np.array([[1000.0, 0.0], [1.0, 2.0]]))
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert proba[0, 0] == pytest.approx(1.0)


def test_fit_temperature_softens_overconfident_logits() -> None:
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 2, 400)
    logits = np.zeros((400, 2))
    logits[np.arange(400), truth] = 10.0  # always "sure"...
    flip = rng.random(400) < 0.3  # ...but 30% wrong
    logits[flip] = logits[flip][:, ::-1]
    assert fit_temperature(logits, truth) > 2.0


def test_embedding_head_fit_predict_save_load_roundtrip(tmp_path: Path) -> None:
    head = EmbeddingLogisticHead(embedder=KeywordEmbedder(), C=10.0, calibrate=False).fit(TEXTS, LABELS)
    assert head.labels_ == ["negative", "neutral", "positive"]
    proba = head.predict_proba(TEXTS)
    assert proba.shape == (12, 3)
    assert np.allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    assert head.predict(["Staff were lovely"]) == ["positive"]
    assert head.predict(["El pedido llegó tarde"]) == ["negative"]

    head.save(tmp_path / "sentiment")
    loaded = EmbeddingLogisticHead.load(tmp_path / "sentiment")
    assert loaded.labels_ == head.labels_
    assert loaded.embedder == "test-keywords"  # only the name is saved
    X = KeywordEmbedder().encode(TEXTS)
    assert np.allclose(loaded.predict_proba_embeddings(X), proba, atol=1e-6)


def test_embedding_head_calibration_records_heldout_ece() -> None:
    X = KeywordEmbedder().encode(TEXTS * 5)
    head = EmbeddingLogisticHead(calibrate=True, calibration_fraction=0.3).fit_embeddings(X, LABELS * 5)
    assert head.temperature_ > 0
    assert set(head.calibration_) == {"heldout_n", "heldout_ece_before", "heldout_ece_after"}


def test_embedding_head_binary_labels_match_sklearn_probabilities() -> None:
    X = KeywordEmbedder().encode(TEXTS[:8])
    y = LABELS[:8]
    head = EmbeddingLogisticHead(calibrate=False).fit_embeddings(X, y)
    from sklearn.linear_model import LogisticRegression

    reference = LogisticRegression(class_weight="balanced", max_iter=2000, random_state=42).fit(X, y)
    assert np.allclose(head.predict_proba_embeddings(X), reference.predict_proba(X), atol=1e-5)


@pytest.mark.parametrize("head", [EmbeddingLogisticHead(), TfidfLogisticHead()])
def test_head_predict_before_fit_raises_not_fitted(head: object) -> None:
    with pytest.raises(NotFittedError):
        head.predict_proba(["hola"])  # type: ignore[attr-defined]


@pytest.mark.parametrize("cls", [EmbeddingLogisticHead, TfidfLogisticHead])
def test_head_load_missing_folder_names_the_train_command(
    cls: type, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("loading weights must never touch the network")

    monkeypatch.setattr(socket, "create_connection", no_network)
    with pytest.raises(ModelNotFoundError, match="vocmine train sentiment"):
        cls.load(tmp_path / "sentiment")


def test_embedding_head_rejects_single_class() -> None:
    with pytest.raises(ValueError, match="two classes"):
        EmbeddingLogisticHead(calibrate=False).fit_embeddings(np.eye(3, dtype=np.float32), ["a", "a", "a"])


def test_tfidf_head_fit_predict_save_load_roundtrip(tmp_path: Path) -> None:
    head = TfidfLogisticHead(min_df=1, C=10.0).fit(TEXTS, LABELS)
    proba = head.predict_proba(TEXTS)
    assert proba.shape == (12, 3)
    assert head.predict(TEXTS) == LABELS
    head.save(tmp_path / "tfidf")
    loaded = TfidfLogisticHead.load(tmp_path / "tfidf")
    assert np.allclose(loaded.predict_proba(TEXTS + ["Algo nuevo"]), head.predict_proba(TEXTS + ["Algo nuevo"]))


def test_tfidf_head_sample_weight_moves_the_fit_towards_the_heavy_rows() -> None:
    """A sentence both ways of labelling: its weight decides which label the head learns for it."""
    texts = [*TEXTS, "Muy lento pero amables."]
    plain = TfidfLogisticHead(min_df=1, C=10.0, class_weight=None)
    as_negative = plain.fit(texts, [*LABELS, "negative"],
                            sample_weight=np.array([1.0] * 12 + [20.0])).predict_proba(texts[-1:])
    as_positive = TfidfLogisticHead(min_df=1, C=10.0, class_weight=None).fit(
        texts, [*LABELS, "positive"], sample_weight=np.array([1.0] * 12 + [20.0])).predict_proba(texts[-1:])
    negative, positive = plain.labels_.index("negative"), plain.labels_.index("positive")
    assert as_negative[0, negative] > 0.5 and as_positive[0, positive] > 0.5
    unweighted = TfidfLogisticHead(min_df=1, C=10.0, class_weight=None).fit(texts, [*LABELS, "negative"])
    assert unweighted.predict_proba(texts[-1:])[0, negative] < as_negative[0, negative]


def test_fit_capped_breaks_ties_at_the_cut_alphabetically_whatever_the_text_order() -> None:
    """Five words tie at the cut; the first ones in alphabetical order are kept, on any machine and order."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from vocmine.models.heads import fit_capped

    texts = ["hotel hotel zumo pan", "hotel limpio caro", "hotel amable lento"]
    vocabularies = []
    for order in (texts, texts[::-1]):
        vectorizer = fit_capped(TfidfVectorizer(max_features=3), list(order))
        vocabularies.append(sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.get))
    assert vocabularies[0] == vocabularies[1] == ["amable", "caro", "hotel"]
    untied = ["hotel hotel hotel caro caro zumo", "hotel caro"]
    plain = TfidfVectorizer(max_features=2).fit(untied)
    capped = fit_capped(TfidfVectorizer(max_features=2), untied)
    assert capped.vocabulary_ == plain.vocabulary_
    assert np.allclose(capped.transform(untied).toarray(), plain.transform(untied).toarray())


def test_heads_are_registered_by_versioned_name() -> None:
    assert registry.get("classifier", "vocmine.e5_logreg.v1") is EmbeddingLogisticHead
    assert registry.get("classifier", "vocmine.tfidf_lr.v1") is TfidfLogisticHead
    assert isinstance(registry.create("classifier", "vocmine.tfidf_lr.v1", C=2.0), TfidfLogisticHead)


def test_tfidf_head_one_vs_rest_is_multi_label_and_round_trips(tmp_path: Path) -> None:
    """A sentence can be about two labels at once: each label gets its own logit and a sigmoid."""
    texts = ["La comida rica y barata", "Comida fría", "Muy caro todo", "The food was great and cheap",
             "Cold food", "Way too expensive", "El local es bonito", "Nice place"] * 2
    indicators = np.array([[1, 1], [1, 0], [0, 1], [1, 1], [1, 0], [0, 1], [0, 0], [0, 0]] * 2)
    head = TfidfLogisticHead(min_df=1, C=10.0).fit_one_vs_rest(texts, indicators, ["food", "price"])
    proba = head.predict_proba(["Comida barata", "Nice place"])
    assert proba.shape == (2, 2)
    assert proba[0, 0] > 0.5 and proba[0, 1] > 0.5  # both labels at once, as no softmax would allow
    assert proba[1].max() < 0.5
    head.save(tmp_path / "multi")
    loaded = TfidfLogisticHead.load(tmp_path / "multi")
    assert loaded.multi_label and loaded.labels_ == ["food", "price"]
    assert np.allclose(loaded.predict_proba(texts), head.predict_proba(texts))
    with pytest.raises(ValueError, match="shape"):
        TfidfLogisticHead().fit_one_vs_rest(texts, indicators[:3], ["food", "price"])


def test_blend_with_context_head_routes_only_sentences_with_neighbours(tmp_path: Path) -> None:
    """The context member scores the sentences that have a neighbour in their answer; the others score as in a
    blend without one; both survive save/load, and fitting without the rows' context is an error."""
    from vocmine.models.context import SentenceContext
    from vocmine.models.heads import BlendedHead

    X = KeywordEmbedder().encode(TEXTS)
    # Each row's "answer" holds the next row of the same class: its window leans to that class.
    window = (X + np.roll(X, -1, axis=0)) / 2
    context = SentenceContext(window, np.array([i % 2 == 0 for i in range(len(TEXTS))]))

    def blend(with_context: bool) -> BlendedHead:
        return BlendedHead(EmbeddingLogisticHead(KeywordEmbedder(), C=10.0, calibrate=False),
                           TfidfLogisticHead(min_df=1), weight=0.7,
                           context_head=EmbeddingLogisticHead(KeywordEmbedder(), C=10.0, calibrate=False)
                           if with_context else None)

    plain = blend(False).fit(TEXTS, LABELS, embeddings=X)
    routed = blend(True).fit(TEXTS, LABELS, embeddings=X, context=context)
    assert routed.reads_context and not plain.reads_context
    alone = ~context.has_neighbour
    np.testing.assert_allclose(routed.predict_proba(TEXTS, X, context)[alone], plain.predict_proba(TEXTS, X)[alone])
    assert not np.allclose(routed.predict_proba(TEXTS, X, context)[~alone], plain.predict_proba(TEXTS, X)[~alone])
    # Without context every sentence is scored by the e5 member, as a one-sentence answer would be.
    np.testing.assert_allclose(routed.predict_proba(TEXTS, X), plain.predict_proba(TEXTS, X))
    routed.save(tmp_path / "blend")
    loaded = BlendedHead.load(tmp_path / "blend")
    assert loaded.reads_context
    np.testing.assert_allclose(loaded.predict_proba(TEXTS, X, context), routed.predict_proba(TEXTS, X, context),
                               atol=1e-6)
    with pytest.raises(ValueError, match="needs the rows' context"):
        blend(True).fit(TEXTS, LABELS, embeddings=X)
