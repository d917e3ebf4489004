"""Train and evaluate touchpoint assignment (``vocmine train touchpoints`` / ``vocmine evaluate touchpoints``).

Evaluation data: SemEval-2016 Task 5 restaurants, slot 1, official test sets (English
EN_REST_SB1_TEST.xml.gold, Spanish es_rest16_test_gold.xml), scored at the ENTITY level:

- each sentence's gold is the set of ENTITY parts of its opinions' categories; sentences with no
  opinion, and OutOfScope sentences (which carry none), are kept and have the empty set ("no entity");
- a prediction is the set of SemEval entities that the predicted touchpoints map to
  (:data:`SEMEVAL_ENTITY_OF`, :func:`touchpoints_to_entities`);
- micro-F1 = 2·TP / (2·TP + FP + FN) over (sentence, entity) pairs, over all sentences.

Price: the restaurant taxonomy has a "price" touchpoint, while SemEval keeps prices as an ATTRIBUTE of
FOOD, DRINKS or RESTAURANT. Training labels map FOOD#PRICES to {food, price}, DRINKS#PRICES to
{drinks, price} and RESTAURANT#PRICES to {price}; back at entity level, "price" counts as RESTAURANT
only when neither food nor drinks is predicted (a price alone is the restaurant's price).

The supervised head is also scored at the finer ENTITY#ATTRIBUTE level (slot 1 proper) by a second head
trained on the 12 categories, for comparison with the SemEval-2016 systems.
Thresholds and C are chosen on TRAIN (cross-validation), never on test.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vocmine.errors import InputError, VocmineError
from vocmine.models.metrics import bootstrap_micro_f1_interval, figure_row, figures_frame
from vocmine.nlp.taxonomy import Taxonomy, load_taxonomy, parse_taxonomy
from vocmine.nlp.touchpoint import SHIPPED_HEADS, TouchpointHead, ZeroShotTouchpoints, decide, split_labels
from vocmine.registry import register

logger = logging.getLogger(__name__)

#: Restaurant taxonomy touchpoint -> SemEval-2016 ENTITY ("price" is resolved by touchpoints_to_entities).
SEMEVAL_ENTITY_OF = {
    "food": "FOOD",
    "drinks": "DRINKS",
    "service": "SERVICE",
    "ambience": "AMBIENCE",
    "location": "LOCATION",
    "restaurant": "RESTAURANT",
    "price": "RESTAURANT",
}
SEMEVAL_ENTITIES = ["FOOD", "DRINKS", "SERVICE", "AMBIENCE", "LOCATION", "RESTAURANT"]

#: SemEval-2016 ENTITY#ATTRIBUTE -> restaurant-taxonomy touchpoints (the training labels).
_ENTITY_TOUCHPOINT = {e: t for t, e in SEMEVAL_ENTITY_OF.items() if t != "price"}

DATASET = "semeval16_rest"


def category_to_touchpoints(category: str) -> list[str]:
    """FOOD#QUALITY -> [food]; FOOD#PRICES -> [food, price]; RESTAURANT#PRICES -> [price]."""
    entity, _, attribute = category.partition("#")
    if attribute == "PRICES":
        return ["price"] if entity == "RESTAURANT" else [_ENTITY_TOUCHPOINT[entity], "price"]
    return [_ENTITY_TOUCHPOINT[entity]]


def semeval_touchpoints(categories: Sequence[str]) -> list[str]:
    out: list[str] = []
    for category in categories:
        for tp in category_to_touchpoints(category):
            if tp not in out:
                out.append(tp)
    return out


def touchpoints_to_entities(touchpoints: Sequence[str]) -> set[str]:
    """Predicted restaurant touchpoints -> SemEval entities (the explicit, documented mapping)."""
    entities = {SEMEVAL_ENTITY_OF[t] for t in touchpoints if t != "price"}
    if "price" in touchpoints and not ({"food", "drinks"} & set(touchpoints)):
        entities.add("RESTAURANT")
    return entities


def entities_of(decisions: Iterable[Sequence[str]]) -> list[set[str]]:
    """:func:`touchpoints_to_entities` of each sentence's decided touchpoints: what is scored against the
    gold ``entity_set``."""
    return [touchpoints_to_entities(d) for d in decisions]


