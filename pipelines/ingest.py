"""Ingest exports into the store: read, map each row onto the canonical record, validate, upsert.

Why it is built this way:

- **Good rows are always kept.** A bad cell (score "diez", stars "0", a date that is not a date) makes
  its row a *reject*: one row in the ``rejects`` table and in ``<store_dir>/rejects/<file>.rejects.csv``
  with file, row, column, expected and got, so an analyst can fix the cell and re-ingest.
- **Idempotent.** Every response has a stable id ("<source>:<id>" from the id column, else a hash of
  source + content) and a ``content_hash``. Re-ingesting the same file writes nothing; a changed row is
  updated in place and its stale answers, sentences, annotations and theme assignments are deleted so
  the analysis recomputes them.
- **All or nothing per file.** Each file is written in one store transaction: a crash half-way leaves
  the store as it was before that file.
- **Text is cleaned once, here**: control characters and zero-width spaces removed, NFC, HTML stripped,
  emoji kept, PII redacted (``vocmine.nlp.pii.redact``) before anything is stored.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import json
import logging
import re
import unicodedata
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from vocmine.errors import UnreadableFileError, VocmineError
from vocmine.ids import content_hash, file_hash, text_hash
from vocmine.nlp.language import normalise_language_code
from vocmine.pipelines.profiles import (
    ProfileOverrides,
    SourceProfile,
    StepSpec,
    apply_overrides,
    load_profile,
    missing_required,
    resolve_column,
    scale_bounds,
    slugify,
)
from vocmine.pipelines.readers import RawRecord, RawTable, read_table
from vocmine.store import Store, utcnow

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


# -- results ---------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class FileReport:
    """What happened to one file; ``error`` is set when the whole file could not be read."""

    path: Path
    file_hash: str | None
    source: str | None
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    duplicates: int = 0
    rejects_path: Path | None = None
    error: str | None = None
    format: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    missing_columns: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class IngestReport:
    """Totals over all files, plus one :class:`FileReport` per file.

    ``rejects_path`` is the folder holding the rejects files when anything was rejected (each file's
    own rejects file is in its detail). ``duplicates`` counts rows repeated verbatim inside one file.
    """

    files: int
    rows_read: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    rejects_path: Path | None
    details: tuple[FileReport, ...]
    duplicates: int = 0
    failed_files: int = 0

    @property
    def has_rejects(self) -> bool:
        """True when any row or any whole file was refused (the CLI then exits 1)."""
        return self.rejected > 0 or self.failed_files > 0

    @property
    def rejects_files(self) -> list[Path]:
        return [d.rejects_path for d in self.details if d.rejects_path is not None]


@dataclass(frozen=True, slots=True)
class Reject:
    """One refused cell or row, as it goes to the rejects table and file."""

    row: int | None
    column: str | None
    expected: str
    got: str
    message: str


class CellError(VocmineError):
    """A cell value that does not fit its column (becomes a :class:`Reject`)."""

    def __init__(self, expected: str, got: str) -> None:
        super().__init__(f"expected {expected}, got {got!r}")
        self.expected = expected
        self.got = got


# -- values ----------------------------------------------------------------------------------------
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:[.,]\d+)?|[.,]\d+)$")
_OUT_OF = re.compile(
    r"^(?P<n>[+-]?\d+(?:[.,]\d+)?)\s*(?:/\s*(?P<d>\d+)|(?:out\s+of|de|sobre)\s+(?P<d2>\d+))?"
    r"\s*(?:stars?|estrellas?|puntos?|points?)?$",
    re.IGNORECASE,
)
_STAR_CHARS = {"★": 1.0, "⭐": 1.0, "✩": 0.0, "☆": 0.0, "✰": 0.0}


def parse_number(raw: str) -> float | None:
    """"9,5" -> 9.5, "7" -> 7.0, anything else -> None (decimal comma accepted: Spanish exports)."""
    text = raw.strip().replace("\u00a0", "").replace(" ", "")
    if not _NUMBER.match(text):
        return None
    return float(text.replace(",", "."))


def parse_score(raw: str, scale: str) -> float | None:
    """A recommend/review score on ``scale`` ("0-10", "1-10"...); empty -> None; else CellError."""
    text = raw.strip()
    if not text:
        return None
    bounds = scale_bounds(scale) or (0.0, 10.0)
    low, high = bounds
    expected = f"a number from {_fmt(low)} to {_fmt(high)}"
    match = _OUT_OF.match(text)
    value: float | None = None
    if match:
        denominator = match.group("d") or match.group("d2")
        if denominator is None or float(denominator) == high:
            value = float(match.group("n").replace(",", "."))
    if value is None or not low <= value <= high:
        raise CellError(expected, raw)
    return value


def parse_stars(raw: str) -> float | None:
    """Stars 1-5 from "4", "4,0", "4/5", "4 estrellas" or "★★★★☆"; empty -> None; else CellError."""
    text = raw.strip()
    if not text:
        return None
    expected = "stars from 1 to 5 (e.g. 4, 4,5, 4/5 or ★★★★)"
    compact = text.replace(" ", "").replace("\ufe0f", "")
    if compact and all(ch in _STAR_CHARS for ch in compact):
        value = sum(_STAR_CHARS[ch] for ch in compact)
    else:
        match = _OUT_OF.match(text)
        denominator = (match.group("d") or match.group("d2")) if match else None
        if not match or (denominator is not None and denominator != "5"):
            raise CellError(expected, raw)
        value = float(match.group("n").replace(",", "."))
    if not 1.0 <= value <= 5.0:
        raise CellError(expected, raw)
    return value


_MONTHS = {
    "enero": 1, "ene": 1, "january": 1, "jan": 1,
    "febrero": 2, "feb": 2, "february": 2,
    "marzo": 3, "mar": 3, "march": 3,
    "abril": 4, "abr": 4, "april": 4, "apr": 4,
    "mayo": 5, "may": 5,
    "junio": 6, "jun": 6, "june": 6,
    "julio": 7, "jul": 7, "july": 7,
    "agosto": 8, "ago": 8, "august": 8, "aug": 8,
    "septiembre": 9, "setiembre": 9, "sep": 9, "sept": 9, "set": 9, "september": 9,
    "octubre": 10, "oct": 10, "october": 10,
    "noviembre": 11, "nov": 11, "november": 11,
    "diciembre": 12, "dic": 12, "december": 12, "dec": 12,
}
_FILLER = {
    "de", "del", "of", "the", "el", "on", "lunes", "martes", "miércoles", "miercoles", "jueves", "viernes",
    "sábado", "sabado", "domingo", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
    "sunday", "mon", "tue", "wed", "thu", "fri", "sat", "sun", "lun", "mié", "jue", "vie", "sáb", "dom",
}
_NUMERIC_DATE = re.compile(
    r"^(\d{1,4})[/.\-](\d{1,2})[/.\-](\d{1,4})(?:[ T,]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$"
)
_MONTH_YEAR = re.compile(r"^(\d{1,2})[/.\-](\d{4})$|^(\d{4})[/.\-](\d{1,2})$")
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
DATE_EXPECTED = "a date (ISO 2021-03-14, dd/mm/yyyy, '14 de marzo de 2021', 'March 14, 2021' or an Excel serial)"


def parse_date(raw: str, formats: Sequence[str] = (), dayfirst: bool = True) -> dt.datetime | None:
    """Parse the dates real exports hold; empty -> None; anything else unreadable -> CellError.

    Order: the profile's own strptime formats; a bare year (Rest-Mex "2018" -> 1 Jan 2018); an Excel
    serial day number (what a date cell becomes in a CSV saved from Excel, > 2100 so a year is never
    taken for one); ISO 8601; numeric d/m/y (or m/d/y when ``dayfirst`` is False, and whenever the day
    position cannot be a day); month names in Spanish or English.
    """
    text = " ".join(raw.strip().split())
    if not text:
        return None
    for fmt in formats:
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    try:
        return _parse_date_builtin(text, dayfirst)
    except (ValueError, OverflowError):
        raise CellError(DATE_EXPECTED, raw) from None


def _parse_date_builtin(text: str, dayfirst: bool) -> dt.datetime:
    number = parse_number(text)
    if number is not None:
        if number.is_integer() and 1900 <= number <= 2100:
            return dt.datetime(int(number), 1, 1)
        if 2100 < number < 2958466:
            return (_EXCEL_EPOCH + dt.timedelta(days=number)).replace(microsecond=0)
        raise ValueError(text)
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        pass
    else:
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
        return parsed
    match = _NUMERIC_DATE.match(text)
    if match:
        a, b, c = (int(match.group(i)) for i in (1, 2, 3))
        hour, minute, second = (int(match.group(i) or 0) for i in (4, 5, 6))
        if len(match.group(1)) == 4:
            year, month, day = a, b, c
        else:
            day, month = (a, b) if dayfirst else (b, a)
            if month > 12 and day <= 12:
                day, month = month, day
            year = _full_year(c, len(match.group(3)))
        return dt.datetime(year, month, day, hour, minute, second)
    match = _MONTH_YEAR.match(text)
    if match:
        if match.group(1):
            return dt.datetime(int(match.group(2)), int(match.group(1)), 1)
        return dt.datetime(int(match.group(3)), int(match.group(4)), 1)
    return _parse_month_name(text)


def _full_year(value: int, digits: int) -> int:
    if digits == 4:
        return value
    if digits <= 2:
        return 2000 + value if value < 70 else 1900 + value
    raise ValueError(value)


def _parse_month_name(text: str) -> dt.datetime:
    tokens = [t for t in re.split(r"[\s,./\-]+", text.casefold()) if t and t not in _FILLER]
    month = day = year = None
    hour = minute = 0
    for token in tokens:
        if ":" in token:
            parts = token.split(":")
            hour, minute = int(parts[0]), int(parts[1])
        elif token in _MONTHS:
            month = _MONTHS[token]
        else:
            digits = re.sub(r"(st|nd|rd|th|º|°)$", "", token)
            if not digits.isdigit():
                raise ValueError(text)
            if len(digits) == 4:
                year = int(digits)
            elif day is None:
                day = int(digits)
            else:
                raise ValueError(text)
    if month is None or year is None:
        raise ValueError(text)
    return dt.datetime(year, month, day or 1, hour, minute)


def _fmt(value: float) -> str:
    return str(int(value)) if value.is_integer() else str(value)


# -- text ------------------------------------------------------------------------------------------
_HTML_TAGS = (
    "a|abbr|b|big|blockquote|br|center|code|div|em|font|h[1-6]|hr|i|img|li|ol|p|pre|s|small|span|strike|"
    "strong|sub|sup|table|tbody|td|th|thead|tr|tt|u|ul"
)
_HTML_TAG = re.compile(rf"</?(?:{_HTML_TAGS})(?:\s[^<>]*)?/?>", re.IGNORECASE)
_HTML_BREAK = re.compile(r"<(?:br|/p|/div|/li|/h[1-6]|/tr)\s*/?>", re.IGNORECASE)
_HTML_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|[a-zA-Z]{2,8});")
#: Format characters kept: ZWNJ/ZWJ (emoji sequences, Indic scripts) and tag characters (flag emoji).
_KEEP_FORMAT = {"\u200c", "\u200d"}
_QUOTE_PAIRS = {'"': '"', "“": "”", "«": "»"}


def clean_text(raw: str, strip_quotes: bool = True, strip_html: bool = True) -> str:
    """Clean one answer without changing what the customer said.

    Removes control characters and invisible format characters (zero-width space, BOM, bidi marks,
    soft hyphen) that break tokenisers and deduplication; normalises to NFC so "é" has one form;
    turns HTML breaks into new lines and drops other HTML tags and entities; collapses runs of spaces;
    keeps new lines, emoji (and the joiners inside emoji sequences) and every script as they are.
    """
    text = unicodedata.normalize("NFC", raw)
    if strip_html:
        if _HTML_TAG.search(text):
            text = _HTML_BREAK.sub("\n", text)
            text = _HTML_TAG.sub(" ", text)
        if _HTML_ENTITY.search(text):
            text = html.unescape(text)
    pieces: list[str] = []
    for char in text:
        category = unicodedata.category(char)
        if char == "\n" or category in {"Zl", "Zp"}:
            pieces.append("\n")
        elif char == "\r":
            pieces.append("\n" if not pieces or pieces[-1] != "\n" else "")
        elif category == "Cc" or category == "Zs":
            pieces.append(" ")
        elif category == "Cf" and char not in _KEEP_FORMAT and not "\U000e0020" <= char <= "\U000e007f":
            continue
        else:
            pieces.append(char)
    text = "".join(pieces)
    text = re.sub(r"[ ]{2,}", " ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    if strip_quotes and len(text) >= 2 and _QUOTE_PAIRS.get(text[0]) == text[-1] and _is_wrapper(text):
        text = text[1:-1].strip()
    return unicodedata.normalize("NFC", text)


def _is_wrapper(text: str) -> bool:
    """True when the first and last characters quote the whole text ('"Un "must" a conocer"').

    Not when they open and close two separate quotes ('"Muy" bueno "sí"'): inside a real wrapper every
    inner straight quote alternates open (after a space or the start) / close (after anything else).
    """
    inner = text[1:-1]
    opening, closing = text[0], text[-1]
    if opening != closing:
        return opening not in inner and closing not in inner
    expect_open = True
    for position, char in enumerate(inner):
        if char != opening:
            continue
        before = inner[position - 1] if position else " "
        is_open = before.isspace() or before in "([{¿¡-—/"
        if is_open != expect_open:
            return False
        expect_open = not expect_open
    return expect_open


def _load_redactor() -> Callable[[str], str]:
    """``vocmine.nlp.pii.redact`` when it is installed; identity (with a warning) until then."""
    try:
        from vocmine.nlp.pii import redact
    except ModuleNotFoundError as error:
        if error.name not in {"vocmine.nlp.pii", "vocmine.nlp"}:
            raise
        logger.warning("vocmine.nlp.pii is not available: answer texts are stored WITHOUT PII redaction")
        return lambda text: text
    return redact


# -- mapping rows ----------------------------------------------------------------------------------
@dataclass(slots=True)
class _Plan:
    """The profile resolved against one file's columns."""

    texts: list[tuple[str, str]]  # (question, column)
    steps: list[tuple[StepSpec, str | None, str | None]]  # (step, text column, score column)
    columns: dict[str, str | None]
    missing: list[str]
    used: set[str] = field(default_factory=set)


