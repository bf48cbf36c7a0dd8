"""Independent check: the shipped layer tables reproduce the no-preload column of Table 6.2.

Configuration C1 (two Raspberry Pi 3B, Table 6.1: 3.62e9 FLOP/s, internal bandwidth
719e6 B/s), network 1e7 B/s. With identical devices and a network slower than the
internal bandwidth, the optimal no-preload plan runs every layer on device A, so the
latency is the single-device analytic latency of Eqs. (4.1)-(4.3) / (5.4)-(5.6) over the
chain  source -> preprocess -> DNN layers -> destination:

* source: 0 FLOP, output 3 x 720 x 1280 (the captured HD frame);
* preprocess: 3*1280*720 FLOP (one operation per pixel and channel), output = DNN input;
* destination: 0 FLOP, output 1 x 1 x 1 (not transferred anywhere).

T_c = sum FLOP / 3.62e9, T_w = sum weights * 4 / 719e6, T_x = sum over every row but the
destination of (out_h*out_w*out_d + carry_elems) * 4 / 719e6.

This test reads the CSV/YAML files with csv + pyyaml only, independently of layerplan.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import yaml

DNN_DIR = Path(__file__).resolve().parents[2] / "data" / "dnn"

FLOPS_PER_S = 3.62e9
INTERNAL_BPS = 719e6
CAPTURE = (720, 1280, 3)

#: Table 6.2, no-preload column: (T_c, T_x, T_w, L) in seconds.
PUBLISHED = {
    "alexnet": (0.40, 0.02, 0.34, 0.76),
    "vgg11": (4.22, 0.11, 0.74, 5.06),
    "ssd300": (19.29, 0.33, 0.19, 19.81),
    "vgg16": (8.57, 0.18, 0.77, 9.51),
}


def single_device_latency(model: str, granularity: str) -> tuple[float, float, float]:
    with open(DNN_DIR / f"{model}.yaml", encoding="utf-8") as fh:
        meta = yaml.safe_load(fh)
    alpha = meta["alpha_B"]
    shape = meta["input_shape"]
    with open(DNN_DIR / meta["granularities"][granularity], newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    h, w, d = CAPTURE
    flop = h * w * d  # preprocess pseudo layer
    flop += sum(int(r["flop"]) for r in rows)
    weights = sum(int(r["weights"]) for r in rows)
    elems = h * w * d  # source -> preprocess
    elems += shape["h"] * shape["w"] * shape["d"]  # preprocess -> first layer
    elems += sum(
        int(r["out_h"]) * int(r["out_w"]) * int(r["out_d"]) + int(r["carry_elems"]) for r in rows
    )  # each layer -> next layer, the last one -> destination
    t_c = flop / FLOPS_PER_S
    t_x = elems * alpha / INTERNAL_BPS
    t_w = weights * alpha / INTERNAL_BPS
    return t_c, t_x, t_w


def close(ours: float, published: float, rel: float, abs_s: float = 0.0) -> bool:
    return abs(ours - published) <= abs_s or abs(ours - published) <= rel * published


@pytest.mark.integration
@pytest.mark.parametrize("model", ["alexnet", "vgg11", "vgg16"])
def test_module_level_matches_table_6_2_classifiers(model):
    t_c, t_x, t_w = single_device_latency(model, "module")
    p_c, p_x, p_w, p_l = PUBLISHED[model]
    for label, ours, pub in (("T_c", t_c, p_c), ("T_x", t_x, p_x), ("T_w", t_w, p_w), ("L", t_c + t_x + t_w, p_l)):
        assert close(ours, pub, rel=0.02, abs_s=0.01), f"{model} {label}: ours {ours:.4f} vs {pub}"


@pytest.mark.integration
def test_module_level_matches_table_6_2_ssd():
    t_c, t_x, t_w = single_device_latency("ssd300", "module")
    p_c, p_x, p_w, p_l = PUBLISHED["ssd300"]
    for label, ours, pub in (("T_c", t_c, p_c), ("T_x", t_x, p_x), ("T_w", t_w, p_w), ("L", t_c + t_x + t_w, p_l)):
        assert close(ours, pub, rel=0.05), f"ssd300 {label}: ours {ours:.4f} vs {pub}"
    # Tighter on what the SSD numbers can pin down: compute (FLOP) and the total.
    assert close(t_c, p_c, rel=0.002)
    assert close(t_c + t_x + t_w, p_l, rel=0.002)


@pytest.mark.integration
@pytest.mark.parametrize("model", sorted(PUBLISHED))
def test_major_level_same_compute_and_weights(model):
    """Granularity changes neither the FLOP nor the weight totals."""
    major = single_device_latency(model, "major")
    module = single_device_latency(model, "module")
    assert major[0] == pytest.approx(module[0], rel=1e-12)
    assert major[2] == pytest.approx(module[2], rel=1e-12)


@pytest.mark.integration
@pytest.mark.parametrize("model", ["vgg11", "vgg16", "ssd300"])
def test_major_level_communication_does_not_match(model):
    """Evidence that Table 6.2 used module-level layers: major-level T_x is far too small."""
    _, t_x_major, _ = single_device_latency(model, "major")
    _, t_x_module, _ = single_device_latency(model, "module")
    p_x = PUBLISHED[model][1]
    assert t_x_major < 0.5 * p_x
    assert close(t_x_module, p_x, rel=0.05)
