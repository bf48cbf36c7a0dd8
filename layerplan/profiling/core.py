"""Framework-agnostic bundle profiling: timing, statistics, resume and the profile CSV.

Implements the measurement side of the thesis' profiling-based latency (Sec. 4.4) and of
DIME's bundle profiling (Ch. 7, Sec. 7.2): every bundle (i, j) of consecutive layers is
timed ``runs_per_input`` times on each of a fixed set of inputs (batch 1) and reduced to a
single value with a 10 % trimmed mean. Nothing here knows about torch; the torch side
(``torch_bundles.py``) hands :func:`profile_bundles` a callable per bundle.

The file written here is the format read by :mod:`layerplan.profiles`
(``docs/profiling.md``)::

    # layerplan bundle profile
    # device: cpu_t1
    # ...
    dnn,granularity,device,frequency_Hz,i,j,latency_s,energy_J,samples,statistic,spread_s
    alexnet,major,cpu_t1,,1,1,0.0123,,100,trimmed_mean_10,0.0004
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import math
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from layerplan.errors import DataError

#: Columns of a profile table, in order (the loader in layerplan/profiles.py depends on it).
COLUMNS = (
    "dnn",
    "granularity",
    "device",
    "frequency_Hz",
    "i",
    "j",
    "latency_s",
    "energy_J",
    "samples",
    "statistic",
    "spread_s",
)
#: First line of every profile file.
TITLE = "layerplan bundle profile"
#: Name of the statistic written in the ``statistic`` column.
STATISTIC = "trimmed_mean_10"
STATISTIC_TEXT = "trimmed mean, top and bottom 10 % dropped"
#: Metadata keys in the order they are written (any other keys follow, in insertion order).
META_ORDER = (
    "device",
    "description",
    "machine",
    "threads",
    "synthetic",
    "generator",
    "runs",
    "statistic",
    "loadavg_1min",
    "sessions",
    "remeasured",
    "contention",
    "created",
)


# --------------------------------------------------------------------------- statistics


def trimmed_count(n: int, frac: float = 0.1) -> int:
    """Number of samples dropped from EACH end: ``floor(frac * n)``.

    Rounding is down (100 samples -> 10 dropped per end, 25 -> 2, 9 -> 0). A tiny
    tolerance (1e-9) absorbs binary round-off so that e.g. ``0.1 * 30`` counts as 3.
    """
    if not 0 <= frac < 0.5:
        raise ValueError(f"frac must be in [0, 0.5), got {frac}")
    return int(math.floor(frac * n + 1e-9))


def trimmed_mean(samples: Iterable[float], frac: float = 0.1) -> tuple[float, float]:
    """Mean and standard deviation of the samples left after dropping the
    ``floor(frac * n)`` smallest and the ``floor(frac * n)`` largest values.

    The standard deviation is the population one (divided by the number of kept
    samples, ddof = 0) and describes the spread of the kept samples, not the standard
    error of the mean. With ``frac = 0.1`` and 100 samples, the 80 middle samples are
    kept. At least one sample is always kept because ``frac < 0.5``.
    """
    xs = sorted(float(s) for s in samples)
    n = len(xs)
    if n == 0:
        raise ValueError("trimmed_mean needs at least one sample")
    k = trimmed_count(n, frac)
    kept = xs[k : n - k]
    m = math.fsum(kept) / len(kept)
    var = math.fsum((x - m) ** 2 for x in kept) / len(kept)
    return m, math.sqrt(var)


# --------------------------------------------------------------------------- bundles


def bundles(n_layers: int, mbs: int | None = None) -> Iterator[tuple[int, int]]:
    """All bundles (i, j), 1-based and inclusive, with ``i <= j <= i + mbs - 1`` and
    ``j <= L``, ordered by i then j. ``mbs=None`` (or ``mbs >= L``) means every bundle.

    There are exactly ``sum_{k=1..MBS} (L - k + 1)`` of them (:func:`bundle_count`).
    """
    if n_layers < 1:
        raise ValueError(f"need at least one layer, got L={n_layers}")
    if mbs is None:
        mbs = n_layers
    if mbs < 1:
        raise ValueError(f"MBS must be >= 1, got {mbs}")
    for i in range(1, n_layers + 1):
        for j in range(i, min(n_layers, i + mbs - 1) + 1):
            yield i, j


def bundle_count(n_layers: int, mbs: int | None = None) -> int:
    """``sum_{k=1..min(MBS, L)} (L - k + 1)``: the number of bundles per device."""
    mbs = n_layers if mbs is None else min(mbs, n_layers)
    return sum(n_layers - k + 1 for k in range(1, mbs + 1))


def parse_bundle_spec(spec: str, n_layers: int) -> list[tuple[int, int]]:
    """``"1-3,5-5"`` -> [(1, 3), (5, 5)]; for profiling a chosen subset by hand."""
    out = []
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        a, sep, b = part.partition("-")
        i, j = int(a), int(b) if sep else int(a)
        if not 1 <= i <= j <= n_layers:
            raise ValueError(f"bundle {part!r}: need 1 <= i <= j <= {n_layers}")
        out.append((i, j))
    return out


# --------------------------------------------------------------------------- machine info


def cpu_model() -> str:
    """CPU model name from /proc/cpuinfo (falls back to platform.processor())."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                key, sep, val = line.partition(":")
                if sep and key.strip() in ("model name", "Hardware", "Processor"):
                    if val.strip():
                        return val.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown cpu"


