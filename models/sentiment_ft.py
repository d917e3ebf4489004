"""``vocmine.sentiment.ft``: the shipped sentiment blend plus an e5 fine-tuned for sentiment (LoRA).

The shipped blend (e5 + LR with TF-IDF + LR, :mod:`vocmine.models.train_sentiment`) reads frozen e5
vectors, which stop at 0.76 macro-F1 on the airline tweets and 0.73-0.74 on SemEval-2016. An e5 whose
every layer has LoRA adapters (:mod:`vocmine.models.finetune`), trained on the same training rows,
moves the airline figure past 0.80; blending its log-probabilities with the shipped blend's keeps what
each is better at. The blend weight and temperature are tuned on the stratified 15% of the training rows
that the encoder never saw (the shipped blend's members are refitted without those rows for the tuning, so
the held-out scores are honest). Like v1, the blend member reads each sentence's context (its neighbours in
the answer, :mod:`vocmine.models.context`): with it, the cross-fitted held-out SemEval-2016 figures rose
by 2.75 (es) and 0.91 (en) points (``benchmarks/finetune_runs/sentiment_ft_context_blend.py``). It costs one
more encoder pass per text, so it is opt-in (``sentiment = "vocmine.sentiment.ft"`` under
``[analysis.annotators]``).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from vocmine.models.finetune import FineTunedBlend
from vocmine.models.heads import BlendedHead, log_softmax

if TYPE_CHECKING:
    import pandas as pd

logger = logging.getLogger(__name__)

KIND = "vocmine.sentiment.ft"
META_FILE = "sentiment_ft.json"
FT_WEIGHTS_DIR = Path(__file__).resolve().parent / "weights" / "sentiment_ft"
#: The shipped encoder's recipe (model card): GPU run sent_a's (4 epochs, texts cut at 128 tokens, rank 16)
#: with adapters on the top six layers only, since session 23, so it reads the e5 states the embedder
#: shares (models/e5_trunk.py) and trains deterministically on two CPU cores (~100 min).
FINETUNE_RECIPE = {"epochs": 4, "frozen_layers": 6, "max_length": 128, "batch_size": 32, "learning_rate": 5e-4,
                   "rank": 16}
#: Backend of the vectors the tuning refit of the shipped blend reads (the analysis default).
TUNING_BACKEND = "onnx-int8"


class FineTunedSentimentModel(FineTunedBlend):
    """``softmax((w * log p_encoder + (1 - w) * log p_blend) / T)`` over negative / neutral / positive."""

    KIND = KIND
    META_FILE = META_FILE
    TASK = "sentiment"
    DEFAULT_DIR = FT_WEIGHTS_DIR
    BASE_NOTE = "the vocmine.sentiment.v1 weights (models/weights/sentiment)"

    def base_log_proba(self, texts: list[str], embeddings: np.ndarray | None, context: Any = None) -> np.ndarray:
        """v1's probabilities, its context member reading ``context`` when the blend was tuned with it."""
        return np.log(self.base.predict_proba(texts, embeddings, context if self.reads_context else None) + 1e-12)

    @classmethod
    def load_base(cls, base_dir: Path | str | None) -> BlendedHead:
        from vocmine.models.train_sentiment import WEIGHTS_DIR

        return BlendedHead.load(base_dir or WEIGHTS_DIR)


