"""Label free texts without a store: ``vocmine classify``, :func:`vocmine.classify` and the REST service.

Each text is redacted, its language detected, split into sentences; every sentence is embedded once
and labelled by every configured annotator; the text's labels are combined from its sentences' the same
way the ``analyze`` stage combines an answer's (:func:`vocmine.pipelines.steps.combine_sentence_annotations`).
:func:`label_texts` is that one path; :func:`classify_frame` lays its result out as the CLI contract's table.
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
from vocmine.nlp.sentences import SentenceSpan, split_sentences
from vocmine.pipelines.steps import MULTI_LABEL_TASKS, combine_sentence_annotations
from vocmine.protocols import Annotation

logger = logging.getLogger(__name__)

#: Output column of each task in classify's tables (SPEC "CLI contract").
TASK_COLUMNS = {"sentiment": "sentiment", "emotion": "emotions", "component": "component", "touchpoint": "touchpoints"}
#: The per-sentence table's leading columns (an input without any sentence still gets them).
SENTENCE_KEYS = ["index", "position", "sentence", "language"]


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


@dataclass(frozen=True, slots=True)
class LabelledText:
    """One text as the stack labelled it: the text after PII redaction, its language, its sentences with
    their languages and per-task labels, and per task the text's label combined from its sentences'."""

    text: str
    language: str
    sentences: list[SentenceSpan]
    sentence_languages: list[str]
    sentence_labels: dict[str, list[Annotation]]
    labels: dict[str, Annotation]


def label_texts(texts: Sequence[str], stack: TextClassifierStack,
                languages: Sequence[str | None] | None = None) -> list[LabelledText]:
    """Redact, detect the language, split, then embed every sentence once and label it with every annotator.

    The one labelling path of ``vocmine classify``, :func:`vocmine.classify` and the REST service. A sentence
    whose language cannot be told (emoji, "ok") takes its text's; a text with no sentences keeps its row and
    gets the annotators' "no sentences" reason from the roll-up. A given language code is read in lower case
    ("ES" is Spanish); an empty or missing one is detected.
    """
    redacted = [redact(t) if isinstance(t, str) else "" for t in texts]
    given = [(g.strip().lower() or None) if isinstance(g, str) else None
             for g in (languages if languages is not None else [None] * len(redacted))]
    text_languages = [g or detect_language(t).language for t, g in zip(redacted, given, strict=True)]
    spans = [split_sentences(text, language if is_modelled(language) else "xx")
             for text, language in zip(redacted, text_languages, strict=True)]
    owners = [index for index, text_spans in enumerate(spans) for _ in text_spans]
    flat = [span for text_spans in spans for span in text_spans]
    owner_languages = [text_languages[index] for index in owners]
    detected = detect_languages([span.text for span in flat], fallback=owner_languages)
    sentence_languages = [parent if language == UNDETERMINED else language
                          for language, parent in zip(detected, owner_languages, strict=True)]
    labels = stack.label_sentences([span.text for span in flat], sentence_languages, owners)
    out, first = [], 0
    for text, language, text_spans in zip(redacted, text_languages, spans, strict=True):
        rows = slice(first, first + len(text_spans))
        first = rows.stop
        sentence_labels = {task: per_sentence[rows] for task, per_sentence in labels.items()}
        out.append(LabelledText(
            text=text, language=language, sentences=text_spans, sentence_languages=sentence_languages[rows],
            sentence_labels=sentence_labels,
            labels={task: combine_sentence_annotations([span.text for span in text_spans], per_sentence,
                                                       task in MULTI_LABEL_TASKS)
                    for task, per_sentence in sentence_labels.items()},
        ))
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
    ``touchpoints``, and ``<column>_skipped`` with the reason where a task left a text unlabelled);
    per_sentence one row per sentence with the input's ``index``, ``position`` and ``sentence``.
    """
    text_rows: list[dict[str, Any]] = []
    sentence_rows: list[dict[str, Any]] = []
    for index, labelled in enumerate(label_texts(texts, stack, languages)):
        row: dict[str, Any] = {"index": index, "language": labelled.language}
        for task, annotation in labelled.labels.items():
            row.update(_columns(task, annotation))
        text_rows.append(row)
        for position, (span, language) in enumerate(zip(labelled.sentences, labelled.sentence_languages,
                                                        strict=True)):
            sentence = {"index": index, "position": position, "sentence": span.text, "language": language}
            for task, per_sentence in labelled.sentence_labels.items():
                sentence.update(_columns(task, per_sentence[position]))
            sentence_rows.append(sentence)
    return (pd.DataFrame(text_rows, columns=None if text_rows else ["index", "language"]),
            pd.DataFrame(sentence_rows, columns=None if sentence_rows else SENTENCE_KEYS))


