"""PyTorch side of bundle profiling (thesis Sec. 4.4 and Sec. 7.2).

A bundle (i, j) is the consecutive layers i..j of a torchvision model at one
granularity of the shipped layer table (``data/dnn/<dnn>_<granularity>.csv``): a
``torch.nn.Sequential`` of the modules listed in the rows' ``members`` column, in order.
Where the chain goes from a 4-D tensor to a layer that expects 2-D input (the
``torch.flatten`` in the models' ``forward`` between ``avgpool`` and ``classifier``) an
``nn.Flatten`` is inserted; where it is needed is read from one traced forward pass.

Inputs (Sec. 4.4): the thesis used 20 ImageNette images. Nothing is downloaded here;
instead :func:`synthetic_images` draws 20 deterministic 224x224 RGB images (smooth random
colour fields, shapes with sharp edges, a little pixel noise), normalized with the
ImageNet mean/std. They are run through the network once and the tensor entering every
layer is cached, so each bundle is timed on realistic intermediate data.

Models are built with ``weights=None`` (random initialization, seeded; latency does not
depend on trained weights for dense CNNs), in eval mode, under ``torch.inference_mode``.

torch and torchvision are imported only inside functions: importing this module needs
neither.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from layerplan.errors import LayerplanError
from layerplan.profiling import core

#: Models whose layer tables form a simple chain that the bundle builder handles.
SUPPORTED_MODELS = ("alexnet", "vgg11", "vgg16")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
TORCH_MISSING = "profiling needs torch: pip install 'layerplan[torch]'"


class TorchMissing(LayerplanError):
    """torch or torchvision is not installed."""

    def one_line(self) -> str:  # no source/field prefix
        return self.message


def require_torch():
    """Import and return (torch, torchvision), or raise :class:`TorchMissing`."""
    try:
        import torch
        import torchvision
    except ImportError:
        raise TorchMissing(TORCH_MISSING) from None
    return torch, torchvision


# --------------------------------------------------------------------------- inputs


def _bilinear_upsample(coarse: np.ndarray, size: int) -> np.ndarray:
    """(c+1, c+1, ch) grid -> (size, size, ch) by bilinear interpolation."""
    cells = coarse.shape[0] - 1
    pos = np.linspace(0.0, cells, size)
    i0 = np.minimum(np.floor(pos).astype(int), cells - 1)
    f = (pos - i0)[:, None]
    rows = coarse[i0] * (1 - f)[:, :, None] + coarse[i0 + 1] * f[:, :, None]  # (size, c+1, ch)
    f2 = (pos - i0)[None, :, None]
    return rows[:, i0] * (1 - f2) + rows[:, i0 + 1] * f2


def synthetic_images(n: int = 20, size: int = 224, seed: int = 0) -> np.ndarray:
    """``n`` deterministic RGB images, float32, shape (n, 3, size, size), ImageNet-normalized.

    Each image: a smooth random colour field (four octaves of bilinearly upsampled
    noise, so neighbouring pixels are correlated as in photographs), 3-7 random shapes
    (rectangles, disks, thick lines) alpha-blended with sharp edges, and a little
    Gaussian pixel noise; values clipped to [0, 1] and then normalized with the ImageNet
    mean and standard deviation, as torchvision's preprocessing does.
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64) / size
    out = np.empty((n, 3, size, size), dtype=np.float32)
    mean = np.asarray(IMAGENET_MEAN)[:, None, None]
    std = np.asarray(IMAGENET_STD)[:, None, None]
    for k in range(n):
        img = np.zeros((size, size, 3))
        for cells, amp in ((2, 0.45), (4, 0.3), (8, 0.15), (16, 0.1)):
            img += amp * _bilinear_upsample(rng.random((cells + 1, cells + 1, 3)), size)
        lo, hi = img.min(), img.max()
        img = (img - lo) / max(hi - lo, 1e-9)
        for _ in range(int(rng.integers(3, 8))):
            kind = int(rng.integers(3))
            color = rng.random(3)
            cy, cx = rng.random(2)
            if kind == 0:
                h, w = rng.uniform(0.05, 0.4, 2)
                mask = (np.abs(yy - cy) < h / 2) & (np.abs(xx - cx) < w / 2)
            elif kind == 1:
                r = rng.uniform(0.04, 0.25)
                mask = (yy - cy) ** 2 + (xx - cx) ** 2 < r**2
            else:
                ang = rng.uniform(0, math.pi)
                dist = np.abs((yy - cy) * math.cos(ang) - (xx - cx) * math.sin(ang))
                mask = dist < rng.uniform(0.005, 0.03)
            alpha = rng.uniform(0.6, 1.0)
            img[mask] = (1 - alpha) * img[mask] + alpha * color
        img += rng.normal(0.0, 0.02, img.shape)
        img = np.clip(img, 0.0, 1.0).transpose(2, 0, 1)
        out[k] = ((img - mean) / std).astype(np.float32)
    return out


