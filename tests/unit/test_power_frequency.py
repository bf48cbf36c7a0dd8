"""Energy per run and frequency pinning (thesis Sec. 8.1-8.2), without hardware.

Hand-computed trapezoid energies (constant power, a ramp, a triangle, windows that cut
sampling intervals), the RAPL counter wrap-around, power-log unit conversion and error
lines, and the cpufreq / nvpmodel controls on fake sysfs trees in tmp dirs with fake
command runners. Nothing here reads or writes the real /sys or runs a real command that
changes the machine.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from layerplan.errors import DataError, LayerplanError
from layerplan.profiling import frequency as fq
from layerplan.profiling import power as pw
from layerplan.profiling.frequency import CommandResult, CpufreqControl, FrequencyControlError, NvpmodelControl
from layerplan.profiling.power import (
    NvmlPower,
    PowerLog,
    PowerSource,
    PowerTrace,
    RaplPower,
    WindowTimer,
    energy_J,
    energy_per_run,
    read_power_log,
    run_energy,
    unwrap_counter,
)

pytestmark = pytest.mark.unit


def trace(ts, ps, **kw) -> PowerTrace:
    return PowerTrace(np.asarray(ts, float), np.asarray(ps, float), **kw)


# --------------------------------------------------------------------------- trapezoid


def test_constant_2W_for_half_a_second_is_1J():
    t = np.arange(0, 1.0001, 0.1)
    tr = trace(t, np.full_like(t, 2.0))
    assert energy_J(tr, 0.0, 0.5) == pytest.approx(1.0, abs=1e-12)
    # window edges between samples: interpolated, still 2 W x 0.5 s
    assert energy_J(tr, 0.25, 0.75) == pytest.approx(1.0, abs=1e-12)
    assert energy_J(tr, 0.33, 0.33) == 0.0


def test_ramp_is_exact():
    # p = 4 t W sampled at 0, 0.5, 1 s: linear, so the trapezoid rule is exact
    tr = trace([0.0, 0.5, 1.0], [0.0, 2.0, 4.0])
    assert energy_J(tr, 0.0, 1.0) == pytest.approx(2.0)  # 2 t^2 from 0 to 1
    assert energy_J(tr, 0.25, 0.75) == pytest.approx(2 * 0.75**2 - 2 * 0.25**2)  # 1.0


def test_window_edge_interpolation_on_a_triangle():
    tr = trace([0.0, 1.0, 2.0], [0.0, 2.0, 0.0])
    assert energy_J(tr, 0.0, 2.0) == pytest.approx(2.0)
    # p(0.5) = 1, p(1) = 2, p(1.5) = 1: two trapezoids of 0.5 s, (1 + 2) / 2 * 0.5 each
    assert energy_J(tr, 0.5, 1.5) == pytest.approx(1.5)
    # both edges inside one interval: p(0.25) = 0.5, p(0.5) = 1 -> 0.25 * 0.75
    assert energy_J(tr, 0.25, 0.5) == pytest.approx(0.1875)
    # the trapezoid of the interpolated points, not the samples' trapezoid
    assert energy_J(tr, 0.5, 1.0) == pytest.approx(0.75)


def test_energy_per_run_and_trimmed_mean():
    t = np.linspace(0.0, 11.0, 1101)
    p = np.full_like(t, 3.0)
    p[(t >= 9.0) & (t <= 10.0)] = 30.0  # one run hits a spike
    tr = trace(t, p)
    windows = [(k + 0.0, k + 0.5) for k in range(10)]
    e = energy_per_run(tr, windows)
    assert e.shape == (10,)
    assert e[:9] == pytest.approx([1.5] * 9)
    assert e[9] == pytest.approx(15.0)
    res = run_energy(tr, windows)  # floor(0.1 * 10) = 1 dropped at each end
    assert res.samples == 10
    assert res.energy_J == pytest.approx(1.5)
    assert res.spread_J == pytest.approx(0.0, abs=1e-12)
    # baseline subtraction: 3 W idle -> 0 J per quiet run
    assert energy_per_run(tr, windows[:2], baseline_W=3.0) == pytest.approx([0.0, 0.0], abs=1e-12)


def test_trimmed_mean_is_the_profilers():
    from layerplan.profiling import core

    assert pw.trimmed_mean is core.trimmed_mean


def test_window_errors():
    tr = trace([0.0, 1.0], [1.0, 1.0], source="log.csv")
    with pytest.raises(DataError, match="not covered by the trace") as ei:
        energy_J(tr, 0.5, 1.5)
    assert "log.csv" in str(ei.value) and "windows" in str(ei.value)
    with pytest.raises(DataError, match="before its start"):
        energy_J(tr, 0.8, 0.2)
    with pytest.raises(DataError, match="at least two samples"):
        energy_J(trace([0.0], [1.0]), 0.0, 0.0)
    with pytest.raises(DataError, match="increase strictly"):
        trace([0.0, 1.0, 1.0], [1.0, 1.0, 1.0])


def test_counter_trace_uses_the_counter():
    # 10 J/s counter sampled at 0, 1, 2 s (plus 1 J offset): exact at any window
    tr = PowerTrace.from_counter([0.0, 1.0, 2.0], [1.0, 11.0, 21.0], source="counter")
    assert tr.power_W == pytest.approx([10.0, 10.0, 10.0])
    assert energy_J(tr, 0.25, 1.75) == pytest.approx(15.0)


def test_window_timer_records_run_windows():
    ticks = iter([1.0, 1.25, 2.0, 2.5])
    wt = WindowTimer(clock=lambda: next(ticks))
    calls = []
    assert wt(calls.append, "x") == pytest.approx(0.25)
    assert wt(calls.append, "y") == pytest.approx(0.5)
    assert calls == ["x", "y"]
    assert wt.take() == [(1.0, 1.25), (2.0, 2.5)]
    assert wt.take() == []
    ticks = iter([0.0, 1.0])
    wt = WindowTimer(inner=lambda fn, x: 0.125, clock=lambda: next(ticks))
    assert wt(print, None) == 0.125 and wt.windows == [(0.0, 1.0)]


# --------------------------------------------------------------------------- RAPL


def test_unwrap_counter_wraps_at_max_energy_range():
    mx = 1000.0
    # 990 -> 20: one wrap, 20 - 990 + 1000 = 30
    assert unwrap_counter([900.0, 990.0, 20.0, 50.0], mx) == pytest.approx([900.0, 990.0, 1020.0, 1050.0])
    assert unwrap_counter([], mx).size == 0


def make_rapl(root: Path, energy_uj: int, max_uj: int = 1_000_000, zone: str = "intel-rapl:0") -> Path:
    d = root / zone
    d.mkdir(parents=True, exist_ok=True)
    (d / "energy_uj").write_text(f"{energy_uj}\n")
    (d / "max_energy_range_uj").write_text(f"{max_uj}\n")
    (d / "name").write_text("package-0\n")
    sub = root / f"{zone}:0"  # core sub-zone: must not be counted again
    sub.mkdir(exist_ok=True)
    (sub / "energy_uj").write_text("5\n")
    (sub / "max_energy_range_uj").write_text(f"{max_uj}\n")
    return d


def test_rapl_on_a_fake_powercap_tree_with_wraparound(tmp_path):
    d = make_rapl(tmp_path, 900_000)
    src = RaplPower(root=tmp_path, rate_Hz=2.0)
    assert src.available() is True
    assert [z.name for z in src.zone_dirs()] == ["intel-rapl:0"]
    src.start()
    time.sleep(0.05)
    (d / "energy_uj").write_text("100000\n")  # wrapped: 100000 - 900000 + 1000000 = 200000 uJ
    tr = src.stop()
    assert len(tr) >= 2
    assert energy_J(tr, tr.timestamps_s[0], tr.timestamps_s[-1]) == pytest.approx(0.2)


def test_rapl_not_available_without_raising(tmp_path):
    assert RaplPower(root=tmp_path / "absent").available() is False
    assert RaplPower(root=tmp_path).available() is False  # no zones
    # unreadable counter (a directory stands in for a permission error; we may be root)
    d = tmp_path / "ro" / "intel-rapl:0"
    (d / "energy_uj").mkdir(parents=True)
    (d / "max_energy_range_uj").write_text("1000\n")
    assert RaplPower(root=tmp_path / "ro").available() is False
    with pytest.raises(DataError, match="energy_uj"):
        RaplPower(root=tmp_path / "ro").start()
    # the real machine: a bool, never an exception
    assert isinstance(RaplPower().available(), bool)


# --------------------------------------------------------------------------- NVML


class FakeNvml:
    """pynvml's interface, 5 W on a counter driven by the real clock."""

    def __init__(self, energy: bool = True, fail_init: bool = False):
        self.energy, self.fail_init, self.t0 = energy, fail_init, time.perf_counter()
        self.inits = self.shutdowns = 0

    def nvmlInit(self):
        if self.fail_init:
            raise RuntimeError("NVML Shared Library Not Found")
        self.inits += 1

    def nvmlShutdown(self):
        self.shutdowns += 1

    def nvmlDeviceGetCount(self):
        return 1

    def nvmlDeviceGetHandleByIndex(self, i):
        return f"gpu{i}"

    def nvmlDeviceGetPowerUsage(self, h):
        return 5000  # mW

    def nvmlDeviceGetTotalEnergyConsumption(self, h):
        if not self.energy:
            raise RuntimeError("Not Supported")
        return 5000.0 * (time.perf_counter() - self.t0)  # mJ


