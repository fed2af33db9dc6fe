"""City context: sourced GDP, GDP per capita and exchange rates (``data/city_context.csv``).

GDP is not part of the evidence base proper; it was curated for one test, the 2024
report's claim that population, not GDP, goes with hotline performance. Every row
carries its source, locator and the verbatim words it was read from, like every
other table of ``data/``. Columns:

``city_id``
    a city of ``cities.csv``; empty for an exchange rate.
``variable``
    ``gdp`` (unit ``<CUR> billion``), ``gdp_per_capita`` (unit ``<CUR>``) or
    ``fx_rate`` (unit ``<CUR> per USD`` or ``USD per <CUR>``, an annual average).
``value``, ``qualifier``, ``value_as_stated``
    the number in the table's unit, ``=``/``~``/``<``/``>`` as the source words it,
    and the number as written in ``quote`` (it must occur there).
``unit``, ``currency``, ``price_basis``
    unit as above; ISO 4217 currency; ``nominal``, ``real``, ``annual average`` (rates)
    or ``not stated``.
``year``, ``period``
    calendar (or fiscal) year and the period as the source states it; a year the
    source does not give stays empty.
``area``, ``area_as_population``
    the territory the figure covers (city proper, municipality with rural counties,
    metropolitan area, region) and whether it is the territory of the city's
    population in ``cities.csv``.
``source_id``, ``source_kind``, ``url``, ``locator``, ``quote``, ``note``
    source (a row of ``sources.csv``), its kind (``official_statistics``,
    ``government``, ``central_bank``, ``news``, ``other``), where on the page, the
    verbatim words, remarks.

Missing stays missing: a city without a sourced figure has no row. Currency
conversion is an analysis step (:func:`gdp_in_usd`), done with the ``fx_rate`` rows
of the same table, never with a rate from memory.

>>> table = load_city_context()
>>> sorted(set(table["variable"]))
['fx_rate', 'gdp', 'gdp_per_capita']
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd

from .. import paths
from ..data.validate import Problem

FILE = "city_context.csv"
COLUMNS = ["city_id", "variable", "value", "qualifier", "value_as_stated", "unit", "currency", "price_basis",
           "year", "period", "area", "area_as_population", "source_id", "source_kind", "url", "locator", "quote",
           "note"]
VARIABLES = ("gdp", "gdp_per_capita", "fx_rate")
QUALIFIERS = ("=", "~", "<", ">", "<=", ">=")
PRICE_BASES = ("nominal", "real", "annual average", "not stated")
SOURCE_KINDS = ("official_statistics", "government", "central_bank", "news", "other")
#: Source kinds ranked from the most to the least authoritative, for choosing between rows.
SOURCE_RANK = {"official_statistics": 0, "central_bank": 0, "government": 1, "news": 2, "other": 3}


class CityContextError(ValueError):
    """The city context table breaks a rule; every problem names file, row, field and rule."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        shown = "\n".join(str(p) for p in problems[:25])
        more = len(problems) - 25
        super().__init__(f"{len(problems)} problem(s) in the city context table:\n{shown}"
                         + (f"\n... and {more} more" if more > 0 else ""))


def _collapse(text) -> str:
    return " ".join(str(text).split())


def _blank(value) -> bool:
    return value is None or (not isinstance(value, str) and pd.isna(value)) or str(value).strip() == ""


def _unit_rule(variable: str, unit: str, currency: str) -> str | None:
    """None when ``unit`` fits the variable and currency, else the rule it breaks."""
    if variable == "gdp" and unit != f"{currency} billion":
        return f"a gdp row's unit is '<currency> billion' ('{currency} billion' here)"
    if variable == "gdp_per_capita" and unit != currency:
        return f"a gdp_per_capita row's unit is the currency itself ('{currency}' here)"
    if variable == "fx_rate" and unit not in (f"{currency} per USD", f"USD per {currency}"):
        return f"an fx_rate row's unit is '{currency} per USD' or 'USD per {currency}'"
    return None


