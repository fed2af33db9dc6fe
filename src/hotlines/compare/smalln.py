"""Methods for twenty cities and fewer: permutation tests, bootstrap intervals, rank correlations, power.

Everything here is built on :mod:`scipy.stats` (``permutation_test``, ``bootstrap``,
``rankdata``) and returns a tidy one-row (or few-row) DataFrame with named columns.
Every randomised routine takes ``seed`` (an int or a :class:`numpy.random.Generator`)
and gives the same numbers for the same seed.

Conventions, stated once:

- **Permutation p-values.** When the number of distinct rearrangements (``C(n, n_a)``
  partitions for two groups, ``n!`` pairings for a correlation) is at most
  ``n_resamples``, the test enumerates all of them (``method="exact"``); otherwise it
  draws ``n_resamples`` at random (``method="monte carlo"``, p-value
  ``(count + 1) / (n_resamples + 1)``, scipy's convention). A two-sided p-value is
  twice the smaller one-sided p-value, capped at 1 (scipy's convention).
- **Bootstrap intervals** resample cities with replacement (pairs for a correlation).
  BCa is the default; with so few cities some resamples are degenerate (every
  resampled value equal, so a rank correlation is undefined). Such resamples are
  counted; BCa is then not reported, and a percentile interval is computed from the
  non-degenerate resamples, with the count in ``note``.
- **Power.** :func:`minimum_detectable_correlation` simulates bivariate normal samples
  of ``n`` cities: the smallest correlation a two-sided test at ``alpha`` detects with
  the wanted power. Its numbers are simulated and labelled so.

>>> import pandas as pd
>>> d = pd.DataFrame({"mode": ["v", "v", "v", "h", "h", "h"], "days": [2.0, 3, 4, 9, 10, 12]})
>>> t = permutation_test(d, "days", "mode", groups=("v", "h"), seed=1)
>>> t.estimate.item(), t.p_value.item(), t.method.item(), int(t.n_permutations.item())
(-7.0, 0.2, 'exact', 20)

(Two of the 20 splits give a difference in medians of -7: the smallest one-sided
p-value is 2/20, the two-sided one 0.2.)
"""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pandas as pd
from scipy import stats

STATISTICS = {"median": np.median, "mean": np.mean}


def _rng(seed) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _seed_label(seed):
    return "Generator" if isinstance(seed, np.random.Generator) else seed


# ---------------------------------------------------------------- two groups


def _difference(stat_name: str):
    func = STATISTICS[stat_name]

    def statistic(a, b, axis=-1):
        return func(a, axis=axis) - func(b, axis=axis)

    return statistic


def permutation_test(data: pd.DataFrame, value: str, group: str, groups: tuple | None = None,
                     statistic: str = "median", alternative: str = "two-sided", n_resamples: int = 9999,
                     seed=0, min_group_size: int = 2) -> pd.DataFrame:
    """Difference in medians (or means) between two groups, with a permutation p-value.

    ``estimate`` is statistic(group a) − statistic(group b). Rows with a missing value
    or group are left out and counted in ``n_missing``. A group smaller than
    ``min_group_size`` gives a row with p_value missing and the reason in ``note``.

    Columns: value, group_a, group_b, n_a, n_b, n_missing, statistic, estimate,
    p_value, alternative, method, n_permutations, n_possible, seed, note.
    """
    if statistic not in STATISTICS:
        raise ValueError(f"statistic must be one of {', '.join(STATISTICS)}, not {statistic!r}")
    complete = data[[value, group]].dropna()
    n_missing = len(data) - len(complete)
    present = list(dict.fromkeys(complete[group]))
    if groups is None:
        if len(present) != 2:
            raise ValueError(f"column {group!r} has {len(present)} groups {present}; name the two to compare")
        groups = tuple(sorted(present))
    a_name, b_name = groups
    a = complete.loc[complete[group] == a_name, value].to_numpy(dtype=float)
    b = complete.loc[complete[group] == b_name, value].to_numpy(dtype=float)
    row = {"value": value, "group_a": a_name, "group_b": b_name, "n_a": len(a), "n_b": len(b),
           "n_missing": n_missing, "statistic": f"difference in {statistic}s (a - b)", "estimate": np.nan,
           "p_value": np.nan, "alternative": alternative, "method": pd.NA, "n_permutations": pd.NA,
           "n_possible": math.comb(len(a) + len(b), len(a)), "seed": _seed_label(seed), "note": ""}
    if len(a) < min_group_size or len(b) < min_group_size:
        row["note"] = f"not tested: a group has fewer than {min_group_size} cities"
        if len(a) and len(b):
            row["estimate"] = float(STATISTICS[statistic](a) - STATISTICS[statistic](b))
        return pd.DataFrame([row])
    res = stats.permutation_test((a, b), _difference(statistic), permutation_type="independent",
                                 vectorized=True, n_resamples=n_resamples, alternative=alternative,
                                 rng=_rng(seed))
    exact = row["n_possible"] <= n_resamples
    row.update(estimate=float(res.statistic), p_value=float(res.pvalue),
               method="exact" if exact else "monte carlo",
               n_permutations=row["n_possible"] if exact else n_resamples)
    return pd.DataFrame([row])


