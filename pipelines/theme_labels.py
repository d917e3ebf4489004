"""Readable theme labels: a short phrase in the corpus' language, plus keywords.

A bag of top words ("flight, hours, late, delayed") makes an analyst do the reading, and a single frequent
word ("Service", "Bag") names the touchpoint, not the problem; a phrase lifted from the customers' own
words ("retraso en la entrega", "rude staff at reception") can be acted on. Candidates are every
contiguous 1-5 word span of a clause of the theme's sentences that neither starts nor ends with a stop
word (so "retraso en la entrega" survives, "en la" does not; negations may open: "no contestan").

The label is chosen in three tiers, so a phrase wins whenever the theme's sentences support one:

1. **phrase**: 2-5 word spans found in at least ``min_coverage`` of the theme's sentences (and
   at least two), holding a content word beyond the touchpoint's own name, scored by coverage (share of
   the theme's sentences that contain them) times distinctiveness against the sibling themes of the
   same touchpoint and polarity (BERTopic's c-TF-IDF idf, ``log(1 + A / f)``, over sentence counts);
   the best few are reranked KeyBERT-style by cosine to the theme centroid (rank average);
2. **fragment**: otherwise a central sentence (of the five closest to the centroid), cut to the clause
   that holds most of the top keywords and to the shortest run of at most six words holding them;
3. **word**: a single word only when neither exists (e.g. every sentence is one word long).

Sibling themes get different labels: a phrase wanted by two of them stays with the one where it covers
more sentences, the other takes its next option. Keywords are as before: the best c-TF-IDF candidates
(any length), reranked by cosine and diversified with MMR. Accents are kept (BERTopic's
``language="english"`` would turn "fácil" into "fcil"); stop words are spaCy's Spanish and English lists
minus words that carry the complaint ("tarde", "never", "late"). Spans stop at punctuation and numbers
("hold for 30 minutes" and "hold for 2 hours" are not one phrase); a plural "s" is folded for counting
("bag" = "bags"), a negated span only counts with its negation ("not fresh", never "fresh"), and a label
is shown as customers wrote it most often ("check-in", "Jekyll and Hyde"). Every choice breaks ties by
text, so input order never changes a label.
"""

from __future__ import annotations

