"""Parallel sweep jobs share one embedded MLflow store without losing runs."""

import multiprocessing as mp

import pytest

pytestmark = pytest.mark.integration


def _log(uri, k):
    from layerplan.tracking import log_run

    log_run({"enabled": True, "uri": uri, "experiment": "par"}, {"k": k}, {"status": "optimal", "objective": float(k)}, [])


def test_two_processes_create_and_write_a_fresh_store(tmp_path):
    uri = f"sqlite:///{tmp_path / 'store.db'}"
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_log, args=(uri, k)) for k in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    import mlflow

    client = mlflow.MlflowClient(uri)
    runs = client.search_runs([client.get_experiment_by_name("par").experiment_id])
    assert sorted(r.data.metrics["objective"] for r in runs) == [0.0, 1.0, 2.0]
