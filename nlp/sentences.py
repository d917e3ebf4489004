"""Split answers into sentences, keeping character offsets into the answer text.

spaCy's blank pipelines with a ``sentencizer`` do the core work; three things real reviews need are
added around it: line breaks and list bullets end a sentence (reviews are often lists), an opening
Spanish "¿"/"¡" belongs to the sentence it opens (the plain sentencizer leaves it on the previous one),
and a run of emoji between two clauses ends a sentence ("muy bien 👍 volveremos").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import spacy
from spacy.language import Language

_LINE_SPLIT = re.compile(r"\n+|\r+")
_BULLET = re.compile(r"^\s*(?:[-*•·▪►–—]+|\d{1,2}[.)])\s+")
_OPENERS = "¿¡"
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
    return nlp


def split_sentences(text: str, language: str | None = "es") -> list[SentenceSpan]:
    """Sentences of ``text`` (empty list for empty text), each stripped, with offsets into ``text``."""
    if not text or not text.strip():
        return []
    spans: list[SentenceSpan] = []
    for line_start, line_end in _line_ranges(text):
        line = text[line_start:line_end]
        bullet = _BULLET.match(line)
        offset = line_start + (bullet.end() if bullet else 0)
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
    bounds = [(sent.start_char, sent.end_char) for sent in doc.sents]
    # Move trailing opening marks ("¡Qué bien! ¿" -> "¡Qué bien!" + "¿Volveremos?") to the next sentence.
    fixed: list[tuple[int, int]] = []
    carry = None
    for start, end in bounds:
        if carry is not None:
            start = carry
            carry = None
        stripped_end = end
        while stripped_end > start and chunk[stripped_end - 1] in _OPENERS + " ":
            stripped_end -= 1
        if stripped_end < end and any(ch in _OPENERS for ch in chunk[stripped_end:end]):
            carry = stripped_end
            end = stripped_end
        fixed.append((start, end))
    if carry is not None and fixed:
        fixed[-1] = (fixed[-1][0], len(chunk))
    return fixed


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
