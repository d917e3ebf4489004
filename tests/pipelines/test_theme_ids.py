"""Theme id matching: same cause keeps its id, a new cause gets a new one, never two copies."""

from __future__ import annotations

import numpy as np
import pandas as pd

from vocmine.pipelines.theme_ids import match_themes, new_theme_id, previous_for_group, slug


def test_slug_is_ascii() -> None:
    assert slug("Atención al cliente") == "atencion_al_cliente"


def test_new_theme_id_is_deterministic_and_order_free() -> None:
    a = new_theme_id("Entrega", "negative", ["h2", "h1", "h3"])
    b = new_theme_id("Entrega", "negative", ["h3", "h1", "h2", "h1"])
    assert a == b
    assert a.startswith("entrega/neg/")
    assert a != new_theme_id("Entrega", "negative", ["h1", "h2"])


def test_match_themes_keeps_ids_of_the_same_causes() -> None:
    rng = np.random.default_rng(1)
    previous = rng.normal(size=(3, 16))
    new = previous[[2, 0]] + rng.normal(scale=0.01, size=(2, 16))
    matched = match_themes(new, ["a", "b", "c"], previous, min_cosine=0.9)
    assert {k: v[0] for k, v in matched.items()} == {0: "c", 1: "a"}


def test_match_themes_rejects_far_and_non_mutual_pairs() -> None:
    rng = np.random.default_rng(2)
    previous = rng.normal(size=(2, 16))
    unrelated = rng.normal(size=(1, 16))
    assert match_themes(unrelated, ["a", "b"], previous, min_cosine=0.9) == {}
    # Two new themes close to the same old one: only the closest keeps the id.
    near = np.stack([previous[0] + 0.01, previous[0] + 0.3 * rng.normal(size=16)])
    matched = match_themes(near, ["a", "b"], previous, min_cosine=0.5)
    assert [v[0] for v in matched.values()] == ["a"]
    assert 0 in matched


def test_previous_for_group_excludes_split_children() -> None:
    previous = pd.DataFrame(
        {
            "theme_id": ["d/neg/1", "d/neg/1~precio", "s/neg/2"],
            "touchpoint": ["d", "d", "s"],
            "polarity": ["negative"] * 3,
            "centroid": [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]],
        }
    )
    assert previous_for_group(previous, "d", "negative")["theme_id"].tolist() == ["d/neg/1"]
