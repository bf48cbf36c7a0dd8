"""Run-path figures (issue 11): what a run costs around its solve, side by side.

    python -m layerplan.experiments.benchmark --run-path [--quick] [--reproduce]

Prints, each as the median of a few repetitions on this machine:

- wall seconds of ``python -c "import pyomo.environ"`` (the floor of any Pyomo program),
  ``python run.py tracking=none`` and ``python run.py`` (default tracking), and their ratios
  (goals: run / none <= 1.5, none / pyomo <= 2);
- in process: ``layerplan.api.solve_scenario`` on the two-device AlexNet DIME instance
  (edge_cloud, major layers, synthetic profiles; goal <= 40 ms median, result included);
- a bandwidth sweep over one built model (AlexNet on C3 with preloading, 1000 points;
  goal >= 200 solves/s);
- with ``--reproduce``: the wall time of ``python -m layerplan.experiments.reproduce`` (every
  thesis table, tracking on, a fresh folder; goal <= 120 s on 2 cores).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _settle(cwd: Path) -> None:
    """Wait for the background MLflow records of earlier runs (not timed): a recorder still
    running would slow the next timed run down on a 2-core machine."""
    from layerplan.tracking import wait_for_record

    for out in cwd.glob("outputs/*/*"):
        if (out / "tracking.log").is_file():
            try:
                wait_for_record(out, timeout_s=120)
            except Exception:
                pass


def _wall(cmd: list[str], cwd: Path, reps: int) -> float:
    env = dict(os.environ)
    if (ROOT / "pyproject.toml").is_file():
        env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - t0)
        _settle(cwd)
        if proc.returncode != 0:
            raise SystemExit(f"benchmark: {' '.join(cmd)} failed: {proc.stderr[-500:]}")
    return statistics.median(times)


def process_figures(reps: int) -> dict:
    run_py = [sys.executable, str(ROOT / "run.py")] if (ROOT / "run.py").is_file() else [sys.executable, "-m",
                                                                                           "layerplan.cli"]
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        pyomo_s = _wall([sys.executable, "-c", "import pyomo.environ"], cwd, reps)
        none_s = _wall([*run_py, "tracking=none", "print_plan=false"], cwd, reps)
        mlflow_s = _wall([*run_py, "print_plan=false"], cwd, reps)
    return {"import_pyomo_environ_s": pyomo_s, "run_tracking_none_s": none_s, "run_default_tracking_s": mlflow_s,
            "ratio_default_over_none": mlflow_s / none_s, "ratio_none_over_pyomo": none_s / pyomo_s}


def scenario_inputs(overrides: list[str]):
    """(scenario, profiles, profile map, profile frequencies) of a composed config."""
    from layerplan.api import profiles_from_cfg, scenario_from_cfg
    from layerplan.launch import compose

    cfg = compose(["tracking=none", *overrides])
    sc = scenario_from_cfg(cfg)
    profiles, pm = profiles_from_cfg(cfg, sc)
    return sc, profiles, (pm or {}).get("map") or {}, (pm or {}).get("frequency") or {}


def api_figures(reps: int, sweep_points: int) -> dict:
    import numpy as np

    from layerplan.api import solve_scenario
    from layerplan.sweep import sweep_bandwidth

    sc, profiles, pmap, pfreq = scenario_inputs(["devices=edge_cloud", "dnn.granularity=major", "profiles=synthetic",
                                                 "network.bandwidth_Bps=7.3125e5"])
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        rec = solve_scenario(sc, formulation={"dime": {}}, profiles=profiles, profile_map=pmap,
                             profile_frequency=pfreq)
        times.append(time.perf_counter() - t0)
    assert rec["status"] == "optimal"
    sc3, _, _, _ = scenario_inputs([])
    bws = list(np.logspace(5, 9, sweep_points))
    t0 = time.perf_counter()
    res = sweep_bandwidth(sc3, bws, formulation=("preload",))
    el = time.perf_counter() - t0
    assert all(r["status"] == "optimal" for r in res)
    return {"api_dime_two_device_median_ms": 1e3 * statistics.median(times),
            "sweep_bandwidth_solves_per_s": len(bws) / el, "sweep_points": len(bws),
            "sweep_method": res[-1].get("method", "milp")}


def reproduce_figure() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        proc = subprocess.run([sys.executable, "-m", "layerplan.experiments.reproduce", "--out", f"{tmp}/reports",
                               "--", f"tracking.uri=sqlite:///{tmp}/mlflow.db"], cwd=ROOT, env=env,
                              capture_output=True, text=True)
        wall = time.perf_counter() - t0
        index = Path(tmp, "reports", "README.md")
        table = index.read_text() if index.is_file() else proc.stderr[-2000:]
    return {"reproduce_wall_s": wall, "reproduce_exit": proc.returncode, "reproduce_index": table}


def main(quick: bool = False, reproduce: bool = False) -> int:
    reps = 3 if quick else 5
    figs = process_figures(reps)
    figs.update(api_figures(10 if quick else 30, 200 if quick else 1000))
    print(f"{'import pyomo.environ':<40} {figs['import_pyomo_environ_s']:8.3f} s")
    print(f"{'run.py tracking=none':<40} {figs['run_tracking_none_s']:8.3f} s   "
          f"{figs['ratio_none_over_pyomo']:.2f}x pyomo (goal <= 2)")
    print(f"{'run.py (default tracking)':<40} {figs['run_default_tracking_s']:8.3f} s   "
          f"{figs['ratio_default_over_none']:.2f}x none (goal <= 1.5)")
    print(f"{'api: DIME, 2 devices, AlexNet (median)':<40} {figs['api_dime_two_device_median_ms']:8.1f} ms  (goal <= 40)")
    print(f"{'sweep: AlexNet/C3 bandwidths':<40} {figs['sweep_bandwidth_solves_per_s']:8.1f} solves/s over "
          f"{figs['sweep_points']} points, {figs['sweep_method']} (goal >= 200)")
    if reproduce:
        r = reproduce_figure()
        figs.update({k: v for k, v in r.items() if k != "reproduce_index"})
        print(f"{'reproduce (every thesis table, tracking)':<40} {r['reproduce_wall_s']:8.1f} s  (goal <= 120), "
              f"exit {r['reproduce_exit']}")
        print(r["reproduce_index"])
    print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in figs.items()}))
    return 0
