"""One encoder for three tasks: does a shared LoRA e5 lose quality against one encoder per task? (GPU run.)

The accurate stack runs a fine-tuned encoder per task (sentiment, emotion, component, two touchpoint heads):
five extra passes per sentence, 27 sentences/s. One encoder trained on several tasks at once, with one
output slice per task, would make that one pass. This run trains such an encoder on sentiment, emotion and
the rational/emotional component with vocmine's own fine-tuning network (:mod:`vocmine.models.finetune`:
LoRA on all 12 layers, mean pooling, one linear layer whose 12 outputs are the three tasks' classes). Each
step draws one task, with probability proportional to the square root of its number of training rows
(``--sampling``), and takes the class-weighted cross-entropy of that task's slice. After every epoch it
scores each task's held-out rows with the same figures the single-task runs chose their epoch on:
- sentiment: mean per-data-set macro-F1 on the stratified 15% (sent_a, the shipped encoder: 0.6345);
- emotion: mean es/en tuning macro-F1 of the argmax, GoEmotions 800 per class in the English fit rows
  (emo_c, the shipped encoder: 0.5129);
- component: mean per-language macro-F1 on a stratified 20% of the training split. ``--single-component``
  trains the component alone on the same split, for the comparison.
``result.json`` (and the adapters of the best epoch by the mean of the three) is rewritten after every
epoch, so a run cut short still reports. No test row is read.

Run on the GPU machine by ``go.sh``-style commands: ``python3 benchmarks/finetune_runs/multitask.py NAME``.
"""

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import stand_in_missing_packages  # noqa: E402


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("name")
    for flag, kind, default in (("--epochs", int, 5), ("--lr", float, 5e-4), ("--rank", int, 16),
                                ("--batch", int, 32), ("--maxlen", int, 128), ("--seed", int, 42),
                                ("--sampling", float, 0.5), ("--threads", int, 2), ("--rows", int, 0)):
        parser.add_argument(flag, type=kind, default=default)
    parser.add_argument("--single-component", action="store_true")
    parser.add_argument("--out", default=os.environ.get("OUT", "/tmp/out"))
    return parser.parse_args()


def task_data() -> dict[str, dict]:
    """Per task: fit texts and class indices, held-out texts, targets and score function, class names."""
    import pandas as pd
    from sklearn.model_selection import train_test_split

    from vocmine.models import train_emotion as te
    from vocmine.models import train_sentiment as ts
    from vocmine.models.component_ft import score_by_language
    from vocmine.models.datasets import SENTIMENT_LABELS
    from vocmine.models.metrics import argmax_mean_macro_f1
    from vocmine.models.train_component import COMPONENT_LABELS, load_component_data

    tasks = {}
    train = ts.build_train_frame().reset_index(drop=True)
    dev = ts._dev_mask(train, 42)
    datasets = train["dataset"].to_numpy()[dev]
    labels = list(SENTIMENT_LABELS)
    tasks["sentiment"] = {
        "classes": labels, "fit": train[~dev], "held": train[dev],
        "score": lambda truth, logits: argmax_mean_macro_f1(truth, logits, labels, datasets)}
    splits = te.emotion_splits()
    splits["en"]["fit"] = pd.concat([splits["en"]["fit"], te.load_goemotions_ekman(None, 800)], ignore_index=True)
    tune = pd.concat([splits[lang]["tune"].assign(language=lang) for lang in te.LANGUAGES], ignore_index=True)
    tune_languages = tune["language"].to_numpy()
    tasks["emotion"] = {
        "classes": list(te.CLASSES),
        "fit": pd.concat([splits[lang]["fit"] for lang in te.LANGUAGES], ignore_index=True), "held": tune,
        "score": lambda truth, logits: te._tune_f1(
            splits, {lang: logits[tune_languages == lang] for lang in te.LANGUAGES})}
    component = load_component_data(split="train")
    fit, held = train_test_split(component, test_size=0.2, random_state=42,
                                 stratify=component["language"] + ":" + component["label"])
    held_languages = held["language"].to_numpy()
    tasks["component"] = {
        "classes": list(COMPONENT_LABELS), "fit": fit, "held": held,
        "score": lambda truth, logits: score_by_language(truth, logits, held_languages)}
    return tasks


