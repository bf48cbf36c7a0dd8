"""The torch bundle profiler end to end on a tiny AlexNet slice (CPU, a few seconds).

Skipped when torch/torchvision are absent. Checks that a bundle Sequential is the model:
the bundle of all layers gives exactly the torchvision forward, and single-layer bundles
chained over the cached inputs reproduce every cached intermediate tensor.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torchvision")

from layerplan.profiling import core  # noqa: E402
from layerplan.profiling import torch_bundles as tb  # noqa: E402

pytestmark = pytest.mark.component

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def alexnet_setup():
    return tb.prepare("alexnet", "major", n_inputs=2, seed=0, threads=1)


def test_full_bundle_equals_torchvision_forward(alexnet_setup):
    s = alexnet_setup
    seq = tb.bundle_sequential(s.chain, 1, s.chain.n_layers)
    assert sum(isinstance(m, torch.nn.Flatten) for m in seq) == 1  # avgpool -> classifier
    with torch.inference_mode():
        for x in s.images:
            assert torch.equal(seq(x), s.chain.model(x))


def test_single_bundles_chain_over_cached_inputs(alexnet_setup):
    s = alexnet_setup
    L = s.chain.n_layers
    assert L == 8 and all(len(s.cache[l]) == 2 for l in range(1, L + 1))
    assert tuple(s.cache[6][0].shape) == (1, 9216)  # fc6 gets the flattened conv5 output
    with torch.inference_mode():
        x = s.images[1]
        assert torch.equal(x, s.cache[1][1])
        for l in range(1, L):
            x = tb.bundle_sequential(s.chain, l, l)(x)
            assert torch.equal(x.reshape(s.cache[l + 1][1].shape), s.cache[l + 1][1]), l
            x = s.cache[l + 1][1]
        # a middle bundle equals the product of its parts
        y = tb.bundle_sequential(s.chain, 3, 6)(s.cache[3][0])
        assert torch.equal(y, tb.bundle_sequential(s.chain, 6, 6)(s.cache[6][0]))


def test_vgg11_full_bundle_equals_forward():
    s = tb.prepare("vgg11", "major", n_inputs=1, seed=1, threads=1)
    assert s.chain.n_layers == 11
    seq = tb.bundle_sequential(s.chain, 1, 11)
    with torch.inference_mode():
        assert torch.equal(seq(s.images[0]), s.chain.model(s.images[0]))
    assert tuple(s.cache[9][0].shape) == (1, 25088)  # fc1 input is flat: flatten falls between layers


def test_inplace_first_module_does_not_touch_cache():
    s = tb.prepare("alexnet", "module", n_inputs=1, seed=0, threads=1)
    relu = next(l for l, row in enumerate(s.chain.table, start=1) if row["kind"] == "relu")
    x = s.cache[relu][0]
    before = x.clone()
    with torch.inference_mode():
        tb.bundle_sequential(s.chain, relu, relu)(x)
    assert torch.equal(x, before) and (before < 0).any()
    assert s.chain.model.get_submodule(s.chain.table[relu - 1]["members"][0]).inplace  # model unchanged


def test_profile_tiny_alexnet_slice(tmp_path):
    out = tmp_path / "alexnet_cpu_test.csv"
    first = [(1, 1), (1, 2), (2, 2)]
    rows = tb.profile_model("alexnet", "major", device_label="cpu_test", out=out, threads=1, runs_per_input=2,
                            n_inputs=3, warmup=1, bundle_list=first, progress=False)
    assert [(r["i"], r["j"]) for r in rows] == first
    meta, file_rows = core.read_profile(out)
    assert out.read_text().splitlines()[0] == "# layerplan bundle profile"
    assert out.read_text().splitlines()[10] == ",".join(core.COLUMNS)
    assert meta["device"] == "cpu_test" and meta["threads"] == "1" and meta["synthetic"] == "false"
    assert meta["runs"] == "6 (3 inputs x 2 passes), batch 1, warm-up 1"
    assert meta["loadavg_1min"].startswith("before ") and ", after " in meta["loadavg_1min"]
    assert "torch " in meta["machine"] and "cores" in meta["machine"]
    for r in file_rows:
        assert r["dnn"] == "alexnet" and r["granularity"] == "major" and r["frequency_Hz"] == ""
        assert r["samples"] == "6" and r["statistic"] == "trimmed_mean_10" and r["energy_J"] == ""
        assert 0 < float(r["latency_s"]) < 5 and float(r["spread_s"]) >= 0
    # resume: only the new bundle is measured, rows stay in (i, j) order
    rows = tb.profile_model("alexnet", "major", device_label="cpu_test", out=out, threads=1, runs_per_input=2,
                            n_inputs=3, warmup=1, bundle_list=first + [(1, 3)], progress=False)
    assert [(r["i"], r["j"]) for r in rows] == [(1, 1), (1, 2), (1, 3), (2, 2)]
    assert core.read_profile(out)[0]["sessions"].startswith("2; ")


def test_cli_profiles_and_loader_reads_it(tmp_path):
    out = tmp_path / "alexnet_cli.csv"
    res = subprocess.run(
        [sys.executable, "-m", "layerplan.profiling", "--model", "alexnet", "--device-label", "cli", "--threads", "1",
         "--runs-per-input", "1", "--inputs", "2", "--warmup", "0", "--bundles", "7-8,8-8", "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert res.returncode == 0, res.stderr
    assert "[1/2] alexnet cli bundle 7..8" in res.stderr
    _, rows = core.read_profile(out)
    assert [(r["i"], r["j"]) for r in rows] == [("7", "8"), ("8", "8")]
    from layerplan.profiles import load_profiles

    ps = load_profiles(out, "alexnet", "major")
    assert ps.devices() == ["cli"] and ps.lookup("cli", 8, 8) > 0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_event_timing(tmp_path):
    out = tmp_path / "alexnet_gpu.csv"
    rows = tb.profile_model("alexnet", "major", device_label="gpu", out=out, threads=None, runs_per_input=2,
                            n_inputs=2, warmup=3, bundle_list=[(1, 8)], cuda=True, progress=False)
    assert rows[0]["latency_s"] > 0
    assert "GPU" in core.read_profile(out)[0]["machine"]
