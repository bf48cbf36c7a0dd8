"""Bundle profiler and synthetic profiles, without torch (thesis Sec. 4.4, Ch. 7).

Hand-computed numbers: trimmed means, DIME's profile counts (Tables 7.1/7.2 #Profiles
column), the exact CSV text written for a fake clock, resume after an interruption, and
the synthetic bundle model t[i, j] = (b_i + ... + b_j) g(j - i + 1).
"""

from __future__ import annotations

import csv
import math
import subprocess
import sys
from pathlib import Path

import pytest

from layerplan.profiling import core
from layerplan.profiling.__main__ import main as profiling_main
from layerplan.tools import synthetic_profiles as sp

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
PROFILES = REPO / "data" / "profiles"
HEADER = "dnn,granularity,device,frequency_Hz,i,j,latency_s,energy_J,samples,statistic,spread_s"


# --------------------------------------------------------------------------- trimmed mean


def test_trimmed_mean_drops_one_outlier_each_end():
    # 12 samples -> floor(1.2) = 1 dropped per end: -500 and 1000 go, 1..10 stay.
    m, sd = core.trimmed_mean([1000, *range(1, 11), -500])
    assert m == pytest.approx(5.5)
    assert sd == pytest.approx(math.sqrt(8.25))  # population variance of 1..10 = (10^2 - 1) / 12


def test_trimmed_mean_ten_samples_drops_min_and_max():
    # 1..10: floor(1.0) = 1 per end -> 2..9, mean 5.5, population variance (8^2 - 1) / 12 = 5.25
    m, sd = core.trimmed_mean(range(10, 0, -1))
    assert (m, sd) == (pytest.approx(5.5), pytest.approx(math.sqrt(5.25)))


def test_trimmed_mean_hundred_samples_keeps_middle_eighty():
    xs = list(range(1, 101)) + []
    xs[0], xs[-1] = -1e9, 1e9  # outliers are among the dropped
    m, sd = core.trimmed_mean(xs)
    assert m == pytest.approx(50.5)  # kept 11..90
    assert sd == pytest.approx(math.sqrt((80**2 - 1) / 12))


def test_trimmed_mean_rounds_down_and_keeps_small_sets():
    assert core.trimmed_count(9) == 0
    assert core.trimmed_count(19) == 1
    assert core.trimmed_count(25) == 2
    assert core.trimmed_count(30) == 3  # 0.1 * 30 = 3.0000000000000004 in binary
    assert core.trimmed_count(100) == 10
    assert core.trimmed_mean([1, 2, 30]) == (pytest.approx(11.0), pytest.approx(math.sqrt(((10**2) + 9**2 + 19**2) / 3)))
    assert core.trimmed_mean([7.0]) == (7.0, 0.0)
    with pytest.raises(ValueError):
        core.trimmed_mean([])
    with pytest.raises(ValueError):
        core.trimmed_mean([1, 2], frac=0.5)


# --------------------------------------------------------------------------- bundles


@pytest.mark.parametrize(
    "mbs, per_device", [(1, 8), (2, 15), (3, 21), (4, 26), (5, 30), (6, 33), (7, 35), (8, 36)]
)
def test_alexnet_bundle_counts_table_7_1(mbs, per_device):
    got = list(core.bundles(8, mbs))
    assert len(got) == core.bundle_count(8, mbs) == per_device
    assert 2 * len(got) == {1: 16, 2: 30, 3: 42, 4: 52, 5: 60, 6: 66, 7: 70, 8: 72}[mbs]  # two devices
    assert len(set(got)) == len(got)
    assert all(1 <= i <= j <= min(8, i + mbs - 1) for i, j in got)


def test_vgg11_bundle_counts_table_7_2():
    assert core.bundle_count(11, 1) == len(list(core.bundles(11, 1))) == 11  # 22 for two devices
    assert core.bundle_count(11, 11) == len(list(core.bundles(11, 11))) == 66  # 132 for two devices
    assert core.bundle_count(11, 99) == 66
    assert [core.bundle_count(11, m) * 2 for m in range(1, 12)] == [22, 42, 60, 76, 90, 102, 112, 120, 126, 130, 132]


