"""Online phase: the dynasplit rule on hand-made fronts, the reconfiguration-aware scheduler against brute
force, the simulator's seeded draws, NSGA-III (when Optuna is installed)."""

from __future__ import annotations

import numpy as np
import pytest

from layerplan.dynasplit import data as D
from layerplan.dynasplit.loader import measured_table
from layerplan.dynasplit.online import (choose_all, dynasplit_choice, reconfig_aware_choice,
                                        reconfig_aware_choice_reference, simulate)
from tests.dynasplit_helpers import DATA, needs_data, row, write_pool

pytestmark = pytest.mark.component


def test_dynasplit_rule_hand_made_front():
    #            0      1      2      3
    lat = np.array([100., 250., 400., 600.])
    en = np.array([60., 20., 5., 5.])
    acc = np.array([0.61, 0.60, 0.60, 0.61])  # 2 and 3 tie in energy: 3 has the higher accuracy and comes first
    q = np.array([50., 100., 120., 250., 399., 400., 599., 600., 1e6])
    got = dynasplit_choice(lat, en, acc, q)
    # q < every latency -> fastest (0); then the first point in order (3, 2, 1, 0) with lat <= q
    assert got.tolist() == [0, 0, 0, 1, 1, 2, 2, 3, 3]
    # without accuracy, ties go to the lower latency: 2 before 3
    assert dynasplit_choice(lat, en, None, np.array([1e6])).tolist() == [2]


def test_dynasplit_rule_matches_loop():
    rng = np.random.default_rng(0)
    for _ in range(50):
        n = int(rng.integers(1, 10))
        lat, en, acc = rng.uniform(50, 500, n), rng.integers(1, 6, n).astype(float), rng.integers(0, 3, n) / 100
        q = rng.uniform(0, 600, 30)
        order = sorted(range(n), key=lambda i: (en[i], -acc[i], lat[i]))
        want = [next((i for i in order if lat[i] <= x), int(np.argmin(lat))) for x in q]
        assert dynasplit_choice(lat, en, acc, q).tolist() == want


@pytest.mark.parametrize("lam", [np.inf, 0.0, 30.0, 1e9])
def test_reconfig_aware_fast_equals_brute_force(lam):
    rng = np.random.default_rng(int(1 + (lam if np.isfinite(lam) else 7)) % 1000)
    for _ in range(60):
        n = int(rng.integers(1, 12))
        lat, en = rng.uniform(50, 500, n), rng.uniform(1, 100, n)
        q, r = rng.uniform(30, 700, 40), float(rng.uniform(0, 200))
        assert np.array_equal(reconfig_aware_choice(lat, en, q, r, violation_cost_J=lam),
                              reconfig_aware_choice_reference(lat, en, q, r, violation_cost_J=lam))


def test_reconfig_aware_stays_when_switching_would_miss_qos():
    lat, en = np.array([100., 430.]), np.array([69., 2.2])
    q = np.array([150., 500., 5000., 450.])
    # start: 0 (cloud meets 150); 500 >= 430 but 430 + 137 > 500: stay; 5000: switch; 450: stay on edge
    assert reconfig_aware_choice(lat, en, q, 137.0).tolist() == [0, 0, 1, 1]
    # nothing meets q = 50: strict -> fastest, lambda finite -> least energy
    assert reconfig_aware_choice(lat, en, np.array([50.]), 137.0).tolist() == [0]
    assert reconfig_aware_choice(lat, en, np.array([50.]), 137.0, violation_cost_J=69.0).tolist() == [1]


def hand_pool(tmp_path):
    rows = [row(1800, 0, "off", True, 10, 12, 70 + i, 0.4, 66 + i) for i in range(4)]  # 4 rows of the cloud config
    rows += [row(1800, 22, "max", False, 420 + i, 0, 0, 2.4 + i, 0) for i in range(2)]
    rows += [row(1800, 10, "std", True, 200, 5, 30, 1.5, 40)]
    return D.load_pool("vgg16", write_pool(tmp_path, "vgg16", rows, reconfig_ms=(100.0, 300.0)))


