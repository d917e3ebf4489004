"""Throughput of POST /v1/analyze with 32 short texts per request (FastAPI TestClient, in process).

Run: .venv/bin/python benchmarks/bench_rest.py [--requests 10]
Prints a table and writes benchmarks/results/bench_rest.json. Figures depend on machine load.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

TEXTS = [
    "El pedido llegó tarde y nadie contestó.", "Staff were lovely but checkout took ages.",
    "La atención en la tienda fue excelente.", "The food was cold and overpriced.",
    "El precio es demasiado alto para lo que ofrecen.", "Delivery was quick and the app is easy to use.",
    "Me sentí ignorado por el vendedor.", "I felt completely ignored at the front desk.",
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=10)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(2)
    from fastapi.testclient import TestClient

    from vocmine.config import VocmineConfig
    from vocmine.rest import create_app

    started = time.perf_counter()
    body = {"texts": [{"text": f"{TEXTS[i % len(TEXTS)]} ({i})"} for i in range(32)]}
    with TestClient(create_app(VocmineConfig())) as client:
        load_seconds = time.perf_counter() - started
        timings = []
        for _ in range(args.requests):
            t0 = time.perf_counter()
            response = client.post("/v1/analyze", json=body)
            timings.append(time.perf_counter() - t0)
            response.raise_for_status()
        models = response.json()["models"]
    median = statistics.median(timings)
    result = {
        "texts_per_request": 32, "requests": args.requests, "startup_seconds": round(load_seconds, 2),
        "median_seconds_per_request": round(median, 3), "requests_per_second": round(1 / median, 3),
        "texts_per_second": round(32 / median, 1), "models": models,
        "machine": f"{platform.machine()} {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}",
    }
    print(f"{'metric':<28}{'value':>12}")
    for key in ("startup_seconds", "median_seconds_per_request", "requests_per_second", "texts_per_second"):
        print(f"{key:<28}{result[key]:>12}")
    out = Path(__file__).parent / "results" / "bench_rest.json"
    out.write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
