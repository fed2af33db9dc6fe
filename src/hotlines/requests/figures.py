"""Figures and small tables of the request-records chapter, in the book's theme.

The estimates come from :mod:`hotlines.requests.survival` (lifelines) and
:mod:`hotlines.requests.engine`; the functions here arrange the shipped samples
(:mod:`hotlines.requests.samples`) into the tables and figures a chapter shows, and
compute the few descriptive counts those need:

- :func:`sample_overview`, :func:`validation_counts`: what each sample holds and what
  validation kept, quarantined and flagged (kept + quarantined = read, checked);
- :func:`naive_closed_quantiles`: quantiles of closed requests only, with and without
  the quarantined rows that close before they open (how a published median can include
  impossible durations);
- :func:`censoring_table`: the naive mean of closed requests next to the Kaplan–Meier
  median and restricted mean, pooled and per group, over one common horizon;
- :func:`on_time_breakdown`, :func:`on_time_shares`: closing times against target
  dates, next to the publisher's own on-time flag, with bounds for the open requests;
- :func:`compare_km_tables`, :func:`km_agreement`: the engine's Kaplan–Meier table
  against lifelines', as the largest absolute difference per column;
- :func:`censoring_figure`, :func:`km_comparison_figure`: the figures;
- :func:`logrank_by_top_levels`: log-rank tests among the most frequent levels;
- :func:`format_interval`, :func:`sample_display`, :func:`validation_display`,
  :func:`censoring_display`, :func:`quantile_display`, :func:`top_level_medians`,
  :func:`logrank_display`, :func:`cox_display`, :func:`aft_display`,
  :func:`on_time_display`: short, rounded display tables.

>>> format_interval(2.5, 2.0, 3.25)
'2.50 (2.00–3.25)'
>>> format_interval(float("inf"), float("inf"), float("inf"))
'not reached'
"""

from __future__ import annotations

import json
import math
from typing import Iterable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .. import viz
from . import samples as samples_module
from . import survival
from .loaders import sidecar_path
from .mapping import parse_local
from .schema import CITY_TIMEZONES, durations
from .validate import RULES, ValidationResult

C = viz.OKABE_ITO

#: Short names of the shipped samples, as the chapter's tables print them.
SAMPLE_LABELS = {
    "nyc_1k": "NYC 1k",
    "nyc_20k": "NYC 20k",
    "nyc_100": "NYC 100",
    "sf_10k": "SF 10k",
    "boston_100": "Boston 100",
}

#: What each sample is and is not, in a few words (from data/requests/raw/SOURCE.md).
SAMPLE_NOTES = {
    "nyc_1k": "every agency; the latest requests at download time, not a random sample",
    "nyc_20k": "NYPD only; the first rows of a Kaggle extract, not a random sample",
    "nyc_100": "format fixture (Title Case export); drawn from a benchmark sample, as it appears",
    "sf_10k": "every agency; a random sample as the notes describe it; legacy columns",
    "boston_100": "schema fixture with target dates and an on-time flag; not a study city",
}

#: Which agencies a sample covers, for curve labels.
SAMPLE_SCOPE = {
    "nyc_1k": "all agencies",
    "nyc_20k": "NYPD only",
    "nyc_100": "all agencies",
    "sf_10k": "all agencies",
    "boston_100": "all departments",
}

CITY_NAMES = {
    "new_york": "New York",
    "san_francisco": "San Francisco",
    "boston": "Boston",
    "chicago": "Chicago",
    "toronto": "Toronto",
    "rio_de_janeiro": "Rio de Janeiro",
}

#: Curves of more steps than this are thinned to where they move by STEP_RESOLUTION.
MAX_STEPS = 2000
STEP_RESOLUTION = 1e-3

MINUTES_PER_DAY = 1440.0
HOURS_PER_DAY = 24.0


# --------------------------------------------------------------------------- what the samples hold


def _names(names: Iterable[str] | None) -> list[str]:
    names = list(samples_module.SAMPLES if names is None else names)
    unknown = [n for n in names if n not in samples_module.SAMPLES]
    if unknown:
        raise KeyError(f"no request sample {unknown}; the samples are {', '.join(samples_module.SAMPLES)}")
    return names


def _sidecar(name: str) -> dict:
    return json.loads(sidecar_path(samples_module.path(name)).read_text(encoding="utf-8"))


def _raw_closed_blank(result: ValidationResult) -> int:
    """Quarantined rows whose published closing time is blank."""
    if result.quarantined == 0:
        return 0
    column = result.mapping.resolve(result.quarantine.columns, result.source_file)["closed"]
    if column is None:
        return result.quarantined
    text = result.quarantine[column].astype("string").str.strip()
    return int((text.isna() | (text == "")).sum())


