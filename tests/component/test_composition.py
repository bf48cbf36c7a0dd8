"""Composition: fixed build order, term replacement, clear errors before any solve."""

import pytest

from layerplan import registry
from layerplan.build import build_model, compose
from layerplan.errors import ConfigError
from layerplan.latency import analytic_params

from conftest import random_scenario

pytestmark = pytest.mark.component


def test_registries_list_builtins():
    assert {"base", "preload"} <= set(registry.formulations.names())
    assert {"latency_cap", "pin", "max_transitions"} <= set(registry.constraints.names())
    assert "latency" in registry.objectives.names()


def test_unknown_names_and_options():
    with pytest.raises(ConfigError, match="unknown formulation 'dimee'"):
        compose(["dimee"])
    with pytest.raises(ConfigError, match="unknown constraint"):
        compose(["preload"], {"nope": {}})
    with pytest.raises(ConfigError, match="unknown objective"):
        compose(["preload"], objective="speed")
    sc = random_scenario(1, 3, 2)
    comp = compose({"preload": {"linearisation": "and"}})
    with pytest.raises(ConfigError, match="linearisation"):
        build_model(sc, analytic_params(sc), comp)
    comp = compose({"preload": {"linearization": "fancy"}})
    with pytest.raises(ConfigError, match="formulation.preload"):
        build_model(sc, analytic_params(sc), comp)


def test_order_is_fixed_and_terms_are_replaced():
    sc = random_scenario(2, 3, 2)
    comp = compose({"preload": {}, "base": {"linearization": "and"}})
    assert comp.formulation_names == ["base", "preload"]
    built = build_model(sc, analytic_params(sc), comp)
    assert built.ctx.terms.owners("latency.weight") == ["preload"]
    assert built.ctx.terms.owners("latency.compute") == ["base"]


def test_two_mixins_replacing_one_term_list_is_an_error():
    @registry.formulations.register("preload_twin", phase=11, replaces=("latency.weight",))
    class Twin:  # never built: the check happens at composition
        pass

    try:
        with pytest.raises(ConfigError, match="'preload' and 'preload_twin' both replace the term list 'latency.weight'"):
            compose(["preload_twin", "preload"])
    finally:
        registry.formulations._entries.pop("preload_twin")


def test_constraint_plugins(tmp_path):
    from layerplan.api import solve_scenario
    from layerplan.errors import SolverError

    sc = random_scenario(5, 4, 3, memory="off")
    free = solve_scenario(sc, formulation=["base"])
    one = solve_scenario(sc, formulation=["base"], constraints={"max_transitions": {"max_transitions": 0}})
    assert len(one["transitions"]) == 0 and one["objective"] >= free["objective"] - 1e-12
    with pytest.raises(SolverError, match="infeasible.*latency_cap.max_latency_s = 1e-09"):
        solve_scenario(sc, formulation=["base"], constraints={"latency_cap": {"max_latency_s": 1e-9}})
    capped = solve_scenario(sc, formulation=["base"], constraints={"latency_cap": {"max_latency_s": free["objective"] * 1.01}})
    assert capped["objective"] == pytest.approx(free["objective"])
    layer = sc.layer_names[2]
    pinned = solve_scenario(sc, formulation=["base"], constraints={"pin": {"layers": {layer: "D2"}}})
    assert next(a["device"] for a in pinned["assignment"] if a["layer"] == layer) == "D2"
    with pytest.raises(ConfigError, match="unknown device 'Q'"):
        solve_scenario(sc, formulation=["base"], constraints={"pin": {"layers": {layer: "Q"}}})
