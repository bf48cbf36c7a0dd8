"""DIME / JointDNN (Ch. 7) against enumeration on random bundle-profile tables."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layerplan.api import solve_scenario
from layerplan.bundle_eval import actual_latency_s, all_plans, exhaustive_optimum, runs, single_entry_plans
from layerplan.errors import ConfigError, DataError
from layerplan.latency import analytic_params
from layerplan.oracle import feasible_memory
from layerplan.profiles import NOMINAL, ProfileSet, bundle_latency, profile_count, profile_count_eq_7_6
from layerplan.scenario import DNN, Device, Layer, Network, build_scenario

pytestmark = pytest.mark.component
SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def make_case(seed: int, n_layers: int, n_devices: int, biases: list[float], *, memory: bool = False):
    """Random chain + profiles; bias > 0 under-estimating device, < 0 over-estimating."""
    rng = np.random.default_rng(seed)
    layers = tuple(
        Layer(f"l{i}", "conv", 1e8, float(rng.integers(1e3, 1e6)), (1, 1, int(rng.integers(10, 2e5))))
        for i in range(n_layers)
    )
    dnn = DNN("toy", "major", (8, 8, 3), layers)
    total_w = sum(layer.weight_bytes for layer in layers)
    devs = [
        Device(f"D{d}", "edge" if d == 0 else "cloud", 1e9, 1e9, 1e8, spec=f"p{d}",
               memory_B=(total_w * rng.uniform(0.4, 0.9) if memory and d else float("inf")))
        for d in range(n_devices)
    ]
    net = Network(float(10 ** rng.uniform(5, 7)))
    sc = build_scenario(dnn, devs, net, source_device="D0", destination_device="D0", capture_shape=(8, 8, 3),
                        preprocess=bool(rng.random() < 0.5))
    ps = ProfileSet("toy", "major")
    for d in range(n_devices):
        base = rng.uniform(0.001, 0.05, n_layers) * (1 if d == 0 else rng.uniform(0.05, 1.0))
        for i in range(1, n_layers + 1):
            for j in range(i, n_layers + 1):
                n = j - i + 1
                g = 1 + biases[d] * (n - 1) / max(1, n_layers - 1)
                ps.latency_s[(f"p{d}", NOMINAL, i, j)] = float(base[i - 1:j].sum() * g * rng.uniform(0.97, 1.03))
    return sc, ps


def params_of(sc, ps):
    p = analytic_params(sc)
    p.bundles = bundle_latency(p, ps, None, {d.name: d.spec for d in sc.devices})
    return p


def estimate_by_enumeration(p, mbs: int, ceiling: bool, memory: bool = True, fixed_of=None) -> float:
    """Min over plans and bundle covers of the ILP's estimated latency (Eqs. (7.2), (7.3), (7.5)).
    ``fixed_of(p, a)``: what a plan pays besides its bundles (default: from actual_latency_s)."""
    bl = p.bundles
    best = math.inf
    for a in all_plans(p):
        if memory and not feasible_memory(p, a):
            continue
        if fixed_of is None:
            base = actual_latency_s(p, a)
            fixed = base["total"] - sum(bl.latency_s[(i, j, d, 0)] for i, j, d in runs(p, a))
        else:
            fixed = fixed_of(p, a)
        total = fixed
        for d in range(p.n_devices):
            segs = [(i, j) for i, j, dd in runs(p, a) if dd == d]
            n_d = sum(j - i + 1 for i, j in segs)
            cap = math.ceil(n_d / mbs) if ceiling else math.inf
            best_d = math.inf
            covers = [list(_covers(i, j, mbs)) for i, j in segs]
            for combo in itertools.product(*covers):
                parts = [b for cover in combo for b in cover]
                if len(parts) <= cap:
                    best_d = min(best_d, sum(bl.latency_s[(i, j, d, 0)] for i, j in parts))
            total += best_d if segs else 0.0
        best = min(best, total)
    return best


def _covers(i, j, mbs):
    """Every split of i..j into consecutive bundles of at most mbs layers."""
    if i > j:
        yield []
        return
    for k in range(i, min(j, i + mbs - 1) + 1):
        for rest in _covers(k + 1, j, mbs):
            yield [(i, k)] + rest


case_args = st.fixed_dictionaries({
    "seed": st.integers(0, 2**31 - 1),
    "n_layers": st.integers(2, 5),
    "n_devices": st.integers(2, 3),
})
bias = st.floats(-0.5, 1.5)


@SETTINGS
@given(args=case_args, biases=st.lists(bias, min_size=3, max_size=3), lin=st.sampled_from(["flow", "and"]),
       memory=st.booleans())
def test_dime_full_mbs_is_the_exhaustive_optimum(args, biases, lin, memory):
    sc, ps = make_case(**args, biases=biases, memory=memory)
    p = params_of(sc, ps)
    best, plan = exhaustive_optimum(p, single_entry=True, memory=True)
    if plan is None:
        return
    res = solve_scenario(sc, formulation=["dime"], profiles=ps, model={"linearization": lin})
    assert math.isclose(res["objective"], best, rel_tol=1e-6, abs_tol=1e-9)
    # estimated == actual latency of its own plan
    assert math.isclose(res["dime"]["estimated_latency_s"], res["dime"]["actual_latency_s"]["total"], rel_tol=1e-6)


@SETTINGS
@given(args=case_args, biases=st.lists(bias, min_size=3, max_size=3), mbs=st.integers(1, 5),
       form=st.sampled_from(["dime", "jointdnn"]))
def test_estimate_equals_enumeration_for_every_mbs(args, biases, mbs, form):
    sc, ps = make_case(**args, biases=biases)
    p = params_of(sc, ps)
    mbs = min(mbs, args["n_layers"])
    expect = estimate_by_enumeration(p, mbs, ceiling=form == "dime")
    if math.isinf(expect):
        return
    res = solve_scenario(sc, formulation={form: {"mbs": mbs}}, profiles=ps)
    assert math.isclose(res["objective"], expect, rel_tol=1e-6, abs_tol=1e-9)


@SETTINGS
@given(args=case_args, under=st.floats(0.3, 2.0))
def test_jointdnn_underestimates_on_underestimating_devices(args, under):
    sc, ps = make_case(**args, biases=[under] * 3)
    res = solve_scenario(sc, formulation=["jointdnn"], profiles=ps)
    actual = res["jointdnn"]["actual_latency_s"]["total"]
    assert res["objective"] <= actual + 1e-9
    dime = solve_scenario(sc, formulation=["dime"], profiles=ps)
    assert res["objective"] <= dime["objective"] + 1e-9  # JointDNN is a relaxation of DIME
    assert dime["objective"] <= actual + 1e-9  # ... but DIME's plan is never worse in truth


def test_strongly_underestimating_edge_misleads_jointdnn():
    """The thesis' observation: JointDNN keeps everything on an under-estimating edge."""
    rng = np.random.default_rng(3)
    found = False
    for seed in range(40):
        sc, ps = make_case(seed, 5, 2, [3.0, -0.3])
        j = solve_scenario(sc, formulation=["jointdnn"], profiles=ps)
        d = solve_scenario(sc, formulation=["dime"], profiles=ps)
        if j["jointdnn"]["actual_latency_s"]["total"] > d["objective"] * 1.05:
            found = True
            assert j["objective"] < j["jointdnn"]["actual_latency_s"]["total"]
            break
    assert found, "no case where JointDNN's plan is worse than DIME's"
    del rng


