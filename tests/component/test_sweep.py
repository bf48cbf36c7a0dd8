"""Re-solving one built model across bandwidths equals fresh solves."""

import pytest

from layerplan.api import solve_scenario
from layerplan.errors import ConfigError
from layerplan.scenario import Network

from conftest import random_scenario

pytestmark = pytest.mark.component


@pytest.mark.parametrize("form", [["base"], ["preload"]])
@pytest.mark.parametrize("lin", ["flow", "and"])
def test_sweep_equals_fresh_solves(form, lin):
    from layerplan.sweep import sweep_bandwidth
    import dataclasses

    for seed in range(3):
        sc = random_scenario(seed, 6, 3, memory="loose", pins=1)
        bws = [1e4, 3e5, 1e7, 2e5]
        swept = sweep_bandwidth(sc, bws, formulation=form, model={"linearization": lin})
        for bw, rec in zip(bws, swept):
            fresh_sc = dataclasses.replace(sc, network=dataclasses.replace(sc.network, bandwidth_Bps=bw))
            fresh = solve_scenario(fresh_sc, formulation=form, model={"linearization": lin})
            assert rec["objective"] == pytest.approx(fresh["objective"], rel=1e-6)
            assert rec["latency_s"]["communication"] == pytest.approx(fresh["latency_s"]["communication"], rel=1e-6, abs=1e-12)


def test_sweep_refuses_freddi():
    from layerplan.sweep import sweep_bandwidth

    with pytest.raises(ConfigError, match="does not update FreDDI"):
        sweep_bandwidth(random_scenario(0, 3, 2), [1e6], formulation=["dime", "freddi"])


def test_mutable_caps_resolve_like_fresh_models():
    from layerplan.build import build_model, compose
    from layerplan.latency import analytic_params
    from layerplan.solve import persistent_solver
    from layerplan.sweep import resolve_with
    from test_freddi import make_case
    from layerplan.profiles import bundle_latency

    sc, ps = make_case(4, 3, 3)
    params = analytic_params(sc)
    params.bundles = bundle_latency(params, ps, None, {d.name: d.spec for d in sc.devices})
    loose = solve_scenario(sc, formulation=["dime", "freddi"], objective="latency", profiles=ps)["objective"]
    comp = compose(["dime", "freddi"], None, {"name": "latency_cons", "max_latency_s": loose * 3})
    built = build_model(sc, params, comp)
    opt = persistent_solver()
    for factor in (3.0, 1.5, 1.1, 1.0):
        rec = resolve_with(built, {"objective_latency_cons.max_latency_s": loose * factor}, opt=opt)
        fresh = solve_scenario(sc, formulation=["dime", "freddi"], profiles=ps,
                               objective={"name": "latency_cons", "max_latency_s": loose * factor})
        assert rec["objective"] == pytest.approx(fresh["objective"], rel=1e-6)
    with pytest.raises(ConfigError, match="no mutable parameter"):
        resolve_with(built, {"objective_latency_cons.nope": 1.0}, opt=opt)
