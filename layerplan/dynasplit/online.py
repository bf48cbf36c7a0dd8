"""Online phase: scheduler strategies, the pool-replaying request simulator and its metrics.

Strategies choose, for each request with a QoS latency limit q (ms), one configuration of the measured
table (:func:`layerplan.dynasplit.loader.measured_table`; configurations absent from the pool cannot be
replayed and are never chosen):

``dynasplit``   DynaSplit's rule (``splinter:latency``): the Pareto front sorted by energy ascending (ties:
                accuracy descending), the first point with mean latency <= q, else the fastest point.
``cloud``       1800 MHz, layer 0, TPU off, GPU on (static).
``edge``        1800 MHz, all layers on the edge, TPU max (VGG16) / off (ViT), GPU off (static).
``energy``      the static minimum-energy front point; ``latency`` the static minimum-latency one.
``layerplan``   ours: exact optimization per request over every measured configuration, accounting for
                the reconfiguration cost from the current one. With r the planning reconfiguration time
                (default the median measured hardware-reconfiguration time) and
                ``v(c) = [latency(c) + r [c != current] > q]``, it minimizes ``energy(c) + lambda v(c)``
                with lambda = the largest mean energy of any configuration (a violation costs more than
                any inference): the least energy among the configurations that meet q after
                reconfiguration; if none can, the request is late anyway and gets the least energy.
``layerplan_strict``  the same with lambda infinite: if none meets q, the least latency (DynaSplit's
                fallback). Ties go to the lower latency.

The simulator (:func:`simulate`) processes requests in order: a request whose configuration differs from
the previous request's pays a reconfiguration time drawn (seeded) from the measured ones
(``overhead/``, "Hardware Configuration Change"), added to its latency; its energy is not measured and
counts 0 J. The first request starts in its own configuration (no reconfiguration). Each request then
draws one recorded row of exactly its configuration, uniformly. Draws are seeded common random numbers:
request t uses the same uniform u_t (row = floor(u_t x rows of its configuration)) and the same
reconfiguration sample in every strategy, so two strategies that choose alike get identical outcomes
and adding a strategy changes nothing else. Everything but ``layerplan``'s sequential choice is
vectorized; 10,000 requests x all strategies take well under a second per network.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from layerplan.dynasplit.data import N_LAYERS, Config, Pool
from layerplan.errors import DataError

STRATEGIES = ("cloud", "edge", "energy", "latency", "dynasplit", "layerplan", "layerplan_strict")


def static_config(strategy: str, network: str) -> Config:
    L = N_LAYERS[network]
    if strategy == "cloud":
        return Config(1800, 0, "off", True)
    if strategy == "edge":
        return Config(1800, L, "max" if network == "vgg16" else "off", False)
    raise KeyError(strategy)


def front_order(lat: np.ndarray, en: np.ndarray, acc: np.ndarray | None) -> np.ndarray:
    """DynaSplit's order of the front: energy ascending, ties accuracy descending (then latency)."""
    a = np.zeros_like(en) if acc is None else -np.asarray(acc)
    return np.lexsort((lat, a, en))


def dynasplit_choice(front_lat: np.ndarray, front_en: np.ndarray, front_acc: np.ndarray | None,
                     qos_ms: np.ndarray) -> np.ndarray:
    """Index into the front of DynaSplit's choice for every QoS limit (vectorized): in the energy order,
    the first point with latency <= q; if none, the fastest point."""
    front_lat = np.asarray(front_lat, dtype=float)
    if len(front_lat) == 0:
        raise DataError("empty Pareto front", source="dynasplit", field="front")
    order = front_order(front_lat, np.asarray(front_en, float), front_acc)
    lat_sorted = front_lat[order]
    prefix_min = np.minimum.accumulate(lat_sorted)  # non-increasing
    # first position i with prefix_min[i] <= q  <=>  searchsorted on the increasing -prefix_min
    pos = np.searchsorted(-prefix_min, -np.asarray(qos_ms, float), side="left")
    fastest = int(np.argmin(front_lat))
    out = np.where(pos < len(order), order[np.minimum(pos, len(order) - 1)], fastest)
    return out.astype(np.int64)