# --------------------------------------------------------------------------- model and chain


def build_model(name: str, seed: int = 0):
    """torchvision model ``name`` with random (seeded) weights, eval mode. No download."""
    torch, torchvision = require_torch()
    if name not in SUPPORTED_MODELS:
        raise LayerplanError(
            f"model {name!r} is not supported by the bundle profiler (supported: {', '.join(SUPPORTED_MODELS)})",
            source="profiling", field="model",
        )
    torch.manual_seed(seed)
    return getattr(torchvision.models, name)(weights=None).eval()


@dataclass
class Chain:
    """The layer table bound to a model: members per layer and traced tensor shapes."""

    model: Any
    table: list[dict[str, Any]]
    in_shape: dict[str, tuple[int, ...]] = field(default_factory=dict)
    out_shape: dict[str, tuple[int, ...]] = field(default_factory=dict)

    @property
    def n_layers(self) -> int:
        return len(self.table)

    def members(self, i: int, j: int) -> list[str]:
        return [m for row in self.table[i - 1 : j] for m in row["members"]]


def trace_chain(model, table: list[dict[str, Any]], example) -> Chain:
    """Run ``example`` through ``model`` once with hooks on every member module and check
    that the members, in table order, are exactly the modules the forward pass calls (each
    once). Records each member's input and output shapes."""
    torch, _ = require_torch()
    chain = Chain(model, table)
    order: list[str] = []
    handles = []
    all_members = chain.members(1, len(table))
    if len(set(all_members)) != len(all_members):
        raise LayerplanError("a module is listed twice in members", source="layer table", field="members")
    for path in all_members:
        try:
            mod = model.get_submodule(path)
        except AttributeError:
            raise LayerplanError(f"model has no module {path!r}", source="layer table", field="members") from None

        def pre(_m, args, path=path):
            order.append(path)
            chain.in_shape[path] = tuple(args[0].shape)

        def post(_m, _args, out, path=path):
            chain.out_shape[path] = tuple(out.shape)

        handles.append(mod.register_forward_pre_hook(pre))
        handles.append(mod.register_forward_hook(post))
    try:
        with torch.inference_mode():
            model(example)
    finally:
        for h in handles:
            h.remove()
    if order != all_members:
        raise LayerplanError(
            f"the forward pass calls {order[:6]}... but the table lists {all_members[:6]}...: "
            "not a simple chain of the listed modules",
            source="layer table",
            field="members",
        )
    return chain


def bundle_sequential(chain: Chain, i: int, j: int):
    """``nn.Sequential`` of the members of layers i..j (shared modules, not copies).

    ``nn.Flatten(1)`` is inserted where a member's output is 4-D and the next member's
    traced input is 2-D. If the first module works in place (ReLU(inplace=True)) a
    shallow copy with ``inplace=False`` is used so that the cached input is not changed.
    """
    from collections import OrderedDict

    from torch import nn

    if not 1 <= i <= j <= chain.n_layers:
        raise ValueError(f"bundle ({i}, {j}) outside 1..{chain.n_layers}")
    mods: list[tuple[str, Any]] = []
    prev: tuple[int, ...] | None = None
    for path in chain.members(i, j):
        mod = chain.model.get_submodule(path)
        need = chain.in_shape[path]
        if prev is not None and prev != need:
            if len(prev) > 2 and len(need) == 2 and math.prod(prev[1:]) == need[1]:
                mods.append((f"flatten_before_{path.replace('.', '_')}", nn.Flatten(1)))
            else:
                raise LayerplanError(
                    f"cannot chain {prev} into {path} expecting {need}", source="profiling", field="members"
                )
        if not mods and getattr(mod, "inplace", False):
            mod = copy.copy(mod)
            mod.inplace = False
        mods.append((path.replace(".", "_"), mod))
        prev = chain.out_shape[path]
    return nn.Sequential(OrderedDict(mods))


