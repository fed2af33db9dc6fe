"""Survival analysis of request records (hotlines.requests.survival), on the real samples.

The canonical frames are built here from the raw samples in ../shared/data/raw with a
thin conversion (the project's loaders supersede it). The retrieval time of those files
is unknown, so each file's snapshot is, for these tests, the latest observed timestamp
it contains (created, closed, or last update; never a due date, which is a target).
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter
from lifelines.utils import restricted_mean_survival_time
from scipy.stats import norm
from statsmodels.duration.hazard_regression import PHReg
from statsmodels.duration.survfunc import survdiff

from hotlines.requests import samples, survival
from hotlines.requests.schema import CITY_TIMEZONES, conform, durations

SF_10K = samples.path("sf_10k")


# --------------------------------------------------------------------------- canonical frames from the shipped samples
# Read through the real loaders (data/requests/raw, mapping and snapshot from each sidecar).


def nyc_1k() -> pd.DataFrame:
    """NYC 311, 1,000 requests of 15–16 April 2024, all agencies (API export): 999 kept, 1 quarantined."""
    return samples.load("nyc_1k").records


def nyc_20k() -> pd.DataFrame:
    """NYC 311, 20,000 NYPD requests of December 2015 (all kept)."""
    return samples.load("nyc_20k").records


def sf_10k_valid() -> pd.DataFrame:
    """SF311, 10,000 cases 2008–2016 (legacy structure) as validated: the 129 closed before opened are quarantined."""
    result = samples.load("sf_10k")
    assert result.quarantined == 129
    return result.records


def sf_10k() -> pd.DataFrame:
    """The SF records with 129 cases made to close before they open: bad input the analysis must refuse.

    The loader quarantines the sample's own 129 such cases, so the tests build the bad rows explicitly:
    the first 129 closed cases get a closing time one hour before their opening.
    """
    frame = sf_10k_valid()
    closed = frame.index[frame["closed"].notna() & frame["is_closed"].fillna(False).astype(bool)][:129]
    frame.loc[closed, "closed"] = frame.loc[closed, "created"] - pd.Timedelta(hours=1)
    return frame


# --------------------------------------------------------------------------- a Kaplan–Meier table by hand

#: six requests: durations in days, closed (1) or still open (0); ties at 2 days with both kinds
HAND_DURATIONS = [1.0, 2.0, 2.0, 2.0, 4.0, 5.0]
HAND_EVENTS = [1, 1, 1, 0, 0, 1]


def hand_km(alpha: float = 0.05) -> pd.DataFrame:
    """The product-limit table of HAND_*, written out step by step.

    t=0: 6 at risk, S=1. t=1: 6 at risk, 1 closes: S = 5/6.
    t=2: 5 at risk, 2 close, 1 censored: S = 5/6 * 3/5 = 1/2.
    t=4: 2 at risk, 0 close, 1 censored: S = 1/2.  t=5: 1 at risk, 1 closes: S = 0.
    Greenwood: V(t) = sum d/(n(n-d)): 1/30 at 1; 1/30 + 2/15 = 1/6 at 2 and 4; the term
    at 5 (n = d) counts 0. CI: exp(-exp(log(-log S) -/+ z sqrt(V)/log S)).
    """
    z = norm.ppf(1 - alpha / 2)
    rows = [(0.0, 6, 0, 0, 1.0, 0.0), (1.0, 6, 1, 0, 5 / 6, 1 / 30), (2.0, 5, 2, 1, 1 / 2, 1 / 6),
            (4.0, 2, 0, 1, 1 / 2, 1 / 6), (5.0, 1, 1, 0, 0.0, 1 / 6)]
    out = []
    for time, at_risk, events, censored, s, v in rows:
        if s == 1.0:
            low = high = 1.0
        elif s == 0.0:
            low = high = 0.0
        else:
            log_s = math.log(s)
            low = math.exp(-math.exp(math.log(-log_s) - z * math.sqrt(v) / log_s))
            high = math.exp(-math.exp(math.log(-log_s) + z * math.sqrt(v) / log_s))
        out.append((time, at_risk, events, censored, s, low, high))
    return pd.DataFrame(out, columns=survival.KM_COLUMNS)


def test_kaplan_meier_equals_the_hand_computed_product_limit():
    records = pd.DataFrame({"duration_days": HAND_DURATIONS, "event": HAND_EVENTS})
    table = survival.kaplan_meier(records)
    expected = hand_km()
    assert table["n_at_risk"].tolist() == expected["n_at_risk"].tolist()
    assert table["n_events"].tolist() == expected["n_events"].tolist()
    assert table["n_censored"].tolist() == expected["n_censored"].tolist()
    for column in ("time_days", "survival", "ci_low", "ci_high"):
        np.testing.assert_allclose(table[column], expected[column], rtol=0, atol=1e-12, err_msg=column)
    # the interval is not symmetric and stays inside (0, 1)
    row = table.iloc[2]
    assert 0 < row.ci_low < row.survival < row.ci_high < 1


def test_quantiles_of_the_hand_example():
    records = pd.DataFrame({"duration_days": HAND_DURATIONS, "event": HAND_EVENTS})
    q = survival.km_quantiles(records, shares_closed=[0.25, 0.5, 0.75]).set_index("share_closed")
    # S falls to 5/6 at 1 (> 3/4), to 1/2 at 2, to 0 at 5. In floating point S(2) comes
    # out 0.5000000000000001, and an exact comparison (lifelines' qth_survival_time) would
    # put the median at 5: the tolerance keeps it at 2.
    assert q.loc[0.25, "estimate_days"] == 2.0
    assert q.loc[0.5, "estimate_days"] == 2.0
    assert q.loc[0.75, "estimate_days"] == 5.0
    assert q["reached"].all()


def test_uncensored_quantiles_are_the_empirical_quantiles():
    rng = np.random.default_rng(11)
    times = rng.exponential(3.0, 37).round(3)
    q = survival.km_quantiles(pd.DataFrame({"duration_days": times, "event": True}), shares_closed=[0.1, 0.5, 0.9])
    expected = np.quantile(times, [0.1, 0.5, 0.9], method="inverted_cdf")
    np.testing.assert_array_equal(q["estimate_days"].to_numpy(), expected)


def test_open_requests_are_censored_at_the_snapshot_not_dropped():
    frame = nyc_1k()
    table = survival.kaplan_meier(frame)
    # every kept record is counted once: as a closure or as a censoring (the loader quarantined
    # one of the 1,000 rows: status Closed without a closing date, so 999 are kept and 708 - 1 are open)
    assert int(table["n_events"].sum()) == 292
    assert int(table["n_censored"].sum()) == 707
    assert table["n_at_risk"].iloc[0] == 999


def test_records_closed_before_opened_are_refused_with_file_and_row():
    with pytest.raises(ValueError) as error:
        survival.kaplan_meier(sf_10k(), "category")
    message = str(error.value)
    assert "129 rows close before they open" in message
    assert SF_10K.name in message and " row " in message and "closed >= created" in message


def test_missing_created_is_refused():
    frame = nyc_1k()
    frame.loc[3, "created"] = pd.NaT
    with pytest.raises(ValueError, match=r"1 rows have no computable duration.*row 4"):
        survival.kaplan_meier(frame)


# --------------------------------------------------------------------------- naive versus censoring-aware


def test_naive_mean_of_closed_requests_is_far_below_the_censoring_aware_estimate():
    table = survival.naive_vs_censoring_aware(nyc_1k())
    row = table.iloc[0]
    # independent of the package: straight from the raw file, less the row the loader quarantined
    # (status Closed without a closing date); of all 1,000 rows, 70.8% have no closing date
    raw = pd.read_csv(samples.path("nyc_1k"), dtype=str, keep_default_na=False, na_values=[""])
    assert raw["closed_date"].isna().mean() == pytest.approx(0.708)
    quarantined = set(samples.load("nyc_1k").quarantine["unique_key"])
    raw = raw[~raw["unique_key"].isin(quarantined)]
    closed = raw["closed_date"].notna()
    assert row.share_open == pytest.approx(1 - closed.mean()) == pytest.approx(707 / 999)
    naive_days = (pd.to_datetime(raw.loc[closed, "closed_date"]) - pd.to_datetime(raw.loc[closed, "created_date"]))
    naive_days = naive_days.dt.total_seconds() / 86400
    assert row.naive_mean_days == pytest.approx(naive_days.mean(), rel=1e-12)
    assert row.naive_median_days == pytest.approx(naive_days.median(), rel=1e-12)
    # more than half are open at the end of follow-up: the median is not reached at all
    assert math.isinf(row.km_median_days)
    # the restricted mean is a lower bound of the true mean; the naive mean is below a
    # quarter of even its lower confidence limit
    assert row.naive_mean_days * 4 < row.rmst_ci_low < row.rmst_days < row.rmst_ci_high
    assert row.horizon_days == pytest.approx(durations(nyc_1k())["duration_days"].max())


def test_naive_vs_censoring_aware_per_group_uses_a_common_horizon():
    table = survival.naive_vs_censoring_aware(nyc_1k(), "channel")
    assert table["channel"].tolist() == ["MOBILE", "ONLINE", "PHONE", "UNKNOWN"]
    assert table["n"].sum() == 999 and table["n_closed"].sum() == 292  # 1,000 read, 1 quarantined
    assert table["horizon_days"].nunique() == 1
    assert (table["naive_mean_days"] < table["rmst_days"]).all()


def test_rmst_matches_lifelines_and_its_variance_reduces_to_the_sample_variance():
    frame = nyc_1k()
    data = durations(frame)
    kmf = KaplanMeierFitter().fit(data["duration_days"], data["event"])
    horizon = 0.1
    r = survival.restricted_mean(frame, horizon_days=horizon)
    assert r["estimate_days"].item() == pytest.approx(restricted_mean_survival_time(kmf, t=horizon), rel=1e-12)
    # without censoring the Greenwood-type variance is the plug-in variance of min(T, tau) / n
    rng = np.random.default_rng(5)
    times = rng.exponential(2.0, 50).round(2)
    uncensored = survival.restricted_mean(pd.DataFrame({"duration_days": times, "event": True}), horizon_days=3.0)
    capped = np.minimum(times, 3.0)
    assert uncensored["estimate_days"].item() == pytest.approx(capped.mean(), rel=1e-12)
    assert uncensored["se_days"].item() ** 2 == pytest.approx(capped.var(ddof=0) / len(capped), rel=1e-10)


# --------------------------------------------------------------------------- log-rank tests


def test_multivariate_logrank_equals_statsmodels_survdiff():
    frame = nyc_1k()
    data = durations(frame)
    ours = survival.logrank_multivariate(frame, "channel").iloc[0]
    statistic, p_value = survdiff(data["duration_days"].to_numpy(), data["event"].astype(int).to_numpy(),
                                  data["channel"].astype(str).to_numpy())
    assert ours.test_statistic == pytest.approx(statistic, rel=1e-8)
    assert ours.p_value == pytest.approx(p_value, rel=1e-6)
    assert ours.df == 3 and ours.groups == 4 and ours.n == 999 and ours.n_events == 292


def test_pairwise_logrank_equals_two_group_survdiff_and_holm():
    frame = sf_10k_valid()
    frame = frame[frame["channel"].isin(["Voice In", "Open311", "Web Self Service"])]
    data = durations(frame)
    table = survival.logrank_pairwise(frame, "channel")
    assert len(table) == 3
    for row in table.itertuples():
        pair = data[data["channel"].isin([row.group_a, row.group_b])]
        statistic, _ = survdiff(pair["duration_days"].to_numpy(), pair["event"].astype(int).to_numpy(),
                                pair["channel"].astype(str).to_numpy())
        assert row.test_statistic == pytest.approx(statistic, rel=1e-8)
        assert row.n_a == int((data["channel"] == row.group_a).sum())
    ordered = np.sort(table["p_value"].to_numpy())
    holm = np.minimum(1, np.maximum.accumulate(ordered * np.array([3, 2, 1])))
    np.testing.assert_allclose(np.sort(table["p_holm"].to_numpy()), holm, rtol=1e-12)


# --------------------------------------------------------------------------- covariate coding, Cox, AFT


def test_rare_levels_are_lumped_and_the_reference_is_the_largest_level():
    design = survival.code_covariates(nyc_1k(), ["agency", "channel"], min_events=10)
    coding = design.coding.set_index(["covariate", "level"])
    assert coding.loc[("agency", "NYPD"), "role"] == "reference"
    # HPD: 370 requests, no closure within the sample's few hours of follow-up
    assert coding.loc[("agency", "HPD"), "role"] == "lumped"
    assert coding.loc[("agency", "HPD"), "coded_as"] == "other"
    assert coding.loc[("agency", "HPD"), "n_events"] == 0
    assert coding.loc[("channel", "ONLINE"), "role"] == "reference"
    assert coding.loc[("channel", "UNKNOWN"), "coded_as"] == "other"
    assert design.terms == ["agency[other]", "channel[MOBILE]", "channel[PHONE]", "channel[other]"]
    # every row is in the model, and the dummies say which level it has
    assert len(design.data) == 999
    assert design.data["agency[other]"].sum() == 499
    assert any("imprecise" in note for note in design.notes)


def test_a_lumped_level_without_any_closure_is_refused():
    frame = nyc_1k()
    frame = frame[frame["agency"].isin(["NYPD", "HPD"])]
    with pytest.raises(ValueError, match=r"'agency'.*HPD.*no closure"):
        survival.code_covariates(frame, ["agency"], min_events=10)


def test_cox_model_matches_statsmodels_and_reports_the_ph_check():
    frame = nyc_1k()
    result = survival.cox_model(frame, ["agency", "channel"], min_events=10)
    terms = ["agency[other]", "channel[MOBILE]", "channel[PHONE]", "channel[other]"]
    assert result.coefficients["term"].tolist() == terms
    assert result.coefficients["covariate"].tolist() == ["agency", "channel", "channel", "channel"]
    np.testing.assert_allclose(result.coefficients["hazard_ratio"], np.exp(result.coefficients["coef"]), rtol=1e-12)
    assert (result.coefficients["ci_low"] < result.coefficients["hazard_ratio"]).all()
    # an independent implementation (statsmodels, Efron ties) on the same design
    design = survival.code_covariates(frame, ["agency", "channel"], min_events=10).data
    reference = PHReg(design["duration_days"].to_numpy(), design[terms].to_numpy(),
                      status=design["event"].astype(int).to_numpy(), ties="efron").fit()
    np.testing.assert_allclose(result.coefficients["coef"], reference.params, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(result.coefficients["se"], reference.bse, rtol=1e-3)
    # the other agencies (HPD among them) close far more slowly than NYPD in the first hours
    assert result.coefficients.set_index("term").loc["agency[other]", "hazard_ratio"] < 0.1
    assert sorted(result.ph_test["term"]) == sorted(terms)
    assert result.ph_test["p_value"].between(0, 1).all()
    assert result.fit["n"].item() == 999 and result.fit["n_events"].item() == 292
    assert result.fit["ph_terms_violated"].item() == int(result.ph_test["violated"].sum())


def test_aft_models_compare_by_aic_and_agree_in_direction_with_cox():
    frame = nyc_1k()
    with pytest.raises(ValueError, match="duration 0"):
        survival.aft_models(frame, ["agency", "channel"])
    result = survival.aft_models(frame, ["agency", "channel"], zero_duration_days=1 / 86400)
    comparison = result.comparison.set_index("model")
    assert list(comparison.index) == ["weibull", "lognormal"]
    np.testing.assert_allclose(comparison["aic"], 2 * comparison["n_parameters"] - 2 * comparison["log_likelihood"])
    assert comparison["chosen"].sum() == 1
    assert comparison.loc[comparison["chosen"], "aic"].item() == comparison["aic"].min()
    # 6 closed at the second they opened, and the request created at the snapshot
    assert any(note.startswith("7 zero durations") for note in result.notes)
    weibull = result.coefficients[(result.coefficients["model"] == "weibull") & (result.coefficients["parameter"] == "lambda_")]
    assert set(weibull["term"]) == {"Intercept", "agency[other]", "channel[MOBILE]", "channel[PHONE]", "channel[other]"}
    np.testing.assert_allclose(weibull["time_ratio"], np.exp(weibull["coef"]), rtol=1e-12)
    cox = survival.cox_model(frame, ["agency", "channel"]).coefficients.set_index("term")
    for row in weibull[weibull["term"] != "Intercept"].itertuples():
        if row.p_value < 0.01 and cox.loc[row.term, "p_value"] < 0.01:
            # a higher hazard of closure is a shorter time to it
            assert np.sign(row.coef) == -np.sign(cox.loc[row.term, "coef"])