def reconfig_aware_choice(lat: np.ndarray, en: np.ndarray, qos_ms: np.ndarray, reconfig_ms: float,
                          start: int | None = None, violation_cost_J: float = float("inf")) -> np.ndarray:
    """``layerplan`` strategy: sequential exact choice per request (see module doc). ``lat``/``en`` are the
    planning latency (ms) and energy (J) of every candidate configuration. Request t in configuration
    ``cur`` minimizes ``en[c] + violation_cost_J * [lat[c] + r [c != cur] > q_t]`` over all c (ties: lower
    latency including r); with ``violation_cost_J`` infinite (default) that is: the least energy among the
    configurations that meet q_t after reconfiguration, and if none does, the least latency.

    O(log n) per request: candidates sorted once by (energy, latency); the first one that meets q after
    reconfiguration is found by binary search on the running minimum of ``lat + r``; staying in ``cur``
    (no r) and the least-energy infeasible candidate are compared with it. Equal to the brute force
    :func:`reconfig_aware_choice_reference` when no two configurations tie in energy (test)."""
    lat = np.asarray(lat, float)
    en = np.asarray(en, float)
    lam = float(violation_cost_J)
    if lam < 0:
        raise ValueError("violation_cost_J must be >= 0")
    r = float(reconfig_ms)
    order = np.lexsort((lat, en))
    prefix_min = np.minimum.accumulate(lat[order] + r)
    neg_prefix = -prefix_min
    fastest_sw = int(np.lexsort((en, lat))[0])
    n = len(qos_ms)
    out = np.empty(n, dtype=np.int64)
    cur = start

    def key(c):  # (energy, effective latency)
        return (en[c], lat[c] if c == cur else lat[c] + r)

    for t, q in enumerate(np.asarray(qos_ms, float)):
        pos = int(np.searchsorted(neg_prefix, -q, side="left"))
        cands = []
        if pos < len(order):
            cands.append(int(order[pos]))
        if cur is not None and lat[cur] <= q:
            cands.append(cur)
        feas = min(cands, key=key) if cands else None
        if feas is None:
            if np.isinf(lam):
                opts = [fastest_sw] + ([cur] if cur is not None else [])
                best = min(opts, key=lambda c: (lat[c] if c == cur else lat[c] + r, en[c]))
            else:
                best = int(order[0])
                if cur is not None and (en[cur], lat[cur]) <= (en[best], lat[best] + r):
                    best = cur
        elif pos == 0 or np.isinf(lam):
            best = feas
        else:
            inf = int(order[0])  # least energy; infeasible since pos > 0 (unless it is cur staying, then feas == cur)
            ef, ei = key(feas), key(inf)
            best = feas if (ef[0], ef[1]) <= (ei[0] + lam, ei[1]) or inf == feas else inf
        out[t] = best
        cur = best
    return out


def reconfig_aware_choice_reference(lat: np.ndarray, en: np.ndarray, qos_ms: np.ndarray, reconfig_ms: float,
                          start: int | None = None, violation_cost_J: float = float("inf")) -> np.ndarray:
    """Brute-force version of :func:`reconfig_aware_choice` (every candidate scored per request; tests).
    ``layerplan`` strategy: sequential exact choice per request (see module doc). ``lat``/``en`` are the
    planning latency (ms) and energy (J) of every candidate configuration. Request t in configuration
    ``cur`` minimizes ``en[c] + violation_cost_J * [lat[c] + r [c != cur] > q_t]`` over all c (ties: lower
    latency including r); with ``violation_cost_J`` infinite (default) that is: the least energy among the
    configurations that meet q_t after reconfiguration, and if none does, the least latency."""
    lat = np.asarray(lat, float)
    en = np.asarray(en, float)
    n = len(qos_ms)
    out = np.empty(n, dtype=np.int64)
    cur = start
    lam = float(violation_cost_J)
    for t, q in enumerate(np.asarray(qos_ms, float)):
        eff = lat + reconfig_ms
        if cur is not None:
            eff[cur] = lat[cur]
        ok = eff <= q
        if np.isinf(lam):
            if ok.any():
                cand = np.flatnonzero(ok)
                best = int(cand[np.lexsort((eff[cand], en[cand]))[0]])
            else:
                best = int(np.lexsort((en, eff))[0])
        else:
            best = int(np.lexsort((eff, en + lam * ~ok))[0])
        out[t] = best
        cur = best
    return out


@dataclass
class SimResult:
    strategy: str
    config_index: np.ndarray  # per request, into the measured table
    row: np.ndarray  # pool row drawn
    latency_ms: np.ndarray  # drawn latency + reconfiguration time
    energy_J: np.ndarray
    reconfig_ms: np.ndarray  # reconfiguration time added to each request
    reconfigured: np.ndarray  # bool: the configuration changed before this request
    qos_ms: np.ndarray

    def metrics(self) -> dict:
        return {
            "requests": int(len(self.qos_ms)),
            "mean_energy_J": float(self.energy_J.mean()),
            "median_energy_J": float(np.median(self.energy_J)),
            "mean_latency_ms": float(self.latency_ms.mean()),
            "qos_violation_pct": float(100.0 * np.mean(self.latency_ms > self.qos_ms)),
            "reconfigurations": int(np.count_nonzero(self.reconfigured)),
        }


