"""Classifier heads: small trainable models over text, saved as plain files that ship in the package.

Two heads meet :class:`vocmine.protocols.TextClassifier`:

- :class:`EmbeddingLogisticHead` (``vocmine.e5_logreg.v1``): logistic regression over frozen sentence
  embeddings, with temperature scaling fitted on a held-out part of the training data. The pipeline
  embeds every sentence once and shares the vectors between tasks, so the head also takes precomputed
  vectors (:meth:`~EmbeddingLogisticHead.fit_embeddings`, :meth:`~EmbeddingLogisticHead.predict_proba_embeddings`).
- :class:`TfidfLogisticHead` (``vocmine.tfidf_lr.v1``): word 1-2 grams + character 2-5 grams and
  logistic regression: the baseline every shipped model must beat, and a cheap ensemble member.

Both follow scikit-learn's conventions: ``__init__`` only stores parameters, ``fit`` validates and
returns ``self``, learned state ends in ``_``, ``random_state`` is kept as given. Weights are JSON (what
a human wants to read: parameters, labels, embedder, training data, calibration) plus safetensors
(arrays), never pickles, so loading a model never runs code. A missing weights folder raises
:class:`~vocmine.errors.ModelNotFoundError` naming the command that recreates it: nothing is downloaded.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np
from safetensors.numpy import load_file, save_file
from scipy.optimize import minimize_scalar
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from vocmine.errors import ModelNotFoundError, NotFittedError, VocmineError
from vocmine.models.metrics import expected_calibration_error
from vocmine.protocols import Embedder
from vocmine.registry import register

logger = logging.getLogger(__name__)

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "weights.safetensors"
FORMAT_VERSION = 1


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, stable for large logits."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise log of :func:`softmax`, computed without the round trip through probabilities."""
    shifted = np.asarray(logits, np.float64) - np.max(logits, axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _check_fitted(model: Any, attribute: str = "labels_") -> None:
    if not hasattr(model, attribute):
        raise NotFittedError(f"this {type(model).__name__} is not fitted yet: call fit() first")


def task_of_weights(directory: Path) -> str:
    """The task a weights folder belongs to: the folder right under ``weights/`` (``weights/sentiment/e5``
    -> "sentiment"), else the folder's own name. Used to name the command that recreates it."""
    parts = Path(directory).parts
    if "weights" in parts:
        index = len(parts) - 1 - parts[::-1].index("weights")
        if index + 1 < len(parts):
            return parts[index + 1]
    return Path(directory).name


def _require_weights(directory: Path) -> Path:
    """The weights folder, or ModelNotFoundError with the command that recreates it."""
    directory = Path(directory)
    if not (directory / CONFIG_FILE).is_file() or not (directory / WEIGHTS_FILE).is_file():
        raise ModelNotFoundError(
            f"no trained weights in {directory} (expected {CONFIG_FILE} and {WEIGHTS_FILE}); recreate them "
            f"with `vocmine train {task_of_weights(directory)}` (vocmine never downloads models)"
        )
    return directory


def _read_config(directory: Path, expected_kind: str) -> dict[str, Any]:
    config = json.loads((directory / CONFIG_FILE).read_text(encoding="utf-8"))
    if config.get("kind") != expected_kind:
        raise VocmineError(f"{directory} holds a {config.get('kind')!r} model, not {expected_kind!r}")
    return config


def _lr_logits(features: Any, coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
    return np.asarray(features @ coef.T) + intercept


def _full_coef(model: LogisticRegression) -> tuple[np.ndarray, np.ndarray]:
    """(k, d) coefficients and (k,) intercepts, also for a binary model (whose sklearn coef is (1, d)):
    softmax over [0, z] equals sklearn's sigmoid(z), so every head scores with one formula."""
    coef = np.asarray(model.coef_, dtype=np.float32)
    intercept = np.asarray(model.intercept_, dtype=np.float32)
    if coef.shape[0] == 1:
        coef = np.vstack([np.zeros_like(coef), coef])
        intercept = np.concatenate([np.zeros(1, np.float32), intercept])
    return np.ascontiguousarray(coef), np.ascontiguousarray(intercept)


def _save_arrays(arrays: dict[str, np.ndarray], path: Path) -> None:
    """safetensors writes the raw buffer: a Fortran-ordered array (sklearn's coef_) would come back
    transposed, so every array is made C-contiguous first."""
    save_file({key: np.ascontiguousarray(value) for key, value in arrays.items()}, str(path))


def fit_temperature(logits: np.ndarray, y_index: np.ndarray) -> float:
    """The temperature T minimising the negative log-likelihood of softmax(logits / T) (Guo et al. 2017).

    One scalar: it fixes over- or under-confidence without changing any prediction's ranking.
    """

    def nll(log_t: float) -> float:
        proba = softmax(logits / np.exp(log_t))
        return float(-np.mean(np.log(proba[np.arange(len(y_index)), y_index] + 1e-12)))

    result = minimize_scalar(nll, bounds=(-3.0, 3.0), method="bounded")
    return float(np.exp(result.x))


class EmbeddingLogisticHead:
    """Logistic regression over frozen sentence embeddings, optionally temperature-calibrated.

    ``embedder`` is a registry name (``"vocmine.e5_small.v1"``) or an :class:`~vocmine.protocols.Embedder`;
    only its name is saved, and it is resolved on first use, not here. With ``calibrate``, a stratified
    ``calibration_fraction`` of the training rows is held out, the temperature is fitted on it, then the
    regression is refitted on all rows (the temperature carries over; more data for the weights matters
    more than the small mismatch). ``cache_path`` (training only) reuses vectors from the shared
    SQLite embedding cache (:mod:`vocmine.models.embedding_cache`).
    """

    kind = "vocmine.e5_logreg.v1"

    def __init__(
        self,
        embedder: str | Embedder = "vocmine.e5_small.v1",
        C: float = 1.0,
        class_weight: str | dict[str, float] | None = "balanced",
        calibrate: bool = True,
        calibration_fraction: float = 0.15,
        max_iter: int = 2000,
        random_state: int = 42,
        cache_path: Path | str | None = None,
        data_description: str = "",
    ) -> None:
        self.embedder = embedder
        self.C = C
        self.class_weight = class_weight
        self.calibrate = calibrate
        self.calibration_fraction = calibration_fraction
        self.max_iter = max_iter
        self.random_state = random_state
        self.cache_path = cache_path
        self.data_description = data_description

    # -- embedding -------------------------------------------------------------------------------
    @property
    def embedder_name(self) -> str:
        return self.embedder if isinstance(self.embedder, str) else str(getattr(self.embedder, "name", "custom"))

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        from vocmine.models.embedders import resolve_embedder

        if getattr(self, "_embedder_obj", None) is None:
            self._embedder_obj = resolve_embedder(self.embedder)
        if self.cache_path is not None:
            from vocmine.models.embedding_cache import embed_with_disk_cache

            return embed_with_disk_cache(list(texts), self._embedder_obj, self.cache_path)
        return self._embedder_obj.encode(list(texts))

    # -- training --------------------------------------------------------------------------------
    def _new_regression(self) -> LogisticRegression:
        return LogisticRegression(
            C=self.C, class_weight=self.class_weight, max_iter=self.max_iter, random_state=self.random_state
        )

    def fit(self, texts: Sequence[str], y: Sequence[Any]) -> Self:
        texts = list(texts)
        if len(texts) != len(y):
            raise ValueError(f"{len(texts)} texts but {len(y)} labels")
        return self.fit_embeddings(self._embed(texts), y)

    def fit_embeddings(self, X: np.ndarray, y: Sequence[Any], sample_weight: np.ndarray | None = None) -> Self:
        """Fit on precomputed embeddings (rows aligned with ``y``); ``sample_weight`` lets a caller keep one
        large corpus from drowning the others (it multiplies the class weights)."""
        X = np.asarray(X, dtype=np.float32)
        weights = np.ones(len(X)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        y_arr = np.asarray([str(label) for label in y])
        if X.ndim != 2 or X.shape[0] != len(y_arr):
            raise ValueError(f"X must be (n, d) with n = {len(y_arr)} labels, got {X.shape}")
        labels = sorted(set(y_arr.tolist()))
        if len(labels) < 2:
            raise ValueError(f"need at least two classes to fit, got {labels}")
        temperature = 1.0
        calibration: dict[str, float] = {}
        if self.calibrate:
            X_fit, X_cal, y_fit, y_cal, w_fit, _ = train_test_split(
                X, y_arr, weights, test_size=self.calibration_fraction, stratify=y_arr,
                random_state=self.random_state,
            )
            held = self._new_regression().fit(X_fit, y_fit, sample_weight=w_fit)
            coef, intercept = _full_coef(held)
            logits = _lr_logits(X_cal, coef, intercept)
            y_index = np.searchsorted(labels, y_cal)
            temperature = fit_temperature(logits, y_index)
            calibration = {
                "heldout_n": int(len(y_cal)),
                "heldout_ece_before": expected_calibration_error(y_cal, softmax(logits), labels),
                "heldout_ece_after": expected_calibration_error(y_cal, softmax(logits / temperature), labels),
            }
            logger.info("temperature %.3f; held-out ECE %s", temperature, calibration)
        model = self._new_regression().fit(X, y_arr, sample_weight=weights)
        self.labels_ = [str(c) for c in model.classes_]
        self.coef_, self.intercept_ = _full_coef(model)
        self.temperature_ = float(temperature)
        self.calibration_ = calibration
        self.n_features_in_ = int(X.shape[1])
        self.n_train_ = int(len(y_arr))
        return self

    # -- prediction ------------------------------------------------------------------------------
    def decision_function_embeddings(self, X: np.ndarray) -> np.ndarray:
        """Uncalibrated logits, (n, len(labels_))."""
        _check_fitted(self)
        X = np.asarray(X, dtype=np.float32)
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise ValueError(f"expected (n, {self.n_features_in_}) embeddings, got {X.shape}")
        return _lr_logits(X, self.coef_, self.intercept_)

    def predict_proba_embeddings(self, X: np.ndarray) -> np.ndarray:
        """Calibrated probabilities from precomputed embeddings, columns in ``labels_`` order."""
        return softmax(self.decision_function_embeddings(X) / self.temperature_)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        _check_fitted(self)
        texts = list(texts)
        if not texts:
            return np.zeros((0, len(self.labels_)), dtype=np.float32)
        return self.predict_proba_embeddings(self._embed(texts))

    def predict(self, texts: Sequence[str]) -> list[str]:
        proba = self.predict_proba(texts)
        return [self.labels_[i] for i in proba.argmax(axis=1)]

    # -- persistence -----------------------------------------------------------------------------
    def save(self, directory: Path | str) -> None:
        _check_fitted(self)
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        config = {
            "kind": self.kind,
            "format_version": FORMAT_VERSION,
            "labels": self.labels_,
            "embedder": self.embedder_name,
            "params": {
                "C": self.C,
                "class_weight": self.class_weight,
                "calibrate": self.calibrate,
                "calibration_fraction": self.calibration_fraction,
                "max_iter": self.max_iter,
                "random_state": self.random_state,
            },
            "temperature": self.temperature_,
            "calibration": self.calibration_,
            "n_features": self.n_features_in_,
            "n_train": self.n_train_,
            "training_data": self.data_description,
        }
        (directory / CONFIG_FILE).write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", "utf-8")
        _save_arrays({"coef": self.coef_, "intercept": self.intercept_}, directory / WEIGHTS_FILE)

    @classmethod
    def load(cls, directory: Path | str) -> Self:
        directory = _require_weights(Path(directory))
        config = _read_config(directory, cls.kind)
        arrays = load_file(str(directory / WEIGHTS_FILE))
        head = cls(embedder=config["embedder"], data_description=config.get("training_data", ""), **config["params"])
        head.labels_ = list(config["labels"])
        head.coef_ = arrays["coef"].astype(np.float32)
        head.intercept_ = arrays["intercept"].astype(np.float32)
        head.temperature_ = float(config["temperature"])
        head.calibration_ = dict(config.get("calibration", {}))
        head.n_features_in_ = int(config["n_features"])
        head.n_train_ = int(config.get("n_train", 0))
        return head


register("classifier", EmbeddingLogisticHead.kind)(EmbeddingLogisticHead)


def fit_capped(vectorizer: TfidfVectorizer, texts: list[str]) -> TfidfVectorizer:
    """Fit ``vectorizer`` on its ``max_features`` most frequent terms, ties broken alphabetically.

    scikit-learn cuts the vocabulary with numpy's default argsort, which is not stable (and picks SIMD
    implementations by the CPU's instruction set), so where the cut falls inside a tie (EmoEvent's word cut
    sits among 14,622 terms seen twice, sentiment's among 11,531 seen three times) the kept terms depend on
    the machine: on the same data, ``vocmine train emotion`` here kept 433 other words than the shipped
    model. Counting here and cutting with a stable sort keeps the same terms everywhere; the frequency
    criterion is scikit-learn's.
    """
    from sklearn.feature_extraction.text import CountVectorizer

    limit = vectorizer.max_features
    if limit is None:
        return vectorizer.fit(texts)
    shared = set(CountVectorizer().get_params()) - {"max_features", "vocabulary", "dtype"}
    counter = CountVectorizer(**{k: v for k, v in vectorizer.get_params().items() if k in shared})
    totals = np.asarray(counter.fit_transform(texts).sum(axis=0)).ravel()
    kept = np.sort(np.argsort(-totals, kind="stable")[:limit])  # feature names are in alphabetical order
    vectorizer.set_params(vocabulary=counter.get_feature_names_out()[kept].tolist(), max_features=None)
    return vectorizer.fit(texts)


class TfidfLogisticHead:
    """TF-IDF (word 1-2 grams + character 2-5 grams within word boundaries) and logistic regression.

    Character n-grams carry Spanish and English morphology and misspellings ("pésimo", "pesimo",
    "horrible!!") that a word vocabulary misses. ``max_features`` caps each vocabulary, which keeps the
    saved files to a few MB. Saved without pickles: vocabularies and idf weights in safetensors/JSON.
    """

    kind = "vocmine.tfidf_lr.v1"

    def __init__(
        self,
        C: float = 4.0,
        class_weight: str | dict[str, float] | None = "balanced",
        max_word_features: int = 30000,
        max_char_features: int = 60000,
        min_df: int = 2,
        max_iter: int = 500,
        random_state: int = 42,
        data_description: str = "",
        multi_label: bool = False,
    ) -> None:
        self.C = C
        self.class_weight = class_weight
        self.max_word_features = max_word_features
        self.max_char_features = max_char_features
        self.min_df = min_df
        self.max_iter = max_iter
        self.random_state = random_state
        self.data_description = data_description
        self.multi_label = multi_label

    def _vectorizers(self) -> tuple[TfidfVectorizer, TfidfVectorizer]:
        word = TfidfVectorizer(
            analyzer="word", ngram_range=(1, 2), lowercase=True, sublinear_tf=True,
            min_df=self.min_df, max_features=self.max_word_features, dtype=np.float32,
        )
        char = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 5), lowercase=True, sublinear_tf=True,
            min_df=self.min_df, max_features=self.max_char_features, dtype=np.float32,
        )
        return word, char

    def _features(self, texts: Sequence[str]) -> csr_matrix:
        return hstack([self.word_vectorizer_.transform(texts), self.char_vectorizer_.transform(texts)]).tocsr()

    def _fit_features(self, texts: list[str]) -> csr_matrix:
        """Fit both vocabularies on ``texts`` and return their features (the start of every fit)."""
        self.word_vectorizer_, self.char_vectorizer_ = (fit_capped(v, texts) for v in self._vectorizers())
        return self._features(texts)

    def fit(self, texts: Sequence[str], y: Sequence[Any], sample_weight: np.ndarray | None = None) -> Self:
        """Fit both vocabularies and the regression; ``sample_weight`` (one per text, on top of the class
        weights) lets a caller weigh corpora of very different sizes."""
        texts = [str(t) for t in texts]
        y_arr = np.asarray([str(label) for label in y])
        if len(texts) != len(y_arr):
            raise ValueError(f"{len(texts)} texts but {len(y_arr)} labels")
        if len(set(y_arr.tolist())) < 2:
            raise ValueError("need at least two classes to fit")
        model = LogisticRegression(
            C=self.C, class_weight=self.class_weight, max_iter=self.max_iter, random_state=self.random_state
        ).fit(self._fit_features(texts), y_arr, sample_weight=sample_weight)
        self.labels_ = [str(c) for c in model.classes_]
        self.coef_, self.intercept_ = _full_coef(model)
        self.multi_label = False
        return self

    def fit_one_vs_rest(self, texts: Sequence[str], indicators: np.ndarray, labels: Sequence[str]) -> Self:
        """Multi-label fit (a sentence about food *and* price): one binary logistic regression per label
        over the shared TF-IDF features. ``decision_function`` then gives each label's own logit, and
        ``predict_proba`` reads it with a sigmoid, not a softmax."""
        texts = [str(t) for t in texts]
        indicators = np.asarray(indicators, dtype=int)
        if indicators.shape != (len(texts), len(labels)):
            raise ValueError(f"indicators of shape {indicators.shape}, expected ({len(texts)}, {len(labels)})")
        features = self._fit_features(texts)
        coef = np.zeros((len(labels), features.shape[1]), dtype=np.float32)
        intercept = np.zeros(len(labels), dtype=np.float32)
        for j in range(len(labels)):
            column = indicators[:, j]
            if column.min() == column.max():  # never (or always) seen: a constant, far from the line
                intercept[j] = 8.0 if column.max() else -8.0
                continue
            model = LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=self.max_iter,
                                       random_state=self.random_state).fit(features, column)
            coef[j], intercept[j] = model.coef_[0], model.intercept_[0]
        self.labels_ = [str(label) for label in labels]
        self.coef_, self.intercept_ = coef, intercept
        self.multi_label = True
        return self

    def decision_function(self, texts: Sequence[str]) -> np.ndarray:
        _check_fitted(self)
        return _lr_logits(self._features([str(t) for t in texts]), self.coef_, self.intercept_)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        _check_fitted(self)
        if not texts:
            return np.zeros((0, len(self.labels_)), dtype=np.float32)
        logits = self.decision_function(texts)
        return 1.0 / (1.0 + np.exp(-logits)) if self.multi_label else softmax(logits)

    def predict(self, texts: Sequence[str]) -> list[str]:
        proba = self.predict_proba(texts)
        return [self.labels_[i] for i in proba.argmax(axis=1)]

    def save(self, directory: Path | str) -> None:
        _check_fitted(self)
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        vocabularies = {}
        arrays = {"coef": self.coef_, "intercept": self.intercept_}
        for part, vectorizer in (("word", self.word_vectorizer_), ("char", self.char_vectorizer_)):
            terms = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.get)
            vocabularies[part] = terms
            arrays[f"{part}_idf"] = vectorizer.idf_.astype(np.float32)
        config = {
            "kind": self.kind,
            "format_version": FORMAT_VERSION,
            "labels": self.labels_,
            "params": {
                "C": self.C,
                "class_weight": self.class_weight,
                "max_word_features": self.max_word_features,
                "max_char_features": self.max_char_features,
                "min_df": self.min_df,
                "max_iter": self.max_iter,
                "random_state": self.random_state,
                "multi_label": self.multi_label,
            },
            "training_data": self.data_description,
        }
        (directory / CONFIG_FILE).write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", "utf-8")
        (directory / "vocabulary.json").write_text(json.dumps(vocabularies, ensure_ascii=False), "utf-8")
        _save_arrays(arrays, directory / WEIGHTS_FILE)

    @classmethod
    def load(cls, directory: Path | str) -> Self:
        directory = _require_weights(Path(directory))
        config = _read_config(directory, cls.kind)
        arrays = load_file(str(directory / WEIGHTS_FILE))
        vocabularies = json.loads((directory / "vocabulary.json").read_text(encoding="utf-8"))
        head = cls(data_description=config.get("training_data", ""), **config["params"])
        word, char = head._vectorizers()
        for part, vectorizer in (("word", word), ("char", char)):
            vectorizer.vocabulary_ = {term: i for i, term in enumerate(vocabularies[part])}
            vectorizer.idf_ = arrays[f"{part}_idf"].astype(np.float64)
        head.word_vectorizer_, head.char_vectorizer_ = word, char
        head.labels_ = list(config["labels"])
        head.coef_ = arrays["coef"].astype(np.float32)
        head.intercept_ = arrays["intercept"].astype(np.float32)
        return head


