"""MLflow recording of every run: flattened config as params, every figure as a metric,
``result.json`` and the composed config as artifacts.

The default store is embedded and local (``sqlite:///<cwd>/mlflow.db``, no server);
``tracking.uri`` points anywhere else MLflow can write.

``import mlflow`` and opening a store cost more than a whole solve (about 2.3 s and 1.3 s of
CPU), so neither happens on the path of a run:

- a single run (``tracking.mode=background``, the default) checks that the store can be
  reached (a server answers within 5 s, a local store is writable), writes its result, and
  hands the record to a detached process (``python -m layerplan.tracking <pending.json>``)
  that logs it and leaves ``tracking.json`` (the run id) or ``tracking_error.txt`` in the
  run's folder; ``tracking.mode=sync`` records in the run's own process;
- a sweep records once, at its end: one parent run per sweep (the report, the grid, counts)
  and one child run per job, in one batch (:func:`log_sweep`); a ledger in the sweep folder
  (``mlflow_runs.json``) keeps a resumed sweep from logging a job twice.
"""

from __future__ import annotations

import json
import logging
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Mapping

MAX_PARAM_LEN = 6000


def process_start_ms() -> int:
    """When this process started (epoch ms): a run's MLflow start time is when the run began,
    not when a background recorder wrote it (Linux: /proc; elsewhere: now)."""
    import time

    try:
        ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        boot = next(int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime "))
        return int((boot + ticks / os.sysconf("SC_CLK_TCK")) * 1000)
    except (OSError, ValueError, IndexError, StopIteration):
        return int(time.time() * 1000)


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
    from layerplan.figures import unit_metrics  # objective_<unit>, energy_J.*, frequency_Hz.*, carbon_mgCO2.*

    out.update(unit_metrics(result))
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
    times_ms: tuple[int, int] | None = None,
) -> str | None:
    """Record one run; returns the MLflow run id (None when tracking is disabled).
    ``times_ms``: (start, end) of the run in epoch ms (default: this process' start, now)."""
    if not tracking.get("enabled", True):
        return None
    uri = resolve_uri(tracking.get("uri"))
    preflight(uri)
    import time

    times_ms = times_ms or (process_start_ms(), int(time.time() * 1000))
    mode = str(tracking.get("mode") or "background")
    if mode == "background" and artifacts:
        return _log_in_background(tracking, config, result, artifacts, tags, times_ms)
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    import mlflow

    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    with store_lock(uri):
        return _log(mlflow, uri, tracking, config, result, artifacts, tags, times_ms)


def _log(mlflow, uri, tracking, config, result, artifacts, tags, times_ms) -> str:
    mlflow.set_tracking_uri(uri)
    # start the run in the experiment returned here: a job that loses the race to create
    # the experiment (parallel jobs against a server) would otherwise log into "Default"
    exp = mlflow.set_experiment(str(tracking.get("experiment") or "layerplan"))
    params = {k: (json.dumps(v) if not isinstance(v, str) else v) for k, v in flatten(config).items()}
    params = {k[:250]: v[:MAX_PARAM_LEN] for k, v in params.items()}
    status = "FINISHED" if result.get("status") in ("optimal", "feasible") else "FAILED"
    client = mlflow.MlflowClient()
    created = client.create_run(exp.experiment_id, start_time=times_ms[0], run_name=tracking.get("run_name") or None)
    with mlflow.start_run(run_id=created.info.run_id) as run:
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
    client.set_terminated(run_id, status=status, end_time=times_ms[1])
    return run_id


# ---------------------------------------------------------------------------------------------
# reachability, background recording, sweeps

PREFLIGHT_TIMEOUT_S = 5.0


def _quiet_http() -> None:
    """An unreachable server must fail fast: no retries with back-off, short timeouts."""
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    # MLflow 3 collects usage telemetry on every client call (and tries to send it out): off
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")


def preflight(uri: str) -> None:
    """Fail in one line (within about 5 s) when the store cannot take the record."""
    from layerplan.errors import LayerplanError

    _quiet_http()
    if uri.startswith(("http://", "https://")):
        import socket
        from urllib.parse import urlparse

        u = urlparse(uri)
        port = u.port or (443 if u.scheme == "https" else 80)
        try:
            with socket.create_connection((u.hostname or "localhost", port), timeout=PREFLIGHT_TIMEOUT_S):
                pass
        except OSError as exc:
            raise LayerplanError(f"tracking server {uri} cannot be reached ({exc.strerror or exc}); result.json is "
                                 f"kept; start the server, or run with tracking=none", source="tracking",
                                 field="uri") from None
    elif uri.startswith("sqlite:///"):
        db = Path(uri[len("sqlite:///"):])
        target = db if db.exists() else db.parent
        if db.exists() and not os.access(db, os.W_OK) or not db.exists() and target.exists() and not os.access(
                target, os.W_OK):
            raise LayerplanError(f"the MLflow store {db} is not writable; result.json is kept; use "
                                 f"tracking.uri=sqlite:///<a writable path> or tracking=none", source="tracking",
                                 field="uri")


