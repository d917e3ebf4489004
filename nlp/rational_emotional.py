"""Rational vs emotional component of a sentence (SPEC: "the distinction the CX literature insists on").

rational = about attributes of the product or service (price, speed, availability, correctness, quality);
emotional = about how the customer felt or was treated (ignored, delighted, anxious, rude staff). The
decision rules are in ``models/data/component/GUIDELINE.md``; the shipped model is a calibrated logistic
head over the e5 sentence vectors the pipeline already computes plus a few guideline cue words, trained
on the hand-labelled sentences in ``models/data/component`` (``vocmine train component``). Figures:
``models/weights/component/README.md``. The accurate variant ``vocmine.component.ft`` blends that head
with an e5 fine-tuned for the task (:mod:`vocmine.models.component_ft`; one more encoder pass per
sentence).

Only Spanish and English are modelled; any other language is skipped with a reason, never guessed.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from vocmine.nlp.language import skip_reason
from vocmine.protocols import Annotation
from vocmine.registry import register

logger = logging.getLogger(__name__)

NAME = "vocmine.component.v1"
FT_NAME = "vocmine.component.ft"
EMBEDDER = "vocmine.e5_small.v1"
WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "models" / "weights" / "component"

#: Cue groups written from GUIDELINE.md's rules (feelings, treatment by people, staff, and the attribute
#: families of the rational side), matched on lower-cased, accent-stripped text. They give the linear head
#: the guideline's distinctions that e5 vectors blur with 300 examples per language: in 5-fold CV on the
#: TRAIN split, e5 alone 0.74 macro-F1, e5 + cues 0.82 (weight and C chosen there, not on test).
CUES: dict[str, str] = {
    "feel": r"\b(feel|felt|feeling|senti|sentimos|siento|sentir|sensacion)",
    "affect_neg": r"(decepcion|disappoint|arrepient|regret|angry|enojad|furious|furios|molest|frustrat|harto|"
                  r"tired of|hate|odio|verguenza|disgrace|shame|asco|miedo|scared|nightmare|pesadilla|"
                  r"never again|nunca mas|worst experience|peor experiencia|exhausting|agobiante)",
    "affect_pos": r"(encant|enjoy|disfrut|loved|feliz|happy|delight|placer|a gusto|relax|grata|"
                  r"agradable experiencia|unforgettable|inolvidable|never want to leave|como en casa|"
                  r"feel like home|surpris|asombr|thank|gracias|agradec|appreciate)",
    "treatment": r"(rude|grosero|grosera|maleducad|friendly|amable|simpatic|kind|cordial|attentive|atent|ignor|"
                 r"trato|treat|atencion|attention|attitude|actitud|respect|respeto|smile|sonri|welcom|bienvenid|"
                 r"acogid|care|preocupan|above and beyond|de mala gana|mimad|spoil|patient|pacient|helpful|"
                 r"unhelpful|insult|lied|mentir|engan)",
    "staff": r"(staff|personal|emplead|camarer|meser|waiter|waitress|barista|recepcion|reception|manager|"
             r"gerente|employee|agent|lady|guy|chica|senor|crew|trabajador)",
    "price": r"(price|precio|caro|expensive|cheap|barat|overpriced|cost|cuest|\$|€|euro|pesos|value|"
             r"calidad-precio|pagar|pay|cobr|charge|fee)",
    "speed": r"(slow|lent|wait|esper|fila|line|queue|tard|minut|hour|hora|delay|retras|quick|rapid|fast)",
    "attribute": r"(clean|limpi|dirty|sucio|food|comida|sabor|taste|tasty|rico|delicious|delicios|cold|frio|hot|"
                 r"room|habitacion|bed|cama|location|ubicacion|wifi|broken|roto|noise|ruido|view|vista|menu|"
                 r"coffee|cafe|drink|bebida|plato|dish|portion|porcion|bathroom|bano|seat|asiento|parking|pool|"
                 r"alberca|breakfast|desayuno)",
}
_CUE_PATTERNS = [re.compile(pattern) for pattern in CUES.values()]
#: Scale of the 0/1 cue columns next to the unit-length e5 vector (5-fold CV on the train split).
CUE_WEIGHT = 0.2


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", str(text).lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def cue_features(texts: Sequence[str]) -> np.ndarray:
    """(n, len(CUES)) 0/1 matrix: which guideline cue groups each text mentions."""
    folded = [_fold(t) for t in texts]
    return np.array([[1.0 if p.search(t) else 0.0 for p in _CUE_PATTERNS] for t in folded], dtype=np.float32)


def component_features(texts: Sequence[str], embeddings: np.ndarray, cue_weight: float = CUE_WEIGHT) -> np.ndarray:
    """What the component head reads: the e5 vector followed by the cue columns times ``cue_weight`` (the
    shipped :data:`CUE_WEIGHT`; cross-validation tries others)."""
    embeddings = np.asarray(embeddings, dtype=np.float32).reshape(len(texts), -1)
    return np.hstack([embeddings, cue_weight * cue_features(texts)])


@lru_cache(maxsize=4)
def _load_head(directory: str):  # noqa: ANN202 - EmbeddingLogisticHead or FineTunedComponentModel
    """Weights are read once per process and folder (every batch of every run shares them): the shipped
    head, or the fine-tuned variant when the folder holds one."""
    from vocmine.models.component_ft import FineTunedComponentModel
    from vocmine.models.heads import EmbeddingLogisticHead

    if FineTunedComponentModel.exists(directory):
        return FineTunedComponentModel.load(directory)
    return EmbeddingLogisticHead.load(Path(directory))


def component_proba(model, texts: Sequence[str], embeddings: np.ndarray) -> np.ndarray:  # noqa: ANN001
    """(n, 2) probabilities in ``model.labels_`` order from the shipped head (which reads e5 + cue columns)
    or the fine-tuned variant (which also reads the texts through its own encoder)."""
    from vocmine.models.heads import EmbeddingLogisticHead

    texts = [str(t) for t in texts]
    if isinstance(model, EmbeddingLogisticHead):
        return model.predict_proba_embeddings(component_features(texts, embeddings))
    return model.predict_proba(texts, np.asarray(embeddings))


@register("annotator", NAME)
class ComponentAnnotator:
    """Labels sentences "rational" or "emotional" with both probabilities as scores.

    ``weights_dir`` defaults to the shipped weights; a missing folder raises ModelNotFoundError on the
    first call to :meth:`annotate` (construction stays cheap so config validation never loads models).
    """

    task = "component"
    name = NAME
    embedder = EMBEDDER

    def __init__(self, weights_dir: Path | str | None = None) -> None:
        self.weights_dir = Path(weights_dir) if weights_dir else WEIGHTS_DIR

    @property
    def labels(self) -> list[str]:
        return list(_load_head(str(self.weights_dir)).labels_)

    def predict_proba(self, texts: Sequence[str], embeddings: np.ndarray) -> np.ndarray:
        """Calibrated probabilities (n, 2), columns in :attr:`labels` order."""
        return component_proba(_load_head(str(self.weights_dir)), texts, embeddings)

    def annotate(
        self, texts: Sequence[str], embeddings: np.ndarray, languages: Sequence[str | None]
    ) -> list[Annotation]:
        if len(texts) != len(languages) or len(texts) != len(embeddings):
            raise ValueError(f"{len(texts)} texts, {len(embeddings)} embeddings, {len(languages)} languages")
        results: list[Annotation | None] = [None] * len(texts)
        modelled = []
        for i, (text, language) in enumerate(zip(texts, languages, strict=True)):
            reason = skip_reason(language, text)
            if reason is not None:
                results[i] = Annotation(None, {}, reason)
            else:
                modelled.append(i)
        if modelled:
            head = _load_head(str(self.weights_dir))
            proba = component_proba(head, [str(texts[i]) for i in modelled], np.asarray(embeddings)[modelled])
            for row, i in zip(proba, modelled, strict=True):
                scores = {label: float(p) for label, p in zip(head.labels_, row, strict=True)}
                results[i] = Annotation(head.labels_[int(np.argmax(row))], scores)
        return [r for r in results if r is not None]


@register("annotator", FT_NAME)
class FineTunedComponentAnnotator(ComponentAnnotator):
    """The accurate variant: the shipped head blended with e5 fine-tuned for the component (model card). It
    reads each sentence through its own encoder (one more pass) as well as the shared vector; choose it with
    ``component = "vocmine.component.ft"`` under ``[analysis.annotators]``."""

    name = FT_NAME

    def __init__(self, weights_dir: Path | str | None = None) -> None:
        from vocmine.models.component_ft import FT_WEIGHTS_DIR

        super().__init__(weights_dir or FT_WEIGHTS_DIR)


def is_e5_query_embedder(embedder: object) -> bool:
    """Whether ``embedder`` gives the vectors the component head was trained on (e5-small, "query:" mode,
    any backend)."""
    from vocmine.models.embedders import E5Embedder

    return isinstance(embedder, E5Embedder) and embedder.mode == "query"


def predict_component(
    texts: Sequence[str] | pd.Series | str,
    languages: Sequence[str | None] | None = None,
    embedder=None,  # noqa: ANN001 - any vocmine.protocols.Embedder
    weights_dir: Path | str | None = None,
) -> pd.DataFrame:
    """Rational vs emotional of raw texts: one row per text with ``component``, ``p_emotional``,
    ``p_rational`` and ``skip_reason``, indexed like ``texts`` when it is a Series. Languages as ``vocmine
    classify`` reads them (:func:`~vocmine.nlp.language.resolve_languages`). ``embedder`` lets a caller pass
    the e5 embedder it already has loaded; any other model's vectors would give wrong labels, so it is
    refused."""
    from vocmine.errors import ConfigError
    from vocmine.models.embedders import resolve_embedder
    from vocmine.nlp.language import resolve_languages, texts_from

    index = texts.index if isinstance(texts, pd.Series) else None
    texts = texts_from(texts)
    languages = resolve_languages(texts, languages)
    if embedder is None:
        embedder = resolve_embedder(EMBEDDER)
    elif not is_e5_query_embedder(embedder):
        raise ConfigError(f"the component head reads multilingual-e5-small 'query:' vectors; embedder "
                          f"{getattr(embedder, 'name', embedder)!r} would give wrong labels (omit embedder=)")
    annotator = ComponentAnnotator(weights_dir)
    embeddings = embedder.encode(texts) if texts else np.zeros((0, 384), np.float32)
    results = annotator.annotate(texts, embeddings, languages)
    return pd.DataFrame(
        {
            "text": texts,
            "language": languages,
            "component": [r.label for r in results],
            "p_emotional": [r.scores.get("emotional", np.nan) for r in results],
            "p_rational": [r.scores.get("rational", np.nan) for r in results],
            "skip_reason": [r.skip_reason for r in results],
        },
        index=index,
    )
