"""Generate the shipped per-layer tables ``data/dnn/<name>{.yaml,_major.csv,_module.csv}``.

Usage::

    python -m layerplan.tools.layer_tables --out data/dnn [--model NAME ...]

The tables are derived from the torchvision model definitions (``weights=None``, nothing
is downloaded) by running one dummy image of batch 1 through the model with forward
hooks on every leaf module, in execution order. torch and torchvision are imported only
inside the functions that need them, so this module (and the CSV/YAML files it writes)
can be used without torch. The counting rules, the two granularities, the SSD300
linearization, the ViT residual handling and the early-exit AlexNet are documented in
``docs/layer_tables.md``.

Summary of the rules implemented here
-------------------------------------
* ``flop`` = 2 x MAC, MAC counted with ptflops' conventions (see :func:`_module_macs`).
  Functional (non-module) operations are not layers and are not counted: ``torch.flatten``,
  reshapes/permutes, the ViT class-token concat, position-embedding add and residual
  adds, the ViT class-token selection ``x[:, 0]``, SSD's L2 normalization and the
  reshapes/concats of the SSD heads.
* ``weights`` = parameters of the leaf module. Parameters that belong to no leaf module
  are attributed to the first leaf module that consumes the functional op using them:
  ViT ``class_token`` and ``encoder.pos_embedding`` -> ``encoder.dropout``; SSD
  ``backbone.scale_weight`` (L2Norm) -> the first head conv of feature map 0.
* ``carry_elems`` is computed from the data flow by liveness: the transfer after row
  *i* carries every tensor produced at or before *i* (other than row *i*'s own output)
  that a row after *i* still consumes. Network outputs that no later row consumes (SSD
  head outputs, the early-exit logits) are sent once, as the producing row's output.
* ``major`` rows group contiguous ``module`` rows (split at each conv/linear; ViT uses a
  block-level split); a major row's output and carry are those of its last member.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import textwrap
from dataclasses import dataclass, field
from typing import Callable, Sequence

CSV_COLUMNS = (
    "name",
    "kind",
    "flop",
    "weights",
    "out_h",
    "out_w",
    "out_d",
    "carry_elems",
    "exec_prob",
    "members",
)
KINDS = (
    "conv",
    "linear",
    "relu",
    "gelu",
    "maxpool",
    "avgpool",
    "flatten",
    "dropout",
    "norm",
    "attention",
    "embed",
    "encoder",
    "head",
    "other",
    "block",
    "sppf",
    "concat",
    "upsample",
    "detect",
)
MODEL_NAMES = ("alexnet", "vgg11", "vgg16", "ssd300", "vit_b_16", "alexnet_ee", "vit_l_16", "vit_h_14")
#: Models built with ultralytics (``pip install ultralytics``), generated only when asked for by name.
ULTRALYTICS_MODELS = ("yolo11n", "yolo11s", "yolo11m")
NOTE_YOLO = (
        "Built by ultralytics from the model YAML (no weights). Both granularities are the 24 "
        "top-level blocks b0..b23 in YAML order (cuts inside C3k2/C2PSA blocks are not "
        "modelled); carry_elems holds the backbone/neck feature maps that Concat and Detect "
        "consume later. FLOP = 2 x MAC of Conv2d/BatchNorm2d/MaxPool2d (ptflops rules), SiLU "
        "(numel) and C2PSA's attention products; Upsample/Concat and Detect's box decoding "
        "are not counted."
    )
GRANULARITIES = ("major", "module")
ALPHA_B = 4
#: Probability of leaving at the early exit after conv2 (thesis Sec. 6.4, after BranchyNet).
EARLY_EXIT_PROB = 0.656
#: Number of major layers each model must have (Table 4.2 where listed).
EXPECTED_MAJOR_COUNT = {
    "alexnet": 8,
    "vgg11": 11,
    "vgg16": 16,
    "ssd300": 35,
    "vit_b_16": 16,
    "alexnet_ee": 11,
    "vit_l_16": 28,  # patch_embed, embed, 24 encoder blocks, ln, head
    "vit_h_14": 36,  # patch_embed, embed, 32 encoder blocks, ln, head
    "yolo11n": 24,  # the 24 top-level blocks of the model YAML (0..22 and Detect)
    "yolo11s": 24,
    "yolo11m": 24,
}
MODEL_INPUT = "<input>"


@dataclass
class ModuleRow:
    """One leaf-module call, in chain order."""

    name: str
    kind: str
    mac: int
    weights: int
    out_shape: tuple[int, int, int]
    consumes: list[str] = field(default_factory=list)
    exec_prob: float = 1.0

    @property
    def out_elems(self) -> int:
        h, w, d = self.out_shape
        return h * w * d


@dataclass
class TableRow:
    """One CSV row."""

    name: str
    kind: str
    flop: int
    weights: int
    out_shape: tuple[int, int, int]
    carry_elems: int
    exec_prob: float
    members: tuple[str, ...]

    def as_csv(self) -> list[str]:
        h, w, d = self.out_shape
        return [
            self.name,
            self.kind,
            str(self.flop),
            str(self.weights),
            str(h),
            str(w),
            str(d),
            str(self.carry_elems),
            _format_prob(self.exec_prob),
            "+".join(self.members),
        ]


@dataclass
class ModelTables:
    name: str
    description: str
    input_hw: tuple[int, int]
    notes: str
    module: list[TableRow]
    major: list[TableRow]
    versions: tuple[str, str]


# --------------------------------------------------------------------------- counting


def _format_prob(p: float) -> str:
    text = format(round(p, 6), ".6g")
    return text if any(c in text for c in ".e") else text + ".0"


def _hwd(shape: Sequence[int]) -> tuple[int, int, int]:
    """(N, C, H, W) -> (H, W, C); (N, L, E) -> (1, L, E); (N, F) -> (1, 1, F)."""
    dims = tuple(int(s) for s in shape)
    if dims[0] != 1:
        raise ValueError(f"expected batch 1, got shape {dims}")
    if len(dims) == 4:
        return (dims[2], dims[3], dims[1])
    if len(dims) == 3:
        return (1, dims[1], dims[2])
    if len(dims) == 2:
        return (1, 1, dims[1])
    raise ValueError(f"unsupported output shape {dims}")


def _kind_of(module) -> str:
    from torch import nn

    table = (
        (nn.Conv2d, "conv"),
        (nn.Linear, "linear"),
        (nn.ReLU, "relu"),
        (nn.GELU, "gelu"),
        (nn.MaxPool2d, "maxpool"),
        ((nn.AvgPool2d, nn.AdaptiveAvgPool2d), "avgpool"),
        (nn.Flatten, "flatten"),
        (nn.Dropout, "dropout"),
        ((nn.LayerNorm, nn.BatchNorm2d), "norm"),
        (nn.MultiheadAttention, "attention"),
    )
    for cls, kind in table:
        if isinstance(module, cls):
            return kind
    raise TypeError(f"no counting rule for leaf module {type(module).__name__}")


def _module_macs(module, in_shapes: Sequence[tuple[int, ...]], out_shape: tuple[int, ...]) -> int:
    """Multiply-accumulate count of one leaf-module call, following ptflops' conventions.

    * Conv2d: out_elems * (kH*kW*in_ch/groups) + out_elems (bias).
    * Linear: prod(input dims but the last) * (in_features*out_features + out_features
      (bias)); for a vector input this is numel(input)*out_features + out_features.
    * ReLU, GELU: numel(output). MaxPool/AvgPool/AdaptiveAvgPool: numel(input).
    * LayerNorm, BatchNorm: numel(input), doubled when affine.
    * Dropout, Flatten: 0.
    * MultiheadAttention (query length Lq, key/value length Lk, embed dim E, h heads of
      dim E/h): query scaling Lq*E + q/k/v projections (Lq+2*Lk)*E*E + their biases
      (Lq+2*Lk)*E + per head [Lq*Lk*E/h (Q K^T) + Lq*Lk (softmax) + Lq*Lk*E/h (A V)]
      + output projection Lq*E*E + Lq*E (bias).
    """
    from torch import nn

    out_elems = math.prod(out_shape)
    in_elems = math.prod(in_shapes[0]) if in_shapes else 0
    if isinstance(module, nn.Conv2d):
        kh, kw = module.kernel_size
        mac = out_elems * (kh * kw * module.in_channels // module.groups)
        return mac + (out_elems if module.bias is not None else 0)
    if isinstance(module, nn.Linear):
        rows = math.prod(in_shapes[0][:-1])
        per_row = module.in_features * module.out_features
        per_row += module.out_features if module.bias is not None else 0
        return rows * per_row
    if isinstance(module, (nn.ReLU, nn.GELU)):
        return out_elems
    if isinstance(module, (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d)):
        return in_elems
    if isinstance(module, nn.LayerNorm):
        return in_elems * (2 if module.elementwise_affine else 1)
    if isinstance(module, nn.BatchNorm2d):
        return in_elems * (2 if module.affine else 1)
    if isinstance(module, (nn.Dropout, nn.Flatten)):
        return 0
    if isinstance(module, nn.MultiheadAttention):
        q, k, v = in_shapes[:3]
        seq = 1 if module.batch_first else 0
        lq, lk, lv = q[seq], k[seq], v[seq]
        e, heads = module.embed_dim, module.num_heads
        head_dim = e // heads
        mac = lq * e  # query scaling
        mac += (lq + lk + lv) * e * e  # q, k, v projections
        if module.in_proj_bias is not None:
            mac += (lq + lk + lv) * e
        mac += heads * (lq * lk * head_dim + lq * lk + lq * lk * head_dim)
        mac += lq * e * e + (lq * e if module.out_proj.bias is not None else 0)
        return mac
    raise TypeError(f"no counting rule for leaf module {type(module).__name__}")


@dataclass
class _Call:
    name: str
    module: object
    in_shapes: list[tuple[int, ...]]
    out_shape: tuple[int, ...]


def _leaf_modules(model) -> list[tuple[str, object]]:
    """Modules without children, plus MultiheadAttention treated as a leaf."""
    from torch import nn

    leaves = []
    opaque: list[str] = []
    for name, module in model.named_modules():
        if any(name.startswith(prefix + ".") for prefix in opaque):
            continue
        if isinstance(module, nn.MultiheadAttention):
            opaque.append(name)
            leaves.append((name, module))
        elif name and not any(True for _ in module.children()):
            leaves.append((name, module))
    return leaves


def _trace(model, run: Callable[[], object]) -> list[_Call]:
    """Run ``run()`` under forward hooks on every leaf module; calls in execution order."""
    import torch

    calls: list[_Call] = []
    seen: dict[str, int] = {}
    handles = []

    def make_hook(name):
        def hook(module, args, output):
            out = output[0] if isinstance(output, tuple) else output
            count = seen.get(name, 0)
            seen[name] = count + 1
            call_name = name if count == 0 else f"{name}#{count}"
            in_shapes = [tuple(a.shape) for a in args if torch.is_tensor(a)]
            calls.append(_Call(call_name, module, in_shapes, tuple(out.shape)))

        return hook

    for name, module in _leaf_modules(model):
        handles.append(module.register_forward_hook(make_hook(name)))
    try:
        with torch.no_grad():
            run()
    finally:
        for handle in handles:
            handle.remove()
    return calls


def _rows_from_calls(calls: list[_Call]) -> list[ModuleRow]:
    """Module rows in execution order; each consumes the previous call's output."""
    rows = []
    previous = MODEL_INPUT
    for call in calls:
        weights = sum(int(p.numel()) for p in call.module.parameters())
        rows.append(
            ModuleRow(
                name=call.name,
                kind=_kind_of(call.module),
                mac=_module_macs(call.module, call.in_shapes, call.out_shape),
                weights=weights,
                out_shape=_hwd(call.out_shape),
                consumes=[previous],
            )
        )
        previous = call.name
    return rows


