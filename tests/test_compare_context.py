"""The curated GDP table: its schema and quotes, currency conversion and the choice of one figure per city."""

from __future__ import annotations

import pandas as pd
import pytest

from hotlines import data, paths
from hotlines.compare.context import (COLUMNS, CityContextError, check_city_context, choose_gdp, gdp_in_usd,
                                      load_city_context)

CONTEXT = paths.REPO_ROOT / "data" / "city_context.csv"


def raw_table(path=CONTEXT) -> pd.DataFrame:
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    return table


def test_the_shipped_table_passes_its_schema_and_quote_checks():
    table = raw_table()
    assert list(table.columns) == COLUMNS
    problems = check_city_context(table, city_ids=set(data.cities()["city_id"]))
    assert problems == [], "\n".join(map(str, problems))
    for rec in table.itertuples():
        assert " ".join(rec.value_as_stated.split()) in " ".join(rec.quote.split())
        assert rec.url.startswith("http") and rec.source_id and rec.locator
    gdp = table[table["variable"] == "gdp"]
    assert (gdp["unit"] == gdp["currency"] + " billion").all()
    fx = table[table["variable"] == "fx_rate"]
    assert (fx["city_id"] == "").all() and (fx["year"] != "").all()


def test_the_shipped_exchange_rates_cover_every_converted_gdp_year():
    converted = gdp_in_usd(load_city_context())
    missing = converted[converted["value_usd"].isna()]
    # The only unconverted figures are those whose year has no rate in the table (said in their note).
    assert set(missing["city_id"]) == {"berlin", "madrid"}
    assert missing["conversion"].str.startswith("no EUR rate").all()


def fixture_rows():
    base = {c: "" for c in COLUMNS}
    common = {"qualifier": "=", "price_basis": "nominal", "source_kind": "official_statistics", "url": "http://x",
              "locator": "table 1", "area_as_population": "true", "area": "city proper"}
    return [
        {**base, **common, "city_id": "alpha", "variable": "gdp", "value": "700", "value_as_stated": "700",
         "unit": "CNY billion", "currency": "CNY", "year": "2023", "source_id": "s_a", "quote": "GDP 700 billion"},
        {**base, **common, "city_id": "alpha", "variable": "gdp", "value": "600", "value_as_stated": "600",
         "unit": "CNY billion", "currency": "CNY", "year": "2020", "source_id": "s_b", "quote": "GDP 600 billion"},
        {**base, **common, "city_id": "beta", "variable": "gdp", "value": "100", "value_as_stated": "100",
         "unit": "EUR billion", "currency": "EUR", "year": "2022", "source_id": "s_c", "quote": "PIB 100"},
        {**base, **common, "city_id": "gamma", "variable": "gdp", "value": "900", "value_as_stated": "900",
         "unit": "USD billion", "currency": "USD", "year": "2021", "source_id": "s_d", "quote": "GDP $900 billion",
         "area": "metropolitan area", "area_as_population": "false"},
        {**base, **common, "city_id": "gamma", "variable": "gdp", "value": "300", "value_as_stated": "300",
         "unit": "USD billion", "currency": "USD", "year": "2022", "source_id": "s_e", "quote": "GDP $300 billion",
         "price_basis": "real"},
        {**base, **common, "city_id": "delta", "variable": "gdp", "value": "50", "value_as_stated": "50",
         "unit": "EUR billion", "currency": "EUR", "year": "2016", "source_id": "s_f", "quote": "50 billion"},
        {**base, **common, "variable": "fx_rate", "value": "7.0", "value_as_stated": "7.0", "unit": "CNY per USD",
         "currency": "CNY", "year": "2023", "source_id": "fed", "quote": "YUAN 7.0 6.5", "area_as_population": "",
         "area": "", "price_basis": "annual average", "source_kind": "central_bank"},
        {**base, **common, "variable": "fx_rate", "value": "1.05", "value_as_stated": "1.05", "unit": "USD per EUR",
         "currency": "EUR", "year": "2022", "source_id": "fed", "quote": "*EURO 1.05", "area_as_population": "",
         "area": "", "price_basis": "annual average", "source_kind": "central_bank"},
    ]


def write(tmp_path, rows):
    path = tmp_path / "city_context.csv"
    pd.DataFrame(rows, columns=COLUMNS).to_csv(path, index=False)
    return path


def test_conversion_divides_or_multiplies_by_the_same_year_rate(tmp_path):
    table = load_city_context(write(tmp_path, fixture_rows()), check_keys=False)
    usd = gdp_in_usd(table).set_index(["city_id", "year"])
    assert usd.loc[("alpha", 2023), "value_usd"] == pytest.approx(100.0)
    assert usd.loc[("beta", 2022), "value_usd"] == pytest.approx(105.0)
    assert pd.isna(usd.loc[("alpha", 2020), "value_usd"])
    assert usd.loc[("alpha", 2020), "conversion"] == "no CNY rate for 2020 in the table"
    assert usd.loc[("gamma", 2021), "conversion"] == "already in USD"


def test_choice_rule_territory_conversion_price_basis_then_recency(tmp_path):
    table = load_city_context(write(tmp_path, fixture_rows()), check_keys=False)
    chosen = choose_gdp(table).set_index("city_id")
    assert chosen.loc["alpha", "year"] == 2023 and chosen.loc["alpha", "value_usd"] == pytest.approx(100.0)
    assert "not convertible" in chosen.loc["alpha", "alternatives"]
    assert chosen.loc["gamma", "value_usd"] == pytest.approx(300.0)  # the metro-area figure is not the city's
    assert "is not the population's" in chosen.loc["gamma", "alternatives"]
    assert not chosen.loc["delta", "chosen"] and "no EUR rate for 2016" in chosen.loc["delta", "reason"]
    nominal = choose_gdp(table, require_nominal=True).set_index("city_id")
    assert not nominal.loc["gamma", "chosen"] and "real, not nominal" in nominal.loc["gamma", "reason"]
    anywhere = choose_gdp(table, require_same_area=False).set_index("city_id")
    assert anywhere.loc["gamma", "value_usd"] == pytest.approx(300.0)  # still the more recent one


def test_bad_rows_give_file_row_field_and_rule(tmp_path):
    rows = fixture_rows()
    rows[0]["value_as_stated"] = "701"
    rows[2]["unit"] = "EUR million"
    rows[6]["city_id"] = "alpha"
    rows[3]["value"] = "-5"
    with pytest.raises(CityContextError) as caught:
        load_city_context(write(tmp_path, rows), check_keys=False)
    found = {(p.row, p.field, p.rule) for p in caught.value.problems}
    assert (1, "value_as_stated", "stated-in-quote") in found
    assert (3, "unit", "unit") in found
    assert (7, "city_id", "fx-no-city") in found
    assert (4, "value", "positive") in found
    assert "city_context.csv, row 1" in str(caught.value)


def test_unknown_city_and_source_keys_are_reported():
    rows = pd.DataFrame(fixture_rows()[:1], columns=COLUMNS)
    problems = check_city_context(rows, city_ids={"beijing"}, source_ids={"other"})
    assert {p.rule for p in problems} == {"foreign-key"}
    assert {p.field for p in problems} == {"city_id", "source_id"}
