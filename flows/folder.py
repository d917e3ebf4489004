"""Which files in a watched folder to ingest: new or changed ones (by content hash), and only once stable.

An exporter (a survey tool, an SFTP drop) writes a file over seconds or minutes; reading it half-way
would ingest a truncated CSV (rows lost until the next change) or fail on a broken XLSX. A file is read
only when it has not been modified for ``settle_seconds`` and its size did not change while we looked;
temporary names exporters and office suites use (``~$x.xlsx``, ``.~lock``, ``*.part``, ``*.tmp``,
``*.crdownload``, hidden files) are never read. A file whose (path, content hash) is already in the
store's ``sources`` table is skipped without parsing, so a rerun over an unchanged folder reads nothing.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from vocmine.ids import file_hash
from vocmine.store import Store

logger = logging.getLogger(__name__)

#: Data formats the ingest stage reads (as vocmine.pipelines.ingest does for folders).
READABLE = {".csv", ".tsv", ".txt", ".tab", ".xlsx", ".xlsm", ".json", ".jsonl", ".ndjson", ".parquet"}
TEMPORARY_SUFFIXES = {".part", ".tmp", ".crdownload", ".partial", ".download", ".swp"}


@dataclass(slots=True)
class FolderScan:
    """The files of one scan: to ingest (new or changed), already ingested, and not yet stable."""

    new: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    unstable: list[Path] = field(default_factory=list)


def is_temporary(path: Path) -> bool:
    name = path.name
    return (
        name.startswith((".", "~$", ".~lock"))
        or path.suffix.lower() in TEMPORARY_SUFFIXES
        or name.endswith("~")
    )


def data_files(folder: Path) -> list[Path]:
    """The readable data files under ``folder`` (recursively, sorted, temporaries left out)."""
    return [
        p for p in sorted(Path(folder).rglob("*"))
        if p.is_file() and p.suffix.lower() in READABLE and not is_temporary(p)
        and not any(part.startswith(".") for part in p.relative_to(folder).parts[:-1])
    ]


def is_stable(path: Path, settle_seconds: float, now: float | None = None, recheck_seconds: float = 0.0) -> bool:
    """True when the file was last modified at least ``settle_seconds`` ago (and, with
    ``recheck_seconds``, kept its size and mtime over that pause)."""
    first = path.stat()
    now = time.time() if now is None else now
    if now - first.st_mtime < settle_seconds:
        return False
    if recheck_seconds > 0:
        time.sleep(recheck_seconds)
        second = path.stat()
        return (second.st_size, second.st_mtime_ns) == (first.st_size, first.st_mtime_ns)
    return True


def scan_folder(folder: Path, store: Store, settle_seconds: float = 5.0) -> FolderScan:
    """Sort the folder's data files into new/changed, unchanged (hash already ingested) and unstable."""
    scan = FolderScan()
    known = {
        (path, digest) for path, digest in store.con.execute("SELECT path, file_hash FROM sources").fetchall()
    }
    for path in data_files(Path(folder)):
        if not is_stable(path, settle_seconds):
            scan.unstable.append(path)
            continue
        if (str(path.resolve()), file_hash(path.read_bytes())) in known:
            scan.unchanged.append(path)
        else:
            scan.new.append(path)
    logger.info("%s: %d new or changed, %d unchanged, %d not yet stable", folder, len(scan.new),
                len(scan.unchanged), len(scan.unstable))
    return scan


def profile_for(path: Path, default: str) -> str:
    """A profile TOML beside the file with the same stem (``x.csv`` + ``x.toml``) wins over ``default``."""
    beside = path.with_suffix(".toml")
    return str(beside) if beside.is_file() else default