def micro_f1(gold: Sequence[set[str]], predicted: Sequence[set[str]]) -> dict[str, float]:
    tp = sum(len(g & p) for g, p in zip(gold, predicted, strict=True))
    fp = sum(len(p - g) for g, p in zip(gold, predicted, strict=True))
    fn = sum(len(g - p) for g, p in zip(gold, predicted, strict=True))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0
    return {"f1": f1, "precision": precision, "recall": recall}


def _embedder():  # noqa: ANN202
    from vocmine.models.embedders import E5Embedder

    return E5Embedder()


def embed(texts: Sequence[str], embedder=None) -> np.ndarray:  # noqa: ANN001
    """e5 "query:" vectors through the shared disk cache (embedding is the slow part)."""
    from vocmine.models.embedding_cache import embed_with_disk_cache

    return embed_with_disk_cache(list(texts), embedder or _embedder())


def load_split(language: str, split: str, data_dir: Path | None = None) -> pd.DataFrame:
    """SemEval-2016 sentences with ``touchpoints`` (training labels) and ``entity_set`` (gold for scoring).

    ``split="train"`` for Spanish is the official train (our train + dev files together)."""
    from vocmine.models.datasets import load_semeval16

    if language == "es" and split == "train":
        frame = pd.concat(
            [load_semeval16("es", "train", data_dir), load_semeval16("es", "dev", data_dir)], ignore_index=True
        )
    else:
        frame = load_semeval16(language, split, data_dir)  # type: ignore[arg-type]
    frame = frame[frame["text"].str.strip() != ""].reset_index(drop=True)
    frame["touchpoints"] = frame["categories"].map(semeval_touchpoints)
    frame["entity_set"] = frame["entities"].map(set)
    return frame


def read_labels_csv(path: Path | str, taxonomy: Taxonomy) -> pd.DataFrame:
    """A CSV with columns ``text`` and ``touchpoints`` (';'-joined, empty or "other" for none)."""
    path = Path(path)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    for column in ("text", "touchpoints"):
        if column not in frame.columns:
            raise InputError(str(path), None, column, "a column named " + column, f"columns {list(frame.columns)}")
    labels = []
    for row, (text, value) in enumerate(zip(frame["text"], frame["touchpoints"], strict=True), start=2):
        if not text.strip():
            raise InputError(str(path), row, "text", "a non-empty text", text)
        names = []
        for part in split_labels(value):
            canonical = taxonomy.canonical(part)
            if canonical is None:
                raise InputError(str(path), row, "touchpoints", f"one of {', '.join(taxonomy.names)}", part)
            names.append(canonical)
        labels.append(names)
    return pd.DataFrame({"text": frame["text"], "touchpoints": labels})


def zero_shot_predictions(frame: pd.DataFrame, vectors: np.ndarray, zero_shot: ZeroShotTouchpoints) -> list[set[str]]:
    return entities_of(zero_shot.predict(frame["text"].tolist(), vectors))


class _CategoryHead:
    """One-vs-rest LR over the 12 ENTITY#ATTRIBUTE categories (slot-1 comparison only)."""

    def __init__(self, categories: list[str], C: float, seed: int) -> None:
        taxonomy = parse_taxonomy(
            {
                "name": "semeval16_categories",
                "touchpoint": [
                    {"name": c, "description_en": c, "description_es": c} for c in categories
                ],
            }
        )
        self.head = TouchpointHead(taxonomy, C=C, zero_shot_features=False, random_state=seed)

    def fit(self, frame: pd.DataFrame, vectors: np.ndarray) -> _CategoryHead:
        self.head.fit(frame["text"].tolist(), vectors, frame["categories"].tolist())
        return self

    def predict(self, frame: pd.DataFrame, vectors: np.ndarray) -> list[set[str]]:
        return [set(d) for d in self.head.predict(frame["text"].tolist(), vectors)]


#: The recipes of the restaurant blend's two fine-tuned members, by folder: LoRA adapters on all 12 layers,
#: rank 16 for 8 epochs and rank 32 for 10. Both were among the GPU runs and were chosen on the held-out 15%
#: (model card); two recipes average out each other's noise. ~3 min each on a GPU (``--device cuda``);
#: hours each on two CPU cores.
FINETUNE_RECIPES = {
    "e5_lora": {"epochs": 8, "frozen_layers": 0, "batch_size": 16, "learning_rate": 5e-4, "rank": 16, "alpha": 32.0},
    "e5_lora_2": {"epochs": 10, "frozen_layers": 0, "batch_size": 16, "learning_rate": 5e-4, "rank": 32,
                  "alpha": 64.0},
}

