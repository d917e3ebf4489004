"""``vocmine.component.ft``: the shipped rational/emotional head plus an e5 fine-tuned for the task (LoRA).

The shipped head (:mod:`vocmine.models.train_component`) reads the frozen e5 vector and eight guideline cue
columns; it stays near 0.79-0.80 macro-F1 per language on the 593-sentence test split.
Whether a sentence is about how the customer felt or was treated is a property the retrieval vector was
not trained to keep. An e5 with LoRA adapters on its top six layers (:mod:`vocmine.models.finetune`),
trained on the labelled sentences, learns it from the words in context. Its log-probabilities are blended
with the shipped head's. The encoder's epoch and the blend's weight and temperature are chosen from
out-of-fold scores of a 5-fold cross-validation on the training split (every labelled training sentence is
scored once by an encoder and a head that did not see it); the shipped encoder then trains on every
training sentence for the chosen number of epochs. With ~1,000 short training sentences and only the top
six layers trained, one fine-tuning takes about 5 minutes on two CPU cores, so ``vocmine train component
--finetune`` (six of them: five folds and the final one, ~30 minutes) reproduces it without a GPU.
It costs one more encoder pass per sentence, so it is opt-in (``component = "vocmine.component.ft"`` under
``[analysis.annotators]``).
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from vocmine.models.finetune import FineTunedBlend
from vocmine.models.heads import EmbeddingLogisticHead, log_softmax

if TYPE_CHECKING:
    import pandas as pd

    from vocmine.models.finetune import FineTuneSettings

logger = logging.getLogger(__name__)

KIND = "vocmine.component.ft"
META_FILE = "component_ft.json"
FT_WEIGHTS_DIR = Path(__file__).resolve().parent / "weights" / "component_ft"
#: The encoder's recipe, fixed before the held-out check of 2026-11-24 (model card): adapters on the top
#: six layers (the bottom six are computed once per sentence), a 10-epoch schedule; the folds' out-of-fold
#: curve chooses where the shipped encoder stops.
FINETUNE_RECIPE = {"epochs": 10, "frozen_layers": 6, "max_length": 64, "batch_size": 16, "learning_rate": 5e-4,
                   "head_learning_rate": 2e-3, "rank": 16}
#: Folds of the cross-validation that chooses the epoch and the blend.
FOLDS = 5


class FineTunedComponentModel(FineTunedBlend):
    """``softmax((w * log p_encoder + (1 - w) * log p_head) / T)`` over emotional / rational."""

    KIND = KIND
    META_FILE = META_FILE
    TASK = "component"
    DEFAULT_DIR = FT_WEIGHTS_DIR
    BASE_NOTE = "the vocmine.component.v1 weights (models/weights/component)"

    def base_log_proba(self, texts: list[str], embeddings: np.ndarray | None, context: Any = None) -> np.ndarray:
        """The shipped head on e5 + cue features (it needs the shared e5 vectors; it reads no context)."""
        from vocmine.nlp.rational_emotional import component_features

        if embeddings is None:
            raise ValueError("the component head needs the texts' e5 vectors")
        return np.log(self.base.predict_proba_embeddings(component_features(texts, embeddings)) + 1e-12)

    @classmethod
    def load_base(cls, base_dir: Path | str | None) -> EmbeddingLogisticHead:
        from vocmine.models.train_component import WEIGHTS_DIR

        return EmbeddingLogisticHead.load(Path(base_dir or WEIGHTS_DIR))


def cross_validated_members(train: pd.DataFrame, vectors: np.ndarray, settings: FineTuneSettings, seed: int = 42,
                            folds: int = FOLDS) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold log-probabilities of both members on every training row.

    ``folds``-fold cross-validation stratified by language and label: per fold, an encoder is fine-tuned on
    the other folds (its held-out scores kept after every epoch) and the v1 head is refitted on them.
    Returns (encoder log p per epoch, shape (epochs, n, 2); head log p, shape (n, 2)).
    """
    from sklearn.model_selection import StratifiedKFold

    from vocmine.models.finetune import FineTunedClassifier
    from vocmine.models.train_component import COMPONENT_LABELS, fit_component_head
    from vocmine.nlp.rational_emotional import component_features

    texts = train["text"].astype(str).to_numpy()
    y = train["label"].to_numpy()
    languages = train["language"].to_numpy()
    strata = train["language"] + ":" + train["label"]
    log_encoder = np.zeros((settings.epochs, len(train), len(COMPONENT_LABELS)))
    log_head = np.zeros((len(train), len(COMPONENT_LABELS)))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for fold, (fit_rows, held_rows) in enumerate(splitter.split(texts, strata)):
        per_epoch: list[np.ndarray] = []

        def keep(truth: list[str], logits: np.ndarray, held_rows: np.ndarray = held_rows,
                 per_epoch: list[np.ndarray] = per_epoch) -> float:
            per_epoch.append(log_softmax(logits))
            return score_by_language(truth, logits, languages[held_rows])

        FineTunedClassifier(COMPONENT_LABELS, settings).fit(
            texts[fit_rows].tolist(), y[fit_rows].tolist(), texts[held_rows].tolist(), y[held_rows].tolist(), keep)
        log_encoder[:, held_rows] = np.stack(per_epoch)
        head = fit_component_head(train.iloc[fit_rows], seed=seed, embeddings=vectors[fit_rows])
        features = component_features(texts[held_rows].tolist(), vectors[held_rows])
        log_head[held_rows] = np.log(head.predict_proba_embeddings(features) + 1e-12)
        logger.info("component.ft fold %d/%d done", fold + 1, folds)
    return log_encoder, log_head


