"""Shared fixtures and strategies: small random scenarios for the component tier."""

from __future__ import annotations

import os

import numpy as np
import pytest

# The tests of the formulations exercise the Pyomo models: solver configs that do not name
# a backend use Pyomo here (the library's default is auto: DP / direct HiGHS before any
# Pyomo build, layerplan.plan_record). Tests of the fast paths pass backend/fast_path
# explicitly; Hydra runs (run.py) read conf/solver/*.yaml, which names the backend.
os.environ.setdefault("LAYERPLAN_SOLVER_BACKEND", "pyomo")
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

# CI draws the same examples at every run (.ci/run sets LAYERPLAN_HYPOTHESIS_PROFILE=ci), so a
# landing is decided by the code, not by the draw; a plain `pytest` draws new examples each
# run and keeps exploring (a failure prints the example to pin with @example).
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("LAYERPLAN_HYPOTHESIS_PROFILE"):
    hypothesis_settings.load_profile(os.environ["LAYERPLAN_HYPOTHESIS_PROFILE"])

from layerplan.scenario import DNN, Device, Layer, Network, build_scenario


def random_scenario(seed: int, n_layers: int, n_devices: int, *, memory: str = "off", pins: int = 0,
                    exec_prob: bool = False, network_Bps: float | None = None):
    """A random chain on random devices. memory: off | loose | binding."""
    rng = np.random.default_rng(seed)
    layers = []
    for i in range(n_layers):
        p = float(rng.choice([1.0, 1.0, rng.uniform(0.2, 1.0)])) if exec_prob else 1.0
        layers.append(
            Layer(
                name=f"l{i}",
                kind=str(rng.choice(["conv", "linear", "relu"])),
                flop=float(rng.integers(0, 5e9)),
                weights=float(rng.choice([0, rng.integers(1e3, 5e7)])),
                out_shape=(1, int(rng.integers(1, 300)), int(rng.integers(1, 3000))),
                exec_prob=p,
            )
        )
    dnn = DNN("rand", "module", (16, 16, 3), tuple(layers))
    total_w = sum(layer.weight_bytes for layer in layers)
    devices = []
    for d in range(n_devices):
        mem = float("inf")
        if memory == "loose":
            mem = total_w * 2 + 1
        elif memory == "binding":
            mem = total_w * float(rng.uniform(0.35, 0.8)) + 1
        devices.append(
            Device(
                name=f"D{d}",
                device_class=["edge", "hub", "cloud"][d % 3],
                flops_per_s=float(10 ** rng.uniform(9, 12.5)),
                internal_bandwidth_Bps=float(10 ** rng.uniform(8.5, 11.5)),
                external_bandwidth_Bps=float(10 ** rng.uniform(6, 8.5)),
                memory_B=mem,
            )
        )
    links = {}
    for a in range(n_devices):
        for b in range(n_devices):
            if a != b and rng.random() < 0.3:
                links[(f"D{a}", f"D{b}")] = float(10 ** rng.uniform(5, 8))
    net = Network(network_Bps or float(10 ** rng.uniform(5, 8)), links)
    pinned = {}
    for _ in range(pins):
        pinned[f"l{int(rng.integers(0, n_layers))}"] = f"D{int(rng.integers(0, n_devices))}"
    return build_scenario(dnn, devices, net, source_device="D0", destination_device="D0",
                          capture_shape=(32, 32, 3), preprocess=bool(rng.random() < 0.5), preassign=pinned)


scenario_args = st.fixed_dictionaries(
    {
        "seed": st.integers(0, 2**31 - 1),
        "n_layers": st.integers(1, 4),
        "n_devices": st.integers(1, 3),
    }
)


@pytest.fixture
def no_tracking(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run_experiment(tmp, name: str, *overrides: str, timeout: int = 120):
    """Run ``run.py experiment=<name>`` as a subprocess (no tracking, layerplan's sweep engine)
    with its sweep folder under ``tmp/sweep``; assert it succeeded and return that folder."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    sweep = Path(tmp) / "sweep"
    env = dict(os.environ, PYTHONPATH=str(root) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [sys.executable, str(root / "run.py"), f"experiment={name}", "tracking=none",
           f"hydra.sweep.dir={sweep}", *overrides]
    proc = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return sweep