def check_city_context(table: pd.DataFrame, file: str = FILE, city_ids=None, source_ids=None) -> list[Problem]:
    """Every broken rule of the table (empty list when it is valid); never raises on bad data.

    ``city_ids`` and ``source_ids``, when given, are the keys a row's ``city_id`` and
    ``source_id`` must belong to (``cities.csv`` and ``sources.csv``).

    >>> bad = pd.DataFrame([{**{c: "" for c in COLUMNS}, "variable": "gdp", "value": "12",
    ...                      "value_as_stated": "13", "quote": "GDP was 12"}])
    >>> sorted({p.rule for p in check_city_context(bad)})
    ['boolean', 'currency', 'price-basis', 'qualifier', 'required', 'source-id', 'source-kind', 'stated-in-quote']
    """
    problems: list[Problem] = []
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        return [Problem(file, None, c, "column", "required column is missing") for c in missing]
    seen: dict[tuple, int] = {}
    for i, rec in enumerate(table.to_dict("records"), start=1):
        key = f"{rec['city_id'] or rec['currency']} {rec['variable']} {rec['year']}"

        def bad(field: str, rule: str, message: str) -> None:
            problems.append(Problem(file, i, field, rule, message, key))

        variable = str(rec["variable"])
        if variable not in VARIABLES:
            bad("variable", "variable", f"{variable!r} is not one of {', '.join(VARIABLES)}")
        try:
            value = float(rec["value"])
            if not value > 0:
                bad("value", "positive", f"{rec['value']!r} is not a positive number")
        except (TypeError, ValueError):
            bad("value", "number", f"{rec['value']!r} is not a number")
        if rec["qualifier"] not in QUALIFIERS:
            bad("qualifier", "qualifier", f"{rec['qualifier']!r} is not one of {' '.join(QUALIFIERS)}")
        if not re.fullmatch(r"[A-Z]{3}", str(rec["currency"] or "")):
            bad("currency", "currency", f"{rec['currency']!r} is not an ISO 4217 code")
        elif variable in VARIABLES:
            rule = _unit_rule(variable, str(rec["unit"]), str(rec["currency"]))
            if rule:
                bad("unit", "unit", f"{rec['unit']!r}: {rule}")
        if rec["price_basis"] not in PRICE_BASES:
            bad("price_basis", "price-basis", f"{rec['price_basis']!r} is not one of {', '.join(PRICE_BASES)}")
        if variable == "fx_rate":
            if not _blank(rec["city_id"]):
                bad("city_id", "fx-no-city", "an exchange rate belongs to no city; leave city_id empty")
            if _blank(rec["year"]):
                bad("year", "fx-year", "an exchange rate needs its year")
        else:
            if _blank(rec["city_id"]):
                bad("city_id", "required", "a gdp or gdp_per_capita row names its city")
            elif city_ids is not None and rec["city_id"] not in set(city_ids):
                bad("city_id", "foreign-key", f"{rec['city_id']!r} is not a city of cities.csv")
            if rec["area_as_population"] not in ("true", "false", True, False):
                bad("area_as_population", "boolean", "must be true or false")
            if _blank(rec["area"]):
                bad("area", "required", "state the territory the figure covers")
        if not _blank(rec["year"]) and not re.fullmatch(r"(19|20)\d\d", str(rec["year"])):
            bad("year", "year", f"{rec['year']!r} is not a four-digit year")
        if rec["source_kind"] not in SOURCE_KINDS:
            bad("source_kind", "source-kind", f"{rec['source_kind']!r} is not one of {', '.join(SOURCE_KINDS)}")
        if not re.fullmatch(r"[a-z0-9_]+", str(rec["source_id"] or "")):
            bad("source_id", "source-id", f"{rec['source_id']!r} is not a source id (lower-case, digits, _)")
        elif source_ids is not None and rec["source_id"] not in set(source_ids):
            bad("source_id", "foreign-key", f"{rec['source_id']!r} is not a row of sources.csv")
        for field in ("url", "locator", "quote", "value_as_stated"):
            if _blank(rec[field]):
                bad(field, "required", "every value carries its url, locator, quote and value as stated")
        if not _blank(rec["quote"]) and not _blank(rec["value_as_stated"]):
            if _collapse(rec["value_as_stated"]) not in _collapse(rec["quote"]):
                bad("value_as_stated", "stated-in-quote",
                    f"{rec['value_as_stated']!r} does not occur in the quote (whitespace collapsed)")
        ident = (rec["city_id"], rec["currency"], variable, rec["year"], rec["source_id"], rec["area"])
        if ident in seen:
            bad("source_id", "duplicate", f"same city, variable, year, area and source as row {seen[ident]}")
        seen.setdefault(ident, i)
    return problems


