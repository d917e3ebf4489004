"""Stable identifiers and content hashes.

Ids are derived from content, never from row order or time, so re-ingesting a file gives the same ids
and a rerun updates rows in place instead of duplicating them.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from typing import Any


def text_hash(text: str) -> str:
    """Hash of a text after Unicode NFC normalisation (the embedding cache key)."""
    normalised = unicodedata.normalize("NFC", text)
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()[:24]


def content_hash(values: Any) -> str:
    """Hash of any JSON-serialisable value, with sorted keys so dict order does not matter."""
    payload = json.dumps(values, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:24]


def file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
