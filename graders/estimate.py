"""Training-memory estimator: model states and activations per GPU, each term with its formula.

Headless and dependency-free (no torch): used by ``tutor estimate``, the app's calculator screen
and the lab grader's design-challenge check.

Conventions. Sizes are in bytes; "GB" means 10^9 bytes, as in the ZeRO paper. Ψ is the number of
parameters, N the number of data-parallel GPUs, K the optimizer-state bytes per trainable
parameter. Two accounting conventions:

``paper`` (default, Rajbhandari et al. 2020): mixed-precision Adam keeps a 16-bit copy of the
weights (2Ψ), 16-bit gradients (2Ψ) and K = 12 bytes of optimizer state (fp32 master weights,
momentum, variance), so full fine-tuning costs (2 + 2 + K)Ψ = 16Ψ; ZeRO-1 shards the optimizer
states, ZeRO-2 also the gradients, ZeRO-3 also the weights.

``deepspeed`` mirrors DeepSpeed's own estimators (``estimate_zero2_model_states_mem_needs`` /
``estimate_zero3_model_states_mem_needs``): the sharded part is 18 bytes per parameter (16-bit and
fp32 gradients, fp32 weights, momentum, variance), ZeRO-3 holds a working buffer of 4 bytes per
parameter of the largest layer, CPU figures include DeepSpeed's buffer factor 1.5 and, like
DeepSpeed's, are per node: they scale with the GPUs of one node, not with all N GPUs.

Activations follow Korthikanti et al. 2022 (no tensor/sequence parallelism): per layer
s·b·h·(34 + 5·a·s/h) bytes in 16-bit; FlashAttention removes the a·s² score term; full
activation checkpointing keeps only each layer's 2·s·b·h input plus one layer being recomputed.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Method = Literal["full", "lora", "qlora"]
Precision = Literal["fp32", "fp16", "bf16", "int8", "nf4"]
Optimizer = Literal["adam", "adamw", "sgd", "adam8bit"]
Offload = Literal["none", "optimizer", "params"]
Convention = Literal["paper", "deepspeed"]

METHODS: tuple[str, ...] = ("full", "lora", "qlora")
PRECISIONS: tuple[str, ...] = ("fp32", "fp16", "bf16", "int8", "nf4")
OPTIMIZERS: tuple[str, ...] = ("adam", "adamw", "sgd", "adam8bit")
OFFLOADS: tuple[str, ...] = ("none", "optimizer", "params")
LORA_TARGETS: dict[str, tuple[str, ...]] = {
    "qv": ("q", "v"),
    "attn": ("q", "k", "v", "o"),
    "all": ("q", "k", "v", "o", "up", "down"),
}
"""Which weight matrices of each layer get a LoRA adapter."""

GB = 1e9
NF4_BYTES = 0.5 + 0.127 / 8
"""NF4 with double quantisation: 4 bits plus 0.127 bits of constants per parameter (QLoRA §3)."""
_BYTES = {"fp32": 4.0, "fp16": 2.0, "bf16": 2.0, "int8": 1.0, "nf4": NF4_BYTES}
_DS_BUFFER = 1.5
"""DeepSpeed's additional_buffer_factor for CPU memory."""
_GPUS_PER_SERVER = 8
"""GPUs per node assumed when ``Setup.nodes`` is not given (8-GPU servers)."""

_KNOWN_SHAPES: tuple[tuple[float, int, int, int], ...] = (
    # params, layers, hidden, heads (GPT-2/GPT-3/Llama-like shapes)
    (0.125e9, 12, 768, 12),
    (0.35e9, 24, 1024, 16),
    (0.76e9, 24, 1536, 16),
    (1.3e9, 24, 2048, 16),
    (2.7e9, 32, 2560, 32),
    (6.7e9, 32, 4096, 32),
    (13e9, 40, 5120, 40),
    (30e9, 60, 6656, 52),
    (65e9, 80, 8192, 64),
    (175e9, 96, 12288, 96),
)


class EstimateError(ValueError):
    """The inputs do not describe a possible training set-up; the message says why."""


