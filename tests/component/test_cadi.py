"""CADI (Ch. 9): hand-worked hold times, both forms against enumeration, N = 2 agreement."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from layerplan.api import solve_built, solve_scenario
from layerplan.build import build_model, compose
from layerplan.bundle_eval import actual_latency_s, single_entry_plans
from layerplan.cadi_eval import plan_metrics
from layerplan.errors import ConfigError
from layerplan.io import load_network
from layerplan.latency import analytic_params
from layerplan.profiles import ProfileSet, bundle_latency
from layerplan.results import collect
from layerplan.scenario import DNN, Device, Layer, Network, build_scenario

OBJECTIVES = ("carbon", "energy_single", "carbon_per_inference")


def make_case(seed: int, n_layers: int, n_freq: int, n_dev: int = 2, radio: str = "wifi"):
    """Edge devices e0 (source and destination), e1, ... with DVFS profiles, idle power and
    a radio link; small activations so that splitting is sometimes worth it."""
    rng = np.random.default_rng(seed)
    layers = tuple(Layer(f"l{i}", "conv", 1e8, 1e4, (1, 1, int(rng.integers(10, 3e3)))) for i in range(n_layers))
    dnn = DNN("toy", "major", (8, 8, 3), layers)
    devs = [Device(f"e{k}", "edge", 1e9, 1e9, 1e9, spec=f"p{k}", idle_power_W=float(rng.uniform(0.5, 2.0)))
            for k in range(n_dev)]
    net = load_network({"bandwidth_Bps": 1e9, "radio": radio}, [d.name for d in devs], devs)
    sc = build_scenario(dnn, devs, net, source_device="e0", destination_device="e0", capture_shape=(8, 8, 3),
                        preprocess=False)
    ps = ProfileSet("toy", "major")
    for k in range(n_dev):
        freqs = [f"{f:.6g}" for f in np.linspace(5e8, 1.2e9, n_freq)]
        base = rng.uniform(0.005, 0.05, n_layers) * rng.uniform(0.3, 2.0)
        for fi, f in enumerate(freqs):
            speed = 1 + 0.8 * fi / max(1, n_freq - 1)
            power = 1 + 1.5 * fi / max(1, n_freq - 1) * rng.uniform(0.8, 1.2)
            for i in range(1, n_layers + 1):
                for j in range(i, n_layers + 1):
                    t = float(base[i - 1:j].sum() / speed * (1 + 0.2 * (j - i) / n_layers))
                    ps.latency_s[(f"p{k}", f, i, j)] = t
                    ps.energy_J[(f"p{k}", f, i, j)] = t * 2.0 * power
    carbon = {f"e{k}": float(10 ** rng.uniform(-2.5, -0.5)) for k in range(n_dev)}
    return sc, ps, carbon


def params_of(sc, ps):
    p = analytic_params(sc)
    p.bundles = bundle_latency(p, ps, None, {d.name: d.spec for d in sc.devices})
    return p


def enumerate_cadi(sc, ps, carbon, objective, *, two_device=False, cap=None, min_inferences=None):
    """Min of the objective over every single-entry plan and frequency vector (DIME with
    MBS = L runs one bundle per device); two_device keeps plans whose first real layer is
    on the source (split after l >= 1, or the source alone)."""
    p = params_of(sc, ps)
    idle = {d.name: d.idle_power_W for d in sc.devices}
    best = math.inf
    for a in single_entry_plans(p):
        if two_device and a[p.bundles.real_layers[0]] != 0:
            continue
        for fr in itertools.product(*[range(len(f)) for f in p.bundles.freqs]):
            fr = list(fr)
            if cap is not None and actual_latency_s(p, a, fr)["total"] > cap * (1 + 1e-9):
                continue
            m = plan_metrics(p, a, fr, energy_devices=list(p.devices), idle_power_W=idle, carbon_mg_per_J=carbon)
            if min_inferences is not None and m.inferences < min_inferences * (1 - 1e-9):
                continue
            val = {"carbon": m.carbon_total_mg, "energy_single": m.energy_total_J,
                   "carbon_per_inference": m.carbon_per_inference_mg}[objective]
            best = min(best, val)
    return best


def solve_cadi(sc, ps, carbon, objective, form="general", cap=None, constraints=None, **cadi):
    obj = {"name": objective}
    if cap is not None:
        obj["max_latency_s"] = cap
    return solve_scenario(sc, formulation={"dime": {}, "freddi": {"energy_devices": "all"},
                                           "cadi": {"form": form, "carbon_intensity_mg_per_J": carbon, **cadi}},
                          objective=obj, constraints=constraints, profiles=ps)


# -- hand-worked two-device example, both cases of Fig. 9.2 ---------------------------------

def hand_case(t_s: float, t_p: float):
    """Two real layers; the source runs layer 1 in t_s, the partner layer 2 in t_p (one
    frequency). Transfers: 0.05 s source -> partner, 0.01 s partner -> source (1 MB/s,
    5e4 and 1e4 bytes); internal copies are free (1e18 B/s)."""
    layers = (Layer("a", "conv", 1.0, 0.0, (1, 1, 12500)), Layer("b", "conv", 1.0, 0.0, (1, 1, 2500)))
    dnn = DNN("hand", "major", (1, 1, 1), layers)
    devs = [Device("s", "edge", 1e9, 1e18, 1e18, spec="S", idle_power_W=1.5),
            Device("p", "edge", 1e9, 1e18, 1e18, spec="P", idle_power_W=2.0)]
    sc = build_scenario(dnn, devs, Network(1e6), source_device="s", destination_device="s", capture_shape=(1, 1, 1),
                        preprocess=False)
    ps = ProfileSet("hand", "major")
    for lab, t1, t2 in (("S", t_s, t_p), ("P", t_s, t_p)):
        ps.latency_s[(lab, "nominal", 1, 1)] = t1
        ps.latency_s[(lab, "nominal", 2, 2)] = t2
        ps.latency_s[(lab, "nominal", 1, 2)] = t1 + t2
        ps.energy_J[(lab, "nominal", 1, 1)] = 3.0 * t1
        ps.energy_J[(lab, "nominal", 2, 2)] = 3.0 * t2
        ps.energy_J[(lab, "nominal", 1, 2)] = 3.0 * (t1 + t2)
    return sc, ps


@pytest.mark.parametrize(
    "t_s, t_p, cycle, hold_s, hold_p, thesis_hold_s, thesis_hold_p",
    [
        # top of Fig. 9.2, t^c_s >= t^c_p: tau = max(0.30 + 0.05, 0.10 + 0.01) = 0.35;
        # the partner holds 0.35 - 0.11 = 0.24 s (thesis text: t^c_s - t^c_p = 0.20 s)
        (0.30, 0.10, 0.35, 0.0, 0.24, 0.0, 0.20),
        # bottom, t^c_s < t^c_p: tau = max(0.10 + 0.05, 0.30 + 0.01) = 0.31;
        # the source holds 0.31 - 0.15 = 0.16 s (thesis text: t^c_p - t^c_s = 0.20 s)
        (0.10, 0.30, 0.31, 0.16, 0.0, 0.20, 0.0),
    ],
)
def test_hand_worked_hold_times(t_s, t_p, cycle, hold_s, hold_p, thesis_hold_s, thesis_hold_p):
    sc, ps = hand_case(t_s, t_p)
    C = {"s": 0.15, "p": 0.07}  # mgCO2/J
    for hold_time, hs, hp in (("cycle", hold_s, hold_p), ("compute", thesis_hold_s, thesis_hold_p)):
        r = solve_cadi(sc, ps, C, "carbon", form="two_device", hold_time=hold_time,
                       constraints={"pin": {"layers": {"b": "p"}}})
        c = r["cadi"]
        I = 3600.0 / cycle  # Eq. (9.1)
        assert c["cycle_s"] == pytest.approx(cycle, rel=1e-9)
        assert c["inferences"] == pytest.approx(I, rel=1e-9)
        dev = c["per_device"]
        assert dev["s"]["hold_s"] == pytest.approx(hs, abs=1e-9)
        assert dev["p"]["hold_s"] == pytest.approx(hp, abs=1e-9)
        assert dev["s"]["hold_energy_J"] == pytest.approx(1.5 * hs, abs=1e-9)  # Eq. (9.2)
        ef_s = I * (3.0 * t_s + 1.5 * hs)  # Eq. (9.4): compute energy + hold energy, no radio
        ef_p = I * (3.0 * t_p + 2.0 * hp)
        assert dev["s"]["energy_footprint_J"] == pytest.approx(ef_s, rel=1e-9)
        assert dev["p"]["energy_footprint_J"] == pytest.approx(ef_p, rel=1e-9)
        cf = 0.15 * ef_s + 0.07 * ef_p  # Eq. (9.5)
        assert c["carbon_footprint_mg"] == pytest.approx(cf, rel=1e-9)
        assert r["objective"] == pytest.approx(cf, rel=1e-9)
        assert c["transition_layer"] == "a"
        if hold_time == "cycle":
            g = solve_cadi(sc, ps, C, "carbon", constraints={"pin": {"layers": {"a": "s", "b": "p"}}})
            assert g["objective"] == pytest.approx(cf, rel=1e-9)


def test_single_device_plan_has_no_hold_and_no_partner_energy():
    sc, ps = hand_case(0.10, 0.30)
    C = {"s": 0.15, "p": 0.07}
    r = solve_cadi(sc, ps, C, "energy_single", form="two_device")  # the partner only adds transfers
    c = r["cadi"]
    assert c["transition_layer"] is None
    assert c["cycle_s"] == pytest.approx(0.40)
    assert c["per_device"]["p"]["energy_footprint_J"] == 0.0
    assert c["per_device"]["s"]["hold_s"] == pytest.approx(0.0, abs=1e-12)
    assert c["carbon_footprint_mg"] == pytest.approx(0.15 * 3600 / 0.40 * 3.0 * 0.40)
    idle = solve_cadi(sc, ps, C, "energy_single", form="two_device", idle_unused=True)["cadi"]
    assert idle["per_device"]["p"]["hold_energy_J"] == pytest.approx(2.0 * 0.40)


# -- ILP == enumeration --------------------------------------------------------------------

CASES = [(seed, n_layers, n_freq, n_dev) for seed, (n_layers, n_freq, n_dev) in enumerate(
    [(2, 1, 2), (3, 2, 2), (4, 3, 2), (3, 3, 2), (4, 2, 2), (2, 3, 2), (3, 1, 3), (3, 2, 3), (4, 1, 3)])]


@pytest.mark.parametrize("seed, n_layers, n_freq, n_dev", CASES)
@pytest.mark.parametrize("objective", OBJECTIVES)
def test_general_form_equals_enumeration(seed, n_layers, n_freq, n_dev, objective):
    sc, ps, C = make_case(seed, n_layers, n_freq, n_dev)
    r = solve_cadi(sc, ps, C, objective)
    assert r["objective"] == pytest.approx(enumerate_cadi(sc, ps, C, objective), rel=1e-6)
    # the reported plan is what the objective says (evaluated independently)
    key = {"carbon": "carbon_footprint_mg", "energy_single": "energy_J",
           "carbon_per_inference": "carbon_per_inference_mg"}[objective]
    assert r["cadi"][key] == pytest.approx(r["objective"], rel=1e-6)


@pytest.mark.parametrize("seed, n_layers, n_freq, n_dev", [c for c in CASES if c[3] == 2])
@pytest.mark.parametrize("objective", OBJECTIVES)
def test_two_device_form_equals_enumeration(seed, n_layers, n_freq, n_dev, objective):
    sc, ps, C = make_case(seed, n_layers, n_freq, n_dev)
    r = solve_cadi(sc, ps, C, objective, form="two_device")
    assert r["objective"] == pytest.approx(enumerate_cadi(sc, ps, C, objective, two_device=True), rel=1e-6)


@pytest.mark.parametrize("seed", range(4))
def test_latency_cap_and_throughput_floor_against_enumeration(seed):
    sc, ps, C = make_case(40 + seed, 3, 2, 2)
    p = params_of(sc, ps)
    lat = sorted(actual_latency_s(p, a, list(fr))["total"] for a in single_entry_plans(p)
                 for fr in itertools.product(*[range(len(f)) for f in p.bundles.freqs]))
    cap = lat[len(lat) // 3]
    for form in ("general", "two_device"):
        r = solve_cadi(sc, ps, C, "carbon", form=form, cap=cap)
        assert r["objective"] == pytest.approx(
            enumerate_cadi(sc, ps, C, "carbon", two_device=form == "two_device", cap=cap), rel=1e-6)
        assert r["latency_s"]["total"] <= cap * (1 + 1e-6)
    floor = r["cadi"]["inferences"] * 1.3
    for form in ("general", "two_device"):
        want = enumerate_cadi(sc, ps, C, "carbon", two_device=form == "two_device", min_inferences=floor)
        if math.isinf(want):
            continue
        r = solve_cadi(sc, ps, C, "carbon", form=form, constraints={"min_inferences": {"count": floor}})
        assert r["objective"] == pytest.approx(want, rel=1e-6)
        assert r["cadi"]["inferences"] >= floor * (1 - 1e-6)


def test_carbon_objective_prefers_slower_plans_than_carbon_per_inference():
    """CF over U rewards fewer inferences; G per inference does not: over the random cases
    the carbon-optimal plan never runs more inferences than the G-optimal plan does while
    emitting less per hour."""
    for seed, n_layers, n_freq, n_dev in CASES:
        sc, ps, C = make_case(seed, n_layers, n_freq, n_dev)
        a = solve_cadi(sc, ps, C, "carbon")["cadi"]
        b = solve_cadi(sc, ps, C, "carbon_per_inference")["cadi"]
        assert a["carbon_footprint_mg"] <= b["carbon_footprint_mg"] * (1 + 1e-9)
        assert a["carbon_per_inference_mg"] >= b["carbon_per_inference_mg"] * (1 - 1e-9)


# -- the two forms agree for N = 2 ----------------------------------------------------------

def _fixed_plan(sc, ps, C, form, k, fs, fp):
    comp = compose({"dime": {}, "freddi": {"energy_devices": "all"},
                    "cadi": {"form": form, "carbon_intensity_mg_per_J": C}}, None, {"name": "carbon"})
    p = params_of(sc, ps)
    built = build_model(sc, p, comp)
    y = built.model.dime.y
    R = p.bundles.real_layers
    want = {(R[0], R[k - 1], "e0", fs)}
    if k < len(R):
        want.add((R[k], R[-1], "e1", fp))
    for key in y:
        y[key].fix(1 if key in want else 0)
    return collect(built, solve_built(built))


@pytest.mark.parametrize("seed", range(3))
def test_forms_agree_on_every_two_device_plan(seed):
    sc, ps, C = make_case(70 + seed, 3, 2, 2)
    L = 3
    for k in range(1, L + 1):
        for fs in range(2):
            for fp in (range(2) if k < L else [0]):
                two = _fixed_plan(sc, ps, C, "two_device", k, fs, fp)
                gen = _fixed_plan(sc, ps, C, "general", k, fs, fp)
                assert two["objective"] == pytest.approx(gen["objective"], rel=1e-9)
                for key in ("cycle_s", "inferences", "energy_J", "energy_footprint_J", "carbon_footprint_mg"):
                    assert two["cadi"][key] == pytest.approx(gen["cadi"][key], rel=1e-9), key
                for d in ("e0", "e1"):
                    for key in ("hold_s", "hold_energy_J", "energy_footprint_J"):
                        assert two["cadi"]["per_device"][d][key] == pytest.approx(
                            gen["cadi"]["per_device"][d][key], rel=1e-9, abs=1e-12)
                assert two["cadi"]["model_cycle_s"] == pytest.approx(gen["cadi"]["model_cycle_s"], rel=1e-7)


def test_dinkelbach_steps_decrease_to_the_optimal_ratio():
    sc, ps, C = make_case(0, 4, 3, 2)
    r = solve_cadi(sc, ps, C, "carbon")
    steps = r["carbon"]["steps"]
    assert r["carbon"]["method"] == "dinkelbach" and len(steps) >= 2
    lams = [s["lambda_mg_per_s"] for s in steps[1:]]
    assert all(b < a for a, b in zip(lams, lams[1:]))
    assert r["objective"] == pytest.approx(3600 * lams[-1], rel=1e-6)


def test_carbon_intensity_is_mutable_for_re_solving():
    from layerplan.sweep import resolve_with

    sc, ps, C = make_case(3, 3, 2, 2)
    comp = compose({"dime": {}, "freddi": {"energy_devices": "all"}, "cadi": {"carbon_intensity_mg_per_J": C}},
                   None, {"name": "carbon"})
    built = build_model(sc, params_of(sc, ps), comp)
    collect(built, solve_built(built))
    C2 = {"e0": C["e1"] * 5, "e1": C["e0"] / 5}
    again = resolve_with(built, {f"cadi.carbon_intensity[{d}]": v for d, v in C2.items()})
    fresh = solve_cadi(sc, ps, C2, "carbon")
    assert again["objective"] == pytest.approx(fresh["objective"], rel=1e-9)


# -- clear errors -----------------------------------------------------------------------------

def test_configuration_errors_are_one_line():
    sc, ps, C = make_case(1, 3, 1, 3)
    with pytest.raises(ConfigError, match="exactly two devices"):
        solve_cadi(sc, ps, C, "carbon", form="two_device")
    with pytest.raises(ConfigError, match="carbon intensity of device 'e2'"):
        solve_cadi(sc, ps, {"e0": 0.1, "e1": 0.1}, "carbon")
    with pytest.raises(ConfigError, match="hold_time=compute"):
        solve_cadi(sc, ps, C, "carbon", hold_time="compute")
    with pytest.raises(ConfigError, match="unknown device 'nope'"):
        solve_cadi(sc, ps, {**C, "nope": 0.1}, "carbon")
    with pytest.raises(ConfigError, match="cadi"):
        solve_scenario(sc, formulation=["dime", "freddi"], objective="carbon", profiles=ps)
    with pytest.raises(ConfigError, match="mbs"):
        sc2, ps2, C2 = make_case(1, 3, 1, 2)
        solve_scenario(sc2, formulation={"dime": {"mbs": 2}, "freddi": {"energy_devices": "all"},
                                         "cadi": {"form": "two_device", "carbon_intensity_mg_per_J": C2}},
                       objective="carbon", profiles=ps2)
    # energy_single needs no carbon intensity
    r = solve_scenario(sc, formulation={"dime": {}, "freddi": {"energy_devices": "all"}, "cadi": {}},
                       objective="energy_single", profiles=ps)
    assert r["cadi"]["carbon_intensity_mg_per_J"] is None and "carbon_footprint_mg" not in r["cadi"]


@pytest.mark.parametrize("form", ["general", "two_device"])
def test_single_device_can_be_excluded(form):
    """single_device=false keeps Eq. (9.4)'s range l = 1..L-1: the optimum over split plans."""
    for seed, n_layers, n_freq, n_dev in [c for c in CASES if c[3] == 2][:4]:
        sc, ps, C = make_case(seed, n_layers, n_freq, n_dev)
        r = solve_cadi(sc, ps, C, "carbon", form=form, single_device=False)
        assert r["cadi"]["transition_layer"] is not None
        p = params_of(sc, ps)
        idle = {d.name: d.idle_power_W for d in sc.devices}
        best = min(plan_metrics(p, a, list(fr), energy_devices=list(p.devices), idle_power_W=idle,
                                carbon_mg_per_J=C).carbon_total_mg
                   for a in single_entry_plans(p) if len({a[l] for l in p.bundles.real_layers} | {a[0]}) == 2
                   and (form == "general" or a[p.bundles.real_layers[0]] == 0)
                   for fr in itertools.product(*[range(len(f)) for f in p.bundles.freqs]))
        assert r["objective"] == pytest.approx(best, rel=1e-6)


