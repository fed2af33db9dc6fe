"""Uncertainty and sensitivity of the rebuilt index's ranks (simulated).

A Monte Carlo draws, per replication, the weights and the method choices, and
recomputes every city's total and rank:

- **weights**: a hierarchical Dirichlet perturbation around the index's weights
  (the published ones by default): first-level shares ~ Dirichlet(c · p1), the
  second-level shares within each first level ~ Dirichlet(c · p2), the third-level
  shares within each second level ~ Dirichlet(c · p3), where the p are the central
  shares and ``c`` the concentration (larger = tighter; ``None`` = no perturbation).
  Each Dirichlet is drawn as normalised Gamma(c · p) variates.
- **methods**: normalisation, imputation, aggregation and the treatment of values
  stated as bounds, each drawn uniformly from the options given.

The computation is vectorised: the normalised data of every method combination are
prepared once, and each combination's replications are aggregated together as
matrix products (replications × indicators times indicators × cities), level by level.

Sobol indices of each city's rank (SALib, Saltelli/Jansen estimators) treat the
inputs in groups: the uniforms that generate the Dirichlet draws of each level
(through the Gamma quantile function, so the distribution is the same as in the
Monte Carlo) form three groups, and each categorical method choice is one factor
on [0, k) whose integer part selects the option.

Everything here is simulated: result columns are prefixed ``mc_`` or carry ``simulated``
in their table's ``attrs['note']``.

>>> from hotlines.index import CompositeIndex
>>> mc = monte_carlo(CompositeIndex(), n=200, seed=1)
>>> mc.ranks.shape
(200, 20)
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from .composite import TIE_DECIMALS, CompositeIndex

NORMALISATIONS = ("minmax", "minmax_scale", "zscore", "rank")
IMPUTATIONS = ("mean", "median", "worst", "none")
AGGREGATIONS = ("weighted_sum", "geometric")
LOWER_BOUNDS = ("as_value", "floor", "missing")
FACTOR_GROUPS = ("weights: first level", "weights: second level", "weights: third level",
                 "normalisation", "imputation", "aggregation", "lower_bounds")


@dataclass
class Structure:
    """The tree of included indicators as index arrays, with the central weights."""

    third_ids: list[str]
    second_ids: list[str]
    first_ids: list[str]
    second_of_third: np.ndarray  # (K,) position of each third-level indicator's parent
    first_of_second: np.ndarray  # (S,)
    w3: np.ndarray  # (K,) central global weights
    total: float

    @classmethod
    def of(cls, index: CompositeIndex) -> Structure:
        w = index.weights.set_index("id")
        third = [i for i in index.normalised.columns]
        seconds = list(dict.fromkeys(w.loc[third, "parent"]))
        firsts = list(dict.fromkeys(w.loc[seconds, "parent"]))
        return cls(third, seconds, firsts,
                   np.array([seconds.index(w.at[k, "parent"]) for k in third]),
                   np.array([firsts.index(w.at[c, "parent"]) for c in seconds]),
                   w.loc[third, "weight"].to_numpy(dtype=float), float(w.loc[firsts, "weight"].sum()))

    @property
    def w2(self) -> np.ndarray:
        return np.bincount(self.second_of_third, self.w3, len(self.second_ids))

    @property
    def w1(self) -> np.ndarray:
        return np.bincount(self.first_of_second, self.w2, len(self.first_ids))

    def shares(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Central shares within each group: p1 (F,), p2 (S,), p3 (K,)."""
        w1, w2 = self.w1, self.w2
        return w1 / w1.sum(), w2 / w1[self.first_of_second], self.w3 / w2[self.second_of_third]


