"""Eqs. (4.1)-(4.3) and the link rule of Sec. 4.3 against hand-computed numbers."""

import math

import numpy as np
import pytest

from layerplan.latency import analytic_params, plan_latency_s
from layerplan.scenario import DNN, Device, Layer, Network, build_scenario

pytestmark = pytest.mark.unit


def _scenario(net_Bps=1e7):
    # AlexNet conv1 numbers: 2 x (55*55*64*363 + 55*55*64) FLOP, 23,296 weights, 64x55x55 out
    conv1 = Layer("conv1", "conv", 2 * (55 * 55 * 64 * 363 + 55 * 55 * 64), 23296, (55, 55, 64))
    fc = Layer("fc", "linear", 2 * 4096 * 1000, 4097000, (1, 1, 1000))
    dnn = DNN("t", "module", (224, 224, 3), (conv1, fc))
    pi = Device("A", "edge", 3.62e9, 719e6, 1.11e7)
    nano = Device("B", "hub", 236e9, 25.6e9, 1.25e8)
    return build_scenario(dnn, [pi, nano], Network(net_Bps), source_device="A", destination_device="A")


def test_pseudo_layers():
    sc = _scenario()
    assert sc.layer_names == ["source", "preprocess", "conv1", "fc", "destination"]
    src, pre = sc.layers[0], sc.layers[1]
    assert src.flop == 0 and src.out_bytes == 720 * 1280 * 3 * 4
    assert pre.flop == 720 * 1280 * 3 and pre.out_shape == (224, 224, 3)
    assert sc.layers[-1].out_shape == (1, 1, 1)
    assert sc.pinned == {"source": "A", "destination": "A"}


def test_equations_4_1_to_4_3():
    sc = _scenario()
    p = analytic_params(sc)
    c = p.layers.index("conv1")
    # Eq. (4.1): FLOP / FLOP/s
    assert math.isclose(p.compute_s[c, 0], 2 * (55 * 55 * 64 * 364) / 3.62e9)
    # Eq. (4.2): w * alpha / internal bandwidth
    assert math.isclose(p.weight_s[c, 0], 23296 * 4 / 719e6)
    assert math.isclose(p.weight_s[c, 1], 23296 * 4 / 25.6e9)
    # Eq. (4.3): H W D alpha / BW; same device: internal; else min(ext, ext, network)
    out = 55 * 55 * 64 * 4
    assert math.isclose(p.comm_s[c, 0, 0], out / 719e6)
    assert math.isclose(p.comm_s[c, 1, 1], out / 25.6e9)
    assert math.isclose(p.comm_s[c, 0, 1], out / 1e7)  # network 1e7 < 1.11e7
    p2 = analytic_params(_scenario(net_Bps=1e9))
    assert math.isclose(p2.comm_s[c, 0, 1], out / 1.11e7)  # the Pi's NIC is the bottleneck


def test_link_overrides_and_exec_prob():
    sc = _scenario()
    net = Network(1e7, {("A", "B"): 1e5})
    assert net.link_bandwidth_Bps(sc.devices[0], sc.devices[1]) == 1e5
    assert net.link_bandwidth_Bps(sc.devices[1], sc.devices[0]) == 1e7
    p = analytic_params(sc)
    p.exec_prob = np.array([1, 1, 1, 0.5, 0.5])
    a = [0, 0, 1, 1, 0]
    lat = plan_latency_s(p, a, preload=False)
    expect_c = sum(p.exec_prob[l] * p.compute_s[l, a[l]] for l in range(5))
    expect_x = sum(p.exec_prob[l + 1] * p.comm_s[l, a[l], a[l + 1]] for l in range(4))
    assert math.isclose(lat["compute"], expect_c) and math.isclose(lat["communication"], expect_x)
    # preload: conv1 follows a layer on another device -> its weights are hidden; fc follows conv1 on B -> paid
    pre = plan_latency_s(p, a, preload=True)
    assert math.isclose(pre["weight"], 0.5 * p.weight_s[3, 1])