def simulate(pool: Pool, pool_index: np.ndarray, choice: np.ndarray, qos_ms: np.ndarray, *, strategy: str,
             seed: int = 0, reconfig_samples_ms: np.ndarray | None = None) -> SimResult:
    """Replay the pool: request t runs configuration ``choice[t]`` (index into the measured table whose
    pool configuration index is ``pool_index``), draws one of that configuration's rows uniformly, and pays a
    drawn reconfiguration time when its configuration differs from request t-1's."""
    rng = np.random.default_rng(int(seed))  # common random numbers: request t gets the same u and r draws in every strategy
    n_cfg = len(pool.configs)
    cnt = np.bincount(pool.row_config, minlength=n_cfg)
    rows_sorted = np.argsort(pool.row_config, kind="stable")
    first = np.concatenate(([0], np.cumsum(cnt)[:-1]))
    k = np.asarray(pool_index)[np.asarray(choice)]
    if np.any(cnt[k] == 0):
        raise DataError("a chosen configuration has no pool rows", source="dynasplit", field="choice")
    u = rng.random(len(k))
    row = rows_sorted[first[k] + np.minimum((u * cnt[k]).astype(np.int64), cnt[k] - 1)]
    changed = np.zeros(len(k), dtype=bool)
    changed[1:] = k[1:] != k[:-1]
    reconf = np.zeros(len(k))
    if reconfig_samples_ms is not None and len(reconfig_samples_ms):
        draws = rng.choice(np.asarray(reconfig_samples_ms, float), size=len(k))
        reconf = np.where(changed, draws, 0.0)
    return SimResult(strategy, np.asarray(choice), row, pool.cols["latency_ms"][row] + reconf, pool.cols["energy_J"][row],
                     reconf, changed, np.asarray(qos_ms, float))


def choose_all(network: str, table: dict, front: np.ndarray, qos_ms: np.ndarray, *, reconfig_plan_ms: float,
               strategies=STRATEGIES, extra_fronts: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Configuration index (into ``table``) per request for every strategy. ``front``: indices of the
    Pareto-front configurations in ``table``; ``extra_fronts``: more ``dynasplit``-rule variants, e.g.
    ``dynasplit_nsga3`` with an NSGA-III front."""
    idx = {c: i for i, c in enumerate(table["configs"])}
    lat, en = table["latency_ms"], table["energy_J"]
    acc = table.get("accuracy")
    n = len(qos_ms)
    out = {}
    fronts = {"dynasplit": front, **(extra_fronts or {})}
    for s in strategies:
        if s in ("cloud", "edge"):
            c = static_config(s, network)
            if c not in idx:
                raise DataError(f"static configuration {c.label()} is absent from the pool", source="dynasplit", field=s)
            out[s] = np.full(n, idx[c], dtype=np.int64)
        elif s == "energy":
            f = np.asarray(front)
            out[s] = np.full(n, f[np.lexsort((lat[f], en[f]))[0]], dtype=np.int64)
        elif s == "latency":
            f = np.asarray(front)
            out[s] = np.full(n, f[np.lexsort((en[f], lat[f]))[0]], dtype=np.int64)
        elif s == "layerplan":
            # a violation costs more than any inference (lambda >= max energy): meet q if any
            # configuration can, else the request is late anyway and gets the least energy
            out[s] = reconfig_aware_choice(lat, en, qos_ms, reconfig_plan_ms, violation_cost_J=float(np.max(en)))
        elif s == "layerplan_strict":
            out[s] = reconfig_aware_choice(lat, en, qos_ms, reconfig_plan_ms)
        elif s in fronts:
            f = np.asarray(fronts[s])
            out[s] = f[dynasplit_choice(lat[f], en[f], None if acc is None else acc[f], qos_ms)]
        else:
            raise DataError(f"unknown strategy {s!r} (have: {', '.join(STRATEGIES)})", source="config", field="dynasplit.strategies")
    for s, f in (extra_fronts or {}).items():
        if s not in out:
            f = np.asarray(f)
            out[s] = f[dynasplit_choice(lat[f], en[f], None if acc is None else acc[f], qos_ms)]
    return out
