"""Touchpoint assignment: zero-shot on es/en sentences, "other", the supervised head, given-column precedence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vocmine.errors import NotFittedError, VocmineError
from vocmine.nlp.taxonomy import OTHER, load_taxonomy
from vocmine.nlp.touchpoint import (
    TouchpointAnnotator,
    TouchpointHead,
    ZeroShotTouchpoints,
    agreement_with_given,
    apply_given,
    assign_touchpoints,
    decide,
    join_labels,
    keyword_hits,
    split_labels,
)
from vocmine.protocols import Annotation, Annotator


@pytest.fixture(scope="module")
def restaurant_zero_shot(e5):
    return ZeroShotTouchpoints("restaurant", embedder=e5).fit()


@pytest.fixture(scope="module")
def retail_zero_shot(e5):
    return ZeroShotTouchpoints("retail", embedder=e5).fit()


def _best(zero_shot: ZeroShotTouchpoints, text: str, e5) -> str:
    scores = zero_shot.predict_scores([text], e5.encode([text]))[0]
    return zero_shot.labels_[int(np.argmax(scores))]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("El camarero fue muy antipático.", "service"),
        ("The pasta was cold.", "food"),
        ("The waitress forgot our order twice.", "service"),
        ("La paella estaba sosa y fría.", "food"),
        ("Demasiado caro para lo que sirven.", "price"),
        ("Great cocktails and a good wine list.", "drinks"),
        ("Too noisy, we could not hear each other.", "ambience"),
    ],
)
def test_touchpoint_zero_shot_restaurant_es_en(restaurant_zero_shot, e5, text: str, expected: str) -> None:
    assert _best(restaurant_zero_shot, text, e5) == expected
    assert expected in restaurant_zero_shot.predict([text], e5.encode([text]))[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("El camarero fue muy antipático.", "staff"),
        ("Me sentí ignorado por el vendedor.", "staff"),
        ("El pedido llegó tarde y nadie contestó.", "delivery"),
        ("The app keeps crashing when I pay.", "website_app"),
        ("They charged my card twice at the till.", "checkout_payment"),
    ],
)
def test_touchpoint_zero_shot_retail(retail_zero_shot, e5, text: str, expected: str) -> None:
    assert _best(retail_zero_shot, text, e5) == expected


def test_touchpoint_other_outcome(restaurant_zero_shot, e5) -> None:
    texts = ["Fuimos un martes por la noche con mis suegros.", "It was my sister's birthday last week."]
    decisions = restaurant_zero_shot.predict(texts, e5.encode(texts))
    assert decisions == [[], []]
    assert join_labels(decisions[0]) == OTHER


def test_touchpoint_empty_text_scores_zero(restaurant_zero_shot, e5) -> None:
    scores = restaurant_zero_shot.predict_scores(["", "The pasta was cold."], e5.encode(["", "The pasta was cold."]))
    assert scores[0].max() == 0.0
    assert scores[1].max() > 0.5


def test_touchpoint_keyword_hits_fold_accents_and_words() -> None:
    taxonomy = load_taxonomy("restaurant")
    hits = keyword_hits(["La ATENCION fue mala", "Prices were high", "carefully"], taxonomy)
    names = taxonomy.names
    assert hits[0, names.index("service")] == 1.0
    assert hits[1, names.index("price")] == 1.0
    assert hits[2].sum() == 0.0  # "car" of "carefully" is no keyword hit: whole words only


@pytest.mark.parametrize(("text", "hit"), [
    ("El WiFi no iba", True), ("wifis gratis", False), ("hice el check-in tarde", True),
    ("precio: 20€ por noche", True), ("pagina .com caida", True), ("reserva en web.com", True),
    ("Precio justo", True), ("precios justos", False), ("sin nada que ver", False),
])
def test_keyword_pattern_keeps_each_keywords_own_boundaries(text: str, hit: bool) -> None:
    """Word-bounded keywords share one group; keywords that start or end with a symbol keep theirs."""
    from vocmine.nlp.touchpoint import _fold, _keyword_pattern

    pattern = _keyword_pattern(["wifi", "check-in", "€", ".com", "precio justo"])
    assert bool(pattern.search(_fold(text))) is hit


def test_touchpoint_labels_round_trip() -> None:
    assert split_labels("food;price") == ["food", "price"]
    assert split_labels("other") == []
    assert split_labels(None) == []
    assert join_labels([]) == OTHER
    assert decide(np.array([[0.2, 0.9, 0.6]]), ["a", "b", "c"]) == [["b", "c"]]


def test_touchpoint_zero_shot_not_fitted() -> None:
    with pytest.raises(NotFittedError):
        ZeroShotTouchpoints("restaurant").predict(["hola"], np.zeros((1, 384), np.float32))


TRAIN = [
    ("The steak was overcooked.", ["food"]),
    ("La carne estaba dura.", ["food"]),
    ("Delicious desserts.", ["food"]),
    ("Los postres, buenísimos.", ["food"]),
    ("The soup was salty.", ["food"]),
    ("El arroz estaba pasado.", ["food"]),
    ("Our waiter was very attentive.", ["service"]),
    ("La camarera fue muy simpática.", ["service"]),
    ("Service was painfully slow.", ["service"]),
    ("Nos atendieron fatal.", ["service"]),
    ("The staff ignored us.", ["service"]),
    ("El personal, encantador.", ["service"]),
    ("Way too expensive.", ["price"]),
    ("Precios muy razonables.", ["price"]),
    ("The pizza was cheap and tasty.", ["food", "price"]),
    ("La comida es cara para lo que es.", ["food", "price"]),
    ("We went on a Friday.", []),
    ("Fuimos con unos amigos.", []),
    ("My sister chose the place.", []),
    ("Llegamos a las nueve.", []),
    ("The music was loud.", ["ambience"]),
    ("El local es muy acogedor.", ["ambience"]),
]


@pytest.fixture(scope="module")
def trained_head(e5, restaurant_zero_shot):
    texts = [t for t, _ in TRAIN]
    head = TouchpointHead("restaurant", C=4.0).fit(texts, e5.encode(texts), [y for _, y in TRAIN], restaurant_zero_shot)
    return head


def test_touchpoint_head_fits_tiny_fixture(trained_head, restaurant_zero_shot, e5) -> None:
    texts = ["The chicken was dry and bland.", "El camarero fue muy antipático.", "Fuimos un domingo."]
    decisions = trained_head.predict(texts, e5.encode(texts), restaurant_zero_shot)
    assert "food" in decisions[0]
    assert "service" in decisions[1]
    assert decisions[2] == []
    scores = trained_head.predict_scores(texts, e5.encode(texts), restaurant_zero_shot)
    assert scores.shape == (3, 7)
    assert ((scores >= 0) & (scores <= 1)).all()


def test_touchpoint_head_save_load_round_trip(trained_head, restaurant_zero_shot, e5, tmp_path: Path) -> None:
    trained_head.save(tmp_path)
    loaded = TouchpointHead.load(tmp_path)
    texts = ["La cuenta fue carísima.", "The pasta was cold."]
    vectors = e5.encode(texts)
    np.testing.assert_allclose(
        loaded.predict_scores(texts, vectors, restaurant_zero_shot),
        trained_head.predict_scores(texts, vectors, restaurant_zero_shot),
        atol=1e-5,
    )


def test_touchpoint_head_rejects_unknown_labels_and_unfitted(e5) -> None:
    with pytest.raises(VocmineError, match="kitchen"):
        TouchpointHead("restaurant", zero_shot_features=False).fit(["x"], e5.encode(["x"]), [["kitchen"]])
    with pytest.raises(NotFittedError):
        TouchpointHead("restaurant").predict(["x"], np.zeros((1, 384), np.float32))


def test_touchpoint_annotator_labels_and_scores(e5, trained_head, tmp_path: Path) -> None:
    annotator = TouchpointAnnotator("restaurant", head=None, embedder_model=e5)
    assert isinstance(annotator, Annotator)
    assert (annotator.task, annotator.embedder) == ("touchpoint", "vocmine.e5_small.v1")
    texts = ["The pasta was cold.", "Fuimos un martes por la noche con mis suegros."]
    annotations = annotator.annotate(texts, e5.encode(texts), ["en", "es"])
    assert annotations[0].label.split(";")[0] == "food"
    assert annotations[1].label == OTHER
    assert set(annotations[0].scores) == set(load_taxonomy("restaurant").names)
    trained_head.save(tmp_path)
    with_head = TouchpointAnnotator("restaurant", head=tmp_path, embedder_model=e5)
    assert "food" in with_head.annotate(texts, e5.encode(texts), ["en", "es"])[0].label


def test_touchpoint_annotator_skips_languages_it_does_not_model(e5) -> None:
    """Like every classifier, touchpoints pass a Portuguese sentence through with a reason instead of an
    unmeasured guess; an emoji-only sentence (language undetermined) is still scored; a touchpoint the
    export gives wins even where the model skipped."""
    annotator = TouchpointAnnotator("retail", head=None, embedder_model=e5)
    texts = ["O atendimento foi ótimo, obrigado", "👍", "La entrega llegó dos días tarde."]
    annotations = annotator.annotate(texts, e5.encode(texts), ["pt", "und", "es"])
    assert annotations[0] == Annotation(None, {}, "language pt not modelled")
    assert annotations[1].skip_reason is None and annotations[1].label is not None
    assert annotations[2].label.split(";")[0] == "delivery"
    given = annotator.annotate(texts, e5.encode(texts), ["pt", "und", "es"], given=["staff", None, None])
    assert (given[0].label, given[0].skip_reason) == ("staff", None)
    with pytest.raises(ValueError, match="3 texts"):
        annotator.annotate(texts, e5.encode(texts), ["pt", "es"])


def test_touchpoint_annotator_registered() -> None:
    from vocmine import registry

    assert registry.get("annotator", "vocmine.touchpoint.v1") is TouchpointAnnotator


def test_touchpoint_given_column_wins(e5) -> None:
    annotator = TouchpointAnnotator("retail", head=None, embedder_model=e5)
    texts = ["El pedido llegó tarde y nadie contestó.", "Staff were lovely but checkout took ages."]
    annotations = annotator.annotate(texts, e5.encode(texts), ["es", "en"], given=["After_Sales", None])
    assert annotations[0].label == "after_sales"
    assert annotations[1].label != "after_sales"
    assert apply_given(["", "  ", "Tienda"], ["staff", "delivery", "staff"]) == ["staff", "delivery", "Tienda"]


def test_touchpoint_agreement_with_given() -> None:
    given = ["delivery", "staff", None, "other", "staff;price_value"]
    predicted = ["delivery;after_sales", "store_branch", "staff", "other", "staff;price_value"]
    report = agreement_with_given(given, predicted)
    assert report["n"] == 4
    assert report["hit_rate"] == pytest.approx(3 / 4)
    assert report["exact"] == pytest.approx(2 / 4)
    assert report["top_agrees"] == pytest.approx(3 / 4)
    assert report["per_touchpoint"]["staff"] == {"n": 2, "hit_rate": 0.5}
    assert agreement_with_given([None], ["staff"])["n"] == 0
    with pytest.raises(VocmineError):
        agreement_with_given(["a"], [])


def test_touchpoint_assign_touchpoints_dataframe(e5, sentences_es, sentences_en) -> None:
    frame = assign_touchpoints(sentences_es + sentences_en, taxonomy="retail", embedder=e5)
    assert list(frame.columns[:2]) == ["text", "touchpoints"]
    assert len(frame) == 8
    assert "delivery" in frame.loc[0, "touchpoints"]
    assert "price_value" in frame.loc[2, "touchpoints"]
    assert "staff" in frame.loc[3, "touchpoints"]
    assert {f"score_{n}" for n in load_taxonomy("retail").names} <= set(frame.columns)


def test_lexical_head_learns_words_tunes_thresholds_and_round_trips(tmp_path: Path, restaurant_rows) -> None:
    from vocmine.nlp.touchpoint import LexicalTouchpointHead

    rows = restaurant_rows * 5  # 80 sentences: enough for out-of-fold thresholds
    head = LexicalTouchpointHead("restaurant", C=4.0).fit([t for t, _ in rows], [labels for _, labels in rows])
    texts = ["La paella estaba muy rica", "The waiter was friendly", "", "Fuimos un martes"]
    scores = head.predict_scores(texts)
    names = head.labels_
    assert scores.shape == (4, len(names)) and np.all(scores[2] == 0)
    assert head.predict(texts)[0] == ["food"] and head.predict(texts)[1] == ["service"]
    assert head.predict(texts)[3] == []
    assert np.any(head.threshold_logits_ != 0)  # tuned out of fold, not left at 0
    head.save(tmp_path)
    again = LexicalTouchpointHead.load(tmp_path)
    np.testing.assert_allclose(again.predict_scores(texts), scores, atol=1e-6)
    with pytest.raises(VocmineError, match="not in taxonomy"):
        LexicalTouchpointHead("restaurant").fit(["Hola"], [["checkout"]])


def test_lexical_head_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    from vocmine.errors import ModelNotFoundError
    from vocmine.nlp.touchpoint import LexicalTouchpointHead

    with pytest.raises(ModelNotFoundError, match="vocmine train touchpoints"):
        LexicalTouchpointHead.load(tmp_path)
