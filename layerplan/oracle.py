"""Independent oracles for tests: brute-force enumeration and shortest paths.

Neither uses Pyomo. ``enumerate_plans`` scores every assignment with
:func:`layerplan.latency.plan_latency_s`; ``shortest_path_plan`` solves the base and
preload latency models as a shortest path in the layered (layer, device) graph, the view
JointDNN takes (memory caps are not representable there, so it ignores them).
"""

from __future__ import annotations

import itertools

import numpy as np

from layerplan.latency import LatencyParams, plan_latency_s


def feasible_memory(params: LatencyParams, assignment) -> bool:
    used = np.zeros(params.n_devices)
    for l, d in enumerate(assignment):
        used[d] += params.weight_bytes[l]
    return bool(np.all(used <= params.memory_B + 1e-9))


def enumerate_plans(params: LatencyParams, *, preload: bool, memory: bool = True, score=None):
    """Best (latency, assignment) over all D^L assignments that respect pins and memory.

    ``score(params, assignment)`` may replace the latency (it must return a float).
    Returns (inf, None) when no assignment is feasible.
    """
    L, D = params.n_layers, params.n_devices
    choices = [[params.pinned[l]] if l in params.pinned else list(range(D)) for l in range(L)]
    best, best_a = float("inf"), None
    for a in itertools.product(*choices):
        if memory and not feasible_memory(params, a):
            continue
        val = score(params, a) if score else plan_latency_s(params, a, preload=preload)["total"]
        if val < best - 1e-12:
            best, best_a = val, list(a)
    return best, best_a


def shortest_path_plan(params: LatencyParams, *, preload: bool):
    """Min latency as a shortest path: node (l, d); edge (l, d) -> (l+1, d') costs
    p_{l+1} (t^x[l,d,d'] + t^c[l+1,d'] + w), with w = t^w[l+1,d'] unless preload and d != d'."""
    L, D = params.n_layers, params.n_devices
    p = params.exec_prob
    import networkx as nx  # lazy: 150 ms of import that a plain run never needs

    g = nx.DiGraph()
    allowed = [[params.pinned[l]] if l in params.pinned else list(range(D)) for l in range(L)]
    for d in allowed[0]:
        g.add_edge("s", (0, d), weight=p[0] * params.compute_s[0, d] + (0.0 if preload else p[0] * params.weight_s[0, d]))
    for l in range(L - 1):
        for d in allowed[l]:
            for e in allowed[l + 1]:
                w = p[l + 1] * (params.comm_s[l, d, e] + params.compute_s[l + 1, e])
                if not preload or d == e:
                    w += p[l + 1] * params.weight_s[l + 1, e]
                g.add_edge((l, d), (l + 1, e), weight=w)
    for d in allowed[L - 1]:
        g.add_edge((L - 1, d), "t", weight=0.0)
    path = nx.shortest_path(g, "s", "t", weight="weight")
    assignment = [node[1] for node in path[1:-1]]
    return plan_latency_s(params, assignment, preload=preload)["total"], assignment
