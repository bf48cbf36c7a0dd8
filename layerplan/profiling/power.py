"""Power sources and the energy of each bundle run (thesis Sec. 8.2, FreDDI).

The thesis powers the device under test from a SmartPower 3 supply that logs voltage
(mV), current (mA) and power (mW) of two channels at up to 200 Hz. The energy of one run
of a bundle (i -> j) is the area under the power curve between the run's start and stop
(trapezoid rule); 100 runs are reduced with the 10 % trimmed mean used for latency.

This module provides:

* :class:`PowerTrace` - timestamps (s) and power (W), optionally a cumulative energy
  counter (J) for sources that report energy rather than power;
* :class:`PowerSource` - the protocol ``start()`` / ``stop() -> PowerTrace`` /
  ``available()`` / ``name`` implemented by :class:`NvmlPower` (NVIDIA GPU via pynvml,
  imported lazily), :class:`RaplPower` (Intel/AMD CPU package energy from powercap
  sysfs) and :class:`PowerLog` (an external power-log CSV such as a SmartPower 3 log);
* :func:`read_power_log` - the CSV loader (units converted once, at load);
* :func:`energy_J`, :func:`energy_per_run`, :func:`run_energy` - trapezoid integration
  over run windows with linear interpolation at the window edges, and the trimmed mean.

Timestamps of the trace and of the run windows must come from the same clock. The
built-in sources read :func:`time.perf_counter` (the profiler's clock, in seconds) by
default; an external log carries the logging PC's clock and is aligned with ``offset_s``
(see ``docs/energy_profiling.md``). Nothing here changes any device setting.
"""

from __future__ import annotations

import csv
import glob
import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Protocol, Sequence, runtime_checkable

import numpy as np

from layerplan.errors import DataError

try:  # the profiler's statistic; same semantics (drop floor(0.1 n) at each end)
    from layerplan.profiling.core import trimmed_mean
except ImportError:  # pragma: no cover - core is always there in this repository
    import math as _math

    def trimmed_mean(samples: Iterable[float], frac: float = 0.1) -> tuple[float, float]:
        """Mean and population sd after dropping ``floor(frac n)`` samples at each end."""
        xs = sorted(float(s) for s in samples)
        n = len(xs)
        if n == 0:
            raise ValueError("trimmed_mean needs at least one sample")
        k = int(_math.floor(frac * n + 1e-9))
        kept = xs[k : n - k]
        m = _math.fsum(kept) / len(kept)
        return m, _math.sqrt(_math.fsum((x - m) ** 2 for x in kept) / len(kept))


__all__ = [
    "EnergyResult",
    "NvmlPower",
    "PowerLog",
    "PowerSource",
    "PowerTrace",
    "RaplPower",
    "WindowTimer",
    "energy_J",
    "energy_per_run",
    "read_power_log",
    "run_energy",
    "trimmed_mean",
    "unwrap_counter",
]


# --------------------------------------------------------------------------- trace