_FIELDS = (
    "id", "score", "stars", "date", "branch", "seller", "language", "touchpoint", "product", "segment"
)


def _plan(profile: SourceProfile, table: RawTable) -> _Plan:
    name = table.path.name
    absent = missing_required(profile, table.columns)
    if absent:
        raise UnreadableFileError(
            f"{name}: missing required column(s) {', '.join(repr(a) for a in absent)}; "
            f"the file has: {', '.join(table.columns)}"
        )
    missing: list[str] = []

    def resolve(ref: Any, label: str) -> str | None:
        column = resolve_column(ref, table.columns)
        if ref is not None and column is None:
            missing.append(f"{label}={ref if isinstance(ref, str) else '|'.join(ref)}")
        return column

    columns = {key: resolve(getattr(profile, f"{key}_column"), f"{key}_column") for key in _FIELDS}
    texts = [
        (question, column)
        for question, ref in profile.text_columns.items()
        if (column := resolve(ref, f"text_columns.{question}")) is not None
    ]
    steps = [
        (
            step,
            resolve(step.text_column, f"steps.{step.question}.text_column"),
            resolve(step.score_column, f"steps.{step.question}.score_column"),
        )
        for step in profile.steps
    ]
    steps = [s for s in steps if s[1] is not None or s[2] is not None]
    if not texts and not steps and columns["score"] is None and columns["stars"] is None:
        raise UnreadableFileError(
            f"{name}: none of the columns of profile {profile.name!r} is in the file "
            f"(looked for {', '.join(missing)}); the file has: {', '.join(table.columns)}. "
            "Use --text-column/--score-column or another --profile."
        )
    if missing:
        logger.info("%s: profile %r columns not in the file: %s", name, profile.name, ", ".join(missing))
    used = {c for c in columns.values() if c} | {c for _, c in texts}
    used |= {c for _, t, s in steps for c in (t, s) if c}
    return _Plan(texts, steps, columns, missing, used)