# --------------------------------------------------------------------------- chains


def _carries(rows: list[ModuleRow]) -> list[int]:
    """Liveness: elements besides row i's output that must travel after row i."""
    pos = {row.name: i for i, row in enumerate(rows)}
    size = {row.name: row.out_elems for row in rows}
    last_use: dict[str, int] = {}
    for i, row in enumerate(rows):
        for producer in row.consumes:
            if producer == MODEL_INPUT:
                if i != 0:
                    raise ValueError(f"{row.name}: only the first row may consume the model input")
                continue
            if producer not in pos:
                raise ValueError(f"{row.name} consumes unknown row {producer}")
            if pos[producer] >= i:
                raise ValueError(f"{row.name} consumes {producer}, which comes later in the chain")
            last_use[producer] = max(last_use.get(producer, -1), i)
    carries = []
    for i, row in enumerate(rows):
        carry = 0
        for producer, last in last_use.items():
            if producer != row.name and pos[producer] < i < last:
                carry += size[producer]
        carries.append(carry)
    return carries


def _module_table(rows: list[ModuleRow]) -> list[TableRow]:
    carries = _carries(rows)
    return [
        TableRow(
            name=row.name,
            kind=row.kind,
            flop=2 * row.mac,
            weights=row.weights,
            out_shape=row.out_shape,
            carry_elems=carry,
            exec_prob=row.exec_prob,
            members=(row.name,),
        )
        for row, carry in zip(rows, carries)
    ]