@dataclass(frozen=True)
class ModelShape:
    """Transformer shape (decoder-only)."""

    layers: int
    """Number of transformer layers L."""
    hidden: int
    """Hidden size h."""
    heads: int
    """Attention heads a."""
    kv_heads: int | None = None
    """Key/value heads (MQA = 1, GQA = groups); None = heads (multi-head)."""
    vocab: int = 50257
    """Vocabulary size V."""
    ffn: int | None = None
    """MLP inner size; None = 4h."""
    gated_mlp: bool = False
    """Gated MLP (SwiGLU, as in Llama): three h×ffn matrices (gate, up, down) instead of two."""
    tied_embeddings: bool = True
    """The output head shares the input embedding (GPT-2); False adds a separate V·h head (Llama)."""
    assumed: bool = False
    """True when the shape was guessed from the parameter count."""

    @property
    def kv_dim(self) -> int:
        """Width of the K and V projections: h·kv_heads/heads."""
        kv = self.kv_heads or self.heads
        return self.hidden * kv // self.heads

    @property
    def ffn_dim(self) -> int:
        """MLP inner width."""
        return self.ffn or 4 * self.hidden

    def params(self) -> int:
        """Parameters: embeddings V·h (twice when the head is untied) plus
        L·(2h² + 2h·kv_dim + m·h·ffn), m = 3 for a gated MLP and 2 otherwise (norms and biases
        ignored: under 0.01 % of a 7B model)."""
        h = self.hidden
        mlp_mats = 3 if self.gated_mlp else 2
        per_layer = 2 * h * h + 2 * h * self.kv_dim + mlp_mats * h * self.ffn_dim
        embeddings = self.vocab * h * (1 if self.tied_embeddings else 2)
        return embeddings + self.layers * per_layer

    def largest_layer_params(self) -> int:
        """Largest single weight matrix (the embedding, usually): what ZeRO-3 gathers at once."""
        h = self.hidden
        return max(self.vocab * h, h * self.ffn_dim, h * h)


LLAMA2_7B = ModelShape(layers=32, hidden=4096, heads=32, vocab=32000, ffn=11008, gated_mlp=True,
                       tied_embeddings=False)
"""Llama-2-7B (Touvron et al. 2023, arXiv:2307.09288): 6.74e9 parameters by :meth:`ModelShape.params`."""


def shape_for(params: float) -> ModelShape:
    """A plausible shape for ``params`` parameters (nearest known model, on a log scale)."""
    if params <= 0:
        raise EstimateError("the parameter count must be positive")
    best = min(_KNOWN_SHAPES, key=lambda s: abs(math.log(s[0]) - math.log(params)))
    return ModelShape(layers=best[1], hidden=best[2], heads=best[3], assumed=True)


@dataclass(frozen=True)
class Setup:
    """One training configuration to estimate."""

    params: float | None = None
    """Total parameters Ψ; None = computed from ``shape``."""
    shape: ModelShape | None = None
    """Model shape; None = guessed from ``params`` (only activations and LoRA sizes need it)."""
    method: Method = "full"
    """full fine-tuning, LoRA or QLoRA."""
    gpus: int = 1
    """Data-parallel GPUs N (all nodes together)."""
    nodes: int | None = None
    """Nodes the N GPUs are spread over (host-memory figures are per node); None = 8 GPUs per
    node (an 8-GPU server, as DGX/HGX machines are), i.e. ceil(N / 8)."""
    precision: Precision = "bf16"
    """Training precision (fp16/bf16 = mixed precision with fp32 master weights); int8/nf4
    quantise the frozen base weights (LoRA/QLoRA only)."""
    optimizer: Optimizer = "adamw"
    """Optimizer (sets K)."""
    zero: int = 0
    """ZeRO stage 0 (plain data parallel), 1, 2 or 3."""
    offload: Offload = "none"
    """CPU offload of the optimizer states, or of optimizer states and parameters (ZeRO-3)."""
    rank: int = 8
    """LoRA rank r."""
    lora_targets: str = "attn"
    """Adapted matrices per layer: qv, attn (q,k,v,o) or all (attention and MLP)."""
    batch: int = 1
    """Micro-batch size per GPU b."""
    seq_len: int = 2048
    """Sequence length s."""
    gradient_checkpointing: bool = False
    """Full activation checkpointing (recompute each layer in the backward pass)."""
    flash_attention: bool = False
    """Attention scores are never stored (FlashAttention)."""
    convention: Convention = "paper"
    """Accounting convention: the ZeRO paper's or DeepSpeed's estimators'."""