def sample_overview(names: Iterable[str] | None = None) -> pd.DataFrame:
    """One row per shipped sample: what was read, kept and quarantined, and how much is open.

    Columns: ``sample``, ``label``, ``city``, ``city_name``, ``created_first`` and
    ``created_last`` (kept records, local wall time of the city), ``read``, ``kept``,
    ``quarantined``, ``no_closing_time`` (rows read whose closing time is blank, kept or
    quarantined), ``share_no_closing_time`` (of rows read), ``open_kept`` and
    ``share_open_kept`` (kept requests censored at the snapshot), ``snapshot_local``
    and ``snapshot_status`` (from the sidecar: an assumption), ``note``.

    >>> row = sample_overview(["boston_100"]).iloc[0]
    >>> (int(row.read), int(row.kept + row.quarantined), row.city_name)
    (100, 100, 'Boston')
    """
    rows = []
    for name in _names(names):
        result = samples_module.load(name)
        records = durations(result.records)
        city = str(records["city"].iloc[0])
        zone = CITY_TIMEZONES[city]
        created = records["created"].dt.tz_convert(zone).dt.tz_localize(None)
        no_closing = int(records["closed"].isna().sum()) + _raw_closed_blank(result)
        meta = _sidecar(name)
        open_kept = int((~records["event"]).sum())
        rows.append({
            "sample": name,
            "label": SAMPLE_LABELS[name],
            "city": city,
            "city_name": CITY_NAMES.get(city, city),
            "created_first": created.min(),
            "created_last": created.max(),
            "read": result.read,
            "kept": result.kept,
            "quarantined": result.quarantined,
            "no_closing_time": no_closing,
            "share_no_closing_time": no_closing / result.read,
            "open_kept": open_kept,
            "share_open_kept": open_kept / result.kept,
            "snapshot_local": pd.Timestamp(meta["snapshot"]["local"]),
            "snapshot_status": meta["snapshot"]["status"],
            "note": SAMPLE_NOTES[name],
        })
    out = pd.DataFrame(rows)
    if not (out["kept"] + out["quarantined"] == out["read"]).all():
        raise AssertionError("kept + quarantined differs from read in a sample")  # validation guarantees it
    return out


def validation_counts(names: Iterable[str] | None = None) -> pd.DataFrame:
    """Rows per validation rule and sample, in wide form: the quarantine table of the chapter.

    One row for ``read``, ``kept``, ``quarantined`` and ``flagged`` (kept rows with at
    least one flag), then one per rule that any of the samples breaks (in the order of
    :data:`hotlines.requests.validate.RULES`), with ``action`` (``quarantine`` or
    ``flag``), ``description`` and one count column per sample (0 where a sample does not
    break the rule). A row that breaks two rules counts under both.
    """
    names = _names(names)
    parts = []
    for name in names:
        summary = samples_module.load(name).summary()
        parts.append(summary.assign(sample=name))
    long = pd.concat(parts, ignore_index=True)
    wide = long.pivot_table(index=["rule", "action", "description"], columns="sample", values="rows",
                            aggfunc="sum", fill_value=0).reset_index()
    head = ["read", "kept", "quarantined", "flagged"]
    order = {rule: i for i, rule in enumerate(head + list(RULES))}
    wide = wide.sort_values("rule", key=lambda s: s.map(order)).reset_index(drop=True)
    wide.columns.name = None
    for name in names:
        wide[name] = wide[name].astype(int)
    return wide[["rule", "action", "description", *names]]


def naive_closed_quantiles(result: ValidationResult, shares: Sequence[float] = (0.5, 0.9)) -> pd.DataFrame:
    """Quantiles of the closing times of closed requests only, with and without the impossible ones.

    Two rows: ``closed requests as validated`` (the kept records with a closing time)
    and ``with those closing before they open`` (adding the quarantined rows of rule
    ``closed-before-created``, their negative durations parsed from the raw values with
    the sample's mapping). Columns: ``variant``, ``n``, then ``q<share>_days`` per share
    (e.g. ``q0.5_days``). Both ignore every open request: they are what a naive summary
    of the data says, not estimates of resolution time (see
    :func:`hotlines.requests.survival.km_quantiles`).
    """
    records = durations(result.records)
    closed = records.loc[records["event"], "duration_days"]
    bad = result.quarantine.loc[
        result.quarantine["rules"].astype(str).str.split(";").map(lambda r: "closed-before-created" in r)
    ] if result.quarantined else result.quarantine
    mapping = result.mapping
    columns = mapping.resolve(result.quarantine.columns, result.source_file) if len(bad) else {}
    if len(bad):
        created = parse_local(bad[columns["created"]].astype("string"), mapping.timestamp_formats, mapping.timezone).utc
        closed_at = parse_local(bad[columns["closed"]].astype("string"), mapping.timestamp_formats, mapping.timezone).utc
        negative = ((closed_at - created).dt.total_seconds() / 86400.0).to_numpy()
    else:
        negative = np.array([], dtype=float)
    variants = [
        ("closed requests as validated", closed.to_numpy(dtype=float)),
        ("with those closing before they open", np.concatenate([closed.to_numpy(dtype=float), negative])),
    ]
    rows = []
    for label, values in variants:
        row = {"variant": label, "n": len(values)}
        for p in shares:
            row[f"q{p:g}_days"] = float(np.quantile(values, p)) if len(values) else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def keep_top_levels(records: pd.DataFrame, column: str, k: int, other: str = "other levels") -> pd.DataFrame:
    """The records with every level of ``column`` but the ``k`` most frequent relabelled ``other``.

    Ties in frequency are broken by name. Missing values count as a level of their own
    ("(missing)") and are relabelled like any other level outside the top ``k``.

    >>> frame = pd.DataFrame({"category": ["a", "a", "a", "b", "b", "c", None]})
    >>> keep_top_levels(frame, "category", 2, other="rest")["category"].tolist()
    ['a', 'a', 'a', 'b', 'b', 'rest', 'rest']
    """
    if column not in records.columns:
        raise KeyError(f"keep_top_levels: no column {column!r}")
    values = records[column].astype("string").fillna(survival.MISSING)
    if (values == other).any():
        raise ValueError(f"keep_top_levels: {column!r} already has a level named {other!r}")
    counts = values.value_counts()
    ranked = sorted(counts.index, key=lambda level: (-counts[level], level))
    top = set(ranked[:k])
    return records.assign(**{column: values.where(values.isin(top), other).astype("string")})


