"""Exact dynamic programs for latency-only chains: an oracle and a fast path (issue 12).

A chain plan is a path through the layered graph of (layer, device) nodes, so the minimum
latency of the base ILP (Ch. 5, Eqs. (5.4)-(5.6)), with preloading (Ch. 6, Eq. (6.2)), or
with bundle profiles (Ch. 7, Eq. (7.2), bundles as arcs) is a shortest path, found by a DP
over layers in O(L D^2) (base) or O(L MBS D^2 F) (bundles).

**What the DP solves exactly** (``chain_dp``): the latency objective of the compositions
``base``, ``base + preload``, ``base + jointdnn|dime [+ freddi]`` with pinned layers, with

* no memory constraint (Eq. (5.2)),
* no DIME ceiling (Eq. (7.5)) and
* a free frequency per bundle (no single frequency per device, FreDDI Sec. 8.3),

i.e. a *relaxation* of the full model whenever memory caps, the ceiling or FreDDI's
one-frequency rule are on. **Certificate** (``dp_certificate``): when the DP's plan also
satisfies every dropped constraint (memory of each device, at most ceil(n_d / MBS) bundles
on each device, one frequency per device), it is optimal for the full model too (a
relaxation's optimum that is feasible is optimal), and the fast path answers with it
(result ``method: dp``); otherwise it falls back to the MILP (``method: milp``). Any other
constraint plugin, objective or formulation makes the fast path decline (it never guesses).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from layerplan.latency import LatencyParams

SUPPORTED_FORMULATIONS = {"base", "preload", "dime", "jointdnn", "freddi"}


@dataclass
class DPPlan:
    latency_s: float
    assignment: list[int]  # device index per layer
    bundles: list[tuple[int, int, int, int]] = field(default_factory=list)  # (i, j, d, f), global layer indexes


def _allowed(params: LatencyParams) -> list[np.ndarray]:
    D = params.n_devices
    out = []
    for l in range(params.n_layers):
        mask = np.zeros(D, dtype=bool)
        if l in params.pinned:
            mask[params.pinned[l]] = True
        else:
            mask[:] = True
        out.append(mask)
    return out


def base_dp(params: LatencyParams, *, preload: bool) -> DPPlan:
    """Min latency of the base ILP (Eqs. (5.4)-(5.6)) or with preloading (Eq. (6.2)),
    pins respected, memory ignored: V[l+1, e] = min_d V[l, d] + cost(l, d -> l+1, e)."""
    L, D = params.n_layers, params.n_devices
    p, tc, tw, tx = params.exec_prob, params.compute_s, params.weight_s, params.comm_s
    allowed = _allowed(params)
    V = np.where(allowed[0], p[0] * tc[0] + (0.0 if preload else p[0] * tw[0]), np.inf)
    back = np.zeros((L, D), dtype=int)
    eye = np.eye(D, dtype=bool)
    for l in range(L - 1):
        w = p[l + 1] * tw[l + 1]
        step = p[l + 1] * (tx[l] + tc[l + 1][None, :])  # [d, e]
        step = step + (np.where(eye, w[None, :], 0.0) if preload else w[None, :])
        cand = V[:, None] + step
        back[l + 1] = np.argmin(cand, axis=0)
        V = np.where(allowed[l + 1], cand[back[l + 1], np.arange(D)], np.inf)
    d = int(np.argmin(V))
    best = float(V[d])
    a = [d]
    for l in range(L - 1, 0, -1):
        d = int(back[l, d])
        a.append(d)
    return DPPlan(best, a[::-1])


def bundle_dp(params: LatencyParams, mbs: int) -> DPPlan:
    """Min latency with bundle profiles (Eq. (7.2)): real layers covered by bundles of at
    most ``mbs`` layers, each at its best frequency; pseudo layers keep their analytic
    compute and weight latency; every transfer l -> l+1 costs p_{l+1} t^x[l, d, d']."""
    bl = params.bundles
    L, D = params.n_layers, params.n_devices
    p, tc, tw, tx = params.exec_prob, params.compute_s, params.weight_s, params.comm_s
    real = bl.real_layers
    r0, r1 = real[0], real[-1]
    K = len(real)
    allowed = _allowed(params)
    # best frequency and latency of every bundle (a, n): real positions a..a+n-1
    nf = [len(f) for f in bl.freqs]
    big = math.inf
    cost = np.full((K, mbs + 1, D), big)
    fbest = np.zeros((K, mbs + 1, D), dtype=int)
    for d in range(D):
        for a in range(K):
            for n in range(1, min(mbs, K - a) + 1):
                i, j = real[a], real[a + n - 1]
                if not all(allowed[l][d] for l in range(i, j + 1)):
                    continue
                vals = [bl.latency_s[(i, j, d, f)] for f in range(nf[d])]
                f = int(np.argmin(vals))
                inner = sum(p[l + 1] * tx[l, d, d] for l in range(i, j))
                cost[a, n, d] = vals[f] + inner
                fbest[a, n, d] = f
    # pseudo prefix: layers 0..r0-1 one by one (analytic compute + weight)
    V = np.where(allowed[0], p[0] * (tc[0] + tw[0]), np.inf)
    back_pre = []
    for l in range(r0 - 1):
        cand = V[:, None] + p[l + 1] * (tx[l] + (tc[l + 1] + tw[l + 1])[None, :])
        b = np.argmin(cand, axis=0)
        back_pre.append(b)
        V = np.where(allowed[l + 1], cand[b, np.arange(D)], np.inf)
    # W[a, e]: min cost with real positions < a covered and the last bundle ending at a-1 on e
    W = np.full((K + 1, D), np.inf)
    arg = {}
    # first bundle: from the last pseudo layer r0-1 (or none)
    for n in range(1, min(mbs, K) + 1):
        c = cost[0, n]
        if r0 > 0:
            cand = V[:, None] + p[r0] * tx[r0 - 1] + c[None, :]
            b = np.argmin(cand, axis=0)
            val = cand[b, np.arange(D)]
        else:
            b = np.full(D, -1)
            val = c
        better = val < W[n]
        W[n] = np.where(better, val, W[n])
        for e in np.nonzero(better)[0]:
            arg[(n, int(e))] = (0, n, int(b[e]))
    for a in range(1, K):
        l = real[a - 1]
        trans = W[a][:, None] + p[l + 1] * tx[l]  # [d, e]
        bprev = np.argmin(trans, axis=0)
        best_in = trans[bprev, np.arange(D)]
        for n in range(1, min(mbs, K - a) + 1):
            val = best_in + cost[a, n]
            better = val < W[a + n]
            W[a + n] = np.where(better, val, W[a + n])
            for e in np.nonzero(better)[0]:
                arg[(a + n, int(e))] = (a, n, int(bprev[e]))
    # pseudo suffix
    a_out = [0] * L
    best, d = _pseudo_suffix(W[K], lambda l: p[l + 1] * (tx[l] + (tc[l + 1] + tw[l + 1])[None, :]), allowed, r1,
                             a_out)
    if not math.isfinite(best):
        return DPPlan(math.inf, [])
    bundles = []
    pos, e = K, d
    while pos > 0:
        a, n, prev = arg[(pos, e)]
        i, j = real[a], real[a + n - 1]
        bundles.append((i, j, e, int(fbest[a, n, e])))
        for l in range(i, j + 1):
            a_out[l] = e
        pos, e = a, prev
    bundles.reverse()
    _pseudo_prefix(back_pre, r0, e, a_out)
    return DPPlan(best, a_out, bundles)


def _pseudo_suffix(W_end, step, allowed, r1: int, a_out: list[int]) -> tuple[float, int]:
    """The pseudo layers after the last real one (r1): extend the best cost per device of
    the last real layer, ``W_end[d]``, by the arc costs ``step(l)[d, e]`` of l -> l+1; fill
    ``a_out[r1 + 1:]`` and return (best total, device of layer r1). Infinite: no plan."""
    L, D = len(a_out), len(W_end)
    U = W_end.copy()
    back = []
    for l in range(r1, L - 1):
        cand = U[:, None] + step(l)
        b = np.argmin(cand, axis=0)
        back.append(b)
        U = np.where(allowed[l + 1], cand[b, np.arange(D)], np.inf)
    d = int(np.argmin(U))
    best = float(U[d])
    if math.isfinite(best):
        for k in range(L - 1, r1, -1):
            a_out[k] = d
            d = int(back[k - r1 - 1][d])
    return best, d


def _pseudo_prefix(back_pre, r0: int, d: int, a_out: list[int]) -> None:
    """Fill ``a_out[:r0]`` (the pseudo layers before the first real one) back from device
    ``d`` of layer r0, with the argmins ``back_pre`` of the forward pass."""
    for k in range(r0 - 1, -1, -1):
        a_out[k] = d
        if k > 0:
            d = int(back_pre[k - 1][d])


_COSTS: dict = {}


def path_costs(params: LatencyParams, objective: str = "latency", mbs: int | None = None):
    """Cached per (bundle table, objective, MBS): callers must not modify the arrays in place.
    Arc costs of the bundle path for ``latency`` (Eqs. (5.5), (7.2)) or ``energy``
    (edge devices' Eqs. (8.3)-(8.6)): (bundle[d][f] -> array [a, n] (np.inf outside),
    transfer[l, d, e] for l -> l+1, pseudo[l, d])."""
    key = (id(params.bundles), id(params.comm_s), objective, mbs)
    hit = _COSTS.get(key)
    if hit is not None and hit[0] is params.bundles:
        return hit[1]
    out = _path_costs(params, objective, mbs)
    _COSTS.clear()  # one entry: the arrays are large
    _COSTS[key] = (params.bundles, out)
    return out


def _path_costs(params: LatencyParams, objective: str, mbs: int | None):
    bl = params.bundles
    L, D = params.n_layers, params.n_devices
    p, tx = params.exec_prob, params.comm_s
    real = bl.real_layers
    K = len(real)
    if objective == "latency":
        trans = p[1:, None, None] * tx
        pseudo = p[:, None] * (params.compute_s + params.weight_s)
        table = bl.latency_s
        counted = set(range(D))
    else:
        edge = [d for d in range(D) if params.device_classes[d] == "edge"]
        counted = set(edge)
        trans = np.zeros_like(tx)
        bw = params.bandwidth_Bps
        for d in edge:
            radio = params.radios[d]
            if radio is None:
                continue
            for o in range(D):
                if o != d:
                    trans[:, d, o] += radio.upload_power_W(bw[d, o]) * tx[:, d, o]
                    trans[:, o, d] += radio.download_power_W(bw[o, d]) * tx[:, o, d]
        pseudo = np.zeros((L, D))
        table = bl.energy_J
    bundle = []
    for d in range(D):
        per_f = []
        for f in range(len(bl.freqs[d])):
            top = min(mbs or K, K)
            arr = np.full((K, top + 1), np.inf)
            for a in range(K):
                for n in range(1, min(top, K - a) + 1):
                    key = (real[a], real[a + n - 1], d, f)
                    if key in bl.latency_s:
                        arr[a, n] = table[key] if d in counted else 0.0
            per_f.append(arr)
        bundle.append(per_f)
    return bundle, trans, pseudo


def segment_dp(params: LatencyParams, mbs: int, objective: str = "latency", *, ban=None,
               only_f: dict | None = None) -> DPPlan:
    """Min cost of DIME's composition with the ceiling Eq. (7.5) relaxed to every maximal
    segment of one device: a segment of n real layers is covered by exactly ceil(n / MBS)
    bundles (total waste sum (MBS - size) <= MBS - 1), each segment at its own frequency.

    Any plan that meets the global ceiling meets this (a device's segments need at least
    sum_s ceil(n_s / MBS) >= ceil(N_d / MBS) bundles, so equality holds in every segment),
    so the value is a lower bound, exact when the plan uses each device's frequency once and
    sum_s ceil(n_s / MBS) <= ceil(N_d / MBS) (``dp_certificate`` checks both)."""
    bl = params.bundles
    L, D = params.n_layers, params.n_devices
    real = bl.real_layers
    r0, r1 = real[0], real[-1]
    K = len(real)
    M = min(mbs, K)
    allowed = _allowed(params)
    if ban is not None:  # restrictions used by feasible_plan: device d banned at layer l
        allowed = [a & ~ban[l] for l, a in enumerate(allowed)]
    bundle, trans, pseudo = path_costs(params, objective, M)
    bundle = [list(per_f) for per_f in bundle]  # the cache is shared: restrict a copy
    for d, f in (only_f or {}).items():
        for g in range(len(bundle[d])):
            if g != f:
                bundle[d][g] = np.full_like(bundle[d][g], np.inf)
    # bundles' internal transfers l -> l+1 on one device are paid in the segment (prefix sums)
    diag = np.array([[trans[l, d, d] for d in range(D)] for l in range(real[0], real[-1])]).reshape(-1, D)
    inner_cum = np.vstack([np.zeros((1, D)), np.cumsum(diag, axis=0)])  # [a] sum of diag over positions < a
    bad = np.array([[0 if allowed[l][d] else 1 for d in range(D)] for l in real])
    bad_cum = np.vstack([np.zeros((1, D), dtype=int), np.cumsum(bad, axis=0)])
    # seg[a, b, d]: best cover of positions a..b-1 on d with exactly ceil(n/M) bundles
    seg = np.full((K, K + 1, D), np.inf)
    # all (device, frequency) pairs at once: B[P, a, size]
    pairs = [(d, f) for d in range(D) for f in range(len(bundle[d]))]
    P = len(pairs)
    B = np.stack([bundle[d][f][:, :M + 1] for d, f in pairs])  # [P, K, M+1]
    starts = np.array([next(k for k, (dd, _) in enumerate(pairs) if dd == d) for d in range(D)])
    # F: positions a..a+n-1 covered with total waste r (<= M-1); a rolling
    # window of M+1 lengths n
    F = np.full((M + 1, M, P, K), np.inf)  # [slot(n), r, P, a], contiguous per (slot, r)
    F[0, 0] = 0.0
    A = np.arange(K)
    c = np.empty((P, K))
    for n in range(K + 1):
        cur = F[n % (M + 1)]  # [r, P, a]
        if n >= 1:
            val = cur[(-n) % M]  # [P, a], valid for a + n <= K
            na = K - n + 1
            seg[A[:na], A[:na] + n, :] = np.minimum.reduceat(val[:, :na], starts, axis=0).T
        if n == K:
            break
        for size in range(1, M + 1):
            if n + size > K:
                break
            w = M - size
            c.fill(np.inf)
            c[:, :K - n] = B[:, n:, size]
            tgt = F[(n + size) % (M + 1), w:]
            np.minimum(tgt, cur[:M - w] + c, out=tgt)
        cur.fill(np.inf)
    # add internal transfers and forbid pinned-elsewhere layers
    for a in range(K):
        seg[a, a + 1:] += inner_cum[a:K] - inner_cum[a]
        seg[a, a + 1:][(bad_cum[a + 1:] - bad_cum[a]) > 0] = np.inf
    # pseudo prefix
    V = np.where(allowed[0], pseudo[0], np.inf)
    back_pre = []
    for l in range(r0 - 1):
        cand = V[:, None] + trans[l] + pseudo[l + 1][None, :]
        b = np.argmin(cand, axis=0)
        back_pre.append(b)
        V = np.where(allowed[l + 1], cand[b, np.arange(D)], np.inf)
    W = np.full((K + 1, D), np.inf)
    arg_a = np.zeros((K + 1, D), dtype=int)
    arg_d = np.full((K + 1, D), -1)
    In = np.full((K, D), np.inf)  # In[a, e]: best cost entering position a on e
    In_d = np.full((K, D), -1)
    if r0 > 0:
        cand = V[:, None] + trans[r0 - 1]
        In_d[0] = np.argmin(cand, axis=0)
        In[0] = cand[In_d[0], np.arange(D)]
    else:
        In[0] = 0.0
    offdiag = ~np.eye(D, dtype=bool)
    for b in range(1, K + 1):
        tot = In[:b] + seg[:b, b]  # [a, e]
        a_best = np.argmin(tot, axis=0)
        W[b] = tot[a_best, np.arange(D)]
        arg_a[b] = a_best
        if b < K:
            l = real[b - 1]
            cand = np.where(offdiag, W[b][:, None] + trans[l], np.inf)  # [d, e], d != e
            In_d[b] = np.argmin(cand, axis=0)
            In[b] = cand[In_d[b], np.arange(D)]
    a_out = [0] * L
    best, d = _pseudo_suffix(W[K], lambda l: trans[l] + pseudo[l + 1][None, :], allowed, r1, a_out)
    if not math.isfinite(best):
        return DPPlan(math.inf, [])
    segments = []
    pos, e = K, d
    while pos > 0:
        a = int(arg_a[pos, e])
        segments.append((a, pos, e))
        prev = int(In_d[a, e])
        pos, e = a, prev
    segments.reverse()
    _pseudo_prefix(back_pre, r0, e, a_out)
    bundles = []
    for a, b, e in segments:
        f = _best_frequency(bundle[e], a, b, M)
        for l in range(real[a], real[b - 1] + 1):
            a_out[l] = e
        bundles += [(real[i], real[j], e, f) for i, j in _best_cover(bundle[e][f], a, b, M)]
    return DPPlan(best, a_out, bundles)


def _cover_cost(arr, cover) -> float:
    return float(sum(arr[i, j - i + 1] for i, j in cover))


def _best_frequency(per_f, a: int, b: int, M: int) -> int:
    """The lowest-index frequency whose best cover of a..b-1 is cheapest."""
    costs = [_cover_cost(arr, _best_cover(arr, a, b, M)) for arr in per_f]
    return int(np.argmin(costs))


def _best_cover(arr, a: int, b: int, M: int) -> list[tuple[int, int]]:
    """Positions (i, j) of the cheapest cover of a..b-1 by exactly ceil(n/M) bundles."""
    n = b - a
    need = (-n) % M
    F = {(0, 0): (0.0, None)}
    for m in range(n):
        for r in range(M):
            if (m, r) not in F:
                continue
            v = F[(m, r)][0]
            for size in range(1, min(M, n - m) + 1):
                w = M - size
                if r + w > M - 1:
                    continue
                c = v + arr[a + m, size]
                key = (m + size, r + w)
                if key not in F or c < F[key][0]:
                    F[key] = (c, (m, r, size))
    out = []
    key = (n, need)
    while F[key][1] is not None:
        m, r, size = F[key][1]
        out.append((a + m, a + m + size - 1))
        key = (m, r)
    return out[::-1]


def feasible_plan(params: LatencyParams, mbs: int, objective: str = "latency", max_rounds: int = 50,
                  first: DPPlan | None = None, memory: bool = False):
    """A plan that meets every DIME/FreDDI constraint (an upper bound), by repairing the
    segment DP's plan: a device over its global ceiling keeps only its largest segment
    (banned from the layers of the others), a device at several frequencies keeps the one
    of its largest segment; the restricted DP is solved again until it certifies.
    Returns (plan, rounds) or (None, rounds)."""
    D, L = params.n_devices, params.n_layers
    ban = np.zeros((L, D), dtype=bool)
    only_f: dict = {}
    real = params.bundles.real_layers
    for rounds in range(1, max_rounds + 1):
        plan = first if (rounds == 1 and first is not None) else segment_dp(params, mbs, objective, ban=ban,
                                                                             only_f=only_f)
        if not math.isfinite(plan.latency_s):
            return None, rounds
        why = certify(params, plan, memory=False, mbs=mbs, ceiling=True, one_frequency=True)
        if why is None:
            if memory and certify(params, plan, memory=True) is not None:
                return None, rounds  # the repair does not handle memory caps
            return plan, rounds
        for d in range(D):
            segs = []
            for l in real:
                if plan.assignment[l] == d:
                    if segs and segs[-1][1] == l - 1:
                        segs[-1][1] = l
                    else:
                        segs.append([l, l])
            if not segs:
                continue
            n_d = sum(j - i + 1 for i, j in segs)
            mine = [b for b in plan.bundles if b[2] == d]
            keep = max(segs, key=lambda ij: ij[1] - ij[0])
            if len(mine) > math.ceil(n_d / mbs):
                for i, j in segs:
                    if [i, j] != keep:
                        ban[i:j + 1, d] = True
            if len({b[3] for b in mine}) > 1:
                only_f[d] = next(b[3] for b in mine if keep[0] <= b[0] <= keep[1])
    return None, max_rounds


def prune_masks(params: LatencyParams, mbs: int, objective: str, upper: float):
    """Exact pruning by bounds: with the bundle relaxation (no ceiling, best frequency per
    bundle), the cheapest plan through a bundle arc (i, j, d, f) or a device change
    z[l, d, e] (d != e, between real layers) is a lower bound on every plan using it; arcs
    whose bound exceeds ``upper`` (the cost of a feasible plan) cannot be in an optimal
    plan. Returns (keep_bundle: set of (i, j, d, f), drop_z: set of (l, d, e))."""
    bl = params.bundles
    L, D = params.n_layers, params.n_devices
    real = bl.real_layers
    K, M = len(real), min(mbs, len(bl.real_layers))
    r0, r1 = real[0], real[-1]
    allowed = _allowed(params)
    bundle, trans, pseudo = path_costs(params, objective, M)
    diag = np.array([[trans[l, d, d] for d in range(D)] for l in range(r0, r1)]).reshape(-1, D)
    icum = np.vstack([np.zeros((1, D)), np.cumsum(diag, axis=0)])
    bmin = np.full((K, M + 1, D), np.inf)
    for d in range(D):
        bmin[:, :, d] = np.min(np.stack(bundle[d]), axis=0)[:, :M + 1]
    for n in range(1, M + 1):
        a = np.arange(K - n + 1)
        bmin[a, n] += icum[a + n - 1] - icum[a]
    bad = np.array([[not allowed[l][d] for d in range(D)] for l in real])
    for n in range(1, M + 1):
        for a in range(K - n + 1):
            bmin[a, n, bad[a:a + n].any(axis=0)] = np.inf
    # forward
    V = np.where(allowed[0], pseudo[0], np.inf)
    for l in range(r0 - 1):
        V = np.where(allowed[l + 1], np.min(V[:, None] + trans[l] + pseudo[l + 1][None, :], axis=0), np.inf)
    enter = np.full((K + 1, D), np.inf)
    end = np.full((K + 1, D), np.inf)
    enter[0] = np.min(V[:, None] + trans[r0 - 1], axis=0) if r0 > 0 else 0.0
    for b in range(1, K + 1):
        for n in range(1, min(M, b) + 1):
            end[b] = np.minimum(end[b], enter[b - n] + bmin[b - n, n])
        if b < K:
            enter[b] = np.min(end[b][:, None] + trans[real[b - 1]], axis=0)
    # backward
    U = np.zeros(D)
    for l in range(L - 1, r1, -1):  # U[d]: cost of layers > l-1 given layer l-1 on d
        U_next = np.where(allowed[l], pseudo[l] + U, np.inf)  # cost from layer l on e
        U = np.min(trans[l - 1] + U_next[None, :], axis=1)
    exit_ = np.full((K + 1, D), np.inf)
    start = np.full((K + 1, D), np.inf)
    exit_[K] = U
    for a in range(K - 1, -1, -1):
        for n in range(1, min(M, K - a) + 1):
            start[a] = np.minimum(start[a], bmin[a, n] + exit_[a + n])
        if a > 0:
            exit_[a] = np.min(trans[real[a - 1]] + start[a][None, :], axis=1)
    tol = upper * (1 + 1e-9) + 1e-15
    keep = set()
    for d in range(D):
        for f, arr in enumerate(bundle[d]):
            for n in range(1, M + 1):
                a = np.arange(K - n + 1)
                through = enter[a, d] + arr[a, n] + (icum[a + n - 1, d] - icum[a, d]) + exit_[a + n, d]
                for k in np.nonzero(through <= tol)[0]:
                    keep.add((real[k], real[k + n - 1], d, f))
    drop_z = set()
    for b in range(1, K):
        l = real[b - 1]
        through = end[b][:, None] + trans[l] + start[b][None, :]
        dd, ee = np.nonzero(through > tol)
        for d, e in zip(dd.tolist(), ee.tolist()):
            if d != e:
                drop_z.add((l, d, e))
    return keep, drop_z


# ----------------------------------------------------------------------------- fast path


def applicable(built) -> str | None:
    """None when the DP can answer for this composition (module docstring), else why not."""
    comp = built.composition
    names = set(comp.formulation_names)
    if not names <= SUPPORTED_FORMULATIONS:
        return f"formulation(s) {sorted(names - SUPPORTED_FORMULATIONS)} not in the DP"
    if comp.constraints:
        return "constraint plugins " + ", ".join(e.name for e, _ in comp.constraints)
    obj = comp.objective[0].name
    if obj not in ("latency", "energy"):
        return f"objective {obj!r}"
    if obj == "energy":
        fre = built.ctx.active.get("formulation:freddi")
        if fre is None or fre.config.energy_devices not in (None, "edge") or not (names & {"dime", "jointdnn"}):
            return "energy objective outside dime|jointdnn + freddi with the edge devices"
        blk = built.ctx.shared.get("bundles")
        if blk is None or not blk.config.ceiling:
            return "energy objective without the DIME ceiling (no DP for it here)"
    if "preload" in names and names & {"dime", "jointdnn"}:
        return "preload with bundles"
    if built.ctx.params.exec_prob is not None and names & {"dime", "jointdnn"} and \
            any(built.ctx.params.exec_prob[l] != 1.0 for l in range(built.ctx.params.n_layers)):
        return "early-exit probabilities with bundles"
    return None


def chain_dp(built) -> DPPlan:
    """The DP of the (relaxed) composition of a built model."""
    names = set(built.composition.formulation_names)
    params = built.ctx.params
    blk = built.ctx.shared.get("bundles")
    objective = built.composition.objective[0].name
    if blk is not None:
        return segment_dp(params, blk.mbs, objective) if blk.config.ceiling else bundle_dp(params, blk.mbs)
    return base_dp(params, preload="preload" in names)


def certify(params: LatencyParams, plan: DPPlan, *, memory: bool, mbs: int | None = None, ceiling: bool = False,
            one_frequency: bool = False) -> str | None:
    """None when the DP plan satisfies the constraints the DP dropped (memory Eq. (5.2);
    with bundles, the DIME ceiling Eq. (7.5) and one frequency per device), else the first
    violated one (then the DP value is only a lower bound)."""
    if not math.isfinite(plan.latency_s):
        return "no plan"
    if memory:
        used = np.zeros(params.n_devices)
        for l, d in enumerate(plan.assignment):
            used[d] += params.weight_bytes[l]
        if np.any(used > params.memory_B * (1 + 1e-12)):
            return "memory (Eq. (5.2))"
    if mbs is not None:
        real = set(params.bundles.real_layers)
        if ceiling:
            for d in range(params.n_devices):
                n_d = sum(1 for l in real if plan.assignment[l] == d)
                if sum(1 for b in plan.bundles if b[2] == d) > math.ceil(n_d / mbs):
                    return "DIME ceiling (Eq. (7.5))"
        if one_frequency:
            for d in range(params.n_devices):
                if len({b[3] for b in plan.bundles if b[2] == d}) > 1:
                    return "one frequency per device (Sec. 8.3)"
    return None


def dp_certificate(built, plan: DPPlan) -> str | None:
    """:func:`certify` for a built model's composition."""
    params = built.ctx.params
    base = built.base
    memory = bool(getattr(base.config, "memory", False) and hasattr(base, "memory_Constraint"))
    blk = built.ctx.shared.get("bundles")
    if blk is None:
        return certify(params, plan, memory=memory)
    fre = built.ctx.active.get("formulation:freddi")
    if fre is None and any(len(f) > 1 for f in params.bundles.freqs):
        return "several frequencies without freddi"
    return certify(params, plan, memory=memory, mbs=blk.mbs, ceiling=bool(blk.config.ceiling),
                   one_frequency=fre is not None and bool(fre.config.one_frequency))


def load_plan(built, plan: DPPlan) -> float:
    """Set the model's variables to the DP plan (base x, z; preload q; bundle y, s, k;
    FreDDI w) and return the model's objective value there."""
    import pyomo.core as pyo

    base = built.base
    dev = list(base.DEVICES)
    a = plan.assignment
    for l in base.LAYERS:
        for d in dev:
            if not base.x[l, d].fixed:
                base.x[l, d].set_value(1 if dev[a[l]] == d else 0)
    for l in base.TRANSITIONS:
        for d in dev:
            for e in dev:
                base.z[l, d, e].set_value(1 if (dev[a[l]] == d and dev[a[l + 1]] == e) else 0)
    pre = built.ctx.active.get("formulation:preload")
    if pre is not None:
        for l in pre.LAYERS_2L:
            for d in dev:
                pre.q[l, d].set_value(1 if dev[a[l - 1]] == d == dev[a[l]] else 0)
    blk = built.ctx.shared.get("bundles")
    if blk is not None:
        chosen = {(i, j, dev[d], f) for i, j, d, f in plan.bundles}
        for k in blk.BUNDLE_F:
            blk.y[k].set_value(1 if k in chosen else 0)
        if hasattr(blk, "s"):
            ends = {(j, dev[d]) for i, j, d, f in plan.bundles}
            starts = {(i, dev[d]) for i, j, d, f in plan.bundles}
            for l in blk.INNER:
                for d in dev:
                    blk.s[l, d].set_value(1 if (l, d) in ends and (l + 1, d) in starts else 0)
        if hasattr(blk, "k"):
            real = list(blk.REAL)
            for d in dev:
                n_d = sum(1 for l in real if dev[a[l]] == d)
                blk.k[d].set_value(-(-n_d // blk.mbs))
        fre = built.ctx.active.get("formulation:freddi")
        if fre is not None and hasattr(fre, "w"):
            used = {dev[d]: f for i, j, d, f in plan.bundles}
            for (d, f) in fre.FREQ:
                fre.w[d, f].set_value(1 if used.get(d, 0) == f else 0)
    obj = next(built.model.component_data_objects(pyo.Objective, active=True))
    return float(pyo.value(obj))


def solve_fast_path(built):
    """SolveResult with ``extra['method'] == 'dp'`` when the DP answers with a certificate,
    else None (with the reason in ``built.ctx.shared['dp_declined']``)."""
    import time

    from layerplan.solve import SolveResult

    t0 = time.perf_counter()
    why = applicable(built)
    if why is None:
        plan = chain_dp(built)
        why = dp_certificate(built, plan)
        if why is None:
            value = load_plan(built, plan)
            if not math.isclose(value, plan.latency_s, rel_tol=1e-9, abs_tol=1e-12):
                why = f"model value {value!r} != DP value {plan.latency_s!r}"
            else:
                return SolveResult("dp", "optimal", "dp", value, value, 0.0, time.perf_counter() - t0,
                                   extra={"method": "dp"})
        elif built.ctx.shared.get("bundles") is not None and built.ctx.shared["bundles"].config.ceiling:
            _prune_model(built, plan)
    built.ctx.shared["dp_declined"] = why
    return None


def _prune_model(built, lower: DPPlan) -> None:
    """Before the MILP: fix to 0 the bundle and device-change variables that no plan
    better than a repaired feasible plan can use (:func:`prune_masks`; exact). The model's
    optimum is unchanged; ``ctx.shared['dp_pruned']`` records the counts."""
    params = built.ctx.params
    blk = built.ctx.shared["bundles"]
    base = built.base
    objective = built.composition.objective[0].name
    memory = bool(getattr(base.config, "memory", False) and hasattr(base, "memory_Constraint"))
    upper, _ = feasible_plan(params, blk.mbs, objective, first=lower, memory=memory)
    if upper is None:
        return
    keep, drop_z = prune_masks(params, blk.mbs, objective, upper.latency_s)
    dev = list(base.DEVICES)
    didx = base.device_index
    n_y = 0
    for k in blk.BUNDLE_F:
        i, j, d, f = k
        if (i, j, didx[d], f) not in keep and not blk.y[k].fixed:
            blk.y[k].fix(0)
            n_y += 1
    for l, d, e in drop_z:
        base.z[l, dev[d], dev[e]].fix(0)
    built.ctx.shared["dp_pruned"] = {"upper": upper.latency_s, "lower": lower.latency_s, "fixed_y": n_y,
                                     "fixed_z": len(drop_z)}
