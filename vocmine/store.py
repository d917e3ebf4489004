"""The embedded DuckDB store: the single source of truth every stage reads from and upserts into.

Tables have plain names so an analyst can query them with SQL (``select * from themes``). Every write
that must be all-or-nothing runs inside :meth:`Store.transaction`, so a process killed half-way leaves
the file as it was before that write, and the next run picks up from there. Only parameterised SQL
or registered DataFrames carry data into queries: input text never becomes SQL.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import pandas as pd

from vocmine.errors import VocmineError

if TYPE_CHECKING:
    import pyarrow as pa

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1

#: Forward-only migrations: version -> statements. Version 1 creates every table the pipeline uses.
MIGRATIONS: dict[int, list[str]] = {
    1: [
        """CREATE TABLE IF NOT EXISTS schema_info (key VARCHAR PRIMARY KEY, value VARCHAR)""",
        """CREATE TABLE IF NOT EXISTS sources (
            path VARCHAR, file_hash VARCHAR, source VARCHAR, profile VARCHAR,
            rows_read INTEGER, rows_inserted INTEGER, rows_updated INTEGER, rows_unchanged INTEGER,
            rows_rejected INTEGER, ingested_at TIMESTAMP, PRIMARY KEY (path, file_hash))""",
        """CREATE TABLE IF NOT EXISTS responses (
            response_id VARCHAR PRIMARY KEY, source VARCHAR, channel VARCHAR, created_at TIMESTAMP,
            language VARCHAR, language_source VARCHAR, score DOUBLE, score_scale VARCHAR, stars DOUBLE,
            nps_class VARCHAR, branch VARCHAR, seller VARCHAR, touchpoint VARCHAR, product VARCHAR,
            segment VARCHAR, metadata JSON, content_hash VARCHAR, source_file VARCHAR,
            source_row INTEGER, ingested_at TIMESTAMP, updated_at TIMESTAMP)""",
        """CREATE TABLE IF NOT EXISTS answers (
            answer_id VARCHAR PRIMARY KEY, response_id VARCHAR, question VARCHAR, position INTEGER,
            text VARCHAR, text_hash VARCHAR, language VARCHAR, touchpoint VARCHAR, score DOUBLE)""",
        """CREATE TABLE IF NOT EXISTS sentences (
            sentence_id VARCHAR PRIMARY KEY, answer_id VARCHAR, response_id VARCHAR, position INTEGER,
            text VARCHAR, text_hash VARCHAR, start_char INTEGER, end_char INTEGER, language VARCHAR)""",
        """CREATE TABLE IF NOT EXISTS annotations (
            target_id VARCHAR, level VARCHAR, task VARCHAR, label VARCHAR, scores JSON,
            skip_reason VARCHAR, model VARCHAR, run_id VARCHAR, created_at TIMESTAMP,
            PRIMARY KEY (target_id, level, task))""",
        """CREATE TABLE IF NOT EXISTS embeddings (
            model VARCHAR, text_hash VARCHAR, vector FLOAT[], PRIMARY KEY (model, text_hash))""",
        """CREATE TABLE IF NOT EXISTS themes (
            theme_id VARCHAR PRIMARY KEY, touchpoint VARCHAR, polarity VARCHAR, label VARCHAR,
            label_alt VARCHAR, language VARCHAR, keywords VARCHAR, size INTEGER, respondents INTEGER,
            share_respondents DOUBLE, mean_sentiment DOUBLE, dominant_emotions VARCHAR,
            rational_share DOUBLE, verbatims JSON, first_seen TIMESTAMP, last_seen TIMESTAMP,
            counts_per_period JSON, centroid FLOAT[], status VARCHAR, emerging BOOLEAN,
            emerging_evidence VARCHAR, run_id VARCHAR, updated_at TIMESTAMP)""",
        """CREATE TABLE IF NOT EXISTS theme_assignments (
            sentence_id VARCHAR, response_id VARCHAR, theme_id VARCHAR,
            probability DOUBLE, run_id VARCHAR, PRIMARY KEY (sentence_id, theme_id))""",
        """CREATE TABLE IF NOT EXISTS kpis (
            segment VARCHAR, segment_value VARCHAR, period VARCHAR, n INTEGER, promoters INTEGER,
            passives INTEGER, detractors INTEGER, estimate DOUBLE, low DOUBLE, high DOUBLE,
            mean_score DOUBLE, top2box DOUBLE, small_n BOOLEAN, run_id VARCHAR,
            PRIMARY KEY (segment, segment_value, period))""",
        """CREATE TABLE IF NOT EXISTS drivers (
            level VARCHAR, key VARCHAR, label VARCHAR, touchpoint VARCHAR, segment VARCHAR,
            segment_value VARCHAR, n INTEGER, mentions INTEGER, detractor_mentions INTEGER,
            detractor_share DOUBLE, estimate DOUBLE, low DOUBLE, high DOUBLE, strength DOUBLE,
            strength_low DOUBLE, strength_high DOUBLE, small_n BOOLEAN, run_id VARCHAR,
            PRIMARY KEY (level, key, segment, segment_value))""",
        """CREATE TABLE IF NOT EXISTS rejects (
            path VARCHAR, file_hash VARCHAR, source VARCHAR, row INTEGER, "column" VARCHAR,
            expected VARCHAR, got VARCHAR, message VARCHAR, ingested_at TIMESTAMP)""",
        """CREATE TABLE IF NOT EXISTS runs (
            run_id VARCHAR PRIMARY KEY, stage VARCHAR, started_at TIMESTAMP, finished_at TIMESTAMP,
            status VARCHAR, stats JSON)""",
    ],
}


class StoreError(VocmineError):
    """The store file cannot be opened or is newer than this version of vocmine."""


def utcnow() -> datetime:
    """Naive UTC timestamp (DuckDB TIMESTAMP has no zone; we store UTC everywhere)."""
    return datetime.now(UTC).replace(tzinfo=None)


def new_run_id() -> str:
    return utcnow().strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]


#: DuckDB's own cap (it spills joins and aggregates to disk beyond it); its default, 80% of RAM, let a
#: 100k-response store's corpus-wide queries take 1.3 GB. Override with this variable ("2GB", "512MB").
MEMORY_LIMIT_ENV = "VOCMINE_STORE_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "768MB"


def _connection_settings() -> dict[str, str]:
    """Bounded memory: a cap DuckDB spills under, and background threads that hand freed memory back to
    the OS (without them a query's peak stays in the process's RSS until it exits)."""
    return {
        "memory_limit": os.environ.get(MEMORY_LIMIT_ENV) or DEFAULT_MEMORY_LIMIT,
        "allocator_background_threads": "true",
    }


def _vectors_by_hash(table: pa.Table) -> dict[str, np.ndarray]:
    """Rows of (text_hash, vector) as float32 views into one matrix, read through Arrow: fetching
    vectors as Python lists costs ~30 bytes per float (0.7 GB for 55k vectors of 384) before they become
    arrays; this costs the matrix itself."""
    if table.num_rows == 0:
        return {}
    hashes = table.column("text_hash").to_pylist()
    vectors = table.column("vector").combine_chunks()
    values = vectors.flatten().to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
    offsets = vectors.offsets.to_numpy()
    offsets = offsets - offsets[0]
    lengths = np.diff(offsets)
    if len(lengths) and (lengths == lengths[0]).all():
        matrix = values.reshape(len(hashes), int(lengths[0]))
        return dict(zip(hashes, matrix, strict=True))
    return {h: values[start:end] for h, start, end in zip(hashes, offsets[:-1], offsets[1:], strict=True)}


class Store:
    """A DuckDB file with vocmine's schema, migrated forward on open.

    Use as a context manager, or call :meth:`close`. One process writes at a time (DuckDB's rule);
    readers in other processes should open with ``read_only=True``.
    """

    def __init__(self, path: Path | str, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = duckdb.connect(str(self.path), read_only=read_only, config=_connection_settings())
        except duckdb.Error as error:
            raise StoreError(f"cannot open store {self.path}: {error}") from error
        if not read_only:
            try:
                self.migrate()
            except duckdb.IOException as error:  # a store cut short (disk full, copy interrupted)
                self.con.close()
                raise StoreError(f"cannot read store {self.path} (damaged or truncated?): {error}") from error

    # -- lifecycle -----------------------------------------------------------------------------
    def close(self) -> None:
        self.con.close()

    def release_memory(self) -> None:
        """Hand back what a large read left cached: DuckDB's buffer pool is evicted (the cap is lowered
        for a moment, then restored) and pyarrow's pool returns its unused pages. After the corpus-wide
        reads of a 100k-response store this is ~300 MB of RSS that nothing would use again."""
        import pyarrow as pa

        limit = _connection_settings()["memory_limit"]
        try:
            self.con.execute("SET memory_limit = '32MB'")
        except duckdb.Error as error:  # pinned memory above the floor: evict what can be, keep going
            logger.debug("store %s: could not lower DuckDB's memory limit (%s)", self.path, error)
        finally:
            self.con.execute(f"SET memory_limit = '{limit}'")
        pa.default_memory_pool().release_unused()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        try:
            rows = self.con.execute("SELECT value FROM schema_info WHERE key = 'schema_version'").fetchall()
        except duckdb.CatalogException:
            return 0
        return int(rows[0][0]) if rows else 0

    def migrate(self) -> None:
        """Apply every migration newer than the file's version, each in its own transaction."""
        current = self.schema_version
        if current > SCHEMA_VERSION:
            raise StoreError(
                f"store {self.path} has schema version {current}, newer than this vocmine "
                f"({SCHEMA_VERSION}); upgrade vocmine"
            )
        for version in sorted(v for v in MIGRATIONS if v > current):
            with self.transaction():
                for statement in MIGRATIONS[version]:
                    self.con.execute(statement)
                self.con.execute(
                    "INSERT OR REPLACE INTO schema_info VALUES ('schema_version', ?)", [str(version)]
                )
            logger.info("store %s migrated to schema version %d", self.path, version)

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All-or-nothing block: commit on success, roll back on any exception (then re-raise)."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self.con
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        else:
            self.con.execute("COMMIT")

    # -- reading ------------------------------------------------------------------------------
    def df(self, sql: str, params: Sequence[Any] | None = None, categories: Sequence[str] = ()) -> pd.DataFrame:
        """Run a parameterised query and return a DataFrame.

        ``categories`` names text columns that repeat a few values over many rows (ids of the responses a
        long table refers to, labels): they come back as pandas categoricals, dictionary-encoded in Arrow,
        so each distinct value is one Python string instead of one per row (800k mention rows: ~60 MB less).
        """
        if not categories:
            return self.con.execute(sql, params or []).df()
        import pyarrow.compute as pc

        table = self.con.sql(sql, params=params or None).to_arrow_table()  # sql(): no extra copy
        for name in categories:
            index = table.schema.get_field_index(name)
            if index < 0:
                raise StoreError(f"categories names {name!r}, which the query does not return; it returns "
                                 f"{table.column_names}")
            table = table.set_column(index, name, pc.dictionary_encode(table.column(index)))
        return table.to_pandas()

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        # fetchall, not fetchone: DuckDB 2 refuses new work on a connection with an unfinished result.
        rows = self.con.execute(sql, params or []).fetchall()
        return rows[0][0] if rows else None

    def count(self, table: str) -> int:
        _check_identifier(table)
        return int(self.scalar(f"SELECT count(*) FROM {table}"))

    def table_names(self) -> list[str]:
        return [r[0] for r in self.con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]

    # -- writing ------------------------------------------------------------------------------
    def upsert(self, table: str, frame: pd.DataFrame) -> int:
        """Insert rows, replacing those whose primary key exists. Call inside a transaction for atomicity.

        Columns missing from ``frame`` get NULL; the column order of the table is used, so callers pass
        DataFrames by column name and never depend on table layout.
        """
        _check_identifier(table)
        if frame.empty:
            return 0
        columns = [c for c in self.columns(table) if c in frame.columns]
        unknown = set(frame.columns) - set(self.columns(table))
        if unknown:
            raise StoreError(f"table {table} has no columns {sorted(unknown)}")
        view = f"_upsert_{uuid.uuid4().hex}"
        self.con.register(view, frame[columns])
        try:
            column_list = ", ".join(f'"{c}"' for c in columns)
            self.con.execute(
                f"INSERT OR REPLACE INTO {table} ({column_list}) SELECT {column_list} FROM {view}"
            )
        finally:
            self.con.unregister(view)
        return len(frame)

    def update_columns(self, table: str, frame: pd.DataFrame, key: Sequence[str]) -> int:
        """Set the non-key columns of ``frame`` on the rows matching its ``key`` columns; other columns
        keep their values (unlike :meth:`upsert`, which replaces whole rows)."""
        _check_identifier(table)
        if frame.empty:
            return 0
        known = set(self.columns(table))
        if not set(frame.columns) <= known:
            raise StoreError(f"table {table} has no columns {sorted(set(frame.columns) - known)}")
        for name in frame.columns:
            _check_identifier(name)
        view = f"_upd_{uuid.uuid4().hex}"
        self.con.register(view, frame)
        try:
            assignments = ", ".join(f'"{c}" = {view}."{c}"' for c in frame.columns if c not in key)
            condition = " AND ".join(f'{table}."{k}" = {view}."{k}"' for k in key)
            self.con.execute(f"UPDATE {table} SET {assignments} FROM {view} WHERE {condition}")
        finally:
            self.con.unregister(view)
        return len(frame)

    def delete_where_in(self, table: str, column: str, values: Sequence[Any]) -> None:
        """Delete rows whose ``column`` is in ``values`` (through a registered frame, never string SQL)."""
        _check_identifier(table)
        _check_identifier(column)
        if len(values) == 0:
            return
        view = f"_del_{uuid.uuid4().hex}"
        self.con.register(view, pd.DataFrame({"v": list(values)}))
        try:
            self.con.execute(f'DELETE FROM {table} WHERE "{column}" IN (SELECT v FROM {view})')
        finally:
            self.con.unregister(view)

    def columns(self, table: str) -> list[str]:
        _check_identifier(table)
        rows = self.con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = ? ORDER BY column_index", [table]
        ).fetchall()
        return [r[0] for r in rows]

    # -- embedding cache ----------------------------------------------------------------------
    def cached_embeddings(self, model: str, text_hashes: Sequence[str]) -> dict[str, np.ndarray]:
        """Vectors already computed by ``model`` for these text hashes."""
        if not text_hashes:
            return {}
        view = f"_emb_{uuid.uuid4().hex}"
        self.con.register(view, pd.DataFrame({"text_hash": list(dict.fromkeys(text_hashes))}))
        try:
            # con.sql, not con.execute: DuckDB hands a relation's rows to Arrow without an extra copy.
            table = self.con.sql(
                f"SELECT e.text_hash, e.vector FROM embeddings e JOIN {view} h USING (text_hash) "
                "WHERE e.model = ?",
                params=[model],
            ).to_arrow_table()
        finally:
            self.con.unregister(view)
        return _vectors_by_hash(table)

    def put_embeddings(self, model: str, vectors: dict[str, np.ndarray]) -> None:
        if not vectors:
            return
        frame = pd.DataFrame(
            {
                "model": model,
                "text_hash": list(vectors),
                "vector": [np.asarray(v, dtype=np.float32).tolist() for v in vectors.values()],
            }
        )
        self.upsert("embeddings", frame)

    # -- runs ---------------------------------------------------------------------------------
    def start_run(self, stage: str) -> str:
        run_id = new_run_id()
        self.con.execute(
            "INSERT INTO runs VALUES (?, ?, ?, NULL, 'running', NULL)", [run_id, stage, utcnow()]
        )
        return run_id

    def finish_run(self, run_id: str, status: str, stats: dict[str, Any] | None = None) -> None:
        import json

        self.con.execute(
            "UPDATE runs SET finished_at = ?, status = ?, stats = ? WHERE run_id = ?",
            [utcnow(), status, json.dumps(stats or {}, default=str), run_id],
        )


def _check_identifier(name: str) -> None:
    """Table/column names are ours, never user input; this guards against a programming slip."""
    if not name.replace("_", "").isalnum():
        raise StoreError(f"invalid identifier {name!r}")