def test_bundle_order_and_errors():
    assert list(core.bundles(3)) == [(1, 1), (1, 2), (1, 3), (2, 2), (2, 3), (3, 3)]
    assert list(core.bundles(3, 2)) == [(1, 1), (1, 2), (2, 2), (2, 3), (3, 3)]
    assert core.parse_bundle_spec("1-3, 5", 8) == [(1, 3), (5, 5)]
    for bad in ((0, 1), (3, 0)):
        with pytest.raises(ValueError):
            list(core.bundles(*bad))
    with pytest.raises(ValueError):
        core.parse_bundle_spec("3-2", 8)


# --------------------------------------------------------------------------- profile_bundles


class FakeClock:
    """A nanosecond clock that only moves when a fake bundle 'runs'."""

    def __init__(self):
        self.now = 1_000_000

    def __call__(self) -> int:
        return self.now


def fake_bundles(clock: FakeClock, calls: list, fail_after: int | None = None):
    """Bundle (i, j) on input x 'takes' (j - i + 1) ms + x us (x = 1..10)."""

    def run_bundle(i, j):
        if fail_after is not None and len(calls) >= fail_after:
            raise KeyboardInterrupt("simulated interruption")
        calls.append((i, j))

        def fn(x):
            clock.now += (j - i + 1) * 1_000_000 + x * 1_000

        return fn

    return run_bundle


META = {
    "device": "fake",
    "description": "a fake device",
    "machine": "none",
    "threads": 1,
    "synthetic": False,
    "runs": "20 (10 inputs x 2 passes), batch 1, warm-up 1",
    "statistic": core.STATISTIC_TEXT,
    "created": "2026-01-01T00:00:00Z",
}


def run_fake(path, todo, calls, clock, fail_after=None, device="fake", loadavgs=(1.25, 1.5)):
    la = iter(loadavgs)
    return core.profile_bundles(
        fake_bundles(clock, calls, fail_after), list(range(1, 11)), todo, runs_per_input=2, warmup=1,
        clock=clock, progress=False, resume_path=path, dnn="toy", granularity="major", device=device,
        meta={**META, "device": device}, loadavg=lambda: next(la),
    )


def test_profile_bundles_writes_exact_csv(tmp_path):
    clock, calls = FakeClock(), []
    path = tmp_path / "toy_fake.csv"
    lines_seen = []
    rows = core.profile_bundles(
        fake_bundles(clock, calls), list(range(1, 11)), core.bundles(2), runs_per_input=2, warmup=1,
        clock=clock, progress=lines_seen.append, resume_path=path, dnn="toy", granularity="major",
        device="fake", meta=META, loadavg=iter([1.25, 1.5]).__next__,
    )
    # samples: (n ms + x us) for x = 1..10, twice -> 20 samples, floor(2.0) = 2 dropped per
    # end (1, 1 and 10, 10): kept 2, 2, 3, 3, ..., 9, 9 -> mean n ms + 5.5 us,
    # population sd = sqrt((8^2 - 1) / 12) = sqrt(5.25) us = 2.29129 us
    kept = sorted([x for x in range(1, 11)] * 2)[2:18]
    mean_us = sum(kept) / 16
    sd_us = math.sqrt(sum((x - mean_us) ** 2 for x in kept) / 16)
    assert mean_us == 5.5 and sd_us == pytest.approx(math.sqrt(5.25))
    expected = (
        "# layerplan bundle profile\n"
        "# device: fake\n"
        "# description: a fake device\n"
        "# machine: none\n"
        "# threads: 1\n"
        "# synthetic: false\n"
        "# runs: 20 (10 inputs x 2 passes), batch 1, warm-up 1\n"
        "# statistic: trimmed mean, top and bottom 10 % dropped\n"
        "# loadavg_1min: before 1.25, after 1.50\n"
        "# created: 2026-01-01T00:00:00Z\n"
        f"{HEADER}\n"
        "toy,major,fake,,1,1,0.0010055,,20,trimmed_mean_10,2.29129e-06\n"
        "toy,major,fake,,1,2,0.0020055,,20,trimmed_mean_10,2.29129e-06\n"
        "toy,major,fake,,2,2,0.0010055,,20,trimmed_mean_10,2.29129e-06\n"
    )
    assert path.read_text() == expected
    assert calls == [(1, 1), (1, 2), (2, 2)]
    assert [(r["i"], r["j"]) for r in rows] == [(1, 1), (1, 2), (2, 2)]
    assert rows[1]["latency_s"] == pytest.approx(2.0055e-3)
    assert len(lines_seen) == 3 and "bundle 1..2" in lines_seen[1]
    # 1 warm-up + 20 timed calls per bundle moved the clock
    assert clock.now == 1_000_000 + sum(n * 21 * 1_000_000 for n in (1, 2, 1)) + 3 * (1 + 2 * 55) * 1_000


