"""vocmine inside spaCy: ``spacy_pipeline("es" | "en")`` for researchers who live in spaCy.

Two components, declared with ``Language.factory`` so they can also be added to any pipeline by name:

- ``vocmine_sentences`` sets sentence boundaries from :func:`vocmine.nlp.sentences.split_sentences`, so each
  of ``doc.sents`` holds one of the sentences the ``analyze`` stage stores (spaCy's plain sentencizer puts an
  opening "¿"/"¡" on the wrong sentence and ignores line breaks and bullets, which reviews are full of).
  spaCy needs every token in some sentence, so a ``doc.sents`` span also holds what vocmine leaves out
  around its sentence: a list bullet before it on its line ("- rápido"), the line break after it.
- ``vocmine_annotations`` labels every sentence with the registry's annotators, loaded once through
  :class:`vocmine.pipelines.classify.TextClassifierStack` (the same models as ``vocmine classify`` and
  ``analyze``), and combines a doc's label from its sentences exactly as ``analyze`` combines an answer's.
  The annotators see vocmine's sentence texts (never a bullet), so the labels are those of
  :func:`vocmine.pipelines.classify.label_texts`; a ``doc.sents`` span that holds no vocmine sentence
  (a leading bare bullet) gets no labels. ``nlp.pipe`` batches: the sentences of up to ``batch_size`` docs
  are embedded in one call.

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
Where ``vocmine classify`` differs: a doc too short or ambiguous to tell its language ("ok", "😀😀😀")
takes the pipeline's language (a pipeline built for Spanish is a statement about its docs), where classify
says "und" and skips it; an empty doc has no language (None). Sentences are split before redaction (their
offsets point into the doc's text) and in the pipeline's language, and the text is not cleaned of HTML.
"""

from __future__ import annotations

import logging
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from typing import Any

import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span

from vocmine.config import VocmineConfig
from vocmine.errors import ConfigError
from vocmine.nlp.language import detect_languages, is_modelled
from vocmine.nlp.pii import redact
from vocmine.nlp.sentences import SentenceSpan, split_sentences
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


def sentence_start_tokens(doc: Doc, sentences: Sequence[SentenceSpan]) -> list[int]:
    """Indices of the tokens that start vocmine's ``sentences`` of ``doc`` (always including 0 for a doc
    with tokens), in order.

    Tokens between two sentences join the one after them when they precede it on its line (a list bullet
    belongs to its item: "- rápido"), else the one before them (the line break after a sentence); leading
    spaces stay behind. A sentence that starts inside a token ("Loved it ❤️.Will": spaCy glues the
    variation selector to ".Will") starts at that token; only one inside the doc's first token, or inside
    the token that already starts the previous sentence, cannot be told apart and is merged (logged).
    """
    if len(doc) == 0:
        return []
    offsets = [token.idx for token in doc]
    starts = [0]
    previous_end = 0
    for position, sentence in enumerate(sentences):
        first = bisect_right(offsets, sentence.start) - 1  # the token holding the sentence's first character
        if offsets[first] != sentence.start:
            logger.debug("sentence at character %d starts inside token %r", sentence.start, doc[first].text)
        start = first
        while (start > 0 and offsets[start - 1] >= previous_end
               and not any(mark in doc.text[offsets[start - 1]:sentence.start] for mark in "\n\r")):
            start -= 1
        while start < first and doc[start].is_space:
            start += 1
        previous_end = sentence.end
        if start > starts[-1]:
            starts.append(start)
        elif position > 0:
            logger.debug("sentence at character %d merged into the previous one: no token boundary between them",
                         sentence.start)
    return starts


class SentenceBoundaries:
    """Sets ``token.is_sent_start`` so that ``doc.sents`` follow vocmine's sentence rules
    (see :func:`sentence_start_tokens`)."""

    def __init__(self, nlp: Language, name: str) -> None:
        self.name = name
        self.language = nlp.lang

    def __call__(self, doc: Doc) -> Doc:
        if len(doc) == 0:
            return doc
        starts = set(sentence_start_tokens(doc, split_sentences(doc.text, self.language)))
        for token in doc:
            token.is_sent_start = token.i in starts
        return doc


def check_annotation_config(tasks: Sequence[str], taxonomy: str | None, batch_size: int) -> None:
    """Raise :class:`~vocmine.errors.ConfigError` for settings that would fail, or be ignored, on the first
    doc: no tasks, a bare string for the tasks, an unknown task, a taxonomy that does not load (checked by
    parsing its TOML, no model loads) or one given without the touchpoint task, a batch size below 1."""
    if isinstance(tasks, str):
        raise ConfigError(f"vocmine tasks must be a list, got the string {tasks!r}; e.g. tasks=[{tasks!r}]")
    if not tasks:
        raise ConfigError(f"no vocmine tasks given; choose one or more of {list(TASKS)}")
    unknown = [t for t in tasks if t not in TASKS]
    if unknown:
        raise ConfigError(f"unknown vocmine task(s) {unknown}; choose from {list(TASKS)}")
    if taxonomy is not None:
        if "touchpoint" not in tasks:
            raise ConfigError(f"taxonomy {taxonomy!r} is only used by the 'touchpoint' task, which is not among "
                              f"the tasks {list(tasks)}; add it or drop the taxonomy")
        from vocmine.nlp.taxonomy import load_taxonomy

        load_taxonomy(taxonomy)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"vocmine batch_size must be a whole number of docs, at least 1; got {batch_size!r}")


