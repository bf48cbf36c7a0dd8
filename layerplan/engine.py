"""In-process sweep engine: expand, compose, deduplicate, solve on warm workers, record.

A sweep (``python run.py -m ...``, ``python run.py experiment=<table>``, or
``python -m layerplan.experiments.reproduce``) runs in four phases:

1. **expand** the grid in Python (the config's ``hydra.sweeper.params``, then the command
   line; :func:`layerplan.launch.expand`);
2. **compose** once per distinct combination of config-group choices, then apply each job's
   value overrides to a copy; resolve every job's config;
3. **solve** each distinct *solve key* once: the key hashes the part of the resolved config
   that the solve reads (:data:`SOLVE_KEYS`), so a job whose result cannot depend on a swept
   key (JointDNN and the exhaustive optimum under an ``mbs`` sweep) reuses the record of
   its twin. Solves run on worker processes forked after the imports (no per-job start-up);
   a job already finished in the same sweep folder (same key, a result that is not an error)
   is not solved again, so rerunning an interrupted sweep resumes it;
4. **record**: every job folder gets ``config.yaml`` and ``result.json`` (an error record
   included), the experiment's report is built, and MLflow receives one parent run per
   sweep (holding the report) with one child run per job, written in one batch at the end
   (:func:`layerplan.tracking.log_sweep`).

Ctrl-C stops the workers, marks nothing as running, and prints one line; the sweep exits
non-zero when a job failed (a proven-infeasible model is an answer, not a failure) and says
where the errors are.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

# Top-level config keys that the solve reads; everything else (experiment_name, print_plan,
# tracking, sweep, swept helper keys such as ``mbs`` that reach the solve only through an
# interpolation) does not change a result.
SOLVE_KEYS = ("dnn", "devices", "network", "scenario", "objective", "solver", "profiles", "baseline", "carbon",
              "formulation", "default_formulation", "model", "constraints", "plugins")


@dataclass
class Job:
    spec: "SweepSpec"
    index: int
    overrides: list[str]
    group: tuple[str, ...] = ()
    values: list[str] = field(default_factory=list)
    config: dict | None = None
    key: str | None = None
    record: dict | None = None

    @property
    def dir(self) -> Path:
        return self.spec.sweep_dir / str(self.index)


@dataclass
class SweepSpec:
    """One sweep: its name (the experiment, or ``sweep``), folder, grid and report."""

    name: str
    sweep_dir: Path
    params: dict[str, str]
    overrides: list[str]
    report: str | None = None
    tracking: dict = field(default_factory=dict)
    resume: bool = True
    base_config: dict = field(default_factory=dict)
    jobs: list[Job] = field(default_factory=list)
    elapsed_s: float = 0.0
    solve_s: float = 0.0
    report_s: float = 0.0
    report_error: str | None = None
    report_path: Path | None = None
    tracking_error: str | None = None


def solve_key(config: dict) -> str:
    relevant = {k: config.get(k) for k in SOLVE_KEYS}
    return hashlib.sha1(json.dumps(relevant, sort_keys=True, default=str).encode()).hexdigest()[:16]


# ---------------------------------------------------------------------------------------------
# work done in the workers (and in process for small sweeps)

_COMPOSED: dict[tuple, Any] = {}


def compose_jobs(task: tuple[tuple[str, ...], list[list[str]]]) -> list[tuple[dict | None, str | None]]:
    """Compose one group combination and resolve each job's value overrides on a copy."""
    from omegaconf import OmegaConf

    from layerplan.launch import apply_values, compose

    group, values_list = task
    out: list[tuple[dict | None, str | None]] = []
    try:
        if group not in _COMPOSED:
            _COMPOSED[group] = compose(list(group))
        base = _COMPOSED[group]
    except Exception as exc:  # a bad choice in the grid: every job of it fails, the sweep goes on
        return [(None, _one_line(exc))] * len(values_list)
    for values in values_list:
        try:
            cfg = apply_values(base, values)
            out.append((OmegaConf.to_container(cfg, resolve=True), None))
        except Exception as exc:
            out.append((None, _one_line(exc)))
    return out


