"""Device fields of issue 14 (docs/throughput.md): processor kind, stream powers and the CIM
parameters, converted once at the data boundary; bad input names the file and field."""

from __future__ import annotations

import math

import pytest

from layerplan.errors import DataError
from layerplan.io import load_catalogue, load_device_set, parse_device

pytestmark = pytest.mark.unit
BASE = {"class": "hub", "gflops_per_s": 1.0, "internal_bandwidth_Bps": 1e9, "external_bandwidth_Bps": 1e8}


def test_cim_units_are_converted_once():
    d = parse_device("x", {**BASE, "processor": "CIM", "mac_latency_ps": 0.05, "mac_energy_pJ": 3.2,
                           "crossbar_weights": 1000, "active_power_mW": 500, "comm_power_W": 2}, "cat.yaml")
    assert d.processor == "cim"
    assert math.isclose(d.mac_latency_s, 5e-14) and math.isclose(d.mac_energy_J, 3.2e-12)
    assert d.crossbar_weights == 1000 and d.active_power_W == 0.5 and d.comm_power_W == 2.0


def test_defaults_keep_the_thesis_devices():
    d = parse_device("x", dict(BASE), "cat.yaml")
    assert (d.processor, d.active_power_W, d.comm_power_W, d.mac_latency_s) == ("cpu", 0.0, 0.0, None)


@pytest.mark.parametrize("record,field", [({"processor": "tpu"}, "devices.x.processor"),
                                          ({"processor": "cim", "mac_energy_pJ": 1, "crossbar_weights": 5},
                                           "devices.x.mac_latency_s"),
                                          ({"processor": "cim", "mac_latency_ps": 1, "mac_energy_pJ": 1,
                                            "crossbar_weights": -5}, "devices.x.crossbar_weights")])
def test_bad_device_fields_name_the_field(record, field):
    with pytest.raises(DataError) as exc:
        parse_device("x", {**BASE, **record}, "cat.yaml")
    assert exc.value.field == field and exc.value.source == "cat.yaml"


def test_catalogue_processors_and_isaac_figures():
    path, cat = load_catalogue("devices/catalogue.yaml")
    devs = {k: parse_device(k, v, str(path)) for k, v in cat.items()}
    assert devs["rtx2080ti"].processor == "gpu" and devs["xeon_gold_6130"].processor == "cpu"
    cim = devs["isaac_cim"]
    # ISAAC organisation: 168 tiles x 12 IMAs x 8 crossbars x 128x128 cells x 2 bit / 16-bit weights
    assert cim.crossbar_weights == 168 * 12 * 8 * 128 * 128 * 2 // 16
    # one MAC per 1 / (2016 IMAs x 16384 MAC per 16 x 100 ns); energy = 65.8 W x that time
    t = 16 * 100e-9 / (168 * 12 * 128 * 128)
    assert math.isclose(cim.mac_latency_s, t, rel_tol=2e-3)
    assert math.isclose(cim.mac_energy_J, 65.8 * t, rel_tol=5e-3)


@pytest.mark.parametrize("name", ["hidist_tiers", "donna_hetero", "donna_gpu", "donna_cpu", "donna_cim"])
def test_device_sets_load(name):
    import yaml


    cfg = yaml.safe_load(_conf(name).read_text())
    devices, src, dst, _ = load_device_set(cfg)
    assert src == dst == devices[0].name
    if name == "donna_hetero":
        assert [d.processor for d in devices] == ["cpu", "gpu", "cim"]
    if name == "hidist_tiers":
        assert [d.device_class for d in devices] == ["edge", "edge", "hub", "cloud"]


def _conf(name):
    from pathlib import Path

    return Path(__file__).resolve().parents[2] / "conf" / "devices" / f"{name}.yaml"
