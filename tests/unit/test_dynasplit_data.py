"""DynaSplit loader: hand-made pools (always) and hand-computed rows of the real pool (when present)."""

from __future__ import annotations

import numpy as np
import pytest

from layerplan.dynasplit import data as D
from layerplan.dynasplit.loader import config_modes, measured_table, segment_chain
from layerplan.dynasplit.modes import evaluate
from layerplan.errors import DataError
from tests.dynasplit_helpers import DATA, needs_data, row, write_pool

pytestmark = pytest.mark.unit


def small_pool(tmp_path):
    rows = [
        row(1800, 0, "off", True, 10.0, 12.0, 70.0, 0.4, 66.0, acc=0.605, tensor_KB=588.0),
        row(1800, 0, "off", True, 14.0, 10.0, 80.0, 0.6, 70.0, acc=0.605, tensor_KB=588.0),  # second row, same config
        row(600, 22, "max", False, 900.0, 0.0, 0.0, 3.0, 0.0, acc=0.603, tensor_KB=0.0),
        row(1800, 22, "max", False, 420.0, 0.0, 0.0, 2.4, 0.0, acc=0.603, tensor_KB=0.0),
        row(1800, 10, "std", True, 200.0, 5.0, 30.0, 1.5, 40.0, acc=0.609, tensor_KB=196.0),
        row(1800, 10, "std", False, 210.0, 7.0, 60.0, 1.7, 100.0, acc=0.609, tensor_KB=196.0),
    ]
    return write_pool(tmp_path, "vgg16", rows)


def test_space_sizes_with_pruning():
    assert len(D.config_space("vgg16")) == 917
    assert len(D.config_space("vit")) == 273
    assert all(c.tpu == "off" for c in D.config_space("vgg16") if c.layer == 0)
    assert all(not c.gpu for c in D.config_space("vit") if c.layer == 19)


def test_hand_made_pool_means_segments_and_units(tmp_path):
    pool = D.load_pool("vgg16", small_pool(tmp_path))
    assert len(pool.configs) == 5 and len(pool.row_config) == 6
    t = measured_table(pool)
    i = t["configs"].index(D.Config(1800, 0, "off", True))
    # hand-computed: rows (10+12+70) and (14+10+80) ms -> mean 98 ms; energy (66.4 + 70.6) / 2 = 68.5 J
    assert t["latency_ms"][i] == pytest.approx(98.0)
    assert t["energy_J"][i] == pytest.approx(68.5)
    assert t["rows"][i] == 2
    # unit boundary: tensor size (KB) is KiB -> bytes
    assert t["tensor_B"][i] == pytest.approx(588.0 * 1024)
    ch = segment_chain(pool)
    # edge segment (0, 10] at 1800 MHz + std TPU: mean over both server settings: (200 + 210) / 2 ms, (1.5 + 1.7) / 2 J
    assert ch.seg[(0, 0, 10, "1800mhz-tpu-std")][:2] == pytest.approx((205.0, 1.6))
    assert ch.seg[(0, 0, 10, "1800mhz-tpu-std")][2] == pytest.approx(0.609)
    assert ch.seg[(1, 10, 22, "gpu-off")][:2] == pytest.approx((60.0, 100.0))
    assert ch.xfer[(0, 10)][0] == pytest.approx(6.0)
    # the model composes (1800, 10, std, gpu on) as 205 + 6 + 30 ms, 1.6 + 40 J
    p = evaluate(ch, *config_modes(D.Config(1800, 10, "std", True)))
    assert (p.latency_ms, p.energy_J) == pytest.approx((241.0, 41.6))
    # absent configurations are listed explicitly
    assert D.Config(1800, 5, "off", True) in pool.absent()
    assert len(pool.absent()) == 917 - 5


def test_bad_cell_names_file_row_and_column(tmp_path):
    root = small_pool(tmp_path)
    path = root / "simulation_pool" / "simulation_pool_vgg16.csv"
    text = path.read_text().splitlines()
    text[2] = text[2].replace(",std,", ",turbo,") if ",std," in text[2] else text[2].replace(",off,", ",turbo,")
    path.write_text("\n".join(text) + "\n")
    with pytest.raises(DataError) as e:
        D.load_pool("vgg16", root)
    assert "row 3" in e.value.one_line() and "edge-accelerator" in e.value.one_line()


def test_missing_folder_is_one_clear_error(tmp_path):
    with pytest.raises(DataError) as e:
        D.load_pool("vgg16", tmp_path / "nope")
    assert "dynasplit.dir" in e.value.one_line()


