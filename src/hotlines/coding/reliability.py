"""Inter-coder reliability of the coded corpus: Krippendorff's α, Cohen's and Fleiss' κ,
percent agreement, seeded bootstrap intervals, and a disagreement table.

Engines: the ``krippendorff`` package computes α; ``statsmodels`` computes Cohen's κ
(``cohens_kappa``) and Fleiss' κ (``fleiss_kappa`` on ``aggregate_raters`` counts).
This module builds the reliability data, handles the degenerate cases and resamples.

Units of analysis
-----------------
Coders may apply any number of codes to a segment (a multi-label design), so "which
code did the coder give the segment" is not one nominal value. The units are:

``variable="presence"`` (the default)
    One binary unit per (segment, code): did the coder apply the code (1) or not (0)?
    Every code of the codebook is a decision every coder made about every segment
    they coded (the coding rules say "apply every code that fits"), so absence is a
    judgement and counts. Scopes:

    - ``code``: the units of one code (one per segment);
    - ``dimension``: the units of every code of the dimension, pooled;
    - ``overall``: the units of every code of the codebook, pooled.

    Pooled scopes include codes nobody applied: they are agreements on absence and
    lower the prevalence that every row reports. A code nobody applied has no
    variation, so its α and κ are undefined (0/0) and reported as NaN with a reason.
``variable="pole"``
    One nominal unit per (segment, dimension): the pole the coder's codes of that
    dimension give the segment, ``absent`` (no code of the dimension), ``neutral``
    (only neutral codes), ``vertical``, ``horizontal`` (codes of one pole, neutral
    ones aside) or ``mixed`` (codes of both poles). Scopes ``dimension`` and
    ``overall``. This is the variable the city-mode scoring reads.
``variable="code_set"``
    One nominal unit per (segment, dimension): the exact set of codes the coder gave
    in the dimension (``absent`` if none). The strictest reading: any difference in
    the set is a disagreement.

Which segments: the reliability data are the segments coded by *every* selected coder
(a complete design), so that α, both κ and percent agreement rest on the same units.
Segments coded by only some of the coders are excluded and counted
(``n_segments_excluded``; :func:`reliability_design` lists them with the reason).

Measures (every one in [-1, 1] except percent agreement, a proportion in [0, 1]):
``krippendorff_alpha`` (nominal by default), ``cohen_kappa`` (exactly two coders),
``fleiss_kappa`` (two or more; with two coders it is Scott's π), and
``percent_agreement``: the mean over units of the share of agreeing coder pairs (for
two coders, the share of units on which they agree). ``prevalence`` is the share of
ratings that are positive (``applied``) for a binary variable, or the share of the
most frequent value, named in ``prevalence_of``, otherwise: chance-corrected measures
behave badly when it is near 0 or 1 (the "kappa paradox").

Confidence intervals are percentile bootstrap intervals: resample the segments with
replacement (a segment brings all its units, so pooled scopes are resampled by
cluster), ``n_boot`` times (default 1000), recompute every measure, take the
``(1 - ci) / 2`` and ``(1 + ci) / 2`` quantiles. One ``seed`` draws one set of
resamples shared by every scope and measure, so a table is reproducible bit for bit.
Replicates in which a measure is undefined (no variation in the resample) are left
out of its interval and counted (``n_boot_valid``).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import krippendorff
import numpy as np
import pandas as pd
from statsmodels.stats.inter_rater import aggregate_raters, cohens_kappa, fleiss_kappa

from .codebook import Codebook
from .queries import NONE_CODE, _select_coders, check_codings, check_segments, split_ids

MEASURES = ("krippendorff_alpha", "cohen_kappa", "fleiss_kappa", "percent_agreement")
LEVELS = ("nominal", "ordinal", "interval", "ratio")
VARIABLES = ("presence", "pole", "code_set")

#: The values of the ``pole`` variable.
POLE_VALUES = ("absent", "neutral", "vertical", "horizontal", "mixed")

RESULT_COLUMNS = [
    "measure",
    "level",
    "estimate",
    "ci_low",
    "ci_high",
    "ci_level",
    "n_units",
    "n_coders",
    "prevalence",
    "prevalence_of",
    "n_boot",
    "n_boot_valid",
    "ci_method",
    "reason",
]


# --------------------------------------------------------------------------- the engine


@dataclass
class _Block:
    """Rows of one unit subset, sorted by cluster, with each cluster's start and size."""

    rows: np.ndarray
    starts: np.ndarray
    sizes: np.ndarray

    @classmethod
    def of(cls, mask: np.ndarray, clusters: np.ndarray, n_clusters: int) -> "_Block":
        chosen = np.flatnonzero(mask)
        chosen = chosen[np.argsort(clusters[chosen], kind="stable")]
        sizes = np.bincount(clusters[chosen], minlength=n_clusters)
        starts = np.cumsum(sizes) - sizes
        return cls(chosen, starts, sizes)

    def resample(self, cluster_index: np.ndarray) -> np.ndarray:
        """The unit rows of the resampled clusters (a cluster drawn twice comes twice)."""
        sizes = self.sizes[cluster_index]
        total = int(sizes.sum())
        before = np.cumsum(sizes) - sizes
        offsets = np.repeat(self.starts[cluster_index] - before, sizes)
        return self.rows[offsets + np.arange(total)]


