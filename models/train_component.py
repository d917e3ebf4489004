"""Train and evaluate the rational-vs-emotional component model (task ``component``).

The labelled sentences ship with the repository (``models/data/component/component_labels.csv``, labelled
by ``GUIDELINE.md``), so this task, unlike the others, needs no ``../shared/data``: a user's clone can
retrain it. Only ``rational`` and ``emotional`` rows train and test the classifier; ``neither`` rows are
kept in the CSV to document the guideline. The split is stored in the CSV (round 1: 70/30, stratified by
language and label; later rounds are all train or all test), so every run reports on the same held-out
sentences: 593 since round 3, with round 1's 178 also reported on their own.

Model: logistic regression over frozen multilingual-e5-small sentence vectors plus eight 0/1 cue columns
from the guideline (:data:`vocmine.nlp.rational_emotional.CUES`), with balanced class weights and
temperature calibration (``vocmine.e5_logreg.v1`` head), one model for Spanish and English together: ~500 labelled
training sentences per language are too few to split further. Baseline in the same run: TF-IDF + LR.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vocmine.models.heads import EmbeddingLogisticHead, TfidfLogisticHead
from vocmine.models.metrics import figures_frame, macro_f1_by_group, macro_f1_row
from vocmine.nlp.rational_emotional import CUE_WEIGHT, component_features
from vocmine.registry import register

logger = logging.getLogger(__name__)

COMPONENT_LABELS = ["emotional", "rational"]
DATA_FILE = Path(__file__).resolve().parent / "data" / "component" / "component_labels.csv"
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights" / "component"
LANGUAGES = ("es", "en")
#: Regularisation of the shipped head, chosen by 5-fold cross-validation on the TRAIN split only.
DEFAULT_C = 4.0


def load_component_data(path: Path | str | None = None, split: str | None = None) -> pd.DataFrame:
    """The labelled sentences (rational/emotional rows in es/en only), optionally one ``split``."""
    frame = pd.read_csv(path or DATA_FILE, dtype={"row_id": str}, keep_default_na=False)
    frame = frame[frame["label"].isin(COMPONENT_LABELS) & frame["language"].isin(LANGUAGES)]
    if split is not None:
        frame = frame[frame["split"] == split]
    return frame.reset_index(drop=True)


def _embed(texts: list[str], embedder: Any = None) -> np.ndarray:
    from vocmine.models.embedders import E5Embedder
    from vocmine.models.embedding_cache import embed_with_disk_cache

    return embed_with_disk_cache(texts, embedder or E5Embedder())


def fit_component_head(train: pd.DataFrame, seed: int = 42, C: float = DEFAULT_C,
                       embeddings: np.ndarray | None = None, cues: bool = True,
                       cue_weight: float = CUE_WEIGHT) -> EmbeddingLogisticHead:
    """Fit the shipped model's head on ``train`` (columns text, label): e5 vectors plus the guideline cue
    columns times ``cue_weight`` (``cues=False``: e5 only, the comparison reported in the model card)."""
    X = embeddings if embeddings is not None else _embed(train["text"].tolist())
    if cues:
        X = component_features(train["text"].tolist(), X, cue_weight)
    head = EmbeddingLogisticHead(
        C=C, class_weight="balanced", calibrate=True, random_state=seed,
        data_description=f"models/data/component/component_labels.csv, split=train ({len(train)} sentences, es+en)",
    )
    return head.fit_embeddings(X, train["label"].tolist())


def cross_validate(train: pd.DataFrame, Cs: tuple[float, ...] = (2.0, 4.0, 8.0),
                   cue_weights: tuple[float, ...] = (0.0, 0.1, 0.2, 0.3), folds: int = 5, repeats: int = 3,
                   seed: int = 42, embeddings: np.ndarray | None = None) -> pd.DataFrame:
    """Macro-F1 per language of every (C, cue weight) by repeated stratified k-fold cross-validation on
    ``train`` alone (folds stratified by language and label), the way the shipped C and
    :data:`~vocmine.nlp.rational_emotional.CUE_WEIGHT` are chosen: the test split is never read here.
    One row per setting: C, cue_weight, es, en, mean (of the two languages)."""
    from sklearn.model_selection import RepeatedStratifiedKFold

    X = embeddings if embeddings is not None else _embed(train["text"].tolist())
    texts = train["text"].tolist()
    y = train["label"].to_numpy()
    language = train["language"].to_numpy()
    strata = train["language"] + ":" + train["label"]
    splitter = RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats, random_state=seed)
    splits = list(splitter.split(X, strata))
    rows = []
    for C in Cs:
        for weight in cue_weights:
            features = component_features(texts, X, weight)
            predicted = np.empty((repeats, len(y)), dtype=object)
            for index, (fit_rows, held_rows) in enumerate(splits):
                head = fit_component_head(train.iloc[fit_rows], seed, C, X[fit_rows], cue_weight=weight)
                proba = head.predict_proba_embeddings(features[held_rows])
                predicted[index // folds, held_rows] = np.asarray(head.labels_)[proba.argmax(axis=1)]
            by_repeat = [macro_f1_by_group(y, predicted[r], language, COMPONENT_LABELS) for r in range(repeats)]
            scores = {lang: float(np.mean([repeat[lang] for repeat in by_repeat])) for lang in LANGUAGES}
            rows.append({"C": C, "cue_weight": weight, **scores, "mean": float(np.mean(list(scores.values())))})
    return pd.DataFrame(rows)


@register("task", "component")
class ComponentTask:
    """``vocmine train component`` / ``vocmine evaluate component``."""

    name = "component"

    def train(self, data_dir: Path | None = None, out_dir: Path | None = None, seed: int = 42,
              finetune: bool = False) -> dict[str, Any]:
        """Fit on the train split and save to ``out_dir`` (default: the shipped weights folder); with
        ``finetune``, the accurate variant (:mod:`vocmine.models.component_ft`, ~30 min on two CPU cores).

        ``data_dir`` is accepted for the common task signature and ignored: the data ship with the code.
        """
        if finetune:
            from vocmine.models.component_ft import train_component_finetuned

            return train_component_finetuned(out_dir, seed)
        train = load_component_data(split="train")
        head = fit_component_head(train, seed=seed)
        target = Path(out_dir) if out_dir else WEIGHTS_DIR
        head.save(target)
        logger.info("component model saved to %s (%d training sentences)", target, len(train))
        return {"weights": str(target), "n_train": len(train), "labels": head.labels_}

    def evaluate(self, data_dir: Path | None = None, seed: int = 42, weights_dir: Path | None = None,
                 ft_dir: Path | None = None) -> pd.DataFrame:
        """Macro-F1 per language on the held-out split: the shipped model, the fine-tuned variant (and its
        encoder alone) when its weights exist, and a TF-IDF + LR baseline fitted now."""
        from vocmine.models.component_ft import FT_WEIGHTS_DIR, FineTunedComponentModel

        train = load_component_data(split="train")
        test = load_component_data(split="test")
        head = EmbeddingLogisticHead.load(weights_dir or WEIGHTS_DIR)
        test_vectors = _embed(test["text"].tolist())
        proba = head.predict_proba_embeddings(component_features(test["text"].tolist(), test_vectors))
        predictions = {"vocmine.component.v1": np.asarray(head.labels_)[proba.argmax(axis=1)]}
        ft_dir = Path(ft_dir or FT_WEIGHTS_DIR)
        if FineTunedComponentModel.exists(ft_dir):
            ft = FineTunedComponentModel.load(ft_dir, base_dir=weights_dir)
            texts = test["text"].tolist()
            log_encoder, log_head = ft.member_log_proba(texts, test_vectors)
            labels = np.asarray(ft.labels_)
            predictions["vocmine.component.ft"] = labels[ft.blend(log_encoder, log_head).argmax(axis=1)]
            predictions["e5 + LoRA (member alone)"] = labels[log_encoder.argmax(axis=1)]
        e5_only = fit_component_head(train, seed=seed, cues=False)
        proba = e5_only.predict_proba_embeddings(test_vectors)
        predictions["vocmine.e5_logreg.v1 (no cues)"] = np.asarray(e5_only.labels_)[proba.argmax(axis=1)]
        baseline = TfidfLogisticHead(min_df=1, random_state=seed).fit(train["text"], train["label"])
        predictions["vocmine.tfidf_lr.v1"] = np.asarray(baseline.predict(test["text"].tolist()))
        rows = []
        for dataset, in_set in held_out_subsets(test).items():
            for language in (*LANGUAGES, "all"):
                mask = in_set if language == "all" else in_set & (test["language"] == language).to_numpy()
                truth = test.loc[mask, "label"].tolist()
                for model, pred in predictions.items():
                    rows.append(macro_f1_row("component", dataset, language, "test", model, truth,
                                             pred[mask].tolist(), COMPONENT_LABELS))
        return figures_frame(rows)


def held_out_subsets(test: pd.DataFrame) -> dict[str, np.ndarray]:
    """The test rows each reported figure reads: the whole test split (``component_labels``), and, once a
    later round added test rows, round 1's original split (``component_labels_round1``) next to it, so a
    figure stays comparable with those reported before the split grew."""
    subsets = {"component_labels": np.ones(len(test), bool)}
    first = (test["round"] == 1).to_numpy()
    if not first.all():
        subsets["component_labels_round1"] = first
    return subsets
