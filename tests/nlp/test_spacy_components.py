"""vocmine as spaCy components: same sentences, same models, same labels as ``vocmine classify``."""

from __future__ import annotations

import pytest
import spacy

from vocmine.config import VocmineConfig
from vocmine.errors import ConfigError
from vocmine.nlp.sentences import split_sentences
from vocmine.nlp.spacy_components import TASKS, spacy_pipeline

SENTIMENTS = {"negative", "neutral", "positive"}
EMOTIONS = {"anger", "disgust", "fear", "joy", "sadness", "surprise"}


@pytest.fixture(scope="module")
def nlp_es():
    return spacy_pipeline("es")


@pytest.fixture(scope="module")
def nlp_en():
    return spacy_pipeline("en")


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("es", "¡Qué desastre de pedido! ¿Alguien lee los correos? Nadie contestó en dos semanas."),
        ("es", "El pedido llegó tarde\nLa dependienta fue muy amable"),
        ("en", "Staff were lovely. But checkout took ages! Will I come back? No."),
    ],
)
def test_spacy_sentences_follow_split_sentences(language: str, text: str) -> None:
    nlp = spacy.blank(language)
    nlp.add_pipe("vocmine_sentences")
    doc = nlp(text)
    assert [s.text.strip() for s in doc.sents] == [s.text for s in split_sentences(text, language)]


def test_spacy_sentences_opening_mark_starts_the_question() -> None:
    nlp = spacy.blank("es")
    nlp.add_pipe("vocmine_sentences")
    doc = nlp("¡Muy bien! ¿Volveremos? Seguro que sí.")
    assert [s.text for s in doc.sents] == ["¡Muy bien!", "¿Volveremos?", "Seguro que sí."]


def test_spacy_sentences_empty_doc() -> None:
    nlp = spacy.blank("en")
    nlp.add_pipe("vocmine_sentences")
    assert list(nlp("").sents) == []


def test_spacy_pipeline_declares_components() -> None:
    nlp = spacy_pipeline("en", tasks=["sentiment"])
    assert nlp.pipe_names == ["vocmine_sentences", "vocmine_annotations"]
    meta = nlp.get_pipe_meta("vocmine_annotations")
    assert "span._.sentiment" in meta.assigns
    assert "token.is_sent_start" in meta.requires
    assert nlp.get_pipe_config("vocmine_annotations")["tasks"] == ["sentiment"]


@pytest.mark.parametrize("language", ["pt", "xx", ""])
def test_spacy_pipeline_unsupported_language(language: str) -> None:
    with pytest.raises(ConfigError, match="choose from"):
        spacy_pipeline(language)


def test_spacy_pipeline_unknown_task() -> None:
    with pytest.raises(ConfigError, match="unknown vocmine task"):
        spacy_pipeline("es", tasks=["sarcasm"])


def test_spacy_annotations_label_every_sentence(nlp_es, sentences_es: list[str]) -> None:
    doc = nlp_es(" ".join(sentences_es))
    sentences = list(doc.sents)
    assert len(sentences) == len(sentences_es)
    for sentence in sentences:
        assert sentence._.language == "es"
        assert sentence._.sentiment in SENTIMENTS
        assert sum(sentence._.sentiment_scores.values()) == pytest.approx(1.0, abs=1e-4)
        assert set(sentence._.emotions) <= EMOTIONS
        assert sentence._.component in {"rational", "emotional"}
        assert sentence._.touchpoints
    assert doc._.sentiment in SENTIMENTS
    assert doc._.language == "es"
    # The excellent service is praise, the too-high price a complaint. (The late, unanswered order is a
    # coin flip between negative and neutral for the shipped head, see test_sentiment.py.)
    assert sentences[1]._.sentiment == "positive"
    assert sentences[2]._.sentiment == "negative"


def test_spacy_annotations_match_classify(nlp_en, sentences_en: list[str]) -> None:
    """doc._ labels are the per-text labels ``vocmine classify`` gives the same texts."""
    from vocmine.pipelines.classify import TextClassifierStack, classify_texts

    per_text, _ = classify_texts(sentences_en, TextClassifierStack.load(VocmineConfig()))
    docs = list(nlp_en.pipe(sentences_en, batch_size=3))
    assert [d._.sentiment for d in docs] == per_text["sentiment"].tolist()
    assert [d._.component for d in docs] == per_text["component"].tolist()
    assert [";".join(d._.touchpoints) for d in docs] == per_text["touchpoints"].tolist()
    for doc, probability in zip(docs, per_text["p_negative"], strict=True):
        assert doc._.sentiment_scores["negative"] == pytest.approx(probability, abs=1e-4)


