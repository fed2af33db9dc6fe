"""Resolution time as time-to-event data: Kaplan–Meier, quantiles, log-rank, Cox and AFT models.

A request still open when the records were retrieved has not "taken" the time since
it was created: it is right-censored at the snapshot. Averaging the closed requests
alone ignores every open one and biases resolution times towards fast cases;
:func:`naive_vs_censoring_aware` shows by how much.

Every function takes a tidy frame of request records and returns a tidy frame.
The frame is either canonical (:mod:`hotlines.requests.schema`; ``duration_days``
and ``event`` are derived with :func:`hotlines.requests.schema.durations`) or already
carries ``duration_days`` (float, days) and ``event`` (True when the request closed).
Durations must be known and not negative: rows with a closing before the opening
belong in validation's quarantine, and are refused here with the file and row named.

lifelines is the estimation engine throughout; the functions only shape its inputs and
outputs. For tens of millions of rows use :mod:`hotlines.requests.engine`, which
aggregates in DuckDB or Spark and gives the same Kaplan–Meier table.

>>> import pandas as pd
>>> records = pd.DataFrame({"duration_days": [1.0, 2.0, 2.0, 3.0, 4.0, 5.0],
...                         "event": [True, True, False, True, False, True]})
>>> kaplan_meier(records)[["time_days", "n_at_risk", "survival"]].round(4).to_dict("list")
{'time_days': [0.0, 1.0, 2.0, 3.0, 4.0, 5.0], 'n_at_risk': [6, 6, 5, 3, 2, 1], 'survival': [1.0, 0.8333, 0.6667, 0.4444, 0.4444, 0.0]}
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from itertools import combinations
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter, KaplanMeierFitter, LogNormalAFTFitter, WeibullAFTFitter
from lifelines.statistics import multivariate_logrank_test, pairwise_logrank_test, proportional_hazard_test
from lifelines.utils import qth_survival_times, restricted_mean_survival_time
from scipy.stats import norm

from .schema import durations

DURATION = "duration_days"
EVENT = "event"

#: Columns of a Kaplan–Meier table (after the grouping columns).
KM_COLUMNS = ["time_days", "n_at_risk", "n_events", "n_censored", "survival", "ci_low", "ci_high"]

#: A survival curve within this of 1 - p counts as having reached it. The product-limit
#: estimate is computed as exp(sum of logs), so a curve that is exactly 1/2 in exact
#: arithmetic can come out 0.5000000000000001; compared exactly (as lifelines'
#: ``qth_survival_time`` does) the median would jump to the next time.
QUANTILE_TOLERANCE = 1e-12

#: Label of the level that collects the rare levels of a covariate.
OTHER = "other"
#: Label of a missing covariate value, kept as a level of its own (missing stays visible).
MISSING = "(missing)"


# --------------------------------------------------------------------------- inputs


def _as_list(by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    return list(by)


def _row_names(frame: pd.DataFrame, mask: pd.Series, limit: int = 5) -> str:
    """'file row n (request id)' for the first rows of ``mask``, to name bad rows in errors."""
    rows = frame.loc[mask].head(limit)
    names = []
    for label, row in rows.iterrows():
        if "source_file" in rows.columns and pd.notna(row.get("source_file")):
            name = f"{row['source_file']} row {row.get('source_row')}"
        else:
            name = f"index {label}"
        if "request_id" in rows.columns and pd.notna(row.get("request_id")):
            name += f" (request {row['request_id']})"
        names.append(name)
    return "; ".join(names)


def time_to_event(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with ``duration_days`` and ``event``, checked for missing and negative durations.

    Canonical frames get both columns from :func:`hotlines.requests.schema.durations`
    (closed requests run to ``closed``, open ones are censored at ``snapshot``);
    frames that already carry them are used as they are.

    Raises ``ValueError`` naming file, row and request of the first offending rows:
    a duration that cannot be computed (missing ``created``, or an open request without
    ``snapshot``), or a negative one (closed before created; validation quarantines these).

    >>> time_to_event(pd.DataFrame({"duration_days": [0.5], "event": [1]})).event.tolist()
    [True]
    """
    if len(frame) == 0:
        raise ValueError("no request records to analyse (the frame is empty)")
    if DURATION in frame.columns and EVENT in frame.columns:
        out = frame.copy()
    else:
        out = durations(frame)
    out[DURATION] = pd.to_numeric(out[DURATION], errors="raise").astype(float)
    if out[EVENT].isna().any():
        bad = out[EVENT].isna()
        raise ValueError(f"field event: {int(bad.sum())} rows have no event flag, e.g. {_row_names(out, bad)}")
    out[EVENT] = out[EVENT].astype(bool)
    missing = out[DURATION].isna() | ~np.isfinite(out[DURATION].fillna(0.0))
    if missing.any():
        raise ValueError(
            f"field duration_days: {int(missing.sum())} rows have no computable duration "
            f"(rule: created is known, and closed or snapshot is known), e.g. {_row_names(out, missing)}"
        )
    negative = out[DURATION] < 0
    if negative.any():
        raise ValueError(
            f"field closed: {int(negative.sum())} rows close before they open (rule: closed >= created; "
            f"validation quarantines these), e.g. {_row_names(out, negative)}"
        )
    return out