@dataclass(frozen=True)
class PowerTrace:
    """Power samples on one clock.

    ``timestamps_s`` strictly increasing (s), ``power_W`` the power at those instants (W).
    ``energy_J``, when given, is a cumulative energy counter at the same instants (J,
    any origin): :func:`energy_J` then uses it (exact for counter sources) instead of
    integrating ``power_W``. ``meta`` holds free-form facts (source, file, channels,
    sample rate) for the profile's metadata lines; ``channel_power_W`` the power of each
    channel of a power log before summing (W), for inspection.
    """

    timestamps_s: np.ndarray
    power_W: np.ndarray
    energy_J: np.ndarray | None = None
    source: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    channel_power_W: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        t = np.asarray(self.timestamps_s, dtype=float).reshape(-1)
        p = np.asarray(self.power_W, dtype=float).reshape(-1)
        where = self.source or "power trace"
        if t.shape != p.shape:
            raise DataError(f"{t.size} timestamps but {p.size} power values", source=where, field="power_W")
        if t.size and not (np.all(np.isfinite(t)) and np.all(np.isfinite(p))):
            raise DataError("non-finite timestamp or power value", source=where, field="power_W")
        if t.size > 1:
            bad = np.flatnonzero(np.diff(t) <= 0)
            if bad.size:
                k = int(bad[0]) + 1
                raise DataError(
                    f"timestamps must increase strictly: sample {k} at {t[k]!r} s follows {t[k - 1]!r} s",
                    source=where, field="timestamps_s",
                )
        e = None
        if self.energy_J is not None:
            e = np.asarray(self.energy_J, dtype=float).reshape(-1)
            if e.shape != t.shape:
                raise DataError(f"{t.size} timestamps but {e.size} energy values", source=where, field="energy_J")
        object.__setattr__(self, "timestamps_s", t)
        object.__setattr__(self, "power_W", p)
        object.__setattr__(self, "energy_J", e)

    def __len__(self) -> int:
        return int(self.timestamps_s.size)

    @property
    def duration_s(self) -> float:
        return float(self.timestamps_s[-1] - self.timestamps_s[0]) if len(self) > 1 else 0.0

    @property
    def rate_Hz(self) -> float:
        """Median sample rate (0 with fewer than two samples)."""
        if len(self) < 2:
            return 0.0
        return float(1.0 / np.median(np.diff(self.timestamps_s)))

    def shifted(self, offset_s: float) -> "PowerTrace":
        """The same trace with ``offset_s`` added to every timestamp (clock alignment)."""
        return PowerTrace(self.timestamps_s + float(offset_s), self.power_W, self.energy_J, self.source,
                          dict(self.meta), dict(self.channel_power_W))

    @classmethod
    def from_counter(cls, timestamps_s: Sequence[float], energy_J: Sequence[float], source: str = "",
                     meta: Mapping[str, Any] | None = None) -> "PowerTrace":
        """A trace from a cumulative energy counter (already unwrapped, in J).

        ``power_W`` is the average power of the interval ending at each sample (the first
        sample repeats the second's), for plots only: :func:`energy_J` uses the counter.
        """
        t = np.asarray(timestamps_s, dtype=float).reshape(-1)
        e = np.asarray(energy_J, dtype=float).reshape(-1)
        p = np.zeros_like(t)
        if t.size > 1:
            dt = np.diff(t)
            with np.errstate(divide="ignore", invalid="ignore"):
                avg = np.where(dt > 0, np.diff(e) / np.where(dt > 0, dt, 1.0), 0.0)
            p[1:] = avg
            p[0] = avg[0]
        return cls(t, p, e, source, dict(meta or {}))


# --------------------------------------------------------------------------- energy


def _cumulative_J(trace: PowerTrace) -> np.ndarray:
    """Energy from the first sample up to each sample (J)."""
    if trace.energy_J is not None:
        return trace.energy_J - trace.energy_J[0]
    t, p = trace.timestamps_s, trace.power_W
    c = np.zeros_like(t)
    if t.size > 1:
        c[1:] = np.cumsum(0.5 * (p[1:] + p[:-1]) * np.diff(t))
    return c


def _energy_at(trace: PowerTrace, cum: np.ndarray, ts: np.ndarray) -> np.ndarray:
    """Cumulative energy at arbitrary instants inside the trace.

    Power is linear between samples, so from sample k (at t_k, power p_k) to t the energy
    is ``p_k d + (p_{k+1} - p_k) d^2 / (2 h)`` with ``d = t - t_k`` and ``h`` the interval:
    the trapezoid between t_k and t with the power interpolated at t. For a counter trace
    the counter itself is interpolated linearly.
    """
    t = trace.timestamps_s
    if trace.energy_J is not None:
        return np.interp(ts, t, cum)
    p = trace.power_W
    k = np.clip(np.searchsorted(t, ts, side="right") - 1, 0, t.size - 2)
    h = t[k + 1] - t[k]
    d = ts - t[k]
    return cum[k] + p[k] * d + (p[k + 1] - p[k]) * d * d / (2.0 * h)


