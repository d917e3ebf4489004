"""Read any export a CX team has (CSV/TSV/TXT, XLSX, JSON, JSONL, Parquet) into one shape: rows of strings.

Everything is read as text, never guessed into numbers or NaN: "NA" is a customer's answer, "007" is an
id, and "9,5" is a Spanish decimal. Typing and validation belong to the profile mapping in
:mod:`vocmine.pipelines.ingest`, where a bad cell becomes a reject with file, row and column instead of a
silent NaN. Each record keeps the row number a user sees when opening the file: in a spreadsheet or
CSV the header is row 1 and the first data row is row 2; in JSONL it is the line number; in JSON and
Parquet the 1-based position of the record.

Problems that concern one row only (a JSONL line that is not JSON, a CSV row with a stray quote or
too many cells) come back as :class:`ReadProblem` next to the good records, so one bad line never
costs the rest of the file. A file that cannot be read at all raises
:class:`~vocmine.errors.UnreadableFileError` naming the file and the reason.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import logging
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vocmine.errors import UnreadableFileError

logger = logging.getLogger(__name__)

#: Candidate delimiters, in order of preference when two fit equally well.
DELIMITERS: tuple[str, ...] = (",", ";", "\t", "|")
#: Bytes of the file used to sniff the delimiter and spot binary data.
SNIFF_BYTES = 256 * 1024
#: A cell may legitimately hold a very long comment (we keep 100,000-character texts whole).
FIELD_SIZE_LIMIT = 64 * 1024 * 1024

_TEXT_SUFFIXES = {".csv", ".tsv", ".txt", ".tab", ".dat", ""}
_EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


@dataclass(frozen=True, slots=True)
class ReadProblem:
    """One row the reader could not turn into a record (the ingest step makes it a reject)."""

    row: int
    column: str | None
    expected: str
    got: str
    message: str


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One row as strings, with the row number a user sees in the file."""

    row: int
    values: dict[str, str]


@dataclass(frozen=True, slots=True)
class RawTable:
    """A whole file as read: columns in file order, records, row-level problems and how it was read."""

    path: Path
    format: str
    columns: tuple[str, ...]
    records: tuple[RawRecord, ...]
    problems: tuple[ReadProblem, ...] = ()
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    notes: tuple[str, ...] = field(default=())

    def __len__(self) -> int:
        return len(self.records)


def read_table(path: Path | str, sheet: str | None = None) -> RawTable:
    """Read one file into a :class:`RawTable`, choosing the reader from its content and extension.

    ``sheet`` picks a worksheet by name in a spreadsheet (default: the first one). The content wins
    over the extension for spreadsheets and Parquet, because "export.csv" that is really an XLSX is a
    common mistake that a user should not have to fix by hand.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError as error:
        raise UnreadableFileError(f"{path.name}: file does not exist ({path})") from error
    except IsADirectoryError as error:
        raise UnreadableFileError(f"{path.name}: is a folder, not a file") from error
    except OSError as error:
        raise UnreadableFileError(f"{path.name}: cannot be opened: {error}") from error
    if not data.strip():
        raise UnreadableFileError(f"{path.name}: the file is empty")

    suffix = path.suffix.lower()
    if data.startswith(b"PK\x03\x04"):
        if suffix not in _EXCEL_SUFFIXES:
            logger.warning("%s is a spreadsheet (XLSX) despite its %r extension; reading it as XLSX", path.name, suffix)
        return _read_xlsx(path, sheet)
    if data.startswith(b"PAR1"):
        return _read_parquet(path)
    if suffix in _EXCEL_SUFFIXES or suffix == ".xls":
        raise UnreadableFileError(
            f"{path.name}: not a readable XLSX workbook (old .xls files must be saved as .xlsx or CSV)"
        )
    if suffix == ".parquet":
        raise UnreadableFileError(f"{path.name}: not a Parquet file (no PAR1 magic bytes)")

    encoding = detect_encoding(data, path.name)
    text = data.decode(encoding)
    if text.startswith("\ufeff"):
        text = text[1:]
    _check_text_is_not_binary(text, path.name)
    if suffix == ".jsonl" or suffix == ".ndjson":
        return _read_jsonl(path, text, encoding)
    if suffix == ".json":
        return _read_json(path, text, encoding)
    return _read_delimited(path, text, encoding, suffix)


# -- encoding --------------------------------------------------------------------------------------
def detect_encoding(data: bytes, name: str = "file") -> str:
    """Decide the text encoding of an export, in this order.

    1. A byte-order mark decides: UTF-8 with BOM (Excel's "CSV UTF-8"), UTF-16 LE/BE (Excel's
       "Unicode text").
    2. UTF-16 without BOM is recognised by its NUL byte in every other position.
    3. Other NUL bytes mean binary data: :class:`UnreadableFileError`.
    4. Strict UTF-8 decoding succeeds: UTF-8 (cp1252 text with accents is never valid UTF-8 by chance
       in practice, because its accented letters are lone bytes >= 0x80).
    5. Strict cp1252 succeeds: cp1252 (Excel on Windows in Spain and the Americas). For latin-1 text
       without bytes 0x80-0x9F this gives the same characters as latin-1, and those bytes are C1
       control codes in latin-1, which real text does not contain, so cp1252 is the better reading.
    6. Otherwise latin-1 (it decodes any byte; the binary check after decoding catches junk).
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if data.startswith(b"\xff\xfe") or data.startswith(b"\xfe\xff"):
        return "utf-16"
    head = data[:4096]
    if len(head) >= 4 and b"\x00" in head:
        even_nuls = head[0::2].count(0)
        odd_nuls = head[1::2].count(0)
        half = len(head) // 2
        if odd_nuls > 0.4 * half and even_nuls < 0.05 * half:
            return "utf-16-le"
        if even_nuls > 0.4 * half and odd_nuls < 0.05 * half:
            return "utf-16-be"
        raise UnreadableFileError(f"{name}: looks like binary data, not a text export (it contains NUL bytes)")
    for encoding in ("utf-8", "cp1252"):
        try:
            data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    return "latin-1"