def score_by_language(truth: Any, scores: np.ndarray, languages: Any) -> float:
    """Macro-F1 per language of ``scores``' argmax (columns in label order), averaged over the languages."""
    from vocmine.models.metrics import argmax_mean_macro_f1
    from vocmine.models.train_component import COMPONENT_LABELS

    return argmax_mean_macro_f1(truth, scores, COMPONENT_LABELS, languages)


def train_component_finetuned(out_dir: Path | None = None, seed: int = 42, recipe: dict[str, Any] | None = None,
                              data_file: Path | None = None, folds: int = FOLDS) -> dict[str, Any]:
    """Choose the epoch, blend weight and temperature from out-of-fold scores on the training split
    (:func:`cross_validated_members`), then fine-tune the encoder on every training row for that many
    epochs and save it blended with the shipped v1 head."""
    from vocmine.models.finetune import FineTunedClassifier, FineTuneSettings
    from vocmine.models.heads import blend_proba, tune_blend
    from vocmine.models.train_component import COMPONENT_LABELS, WEIGHTS_DIR, _embed, load_component_data

    started = time.perf_counter()
    train = load_component_data(data_file, split="train")
    languages = train["language"].to_numpy()
    truth = train["label"].tolist()
    settings = FineTuneSettings(**{**FINETUNE_RECIPE, **(recipe or {})}, seed=seed)
    vectors = _embed(train["text"].tolist())
    log_encoder, log_head = cross_validated_members(train, vectors, settings, seed, folds)
    by_epoch = [round(score_by_language(truth, scores, languages), 4) for scores in log_encoder]
    epoch = int(np.argmax(by_epoch)) + 1
    y = np.searchsorted(COMPONENT_LABELS, train["label"].to_numpy())
    weight, temperature = tune_blend(log_encoder[epoch - 1], log_head, y, languages)
    members = {"blend": blend_proba(log_encoder[epoch - 1], log_head, weight), "encoder": log_encoder[epoch - 1],
               "head": log_head}
    tuning = {"selection": f"{folds}-fold cross-validation on the training split (stratified by language and "
                           f"label, seed {seed})",
              "rows": len(train), "out_of_fold_by_epoch": by_epoch, "epoch": epoch,
              "out_of_fold_mean_macro_f1": {name: round(score_by_language(truth, scores, languages), 4)
                                            for name, scores in members.items()}}
    final = FineTuneSettings(**{**asdict(settings), "stop_after": epoch})
    encoder = FineTunedClassifier(COMPONENT_LABELS, final).fit(train["text"].tolist(), truth)
    model = FineTunedComponentModel(EmbeddingLogisticHead.load(WEIGHTS_DIR), encoder, weight, temperature, tuning)
    target = Path(out_dir) if out_dir else FT_WEIGHTS_DIR
    model.save(target)
    return {"weights": str(target), "kind": KIND, "weight": weight, "temperature": round(temperature, 4),
            **tuning, "seconds": round(time.perf_counter() - started, 1)}
