"""Unit conversions, done once at the data boundary.

Inside layerplan every quantity is in SI base units and carries the unit in its name:
``latency_s``, ``bandwidth_Bps`` (bytes per second), ``memory_B``, ``flops_per_s``,
``power_W``, ``energy_J``. Data files may give a quantity in another unit by using
another suffix on the same stem, e.g. ``external_bandwidth_Mbps: 100`` instead of
``external_bandwidth_Bps: 1.25e7``. :func:`read_quantity` finds whichever suffix is
present, converts it and refuses files that give the same quantity twice.
"""

from __future__ import annotations

import numbers
from typing import Any, Mapping

from layerplan.errors import DataError

# dimension -> canonical suffix -> {accepted suffix: factor to the canonical unit}
CONVERSIONS: dict[str, dict[str, float]] = {
    # bytes per second. Mbps is megabit per second (1e6 bit/s = 1.25e5 B/s).
    "Bps": {
        "Bps": 1.0,
        "kBps": 1e3,
        "MBps": 1e6,
        "GBps": 1e9,
        "bps": 1.0 / 8.0,
        "kbps": 1e3 / 8.0,
        "Mbps": 1e6 / 8.0,
        "Gbps": 1e9 / 8.0,
    },
    "B": {"B": 1.0, "kB": 1e3, "MB": 1e6, "GB": 1e9, "KiB": 1024.0, "MiB": 1024.0**2, "GiB": 1024.0**3},
    "flops_per_s": {"flops_per_s": 1.0, "gflops_per_s": 1e9, "tflops_per_s": 1e12},
    "W": {"W": 1.0, "mW": 1e-3},
    "J": {"J": 1.0, "mJ": 1e-3, "uJ": 1e-6, "nJ": 1e-9, "pJ": 1e-12},
    "s": {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9, "ps": 1e-12},
    "Hz": {"Hz": 1.0, "kHz": 1e3, "MHz": 1e6, "GHz": 1e9},
    # power per throughput (radio model slopes, Eqs. (8.5)-(8.6)): W per (B/s)
    "W_per_Bps": {"W_per_Bps": 1.0, "mW_per_Mbps": 1e-3 / (1e6 / 8.0), "W_per_Mbps": 1.0 / (1e6 / 8.0),
                  "W_per_MBps": 1e-6},
}

#: Accepted range of each dimension, in its canonical unit: a value outside is refused at load
#: time (naming the file and field) instead of turning into an inf/NaN latency or a badly
#: scaled model later. Wide on purpose: from 1 B/s to 1 PB/s, 1 B to 1 EB, 1 FLOP/s to 1e21.
PLAUSIBLE: dict[str, tuple[float, float]] = {
    "Bps": (1.0, 1e15),
    "B": (1.0, 1e18),
    "flops_per_s": (1.0, 1e21),
    "W": (0.0, 1e6),
    "J": (0.0, 1e9),
    "s": (0.0, 1e6),
    "Hz": (1.0, 1e12),
    "W_per_Bps": (0.0, 1.0),
}


def quantity_keys(stem: str, dimension: str) -> tuple[str, ...]:
    """Every field name that :func:`read_quantity` accepts for ``stem`` in ``dimension``."""
    return tuple(f"{stem}_{suf}" if stem else suf for suf in CONVERSIONS[dimension])


#: Power per throughput (Eq. (8.5) slopes): mW per Mbps -> W per (B/s).
MW_PER_MBPS_TO_W_PER_BPS = 1e-3 / (1e6 / 8.0)
#: Carbon intensity: 1 gCO2/kWh = 1/3.6e6 gCO2/J = 2.778e-4 mgCO2/J.
G_PER_KWH_TO_MG_PER_J = 1e3 / 3.6e6


def read_quantity(
    record: Mapping[str, Any],
    stem: str,
    dimension: str,
    *,
    source: str,
    required: bool = True,
    default: float | None = None,
    positive: bool = True,
    allow_zero: bool = False,
) -> float | None:
    """Read ``<stem>_<suffix>`` from ``record`` in any accepted unit of ``dimension``.

    Returns the value in the canonical unit of the dimension. Raises :class:`DataError`
    naming ``source`` and the field when the field is missing (and required), given in
    two units at once, not a number, or not positive.
    """
    table = CONVERSIONS[dimension]
    def key(suffix: str) -> str:
        return f"{stem}_{suffix}" if stem else suffix

    found = [(key(suf), fac) for suf, fac in table.items() if key(suf) in record]
    canonical = key(dimension)
    if not found:
        if required and default is None:
            accepted = ", ".join(key(s) for s in table)
            raise DataError(f"missing (give one of: {accepted})", source=source, field=canonical)
        return default
    if len(found) > 1:
        names = ", ".join(k for k, _ in found)
        raise DataError(f"given more than once ({names})", source=source, field=canonical)
    key, factor = found[0]
    raw = record[key]
    if isinstance(raw, bool):
        raise DataError(f"must be a number, got {raw!r}", source=source, field=key)
    if not isinstance(raw, (numbers.Real, str)):  # numpy numbers too; bool is refused above
        raise DataError(f"must be a number, got {_short(raw)}", source=source, field=key)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise DataError(f"must be a number, got {_short(raw)}", source=source, field=key) from None
    except OverflowError:
        raise DataError(f"too large for a float, got {_short(raw)}", source=source, field=key) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise DataError(f"must be finite, got {_short(raw)}", source=source, field=key)
    if positive and (value < 0 or (value == 0 and not allow_zero)):
        rel = ">= 0" if allow_zero else "> 0"
        raise DataError(f"must be {rel}, got {_short(raw)}", source=source, field=key)
    out = value * factor
    lo, hi = PLAUSIBLE.get(dimension, (None, None))
    if hi is not None and (out > hi or (0 < out < lo)):
        raise DataError(f"{_short(raw)} is outside the accepted range [{lo:g}, {hi:g}] {dimension}", source=source,
                        field=key)
    return out


def _short(raw: Any, limit: int = 60) -> str:
    """repr of a bad value, cut to ``limit`` characters (keeps the error on one short line)."""
    text = repr(raw)
    return text if len(text) <= limit else text[: limit - 3] + "..."