@dataclass(slots=True)
class _Mapped:
    row: int
    response: dict[str, Any]
    answers: list[dict[str, Any]]
    content_hash: str


def _cell(record: RawRecord, column: str | None) -> str:
    return record.values.get(column, "") if column else ""


def _map_record(
    record: RawRecord, plan: _Plan, profile: SourceProfile, source: str, file_label: str
) -> _Mapped | list[Reject]:
    problems: list[Reject] = []

    def checked(column: str | None, parse: Callable[[str], Any]) -> Any:
        if column is None:
            return None
        raw = _cell(record, column)
        try:
            return parse(raw)
        except CellError as error:
            problems.append(
                Reject(
                    record.row, column, error.expected, raw,
                    f"{file_label} row {record.row}, column {column!r}: expected {error.expected}, got {raw!r}",
                )
            )
            return None

    placeholders = {p.casefold() for p in profile.placeholders}

    def text_of(column: str) -> str:
        text = clean_text(_cell(record, column), profile.strip_wrapping_quotes, profile.strip_html)
        return "" if text.casefold() in placeholders else text

    cols = plan.columns
    score = checked(cols["score"], lambda raw: parse_score(raw, profile.score_scale))
    stars = checked(cols["stars"], parse_stars)
    created_at = checked(cols["date"], lambda raw: parse_date(raw, profile.date_formats, profile.dayfirst))
    answers: list[tuple[str, str, float | None]] = [(q, text_of(c), None) for q, c in plan.texts]
    step_scores: dict[str, float] = {}
    for step, text_column, score_column in plan.steps:
        step_score = checked(score_column, lambda raw, s=step: parse_score(raw, s.score_scale))
        answers.append((step.question, text_of(text_column) if text_column else "", step_score))
        if step_score is not None:
            step_scores[step.question] = step_score
    raw_id = " ".join(_cell(record, cols["id"]).split())
    if cols["id"] is not None and not raw_id:
        problems.append(
            Reject(record.row, cols["id"], "a non-empty id", "",
                   f"{file_label} row {record.row}, column {cols['id']!r}: expected a non-empty id, got ''")
        )
    if problems:
        return problems
    # Free-text answers only when there is text; a checklist step also when it has a score, so per-step
    # score analysis sees every scored step (its text is then "": analysis steps skip empty texts).
    kept = [(q, t, s) for q, t, s in answers if t or s is not None]
    if not kept and score is None and stars is None and not step_scores:
        column = ", ".join([c for _, c in plan.texts] + [c for _, c, _ in plan.steps if c]) or None
        return [
            Reject(record.row, column, "a text or a score", "",
                   f"{file_label} row {record.row}: no text and no score, nothing to analyse")
        ]

    def plain(key: str) -> str | None:
        value = " ".join(_cell(record, cols[key]).split())
        return value or None

    language = normalise_language_code(plain("language"))  # "es-ES", "spa", "Spanish" -> "es"
    metadata = {
        column: value.strip()
        for column, value in record.values.items()
        if column not in plan.used and value.strip()
    }
    if step_scores:
        metadata["step_scores"] = step_scores
    response = {
        "source": source,
        "channel": profile.channel,
        "created_at": created_at,
        "language": language,
        "language_source": "given" if language else None,
        "score": score,
        "score_scale": profile.score_scale if score is not None else None,
        "stars": stars,
        "branch": plain("branch"),
        "seller": plain("seller"),
        "touchpoint": plain("touchpoint"),
        "product": plain("product"),
        "segment": plain("segment"),
        "metadata": metadata,
    }
    payload = {**response, "answers": [[q, t, s] for q, t, s in kept]}
    digest = content_hash(payload)
    response_id = f"{source}:{raw_id}" if cols["id"] is not None else f"{source}:{digest}"
    response["response_id"] = response_id
    rows = [
        {"question": question, "text": text, "score": step_score, "position": position}
        for position, (question, text, step_score) in enumerate(kept)
    ]
    return _Mapped(record.row, response, rows, digest)