def test_profile_counts_match_the_thesis_tables():
    assert [2 * profile_count(8, m) for m in range(1, 9)] == [16, 30, 42, 52, 60, 66, 70, 72]
    assert [2 * profile_count(11, m) for m in range(1, 12)] == [22, 42, 60, 76, 90, 102, 112, 120, 126, 130, 132]
    assert [2 * profile_count_eq_7_6(8, m) for m in (1, 8)] == [16, 72]  # Eq. (7.6) exact at the ends ...
    assert 2 * profile_count_eq_7_6(8, 4) == 40 != 52  # ... and only approximate between them


def test_single_entry_enumeration_counts():
    sc, ps = make_case(0, 4, 3, [0, 0, 0])
    p = params_of(sc, ps)
    plans = list(single_entry_plans(p))
    n_pre = 3 if "preprocess" in sc.layer_names else 1
    # k devices in order: 3 + 6*3 + 6*3 segmentations of 4 layers
    assert len(plans) == (3 + 6 * 3 + 6 * 3) * n_pre
    assert all(len({tuple(r) for r in runs(p, a)}) == len(runs(p, a)) for a in plans)


def test_missing_profiles_and_missing_formulation_inputs():
    sc, ps = make_case(0, 4, 2, [0, 0])
    del ps.latency_s[("p1", NOMINAL, 2, 4)]
    res = solve_scenario(sc, formulation={"dime": {"mbs": 2}}, profiles=ps)  # MBS 2 does not need (2, 4)
    assert res["status"] == "optimal" and "actual_latency_s" not in res["dime"]
    with pytest.raises(DataError, match=r"missing bundle \(i=2, j=4, device='p1'\) needed for MBS=3"):
        solve_scenario(sc, formulation={"dime": {"mbs": 3}}, profiles=ps)
    with pytest.raises(ConfigError, match="needs bundle profiles"):
        solve_scenario(sc, formulation=["dime"])
    with pytest.raises(ConfigError, match="'preload' and 'dime' both replace the term list 'latency.weight'"):
        solve_scenario(sc, formulation=["dime", "preload"], profiles=ps)
    with pytest.raises(ConfigError, match="cannot be combined"):
        solve_scenario(sc, formulation=["dime", "jointdnn"], profiles=ps)
    with pytest.raises(DataError, match="no profiles for device 'D1'"):
        solve_scenario(sc, formulation=["dime"], profiles=ps, profile_map={"D1": "nope"})
