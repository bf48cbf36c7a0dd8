"""Bring your own model: write a DAG layer table (docs/dag.md) from a PyTorch or ONNX model.

Usage::

    python -m layerplan.tools.import_model SOURCE --out DIR [--name NAME] [--input 3x224x224]

SOURCE is one of

- ``torchvision:resnet50`` - a torchvision classification model (``weights=None``);
- ``module:callable`` (e.g. ``mypkg.nets:build``) - any callable returning an ``nn.Module``;
- ``ultralytics:yolo11n.yaml`` - an ultralytics model YAML (needs ``ultralytics``);
- ``path/to/model.onnx`` - an ONNX file, through ONNX shape inference (needs ``onnx``, not torch).

PyTorch models are traced with ``torch.fx`` (leaf modules of ``torch.nn`` stay whole); when
fx cannot trace the model (data-dependent control flow), the fallback runs one eager
forward pass under forward hooks on the leaf modules and a ``TorchFunctionMode`` that
records the functional operations between them (``--tracer fx|eager|auto``). Each leaf
module call and each tensor-producing functional operation becomes one row, in execution
order; ``inputs`` lists the rows whose outputs it reads (``input`` = the network input).

Counting rules are those of docs/layer_tables.md (flop = 2 x MAC, ptflops conventions),
extended in docs/dag.md to the functional forms (``F.relu`` counts like ``nn.ReLU``) and
to the layers of newer networks (ReLU6, SiLU, Hardswish, Sigmoid, ...); reshapes,
concatenations, slicing and elementwise arithmetic (residual adds) are rows with 0 FLOP,
as ptflops does not count them. A module or function without a rule is an error naming
it (``--allow-unknown`` counts it as 0 FLOP instead).

torch and onnx are imported only inside the functions that need them.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import math
import os
import re
import sys
from dataclasses import dataclass, field
from typing import Any, Sequence

INPUT = "input"
CSV_COLUMNS = ("name", "kind", "flop", "weights", "out_h", "out_w", "out_d", "alpha_B", "inputs")


class ImportModelError(Exception):
    """One-line user error (exit status 2)."""


@dataclass
class Row:
    name: str
    kind: str
    mac: int
    weights: int
    out_shape: tuple[int, ...]  # full tensor shape, batch first
    inputs: list[str] = field(default_factory=list)
    alpha_B: int = 4

    @property
    def hwd(self) -> tuple[int, int, int]:
        return hwd(self.out_shape)


def hwd(shape: Sequence[int]) -> tuple[int, int, int]:
    """(N, C, H, W) -> (H, W, C); (N, L, E) -> (1, L, E); (N, F) -> (1, 1, F); otherwise
    (1, 1, numel / N). The element count is always preserved."""
    dims = tuple(int(s) for s in shape)
    if len(dims) == 0:
        return (1, 1, 1)
    if len(dims) == 4:
        return (dims[2], dims[3], dims[1])
    if len(dims) == 3:
        return (1, dims[1], dims[2])
    if len(dims) == 2:
        return (1, 1, dims[1])
    rest = math.prod(dims[1:]) if len(dims) > 1 else dims[0]
    return (1, 1, max(int(rest), 1))


# --------------------------------------------------------------------------- torch rules

# Functional operations with no FLOP (ptflops does not count them): shape and data movement,
# elementwise arithmetic (residual adds), indexing.
ZERO_FUNCS = {
    "add", "iadd", "sub", "mul", "imul", "truediv", "div", "floordiv", "neg", "cat", "concat", "stack", "flatten",
    "view", "reshape", "permute", "transpose", "contiguous", "getitem", "chunk", "split", "unsqueeze", "squeeze",
    "gt", "lt", "ge", "le", "eq", "ne", "any", "all", "bool", "item", "and", "or", "not",
    "type_as", "arange", "meshgrid", "full", "zeros", "ones", "exp", "sqrt", "pow", "rsub", "radd", "rmul", "view_as",
    "new_zeros", "new_ones", "new_full", "clamp", "__setitem__", "setitem", "copy_", "fill_", "sub_", "add_", "mul_", "div_",
    "expand", "expand_as", "repeat", "clone", "to", "type", "float", "narrow", "select", "unbind", "size", "dim",
    "dropout", "stochastic_depth", "identity", "pad", "getattr", "detach", "flip", "roll", "t", "masked_fill", "zeros_like", "ones_like",
}
ACT_FUNCS = {"relu", "relu_", "relu6", "hardtanh", "silu", "sigmoid", "hardswish", "hardsigmoid", "gelu", "tanh",
             "leaky_relu", "elu", "mish", "softplus"}
POOL_FUNCS = {"max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "adaptive_max_pool2d", "mean", "sum", "amax"}


def module_rule(module, in_shapes, out_shape) -> tuple[str, int] | None:
    """(kind, MAC) of a leaf module call; None when there is no rule."""
    from torch import nn

    from layerplan.tools.layer_tables import _module_macs

    out_elems = math.prod(out_shape)
    in_elems = math.prod(in_shapes[0]) if in_shapes else 0
    if isinstance(module, (nn.Conv2d, nn.Linear, nn.MultiheadAttention)):
        kind = {nn.Conv2d: "conv", nn.Linear: "linear", nn.MultiheadAttention: "attention"}[type(module)] \
            if type(module) in (nn.Conv2d, nn.Linear, nn.MultiheadAttention) else "other"
        return kind, _module_macs(module, in_shapes, out_shape)
    if isinstance(module, (nn.ReLU, nn.GELU, nn.ReLU6, nn.SiLU, nn.Hardswish, nn.Hardsigmoid, nn.Sigmoid, nn.Tanh,
                           nn.LeakyReLU, nn.Hardtanh, nn.ELU, nn.Mish)):
        return ("gelu" if isinstance(module, nn.GELU) else "relu"), out_elems
    if isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
        return ("maxpool" if isinstance(module, nn.MaxPool2d) else "avgpool"), in_elems
    if isinstance(module, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
        return "avgpool", in_elems
    if isinstance(module, (nn.BatchNorm2d, nn.BatchNorm1d)):
        return "norm", in_elems * (2 if module.affine else 1)
    if isinstance(module, (nn.LayerNorm, nn.GroupNorm)):
        affine = getattr(module, "elementwise_affine", getattr(module, "affine", False))
        return "norm", in_elems * (2 if affine else 1)
    if isinstance(module, (nn.Dropout, nn.Identity)):
        return "dropout", 0
    if isinstance(module, nn.Flatten):
        return "flatten", 0
    if isinstance(module, (nn.Upsample,)):
        return "other", 0
    if isinstance(module, nn.Embedding):
        return "embed", 0
    if isinstance(module, nn.Softmax):
        return "other", out_elems
    return None


def function_rule(fname: str, in_shapes, out_shape) -> tuple[str, int] | None:
    """(kind, MAC) of a functional operation (fx call_function / call_method, eager torch
    function); None when there is no rule."""
    out_elems = math.prod(out_shape)
    in_elems = math.prod(in_shapes[0]) if in_shapes else 0
    base = fname.strip("_")
    if base in ACT_FUNCS:
        return ("gelu" if base == "gelu" else "relu"), out_elems
    if base in POOL_FUNCS:
        return ("maxpool" if "max" in base else "avgpool"), in_elems
    if base == "softmax":
        return "other", out_elems
    if base in ("matmul", "bmm", "mm"):
        if len(in_shapes) >= 2 and in_shapes[0]:
            return "linear", out_elems * int(in_shapes[0][-1])
        return None
    if base in ZERO_FUNCS:
        return ("flatten" if base == "flatten" else "other"), 0
    return None


def _fname(target) -> str:
    if isinstance(target, str):
        return target
    return getattr(target, "__name__", str(target))


def _shape(t) -> tuple[int, ...]:
    return tuple(int(s) for s in t.shape)


# --------------------------------------------------------------------------- fx tracer


def trace_fx(model, example, *, allow_unknown: bool = False) -> list[Row]:
    import torch
    import torch.fx
    from torch.fx.passes.shape_prop import ShapeProp

    try:
        gm = torch.fx.symbolic_trace(model)
    except Exception as exc:  # fx raises many types; report one line
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ImportModelError(f"torch.fx cannot trace the model (dynamic control flow or unsupported Python: "
                               f"{type(exc).__name__}: {msg[:200]}); use --tracer eager") from None
    gm.graph.eliminate_dead_code()
    with torch.no_grad():
        ShapeProp(gm).propagate(example)
    rows: list[Row] = []
    produced: dict[str, str] = {}  # fx node name -> row name (or INPUT)
    pending_params: dict[str, int] = {}  # get_attr node -> parameter count, given to its first consumer
    seen_modules: set[str] = set()
    calls: dict[str, int] = {}
    for node in gm.graph.nodes:
        if node.op == "placeholder":
            produced[node.name] = INPUT
            continue
        if node.op == "output":
            continue
        meta = node.meta.get("tensor_meta")
        if node.op == "get_attr":
            attr = gm
            for part in node.target.split("."):
                attr = getattr(attr, part)
            if isinstance(attr, torch.nn.Parameter):
                pending_params[node.name] = int(attr.numel())
            continue
        if isinstance(meta, (list, tuple)) and meta and hasattr(meta[0], "shape") and node.op == "call_module":
            meta = meta[0]  # a module returning a tuple (MultiheadAttention, LSTM): its first tensor
        if meta is None or not hasattr(meta, "shape"):  # not one tensor (a size, a tuple of chunks): no row
            if node.op == "call_module":
                raise ImportModelError(f"unsupported op {type(gm.get_submodule(node.target)).__name__} at "
                                       f"{node.target!r}: its output is not a tensor")
            # getitem rows on a tuple (split/chunk) read the producer of the tuple's input
            srcs = [produced[a.name] for a in node.all_input_nodes if a.name in produced]
            if srcs:
                produced[node.name] = srcs[0]
            continue
        out_shape = tuple(int(s) for s in meta.shape)
        in_nodes = [a for a in node.all_input_nodes]
        in_shapes = [tuple(int(s) for s in a.meta["tensor_meta"].shape) for a in in_nodes
                     if hasattr(a.meta.get("tensor_meta"), "shape")]
        weights = sum(pending_params.pop(a.name, 0) for a in in_nodes)
        if node.op == "call_module":
            module = gm.get_submodule(node.target)
            rule = module_rule(module, in_shapes, out_shape)
            label = type(module).__name__
            if node.target not in seen_modules:
                weights += sum(int(p.numel()) for p in module.parameters())
                seen_modules.add(node.target)
            k = calls.get(node.target, 0)
            calls[node.target] = k + 1
            name = node.target if k == 0 else f"{node.target}#{k}"
        else:
            fname = _fname(node.target)
            rule = function_rule(fname, in_shapes, out_shape)
            label = f"function {fname}"
            name = node.name
        if rule is None:
            if not allow_unknown:
                raise ImportModelError(f"unsupported op {label} at {name!r}: no FLOP rule (docs/dag.md); "
                                       "pass --allow-unknown to count it as 0 FLOP")
            rule = ("other", 0)
        kind, mac = rule
        inputs = []
        for a in in_nodes:
            src = produced.get(a.name)
            if src is not None and src not in inputs:
                inputs.append(src)
        dtype = getattr(meta, "dtype", None)
        alpha = int(torch.empty((), dtype=dtype).element_size()) if dtype is not None else 4
        rows.append(Row(name, kind, int(mac), int(weights), out_shape, inputs or [INPUT], alpha))
        produced[node.name] = name
    if pending_params:
        raise ImportModelError(f"parameters {sorted(pending_params)} are used by no traced operation")
    return rows


# --------------------------------------------------------------------------- eager tracer


def trace_eager(model, example, *, allow_unknown: bool = False) -> list[Row]:
    """One eager forward pass: forward hooks on leaf modules, a TorchFunctionMode for the
    functional operations outside them. Follows the control flow this input takes."""
    import torch
    from torch.overrides import TorchFunctionMode

    rows: list[Row] = []
    owner: dict[int, str] = {id(example): INPUT}
    keep: list[Any] = [example]
    depth = [0]
    calls: dict[str, int] = {}
    seen_modules: set[int] = set()
    params = {id(p): int(p.numel()) for p in model.parameters()}
    leaf_params: set[int] = set()
    leaves = [(n, m) for n, m in model.named_modules() if n and (not any(True for _ in m.children())
                                                                 or isinstance(m, torch.nn.MultiheadAttention))]
    leaves = [(n, m) for n, m in leaves if not any(n.startswith(o + ".") for o, mm in leaves
                                                    if isinstance(mm, torch.nn.MultiheadAttention))]
    # as torch.fx: only torch.nn modules are leaves; a user module without children (e.g. a
    # Concat wrapper) is traced through, its functional operations recorded by the mode
    leaves = [(n, m) for n, m in leaves if type(m).__module__.startswith("torch.nn")]
    for _, m in leaves:
        leaf_params.update(id(p) for p in m.parameters())

    def sources(args) -> tuple[list[str], list[tuple[int, ...]], int]:
        names, shapes, w = [], [], 0
        flat = []
        for a in args:
            flat.extend(a if isinstance(a, (list, tuple)) else [a])
        for a in flat:
            if torch.is_tensor(a):
                if id(a) in params and id(a) not in leaf_params:
                    w += params.pop(id(a))
                    continue
                src = owner.get(id(a))
                if src is not None and src not in names:
                    names.append(src)
                shapes.append(_shape(a))
        return names, shapes, w

    def record(name, kind, mac, weights, out, inputs):
        outs = out if isinstance(out, (list, tuple)) else [out]
        tensors = [t for t in outs if torch.is_tensor(t)]
        if not tensors:
            return
        shape = _shape(tensors[0]) if len(tensors) == 1 else (1, sum(t.numel() for t in tensors))
        rows.append(Row(name, kind, int(mac), int(weights), shape, inputs or [INPUT], tensors[0].element_size()))
        for t in tensors:
            owner[id(t)] = name
            keep.append(t)

    class Mode(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            if depth[0] == 0:
                fname = _fname(func)
                if fname in ("size", "dim", "__get__", "shape", "numel", "is_floating_point"):
                    return out
                names, shapes, w = sources(list(args) + list((kwargs or {}).values()))
                outs = out if isinstance(out, (list, tuple)) else [out]
                tensors = [t for t in outs if torch.is_tensor(t)]
                if not tensors or not names:
                    return out
                rule = function_rule(fname, shapes, _shape(tensors[0]))
                if rule is None:
                    if not allow_unknown:
                        raise ImportModelError(f"unsupported op function {fname}: no FLOP rule (docs/dag.md); "
                                               "pass --allow-unknown to count it as 0 FLOP")
                    rule = ("other", 0)
                k = calls.get(fname, 0)
                calls[fname] = k + 1
                record(f"{fname}_{k}" if k else fname, rule[0], rule[1], w, out, names)
            return out

    def pre_hook(module, args):
        depth[0] += 1

    def make_hook(mname):
        def hook(module, args, output):
            depth[0] -= 1
            names, shapes, _ = sources(list(args))
            outs = output if isinstance(output, (list, tuple)) else [output]
            t = next((o for o in outs if torch.is_tensor(o)), None)
            if t is None:
                return
            rule = module_rule(module, shapes, _shape(t))
            if rule is None:
                if not allow_unknown:
                    raise ImportModelError(f"unsupported op {type(module).__name__} at {mname!r}: no FLOP rule "
                                           "(docs/dag.md); pass --allow-unknown to count it as 0 FLOP")
                rule = ("other", 0)
            w = 0
            if id(module) not in seen_modules:
                w = sum(int(p.numel()) for p in module.parameters())
                seen_modules.add(id(module))
            k = calls.get(mname, 0)
            calls[mname] = k + 1
            record(mname if k == 0 else f"{mname}#{k}", rule[0], rule[1], w, output, names)
        return hook

    handles = []
    for n, m in leaves:
        handles.append(m.register_forward_pre_hook(pre_hook))
        handles.append(m.register_forward_hook(make_hook(n)))
    try:
        with torch.no_grad(), Mode():
            result = model(example)
    finally:
        for h in handles:
            h.remove()
    # rows computed only to steer control flow (a sum compared with a threshold) feed no row
    # and are no output: drop them, repeatedly, unless they hold weights
    flat = result if isinstance(result, (list, tuple)) else [result]
    outputs = {owner.get(id(t)) for t in flat if torch.is_tensor(t)}
    while True:
        used = {i for r in rows for i in r.inputs} | outputs
        dead = [r for r in rows if r.name not in used and r.weights == 0]
        if not dead:
            return rows
        rows = [r for r in rows if r not in dead]


# --------------------------------------------------------------------------- ONNX


ONNX_ACTS = {"Relu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "LeakyRelu", "Elu", "Gelu", "Mish",
             "Softplus", "PRelu"}
ONNX_ZERO = {"Add", "Sub", "Mul", "Div", "Concat", "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze",
             "Identity", "Dropout", "Split", "Slice", "Gather", "Pad", "Expand", "Cast", "Resize", "Upsample", "Tile"}


def onnx_rows(path: str, *, allow_unknown: bool = False) -> tuple[list[Row], tuple[int, int, int], str]:
    """Rows of an ONNX graph (nodes are topologically sorted by the ONNX spec)."""
    try:
        import onnx
        from onnx import numpy_helper, shape_inference
    except ImportError:
        raise ImportModelError("reading ONNX needs the onnx package: pip install 'layerplan[onnx]'") from None
    try:
        model = onnx.load(path)
    except Exception as exc:
        raise ImportModelError(f"{path}: not a readable ONNX file ({type(exc).__name__})") from None
    model = shape_inference.infer_shapes(model)
    g = model.graph
    init = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    consts: dict[str, Any] = dict(init)
    shapes: dict[str, tuple[int, ...]] = {}
    esize: dict[str, int] = {}

    def dims(vi):
        tt = vi.type.tensor_type
        if not tt.HasField("shape"):
            return None
        out = []
        for d in tt.shape.dim:
            if not d.HasField("dim_value"):
                out.append(1 if not out else None)  # symbolic batch -> 1
            else:
                out.append(int(d.dim_value))
        return None if any(x is None for x in out) else tuple(out)

    for vi in list(g.input) + list(g.value_info) + list(g.output):
        s = dims(vi)
        if s is not None:
            shapes[vi.name] = s
            esize[vi.name] = 8 if vi.type.tensor_type.elem_type in (7, 11) else 2 if vi.type.tensor_type.elem_type in (10, 16) else 4
    graph_inputs = [vi for vi in g.input if vi.name not in init]
    if len(graph_inputs) != 1:
        raise ImportModelError(f"{path}: expected one graph input, found {len(graph_inputs)}")
    inp = graph_inputs[0].name
    if inp not in shapes:
        raise ImportModelError(f"{path}: the input {inp!r} has no static shape")
    producer: dict[str, str] = {inp: INPUT}
    rows: list[Row] = []
    used_init: set[str] = set()
    names_seen: dict[str, int] = {}
    for k, node in enumerate(g.node):
        tensor_in = [i for i in node.input if i and i in producer]
        if node.op_type in ("Constant", "Shape", "ConstantOfShape") or not tensor_in:
            for o in node.output:
                consts[o] = None  # shape computation, not data flow
            continue
        out = node.output[0]
        if out not in shapes:
            raise ImportModelError(f"{path}: ONNX shape inference gave no static shape for {out!r} "
                                   f"({node.op_type} {node.name!r})")
        oshape = shapes[out]
        ishape = shapes.get(tensor_in[0], ())
        out_elems = math.prod(oshape)
        in_elems = math.prod(ishape) if ishape else 0
        w_names = [i for i in node.input if i in init and i not in used_init]
        weights = int(sum(init[i].size for i in w_names))
        used_init.update(w_names)
        op = node.op_type
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        if op == "Conv":
            wshape = init[node.input[1]].shape if node.input[1] in init else shapes[node.input[1]]
            kernel = math.prod(wshape[2:])
            mac = out_elems * kernel * int(wshape[1]) + (out_elems if len(node.input) > 2 and node.input[2] else 0)
            kind = "conv"
        elif op in ("Gemm", "MatMul"):
            k_dim = int(ishape[-1]) if not attrs.get("transA") else int(ishape[0])
            mac = out_elems * k_dim + (out_elems if op == "Gemm" and len(node.input) > 2 and node.input[2] else 0)
            kind = "linear"
        elif op in ONNX_ACTS:
            mac, kind = out_elems, "relu"
        elif op in ("MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "ReduceMean"):
            mac, kind = in_elems, "maxpool" if "Max" in op else "avgpool"
        elif op == "BatchNormalization":
            mac, kind = 2 * in_elems, "norm"
        elif op in ("LayerNormalization",):
            mac, kind = 2 * in_elems, "norm"
        elif op == "Softmax":
            mac, kind = out_elems, "other"
        elif op in ONNX_ZERO:
            mac, kind = 0, "flatten" if op == "Flatten" else "other"
        elif allow_unknown:
            mac, kind = 0, "other"
        else:
            raise ImportModelError(f"{path}: unsupported op {op} at {node.name or out!r}: no FLOP rule (docs/dag.md); "
                                   "pass --allow-unknown to count it as 0 FLOP")
        base = node.name or f"{op.lower()}_{k}"
        n = names_seen.get(base, 0)
        names_seen[base] = n + 1
        name = base if n == 0 else f"{base}#{n}"
        name = name.replace(",", "_").replace(";", "_")
        srcs = []
        for i in tensor_in:
            if producer[i] not in srcs:
                srcs.append(producer[i])
        # several outputs (Split): one row sending all of them (docs/dag.md)
        tot = sum(math.prod(shapes.get(o, (0,))) for o in node.output if o)
        shape = oshape if len([o for o in node.output if o]) == 1 else (1, tot)
        rows.append(Row(name, kind, int(mac), weights, shape, srcs, esize.get(out, 4)))
        for o in node.output:
            producer[o] = name
    s = shapes[inp]
    in_hwd = (s[2], s[3], s[1]) if len(s) == 4 else hwd(s)
    return rows, in_hwd, f"onnx {getattr(onnx, '__version__', '')}"


# --------------------------------------------------------------------------- sources


def load_torch_source(source: str):
    """(module, example input, description) for torchvision:/ultralytics:/module:callable."""
    import torch

    kind, _, rest = source.partition(":")
    if kind == "torchvision":
        import torchvision

        try:
            ctor = torchvision.models.get_model_builder(rest)
        except (ValueError, KeyError):
            raise ImportModelError(f"unknown torchvision model {rest!r}") from None
        kw = {"weights": None}
        if rest == "inception_v3":
            kw.update(aux_logits=False, init_weights=False)
        model = ctor(**kw)
        hw = 299 if rest == "inception_v3" else 224
        return model.eval(), torch.zeros(1, 3, hw, hw), f"torchvision.models.{rest} (weights=None), {hw}x{hw} RGB input"
    if kind == "ultralytics":
        try:
            from ultralytics.nn.tasks import DetectionModel
        except ImportError:
            raise ImportModelError("ultralytics: sources need the ultralytics package (pip install ultralytics)") from None
        model = DetectionModel(rest, verbose=False).eval()
        return model, torch.zeros(1, 3, 640, 640), f"ultralytics {rest}, 640x640 RGB input"
    mod_name, _, attr = source.partition(":")
    if not attr:
        raise ImportModelError(f"SOURCE must be torchvision:NAME, ultralytics:FILE.yaml, module:callable or a .onnx file, "
                               f"got {source!r}")
    try:
        mod = importlib.import_module(mod_name)
        obj = getattr(mod, attr)
    except (ImportError, AttributeError) as exc:
        raise ImportModelError(f"cannot load {source!r} ({type(exc).__name__}: {exc})") from None
    model = obj() if callable(obj) and not isinstance(obj, torch.nn.Module) else obj
    if not isinstance(model, torch.nn.Module):
        raise ImportModelError(f"{source!r} did not return a torch.nn.Module (got {type(model).__name__})")
    return model.eval(), None, f"{source}"


def import_model(source: str, *, input_shape: tuple[int, int, int] | None = None, tracer: str = "auto",
                 allow_unknown: bool = False) -> tuple[list[Row], tuple[int, int, int], str, str]:
    """(rows, input (h, w, d), description, tracer used)."""
    if source.endswith(".onnx"):
        rows, in_hwd, ver = onnx_rows(source, allow_unknown=allow_unknown)
        return rows, in_hwd, f"ONNX file {os.path.basename(source)}", ver
    try:
        import torch
    except ImportError:
        raise ImportModelError("importing a PyTorch model needs torch (pip install torch torchvision)") from None
    model, example, desc = load_torch_source(source)
    if input_shape is not None:
        h, w, d = input_shape
        example = torch.zeros(1, d, h, w)
    if example is None:
        raise ImportModelError("give the input shape for a module:callable source: --input DxHxW (e.g. 3x224x224)")
    in_hwd = (int(example.shape[2]), int(example.shape[3]), int(example.shape[1]))
    used = tracer
    if tracer in ("fx", "auto"):
        try:
            rows = trace_fx(model, example, allow_unknown=allow_unknown)
            used = "torch.fx"
        except ImportModelError as exc:
            if tracer == "fx" or "torch.fx cannot trace" not in str(exc):
                raise
            print(f"note: {exc}; falling back to the eager tracer", file=sys.stderr)
            tracer = "eager"
    if tracer == "eager":
        rows = trace_eager(model, example, allow_unknown=allow_unknown)
        used = "eager (hooks + TorchFunctionMode)"
    total = sum(int(p.numel()) for p in model.parameters())
    got = sum(r.weights for r in rows)
    if got != total:
        raise ImportModelError(f"counted {got:,} weights but the model has {total:,} parameters "
                               "(parameters used outside traced operations)")
    return rows, in_hwd, desc, f"{used}, torch {torch.__version__.split('+')[0]}"


def clean_name(name: str) -> str:
    return re.sub(r"[,;\s]", "_", name)


def write_table(rows: list[Row], out_dir: str, name: str, input_hwd, description: str, generated_by: str) -> list[str]:
    """``<name>.yaml`` + ``<name>_module.csv`` (a DAG table, docs/dag.md)."""
    os.makedirs(out_dir, exist_ok=True)
    alpha = rows[0].alpha_B if rows else 4
    csv_path = os.path.join(out_dir, f"{name}_module.csv")
    rename = {r.name: clean_name(r.name) for r in rows}
    if INPUT in rename.values():
        raise ImportModelError(f"a layer is named {INPUT!r}")
    with open(csv_path, "w", newline="", encoding="utf-8") as fh:
        wr = csv.writer(fh, lineterminator="\n")
        wr.writerow(CSV_COLUMNS)
        for r in rows:
            h, w, d = r.hwd
            wr.writerow([rename[r.name], r.kind, 2 * r.mac, r.weights, h, w, d, r.alpha_B,
                         ";".join(rename.get(i, i) for i in r.inputs)])
    h, w, d = input_hwd
    yaml_path = os.path.join(out_dir, f"{name}.yaml")
    with open(yaml_path, "w", encoding="utf-8") as fh:
        fh.write(
            f"name: {name}\n"
            f"description: {description}\n"
            f"generated_by: python -m layerplan.tools.import_model  ({generated_by})\n"
            f"input_shape: {{h: {h}, w: {w}, d: {d}}}\n"
            f"alpha_B: {alpha}\n"
            "granularities:\n"
            f"  module: {name}_module.csv\n"
            "notes: >-\n"
            "  DAG table (inputs column, docs/dag.md): one row per leaf module call or functional\n"
            "  operation in execution order; flop = 2 x MAC (docs/layer_tables.md rules).\n"
        )
    return [yaml_path, csv_path]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m layerplan.tools.import_model",
                                     description="Write a DAG layer table from a PyTorch or ONNX model (docs/dag.md).")
    parser.add_argument("source", help="torchvision:NAME | module:callable | ultralytics:FILE.yaml | path/to/model.onnx")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--name", help="table name (default: from the source)")
    parser.add_argument("--input", help="input shape DxHxW, e.g. 3x224x224 (default: the model's usual input)")
    parser.add_argument("--tracer", choices=("auto", "fx", "eager"), default="auto")
    parser.add_argument("--allow-unknown", action="store_true", help="count ops without a FLOP rule as 0 FLOP")
    args = parser.parse_args(argv)
    shape = None
    if args.input:
        try:
            d, h, w = (int(v) for v in args.input.lower().split("x"))
        except ValueError:
            parser.exit(2, f"import_model: error: --input must be DxHxW, got {args.input!r}\n")
        shape = (h, w, d)
    name = args.name or re.sub(r"\W", "_", os.path.splitext(os.path.basename(args.source.split(":")[-1]))[0])
    try:
        rows, in_hwd, desc, gen = import_model(args.source, input_shape=shape, tracer=args.tracer,
                                               allow_unknown=args.allow_unknown)
        paths = write_table(rows, args.out, name, in_hwd, desc, gen)
    except ImportModelError as exc:
        parser.exit(2, f"import_model: error: {exc}\n")
    edges = sum(len(r.inputs) for r in rows)
    print(f"{name}: {len(rows)} layers, {edges} edges, flop={2 * sum(r.mac for r in rows):,} "
          f"weights={sum(r.weights for r in rows):,} -> {', '.join(paths)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
