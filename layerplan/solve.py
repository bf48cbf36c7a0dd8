"""Solve a built model with HiGHS (default) or Gurobi through Pyomo's solver interface.

Failures end in a :class:`~layerplan.errors.SolverError` with one clear line: an absent
solver, a model too large for Gurobi's size-limited license, an infeasible model (naming
the caps that are active), or a time limit reached without any solution.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Mapping

from layerplan.errors import SolverError

SOLVERS = {"highs": "highs", "gurobi": "gurobi_direct"}
INSTALL_HINT = {"highs": "pip install highspy", "gurobi": "pip install gurobipy (or pip install 'layerplan[gurobi]')"}


@dataclass
class SolveResult:
    solver: str
    status: str  # optimal | feasible (time limit or gap) ; failures raise
    termination: str
    objective: float
    bound: float | None
    gap: float | None
    solve_s: float
    solver_version: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def mip_gap(self) -> float | None:
        """Proven relative gap |objective - dual bound| / |objective| (None when unknown)."""
        return self.gap

    @property
    def dual_bound(self) -> float | None:
        return self.bound


# Relative gap when a caller gives none (the API, tests): the same as conf/solver/*.yaml, so
# an in-process solve proves what a run.py solve proves (HiGHS' own default, 1e-4, let two
# exact forms of one model differ by 7e-5 of the objective).
DEFAULT_REL_GAP = 1e-9


def proven_gap(obj: float, bound: float | None) -> float | None:
    """Relative gap of an incumbent to its dual bound (0 when both are 0)."""
    if bound is None:
        return None
    diff = abs(obj - bound)
    if diff == 0:
        return 0.0
    return diff / abs(obj) if obj != 0 else float("inf")


def gap_met(obj: float, bound: float | None, rel_gap: float, abs_gap: float) -> bool:
    """Whether the proven gap meets the requested tolerance (either the relative or the
    absolute one, as HiGHS and Gurobi stop). Unknown bound: not proven."""
    if bound is None or bound != bound:
        return False
    diff = abs(obj - bound)
    tiny = 1e-9 * max(1.0, abs(obj))  # floating-point noise of the bound itself
    return diff <= max(rel_gap * abs(obj), abs_gap) * (1 + 1e-9) + tiny * 1e-3


def _reset_highs_threads() -> None:
    """HiGHS runs one global task scheduler per process, started with the thread count of
    the first solve; a later solve that asks for another count ends with no solution
    ('termination: unknown'). Resetting the scheduler before each solve that sets threads
    lets every solve use its own count (issue 12)."""
    try:
        import highspy

        highspy.Highs.resetGlobalScheduler(True)
    except Exception:  # pragma: no cover - older highspy without the call
        pass


# The solver interface classes, imported directly: ``pyomo.environ`` (which registers them with
# SolverFactory) loads every Pyomo plugin and costs about 0.3 s of every run; layerplan's
# models need only pyomo.core and these interfaces.
SOLVER_CLASSES = {"highs": ("pyomo.contrib.solver.solvers.highs", "Highs"),
                  "gurobi": ("pyomo.contrib.solver.solvers.gurobi.gurobi_direct", "GurobiDirect")}


def _solver(name: str):
    import importlib

    if name not in SOLVERS:
        raise SolverError(f"unknown solver {name!r} (known: {', '.join(SOLVERS)})", source="solver", field="name")
    try:
        module, cls = SOLVER_CLASSES[name]
        opt = getattr(importlib.import_module(module), cls)()
        ok = bool(opt.available())
    except Exception as exc:  # pragma: no cover - depends on the installation
        raise SolverError(f"solver {name!r} is not available ({exc}); {INSTALL_HINT[name]}", source="solver", field="name") from None
    if not ok:
        raise SolverError(f"solver {name!r} is not available; {INSTALL_HINT[name]}", source="solver", field="name")
    return opt


def solver_available(name: str) -> bool:
    try:
        _solver(name)
        return True
    except SolverError:
        return False


def persistent_solver(name: str = "highs"):
    """A solver instance to reuse across solves of one model whose only changes are mutable
    parameters (layerplan.sweep): it keeps the solver's model and pushes the changed
    coefficients instead of translating the whole model again."""
    opt = _solver(name)
    au = getattr(getattr(opt, "config", None), "auto_updates", None)
    if au is not None:
        for key in ("check_for_new_or_removed_constraints", "check_for_new_or_removed_vars",
                    "check_for_new_or_removed_params", "check_for_new_objective", "update_constraints",
                    "update_vars", "update_named_expressions", "update_objective"):
            if key in au:
                setattr(au, key, False)
    return opt


def solve(model, cfg: Mapping[str, Any] | None = None, *, caps: list[str] | None = None, opt=None) -> SolveResult:
    """Solve ``model`` and load the solution; raise SolverError when there is none.

    ``cfg`` keys: ``name`` (highs|gurobi), ``time_limit_s``, ``mip_rel_gap``, ``mip_abs_gap``, ``threads``,
    ``tee``, ``options`` (solver-specific options passed through).
    """
    from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition

    cfg = dict(cfg or {})
    name = cfg.get("name", "highs")
    opt = opt if opt is not None else _solver(name)
    kwargs: dict[str, Any] = {
        "tee": bool(cfg.get("tee", False)),
        "load_solutions": False,
        "raise_exception_on_nonoptimal_result": False,
    }
    if cfg.get("time_limit_s") is not None:
        kwargs["time_limit"] = float(cfg["time_limit_s"])
    kwargs["rel_gap"] = float(cfg["mip_rel_gap"]) if cfg.get("mip_rel_gap") is not None else DEFAULT_REL_GAP
    if cfg.get("mip_abs_gap") is not None:
        kwargs["abs_gap"] = float(cfg["mip_abs_gap"])
    elif name == "highs":
        # HiGHS' default absolute gap (1e-6 objective units) is 10 % of a 1e-5 s objective:
        # the relative gap alone decides unless mip_abs_gap is set.
        kwargs["abs_gap"] = 0.0
    if cfg.get("threads") is not None:
        kwargs["threads"] = int(cfg["threads"])
        if name == "highs":
            _reset_highs_threads()
    if cfg.get("options"):
        kwargs["solver_options"] = dict(cfg["options"])
    t0 = time.perf_counter()
    try:
        res = opt.solve(model, **kwargs)
    except Exception as exc:
        text = str(exc).replace("\n", " ")
        if "size-limited" in text or "too large" in text.lower():
            raise SolverError(
                f"model too large for Gurobi's size-limited license ({text}); use solver=highs or a full license",
                source="solver",
                field="name",
            ) from None
        raise SolverError(f"{name} failed: {text}", source="solver", field="name") from None
    tc = res.termination_condition
    infeasible = (TerminationCondition.provenInfeasible, TerminationCondition.locallyInfeasible,
                  TerminationCondition.infeasibleOrUnbounded)
    retry = (*infeasible, TerminationCondition.error)
    if tc in retry and name == "highs" and (kwargs.get("solver_options") or {}).get("presolve") != "off":
        # HiGHS 1.15's presolve was seen to declare feasible MIPs infeasible (experiments/pareto.py,
        # seed 109); an infeasibility verdict is confirmed without presolve before it is reported.
        # HiGHS 1.16 also ends in "error" when presolve reduces a model to empty and the postsolved
        # point breaks a row by its tolerance (an epsilon-constraint step of a throughput front:
        # "untransformed violations ... constraint bound = 1e-09"); without presolve it solves.
        res = opt.solve(model, **{**kwargs, "solver_options": {**(kwargs.get("solver_options") or {}), "presolve": "off"}})
        tc = res.termination_condition
    solve_s = time.perf_counter() - t0
    caps_txt = f" (active caps: {'; '.join(caps)})" if caps else ""
    if tc in (TerminationCondition.provenInfeasible, TerminationCondition.locallyInfeasible):
        raise SolverError(f"the model is infeasible{caps_txt}", source="solver", field="status")
    if tc == TerminationCondition.infeasibleOrUnbounded:
        raise SolverError(f"the model is infeasible or unbounded{caps_txt}", source="solver", field="status")
    if tc == TerminationCondition.unbounded:
        raise SolverError("the model is unbounded", source="solver", field="status")
    if res.solution_status not in (SolutionStatus.optimal, SolutionStatus.feasible):
        raise SolverError(f"{name} returned no solution (termination: {tc.name})", source="solver", field="status")
    res.solution_loader.load_vars()
    status = "optimal" if res.solution_status == SolutionStatus.optimal else "feasible"
    obj = float(res.incumbent_objective)
    bound = None if res.objective_bound is None else float(res.objective_bound)
    if bound is not None and bound != bound:
        bound = None
    gap = proven_gap(obj, bound)
    term = tc.name
    rel_tol = float(cfg["mip_rel_gap"]) if cfg.get("mip_rel_gap") is not None else DEFAULT_REL_GAP
    abs_tol = float(cfg["mip_abs_gap"]) if cfg.get("mip_abs_gap") is not None else 0.0
    if status == "optimal" and _has_discrete(model) and not gap_met(obj, bound, rel_tol, abs_tol):
        # A solver may call a badly scaled MIP optimal with a dual bound far from the
        # incumbent (issue 12: dual bound 0, plan 8252x the optimum): never report that as
        # optimal; the result carries the true gap and bound.
        status, term = "feasible", f"{tc.name} (gap not proven: {gap if gap is not None else 'unknown'})"
    version = ".".join(str(v) for v in (opt.version() or ()))
    return SolveResult(name, status, term, obj, bound, gap, solve_s, version)


def _has_discrete(model) -> bool:
    import pyomo.core as pyo

    for v in model.component_data_objects(pyo.Var, active=True, descend_into=True):
        if not v.fixed and not v.is_continuous():
            return True
    return False
