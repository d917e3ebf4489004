"""Language identification: measure the two offline candidates on short review sentences.

``vocmine evaluate language`` prints accuracy per language and texts/s for py3langid (restricted to
:data:`vocmine.nlp.language.CANDIDATES`, what the pipeline uses) and lingua (same languages, preloaded).
Spanish and English are SemEval-2016 restaurant test sentences (real, short); Portuguese, French,
Italian and German are the 48 short review sentences in ``models/data/language``. Nothing is trained:
both libraries ship their models; ``train`` says so.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pandas as pd

from vocmine.models.datasets import load_semeval16
from vocmine.models.metrics import accuracy_interval, figure_row, figures_frame
from vocmine.nlp.language import CANDIDATES, detect_language
from vocmine.registry import register

SHORT_REVIEWS = Path(__file__).resolve().parent / "data" / "language" / "short_reviews.csv"


def _sentences(data_dir: Path | None) -> pd.DataFrame:
    frames = []
    for language in ("es", "en"):
        frame = load_semeval16(language, "test", data_dir)
        frame = frame[frame["text"].str.split().str.len() >= 3]
        frames.append(pd.DataFrame({"language": language, "text": frame["text"], "dataset": "semeval16_test"}))
    extra = pd.read_csv(SHORT_REVIEWS)
    extra["dataset"] = "short_reviews_vocmine"
    frames.append(extra)
    return pd.concat(frames, ignore_index=True)


def _lingua_detector():  # noqa: ANN202
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    codes = [getattr(IsoCode639_1, code.upper()) for code in CANDIDATES if hasattr(IsoCode639_1, code.upper())]
    return LanguageDetectorBuilder.from_iso_codes_639_1(*codes).with_preloaded_language_models().build()


@register("task", "language")
class LanguageTask:
    """py3langid vs lingua on short review sentences (accuracy per language, texts/s)."""

    def train(self, data_dir: Path | None = None, out_dir: Path | None = None, seed: int = 42, **_: Any) -> dict:
        return {"language": "nothing to train: py3langid and lingua ship their own models"}

    def evaluate(self, data_dir: Path | None = None, seed: int = 42) -> pd.DataFrame:
        sentences = _sentences(data_dir)
        texts = sentences["text"].tolist()
        started = time.perf_counter()
        langid_predictions = [detect_language(t).language for t in texts]
        langid_speed = len(texts) / (time.perf_counter() - started)
        detector = _lingua_detector()
        started = time.perf_counter()
        lingua_predictions = [
            (found.iso_code_639_1.name.lower() if (found := detector.detect_language_of(t)) else "und") for t in texts
        ]
        lingua_speed = len(texts) / (time.perf_counter() - started)
        rows = []
        for model, predictions, speed in (
            ("py3langid (vocmine default)", langid_predictions, langid_speed),
            ("lingua", lingua_predictions, lingua_speed),
        ):
            sentences["predicted"] = predictions
            for (dataset, language), group in sentences.groupby(["dataset", "language"]):
                correct = (group["predicted"] == language).to_numpy()
                rows.append(figure_row("language", dataset, language, "test", model, "accuracy", correct.mean(),
                                       len(group), accuracy_interval(correct)))
            rows.append(figure_row("language", "all", "all", "test", model, "texts_per_s", speed, len(texts)))
        return figures_frame(rows)