def test_spacy_pipe_embeds_each_batch_once(nlp_en, sentences_en: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    component = nlp_en.get_pipe("vocmine_annotations")
    calls: list[int] = []
    stack_type = type(component.stack)
    original = stack_type.label_sentences

    def counting(self, texts, languages, groups=None):
        calls.append(len(texts))
        assert groups is not None and len(groups) == len(texts)  # each sentence's doc: sentiment reads context
        return original(self, texts, languages, groups)

    monkeypatch.setattr(stack_type, "label_sentences", counting)
    docs = list(nlp_en.pipe(sentences_en, batch_size=3))
    assert len(docs) == 4
    assert calls == [3, 1]


def test_spacy_annotations_skip_unmodelled_language(nlp_es) -> None:
    doc = nlp_es("O atendimento foi péssimo e demorado.")
    sentence = next(iter(doc.sents))
    assert doc._.language == "pt"
    assert sentence._.sentiment is None
    assert "pt" in sentence._.skipped["sentiment"]


def test_spacy_annotations_without_detection_trust_the_pipeline(sentences_en: list[str]) -> None:
    nlp = spacy_pipeline("en", tasks=["sentiment"], detect_language=False)
    doc = nlp(sentences_en[1])
    assert doc._.language == "en"
    assert doc._.sentiment == "negative"
    assert doc._.emotions is None  # the task was not asked for


def test_spacy_tasks_constant_matches_config() -> None:
    assert set(TASKS) == set(VocmineConfig().analysis.annotators)


def _as_list(label: str) -> list[str]:
    return [] if label in ("", "none") else label.split(";")


@pytest.fixture(scope="module")
def stack(nlp_es):
    """The stack both spaCy pipelines share (loaded once: same tasks and taxonomy), for label_texts too."""
    return nlp_es.get_pipe("vocmine_annotations").stack


@pytest.mark.parametrize(
    ("language", "text", "sentences"),
    [
        ("es", "Pros:\n- rápido\n- barato\n- amable", ["Pros:\n", "- rápido\n", "- barato\n", "- amable"]),
        ("en", "• fast delivery\n• rude driver\n• item broken", ["• fast delivery\n", "• rude driver\n",
                                                               "• item broken"]),
        ("es", "Lo peor:\n1. el envío\n2. la atención", ["Lo peor:\n", "1. el envío\n", "2. la atención"]),
        ("en", "Bad service.  - Never again", ["Bad service.  ", "- Never again"]),
    ],
)
def test_spacy_sentences_bullet_joins_its_item(language: str, text: str, sentences: list[str]) -> None:
    nlp = spacy.blank(language)
    nlp.add_pipe("vocmine_sentences")
    assert [s.text for s in nlp(text).sents] == sentences


def test_spacy_sentences_boundary_inside_a_token() -> None:
    """spaCy glues the emoji's variation selector to ".Will": the sentence starts at that token."""
    text = "Loved it ❤️.Will return"
    nlp = spacy.blank("en")
    nlp.add_pipe("vocmine_sentences")
    doc = nlp(text)
    assert len(split_sentences(text, "en")) == 2
    assert [s.text for s in doc.sents] == ["Loved it ❤", "️.Will return"]


def test_spacy_annotations_boundary_inside_a_token_labels_both(nlp_en) -> None:
    doc = nlp_en("Loved it ❤️.Will return")
    assert [s._.sentiment in SENTIMENTS for s in doc.sents] == [True, True]


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("es", "Pros:\n- rápido\n- barato\n- la dependienta muy amable"),
        ("en", "• fast delivery\n• rude driver\n• item arrived broken"),
        ("es", "¡Qué desastre de pedido! Llegó tarde y nadie contestó los correos."),
        ("en", "Staff were lovely but checkout took ages. Will I come back? Probably not."),
    ],
)
def test_spacy_annotations_equal_label_texts(language: str, text: str, nlp_es, nlp_en, stack) -> None:
    """Same sentence texts, same per-sentence and doc labels as classify's one labelling path."""
    from vocmine.pipelines.classify import label_texts

    nlp = nlp_es if language == "es" else nlp_en
    (labelled,) = label_texts([text], stack)
    doc = nlp(text)
    predicted = nlp.get_pipe("vocmine_annotations").predict([nlp.get_pipe("vocmine_sentences")(nlp.make_doc(text))])
    assert [s[2] for s in predicted[0]["sentences"]] == [s.text for s in labelled.sentences]
    assert doc._.language == labelled.language
    labelled_sents = [s for s in doc.sents if s._.skipped is not None]
    assert len(labelled_sents) == len(labelled.sentences)
    for position, (sent, span) in enumerate(zip(labelled_sents, labelled.sentences, strict=True)):
        assert span.text in sent.text
        assert sent._.sentiment == labelled.sentence_labels["sentiment"][position].label
        assert sent._.component == labelled.sentence_labels["component"][position].label
    assert doc._.sentiment == labelled.labels["sentiment"].label
    assert doc._.component == labelled.labels["component"].label
    assert doc._.emotions == _as_list(labelled.labels["emotion"].label)
    assert doc._.touchpoints == _as_list(labelled.labels["touchpoint"].label)
    for name, probability in labelled.labels["sentiment"].scores.items():
        assert doc._.sentiment_scores[name] == pytest.approx(probability, abs=1e-4)


