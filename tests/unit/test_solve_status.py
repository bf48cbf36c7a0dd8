"""Issue 12: the solve layer reports the true gap and never calls an unproven result optimal;
solver.threads works after an earlier HiGHS solve in the same process."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pyomo.environ as pyo
import pytest
from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition

from layerplan.solve import gap_met, proven_gap, solve, solver_available

pytestmark = pytest.mark.unit


def test_gap_arithmetic():
    assert proven_gap(2.0, 1.0) == pytest.approx(0.5)
    assert proven_gap(0.0, 0.0) == 0.0
    assert proven_gap(1.0, None) is None
    assert gap_met(1.0, 1.0 - 1e-10, 1e-9, 0.0)
    assert not gap_met(1.0, 0.0, 1e-6, 0.0)  # dual bound 0 on a positive objective
    assert not gap_met(1.0, None, 1e-6, 0.0)
    assert gap_met(1e-5, 0.0, 1e-6, 1e-4)  # an explicit absolute gap is honoured


class _FakeSolver:
    """Answers like Pyomo's HiGHS interface on a badly scaled model: 'optimal' with a dual
    bound of 0 (what HiGHS returned in issue 12)."""

    def __init__(self, bound):
        self.bound = bound

    def solve(self, model, **kwargs):
        return SimpleNamespace(termination_condition=TerminationCondition.convergenceCriteriaSatisfied,
                               solution_status=SolutionStatus.optimal, incumbent_objective=8252.0,
                               objective_bound=self.bound, solution_loader=SimpleNamespace(load_vars=lambda: None))

    def version(self):
        return (0, 0)


def _mip():
    m = pyo.ConcreteModel()
    m.x = pyo.Var(domain=pyo.Binary)
    m.o = pyo.Objective(expr=m.x)
    return m


def test_unproven_optimum_is_reported_feasible_with_its_gap():
    res = solve(_mip(), {"mip_rel_gap": 1e-6}, opt=_FakeSolver(0.0))
    assert res.status == "feasible"
    assert "gap not proven" in res.termination
    assert res.mip_gap == pytest.approx(1.0) and res.dual_bound == 0.0
    res = solve(_mip(), {"mip_rel_gap": 1e-6}, opt=_FakeSolver(8252.0 * (1 - 1e-8)))
    assert res.status == "optimal" and res.mip_gap == pytest.approx(1e-8)
    res = solve(_mip(), {"mip_rel_gap": 1e-6}, opt=_FakeSolver(None))
    assert res.status == "feasible" and res.mip_gap is None


@pytest.mark.skipif(not solver_available("highs"), reason="highspy not installed")
def test_threads_one_after_an_earlier_solve():
    def model():
        m = pyo.ConcreteModel()
        m.x = pyo.Var(range(6), domain=pyo.Binary)
        m.c = pyo.Constraint(expr=sum((i + 1) * m.x[i] for i in range(6)) >= 7)
        m.o = pyo.Objective(expr=sum((i * i + 1) * m.x[i] for i in range(6)))
        return m

    first = solve(model(), {"threads": 2})
    second = solve(model(), {"threads": 1})
    third = solve(model(), {})
    assert first.status == second.status == third.status == "optimal"
    assert math.isclose(first.objective, second.objective) and math.isclose(first.objective, third.objective)
