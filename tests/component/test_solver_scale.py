"""Issue 12: every form of the DIME link (thesis / flow) and of the FreDDI frequency link
(thesis / start), in both linearizations of z, against brute-force enumeration."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layerplan.api import solve_scenario
from layerplan.bundle_eval import actual_latency_s, all_plans, runs
from layerplan.latency import analytic_params
from layerplan.oracle import feasible_memory
from layerplan.profiles import ProfileSet, bundle_latency
from layerplan.scenario import DNN, Device, Layer, build_scenario


def _covers(i, j, mbs):
    """Every split of i..j into consecutive bundles of at most mbs layers."""
    if i > j:
        yield []
        return
    for k in range(i, min(j, i + mbs - 1) + 1):
        for rest in _covers(k + 1, j, mbs):
            yield [(i, k)] + rest

pytestmark = pytest.mark.component
SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def make_case(seed: int, n_layers: int, n_devices: int, n_freq: int, *, memory: bool = False):
    """A random chain with bundle profiles at ``n_freq`` frequencies per device (faster and
    hungrier at higher f, with a random bundle bias per device) and energies."""
    rng = np.random.default_rng(seed)
    layers = tuple(Layer(f"l{i}", "conv", 1e8, float(rng.integers(1e3, 1e6)), (1, 1, int(rng.integers(10, 2e5))))
                   for i in range(n_layers))
    total_w = sum(layer.weight_bytes for layer in layers)
    devs = [Device(f"D{d}", "edge" if d < 2 else "cloud", 1e9, 1e9, 1e8, spec=f"p{d}",
                   memory_B=(total_w * rng.uniform(0.4, 0.9) if memory and d else float("inf")))
            for d in range(n_devices)]
    from layerplan.io import load_network

    net = load_network({"bandwidth_Bps": float(10 ** rng.uniform(5, 7)), "radio": "wifi"}, [d.name for d in devs], devs)
    sc = build_scenario(DNN("toy", "major", (8, 8, 3), layers), devs, net, source_device="D0",
                        destination_device="D0", capture_shape=(8, 8, 3), preprocess=bool(rng.random() < 0.5))
    ps = ProfileSet("toy", "major")
    for d in range(n_devices):
        base = rng.uniform(0.001, 0.05, n_layers) * (1 if d == 0 else rng.uniform(0.05, 1.0))
        bias = rng.uniform(-0.5, 1.5)
        for k in range(n_freq):
            f = f"{5e8 + 1e8 * k:.6g}"
            speed, power = 1 + 0.6 * k, 1 + rng.uniform(0.5, 1.5) * k
            for i in range(1, n_layers + 1):
                for j in range(i, n_layers + 1):
                    g = 1 + bias * (j - i) / max(1, n_layers - 1)
                    t = float(base[i - 1:j].sum() * g * rng.uniform(0.97, 1.03) / speed)
                    ps.latency_s[(f"p{d}", f, i, j)] = t
                    ps.energy_J[(f"p{d}", f, i, j)] = t * power
    return sc, ps


def enumerate_latency(p, mbs: int, ceiling: bool, memory: bool) -> float:
    """Min over plans, one frequency per device and bundle covers (Eqs. (7.2)-(7.5), (8.1))."""
    bl = p.bundles
    best = math.inf
    for a in all_plans(p):
        if memory and not feasible_memory(p, a):
            continue
        r = runs(p, a)
        fixed = actual_latency_s(p, a)["total"] - sum(bl.latency_s[(i, j, d, 0)] for i, j, d in r)
        total = fixed
        for d in range(p.n_devices):
            segs = [(i, j) for i, j, dd in r if dd == d]
            if not segs:
                continue
            cap = math.ceil(sum(j - i + 1 for i, j in segs) / mbs) if ceiling else math.inf
            best_d = math.inf
            for f in range(len(bl.freqs[d])):
                # covers of each segment by count: min latency with c bundles
                per_seg = []
                for i, j in segs:
                    by_count: dict[int, float] = {}
                    for cover in _covers(i, j, mbs):
                        t = sum(bl.latency_s[(s, e, d, f)] for s, e in cover)
                        by_count[len(cover)] = min(by_count.get(len(cover), math.inf), t)
                    per_seg.append(by_count)
                combos = {0: 0.0}  # bundles used so far -> min latency
                for by_count in per_seg:
                    merged: dict[int, float] = {}
                    for c, v in combos.items():
                        for k, w in by_count.items():
                            merged[c + k] = min(merged.get(c + k, math.inf), v + w)
                    combos = merged
                best_d = min([best_d] + [v for c, v in combos.items() if c <= cap])
            total += best_d
        best = min(best, total)
    return best


case_args = st.fixed_dictionaries({
    "seed": st.integers(0, 2**31 - 1),
    "n_layers": st.integers(2, 5),
    "n_devices": st.integers(2, 3),
    "n_freq": st.integers(1, 2),
})


@SETTINGS
@given(args=case_args, mbs=st.integers(1, 4), ceiling=st.booleans(), memory=st.booleans(),
       lin=st.sampled_from(["flow", "and"]), form=st.sampled_from(["flow", "thesis"]),
       link=st.sampled_from(["start", "thesis"]))
def test_every_form_equals_enumeration(args, mbs, ceiling, memory, lin, form, link):
    sc, ps = make_case(**args, memory=memory)
    p = analytic_params(sc)
    p.bundles = bundle_latency(p, ps, None, {d.name: d.spec for d in sc.devices})
    mbs = min(mbs, args["n_layers"])
    expect = enumerate_latency(p, mbs, ceiling, memory)
    if math.isinf(expect):
        return
    name = "dime" if ceiling else "jointdnn"
    formulation = {name: {"mbs": mbs, "form": form}}
    if args["n_freq"] > 1:
        formulation["freddi"] = {"link": link}
    res = solve_scenario(sc, formulation=formulation, profiles=ps, model={"linearization": lin, "memory": memory})
    assert math.isclose(res["objective"], expect, rel_tol=1e-6, abs_tol=1e-9)


@SETTINGS
@given(args=case_args, mbs=st.integers(1, 4))
def test_energy_optimum_is_the_same_in_every_form(args, mbs):
    """Energy objective (Sec. 8.3): the thesis forms are checked against enumeration in
    test_freddi.py; every other form must reach the same optimum."""
    sc, ps = make_case(**{**args, "n_freq": 2})
    mbs = min(mbs, args["n_layers"])
    objs = set()
    for lin in ("flow", "and"):
        for form in ("thesis", "flow"):
            for link in ("thesis", "start"):
                res = solve_scenario(sc, formulation={"dime": {"mbs": mbs, "form": form}, "freddi": {"link": link}},
                                     objective="energy", profiles=ps, model={"linearization": lin})
                objs.add(round(res["objective"], 9))
    assert max(objs) - min(objs) <= 1e-6 * max(1.0, max(objs)), objs
