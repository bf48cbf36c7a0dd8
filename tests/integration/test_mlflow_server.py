"""A sweep recorded by a real MLflow tracking server (``mlflow server`` on loopback, sqlite
backend and an artifact folder in tmp), then read back with MlflowClient. The server is
always stopped, whatever happens."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 45


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def mlflow_server(tmp_path):
    port = free_port()
    log = open(tmp_path / "server.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", f"sqlite:///{tmp_path / 'db.sqlite'}",
         "--default-artifact-root", str(tmp_path / "art"), "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1"],
        cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"mlflow server exited ({proc.returncode}): {(tmp_path / 'server.log').read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"mlflow server did not answer within {START_TIMEOUT_S} s: "
                            f"{(tmp_path / 'server.log').read_text()[-2000:]}")
            time.sleep(0.5)
        yield url
    finally:
        # the server runs its workers in its own process group (start_new_session): stop them all
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=15)
        log.close()


def test_sweep_recorded_by_a_tracking_server(tmp_path, mlflow_server):
    import mlflow

    client = mlflow.MlflowClient(mlflow_server)
    # Created up front: when parallel jobs race to create it, MLflow 3.x's set_experiment returns
    # the experiment without making it active for the losers, whose runs then land in "Default"
    # (seen here with joblib against a server; the sqlite store's file lock hides it).
    exp_id = client.create_experiment("table6_2")
    sweep = tmp_path / "sweep"
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run(
        [sys.executable, str(ROOT / "run.py"), "experiment=table6_2", "dnn=alexnet,vgg11", "+formulation=[base],[preload]",
         f"tracking.uri={mlflow_server}", f"hydra.sweep.dir={sweep}"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    res = [json.loads(p.read_text()) for p in sorted(sweep.glob("*/result.json"))]
    assert len(res) == 4 and all(r["status"] == "optimal" for r in res)
    assert not (tmp_path / "mlflow.db").exists()  # nothing went to the embedded store

    every = client.search_runs([exp_id])
    assert client.search_runs(["0"]) == []  # nothing strayed into the Default experiment
    parents = [r for r in every if r.data.tags.get("layerplan.kind") == "sweep"]
    runs = [r for r in every if r.data.tags.get("mlflow.parentRunId")]
    assert len(parents) == 1 and len(every) == 5  # one parent run per sweep, one child per job
    assert {r.data.tags["mlflow.parentRunId"] for r in runs} == {parents[0].info.run_id}
    assert len(runs) == 4 and {r.info.status for r in every} == {"FINISHED"}
    assert sorted(r.data.tags["dnn"] for r in runs) == ["alexnet", "alexnet", "vgg11", "vgg11"]
    assert sorted(r.data.metrics["objective"] for r in runs) == pytest.approx(sorted(r["objective"] for r in res))
    for r in runs:
        assert {a.path for a in client.list_artifacts(r.info.run_id)} >= {"result.json", "config.yaml"}
    # the server wrote the artifacts under its own artifact root
    assert len(list((tmp_path / "art").rglob("result.json"))) == 4