def top_levels(records: pd.DataFrame, column: str, k: int) -> list[str]:
    """The ``k`` most frequent levels of ``column`` (ties by name), most frequent first.

    >>> top_levels(pd.DataFrame({"agency": ["b", "a", "a", "c", "b"]}), "agency", 2)
    ['a', 'b']
    """
    counts = records[column].astype("string").dropna().value_counts()
    return sorted(counts.index, key=lambda level: (-counts[level], level))[:k]


# --------------------------------------------------------------------------- censoring


def censoring_table(
    records: pd.DataFrame,
    by: str | None = None,
    levels: Sequence[str] | None = None,
    *,
    pooled_label: str = "all requests",
) -> pd.DataFrame:
    """Naive and censoring-aware summaries, pooled and per level of ``by``, over one horizon.

    The rows of :func:`hotlines.requests.survival.naive_vs_censoring_aware` for all
    records (``group`` = ``pooled_label``) and for each level in ``levels`` (default:
    every level) of ``by``. The restricted mean of every row runs to the same horizon:
    the shortest follow-up (largest duration) among the rows, so that no row's
    restricted mean is extrapolated beyond its last observation.

    >>> records = pd.DataFrame({"agency": ["A", "A", "B", "B"], "duration_days": [0.1, 1.0, 0.2, 2.0],
    ...                         "event": [True, False, True, False]})
    >>> table = censoring_table(records, "agency")
    >>> table["group"].tolist(), table["horizon_days"].unique().tolist()
    (['all requests', 'A', 'B'], [1.0])
    """
    data = survival.time_to_event(records)
    parts = [(pooled_label, data)]
    if by is not None:
        chosen = list(levels) if levels is not None else sorted(data[by].dropna().astype(str).unique())
        for level in chosen:
            part = data[data[by].astype("string") == level]
            if part.empty:
                raise ValueError(f"censoring_table: no records with {by} = {level!r}")
            parts.append((level, part))
    horizon = float(min(part["duration_days"].max() for _, part in parts))
    rows = [survival.naive_vs_censoring_aware(part, horizon_days=horizon).assign(group=label) for label, part in parts]
    out = pd.concat(rows, ignore_index=True)
    return out[["group", *[c for c in out.columns if c != "group"]]]


# --------------------------------------------------------------------------- on time against target


ON_TIME_ORDER = [
    "closed by the target",
    "closed after the target",
    "closed, no target",
    "open, target passed at the snapshot",
    "open, target not reached at the snapshot",
    "open, no target",
]


def on_time_breakdown(
    result: ValidationResult, raw: pd.DataFrame, flag_field: str = "ontime"
) -> pd.DataFrame:
    """Kept requests by closing time against their target date, and the publisher's own flag.

    ``raw`` is the raw table the result was validated from
    (:func:`hotlines.requests.loaders.read_raw`); the flag is read from its
    ``flag_field`` at each record's ``source_row``. Each kept request falls in one of
    :data:`ON_TIME_ORDER`: closed by or after its target (``due``), closed without a
    target, or open at the snapshot with its target passed, not yet reached, or absent.
    Columns: ``against_target``, ``publisher_flag``, ``requests``.
    """
    if flag_field not in raw.columns:
        raise KeyError(f"on_time_breakdown: the raw table has no field {flag_field!r}")
    records = durations(result.records)
    rows = records["source_row"].astype(int).to_numpy() - 1
    if rows.min() < 0 or rows.max() >= len(raw):
        raise ValueError("on_time_breakdown: source rows outside the raw table: is it the table validated?")
    flag = pd.Series(raw[flag_field].to_numpy()[rows], index=records.index).astype("string").str.strip()
    closed, due = records["event"], records["due"]
    has_due = due.notna()
    label = np.select(
        [closed & has_due & (records["closed"] <= due), closed & has_due, closed,
         has_due & (records["snapshot"] > due), has_due],
        ON_TIME_ORDER[:5],
        default=ON_TIME_ORDER[5],
    )
    frame = pd.DataFrame({"against_target": label, "publisher_flag": flag.fillna("(blank)").replace("", "(blank)")})
    out = frame.groupby(["against_target", "publisher_flag"]).size().rename("requests").reset_index()
    out["_order"] = out["against_target"].map({v: i for i, v in enumerate(ON_TIME_ORDER)})
    return out.sort_values(["_order", "publisher_flag"]).drop(columns="_order").reset_index(drop=True)


