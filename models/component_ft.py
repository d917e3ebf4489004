"""``vocmine.component.ft``: the shipped rational/emotional head plus an e5 fine-tuned for the task (LoRA).

The shipped head (:mod:`vocmine.models.train_component`) reads the frozen e5 vector and eight guideline cue
columns; in English it stays near 0.73 macro-F1, and 297 more labelled English sentences did not move it.
Whether a sentence is about how the customer felt or was treated is a property the retrieval vector was
not trained to keep. An e5 with LoRA adapters on its top six layers (:mod:`vocmine.models.finetune`),
trained on the labelled sentences, learns it from the words in context. Its log-probabilities are blended
with the shipped head's. The encoder's epoch and the blend's weight and temperature are chosen on a
stratified 15% of the training split that neither the encoder nor the head refitted for the tuning has
seen. With ~600 short training sentences and only the top six layers trained, the fine-tuning takes
about 5 minutes on two CPU cores, so ``vocmine train component --finetune`` reproduces it without a GPU.
It costs one more encoder pass per sentence, so it is opt-in (``component = "vocmine.component.ft"`` under
``[analysis.annotators]``).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np

from vocmine.models.finetune import FineTunedBlend
from vocmine.models.heads import EmbeddingLogisticHead, log_softmax

logger = logging.getLogger(__name__)

KIND = "vocmine.component.ft"
META_FILE = "component_ft.json"
FT_WEIGHTS_DIR = Path(__file__).resolve().parent / "weights" / "component_ft"
#: The encoder's recipe, fixed before the held-out check of 2026-11-24 (model card): adapters on the top
#: six layers (the bottom six are computed once per sentence), up to 10 epochs, the best kept.
FINETUNE_RECIPE = {"epochs": 10, "frozen_layers": 6, "max_length": 64, "batch_size": 16, "learning_rate": 5e-4,
                   "head_learning_rate": 2e-3, "rank": 16}
DEV_FRACTION = 0.15


class FineTunedComponentModel(FineTunedBlend):
    """``softmax((w * log p_encoder + (1 - w) * log p_head) / T)`` over emotional / rational."""

    KIND = KIND
    META_FILE = META_FILE
    TASK = "component"
    DEFAULT_DIR = FT_WEIGHTS_DIR
    BASE_NOTE = "the vocmine.component.v1 weights (models/weights/component)"

    def base_log_proba(self, texts: list[str], embeddings: np.ndarray | None) -> np.ndarray:
        """The shipped head on e5 + cue features (it needs the shared e5 vectors)."""
        from vocmine.nlp.rational_emotional import component_features

        if embeddings is None:
            raise ValueError("the component head needs the texts' e5 vectors")
        return np.log(self.base.predict_proba_embeddings(component_features(texts, embeddings)) + 1e-12)

    @classmethod
    def load_base(cls, base_dir: Path | str | None) -> EmbeddingLogisticHead:
        from vocmine.models.train_component import WEIGHTS_DIR

        return EmbeddingLogisticHead.load(Path(base_dir or WEIGHTS_DIR))


def held_out_mask(train: Any, seed: int = 42) -> np.ndarray:
    """A stratified (language x label) :data:`DEV_FRACTION` of the training split, for the epoch and blend."""
    from sklearn.model_selection import train_test_split

    index = np.arange(len(train))
    _, held = train_test_split(index, test_size=DEV_FRACTION, random_state=seed,
                               stratify=(train["language"] + ":" + train["label"]).to_numpy())
    mask = np.zeros(len(train), dtype=bool)
    mask[held] = True
    return mask


def train_component_finetuned(out_dir: Path | None = None, seed: int = 42, recipe: dict[str, Any] | None = None,
                              data_file: Path | None = None) -> dict[str, Any]:
    """Fine-tune the encoder on the training split minus the held-out 15% (the epoch kept is the best by
    mean per-language held-out macro-F1), tune the blend with a head refitted without those rows, save."""
    from vocmine.models.finetune import FineTunedClassifier, FineTuneSettings
    from vocmine.models.heads import blend_proba, tune_blend
    from vocmine.models.metrics import macro_f1_by_group
    from vocmine.models.train_component import (
        COMPONENT_LABELS,
        WEIGHTS_DIR,
        _embed,
        fit_component_head,
        load_component_data,
    )
    from vocmine.nlp.rational_emotional import component_features

    started = time.perf_counter()
    train = load_component_data(data_file, split="train")
    held = held_out_mask(train, seed)
    languages = train["language"].to_numpy()[held]
    labels = np.asarray(COMPONENT_LABELS)

    def held_out_score(truth: list[str], logits: np.ndarray) -> float:
        scores = macro_f1_by_group(truth, labels[logits.argmax(1)], languages, list(labels))
        return float(np.mean(list(scores.values())))

    settings = FineTuneSettings(**{**FINETUNE_RECIPE, **(recipe or {})}, seed=seed)
    encoder = FineTunedClassifier(list(labels), settings).fit(
        train["text"][~held].tolist(), train["label"][~held].tolist(), train["text"][held].tolist(),
        train["label"][held].tolist(), held_out_score)
    vectors = _embed(train["text"].tolist())
    refit = fit_component_head(train[~held], seed=seed, embeddings=vectors[~held])
    texts = train["text"][held].tolist()
    log_encoder = log_softmax(encoder.logits(texts))
    log_head = np.log(refit.predict_proba_embeddings(component_features(texts, vectors[held])) + 1e-12)
    y = np.searchsorted(labels, train["label"][held].to_numpy())
    weight, temperature = tune_blend(log_encoder, log_head, y, languages)
    truth = train["label"][held].tolist()
    members = {"blend": blend_proba(log_encoder, log_head, weight), "encoder": log_encoder, "head": log_head}
    tuning = {"held_out_rows": int(held.sum()), "encoder_history": encoder.history,
              "held_out_mean_macro_f1": {name: round(held_out_score(truth, scores), 4)
                                         for name, scores in members.items()}}
    model = FineTunedComponentModel(EmbeddingLogisticHead.load(WEIGHTS_DIR), encoder, weight, temperature, tuning)
    target = Path(out_dir) if out_dir else FT_WEIGHTS_DIR
    model.save(target)
    return {"weights": str(target), "kind": KIND, "weight": weight, "temperature": round(temperature, 4),
            **tuning, "seconds": round(time.perf_counter() - started, 1)}