def test_nvml_not_available_here_without_raising():
    assert NvmlPower(nvml=FakeNvml(fail_init=True)).available() is False
    assert NvmlPower(index=3, nvml=FakeNvml()).available() is False
    assert isinstance(NvmlPower().available(), bool)
    try:
        import pynvml  # noqa: F401
    except ImportError:
        assert NvmlPower().available() is False
        with pytest.raises(DataError, match="pynvml|cannot read GPU power"):
            NvmlPower().start()


@pytest.mark.parametrize("energy", [True, False])
def test_nvml_with_a_fake_module(energy):
    fake = FakeNvml(energy=energy)
    src = NvmlPower(rate_Hz=200.0, nvml=fake)
    assert src.available() is True
    src.start()
    time.sleep(0.1)
    tr = src.stop()
    assert tr.meta["mode"] == ("energy" if energy else "power")
    assert len(tr) >= 3
    t0, t1 = tr.timestamps_s[0], tr.timestamps_s[-1]
    assert energy_J(tr, t0, t1) == pytest.approx(5.0 * (t1 - t0), rel=0.02)
    assert fake.inits == fake.shutdowns


def test_sources_follow_the_protocol(tmp_path):
    for s in (NvmlPower(nvml=FakeNvml()), RaplPower(root=tmp_path), PowerLog(tmp_path / "x.csv")):
        assert isinstance(s, PowerSource)
        assert isinstance(s.name, str)