@dataclass
class _Group:
    name: str
    kind: str
    members: list[int]


def _split_at_compute(rows: list[ModuleRow]) -> list[list[int]]:
    """Split before every conv/linear; everything else joins the preceding group."""
    groups: list[list[int]] = []
    for i, row in enumerate(rows):
        if not groups or row.kind in ("conv", "linear"):
            groups.append([i])
        else:
            groups[-1].append(i)
    return groups


def _major_table(module_rows: list[TableRow], groups: list[_Group]) -> list[TableRow]:
    flat = [i for g in groups for i in g.members]
    if flat != list(range(len(module_rows))):
        raise ValueError("major groups must be contiguous runs covering every module row in order")
    out = []
    for group in groups:
        members = [module_rows[i] for i in group.members]
        last = members[-1]
        probs = {m.exec_prob for m in members}
        if len(probs) != 1:
            raise ValueError(f"major row {group.name} mixes exec_prob values {sorted(probs)}")
        out.append(
            TableRow(
                name=group.name,
                kind=group.kind,
                flop=sum(m.flop for m in members),
                weights=sum(m.weights for m in members),
                out_shape=last.out_shape,
                carry_elems=last.carry_elems,
                exec_prob=last.exec_prob,
                members=tuple(m.name for m in members),
            )
        )
    return out