def test_simulator_draws_rows_of_the_chosen_configuration_seeded(tmp_path):
    pool = hand_pool(tmp_path)
    t = measured_table(pool)
    n = 4000
    cloud = t["configs"].index(D.Config(1800, 0, "off", True))
    edge = t["configs"].index(D.Config(1800, 22, "max", False))
    choice = np.where(np.arange(n) % 3 == 0, edge, cloud)
    q = np.full(n, 200.0)
    a = simulate(pool, t["pool_index"], choice, q, strategy="x", seed=3, reconfig_samples_ms=np.array([100.0, 300.0]))
    b = simulate(pool, t["pool_index"], choice, q, strategy="y", seed=3, reconfig_samples_ms=np.array([100.0, 300.0]))
    c = simulate(pool, t["pool_index"], choice, q, strategy="x", seed=4, reconfig_samples_ms=np.array([100.0, 300.0]))
    assert np.array_equal(a.row, b.row) and np.array_equal(a.latency_ms, b.latency_ms)  # seeded, common random numbers
    assert not np.array_equal(a.row, c.row)
    # every drawn row belongs to exactly the chosen configuration
    assert np.array_equal(pool.row_config[a.row], t["pool_index"][choice])
    # uniform over the 4 cloud rows
    counts = np.bincount(a.row[choice == cloud], minlength=len(pool.row_config))[pool.rows_of(pool.configs.index(D.Config(1800, 0, "off", True)))]
    assert counts.min() > 0.2 * counts.sum() and counts.max() < 0.3 * counts.sum()
    # reconfiguration: every change of configuration, drawn from the samples, added to latency
    changed = np.r_[False, choice[1:] != choice[:-1]]
    assert np.array_equal(a.reconfigured, changed)
    assert set(np.unique(a.reconfig_ms[changed])) <= {100.0, 300.0} and np.all(a.reconfig_ms[~changed] == 0)
    assert np.allclose(a.latency_ms, pool.cols["latency_ms"][a.row] + a.reconfig_ms)
    assert a.metrics()["reconfigurations"] == int(changed.sum())


def test_choose_all_static_and_front_strategies(tmp_path):
    pool = hand_pool(tmp_path)
    t = measured_table(pool)
    front = np.arange(len(t["configs"]))
    q = np.array([50.0, 300.0, 1000.0])
    ch = choose_all("vgg16", t, front, q, reconfig_plan_ms=0.0)
    cfg = lambda s: [t["configs"][k] for k in ch[s]]  # noqa: E731
    assert cfg("cloud") == [D.Config(1800, 0, "off", True)] * 3
    assert cfg("edge") == [D.Config(1800, 22, "max", False)] * 3
    assert cfg("energy") == [D.Config(1800, 22, "max", False)] * 3
    assert cfg("latency") == [D.Config(1800, 0, "off", True)] * 3
    assert cfg("dynasplit") == [D.Config(1800, 0, "off", True), D.Config(1800, 10, "std", True), D.Config(1800, 22, "max", False)]


@needs_data
def test_ten_thousand_requests_all_strategies_and_goal():
    from layerplan.dynasplit.analysis import run_sim

    for net in ("vgg16", "vit"):
        res = run_sim(net, DATA, workload_spec=["published_10000"])
        by = {r["strategy"]: r for r in res["rows"]}
        assert by["cloud"]["requests"] == 10000 and by["cloud"]["energy_vs_cloud_pct"] == 0
        assert res["timing_s"]["published_10000"] < 60  # generous: a figure, not a benchmark
        d, o = by["dynasplit"], by["layerplan"]
        assert o["qos_violation_pct"] <= d["qos_violation_pct"] and o["mean_energy_J"] <= d["mean_energy_J"]


def test_nsga3_budget_and_front():
    pytest.importorskip("optuna")
    from layerplan.dynasplit import nsga

    assert nsga.budget("vgg16") == 184 and nsga.budget("vit") == 55
    # a synthetic table over the full ViT space: latency and energy trade off by split
    cfgs = D.config_space("vit")
    rng = np.random.default_rng(0)
    lat = np.array([100 + 200 * c.layer + 1e5 / c.freq_MHz + rng.uniform(0, 5) for c in cfgs])
    en = np.array([90 - 4 * c.layer - (20 if not c.gpu else 0) + rng.uniform(0, 1) for c in cfgs])
    table = {"configs": cfgs, "latency_ms": lat, "energy_J": en}
    r = nsga.nsga3_search("vit", table, seed=1)
    assert r["trials"] == 55 and r["failed"] == 0
    F = np.c_[lat, en]
    from layerplan.dynasplit.pareto import nondominated_mask

    sub = np.array(sorted(set(r["evaluated"])))
    assert set(r["front"]) == set(sub[nondominated_mask(F[sub])])
    assert nsga.nsga3_search("vit", table, seed=1)["evaluated"] == r["evaluated"]
