"""Source profiles: built-ins load, TOML errors name file and key, CLI overrides win and become required."""

from __future__ import annotations

from pathlib import Path

import pytest

from vocmine.errors import ConfigError
from vocmine.pipelines.profiles import (
    ProfileOverrides,
    apply_overrides,
    list_profiles,
    load_profile,
    missing_required,
    resolve_column,
    slugify,
)


def test_list_profiles_has_builtins() -> None:
    assert {"survey", "review", "booking"} <= set(list_profiles())


@pytest.mark.parametrize("name", ["survey", "review", "booking"])
def test_load_profile_builtin(name: str) -> None:
    profile = load_profile(name)
    assert profile.name == name
    assert profile.text_columns


def test_load_profile_booking_maps_positive_negative_and_1_10_score() -> None:
    profile = load_profile("booking")
    assert profile.text_columns == {"positive": "Positive_Review", "negative": "Negative_Review"}
    assert profile.score_scale == "1-10"
    assert "No Negative" in profile.placeholders
    assert profile.branch_column == "Hotel_Name"


def test_load_profile_unknown_name_lists_choices() -> None:
    with pytest.raises(ConfigError, match="unknown profile 'tripadvisor'.*booking.*review.*survey"):
        load_profile("tripadvisor")


def test_load_profile_typo_names_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text('name = "mine"\nscore_colum = "nps"\n[text_columns]\ncomment = "c"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"mine\.toml: score_colum"):
        load_profile(path)


def test_load_profile_bad_scale_and_bad_toml(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('score_column = "s"\nscore_scale = "10-0"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="score_scale"):
        load_profile(path)
    path.write_text("name = \n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_profile(path)


def test_load_profile_mystery_shopper_steps(tmp_path: Path) -> None:
    path = tmp_path / "mystery_shopper.toml"
    path.write_text(
        'channel = "mystery_shopper"\nbranch_column = "Sucursal"\n'
        '[[steps]]\nquestion = "saludo"\ntext_column = "Saludo comentario"\nscore_column = "Saludo nota"\n'
        '[[steps]]\nquestion = "cierre"\nscore_column = "Cierre nota"\nscore_scale = "0-1"\n',
        encoding="utf-8",
    )
    profile = load_profile(path)
    assert profile.name == "mystery_shopper"
    assert [s.question for s in profile.steps] == ["saludo", "cierre"]
    assert profile.steps[1].score_scale == "0-1"


def test_apply_overrides_replaces_texts_and_requires_flag_columns() -> None:
    overrides = ProfileOverrides(
        source="restmex", text_columns=["Title", "Opinion"], stars_column="Label", date_column="Date"
    )
    profile = apply_overrides(load_profile("review"), overrides)
    assert profile.source == "restmex"
    assert profile.text_columns == {"Title": "Title", "Opinion": "Opinion"}
    assert profile.stars_column == "Label"
    assert set(profile.required_columns) == {"Title", "Opinion", "Label", "Date"}
    assert missing_required(profile, ["Title", "Opinion", "Label"]) == ["Date"]


def test_apply_overrides_none_is_identity() -> None:
    profile = load_profile("survey")
    assert apply_overrides(profile, None) is profile


def test_apply_overrides_invalid_scale_is_config_error() -> None:
    with pytest.raises(ConfigError, match="score_scale"):
        apply_overrides(load_profile("survey"), ProfileOverrides(score_scale="diez"))


def test_resolve_column_alternatives_case_and_spaces() -> None:
    columns = ["ID ", "Comentario", "Nota  final"]
    assert resolve_column(["comment", "comentario"], columns) == "Comentario"
    assert resolve_column("nota final", columns) == "Nota  final"
    assert resolve_column("id", columns) == "ID "
    assert resolve_column("missing", columns) is None


def test_slugify_spanish_question() -> None:
    assert slugify("¿Qué mejorarías?") == "que_mejorarias"
    assert slugify("***") == "text"