# --------------------------------------------------------------------------- power log CSV


def write(tmp_path: Path, text: str, name: str = "log.csv") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_power_log_voltage_times_current_mV_mA(tmp_path):
    p = write(tmp_path, "time_ms,voltage_mV,current_mA\n0,5000,400\n5,5000,400\n10,5000,800\n")
    tr = read_power_log(p)
    assert tr.timestamps_s == pytest.approx([0.0, 0.005, 0.010])
    assert tr.power_W == pytest.approx([2.0, 2.0, 4.0])  # 5 V x 0.4 A, 5 V x 0.8 A
    assert tr.rate_Hz == pytest.approx(200.0)
    assert energy_J(tr, 0.0, 0.01) == pytest.approx(0.005 * 2.0 + 0.005 * 3.0)


def test_power_log_mW_and_seconds(tmp_path):
    p = write(tmp_path, "# SmartPower 3 log\ntime,power_mW\n0.0,1500\n0.1,1500\n0.2,2500\n")
    tr = read_power_log(p)
    assert tr.timestamps_s == pytest.approx([0.0, 0.1, 0.2])
    assert tr.power_W == pytest.approx([1.5, 1.5, 2.5])
    p = write(tmp_path, "time_us,power_W\n0,1.25\n5000,1.25\n", "w.csv")
    tr = read_power_log(p, offset_s=10.0)
    assert tr.timestamps_s == pytest.approx([10.0, 10.005])
    assert tr.power_W == pytest.approx([1.25, 1.25])


