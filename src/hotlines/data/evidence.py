"""Views of the evidence base: typologies, coverage, and what is known of outcomes.

These describe the data; they estimate nothing. Every value they show is a row of
``indicators.csv`` with its source.
"""

from __future__ import annotations

import pandas as pd

FAMILY_ORDER = ["volume", "access", "process", "resolution", "satisfaction", "coverage", "index"]

#: Coverage statuses, strongest first: a cell shows the strongest kind of number the city has.
COVERAGE_ORDER = ["measured", "survey", "score", "target", "proxy", "missing"]

CLUSTER_ORDER = ["integrative", "distinctive", "innovative", "inclusive"]


def city_order(cities: pd.DataFrame) -> list[str]:
    """City ids: the 20 evaluated cities by the report's cluster, then the comparison cities."""
    frame = cities.assign(
        _group=cities["role"].map({"evaluated": 0, "us_comparison": 1, "coding_case": 2}),
        _cluster=cities["cluster"].map({c: i for i, c in enumerate(CLUSTER_ORDER)}).fillna(len(CLUSTER_ORDER)),
    )
    return frame.sort_values(["_group", "_cluster", "name"])["city_id"].tolist()


def typology_table(cities: pd.DataFrame) -> pd.DataFrame:
    """One row per city: hotline, region and the report's four typologies (empty where not stated).

    The 20 evaluated cities come first, by cluster; the US comparison cities last.
    Coding cases without a hotline (Xintai) are left out.

    >>> from hotlines import data
    >>> t = data.typology_table(data.cities())
    >>> t.loc[t.City == "Beijing", "Cluster"].item()
    'integrative'
    """
    hotline_cities = cities[cities["role"].isin(["evaluated", "us_comparison"])]
    ordered = hotline_cities.set_index("city_id").loc[city_order(hotline_cities)].reset_index()
    hotline = ordered["hotline_name"].fillna("")
    number = ordered["hotline_number"].fillna("")
    label = [
        (f"{h} ({n})" if h and n and n not in h else (h or n)) or pd.NA
        for h, n in zip(hotline, number)
    ]
    return pd.DataFrame(
        {
            "City": ordered["name"],
            "Hotline": label,
            "Region": ordered["region"],
            "Cluster": ordered["cluster"],
            "Driven / supportive": ordered["driven_supportive"],
            "Integrated / distributed": ordered["integrated_distributed"],
            "Empowerment": ordered["empowerment"],
        }
    )


def coverage(indicators: pd.DataFrame, cities: pd.DataFrame) -> pd.DataFrame:
    """Tidy city × family table of the strongest kind of number the evidence base holds.

    ``status`` is one of :data:`COVERAGE_ORDER`: ``measured`` if any measured value
    (not flagged PROXY) exists, else ``survey``, ``score``, ``target``; ``proxy`` if
    only PROXY-flagged values exist; ``missing`` if none. ``n_values`` counts the rows
    behind the cell, ``n_by_kind`` the rows per kind.
    """
    rows = indicators[indicators["city_id"].notna()].copy()
    rows["status"] = rows["kind"].astype(str).where(rows["flag"].fillna("") != "PROXY", "proxy")
    rank = {status: i for i, status in enumerate(COVERAGE_ORDER)}
    out = []
    for city_id in city_order(cities):
        city_rows = rows[rows["city_id"] == city_id]
        for family in FAMILY_ORDER:
            cell = city_rows[city_rows["family"] == family]
            status = min(cell["status"], key=rank.get) if len(cell) else "missing"
            counts = cell["kind"].value_counts()
            out.append(
                {
                    "city_id": city_id,
                    "family": family,
                    "status": status,
                    "n_values": len(cell),
                    "n_by_kind": ", ".join(f"{k} {n}" for k, n in counts.items()),
                }
            )
    frame = pd.DataFrame(out)
    by_id = cities.set_index("city_id")
    frame.insert(1, "city", frame["city_id"].map(by_id["name"]))
    frame.insert(2, "in_4g_2024", frame["city_id"].map(by_id["in_4g_2024"]).astype(bool))
    other = by_id["role"].map({"us_comparison": "US comparison", "coding_case": "coding case"})
    group = by_id["cluster"].astype(object).where(by_id["role"] == "evaluated", other)
    frame.insert(3, "group", frame["city_id"].map(group.fillna("not clustered")))
    return frame


_QUALIFIER_TEXT = {"=": "", "<": "< ", "<=": "≤ ", ">": "> ", ">=": "≥ ", "~": "≈ "}
_UNIT_TEXT = {
    "percent": "%",
    "days": " days",
    "working_days": " working days",
    "hours": " h",
    "seconds": " s",
    "count": "",
    "calls_per_resident": " calls per resident",
    "points": " points",
    "ratio": "",
    "score_1_5": " (of 5)",
    "score_0_10": " (of 10)",
    "score_0_100": " (of 100)",
}


def _number(x: float) -> str:
    if float(x).is_integer():
        return f"{int(x):,}"
    return f"{x:,.2f}".rstrip("0").rstrip(".")


