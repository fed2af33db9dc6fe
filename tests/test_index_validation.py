"""The rebuild against the statistics the report states."""

from __future__ import annotations

import numpy as np
import pytest

from hotlines import data
from hotlines.index import CompositeIndex, compare_with_report


@pytest.fixture(scope="module")
def index():
    return CompositeIndex()


@pytest.fixture(scope="module")
def table(index):
    return compare_with_report(index).set_index("statistic")


def test_reported_values_come_from_the_evidence_base(table):
    published = data.indicators().set_index("indicator_id")
    for statistic, row_id in [("Process Governance, average of 20 cities", "I0338"),
                              ("Collaborative Governance, average of 20 cities", "I0332"),
                              ("Function Coordination, average of 20 cities", "I0333"),
                              ("Beijing, Smart Governance", "I0039"),
                              ("Cities assigning unique appeal IDs", "I0331")]:
        assert table.at[statistic, "source"] == f"indicators.csv {row_id}"
        assert table.at[statistic, "reported"] == pytest.approx(float(published.at[row_id, "value"]))
    assert table.at["Process Governance, average of 20 cities", "reported"] == 16.4
    assert table.at["Collaborative Governance, average of 20 cities", "reported"] == 18.1
    assert table.at["Beijing, Smart Governance", "reported"] == 28


def test_rebuilt_values_match_an_independent_computation(index, table):
    # Process Governance = sum over its four items of weight x normalised value, averaged over the cities
    w = index.weights.set_index("id")["weight"]
    items = ["call_answer_rate", "channel_diversity", "appeal_traceability", "dispatch_manual"]
    process = (index.normalised[items] * w[items]).sum(axis=1)
    assert table.at["Process Governance, average of 20 cities", "rebuilt"] == pytest.approx(process.mean())
    fc = (index.normalised[["supervision_leadership_level", "interdepartmental_mechanism"]] * 5).sum(axis=1)
    assert table.at["Function Coordination, average of 20 cities", "rebuilt"] == pytest.approx(fc.mean())
    # the pool count of unique IDs is the sum of the imputed binary values
    assert table.at["Cities assigning unique appeal IDs", "rebuilt"] == pytest.approx(index.imputed["appeal_traceability"].sum())
    diff = table["rebuilt"] - table["reported"]
    addressable = table["addressable"]
    assert np.allclose(table.loc[addressable, "difference"], diff[addressable])


def test_not_addressable_rows_are_explained_not_filled(table):
    rows = table[~table["addressable"]]
    assert len(rows) >= 6
    assert rows["rebuilt"].isna().all() and rows["difference"].isna().all()
    assert rows["explanation"].str.startswith("Not addressable").all()
    survey = rows.loc["Citizen survey: trust in the hotline", "explanation"]
    assert "Survey items not available" in survey


def test_explanations_name_the_reasons_with_numbers(table):
    text = table.at["Process Governance, average of 20 cities", "explanation"]
    assert "appeal_traceability: 5 of 20 observed" in text and "third-level weights are not published" in text
    fc = table.at["Cities with Function Coordination 10/10 (report names 7)", "explanation"]
    assert fc.startswith("7 of the 7 named cities reach 10/10")
    # the rebuild reproduces Beijing's two named full marks by construction, and says so
    assert table.at["Beijing, Decision-making Support", "rebuilt"] == pytest.approx(10.0)
    assert "by construction" in table.at["Beijing, Decision-making Support", "explanation"]


def test_worst_imputation_changes_the_rebuilt_side_only(index, table):
    worst = compare_with_report(index.with_(imputation="worst")).set_index("statistic")
    assert (worst["reported"].fillna(-1) == table["reported"].fillna(-1)).all()
    # 'not mentioned' read as 'not present': five cities with stated unique IDs
    assert worst.at["Cities assigning unique appeal IDs", "rebuilt"] == 5
    assert worst.at["Process Governance, average of 20 cities", "rebuilt"] < table.at["Process Governance, average of 20 cities", "rebuilt"]
