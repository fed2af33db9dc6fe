"""Queries over the coded corpus: counts by city, source and informant role,
co-occurrence of codes, and retrieval of segments by a boolean expression over codes.

Every function takes the tables of the coded corpus as DataFrames (see the "coded
corpus" section of ``data/README.md``) and returns a tidy DataFrame; none reads a file.

Which codes a segment carries
-----------------------------
``codings`` holds several coders side by side, so every query first decides which
codes count as *applied* to a segment. Three arguments say how
(:func:`applied_codes` does the work, the other functions pass them through):

``coders``
    ``None`` (every coder in ``codings``), one coder id, or a list of coder ids. Only
    the rows of these coders are read.
``rule``
    For a segment, let *k* be the number of selected coders who coded it (a coder who
    found no code recorded ``none``, so has coded it) and *a* the number of them who
    applied code *c*. Then *c* is applied to the segment when

    - ``"union"``: *a* >= 1 (some coder applied it; the most inclusive reading);
    - ``"majority"``: *a* > *k* / 2 (more than half; a tie is not a majority);
    - ``"consensus"``: *a* == *k* (every coder who coded the segment applied it).

    With one selected coder the three rules coincide: that coder's codes.
``min_coders``
    Segments coded by fewer selected coders are left out altogether (for example
    ``min_coders=2`` keeps only double-coded segments, so that ``"consensus"`` means
    agreement of two coders rather than the word of one).

The marker code ``none`` is never an applied code; a segment whose coders applied
nothing still counts as coded and enters every denominator.

A segment naming several cities (a multi-city statement) counts once for each city it
names; ``include_multi_city=False`` leaves such segments out. A segment attributed to
several informants counts once for each distinct role among them.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .codebook import Codebook

#: The code a coder records for a segment that carries no code of the codebook.
NONE_CODE = "none"

RULES = ("union", "majority", "consensus")

SEGMENT_COLUMNS = ("segment_id", "cities", "source")
CODING_COLUMNS = ("segment_id", "coder", "code")


# --------------------------------------------------------------------------- errors


class CodingDataError(ValueError):
    """Bad coded-corpus input; the message names table, row, field and rule of each problem.

    ``problems`` holds one dict per problem with keys ``table``, ``row`` (1-based data
    row, header excluded, as in the CSV file), ``key``, ``field``, ``rule``, ``message``.
    """

    def __init__(self, problems: list[dict]):
        self.problems = problems
        shown = [_format_problem(p) for p in problems[:12]]
        more = f"\n  ... and {len(problems) - 12} more" if len(problems) > 12 else ""
        super().__init__(f"{len(problems)} problem(s) in the coded corpus:\n  " + "\n  ".join(shown) + more)


def _format_problem(problem: dict) -> str:
    where = problem["table"]
    if problem.get("row") is not None:
        where += f", row {problem['row']}"
        if problem.get("key"):
            where += f" ({problem['key']})"
    if problem.get("field"):
        where += f", field '{problem['field']}'"
    return f"{where}: [{problem['rule']}] {problem['message']}"


def _table_name(frame: pd.DataFrame, default: str) -> str:
    return str(frame.attrs.get("source_path", default))


def _require_columns(frame: pd.DataFrame, columns: Iterable[str], table: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise CodingDataError(
            [
                {"table": table, "row": None, "field": c, "rule": "required-column", "message": f"column '{c}' is missing"}
                for c in missing
            ]
        )


def _blank(value) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA or str(value).strip() == ""


def split_ids(value) -> list[str]:
    """The ids of a ``;``-separated cell, stripped, empty parts dropped; ``[]`` for a blank cell.

    >>> split_ids("beijing; new_york")
    ['beijing', 'new_york']
    >>> split_ids(float("nan"))
    []
    """
    if _blank(value):
        return []
    return [part.strip() for part in str(value).split(";") if part.strip()]


def check_codings(
    codings: pd.DataFrame,
    codebook: Codebook | None = None,
    segments: pd.DataFrame | None = None,
) -> None:
    """Raise :class:`CodingDataError` if ``codings`` breaks a rule of the data contract.

    Rules: the columns ``segment_id``, ``coder``, ``code`` exist and no cell of them is
    empty (``required``); every code is a code of ``codebook`` or ``none``
    (``known-code``, when a codebook is given); every segment is a row of ``segments``
    (``foreign-key``, when segments are given); a coder who recorded ``none`` for a
    segment recorded no other code for it (``none-exclusive``). A repeated
    (segment, coder, code) row is allowed and means the same as one row: presence is
    what counts.

    >>> import pandas as pd
    >>> check_codings(pd.DataFrame({"segment_id": ["S-1"], "coder": ["a"], "code": [""]}))
    Traceback (most recent call last):
    ...
    hotlines.coding.queries.CodingDataError: 1 problem(s) in the coded corpus:
      codings.csv, row 1 (S-1), field 'code': [required] the cell is empty
    """
    table = _table_name(codings, "codings.csv")
    _require_columns(codings, CODING_COLUMNS, table)
    problems: list[dict] = []
    known = set(codebook.codes) | {NONE_CODE} if codebook is not None else None
    segment_ids = set(segments["segment_id"].astype(str)) if segments is not None else None
    for position, (segment_id, coder, code) in enumerate(
        zip(codings["segment_id"], codings["coder"], codings["code"]), start=1
    ):
        key = None if _blank(segment_id) else str(segment_id)
        for field, value in (("segment_id", segment_id), ("coder", coder), ("code", code)):
            if _blank(value):
                problems.append({"table": table, "row": position, "key": key, "field": field, "rule": "required", "message": "the cell is empty"})
        if known is not None and not _blank(code) and str(code) not in known:
            close = difflib.get_close_matches(str(code), sorted(known), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            problems.append({"table": table, "row": position, "key": key, "field": "code", "rule": "known-code", "message": f"'{code}' is not a code of the codebook nor '{NONE_CODE}'{hint}"})
        if segment_ids is not None and key is not None and key not in segment_ids:
            problems.append({"table": table, "row": position, "key": key, "field": "segment_id", "rule": "foreign-key", "message": f"'{key}' is not a segment of segments.csv"})
    if not problems:
        frame = codings[list(CODING_COLUMNS)].astype(str)
        frame = frame.assign(_row=np.arange(1, len(frame) + 1), _none=frame["code"] == NONE_CODE)
        mixed = frame.groupby(["segment_id", "coder"])["_none"].agg(["any", "all"])
        mixed = mixed[mixed["any"] & ~mixed["all"]]
        for (segment_id, coder) in mixed.index:
            rows = frame[(frame.segment_id == segment_id) & (frame.coder == coder) & frame._none]["_row"]
            for row in rows:
                problems.append({"table": table, "row": int(row), "key": segment_id, "field": "code", "rule": "none-exclusive", "message": f"coder '{coder}' recorded '{NONE_CODE}' and also other codes for this segment"})
    if problems:
        raise CodingDataError(problems)


def check_segments(segments: pd.DataFrame, columns: Sequence[str] = SEGMENT_COLUMNS) -> None:
    """Raise :class:`CodingDataError` if a needed column is missing or a ``segment_id`` is empty or repeated."""
    table = _table_name(segments, "segments.csv")
    _require_columns(segments, columns, table)
    problems = []
    seen: dict[str, int] = {}
    for position, segment_id in enumerate(segments["segment_id"], start=1):
        if _blank(segment_id):
            problems.append({"table": table, "row": position, "key": None, "field": "segment_id", "rule": "required", "message": "the cell is empty"})
            continue
        key = str(segment_id)
        if key in seen:
            problems.append({"table": table, "row": position, "key": key, "field": "segment_id", "rule": "unique", "message": f"'{key}' repeats row {seen[key]}"})
        else:
            seen[key] = position
    if problems:
        raise CodingDataError(problems)


# --------------------------------------------------------------------------- applied codes


def _select_coders(codings: pd.DataFrame, coders) -> pd.DataFrame:
    frame = codings.assign(
        segment_id=codings["segment_id"].astype(str),
        coder=codings["coder"].astype(str),
        code=codings["code"].astype(str),
    )
    if coders is None:
        return frame
    wanted = [coders] if isinstance(coders, str) else [str(c) for c in coders]
    if not wanted:
        raise ValueError("coders: an empty list selects no coder")
    present = set(frame["coder"])
    unknown = [c for c in wanted if c not in present]
    if unknown:
        raise ValueError(f"coders: {unknown} do not occur in codings (coders there: {sorted(present)})")
    return frame[frame["coder"].isin(wanted)]


def coded_segments(codings: pd.DataFrame, coders=None, min_coders: int = 1) -> pd.DataFrame:
    """One row per segment coded by at least ``min_coders`` of the selected coders.

    Columns: ``segment_id``, ``n_coders`` (selected coders who coded it, ``none``
    included), ``coders`` (their ids, ``;``-joined, sorted).

    >>> import pandas as pd
    >>> c = pd.DataFrame({"segment_id": ["S1", "S1", "S2"], "coder": ["a", "b", "a"], "code": ["x.p", "none", "x.q"]})
    >>> coded_segments(c, min_coders=2)[["segment_id", "n_coders", "coders"]].to_dict("records")
    [{'segment_id': 'S1', 'n_coders': 2, 'coders': 'a;b'}]
    """
    frame = _select_coders(codings, coders)
    grouped = frame.groupby("segment_id", sort=True)["coder"].agg(lambda s: sorted(set(s)))
    out = pd.DataFrame({"segment_id": grouped.index, "n_coders": grouped.map(len).to_numpy(), "coders": grouped.map(";".join).to_numpy()})
    return out[out["n_coders"] >= min_coders].reset_index(drop=True)


def applied_codes(codings: pd.DataFrame, coders=None, rule: str = "union", min_coders: int = 1) -> pd.DataFrame:
    """The codes applied to each segment under ``rule`` (see the module notes).

    Returns one row per (segment, applied code): ``segment_id``, ``code``,
    ``n_applied`` (selected coders who applied it), ``n_coders`` (selected coders who
    coded the segment).

    >>> import pandas as pd
    >>> c = pd.DataFrame({"segment_id": ["S1", "S1", "S1"], "coder": ["a", "b", "a"],
    ...                   "code": ["mechanism.p", "mechanism.p", "mechanism.q"]})
    >>> applied_codes(c, rule="consensus")[["segment_id", "code"]].to_dict("records")
    [{'segment_id': 'S1', 'code': 'mechanism.p'}]
    >>> sorted(applied_codes(c, rule="union")["code"])
    ['mechanism.p', 'mechanism.q']
    """
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}, not {rule!r}")
    frame = _select_coders(codings, coders)
    segments = coded_segments(frame, None, min_coders)
    per_segment = dict(zip(segments["segment_id"], segments["n_coders"]))
    real = frame[(frame["code"] != NONE_CODE) & frame["segment_id"].isin(per_segment)]
    counts = real.groupby(["segment_id", "code"], sort=True)["coder"].nunique().rename("n_applied").reset_index()
    counts["n_coders"] = counts["segment_id"].map(per_segment).astype(int)
    if rule == "union":
        keep = counts["n_applied"] >= 1
    elif rule == "majority":
        keep = 2 * counts["n_applied"] > counts["n_coders"]
    else:
        keep = counts["n_applied"] == counts["n_coders"]
    return counts[keep].reset_index(drop=True)


def _code_order(codes: Iterable[str], codebook: Codebook | None) -> list[str]:
    codes = set(codes)
    ordered = [c for c in codebook.codes if c in codes] if codebook is not None else []
    return ordered + sorted(codes - set(ordered))


def _code_attributes(codes: Sequence[str], codebook: Codebook | None) -> pd.DataFrame:
    book = codebook.codes if codebook is not None else {}
    return pd.DataFrame(
        {
            "code": list(codes),
            "dimension": [book[c].dimension if c in book else c.split(".", 1)[0] for c in codes],
            "pole": [book[c].pole if c in book else pd.NA for c in codes],
        },
        dtype=object,
    )


def _count_by_group(
    applied: pd.DataFrame,
    membership: pd.DataFrame,
    group_columns: list[str],
    codebook: Codebook | None,
    extra_flag: str | None = None,
    attribution: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Tidy code x group counts with zeros, ``n_group_segments`` denominators and shares.

    ``membership`` has one row per (segment, group) the segment belongs to.
    """
    codes = _code_order(applied["code"], codebook) if codebook is None else list(codebook.codes)
    denominators = membership.groupby(group_columns, dropna=False)["segment_id"].nunique().rename("n_group_segments")
    joined = applied[["segment_id", "code"]].merge(membership, on="segment_id", how="inner")
    if "city_id" in group_columns and attribution is not None:
        joined = keep_attributed(joined, attribution)
    aggregations = {"n_segments": ("segment_id", "nunique")}
    if extra_flag:
        aggregations[f"n_{extra_flag}"] = (extra_flag, "sum")
    counts = joined.groupby(["code", *group_columns], dropna=False).agg(**aggregations).reset_index()
    groups = denominators.index.to_frame(index=False)
    grid = _code_attributes(codes, codebook).merge(groups, how="cross")
    if counts.empty:  # nothing applied: every cell is zero (and empty frames carry no key dtypes to merge on)
        counts = pd.DataFrame({c: pd.Series(dtype=grid[c].dtype) for c in ["code", *group_columns]} | {c: pd.Series(dtype="int64") for c in aggregations})
    out = grid.merge(counts, on=["code", *group_columns], how="left")
    out = out.merge(denominators.reset_index(), on=group_columns, how="left")
    for column in aggregations:
        out[column] = out[column].fillna(0).astype(int)
    out["share"] = out["n_segments"] / out["n_group_segments"]
    return out.reset_index(drop=True)


