"""The ``analyze`` stage: run the configured steps over everything in the store that lacks a result.

This is what ``vocmine analyze``, the ``analyze-new`` flow and :func:`vocmine.analyze` call. It is
incremental by construction: each step selects only rows without a current result, so a second run
over unchanged data does (almost) nothing, and a run killed half-way resumes at the next batch.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from vocmine.config import VocmineConfig
from vocmine.models.loaded import release_models
from vocmine.pipelines.steps import Progress, StepContext, check_order, resolve_step
from vocmine.store import Store

logger = logging.getLogger(__name__)

#: Corpus-wide steps: none needs a loaded model. Themes read sentence vectors from the store's cache and
#: embed label phrases with the embedder's lightest backend (``phrase_embedder``); an uncached sentence
#: loads the model again, which the release before the next step lets go.
CORPUS_WIDE_STEPS = frozenset({"themes", "kpis", "drivers"})
#: From this many responses on, the models the corpus-wide steps do not use are released before them:
#: at 100k responses those steps hold the most memory of a run. Smaller stores keep the models, which a
#: next run in the same process (a notebook, a stream of batches) would otherwise load again.
RELEASE_MODELS_AT_RESPONSES = 20_000


@dataclass(slots=True)
class AnalyzeReport:
    run_id: str
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def analyze_store(
    store: Store,
    config: VocmineConfig,
    steps: list[str] | None = None,
    progress: Progress | None = None,
) -> AnalyzeReport:
    """Run ``steps`` (default ``config.analysis.steps``) in order; returns per-step counts and times."""
    names = steps if steps is not None else list(config.analysis.steps)
    resolved = [resolve_step(name, config) for name in names]
    check_order(resolved)
    run_id = store.start_run("analyze")
    report = AnalyzeReport(run_id=run_id)
    context = StepContext(store=store, config=config, run_id=run_id, progress=progress)
    try:
        large = None
        for step in resolved:
            if step.name in CORPUS_WIDE_STEPS:
                large = store.count("responses") >= RELEASE_MODELS_AT_RESPONSES if large is None else large
                if large:
                    context.cache.clear()
                    release_models()
            started = time.perf_counter()
            report.steps[step.name] = step.run(context)
            report.seconds[step.name] = round(time.perf_counter() - started, 2)
            store.release_memory()  # what one step's queries cached is not what the next one reads
            logger.info("step %s: %s in %.1f s", step.name, report.steps[step.name], report.seconds[step.name])
    except BaseException:
        store.finish_run(run_id, "failed", {"steps": report.steps})
        raise
    store.finish_run(run_id, "completed", {"steps": report.steps, "seconds": report.seconds})
    return report