def machine_description(extra: Sequence[str] = ()) -> str:
    """``<cpu model>, <n> cores, Linux <release>, python 3.11[, extra...]``."""
    parts = [
        cpu_model(),
        f"{os.cpu_count()} cores",
        f"{platform.system()} {platform.release()}",
        f"python {sys.version_info.major}.{sys.version_info.minor}",
        *extra,
    ]
    return ", ".join(parts)


def loadavg_1min() -> float | None:
    try:
        return os.getloadavg()[0]
    except (OSError, AttributeError):
        return None


def utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------- CSV


def format_number(x: float | int | None) -> str:
    """Six significant digits; empty for None."""
    if x is None:
        return ""
    if isinstance(x, int):
        return str(x)
    return format(float(x), ".6g")


def format_meta(meta: Mapping[str, Any]) -> list[str]:
    """The ``# key: value`` block, title first, known keys in :data:`META_ORDER`."""
    lines = [f"# {TITLE}"]
    keys = [k for k in META_ORDER if k in meta] + [k for k in meta if k not in META_ORDER]
    for k in keys:
        v = meta[k]
        if v is None:
            continue
        if isinstance(v, bool):
            v = "true" if v else "false"
        text = str(v).replace("\n", " ")
        lines.append(f"# {k}: {text}")
    return lines


