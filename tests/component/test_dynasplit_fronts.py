"""Exact Pareto fronts: the mode ILP with epsilon-constraints equals enumeration (random chains, hand-made
and real pools); non-dominance and hypervolume against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from layerplan.dynasplit import data as D
from layerplan.dynasplit.loader import chain_configs, measured_table, segment_chain
from layerplan.dynasplit.modes import (ModeChain, enumerate_plans, enumeration_front, evaluate, ilp_front, objectives,
                                       random_chain, solve_plan, to_profile_set)
from layerplan.dynasplit.pareto import front_vectors, hypervolume, nondominated_mask
from tests.dynasplit_helpers import DATA, needs_data, row, write_pool

pytestmark = pytest.mark.component


def same_front(a, b, acc):
    A, B = front_vectors(objectives(a, acc), 6), front_vectors(objectives(b, acc), 6)
    return A.shape == B.shape and np.allclose(A, B, rtol=1e-9, atol=1e-6)


@pytest.mark.parametrize("seed", range(4))
def test_ilp_front_equals_enumeration_random_chains(seed):
    rng = np.random.default_rng(100 + seed)
    acc = seed % 2 == 1
    ch = random_chain(rng, n_devices=2 + seed % 3 // 2, n_layers=3, n_modes=(3, 2), accuracy=acc)
    ef, lf = enumeration_front(ch, accuracy=acc), ilp_front(ch, accuracy=acc)
    assert ef and same_front(ef, lf, acc)


def test_enumeration_counts_every_plan():
    rng = np.random.default_rng(5)
    ch = random_chain(rng, n_devices=3, n_layers=3, n_modes=(2, 2, 1), p_missing=0.0)
    # no entry missing: every (b1 <= b2) x modes is a plan: C(3 + 2, 2) = 10 boundary pairs x 4 mode tuples
    assert len(enumerate_plans(ch)) == 10 * 4


def test_single_optimum_matches_enumeration_with_caps():
    rng = np.random.default_rng(11)
    ch = random_chain(rng, n_devices=2, n_layers=4, accuracy=True)
    plans = enumerate_plans(ch)
    cap = float(np.median([p.latency_ms for p in plans]))
    best = min(p.energy_J for p in plans if p.latency_ms <= cap)
    assert solve_plan(ch, objective="energy", max_latency_ms=cap).energy_J == pytest.approx(best)
    floor = float(np.median([p.accuracy for p in plans]))
    best = min(p.latency_ms for p in plans if p.accuracy >= floor - 1e-12)
    assert solve_plan(ch, objective="latency", min_accuracy=floor).latency_ms == pytest.approx(best)
    assert solve_plan(ch, objective="energy", max_latency_ms=-1.0) is None


def test_hand_made_pool_front(tmp_path):
    rows = [row(1800, 0, "off", True, 10, 12, 70, 0.4, 66), row(600, 22, "max", False, 900, 0, 0, 3.0, 0),
            row(1800, 22, "max", False, 420, 0, 0, 2.4, 0), row(1800, 10, "std", True, 200, 5, 30, 1.5, 40),
            row(1800, 10, "std", False, 210, 7, 60, 1.7, 100), row(600, 10, "std", True, 500, 6, 31, 1.0, 41)]
    pool = D.load_pool("vgg16", write_pool(tmp_path, "vgg16", rows))
    ch = segment_chain(pool)
    assert same_front(enumeration_front(ch), ilp_front(ch), False)
    t = measured_table(pool)
    f = {t["configs"][k] for k in np.flatnonzero(nondominated_mask(np.c_[t["latency_ms"], t["energy_J"]]))}
    # hand-checked: cloud (92 ms, 66.4 J), edge 1800 (420 ms, 2.4 J) and split 10 @1800/GPU on (235 ms, 41.5 J) are
    # non-dominated; 600 MHz edge (900 ms, 3.0 J) is dominated by the 1800 MHz edge, GPU off by GPU on
    assert f == {D.Config(1800, 0, "off", True), D.Config(1800, 22, "max", False), D.Config(1800, 10, "std", True)}
    # the model composes (600, 10, std, False) from measured segments though it was never measured
    assert D.Config(600, 10, "std", False) in chain_configs(ch, "vgg16")


def test_nondominated_mask_brute_force():
    rng = np.random.default_rng(3)
    for _ in range(20):
        F = rng.integers(0, 6, size=(int(rng.integers(1, 25)), int(rng.integers(2, 4)))).astype(float)
        mask = nondominated_mask(F)
        for i in range(len(F)):
            dominated = any(np.all(F[j] <= F[i]) and np.any(F[j] < F[i]) for j in range(len(F)))
            assert mask[i] == (not dominated)


def test_hypervolume_against_grid_count():
    rng = np.random.default_rng(4)
    for k in (2, 3):
        for _ in range(5):
            F = rng.integers(0, 8, size=(6, k)).astype(float)
            ref = np.full(k, 8.0)
            # unit cells [x, x+1)^k dominated by some point
            cells = sum(any(np.all(F[i] <= np.array(c)) for i in range(len(F)))
                        for c in itertools.product(range(8), repeat=k))
            assert hypervolume(F, ref) == pytest.approx(cells)


def test_modes_map_onto_frequency_labels():
    from layerplan.profiles import frequency_label

    ch = ModeChain(["edge", "cloud"], 2, [["1800mhz-tpu-max", "600mhz-tpu-off"], ["gpu-on"]],
                   {(0, 0, 1, "1800mhz-tpu-max"): (10.0, 1.0, 0.0), (0, 0, 2, "600mhz-tpu-off"): (50.0, 2.0, 0.0),
                    (1, 1, 2, "gpu-on"): (5.0, 9.0, 0.0), (1, 2, 2, "gpu-on"): (0.0, 0.0, 0.0)},
                   {(0, 1): (3.0, 0.0), (0, 2): (0.0, 0.0)})
    ps = to_profile_set(ch, "toy")
    assert frequency_label("1800MHz-TPU-max") == "1800mhz-tpu-max"
    assert ps.frequencies("edge") == ["1800mhz-tpu-max", "600mhz-tpu-off"]
    assert ps.latency_s[("edge", "1800mhz-tpu-max", 1, 1)] == pytest.approx(0.010)
    assert evaluate(ch, (1,), ("1800mhz-tpu-max", "gpu-on")).latency_ms == pytest.approx(18.0)


@needs_data
def test_real_segment_model_2d_front_ilp_equals_enumeration():
    ch = segment_chain(D.load_pool("vit", DATA))
    assert same_front(enumeration_front(ch), ilp_front(ch), False)


@needs_data
@pytest.mark.slow
def test_real_segment_model_vgg16_fronts_ilp_equals_enumeration():
    ch = segment_chain(D.load_pool("vgg16", DATA))
    for acc in (False, True):
        assert same_front(enumeration_front(ch, accuracy=acc), ilp_front(ch, accuracy=acc), acc)


def test_device_without_usable_segment_is_one_clear_error():
    from layerplan.errors import DataError

    ch = ModeChain(["a", "b"], 2, [["m"], ["m"]], {(0, 1, 2, "m"): (1.0, 1.0, 0.0), (1, 0, 2, "m"): (1.0, 1.0, 0.0)},
                   {(0, 1): (0.0, 0.0)})
    with pytest.raises(DataError, match="'a' has no segment"):
        ilp_front(ch)
    assert enumerate_plans(ch) == []
