"""Benchmark: exact Pareto fronts of random mode chains by enumeration and by the ILP with epsilon-constraints.

    python -m layerplan.dynasplit.bench [--quick]

Prints, per (devices, layers, modes per device): the number of plans, front points, seconds for
enumeration and for the ILP, and whether both fronts agree. Enumeration grows with
C(L + N - 1, N - 1) x prod(modes); the ILP with the number of front points (two MIP solves each).
Figures only; no test asserts timings.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from layerplan.dynasplit.modes import enumeration_front, ilp_front, objectives, random_chain
from layerplan.dynasplit.pareto import front_vectors


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    cases = [(2, 8, (7, 2)), (3, 6, (5, 3, 2)), (3, 10, (7, 3, 2))]
    if not args.quick:
        cases += [(4, 10, (7, 3, 3, 2)), (4, 16, (7, 4, 3, 2))]
    print(f"{'N':>2} {'L':>3} {'modes':>12} {'plans':>10} {'front':>6} {'enum_s':>8} {'ilp_s':>8} agree")
    for n, L, modes in cases:
        ch = random_chain(np.random.default_rng(n * 100 + L), n_devices=n, n_layers=L, n_modes=modes, p_missing=0.0)
        plans = math.comb(L + n - 1, n - 1) * math.prod(modes)
        t0 = time.perf_counter()
        ef = enumeration_front(ch)
        t1 = time.perf_counter()
        lf = ilp_front(ch)
        t2 = time.perf_counter()
        A, B = front_vectors(objectives(ef, False), 6), front_vectors(objectives(lf, False), 6)
        ok = A.shape == B.shape and np.allclose(A, B, rtol=1e-9, atol=1e-6)
        print(f"{n:>2} {L:>3} {str(modes):>12} {plans:>10} {len(ef):>6} {t1 - t0:>8.2f} {t2 - t1:>8.2f} {ok}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