def _groups(frame: pd.DataFrame, by: list[str]):
    """(key dict, sub-frame) per group, sorted, missing keys kept as their own group."""
    if not by:
        yield {}, frame
        return
    missing = [c for c in by if c not in frame.columns]
    if missing:
        raise KeyError(f"grouping columns not in the frame: {', '.join(missing)}")
    for key, sub in frame.groupby(by, dropna=False, sort=True, observed=True):
        key = key if isinstance(key, tuple) else (key,)
        yield dict(zip(by, key)), sub


# --------------------------------------------------------------------------- Kaplan–Meier


def _fit_km(sub: pd.DataFrame, alpha: float) -> KaplanMeierFitter:
    return KaplanMeierFitter(alpha=alpha).fit(sub[DURATION].to_numpy(), sub[EVENT].to_numpy())


def _km_table(kmf: KaplanMeierFitter) -> pd.DataFrame:
    events = kmf.event_table
    ci = kmf.confidence_interval_survival_function_
    return pd.DataFrame(
        {
            "time_days": events.index.to_numpy(dtype=float),
            "n_at_risk": events["at_risk"].to_numpy().astype("int64"),
            "n_events": events["observed"].to_numpy().astype("int64"),
            "n_censored": events["censored"].to_numpy().astype("int64"),
            "survival": kmf.survival_function_.iloc[:, 0].to_numpy(),
            "ci_low": ci.iloc[:, 0].to_numpy(),
            "ci_high": ci.iloc[:, 1].to_numpy(),
        }
    )


def kaplan_meier(frame: pd.DataFrame, by: str | Sequence[str] | None = None, *, alpha: float = 0.05) -> pd.DataFrame:
    """Kaplan–Meier survival table per group: the share of requests still open after t days.

    One row per group and distinct duration (plus time 0), as in lifelines' event table:
    grouping columns, ``time_days``, ``n_at_risk``, ``n_events`` (closures at that time),
    ``n_censored`` (open requests whose follow-up ends there), ``survival`` (product-limit
    estimate) and its pointwise ``ci_low``/``ci_high`` at level ``1 - alpha`` (Greenwood
    variance, log(-log) transform: lifelines' default). Missing group keys form their own group.

    >>> records = pd.DataFrame({"agency": ["A", "A", "B"], "duration_days": [1.0, 2.0, 1.0],
    ...                         "event": [True, False, True]})
    >>> kaplan_meier(records, "agency")[["agency", "time_days", "survival"]].values.tolist()
    [['A', 0.0, 1.0], ['A', 1.0, 0.5], ['A', 2.0, 0.5], ['B', 0.0, 1.0], ['B', 1.0, 0.0]]
    """
    keys = _as_list(by)
    data = time_to_event(frame)
    parts = []
    for key, sub in _groups(data, keys):
        table = _km_table(_fit_km(sub, alpha))
        for name, value in key.items():
            table[name] = value
        parts.append(table)
    out = pd.concat(parts, ignore_index=True)
    for name in keys:
        out[name] = out[name].astype(data[name].dtype)
    return out[keys + KM_COLUMNS]