def test_power_log_two_channels_summed_or_selected(tmp_path):
    text = (
        "time_ms,ch1_voltage_mV,ch1_current_mA,ch1_power_mW,ch2_voltage_mV,ch2_current_mA,status\n"
        "0,5000,400,2000,12000,100,ok\n"
        "5,5000,400,2000,12000,100,ok\n"
    )
    p = write(tmp_path, text)
    tr = read_power_log(p)  # ch1 from its power column, ch2 = 12 V x 0.1 A
    assert tr.power_W == pytest.approx([3.2, 3.2])
    assert tr.channel_power_W["ch2"] == pytest.approx([1.2, 1.2])
    assert read_power_log(p, channels=[1]).power_W == pytest.approx([2.0, 2.0])
    assert read_power_log(p, channels=["ch2"]).power_W == pytest.approx([1.2, 1.2])
    with pytest.raises(DataError, match="no channel ch3"):
        read_power_log(p, channels=[3])


def test_power_log_200Hz_energy_per_run(tmp_path):
    t_ms = np.arange(0, 1000 + 1, 5)  # 200 Hz for 1 s
    rows = "\n".join(f"{t},2000" for t in t_ms)
    src = PowerLog(write(tmp_path, "time_ms,power_mW\n" + rows + "\n"))
    assert src.available()
    src.start()
    tr = src.stop()
    res = run_energy(tr, [(0.1, 0.6), (0.2, 0.7), (0.3001, 0.8001)])
    assert res.energy_J == pytest.approx(1.0)


def line_error(path: Path, text: str, **kw) -> str:
    write(path.parent, text, path.name)
    with pytest.raises(DataError) as ei:
        read_power_log(path, **kw)
    return str(ei.value)


def test_power_log_error_lines(tmp_path):
    p = tmp_path / "sp3.csv"
    msg = line_error(p, "time_ms,power_mW\n0,1\n10,1\n5,1\n15,1\n")
    assert msg.startswith(f"{p}:4: time_ms: rows not sorted by time")
    msg = line_error(p, "time_ms,power_mW\n0,1\n5,1\n5,1\n")
    assert msg.startswith(f"{p}:4: time_ms:") and "repeats" in msg
    msg = line_error(p, "time_ms,power_mW\n0,1\n5,1\n10,1\n15,1\n500,1\n505,1\n")
    assert msg.startswith(f"{p}:6: time_ms: gap in the power log") and "after line 5" in msg
    assert len(read_power_log(p, max_gap_s=1.0)) == 6  # accepted when asked
    msg = line_error(p, "time_ms,power_mW\n0,1\n5,abc\n")
    assert msg.startswith(f"{p}:3: power_mW: not a number")
    msg = line_error(p, "time_ms,power_mW\n0,1\n5,\n")
    assert msg.startswith(f"{p}:3: power_mW: empty cell")
    msg = line_error(p, "time_ms,power\n0,1\n5,1\n")
    assert msg.startswith(f"{p}:1: power: power needs a unit suffix")
    msg = line_error(p, "time_min,power_W\n0,1\n5,1\n")
    assert "unknown time unit 'min'" in msg
    msg = line_error(p, "time_ms,power_kW\n0,1\n5,1\n")
    assert "unknown power unit 'kW'" in msg
    msg = line_error(p, "power_mW,voltage_mV\n1,1\n1,1\n")
    assert "no time column" in msg
    msg = line_error(p, "time_ms,voltage_mV\n0,1\n5,1\n")
    assert "needs power, or voltage and current" in msg
    msg = line_error(p, "time_ms,power_mW\n0,1\n")
    assert "at least two samples" in msg
    missing = tmp_path / "nope.csv"
    with pytest.raises(DataError) as ei:
        read_power_log(missing)
    assert str(ei.value) == f"{missing}: path: power log not found"
    assert PowerLog(missing).available() is False