def _segment_table(segments: pd.DataFrame, coded: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    check_segments(segments, columns)
    frame = segments.assign(segment_id=segments["segment_id"].astype(str))
    missing = sorted(set(coded["segment_id"]) - set(frame["segment_id"]))
    if missing:
        raise CodingDataError(
            [{"table": "codings.csv", "row": None, "key": s, "field": "segment_id", "rule": "foreign-key", "message": f"'{s}' is coded but is not a segment of segments.csv"} for s in missing]
        )
    return frame[frame["segment_id"].isin(set(coded["segment_id"]))]


def code_city_attribution(codings: pd.DataFrame) -> dict[tuple[str, str], set[str]]:
    """(segment_id, code) -> the cities a code is attributed to within a multi-city segment.

    ``codings.city_id`` is optional: empty means the code applies to every city the
    segment names; a city id means the passage attributes the code to that city only
    (a contrast such as "Unlike Beijing, which ..., NYC ..."). Pairs without any
    attribution are absent from the result.

    >>> import pandas as pd
    >>> c = pd.DataFrame({"segment_id": ["S1", "S1"], "coder": ["a", "a"], "code": ["x.p", "x.q"],
    ...                   "city_id": ["beijing", None]})
    >>> code_city_attribution(c)
    {('S1', 'x.p'): {'beijing'}}
    """
    if "city_id" not in codings.columns:
        return {}
    rows = codings[codings["city_id"].notna() & (codings["city_id"].astype(str) != "")]
    out: dict[tuple[str, str], set[str]] = {}
    for segment_id, code, city in zip(rows["segment_id"].astype(str), rows["code"].astype(str), rows["city_id"].astype(str)):
        out.setdefault((segment_id, code), set()).add(city)
    return out


def keep_attributed(rows: pd.DataFrame, codings: pd.DataFrame) -> pd.DataFrame:
    """Drop (segment, code, city) rows where the code is attributed to other cities of the segment."""
    attribution = code_city_attribution(codings)
    if not attribution or rows.empty:
        return rows
    keep = [
        (str(s), str(c)) not in attribution or city in attribution[(str(s), str(c))]
        for s, c, city in zip(rows["segment_id"], rows["code"], rows["city_id"])
    ]
    return rows[keep]


def _city_membership(segments: pd.DataFrame, include_multi_city: bool) -> pd.DataFrame:
    rows = []
    for segment_id, cities in zip(segments["segment_id"], segments["cities"]):
        ids = list(dict.fromkeys(split_ids(cities)))
        multi = len(ids) > 1
        if multi and not include_multi_city:
            continue
        # a segment naming no city stays visible with a missing city_id rather than vanishing
        for city in ids or [pd.NA]:
            rows.append({"segment_id": segment_id, "city_id": city, "multi_city": multi})
    return pd.DataFrame(rows, columns=["segment_id", "city_id", "multi_city"])


def code_by_city(
    segments: pd.DataFrame,
    codings: pd.DataFrame,
    codebook: Codebook | None = None,
    *,
    coders=None,
    rule: str = "union",
    min_coders: int = 1,
    include_multi_city: bool = True,
) -> pd.DataFrame:
    """Code x city counts of coded segments.

    One row per (code, city), zeros included: ``code``, ``dimension``, ``pole``,
    ``city_id``, ``n_segments`` (segments naming the city that carry the code),
    ``n_multi_city`` (how many of those are multi-city statements),
    ``n_group_segments`` (coded segments naming the city: the denominator) and
    ``share``. A code attributed to one city of a multi-city segment
    (``codings.city_id``) counts for that city only. Codes are every code of ``codebook`` in codebook order (without a
    codebook: the codes applied). A segment naming no city appears under a missing
    ``city_id``.

    >>> import pandas as pd
    >>> seg = pd.DataFrame({"segment_id": ["S1", "S2"], "cities": ["beijing", "beijing; new_york"], "source": ["000", "000"]})
    >>> cod = pd.DataFrame({"segment_id": ["S1", "S2"], "coder": ["a", "a"], "code": ["mechanism.p", "mechanism.p"]})
    >>> t = code_by_city(seg, cod)
    >>> t.set_index("city_id")["n_segments"].to_dict()
    {'beijing': 2, 'new_york': 1}
    >>> code_by_city(seg, cod, include_multi_city=False).set_index("city_id")["n_segments"].to_dict()
    {'beijing': 1}
    """
    check_codings(codings, codebook, segments)
    applied = applied_codes(codings, coders, rule, min_coders)
    coded = coded_segments(codings, coders, min_coders)
    frame = _segment_table(segments, coded, SEGMENT_COLUMNS)
    membership = _city_membership(frame, include_multi_city)
    out = _count_by_group(applied, membership, ["city_id"], codebook, extra_flag="multi_city",
                          attribution=_select_coders(codings, coders))
    out = out.rename(columns={"n_group_segments": "n_city_segments"})
    return out[["code", "dimension", "pole", "city_id", "n_segments", "n_multi_city", "n_city_segments", "share"]]


def code_by_source(
    segments: pd.DataFrame,
    codings: pd.DataFrame,
    codebook: Codebook | None = None,
    *,
    coders=None,
    rule: str = "union",
    min_coders: int = 1,
) -> pd.DataFrame:
    """Code x source counts: ``code``, ``dimension``, ``pole``, ``source``, ``n_segments``,
    ``n_source_segments`` (coded segments from the source) and ``share``; zeros included.

    >>> import pandas as pd
    >>> seg = pd.DataFrame({"segment_id": ["S1", "S2"], "cities": ["beijing", "new_york"], "source": ["000", "002"]})
    >>> cod = pd.DataFrame({"segment_id": ["S1", "S2"], "coder": ["a", "a"], "code": ["mechanism.p", "none"]})
    >>> code_by_source(seg, cod).set_index("source")["n_segments"].to_dict()
    {'000': 1, '002': 0}
    """
    check_codings(codings, codebook, segments)
    applied = applied_codes(codings, coders, rule, min_coders)
    coded = coded_segments(codings, coders, min_coders)
    frame = _segment_table(segments, coded, SEGMENT_COLUMNS)
    membership = frame[["segment_id", "source"]].assign(source=frame["source"].astype("string"))
    out = _count_by_group(applied, membership, ["source"], codebook)
    return out.rename(columns={"n_group_segments": "n_source_segments"})[
        ["code", "dimension", "pole", "source", "n_segments", "n_source_segments", "share"]
    ]


def segment_roles(segments: pd.DataFrame, interviews: pd.DataFrame, role_column: str = "role") -> pd.DataFrame:
    """The informant roles each segment speaks with: one row per (segment, distinct role).

    A segment's roles come from its ``interview_ids`` (each a row of ``interviews``,
    read in ``role_column``; ``role_source = "interviews"``). A segment without
    interview ids takes its ``speaker_role`` (the role the source gives an anonymous
    speaker; ``role_source = "speaker_role"``). A segment with neither keeps one row
    with a missing role and ``role_source = "unattributed"``. An interview id that is
    not in ``interviews`` is an error naming the row.

    >>> import pandas as pd
    >>> seg = pd.DataFrame({"segment_id": ["S1", "S2"], "interview_ids": ["BJ1; BJ2", ""], "speaker_role": ["", "311 manager"]})
    >>> inter = pd.DataFrame({"informant_id": ["BJ1", "BJ2"], "role": ["operator", "operator"]})
    >>> segment_roles(seg, inter)[["segment_id", "role", "role_source"]].values.tolist()
    [['S1', 'operator', 'interviews'], ['S2', '311 manager', 'speaker_role']]
    """
    table = _table_name(segments, "segments.csv")
    _require_columns(segments, ["segment_id", "interview_ids", "speaker_role"], table)
    _require_columns(interviews, ["informant_id", role_column], _table_name(interviews, "interviews.csv"))
    roles = dict(zip(interviews["informant_id"].astype(str).str.strip(), interviews[role_column]))
    rows, problems = [], []
    for position, (segment_id, ids, speaker) in enumerate(
        zip(segments["segment_id"].astype(str), segments["interview_ids"], segments["speaker_role"]), start=1
    ):
        informants = split_ids(ids)
        if informants:
            found = []
            for informant in informants:
                if informant not in roles:
                    problems.append({"table": table, "row": position, "key": segment_id, "field": "interview_ids", "rule": "foreign-key", "message": f"'{informant}' is not an informant of interviews.csv"})
                    continue
                role = roles[informant]
                found.append(pd.NA if _blank(role) else str(role).strip())
            for role in dict.fromkeys(found):
                rows.append({"segment_id": segment_id, "role": role, "role_source": "interviews"})
        elif not _blank(speaker):
            rows.append({"segment_id": segment_id, "role": str(speaker).strip(), "role_source": "speaker_role"})
        else:
            rows.append({"segment_id": segment_id, "role": pd.NA, "role_source": "unattributed"})
    if problems:
        raise CodingDataError(problems)
    return pd.DataFrame(rows, columns=["segment_id", "role", "role_source"])


def code_by_role(
    segments: pd.DataFrame,
    codings: pd.DataFrame,
    interviews: pd.DataFrame,
    codebook: Codebook | None = None,
    *,
    coders=None,
    rule: str = "union",
    min_coders: int = 1,
    role_column: str = "role",
) -> pd.DataFrame:
    """Code x informant role counts (roles as :func:`segment_roles` finds them).

    One row per (code, role, role_source), zeros included: ``code``, ``dimension``,
    ``pole``, ``role``, ``role_source``, ``n_segments``, ``n_role_segments`` and
    ``share``. Pass ``role_column`` to count by a harmonised role column you added to
    ``interviews``.

    >>> import pandas as pd
    >>> seg = pd.DataFrame({"segment_id": ["S1", "S2"], "cities": ["beijing", "new_york"], "source": ["000", "002"],
    ...                     "interview_ids": ["BJ1", ""], "speaker_role": ["", "311 manager"]})
    >>> inter = pd.DataFrame({"informant_id": ["BJ1"], "role": ["operator"]})
    >>> cod = pd.DataFrame({"segment_id": ["S1", "S2"], "coder": ["a", "a"], "code": ["mechanism.p", "mechanism.p"]})
    >>> code_by_role(seg, cod, inter).set_index("role")["n_segments"].to_dict()
    {'311 manager': 1, 'operator': 1}
    """
    check_codings(codings, codebook, segments)
    applied = applied_codes(codings, coders, rule, min_coders)
    coded = coded_segments(codings, coders, min_coders)
    frame = _segment_table(segments, coded, ["segment_id", "interview_ids", "speaker_role"])
    membership = segment_roles(frame, interviews, role_column)
    membership["role"] = membership["role"].astype("string")
    out = _count_by_group(applied, membership, ["role", "role_source"], codebook)
    out = out.rename(columns={"n_group_segments": "n_role_segments"})
    return out[["code", "dimension", "pole", "role", "role_source", "n_segments", "n_role_segments", "share"]]


# --------------------------------------------------------------------------- co-occurrence


def presence_matrix(codings: pd.DataFrame, coders=None, rule: str = "union", min_coders: int = 1, codebook: Codebook | None = None) -> pd.DataFrame:
    """Boolean segments x codes table: ``True`` where the code is applied under ``rule``.

    Rows are every coded segment (also those with no applied code); columns are the
    codes of ``codebook`` (or, without one, the codes applied).
    """
    applied = applied_codes(codings, coders, rule, min_coders)
    coded = coded_segments(codings, coders, min_coders)["segment_id"]
    codes = list(codebook.codes) if codebook is not None else _code_order(applied["code"], None)
    codes += [c for c in _code_order(applied["code"], None) if c not in set(codes)]
    hits = pd.crosstab(applied["segment_id"], applied["code"]).astype(bool)
    matrix = hits.reindex(index=pd.Index(coded, name="segment_id"), columns=pd.Index(codes, name="code"), fill_value=False)
    return matrix.astype(bool)


def cooccurrence(
    codings: pd.DataFrame,
    codebook: Codebook | None = None,
    *,
    coders=None,
    rule: str = "union",
    min_coders: int = 1,
    segment_ids: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Segment-level co-occurrence of codes, as a tidy long table.

    One row per ordered pair (A, B) of distinct codes that are each applied to at least
    one segment: ``code_a``, ``code_b``, ``n_a``, ``n_b`` (segments carrying A, B),
    ``n_both`` (carrying both), ``jaccard`` = n_both / (n_a + n_b - n_both),
    ``p_b_given_a`` = n_both / n_a (the share of A's segments that also carry B; not
    symmetric), and ``n_segments`` (coded segments, the universe). ``segment_ids``
    restricts the universe (for example to one city's segments).

    >>> import pandas as pd
    >>> cod = pd.DataFrame({"segment_id": ["S1", "S1", "S2", "S3"], "coder": ["a"] * 4,
    ...                     "code": ["x.p", "x.q", "x.p", "none"]})
    >>> t = cooccurrence(cod).set_index(["code_a", "code_b"])
    >>> t.loc[("x.p", "x.q"), ["n_a", "n_b", "n_both", "jaccard", "p_b_given_a"]].tolist()
    [2.0, 1.0, 1.0, 0.5, 0.5]
    >>> float(t.loc[("x.q", "x.p"), "p_b_given_a"])
    1.0
    """
    check_codings(codings, codebook)
    matrix = presence_matrix(codings, coders, rule, min_coders, codebook)
    if segment_ids is not None:
        matrix = matrix.loc[matrix.index.isin([str(s) for s in segment_ids])]
    used = [c for c in matrix.columns if matrix[c].any()]
    x = matrix[used].to_numpy(dtype=np.int64)
    both = x.T @ x
    n = np.diag(both)
    columns = ["code_a", "code_b", "n_a", "n_b", "n_both", "jaccard", "p_b_given_a", "n_segments"]
    if len(used) < 2:
        return pd.DataFrame(columns=columns)
    ia, ib = np.where(~np.eye(len(used), dtype=bool))
    n_a, n_b, n_both = n[ia], n[ib], both[ia, ib]
    return pd.DataFrame(
        {
            "code_a": np.asarray(used, dtype=object)[ia],
            "code_b": np.asarray(used, dtype=object)[ib],
            "n_a": n_a,
            "n_b": n_b,
            "n_both": n_both,
            "jaccard": n_both / (n_a + n_b - n_both),
            "p_b_given_a": n_both / n_a,
            "n_segments": len(matrix),
        }
    )[columns]


def cooccurrence_matrix(table: pd.DataFrame, value: str = "jaccard") -> pd.DataFrame:
    """Square code x code matrix of one column of :func:`cooccurrence`, for a heatmap.

    Rows are ``code_a``, columns ``code_b``. The diagonal holds ``n_a`` for the counts
    (``n_both``) and 1 for ``jaccard`` and ``p_b_given_a``.

    >>> import pandas as pd
    >>> cod = pd.DataFrame({"segment_id": ["S1", "S1", "S2"], "coder": ["a"] * 3, "code": ["x.p", "x.q", "x.p"]})
    >>> cooccurrence_matrix(cooccurrence(cod), "p_b_given_a").loc["x.p"].tolist()
    [1.0, 0.5]
    """
    allowed = ("n_both", "jaccard", "p_b_given_a")
    if value not in allowed:
        raise ValueError(f"value must be one of {allowed}, not {value!r}")
    codes = list(dict.fromkeys([*table["code_a"], *table["code_b"]]))
    square = table.pivot(index="code_a", columns="code_b", values=value).reindex(index=codes, columns=codes)
    sizes = table.drop_duplicates("code_a").set_index("code_a")["n_a"]
    for code in codes:
        square.loc[code, code] = sizes[code] if value == "n_both" else 1.0
    square.index.name, square.columns.name = "code_a", "code_b"
    return square


# --------------------------------------------------------------------------- boolean retrieval


class ExpressionError(ValueError):
    """A syntax error or unknown code in a code expression, with its 0-based ``position``."""

    def __init__(self, message: str, expression: str, position: int):
        self.expression = expression
        self.position = position
        pointer = " " * position + "^"
        super().__init__(f"{message} at position {position}:\n  {expression}\n  {pointer}")


_TOKEN = re.compile(r"\s*(?:(?P<paren>[()])|(?P<word>[^\s()]+))")
_OPERATORS = {"and": "AND", "or": "OR", "not": "NOT"}


@dataclass(frozen=True)
class _Token:
    kind: str  # "AND", "OR", "NOT", "(", ")", "CODE", "END"
    text: str
    position: int


def _tokenize(expression: str) -> list[_Token]:
    tokens, position = [], 0
    while True:
        match = _TOKEN.match(expression, position)
        if match is None or match.end() == position:
            break
        if match.group("paren"):
            tokens.append(_Token(match.group("paren"), match.group("paren"), match.start("paren")))
        else:
            word = match.group("word")
            tokens.append(_Token(_OPERATORS.get(word.lower(), "CODE"), word, match.start("word")))
        position = match.end()
    tokens.append(_Token("END", "", len(expression.rstrip()) if expression.strip() else 0))
    return tokens


@dataclass(frozen=True)
class Code:
    """A code id, or a whole dimension written ``<dimension>.*`` (any code of it)."""

    name: str

    def evaluate(self, presence: pd.DataFrame) -> pd.Series:
        if self.name.endswith(".*"):
            prefix = self.name[:-1]
            columns = [c for c in presence.columns if c.startswith(prefix)]
            return presence[columns].any(axis=1) if columns else pd.Series(False, index=presence.index)
        if self.name in presence.columns:
            return presence[self.name].astype(bool)
        return pd.Series(False, index=presence.index)

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Not:
    operand: object

    def evaluate(self, presence: pd.DataFrame) -> pd.Series:
        return ~self.operand.evaluate(presence)

    def __str__(self) -> str:
        return f"NOT {self.operand}"


@dataclass(frozen=True)
class And:
    left: object
    right: object

    def evaluate(self, presence: pd.DataFrame) -> pd.Series:
        return self.left.evaluate(presence) & self.right.evaluate(presence)

    def __str__(self) -> str:
        return f"({self.left} AND {self.right})"


@dataclass(frozen=True)
class Or:
    left: object
    right: object

    def evaluate(self, presence: pd.DataFrame) -> pd.Series:
        return self.left.evaluate(presence) | self.right.evaluate(presence)

    def __str__(self) -> str:
        return f"({self.left} OR {self.right})"


class _Parser:
    """Recursive descent over the grammar (NOT binds tighter than AND, AND than OR)::

        expression := term ( OR term )*
        term       := factor ( AND factor )*
        factor     := NOT factor | '(' expression ')' | CODE
    """

    def __init__(self, expression: str, vocabulary: set[str]):
        self.expression = expression
        self.vocabulary = vocabulary
        self.dimensions = {c.split(".", 1)[0] for c in vocabulary if "." in c}
        self.tokens = _tokenize(expression)
        self.index = 0

    def error(self, message: str, position: int) -> ExpressionError:
        return ExpressionError(message, self.expression, position)

    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def parse(self):
        if self.current.kind == "END":
            raise self.error("empty expression", 0)
        node = self.expression_()
        if self.current.kind != "END":
            token = self.current
            what = "')' without a matching '('" if token.kind == ")" else f"'{token.text}'"
            raise self.error(f"unexpected {what}; expected AND, OR or the end", token.position)
        return node

    def expression_(self):
        node = self.term()
        while self.current.kind == "OR":
            self.index += 1
            node = Or(node, self.term())
        return node

    def term(self):
        node = self.factor()
        while self.current.kind == "AND":
            self.index += 1
            node = And(node, self.factor())
        return node

    def factor(self):
        token = self.current
        if token.kind == "NOT":
            self.index += 1
            return Not(self.factor())
        if token.kind == "(":
            self.index += 1
            node = self.expression_()
            if self.current.kind != ")":
                found = "the end" if self.current.kind == "END" else f"'{self.current.text}'"
                raise self.error(f"'(' at position {token.position} is not closed: expected ')' but found {found}", self.current.position)
            self.index += 1
            return node
        if token.kind == "CODE":
            self.index += 1
            return Code(self.check_code(token))
        found = "the end of the expression" if token.kind == "END" else f"'{token.text}'"
        raise self.error(f"expected a code, NOT or '(' but found {found}", token.position)

    def check_code(self, token: _Token) -> str:
        name = token.text
        if name.endswith(".*"):
            if name[:-2] not in self.dimensions:
                raise self.error(f"unknown dimension '{name[:-2]}' (dimensions: {', '.join(sorted(self.dimensions))})", token.position)
            return name
        if name not in self.vocabulary:
            close = difflib.get_close_matches(name, sorted(self.vocabulary), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise self.error(f"unknown code '{name}'{hint}", token.position)
        return name


def parse_expression(expression: str, vocabulary: Iterable[str]):
    """Parse a boolean expression over code ids into a tree with ``evaluate(presence)``.

    Operators ``AND``, ``OR``, ``NOT`` (any letter case) and parentheses; ``NOT``
    binds tighter than ``AND``, ``AND`` tighter than ``OR``. ``<dimension>.*`` stands
    for any code of a dimension. Codes must be in ``vocabulary``. Nothing is ever
    passed to ``eval``: a small tokenizer feeds a recursive-descent parser.

    >>> tree = parse_expression("a.x AND NOT (a.y OR b.z)", {"a.x", "a.y", "b.z"})
    >>> str(tree)
    '(a.x AND NOT (a.y OR b.z))'
    >>> parse_expression("a.x AND", {"a.x"})
    Traceback (most recent call last):
    ...
    hotlines.coding.queries.ExpressionError: expected a code, NOT or '(' but found the end of the expression at position 7:
      a.x AND
             ^
    """
    if not isinstance(expression, str):
        raise TypeError(f"expression must be a string, not {type(expression).__name__}")
    return _Parser(expression, set(vocabulary)).parse()


def retrieve(
    segments: pd.DataFrame,
    codings: pd.DataFrame,
    expression: str | None = None,
    *,
    city: str | Sequence[str] | None = None,
    codebook: Codebook | None = None,
    coders=None,
    rule: str = "union",
    min_coders: int = 1,
    include_multi_city: bool = True,
) -> pd.DataFrame:
    """The coded segments matching a boolean code expression and, optionally, a city.

    ``expression`` is parsed by :func:`parse_expression` against the codes of
    ``codebook`` (without a codebook: the codes that occur in ``codings``); ``None``
    matches every coded segment. ``city`` keeps segments naming that city (or any of a
    list); ``include_multi_city=False`` keeps only segments naming a single city.
    Only coded segments are searched, so ``NOT x`` never returns an uncoded segment.
    Returns the matching rows of ``segments`` (all their columns, in their order) plus
    ``codes``: the codes applied under ``rule``, ``;``-joined.

    >>> import pandas as pd
    >>> seg = pd.DataFrame({"segment_id": ["S1", "S2", "S3"], "cities": ["beijing", "beijing", "new_york"],
    ...                     "source": ["000"] * 3, "passage": ["p1", "p2", "p3"]})
    >>> cod = pd.DataFrame({"segment_id": ["S1", "S1", "S2", "S3"], "coder": ["a"] * 4,
    ...                     "code": ["mechanism.cross_level_escalation", "institution.sla_partial_framework",
    ...                              "mechanism.cross_level_escalation", "mechanism.cross_level_escalation"]})
    >>> retrieve(seg, cod, "mechanism.cross_level_escalation AND NOT institution.sla_partial_framework",
    ...          city="beijing")["segment_id"].tolist()
    ['S2']
    """
    check_codings(codings, codebook, segments)
    vocabulary = set(codebook.codes) if codebook is not None else set(codings["code"].astype(str)) - {NONE_CODE}
    tree = parse_expression(expression, vocabulary) if expression is not None else None
    matrix = presence_matrix(codings, coders, rule, min_coders, codebook)
    frame = _segment_table(segments, matrix.index.to_frame(index=False), SEGMENT_COLUMNS)
    keep = pd.Series(True, index=frame.index)
    cities = frame["cities"].map(lambda v: list(dict.fromkeys(split_ids(v))))
    if city is not None:
        wanted = {city} if isinstance(city, str) else set(city)
        keep &= cities.map(lambda ids: bool(wanted & set(ids)))
    if not include_multi_city:
        keep &= cities.map(len) <= 1
    if tree is not None:
        hit = tree.evaluate(matrix)
        keep &= frame["segment_id"].map(hit).astype(bool)
    out = frame[keep].copy()
    codes_of = {s: ";".join(c for c in matrix.columns if row[c]) for s, row in matrix.loc[out["segment_id"]].iterrows()}
    out["codes"] = out["segment_id"].map(codes_of)
    return out.reset_index(drop=True)