def row_to_csv(row: Mapping[str, Any]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow([_cell(row.get(c)) for c in COLUMNS])
    return buf.getvalue()


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return format_number(v)
    return str(v)


def make_row(
    dnn: str,
    granularity: str,
    device: str,
    i: int,
    j: int,
    latency_s: float,
    *,
    frequency_Hz: float | None = None,
    energy_J: float | None = None,
    samples: int,
    spread_s: float | None,
    statistic: str = STATISTIC,
) -> dict[str, Any]:
    return {
        "dnn": dnn,
        "granularity": granularity,
        "device": device,
        "frequency_Hz": None if frequency_Hz is None else format_number(frequency_Hz),
        "i": int(i),
        "j": int(j),
        "latency_s": float(latency_s),
        "energy_J": None if energy_J is None else float(energy_J),
        "samples": int(samples),
        "statistic": statistic,
        "spread_s": None if spread_s is None else float(spread_s),
    }


def write_profile(path: str | os.PathLike, meta: Mapping[str, Any], rows: Iterable[Mapping[str, Any]]) -> Path:
    """Write a complete profile table (metadata, header, rows) atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join(format_meta(meta)) + "\n" + ",".join(COLUMNS) + "\n"
    text += "".join(row_to_csv(r) for r in rows)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path


def read_profile(path: str | os.PathLike) -> tuple[dict[str, str], list[dict[str, str]]]:
    """Metadata (as strings) and rows (as strings) of a profile file.

    A final line without a newline (a write cut short) is ignored. The header must be
    exactly :data:`COLUMNS`.
    """
    path = Path(path)
    with open(path, encoding="utf-8", newline="") as fh:
        text = fh.read()
    if text and not text.endswith("\n"):
        text = text[: text.rfind("\n") + 1]
    meta: dict[str, str] = {}
    body = []
    for line in text.splitlines():
        if line.startswith("#"):
            key, sep, val = line[1:].partition(":")
            if sep:
                meta[key.strip()] = val.strip()
        elif line.strip():
            body.append(line)
    if not body:
        return meta, []
    reader = csv.reader(body)
    header = next(reader)
    if tuple(header) != COLUMNS:
        raise DataError(f"header must be {','.join(COLUMNS)}, got {','.join(header)}", source=str(path), field="header")
    rows = [dict(zip(COLUMNS, r)) for r in reader if len(r) == len(COLUMNS)]
    return meta, rows


# --------------------------------------------------------------------------- profiling


@dataclass
class BundleResult:
    i: int
    j: int
    latency_s: float
    spread_s: float
    samples: int
    wall_s: float
    raw_s: list[float] = field(default_factory=list, repr=False)
    foreign_load: float | None = None  # cores used by other processes while timing


class ContentionProbe:
    """CPU time used by OTHER processes during an interval, in cores (Linux /proc).

    busy = user + nice + system + irq + softirq + steal ticks of the ``cpu`` line of
    /proc/stat (all CPUs; steal counts time the hypervisor gave to other VMs), minus this
    process' own utime + stime (/proc/self/stat, all its threads), divided by the wall
    time. Resolution is one clock tick (usually 10 ms) per read, so intervals shorter
    than ``min_interval_s`` (default 0.25 s) are not judged: ``stop`` returns None, as it
    does where /proc is missing (``available`` False).
    """

    def __init__(self, stat_path: str = "/proc/stat", self_path: str = "/proc/self/stat",
                 wall: Callable[[], float] = time.monotonic, min_interval_s: float = 0.25):
        self.stat_path, self.self_path, self.wall = stat_path, self_path, wall
        self.min_interval_s = min_interval_s
        try:
            self.hz = os.sysconf("SC_CLK_TCK")
        except (AttributeError, ValueError, OSError):
            self.hz = 100
        self.available = self._read() is not None

    def _read(self) -> tuple[int, int] | None:
        try:
            with open(self.stat_path, encoding="ascii") as fh:
                f = fh.readline().split()
            busy = sum(int(f[k]) for k in (1, 2, 3, 6, 7, 8))  # user nice system irq softirq steal
            with open(self.self_path, encoding="ascii") as fh:
                own = fh.read().rsplit(")", 1)[1].split()  # fields after "(comm)"; utime = 14th field
            return busy, int(own[11]) + int(own[12])
        except (OSError, ValueError, IndexError):
            return None

    def start(self):
        return self.wall(), self._read()

    def stop(self, token) -> float | None:
        t0, r0 = token
        r1, t1 = self._read(), self.wall()
        if r0 is None or r1 is None or t1 - t0 < self.min_interval_s:
            return None
        foreign_ticks = (r1[0] - r0[0]) - (r1[1] - r0[1])
        return max(0.0, foreign_ticks / self.hz / (t1 - t0))


def clock_timer(clock: Callable[[], int] = time.perf_counter_ns) -> Callable[[Callable[[Any], Any], Any], float]:
    """A timer that calls ``fn(x)`` between two reads of a monotonic nanosecond clock."""

    def timed(fn: Callable[[Any], Any], x: Any) -> float:
        t0 = clock()
        fn(x)
        t1 = clock()
        return (t1 - t0) * 1e-9

    return timed


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class ProfileMismatch(DataError):
    """The file to resume was written for another DNN, device or measurement setup."""


def profile_bundles(
    run_bundle: Callable[[int, int], Callable[[Any], Any]],
    inputs: Sequence[Any] | Callable[[int], Sequence[Any]],
    bundles: Iterable[tuple[int, int]],
    runs_per_input: int = 5,
    warmup: int = 3,
    clock: Callable[[], int] = time.perf_counter_ns,
    progress: bool | Callable[[str], None] | None = True,
    resume_path: str | os.PathLike | None = None,
    *,
    dnn: str = "",
    granularity: str = "",
    device: str = "",
    frequency_Hz: float | None = None,
    meta: Mapping[str, Any] | None = None,
    timer: Callable[[Callable[[Any], Any], Any], float] | None = None,
    frac: float = 0.1,
    resume_check: Sequence[str] = ("device", "threads", "runs", "synthetic"),
    remeasure_spread: float | None = None,
    loadavg: Callable[[], float | None] = loadavg_1min,
    remeasure: Iterable[tuple[int, int]] = (),
    contention: ContentionProbe | None = None,
    max_foreign_load: float | None = None,
    retries: int = 0,
    quiet_wait_s: float = 0.0,
    sleep: Callable[[float], None] = time.sleep,
    power: Any = None,
) -> list[dict[str, Any]]:
    """Time every bundle and write/extend the profile table at ``resume_path``.

    Energy (Sec. 8.2): with a ``power`` source (:mod:`layerplan.profiling.power`: NVML,
    RAPL, or a power log), power is recorded while each bundle's runs are timed, every
    run's window is integrated with the trapezoid rule, and the trimmed mean of the
    per-run energies becomes the row's ``energy_J``.

    For each bundle (i, j): ``fn = run_bundle(i, j)`` prepares it (not timed); the inputs
    are ``inputs(i)`` when ``inputs`` is callable (e.g. the cached intermediate tensors
    entering layer i), else ``inputs`` itself. ``warmup`` untimed calls are made (cycling
    through the inputs), then ``runs_per_input`` passes over all inputs, each call timed
    on its own (``len(inputs) * runs_per_input`` samples). The samples reduce to
    :func:`trimmed_mean` (value and spread of the kept samples).

    Timing: ``timer(fn, x)`` returns seconds; by default it reads ``clock`` (a
    monotonic nanosecond clock, :func:`time.perf_counter_ns`) just before and after
    ``fn(x)``. A GPU caller passes a CUDA-event timer instead.

    Resume: when ``resume_path`` exists, its rows are kept and bundles already there are
    skipped (the metadata keys in ``resume_check`` must agree, else
    :class:`ProfileMismatch`). With ``remeasure_spread`` = r, finished bundles whose
    ``spread_s > r * latency_s`` (e.g. measured during a load spike) are dropped and
    measured again; so are the bundles listed in ``remeasure``. A ``remeasured``
    metadata line lists them. Each finished bundle is
    appended and flushed (and fsynced) at once, so an interruption loses at most the
    bundle being measured. When all bundles
    are done the file is rewritten once, atomically, with the final metadata (load
    average after the run, number of sessions) and the rows in (i, j) order.

    Contention: with a ``contention`` probe (:class:`ContentionProbe`), the CPU time
    other processes used while a bundle was timed is measured (in cores); if it exceeds
    ``max_foreign_load`` the bundle is timed again, up to ``retries`` more times, and the
    attempt with the least foreign load is kept. With ``quiet_wait_s`` > 0, each attempt
    first waits (checking 0.5 s windows, up to ``quiet_wait_s`` seconds) until other
    processes use at most ``max_foreign_load`` cores. A ``contention`` metadata line
    counts the retried bundles and those still above the limit.

    ``progress``: True prints one line per bundle to stderr, a callable receives each
    line, False/None is silent. Returns all rows of the table (resumed and new).
    """
    if runs_per_input < 1:
        raise ValueError("runs_per_input must be >= 1")
    if warmup < 0:
        raise ValueError("warmup must be >= 0")
    say: Callable[[str], None] | None
    if progress is True:
        say = _stderr
    elif callable(progress):
        say = progress
    else:
        say = None
    time_call = timer or clock_timer(clock)
    todo_all = list(bundles)
    meta = dict(meta or {})
    meta.setdefault("device", device)
    meta.setdefault("statistic", STATISTIC_TEXT)
    if power is not None:
        from layerplan.profiling.power import WindowTimer, run_energy

        windows = WindowTimer(inner=time_call)
        meta.setdefault("power", f"{power.name}: energy per run by the trapezoid rule, trimmed mean as for latency")

    def measure(i: int, j: int):
        """One attempt at bundle i..j: (BundleResult, energy in J or None)."""
        if power is None:
            return measure_bundle(run_bundle, inputs, i, j, runs_per_input, warmup, time_call, frac, contention), None
        windows.take()
        power.start()
        try:
            res = measure_bundle(run_bundle, inputs, i, j, runs_per_input, warmup, windows, frac, contention)
        finally:
            trace = power.stop()
        return res, run_energy(trace, windows.take(), frac).energy_J

    done: dict[tuple[int, int], dict[str, Any]] = {}
    old_meta: dict[str, str] = {}
    path = Path(resume_path) if resume_path is not None else None
    la_before = loadavg()
    if path is not None and path.exists() and path.stat().st_size > 0:
        old_meta, old_rows = read_profile(path)
        for key in resume_check:
            if key in meta and key in old_meta and str(_meta_text(meta[key])) != old_meta[key]:
                raise ProfileMismatch(
                    f"cannot resume: {key} is {old_meta[key]!r} in the file but {_meta_text(meta[key])!r} now; "
                    "use another --out or delete the file",
                    source=str(path),
                    field=key,
                )
        for r in old_rows:
            if (r["dnn"], r["granularity"], r["device"]) != (dnn, granularity, device):
                raise ProfileMismatch(
                    f"cannot resume: file holds {r['dnn']}/{r['granularity']}/{r['device']}, "
                    f"now profiling {dnn}/{granularity}/{device}",
                    source=str(path),
                    field="dnn",
                )
            done[(int(r["i"]), int(r["j"]))] = typed_row(r)
    redo: list[tuple[int, int]] = []
    asked = {(int(i), int(j)) for i, j in remeasure}
    if remeasure_spread is not None or asked:
        redo = sorted(
            k for k, r in done.items()
            if k in set(todo_all) and (
                k in asked
                or (remeasure_spread is not None and r["spread_s"] is not None
                    and r["spread_s"] > remeasure_spread * r["latency_s"])
            )
        )
        for k in redo:
            del done[k]
        if redo:
            why = " or ".join(
                ([f"spread_s > {remeasure_spread:g} x latency_s"] if remeasure_spread is not None else [])
                + (["asked for"] if asked else [])
            )
            note = (f"{len(redo)} bundle(s) ({why}) dropped and measured "
                    f"again in session {len(_session_log(old_meta)) + 1}: " + " ".join(f"{i}..{j}" for i, j in redo))
            prev = old_meta.get("remeasured")
            meta["remeasured"] = f"{prev}; {note}" if prev else note
    if "remeasured" in old_meta and "remeasured" not in meta:
        meta["remeasured"] = old_meta["remeasured"]

    history = _session_log(old_meta)
    if path is not None:
        live_meta = dict(meta)
        live_meta["loadavg_1min"] = _loadavg_text(history + [(_fmt_la(la_before), "(running)")])
        live_meta["sessions"] = _sessions_text(history + [(_fmt_la(la_before), "(running)")])
        live_meta["created"] = old_meta.get("created") or meta.get("created") or utc_now()
        # (Re)write header + rows already done; then append bundle by bundle.
        write_profile(path, live_meta, _sorted_rows(done.values()))

    todo = [b for b in todo_all if b not in done]
    total = len(todo_all)
    if say and done:
        say(f"resuming {path}: {len(done)} bundle(s) already measured, {len(todo)} to go")
    fh = open(path, "a", encoding="utf-8", newline="") if path is not None else None
    new_rows: dict[tuple[int, int], dict[str, Any]] = {}
    c_retried, c_above = 0, []

    def wait_quiet() -> None:
        if contention is None or max_foreign_load is None or quiet_wait_s <= 0 or not contention.available:
            return
        waited = 0.0
        while waited < quiet_wait_s:
            token = contention.start()
            sleep(max(0.5, contention.min_interval_s))
            load = contention.stop(token)
            waited += 0.5
            if load is None or load <= max_foreign_load:
                return
            sleep(1.5)
            waited += 1.5

    try:
        for n, (i, j) in enumerate(todo, start=total - len(todo) + 1):
            wait_quiet()
            res, energy = measure(i, j)
            attempts = 1
            while (
                max_foreign_load is not None and res.foreign_load is not None
                and res.foreign_load > max_foreign_load and attempts <= retries
            ):
                if say:
                    say(f"  bundle {i}..{j}: other processes used {res.foreign_load:.2f} cores, timing again")
                wait_quiet()
                again, energy_again = measure(i, j)
                attempts += 1
                if again.foreign_load is not None and again.foreign_load < res.foreign_load:
                    res, energy = again, energy_again
            if attempts > 1:
                c_retried += 1
                if res.foreign_load is not None and res.foreign_load > max_foreign_load:
                    c_above.append(f"{i}..{j}")
            row = make_row(
                dnn, granularity, device, i, j, res.latency_s,
                frequency_Hz=frequency_Hz, energy_J=energy, samples=res.samples, spread_s=res.spread_s,
            )
            new_rows[(i, j)] = row
            if fh is not None:
                fh.write(row_to_csv(row))
                fh.flush()
                os.fsync(fh.fileno())
            if say:
                width = len(str(total))
                say(
                    f"[{n:>{width}}/{total}] {dnn} {device} bundle {i}..{j}: "
                    f"{res.latency_s:.6g} s (sd {res.spread_s:.2g}, {res.samples} runs, {res.wall_s:.1f} s wall"
                    + ("" if res.foreign_load is None else f", other load {res.foreign_load:.2f} cores")
                    + ")"
                )
    finally:
        if fh is not None:
            fh.close()

    all_rows = {**done, **new_rows}
    la_after = loadavg()
    if path is not None:
        log = history + [(_fmt_la(la_before), _fmt_la(la_after))]
        final_meta = dict(meta)
        final_meta["loadavg_1min"] = _loadavg_text(log)
        if len(log) > 1:  # a single uninterrupted run needs no session log
            final_meta["sessions"] = _sessions_text(log)
        else:
            final_meta.pop("sessions", None)
        final_meta["created"] = live_meta["created"]
        if max_foreign_load is not None and contention is not None and contention.available:
            note = (f"session {len(log)}: {len(new_rows)} bundle(s) timed, {c_retried} timed again because other "
                    f"processes used > {max_foreign_load:g} cores (up to {retries} retries, least-loaded attempt kept)")
            if c_above:
                note += "; still above: " + " ".join(c_above)
            prev = old_meta.get("contention")
            final_meta["contention"] = f"{prev}; {note}" if prev else note
        elif "contention" in old_meta:
            final_meta["contention"] = old_meta["contention"]
        write_profile(path, final_meta, _sorted_rows(all_rows.values()))
    return _sorted_rows(all_rows.values())


def measure_bundle(
    run_bundle: Callable[[int, int], Callable[[Any], Any]],
    inputs: Sequence[Any] | Callable[[int], Sequence[Any]],
    i: int,
    j: int,
    runs_per_input: int,
    warmup: int,
    time_call: Callable[[Callable[[Any], Any], Any], float],
    frac: float = 0.1,
    contention: "ContentionProbe | None" = None,
) -> BundleResult:
    """Warm up and time one bundle; see :func:`profile_bundles`."""
    t_start = time.perf_counter()
    fn = run_bundle(i, j)
    xs = list(inputs(i) if callable(inputs) else inputs)
    if not xs:
        raise ValueError(f"no inputs for bundle {i}..{j}")
    for w in range(warmup):
        fn(xs[w % len(xs)])
    samples = []
    token = contention.start() if contention is not None else None
    for _ in range(runs_per_input):
        for x in xs:
            samples.append(time_call(fn, x))
    foreign = contention.stop(token) if contention is not None else None
    m, sd = trimmed_mean(samples, frac)
    return BundleResult(i, j, m, sd, len(samples), time.perf_counter() - t_start, samples, foreign)


def typed_row(r: Mapping[str, str]) -> dict[str, Any]:
    """A row read from a file with numbers converted (empty cells -> None)."""

    def num(v: str | None, kind=float):
        return None if v is None or v.strip() == "" else kind(v)

    return {
        "dnn": r["dnn"],
        "granularity": r["granularity"],
        "device": r["device"],
        "frequency_Hz": (r.get("frequency_Hz") or "").strip() or None,
        "i": int(r["i"]),
        "j": int(r["j"]),
        "latency_s": float(r["latency_s"]),
        "energy_J": num(r.get("energy_J")),
        "samples": num(r.get("samples"), int),
        "statistic": r.get("statistic") or STATISTIC,
        "spread_s": num(r.get("spread_s")),
    }


def _sorted_rows(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return sorted((dict(r) for r in rows), key=lambda r: (int(r["i"]), int(r["j"])))


def _meta_text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _fmt_la(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def _loadavg_text(log: Sequence[tuple[str, str]]) -> str:
    """``before X, after Y``: X from the first session, Y from the last."""
    return f"before {log[0][0]}, after {log[-1][1]}"


def _sessions_text(log: Sequence[tuple[str, str]]) -> str:
    return f"{len(log)}; loadavg_1min per session: " + ", ".join(f"{b} -> {a}" for b, a in log)


def _session_log(old_meta: Mapping[str, str]) -> list[tuple[str, str]]:
    """Earlier sessions of a file being resumed, as (loadavg before, after) strings;
    a session that never finished reads ``(interrupted)``."""
    if not old_meta:
        return []
    text = old_meta.get("sessions", "")
    if text:
        _, _, log = text.partition("loadavg_1min per session:")
        out = []
        for part in log.split(","):
            b, _, a = part.strip().partition("->")
            a = a.strip()
            out.append((b.strip() or "n/a", "(interrupted)" if a in ("", "(running)") else a))
        return out
    la = old_meta.get("loadavg_1min", "")
    b, a = "n/a", "n/a"
    if la.startswith("before "):
        b_txt, _, a_txt = la[len("before ") :].partition(", after ")
        b, a = b_txt.strip() or "n/a", a_txt.strip() or "n/a"
    return [(b, "(interrupted)" if a == "(running)" else a)]


# --------------------------------------------------------------------------- layer tables


def layer_table_path(dnn: str, granularity: str, dnn_dir: str | os.PathLike | None = None) -> Path:
    """``data/dnn/<dnn>_<granularity>.csv`` (shipped data folder unless ``dnn_dir``)."""
    if dnn_dir is None:
        from layerplan.io import data_root

        dnn_dir = data_root() / "dnn"
    return Path(dnn_dir) / f"{dnn}_{granularity}.csv"


def read_layer_table(dnn: str, granularity: str, dnn_dir: str | os.PathLike | None = None) -> list[dict[str, Any]]:
    """Rows of a per-layer table (real layers only), numbers converted, ``members`` split on '+'."""
    path = layer_table_path(dnn, granularity, dnn_dir)
    if not path.is_file():
        raise DataError(f"layer table not found: {path}", source=str(path), field="dnn")
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    out = []
    for n, r in enumerate(rows, start=2):
        try:
            out.append(
                {
                    "name": r["name"],
                    "kind": r["kind"],
                    "flop": float(r["flop"]),
                    "weights": float(r["weights"]),
                    "members": [m for m in (r.get("members") or r["name"]).split("+") if m],
                }
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"row {n}: bad or missing field ({exc})", source=str(path), field="row") from None
    if not out:
        raise DataError("no layers", source=str(path), field="rows")
    return out