def _check_windows(trace: PowerTrace, starts: np.ndarray, stops: np.ndarray) -> None:
    where = trace.source or "power trace"
    if len(trace) < 2:
        raise DataError(f"needs at least two samples to integrate, has {len(trace)}", source=where,
                        field="power_W")
    t0, t1 = trace.timestamps_s[0], trace.timestamps_s[-1]
    # 1 ns of slack absorbs float round-off of timestamps converted from ns/us.
    eps = 1e-9
    for n, (a, b) in enumerate(zip(starts, stops)):
        if not b >= a:
            raise DataError(f"run {n}: window stop {b!r} s is before its start {a!r} s", source=where,
                            field="windows")
        if a < t0 - eps or b > t1 + eps:
            raise DataError(
                f"run {n}: window [{a!r}, {b!r}] s is not covered by the trace [{t0!r}, {t1!r}] s "
                "(clocks not aligned, or logging stopped too early?)",
                source=where, field="windows",
            )


def energy_per_run(trace: PowerTrace, windows: Iterable[tuple[float, float]], baseline_W: float = 0.0) -> np.ndarray:
    """Energy (J) of each run window ``(start_s, stop_s)`` in the trace.

    Trapezoid rule over the samples inside the window plus the partial intervals at both
    edges, where the power is interpolated linearly (so a window between two samples gets
    the interpolated area, not zero). ``baseline_W`` (e.g. the idle power measured before
    profiling) is subtracted times the window length; the thesis uses 0 (whole-board
    energy). Every window must lie inside the trace, else :class:`DataError`.
    """
    w = np.asarray(list(windows), dtype=float)
    if w.size == 0:
        return np.zeros(0)
    if w.ndim != 2 or w.shape[1] != 2:
        raise DataError("windows must be (start_s, stop_s) pairs", source=trace.source or "power trace",
                        field="windows")
    starts, stops = w[:, 0], w[:, 1]
    _check_windows(trace, starts, stops)
    t = trace.timestamps_s
    starts_c = np.clip(starts, t[0], t[-1])
    stops_c = np.clip(stops, t[0], t[-1])
    cum = _cumulative_J(trace)
    e = _energy_at(trace, cum, stops_c) - _energy_at(trace, cum, starts_c)
    if baseline_W:
        e = e - float(baseline_W) * (stops - starts)
    return e


def energy_J(trace: PowerTrace, t0: float, t1: float, baseline_W: float = 0.0) -> float:
    """Energy (J) between ``t0`` and ``t1`` (s): see :func:`energy_per_run`."""
    return float(energy_per_run(trace, [(t0, t1)], baseline_W)[0])


@dataclass
class EnergyResult:
    """The energy of one bundle: trimmed mean and spread (J) of ``samples`` runs."""

    energy_J: float
    spread_J: float
    samples: int
    raw_J: list[float] = field(default_factory=list, repr=False)


def run_energy(trace: PowerTrace, windows: Iterable[tuple[float, float]], frac: float = 0.1,
               baseline_W: float = 0.0) -> EnergyResult:
    """Per-run energies reduced like the latency: 10 % trimmed mean (``floor(0.1 n)``
    dropped at each end) and the population sd of the kept runs."""
    e = energy_per_run(trace, windows, baseline_W)
    if e.size == 0:
        raise DataError("no run windows to integrate", source=trace.source or "power trace", field="windows")
    m, sd = trimmed_mean(e.tolist(), frac)
    return EnergyResult(m, sd, int(e.size), e.tolist())


# --------------------------------------------------------------------------- run windows


class WindowTimer:
    """A ``timer(fn, x) -> seconds`` for :func:`layerplan.profiling.core.profile_bundles`
    that also records each call's ``(start_s, stop_s)`` window on ``clock``.

    The returned duration is ``inner(fn, x)`` when an inner timer is given (e.g. the
    CUDA-event timer, which synchronizes before returning), else the host interval. The
    windows are on ``clock`` (default :func:`time.perf_counter`, the built-in power
    sources' clock); :meth:`take` returns and clears them (one bundle's runs).
    """

    def __init__(self, inner: Callable[[Callable[[Any], Any], Any], float] | None = None,
                 clock: Callable[[], float] = time.perf_counter):
        self.inner, self.clock = inner, clock
        self.windows: list[tuple[float, float]] = []

    def __call__(self, fn: Callable[[Any], Any], x: Any) -> float:
        t0 = self.clock()
        if self.inner is not None:
            dt = self.inner(fn, x)
            t1 = self.clock()
        else:
            fn(x)
            t1 = self.clock()
            dt = t1 - t0
        self.windows.append((t0, t1))
        return dt

    def take(self) -> list[tuple[float, float]]:
        w, self.windows = self.windows, []
        return w


