"""vocmine inside spaCy: ``spacy_pipeline("es" | "en")`` for researchers who live in spaCy.

Two components, declared with ``Language.factory`` so they can also be added to any pipeline by name:

- ``vocmine_sentences`` sets sentence boundaries from :func:`vocmine.nlp.sentences.split_sentences`, so
  ``doc.sents`` are the same sentences the ``analyze`` stage stores (spaCy's plain sentencizer puts an
  opening "¿"/"¡" on the wrong sentence and ignores line breaks and bullets, which reviews are full of).
- ``vocmine_annotations`` labels every sentence with the registry's annotators, loaded once through
  :class:`vocmine.pipelines.classify.TextClassifierStack` (the same models as ``vocmine classify`` and
  ``analyze``), and combines a doc's label from its sentences exactly as ``analyze`` combines an answer's.
  ``nlp.pipe`` batches: the sentences of a whole batch of docs are embedded in one call.

Extensions written (spaCy's ``predict``/``set_annotations`` split: predict only computes):

========================  =========================================================================
``sent._.sentiment``      "negative" / "neutral" / "positive" (None when skipped)
``sent._.sentiment_scores``  probability per sentiment label
``sent._.emotions``       list of emotions ([] = none), from anger, disgust, fear, joy, sadness, surprise
``sent._.component``      "rational" / "emotional" (None when skipped)
``sent._.touchpoints``    list of touchpoint names of the taxonomy
``sent._.language``       the sentence's detected language
``sent._.skipped``        why a sentence was not labelled per task (e.g. language not modelled)
``doc._.sentiment`` ...   the same five labels for the whole doc, plus ``doc._.language``
========================  =========================================================================

The doc's text is never changed; the annotators see the sentence with PII redacted, as in the store.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from typing import Any

import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span

from vocmine.config import VocmineConfig
from vocmine.errors import ConfigError
from vocmine.nlp.language import UNDETERMINED, detect_languages, is_modelled
from vocmine.nlp.pii import redact
from vocmine.nlp.sentences import split_sentences
from vocmine.protocols import Annotation

logger = logging.getLogger(__name__)

#: Languages with a blank spaCy tokenizer here and trained vocmine models.
SUPPORTED_LANGUAGES = ("es", "en")
#: The annotator tasks, in the order they are written; keys of ``config.analysis.annotators``.
TASKS = ("sentiment", "emotion", "component", "touchpoint")
#: Extension attribute written per task; multi-label tasks hold lists.
TASK_ATTRIBUTES = {
    "sentiment": "sentiment",
    "emotion": "emotions",
    "component": "component",
    "touchpoint": "touchpoints",
}
_MULTI_LABEL = frozenset({"emotion", "touchpoint"})


def register_extensions() -> None:
    """Declare the ``Doc``/``Span`` extensions once (idempotent, so re-importing is harmless)."""
    for holder in (Doc, Span):
        for attribute in (*TASK_ATTRIBUTES.values(), "sentiment_scores", "language", "skipped"):
            if not holder.has_extension(attribute):
                holder.set_extension(attribute, default=None)


register_extensions()


class SentenceBoundaries:
    """Sets ``token.is_sent_start`` so that ``doc.sents`` follow vocmine's sentence rules.

    Tokens between two vocmine sentences (a list bullet, an emoji run) join the sentence before them;
    spaCy needs every token in some sentence.
    """

    def __init__(self, nlp: Language, name: str) -> None:
        self.name = name
        self.language = nlp.lang

    def __call__(self, doc: Doc) -> Doc:
        if len(doc) == 0:
            return doc
        starts = {span.start for span in split_sentences(doc.text, self.language)}
        for token in doc:
            token.is_sent_start = token.i == 0 or token.idx in starts
        return doc


class SentenceAnnotations:
    """Labels each sentence, and the doc, with vocmine's annotators (see the module docstring)."""

    def __init__(self, nlp: Language, name: str, tasks: Sequence[str], taxonomy: str | None,
                 detect: bool, batch_size: int) -> None:
        unknown = [t for t in tasks if t not in TASKS]
        if unknown:
            raise ConfigError(f"unknown vocmine task(s) {unknown}; choose from {list(TASKS)}")
        self.name = name
        self.language = nlp.lang
        self.tasks = tuple(tasks)
        self.taxonomy = taxonomy
        self.detect = detect
        self.batch_size = batch_size
        self._stack: Any = None

    @property
    def stack(self) -> Any:
        """The models, loaded on first use and shared by every pipeline with the same tasks/taxonomy."""
        if self._stack is None:
            self._stack = _load_stack(self.tasks, self.taxonomy)
        return self._stack

    def __call__(self, doc: Doc) -> Doc:
        self.set_annotations([doc], self.predict([doc]))
        return doc

    def pipe(self, docs: Iterable[Doc], batch_size: int | None = None) -> Iterator[Doc]:
        size = batch_size or self.batch_size
        batch: list[Doc] = []
        for doc in docs:
            batch.append(doc)
            if len(batch) >= size:
                self.set_annotations(batch, self.predict(batch))
                yield from batch
                batch = []
        if batch:
            self.set_annotations(batch, self.predict(batch))
            yield from batch

    def predict(self, docs: Sequence[Doc]) -> list[dict[str, Any]]:
        """Per doc: its language and, per sentence, ``(start_char, end_char, language, {task: Annotation})``.

        Every sentence of the batch is embedded in one call; nothing is written to the docs.
        """
        rows: list[tuple[int, Span, str, str]] = []
        doc_languages = []
        for index, doc in enumerate(docs):
            language = self._doc_language(doc)
            doc_languages.append(language)
            sentences = [s for s in doc.sents if s.text.strip()]
            texts = [redact(s.text) for s in sentences]
            if self.detect:
                guesses = detect_languages(texts, fallback=[language] * len(texts))
                guesses = [language if g == UNDETERMINED else g for g in guesses]
            else:
                guesses = [language] * len(texts)
            rows.extend((index, s, t, g) for s, t, g in zip(sentences, texts, guesses, strict=True))
        labels = self.stack.label_sentences([r[2] for r in rows], [r[3] for r in rows], [r[0] for r in rows])
        out: list[dict[str, Any]] = [{"language": lang, "sentences": []} for lang in doc_languages]
        for position, (index, sentence, text, language) in enumerate(rows):
            per_task = {task: labels[task][position] for task in labels}
            out[index]["sentences"].append((sentence.start_char, sentence.end_char, text, language, per_task))
        return out

    def set_annotations(self, docs: Sequence[Doc], predictions: Sequence[dict[str, Any]]) -> None:
        from vocmine.pipelines.steps import combine_sentence_annotations

        for doc, prediction in zip(docs, predictions, strict=True):
            doc._.language = prediction["language"]
            sentences = prediction["sentences"]
            for start, end, _, language, per_task in sentences:
                span = doc.char_span(start, end, alignment_mode="expand")
                span._.language = language
                _write(span, per_task)
            combined = {
                task: combine_sentence_annotations([s[2] for s in sentences], [s[4][task] for s in sentences],
                                                   task in _MULTI_LABEL)
                for task in self.stack.annotators
            }
            _write(doc, combined)

    def _doc_language(self, doc: Doc) -> str:
        if not self.detect:
            return self.language
        # Too short or ambiguous to tell ("Bien" reads as German): the pipeline's language, as for sentences.
        return detect_languages([doc.text], fallback=[self.language])[0]


