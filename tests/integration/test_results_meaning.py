"""Results say what they mean (issue 10): actual vs estimated latency, units, numbers in
Hz, the radio model of energy objectives, and a status that reflects the proven gap."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from hydra import compose, initialize_config_module

from layerplan.api import solve_config
from layerplan.errors import ConfigError

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def _cfg(*overrides):
    with initialize_config_module(config_module="layerplan.conf", version_base="1.3"):
        return compose(config_name="config", overrides=["tracking=none", *overrides])


def test_jointdnn_reports_actual_latency_and_cannot_beat_the_exhaustive_optimum():
    """JointDNN's ILP under-estimates (bundles profiled separately); latency_s.total must be
    the plan's actual latency, so it can never undercut the exhaustive optimum."""
    common = ("devices=edge_cloud", "profiles=synthetic", "dnn.granularity=major", "network.bandwidth_Bps=7.3125e5")
    joint = solve_config(_cfg(*common, "+formulation=[jointdnn]"))
    best = solve_config(_cfg(*common, "+formulation=[dime]", "baseline=exhaustive"))
    lat = joint["latency_s"]
    assert lat["total"] == pytest.approx(joint["jointdnn"]["actual_latency_s"]["total"])
    assert lat["estimated"] == pytest.approx(joint["objective"], rel=1e-6)
    assert lat["estimated"] == pytest.approx(joint["latency_estimated_s"]["total"])
    assert lat["total"] == pytest.approx(lat["compute"] + lat["communication"] + lat["weight"])
    assert lat["total"] >= best["latency_s"]["total"] - 1e-12
    # the estimate really differs here, so the test would catch the old behaviour
    assert lat["estimated"] < lat["total"] - 1e-6


def test_frequencies_are_numbers_in_hz_and_every_figure_has_a_unit():
    from layerplan.figures import figure_lines, unit_metrics
    from layerplan.results import format_plan

    res = solve_config(_cfg("+formulation=[dime,freddi]", "objective=latency_cons"))
    freq = res["freddi"]["frequency"]["edge"]
    assert isinstance(freq, float) and 1e8 < freq < 2e9
    assert res["freddi"]["frequency_label"]["edge"]  # the profile's own label is kept
    assert all(isinstance(b["frequency"], float) for b in res["dime"]["bundles"])
    m = unit_metrics(res)
    assert m["objective_J"] == pytest.approx(res["objective"])
    assert m["frequency_Hz.edge"] == freq
    assert m["energy_J.edge.total"] == pytest.approx(res["freddi"]["energy_J"]["edge"]["total"])
    text = format_plan(res)
    assert f"objective {res['objective']:.6g} J" in text
    assert "energy (J): edge" in text and "frequency (Hz): edge" in text
    assert "latency (s, actual)" in text and "latency estimated by the ILP (s)" in text
    assert figure_lines(res)
    # stored as a number in result.json, not a string
    assert json.loads(json.dumps(res["freddi"]["frequency"]))["edge"] == freq


def test_objective_units_follow_the_objective():
    from layerplan.figures import objective_unit

    assert objective_unit({"objective_name": "latency"}) == "s"
    assert objective_unit({"objective_name": "energy_cons"}) == "s"
    assert objective_unit({"objective_name": "energy"}) == "J"
    assert objective_unit({"objective_name": "carbon"}) == "mgCO2"


def test_energy_objective_without_radio_model_is_refused():
    with pytest.raises(ConfigError, match=r"network.radio: objective 'energy' counts energy, but no radio power model "
                                          r"covers edge .*network.radio=none"):
        solve_config(_cfg("+formulation=[dime,freddi]", "objective=energy", "network=default"))


def test_explicit_radio_none_is_stated_in_the_result():
    res = solve_config(_cfg("+formulation=[dime,freddi]", "objective=energy", "network=default", "network.radio=none"))
    assert res["status"] == "optimal"
    assert "network.radio=none" in res["radio_note"] and "0 J" in res["radio_note"]
    from layerplan.results import format_plan

    assert "network: network.radio=none" in format_plan(res)