# --------------------------------------------------------------------------- cpufreq (fake sysfs)

AVAIL_KHZ = "500000 667000 1000000 1200000"


def make_cpufreq(root: Path, cpus=(0, 1), avail: str | None = AVAIL_KHZ, gov="ondemand", lo=500000, hi=1200000):
    for c in cpus:
        d = root / "devices" / "system" / "cpu" / f"cpu{c}" / "cpufreq"
        d.mkdir(parents=True)
        files = {
            "scaling_governor": gov,
            "scaling_min_freq": lo,
            "scaling_max_freq": hi,
            "scaling_available_governors": "ondemand performance powersave schedutil",
            "cpuinfo_min_freq": 500000,
            "cpuinfo_max_freq": 1200000,
        }
        if avail is not None:
            files["scaling_available_frequencies"] = avail
        for k, v in files.items():
            (d / k).write_text(f"{v}\n")
    (root / "devices" / "system" / "cpu" / "cpufreq").mkdir(exist_ok=True)  # not a cpu<n>
    return root


def state(root: Path, cpu: int = 0) -> tuple[str, str, str]:
    d = root / "devices" / "system" / "cpu" / f"cpu{cpu}" / "cpufreq"
    return tuple((d / k).read_text().strip() for k in ("scaling_governor", "scaling_min_freq", "scaling_max_freq"))


def test_cpufreq_sets_and_restores(tmp_path):
    root = make_cpufreq(tmp_path)
    with CpufreqControl([0, 1], sysfs_root=root) as c:
        assert c.available_frequencies() == [500_000_000, 667_000_000, 1_000_000_000, 1_200_000_000]
        c.check()
        assert c.pin(1.0e9) == 1_000_000_000
        assert state(root, 0) == state(root, 1) == ("performance", "1000000", "1000000")
        assert "1000000 kHz (previous: cpu0 ondemand 500000-1200000 kHz" in c.describe()
        c.pin(667e6)  # a sweep: the original settings are still the ones restored
        assert state(root, 1) == ("performance", "667000", "667000")
    assert state(root, 0) == state(root, 1) == ("ondemand", "500000", "1200000")
    c.restore()  # idempotent


def test_cpufreq_restores_after_an_error_in_the_block(tmp_path):
    root = make_cpufreq(tmp_path)
    with pytest.raises(RuntimeError):
        with CpufreqControl("all", sysfs_root=root) as c:
            assert c.cpus == [0, 1]
            c.pin(500e6)
            raise RuntimeError("bundle failed")
    assert state(root, 0) == ("ondemand", "500000", "1200000")


def test_cpufreq_max_only_like_the_thesis(tmp_path):
    root = make_cpufreq(tmp_path, cpus=(0,))
    with CpufreqControl([0], sysfs_root=root, pin_min=False) as c:
        c.pin(667e6)
        assert state(root) == ("performance", "500000", "667000")
    assert state(root) == ("ondemand", "500000", "1200000")


def test_cpufreq_write_order_keeps_min_below_max(tmp_path, monkeypatch):
    root = make_cpufreq(tmp_path, cpus=(0,), lo=500000, hi=667000)
    real_write = fq._write
    seen = []

    def checked_write(path, value, source):
        real_write(path, value, source)
        if path.name in ("scaling_min_freq", "scaling_max_freq"):
            _, lo, hi = state(root)
            seen.append((path.name, value))
            assert int(lo) <= int(hi), f"min {lo} > max {hi} after writing {path.name}"

    monkeypatch.setattr(fq, "_write", checked_write)
    with CpufreqControl([0], sysfs_root=root) as c:
        c.pin(1.2e9)  # above the current max: max first
    assert seen[:2] == [("scaling_max_freq", 1200000), ("scaling_min_freq", 1200000)]
    assert state(root) == ("ondemand", "500000", "667000")


