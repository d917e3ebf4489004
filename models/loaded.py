"""Models a process keeps once loaded, and letting them go when the rest of a run needs none of them.

Each model loader caches its model for the life of the process (a stream of batches loads each model once).
The corpus-wide steps (themes, KPIs, drivers) use none of the per-text classifiers, and KPIs and drivers
not even the embedder; on a 100k-response store those steps hold the most memory of a run, so
:func:`vocmine.pipelines.analyze.analyze_store` releases what they do not need first.
"""

from __future__ import annotations

import gc
import sys

#: (module, cached loader) of the per-text models: language, sentences, sentiment, emotion, component,
#: spaCy stack.
PER_TEXT_LOADERS = (
    ("vocmine.nlp.language", "_identifier"),
    ("vocmine.nlp.sentiment", "_load_model"),
    ("vocmine.nlp.sentences", "_pipeline"),
    ("vocmine.nlp.emotion", "_load_model"),
    ("vocmine.nlp.rational_emotional", "_load_head"),
    ("vocmine.nlp.spacy_components", "_load_stack"),
    ("vocmine.flows.batches", "_annotator"),
    ("vocmine.models.finetune", "_lora_module"),
    ("vocmine.models.e5_trunk", "_bottom_session"),
)
#: (module, cached loader) of the e5 embedder's networks.
EMBEDDER_LOADERS = (
    ("vocmine.models.e5_torch", "load_e5_torch"),
    ("vocmine.models.e5_torch", "load_e5_torch_int8"),
    ("vocmine.models.e5_onnx", "load_e5_onnx"),
    ("vocmine.flows.batches", "_embedder"),
)


def release_models(keep_embedder: bool = False) -> int:
    """Drop the cached models (all but the embedder's with ``keep_embedder``); returns how many caches held
    one. Modules never imported are left alone. A later call that needs a model loads it again."""
    loaders = PER_TEXT_LOADERS + (() if keep_embedder else EMBEDDER_LOADERS)
    released = 0
    for module_name, loader_name in loaders:
        module = sys.modules.get(module_name)
        loader = getattr(module, loader_name, None) if module is not None else None
        if loader is not None and loader.cache_info().currsize:
            loader.cache_clear()
            released += 1
    trunk = sys.modules.get("vocmine.models.e5_trunk")
    if trunk is not None and (trunk.TRUNKS.wanted or len(trunk.TRUNKS)):
        # The fine-tuned models that read e5's shared states went with the caches above.
        trunk.TRUNKS.clear()
        trunk.TRUNKS.wanted = False
        released += 1
    gc.collect()
    return released