def _one_line(exc: BaseException) -> str:
    from layerplan.errors import LayerplanError

    if isinstance(exc, LayerplanError):
        return exc.one_line()
    text = " ".join(str(exc).split())
    return f"config: {type(exc).__name__}: {text}"[:2000]


def solve_record(config: dict) -> dict:
    """Solve one resolved config; return its result record (an error record on failure)."""
    from layerplan.errors import LayerplanError

    try:
        return _solve(config)
    except LayerplanError as exc:
        status = "infeasible" if "infeasible" in exc.message and type(exc).__name__ == "SolverError" else "error"
        return {"status": status, "error": exc.one_line(), "error_type": type(exc).__name__}
    except Exception as exc:  # a bug: keep the traceback in the record, not on the console
        return {"status": "error", "error": f"{type(exc).__name__}: {exc}", "error_type": type(exc).__name__,
                "traceback": traceback.format_exc()}


def _solve(config: dict) -> dict:
    from layerplan.api import solve_config  # the one path from a config to a result (CLI, API, sweeps)

    return solve_config(config)


def _solve_task(task: tuple[str, dict]) -> tuple[str, dict, float]:
    key, config = task
    t0 = time.process_time()
    rec = solve_record(config)
    return key, rec, time.process_time() - t0


def _worker_init() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    try:  # die with the parent (SIGKILL of the sweep must not leave workers writing)
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:  # pragma: no cover - not Linux
        pass


def warm_up() -> None:
    """Import what every solve needs once, before the workers are forked; cache the parsed
    config and data files for the repeated composes and loads of a sweep."""
    import layerplan.api  # noqa: F401  (pyomo, the builder, the solver interface)
    from layerplan.registry import constraints, formulations, objectives

    for reg in (formulations, constraints, objectives):
        reg.load()
    import highspy  # noqa: F401

    cache_config_sources()
    memoize_loaders()


def cache_config_sources() -> None:
    """Hydra parses every YAML file of the defaults tree again at each compose (most of a
    compose's time); a sweep composes many times in one process, so keep the parsed files
    (a deep copy is handed out each time, so a compose never sees another's changes). A
    file is cached when it is read the second time: a single run reads each file once and
    pays no copy. The YAML itself is parsed by libyaml (:func:`fast_yaml_loader`)."""
    import copy

    from hydra._internal.core_plugins.importlib_resources_config_source import ImportlibResourcesConfigSource
    from hydra.plugins.config_source import ConfigResult

    fast_yaml_loader()
    if getattr(ImportlibResourcesConfigSource.load_config, "_layerplan_cached", False):
        return
    original = ImportlibResourcesConfigSource.load_config
    cache: dict[tuple[str, str], ConfigResult | None] = {}

    def load_config(self, config_path: str) -> ConfigResult:
        key = (self.path, config_path)
        hit = cache.get(key)
        if hit is None:
            result = original(self, config_path)
            if key not in cache:  # first read: hand it out as it is
                cache[key] = None
                return result
            cache[key] = hit = result
        return ConfigResult(config=copy.deepcopy(hit.config), path=hit.path, provider=hit.provider,
                            header=dict(hit.header), is_schema_source=hit.is_schema_source)

    load_config._layerplan_cached = True
    ImportlibResourcesConfigSource.load_config = load_config


def fast_yaml_loader() -> None:
    """OmegaConf reads config files with a loader built on PyYAML's pure-Python parser, built
    anew at every file. Use one built on libyaml (``yaml.CSafeLoader``) when PyYAML has it,
    with OmegaConf's rules: its implicit resolvers (floats such as ``1e-3``, no timestamps),
    its constructors (paths) and its duplicate-key error (a test checks that every shipped
    config file loads to the same config either way)."""
    import yaml
    from omegaconf import _utils

    if getattr(_utils.get_yaml_loader, "_layerplan_fast", False) or not hasattr(yaml, "CSafeLoader"):
        return
    reference = _utils.get_yaml_loader()

    class OmegaConfCLoader(yaml.CSafeLoader):
        def construct_mapping(self, node, deep=False):
            seen = set()
            for key_node, _value in node.value:
                if key_node.tag != yaml.resolver.BaseResolver.DEFAULT_SCALAR_TAG:
                    continue
                if key_node.value in seen:
                    raise yaml.constructor.ConstructorError("while constructing a mapping", node.start_mark,
                                                            f"found duplicate key {key_node.value}",
                                                            key_node.start_mark)
                seen.add(key_node.value)
            return super().construct_mapping(node, deep=deep)

    OmegaConfCLoader.yaml_implicit_resolvers = {k: list(v) for k, v in reference.yaml_implicit_resolvers.items()}
    OmegaConfCLoader.yaml_constructors = dict(reference.yaml_constructors)

    def get_yaml_loader():
        return OmegaConfCLoader

    get_yaml_loader._layerplan_fast = True
    get_yaml_loader.original = _utils.get_yaml_loader
    _utils.get_yaml_loader = get_yaml_loader


