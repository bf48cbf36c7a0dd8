"""DAG networks (skip connections, branches): edges, checks, plan evaluation, linearization.

A layer table may list, per layer, the layers whose outputs it reads (``inputs``, CSV
column ``inputs`` with names separated by ``;``, or a YAML ``edges`` list). The table's
row order is the *execution order*: every input must appear earlier (a topological
order), and the device-sequential latency model of Ch. 4-5 runs the layers in that
order. A table without edges is a chain: layer l feeds layer l+1 (implicit edges), and
everything here reduces to the chain model exactly (docs/dag.md).

Transfer model (generalizing Eq. (5.5)): the output of v placed on d is sent to a device
d' once if at least one consumer of v runs on d' (fan-out counted once per destination
device), costing t^x[v, d, d'] = bytes_v / BW[d, d'] (Eq. (4.3)); bytes_v is the
producer's output tensor (one tensor per layer). As in the chain model a transfer to the
same device costs bytes_v / BW[d, d] (internal bandwidth).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from typing import TYPE_CHECKING, Sequence

import numpy as np

from layerplan.errors import DataError

if TYPE_CHECKING:  # pragma: no cover
    from layerplan.latency import LatencyParams
    from layerplan.scenario import DNN, Scenario

INPUT = "input"  # the network input (the preprocess / source pseudo layer's output)


def layer_inputs(dnn: "DNN") -> list[list[int]]:
    """Producer indices of every DNN layer; -1 is the network input."""
    index = {layer.name: i for i, layer in enumerate(dnn.layers)}
    out = []
    for i, layer in enumerate(dnn.layers):
        if layer.inputs is None:
            out.append([i - 1])
        elif len(layer.inputs) == 0:
            out.append([-1])
        else:
            out.append([-1 if n == INPUT else index[n] for n in layer.inputs])
    return out


def check_dag_table(dnn: "DNN") -> None:
    """Every input names an earlier layer (the table order is a topological order), no
    duplicates, no carry (a DAG table lists its edges instead), one tensor per producer."""
    src = dnn.source_file
    index = {layer.name: i for i, layer in enumerate(dnn.layers)}
    if INPUT in index:
        raise DataError(f"a DAG table cannot name a layer {INPUT!r} (it means the network input)", source=src,
                        field=f"{INPUT}.name")
    for i, layer in enumerate(dnn.layers):
        fld = f"{layer.name}.inputs"
        if layer.carry_elems:
            raise DataError("carry_elems is for chain tables; a DAG table lists its edges instead", source=src,
                            field=f"{layer.name}.carry_elems")
        names = layer.inputs or ()
        dup = sorted({n for n in names if list(names).count(n) > 1})
        if dup:
            raise DataError(f"lists {dup[0]!r} twice", source=src, field=fld)
        for n in names:
            if n == INPUT:
                continue
            if n not in index:
                raise DataError(f"unknown layer {n!r}", source=src, field=fld)
            if index[n] >= i:
                raise DataError(f"{n!r} comes at or after {layer.name!r}: rows must be in execution (topological) order",
                                source=src, field=fld)
    prods = layer_inputs(dnn)
    edges = {(dnn.layers[v].name, dnn.layers[u].name) for u, ps in enumerate(prods) for v in ps if v >= 0}
    per_producer: dict[str, set] = defaultdict(set)
    for (a, b), nbytes in dnn.edge_bytes.items():
        if (a, b) not in edges:
            raise DataError(f"edge {a} -> {b} is not in the table's inputs", source=src, field="edges")
        if not nbytes > 0:
            raise DataError(f"bytes must be > 0, got {nbytes!r}", source=src, field=f"edges[{a}->{b}].bytes")
        per_producer[a].add(float(nbytes))
    for a, vals in per_producer.items():
        given = {b for (x, b) in dnn.edge_bytes if x == a}
        implicit = {b for (x, b) in edges if x == a} - given
        if len(vals) > 1 or implicit:
            raise DataError(f"edges out of {a!r} must all carry the same bytes (one output tensor per layer; "
                            "split the layer otherwise)", source=src, field=f"edges[{a}].bytes")


def dnn_transfer_bytes(dnn: "DNN") -> list[float]:
    """Bytes each DNN layer sends to a consumer: an explicit edge size, else its output
    (with ``carry_elems`` for chain tables)."""
    given = {a: b for (a, _), b in dnn.edge_bytes.items()}
    return [float(given.get(layer.name, layer.out_bytes)) for layer in dnn.layers]


def scenario_edges(sc: "Scenario") -> list[tuple[int, int]]:
    """(producer, consumer) indices over ``sc.layers``: source -> preprocess -> the layers
    reading the network input; the DNN's edges; every sink (no consumer) -> destination."""
    names = [layer.name for layer in sc.layers]
    first = names.index(sc.dnn.layers[0].name)
    edges: list[tuple[int, int]] = [(i, i + 1) for i in range(first - 1)]  # source -> preprocess
    entry = first - 1 if first > 0 else None
    has_consumer = set()
    for u, prods in enumerate(layer_inputs(sc.dnn)):
        for v in sorted(set(prods)):
            if v < 0:
                if entry is not None:
                    edges.append((entry, first + u))
            else:
                edges.append((first + v, first + u))
                has_consumer.add(v)
    last = first + len(sc.dnn.layers)
    if last < len(sc.layers):  # destination pseudo layer
        for v in range(len(sc.dnn.layers)):
            if v not in has_consumer:
                edges.append((first + v, last))
    return sorted(set(edges))


