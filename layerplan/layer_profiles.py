"""Per-layer profiles (docs/dag.md): a measured latency, and optionally energy, per layer and
device, like a bundle profile of size 1 (Ch. 7), so published per-layer profiles can be used
directly instead of the analytic Eqs. (4.1)-(4.2).

CSV, one row per (layer, device)::

    layer,device,latency_ms,energy_mJ
    conv1,cpu,12.5,310
    conv1,gpu,0.9,

``device`` is a scenario device name or a profile label (map devices to labels with
``device_labels``). Latency in ``latency_s`` or ``latency_ms``, energy (optional, may be
empty) in ``energy_J`` or ``energy_mJ``; converted to SI here, once. As with bundle
profiles the measurement includes loading the layer's weights (Sec. 4.4), so a profiled
(layer, device) gets t^c = the profile and t^w = 0; unprofiled pairs keep the analytic model.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import numpy as np

from layerplan.errors import DataError

SCALE = {"latency_s": 1.0, "latency_ms": 1e-3, "energy_J": 1.0, "energy_mJ": 1e-3}


@dataclass
class LayerProfiles:
    latency_s: dict[tuple[str, str], float] = field(default_factory=dict)  # (layer, device label) -> s
    energy_J: dict[tuple[str, str], float] = field(default_factory=dict)
    source: str = "<inline>"


def load_layer_profiles(path: str | Path) -> LayerProfiles:
    source = str(path)
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = [r for r in csv.reader(fh) if r and not r[0].lstrip().startswith("#")]
    except OSError as exc:
        raise DataError(f"cannot read ({exc.strerror})", source=source) from None
    if not rows:
        raise DataError("empty", source=source, field="layer")
    header = [h.strip() for h in rows[0]]
    lat = [c for c in header if c in ("latency_s", "latency_ms")]
    en = [c for c in header if c in ("energy_J", "energy_mJ")]
    for need in ("layer", "device"):
        if need not in header:
            raise DataError("missing column", source=source, field=need)
    if len(lat) != 1:
        raise DataError("needs exactly one of latency_s, latency_ms", source=source, field="latency_s")
    if len(en) > 1:
        raise DataError("at most one of energy_J, energy_mJ", source=source, field="energy_J")
    unknown = [c for c in header if c not in ("layer", "device", *SCALE)]
    if unknown:
        raise DataError(f"unknown column(s) {', '.join(unknown)}", source=source, field=unknown[0])
    prof = LayerProfiles(source=source)
    for lineno, row in enumerate(rows[1:], start=2):
        rec = dict(zip(header, (c.strip() for c in row)))
        key = (rec["layer"], rec["device"])
        if not key[0] or not key[1]:
            raise DataError("layer and device must be given", source=source, field=f"row {lineno}")
        if key in prof.latency_s:
            raise DataError(f"duplicate profile for layer {key[0]!r} on {key[1]!r}", source=source, field=f"row {lineno}")
        prof.latency_s[key] = _value(rec, lat[0], source, lineno, required=True)
        if en and rec.get(en[0], "") != "":
            prof.energy_J[key] = _value(rec, en[0], source, lineno, required=True)
    return prof


def _value(rec, col, source, lineno, *, required):
    try:
        v = float(rec[col])
    except (TypeError, ValueError):
        raise DataError(f"must be a number, got {rec.get(col)!r}", source=source, field=f"row {lineno}: {col}") from None
    if not math.isfinite(v) or v < 0:
        raise DataError(f"must be finite and >= 0, got {rec[col]!r}", source=source, field=f"row {lineno}: {col}")
    return v * SCALE[col]


def apply_layer_profiles(params, prof: LayerProfiles, device_labels: Mapping[str, str] | None = None,
                         *, strict: bool = False) -> int:
    """Replace t^c (and zero t^w) of every profiled (layer, device) in ``params``; record
    energies in ``params.layer_energy_J`` (NaN where none). Returns the number of pairs set.
    ``strict``: every real layer must be profiled on every device."""
    labels = {d: (device_labels or {}).get(d, d) for d in params.devices}
    known_layers = set(params.layers)
    stray = sorted({lay for (lay, _) in prof.latency_s if lay not in known_layers})
    if stray:
        raise DataError(f"profiles name unknown layer {stray[0]!r}", source=prof.source, field="layer")
    energy = np.full((params.n_layers, params.n_devices), np.nan) if params.layer_energy_J is None else params.layer_energy_J
    n = 0
    for l, lname in enumerate(params.layers):
        for k, dname in enumerate(params.devices):
            key = (lname, labels[dname])
            if key in prof.latency_s:
                params.compute_s[l, k] = prof.latency_s[key]
                params.weight_s[l, k] = 0.0
                n += 1
                if key in prof.energy_J:
                    energy[l, k] = prof.energy_J[key]
            elif strict and params.pseudo[l] is None:
                raise DataError(f"no profile for layer {lname!r} on {labels[dname]!r}", source=prof.source, field="layer")
    params.layer_energy_J = energy
    return n
