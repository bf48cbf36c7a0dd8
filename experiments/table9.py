"""Shared rows of the CADI experiments (Tables 9.1-9.2, Fig. 9.3): one row per job from its
result.json (the ``cadi`` report and the ``carbon_grids`` record)."""

from __future__ import annotations

from pathlib import Path

GRID_LABEL = {"MISO": "MISO", "LADWP": "LADWP", "CAISO": "CAISO"}


def _mhz(label) -> str:
    try:
        return f"{float(label) / 1e6:.1f}"
    except (TypeError, ValueError):
        return str(label) if label is not None else ""


def cadi_row(rec: dict) -> dict:
    """dnn, grids, objective and the CADI quantities of one job (None where it failed)."""
    cfg = rec.get("config") or {}
    grids = rec.get("carbon_grids") or {}
    devices = (cfg.get("carbon") or {}).get("devices") or {}
    src, partner = devices.get("src"), devices.get("partner")
    row = {
        "dnn": (cfg.get("dnn") or {}).get("name"),
        "grid": f"{src} -> {partner}",
        "objective": (cfg.get("objective") or {}).get("name"),
        "single_device_allowed": ((cfg.get("formulation") or {}).get("cadi") or {}).get("single_device"),
        "time_utc": (grids.get("src") or {}).get("time"),
        "C_src_g_per_kWh": (grids.get("src") or {}).get("intensity_gCO2_per_kWh"),
        "C_partner_g_per_kWh": (grids.get("partner") or {}).get("intensity_gCO2_per_kWh"),
        "status": rec.get("status"),
        "solved": rec.get("status") in ("optimal", "feasible"),
        "error": rec.get("error"),
    }
    c = rec.get("cadi")
    if row["solved"] and c:
        freq = (rec.get("freddi") or {}).get("frequency") or {}
        alone = c.get("source_alone") or {}
        same = c.get("single_device_same_inferences") or {}
        row.update({
            "E_J": c["energy_J"], "EF_J": c["energy_footprint_J"], "CF_mg": c.get("carbon_footprint_mg"),
            "I": c["inferences"], "cycle_s": c["cycle_s"], "latency_s": c["latency_s"],
            "L_trans": c["transition_layer"] or "none",
            "F_src_MHz": _mhz(freq.get("src")), "F_partner_MHz": _mhz(freq.get("partner")),
            "alone_CF_mg": alone.get("carbon_footprint_mg"), "alone_I": alone.get("inferences"),
            "same_I_single_CF_mg": same.get("carbon_footprint_mg") if same else None,
        })
    return row


def mean(values) -> float:
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else float("nan")


def write_report(out_dir: Path, lines: list[str], rows: list[dict], label, claims: list[dict], extra=()) -> None:
    """report.md: the given lines, the jobs without a solution (``label(row)`` names each),
    ``extra`` lines, then the claims."""
    from layerplan.experiments.records import claims_markdown

    fails = [r for r in rows if not r["solved"]]
    if fails:
        lines = lines + ["", "No solution:"] + [f"- {label(r)}: {r['error']}" for r in fails]
    (out_dir / "report.md").write_text("\n".join(list(lines) + list(extra) + claims_markdown(claims)) + "\n")


def intensity_source(times: list[str]) -> str:
    """Where the report's intensities came from: trace hours, or the shipped constants."""
    if times:
        return f"Electricity Maps 2022 lifecycle traces at {', '.join(times)}"
    return "the shipped constant 2022 yearly means (carbon=yearly_2022)"
