"""Regenerate the thesis tables and figures: every experiment, or the ones named.

    python -m layerplan.experiments.reproduce                  # all, reports under reports/
    python -m layerplan.experiments.reproduce table6_2 --out my_reports -- tracking=none

Each experiment runs as its own Hydra multirun (``run.py experiment=<name>``) with its
sweep folder under ``<out>/<name>/``; its report (Markdown, CSV, PNG) lands in
``<out>/<name>/report/`` and ``<out>/README.md`` indexes them with the elapsed times and
the claims that do not hold. Extra Hydra overrides after ``--`` go to every experiment.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

from layerplan.experiments import EXPERIMENTS


def run_one(name: str, out: Path, overrides: list[str]) -> tuple[int, float, str]:
    sweep = out / name
    cmd = [sys.executable, "-m", "layerplan.cli", f"experiment={name}", f"hydra.sweep.dir={sweep}", *overrides]
    t0 = time.perf_counter()
    with open(out / f"{name}.log", "w") as log:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        jobs = 0
        for line in proc.stdout:
            log.write(line)
            if re.search(r"\[HYDRA\]\s+#\d+ :", line):
                jobs += 1
                print(f"\r  {name}: job {jobs}  {time.perf_counter() - t0:6.1f} s", end="", file=sys.stderr, flush=True)
        code = proc.wait()
    elapsed = time.perf_counter() - t0
    print(f"\r  {name}: {jobs} jobs, {elapsed:.1f} s, {'ok' if code == 0 else f'exit {code}'}" + " " * 10,
          file=sys.stderr)
    return code, elapsed, str(sweep / "report" / "report.md")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = []
    if "--" in argv:
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1:]
    ap = argparse.ArgumentParser(prog="python -m layerplan.experiments.reproduce", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("experiments", nargs="*", help=f"default: all of {', '.join(EXPERIMENTS)}")
    ap.add_argument("--out", default="reports", help="report folder (default: reports)")
    args = ap.parse_args(argv)
    names = args.experiments or list(EXPERIMENTS)
    unknown = [n for n in names if n not in EXPERIMENTS]
    if unknown:
        print(f"layerplan: error: unknown experiment(s) {', '.join(unknown)} (known: {', '.join(EXPERIMENTS)})",
              file=sys.stderr)
        return 2
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    lines = ["# layerplan: reproduced thesis tables and figures", "",
             "| experiment | status | time (s) | report | claims not holding |", "|---|---|---|---|---|"]
    failed = 0
    for name in names:
        code, elapsed, report = run_one(name, out, extra)
        failed += code != 0
        misses = []
        if Path(report).is_file():
            misses = [ln for ln in Path(report).read_text().splitlines() if ln.startswith("- **does not hold**")]
        rel = Path(report).relative_to(out) if Path(report).is_file() else "(none)"
        lines.append(f"| {name} | {'ok' if code == 0 else f'exit {code}'} | {elapsed:.1f} | {rel} | {len(misses)} |")
    lines += ["", f"total: {time.perf_counter() - t0:.1f} s"]
    (out / "README.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