def on_time_shares(breakdown: pd.DataFrame, on_time_flag: str = "ONTIME") -> pd.DataFrame:
    """Shares on time from :func:`on_time_breakdown`, with what the open requests leave open.

    Rows (``measure``):

    - ``closed with a target, by the dates``: closed by the target among closed requests
      with a target (open requests ignored, as a naive figure would);
    - ``closed, by the publisher's flag``: flagged ``on_time_flag`` among all closed;
    - ``every request with a target, by the dates``: the open ones count as late if their
      target had passed at the snapshot; those whose target lay ahead may still close on
      time or not, so the share is an interval (``share_low``, ``share_high``).

    Columns: ``measure``, ``n``, ``on_time_low``, ``on_time_high``, ``share_low``, ``share_high``.

    >>> breakdown = pd.DataFrame({"against_target": ["closed by the target", "closed after the target",
    ...     "open, target passed at the snapshot", "open, target not reached at the snapshot"],
    ...     "publisher_flag": ["ONTIME", "OVERDUE", "OVERDUE", "ONTIME"], "requests": [8, 2, 1, 1]})
    >>> on_time_shares(breakdown)[["share_low", "share_high"]].round(3).values.tolist()
    [[0.8, 0.8], [0.8, 0.8], [0.667, 0.75]]
    """
    counts = breakdown.groupby("against_target")["requests"].sum()

    def n(label: str) -> int:
        return int(counts.get(label, 0))

    by_target, late = n("closed by the target"), n("closed after the target")
    passed, ahead = n("open, target passed at the snapshot"), n("open, target not reached at the snapshot")
    closed = breakdown[breakdown["against_target"].str.startswith("closed")]
    flagged = int(closed.loc[closed["publisher_flag"] == on_time_flag, "requests"].sum())
    n_closed = int(closed["requests"].sum())
    with_target = by_target + late + passed + ahead
    rows = [
        ("closed with a target, by the dates", by_target + late, by_target, by_target),
        ("closed, by the publisher's flag", n_closed, flagged, flagged),
        ("every request with a target, by the dates", with_target, by_target, by_target + ahead),
    ]
    out = pd.DataFrame(rows, columns=["measure", "n", "on_time_low", "on_time_high"])
    denominator = out["n"].where(out["n"] > 0)
    out["share_low"] = out["on_time_low"] / denominator
    out["share_high"] = out["on_time_high"] / denominator
    return out


# --------------------------------------------------------------------------- engine against lifelines


def compare_km_tables(ours: pd.DataFrame, reference: pd.DataFrame, keys: Sequence[str] = ()) -> pd.DataFrame:
    """Largest absolute difference per column between two Kaplan–Meier tables of the same data.

    The tables must have the same groups and times in the same order (else a
    ``ValueError`` says where they part). Columns: ``column``, ``max_abs_difference``
    (for the counts, the largest difference in requests), ``rows``.

    >>> table = pd.DataFrame({"time_days": [0.0, 1.0], "n_at_risk": [2, 2], "n_events": [0, 1],
    ...                       "n_censored": [0, 0], "survival": [1.0, 0.5], "ci_low": [1.0, 0.1], "ci_high": [1.0, 0.9]})
    >>> diff = compare_km_tables(table, table.assign(survival=[1.0, 0.5 + 1e-12])).set_index("column")
    >>> f"{diff.loc['survival', 'max_abs_difference']:.1e}", float(diff.loc["n_at_risk", "max_abs_difference"])
    ('1.0e-12', 0.0)
    """
    keys = list(keys)
    if len(ours) != len(reference):
        raise ValueError(f"the Kaplan–Meier tables differ in length: {len(ours)} and {len(reference)} rows")
    for name in keys:
        a = ours[name].astype("string").fillna("<NA>").to_numpy()
        b = reference[name].astype("string").fillna("<NA>").to_numpy()
        if (a != b).any():
            first = int(np.flatnonzero(a != b)[0])
            raise ValueError(f"the tables' groups part at row {first}: {name} {a[first]!r} and {b[first]!r}")
    rows = []
    for column in survival.KM_COLUMNS:
        difference = np.abs(ours[column].to_numpy(dtype=float) - reference[column].to_numpy(dtype=float))
        rows.append({"column": column, "max_abs_difference": float(difference.max()) if len(difference) else 0.0,
                     "rows": len(ours)})
    return pd.DataFrame(rows)