def pairwise_permutation_tests(data: pd.DataFrame, value: str, group: str, order: list | None = None,
                               **kwargs) -> pd.DataFrame:
    """:func:`permutation_test` for every pair of groups (in ``order``), one row each.

    With three groups there are three tests: the p-values are not adjusted for
    multiplicity, and the ``note`` of each row says how many tests were run.
    """
    present = list(dict.fromkeys(data[group].dropna()))
    groups = [g for g in (order or sorted(present)) if g in present]
    pairs = list(itertools.combinations(groups, 2))
    frames = [permutation_test(data, value, group, groups=pair, **kwargs) for pair in pairs]
    if not frames:
        return pd.DataFrame(columns=["value", "group_a", "group_b", "n_a", "n_b", "n_missing", "statistic",
                                     "estimate", "p_value", "alternative", "method", "n_permutations",
                                     "n_possible", "seed", "note"])
    out = pd.concat(frames, ignore_index=True)
    if len(pairs) > 1:
        out["note"] = [(n + "; " if n else "") + f"one of {len(pairs)} pairwise tests, p not adjusted"
                       for n in out["note"]]
    return out


# ---------------------------------------------------------------- bootstrap


def bootstrap_ci(values, statistic: str = "median", method: str = "BCa", confidence_level: float = 0.95,
                 n_resamples: int = 9999, seed=0) -> pd.DataFrame:
    """Bootstrap interval of a median or mean (scipy.stats.bootstrap), percentile or BCa.

    Missing values are left out and counted. Columns: statistic, estimate, ci_low,
    ci_high, method, confidence_level, n, n_missing, n_resamples, seed, note.

    >>> b = bootstrap_ci([1.0, 2, 3, 4, 5, 6, 7, 8], "mean", seed=0)
    >>> b.estimate.item(), b.method.item(), b.n.item(), bool(b.ci_low.item() < 4.5 < b.ci_high.item())
    (4.5, 'BCa', 8, True)
    """
    array = np.asarray(pd.Series(values, dtype="Float64").dropna().to_numpy(dtype=float))
    n_missing = len(values) - len(array)
    func = STATISTICS[statistic]
    row = {"statistic": statistic, "estimate": float(func(array)) if len(array) else np.nan, "ci_low": np.nan,
           "ci_high": np.nan, "method": method, "confidence_level": confidence_level, "n": len(array),
           "n_missing": n_missing, "n_resamples": n_resamples, "seed": _seed_label(seed), "note": ""}
    if len(array) < 2 or np.all(array == array[0]):
        row["note"] = "no interval: fewer than two distinct values"
        return pd.DataFrame([row])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = stats.bootstrap((array,), func, vectorized=True, n_resamples=n_resamples,
                              confidence_level=confidence_level, method=method.lower(), rng=_rng(seed))
    row["ci_low"], row["ci_high"] = float(res.confidence_interval.low), float(res.confidence_interval.high)
    if np.isnan(row["ci_low"]):
        row["note"] = f"{method} interval undefined for this sample (degenerate bootstrap distribution)"
    return pd.DataFrame([row])


# ---------------------------------------------------------------- rank correlations


