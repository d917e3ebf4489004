"""Touchpoint assignment: which stages of the customer journey a sentence is about (multi-label, or "other").

Two assigners share one output shape, a score per touchpoint in [0, 1] with 0.5 as the decision line:

- :class:`ZeroShotTouchpoints` needs no labels. A sentence's e5 "query:" vector is compared with
  prototypes written in the taxonomy (both descriptions and the example phrases). e5 cosines are
  compressed (unrelated pairs sit at 0.7-0.8, see shared/STACK.md) and each sentence has its own offset,
  so the raw score of a touchpoint is its best prototype similarity *minus the sentence's mean over all
  touchpoints*; a keyword hit adds a fixed bonus (keywords are a complement for words the embedding
  blurs, such as dish names). The raw score is turned into a calibrated score with a logistic centred
  on the touchpoint's threshold, which is tuned on labelled TRAIN data where it exists (restaurant) and
  left at the taxonomy default elsewhere.
- :class:`TouchpointHead` is a supervised one-vs-rest logistic head over the same e5 vectors plus the
  zero-shot features, trained from a few labelled sentences (``vocmine train touchpoints``), with
  per-touchpoint thresholds chosen by cross-validation on the training labels.

Two more heads read the text itself, :class:`FineTunedTouchpointHead` (e5 with LoRA adapters) and
:class:`LexicalTouchpointHead` (TF-IDF); :class:`BlendedTouchpointHead` averages any of these, and the
restaurant taxonomy's ``auto`` head is such a blend (``models/weights/touchpoints/restaurant/``).

A sentence with no touchpoint over the line gets the label "other". When an export already says the
touchpoint (e.g. one survey question per stage), that value wins: :func:`apply_given` and
:func:`agreement_with_given` implement issue item 4.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Self

import numpy as np
import pandas as pd

from vocmine.errors import ModelNotFoundError, NotFittedError, VocmineError
from vocmine.nlp.language import language_skip_reason
from vocmine.nlp.taxonomy import OTHER, Taxonomy, load_taxonomy
from vocmine.protocols import Annotation, Embedder
from vocmine.registry import register

logger = logging.getLogger(__name__)

#: Where trained heads ship: ``<taxonomy>.json`` + ``<taxonomy>.safetensors`` (one flat folder, so the
#: package-data glob ``weights/*/*`` installs them).
SHIPPED_HEADS = Path(__file__).resolve().parent.parent / "models" / "weights" / "touchpoints"

#: Width of the logistic that maps (raw - threshold) to a score: raw scores are cosine differences of a
#: few hundredths, so 0.02 spreads them over (0, 1) without saturating at the first keyword bonus.
SCORE_SCALE = 0.02

#: Below this many labelled sentences, out-of-fold threshold tuning is noise: keep the 0.5 line.
MIN_TUNING_SENTENCES = 60


def _fold(text: str) -> str:
    """Lower-case and strip accents, so "camarero"/"CAMARERO" and "atención"/"atencion" match alike."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _keyword_pattern(keywords: Sequence[str]) -> re.Pattern[str] | None:
    r"""One pattern for a touchpoint's keywords, each matched as a whole word.

    Keywords that begin and end with a letter or digit share one ``(?<!\w)(?:a|b|...)(?!\w)`` group, so
    the word-boundary checks run once per position instead of once per keyword (the keyword rules took a
    third of the per-sentence stack's time outside embedding). The rest keep their own boundaries.
    """
    words = sorted({_fold(k) for k in keywords if k.strip()}, key=len, reverse=True)
    if not words:
        return None
    bounded = [re.escape(w) for w in words if w[0].isalnum() and w[-1].isalnum()]
    parts = [rf"(?<!\w)(?:{'|'.join(bounded)})(?!\w)"] if bounded else []
    for word in words:
        if not (word[0].isalnum() and word[-1].isalnum()):
            left = r"(?<!\w)" if word[0].isalnum() else ""
            right = r"(?!\w)" if word[-1].isalnum() else ""
            parts.append(f"{left}{re.escape(word)}{right}")
    return re.compile("|".join(parts))


def keyword_hits(texts: Sequence[str], taxonomy: Taxonomy) -> np.ndarray:
    """(n, T) 0/1 matrix: does the text contain one of the touchpoint's keywords (whole word)?"""
    patterns = [_keyword_pattern(tp.keywords) for tp in taxonomy.touchpoints]
    out = np.zeros((len(texts), len(patterns)), dtype=np.float32)
    for i, text in enumerate(texts):
        folded = _fold(text or "")
        for j, pattern in enumerate(patterns):
            if pattern is not None and pattern.search(folded):
                out[i, j] = 1.0
    return out


def _empty_rows(texts: Sequence[str | None]) -> np.ndarray:
    """Boolean mask of blank texts: they score 0 for every touchpoint ("other")."""
    return np.asarray([not (t or "").strip() for t in texts], dtype=bool)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def decide(scores: np.ndarray, names: Sequence[str], line: float = 0.5) -> list[list[str]]:
    """Touchpoints whose score reaches ``line``, best first; an empty list means "other"."""
    decisions = []
    for row in np.asarray(scores):
        order = np.argsort(-row, kind="stable")
        decisions.append([names[j] for j in order if row[j] >= line])
    return decisions