@dataclass
class Term:
    """One line of the breakdown."""

    key: str
    """Stable id: weights, frozen_weights, gradients, optimizer, buffer, activations, logits."""
    label: dict[str, str]
    """What it is, in en and zh-TW."""
    formula: str
    """How it is computed, with the numbers filled in."""
    bytes: float
    """Bytes per GPU (device="gpu") or in host memory (device="cpu")."""
    device: Literal["gpu", "cpu"] = "gpu"
    """Where the memory lives."""


@dataclass
class Estimate:
    """Memory per GPU for one :class:`Setup`."""

    setup: dict[str, Any]
    """The inputs, as given (plus the resolved shape)."""
    params: int
    """Ψ used."""
    trainable: int
    """Trainable parameters."""
    k: float
    """Optimizer bytes per trainable parameter."""
    terms: list[Term] = field(default_factory=list)
    """The breakdown."""
    notes: list[dict[str, str]] = field(default_factory=list)
    """Assumptions and warnings, in en and zh-TW."""

    @property
    def gpu_bytes(self) -> float:
        """Total per GPU."""
        return sum(t.bytes for t in self.terms if t.device == "gpu")

    @property
    def cpu_bytes(self) -> float:
        """Host memory of one node (the shards of that node's GPUs together)."""
        return sum(t.bytes for t in self.terms if t.device == "cpu")

    @property
    def model_state_gpu_bytes(self) -> float:
        """Per-GPU model states only (weights, gradients, optimizer, ZeRO-3 buffer)."""
        return sum(t.bytes for t in self.terms
                   if t.device == "gpu" and t.key not in ("activations", "logits"))

    def fits(self, gpu_mem_gb: float) -> bool:
        """Whether the per-GPU total fits in ``gpu_mem_gb`` GB."""
        return self.gpu_bytes <= gpu_mem_gb * GB

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (totals included)."""
        return {
            "setup": self.setup, "params": self.params, "trainable": self.trainable, "K": self.k,
            "terms": [asdict(t) for t in self.terms],
            "gpu_bytes": self.gpu_bytes, "gpu_gb": round(self.gpu_bytes / GB, 3),
            "model_state_gpu_gb": round(self.model_state_gpu_bytes / GB, 3),
            "cpu_bytes": self.cpu_bytes, "cpu_gb": round(self.cpu_bytes / GB, 3),
            "notes": self.notes,
        }


def optimizer_k(optimizer: str, mixed: bool) -> float:
    """Optimizer bytes per trainable parameter.

    Mixed precision adds the fp32 master copy (4): Adam 4+4+4 = 12, SGD with momentum 4+4 = 8,
    8-bit Adam 4+1+1 = 6. Pure fp32: Adam 8, SGD 4, 8-bit Adam 2.
    """
    states = {"adam": 8.0, "adamw": 8.0, "sgd": 4.0, "adam8bit": 2.0}
    if optimizer not in states:
        raise EstimateError(f"unknown optimizer {optimizer!r}; use one of {', '.join(OPTIMIZERS)}")
    return states[optimizer] + (4.0 if mixed else 0.0)


def lora_params(shape: ModelShape, rank: int, targets: str = "attn") -> int:
    """Trainable LoRA parameters: Σ over adapted d×k matrices of r(d + k), times L."""
    if targets not in LORA_TARGETS:
        raise EstimateError(f"unknown LoRA targets {targets!r}; use one of {', '.join(LORA_TARGETS)}")
    h, kv, f = shape.hidden, shape.kv_dim, shape.ffn_dim
    dims = {"q": (h, h), "k": (h, kv), "v": (h, kv), "o": (h, h), "up": (h, f), "down": (f, h),
            "gate": (h, f)}
    mats = LORA_TARGETS[targets]
    if shape.gated_mlp and "up" in mats:  # a gated MLP has a third matrix to adapt
        mats = (*mats, "gate")
    per_layer = sum(rank * (dims[m][0] + dims[m][1]) for m in mats)
    return shape.layers * per_layer


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def _l(en: str, zh: str) -> dict[str, str]:
    return {"en": en, "zh-TW": zh}


def _validate(s: Setup) -> None:
    if s.method not in METHODS:
        raise EstimateError(f"unknown method {s.method!r}; use one of {', '.join(METHODS)}")
    if s.precision not in PRECISIONS:
        raise EstimateError(f"unknown precision {s.precision!r}; use one of {', '.join(PRECISIONS)}")
    if s.offload not in OFFLOADS:
        raise EstimateError(f"unknown offload {s.offload!r}; use one of {', '.join(OFFLOADS)}")
    if s.zero not in (0, 1, 2, 3):
        raise EstimateError("ZeRO stage must be 0, 1, 2 or 3")
    if s.gpus < 1 or s.batch < 1 or s.seq_len < 1 or s.rank < 1:
        raise EstimateError("gpus, batch, sequence length and rank must be at least 1")
    if s.nodes is not None and (s.nodes < 1 or s.gpus % s.nodes):
        raise EstimateError(f"nodes must be at least 1 and divide the {s.gpus} GPUs evenly")
    if s.method == "full" and s.precision in ("int8", "nf4"):
        raise EstimateError("full fine-tuning cannot update int8/nf4 weights; "
                            "use --method qlora/lora or a 16/32-bit precision")
    if s.offload == "params" and s.zero != 3:
        raise EstimateError("parameter offload needs ZeRO-3 (--zero 3)")
    if s.offload != "none" and s.zero == 0:
        raise EstimateError("CPU offload needs a ZeRO stage (--zero 1, 2 or 3)")
    if s.params is None and s.shape is None:
        raise EstimateError("give the parameter count or a model shape")
    if s.params is not None and (not math.isfinite(s.params) or s.params <= 0 or s.params > 1e15):
        raise EstimateError("the parameter count must be a positive number below 1e15")


def nodes_of(s: Setup) -> int:
    """Nodes of ``s``: as given, else ceil(N / 8) (8-GPU servers)."""
    return s.nodes if s.nodes is not None else -(-s.gpus // _GPUS_PER_SERVER)


def estimate(s: Setup) -> Estimate:
    """Per-GPU training memory for ``s``, term by term (host memory per node)."""
    _validate(s)
    nodes = nodes_of(s)
    shape = s.shape or shape_for(float(s.params or 0))
    psi = int(s.params) if s.params is not None else shape.params()
    n = s.gpus
    mixed = s.precision in ("fp16", "bf16") or s.method == "qlora" or (
        s.method == "lora" and s.precision in ("int8", "nf4"))
    k = optimizer_k(s.optimizer, mixed)
    w16 = 2.0 if mixed else 4.0  # bytes of the working copy of trainable weights / gradients
    notes: list[dict[str, str]] = []
    if shape.assumed:
        notes.append(_l(
            f"shape assumed from Ψ: L={shape.layers}, h={shape.hidden}, a={shape.heads}, V={shape.vocab}",
            f"由 Ψ 推估的形狀：L={shape.layers}, h={shape.hidden}, a={shape.heads}, V={shape.vocab}"))
    if s.method == "full":
        trainable, frozen, frozen_b = psi, 0, 0.0
    else:
        trainable = lora_params(shape, s.rank, s.lora_targets)
        frozen = psi
        if s.method == "qlora":
            frozen_b = _BYTES["int8"] if s.precision == "int8" else NF4_BYTES
        else:
            frozen_b = _BYTES[s.precision]
    sh_w = n if s.zero >= 3 else 1
    sh_g = n if s.zero >= 2 else 1
    sh_o = n if s.zero >= 1 else 1
    terms: list[Term] = []
    off_opt = s.offload in ("optimizer", "params")
    off_par = s.offload == "params"
    ds = s.convention == "deepspeed"
    if frozen:
        terms.append(Term(
            "frozen_weights", _l("frozen base weights", "凍結的基礎權重"),
            f"Ψ·{_fmt(frozen_b)} B{' / N' if sh_w > 1 and not off_par else ''}"
            f"{' / nodes' if off_par else ''} = {psi:.4g}·{_fmt(frozen_b)}"
            + (f"/{n}" if sh_w > 1 and not off_par else "") + (f"/{nodes}" if off_par else ""),
            frozen * frozen_b / (nodes if off_par else sh_w), "cpu" if off_par else "gpu"))
    if ds and s.method == "full" and s.zero >= 1:
        _deepspeed_terms(terms, psi, n, nodes, s, shape)
    else:
        t = trainable
        tw = "Ψ" if s.method == "full" else "Ψ_LoRA"
        if off_par:
            terms.append(Term(
                "weights", _l("trainable weights (offloaded to CPU)", "可訓練權重（卸載至 CPU）"),
                f"{_fmt(w16)}·{tw} = {_fmt(w16)}·{t:.4g} / nodes = {_fmt(w16)}·{t:.4g}/{nodes} (this node's shards, host memory)",
                w16 * t / nodes, "cpu"))
        else:
            terms.append(Term(
                "weights", _l("trainable weights (working copy)", "可訓練權重（運算副本）"),
                f"{_fmt(w16)}·{tw}{' / N' if sh_w > 1 else ''} = {_fmt(w16)}·{t:.4g}"
                + (f"/{n}" if sh_w > 1 else ""),
                w16 * t / sh_w))
        if off_opt:  # ZeRO-Offload: gradients go to the CPU, where the optimizer steps
            terms.append(Term(
                "gradients", _l("gradients (offloaded to CPU)", "梯度（卸載至 CPU）"),
                f"{_fmt(w16)}·{tw} = {_fmt(w16)}·{t:.4g} / nodes = {_fmt(w16)}·{t:.4g}/{nodes} (this node's shards, host memory)",
                w16 * t / nodes, "cpu"))
        else:
            terms.append(Term(
                "gradients", _l("gradients", "梯度"),
                f"{_fmt(w16)}·{tw}{' / N' if sh_g > 1 else ''} = {_fmt(w16)}·{t:.4g}"
                + (f"/{n}" if sh_g > 1 else ""),
                w16 * t / sh_g))
        if off_opt:
            terms.append(Term(
                "optimizer", _l("optimizer states (offloaded to CPU)", "優化器狀態（卸載至 CPU）"),
                f"K·{tw} / nodes = {_fmt(k)}·{t:.4g}/{nodes} (this node's shards, host memory)",
                k * t / nodes, "cpu"))
        else:
            terms.append(Term(
                "optimizer", _l("optimizer states", "優化器狀態"),
                f"K·{tw}{' / N' if sh_o > 1 else ''} = {_fmt(k)}·{t:.4g}"
                + (f"/{n}" if sh_o > 1 else ""),
                k * t / sh_o))
    _activation_terms(terms, s, shape)
    if s.precision == "fp16":
        notes.append(_l("fp16 needs loss scaling; bf16 does not",
                        "fp16 需要 loss scaling；bf16 不需要"))
    if s.nodes is None and n > 1 and any(t.device == "cpu" for t in terms):
        notes.append(_l(f"host memory is per node, assuming 8 GPUs per node ({nodes} node(s))",
                        f"主機記憶體以每個節點計，假設每節點 8 張 GPU（共 {nodes} 個節點）"))
    if s.zero and n == 1:
        notes.append(_l("ZeRO with one GPU shards nothing (N = 1)",
                        "只有一張 GPU 時 ZeRO 無從切分（N = 1）"))
    setup = asdict(s)
    setup["shape"] = asdict(shape)
    return Estimate(setup=setup, params=psi, trainable=trainable, k=k, terms=terms, notes=notes)


def _deepspeed_terms(terms: list[Term], psi: int, n: int, nodes: int, s: Setup,
                     shape: ModelShape) -> None:
    """Model states as DeepSpeed's estimators count them (full fine-tuning, mixed Adam).

    Host memory is per node, as in ``estimate_zero2/3_model_states_mem_needs(total_params,
    num_gpus_per_node, num_nodes)``: the staging buffers scale with the GPUs of one node, the
    offloaded ZeRO-3 states are split over the nodes. (The ZeRO-2 offload figure uses all N GPUs
    in DeepSpeed's own code; mirrored as is.)
    """
    off_opt = s.offload in ("optimizer", "params")
    g = n // nodes  # GPUs per node
    if s.zero in (1, 2) and not off_opt:
        terms.append(Term("weights", _l("16-bit weights", "16 位元權重"),
                          f"2·Ψ = 2·{psi:.4g}", 2 * psi))
        terms.append(Term("optimizer",
                          _l("sharded grads (16+32 bit), fp32 weights, Adam m and v",
                             "切分的梯度（16+32 位元）、fp32 權重、Adam m 與 v"),
                          f"int(18·Ψ / N) = int(18·{psi:.4g}/{n})", int(18 * psi / n)))
        terms.append(Term("cpu_buffer", _l("host staging buffer", "主機暫存緩衝"),
                          f"4·Ψ·(GPUs per node)·{_DS_BUFFER} = 4·{psi:.4g}·{g}·{_DS_BUFFER}",
                          psi * 4 * g * _DS_BUFFER, "cpu"))
    elif s.zero in (1, 2):
        terms.append(Term("weights", _l("16-bit weights", "16 位元權重"),
                          f"2·Ψ = 2·{psi:.4g}", 2 * psi))
        terms.append(Term("optimizer", _l("optimizer states and fp32 copies on CPU",
                                          "CPU 上的優化器狀態與 fp32 副本"),
                          f"Ψ·max(4·N, 16)·{_DS_BUFFER}", psi * max(4 * n, 16) * _DS_BUFFER,
                          "cpu"))
    else:
        big = shape.largest_layer_params()
        terms.append(Term("buffer", _l("largest layer, gathered (fp32)", "最大層聚合緩衝（fp32）"),
                          f"4·largest_layer = 4·{big:.4g}", 4 * big))
        if not off_opt:
            terms.append(Term("optimizer", _l("sharded model states", "切分的模型狀態"),
                              f"int(18·Ψ / N) = int(18·{psi:.4g}/{n})", int(18 * psi / n)))
            terms.append(Term("cpu_buffer", _l("host buffer (zero.Init)", "主機緩衝（zero.Init）"),
                              f"4·largest_layer·(GPUs per node)·{_DS_BUFFER} = "
                              f"4·{big:.4g}·{g}·{_DS_BUFFER}", big * 4 * g * _DS_BUFFER, "cpu"))
        elif s.offload == "optimizer":
            terms.append(Term("weights", _l("sharded 16-bit weights", "切分的 16 位元權重"),
                              f"int(2·Ψ / N) = int(2·{psi:.4g}/{n})", int(2 * psi / n)))
            terms.append(Term("optimizer", _l("optimizer states on CPU", "CPU 上的優化器狀態"),
                              f"16·Ψ·{_DS_BUFFER} / nodes = 16·{psi:.4g}·{_DS_BUFFER}/{nodes}",
                              psi * 16 * _DS_BUFFER / nodes, "cpu"))
        else:
            terms.append(Term("optimizer", _l("all model states on CPU", "所有模型狀態在 CPU"),
                              f"18·Ψ·{_DS_BUFFER} / nodes = 18·{psi:.4g}·{_DS_BUFFER}/{nodes}",
                              psi * 18 * _DS_BUFFER / nodes, "cpu"))


def _activation_terms(terms: list[Term], s: Setup, shape: ModelShape) -> None:
    b, sl, h, a, L = s.batch, s.seq_len, shape.hidden, shape.heads, shape.layers
    scale = 2.0 if s.precision == "fp32" else 1.0  # the formula counts 16-bit activations
    per_layer_lin = 34 * sl * b * h
    scores = 0 if s.flash_attention else 5 * a * sl * sl * b
    per_layer = (per_layer_lin + scores) * scale
    att = "" if s.flash_attention else " + 5·a·s²·b"
    if s.gradient_checkpointing:
        value = (L * 2 * sl * b * h) * scale + per_layer
        formula = (f"L·2·s·b·h + (34·s·b·h{att}) = {L}·2·{sl}·{b}·{h} + one layer"
                   + (" (×2 for fp32)" if scale > 1 else ""))
        label = _l("activations (checkpointed: layer inputs + one layer)",
                   "激活值（檢查點：各層輸入 + 一層重算）")
    else:
        value = L * per_layer
        formula = (f"L·(34·s·b·h{att}) = {L}·(34·{sl}·{b}·{h}"
                   + ("" if s.flash_attention else f" + 5·{a}·{sl}²·{b}") + ")"
                   + (" ×2 (fp32)" if scale > 1 else ""))
        label = _l("activations", "激活值")
    terms.append(Term("activations", label, formula, value))
    terms.append(Term("logits", _l("output logits (fp32)", "輸出 logits（fp32）"),
                      f"4·s·b·V = 4·{sl}·{b}·{shape.vocab}", 4.0 * sl * b * shape.vocab))


# ----------------------------------------------------------------------------------------------
# the seed's decision tree as an advisor
# ----------------------------------------------------------------------------------------------


@dataclass
class Advice:
    """What to use for a model of a given size on given hardware, and why."""

    recommendation: dict[str, str]
    """The decision tree's branch, in en and zh-TW."""
    concepts: list[str]
    """Concept ids of the recommended techniques."""
    reasons: list[dict[str, str]]
    """Why, with the memory arithmetic, in en and zh-TW."""
    fitting: list[str]
    """Candidate set-ups (by name) whose per-GPU estimate fits the GPU memory."""
    estimates: dict[str, float] = field(default_factory=dict)
    """Candidate name -> per-GPU GB (model states + activations at b=1, s=2048, checkpointing)."""


_TREE: tuple[tuple[float, float | None, dict[str, str], list[str]], ...] = (
    (0.0, 7.0, _l("LoRA on a single GPU", "單 GPU + LoRA"), ["lora"]),
    # ERRATA #4: QLoRA fits one GPU up to ~33B (24 GB); DDP only adds throughput, it does not
    # lower the memory per GPU (every rank holds the whole 4-bit model).
    (7.0, 30.0, _l("QLoRA on one GPU (add data parallelism only for throughput: it does not "
                   "reduce the memory per GPU)",
                   "單張 GPU + QLoRA（資料平行只用來提高吞吐量：它不會降低每張 GPU 的記憶體）"),
     ["qlora", "data-parallelism"]),
    (30.0, 70.0, _l("DeepSpeed ZeRO-3", "DeepSpeed ZeRO-3"), ["zero-3"]),
    # ERRATA #5: the Megatron-LM recipe is 3D parallelism, not pipeline parallelism alone.
    (70.0, None, _l("3D parallelism (Megatron-LM): tensor parallelism inside a node, pipeline "
                    "parallelism across nodes, data parallelism (often with ZeRO-1) across replicas",
                    "3D 平行（Megatron-LM）：節點內張量平行、節點間管線平行、副本間資料平行（常搭配 ZeRO-1）"),
     ["tensor-parallelism", "pipeline-parallelism", "data-parallelism"]),
)


def advise(params_b: float, gpus: int, gpu_mem_gb: float) -> Advice:
    """Apply the seed's technique decision tree and check it against the estimator.

    Tree (seed thresholds, course wording, ERRATA #4/#5): < 7B → LoRA on one GPU; 7B–30B →
    QLoRA on one GPU (DDP only for throughput); 30B–70B → ZeRO-3; ≥ 70B → 3D parallelism
    (tensor inside a node, pipeline across nodes, data parallelism across replicas).
    """
    if not math.isfinite(params_b) or params_b <= 0:
        raise EstimateError("the model size must be a positive number of billions")
    if gpus < 1 or not math.isfinite(gpu_mem_gb) or gpu_mem_gb <= 0:
        raise EstimateError("gpus must be ≥ 1 and GPU memory positive")
    rule = next(r for r in _TREE if params_b >= r[0] and (r[1] is None or params_b < r[1]))
    psi = params_b * 1e9
    cands: dict[str, Setup] = {
        "full": Setup(params=psi, gpus=gpus),
        "lora": Setup(params=psi, method="lora", gpus=gpus),
        "qlora": Setup(params=psi, method="qlora", gpus=gpus),
        "zero-3": Setup(params=psi, gpus=gpus, zero=3),
        "zero-3+offload": Setup(params=psi, gpus=gpus, zero=3, offload="params"),
    }
    est = {name: estimate(Setup(**{**asdict(c), "shape": None, "gradient_checkpointing": True,
                                    "flash_attention": True}))
           for name, c in cands.items()}
    gbs = {name: round(e.gpu_bytes / GB, 2) for name, e in est.items()}
    fitting = [name for name, g in gbs.items() if g <= gpu_mem_gb]
    full_states = 16 * psi / GB
    reasons = [
        _l(f"{params_b:.3g}B parameters falls in the tree's branch "
           f"{rule[0]:g}B–{'∞' if rule[1] is None else f'{rule[1]:g}B'}",
           f"{params_b:.3g}B 參數落在決策樹的 {rule[0]:g}B–"
           f"{'∞' if rule[1] is None else f'{rule[1]:g}B'} 分支"),
        _l(f"full fine-tuning with mixed-precision Adam needs 16Ψ = {full_states:.1f} GB of model "
           f"states per GPU (ZeRO-3 over {gpus} GPU(s): {full_states / gpus:.1f} GB)",
           f"混合精度 Adam 全參數微調需 16Ψ = {full_states:.1f} GB 模型狀態／GPU"
           f"（ZeRO-3 分到 {gpus} 張：{full_states / gpus:.1f} GB）"),
        _l(f"LoRA keeps the base weights at 2Ψ = {2 * psi / GB:.1f} GB; QLoRA at ~0.52Ψ = "
           f"{NF4_BYTES * psi / GB:.1f} GB",
           f"LoRA 基礎權重 2Ψ = {2 * psi / GB:.1f} GB；QLoRA 約 0.52Ψ = {NF4_BYTES * psi / GB:.1f} GB"),
    ]
    if fitting:
        reasons.append(_l(f"fits in {gpu_mem_gb:g} GB per GPU: {', '.join(fitting)}",
                          f"可放入每張 {gpu_mem_gb:g} GB：{', '.join(fitting)}"))
    else:
        reasons.append(_l(f"none of the candidates fits in {gpu_mem_gb:g} GB per GPU; add GPUs "
                          "or use model parallelism",
                          f"沒有任何方案放得進每張 {gpu_mem_gb:g} GB；請增加 GPU 或使用模型平行"))
    return Advice(recommendation=rule[2], concepts=list(rule[3]), reasons=reasons,
                  fitting=fitting, estimates=gbs)


def _width(text: str) -> int:
    """Terminal cells: East Asian wide/full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def _pad(text: str, width: int, right: bool = False) -> str:
    fill = " " * max(0, width - _width(text))
    return fill + text if right else text + fill


def format_table(e: Estimate, lang: str = "en") -> str:
    """The breakdown as a plain-text table."""
    rows = [(t.label.get(lang, t.label["en"]), t.device, f"{t.bytes / GB:,.3f}", t.formula)
            for t in e.terms]
    head = ("term", "where", "GB", "formula") if lang != "zh-TW" else ("項目", "位置", "GB", "公式")
    total = "total per GPU" if lang != "zh-TW" else "每張 GPU 合計"
    cpu = "host (CPU) memory per node" if lang != "zh-TW" else "每節點主機（CPU）記憶體"
    foot = [(total, "gpu", f"{e.gpu_bytes / GB:,.3f}", "")]
    if e.cpu_bytes:
        foot.append((cpu, "cpu", f"{e.cpu_bytes / GB:,.3f}", ""))
    widths = [max(_width(r[i]) for r in [head, *rows, *foot]) for i in range(3)]

    def line(r: tuple[str, str, str, str]) -> str:
        return (f"{_pad(r[0], widths[0])}  {_pad(r[1], widths[1])}  "
                f"{_pad(r[2], widths[2], right=True)}  {r[3]}").rstrip()

    rule = "-" * (sum(widths) + 16)
    lines = [line(head), rule, *(line(r) for r in rows), rule, *(line(r) for r in foot)]
    trainable = "trainable parameters" if lang != "zh-TW" else "可訓練參數"
    lines.append(f"Ψ = {e.params:,}   {trainable}: {e.trainable:,} "
                 f"({100 * e.trainable / e.params:.3g} %)   K = {e.k:g}")
    for note in e.notes:
        lines.append("note: " + note.get(lang, note["en"]))
    return "\n".join(lines)