class SentenceAnnotations:
    """Labels each sentence, and the doc, with vocmine's annotators (see the module docstring)."""

    def __init__(self, nlp: Language, name: str, tasks: Sequence[str], taxonomy: str | None,
                 detect: bool, batch_size: int) -> None:
        check_annotation_config(tasks, taxonomy, batch_size)
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
        """Label ``docs`` in batches of the configured ``batch_size``, or of spaCy's when that is smaller.

        ``nlp.pipe`` always passes its own batch size (``nlp.batch_size``, 1000, when not given), so taking
        it alone would let one embedding call hold the sentences of a thousand docs: the configured size
        bounds the memory.
        """
        size = min(self.batch_size, batch_size) if batch_size else self.batch_size
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
        """Per doc: ``language``, ``sentences`` (per vocmine sentence ``(start_char, end_char, text, language,
        {task: Annotation})``, text redacted) and ``labels`` (the doc's, combined from its sentences').

        The sentences of up to ``batch_size`` docs are embedded in one call; nothing is written to the docs.
        """
        out: list[dict[str, Any]] = []
        for first in range(0, len(docs), self.batch_size):
            out.extend(self._predict_batch(docs[first:first + self.batch_size]))
        return out

    def _predict_batch(self, docs: Sequence[Doc]) -> list[dict[str, Any]]:
        from vocmine.pipelines.steps import combine_sentence_annotations

        rows: list[tuple[int, SentenceSpan, str, str]] = []
        doc_languages = []
        for index, doc in enumerate(docs):
            language = self._doc_language(doc)
            doc_languages.append(language)
            # The same split as vocmine_sentences, so each sentence lies in one of doc.sents.
            sentences = split_sentences(doc.text, self.language)
            texts = [redact(s.text) for s in sentences]
            fallback = language or self.language
            if self.detect:
                guesses = detect_languages(texts, fallback=[fallback] * len(texts))
            else:
                guesses = [fallback] * len(texts)
            rows.extend((index, s, t, g) for s, t, g in zip(sentences, texts, guesses, strict=True))
        labels = self.stack.label_sentences([r[2] for r in rows], [r[3] for r in rows], [r[0] for r in rows])
        out: list[dict[str, Any]] = [{"language": lang, "sentences": []} for lang in doc_languages]
        for position, (index, sentence, text, language) in enumerate(rows):
            per_task = {task: labels[task][position] for task in labels}
            out[index]["sentences"].append((sentence.start, sentence.end, text, language, per_task))
        for prediction in out:
            sentences = prediction["sentences"]
            prediction["labels"] = {
                task: combine_sentence_annotations([s[2] for s in sentences], [s[4][task] for s in sentences],
                                                   task in _MULTI_LABEL)
                for task in labels
            }
        return out

    def set_annotations(self, docs: Sequence[Doc], predictions: Sequence[dict[str, Any]]) -> None:
        from vocmine.pipelines.steps import combine_sentence_annotations

        for doc, prediction in zip(docs, predictions, strict=True):
            doc._.language = prediction["language"]
            spans = list(doc.sents) if len(doc) else []
            span_starts = [span.start_char for span in spans]
            held: dict[int, list[tuple[Any, ...]]] = {}
            for sentence in prediction["sentences"]:
                held.setdefault(max(bisect_right(span_starts, sentence[0]) - 1, 0), []).append(sentence)
            for number, sentences in held.items():
                span = spans[number]
                span._.language = sentences[0][3]
                if len(sentences) == 1:
                    _write(span, sentences[0][4])
                else:  # vocmine sentences that share a spaCy sentence (a boundary inside a token)
                    _write(span, {task: combine_sentence_annotations([s[2] for s in sentences],
                                                                     [s[4][task] for s in sentences],
                                                                     task in _MULTI_LABEL)
                                  for task in sentences[0][4]})
            _write(doc, prediction["labels"])

    def _doc_language(self, doc: Doc) -> str | None:
        if not doc.text.strip():
            return None  # nothing to tell; classify says "und"
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

    ``tasks`` picks annotators (a list of any of :data:`TASKS`); ``taxonomy`` names the touchpoint taxonomy
    (default: the config's, "retail"; only with the touchpoint task); with ``detect_language`` each doc and
    sentence gets its own language (an English sentence in a Spanish pipeline is labelled as English,
    Portuguese is skipped),
    otherwise everything is taken to be ``language``. Models load on the first doc, not here; bad settings
    (see :func:`check_annotation_config`) raise :class:`~vocmine.errors.ConfigError` here.

    >>> nlp = spacy_pipeline("es")  # doctest: +SKIP
    >>> doc = nlp("El pedido llegó tarde. ¡La dependienta fue muy amable!")  # doctest: +SKIP
    >>> [(s.text, s._.sentiment, s._.touchpoints) for s in doc.sents]  # doctest: +SKIP
    """
    if language not in SUPPORTED_LANGUAGES:
        raise ConfigError(f"no vocmine spaCy pipeline for {language!r}; choose from {list(SUPPORTED_LANGUAGES)}")
    check_annotation_config(tasks, taxonomy, batch_size)  # before list(): list("sentiment") is nine letters
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