def _write(holder: Doc | Span, per_task: dict[str, Annotation]) -> None:
    skipped = {}
    for task, annotation in per_task.items():
        attribute = TASK_ATTRIBUTES[task]
        if task in _MULTI_LABEL and annotation.label is not None:
            value: Any = [] if annotation.label in ("", "none") else annotation.label.split(";")
        else:
            value = annotation.label
        setattr(holder._, attribute, value)
        if task == "sentiment":
            holder._.sentiment_scores = dict(annotation.scores)
        if annotation.skip_reason:
            skipped[task] = annotation.skip_reason
    holder._.skipped = skipped


@lru_cache(maxsize=4)
def _load_stack(tasks: tuple[str, ...], taxonomy: str | None) -> Any:
    from vocmine.pipelines.classify import TextClassifierStack

    defaults = VocmineConfig()
    annotators = {t: n for t, n in defaults.analysis.annotators.items() if t in tasks}
    analysis = defaults.analysis.model_copy(update={"annotators": annotators})
    config = defaults.model_copy(update={"analysis": analysis})
    stack = TextClassifierStack.load(config, taxonomy=taxonomy)
    for task, reason in stack.unavailable.items():
        logger.warning("spaCy pipeline without %s: %s", task, reason)
    return stack


@Language.factory("vocmine_sentences", assigns=["token.is_sent_start"])
def make_sentence_boundaries(nlp: Language, name: str) -> SentenceBoundaries:
    return SentenceBoundaries(nlp, name)


@Language.factory(
    "vocmine_annotations",
    requires=["token.is_sent_start"],
    assigns=[f"doc._.{a}" for a in TASK_ATTRIBUTES.values()] + [f"span._.{a}" for a in TASK_ATTRIBUTES.values()],
    default_config={"tasks": list(TASKS), "taxonomy": None, "detect_language": True, "batch_size": 64},
)
def make_sentence_annotations(nlp: Language, name: str, tasks: list[str], taxonomy: str | None,
                              detect_language: bool, batch_size: int) -> SentenceAnnotations:
    return SentenceAnnotations(nlp, name, tasks, taxonomy, detect_language, batch_size)


def spacy_pipeline(
    language: str = "es",
    *,
    tasks: Sequence[str] = TASKS,
    taxonomy: str | None = None,
    detect_language: bool = True,
    batch_size: int = 64,
) -> Language:
    """A blank spaCy pipeline for ``language`` with vocmine's sentences and annotations.

    ``tasks`` picks annotators (any of :data:`TASKS`); ``taxonomy`` names the touchpoint taxonomy
    (default: the config's, "retail"); with ``detect_language`` each doc and sentence gets its own
    language (an English sentence in a Spanish pipeline is labelled as English, Portuguese is skipped),
    otherwise everything is taken to be ``language``. Models load on the first doc, not here.

    >>> nlp = spacy_pipeline("es")  # doctest: +SKIP
    >>> doc = nlp("El pedido llegó tarde. ¡La dependienta fue muy amable!")  # doctest: +SKIP
    >>> [(s.text, s._.sentiment, s._.touchpoints) for s in doc.sents]  # doctest: +SKIP
    """
    if language not in SUPPORTED_LANGUAGES:
        raise ConfigError(f"no vocmine spaCy pipeline for {language!r}; choose from {list(SUPPORTED_LANGUAGES)}")
    nlp = spacy.blank(language)
    nlp.add_pipe("vocmine_sentences")
    nlp.add_pipe(
        "vocmine_annotations",
        config={"tasks": list(tasks), "taxonomy": taxonomy, "detect_language": detect_language,
                "batch_size": batch_size},
    )
    return nlp


def is_supported(language: str) -> bool:
    """Whether :func:`spacy_pipeline` builds a pipeline for ``language`` (and its models are trained)."""
    return language in SUPPORTED_LANGUAGES and is_modelled(language)
