"""vocmine: offline voice-of-the-customer mining.

``vocmine.analyze(df_or_paths)`` runs the whole analysis and returns an :class:`Analysis` of
DataFrames; ``vocmine.load(store)`` reopens one. The repository's top-level folders are the
subpackages ``vocmine.pipelines``, ``vocmine.nlp``, ``vocmine.models`` and ``vocmine.flows``.
"""

from __future__ import annotations

__version__ = "0.1.0"

from vocmine.api import Analysis, analyze, load  # noqa: E402

__all__ = ["Analysis", "analyze", "load", "__version__"]
