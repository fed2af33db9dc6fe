"""Builders of coordination graphs: parameterised archetypes, mixtures, counterfactual edits,
and a rule-based derivation of a city's graph from its coded evidence.

The archetypes are stylised readings of Yan, Zheng and Meng (2025, seed ``000``):

- :func:`vertical` (Beijing's mode): a municipal leadership that supervises the hotline
  centre, the agencies and the district governments; the hotline centre dispatches
  requests under binding deadlines to district governments, which pass them to their
  grassroots units, and to the agencies; grassroots units escalate to their district
  and districts to the municipal leadership ("whistle-blowing and reporting in",
  吹哨报到), which directs the agencies to report in.
- :func:`horizontal` (New York's mode): the mayor's office oversees the hotline centre
  (311 as a technology hub); the centre routes requests to peer agencies, holds
  service-level agreements with a share of them, and meets them through liaisons; there
  are no partners at other levels and no escalation.

Archetype ties carry empty ``evidence``: they are models, not observations. Graphs for
real cities come from :func:`from_codings`, whose every tie lists the segment ids behind
it.

>>> g = vertical(n_districts=2, n_grassroots_per_district=3, n_agencies=4)
>>> g.number_of_nodes()
14
>>> h = horizontal(n_agencies=5, sla_share=0.6)
>>> sum(1 for *_, t in h.edges(keys=True) if t == "service_level_contract")
3
"""

from __future__ import annotations

import copy
import math
import os
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

import networkx as nx
import numpy as np
import pandas as pd

from .model import TIER_LEVEL, add_actor, add_tie, hub, new_graph, resolvers, subgraph_of, validate

#: Default request categories of the archetypes (a stylised set, not any city's taxonomy).
DEFAULT_CATEGORIES: tuple[str, ...] = ("noise", "sanitation", "streets", "housing", "water", "other")

#: Beijing's regulation stipulates a seven-day deadline (seed 000 line 210; data/indicators.csv I0029).
DEFAULT_DEADLINE_DAYS = 7.0


def _agency_categories(index: int, categories: Sequence[str]) -> list[str]:
    return [categories[index % len(categories)]]


def vertical(
    n_districts: int = 8,
    n_grassroots_per_district: int = 10,
    n_agencies: int = 20,
    *,
    categories: Sequence[str] = DEFAULT_CATEGORIES,
    deadline_days: float = DEFAULT_DEADLINE_DAYS,
    hub_evaluates: bool = True,
    name: str = "vertical",
) -> nx.MultiDiGraph:
    """The vertical archetype: centralised leadership, binding dispatch, cross-level escalation.

    Actors: ``leadership`` (municipal party committee and government), ``hub``,
    ``agency_NN`` (municipal agencies; agency *i* handles category *i* mod the number of
    categories), ``district_NN`` and ``grassroots_NN_MM`` (grassroots units handle every
    category: territorial responsibility).

    Ties: leadership supervises the hub, the agencies and the districts; each district
    supervises its grassroots units; with ``hub_evaluates`` the hub evaluates agencies
    and districts (performance evaluation, seed 000 line 210); the hub dispatches to
    districts and agencies and each district to its grassroots units, all with
    ``deadline_days``; grassroots units escalate to their district and districts to the
    leadership; the hub shares information with every agency and district, both ways.

    >>> g = vertical(2, 2, 3)
    >>> sorted(t for u, v, t in g.out_edges("grassroots_01_01", keys=True))
    ['escalation']
    """
    _check_counts(n_districts=n_districts, n_grassroots_per_district=n_grassroots_per_district, n_agencies=n_agencies)
    g = new_graph(name, mode="vertical", provenance="archetype", categories=list(categories))
    add_actor(g, "leadership", "leadership", "municipal", label="municipal leadership (party committee, government)")
    add_actor(g, "hub", "hotline_centre", "municipal", label="hotline centre")
    add_tie(g, "leadership", "hub", "supervision")
    for a in range(1, n_agencies + 1):
        agency = f"agency_{a:02d}"
        add_actor(g, agency, "agency", "municipal", categories=_agency_categories(a - 1, categories))
        add_tie(g, "hub", agency, "dispatch", deadline_days=deadline_days)
        add_tie(g, "leadership", agency, "supervision")
        if hub_evaluates:
            add_tie(g, "hub", agency, "supervision")
        add_tie(g, "hub", agency, "information_sharing")
        add_tie(g, agency, "hub", "information_sharing")
    for d in range(1, n_districts + 1):
        district = f"district_{d:02d}"
        add_actor(g, district, "district_government", "district")
        add_tie(g, "hub", district, "dispatch", deadline_days=deadline_days)
        add_tie(g, "leadership", district, "supervision")
        if hub_evaluates:
            add_tie(g, "hub", district, "supervision")
        add_tie(g, "hub", district, "information_sharing")
        add_tie(g, district, "hub", "information_sharing")
        add_tie(g, district, "leadership", "escalation")
        for s in range(1, n_grassroots_per_district + 1):
            unit = f"grassroots_{d:02d}_{s:02d}"
            add_actor(g, unit, "grassroots_unit", "grassroots", categories=["*"])
            add_tie(g, district, unit, "dispatch", deadline_days=deadline_days)
            add_tie(g, district, unit, "supervision")
            add_tie(g, unit, district, "escalation")
    validate(g)
    return g