def _check_text_is_not_binary(text: str, name: str) -> None:
    sample = text[:SNIFF_BYTES]
    controls = sum(1 for ch in sample if unicodedata.category(ch) == "Cc" and ch not in "\t\n\r")
    if "\x00" in sample or controls > max(8, 0.02 * len(sample)):
        raise UnreadableFileError(
            f"{name}: looks like binary data, not a text export ({controls} control characters in the first "
            f"{len(sample)} characters)"
        )


# -- delimited text --------------------------------------------------------------------------------
def sniff_delimiter(lines: Sequence[str]) -> str | None:
    """Pick the delimiter among , ; TAB | that splits the header and the next rows into the same width.

    ``csv.Sniffer`` guesses wrongly on Spanish exports (';' with decimal commas), so we score each
    candidate: the header must split into at least two cells, and most following rows must have as
    many cells. ``None`` means a single column.
    """
    sample = lines[:200]
    best: tuple[tuple[bool, float, int, int], str] | None = None
    for preference, delimiter in enumerate(DELIMITERS):
        try:
            rows = [r for r in csv.reader(iter(sample), delimiter=delimiter) if r]
        except csv.Error:
            continue
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        following = rows[1:51]
        consistency = sum(len(r) == width for r in following) / len(following) if following else 1.0
        key = (consistency >= 0.8, consistency, width, -preference)
        if best is None or key > best[0]:
            best = (key, delimiter)
    return best[1] if best else None


def _read_delimited(path: Path, text: str, encoding: str, suffix: str) -> RawTable:
    lines = _LINE.findall(text)
    delimiter = "\t" if suffix in {".tsv", ".tab"} else sniff_delimiter(lines)
    if delimiter is None and suffix == ".txt":
        return _read_plain_lines(path, lines, encoding)
    csv.field_size_limit(max(csv.field_size_limit(), FIELD_SIZE_LIMIT))

    parsed = _parse_csv_records(lines, delimiter or "\x1f")
    header: list[str] | None = None
    header_row = 0
    records: list[RawRecord] = []
    problems: list[ReadProblem] = []
    for row, fields, broken in parsed.iterate():
        if header is None:
            if not any(cell.strip() for cell in fields):
                continue
            header = normalise_header(fields)
            header_row = row
            parsed.expected_width = len(header)
            continue
        if broken:
            problems.append(
                ReadProblem(
                    row,
                    None,
                    "a closing double quote",
                    _preview(delimiter or "", fields),
                    f"{path.name} row {row}: a quoted cell is never closed; this row was skipped",
                )
            )
            continue
        if not any(cell.strip() for cell in fields):
            continue
        if len(fields) > len(header):
            extra = fields[len(header):]
            if any(cell.strip() for cell in extra):
                problems.append(
                    ReadProblem(
                        row,
                        None,
                        f"{len(header)} cells",
                        f"{len(fields)} cells",
                        f"{path.name} row {row}: {len(fields)} cells for {len(header)} columns "
                        "(an unquoted delimiter inside a cell?)",
                    )
                )
                continue
            fields = fields[: len(header)]
        elif len(fields) < len(header):
            fields = fields + [""] * (len(header) - len(fields))
        records.append(RawRecord(row, dict(zip(header, fields, strict=True))))
    if header is None:
        raise UnreadableFileError(f"{path.name}: no header row (the file holds only blank lines)")
    if not records and not problems:
        raise UnreadableFileError(f"{path.name}: has a header row ({header_row}) but no data rows")
    del header_row
    return RawTable(path, "csv", tuple(header), tuple(records), tuple(problems), encoding, delimiter)


