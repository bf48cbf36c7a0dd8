"""Unit tier: per-layer profiles (layerplan.layer_profiles, docs/dag.md)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from layerplan.errors import DataError
from layerplan.latency import analytic_params
from layerplan.layer_profiles import apply_layer_profiles, load_layer_profiles
from layerplan.scenario import DNN, Device, Layer, Network, build_scenario

pytestmark = pytest.mark.unit


def _params():
    dnn = DNN("p", "module", (2, 2, 3), (Layer("a", "conv", 1e9, 100, (1, 1, 4)), Layer("b", "conv", 2e9, 100, (1, 1, 4))))
    devs = [Device("E", "edge", 1e9, 1e8, 1e7), Device("C", "cloud", 1e12, 1e10, 1e7)]
    return analytic_params(build_scenario(dnn, devs, Network(1e7), source_device="E"))


def test_units_are_converted_once_and_profiled_pairs_replace_the_analytic_model(tmp_path):
    p = tmp_path / "prof.csv"
    p.write_text("layer,device,latency_ms,energy_mJ\na,cpu,12.5,310\na,gpu,0.9,\nb,cpu,20,400\n")
    prof = load_layer_profiles(p)
    assert prof.latency_s[("a", "cpu")] == pytest.approx(0.0125) and prof.energy_J[("a", "cpu")] == pytest.approx(0.31)
    assert ("a", "gpu") not in prof.energy_J
    params = _params()
    analytic_b_C = params.compute_s[params.layers.index("b"), 1]
    n = apply_layer_profiles(params, prof, {"E": "cpu", "C": "gpu"})
    assert n == 3
    a, b = params.layers.index("a"), params.layers.index("b")
    assert params.compute_s[a, 0] == pytest.approx(0.0125) and params.weight_s[a, 0] == 0.0
    assert params.compute_s[a, 1] == pytest.approx(0.0009)
    assert params.compute_s[b, 1] == analytic_b_C and params.weight_s[b, 1] > 0  # unprofiled: analytic
    assert params.layer_energy_J[a, 0] == pytest.approx(0.31) and math.isnan(params.layer_energy_J[a, 1])
    with pytest.raises(DataError, match="no profile for layer 'b' on 'gpu'"):
        apply_layer_profiles(_params(), prof, {"E": "cpu", "C": "gpu"}, strict=True)


@pytest.mark.parametrize("text,field", [
    ("layer,device\na,cpu\n", "latency_s"),
    ("layer,device,latency_s,latency_ms\na,cpu,1,1\n", "latency_s"),
    ("layer,device,latency_s\na,cpu,-1\n", "row 2: latency_s"),
    ("layer,device,latency_s\na,cpu,1\na,cpu,2\n", "row 3"),
    ("layer,device,latency_s,watts\na,cpu,1,2\n", "watts"),
])
def test_bad_profiles_name_the_field(tmp_path, text, field):
    p = tmp_path / "bad.csv"
    p.write_text(text)
    with pytest.raises(DataError) as exc:
        load_layer_profiles(p)
    assert exc.value.field == field and str(p) in exc.value.one_line()


def test_unknown_layer_is_an_error(tmp_path):
    p = tmp_path / "p.csv"
    p.write_text("layer,device,latency_s\nzz,E,1\n")
    with pytest.raises(DataError, match="unknown layer 'zz'"):
        apply_layer_profiles(_params(), load_layer_profiles(p))
    assert np.all(_params().weight_s >= 0)