def _normalise_groups(g: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    onehot = np.zeros((g.shape[1], n_groups))
    onehot[np.arange(g.shape[1]), groups] = 1.0
    sums = g @ onehot
    with np.errstate(invalid="ignore", divide="ignore"):
        out = g / sums[:, groups]
    # a group whose Gamma draws all underflow to zero falls back to equal shares within it
    bad = ~np.isfinite(out)
    if bad.any():
        counts = onehot.sum(axis=0)[groups]
        out = np.where(bad, 1.0 / counts, out)
    return out


def weights_from_gammas(struct: Structure, g1: np.ndarray, g2: np.ndarray, g3: np.ndarray) -> np.ndarray:
    """Global third-level weights (R, K) from Gamma variates of each level."""
    p1 = _normalise_groups(g1, np.zeros(g1.shape[1], dtype=int), 1)
    p2 = _normalise_groups(g2, struct.first_of_second, len(struct.first_ids))
    p3 = _normalise_groups(g3, struct.second_of_third, len(struct.second_ids))
    return struct.total * p1[:, struct.first_of_second[struct.second_of_third]] * p2[:, struct.second_of_third] * p3


def draw_weights(struct: Structure, n: int, concentration: float | None, rng: np.random.Generator) -> np.ndarray:
    """(n, K) weights: hierarchical Dirichlet around the central weights, or the central weights."""
    if concentration is None:
        return np.tile(struct.w3, (n, 1))
    p1, p2, p3 = struct.shares()
    g1 = rng.standard_gamma(concentration * p1, size=(n, p1.size))
    g2 = rng.standard_gamma(concentration * p2, size=(n, p2.size))
    g3 = rng.standard_gamma(concentration * p3, size=(n, p3.size))
    return weights_from_gammas(struct, g1, g2, g3)


def aggregate(values: np.ndarray, weights: np.ndarray, struct: Structure, geometric: bool) -> np.ndarray:
    """Totals (R, C) for one data matrix ``values`` (C, K; NaN = missing) and R weight vectors.

    Each level is its weight times the weighted (arithmetic or geometric) mean of the
    children a city has, as in :class:`CompositeIndex`; for geometric aggregation
    ``values`` must already be strictly positive.
    """
    mask = ~np.isnan(values)
    x0 = np.where(mask, np.log(np.where(mask, values, 1.0)) if geometric else values, 0.0)
    mf = mask.astype(float)
    R, C = weights.shape[0], values.shape[0]

    def mean_of(child_w: np.ndarray, child_x: np.ndarray, child_m: np.ndarray) -> np.ndarray:
        # child_w (R, m); child_x, child_m (R, C, m) or (C, m)
        if child_x.ndim == 2:
            num, den = child_w @ child_x.T, child_w @ child_m.T
        else:
            num = np.einsum("rm,rcm->rc", child_w, child_x)
            den = np.einsum("rm,rcm->rc", child_w, child_m)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = num / den
        share = np.exp(share) if geometric else share
        return np.where(den > 0, share, np.nan)

    S, F = len(struct.second_ids), len(struct.first_ids)
    share2 = np.empty((R, C, S))
    w2 = np.empty((R, S))
    for s in range(S):
        cols = np.flatnonzero(struct.second_of_third == s)
        share2[:, :, s] = mean_of(weights[:, cols], x0[:, cols], mf[:, cols])
        w2[:, s] = weights[:, cols].sum(axis=1)

    def lift(shares: np.ndarray, w: np.ndarray):
        avail = (~np.isnan(shares)) & (w[:, None, :] > 0)
        x = np.where(avail, np.log(np.where(avail, shares, 1.0)) if geometric else shares, 0.0)
        return x, avail.astype(float)

    share1 = np.empty((R, C, F))
    w1 = np.empty((R, F))
    for f in range(F):
        secs = np.flatnonzero(struct.first_of_second == f)
        x, m = lift(share2[:, :, secs], w2[:, secs])
        share1[:, :, f] = mean_of(w2[:, secs], x, m)
        w1[:, f] = w2[:, secs].sum(axis=1)
    x, m = lift(share1, w1)
    total_share = mean_of(w1, x, m)
    return w1.sum(axis=1)[:, None] * total_share


def rank_rows(totals: np.ndarray) -> np.ndarray:
    """Rank 1 = highest within each row; ties (at 1e-9) share the best rank."""
    return stats.rankdata(-np.round(totals, TIE_DECIMALS), axis=1, method="min").astype(np.int16)


def _prepared(index: CompositeIndex, struct: Structure, normalisations, imputations, aggregations, lower_bounds) -> dict:
    """Normalised (and for geometric, lifted) data of every method combination: (C, K) arrays."""
    out = {}
    floor = index.settings.geometric_floor
    for lb in lower_bounds:
        base = index if index.settings.lower_bounds == lb else index.with_(lower_bounds=lb)
        for imp, norm in itertools.product(imputations, normalisations):
            v = base.variant(imputation=imp, normalisation=norm).normalised[struct.third_ids].to_numpy(dtype=float)
            for agg in aggregations:
                if agg == "geometric":
                    g = v.copy()
                    if norm == "zscore":
                        lo, hi = np.nanmin(g, axis=0), np.nanmax(g, axis=0)
                        span = np.where(hi - lo > 1e-12, hi - lo, 1.0)
                        g = np.where(hi - lo > 1e-12, (g - lo) / span, 1.0 + 0 * g)
                        g = np.where(np.isnan(v), np.nan, g)
                    out[(norm, imp, agg, lb)] = floor + (1 - floor) * g
                else:
                    out[(norm, imp, agg, lb)] = v
    return out


def evaluate(prepared: dict, combos: list[tuple], choice: np.ndarray, weights: np.ndarray, struct: Structure) -> np.ndarray:
    """Totals (R, C) for replications whose method combination is ``combos[choice[r]]``."""
    totals = np.empty((weights.shape[0], next(iter(prepared.values())).shape[0]))
    for code in np.unique(choice):
        rows = np.flatnonzero(choice == code)
        combo = combos[code]
        totals[rows] = aggregate(prepared[combo], weights[rows], struct, combo[2] == "geometric")
    return totals


@dataclass
class MonteCarloResult:
    """Simulated totals and ranks: ``totals`` and ``ranks`` are (replications, cities)."""

    cities: list[str]
    totals: np.ndarray
    ranks: np.ndarray
    draws: pd.DataFrame  # replication, normalisation, imputation, aggregation, lower_bounds
    weights: np.ndarray
    indicators: list[str]
    deterministic_rank: pd.Series
    seed: int | None
    concentration: float | None
    settings: dict = field(default_factory=dict)

    def summary(self) -> pd.DataFrame:
        """Per city: deterministic rank, simulated median rank and 5-95% rank interval.

        Quantiles are order statistics of the simulated ranks (``inverted_cdf``), so
        every bound is a rank that occurred.
        """
        q = np.quantile(self.ranks, [0.05, 0.5, 0.95], axis=0, method="inverted_cdf")
        out = pd.DataFrame({
            "city_id": self.cities,
            "deterministic_rank": self.deterministic_rank.loc[self.cities].to_numpy(),
            "mc_median_rank": q[1].astype(int), "mc_rank_p05": q[0].astype(int), "mc_rank_p95": q[2].astype(int),
            "mc_mean_rank": self.ranks.mean(axis=0), "mc_share_top3": (self.ranks <= 3).mean(axis=0),
            "n_replications": self.ranks.shape[0],
        })
        out.attrs["note"] = (f"simulated: Monte Carlo with {self.ranks.shape[0]} replications (seed {self.seed}, "
                             f"Dirichlet concentration {self.concentration}); methods drawn from {self.settings}")
        return out.sort_values(["mc_median_rank", "mc_mean_rank"]).reset_index(drop=True)

    def by_option(self) -> pd.DataFrame:
        """Mean simulated rank of each city under each option of each method factor."""
        frames = []
        for factor in ("normalisation", "imputation", "aggregation", "lower_bounds"):
            for option in self.draws[factor].unique():
                rows = (self.draws[factor] == option).to_numpy()
                frames.append(pd.DataFrame({"factor": factor, "option": option, "city_id": self.cities,
                                            "mc_mean_rank": self.ranks[rows].mean(axis=0), "n": int(rows.sum())}))
        out = pd.concat(frames, ignore_index=True)
        out.attrs["note"] = "simulated (Monte Carlo)"
        return out


def monte_carlo(
    index: CompositeIndex,
    n: int = 10_000,
    seed: int | np.random.Generator | None = 2024,
    concentration: float | None = 100.0,
    normalisations=NORMALISATIONS,
    imputations=IMPUTATIONS,
    aggregations=AGGREGATIONS,
    lower_bounds=LOWER_BOUNDS,
) -> MonteCarloResult:
    """Simulate ``n`` versions of the index with perturbed weights and drawn methods.

    Reproducible bit for bit for a given integer ``seed`` (draw order: weights of the
    first, second and third level, then the method indices). ``concentration=None``
    keeps the weights fixed; single-option tuples fix a method.
    """
    rng = np.random.default_rng(seed)
    struct = Structure.of(index)
    combos = list(itertools.product(normalisations, imputations, aggregations, lower_bounds))
    prepared = _prepared(index, struct, normalisations, imputations, aggregations, lower_bounds)
    weights = draw_weights(struct, n, concentration, rng)
    picks = {name: rng.integers(0, len(opts), size=n) for name, opts in
             (("normalisation", normalisations), ("imputation", imputations), ("aggregation", aggregations),
              ("lower_bounds", lower_bounds))}
    sizes = (len(imputations), len(aggregations), len(lower_bounds))
    choice = (((picks["normalisation"] * sizes[0] + picks["imputation"]) * sizes[1] + picks["aggregation"]) * sizes[2]
              + picks["lower_bounds"])
    totals = evaluate(prepared, combos, choice, weights, struct)
    draws = pd.DataFrame({"replication": np.arange(n),
                          "normalisation": np.asarray(normalisations)[picks["normalisation"]],
                          "imputation": np.asarray(imputations)[picks["imputation"]],
                          "aggregation": np.asarray(aggregations)[picks["aggregation"]],
                          "lower_bounds": np.asarray(lower_bounds)[picks["lower_bounds"]]})
    return MonteCarloResult(
        cities=index.cities, totals=totals, ranks=rank_rows(totals), draws=draws, weights=weights,
        indicators=struct.third_ids, deterministic_rank=index.totals.set_index("city_id")["rank"],
        seed=seed if isinstance(seed, (int, np.integer)) or seed is None else None, concentration=concentration,
        settings={"normalisation": tuple(normalisations), "imputation": tuple(imputations),
                  "aggregation": tuple(aggregations), "lower_bounds": tuple(lower_bounds)},
    )


def monte_carlo_loop(index: CompositeIndex, n: int = 1000, seed: int | None = 2024, concentration: float | None = 100.0,
                     normalisations=NORMALISATIONS, imputations=IMPUTATIONS, aggregations=AGGREGATIONS,
                     lower_bounds=LOWER_BOUNDS) -> np.ndarray:
    """The same simulation, one replication at a time (the benchmark's naive baseline).

    Draws the same random numbers in the same order as :func:`monte_carlo`, so its
    ranks equal the vectorised ones.
    """
    rng = np.random.default_rng(seed)
    struct = Structure.of(index)
    combos = list(itertools.product(normalisations, imputations, aggregations, lower_bounds))
    prepared = _prepared(index, struct, normalisations, imputations, aggregations, lower_bounds)
    weights = draw_weights(struct, n, concentration, rng)
    picks = [rng.integers(0, len(opts), size=n) for opts in (normalisations, imputations, aggregations, lower_bounds)]
    ranks = np.empty((n, len(index.cities)), dtype=np.int16)
    for r in range(n):
        combo = (normalisations[picks[0][r]], imputations[picks[1][r]], aggregations[picks[2][r]], lower_bounds[picks[3][r]])
        total = aggregate(prepared[combo], weights[r:r + 1], struct, combo[2] == "geometric")
        ranks[r] = rank_rows(total)[0]
    return ranks


# ---------------------------------------------------------------- Sobol


def sobol_indices(
    index: CompositeIndex,
    n_base: int = 1024,
    seed: int | None = 2024,
    concentration: float | None = 100.0,
    normalisations=NORMALISATIONS,
    imputations=IMPUTATIONS,
    aggregations=AGGREGATIONS,
    lower_bounds=LOWER_BOUNDS,
    num_resamples: int = 100,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """First-order and total Sobol indices of each city's rank, by factor group (SALib).

    Groups: the uniforms behind each level's Dirichlet weights (three groups; left out,
    with the weights fixed, when ``concentration`` is None), and one discrete factor per
    method choice that has more than one option (encoded as a uniform on [0, k) whose
    integer part picks the option). Returns one row per
    city and group: ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` (confidence half-widths
    from SALib's bootstrap), ``n_evaluations``. A city whose rank never changes has
    no rank variance and gets NaN indices.
    """
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    struct = Structure.of(index)
    p1, p2, p3 = struct.shares()
    names, bounds, groups = [], [], []
    weight_blocks = (("w1", struct.first_ids, FACTOR_GROUPS[0]), ("w2", struct.second_ids, FACTOR_GROUPS[1]),
                     ("w3", struct.third_ids, FACTOR_GROUPS[2]))
    for prefix, ids, group in (weight_blocks if concentration is not None else ()):
        for item in ids:
            names.append(f"{prefix}:{item}")
            bounds.append([0.0, 1.0])
            groups.append(group)
    options = {"normalisation": tuple(normalisations), "imputation": tuple(imputations),
               "aggregation": tuple(aggregations), "lower_bounds": tuple(lower_bounds)}
    for name, opts in options.items():
        if len(opts) > 1:
            names.append(name)
            bounds.append([0.0, float(len(opts))])
            groups.append(name)
    problem = {"num_vars": len(names), "names": names, "bounds": bounds, "groups": groups}
    sample = sobol_sample.sample(problem, n_base, calc_second_order=False, seed=seed)

    F, S = len(struct.first_ids), len(struct.second_ids)
    if concentration is None:
        weights, column = np.tile(struct.w3, (len(sample), 1)), 0
    else:
        u = np.clip(sample[:, : F + S + len(struct.third_ids)], 1e-12, 1 - 1e-12)
        shape = np.concatenate([concentration * p1, concentration * p2, concentration * p3])
        g = stats.gamma.ppf(u, shape)
        weights = weights_from_gammas(struct, g[:, :F], g[:, F:F + S], g[:, F + S:])
        column = F + S + len(struct.third_ids)
    picks = {}
    for name, opts in options.items():
        if len(opts) > 1:
            picks[name] = np.minimum(np.floor(sample[:, column]).astype(int), len(opts) - 1)
            column += 1
        else:
            picks[name] = np.zeros(len(sample), dtype=int)
    combos = list(itertools.product(normalisations, imputations, aggregations, lower_bounds))
    sizes = (len(imputations), len(aggregations), len(lower_bounds))
    choice = (((picks["normalisation"] * sizes[0] + picks["imputation"]) * sizes[1] + picks["aggregation"]) * sizes[2]
              + picks["lower_bounds"])
    prepared = _prepared(index, struct, normalisations, imputations, aggregations, lower_bounds)
    ranks = rank_rows(evaluate(prepared, combos, choice, weights, struct)).astype(float)

    unique_groups = list(dict.fromkeys(groups))
    rows = []
    for c, city in enumerate(index.cities):
        y = ranks[:, c]
        if np.ptp(y) == 0:
            result = {k: np.full(len(unique_groups), np.nan) for k in ("S1", "S1_conf", "ST", "ST_conf")}
        else:
            result = sobol_analyze.analyze(problem, y, calc_second_order=False, num_resamples=num_resamples,
                                           conf_level=conf_level, print_to_console=False, seed=seed)
        for j, group in enumerate(unique_groups):
            rows.append({"city_id": city, "factor": group, "S1": float(result["S1"][j]), "S1_conf": float(result["S1_conf"][j]),
                         "ST": float(result["ST"][j]), "ST_conf": float(result["ST_conf"][j]), "n_evaluations": len(sample)})
    out = pd.DataFrame(rows)
    out.attrs["note"] = (f"simulated: Sobol indices of each city's rank from {len(sample)} model evaluations "
                         f"(SALib Saltelli sampling, N = {n_base}, seed {seed}, Dirichlet concentration {concentration})")
    return out
