"""Brute-force oracle for DAG networks (tests only; no Pyomo).

Scores every assignment of a small DAG with :func:`layerplan.dag.dag_plan_latency_s`
(transfers paid once per producer and destination device) under pins and memory caps.
"""

from __future__ import annotations

import itertools

from layerplan.dag import dag_plan_latency_s
from layerplan.latency import LatencyParams
from layerplan.oracle import feasible_memory


def enumerate_dag_plans(params: LatencyParams, *, preload: bool, memory: bool = True):
    """Best (latency, assignment) over all D^L assignments that respect pins and memory;
    (inf, None) when none is feasible."""
    L, D = params.n_layers, params.n_devices
    choices = [[params.pinned[l]] if l in params.pinned else list(range(D)) for l in range(L)]
    best, best_a = float("inf"), None
    for a in itertools.product(*choices):
        if memory and not feasible_memory(params, a):
            continue
        val = dag_plan_latency_s(params, a, preload=preload)["total"]
        if val < best - 1e-12:
            best, best_a = val, list(a)
    return best, best_a