# --------------------------------------------------------------------------- protocol


@runtime_checkable
class PowerSource(Protocol):
    """Something that records power while the profiler runs bundles.

    ``available()`` never raises; ``start()`` begins recording (raises
    :class:`DataError` when the source cannot be read); ``stop()`` ends it and returns
    the trace, whose timestamps are on the profiler's clock.
    """

    name: str

    def available(self) -> bool: ...

    def start(self) -> None: ...

    def stop(self) -> PowerTrace: ...


class _Sampler:
    """Calls ``read()`` every ``1 / rate_Hz`` s in a daemon thread until stopped.

    Samples are ``(clock(), read())``; one is taken at start and one at stop, so the
    trace always covers the whole recording. A failing read stops the thread and the
    error is raised again by :meth:`stop`.
    """

    def __init__(self, read: Callable[[], float], rate_Hz: float, clock: Callable[[], float], name: str):
        if not rate_Hz > 0:
            raise ValueError(f"{name}: rate_Hz must be > 0, got {rate_Hz}")
        self.read, self.period, self.clock, self.name = read, 1.0 / rate_Hz, clock, name
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None

    def _take(self) -> None:
        a = self.clock()
        v = self.read()
        b = self.clock()
        self.samples.append((0.5 * (a + b), v))  # the read happened somewhere in [a, b]

    def _loop(self) -> None:
        nxt = self.clock()
        try:
            while not self._stop.is_set():
                nxt += self.period
                delay = nxt - self.clock()
                if delay > 0 and self._stop.wait(delay):
                    break
                self._take()
        except BaseException as exc:  # noqa: BLE001 - re-raised in stop()
            self._error = exc

    def start(self) -> None:
        self.samples = []
        self._stop.clear()
        self._error = None
        self._take()
        self._thread = threading.Thread(target=self._loop, name=f"layerplan-{self.name}", daemon=True)
        self._thread.start()

    def stop(self) -> list[tuple[float, float]]:
        if self._thread is None:
            raise DataError("stop() without start()", source=self.name, field="start")
        self._stop.set()
        self._thread.join()
        self._thread = None
        if self._error is not None:
            raise DataError(f"reading failed while sampling: {self._error}", source=self.name,
                            field="sample") from self._error
        self._take()
        # A sample taken at the same clock reading as the previous one adds nothing.
        out: list[tuple[float, float]] = []
        for s in self.samples:
            if not out or s[0] > out[-1][0]:
                out.append(s)
        return out


# --------------------------------------------------------------------------- NVML