def _log_in_background(tracking, config, result, artifacts, tags, times_ms) -> None:
    import subprocess
    import sys

    from layerplan.results import to_jsonable

    out_dir = Path(artifacts[0]).parent
    pending = out_dir / "tracking_pending.json"
    pending.write_text(json.dumps(to_jsonable({"tracking": dict(tracking), "config": config, "result": result,
                                               "artifacts": [str(a) for a in artifacts], "tags": dict(tags or {}),
                                               "cwd": os.getcwd(), "times_ms": list(times_ms)})))
    env = {k: v for k, v in os.environ.items()}
    with open(out_dir / "tracking.log", "w") as log:
        subprocess.Popen([sys.executable, "-m", "layerplan.tracking", str(pending)], stdout=log, stderr=log,
                         stdin=subprocess.DEVNULL, start_new_session=True, close_fds=True, env=env,
                         cwd=os.getcwd())
    return None


def flush_pending(pending: Path) -> str | None:
    """Record a run handed over by :func:`log_run` in background mode."""
    data = json.loads(Path(pending).read_text())
    out_dir = Path(pending).parent
    tracking = {**data["tracking"], "mode": "sync"}
    if data.get("cwd") and not tracking.get("uri"):
        tracking["uri"] = f"sqlite:///{Path(data['cwd']) / 'mlflow.db'}"
    try:
        run_id = log_run(tracking, data["config"], data["result"], [Path(a) for a in data["artifacts"]],
                         tags=data.get("tags"), times_ms=tuple(data["times_ms"]) if data.get("times_ms") else None)
    except Exception as exc:
        (out_dir / "tracking_error.txt").write_text(f"{type(exc).__name__}: {exc}\n")
        raise
    (out_dir / "tracking.json").write_text(json.dumps({"mlflow_run_id": run_id, "uri": tracking.get("uri")}))
    Path(pending).unlink(missing_ok=True)
    return run_id


def wait_for_record(out_dir: Path, timeout_s: float = 60.0) -> dict:
    """Wait until a background record of the run in ``out_dir`` is written (tests, scripts)."""
    import time

    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout_s:
        if (out_dir / "tracking.json").is_file():
            return json.loads((out_dir / "tracking.json").read_text())
        if (out_dir / "tracking_error.txt").is_file():
            raise RuntimeError((out_dir / "tracking_error.txt").read_text())
        time.sleep(0.1)
    raise TimeoutError(f"no MLflow record for {out_dir} after {timeout_s} s")


