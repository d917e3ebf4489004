"""Sentiment (negative / neutral / positive, calibrated probabilities) for Spanish and English texts.

The annotator is what the ``analyze`` stage runs: it receives each sentence's (or answer's) e5 vector,
computed once by the pipeline and shared with the other tasks, plus the text for the TF-IDF member of
the shipped blend (see models/weights/sentiment/README.md). Texts in other languages are passed through
with a skip reason instead of a guess: the model was trained and measured on es and en only.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vocmine.models.heads import BlendedHead
from vocmine.nlp.language import skip_reason
from vocmine.protocols import Annotation
from vocmine.registry import register

logger = logging.getLogger(__name__)

SENTIMENT_WEIGHTS = Path(__file__).resolve().parent.parent / "models" / "weights" / "sentiment"

def load_sentiment_model(weights_dir: Path | None = None) -> Any:
    """The sentiment model in ``weights_dir`` (default: the shipped blend), loaded once per process: a
    :class:`BlendedHead` (a few MB; ~1 s) or, for a fine-tuned folder, a
    :class:`~vocmine.models.sentiment_ft.FineTunedSentimentModel` (~10 s and ~0.5 GB: e5 in torch)."""
    return _load_model(str(Path(weights_dir) if weights_dir is not None else SENTIMENT_WEIGHTS))


@lru_cache(maxsize=4)
def _load_model(directory: str) -> Any:
    """Cached per folder; :func:`vocmine.models.loaded.release_models` lets it go before the corpus-wide steps."""
    from vocmine.models.sentiment_ft import FineTunedSentimentModel

    path = Path(directory)
    return FineTunedSentimentModel.load(path) if FineTunedSentimentModel.exists(path) else BlendedHead.load(path)


@register("annotator", "vocmine.sentiment.v1")
class SentimentAnnotator:
    """Labels each text negative / neutral / positive, with all three probabilities as scores.

    ``languages`` gives each text's language (None or "und": unknown, scored anyway so that short texts
    such as "ok!!" still get a label); any other language but es/en is skipped with a reason.
    """

    task = "sentiment"
    name = "vocmine.sentiment.v1"
    embedder = "vocmine.e5_small.v1"
    #: Callers pass each sentence's context (its neighbours in the answer; ``models/context.py``).
    reads_context = True

    def __init__(self, weights_dir: Path | None = None) -> None:
        self.weights_dir = weights_dir

    @property
    def model(self) -> Any:
        return load_sentiment_model(self.weights_dir)

    def annotate(
        self, texts: Sequence[str], embeddings: np.ndarray, languages: Sequence[str | None], context: Any = None
    ) -> list[Annotation]:
        """One annotation per text; ``context`` (:class:`~vocmine.models.context.SentenceContext`, optional)
        lets a model with a context member read the sentences around each one."""
        texts = list(texts)
        if len(languages) != len(texts) or len(embeddings) != len(texts):
            raise ValueError(
                f"{len(texts)} texts, {len(embeddings)} embeddings and {len(languages)} languages must align"
            )
        reasons = [skip_reason(lang, text, label_undetermined=True)
                   for text, lang in zip(texts, languages, strict=True)]
        keep = [i for i, reason in enumerate(reasons) if reason is None]
        annotations = [Annotation(None, {}, skip_reason=reason) for reason in reasons]
        if keep:
            model = self.model
            # Both model kinds take the context and read it only when they have a member tuned with it.
            proba = model.predict_proba([texts[i] for i in keep], np.asarray(embeddings)[keep],
                                        None if context is None else context.take(keep))
            for row, i in enumerate(keep):
                scores = {label: float(p) for label, p in zip(model.labels_, proba[row], strict=True)}
                annotations[i] = Annotation(max(scores, key=scores.get), scores)
        return annotations


@register("annotator", "vocmine.sentiment.ft")
class FineTunedSentimentAnnotator(SentimentAnnotator):
    """The accurate variant: the shipped blend plus e5 fine-tuned for sentiment (model card). It reads each
    text through its own encoder (one more pass per text) as well as the shared vectors and, like v1, each
    sentence's context; choose it with ``sentiment = "vocmine.sentiment.ft"`` under
    ``[analysis.annotators]``."""

    name = "vocmine.sentiment.ft"

    def __init__(self, weights_dir: Path | None = None) -> None:
        from vocmine.models.sentiment_ft import FT_WEIGHTS_DIR

        super().__init__(weights_dir or FT_WEIGHTS_DIR)


def predict_sentiment(
    texts: Sequence[str] | pd.Series | str, languages: Sequence[str | None] | None = None,
    weights_dir: Path | None = None,
) -> pd.DataFrame:
    """Sentiment of raw texts as a DataFrame: ``text``, ``language``, ``sentiment``, ``p_negative``,
    ``p_neutral``, ``p_positive``, ``skip_reason``, indexed like ``texts`` when it is a Series. Embeds the
    texts itself; languages as ``vocmine classify`` reads them (:func:`~vocmine.nlp.language.resolve_languages`);
    an empty or missing text is skipped as "empty text"."""
    from vocmine.models.embedders import resolve_embedder
    from vocmine.nlp.language import resolve_languages, texts_from

    index = texts.index if isinstance(texts, pd.Series) else None
    texts = texts_from(texts)
    languages = resolve_languages(texts, languages)
    annotator = SentimentAnnotator(weights_dir)
    embeddings = resolve_embedder(annotator.embedder).encode(texts) if texts else np.zeros((0, 384), np.float32)
    annotations = annotator.annotate(texts, embeddings, languages)
    return pd.DataFrame(
        {
            "text": texts,
            "language": languages,
            "sentiment": [a.label for a in annotations],
            "p_negative": [a.scores.get("negative", np.nan) for a in annotations],
            "p_neutral": [a.scores.get("neutral", np.nan) for a in annotations],
            "p_positive": [a.scores.get("positive", np.nan) for a in annotations],
            "skip_reason": [a.skip_reason for a in annotations],
        },
        index=index,
    )