class NvmlPower:
    """NVIDIA GPU power through NVML (``pynvml``, from the ``nvidia-ml-py`` package).

    pynvml is imported only when used; ``available()`` is False when it is missing, NVML
    cannot initialise, or GPU ``index`` does not exist or reports no power. ``mode``:
    ``"energy"`` reads the total energy counter (``nvmlDeviceGetTotalEnergyConsumption``,
    mJ, Volta and newer), ``"power"`` samples ``nvmlDeviceGetPowerUsage`` (mW), ``"auto"``
    (default) uses the counter when the GPU supports it. Either is sampled at ``rate_Hz``
    in a background thread. Note that on recent GPUs the power reading is an average over
    a window (up to 1 s) updated at a lower rate; the counter is the better choice.
    ``nvml`` injects a module with pynvml's interface (tests).
    """

    def __init__(self, index: int = 0, rate_Hz: float = 100.0, mode: str = "auto",
                 clock: Callable[[], float] = time.perf_counter, nvml: Any = None):
        if mode not in ("auto", "energy", "power"):
            raise ValueError(f"NvmlPower: mode must be auto, energy or power, got {mode!r}")
        self.index, self.rate_Hz, self.mode, self.clock = index, rate_Hz, mode, clock
        self._nvml = nvml
        self.name = f"nvml:{index}"
        self._sampler: _Sampler | None = None
        self._used_mode = ""

    def _module(self) -> Any:
        if self._nvml is None:
            import pynvml  # noqa: PLC0415 - optional dependency, imported lazily

            self._nvml = pynvml
        return self._nvml

    def _handle(self) -> Any:
        nv = self._module()
        nv.nvmlInit()
        if self.index >= nv.nvmlDeviceGetCount():
            nv.nvmlShutdown()
            raise DataError(f"no GPU with index {self.index}", source=self.name, field="index")
        return nv.nvmlDeviceGetHandleByIndex(self.index)

    def available(self) -> bool:
        try:
            h = self._handle()
        except Exception:  # noqa: BLE001 - any failure means "not available"
            return False
        try:
            self._module().nvmlDeviceGetPowerUsage(h)
            return True
        except Exception:  # noqa: BLE001
            return False
        finally:
            try:
                self._module().nvmlShutdown()
            except Exception:  # noqa: BLE001
                pass

    def start(self) -> None:
        try:
            h = self._handle()
        except DataError:
            raise
        except Exception as exc:  # ImportError, NVMLError
            raise DataError(f"cannot read GPU power: {exc}", source=self.name, field="pynvml") from exc
        nv = self._module()
        use = self.mode
        if use == "auto":
            try:
                nv.nvmlDeviceGetTotalEnergyConsumption(h)
                use = "energy"
            except Exception:  # noqa: BLE001 - not supported on this GPU
                use = "power"
        if use == "energy":
            def read() -> float:
                return float(nv.nvmlDeviceGetTotalEnergyConsumption(h)) * 1e-3  # mJ -> J
        else:
            def read() -> float:
                return float(nv.nvmlDeviceGetPowerUsage(h)) * 1e-3  # mW -> W
        self._used_mode = use
        self._sampler = _Sampler(read, self.rate_Hz, self.clock, self.name)
        try:
            self._sampler.start()
        except Exception as exc:
            self._sampler = None
            raise DataError(f"cannot read GPU {use}: {exc}", source=self.name, field=use) from exc

    def stop(self) -> PowerTrace:
        if self._sampler is None:
            raise DataError("stop() without start()", source=self.name, field="start")
        try:
            samples = self._sampler.stop()
        finally:
            self._sampler = None
            try:
                self._module().nvmlShutdown()
            except Exception:  # noqa: BLE001
                pass
        t = [s[0] for s in samples]
        v = [s[1] for s in samples]
        meta = {"source": self.name, "mode": self._used_mode, "rate_Hz": self.rate_Hz}
        if self._used_mode == "energy":
            return PowerTrace.from_counter(t, v, self.name, meta)
        return PowerTrace(np.asarray(t), np.asarray(v), None, self.name, meta)


# --------------------------------------------------------------------------- RAPL


def unwrap_counter(values: Sequence[float], max_range: float) -> np.ndarray:
    """A monotonic counter that wraps to 0 after ``max_range``, made cumulative.

    Each decrease is taken as one wrap: the step is ``cur - prev + max_range``
    (``max_energy_range_uj`` of the powercap zone). The result starts at ``values[0]``.
    """
    v = np.asarray(values, dtype=float).reshape(-1)
    if v.size == 0:
        return v
    d = np.diff(v)
    d = np.where(d < 0, d + float(max_range), d)
    return np.concatenate(([v[0]], v[0] + np.cumsum(d)))