def join_labels(labels: Sequence[str]) -> str:
    """';'-joined touchpoints, or "other" when there are none (the stored label)."""
    return ";".join(labels) if labels else OTHER


def split_labels(label: str | None) -> list[str]:
    """Inverse of :func:`join_labels`; "other", "" and None give []."""
    if label is None or (isinstance(label, float) and np.isnan(label)):
        return []
    parts = [p.strip() for p in str(label).split(";")]
    return [p for p in parts if p and p.lower() != OTHER]


def _default_embedder() -> Embedder:
    from vocmine.models.embedders import resolve_embedder

    return resolve_embedder("vocmine.e5_small.v1")


def _as_mode(embedder: Embedder, mode: str) -> Embedder:
    with_mode = getattr(embedder, "with_mode", None)
    if with_mode is None:
        return embedder
    if getattr(embedder, "mode", mode) == mode:
        return embedder
    return with_mode(mode)


class ZeroShotTouchpoints:
    """Scores sentences against a taxonomy's descriptions, examples and keywords; needs no labels.

    ``prototype_mode`` is the e5 prefix of the prototypes. Sentences are "query:" vectors (what the
    pipeline computes once); the e5 card advises "query:" on both sides for symmetric tasks such as
    classification, and prototypes here are peers of the sentences (example sentences), so "query" is the
    default; "passage" is kept for experiments. ``keyword_bonus`` is added to the raw score on a keyword
    hit; ``description_weight`` mixes the best description similarity into the best example similarity.
    """

    def __init__(
        self,
        taxonomy: str | Path | Taxonomy = "retail",
        embedder: Embedder | None = None,
        prototype_mode: Literal["query", "passage"] = "query",
        keyword_bonus: float = 0.03,
        description_weight: float = 0.3,
        top_k: int = 1,
    ) -> None:
        self.taxonomy = taxonomy
        self.embedder = embedder
        self.prototype_mode = prototype_mode
        self.keyword_bonus = keyword_bonus
        self.description_weight = description_weight
        self.top_k = top_k

    def fit(self) -> Self:
        """Embed the taxonomy's prototypes (a few dozen short texts: about a second)."""
        self.taxonomy_ = load_taxonomy(self.taxonomy)
        embedder = _as_mode(self.embedder or _default_embedder(), self.prototype_mode)
        descriptions, examples, owners = [], [], []
        for j, tp in enumerate(self.taxonomy_.touchpoints):
            descriptions += [tp.description_en, tp.description_es]
            examples += tp.examples
            owners += [j] * len(tp.examples)
        vectors = np.asarray(embedder.encode(descriptions + examples), dtype=np.float32)
        n_tp = len(self.taxonomy_.touchpoints)
        self.description_vectors_ = vectors[: 2 * n_tp].reshape(n_tp, 2, -1)
        self.example_vectors_ = vectors[2 * n_tp :]
        self.example_owner_ = np.asarray(owners, dtype=int)
        self.thresholds_ = np.asarray(
            [tp.threshold if tp.threshold is not None else self.taxonomy_.default_threshold
             for tp in self.taxonomy_.touchpoints],
            dtype=np.float32,
        )
        return self

    @property
    def labels_(self) -> list[str]:
        self._check_fitted()
        return list(self.taxonomy_.names)

    def _check_fitted(self) -> None:
        if not hasattr(self, "taxonomy_"):
            raise NotFittedError("ZeroShotTouchpoints is not fitted: call fit() first")

    def similarities(self, embeddings: np.ndarray) -> np.ndarray:
        """(n, T) best-prototype cosine per touchpoint, before centring and keywords."""
        self._check_fitted()
        # float64: a float32 dot product's rounding depends on the BLAS thread count, and the sigmoid
        # amplifies it; in float64 a Dask worker and the main process give the same stored scores.
        q = np.asarray(embeddings, dtype=np.float64)
        n_tp = self.description_vectors_.shape[0]
        desc = np.einsum("nd,tkd->ntk", q, self.description_vectors_).max(axis=2)
        out = desc.copy()
        if len(self.example_vectors_):
            ex_sims = q @ self.example_vectors_.T
            for j in range(n_tp):
                cols = ex_sims[:, self.example_owner_ == j]
                if cols.shape[1] == 0:
                    continue
                k = min(self.top_k, cols.shape[1])
                best = -np.sort(-cols, axis=1)[:, :k].mean(axis=1)
                out[:, j] = self.description_weight * desc[:, j] + (1 - self.description_weight) * best
        return out

    def raw_scores(self, texts: Sequence[str], embeddings: np.ndarray) -> np.ndarray:
        """Centred similarity plus keyword bonus: the quantity thresholds are set on."""
        sims = self.similarities(embeddings)
        centred = sims - sims.mean(axis=1, keepdims=True)
        return centred + self.keyword_bonus * keyword_hits(texts, self.taxonomy_)

    def predict_scores(self, texts: Sequence[str], embeddings: np.ndarray) -> np.ndarray:
        """(n, T) calibrated scores in (0, 1); 0.5 is each touchpoint's threshold. Empty texts score 0."""
        raw = self.raw_scores(texts, embeddings)
        scores = _sigmoid((raw - self.thresholds_) / SCORE_SCALE)
        scores[_empty_rows(texts)] = 0.0
        return scores

    def predict(self, texts: Sequence[str], embeddings: np.ndarray) -> list[list[str]]:
        return decide(self.predict_scores(texts, embeddings), self.labels_)


