"""One line per fine-tuning run: best held-out epoch and the test figures (reads run.py's result.json files)."""

import json
import sys
from pathlib import Path


def describe(result: dict) -> str:
    if "tasks" in result:  # multitask.py: every epoch's held-out figures
        return f"{result['name']} ({result.get('seconds')} s): " + " | ".join(
            " ".join(f"{k} {v}" for k, v in epoch.items()) for epoch in result["history"])
    history = result.get("history", [])
    best = max(history, key=lambda e: e.get("dev_score", -1)) if history else {}
    line = f"{result['name']}: best dev {best.get('dev_score')} @ep{best.get('epoch')} ({result['seconds']} s)"
    if result["task"] == "emotion" and "tune" in result:
        parts = [f"encoder alone: tune {result['tune']:.4f} report {result['report']:.4f}"]
    elif result["task"] == "emotion":
        parts = [f"{lang}: blend {result[lang]['blend_tuned']:.4f} enc {result[lang]['encoder_argmax']:.4f} "
                 f"w {result[lang]['weight']} tune {result[lang]['tuning']['tune_macro_f1_biased']}"
                 for lang in ("es", "en")]
    elif result["task"] == "component":
        parts = [f"out of fold {result['tuning']['out_of_fold_mean_macro_f1']} w {result['tuning']['weight']}"]
    elif result["task"] == "touchpoints":
        parts = [f"{lang} {result[lang]['f1']:.4f}" for lang in ("en", "es")]
    else:
        parts = [f"{t['dataset']}:{t['metric']}={t['value']:.4f}" for t in result["test"] if t["metric"] != "ece"]
    return line + " | " + " ".join(parts)


if __name__ == "__main__":
    for path in sys.argv[1:]:
        print(describe(json.loads(Path(path).read_text(encoding="utf-8"))))
