"""Pareto front command (experiments/pareto.py) against enumeration over (split, frequency)."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

from layerplan.bundle_eval import actual_latency_s, device_energy_J, single_entry_plans
from layerplan.experiments.pareto import pareto_front
from layerplan.latency import analytic_params
from layerplan.profiles import bundle_latency
from tests.component.test_freddi import make_case

pytestmark = pytest.mark.component
ROOT = Path(__file__).resolve().parents[2]


def enumerated_front(sc, ps):
    """Non-dominated (T, E) over every single-entry plan and edge frequency."""
    p = analytic_params(sc)
    p.bundles = bundle_latency(p, ps, None, {d.name: d.spec for d in sc.devices})
    bl, e_dev = p.bundles, 0
    pts = []
    for a in single_entry_plans(p):
        for fe in range(len(bl.freqs[e_dev])):
            T = actual_latency_s(p, a, [fe] + [0] * (p.n_devices - 1))["total"]
            E = device_energy_J(p, a, [fe] + [0] * (p.n_devices - 1), e_dev)
            pts.append((T, E))
    front = []
    for T, E in sorted(pts):
        if any(t <= T + 1e-9 and e <= E + 1e-12 for t, e in front):
            continue
        front.append((T, E))
    return front


@pytest.mark.parametrize("seed,n_layers,n_freq,radio,hub", [
    (1, 3, 3, "wifi", False), (2, 4, 4, "3g", False), (3, 4, 2, "4g", True), (4, 2, 4, "wifi", True),
    (5, 5, 3, "wifi", False), (6, 3, 1, "3g", False),
    (109, 4, 2, "3g", False),  # HiGHS presolve wrongly reports the E <= E* step infeasible here
])
def test_front_equals_enumeration(seed, n_layers, n_freq, radio, hub):
    sc, ps = make_case(seed, n_layers, n_freq, radio, hub)
    got = [(p["latency_s"], p["energy_J"]) for p in pareto_front(sc, ps)]
    want = enumerated_front(sc, ps)
    assert len(got) == len(want), (got, want)
    for (t, e), (t2, e2) in zip(got, want):
        assert math.isclose(t, t2, rel_tol=1e-6, abs_tol=1e-9)
        assert math.isclose(e, e2, rel_tol=1e-6, abs_tol=1e-9)
    # non-dominated and strictly ordered
    assert all(a[0] < b[0] and a[1] > b[1] for a, b in zip(got, got[1:]))


def test_cli_front_and_bad_input(tmp_path):
    env_cmd = [sys.executable, "-m", "layerplan.experiments.pareto", "tracking=none", "devices=edge_cloud",
               "dnn.granularity=major", "profiles=dvfs", "+profiles.map.edge=jetson_nano", "network=wifi",
               "+method=freddi", "--out", str(tmp_path / "front")]
    r = subprocess.run(env_cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "front" / "pareto.csv").is_file() and (tmp_path / "front" / "pareto.png").is_file()
    rows = (tmp_path / "front" / "pareto.csv").read_text().splitlines()
    assert len(rows) >= 3 and rows[0].startswith("point,latency_s,energy_J,frequency_MHz,split")
    bad = subprocess.run([sys.executable, "-m", "layerplan.experiments.pareto", "nosuchkey=1", "--out",
                          str(tmp_path / "x")], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2
    err = [ln for ln in bad.stderr.splitlines() if ln.strip()]
    assert len(err) == 1 and err[0].startswith("layerplan: error:")
    nof = subprocess.run([sys.executable, "-m", "layerplan.experiments.pareto", "devices=edge_cloud",
                          "dnn.granularity=major", "profiles=dvfs", "+method=dime", "--out", str(tmp_path / "y")],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert nof.returncode == 2 and "freddi" in nof.stderr
