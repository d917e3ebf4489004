"""Label free texts without a store: ``vocmine classify``, the REST service and notebooks use this.

Each text is redacted, its language detected, split into sentences; every sentence is embedded once
and labelled by every configured annotator; the text's labels are combined from its sentences' the same
way the ``analyze`` stage combines an answer's (:func:`vocmine.pipelines.steps.combine_sentence_annotations`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from vocmine import registry
from vocmine.config import VocmineConfig
from vocmine.models.context import annotate_in_context
from vocmine.nlp.language import UNDETERMINED, detect_language, detect_languages, is_modelled
from vocmine.nlp.pii import redact
from vocmine.nlp.sentences import split_sentences
from vocmine.pipelines.steps import MULTI_LABEL_TASKS, combine_sentence_annotations
from vocmine.protocols import Annotation

logger = logging.getLogger(__name__)

#: Output column of each task in classify's tables (SPEC "CLI contract").
TASK_COLUMNS = {"sentiment": "sentiment", "emotion": "emotions", "component": "component", "touchpoint": "touchpoints"}


@dataclass(slots=True)
class TextClassifierStack:
    """The embedder and annotators, loaded once (the REST service keeps one for its lifetime)."""

    config: VocmineConfig
    taxonomy: str | None = None
    annotators: dict[str, Any] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)
    embedders: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, config: VocmineConfig, taxonomy: str | None = None) -> TextClassifierStack:
        from vocmine.models.embedders import resolve_embedder

        stack = cls(config=config, taxonomy=taxonomy)
        for task, name in config.analysis.annotators.items():
            params = dict(config.analysis.annotator_params.get(task, {}))
            if task == "touchpoint":
                params["taxonomy"] = taxonomy or params.get("taxonomy", config.analysis.taxonomy)
            try:
                annotator = registry.create("annotator", name, **params)
            except Exception as error:  # noqa: BLE001 - a missing model must not take the others down
                logger.warning("annotator %s unavailable: %s", name, error)
                stack.unavailable[task] = str(error)
                continue
            stack.annotators[task] = annotator
            if annotator.embedder and annotator.embedder not in stack.embedders:
                stack.embedders[annotator.embedder] = resolve_embedder(annotator.embedder)
        return stack

    def label_sentences(self, texts: list[str], languages: list[str],
                        groups: list[object] | None = None) -> dict[str, list[Annotation]]:
        """Labels per task for sentences in reading order; ``groups`` (each sentence's text) gives the
        annotators that read context (sentiment) each sentence's neighbours."""
        vectors = {name: embedder.encode(texts) for name, embedder in self.embedders.items()} if texts else {}
        out = {}
        for task, annotator in self.annotators.items():
            embedded = vectors.get(annotator.embedder, np.zeros((len(texts), 0), dtype=np.float32))
            if not texts:
                out[task] = []
            elif groups is None:
                out[task] = annotator.annotate(texts, embedded, languages)
            else:
                out[task] = annotate_in_context(annotator, texts, embedded, languages, groups)
        return out


def _columns(task: str, annotation: Annotation) -> dict[str, Any]:
    column = TASK_COLUMNS.get(task, task)
    row: dict[str, Any] = {column: annotation.label}
    if task == "sentiment":
        for label in ("negative", "neutral", "positive"):
            row[f"p_{label}"] = annotation.scores.get(label)
    if annotation.skip_reason:
        row[f"{column}_skipped"] = annotation.skip_reason
    return row


def classify_texts(
    texts: Sequence[str],
    stack: TextClassifierStack,
    languages: Sequence[str | None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-text and per-sentence labels for ``texts``.

    Returns ``(per_text, per_sentence)``: per_text has one row per input (``index``, ``language``,
    ``sentiment``, ``p_negative``, ``p_neutral``, ``p_positive``, ``emotions``, ``component``,
    ``touchpoints``); per_sentence one row per sentence with the input's ``index`` and ``sentence``.
    """
    redacted = [redact(t) if isinstance(t, str) else "" for t in texts]
    given = list(languages) if languages is not None else [None] * len(redacted)
    text_languages = [g or detect_language(t).language for t, g in zip(redacted, given, strict=True)]
    sentence_rows: list[dict[str, Any]] = []
    for index, (text, language) in enumerate(zip(redacted, text_languages, strict=True)):
        spans = split_sentences(text, language if is_modelled(language) else "xx")
        sentence_languages = detect_languages([s.text for s in spans], fallback=[language] * len(spans))
        for position, (span, sentence_language) in enumerate(zip(spans, sentence_languages, strict=True)):
            if sentence_language == UNDETERMINED:
                sentence_language = language
            sentence_rows.append({"index": index, "position": position, "sentence": span.text,
                                  "language": sentence_language})
    labels = stack.label_sentences([r["sentence"] for r in sentence_rows], [r["language"] for r in sentence_rows],
                                   [r["index"] for r in sentence_rows])
    for task, sentence_labels in labels.items():
        for row, annotation in zip(sentence_rows, sentence_labels, strict=True):
            row.update(_columns(task, annotation))
    per_sentence = pd.DataFrame(sentence_rows)
    text_rows = []
    for index, language in enumerate(text_languages):
        row: dict[str, Any] = {"index": index, "language": language}
        members = [i for i, r in enumerate(sentence_rows) if r["index"] == index]
        for task, sentence_labels in labels.items():
            combined = combine_sentence_annotations(
                [sentence_rows[i]["sentence"] for i in members],
                [sentence_labels[i] for i in members],
                task in MULTI_LABEL_TASKS,
            )
            row.update(_columns(task, combined))
        text_rows.append(row)
    return pd.DataFrame(text_rows), per_sentence


def read_any(path: Any) -> pd.DataFrame:
    """A .csv/.xlsx/.jsonl/.json/.parquet file as a DataFrame of the user's columns (for classify)."""
    from pathlib import Path

    from vocmine.errors import ConfigError

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in {".csv", ".tsv", ".txt"}:
        from vocmine.pipelines.readers import read_table

        table = read_table(path)
        return pd.DataFrame([record.values for record in table.records], columns=table.columns)
    if suffix == ".xlsx":
        return pd.read_excel(path, dtype=str)
    if suffix == ".jsonl":
        return pd.read_json(path, lines=True, dtype=False)
    if suffix == ".json":
        return pd.read_json(path, dtype=False)
    if suffix == ".parquet":
        return pd.read_parquet(path)
    raise ConfigError(f"{path}: unsupported format {suffix!r}; use .csv, .xlsx, .jsonl, .json or .parquet")


def write_any(frame: pd.DataFrame, path: Any) -> None:
    """Write classify's output in the format its extension names (CSV/XLSX formulas neutralised)."""
    from pathlib import Path

    from vocmine.errors import ConfigError
    from vocmine.pipelines.exports import neutralise_frame

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        neutralise_frame(frame).to_csv(path, index=False, encoding="utf-8-sig")
    elif suffix == ".xlsx":
        neutralise_frame(frame).to_excel(path, index=False)
    elif suffix == ".jsonl":
        frame.to_json(path, orient="records", lines=True, force_ascii=False)
    elif suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        raise ConfigError(f"{path}: unsupported output format {suffix!r}; use .csv, .xlsx, .jsonl or .parquet")
