"""Checks on derived quantities: every latency term of a scenario is finite and bounded.

Each input value is range-checked when it is loaded (``layerplan/units.py``,
``layerplan/io.py``), but a plausible FLOP count on a plausible but slow device, or a large
tensor on a 1 B/s link, can still give a term of years; such a model is badly scaled and
ends as a solver failure that names nothing. :func:`check_latency_terms` refuses it at build
time with one line naming the file and the fields that produce the term (Eqs. (4.1)-(4.3)).
"""

from __future__ import annotations

import math

from layerplan.errors import DataError

#: Largest latency term accepted, s (11.6 days for one layer on one device or one transfer).
MAX_TERM_S = 1e6


def _bad(value: float) -> bool:
    return not math.isfinite(value) or value > MAX_TERM_S


def check_latency_terms(scenario) -> None:
    """Raise a DataError when t^c, t^w or t^x (Eqs. (4.1)-(4.3)) of any layer and device
    (pair) is not finite or above :data:`MAX_TERM_S`."""
    devs = scenario.devices
    net = scenario.network
    src = scenario.dnn.source_file
    for layer in scenario.layers:
        for d in devs:
            t_c = layer.flop / d.flops_per_s  # Eq. (4.1)
            if _bad(t_c):
                raise DataError(
                    f"layer {layer.name!r} on device {d.name!r} computes for {t_c:.3g} s (flop {layer.flop:.3g} / "
                    f"flops_per_s {d.flops_per_s:.3g}), over {MAX_TERM_S:g} s: a value is wrong",
                    source=src, field=f"{layer.name}.flop")
            t_w = layer.weight_bytes / d.internal_bandwidth_Bps  # Eq. (4.2)
            if _bad(t_w):
                raise DataError(
                    f"layer {layer.name!r} on device {d.name!r} loads weights for {t_w:.3g} s "
                    f"({layer.weight_bytes:.3g} B / internal_bandwidth_Bps {d.internal_bandwidth_Bps:.3g}), "
                    f"over {MAX_TERM_S:g} s: a value is wrong",
                    source=src, field=f"{layer.name}.weights")
    links = [(a, b, net.link_bandwidth_Bps(a, b)) for a in devs for b in devs]
    for layer in scenario.layers[:-1]:
        for a, b, bw in links:
            t_x = layer.out_bytes / bw  # Eq. (4.3)
            if _bad(t_x):
                where = f"devices.{a.name}.internal_bandwidth_Bps" if a.name == b.name else f"link {a.name}->{b.name}"
                raise DataError(
                    f"sending layer {layer.name!r}'s output ({layer.out_bytes:.3g} B) takes {t_x:.3g} s at "
                    f"{bw:.3g} B/s ({where}), over {MAX_TERM_S:g} s: a value is wrong",
                    source=f"{src} + {net.source_file}", field=f"{layer.name}.out_h/out_w/out_d")
