"""Issue 12: the direct HiGHS backend (layerplan.direct) reaches the Pyomo path's optimum,
with and without the frequency-dominance reduction."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layerplan.build import build_model, compose
from layerplan.direct import UnsupportedComposition, build_direct
from layerplan.experiments.scale import g2_instance
from layerplan.latency import analytic_params
from layerplan.profiles import bundle_latency
from layerplan.solve import solve

from test_solver_scale import make_case

pytestmark = pytest.mark.component
SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _both(sc, params, formulation, objective, base):
    built = build_model(sc, params, compose(formulation, None, objective, base))
    ref = solve(built.model, {"mip_rel_gap": 1e-9})
    out = []
    for dom in (True, False):
        got = build_direct(sc, params, formulation, objective, base, dominance=dom).solve({"mip_rel_gap": 1e-9})
        assert got.status == "optimal"
        out.append(got)
    return ref, out


@SETTINGS
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(2, 6), d=st.integers(2, 3), n_freq=st.integers(1, 3),
       mbs=st.integers(1, 4), ceiling=st.booleans(), memory=st.booleans(),
       objective=st.sampled_from(["latency", "energy"]))
def test_direct_equals_pyomo(seed, n, d, n_freq, mbs, ceiling, memory, objective):
    sc, ps = make_case(seed, n, d, n_freq, memory=memory)
    p = analytic_params(sc)
    p.bundles = bundle_latency(p, ps, None, {x.name: x.spec for x in sc.devices})
    form = {("dime" if ceiling else "jointdnn"): {"mbs": min(mbs, n)}, "freddi": {}}
    try:
        ref, got = _both(sc, p, form, objective, {"memory": memory})
    except Exception as exc:  # an infeasible composition must be infeasible in both
        assert "infeasible" in str(exc)
        return
    for g in got:
        assert math.isclose(g.objective, ref.objective, rel_tol=1e-6, abs_tol=1e-12)


@pytest.mark.parametrize("objective", ["latency", "energy"])
def test_direct_equals_pyomo_on_a_small_g2(objective):
    sc, p, mbs = g2_instance(14, 4, 3, 4, seed=7)
    ref, got = _both(sc, p, {"dime": {"mbs": mbs}, "freddi": {}}, objective, {"memory": False})
    for g in got:
        assert math.isclose(g.objective, ref.objective, rel_tol=1e-6)


def test_unsupported_compositions_are_declined():
    sc, p, mbs = g2_instance(6, 2, 2, 3, seed=1)
    for form, obj in (({"dime": {"form": "thesis"}, "freddi": {}}, "latency"), ({"preload": {}}, "latency"),
                      ({"dime": {}, "freddi": {}}, "latency_cons")):
        with pytest.raises(UnsupportedComposition):
            build_direct(sc, p, form, obj)


@SETTINGS
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(3, 8), d=st.integers(2, 4), n_freq=st.integers(1, 3),
       mbs=st.integers(1, 4), objective=st.sampled_from(["latency", "energy"]))
def test_dp_bounds_and_pruning_keep_the_optimum(seed, n, d, n_freq, mbs, objective):
    """segment DP <= optimum <= repaired DP plan, and bound-based pruning (layerplan.dp.prune_masks)
    keeps the optimum of the direct model."""
    from layerplan.dp import certify, feasible_plan, prune_masks, segment_dp

    sc, ps = make_case(seed, n, d, n_freq)
    p = analytic_params(sc)
    p.bundles = bundle_latency(p, ps, None, {x.name: x.spec for x in sc.devices})
    mbs = min(mbs, n)
    form = {"dime": {"mbs": mbs}, "freddi": {}}
    full = build_direct(sc, p, form, objective, {"memory": False}).solve({"mip_rel_gap": 1e-9})
    lb = segment_dp(p, mbs, objective)
    assert lb.latency_s <= full.objective * (1 + 1e-9) + 1e-12
    if certify(p, lb, memory=False, mbs=mbs, ceiling=True, one_frequency=True) is None:
        assert math.isclose(lb.latency_s, full.objective, rel_tol=1e-9, abs_tol=1e-12)
    plan, _ = feasible_plan(p, mbs, objective)
    if plan is None:
        return
    assert plan.latency_s >= full.objective * (1 - 1e-9) - 1e-12
    keep, drop_z = prune_masks(p, mbs, objective, plan.latency_s)
    pruned = build_direct(sc, p, form, objective, {"memory": False}, keep_bundles=keep, drop_z=drop_z)
    got = pruned.solve({"mip_rel_gap": 1e-9})
    assert math.isclose(got.objective, full.objective, rel_tol=1e-7, abs_tol=1e-12)


def test_pruning_when_the_dp_cannot_certify():
    """A seeded case (found by search) where the segment DP's plan breaks DIME's global ceiling:
    the DP is a strict lower bound, the repaired plan an upper bound, and the pruned direct
    model still reaches the Pyomo path's optimum."""
    from layerplan.dp import certify, feasible_plan, prune_masks, segment_dp

    sc, p, mbs = g2_instance(24, 6, 2, 4, seed=10)
    form = {"dime": {"mbs": mbs}, "freddi": {}}
    lb = segment_dp(p, mbs, "latency")
    assert certify(p, lb, memory=False, mbs=mbs, ceiling=True, one_frequency=True) is not None
    built = build_model(sc, p, compose(form, None, "latency", {"memory": False}))
    ref = solve(built.model, {"mip_rel_gap": 1e-9}).objective
    plan, _ = feasible_plan(p, mbs, "latency")
    assert lb.latency_s < ref * (1 - 1e-6) and plan.latency_s >= ref * (1 - 1e-9)
    keep, drop_z = prune_masks(p, mbs, "latency", plan.latency_s)
    got = build_direct(sc, p, form, "latency", {"memory": False}, keep_bundles=keep, drop_z=drop_z)
    assert got.n_cols < build_direct(sc, p, form, "latency", {"memory": False}).n_cols
    assert math.isclose(got.solve({"mip_rel_gap": 1e-9}).objective, ref, rel_tol=1e-7)
