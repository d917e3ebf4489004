"""Taxonomy files: the shipped ones load, and broken ones fail with the file and key named."""

from __future__ import annotations

from pathlib import Path

import pytest

from vocmine.errors import ConfigError
from vocmine.nlp.taxonomy import OTHER, Taxonomy, list_taxonomies, load_taxonomy

VALID = """
name = "mini"
stages = ["purchase"]

[[touchpoint]]
name = "delivery"
parent = "purchase"
description_en = "Delivery and shipping of the order."
description_es = "La entrega y el envío del pedido."
examples = ["My parcel arrived late.", "El pedido llegó tarde."]
keywords = ["parcel", "pedido"]

[[touchpoint]]
name = "staff"
description_en = "The staff and how they treated the customer."
description_es = "El personal y cómo trató al cliente."
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mini.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_taxonomy_builtins_listed_and_load() -> None:
    assert {"retail", "hospitality", "restaurant"} <= set(list_taxonomies())
    restaurant = load_taxonomy("restaurant")
    assert restaurant.names == ["food", "drinks", "service", "ambience", "price", "location", "restaurant"]
    retail = load_taxonomy("retail")
    assert {"discovery", "website_app", "store_branch", "staff", "checkout_payment", "price_value",
            "product_quality", "delivery", "after_sales"} == set(retail.names)
    hospitality = load_taxonomy("hospitality")
    assert {"reception", "room", "cleanliness", "wifi", "noise"} <= set(hospitality.names)


@pytest.mark.parametrize("name", ["retail", "hospitality", "restaurant"])
def test_taxonomy_builtins_have_bilingual_prototypes(name: str) -> None:
    taxonomy = load_taxonomy(name)
    for tp in taxonomy.touchpoints:
        assert tp.description_es != tp.description_en
        assert tp.examples, f"{name}/{tp.name} has no example phrases"


def test_taxonomy_loads_from_path(tmp_path: Path) -> None:
    taxonomy = load_taxonomy(_write(tmp_path, VALID))
    assert isinstance(taxonomy, Taxonomy)
    assert taxonomy.get("DELIVERY").parent == "purchase"
    assert taxonomy.canonical("Staff") == "staff"
    assert taxonomy.canonical("none") == OTHER
    assert taxonomy.canonical("kitchen") is None


def test_taxonomy_missing_spanish_description_names_file_and_key(tmp_path: Path) -> None:
    broken = VALID.replace('description_es = "La entrega y el envío del pedido."\n', "")
    with pytest.raises(ConfigError) as error:
        load_taxonomy(_write(tmp_path, broken))
    message = str(error.value)
    assert "mini.toml" in message
    assert "touchpoint[0] ('delivery').description_es" in message


def test_taxonomy_duplicate_names_rejected(tmp_path: Path) -> None:
    broken = VALID.replace('name = "staff"', 'name = "Delivery"')
    with pytest.raises(ConfigError, match="duplicate touchpoint name 'Delivery'"):
        load_taxonomy(_write(tmp_path, broken))


def test_taxonomy_unknown_parent_rejected(tmp_path: Path) -> None:
    broken = VALID.replace('parent = "purchase"', 'parent = "post-purchase"')
    with pytest.raises(ConfigError, match="unknown parent 'post-purchase'"):
        load_taxonomy(_write(tmp_path, broken))


def test_taxonomy_other_is_reserved(tmp_path: Path) -> None:
    broken = VALID.replace('name = "staff"', 'name = "other"')
    with pytest.raises(ConfigError, match="reserved"):
        load_taxonomy(_write(tmp_path, broken))


def test_taxonomy_unknown_key_and_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="colour"):
        load_taxonomy(_write(tmp_path, VALID + 'colour = "red"\n'))
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_taxonomy(_write(tmp_path, "name = \n"))


def test_taxonomy_unknown_builtin_lists_choices() -> None:
    with pytest.raises(ConfigError, match="restaurant"):
        load_taxonomy("airline")
    with pytest.raises(ConfigError, match="does not exist"):
        load_taxonomy("/nonexistent/tax.toml")
