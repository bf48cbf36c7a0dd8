"""The in-process sweep engine (layerplan/engine.py): expansion as Hydra's, deduplicated
solves, resume, failures, Ctrl-C, fast tracking failures and the MLflow parent/child layout."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from layerplan.launch import expand, partition, config_groups, wants_hydra

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def run(tmp, *args, timeout=240, check=False):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, str(ROOT / "run.py"), *args], cwd=tmp, env=env, capture_output=True,
                          text=True, timeout=timeout)
    if check:
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def results(sweep: Path) -> dict[int, dict]:
    return {int(p.parent.name): json.loads(p.read_text()) for p in sweep.glob("*/result.json")}


def test_expansion_follows_hydra_basic_sweeper():
    jobs = expand({"a": "1,2", "+b": "x,y"}, ["c=3", "a=5,6,7"])
    # the command line's a replaces the config's a in its place; product in key order
    assert jobs[0] == ["a=5", "+b=x", "c=3"]
    assert len(jobs) == 3 * 2
    assert ["a=7", "+b=y", "c=3"] in jobs
    assert expand({}, ["mbs=range(1,4)"]) == [["mbs=1"], ["mbs=2"], ["mbs=3"]]
    groups = config_groups()
    assert {"dnn", "devices", "method", "formulation", "experiment", "hydra/launcher"} <= groups
    g, v = partition(["dnn=vgg11", "+method=dime", "mbs=3", "network.bandwidth_Bps=1e6", "+formulation=[base]"],
                     groups)
    assert g == ("dnn=vgg11", "+method=dime", "+formulation=[base]")
    assert v == ["mbs=3", "network.bandwidth_Bps=1e6"]


def test_hydra_path_is_kept_for_what_the_engine_does_not_do():
    assert not wants_hydra(["-m", "dnn=alexnet,vgg11", "hydra.sweep.dir=x"])
    assert wants_hydra(["hydra/launcher=ray_local"])
    assert wants_hydra(["--cfg", "job"])
    assert wants_hydra(["hydra.launcher.n_jobs=3"])
    assert wants_hydra(["sweep.engine=hydra"])


def test_value_overrides_match_a_full_hydra_compose():
    """Composing once per group choice and applying the values to a copy gives the config a
    full compose of the job's overrides gives."""
    from omegaconf import OmegaConf

    from layerplan.engine import compose_jobs
    from layerplan.launch import compose

    overrides = ["experiment=table7_1", "+method=dime", "profiles=synthetic", "mbs=3", "network.bandwidth_Bps=1e6"]
    group, values = partition(overrides, config_groups())
    (ours, err), = compose_jobs((group, [values]))
    assert err is None
    full = OmegaConf.to_container(compose(overrides), resolve=True)
    assert ours == full
    assert ours["formulation"]["dime"]["mbs"] == 3


def test_duplicate_solves_are_skipped_and_every_job_gets_its_record(tmp_path):
    sweep = tmp_path / "s"
    proc = run(tmp_path, "-m", "devices=edge_cloud", "dnn.granularity=major", "profiles=synthetic",
               "+method=dime,jointdnn", "mbs=1,2,3", "tracking=none", f"hydra.sweep.dir={sweep}", check=True)
    recs = results(sweep)
    assert len(recs) == 6
    assert "6 jobs (4 distinct solves)" in proc.stderr  # JointDNN does not read mbs: solved once
    joint = [r for r in recs.values() if "jointdnn" in r["formulations"]]
    assert len(joint) == 3 and len({r["job_key"] for r in joint}) == 1
    assert len({json.dumps(r["assignment"]) for r in joint}) == 1
    mbs = sorted(yaml_cfg(sweep / str(i))["mbs"] for i, r in recs.items() if "jointdnn" in r["formulations"])
    assert mbs == [1, 2, 3]  # each job folder keeps its own config


def yaml_cfg(job_dir: Path) -> dict:
    import yaml

    return yaml.safe_load((job_dir / "config.yaml").read_text())


