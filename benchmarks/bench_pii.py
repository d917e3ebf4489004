"""PII redaction: speed on the labelled set, quality per type and split, and an audit on real reviews.

Run: .venv/bin/python benchmarks/bench_pii.py [--repeat 20] [--runs 3] [--audit]
Prints tables and writes benchmarks/results/pii.json.

- Speed: the 237 labelled sentences repeated ``--repeat`` times, one ``redact`` call per sentence, one
  thread; median of ``--runs`` runs. Also the worst case we know of (long runs of spaced digits).
- Quality: precision/recall per type on tests/data/pii/labelled.jsonl, dev and held-out test parts,
  exact-span and overlap matching (synthetic set, written by us: see tests/data/pii/README.md).
- ``--audit`` (needs ../shared/data, research use only): how many of each type the redactor finds in the
  train splits of real review sets. It has no gold labels, so it reports counts, not precision; add
  ``--show`` to print every detection other than handles, in context, for a person to judge. Those lines
  hold real people's data: they go to the terminal only, never into the JSON.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections import Counter
from pathlib import Path

from vocmine.nlp.pii import PII_TYPES, find_pii, redact, score_pii

REPO = Path(__file__).resolve().parent.parent
LABELLED = REPO / "tests" / "data" / "pii" / "labelled.jsonl"
RESULTS = REPO / "benchmarks" / "results" / "pii.json"

#: Train splits of real review sets and their text columns (never the test splits: this is a dev audit).
AUDIT_SETS = {
    "twitter_airline_sentiment": ("train.csv", ["text"]),
    "starbucks_nyc_google": ("train.csv.gz", ["text"]),
    "booking_britannia": ("train.csv", ["Negative_Review", "Positive_Review"]),
    "restmex2022_es": ("train.csv.gz", ["Title", "Opinion"]),
    "restmex2021_es": ("train.csv", ["Title", "Opinion"]),
    "restaurants_es": ("train.csv", ["Title", "Opinion"]),
}


def load_labelled() -> list[dict]:
    return [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines()]


def measure_speed(texts: list[str], runs: int) -> dict[str, float]:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        for text in texts:
            redact(text)
        timings.append(time.perf_counter() - started)
    seconds = statistics.median(timings)
    chars = sum(len(text) for text in texts)
    return {
        "sentences": len(texts),
        "seconds": round(seconds, 4),
        "sentences_per_s": round(len(texts) / seconds, 1),
        "chars_per_s": round(chars / seconds, 1),
    }


def measure_worst_case() -> dict[str, float]:
    """Adversarial inputs: long runs of digit groups are the slowest shape (each start tries a few windows)."""
    cases = {
        "spaced_digits_20k": "1 " * 10_000,
        "dashed_digits_21k": "12-" * 7_000,
        "phones_30k": "600123123 " * 3_000,
        "url_closing_parens_100k": "http://x.com/" + ")" * 100_000,
    }
    figures = {}
    for name, text in cases.items():
        started = time.perf_counter()
        redact(text)
        figures[name] = round(time.perf_counter() - started, 3)
    return figures


def measure_quality(rows: list[dict]) -> dict[str, dict[str, dict[str, float]]]:
    quality: dict[str, dict[str, dict[str, float]]] = {}
    for split in ("dev", "test"):
        examples = [
            (row["text"], [(span["type"], span["start"], span["end"]) for span in row["spans"]])
            for row in rows
            if row["split"] == split
        ]
        for match in ("exact", "overlap"):
            scores = score_pii(examples, exact=match == "exact")
            quality[f"{split}/{match}"] = {
                pii_type: {
                    "gold": score.gold,
                    "predicted": score.predicted,
                    "true_positives": score.true_positives,
                    "precision": round(score.precision, 3),
                    "recall": round(score.recall, 3),
                }
                for pii_type, score in scores.items()
            }
        quality[f"{split}/exact"]["_sentences"] = {"n": len(examples)}
    return quality


def audit_real_data(show: bool) -> dict[str, object]:
    import pandas as pd

    from vocmine.models.datasets import shared_data_dir

    root = shared_data_dir()
    audit: dict[str, object] = {}
    for name, (file, columns) in AUDIT_SETS.items():
        frame = pd.read_csv(root / name / file)
        texts = [str(text) for column in columns for text in frame[column].dropna()]
        counts: Counter[str] = Counter()
        started = time.perf_counter()
        for text in texts:
            for span in find_pii(text):
                counts[span.type] += 1
                if show and span.type != "HANDLE":
                    print(f"  {name} {span.type} {span.text!r} | {text[max(0, span.start - 40) : span.end + 20]!r}")
        seconds = time.perf_counter() - started
        audit[name] = {
            "texts": len(texts),
            "texts_per_s": round(len(texts) / seconds, 1),
            "counts": dict(counts),
        }
    return audit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="times the labelled set is repeated")
    parser.add_argument("--runs", type=int, default=3, help="timed runs; the median is reported")
    parser.add_argument("--audit", action="store_true", help="also scan real reviews in ../shared/data")
    parser.add_argument("--show", action="store_true", help="with --audit: print each detection (terminal only)")
    args = parser.parse_args()

    rows = load_labelled()
    texts = [row["text"] for row in rows] * args.repeat
    speed = measure_speed(texts, args.runs)
    worst = measure_worst_case()
    quality = measure_quality(rows)

    print(
        f"speed: {speed['sentences']} sentences in {speed['seconds']} s -> {speed['sentences_per_s']:.0f} sentences/s,"
        f" {speed['chars_per_s'] / 1e6:.2f} M chars/s (one thread, median of {args.runs})"
    )
    print("worst case (s): " + ", ".join(f"{name} {seconds}" for name, seconds in worst.items()))
    for key, table in quality.items():
        print(f"\n{key}   ({'exact span' if key.endswith('exact') else 'overlapping span'}, same type)")
        print(f"  {'type':7s} {'gold':>5s} {'pred':>5s} {'tp':>5s} {'P':>6s} {'R':>6s}")
        for pii_type in PII_TYPES:
            if pii_type in table:
                cell = table[pii_type]
                print(
                    f"  {pii_type:7s} {cell['gold']:5d} {cell['predicted']:5d} {cell['true_positives']:5d}"
                    f" {cell['precision']:6.3f} {cell['recall']:6.3f}"
                )

    result: dict[str, object] = {
        "benchmark": "pii",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "speed": speed,
        "worst_case_seconds": worst,
        "quality": quality,
    }
    if args.audit:
        audit = audit_real_data(args.show)
        print("\naudit on real train splits (counts per type)")
        for name, figures in audit.items():
            print(
                f"  {name:27s} {figures['texts']:6d} texts  {figures['texts_per_s']:8.0f} texts/s  {figures['counts']}"
            )
        result["audit"] = audit
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nwrote {RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    main()