#: Share of the training sentences held out to pick the epoch and the thresholds of a fine-tuned head.
FINETUNE_DEV_FRACTION = 0.15


def finetune_dev_mask(n_rows: int, seed: int) -> np.ndarray:
    """The rows a fine-tuned head holds out (its epoch, thresholds and blend weight are chosen on them)."""
    return np.random.default_rng(seed).random(n_rows) < FINETUNE_DEV_FRACTION


def finetune_head(frame: pd.DataFrame, taxonomy: Taxonomy, seed: int = 42, settings: Any = None,
                  source: str = "", dev_score: Any = None) -> Any:
    """A :class:`~vocmine.nlp.touchpoint.FineTunedTouchpointHead` from ``frame`` (``text``, ``touchpoints``):
    LoRA fine-tuning of e5's top layers on a random 85%; the epoch kept is the best by ``dev_score(dev_frame,
    logits)`` on the other 15% (default: micro-F1 over touchpoints at the 0.5 line), and the per-touchpoint
    thresholds are tuned on those rows too; never on test."""
    from vocmine.models.finetune import FineTunedClassifier, FineTuneSettings
    from vocmine.nlp.touchpoint import FineTunedTouchpointHead, tune_threshold_logits

    names = list(taxonomy.names)
    frame = frame.reset_index(drop=True)
    y = np.array([[n in labels for n in names] for labels in frame["touchpoints"]], dtype=np.float32)
    dev = finetune_dev_mask(len(frame), seed)
    texts = frame["text"].astype(str).to_numpy()

    def touchpoint_f1(dev_frame: pd.DataFrame, logits: np.ndarray) -> float:
        return decided_f1(dev_frame, decide(logits, names, line=0.0))

    settings = settings or FineTuneSettings(**FINETUNE_RECIPES["e5_lora"], seed=seed)
    classifier = FineTunedClassifier(names, settings, multi_label=True).fit(
        texts[~dev].tolist(), y[~dev], texts[dev].tolist(), frame[dev], dev_score or touchpoint_f1)
    thresholds = tune_threshold_logits(classifier.logits(texts[dev].tolist()), y[dev])
    trained_on = {"source": source, "sentences": int((~dev).sum()), "dev_sentences": int(dev.sum()), "seed": seed}
    return FineTunedTouchpointHead(classifier, taxonomy, thresholds, trained_on)


#: Step of the grid of blend weights (fine-tuned members together, linear, lexical; they sum to 1).
BLEND_STEP = 0.1


def blend_weight_grid(step: float = BLEND_STEP) -> list[tuple[float, float, float]]:
    """Every (fine-tuned, linear, lexical) weight triple on the simplex, in steps of ``step``."""
    n = round(1 / step)
    return [(round(i * step, 2), round(j * step, 2), round((n - i - j) * step, 2))
            for i in range(n + 1) for j in range(n + 1 - i)]


