"""FreDDI (Ch. 8) against enumeration over (split, frequency) for every objective."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layerplan.api import solve_scenario
from layerplan.bundle_eval import actual_latency_s, device_energy_J, single_entry_plans
from layerplan.errors import ConfigError, DataError, SolverError
from layerplan.io import load_radios
from layerplan.latency import analytic_params
from layerplan.profiles import ProfileSet, bundle_latency
from layerplan.scenario import DNN, Device, Layer, Network, build_scenario

pytestmark = pytest.mark.component
SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def make_case(seed: int, n_layers: int, n_freq: int, radio: str = "wifi", hub: bool = False):
    rng = np.random.default_rng(seed)
    layers = tuple(Layer(f"l{i}", "conv", 1e8, 1e4, (1, 1, int(rng.integers(100, 3e5)))) for i in range(n_layers))
    dnn = DNN("toy", "major", (8, 8, 3), layers)
    devs = [Device("edge", "edge", 1e9, 1e9, 1e9, spec="pe"), Device("cloud", "cloud", 1e9, 1e9, 1e9, spec="pc")]
    if hub:
        devs.insert(1, Device("hub", "hub", 1e9, 1e9, 1e9, spec="ph"))
    net = Network(1e9, radio=load_radios()[radio])
    from layerplan.io import load_network

    net = load_network({"bandwidth_Bps": 1e9, "radio": radio}, [d.name for d in devs], devs)
    sc = build_scenario(dnn, devs, net, source_device="edge", destination_device="edge", capture_shape=(8, 8, 3),
                        preprocess=False)
    ps = ProfileSet("toy", "major")
    freqs = [f"{f:.6g}" for f in np.linspace(5e8, 1.2e9, n_freq)]
    base = rng.uniform(0.005, 0.05, n_layers)
    for k, f in enumerate(freqs):
        speed = 1 + 0.8 * k / max(1, n_freq - 1)  # faster at higher f ...
        power = 1 + 1.5 * k / max(1, n_freq - 1) * rng.uniform(0.8, 1.2)  # ... for more power
        for i in range(1, n_layers + 1):
            for j in range(i, n_layers + 1):
                t = float(base[i - 1:j].sum() / speed * (1 + 0.2 * (j - i) / n_layers))
                ps.latency_s[("pe", f, i, j)] = t
                ps.energy_J[("pe", f, i, j)] = t * 2.0 * power
    for lab, scale in (("pc", 0.1), ("ph", 0.4)):
        for i in range(1, n_layers + 1):
            for j in range(i, n_layers + 1):
                ps.latency_s[(lab, "nominal", i, j)] = float(base[i - 1:j].sum() * scale)
    return sc, ps


def enumerate_freddi(sc, ps, objective: str, cap: float | None = None, k: int = 0):
    """Min over single-entry plans and edge frequencies; returns (objective, T, E)."""
    p = analytic_params(sc)
    p.bundles = bundle_latency(p, ps, None, {d.name: d.spec for d in sc.devices})
    bl = p.bundles
    e_dev = 0
    best = (math.inf, None, None)
    for a in single_entry_plans(p):
        if any(a[l] != e_dev for l in bl.real_layers[:k]):
            continue
        for fe in range(len(bl.freqs[e_dev])):
            freq = [fe] + [0] * (p.n_devices - 1)
            T = actual_latency_s(p, a, freq)["total"]
            E = device_energy_J(p, a, freq, e_dev)
            if objective == "energy" or objective == "privacy":
                val = E
            elif objective == "latency_cons":
                val = E if T <= cap * (1 + 1e-9) else math.inf
            elif objective == "energy_cons":
                val = T if E <= cap * (1 + 1e-9) else math.inf
            else:
                val = T
            if val < best[0] - 1e-12:
                best = (val, T, E)
    return best


def _solve(sc, ps, objective, cap=None, k=0, mbs=None, extra=None):
    obj = {"name": objective}
    if objective == "latency_cons":
        obj["max_latency_s"] = cap
    if objective == "energy_cons":
        obj["max_energy_J"] = cap
    if objective == "privacy":
        obj["k"] = k
    return solve_scenario(sc, formulation={"dime": {"mbs": mbs}, "freddi": extra or {}}, objective=obj, profiles=ps)


case = st.fixed_dictionaries({"seed": st.integers(0, 2**31 - 1), "n_layers": st.integers(2, 4),
                              "n_freq": st.integers(1, 4), "radio": st.sampled_from(["wifi", "4g", "3g"]),
                              "hub": st.booleans()})


@SETTINGS
@given(args=case, objective=st.sampled_from(["latency", "energy", "latency_cons", "energy_cons", "privacy"]),
       slack=st.floats(0.0, 1.0), k=st.integers(0, 2))
def test_ilp_equals_enumeration_over_split_and_frequency(args, objective, slack, k):
    sc, ps = make_case(**args)
    cap = None
    if objective == "latency_cons":
        lo = enumerate_freddi(sc, ps, "latency")[0]
        cap = lo * (1 + 2 * slack)
    if objective == "energy_cons":
        lo = enumerate_freddi(sc, ps, "energy")[0]
        cap = lo * (1 + 2 * slack)
    k = min(k, args["n_layers"])
    best, _, _ = enumerate_freddi(sc, ps, objective, cap, k if objective == "privacy" else 0)
    res = _solve(sc, ps, objective, cap, k)
    assert math.isclose(res["objective"], best, rel_tol=1e-6, abs_tol=1e-9)
    edge = res["freddi"]["energy_J"]["edge"]["total"]
    if objective in ("energy", "latency_cons", "privacy"):
        assert math.isclose(edge, res["objective"], rel_tol=1e-6, abs_tol=1e-12)
    if objective == "latency_cons":
        assert res["latency_s"]["total"] <= cap * (1 + 1e-6)
    if objective == "energy_cons":
        assert edge <= cap * (1 + 1e-6)


@SETTINGS
@given(args=case, slack=st.floats(0.0, 1.0), mbs=st.integers(1, 4))
def test_frequency_choice_never_hurts(args, slack, mbs):
    """FreDDI is never worse than the same model with the edge frequency fixed (JointDNN-fast/slow)."""
    sc, ps = make_case(**args)
    cap = enumerate_freddi(sc, ps, "latency")[0] * (1 + 2 * slack) * 1.5
    mbs = min(mbs, args["n_layers"])
    free = _solve(sc, ps, "latency_cons", cap, mbs=mbs)
    assert len(set(b["frequency"] for b in free["dime"]["bundles"] if b["device"] == "edge")) <= 1
    for policy in ("max", "min"):
        try:
            fixed = solve_scenario(sc, formulation={"dime": {"mbs": mbs}, "freddi": {}},
                                   objective={"name": "latency_cons", "max_latency_s": cap}, profiles=ps,
                                   profile_frequency={"edge": policy})
        except SolverError:
            continue
        assert free["objective"] <= fixed["objective"] + 1e-9


def test_infeasible_caps_name_the_cap():
    sc, ps = make_case(1, 3, 3)
    with pytest.raises(SolverError, match=r"infeasible \(active caps: .*objective.max_latency_s = 1e-09 s"):
        _solve(sc, ps, "latency_cons", 1e-9)
    with pytest.raises(SolverError, match="objective.max_energy_J = 1e-12 J per edge device"):
        _solve(sc, ps, "energy_cons", 1e-12)


def test_composition_errors():
    sc, ps = make_case(2, 3, 3)
    with pytest.raises(ConfigError, match="requires 'bundles' \\(formulation 'dime' or 'jointdnn'\\)"):
        solve_scenario(sc, formulation=["freddi"], profiles=ps)
    with pytest.raises(ConfigError, match="objective 'energy' requires formulation 'freddi'"):
        solve_scenario(sc, formulation=["dime"], objective="energy", profiles=ps, profile_frequency={"edge": "max"})
    with pytest.raises(ConfigError, match="has 3 profiled frequencies: add freddi"):
        solve_scenario(sc, formulation=["dime"], profiles=ps)
    with pytest.raises(DataError, match="no energy_J in the bundle profiles of energy device 'cloud'"):
        solve_scenario(sc, formulation={"dime": {}, "freddi": {"energy_devices": "all"}}, objective="energy",
                       profiles=ps)


def test_radio_power_constants():
    r = load_radios()
    assert r["4g"].upload_power_W(r["4g"].up_Bps) == pytest.approx(3.8526, rel=1e-4)  # 438.39*5.85+1288.04 mW
    assert r["wifi"].up_Bps == pytest.approx(18.88e6 / 8) and r["3g"].down_Bps == pytest.approx(2.0275e6 / 8)
    assert r["wifi"].download_power_W(r["wifi"].down_Bps) == pytest.approx((137.01 * 54.97 + 132.86) / 1000)


def test_communication_energy_by_hand():
    """1 MB sent from the edge over WiFi: t = 1e6 B / (18.88 Mbit/s / 8) = 0.4237 s at
    P_up = 283.17 mW/Mbps x 18.88 Mbps + 132.86 mW = 5.479 W, so E = 2.3217 J (Eqs. (8.4)-(8.5));
    the result back (4 kB) at 54.97 Mbit/s with P_down = 137.01 x 54.97 + 132.86 mW."""
    from layerplan.io import load_network

    layers = (Layer("a", "conv", 1e6, 0, (1, 1, 250_000)), Layer("b", "linear", 1e6, 0, (1, 1, 1000)))
    dnn = DNN("hand", "major", (1, 1, 1), layers)
    devs = [Device("edge", "edge", 1e9, 1e12, 1e12, spec="pe"), Device("cloud", "cloud", 1e9, 1e12, 1e12, spec="pc")]
    net = load_network({"bandwidth_Bps": 1e9, "radio": "wifi"}, ["edge", "cloud"], devs)
    sc = build_scenario(dnn, devs, net, source_device="edge", destination_device="edge", capture_shape=(1, 1, 1),
                        preprocess=False, preassign={"a": "edge", "b": "cloud"})
    ps = ProfileSet("hand", "major")
    for lab in ("pe", "pc"):
        for i, j in ((1, 1), (2, 2), (1, 2)):
            ps.latency_s[(lab, "nominal", i, j)] = 0.01
            ps.energy_J[(lab, "nominal", i, j)] = 0.0
    res = solve_scenario(sc, formulation=["dime", "freddi"], objective="energy", profiles=ps)
    up_t = 1e6 / (18.88e6 / 8)
    up_E = (283.17 * 18.88 + 132.86) / 1000 * up_t
    down_E = (137.01 * 54.97 + 132.86) / 1000 * (4000 / (54.97e6 / 8))
    assert res["freddi"]["energy_J"]["edge"]["communication"] == pytest.approx(up_E + down_E, rel=1e-9)
    assert up_E == pytest.approx(2.3217, rel=1e-4)