class _parse_csv_records:  # noqa: N801 - a small iterator helper, used like a function
    """csv.reader over physical lines that recovers from a never-closed quote.

    Python's reader swallows the rest of the file into one cell when a quote is left open. When a
    record has the wrong width and one of its cells spans lines, we report that record's first line as
    broken and restart reading on the next line, so the rows after it are kept.
    """

    def __init__(self, lines: list[str], delimiter: str) -> None:
        self.lines = lines
        self.delimiter = delimiter
        self.expected_width: int | None = None

    def iterate(self) -> Iterator[tuple[int, list[str], bool]]:
        position = 0
        row = 0
        while position < len(self.lines):
            reader = csv.reader(iter(self.lines[position:]), delimiter=self.delimiter)
            consumed = 0
            restart_at: int | None = None
            while True:
                try:
                    fields = next(reader)
                except StopIteration:
                    break
                except csv.Error:
                    fields = None
                start = position + consumed
                consumed = reader.line_num
                row += 1
                if fields is None or self._broken(fields, self.lines[start : position + consumed]):
                    yield row, _split_plain(self.lines[start], self.delimiter), True
                    restart_at = start + 1
                    break
                yield row, fields, False
            if restart_at is None:
                return
            position = restart_at


    def _broken(self, fields: list[str], raw_lines: list[str]) -> bool:
        """A record that spans lines is broken when its quotes do not pair up (still open at the end of
        the file) or when it has the wrong width. (Counting delimiters in continuation lines was tried
        and rejected: real multi-line reviews with many commas tripped it.)"""
        if len(raw_lines) < 2 or self.expected_width is None:
            return False
        if sum(line.count('"') for line in raw_lines) % 2:
            return True
        return len(fields) != self.expected_width


def _split_plain(line: str, delimiter: str) -> list[str]:
    return line.rstrip("\r\n").split(delimiter)


def _preview(delimiter: str, fields: list[str]) -> str:
    return delimiter.join(fields)[:200]


def _read_plain_lines(path: Path, lines: list[str], encoding: str) -> RawTable:
    """A .txt with no delimiter: one comment per non-blank line, in a column named ``text``."""
    records = [
        RawRecord(number, {"text": line.rstrip("\r\n")})
        for number, line in enumerate(lines, start=1)
        if line.strip()
    ]
    if not records:
        raise UnreadableFileError(f"{path.name}: holds only blank lines")
    return RawTable(path, "txt", ("text",), tuple(records), (), encoding, None)


def normalise_header(cells: Sequence[str]) -> list[str]:
    """Trim header cells, name empty ones ``column_<n>`` and make duplicates unique (``name_2``)."""
    names: list[str] = []
    seen: set[str] = set()
    for position, cell in enumerate(cells, start=1):
        name = " ".join(str(cell).replace("\ufeff", "").split()) or f"column_{position}"
        candidate = name
        suffix = 2
        while candidate in seen:
            candidate = f"{name}_{suffix}"
            suffix += 1
        seen.add(candidate)
        names.append(candidate)
    return names


