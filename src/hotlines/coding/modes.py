"""City modes: from coded evidence to a vertical, mixed or horizontal score per dimension.

The rule is the codebook's own city-scoring procedure (``city_scoring_rules`` in
``data/codebook.yaml``), made explicit:

1. **Evidence.** For a city and a dimension (leadership, institution, mechanism), the
   pole-bearing segments are those naming the city that carry at least one code of
   the dimension whose pole is vertical or horizontal (under the chosen coding). A
   segment's pole set is the set of those poles (it may hold both).
2. **Grades.** A segment is grade **C** when its evidence is inferential (a coder's memo
   on one of its pole-bearing codes says "inferential": indicator scores, cluster
   membership, screenshots); otherwise **A** when it names this city only (a
   city-specific passage, including passages attributed to the city by its case
   section), **B** when it is a multi-city statement naming the city.
3. **Direction.** The score comes from A-grade evidence if there is any: +1 (vertical)
   when only vertical segments exist, −1 (horizontal) when only horizontal ones, and
   when both exist the majority pole if it is *clearly* dominant — at least
   ``dominance`` (default 3) times as many segments as the minority — else 0 (mixed).
   Without A-grade evidence, B-grade evidence gives a direction by the same rule with
   low confidence. C-grade evidence alone, or none, is *insufficient evidence*. When
   the only evidence is a code the codebook treats as mixed (``MIXED_CODES``), the
   score is 0.
4. **Confidence.** High: at least three A-grade segments for the scored pole, from
   more than one source or backed by an interview, and no A-grade contrary segment.
   Medium: at least two A-grade segments for the scored pole. Low: anything less, a
   mixed score from contested evidence, or B-grade evidence only.
5. **Record.** Every score lists its justifying segments (for the scored pole; both
   poles for a mixed score) and its contrary segments.

An overall mode per city is the sign of the sum of the dimension scores that have
evidence, if at least two dimensions have evidence; otherwise insufficient.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .codebook import Codebook
from .queries import applied_codes, code_city_attribution

DIMENSIONS = ("leadership", "institution", "mechanism")

#: Codes the scoring procedure treats as mixed although their pole is neutral (codebook: "Treated as mixed").
MIXED_CODES = frozenset({"mechanism.multilevel_network"})

LABELS = {1: "vertical", 0: "mixed", -1: "horizontal"}
INSUFFICIENT = "insufficient evidence"


@dataclass(frozen=True)
class ModeRule:
    """Parameters of the scoring rule; the defaults are the codebook's procedure."""

    dominance: float = 3.0
    min_high: int = 3
    min_medium: int = 2
    include_multi_city: bool = True
    sources: tuple[str, ...] | None = None

    def describe(self) -> str:
        scope = "all sources" if self.sources is None else "sources " + ", ".join(self.sources)
        multi = "with" if self.include_multi_city else "without"
        return f"dominance {self.dominance:g}x; {multi} multi-city statements; {scope}"


def _split(value) -> list[str]:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return []
    return [part.strip() for part in str(value).split(";") if part.strip()]