def horizontal(
    n_agencies: int = 21,
    sla_share: float = 1.0,
    *,
    liaisons: bool = True,
    categories: Sequence[str] = DEFAULT_CATEGORIES,
    sla_target_days: float = DEFAULT_DEADLINE_DAYS,
    name: str = "horizontal",
) -> nx.MultiDiGraph:
    """The horizontal archetype: a technology hub, service-level contracts, peers, no levels.

    Actors: ``leadership`` (the mayor's office that oversees the hotline), ``hub``,
    ``agency_NN`` (agency *i* handles category *i* mod the number of categories) and,
    with ``liaisons``, one ``liaison_NN`` per agency. The default of 21 agencies is the
    number that signed service-level agreements with NYC311 (seed 000 line 226).

    Ties: leadership supervises the hub; the hub dispatches to every agency (no
    deadline), holds a service-level contract (``target_days = sla_target_days``) with
    the first ``round(sla_share * n_agencies)`` agencies, and shares information with
    every agency both ways; each liaison shares information with the hub and its agency
    both ways (agency liaisons, seed 000 line 202).

    The default ``sla_target_days`` equals the vertical archetype's dispatch deadline so
    that the two archetypes do not differ by the length of their targets.

    >>> g = horizontal(3, sla_share=1/3, liaisons=False)
    >>> sorted(v for u, v, t in g.out_edges("hub", keys=True) if t == "service_level_contract")
    ['agency_01']
    """
    _check_counts(n_agencies=n_agencies)
    _check_share("sla_share", sla_share)
    g = new_graph(name, mode="horizontal", provenance="archetype", categories=list(categories))
    add_actor(g, "leadership", "leadership", "municipal", label="mayor's office")
    add_actor(g, "hub", "hotline_centre", "municipal", label="hotline centre")
    add_tie(g, "leadership", "hub", "supervision")
    n_sla = int(round(sla_share * n_agencies))
    for a in range(1, n_agencies + 1):
        agency = f"agency_{a:02d}"
        add_actor(g, agency, "agency", "municipal", categories=_agency_categories(a - 1, categories))
        add_tie(g, "hub", agency, "dispatch")
        if a <= n_sla:
            add_tie(g, "hub", agency, "service_level_contract", target_days=sla_target_days)
        add_tie(g, "hub", agency, "information_sharing")
        add_tie(g, agency, "hub", "information_sharing")
        if liaisons:
            liaison = f"liaison_{a:02d}"
            add_actor(g, liaison, "agency_liaison", "municipal")
            for u, v in ((liaison, "hub"), ("hub", liaison), (liaison, agency), (agency, liaison)):
                add_tie(g, u, v, "information_sharing")
    validate(g)
    return g