def _named_groups(rows: list[ModuleRow], names: Sequence[str]) -> list[_Group]:
    spans = _split_at_compute(rows)
    if len(spans) != len(names):
        raise ValueError(f"expected {len(names)} major layers, found {len(spans)}")
    return [_Group(n, rows[s[0]].kind, s) for n, s in zip(names, spans)]


def _conv_fc_names(rows: list[ModuleRow], fc_start: int = 1) -> list[str]:
    names, conv, fc = [], 0, fc_start - 1
    for span in _split_at_compute(rows):
        if rows[span[0]].kind == "conv":
            conv += 1
            names.append(f"conv{conv}")
        else:
            fc += 1
            names.append(f"fc{fc}")
    return names


# --------------------------------------------------------------------------- models


def _dummy(h: int, w: int):
    import torch

    torch.manual_seed(0)
    return torch.randn(1, 3, h, w)


def _check_weights(model, rows: list[ModuleRow], name: str) -> None:
    total = sum(int(p.numel()) for p in model.parameters())
    counted = sum(r.weights for r in rows)
    if total != counted:
        raise ValueError(f"{name}: rows hold {counted} weights but the model has {total}")


def _build_alexnet():
    import torchvision

    model = torchvision.models.alexnet(weights=None).eval()
    x = _dummy(224, 224)
    rows = _rows_from_calls(_trace(model, lambda: model(x)))
    _check_weights(model, rows, "alexnet")
    names = ["conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8"]
    return rows, lambda r: _named_groups(r, names)


def _build_vgg(arch: str):
    import torchvision

    model = getattr(torchvision.models, arch)(weights=None).eval()
    x = _dummy(224, 224)
    rows = _rows_from_calls(_trace(model, lambda: model(x)))
    _check_weights(model, rows, arch)
    return rows, lambda r: _named_groups(r, _conv_fc_names(r))


#: SSD300 backbone major names (VGG16 conv1_1..conv4_3, conv5_x, fc6/fc7 as dilated
#: convs, then the extra layers conv8..conv11 of the SSD paper).
_SSD_BACKBONE_NAMES = (
    "conv1_1 conv1_2 conv2_1 conv2_2 conv3_1 conv3_2 conv3_3 conv4_1 conv4_2 conv4_3 "
    "conv5_1 conv5_2 conv5_3 fc6 fc7 conv8_1 conv8_2 conv9_1 conv9_2 conv10_1 conv10_2 "
    "conv11_1 conv11_2"
).split()


def _build_ssd300():
    """SSD300-VGG16 backbone + heads as a chain (see docs/layer_tables.md).

    Runs ``model.backbone`` and ``model.head`` only: GeneralizedRCNNTransform
    (normalize/resize), anchor generation and box decoding/NMS are excluded. The
    regression and classification head convs of feature map k are placed right after
    the major layer that produces feature map k (i.e. before the next backbone conv);
    within a level regression comes first, as in ``SSDHead.forward``.
    """
    import torchvision

    model = torchvision.models.detection.ssd300_vgg16(weights=None, weights_backbone=None).eval()
    x = _dummy(300, 300)

    def run():
        feats = model.backbone(x)
        model.head(list(feats.values()))

    rows = _rows_from_calls(_trace(model, run))
    by_name = {r.name: r for r in rows}
    backbone = [r for r in rows if r.name.startswith("backbone.")]
    reg = [r for r in rows if r.name.startswith("head.regression_head.")]
    cls = [r for r in rows if r.name.startswith("head.classification_head.")]
    if len(backbone) + len(reg) + len(cls) != len(rows) or len(reg) != 6 or len(cls) != 6:
        raise ValueError("unexpected SSD300 module structure")

    # Producers of the six feature maps: last module of `features`, then of each extra block.
    producers = ["backbone.features.22"] + [
        [r.name for r in backbone if r.name.startswith(f"backbone.extra.{k}.")][-1] for k in range(5)
    ]
    for k, producer in enumerate(producers):
        reg[k].consumes = [producer]
        cls[k].consumes = [producer]
        if reg[k].out_shape[:2] != by_name[producer].out_shape[:2]:
            raise ValueError(f"head {k} does not match feature map of {producer}")
    # L2Norm (rescaled = scale_weight * normalize(conv4_3)) feeds only the level-0 heads;
    # its 512 scale parameters are attributed to the first of them.
    reg[0].weights += int(model.backbone.scale_weight.numel())

    # Chain: insert the heads of level k before the first backbone conv after its producer.
    chain: list[ModuleRow] = []
    pending: list[ModuleRow] = []
    producer_level = {p: k for k, p in enumerate(producers)}
    for row in backbone:
        if row.kind == "conv" and pending:
            chain.extend(pending)
            pending = []
        chain.append(row)
        if row.name in producer_level:
            k = producer_level[row.name]
            pending = [reg[k], cls[k]]
    chain.extend(pending)
    _check_weights(model, chain, "ssd300")

    def groups(r: list[ModuleRow]) -> list[_Group]:
        spans = _split_at_compute(r)
        out, bb = [], iter(_SSD_BACKBONE_NAMES)
        for span in spans:
            first = r[span[0]].name
            if first.startswith("head.regression_head.module_list."):
                name = "reg" + first.rsplit(".", 1)[1]
            elif first.startswith("head.classification_head.module_list."):
                name = "cls" + first.rsplit(".", 1)[1]
            else:
                name = next(bb)
            out.append(_Group(name, r[span[0]].kind, span))
        if next(bb, None) is not None:
            raise ValueError("SSD300 backbone has fewer convs than expected")
        return out

    return chain, groups


