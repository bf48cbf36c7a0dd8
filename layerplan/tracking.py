"""MLflow recording of every run: flattened config as params, every figure as a metric,
``result.json`` and the composed config as artifacts.

The default store is embedded and local (``sqlite:///<cwd>/mlflow.db``, no server);
``tracking.uri`` points anywhere else MLflow can write.
"""

from __future__ import annotations

import json
import logging
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Mapping

MAX_PARAM_LEN = 6000


def resolve_uri(uri: str | None) -> str:
    if uri:
        return str(uri)
    return f"sqlite:///{Path.cwd() / 'mlflow.db'}"


@contextmanager
def store_lock(uri: str):
    """Serialize writers of an embedded sqlite store: parallel sweep jobs (joblib) would
    otherwise race on its creation and migrations. Other stores need no lock."""
    if not uri.startswith("sqlite:///"):
        yield
        return
    import fcntl

    lock_path = uri[len("sqlite:///"):] + ".lock"
    Path(lock_path).parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping) and v:
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


def metrics_of(result: Mapping[str, Any]) -> dict[str, float]:
    """Every number of the result record that is a figure (not a label)."""
    out: dict[str, float] = {}
    if isinstance(result.get("objective"), (int, float)):
        out["objective"] = float(result["objective"])
    for group in ("latency_s", "ratio_of_compute", "timing_s", "model_size"):
        for k, v in (result.get(group) or {}).items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                out[f"{group}.{k}"] = float(v)
    for k in ("mip_gap", "objective_bound"):
        if isinstance(result.get(k), (int, float)):
            out[k] = float(result[k])
    out["transitions"] = float(len(result.get("transitions") or []))
    cadi = result.get("cadi") or {}  # CADI (Ch. 9): I, EF, CF over U, per device too
    for k, v in cadi.items():
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            out[f"cadi.{k}"] = float(v)
    for d, rec in (cadi.get("per_device") or {}).items():
        for k, v in (rec or {}).items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                out[f"cadi.{d}.{k}"] = float(v)
    return out


def log_run(
    tracking: Mapping[str, Any],
    config: Mapping[str, Any],
    result: Mapping[str, Any],
    artifacts: list[Path],
    *,
    tags: Mapping[str, str] | None = None,
) -> str | None:
    """Record one run; returns the MLflow run id (None when tracking is disabled)."""
    if not tracking.get("enabled", True):
        return None
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    import mlflow

    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    uri = resolve_uri(tracking.get("uri"))
    with store_lock(uri):
        return _log(mlflow, uri, tracking, config, result, artifacts, tags)


def _log(mlflow, uri, tracking, config, result, artifacts, tags) -> str:
    mlflow.set_tracking_uri(uri)
    # start the run in the experiment returned here: a job that loses the race to create
    # the experiment (parallel jobs against a server) would otherwise log into "Default"
    exp = mlflow.set_experiment(str(tracking.get("experiment") or "layerplan"))
    params = {k: (json.dumps(v) if not isinstance(v, str) else v) for k, v in flatten(config).items()}
    params = {k[:250]: v[:MAX_PARAM_LEN] for k, v in params.items()}
    status = "FINISHED" if result.get("status") in ("optimal", "feasible") else "FAILED"
    with mlflow.start_run(experiment_id=exp.experiment_id, run_name=tracking.get("run_name") or None) as run:
        mlflow.set_tags({"status": str(result.get("status")), **(tags or {})})
        items = list(params.items())
        for i in range(0, len(items), 90):
            mlflow.log_params(dict(items[i : i + 90]))
        metrics = metrics_of(result)
        if metrics:
            mlflow.log_metrics(metrics)
        for path in artifacts:
            if Path(path).is_file():
                mlflow.log_artifact(str(path))
        run_id = run.info.run_id
    if status == "FAILED":
        mlflow.MlflowClient().set_terminated(run_id, status="FAILED")
    return run_id