def cache_layer_inputs(chain: Chain, images) -> dict[int, list[Any]]:
    """Run each image (batch 1) through the model once; return, per layer index l
    (1-based), the list of tensors entering layer l (copies, one per image)."""
    torch, _ = require_torch()
    cache: dict[int, list[Any]] = {l: [] for l in range(1, chain.n_layers + 1)}
    handles = []
    for l, row in enumerate(chain.table, start=1):
        mod = chain.model.get_submodule(row["members"][0])

        def pre(_m, args, l=l):
            cache[l].append(args[0].detach().clone())

        handles.append(mod.register_forward_pre_hook(pre))
    try:
        with torch.inference_mode():
            for x in images:
                chain.model(x)
    finally:
        for h in handles:
            h.remove()
    return cache


def images_as_tensors(n: int, seed: int = 0, device: str = "cpu", size: int = 224) -> list[Any]:
    torch, _ = require_torch()
    arr = synthetic_images(n, size=size, seed=seed)
    return [torch.from_numpy(arr[k : k + 1].copy()).to(device) for k in range(n)]


def cuda_event_timer():
    """A timer for :func:`core.profile_bundles` that measures with CUDA events:
    record start, run, record end, wait for the end event, elapsed GPU time in s."""
    torch, _ = require_torch()
    start = torch.cuda.Event(enable_timing=True)
    end = torch.cuda.Event(enable_timing=True)

    def timed(fn: Callable[[Any], Any], x: Any) -> float:
        start.record()
        fn(x)
        end.record()
        end.synchronize()
        return start.elapsed_time(end) * 1e-3

    return timed


# --------------------------------------------------------------------------- profiling


@dataclass
class Setup:
    """Everything needed to time bundles of one model on one device."""

    chain: Chain
    cache: dict[int, list[Any]]
    device: str  # "cpu" or "cuda"
    images: list[Any]

    def run_bundle(self, i: int, j: int):
        return bundle_sequential(self.chain, i, j)

    def inputs(self, i: int) -> list[Any]:
        return self.cache[i]


def prepare(model_name: str, granularity: str = "major", *, n_inputs: int = 20, seed: int = 0,
            cuda: bool = False, threads: int | None = None, dnn_dir=None) -> Setup:
    """Build the model, bind the layer table, draw and cache the inputs."""
    torch, _ = require_torch()
    if threads is not None:
        torch.set_num_threads(int(threads))
    if cuda and not torch.cuda.is_available():
        raise LayerplanError("--cuda given but torch.cuda.is_available() is False", source="profiling", field="cuda")
    device = "cuda" if cuda else "cpu"
    table = core.read_layer_table(model_name, granularity, dnn_dir)
    model = build_model(model_name, seed=seed).to(device)
    images = images_as_tensors(n_inputs, seed=seed, device=device)
    chain = trace_chain(model, table, images[0])
    cache = cache_layer_inputs(chain, images)
    return Setup(chain, cache, device, images)


def runs_text(n_inputs: int, runs_per_input: int, warmup: int, note: str = "") -> str:
    text = f"{n_inputs * runs_per_input} ({n_inputs} inputs x {runs_per_input} passes), batch 1, warm-up {warmup}"
    return text + (f"; {note}" if note else "")


