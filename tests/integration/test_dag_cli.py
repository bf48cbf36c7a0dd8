"""Integration tier: DAG tables and experiment=dag_workloads through run.py (docs/dag.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from layerplan.experiments.dag_workloads import workloads_dir

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def _run(tmp_path, *overrides, env=None):
    env = dict(os.environ, PYTHONPATH=str(ROOT), **(env or {}))
    cmd = [sys.executable, str(ROOT / "run.py"), "tracking=none", f"hydra.run.dir={tmp_path}/out", *overrides]
    return subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)


def test_shipped_dag_table_runs_with_the_dag_form(tmp_path):
    proc = _run(tmp_path, "dnn=resnet18", "devices=c3")
    assert proc.returncode == 0, proc.stderr[-2000:]
    res = json.loads((tmp_path / "out" / "result.json").read_text())
    assert res["status"] == "optimal" and res["formulations"] == ["base", "dag", "preload"]
    assert res["term_owners"]["latency.communication"] == ["dag"]
    assert "transfers" in res["dag"]


@pytest.mark.slow
@pytest.mark.skipif(not (workloads_dir() / "latency").is_dir(), reason="DAG workloads folder absent")
def test_experiment_dag_workloads_runs(tmp_path):
    proc = _run(tmp_path, "experiment=dag_workloads", "dag_workloads.workloads=[bert24]", "dag_workloads.throughput=false",
                "solver.time_limit_s=20", f"dag_workloads.dir={workloads_dir()}")
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = (tmp_path / "out" / "report.md").read_text()
    assert "bert24" in report and "latency: ours (ILP" in report and "all on CPU" in report
