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
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

#: Languages the classifiers model.
MODELLED = ("es", "en")
#: Languages we recognise (and pass through untouched when not modelled).
CANDIDATES = ("es", "en", "pt", "fr", "it", "de", "ca", "nl", "gl", "eu", "ru", "zh", "ja", "ko", "ar", "tr", "pl")
UNDETERMINED = "und"
#: A text detected with less confidence than this is "too short or ambiguous to tell" ("Bien" reads as German
#: at 0.11, "Excelente" as Portuguese at 0.24; four-word review sentences score 0.7 to 1.0).
MIN_CONFIDENCE = 0.6
#: Share of a batch's confidently detected texts one language must hold to lend it to the ambiguous ones.
MIN_PREDOMINANT_SHARE = 2 / 3
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
    (emoji-only, numbers, "ok") or is not a text at all (None, a spreadsheet's NaN)."""
    if not isinstance(text, str) or len(_LETTERS.findall(text)) < min_letters:
        return LanguageGuess(UNDETERMINED, 0.0)
    language, probability = _identifier().classify(text)
    return LanguageGuess(str(language), float(probability))


def detect_languages(texts: Sequence[str], fallback: Sequence[str | None] | None = None,
                     min_confidence: float = MIN_CONFIDENCE) -> list[str]:
    """Languages of many texts. A short or ambiguous text (confidence below ``min_confidence``) takes
    its ``fallback`` (e.g. a sentence takes its answer's language) when one is given."""
    if fallback is not None and len(fallback) != len(texts):
        raise ValueError(f"{len(texts)} texts but {len(fallback)} fallback languages")
    out = []
    for i, text in enumerate(texts):
        guess = detect_language(text)
        parent = fallback[i] if fallback is not None else None
        if parent and (guess.language == UNDETERMINED or guess.confidence < min_confidence):
            out.append(parent)
        else:
            out.append(guess.language)
    return out


def predominant_language(languages: Sequence[str | None], min_share: float = MIN_PREDOMINANT_SHARE) -> str | None:
    """The language of at least ``min_share`` of ``languages`` (undetermined ones left out), else None."""
    counted = Counter(language for language in languages if not is_undetermined(language))
    if not counted:
        return None
    language, count = counted.most_common(1)[0]
    return language if count >= min_share * sum(counted.values()) else None


def detect_text_languages(texts: Sequence[str | None], min_confidence: float = MIN_CONFIDENCE,
                          known: Sequence[str | None] = ()) -> list[str]:
    """Languages of whole texts that came together (one export, one request), when none was given.

    A text detected confidently keeps its language, and one with too few letters to read (emoji, "ok",
    "10/10") stays "und". A short or ambiguous one ("Excelente", "Bien", "No vale la pena") would otherwise get
    a confident-looking wrong language and be skipped by every classifier; it takes the batch's
    :func:`predominant_language` when there is one (a one-word answer in a Spanish survey is Spanish), else
    "und" (too short to tell), never the raw low-confidence guess. ``known`` are languages the batch's other
    texts were given (an export's language column), which count as evidence too."""
    guesses = [detect_language(text) for text in texts]
    confident = [g.language for g in guesses if g.confidence >= min_confidence]
    default = predominant_language([*known, *confident]) or UNDETERMINED
    return [g.language if g.language == UNDETERMINED or g.confidence >= min_confidence else default
            for g in guesses]


#: Three-letter (ISO 639-2/B and /T) codes and names, in English and in the language itself, of the
#: :data:`CANDIDATES`, as exports from survey and review tools write them ("spa", "Spanish", "Español").
_CODE_ALIASES = {
    "es": ("spa", "spanish", "espanol", "español", "castellano", "castilian"),
    "en": ("eng", "english", "ingles", "inglés"),
    "pt": ("por", "portuguese", "portugues", "português"),
    "fr": ("fra", "fre", "french", "francais", "français", "frances", "francés"),
    "it": ("ita", "italian", "italiano"),
    "de": ("deu", "ger", "german", "deutsch", "aleman", "alemán"),
    "ca": ("cat", "catalan", "català", "catalán"),
    "nl": ("nld", "dut", "dutch", "nederlands"),
    "gl": ("glg", "galician", "galego", "gallego"),
    "eu": ("eus", "baq", "basque", "euskara", "euskera"),
    "ru": ("rus", "russian"),
    "zh": ("zho", "chi", "chinese"),
    "ja": ("jpn", "japanese"),
    "ko": ("kor", "korean"),
    "ar": ("ara", "arabic"),
    "tr": ("tur", "turkish"),
    "pl": ("pol", "polish"),
}
_ALIASES = {alias: code for code, aliases in _CODE_ALIASES.items() for alias in aliases}
#: Cells that say "no language" in exports: detected, like an empty cell.
_PLACEHOLDERS = frozenset({"n/a", "na", "nan", "none", "null", "unknown", "other", "otro", "-", "?", "und", "xx"})
_REGION_NOTE = re.compile(r"\s*\(.*\)\s*$")
_TAG_SEPARATOR = re.compile(r"[-_]")


def normalise_language_code(code: object) -> str | None:
    """An ISO 639-1 code from a language cell of an export, or None for an empty one.

    Regional tags keep their language ("es-ES", "es_MX", "en-US" -> "es", "en"); three-letter codes and
    language names of the recognised languages are mapped ("spa", "Spanish", "Español", "Spanish (Spain)" ->
    "es"); placeholders ("N/A", "Unknown", "und") count as empty, so the text is detected; anything else is kept
    lower-cased, so a language we do not model is still labelled as given and skipped with a reason."""
    if not isinstance(code, str):
        return None
    cleaned = _REGION_NOTE.sub("", code.strip().lower())
    if not cleaned or cleaned in _PLACEHOLDERS:
        return None
    if cleaned in _ALIASES:
        return _ALIASES[cleaned]
    primary = _TAG_SEPARATOR.split(cleaned, maxsplit=1)[0]
    return _ALIASES.get(primary, primary) if primary else cleaned


def texts_from(texts: object) -> list[str]:
    """A list of texts from what a notebook passes: a list, a pandas Series or one string (one text, not its
    characters); None and a spreadsheet's NaN become "" (:func:`vocmine.models.embedders.as_texts`)."""
    from vocmine.models.embedders import as_texts

    return as_texts([texts] if isinstance(texts, str) else list(texts))  # type: ignore[call-overload]


def resolve_languages(texts: Sequence[str], languages: Sequence[object] | None = None) -> list[str]:
    """Each text's language: the given code normalised (:func:`normalise_language_code`) where there is one,
    and the others detected together (:func:`detect_text_languages`, the given ones counting as evidence of
    the batch's language), as ``vocmine classify`` does. One code (a string) holds for every text."""
    if isinstance(languages, str):
        languages = [languages] * len(texts)
    given = [normalise_language_code(g) for g in (languages if languages is not None else [None] * len(texts))]
    if len(given) != len(texts):
        raise ValueError(f"{len(texts)} texts but {len(given)} languages")
    known = [language for language in given if language is not None]
    detected = iter(detect_text_languages([text for text, language in zip(texts, given, strict=True)
                                           if language is None], known=known))
    return [language if language is not None else next(detected) for language in given]


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
    if is_undetermined(language):
        return "language undetermined (too short or ambiguous to tell)"
    return f"language {language} not modelled"


def skip_reason(language: str | None, text: str | None, label_undetermined: bool = False) -> str | None:
    """Why a classifier leaves a text unlabelled: its language (:func:`language_skip_reason`), "empty text",
    or None when it is labelled."""
    reason = language_skip_reason(language, label_undetermined)
    if reason is None and (text is None or not str(text).strip()):
        return "empty text"
    return reason