class RaplPower:
    """CPU energy from the Linux powercap RAPL counters (``energy_uj``, µJ).

    ``zones``: names under ``root`` (default ``/sys/class/powercap``) such as
    ``intel-rapl:0``; default: every top-level package zone ``intel-rapl:<n>`` (sub-zones
    such as ``intel-rapl:0:0`` (core) are inside the package and would be counted twice).
    The counters wrap at ``max_energy_range_uj``; they are read at ``rate_Hz`` in a
    background thread so at most one wrap falls between reads. Since Linux 5.10
    ``energy_uj`` is readable by root only: ``available()`` is then False (never raises).
    """

    def __init__(self, zones: Sequence[str] | None = None, rate_Hz: float = 50.0,
                 root: str | os.PathLike = "/sys/class/powercap", clock: Callable[[], float] = time.perf_counter):
        self.root = Path(root)
        self.zones = list(zones) if zones is not None else None
        self.rate_Hz, self.clock = rate_Hz, clock
        self.name = "rapl"
        self._sampler: _Sampler | None = None
        self._ranges: list[float] = []

    def zone_dirs(self) -> list[Path]:
        if self.zones is not None:
            return [self.root / z for z in self.zones]
        pat = re.compile(r"^intel-rapl:\d+$")
        try:
            names = sorted(p.name for p in self.root.iterdir() if pat.match(p.name))
        except OSError:
            return []
        return [self.root / n for n in names]

    def _read_uj(self, path: Path) -> float:
        try:
            return float(path.read_text().strip())
        except PermissionError as exc:
            raise DataError("not readable (since Linux 5.10 RAPL counters need root)", source=str(path),
                            field="energy_uj") from exc
        except (OSError, ValueError) as exc:
            raise DataError(f"cannot read: {exc}", source=str(path), field=path.name) from exc

    def available(self) -> bool:
        try:
            dirs = self.zone_dirs()
            if not dirs:
                return False
            for d in dirs:
                self._read_uj(d / "energy_uj")
                self._read_uj(d / "max_energy_range_uj")
            return True
        except Exception:  # noqa: BLE001 - any failure means "not available"
            return False

    def start(self) -> None:
        dirs = self.zone_dirs()
        if not dirs:
            raise DataError("no RAPL zone (intel-rapl:<n>) found", source=str(self.root), field="energy_uj")
        self._ranges = [self._read_uj(d / "max_energy_range_uj") for d in dirs]
        files = [d / "energy_uj" for d in dirs]
        # Sample every zone's raw counter; unwrapped per zone in stop().
        self._raw: list[list[float]] = []

        def read() -> float:
            self._raw.append([self._read_uj(f) for f in files])
            return float(len(self._raw) - 1)

        self._sampler = _Sampler(read, self.rate_Hz, self.clock, self.name)
        self._sampler.start()

    def stop(self) -> PowerTrace:
        if self._sampler is None:
            raise DataError("stop() without start()", source=self.name, field="start")
        try:
            samples = self._sampler.stop()
        finally:
            self._sampler = None
        t = np.asarray([s[0] for s in samples])
        idx = [int(s[1]) for s in samples]
        raw = np.asarray([self._raw[i] for i in idx], dtype=float)
        total_uj = np.zeros(len(idx))
        for z, rng in enumerate(self._ranges):
            u = unwrap_counter(raw[:, z], rng)
            total_uj += u - u[0]
        meta = {"source": self.name, "zones": " ".join(d.name for d in self.zone_dirs()), "rate_Hz": self.rate_Hz}
        return PowerTrace.from_counter(t, total_uj * 1e-6, self.name, meta)


# --------------------------------------------------------------------------- power log CSV

_TIME_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
_POWER_UNITS = {"W": 1.0, "mW": 1e-3, "uW": 1e-6, "µW": 1e-6}
_VOLT_UNITS = {"V": 1.0, "mV": 1e-3}
_CURR_UNITS = {"A": 1.0, "mA": 1e-3, "uA": 1e-6, "µA": 1e-6}
_QUANTITY_UNITS = {"power": _POWER_UNITS, "voltage": _VOLT_UNITS, "current": _CURR_UNITS}
_TIME_NAMES = ("time", "timestamp", "t")
_COL = re.compile(r"^(?:(ch\d+)_)?(power|voltage|current)(?:_(.+))?$", re.IGNORECASE)


