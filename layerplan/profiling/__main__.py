"""``python -m layerplan.profiling``: profile every bundle of a torchvision model.

Example (one CPU thread, all 36 AlexNet bundles, 100 runs each)::

    python -m layerplan.profiling --model alexnet --granularity major --device-label cpu_t1 \\
        --threads 1 --runs-per-input 5 --inputs 20 --mbs 8 --out data/profiles/cpu/alexnet_cpu_t1.csv

Re-running the same command resumes: bundles already in ``--out`` are skipped.
``--estimate`` only prints a rough profiling time. Without torch the command prints
one error line and exits with status 2.
"""

from __future__ import annotations

import argparse
import sys

from layerplan.errors import LayerplanError
from layerplan.profiling import core


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m layerplan.profiling", description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, help="torchvision model: alexnet, vgg11, vgg16")
    p.add_argument("--granularity", default="major", choices=("major", "module"))
    p.add_argument("--device-label", help="device name written in the table (e.g. cpu_t1)")
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (CPU); default 1")
    p.add_argument("--runs-per-input", type=int, default=5, help="passes over the inputs (default 5)")
    p.add_argument("--inputs", type=int, default=20, help="number of synthetic images (default 20)")
    p.add_argument("--warmup", type=int, default=3, help="untimed calls per bundle before timing (default 3)")
    p.add_argument("--mbs", type=int, default=None, help="maximum bundle size (default: all bundles)")
    p.add_argument("--bundles", default=None, help="explicit bundles, e.g. '1-3,4-4' (overrides --mbs)")
    p.add_argument("--out", help="profile CSV to write or resume")
    p.add_argument("--cuda", action="store_true", help="run on the GPU, time with CUDA events")
    p.add_argument("--seed", type=int, default=0, help="seed of the weights and synthetic inputs")
    p.add_argument("--description", default=None, help="text of the '# description:' line")
    p.add_argument("--runs-note", default="", help="text appended to the '# runs:' line")
    p.add_argument("--remeasure-spread", type=float, default=None, metavar="R",
                   help="when resuming, measure again the bundles whose spread_s > R x latency_s")
    p.add_argument("--remeasure", default=None, metavar="BUNDLES",
                   help="when resuming, measure these bundles again, e.g. '1-1,3-5'")
    p.add_argument("--max-foreign-load", type=float, default=0.3, metavar="CORES",
                   help="time a bundle again when other processes used more than this many cores meanwhile "
                        "(/proc/stat; default 0.3; negative: off)")
    p.add_argument("--retries", type=int, default=3, help="extra attempts per bundle under contention (default 3)")
    p.add_argument("--quiet-wait", type=float, default=60.0, metavar="S",
                   help="before timing a bundle, wait up to S seconds for other processes to go below "
                        "--max-foreign-load (default 60)")
    p.add_argument("--estimate", action="store_true", help="only estimate the profiling time and exit")
    p.add_argument("--quiet", action="store_true", help="no per-bundle progress lines")
    p.add_argument("--power", default="none", choices=("none", "nvml", "rapl"),
                   help="record energy per run: GPU power via NVML or CPU package energy via RAPL (Sec. 8.2)")
    p.add_argument("--frequency-MHz", type=float, default=None, metavar="F",
                   help="pin the device to F MHz while profiling (needs --frequency-control; restored afterwards)")
    p.add_argument("--frequency-control", default=None, choices=("cpufreq", "nvpmodel"),
                   help="how to pin the frequency: Linux cpufreq or Jetson nvpmodel/devfreq (needs root)")
    p.add_argument("--cpus", default="all", help="CPUs pinned by cpufreq, e.g. '0,1' (default all)")
    return p


def power_source(name: str):
    """The power source named on the command line, refusing clearly when it cannot be read."""
    if name == "none":
        return None
    from layerplan.profiling import power as pw

    src = pw.NvmlPower() if name == "nvml" else pw.RaplPower()
    if not src.available():
        raise LayerplanError(f"power source {name!r} is not readable on this machine", source="profiling",
                             field="--power")
    return src


def frequency_control(args):
    """A context manager that pins the frequency (or does nothing)."""
    import contextlib

    if args.frequency_MHz is None:
        return contextlib.nullcontext(None)
    if args.frequency_control is None:
        raise LayerplanError("--frequency-MHz needs --frequency-control cpufreq|nvpmodel", source="profiling",
                             field="--frequency-control")
    from layerplan.profiling import frequency as fq

    if args.frequency_control == "cpufreq":
        cpus = "all" if args.cpus == "all" else [int(c) for c in args.cpus.split(",") if c.strip()]
        ctl = fq.CpufreqControl(cpus)
    else:
        ctl = fq.NvpmodelControl()
    ctl.check()  # refuses with one line (no cpufreq, not root, no nvpmodel) before anything changes
    return ctl


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        from layerplan.profiling import torch_bundles as tb

        tb.require_torch()
        if args.estimate:
            est = tb.estimate(args.model, args.granularity, threads=args.threads, runs_per_input=args.runs_per_input,
                              n_inputs=args.inputs, warmup=args.warmup, mbs=args.mbs, cuda=args.cuda,
                              seed=args.seed)
            print(
                f"{args.model} {args.granularity}: full network {est['full_network_s']:.4g} s, "
                f"sum of single layers {est['sum_single_layers_s']:.4g} s, {est['bundles']} bundles, "
                f"estimated profiling time {est['estimated_profiling_s']:.0f} s"
            )
            return 0
        if not args.out or not args.device_label:
            raise LayerplanError("--out and --device-label are required (unless --estimate)", source="profiling",
                                 field="args")
        bundle_list, remeasure = None, []
        if args.bundles or args.remeasure:
            n = len(core.read_layer_table(args.model, args.granularity))
            bundle_list = core.parse_bundle_spec(args.bundles, n) if args.bundles else None
            remeasure = core.parse_bundle_spec(args.remeasure, n) if args.remeasure else []
        power = power_source(args.power)
        with frequency_control(args) as ctl:
            pinned = None
            if ctl is not None:
                pinned = ctl.pin(args.frequency_MHz * 1e6)
            tb.profile_model(
                args.model, args.granularity, device_label=args.device_label, out=args.out,
                threads=None if args.cuda and args.threads is None else args.threads,
                runs_per_input=args.runs_per_input, n_inputs=args.inputs, warmup=args.warmup, mbs=args.mbs,
                bundle_list=bundle_list, cuda=args.cuda, seed=args.seed, description=args.description,
                runs_note=args.runs_note, progress=not args.quiet, remeasure_spread=args.remeasure_spread,
                remeasure=remeasure,
                max_foreign_load=None if args.max_foreign_load < 0 else args.max_foreign_load, retries=args.retries,
                quiet_wait_s=args.quiet_wait, power=power, frequency_Hz=pinned,
                frequency_note=None if ctl is None else ctl.describe(),
            )
    except LayerplanError as exc:
        print(f"layerplan: error: {exc.one_line()}", file=sys.stderr)
        return exc.exit_code
    except ValueError as exc:
        print(f"layerplan: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