def mixture(
    base: str = "horizontal",
    *,
    escalation_share: float = 0.0,
    sla_share: float = 0.0,
    seed: int | np.random.Generator | None = 0,
    name: str | None = None,
    **builder_options,
) -> nx.MultiDiGraph:
    """A mixed mode: an archetype with some of the other mode's mechanisms added.

    ``base`` is ``"horizontal"`` or ``"vertical"`` (``builder_options`` go to its
    builder). ``escalation_share`` adds cross-level escalation for that share of the
    primary resolvers (:func:`with_cross_level_escalation`); ``sla_share`` adds
    service-level contracts with that share of the agencies
    (:func:`with_service_level_contracts`). The added ties are marked
    ``counterfactual=True``.

    >>> g = mixture("horizontal", escalation_share=0.5, n_agencies=4, liaisons=False)
    >>> sum(1 for *_, t in g.edges(keys=True) if t == "escalation")
    2
    """
    builders = {"horizontal": horizontal, "vertical": vertical}
    if base not in builders:
        raise ValueError(f"base must be 'horizontal' or 'vertical', got {base!r}")
    rng = np.random.default_rng(seed)
    graph = builders[base](**builder_options)
    if escalation_share:
        graph = with_cross_level_escalation(graph, escalation_share, seed=rng)
    if sla_share:
        graph = with_service_level_contracts(graph, sla_share, seed=rng)
    graph.graph["name"] = name or f"{base}_mixture"
    graph.graph["mode"] = f"{base} mixture"
    return graph


# ------------------------------------------------------------------ counterfactual edits


def _edit_log(graph: nx.MultiDiGraph, entry: str) -> None:
    graph.graph["counterfactual"] = ";".join(filter(None, [graph.graph.get("counterfactual", ""), entry]))


def _choose(nodes: Sequence[str], share: float, rng: np.random.Generator) -> list[str]:
    k = int(round(share * len(nodes)))
    if k == 0:
        return []
    picked = rng.choice(len(nodes), size=k, replace=False)
    return [nodes[i] for i in sorted(picked)]


def primary_resolvers(graph: nx.MultiDiGraph) -> list[str]:
    """Resolvers at the lowest government tier present: where the hub sends requests first."""
    found = [n for n in resolvers(graph) if graph.nodes[n].get("tier") in TIER_LEVEL]
    if not found:
        return []
    deepest = max(TIER_LEVEL[graph.nodes[n]["tier"]] for n in found)
    return [n for n in found if TIER_LEVEL[graph.nodes[n]["tier"]] == deepest]


def _top_leadership(graph: nx.MultiDiGraph) -> str | None:
    leaders = [n for n, t in graph.nodes(data="type") if t == "leadership"]
    if not leaders:
        return None
    return min(leaders, key=lambda n: (TIER_LEVEL.get(graph.nodes[n]["tier"], 9), str(n)))


def with_cross_level_escalation(
    graph: nx.MultiDiGraph, share: float = 1.0, *, seed: int | np.random.Generator | None = 0
) -> nx.MultiDiGraph:
    """A copy in which a share of the primary resolvers can escalate to the top leadership.

    For each chosen resolver (drawn with ``seed`` among :func:`primary_resolvers` that do
    not escalate yet) an ``escalation`` tie to the top leadership node is added, and the
    leadership gets ``supervision`` ties to every agency it does not yet reach through
    supervision, so that summoned agencies are obliged to report in. A leadership node
    is added (tier municipal) when the graph has none. Added ties carry
    ``counterfactual=True`` and empty evidence.
    """
    _check_share("share", share)
    g = copy.deepcopy(graph)
    rng = np.random.default_rng(seed)
    leader = _top_leadership(g)
    if leader is None:
        leader = "leadership"
        add_actor(g, leader, "leadership", "municipal", label="municipal leadership (counterfactual)", counterfactual=True)
    escalating = {u for u, _, t in g.edges(keys=True) if t == "escalation"}
    candidates = [n for n in primary_resolvers(g) if n not in escalating and n != leader]
    for node in _choose(candidates, share, rng):
        add_tie(g, node, leader, "escalation", counterfactual=True)
    supervised = nx.descendants(subgraph_of(g, "supervision"), leader)
    for agency in (n for n, t in g.nodes(data="type") if t == "agency"):
        if agency not in supervised:
            add_tie(g, leader, agency, "supervision", counterfactual=True)
    _edit_log(g, f"cross_level_escalation(share={share})")
    validate(g)
    return g


def with_service_level_contracts(
    graph: nx.MultiDiGraph,
    share: float = 1.0,
    *,
    target_days: float = DEFAULT_DEADLINE_DAYS,
    seed: int | np.random.Generator | None = 0,
) -> nx.MultiDiGraph:
    """A copy in which the hub holds service-level contracts with a share of the agencies.

    Agencies without a contract are drawn with ``seed``; the share counts all agencies
    (a share of 1 gives every agency a contract). Added ties carry ``counterfactual=True``.
    """
    _check_share("share", share)
    g = copy.deepcopy(graph)
    rng = np.random.default_rng(seed)
    centre = hub(g)
    agencies = [n for n, t in g.nodes(data="type") if t == "agency"]
    have = [a for a in agencies if g.has_edge(centre, a, key="service_level_contract")]
    wanted = int(round(share * len(agencies))) - len(have)
    without = [a for a in agencies if a not in have]
    if wanted > 0:
        for agency in _choose(without, wanted / len(without), rng):
            add_tie(g, centre, agency, "service_level_contract", target_days=target_days, counterfactual=True)
    _edit_log(g, f"service_level_contracts(share={share})")
    validate(g)
    return g


