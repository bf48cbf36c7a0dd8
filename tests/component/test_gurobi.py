"""HiGHS and Gurobi (its bundled size-limited license) reach the same optimum."""

import math

import pytest

from layerplan.api import solve_scenario
from layerplan.errors import SolverError
from layerplan.solve import solver_available

from conftest import random_scenario

pytestmark = [
    pytest.mark.component,
    pytest.mark.skipif(not solver_available("gurobi"), reason="gurobipy (and a license) not installed"),
]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("form,lin", [("base", "flow"), ("base", "and"), ("preload", "flow"), ("preload", "and")])
def test_same_optimum(seed, form, lin):
    sc = random_scenario(seed, 5, 3, memory="binding" if seed % 2 else "off", pins=1)
    kw = dict(formulation=[form], model={"linearization": lin})
    try:
        h = solve_scenario(sc, solver={"name": "highs"}, **kw)
    except SolverError:
        with pytest.raises(SolverError, match="infeasible"):
            solve_scenario(sc, solver={"name": "gurobi"}, **kw)
        return
    g = solve_scenario(sc, solver={"name": "gurobi"}, **kw)
    assert math.isclose(h["objective"], g["objective"], rel_tol=1e-6, abs_tol=1e-9)


def test_too_large_for_size_limited_license_is_a_clear_error():
    sc = random_scenario(0, 60, 6, memory="off")
    try:
        solve_scenario(sc, formulation=["base"], model={"linearization": "and"}, solver={"name": "gurobi"})
    except SolverError as exc:
        assert "size-limited license" in str(exc)
    else:
        pytest.skip("this Gurobi license is not size-limited")