# -- the pipeline ----------------------------------------------------------------------------------
def ingest_paths(
    paths: Sequence[Path],
    store: Store,
    profile: SourceProfile | str | Path = "review",
    overrides: ProfileOverrides | None = None,
    rejects_dir: Path | None = None,
    progress: Progress | None = None,
) -> IngestReport:
    """Ingest files into ``store`` with ``profile`` (a name, a TOML path or a :class:`SourceProfile`).

    Folders are expanded to the readable files they hold. A file that cannot be read is recorded in the
    report (and in the rejects table) and the others still go in. ``progress(files_done, files_total)``
    is called after each file.
    """
    resolved = apply_overrides(load_profile(profile), overrides)
    files = _expand(paths)
    rejects_dir = Path(rejects_dir) if rejects_dir is not None else store.path.parent / "rejects"
    redact = _load_redactor()
    details: list[FileReport] = []
    for done, path in enumerate(files, start=1):
        details.append(ingest_file(path, store, resolved, rejects_dir, redact))
        if progress is not None:
            progress(done, len(files))
    rejected = sum(d.rejected for d in details)
    failed = sum(d.error is not None for d in details)
    return IngestReport(
        files=len(details),
        rows_read=sum(d.rows_read for d in details),
        inserted=sum(d.inserted for d in details),
        updated=sum(d.updated for d in details),
        unchanged=sum(d.unchanged for d in details),
        rejected=rejected,
        rejects_path=rejects_dir if (rejected or failed) else None,
        details=tuple(details),
        duplicates=sum(d.duplicates for d in details),
        failed_files=failed,
    )