def load_city_context(path: str | os.PathLike | None = None, check_keys: bool = True) -> pd.DataFrame:
    """The city context table, checked and typed (``value`` float, ``year`` Int64, ``area_as_population`` boolean).

    ``path`` defaults to ``data/city_context.csv``. With ``check_keys``, cities must
    be rows of ``cities.csv``. Raises :class:`CityContextError` listing every problem.
    """
    file = Path(path) if path is not None else paths.data_dir() / FILE
    raw = pd.read_csv(file, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8")
    raw = raw.astype(object).where(raw.notna(), "")
    city_ids = None
    if check_keys:
        from .. import data

        city_ids = list(data.cities(file.parent if (file.parent / "datapackage.json").is_file() else None)["city_id"])
    problems = check_city_context(raw, file=file.name, city_ids=city_ids)
    if problems:
        raise CityContextError(problems)
    table = raw.replace({"": None})
    table["value"] = table["value"].astype(float)
    table["year"] = pd.to_numeric(table["year"]).astype("Int64")
    table["area_as_population"] = table["area_as_population"].map({"true": True, "false": False}).astype("boolean")
    for column in COLUMNS:
        if column not in ("value", "year", "area_as_population"):
            table[column] = table[column].astype("string")
    return table


def _fx_lookup(table: pd.DataFrame) -> dict[tuple[str, int], tuple[float, str, str]]:
    rates = table[table["variable"] == "fx_rate"]
    return {(str(r.currency), int(r.year)): (float(r.value), str(r.unit), str(r.source_id))
            for r in rates.itertuples()}


def to_usd(value: float, currency: str, year, rates: dict) -> tuple[float | None, str]:
    """``value`` in US dollars with the table's annual-average rate for (currency, year), and how."""
    if currency == "USD":
        return float(value), "already in USD"
    if year is None or pd.isna(year):
        return None, "no year, so no exchange rate can be chosen"
    key = (currency, int(year))
    if key not in rates:
        return None, f"no {currency} rate for {int(year)} in the table"
    rate, unit, source = rates[key]
    if unit == f"USD per {currency}":
        return float(value) * rate, f"x {rate} {unit} ({source})"
    return float(value) / rate, f"/ {rate} {unit} ({source})"


def gdp_in_usd(table: pd.DataFrame, variable: str = "gdp") -> pd.DataFrame:
    """Every ``gdp`` (or ``gdp_per_capita``) row converted to USD where a same-year rate exists.

    Conversion uses the annual-average rate of the same table (``fx_rate`` rows); a
    row without a year or without a same-year rate keeps ``value_usd`` missing and
    says why in ``conversion``. Nothing is dropped.

    >>> usd = gdp_in_usd(load_city_context())
    >>> row = usd[(usd.city_id == "beijing")].iloc[0]
    >>> round(float(row.value_usd)), row.conversion
    (621, '/ 7.0809 CNY per USD (fed_g5a_2024)')
    """
    rates = _fx_lookup(table)
    rows = table[table["variable"] == variable].copy()
    converted = [to_usd(r.value, str(r.currency), r.year, rates) for r in rows.itertuples()]
    rows["value_usd"] = pd.array([c[0] for c in converted], dtype="Float64")
    rows["conversion"] = pd.array([c[1] for c in converted], dtype="string")
    rows["unit_usd"] = "USD billion" if variable == "gdp" else "USD"
    return rows.reset_index(drop=True)


def choose_gdp(table: pd.DataFrame, variable: str = "gdp", require_nominal: bool = False,
               require_same_area: bool = True) -> pd.DataFrame:
    """One GDP figure per city for the analysis, chosen by a stated rule; every other row listed.

    Rule, in order: (1) the territory is the one of the city's population
    (``area_as_population``), unless ``require_same_area=False``; (2) the value can be
    put in USD (USD already, or a same-year rate in the table); (3) with
    ``require_nominal``, the price basis is not ``real``; then the most recent year
    (an unknown year ranks last), then the more authoritative source kind
    (official statistics and central banks, government, news, other).

    Returns one row per city that has any row: city_id, value_usd, year, qualifier,
    area, source_id, source_kind, price_basis, conversion, chosen (True where a row
    qualified), reason (why chosen, or why the city has no usable figure), and
    ``alternatives`` (the other rows, as ``source_id year: reason``).
    """
    rows = gdp_in_usd(table, variable)
    out = []
    for city, group in rows.groupby("city_id", sort=True):
        reasons = {}
        for idx, r in group.iterrows():
            why = []
            if require_same_area and not bool(r["area_as_population"]):
                why.append(f"territory ({r['area']}) is not the population's")
            if pd.isna(r["value_usd"]):
                why.append(f"not convertible: {r['conversion']}")
            if require_nominal and r["price_basis"] == "real":
                why.append("real, not nominal")
            reasons[idx] = why
        eligible = group[[not reasons[i] for i in group.index]]
        if len(eligible):
            ranked = eligible.assign(
                _year=eligible["year"].fillna(-1).astype(int),
                _kind=eligible["source_kind"].map(SOURCE_RANK).astype(int),
            ).sort_values(["_year", "_kind"], ascending=[False, True])
            best = ranked.iloc[0]
            reason = "most recent eligible year" + (" (year unknown)" if pd.isna(best["year"]) else "")
            chosen = True
        else:
            best = group.iloc[0]
            reason = "no usable figure: " + "; ".join(sorted({w for ws in reasons.values() for w in ws}))
            chosen = False
        others = [f"{r['source_id']} {'' if pd.isna(r['year']) else int(r['year'])}: "
                  + ("; ".join(reasons[i]) or "eligible, not the most recent/authoritative")
                  for i, r in group.iterrows() if i != best.name]
        out.append({
            "city_id": city,
            "value_usd": best["value_usd"] if chosen else pd.NA,
            "year": best["year"] if chosen else pd.NA,
            "qualifier": best["qualifier"] if chosen else pd.NA,
            "area": best["area"] if chosen else pd.NA,
            "source_id": best["source_id"] if chosen else pd.NA,
            "source_kind": best["source_kind"] if chosen else pd.NA,
            "price_basis": best["price_basis"] if chosen else pd.NA,
            "conversion": best["conversion"] if chosen else pd.NA,
            "chosen": chosen,
            "reason": reason,
            "alternatives": " | ".join(others),
        })
    result = pd.DataFrame(out)
    result["value_usd"] = result["value_usd"].astype("Float64")
    result["year"] = result["year"].astype("Int64")
    return result
