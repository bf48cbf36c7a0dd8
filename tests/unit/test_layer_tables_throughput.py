"""The layer tables added for issue 14 (ViT-L/16, ViT-H/14, YOLO11 n/s/m): totals against
the published model sizes, and the YOLO carries of the feature maps Concat/Detect consume."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.unit
DNN_DIR = Path(__file__).resolve().parents[2] / "data" / "dnn"


def rows(model: str, granularity: str = "major") -> list[dict]:
    meta = yaml.safe_load((DNN_DIR / f"{model}.yaml").read_text())
    with open(DNN_DIR / meta["granularities"][granularity], newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


# parameters: torchvision's model documentation (ViT-L/16 304.3M, ViT-H/14 632.0M at 224 px);
# ultralytics' YOLO11 table (n 2.6M / 6.5 GFLOPs, s 9.4M / 21.5, m 20.1M / 68.0 at 640 px)
@pytest.mark.parametrize("model,params_M,layers", [("vit_l_16", 304.3, 28), ("vit_h_14", 632.0, 36),
                                                    ("yolo11n", 2.6, 24), ("yolo11s", 9.4, 24), ("yolo11m", 20.1, 24)])
def test_totals_match_published_sizes(model, params_M, layers):
    r = rows(model)
    assert len(r) == layers
    assert abs(sum(int(x["weights"]) for x in r) / 1e6 - params_M) <= 0.06 * params_M
    mod = rows(model, "module")
    assert sum(int(x["flop"]) for x in mod) == sum(int(x["flop"]) for x in r)


@pytest.mark.parametrize("model,gflops", [("yolo11n", 6.5), ("yolo11s", 21.5), ("yolo11m", 68.0)])
def test_yolo_flop_close_to_ultralytics(model, gflops):
    # ultralytics counts the BN-fused model; we count BatchNorm separately: a few % more
    total = sum(int(x["flop"]) for x in rows(model)) / 1e9
    assert gflops <= total <= gflops * 1.05


def test_yolo_carries_the_backbone_features():
    r = {x["name"]: x for x in rows("yolo11n")}
    # b4 (80x80x128) is consumed by the Concat b15: it travels with every cut from b5 to b14
    assert int(r["b5_conv"]["carry_elems"]) >= 80 * 80 * 128
    assert int(r["b14_upsample"]["carry_elems"]) >= 80 * 80 * 128
    assert int(r["b0_conv"]["carry_elems"]) == 0
    assert int(r["b23_detect"]["carry_elems"]) == 0


def test_regenerated_yolo11n_tables_match_shipped(tmp_path):
    """Needs torch, torchvision and ultralytics (the model is built from its YAML, nothing downloaded)."""
    import filecmp
    import os
    import subprocess
    import sys

    pytest.importorskip("torch")
    pytest.importorskip("ultralytics")
    repo = DNN_DIR.parents[1]
    env = dict(os.environ, PYTHONPATH=str(repo), YOLO_OFFLINE="1")
    result = subprocess.run([sys.executable, "-m", "layerplan.tools.layer_tables", "--out", str(tmp_path), "--model",
                             "yolo11n"], cwd=str(repo), env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    for fname in ("yolo11n_major.csv", "yolo11n_module.csv", "yolo11n.yaml"):
        assert filecmp.cmp(tmp_path / fname, DNN_DIR / fname, shallow=False), fname
