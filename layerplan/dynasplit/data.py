"""DynaSplit / SPLINTER measurements (May et al., arXiv:2410.23881): pool, workloads, overheads, testbed.

The files stay in ``../shared/data/dynasplit`` (relative to the repository root) or wherever
``LAYERPLAN_DYNASPLIT_DIR`` / the config key ``dynasplit.dir`` points; they are read, never copied.
Units are converted once, here: the pool's ``latency`` / ``avg latency * (ms)`` columns stay in ms
(``*_ms``; the paper and the QoS traces are in ms), energies are J, ``tensor size (KB)`` becomes
``tensor_B`` (x 1024, the KiB the authors' code reports: VGG16 layer 1 = 64x224x224x... / 1024).

A *configuration* is (edge CPU frequency MHz, split layer, edge accelerator mode, server
accelerator on); split layer 0 = everything in the cloud, ``L`` (VGG16 22, ViT 19) = everything on
the edge. The published space applies two pruning rules (README of the data): layer 0 or ViT forces
the TPU off; all layers on the edge forces the server accelerator off. That gives 917 VGG16 and 273
ViT configurations. The pool holds rows for only some of them (VGG16 747, ViT 57): absent
configurations are *excluded* from everything that replays the pool (fronts, schedulers, simulator)
and listed by :meth:`Pool.absent`; the separable segment model (:mod:`layerplan.dynasplit.modes`)
can compose some of them from measured segments, which is reported separately.
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from layerplan.errors import DataError

ENV = "LAYERPLAN_DYNASPLIT_DIR"
NETWORKS = ("vgg16", "vit")
#: split layer meaning "all layers on the edge" (SPLINTER's layer count per network)
N_LAYERS = {"vgg16": 22, "vit": 19}
FREQS_MHZ = (600, 800, 1000, 1200, 1400, 1600, 1800)
TPU_MODES = {"vgg16": ("off", "std", "max"), "vit": ("off",)}
#: published min-max range of the QoS latency limits per network (ms), README of the data
QOS_RANGE_MS = {"vgg16": (90.6, 5026.8), "resnet50": (66.8, 1669.3), "mobilenetv2": (10.8, 391.0),
                "vit": (118.8, 10287.6)}
KIB = 1024.0

POOL_COLUMNS = {
    "latency": "latency_ms", "energy": "energy_J", "avg energy edge (J)": "edge_energy_J",
    "avg latency edge (ms)": "edge_latency_ms", "avg latency cloud (ms)": "cloud_latency_ms",
    "avg latency transfer (ms)": "transfer_latency_ms", "avg energy cloud (J)": "cloud_energy_J",
    "tensor size (KB)": "tensor_KiB",
}
KEY_COLUMNS = ("cpu-freq", "layer", "edge-accelerator", "server-accelerator")


def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]


def data_dir(value: str | os.PathLike | None = None) -> Path:
    """The DynaSplit data folder: ``value`` (config key ``dynasplit.dir``), else ``$LAYERPLAN_DYNASPLIT_DIR``,
    else ``../shared/data/dynasplit`` relative to the repository root. Relative values are relative to the
    repository root."""
    raw = value or os.environ.get(ENV) or "../shared/data/dynasplit"
    p = Path(str(raw)).expanduser()
    if not p.is_absolute():
        p = (repo_root() / p).resolve()
    return p


def require_dir(value=None) -> Path:
    p = data_dir(value)
    if not (p / "simulation_pool").is_dir():
        raise DataError(f"DynaSplit data folder not found: {p} (set dynasplit.dir or {ENV})", source=str(p),
                        field="dynasplit.dir")
    return p


@dataclass(frozen=True, order=True)
class Config:
    """One DynaSplit configuration."""

    freq_MHz: int
    layer: int
    tpu: str
    gpu: bool

    def label(self) -> str:
        return f"f{self.freq_MHz}_l{self.layer}_tpu-{self.tpu}_gpu-{'on' if self.gpu else 'off'}"

    def edge_mode(self) -> str:
        """Mode label of the edge device (frequency x TPU runtime), see docs/dynasplit.md."""
        return f"{self.freq_MHz}mhz-tpu-{self.tpu}"

    def cloud_mode(self) -> str:
        return "gpu-on" if self.gpu else "gpu-off"


def config_space(network: str) -> list[Config]:
    """The published configuration space with DynaSplit's pruning rules (917 VGG16, 273 ViT)."""
    L = N_LAYERS[network]
    out = []
    for f in FREQS_MHZ:
        for layer in range(L + 1):
            for tpu in (("off",) if layer == 0 else TPU_MODES[network]):
                for gpu in ((False,) if layer == L else (True, False)):
                    out.append(Config(f, layer, tpu, gpu))
    return out


