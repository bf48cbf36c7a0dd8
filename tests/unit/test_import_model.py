"""Unit tier: ``layerplan.tools.import_model`` (docs/dag.md) on models with known counts.

torch tests skip without torch/torchvision (CI has none); ONNX tests skip without onnx.
Published values: torchvision's model cards (parameters; "GFLOPS", which are conv + linear
multiply-accumulates: resnet18 1.81, resnet50 4.09, mobilenet_v2 0.30, efficientnet_b0
0.39, inception_v3 5.71).
"""

from __future__ import annotations

import csv
import math

import pytest

from layerplan.io import load_dnn
from layerplan.tools import import_model as im

pytestmark = pytest.mark.unit

PUBLISHED = {  # params, conv+linear GMAC (torchvision model cards; inception_v3 without the aux head)
    "resnet18": (11_689_512, 1.81),
    "resnet50": (25_557_032, 4.09),
    "mobilenet_v2": (3_504_872, 0.30),
    "efficientnet_b0": (5_288_548, 0.39),
    "inception_v3": (23_834_568, 5.71),
}


def test_shipped_yolo11n_dag_matches_the_ultralytics_summary():
    """ultralytics' model summary for yolo11n.yaml: 2,624,080 parameters, 6.5 GFLOPs fused
    (thop: 2 x conv MAC at 640x640)."""
    dnn = load_dnn("yolo11n_dag")
    assert dnn.is_dag and dnn.total_weights == 2_624_080
    conv = sum(x.flop for x in dnn.layers if x.kind in ("conv", "linear"))
    assert round(conv / 1e9, 1) == 6.5
    joins = [x for x in dnn.layers if x.inputs and len(x.inputs) > 1]
    assert len(joins) >= 10  # the FPN/PAN concatenations and residual adds


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_shipped_tables_match_published_counts(name):
    """The shipped DAG tables (no torch needed to read them) against the model cards."""
    dnn = load_dnn(name)
    assert dnn.is_dag
    params, gmac = PUBLISHED[name]
    assert dnn.total_weights == params
    conv_linear = sum(x.flop for x in dnn.layers if x.kind in ("conv", "linear")) / 2
    assert round(conv_linear / 1e9, 2) == pytest.approx(gmac, abs=0.006)


def _torch():
    pytest.importorskip("torch")
    return pytest.importorskip("torchvision")


@pytest.mark.slow
def test_resnet18_fx_and_eager_agree_with_the_shipped_table(tmp_path):
    _torch()
    rows, in_hwd, _, used = im.import_model("torchvision:resnet18")
    assert used.startswith("torch.fx") and in_hwd == (224, 224, 3)
    eager, _, _, used_e = im.import_model("torchvision:resnet18", tracer="eager")
    assert used_e.startswith("eager")
    assert [(r.kind, r.mac, r.weights, r.out_shape) for r in rows] == [(r.kind, r.mac, r.weights, r.out_shape) for r in eager]
    assert [len(r.inputs) for r in rows] == [len(r.inputs) for r in eager]
    im.write_table(rows, str(tmp_path), "resnet18", in_hwd, "d", "g")
    shipped = load_dnn("resnet18")
    mine = load_dnn(tmp_path / "resnet18.yaml")
    assert [(x.name, x.flop, x.weights, x.out_shape, x.inputs) for x in mine.layers] == \
        [(x.name, x.flop, x.weights, x.out_shape, x.inputs) for x in shipped.layers]
    adds = [x for x in mine.layers if x.name.startswith("add")]
    assert len(adds) == 8 and all(len(x.inputs) == 2 for x in adds)  # the 8 residual joins


def _dynamic_net():
    import torch

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = torch.nn.Conv2d(3, 4, 3)
            self.b = torch.nn.Conv2d(4, 4, 1)

        def forward(self, x):
            y = self.a(x)
            if y.sum() > -1e9:  # data-dependent
                y = y + self.b(y)
            return y

    return Net()


def _lstm_net():
    import torch

    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.LSTM(12, 4))


