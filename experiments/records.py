"""Read the result records of a sweep (``result.json`` + ``config.yaml`` per job)."""

from __future__ import annotations

import csv
import json
from importlib import resources
from pathlib import Path

import yaml


def load_records(sweep_dir: str | Path) -> list[dict]:
    """Every job's result.json under ``sweep_dir``, with its composed config under ``config``."""
    out = []
    for path in sorted(Path(sweep_dir).rglob("result.json")):
        rec = json.loads(path.read_text())
        cfg_path = path.parent / "config.yaml"
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser where present
        rec["config"] = yaml.load(cfg_path.read_text(), Loader=loader) if cfg_path.is_file() else {}
        rec["job_dir"] = str(path.parent)
        out.append(rec)
    return out


def published(name: str) -> list[dict]:
    """Published values shipped in experiments/published/<name>.csv."""
    text = (resources.files("layerplan.experiments") / "published" / f"{name}.csv").read_text()
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    return list(csv.DictReader(lines))


def write_csv(path: Path, rows: list[dict]) -> None:
    if not rows:
        path.write_text("")
        return
    keys = list(rows[0])
    for r in rows[1:]:
        keys += [k for k in r if k not in keys]
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)


def formulation_label(rec: dict) -> str:
    forms = [f for f in rec.get("formulations", []) if f != "base"]
    return "+".join(forms) if forms else "base"


def claim(text: str, holds: bool, evidence: str) -> dict:
    return {"claim": text, "holds": bool(holds), "evidence": evidence}


def claims_markdown(claims: list[dict]) -> list[str]:
    lines = ["", "## Claims of the thesis, checked on our numbers", ""]
    for c in claims:
        lines.append(f"- **{'holds' if c['holds'] else 'does not hold'}**: {c['claim']} ({c['evidence']})")
    return lines


def markdown_table(rows: list[dict], cols: list[str]) -> list[str]:
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        out.append("| " + " | ".join(_fmt(r.get(c)) for c in cols) + " |")
    return out


def _fmt(v) -> str:
    if v is None or v == "":
        return ""
    if isinstance(v, float):
        return f"{v:.4g}" if abs(v) < 1e4 else f"{v:.3e}"
    return str(v)
