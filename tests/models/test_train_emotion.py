"""Emotion task: EmoEvent loading rules, the tuning helpers, and a tiny fit/save/load on fixture texts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score

from vocmine import registry
from vocmine.errors import ModelNotFoundError
from vocmine.models.train_emotion import (
    CLASSES,
    EmotionModel,
    cap_fit_rows,
    crossfit_bias_gains,
    fit_emotion_model,
    load_emoevent,
    tune_bias,
    tune_thresholds,
)

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"

FIXTURE = {
    "anger": ["Estoy harto de tanta mentira, qué rabia", "I am furious, this is outrageous",
              "Me indigna cómo nos tratan", "So angry at these liars"],
    "disgust": ["Qué asco de políticos, vomitivo", "Disgusting behaviour, gross",
                "Me da asco ver esto", "This is revolting and vile"],
    "fear": ["Tengo miedo de lo que pueda pasar", "I am scared for my family",
             "Qué miedo da esta situación", "Terrified of what comes next"],
    "joy": ["¡Qué alegría, por fin ganamos!", "So happy, best day ever",
            "Estoy feliz con la noticia", "I love this, wonderful news"],
    "sadness": ["Qué tristeza ver arder la catedral", "So sad, I am heartbroken",
                "Me duele mucho esta pérdida", "Crying, this is a sad day"],
    "surprise": ["¡No me lo puedo creer, qué sorpresa!", "Wow I did not expect that at all",
                 "Increíble, nadie lo esperaba", "What a shock, unbelievable twist"],
    "none": ["El partido empieza a las nueve", "The meeting is on Tuesday",
             "Mañana publican el horario", "Tickets go on sale next week"],
}


def _fixture_splits() -> dict[str, dict[str, pd.DataFrame]]:
    frame = pd.DataFrame([(t, label) for label, texts in FIXTURE.items() for t in texts], columns=["text", "label"])
    frame["id"] = range(len(frame))
    return {lang: {"fit": frame, "tune": frame, "report": frame} for lang in ("es", "en")}


def test_tune_bias_recovers_a_shifted_class() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300)
    log_proba = np.log(np.eye(3)[y] * 0.6 + 0.2)
    log_proba[:, 0] -= 2.0  # class 0 under-predicted, as after a prior shift
    before = f1_score(y, log_proba.argmax(1), average="macro")
    after = f1_score(y, (log_proba + tune_bias(log_proba, y)).argmax(1), average="macro")
    assert after > before and after == pytest.approx(1.0)


def test_tune_thresholds_separate_clean_scores() -> None:
    y = np.array([0, 1, 2, 3, 4, 5, 6] * 5)
    proba = np.eye(7)[y] * 0.8 + 0.2 / 7
    thresholds = tune_thresholds(proba, y)
    assert thresholds.shape == (6,)
    assert ((thresholds > 0.2 / 7) & (thresholds <= 0.8 + 0.2 / 7)).all()


def test_cap_fit_rows_is_deterministic_and_leaves_other_parts() -> None:
    splits = _fixture_splits()
    first, second = cap_fit_rows(splits, 10), cap_fit_rows(splits, 10)
    assert len(first["es"]["fit"]) == 10
    assert first["es"]["fit"]["text"].tolist() == second["es"]["fit"]["text"].tolist()
    assert len(first["en"]["tune"]) == len(splits["en"]["tune"])
    assert cap_fit_rows(splits, None) is splits


def test_fit_emotion_model_round_trips_and_labels_sets(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("vocmine.models.train_emotion.C_GRID", (1.0,))  # one fit keeps the test quick
    model = fit_emotion_model(_fixture_splits())
    model.save(tmp_path)
    loaded = EmotionModel.load(tmp_path)
    texts = ["¡Qué alegría, por fin ganamos!", "The meeting is on Tuesday"]
    np.testing.assert_allclose(loaded.predict_proba(texts, "es"), model.predict_proba(texts, "es"), rtol=1e-5)
    proba = loaded.predict_proba(texts, "en")
    assert proba.shape == (2, len(CLASSES)) and np.allclose(proba.sum(1), 1.0)
    for chosen in loaded.label_sets(proba, "en"):
        assert chosen == ["none"] or set(chosen) <= set(CLASSES[:-1])


def test_crossfit_bias_gains_sees_a_real_prior_shift_and_needs_rows_to_split() -> None:
    """A class the scores always under-rate is fixed by its bias on rows the bias never saw; a tuning set
    with no class of two rows gives no evidence."""
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 3, 300)
    logits = rng.normal(0.0, 1.0, (300, 3))
    logits[np.arange(300), truth] += 2.0
    logits[:, 2] -= 3.0  # class 2 is almost never the argmax
    gains = crossfit_bias_gains(logits, truth, repeats=3)
    assert len(gains) == 3 and min(gains) > 0.1
    assert crossfit_bias_gains(logits[:3], np.array([0, 1, 2])) == []


def test_emotion_model_load_missing_raises(tmp_path) -> None:
    with pytest.raises(ModelNotFoundError, match="vocmine train emotion"):
        EmotionModel.load(tmp_path)


def test_load_emoevent_refuses_misaligned_spanish_test() -> None:
    with pytest.raises(ValueError, match="misaligned"):
        load_emoevent("es", "test", SHARED_DATA)


def test_load_emoevent_maps_others_to_none() -> None:
    dev = load_emoevent("en", "dev", SHARED_DATA)
    assert len(dev) == 744
    assert set(dev["label"]) == set(CLASSES)


def test_emotion_task_is_registered() -> None:
    task = registry.create("task", "emotion")
    assert callable(task.train) and callable(task.evaluate)


def test_goemotions_ekman_mapping_covers_every_label() -> None:
    from vocmine.models.train_emotion import GOEMOTIONS_EKMAN

    mapped = [name for members in GOEMOTIONS_EKMAN.values() for name in members.split()]
    labels = (SHARED_DATA / "goemotions" / "labels.txt").read_text(encoding="utf-8").split()
    assert sorted(mapped) == sorted(labels)
    assert set(GOEMOTIONS_EKMAN) == set(CLASSES)