def main() -> None:
    args = parse()
    stand_in_missing_packages()
    import torch
    from torch import nn

    from vocmine.models.finetune import FineTunedClassifier, FineTuneSettings, balanced_weights

    out = Path(args.out) / args.name
    out.mkdir(parents=True, exist_ok=True)
    tasks = task_data()
    if args.single_component:
        tasks = {"component": tasks["component"]}
    if args.rows:  # a smoke test: fit rows cut, held-out rows whole
        for task in tasks.values():
            task["fit"] = task["fit"].sample(n=min(args.rows, len(task["fit"])), random_state=0)
    names = list(tasks)
    offsets = np.cumsum([0] + [len(tasks[n]["classes"]) for n in names])
    slices = {n: slice(int(offsets[i]), int(offsets[i + 1])) for i, n in enumerate(names)}
    all_labels = [f"{n}:{c}" for n in names for c in tasks[n]["classes"]]
    settings = FineTuneSettings(rank=args.rank, alpha=2.0 * args.rank, learning_rate=args.lr, epochs=args.epochs,
                                batch_size=args.batch, max_length=args.maxlen, frozen_layers=0,
                                threads=args.threads, seed=args.seed)
    torch.set_num_threads(settings.threads)
    classifier = FineTunedClassifier(all_labels, settings)
    classifier._build()
    device = classifier.device
    started = time.perf_counter()
    for name in names:
        task = tasks[name]
        index = {c: i for i, c in enumerate(task["classes"])}
        task["y"] = np.array([index[c] for c in task["fit"]["label"]])
        task["states"] = classifier._bottom_states(task["fit"]["text"].astype(str).tolist())
        task["held_states"] = classifier._bottom_states(task["held"]["text"].astype(str).tolist())
        task["loss"] = nn.CrossEntropyLoss(weight=torch.tensor(
            balanced_weights(task["y"], len(task["classes"])), dtype=torch.float32, device=device))
    sizes = np.array([len(tasks[n]["y"]) for n in names], dtype=float)
    probability = sizes ** args.sampling / (sizes ** args.sampling).sum()
    steps_per_epoch = math.ceil(sizes.sum() / settings.batch_size)
    optimiser, scheduler = classifier.optimiser(steps_per_epoch * settings.epochs)
    network = classifier.network
    rng = np.random.default_rng(settings.seed)
    result = {"name": args.name, "settings": vars(args), "tasks": names,
              "fit_rows": {n: int(s) for n, s in zip(names, sizes, strict=True)},
              "step_share": {n: round(float(p), 3) for n, p in zip(names, probability, strict=True)},
              "prepared_s": round(time.perf_counter() - started, 1), "history": []}
    best = -math.inf
    for epoch in range(settings.epochs):
        network.train()
        began = time.perf_counter()
        for _ in range(steps_per_epoch):
            name = names[rng.choice(len(names), p=probability)]
            task = tasks[name]
            rows = rng.choice(len(task["y"]), size=min(settings.batch_size, len(task["y"])), replace=False)
            hidden, mask = classifier._pad_states([task["states"][i] for i in rows])
            logits = network.top(hidden, mask, 0)[:, slices[name]]
            loss = task["loss"](logits, torch.tensor(task["y"][rows], dtype=torch.long, device=device))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            scheduler.step()
        record = {"epoch": epoch + 1, "seconds": round(time.perf_counter() - began, 1)}
        for name in names:
            task = tasks[name]
            logits = classifier._top_logits(task["held_states"])[:, slices[name]]
            record[name] = round(float(task["score"](task["held"]["label"].tolist(), logits)), 4)
        record["mean"] = round(float(np.mean([record[n] for n in names])), 4)
        result["history"].append(record)
        print(json.dumps(record), flush=True)
        if record["mean"] > best:
            best = record["mean"]
            classifier.save(out / "encoder", {"multitask_slices": {n: [s.start, s.stop] for n, s in slices.items()}})
        result["seconds"] = round(time.perf_counter() - started, 1)
        (out / "result.json").write_text(json.dumps(result, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
