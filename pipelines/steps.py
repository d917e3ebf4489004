"""The analysis steps the ``analyze`` stage runs, by name (``config.analysis.steps``).

Every step reads what it needs from the store, processes only what has no current result (so a rerun
does nothing and a killed run resumes), and writes each batch in its own transaction (so a batch is
either fully written or not at all). Steps declare ``requires``/``assigns`` so the order in a config
can be checked before anything runs.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vocmine import registry
from vocmine.config import VocmineConfig
from vocmine.ids import text_hash
from vocmine.models.context import annotate_in_context
from vocmine.nlp.language import UNDETERMINED, detect_languages, detect_text_languages, is_modelled
from vocmine.nlp.sentences import split_sentences
from vocmine.protocols import Annotation, Annotator
from vocmine.store import Store, utcnow

logger = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]


@dataclass(slots=True)
class StepContext:
    store: Store
    config: VocmineConfig
    run_id: str
    progress: Progress | None = None
    cache: dict[str, Any] = field(default_factory=dict)

    def report(self, what: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(what, done, total)


@dataclass(frozen=True, slots=True)
class Step:
    """A named step: ``run(ctx) -> stats``; ``requires``/``assigns`` name the data it reads/writes."""

    name: str
    requires: tuple[str, ...]
    assigns: tuple[str, ...]
    run: Callable[[StepContext], dict[str, Any]]


def _batches(frame: pd.DataFrame, size: int) -> list[pd.DataFrame]:
    return [frame.iloc[i : i + size] for i in range(0, len(frame), size)]


# -- language ---------------------------------------------------------------------------------------
def run_language(ctx: StepContext) -> dict[str, Any]:
    """Detect the language of responses without a given one (from all their answer text), then of answers.

    A response too short or ambiguous to tell on its own (a single "Excelente") takes the predominant language
    of the responses of its source detected in the same run, or "und"
    (:func:`~vocmine.nlp.language.detect_text_languages`).

    An answer takes its response's given language. Otherwise it is detected on its own, and when it is too
    short or ambiguous to tell (confidence under :func:`~vocmine.nlp.language.detect_languages`' line) it
    takes its response's detected language. A review title such as "Nada especial" or "No vale la pena"
    reads as Galician or Italian alone, and would then be skipped by every classifier."""
    store = ctx.store
    responses = store.df(
        "SELECT r.response_id, r.source, string_agg(a.text, ' ' ORDER BY a.position) AS text FROM responses r "
        "LEFT JOIN answers a USING (response_id) WHERE r.language IS NULL GROUP BY r.response_id, r.source "
        "ORDER BY r.response_id"
    )
    if not responses.empty:
        # Per source: a one-word answer takes the language of its own file's other answers, not of every
        # file ingested in the same run (a Spanish survey next to an English Booking export).
        detected = pd.Series(UNDETERMINED, index=responses.index)
        for _, group in responses.groupby("source", dropna=False, sort=False):
            detected[group.index] = detect_text_languages(group["text"].tolist())
        with store.transaction():
            store.update_columns(
                "responses",
                pd.DataFrame({"response_id": responses["response_id"], "language": detected.to_numpy(),
                              "language_source": "detected"}),
                key=["response_id"],
            )
    answers = store.df(
        "SELECT a.answer_id, a.text, r.language AS response_language, "
        "r.language IS NOT NULL AND r.language_source IS DISTINCT FROM 'detected' AS given "
        "FROM answers a JOIN responses r USING (response_id) WHERE a.language IS NULL ORDER BY a.answer_id"
    )
    done = 0
    for batch in _batches(answers, 2000):
        fallback = [lang if isinstance(lang, str) and lang else None for lang in batch["response_language"]]
        detected = detect_languages([t if isinstance(t, str) else "" for t in batch["text"]], fallback=fallback)
        languages = [parent if given else guess
                     for parent, given, guess in zip(fallback, batch["given"], detected, strict=True)]
        with store.transaction():
            store.update_columns("answers", pd.DataFrame({"answer_id": batch["answer_id"], "language": languages}),
                                 key=["answer_id"])
        done += len(batch)
        ctx.report("language", done, len(answers))
    return {"answers": len(answers), "responses": len(responses)}


# -- sentences ---------------------------------------------------------------------------------------
def run_sentences(ctx: StepContext) -> dict[str, Any]:
    """Split answers that have no sentences yet; a sentence's language falls back to its answer's."""
    store = ctx.store
    answers = store.df(
        "SELECT a.answer_id, a.response_id, a.text, a.language FROM answers a "
        "WHERE coalesce(trim(a.text), '') <> '' "  # score-only checklist steps have no text to split
        "AND NOT EXISTS (SELECT 1 FROM sentences s WHERE s.answer_id = a.answer_id) ORDER BY a.answer_id"
    )
    written = 0
    for batch_number, batch in enumerate(_batches(answers, 1000)):
        rows = []
        for answer in batch.itertuples(index=False):
            spans = split_sentences(answer.text, answer.language if is_modelled(answer.language) else "xx")
            languages = detect_languages([s.text for s in spans], fallback=[answer.language] * len(spans))
            for position, (span, language) in enumerate(zip(spans, languages, strict=True)):
                rows.append(
                    {
                        "sentence_id": f"{answer.answer_id}:{position}",
                        "answer_id": answer.answer_id,
                        "response_id": answer.response_id,
                        "position": position,
                        "text": span.text,
                        "text_hash": text_hash(span.text),
                        "start_char": span.start,
                        "end_char": span.end,
                        "language": language,
                    }
                )
        with store.transaction():
            store.upsert("sentences", pd.DataFrame(rows))
        written += len(rows)
        ctx.report("sentences", min((batch_number + 1) * 1000, len(answers)), len(answers))
    return {"answers": len(answers), "sentences": written}


# -- NPS status ----------------------------------------------------------------------------------------
def run_nps_status(ctx: StepContext) -> dict[str, Any]:
    from vocmine.pipelines.nps import update_nps_status

    return {"responses": update_nps_status(ctx.store, ctx.config)}


# -- annotators (sentiment, emotion, component, touchpoint) ------------------------------------------
def _annotator(ctx: StepContext, task: str) -> Annotator:
    key = f"annotator:{task}"
    if key not in ctx.cache:
        name = ctx.config.analysis.annotators[task]
        params = dict(ctx.config.analysis.annotator_params.get(task, {}))
        if task == "touchpoint":
            params.setdefault("taxonomy", ctx.config.analysis.taxonomy)
        ctx.cache[key] = registry.create("annotator", name, **params)
    return ctx.cache[key]


def _embedder(ctx: StepContext, name: str):  # noqa: ANN202
    from vocmine.models.embedders import resolve_embedder

    key = f"embedder:{name}"
    if key not in ctx.cache:
        ctx.cache[key] = resolve_embedder(name)
    return ctx.cache[key]


def annotation_rows(ids: list[str], level: str, task: str, results: list[Annotation], model: str,
                     run_id: str) -> pd.DataFrame:
    now = utcnow()
    return pd.DataFrame(
        {
            "target_id": ids,
            "level": level,
            "task": task,
            "label": [r.label for r in results],
            "scores": [json.dumps({k: round(float(v), 6) for k, v in r.scores.items()}) for r in results],
            "skip_reason": [r.skip_reason for r in results],
            "model": model,
            "run_id": run_id,
            "created_at": now,
        }
    )


def run_annotator(ctx: StepContext, task: str) -> dict[str, Any]:
    """Label every sentence that has no annotation for ``task`` from the configured model, in batches
    (each batch embeds through the store's cache and writes in one transaction), then derive the
    answer-level annotation from its sentences."""
    store = ctx.store
    annotator = _annotator(ctx, task)
    pending = pending_sentences(store, task, annotator.name)
    embedder = _embedder(ctx, annotator.embedder) if annotator.embedder else None
    agreement_rows: list[tuple[str, str]] = []
    done = 0
    from vocmine.models.embedders import embed_cached

    for batch in _batches(pending, ctx.config.analysis.batch_size):
        texts = batch["text"].tolist()
        languages = batch["language"].tolist()
        if embedder is not None:
            vectors = embed_cached(texts, embedder, store)
        else:
            vectors = np.zeros((len(texts), 0), dtype=np.float32)
        if getattr(annotator, "reads_context", False) and embedder is not None:
            before, after = sentence_neighbours(store, batch["sentence_id"].tolist())
            results = annotate_in_context(annotator, texts, vectors, languages, before=before, after=after,
                                          embed=lambda more: embed_cached(more, embedder, store))
        else:
            results = annotator.annotate(texts, vectors, languages)
        if task == "touchpoint":
            results = touchpoint_given_wins(
                given_touchpoints(store, batch["sentence_id"].tolist()), results, agreement_rows
            )
        with store.transaction():
            store.upsert(
                "annotations",
                annotation_rows(batch["sentence_id"].tolist(), "sentence", task, results, annotator.name,
                                 ctx.run_id),
            )
        done += len(batch)
        ctx.report(task, done, len(pending))
    answers = aggregate_answers(ctx, task, annotator.name)
    stats: dict[str, Any] = {"sentences": len(pending), "answers": answers}
    if agreement_rows:
        from vocmine.nlp.touchpoint import agreement_with_given

        given, predicted = zip(*agreement_rows, strict=True)
        agreement = agreement_with_given(list(given), list(predicted))
        stats["given_touchpoint_agreement"] = {k: v for k, v in agreement.items() if k != "per_touchpoint"}
        logger.info("model vs given touchpoints: %s", stats["given_touchpoint_agreement"])
    return stats


def pending_sentences(store: Store, task: str, model: str) -> pd.DataFrame:
    """Sentences (id, text, language) with no sentence-level ``task`` annotation from ``model``, in id
    order: what an annotator still has to label (the analyze stage and the batch flows cut the same
    batches from it)."""
    return store.df(
        "SELECT s.sentence_id, s.text, s.language FROM sentences s WHERE NOT EXISTS ("
        " SELECT 1 FROM annotations a WHERE a.target_id = s.sentence_id AND a.level = 'sentence'"
        " AND a.task = ? AND a.model = ?) ORDER BY s.sentence_id",
        [task, model],
    )


def given_touchpoints(store: Store, sentence_ids: list[str]) -> list[str | None]:
    """The touchpoint the export itself gives for each sentence (its answer's, else its response's)."""
    if not sentence_ids:
        return []
    view = f"_given_{uuid.uuid4().hex}"
    store.con.register(view, pd.DataFrame({"sentence_id": sentence_ids}))
    try:
        rows = store.con.execute(
            f"SELECT s.sentence_id, coalesce(an.touchpoint, r.touchpoint) FROM {view} v "
            "JOIN sentences s USING (sentence_id) JOIN answers an USING (answer_id) "
            "JOIN responses r ON r.response_id = s.response_id"
        ).fetchall()
    finally:
        store.con.unregister(view)
    given = dict(rows)
    return [given.get(sentence_id) for sentence_id in sentence_ids]


def sentence_neighbours(store: Store, sentence_ids: list[str]) -> tuple[list[str], list[str]]:
    """The previous and next sentence of each sentence in its answer ("" at an answer's edge), in the
    order of ``sentence_ids``: the context an annotator that reads context sees (``models/context.py``)."""
    if not sentence_ids:
        return [], []
    frame = store.df(
        "SELECT s.sentence_id, coalesce(p.text, '') AS before, coalesce(n.text, '') AS after "
        "FROM sentences s "
        "LEFT JOIN sentences p ON p.answer_id = s.answer_id AND p.position = s.position - 1 "
        "LEFT JOIN sentences n ON n.answer_id = s.answer_id AND n.position = s.position + 1 "
        "WHERE s.sentence_id IN (SELECT unnest(?))",
        [sentence_ids],
    ).set_index("sentence_id")
    frame = frame.reindex(sentence_ids).fillna("")
    return frame["before"].tolist(), frame["after"].tolist()


def touchpoint_given_wins(given: list[str | None], results: list[Annotation],
                          agreement_rows: list[tuple[str, str]]) -> list[Annotation]:
    """Where the export already names the touchpoint it wins over the model (the model's scores are kept,
    and its agreement with the given value is recorded for the run's stats)."""
    out = []
    for value, result in zip(given, results, strict=True):
        if isinstance(value, str) and value.strip():
            if result.skip_reason is None:  # a skipped sentence has no model label to agree or disagree
                agreement_rows.append((value, result.label or "other"))
            out.append(Annotation(value.strip(), result.scores, None))
        else:
            out.append(result)
    return out


MULTI_LABEL_TASKS = frozenset({"emotion", "touchpoint"})


def combine_sentence_annotations(texts: list[str], annotations: list[Annotation], multi_label: bool) -> Annotation:
    """One text's label from its sentences' labels (no second embedding of long texts).

    Single-label tasks average the sentences' probabilities, weighted by sentence length (a long
    complaint outweighs "Thanks."); multi-label tasks take the union of the sentences' labels and the
    maximum score per label. Skipped sentences are ignored unless all are skipped.
    """
    scored = [
        (t, a)
        for t, a in zip(texts, annotations, strict=True)
        if a.skip_reason is None and a.label is not None and a.scores
    ]
    if not scored:
        reasons = [a.skip_reason for a in annotations if a.skip_reason]
        return Annotation(None, {}, reasons[0] if reasons else "no sentences")
    labels = sorted({k for _, a in scored for k in a.scores})
    if multi_label:
        merged = {k: max(a.scores.get(k, 0.0) for _, a in scored) for k in labels}
        chosen = [part for _, a in scored for part in str(a.label).split(";") if part]
        named = [part for part in dict.fromkeys(chosen) if part not in {"none", "other"}]
        label = ";".join(named) if named else ("other" if "other" in chosen else "none")
        return Annotation(label, merged)
    weights = np.array([max(len(t), 1) for t, _ in scored], dtype=float)
    matrix = np.array([[a.scores.get(k, 0.0) for k in labels] for _, a in scored])
    mean = (matrix * weights[:, None]).sum(0) / weights.sum()
    return Annotation(labels[int(np.argmax(mean))], dict(zip(labels, mean.tolist(), strict=True)))


def aggregate_answers(ctx: StepContext, task: str, model: str) -> int:
    """Answer-level annotations for answers whose sentences are all annotated by ``model``."""
    store = ctx.store
    rows = store.df(
        "SELECT s.answer_id, s.text, a.label, a.scores, a.skip_reason FROM sentences s "
        "JOIN annotations a ON a.target_id = s.sentence_id AND a.level = 'sentence' AND a.task = ? AND a.model = ? "
        "WHERE NOT EXISTS (SELECT 1 FROM annotations b WHERE b.target_id = s.answer_id AND b.level = 'answer' "
        " AND b.task = ? AND b.model = ?) ORDER BY s.answer_id, s.position",
        [task, model, task, model],
    )
    if rows.empty:
        return 0
    multi = task in MULTI_LABEL_TASKS
    ids, results = [], []
    for answer_id, group in rows.groupby("answer_id", sort=True):
        annotations = [
            Annotation(
                label,
                json.loads(scores) if isinstance(scores, str) else {},
                reason if isinstance(reason, str) else None,
            )
            for label, scores, reason in zip(group["label"], group["scores"], group["skip_reason"], strict=True)
        ]
        ids.append(answer_id)
        results.append(combine_sentence_annotations(group["text"].tolist(), annotations, multi))
    with ctx.store.transaction():
        store.upsert("annotations", annotation_rows(ids, "answer", task, results, model, ctx.run_id))
    return len(ids)


# -- themes, kpis, drivers (other modules) ----------------------------------------------------------
#: What each summary step reads; its result is a deterministic function of these tables and the config.
_SUMMARY_INPUTS = {
    "themes": ("sentences", "annotations", "responses"),
    "kpis": ("responses", "annotations"),
    "drivers": ("responses", "annotations", "theme_assignments", "themes"),
}
_TABLE_DIGEST = {
    "sentences": "SELECT count(*), sum(hash(sentence_id, text_hash, language)) FROM sentences",
    "annotations": "SELECT count(*), sum(hash(target_id, level, task, label, scores, model)) FROM annotations",
    "responses": "SELECT count(*), sum(hash(response_id, content_hash, nps_class, language, branch, seller,"
    " touchpoint, created_at)) FROM responses",
    "theme_assignments": "SELECT count(*), sum(hash(sentence_id, theme_id)) FROM theme_assignments",
    "themes": "SELECT count(*), sum(hash(theme_id, label, status)) FROM themes",
}


def summary_fingerprint(ctx: StepContext, step: str) -> str:
    """A digest of everything a summary step reads (its input tables, the config, the theme overrides).

    Themes, KPIs and drivers are recomputed as a whole, which is what makes a rerun over unchanged data
    slow; when this digest equals the one recorded by the last run of the step, the step is skipped.
    """
    from vocmine.ids import content_hash

    parts: list[object] = [step, ctx.config.model_dump_json(exclude={"store"})]
    for table in _SUMMARY_INPUTS[step]:
        parts.append([str(v) for v in ctx.store.con.execute(_TABLE_DIGEST[table]).fetchall()[0]])
    overrides = ctx.config.themes.overrides_file or ctx.store.path.parent / "theme_overrides.toml"
    if step == "themes" and Path(overrides).is_file():
        parts.append(Path(overrides).read_bytes().hex())
    return content_hash(parts)


def _last_fingerprint(store: Store, step: str) -> str | None:
    rows = store.con.execute(
        "SELECT stats FROM runs WHERE stage = 'analyze' AND status = 'completed' ORDER BY started_at DESC"
    ).fetchall()
    for (stats,) in rows:
        steps = (json.loads(stats) if isinstance(stats, str) else stats or {}).get("steps", {})
        if step in steps:
            return steps[step].get("fingerprint")
    return None


def _unless_unchanged(ctx: StepContext, step: str, table: str, run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    fingerprint = summary_fingerprint(ctx, step)
    if fingerprint == _last_fingerprint(ctx.store, step) and ctx.store.count(table) > 0:
        return {"skipped": "input unchanged", "fingerprint": fingerprint}
    stats = run()
    stats["fingerprint"] = fingerprint
    return stats


def run_themes(ctx: StepContext) -> dict[str, Any]:
    from vocmine.pipelines.topics import refresh_themes

    return _unless_unchanged(ctx, "themes", "themes", lambda: refresh_themes(ctx.store, ctx.config, ctx.run_id))


def run_kpis(ctx: StepContext) -> dict[str, Any]:
    from vocmine.pipelines.kpis import write_kpis

    return _unless_unchanged(ctx, "kpis", "kpis", lambda: {"kpis": write_kpis(ctx.store, ctx.config, ctx.run_id)})


def run_drivers(ctx: StepContext) -> dict[str, Any]:
    from vocmine.pipelines.drivers import write_drivers

    return _unless_unchanged(
        ctx, "drivers", "drivers", lambda: {"drivers": write_drivers(ctx.store, ctx.config, ctx.run_id)}
    )


BUILTIN_STEPS: dict[str, Step] = {
    "language": Step("language", ("answers",), ("answers.language", "responses.language"), run_language),
    "sentences": Step("sentences", ("answers.language",), ("sentences",), run_sentences),
    "nps_status": Step("nps_status", ("responses",), ("responses.nps_class",), run_nps_status),
    "themes": Step("themes", ("annotations.sentiment",), ("themes", "theme_assignments"), run_themes),
    "kpis": Step("kpis", ("responses.nps_class",), ("kpis",), run_kpis),
    "drivers": Step("drivers", ("responses.nps_class", "theme_assignments"), ("drivers",), run_drivers),
}


def resolve_step(name: str, config: VocmineConfig) -> Step:
    """A built-in step, or the annotator step for a task named in ``config.analysis.annotators``."""
    if name in BUILTIN_STEPS:
        return BUILTIN_STEPS[name]
    if name in config.analysis.annotators:
        return Step(name, ("sentences",), (f"annotations.{name}",), lambda ctx, task=name: run_annotator(ctx, task))
    from vocmine.errors import ConfigError

    known = sorted(set(BUILTIN_STEPS) | set(config.analysis.annotators))
    raise ConfigError(f"unknown analysis step {name!r}; known steps: {', '.join(known)}")


def check_order(steps: list[Step]) -> None:
    """Fail before running when a step needs something a later step assigns."""
    from vocmine.errors import ConfigError

    produced_later: dict[str, str] = {}
    for step in reversed(steps):
        for need in step.requires:
            if need in produced_later:
                raise ConfigError(
                    f"analysis step {step.name!r} needs {need}, which step {produced_later[need]!r} "
                    "assigns later; reorder config.analysis.steps"
                )
        for made in step.assigns:
            produced_later[made] = step.name
