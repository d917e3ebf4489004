"""Find and redact personal data (PII) in customer feedback before anything is stored or shown.

Rule-based on purpose: every detector is a compiled regular expression plus, where the data carries one,
a checksum (Luhn for cards, mod-97 for IBANs, the check letter of a Spanish DNI/NIE). Checksums are what
keeps prices, dates, order numbers and flight numbers out: a review is full of digits, and a redactor that
blanks "25,50 €" or "12/03/2024" destroys the evidence an analyst needs. Phone numbers have no checksum,
so they are accepted by shape (digit count and grouping per numbering plan) and, for the ambiguous shapes,
by a nearby word such as "teléfono" / "call me"; a nearby "pedido" / "order" vetoes a bare number.

Each kind of datum is replaced by a typed placeholder (``[EMAIL]``, ``[PHONE]``...). Placeholders hold no
digit, ``@`` or ``://``, so no detector can match them again and :func:`redact` is idempotent.

Person names are *not* detected: without a NER model for Spanish (the only spaCy Spanish pipeline breaks
our stack, see STACK.md) name detection would either miss most names or blank product and place names.
Redaction is not escaping: markup around a datum is left exactly as it was.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from vocmine.registry import register

logger = logging.getLogger(__name__)

#: The PII types detected, in the priority order used when two detections overlap.
PII_TYPES: tuple[str, ...] = ("EMAIL", "URL", "IBAN", "CARD", "NIE", "DNI", "PHONE", "HANDLE")

#: How many redaction passes :func:`redact` may make before it stops (see its docstring).
_MAX_PASSES = 3


@dataclass(frozen=True, slots=True)
class PiiSpan:
    """One detected datum: its type (one of :data:`PII_TYPES`), character offsets and the matched text."""

    type: str
    start: int
    end: int
    text: str


def placeholder(pii_type: str) -> str:
    """The text that replaces a datum of ``pii_type``: ``"[EMAIL]"`` and so on."""
    return f"[{pii_type}]"


# --------------------------------------------------------------------------------------------- emails
_EMAIL = re.compile(
    r"(?<![\w.%+\]-])"
    r"[^\W_][\w.%+-]{0,63}"
    r"@"
    r"(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+"
    r"[^\W\d_]{2,24}"
    r"(?![\w\[-])"
)

# ----------------------------------------------------------------------------------------------- urls
_URL_CHARS = r"[^\s<>\"'`\[\]{}|\\^“”‘’«»…]"
_URL_SCHEME = re.compile(r"(?<![\w@.\]-])(?:(?:https?|ftp)://|www\.)" + _URL_CHARS + r"+", re.IGNORECASE)
#: Bare domains count only with a path ("tienda.es/pedido/123"): a brand alone ("Booking.com") is not PII,
#: and a known top-level domain keeps "km/h", "9.5/10" or "p.ej./" out.
_TLDS = (
    "com|net|org|edu|gov|info|biz|io|co|es|mx|ar|cl|pe|uy|ve|ec|bo|py|cr|do|gt|hn|ni|pa|sv|cu|pr|"
    "eu|uk|us|de|fr|it|pt|br|ca|au|nl|be|ch|at|ie|app|dev|shop|store|online|site|ly|gl|me|tv|cat|gal|eus"
)
_URL_BARE = re.compile(
    r"(?<![\w@./\]-])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:" + _TLDS + r")/" + _URL_CHARS + r"*",
    re.IGNORECASE,
)
_URL_TRAILING = ".,;:!?'\"*"


def _trim_url(text: str, start: int, end: int) -> int:
    """Drop sentence punctuation and unbalanced closing brackets from the end of a URL match.

    "(ver https://x.es/a_(b))." keeps the balanced ")" of the path and drops the sentence's ")." (counted
    once, not per character, so a hostile run of ")" stays linear).
    """
    unbalanced = text.count(")", start, end) - text.count("(", start, end)
    while end > start:
        last = text[end - 1]
        if last in _URL_TRAILING:
            end -= 1
        elif last == ")" and unbalanced > 0:
            end -= 1
            unbalanced -= 1
        else:
            break
    return end


def _find_urls(text: str) -> Iterator[tuple[int, int]]:
    """Both URL shapes, the earliest (then longest) winning, so "a.com/https://b" is one URL, not two."""
    candidates = []
    for pattern in (_URL_SCHEME, _URL_BARE):
        for match in pattern.finditer(text):
            end = _trim_url(text, match.start(), match.end())
            if end - match.start() > 4:
                candidates.append((match.start(), -end))
    covered = -1
    for start, negative_end in sorted(candidates):
        if start >= covered:
            covered = -negative_end
            yield start, covered


# ---------------------------------------------------------------------------------------------- ibans
#: IBAN length per country (ISO 13616 registry); a country not listed here is not an IBAN.
_IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
    "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "ES": 24, "FI": 18,
    "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28,
    "IE": 22, "IL": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LI": 21, "LT": 20,
    "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18,
    "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SE": 24,
    "SI": 19, "SK": 24, "SM": 27, "TN": 24, "TR": 26, "UA": 29, "VG": 24, "XK": 20,
    "BY": 28, "EG": 29, "IQ": 23, "LC": 32, "SC": 31, "ST": 25, "SV": 28, "TL": 23, "VA": 22, "LY": 25,
    "SD": 18, "BI": 27, "DJ": 27, "RU": 33, "NI": 28, "MN": 20, "OM": 23,
}  # fmt: skip
_IBAN = re.compile(r"(?<![A-Za-z0-9\]])[A-Za-z]{2}[0-9]{2}(?:[ -]?[A-Za-z0-9]){10,30}")


def _iban_is_valid(compact: str) -> bool:
    """ISO 7064 mod 97-10: move the first four characters to the end, letters to numbers, remainder 1."""
    rearranged = compact[4:] + compact[:4]
    try:
        number = int("".join(str(int(char, 36)) for char in rearranged))
    except ValueError:
        return False
    return number % 97 == 1


def _find_ibans(text: str) -> Iterator[tuple[int, int]]:
    """IBANs of the countries in :data:`_IBAN_LENGTHS`, cut at that country's length, mod-97 checked.

    The country table (not just "two letters") and a mostly-numeric body keep tweets such as
    "@gg8929 so why did you..." out even before the checksum does.
    """
    position = 0
    while (match := _IBAN.search(text, position)) is not None:
        start, raw = match.start(), match.group()
        position = start + 1  # the greedy match may have run into the next IBAN: search again from here
        length = _IBAN_LENGTHS.get(raw[:2].upper())
        if length is None or (start > 0 and text[start - 1] in "@#"):
            continue
        # Offsets (in raw) just after each alphanumeric character, so a compact length maps to an end.
        ends = [i + 1 for i, char in enumerate(raw) if char.isalnum()]
        if length > len(ends):
            continue
        end = ends[length - 1]
        after = start + end
        if after < len(text) and (text[after].isalnum() or text[after] == "["):
            continue  # would cut a word or a group in two
        compact = "".join(char for char in raw[:end] if char.isalnum()).upper()
        if sum(char.isdigit() for char in compact) * 5 >= len(compact) * 3 and _iban_is_valid(compact):
            yield start, after


# --------------------------------------------------------------------------------------------- dni/nie
_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
_DNI = re.compile(r"(?<![\w.\]-])([0-9]{8}|[0-9]{2}\.[0-9]{3}\.[0-9]{3})[ -]?([A-Za-z])(?![\w\[])")
_NIE = re.compile(r"(?<![\w.\]-])([XYZxyz])[ -]?([0-9]{7})[ -]?([A-Za-z])(?![\w\[])")


def _find_dnis(text: str) -> Iterator[tuple[int, int]]:
    for match in _DNI.finditer(text):
        number = int(match.group(1).replace(".", ""))
        if _DNI_LETTERS[number % 23] == match.group(2).upper():
            yield match.span()


def _find_nies(text: str) -> Iterator[tuple[int, int]]:
    for match in _NIE.finditer(text):
        number = int(str("XYZ".index(match.group(1).upper())) + match.group(2))
        if _DNI_LETTERS[number % 23] == match.group(3).upper():
            yield match.span()


# ------------------------------------------------------------------------------------- digit groups
#: A run of digit groups joined by one separator each. The separator is mandatory between groups, so
#: the pattern is unambiguous and cannot backtrack badly on long digit strings.
_SEP = r"(?:[ \u00a0]?[.\-/][ \u00a0]?|[ \u00a0]|\)[ \u00a0]?|[ \u00a0]?\()"
_DIGIT_RUN = re.compile(r"(?<![\w\]])(?:\+|\(\+?)?[0-9]+(?:" + _SEP + r"[0-9]+)*")
_GROUP = re.compile(r"[0-9]+")
#: Phones have at most this many groups; windows over longer runs are capped so work stays linear.
_MAX_GROUPS = 7
#: Country codes of our markets, to accept "0034612345678" written without spaces after the "00" prefix.
_COMMON_COUNTRY_CODES = ("34", "1", "44", "33", "49", "39", "351", "52", "54", "55", "56", "57", "58", "51", "53")
#: US/Canada toll-free area codes: companies print these numbers ungrouped, customers copy them so.
_TOLL_FREE = ("800", "888", "877", "866", "855", "844", "833")


@dataclass(frozen=True, slots=True)
class _Group:
    digits: str
    start: int
    end: int
    sep_before: str  # the characters between the previous group and this one ("" for the first)


@functools.lru_cache(maxsize=4)
def _digit_runs(text: str) -> tuple[tuple[int, tuple[_Group, ...]], ...]:
    """(run start, groups) for every run of digit groups (a run may start with "+" or "(").

    Cached for the last few texts: the card and the phone detector both walk the same runs.
    """
    runs = []
    for match in _DIGIT_RUN.finditer(text):
        groups: list[_Group] = []
        previous_end = None
        for group in _GROUP.finditer(text, match.start(), match.end()):
            sep = "" if previous_end is None else text[previous_end : group.start()]
            groups.append(_Group(group.group(), group.start(), group.end(), sep))
            previous_end = group.end()
        runs.append((match.start(), tuple(groups)))
    return tuple(runs)


def _digit_counts(groups: Sequence[_Group]) -> list[int]:
    """Prefix sums of digits per group: ``counts[j] - counts[i]`` digits in ``groups[i:j]``, in O(1)."""
    counts = [0]
    for group in groups:
        counts.append(counts[-1] + len(group.digits))
    return counts


# ---------------------------------------------------------------------------------------------- cards
def _luhn_is_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _find_cards(text: str) -> Iterator[tuple[int, int]]:
    """Cards: 13-19 digits, one space or dash between groups, first digit 2-6 (the card networks), Luhn.

    Like :func:`_find_phones`, yields the longest valid window at *every* group (overlapping ones too):
    :func:`find_pii` picks among all detectors' candidates at once, so no candidate hides another.
    """
    for run_start, groups in _digit_runs(text):
        # "+54 9 11 ..." is a phone with a country code, never a card: skip windows that start with "+"/"(".
        index = 1 if text[run_start] in "+(" else 0
        counts = _digit_counts(groups)
        while index < len(groups):
            found = None
            for stop in range(min(len(groups), index + 8), index, -1):
                if not 13 <= counts[stop] - counts[index] <= 19:
                    continue
                window = groups[index:stop]
                if any(group.sep_before not in (" ", "-", "\u00a0") for group in window[1:]):
                    continue
                digits = "".join(group.digits for group in window)
                if not (13 <= len(digits) <= 19 and digits[0] in "23456"):
                    continue
                end = window[-1].end
                if end < len(text) and (text[end].isalnum() or text[end] == "["):
                    continue
                if _luhn_is_valid(digits):
                    found = stop
                    break
            if found is not None:
                yield groups[index].start, groups[found - 1].end
            index += 1


# --------------------------------------------------------------------------------------------- phones
def _words(words: str) -> frozenset[str]:
    return frozenset(words.split())


#: Cue words, compared against the lowercased words just before a number (a set lookup per word: a
#: regex alternation over the same words cost ~100 µs per number and made long digit runs quadratic).
_PHONE_WORDS = _words(
    "teléfono telefono teléfonos telefonos tel tlf tfno telf móvil movil celular cel whatsapp wasap "
    "whats fijo contacto celda phone telephone mobile cell text ring fax contact reach llamar llamad"
)
_PHONE_PREFIXES = ("llam", "llám", "call")
_POSSESSIVES = _words("my mi su tu your our his her nuestro nuestra")
_NUMBER_WORDS = _words("number número numero no nº n° nro #")
_NOT_PHONE_WORDS = _words(
    "pedido order orden ref referencia reference factura invoice tracking seguimiento envío envio "
    "localizador booking reserva confirmation confirmación confirmacion ticket código codigo code cuenta "
    "account nif cif dni vuelo flight habitación habitacion room lote serie serial modelo model sku ean "
    "isbn case caso incidencia aviso recogida socio member membership cliente customer pin clave "
    "password"
)
_CUE_WORD = re.compile(r"[^\W\d_]+")
_NOT_PLAIN = re.compile(r"[0-9@/\[\]]|www\.", re.IGNORECASE)
_UNIT_AFTER = re.compile(
    r"[ \u00a0]?(?:€|\$|%|£|eur\b|euros?\b|usd\b|d[oó]lares\b|pesos\b|mxn\b|ars\b|cop\b|km\b|kg\b|"
    r"h\b|hrs?\b|horas\b|hours\b|min\b|minutos\b|puntos\b|points\b|pts\b)",
    re.IGNORECASE,
)
#: Cue words count up to this many plain words back (about "you can reach me at", "mi número de móvil es el").
_CONTEXT_WORDS = 6
#: ...and never further back than this many characters, so the work per number stays bounded.
_CONTEXT_CHARS = 160


def _context_words(text: str, start: int) -> list[str]:
    """The last :data:`_CONTEXT_WORDS` plain words before ``start``, lowercased, nearest last.

    A whitespace-separated chunk holding a digit, "@", "/", "www." or a bracket is skipped whole. Such
    chunks are what redaction rewrites (numbers, emails, URLs, handles, placeholders), so the words seen
    here are the same before and after :func:`redact`: a placeholder ("[PHONE]") never acts as a cue.
    """
    window_start = max(0, start - _CONTEXT_CHARS)
    chunks = text[window_start:start].split()
    if window_start > 0 and chunks:
        chunks = chunks[1:]  # may be cut in the middle
    words: list[str] = []
    for chunk in reversed(chunks):
        if _NOT_PLAIN.search(chunk):
            continue
        words[:0] = [word.lower() for word in _CUE_WORD.findall(chunk)]
        if len(words) >= _CONTEXT_WORDS:
            return words[-_CONTEXT_WORDS:]
    return words


def _phone_context(text: str, start: int) -> int:
    """+1 when the nearest cue word before ``start`` says phone, -1 when it says order/ref, else 0.

    The nearest cue wins, and "number" / "número" only counts after a possessive ("my number"): in
    "order number 7712009" or "case number 55012334" the word before it decides.
    """
    words = _context_words(text, start)
    for index in range(len(words) - 1, -1, -1):
        word = words[index]
        if word in _NUMBER_WORDS:
            if index > 0 and words[index - 1] in _POSSESSIVES:
                return 1
            continue
        if word in _PHONE_WORDS or word.startswith(_PHONE_PREFIXES):
            return 1
        if word in _NOT_PHONE_WORDS:
            return -1
    return 0


def _looks_like_date(window: Sequence[_Group]) -> bool:
    sizes = tuple(len(group.digits) for group in window)
    if sizes not in ((4, 2, 2), (2, 2, 4), (2, 2, 2)):
        return False
    if any("/" in group.sep_before for group in window):
        return True
    values = [int(group.digits) for group in window]
    if sizes == (4, 2, 2):
        return 1900 <= values[0] <= 2100 and 1 <= values[1] <= 12 and 1 <= values[2] <= 31
    return 1 <= values[0] <= 31 and 1 <= values[1] <= 31


def _national_shape_is_phone(window: Sequence[_Group], digits: str, parenthesised: bool) -> bool:
    """Phone shapes without a country code: Spanish 9 digits, 10-digit US/MX/AR/CO, 11-digit UK/US."""
    sizes = tuple(len(group.digits) for group in window)
    grouped = len(window) > 1
    if len(digits) == 9:
        return digits[0] in "6789"
    if digits.startswith(_TOLL_FREE) or digits.startswith(tuple("1" + prefix for prefix in _TOLL_FREE)):
        return len(digits) == 10 + digits.startswith("1")  # US/CA toll-free, written grouped or not
    if len(digits) == 10:
        if parenthesised:
            return True
        return grouped and sizes in {(3, 3, 4), (2, 4, 4), (3, 3, 2, 2), (2, 2, 2, 2, 2), (3, 4, 3), (3, 7), (2, 8)}
    if len(digits) == 11:
        return grouped and (digits[0] == "0" or (digits[0] == "1" and sizes == (1, 3, 3, 4)))
    if len(digits) in (12, 13):
        # Mexico's old long-distance prefixes: 01 (landline), 044/045 (mobile) before the 10-digit number.
        return grouped and digits.startswith(("01", "044", "045")) and len(digits) - 10 == len(window[0].digits)
    return False


def _window_is_phone(text: str, window: Sequence[_Group], run_prefix: str, contexts: dict[int, int]) -> bool:
    """Whether these consecutive digit groups read as one phone number (``contexts`` caches cue lookups)."""
    if any("/" in group.sep_before for group in window[1:]):
        return False
    digits = "".join(group.digits for group in window)
    if not 7 <= len(digits) <= 17:
        return False
    end = window[-1].end
    tail = text[end : end + 2]
    # Glued to a word, an email, a decimal or a date part ("[" stands for whatever redaction put there).
    glued = tail[:1].isalnum() or tail[:1] in ("@", "[")
    if glued or (tail[:1] in (".", ",", ":", "/") and (tail[1:2].isdigit() or tail[1:2] == "[")):
        return False
    if _UNIT_AFTER.match(text, end):
        return False
    head = text[max(0, window[0].start - 1) : window[0].start]
    if head in ("$", "€", "£"):
        return False
    international = run_prefix.startswith(("+", "(+")) or (
        digits.startswith("00")
        and (len(window) > 1 or (digits[2:].startswith(_COMMON_COUNTRY_CODES) and len(digits) >= 12))
    )
    if international:
        national = digits[2:] if digits.startswith("00") else digits
        return 8 <= len(national) <= 15
    context = contexts.get(window[0].start)
    if context is None:
        context = contexts[window[0].start] = _phone_context(text, window[0].start)
    if _looks_like_date(window):
        return False
    if context > 0:
        return 7 <= len(digits) <= 13
    if context < 0:
        return False
    return _national_shape_is_phone(window, digits, run_prefix.startswith("(") or window[0].sep_before == "(")


def _find_phones(text: str) -> Iterator[tuple[int, int]]:
    """The longest phone-shaped window of digit groups starting at each group of each run."""
    for run_start, groups in _digit_runs(text):
        prefix = text[run_start : groups[0].start]
        counts = _digit_counts(groups)
        contexts: dict[int, int] = {}
        index = 0
        while index < len(groups):
            found = None
            for stop in range(min(len(groups), index + _MAX_GROUPS), index, -1):
                if not 7 <= counts[stop] - counts[index] <= 17:
                    continue
                window = groups[index:stop]
                if _window_is_phone(text, window, prefix if index == 0 else "", contexts):
                    found = stop
                    break
            if found is not None:
                yield (run_start if index == 0 else groups[index].start), groups[found - 1].end
            index += 1


# -------------------------------------------------------------------------------------------- handles
#: "@" + name, not inside an email or a path, with at least one letter, and not a time ("@6pm", "@630pm").
_HANDLE = re.compile(
    r"(?<![\w@./+\]-])@(?=[\w.]*[^\W\d])(?![0-9]{1,4}(?::[0-9]{2})?(?i:am|pm|h|hs|hrs)\b)"
    r"[A-Za-z0-9_](?:[A-Za-z0-9_.]{0,28}[A-Za-z0-9_])?(?![\w@\[])"
)


def _find_handles(text: str) -> Iterator[tuple[int, int]]:
    for match in _HANDLE.finditer(text):
        yield match.span()


def _find_emails(text: str) -> Iterator[tuple[int, int]]:
    for match in _EMAIL.finditer(text):
        yield match.span()


_HAS_DIGIT = re.compile(r"[0-9]")


def _has_at(text: str) -> bool:
    return "@" in text


def _has_web_mark(text: str) -> bool:
    return "/" in text or "www." in text.lower()


def _has_digit(text: str) -> bool:
    return _HAS_DIGIT.search(text) is not None


#: (type, detector, cheap test a text must pass for the detector to be worth running), in priority order.
#: Most sentences have no "@", no "/" and no digit: they skip every regular expression.
_DETECTORS: tuple[tuple[str, Callable[[str], Iterator[tuple[int, int]]], Callable[[str], bool]], ...] = (
    ("EMAIL", _find_emails, _has_at),
    ("URL", _find_urls, _has_web_mark),
    ("IBAN", _find_ibans, _has_digit),
    ("CARD", _find_cards, _has_digit),
    ("NIE", _find_nies, _has_digit),
    ("DNI", _find_dnis, _has_digit),
    ("PHONE", _find_phones, _has_digit),
    ("HANDLE", _find_handles, _has_at),
)


def find_pii(text: str) -> list[PiiSpan]:
    """Every datum in ``text``, sorted by offset and never overlapping.

    Where detections overlap, the one that starts first wins, then the longest, then the type earlier in
    :data:`PII_TYPES`: a URL swallows the email or phone digits in its path, an email the handle inside
    it, a checksummed card or IBAN the phone shape its digits may also have. Taking the whole leftmost
    datum (not the higher-priority piece of it) is what leaves nothing detectable behind after redaction.
    """
    if not text:
        return []
    candidates: list[tuple[int, int, int]] = []  # (start, -end, priority)
    for priority, (_, detect, worth_running) in enumerate(_DETECTORS):
        if worth_running(text):
            candidates.extend((start, -end, priority) for start, end in detect(text))
    spans: list[PiiSpan] = []
    covered = 0
    for start, negative_end, priority in sorted(candidates):
        if start >= covered:
            covered = -negative_end
            spans.append(PiiSpan(_DETECTORS[priority][0], start, covered, text[start:covered]))
    return spans


def _replace(text: str, spans: list[PiiSpan]) -> str:
    parts: list[str] = []
    cursor = 0
    for span in spans:
        parts.append(text[cursor : span.start])
        parts.append(placeholder(span.type))
        cursor = span.end
    parts.append(text[cursor:])
    return "".join(parts)


def redact(text: str) -> str:
    """Replace every datum in ``text`` with its typed placeholder; everything else is kept byte for byte.

    Idempotent: ``redact(redact(x)) == redact(x)``. On real text one pass leaves nothing to find (the
    detectors treat "[" and "]" like the characters they replaced, and cue words skip redacted chunks), but
    contrived strings can still hide a datum behind a longer overlapping one, e.g. "4111 1111 1111
    1111.com/(0.com/"; so the result is re-checked until nothing more is found (at most a few passes).
    """
    for _ in range(_MAX_PASSES):
        spans = find_pii(text)
        if not spans:
            return text
        text = _replace(text, spans)
    return text


@dataclass(frozen=True, slots=True)
class RegexPiiRedactor:
    """The redactor as a named component, for config files and for the annotations that record it."""

    name: str = "vocmine.regex_pii.v1"

    def find(self, text: str) -> list[PiiSpan]:
        return find_pii(text)

    def redact(self, text: str) -> str:
        return redact(text)


@register("redactor", "vocmine.regex_pii.v1")
def create_regex_pii_redactor() -> RegexPiiRedactor:
    """Registry factory for the default rule-based redactor."""
    return RegexPiiRedactor()


# ------------------------------------------------------------------------------------------ evaluation
@dataclass(frozen=True, slots=True)
class PiiScore:
    """Span-level counts for one type. ``exact``: same type and same offsets; else same type and overlap."""

    pii_type: str
    gold: int
    predicted: int
    true_positives: int

    @property
    def precision(self) -> float:
        return self.true_positives / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.gold if self.gold else 1.0


def score_pii(
    examples: Iterable[tuple[str, Sequence[tuple[str, int, int]]]],
    *,
    exact: bool = True,
) -> dict[str, PiiScore]:
    """Precision/recall per type of :func:`find_pii` against gold ``(type, start, end)`` spans per text.

    A prediction counts as right when a gold span of the same type has the same offsets (``exact``) or
    overlaps it; each gold span can be matched once. Types with neither gold nor predictions are omitted.
    """
    gold_count: dict[str, int] = {}
    predicted_count: dict[str, int] = {}
    hits: dict[str, int] = {}
    for text, gold_spans in examples:
        unmatched = list(gold_spans)
        for pii_type, _, _ in gold_spans:
            gold_count[pii_type] = gold_count.get(pii_type, 0) + 1
        for span in find_pii(text):
            predicted_count[span.type] = predicted_count.get(span.type, 0) + 1
            for gold in unmatched:
                gold_type, gold_start, gold_end = gold
                same = (gold_start, gold_end) == (span.start, span.end)
                overlap = gold_start < span.end and span.start < gold_end
                if gold_type == span.type and (same if exact else overlap):
                    hits[span.type] = hits.get(span.type, 0) + 1
                    unmatched.remove(gold)
                    break
    types = [pii_type for pii_type in PII_TYPES if pii_type in gold_count or pii_type in predicted_count]
    return {
        pii_type: PiiScore(
            pii_type, gold_count.get(pii_type, 0), predicted_count.get(pii_type, 0), hits.get(pii_type, 0)
        )
        for pii_type in types
    }