def format_value(row: pd.Series) -> str:
    """A value with its qualifier and unit, as a reader expects it: '< 5 days', '20–40%'."""
    unit = _UNIT_TEXT.get(str(row["unit"]), f" {row['unit']}")
    if row["qualifier"] != "range" and row["value"] == 1 and unit.endswith("days"):
        unit = unit[:-1]
    if row["qualifier"] == "range":
        return f"{_number(row['value'])}–{_number(row['value_high'])}{unit}"
    return f"{_QUALIFIER_TEXT.get(str(row['qualifier']), '')}{_number(row['value'])}{unit}"


def outcome_table(
    indicators: pd.DataFrame,
    cities: pd.DataFrame,
    families: tuple[str, ...] = ("resolution", "satisfaction"),
    kinds: tuple[str, ...] = ("measured", "survey", "target"),
    exclude_flags: tuple[str, ...] = (),
) -> pd.DataFrame:
    """What the evidence base knows of resolution and satisfaction, city by city.

    One row per value: city, family, indicator, kind, the value as text, period,
    source id and flag, ordered by city, family, kind and year. Nothing is averaged
    or harmonised across cities here: each value keeps its own definition.
    """
    rows = indicators[
        indicators["city_id"].notna()
        & indicators["family"].isin(families)
        & indicators["kind"].isin(kinds)
        & ~indicators["flag"].fillna("").isin(exclude_flags)
    ].copy()
    order = {c: i for i, c in enumerate(city_order(cities))}
    rows["_city"] = rows["city_id"].map(order)
    rows["_family"] = rows["family"].map({f: i for i, f in enumerate(families)})
    rows["_kind"] = rows["kind"].map({k: i for i, k in enumerate(kinds)})
    rows = rows.sort_values(["_city", "_family", "_kind", "indicator", "year"])
    names = cities.set_index("city_id")["name"]
    return pd.DataFrame(
        {
            "indicator_id": rows["indicator_id"],
            "city": rows["city_id"].map(names),
            "family": rows["family"],
            "indicator": rows["indicator"],
            "kind": rows["kind"],
            "value": [format_value(r) for _, r in rows.iterrows()],
            "period": rows["period"],
            "source_id": rows["source_id"],
            "flag": rows["flag"],
        }
    ).reset_index(drop=True)


def source_table(sources: pd.DataFrame, indicators: pd.DataFrame, cities: pd.DataFrame) -> pd.DataFrame:
    """The bibliography of the data: each source, its citation and URL, and what was read from it."""
    values = indicators["source_id"].value_counts()
    attribute_columns = [c for c in cities.columns if c.endswith("_source_id")]
    attributes = pd.Series(cities[attribute_columns].to_numpy().ravel()).dropna().value_counts()
    kind_order = {"seed": 0, "paper": 1, "dataset": 2, "web": 3}
    frame = sources.assign(_kind=sources["kind"].map(kind_order)).sort_values(["_kind", "source_id"])
    citation = [
        f"{c} <{u}>" if isinstance(u, str) and u else c
        for c, u in zip(frame["citation"], frame["url"].astype(object).where(frame["url"].notna(), None))
    ]
    return pd.DataFrame(
        {
            "Source": frame["source_id"],
            "Kind": frame["kind"],
            "Citation": citation,
            "Accessed": frame["accessed"].dt.strftime("%Y-%m-%d"),
            "Values": frame["source_id"].map(values).fillna(0).astype(int),
            "City attributes": frame["source_id"].map(attributes).fillna(0).astype(int),
        }
    ).reset_index(drop=True)


KIND_ORDER = ["measured", "survey", "score", "target"]


def indicator_label(indicator: str) -> str:
    """A catalog name as words: 'satisfaction_score_0_100' -> 'satisfaction score (0–100)'.

    >>> indicator_label("average_resolution_time_working_days")
    'average resolution time (working days)'
    """
    import re

    text = re.sub(r"_(\d+)_(\d+)$", r" (\1–\2)", indicator)
    text = re.sub(r"_working_days$", " (working days)", text)
    return text.replace("_", " ")


def kind_counts(indicators: pd.DataFrame) -> pd.DataFrame:
    """Number of values by indicator family (rows) and kind (columns), with totals."""
    table = pd.crosstab(indicators["family"], indicators["kind"], margins=True, margins_name="total")
    table = table.reindex(index=[*FAMILY_ORDER, "total"], columns=[*KIND_ORDER, "total"], fill_value=0)
    table.index.name = "Family"
    return table.reset_index().rename(columns=str.capitalize)


def outcome_display(outcomes: pd.DataFrame) -> pd.DataFrame:
    """:func:`outcome_table` as the book prints it: kind with its flag, source as a citation."""
    flag = outcomes["flag"].fillna("").str.lower()
    return pd.DataFrame(
        {
            "Id": outcomes["indicator_id"],
            "City": outcomes["city"],
            "Indicator": outcomes["indicator"].map(indicator_label),
            "Kind": [k if not f else f"{k} ({f})" for k, f in zip(outcomes["kind"], flag)],
            "Value": outcomes["value"],
            "Period": outcomes["period"],
            "Source": ["{cite:p}`" + s + "`" for s in outcomes["source_id"]],
        }
    )
