from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from vocmine.store import SCHEMA_VERSION, Store, StoreError


def _responses(ids: list[str], text: str = "x") -> pd.DataFrame:
    return pd.DataFrame({"response_id": ids, "source": "test", "content_hash": [text] * len(ids)})


def test_store_creates_schema_with_version(tmp_path):
    with Store(tmp_path / "s.duckdb") as store:
        assert store.schema_version == SCHEMA_VERSION
        assert {"responses", "answers", "sentences", "annotations", "embeddings", "themes", "kpis", "drivers",
                "rejects", "runs", "sources"} <= set(store.table_names())


def test_store_upsert_is_idempotent(store):
    store.upsert("responses", _responses(["a", "b"]))
    store.upsert("responses", _responses(["a", "b"]))
    assert store.count("responses") == 2
    store.upsert("responses", _responses(["b"], text="changed"))
    assert store.count("responses") == 2
    assert store.scalar("SELECT content_hash FROM responses WHERE response_id = 'b'") == "changed"


def test_store_update_columns_keeps_other_columns(store):
    store.upsert("responses", pd.DataFrame({"response_id": ["a"], "source": ["s"], "branch": ["Centro"]}))
    store.update_columns("responses", pd.DataFrame({"response_id": ["a"], "language": ["es"]}), key=["response_id"])
    row = store.df("SELECT source, branch, language FROM responses").iloc[0]
    assert (row.source, row.branch, row.language) == ("s", "Centro", "es")


def test_store_transaction_rolls_back_on_failure_mid_write(store):
    store.upsert("responses", _responses(["a"]))
    with pytest.raises(RuntimeError), store.transaction():
        store.upsert("responses", _responses(["b", "c"]))
        raise RuntimeError("killed half-way")
    assert store.count("responses") == 1


def test_store_rejects_newer_schema(tmp_path):
    path = tmp_path / "future.duckdb"
    with Store(path):
        pass
    con = duckdb.connect(str(path))
    con.execute("UPDATE schema_info SET value = '999' WHERE key = 'schema_version'")
    con.close()
    with pytest.raises(StoreError, match="newer than this vocmine"):
        Store(path)


def test_store_embedding_cache_round_trip(store):
    vectors = {"h1": np.ones(4, dtype=np.float32), "h2": np.zeros(4, dtype=np.float32)}
    store.put_embeddings("model-a", vectors)
    found = store.cached_embeddings("model-a", ["h1", "h2", "h3"])
    assert set(found) == {"h1", "h2"}
    assert found["h1"].dtype == np.float32
    np.testing.assert_array_equal(found["h1"], vectors["h1"])
    np.testing.assert_array_equal(found["h2"], vectors["h2"])
    assert store.cached_embeddings("model-b", ["h1"]) == {}


def test_cached_vectors_of_different_lengths_come_back_whole(store):
    store.put_embeddings("model-c", {"short": np.arange(3, dtype=np.float32), "long": np.arange(5, dtype=np.float32)})
    found = store.cached_embeddings("model-c", ["long", "short"])
    np.testing.assert_array_equal(found["short"], [0, 1, 2])
    np.testing.assert_array_equal(found["long"], [0, 1, 2, 3, 4])


def test_store_text_is_never_sql(store):
    hostile = "'; DROP TABLE responses; --"
    store.upsert("responses", _responses([hostile]))
    assert store.count("responses") == 1
    store.delete_where_in("responses", "response_id", [hostile])
    assert store.count("responses") == 0


def test_release_memory_restores_the_cap_and_keeps_the_data(store):
    store.upsert("responses", pd.DataFrame({"response_id": ["r1", "r2"], "branch": ["Centro", "Norte"]}))
    limit = store.scalar("SELECT current_setting('memory_limit')")
    store.release_memory()
    assert store.scalar("SELECT current_setting('memory_limit')") == limit
    assert store.count("responses") == 2


def test_df_categories_come_back_as_categoricals_with_the_same_values(store):
    store.upsert("responses", pd.DataFrame({"response_id": ["r1", "r2", "r3"], "branch": ["Centro", None, "Centro"]}))
    sql = "SELECT response_id, branch FROM responses WHERE response_id <> $skip ORDER BY response_id"
    plain = store.df(sql, {"skip": "r9"})
    encoded = store.df(sql, {"skip": "r9"}, categories=("branch",))
    assert isinstance(encoded["branch"].dtype, pd.CategoricalDtype)
    assert encoded["branch"].cat.categories.tolist() == ["Centro"]  # one string, however many rows
    assert encoded["branch"].astype(object).where(encoded["branch"].notna(), None).tolist() == [
        "Centro", None, "Centro"]
    assert encoded["response_id"].tolist() == plain["response_id"].tolist()
    with pytest.raises(StoreError, match="'seller'"):
        store.df(sql, {"skip": "r9"}, categories=("seller",))


def test_a_truncated_store_is_a_clear_store_error(tmp_path) -> None:
    """A store file cut short (an interrupted copy) says so instead of a raw database error."""
    path = tmp_path / "cx.duckdb"
    with Store(path) as store:
        store.con.execute("CHECKPOINT")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(StoreError, match="cx.duckdb"):
        Store(path)
