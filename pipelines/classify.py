"""Label free texts without a store: ``vocmine classify``, :func:`vocmine.classify` and the REST service.

Each text is cleaned (as ``ingest`` cleans answers) and redacted, its language detected, split into
sentences; every sentence is embedded once and labelled by every configured annotator; the text's labels are
combined from its sentences' the same way the ``analyze`` stage combines an answer's
(:func:`vocmine.pipelines.steps.combine_sentence_annotations`).
:func:`label_texts` is that one path; :func:`classify_frame` lays its result out as the CLI contract's table.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from vocmine import registry
from vocmine.config import VocmineConfig
from vocmine.models.context import annotate_in_context
from vocmine.nlp.language import detect_languages, is_modelled, resolve_languages
from vocmine.nlp.pii import redact
from vocmine.nlp.sentences import SentenceSpan, split_sentences
from vocmine.pipelines.steps import MULTI_LABEL_TASKS, combine_sentence_annotations
from vocmine.protocols import Annotation

if TYPE_CHECKING:
    from vocmine.pipelines.ingest import Reject

logger = logging.getLogger(__name__)

#: Output column of each task in classify's tables (SPEC "CLI contract").
TASK_COLUMNS = {"sentiment": "sentiment", "emotion": "emotions", "component": "component", "touchpoint": "touchpoints"}
#: The per-sentence table's leading columns (an input without any sentence still gets them).
SENTENCE_KEYS = ["index", "position", "sentence", "language"]
#: Sentiment's probability columns, after its label.
PROBABILITY_COLUMNS = ["p_negative", "p_neutral", "p_positive"]


@dataclass(slots=True)
class TextClassifierStack:
    """The embedder and annotators, loaded once (the REST service keeps one for its lifetime)."""

    config: VocmineConfig
    taxonomy: str | None = None
    annotators: dict[str, Any] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)
    embedders: dict[str, Any] = field(default_factory=dict)
    #: Whether the annotators' lazily loaded weights are loaded (:meth:`label_sentences` loads them first).
    warmed: bool = False

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
                if task == "touchpoint" and taxonomy is not None:  # what the user asked for by name
                    from vocmine.errors import ConfigError

                    raise ConfigError(f"taxonomy {taxonomy!r}: {error}") from None
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
        annotators that read context (sentiment) each sentence's neighbours.

        The first call labels one short sentence first, so every model is loaded before the texts are
        embedded: fine-tuned models that share e5's bottom layers then find the states the embedder keeps
        (models/e5_trunk.py) instead of computing them again."""
        if texts and not self.warmed:
            self.warmed = True
            self.label_sentences(["Gracias."], ["es"])
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
    """One text as the stack labelled it: the text after cleaning and PII redaction, its language, its sentences with
    their languages and per-task labels, and per task the text's label combined from its sentences'."""

    text: str
    language: str
    sentences: list[SentenceSpan]
    sentence_languages: list[str]
    sentence_labels: dict[str, list[Annotation]]
    labels: dict[str, Annotation]


def label_texts(texts: Sequence[str], stack: TextClassifierStack,
                languages: Sequence[str | None] | None = None) -> list[LabelledText]:
    """Clean, redact, detect the language, split, then embed every sentence once and label it with every
    annotator.

    The one labelling path of ``vocmine classify``, :func:`vocmine.classify` and the REST service. Texts are
    cleaned as ``ingest`` cleans answers (HTML, zero-width and control characters), so a file labels the same
    through either path. A given language code is normalised ("ES", "es-MX", "spa" are Spanish); a text without
    one is detected with the others (:func:`~vocmine.nlp.language.detect_text_languages`: a one-word answer
    takes the batch's predominant language, or "und"). A sentence whose language cannot be told (emoji, "ok")
    takes its text's; a text with no sentences keeps its row and gets the annotators' "no sentences" reason
    from the roll-up.
    """
    from vocmine.pipelines.ingest import clean_text

    redacted = [redact(clean_text(t)) if isinstance(t, str) else "" for t in texts]
    text_languages = resolve_languages(redacted, languages)
    spans = [split_sentences(text, language if is_modelled(language) else "xx")
             for text, language in zip(redacted, text_languages, strict=True)]
    owners = [index for index, text_spans in enumerate(spans) for _ in text_spans]
    flat = [span for text_spans in spans for span in text_spans]
    owner_languages = [text_languages[index] for index in owners]
    sentence_languages = detect_languages([span.text for span in flat], fallback=owner_languages)
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
        for name in PROBABILITY_COLUMNS:
            row[name] = annotation.scores.get(name.removeprefix("p_"))
    row[f"{column}_skipped"] = annotation.skip_reason
    return row