def blend_heads(frame: pd.DataFrame, vectors: np.ndarray, fine_tuned: dict[str, Any], linear: TouchpointHead,
                zero_shot: ZeroShotTouchpoints, seed: int = 42, entity_level: bool = False) -> Any:
    """A :class:`~vocmine.nlp.touchpoint.BlendedTouchpointHead` of the ``fine_tuned`` heads (by folder),
    ``linear`` (fitted on all of ``frame``) and a lexical head fitted here on all of ``frame``.

    The weights are the best triple of :func:`blend_weight_grid` on the fine-tuned heads' held-out 15% (the
    same rows, by seed); the fine-tuned heads share their weight equally. Those rows are scored by copies of
    the linear and lexical recipes refitted without them, by micro-F1 at 0.5 over touchpoints or, with
    ``entity_level``, over SemEval entities (restaurant taxonomy). The fine-tuned heads' epochs and
    thresholds were chosen on those rows too, which favours them a little in this choice."""
    from vocmine.nlp.touchpoint import BlendedTouchpointHead, LexicalTouchpointHead

    frame = frame.reset_index(drop=True)
    taxonomy = linear.taxonomy_
    names = list(taxonomy.names)
    dev = finetune_dev_mask(len(frame), seed)
    texts = frame["text"].astype(str).to_numpy()
    labels = frame["touchpoints"].tolist()
    fit_labels = [labels[i] for i in np.flatnonzero(~dev)]
    tuning_linear = TouchpointHead(taxonomy, C=linear.C, random_state=seed).fit(
        texts[~dev].tolist(), vectors[~dev], fit_labels, zero_shot)
    tuning_lexical = LexicalTouchpointHead(taxonomy, random_state=seed).fit(texts[~dev].tolist(), fit_labels)
    dev_texts = texts[dev].tolist()
    member_scores = (
        np.mean([head.predict_scores(dev_texts) for head in fine_tuned.values()], axis=0),
        tuning_linear.predict_scores(dev_texts, vectors[dev], zero_shot),
        tuning_lexical.predict_scores(dev_texts),
    )
    dev_frame = frame[dev]

    def score(scores: np.ndarray) -> float:
        return decided_f1(dev_frame, decide(scores, names), entity_level)

    by_weights = {w: score(sum(wi * m for wi, m in zip(w, member_scores, strict=True))) for w in blend_weight_grid()}
    best = max(by_weights, key=lambda w: (by_weights[w], w))
    logger.info("touchpoint blend: best held-out F1 %.4f at (fine-tuned, linear, lexical) = %s",
                by_weights[best], best)
    lexical = LexicalTouchpointHead(taxonomy, random_state=seed).fit(texts.tolist(), labels)
    share = best[0] / len(fine_tuned)
    members = [(part, head, share) for part, head in fine_tuned.items()]
    members += [("linear", linear, best[1]), (LexicalTouchpointHead.FOLDER, lexical, best[2])]
    top = sorted(by_weights.items(), key=lambda item: -item[1])[:5]
    return BlendedTouchpointHead(members, {
        "held_out_rows": int(dev.sum()), "held_out_f1": round(by_weights[best], 4),
        "weights_order": ["fine-tuned", "linear", "lexical"],
        "held_out_f1_top5": [[list(w), round(v, 4)] for w, v in top]})


def entity_dev_score(dev_frame: pd.DataFrame, logits: np.ndarray) -> float:
    """SemEval entity-level micro-F1 of restaurant-taxonomy logits at the 0.5 line (the restaurant head's
    epoch choice; ``dev_frame`` needs ``entity_set``)."""
    return decided_f1(dev_frame, decide(logits, load_taxonomy("restaurant").names, line=0.0), entity_level=True)


def decided_f1(dev_frame: pd.DataFrame, decided: Sequence[Sequence[str]], entity_level: bool = False) -> float:
    """Micro-F1 of decided touchpoints against ``dev_frame``'s ``touchpoints`` or, with ``entity_level``,
    of the SemEval entities they map to against its ``entity_set``: what every held-out choice here
    (epoch, blend weights) is scored by."""
    if entity_level:
        return micro_f1(dev_frame["entity_set"].tolist(), entities_of(decided))["f1"]
    return micro_f1([set(t) for t in dev_frame["touchpoints"]], [set(d) for d in decided])["f1"]


def sample_per_touchpoint(labels: Sequence[Sequence[str]], names: Sequence[str], k: int, seed: int) -> np.ndarray:
    """Indices of a training subset with (up to) ``k`` positives per touchpoint and ``k`` "other" sentences:
    the few-shot budget an analyst would label."""
    rng = np.random.default_rng(seed)
    chosen: set[int] = set()
    pools = {name: [i for i, labs in enumerate(labels) if name in labs] for name in names}
    pools["__other__"] = [i for i, labs in enumerate(labels) if not labs]
    for pool in pools.values():
        have = sum(1 for i in pool if i in chosen)
        rest = [i for i in pool if i not in chosen]
        need = max(0, k - have)
        if need and rest:
            chosen.update(rng.choice(rest, size=min(need, len(rest)), replace=False).tolist())
    return np.asarray(sorted(chosen), dtype=int)