def test_profile_bundles_resumes_after_interruption(tmp_path):
    path = tmp_path / "toy_fake.csv"
    todo = list(core.bundles(4))  # 10 bundles
    clock, calls = FakeClock(), []
    with pytest.raises(KeyboardInterrupt):
        run_fake(path, todo, calls, clock, fail_after=4)
    meta, rows = core.read_profile(path)
    assert [(int(r["i"]), int(r["j"])) for r in rows] == todo[:4]  # each finished bundle was flushed
    assert meta["loadavg_1min"] == "before 1.25, after (running)"
    # a write cut short leaves a partial line: it is ignored
    with open(path, "a") as fh:
        fh.write("toy,major,fake,,2,")
    calls2 = []
    rows = run_fake(path, todo, calls2, FakeClock(), loadavgs=(0.75, 2.0))
    assert calls2 == todo[4:]  # finished bundles are skipped
    assert [(r["i"], r["j"]) for r in rows] == todo
    meta, rows = core.read_profile(path)
    assert [(int(r["i"]), int(r["j"])) for r in rows] == todo
    assert meta["loadavg_1min"] == "before 1.25, after 2.00"
    assert meta["sessions"] == "2; loadavg_1min per session: 1.25 -> (interrupted), 0.75 -> 2.00"
    assert meta["created"] == "2026-01-01T00:00:00Z"
    text = path.read_text()
    assert text.count(HEADER) == 1 and not text.endswith(",\n")
    # nothing left to do: a third run measures nothing and keeps the rows
    calls3 = []
    run_fake(path, todo, calls3, FakeClock(), loadavgs=(1.0, 1.0))
    assert calls3 == []
    assert core.read_profile(path)[0]["sessions"].startswith("3; ")


def test_resume_remeasures_noisy_bundles(tmp_path):
    path = tmp_path / "toy.csv"
    todo = list(core.bundles(3))
    run_fake(path, todo, [], FakeClock())
    meta, rows = core.read_profile(path)
    # pretend bundle 1..2 was measured during a load spike
    text = path.read_text().replace(f"{rows[1]['latency_s']},,20,trimmed_mean_10,{rows[1]['spread_s']}",
                                    "0.009,,20,trimmed_mean_10,0.003", 1)  # first match: 1..2
    path.write_text(text)
    calls = []
    clock = FakeClock()
    core.profile_bundles(fake_bundles(clock, calls), list(range(1, 11)), todo, runs_per_input=2, warmup=1,
                         clock=clock, progress=False, resume_path=path, dnn="toy", granularity="major",
                         device="fake", meta=META, loadavg=lambda: 1.0, remeasure_spread=0.1)
    assert calls == [(1, 2)]
    meta, rows = core.read_profile(path)
    assert meta["remeasured"] == "1 bundle(s) (spread_s > 0.1 x latency_s) dropped and measured again in session 2: 1..2"
    assert float(rows[1]["latency_s"]) == pytest.approx(2.0055e-3)
    # bundles named by hand (e.g. flagged by the contention guard) are measured again too
    calls = []
    clock = FakeClock()
    core.profile_bundles(fake_bundles(clock, calls), list(range(1, 11)), todo, runs_per_input=2, warmup=1,
                         clock=clock, progress=False, resume_path=path, dnn="toy", granularity="major",
                         device="fake", meta=META, loadavg=lambda: 1.0, remeasure=[(3, 3), (1, 3)])
    assert calls == [(1, 3), (3, 3)]
    meta, _ = core.read_profile(path)
    assert meta["remeasured"].endswith("; 2 bundle(s) (asked for) dropped and measured again in session 3: 1..3 3..3")


class ScriptedProbe:
    """Stands in for core.ContentionProbe: returns the next scripted foreign load."""

    available = True
    min_interval_s = 0.0

    def __init__(self, loads):
        self.loads = list(loads)

    def start(self):
        return None

    def stop(self, token):
        return self.loads.pop(0)


