"""Split answers into sentences, keeping character offsets into the answer text.

spaCy's blank pipelines with a ``sentencizer`` do the core work; what real reviews need is added
around it:

- line breaks end a sentence and list bullets are dropped (reviews are often lists), but a lone
  "5. Muy buena atención" keeps its "5." (outside a list it is usually a score);
- an opening mark ("¿", "¡", "(", "«", a dash, an opening quote) belongs to the sentence it opens
  (the plain sentencizer leaves it on the previous one);
- emoji right after a sentence's end belong to that sentence ("Loved it!!! 😍😍"), and a run of emoji
  between two clauses ends a sentence ("muy bien 👍 volveremos");
- an ellipsis before a capital or "¿"/"¡" ends a sentence ("Bien... Mal..."), and the period of a known
  abbreviation before a lower-case word or a digit does not ("No. 5", "5 eur. y fue poco").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

import spacy
from spacy.language import Language
from spacy.tokens import Doc

_LINE_SPLIT = re.compile(r"\n+|\r+")
# A list bullet: symbols ("-", "•") or a one/two-digit number ("1.", "2)"), then spaces or the line's end.
_BULLET = re.compile(r"^\s*(?:(?P<symbol>[-*•·▪►–—]+)|\d{1,2}[.)])(?:\s+|$)")
# Marks that only ever open what follows them, so after a sentence's end they start the next one.
_OPENERS = frozenset("¿¡([{«„—–-")
# Quotes that open or close ('"', "'"; German closes with “): they open only when glued to what follows.
_QUOTES = frozenset("\"'“‘")
_ELLIPSIS = re.compile(r"\.{2,}|…+")
# Abbreviations reviews use before a number or a lower-case word ("No. 5", "Tel. 912", "5 eur. y", "aprox.
# 30 min. de espera"). A list, not a length rule: reviews written all in lower case ("el servicio fue malo.
# la comida fria") must still split after a short word.
#: Of the abbreviations, those that mean "number": they continue a sentence only before a digit ("No. 5").
_NUMBER_SIGNS = frozenset({"no", "nº", "núm", "num"})
_ABBREVIATIONS = frozenset({
    "no", "nº", "núm", "num", "tel", "telf", "aprox", "approx", "min", "mins", "hr", "hrs", "seg", "sec",
    "eur", "usd", "pág", "pag", "vs", "etc", "ej", "sr", "sra", "dr", "dra", "av", "avda", "st", "mr", "mrs",
    "ms", "ud", "uds", "dpto", "depto", "km", "kg", "gr", "ml", "cm",
})
# Pictographs, dingbats, symbols and flags, with their joiners/variation selectors.
_EMOJI_RUN = re.compile(
    "(?:[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F\u200D\U0001F1E6-\U0001F1FF])+"
)
_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class SentenceSpan:
    """A sentence of an answer: its text and where it sits in the answer (``text == answer[start:end]``)."""

    text: str
    start: int
    end: int


@lru_cache(maxsize=8)
def _pipeline(language: str) -> Language:
    code = language if language in {"es", "en", "pt", "fr", "it", "de", "ca", "nl"} else "xx"
    nlp = spacy.blank(code)
    nlp.add_pipe("sentencizer")
    # spaCy refuses texts over 1,000,000 characters (E088) because a parser or NER needs about 1 GB
    # per 100,000 characters; a tokenizer and sentencizer are linear and light, so a pasted log or a
    # giant answer is split instead of failing the whole batch.
    nlp.max_length = 10**9
    return nlp


def split_sentences(text: str, language: str | None = "es") -> list[SentenceSpan]:
    """Sentences of ``text`` (empty list for empty text), each stripped, with offsets into ``text``."""
    if not text or not text.strip():
        return []
    lines = [(start, end, _BULLET.match(text[start:end])) for start, end in _line_ranges(text)]
    # Numbers only count as bullets in a numbered list: a lone "5. Muy buena atención" is a score, not item 5
    # (also next to a "- extra" line).
    is_list = sum(bullet is not None and not bullet["symbol"] for _, _, bullet in lines) >= 2
    spans: list[SentenceSpan] = []
    for line_start, line_end, bullet in lines:
        offset = line_start + (bullet.end() if bullet and (is_list or bullet["symbol"]) else 0)
        while offset < line_end and text[offset].isspace():
            offset += 1
        if offset == line_end:  # a bare bullet ("-", "•", "2.") is not a sentence
            continue
        for start, end in _sentence_ranges(text[offset:line_end], language or "xx"):
            for piece_start, piece_end in _split_on_emoji(text, offset + start, offset + end):
                span = _strip(text, piece_start, piece_end)
                if span is not None:
                    spans.append(span)
    return spans


def _line_ranges(text: str) -> list[tuple[int, int]]:
    ranges, start = [], 0
    for match in _LINE_SPLIT.finditer(text):
        ranges.append((start, match.start()))
        start = match.end()
    ranges.append((start, len(text)))
    return [(s, e) for s, e in ranges if text[s:e].strip()]


def _sentence_ranges(chunk: str, language: str) -> list[tuple[int, int]]:
    doc = _pipeline(language)(chunk)
    guesses = [
        i for i in range(1, len(doc))
        if (doc[i].is_sent_start and not _continues_sentence(doc, i)) or _ends_at_ellipsis(doc, i)
    ]
    starts = [0]
    for n, start in enumerate(guesses):
        # Opening marks after a sentence's end open the next one: "Bien. (Muy caro)", "¡Bien! ¿Y?".
        while start - 1 > starts[-1] and _opens(doc, start - 1):
            start -= 1
        # Emoji after a sentence's end react to it: "Loved it!!! 😍😍 The staff..." keeps 😍😍 there.
        next_start = guesses[n + 1] if n + 1 < len(guesses) else len(doc)
        while start < next_start and (doc[start].is_space or _EMOJI_RUN.fullmatch(doc[start].text)):
            start += 1
        if start < next_start:
            starts.append(start)
    bounds = [doc[i].idx for i in starts] + [len(chunk)]
    return list(pairwise(bounds))


def _continues_sentence(doc: Doc, i: int) -> bool:
    """Whether the sentencizer's break before token ``i`` is a period that does not end a sentence.

    Two cases: a line's leading number ("5. Muy buena atención", kept when not a list item), and one of
    the :data:`_ABBREVIATIONS` before a lower-case word or a digit ("No. 5", "5 eur. y fue poco", "min. de";
    a web address such as "www.x.com" is lower-case but starts a sentence as often as not, so it keeps the
    break).
    """
    if doc[i - 1].text != "." or i < 2:
        return False
    before, following = doc[i - 2], doc[i].text[:1]
    if i == 2 and before.text.isdigit() and len(before) <= 2:
        return True
    if before.whitespace_ or before.lower_ not in _ABBREVIATIONS or doc[i].like_url:
        return False
    # "no" is also the commonest negation ("¿volvería? no. la comida fría"): a number sign only before a digit.
    return following.isdigit() or (following.islower() and before.lower_ not in _NUMBER_SIGNS)


def _ends_at_ellipsis(doc: Doc, i: int) -> bool:
    """An ellipsis before a capital or "¿"/"¡" ends a sentence ("Bien... Mal"); before "no sé" it does not."""
    following = doc[i].text[:1]
    return bool(_ELLIPSIS.fullmatch(doc[i - 1].text)) and (following.isupper() or following in "¿¡")


def _opens(doc: Doc, k: int) -> bool:
    """Whether token ``k`` opens what follows it rather than closing what precedes it.

    A quote opens when glued to the next token and not to the previous one: in ``said "never again."
    Then`` the quote after the period closes, in ``Bien. "Muy caro"`` it opens.
    """
    while True:  # a loop, not recursion: a spam review of a thousand quotes must not overflow the stack
        text = doc[k].text
        if all(ch in _OPENERS for ch in text):
            return True
        if text not in _QUOTES or doc[k].whitespace_:
            return False
        if k == 0 or doc[k - 1].whitespace_ or doc[k - 1].is_space:
            return True
        k -= 1


def _split_on_emoji(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Cut after an emoji run that sits between two clauses of at least two words each."""
    pieces, piece_start = [], start
    for match in _EMOJI_RUN.finditer(text, start, end):
        before = text[piece_start : match.start()]
        after = text[match.end() : end]
        if len(_WORD.findall(before)) >= 2 and len(_WORD.findall(after)) >= 2:
            pieces.append((piece_start, match.end()))
            piece_start = match.end()
    pieces.append((piece_start, end))
    return pieces


def _strip(text: str, start: int, end: int) -> SentenceSpan | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start >= end:
        return None
    return SentenceSpan(text=text[start:end], start=start, end=end)
