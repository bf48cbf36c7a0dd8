"""Calibrated DVFS profiles (layerplan/tools/dvfs_profiles.py, data/profiles/dvfs)."""

from __future__ import annotations

import pytest

from layerplan.profiles import load_profiles
from layerplan.tools import dvfs_profiles as dv

pytestmark = pytest.mark.unit

NANO_F = ["5.376e+08", "6.144e+08", "6.912e+08", "7.68e+08", "8.448e+08", "9.216e+08"]
POTATO_F = ["5e+08", "6.67e+08", "1e+09", "1.2e+09"]


@pytest.fixture(scope="module")
def shipped():
    return {dnn: load_profiles("profiles/dvfs", dnn, "major") for dnn in dv.DNNS}


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("dvfs")
    dv.write_all(out, ["--out", "x"])
    return out


def _ends(ps, label, freqs, L):
    lo, hi = freqs[0], freqs[-1]
    t_lo, t_hi = ps.latency_s[(label, lo, 1, L)], ps.latency_s[(label, hi, 1, L)]
    e_lo, e_hi = ps.energy_J[(label, lo, 1, L)], ps.energy_J[(label, hi, 1, L)]
    return t_lo, t_hi, e_lo, e_hi


@pytest.mark.parametrize("label,freqs,speed,energy,t_fast", [
    ("jetson_nano", NANO_F, 1.25, 1.12, 0.030),
    ("lepotato", POTATO_F, 1.95, 1.389, 0.46),
])
def test_calibration_facts_on_alexnet_full_bundle(shipped, label, freqs, speed, energy, t_fast):
    ps = shipped["alexnet"]
    t_lo, t_hi, e_lo, e_hi = _ends(ps, label, freqs, 8)
    assert t_lo / t_hi == pytest.approx(speed, rel=0.01)
    assert e_hi / e_lo == pytest.approx(energy, rel=0.01)
    assert t_hi == pytest.approx(t_fast, rel=0.05)  # "about" 30 ms / 0.46 s (bundle noise 2 %)


def test_frequencies_and_energy(shipped):
    for dnn, ps in shipped.items():
        assert ps.frequencies("jetson_nano") == sorted(NANO_F)
        assert ps.frequencies("lepotato") == sorted(POTATO_F)
        assert ps.frequencies("rtx2080ti") == ["nominal"]
        for key in ps.latency_s:
            if key[0] in ("jetson_nano", "lepotato"):
                assert key in ps.energy_J and ps.energy_J[key] > 0
            else:
                assert key not in ps.energy_J
        L = max(k[3] for k in ps.latency_s)
        n = L * (L + 1) // 2
        assert sum(1 for k in ps.latency_s if k[0] == "jetson_nano") == 6 * n
        assert sum(1 for k in ps.latency_s if k[0] == "lepotato") == 4 * n


def test_latency_falls_and_lepotato_underestimates(shipped):
    ps = shipped["vgg11"]
    for label, freqs in (("jetson_nano", NANO_F), ("lepotato", POTATO_F)):
        lat = [ps.latency_s[(label, f, 1, 11)] for f in freqs]
        assert lat == sorted(lat, reverse=True)
    f = POTATO_F[-1]
    whole = ps.latency_s[("lepotato", f, 1, 11)]
    parts = sum(ps.latency_s[("lepotato", f, l, l)] for l in range(1, 12))
    assert whole > 1.4 * parts  # under-estimating device: the sum of layers is too small
    cloud = sum(ps.latency_s[("rtx2080ti", "nominal", l, l)] for l in range(1, 12))
    assert ps.latency_s[("rtx2080ti", "nominal", 1, 11)] < 0.8 * cloud  # over-estimating


def test_governor_profiles_separate(shipped):
    assert "governor" not in shipped["alexnet"].frequencies("jetson_nano")
    ps = load_profiles(["profiles/dvfs", "profiles/dvfs/governor"], "alexnet", "major")
    assert "governor" in ps.frequencies("jetson_nano")
    t = ps.latency_s[("jetson_nano", "governor", 1, 8)]
    assert ps.latency_s[("jetson_nano", NANO_F[-1], 1, 8)] * 0.8 < t < ps.latency_s[("jetson_nano", NANO_F[0], 1, 8)] * 1.2
    assert ("jetson_nano", "governor", 1, 8) in ps.energy_J


def test_deterministic_and_matches_shipped(generated):
    from layerplan.io import data_root

    root = data_root() / "profiles" / "dvfs"
    again = generated.parent / "again"
    dv.write_all(again, ["--out", "x"])
    for p in sorted(generated.rglob("*.csv")):
        rel = p.relative_to(generated)
        assert p.read_text() == (again / rel).read_text()
        body = [ln for ln in p.read_text().splitlines() if not ln.startswith("# generator")]
        shipped = [ln for ln in (root / rel).read_text().splitlines() if not ln.startswith("# generator")]
        assert body == shipped, rel
        assert "# synthetic: true" in p.read_text() and "# calibration:" in p.read_text()


def test_cli_bad_input(tmp_path, capsys):
    assert dv.main(["--out", str(tmp_path), "--dnn", "nosuchnet"]) != 0
    assert "layerplan: error:" in capsys.readouterr().err