def test_data_dir_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv(D.ENV, str(tmp_path))
    assert D.data_dir() == tmp_path
    assert D.data_dir(tmp_path / "x") == tmp_path / "x"
    monkeypatch.delenv(D.ENV)
    assert D.data_dir() == (D.repo_root() / "../shared/data/dynasplit").resolve()


def test_generator_law_and_seed():
    a = D.generate_workload(1000, "vgg16", seed=7)
    b = D.generate_workload(1000, "vgg16", seed=7)
    assert np.array_equal(a, b)
    assert a.min() == pytest.approx(90.6) and a.max() == pytest.approx(5026.8)
    x = D.generate_workload(2000, "mine", seed=3, range_ms=(0.0, 1.0))
    assert x.min() == 0 and x.max() == pytest.approx(1.0)
    assert not np.array_equal(D.generate_workload(1000, "vgg16", seed=8), a)


@needs_data
def test_real_pool_hand_computed_rows():
    pool = D.load_pool("vgg16", DATA)
    t = measured_table(pool)
    assert len(pool.row_config) == 1082 and len(t["configs"]) == 747 and len(pool.absent()) == 170
    # single-row configuration, values copied from its row of simulation_pool_vgg16.csv
    # (cpu-freq 1800, layer 18, max, True: 115.7 ms, 60.82 J)
    i = t["configs"].index(D.Config(1800, 18, "max", True))
    assert t["rows"][i] == 1
    assert t["latency_ms"][i] == pytest.approx(115.7, abs=0.05)
    assert t["energy_J"][i] == pytest.approx(60.82, abs=0.005)
    # 1200 MHz, all on the edge, TPU max: 10 rows; the first two rows of the file are 428.239975815 and 428.522892817 ms
    rows = pool.cols["latency_ms"][pool.rows_of(pool.configs.index(D.Config(1200, 22, "max", False)))]
    assert len(rows) == 10 and rows[0] == pytest.approx(428.239975815) and rows[1] == pytest.approx(428.522892817)
    vit = D.load_pool("vit", DATA)
    assert len(vit.row_config) == 321 and len(vit.configs) == 57 and vit.accuracy is None


@needs_data
def test_generator_reproduces_published_traces():
    for n in (50, 10000):
        for net in ("vgg16", "resnet50", "mobilenetv2", "vit"):
            pub = D.load_workload(net, n, DATA)
            assert np.allclose(D.generate_workload(n, net), pub, rtol=0, atol=1e-8)


@needs_data
def test_testbed_headline_recomputed():
    for net, change, viol in (("vgg16", -72.2, 4.0), ("vit", -3.8, 18.0)):
        s = {r["strategy"]: r for r in D.testbed_summary(net, DATA)}
        assert s["splinter:latency"]["energy_vs_cloud_pct"] == pytest.approx(change, abs=0.05)
        assert s["splinter:latency"]["qos_violation_pct"] == pytest.approx(viol)
    assert np.median(D.load_reconfiguration_ms("vgg16", DATA)) == pytest.approx(136.95, abs=0.01)


def test_segment_profile_csv_loads_as_layerplan_profiles_with_modes_as_frequencies(tmp_path):
    import csv

    from layerplan.dynasplit.loader import profile_csv_rows
    from layerplan.profiles import COLUMNS, OPTIONAL_COLUMNS, load_profiles

    pool = D.load_pool("vgg16", small_pool(tmp_path))
    path = tmp_path / "dynasplit_vgg16.csv"
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(COLUMNS + OPTIONAL_COLUMNS))
        w.writeheader()
        w.writerows(profile_csv_rows(pool))
    ps = load_profiles(path, "dynasplit_vgg16", "split")
    assert ps.frequencies("edge") == ["1800mhz-tpu-max", "1800mhz-tpu-std", "600mhz-tpu-max"]
    assert ps.frequencies("cloud") == ["gpu-off", "gpu-on"]
    # edge bundle (1, 10) at 1800 MHz/std: (200 + 210) / 2 ms = 0.205 s, (1.5 + 1.7) / 2 J
    assert ps.latency_s[("edge", "1800mhz-tpu-std", 1, 10)] == pytest.approx(0.205)
    assert ps.energy_J[("edge", "1800mhz-tpu-std", 1, 10)] == pytest.approx(1.6)
    assert ps.latency_s[("cloud", "gpu-on", 1, 22)] == pytest.approx(0.075)  # cloud-only: (70 + 80) / 2 ms