import html
import logging
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from vocmine.pipelines.row_vectors import RowVectors, cosines

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
#: English clitics: "i'm", "it's", "we've" are stop words when their stem is one.
_CLITICS = {"m", "s", "ve", "ll", "d", "re"}
_TOKEN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)
#: A word unit: letters, an optional clitic, hyphenated parts kept together ("check-in", "calidad-precio").
_UNIT = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?(?:-[^\W\d_]+(?:['’][^\W\d_]+)?)*", re.UNICODE)
#: Clause boundaries: a label never spans them ("late, rude" is two complaints).
#: Numbers break spans too: "hold for 30 minutes" and "hold for 2 hours" are not one phrase.
_CLAUSE_BREAK = re.compile(
    r"[.;:!?¡¿()\[\]\n\"“”|/…,]|\s[-–—]\s|\w*\d\w*|\b(?:but|pero|aunque|although|however|because|porque)\b",
    re.IGNORECASE,
)
#: Words of time: content words, but a phrase made only of them ("last night") names no cause.
_TIME_WORDS = {
    "time", "night", "day", "week", "month", "year", "hour", "minute", "morning", "evening", "ago", "last",
    "first", "tonight", "tomorrow", "ever", "always", "vez", "veces", "día", "noche", "semana", "mes", "año",
    "hora", "minuto", "mañana", "tarde", "siempre", "tiempo", "primera", "última", "ultima",
}
_MAX_WORDS = 5
_FRAGMENT_WORDS = 6


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


def _clean(text: str) -> str:
    """NFC, HTML entities decoded ("&amp;"), curly apostrophes straightened: one written form per word."""
    return unicodedata.normalize("NFC", html.unescape(str(text))).replace("’", "'")


def _kind(key: str) -> str:
    """``content``, ``negation`` or ``stop`` for one lowercased unit key (hyphen parts joined by spaces)."""
    if " " in key:
        return "content" if any(_kind(part) == "content" for part in key.split(" ")) else "stop"
    if key in _NEGATIONS or key.endswith("n't"):
        return "negation"
    if key in STOP_WORDS or len(key) < 2:
        return "stop"
    stem, _, clitic = key.partition("'")
    if clitic in _CLITICS and (stem in STOP_WORDS or len(stem) < 2):
        return "stop"
    return "content"


def _fold(word: str) -> str:
    """Matching key of a word: a plural "s" dropped ("bags" -> "bag", "retrasos" -> "retraso"), so one
    complaint written in singular and plural counts as one phrase; labels still show the written form."""
    parts = word.split(" ")
    return " ".join(w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "'s")) else w for w in parts)


_TIME_KEYS = frozenset(_fold(w) for w in _TIME_WORDS)


@dataclass(frozen=True, slots=True)
class _Unit:
    key: str  # lowercased, hyphen parts joined by spaces, plural folded (matching key)
    start: int
    end: int
    kind: str  # of the written word: content, negation, stop


def _clauses(text: str) -> list[tuple[str, list[_Unit]]]:
    """The text's clauses, each with its word units (offsets into the cleaned text)."""
    cleaned = _clean(text)
    breaks = [(m.start(), m.end()) for m in _CLAUSE_BREAK.finditer(cleaned)]
    starts = [0] + [end for _, end in breaks]
    ends = [start for start, _ in breaks] + [len(cleaned)]
    out: list[tuple[str, list[_Unit]]] = []
    for start, end in zip(starts, ends, strict=True):
        units = []
        for match in _UNIT.finditer(cleaned, start, end):
            word = match.group(0).lower().replace("-", " ")
            units.append(_Unit(_fold(word), match.start(), match.end(), _kind(word)))
        if units:
            out.append((cleaned, units))
    return out


def _surface(cleaned: str, units: Sequence[_Unit]) -> str:
    """How the span was written, without hashtags, with single spaces, names kept ("Jekyll and Hyde",
    "NY"); the first word (capitalised only because it opened a sentence) and shouted words of four
    letters or more ("WORST") are lowercased."""
    words = cleaned[units[0].start : units[-1].end].replace("#", "").split()
    return " ".join(
        w.lower() if k == 0 or (len(w) > 3 and w.isupper()) else w for k, w in enumerate(words)
    )


def _negation_before(units: Sequence[_Unit], i: int) -> int | None:
    """Index of a negation that governs ``units[i]`` (right before it, or across at most two stop words:
    "not fresh", "no es muy bueno"), else ``None``."""
    for j in range(i - 1, max(-1, i - 4), -1):
        if units[j].kind == "negation":
            return j
        if units[j].kind != "stop":
            return None
    return None


def _spans(text: str, max_words: int = _MAX_WORDS) -> dict[str, str]:
    """Candidate spans of one text: key -> written form. 1..max_words units inside one clause, first unit
    a content word or a negation, last unit a content word; a lone negation is no candidate."""
    out: dict[str, str] = {}
    for cleaned, units in _clauses(text):
        for i, first in enumerate(units):
            if first.kind == "stop" or _negation_before(units, i) is not None:
                continue  # a negated span is counted with its negation ("not fresh"), never as "fresh"
            for j in range(i, min(i + max_words, len(units))):
                if units[j].kind != "content":
                    continue
                span = units[i : j + 1]
                key = " ".join(u.key for u in span)
                out.setdefault(key, _surface(cleaned, span))
    return out


def candidate_phrases(text: str, max_words: int = _MAX_WORDS) -> set[str]:
    """All 1..max_words spans of ``text`` (as written) that start and end on a content word (or start on
    a negation), inside one clause and between numbers, never a negated span without its negation."""
    return set(_spans(text, max_words).values())


@dataclass(frozen=True, slots=True)
class ThemeLabel:
    """The label of one theme: ``label`` in ``language``, ``label_alt`` in the other language if present.

    ``source`` says which tier produced ``label`` (phrase, fragment, word), so reports and benchmarks can
    count how often the themes' sentences supported a phrase.
    """

    label: str
    language: str
    label_alt: str | None
    keywords: list[str]
    source: str = "phrase"


@dataclass(frozen=True, slots=True)
class PhraseStats:
    """One candidate phrase in one theme.

    ``support``: sentences of the theme that contain it (as theme sizes count them: a text written by two
    customers counts twice); ``coverage``: ``support`` over the theme's sentences; ``distinctiveness``:
    c-TF-IDF's idf over sentence counts, ``log(1 + A / f)`` (A: mean sentences per sibling theme, f:
    sentences of all siblings that contain the phrase); ``ctfidf``: BERTopic's word-level c-TF-IDF, the
    keyword score; ``surface``: the most frequent written form.
    """

    support: int
    coverage: float
    distinctiveness: float
    ctfidf: float
    surface: str

    @property
    def label_score(self) -> float:
        """Coverage times distinctiveness: common in the theme and rare in its siblings."""
        return self.coverage * self.distinctiveness

    @property
    def words(self) -> int:
        return len(self.surface.split())


def _written_form(forms: Counter[str]) -> str:
    """The spelling written most often, case aside ("bags" over "bag"), then its most frequent casing."""
    by_lower: Counter[str] = Counter()
    for form, count in forms.items():
        by_lower[form.lower()] += count
    best = min(by_lower.items(), key=lambda kv: (-kv[1], kv[0]))[0]
    return min(((f, c) for f, c in forms.items() if f.lower() == best), key=lambda kv: (-kv[1], kv[0]))[0]


def _norm_text(text: str) -> str:
    return " ".join(_clean(text).lower().split())


def theme_phrase_stats(groups: Sequence[Sequence[str]], min_support: int = 2) -> list[dict[str, PhraseStats]]:
    """Candidate phrases of each sibling theme (``groups`` = their texts) with support and scores.

    Phrases found in fewer than ``min_support`` sentences of a theme are dropped for it, so a label or
    keyword always comes from at least two sentences.
    """
    counts: list[Counter[str]] = []  # per theme: sentences holding each phrase (a repeat inside one counts once)
    surfaces: list[dict[str, Counter[str]]] = []
    for texts in groups:
        spans_of = {t: _spans(t) for t in {str(t) for t in texts}}
        counts.append(Counter(key for t in texts for key in spans_of[str(t)]))
        forms: dict[str, Counter[str]] = {}
        for t in texts:
            for key, form in spans_of[str(t)].items():
                forms.setdefault(key, Counter())[form] += 1
        surfaces.append(forms)
    totals: Counter[str] = Counter()
    for c in counts:
        totals.update(c)
    words_per_class = [sum(len(tokenize(t)) for t in texts) for texts in groups]
    average_words = max(1.0, float(np.mean(words_per_class))) if groups else 1.0
    average_sentences = max(1.0, float(np.mean([len(texts) for texts in groups]))) if groups else 1.0
    out: list[dict[str, PhraseStats]] = []
    for c, forms, texts, n_words in zip(counts, surfaces, groups, words_per_class, strict=True):
        stats: dict[str, PhraseStats] = {}
        for phrase, n_sentences in c.items():
            if n_sentences < min_support:
                continue
            # BERTopic's c-TF-IDF (tf_{x,c} / words_c * log(1 + A / f_x)) with a mild length bonus, as the
            # keyword score; the label score uses the same idf over sentence counts.
            length_bonus = 1.0 + 0.15 * phrase.count(" ")
            ctfidf = n_sentences / max(n_words, 1) * math.log(1.0 + average_words / totals[phrase])
            stats[phrase] = PhraseStats(
                support=n_sentences,
                coverage=n_sentences / len(texts),
                distinctiveness=math.log(1.0 + average_sentences / totals[phrase]),
                ctfidf=ctfidf * length_bonus,
                surface=_written_form(forms[phrase]),
            )
        out.append(stats)
    return out


def class_phrase_scores(groups: Sequence[Sequence[str]], min_df: int = 2) -> list[dict[str, float]]:
    """c-TF-IDF (BERTopic's formula: tf_{x,c} * log(1 + A / f_x)) of each candidate phrase per group.

    ``groups`` are the texts of sibling themes; ``tf`` counts sentences of the group that contain the
    phrase (a phrase repeated inside one sentence counts once); phrases seen in fewer than ``min_df``
    sentences of a group are dropped for it, so a label always comes from at least two sentences.
    """
    return [{p: s.ctfidf for p, s in stats.items()} for stats in theme_phrase_stats(groups, min_df)]


def _phrase_vectors(
    keys: list[str],
    stats: dict[str, PhraseStats],
    texts: Sequence[str],
    embeddings: np.ndarray | RowVectors,
    embed: Callable[[list[str]], np.ndarray] | None,
) -> dict[str, np.ndarray]:
    """Vector per phrase key: ``embed`` of the written forms when given (one call per theme: a model
    call costs far more than its phrases); otherwise the mean vector of the sentences holding the phrase
    (no model call: a usable proxy for ranking phrases of one theme)."""
    if not keys:
        return {}
    if embed is not None:
        vectors = np.asarray(embed([stats[k].surface for k in keys]), dtype=np.float32)
        return dict(zip(keys, vectors, strict=True))
    spans = [set(_spans(t)) for t in texts]
    vectors = RowVectors.of(embeddings)
    out: dict[str, np.ndarray] = {}
    for key in keys:
        rows = [i for i, s in enumerate(spans) if key in s]
        out[key] = vectors.mean(rows) if rows else np.zeros(vectors.shape[1], dtype=np.float32)
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


def _rerank(phrases: list[str], vectors: np.ndarray, centroid: np.ndarray) -> tuple[list[int], np.ndarray]:
    """KeyBERT-style rerank of phrases already ranked lexically: mean of the lexical rank and the rank of
    the cosine to the centroid (rank averaging, because e5 cosines are compressed into 0.7-0.9 and raw
    scores do not mix). Returns the order and the combined ranks."""
    cos = cosines(vectors, centroid)
    lexical_rank = np.arange(len(phrases), dtype=float)
    cos_rank = np.empty(len(phrases), dtype=float)
    cos_rank[np.argsort(-cos, kind="stable")] = np.arange(len(phrases))
    combined = (lexical_rank + cos_rank) / 2
    order = sorted(range(len(phrases)), key=lambda i: (combined[i], lexical_rank[i], phrases[i]))
    return order, combined


def _keywords(phrases: list[str], vectors: np.ndarray, centroid: np.ndarray, n_keywords: int) -> list[str]:
    """Keywords: candidates ranked by c-TF-IDF, reranked by cosine, diversified with MMR."""
    if not phrases:
        return []
    _, combined = _rerank(phrases, vectors, centroid)
    relevance = (len(phrases) - combined) / len(phrases)
    return [phrases[i] for i in _mmr(vectors, relevance, n_keywords, diversity=0.3)]


def _name_words(touchpoint: str) -> frozenset[str]:
    """The touchpoint's own name as words ("check_in" -> {"check", "in"}): naming it says nothing new."""
    return frozenset(w for w in re.split(r"[\W_]+", touchpoint.lower()) if w)


def _specific(phrase: str, name_words: frozenset[str]) -> bool:
    """Whether the phrase holds a content word that is neither the touchpoint's own name nor a word of
    time ("last night", "first time" name no cause)."""
    return any(_kind(w) == "content" and w not in name_words and w not in _TIME_KEYS for w in phrase.split(" "))


def _cover(units: Sequence[_Unit], wanted: set[str]) -> list[_Unit]:
    """The shortest run of ``units`` holding every wanted word it holds (at most six words), widened to
    a neighbouring content word when it is one word long; trimmed to start on a content word or
    negation and end on a content word. Empty when no wanted word is there or under two words remain."""
    hit = [i for i, u in enumerate(units) if set(u.key.split(" ")) & wanted]
    if not hit:
        return []
    first, last = hit[0], min(hit[-1], hit[0] + _FRAGMENT_WORDS - 1)
    if first == last:
        right = next((j for j in range(last + 1, min(len(units), last + 4)) if units[j].kind == "content"), None)
        left = next((j for j in range(first - 1, max(-1, first - 4), -1) if units[j].kind != "stop"), None)
        if right is not None:
            last = right
        elif left is not None:
            first = left
    while first <= last and units[first].kind == "stop":
        first += 1
    while last >= first and units[last].kind != "content":
        last -= 1
    negation = _negation_before(units, first) if first <= last else None
    if negation is not None:  # "not impressed with the food", never "impressed with the food"
        first = negation
    span = list(units[first : last + 1])
    return span if len(span) >= 2 else []


def central_fragments(
    texts: Sequence[str],
    embeddings: np.ndarray | RowVectors,
    centroid: np.ndarray,
    keywords: Sequence[str],
    n_central: int = 5,
) -> list[str]:
    """Short fragments of central sentences, best first, for themes whose sentences share no phrase.

    Of the ``n_central`` sentences closest to the centroid, each clause holding words of the top three
    keywords is cut to the shortest run of words that holds them (widened to two words, at most six);
    the one with most keyword words comes first (ties: the more central sentence, the earlier clause).
    When no clause holds a keyword: the first clause of two words or more of the most central sentence
    that has one, cut to six words. Fragments under two words are dropped.
    """
    if len(texts) == 0:
        return []
    cos = RowVectors.of(embeddings).cosines(centroid)
    by_text: dict[str, int] = {}
    for i in sorted(range(len(texts)), key=lambda i: str(texts[i])):  # one written form per text, any order
        by_text.setdefault(_norm_text(texts[i]), i)
    central = sorted(by_text.items(), key=lambda kv: (-round(float(cos[kv[1]]), 6), kv[0]))[:n_central]
    wanted = {
        w for k in keywords[:3] for w in _fold(k.lower().replace("-", " ")).split(" ") if _kind(w) == "content"
    }
    candidates = []
    for rank, (_, i) in enumerate(central):
        for position, (cleaned, units) in enumerate(_clauses(texts[i])):
            span = _cover(units, wanted)
            if span:
                hits = len({w for u in span for w in u.key.split(" ")} & wanted)
                candidates.append((-hits, rank, position, _surface(cleaned, span)))
    if candidates:
        return list(dict.fromkeys(c[3] for c in sorted(candidates)))
    for _, i in central:  # no keyword in any clause: the first clause of two words or more
        for cleaned, units in _clauses(texts[i]):
            span = list(units[:_FRAGMENT_WORDS])
            while span and span[0].kind == "stop":
                span.pop(0)
            while span and span[-1].kind != "content":
                span.pop()
            if len(span) >= 2:
                return [_surface(cleaned, span)]
    return []


def central_fragment(
    texts: Sequence[str], embeddings: np.ndarray | RowVectors, centroid: np.ndarray, keywords: Sequence[str]
) -> str | None:
    """The best of ``central_fragments``, or ``None``."""
    fragments = central_fragments(texts, embeddings, centroid, keywords)
    return fragments[0] if fragments else None


@dataclass(frozen=True, slots=True)
class LabelChoice:
    """The labels one theme could take in one language, best first, and its keywords.

    ``options`` are (label, source, coverage): the supported phrases in rank order (source ``phrase``),
    then up to three central fragments (``fragment``) or, when there are neither, the top keyword
    (``word``); coverage is the share of the theme's sentences holding the option (0 for a fragment), so
    ``distinct_labels`` can settle which sibling keeps a contested label. Empty when the theme has no
    words at all.
    """

    options: list[tuple[str, str, float]]
    keywords: list[str]

    @property
    def label(self) -> str | None:
        return self.options[0][0] if self.options else None

    @property
    def source(self) -> str:
        return self.options[0][1] if self.options else "none"


def choose_label(
    stats: dict[str, PhraseStats],
    texts: Sequence[str],
    embeddings: np.ndarray | RowVectors,
    centroid: np.ndarray,
    embed: Callable[[list[str]], np.ndarray] | None = None,
    touchpoint: str = "",
    min_coverage: float = 0.03,
    top_k: int = 12,
    n_keywords: int = 8,
) -> LabelChoice:
    """Label options of one theme in one language: supported phrases, else a central fragment, else a word.

    A phrase must be 2-5 words, found in ``max(2, ceil(min_coverage * n))`` of the theme's ``n``
    sentences and hold a content word beyond the touchpoint's name; the ``top_k`` such phrases by
    coverage x distinctiveness are reranked by cosine to the centroid. Deterministic: ties break by text.
    """
    keyword_pool = [p for p, _ in sorted(stats.items(), key=lambda kv: (-kv[1].ctfidf, kv[0]))[:top_k]]
    needed = max(2, math.ceil(min_coverage * len(texts)))
    name_words = _name_words(touchpoint)
    eligible = [
        (phrase, s)
        for phrase, s in stats.items()
        if 2 <= s.words <= _MAX_WORDS and s.support >= needed and _specific(phrase, name_words)
    ]
    # Equal scores mean the same sentences: the longer span says more ("días sin ninguna explicación").
    label_pool = [p for p, _ in sorted(eligible, key=lambda kv: (-kv[1].label_score, -kv[1].words, kv[0]))[:top_k]]
    vector_of = _phrase_vectors(sorted(set(keyword_pool) | set(label_pool)), stats, texts, embeddings, embed)

    def vectors(keys: list[str]) -> np.ndarray:
        return np.stack([vector_of[k] for k in keys]) if keys else np.zeros((0, embeddings.shape[1]), np.float32)

    keyword_keys = _keywords(keyword_pool, vectors(keyword_pool), centroid, n_keywords)
    keywords = [stats[k].surface for k in keyword_keys]
    options: list[tuple[str, str, float]] = []
    if label_pool:
        order, _ = _rerank(label_pool, vectors(label_pool), centroid)
        options = [(stats[label_pool[i]].surface, "phrase", stats[label_pool[i]].coverage) for i in order]
    taken = {o[0] for o in options}
    fragments = [f for f in central_fragments(texts, embeddings, centroid, keyword_keys) if f not in taken]
    options += [(f, "fragment", 0.0) for f in fragments[:3]]
    if keyword_keys and not options:
        options.append((keywords[0], "word", stats[keyword_keys[0]].coverage))
    return LabelChoice(options, keywords)


def distinct_labels(choices: dict[str, LabelChoice]) -> dict[str, tuple[str | None, str]]:
    """(label, source) per sibling theme, different for every theme where the options allow it.

    Two sibling themes both called "Customer service" cannot be told apart in a report: a label wanted by
    several themes stays with the one where it covers the largest share of sentences (ties: theme id);
    the others move to their next option. Deterministic, and independent of the dict's order.
    """
    position = dict.fromkeys(choices, 0)
    while True:
        holders: dict[str, list[str]] = {}
        for theme_id, choice in choices.items():
            if choice.options:
                holders.setdefault(choice.options[position[theme_id]][0].lower(), []).append(theme_id)
        moved = False
        for themes in holders.values():
            if len(themes) < 2:
                continue
            keeper = min(themes, key=lambda t: (-choices[t].options[position[t]][2], t))
            for theme_id in sorted(themes):
                if theme_id != keeper and position[theme_id] + 1 < len(choices[theme_id].options):
                    position[theme_id] += 1
                    moved = True
        if not moved:
            break
    return {
        t: (c.options[position[t]][0], c.options[position[t]][1]) if c.options else (None, "none")
        for t, c in choices.items()
    }


def format_label(phrase: str) -> str:
    """Capitalise the first letter only ("retraso en la entrega" -> "Retraso en la entrega")."""
    return phrase[:1].upper() + phrase[1:] if phrase else phrase