def test_failing_jobs_are_recorded_summarized_and_exit_non_zero(tmp_path):
    sweep = tmp_path / "s"
    proc = run(tmp_path, "-m", "network.bandwidth_Bps=1e6,0,-5", "tracking=none", f"hydra.sweep.dir={sweep}")
    assert proc.returncode == 1
    recs = results(sweep)
    assert sorted(recs) == [0, 1, 2]  # every job ends with a result.json, the error included
    assert sum(r["status"] == "error" for r in recs.values()) == 2
    assert "1 ok, 0 infeasible, 2 failed" in proc.stderr
    assert f"failed: {sweep}/1/result.json: network: bandwidth_Bps" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_interrupted_sweep_resumes_without_solving_finished_jobs_again(tmp_path):
    sweep = tmp_path / "s"
    args = ["-m", "network.bandwidth_Bps=1e5,1e6,1e7,1e8", "+formulation=[base],[preload]",
            f"tracking.uri=sqlite:///{tmp_path / 'ml.db'}", f"hydra.sweep.dir={sweep}"]
    run(tmp_path, *args, check=True)
    first = results(sweep)
    assert len(first) == 8
    # as if the sweep had been stopped: three jobs never finished
    for i in (1, 4, 6):
        (sweep / str(i) / "result.json").unlink()
    stamps = {i: (sweep / str(i) / "result.json").stat().st_mtime_ns for i in first if i not in (1, 4, 6)}
    proc = run(tmp_path, *args, check=True)
    again = results(sweep)
    assert len(again) == 8
    assert all((sweep / str(i) / "result.json").stat().st_mtime_ns == t for i, t in stamps.items())
    assert all(again[i]["objective"] == pytest.approx(first[i]["objective"]) for i in first)
    assert "8 jobs" in proc.stderr
    # MLflow: one parent, one child per job, none twice
    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{tmp_path / 'ml.db'}")
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()], max_results=1000)
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    parents = [r for r in runs if r.data.tags.get("layerplan.kind") == "sweep"]
    assert len(parents) == 1 and len(children) == 8
    assert len({r.data.tags["job_key"] + r.data.tags["job_dir"] for r in children}) == 8


@pytest.mark.slow
def test_ctrl_c_stops_every_worker_and_prints_one_line(tmp_path):
    sweep = tmp_path / "s"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "-m", "dnn=vgg16,ssd300,vgg11,alexnet",
                             "devices=c0,c1,c2,c3", "network.bandwidth_Bps=1e5,1e6,1e7,1e8",
                             "tracking=none", f"hydra.sweep.dir={sweep}"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    t0 = time.monotonic()
    while not any(sweep.glob("*/result.json")) and time.monotonic() - t0 < 120:
        time.sleep(0.2)
    assert any(sweep.glob("*/result.json")), "no job finished"
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole process group, as in a terminal
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert "layerplan: interrupted:" in err
    time.sleep(0.5)
    assert _alive_in_group(proc.pid) == []  # no worker keeps running
    done = len(results(sweep))
    assert 0 < done < 64
    proc2 = run(tmp_path, "-m", "dnn=vgg16,ssd300,vgg11,alexnet", "devices=c0,c1,c2,c3",
                "network.bandwidth_Bps=1e5,1e6,1e7,1e8", "tracking=none", f"hydra.sweep.dir={sweep}", check=True)
    assert len(results(sweep)) == 64
    assert "64 jobs" in proc2.stderr


def _alive_in_group(pgid: int) -> list[str]:
    """Processes of the group that still run (a zombie waiting for a reaper has stopped)."""
    pids = subprocess.run(["pgrep", "-g", str(pgid)], capture_output=True, text=True).stdout.split()
    alive = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.append(pid)
    return alive


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_tracking_server_fails_fast_with_one_line_and_keeps_the_result(tmp_path):
    uri = f"http://127.0.0.1:{_free_port()}"
    t0 = time.monotonic()
    proc = run(tmp_path, f"tracking.uri={uri}", "hydra.run.dir=out", timeout=60)
    assert time.monotonic() - t0 < 30  # the run itself; the check gives up after 5 s
    assert proc.returncode == 2
    err = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(err) == 1 and err[0].startswith("layerplan: error: tracking: uri:") and "cannot be reached" in err[0]
    assert json.loads((tmp_path / "out" / "result.json").read_text())["status"] == "optimal"
    # a sweep: every job's result is kept, one line, non-zero exit
    sweep = tmp_path / "s"
    proc = run(tmp_path, "-m", "network.bandwidth_Bps=1e6,1e7", f"tracking.uri={uri}", f"hydra.sweep.dir={sweep}")
    assert proc.returncode == 1
    assert len(results(sweep)) == 2
    assert "cannot be reached" in proc.stderr and "Traceback" not in proc.stderr


