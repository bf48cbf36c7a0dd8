"""Component tier: the DAG formulation (docs/dag.md) against brute force.

Random small DAGs (up to 8 layers with the pseudo layers, 2-3 devices) with fan-out,
joins, several sinks, pins and binding memory caps; every linearization, with and
without ODIWeP preloading, reaches the optimum of the DAG enumeration oracle. On chains
the DAG form is the base ILP exactly; the chain-with-carry linearization of a DAG is
never better than the DAG optimum.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layerplan.api import solve_scenario
from layerplan.dag import chain_with_carry, dag_plan_latency_s
from layerplan.dag_oracle import enumerate_dag_plans
from layerplan.errors import ConfigError, SolverError
from layerplan.latency import analytic_params, plan_latency_s
from layerplan.oracle import enumerate_plans
from layerplan.scenario import DNN, Device, Layer, Network, build_scenario

from conftest import random_scenario, scenario_args
from test_dime import estimate_by_enumeration

pytestmark = pytest.mark.component
SOLVER = {"name": "highs", "mip_rel_gap": 1e-9}


def random_dag(seed: int, n_layers: int, *, fanout: float = 0.5) -> DNN:
    """A random DAG in topological order: each layer reads 1-3 earlier layers (or the input)."""
    rng = np.random.default_rng(seed)
    layers = []
    for i in range(n_layers):
        if i == 0:
            ins = ("input",)
        else:
            k = 1 + int(rng.random() < fanout) + int(rng.random() < fanout / 2)
            pool = ["input"] + [f"l{j}" for j in range(i)]
            picks = rng.choice(len(pool), size=min(k, len(pool)), replace=False)
            ins = tuple(pool[j] for j in sorted(picks))
            if i == n_layers - 1 and f"l{i - 1}" in ins and len(ins) == 1:  # always one skip edge
                ins = (pool[int(rng.integers(0, i))], f"l{i - 1}")
        layers.append(Layer(name=f"l{i}", kind="conv", flop=float(rng.integers(0, 5e9)),
                            weights=float(rng.choice([0, rng.integers(1e3, 5e7)])),
                            out_shape=(1, int(rng.integers(1, 300)), int(rng.integers(1, 3000))), inputs=ins))
    return DNN("rdag", "module", (16, 16, 3), tuple(layers))


def dag_scenario(seed: int, n_layers: int, n_devices: int, *, memory: str = "off", pins: int = 0,
                 uniform: bool = False):
    """``uniform``: one network bandwidth, equal internal bandwidths (the setting where the
    chain-with-carry comparison holds per plan, docs/dag.md)."""
    rng = np.random.default_rng(seed + 1)
    dnn = random_dag(seed, n_layers)
    total_w = sum(layer.weight_bytes for layer in dnn.layers)
    internal = float(10 ** rng.uniform(8.5, 11.5))
    devices = []
    for d in range(n_devices):
        mem = {"off": math.inf, "binding": total_w * float(rng.uniform(0.35, 0.8)) + 1}[memory]
        devices.append(Device(f"D{d}", ["edge", "hub", "cloud"][d % 3], float(10 ** rng.uniform(9, 12.5)),
                              internal if uniform else float(10 ** rng.uniform(8.5, 11.5)),
                              1e12 if uniform else float(10 ** rng.uniform(6, 8.5)), memory_B=mem))
    links = {}
    if not uniform:
        for a in range(n_devices):
            for b in range(n_devices):
                if a != b and rng.random() < 0.3:
                    links[(f"D{a}", f"D{b}")] = float(10 ** rng.uniform(5, 8))
    net = Network(float(10 ** rng.uniform(5, 8)), links)
    pinned = {f"l{int(rng.integers(0, n_layers))}": f"D{int(rng.integers(0, n_devices))}" for _ in range(pins)}
    return build_scenario(dnn, devices, net, source_device="D0", destination_device="D0", capture_shape=(32, 32, 3),
                          preprocess=bool(rng.random() < 0.5), preassign=pinned)


VARIANTS = [
    ("base", {"linearization": "flow"}, {"linearization": "flow"}),
    ("base", {"linearization": "flow"}, {"linearization": "and"}),
    ("base", {"linearization": "and"}, {"linearization": "flow"}),
    ("preload", {"linearization": "flow"}, {"linearization": "flow"}),
    ("preload", {"linearization": "and"}, {"linearization": "and"}),
]

dag_args = st.fixed_dictionaries({"seed": st.integers(0, 2**31 - 1), "n_layers": st.integers(2, 5),
                                  "n_devices": st.integers(2, 3)})


@pytest.mark.parametrize("form,model,dag_opts", VARIANTS, ids=lambda v: str(v))
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(args=dag_args, memory=st.sampled_from(["off", "binding"]), pins=st.integers(0, 2))
def test_dag_ilp_equals_enumeration(form, model, dag_opts, args, memory, pins):
    sc = dag_scenario(**args, memory=memory, pins=pins)
    assert len(sc.layers) <= 8
    params = analytic_params(sc)
    assert params.edges is not None  # a real DAG (fan-out / joins / the input read twice)
    preload = form == "preload"
    best, best_a = enumerate_dag_plans(params, preload=preload)
    formulation = {form: {}, "dag": dag_opts} if form != "base" else {"dag": dag_opts}
    if best_a is None:
        with pytest.raises(SolverError, match="infeasible"):
            solve_scenario(sc, formulation=formulation, model=model, solver=SOLVER)
        return
    res = solve_scenario(sc, formulation=formulation, model=model, solver=SOLVER)
    assert res["status"] == "optimal"
    # rel 1e-5: HiGHS' feasibility tolerance (1e-7) on a flow variable of a link costing seconds
    assert math.isclose(res["objective"], best, rel_tol=1e-5, abs_tol=1e-9)
    a = [params.devices.index(x["device"]) for x in res["assignment"]]
    own = dag_plan_latency_s(params, a, preload=preload)
    assert math.isclose(own["total"], best, rel_tol=1e-9, abs_tol=1e-12)  # the plan itself is optimal
    assert math.isclose(res["latency_s"]["total"], own["total"], rel_tol=1e-5, abs_tol=1e-9)
    assert math.isclose(res["latency_s"]["communication"], own["communication"], rel_tol=1e-5,
                        abs_tol=1e-5 * own["total"])  # x integrality tolerance times a slow link


def test_dag_is_added_automatically_and_fanout_paid_once():
    """A producer read by two layers on the other device is sent once."""
    layers = (Layer("a", "conv", 1e6, 0, (1, 1, 1000)), Layer("b", "conv", 1e10, 0, (1, 1, 10), inputs=("a",)),
              Layer("c", "conv", 1e10, 0, (1, 1, 10), inputs=("a",)), Layer("d", "add", 0, 0, (1, 1, 1), inputs=("b", "c")))
    dnn = DNN("fan", "module", (1, 1, 1), layers)
    devs = [Device("E", "edge", 1e9, 1e12, 1e6), Device("C", "cloud", 1e12, 1e12, 1e6)]
    sc = build_scenario(dnn, devs, Network(1e6), preassign={"a": "E"})
    res = solve_scenario(sc, formulation=["preload"], solver=SOLVER)
    assert res["formulations"] == ["base", "dag", "preload"]
    assert [x["device"] for x in res["assignment"]] == ["E", "C", "C", "C"]
    sent = [t for t in res["dag"]["transfers"] if t["tensor"] == "a"]
    assert sent == [{"tensor": "a", "from": "E", "to": "C", "consumers": ["b", "c"]}]
    # 4000 B over 1 MB/s once (not twice), + the internal transfers at 1 TB/s
    assert res["latency_s"]["communication"] == pytest.approx(4000 / 1e6 + (40 + 40) / 1e12, rel=1e-9)


def test_chain_only_mixins_refused_on_dags():
    sc = dag_scenario(3, 4, 2)
    with pytest.raises(ConfigError, match="freddi"):
        solve_scenario(sc, formulation=["dime", "freddi"], solver=SOLVER)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(args=scenario_args, memory=st.sampled_from(["off", "binding"]), exec_prob=st.booleans())
def test_dag_form_on_a_chain_is_the_base_ilp(args, memory, exec_prob):
    """On a chain the DAG form gives exactly today's optimum and adds no variable."""
    sc = random_scenario(**args, memory=memory, exec_prob=exec_prob)
    params = analytic_params(sc)
    assert params.edges is None
    for form in (["preload"], []):
        plain = solve_scenario(sc, formulation=form, solver=SOLVER) if enumerate_plans(params, preload=bool(form))[1] \
            else None
        if plain is None:
            continue
        dag = solve_scenario(sc, formulation=[*form, "dag"], solver=SOLVER)
        assert dag["objective"] == pytest.approx(plain["objective"], rel=1e-9, abs=1e-12)
        assert dag["model_size"]["variables"] == plain["model_size"]["variables"]
        a = [params.devices.index(x["device"]) for x in dag["assignment"]]
        assert dag_plan_latency_s(params, a, preload=bool(form)) == pytest.approx(
            plan_latency_s(params, a, preload=bool(form)))
        dag_and = solve_scenario(sc, formulation=[*form, "dag"], model={"linearization": "and"}, solver=SOLVER)
        assert dag_and["objective"] == pytest.approx(plain["objective"], rel=1e-6, abs=1e-12)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(args=dag_args, preload=st.booleans())