_READABLE = {".csv", ".tsv", ".txt", ".tab", ".xlsx", ".xlsm", ".json", ".jsonl", ".ndjson", ".parquet"}


def _expand(paths: Sequence[Path]) -> list[Path]:
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            files.extend(p for p in sorted(path.rglob("*")) if p.is_file() and p.suffix.lower() in _READABLE)
        else:
            files.append(path)
    return files


def ingest_file(
    path: Path,
    store: Store,
    profile: SourceProfile,
    rejects_dir: Path,
    redact: Callable[[str], str] | None = None,
) -> FileReport:
    """Ingest one file in one transaction; an unreadable file gives a report with ``error`` set."""
    redact = redact or _load_redactor()
    path = Path(path)
    location = str(path.resolve())
    source = profile.source or path.stem
    digest = file_hash(path.read_bytes()) if path.is_file() else None
    try:
        table = read_table(path, sheet=profile.sheet)
        plan = _plan(profile, table)
    except UnreadableFileError as error:
        logger.warning("%s", error)
        reject = Reject(None, None, "a readable file", path.name, str(error))
        with store.transaction():
            _replace_rejects(store, location, digest, source, [reject])
        report_path = write_rejects_file(rejects_dir, path, [reject])
        return FileReport(path, digest, source, rejects_path=report_path, error=str(error))

    label = path.name
    rejects = [Reject(p.row, p.column, p.expected, p.got, p.message) for p in table.problems]
    rejected_rows = {p.row for p in table.problems}
    kept: dict[str, _Mapped] = {}
    duplicates = 0
    for record in table.records:
        mapped = _map_record(record, plan, profile, source, label)
        if isinstance(mapped, list):
            rejects.extend(mapped)
            rejected_rows.add(record.row)
            continue
        response_id = mapped.response["response_id"]
        first = kept.get(response_id)
        if first is None:
            kept[response_id] = mapped
        elif first.content_hash == mapped.content_hash:
            duplicates += 1
        else:
            id_column = plan.columns["id"]
            rejects.append(
                Reject(
                    record.row, id_column, "a unique id", response_id.split(":", 1)[1],
                    f"{label} row {record.row}: id {response_id.split(':', 1)[1]!r} already used at row "
                    f"{first.row} with different content; the first row was kept",
                )
            )
            rejected_rows.add(record.row)

    rejects.sort(key=lambda r: -1 if r.row is None else r.row)
    now = utcnow()
    existing = _existing(store, list(kept))
    new_rows = [m for rid, m in kept.items() if rid not in existing]
    changed = [m for rid, m in kept.items() if rid in existing and existing[rid][0] != m.content_hash]
    unchanged = len(kept) - len(new_rows) - len(changed)
    to_write = new_rows + changed
    responses = _responses_frame(to_write, existing, location, now)
    answers = _answers_frame(to_write, redact)
    with store.transaction():
        _delete_stale(store, [m.response["response_id"] for m in changed])
        store.upsert("responses", responses)
        store.upsert("answers", answers)
        _replace_rejects(store, location, digest, source, rejects, now)
        store.upsert(
            "sources",
            pd.DataFrame(
                [
                    {
                        "path": location, "file_hash": digest, "source": source, "profile": profile.name,
                        "rows_read": len(table.records) + len(table.problems), "rows_inserted": len(new_rows),
                        "rows_updated": len(changed), "rows_unchanged": unchanged,
                        "rows_rejected": len(rejected_rows), "ingested_at": now,
                    }
                ]
            ),
        )
    report_path = write_rejects_file(rejects_dir, path, rejects)
    logger.info(
        "%s: %d rows, %d new, %d updated, %d unchanged, %d rejected, %d duplicates",
        label, len(table.records) + len(table.problems), len(new_rows), len(changed), unchanged,
        len(rejected_rows), duplicates,
    )
    return FileReport(
        path, digest, source,
        rows_read=len(table.records) + len(table.problems),
        inserted=len(new_rows), updated=len(changed), unchanged=unchanged,
        rejected=len(rejected_rows), duplicates=duplicates, rejects_path=report_path,
        format=table.format, encoding=table.encoding, delimiter=table.delimiter,
        missing_columns=tuple(plan.missing),
    )