def _fast_sqlite() -> None:
    """Batch writes to a local sqlite store without an fsync per statement (this process only)."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    if getattr(_fast_sqlite, "done", False):
        return

    @event.listens_for(Engine, "connect")
    def _pragma(dbapi_conn, _rec):  # pragma: no cover - exercised through mlflow
        if type(dbapi_conn).__module__.startswith("sqlite3"):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA synchronous=OFF")
            cur.close()

    _fast_sqlite.done = True


def _copy_artifacts(client, run, paths: list[Path]) -> None:
    _copy_to(run.info.artifact_uri or "", paths, client, run.info.run_id)


def param_key(key: str) -> str:
    """An MLflow-legal parameter name for an override key (``+method`` -> ``method``)."""
    import re

    return re.sub(r"[^A-Za-z0-9_\-. :/]", "_", key.lstrip("+~"))[:250]


def run_name(spec, job) -> str:
    parts = [spec.name]
    for ov in job.overrides:
        if ov.split("=", 1)[0].lstrip("+") == "experiment":
            continue
        parts.append(ov)
    return " ".join(parts)[:240]


def _bulk_children(client, uri: str, exp_id: str, rows: list[dict], ts: int) -> dict | None:
    """Write the child runs of a sweep into a local sqlite store in one transaction.

    MLflow's client needs three transactions and a dozen queries per run (about 40 ms each,
    40 s for the 1037 jobs of the thesis tables); a sweep's runs are new, so they are inserted
    at once through the store's own SQLAlchemy models, with the same rows ``create_run``,
    ``log_batch`` and ``set_terminated`` write (run, tags, params, metrics and latest metrics).
    Returns {job id: run id}, or None when this MLflow's store does not look as expected (the
    caller then logs run by run). tests/integration/test_engine.py reads the runs back."""
    import math
    import uuid

    try:
        from mlflow.store.tracking.dbmodels.models import SqlLatestMetric, SqlMetric, SqlParam, SqlRun, SqlTag
        from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore
        from mlflow.utils.uri import append_to_uri_path

        store = client._tracking_client.store
        if not isinstance(store, SqlAlchemyStore):
            return None
        location = store.get_experiment(exp_id).artifact_location
    except Exception:
        return None
    user = os.environ.get("USER") or os.environ.get("LOGNAME") or "unknown"
    fill = getattr(store, "_with_workspace_field", None)
    objs, done, arts = [], {}, []
    for row in rows:
        run_id = uuid.uuid4().hex
        artifact_uri = append_to_uri_path(location, run_id, "artifacts")
        objs.append(SqlRun(name=row["name"], artifact_uri=artifact_uri, run_uuid=run_id, experiment_id=int(exp_id),
                           source_type="UNKNOWN", source_name="", entry_point_name="", user_id=user,
                           status=row["status"], start_time=ts, end_time=ts, deleted_time=None, source_version="",
                           lifecycle_stage="active"))
        tags = {**row["tags"], "mlflow.runName": row["name"], "mlflow.user": user}
        objs += [SqlTag(key=k[:250], value=str(v)[:8000], run_uuid=run_id) for k, v in tags.items()]
        objs += [SqlParam(key=k, value=str(v), run_uuid=run_id) for k, v in row["params"].items()]
        for k, v in row["metrics"].items():
            nan = math.isnan(v)
            val = 0.0 if nan else v
            objs.append(SqlMetric(key=k, value=val, timestamp=ts, step=0, is_nan=nan, run_uuid=run_id))
            objs.append(SqlLatestMetric(key=k, value=val, timestamp=ts, step=0, is_nan=nan, run_uuid=run_id))
        done[row["jid"]] = run_id
        arts.append((artifact_uri, row["artifacts"], run_id))
    if fill is not None:
        for o in objs:
            fill(o)
    try:
        with store.ManagedSessionMaker() as session:
            session.add_all(objs)
    except Exception:
        return None
    for artifact_uri, paths, run_id in arts:
        _copy_to(artifact_uri, paths, client, run_id)
    return done


def _copy_to(artifact_uri: str, paths, client, run_id) -> None:
    import shutil
    from urllib.parse import unquote, urlparse

    local = None
    if artifact_uri.startswith("file://"):
        local = Path(unquote(urlparse(artifact_uri).path))
    elif artifact_uri and "://" not in artifact_uri:
        local = Path(artifact_uri)
    for p in paths:
        if not Path(p).is_file():
            continue
        if local is not None:
            local.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(p, local / Path(p).name)
        elif run_id is not None:
            client.log_artifact(run_id, str(p))


def log_sweep(spec) -> str | None:
    """One parent run for the sweep (report, grid, counts) and one child run per job, at the end."""
    from layerplan.errors import LayerplanError

    tracking = spec.tracking or {}
    if not tracking.get("enabled", True):
        return None
    uri = resolve_uri(tracking.get("uri"))
    preflight(uri)
    try:
        return _log_sweep(spec, uri, tracking)
    except LayerplanError:
        raise
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else ""
        raise LayerplanError(f"could not record the sweep in MLflow ({type(exc).__name__}: {first}); every "
                             f"result.json is kept in {spec.sweep_dir}", source="tracking", field="uri") from None


def _log_sweep(spec, uri: str, tracking) -> str:
    import time

    from mlflow.entities import Metric, Param, RunTag
    from mlflow.tracking import MlflowClient

    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    if uri.startswith("sqlite:///"):
        _fast_sqlite()
    ledger_path = spec.sweep_dir / "mlflow_runs.json"
    ledger = {}
    if ledger_path.is_file():
        try:
            ledger = json.loads(ledger_path.read_text())
        except ValueError:
            ledger = {}
    if ledger.get("uri") != uri:
        ledger = {"uri": uri, "parent": None, "jobs": {}}
    with store_lock(uri):
        client = MlflowClient(uri)
        exp_name = str(tracking.get("experiment") or spec.name or "layerplan")
        exp = client.get_experiment_by_name(exp_name)
        exp_id = exp.experiment_id if exp is not None else client.create_experiment(exp_name)
        parent_id = ledger.get("parent")
        n_failed = sum(1 for j in spec.jobs if (j.record or {}).get("status") == "error")
        if parent_id is None:
            parent = client.create_run(exp_id, run_name=f"{spec.name}: {len(spec.jobs)} jobs", tags={
                "layerplan.kind": "sweep", "experiment": spec.name, "sweep_dir": str(spec.sweep_dir)})
            parent_id = parent.info.run_id
            ledger["parent"] = parent_id
        try:
            grid = [Param(param_key(f"sweep.{k.lstrip('+~')}"), str(v)[:MAX_PARAM_LEN])
                    for k, v in (spec.params or {}).items()]
            grid += [Param(param_key(f"override.{o.split('=', 1)[0].lstrip('+~')}"), o.split("=", 1)[1][:MAX_PARAM_LEN])
                     for o in spec.overrides if "=" in o]
            ts = int(time.time() * 1000)
            logged = ledger["jobs"]
            logged = ledger["jobs"]
            rows = []
            for job in spec.jobs:
                jid = f"{job.index}:{job.key}"
                if jid in logged or job.record is None:
                    continue
                rec = job.record
                status = str(rec.get("status"))
                tags = {"mlflow.parentRunId": parent_id, "status": status, "experiment": spec.name,
                        "dnn": str((job.config or {}).get("dnn", {}).get("name")),
                        "devices": str((job.config or {}).get("devices", {}).get("name")),
                        "job_key": str(job.key), "job_dir": str(job.dir)}
                params = {}
                for o in job.overrides:
                    if "=" in o:
                        k, v = o.split("=", 1)
                        params[param_key(k)] = v[:MAX_PARAM_LEN]
                for k in ("formulations", "objective_name", "solver"):
                    if rec.get(k) is not None:
                        params[f"result.{k}"] = json.dumps(rec[k])[:MAX_PARAM_LEN]
                ok = status in ("optimal", "feasible", "infeasible")
                rows.append({"jid": jid, "name": run_name(spec, job), "tags": tags, "params": params,
                             "metrics": metrics_of(rec), "status": "FINISHED" if ok else "FAILED",
                             "artifacts": [job.dir / "result.json", job.dir / "config.yaml"]})
            done = _bulk_children(client, uri, exp_id, rows, ts) if uri.startswith("sqlite:///") else None
            if done is None:  # another store, or the bulk path declined: one client call at a time
                done = {}
                for i, row in enumerate(rows):
                    run = client.create_run(exp_id, run_name=row["name"], tags=row["tags"])
                    client.log_batch(run.info.run_id, metrics=[Metric(k, v, ts, 0) for k, v in row["metrics"].items()],
                                     params=[Param(k, v) for k, v in row["params"].items()])
                    _copy_artifacts(client, run, row["artifacts"])
                    client.set_terminated(run.info.run_id, status=row["status"])
                    logged[row["jid"]] = run.info.run_id
                    if i % 50 == 0:
                        ledger_path.write_text(json.dumps(ledger))
            logged.update(done)
            ledger_path.write_text(json.dumps(ledger))
            summary = [Metric("jobs", float(len(spec.jobs)), ts, 0), Metric("failed", float(n_failed), ts, 0),
                       Metric("elapsed_s", float(spec.elapsed_s), ts, 0)]
            if not ledger.get("parent_params"):
                client.log_batch(parent_id, metrics=summary, params=grid[:100],
                                 tags=[RunTag("jobs", str(len(spec.jobs)))])
                ledger["parent_params"] = True
            else:
                client.log_batch(parent_id, metrics=summary)
            report_dir = spec.report_path.parent if spec.report_path else None
            if report_dir is not None and report_dir.is_dir():
                client.log_artifacts(parent_id, str(report_dir), artifact_path="report")
            client.set_terminated(parent_id, status="FINISHED" if not n_failed else "FAILED")
            ledger_path.write_text(json.dumps(ledger))
        except BaseException:
            ledger_path.write_text(json.dumps(ledger))
            client.set_terminated(parent_id, status="KILLED")
            raise
    return parent_id


if __name__ == "__main__":  # background recorder: python -m layerplan.tracking <pending.json>
    import sys as _sys

    try:
        flush_pending(Path(_sys.argv[1]))
    except Exception as _exc:  # already written to tracking_error.txt
        print(f"layerplan: error: tracking: {type(_exc).__name__}: {_exc}", file=_sys.stderr)
        _sys.exit(1)
