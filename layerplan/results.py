"""Turn a solved model into the result record (``result.json``) and a readable plan."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from layerplan.build import BuiltModel, model_size
from layerplan.solve import SolveResult

LATENCY_KEYS = {"latency.compute": "compute", "latency.communication": "communication", "latency.weight": "weight"}


def ratio_of_compute(params, assignment: list[int], *, expected: bool = True) -> dict[str, float]:
    """Share of the FLOP executed on each device (Sec. 6.4, RoC). ``expected`` weights each
    layer by its execution probability; otherwise every layer counts once (the static share)."""
    work = params.flop * params.exec_prob if expected else params.flop
    total = float(work.sum())
    out = {d: 0.0 for d in params.devices}
    for l, d in enumerate(assignment):
        out[params.devices[d]] += float(work[l])
    return {d: (v / total if total > 0 else 0.0) for d, v in out.items()}


def orchestrator_plan(params, assignment: list[int]) -> dict[str, list[dict[str, Any]]]:
    """Per device: the layers it runs, each with the device that runs the next layer
    (Fig. 4.2, step 4). The last layer's next device is null."""
    plan: dict[str, list[dict[str, Any]]] = {d: [] for d in params.devices}
    for l, d in enumerate(assignment):
        nxt = params.devices[assignment[l + 1]] if l + 1 < len(assignment) else None
        plan[params.devices[d]].append({"layer": params.layers[l], "next_device": nxt})
    return plan


def transitions(params, assignment: list[int]) -> list[dict[str, Any]]:
    return [
        {"after_layer": params.layers[l], "from": params.devices[assignment[l]], "to": params.devices[assignment[l + 1]]}
        for l in range(len(assignment) - 1)
        if assignment[l] != assignment[l + 1]
    ]


def collect(built: BuiltModel, sol: SolveResult) -> dict[str, Any]:
    params = built.ctx.params
    assignment = built.base.assignment()
    terms = built.ctx.terms
    latency = {short: terms.value(name) for name, short in LATENCY_KEYS.items()}
    extra = {n: terms.value(n) for n in terms.names("latency.") if n not in LATENCY_KEYS}
    latency.update({n.split(".", 1)[1]: v for n, v in extra.items()})
    latency["total"] = float(sum(latency.values()))
    reports = {}
    for key, blk in built.ctx.active.items():
        if hasattr(blk, "report"):
            reports[key.split(":", 1)[1]] = blk.report(built.ctx)
    estimated = None
    for rep in reports.values():  # DIME/JointDNN: the plan's actual latency (Sec. 7.2)
        if isinstance(rep, dict) and isinstance(rep.get("actual_latency_s"), dict):
            # latency_s is what the plan achieves (each device charged the profile of the
            # whole segment it runs); the ILP's estimate is kept beside it
            estimated = latency
            latency = {**rep["actual_latency_s"], "estimated": estimated["total"]}
            break
    return {
        **reports,
        "status": sol.status,
        "termination": sol.termination,
        "objective": sol.objective,
        "objective_bound": sol.bound,
        "mip_gap": sol.gap,
        "method": sol.extra.get("method", "milp"),  # dp: answered by layerplan.dp's certified fast path
        "scenario": built.ctx.scenario.name,
        "dnn": built.ctx.scenario.dnn.name,
        "granularity": built.ctx.scenario.dnn.granularity,
        "devices": list(params.devices),
        "formulations": built.composition.formulation_names,
        "constraints": [e.name for e, _ in built.composition.constraints],
        "objective_name": built.composition.objective[0].name,
        "assignment": [{"layer": params.layers[l], "device": params.devices[d]} for l, d in enumerate(assignment)],
        "plan": orchestrator_plan(params, assignment),
        "transitions": transitions(params, assignment),
        "latency_s": latency,
        **({"latency_estimated_s": estimated} if estimated is not None else {}),
        "ratio_of_compute": ratio_of_compute(params, assignment),
        "ratio_of_compute_static": ratio_of_compute(params, assignment, expected=False),
        "term_owners": {n: terms.owners(n) for n in terms.names()},
        "model_size": model_size(built.model),
        "timing_s": {"build": built.build_s, "solve": sol.solve_s},
        "solver": {"name": sol.solver, "version": sol.solver_version},
    }