_LOADER_CACHE: dict[tuple, Any] = {}


def memoize_loaders() -> None:
    """Within a sweep, each data file (layer table, device set, network radio table, profile
    set) is read once per process: the loaders return frozen dataclasses (ProfileSet is only
    read), so their results are shared between the jobs of a worker."""
    import functools

    from layerplan import carbon, io, profiles

    def wrap(module, name):
        fn = getattr(module, name)
        if getattr(fn, "_layerplan_memo", False):
            return

        @functools.wraps(fn)
        def memo(*args, **kwargs):
            try:
                key = (module.__name__, name, json.dumps([args, kwargs], sort_keys=True, default=str))
            except TypeError:
                return fn(*args, **kwargs)
            if key not in _LOADER_CACHE:
                _LOADER_CACHE[key] = fn(*args, **kwargs)
            return _LOADER_CACHE[key]

        memo._layerplan_memo = True
        setattr(module, name, memo)

    for name in ("load_dnn", "load_radios", "load_catalogue"):
        if hasattr(io, name):
            wrap(io, name)
    wrap(profiles, "load_profiles")
    wrap(carbon, "load_trace")  # a CarbonTrace holds tuples


# ---------------------------------------------------------------------------------------------
# the parent


class Progress:
    def __init__(self, total: int, label: str = "") -> None:
        self.total, self.done, self.failed, self.label = total, 0, 0, label
        self.t0 = time.perf_counter()
        self.tty = sys.stderr.isatty()
        self._last = 0.0

    def step(self, n: int = 1, failed: int = 0) -> None:
        self.done += n
        self.failed += failed
        now = time.perf_counter()
        if self.tty and now - self._last < 0.1 and self.done < self.total:
            return
        if not self.tty and now - self._last < 5 and self.done < self.total:
            return
        self._last = now
        el = now - self.t0
        eta = el / self.done * (self.total - self.done) if self.done else 0.0
        msg = (f"{self.label}{self.done}/{self.total} jobs, {self.failed} failed, {el:5.1f} s elapsed, "
               f"ETA {eta:5.1f} s")
        print(("\r" + msg + "   ") if self.tty else msg, end="" if self.tty else "\n", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.tty and not getattr(self, "_closed", False):
            print(file=sys.stderr)
        self._closed = True


def _map(pool, fn: Callable, tasks: list, on_result: Callable) -> None:
    if pool is None:
        for t in tasks:
            on_result(fn(t))
        return
    for res in pool.imap_unordered(fn, tasks, chunksize=1):
        on_result(res)


def _write_job(job: Job, record: dict) -> None:
    import yaml

    job.dir.mkdir(parents=True, exist_ok=True)
    rec = {k: v for k, v in record.items() if k != "traceback"}
    rec.update({"experiment": (job.config or {}).get("experiment_name", job.spec.name), "output_dir": str(job.dir),
                "job_key": job.key, "overrides": job.overrides})
    if record.get("traceback"):
        (job.dir / "traceback.txt").write_text(record["traceback"])
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml's emitter: 10x the pure-Python one
    (job.dir / "config.yaml").write_text(yaml.dump(job.config or {}, Dumper=dumper, sort_keys=False))
    from layerplan.results import to_jsonable, write_json

    write_json(job.dir / "result.json", to_jsonable(rec), indent=2)
    job.record = rec


def _finished(sweep_dir: Path) -> dict[tuple[int, str], dict]:
    """(job index, key) -> record of the jobs already finished in this folder (resume)."""
    done = {}
    if not sweep_dir.is_dir():
        return done
    for path in sweep_dir.glob("*/result.json"):
        try:
            rec = json.loads(path.read_text())
            idx = int(path.parent.name)
        except (ValueError, OSError):
            continue
        if rec.get("job_key") and rec.get("status") not in (None, "error"):
            done[(idx, rec["job_key"])] = rec
    return done


def failed(record: dict | None) -> bool:
    return record is None or record.get("status") == "error"


def run_sweeps(specs: list[SweepSpec], *, workers: int | None = None, resume: bool = True,
               quiet: bool = False, label: str = "") -> int:
    """Run the sweeps (one pool for all of them); returns the exit code."""
    from layerplan.launch import hydra_session

    with hydra_session():
        return _run_sweeps(specs, workers=workers, resume=resume, quiet=quiet, label=label)


def _run_sweeps(specs: list[SweepSpec], *, workers: int | None, resume: bool, quiet: bool, label: str) -> int:
    from layerplan.launch import config_groups, expand, partition

    t_start = time.perf_counter()
    groups = config_groups()
    for spec in specs:
        spec.jobs = [Job(spec, i, ov) for i, ov in enumerate(expand(spec.params, spec.overrides))]
        for job in spec.jobs:
            job.group, job.values = partition(job.overrides, groups)
    jobs = [j for s in specs for j in s.jobs]
    n_workers = workers if workers is not None else (os.cpu_count() or 1)
    by_group: dict[tuple, list[Job]] = {}
    for j in jobs:
        by_group.setdefault(j.group, []).append(j)

    warm_up()
    pool = None
    progress = Progress(len(jobs), label)
    interrupted = False
    try:
        if n_workers > 1 and len(jobs) > 1:
            import multiprocessing as mp

            pool = mp.get_context("fork").Pool(min(n_workers, len(jobs)), initializer=_worker_init)
        # phase 2: compose (one task per group combination)
        group_keys = list(by_group)
        composed: dict[tuple, list] = {}

        def got_compose(res):
            g, out = res
            composed[g] = out

        _map(pool, _compose_task, [(g, [j.values for j in by_group[g]]) for g in group_keys], got_compose)
        for g, out in composed.items():
            for job, (config, err) in zip(by_group[g], out):
                job.config = config
                if err is not None:
                    job.key = None
                    job.config = {"overrides": job.overrides}
                    job.record = {"status": "error", "error": err, "error_type": "ConfigError"}
                else:
                    job.key = solve_key(config)
        # phase 3: solve each distinct key once (resume: skip what this folder already holds)
        todo: dict[str, dict] = {}
        waiting: dict[str, list[Job]] = {}
        for spec in specs:
            done = _finished(spec.sweep_dir) if (resume and spec.resume) else {}
            for job in spec.jobs:
                if job.key is None:
                    _write_job(job, job.record)
                    progress.step(failed=1)
                    continue
                prev = done.get((job.index, job.key))
                if prev is not None:
                    job.record = prev
                    progress.step()
                    continue
                waiting.setdefault(job.key, []).append(job)
                todo.setdefault(job.key, job.config)

        def got_solve(res):
            key, rec, seconds = res
            for i, job in enumerate(waiting.get(key, [])):
                _write_job(job, rec)
                if i == 0:
                    job.spec.solve_s += seconds
                progress.step(failed=int(failed(rec)))

        _map(pool, _solve_task, list(todo.items()), got_solve)
        progress.close()
        # reports, in parallel with each other
        for spec in specs:
            spec.elapsed_s = time.perf_counter() - t_start
        report_specs = [s for s in specs if s.report]

        def got_report(res):
            name, sweep_dir, path, seconds, error = res
            for spec in report_specs:
                if spec.report == name and str(spec.sweep_dir) == sweep_dir:
                    spec.report_s = seconds
                    if path:
                        spec.report_path = Path(path)
                    else:
                        spec.report_error = error
                        print(f"layerplan: error: report {name}: {error}", file=sys.stderr)

        _map(pool if len(report_specs) > 1 else None, _report_task,
             [(s.report, str(s.sweep_dir)) for s in report_specs], got_report)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if pool is not None:
            if interrupted:
                pool.terminate()
            else:
                pool.close()
            pool.join()
        progress.close()
    if interrupted:
        done = sum(1 for j in jobs if j.record is not None)
        where = ", ".join(str(s.sweep_dir) for s in specs)
        print(f"layerplan: interrupted: {done} of {len(jobs)} jobs finished and kept in {where}; "
              f"run the same command with hydra.sweep.dir=<that folder> to resume", file=sys.stderr)
        return 130
    tracking_failed = False
    try:
        for spec in specs:
            if not spec.tracking.get("enabled", True):
                continue
            from layerplan.errors import LayerplanError
            from layerplan.tracking import log_sweep

            try:
                log_sweep(spec)
            except LayerplanError as exc:
                tracking_failed = True
                spec.tracking_error = exc.one_line()
                print(f"layerplan: error: {exc.one_line()}", file=sys.stderr)
    except KeyboardInterrupt:
        print(f"layerplan: interrupted while recording in MLflow: the sweep's runs are marked KILLED; every "
              f"result.json is kept; rerun the same command to record the rest", file=sys.stderr)
        return 130
    n_failed = sum(failed(j.record) for j in jobs)
    other_failed = tracking_failed or any(s.report_error for s in specs)
    n_infeasible = sum(1 for j in jobs if (j.record or {}).get("status") == "infeasible")
    if not quiet:
        summary_lines(specs, jobs, n_failed, n_infeasible, time.perf_counter() - t_start)
    return 1 if (n_failed or other_failed) else 0


def _report_task(task):
    name, sweep_dir = task
    t0 = time.process_time()
    try:
        from layerplan.experiments.report import build_report

        summary = build_report(name, sweep_dir)
        return name, sweep_dir, str(Path(summary["out_dir"]) / "report.md"), time.process_time() - t0, None
    except Exception as exc:  # the report is the user's table: say why it is missing, keep the results
        return name, sweep_dir, None, time.process_time() - t0, f"{type(exc).__name__}: {exc}"


def _compose_task(task):
    group, values_list = task
    return group, compose_jobs((group, values_list))


def summary_lines(specs, jobs, n_failed, n_infeasible, elapsed) -> None:
    ok = len(jobs) - n_failed - n_infeasible
    unique = len({j.key for j in jobs if j.key})
    msg = (f"sweep: {len(jobs)} jobs ({unique} distinct solves): {ok} ok, {n_infeasible} infeasible, "
           f"{n_failed} failed, {elapsed:.1f} s")
    print(msg, file=sys.stderr)
    if n_failed:
        shown = [j for j in jobs if failed(j.record)][:5]
        for j in shown:
            print(f"  failed: {j.dir}/result.json: {(j.record or {}).get('error', '')[:300]}", file=sys.stderr)
        if n_failed > len(shown):
            print(f"  ... and {n_failed - len(shown)} more (status \"error\" in result.json)", file=sys.stderr)
    for spec in specs:
        if spec.report_path:
            print(f"report: {spec.report_path}")


def run_sweep_from_cli(cfg_h, task: list[str], hyd: list[str]) -> int:
    """``python run.py -m ...`` or an experiment config with ``hydra.mode: MULTIRUN``."""
    from omegaconf import OmegaConf

    params = OmegaConf.to_container(cfg_h.hydra.sweeper.params, resolve=False) if cfg_h.hydra.sweeper.get(
        "params") else {}
    params = {str(k): str(v) for k, v in (params or {}).items()}
    sweep_dir = Path(str(OmegaConf.select(cfg_h, "hydra.sweep.dir")))
    report = OmegaConf.select(cfg_h, "hydra.callbacks.report.experiment", default=None)
    sweep_opts = OmegaConf.to_container(cfg_h.get("sweep") or OmegaConf.create({}), resolve=True)
    tracking = OmegaConf.to_container(cfg_h.tracking, resolve=True) if cfg_h.get("tracking") else {}
    name = str(cfg_h.get("experiment_name") or "sweep")
    spec = SweepSpec(name, sweep_dir, params, list(task), report=report, tracking=tracking,
                     resume=bool(sweep_opts.get("resume", True)))
    code = run_sweeps([spec], workers=sweep_opts.get("workers"))
    if spec.report_path and spec.report_path.is_file():
        print(spec.report_path.read_text())
    return code