def test_chain_with_carry_never_better_than_dag(args, preload):
    """The linearized chain (skip tensors carried at every boundary) costs at least the
    DAG plan on the same scenario: per plan, and so at the optimum (uniform network)."""
    sc = dag_scenario(**args, uniform=True)
    chain_dnn = chain_with_carry(sc.dnn)
    assert not chain_dnn.is_dag
    chain_sc = build_scenario(chain_dnn, sc.devices, sc.network, source_device="D0", destination_device="D0",
                              capture_shape=(32, 32, 3), preprocess=any(x.pseudo == "preprocess" for x in sc.layers))
    pd, pc = analytic_params(sc), analytic_params(chain_sc)
    form = ["preload"] if preload else []
    dag = solve_scenario(sc, formulation=form, solver=SOLVER)
    chain = solve_scenario(chain_sc, formulation=form, solver=SOLVER)
    assert dag["objective"] <= chain["objective"] * (1 + 1e-9) + 1e-12
    # the chain's plan evaluated under the DAG model costs no more than under the chain model
    a = [pc.devices.index(x["device"]) for x in chain["assignment"]]
    assert dag_plan_latency_s(pd, a, preload=preload)["total"] <= plan_latency_s(pc, a, preload=preload)["total"] + 1e-12


def dag_bundle_case(seed: int, n_layers: int, n_devices: int, bias: float, *, memory: bool):
    """A random DAG whose devices carry profile specs, and bundle profiles of every range of
    the execution order (``bias`` > 0: bundles cost more than their layers, < 0: less)."""
    from layerplan.profiles import NOMINAL, ProfileSet

    rng = np.random.default_rng(seed + 7)
    dnn = random_dag(seed, n_layers)
    total_w = sum(layer.weight_bytes for layer in dnn.layers)
    # networks fast enough that the optimum often splits (and skip tensors cross devices)
    devs = [Device(f"D{d}", "edge" if d == 0 else "cloud", 1e9, 1e9, float(10 ** rng.uniform(8, 10)), spec=f"p{d}",
                   memory_B=(total_w * rng.uniform(0.4, 0.9) + 1 if memory and d else math.inf))
            for d in range(n_devices)]
    sc = build_scenario(dnn, devs, Network(float(10 ** rng.uniform(7, 9))), source_device="D0",
                        destination_device="D0", capture_shape=(32, 32, 3), preprocess=bool(rng.random() < 0.5))
    ps = ProfileSet("rdag", "module")
    for d in range(n_devices):
        base = rng.uniform(0.001, 0.05, n_layers) * (1 if d == 0 else rng.uniform(0.05, 1.0))
        for i in range(1, n_layers + 1):
            for j in range(i, n_layers + 1):
                g = 1 + bias * (j - i) / max(1, n_layers - 1)
                ps.latency_s[(f"p{d}", NOMINAL, i, j)] = float(base[i - 1:j].sum() * g * rng.uniform(0.97, 1.03))
    return sc, ps