def segment_evidence(
    codebook: Codebook,
    segments: pd.DataFrame,
    codings: pd.DataFrame,
    coders=None,
    rule: str = "union",
    mode_rule: ModeRule = ModeRule(),
) -> pd.DataFrame:
    """One row per (city, dimension, segment) of pole-bearing evidence, with its grade.

    Columns: city_id, dimension, segment_id, source, vertical, horizontal, mixed_only,
    grade (A/B/C), interview_backed, codes.
    """
    applied = applied_codes(codings, coders=coders, rule=rule)
    codes = codebook.codes
    memos = codings.assign(code=codings["code"].astype(str), segment_id=codings["segment_id"].astype(str))
    if coders is not None:
        memos = memos[memos["coder"].isin([coders] if isinstance(coders, str) else list(coders))]
    inferential = set(
        zip(
            memos.loc[memos["memo"].fillna("").str.contains("inferential", case=False), "segment_id"],
            memos.loc[memos["memo"].fillna("").str.contains("inferential", case=False), "code"],
        )
    )
    attribution = code_city_attribution(memos)
    seg = segments.set_index("segment_id")
    rows = []
    for (segment_id, dimension), group in applied.assign(
        dimension=applied["code"].map(lambda c: codes[c].dimension if c in codes else None)
    ).groupby(["segment_id", "dimension"]):
        if dimension not in DIMENSIONS or segment_id not in seg.index:
            continue
        record = seg.loc[segment_id]
        if mode_rule.sources is not None and record["source"] not in mode_rule.sources:
            continue
        cities = _split(record["cities"])
        if not cities or (len(cities) > 1 and not mode_rule.include_multi_city):
            continue
        for city in cities:
            # a code attributed to another city of a contrast statement is not this city's evidence
            city_codes = [c for c in group["code"] if city in attribution.get((segment_id, c), {city})]
            poles = {codes[c].pole for c in city_codes}
            vertical, horizontal = "vertical" in poles, "horizontal" in poles
            mixed_only = not (vertical or horizontal) and bool(set(city_codes) & MIXED_CODES)
            if not (vertical or horizontal or mixed_only):
                continue
            bearing = [c for c in city_codes if codes[c].pole in ("vertical", "horizontal") or c in MIXED_CODES]
            is_inferential = all((segment_id, c) in inferential for c in bearing)
            grade = "C" if is_inferential else ("A" if len(cities) == 1 else "B")
            rows.append(
                {
                    "city_id": city,
                    "dimension": dimension,
                    "segment_id": segment_id,
                    "source": record["source"],
                    "vertical": vertical,
                    "horizontal": horizontal,
                    "mixed_only": mixed_only,
                    "grade": grade,
                    "interview_backed": bool(_split(record.get("interview_ids"))),
                    "codes": ";".join(sorted(bearing)),
                }
            )
    columns = ["city_id", "dimension", "segment_id", "source", "vertical", "horizontal", "mixed_only",
               "grade", "interview_backed", "codes"]
    return pd.DataFrame(rows, columns=columns)


def _direction(evidence: pd.DataFrame, dominance: float) -> tuple[int, list[str], list[str]]:
    """Score, justifying and contrary segment ids from one grade's evidence."""
    vertical = evidence.loc[evidence["vertical"], "segment_id"].tolist()
    horizontal = evidence.loc[evidence["horizontal"], "segment_id"].tolist()
    if not vertical and not horizontal:  # only codes treated as mixed
        return 0, evidence["segment_id"].tolist(), []
    if vertical and not horizontal:
        return 1, vertical, []
    if horizontal and not vertical:
        return -1, horizontal, []
    if len(vertical) >= dominance * len(horizontal):
        return 1, vertical, horizontal
    if len(horizontal) >= dominance * len(vertical):
        return -1, horizontal, vertical
    return 0, sorted(set(vertical) | set(horizontal)), []