def without_leadership_ties(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """A copy with every supervision tie that leaves a leadership node removed.

    In the simulation nobody then enforces the report-in obligation: summons become
    voluntary negotiation (see :mod:`hotlines.networks.simulate`).
    """
    g = copy.deepcopy(graph)
    leaders = {n for n, t in g.nodes(data="type") if t == "leadership"}
    g.remove_edges_from([(u, v, t) for u, v, t in g.edges(keys=True) if t == "supervision" and u in leaders])
    _edit_log(g, "without_leadership_ties")
    validate(g)
    return g


def _check_counts(**counts: int) -> None:
    for name, value in counts.items():
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")


def _check_share(name: str, value: float) -> None:
    if not (0.0 <= float(value) <= 1.0) or math.isnan(float(value)):
        raise ValueError(f"{name} must lie in [0, 1], got {value!r}")


# ------------------------------------------------------------------ graphs from coded evidence

#: The role-level actors of a graph derived from coded evidence. The evidence names
#: classes of actors ("the agencies", "grassroots governments"), not individual
#: agencies, so these nodes are collective; :func:`expand_roles` instantiates them.
ROLES: dict[str, dict] = {
    "hotline_centre": dict(type="hotline_centre", tier="municipal", label="hotline centre"),
    "municipal_leadership": dict(type="leadership", tier="municipal", label="municipal leadership (party committee, mayor's office)"),
    "municipal_agencies": dict(type="agency", tier="municipal", label="municipal agencies", collective=True),
    "district_governments": dict(type="district_government", tier="district", label="district governments", collective=True),
    "grassroots_units": dict(type="grassroots_unit", tier="grassroots", label="subdistrict and grassroots units", collective=True),
    "agency_liaisons": dict(type="agency_liaison", tier="municipal", label="agency liaisons", collective=True),
    "external_partners": dict(type="external_partner", tier="external", label="external partners", collective=True),
}

#: Node types whose copies nest territorially in :func:`expand_roles`.
TERRITORIAL_NESTING = ("district_government", "grassroots_unit")

#: Roles below the municipal tier: dispatch and evaluation reach them only when the
#: city's evidence establishes them (``levels=True`` rules).
LOWER_ROLES = ("district_governments", "grassroots_units")


@dataclass(frozen=True)
class TieRule:
    """A code implies a tie between two roles; ``levels`` rules apply only when the
    city's evidence establishes lower-level governments."""

    code: str
    source: str
    target: str
    type: str
    levels: bool = False
    attributes: tuple[tuple[str, object], ...] = ()
    why: str = ""


def _both(code: str, a: str, b: str, type: str, why: str, levels: bool = False) -> list[TieRule]:
    return [TieRule(code, a, b, type, levels, why=why), TieRule(code, b, a, type, levels, why=why)]


#: Which codes imply which ties. Read as: a segment of the city coded ``code`` is
#: evidence for a tie of ``type`` from ``source`` to ``target``.
TIE_RULES: tuple[TieRule, ...] = tuple(
    [
        TieRule("leadership.centralized_party_leadership", "municipal_leadership", "hotline_centre", "supervision", why="the party leads the hotline reform"),
        TieRule("leadership.centralized_party_leadership", "municipal_leadership", "municipal_agencies", "supervision", why="party authority permeates the departments"),
        TieRule("leadership.centralized_party_leadership", "municipal_leadership", "district_governments", "supervision", levels=True, why="party authority permeates lower levels"),
        TieRule("leadership.top_leader_attention", "municipal_leadership", "hotline_centre", "supervision", why="leaders review the hotline's performance"),
        TieRule("leadership.top_leader_attention", "municipal_leadership", "municipal_agencies", "supervision", why="leaders review departments' performance"),
        TieRule("leadership.top_leader_attention", "municipal_leadership", "district_governments", "supervision", levels=True, why="leaders review subordinate units"),
        TieRule("leadership.central_executive_oversight", "municipal_leadership", "hotline_centre", "supervision", why="the hotline sits under the central executive"),
        TieRule("leadership.senior_escalation_authority", "municipal_agencies", "municipal_leadership", "escalation", why="hard cases go up to senior leaders"),
        TieRule("leadership.senior_escalation_authority", "municipal_leadership", "municipal_agencies", "supervision", why="senior leaders direct agencies on hard cases"),
        *_both("leadership.facilitative_hub_management", "hotline_centre", "municipal_agencies", "information_sharing", "the hub mediates among peer departments"),
        TieRule("institution.performance_evaluation_accountability", "hotline_centre", "municipal_agencies", "supervision", why="hotline metrics evaluate handling units"),
        TieRule("institution.performance_evaluation_accountability", "hotline_centre", "district_governments", "supervision", levels=True, why="hotline metrics evaluate lower-level governments"),
        TieRule("institution.responsibility_assignment_rules", "hotline_centre", "municipal_agencies", "dispatch", why="rules fix which unit a request is assigned to"),
        TieRule("institution.sla_partial_framework", "hotline_centre", "municipal_agencies", "service_level_contract", why="service-level agreements with agencies"),
        TieRule("institution.distributed_structure", "hotline_centre", "municipal_agencies", "referral", why="the central window forwards to departmental lines"),
        TieRule("mechanism.cross_level_escalation", "grassroots_units", "district_governments", "escalation", why="lower levels summon upper levels"),
        TieRule("mechanism.cross_level_escalation", "grassroots_units", "municipal_agencies", "escalation", why="lower levels summon upper-level departments"),
        TieRule("mechanism.cross_level_escalation", "district_governments", "municipal_agencies", "escalation", why="districts summon upper-level departments"),
        TieRule("mechanism.dispatch_binding", "hotline_centre", "municipal_agencies", "dispatch", attributes=(("binding", True),), why="binding dispatch to departments"),
        TieRule("mechanism.dispatch_binding", "hotline_centre", "district_governments", "dispatch", levels=True, attributes=(("binding", True),), why="binding dispatch to lower-level governments"),
        TieRule("mechanism.dispatch_binding", "district_governments", "grassroots_units", "dispatch", levels=True, attributes=(("binding", True),), why="binding dispatch down to grassroots units"),
        TieRule("mechanism.dispatch_unspecified", "hotline_centre", "municipal_agencies", "dispatch", why="requests are assigned to departments"),
        TieRule("mechanism.dispatch_unspecified", "hotline_centre", "district_governments", "dispatch", levels=True, why="requests are assigned to lower-level governments"),
        TieRule("mechanism.dispatch_unspecified", "district_governments", "grassroots_units", "dispatch", levels=True, why="requests are assigned down to grassroots units"),
        TieRule("mechanism.hierarchical_coordination", "municipal_leadership", "municipal_agencies", "supervision", why="a common superior directs the units"),
        TieRule("mechanism.contractual_agreement", "hotline_centre", "municipal_agencies", "service_level_contract", why="negotiated agreements with agencies"),
        # An agreement fixing how agencies handle the hub's requests presupposes that the hub passes requests to them.
        TieRule("mechanism.contractual_agreement", "hotline_centre", "municipal_agencies", "dispatch", why="agreements govern the requests the hub passes to agencies"),
        TieRule("institution.sla_partial_framework", "hotline_centre", "municipal_agencies", "dispatch", why="service levels govern the requests the hub passes to agencies"),
        *_both("mechanism.agency_liaison", "hotline_centre", "agency_liaisons", "information_sharing", "liaisons span the hub's boundary"),
        *_both("mechanism.agency_liaison", "agency_liaisons", "municipal_agencies", "information_sharing", "liaisons sit in the agencies"),
        *_both("mechanism.peer_coordination", "hotline_centre", "municipal_agencies", "information_sharing", "the hub meets the agencies as peers"),
        TieRule("mechanism.peer_coordination", "municipal_agencies", "municipal_agencies", "information_sharing", why="agencies coordinate among themselves"),
        TieRule("mechanism.relational_informal_coordination", "municipal_agencies", "municipal_agencies", "information_sharing", why="informal ties among agencies"),
        TieRule("mechanism.referral_routing", "hotline_centre", "municipal_agencies", "referral", why="the hub forwards to autonomous departments"),
        TieRule("mechanism.joint_working_group", "municipal_agencies", "municipal_agencies", "information_sharing", why="cross-departmental task forces"),
        *_both("mechanism.interdepartmental_data_sharing", "hotline_centre", "municipal_agencies", "information_sharing", "case data exchanged"),
        *_both("mechanism.multilevel_network", "hotline_centre", "district_governments", "information_sharing", "platforms at several levels are linked"),
        *_both("mechanism.external_partnership", "hotline_centre", "external_partners", "information_sharing", "the hub works with non-governmental partners"),
    ]
)

#: Codes that imply no tie, and why. Together with :data:`TIE_RULES` they cover every code
#: of ``data/codebook.yaml`` (version 2.0, which keeps the draft's ids and adds
#: ``institution.external_oversight``); the tests check that.
NO_TIE_CODES: dict[str, str] = {
    "leadership.executive_champion_vision": "sponsorship and vision: no operational tie",
    "leadership.administrative_reform_orientation": "an orientation of leadership, not a tie",
    "leadership.technology_orientation": "an orientation of leadership, not a tie",
    "institution.dedicated_hotline_legislation": "a rule in force; its ties are coded by the mechanism codes",
    "institution.whole_process_standardization": "procedures and deadlines of the whole cycle; no actor pair named",
    "institution.strategic_planning": "a plan, not a tie",
    "institution.general_law_reliance": "general law, not a tie",
    "institution.fragmented_framework": "a property of the rule set, not a tie",
    "institution.one_stop_consolidation": "merging of lines into the hub: no tie between remaining actors",
    "institution.service_standards": "citizen-facing standards: no inter-organisational tie",
    "institution.data_governance_rules": "rules on data; sharing itself is mechanism.interdepartmental_data_sharing",
    "institution.external_oversight": "oversight from outside the executive (council, watchdogs, public and media): outside the government actors of the graph",
    "mechanism.knowledge_base_coproduction": "content work; no routing, escalation or supervision tie",
    "mechanism.platform_linkage": "links to other platforms (emergency numbers, grids): outside the actor set",
    "technology.crm_case_tracking": "technology, not a tie",
    "technology.ai_automation": "technology, not a tie",
    "technology.multichannel_access": "technology, not a tie",
    "technology.data_analytics_decision_support": "technology, not a tie",
    "technology.open_data": "technology, not a tie",
    "technology.knowledge_base": "technology, not a tie",
    "technology.interoperability_gap": "technology, not a tie",
    "outcome.response_speed_resolution": "an outcome, not a tie",
    "outcome.satisfaction_trust": "an outcome, not a tie",
    "outcome.coordination_friction": "an outcome, not a tie",
    "outcome.proactive_governance": "an outcome, not a tie",
    "start.resources_capacity": "a starting condition, not a tie",
    "start.incentives_constraints": "a starting condition, not a tie",
    "start.prehistory_conflict_turf": "a starting condition, not a tie",
    "start.prehistory_cooperation_trust": "a starting condition, not a tie",
    "start.system_context": "a starting condition, not a tie",
}


def evidence_rules() -> pd.DataFrame:
    """The derivation rules as a tidy table: code, source role, target role, tie type, condition, why."""
    rows = [
        {
            "code": r.code,
            "source": r.source,
            "target": r.target,
            "type": r.type,
            "condition": "lower levels established" if r.levels else "",
            "attributes": ";".join(f"{k}={v}" for k, v in r.attributes),
            "why": r.why,
        }
        for r in TIE_RULES
    ]
    rows += [{"code": c, "source": "", "target": "", "type": "", "condition": "", "attributes": "", "why": why} for c, why in NO_TIE_CODES.items()]
    return pd.DataFrame(rows)


def _code_ids(codebook) -> set[str]:
    from ..coding.codebook import Codebook

    if isinstance(codebook, Codebook):
        return set(codebook.codes)
    if isinstance(codebook, (str, os.PathLike)):
        return set(Codebook.load(codebook).codes)
    if isinstance(codebook, Mapping) and "codebook" in codebook:
        return set(Codebook.from_dict(codebook).codes)
    if isinstance(codebook, Iterable):
        return set(codebook)
    raise TypeError("codebook must be a Codebook, a path to its YAML file, its parsed YAML, or a collection of code ids")


def _split(cell) -> list[str]:
    if cell is None or (isinstance(cell, float) and math.isnan(cell)) or cell is pd.NA:
        return []
    return [part.strip() for part in str(cell).split(";") if part.strip()]


def city_codes(
    city: str,
    codebook,
    segments: pd.DataFrame,
    codings: pd.DataFrame,
    *,
    coders: Sequence[str] | None = None,
    min_coders: int = 1,
) -> pd.DataFrame:
    """The codes applied to a city's segments: one row per (segment_id, code) kept.

    A segment belongs to ``city`` when ``city`` is among its ``;``-separated ``cities``.
    Codings of ``coders`` (all coders when None) count; a (segment, code) pair is kept
    when at least ``min_coders`` distinct coders applied it. Code ``none`` is skipped.
    Raises ``ValueError`` naming the table, row and field of a code the codebook lacks, a
    segment id that ``segments`` lacks, or a missing column.

    Returns columns ``segment_id``, ``code``, ``n_coders``, ``coders`` (``;``-joined).
    """
    known = _code_ids(codebook)
    for table, frame, columns in (("segments", segments, ("segment_id", "cities")), ("codings", codings, ("segment_id", "coder", "code"))):
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise ValueError(f"{table}: missing column(s) {', '.join(missing)} (see data/README.md, 'coded corpus')")
    segment_ids = set(segments["segment_id"].astype(str))
    codings = codings.reset_index(drop=True)
    for i, row in codings.iterrows():
        where = f"codings row {i + 1} (segment {row['segment_id']!r}, coder {row['coder']!r})"
        if str(row["segment_id"]) not in segment_ids:
            raise ValueError(f"{where}, field segment_id: segment {row['segment_id']!r} is not in segments")
        if row["code"] != "none" and row["code"] not in known:
            raise ValueError(f"{where}, field code: {row['code']!r} is not a code of the codebook")
    if min_coders < 1:
        raise ValueError(f"min_coders must be at least 1, got {min_coders}")
    in_city = segments.loc[segments["cities"].map(lambda cell: city in _split(cell)), "segment_id"].astype(str)
    chosen = codings[codings["segment_id"].astype(str).isin(set(in_city)) & (codings["code"] != "none")]
    if "city_id" in chosen.columns:  # a code attributed to another city of a contrast statement is not this city's
        attributed = chosen["city_id"].notna() & (chosen["city_id"].astype(str) != "")
        chosen = chosen[~attributed | (chosen["city_id"].astype(str) == city)]
    if coders is not None:
        chosen = chosen[chosen["coder"].isin(list(coders))]
    grouped = (
        chosen.assign(segment_id=chosen["segment_id"].astype(str))
        .groupby(["segment_id", "code"], sort=True)["coder"]
        .agg(lambda s: sorted(set(s)))
        .reset_index()
    )
    grouped["n_coders"] = grouped["coder"].map(len)
    grouped["coders"] = grouped["coder"].map(";".join)
    kept = grouped[grouped["n_coders"] >= min_coders]
    return kept[["segment_id", "code", "n_coders", "coders"]].reset_index(drop=True)


def from_codings(
    city: str,
    codebook,
    segments: pd.DataFrame,
    codings: pd.DataFrame,
    *,
    coders: Sequence[str] | None = None,
    min_coders: int = 1,
    check: bool = True,
) -> nx.MultiDiGraph:
    """A city's coordination graph derived from its coded evidence by :data:`TIE_RULES`.

    Rules, in order:

    1. the hotline centre exists (a city in the corpus has a hotline);
    2. every code applied to a segment of the city (see :func:`city_codes`) adds the ties
       its rules name, between role-level actors (:data:`ROLES`); each tie's
       ``evidence`` lists the segment ids behind it and ``codes`` the codes;
    3. rules marked ``levels`` apply only when step 2 established district or grassroots
       governments (the evidence names lower levels: cross-level escalation, multilevel
       networks); dispatch then reaches every level the evidence establishes;
    4. each node's ``evidence`` is the union of its ties' evidence.

    Codes of :data:`NO_TIE_CODES` add nothing. ``check`` validates the result (an
    unreachable resolver then says the evidence does not show how requests reach it).

    >>> segs = pd.DataFrame({"segment_id": ["S-1", "S-2"], "cities": ["beijing", "beijing"]})
    >>> cods = pd.DataFrame({"segment_id": ["S-1", "S-2"], "coder": ["a", "a"],
    ...                      "code": ["mechanism.dispatch_binding", "mechanism.cross_level_escalation"]})
    >>> g = from_codings("beijing", ["mechanism.dispatch_binding", "mechanism.cross_level_escalation"], segs, cods)
    >>> g.edges["grassroots_units", "district_governments", "escalation"]["evidence"]
    ['S-2']
    """
    applied = city_codes(city, codebook, segments, codings, coders=coders, min_coders=min_coders)
    evidence_by_code: dict[str, list[str]] = {}
    for code, frame in applied.groupby("code", sort=True):
        evidence_by_code[code] = sorted(frame["segment_id"])
    g = new_graph(city, mode="coded evidence", provenance="from_codings", city=city, min_coders=min_coders)
    add_actor(g, "hotline_centre", **ROLES["hotline_centre"])

    def apply(rule: TieRule) -> None:
        segs = evidence_by_code.get(rule.code)
        if not segs:
            return
        for role in (rule.source, rule.target):
            if not g.has_node(role):
                add_actor(g, role, **ROLES[role])
        add_tie(g, rule.source, rule.target, rule.type, evidence=segs, codes=[rule.code], **dict(rule.attributes))

    for rule in TIE_RULES:
        if not rule.levels:
            apply(rule)
    if any(g.has_node(role) for role in LOWER_ROLES):
        for rule in TIE_RULES:
            if rule.levels:
                apply(rule)
    for node in g.nodes:
        segs: list[str] = []
        for _, _, data in list(g.in_edges(node, data=True)) + list(g.out_edges(node, data=True)):
            segs += [s for s in data["evidence"] if s not in segs]
        g.nodes[node]["evidence"] = sorted(segs)
    g.graph["codes_without_ties"] = ";".join(sorted(c for c in evidence_by_code if c in NO_TIE_CODES))
    g.graph["codes_without_rule"] = ";".join(sorted(c for c in evidence_by_code if c not in NO_TIE_CODES and c not in {r.code for r in TIE_RULES}))
    if check:
        validate(g, source=f"graph of {city!r} derived from coded evidence")
    return g


def expand_roles(graph: nx.MultiDiGraph, counts: Mapping[str, int]) -> nx.MultiDiGraph:
    """Instantiate collective role nodes as ``counts[role]`` individual actors.

    ``municipal_agencies`` with count 21 becomes ``municipal_agencies_01`` ...
    ``_21``; each copy keeps the role's attributes (``collective`` becomes False) and
    evidence. Ties are copied: between a copied role and a single node, to every copy;
    between copied district governments and copied grassroots units, each grassroots
    copy is linked to one district copy (territorial containment, nested round-robin);
    between any other two copied roles, every copy to every copy; a self-loop becomes
    ties among all copies, both ways. Use it to simulate a graph derived from evidence; the counts
    are the caller's assumptions unless a source states them (e.g. 21 agencies with
    service-level agreements in New York, seed 000 line 226).
    """
    g = new_graph(graph.graph.get("name", ""), **{k: v for k, v in graph.graph.items() if k != "name"})
    copies: dict[str, list[str]] = {}
    for node, data in graph.nodes(data=True):
        n = counts.get(node)
        if n is None:
            copies[node] = [node]
            g.add_node(node, **copy.deepcopy(data))
            continue
        _check_counts(**{f"counts[{node!r}]": n})
        width = max(2, len(str(n)))
        copies[node] = [f"{node}_{i:0{width}d}" for i in range(1, n + 1)]
        for name in copies[node]:
            attrs = copy.deepcopy(data)
            attrs["collective"] = False
            attrs["expanded_from"] = node
            g.add_node(name, **attrs)
    for u, v, key, data in graph.edges(keys=True, data=True):
        cu, cv = copies[u], copies[v]
        if u == v:
            pairs = [(a, b) for a in cu for b in cu if a != b]
        elif len(cu) > 1 and len(cv) > 1 and {graph.nodes[u]["type"], graph.nodes[v]["type"]} == set(TERRITORIAL_NESTING):
            # territorial containment: each grassroots unit lies in one district
            if graph.nodes[u]["type"] == "district_government":
                pairs = [(cu[i % len(cu)], b) for i, b in enumerate(cv)]
            else:
                pairs = [(a, cv[i % len(cv)]) for i, a in enumerate(cu)]
        else:
            pairs = [(a, b) for a in cu for b in cv]
        for a, b in pairs:
            g.add_edge(a, b, key=key, **copy.deepcopy(data))
    return g