def dag_comm_s(p, a) -> float:
    """The DAG's transfers of a plan, each tensor once per destination device (written out
    here, not through layerplan.latency.communication_s, which the result uses)."""
    from layerplan.dag import dag_transfers, transfer_prob

    return sum(transfer_prob(p, us) * p.comm_s[v, d, e] for v, d, e, us in dag_transfers(p, a))


def dag_fixed_latency_s(p, a) -> float:
    """What a plan pays besides its bundles on a DAG: the pseudo layers and the transfers."""
    pseudo = [l for l, kind in enumerate(p.pseudo) if kind is not None]
    return sum(p.exec_prob[l] * (p.compute_s[l, a[l]] + p.weight_s[l, a[l]]) for l in pseudo) + dag_comm_s(p, a)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(args=dag_args, bias=st.floats(-0.5, 1.5), mbs=st.integers(1, 5), form=st.sampled_from(["dime", "jointdnn"]),
       memory=st.booleans(), lin=st.sampled_from(["flow", "and"]))
def test_bundles_on_a_dag_equal_enumeration(args, bias, mbs, form, memory, lin):
    """DIME and JointDNN (Ch. 7) on a DAG: bundles are ranges of the execution order, the
    transfers those of the DAG; the ILP's estimate equals the enumerated minimum over plans
    and bundle covers, and the result's actual latency is its plan's (maximal runs)."""
    from layerplan.bundle_eval import runs
    from layerplan.profiles import bundle_latency

    sc, ps = dag_bundle_case(args["seed"], args["n_layers"], args["n_devices"], bias, memory=memory)
    p = analytic_params(sc)
    assert p.edges is not None
    p.bundles = bundle_latency(p, ps, None, {d.name: d.spec for d in sc.devices})
    mbs = min(mbs, args["n_layers"])
    expect = estimate_by_enumeration(p, mbs, ceiling=form == "dime", fixed_of=dag_fixed_latency_s)
    formulation = {form: {"mbs": mbs}, "dag": {}}
    if math.isinf(expect):
        with pytest.raises(SolverError, match="infeasible"):
            solve_scenario(sc, formulation=formulation, profiles=ps, model={"linearization": lin}, solver=SOLVER)
        return
    res = solve_scenario(sc, formulation=formulation, profiles=ps, model={"linearization": lin}, solver=SOLVER)
    assert res["status"] == "optimal"
    assert math.isclose(res["latency_s"]["estimated"], expect, rel_tol=1e-5, abs_tol=1e-9)
    a = [p.devices.index(x["device"]) for x in res["assignment"]]
    bundles_s = sum(p.bundles.latency_s[(i, j, d, 0)] for i, j, d in runs(p, a))  # maximal runs
    assert math.isclose(res["latency_s"]["total"], bundles_s + dag_fixed_latency_s(p, a), rel_tol=1e-5, abs_tol=1e-9)
    assert math.isclose(res["latency_s"]["communication"], dag_comm_s(p, a), rel_tol=1e-5, abs_tol=1e-9)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(args=dag_args, preload=st.booleans())
def test_baselines_score_dag_plans_with_the_dags_transfers(args, preload):
    """The exhaustive baseline over every plan of a DAG table is the DAG ILP's optimum (both
    pay each tensor once per destination device); pipeline_dp, which prices chain cuts, is
    refused on DAG tables in one line."""
    from layerplan.baselines import run_baseline

    sc = dag_scenario(**args)
    params = analytic_params(sc)
    form = ["preload"] if preload else ["base"]
    best, _ = enumerate_dag_plans(params, preload=preload)
    if math.isinf(best):
        return
    ex = run_baseline(sc, params, {"name": "exhaustive", "single_entry": False}, form)
    assert math.isclose(ex["objective"], best, rel_tol=1e-9, abs_tol=1e-12)
    assert math.isclose(ex["latency_s"]["total"], best, rel_tol=1e-9, abs_tol=1e-12)
    res = solve_scenario(sc, formulation=[f for f in form if f != "base"], solver=SOLVER)
    assert math.isclose(res["objective"], best, rel_tol=1e-5, abs_tol=1e-9)
    with pytest.raises(ConfigError, match="pipeline_dp"):
        run_baseline(sc, params, {"name": "pipeline_dp"}, form)
