"""Fixing a device's operating frequency while profiling (thesis Sec. 8.1-8.2, FreDDI).

The thesis profiles every bundle at each frequency option of a device, with the
frequency pinned so that no DVFS governor moves it during a run:

* a Linux CPU (LePotato): set the maximum scaling frequency and the ``performance``
  governor (:class:`CpufreqControl`, ``/sys/devices/system/cpu/cpu<n>/cpufreq``);
* a Jetson GPU (Nano): a custom ``nvpmodel`` profile with GPU min = max frequency
  (:class:`NvpmodelControl`; the GPU devfreq ``min_freq``/``max_freq`` files are written
  directly, see ``docs/energy_profiling.md`` for the nvpmodel.conf and jetson_clocks
  routes).

Safety: nothing is read or written on import or construction; only :meth:`pin` writes,
the settings it replaces are remembered first, and :meth:`restore` (also run when a
``with`` block ends, even on an error) writes them back. :meth:`check` explains why a
control cannot work here (no cpufreq directory, not root, no nvpmodel) and raises
:class:`FrequencyControlError`. The sysfs root, the command runner and the root test
are injectable so tests run on a fake tree in a tmp dir.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

from layerplan.errors import LayerplanError

__all__ = [
    "CommandResult",
    "CpufreqControl",
    "FrequencyControlError",
    "NvpmodelControl",
    "nvpmodel_custom_mode",
]


class FrequencyControlError(LayerplanError):
    """The frequency cannot be set (or restored) here: missing interface, not root, bad value."""


@dataclass
class CommandResult:
    returncode: int
    stdout: str = ""
    stderr: str = ""


Runner = Callable[[Sequence[str]], CommandResult]


def run_command(argv: Sequence[str]) -> CommandResult:
    """Run a command and capture its output (the default :data:`Runner`)."""
    try:
        cp = subprocess.run(list(argv), capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return CommandResult(127, "", str(exc))
    return CommandResult(cp.returncode, cp.stdout, cp.stderr)


def _read(path: Path, source: str) -> str:
    try:
        return path.read_text().strip()
    except OSError as exc:
        raise FrequencyControlError(f"cannot read: {exc.strerror or exc}", source=source, field=str(path)) from exc


def _write(path: Path, value: str | int, source: str) -> None:
    try:
        with open(path, "w") as fh:
            fh.write(f"{value}\n")
    except PermissionError as exc:
        raise FrequencyControlError(f"need root to write {path}", source=source, field=path.name) from exc
    except OSError as exc:
        raise FrequencyControlError(f"writing {value} to {path} failed: {exc.strerror or exc}", source=source,
                                    field=path.name) from exc


def _write_min_max(min_path: Path, max_path: Path, new_min: int, new_max: int, cur_max: int, source: str) -> None:
    """Write a [min, max] pair so that min <= max holds after every single write."""
    if new_min > cur_max:
        _write(max_path, new_max, source)
        _write(min_path, new_min, source)
    else:
        _write(min_path, new_min, source)
        _write(max_path, new_max, source)


def _fmt_hz(f: float) -> str:
    return f"{f / 1e6:g} MHz"


def _pick(freq_Hz: float, available_Hz: Sequence[int], source: str, tol_Hz: float = 1.0) -> int:
    for a in available_Hz:
        if abs(a - freq_Hz) <= tol_Hz:
            return int(a)
    raise FrequencyControlError(
        f"{_fmt_hz(freq_Hz)} is not an available frequency ({', '.join(_fmt_hz(a) for a in available_Hz)})",
        source=source, field="frequency_Hz",
    )


# --------------------------------------------------------------------------- cpufreq


class CpufreqControl:
    """Pin Linux CPU frequency: ``performance`` governor and scaling_min = scaling_max = f.

    ``cpus``: CPU numbers, or ``"all"`` for every ``cpu<n>`` with a cpufreq directory.
    Frequencies are given and returned in Hz (sysfs holds kHz). Available frequencies
    come from ``scaling_available_frequencies``; without it (e.g. intel_pstate) any value
    in ``[cpuinfo_min_freq, cpuinfo_max_freq]`` is accepted. ``pin_min=False`` only caps
    the maximum (the thesis' recipe; the performance governor then runs at the cap).

    Use as a context manager: ``with CpufreqControl([0]) as c: c.pin(1.2e9); ...``;
    the governor, min and max found before the first :meth:`pin` are restored on exit.
    """

    name = "cpufreq"

    def __init__(self, cpus: Iterable[int] | str = (0,), *, sysfs_root: str | os.PathLike = "/sys",
                 pin_min: bool = True, access: Callable[[str, int], bool] = os.access):
        self.sysfs_root = Path(sysfs_root)
        self._cpus = cpus if isinstance(cpus, str) else [int(c) for c in cpus]
        if isinstance(self._cpus, str) and self._cpus != "all":
            raise ValueError(f"cpus must be CPU numbers or 'all', got {cpus!r}")
        self.pin_min = pin_min
        self._access = access
        self._saved: dict[int, dict[str, str]] = {}
        self.pinned_Hz: int | None = None

    # ---- paths and reading
    @property
    def cpu_root(self) -> Path:
        return self.sysfs_root / "devices" / "system" / "cpu"

    @property
    def cpus(self) -> list[int]:
        if self._cpus == "all":
            found = []
            try:
                for p in self.cpu_root.iterdir():
                    m = re.fullmatch(r"cpu(\d+)", p.name)
                    if m and (p / "cpufreq").is_dir():
                        found.append(int(m.group(1)))
            except OSError:
                pass
            return sorted(found)
        return list(self._cpus)

    def cpufreq_dir(self, cpu: int) -> Path:
        return self.cpu_root / f"cpu{cpu}" / "cpufreq"

    def available_frequencies(self, cpu: int | None = None) -> list[int]:
        """Available frequencies (Hz, ascending) of ``cpu`` (default: the first one)."""
        cpu = self.cpus[0] if cpu is None else cpu
        d = self.cpufreq_dir(cpu)
        f = d / "scaling_available_frequencies"
        if f.exists():
            vals = sorted({int(x) * 1000 for x in _read(f, self.name).split()})
            if vals:
                return vals
        return [int(_read(d / "cpuinfo_min_freq", self.name)) * 1000,
                int(_read(d / "cpuinfo_max_freq", self.name)) * 1000]

    def _has_table(self, cpu: int) -> bool:
        f = self.cpufreq_dir(cpu) / "scaling_available_frequencies"
        return f.exists() and bool(_read(f, self.name).split())

    def current(self) -> dict[int, dict[str, str]]:
        """Governor and scaling min/max (kHz, as in sysfs) of every CPU."""
        out = {}
        for cpu in self.cpus:
            d = self.cpufreq_dir(cpu)
            out[cpu] = {k: _read(d / k, self.name) for k in ("scaling_governor", "scaling_min_freq",
                                                                "scaling_max_freq")}
        return out

    # ---- checks
    def problems(self) -> list[str]:
        """Why :meth:`pin` cannot work here (empty list: it can)."""
        cpus = self.cpus
        if not cpus:
            return [f"no CPU with a cpufreq directory under {self.cpu_root} (cpufreq not supported here)"]
        out = []
        for cpu in cpus:
            d = self.cpufreq_dir(cpu)
            if not d.is_dir():
                out.append(f"no cpufreq directory {d} (cpufreq not supported for cpu{cpu} here)")
                continue
            for k in ("scaling_governor", "scaling_min_freq", "scaling_max_freq"):
                p = d / k
                if not p.exists():
                    out.append(f"missing {p}")
                elif not self._access(str(p), os.W_OK):
                    out.append(f"need root to write {p}")
            govs = d / "scaling_available_governors"
            if govs.exists() and "performance" not in _read(govs, self.name).split():
                out.append(f"governor 'performance' not offered in {govs}")
        return out

    def check(self) -> None:
        """Raise :class:`FrequencyControlError` listing every reason pinning cannot work."""
        probs = self.problems()
        if probs:
            raise FrequencyControlError("cannot pin the CPU frequency: " + "; ".join(probs), source=self.name,
                                        field="sysfs")

    # ---- pin / restore
    def _target_kHz(self, cpu: int, frequency_Hz: float) -> int:
        avail = self.available_frequencies(cpu)
        if self._has_table(cpu):
            return _pick(frequency_Hz, avail, self.name) // 1000
        if not avail[0] - 1 <= frequency_Hz <= avail[-1] + 1:
            raise FrequencyControlError(
                f"{_fmt_hz(frequency_Hz)} is outside [{_fmt_hz(avail[0])}, {_fmt_hz(avail[-1])}]",
                source=self.name, field="frequency_Hz")
        return int(round(frequency_Hz / 1000.0))

    def pin(self, frequency_Hz: float) -> int:
        """Set the ``performance`` governor and min = max = ``frequency_Hz`` on every CPU.

        Returns the frequency set (Hz). Every CPU is checked before anything is written;
        the previous settings are saved on the first call (a sweep calling :meth:`pin`
        repeatedly restores the original ones); the values written are read back.
        """
        self.check()
        targets = {cpu: self._target_kHz(cpu, frequency_Hz) for cpu in self.cpus}
        if not self._saved:
            self._saved = self.current()
        for cpu, k in targets.items():
            d = self.cpufreq_dir(cpu)
            _write(d / "scaling_governor", "performance", self.name)
            cur_max = int(_read(d / "scaling_max_freq", self.name))
            new_min = k if self.pin_min else min(k, int(_read(d / "scaling_min_freq", self.name)))
            _write_min_max(d / "scaling_min_freq", d / "scaling_max_freq", new_min, k, cur_max, self.name)
            want = {"scaling_governor": "performance", "scaling_max_freq": str(k), "scaling_min_freq": str(new_min)}
            for key, val in want.items():
                got = _read(d / key, self.name)
                if got != val:
                    raise FrequencyControlError(
                        f"wrote {val} but {d / key} reads {got} (firmware or thermal cap?)",
                        source=self.name, field=key)
        self.pinned_Hz = next(iter(targets.values())) * 1000
        return self.pinned_Hz

    def restore(self) -> None:
        """Write back the settings saved by the first :meth:`pin` (no-op if none)."""
        if not self._saved:
            return
        errors = []
        for cpu, s in self._saved.items():
            d = self.cpufreq_dir(cpu)
            try:
                cur_max = int(_read(d / "scaling_max_freq", self.name))
                _write_min_max(d / "scaling_min_freq", d / "scaling_max_freq", int(s["scaling_min_freq"]),
                               int(s["scaling_max_freq"]), cur_max, self.name)
                _write(d / "scaling_governor", s["scaling_governor"], self.name)
            except FrequencyControlError as exc:
                errors.append(f"cpu{cpu}: {exc.message}")
        saved = self._saved
        self._saved = {}
        self.pinned_Hz = None
        if errors:
            raise FrequencyControlError(
                "restoring failed: " + "; ".join(errors) + f" (previous settings: {saved})",
                source=self.name, field="restore")

    def describe(self) -> str:
        """One line for the profile metadata / logs."""
        if self.pinned_Hz is None:
            return f"cpufreq cpus {self.cpus}: not pinned"
        prev = "; ".join(f"cpu{c} {s['scaling_governor']} {s['scaling_min_freq']}-{s['scaling_max_freq']} kHz"
                         for c, s in self._saved.items())
        return (f"cpufreq cpus {','.join(map(str, self.cpus))}: governor performance, "
                f"{'min = max' if self.pin_min else 'max'} = {self.pinned_Hz / 1e3:.0f} kHz (previous: {prev})")

    def __enter__(self) -> "CpufreqControl":
        return self

    def __exit__(self, *exc: object) -> None:
        self.restore()


# --------------------------------------------------------------------------- nvpmodel


_GPU_DEVFREQ_GLOBS = (
    "devices/gpu.0/devfreq/*",            # Nano, TX1, TX2, Xavier (L4T 32)
    "devices/platform/gpu.0/devfreq/*",
    "devices/platform/*.ga10b/devfreq/*",  # Orin
    "devices/*.ga10b/devfreq/*",
    "devices/platform/*.gv11b/devfreq/*",  # Xavier (newer L4T)
    "devices/*.gv11b/devfreq/*",
)


def nvpmodel_custom_mode(mode_id: int, name: str, gpu_Hz: int, base_lines: Sequence[str] = ()) -> str:
    """Text of an nvpmodel.conf POWER_MODEL block pinning the GPU (min = max = ``gpu_Hz``).

    A template for the persistent route (documented, never applied by this module):
    copy an existing mode's lines as ``base_lines`` (CPU_ONLINE, CPU MIN/MAX_FREQ, EMC...)
    and append the block to ``/etc/nvpmodel.conf``; then ``sudo nvpmodel -m <mode_id>``.
    Parameter names follow the Nano's (t210) file; check yours.
    """
    lines = [f"< POWER_MODEL ID={int(mode_id)} NAME={name} >"]
    lines += [ln for ln in base_lines if not re.match(r"^\s*GPU\s+(MIN|MAX)_FREQ\b", ln)]
    lines += [f"GPU MIN_FREQ {int(gpu_Hz)}", f"GPU MAX_FREQ {int(gpu_Hz)}"]
    return "\n".join(lines) + "\n"


class NvpmodelControl:
    """Pin a Jetson GPU frequency: devfreq ``min_freq`` = ``max_freq`` = f (Hz).

    ``nvpmodel -q`` is read first (the mode is recorded and must exist: this is a
    Jetson); the GPU's devfreq directory (``/sys/devices/gpu.0/devfreq/<id>`` on a Nano,
    found with a few globs or given as ``gpu_devfreq``) holds ``available_frequencies``,
    ``min_freq`` and ``max_freq``. :meth:`pin` writes min and max (order keeping
    min <= max) and reads them back; :meth:`restore` writes the previous pair back. This
    is the runtime equivalent of a custom nvpmodel mode with GPU MIN_FREQ = MAX_FREQ
    (:func:`nvpmodel_custom_mode` prints one for the persistent route); note that
    ``nvpmodel -m`` or ``jetson_clocks`` run meanwhile overwrite it.

    Requires the ``nvpmodel`` command and root. ``sysfs_root``, ``run`` (command runner),
    ``which`` and ``geteuid`` are injectable for tests.
    """

    name = "nvpmodel"

    def __init__(self, *, sysfs_root: str | os.PathLike = "/sys", gpu_devfreq: str | os.PathLike | None = None,
                 run: Runner = run_command, which: Callable[[str], str | None] = shutil.which,
                 geteuid: Callable[[], int] = os.geteuid):
        self.sysfs_root = Path(sysfs_root)
        self._gpu_devfreq = Path(gpu_devfreq) if gpu_devfreq is not None else None
        self._run, self._which, self._geteuid = run, which, geteuid
        self._saved: tuple[int, int] | None = None
        self.mode: str | None = None
        self.pinned_Hz: int | None = None

    def gpu_devfreq(self) -> Path | None:
        if self._gpu_devfreq is not None:
            return self._gpu_devfreq if self._gpu_devfreq.is_dir() else None
        for pat in _GPU_DEVFREQ_GLOBS:
            hits = sorted(self.sysfs_root.glob(pat))
            for h in hits:
                if (h / "max_freq").exists():
                    return h
        return None

    def query(self) -> str:
        """The current power mode from ``nvpmodel -q`` (e.g. ``"MAXN (0)"``)."""
        exe = self._which("nvpmodel")
        if exe is None:
            raise FrequencyControlError("nvpmodel not found on PATH (not a Jetson?)", source=self.name,
                                        field="nvpmodel")
        res = self._run([exe, "-q"])
        if res.returncode != 0:
            raise FrequencyControlError(f"'nvpmodel -q' failed ({res.returncode}): {res.stderr.strip()}",
                                        source=self.name, field="nvpmodel")
        name = mode_id = None
        for line in res.stdout.splitlines():
            m = re.search(r"Power Mode:\s*(\S.*)$", line)
            if m:
                name = m.group(1).strip()
            elif re.fullmatch(r"\s*\d+\s*", line):
                mode_id = line.strip()
        if name is None:
            raise FrequencyControlError(f"cannot parse 'nvpmodel -q' output: {res.stdout.strip()!r}",
                                        source=self.name, field="nvpmodel")
        return f"{name} ({mode_id})" if mode_id is not None else name

    def available_frequencies(self) -> list[int]:
        d = self.gpu_devfreq()
        if d is None:
            raise FrequencyControlError(f"no GPU devfreq directory under {self.sysfs_root}", source=self.name,
                                        field="devfreq")
        return sorted({int(x) for x in _read(d / "available_frequencies", self.name).split()})

    def problems(self) -> list[str]:
        out = []
        if self._which("nvpmodel") is None:
            out.append("nvpmodel not found on PATH (not a Jetson?)")
        if self._geteuid() != 0:
            out.append("need root (run the profiler with sudo) to change the GPU frequency")
        d = self.gpu_devfreq()
        if d is None:
            out.append(f"no GPU devfreq directory (e.g. {self.sysfs_root / 'devices/gpu.0/devfreq/<id>'})")
        else:
            for k in ("available_frequencies", "min_freq", "max_freq"):
                if not (d / k).exists():
                    out.append(f"missing {d / k}")
        return out

    def check(self) -> None:
        probs = self.problems()
        if probs:
            raise FrequencyControlError("cannot pin the GPU frequency: " + "; ".join(probs), source=self.name,
                                        field="gpu")

    def pin(self, frequency_Hz: float) -> int:
        self.check()
        self.mode = self.query()
        d = self.gpu_devfreq()
        assert d is not None
        f = _pick(frequency_Hz, self.available_frequencies(), self.name, tol_Hz=1000.0)
        cur_min = int(_read(d / "min_freq", self.name))
        cur_max = int(_read(d / "max_freq", self.name))
        if self._saved is None:
            self._saved = (cur_min, cur_max)
        _write_min_max(d / "min_freq", d / "max_freq", f, f, cur_max, self.name)
        got = (int(_read(d / "min_freq", self.name)), int(_read(d / "max_freq", self.name)))
        if got != (f, f):
            raise FrequencyControlError(f"wrote min = max = {f} but {d} reads min {got[0]}, max {got[1]}",
                                        source=self.name, field="max_freq")
        self.pinned_Hz = f
        return f

    def restore(self) -> None:
        if self._saved is None:
            return
        d = self.gpu_devfreq()
        saved, self._saved = self._saved, None
        self.pinned_Hz = None
        if d is None:
            raise FrequencyControlError(f"GPU devfreq directory vanished; previous min/max {saved}",
                                        source=self.name, field="restore")
        cur_max = int(_read(d / "max_freq", self.name))
        _write_min_max(d / "min_freq", d / "max_freq", saved[0], saved[1], cur_max, self.name)

    def describe(self) -> str:
        if self.pinned_Hz is None:
            return "nvpmodel: not pinned"
        prev = f" (previous min {self._saved[0]}, max {self._saved[1]} Hz)" if self._saved else ""
        return f"nvpmodel mode {self.mode}, GPU devfreq min = max = {self.pinned_Hz / 1e6:g} MHz{prev}"

    def __enter__(self) -> "NvpmodelControl":
        return self

    def __exit__(self, *exc: object) -> None:
        self.restore()