def test_untraceable_model_falls_back_or_fails_in_one_line(tmp_path, capsys, monkeypatch):
    _torch()
    import sys
    import types

    mod = types.ModuleType("lp_test_nets")
    mod.dynamic = _dynamic_net
    mod.lstm = _lstm_net
    monkeypatch.setitem(sys.modules, "lp_test_nets", mod)
    with pytest.raises(SystemExit) as exc:
        im.main(["lp_test_nets:dynamic", "--out", str(tmp_path), "--input", "3x8x8", "--tracer", "fx"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("import_model: error: torch.fx cannot trace the model") and "\n" not in err
    assert im.main(["lp_test_nets:dynamic", "--out", str(tmp_path), "--input", "3x8x8"]) == 0
    assert "falling back to the eager tracer" in capsys.readouterr().err
    dnn = load_dnn(tmp_path / "dynamic.yaml")
    names = [x.name for x in dnn.layers]
    assert names[:2] == ["a", "b"] and dnn.layers[2].inputs == ("a", "b")  # the add joins a and b
    assert dnn.total_weights == 3 * 4 * 9 + 4 + 4 * 4 + 4
    with pytest.raises(SystemExit):
        im.main(["lp_test_nets:lstm", "--out", str(tmp_path), "--input", "3x2x2"])
    err = capsys.readouterr().err.strip()
    assert "unsupported op LSTM" in err and "\n" not in err
    with pytest.raises(SystemExit):
        im.main(["no_such_module_xyz:f", "--out", str(tmp_path), "--input", "3x2x2"])
    assert "cannot load" in capsys.readouterr().err


def _onnx_model(path):
    onnx = pytest.importorskip("onnx")
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    w1 = numpy_helper.from_array(np.zeros((8, 3, 3, 3), np.float32), "w1")
    b1 = numpy_helper.from_array(np.zeros((8,), np.float32), "b1")
    w2 = numpy_helper.from_array(np.zeros((8, 8, 1, 1), np.float32), "w2")
    wf = numpy_helper.from_array(np.zeros((10, 8), np.float32), "wf")
    bf = numpy_helper.from_array(np.zeros((10,), np.float32), "bf")
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", "w2"], ["c2"], name="conv2"),
        helper.make_node("Add", ["r1", "c2"], ["s"], name="add"),
        helper.make_node("GlobalAveragePool", ["s"], ["p"], name="pool"),
        helper.make_node("Flatten", ["p"], ["f"], name="flat"),
        helper.make_node("Gemm", ["f", "wf", "bf"], ["y"], name="fc", transB=1),
    ]
    graph = helper.make_graph(nodes, "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 6, 6])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])], [w1, b1, w2, wf, bf])
    onnx.save(helper.make_model(graph), path)


def test_onnx_import_counts_by_hand(tmp_path):
    path = str(tmp_path / "tiny.onnx")
    _onnx_model(path)
    assert im.main([path, "--out", str(tmp_path)]) == 0
    dnn = load_dnn(tmp_path / "tiny.yaml")
    by = {x.name: x for x in dnn.layers}
    assert dnn.input_shape == (6, 6, 3)
    assert by["conv1"].flop == 2 * (288 * 27 + 288) and by["conv1"].weights == 8 * 27 + 8  # 8x6x6 outputs
    assert by["relu1"].flop == 2 * 288
    assert by["conv2"].flop == 2 * 288 * 8 and by["conv2"].weights == 64
    assert by["add"].flop == 0 and by["add"].inputs == ("relu1", "conv2")
    assert by["pool"].flop == 2 * 288 and by["pool"].out_shape == (1, 1, 8)
    assert by["fc"].flop == 2 * (10 * 8 + 10) and by["fc"].weights == 90
    with open(tmp_path / "tiny_module.csv") as fh:
        assert next(csv.reader(fh)) == list(im.CSV_COLUMNS)
    assert math.prod(by["flat"].out_shape) == 8


@pytest.mark.slow
def test_onnx_export_of_resnet18_matches_the_torch_import(tmp_path):
    _torch()
    pytest.importorskip("onnx")
    import torch
    import torchvision

    model = torchvision.models.resnet18(weights=None).eval()
    path = str(tmp_path / "r18.onnx")
    try:
        torch.onnx.export(model, (torch.zeros(1, 3, 224, 224),), path, dynamo=False)
    except Exception as exc:  # pragma: no cover - depends on the exporter's installation
        pytest.skip(f"torch.onnx.export unavailable: {exc}")
    rows, in_hwd, _, _ = im.import_model(path)
    torch_rows, _, _, _ = im.import_model("torchvision:resnet18")
    assert in_hwd == (224, 224, 3)
    # the exporter folds BatchNorm into the convolutions (BN scale/shift become conv weights and
    # biases), so the parameter count changes by the BN parameters less the new biases
    assert sum(r.weights for r in rows) == pytest.approx(11_689_512, rel=1e-3)
    assert not any(r.kind == "norm" for r in rows)
    # conv/linear MACs agree (+ the folded biases)
    conv = sum(r.mac for r in rows if r.kind in ("conv", "linear"))
    conv_t = sum(r.mac for r in torch_rows if r.kind in ("conv", "linear"))
    assert conv == pytest.approx(conv_t, rel=0.01)
    assert sum(len(r.inputs) for r in rows) >= len(rows) + 8 - 1  # 8 residual joins
