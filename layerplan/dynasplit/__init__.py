"""DynaSplit (May et al., arXiv:2410.23881) on its published measurements: data loader (``data``), device modes
and their chain ILP (``modes``), the pool as profiles (``loader``), Pareto fronts (``pareto``), the NSGA-III
baseline (``nsga``, optional Optuna), online strategies and the simulator (``online``), studies (``analysis``)
and ``run.py`` jobs (``runner``). See docs/dynasplit.md."""
