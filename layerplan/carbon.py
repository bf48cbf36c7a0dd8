"""Grid carbon intensity for CADI (Ch. 9, Sec. 9.2): traces, constants, unit conversion.

A device's grid is either a constant intensity or an hourly trace file read at a time.
Accepted trace formats (detected from the header):

- Electricity Maps hourly export: ``Datetime (UTC)`` plus ``Carbon Intensity gCO₂eq/kWh
  (direct)`` and ``... (LCA)``; ``column`` picks ``lca`` (default) or ``direct``;
- a plain CSV with a timestamp column and one intensity column in gCO2/kWh (header e.g.
  ``timestamp,intensity_gCO2_per_kWh``), also EIA-930 derived files (``timestamp``,
  ``avg_CI``; blank hours are skipped);
- an untimed hourly series (one value per row, e.g. Electricity Maps ``slack_0``): row k
  is hour k after ``start`` (required, e.g. ``2022-01-01T00:00:00Z``); ``column`` names the
  column to read (needed unless the file has a single column).

A configured column that the file lacks is an error, never a fall-back to another column
(docs/formats.md).

Intensities are read in gCO2/kWh and converted once to mgCO2/J (the unit of C_d in Sec.
9.3): 1 gCO2/kWh = 1e3 mg / 3.6e6 J = 2.778e-4 mgCO2/J.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from layerplan.errors import DataError
from layerplan.units import G_PER_KWH_TO_MG_PER_J, _short

EM_TIME = "Datetime (UTC)"
EM_COLUMNS = {"direct": "Carbon Intensity gCO₂eq/kWh (direct)", "lca": "Carbon Intensity gCO₂eq/kWh (LCA)"}
PLAIN_VALUE_COLUMNS = ("intensity_gCO2_per_kWh", "gCO2_per_kWh", "avg_CI", "carbon_intensity")
TIME_COLUMNS = ("timestamp", "time", "datetime", "Datetime (UTC)")
#: Highest intensity accepted, gCO2/kWh (the dirtiest grids are near 1,200; a value above is an error).
MAX_INTENSITY_G_PER_KWH = 1e4
#: Keys of a constant grid entry and their factor to gCO2/kWh.
GRID_CONSTANT_KEYS = {"intensity_gCO2_per_kWh": 1.0, "intensity_g_per_kWh": 1.0,
                      "intensity_mgCO2_per_J": 1.0 / G_PER_KWH_TO_MG_PER_J}


def g_per_kWh_to_mg_per_J(value: float) -> float:
    """gCO2/kWh -> mgCO2/J (Sec. 9.3's unit of C_d)."""
    return value * G_PER_KWH_TO_MG_PER_J


def parse_time(text: str, source: str, field: str) -> datetime:
    t = text.strip().replace("Z", "+00:00")
    try:
        dt = datetime.fromisoformat(t)
    except ValueError:
        raise DataError(f"not a timestamp: {_short(text)}", source=source, field=field) from None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class CarbonTrace:
    """Hourly (or any step) intensity in gCO2/kWh at UTC instants, ascending."""

    times: tuple[datetime, ...]
    intensity_gCO2_per_kWh: tuple[float, ...]
    source: str
    column: str

    def at(self, when: datetime | str) -> float:
        """Intensity in gCO2/kWh in force at ``when`` (the last sample at or before it)."""
        t = parse_time(when, self.source, "time") if isinstance(when, str) else when
        if t.tzinfo is None:
            t = t.replace(tzinfo=timezone.utc)
        k = bisect_right(self.times, t) - 1
        if k < 0 or t - self.times[k] > timedelta(hours=2):
            raise DataError(f"no intensity at {t.isoformat()} (trace covers {self.times[0].isoformat()} .. "
                            f"{self.times[-1].isoformat()})", source=self.source, field="time")
        return self.intensity_gCO2_per_kWh[k]

    def at_mg_per_J(self, when: datetime | str) -> float:
        return g_per_kWh_to_mg_per_J(self.at(when))

    def mean(self) -> float:
        return sum(self.intensity_gCO2_per_kWh) / len(self.intensity_gCO2_per_kWh)


def load_trace(path: str | Path, column: str | None = None, start: str | None = None) -> CarbonTrace:
    """Read a carbon-intensity trace (formats in the module docstring).

    ``column``: ``lca`` (default) or ``direct`` for an Electricity Maps export; for a plain
    CSV, the intensity column (default: the one of ``PLAIN_VALUE_COLUMNS`` it has); for an
    untimed series, the column to read (may be left out only when the file has one column).
    A configured column the file lacks is an error, never a fall-back to another column."""
    from layerplan.io import read_csv_rows

    p = Path(path).expanduser()
    src = str(p)
    if not p.is_file():
        raise DataError("carbon-intensity trace not found", source=src, field="carbon.trace")
    if column is not None and (not isinstance(column, str) or not column.strip()):
        raise DataError(f"must be a column name, got {_short(column)}", source=src, field="column")
    rows = read_csv_rows(p)
    if len(rows) < 2:
        raise DataError("no data rows", source=src, field="rows")
    header = [h.strip() for h in rows[0]]
    has = ", ".join(_short(h, 40) for h in header)
    if EM_TIME in header and any(c in header for c in EM_COLUMNS.values()):
        col = (column or "lca").strip().lower()
        if col not in EM_COLUMNS:
            raise DataError(f"column must be one of {', '.join(EM_COLUMNS)} for an Electricity Maps export, "
                            f"got {column!r}", source=src, field="column")
        if EM_COLUMNS[col] not in header:
            raise DataError(f"no column {EM_COLUMNS[col]!r} (column={col}) in this Electricity Maps export "
                            f"(columns: {has})", source=src, field="header")
        t_idx, v_idx, name = header.index(EM_TIME), header.index(EM_COLUMNS[col]), EM_COLUMNS[col]
    elif any(c in header for c in TIME_COLUMNS):
        t_idx = next(header.index(c) for c in TIME_COLUMNS if c in header)
        if column is not None:
            if column not in header:
                raise DataError(f"no column {column!r} (columns: {has})", source=src, field="header")
            cands = [column]
        else:
            cands = [c for c in PLAIN_VALUE_COLUMNS if c in header]
            if not cands:
                raise DataError(f"no intensity column (one of {', '.join(PLAIN_VALUE_COLUMNS)}; columns: {has})",
                                source=src, field="header")
            if len(cands) > 1:
                raise DataError(f"several intensity columns ({', '.join(cands)}): name one with column", source=src,
                                field="header")
        v_idx, name = header.index(cands[0]), cands[0]
    else:  # untimed series: hour k after `start`
        if start is None:
            raise DataError("an untimed trace needs a start time (carbon.start)", source=src, field="start")
        t0 = parse_time(str(start), src, "start")
        if column is None and len(header) != 1:
            raise DataError(f"untimed trace with several columns ({has}): name one with column", source=src,
                            field="header")
        if column is not None and column not in header:
            raise DataError(f"no column {column!r} (columns: {has})", source=src, field="header")
        name = column if column is not None else header[0]
        t_idx, v_idx = None, header.index(name)
    if len(set(header)) != len(header):
        dup = sorted({h for h in header if header.count(h) > 1})
        raise DataError(f"column(s) given twice: {', '.join(dup)}", source=src, field=dup[0] or "header")
    times, values = [], []
    for n, row in enumerate(rows[1:], start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise DataError(f"has {len(row)} values, header has {len(header)}", source=src, field=f"row {n}")
        raw = row[v_idx].strip()
        if raw == "":
            continue  # a blank hour (EIA-930 derived files have a few)
        try:
            val = float(raw)
        except ValueError:
            raise DataError(f"not a number: {_short(raw)}", source=src, field=f"row {n}: {name}") from None
        if not math.isfinite(val) or val < 0 or val > MAX_INTENSITY_G_PER_KWH:
            raise DataError(f"must be a finite value in [0, {MAX_INTENSITY_G_PER_KWH:g}] gCO2/kWh, got {_short(raw)}",
                            source=src, field=f"row {n}: {name}")
        try:
            if t_idx is None:
                t = t0 + timedelta(hours=n - 2)
            else:
                t = parse_time(row[t_idx], src, f"row {n}: {header[t_idx]}")
        except OverflowError:
            raise DataError("time out of range", source=src, field=f"row {n}") from None
        if times and t <= times[-1]:
            raise DataError("timestamps must increase", source=src, field=f"row {n}: {header[t_idx] if t_idx is not None else 'row'}")
        times.append(t)
        values.append(val)
    if not values:
        raise DataError("no intensity values", source=src, field=name)
    return CarbonTrace(tuple(times), tuple(values), src, name)


def grid_intensity_g_per_kWh(name: str, grid, *, trace_dir: str | None, time: str | None,
                             where: str = "carbon") -> tuple[float, dict]:
    """Intensity (gCO2/kWh) of one grid entry and a record of where it came from.

    A grid entry is a number (gCO2/kWh), ``{intensity_gCO2_per_kWh: v}`` (any unit the
    loaders accept, e.g. ``intensity_mgCO2_per_J``), or ``{trace: file, time: UTC,
    column: lca|direct|<name>, start: UTC}`` (``time`` defaults to ``carbon.time``; a
    relative ``trace`` is looked up in ``carbon.dir``)."""
    fld = f"{where}.grids.{name}"
    if isinstance(grid, (int, float)) and not isinstance(grid, bool):
        grid = {"intensity_gCO2_per_kWh": grid}
    if not isinstance(grid, dict):
        raise DataError(f"must be a number (gCO2/kWh) or a mapping, got {_short(grid)}", source=where, field=fld)
    allowed = ("trace", "time", "column", "start", *GRID_CONSTANT_KEYS)
    for key in grid:
        if key not in allowed:
            raise DataError(f"unknown key (accepted: {', '.join(allowed)})", source=where, field=f"{fld}.{key}")
    if "trace" in grid and grid["trace"]:
        p = Path(str(grid["trace"])).expanduser()
        if not p.is_absolute():
            if not trace_dir:
                raise DataError(f"relative trace {str(p)!r} needs carbon.dir (or LAYERPLAN_CARBON_DIR)", source=where,
                                field=f"{where}.dir")
            base = Path(trace_dir).expanduser()
            if not base.is_absolute() and not (base / p).is_file():
                # a relative carbon.dir is read from the working directory, else from the source checkout's root
                # (the default ../shared/data/carbon then works from any folder)
                checkout = Path(__file__).resolve().parents[1]
                if (checkout / "pyproject.toml").is_file() and (checkout / base / p).is_file():
                    base = checkout / base
            p = base / p
        when = grid.get("time") or time
        if not when:
            raise DataError(f"grid {name!r} reads a trace: set carbon.time (UTC, e.g. 2022-06-26T21:00:00Z)",
                            source=where, field=f"{where}.time")
        if not p.is_file():
            raise DataError(f"carbon-intensity trace not found: {p} (set carbon.dir or LAYERPLAN_CARBON_DIR)",
                            source=where, field=f"{fld}.trace")
        col = grid.get("column")
        tr = load_trace(p, None if col is None else str(col), grid.get("start"))
        value = tr.at(str(when))
        return value, {"grid": name, "trace": str(p), "column": tr.column, "time": str(when),
                       "intensity_gCO2_per_kWh": value}
    for key, scale in GRID_CONSTANT_KEYS.items():
        if key in grid:
            if isinstance(grid[key], bool):
                raise DataError(f"not a number: {grid[key]!r}", source=where, field=f"{fld}.{key}")
            try:
                value = float(grid[key]) * scale
            except (TypeError, ValueError, OverflowError):
                raise DataError(f"not a number: {grid[key]!r}", source=where, field=f"{fld}.{key}") from None
            if not math.isfinite(value) or value < 0 or value > MAX_INTENSITY_G_PER_KWH:
                raise DataError(f"must be a finite value in [0, {MAX_INTENSITY_G_PER_KWH:g}] gCO2/kWh, got "
                                f"{_short(grid[key])}", source=where, field=f"{fld}.{key}")
            return value, {"grid": name, "intensity_gCO2_per_kWh": value, "constant": True}
    raise DataError("needs intensity_gCO2_per_kWh (a constant) or trace (+ time)", source=where, field=fld)


def _time_of(cfg: dict, where: str) -> str | None:
    """``time`` plus ``hours_after`` hours (hourly sweeps: time = the day, hours_after = 0..23)."""
    when, hours = cfg.get("time"), cfg.get("hours_after") or 0
    if not when or not hours:
        return when
    try:
        h = float(hours)
    except (TypeError, ValueError):
        raise DataError(f"not a number: {hours!r}", source=where, field=f"{where}.hours_after") from None
    return (parse_time(str(when), where, f"{where}.time") + timedelta(hours=h)).isoformat()


def device_intensities(cfg: dict, device_names: list[str], where: str = "carbon") -> tuple[dict[str, float], dict]:
    """C_d in mgCO2/J for the devices mapped in ``cfg['devices']`` (device -> grid name or
    inline grid entry), from the grids in ``cfg['grids']``; plus a per-device record.
    Traces are read at ``time`` + ``hours_after`` hours (UTC)."""
    grids = cfg.get("grids") or {}
    out, info = {}, {}
    for dev, grid in (cfg.get("devices") or {}).items():
        if dev not in device_names:
            raise DataError(f"unknown device {dev!r} (devices: {', '.join(device_names)})", source=where,
                            field=f"{where}.devices.{dev}")
        if isinstance(grid, str):
            if grid not in grids:
                raise DataError(f"unknown grid {grid!r} (grids: {', '.join(grids) or 'none'})", source=where,
                                field=f"{where}.devices.{dev}")
            name, entry = grid, grids[grid]
        else:
            name, entry = f"{dev}", grid
        g, rec = grid_intensity_g_per_kWh(name, entry, trace_dir=cfg.get("dir"), time=_time_of(cfg, where), where=where)
        out[dev] = g_per_kWh_to_mg_per_J(g)
        info[dev] = {**rec, "intensity_mgCO2_per_J": out[dev]}
    return out, info