def check_columns(frame: pd.DataFrame, *columns: str | None, source: str = "the input") -> None:
    """Raise :class:`~vocmine.errors.ConfigError` naming the first of ``columns`` (None: not asked for) that
    ``frame`` lacks, and the columns it has; the CLI calls it before loading the models."""
    from vocmine.errors import ConfigError

    for column in columns:
        if column is not None and column not in frame.columns:
            raise ConfigError(f"{source} has no column {column!r}; columns: {list(frame.columns)}")


def classify_frame(frame: pd.DataFrame, text_column: str, stack: TextClassifierStack,
                   sentences: bool = False, language_column: str | None = None) -> pd.DataFrame:
    """``frame``'s rows with their labels (SPEC "CLI contract"), what ``vocmine classify`` writes.

    Per row: the row's own columns, then ``language``, ``sentiment``, ``p_*``, ``emotions``, ``component``,
    ``touchpoints`` (a label column that clashes with one of the row's gets the suffix ``_vocmine``). With
    ``sentences``: one row per sentence, the row's ``index`` (its position in ``frame``) and columns, then
    ``position``, ``sentence`` and the sentence's labels; a row without sentences (an empty answer) stays,
    once, with the reason in the ``*_skipped`` columns, so no row of the input goes missing.
    ``language_column`` names a column of ISO 639-1 codes that the export already has (an empty cell is
    detected, as every text is without it).
    """
    check_columns(frame, text_column, language_column)
    rows = frame.reset_index(drop=True)
    texts = rows[text_column].fillna("").astype(str).tolist()
    languages = rows[language_column].tolist() if language_column is not None else None
    per_text, per_sentence = classify_texts(texts, stack, languages)
    clashes = {c: f"{c}_vocmine" for c in [*per_text.columns, *per_sentence.columns] if c in rows.columns}
    key = clashes.get("index", "index")
    if sentences:
        no_sentence = per_text[~per_text["index"].isin(per_sentence["index"])]
        labels = pd.concat([per_sentence, no_sentence], ignore_index=True)
        labels = labels.sort_values(["index", "position"], kind="stable", na_position="first")
        labels["position"] = labels["position"].astype("Int64")
        labels = labels.rename(columns=clashes)
        return rows.reset_index(names=key).merge(labels, on=key, how="left")
    labels = per_text.drop(columns=["index"]).rename(columns=clashes)
    return pd.concat([rows, labels], axis=1)


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


#: The formats classify writes, by file extension.
OUTPUT_FORMATS = (".csv", ".xlsx", ".jsonl", ".parquet")


def check_output_path(path: Any) -> None:
    """Raise :class:`~vocmine.errors.ConfigError` for an output file whose format classify cannot write, so
    the CLI says so before loading the models and labelling the whole file."""
    from pathlib import Path

    from vocmine.errors import ConfigError

    suffix = Path(path).suffix.lower()
    if suffix not in OUTPUT_FORMATS:
        raise ConfigError(f"{path}: unsupported output format {suffix!r}; use {', '.join(OUTPUT_FORMATS)}")


def write_any(frame: pd.DataFrame, path: Any) -> None:
    """Write classify's output in the format its extension names (CSV/XLSX formulas neutralised)."""
    from pathlib import Path

    from vocmine.pipelines.exports import neutralise_frame

    check_output_path(path)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        neutralise_frame(frame).to_csv(path, index=False, encoding="utf-8-sig")
    elif suffix == ".xlsx":
        neutralise_frame(frame).to_excel(path, index=False)
    elif suffix == ".jsonl":
        frame.to_json(path, orient="records", lines=True, force_ascii=False)
    else:
        frame.to_parquet(path, index=False)
