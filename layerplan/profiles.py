"""Bundle profiles (Ch. 7): measured or synthetic t^c[i, j, d] for consecutive layers.

A profile file is a CSV with ``# key: value`` metadata lines, then the columns
``dnn,granularity,device,frequency_Hz,i,j,latency_s,energy_J,samples,statistic,spread_s``
(``docs/profiling.md``). ``i`` and ``j`` are 1-based, inclusive indexes into the real
layers of the DNN (pseudo layers are never profiled). A profile's latency includes weight
loading (Sec. 4.4: "t^c implicitly also contains t^w").
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from layerplan.errors import DataError
from layerplan.io import data_root, read_text
from layerplan.units import PLAUSIBLE, _short

COLUMNS = ("dnn", "granularity", "device", "frequency_Hz", "i", "j", "latency_s", "energy_J", "samples", "statistic",
           "spread_s")
#: Optional columns besides COLUMNS: ``mode``, a device mode label instead of ``frequency_Hz``.
OPTIONAL_COLUMNS = ("mode",)
NOMINAL = "nominal"
#: Words accepted in ``frequency_Hz`` besides a number of Hz (empty means nominal).
FREQUENCY_WORDS = ("nominal", "governor")


def profile_count(n_layers: int, mbs: int) -> int:
    """Exact number of bundles (i, j) with i <= j <= i + MBS - 1 over L layers:
    sum_{k=1..MBS} (L - k + 1). The thesis' Eq. (7.6), ceil(L (MBS + 1) / 2), approximates it."""
    mbs = min(mbs, n_layers)
    return sum(n_layers - k + 1 for k in range(1, mbs + 1))


def profile_count_eq_7_6(n_layers: int, mbs: int) -> int:
    """Eq. (7.6): ceil(L x (MBS + 1) / 2) per device (an approximation, exact only for MBS in {1, L})."""
    return math.ceil(n_layers * (mbs + 1) / 2)


@dataclass
class ProfileSet:
    """Bundle latencies (and energies) per (device label, frequency, i, j)."""

    dnn: str
    granularity: str
    latency_s: dict[tuple[str, str, int, int], float] = field(default_factory=dict)
    energy_J: dict[tuple[str, str, int, int], float] = field(default_factory=dict)
    meta: dict[str, dict[str, str]] = field(default_factory=dict)  # device label -> metadata
    sources: dict[str, str] = field(default_factory=dict)  # device label -> file

    def devices(self) -> list[str]:
        return sorted({k[0] for k in self.latency_s})

    def frequencies(self, device: str) -> list[str]:
        return sorted({k[1] for k in self.latency_s if k[0] == device})


    def lookup(self, device: str, i: int, j: int, frequency: str = NOMINAL) -> float:
        return self.latency_s[(device, frequency, i, j)]


def _meta_and_rows(path: Path) -> tuple[dict[str, str], list[tuple[int, dict[str, str]]]]:
    """Metadata from ``# key: value`` lines, and (line number, row) for each data row."""
    meta: dict[str, str] = {}
    body, linenos = [], []
    # lines end at \n, \r or \r\n only (as the csv module reads them; not at U+2028 or NEL)
    for lineno, line in enumerate(io.StringIO(read_text(path), newline=""), start=1):
        if line.startswith("#"):
            key, sep, val = line[1:].partition(":")
            if sep:
                meta[key.strip()] = val.strip()
        elif line.strip():
            body.append(line)
            linenos.append(lineno)
    if not body:
        return meta, []
    try:
        parsed = list(csv.reader(body))
    except csv.Error as exc:
        raise DataError(f"not a valid CSV file ({exc})", source=str(path), field="csv") from None
    if len(parsed) != len(body):  # a quoted field spans lines: rows no longer match line numbers
        raise DataError("a quoted field spans several lines", source=str(path), field="csv")
    header = [h.strip() for h in parsed[0]]
    missing = [c for c in ("dnn", "granularity", "device", "i", "j", "latency_s") if c not in header]
    if missing:
        raise DataError(f"missing column(s) {', '.join(missing)}", source=str(path), field=missing[0])
    unknown = [c for c in header if c not in COLUMNS + OPTIONAL_COLUMNS]
    dup = sorted({c for c in header if header.count(c) > 1})
    if unknown or dup:
        bad = unknown[0] if unknown else dup[0]
        what = (f"unknown column(s) {', '.join(map(repr, unknown))} (columns: {', '.join(COLUMNS + OPTIONAL_COLUMNS)})" if unknown
                else "column given twice")
        raise DataError(what, source=str(path), field=bad or "header")
    rows = []
    for n, vals in zip(linenos[1:], parsed[1:]):
        if len(vals) != len(header):
            raise DataError(f"has {len(vals)} values, header has {len(header)}", source=str(path), field=f"row {n}")
        rows.append((n, dict(zip(header, vals))))
    return meta, rows


