"""Language identification, offline, with py3langid (its model ships inside the package).

Measured against lingua on short review sentences (``vocmine evaluate language``: 0.970 es / 0.989 en
on SemEval-2016 test sentences and 48/48 pt/fr/it/de, against lingua's 0.963 / 0.990 and 48/48) it is
as accurate; it is the default because it returns a probability we use to fall back on the answer's
language for short sentences, and it loads in a fraction of lingua's memory (lingua must preload its
models to be fast). The candidate set is
restricted to languages customers of our users write in: restricting removes absurd guesses on short
texts (e.g. Latin for "Excelente servicio") while still recognising languages we do not model, which
are kept, labelled, and skipped by the classifiers with a reason.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

#: Languages the classifiers model.
MODELLED = ("es", "en")
#: Languages we recognise (and pass through untouched when not modelled).
CANDIDATES = ("es", "en", "pt", "fr", "it", "de", "ca", "nl", "gl", "eu", "ru", "zh", "ja", "ko", "ar", "tr", "pl")
UNDETERMINED = "und"
_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    language: str
    confidence: float


@lru_cache(maxsize=1)
def _identifier():  # noqa: ANN202 - py3langid has no public type
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(CANDIDATES))
    return identifier


def detect_language(text: str, min_letters: int = 3) -> LanguageGuess:
    """Most likely language of ``text``; "und" when it has fewer than ``min_letters`` letters
    (emoji-only, numbers, "ok")."""
    if text is None or len(_LETTERS.findall(text)) < min_letters:
        return LanguageGuess(UNDETERMINED, 0.0)
    language, probability = _identifier().classify(text)
    return LanguageGuess(str(language), float(probability))


def detect_languages(texts: Sequence[str], fallback: Sequence[str | None] | None = None,
                     min_confidence: float = 0.6) -> list[str]:
    """Languages of many texts. A short or ambiguous text (confidence below ``min_confidence``) takes
    its ``fallback`` (e.g. a sentence takes its answer's language) when one is given."""
    out = []
    for i, text in enumerate(texts):
        guess = detect_language(text)
        parent = fallback[i] if fallback is not None else None
        if parent and (guess.language == UNDETERMINED or guess.confidence < min_confidence):
            out.append(parent)
        else:
            out.append(guess.language)
    return out


def is_modelled(language: str | None) -> bool:
    return language in MODELLED


def is_undetermined(language: str | None) -> bool:
    """True for a text whose language could not be told (too few letters: emoji, "ok") or was not given."""
    return language in (None, "", UNDETERMINED)


def language_skip_reason(language: str | None, label_undetermined: bool = False) -> str | None:
    """"language pt not modelled" when a classifier must leave a text in ``language`` unlabelled, else None.

    Every classifier was trained and measured on Spanish and English only, so a text in another language is
    kept and passed through with this reason instead of getting an unmeasured guess. ``label_undetermined``
    lets a task whose model does not depend on the language (sentiment, touchpoints) label texts whose
    language could not be told, which are mostly emoji and one-word answers."""
    if is_modelled(language) or (label_undetermined and is_undetermined(language)):
        return None
    return f"language {language or 'unknown'} not modelled"


def skip_reason(language: str | None, text: str | None, label_undetermined: bool = False) -> str | None:
    """Why a classifier leaves a text unlabelled: its language (:func:`language_skip_reason`), "empty text",
    or None when it is labelled."""
    reason = language_skip_reason(language, label_undetermined)
    if reason is None and (text is None or not str(text).strip()):
        return "empty text"
    return reason
