"""Batch writes of the folder flows follow the analyze stage's rules."""

from __future__ import annotations

import pandas as pd

from vocmine.flows.batches import AnnotatorSpec, BatchResult, write_batch
from vocmine.protocols import Annotation


def test_batches_write_lets_the_exports_touchpoint_win(store):
    store.upsert("responses", pd.DataFrame({"response_id": ["r1", "r2"], "touchpoint": ["delivery", None]}))
    store.upsert("answers", pd.DataFrame({"answer_id": ["r1:c", "r2:c"], "response_id": ["r1", "r2"],
                                          "text": ["El pedido llegó tarde", "Staff were lovely"]}))
    store.upsert("sentences", pd.DataFrame({"sentence_id": ["r1:c:0", "r2:c:0"], "answer_id": ["r1:c", "r2:c"],
                                            "response_id": ["r1", "r2"],
                                            "text": ["El pedido llegó tarde", "Staff were lovely"]}))
    model = [Annotation("staff", {"staff": 0.8, "delivery": 0.1}), Annotation("staff", {"staff": 0.9})]
    result = BatchResult(AnnotatorSpec("touchpoint", "vocmine.touchpoint.v1"), "vocmine.touchpoint.v1", None,
                         ("r1:c:0", "r2:c:0"), tuple(model))
    assert write_batch(store, result, "run-1") == 2
    labels = dict(store.con.execute("SELECT target_id, label FROM annotations").fetchall())
    assert labels == {"r1:c:0": "delivery", "r2:c:0": "staff"}
