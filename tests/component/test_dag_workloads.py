"""Component tier: the published DAG workloads (experiments/dag_workloads.py, docs/dag.md).

Skips when the data folder is absent ($LAYERPLAN_DAG_WORKLOADS_DIR, default
../shared/data/dag_workloads).
"""

from __future__ import annotations

import pytest

from layerplan.dag import dag_plan_latency_s
from layerplan.experiments import dag_workloads as dw

pytestmark = pytest.mark.component

DATA = dw.workloads_dir()
needs_data = pytest.mark.skipif(not (DATA / "latency").is_dir(), reason=f"DAG workloads not found at {DATA}")
COUNTS = {"resnet50": (177, 193, 14), "inceptionv3": (326, 363, 12), "bert24": (32, 55, 5), "gnmt": (96, 122, 6)}


@needs_data
@pytest.mark.parametrize("name", sorted(COUNTS))
def test_workloads_load_as_dags_with_per_layer_profiles(name):
    w = dw.load_workload(name)
    nodes, edges, acc = COUNTS[name]  # the README's table
    assert len(w["order"]) == nodes and w["max_accelerators"] == acc
    sc, params = dw.workload_problem(w, 2)
    assert len(params.edges) == edges
    pos = {n: i for i, n in enumerate(params.layers)}
    assert all(pos[params.layers[v]] < pos[params.layers[u]] for v, u in params.edges)  # topological
    first = w["order"][0]
    assert params.compute_s[0, 0] == pytest.approx(w["nodes"][first]["cpuLatency"] * 1e-3)
    assert params.compute_s[0, 1] == pytest.approx(w["nodes"][first]["fpgaLatency"] * 1e-3)
    assert not params.weight_s.any()
    expert, n_acc = dw.load_expert(dw.load_workload(name, kind="throughput"))
    assert n_acc == 6 and len(expert) == nodes


@needs_data
@pytest.mark.slow
def test_bert24_plans_beat_the_baselines_under_the_same_model():
    w = dw.load_workload("bert24")
    sc, params = dw.workload_problem(w, 3)
    sol = dw.solve_placement(sc, params, solver={"name": "highs", "time_limit_s": 30})
    ours = dw.evaluate(params, sol["assignment"])
    assert ours["memory_ok"]
    assert ours["latency_s"] < dw.evaluate(params, [0] * len(sol["assignment"]))["latency_s"]
    assert ours["latency_s"] == pytest.approx(dag_plan_latency_s(params, sol["assignment"], preload=False)["total"])
    wt = dw.load_workload("bert24", kind="throughput")
    sct, pt = dw.workload_problem(wt, 6)
    ml = dw.solve_placement(sct, pt, objective="throughput", solver={"name": "highs", "time_limit_s": 30})
    expert, _ = dw.load_expert(wt)
    assert dw.evaluate(pt, ml["assignment"])["max_load_s"] <= dw.evaluate(pt, expert)["max_load_s"] + 1e-9
