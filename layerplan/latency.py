"""Latency parameters of the ILP: the analytic model of Sec. 4.3.

:class:`LatencyParams` is the one interface between a latency model (analytic here,
profiling-based in Chapter 7) and the formulations: per-layer, per-device arrays in
seconds, plus what the memory constraint and reports need.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from layerplan.scenario import Scenario


@dataclass
class LatencyParams:
    layers: list[str]
    devices: list[str]
    compute_s: np.ndarray  # t^c[l, d], Eq. (4.1)
    weight_s: np.ndarray  # t^w[l, d], Eq. (4.2)
    comm_s: np.ndarray  # t^x[l, d, d'] for l in S_{L-1}, Eq. (4.3)
    exec_prob: np.ndarray  # probability that layer l runs (Sec. 6.4)
    flop: np.ndarray  # FLOP of layer l (ratio of compute)
    weight_bytes: np.ndarray  # w_l * alpha, Eq. (5.2)
    memory_B: np.ndarray  # M_d, Eq. (5.2)
    pinned: dict[int, int] = field(default_factory=dict)  # layer index -> device index
    pseudo: list[str | None] = field(default_factory=list)
    bundles: object = None  # layerplan.profiles.BundleLatency when bundle profiles are loaded (Ch. 7)
    bandwidth_Bps: np.ndarray | None = None  # BW[d, d'] (Sec. 4.3)
    radios: list = field(default_factory=list)  # RadioModel or None per device (Eqs. (8.5)-(8.6))
    device_classes: list[str] = field(default_factory=list)
    out_bytes: np.ndarray | None = None  # bytes sent from layer l to l+1 (Eq. (4.3) numerator)
    layer_energy_J: np.ndarray | None = None  # per-layer profiled energy e[l, d] (layerplan.layer_profiles), NaN: none
    edges: list[tuple[int, int]] | None = None  # DAG data edges (producer, consumer); None: the chain l -> l+1

    @property
    def n_layers(self) -> int:
        return len(self.layers)

    @property
    def n_devices(self) -> int:
        return len(self.devices)


def analytic_params(scenario: Scenario) -> LatencyParams:
    """Eqs. (4.1)-(4.3) for every layer and device (pair).

    .. math::
        t^c_{\\ell,d} = \\frac{FLOP_\\ell}{(FLOP/s)_d}, \\quad
        t^w_{\\ell,d} = \\frac{w_\\ell \\alpha}{BW_{d,d}}, \\quad
        t^x_{\\ell,d,d'} = \\frac{H_\\ell W_\\ell D_\\ell \\alpha}{BW_{d,d'}}

    with BW_{d,d} the internal bandwidth and BW_{d,d'} = min(external_d, external_d',
    network) for d != d' (Sec. 4.3).
    """
    layers = scenario.layers
    devs = scenario.devices
    flop = np.array([layer.flop for layer in layers], dtype=float)
    wbytes = np.array([layer.weight_bytes for layer in layers], dtype=float)
    obytes = np.array([layer.out_bytes for layer in layers], dtype=float)
    edges = None
    if scenario.dnn.is_dag:  # docs/dag.md: t^x[v, d, d'] is v's output tensor over BW[d, d']
        from layerplan.dag import is_chain_edges

        edges = scenario.edges()
        obytes = scenario.transfer_bytes()
        if is_chain_edges(edges, len(layers)):
            edges = None
    flops_per_s = np.array([d.flops_per_s for d in devs], dtype=float)
    internal = np.array([d.internal_bandwidth_Bps for d in devs], dtype=float)
    bw = scenario.link_matrix_Bps()
    compute_s = flop[:, None] / flops_per_s[None, :]  # Eq. (4.1)
    weight_s = wbytes[:, None] / internal[None, :]  # Eq. (4.2)
    comm_s = obytes[:-1, None, None] / bw[None, :, :]  # Eq. (4.3)
    memory_B = np.array([d.memory_B for d in devs], dtype=float)
    for i, d in enumerate(devs):
        if getattr(d, "processor", "cpu") == "cim":  # docs/throughput.md: resident crossbar weights
            compute_s[:, i] = flop / 2.0 * d.mac_latency_s  # MAC = FLOP / 2, per-MAC latency
            weight_s[:, i] = 0.0  # weights stay in the crossbars: no load per inference
            alpha = max((layer.alpha_B for layer in layers if layer.pseudo is None), default=4.0)
            memory_B[i] = min(memory_B[i], d.crossbar_weights * alpha)  # Eq. (5.2), M_d = crossbar capacity (B)
    dev_index = {d.name: i for i, d in enumerate(devs)}
    lay_index = {layer.name: i for i, layer in enumerate(layers)}
    pinned = {lay_index[ln]: dev_index[dn] for ln, dn in scenario.pinned.items()}
    return LatencyParams(
        layers=[layer.name for layer in layers],
        devices=[d.name for d in devs],
        compute_s=compute_s,
        weight_s=weight_s,
        comm_s=comm_s,
        exec_prob=np.array([layer.exec_prob for layer in layers], dtype=float),
        flop=flop,
        weight_bytes=wbytes,
        memory_B=memory_B,
        pinned=pinned,
        pseudo=[layer.pseudo for layer in layers],
        bandwidth_Bps=bw,
        radios=[d.radio or (scenario.network.radio if d.device_class == "edge" else None) for d in devs],
        device_classes=[d.device_class for d in devs],
        out_bytes=obytes,
        edges=edges,
    )


def communication_s(params: LatencyParams, assignment) -> float:
    """T^x of a plan: Eq. (5.5) on a chain (weighted by the receiving layer's execution
    probability, Sec. 6.4); on a DAG table each tensor is paid once per destination device
    (docs/dag.md, :func:`layerplan.dag.dag_transfers`)."""
    a = list(assignment)
    if params.edges is not None:
        from layerplan.dag import dag_communication_s

        return dag_communication_s(params, a)
    p = params.exec_prob
    return float(sum(p[l + 1] * params.comm_s[l, a[l], a[l + 1]] for l in range(len(a) - 1)))


def plan_latency_s(params: LatencyParams, assignment: list[int], *, preload: bool) -> dict[str, float]:
    """Latency of a given plan, evaluated directly from the parameters (no ILP).

    Base: Eqs. (5.4)-(5.6); preload: Eq. (6.2), where t^w of layer l on d is paid only
    when layer l-1 also ran on d (the first layer's weights are always preloaded).
    Each term is weighted by the execution probability of the layer that runs
    (for a transfer, of the receiving layer), Sec. 6.4. On a DAG table the transfers are
    the DAG's (:func:`communication_s`).
    """
    p = params.exec_prob
    a = list(assignment)
    compute = sum(p[l] * params.compute_s[l, a[l]] for l in range(len(a)))
    comm = communication_s(params, a)
    if preload:
        weight = sum(p[l] * params.weight_s[l, a[l]] for l in range(1, len(a)) if a[l - 1] == a[l])
    else:
        weight = sum(p[l] * params.weight_s[l, a[l]] for l in range(len(a)))
    return {"compute": float(compute), "communication": float(comm), "weight": float(weight),
            "total": float(compute + comm + weight)}