def _bool(raw: str, where: str, path: Path) -> bool:
    s = raw.strip().lower()
    if s in ("true", "1", "1.0"):
        return True
    if s in ("false", "0", "0.0"):
        return False
    raise DataError(f"must be True or False, got {raw!r}", source=str(path), field=where)


def _num(raw, where: str, path: Path) -> float:
    try:
        v = float(raw)
    except (TypeError, ValueError):
        raise DataError(f"must be a number, got {raw!r}", source=str(path), field=where) from None
    if not math.isfinite(v):
        raise DataError(f"must be finite, got {raw!r}", source=str(path), field=where)
    return v


@dataclass
class Pool:
    """Rows of a simulation pool (one per recorded configuration run), as numpy arrays."""

    network: str
    configs: list[Config]  # distinct configurations present, sorted
    row_config: np.ndarray  # int index into configs, per row
    cols: dict[str, np.ndarray]  # latency_ms, energy_J, edge_*, cloud_*, transfer_latency_ms, tensor_B
    accuracy: np.ndarray | None  # per row (VGG16 only)
    sources: list[str] = field(default_factory=list)

    @property
    def n_layers(self) -> int:
        return N_LAYERS[self.network]

    def index(self) -> dict[Config, int]:
        return {c: i for i, c in enumerate(self.configs)}

    def rows_of(self, k: int) -> np.ndarray:
        return np.flatnonzero(self.row_config == k)

    def means(self) -> dict[str, np.ndarray]:
        """Per configuration (in ``configs`` order): mean of every column over its rows, plus ``rows``."""
        n = len(self.configs)
        cnt = np.bincount(self.row_config, minlength=n).astype(float)
        out = {k: np.bincount(self.row_config, weights=v, minlength=n) / cnt for k, v in self.cols.items()}
        if self.accuracy is not None:
            out["accuracy"] = np.bincount(self.row_config, weights=self.accuracy, minlength=n) / cnt
        out["rows"] = cnt
        return out

    def absent(self) -> list[Config]:
        have = set(self.configs)
        return [c for c in config_space(self.network) if c not in have]

    def outside_space(self) -> list[Config]:
        space = set(config_space(self.network))
        return [c for c in self.configs if c not in space]