def km_quantiles(
    frame: pd.DataFrame,
    by: str | Sequence[str] | None = None,
    *,
    shares_closed: Iterable[float] = (0.25, 0.5, 0.75),
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Time by which a given share of requests is closed, per group, with confidence limits.

    ``share_closed`` p is the Kaplan–Meier quantile: the first time survival is at or
    below 1 - p (p = 0.5 is the median resolution time). The limits are the first times
    the pointwise confidence band is (Brookmeyer–Crowley style inversion, as lifelines'
    ``median_survival_times(kmf.confidence_interval_)``). lifelines' ``qth_survival_times``
    does the search, with 1 - p raised by :data:`QUANTILE_TOLERANCE` against rounding.
    ``inf`` means "not reached within the follow-up" (``reached`` False): too many
    requests are still open to say.

    >>> records = pd.DataFrame({"duration_days": [1.0, 2.0, 3.0, 4.0], "event": [True] * 4})
    >>> km_quantiles(records, shares_closed=[0.5])[["share_closed", "estimate_days"]].values.tolist()
    [[0.5, 2.0]]
    """
    keys = _as_list(by)
    shares = [float(p) for p in shares_closed]
    if not all(0 < p < 1 for p in shares):
        raise ValueError(f"shares_closed must lie strictly between 0 and 1, got {shares}")
    data = time_to_event(frame)
    rows = []
    for key, sub in _groups(data, keys):
        kmf = _fit_km(sub, alpha)
        for p in shares:
            q = 1.0 - p
            estimate = float(qth_survival_times(q + QUANTILE_TOLERANCE, kmf.survival_function_))
            band = qth_survival_times(q + QUANTILE_TOLERANCE, kmf.confidence_interval_survival_function_)
            rows.append(
                {
                    **key,
                    "share_closed": p,
                    "survival": q,
                    "estimate_days": estimate,
                    "ci_low": float(band.iloc[0, 0]),
                    "ci_high": float(band.iloc[0, 1]),
                    "reached": bool(np.isfinite(estimate)),
                    "n": len(sub),
                    "n_events": int(sub[EVENT].sum()),
                }
            )
    return pd.DataFrame(rows, columns=keys + ["share_closed", "survival", "estimate_days", "ci_low", "ci_high", "reached", "n", "n_events"])


# --------------------------------------------------------------------------- RMST and the naive comparison


def _rmst_with_se(kmf: KaplanMeierFitter, horizon: float) -> tuple[float, float]:
    """RMST up to ``horizon`` (lifelines) and its standard error.

    The variance is the Greenwood-type estimator of the area under the Kaplan–Meier
    curve (Klein & Moeschberger 2003, eq. 4.5.1): sum over event times t_i <= horizon of
    A_i^2 d_i / (Y_i (Y_i - d_i)), with A_i the area under the curve from t_i to the
    horizon. (lifelines' ``return_variance`` gives the variance of min(T, horizon), a
    property of the requests, not the estimator's sampling variance.)
    """
    estimate = float(restricted_mean_survival_time(kmf, t=horizon))
    events = kmf.event_table
    times = events.index.to_numpy(dtype=float)
    survival = kmf.survival_function_.iloc[:, 0].to_numpy()
    keep = times <= horizon
    times, survival = times[keep], survival[keep]
    d = events["observed"].to_numpy(dtype=float)[keep]
    y = events["at_risk"].to_numpy(dtype=float)[keep]
    # area of the step function from each time to the horizon
    widths = np.diff(np.append(times, horizon))
    area_from = np.cumsum((survival * widths)[::-1])[::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where((d > 0) & (y > d), area_from**2 * d / (y * (y - d)), 0.0)
    return estimate, float(np.sqrt(terms.sum()))


def restricted_mean(
    frame: pd.DataFrame, by: str | Sequence[str] | None = None, *, horizon_days: float, alpha: float = 0.05
) -> pd.DataFrame:
    """Restricted mean resolution time up to ``horizon_days`` per group, with a normal CI.

    The RMST is the area under the Kaplan–Meier curve from 0 to the horizon: the mean of
    min(resolution time, horizon), which censoring does not bias as long as follow-up
    reaches the horizon. Columns: grouping columns, ``horizon_days``, ``estimate_days``,
    ``se_days``, ``ci_low``, ``ci_high``, ``n``, ``n_events``.

    >>> records = pd.DataFrame({"duration_days": [1.0, 2.0, 3.0], "event": [True, True, True]})
    >>> round(restricted_mean(records, horizon_days=10.0)["estimate_days"].item(), 12)
    2.0
    """
    keys = _as_list(by)
    data = time_to_event(frame)
    z = norm.ppf(1 - alpha / 2)
    rows = []
    for key, sub in _groups(data, keys):
        estimate, se = _rmst_with_se(_fit_km(sub, alpha), horizon_days)
        rows.append({**key, "horizon_days": float(horizon_days), "estimate_days": estimate, "se_days": se,
                     "ci_low": estimate - z * se, "ci_high": estimate + z * se,
                     "n": len(sub), "n_events": int(sub[EVENT].sum())})
    return pd.DataFrame(rows, columns=keys + ["horizon_days", "estimate_days", "se_days", "ci_low", "ci_high", "n", "n_events"])


def naive_vs_censoring_aware(
    frame: pd.DataFrame,
    by: str | Sequence[str] | None = None,
    *,
    horizon_days: float | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """What averaging the closed requests says, next to what the censoring-aware estimates say.

    Per group: ``n``, ``n_closed``, ``share_open`` (requests not closed at the snapshot),
    the naive ``naive_mean_days`` and ``naive_median_days`` of the closed requests only,
    the Kaplan–Meier median with its limits (``km_median_days``, ``inf`` when more than
    half are still open: the median is then longer than the follow-up), and the
    restricted mean up to ``horizon_days`` with its limits (``rmst_days``). The RMST is a
    lower bound of the mean resolution time, so a naive mean below it is biased downwards
    by at least the difference.

    ``horizon_days`` defaults to the shortest follow-up among the groups (the smallest
    per-group maximum duration), so that every group's RMST covers the same window and
    no group's is extrapolated beyond its last observation.

    >>> records = pd.DataFrame({"duration_days": [0.1, 0.2, 1.0, 1.0], "event": [True, True, False, False]})
    >>> row = naive_vs_censoring_aware(records).iloc[0]
    >>> [round(float(row[c]), 3) for c in ("naive_mean_days", "share_open", "rmst_days")]
    [0.15, 0.5, 0.575]
    """
    keys = _as_list(by)
    data = time_to_event(frame)
    groups = list(_groups(data, keys))
    if horizon_days is None:
        horizon_days = float(min(sub[DURATION].max() for _, sub in groups))
    z = norm.ppf(1 - alpha / 2)
    rows = []
    for key, sub in groups:
        kmf = _fit_km(sub, alpha)
        closed = sub.loc[sub[EVENT], DURATION]
        median = float(qth_survival_times(0.5 + QUANTILE_TOLERANCE, kmf.survival_function_))
        band = qth_survival_times(0.5 + QUANTILE_TOLERANCE, kmf.confidence_interval_survival_function_)
        rmst, se = _rmst_with_se(kmf, horizon_days)
        rows.append(
            {
                **key,
                "n": len(sub),
                "n_closed": int(sub[EVENT].sum()),
                "share_open": float(1.0 - sub[EVENT].mean()),
                "naive_mean_days": float(closed.mean()) if len(closed) else np.nan,
                "naive_median_days": float(closed.median()) if len(closed) else np.nan,
                "km_median_days": median,
                "km_median_ci_low": float(band.iloc[0, 0]),
                "km_median_ci_high": float(band.iloc[0, 1]),
                "horizon_days": float(horizon_days),
                "rmst_days": rmst,
                "rmst_ci_low": rmst - z * se,
                "rmst_ci_high": rmst + z * se,
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- log-rank tests


def _single_group_column(data: pd.DataFrame, by: str | Sequence[str]) -> pd.Series:
    keys = _as_list(by)
    if not keys:
        raise ValueError("a log-rank test needs a grouping column")
    missing = [c for c in keys if c not in data.columns]
    if missing:
        raise KeyError(f"grouping columns not in the frame: {', '.join(missing)}")
    parts = [data[c].astype("string").fillna(MISSING) for c in keys]
    label = parts[0]
    for part in parts[1:]:
        label = label + " | " + part
    return label.astype(str)


def logrank_pairwise(frame: pd.DataFrame, by: str | Sequence[str], *, alpha: float = 0.05) -> pd.DataFrame:
    """Log-rank test of every pair of groups, with Holm-adjusted p-values.

    Columns: ``group_a``, ``group_b``, ``n_a``, ``n_b``, ``events_a``, ``events_b``,
    ``test_statistic`` (chi-squared, 1 df), ``p_value``, ``p_holm`` (Holm's step-down
    adjustment over all pairs, statsmodels), ``reject_holm`` at ``alpha``. Several
    grouping columns are joined into one label "a | b"; missing values read "(missing)".

    >>> records = pd.DataFrame({"g": list("aaabbb"), "duration_days": [1, 2, 3, 4, 5, 6.0],
    ...                         "event": [True] * 6})
    >>> logrank_pairwise(records, "g")[["group_a", "group_b"]].values.tolist()
    [['a', 'b']]
    """
    from statsmodels.stats.multitest import multipletests

    data = time_to_event(frame)
    label = _single_group_column(data, by)
    levels = sorted(label.unique())
    if len(levels) < 2:
        raise ValueError(f"a log-rank test needs at least two groups, found {levels}")
    result = pairwise_logrank_test(data[DURATION], label, data[EVENT])
    summary = result.summary
    counts = data.groupby(label)[EVENT].agg(["size", "sum"])
    rows = []
    for a, b in combinations(levels, 2):
        key = (a, b) if (a, b) in summary.index else (b, a)
        rows.append(
            {
                "group_a": a,
                "group_b": b,
                "n_a": int(counts.loc[a, "size"]),
                "n_b": int(counts.loc[b, "size"]),
                "events_a": int(counts.loc[a, "sum"]),
                "events_b": int(counts.loc[b, "sum"]),
                "test_statistic": float(summary.loc[key, "test_statistic"]),
                "p_value": float(summary.loc[key, "p"]),
            }
        )
    out = pd.DataFrame(rows)
    reject, p_holm, _, _ = multipletests(out["p_value"], alpha=alpha, method="holm")
    return out.assign(p_holm=p_holm, reject_holm=reject)


def logrank_multivariate(frame: pd.DataFrame, by: str | Sequence[str]) -> pd.DataFrame:
    """Log-rank test that all groups share one survival curve (k groups, k - 1 df).

    One row: ``groups``, ``n``, ``n_events``, ``test_statistic``, ``df``, ``p_value``.

    >>> records = pd.DataFrame({"g": list("aaabbb"), "duration_days": [1, 2, 3, 4, 5, 6.0],
    ...                         "event": [True] * 6})
    >>> logrank_multivariate(records, "g")["df"].item()
    1
    """
    data = time_to_event(frame)
    label = _single_group_column(data, by)
    if label.nunique() < 2:
        raise ValueError("a log-rank test needs at least two groups")
    result = multivariate_logrank_test(data[DURATION], label, data[EVENT])
    return pd.DataFrame(
        [
            {
                "groups": int(label.nunique()),
                "n": len(data),
                "n_events": int(data[EVENT].sum()),
                "test_statistic": float(result.test_statistic),
                "df": int(result.degrees_of_freedom),
                "p_value": float(result.p_value),
            }
        ]
    )


# --------------------------------------------------------------------------- covariate coding


@dataclass
class Design:
    """A model frame (``duration_days``, ``event`` and 0/1 dummy columns) and how it was coded.

    ``coding`` has one row per covariate level: ``covariate``, ``level`` (as in the data),
    ``coded_as`` (the level after lumping), ``column`` (the dummy column, empty for the
    reference), ``role`` (``reference``, ``dummy``, ``lumped``, ``dropped: single level``),
    ``n`` and ``n_events``.
    """

    data: pd.DataFrame
    coding: pd.DataFrame
    terms: list[str]
    notes: list[str] = field(default_factory=list)


def code_covariates(
    frame: pd.DataFrame,
    covariates: Sequence[str],
    *,
    min_events: int = 10,
    reference: Mapping[str, str] | None = None,
) -> Design:
    """Dummy (treatment) coding of categorical covariates, rare levels lumped.

    Rules, per covariate:

    1. a missing value is the level ``"(missing)"``;
    2. levels with fewer than ``min_events`` closures are lumped into ``"other"``: their
       effect could not be estimated (a level without events drives a Cox coefficient to
       minus infinity);
    3. the reference level is ``reference[covariate]`` if given (it must survive
       lumping), else the level with the most requests (ties by name), never ``"other"``;
    4. ``"other"`` is kept as a level even when it has fewer than ``min_events`` closures
       (a note says its estimate is imprecise): folding it into another level would mix
       large groups, e.g. a whole agency with no closure in a short window. If it has no
       closure at all its effect is not estimable (the likelihood has no maximum) and a
       ``ValueError`` names its levels: exclude them explicitly, follow up longer, or
       penalise the fit;
    5. a covariate left with a single level is dropped (nothing to contrast).

    Dummy columns are named ``covariate[level]``; each coefficient contrasts that level
    with the reference.

    >>> records = pd.DataFrame({"agency": ["A"] * 4 + ["B"] * 3 + ["C"],
    ...                         "duration_days": [1.0] * 8, "event": [True] * 8})
    >>> code_covariates(records, ["agency"], min_events=2).terms
    ['agency[B]', 'agency[other]']
    """
    data = time_to_event(frame)
    reference = dict(reference or {})
    model = data[[DURATION, EVENT]].copy()
    coding_rows, terms, notes = [], [], []
    for covariate in covariates:
        if covariate not in data.columns:
            raise KeyError(f"covariate {covariate!r} is not a column of the frame")
        values = data[covariate].astype("string").fillna(MISSING).astype(str)
        if (values == OTHER).any():
            raise ValueError(f"covariate {covariate!r} already has a level named {OTHER!r}; rename it before lumping")
        stats = data.groupby(values)[EVENT].agg(n="size", n_events="sum")
        rare = stats.index[stats["n_events"] < min_events].tolist()
        coded_as = {level: (OTHER if level in rare else level) for level in stats.index}
        coded = values.map(coded_as)
        kept = stats.drop(index=rare)
        if covariate in reference:
            ref = reference[covariate]
            if ref not in kept.index:
                raise ValueError(
                    f"reference level {ref!r} of {covariate!r} is absent or has fewer than {min_events} closures"
                )
        elif len(kept):
            ref = sorted(kept.index, key=lambda level: (-kept.loc[level, "n"], level))[0]
        else:
            ref = None
        roles = {level: ("reference" if level == ref else "dummy") for level in kept.index}
        other_events = int(stats.loc[rare, "n_events"].sum()) if rare else 0
        levels = sorted(coded.unique())
        if rare and other_events == 0 and len(levels) > 1:
            raise ValueError(
                f"covariate {covariate!r}: levels {rare} have no closure at all, so their hazard ratio is not "
                "estimable; exclude those rows explicitly, use a longer follow-up, or pass penalizer > 0 "
                "with min_events=0"
            )
        if rare:
            notes.append(
                f"{covariate}: {len(rare)} levels with fewer than {min_events} closures coded as {OTHER!r} "
                f"({other_events} closures together{'; its estimate is imprecise' if other_events < min_events else ''})"
            )
        if len(levels) < 2:
            notes.append(f"{covariate}: a single level after coding, dropped from the model")
            for level in stats.index:
                coding_rows.append({"covariate": covariate, "level": level, "coded_as": coded_as[level],
                                    "column": "", "role": "dropped: single level",
                                    "n": int(stats.loc[level, "n"]), "n_events": int(stats.loc[level, "n_events"])})
            continue
        columns = {}
        for level in levels:
            if level != ref:
                columns[level] = f"{covariate}[{level}]"
                model[columns[level]] = (coded == level).astype(float)
        terms.extend(columns.values())
        for level in stats.index:
            target = coded_as[level]
            role = roles.get(level, "lumped")
            coding_rows.append({"covariate": covariate, "level": level, "coded_as": target,
                                "column": columns.get(target, ""), "role": role,
                                "n": int(stats.loc[level, "n"]), "n_events": int(stats.loc[level, "n_events"])})
    coding = pd.DataFrame(coding_rows, columns=["covariate", "level", "coded_as", "column", "role", "n", "n_events"])
    return Design(data=model, coding=coding, terms=terms, notes=notes)


def _term_parts(term: str) -> tuple[str, str]:
    if term.endswith("]") and "[" in term:
        covariate, level = term[:-1].split("[", 1)
        return covariate, level
    return term, ""


# --------------------------------------------------------------------------- Cox and AFT models


@dataclass
class CoxResult:
    """A fitted Cox model of the hazard of closure, as tidy tables.

    ``coefficients``: ``term``, ``covariate``, ``level``, ``coef`` (log hazard ratio),
    ``hazard_ratio`` with ``ci_low``/``ci_high`` (a ratio above 1: requests of that level
    close faster than the reference's), ``se``, ``z``, ``p_value``.
    ``ph_test``: Schoenfeld-residual test of proportional hazards per term (lifelines'
    ``proportional_hazard_test``): ``term``, ``test_statistic``, ``p_value``,
    ``time_transform``, ``violated`` (p below ``alpha``).
    ``fit``: one row with ``n``, ``n_events``, ``log_likelihood``, ``partial_aic``,
    ``concordance``, ``ph_terms_violated``.
    """

    coefficients: pd.DataFrame
    ph_test: pd.DataFrame
    fit: pd.DataFrame
    coding: pd.DataFrame
    notes: list[str]
    model: CoxPHFitter


def cox_model(
    frame: pd.DataFrame,
    covariates: Sequence[str],
    *,
    min_events: int = 10,
    reference: Mapping[str, str] | None = None,
    alpha: float = 0.05,
    penalizer: float = 0.0,
    ph_time_transform: str = "rank",
) -> CoxResult:
    """Cox proportional-hazards model of resolution with categorical covariates.

    Covariates (e.g. ``city``, ``agency``, ``category``, ``channel``) are dummy-coded by
    :func:`code_covariates` (rare levels lumped, documented reference). Ties use Efron's
    method (lifelines). The proportional-hazards assumption is checked per term with the
    scaled Schoenfeld residual test; a violated term means its hazard ratio is an average
    over follow-up, not a constant.

    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> records = pd.DataFrame({"channel": ["phone", "online"] * 50,
    ...                         "duration_days": rng.exponential(1.0, 100), "event": [True] * 100})
    >>> cox_model(records, ["channel"]).coefficients["term"].tolist()
    ['channel[phone]']
    """
    design = code_covariates(frame, covariates, min_events=min_events, reference=reference)
    if not design.terms:
        raise ValueError(f"no covariate of {list(covariates)} has two levels with enough closures to model")
    model = CoxPHFitter(alpha=alpha, penalizer=penalizer)
    model.fit(design.data, duration_col=DURATION, event_col=EVENT)
    s = model.summary
    pct = f"{round(100 * (1 - alpha))}%"
    coefficients = pd.DataFrame(
        {
            "term": s.index.astype(str),
            "covariate": [_term_parts(t)[0] for t in s.index],
            "level": [_term_parts(t)[1] for t in s.index],
            "coef": s["coef"].to_numpy(),
            "hazard_ratio": s["exp(coef)"].to_numpy(),
            "ci_low": s[f"exp(coef) lower {pct}"].to_numpy(),
            "ci_high": s[f"exp(coef) upper {pct}"].to_numpy(),
            "se": s["se(coef)"].to_numpy(),
            "z": s["z"].to_numpy(),
            "p_value": s["p"].to_numpy(),
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        ph = proportional_hazard_test(model, design.data, time_transform=ph_time_transform).summary
    ph_test = pd.DataFrame(
        {
            "term": ph.index.astype(str),
            "test_statistic": ph["test_statistic"].to_numpy(),
            "p_value": ph["p"].to_numpy(),
            "time_transform": ph_time_transform,
        }
    )
    ph_test["violated"] = ph_test["p_value"] < alpha
    fit = pd.DataFrame(
        [
            {
                "n": len(design.data),
                "n_events": int(design.data[EVENT].sum()),
                "log_likelihood": float(model.log_likelihood_),
                "partial_aic": float(model.AIC_partial_),
                "concordance": float(model.concordance_index_),
                "ph_terms_violated": int(ph_test["violated"].sum()),
            }
        ]
    )
    return CoxResult(coefficients, ph_test, fit, design.coding, design.notes, model)


@dataclass
class AFTResult:
    """Accelerated failure time models, compared by AIC, as tidy tables.

    ``comparison``: ``model``, ``n``, ``n_events``, ``n_parameters``, ``log_likelihood``,
    ``aic``, ``delta_aic`` (to the best), ``chosen`` (lowest AIC).
    ``coefficients``: ``model``, ``parameter`` (lifelines' ``lambda_``/``rho_`` for
    Weibull, ``mu_``/``sigma_`` for log-normal), ``term``, ``covariate``, ``level``,
    ``coef``, ``time_ratio`` = exp(coef) with ``ci_low``/``ci_high`` (for the location
    parameter: a ratio of 2 means that level's requests take twice as long as the
    reference's), ``se``, ``p_value``.
    """

    comparison: pd.DataFrame
    coefficients: pd.DataFrame
    coding: pd.DataFrame
    notes: list[str]
    models: dict


AFT_FITTERS = {"weibull": WeibullAFTFitter, "lognormal": LogNormalAFTFitter}


def aft_models(
    frame: pd.DataFrame,
    covariates: Sequence[str],
    *,
    distributions: Sequence[str] = ("weibull", "lognormal"),
    min_events: int = 10,
    reference: Mapping[str, str] | None = None,
    alpha: float = 0.05,
    zero_duration_days: float | None = None,
) -> AFTResult:
    """Weibull and log-normal AFT models with the same covariate coding, compared by AIC.

    Parametric models need strictly positive durations; a request closed at the second
    it was opened has duration 0. By default such rows raise an error; pass
    ``zero_duration_days`` (e.g. ``1 / 86400``, one second) to set them to that value,
    an explicit analysis step that the result's ``notes`` record with the row count.

    >>> import numpy as np
    >>> rng = np.random.default_rng(2)
    >>> records = pd.DataFrame({"channel": ["phone", "online"] * 50,
    ...                         "duration_days": rng.weibull(1.5, 100), "event": [True] * 100})
    >>> aft_models(records, ["channel"]).comparison["model"].tolist()
    ['weibull', 'lognormal']
    """
    design = code_covariates(frame, covariates, min_events=min_events, reference=reference)
    if not design.terms:
        raise ValueError(f"no covariate of {list(covariates)} has two levels with enough closures to model")
    data = design.data.copy()
    notes = list(design.notes)
    zero = data[DURATION] <= 0
    if zero.any():
        if zero_duration_days is None or zero_duration_days <= 0:
            raise ValueError(
                f"field duration_days: {int(zero.sum())} rows have duration 0 (rule: AFT models need durations > 0); "
                "pass zero_duration_days to set them to a small positive value, or exclude them explicitly"
            )
        data.loc[zero, DURATION] = float(zero_duration_days)
        notes.append(f"{int(zero.sum())} zero durations set to {zero_duration_days} days for the AFT models")
    unknown = [d for d in distributions if d not in AFT_FITTERS]
    if unknown:
        raise ValueError(f"unknown AFT distributions {unknown}; choose from {sorted(AFT_FITTERS)}")
    pct = f"{round(100 * (1 - alpha))}%"
    comparison, coefficient_parts, models = [], [], {}
    for name in distributions:
        model = AFT_FITTERS[name](alpha=alpha).fit(data, duration_col=DURATION, event_col=EVENT)
        models[name] = model
        s = model.summary
        comparison.append(
            {
                "model": name,
                "n": len(data),
                "n_events": int(data[EVENT].sum()),
                "n_parameters": int(len(s)),
                "log_likelihood": float(model.log_likelihood_),
                "aic": float(model.AIC_),
            }
        )
        parameters = s.index.get_level_values(0).astype(str)
        terms = s.index.get_level_values(1).astype(str)
        coefficient_parts.append(
            pd.DataFrame(
                {
                    "model": name,
                    "parameter": parameters,
                    "term": terms,
                    "covariate": [_term_parts(t)[0] for t in terms],
                    "level": [_term_parts(t)[1] for t in terms],
                    "coef": s["coef"].to_numpy(),
                    "time_ratio": s["exp(coef)"].to_numpy(),
                    "ci_low": s[f"exp(coef) lower {pct}"].to_numpy(),
                    "ci_high": s[f"exp(coef) upper {pct}"].to_numpy(),
                    "se": s["se(coef)"].to_numpy(),
                    "p_value": s["p"].to_numpy(),
                }
            )
        )
    comparison = pd.DataFrame(comparison)
    comparison["delta_aic"] = comparison["aic"] - comparison["aic"].min()
    comparison["chosen"] = comparison["delta_aic"] == 0
    return AFTResult(comparison, pd.concat(coefficient_parts, ignore_index=True), design.coding, notes, models)