def profile_model(
    model_name: str,
    granularity: str = "major",
    *,
    device_label: str,
    out: str | Path,
    threads: int | None = 1,
    runs_per_input: int = 5,
    n_inputs: int = 20,
    warmup: int = 3,
    mbs: int | None = None,
    bundle_list: Sequence[tuple[int, int]] | None = None,
    cuda: bool = False,
    seed: int = 0,
    description: str | None = None,
    runs_note: str = "",
    progress: bool | Callable[[str], None] = True,
    dnn_dir=None,
    remeasure_spread: float | None = None,
    remeasure: Sequence[tuple[int, int]] = (),
    max_foreign_load: float | None = None,
    retries: int = 0,
    quiet_wait_s: float = 0.0,
    power: Any = None,
    frequency_Hz: float | None = None,
    frequency_note: str | None = None,
) -> list[dict[str, Any]]:
    """Profile bundles of ``model_name`` and write/resume the table at ``out``.

    ``power`` (a :mod:`layerplan.profiling.power` source) adds ``energy_J``;
    ``frequency_Hz`` labels the rows with the frequency the device was pinned to."""
    torch, torchvision = require_torch()
    setup = prepare(model_name, granularity, n_inputs=n_inputs, seed=seed, cuda=cuda, threads=threads, dnn_dir=dnn_dir)
    L = setup.chain.n_layers
    todo = list(bundle_list) if bundle_list is not None else list(core.bundles(L, mbs))
    extra = [f"torch {torch.__version__}", f"torchvision {torchvision.__version__}"]
    timer = None
    if cuda:
        name = torch.cuda.get_device_name(0)
        extra.append(f"GPU {name}")
        timer = cuda_event_timer()
        desc = description or f"GPU {name}, PyTorch eager, CUDA events"
    else:
        n = torch.get_num_threads()
        desc = description or f"this machine's CPU, PyTorch eager, {n} thread{'s' if n != 1 else ''}"
    meta = {
        "device": device_label,
        "description": desc,
        "machine": core.machine_description(extra),
        "threads": torch.get_num_threads(),
        "synthetic": False,
        "runs": runs_text(n_inputs, runs_per_input, warmup, runs_note),
        "statistic": core.STATISTIC_TEXT,
    }
    if frequency_note:
        meta["frequency"] = frequency_note
    with torch.inference_mode():
        return core.profile_bundles(
            setup.run_bundle,
            setup.inputs,
            todo,
            runs_per_input=runs_per_input,
            warmup=warmup,
            progress=progress,
            resume_path=out,
            dnn=model_name,
            granularity=granularity,
            device=device_label,
            meta=meta,
            timer=timer,
            remeasure_spread=remeasure_spread,
            remeasure=remeasure,
            contention=core.ContentionProbe() if max_foreign_load is not None else None,
            max_foreign_load=max_foreign_load,
            retries=retries,
            quiet_wait_s=quiet_wait_s,
            power=power,
            frequency_Hz=frequency_Hz,
        )


def estimate(model_name: str, granularity: str = "major", *, threads: int | None = 1, runs_per_input: int = 5,
             n_inputs: int = 20, warmup: int = 3, mbs: int | None = None, cuda: bool = False, repeats: int = 3,
             seed: int = 0) -> dict[str, float]:
    """Rough profiling time: time each single layer and the full network ``repeats``
    times on the first input (median), then assume a bundle costs the sum of its layers."""
    torch, _ = require_torch()
    setup = prepare(model_name, granularity, n_inputs=n_inputs, seed=seed, cuda=cuda, threads=threads)
    L = setup.chain.n_layers
    timer = cuda_event_timer() if cuda else core.clock_timer()
    per_layer = []
    with torch.inference_mode():
        for l in range(1, L + 1):
            fn = setup.run_bundle(l, l)
            x = setup.inputs(l)[0]
            fn(x)
            per_layer.append(float(np.median([timer(fn, x) for _ in range(repeats)])))
        fn = setup.run_bundle(1, L)
        fn(setup.inputs(1)[0])
        full = float(np.median([timer(fn, setup.inputs(1)[0]) for _ in range(repeats)]))
    calls = n_inputs * runs_per_input + warmup
    total = sum(sum(per_layer[i - 1 : j]) for i, j in core.bundles(L, mbs)) * calls
    return {"full_network_s": full, "sum_single_layers_s": sum(per_layer), "bundles": core.bundle_count(L, mbs),
            "estimated_profiling_s": total}