def _parse_header(header: list[str], where: str) -> tuple[int, float, dict[str, dict[str, tuple[int, float]]]]:
    """Time column index and factor; per channel ('' or 'chN') quantity -> (index, factor)."""
    time_col: tuple[int, float] | None = None
    channels: dict[str, dict[str, tuple[int, float]]] = {}
    for k, raw in enumerate(header):
        name = raw.strip()
        base, _, unit = name.partition("_")
        if base.lower() in _TIME_NAMES:
            u = unit or "s"
            if u not in _TIME_UNITS:
                raise DataError(f"unknown time unit {u!r} (use one of {', '.join(_TIME_UNITS)})",
                                source=where, field=name)
            if time_col is not None:
                raise DataError("more than one time column", source=where, field=name)
            time_col = (k, _TIME_UNITS[u])
            continue
        m = _COL.match(name)
        if not m:
            continue  # other columns (e.g. a SmartPower 'status') are ignored
        ch, qty, unit = (m.group(1) or "").lower(), m.group(2).lower(), m.group(3)
        table = _QUANTITY_UNITS[qty]
        if unit is None:
            raise DataError(f"{qty} needs a unit suffix ({', '.join(f'{qty}_{u}' for u in table)})",
                            source=where, field=name)
        if unit not in table:
            raise DataError(f"unknown {qty} unit {unit!r} (use one of {', '.join(table)})", source=where, field=name)
        slot = channels.setdefault(ch, {})
        if qty in slot:
            raise DataError(f"more than one {qty} column for channel {ch or '(unnamed)'}", source=where, field=name)
        slot[qty] = (k, table[unit])
    if time_col is None:
        raise DataError("no time column (time, time_s, time_ms, time_us or time_ns)", source=where, field="time")
    if not channels:
        raise DataError("no power column (power_W / power_mW, or voltage_* and current_*)", source=where,
                        field="power")
    for ch, q in channels.items():
        if "power" not in q and not ("voltage" in q and "current" in q):
            have = ", ".join(sorted(q))
            raise DataError(f"channel {ch or '(unnamed)'} has {have} only: needs power, or voltage and current",
                            source=where, field=f"{ch + '_' if ch else ''}power")
    return time_col[0], time_col[1], channels


