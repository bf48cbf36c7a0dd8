"""Bundle profiling (thesis Sec. 4.4, Ch. 7 DIME, Sec. 8.2): measure t^c[i, j, d].

* :mod:`layerplan.profiling.core`: framework-agnostic timing, the trimmed mean, bundle
  enumeration, resumable CSV writing (no torch).
* :mod:`layerplan.profiling.torch_bundles`: torchvision models as per-bundle
  ``nn.Sequential`` chains, synthetic inputs, CPU threads / CUDA events (torch imported
  lazily).
* ``python -m layerplan.profiling``: the command line (``docs/profiling.md``).

The tables written here are read by :mod:`layerplan.profiles`.
"""

from layerplan.profiling.core import (
    COLUMNS,
    STATISTIC,
    bundle_count,
    bundles,
    profile_bundles,
    read_profile,
    trimmed_mean,
    write_profile,
)

__all__ = [
    "COLUMNS",
    "STATISTIC",
    "bundle_count",
    "bundles",
    "profile_bundles",
    "read_profile",
    "trimmed_mean",
    "write_profile",
]