def finalize_record(record: dict[str, Any]) -> dict[str, Any]:
    """What every record says, whichever backend produced it (Pyomo or the DP/direct fast
    path): ``latency_s`` is the plan's actual latency where the bundle sections define one
    (the ILP's estimate in ``latency_s.estimated``, breakdown ``latency_estimated_s``), and
    frequencies are numbers of Hz (profile labels kept under ``frequency_label``)."""
    from layerplan.formulations.dime import frequency_value

    lat = record.get("latency_s")
    if isinstance(lat, dict) and "estimated" not in lat:
        for sec in ("dime", "jointdnn"):
            rep = record.get(sec)
            if isinstance(rep, dict) and isinstance(rep.get("actual_latency_s"), dict):
                record["latency_estimated_s"] = dict(lat)
                record["latency_s"] = {**rep["actual_latency_s"], "estimated": lat.get("total")}
                break
    for sec in ("dime", "jointdnn", "freddi"):
        rep = record.get(sec)
        if not isinstance(rep, dict):
            continue
        if isinstance(rep.get("frequency"), dict) and "frequency_label" not in rep:
            rep["frequency_label"] = dict(rep["frequency"])
            rep["frequency"] = {d: frequency_value(v) for d, v in rep["frequency"].items()}
        for b in rep.get("bundles") or []:
            if isinstance(b, dict) and "frequency" in b and "frequency_label" not in b:
                b["frequency_label"] = b["frequency"]
                b["frequency"] = frequency_value(b["frequency"])
    return record


def format_plan(result: dict[str, Any]) -> str:
    """Readable plan for the terminal, every figure with its unit."""
    from layerplan.figures import figure_lines, objective_unit

    name = result.get("baseline") or result["objective_name"]
    lines = [
        f"scenario {result['scenario']} ({result['dnn']}, {result['granularity']} layers) on "
        f"{', '.join(result['devices'])}; formulations: {', '.join(result['formulations'])}; "
        f"{'baseline' if result.get('baseline') else 'objective'}: {name}",
        f"solver {result['solver']['name']} {result['solver']['version']}: {result['status']} "
        f"({result['termination']}), objective {result['objective']:.6g}"
        + (f" {objective_unit(result)}" if objective_unit(result) else "")
        + (f" (proven gap {result['mip_gap']:.3g})" if result.get("status") == "feasible"
           and isinstance(result.get("mip_gap"), (int, float)) else ""),
        "",
        "layer -> device",
    ]
    width = max(len(a["layer"]) for a in result["assignment"])
    prev = None
    for a in result["assignment"]:
        mark = "" if prev in (None, a["device"]) else "   <- transition"
        lines.append(f"  {a['layer']:<{width}}  {a['device']}{mark}")
        prev = a["device"]
    lat = result["latency_s"]
    lines += [
        "",
        ("latency (s, actual): " if "estimated" in lat else "latency (s): ")
        + "T_c {compute:.4f}  T_x {communication:.4f}  T_w {weight:.4f}  total {total:.4f}".format(**lat),
        *figure_lines(result),
        "ratio of compute: " + ", ".join(f"{d} {v:.3f}" for d, v in result["ratio_of_compute"].items()),
        ("model: {variables} variables ({binary} binary), {constraints} constraints".format(**result["model_size"])
         if "variables" in result["model_size"] else f"model: {result['model_size']['model']}"
         if "model" in result["model_size"] else f"enumeration: {result['model_size'].get('plans')} plans"),
        f"method: {result.get('method', 'milp')}",
        "time (s): build {build:.3f}  solve {solve:.3f}".format(**result["timing_s"]),
    ]
    return "\n".join(lines)


def write_json(path, obj, **dumps_kwargs) -> None:
    """Write ``obj`` as JSON to ``path`` atomically (a temporary file beside it, then a
    rename): a process killed while writing (Ctrl-C, SIGKILL of a sweep) leaves the old
    file or the new one, never a truncated result.json."""
    import os
    import tempfile
    from pathlib import Path

    path = Path(path)
    text = json.dumps(obj, **dumps_kwargs)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def to_jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, (np.floating, np.integer)):
        return obj.item()
    return obj