def _files(source: str | Path | Iterable) -> list[Path]:
    if isinstance(source, (list, tuple)):
        out = []
        for s in source:
            out += _files(s)
        return out
    p = Path(str(source)).expanduser()
    for cand in (p, data_root() / p):
        if cand.is_dir():
            return sorted(cand.glob("*.csv"))
        if cand.is_file():
            return [cand]
    raise DataError("profile file or folder not found", source=str(source), field="profiles.source")


def load_profiles(source, dnn: str, granularity: str) -> ProfileSet:
    """Rows of every profile file under ``source`` for this DNN and granularity."""
    ps = ProfileSet(dnn, granularity)
    seen: dict[tuple[str, str, str, str, int, int], str] = {}
    for path in _files(source):
        meta, rows = _meta_and_rows(path)
        for n, row in rows:
            # every row is checked, also rows of other DNNs: a bad file is refused whatever it is used for
            where = f"row {n}: "
            src = str(path)
            for col in ("dnn", "granularity", "device"):
                if not (row.get(col) or "").strip():
                    raise DataError("missing", source=src, field=f"{where}{col}")
            dev = row["device"].strip()
            if (row.get("mode") or "").strip():  # a device mode label (issue 13: docs/dynasplit.md)
                if (row.get("frequency_Hz") or "").strip():
                    raise DataError("give frequency_Hz or mode, not both", source=src, field=f"{where}mode")
                freq = _mode(row["mode"], src, f"{where}mode")
            else:
                freq = _frequency(row.get("frequency_Hz") or "", src, f"{where}frequency_Hz")
            i, j = (_int(row, k, src, where) for k in ("i", "j"))
            if not (1 <= i <= j):
                raise DataError(f"need 1 <= i <= j, got i={i}, j={j}", source=src, field=f"{where}i")
            lat = _float(row, "latency_s", src, where, "s", positive=True)
            energy = _float(row, "energy_J", src, where, "J", required=False)
            if (row.get("samples") or "").strip():
                _int(row, "samples", src, where)
            _float(row, "spread_s", src, where, "s", required=False)
            full = (row["dnn"].strip(), row["granularity"].strip(), dev, freq, i, j)
            if full in seen:
                raise DataError(f"duplicate bundle (i={i}, j={j}, device={dev!r}, frequency={freq}; first in {seen[full]})",
                                source=src, field=f"{where}i")
            seen[full] = f"{src} row {n}"
            if row["dnn"].strip() != dnn or row["granularity"].strip() != granularity:
                continue
            key = (dev, freq, i, j)
            ps.latency_s[key] = lat
            if energy is not None:
                ps.energy_J[key] = energy
            ps.meta.setdefault(dev, meta)
            ps.sources.setdefault(dev, src)
    if not ps.latency_s:
        raise DataError(f"no profile rows for dnn={dnn!r}, granularity={granularity!r}", source=str(source),
                        field="profiles.source")
    return ps


def _int(row: Mapping[str, str], key: str, source: str, where: str) -> int:
    raw = (row.get(key) or "").strip()
    try:
        val = int(raw)
    except ValueError:
        raise DataError(f"must be a whole number, got {_short(raw)}", source=source, field=f"{where}{key}") from None
    if not 0 <= val <= 10**9:
        raise DataError(f"must be in [0, 1e9], got {_short(raw)}", source=source, field=f"{where}{key}")
    return val