def _build_vit_b_16(arch: str = "vit_b_16"):
    """ViT-B/16 (or another torchvision ViT, ``arch``); residual adds are done right after the row producing their last operand.

    Block k: ``x = dropout(attn(ln_1(x0))) + x0`` happens after the ``dropout`` row, so
    x0 is carried across ``ln_1`` and ``self_attention``; ``out = x + mlp(ln_2(x))``
    happens after ``mlp.4``, so x is carried across ``ln_2`` and ``mlp.0``..``mlp.3``.
    """
    import torchvision

    model = getattr(torchvision.models, arch)(weights=None).eval()
    x = _dummy(224, 224)
    rows = _rows_from_calls(_trace(model, lambda: model(x)))
    by_name = {r.name: r for r in rows}
    pos = {r.name: i for i, r in enumerate(rows)}
    # Class token concat and position-embedding add feed encoder.dropout.
    by_name["encoder.dropout"].weights += int(model.class_token.numel())
    by_name["encoder.dropout"].weights += int(model.encoder.pos_embedding.numel())
    blocks = [n for n, _ in model.encoder.layers.named_children()]
    for block in blocks:
        prefix = f"encoder.layers.{block}."
        ln_1 = prefix + "ln_1"
        block_input = rows[pos[ln_1] - 1].name
        by_name[prefix + "dropout"].consumes.append(block_input)
        by_name[prefix + "mlp.4"].consumes.append(prefix + "dropout")
    _check_weights(model, rows, arch)

    def groups(r: list[ModuleRow]) -> list[_Group]:
        index = {row.name: i for i, row in enumerate(r)}
        out = [
            _Group("patch_embed", "conv", [index["conv_proj"]]),
            _Group("embed", "embed", [index["encoder.dropout"]]),
        ]
        for k, block in enumerate(blocks):
            prefix = f"encoder.layers.{block}."
            members = [i for i, row in enumerate(r) if row.name.startswith(prefix)]
            out.append(_Group(f"encoder_{k}", "encoder", members))
        out.append(_Group("ln", "norm", [index["encoder.ln"]]))
        out.append(_Group("head", "head", [index["heads.head"]]))
        return out

    return rows, groups


def _yolo_block_macs(block, calls_by_prefix) -> int:
    """MAC of one YOLO11 top-level block: its leaf modules (Conv2d, BatchNorm2d, MaxPool2d
    with ptflops' rules; SiLU numel(output); Upsample, Concat, Identity 0) plus the
    functional attention products of C2PSA (per head: N x N x key_dim for q^T k, N x N
    softmax, N x N x head_dim for v attn^T, with N = H x W tokens)."""
    from torch import nn

    mac = 0
    for call in calls_by_prefix:
        m = call.module
        if isinstance(m, (nn.Conv2d, nn.BatchNorm2d, nn.MaxPool2d, nn.Linear)):
            mac += _module_macs(m, call.in_shapes, call.out_shape)
        elif isinstance(m, nn.SiLU):
            mac += math.prod(call.out_shape)
        elif isinstance(m, (nn.Upsample, nn.Identity)) or type(m).__name__ == "Concat":
            pass
        else:
            raise TypeError(f"no counting rule for YOLO leaf module {type(m).__name__}")
    for sub in block.modules():
        if type(sub).__name__ == "Attention" and hasattr(sub, "_layerplan_tokens"):
            n, h = sub._layerplan_tokens, sub.num_heads
            mac += h * (n * n * sub.key_dim + n * n + n * n * sub.head_dim)
    return mac


