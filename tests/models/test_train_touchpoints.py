"""SemEval-2016 mapping and scoring, the labels CSV, training from a CSV, and a quick quality floor."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vocmine.errors import InputError
from vocmine.models import train_touchpoints as tt
from vocmine.nlp.taxonomy import load_taxonomy
from vocmine.nlp.touchpoint import TouchpointAnnotator, ZeroShotTouchpoints


@pytest.mark.parametrize(
    ("category", "touchpoints"),
    [
        ("FOOD#QUALITY", ["food"]),
        ("FOOD#PRICES", ["food", "price"]),
        ("DRINKS#PRICES", ["drinks", "price"]),
        ("RESTAURANT#PRICES", ["price"]),
        ("RESTAURANT#MISCELLANEOUS", ["restaurant"]),
        ("SERVICE#GENERAL", ["service"]),
        ("LOCATION#GENERAL", ["location"]),
    ],
)
def test_train_touchpoints_category_mapping(category: str, touchpoints: list[str]) -> None:
    assert tt.category_to_touchpoints(category) == touchpoints


def test_train_touchpoints_entity_mapping_resolves_price() -> None:
    assert tt.touchpoints_to_entities(["price"]) == {"RESTAURANT"}
    assert tt.touchpoints_to_entities(["food", "price"]) == {"FOOD"}
    assert tt.touchpoints_to_entities(["drinks", "price", "service"]) == {"DRINKS", "SERVICE"}
    assert tt.touchpoints_to_entities([]) == set()
    assert set(tt.SEMEVAL_ENTITY_OF) == set(load_taxonomy("restaurant").names)


def test_train_touchpoints_micro_f1_counts_no_entity_sentences() -> None:
    gold = [{"FOOD"}, set(), {"SERVICE", "FOOD"}]
    predicted = [{"FOOD"}, {"RESTAURANT"}, {"SERVICE"}]
    scores = tt.micro_f1(gold, predicted)
    assert scores["f1"] == pytest.approx(2 * 2 / (2 * 2 + 1 + 1))
    assert scores["precision"] == pytest.approx(2 / 3)
    assert tt.micro_f1([set()], [set()])["f1"] == 1.0


def test_train_touchpoints_sample_per_touchpoint() -> None:
    labels = [["food"]] * 30 + [["service"]] * 5 + [[]] * 20
    idx = tt.sample_per_touchpoint(labels, ["food", "service"], k=8, seed=1)
    chosen = [labels[i] for i in idx]
    assert sum("food" in c for c in chosen) == 8
    assert sum("service" in c for c in chosen) == 5  # all there are
    assert sum(not c for c in chosen) == 8
    np.testing.assert_array_equal(idx, tt.sample_per_touchpoint(labels, ["food", "service"], k=8, seed=1))


def test_train_touchpoints_labels_csv_validated(tmp_path: Path) -> None:
    taxonomy = load_taxonomy("retail")
    good = tmp_path / "labels.csv"
    good.write_text("text,touchpoints\nEl pedido llegó tarde,Delivery\nStaff were lovely,staff;price_value\nOk,\n",
                    encoding="utf-8")
    frame = tt.read_labels_csv(good, taxonomy)
    assert frame["touchpoints"].tolist() == [["delivery"], ["staff", "price_value"], []]
    bad = tmp_path / "bad.csv"
    bad.write_text("text,touchpoints\nEl pedido llegó tarde,kitchen\n", encoding="utf-8")
    with pytest.raises(InputError, match="bad.csv row 2, column 'touchpoints'"):
        tt.read_labels_csv(bad, taxonomy)
    with pytest.raises(InputError, match="touchpoints"):
        (tmp_path / "nocol.csv").write_text("text\nhola\n", encoding="utf-8")
        tt.read_labels_csv(tmp_path / "nocol.csv", taxonomy)


LABELS = [
    ("El pedido llegó tarde.", "delivery"), ("My parcel never arrived.", "delivery"),
    ("The courier left the box outside.", "delivery"), ("El repartidor fue muy rápido.", "delivery"),
    ("La dependienta fue muy amable.", "staff"), ("The seller ignored me.", "staff"),
    ("Staff were helpful.", "staff"), ("El vendedor no sabía nada.", "staff"),
    ("Demasiado caro.", "price_value"), ("Great value for money.", "price_value"),
    ("Los precios han subido mucho.", "price_value"), ("Cheap and cheerful.", "price_value"),
    ("Lo compré para mi madre.", ""), ("I bought it last week.", "other"),
    ("Fui el sábado.", ""), ("We were three people.", ""),
    ("La app se cuelga.", "website_app"), ("The website is confusing.", "website_app"),
    ("No pude entrar en la web.", "website_app"), ("The app crashed at login.", "website_app"),
]


def test_train_touchpoints_train_from_csv(tmp_path: Path, e5, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tt, "_embedder", lambda: e5)
    monkeypatch.setattr(tt, "embed", lambda texts, embedder=None: e5.encode(list(texts)))
    labels = tmp_path / "labels.csv"
    rows = "\n".join(f'"{t}",{y}' for t, y in LABELS)
    labels.write_text("text,touchpoints\n" + rows + "\n", encoding="utf-8")
    task = tt.TouchpointsTask()
    summary = task.train(out_dir=tmp_path / "head", taxonomy="retail", labels=labels)
    assert summary["sentences"] == len(LABELS)
    assert summary["labels_per_touchpoint"]["delivery"] == 4
    annotator = TouchpointAnnotator("retail", head=tmp_path / "head", embedder_model=e5)
    texts = ["El paquete llegó con una semana de retraso.", "The seller was rude."]
    labels_out = [a.label for a in annotator.annotate(texts, e5.encode(texts), ["es", "en"])]
    assert "delivery" in labels_out[0]
    assert "staff" in labels_out[1]



def test_train_touchpoints_finetune_writes_every_blend_member(tmp_path: Path, e5,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """``--finetune`` from a CSV: one fine-tuned head per recipe, the lexical head and ``blend.json``, which
    the annotator then loads from the folder (tiny recipes: the point is the wiring, not the quality)."""
    pytest.importorskip("torch")
    from vocmine.nlp.touchpoint import BlendedTouchpointHead

    monkeypatch.setattr(tt, "_embedder", lambda: e5)
    monkeypatch.setattr(tt, "embed", lambda texts, embedder=None: e5.encode(list(texts)))
    tiny = {"epochs": 1, "frozen_layers": 11, "batch_size": 8, "rank": 2, "alpha": 4.0}
    monkeypatch.setattr(tt, "FINETUNE_RECIPES", {"e5_lora": tiny, "e5_lora_2": {**tiny, "rank": 4, "alpha": 8.0}})
    labels = tmp_path / "labels.csv"
    labels.write_text("text,touchpoints\n" + "\n".join(f'"{t}",{y}' for t, y in LABELS * 3) + "\n", encoding="utf-8")
    summary = tt.TouchpointsTask().train(out_dir=tmp_path / "head", taxonomy="retail", labels=labels, finetune=True)
    folder = tmp_path / "head"
    assert summary["finetuned"] and set(summary["history"]) == {"e5_lora", "e5_lora_2"}
    assert all((folder / part / "finetune.json").is_file() for part in ("e5_lora", "e5_lora_2"))
    assert (folder / "blend.json").is_file() and (folder / "head.json").is_file()
    blend = BlendedTouchpointHead.load(folder)
    assert blend.weights == {k: v for k, v in summary["blend_weights"].items() if v > 0}
    assert sum(blend.weights.values()) == pytest.approx(1.0)
    annotator = TouchpointAnnotator("retail", head=folder, embedder_model=e5)
    texts = ["El paquete llegó con una semana de retraso.", "The seller was rude."]
    annotations = annotator.annotate(texts, e5.encode(texts), ["es", "en"])
    assert isinstance(annotator._resolve().head, BlendedTouchpointHead)
    assert len(annotations) == 2 and set(annotations[0].scores) == set(load_taxonomy("retail").names)

    # --encoder-dir: the same fine-tuned heads re-blended on CPU into another folder. Same heads, rows and
    # seed, so the same weights; the heads are copied next to the new blend, which loads on its own.
    again = tt.TouchpointsTask().train(out_dir=tmp_path / "reblend", taxonomy="retail", labels=labels,
                                       encoder_dir=folder)
    reblended = tmp_path / "reblend"
    assert again["reused_heads_from"] == str(folder)
    assert again["blend_weights"] == summary["blend_weights"]
    assert all((reblended / part / "finetune.json").is_file() for part in ("e5_lora", "e5_lora_2"))
    assert BlendedTouchpointHead.load(reblended).weights == blend.weights
    reannotated = TouchpointAnnotator("retail", head=reblended, embedder_model=e5).annotate(
        texts, e5.encode(texts), ["es", "en"])
    for first, second in zip(annotations, reannotated, strict=True):
        assert first.label == second.label
        assert np.allclose([first.scores[k] for k in first.scores], [second.scores[k] for k in first.scores])


def test_train_touchpoints_encoder_dir_without_heads_is_a_clear_error(tmp_path: Path, e5,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A folder without fine-tuned heads is refused by name, before anything is trained or written."""
    from vocmine.errors import ModelNotFoundError

    monkeypatch.setattr(tt, "_embedder", lambda: e5)
    monkeypatch.setattr(tt, "embed", lambda texts, embedder=None: e5.encode(list(texts)))
    labels = tmp_path / "labels.csv"
    labels.write_text("text,touchpoints\n" + "\n".join(f'"{t}",{y}' for t, y in LABELS * 3) + "\n", encoding="utf-8")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelNotFoundError, match="no fine-tuned touchpoint head in .*empty.*e5_lora/finetune.json"):
        tt.TouchpointsTask().train(out_dir=tmp_path / "out", taxonomy="retail", labels=labels,
                                   encoder_dir=tmp_path / "empty")
    assert not (tmp_path / "out").exists()  # refused before the linear head is trained and written