def test_spacy_annotations_bare_bullet_sentence_is_not_labelled(nlp_es) -> None:
    doc = nlp_es("-\nEl pedido llegó roto")
    bullet, sentence = doc.sents
    assert bullet.text == "-\n"
    assert bullet._.sentiment is None and bullet._.skipped is None
    assert sentence._.sentiment in SENTIMENTS


@pytest.mark.parametrize("spacy_batch", [None, 1000])
def test_spacy_pipe_batches_at_most_batch_size_docs(
    spacy_batch: int | None, nlp_en, sentences_en: list[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    from vocmine.pipelines.classify import TextClassifierStack

    nlp = spacy_pipeline("en", batch_size=2)
    docs_per_call: list[int] = []
    original = TextClassifierStack.label_sentences

    def counting(self, texts, languages, groups=None):
        docs_per_call.append(len(set(groups)))
        return original(self, texts, languages, groups)

    monkeypatch.setattr(TextClassifierStack, "label_sentences", counting)
    texts = [*sentences_en, "Checkout took ages. The staff were lovely though."]
    docs = list(nlp.pipe(texts) if spacy_batch is None else nlp.pipe(texts, batch_size=spacy_batch))
    assert [d._.sentiment in SENTIMENTS for d in docs] == [True] * 5
    assert docs_per_call == [2, 2, 1]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"tasks": []}, "no vocmine tasks"),
        ({"tasks": "sentiment"}, "must be a list"),
        ({"taxonomy": "no_such_taxonomy"}, "unknown taxonomy"),
        ({"taxonomy": "missing/reviews.toml"}, "does not exist"),
        ({"tasks": ["sentiment"], "taxonomy": "retail"}, "'touchpoint' task"),
        ({"batch_size": 0}, "batch_size"),
    ],
)
def test_spacy_pipeline_bad_config_fails_at_build(settings: dict, message: str, monkeypatch) -> None:
    import vocmine.nlp.spacy_components as components

    monkeypatch.setattr(components, "_load_stack", None)  # no model may load while building
    with pytest.raises(ConfigError, match=message):
        spacy_pipeline("es", **settings)


def test_spacy_pipeline_bad_taxonomy_file_fails_at_build(tmp_path) -> None:
    broken = tmp_path / "tiendas.toml"
    broken.write_text('name = "tiendas"\n[[touchpoint]]\nname = "entrega"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="tiendas.toml"):
        spacy_pipeline("es", taxonomy=str(broken))


def test_spacy_add_pipe_empty_tasks_fails_at_build() -> None:
    nlp = spacy.blank("en")
    nlp.add_pipe("vocmine_sentences")
    with pytest.raises(ConfigError, match="no vocmine tasks"):
        nlp.add_pipe("vocmine_annotations", config={"tasks": []})


def test_spacy_pipeline_known_taxonomy_builds() -> None:
    nlp = spacy_pipeline("en", tasks=["touchpoint"], taxonomy="restaurant")
    assert nlp.get_pipe("vocmine_annotations").taxonomy == "restaurant"


@pytest.mark.parametrize("text", ["", "   \n "])
def test_spacy_annotations_empty_doc_has_no_language(nlp_es, text: str) -> None:
    doc = nlp_es(text)
    assert doc._.language is None
    assert doc._.sentiment is None
    assert doc._.skipped["sentiment"] == "no sentences"


def test_spacy_annotations_short_doc_takes_the_pipeline_language(nlp_en) -> None:
    """The documented difference from classify (which says "und" here)."""
    assert nlp_en("ok")._.language == "en"
