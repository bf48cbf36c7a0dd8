"""Fuzzing campaign over the 11 user file formats (issue 10); prints counts per format and outcome.

    python tests/fuzz/campaign.py --n 5000 --seed 1

Exit status 1 when any file gave a traceback, was accepted although invalid, was refused
although valid, loaded differently from its unchanged seed, or raised an error that is not
one line naming the file and a field. See docs/fuzzing.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parents[1]), str(HERE)]  # this checkout's layerplan, then the generator

import fuzz_inputs as F  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=5000, help="number of generated files")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        res = F.campaign(args.n, args.seed, Path(tmp))
    wall = time.perf_counter() - t0
    outcomes = ["error", "same", "loaded", "traceback", "silent", "false_error", "changed", "bad_message"]
    print(f"{'format':20s} " + " ".join(f"{o:>11s}" for o in outcomes) + f" {'total':>7s}")
    totals = dict.fromkeys(outcomes, 0)
    for fmt, counts in res["counts"].items():
        print(f"{fmt:20s} " + " ".join(f"{counts.get(o, 0):11d}" for o in outcomes) + f" {sum(counts.values()):7d}")
        for o in outcomes:
            totals[o] += counts.get(o, 0)
    print(f"{'all':20s} " + " ".join(f"{totals[o]:11d}" for o in outcomes) + f" {sum(totals.values()):7d}")
    print(f"{len(res['failures'])} failures; {wall:.1f} s")
    for f in res["failures"][:50]:
        print(" | ".join(map(str, f)))
    return 1 if res["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