def _pearson_last_axis(a, b):
    a = a - a.mean(axis=-1, keepdims=True)
    b = b - b.mean(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (a * b).sum(axis=-1) / np.sqrt((a * a).sum(axis=-1) * (b * b).sum(axis=-1))


def spearman_statistic(x, y, axis=-1):
    """Spearman's rho along ``axis`` (vectorised; ties get average ranks). NaN when a rank vector is constant."""
    x = np.moveaxis(np.asarray(x, dtype=float), axis, -1)
    y = np.moveaxis(np.asarray(y, dtype=float), axis, -1)
    return _pearson_last_axis(stats.rankdata(x, axis=-1), stats.rankdata(y, axis=-1))


def kendall_statistic(x, y, axis=-1):
    """Kendall's tau-b along ``axis`` (vectorised). NaN when either variable is constant."""
    x = np.moveaxis(np.asarray(x, dtype=float), axis, -1)
    y = np.moveaxis(np.asarray(y, dtype=float), axis, -1)
    i, j = np.triu_indices(x.shape[-1], 1)
    sx = np.sign(x[..., j] - x[..., i])
    sy = np.sign(y[..., j] - y[..., i])
    concordance = (sx * sy).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return concordance / np.sqrt(np.count_nonzero(sx, axis=-1) * np.count_nonzero(sy, axis=-1))


CORRELATIONS = {"spearman": spearman_statistic, "kendall": kendall_statistic}


def _bootstrap_correlation(x, y, func, method, confidence_level, n_resamples, rng):
    """Paired bootstrap of a rank correlation; degenerate resamples are counted, not hidden."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = stats.bootstrap((x, y), func, paired=True, vectorized=True, n_resamples=n_resamples,
                              confidence_level=confidence_level, method=method.lower(), rng=rng)
    distribution = np.asarray(res.bootstrap_distribution)
    degenerate = int(np.isnan(distribution).sum())
    low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
    if degenerate == 0 and not np.isnan(low):
        return low, high, method, ""
    kept = distribution[~np.isnan(distribution)]
    alpha = (1 - confidence_level) / 2
    low, high = np.quantile(kept, [alpha, 1 - alpha])
    return (float(low), float(high), "percentile",
            f"{degenerate} of {n_resamples} bootstrap resamples were degenerate (a constant variable) and were "
            f"left out; percentile interval from the other {len(kept)}"
            + (f" ({method} not reported)" if method.lower() != "percentile" else ""))


def rank_correlation(data: pd.DataFrame, x: str, y: str, method: str = "spearman", n_resamples: int = 9999,
                     seed=0, ci_method: str = "BCa", confidence_level: float = 0.95, min_n_ci: int = 6,
                     alternative: str = "two-sided") -> pd.DataFrame:
    """Spearman's rho or Kendall's tau-b with a permutation p-value and a paired bootstrap interval.

    The p-value comes from scipy.stats.permutation_test over pairings of ``y`` with
    ``x``: exact enumeration of all ``n!`` pairings when that is at most
    ``n_resamples``, Monte Carlo otherwise. The interval is a paired bootstrap
    (scipy.stats.bootstrap), reported only from ``min_n_ci`` cities. Rows with a
    missing ``x`` or ``y`` are left out and counted in ``n_missing``.

    Columns: x, y, method, n, n_missing, estimate, p_value, alternative, p_method,
    n_permutations, ci_low, ci_high, ci_method, confidence_level, n_resamples, seed, note.

    >>> d = pd.DataFrame({"a": [1.0, 2, 3, 4, 5], "b": [2.0, 1, 4, 3, 5]})
    >>> r = rank_correlation(d, "a", "b", seed=0)
    >>> round(r.estimate.item(), 3), round(r.p_value.item(), 4), r.p_method.item()
    (0.8, 0.1333, 'exact')
    """
    func = CORRELATIONS[method]
    complete = data[[x, y]].dropna()
    xs, ys = complete[x].to_numpy(dtype=float), complete[y].to_numpy(dtype=float)
    n = len(xs)
    row = {"x": x, "y": y, "method": method, "n": n, "n_missing": len(data) - n, "estimate": np.nan,
           "p_value": np.nan, "alternative": alternative, "p_method": pd.NA, "n_permutations": pd.NA,
           "ci_low": np.nan, "ci_high": np.nan, "ci_method": pd.NA, "confidence_level": confidence_level,
           "n_resamples": n_resamples, "seed": _seed_label(seed), "note": ""}
    if n < 3 or np.all(xs == xs[0]) or np.all(ys == ys[0]):
        row["note"] = "not computed: fewer than 3 cities or a constant variable"
        return pd.DataFrame([row])
    rng = _rng(seed)
    # Permuting x alone against a fixed y gives every pairing once (n! of them); permuting
    # both samples would count each pairing n! times and defeat exact enumeration.
    res = stats.permutation_test((xs,), lambda xp, axis=-1: func(xp, ys, axis=axis), permutation_type="pairings",
                                 vectorized=True, n_resamples=n_resamples, alternative=alternative, rng=rng)
    exact = math.factorial(n) <= n_resamples
    row.update(estimate=float(res.statistic), p_value=float(res.pvalue), p_method="exact" if exact else "monte carlo",
               n_permutations=math.factorial(n) if exact else n_resamples)
    if n >= min_n_ci:
        low, high, used, note = _bootstrap_correlation(xs, ys, func, ci_method, confidence_level, n_resamples, rng)
        row.update(ci_low=low, ci_high=high, ci_method=used, note=note)
    else:
        row["note"] = f"no bootstrap interval below {min_n_ci} cities"
    return pd.DataFrame([row])


# ---------------------------------------------------------------- power


def _simulate_correlations(n: int, rho: float, n_sim: int, rng, func) -> np.ndarray:
    z = rng.standard_normal((n_sim, n, 2))
    x = z[..., 0]
    y = rho * z[..., 0] + math.sqrt(1 - rho * rho) * z[..., 1]
    return func(x, y)


def _critical_value(null_abs: np.ndarray, alpha: float) -> float:
    """Smallest value c of the null distribution of |statistic| with P(|statistic| >= c) <= alpha.

    Rank statistics are discrete for small n: an ordinary quantile can land on an atom
    whose tail probability exceeds alpha, which would inflate the size of the test.
    """
    ordered = np.sort(null_abs)
    values = np.unique(ordered)
    tail = 1.0 - np.searchsorted(ordered, values, side="left") / ordered.size
    allowed = values[tail <= alpha]
    # With very few cities even a perfect rank correlation is not rare enough: no test can reject.
    return float(allowed.min()) if allowed.size else float("inf")


def power_curve(n: int, rhos=None, alpha: float = 0.05, method: str = "spearman", n_sim: int = 4000,
                seed=0) -> pd.DataFrame:
    """Simulated power of a two-sided rank-correlation test with ``n`` cities, per true correlation.

    The data are bivariate normal with Pearson correlation ``rho``; the test rejects
    when |statistic| reaches the simulated null critical value at ``alpha`` (the
    smallest value whose simulated null tail probability is at most ``alpha``). The
    population Spearman correlation of such data is ``(6/pi) asin(rho/2)``.

    Columns: n, rho, spearman_population, power, critical_value, alpha, method, n_sim, seed, note.
    """
    func = CORRELATIONS[method]
    rng = _rng(seed)
    rhos = np.round(np.arange(0, 1.0, 0.02), 2) if rhos is None else np.asarray(rhos, dtype=float)
    null = np.round(np.abs(_simulate_correlations(n, 0.0, n_sim, rng, func)), 9)
    critical = _critical_value(null[~np.isnan(null)], alpha)
    rows = []
    for rho in rhos:
        sim = np.round(np.abs(_simulate_correlations(n, float(rho), n_sim, rng, func)), 9)
        rows.append({"n": n, "rho": float(rho), "spearman_population": 6 / math.pi * math.asin(rho / 2),
                     "power": float(np.mean(sim >= critical)), "critical_value": critical, "alpha": alpha,
                     "method": method, "n_sim": n_sim, "seed": _seed_label(seed),
                     "note": "simulated (bivariate normal data)"})
    return pd.DataFrame(rows)


def minimum_detectable_correlation(n: int, alpha: float = 0.05, power: float = 0.8, method: str = "spearman",
                                   n_sim: int = 4000, seed=0) -> pd.DataFrame:
    """The smallest true correlation detected with the wanted power by a test on ``n`` cities (simulated).

    Returns one row: n, alpha, target_power, min_detectable_rho (Pearson correlation
    of the simulated normal data), min_detectable_spearman (its population Spearman
    correlation), power_at_min, critical_value, method, n_sim, seed, statement.

    >>> r = minimum_detectable_correlation(10, n_sim=2000, seed=1)
    >>> 0.6 < r.min_detectable_spearman.item() < 0.85
    True
    """
    curve = power_curve(n, np.round(np.arange(0, 1.0, 0.01), 2), alpha, method, n_sim, seed)
    reached = curve[curve["power"] >= power]
    if len(reached):
        first = reached.iloc[0]
        rho, rs, achieved = first["rho"], first["spearman_population"], first["power"]
        statement = (f"With n = {n} cities, a two-sided {method} test at alpha = {alpha:g} has {power:.0%} power only "
                     f"for correlations of about {rs:.2f} or stronger (simulated); weaker associations would usually "
                     f"go undetected.")
    elif np.isinf(curve["critical_value"].iloc[0]):
        rho = rs = achieved = np.nan
        statement = (f"With n = {n} cities, even a perfect rank correlation is not significant in a two-sided "
                     f"{method} test at alpha = {alpha:g}: the test cannot reject, whatever the data.")
    else:
        rho = rs = achieved = np.nan
        statement = (f"With n = {n} cities, no correlation below 0.99 reaches {power:.0%} power in a two-sided "
                     f"{method} test at alpha = {alpha:g} (simulated): the test cannot detect any plausible effect.")
    return pd.DataFrame([{"n": n, "alpha": alpha, "target_power": power, "min_detectable_rho": rho,
                          "min_detectable_spearman": rs, "power_at_min": achieved,
                          "critical_value": float(curve["critical_value"].iloc[0]), "method": method,
                          "n_sim": n_sim, "seed": _seed_label(seed), "statement": statement}])