def read_power_log(path: str | os.PathLike, channels: Sequence[str | int] | None = None, *,
                   offset_s: float = 0.0, max_gap_s: float | None = None) -> PowerTrace:
    """Load an external power log (CSV) as a :class:`PowerTrace` in s and W.

    Header (case-insensitive names, case-sensitive units): a time column ``time`` /
    ``time_s`` (s), ``time_ms``, ``time_us`` or ``time_ns`` (``timestamp`` works too);
    per channel either ``power_<unit>`` (W, mW) or ``voltage_<unit>`` (V, mV) and
    ``current_<unit>`` (A, mA); channels are prefixed ``ch1_``, ``ch2_``, ... (or
    unprefixed for a single one). A channel with a power column uses it (voltage x
    current otherwise). ``channels``: which to sum (``[1]`` or ``["ch1"]``), default all.
    Lines starting with ``#`` and blank lines are skipped; other columns are ignored.

    Rows must have strictly increasing time; a step longer than ``max_gap_s`` (default
    5 x the median step) is a gap. Any problem raises :class:`DataError` naming the file,
    the line number and the column. ``offset_s`` is added to every timestamp (to align
    the logging PC's clock with the profiler's).
    """
    p = Path(path)
    where = str(p)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise DataError("power log not found", source=where, field="path") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read power log: {exc}", source=where, field="path") from exc
    lines = [(n, line) for n, line in enumerate(text.splitlines(), start=1)
             if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise DataError("empty power log (no header)", source=where, field="header")
    rows = list(csv.reader([line for _, line in lines]))
    header_line = lines[0][0]
    tcol, tfac, chans = _parse_header(rows[0], f"{where}:{header_line}")
    if channels is not None:
        want = [c if isinstance(c, str) and c.lower().startswith("ch") else f"ch{c}" for c in channels]
        want = [w.lower() for w in want]
        missing = [w for w in want if w not in chans]
        if missing:
            raise DataError(f"no channel {', '.join(missing)} (file has {', '.join(sorted(chans)) or '(unnamed)'})",
                            source=where, field="channels")
        chans = {w: chans[w] for w in want}
    names = [h.strip() for h in rows[0]]
    n = len(rows) - 1
    if n < 2:
        raise DataError(f"needs at least two samples, has {n}", source=where, field="rows")
    t = np.empty(n)
    pw = np.zeros(n)
    per_ch = {ch: np.zeros(n) for ch in chans}
    for r, ((line_no, _), row) in enumerate(zip(lines[1:], rows[1:])):
        here = f"{where}:{line_no}"

        def cell(k: int, factor: float) -> float:
            if k >= len(row) or row[k].strip() == "":
                raise DataError("empty cell", source=here, field=names[k])
            try:
                v = float(row[k])
            except ValueError as exc:
                raise DataError(f"not a number: {row[k]!r}", source=here, field=names[k]) from exc
            if not np.isfinite(v):
                raise DataError(f"not finite: {row[k]!r}", source=here, field=names[k])
            return v * factor

        t[r] = cell(tcol, tfac)
        for ch, q in chans.items():
            if "power" in q:
                val = cell(*q["power"])
            else:
                val = cell(*q["voltage"]) * cell(*q["current"])
            per_ch[ch][r] = val
            pw[r] += val
    dt = np.diff(t)
    bad = np.flatnonzero(dt <= 0)
    if bad.size:
        r = int(bad[0]) + 1
        what = "repeats" if dt[r - 1] == 0 else "goes back from"
        raise DataError(
            f"rows not sorted by time: time {t[r]:.9g} s {what} {t[r - 1]:.9g} s of line {lines[r][0]}",
            source=f"{where}:{lines[r + 1][0]}", field=names[tcol],
        )
    step = float(np.median(dt))
    limit = 5.0 * step if max_gap_s is None else float(max_gap_s)
    gaps = np.flatnonzero(dt > limit)
    if gaps.size:
        r = int(gaps[0]) + 1
        raise DataError(
            f"gap in the power log: {dt[r - 1]:.6g} s after line {lines[r][0]} (median step {step:.6g} s, "
            f"limit {limit:.6g} s; pass max_gap_s to accept)",
            source=f"{where}:{lines[r + 1][0]}", field=names[tcol],
        )
    meta = {
        "source": "power_log",
        "file": where,
        "channels": " ".join(ch or "(unnamed)" for ch in chans),
        "rate_Hz": round(1.0 / step, 3),
        "samples": n,
    }
    return PowerTrace(t + float(offset_s), pw, None, where, meta, per_ch)


class PowerLog:
    """An external power log file as a :class:`PowerSource`.

    The log is recorded by another program (e.g. the SmartPower 3 logger on a PC) while
    the profiler runs; ``start()`` only notes that recording should be on, ``stop()``
    reads the file (:func:`read_power_log`). ``available()`` is True when the file
    exists and is readable.
    """

    def __init__(self, path: str | os.PathLike, channels: Sequence[str | int] | None = None, *,
                 offset_s: float = 0.0, max_gap_s: float | None = None):
        self.path = Path(path)
        self.channels, self.offset_s, self.max_gap_s = channels, offset_s, max_gap_s
        self.name = f"power_log:{self.path.name}"

    def available(self) -> bool:
        try:
            return self.path.is_file() and os.access(self.path, os.R_OK)
        except OSError:
            return False

    def start(self) -> None:
        return None

    def stop(self) -> PowerTrace:
        return self.load()

    def load(self) -> PowerTrace:
        return read_power_log(self.path, self.channels, offset_s=self.offset_s, max_gap_s=self.max_gap_s)


def rapl_zones(root: str | os.PathLike = "/sys/class/powercap") -> list[str]:
    """Names of the powercap zones under ``root`` (for ``--power rapl`` help text)."""
    return sorted(os.path.basename(p) for p in glob.glob(os.path.join(str(root), "intel-rapl:*")))