def scenario_transfer_bytes(sc: "Scenario") -> np.ndarray:
    by_name = dict(zip((layer.name for layer in sc.dnn.layers), dnn_transfer_bytes(sc.dnn)))
    return np.array([by_name.get(layer.name, layer.out_bytes) for layer in sc.layers], dtype=float)


def is_chain_edges(edges: Sequence[tuple[int, int]], n_layers: int) -> bool:
    return list(edges) == [(i, i + 1) for i in range(n_layers - 1)]


def consumers(params: "LatencyParams") -> dict[int, list[int]]:
    """Producer index -> consumer indices (chain: l -> [l + 1])."""
    edges = params.edges if params.edges is not None else [(i, i + 1) for i in range(params.n_layers - 1)]
    out: dict[int, list[int]] = defaultdict(list)
    for v, u in edges:
        out[v].append(u)
    return dict(out)


def transfer_prob(params: "LatencyParams", cons: Sequence[int]) -> float:
    """Weight of a transfer (Sec. 6.4): the largest execution probability among the
    consumers it serves; on a chain p_{l+1}, as in Eq. (5.5) with early exits."""
    return float(max(params.exec_prob[u] for u in cons))


def dag_transfers(params: "LatencyParams", assignment: Sequence[int]) -> list[tuple[int, int, int, list[int]]]:
    """(producer, from device, to device, consumers on it) of every transfer of a plan."""
    out = []
    for v, cons in sorted(consumers(params).items()):
        by_dev: dict[int, list[int]] = defaultdict(list)
        for u in cons:
            by_dev[assignment[u]].append(u)
        for e, us in sorted(by_dev.items()):
            out.append((v, assignment[v], e, us))
    return out


def dag_communication_s(params: "LatencyParams", assignment: Sequence[int]) -> float:
    """T^x of a plan on a DAG (Eq. (5.5) generalized): each producer's tensor paid once per
    destination device, weighted by :func:`transfer_prob`."""
    return float(sum(transfer_prob(params, us) * params.comm_s[v, d, e]
                     for v, d, e, us in dag_transfers(params, assignment)))


def dag_plan_latency_s(params: "LatencyParams", assignment: Sequence[int], *, preload: bool) -> dict[str, float]:
    """Latency of a plan on a DAG, evaluated directly (no ILP): Eqs. (5.4) and (5.6) (or
    (6.2) with ``preload``, along the execution order) as on a chain, and the communication
    of Eq. (5.5) generalized: each producer's tensor is paid once per destination device.
    On a chain this equals :func:`layerplan.latency.plan_latency_s`."""
    p = params.exec_prob
    a = list(assignment)
    compute = sum(p[l] * params.compute_s[l, a[l]] for l in range(len(a)))
    if preload:
        weight = sum(p[l] * params.weight_s[l, a[l]] for l in range(1, len(a)) if a[l - 1] == a[l])
    else:
        weight = sum(p[l] * params.weight_s[l, a[l]] for l in range(len(a)))
    comm = dag_communication_s(params, a)
    return {"compute": float(compute), "communication": float(comm), "weight": float(weight),
            "total": float(compute + comm + weight)}


def chain_with_carry(dnn: "DNN") -> "DNN":
    """The chain linearization of a DAG table (what the shipped chain tables do): the
    rows in execution order, each transfer l -> l+1 carrying every tensor still needed
    later (``carry_elems``), including the network input while a later layer reads it and
    outputs of sinks up to the end (they go to the destination)."""
    from layerplan.scenario import DNN

    if not dnn.is_dag:
        return dnn
    L = len(dnn.layers)
    prods = layer_inputs(dnn)
    nbytes = dnn_transfer_bytes(dnn)
    last_use = {v: L for v in range(L)}  # sinks: the destination, after every layer
    has_consumer: set[int] = set()
    input_last = 0
    for u, ps in enumerate(prods):
        for v in ps:
            if v < 0:
                input_last = max(input_last, u)
            elif v in has_consumer:
                last_use[v] = max(last_use[v], u)
            else:
                has_consumer.add(v)
                last_use[v] = u
    in_h, in_w, in_d = dnn.input_shape
    layers = []
    for l, layer in enumerate(dnn.layers):
        live_B = sum(nbytes[v] for v in range(l) if last_use[v] > l)
        if input_last > l:
            live_B += float(in_h * in_w * in_d) * dnn.layers[0].alpha_B
        own_B = nbytes[l] - layer.out_bytes  # an explicit edge size replaces the output shape
        layers.append(replace(layer, inputs=None, carry_elems=(live_B + own_B) / layer.alpha_B))
    return DNN(f"{dnn.name}_chain", dnn.granularity, dnn.input_shape, tuple(layers), dnn.source_file)
