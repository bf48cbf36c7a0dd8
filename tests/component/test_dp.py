"""Issue 12: the exact chain DP (layerplan.dp) against enumeration and the MILP, and the
certified fast path (solver.fast_path=dp)."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layerplan.api import solve_scenario
from layerplan.dp import base_dp, bundle_dp, segment_dp
from layerplan.experiments.benchmark import random_chain
from layerplan.latency import analytic_params, plan_latency_s
from layerplan.oracle import enumerate_plans
from layerplan.profiles import bundle_latency

from test_solver_scale import enumerate_latency, make_case

pytestmark = pytest.mark.component
SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(1, 5), d=st.integers(1, 3), preload=st.booleans())
def test_base_dp_equals_enumeration(seed, n, d, preload):
    p = analytic_params(random_chain(seed, n, d))
    best, _ = enumerate_plans(p, preload=preload, memory=False)
    plan = base_dp(p, preload=preload)
    assert math.isclose(plan.latency_s, best, rel_tol=1e-9, abs_tol=1e-15)
    assert math.isclose(plan_latency_s(p, plan.assignment, preload=preload)["total"], best, rel_tol=1e-9,
                        abs_tol=1e-15)


@SETTINGS
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(2, 5), d=st.integers(2, 3), mbs=st.integers(1, 4))
def test_bundle_dp_equals_enumeration_without_ceiling(seed, n, d, mbs):
    sc, ps = make_case(seed, n, d, 1)
    p = analytic_params(sc)
    p.bundles = bundle_latency(p, ps, None, {x.name: x.spec for x in sc.devices})
    mbs = min(mbs, n)
    plan = bundle_dp(p, mbs)
    assert math.isclose(plan.latency_s, enumerate_latency(p, mbs, ceiling=False, memory=False), rel_tol=1e-9)


@SETTINGS
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(2, 5), d=st.integers(2, 3), mbs=st.integers(1, 4))
def test_segment_dp_is_a_bound_and_exact_with_its_certificate(seed, n, d, mbs):
    sc, ps = make_case(seed, n, d, 1)
    p = analytic_params(sc)
    p.bundles = bundle_latency(p, ps, None, {x.name: x.spec for x in sc.devices})
    mbs = min(mbs, n)
    plan = segment_dp(p, mbs)
    expect = enumerate_latency(p, mbs, ceiling=True, memory=False)
    assert plan.latency_s <= expect * (1 + 1e-9)
    counts_ok = all(sum(1 for b in plan.bundles if b[2] == dev)
                    <= math.ceil(sum(1 for l in p.bundles.real_layers if plan.assignment[l] == dev) / mbs)
                    for dev in range(p.n_devices))
    if counts_ok:
        assert math.isclose(plan.latency_s, expect, rel_tol=1e-9)


@SETTINGS
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(2, 5), d=st.integers(2, 3), mbs=st.integers(1, 4),
       n_freq=st.integers(1, 2), ceiling=st.booleans(), memory=st.booleans(),
       objective=st.sampled_from(["latency", "energy"]))
def test_fast_path_equals_the_milp(seed, n, d, mbs, n_freq, ceiling, memory, objective):
    sc, ps = make_case(seed, n, d, n_freq, memory=memory)
    mbs = min(mbs, n)
    form = {("dime" if ceiling else "jointdnn"): {"mbs": mbs}}
    if n_freq > 1 or objective == "energy":
        form["freddi"] = {}
    kw = dict(formulation=form, profiles=ps, model={"memory": memory}, objective=objective)
    try:
        milp = solve_scenario(sc, **kw)
    except Exception:  # infeasible (memory / ceiling): the fast path must fail the same way
        with pytest.raises(Exception):
            solve_scenario(sc, **kw, solver={"fast_path": "dp"})
        return
    fast = solve_scenario(sc, **kw, solver={"fast_path": "dp"})
    assert fast["method"] in ("dp", "milp") and milp["method"] == "milp"
    assert math.isclose(fast["objective"], milp["objective"], rel_tol=1e-6, abs_tol=1e-12)
    assert fast["status"] == "optimal"


@SETTINGS
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(2, 12), d=st.integers(2, 4), preload=st.booleans())
def test_fast_path_answers_unconstrained_base_chains(seed, n, d, preload):
    sc = random_chain(seed, n, d)
    form = ["preload"] if preload else []
    milp = solve_scenario(sc, formulation=form, model={"memory": False})
    fast = solve_scenario(sc, formulation=form, model={"memory": False}, solver={"fast_path": "dp"})
    assert fast["method"] == "dp"  # nothing the DP cannot express: it always answers
    assert math.isclose(fast["objective"], milp["objective"], rel_tol=1e-7, abs_tol=1e-12)
    assert math.isclose(fast["latency_s"]["total"], milp["objective"], rel_tol=1e-7, abs_tol=1e-12)


def test_fast_path_prunes_when_it_cannot_certify():
    """A seeded case where the segment DP breaks DIME's global ceiling: the fast path fixes
    the provably useless variables and the MILP still reaches the unpruned optimum."""
    from layerplan.experiments.scale import g2_instance

    sc, p, mbs = g2_instance(24, 6, 2, 4, seed=10)
    form = {"dime": {"mbs": mbs}, "freddi": {}}
    ref = solve_scenario(sc, formulation=form, params=p, model={"memory": False})
    fast = solve_scenario(sc, formulation=form, params=p, model={"memory": False}, solver={"fast_path": "dp"})
    assert fast["method"] == "milp (DP-pruned)" and ref["method"] == "milp"
    assert fast["status"] == "optimal"
    assert math.isclose(fast["objective"], ref["objective"], rel_tol=1e-7)
