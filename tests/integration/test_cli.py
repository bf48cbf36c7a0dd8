"""End to end: the Hydra entry point, result.json, MLflow records, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_module

from layerplan.cli import run_job

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
RESULT_KEYS = {"status", "objective", "assignment", "latency_s", "ratio_of_compute", "plan", "timing_s", "model_size"}


def _cfg(*overrides):
    with initialize_config_module(config_module="layerplan.conf", version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides))


def _cli(tmp_path, *args):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, str(ROOT / "run.py"), *args], cwd=tmp_path, capture_output=True, text=True,
                          env=env, timeout=300)


def test_default_run_records_everything(tmp_path):
    uri = f"sqlite:///{tmp_path / 'store.db'}"
    proc = _cli(tmp_path, f"tracking.uri={uri}")
    assert proc.returncode == 0, proc.stderr
    assert "layer -> device" in proc.stdout and "T_c" in proc.stdout
    result_path = Path(proc.stdout.strip().splitlines()[-1].split("result: ")[1])
    res = json.loads(result_path.read_text())
    assert RESULT_KEYS <= set(res)
    assert res["status"] == "optimal" and res["dnn"] == "alexnet" and res["formulations"] == ["base", "preload"]
    assert res["devices"] == ["A", "B", "C"]
    assert {"compute", "communication", "weight", "total"} <= set(res["latency_s"])
    assert res["latency_s"]["total"] == pytest.approx(res["objective"], rel=1e-6)
    assert sum(res["ratio_of_compute"].values()) == pytest.approx(1.0)
    # every layer appears once in the orchestrator plan, with the next device of its successor
    flat = [e for d in res["plan"].values() for e in d]
    assert len(flat) == len(res["assignment"])
    dev_of = {a["layer"]: a["device"] for a in res["assignment"]}
    names = [a["layer"] for a in res["assignment"]]
    for e in flat:
        i = names.index(e["layer"])
        assert e["next_device"] == (dev_of[names[i + 1]] if i + 1 < len(names) else None)

    # second job fails; the first run must still be there, and the failure is recorded too
    bad = _cli(tmp_path, f"tracking.uri={uri}", "network.bandwidth_Bps=-5", "hydra.run.dir=bad")
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines()[-1] == "layerplan: error: network: bandwidth_Bps: must be > 0, got -5"
    assert "Traceback" not in bad.stderr

    # a single run is recorded by a detached process once it has ended (tracking.mode=background)
    from layerplan.tracking import wait_for_record

    wait_for_record(result_path.parent, timeout_s=120)
    wait_for_record(tmp_path / "bad", timeout_s=120)
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name("layerplan")
    runs = client.search_runs([exp.experiment_id], order_by=["attributes.start_time ASC"])
    assert [r.info.status for r in runs] == ["FINISHED", "FAILED"]
    ok = runs[0]
    assert ok.data.metrics["latency_s.total"] == pytest.approx(res["latency_s"]["total"])
    assert ok.data.params["dnn.name"] == "alexnet" and ok.data.params["solver.name"] == "highs"
    arts = {a.path for a in client.list_artifacts(ok.info.run_id)}
    assert {"result.json", "config.yaml"} <= arts


@pytest.mark.parametrize(
    "overrides,code,message",
    [
        (["+scenario.preassign={features.0: Z}"], 2, "scenario: preassign.features.0: unknown device 'Z'"),
        (["+scenario.preassign={conv99: A}"], 2, "scenario: preassign.conv99: unknown layer 'conv99'"),
        (["dnn=file", "dnn.file=/nonexistent/net.yaml"], 2, "/nonexistent/net.yaml: DNN file not found"),
        (["dnn.granularity=coarse"], 2, "granularities: no 'coarse' table"),
        (["+constraints=[latency_cap]", "constraints.latency_cap.max_latency_s=0.001"], 3,
         "solver: status: the model is infeasible (active caps: "),
        (["+formulation=[preload]", "formulation.preload.linearization=fancy"], 2, "formulation.preload:"),
        (["solver.name=cplex"], 3, "solver: name: unknown solver 'cplex'"),
        (["devices.members.0.spec=pi5"], 2, "unknown device spec 'pi5'"),
    ],
)
def test_bad_input_is_one_line(tmp_path, capsys, overrides, code, message):
    cfg = _cfg("tracking=none", *overrides)
    with pytest.raises(SystemExit) as exc:
        run_job(cfg, tmp_path / "out")
    assert exc.value.code == code
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("layerplan: error: ") and message in err[0], err
    res = json.loads((tmp_path / "out" / "result.json").read_text())
    assert res["status"] == "error" and message in res["error"]


def test_multirun_job_failure_does_not_stop_the_sweep(tmp_path):
    res = run_job(_cfg("tracking=none", "network.bandwidth_Bps=0"), tmp_path / "o", multirun=True)
    assert res["status"] == "error"


@pytest.mark.parametrize("dnn", ["alexnet", "vgg11", "vgg16", "ssd300", "vit_b_16", "alexnet_ee"])
@pytest.mark.parametrize("gran", ["module", "major"])
def test_every_shipped_dnn_solves(tmp_path, dnn, gran):
    cfg = _cfg("tracking=none", f"dnn={dnn}", f"dnn.granularity={gran}", "devices=c3", "print_plan=false")
    res = run_job(cfg, tmp_path / "o")
    assert res["status"] == "optimal"


def test_config_groups_compose():
    for group, options in {
        "devices": ["c0", "c1", "c2", "c3", "table4_1"],
        "solver": ["highs", "gurobi"],
        "tracking": ["mlflow", "none"],
        "scenario": ["default", "bare"],
    }.items():
        for opt in options:
            assert _cfg(f"{group}={opt}")[group] is not None
    cfg = _cfg("+formulation=[base]")
    assert list(cfg.formulation) == ["base"]
    cfg = _cfg("+formulation=[preload,base]", "+constraints=[max_transitions,pin]")
    assert set(cfg.formulation) == {"preload", "base"} and set(cfg.constraints) == {"max_transitions", "pin"}


def test_user_files_by_path(tmp_path):
    (tmp_path / "net.csv").write_text("name,kind,flop,weights,out_h,out_w,out_d\nc1,conv,2e8,3e4,55,55,64\n"
                                      "fc,linear,8e7,4e7,1,1,1000\n")
    (tmp_path / "devs.yaml").write_text(
        "name: mine\nsource: cam\ndestination: cam\nmembers:\n"
        "  - {name: cam, class: edge, gflops_per_s: 2, internal_bandwidth_GBps: 1, external_bandwidth_Mbps: 100}\n"
        "  - {name: gpu, class: cloud, tflops_per_s: 10, internal_bandwidth_GBps: 400, external_bandwidth_Gbps: 1,"
        " memory_GiB: 8}\n")
    (tmp_path / "link.yaml").write_text("bandwidth_Mbps: 20\nlinks:\n  - {src: cam, dst: gpu, bandwidth_Mbps: 40}\n")
    cfg = _cfg("tracking=none", "print_plan=false", "dnn=file", f"dnn.file={tmp_path / 'net.csv'}",
               "dnn.input_shape=[224,224,3]", "devices=file", f"devices.file={tmp_path / 'devs.yaml'}",
               f"network.file={tmp_path / 'link.yaml'}")
    res = run_job(cfg, tmp_path / "o")
    assert res["status"] == "optimal" and res["devices"] == ["cam", "gpu"]
    from layerplan.cli import scenario_from_cfg

    sc = scenario_from_cfg(cfg)
    cam, gpu = sc.devices
    assert sc.network.link_bandwidth_Bps(cam, gpu) == pytest.approx(5e6)  # 40 Mbps
    assert sc.network.link_bandwidth_Bps(gpu, cam) == pytest.approx(5e6)  # symmetric override
    assert gpu.memory_B == 8 * 1024**3 and cam.flops_per_s == 2e9