def km_agreement(records: pd.DataFrame, by: str | Sequence[str] | None = None, *, backend="duckdb") -> pd.DataFrame:
    """The engine's Kaplan–Meier table (``backend``) against lifelines' on the same records.

    :func:`compare_km_tables` of :func:`hotlines.requests.engine.kaplan_meier` and
    :func:`hotlines.requests.survival.kaplan_meier`, plus a ``backend`` column.
    """
    from . import engine

    keys = [by] if isinstance(by, str) else list(by or [])
    ours = engine.kaplan_meier(records, keys, backend=backend)
    reference = survival.kaplan_meier(records, keys)
    name = backend if isinstance(backend, str) else getattr(backend, "name", type(backend).__name__)
    return compare_km_tables(ours, reference, keys).assign(backend=name)


# --------------------------------------------------------------------------- display tables


def _fmt(value: float, digits: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if math.isinf(value):
        return "not reached"
    if value == 0:
        return "0"
    # three significant figures, never scientific notation
    decimals = max(0, digits - 1 - int(math.floor(math.log10(abs(value)))))
    return f"{value:,.{decimals}f}"


def format_interval(estimate: float, low: float, high: float, digits: int = 3) -> str:
    """'estimate (low–high)' to ``digits`` significant figures; 'not reached' for an infinite estimate.

    An infinite upper limit prints as 'not reached' inside the brackets.

    >>> format_interval(0.1341, 0.1298, 0.13866)
    '0.134 (0.130–0.139)'
    >>> format_interval(5.0, 2.0, float("inf"))
    '5.00 (2.00–not reached)'
    """
    if math.isinf(estimate):
        return "not reached"
    return f"{_fmt(estimate, digits)} ({_fmt(low, digits)}–{_fmt(high, digits)})"


def format_p(p: float) -> str:
    """A p-value for a table: three significant figures, '< 0.001' below that.

    >>> format_p(0.04567), format_p(1e-12)
    ('0.0457', '< 0.001')
    """
    if p < 0.001:
        return "< 0.001"
    return _fmt(p, 3)


def quantile_display(q: pd.DataFrame, group: str, *, sample: str | None = None, scale: float = 1.0) -> pd.DataFrame:
    """The median rows of :func:`hotlines.requests.survival.km_quantiles` as a short table.

    Columns: ``Sample`` (if given), the group's values (header ``group`` capitalised),
    ``Requests``, ``Closed``, ``Median (95% CI)``. ``scale`` multiplies the times (24 for
    hours); the chapter names the unit in the caption. Rows keep the order of ``q``.
    """
    medians = q[q["share_closed"] == 0.5]
    out = pd.DataFrame({
        group.capitalize(): medians[group].astype(str).to_numpy(),
        "Requests": [f"{n:,}" for n in medians["n"]],
        "Closed": [f"{n:,}" for n in medians["n_events"]],
        "Median (95% CI)": [format_interval(e * scale, lo * scale, hi * scale)
                            for e, lo, hi in zip(medians["estimate_days"], medians["ci_low"], medians["ci_high"])],
    })
    if sample is not None:
        out.insert(0, "Sample", sample)
    return out


def cox_display(cox: survival.CoxResult) -> pd.DataFrame:
    """Cox coefficients with their proportional-hazards check, one row per term.

    Columns: ``Covariate``, ``Level``, ``Hazard ratio (95% CI)``, ``p``, ``PH test p``,
    ``PH holds``: "no" where the scaled Schoenfeld test rejects proportional hazards.
    """
    merged = cox.coefficients.merge(cox.ph_test[["term", "p_value", "violated"]], on="term",
                                    suffixes=("", "_ph"), validate="one_to_one")
    return pd.DataFrame({
        "Covariate": merged["covariate"],
        "Level": merged["level"],
        "Hazard ratio (95% CI)": [format_interval(e, lo, hi) for e, lo, hi in
                                  zip(merged["hazard_ratio"], merged["ci_low"], merged["ci_high"])],
        "p": merged["p_value"].map(format_p),
        "PH test p": merged["p_value_ph"].map(format_p),
        "PH holds": np.where(merged["violated"], "no", "yes"),
    })


def aft_display(aft: survival.AFTResult) -> pd.DataFrame:
    """The AIC comparison of :func:`hotlines.requests.survival.aft_models` as a short table."""
    c = aft.comparison
    return pd.DataFrame({
        "Model": c["model"].map({"weibull": "Weibull AFT", "lognormal": "log-normal AFT"}).fillna(c["model"]),
        "Parameters": c["n_parameters"].astype(int),
        "Log-likelihood": c["log_likelihood"].map(lambda v: f"{v:,.1f}"),
        "AIC": c["aic"].map(lambda v: f"{v:,.1f}"),
        "ΔAIC": c["delta_aic"].map(lambda v: f"{v:,.1f}"),
    })


def sample_display(overview: pd.DataFrame) -> pd.DataFrame:
    """:func:`sample_overview` as the chapter's table of samples (dates local, shares in percent)."""
    return pd.DataFrame({
        "Sample": overview["label"],
        "City": overview["city_name"],
        "Created (local dates)": [f"{a:%Y-%m-%d} to {b:%Y-%m-%d}" for a, b in
                                  zip(overview["created_first"], overview["created_last"])],
        "Rows read": overview["read"].map("{:,}".format),
        "Open at snapshot": overview["share_open_kept"].map("{:.1%}".format),
        "Snapshot (assumed)": overview["snapshot_local"].map("{:%Y-%m-%d %H:%M}".format),
        "What it is": overview["note"],
    })


def validation_display(counts: pd.DataFrame) -> pd.DataFrame:
    """:func:`validation_counts` with the samples' short labels as headers and the totals first."""
    shown = counts.drop(columns="description").rename(columns={"rule": "Rule", "action": "Action", **SAMPLE_LABELS})
    shown["Action"] = shown["Action"].replace("", "total")
    for column in SAMPLE_LABELS.values():
        if column in shown.columns:
            shown[column] = shown[column].map("{:,}".format)
    return shown


def censoring_display(table: pd.DataFrame, *, scale: float = HOURS_PER_DAY, unit: str = "h") -> pd.DataFrame:
    """:func:`censoring_table` as a short table, times multiplied by ``scale`` (default: hours).

    The naive mean is printed in minutes when ``unit`` is ``"h"`` (it is short), and as
    "no closure" for a group that has none.
    """
    naive_scale, naive_unit = (scale * 60, "min") if unit == "h" else (scale, unit)
    horizon = float(table["horizon_days"].iloc[0]) * scale
    return pd.DataFrame({
        "Requests": table["group"],
        "n": table["n"].map("{:,}".format),
        "Open": table["share_open"].map("{:.1%}".format),
        f"Naive mean of closed ({naive_unit})": [
            "no closure" if np.isnan(v) else _fmt(v * naive_scale, 3) for v in table["naive_mean_days"]],
        f"Median ({unit}, 95% CI)": [format_interval(e * scale, lo * scale, hi * scale) for e, lo, hi in
                                     zip(table["km_median_days"], table["km_median_ci_low"], table["km_median_ci_high"])],
        f"Restricted mean to {horizon:.1f} {unit} (95% CI)": [
            format_interval(e * scale, lo * scale, hi * scale, digits=2)
            for e, lo, hi in zip(table["rmst_days"], table["rmst_ci_low"], table["rmst_ci_high"])],
    })


def logrank_by_top_levels(records: pd.DataFrame, column: str, k: int) -> pd.DataFrame:
    """Log-rank tests among the ``k`` most frequent levels of ``column`` (other records left out).

    One row: ``levels``, ``n``, ``n_events``, ``test_statistic``, ``df``, ``p_value`` of
    :func:`hotlines.requests.survival.logrank_multivariate`, plus ``pairs`` and
    ``pairs_differing`` (pairs whose Holm-adjusted pairwise log-rank test rejects one
    common curve at the 5% level, :func:`hotlines.requests.survival.logrank_pairwise`).
    """
    levels = top_levels(records, column, k)
    subset = records[records[column].astype("string").isin(levels).fillna(False)]
    overall = survival.logrank_multivariate(subset, column).iloc[0]
    pairs = survival.logrank_pairwise(subset, column)
    return pd.DataFrame([{
        "levels": len(levels), "n": int(overall["n"]), "n_events": int(overall["n_events"]),
        "test_statistic": float(overall["test_statistic"]), "df": int(overall["df"]),
        "p_value": float(overall["p_value"]), "pairs": len(pairs), "pairs_differing": int(pairs["reject_holm"].sum()),
    }])


def top_level_medians(records: pd.DataFrame, column: str, k: int, *, sample: str | None = None) -> pd.DataFrame:
    """Kaplan–Meier medians of the ``k`` most frequent levels of ``column``, as a display table.

    :func:`hotlines.requests.survival.km_quantiles` on the records of those levels (most
    frequent first), shown by :func:`quantile_display` (days).

    >>> records = pd.DataFrame({"agency": ["A"] * 3 + ["B"] * 2, "duration_days": [1.0, 2.0, 3.0, 1.0, 5.0],
    ...                         "event": [True] * 5})
    >>> top_level_medians(records, "agency", 1)["Median (95% CI)"].str.split().str[0].tolist()
    ['2.00']
    """
    levels = top_levels(records, column, k)
    subset = records[records[column].astype("string").isin(levels).fillna(False)]
    q = survival.km_quantiles(subset, column, shares_closed=[0.5])
    q = q.set_index(q[column].astype(str)).loc[levels].reset_index(drop=True)
    return quantile_display(q, column, sample=sample)


def logrank_display(table: pd.DataFrame) -> pd.DataFrame:
    """Rows of :func:`logrank_by_top_levels` (with a ``sample`` column) as a short table."""
    return pd.DataFrame({
        "Sample": table["sample"],
        "Categories": table["levels"],
        "Requests": table["n"].map("{:,}".format),
        "Closed": table["n_events"].map("{:,}".format),
        "Chi-squared (df)": [f"{s:,.0f} ({d})" for s, d in zip(table["test_statistic"], table["df"])],
        "p": table["p_value"].map(format_p),
        "Pairs differing (Holm)": [f"{k} of {n}" for k, n in zip(table["pairs_differing"], table["pairs"])],
    })


def on_time_display(breakdown: pd.DataFrame) -> pd.DataFrame:
    """:func:`on_time_breakdown` with readable headers."""
    return breakdown.rename(columns={"against_target": "Closing time against the target",
                                     "publisher_flag": "Publisher's flag", "requests": "Requests"})


# --------------------------------------------------------------------------- figures


def _thin(part: pd.DataFrame, columns: Sequence[str] = ("survival", "ci_low", "ci_high")) -> pd.DataFrame:
    """Rows where any curve has moved by STEP_RESOLUTION since the last row kept, plus the first
    and last: long Kaplan–Meier tables otherwise make figure files of megabytes with no
    visible difference. Every dropped row is within STEP_RESOLUTION of the row kept before it."""
    if len(part) <= MAX_STEPS:
        return part
    values = part[list(columns)].to_numpy(dtype=float)
    keep = np.zeros(len(part), dtype=bool)
    keep[0] = keep[-1] = True
    last = values[0]
    for i in range(1, len(part)):
        if np.nanmax(np.abs(values[i] - last)) >= STEP_RESOLUTION:
            keep[i] = True
            last = values[i]
    return part.loc[keep]


def _period(created: pd.Series) -> str:
    first, last = created.min(), created.max()
    if (first.year, first.month) == (last.year, last.month):
        return f"{first:%b %Y}"
    return f"{first:%b %Y}–{last:%b %Y}"


def sample_label(name: str, records: pd.DataFrame) -> str:
    """'City, scope, period (n = …)' of a sample, from its records (local creation times)."""
    city = str(records["city"].iloc[0])
    created = records["created"].dt.tz_convert(CITY_TIMEZONES[city])
    return f"{CITY_NAMES.get(city, city)}, {SAMPLE_SCOPE.get(name, name)}, {_period(created)} (n = {len(records):,})"


def censoring_figure(
    records: pd.DataFrame,
    *,
    horizon_days: float | None = None,
    title: str = "Averaging closed requests leaves out the open ones",
):
    """The Kaplan–Meier curve of all requests against the closed requests alone, in hours.

    Two step curves of the share of requests still open: the Kaplan–Meier estimate
    (open requests censored at the snapshot, 95% band) and the empirical curve of the
    closed requests only (as if no other request existed: it falls to zero at the
    slowest closed request).
    A dotted vertical line marks the naive mean of the closed requests, another the
    restricted mean of all requests up to ``horizon_days`` (default: the longest
    follow-up), the area under the Kaplan–Meier curve: a lower bound of their mean, as
    :func:`hotlines.requests.survival.naive_vs_censoring_aware` explains. The x axis runs
    to the longest follow-up. A subtitle states the sample from the data.
    """
    viz.use_theme()
    data = survival.time_to_event(records)
    km = survival.kaplan_meier(data)
    summary = survival.naive_vs_censoring_aware(data, horizon_days=horizon_days).iloc[0]
    closed = np.sort(data.loc[data["event"], "duration_days"].to_numpy(dtype=float))
    horizon_hours = float(data["duration_days"].max()) * HOURS_PER_DAY

    fig, ax = plt.subplots(figsize=(7.6, 4.6))
    t = km["time_days"].to_numpy() * HOURS_PER_DAY
    ax.fill_between(t, km["ci_low"], km["ci_high"], step="post", color=C["blue"], alpha=0.22, linewidth=0)
    ax.step(t, km["survival"], where="post", color=C["blue"], linewidth=2.4,
            label=f"all {len(data):,} requests (Kaplan–Meier, 95% band)")
    closed_t = np.concatenate([[0.0], closed * HOURS_PER_DAY, [horizon_hours]])
    closed_s = np.concatenate([[1.0], 1.0 - np.arange(1, len(closed) + 1) / len(closed), [0.0]])
    ax.step(closed_t, closed_s, where="post", color=C["vermillion"], linewidth=2.2, linestyle="dashed",
            label=f"the {len(closed):,} closed ones only (empirical)")
    mean_hours = float(summary["naive_mean_days"]) * HOURS_PER_DAY
    rmst_hours = float(summary["rmst_days"]) * HOURS_PER_DAY
    ax.axvline(mean_hours, color=C["vermillion"], linewidth=1.4, linestyle=":")
    ax.text(mean_hours, 0.62, f" naive mean of the closed\n requests: {mean_hours * 60:.0f} min",
            ha="left", va="center", fontsize=9.5, color="#8A3B00")
    ax.axvline(rmst_hours, color=C["blue"], linewidth=1.4, linestyle=":")
    ax.text(rmst_hours, 0.62, f"restricted mean of all requests \nup to {float(summary['horizon_days']) * HOURS_PER_DAY:.1f} h: {rmst_hours:.1f} h \n(a lower bound of their mean) ",
            ha="right", va="center", fontsize=9.5, color="#00466E")
    ax.set_xlim(0, horizon_hours)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("Hours since the request was created")
    ax.set_ylabel("Share of requests still open")
    ax.grid(color="#E5E5E5", linewidth=0.8)
    ax.set_axisbelow(True)
    city = str(data["city"].iloc[0]) if "city" in data.columns else None
    if city is not None:
        created = data["created"].dt.tz_convert(CITY_TIMEZONES[city])
        subtitle = (f"{CITY_NAMES.get(city, city)}, {created.min():%d %b %Y %H:%M} to {created.max():%d %b %H:%M} "
                    f"(local time); {1 - data['event'].mean():.1%} still open at the snapshot")
        ax.set_title(subtitle, fontsize=10.5, fontweight="normal", loc="left")
    ax.legend(loc="center right", bbox_to_anchor=(1.0, 0.3), frameon=True, framealpha=0.92, edgecolor="none", fontsize=9.5)
    fig.suptitle(title, fontsize=13, fontweight="bold", x=0.02, ha="left")
    fig.tight_layout()
    return fig


#: Tick positions (days) and labels of the log time axis.
LOG_TICKS = [(1 / MINUTES_PER_DAY, "1 min"), (10 / MINUTES_PER_DAY, "10 min"), (1 / HOURS_PER_DAY, "1 hour"),
             (6 / HOURS_PER_DAY, "6 hours"), (1.0, "1 day"), (7.0, "1 week"), (30.0, "30 days"),
             (365.0, "1 year"), (5 * 365.0, "5 years")]


def _from(part: pd.DataFrame, start_days: float) -> pd.DataFrame:
    """The curve from ``start_days`` on: its value there, then the later steps (for a log axis)."""
    earlier = part[part["time_days"] <= start_days]
    first = earlier.iloc[[-1]].assign(time_days=start_days)
    return pd.concat([first, part[part["time_days"] > start_days]], ignore_index=True)


def km_comparison_figure(
    curves: Mapping[str, pd.DataFrame],
    *,
    start_days: float = 1 / MINUTES_PER_DAY,
    title: str = "How long requests stay open, three samples",
):
    """Kaplan–Meier curves of several samples on a logarithmic time axis, in days.

    ``curves``: sample name (:data:`hotlines.requests.samples.SAMPLES`) -> its records
    (kept, canonical). Each curve is :func:`hotlines.requests.survival.kaplan_meier` with
    its 95% band, labelled from the data (:func:`sample_label`), drawn from
    ``start_days`` (a log axis cannot show 0; the value there is the share still open at
    that time) to the sample's longest follow-up. A dotted line marks one half: where a
    curve crosses it is its median.
    """
    viz.use_theme()
    fig, ax = plt.subplots(figsize=(8.2, 5.6))
    end = start_days
    styles = ("solid", "dashed", "dashdot", "dotted")
    for k, (name, records) in enumerate(curves.items()):
        km = survival.kaplan_meier(records)
        part = _thin(_from(km, start_days))
        color = viz.PALETTE[k % len(viz.PALETTE)]
        ax.fill_between(part["time_days"], part["ci_low"], part["ci_high"], step="post", color=color, alpha=0.2,
                        linewidth=0)
        ax.step(part["time_days"], part["survival"], where="post", color=color, linewidth=2.2,
                linestyle=styles[k % len(styles)], label=sample_label(name, records))
        end = max(end, float(km["time_days"].max()))
    ax.set_xscale("log")
    ax.set_xlim(start_days, end)
    ticks = [(d, label) for d, label in LOG_TICKS if start_days <= d <= end]
    ax.set_xticks([d for d, _ in ticks], [label for _, label in ticks])
    ax.minorticks_off()
    ax.set_ylim(0, 1.02)
    ax.axhline(0.5, color="#777777", linewidth=0.9, linestyle=":")
    ax.text(start_days * 1.15, 0.515, "half closed", ha="left", va="bottom", fontsize=9, color="#555555")
    ax.set_xlabel("Time since the request was created (log scale)")
    ax.set_ylabel("Share of requests still open\n(Kaplan–Meier, 95% band)")
    ax.grid(color="#E5E5E5", linewidth=0.8)
    ax.set_axisbelow(True)
    # below the axes: inside, any corner hides part of some curve
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.17), frameon=False, fontsize=9.5)
    ax.set_title(title, loc="left")
    fig.tight_layout()
    return fig