def read_pool_rows(paths: Sequence[Path], network: str) -> Pool:
    """Parse pool CSV files (SPLINTER format) into a :class:`Pool`; bad cells raise one DataError naming
    file, row and column."""
    if network not in N_LAYERS:
        raise DataError(f"unknown DynaSplit network {network!r} (have: {', '.join(NETWORKS)})", source="config",
                        field="dynasplit.network")
    keys: list[Config] = []
    vals: dict[str, list[float]] = {v: [] for v in POOL_COLUMNS.values()}
    acc: list[float] = []
    has_acc = None
    for path in paths:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            missing = [c for c in (*POOL_COLUMNS, *KEY_COLUMNS) if c not in header]
            if missing:
                raise DataError(f"missing column {missing[0]!r}", source=str(path), field=missing[0])
            file_acc = "accuracy" in header
            if has_acc is None:
                has_acc = file_acc
            has_acc = has_acc and file_acc
            for n, row in enumerate(reader, start=2):
                w = f"row {n}: "
                freq = _num(row["cpu-freq"], w + "cpu-freq", path)
                layer = _num(row["layer"], w + "layer", path)
                tpu = row["edge-accelerator"].strip().lower()
                if tpu not in ("off", "std", "max"):
                    raise DataError(f"must be off|std|max, got {tpu!r}", source=str(path), field=w + "edge-accelerator")
                if layer != int(layer) or not 0 <= layer <= N_LAYERS[network]:
                    raise DataError(f"must be an integer in 0..{N_LAYERS[network]}, got {row['layer']!r}", source=str(path),
                                    field=w + "layer")
                keys.append(Config(int(freq), int(layer), tpu, _bool(row["server-accelerator"], w + "server-accelerator", path)))
                for src, dst in POOL_COLUMNS.items():
                    v = _num(row[src], w + src, path)
                    if v < 0:
                        raise DataError(f"must be >= 0, got {row[src]!r}", source=str(path), field=w + src)
                    vals[dst].append(v)
                if file_acc:
                    acc.append(_num(row["accuracy"], w + "accuracy", path))
    if not keys:
        raise DataError("no rows", source=", ".join(map(str, paths)), field="simulation_pool")
    configs = sorted(set(keys))
    idx = {c: i for i, c in enumerate(configs)}
    cols = {k: np.asarray(v, dtype=float) for k, v in vals.items()}
    cols["tensor_B"] = cols.pop("tensor_KiB") * KIB
    return Pool(network, configs, np.fromiter((idx[k] for k in keys), dtype=np.int64, count=len(keys)), cols,
                np.asarray(acc, dtype=float) if has_acc else None, [str(p) for p in paths])


def pool_files(root: Path, network: str, additional: bool = False) -> list[Path]:
    main = root / "simulation_pool" / f"simulation_pool_{network}.csv"
    if not main.is_file():
        raise DataError("simulation pool not found", source=str(main), field="dynasplit.dir")
    files = [main]
    if additional:
        extra = {"vgg16": "vgg16_additional_samples.csv", "vit": "additional_trials_vit.csv"}[network]
        if (root / "simulation_pool" / extra).is_file():
            files.append(root / "simulation_pool" / extra)
    return files


def load_pool(network: str, directory=None, *, additional: bool = False) -> Pool:
    """The simulation pool of ``network`` (``vgg16`` | ``vit``). ``additional`` also reads the extra
    trial files (by default they are left out: the VGG16 one repeats pool rows)."""
    root = require_dir(directory)
    return read_pool_rows(pool_files(root, network, additional), network)


# --- workloads --------------------------------------------------------------------------------------

def load_workload(network: str, n: int, directory=None) -> np.ndarray:
    """Published QoS latency limits (ms) of ``network`` from ``workload/network_latency_<n>_samples.csv``,
    in ``Index`` order."""
    path = require_dir(directory) / "workload" / f"network_latency_{n}_samples.csv"
    if not path.is_file():
        raise DataError("workload file not found", source=str(path), field="dynasplit.workloads")
    out = []
    with open(path, newline="", encoding="utf-8") as fh:
        for i, row in enumerate(csv.DictReader(fh), start=2):
            if (row.get("Network") or "").strip().lower() == network:
                out.append((int(_num(row.get("Index"), f"row {i}: Index", path)), _num(row.get("Latency"), f"row {i}: Latency", path)))
    if not out:
        raise DataError(f"no rows for network {network!r}", source=str(path), field="Network")
    out.sort()
    return np.array([v for _, v in out], dtype=float)


PUBLISHED_ORDER = ("vgg16", "resnet50", "mobilenetv2", "vit")


