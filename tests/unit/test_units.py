"""Unit conversions happen once, at the data boundary; these pin them."""

import math

import pytest

from layerplan.errors import DataError
from layerplan.units import G_PER_KWH_TO_MG_PER_J, MW_PER_MBPS_TO_W_PER_BPS, read_quantity

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "record,stem,dim,expected",
    [
        ({"bw_Mbps": 100}, "bw", "Bps", 1.25e7),  # 100 Mbit/s = 12.5 MB/s
        ({"bw_MBps": 12.5}, "bw", "Bps", 1.25e7),
        ({"bw_Gbps": 1}, "bw", "Bps", 1.25e8),
        ({"bw_Bps": 719e6}, "bw", "Bps", 719e6),
        ({"memory_GiB": 1}, "memory", "B", 1073741824.0),
        ({"memory_GB": 4}, "memory", "B", 4e9),
        ({"p_mW": 817.88}, "p", "W", 0.81788),
        ({"gflops_per_s": 3.62}, "", "flops_per_s", 3.62e9),
        ({"tflops_per_s": 13.45}, "", "flops_per_s", 13.45e12),
    ],
)
def test_conversions(record, stem, dim, expected):
    assert math.isclose(read_quantity(record, stem, dim, source="f.yaml"), expected, rel_tol=1e-12)


def test_power_slope_and_carbon_constants():
    # 4G upload (Huang et al. 2012): 438.39 mW/Mbps * 5.85 Mbps + 1288.04 mW = 3.853 W
    slope = 438.39 * MW_PER_MBPS_TO_W_PER_BPS
    thr_Bps = 5.85e6 / 8
    assert math.isclose(slope * thr_Bps + 1.28804, 3.8527, rel_tol=1e-4)
    assert math.isclose(G_PER_KWH_TO_MG_PER_J, 2.7778e-4, rel_tol=1e-4)


@pytest.mark.parametrize(
    "record,msg",
    [
        ({}, "missing"),
        ({"bw_Bps": 0}, "must be > 0"),
        ({"bw_Bps": -5}, "must be > 0"),
        ({"bw_Bps": "fast"}, "must be a number"),
        ({"bw_Bps": 1, "bw_Mbps": 8}, "given more than once"),
    ],
)
def test_bad_values_name_file_and_field(record, msg):
    with pytest.raises(DataError, match=msg) as err:
        read_quantity(record, "bw", "Bps", source="net.yaml")
    assert err.value.one_line().startswith("net.yaml: bw_")
