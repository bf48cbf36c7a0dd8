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
