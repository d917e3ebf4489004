"""vocmine: offline voice-of-the-customer mining.

``vocmine.analyze(df_or_paths)`` runs the whole analysis and returns an :class:`Analysis` of
DataFrames; ``vocmine.load(store)`` reopens one; ``vocmine.classify(df_or_texts)`` labels texts without a
store, as ``vocmine classify`` does. The repository's top-level folders are the
subpackages ``vocmine.pipelines``, ``vocmine.nlp``, ``vocmine.models`` and ``vocmine.flows``.
"""

from __future__ import annotations

__version__ = "0.1.0"

from typing import Any  # noqa: E402

from vocmine.api import Analysis, analyze, classify, load  # noqa: E402


def spacy_pipeline(language: str = "es", **options: Any) -> Any:
    """A spaCy ``Language`` whose components set ``doc._.sentiment``, ``sent._.emotions``,
    ``sent._.component`` and ``sent._.touchpoints`` with vocmine's models (see
    :func:`vocmine.nlp.spacy_components.spacy_pipeline`); imported lazily so ``import vocmine`` stays light."""
    from vocmine.nlp.spacy_components import spacy_pipeline as build

    return build(language, **options)


__all__ = ["Analysis", "analyze", "classify", "load", "spacy_pipeline", "__version__"]
