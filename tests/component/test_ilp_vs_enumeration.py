"""Component tier: every formulation variant reaches the brute-force optimum.

Random small chains (up to 7 layers with pseudo layers, up to 3 devices), both
linearizations of z, both of q, with and without preload, pinned layers and a binding
memory cap; the shortest-path oracle (JointDNN's view) agrees when memory is off.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layerplan.api import solve_scenario
from layerplan.errors import SolverError
from layerplan.latency import analytic_params, plan_latency_s
from layerplan.oracle import enumerate_plans, shortest_path_plan

from conftest import random_scenario, scenario_args

pytestmark = pytest.mark.component
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

VARIANTS = [
    ("base", {"linearization": "flow"}, {}),
    ("base", {"linearization": "and"}, {}),
    ("preload", {"linearization": "flow"}, {"linearization": "auto"}),
    ("preload", {"linearization": "and"}, {"linearization": "auto"}),
    ("preload", {"linearization": "flow"}, {"linearization": "and"}),
    ("preload", {"linearization": "and"}, {"linearization": "tight"}),
]


def _solve(sc, form, model, opts):
    return solve_scenario(sc, formulation={form: opts}, model=model, solver={"name": "highs", "mip_rel_gap": 1e-9})


def _device_indices(result, params):
    return [params.devices.index(a["device"]) for a in result["assignment"]]


@pytest.mark.parametrize("form,model,opts", VARIANTS, ids=lambda v: str(v))
@SETTINGS
@given(args=scenario_args, memory=st.sampled_from(["off", "loose", "binding"]), pins=st.integers(0, 2),
       exec_prob=st.booleans())
def test_ilp_equals_enumeration(form, model, opts, args, memory, pins, exec_prob):
    sc = random_scenario(**args, memory=memory, pins=pins, exec_prob=exec_prob)
    params = analytic_params(sc)
    preload = form == "preload"
    best, best_a = enumerate_plans(params, preload=preload)
    if best_a is None:
        with pytest.raises(SolverError, match="infeasible"):
            _solve(sc, form, model, opts)
        return
    res = _solve(sc, form, model, opts)
    assert res["status"] == "optimal"
    assert math.isclose(res["objective"], best, rel_tol=1e-6, abs_tol=1e-9)
    # the reported breakdown is the plan's own latency, evaluated without the ILP
    direct = plan_latency_s(params, _device_indices(res, params), preload=preload)
    for k in ("compute", "communication", "weight", "total"):
        assert math.isclose(res["latency_s"][k], direct[k], rel_tol=1e-6, abs_tol=1e-9)
    for layer, dev in sc.pinned.items():
        assert next(a["device"] for a in res["assignment"] if a["layer"] == layer) == dev


@SETTINGS
@given(args=scenario_args, preload=st.booleans(), exec_prob=st.booleans())
def test_shortest_path_oracle_matches_ilp(args, preload, exec_prob):
    sc = random_scenario(**args, memory="off", exec_prob=exec_prob)
    params = analytic_params(sc)
    sp, _ = shortest_path_plan(params, preload=preload)
    res = _solve(sc, "preload" if preload else "base", {"linearization": "flow"}, {})
    assert math.isclose(res["objective"], sp, rel_tol=1e-6, abs_tol=1e-9)


@SETTINGS
@given(args=scenario_args)
def test_preload_never_worse_than_base(args):
    sc = random_scenario(**args, memory="off")
    base = _solve(sc, "base", {}, {})
    pre = _solve(sc, "preload", {}, {})
    assert pre["objective"] <= base["objective"] + 1e-9


def test_larger_chain_against_shortest_path():
    """30 layers x 4 devices: beyond enumeration, the oracle still checks the optimum."""
    for seed in range(3):
        sc = random_scenario(seed, 30, 4, memory="off", pins=3)
        params = analytic_params(sc)
        for preload in (False, True):
            sp, _ = shortest_path_plan(params, preload=preload)
            for lin in ("flow", "and"):
                res = _solve(sc, "preload" if preload else "base", {"linearization": lin}, {})
                assert math.isclose(res["objective"], sp, rel_tol=1e-6)