def generate_workload(n: int, network: str, *, seed: int = 123456789, range_ms: tuple[float, float] | None = None,
                      order: Sequence[str] = PUBLISHED_ORDER) -> np.ndarray:
    """QoS limits (ms) with the published law: Weibull shape 1, min-max rescaled per network to
    ``QOS_RANGE_MS[network]`` (or ``range_ms``). One ``numpy.random.default_rng(seed)`` draws
    ``weibull(1, n)`` for each network of ``order`` in turn; with the published seed 123456789 and order
    (vgg16, resnet50, mobilenetv2, vit) this reproduces ``workload/network_latency_{50,10000}_samples.csv``
    to 1e-9 ms (test). A network not in ``order`` gets the draw after all of them."""
    rng = np.random.default_rng(seed)
    order = list(order)
    if network not in order:
        order.append(network)
    if range_ms is None:
        if network not in QOS_RANGE_MS:
            raise DataError(f"no published QoS range for {network!r}; give range_ms", source="config", field="dynasplit.range_ms")
        range_ms = QOS_RANGE_MS[network]
    for name in order:
        x = rng.weibull(1.0, n)
        if name == network:
            break
    lo, hi = range_ms
    return lo + (x - x.min()) / (x.max() - x.min()) * (hi - lo)


# --- overheads and testbed ---------------------------------------------------------------------------

def load_reconfiguration_ms(network: str, directory=None) -> np.ndarray:
    """Measured hardware-reconfiguration durations (ms) of the online phase (``overhead/``)."""
    name = {"vgg16": "splinter_overhead_metrics_vgg16_exhaustive.csv", "vit": "splinter_overhead_metrics_vit.csv"}[network]
    path = require_dir(directory) / "overhead" / name
    if not path.is_file():
        raise DataError("overhead file not found", source=str(path), field="dynasplit.dir")
    out = []
    with open(path, newline="", encoding="utf-8") as fh:
        for i, row in enumerate(csv.DictReader(fh), start=2):
            if (row.get("Phase") or "").strip() == "Hardware Configuration Change":
                out.append(_num(row.get("Duration (ms)"), f"row {i}: Duration (ms)", path))
    if not out:
        raise DataError("no 'Hardware Configuration Change' rows", source=str(path), field="Phase")
    return np.asarray(out, dtype=float)


def load_testbed(network: str, directory=None) -> list[dict]:
    """Rows of ``testbed/experiment_progress_<network>.csv`` with ``strategy``, ``index``, ``qos_ms``,
    ``latency_ms``, ``energy_J`` and the configuration."""
    path = require_dir(directory) / "testbed" / f"experiment_progress_{network}.csv"
    if not path.is_file():
        raise DataError("testbed file not found", source=str(path), field="dynasplit.dir")
    out = []
    with open(path, newline="", encoding="utf-8") as fh:
        for i, row in enumerate(csv.DictReader(fh), start=2):
            w = f"row {i}: "
            out.append({
                "strategy": row["strategy"], "index": int(_num(row["index"], w + "index", path)),
                "qos_ms": _num(row["qos"], w + "qos", path), "latency_ms": _num(row["latency"], w + "latency", path),
                "energy_J": _num(row["energy"], w + "energy", path),
                "config": Config(int(_num(row["cpu-freq"], w + "cpu-freq", path)), int(_num(row["layer"], w + "layer", path)),
                                 row["edge-accelerator"].strip().lower(), _bool(row["server-accelerator"], w + "server-accelerator", path)),
            })
    return out


def testbed_summary(network: str, directory=None) -> list[dict]:
    """Per testbed strategy: requests, mean/median energy (J), mean latency (ms), QoS violations (%),
    energy change vs ``cloud`` (%): the published reference (README headline table)."""
    rows = load_testbed(network, directory)
    out = []
    by: dict[str, list[dict]] = {}
    for r in rows:
        by.setdefault(r["strategy"], []).append(r)
    cloud = np.mean([r["energy_J"] for r in by.get("cloud", [])]) if "cloud" in by else None
    for s, rs in by.items():
        e = np.array([r["energy_J"] for r in rs])
        t = np.array([r["latency_ms"] for r in rs])
        q = np.array([r["qos_ms"] for r in rs])
        out.append({"network": network, "strategy": s, "requests": len(rs), "mean_energy_J": float(e.mean()),
                    "median_energy_J": float(np.median(e)), "mean_latency_ms": float(t.mean()),
                    "qos_violation_pct": float(100 * np.mean(t > q)),
                    "energy_vs_cloud_pct": None if cloud is None else float(100 * (e.mean() / cloud - 1))})
    return out
