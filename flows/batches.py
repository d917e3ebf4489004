"""Annotator batches split into a pure compute part and a write part, so batches can run anywhere.

DuckDB allows one writer process. To scale the per-sentence annotators out (threads, a Dask cluster),
a batch is a plain picklable :class:`BatchJob` (texts, languages, the vectors the store already holds);
:func:`compute_batch` turns it into a :class:`BatchResult` (labels plus any vectors it had to embed)
without touching the store, and :func:`write_batch` writes the result in the main process in ONE
transaction (fresh vectors and annotations together), so a killed run leaves either the whole batch or
nothing. Batches are cut from the pending sentences in ``sentence_id`` order with
``config.analysis.batch_size``, exactly as :func:`vocmine.pipelines.steps.run_annotator` does, so the
annotations equal those of the single-process ``analyze`` stage.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from vocmine import registry
from vocmine.config import VocmineConfig
from vocmine.ids import text_hash
from vocmine.models.context import annotate_in_context
from vocmine.protocols import Annotation, Annotator
from vocmine.store import Store

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AnnotatorSpec:
    """Enough to rebuild an annotator in another process: task, registry name, constructor params."""

    task: str
    name: str
    params_json: str = "{}"

    @classmethod
    def from_config(cls, config: VocmineConfig, task: str) -> AnnotatorSpec:
        params = dict(config.analysis.annotator_params.get(task, {}))
        if task == "touchpoint":
            params.setdefault("taxonomy", config.analysis.taxonomy)
        return cls(task, config.analysis.annotators[task], json.dumps(params, sort_keys=True, default=str))


@dataclass(frozen=True, slots=True)
class BatchJob:
    """One batch of sentences to annotate; ``cached`` holds the vectors the store already has (by hash)."""

    spec: AnnotatorSpec
    sentence_ids: tuple[str, ...]
    texts: tuple[str, ...]
    languages: tuple[str | None, ...]
    cached: dict[str, np.ndarray] = field(default_factory=dict)
    #: Each sentence's previous and next sentence in its answer, for annotators that read context.
    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BatchResult:
    """Labels for a batch, the model that made them, and the vectors that were newly embedded."""

    spec: AnnotatorSpec
    model: str
    embedder: str | None
    sentence_ids: tuple[str, ...]
    annotations: tuple[Annotation, ...]
    fresh_vectors: dict[str, np.ndarray] = field(default_factory=dict)


@lru_cache(maxsize=16)
def _annotator(spec: AnnotatorSpec) -> Annotator:
    """One annotator per process and spec: a Dask worker loads each model once, not once per batch."""
    return registry.create("annotator", spec.name, **json.loads(spec.params_json))


@lru_cache(maxsize=4)
def _embedder(name: str):  # noqa: ANN202 - an Embedder
    from vocmine.models.embedders import resolve_embedder

    return resolve_embedder(name)


def model_name(spec: AnnotatorSpec) -> str:
    """The versioned name stored with each annotation (what 'already annotated' is checked against)."""
    return _annotator(spec).name


def compute_batch(job: BatchJob) -> BatchResult:
    """Embed what the store did not have, then annotate: pure, no store, safe in any worker process."""
    annotator = _annotator(job.spec)
    texts = list(job.texts)
    fresh: dict[str, np.ndarray] = {}
    known = dict(job.cached)

    def embed(more: list[str]) -> np.ndarray:
        """Vectors of ``more`` (the batch, or its sentences' neighbours): the store's, else embedded here."""
        hashes = [text_hash(t) for t in more]
        missing = {h: t for h, t in zip(hashes, more, strict=True) if h not in known}
        if missing:
            new = dict(zip(missing.keys(), embedder.encode(list(missing.values())), strict=True))
            fresh.update(new)
            known.update(new)
        return np.stack([np.asarray(known[h], dtype=np.float32) for h in hashes])

    if annotator.embedder:
        embedder = _embedder(annotator.embedder)
        vectors = embed(texts) if texts else np.zeros((0, 0))
        embedder_name: str | None = embedder.name
    else:
        vectors = np.zeros((len(texts), 0), dtype=np.float32)
        embedder_name = None
    if job.before and annotator.embedder:
        results = annotate_in_context(annotator, texts, vectors, list(job.languages), before=list(job.before),
                                      after=list(job.after), embed=embed)
    else:
        results = annotator.annotate(texts, vectors, list(job.languages))
    return BatchResult(job.spec, annotator.name, embedder_name, job.sentence_ids, tuple(results), fresh)


def pending_jobs(store: Store, config: VocmineConfig, task: str) -> list[BatchJob]:
    """The batches of sentences with no annotation for ``task`` from the current model, in id order."""
    from vocmine.pipelines.steps import pending_sentences, sentence_neighbours

    spec = AnnotatorSpec.from_config(config, task)
    annotator = _annotator(spec)
    pending = pending_sentences(store, task, annotator.name)
    size = config.analysis.batch_size
    jobs = []
    for start in range(0, len(pending), size):
        batch = pending.iloc[start : start + size]
        texts = tuple(batch["text"].tolist())
        before: list[str] = []
        after: list[str] = []
        if getattr(annotator, "reads_context", False) and annotator.embedder:
            before, after = sentence_neighbours(store, batch["sentence_id"].tolist())
        cached = {}
        if annotator.embedder:
            embedder = _embedder(annotator.embedder)
            wanted = {text_hash(t) for t in [*texts, *before, *after] if t}
            cached = store.cached_embeddings(embedder.name, sorted(wanted))
        jobs.append(
            BatchJob(spec, tuple(batch["sentence_id"].tolist()), texts,
                     tuple(None if isinstance(v, float) else v for v in batch["language"].tolist()), cached,
                     tuple(before), tuple(after))
        )
    return jobs


def write_batch(store: Store, result: BatchResult, run_id: str) -> int:
    """Write a batch's fresh vectors and its annotations in one transaction (all or nothing)."""
    from vocmine.pipelines.steps import annotation_rows, given_touchpoints, touchpoint_given_wins

    annotations = list(result.annotations)
    if result.spec.task == "touchpoint":  # the export's own touchpoint wins, as in the analyze stage
        annotations = touchpoint_given_wins(given_touchpoints(store, list(result.sentence_ids)), annotations, [])
    rows = annotation_rows(list(result.sentence_ids), "sentence", result.spec.task, annotations,
                            result.model, run_id)
    with store.transaction():
        if result.fresh_vectors and result.embedder:
            store.put_embeddings(result.embedder, result.fresh_vectors)
        store.upsert("annotations", rows)
    return len(rows)


Compute = Callable[[list[BatchJob]], Iterable[BatchResult]]


def compute_locally(jobs: list[BatchJob]) -> Iterator[BatchResult]:
    """The single-process executor: one batch after the other, lazily (each is written before the next)."""
    for job in jobs:
        yield compute_batch(job)


def annotate_pending(
    store: Store, config: VocmineConfig, task: str, run_id: str, compute: Compute = compute_locally
) -> dict[str, Any]:
    """Annotate every pending sentence for ``task`` through ``compute`` (local, threads or Dask), writing
    each batch as it arrives, then derive the answer-level annotations (as the ``analyze`` stage does)."""
    from vocmine.pipelines.steps import StepContext, aggregate_answers

    jobs = pending_jobs(store, config, task)
    written = 0
    for result in compute(jobs):
        written += write_batch(store, result, run_id)
    model = model_name(AnnotatorSpec.from_config(config, task))
    answers = aggregate_answers(StepContext(store=store, config=config, run_id=run_id), task, model)
    logger.info("%s: %d sentences in %d batches, %d answers", task, written, len(jobs), answers)
    return {"sentences": written, "batches": len(jobs), "answers": answers}