def _existing(store: Store, response_ids: list[str]) -> dict[str, tuple[str, Any]]:
    """content_hash and ingested_at of the responses already stored, by id."""
    if not response_ids:
        return {}
    view = f"_ids_{uuid.uuid4().hex}"
    store.con.register(view, pd.DataFrame({"response_id": response_ids}))
    try:
        rows = store.con.execute(
            f"SELECT r.response_id, r.content_hash, r.ingested_at FROM responses r JOIN {view} USING (response_id)"
        ).fetchall()
    finally:
        store.con.unregister(view)
    return {rid: (digest, ingested) for rid, digest, ingested in rows}


def _delete_stale(store: Store, response_ids: list[str]) -> None:
    """Drop everything derived from the old version of changed responses, so analysis recomputes it."""
    if not response_ids:
        return
    answer_ids = _ids_of(store, "answers", "answer_id", response_ids)
    sentence_ids = _ids_of(store, "sentences", "sentence_id", response_ids)
    store.delete_where_in("annotations", "target_id", answer_ids + sentence_ids + response_ids)
    store.delete_where_in("theme_assignments", "response_id", response_ids)
    store.delete_where_in("sentences", "response_id", response_ids)
    store.delete_where_in("answers", "response_id", response_ids)


def _ids_of(store: Store, table: str, column: str, response_ids: list[str]) -> list[str]:
    view = f"_rid_{uuid.uuid4().hex}"
    store.con.register(view, pd.DataFrame({"response_id": response_ids}))
    try:
        rows = store.con.execute(
            f"SELECT t.{column} FROM {table} t JOIN {view} v ON t.response_id = v.response_id"
        ).fetchall()
    finally:
        store.con.unregister(view)
    return [r[0] for r in rows]