def fine_tuned_parts(source: Path) -> list[str]:
    """The folders of :data:`FINETUNE_RECIPES` that hold a fine-tuned head in ``source``; raises
    :class:`~vocmine.errors.ModelNotFoundError` when there is none (checked before any training)."""
    from vocmine.errors import ModelNotFoundError
    from vocmine.nlp.touchpoint import FineTunedTouchpointHead

    parts = [part for part in FINETUNE_RECIPES if FineTunedTouchpointHead.exists(source, folder=part)]
    if not parts:
        raise ModelNotFoundError(f"no fine-tuned touchpoint head in {source} (expected one of "
                                 f"{', '.join(f'{p}/finetune.json' for p in FINETUNE_RECIPES)})")
    return parts


def reuse_fine_tuned_heads(source: Path, parts: Sequence[str], folder: Path) -> dict[str, Any]:
    """The fine-tuned heads ``parts`` of ``source`` (:func:`fine_tuned_parts`), copied into ``folder`` unless
    it is ``source`` itself, so the blend written there loads them."""
    import shutil

    from vocmine.nlp.touchpoint import FineTunedTouchpointHead

    folder.mkdir(parents=True, exist_ok=True)
    heads = {}
    for part in parts:
        if (source / part).resolve() != (folder / part).resolve():
            shutil.copytree(source / part, folder / part, dirs_exist_ok=True)
        heads[part] = FineTunedTouchpointHead.load(folder, folder=part)
    return heads


