"""Pipelined inference of a stream: stage times, bottleneck, throughput and stream energy.

The plain-Python model behind ``objective=throughput`` (objectives/throughput.py), its
brute-force oracle in the tests, the ``pipeline_dp`` and ``offload`` baselines and the
reports. No Pyomo. See docs/throughput.md.

Steady state of a pipeline (as CADI's cycle, thesis Eq. (9.1) and Fig. 9.2, generalized):
every device runs its layers of inference n + 1 while the next device runs inference n.
Per inference,

- stage time of device d: compute of its layers (Eq. (5.4) split by device, or its bundle
  profiles, Eq. (7.2)), its weight loads (Eq. (5.6), Eq. (6.2) with preloading) divided by
  the microbatch size, and its internal transfers t^x[l, d, d] (Eq. (4.3) with the
  internal bandwidth); without overlap of computation and communication also the time of
  its external transfers (sent, or sent and received: ``stage_comm``);
- link time of the ordered pair (d, e), d != e: sum of the transfers d sends to e
  (Eq. (4.3)); each direction is its own link;
- NIC time of d (``nic="shared"``): every transfer d sends or receives;
- cycle (bottleneck) tau = max of all of these; throughput = 1 / tau.

Every term is weighted by the execution probability p_l, as the latency model (Sec. 6.4).

Energy per inference of device d (DONNA's per-device energy, issue 14):
E_d = E^c_d + E^x_d + P^idle_d (tau - S_d) where S_d is d's stage time, and

- analytic: E^c_d = P^active_d x (compute + weight + internal time of d) (a CIM device's
  P^active is mac_energy_J / mac_latency_s, so E^c = MAC x mac_energy_J exactly),
  E^x_d = P^comm_d x (time d sends and receives);
- with FreDDI (bundle profiles with energy): E^c_d + E^x_d of Eqs. (8.3)-(8.4)
  (:func:`layerplan.bundle_eval.device_energy_J`) for the FreDDI energy devices.

A device that runs no layer is off (no idle energy) unless ``idle_unused``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from layerplan.errors import ConfigError
from layerplan.latency import LatencyParams


@dataclass(frozen=True)
class StreamOptions:
    """Options of the pipelined model (the ``throughput`` objective's options)."""

    overlap: bool = True  # computation and communication of a stage overlap
    stage_comm: str = "both"  # without overlap: the stage also pays "send" or "both" (send + receive)
    nic: str = "none"  # "shared": a device's incoming and outgoing transfers share its NIC
    microbatch: int = 1  # weight loads are paid once per microbatch
    weight_load: bool = True  # count weight loads at all (false: weights resident everywhere)
    idle_unused: bool = False  # a device that runs no layer still idles

    def check(self) -> "StreamOptions":
        if self.stage_comm not in ("send", "both"):
            raise ConfigError(f"must be send or both, got {self.stage_comm!r}", field="objective.stage_comm")
        if self.nic not in ("none", "shared"):
            raise ConfigError(f"must be none or shared, got {self.nic!r}", field="objective.nic")
        if int(self.microbatch) < 1:
            raise ConfigError(f"must be >= 1, got {self.microbatch!r}", field="objective.microbatch")
        return self


@dataclass(frozen=True)
class DevicePower:
    """Analytic powers per device (W), by device name."""

    active_W: Mapping[str, float]
    idle_W: Mapping[str, float]
    comm_W: Mapping[str, float]

    @classmethod
    def from_scenario(cls, scenario) -> "DevicePower":
        act, idle, comm = {}, {}, {}
        for d in scenario.devices:
            if d.processor == "cim":
                act[d.name] = d.mac_energy_J / d.mac_latency_s  # E^c = MAC x mac_energy_J
            else:
                act[d.name] = d.active_power_W
            idle[d.name] = d.idle_power_W
            comm[d.name] = d.comm_power_W
        return cls(act, idle, comm)


@dataclass
class StreamMetrics:
    cycle_s: float
    bottleneck: str  # "device:<d>", "link:<d>-><e>" or "nic:<d>"
    stage_s: dict[str, float]
    link_s: dict[str, float]  # "d->e"
    nic_s: dict[str, float]
    compute_s: dict[str, float]  # compute + weight + internal transfers of d
    energy_J: dict[str, float] = field(default_factory=dict)  # per device per inference
    used: dict[str, bool] = field(default_factory=dict)

    @property
    def throughput_per_s(self) -> float:
        return 1.0 / self.cycle_s if self.cycle_s > 0 else float("inf")

    def weighted_energy_J(self, weights: Mapping[str, float] | None = None) -> float:
        w = weights or {}
        return float(sum(w.get(d, 1.0) * e for d, e in self.energy_J.items()))

    def as_dict(self) -> dict[str, Any]:
        return {"throughput_per_s": self.throughput_per_s, "bottleneck_s": self.cycle_s, "bottleneck": self.bottleneck,
                "stage_s": dict(self.stage_s), "link_s": dict(self.link_s), "nic_s": dict(self.nic_s),
                "energy_per_inference_J": dict(self.energy_J), "energy_total_J": float(sum(self.energy_J.values()))}


def _compute_weight(params: LatencyParams, a: Sequence[int], mode: str, freq: Sequence[int] | None,
                    opts: StreamOptions) -> tuple[np.ndarray, np.ndarray]:
    """(compute, weight) time per device for the plan (weights already / microbatch)."""
    D = params.n_devices
    p = params.exec_prob
    comp, wt = np.zeros(D), np.zeros(D)
    if mode == "bundles":
        from layerplan.bundle_eval import runs

        bl = params.bundles
        fr = list(freq) if freq is not None else [0] * D
        for i, j, d in runs(params, a):
            comp[d] += bl.latency_s[(i, j, d, fr[d])]
        for l, kind in enumerate(params.pseudo):
            if kind is not None:
                comp[a[l]] += p[l] * params.compute_s[l, a[l]]
                wt[a[l]] += p[l] * params.weight_s[l, a[l]]
    else:
        for l in range(len(a)):
            comp[a[l]] += p[l] * params.compute_s[l, a[l]]
            if mode == "preload":
                if l >= 1 and a[l - 1] == a[l]:
                    wt[a[l]] += p[l] * params.weight_s[l, a[l]]
            else:
                wt[a[l]] += p[l] * params.weight_s[l, a[l]]
    if not opts.weight_load:
        wt[:] = 0.0
    return comp, wt / int(opts.microbatch)


def evaluate(params: LatencyParams, assignment: Sequence[int], *, mode: str = "base", opts: StreamOptions = StreamOptions(),
             power: DevicePower | None = None, freq: Sequence[int] | None = None,
             freddi_devices: Sequence[str] = ()) -> StreamMetrics:
    """Stage, link and NIC times, the cycle and (with ``power``) the energy of one plan.

    ``mode``: ``base`` (Eqs. (5.4)-(5.6)), ``preload`` (Eq. (6.2)) or ``bundles``
    (Eq. (7.2), the actual latency of each run). ``freddi_devices`` take E^c + E^x from
    the bundle energy profiles and radio model (Eqs. (8.3)-(8.4)) instead of the powers.
    """
    a = list(assignment)
    D, names = params.n_devices, list(params.devices)
    p = params.exec_prob
    comp, wt = _compute_weight(params, a, mode, freq, opts)
    internal = np.zeros(D)
    sent, recv = np.zeros(D), np.zeros(D)
    link = np.zeros((D, D))
    if params.edges is not None:  # a DAG: each tensor once per destination device (docs/dag.md)
        from layerplan.dag import dag_transfers, transfer_prob

        transfers = [(v, s, r, transfer_prob(params, us)) for v, s, r, us in dag_transfers(params, a)]
    else:
        transfers = [(l, a[l], a[l + 1], p[l + 1]) for l in range(len(a) - 1)]
    for l, s, r, prob in transfers:
        t = prob * params.comm_s[l, s, r]
        if s == r:
            internal[s] += t
        else:
            link[s, r] += t
            sent[s] += t
            recv[r] += t
    busy = comp + wt + internal
    stage = busy.copy()
    if not opts.overlap:
        stage += sent + (recv if opts.stage_comm == "both" else 0.0)
    nic = sent + recv
    cands = [(stage[d], f"device:{names[d]}") for d in range(D)]
    cands += [(link[d, e], f"link:{names[d]}->{names[e]}") for d in range(D) for e in range(D) if d != e]
    if opts.nic == "shared":
        cands += [(nic[d], f"nic:{names[d]}") for d in range(D)]
    cycle, bott = max(cands, key=lambda c: c[0])
    used = {names[d]: d in set(a) for d in range(D)}
    m = StreamMetrics(
        cycle_s=float(cycle), bottleneck=bott,
        stage_s={names[d]: float(stage[d]) for d in range(D)},
        link_s={f"{names[d]}->{names[e]}": float(link[d, e]) for d in range(D) for e in range(D) if d != e},
        nic_s={names[d]: float(nic[d]) for d in range(D)},
        compute_s={names[d]: float(busy[d]) for d in range(D)}, used=used)
    if power is not None:
        for d in range(D):
            n = names[d]
            if n in freddi_devices:
                from layerplan.bundle_eval import device_energy_J

                e = device_energy_J(params, a, list(freq) if freq is not None else [0] * D, d)
            else:
                e = power.active_W.get(n, 0.0) * busy[d] + power.comm_W.get(n, 0.0) * (sent[d] + recv[d])
            if used[n] or opts.idle_unused:
                e += power.idle_W.get(n, 0.0) * (cycle - stage[d])
            m.energy_J[n] = float(e)
    return m


def plans(params: LatencyParams, *, single_entry: bool = False):
    """Every plan that respects the pins (all D^L, or each device one contiguous run of real layers)."""
    from layerplan.bundle_eval import all_plans, single_entry_plans

    return single_entry_plans(params) if single_entry else all_plans(params)


# --------------------------------------------------------------------------- pipeline DP


def pipeline_dp(params: LatencyParams, *, mode: str = "base", opts: StreamOptions = StreamOptions(),
                memory: bool = True) -> tuple[float, list[int] | None]:
    """Min cycle over plans in which every device runs at most one contiguous run of real
    layers (contiguous pipeline stages on distinct devices, as PipeEdge, Hu et al. 2022),
    by dynamic programming over the cut points for every order of devices and choice of
    the unpinned pseudo layers' devices: for an order d_1..d_k,

        C[m][b] = min_a max(C[m-1][a-1], S_m(a, b), X_{m-1,m}(a-1))

    where S_m(a, b) is the stage (and NIC) time of d_m running real layers a..b (known
    once a, b and the neighbours d_{m-1}, d_{m+1} are fixed) and X the link time of the
    cut. Returns (cycle, plan); (inf, None) if no plan fits in memory.
    """
    if mode == "bundles":
        raise ConfigError("pipeline_dp uses the analytic latency model (no bundle profiles)", field="baseline.name")
    opts.check()
    from layerplan.bundle_eval import pseudo_choices, real_layers

    R = real_layers(params)
    if R != list(range(R[0], R[-1] + 1)):
        raise ConfigError("pipeline_dp needs the real layers contiguous (pseudo layers only first and last)",
                          field="baseline.name")
    L, D = len(R), params.n_devices
    p = params.exec_prob
    tc, tw, tx = params.compute_s, params.weight_s, params.comm_s
    mb = int(opts.microbatch)
    wfac = (1.0 / mb) if opts.weight_load else 0.0
    pseudo_idx = [l for l, k in enumerate(params.pseudo) if k is not None]
    first, last = R[0], R[-1]
    pinned_real = {l: d for l, d in params.pinned.items() if params.pseudo[l] is None}
    # prefix sums over real layers (global index l): compute, weight, internal transfer, weight bytes
    def cums(f):
        c = [0.0]
        for l in R:
            c.append(c[-1] + f(l))
        return c
    ccomp = [cums(lambda l, d=d: p[l] * tc[l, d]) for d in range(D)]
    cwt = [cums(lambda l, d=d: p[l] * tw[l, d] * wfac) for d in range(D)]
    cint = [cums(lambda l, d=d: p[l + 1] * tx[l, d, d] if l < last else 0.0) for d in range(D)]
    cmem = cums(lambda l: params.weight_bytes[l])
    best, best_plan = float("inf"), None
    both = opts.stage_comm == "both"
    for pchoice in itertools.product(*pseudo_choices(params)):
        pdev = dict(zip(pseudo_idx, pchoice))
        for k in range(1, min(D, L) + 1):
            for order in itertools.permutations(range(D), k):
                a = [None] * params.n_layers
                for l, d in pdev.items():
                    a[l] = d
                # fixed parts: pseudo layers and the transfers that touch them
                fstage, fnic, fsent, frecv = np.zeros(D), np.zeros(D), np.zeros(D), np.zeros(D)
                flink: dict[tuple[int, int], float] = {}
                for l in pseudo_idx:
                    d = pdev[l]
                    fstage[d] += p[l] * tc[l, d]
                    prev = pdev.get(l - 1, order[-1] if l - 1 == last else None) if l >= 1 else None
                    if mode == "preload":
                        fstage[d] += p[l] * tw[l, d] * wfac if (prev is not None and prev == d) else 0.0
                    else:
                        fstage[d] += p[l] * tw[l, d] * wfac
                for l in range(params.n_layers - 1):
                    if l + 1 < first or l > last:  # pseudo -> pseudo
                        s, r = pdev[l], pdev[l + 1]
                    elif l + 1 == first:  # pseudo -> first real
                        s, r = pdev[l], order[0]
                    elif l == last:  # last real -> pseudo
                        s, r = order[-1], pdev[l + 1]
                    else:
                        continue
                    t = p[l + 1] * tx[l, s, r]
                    if s == r:
                        fstage[s] += t
                    else:
                        flink[(s, r)] = flink.get((s, r), 0.0) + t
                        fsent[s] += t
                        frecv[r] += t
                        fnic[s] += t
                        fnic[r] += t
                # preload: the first real layer's weights count if its predecessor runs on d_1
                first_w = 0.0
                if mode == "preload":
                    prev = pdev.get(first - 1)
                    first_w = 0.0 if prev is None or prev != order[0] else None  # None: counts
                stage_fixed = fstage + ((fsent + (frecv if both else 0.0)) if not opts.overlap else 0.0)
                in_order = set(order)
                const = 0.0
                for d in range(D):
                    if d not in in_order:
                        const = max(const, stage_fixed[d], fnic[d] if opts.nic == "shared" else 0.0)
                cut_pairs = {(order[m], order[m + 1]) for m in range(k - 1)}
                for pair, t in flink.items():
                    if pair not in cut_pairs:
                        const = max(const, t)
                if const >= best:
                    continue

                def seg(m: int, i: int, j: int) -> float:
                    """Stage (and NIC) time of order[m] running real positions i..j (0-based)."""
                    d = order[m]
                    for pos in range(i, j + 1):
                        pin = pinned_real.get(R[pos])
                        if pin is not None and pin != d:
                            return float("inf")
                    if memory and cmem[j + 1] - cmem[i] > params.memory_B[d] + 1e-9:
                        return float("inf")
                    w = cwt[d][j + 1] - cwt[d][i]
                    if mode == "preload":
                        lw = p[R[i]] * tw[R[i], d] * wfac
                        if not (m == 0 and first_w is None):
                            w -= lw  # the segment's first layer is preloaded
                    t = ccomp[d][j + 1] - ccomp[d][i] + w + (cint[d][j] - cint[d][i])  # internal transfers i..j-1
                    recv = p[R[i]] * tx[R[i] - 1, order[m - 1], d] if m > 0 else 0.0
                    send = p[R[j] + 1] * tx[R[j], d, order[m + 1]] if m < k - 1 else 0.0
                    st = stage_fixed[d] + t + ((send + (recv if both else 0.0)) if not opts.overlap else 0.0)
                    if opts.nic == "shared":
                        st = max(st, fnic[d] + send + recv)
                    return st

                def cut(m: int, j: int) -> float:
                    """Link time d_m -> d_{m+1} when d_m's run ends at real position j."""
                    pair = (order[m], order[m + 1])
                    return flink.get(pair, 0.0) + p[R[j] + 1] * tx[R[j], pair[0], pair[1]]

                INF = float("inf")
                C = [[INF] * L for _ in range(k)]
                arg = [[-1] * L for _ in range(k)]
                for j in range(L - (k - 1)):
                    C[0][j] = seg(0, 0, j)
                for m in range(1, k):
                    for j in range(m, L - (k - 1 - m)):
                        for i in range(m, j + 1):
                            prev = C[m - 1][i - 1]
                            if prev == INF:
                                continue
                            v = max(prev, cut(m - 1, i - 1), seg(m, i, j))
                            if v < C[m][j]:
                                C[m][j], arg[m][j] = v, i
                val = max(C[k - 1][L - 1], const)
                if val < best - 1e-15:
                    # rebuild the plan
                    bounds, j = [], L - 1
                    for m in range(k - 1, 0, -1):
                        i = arg[m][j]
                        bounds.append((m, i, j))
                        j = i - 1
                    bounds.append((0, 0, j))
                    for m, i, jj in bounds:
                        for pos in range(i, jj + 1):
                            a[R[pos]] = order[m]
                    best, best_plan = val, list(a)
    return best, best_plan


# --------------------------------------------------------------------------- baselines

TIERS = ("edge", "hub", "cloud")


def single_device_plan(params: LatencyParams, d: int) -> list[int] | None:
    """Every real layer (and every unpinned pseudo layer) on device d; None if a pin forbids it."""
    a = [params.pinned.get(l, d) for l in range(params.n_layers)]
    if any(params.pseudo[l] is None and a[l] != d for l in range(params.n_layers)):
        return None
    return a


def offload_plans(scenario, params: LatencyParams, *, mode: str, opts: StreamOptions, power: DevicePower | None,
                  memory: bool = True) -> dict[str, tuple[float, list[int], StreamMetrics]]:
    """Naive full offloading: for each device, every real layer on it (pinned pseudo layers
    stay where they are); key = device name. Plans that do not fit in memory are left out."""
    from layerplan.oracle import feasible_memory

    out = {}
    for d in range(params.n_devices):
        a = single_device_plan(params, d)
        if a is None or (memory and not feasible_memory(params, a)):
            continue
        m = evaluate(params, a, mode=mode, opts=opts, power=power)
        out[params.devices[d]] = (m.cycle_s, a, m)
    return out


def stream_baseline(scenario, params: LatencyParams, cfg: Mapping[str, Any], formulations: Sequence[str]):
    """``baseline=pipeline_dp`` (contiguous stages by DP) or ``baseline=offload`` (every real
    layer on the best device of a tier, a processor kind, or any device). Returns
    (cycle, plan, model_size, extra record fields)."""
    from layerplan.errors import SolverError

    name = cfg.get("name")
    mode = "bundles" if params.bundles is not None else ("preload" if "preload" in formulations else "base")
    keys = ("overlap", "stage_comm", "nic", "microbatch", "weight_load", "idle_unused")
    opts = StreamOptions(**{k: cfg[k] for k in keys if cfg.get(k) is not None}).check()
    power = DevicePower.from_scenario(scenario)
    if name == "pipeline_dp":
        if params.edges is not None:
            raise ConfigError("baseline pipeline_dp stages the chain's cuts and cannot price a DAG's skip tensors; "
                              "on a DAG table use objective=throughput (the exact max-load ILP) or baseline=offload",
                              field="baseline.name")
        best, plan = pipeline_dp(params, mode=mode, opts=opts, memory=bool(cfg.get("memory", True)))
        size = {"plans": None, "method": "dynamic programming over device orders and cuts"}
        per = {}
    else:
        target = str(cfg.get("target") or "any")
        cands = offload_plans(scenario, params, mode=mode, opts=opts, power=power, memory=bool(cfg.get("memory", True)))
        by = {d.name: d for d in scenario.devices}
        ok = {n: v for n, v in cands.items()
              if target == "any" or by[n].device_class == target or by[n].processor == target or n == target}
        if target != "any" and target not in TIERS + ("cpu", "gpu", "cim") and target not in by:
            raise ConfigError(f"unknown target {target!r} (tiers {', '.join(TIERS)}, processors cpu, gpu, cim, "
                              "a device name, or any)", field="baseline.target")
        per = {n: v[0] for n, v in ok.items()}
        if not ok:
            best, plan = float("inf"), None
        else:
            n = min(ok, key=lambda k: ok[k][0])
            best, plan = ok[n][0], ok[n][1]
        size = {"plans": len(cands)}
    if plan is None:
        raise SolverError(f"no feasible plan for baseline {name!r} (memory or pinned layers)", source="baseline",
                          field="status")
    m = evaluate(params, plan, mode=mode, opts=opts, power=power)
    extra = {"throughput": {"mode": mode, **m.as_dict()}}
    if name == "offload":
        extra["offload_cycle_s"] = per
    return best, plan, size, extra
