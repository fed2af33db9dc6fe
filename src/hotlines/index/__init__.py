"""The 4G composite index of the 2024 worldwide hotline report, rebuilt transparently.

- :mod:`~hotlines.index.spec`: the declarative spec ``data/index_4g.yaml`` (levels,
  published and assumed weights, types, directions, methods) and its checks;
- :mod:`~hotlines.index.inputs`: the coded city data ``data/index_4g_inputs.csv``,
  each value with source, locator, verbatim quote and evidence grade;
- :mod:`~hotlines.index.composite`: :class:`CompositeIndex`, one object with spec,
  data, settings, results and log; :func:`compare` of two versions;
- :mod:`~hotlines.index.validation`: the rebuild against every statistic the report states;
- :mod:`~hotlines.index.uncertainty`: vectorised Monte Carlo of ranks and Sobol indices (simulated);
- :mod:`~hotlines.index.clustering`: k-means and Ward clusters against the report's four, by ARI;
- :mod:`~hotlines.index.figures`: the chapter's figures; :mod:`~hotlines.index.cli`: ``hotlines index``.

>>> from hotlines.index import CompositeIndex, compare
>>> idx = CompositeIndex()                       # the report's method on the coded evidence
>>> worst = idx.with_(imputation="worst")        # 'not mentioned' read as 'not present'
>>> table = compare(idx, worst)
>>> set(table["level"]) >= {"total", "process_governance"}
True
"""

from .clustering import (adjusted_rand_index, ari_permutation_test, cluster_cities, cluster_cross_table,
                         compare_clusters)
from .composite import CompositeIndex, Settings, compare, rank_totals
from .inputs import InputsError, input_coverage, load_inputs, validate_inputs
from .spec import IndexSpec, SpecError, check_spec_quotes, load_spec, parse_spec
from .uncertainty import MonteCarloResult, monte_carlo, sobol_indices
from .validation import compare_with_report

__all__ = [
    "CompositeIndex", "Settings", "compare", "rank_totals",
    "IndexSpec", "SpecError", "load_spec", "parse_spec", "check_spec_quotes",
    "InputsError", "load_inputs", "validate_inputs", "input_coverage",
    "compare_with_report",
    "MonteCarloResult", "monte_carlo", "sobol_indices",
    "adjusted_rand_index", "ari_permutation_test", "cluster_cities", "compare_clusters", "cluster_cross_table",
]
