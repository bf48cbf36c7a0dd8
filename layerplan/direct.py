"""Direct HiGHS backend for the standard bundle compositions (issue 12).

Builds the constraint matrix of ``base + dime|jointdnn [+ freddi]`` (flow forms) with
numpy and passes it to highspy in one call, skipping Pyomo's expression trees and its
model translation, which cost 10-20x the solve on large instances (issue 12: 18.4 s Pyomo
build vs 1.0 s). It is the *same model* as the Pyomo path with ``model.linearization=flow``,
``formulation.dime.form=flow`` and ``formulation.freddi.link=start`` (rows and columns in
the same roles; tests/component/test_direct.py checks equal optima on random instances),
for the objectives ``latency`` (Eqs. (5.5), (7.2)) and ``energy`` (Eqs. (8.3)-(8.6)).

Columns: x[l,d] (binary), z[l,d,e] in [0,1], y[i,j,d,f] (binary), s[l,d] in [0,1],
k[d] (integer, with the ceiling), w[d,f] (binary, FreDDI with several frequencies).
Rows: Eq. (5.1); Eq. (5.2) when ``memory``; the flow form of z; the DIME flow rows
(formulations/dime.py ``_build_flow_link``); the ceiling Eq. (7.5) with k; one frequency
per device and the aggregated link sum_j y[i,j,d,f] <= w[d,f] (formulations/freddi.py).

The Pyomo path stays the default and the only one for plugins; this backend declines
(``UnsupportedComposition``) anything else. The objective is scaled so that its largest
coefficient is 1 (HiGHS warns about "excessively small costs" on second-scale models);
values and bounds are reported unscaled.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from layerplan.errors import ConfigError, SolverError
from layerplan.solve import SolveResult


class UnsupportedComposition(ConfigError):
    pass


DirectResult = SolveResult  # the same record as a Pyomo solve's (layerplan.solve)


class _Cols:
    def __init__(self):
        self.n = 0
        self.lb, self.ub, self.cost, self.integ = [], [], [], []

    def add(self, n, lb, ub, integ):
        start = self.n
        self.n += n
        self.lb.append(np.broadcast_to(np.asarray(lb, float), (n,)))
        self.ub.append(np.broadcast_to(np.asarray(ub, float), (n,)))
        self.integ.append(np.full(n, integ, dtype=np.int32))
        return start


class _Rows:
    def __init__(self):
        self.n = 0
        self.lo, self.hi = [], []
        self.r, self.c, self.v = [], [], []

    def add(self, n, lo, hi):
        start = self.n
        self.n += n
        self.lo.append(np.broadcast_to(np.asarray(lo, float), (n,)))
        self.hi.append(np.broadcast_to(np.asarray(hi, float), (n,)))
        return start

    def coef(self, rows, cols, vals):
        rows = np.asarray(rows, dtype=np.int64).ravel()
        cols = np.asarray(cols, dtype=np.int64).ravel()
        self.r.append(rows)
        self.c.append(cols)
        self.v.append(np.broadcast_to(np.asarray(vals, float), rows.shape).ravel())


@dataclass
class DirectModel:
    lp: Any
    n_cols: int
    n_rows: int
    scale: float
    index: dict
    params: Any
    build_s: float

    def solve(self, cfg: Mapping[str, Any] | None = None) -> DirectResult:
        """Solve with HiGHS; ``cfg`` as layerplan.solve (``time_limit_s``, ``mip_rel_gap``,
        ``mip_abs_gap``, ``threads``, ``options``) plus ``lp_first`` (solve the LP
        relaxation first and stop when it is integral; result ``method: lp``)."""
        import highspy

        from layerplan.solve import DEFAULT_REL_GAP, gap_met, proven_gap

        cfg = dict(cfg or {})
        t0 = time.perf_counter()
        h = highspy.Highs()
        h.setOptionValue("output_flag", bool(cfg.get("tee", False)))
        if cfg.get("threads") is not None:
            highspy.Highs.resetGlobalScheduler(True)
            h.setOptionValue("threads", int(cfg["threads"]))
        rel = float(cfg["mip_rel_gap"]) if cfg.get("mip_rel_gap") is not None else DEFAULT_REL_GAP
        abs_gap = float(cfg["mip_abs_gap"]) if cfg.get("mip_abs_gap") is not None else 0.0
        h.setOptionValue("mip_rel_gap", rel)
        h.setOptionValue("mip_abs_gap", abs_gap / self.scale)
        if cfg.get("time_limit_s") is not None:
            h.setOptionValue("time_limit", float(cfg["time_limit_s"]))
        for k, v in (cfg.get("options") or {}).items():
            h.setOptionValue(k, v)
        h.passModel(self.lp)
        method = "milp"
        if cfg.get("lp_first"):
            integ = np.asarray(self.lp.integrality_)
            disc = np.nonzero(integ != 0)[0].astype(np.int32)
            h.changeColsIntegrality(len(disc), disc, np.zeros(len(disc), dtype=np.uint8))
            h.run()
            if h.getModelStatus() == highspy.HighsModelStatus.kOptimal:
                x = np.asarray(h.getSolution().col_value)
                if np.all(np.abs(x[disc] - np.round(x[disc])) <= 1e-9):
                    method = "lp"
            if method != "lp":
                h.changeColsIntegrality(len(disc), disc, integ[disc].astype(np.uint8))
        if method != "lp":
            h.run()
        ms = h.getModelStatus()
        info = h.getInfo()
        solve_s = time.perf_counter() - t0
        if ms in (highspy.HighsModelStatus.kInfeasible, highspy.HighsModelStatus.kUnboundedOrInfeasible):
            raise SolverError("the model is infeasible", source="solver", field="status")
        if info.primal_solution_status != 2:  # kSolutionStatusFeasible
            raise SolverError(f"highs returned no solution (status: {h.modelStatusToString(ms)})", source="solver",
                              field="status")
        obj = float(info.objective_function_value) * self.scale
        if method == "lp":
            bound = obj
        else:
            bound = float(info.mip_dual_bound) * self.scale
        gap = proven_gap(obj, bound)
        status = "optimal" if ms == highspy.HighsModelStatus.kOptimal and gap_met(obj, bound, rel, abs_gap) else "feasible"
        col = np.asarray(h.getSolution().col_value)
        extra = {"method": method, "dominated_frequencies": self.index["dominated_frequencies"], "assignment": self._assignment(col), "model_status": h.modelStatusToString(ms),
                 "lp_iterations": int(info.simplex_iteration_count), "nodes": int(getattr(info, "mip_node_count", 0))}
        extra.update(self._bundles(col))
        return DirectResult("highs", status, h.modelStatusToString(ms), obj, bound, gap, solve_s,
                            h.version() if hasattr(h, "version") else "", extra)

    def _assignment(self, col) -> list[int]:
        x0, L, D = self.index["x"]
        return [int(np.argmax(col[x0 + l * D: x0 + (l + 1) * D])) for l in range(L)]

    def _bundles(self, col) -> dict:
        y0, keys = self.index["y"]
        chosen = [keys[k] for k in np.nonzero(col[y0:y0 + len(keys)] > 0.5)[0]]
        return {"bundles": [tuple(int(v) for v in k) for k in chosen]}


def supported(formulation: Mapping[str, Any], objective: str, base_options: Mapping[str, Any] | None) -> str | None:
    """None when the direct backend builds this composition, else why not."""
    names = set(formulation)
    bundles = names & {"dime", "jointdnn"}
    if not bundles or not names <= {"base", "dime", "jointdnn", "freddi"}:
        return f"formulations {sorted(names)} (direct builds base + dime|jointdnn [+ freddi])"
    if objective not in ("latency", "energy"):
        return f"objective {objective!r}"
    if (base_options or {}).get("linearization", "flow") != "flow" or formulation.get("base"):
        return "base options other than memory"
    b = formulation[bundles.pop()] or {}
    if b.get("form", "flow") != "flow":
        return "dime.form=thesis"
    fr = formulation.get("freddi")
    if fr is not None and ((fr or {}).get("link", "start") != "start" or not (fr or {}).get("one_frequency", True)
                           or (fr or {}).get("energy_devices", "edge") != "edge"):
        return "freddi options other than the defaults"
    if objective == "energy" and fr is None:
        return "energy needs freddi"
    return None


def build_direct(scenario, params, formulation: Mapping[str, Any], objective: str = "latency",
                 base_options: Mapping[str, Any] | None = None, *, dominance: bool = True,
                 keep_bundles: set | None = None, drop_z: set | None = None) -> DirectModel:
    """The HiGHS model of a supported composition (module docstring); ``dominance`` drops
    the frequencies of a device that another of its frequencies dominates on every bundle
    for this objective (exact, see the comment in the code)."""
    cfg_dominance = dominance
    import highspy

    why = supported(formulation, objective, base_options)
    if why is not None:
        raise UnsupportedComposition(f"the direct backend does not build {why}", field="solver.backend")
    t0 = time.perf_counter()
    p = params
    bl = p.bundles
    if bl is None:
        raise ConfigError("the bundle formulations need bundle profiles", field="formulation")
    name = "dime" if "dime" in formulation else "jointdnn"
    bopts = formulation[name] or {}
    ceiling = bool(bopts.get("ceiling", name == "dime"))
    memory = bool((base_options or {}).get("memory", True))
    L, D = p.n_layers, p.n_devices
    real = bl.real_layers
    K = len(real)
    mbs = min(int(bopts.get("mbs") or K), K)
    bl.require(mbs)
    prob = p.exec_prob
    if any(prob[l] != 1.0 for l in real):
        raise ConfigError("bundle profiles do not model early-exit probabilities", field=f"formulation.{name}")
    freqs = [len(f) for f in bl.freqs]
    fre = "freddi" in formulation
    multi = [d for d in range(D) if freqs[d] > 1]
    if multi and not fre:
        raise ConfigError(f"device {p.devices[multi[0]]!r} has several frequencies: add freddi", field="formulation")
    # Frequency dominance (exact): if one frequency f* of device d is at least as good as
    # every other on every bundle for this objective, any plan using f on d becomes no worse
    # when all of d's bundles switch to f* (the flow, ceiling and memory rows do not see f,
    # and one frequency per device stays true), so the other frequencies' columns can go.
    keep_f: list[list[int]] = []
    edevs = [d for d in range(D) if p.device_classes[d] == "edge"]
    for d in range(D):
        fs = list(range(freqs[d]))
        if fre and len(fs) > 1 and cfg_dominance:
            bl_keys = [(real[a], real[a + n - 1]) for a in range(K) for n in range(1, min(mbs, K - a) + 1)]
            if objective == "latency":
                mat = np.array([[bl.latency_s[(i, j, d, f)] for (i, j) in bl_keys] for f in fs])
            elif d in edevs:
                mat = np.array([[bl.energy_J[(i, j, d, f)] for (i, j) in bl_keys] for f in fs])
            else:
                mat = np.zeros((len(fs), len(bl_keys)))
            best = [f for f in fs if np.all(mat[f] <= mat.min(axis=0))]
            if best:
                fs = [best[-1]]
        keep_f.append(fs)
    cols, rows = _Cols(), _Rows()

    # x[l, d]
    x0 = cols.add(L * D, 0.0, 1.0, 1)
    xlb, xub = np.zeros(L * D), np.ones(L * D)
    for l, d in p.pinned.items():
        xub[l * D:(l + 1) * D] = 0.0
        xlb[l * D + d] = xub[l * D + d] = 1.0
    cols.lb[-1], cols.ub[-1] = xlb, xub
    X = lambda l, d: x0 + np.asarray(l) * D + np.asarray(d)  # noqa: E731
    # z[l, d, e]
    z0 = cols.add((L - 1) * D * D, 0.0, 1.0, 0)
    if drop_z:
        zub = np.ones((L - 1) * D * D)
        for l, d, e in drop_z:
            zub[(l * D + d) * D + e] = 0.0
        cols.ub[-1] = zub
    Z = lambda l, d, e: z0 + (np.asarray(l) * D + np.asarray(d)) * D + np.asarray(e)  # noqa: E731
    # y[i, j, d, f]: bundles (a, n) over real positions
    keys = [(real[a], real[a + n - 1], d, f) for d in range(D) for f in keep_f[d]
            for a in range(K) for n in range(1, min(mbs, K - a) + 1)]
    if keep_bundles is not None:
        keys = [k for k in keys if k in keep_bundles]
    karr = np.array(keys, dtype=np.int64).reshape(-1, 4)
    y0 = cols.add(len(keys), 0.0, 1.0, 1)
    yidx = y0 + np.arange(len(keys))
    # s[l, d] for inner real boundaries
    inner = real[:-1]
    s0 = cols.add(len(inner) * D, 0.0, 1.0, 0)
    S_ = lambda a, d: s0 + np.asarray(a) * D + np.asarray(d)  # noqa: E731
    if ceiling:
        k0 = cols.add(D, 0.0, float(-(-K // mbs)), 1)
    if fre:
        wkeys = [(d, f) for d in multi for f in keep_f[d]]
        w0 = cols.add(len(wkeys), 0.0, 1.0, 1)
        wpos = {k: w0 + i for i, k in enumerate(wkeys)}

    ll = np.arange(L)
    dd = np.arange(D)
    # Eq. (5.1): sum_d x[l,d] = 1
    r = rows.add(L, 1.0, 1.0)
    rows.coef(np.repeat(r + ll, D), X(np.repeat(ll, D), np.tile(dd, L)), 1.0)
    # Eq. (5.2)
    if memory:
        heavy = np.nonzero(p.weight_bytes > 0)[0]
        for d in range(D):
            cap = p.memory_B[d]
            if math.isfinite(cap) and len(heavy):
                r = rows.add(1, -np.inf, cap)
                rows.coef(np.full(len(heavy), r), X(heavy, d), p.weight_bytes[heavy])
    # flow form of z: sum_e z[l,d,e] = x[l,d]; sum_d z[l,d,e] = x[l+1,e]
    T = L - 1
    lt, dt, et = np.meshgrid(np.arange(T), dd, dd, indexing="ij")
    lt, dt, et = lt.ravel(), dt.ravel(), et.ravel()
    r = rows.add(T * D, 0.0, 0.0)
    rows.coef(r + lt * D + dt, Z(lt, dt, et), 1.0)
    rows.coef(r + np.arange(T * D), X(np.repeat(np.arange(T), D), np.tile(dd, T)), -1.0)
    r = rows.add(T * D, 0.0, 0.0)
    rows.coef(r + lt * D + et, Z(lt, dt, et), 1.0)
    rows.coef(r + np.arange(T * D), X(np.repeat(np.arange(T) + 1, D), np.tile(dd, T)), -1.0)
    # DIME flow rows; positions of real layers
    pos = {l: a for a, l in enumerate(real)}
    ya = np.array([pos[i] for i in karr[:, 0]], dtype=np.int64)
    yb = np.array([pos[j] for j in karr[:, 1]], dtype=np.int64)
    yd = karr[:, 2]
    # first: x[r0, d] - S(r0, d) = 0
    r = rows.add(D, 0.0, 0.0)
    rows.coef(r + dd, X(real[0], dd), 1.0)
    m = ya == 0
    rows.coef(r + yd[m], yidx[m], -1.0)
    nI = len(inner)
    off = real[0]
    ai, di_, ei = np.meshgrid(np.arange(nI), dd, dd, indexing="ij")
    ai, di_, ei = ai.ravel(), di_.ravel(), ei.ravel()
    ne = di_ != ei
    # end: E(l,d) - sum_{e != d} z[l,d,e] - s[l,d] = 0, rows (a, d)
    r = rows.add(nI * D, 0.0, 0.0)
    m = yb < K - 1
    rows.coef(r + yb[m] * D + yd[m], yidx[m], 1.0)
    rows.coef(r + ai[ne] * D + di_[ne], Z(ai[ne] + off, di_[ne], ei[ne]), -1.0)
    rows.coef(r + np.arange(nI * D), S_(np.repeat(np.arange(nI), D), np.tile(dd, nI)), -1.0)
    # start: S(l+1,e) - sum_{d != e} z[l,d,e] - s[l,e] = 0, rows (a, e) with l = real[a]
    r = rows.add(nI * D, 0.0, 0.0)
    m = ya > 0
    rows.coef(r + (ya[m] - 1) * D + yd[m], yidx[m], 1.0)
    rows.coef(r + ai[ne] * D + ei[ne], Z(ai[ne] + off, di_[ne], ei[ne]), -1.0)
    rows.coef(r + np.arange(nI * D), S_(np.repeat(np.arange(nI), D), np.tile(dd, nI)), -1.0)
    # ceiling Eq. (7.5): mbs k >= n_d, mbs k <= n_d + mbs - 1, sum_y(d) <= k
    if ceiling:
        ra = np.array(real)
        r = rows.add(D, 0.0, np.inf)
        rows.coef(r + dd, k0 + dd, float(mbs))
        rows.coef(np.repeat(r + dd, K), X(np.tile(ra, D), np.repeat(dd, K)), -1.0)
        r = rows.add(D, -np.inf, float(mbs - 1))
        rows.coef(r + dd, k0 + dd, float(mbs))
        rows.coef(np.repeat(r + dd, K), X(np.tile(ra, D), np.repeat(dd, K)), -1.0)
        r = rows.add(D, -np.inf, 0.0)
        rows.coef(r + yd, yidx, 1.0)
        rows.coef(r + dd, k0 + dd, -1.0)
    # FreDDI: one frequency, sum_j y[i,j,d,f] <= w[d,f]
    if fre and multi:
        r = rows.add(len(multi), 1.0, 1.0)
        for n, d in enumerate(multi):
            rows.coef(np.full(len(keep_f[d]), r + n), [wpos[(d, f)] for f in keep_f[d]], 1.0)
        mm = np.isin(yd, multi)
        grp = {}
        gid = np.empty(int(mm.sum()), dtype=np.int64)
        sel = np.nonzero(mm)[0]
        for t, kk in enumerate(sel):
            key = (int(ya[kk]), int(yd[kk]), int(karr[kk, 3]))
            gid[t] = grp.setdefault(key, len(grp))
        r = rows.add(len(grp), -np.inf, 0.0)
        rows.coef(r + gid, yidx[sel], 1.0)
        wcol = np.empty(len(grp), dtype=np.int64)
        for (a, d, f), g in grp.items():
            wcol[g] = wpos[(d, f)]
        rows.coef(r + np.arange(len(grp)), wcol, -1.0)

    # objective
    c = np.zeros(cols.n)
    pseudo = [l for l in range(L) if p.pseudo[l] is not None]
    if objective == "latency":
        c[yidx] = np.array([bl.latency_s[k] for k in keys])
        for l in pseudo:
            c[X(l, dd)] += prob[l] * (p.compute_s[l] + p.weight_s[l])
        c[Z(lt, dt, et)] += prob[lt + 1] * p.comm_s[lt, dt, et]
    else:
        edevs = [d for d in range(D) if p.device_classes[d] == "edge"]
        if not edevs:
            raise ConfigError("no energy devices (no edge device in the scenario)", field="formulation.freddi")
        e = bl.energy_J
        for n, k in enumerate(keys):
            if k[2] in edevs:
                c[y0 + n] = e[k]
        bw, tx = p.bandwidth_Bps, p.comm_s
        for d in edevs:
            radio = p.radios[d]
            if radio is None:
                continue
            for o in range(D):
                if o == d:
                    continue
                up = radio.upload_power_W(bw[d, o]) * tx[:, d, o]
                down = radio.download_power_W(bw[o, d]) * tx[:, o, d]
                c[Z(np.arange(T), d, o)] += up
                c[Z(np.arange(T), o, d)] += down
    scale = float(np.max(np.abs(c))) or 1.0
    c /= scale

    # assemble (column-wise)
    rr = np.concatenate(rows.r)
    cc = np.concatenate(rows.c)
    vv = np.concatenate(rows.v)
    order = np.lexsort((rr, cc))
    rr, cc, vv = rr[order], cc[order], vv[order]
    start = np.zeros(cols.n + 1, dtype=np.int64)
    np.add.at(start, cc + 1, 1)
    start = np.cumsum(start)
    lp = highspy.HighsLp()
    lp.num_col_ = cols.n
    lp.num_row_ = rows.n
    lp.col_cost_ = c
    lp.col_lower_ = np.concatenate(cols.lb)
    lp.col_upper_ = np.concatenate(cols.ub)
    lp.row_lower_ = np.concatenate(rows.lo)
    lp.row_upper_ = np.concatenate(rows.hi)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = start.astype(np.int32)
    lp.a_matrix_.index_ = rr.astype(np.int32)
    lp.a_matrix_.value_ = vv
    lp.a_matrix_.num_col_ = cols.n
    lp.a_matrix_.num_row_ = rows.n
    integ = np.concatenate(cols.integ)
    try:
        lp.integrality_ = integ.astype(np.uint8)
    except TypeError:  # older highspy: a list of HighsVarType
        lp.integrality_ = [highspy.HighsVarType(int(v)) for v in integ]
    index = {"x": (x0, L, D), "y": (y0, keys), "dominated_frequencies": sum(freqs) - sum(len(f) for f in keep_f),
             "pruned_z": len(drop_z or ())}
    return DirectModel(lp, cols.n, rows.n, scale, index, p, time.perf_counter() - t0)
