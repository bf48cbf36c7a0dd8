"""Actual latency of a plan under bundle profiles, and the exhaustive optimum (Ch. 7).

The *actual* latency of a plan charges each device, for every maximal run of consecutive
real layers i..j it executes, the profile of that whole run t^c[i, j, d] (the largest
bundle it really executes), plus the analytic communication latency between layers and
the pseudo layers' analytic compute. The ILP's objective is the *estimated* latency; for
DIME with MBS = L the two are equal by construction, for JointDNN and small MBS they may
not be (Tables 7.1-7.2).
"""

from __future__ import annotations

import itertools
from typing import Iterator

from layerplan.errors import DataError
from layerplan.latency import LatencyParams, communication_s
from layerplan.oracle import feasible_memory


def runs(params: LatencyParams, assignment: list[int]) -> list[tuple[int, int, int]]:
    """Maximal runs (i, j, device) of consecutive real layers on one device (global indexes)."""
    real = params.bundles.real_layers
    out: list[tuple[int, int, int]] = []
    for l in real:
        d = assignment[l]
        if out and out[-1][2] == d and out[-1][1] == l - 1:
            out[-1] = (out[-1][0], l, d)
        else:
            out.append((l, l, d))
    return out


def actual_latency_s(params: LatencyParams, assignment: list[int], freq: list[int] | None = None) -> dict[str, float]:
    """Actual latency of a plan; ``freq[d]`` is the frequency index device d runs at (default 0)."""
    bl = params.bundles
    a = list(assignment)
    p = params.exec_prob
    freq = freq or [0] * params.n_devices
    compute = 0.0
    for i, j, d in runs(params, a):
        try:
            compute += bl.latency_s[(i, j, d, freq[d])]
        except KeyError:
            raise DataError(
                f"actual latency needs the profile of bundle (i={bl.real_layers.index(i) + 1}, "
                f"j={bl.real_layers.index(j) + 1}) on device {bl.device_labels[d]!r}", source="profiles", field="latency_s",
            ) from None
    pseudo = [l for l, kind in enumerate(params.pseudo) if kind is not None]
    compute += sum(p[l] * params.compute_s[l, a[l]] for l in pseudo)
    weight = sum(p[l] * params.weight_s[l, a[l]] for l in pseudo)
    comm = communication_s(params, a)  # Eq. (5.5); on a DAG each tensor once per destination device
    return {"compute": float(compute), "communication": float(comm), "weight": float(weight),
            "total": float(compute + comm + weight)}


def device_energy_J(params: LatencyParams, assignment: list[int], freq: list[int], d: int) -> float:
    """E^c_d + E^x_d of one inference of the plan (FreDDI, Ch. 8): Eq. (8.3) over d's runs
    at its frequency ``freq[d]``, Eq. (8.4) over its uploads and downloads (radio power
    model Eqs. (8.5)-(8.6)); 0 for transfers when d has no radio."""
    bl = params.bundles
    e = sum(bl.energy_J[(i, j, dd, freq[dd])] for i, j, dd in runs(params, assignment) if dd == d)
    return float(e + comm_energy_J(params, assignment, d))


def comm_energy_J(params: LatencyParams, assignment: list[int], d: int) -> float:
    """E^x_d of one inference (Eq. (8.4)): d's uploads and downloads at the radio powers of
    Eqs. (8.5)-(8.6); 0 when d has no radio."""
    radio = params.radios[d] if params.radios else None
    if radio is None:
        return 0.0
    e = 0.0
    bw, tx = params.bandwidth_Bps, params.comm_s
    for l in range(len(assignment) - 1):
        s, r = assignment[l], assignment[l + 1]
        if s == d and r != d:
            e += radio.upload_power_W(bw[s, r]) * tx[l, s, r]
        if r == d and s != d:
            e += radio.download_power_W(bw[s, r]) * tx[l, s, r]
    return float(e)


def pseudo_choices(params: LatencyParams) -> list[list[int]]:
    return [[params.pinned[l]] if l in params.pinned else list(range(params.n_devices))
            for l, kind in enumerate(params.pseudo) if kind is not None]


def with_pseudo(params: LatencyParams, real_devs: list[int], pseudo_devs: tuple[int, ...]) -> list[int] | None:
    a, it_r, it_p = [], iter(real_devs), iter(pseudo_devs)
    for l, kind in enumerate(params.pseudo):
        d = next(it_p) if kind is not None else next(it_r)
        if kind is None and l in params.pinned and params.pinned[l] != d:
            return None
        a.append(d)
    return a


def real_layers(params: LatencyParams) -> list[int]:
    return [l for l, kind in enumerate(params.pseudo) if kind is None]


def single_entry_plans(params: LatencyParams) -> Iterator[list[int]]:
    """Every plan in which each device runs at most one contiguous segment of real layers."""
    L, D = len(real_layers(params)), params.n_devices
    for k in range(1, min(D, L) + 1):
        for order in itertools.permutations(range(D), k):
            for cuts in itertools.combinations(range(1, L), k - 1):
                bounds = (0, *cuts, L)
                real_devs = [order[s] for s in range(k) for _ in range(bounds[s + 1] - bounds[s])]
                for pseudo in itertools.product(*pseudo_choices(params)):
                    a = with_pseudo(params, real_devs, pseudo)
                    if a is not None:
                        yield a


def all_plans(params: LatencyParams) -> Iterator[list[int]]:
    L, D = len(real_layers(params)), params.n_devices
    for real_devs in itertools.product(range(D), repeat=L):
        for pseudo in itertools.product(*pseudo_choices(params)):
            a = with_pseudo(params, list(real_devs), pseudo)
            if a is not None:
                yield a


def exhaustive_optimum(params: LatencyParams, *, single_entry: bool = True, memory: bool = True, score=None):
    """(latency, plan) minimizing ``score`` (default: the actual latency) over single-entry
    plans (the thesis' 'Optimal', Tables 7.1-7.3) or over every plan (``single_entry=False``)."""
    score = score or (lambda p, a: actual_latency_s(p, a)["total"])
    best, best_a = float("inf"), None
    for a in (single_entry_plans(params) if single_entry else all_plans(params)):
        if memory and not feasible_memory(params, a):
            continue
        try:
            val = score(params, a)
        except DataError:
            continue  # a run whose profile is not available cannot be scored
        if val < best - 1e-12:
            best, best_a = val, a
    return best, best_a


def count_plans(params: LatencyParams, *, single_entry: bool) -> int:
    """How many plans :func:`exhaustive_optimum` would score (before memory filtering)."""
    from math import comb, perm, prod

    L, D = len(real_layers(params)), params.n_devices
    pseudo = prod(len(c) for c in pseudo_choices(params))
    if single_entry:
        return pseudo * sum(perm(D, k) * comb(L - 1, k - 1) for k in range(1, min(D, L) + 1))
    return pseudo * D**L
