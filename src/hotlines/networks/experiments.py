"""Counterfactual experiments and sweeps: what structure does to simulated resolution time.

**Every number these functions return is simulated** (``simulated`` column True): a
model result under the assumptions of :mod:`hotlines.networks.simulate`, not an
observation of any city.

- :func:`default_scenarios` / :func:`run_scenarios`: the two archetypes and the
  counterfactuals a reader asks about: add cross-level escalation to the horizontal
  city; add service-level contracts to the vertical one; raise the share of complex
  requests; remove the leadership's supervision ties; and a mechanism check that makes
  negotiation as quick as reporting in.
- :func:`sweep`: a grid of mixtures (escalation share, service-level share, complex
  share, ...) with several seeds, each point's structural measures beside its
  resolution times, with a progress bar.
- :func:`measure_associations`: across a sweep, how each structural measure moves with
  the median resolution time (Spearman's rho and an OLS slope), descriptive only.

Medians are Kaplan–Meier medians (lifelines) with open requests censored at the
snapshot, as for real records (:func:`~hotlines.networks.simulate.resolution_summary`).

>>> from hotlines.networks.simulate import SimulationParameters
>>> params = SimulationParameters(arrival_rates={"noise": 30.0, "other": 30.0}, arrival_days=15, horizon_days=30)
>>> table = run_scenarios(default_scenarios(params, size="small")[:2], seed=1, progress=False)
>>> table["scenario"].tolist()
['vertical', 'horizontal']
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping, Sequence

import networkx as nx
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .builders import horizontal, mixture, vertical, with_cross_level_escalation, with_service_level_contracts, without_leadership_ties
from .measures import structure
from .simulate import SimulationParameters, resolution_summary, simulate

#: Structural measures reported beside each scenario's resolution times.
REPORTED_MEASURES = (
    "degree_centralization",
    "betweenness_centralization",
    "krackhardt_hierarchy",
    "ei_index",
    "escalation_depth",
    "hub_dependence",
    "share_agencies_with_sla",
)

#: Archetype sizes: "default" as the builders' defaults; "small" for quick runs and tests.
SIZES = {
    "default": ({}, {}),
    "small": (dict(n_districts=3, n_grassroots_per_district=4, n_agencies=8), dict(n_agencies=8)),
}


@dataclass
class Scenario:
    """A named graph with simulation parameters and a one-line description of the change."""

    name: str
    graph: nx.MultiDiGraph
    parameters: SimulationParameters
    description: str
    base: str = ""


def default_scenarios(
    params: SimulationParameters | None = None,
    *,
    size: str = "default",
    raised_complex_share: float = 0.4,
    seed: int = 0,
) -> list[Scenario]:
    """The archetypes and their counterfactuals, in a fixed order.

    ``raised_complex_share`` replaces ``params.complex_share`` in the two "more complex
    requests" scenarios; ``seed`` draws which actors the edits touch (with share 1 none
    is left out, so it matters only for partial shares).
    """
    params = params or SimulationParameters()
    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(SIZES)}, got {size!r}")
    v_options, h_options = SIZES[size]
    v, h = vertical(**v_options), horizontal(**h_options)
    more_complex = params.replace(complex_share=raised_complex_share)
    quick_negotiation = params.replace(negotiation_days=params.report_in_deadline_days / 2)
    return [
        Scenario("vertical", v, params, "vertical archetype", "vertical"),
        Scenario("horizontal", h, params, "horizontal archetype", "horizontal"),
        Scenario("horizontal + cross-level escalation", with_cross_level_escalation(h, 1.0, seed=seed), params, "every agency can escalate to the leadership, which directs peers to report in", "horizontal"),
        Scenario("vertical + service-level contracts", with_service_level_contracts(v, 1.0, seed=seed), params, "the hub holds a service-level contract with every agency", "vertical"),
        Scenario(f"vertical, complex share {raised_complex_share:g}", v, more_complex, f"complex share raised from {params.complex_share:g}", "vertical"),
        Scenario(f"horizontal, complex share {raised_complex_share:g}", h, more_complex, f"complex share raised from {params.complex_share:g}", "horizontal"),
        Scenario("vertical without leadership ties", without_leadership_ties(v), params, "leadership supervision removed: nobody enforces reporting in", "vertical"),
        Scenario("horizontal without leadership ties", without_leadership_ties(h), params, "the mayor's office no longer supervises the hub", "horizontal"),
        Scenario("horizontal, negotiation as quick as reporting in", h, quick_negotiation, "mechanism check: mean negotiation = mean report-in delay (still one after the other, still voluntary)", "horizontal"),
    ]


#: Restricted means are areas under the Kaplan–Meier curve up to this many days, the
#: same for every run so that runs compare.
TAU_DAYS = 30.0


def _row(name: str, graph: nx.MultiDiGraph, params: SimulationParameters, seed: int, tau_days: float = TAU_DAYS) -> dict:
    measures = structure(graph).set_index("measure")["value"]
    records = simulate(graph, params, seed=seed).records
    overall = resolution_summary(records, tau_days=tau_days).iloc[0]
    by_complex = resolution_summary(records, by="complex", tau_days=tau_days).set_index("complex")
    row = {"scenario": name, "seed": seed}
    row.update({m: float(measures[m]) for m in REPORTED_MEASURES})
    row.update(
        n=int(overall["n"]),
        share_censored=float(overall["share_censored"]),
        median_days=float(overall["median_days"]),
        median_ci_low=float(overall["median_ci_low"]),
        median_ci_high=float(overall["median_ci_high"]),
        restricted_mean_days=float(overall["restricted_mean_days"]),
    )
    for flag, label in ((False, "simple"), (True, "complex")):
        present = flag in by_complex.index
        row[f"median_days_{label}"] = float(by_complex.loc[flag, "median_days"]) if present else math.nan
        row[f"restricted_mean_days_{label}"] = float(by_complex.loc[flag, "restricted_mean_days"]) if present else math.nan
    row["simulated"] = True
    return row


def run_scenarios(scenarios: Sequence[Scenario], seed: int = 0, *, progress: bool = True) -> pd.DataFrame:
    """Simulate each scenario with the same ``seed`` (common random numbers) and tabulate.

    One row per scenario: ``scenario``, ``base``, ``description``, ``seed``, the
    structural measures of :data:`REPORTED_MEASURES`, ``n``, ``share_censored``,
    ``median_days`` (Kaplan–Meier, with 95% ``median_ci_low``/``median_ci_high``),
    ``restricted_mean_days`` (up to :data:`TAU_DAYS`), the same split for simple and
    complex requests, and
    ``simulated`` (True: model results, not observations).
    """
    rows = []
    for scenario in tqdm(scenarios, desc="scenarios", disable=not progress):
        row = _row(scenario.name, scenario.graph, scenario.parameters, seed)
        row["base"] = scenario.base
        row["description"] = scenario.description
        rows.append(row)
    frame = pd.DataFrame(rows)
    first = ["scenario", "base", "description", "seed"]
    return frame[first + [c for c in frame.columns if c not in first]]


def sweep(
    grid: Mapping[str, Sequence],
    params: SimulationParameters | None = None,
    seeds: Iterable[int] = (0,),
    *,
    builder: Callable[..., nx.MultiDiGraph] = mixture,
    parameter_names: Iterable[str] = ("complex_share", "negotiation_days", "report_in_deadline_days", "utilisation"),
    progress: bool = True,
) -> pd.DataFrame:
    """Simulate every combination of ``grid`` for every seed; one tidy row per (point, seed).

    Keys of ``grid`` named in ``parameter_names`` change the simulation parameters; the
    others go to ``builder`` (default :func:`~.builders.mixture`, e.g. ``base``,
    ``escalation_share``, ``sla_share``, ``n_agencies``). Builders that draw receive the
    row's seed. Columns: the grid keys, then as :func:`run_scenarios`.

    >>> from hotlines.networks.simulate import SimulationParameters
    >>> p = SimulationParameters(arrival_rates={"noise": 20.0}, arrival_days=10, horizon_days=20)
    >>> t = sweep({"base": ["horizontal"], "escalation_share": [0.0, 1.0], "n_agencies": [6]}, p, progress=False)
    >>> t["escalation_depth"].tolist()
    [0.0, 1.0]
    """
    params = params or SimulationParameters()
    names = list(grid)
    simulation_keys = set(parameter_names)
    points = list(itertools.product(*(grid[k] for k in names)))
    seeds = list(seeds)
    rows = []
    with tqdm(total=len(points) * len(seeds), desc="sweep", disable=not progress) as bar:
        for values in points:
            point = dict(zip(names, values))
            changes = {k: v for k, v in point.items() if k in simulation_keys}
            options = {k: v for k, v in point.items() if k not in simulation_keys}
            for seed in seeds:
                if builder is mixture:
                    options = {**options, "seed": seed}
                graph = builder(**options)
                row = _row(", ".join(f"{k}={v}" for k, v in point.items()), graph, params.replace(**changes), seed)
                rows.append({**point, **row})
                bar.update(1)
    frame = pd.DataFrame(rows)
    first = names + ["scenario", "seed"]
    return frame[first + [c for c in frame.columns if c not in first]]


def measure_associations(table: pd.DataFrame, outcome: str = "median_days", measures: Sequence[str] = REPORTED_MEASURES) -> pd.DataFrame:
    """How each structural measure moves with ``outcome`` across the rows of a sweep.

    One row per measure: ``measure``, ``n``, ``measure_min``, ``measure_max``,
    ``spearman_rho`` (scipy), ``slope`` (OLS days per unit of the measure, numpy),
    ``outcome`` and ``simulated`` (True). Descriptive: in a designed sweep the measures
    move together, so a slope is not the effect of one measure with the others held
    fixed. Measures that do not vary get missing rho and slope.
    """
    from scipy.stats import spearmanr

    rows = []
    for measure in measures:
        part = table[[measure, outcome]].dropna()
        x, y = part[measure].to_numpy(float), part[outcome].to_numpy(float)
        varies = len(part) >= 3 and np.ptp(x) > 0 and np.ptp(y) > 0
        rho = float(spearmanr(x, y).statistic) if varies else math.nan
        slope = float(np.polyfit(x, y, 1)[0]) if varies else math.nan
        rows.append(
            {
                "measure": measure,
                "n": len(part),
                "measure_min": float(x.min()) if len(x) else math.nan,
                "measure_max": float(x.max()) if len(x) else math.nan,
                "spearman_rho": rho,
                "slope": slope,
                "outcome": outcome,
                "simulated": True,
            }
        )
    return pd.DataFrame(rows)
