"""Figures and tables of the request-records chapter (hotlines.requests.figures).

Counts are checked against the raw files read independently (the csv module or plain
pandas, no mapping), against the provenance notes in data/requests/raw/SOURCE.md, and
against lifelines; what a figure draws is checked against the tables it draws.
"""

from __future__ import annotations

import csv
import json

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from hotlines.requests import figures, samples, survival  # noqa: E402
from hotlines.requests.loaders import read_raw  # noqa: E402
from hotlines.requests.schema import durations  # noqa: E402
from hotlines.requests.validate import validate_raw  # noqa: E402

#: sample -> (creation field, closing field) in the raw file
RAW_FIELDS = {
    "nyc_1k": ("created_date", "closed_date"),
    "nyc_20k": ("created_date", "closed_date"),
    "nyc_100": ("Created Date", "Closed Date"),
    "sf_10k": ("Opened", "Closed"),
    "boston_100": ("open_dt", "closed_dt"),
}


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def raw_rows(name: str) -> list[dict]:
    """The raw file read with the csv module: no mapping, no pandas."""
    with open(samples.path(name), newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# --------------------------------------------------------------------------- what the samples hold


def test_sample_overview_counts_rows_and_blank_closing_times_in_the_raw_files():
    overview = figures.sample_overview().set_index("sample")
    assert list(overview.index) == list(samples.SAMPLES)
    for name, (_, closed_field) in RAW_FIELDS.items():
        rows = raw_rows(name)
        row = overview.loc[name]
        assert row.read == len(rows)
        assert row.kept + row.quarantined == row.read
        assert row.no_closing_time == sum(1 for r in rows if not r[closed_field].strip())
        meta = json.loads(samples.path(name).with_name(samples.path(name).name + ".meta.json").read_text())
        assert row.read == meta["rows"]
        assert row.snapshot_local == pd.Timestamp(meta["snapshot"]["local"])
        assert "ASSUMPTION" in row.snapshot_status
    # SOURCE.md: 708 of the 1,000 April 2024 rows (70.8%) have no closed date; one of them is quarantined
    nyc = overview.loc["nyc_1k"]
    assert (nyc.no_closing_time, nyc.share_no_closing_time, nyc.quarantined) == (708, 0.708, 1)
    assert nyc.open_kept == 707 and nyc.share_open_kept == pytest.approx(707 / 999)
    # created 2024-04-15 22:51 to 2024-04-16 03:03, local time, as the raw strings say
    created = pd.to_datetime([r["created_date"] for r in raw_rows("nyc_1k")])
    assert nyc.created_first == created.min() and nyc.created_last == created.max()
    assert overview.loc["sf_10k", "quarantined"] == 129
    assert overview.loc["nyc_20k", "city_name"] == "New York" and overview.loc["sf_10k", "city_name"] == "San Francisco"


def test_validation_counts_account_for_every_row_and_match_each_summary():
    table = figures.validation_counts().set_index("rule")
    for name in samples.SAMPLES:
        assert table.loc["kept", name] + table.loc["quarantined", name] == table.loc["read", name]
        summary = samples.load(name).summary().set_index("rule")["rows"]
        for rule, rows in summary.items():
            assert table.loc[rule, name] == rows
        # a rule the sample does not break reads 0
        assert (table.loc[~table.index.isin(summary.index), name] == 0).all()
    assert table.loc["closed-before-created", "action"] == "quarantine"
    # independently: SF rows whose Closed precedes Opened in local wall time (SOURCE.md: 129)
    sf = pd.DataFrame(raw_rows("sf_10k"))
    fmt = "%m/%d/%Y %I:%M:%S %p"
    opened = pd.to_datetime(sf["Opened"], format=fmt)
    closed = pd.to_datetime(sf["Closed"].replace("", None), format=fmt)
    assert table.loc["closed-before-created", "sf_10k"] == int((closed < opened).sum()) == 129
    assert table.loc["closed-status-without-date", "nyc_1k"] == 1


def test_naive_quantiles_with_the_negative_durations_reproduce_the_shared_notes():
    """The shared notes said 'Median time to close is 2.8 days (p90 54 days)' for SF 10k:
    their figures include the 129 cases that close before they open."""
    table = figures.naive_closed_quantiles(samples.load("sf_10k")).set_index("variant")
    sf = pd.DataFrame(raw_rows("sf_10k"))
    fmt = "%m/%d/%Y %I:%M:%S %p"
    closed_rows = sf[sf["Closed"] != ""]
    wall = (pd.to_datetime(closed_rows["Closed"], format=fmt) - pd.to_datetime(closed_rows["Opened"], format=fmt))
    wall_days = wall.dt.total_seconds() / 86400
    both = table.loc["with those closing before they open"]
    valid = table.loc["closed requests as validated"]
    assert both.n == len(closed_rows) == 9530 and valid.n == 9530 - 129
    # wall-clock differences ignore daylight saving (an hour on a few cases): close, not equal
    assert both["q0.5_days"] == pytest.approx(wall_days.median(), abs=1 / 24)
    assert both["q0.9_days"] == pytest.approx(wall_days.quantile(0.9), abs=1 / 24)
    assert valid["q0.5_days"] == pytest.approx(wall_days[wall_days >= 0].median(), abs=1 / 24)
    assert (round(both["q0.5_days"], 1), round(both["q0.9_days"])) == (2.8, 54)
    assert round(valid["q0.9_days"]) == 55  # without them the p90 would have read 55
    records = durations(samples.load("sf_10k").records)
    assert valid["q0.5_days"] == records.loc[records.event, "duration_days"].median()


def test_keep_top_levels_ranks_by_count_then_name_and_refuses_a_clash():
    frame = pd.DataFrame({"category": ["b", "b", "a", "a", "c", "d", "d", "d"]})
    assert figures.top_levels(frame, "category", 3) == ["d", "a", "b"]
    kept = figures.keep_top_levels(frame, "category", 2, other="rest")
    assert kept["category"].tolist() == ["rest", "rest", "a", "a", "rest", "d", "d", "d"]
    assert len(kept) == len(frame)
    with pytest.raises(ValueError, match="already has a level named 'a'"):
        figures.keep_top_levels(frame, "category", 1, other="a")
    with pytest.raises(KeyError, match="no column 'agency'"):
        figures.keep_top_levels(frame, "agency", 1)


# --------------------------------------------------------------------------- censoring


def test_censoring_table_uses_one_horizon_and_equals_survival_row_by_row():
    records = samples.load("nyc_1k").records
    table = figures.censoring_table(records, "agency", ["NYPD", "HPD"]).set_index("group")
    data = durations(records)
    horizon = table["horizon_days"].iloc[0]
    assert (table["horizon_days"] == horizon).all()
    assert horizon == min(data.duration_days.max(), *(data[data.agency == a].duration_days.max() for a in ("NYPD", "HPD")))
    pooled = survival.naive_vs_censoring_aware(records, horizon_days=horizon).iloc[0]
    for column in ("n", "n_closed", "share_open", "naive_mean_days", "rmst_days", "rmst_ci_low"):
        assert table.loc["all requests", column] == pytest.approx(pooled[column], rel=1e-12)
    # HPD closed nothing in the window: no naive mean at all, median not reached
    raw = pd.DataFrame(raw_rows("nyc_1k"))
    hpd = raw[raw.agency == "HPD"]
    assert table.loc["HPD", "n"] == len(hpd) and table.loc["HPD", "n_closed"] == int((hpd.closed_date != "").sum()) == 0
    assert np.isnan(table.loc["HPD", "naive_mean_days"]) and np.isinf(table.loc["HPD", "km_median_days"])
    # the naive mean of NYPD's closed requests from the raw strings (no clock change that night)
    nypd = raw[(raw.agency == "NYPD") & (raw.closed_date != "")]
    naive = ((pd.to_datetime(nypd.closed_date) - pd.to_datetime(nypd.created_date)).dt.total_seconds() / 86400).mean()
    assert table.loc["NYPD", "naive_mean_days"] == pytest.approx(naive, rel=1e-12)
    # the naive mean lies far below the restricted mean, a lower bound of the true mean
    assert table.loc["all requests", "naive_mean_days"] < table.loc["all requests", "rmst_ci_low"] / 3
    with pytest.raises(ValueError, match="no records with agency = 'XYZ'"):
        figures.censoring_table(records, "agency", ["XYZ"])


# --------------------------------------------------------------------------- on time against target


def boston_like(rows):
    raw = pd.DataFrame(rows, columns=["case_enquiry_id", "open_dt", "closed_dt", "case_status", "target_dt", "ontime"])
    for column in ("department", "type", "source"):
        raw[column] = "x"
    return raw


def test_on_time_breakdown_places_each_request_by_its_dates():
    raw = boston_like([
        ["1", "2022-01-03 10:00:00", "2022-01-04 10:00:00", "Closed", "2022-01-05 10:00:00", "ONTIME"],
        ["2", "2022-01-03 10:00:00", "2022-01-06 10:00:00", "Closed", "2022-01-05 10:00:00", "OVERDUE"],
        ["3", "2022-01-03 10:00:00", "2022-01-06 10:00:00", "Closed", "", "ONTIME"],
        ["4", "2022-01-03 10:00:00", "", "Open", "2022-01-05 10:00:00", "OVERDUE"],
        ["5", "2022-01-03 10:00:00", "", "Open", "2022-03-01 10:00:00", "ONTIME"],
        ["6", "2022-01-03 10:00:00", "", "Open", "", "ONTIME"],
        ["7", "2022-01-03 10:00:00", "2022-01-05 10:00:00", "Closed", "2022-01-05 10:00:00", "ONTIME"],
    ])
    result = validate_raw(raw, "boston_311-service-requests", source_file="demo.csv",
                          snapshot=pd.Timestamp("2022-02-01", tz="UTC"))
    table = figures.on_time_breakdown(result, raw)
    got = dict(zip(table.against_target, table.requests))
    assert got == {"closed by the target": 2, "closed after the target": 1, "closed, no target": 1,
                   "open, target passed at the snapshot": 1, "open, target not reached at the snapshot": 1,
                   "open, no target": 1}
    assert table.against_target.tolist() == figures.ON_TIME_ORDER
    shares = figures.on_time_shares(table).set_index("measure")
    assert shares.loc["closed with a target, by the dates", "share_low"] == pytest.approx(2 / 3)
    assert shares.loc["closed, by the publisher's flag", "share_low"] == pytest.approx(3 / 4)
    every = shares.loc["every request with a target, by the dates"]
    assert (every.n, every.share_low, every.share_high) == (5, pytest.approx(2 / 5), pytest.approx(3 / 5))
    with pytest.raises(KeyError, match="no field 'on_time'"):
        figures.on_time_breakdown(result, raw, flag_field="on_time")


def test_boston_flag_agrees_with_the_dates_for_closed_requests():
    result = samples.load("boston_100")
    raw = read_raw(samples.path("boston_100")).frame
    table = figures.on_time_breakdown(result, raw)
    assert table.requests.sum() == result.kept == 100
    closed_with_target = table[table.against_target.isin(["closed by the target", "closed after the target"])]
    for row in closed_with_target.itertuples():
        assert row.publisher_flag == ("ONTIME" if row.against_target == "closed by the target" else "OVERDUE")
    # independently from the raw strings (one format, so text order is time order)
    rows = raw_rows("boston_100")
    with_target = [r for r in rows if r["closed_dt"] and r["target_dt"]]
    on_time = sum(r["closed_dt"] <= r["target_dt"] for r in with_target)
    shares = figures.on_time_shares(table).set_index("measure")
    first = shares.loc["closed with a target, by the dates"]
    assert (first.n, first.on_time_low) == (len(with_target), on_time)
    every = shares.loc["every request with a target, by the dates"]
    assert every.n == sum(1 for r in rows if r["target_dt"])
    assert every.share_low <= every.share_high < first.share_low


# --------------------------------------------------------------------------- engine against lifelines


def test_compare_km_tables_reports_a_perturbation_and_refuses_different_groups():
    records = pd.DataFrame({"g": ["a", "a", "b", "b"], "duration_days": [1.0, 2.0, 1.0, 3.0],
                            "event": [True, False, True, True]})
    table = survival.kaplan_meier(records, "g")
    same = figures.compare_km_tables(table, table.copy(), ["g"]).set_index("column")
    assert (same["max_abs_difference"] == 0).all()
    nudged = table.copy()
    nudged.loc[2, "survival"] += 3e-7
    nudged.loc[1, "n_censored"] += 2
    diff = figures.compare_km_tables(nudged, table, ["g"]).set_index("column")["max_abs_difference"]
    assert diff["survival"] == pytest.approx(3e-7) and diff["n_censored"] == 2 and diff["ci_low"] == 0
    with pytest.raises(ValueError, match="groups part at row 0"):
        figures.compare_km_tables(table.assign(g="z"), table, ["g"])
    with pytest.raises(ValueError, match="differ in length"):
        figures.compare_km_tables(table.iloc[:-1], table, ["g"])


def test_km_agreement_of_duckdb_and_lifelines_on_a_real_sample():
    agreement = figures.km_agreement(samples.load("nyc_1k").records, "agency").set_index("column")
    assert agreement["max_abs_difference"].max() <= 1e-9
    assert (agreement["rows"] == len(survival.kaplan_meier(samples.load("nyc_1k").records, "agency"))).all()
    assert set(agreement["backend"]) == {"duckdb"}


# --------------------------------------------------------------------------- display tables


def test_display_formats():
    assert figures.format_interval(3.17162, 2.992523, 3.441667) == "3.17 (2.99–3.44)"
    assert figures.format_interval(1234.5, 1000.0, 1500.0) == "1,234 (1,000–1,500)"
    assert figures.format_interval(float("inf"), 1.0, float("inf")) == "not reached"
    assert figures.format_p(0.0123) == "0.0123" and figures.format_p(0.0) == "< 0.001"
    q = survival.km_quantiles(pd.DataFrame({"g": ["a"] * 4 + ["b"] * 2, "duration_days": [1.0, 2, 3, 4, 1, 2],
                                            "event": [True, True, True, True, False, False]}), "g",
                              shares_closed=[0.25, 0.5])
    shown = figures.quantile_display(q, "g", sample="demo", scale=24)
    assert shown.columns.tolist() == ["Sample", "G", "Requests", "Closed", "Median (95% CI)"]
    assert shown["Median (95% CI)"].tolist()[1] == "not reached"
    assert shown["Median (95% CI)"].tolist()[0].startswith("48.0 (")


def test_cox_display_carries_each_term_and_its_ph_verdict():
    rng = np.random.default_rng(7)
    n = 300
    channel = np.where(np.arange(n) % 2 == 0, "phone", "online")
    records = pd.DataFrame({"channel": channel, "duration_days": rng.exponential(np.where(channel == "phone", 1.0, 2.0)),
                            "event": rng.random(n) < 0.8})
    cox = survival.cox_model(records, ["channel"])
    shown = figures.cox_display(cox)
    assert shown["Level"].tolist() == cox.coefficients["level"].tolist() == ["phone"]
    hr = cox.coefficients.iloc[0]
    assert shown["Hazard ratio (95% CI)"].iloc[0] == figures.format_interval(hr.hazard_ratio, hr.ci_low, hr.ci_high)
    assert shown["PH holds"].iloc[0] == ("no" if cox.ph_test["violated"].iloc[0] else "yes")
    aft = survival.aft_models(records, ["channel"])
    table = figures.aft_display(aft)
    assert table["ΔAIC"].tolist().count("0.0") == 1 and len(table) == 2


# --------------------------------------------------------------------------- figures


def _curves(ax):
    return [line for line in ax.get_lines() if not line.get_label().startswith("_")]


def test_censoring_figure_draws_the_km_curve_the_closed_curve_and_both_means():
    records = samples.load("nyc_1k").records
    summary = figures.censoring_table(records).iloc[0]
    fig = figures.censoring_figure(records, horizon_days=summary.horizon_days)
    ax = fig.axes[0]
    km_line, closed_line = _curves(ax)
    km = survival.kaplan_meier(records)
    np.testing.assert_allclose(km_line.get_xdata(), km["time_days"] * 24)
    np.testing.assert_allclose(km_line.get_ydata(), km["survival"])
    data = durations(records)
    closed = np.sort(data.loc[data.event, "duration_days"].to_numpy())
    assert len(closed_line.get_xdata()) == len(closed) + 2
    assert closed_line.get_ydata()[-1] == 0 and closed_line.get_ydata()[0] == 1
    vertical = sorted(line.get_xdata()[0] for line in ax.get_lines() if line.get_label().startswith("_") and
                      line.get_xdata()[0] == line.get_xdata()[1])
    assert vertical == pytest.approx(sorted([closed.mean() * 24, summary.rmst_days * 24]))
    assert "Hours" in ax.get_xlabel() and "still open" in ax.get_ylabel()
    assert fig._suptitle.get_text() and "70.8% still open" in ax.get_title(loc="left")
    assert ax.get_xlim()[1] == pytest.approx(data.duration_days.max() * 24)


def test_km_comparison_figure_stays_within_a_thousandth_of_each_curve():
    curves = {"nyc_20k": samples.load("nyc_20k").records, "boston_100": samples.load("boston_100").records}
    fig = figures.km_comparison_figure(curves)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    lines = _curves(ax)
    assert [line.get_label() for line in lines] == [figures.sample_label(n, r) for n, r in curves.items()]
    assert "n = 20,000" in lines[0].get_label() and "NYPD only" in lines[0].get_label()
    assert "Dec 2015" in lines[0].get_label() and "Jan 2022" in lines[1].get_label()
    start = 1 / 1440
    for line, records in zip(lines, curves.values()):
        km = survival.kaplan_meier(records)
        x, y = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
        assert x[0] == start and y[0] == km.loc[km.time_days <= start, "survival"].iloc[-1]
        later = km[km.time_days > start]
        drawn = y[np.searchsorted(x, later["time_days"].to_numpy(), side="right") - 1]
        assert np.abs(drawn - later["survival"].to_numpy()).max() < figures.STEP_RESOLUTION
        assert y[-1] == km["survival"].iloc[-1]
    # the 20,000-row curve is thinned, the 100-row one is not
    assert len(lines[0].get_xdata()) < len(survival.kaplan_meier(curves["nyc_20k"]))
    assert len(lines[1].get_xdata()) == (survival.kaplan_meier(curves["boston_100"]).time_days > start).sum() + 1