# -- JSON / JSONL ----------------------------------------------------------------------------------
def _read_jsonl(path: Path, text: str, encoding: str) -> RawTable:
    records: list[RawRecord] = []
    problems: list[ReadProblem] = []
    columns: dict[str, None] = {}
    for number, line in enumerate(text.split("\n"), start=1):  # not splitlines(): U+0085, U+2028 live in cells
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as error:
            problems.append(
                ReadProblem(
                    number, None, "a JSON object", line.strip()[:200],
                    f"{path.name} line {number}: not valid JSON ({error.msg} at column {error.colno})",
                )
            )
            continue
        if not isinstance(item, dict):
            problems.append(
                ReadProblem(
                    number, None, "a JSON object", line.strip()[:200],
                    f"{path.name} line {number}: a JSON {type(item).__name__}, not an object",
                )
            )
            continue
        values = _stringify_mapping(item)
        columns.update(dict.fromkeys(values))
        records.append(RawRecord(number, values))
    if not records:
        raise UnreadableFileError(f"{path.name}: no line is a JSON object ({len(problems)} unreadable lines)")
    return RawTable(path, "jsonl", tuple(columns), tuple(_fill(records, columns)), tuple(problems), encoding)


def _read_json(path: Path, text: str, encoding: str) -> RawTable:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        if _looks_like_jsonl(text):
            logger.warning("%s holds one JSON object per line; reading it as JSONL", path.name)
            return _read_jsonl(path, text, encoding)
        raise UnreadableFileError(
            f"{path.name}: not valid JSON ({error.msg} at line {error.lineno}, column {error.colno})"
        ) from error
    items = _json_records(document, path.name)
    records: list[RawRecord] = []
    problems: list[ReadProblem] = []
    columns: dict[str, None] = {}
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            problems.append(
                ReadProblem(
                    number, None, "a JSON object", json.dumps(item, ensure_ascii=False)[:200],
                    f"{path.name} record {number}: a JSON {type(item).__name__}, not an object",
                )
            )
            continue
        values = _stringify_mapping(item)
        columns.update(dict.fromkeys(values))
        records.append(RawRecord(number, values))
    if not records and not problems:
        raise UnreadableFileError(f"{path.name}: the JSON holds no records")
    return RawTable(path, "json", tuple(columns), tuple(_fill(records, columns)), tuple(problems), encoding)


def _looks_like_jsonl(text: str) -> bool:
    lines = [line for line in text.split("\n") if line.strip()]
    return len(lines) > 1 and all(line.lstrip().startswith("{") for line in lines[:5])


def _json_records(document: Any, name: str) -> list[Any]:
    """Accept a list of objects, an object holding one such list, or columns ({"col": [values]})."""
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        lists = {key: value for key, value in document.items() if isinstance(value, list)}
        object_lists = {k: v for k, v in lists.items() if v and all(isinstance(i, dict) for i in v)}
        if len(object_lists) == 1:
            return next(iter(object_lists.values()))
        if len(lists) == 1 and len(document) <= 3:
            return next(iter(lists.values()))
        if document and len(lists) == len(document) and len({len(v) for v in lists.values()}) == 1:
            keys = list(lists)
            return [dict(zip(keys, values, strict=True)) for values in zip(*lists.values(), strict=True)]
        if document and all(isinstance(v, dict) for v in document.values()):
            return list(document.values())
        if document and not lists:
            return [document]
    raise UnreadableFileError(
        f"{name}: expected a list of objects, or an object holding one list of objects; "
        f"got a JSON {type(document).__name__}"
    )


def _fill(records: list[RawRecord], columns: dict[str, None]) -> list[RawRecord]:
    return [RawRecord(r.row, {c: r.values.get(c, "") for c in columns}) for r in records]


def _stringify_mapping(item: dict[Any, Any]) -> dict[str, str]:
    return {str(key).strip() or "column": cell_to_text(value) for key, value in item.items()}


