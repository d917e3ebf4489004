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