def test_sweep_records_a_parent_run_with_the_report_and_child_runs_with_metrics(tmp_path):
    from mlflow.tracking import MlflowClient

    db = tmp_path / "ml.db"
    sweep = tmp_path / "s"
    run(tmp_path, "experiment=table6_2", "dnn=alexnet,vgg11", f"tracking.uri=sqlite:///{db}",
        f"hydra.sweep.dir={sweep}", check=True)
    client = MlflowClient(f"sqlite:///{db}")
    exp = client.get_experiment_by_name("table6_2")
    runs = client.search_runs([exp.experiment_id], max_results=100)
    parent = [r for r in runs if r.data.tags.get("layerplan.kind") == "sweep"]
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId")]
    assert len(parent) == 1 and len(children) == 4
    assert {c.data.tags["mlflow.parentRunId"] for c in children} == {parent[0].info.run_id}
    arts = [a.path for a in client.list_artifacts(parent[0].info.run_id, "report")]
    assert "report/report.md" in arts
    c = children[0]
    assert c.info.run_name.startswith("table6_2 ") and "dnn=" in c.info.run_name
    assert c.data.metrics["latency_s.total"] > 0
    assert {a.path for a in client.list_artifacts(c.info.run_id)} >= {"result.json", "config.yaml"}
    assert parent[0].data.metrics["jobs"] == 4.0


def test_single_run_records_in_the_background(tmp_path):
    from layerplan.tracking import wait_for_record

    db = tmp_path / "ml.db"
    run(tmp_path, f"tracking.uri=sqlite:///{db}", "hydra.run.dir=out", check=True)
    rec = wait_for_record(tmp_path / "out", timeout_s=120)
    from mlflow.tracking import MlflowClient

    run_ = MlflowClient(f"sqlite:///{db}").get_run(rec["mlflow_run_id"])
    assert run_.data.metrics["latency_s.total"] > 0
    assert not (tmp_path / "out" / "tracking_pending.json").exists()


def test_runs_started_together_get_their_own_folders(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    procs = [subprocess.Popen([sys.executable, str(ROOT / "run.py"), "tracking=none", f"network.bandwidth_Bps={bw}",
                               "hydra.run.dir=out/same"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for bw in (1e5, 1e6, 1e7, 1e8)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    folders = sorted((tmp_path / "out").iterdir())
    assert len(folders) == 4
    for out, _ in outs:
        path = Path(tmp_path, [ln for ln in out.splitlines() if ln.startswith("result: ")][0].split(": ", 1)[1])
        rec = json.loads(path.read_text())
        total = [ln for ln in out.splitlines() if ln.startswith("latency (s):")][0]
        assert f"total {rec['latency_s']['total']:.4f}" in total


@pytest.mark.slow
def test_killing_the_sweep_leaves_no_worker_behind(tmp_path):
    sweep = tmp_path / "s"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "-m", "dnn=vgg16,ssd300,vgg11,alexnet",
                             "devices=c0,c1,c2,c3", "network.bandwidth_Bps=1e5,1e6,1e7,1e8", "tracking=none",
                             f"hydra.sweep.dir={sweep}"], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    t0 = time.monotonic()
    while not any(sweep.glob("*/result.json")) and time.monotonic() - t0 < 120:
        time.sleep(0.2)
    proc.kill()  # SIGKILL of the parent only: the workers die with it (PR_SET_PDEATHSIG)
    proc.wait(timeout=30)
    time.sleep(1.0)
    assert _alive_in_group(proc.pid) == []
    n = len(results(sweep))
    time.sleep(2.0)
    assert len(results(sweep)) == n  # nothing writes after the kill
