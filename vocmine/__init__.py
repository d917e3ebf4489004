"""vocmine: offline voice-of-the-customer mining.

Import name for everything: ``vocmine.pipelines``, ``vocmine.nlp``, ``vocmine.models``,
``vocmine.flows`` map onto the repository's top-level folders of the same names.
"""

from __future__ import annotations

__version__ = "0.1.0"
