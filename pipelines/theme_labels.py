"""Readable theme labels: a short phrase in the corpus' language, plus keywords.

A bag of top words ("flight, hours, late, delayed") makes an analyst do the reading; a phrase lifted
from the customers' own words ("retraso en la entrega", "rude staff at reception") does not. We take
every contiguous 1-4 word span of the theme's sentences that neither starts nor ends with a stop word
(so "retraso en la entrega" survives, "en la" does not), score it with BERTopic's class-based TF-IDF
against the sibling themes of the same touchpoint and polarity (what makes this theme different), keep
the best few and rerank them KeyBERT-style by cosine to the theme centroid in our own embedding space
(what the theme is about). Keywords are the same candidates, diversified with MMR.

Accents are kept (BERTopic's ``language="english"`` would turn "fácil" into "fcil"); stop words are
spaCy's Spanish and English lists minus words that carry the complaint ("tarde", "never", "late").
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

logger = logging.getLogger(__name__)

#: Words in spaCy's stop lists that carry the meaning of a complaint or praise: kept as content words.
_CONTENT_WORDS = {
    "tarde", "mal", "malo", "mala", "bueno", "buena", "buenos", "buenas", "mejor", "peor", "largo", "larga",
    "nunca", "temprano", "pronto", "poco", "poca", "mucho", "mucha", "nuevo", "nueva", "gran", "grande",
    "never", "late", "empty", "full", "call", "back", "cannot", "nothing", "serious", "well", "first", "last",
    "bottom", "top", "long", "llegó", "días", "dias", "ningún", "ninguna", "nadie", "nobody", "hizo",
    "dijo",
}
#: Discourse markers that open many sentences and name no cause.
_FILLERS = {"honestly", "ugh", "today", "again", "sinceramente", "vaya", "hoy", "ayer", "yesterday", "lol", "omg"}
#: Negations may open a label ("no contestan", "never arrived"), unlike other stop words.
_NEGATIONS = {"no", "not", "never", "nunca", "sin", "without", "ni", "nadie", "nobody", "nothing", "nada"}
_TOKEN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)
_MAX_WORDS = 4


def _build_stop_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS as EN
    from spacy.lang.es.stop_words import STOP_WORDS as ES

    words = {w.lower() for w in (ES | EN)} - _CONTENT_WORDS
    words |= _FILLERS
    words |= {"q", "x", "u", "ur", "im", "amp", "rt", "dm", "pls", "please", "thanks", "thank", "gracias", "hola"}
    return frozenset(words)


STOP_WORDS: frozenset[str] = _build_stop_words()


def stop_words() -> list[str]:
    """Spanish + English stop words, sorted (for BERTopic's CountVectorizer)."""
    return sorted(STOP_WORDS)


def tokenize(text: str) -> list[str]:
    """Lowercased word tokens, accents kept (NFC), digits and punctuation dropped."""
    return [t.lower() for t in _TOKEN.findall(unicodedata.normalize("NFC", text))]


def candidate_phrases(text: str, max_words: int = _MAX_WORDS) -> set[str]:
    """All 1..max_words spans of ``text`` that start and end on a content word (or start on a negation)."""
    tokens = tokenize(text)
    out: set[str] = set()
    for i, first in enumerate(tokens):
        if first in STOP_WORDS and first not in _NEGATIONS:
            continue
        for j in range(i, min(i + max_words, len(tokens))):
            last = tokens[j]
            if last in STOP_WORDS or len(last) < 2:
                continue
            span = tokens[i : j + 1]
            if j == i and (len(first) < 3 or first in _NEGATIONS):
                continue
            out.add(" ".join(span))
    return out


@dataclass(frozen=True, slots=True)
class ThemeLabel:
    """The label of one theme: ``label`` in ``language``, ``label_alt`` in the other language if present."""

    label: str
    language: str
    label_alt: str | None
    keywords: list[str]


def class_phrase_scores(groups: Sequence[Sequence[str]], min_df: int = 2) -> list[dict[str, float]]:
    """c-TF-IDF (BERTopic's formula: tf_{x,c} * log(1 + A / f_x)) of each candidate phrase per group.

    ``groups`` are the texts of sibling themes; ``tf`` counts sentences of the group that contain the
    phrase (a phrase repeated inside one sentence counts once); phrases seen in fewer than ``min_df``
    sentences of a group are dropped for it, so a label always comes from at least two customers.
    """
    counts = [Counter(p for text in texts for p in candidate_phrases(text)) for texts in groups]
    totals: Counter[str] = Counter()
    for c in counts:
        totals.update(c)
    words_per_class = [sum(len(tokenize(t)) for t in texts) for texts in groups]
    average_words = max(1.0, float(np.mean(words_per_class))) if groups else 1.0
    scores: list[dict[str, float]] = []
    for c, n_words in zip(counts, words_per_class, strict=True):
        group_scores: dict[str, float] = {}
        for phrase, tf in c.items():
            if tf < min_df:
                continue
            # Longer phrases are rarer by construction; a mild bonus keeps "retraso en la entrega"
            # competitive with "retraso" when both are just as typical of the theme.
            length_bonus = 1.0 + 0.15 * (phrase.count(" "))
            idf = math.log(1.0 + average_words / totals[phrase])
            group_scores[phrase] = (tf / max(n_words, 1)) * idf * length_bonus
        scores.append(group_scores)
    return scores


def _cosines(vectors: np.ndarray, centroid: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1) * max(float(np.linalg.norm(centroid)), 1e-12)
    norms[norms == 0] = 1.0
    return (vectors @ centroid) / norms


def _phrase_vectors(
    phrases: list[str],
    texts: Sequence[str],
    embeddings: np.ndarray,
    embed: Callable[[list[str]], np.ndarray] | None,
) -> np.ndarray:
    """Phrase embeddings from ``embed`` when given; otherwise the mean vector of the sentences holding the
    phrase (no model call: a usable proxy for ranking phrases of one theme)."""
    if embed is not None:
        return np.asarray(embed(phrases), dtype=np.float32)
    token_sets = [" " + " ".join(tokenize(t)) + " " for t in texts]
    out = np.zeros((len(phrases), embeddings.shape[1]), dtype=np.float32)
    for k, phrase in enumerate(phrases):
        rows = [i for i, s in enumerate(token_sets) if f" {phrase} " in s]
        if rows:
            out[k] = embeddings[rows].mean(axis=0)
    return out


def _mmr(vectors: np.ndarray, relevance: np.ndarray, k: int, diversity: float) -> list[int]:
    """Maximal marginal relevance: relevant to the theme, not redundant with what is already chosen."""
    if len(relevance) == 0:
        return []
    normed = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    chosen = [int(np.argmax(relevance))]
    while len(chosen) < min(k, len(relevance)):
        redundancy = (normed @ normed[chosen].T).max(axis=1)
        score = (1 - diversity) * relevance - diversity * redundancy
        score[chosen] = -np.inf
        chosen.append(int(np.argmax(score)))
    return chosen


def pick_label(
    phrase_scores: dict[str, float],
    texts: Sequence[str],
    embeddings: np.ndarray,
    centroid: np.ndarray,
    embed: Callable[[list[str]], np.ndarray] | None = None,
    top_k: int = 12,
    n_keywords: int = 8,
) -> tuple[str | None, list[str]]:
    """Best phrase and keywords for one theme in one language.

    The label is the candidate with the best mean of its c-TF-IDF rank and its centroid-cosine rank
    (rank averaging, because e5 cosines are compressed into 0.7-0.9 and raw scores do not mix);
    ties break alphabetically so the choice is deterministic.
    """
    if not phrase_scores:
        return None, []
    ranked = sorted(phrase_scores.items(), key=lambda kv: (-kv[1], kv[0]))[:top_k]
    phrases = [p for p, _ in ranked]
    vectors = _phrase_vectors(phrases, texts, embeddings, embed)
    cos = _cosines(vectors, centroid)
    lexical_rank = np.arange(len(phrases), dtype=float)
    cos_rank = np.empty(len(phrases), dtype=float)
    cos_rank[np.argsort(-cos, kind="stable")] = np.arange(len(phrases))
    combined = (lexical_rank + cos_rank) / 2
    order = sorted(range(len(phrases)), key=lambda i: (combined[i], lexical_rank[i], phrases[i]))
    label = phrases[order[0]]
    relevance = (len(phrases) - combined) / len(phrases)
    keyword_idx = _mmr(vectors, relevance, n_keywords, diversity=0.3)
    keywords = [phrases[i] for i in keyword_idx]
    return label, keywords


def format_label(phrase: str) -> str:
    """Capitalise the first letter only ("retraso en la entrega" -> "Retraso en la entrega")."""
    return phrase[:1].upper() + phrase[1:] if phrase else phrase