def test_a_solve_without_a_proven_gap_is_not_optimal():
    """A solver that stops on its absolute-gap criterion with bound 0 (gap 1.0) on a badly
    scaled model says "optimal"; layerplan must say "feasible" and keep the gap."""
    import pyomo.environ as pyo
    from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition

    from layerplan.solve import solve

    class FakeOpt:
        def solve(self, model, **kw):
            return SimpleNamespace(termination_condition=TerminationCondition.convergenceCriteriaSatisfied,
                                   solution_status=SolutionStatus.optimal, incumbent_objective=1e-7,
                                   objective_bound=0.0, solution_loader=SimpleNamespace(load_vars=lambda: None))

        def version(self):
            return (0, 0, 0)

    m = pyo.ConcreteModel()
    m.x = pyo.Var(domain=pyo.Binary)
    m.o = pyo.Objective(expr=m.x)
    r = solve(m, {"name": "highs", "mip_rel_gap": 1e-9}, opt=FakeOpt())
    assert r.status == "feasible" and r.gap == pytest.approx(1.0)


@pytest.mark.slow
def test_gurobi_licence_limit_is_one_line_and_quiet(tmp_path):
    from layerplan.solve import solver_available

    if not solver_available("gurobi"):
        pytest.skip("gurobipy not installed")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, str(ROOT / "run.py"), "tracking=none", "solver=gurobi", "dnn=vit_b_16",
                           "devices=c3", "model.linearization=and"], cwd=tmp_path, capture_output=True, text=True,
                          env=env, timeout=300)
    if proc.returncode == 0:
        pytest.skip("this Gurobi license is not size-limited")
    assert proc.returncode == 3
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "size-limited license" in lines[0], lines


@pytest.mark.slow
def test_read_only_mlflow_store_is_one_line_and_keeps_result(tmp_path):
    import shutil

    if shutil.which("chattr") is None:
        pytest.skip("chattr not available")
    store = tmp_path / "store"
    store.mkdir()
    if subprocess.run(["chattr", "+i", str(store)], capture_output=True).returncode != 0:
        pytest.skip("cannot make a folder immutable here")
    try:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = subprocess.run([sys.executable, str(ROOT / "run.py"), f"tracking.uri=sqlite:///{store}/m.db"],
                              cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300)
    finally:
        subprocess.run(["chattr", "-i", str(store)])
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("layerplan: error: tracking: uri: could not record the run"), lines
    assert "result.json is kept" in lines[0]
    result = [ln for ln in proc.stdout.splitlines() if ln.startswith("result: ")][-1].split("result: ")[1]
    assert json.loads(Path(result).read_text())["status"] == "optimal"


@pytest.mark.slow
def test_mlflow_metrics_carry_units(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    uri = f"sqlite:///{tmp_path / 'store.db'}"
    proc = subprocess.run([sys.executable, str(ROOT / "run.py"), "+formulation=[jointdnn,freddi]", "objective=latency_cons",
                           f"tracking.uri={uri}"], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    import mlflow

    from layerplan.tracking import wait_for_record

    out_dir = Path([ln for ln in proc.stdout.splitlines() if ln.startswith("result: ")][-1].split("result: ")[1]).parent
    if not (out_dir / "tracking.json").is_file() and (out_dir / "tracking_pending.json").is_file():
        wait_for_record(out_dir, timeout_s=120)  # the record is written in the background
    client = mlflow.MlflowClient(tracking_uri=uri)
    run = client.search_runs([client.get_experiment_by_name("layerplan").experiment_id])[0]
    m = run.data.metrics
    assert {"objective_J", "latency_s.total", "latency_s.estimated", "energy_J.edge.total", "frequency_Hz.edge"} <= set(m)
    assert m["frequency_Hz.edge"] > 1e8