def test_train_touchpoints_task_registered() -> None:
    from vocmine import registry

    assert registry.get("task", "touchpoints") is tt.TouchpointsTask


@pytest.mark.parametrize("language", ["en", "es"])
def test_train_touchpoints_zero_shot_quality_floor(language: str, e5) -> None:
    """Shipped restaurant taxonomy, zero-shot, first 120 sentences of the official SemEval-2016 test.

    A floor, not the reported figure (that is `vocmine evaluate touchpoints` on the whole test set)."""
    frame = tt.load_split(language, "test").head(120)
    zero_shot = ZeroShotTouchpoints("restaurant", embedder=e5).fit()
    predicted = tt.zero_shot_predictions(frame, e5.encode(frame["text"].tolist()), zero_shot)
    assert tt.micro_f1(frame["entity_set"].tolist(), predicted)["f1"] >= 0.6


@pytest.mark.slow
@pytest.mark.parametrize("language", ["en", "es"])
def test_train_touchpoints_shipped_blend_quality_floor(language: str, e5) -> None:
    """The shipped restaurant blend (the ``auto`` head: two fine-tuned heads, the linear and the lexical head)
    on the first 200 sentences of the official SemEval-2016 test (a floor: these samples score 0.860 en /
    0.837 es; the whole tests 0.837 / 0.825)."""
    from vocmine.nlp.touchpoint import SHIPPED_HEADS, BlendedTouchpointHead

    head = BlendedTouchpointHead.load(SHIPPED_HEADS / "restaurant")
    zero_shot = ZeroShotTouchpoints("restaurant", embedder=e5).fit()
    frame = tt.load_split(language, "test").head(200)
    texts = frame["text"].tolist()
    predicted = tt.entities_of(head.predict(texts, e5.encode(texts), zero_shot))
    assert tt.micro_f1(frame["entity_set"].tolist(), predicted)["f1"] >= 0.80