def test_cpufreq_refuses_a_frequency_not_offered(tmp_path):
    root = make_cpufreq(tmp_path)
    c = CpufreqControl([0], sysfs_root=root)
    with pytest.raises(FrequencyControlError, match=r"800 MHz is not an available frequency \(500 MHz, 667"):
        c.pin(800e6)
    assert state(root) == ("ondemand", "500000", "1200000")  # nothing written
    c.restore()
    assert state(root) == ("ondemand", "500000", "1200000")


def test_cpufreq_without_a_frequency_table_uses_the_cpuinfo_range(tmp_path):
    root = make_cpufreq(tmp_path, cpus=(0,), avail=None)
    with CpufreqControl([0], sysfs_root=root) as c:
        assert c.available_frequencies() == [500_000_000, 1_200_000_000]
        assert c.pin(800e6) == 800_000_000
        with pytest.raises(FrequencyControlError, match="outside"):
            c.pin(2e9)
    assert state(root) == ("ondemand", "500000", "1200000")


def test_cpufreq_refuses_when_not_writable(tmp_path):
    root = make_cpufreq(tmp_path)
    c = CpufreqControl([0], sysfs_root=root, access=lambda path, mode: False)
    with pytest.raises(FrequencyControlError) as ei:
        c.check()
    target = root / "devices/system/cpu/cpu0/cpufreq/scaling_max_freq"
    assert f"need root to write {target}" in str(ei.value)
    assert isinstance(ei.value, LayerplanError)
    with pytest.raises(FrequencyControlError, match="need root"):
        c.pin(1e9)
    assert state(root) == ("ondemand", "500000", "1200000")


@pytest.mark.skipif(hasattr(__import__("os"), "geteuid") and __import__("os").geteuid() == 0,
                    reason="root can write read-only files")
def test_cpufreq_refuses_read_only_files(tmp_path):
    root = make_cpufreq(tmp_path, cpus=(0,))
    for f in (root / "devices/system/cpu/cpu0/cpufreq").iterdir():
        f.chmod(0o444)
    with pytest.raises(FrequencyControlError, match="need root to write"):
        CpufreqControl([0], sysfs_root=root).check()


def test_cpufreq_refuses_without_cpufreq(tmp_path):
    with pytest.raises(FrequencyControlError, match="no cpufreq directory .*cpu0/cpufreq"):
        CpufreqControl([0], sysfs_root=tmp_path).check()
    with pytest.raises(FrequencyControlError, match="cpufreq not supported"):
        CpufreqControl("all", sysfs_root=tmp_path).pin(1e9)


def test_cpufreq_refuses_without_performance_governor(tmp_path):
    root = make_cpufreq(tmp_path, cpus=(0,))
    (root / "devices/system/cpu/cpu0/cpufreq/scaling_available_governors").write_text("powersave\n")
    with pytest.raises(FrequencyControlError, match="'performance' not offered"):
        CpufreqControl([0], sysfs_root=root).check()


# --------------------------------------------------------------------------- nvpmodel (fake Jetson)

NANO_GPU_HZ = [76800000, 153600000, 230400000, 307200000, 384000000, 460800000, 537600000, 614400000,
               691200000, 768000000, 844800000, 921600000]


def make_jetson(root: Path) -> Path:
    d = root / "devices" / "gpu.0" / "devfreq" / "57000000.gpu"
    d.mkdir(parents=True)
    (d / "available_frequencies").write_text(" ".join(map(str, NANO_GPU_HZ)) + "\n")
    (d / "min_freq").write_text("76800000\n")
    (d / "max_freq").write_text("921600000\n")
    (d / "cur_freq").write_text("76800000\n")
    return d