def test_contention_retries_and_waits(tmp_path):
    path = tmp_path / "toy.csv"
    calls, slept, lines = [], [], []
    clock = FakeClock()
    # bundle 1..1: quiet check 0.0, timed under 0.9 cores -> quiet check 0.8 (busy), 0.1, timed 0.2: kept.
    # bundle 1..2: quiet check 0.0, timed 0.05.
    probe = ScriptedProbe([0.0, 0.9, 0.8, 0.1, 0.2, 0.0, 0.05])
    core.profile_bundles(fake_bundles(clock, calls), [1, 2], [(1, 1), (1, 2)], runs_per_input=1, warmup=0,
                         clock=clock, progress=lines.append, resume_path=path, dnn="toy", granularity="major",
                         device="fake", meta=META, loadavg=lambda: 1.0, contention=probe, max_foreign_load=0.3,
                         retries=2, quiet_wait_s=10, sleep=slept.append)
    assert calls == [(1, 1), (1, 1), (1, 2)]
    assert probe.loads == []
    assert slept == [0.5, 0.5, 1.5, 0.5, 0.5]
    assert any("other processes used 0.90 cores, timing again" in line for line in lines)
    meta, _ = core.read_profile(path)
    assert meta["contention"] == ("session 1: 2 bundle(s) timed, 1 timed again because other processes used > 0.3 "
                                  "cores (up to 2 retries, least-loaded attempt kept)")


def test_contention_probe_reads_proc(tmp_path):
    stat, own = tmp_path / "stat", tmp_path / "self"
    t = iter([10.0, 12.0])

    def write(busy_user, own_ticks):
        stat.write_text(f"cpu  {busy_user} 0 50 9999 7 1 1 2 0 0\ncpu0 1 2 3\n")
        own.write_text(f"123 (py thon) R 1 1 1 0 -1 0 0 0 0 0 {own_ticks} 0 0 0 20 0 3 0\n")

    write(100, 40)
    probe = core.ContentionProbe(str(stat), str(own), wall=lambda: next(t))
    assert probe.available
    probe.hz = 100
    write(100, 40)
    token = probe.start()
    write(100 + 300, 40 + 200)  # 3 s of busy CPU in 2 s wall, 2 s of it ours -> 0.5 cores foreign
    assert probe.stop(token) == pytest.approx(0.5)
    assert not core.ContentionProbe(str(tmp_path / "missing"), str(own)).available


def test_resume_refuses_another_device(tmp_path):
    path = tmp_path / "toy.csv"
    run_fake(path, [(1, 1)], [], FakeClock())
    with pytest.raises(core.ProfileMismatch):
        run_fake(path, [(1, 1), (1, 2)], [], FakeClock(), device="other")


def test_profile_without_file_returns_rows():
    clock = FakeClock()
    rows = core.profile_bundles(fake_bundles(clock, []), lambda i: [i], [(1, 1), (2, 3)], runs_per_input=3,
                                warmup=0, clock=clock, progress=False, dnn="toy", granularity="major",
                                device="fake")
    assert [r["samples"] for r in rows] == [3, 3]
    assert rows[1]["latency_s"] == pytest.approx(2.002e-3)  # inputs(i) = [i] -> x = 2
    assert rows[1]["spread_s"] == 0.0


