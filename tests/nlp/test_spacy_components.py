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