def _float(row: Mapping[str, str], key: str, source: str, where: str, dim: str, *, positive: bool = False,
           required: bool = True) -> float | None:
    """A finite number in the accepted range of ``dim`` (units.PLAUSIBLE); > 0 when ``positive``."""
    raw = (row.get(key) or "").strip()
    if not raw:
        if required:
            raise DataError("missing", source=source, field=f"{where}{key}")
        return None
    try:
        val = float(raw)
    except ValueError:
        raise DataError(f"must be a number, got {_short(raw)}", source=source, field=f"{where}{key}") from None
    hi = PLAUSIBLE[dim][1]
    if not math.isfinite(val) or val < 0 or (positive and val == 0) or val > hi:
        rel = "> 0" if positive else ">= 0"
        raise DataError(f"must be a finite number {rel} and <= {hi:g} {dim}, got {_short(raw)}", source=source,
                        field=f"{where}{key}")
    return val


def _mode(raw: str, source: str, fld: str) -> str:
    """A device mode label (any discrete hardware setting: ``1800mhz-tpu-max``, ``gpu-off``): lower
    case letters, digits, ``-``, ``_``, ``.``, starting with a letter or digit; a mode takes the
    place of a frequency (FreDDI's index), one per device and plan."""
    import re

    label = raw.strip().lower()
    if not re.fullmatch(r"[a-z0-9][a-z0-9_.\-]{0,63}", label):
        raise DataError(f"must be a mode label (letters, digits, - _ .), got {_short(raw.strip())}", source=source,
                        field=fld)
    return label


def _frequency(raw: str, source: str, fld: str) -> str:
    """:func:`frequency_label`, refusing NaN, inf, values out of range and unknown words."""
    label = frequency_label(raw)
    hz = _as_hz(label)
    if hz is None:
        if label not in FREQUENCY_WORDS:
            raise DataError(f"must be a number of Hz, empty (nominal) or one of {', '.join(FREQUENCY_WORDS)}, got "
                            f"{_short(raw.strip())}", source=source, field=fld)
    else:
        lo, hi = PLAUSIBLE["Hz"]
        if not (math.isfinite(hz) and lo <= hz <= hi):
            raise DataError(f"must be a finite frequency in [{lo:g}, {hi:g}] Hz, got {_short(raw.strip())}",
                            source=source, field=fld)
    return label


def frequency_label(raw: str) -> str:
    """Canonical frequency label: ``nominal`` (empty), a number of Hz as ``%.6g``, or a
    lower-case word such as ``governor`` (profiles taken under the default DVFS governor)."""
    raw = (raw or "").strip()
    if not raw:
        return NOMINAL
    try:
        return f"{float(raw):.6g}"
    except ValueError:
        return raw.lower()


def _as_hz(label: str) -> float | None:
    try:
        return float(label)
    except ValueError:
        return None


@dataclass
class BundleLatency:
    """t^c[i, j, d, f] and e^c[i, j, d, f] over the scenario's real layers, indexed by
    global layer index, scenario device index and the index of the frequency in
    ``freqs[d]``; what the bundle blocks (DIME, JointDNN, FreDDI) read."""

    real_layers: list[int]  # global indexes of the real layers, in order
    latency_s: dict[tuple[int, int, int, int], float]  # (i, j, d, f) -> s
    energy_J: dict[tuple[int, int, int, int], float]  # (i, j, d, f) -> J (when profiled)
    device_labels: list[str]  # profile label used for each scenario device
    freqs: list[list[str]]  # frequency labels available to each scenario device
    complete: bool  # every bundle of every size, every frequency present (actual latency works)
    sources: dict[str, str] = field(default_factory=dict)

    def require(self, mbs: int) -> None:
        """Every bundle that MBS needs must be present; names the first missing (i, j, device)."""
        L = len(self.real_layers)
        for di, label in enumerate(self.device_labels):
            for fi, f in enumerate(self.freqs[di]):
                for a in range(L):
                    for b in range(a, min(L, a + mbs)):
                        if (self.real_layers[a], self.real_layers[b], di, fi) not in self.latency_s:
                            fx = "" if f == NOMINAL else f", f={f}"
                            raise DataError(
                                f"missing bundle (i={a + 1}, j={b + 1}, device={label!r}{fx}) needed for MBS={mbs}",
                                source=self.sources.get(label, "profiles"), field="latency_s",
                            )

    def bundles(self, mbs: int) -> list[tuple[int, int]]:
        """(i, j) global index pairs with i <= j <= i + MBS - 1 over the real layers."""
        r = self.real_layers
        return [(r[a], r[b]) for a in range(len(r)) for b in range(a, min(len(r), a + mbs))]

    def has_energy(self, d: int) -> bool:
        return any(k[2] == d for k in self.energy_J)

    def frequency_Hz(self, d: int, f: int) -> float | None:
        return _as_hz(self.freqs[d][f])


