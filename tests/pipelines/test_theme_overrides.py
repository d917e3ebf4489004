"""Analyst overrides (rename, merge, split) from TOML or CSV, honoured by later runs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from themes_fixture import corpus_embeddings, make_corpus

from vocmine.config import VocmineConfig
from vocmine.errors import ConfigError
from vocmine.pipelines.theme_overrides import (
    MergeRule,
    SplitRule,
    ThemeOverrides,
    apply_membership_overrides,
    load_overrides,
)
from vocmine.pipelines.topics import build_themes

TEXTS = [
    "El pedido llegó tarde",
    "La caja llegó rota",
    "El camarero fue grosero",
    "Precio del vino excesivo",
    "La copa de vino carísima",
    "El menú es caro",
]


def test_load_toml_and_csv_agree(tmp_path) -> None:  # noqa: ANN001
    toml_file = tmp_path / "overrides.toml"
    toml_file.write_text(
        """
[rename]
"d/neg/aaa" = "Retrasos en la entrega"

[[merge]]
into = "d/neg/aaa"
ids = ["d/neg/bbb"]
label = "Entrega"

[[split]]
theme = "p/neg/ccc"
rules = [{ label = "Precio de las bebidas", keywords = ["vino", "copa"] }]
""",
        encoding="utf-8",
    )
    csv_file = tmp_path / "overrides.csv"
    csv_file.write_text(
        "action,theme_id,value,label\n"
        "rename,d/neg/aaa,,Retrasos en la entrega\n"
        "merge,d/neg/aaa,d/neg/bbb,Entrega\n"
        "split,p/neg/ccc,vino;copa,Precio de las bebidas\n",
        encoding="utf-8",
    )
    assert load_overrides(toml_file) == load_overrides(csv_file)


def test_malformed_override_file_names_the_file(tmp_path) -> None:  # noqa: ANN001
    bad = tmp_path / "bad.csv"
    bad.write_text("action,theme_id,value,label\nexplode,x,,\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="bad.csv row 2"):
        load_overrides(bad)


def test_merge_split_and_rename_act_on_membership() -> None:
    members = {"a": [0], "b": [1], "c": [2], "p": [3, 4, 5]}
    overrides = ThemeOverrides(
        renames={"c": "Trato grosero"},
        merges=(MergeRule(into="a", ids=("b",), label="Problemas con la entrega"),),
        splits={"p": (SplitRule(label="Precio de las bebidas", keywords=("vino", "COPA")),)},
    )
    new, labels, merged_away = apply_membership_overrides(members, TEXTS, overrides)
    assert new == {"a": [0, 1], "c": [2], "p": [5], "p~precio_de_las_bebidas": [3, 4]}
    assert labels == {"a": "Problemas con la entrega", "p~precio_de_las_bebidas": "Precio de las bebidas",
                      "c": "Trato grosero"}
    assert merged_away == {"b": "a"}


def test_rules_for_absent_themes_are_skipped() -> None:
    overrides = ThemeOverrides(merges=(MergeRule(into="x", ids=("y",)),), splits={"z": (SplitRule("L", ("k",)),)})
    new, labels, merged_away = apply_membership_overrides({"a": [0]}, TEXTS, overrides)
    assert new == {"a": [0]} and labels == {} and merged_away == {}


def test_later_runs_honour_overrides(tmp_path, e5) -> None:  # noqa: ANN001
    corpus = make_corpus()
    embeddings = np.asarray(corpus_embeddings(corpus, e5))
    first = build_themes(corpus, embeddings, VocmineConfig())
    active = first.themes[first.themes["status"] == "active"]
    staff = active[(active["touchpoint"] == "staff")].sort_values("size", ascending=False)["theme_id"].tolist()
    delivery = active[(active["touchpoint"] == "delivery") & (active["polarity"] == "negative")]
    renamed = delivery.sort_values("size", ascending=False)["theme_id"].iloc[0]
    overrides = tmp_path / "theme_overrides.toml"
    overrides.write_text(
        f'[rename]\n"{renamed}" = "Entregas tardías"\n\n'
        f'[[merge]]\ninto = "{staff[0]}"\nids = {json.dumps(staff[1:])}\nlabel = "Mala atención"\n',
        encoding="utf-8",
    )
    later = build_themes(corpus, embeddings, VocmineConfig(), previous=first.themes, overrides=overrides)
    themes = later.themes.set_index("theme_id")
    assert themes.loc[renamed, "label"] == "Entregas tardías"
    assert themes.loc[staff[0], "label"] == "Mala atención"
    staff_active = themes[(themes["touchpoint"] == "staff") & (themes["status"] == "active")]
    assert list(staff_active.index) == [staff[0]]
    assert (themes.loc[staff[1:], "status"] == "merged").all()
    assigned = later.assignments.merge(corpus[["sentence_id", "touchpoint"]], on="sentence_id")
    assert set(assigned.loc[assigned["touchpoint"] == "staff", "theme_id"]) == {staff[0]}
    # ... and the run after that still honours them (ids matched through the stored centroids).
    third = build_themes(corpus, embeddings, VocmineConfig(), previous=later.themes, overrides=overrides)
    assert third.themes.set_index("theme_id").loc[renamed, "label"] == "Entregas tardías"
    assert isinstance(third.themes, pd.DataFrame)