_RESPONSE_COLUMNS = (
    "response_id", "source", "channel", "created_at", "language", "language_source", "score", "score_scale",
    "stars", "nps_class", "branch", "seller", "touchpoint", "product", "segment", "metadata", "content_hash",
    "source_file", "source_row", "ingested_at", "updated_at",
)


def _responses_frame(
    mapped: list[_Mapped], existing: dict[str, tuple[str, Any]], location: str, now: dt.datetime
) -> pd.DataFrame:
    rows = []
    for item in mapped:
        response = dict(item.response)
        previous = existing.get(response["response_id"])
        response.update(
            nps_class=None,
            metadata=json.dumps(response["metadata"], ensure_ascii=False, sort_keys=True),
            content_hash=item.content_hash,
            source_file=location,
            source_row=item.row,
            ingested_at=previous[1] if previous else now,
            updated_at=now,
        )
        rows.append(response)
    frame = pd.DataFrame(rows, columns=list(_RESPONSE_COLUMNS))
    frame["created_at"] = pd.to_datetime(frame["created_at"])
    for column in ("score", "stars"):
        frame[column] = pd.to_numeric(frame[column]).astype("float64")
    frame["source_row"] = frame["source_row"].astype("Int64")
    return frame


def _answers_frame(mapped: list[_Mapped], redact: Callable[[str], str]) -> pd.DataFrame:
    rows = []
    for item in mapped:
        response = item.response
        for answer in item.answers:
            text = redact(answer["text"])
            rows.append(
                {
                    "answer_id": f"{response['response_id']}:{slugify(answer['question'])}",
                    "response_id": response["response_id"],
                    "question": answer["question"],
                    "position": answer["position"],
                    "text": text,
                    "text_hash": text_hash(text),
                    "language": response["language"],
                    "touchpoint": response["touchpoint"],
                    "score": answer["score"],
                }
            )
    frame = pd.DataFrame(
        rows,
        columns=["answer_id", "response_id", "question", "position", "text", "text_hash", "language",
                 "touchpoint", "score"],
    )
    frame["score"] = pd.to_numeric(frame["score"]).astype("float64")
    return frame