class TouchpointHead:
    """Supervised multi-label head for one taxonomy: one-vs-rest logistic regression on e5 vectors
    concatenated with the zero-shot raw scores and keyword hits (which carry the taxonomy's knowledge into
    the head, so a few labels per touchpoint go further).

    ``fit`` picks one threshold per touchpoint from out-of-fold probabilities on the training labels (never
    on test) and stores a shift so that 0.5 is each touchpoint's decision line in ``predict_scores``.
    """

    def __init__(
        self,
        taxonomy: str | Path | Taxonomy = "retail",
        C: float = 8.0,
        zero_shot_features: bool = True,
        tune_thresholds: bool = True,
        random_state: int = 42,
    ) -> None:
        self.taxonomy = taxonomy
        self.C = C
        self.zero_shot_features = zero_shot_features
        self.tune_thresholds = tune_thresholds
        self.random_state = random_state

    def _features(
        self, texts: Sequence[str], embeddings: np.ndarray, zero_shot: ZeroShotTouchpoints | None
    ) -> np.ndarray:
        q = np.asarray(embeddings, dtype=np.float64)  # thread-count-independent rounding, as above
        if not self.zero_shot_features:
            return q
        if zero_shot is None:
            raise VocmineError("this head uses zero-shot features: pass the fitted ZeroShotTouchpoints")
        raw = zero_shot.raw_scores(texts, q) / SCORE_SCALE * 0.1
        return np.hstack([q, raw, keyword_hits(texts, zero_shot.taxonomy_)])

    def fit(
        self,
        texts: Sequence[str],
        embeddings: np.ndarray,
        labels: Sequence[Sequence[str]],
        zero_shot: ZeroShotTouchpoints | None = None,
    ) -> Self:
        """``labels``: per sentence, the list of its touchpoints ([] = other)."""
        self.taxonomy_ = load_taxonomy(self.taxonomy)
        y = _label_matrix(self.taxonomy_, labels)
        if len(texts) != len(labels) or len(texts) != len(embeddings):
            raise VocmineError("texts, embeddings and labels must have the same length")
        x = self._features(texts, embeddings, zero_shot)
        self.coef_, self.intercept_ = self._fit_lr(x, y)

        def fold_logits(train_idx: np.ndarray, test_idx: np.ndarray) -> np.ndarray:
            coef, intercept = self._fit_lr(x[train_idx], y[train_idx])
            return x[test_idx] @ coef.T + intercept

        self.threshold_logits_ = (_out_of_fold_threshold_logits(y, fold_logits, self.random_state)
                                  if self.tune_thresholds else np.zeros(y.shape[1], dtype=np.float64))
        return self

    def _fit_lr(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        from sklearn.linear_model import LogisticRegression

        coef = np.zeros((y.shape[1], x.shape[1]), dtype=np.float64)
        intercept = np.zeros(y.shape[1], dtype=np.float64)
        for j in range(y.shape[1]):
            positives = int(y[:, j].sum())
            if positives == 0 or positives == len(y):
                # One class only: a constant logit that says so (never chosen / always chosen).
                intercept[j] = -10.0 if positives == 0 else 10.0
                continue
            model = LogisticRegression(C=self.C, max_iter=2000, random_state=self.random_state)
            model.fit(x, y[:, j])
            coef[j], intercept[j] = model.coef_[0], model.intercept_[0]
        return coef, intercept

    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise NotFittedError("TouchpointHead is not fitted: call fit() or load() first")

    @property
    def labels_(self) -> list[str]:
        self._check_fitted()
        return list(self.taxonomy_.names)

    def decision_function(
        self, texts: Sequence[str], embeddings: np.ndarray, zero_shot: ZeroShotTouchpoints | None = None
    ) -> np.ndarray:
        self._check_fitted()
        return self._features(texts, embeddings, zero_shot) @ self.coef_.T + self.intercept_

    def predict_scores(
        self, texts: Sequence[str], embeddings: np.ndarray, zero_shot: ZeroShotTouchpoints | None = None
    ) -> np.ndarray:
        """(n, T) scores in (0, 1) with 0.5 at each touchpoint's tuned threshold."""
        logits = self.decision_function(texts, embeddings, zero_shot) - self.threshold_logits_
        scores = _sigmoid(logits)
        scores[_empty_rows(texts)] = 0.0
        return scores

    def predict(
        self, texts: Sequence[str], embeddings: np.ndarray, zero_shot: ZeroShotTouchpoints | None = None
    ) -> list[list[str]]:
        return decide(self.predict_scores(texts, embeddings, zero_shot), self.labels_)

    def save(self, directory: Path | str, name: str = "head") -> None:
        """``<name>.json`` (taxonomy, settings, labels) + ``<name>.safetensors`` (weights)."""
        from safetensors.numpy import save_file

        self._check_fitted()
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        meta = {
            "format": "vocmine.touchpoint_head.v1",
            "taxonomy": self.taxonomy_.model_dump(by_alias=True),
            "labels": self.labels_,
            "C": self.C,
            "zero_shot_features": self.zero_shot_features,
            "tune_thresholds": self.tune_thresholds,
            "random_state": self.random_state,
            "trained_on": getattr(self, "trained_on_", None),
        }
        (directory / f"{name}.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
        save_file(
            {
                "coef": self.coef_.astype(np.float32),
                "intercept": self.intercept_.astype(np.float32),
                "threshold_logits": np.asarray(self.threshold_logits_, dtype=np.float32),
            },
            str(directory / f"{name}.safetensors"),
        )

    @classmethod
    def load(cls, directory: Path | str, name: str = "head") -> Self:
        from safetensors.numpy import load_file

        from vocmine.nlp.taxonomy import parse_taxonomy

        directory = Path(directory)
        meta_path = directory / f"{name}.json"
        if not meta_path.exists():
            raise ModelNotFoundError(f"no touchpoint head at {meta_path} (train one: vocmine train touchpoints)")
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        taxonomy = parse_taxonomy(meta["taxonomy"], source=str(meta_path))
        head = cls(
            taxonomy=taxonomy,
            C=meta["C"],
            zero_shot_features=meta["zero_shot_features"],
            tune_thresholds=meta["tune_thresholds"],
            random_state=meta["random_state"],
        )
        tensors = load_file(str(directory / f"{name}.safetensors"))
        head.taxonomy_ = taxonomy
        head.coef_ = tensors["coef"].astype(np.float64)
        head.intercept_ = tensors["intercept"].astype(np.float64)
        head.threshold_logits_ = tensors["threshold_logits"].astype(np.float64)
        head.trained_on_ = meta.get("trained_on")
        return head


class LexicalTouchpointHead:
    """TF-IDF words and character n-grams with one logistic regression per touchpoint: the blend's lexical
    member.

    It reads the surface of the sentence (dish and drink names, "camarero", "caro", misspellings) where
    the e5 heads read its meaning, so it errs on other sentences than they do; on its own it is the
    weakest head, in the blend it earns its weight on held-out rows. Thresholds come from out-of-fold
    logits on the training labels, as in :class:`TouchpointHead`, and 0.5 is each decision line.
    """

    zero_shot_features = False
    FOLDER = "lexical"
    META_FILE = "touchpoints.json"

    def __init__(self, taxonomy: str | Path | Taxonomy = "retail", C: float = 4.0, random_state: int = 42) -> None:
        self.taxonomy = taxonomy
        self.C = C
        self.random_state = random_state

    def _new_model(self) -> Any:
        from vocmine.models.heads import TfidfLogisticHead

        return TfidfLogisticHead(C=self.C, random_state=self.random_state,
                                 data_description="touchpoint labels (one-vs-rest)")

    def fit(self, texts: Sequence[str], labels: Sequence[Sequence[str]]) -> Self:
        """``labels``: per sentence, the list of its touchpoints ([] = other)."""
        self.taxonomy_ = load_taxonomy(self.taxonomy)
        names = self.taxonomy_.names
        y = _label_matrix(self.taxonomy_, labels)
        if len(texts) != len(labels):
            raise VocmineError(f"{len(texts)} texts but {len(labels)} label lists")
        texts = np.asarray([str(t or "") for t in texts], dtype=object)
        self.model_ = self._new_model().fit_one_vs_rest(texts.tolist(), y, names)

        def fold_logits(train_idx: np.ndarray, test_idx: np.ndarray) -> np.ndarray:
            fold = self._new_model().fit_one_vs_rest(texts[train_idx].tolist(), y[train_idx], names)
            return fold.decision_function(texts[test_idx].tolist())

        self.threshold_logits_ = _out_of_fold_threshold_logits(y, fold_logits, self.random_state)
        return self

    @property
    def labels_(self) -> list[str]:
        if not hasattr(self, "model_"):
            raise NotFittedError("LexicalTouchpointHead is not fitted: call fit() or load() first")
        return list(self.taxonomy_.names)

    def predict_scores(self, texts: Sequence[str], embeddings: np.ndarray | None = None,
                       zero_shot: ZeroShotTouchpoints | None = None) -> np.ndarray:
        """(n, T) scores in (0, 1) with 0.5 at each touchpoint's tuned threshold; ``embeddings`` unused."""
        texts = [str(t or "") for t in texts]
        if not texts:
            return np.zeros((0, len(self.labels_)))
        scores = _sigmoid(self.model_.decision_function(texts).astype(np.float64) - self.threshold_logits_)
        scores[_empty_rows(texts)] = 0.0
        return scores

    def predict(self, texts: Sequence[str], embeddings: np.ndarray | None = None,
                zero_shot: ZeroShotTouchpoints | None = None) -> list[list[str]]:
        return decide(self.predict_scores(texts), self.labels_)

    def save(self, directory: Path | str) -> None:
        """``lexical/`` under ``directory``: the TF-IDF model's files and ``touchpoints.json``."""
        folder = Path(directory) / self.FOLDER
        self.model_.save(folder)
        meta = {"taxonomy": self.taxonomy_.model_dump(by_alias=True), "C": self.C,
                "random_state": self.random_state,
                "threshold_logits": [round(float(t), 5) for t in self.threshold_logits_]}
        (folder / self.META_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path | str) -> Self:
        from vocmine.models.heads import TfidfLogisticHead
        from vocmine.nlp.taxonomy import parse_taxonomy

        folder = Path(directory) / cls.FOLDER
        meta_path = folder / cls.META_FILE
        if not meta_path.is_file():
            raise ModelNotFoundError(f"no lexical touchpoint head in {folder} (train one: vocmine train touchpoints "
                                     "--finetune)")
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        taxonomy = parse_taxonomy(meta["taxonomy"], source=str(meta_path))
        head = cls(taxonomy, C=meta["C"], random_state=meta["random_state"])
        head.taxonomy_, head.model_ = taxonomy, TfidfLogisticHead.load(folder)
        head.threshold_logits_ = np.asarray(meta["threshold_logits"], dtype=np.float64)
        if head.model_.labels_ != list(taxonomy.names):
            raise VocmineError(f"lexical head in {folder} has labels {head.model_.labels_}, "
                               f"its taxonomy {taxonomy.names}")
        return head


class FineTunedTouchpointHead:
    """Supervised multi-label head on e5 itself, tuned with LoRA adapters (:mod:`vocmine.models.finetune`).

    Frozen vectors plus a logistic regression stop at about 0.78 entity micro-F1 on SemEval-2016; letting
    the top of the encoder learn the taxonomy is what goes past it. It reads the texts (one more encoder
    pass), not the shared vectors. Thresholds are tuned per touchpoint on held-out TRAIN rows and shifted so
    that 0.5 is each decision line, as in :class:`TouchpointHead`.
    """

    zero_shot_features = False
    FOLDER = "e5_lora"

    def __init__(self, classifier: Any, taxonomy: Taxonomy, threshold_logits: np.ndarray,
                 trained_on: dict[str, Any] | None = None) -> None:
        if list(classifier.labels) != list(taxonomy.names):
            raise VocmineError(f"fine-tuned labels {classifier.labels} differ from the taxonomy's {taxonomy.names}")
        self.classifier = classifier
        self.taxonomy_ = taxonomy
        self.labels_ = list(taxonomy.names)
        self.threshold_logits_ = np.asarray(threshold_logits, dtype=np.float64)
        self.trained_on_ = trained_on

    def predict_scores(self, texts: Sequence[str], embeddings: np.ndarray | None = None,
                       zero_shot: ZeroShotTouchpoints | None = None) -> np.ndarray:
        """(n, T) scores in (0, 1) with 0.5 at each touchpoint's tuned threshold; ``embeddings`` unused."""
        texts = [str(t or "") for t in texts]
        scores = _sigmoid(self.classifier.logits(texts).astype(np.float64) - self.threshold_logits_)
        scores[_empty_rows(texts)] = 0.0
        return scores

    def predict(self, texts: Sequence[str], embeddings: np.ndarray | None = None,
                zero_shot: ZeroShotTouchpoints | None = None) -> list[list[str]]:
        return decide(self.predict_scores(texts, embeddings), self.labels_)

    def save(self, directory: Path | str, folder: str = FOLDER) -> None:
        """``folder`` (``e5_lora/``) under ``directory``: adapters, head and ``finetune.json`` with taxonomy and
        thresholds."""
        self.classifier.save(Path(directory) / folder, {
            "taxonomy": self.taxonomy_.model_dump(by_alias=True),
            "threshold_logits": [round(float(t), 5) for t in self.threshold_logits_],
            "trained_on": self.trained_on_,
        })

    @classmethod
    def exists(cls, directory: Path | str, folder: str = FOLDER) -> bool:
        return (Path(directory) / folder / "finetune.json").is_file()

    @classmethod
    def load(cls, directory: Path | str, folder: str = FOLDER) -> Self:
        from vocmine.models.finetune import CONFIG_FILE, FineTunedClassifier
        from vocmine.nlp.taxonomy import parse_taxonomy

        folder = Path(directory) / folder
        if not (folder / CONFIG_FILE).is_file():
            raise ModelNotFoundError(f"no fine-tuned touchpoint head in {folder} "
                                     "(train one: vocmine train touchpoints --finetune)")
        meta = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
        taxonomy = parse_taxonomy(meta["taxonomy"], source=str(folder / CONFIG_FILE))
        return cls(FineTunedClassifier.load(folder), taxonomy, np.asarray(meta["threshold_logits"]),
                   meta.get("trained_on"))


#: A blend member: its part name (a fine-tuned head's folder, ``linear`` or ``lexical``), the head, its weight.
BlendMember = tuple[str, Any, float]


class BlendedTouchpointHead:
    """A weighted average of touchpoint heads that all put 0.5 at their own tuned thresholds, so the
    average is decided at 0.5 too.

    The members err differently: fine-tuned e5 heads (each an adapter set in a folder such as
    ``e5_lora/``; two trained with different recipes average out each other's noise), the linear head (it
    also reads the zero-shot scores and the shared vectors) and the lexical head (surface words). The
    weights are tuned on held-out SemEval-2016 train rows (``train_touchpoints.blend_heads``) and kept in
    ``blend.json`` next to the fine-tuned folders; docs/touchpoints.md has the figures.
    """

    FILE = "blend.json"

    def __init__(self, members: Sequence[BlendMember], tuning: dict[str, Any] | None = None) -> None:
        members = [(part, head, float(weight)) for part, head, weight in members if weight > 0]
        if not members:
            raise VocmineError("a blended touchpoint head needs at least one member with a positive weight")
        labels = list(members[0][1].labels_)
        for part, head, _ in members:
            if list(head.labels_) != labels:
                raise VocmineError(f"blended heads disagree on touchpoints: {part} has {head.labels_}, not {labels}")
        self.members = members
        self.taxonomy_, self.labels_ = members[0][1].taxonomy_, labels
        self.zero_shot_features = any(head.zero_shot_features for _, head, _ in members)
        self.tuning = tuning or {}

    @property
    def weights(self) -> dict[str, float]:
        return {part: weight for part, _, weight in self.members}

    def member(self, part: str) -> Any:
        """The head of one member (e.g. ``"e5_lora"``), to score it alone."""
        for name, head, _ in self.members:
            if name == part:
                return head
        raise KeyError(f"no blend member {part!r}; the members are {list(self.weights)}")

    def member_scores(self, texts: Sequence[str], embeddings: np.ndarray | None = None,
                      zero_shot: ZeroShotTouchpoints | None = None) -> dict[str, np.ndarray]:
        """Each member's (n, T) scores, by part."""
        return {part: head.predict_scores(texts, embeddings, zero_shot) for part, head, _ in self.members}

    def combine(self, member_scores: dict[str, np.ndarray]) -> np.ndarray:
        """The weighted average of :meth:`member_scores`."""
        total = sum(self.weights.values())
        return sum(weight * member_scores[part] for part, _, weight in self.members) / total

    def predict_scores(self, texts: Sequence[str], embeddings: np.ndarray | None = None,
                       zero_shot: ZeroShotTouchpoints | None = None) -> np.ndarray:
        return self.combine(self.member_scores(texts, embeddings, zero_shot))

    def predict(self, texts: Sequence[str], embeddings: np.ndarray | None = None,
                zero_shot: ZeroShotTouchpoints | None = None) -> list[list[str]]:
        return decide(self.predict_scores(texts, embeddings, zero_shot), self.labels_)

    def save(self, directory: Path | str, linear_dir: str = ".", linear_name: str = "head") -> None:
        """``blend.json`` in ``directory``, which holds the fine-tuned and lexical members' folders (each saved
        by its own ``save``); the linear head is ``<linear_dir>/<linear_name>.json``, relative to it."""
        meta = {"members": self.weights, "linear_dir": linear_dir, "linear_name": linear_name,
                "tuning": self.tuning}
        (Path(directory) / self.FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")

    @classmethod
    def exists(cls, directory: Path | str) -> bool:
        return (Path(directory) / cls.FILE).is_file()

    @classmethod
    def load(cls, directory: Path | str) -> Self:
        directory = Path(directory)
        if not cls.exists(directory):
            raise ModelNotFoundError(f"no blended touchpoint head in {directory} (expected {cls.FILE})")
        meta = json.loads((directory / cls.FILE).read_text(encoding="utf-8"))
        # Blends written before the lexical member: one fine-tuned head and the linear head.
        weights = meta.get("members") or {FineTunedTouchpointHead.FOLDER: meta["weight"], "linear": 1 - meta["weight"]}
        members = []
        for part, weight in weights.items():
            if weight <= 0:
                continue  # not read at all: a zero-weight fine-tuned member would cost an encoder
            if part == "linear":
                head = TouchpointHead.load(directory / meta["linear_dir"], name=meta["linear_name"])
            elif part == LexicalTouchpointHead.FOLDER:
                head = LexicalTouchpointHead.load(directory)
            else:
                head = FineTunedTouchpointHead.load(directory, folder=part)
            members.append((part, head, weight))
        return cls(members, meta.get("tuning"))


def _label_matrix(taxonomy: Taxonomy, labels: Sequence[Sequence[str]]) -> np.ndarray:
    """(n, T) 0/1 matrix of each sentence's touchpoints; a label outside the taxonomy is an error."""
    names = taxonomy.names
    unknown = {lab for labs in labels for lab in labs} - set(names)
    if unknown:
        raise VocmineError(
            f"labels not in taxonomy {taxonomy.name!r}: {', '.join(sorted(unknown))}; it has {', '.join(names)}"
        )
    return np.asarray([[name in labs for name in names] for labs in labels], dtype=int)


def _out_of_fold_threshold_logits(y: np.ndarray, fold_logits: Any, random_state: int) -> np.ndarray:
    """Per-touchpoint logit thresholds tuned on out-of-fold logits of a head's training rows;
    ``fold_logits(train_idx, test_idx)`` fits the head's recipe on one part and scores the other. Below
    :data:`MIN_TUNING_SENTENCES` rows every threshold stays at 0."""
    from sklearn.model_selection import KFold

    if len(y) < MIN_TUNING_SENTENCES:
        return np.zeros(y.shape[1], dtype=np.float64)
    folds = KFold(n_splits=min(5, len(y) // 4), shuffle=True, random_state=random_state)
    oof = np.zeros(y.shape, dtype=np.float64)
    for train_idx, test_idx in folds.split(y):
        oof[test_idx] = fold_logits(train_idx, test_idx)
    return tune_threshold_logits(oof, y)


def tune_threshold_logits(logits: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per label, the logit cut with the best F1 on held-out rows (:func:`_best_threshold`)."""
    return np.asarray([_best_threshold(logits[:, j], y[:, j]) for j in range(y.shape[1])])


def _best_threshold(logits: np.ndarray, y: np.ndarray) -> float:
    """The logit cut that maximises F1 of one label on out-of-fold predictions."""
    positives = y.sum()
    if positives == 0:
        return 0.0
    candidates = np.unique(np.quantile(logits, np.linspace(0.02, 0.98, 97)))
    best, best_f1 = 0.0, -1.0
    for cut in candidates:
        pred = logits >= cut
        tp = float((pred & (y == 1)).sum())
        f1 = 2 * tp / (pred.sum() + positives) if (pred.sum() + positives) else 0.0
        if f1 > best_f1 + 1e-9:
            best, best_f1 = float(cut), f1
    return best


def _load_fine_tuned(directory: Path | str) -> FineTunedTouchpointHead | BlendedTouchpointHead:
    """The blend when ``directory`` has one, else the fine-tuned head alone."""
    if BlendedTouchpointHead.exists(directory):
        return BlendedTouchpointHead.load(directory)
    return FineTunedTouchpointHead.load(directory)


def shipped_head_dir(taxonomy_name: str) -> Path | None:
    """The folder of the head shipped for a built-in taxonomy, if one ships."""
    return SHIPPED_HEADS if (SHIPPED_HEADS / f"{taxonomy_name}.json").exists() else None


@dataclass(slots=True)
class _Resolved:
    zero_shot: ZeroShotTouchpoints
    head: TouchpointHead | FineTunedTouchpointHead | BlendedTouchpointHead | None


@register("annotator", "vocmine.touchpoint.v1")
class TouchpointAnnotator:
    """The ``touchpoint`` step: a label (';'-joined touchpoints, "other" when none) and a score per touchpoint.

    ``head``: "auto" uses the head shipped for a built-in taxonomy when there is one (restaurant), else
    zero-shot; a folder path loads a trained head (``vocmine train touchpoints --out DIR``); ``None``
    forces zero-shot. ``embedder_model`` embeds the taxonomy's prototypes (default: the e5 embedder the
    sentence vectors come from); sentence vectors themselves are passed in to ``annotate``.
    """

    task = "touchpoint"
    name = "vocmine.touchpoint.v1"
    embedder = "vocmine.e5_small.v1"
    requires = ("text", "embedding")
    assigns = ("touchpoint",)

    def __init__(
        self,
        taxonomy: str | Path | Taxonomy = "retail",
        head: str | Path | None = "auto",
        embedder_model: Embedder | None = None,
    ) -> None:
        self.taxonomy = load_taxonomy(taxonomy)
        self.head = head
        self.embedder_model = embedder_model
        self._resolved: _Resolved | None = None

    def _resolve(self) -> _Resolved:
        if self._resolved is None:
            zero_shot = ZeroShotTouchpoints(self.taxonomy, embedder=self.embedder_model).fit()
            head = None
            if self.head == "auto":
                folder = shipped_head_dir(self.taxonomy.name)
                if FineTunedTouchpointHead.exists(SHIPPED_HEADS / self.taxonomy.name):
                    candidate = _load_fine_tuned(SHIPPED_HEADS / self.taxonomy.name)
                    if candidate.taxonomy_.names == self.taxonomy.names:
                        head = candidate
                if head is None and folder is not None:
                    candidate = TouchpointHead.load(folder, name=self.taxonomy.name)
                    if candidate.taxonomy_.names == self.taxonomy.names:
                        head = candidate
            elif self.head is not None:
                head = (_load_fine_tuned(self.head) if FineTunedTouchpointHead.exists(self.head)
                        else TouchpointHead.load(self.head))
                if head.taxonomy_.names != self.taxonomy.names:
                    raise VocmineError(
                        f"head in {self.head} was trained for touchpoints {head.taxonomy_.names}, "
                        f"not {self.taxonomy.names}"
                    )
            if head is not None and head.zero_shot_features:
                # The head's zero-shot features must come from the taxonomy it was trained with.
                zero_shot = ZeroShotTouchpoints(head.taxonomy_, embedder=self.embedder_model).fit()
            self._resolved = _Resolved(zero_shot, head)
        return self._resolved

    def predict_scores(self, texts: Sequence[str], embeddings: np.ndarray) -> np.ndarray:
        resolved = self._resolve()
        if resolved.head is not None:
            return resolved.head.predict_scores(texts, embeddings, resolved.zero_shot)
        return resolved.zero_shot.predict_scores(texts, embeddings)

    def annotate(
        self,
        texts: Sequence[str],
        embeddings: np.ndarray,
        languages: Sequence[str | None],
        given: Sequence[str | None] | None = None,
    ) -> list[Annotation]:
        """One Annotation per text; a non-empty ``given`` touchpoint (from the export) wins over the model.

        Texts in languages the classifiers do not model are skipped with a reason, like every other task's
        (the taxonomies and their thresholds are written and measured in es/en); texts whose language could
        not be told are scored, and blank ones score 0 ("other")."""
        texts = list(texts)
        if len(languages) != len(texts) or len(embeddings) != len(texts):
            raise ValueError(f"{len(texts)} texts, {len(embeddings)} embeddings, {len(languages)} languages")
        results = [Annotation(None, {}, language_skip_reason(lang, label_undetermined=True)) for lang in languages]
        kept = [i for i, result in enumerate(results) if result.skip_reason is None]
        if kept:
            scores = self.predict_scores([texts[i] for i in kept], np.asarray(embeddings)[kept])
            names = self.taxonomy.names
            for i, row, chosen in zip(kept, scores, decide(scores, names), strict=True):
                scored = {n: round(float(s), 4) for n, s in zip(names, row, strict=True)}
                results[i] = Annotation(join_labels(chosen), scored)
        if given is not None:
            labels = apply_given(given, [r.label for r in results], self.taxonomy)
            results = [r if label == r.label else Annotation(label, r.scores, None)
                       for label, r in zip(labels, results, strict=True)]
        return results


def _given_value(value: str | None) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    value = str(value).strip()
    return value or None


def apply_given(
    given: Sequence[str | None], predicted: Sequence[str], taxonomy: Taxonomy | None = None
) -> list[str]:
    """Issue item 4: where the export already names the touchpoint, it wins over the model.

    Given names are mapped onto the taxonomy's spelling case-insensitively; a given value that is not in
    the taxonomy is kept as written (the analyst's own stage names are data, not errors).
    """
    if len(given) != len(predicted):
        raise VocmineError(f"given has {len(given)} values but there are {len(predicted)} predictions")
    out = []
    for value, prediction in zip(given, predicted, strict=True):
        value = _given_value(value)
        if value is None:
            out.append(prediction)
            continue
        parts = [p.strip() for p in value.split(";") if p.strip()]
        if taxonomy is not None:
            parts = [taxonomy.canonical(p) or p for p in parts]
        out.append(";".join(parts))
    return out


def agreement_with_given(given: Sequence[str | None], predicted: Sequence[str]) -> dict[str, Any]:
    """How far the model agrees with the touchpoints an export already gives (rows with a given value only).

    Returns ``n`` (rows compared), ``hit_rate`` (share where every given touchpoint is among the predicted
    ones), ``exact`` (same set), ``jaccard`` (mean set overlap), ``top_agrees`` (share where the model's
    best touchpoint is a given one) and ``per_touchpoint``: given name -> {n, hit_rate}. Names compare
    case-insensitively; "other" compares as the empty set.
    """
    if len(given) != len(predicted):
        raise VocmineError(f"given has {len(given)} values but there are {len(predicted)} predictions")
    n = hits = exact = top = 0
    jaccard = 0.0
    per: dict[str, list[int]] = {}
    for value, prediction in zip(given, predicted, strict=True):
        value = _given_value(value)
        if value is None:
            continue
        want = {p.lower() for p in split_labels(value)}
        got_list = [p.lower() for p in split_labels(prediction)]
        got = set(got_list)
        n += 1
        hit = want <= got if want else not got
        hits += hit
        exact += want == got
        union = want | got
        jaccard += len(want & got) / len(union) if union else 1.0
        top += (got_list[0] in want) if got_list else (not want)
        for name in want or {OTHER}:
            counts = per.setdefault(name, [0, 0])
            counts[0] += 1
            counts[1] += name in got if name != OTHER else not got
    if n == 0:
        return {"n": 0, "hit_rate": None, "exact": None, "jaccard": None, "top_agrees": None, "per_touchpoint": {}}
    return {
        "n": n,
        "hit_rate": hits / n,
        "exact": exact / n,
        "jaccard": jaccard / n,
        "top_agrees": top / n,
        "per_touchpoint": {k: {"n": v[0], "hit_rate": v[1] / v[0]} for k, v in sorted(per.items())},
    }


def assign_touchpoints(
    texts: Sequence[str],
    taxonomy: str | Path | Taxonomy = "retail",
    head: str | Path | None = "auto",
    embedder: Embedder | None = None,
) -> pd.DataFrame:
    """Python API / ``vocmine classify``: one row per text with ``text``, ``touchpoints`` (';'-joined,
    "other" when none) and a ``score_<touchpoint>`` column per touchpoint."""
    texts = [str(t) if t is not None else "" for t in texts]
    embedder = embedder or _default_embedder()
    embeddings = _as_mode(embedder, "query").encode(texts) if texts else np.zeros((0, 384), np.float32)
    annotator = TouchpointAnnotator(taxonomy, head=head, embedder_model=embedder)
    annotations = annotator.annotate(texts, embeddings, [None] * len(texts))
    names = annotator.taxonomy.names
    frame = pd.DataFrame({"text": texts, "touchpoints": [a.label for a in annotations]})
    for name in names:
        frame[f"score_{name}"] = [a.scores.get(name, 0.0) for a in annotations]
    return frame