class FakeRunner:
    def __init__(self, out="NV Power Mode: MAXN\n0\n", rc=0):
        self.calls, self.out, self.rc = [], out, rc

    def __call__(self, argv):
        self.calls.append(list(argv))
        return CommandResult(self.rc, self.out, "")


def test_nvpmodel_pins_gpu_min_equal_max_and_restores(tmp_path):
    d = make_jetson(tmp_path)
    run = FakeRunner()
    ctl = NvpmodelControl(sysfs_root=tmp_path, run=run, which=lambda c: f"/usr/sbin/{c}", geteuid=lambda: 0)
    assert ctl.gpu_devfreq() == d
    assert ctl.available_frequencies() == NANO_GPU_HZ
    with ctl:
        assert ctl.pin(537.6e6) == 537600000
        assert (d / "min_freq").read_text().strip() == (d / "max_freq").read_text().strip() == "537600000"
        assert ctl.mode == "MAXN (0)"
        assert "537.6 MHz (previous min 76800000, max 921600000 Hz)" in ctl.describe()
    assert (d / "min_freq").read_text().strip() == "76800000"
    assert (d / "max_freq").read_text().strip() == "921600000"
    assert run.calls == [["/usr/sbin/nvpmodel", "-q"]]  # reads the mode, never sets one
    with pytest.raises(FrequencyControlError, match="not an available frequency"):
        ctl.pin(600e6)


def test_nvpmodel_refuses_without_the_command(tmp_path):
    make_jetson(tmp_path)
    run = FakeRunner()
    ctl = NvpmodelControl(sysfs_root=tmp_path, run=run, which=lambda c: None, geteuid=lambda: 0)
    with pytest.raises(FrequencyControlError, match="nvpmodel not found on PATH"):
        ctl.check()
    with pytest.raises(FrequencyControlError, match="nvpmodel not found"):
        ctl.pin(537.6e6)
    assert run.calls == []
    assert (tmp_path / "devices/gpu.0/devfreq/57000000.gpu/max_freq").read_text().strip() == "921600000"


def test_nvpmodel_refuses_when_not_root_or_no_gpu(tmp_path):
    make_jetson(tmp_path)
    ctl = NvpmodelControl(sysfs_root=tmp_path, run=FakeRunner(), which=lambda c: "/usr/sbin/nvpmodel",
                          geteuid=lambda: 1000)
    with pytest.raises(FrequencyControlError, match="need root"):
        ctl.pin(537.6e6)
    ctl = NvpmodelControl(sysfs_root=tmp_path / "empty", run=FakeRunner(), which=lambda c: "/usr/sbin/nvpmodel",
                          geteuid=lambda: 0)
    with pytest.raises(FrequencyControlError, match="no GPU devfreq directory"):
        ctl.check()


def test_nvpmodel_query_errors(tmp_path):
    ctl = NvpmodelControl(sysfs_root=tmp_path, run=FakeRunner(out="garbage"), which=lambda c: "/x/nvpmodel")
    with pytest.raises(FrequencyControlError, match="cannot parse"):
        ctl.query()
    ctl = NvpmodelControl(sysfs_root=tmp_path, run=FakeRunner(rc=1), which=lambda c: "/x/nvpmodel")
    with pytest.raises(FrequencyControlError, match="failed"):
        ctl.query()


@pytest.mark.skipif(shutil.which("nvpmodel") is not None, reason="a real Jetson")
def test_nvpmodel_refuses_on_this_machine():
    # only checks (reads); never pins the real machine
    with pytest.raises(FrequencyControlError, match="nvpmodel not found"):
        NvpmodelControl().check()


def test_nvpmodel_custom_mode_text():
    text = fq.nvpmodel_custom_mode(9, "GPU537", 537600000, ["CPU_ONLINE CORE_0 1", "GPU MAX_FREQ -1"])
    assert text == ("< POWER_MODEL ID=9 NAME=GPU537 >\nCPU_ONLINE CORE_0 1\n"
                    "GPU MIN_FREQ 537600000\nGPU MAX_FREQ 537600000\n")