def label_columns(stack: TextClassifierStack) -> list[str]:
    """The label columns of ``stack``'s tasks in a fixed order: each task's label (and sentiment's
    probabilities), then each task's ``*_skipped`` reason, present (empty where labelled) in every file, so
    that batches share one schema whatever their rows hold."""
    tasks = [task for task in TASK_COLUMNS if task in stack.annotators]
    tasks += [task for task in stack.annotators if task not in TASK_COLUMNS]
    labels: list[str] = []
    for task in tasks:
        labels.append(TASK_COLUMNS.get(task, task))
        labels += PROBABILITY_COLUMNS if task == "sentiment" else []
    return labels + [f"{TASK_COLUMNS.get(task, task)}_skipped" for task in tasks]


def classify_texts(
    texts: Sequence[str],
    stack: TextClassifierStack,
    languages: Sequence[str | None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-text and per-sentence labels for ``texts``.

    Returns ``(per_text, per_sentence)``: per_text has one row per input (``index``, ``text`` as labelled:
    cleaned and redacted, ``language``, then :func:`label_columns`: ``sentiment``, ``p_negative``,
    ``p_neutral``, ``p_positive``, ``emotions``, ``component``, ``touchpoints``, and ``<column>_skipped`` with
    the reason where a task left a text unlabelled); per_sentence one row per sentence with the input's
    ``index``, ``position``, ``sentence``, ``language`` and the same label columns. Both have every column
    even when there are no rows.
    """
    text_rows: list[dict[str, Any]] = []
    sentence_rows: list[dict[str, Any]] = []
    for index, labelled in enumerate(label_texts(texts, stack, languages)):
        row: dict[str, Any] = {"index": index, "text": labelled.text, "language": labelled.language}
        for task, annotation in labelled.labels.items():
            row.update(_columns(task, annotation))
        text_rows.append(row)
        for position, (span, language) in enumerate(zip(labelled.sentences, labelled.sentence_languages,
                                                        strict=True)):
            sentence = {"index": index, "position": position, "sentence": span.text, "language": language}
            for task, per_sentence in labelled.sentence_labels.items():
                sentence.update(_columns(task, per_sentence[position]))
            sentence_rows.append(sentence)
    labels = label_columns(stack)
    return (pd.DataFrame(text_rows, columns=["index", "text", "language", *labels]),
            pd.DataFrame(sentence_rows, columns=[*SENTENCE_KEYS, *labels]))


def check_columns(frame: pd.DataFrame, *columns: str | None, source: str = "the input") -> None:
    """Raise :class:`~vocmine.errors.ConfigError` naming the first of ``columns`` (None: not asked for) that
    ``frame`` lacks or has more than once, and the columns it has; the CLI calls it before loading the models."""
    from vocmine.errors import ConfigError

    for column in columns:
        if column is None:
            continue
        if column not in frame.columns:
            raise ConfigError(f"{source} has no column {column!r}; columns: {list(frame.columns)}")
        if (count := int((frame.columns == column).sum())) > 1:
            raise ConfigError(f"{source} has {count} columns named {column!r}; rename them so one holds the text")


def classify_frame(frame: pd.DataFrame, text_column: str, stack: TextClassifierStack,
                   sentences: bool = False, language_column: str | None = None) -> pd.DataFrame:
    """``frame``'s rows with their labels (SPEC "CLI contract"), what ``vocmine classify`` writes.

    Per row: the row's own columns, then ``language``, ``sentiment``, ``p_*``, ``emotions``, ``component``,
    ``touchpoints`` and the ``*_skipped`` reasons (a label column that clashes with one of the row's gets the
    suffix ``_vocmine``). The text column is written as it was labelled: cleaned, and with personal data
    redacted (SPEC: redaction "before anything is stored or shown"); an empty cell stays empty. With
    ``sentences``: one row per sentence, the row's ``index`` (its position in ``frame``) and columns, then
    ``position``, ``sentence`` and the sentence's labels; a row without sentences (an empty answer) stays,
    once, with the reason in the ``*_skipped`` columns, so no row of the input goes missing.
    ``language_column`` names a column of language codes that the export already has, normalised
    (:func:`~vocmine.nlp.language.normalise_language_code`: "es-MX", "spa", "Spanish"); an empty cell is
    detected, as every text is without it. The per-row table keeps ``frame``'s index.
    """
    check_columns(frame, text_column, language_column)
    rows = frame.reset_index(drop=True)
    texts = rows[text_column].fillna("").astype(str).tolist()
    languages = rows[language_column].tolist() if language_column is not None else None
    per_text, per_sentence = classify_texts(texts, stack, languages)
    rows[text_column] = rows[text_column].where(rows[text_column].isna(), per_text["text"])
    per_text = per_text.drop(columns=["text"])
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
    return pd.concat([rows, labels], axis=1).set_axis(frame.index)  # joins back to the caller's frame


def read_any(path: Any) -> tuple[pd.DataFrame, list[Reject]]:
    """A .csv/.tsv/.xlsx/.jsonl/.json/.parquet file as (a DataFrame of the user's columns as text, the rows
    that could not be read), with the reader ``ingest`` uses (encoding and delimiter sniffing, the data sheet
    of a workbook, a JSON export's records, headers made unique), so both commands read a file alike. A file
    that cannot be read at all raises :class:`~vocmine.errors.UnreadableFileError`."""
    from vocmine.pipelines.ingest import Reject
    from vocmine.pipelines.readers import read_table

    table = read_table(path)
    frame = pd.DataFrame([record.values for record in table.records], columns=list(table.columns))
    return frame, [Reject(p.row, p.column, p.expected, p.got, p.message) for p in table.problems]


#: The formats classify writes, by file extension.
OUTPUT_FORMATS = (".csv", ".xlsx", ".jsonl", ".parquet")


def check_output_path(path: Any) -> None:
    """Raise :class:`~vocmine.errors.ConfigError` for an output file classify cannot write (a format it does
    not know, a folder that cannot be made or written to, a folder in the file's place), creating the folder,
    so the CLI says so before loading the models and labelling the whole file."""
    import os
    from pathlib import Path

    from vocmine.errors import ConfigError

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in OUTPUT_FORMATS:
        raise ConfigError(f"{path}: unsupported output format {suffix!r}; use {', '.join(OUTPUT_FORMATS)}")
    if path.is_dir():
        raise ConfigError(f"{path}: is a folder; give a file name ending in {', '.join(OUTPUT_FORMATS)}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(f"{path}: cannot create its folder {path.parent}: {error.strerror or error}") from None
    if not os.access(path.parent, os.W_OK):
        raise ConfigError(f"{path}: the folder {path.parent} is not writable")


def write_any(frame: pd.DataFrame, path: Any) -> None:
    """Write classify's output in the format its extension names, with the exports' writers (spreadsheet
    formulas neutralised, characters a workbook cannot hold removed, mixed-type columns as text)."""
    from pathlib import Path

    from vocmine.pipelines.exports import write_csv, write_parquet, write_xlsx

    check_output_path(path)
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        write_csv(frame, path)
    elif suffix == ".xlsx":
        write_xlsx(frame, path, "vocmine classify")
    elif suffix == ".jsonl":
        frame.to_json(path, orient="records", lines=True, force_ascii=False)
    else:
        write_parquet(frame, path)
