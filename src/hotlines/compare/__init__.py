"""Cross-city comparisons with small-n methods.

- :mod:`~hotlines.compare.measures`: resolution and satisfaction measures harmonised
  from the evidence base, each value graded A/B/C for comparability, one per city and
  measure by a stated rule;
- :mod:`~hotlines.compare.smalln`: permutation tests (exact or Monte Carlo),
  bootstrap intervals (percentile, BCa), Spearman and Kendall with permutation
  p-values, simulated power;
- :mod:`~hotlines.compare.performance`: one long table of harmonised measures and
  rebuilt 4G scores;
- :mod:`~hotlines.compare.context`: sourced GDP and exchange rates
  (``data/city_context.csv``), conversion to US dollars;
- :mod:`~hotlines.compare.scale`: the report's claim that population, not GDP, goes
  with hotline performance;
- :mod:`~hotlines.compare.bymode`: performance by collaboration mode, with and
  without the low-comparability rows;
- :mod:`~hotlines.compare.figures`: the chapter's figures.

>>> from hotlines import data
>>> from hotlines.compare import harmonised_measures
>>> m = harmonised_measures(data.indicators(), data.cities())
>>> sorted(set(m["grade"]))
['A', 'B', 'C']
"""

from .bymode import ModeComparison, compare_by_mode, compare_by_mode_variants, default_coders, mode_table
from .context import CityContextError, check_city_context, choose_gdp, gdp_in_usd, load_city_context
from .measures import MEASURES, SUBSETS, Measure, grade_counts, harmonised_measures, measure_candidates
from .performance import index_scores, performance_table
from .scale import CLAIM, power_statement, scale_table, urban_scale_test, urban_scale_tests
from .smalln import (bootstrap_ci, minimum_detectable_correlation, pairwise_permutation_tests, permutation_test,
                     power_curve, rank_correlation)

__all__ = [
    "Measure", "MEASURES", "SUBSETS", "harmonised_measures", "measure_candidates", "grade_counts",
    "permutation_test", "pairwise_permutation_tests", "bootstrap_ci", "rank_correlation", "power_curve",
    "minimum_detectable_correlation",
    "index_scores", "performance_table",
    "CityContextError", "check_city_context", "load_city_context", "gdp_in_usd", "choose_gdp",
    "CLAIM", "scale_table", "urban_scale_test", "urban_scale_tests", "power_statement",
    "ModeComparison", "default_coders", "mode_table", "compare_by_mode", "compare_by_mode_variants",
]
