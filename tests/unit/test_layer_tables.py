"""Hand-checkable facts about the shipped per-layer tables in data/dnn.

The tables are read with the standard-library csv module and pyyaml only (no layerplan
loader, no pandas). Only the regeneration test needs torch.
"""

from __future__ import annotations

import csv
import filecmp
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DNN_DIR = REPO / "data" / "dnn"
MODELS = ("alexnet", "vgg11", "vgg16", "ssd300", "vit_b_16", "alexnet_ee")
HEADER = ["name", "kind", "flop", "weights", "out_h", "out_w", "out_d", "carry_elems", "exec_prob", "members"]
KINDS = {
    "conv", "linear", "relu", "gelu", "maxpool", "avgpool", "flatten", "dropout", "norm",
    "attention", "embed", "encoder", "head", "other",
}
INT_COLUMNS = ("flop", "weights", "out_h", "out_w", "out_d", "carry_elems")


def read_table(model: str, granularity: str) -> list[dict]:
    meta = read_meta(model)
    path = DNN_DIR / meta["granularities"][granularity]
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        for col in INT_COLUMNS:
            row[col] = int(row[col])
        row["exec_prob"] = float(row["exec_prob"])
        row["members"] = row["members"].split("+")
    return rows


def read_meta(model: str) -> dict:
    with open(DNN_DIR / f"{model}.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def by_name(rows: list[dict]) -> dict[str, dict]:
    return {r["name"]: r for r in rows}


def total(rows: list[dict], col: str) -> int:
    return sum(r[col] for r in rows)


# ----------------------------------------------------------------------------- format


@pytest.mark.unit
@pytest.mark.parametrize("model", MODELS)
def test_yaml_metadata(model):
    meta = read_meta(model)
    assert meta["name"] == model
    assert meta["alpha_B"] == 4
    assert isinstance(meta["description"], str) and meta["description"]
    assert meta["generated_by"].startswith("python -m layerplan.tools.layer_tables")
    side = 300 if model == "ssd300" else 224
    assert meta["input_shape"] == {"h": side, "w": side, "d": 3}
    assert meta["granularities"] == {"major": f"{model}_major.csv", "module": f"{model}_module.csv"}


@pytest.mark.unit
@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("granularity", ("major", "module"))
def test_header_names_kinds_values(model, granularity):
    with open(DNN_DIR / f"{model}_{granularity}.csv", newline="", encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    assert header == HEADER
    rows = read_table(model, granularity)
    names = [r["name"] for r in rows]
    assert len(names) == len(set(names)), "names must be unique"
    for r in rows:
        assert r["kind"] in KINDS
        assert r["flop"] >= 0 and r["weights"] >= 0 and r["carry_elems"] >= 0
        assert min(r["out_h"], r["out_w"], r["out_d"]) >= 1
        assert 0.0 < r["exec_prob"] <= 1.0
        if granularity == "module":
            assert r["members"] == [r["name"]]


@pytest.mark.unit
@pytest.mark.parametrize("model", MODELS)
def test_major_rows_fold_contiguous_module_rows(model):
    major = read_table(model, "major")
    module = read_table(model, "module")
    assert [m for r in major for m in r["members"]] == [r["name"] for r in module]
    mod = by_name(module)
    for r in major:
        members = [mod[m] for m in r["members"]]
        assert r["flop"] == total(members, "flop")
        assert r["weights"] == total(members, "weights")
        last = members[-1]
        assert (r["out_h"], r["out_w"], r["out_d"]) == (last["out_h"], last["out_w"], last["out_d"])
        assert r["carry_elems"] == last["carry_elems"]
        assert {m["exec_prob"] for m in members} == {r["exec_prob"]}


@pytest.mark.unit
@pytest.mark.parametrize("model", MODELS)
def test_totals_identical_across_granularities(model):
    major = read_table(model, "major")
    module = read_table(model, "module")
    assert total(major, "flop") == total(module, "flop")
    assert total(major, "weights") == total(module, "weights")


# ----------------------------------------------------------------------------- counts


@pytest.mark.unit
@pytest.mark.parametrize(
    "model, count",
    [("alexnet", 8), ("vgg11", 11), ("vgg16", 16), ("vit_b_16", 16), ("ssd300", 35), ("alexnet_ee", 11)],
)
def test_major_layer_counts(model, count):
    """Table 4.2 for AlexNet/VGG11/VGG16/ViT; 23 backbone + 12 head convs for SSD300."""
    assert len(read_table(model, "major")) == count


@pytest.mark.unit
@pytest.mark.parametrize(
    "model, millions",
    [("alexnet", 61.1), ("vgg11", 132.9), ("vgg16", 138.4), ("ssd300", 35.6), ("vit_b_16", 86.6)],
)
def test_total_weights_match_table_4_2(model, millions):
    assert abs(total(read_table(model, "module"), "weights") / 1e6 - millions) <= 0.1


@pytest.mark.unit
def test_alexnet_conv1_flop_and_fc6_weights():
    module = by_name(read_table("alexnet", "module"))
    major = by_name(read_table("alexnet", "major"))
    conv1_flop = 2 * (55 * 55 * 64 * (11 * 11 * 3) + 55 * 55 * 64)
    assert module["features.0"]["flop"] == conv1_flop
    assert (module["features.0"]["out_h"], module["features.0"]["out_w"], module["features.0"]["out_d"]) == (55, 55, 64)
    # conv1 major = conv + ReLU (numel out) + MaxPool (numel in), each x2.
    assert major["conv1"]["flop"] == conv1_flop + 2 * (55 * 55 * 64) * 2
    assert major["conv1"]["members"] == ["features.0", "features.1", "features.2"]
    assert major["fc6"]["weights"] == 9216 * 4096 + 4096
    assert module["classifier.1"]["weights"] == 9216 * 4096 + 4096
    assert module["classifier.1"]["flop"] == 2 * (9216 * 4096 + 4096)
    assert [r["name"] for r in read_table("alexnet", "major")] == [
        "conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8"
    ]
    assert len(read_table("alexnet", "module")) == 21


@pytest.mark.unit
def test_chain_models_have_no_carry():
    for model in ("alexnet", "vgg11", "vgg16"):
        for granularity in ("major", "module"):
            assert all(r["carry_elems"] == 0 for r in read_table(model, granularity))


@pytest.mark.unit
def test_ssd300_is_vgg16_not_ssdlite():
    module = read_table("ssd300", "module")
    weights = total(module, "weights")
    assert weights > 30e6  # SSDlite320-MobileNetV3 has ~3.4 M
    assert abs(total(module, "flop") / 1e9 - 69.8) < 0.5
    heads = [r for r in module if r["name"].startswith("head.")]
    assert len(heads) == 12 and all(r["kind"] == "conv" for r in heads)
    # 8732 default boxes: 91 class scores and 4 box offsets each.
    cls = [r for r in heads if "classification" in r["name"]]
    reg = [r for r in heads if "regression" in r["name"]]
    assert sum(r["out_h"] * r["out_w"] * r["out_d"] for r in cls) == 8732 * 91
    assert sum(r["out_h"] * r["out_w"] * r["out_d"] for r in reg) == 8732 * 4


@pytest.mark.unit
def test_ssd300_linearization_carries():
    rows = read_table("ssd300", "module")
    names = [r["name"] for r in rows]
    mod = by_name(rows)
    fmap0 = 38 * 38 * 512
    pooled = 19 * 19 * 512
    i = names.index("backbone.extra.0.0")
    assert names[i + 1 : i + 3] == ["head.regression_head.module_list.0", "head.classification_head.module_list.0"]
    assert mod["backbone.extra.0.0"]["carry_elems"] == fmap0
    assert mod["head.regression_head.module_list.0"]["carry_elems"] == fmap0 + pooled
    assert mod["head.classification_head.module_list.0"]["carry_elems"] == pooled
    fmap1 = 19 * 19 * 1024
    assert mod["head.regression_head.module_list.1"]["carry_elems"] == fmap1
    assert mod["head.classification_head.module_list.1"]["carry_elems"] == fmap1
    assert mod["head.regression_head.module_list.5"]["carry_elems"] == 256
    assert names[-1] == "head.classification_head.module_list.5"
    assert mod[names[-1]]["carry_elems"] == 0
    # L2Norm scale (512) is counted on the first level-0 head conv.
    assert mod["head.regression_head.module_list.0"]["weights"] == 512 * 16 * 9 + 16 + 512


@pytest.mark.unit
def test_vit_structure_and_residual_carries():
    major = read_table("vit_b_16", "major")
    assert [r["name"] for r in major] == (
        ["patch_embed", "embed"] + [f"encoder_{k}" for k in range(12)] + ["ln", "head"]
    )
    assert all(r["carry_elems"] == 0 for r in major)
    mod = by_name(read_table("vit_b_16", "module"))
    tokens = 197 * 768
    assert mod["encoder.dropout"]["weights"] == 768 + tokens  # class token + position embedding
    assert (mod["encoder.dropout"]["out_h"], mod["encoder.dropout"]["out_w"], mod["encoder.dropout"]["out_d"]) == (1, 197, 768)
    blk = "encoder.layers.encoder_layer_3."
    carried = ["ln_1", "self_attention", "ln_2", "mlp.0", "mlp.1", "mlp.2", "mlp.3"]
    for leaf in carried:
        assert mod[blk + leaf]["carry_elems"] == tokens, leaf
    for leaf in ("dropout", "mlp.4"):
        assert mod[blk + leaf]["carry_elems"] == 0, leaf
    # MHA: scaling + qkv proj (+bias) + 12 heads (QK^T, softmax, AV) + out proj (+bias), x2.
    L, E, H = 197, 768, 12
    mac = L * E + 3 * L * E * E + 3 * L * E + H * (2 * L * L * (E // H) + L * L) + L * E * E + L * E
    assert mod[blk + "self_attention"]["flop"] == 2 * mac
    assert mod[blk + "self_attention"]["weights"] == 4 * E * E + 4 * E
    assert mod["heads.head"]["flop"] == 2 * (768 * 1000 + 1000)


@pytest.mark.unit
def test_alexnet_ee_exec_prob_and_carry():
    rows = read_table("alexnet_ee", "major")
    names = [r["name"] for r in rows]
    assert names == ["conv1", "conv2", "exit_conv1", "exit_conv2", "exit_fc", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8"]
    branch_end = names.index("exit_fc")
    for i, r in enumerate(rows):
        expected = 1.0 if i <= branch_end else 0.344
        assert r["exec_prob"] == pytest.approx(expected, abs=1e-9), r["name"]
        expected_carry = 192 * 13 * 13 if 2 <= i <= branch_end else 0
        assert r["carry_elems"] == expected_carry, r["name"]
    mod = read_table("alexnet_ee", "module")
    seen_branch_end = False
    for r in mod:
        assert r["exec_prob"] == pytest.approx(0.344 if seen_branch_end else 1.0, abs=1e-9), r["name"]
        if r["name"] == "exit1.5":
            seen_branch_end = True
        if r["name"].startswith("exit1."):
            assert r["carry_elems"] == 192 * 13 * 13
    ee = by_name(rows)
    assert ee["exit_conv1"]["weights"] == 192 * 64 * 9 + 64
    assert ee["exit_conv2"]["weights"] == 64 * 32 * 9 + 32
    assert ee["exit_fc"]["weights"] == 32 * 13 * 13 * 1000 + 1000
    base = read_table("alexnet", "major")
    assert total(rows, "weights") == total(base, "weights") + 110656 + 18464 + 5409000


# ----------------------------------------------------------------------------- regeneration


@pytest.mark.unit
def test_regenerated_alexnet_tables_match_shipped(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("torchvision")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    result = subprocess.run(
        [sys.executable, "-m", "layerplan.tools.layer_tables", "--out", str(tmp_path), "--model", "alexnet"],
        cwd=str(REPO),
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    for fname in ("alexnet_major.csv", "alexnet_module.csv", "alexnet.yaml"):
        assert filecmp.cmp(tmp_path / fname, DNN_DIR / fname, shallow=False), fname