def city_modes(
    codebook: Codebook,
    segments: pd.DataFrame,
    codings: pd.DataFrame,
    cities: list[str] | pd.Series,
    coders=None,
    rule: str = "union",
    mode_rule: ModeRule = ModeRule(),
) -> pd.DataFrame:
    """Score every city on leadership, institution and mechanism, and overall.

    Returns one row per (city, dimension): city_id, dimension, score (1, 0, −1 or
    missing), mode (vertical / mixed / horizontal / insufficient evidence),
    evidence_grade, confidence, n_vertical_a, n_horizontal_a, n_vertical_b,
    n_horizontal_b, n_c, justifying_segments, contrary_segments, rule.

    >>> # see tests/test_coding_modes.py for worked examples
    """
    evidence = segment_evidence(codebook, segments, codings, coders=coders, rule=rule, mode_rule=mode_rule)
    rows = []
    for city in list(cities):
        scores = []
        for dimension in DIMENSIONS:
            ev = evidence[(evidence["city_id"] == city) & (evidence["dimension"] == dimension)]
            a, b, c = (ev[ev["grade"] == g] for g in ("A", "B", "C"))
            row = {
                "city_id": city,
                "dimension": dimension,
                "n_vertical_a": int(a["vertical"].sum()),
                "n_horizontal_a": int(a["horizontal"].sum()),
                "n_vertical_b": int(b["vertical"].sum()),
                "n_horizontal_b": int(b["horizontal"].sum()),
                "n_c": len(c),
                "rule": mode_rule.describe(),
            }
            if len(a):
                score, justifying, contrary = _direction(a, mode_rule.dominance)
                sources = a.loc[a["segment_id"].isin(justifying), "source"].nunique()
                backed = bool(a.loc[a["segment_id"].isin(justifying), "interview_backed"].any())
                if score != 0 and len(justifying) >= mode_rule.min_high and not contrary and (sources > 1 or backed):
                    confidence = "high"
                elif score != 0 and len(justifying) >= mode_rule.min_medium:
                    confidence = "medium"
                else:
                    confidence = "low"
                grade = "A"
            elif len(b):
                score, justifying, contrary = _direction(b, mode_rule.dominance)
                confidence, grade = "low", "B"
            else:
                score, justifying, contrary = None, [], []
                confidence, grade = None, ("C" if len(c) else None)
            row.update(
                score=score,
                mode=INSUFFICIENT if score is None else LABELS[score],
                evidence_grade=grade,
                confidence=confidence,
                justifying_segments=";".join(justifying),
                contrary_segments=";".join(contrary),
            )
            rows.append(row)
            if score is not None:
                scores.append(score)
        total = sum(scores)
        overall = (1 if total > 0 else -1 if total < 0 else 0) if len(scores) >= 2 else None
        rows.append(
            {
                "city_id": city, "dimension": "overall", "score": overall,
                "mode": INSUFFICIENT if overall is None else LABELS[overall],
                "evidence_grade": None, "confidence": None,
                "n_vertical_a": None, "n_horizontal_a": None, "n_vertical_b": None, "n_horizontal_b": None,
                "n_c": None, "justifying_segments": "", "contrary_segments": "",
                "rule": f"sign of the sum of {len(scores)} dimension score(s); at least two needed",
            }
        )
    columns = ["city_id", "dimension", "score", "mode", "evidence_grade", "confidence", "n_vertical_a",
               "n_horizontal_a", "n_vertical_b", "n_horizontal_b", "n_c", "justifying_segments",
               "contrary_segments", "rule"]
    out = pd.DataFrame(rows, columns=columns)
    out["score"] = out["score"].astype("Int64")
    for column in ("n_vertical_a", "n_horizontal_a", "n_vertical_b", "n_horizontal_b", "n_c"):
        out[column] = out[column].astype("Int64")
    return out


def mode_sensitivity(base: pd.DataFrame, variant: pd.DataFrame, label: str) -> pd.DataFrame:
    """Where two mode tables disagree: city, dimension, the two modes and the variant's label."""
    merged = base.merge(variant, on=["city_id", "dimension"], suffixes=("_base", "_variant"))
    changed = merged[merged["mode_base"] != merged["mode_variant"]]
    return changed[["city_id", "dimension", "mode_base", "mode_variant", "confidence_base", "confidence_variant"]].assign(
        variant=label
    ).reset_index(drop=True)


#: Table 1 of seed 000 (Yan, Zheng & Meng 2025): Beijing vertical, New York horizontal, on every dimension.
TABLE_1 = {
    ("beijing", "leadership"): "vertical",
    ("beijing", "institution"): "vertical",
    ("beijing", "mechanism"): "vertical",
    ("new_york", "leadership"): "horizontal",
    ("new_york", "institution"): "horizontal",
    ("new_york", "mechanism"): "horizontal",
}
