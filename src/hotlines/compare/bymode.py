"""Performance compared across the collaboration modes coded from the evidence.

City modes (vertical, mixed, horizontal, or insufficient evidence; overall and per
dimension: leadership, institution, mechanism) come from
:func:`hotlines.coding.modes.city_modes`. Which coding they rest on is a parameter:
by default the reconciled coding when ``coders.csv`` holds a coder whose
``procedure`` mentions reconciliation and that coder has rows in ``codings.csv``;
until then the union of the two independent passes ``coder_a`` and ``coder_b``.

:func:`compare_by_mode` joins a performance table (harmonised measures and the
rebuilt 4G scores) with the modes and returns group summaries and pairwise
permutation tests (difference in medians). :func:`compare_by_mode_variants` runs it
on all rows and again without the low-comparability rows (grade C), as the issue
asks; the 4G scores carry no grade and are the same in both.

>>> choice = default_coders()
>>> choice["rule"] in ("union", "all")
True
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from .smalln import pairwise_permutation_tests

DIMENSIONS = ("overall", "leadership", "institution", "mechanism")
MODE_ORDER = ("vertical", "mixed", "horizontal")
INSUFFICIENT = "insufficient evidence"
FALLBACK_CODERS = ("coder_a", "coder_b")


def default_coders(coders: pd.DataFrame | None = None, codings: pd.DataFrame | None = None) -> dict:
    """Which coding the modes rest on: ``{"coders": [...], "rule": ..., "basis": ...}``.

    The reconciled coder (``procedure`` mentions "reconcil" and it has codings) if
    there is one; else the union of coder_a and coder_b.
    """
    from ..coding import corpus

    coders = corpus.coders() if coders is None else coders
    codings = corpus.codings() if codings is None else codings
    reconciled = coders[coders["procedure"].fillna("").str.contains("reconcil", case=False)]
    coded = set(codings["coder"])
    for name in reconciled["coder"]:
        if name in coded:
            return {"coders": [name], "rule": "union", "basis": f"reconciled coding ({name})"}
    return {"coders": list(FALLBACK_CODERS), "rule": "union",
            "basis": "union of the two independent passes coder_a and coder_b (no reconciled coding yet)"}


def mode_table(coders=None, rule: str | None = None, cities=None) -> pd.DataFrame:
    """City modes per dimension and overall: city_id, dimension, mode, score, confidence, evidence_grade, basis.

    ``coders`` and ``rule`` as in :func:`hotlines.coding.modes.city_modes`; by default
    :func:`default_coders`. ``cities`` defaults to every city of ``cities.csv``.
    """
    from .. import data
    from ..coding import corpus
    from ..coding.codebook import Codebook
    from ..coding.modes import city_modes

    if coders is None:
        choice = default_coders()
        coders, rule, basis = choice["coders"], choice["rule"], choice["basis"]
    else:
        basis = f"coders {', '.join([coders] if isinstance(coders, str) else coders)}, rule {rule or 'union'}"
    cities = list(data.cities()["city_id"]) if cities is None else list(cities)
    modes = city_modes(Codebook.load(), corpus.segments(), corpus.codings(), cities, coders=coders,
                       rule=rule or "union")
    out = modes[["city_id", "dimension", "mode", "score", "confidence", "evidence_grade"]].copy()
    out["basis"] = basis
    return out


@dataclass
class ModeComparison:
    """Group summaries and pairwise permutation tests of performance by collaboration mode."""

    summary: pd.DataFrame
    tests: pd.DataFrame
    settings: dict = field(default_factory=dict)


def _grade_mix(grades: pd.Series) -> str:
    counts = grades.fillna("none").value_counts()
    return " ".join(f"{g}:{int(counts[g])}" for g in ["A", "B", "C", "none"] if g in counts)


def compare_by_mode(performance: pd.DataFrame, modes: pd.DataFrame, dimensions=DIMENSIONS, drop_grades=(),
                    statistic: str = "median", n_resamples: int = 9999, seed=0,
                    min_group_size: int = 2) -> ModeComparison:
    """Performance by mode: summaries per (measure, dimension, mode) and pairwise permutation tests.

    ``performance`` is a performance table (:mod:`hotlines.compare.performance`),
    ``modes`` a :func:`mode_table`. Cities with ``insufficient evidence`` on a
    dimension appear in the summary under that label and are not tested. Rows of the
    grades in ``drop_grades`` are left out (index scores have no grade and stay).

    ``summary`` columns: rows, measure, label, unit, dimension, mode, n, median, mean,
    min, max, grades, cities. ``tests`` columns: rows, measure, dimension and those of
    :func:`hotlines.compare.smalln.permutation_test`.
    """
    rows_label = "all grades" if not drop_grades else "without grade " + ", ".join(drop_grades)
    perf = performance[~performance["grade"].isin(list(drop_grades))] if drop_grades else performance
    joined = perf.merge(modes[["city_id", "dimension", "mode"]], on="city_id")
    summaries, tests = [], []
    for name in dict.fromkeys(perf["measure"]):
        for dimension in dimensions:
            part = joined[(joined["measure"] == name) & (joined["dimension"] == dimension)]
            if part.empty:
                continue
            for mode in [*MODE_ORDER, INSUFFICIENT]:
                group = part[part["mode"] == mode]
                if group.empty:
                    continue
                values = group["value"].astype(float)
                summaries.append({"rows": rows_label, "measure": name, "label": group["label"].iloc[0],
                                  "unit": group["unit"].iloc[0], "dimension": dimension, "mode": mode,
                                  "n": len(group), "median": values.median(), "mean": values.mean(),
                                  "min": values.min(), "max": values.max(), "grades": _grade_mix(group["grade"]),
                                  "cities": ", ".join(group["city_id"])})
            testable = part[part["mode"].isin(MODE_ORDER)]
            if testable["mode"].nunique() >= 2:
                result = pairwise_permutation_tests(testable.astype({"value": float}), "value", "mode",
                                                    order=list(MODE_ORDER), statistic=statistic,
                                                    n_resamples=n_resamples, seed=seed,
                                                    min_group_size=min_group_size)
                result.insert(0, "dimension", dimension)
                result.insert(0, "measure", name)
                result.insert(0, "rows", rows_label)
                tests.append(result)
    summary = pd.DataFrame(summaries)
    test_table = pd.concat(tests, ignore_index=True) if tests else pd.DataFrame()
    return ModeComparison(summary, test_table, {"statistic": statistic, "n_resamples": n_resamples, "seed": seed,
                                                "drop_grades": tuple(drop_grades), "min_group_size": min_group_size})


def compare_by_mode_variants(performance: pd.DataFrame, modes: pd.DataFrame, **kwargs) -> ModeComparison:
    """:func:`compare_by_mode` on all rows and again without grade C rows, stacked (column ``rows``)."""
    everything = compare_by_mode(performance, modes, **kwargs)
    without_c = compare_by_mode(performance[performance["grade"].notna()], modes, drop_grades=("C",), **kwargs)
    return ModeComparison(pd.concat([everything.summary, without_c.summary], ignore_index=True),
                          pd.concat([everything.tests, without_c.tests], ignore_index=True),
                          {**everything.settings, "variants": ("all grades", "without grade C")})
