"""Baselines (exhaustive optimum, single device) against the ILP and each other."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layerplan.api import solve_scenario
from layerplan.baselines import run_baseline
from layerplan.errors import ConfigError, SolverError
from layerplan.latency import analytic_params

from conftest import random_scenario, scenario_args
from test_dime import make_case, params_of

pytestmark = pytest.mark.component
SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(args=scenario_args, preload=st.booleans(), memory=st.sampled_from(["off", "binding"]))
def test_exhaustive_over_every_plan_equals_the_ilp(args, preload, memory):
    sc = random_scenario(**args, memory=memory, pins=1)
    forms = ["preload"] if preload else ["base"]
    params = analytic_params(sc)
    try:
        ilp = solve_scenario(sc, formulation=forms)
    except SolverError:
        with pytest.raises(SolverError, match="no feasible plan"):
            run_baseline(sc, params, {"name": "exhaustive", "single_entry": False}, forms)
        return
    ex = run_baseline(sc, params, {"name": "exhaustive", "single_entry": False}, forms)
    assert math.isclose(ex["objective"], ilp["objective"], rel_tol=1e-6, abs_tol=1e-9)
    try:
        single = run_baseline(sc, params, {"name": "exhaustive", "single_entry": True}, forms)
    except SolverError:
        # binding memory with a pinned layer can leave only plans that revisit a device; then no
        # single-entry plan (and no single-device plan, a special case) is feasible
        from layerplan.bundle_eval import single_entry_plans
        from layerplan.oracle import feasible_memory

        assert not any(feasible_memory(params, a) for a in single_entry_plans(params))
        return
    assert single["objective"] >= ex["objective"] - 1e-12
    try:
        one = run_baseline(sc, params, {"name": "single_device"}, forms)
    except SolverError:  # no single device holds every weight: then no plan on one device is feasible
        from layerplan.oracle import feasible_memory

        assert not any(feasible_memory(params, [params.pinned.get(l, d) for l in range(params.n_layers)])
                       for d in range(params.n_devices) if all(params.pinned.get(l, d) == d for l in range(params.n_layers)
                                                               if params.pseudo[l] is None))
        return
    assert one["objective"] >= single["objective"] - 1e-12
    assert one["objective"] == pytest.approx(min(one["single_device_latency_s"].values()))


def test_exhaustive_with_profiles_is_dime_at_full_mbs():
    for seed in range(5):
        sc, ps = make_case(seed, 4, 3, [1.0, 0.0, -0.3])
        ex = run_baseline(sc, params_of(sc, ps), {"name": "exhaustive"}, ["dime"])
        dime = solve_scenario(sc, formulation=["dime"], profiles=ps)
        assert ex["objective"] == pytest.approx(dime["objective"], rel=1e-6)
        assert ex["actual_latency_s"]["total"] == pytest.approx(ex["objective"])


def test_limits_and_unknown_names():
    sc = random_scenario(0, 4, 3)
    with pytest.raises(SolverError, match="exceeds baseline.max_plans=10"):
        run_baseline(sc, analytic_params(sc), {"name": "exhaustive", "single_entry": False, "max_plans": 10}, ["base"])
    with pytest.raises(ConfigError, match="unknown baseline 'greedy'"):
        run_baseline(sc, analytic_params(sc), {"name": "greedy"}, ["base"])