def _replace_rejects(
    store: Store,
    location: str,
    digest: str | None,
    source: str,
    rejects: list[Reject],
    now: dt.datetime | None = None,
) -> None:
    """Rejects of a re-ingested file replace that file's earlier rejects (same path and content)."""
    store.con.execute(
        "DELETE FROM rejects WHERE path = ? AND file_hash IS NOT DISTINCT FROM ?", [location, digest]
    )
    if not rejects:
        return
    now = now or utcnow()
    frame = pd.DataFrame(
        [
            {
                "path": location, "file_hash": digest, "source": source, "row": r.row, "column": r.column,
                "expected": r.expected, "got": r.got, "message": r.message, "ingested_at": now,
            }
            for r in rejects
        ]
    )
    frame["row"] = frame["row"].astype("Int64")
    view = f"_rej_{uuid.uuid4().hex}"
    store.con.register(view, frame)
    try:
        store.con.execute(
            f'INSERT INTO rejects (path, file_hash, source, row, "column", expected, got, message, ingested_at) '
            f'SELECT path, file_hash, source, row, "column", expected, got, message, ingested_at FROM {view}'
        )
    finally:
        store.con.unregister(view)


def write_rejects_file(rejects_dir: Path, path: Path, rejects: list[Reject]) -> Path | None:
    """``<rejects_dir>/<stem>.rejects.csv`` (UTF-8 with BOM so Excel shows accents); removed when clean."""
    target = rejects_dir / f"{path.stem}.rejects.csv"
    if not rejects:
        if target.exists():
            target.unlink()
        return None
    rejects_dir.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "row", "column", "expected", "got", "message"])
        for r in rejects:
            writer.writerow(
                [path.name, "" if r.row is None else r.row, r.column or "", r.expected, _neutralise(r.got[:500]),
                 _neutralise(r.message)]
            )
    return target


def _neutralise(value: str) -> str:
    """Keep a spreadsheet from running a cell as a formula ("=HYPERLINK(...)"), leaving "-1" readable."""
    if value[:1] in {"=", "@", "\t", "\r"} or (value[:1] in {"+", "-"} and not value[1:2].isdigit()):
        return "'" + value
    return value