@register("task", "touchpoints")
class TouchpointsTask:
    """``vocmine train touchpoints`` and ``vocmine evaluate touchpoints``."""

    name = "touchpoints"
    #: Regularisation of the shipped head, chosen on held-out TRAIN data (20% of EN train reviews + the ES dev file).
    C = 8.0

    def train(
        self,
        data_dir: Path | str | None = None,
        out_dir: Path | str | None = None,
        seed: int = 42,
        taxonomy: str | Path | None = None,
        labels: Path | str | None = None,
        finetune: bool = False,
        encoder_dir: Path | str | None = None,
    ) -> dict[str, Any]:
        """Train a head for ``taxonomy`` from ``labels`` (CSV text,touchpoints), or, with no labels, the
        restaurant head from the SemEval-2016 en + es official train sets. Writes ``head.json`` and
        ``head.safetensors`` under ``out_dir`` (default: the shipped weights folder, as
        ``restaurant.json``/``restaurant.safetensors``). ``finetune`` also trains the
        :class:`~vocmine.nlp.touchpoint.FineTunedTouchpointHead` of each of :data:`FINETUNE_RECIPES` (their
        folders under ``out_dir``, or under ``restaurant/`` in the shipped folder), a lexical head, and their
        blend with the linear head (:func:`blend_heads`). ``encoder_dir`` reuses the fine-tuned heads already in
        that folder (e.g. the shipped ``restaurant/``, trained on a GPU) instead of training them: the linear
        head, the lexical head and the blend weights are refitted on CPU in a minute or two, and the heads are
        copied next to the new blend when ``out_dir`` is another folder."""
        started = time.perf_counter()
        # A folder without fine-tuned heads is refused before the linear head is trained and written.
        reused = fine_tuned_parts(Path(encoder_dir)) if encoder_dir is not None else None
        embedder = _embedder()
        if labels is not None:
            tax = load_taxonomy(taxonomy or "retail")
            frame = read_labels_csv(labels, tax)
            source = str(labels)
        else:
            if taxonomy is not None and load_taxonomy(taxonomy).name != "restaurant":
                raise VocmineError("without --labels only the restaurant taxonomy can be trained (from SemEval-2016)")
            tax = load_taxonomy("restaurant")
            data = Path(data_dir) if data_dir else None
            frame = pd.concat([load_split("en", "train", data), load_split("es", "train", data)], ignore_index=True)
            source = "SemEval-2016 Task 5 restaurants, official train sets en + es"
        vectors = embed(frame["text"].tolist(), embedder)
        zero_shot = ZeroShotTouchpoints(tax, embedder=embedder).fit()
        head = TouchpointHead(tax, C=self.C, random_state=seed).fit(
            frame["text"].tolist(), vectors, frame["touchpoints"].tolist(), zero_shot
        )
        head.trained_on_ = {"source": source, "sentences": len(frame), "seed": seed}
        if out_dir is None and labels is None:
            target, name = SHIPPED_HEADS, tax.name
        else:
            target, name = Path(out_dir or "touchpoint_head"), "head"
        head.save(target, name=name)
        if finetune or encoder_dir is not None:
            from vocmine.nlp.touchpoint import LexicalTouchpointHead

            semeval = labels is None
            folder = target / tax.name if name == tax.name else target
            if encoder_dir is not None:
                fine_tuned = reuse_fine_tuned_heads(Path(encoder_dir), reused, folder)
            else:
                from vocmine.models.finetune import FineTuneSettings

                fine_tuned = {}
                for part, recipe in FINETUNE_RECIPES.items():
                    settings = FineTuneSettings(**recipe, seed=seed)
                    fine_tuned[part] = finetune_head(frame, tax, seed, settings, source,
                                                     entity_dev_score if semeval else None)
                    fine_tuned[part].save(folder, folder=part)
            blend = blend_heads(frame, vectors, fine_tuned, head, zero_shot, seed, entity_level=semeval)
            if LexicalTouchpointHead.FOLDER in blend.weights:
                blend.member(LexicalTouchpointHead.FOLDER).save(folder)
            blend.save(folder, linear_dir=".." if name == tax.name else ".", linear_name=name)
            return {"task": "touchpoints", "taxonomy": tax.name, "sentences": len(frame), "finetuned": True,
                    "out": str(folder), "blend_weights": blend.weights,
                    "history": {part: h.classifier.history for part, h in fine_tuned.items()},
                    "reused_heads_from": str(encoder_dir) if encoder_dir is not None else None,
                    "seconds": round(time.perf_counter() - started, 1)}
        return {
            "task": "touchpoints",
            "taxonomy": tax.name,
            "sentences": len(frame),
            "labels_per_touchpoint": {n: int(sum(n in labs for labs in frame["touchpoints"])) for n in tax.names},
            "out": str(target / f"{name}.json"),
            "seconds": round(time.perf_counter() - started, 1),
        }

    def evaluate(self, data_dir: Path | str | None = None, seed: int = 42) -> pd.DataFrame:
        """Entity-level micro-F1 on the official SemEval-2016 tests, zero-shot and supervised, per language,
        plus the ENTITY#ATTRIBUTE-level figure of a category head. Trains in memory (train sets only)."""
        data = Path(data_dir) if data_dir else None
        embedder = _embedder()
        tax = load_taxonomy("restaurant")
        zero_shot = ZeroShotTouchpoints(tax, embedder=embedder).fit()
        train = {lang: load_split(lang, "train", data) for lang in ("en", "es")}
        test = {lang: load_split(lang, "test", data) for lang in ("en", "es")}
        train_vec = {lang: embed(f["text"].tolist(), embedder) for lang, f in train.items()}
        test_vec = {lang: embed(f["text"].tolist(), embedder) for lang, f in test.items()}
        both = pd.concat(list(train.values()), ignore_index=True)
        both_vec = np.vstack([train_vec["en"], train_vec["es"]])
        head = TouchpointHead(tax, C=self.C, random_state=seed).fit(
            both["text"].tolist(), both_vec, both["touchpoints"].tolist(), zero_shot
        )
        categories = sorted({c for cats in both["categories"] for c in cats})
        category_head = _CategoryHead(categories, C=self.C, seed=seed).fit(both, both_vec)
        from vocmine.nlp.touchpoint import BlendedTouchpointHead

        shipped = SHIPPED_HEADS / tax.name
        blended = BlendedTouchpointHead.load(shipped) if BlendedTouchpointHead.exists(shipped) else None
        rows = []

        def add(lang: str, model: str, metric: str, value: float, n: int) -> None:
            rows.append(figure_row("touchpoints", DATASET, lang, "test", model, metric, round(float(value), 4), n))

        def add_f1(lang: str, model: str, metric: str, gold: list[set[str]], predicted: list[set[str]]) -> None:
            """A micro-F1 row with its 95% bootstrap interval over the test sentences."""
            rows.append(figure_row("touchpoints", DATASET, lang, "test", model, metric,
                                   round(micro_f1(gold, predicted)["f1"], 4), len(gold),
                                   bootstrap_micro_f1_interval(gold, predicted)))

        for lang in ("en", "es"):
            frame, vectors = test[lang], test_vec[lang]
            gold = frame["entity_set"].tolist()
            texts = frame["text"].tolist()
            started = time.perf_counter()
            predicted = zero_shot_predictions(frame, vectors, zero_shot)
            zs_rate = len(frame) / max(time.perf_counter() - started, 1e-9)
            add_f1(lang, "zero-shot:restaurant", "entity_micro_f1", gold, predicted)
            started = time.perf_counter()
            predicted = entities_of(head.predict(texts, vectors, zero_shot))
            head_rate = len(frame) / max(time.perf_counter() - started, 1e-9)
            add_f1(lang, "supervised:restaurant", "entity_micro_f1", gold, predicted)
            add_f1(lang, "supervised:categories", "category_micro_f1", [set(c) for c in frame["categories"]],
                   [set(c) for c in category_head.predict(frame, vectors)])
            add(lang, "zero-shot:restaurant", "sentences_per_s_given_vectors", zs_rate, len(frame))
            add(lang, "supervised:restaurant", "sentences_per_s_given_vectors", head_rate, len(frame))
            if blended is not None:
                # Each member scored once, alone and timed; the blend is their weighted average.
                member_scores, seconds = {}, 0.0
                for part, member, _ in blended.members:
                    started = time.perf_counter()
                    member_scores[part] = member.predict_scores(texts, vectors, zero_shot)
                    elapsed = time.perf_counter() - started
                    seconds += elapsed
                    if part == "linear":
                        continue  # its recipe, refitted here, is "supervised:restaurant" above
                    model = f"{'lexical' if part == 'lexical' else 'fine-tuned'}:restaurant ({part})"
                    add_f1(lang, model, "entity_micro_f1", gold,
                           entities_of(decide(member_scores[part], tax.names)))
                    add(lang, model, "sentences_per_s_from_text", len(frame) / max(elapsed, 1e-9), len(frame))
                model = "blended:restaurant (shipped auto head)"
                add_f1(lang, model, "entity_micro_f1", gold,
                       entities_of(decide(blended.combine(member_scores), tax.names)))
                add(lang, model, "sentences_per_s_given_vectors", len(frame) / max(seconds, 1e-9), len(frame))
        return figures_frame(rows)

    def learning_curve(
        self,
        data_dir: Path | str | None = None,
        sizes: Sequence[int | None] = (8, 16, 32, 64, None),
        repeats: int = 3,
        seed: int = 42,
    ) -> pd.DataFrame:
        """Entity micro-F1 on each official test vs labels per touchpoint, training on that language's
        train set only (``None`` = all of it); mean and spread over ``repeats`` random draws."""
        data = Path(data_dir) if data_dir else None
        embedder = _embedder()
        tax = load_taxonomy("restaurant")
        zero_shot = ZeroShotTouchpoints(tax, embedder=embedder).fit()
        rows = []
        for lang in ("en", "es"):
            train, test = load_split(lang, "train", data), load_split(lang, "test", data)
            train_vec, test_vec = embed(train["text"].tolist(), embedder), embed(test["text"].tolist(), embedder)
            gold = test["entity_set"].tolist()
            zs = micro_f1(gold, zero_shot_predictions(test, test_vec, zero_shot))["f1"]
            for size in sizes:
                scores, counts = [], []
                for r in range(repeats if size is not None else 1):
                    if size is None:
                        idx = np.arange(len(train))
                    else:
                        idx = sample_per_touchpoint(train["touchpoints"].tolist(), tax.names, size, seed + r)
                    part = train.iloc[idx]
                    head = TouchpointHead(tax, C=self.C, random_state=seed).fit(
                        part["text"].tolist(), train_vec[idx], part["touchpoints"].tolist(), zero_shot
                    )
                    decisions = head.predict(test["text"].tolist(), test_vec, zero_shot)
                    predicted = entities_of(decisions)
                    scores.append(micro_f1(gold, predicted)["f1"])
                    counts.append(len(idx))
                rows.append(
                    {"language": lang, "labels_per_touchpoint": "all" if size is None else size,
                     "train_sentences": int(np.mean(counts)), "entity_micro_f1": float(np.mean(scores)),
                     "f1_min": float(np.min(scores)), "f1_max": float(np.max(scores)), "zero_shot_f1": zs}
                )
        return pd.DataFrame(rows)
