"""Language identification: measure the two offline candidates on short review sentences.

``vocmine evaluate language`` prints accuracy per language and texts/s for py3langid (restricted to
:data:`vocmine.nlp.language.CANDIDATES`, what the pipeline uses) and lingua (same languages, preloaded).
Spanish and English are SemEval-2016 restaurant test sentences (real, short); Portuguese, French,
Italian and German are the 48 short review sentences in ``models/data/language``. Nothing is trained:
both libraries ship their models; ``train`` says so.

It also measures what the pipeline does with one- and two-word answers ("Excelente", "Location"), which
no detector can tell alone: each test file's answers are detected together
(:func:`~vocmine.nlp.language.detect_text_languages`, a low-confidence answer takes the file's predominant
language or "und"), against py3langid on each answer alone. The files: restaurants_es test (titles and
opinions; every title counted as Spanish, though a few are not: "Je t'aime!", "Yummie") and Booking test
(liked and disliked answers, English; the "No Negative" placeholders left out).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pandas as pd

from vocmine.models.datasets import load_semeval16, shared_data_dir
from vocmine.models.metrics import accuracy_interval, figure_row, figures_frame
from vocmine.nlp.language import CANDIDATES, detect_language, detect_text_languages
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


#: An answer of at most this many words counts as a short answer.
SHORT_ANSWER_WORDS = 2


def _answer_files(data_dir: Path | None) -> list[tuple[str, str, list[str]]]:
    """(data set, language, every answer of one test file in file order) for the short-answer figures."""
    root = shared_data_dir(data_dir)
    restaurants = pd.read_csv(root / "restaurants_es" / "test.csv", keep_default_na=False)
    booking = pd.read_csv(root / "booking_britannia" / "test.csv", keep_default_na=False)
    booking_answers = [str(text).strip() for column in ("Positive_Review", "Negative_Review")
                       for text in booking[column]]
    return [
        ("restaurants_es_test_answers", "es",
         [str(text) for pair in zip(restaurants["Title"], restaurants["Opinion"], strict=True) for text in pair]),
        ("booking_test_answers", "en",
         [text for text in booking_answers if text and text.lower() not in {"no negative", "no positive"}]),
    ]


def short_answer_rows(data_dir: Path | None = None) -> list[dict]:
    """Accuracy on the short answers of each :func:`_answer_files` file: py3langid alone, and detected with
    the file (vocmine's default)."""
    rows = []
    for dataset, language, answers in _answer_files(data_dir):
        short = [i for i, text in enumerate(answers) if 0 < len(text.split()) <= SHORT_ANSWER_WORDS]
        with_file = detect_text_languages(answers)
        for model, predictions in (("py3langid, each answer alone", [detect_language(answers[i]).language
                                                                    for i in short]),
                                   ("py3langid + the file's language (vocmine default)", [with_file[i]
                                                                                          for i in short])):
            correct = (pd.Series(predictions) == language).to_numpy()
            rows.append(figure_row("language", dataset, language, "test", model, "accuracy_short_answers",
                                   correct.mean(), len(correct), accuracy_interval(correct)))
    return rows


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
        return figures_frame(rows + short_answer_rows(data_dir))