def bundle_latency(params, profiles: ProfileSet, device_map: Mapping[str, str] | None = None,
                   default_labels: Mapping[str, str] | None = None,
                   frequency: Mapping[str, Any] | None = None) -> BundleLatency:
    """Bind a ProfileSet to a scenario: map each scenario device to a profile label
    (``device_map``, else ``default_labels`` such as the device's catalogue spec, else its
    name) and choose the frequencies it may use: ``frequency[device]`` is ``all``
    (default), ``max``, ``min`` (highest / lowest profiled frequency in Hz), ``governor``,
    ``nominal`` or a number of Hz."""
    real = [l for l, kind in enumerate(params.pseudo) if kind is None]
    L = len(real)
    if real != list(range(real[0], real[0] + L)):
        raise DataError("real layers must be consecutive in the chain", source="scenario", field="layers")
    labels, freqs = [], []
    unmapped = [(d, (device_map or {}).get(d) or (default_labels or {}).get(d) or d) for d in params.devices]
    unmapped = [(d, label) for d, label in unmapped if label not in profiles.devices()]
    if unmapped:  # every device without profiles in one line, with hints that work when pasted
        have = profiles.devices()
        raise DataError(
            f"no profiles for device{'s' if len(unmapped) > 1 else ''} "
            + ", ".join(f"{d!r} (label {label!r})" for d, label in unmapped)
            + f" ({profiles.dnn}, {profiles.granularity}; have: {', '.join(have)}); map "
            + ("it" if len(unmapped) == 1 else "them") + " with "
            + " ".join(f"++profiles.map.{d}=<label>" for d, _ in unmapped),
            source="profiles", field="map." + ",".join(d for d, _ in unmapped),
        )
    for d in params.devices:
        label = (device_map or {}).get(d) or (default_labels or {}).get(d) or d
        labels.append(label)
        freqs.append(_choose_frequencies(profiles.frequencies(label), (frequency or {}).get(d, "all"), d, label))
    # One pass over the profile rows (not over all L^2 bundles x D x F): a profile set that
    # holds only the bundles up to some MBS costs O(rows), issue 12.
    lat, energy = {}, {}
    slots: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for di, label in enumerate(labels):
        for fi, f in enumerate(freqs[di]):
            slots.setdefault((label, f), []).append((di, fi))
    count = dict.fromkeys(((di, fi) for v in slots.values() for di, fi in v), 0)
    e_all = profiles.energy_J
    for key, t in profiles.latency_s.items():
        targets = slots.get(key[:2])
        if targets is None:
            continue
        a, b = key[2], key[3]
        if b > L:
            continue
        ga, gb = real[a - 1], real[b - 1]
        e = e_all.get(key)
        for di, fi in targets:
            lat[(ga, gb, di, fi)] = t
            count[(di, fi)] += 1
            if e is not None:
                energy[(ga, gb, di, fi)] = e
    complete = all(n == L * (L + 1) // 2 for n in count.values())
    return BundleLatency(real, lat, energy, labels, freqs, complete,
                         {k: v for k, v in profiles.sources.items() if k in labels})


def _choose_frequencies(available: list[str], policy, device: str, label: str) -> list[str]:
    numeric = sorted((f for f in available if _as_hz(f) is not None), key=lambda f: float(f))
    where = f"frequency.{device}"
    policy = "all" if policy is None else str(policy).strip().lower()
    if policy == "all":
        return numeric + [f for f in available if _as_hz(f) is None]
    if policy in ("max", "min"):
        if not numeric:
            raise DataError(f"device {device!r} ({label}) has no profiled frequencies in Hz (have: {', '.join(available)})",
                            source="profiles", field=where)
        return [numeric[-1] if policy == "max" else numeric[0]]
    want = frequency_label(policy)
    if want not in available:
        raise DataError(f"device {device!r} ({label}) has no profiles at {policy!r} (have: {', '.join(available)})",
                        source="profiles", field=where)
    return [want]
