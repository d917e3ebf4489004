"""Shared test set-up: no network, offline Hugging Face, small real-looking es/en fixtures."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

# Set before anything imports huggingface_hub/transformers: a hidden download must fail loudly.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

REPO = Path(__file__).resolve().parent.parent
# Exported models (the int8 ONNX e5, ~215 MB, made once) go to the repository's ignored .cache, not ~.
os.environ.setdefault("VOCMINE_CACHE_DIR", str(REPO / ".cache"))
SHARED_DATA = REPO.parent / "shared" / "data"

_real_connect = socket.socket.connect
_LOOPBACK = ("127.", "::1", "localhost")


def _guarded_connect(self: socket.socket, address: object) -> object:
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, str) and (host.startswith(_LOOPBACK) or host.startswith("/")):
        return _real_connect(self, address)
    if self.family == socket.AF_UNIX:
        return _real_connect(self, address)
    raise RuntimeError(f"test tried to reach the network: {address!r}")


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only loopback (Prefect's local test server, our own REST service) is reachable in tests."""
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)


@pytest.fixture
def store(tmp_path: Path):
    from vocmine.store import Store

    with Store(tmp_path / "test.duckdb") as opened:
        yield opened


@pytest.fixture(scope="session")
def e5():
    """The default embedder, loaded once per session (~1 s)."""
    from vocmine.models.embedders import E5Embedder

    return E5Embedder()


SENTENCES_ES = [
    "El pedido llegó tarde y nadie contestó.",
    "La atención en la tienda fue excelente, muy amables.",
    "El precio es demasiado alto para lo que ofrecen.",
    "Me sentí ignorado por el vendedor.",
]
SENTENCES_EN = [
    "Staff were lovely but checkout took ages.",
    "The food was cold and overpriced.",
    "Delivery was quick and the app is easy to use.",
    "I felt completely ignored at the front desk.",
]


@pytest.fixture
def sentences_es() -> list[str]:
    return list(SENTENCES_ES)


@pytest.fixture
def sentences_en() -> list[str]:
    return list(SENTENCES_EN)


@pytest.fixture
def restaurant_rows() -> list[tuple[str, list[str]]]:
    """Restaurant sentences (es/en) with their touchpoints, for training small touchpoint heads."""
    return [
        ("La paella estaba deliciosa", ["food"]), ("The pasta was cold and bland", ["food"]),
        ("Great steak, perfectly cooked", ["food"]), ("El postre, riquísimo", ["food"]),
        ("El camarero fue muy amable", ["service"]), ("Our waiter ignored us for an hour", ["service"]),
        ("Friendly and quick staff", ["service"]), ("Nos atendieron fatal, el camarero ni miraba", ["service"]),
        ("Los vinos, excelentes", ["drinks"]), ("The cocktails were watered down", ["drinks"]),
        ("Good beer selection", ["drinks"]), ("La sangría sin sabor", ["drinks"]),
        ("La paella cara para lo que es", ["food", "price"]), ("Overpriced steak", ["food", "price"]),
        ("Fuimos un martes por la noche", []), ("We came for a birthday", []),
    ]
