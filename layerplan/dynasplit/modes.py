"""Device *modes*: the general N-device, many-mode split problem, its ILP and its exact Pareto front.

A *mode* is any discrete hardware setting of one device with its own profiled latency and energy: a
CPU frequency (FreDDI's f, Ch. 8), an accelerator on/off or its runtime (Edge TPU off|std|max), a power
mode, or a combination (DynaSplit's edge mode = CPU frequency x TPU runtime). As with frequencies in
FreDDI, a plan uses one mode per device. Mode labels map onto FreDDI's frequency index unchanged:
:func:`layerplan.profiles.frequency_label` keeps a word label such as ``1800mhz-tpu-max`` (lower case),
and :func:`to_profile_set` writes segments as bundles (i, j) with the mode as the frequency label, so a
profile with modes is a profile with more "frequencies" (docs/dynasplit.md).

:class:`ModeChain`: devices ``0..N-1`` in a fixed order (edge, then cloud), layers ``1..L``. A plan picks
boundaries ``0 = b_0 <= b_1 <= ... <= b_N = L`` and a mode ``m_d`` per device; device d runs layers
``b_d + 1 .. b_{d+1}`` (the segment ``(b_d, b_{d+1}]``, possibly empty, e.g. the edge only sends the
input). Costs are tables, the layerplan-profile view of DynaSplit's measurements:

- ``seg[(d, a, b, m)] = (latency_ms, energy_J, accuracy)``: segment (a, b] on device d in mode m
  (DynaSplit: the edge segment is the cumulative edge latency/energy up to the split, Sec. "pool");
- ``xfer[(d, b)] = (latency_ms, energy_J)``: sending layer b's output from device d to d+1;
- a missing entry means "not measured / not allowed": plans that need it are excluded.

Plan latency and energy are the sums over segments and transfers (Eq. (4.x)-style additive chain
latency; Eqs. (8.3)-(8.4) energy). Accuracy is additive too: the plan's accuracy is the sum of its
segments' accuracy terms (DynaSplit: the edge segment carries the measured top-1 accuracy of its
(layer, TPU mode), the cloud segment 0, exact for the pool since accuracy depends only on those).
An accuracy floor is the constraint ``accuracy >= floor``; accuracy is the third objective of the
3-D front.

:func:`enumerate_plans` lists every plan; :func:`build_ilp` is the ILP (binary y[d, a, b, m], one
segment per device, chain continuity, transfer at each boundary); :func:`ilp_front` computes the exact
front by lexicographic epsilon-constraints (min E s.t. T <= cap; min T s.t. E <= E*; with accuracy,
max A s.t. both; cap = T* - delta), and in 3-D repeats it for every accuracy floor (any 3-D Pareto
point is a 2-D Pareto point among the plans meeting its own accuracy, so the union filtered for
dominance is the 3-D front).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

from layerplan.errors import DataError, SolverError


@dataclass
class ModeChain:
    devices: list[str]
    n_layers: int
    modes: list[list[str]]
    seg: dict[tuple[int, int, int, str], tuple[float, float, float]]
    xfer: dict[tuple[int, int], tuple[float, float]] = field(default_factory=dict)
    has_accuracy: bool = False
    meta: dict = field(default_factory=dict)

    def check(self) -> None:
        N, L = len(self.devices), self.n_layers
        for (d, a, b, m), v in self.seg.items():
            if not (0 <= d < N and 0 <= a <= b <= L) or m not in self.modes[d]:
                raise DataError(f"bad segment key (device={d}, a={a}, b={b}, mode={m!r})", source="modes", field="seg")
            if len(v) != 3 or not all(np.isfinite(v)):
                raise DataError(f"segment (device={d}, a={a}, b={b}, mode={m!r}) needs finite (latency, energy, accuracy)",
                                source="modes", field="seg")
        for (d, b) in self.xfer:
            if not (0 <= d < N - 1 and 0 <= b <= L):
                raise DataError(f"bad transfer key (device={d}, boundary={b})", source="modes", field="xfer")


@dataclass(frozen=True)
class Plan:
    bounds: tuple[int, ...]  # b_1 .. b_{N-1}
    modes: tuple[str, ...]
    latency_ms: float
    energy_J: float
    accuracy: float


def evaluate(chain: ModeChain, bounds: tuple[int, ...], modes: tuple[str, ...]) -> Plan | None:
    """Objectives of a plan, or None when a segment or transfer is missing."""
    b = (0, *bounds, chain.n_layers)
    T = E = A = 0.0
    for d in range(len(chain.devices)):
        s = chain.seg.get((d, b[d], b[d + 1], modes[d]))
        if s is None:
            return None
        T, E, A = T + s[0], E + s[1], A + s[2]
        if d < len(chain.devices) - 1:
            x = chain.xfer.get((d, b[d + 1]))
            if x is None:
                return None
            T, E = T + x[0], E + x[1]
    return Plan(tuple(bounds), tuple(modes), T, E, A)


def enumerate_plans(chain: ModeChain) -> list[Plan]:
    """Every plan with all its segments and transfers present (the brute-force oracle)."""
    N, L = len(chain.devices), chain.n_layers
    out = []
    for bounds in itertools.combinations_with_replacement(range(L + 1), N - 1):
        for modes in itertools.product(*chain.modes):
            p = evaluate(chain, bounds, modes)
            if p is not None:
                out.append(p)
    return out


def objectives(plans, accuracy: bool) -> np.ndarray:
    cols = [[p.latency_ms, p.energy_J] + ([-p.accuracy] if accuracy else []) for p in plans]
    return np.asarray(cols, dtype=float).reshape(len(cols), 3 if accuracy else 2)


# --- ILP ---------------------------------------------------------------------------------------------

def build_ilp(chain: ModeChain):
    """Pyomo model: y[d, a, b, m] binary (segment (a, b] on d in mode m); exactly one segment per device
    (so one mode per device, as one frequency per device in FreDDI, Sec. 8.3); device 0 starts at 0, the
    last ends at L; continuity ``sum_{a,m} y[d,a,b,m] = sum_{c,m} y[d+1,b,c,m]`` for every boundary b; a
    boundary without a transfer entry is forbidden. Expressions ``latency_ms``, ``energy_J``,
    ``accuracy``; mutable caps ``T_cap``, ``E_cap``, ``A_floor`` on deactivated constraints."""
    import pyomo.core as pyo

    chain.check()
    N, L = len(chain.devices), chain.n_layers
    keys = [k for k in chain.seg if (k[0] > 0 or k[1] == 0) and (k[0] < N - 1 or k[2] == L)]
    m = pyo.ConcreteModel(name="mode_chain")
    m.K = pyo.Set(initialize=sorted(keys, key=lambda k: (k[0], k[1], k[2], k[3])), dimen=4, ordered=True)
    m.y = pyo.Var(m.K, domain=pyo.Binary)
    by_dev = {d: [k for k in keys if k[0] == d] for d in range(N)}
    empty = [d for d in range(N) if not by_dev[d]]
    if empty:
        d = empty[0]
        raise DataError(f"device {chain.devices[d]!r} has no segment that can start or end the chain", source="modes",
                        field="seg")
    m.one = pyo.Constraint(range(N), rule=lambda m, d: sum(m.y[k] for k in by_dev[d]) == 1)

    def ends(d, b):
        return [k for k in by_dev[d] if k[2] == b]

    def starts(d, b):
        return [k for k in by_dev[d] if k[1] == b]

    cont = [(d, b) for d in range(N - 1) for b in range(L + 1)]

    def cont_rule(m, d, b):
        lhs, rhs = ends(d, b), starts(d + 1, b)
        if not lhs and not rhs:
            return pyo.Constraint.Skip
        if (d, b) not in chain.xfer:
            return sum(m.y[k] for k in lhs) == 0 if lhs else pyo.Constraint.Skip
        return sum(m.y[k] for k in lhs) == sum(m.y[k] for k in rhs)

    m.continuity = pyo.Constraint(cont, rule=cont_rule)

    def xsum(i):
        seg = sum(chain.seg[k][i] * m.y[k] for k in keys)
        if i == 2:
            return seg
        return seg + sum(chain.xfer[(d, b)][i] * sum(m.y[k] for k in ends(d, b))
                         for (d, b) in cont if (d, b) in chain.xfer and ends(d, b))

    m.latency_ms = pyo.Expression(expr=xsum(0))
    m.energy_J = pyo.Expression(expr=xsum(1))
    m.accuracy = pyo.Expression(expr=xsum(2))
    m.T_cap = pyo.Param(mutable=True, initialize=0.0)
    m.E_cap = pyo.Param(mutable=True, initialize=0.0)
    m.A_floor = pyo.Param(mutable=True, initialize=0.0)
    m.T_con = pyo.Constraint(expr=m.latency_ms <= m.T_cap)
    m.E_con = pyo.Constraint(expr=m.energy_J <= m.E_cap)
    m.A_con = pyo.Constraint(expr=m.accuracy >= m.A_floor)
    for c in (m.T_con, m.E_con, m.A_con):
        c.deactivate()
    m.min_E = pyo.Objective(expr=m.energy_J)
    m.min_T = pyo.Objective(expr=m.latency_ms)
    m.max_A = pyo.Objective(expr=m.accuracy, sense=pyo.maximize)
    m.min_T.deactivate()
    m.max_A.deactivate()
    return m


SOLVER = {"name": "highs", "mip_rel_gap": 0.0, "mip_abs_gap": 0.0,
          "options": {"mip_feasibility_tolerance": 1e-9, "primal_feasibility_tolerance": 1e-9}}


def _plan_of(chain: ModeChain, m) -> Plan:
    import pyomo.core as pyo

    N = len(chain.devices)
    chosen = {k[0]: k for k in m.K if pyo.value(m.y[k]) > 0.5}
    bounds = tuple(chosen[d][2] for d in range(N - 1))
    modes = tuple(chosen[d][3] for d in range(N))
    p = evaluate(chain, bounds, modes)
    assert p is not None
    return p


def _solve(m, objective, solver) -> bool:
    """Solve with one objective active. One HiGHS instance per model (``m._opt``) is reused: it keeps its
    copy of the model and takes the changed caps, objectives and active constraints as updates."""
    from layerplan.solve import _solver, solve

    for o in (m.min_E, m.min_T, m.max_A):
        o.deactivate()
    objective.activate()
    if getattr(m, "_opt", None) is None:
        m._opt = _solver(solver.get("name", "highs"))
    try:
        solve(m, solver, opt=m._opt)
        return True
    except SolverError as exc:
        if "infeasible" in str(exc):
            return False
        raise


def solve_plan(chain: ModeChain, *, objective: str = "energy", max_latency_ms: float | None = None,
               max_energy_J: float | None = None, min_accuracy: float | None = None, solver=None, model=None) -> Plan | None:
    """One optimal plan: minimize ``energy`` | ``latency`` (| ``accuracy`` maximized) under optional caps
    and an accuracy floor; None when infeasible."""
    m = model if model is not None else build_ilp(chain)
    solver = solver or SOLVER
    for con, val, par in ((m.T_con, max_latency_ms, m.T_cap), (m.E_con, max_energy_J, m.E_cap), (m.A_con, min_accuracy, m.A_floor)):
        if val is None:
            con.deactivate()
        else:
            par.set_value(float(val))
            con.activate()
    obj = {"energy": m.min_E, "latency": m.min_T, "accuracy": m.max_A}[objective]
    return _plan_of(chain, m) if _solve(m, obj, solver) else None


def _front_2d(chain: ModeChain, m, solver, tie_accuracy: bool, delta_rel: float, max_points: int) -> list[Plan]:
    import pyomo.core as pyo

    pts: list[Plan] = []
    m.T_con.deactivate()
    m.E_con.deactivate()
    while len(pts) < max_points:
        m.E_con.deactivate()
        if not _solve(m, m.min_E, solver):
            break
        e_star = float(pyo.value(m.energy_J))
        m.E_cap.set_value(e_star + delta_rel * max(1.0, abs(e_star)))
        m.E_con.activate()
        if not _solve(m, m.min_T, solver):
            raise SolverError("lexicographic step infeasible (solver tolerance)", source="solver", field="status")
        p = _plan_of(chain, m)
        if tie_accuracy:
            t_star = float(pyo.value(m.latency_ms))
            saved = (m.T_con.active, float(pyo.value(m.T_cap)))
            m.T_cap.set_value(t_star + delta_rel * max(1.0, abs(t_star)))
            m.T_con.activate()
            if _solve(m, m.max_A, solver):
                p = _plan_of(chain, m)
            m.T_cap.set_value(saved[1])
            if not saved[0]:
                m.T_con.deactivate()
        if pts and p.latency_ms >= pts[-1].latency_ms - 0.5 * delta_rel * max(1.0, abs(pts[-1].latency_ms)):
            break  # tolerance let the previous plan through again: no faster plan exists beyond delta
        pts.append(p)
        m.T_cap.set_value(p.latency_ms - delta_rel * max(1.0, abs(p.latency_ms)))
        m.T_con.activate()
    return pts


def accuracy_levels(chain: ModeChain, max_levels: int = 500) -> list[float]:
    """Candidate accuracy floors: sums of one distinct segment accuracy per device (a superset of the
    achievable plan accuracies), descending."""
    sums = {0.0}
    for d in range(len(chain.devices)):
        vals = {round(v[2], 12) for k, v in chain.seg.items() if k[0] == d}
        sums = {round(s + v, 12) for s in sums for v in vals}
        if len(sums) > max_levels:
            raise DataError(f"more than {max_levels} accuracy levels; coarsen the accuracy values", source="modes",
                            field="accuracy")
    return sorted(sums, reverse=True)


def ilp_front(chain: ModeChain, *, accuracy: bool = False, solver=None, delta_rel: float = 1e-7,
              max_points: int = 10_000) -> list[Plan]:
    """The exact Pareto front over (latency, energy[, accuracy]) by the ILP with epsilon-constraints.
    Two plans closer than ``delta_rel`` (relative) in latency count as one point."""
    solver = solver or SOLVER
    m = build_ilp(chain)
    if not accuracy:
        return _front_2d(chain, m, solver, False, delta_rel, max_points)
    out: list[Plan] = []
    for a in accuracy_levels(chain):
        m.A_floor.set_value(a - 1e-9)
        m.A_con.activate()
        out += _front_2d(chain, m, solver, True, delta_rel, max_points)
    from layerplan.dynasplit.pareto import nondominated_mask

    F = objectives(out, True)
    keep = nondominated_mask(F)
    uniq: dict[tuple, Plan] = {}
    for p, k in zip(out, keep):
        if k:
            uniq.setdefault((round(p.latency_ms, 9), round(p.energy_J, 9), round(p.accuracy, 9)), p)
    return sorted(uniq.values(), key=lambda p: (p.latency_ms, p.energy_J))


def enumeration_front(chain: ModeChain, *, accuracy: bool = False) -> list[Plan]:
    from layerplan.dynasplit.pareto import nondominated_mask

    plans = enumerate_plans(chain)
    keep = nondominated_mask(objectives(plans, accuracy))
    return sorted((p for p, k in zip(plans, keep) if k), key=lambda p: (p.latency_ms, p.energy_J))


def random_chain(rng: np.random.Generator, *, n_devices: int = 2, n_layers: int = 4, n_modes=(3, 2),
                 p_missing: float = 0.15, accuracy: bool = False) -> ModeChain:
    """A small random instance (tests): devices in a chain, random segment costs growing with length and
    falling with the mode index (faster modes burn more energy), some entries missing."""
    devices = [f"d{i}" for i in range(n_devices)]
    modes = [[f"m{j}" for j in range(n_modes[i % len(n_modes)])] for i in range(n_devices)]
    seg, xfer = {}, {}
    for d in range(n_devices):
        speed = rng.uniform(0.5, 3.0)
        for a in range(n_layers + 1):
            for b in range(a, n_layers + 1):
                for j, mode in enumerate(modes[d]):
                    if rng.random() < p_missing:
                        continue
                    work = (b - a) * rng.uniform(0.8, 1.2)
                    f = 1.0 + j
                    lat = work * speed * 10 / f + rng.uniform(0.1, 1.0)
                    en = work * (0.5 + 0.3 * f * f) + rng.uniform(0.05, 0.5)
                    acc = float(rng.choice([0.0, -0.01, -0.02])) if accuracy else 0.0
                    seg[(d, a, b, mode)] = (round(lat, 6), round(en, 6), acc)
        if d < n_devices - 1:
            for b in range(n_layers + 1):
                if rng.random() >= p_missing / 2:
                    xfer[(d, b)] = (round(rng.uniform(0.5, 5.0), 6), round(rng.uniform(0.0, 0.3), 6))
    return ModeChain(devices, n_layers, modes, seg, xfer, accuracy)


def to_profile_set(chain: ModeChain, dnn: str, granularity: str = "dynasplit"):
    """The chain's non-empty segments as a :class:`layerplan.profiles.ProfileSet`: bundle (a + 1, b) of device
    ``devices[d]`` at "frequency" = mode label, latency in s, energy in J. Empty segments (a device that only
    forwards) and transfers have no bundle form and are left out; see docs/dynasplit.md."""
    from layerplan.profiles import ProfileSet, frequency_label

    ps = ProfileSet(dnn, granularity)
    for (d, a, b, mode), (lat_ms, e, _acc) in chain.seg.items():
        if b > a:
            key = (chain.devices[d], frequency_label(mode), a + 1, b)
            ps.latency_s[key] = lat_ms / 1000.0
            ps.energy_J[key] = e
    return ps


def iter_front_rows(plans: list[Plan], chain: ModeChain) -> Iterator[dict]:
    for p in plans:
        yield {"bounds": list(p.bounds), "modes": list(p.modes), "latency_ms": p.latency_ms, "energy_J": p.energy_J,
               "accuracy": p.accuracy if chain.has_accuracy else None}