def _build_yolo11(scale: str):
    """YOLO11-{n,s,m} detection model from ultralytics' model YAML (no weights, nothing
    downloaded), 640x640 input, as a chain of its 24 top-level blocks in YAML order.

    A block consumes the outputs of the blocks in its ``from`` field (Concat and Detect
    take several), so the liveness rule of :func:`_carries` carries the backbone feature
    maps to the neck and the neck outputs to Detect. Both granularities are the top-level
    blocks: a cut inside a C3k2/C2PSA block would need that block's internal data flow
    (split/concat, residuals), which the chain tables do not model. Detect's box decoding
    (anchors, DFL softmax is counted as its conv) is functional and not counted; its output
    is the (4 + 80) x 8400 prediction tensor.
    """
    import torch
    from ultralytics.nn.tasks import DetectionModel

    model = DetectionModel(f"yolo11{scale}.yaml", verbose=False).eval()
    x = _dummy(640, 640)
    blocks = list(model.model)
    outs: dict[int, tuple[int, ...]] = {}
    handles = []

    def block_hook(i):
        def hook(module, args, output):
            out = output[0] if isinstance(output, (tuple, list)) else output
            outs[i] = tuple(out.shape)
        return hook

    def attn_pre(module, args):
        xin = args[0]
        module._layerplan_tokens = int(xin.shape[2] * xin.shape[3])

    for i, b in enumerate(blocks):
        handles.append(b.register_forward_hook(block_hook(i)))
        for sub in b.modules():
            if type(sub).__name__ == "Attention":
                handles.append(sub.register_forward_pre_hook(attn_pre))
    try:
        calls = _trace(model, lambda: model(x))
    finally:
        for h in handles:
            h.remove()
    rows = []
    names = [f"b{i}_{type(b).__name__.lower()}" for i, b in enumerate(blocks)]
    kinds = {"Conv": "conv", "C3k2": "block", "SPPF": "sppf", "C2PSA": "attention", "Upsample": "upsample",
             "Concat": "concat", "Detect": "detect"}
    for i, b in enumerate(blocks):
        prefix = f"model.{i}"
        mine = [c for c in calls if c.name == prefix or c.name.startswith(prefix + ".")]
        froms = b.f if isinstance(b.f, list) else [b.f]
        consumes = [MODEL_INPUT if i == 0 else names[i - 1 if f == -1 else f] for f in froms]
        rows.append(ModuleRow(name=names[i], kind=kinds.get(type(b).__name__, "other"),
                              mac=_yolo_block_macs(b, mine), weights=sum(int(p.numel()) for p in b.parameters()),
                              out_shape=_hwd(outs[i]), consumes=consumes))
    _check_weights(model, rows, f"yolo11{scale}")

    def groups(r: list[ModuleRow]) -> list[_Group]:
        return [_Group(row.name, row.kind, [k]) for k, row in enumerate(r)]

    return rows, groups


def _alexnet_ee_module():
    """AlexNet with a BranchyNet-style exit after the conv2 block (thesis Sec. 6.4)."""
    import torch
    import torchvision
    from torch import nn

    class AlexNetEarlyExit(nn.Module):
        def __init__(self):
            super().__init__()
            base = torchvision.models.alexnet(weights=None)
            self.features = base.features
            self.exit1 = nn.Sequential(
                nn.Conv2d(192, 64, kernel_size=3, padding=1),
                nn.ReLU(inplace=True),
                nn.Conv2d(64, 32, kernel_size=3, padding=1),
                nn.ReLU(inplace=True),
                nn.Flatten(),
                nn.Linear(32 * 13 * 13, 1000),
            )
            self.avgpool = base.avgpool
            self.classifier = base.classifier

        def forward(self, x):
            x = self.features[:6](x)  # conv1 block, conv2 block -> 192 x 13 x 13
            exit_logits = self.exit1(x)
            x = self.features[6:](x)
            x = self.avgpool(x)
            x = torch.flatten(x, 1)
            return exit_logits, self.classifier(x)

    return AlexNetEarlyExit()


