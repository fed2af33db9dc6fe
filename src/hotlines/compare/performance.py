"""One long table of city performance: harmonised measures and the rebuilt 4G scores.

The comparisons of this package run on a tidy table with one row per (city,
measure): ``city_id, measure, label, value, unit, grade, higher_is_better, source,
note``. Harmonised measures keep their comparability grade; the rebuilt 4G scores
have no grade (they are index scores) and carry, per city, the share of the
indicators behind them that were observed rather than imputed: the rebuild rests on
partial data (most cells are mean-imputed, as the report's method prescribes).

>>> scores = index_scores()
>>> sorted(scores["measure"].unique())[:2]
['4g_collaborative_governance', '4g_process_governance']
"""

from __future__ import annotations

import pandas as pd

COLUMNS = ["city_id", "measure", "label", "value", "unit", "grade", "higher_is_better", "source", "share_observed",
           "note"]

INDEX_SOURCE = "rebuilt 4G index (partial data; missing inputs mean-imputed as the report prescribes)"


def index_scores(index=None) -> pd.DataFrame:
    """The rebuilt 4G total and first-level scores per city, as performance rows.

    ``index`` is a :class:`hotlines.index.CompositeIndex` (default: the report's method
    on the coded evidence). ``share_observed`` is the share of the city's included
    third-level indicators (of that dimension, or of all for the total) with an
    observed, not imputed, value.
    """
    from ..index import CompositeIndex

    index = index if index is not None else CompositeIndex()
    level3 = index.scores[index.scores["level"] == 3].copy()
    level3["first_level"] = level3["indicator"].map(index.spec.first_of)
    observed = ~level3["imputed"].astype(bool)
    weights = index.weights
    maxima = dict(zip(weights.loc[weights["level"] == 1, "id"], weights.loc[weights["level"] == 1, "weight"]))
    rows = []
    for rec in index.totals.itertuples():
        share = float(observed[level3["city_id"] == rec.city_id].mean())
        rows.append({"city_id": rec.city_id, "measure": "4g_total", "label": "4G total (rebuilt)",
                     "value": float(rec.total), "unit": f"points of {rec.max_total:g}", "share_observed": share})
    points = index.level_scores(1)
    for dimension in points.columns:
        for city, value in points[dimension].items():
            mask = (level3["city_id"] == city) & (level3["first_level"] == dimension)
            rows.append({"city_id": city, "measure": f"4g_{dimension}",
                         "label": f"4G {dimension.replace('_', ' ')} (rebuilt)", "value": float(value),
                         "unit": f"points of {maxima[dimension]:g}", "share_observed": float(observed[mask].mean())})
    out = pd.DataFrame(rows)
    out["share_observed"] = out["share_observed"].astype("Float64")
    out["grade"] = pd.array([pd.NA] * len(out), dtype="string")
    out["higher_is_better"] = True
    out["source"] = INDEX_SOURCE
    out["note"] = [f"{s:.0%} of the city's indicators observed, the rest imputed" for s in out["share_observed"]]
    return out[COLUMNS]


def performance_table(measures: pd.DataFrame | None = None, scores: pd.DataFrame | None = None) -> pd.DataFrame:
    """Harmonised measures (from :func:`~hotlines.compare.measures.harmonised_measures`) and 4G scores, stacked.

    >>> from hotlines import data
    >>> from hotlines.compare.measures import harmonised_measures
    >>> table = performance_table(harmonised_measures(data.indicators()), index_scores())
    >>> table.groupby("source").size().shape[0]
    2
    """
    frames = []
    if measures is not None and len(measures):
        part = measures.assign(grade=measures["grade"].astype("string"),source="harmonised evidence base",
                               share_observed=pd.array([pd.NA] * len(measures), dtype="Float64"),
                               note=measures["grade_reasons"])
        frames.append(part[COLUMNS])
    if scores is not None and len(scores):
        frames.append(scores[COLUMNS])
    if not frames:
        return pd.DataFrame(columns=COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    out["value"] = out["value"].astype(float)
    out["grade"] = out["grade"].astype("string")
    return out