def test_profiling_cli_without_torch(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch -> ImportError
    rc = profiling_main(["--model", "alexnet", "--device-label", "cpu_t1", "--out", "x.csv"])
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert err == "layerplan: error: profiling needs torch: pip install 'layerplan[torch]'"


def test_torch_bundles_imports_without_torch():
    code = (
        "import sys; sys.modules['torch'] = None; sys.modules['torchvision'] = None\n"
        "import layerplan.profiling.torch_bundles as tb, layerplan.profiling.__main__\n"
        "a = tb.synthetic_images(2, size=32, seed=3); b = tb.synthetic_images(2, size=32, seed=3)\n"
        "assert a.shape == (2, 3, 32, 32) and a.dtype.name == 'float32' and (a == b).all()\n"
        "assert not (a[0] == a[1]).all() and abs(float(a.mean())) < 3\n"
    )
    res = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr


# --------------------------------------------------------------------------- synthetic


def toy_table(tmp_path, flops=(2e9, 1e9, 4e9), weights=(0, 1e6, 2.5e5)) -> Path:
    d = tmp_path / "dnn"
    d.mkdir(exist_ok=True)
    with open(d / "toy_major.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["name", "kind", "flop", "weights", "out_h", "out_w", "out_d", "carry_elems", "exec_prob", "members"])
        for k, (f, wt) in enumerate(zip(flops, weights), start=1):
            w.writerow([f"l{k}", "conv", int(f), int(wt), 1, 1, 1, 0, 1.0, f"m{k}"])
    return d


def toy_rows(tmp_path, bias, noise=0.0, seed=0, **kw):
    table = core.read_layer_table("toy", "major", toy_table(tmp_path))
    return {
        (r["i"], r["j"]): r["latency_s"]
        for r in sp.synthetic_rows(table, dnn="toy", granularity="major", device="d", flops_per_s=1e9,
                                   internal_bandwidth_Bps=4e6, bias=bias, noise=noise, seed=seed, **kw)
    }


def test_bundle_factor():
    assert sp.bundle_factor(1, 8, 0.6) == 1.0
    assert sp.bundle_factor(8, 8, 0.6) == pytest.approx(1.6)
    assert sp.bundle_factor(8, 8, -0.3) == pytest.approx(0.7)
    assert sp.bundle_factor(4, 7, 0.6) == pytest.approx(1.3)  # linear: halfway at n = 4 of 7
    assert sp.bundle_factor(1, 1, 0.6) == 1.0


def test_synthetic_hand_computed(tmp_path):
    # b = flop / 1e9 + 4 * weights / 4e6: b1 = 2, b2 = 1 + 1 = 2, b3 = 4 + 0.25 = 4.25 s
    t = toy_rows(tmp_path, bias=0.5)
    assert t[(1, 1)] == pytest.approx(2.0)
    assert t[(2, 2)] == pytest.approx(2.0)
    assert t[(3, 3)] == pytest.approx(4.25)
    assert t[(1, 2)] == pytest.approx(4.0 * 1.25)  # g(2) = 1 + 0.5 * 1/2
    assert t[(2, 3)] == pytest.approx(6.25 * 1.25)
    assert t[(1, 3)] == pytest.approx(8.25 * 1.5)


def test_under_and_over_estimating_devices(tmp_path):
    L = 3
    under = toy_rows(tmp_path, bias=0.6)
    over = toy_rows(tmp_path, bias=-0.3)
    neutral = toy_rows(tmp_path, bias=0.0)
    sums = {name: sum(t[(l, l)] for l in range(1, L + 1)) for name, t in (("u", under), ("o", over), ("n", neutral))}
    assert under[(1, L)] > sums["u"]  # sum of small bundles under-estimates (LePotato)
    assert over[(1, L)] < sums["o"]  # sum of small bundles over-estimates (2080 Ti)
    assert neutral[(1, L)] == pytest.approx(sums["n"])
    assert under[(1, 2)] + under[(3, 3)] < under[(1, 3)]


def test_synthetic_seeded_determinism(tmp_path):
    a = toy_rows(tmp_path, bias=0.2, noise=0.05, seed=7)
    b = toy_rows(tmp_path, bias=0.2, noise=0.05, seed=7)
    c = toy_rows(tmp_path, bias=0.2, noise=0.05, seed=8)
    assert a == b
    assert a != c
    exact = toy_rows(tmp_path, bias=0.2)
    assert all(abs(math.log(a[k] / exact[k])) < 0.3 for k in a)  # noise is multiplicative and small


def test_synthetic_cli_writes_table(tmp_path):
    dnn_dir = toy_table(tmp_path)
    out = tmp_path / "out" / "toy_d.csv"
    argv = ["--dnn", "toy", "--device", "d", "--gflops-per-s", "1", "--internal-bandwidth-Bps", "4e6",
            "--bias", "0.5", "--noise", "0", "--seed", "0", "--dnn-dir", str(dnn_dir), "--out", str(out)]
    assert sp.main(argv) == 0
    meta, rows = core.read_profile(out)
    assert meta["synthetic"] == "true"
    assert meta["generator"].startswith("python -m layerplan.tools.synthetic_profiles --dnn toy --device d")
    assert out.read_text().splitlines()[0] == "# layerplan bundle profile"
    assert len(rows) == 6
    r13 = next(r for r in rows if (r["i"], r["j"]) == ("1", "3"))
    assert float(r13["latency_s"]) == pytest.approx(8.25 * 1.5, rel=1e-5)
    assert r13["samples"] == "100" and r13["statistic"] == "trimmed_mean_10" and r13["energy_J"] == ""
    assert sp.main(argv[:-2] + ["--bias", "-1", "--out", str(out)]) == 2


def test_synthetic_catalogue_device(tmp_path):
    out = tmp_path / "a.csv"
    assert sp.main(["--dnn", "alexnet", "--device", "lp", "--catalogue-device", "lepotato", "--noise", "0",
                    "--runs", "0", "--out", str(out)]) == 0
    _, rows = core.read_profile(out)
    table = core.read_layer_table("alexnet", "major")
    b1 = table[0]["flop"] / 24.2e9 + 4 * table[0]["weights"] / 4.0e9
    assert float(rows[0]["latency_s"]) == pytest.approx(b1, rel=1e-5)
    assert rows[0]["samples"] == "0" and rows[0]["statistic"] == "synthetic"


# --------------------------------------------------------------------------- shipped tables


SHIPPED = sorted(p for s in ("cpu", "synthetic") for p in (PROFILES / s).glob("*.csv"))  # the sets made here


@pytest.mark.parametrize("path", SHIPPED, ids=[f"{p.parent.name}/{p.name}" for p in SHIPPED])
def test_shipped_profile_tables(path):
    meta, rows = core.read_profile(path)
    assert path.read_text().splitlines()[0] == "# layerplan bundle profile"
    for key in ("device", "description", "machine", "threads", "synthetic", "runs", "statistic", "loadavg_1min",
                "created"):
        assert key in meta, key
    dnn = rows[0]["dnn"]
    L = len(core.read_layer_table(dnn, rows[0]["granularity"]))
    assert path.name == f"{dnn}_{meta['device']}.csv"
    assert sorted((int(r["i"]), int(r["j"])) for r in rows) == list(core.bundles(L))  # MBS = L, no duplicates
    for r in rows:
        assert r["device"] == meta["device"] and r["dnn"] == dnn
        assert float(r["latency_s"]) > 0 and float(r["spread_s"]) >= 0
        assert r["statistic"] == core.STATISTIC and int(r["samples"]) > 0
    assert (meta["synthetic"] == "true") == (path.parent.name == "synthetic")
    if meta["synthetic"] == "true":
        assert meta["generator"].startswith("python -m layerplan.tools.synthetic_profiles")
    assert (path.parent / "README.md").is_file()


def test_shipped_synthetic_set_complete():
    names = {p.name for p in (PROFILES / "synthetic").glob("*.csv")}
    assert names == {f"{d}_{v}.csv" for d in ("alexnet", "vgg11") for v in ("lepotato", "jetson_nano", "rtx2080ti")}
    for dnn, L in (("alexnet", 8), ("vgg11", 11)):
        for dev, under in (("lepotato", True), ("jetson_nano", True), ("rtx2080ti", False)):
            t = {(int(r["i"]), int(r["j"])): float(r["latency_s"])
                 for r in core.read_profile(PROFILES / "synthetic" / f"{dnn}_{dev}.csv")[1]}
            assert (t[(1, L)] > sum(t[(l, l)] for l in range(1, L + 1))) == under, (dnn, dev)


def test_power_source_fills_energy_per_bundle(tmp_path):
    """profile_bundles with a power source: energy_J = trimmed mean of the per-run
    trapezoid integrals; a constant 5 W source gives 5 W x the run's duration."""
    import time as _time

    from layerplan.profiling.core import profile_bundles, read_profile
    from layerplan.profiling.power import PowerTrace

    class ConstantPower:
        name = "constant 5 W (test)"

        def available(self):
            return True

        def start(self):
            self.t0 = _time.perf_counter()

        def stop(self):
            t1 = _time.perf_counter()
            return PowerTrace([self.t0 - 1.0, t1 + 1.0], [5.0, 5.0], source="test")

    def run_bundle(i, j):
        return lambda x: _time.sleep(0.001 * (j - i + 1))

    out = tmp_path / "p.csv"
    rows = profile_bundles(run_bundle, [0, 1], [(1, 1), (1, 2)], runs_per_input=3, warmup=0, progress=False,
                           resume_path=out, dnn="toy", granularity="major", device="dev", power=ConstantPower())
    for r in rows:
        assert r["energy_J"] == pytest.approx(5.0 * r["latency_s"], rel=0.05)
    meta, _ = read_profile(out)
    assert meta["power"].startswith("constant 5 W (test)")