def _build_alexnet_ee():
    model = _alexnet_ee_module().eval()
    x = _dummy(224, 224)
    rows = _rows_from_calls(_trace(model, lambda: model(x)))
    by_name = {r.name: r for r in rows}
    # The main path resumes from the conv2-block output, which the branch rows carry.
    by_name["features.6"].consumes = ["features.5"]
    after_branch = False
    for row in rows:
        if row.name == "features.6":
            after_branch = True
        row.exec_prob = 1.0 - EARLY_EXIT_PROB if after_branch else 1.0
    _check_weights(model, rows, "alexnet_ee")
    names = ["conv1", "conv2", "exit_conv1", "exit_conv2", "exit_fc", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8"]
    return rows, lambda r: _named_groups(r, names)


_DESCRIPTIONS = {
    "alexnet": "AlexNet (torchvision.models.alexnet), 224x224 RGB input",
    "vgg11": "VGG11 (torchvision.models.vgg11), 224x224 RGB input",
    "vgg16": "VGG16 (torchvision.models.vgg16), 224x224 RGB input",
    "ssd300": (
        "SSD300-VGG16 (torchvision.models.detection.ssd300_vgg16, 91 classes), "
        "300x300 RGB input, backbone + heads linearized as a chain"
    ),
    "vit_b_16": "ViT-B/16 (torchvision.models.vit_b_16), 224x224 RGB input",
    "vit_l_16": "ViT-L/16 (torchvision.models.vit_l_16), 224x224 RGB input",
    "vit_h_14": "ViT-H/14 (torchvision.models.vit_h_14 without weights, so image_size 224), 224x224 RGB input",
    "yolo11n": "YOLO11n detection (ultralytics yolo11n.yaml, no weights), 640x640 RGB input",
    "yolo11s": "YOLO11s detection (ultralytics yolo11s.yaml, no weights), 640x640 RGB input",
    "yolo11m": "YOLO11m detection (ultralytics yolo11m.yaml, no weights), 640x640 RGB input",
    "alexnet_ee": (
        "AlexNet with one BranchyNet-style early exit after the conv2 block "
        "(2 conv + 1 fc), exit probability 0.656, 224x224 RGB input"
    ),
}

_NOTES = {
    "alexnet": (
        "flop = 2 x ptflops-style MAC. torch.flatten between avgpool and classifier is "
        "not a layer. Major layers: split at each conv/linear, other modules folded into "
        "the preceding major layer (classifier.0 dropout folds into conv5)."
    ),
    "vgg11": (
        "flop = 2 x ptflops-style MAC. torch.flatten is not a layer. Major layers: split "
        "at each conv/linear (8 conv + 3 fc)."
    ),
    "vgg16": (
        "flop = 2 x ptflops-style MAC. torch.flatten is not a layer. Major layers: split "
        "at each conv/linear (13 conv + 3 fc)."
    ),
    "ssd300": (
        "Excludes GeneralizedRCNNTransform, anchor generation, box decoding and NMS. "
        "The regression and classification head convs of feature map k follow the major "
        "layer producing it; carry_elems holds the feature maps still needed by later "
        "rows. Head outputs are network outputs and are sent once, as the head row's "
        "output (not accumulated). L2Norm scale (512) is counted on reg0; the L2 "
        "normalization itself (functional) is not counted. Major level: 23 backbone "
        "convs + 12 head convs = 35."
    ),
    "vit_b_16": (
        "Major level: patch_embed (conv_proj), embed (class token + position embedding "
        "+ encoder.dropout), encoder_0..encoder_11, ln, head = 16. class_token and "
        "pos_embedding weights are counted on encoder.dropout. Residual adds, the "
        "class-token concat and position-embedding add are not counted as FLOP; the "
        "residual inputs are carried in carry_elems at module level."
    ),
    "vit_l_16": (
        "Same rules as vit_b_16. Major level: patch_embed, embed, encoder_0..encoder_23, "
        "ln, head = 28."
    ),
    "vit_h_14": (
        "Same rules as vit_b_16; torchvision's vit_h_14 without weights uses a 224x224 "
        "input (16x16 patches of 14 pixels). Major level: patch_embed, embed, "
        "encoder_0..encoder_31, ln, head = 36."
    ),
    "yolo11n": NOTE_YOLO,
    "yolo11s": NOTE_YOLO,
    "yolo11m": NOTE_YOLO,
    "alexnet_ee": (
        "Exit branch exit1.* (Conv2d(192,64,3,p=1)+ReLU, Conv2d(64,32,3,p=1)+ReLU, "
        "Flatten, Linear(5408,1000)) follows the conv2 block; branch rows carry the "
        "192x13x13 feature map. exec_prob is 1.0 through the branch and 0.344 afterwards."
    ),
}

_BUILDERS: dict[str, Callable[[], tuple[list[ModuleRow], Callable]]] = {
    "alexnet": _build_alexnet,
    "vgg11": lambda: _build_vgg("vgg11"),
    "vgg16": lambda: _build_vgg("vgg16"),
    "ssd300": _build_ssd300,
    "vit_b_16": _build_vit_b_16,
    "vit_l_16": lambda: _build_vit_b_16("vit_l_16"),
    "vit_h_14": lambda: _build_vit_b_16("vit_h_14"),
    "yolo11n": lambda: _build_yolo11("n"),
    "yolo11s": lambda: _build_yolo11("s"),
    "yolo11m": lambda: _build_yolo11("m"),
    "alexnet_ee": _build_alexnet_ee,
}

_INPUT_HW = {name: (224, 224) for name in MODEL_NAMES}
_INPUT_HW["ssd300"] = (300, 300)
_INPUT_HW.update({name: (640, 640) for name in ULTRALYTICS_MODELS})


def _versions() -> tuple[str, str]:
    import torch
    import torchvision

    return (torch.__version__.split("+")[0], torchvision.__version__.split("+")[0])


def build_tables(name: str) -> ModelTables:
    """Trace model ``name`` and return its module- and major-level tables."""
    if name not in _BUILDERS:
        raise KeyError(f"unknown model {name!r}; choose from {', '.join(MODEL_NAMES)}")
    rows, grouping = _BUILDERS[name]()
    module = _module_table(rows)
    major = _major_table(module, grouping(rows))
    _validate(name, module, major)
    return ModelTables(
        name=name,
        description=_DESCRIPTIONS[name],
        input_hw=_INPUT_HW[name],
        notes=_NOTES[name],
        module=module,
        major=major,
        versions=_versions(),
    )


def _validate(name: str, module: list[TableRow], major: list[TableRow]) -> None:
    for level, table in (("module", module), ("major", major)):
        names = [r.name for r in table]
        if len(set(names)) != len(names):
            raise ValueError(f"{name} {level}: duplicate names")
        for r in table:
            if r.kind not in KINDS:
                raise ValueError(f"{name} {level}: bad kind {r.kind}")
    if sum(r.flop for r in module) != sum(r.flop for r in major):
        raise ValueError(f"{name}: flop totals differ between granularities")
    if sum(r.weights for r in module) != sum(r.weights for r in major):
        raise ValueError(f"{name}: weight totals differ between granularities")
    expected = EXPECTED_MAJOR_COUNT[name]
    if len(major) != expected:
        raise ValueError(f"{name}: {len(major)} major layers, expected {expected}")


# --------------------------------------------------------------------------- output


def _yaml_text(tables: ModelTables) -> str:
    h, w = tables.input_hw
    torch_v, tv_v = tables.versions
    notes = textwrap.fill(tables.notes, width=86, initial_indent="  ", subsequent_indent="  ")
    return (
        f"name: {tables.name}\n"
        f"description: {tables.description}\n"
        f"generated_by: python -m layerplan.tools.layer_tables  (torch {torch_v}, torchvision {tv_v})\n"
        f"input_shape: {{h: {h}, w: {w}, d: 3}}\n"
        f"alpha_B: {ALPHA_B}\n"
        "granularities:\n"
        f"  major: {tables.name}_major.csv\n"
        f"  module: {tables.name}_module.csv\n"
        "notes: >-\n"
        f"{notes}\n"
    )


def write_tables(tables: ModelTables, out_dir: str) -> list[str]:
    """Write ``<name>.yaml``, ``<name>_major.csv`` and ``<name>_module.csv``; return paths."""
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for level in GRANULARITIES:
        path = os.path.join(out_dir, f"{tables.name}_{level}.csv")
        with open(path, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(CSV_COLUMNS)
            for row in getattr(tables, level):
                writer.writerow(row.as_csv())
        paths.append(path)
    path = os.path.join(out_dir, f"{tables.name}.yaml")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(_yaml_text(tables))
    paths.append(path)
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m layerplan.tools.layer_tables",
        description="Generate per-layer tables (module and major granularity) from torchvision models.",
    )
    parser.add_argument("--out", default=os.path.join("data", "dnn"), help="output folder (default data/dnn)")
    parser.add_argument(
        "--model",
        action="extend",
        nargs="+",
        choices=MODEL_NAMES + ULTRALYTICS_MODELS,
        metavar="NAME",
        help=f"model(s) to generate (default: all of {', '.join(MODEL_NAMES)}; "
             f"also {', '.join(ULTRALYTICS_MODELS)}, which need ultralytics)",
    )
    args = parser.parse_args(argv)
    try:
        import torch  # noqa: F401
        import torchvision  # noqa: F401
    except ImportError as exc:
        parser.exit(2, f"error: generating layer tables needs torch and torchvision ({exc})\n")
    if any(name in ULTRALYTICS_MODELS for name in args.model or ()):
        try:
            import ultralytics  # noqa: F401
        except ImportError as exc:
            parser.exit(2, f"error: the YOLO11 tables need ultralytics (pip install ultralytics) ({exc})\n")
    for name in args.model or MODEL_NAMES:
        tables = build_tables(name)
        write_tables(tables, args.out)
        for level in GRANULARITIES:
            table = getattr(tables, level)
            print(
                f"{name:10s} {level:6s} layers={len(table):4d} "
                f"flop={sum(r.flop for r in table):,} weights={sum(r.weights for r in table):,}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
