"""System model of Chapter 4: DNN layers, devices, network links and the scenario.

A :class:`DNN` is an ordered chain of :class:`Layer` (Sec. 4.2). A :class:`Scenario`
extends it with the pseudo layers of Sec. 5.1 (source, preprocess, destination), binds it
to a set of :class:`Device` (Sec. 4.1) and a :class:`Network`, and records which layers
are preassigned (pinned) to which device (Sec. 5.2).

All quantities are in SI base units with the unit in the name; see :mod:`layerplan.units`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from layerplan.errors import DataError

DEVICE_CLASSES = ("edge", "hub", "cloud")
#: Processor kinds of a device (issue 14, docs/throughput.md): a CIM device keeps its
#: weights resident in ReRAM crossbars (no weight loads; capacity = crossbar_weights weights).
PROCESSORS = ("cpu", "gpu", "cim")
PSEUDO_KINDS = ("source", "preprocess", "destination")


@dataclass(frozen=True)
class Layer:
    """One layer of a chain DNN.

    ``out_shape`` is (H, W, D) of the output feature map (Eq. (4.3)); ``carry_elems`` are
    extra elements the next layer must receive because a later layer still needs them
    (residuals, early-exit feature maps). ``exec_prob`` is the probability that the layer
    runs at all (early exit, Sec. 6.4).
    """

    name: str
    kind: str
    flop: float
    weights: float
    out_shape: tuple[int, int, int]
    alpha_B: float = 4.0
    exec_prob: float = 1.0
    carry_elems: float = 0.0
    pseudo: str | None = None
    # DAG tables (docs/dag.md): names of the layers whose outputs this layer reads; None =
    # the previous layer (implicit chain edge, or the network input for the first layer),
    # () = the network input only.
    inputs: tuple[str, ...] | None = None

    @property
    def out_elems(self) -> float:
        h, w, d = self.out_shape
        return float(h) * float(w) * float(d) + float(self.carry_elems)

    @property
    def out_bytes(self) -> float:
        """Bytes sent to the next layer: H x W x D x alpha (Eq. (4.3) numerator)."""
        return self.out_elems * self.alpha_B

    @property
    def weight_bytes(self) -> float:
        """Bytes of weights: w x alpha (Eq. (4.2) numerator, Eq. (5.2))."""
        return float(self.weights) * self.alpha_B


@dataclass(frozen=True)
class DNN:
    name: str
    granularity: str
    input_shape: tuple[int, int, int]
    layers: tuple[Layer, ...]
    source_file: str = "<inline>"
    # bytes of an edge (producer, consumer) given explicitly (YAML ``edges``); others carry the
    # producer's output, out_h*out_w*out_d*alpha_B (docs/dag.md)
    edge_bytes: Mapping[tuple[str, str], float] = field(default_factory=dict)

    def __post_init__(self):
        if not self.layers:
            raise DataError("layer table is empty", source=self.source_file, field="layers")
        names = [layer.name for layer in self.layers]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise DataError(f"duplicate layer names {dup}", source=self.source_file, field="name")
        if self.is_dag:
            from layerplan.dag import check_dag_table

            check_dag_table(self)

    @property
    def is_dag(self) -> bool:
        """True when the table lists edges (an ``inputs`` column or ``edges``); a table
        without them is a chain whose edges are implicit (layer l feeds layer l+1)."""
        return bool(self.edge_bytes) or any(layer.inputs is not None for layer in self.layers)

    @property
    def total_flop(self) -> float:
        return sum(layer.flop for layer in self.layers)

    @property
    def total_weights(self) -> float:
        return sum(layer.weights for layer in self.layers)


@dataclass(frozen=True)
class RadioModel:
    """Radio power P = alpha * throughput + beta (Eqs. (8.5)-(8.6)), SI units.

    ``alpha_*_W_per_Bps`` is W per (B/s) of throughput, ``beta_W`` the base power, and
    ``up_Bps`` / ``down_Bps`` the connection's upload / download throughput.
    """

    name: str
    alpha_up_W_per_Bps: float
    alpha_down_W_per_Bps: float
    beta_W: float
    up_Bps: float
    down_Bps: float

    def upload_power_W(self, throughput_Bps: float) -> float:
        """Eq. (8.5): P_up = alpha_up * tau_up + beta."""
        return self.alpha_up_W_per_Bps * throughput_Bps + self.beta_W

    def download_power_W(self, throughput_Bps: float) -> float:
        """Eq. (8.6): P_down = alpha_down * tau_down + beta."""
        return self.alpha_down_W_per_Bps * throughput_Bps + self.beta_W


@dataclass(frozen=True)
class Device:
    """A compute device (Sec. 4.1, Tables 4.1 and 6.1)."""

    name: str
    device_class: str
    flops_per_s: float
    internal_bandwidth_Bps: float
    external_bandwidth_Bps: float
    memory_B: float = math.inf
    idle_power_W: float = 0.0
    spec: str | None = None
    description: str = ""
    radio: RadioModel | None = None  # communication energy model (Ch. 8); None: not counted
    # Throughput / stream energy (docs/throughput.md); defaults keep the thesis' models unchanged.
    processor: str = "cpu"  # cpu | gpu | cim
    active_power_W: float = 0.0  # power while computing (analytic stream energy)
    comm_power_W: float = 0.0  # NIC power while sending or receiving
    mac_latency_s: float | None = None  # CIM: effective time per MAC (t^c = MAC x this)
    mac_energy_J: float | None = None  # CIM: energy per MAC
    crossbar_weights: float | None = None  # CIM: number of weights the crossbars hold


@dataclass(frozen=True)
class Network:
    """Network bandwidth between distinct devices (Sec. 4.3).

    ``bandwidth_Bps`` applies to every ordered pair unless ``links`` overrides it; the
    effective link bandwidth is min(external of both, network) when
    ``cap_by_external`` (the thesis' rule), the internal bandwidth when d == d'.
    """

    bandwidth_Bps: float
    links: Mapping[tuple[str, str], float] = field(default_factory=dict)
    cap_by_external: bool = True
    source_file: str = "<config>"
    uncapped_links: frozenset = frozenset()  # ordered pairs whose bandwidth is taken as given
    radio: RadioModel | None = None  # the edge devices' connection (Ch. 8), unless a device has its own

    def link_bandwidth_Bps(self, src: Device, dst: Device) -> float:
        if src.name == dst.name:
            return src.internal_bandwidth_Bps
        pair = (src.name, dst.name)
        net = self.links.get(pair, self.bandwidth_Bps)
        if self.cap_by_external and pair not in self.uncapped_links:
            return min(src.external_bandwidth_Bps, dst.external_bandwidth_Bps, net)
        return net


@dataclass(frozen=True)
class Scenario:
    """A DNN (with pseudo layers) on a device set over a network, with pinned layers."""

    name: str
    dnn: DNN
    layers: tuple[Layer, ...]
    devices: tuple[Device, ...]
    network: Network
    pinned: Mapping[str, str]
    source_device: str | None = None
    destination_device: str | None = None

    @property
    def layer_names(self) -> list[str]:
        return [layer.name for layer in self.layers]

    @property
    def device_names(self) -> list[str]:
        return [d.name for d in self.devices]

    def device(self, name: str) -> Device:
        for d in self.devices:
            if d.name == name:
                return d
        raise KeyError(name)

    def edges(self) -> list[tuple[int, int]]:
        """Data edges (producer index, consumer index) over ``layers``, pseudo layers included
        (docs/dag.md). A chain DNN gives exactly (l, l+1) for every l."""
        from layerplan.dag import scenario_edges

        return scenario_edges(self)

    def transfer_bytes(self) -> np.ndarray:
        """Bytes of each layer's output tensor as sent to a consumer (Eq. (4.3) numerator);
        for a chain layer the output plus ``carry_elems``."""
        from layerplan.dag import scenario_transfer_bytes

        return scenario_transfer_bytes(self)

    def link_matrix_Bps(self) -> np.ndarray:
        """BW[d, d'] for every ordered device pair (Sec. 4.3)."""
        n = len(self.devices)
        bw = np.empty((n, n))
        for i, a in enumerate(self.devices):
            for j, b in enumerate(self.devices):
                bw[i, j] = self.network.link_bandwidth_Bps(a, b)
        return bw


def build_scenario(
    dnn: DNN,
    devices: Sequence[Device],
    network: Network,
    *,
    name: str | None = None,
    source_device: str | None = None,
    destination_device: str | None = None,
    capture_shape: tuple[int, int, int] | None = (720, 1280, 3),
    preprocess: bool = True,
    preassign: Mapping[str, str] | None = None,
    where: str = "scenario",
) -> Scenario:
    """Add the pseudo layers of Sec. 5.1 and check every cross reference.

    - source: 0 FLOP, output = ``capture_shape`` (H, W, D), pinned to ``source_device``;
    - preprocess: one operation per pixel per channel of the captured image, output =
      the DNN input shape, not pinned;
    - destination: 0 FLOP, output 1x1x1, pinned to ``destination_device``.
    A pseudo layer is added only when its device (or, for preprocess, the source) is set.
    """
    if not devices:
        raise DataError("no devices given", source=where, field="devices")
    names = [d.name for d in devices]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise DataError(f"duplicate device names {dup}", source=where, field="devices")
    alpha = dnn.layers[0].alpha_B
    layers: list[Layer] = []
    pinned: dict[str, str] = {}

    def check_device(dev: str | None, fld: str, src: str = where) -> None:
        if dev is not None and dev not in names:
            raise DataError(f"unknown device {dev!r} (devices: {', '.join(names)})", source=src, field=fld)

    check_device(source_device, "source")
    check_device(destination_device, "destination")
    if source_device is not None:
        if capture_shape is None:
            capture_shape = dnn.input_shape
        layers.append(Layer("source", "source", 0.0, 0.0, tuple(capture_shape), alpha, pseudo="source"))
        pinned["source"] = source_device
        if preprocess:
            ch, cw, cd = capture_shape
            layers.append(
                Layer("preprocess", "preprocess", float(ch * cw * cd), 0.0, tuple(dnn.input_shape), alpha, pseudo="preprocess")
            )
    layers.extend(dnn.layers)
    if destination_device is not None:
        layers.append(
            Layer("destination", "destination", 0.0, 0.0, (1, 1, 1), alpha, exec_prob=1.0, pseudo="destination")
        )
        pinned["destination"] = destination_device
    layer_names = {layer.name for layer in layers}
    for lname, dev in (preassign or {}).items():
        if lname not in layer_names:
            raise DataError(f"unknown layer {lname!r}", source="scenario", field=f"preassign.{lname}")
        check_device(dev, f"preassign.{lname}", "scenario")
        if lname in pinned and pinned[lname] != dev:
            raise DataError(
                f"layer {lname!r} is already pinned to {pinned[lname]!r}", source="scenario", field=f"preassign.{lname}"
            )
        pinned[lname] = dev
    if len(layers) != len(layer_names):
        raise DataError("a DNN layer is named like a pseudo layer (source/preprocess/destination)", source=dnn.source_file, field="name")
    scenario = Scenario(
        name=name or dnn.name,
        dnn=dnn,
        layers=tuple(layers),
        devices=tuple(devices),
        network=network,
        pinned=pinned,
        source_device=source_device,
        destination_device=destination_device,
    )
    from layerplan.checks import check_latency_terms  # every t^c, t^w, t^x finite and bounded (issue 10)

    check_latency_terms(scenario)
    return scenario