def held_out_base_log_proba(train: pd.DataFrame, dev: np.ndarray, seed: int = 42,
                            context: bool = False) -> np.ndarray:
    """Log-probabilities of the shipped blend's recipe on the held-out rows ``train[dev]``, its members
    refitted without those rows (so the scores are honest held-out scores for tuning a blend on them).

    With ``context`` the refit has v1's context member and the held-out sentences that have a neighbour
    (``context_before`` / ``context_after``) are scored with it, as v1 scores them in the pipeline."""
    from vocmine.models import train_sentiment as ts
    from vocmine.models.embedders import E5Embedder
    from vocmine.models.embedding_cache import embed_with_disk_cache
    from vocmine.models.heads import EmbeddingLogisticHead, TfidfLogisticHead

    embedder = E5Embedder(backend=TUNING_BACKEND)

    def embed(texts: list[str]) -> np.ndarray:
        return embed_with_disk_cache(texts, embedder)

    def rows_context(frame: pd.DataFrame, vectors: np.ndarray) -> Any:
        return ts.frame_context(frame, vectors, embed) if context else None

    e5_rows = ts.e5_subset(train, seed)
    e5_rows = e5_rows[~e5_rows.index.isin(np.flatnonzero(dev))]
    rest = train[~dev]
    refit = BlendedHead(EmbeddingLogisticHead(ts.EMBEDDER, random_state=seed), TfidfLogisticHead(random_state=seed),
                        context_head=EmbeddingLogisticHead(ts.EMBEDDER, random_state=seed) if context else None)
    X = embed(e5_rows["text"].tolist())
    refit.fit(e5_rows["text"].tolist(), e5_rows["label"].to_numpy(), embeddings=X,
              tfidf_texts=rest["text"].tolist(), tfidf_y=rest["label"].tolist(), context=rows_context(e5_rows, X))
    held = train[dev]
    texts = held["text"].tolist()
    X_held = embed(texts)
    return np.log(refit.predict_proba(texts, X_held, rows_context(held, X_held)) + 1e-12)


def train_sentiment_finetuned(data_dir: Path | None = None, out_dir: Path | None = None, seed: int = 42,
                              encoder_dir: Path | None = None) -> dict[str, Any]:
    """Fine-tune the encoder on the training rows minus the held-out 15% (the epoch kept is the best by mean
    held-out macro-F1 over the data sets), or reuse one from ``encoder_dir`` (e.g. trained on a GPU with
    this function); then tune the blend weight and temperature on the held-out rows and save."""
    from vocmine.models import train_sentiment as ts
    from vocmine.models.datasets import SENTIMENT_LABELS
    from vocmine.models.finetune import FineTunedClassifier, FineTuneSettings
    from vocmine.models.heads import blend_proba, tune_blend
    from vocmine.models.metrics import argmax_mean_macro_f1

    started = time.perf_counter()
    train = ts.build_train_frame(data_dir, seed).reset_index(drop=True)
    dev = ts._dev_mask(train, seed)
    datasets = train["dataset"].to_numpy()[dev]
    labels = np.asarray(SENTIMENT_LABELS)

    def held_out_score(truth: list[str], logits: np.ndarray) -> float:
        return argmax_mean_macro_f1(truth, logits, labels, datasets)

    if encoder_dir is not None:  # in torch: the adapters are saved with the blend (an int8 export holds none)
        encoder = FineTunedClassifier.load(encoder_dir, backend="torch")
    else:
        encoder = FineTunedClassifier(list(labels), FineTuneSettings(**FINETUNE_RECIPE, seed=seed)).fit(
            train["text"][~dev].tolist(), train["label"][~dev].tolist(), train["text"][dev].tolist(),
            train["label"][dev].tolist(), held_out_score)
    held = train[dev]
    log_encoder = log_softmax(encoder.logits(held["text"].tolist()))
    log_blend = held_out_base_log_proba(train, dev, seed, context=True)
    y = np.searchsorted(labels, held["label"].to_numpy())
    weight, temperature = tune_blend(log_encoder, log_blend, y, datasets)
    tuning = {"held_out_rows": int(dev.sum()), "base_reads_context": True, "encoder_history": encoder.history,
              "held_out_mean_macro_f1": round(held_out_score(held["label"].tolist(),
                                                             blend_proba(log_encoder, log_blend, weight)), 4)}
    model = FineTunedSentimentModel(BlendedHead.load(ts.WEIGHTS_DIR), encoder, weight, temperature, tuning)
    target = Path(out_dir) if out_dir else FT_WEIGHTS_DIR
    model.save(target)
    return {"weights": str(target), "kind": KIND, "weight": weight, "temperature": round(temperature, 4),
            **tuning, "seconds": round(time.perf_counter() - started, 1)}