def test_single_device_comparison_by_hand():
    """Table 9.2's single device at the same I: the source runs I inferences, then waits."""
    sc, ps = hand_case(0.08, 0.04)  # tau = max(0.08 + 0.05, 0.04 + 0.01) = 0.13 s; alone: 0.12 s
    C = {"s": 0.15, "p": 0.07}
    c = solve_cadi(sc, ps, C, "carbon", form="two_device", single_device=False)["cadi"]
    I = 3600 / 0.13
    same = c["single_device_same_inferences"]
    assert same["inferences"] == pytest.approx(I)
    assert same["wait_s"] == pytest.approx(3600 - I * 0.12)
    ef = I * 3.0 * 0.12 + 1.5 * (3600 - I * 0.12)  # I inferences of 0.12 s at 3 W, idle 1.5 W for the rest
    assert same["energy_footprint_J"] == pytest.approx(ef)
    assert same["carbon_footprint_mg"] == pytest.approx(0.15 * ef)
    assert c["source_alone"]["inferences"] == pytest.approx(3600 / 0.12)
    assert c["source_alone"]["carbon_footprint_mg"] == pytest.approx(0.15 * 3600 / 0.12 * 0.36)
    # the source alone cannot match I = 3600 / 0.31 inferences of 0.40 s each
    slow = solve_cadi(*hand_case(0.10, 0.30), C, "carbon", form="two_device", single_device=False)["cadi"]
    assert slow["single_device_same_inferences"] is None


def test_cadi_figures_are_mlflow_metrics():
    from layerplan.tracking import metrics_of

    sc, ps, C = make_case(2, 3, 2, 2)
    r = solve_cadi(sc, ps, C, "carbon")
    m = metrics_of(r)
    assert m["cadi.carbon_footprint_mg"] == pytest.approx(r["objective"])
    assert m["cadi.inferences"] == pytest.approx(r["cadi"]["inferences"])
    assert m["cadi.e0.energy_footprint_J"] == pytest.approx(r["cadi"]["per_device"]["e0"]["energy_footprint_J"])