def _value_counts(codes: np.ndarray, n_values: int) -> np.ndarray:
    """units x values: how many coders gave each value (missing = -1 is not counted)."""
    counts = np.zeros((codes.shape[0], n_values), dtype=np.int64)
    for column in codes.T:
        present = column >= 0
        np.add.at(counts, (np.flatnonzero(present), column[present]), 1)
    return counts


def _quiet(function, *args, **kwargs):
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return function(*args, **kwargs)


class _Reliability:
    """Reliability data of one scope: units x coders value indices, with cluster ids.

    Point estimates always go through the engines (``krippendorff.alpha``,
    ``statsmodels``). Bootstrap replicates go through them too for ordinal, interval
    and ratio α; for the nominal level they are computed for all resamples at once
    from per-cluster sufficient statistics (coincidence matrices, contingency tables,
    category totals), which are additive over units. The formulas are the engines'
    own, and the test suite checks that both routes give the same replicates.
    """

    def __init__(self, codes: np.ndarray, clusters: np.ndarray, n_clusters: int, domain: np.ndarray, level: str):
        self.codes = codes
        self.clusters = clusters
        self.n_clusters = n_clusters
        self.n_coders = codes.shape[1]
        self.domain = domain
        self.n_values = len(domain)
        self.level = level
        self.counts = _value_counts(codes, self.n_values)
        self.rated = self.counts.sum(axis=1)
        self.pairable = _Block.of(self.rated >= 2, clusters, n_clusters)
        self.complete = _Block.of(self.rated == self.n_coders, clusters, n_clusters)
        if self.n_coders >= 2 and len(self.complete.rows):
            # statsmodels' own conversion of subjects x raters to subjects x category counts
            self.complete_counts, _ = aggregate_raters(codes[self.complete.rows], n_cat=self.n_values)
        else:
            self.complete_counts = np.zeros((0, self.n_values), dtype=np.int64)
        self.complete_position = np.full(len(codes), -1)
        self.complete_position[self.complete.rows] = np.arange(len(self.complete.rows))
        self.pair_codes = codes[:, 0] * self.n_values + codes[:, 1] if self.n_coders == 2 else None
        self.alpha_domain = domain if level in ("interval", "ratio") else np.arange(self.n_values)

    # --- the engines, on a set of unit rows; each returns (estimate, reason), reason "" when defined

    def krippendorff_alpha(self, rows: np.ndarray) -> tuple[float, str]:
        counts = self.counts[rows]
        if len(counts) == 0:
            return np.nan, "no unit rated by two or more coders"
        used = np.flatnonzero(counts.sum(axis=0))
        if len(used) < 2:
            return np.nan, _no_variation(self.domain[used])
        value = _quiet(krippendorff.alpha, value_counts=counts, value_domain=self.alpha_domain, level_of_measurement=self.level)
        return float(value), ""

    def percent_agreement(self, rows: np.ndarray) -> tuple[float, str]:
        counts = self.counts[rows]
        if len(counts) == 0:
            return np.nan, "no unit rated by two or more coders"
        rated = counts.sum(axis=1)
        agreeing_pairs = (counts * (counts - 1)).sum(axis=1)
        return float(np.mean(agreeing_pairs / (rated * (rated - 1)))), ""

    def fleiss_kappa(self, rows: np.ndarray) -> tuple[float, str]:
        if self.n_coders < 2:
            return np.nan, "fewer than two coders"
        table = self.complete_counts[self.complete_position[rows]]
        if len(table) == 0:
            return np.nan, "no unit rated by every coder"
        used = np.flatnonzero(table.sum(axis=0))
        if len(used) < 2:
            return np.nan, _no_variation(self.domain[used])
        return float(_quiet(fleiss_kappa, table, method="fleiss")), ""

    def cohen_kappa(self, rows: np.ndarray) -> tuple[float, str]:
        if self.n_coders != 2:
            return np.nan, f"Cohen's kappa needs exactly two coders ({self.n_coders} here); see fleiss_kappa"
        pairs = self.pair_codes[rows]
        if len(pairs) == 0:
            return np.nan, "no unit rated by both coders"
        table = np.bincount(pairs, minlength=self.n_values**2).reshape(self.n_values, self.n_values)
        used = np.flatnonzero(table.sum(axis=0) + table.sum(axis=1))
        if len(used) < 2:
            return np.nan, _no_variation(self.domain[used])
        return float(_quiet(cohens_kappa, table, return_results=False)), ""

    def rows_for(self, measure: str, cluster_index: np.ndarray | None = None) -> np.ndarray:
        block = self.pairable if measure in ("krippendorff_alpha", "percent_agreement") else self.complete
        return block.rows if cluster_index is None else block.resample(cluster_index)

    def estimate(self, measure: str) -> tuple[float, str]:
        return getattr(self, measure)(self.rows_for(measure))

    # --- bootstrap replicates

    def replicates_engine(self, measure: str, boot_index: np.ndarray) -> np.ndarray:
        """Every resample through the engine: exact for every level, slow for large scopes."""
        estimator = getattr(self, measure)
        return np.array([estimator(self.rows_for(measure, index))[0] for index in boot_index], dtype=float)

    def replicates(self, measure: str, boot_index: np.ndarray) -> np.ndarray:
        if self.level != "nominal":
            return self.replicates_engine(measure, boot_index)
        weights = np.stack([np.bincount(index, minlength=self.n_clusters) for index in boot_index]).astype(np.int64)
        return getattr(self, f"_fast_{measure}")(weights)

    def _per_cluster(self, rows: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Sum ``values`` (one row per unit in ``rows``) within each cluster: clusters x ...."""
        out = np.zeros((self.n_clusters, *values.shape[1:]), dtype=values.dtype)
        np.add.at(out, self.clusters[rows], values)
        return out

    def _fast_krippendorff_alpha(self, weights: np.ndarray) -> np.ndarray:
        rows = self.pairable.rows
        counts, rated = self.counts[rows], self.rated[rows]
        # exact integers: each unit's coincidences n n' - diag(n) over (m_u - 1), scaled by a common multiple
        scale = int(np.lcm.reduce(np.unique(rated - 1))) if len(rows) else 1
        unit = counts[:, :, None] * counts[:, None, :] - counts[:, :, None] * np.eye(self.n_values, dtype=np.int64)[None]
        unit = unit * (scale // (rated - 1))[:, None, None]
        coincidences = (weights @ self._per_cluster(rows, unit).reshape(self.n_clusters, -1)).reshape(len(weights), self.n_values, self.n_values)
        totals = coincidences.sum(axis=2) / scale
        n = totals.sum(axis=1)
        agreeing = np.trace(coincidences, axis1=1, axis2=2) / scale
        with np.errstate(divide="ignore", invalid="ignore"):
            alpha = 1 - (n - 1) * (n - agreeing) / (n**2 - (totals**2).sum(axis=1))
        return np.where((totals > 0).sum(axis=1) >= 2, alpha, np.nan)

    def _fast_percent_agreement(self, weights: np.ndarray) -> np.ndarray:
        rows = self.pairable.rows
        counts, rated = self.counts[rows], self.rated[rows]
        denominators = rated * (rated - 1)
        scale = int(np.lcm.reduce(np.unique(denominators))) if len(rows) else 1
        shares = (counts * (counts - 1)).sum(axis=1) * (scale // denominators)
        agreeing = weights @ self._per_cluster(rows, shares)
        n_units = weights @ self._per_cluster(rows, np.ones(len(rows), dtype=np.int64))
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(n_units > 0, agreeing / scale / n_units, np.nan)

    def _fast_fleiss_kappa(self, weights: np.ndarray) -> np.ndarray:
        if self.n_coders < 2:
            return np.full(len(weights), np.nan)
        rows, table = self.complete.rows, self.complete_counts
        m = self.n_coders
        categories = weights @ self._per_cluster(rows, table.astype(np.int64))
        agreeing = weights @ self._per_cluster(rows, (table * table).sum(axis=1) - m)
        n_units = categories.sum(axis=1) / m
        with np.errstate(divide="ignore", invalid="ignore"):
            shares = categories / (n_units * m)[:, None]
            observed = agreeing / (n_units * m * (m - 1))
            expected = (shares**2).sum(axis=1)
            kappa = (observed - expected) / (1 - expected)
        return np.where((categories > 0).sum(axis=1) >= 2, kappa, np.nan)

    def _fast_cohen_kappa(self, weights: np.ndarray) -> np.ndarray:
        if self.n_coders != 2:
            return np.full(len(weights), np.nan)
        rows = self.complete.rows
        cells = np.zeros((len(rows), self.n_values**2), dtype=np.int64)
        cells[np.arange(len(rows)), self.pair_codes[rows]] = 1
        tables = (weights @ self._per_cluster(rows, cells)).reshape(len(weights), self.n_values, self.n_values)
        n = tables.sum(axis=(1, 2))
        with np.errstate(divide="ignore", invalid="ignore"):
            observed = np.trace(tables, axis1=1, axis2=2) / n
            expected = (tables.sum(axis=2) * tables.sum(axis=1)).sum(axis=1) / n**2
            kappa = (observed - expected) / (1 - expected)
        used = ((tables.sum(axis=2) + tables.sum(axis=1)) > 0).sum(axis=1)
        return np.where(used >= 2, kappa, np.nan)

    def prevalence(self, positive) -> tuple[float, str]:
        counts = self.counts[self.pairable.rows].sum(axis=0)
        if counts.sum() == 0:
            return np.nan, "" if positive is None else _label(positive)
        if positive is None:
            index = int(np.argmax(counts))
        else:
            matches = np.flatnonzero(self.domain == positive)
            if len(matches) == 0:
                return 0.0, _label(positive)
            index = int(matches[0])
        return float(counts[index] / counts.sum()), _label(self.domain[index])


def _label(value) -> str:
    """A value as text: 1.0 (a number that pandas stored as float because of missing cells) reads 1."""
    value = value.item() if isinstance(value, np.generic) else value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _no_variation(values) -> str:
    shown = ", ".join(_label(v) for v in values) or "none"
    return f"no variation: every rating has the same value ({shown}); chance-corrected agreement is undefined (0/0)"


def _seed_label(seed) -> str:
    return "a numpy Generator" if isinstance(seed, np.random.Generator) else f"seed {seed}"


def _evaluate(
    data: _Reliability,
    measures: Sequence[str],
    boot_index: np.ndarray | None,
    ci: float,
    positive,
    ci_method: str,
) -> list[dict]:
    prevalence, prevalence_of = data.prevalence(positive)
    out = []
    for measure in measures:
        rows = data.rows_for(measure)
        estimate, reason = data.estimate(measure)
        if data.n_coders < 2:
            reason = "fewer than two coders"
        low = high = np.nan
        n_valid = 0
        n_boot = 0 if boot_index is None else len(boot_index)
        if n_boot and not np.isnan(estimate):
            replicates = data.replicates(measure, boot_index)
            valid = replicates[~np.isnan(replicates)]
            n_valid = len(valid)
            if n_valid:
                low, high = np.quantile(valid, [(1 - ci) / 2, (1 + ci) / 2])
            if n_valid < n_boot:
                reason = (
                    f"{n_boot - n_valid} of {n_boot} bootstrap resamples had no variation "
                    "(measure undefined) and are left out of the interval"
                )
        out.append(
            {
                "measure": measure,
                "level": data.level if measure == "krippendorff_alpha" else "nominal",
                "estimate": estimate,
                "ci_low": float(low),
                "ci_high": float(high),
                "ci_level": ci if n_boot else np.nan,
                "n_units": len(rows),
                "n_coders": data.n_coders,
                "prevalence": prevalence,
                "prevalence_of": prevalence_of,
                "n_boot": n_boot,
                "n_boot_valid": n_valid,
                "ci_method": ci_method if n_boot else "none",
                "reason": reason,
            }
        )
    return out


def _check_options(measures: Sequence[str], level: str, n_boot: int, ci: float) -> None:
    unknown = [m for m in measures if m not in MEASURES]
    if unknown:
        raise ValueError(f"unknown measure(s) {unknown}; choose from {MEASURES}")
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, not {level!r}")
    if int(n_boot) != n_boot or n_boot < 0:
        raise ValueError(f"n_boot must be a non-negative integer, not {n_boot!r}")
    if not 0 < ci < 1:
        raise ValueError(f"ci must be between 0 and 1, not {ci!r}")


def _boot_index(seed, n_boot: int, n_clusters: int) -> np.ndarray | None:
    if n_boot == 0 or n_clusters == 0:
        return None
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return rng.integers(0, n_clusters, size=(n_boot, n_clusters))


def _missing(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))


def agreement(
    ratings: pd.DataFrame,
    *,
    level: str = "nominal",
    value_domain: Sequence | None = None,
    positive=None,
    measures: Sequence[str] = MEASURES,
    n_boot: int = 1000,
    seed: int | np.random.Generator | None = 0,
    ci: float = 0.95,
    clusters: Sequence | None = None,
) -> pd.DataFrame:
    """Agreement of coders on one variable: one row per measure.

    ``ratings`` is a units x coders table (one column per coder); a missing cell (NaN,
    None) means the coder did not rate the unit. α uses every unit rated by two or more
    coders (missing data allowed); Fleiss' and Cohen's κ use the units rated by every
    coder. ``value_domain`` orders the values (needed for an ``ordinal`` level on
    strings); ``interval`` and ``ratio`` need numbers. ``positive`` names the value
    whose share is reported as ``prevalence`` (default: 1 for 0/1 data, else the most
    frequent value). ``clusters`` (one label per unit) makes the bootstrap resample
    clusters of units instead of units. ``n_boot=0`` skips the intervals; ``seed=None``
    draws fresh entropy (not reproducible).

    Columns: ``measure``, ``level``, ``estimate``, ``ci_low``, ``ci_high``,
    ``ci_level``, ``n_units``, ``n_coders``, ``prevalence``, ``prevalence_of``,
    ``n_boot``, ``n_boot_valid``, ``ci_method``, ``reason`` (why an estimate is NaN, or
    a note on the interval; empty otherwise).

    Krippendorff's (2011) worked example, 4 observers x 12 units with missing values:

    >>> import numpy as np, pandas as pd
    >>> nan = np.nan
    >>> data = pd.DataFrame({"A": [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
    ...                      "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
    ...                      "C": [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
    ...                      "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan]})
    >>> t = agreement(data, measures=["krippendorff_alpha"], n_boot=0)
    >>> round(float(t.loc[0, "estimate"]), 3), int(t.loc[0, "n_units"])
    (0.743, 11)
    """
    _check_options(measures, level, n_boot, ci)
    data, domain = _ratings_data(ratings, level, value_domain, clusters)
    if positive is None and set(domain) <= {0, 1} and len(domain) == 2:
        positive = 1
    word = "units" if clusters is None else "clusters of units"
    method = f"percentile bootstrap: {n_boot} resamples of {word} with replacement, {_seed_label(seed)}"
    rows = _evaluate(data, measures, _boot_index(seed, n_boot, data.n_clusters), ci, positive, method)
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


def bootstrap_replicates(
    ratings: pd.DataFrame,
    *,
    level: str = "nominal",
    value_domain: Sequence | None = None,
    measures: Sequence[str] = MEASURES,
    n_boot: int = 1000,
    seed: int | np.random.Generator | None = 0,
    clusters: Sequence | None = None,
) -> pd.DataFrame:
    """The bootstrap distribution behind :func:`agreement`'s intervals (same arguments, same seed).

    One row per (resample, measure): ``replicate`` (0-based), ``measure``,
    ``estimate`` (NaN where the measure is undefined in that resample) and ``kind``,
    always ``"bootstrap resample"``: these are resampled values, not observations.

    >>> import pandas as pd
    >>> r = pd.DataFrame({"a": [0, 1, 1, 0, 1], "b": [0, 1, 0, 0, 1]})
    >>> reps = bootstrap_replicates(r, measures=["percent_agreement"], n_boot=3, seed=1)
    >>> reps.columns.tolist(), len(reps)
    (['replicate', 'measure', 'estimate', 'kind'], 3)
    """
    _check_options(measures, level, n_boot, 0.95)
    data, _ = _ratings_data(ratings, level, value_domain, clusters)
    boot_index = _boot_index(seed, n_boot, data.n_clusters)
    frames = []
    for measure in measures:
        values = data.replicates(measure, boot_index) if boot_index is not None else np.array([])
        frames.append(pd.DataFrame({"replicate": np.arange(len(values)), "measure": measure, "estimate": values}))
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["replicate", "measure", "estimate"])
    out["kind"] = "bootstrap resample"
    return out


def _ratings_data(ratings: pd.DataFrame, level: str, value_domain, clusters) -> tuple[_Reliability, list]:
    """A units x coders table as reliability data: value indices over an ordered domain, and cluster ids."""
    values = ratings.to_numpy(dtype=object)
    present = np.array([[not _missing(v) for v in row] for row in values], dtype=bool).reshape(values.shape)
    observed = list(dict.fromkeys(values[present].tolist()))
    if value_domain is None:
        try:
            domain = sorted(observed)
        except TypeError as error:
            raise ValueError(f"ratings mix values that cannot be ordered ({error}); pass value_domain") from error
    else:
        domain = list(value_domain)
        outside = [v for v in observed if v not in domain]
        if outside:
            raise ValueError(f"ratings hold values outside value_domain: {outside[:5]}")
    numeric = all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in domain)
    if level in ("interval", "ratio") and not numeric:
        raise ValueError(f"level '{level}' needs numeric ratings; got {domain[:5]}")
    domain_array = np.array(domain, dtype=float if numeric else object) if domain else np.array([], dtype=float)
    index = {v: i for i, v in enumerate(domain)}
    codes = np.full(values.shape, -1, dtype=np.int64)
    for (i, j) in zip(*np.nonzero(present)):
        codes[i, j] = index[values[i, j]]
    if clusters is None:
        cluster_ids = np.arange(len(codes))
    else:
        if len(clusters) != len(codes):
            raise ValueError(f"clusters has {len(clusters)} labels for {len(codes)} units")
        cluster_ids = pd.factorize(pd.Series(list(clusters)))[0]
    n_clusters = int(cluster_ids.max()) + 1 if len(cluster_ids) else 0
    return _Reliability(codes, cluster_ids, n_clusters, domain_array, level), domain


# --------------------------------------------------------------------------- the coded corpus


def _selected_coders(codings: pd.DataFrame, coders) -> list[str]:
    frame = _select_coders(codings, coders)
    if coders is None:
        return sorted(set(frame["coder"]))
    return [coders] if isinstance(coders, str) else list(dict.fromkeys(str(c) for c in coders))


def reliability_design(codings: pd.DataFrame, coders=None) -> pd.DataFrame:
    """Which segments enter the reliability data, and why the others do not.

    One row per segment coded by at least one selected coder: ``segment_id``,
    ``coded_by`` (``;``-joined), ``n_coders``, ``included`` (coded by every selected
    coder, and at least two are selected) and ``reason`` (empty when included).

    >>> import pandas as pd
    >>> c = pd.DataFrame({"segment_id": ["S1", "S1", "S2"], "coder": ["a", "b", "a"], "code": ["none"] * 3})
    >>> reliability_design(c)[["segment_id", "included", "reason"]].values.tolist()
    [['S1', True, ''], ['S2', False, 'coded by 1 of 2 coders (a); not by b']]
    """
    selected = _selected_coders(codings, coders)
    frame = _select_coders(codings, selected)
    rows = []
    for segment_id, group in frame.groupby("segment_id", sort=True):
        coded_by = sorted(set(group["coder"]))
        if len(selected) < 2:
            included, reason = False, f"fewer than two coders selected ({', '.join(selected)})"
        elif len(coded_by) == len(selected):
            included, reason = True, ""
        else:
            missing = [c for c in selected if c not in coded_by]
            included = False
            reason = f"coded by {len(coded_by)} of {len(selected)} coders ({', '.join(coded_by)}); not by {', '.join(missing)}"
        rows.append({"segment_id": segment_id, "coded_by": ";".join(coded_by), "n_coders": len(coded_by), "included": included, "reason": reason})
    return pd.DataFrame(rows, columns=["segment_id", "coded_by", "n_coders", "included", "reason"])


def _code_sets(codings: pd.DataFrame, selected: list[str], segment_ids: list[str]) -> dict[tuple[str, str], set[str]]:
    frame = _select_coders(codings, selected)
    frame = frame[frame["segment_id"].isin(set(segment_ids)) & (frame["code"] != NONE_CODE)]
    sets: dict[tuple[str, str], set[str]] = {(s, c): set() for s in segment_ids for c in selected}
    for segment_id, coder, code in zip(frame["segment_id"], frame["coder"], frame["code"]):
        sets[(segment_id, coder)].add(code)
    return sets


def _prepare(codings: pd.DataFrame, codebook: Codebook, coders):
    check_codings(codings, codebook)
    selected = _selected_coders(codings, coders)
    design = reliability_design(codings, selected)
    included = design.loc[design["included"], "segment_id"].tolist()
    return selected, design, included, _code_sets(codings, selected, included)


def presence_ratings(codings: pd.DataFrame, codebook: Codebook, coders=None) -> pd.DataFrame:
    """The binary reliability data: one row per (included segment, codebook code), one
    column per coder, 1 if the coder applied the code to the segment, else 0.

    >>> import pandas as pd
    >>> from hotlines.coding.codebook import Codebook
    >>> book = Codebook.from_dict({"codebook": {"dimensions": [{"id": "x", "codes": [
    ...     {"id": "x.p", "pole": "vertical"}, {"id": "x.q", "pole": "horizontal"}]}]}})
    >>> c = pd.DataFrame({"segment_id": ["S1", "S1"], "coder": ["a", "b"], "code": ["x.p", "x.q"]})
    >>> presence_ratings(c, book).values.tolist()
    [[1, 0], [0, 1]]
    """
    selected, _, included, sets = _prepare(codings, codebook, coders)
    codes = list(codebook.codes)
    index = pd.MultiIndex.from_product([included, codes], names=["segment_id", "code"])
    data = {coder: [int(code in sets[(s, coder)]) for s in included for code in codes] for coder in selected}
    return pd.DataFrame(data, index=index, columns=pd.Index(selected, name="coder"))


def _dimension_value(codes: set[str], dimension: str, codebook: Codebook, variable: str) -> str:
    book = codebook.codes
    mine = sorted(c for c in codes if book[c].dimension == dimension)
    if not mine:
        return "absent"
    if variable == "code_set":
        return ";".join(mine)
    poles = {book[c].pole for c in mine} - {"neutral"}
    if not poles:
        return "neutral"
    return poles.pop() if len(poles) == 1 else "mixed"


def dimension_ratings(codings: pd.DataFrame, codebook: Codebook, coders=None, variable: str = "pole") -> pd.DataFrame:
    """The nominal reliability data per (included segment, dimension), one column per coder.

    ``variable="pole"``: one of :data:`POLE_VALUES`; ``variable="code_set"``: the
    ``;``-joined codes of the dimension (``absent`` if none). See the module notes.

    >>> import pandas as pd
    >>> from hotlines.coding.codebook import Codebook
    >>> book = Codebook.from_dict({"codebook": {"dimensions": [{"id": "x", "codes": [
    ...     {"id": "x.p", "pole": "vertical"}, {"id": "x.q", "pole": "horizontal"}, {"id": "x.n", "pole": "neutral"}]}]}})
    >>> c = pd.DataFrame({"segment_id": ["S1", "S1", "S1"], "coder": ["a", "a", "b"], "code": ["x.p", "x.n", "x.q"]})
    >>> dimension_ratings(c, book).values.tolist()
    [['vertical', 'horizontal']]
    """
    if variable not in ("pole", "code_set"):
        raise ValueError(f"variable must be 'pole' or 'code_set', not {variable!r}")
    selected, _, included, sets = _prepare(codings, codebook, coders)
    dimensions = [d.id for d in codebook.dimensions]
    index = pd.MultiIndex.from_product([included, dimensions], names=["segment_id", "dimension"])
    data = {
        coder: [_dimension_value(sets[(s, coder)], d, codebook, variable) for s in included for d in dimensions]
        for coder in selected
    }
    return pd.DataFrame(data, index=index, columns=pd.Index(selected, name="coder"))


def reliability(
    codings: pd.DataFrame,
    codebook: Codebook,
    *,
    coders=None,
    variable: str = "presence",
    scopes: Sequence[str] | None = None,
    measures: Sequence[str] = MEASURES,
    n_boot: int = 1000,
    seed: int | np.random.Generator | None = 0,
    ci: float = 0.95,
) -> pd.DataFrame:
    """Inter-coder reliability of the coded corpus, one row per (scope, measure).

    See the module notes for the units of analysis, the scopes and the bootstrap.
    Columns: ``variable``, ``scope`` (``overall``, ``dimension``, ``code``),
    ``scope_id`` (``all``, a dimension id or a code id), then the columns of
    :func:`agreement`, plus ``n_segments`` (segments in the reliability data) and
    ``n_segments_excluded`` (segments coded by only some of the selected coders).

    >>> import pandas as pd
    >>> from hotlines.coding.codebook import Codebook
    >>> book = Codebook.from_dict({"codebook": {"dimensions": [{"id": "x", "codes": [
    ...     {"id": "x.p", "pole": "vertical"}, {"id": "x.q", "pole": "horizontal"}]}]}})
    >>> c = pd.DataFrame({"segment_id": ["S1", "S1", "S2", "S2", "S3", "S3"], "coder": ["a", "b"] * 3,
    ...                   "code": ["x.p", "x.p", "x.q", "x.q", "x.p", "x.q"]})
    >>> t = reliability(c, book, scopes=["code"], measures=["percent_agreement"], n_boot=0)
    >>> t[["scope_id", "estimate", "prevalence"]].values.tolist()
    [['x.p', 0.6666666666666666, 0.5], ['x.q', 0.6666666666666666, 0.5]]
    """
    if variable not in VARIABLES:
        raise ValueError(f"variable must be one of {VARIABLES}, not {variable!r}")
    allowed = ("overall", "dimension", "code") if variable == "presence" else ("overall", "dimension")
    scopes = list(allowed if scopes is None else scopes)
    wrong = [s for s in scopes if s not in allowed]
    if wrong:
        raise ValueError(f"scopes {wrong} do not apply to variable '{variable}'; choose from {allowed}")
    _check_options(measures, "nominal", n_boot, ci)
    selected, design, included, _ = _prepare(codings, codebook, coders)
    n_segments = len(included)
    n_excluded = int((~design["included"]).sum())
    if variable == "presence":
        wide = presence_ratings(codings, codebook, selected)
        units = list(codebook.codes)
        group_of = {c: codebook.codes[c].dimension for c in units}
        domain = np.array([0, 1])
        positive, positive_label = 1, "applied"
    else:
        wide = dimension_ratings(codings, codebook, selected, variable)
        units = [d.id for d in codebook.dimensions]
        group_of = {d: d for d in units}
        if variable == "pole":
            domain = np.array(POLE_VALUES, dtype=object)
        else:
            observed = sorted(set(np.ravel(wide.to_numpy())) - {"absent"})
            domain = np.array(["absent", *observed], dtype=object)
        positive, positive_label = None, None
    lookup = {v: i for i, v in enumerate(domain.tolist())}
    # segments x units x coders value indices; the first axis is the bootstrap cluster
    values = np.vectorize(lambda v: lookup[v], otypes=[np.int64])(wide.to_numpy()) if wide.size else np.zeros((0, len(selected)), dtype=np.int64)
    cube = values.reshape(n_segments, len(units), len(selected))
    boot_index = _boot_index(seed, n_boot, n_segments)
    method = f"percentile bootstrap: {n_boot} resamples of segments with replacement, {_seed_label(seed)}"
    plan: list[tuple[str, str, list[int]]] = []
    if "overall" in scopes:
        plan.append(("overall", "all", list(range(len(units)))))
    if "dimension" in scopes:
        for dimension in dict.fromkeys(group_of.values()):
            plan.append(("dimension", dimension, [i for i, u in enumerate(units) if group_of[u] == dimension]))
    if "code" in scopes:
        plan.extend(("code", unit, [i]) for i, unit in enumerate(units))
    rows = []
    for scope, scope_id, columns in plan:
        block = cube[:, columns, :].reshape(-1, len(selected))
        clusters = np.repeat(np.arange(n_segments), len(columns))
        data = _Reliability(block, clusters, n_segments, domain, "nominal")
        for row in _evaluate(data, measures, boot_index, ci, positive, method):
            if positive_label and row["prevalence_of"] == _label(positive):
                row["prevalence_of"] = positive_label
            if n_segments == 0 and len(selected) >= 2:
                row["reason"] = f"no segment coded by every selected coder ({n_excluded} coded by only some)"
            rows.append({"variable": variable, "scope": scope, "scope_id": scope_id, **row, "n_segments": n_segments, "n_segments_excluded": n_excluded})
    return pd.DataFrame(rows, columns=["variable", "scope", "scope_id", *RESULT_COLUMNS, "n_segments", "n_segments_excluded"])


# --------------------------------------------------------------------------- disagreements


def _truncate(text, limit: int) -> str:
    if _missing(text):
        return ""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def disagreements(
    codings: pd.DataFrame,
    segments: pd.DataFrame,
    codebook: Codebook | None = None,
    *,
    coders=None,
    passage_chars: int = 200,
) -> pd.DataFrame:
    """One row per (segment, code) on which the coders differ, for a reconciliation meeting.

    Looks at every segment coded by two or more of the selected coders; a row is a code
    some of them applied and some did not. Columns: ``code``, ``dimension``,
    ``segment_id``, ``cities``, ``source``, ``line``, ``applied_by`` and
    ``not_applied_by`` (coder ids, ``;``-joined), ``n_applied``, ``n_coders``,
    ``instead`` (what each coder who did not apply the code gave in the same dimension,
    or ``none``), ``memos`` (each involved coder's memo: on this code for those who
    applied it, on the codes they gave instead for the others) and ``passage``
    (whitespace collapsed, cut to ``passage_chars`` with an ellipsis). Sorted by code
    (codebook order), then segment.

    >>> import pandas as pd
    >>> seg = pd.DataFrame({"segment_id": ["S1"], "cities": ["beijing"], "source": ["000"], "line": [157],
    ...                     "passage": ["The municipal government sends the demands directly to lower levels."]})
    >>> cod = pd.DataFrame({"segment_id": ["S1", "S1"], "coder": ["a", "b"],
    ...                     "code": ["mechanism.dispatch_binding", "mechanism.dispatch_unspecified"],
    ...                     "memo": ["binding order", "no sign it binds"]})
    >>> t = disagreements(cod, seg, passage_chars=30)
    >>> t[["code", "applied_by", "instead", "passage"]].values.tolist()[0]
    ['mechanism.dispatch_binding', 'a', 'b: mechanism.dispatch_unspecified', 'The municipal government send…']
    """
    check_codings(codings, codebook, segments)
    check_segments(segments, ["segment_id", "passage"])
    frame = _select_coders(codings, coders)
    memo = frame["memo"] if "memo" in frame.columns else pd.Series("", index=frame.index)
    frame = frame.assign(memo=[("" if _missing(m) else str(m).strip()) for m in memo])
    info = segments.assign(segment_id=segments["segment_id"].astype(str)).set_index("segment_id")
    order = {c: i for i, c in enumerate(codebook.codes)} if codebook is not None else {}
    dimension_of = (lambda c: codebook.codes[c].dimension) if codebook is not None else (lambda c: c.split(".", 1)[0])
    rows = []
    for segment_id, group in frame.groupby("segment_id", sort=True):
        coded_by = sorted(set(group["coder"]))
        if len(coded_by) < 2:
            continue
        given = {c: set(group.loc[group["coder"] == c, "code"]) - {NONE_CODE} for c in coded_by}
        memos = {(c, code): m for c, code, m in zip(group["coder"], group["code"], group["memo"]) if m}
        for code in sorted(set().union(*given.values())):
            applied = [c for c in coded_by if code in given[c]]
            others = [c for c in coded_by if code not in given[c]]
            if not others:
                continue
            dimension = dimension_of(code)
            instead, notes = [], []
            for coder in applied:
                if (coder, code) in memos:
                    notes.append(f"{coder} [{code}]: {memos[(coder, code)]}")
            for coder in others:
                alternatives = sorted(c for c in given[coder] if dimension_of(c) == dimension)
                instead.append(f"{coder}: {'; '.join(alternatives) if alternatives else NONE_CODE}")
                for alternative in alternatives or [NONE_CODE]:
                    if (coder, alternative) in memos:
                        notes.append(f"{coder} [{alternative}]: {memos[(coder, alternative)]}")
            segment = info.loc[segment_id] if segment_id in info.index else None
            rows.append(
                {
                    "code": code,
                    "dimension": dimension,
                    "segment_id": segment_id,
                    "cities": ";".join(split_ids(segment.get("cities"))) if segment is not None else "",
                    "source": segment.get("source", "") if segment is not None else "",
                    "line": segment.get("line", pd.NA) if segment is not None else pd.NA,
                    "applied_by": ";".join(applied),
                    "not_applied_by": ";".join(others),
                    "n_applied": len(applied),
                    "n_coders": len(coded_by),
                    "instead": " | ".join(instead),
                    "memos": " | ".join(notes),
                    "passage": _truncate(segment.get("passage") if segment is not None else "", passage_chars),
                }
            )
    columns = ["code", "dimension", "segment_id", "cities", "source", "line", "applied_by", "not_applied_by", "n_applied", "n_coders", "instead", "memos", "passage"]
    out = pd.DataFrame(rows, columns=columns)
    if len(out):
        out = out.assign(_order=out["code"].map(lambda c: order.get(c, len(order)))).sort_values(["_order", "code", "segment_id"], kind="stable").drop(columns="_order")
    return out.reset_index(drop=True)


_QUOTED = re.compile(r"[\"'“”‘’].*?[\"'“”‘’]")


def memo_similarity(codings: pd.DataFrame, coder_a: str, coder_b: str) -> pd.DataFrame:
    """How alike two coders' memos are on the codes both applied: a check of independence.

    Two independent passes quote the same passage words, so the quoted words are
    removed first; what remains is each coder's own reasoning. Near-identical
    reasoning on many codes would suggest that one pass saw the other. Returns one
    row per shared (segment_id, code) with ``similarity`` (difflib ratio, 0–1) of the
    memos with and without their quotations.

    >>> import pandas as pd
    >>> c = pd.DataFrame({"segment_id": ["S1", "S1"], "coder": ["a", "b"], "code": ["x.y", "x.y"],
    ...                   "memo": ["'the mayor decides': leader acts", "'the mayor decides': top leader"]})
    >>> float(round(memo_similarity(c, "a", "b").loc[0, "similarity_without_quotes"], 2))
    0.64
    """
    import difflib

    def memos(coder):
        rows = codings[codings["coder"] == coder]
        return rows.set_index(["segment_id", "code"])["memo"].fillna("").astype(str)

    a, b = memos(coder_a), memos(coder_b)
    shared = a.index.intersection(b.index)
    rows = []
    for key in shared:
        bare_a, bare_b = _QUOTED.sub("", a[key]).strip(), _QUOTED.sub("", b[key]).strip()
        rows.append(
            {
                "segment_id": key[0],
                "code": key[1],
                "similarity": difflib.SequenceMatcher(None, a[key], b[key]).ratio(),
                "similarity_without_quotes": difflib.SequenceMatcher(None, bare_a, bare_b).ratio(),
            }
        )
    return pd.DataFrame(rows, columns=["segment_id", "code", "similarity", "similarity_without_quotes"])
