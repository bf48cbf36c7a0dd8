"""Paper-table experiments: Hydra multiruns (conf/experiment/*.yaml) and their reports.

Each experiment module exposes ``NAME``, ``TITLE`` and ``build(records, out_dir)``,
which turns the result records of a sweep into ``report.md``, CSV and PNG files beside
the published values, with one line per qualitative claim of the thesis.
"""

#: The thesis' tables and figures (Ch. 6-9): what ``python -m layerplan.experiments.reproduce`` runs.
THESIS_EXPERIMENTS = ("table6_2", "fig6_2", "fig6_3", "fig6_4", "table7_1", "table7_2", "table7_3", "table8_2",
                      "table8_3", "table8_4", "fig8_3", "fig8_4", "fig8_5", "table9_1", "table9_2", "fig9_3")
#: Every sweep experiment with a report, the neighbouring systems included (``reproduce --all``).
EXPERIMENTS = THESIS_EXPERIMENTS + ("donna_pareto", "hidist_tiers")
