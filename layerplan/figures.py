"""Every figure of a result with its unit: the console lines and the MLflow metric names.

The objective's unit follows from the objective (``OBJECTIVE_UNITS``; a plugin objective
may declare ``meta={"unit": ...}`` when it registers). Energies are in J per device,
frequencies in Hz per device, carbon in mg CO2.
"""

from __future__ import annotations

from typing import Any, Mapping

OBJECTIVE_UNITS = {
    "latency": "s",            # global latency T (Sec. 5.3)
    "energy_cons": "s",        # min latency s.t. energy caps (Sec. 8.3)
    "energy": "J",             # edge energy (Sec. 8.3)
    "latency_cons": "J",
    "privacy": "J",
    "energy_single": "J",      # energy of one inference (Sec. 9.3)
    "carbon": "mgCO2",         # carbon footprint over the duration U (Eq. (9.5))
    "carbon_per_inference": "mgCO2",
}


def objective_unit(result: Mapping[str, Any]) -> str:
    name = result.get("objective_name") or "latency"
    if result.get("baseline"):
        return "s"
    if name in OBJECTIVE_UNITS:
        return OBJECTIVE_UNITS[name]
    try:
        from layerplan.registry import objectives

        return str(objectives.get(name).meta.get("unit") or "")
    except Exception:
        return ""


def _num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def frequencies_Hz(result: Mapping[str, Any]) -> dict[str, float]:
    for sec in ("freddi", "dime", "jointdnn"):
        freq = (result.get(sec) or {}).get("frequency") or {}
        if freq:
            return {d: float(v) for d, v in freq.items() if _num(v)}
    return {}


def frequency_labels(result: Mapping[str, Any]) -> dict[str, Any]:
    for sec in ("freddi", "dime", "jointdnn"):
        freq = (result.get(sec) or {}).get("frequency") or {}
        if freq:
            return dict(freq)
    return {}


def energy_J(result: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    return dict((result.get("freddi") or {}).get("energy_J") or {})


def unit_metrics(result: Mapping[str, Any]) -> dict[str, float]:
    """MLflow metrics whose names carry their units."""
    out: dict[str, float] = {}
    unit = objective_unit(result)
    if _num(result.get("objective")) and unit:
        out[f"objective_{unit}"] = float(result["objective"])
    for d, rec in energy_J(result).items():
        for k, v in (rec or {}).items():
            if _num(v):
                out[f"energy_J.{d}.{k}"] = float(v)
    for d, v in frequencies_Hz(result).items():
        out[f"frequency_Hz.{d}"] = v
    cadi = result.get("cadi") or {}
    for k in ("carbon_footprint_mg", "carbon_per_inference_mg"):
        if _num(cadi.get(k)):
            out[f"carbon_mgCO2.{k.replace('carbon_', '').replace('_mg', '')}"] = float(cadi[k])
    return out


def _fmt(v: float) -> str:
    return f"{(0.0 if abs(v) < 1e-15 else v):.6g}"


def figure_lines(result: Mapping[str, Any]) -> list[str]:
    """Console lines: objective with unit, actual and estimated latency, energy and
    frequency per device, carbon, and what the network's radio model says."""
    lines = []
    lat = result.get("latency_s") or {}
    if "estimated" in lat:
        lines.append(f"latency estimated by the ILP (s): total {lat['estimated']:.4f} (the line above is the plan's "
                     f"actual latency, each device charged the profile of its whole segment)")
    energies = energy_J(result)
    if energies:
        lines.append("energy (J): " + ", ".join(
            f"{d} {_fmt(rec.get('total', 0.0))} (compute {_fmt(rec.get('compute', 0.0))}, "
            f"communication {_fmt(rec.get('communication', 0.0))})" for d, rec in energies.items()))
    freq = frequency_labels(result)
    if freq:
        lines.append("frequency (Hz): " + ", ".join(
            f"{d} {_fmt(v) if _num(v) else v}" for d, v in freq.items()))
    cadi = result.get("cadi") or {}
    if _num(cadi.get("carbon_footprint_mg")):
        lines.append(f"carbon (mgCO2): footprint over U {_fmt(cadi['carbon_footprint_mg'])}")
    if result.get("radio_note"):
        lines.append(f"network: {result['radio_note']}")
    return lines
