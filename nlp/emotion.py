"""Emotions of a sentence: multi-label over anger, disgust, fear, joy, sadness, surprise, or "none".

The shipped model (``models/weights/emotion``, trained by ``vocmine train emotion`` on EmoEvent es/en)
blends a TF-IDF + logistic regression classifier over the sentence text with a logistic regression over
the e5 vectors the pipeline already computed for the sentence, with a per-language decision layer.
v1 was the TF-IDF member alone; v2 has a new name so that a store labelled by v1 is labelled again, not
mixed.
Each sentence gets a probability for all seven classes and a label set: the emotions over their
per-emotion thresholds (tuned on development data, never on test), or "none".
Figures and limitations (tweets about 2019 news events, not reviews): ``models/weights/emotion/README.md``.

Only Spanish and English are modelled; other languages are skipped with a reason.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from vocmine.nlp.language import skip_reason
from vocmine.protocols import Annotation
from vocmine.registry import register

logger = logging.getLogger(__name__)

NAME = "vocmine.emotion.v2"
EMBEDDER = "vocmine.e5_small.v1"
WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "models" / "weights" / "emotion"
FT_NAME = "vocmine.emotion.ft"


@lru_cache(maxsize=4)
def _load_model(directory: str):  # noqa: ANN202 - EmotionModel, imported lazily
    """Weights are read once per process and folder."""
    from vocmine.models.train_emotion import EmotionModel

    return EmotionModel.load(Path(directory))


@register("annotator", NAME)
class EmotionAnnotator:
    """Labels sentences with ';'-joined emotions (or "none") and scores for all seven classes.

    ``weights_dir`` defaults to the shipped weights; a missing folder raises ModelNotFoundError on the
    first :meth:`annotate`.
    """

    task = "emotion"
    name = NAME
    embedder = EMBEDDER

    def __init__(self, weights_dir: Path | str | None = None) -> None:
        self.weights_dir = Path(weights_dir) if weights_dir else WEIGHTS_DIR

    def annotate(
        self, texts: Sequence[str], embeddings: np.ndarray, languages: Sequence[str | None]
    ) -> list[Annotation]:
        from vocmine.models.train_emotion import CLASSES

        if len(texts) != len(languages) or len(texts) != len(embeddings):
            raise ValueError(f"{len(texts)} texts, {len(embeddings)} embeddings, {len(languages)} languages")
        results: list[Annotation | None] = [None] * len(texts)
        by_language: dict[str, list[int]] = {}
        for i, (text, language) in enumerate(zip(texts, languages, strict=True)):
            reason = skip_reason(language, text)
            if reason is not None:
                results[i] = Annotation(None, {}, reason)
            else:
                by_language.setdefault(str(language), []).append(i)
        if by_language:
            model = _load_model(str(self.weights_dir))
            # No vectors given (e.g. predict_emotions passes (n, 0)): the model embeds the texts itself.
            vectors = np.asarray(embeddings) if model.reads_vectors and np.shape(embeddings)[-1] else None
            for language, rows in by_language.items():
                proba = model.predict_proba([str(texts[i]) for i in rows], language,
                                            vectors[rows] if vectors is not None else None)
                for i, p, chosen in zip(rows, proba, model.label_sets(proba, language), strict=True):
                    scores = {label: float(v) for label, v in zip(CLASSES, p, strict=True)}
                    results[i] = Annotation(";".join(chosen), scores)
        return [r for r in results if r is not None]


@register("annotator", FT_NAME)
class FineTunedEmotionAnnotator(EmotionAnnotator):
    """The accurate variant: the TF-IDF member blended with e5 fine-tuned for emotions (LoRA on every layer).

    About 3 points of macro-F1 above v2 on EmoEvent (model card), at the cost of one more encoder pass per
    sentence: choose it with ``emotion = "vocmine.emotion.ft"`` under ``[analysis.annotators]`` in the config.
    """

    name = FT_NAME

    def __init__(self, weights_dir: Path | str | None = None) -> None:
        from vocmine.models.train_emotion import FT_WEIGHTS_DIR

        super().__init__(weights_dir or FT_WEIGHTS_DIR)


def predict_emotions(
    texts: Sequence[str] | pd.Series | str,
    languages: Sequence[str | None] | None = None,
    weights_dir: Path | str | None = None,
) -> pd.DataFrame:
    """Emotions of raw texts: one row per text with ``emotions`` (';'-joined or "none"), ``p_<class>`` for the
    seven classes and ``skip_reason``, indexed like ``texts`` when it is a Series. Languages as ``vocmine
    classify`` reads them (:func:`~vocmine.nlp.language.resolve_languages`)."""
    from vocmine.models.train_emotion import CLASSES
    from vocmine.nlp.language import resolve_languages, texts_from

    index = texts.index if isinstance(texts, pd.Series) else None
    texts = texts_from(texts)
    languages = resolve_languages(texts, languages)
    embeddings = np.zeros((len(texts), 0), np.float32)  # the model embeds the texts it needs itself
    results = EmotionAnnotator(weights_dir).annotate(texts, embeddings, languages)
    frame = pd.DataFrame({"text": texts, "language": languages, "emotions": [r.label for r in results]},
                         index=index)
    for label in CLASSES:
        frame[f"p_{label}"] = [r.scores.get(label, np.nan) for r in results]
    frame["skip_reason"] = [r.skip_reason for r in results]
    return frame