register("classifier", TfidfLogisticHead.kind)(TfidfLogisticHead)


#: Subfolder of a :class:`BlendedHead` that holds its context member.
CONTEXT_MEMBER = "e5_context"


class BlendedHead:
    """A weighted blend of an embedding head and a TF-IDF head, in log-probability space.

    ``log p = weight * log p_embedding + (1 - weight) * log p_tfidf``, then a softmax with
    ``temperature``. The two members err differently (e5 knows paraphrases and Spanish/English alike;
    TF-IDF knows domain words, hashtags and emoticons, and is cheap to train on
    every row, while e5 vectors cost ~0.1 s each to compute here), so the blend beats both; ``weight``
    and ``temperature`` are chosen on held-out training rows (:func:`tune_blend`), never on test.
    Saved as its own config plus the members in ``e5/`` and ``tfidf/`` subfolders.

    An optional ``context_head`` (saved in ``e5_context/``) is a second embedding member over a sentence's
    own vector followed by its window vector (:mod:`vocmine.models.context`); it replaces the embedding
    member for the texts that have a neighbour in their answer, when the caller passes their context.
    Texts without one keep the embedding member, so whole reviews and one-sentence answers score as before.
    """

    kind = "vocmine.blend_e5_tfidf.v1"

    def __init__(
        self,
        embedding_head: EmbeddingLogisticHead | None = None,
        tfidf_head: TfidfLogisticHead | None = None,
        weight: float = 0.5,
        temperature: float = 1.0,
        data_description: str = "",
        context_head: EmbeddingLogisticHead | None = None,
    ) -> None:
        self.embedding_head = embedding_head
        self.tfidf_head = tfidf_head
        self.context_head = context_head
        self.weight = weight
        self.temperature = temperature
        self.data_description = data_description

    def _members(self) -> tuple[EmbeddingLogisticHead, TfidfLogisticHead]:
        embedding_head = self.embedding_head if self.embedding_head is not None else EmbeddingLogisticHead()
        tfidf_head = self.tfidf_head if self.tfidf_head is not None else TfidfLogisticHead()
        return embedding_head, tfidf_head

    def fit(
        self,
        texts: Sequence[str],
        y: Sequence[Any],
        embeddings: np.ndarray | None = None,
        tfidf_texts: Sequence[str] | None = None,
        tfidf_y: Sequence[Any] | None = None,
        sample_weight: np.ndarray | None = None,
        context: Any = None,
    ) -> Self:
        """Fit the members: the embedding head on ``texts``/``embeddings`` (with ``sample_weight``), the
        context head (when there is one) on the same rows with their ``context``
        (:class:`~vocmine.models.context.SentenceContext`), the TF-IDF head on ``tfidf_texts``/``tfidf_y``
        when given (it can afford more rows than the embedder), else on ``texts``."""
        from vocmine.models.context import with_context

        embedding_head, tfidf_head = self._members()
        if embeddings is None:
            embeddings = embedding_head._embed(list(texts))
        embedding_head.fit_embeddings(embeddings, y, sample_weight)
        self.context_head_ = None
        if self.context_head is not None:
            if context is None:
                raise ValueError("a blend with a context head needs the rows' context to fit")
            self.context_head_ = self.context_head.fit_embeddings(
                with_context(embeddings, context.vectors), y, sample_weight)
        if tfidf_texts is None:
            tfidf_texts, tfidf_y = texts, y
        tfidf_head.fit(tfidf_texts, tfidf_y if tfidf_y is not None else y)
        if embedding_head.labels_ != tfidf_head.labels_:
            raise ValueError(f"members disagree on labels: {embedding_head.labels_} vs {tfidf_head.labels_}")
        self.embedding_head_, self.tfidf_head_ = embedding_head, tfidf_head
        self.labels_ = list(embedding_head.labels_)
        return self

    @property
    def reads_context(self) -> bool:
        """Whether texts with a neighbour are scored differently when their context is passed."""
        return getattr(self, "context_head_", None) is not None

    def member_log_proba(
        self, texts: Sequence[str], embeddings: np.ndarray | None = None, context: Any = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(log p_embedding, log p_tfidf) for ``texts``; ``embeddings`` skips the embedder when given, and
        ``context`` (:class:`~vocmine.models.context.SentenceContext`) lets the context head score the texts
        that have a neighbour."""
        from vocmine.models.context import with_context

        _check_fitted(self)
        if embeddings is None:
            embeddings = self.embedding_head_._embed(list(texts))
        p_embedding = self.embedding_head_.predict_proba_embeddings(embeddings)
        if context is not None and self.reads_context and context.has_neighbour.any():
            rows = np.asarray(context.has_neighbour, dtype=bool)
            features = with_context(np.asarray(embeddings)[rows], context.vectors[rows])
            p_embedding[rows] = self.context_head_.predict_proba_embeddings(features)
        p_tfidf = self.tfidf_head_.predict_proba(texts)
        return np.log(p_embedding + 1e-9), np.log(p_tfidf + 1e-9)

    def predict_proba(self, texts: Sequence[str], embeddings: np.ndarray | None = None,
                      context: Any = None) -> np.ndarray:
        texts = list(texts)
        _check_fitted(self)
        if not texts:
            return np.zeros((0, len(self.labels_)), dtype=np.float32)
        log_embedding, log_tfidf = self.member_log_proba(texts, embeddings, context)
        return blend_proba(log_embedding, log_tfidf, self.weight, self.temperature)

    def predict(self, texts: Sequence[str], embeddings: np.ndarray | None = None) -> list[str]:
        proba = self.predict_proba(texts, embeddings)
        return [self.labels_[i] for i in proba.argmax(axis=1)]

    def save(self, directory: Path | str) -> None:
        _check_fitted(self)
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.embedding_head_.save(directory / "e5")
        self.tfidf_head_.save(directory / "tfidf")
        members = {"e5": self.embedding_head_.kind, "tfidf": self.tfidf_head_.kind}
        if self.reads_context:
            self.context_head_.save(directory / CONTEXT_MEMBER)
            members[CONTEXT_MEMBER] = self.context_head_.kind
        config = {
            "kind": self.kind,
            "format_version": FORMAT_VERSION,
            "labels": self.labels_,
            "weight": self.weight,
            "temperature": self.temperature,
            "members": members,
            "training_data": self.data_description,
        }
        (directory / CONFIG_FILE).write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", "utf-8")
        _save_arrays({"blend": np.array([self.weight, self.temperature], np.float32)}, directory / WEIGHTS_FILE)

    @classmethod
    def load(cls, directory: Path | str) -> Self:
        directory = _require_weights(Path(directory))
        config = _read_config(directory, cls.kind)
        embedding_head = EmbeddingLogisticHead.load(directory / "e5")
        tfidf_head = TfidfLogisticHead.load(directory / "tfidf")
        head = cls(
            embedding_head, tfidf_head, float(config["weight"]), float(config["temperature"]),
            config.get("training_data", ""),
        )
        head.embedding_head_, head.tfidf_head_ = embedding_head, tfidf_head
        head.context_head_ = (EmbeddingLogisticHead.load(directory / CONTEXT_MEMBER)
                              if CONTEXT_MEMBER in config["members"] else None)
        head.context_head = head.context_head_
        head.labels_ = list(config["labels"])
        return head


register("classifier", BlendedHead.kind)(BlendedHead)


def blend_proba(log_a: np.ndarray, log_b: np.ndarray, weight: float, temperature: float = 1.0) -> np.ndarray:
    """softmax((weight * log_a + (1 - weight) * log_b) / temperature)."""
    return softmax((weight * log_a + (1.0 - weight) * log_b) / temperature)


def tune_blend(
    log_a: np.ndarray,
    log_b: np.ndarray,
    y_index: np.ndarray,
    groups: Sequence[str] | None = None,
    grid: Sequence[float] = tuple(np.round(np.linspace(0.0, 1.0, 11), 2)),
) -> tuple[float, float]:
    """(weight, temperature) for :func:`blend_proba` from held-out rows.

    The weight maximises macro-F1 averaged over ``groups`` (one per data set, so a big corpus does not
    decide alone); the temperature then minimises the held-out log-loss of the blend.
    """
    from vocmine.models.metrics import mean_macro_f1_by_group

    group_arr = np.asarray(groups if groups is not None else ["all"] * len(y_index))
    best_weight, best_score = 0.5, -1.0
    for weight in grid:
        predicted = blend_proba(log_a, log_b, float(weight)).argmax(axis=1)
        score = mean_macro_f1_by_group(y_index, predicted, group_arr, list(range(log_a.shape[1])))
        if score > best_score + 1e-9:
            best_weight, best_score = float(weight), score
    temperature = fit_temperature(best_weight * log_a + (1.0 - best_weight) * log_b, y_index)
    logger.info(
        "blend weight %.2f (held-out mean macro-F1 %.3f), temperature %.3f", best_weight, best_score, temperature
    )
    return best_weight, temperature
