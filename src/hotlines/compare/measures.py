"""City-level measures of resolution and satisfaction, harmonised from the evidence base and graded.

The evidence base holds what cities publish: a resolution time here, a resolution
rate there, a survey share elsewhere, each defined its own way. This module puts
the numbers that measure the *same thing in the same unit* side by side, grades how
comparable each is, and picks one value per city and measure by a stated rule. It
never averages values of different definitions, never converts working days into
calendar days, and never uses a target (a service level or pledge) as a result.

Measures
--------
Each measure has one unit and a *core* indicator (its reference definition); some
have *other-concept* indicators in the same unit that are kept as low-comparability
evidence (grade C), never mixed in silently.

============================  ============  ==========================================  ==========================
measure                       unit          core indicator                              other concepts (grade C)
============================  ============  ==========================================  ==========================
resolution_time_days          days          average_resolution_time                     average_response_time,
                                                                                        typical_resolution_time
resolution_time_working_days  working_days  average_resolution_time_working_days        average_response_time_working_days
resolution_rate               percent       resolution_rate                             case_completion_rate,
                                                                                        on_time_closure_rate
first_contact_resolution      percent       first_contact_resolution_rate               resolved_during_call_rate
satisfaction_rate             percent       satisfaction_rate                           satisfaction_with_public_services,
                                                                                        promoter_share
============================  ============  ==========================================  ==========================

Grading rule
------------
Only city-level rows of kind ``measured`` or ``survey`` are candidates; ``target``
rows (targets are never results) and ``score`` rows are excluded with the reason, as
are rows in another unit (a 0-10 satisfaction score is not a share of satisfied
users). The reference instrument of every measure is the hotline's own
administrative statistic (its case records or its own callback evaluation), the
reference period the five years before the 2024 report (``year >= recent_from``,
2019 by default).

- **C — different concept or proxy.** The row is flagged ``PROXY`` (another line,
  area or service), or it measures another concept (an other-concept indicator
  above), or it covers only a subset of requests (named in :data:`SUBSETS`, e.g.
  Singapore's complex multi-agency cases, Beijing's epidemic-related requests).
- **B — same concept, something differs.** Not C, and at least one of: a survey,
  a third-party computation or a secondary report instead of the administrative
  statistic; a year before ``recent_from`` or no year; a value stated as a bound
  (``<``, ``>``, ...) or a range; a quote that is not verbatim.
- **A — comparable.** Core definition, administrative statistic, recent year, a
  point value (``=`` or ``~``), no flag.

Choice per city and measure
---------------------------
Among the candidates: the best grade; then the fewest reasons for that grade (the
most comparable); then the most recent year (no year last); then a point value over
a bound or range; then the lowest ``indicator_id``. Rows with the same value, year,
indicator and grade as the chosen one are listed as ``corroborating_ids`` (the same
figure in several sources); all other candidates are listed in ``alternatives``.

The value used is the stated value; for a range it is the midpoint, for a bound the
bound itself (``value_rule`` says which). Both are analysis steps, labelled as such.

>>> from hotlines import data
>>> m = harmonised_measures(data.indicators(), data.cities())
>>> row = m[(m.city_id == "beijing") & (m.measure == "resolution_rate")].iloc[0]
>>> float(row.value), row.grade, row.indicator_ids
(97.0, 'A', 'I0026')
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass(frozen=True)
class Measure:
    """One harmonised measure: its unit, core indicator, other-concept indicators and direction."""

    name: str
    label: str
    unit: str
    core: str
    other_concepts: dict[str, str] = field(default_factory=dict)
    higher_is_better: bool = True


MEASURES: dict[str, Measure] = {
    m.name: m
    for m in (
        Measure("resolution_time_days", "Average resolution time", "days", "average_resolution_time",
                {"average_response_time": "time to respond, not to resolve",
                 "typical_resolution_time": "a typical time for a type of request, not an average"},
                higher_is_better=False),
        Measure("resolution_time_working_days", "Average resolution time (working days)", "working_days",
                "average_resolution_time_working_days",
                {"average_response_time_working_days": "time to reply, not to resolve"},
                higher_is_better=False),
        Measure("resolution_rate", "Resolution rate", "percent", "resolution_rate",
                {"case_completion_rate": "completed or closed whatever the outcome, not resolved",
                 "on_time_closure_rate": "closed within a time limit, not resolved"}),
        Measure("first_contact_resolution", "First-contact resolution", "percent", "first_contact_resolution_rate",
                {"resolved_during_call_rate": "users surveyed saying the request was resolved totally or partially "
                                              "during the call"}),
        Measure("satisfaction_rate", "Satisfaction rate", "percent", "satisfaction_rate",
                {"satisfaction_with_public_services": "satisfaction with public services in general, not the hotline",
                 "promoter_share": "share of promoters (would recommend), not of satisfied users"}),
    )
}

#: Rows whose definition covers only a subset of requests (a judgement read from each row's
#: ``definition`` in ``indicators.csv``); such rows are grade C, as a proxy is.
SUBSETS: dict[str, str] = {
    "I0024": "epidemic-related requests only",
    "I0032": "epidemic-related requests only",
    "I0090": "business-environment issues only",
    "I0204": "routine issues only (urgent issues have their own 24-hour time)",
    "I0297": "complex cases requiring multiple agencies only",
    "I0300": "cases involving multiple agencies only",
    "I0301": "cases involving multiple agencies only",
    "I0218": "urgent issues only",
    "I0284": "social-media inquiries only",
    "I0207": "requests for 19 critical city services only",
    "I0302": "complex cases requiring multiple agencies only",
    "I0295": "enquiries answered on the spot only",
}

REFERENCE_INSTRUMENT = "administrative statistic"
POINT_QUALIFIERS = ("=", "~")

CANDIDATE_COLUMNS = ["city_id", "measure", "indicator_id", "indicator", "status", "grade", "reasons", "n_reasons",
                     "value", "value_low", "value_high", "qualifier", "value_rule", "unit", "year", "kind",
                     "instrument", "flag", "definition", "source_id"]
MEASURE_COLUMNS = ["city_id", "measure", "label", "value", "unit", "qualifier", "value_low", "value_high",
                   "value_rule", "year", "kind", "instrument", "definition", "indicator_ids", "corroborating_ids",
                   "grade", "grade_reasons", "n_candidates", "alternatives", "source_ids", "higher_is_better"]


def _is_missing(value) -> bool:
    return value is None or (not isinstance(value, str) and pd.isna(value))


def instrument_of(row) -> str:
    """How the number was produced: survey, third-party computation, secondary report or administrative statistic."""
    if row["kind"] == "survey":
        return "survey"
    flag = "" if _is_missing(row["flag"]) else str(row["flag"])
    if flag == "THIRD-PARTY COMPUTATION":
        return "third-party computation"
    if flag == "SECONDARY":
        return "secondary report"
    return REFERENCE_INSTRUMENT


def _value_used(row) -> tuple[float, str]:
    qualifier = row["qualifier"]
    if qualifier == "range":
        low, high = float(row["value"]), float(row["value_high"])
        return (low + high) / 2, f"midpoint of the stated range {low:g} to {high:g} (analysis step)"
    if qualifier in POINT_QUALIFIERS:
        return float(row["value"]), "as stated" if qualifier == "=" else "as stated (approximate)"
    return float(row["value"]), f"the stated bound ({qualifier} {float(row['value']):g}); the value lies beyond it"


def grade_row(row, measure: Measure, recent_from: int = 2019, subsets: dict[str, str] = SUBSETS) -> tuple[str, list[str]]:
    """Grade (A, B or C) of one candidate row for one measure, and the reasons (see the module's rule)."""
    flag = "" if _is_missing(row["flag"]) else str(row["flag"])
    c_reasons = []
    if flag == "PROXY":
        note = "" if _is_missing(row.get("note")) else f": {row['note']}"
        c_reasons.append(f"proxy (flag PROXY){note}")
    if row["indicator"] != measure.core:
        c_reasons.append(f"different concept: {measure.other_concepts[row['indicator']]}")
    if row["indicator_id"] in subsets:
        c_reasons.append(f"subset of requests: {subsets[row['indicator_id']]}")
    if c_reasons:
        return "C", c_reasons
    b_reasons = []
    instrument = instrument_of(row)
    if instrument != REFERENCE_INSTRUMENT:
        b_reasons.append(f"instrument: {instrument} (reference: the hotline's {REFERENCE_INSTRUMENT})")
    if _is_missing(row["year"]):
        b_reasons.append("year not stated")
    elif int(row["year"]) < recent_from:
        b_reasons.append(f"year {int(row['year'])} is before {recent_from}")
    if row["qualifier"] == "range":
        b_reasons.append(f"stated as a range ({float(row['value']):g} to {float(row['value_high']):g})")
    elif row["qualifier"] not in POINT_QUALIFIERS:
        b_reasons.append(f"stated as a bound ({row['qualifier']} {float(row['value']):g})")
    if flag == "NOT VERBATIM":
        b_reasons.append("quote not verbatim (flag NOT VERBATIM)")
    if b_reasons:
        return "B", b_reasons
    return "A", []


def measure_candidates(indicators: pd.DataFrame, measures: dict[str, Measure] = MEASURES, recent_from: int = 2019,
                       subsets: dict[str, str] = SUBSETS) -> pd.DataFrame:
    """Every city-level resolution and satisfaction row, as a graded candidate or excluded with its reason.

    One row per indicator row of the ``resolution`` and ``satisfaction`` families
    (nothing is dropped): ``status`` is ``candidate`` (with ``grade`` and ``reasons``)
    or ``excluded`` (``reasons`` says why: a target, an index score, another unit, an
    indicator no measure uses).
    """
    by_indicator = {}
    for m in measures.values():
        for name in [m.core, *m.other_concepts]:
            by_indicator[name] = m
    unknown = set(subsets) - set(indicators["indicator_id"])
    # A subsets mapping the caller wrote must name rows of the table it is applied to (a typo would
    # silently grade a subset as comparable); the default one is checked against indicators.csv by the tests.
    if unknown and subsets is not SUBSETS:
        raise KeyError(f"subsets names indicator ids that are not in the indicators table: {sorted(unknown)}")
    rows = []
    relevant = indicators[indicators["family"].isin(["resolution", "satisfaction"]) & indicators["city_id"].notna()]
    for rec in relevant.to_dict("records"):
        measure = by_indicator.get(rec["indicator"])
        base = {
            "city_id": rec["city_id"], "measure": measure.name if measure else pd.NA,
            "indicator_id": rec["indicator_id"], "indicator": rec["indicator"], "unit": rec["unit"],
            "qualifier": rec["qualifier"], "year": rec["year"], "kind": rec["kind"],
            "instrument": instrument_of(rec), "flag": rec["flag"], "definition": rec["definition"],
            "source_id": rec["source_id"], "value_low": float(rec["value"]),
            "value_high": pd.NA if _is_missing(rec["value_high"]) else float(rec["value_high"]),
        }
        exclusion = None
        if rec["kind"] == "target":
            exclusion = "target (a service level or pledge), never a result"
        elif rec["kind"] == "score":
            exclusion = "index score, not a measured result"
        elif measure is None:
            exclusion = f"indicator {rec['indicator']} is not used by any measure"
        elif rec["unit"] != measure.unit:
            exclusion = f"unit {rec['unit']} differs from the measure's unit {measure.unit}"
        if exclusion:
            rows.append({**base, "status": "excluded", "grade": pd.NA, "reasons": exclusion, "n_reasons": pd.NA,
                         "value": pd.NA, "value_rule": pd.NA})
            continue
        grade, reasons = grade_row(rec, measure, recent_from, subsets)
        value, rule = _value_used(rec)
        rows.append({**base, "status": "candidate", "grade": grade, "reasons": "; ".join(reasons),
                     "n_reasons": len(reasons), "value": value, "value_rule": rule})
    out = pd.DataFrame(rows, columns=CANDIDATE_COLUMNS)
    out["value"] = out["value"].astype("Float64")
    out["value_low"] = out["value_low"].astype("Float64")
    out["value_high"] = out["value_high"].astype("Float64")
    out["n_reasons"] = out["n_reasons"].astype("Int64")
    out["year"] = out["year"].astype("Int64")
    return out


def _choice_key(row) -> tuple:
    year = -1 if pd.isna(row["year"]) else int(row["year"])
    point = 0 if row["qualifier"] in POINT_QUALIFIERS else 1
    return ("ABC".index(row["grade"]), int(row["n_reasons"]), -year, point, row["indicator_id"])


def harmonised_measures(indicators: pd.DataFrame, cities: pd.DataFrame | None = None,
                        measures: dict[str, Measure] = MEASURES, recent_from: int = 2019,
                        subsets: dict[str, str] = SUBSETS) -> pd.DataFrame:
    """One row per (city, measure) with a usable value: the value used, its ids, its grade and why.

    ``indicators`` is :func:`hotlines.data.indicators`; ``cities`` (optional) orders the
    rows as ``cities.csv`` does. See the module docstring for the measures, the grading
    rule and the choice rule. Cities without a candidate have no row (missing stays
    missing); :func:`measure_candidates` lists every row considered.

    Columns: city_id, measure, label, value, unit, qualifier, value_low, value_high,
    value_rule, year, kind, instrument, definition, indicator_ids, corroborating_ids,
    grade, grade_reasons, n_candidates, alternatives (``id grade value year``),
    source_ids, higher_is_better.
    """
    candidates = measure_candidates(indicators, measures, recent_from, subsets)
    candidates = candidates[candidates["status"] == "candidate"]
    rows = []
    for (city, name), group in candidates.groupby(["city_id", "measure"], sort=False):
        records = group.to_dict("records")
        best = min(records, key=_choice_key)
        same = [r for r in records if r is not best and r["indicator"] == best["indicator"]
                and r["grade"] == best["grade"] and r["value"] == best["value"]
                and (r["year"] == best["year"] if not pd.isna(best["year"]) else pd.isna(r["year"]))]
        others = [r for r in records if r is not best and r not in same]
        measure = measures[name]
        rows.append({
            "city_id": city, "measure": name, "label": measure.label, "value": best["value"], "unit": measure.unit,
            "qualifier": best["qualifier"], "value_low": best["value_low"], "value_high": best["value_high"],
            "value_rule": best["value_rule"], "year": best["year"], "kind": best["kind"],
            "instrument": best["instrument"], "definition": best["definition"],
            "indicator_ids": best["indicator_id"],
            "corroborating_ids": ";".join(r["indicator_id"] for r in same),
            "grade": best["grade"], "grade_reasons": best["reasons"], "n_candidates": len(records),
            "alternatives": "; ".join(
                f"{r['indicator_id']} {r['grade']} {r['value']:g} {'' if pd.isna(r['year']) else int(r['year'])}".strip()
                for r in sorted(others, key=_choice_key)),
            "source_ids": ";".join(dict.fromkeys([best["source_id"], *(r["source_id"] for r in same)])),
            "higher_is_better": measure.higher_is_better,
        })
    out = pd.DataFrame(rows, columns=MEASURE_COLUMNS)
    if cities is not None and len(out):
        order = {c: i for i, c in enumerate(cities["city_id"])}
        measure_order = {m: i for i, m in enumerate(measures)}
        out = out.assign(_c=out["city_id"].map(order), _m=out["measure"].map(measure_order)).sort_values(
            ["_m", "_c"]).drop(columns=["_c", "_m"])
    out["year"] = out["year"].astype("Int64")
    out["value"] = out["value"].astype("Float64")
    return out.reset_index(drop=True)


def grade_counts(measures: pd.DataFrame, cities: pd.DataFrame | None = None, evaluated_only: bool = False) -> pd.DataFrame:
    """How many cities have a usable value per measure and grade (a tidy count table).

    Columns: measure, grade, n_cities, cities. With ``evaluated_only`` (needs
    ``cities``), only the 20 cities of the 2024 evaluation are counted.
    """
    table = measures
    if evaluated_only:
        if cities is None:
            raise ValueError("evaluated_only needs the cities table")
        evaluated = set(cities.loc[cities["in_4g_2024"].fillna(False), "city_id"])
        table = table[table["city_id"].isin(evaluated)]
    rows = []
    for name in MEASURES:
        part = table[table["measure"] == name]
        for grade in ("A", "B", "C"):
            ids = part.loc[part["grade"] == grade, "city_id"].tolist()
            rows.append({"measure": name, "grade": grade, "n_cities": len(ids), "cities": ", ".join(ids)})
    return pd.DataFrame(rows)