def cell_to_text(value: Any) -> str:
    """Turn any cell value (JSON, Excel, Parquet) into the string a user would type or see."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ") if (value.hour, value.minute, value.second) != (0, 0, 0) else (
            value.date().isoformat()
        )
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    text = str(value)
    return "" if text in {"NaT", "nan", "<NA>"} else text


# -- XLSX ------------------------------------------------------------------------------------------
def _read_xlsx(path: Path, sheet: str | None) -> RawTable:
    """Read one worksheet; merged cells are filled with their top-left value.

    A header whose cells are merged across columns ("Comentarios" over "Positivo" | "Negativo") is a
    two-row header: the columns become "Comentarios / Positivo" and "Comentarios / Negativo".
    """
    import io

    import openpyxl

    try:  # from bytes, so a workbook saved with a .csv name is read too (openpyxl checks the extension)
        workbook = openpyxl.load_workbook(io.BytesIO(path.read_bytes()), data_only=True)
    except Exception as error:  # openpyxl raises zipfile, KeyError, InvalidFileException...
        raise UnreadableFileError(f"{path.name}: not a readable XLSX workbook ({error})") from error
    try:
        if sheet is None:
            worksheet = _first_sheet_with_data(workbook)
        elif sheet in workbook.sheetnames:
            worksheet = workbook[sheet]
        else:
            raise UnreadableFileError(
                f"{path.name}: no sheet named {sheet!r}; sheets: {', '.join(workbook.sheetnames)}"
            )
        grid = [[cell_to_text(value) for value in row] for row in worksheet.iter_rows(values_only=True)]
        merged = list(worksheet.merged_cells.ranges)
        title = worksheet.title
        sheet_names = list(workbook.sheetnames)
    finally:
        workbook.close()

    for cell_range in merged:
        value = _grid_value(grid, cell_range.min_row, cell_range.min_col)
        for r in range(cell_range.min_row, cell_range.max_row + 1):
            for c in range(cell_range.min_col, cell_range.max_col + 1):
                _grid_set(grid, r, c, value)

    header_index = next((i for i, row in enumerate(grid) if any(cell.strip() for cell in row)), None)
    if header_index is None:
        raise UnreadableFileError(f"{path.name}: sheet {title!r} is empty")
    header_cells = grid[header_index]
    header_row = header_index + 1
    two_row_header = any(
        cr.min_row == header_row and cr.max_row == header_row and cr.max_col > cr.min_col for cr in merged
    )
    data_start = header_index + 1
    if two_row_header and data_start < len(grid):
        sub = grid[data_start]
        width = max(len(header_cells), len(sub))
        header_cells = [
            _join_header(_at(grid[header_index], i), _at(sub, i)) for i in range(width)
        ]
        data_start += 1
    while header_cells and not header_cells[-1].strip():
        header_cells = header_cells[:-1]
    header = normalise_header(header_cells)
    records = []
    for index in range(data_start, len(grid)):
        cells = grid[index]
        if not any(cell.strip() for cell in cells):
            continue
        values = {name: _at(cells, i) for i, name in enumerate(header)}
        records.append(RawRecord(index + 1, values))
    if not records:
        raise UnreadableFileError(
            f"{path.name}: sheet {title!r} has a header but no data rows (sheets: {', '.join(sheet_names)})"
        )
    return RawTable(path, "xlsx", tuple(header), tuple(records), (), None, None, title)


def _first_sheet_with_data(workbook: Any) -> Any:
    """The first worksheet with at least two non-empty rows (a header and a record).

    Exports often open with a cover sheet ("Portada", "Notes"); reading it would fail a file whose data
    sits on the second sheet. With no such sheet, the first one (its error names the sheets).
    """
    for worksheet in workbook.worksheets:
        filled = 0
        for row in worksheet.iter_rows(values_only=True):
            if any(value not in (None, "") for value in row):
                filled += 1
                if filled >= 2:
                    if worksheet is not workbook.worksheets[0]:
                        logger.info("reading sheet %r: the sheets before it hold no table", worksheet.title)
                    return worksheet
    return workbook.worksheets[0]


def _at(cells: list[str], index: int) -> str:
    return cells[index] if index < len(cells) else ""


def _grid_value(grid: list[list[str]], row: int, col: int) -> str:
    return _at(grid[row - 1], col - 1) if row - 1 < len(grid) else ""


def _grid_set(grid: list[list[str]], row: int, col: int, value: str) -> None:
    if row - 1 >= len(grid):
        return
    cells = grid[row - 1]
    if col - 1 >= len(cells):
        cells.extend([""] * (col - len(cells)))
    cells[col - 1] = value


def _join_header(top: str, sub: str) -> str:
    top, sub = top.strip(), sub.strip()
    if not sub or sub == top:
        return top
    if not top:
        return sub
    return f"{top} / {sub}"


# -- Parquet ---------------------------------------------------------------------------------------
def _read_parquet(path: Path) -> RawTable:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as error:  # pyarrow raises ArrowInvalid, OSError...
        raise UnreadableFileError(f"{path.name}: not a readable Parquet file ({error})") from error
    columns = normalise_header(table.column_names)
    data = table.to_pylist()
    records = [
        RawRecord(number, {name: cell_to_text(value) for name, value in zip(columns, item.values(), strict=True)})
        for number, item in enumerate(data, start=1)
    ]
    if not records:
        raise UnreadableFileError(f"{path.name}: the Parquet file has columns but no rows")
    return RawTable(path, "parquet", tuple(columns), tuple(records))
