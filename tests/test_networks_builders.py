"""Archetypes, counterfactual edits, graphs from coded evidence, and file round trips."""

from __future__ import annotations

import textwrap
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest

from hotlines.coding.codebook import Codebook
from hotlines.networks import builders
from hotlines.networks.io import edges_frame, nodes_frame, read_graph, to_node_link, write_graph, write_graphml, write_node_link
from hotlines.networks.measures import escalation_depth
from hotlines.networks.model import GraphValidationError, LIST_ATTRIBUTES, validate

from .conftest import DATA

# ---------------------------------------------------------------- archetypes


def ties(g, kind):
    return sorted((u, v) for u, v, t in g.edges(keys=True) if t == kind)


def test_vertical_archetype_structure():
    d, s, a = 3, 4, 5
    g = builders.vertical(d, s, a)
    assert g.number_of_nodes() == 2 + a + d + d * s
    # leadership->hub; per agency dispatch, 2 supervisions, 2 sharing; per district dispatch, 2 supervisions,
    # 2 sharing, escalation; per grassroots unit dispatch, supervision, escalation
    assert g.number_of_edges() == 1 + 5 * a + 6 * d + 3 * d * s
    assert all(g.edges[u, v, "dispatch"]["deadline_days"] == 7.0 for u, v in ties(g, "dispatch"))
    assert ties(g, "escalation")[:2] == [("district_01", "leadership"), ("district_02", "leadership")]
    assert ("grassroots_02_03", "district_02") in ties(g, "escalation")
    assert ties(g, "service_level_contract") == []
    assert nx.shortest_path_length(g, "hub", "grassroots_03_04") == 2
    assert g.nodes["grassroots_01_01"]["categories"] == ["*"]
    assert g.nodes["agency_02"]["categories"] == ["sanitation"]
    assert all(data["evidence"] == [] for *_, data in g.edges(keys=True, data=True))


def test_horizontal_archetype_structure():
    g = builders.horizontal(6, sla_share=0.5)
    assert ties(g, "service_level_contract") == [("hub", "agency_01"), ("hub", "agency_02"), ("hub", "agency_03")]
    assert ties(g, "escalation") == []
    assert {g.nodes[n]["tier"] for n in g} == {"municipal"}
    assert sum(1 for n in g if g.nodes[n]["type"] == "agency_liaison") == 6
    assert builders.horizontal(4, liaisons=False).number_of_nodes() == 6
    assert builders.horizontal().graph["mode"] == "horizontal"
    assert sum(1 for n in builders.horizontal() if builders.horizontal().nodes[n]["type"] == "agency") == 21


@pytest.mark.parametrize("call", [lambda: builders.vertical(0, 2, 2), lambda: builders.horizontal(3, sla_share=1.5), lambda: builders.horizontal(2.5)])
def test_bad_builder_arguments_are_refused(call):
    with pytest.raises(ValueError):
        call()


def test_cross_level_escalation_edit():
    h = builders.horizontal(4, liaisons=False)
    g = builders.with_cross_level_escalation(h, 0.5, seed=3)
    added = ties(g, "escalation")
    assert len(added) == 2 and all(v == "leadership" for _, v in added)
    assert all(g.edges[u, v, "escalation"]["counterfactual"] for u, v in added)
    assert {v for u, v in ties(g, "supervision") if u == "leadership"} == {"hub", "agency_01", "agency_02", "agency_03", "agency_04"}
    assert "cross_level_escalation(share=0.5)" in g.graph["counterfactual"]
    assert ties(h, "escalation") == []  # the original is untouched
    again = builders.with_cross_level_escalation(h, 0.5, seed=3)
    assert ties(again, "escalation") == added  # seeded


def test_service_level_contract_edit_and_leadership_removal():
    v = builders.vertical(2, 2, 4)
    g = builders.with_service_level_contracts(v, 0.5, seed=1)
    assert len(ties(g, "service_level_contract")) == 2
    assert len(ties(builders.with_service_level_contracts(g, 1.0), "service_level_contract")) == 4
    bare = builders.without_leadership_ties(v)
    assert [e for e in ties(bare, "supervision") if e[0] == "leadership"] == []
    assert ("hub", "agency_01") in ties(bare, "supervision")  # the hub's own evaluation stays


def test_mixture():
    g = builders.mixture("vertical", sla_share=1.0, n_districts=2, n_grassroots_per_district=2, n_agencies=3)
    assert len(ties(g, "service_level_contract")) == 3 and escalation_depth(g) == 2
    h = builders.mixture("horizontal", escalation_share=1.0, n_agencies=3)
    assert escalation_depth(h) == 1 and h.graph["name"] == "horizontal_mixture"
    with pytest.raises(ValueError, match="base must be"):
        builders.mixture("diagonal")


# ---------------------------------------------------------------- graphs from coded evidence

SEGMENTS = textwrap.dedent(
    """\
    segment_id,cities,source,line,line_end,interview_ids,speaker_role,passage,origin,note
    S-BEI-01,beijing,000.txt,157,157,,,"the municipal government sends the demands ... to district and grassroots governments",research,
    S-BEI-03,beijing,000.txt,157,157,BJ005;BJ006,,"district and grassroots governments issue a request to seek assistance",research,
    S-BEI-04,beijing,000.txt,198,198,,,"the leadership of the Communist Party of China",research,
    S-BEI-05,beijing,000.txt,198,198,,,"The Secretary even holds a monthly review meeting",research,
    S-NYC-01,new_york,000.txt,206,206,,,"NYC311 has established SLAs with various agencies",research,
    S-NYC-02,new_york,000.txt,227,227,,,"21 New York City-level agencies have signed formal agreements",research,
    S-NYC-03,new_york,000.txt,184,184,,,"service requests are promptly routed to the relevant city departments",research,
    S-NYC-04,new_york,000.txt,202,202,,,"the appointment of agency liaisons",research,
    S-MUL-01,beijing;new_york,000.txt,100,100,,,"both have CRM systems",research,
    """
)

CODINGS = textwrap.dedent(
    """\
    segment_id,coder,code,memo
    S-BEI-01,A,mechanism.dispatch_binding,
    S-BEI-01,B,mechanism.dispatch_binding,
    S-BEI-03,A,mechanism.cross_level_escalation,
    S-BEI-03,B,mechanism.cross_level_escalation,
    S-BEI-04,A,leadership.centralized_party_leadership,
    S-BEI-04,B,leadership.centralized_party_leadership,
    S-BEI-05,A,leadership.top_leader_attention,
    S-BEI-05,B,institution.performance_evaluation_accountability,
    S-NYC-01,A,institution.sla_partial_framework,
    S-NYC-01,B,institution.sla_partial_framework,
    S-NYC-02,A,mechanism.contractual_agreement,
    S-NYC-02,B,mechanism.contractual_agreement,
    S-NYC-03,A,mechanism.dispatch_unspecified,
    S-NYC-03,B,mechanism.dispatch_unspecified,
    S-NYC-04,A,mechanism.agency_liaison,
    S-NYC-04,B,none,
    S-MUL-01,A,technology.crm_case_tracking,
    S-MUL-01,B,technology.crm_case_tracking,
    """
)


@pytest.fixture
def corpus(tmp_path: Path):
    """The fixture corpus as real files, read back as the maintainer will read the real ones."""
    (tmp_path / "segments.csv").write_text(SEGMENTS, encoding="utf-8")
    (tmp_path / "codings.csv").write_text(CODINGS, encoding="utf-8")
    segments = pd.read_csv(tmp_path / "segments.csv", dtype=str, keep_default_na=False)
    codings = pd.read_csv(tmp_path / "codings.csv", dtype=str, keep_default_na=False)
    return Codebook.load(DATA / "codebook.yaml"), segments, codings


def test_beijing_graph_from_codings(corpus):
    codebook, segments, codings = corpus
    g = builders.from_codings("beijing", codebook, segments, codings)
    assert g.edges["grassroots_units", "district_governments", "escalation"]["evidence"] == ["S-BEI-03"]
    assert g.edges["grassroots_units", "municipal_agencies", "escalation"]["codes"] == ["mechanism.cross_level_escalation"]
    dispatch = g.edges["hotline_centre", "district_governments", "dispatch"]
    assert dispatch["evidence"] == ["S-BEI-01"] and dispatch["binding"] is True
    assert g.edges["district_governments", "grassroots_units", "dispatch"]["evidence"] == ["S-BEI-01"]
    leadership = g.edges["municipal_leadership", "hotline_centre", "supervision"]
    assert leadership["evidence"] == ["S-BEI-04", "S-BEI-05"]
    assert leadership["codes"] == ["leadership.centralized_party_leadership", "leadership.top_leader_attention"]
    # coder B's evaluation code adds the hub's evaluation of agencies and of the (established) districts
    assert g.edges["hotline_centre", "district_governments", "supervision"]["evidence"] == ["S-BEI-05"]
    assert ties(g, "service_level_contract") == []
    assert escalation_depth(g) == 2
    assert g.nodes["grassroots_units"]["collective"] is True
    assert g.nodes["grassroots_units"]["evidence"] == ["S-BEI-01", "S-BEI-03"]
    assert g.graph["codes_without_ties"] == "technology.crm_case_tracking"


def test_new_york_graph_from_codings(corpus):
    codebook, segments, codings = corpus
    g = builders.from_codings("new_york", codebook, segments, codings)
    assert g.edges["hotline_centre", "municipal_agencies", "service_level_contract"]["evidence"] == ["S-NYC-01", "S-NYC-02"]
    # routing coded directly (S-NYC-03), and implied by the service-level agreements (S-NYC-01, S-NYC-02)
    assert sorted(g.edges["hotline_centre", "municipal_agencies", "dispatch"]["evidence"]) == ["S-NYC-01", "S-NYC-02", "S-NYC-03"]
    assert "binding" not in g.edges["hotline_centre", "municipal_agencies", "dispatch"]
    assert g.has_edge("agency_liaisons", "municipal_agencies", key="information_sharing")
    assert not any(g.has_node(n) for n in ("district_governments", "grassroots_units"))
    assert escalation_depth(g) == 0


def test_agreement_between_coders(corpus):
    codebook, segments, codings = corpus
    kept = builders.city_codes("beijing", codebook, segments, codings, min_coders=2)
    assert sorted(kept["segment_id"]) == ["S-BEI-01", "S-BEI-03", "S-BEI-04", "S-MUL-01"]
    g = builders.from_codings("beijing", codebook, segments, codings, min_coders=2)
    assert g.edges["municipal_leadership", "hotline_centre", "supervision"]["evidence"] == ["S-BEI-04"]
    assert not g.has_edge("hotline_centre", "municipal_agencies", key="supervision")
    only_b = builders.city_codes("new_york", codebook, segments, codings, coders=["B"])
    assert "mechanism.agency_liaison" not in set(only_b["code"])


def test_unknown_code_names_row_and_field(corpus):
    codebook, segments, codings = corpus
    bad = codings.copy()
    bad.loc[2, "code"] = "mechanism.telepathy"
    with pytest.raises(ValueError, match=r"codings row 3 \(segment 'S-BEI-03', coder 'A'\), field code: 'mechanism.telepathy' is not a code"):
        builders.from_codings("beijing", codebook, segments, bad)


def test_unknown_segment_and_missing_column(corpus):
    codebook, segments, codings = corpus
    bad = codings.copy()
    bad.loc[0, "segment_id"] = "S-XXX-99"
    with pytest.raises(ValueError, match=r"codings row 1 .* field segment_id: segment 'S-XXX-99' is not in segments"):
        builders.from_codings("beijing", codebook, segments, bad)
    with pytest.raises(ValueError, match=r"segments: missing column\(s\) cities"):
        builders.from_codings("beijing", codebook, segments.drop(columns="cities"), codings)


def test_thin_evidence_fails_validation_naming_the_unreached_resolver(corpus):
    codebook, segments, codings = corpus
    leadership_only = codings[codings["segment_id"].isin(["S-BEI-04"])]
    with pytest.raises(GraphValidationError, match=r"node 'municipal_agencies'.*no dispatch or referral path"):
        builders.from_codings("beijing", codebook, segments, leadership_only)
    g = builders.from_codings("beijing", codebook, segments, leadership_only, check=False)
    assert ties(g, "supervision") == [("municipal_leadership", "hotline_centre"), ("municipal_leadership", "municipal_agencies")]


def test_rules_cover_every_code_of_the_shipped_codebook():
    codes = set(Codebook.load(DATA / "codebook.yaml").codes)
    ruled = {r.code for r in builders.TIE_RULES}
    assert not ruled & set(builders.NO_TIE_CODES)
    assert codes - ruled - set(builders.NO_TIE_CODES) == set()
    assert (ruled | set(builders.NO_TIE_CODES)) - codes == set()  # no rule names a code that does not exist
    table = builders.evidence_rules()
    assert set(table["code"]) == codes
    assert set(table["type"]) - {""} <= {"dispatch", "referral", "escalation", "supervision", "service_level_contract", "information_sharing"}


def test_expand_roles_nests_territory_and_copies_evidence(corpus):
    codebook, segments, codings = corpus
    g = builders.from_codings("beijing", codebook, segments, codings)
    big = builders.expand_roles(g, {"municipal_agencies": 3, "district_governments": 2, "grassroots_units": 4})
    validate(big)
    assert big.number_of_nodes() == 2 + 3 + 2 + 4  # hub, leadership, then the copies
    # each grassroots copy lies in exactly one district ...
    parents = {v: u for u, v, t in big.edges(keys=True) if t == "dispatch" and v.startswith("grassroots")}
    assert parents == {"grassroots_units_01": "district_governments_01", "grassroots_units_02": "district_governments_02", "grassroots_units_03": "district_governments_01", "grassroots_units_04": "district_governments_02"}
    # ... while each can summon every agency
    assert len([1 for u, v, t in big.edges(keys=True) if t == "escalation" and u == "grassroots_units_01" and v.startswith("municipal_agencies")]) == 3
    assert big.edges["grassroots_units_02", "district_governments_02", "escalation"]["evidence"] == ["S-BEI-03"]
    assert big.nodes["municipal_agencies_02"]["collective"] is False


# ---------------------------------------------------------------- file round trips


def evidenced_graph(corpus):
    codebook, segments, codings = corpus
    g = builders.from_codings("beijing", codebook, segments, codings)
    g.nodes["municipal_agencies"]["categories"] = ["noise", "water"]
    g.nodes["municipal_agencies"]["servers"] = 4
    return g


def same_graph(a: nx.MultiDiGraph, b: nx.MultiDiGraph) -> None:
    assert set(a.nodes) == set(b.nodes)
    assert set(a.edges(keys=True)) == set(b.edges(keys=True))
    for node, data in a.nodes(data=True):
        assert b.nodes[node] == data, node
    for u, v, key, data in a.edges(keys=True, data=True):
        assert b.edges[u, v, key] == data, (u, v, key)


@pytest.mark.parametrize("suffix", [".graphml", ".json"])
def test_round_trip_keeps_types_tiers_and_evidence(corpus, tmp_path, suffix):
    g = evidenced_graph(corpus)
    path = tmp_path / f"beijing{suffix}"
    write_graph(g, path)
    back = read_graph(path)
    same_graph(g, back)
    assert back.edges["municipal_leadership", "hotline_centre", "supervision"]["evidence"] == ["S-BEI-04", "S-BEI-05"]
    assert back.nodes["grassroots_units"]["tier"] == "grassroots" and back.nodes["grassroots_units"]["type"] == "grassroots_unit"
    assert back.nodes["municipal_agencies"]["servers"] == 4 and back.nodes["municipal_agencies"]["categories"] == ["noise", "water"]


@pytest.mark.parametrize("suffix", [".graphml", ".json"])
def test_round_trip_of_archetypes(tmp_path, suffix):
    for g in (builders.vertical(2, 2, 3), builders.with_cross_level_escalation(builders.horizontal(3), 1.0)):
        path = tmp_path / f"{g.graph['name']}{suffix}"
        write_graph(g, path)
        back = read_graph(path)
        same_graph(g, back)
        assert back.graph["mode"] == g.graph["mode"]


def test_graphml_is_plain_for_r(corpus, tmp_path):
    """Lists are ';'-joined strings, booleans lowercase, each key id unique."""
    path = tmp_path / "g.graphml"
    write_graphml(evidenced_graph(corpus), path)
    text = path.read_text(encoding="utf-8")
    assert ">S-BEI-04;S-BEI-05<" in text
    assert ">true<" in text and ">True<" not in text
    from defusedxml.ElementTree import parse

    keys = [k.get("id") for k in parse(path).getroot().iter("{http://graphml.graphdrawing.org/xmlns}key")]
    assert len(keys) == len(set(keys))
    assert set(LIST_ATTRIBUTES) <= {k.get("attr.name") for k in parse(path).getroot().iter("{http://graphml.graphdrawing.org/xmlns}key")}


def test_writers_never_overwrite(tmp_path):
    path = tmp_path / "g.graphml"
    path.write_text("precious", encoding="utf-8")
    with pytest.raises(FileExistsError, match="never overwritten"):
        write_graphml(builders.horizontal(2), path)
    with pytest.raises(FileExistsError):
        write_node_link(builders.horizontal(2), path)
    assert path.read_text(encoding="utf-8") == "precious"


def test_a_separator_inside_a_list_item_is_refused(tmp_path):
    g = builders.horizontal(2)
    g.edges["hub", "agency_01", "dispatch"]["evidence"] = ["S-1;S-2"]
    with pytest.raises(ValueError, match="contains the list separator"):
        write_graphml(g, tmp_path / "g.graphml")


def test_tidy_tables_of_a_graph(corpus):
    g = evidenced_graph(corpus)
    edges = edges_frame(g)
    row = edges[(edges.source == "municipal_leadership") & (edges.target == "hotline_centre")].iloc[0]
    assert (row["type"], row["evidence"], row["n_evidence"]) == ("supervision", "S-BEI-04;S-BEI-05", 2)
    long = edges_frame(g, explode_evidence=True)
    assert len(long[(long.source == "municipal_leadership") & (long.target == "hotline_centre")]) == 2
    nodes = nodes_frame(g).set_index("node")
    assert nodes.loc["grassroots_units", "tier"] == "grassroots"
    assert to_node_link(g)["edges"][0]["evidence"]  # node-link keeps lists as lists


def test_real_beijing_and_new_york_graphs_from_the_reconciled_coding():
    from hotlines.coding import corpus as shipped
    from hotlines.coding.codebook import Codebook

    codebook, segments, codings = Codebook.load(), shipped.segments(), shipped.codings()
    codings = codings[codings.coder == "reconciled"]
    beijing = builders.from_codings("beijing", codebook, segments, codings)
    new_york = builders.from_codings("new_york", codebook, segments, codings)
    # the vertical city reaches grassroots units and escalates across levels; the horizontal one does not
    assert beijing.has_node("grassroots_units") and escalation_depth(beijing) >= 1
    assert not new_york.has_node("grassroots_units") and escalation_depth(new_york) == 0
    assert new_york.has_edge("hotline_centre", "municipal_agencies", key="service_level_contract")
    # every edge carries the segments behind it, and they are the city's segments
    cities = dict(zip(segments.segment_id, segments.cities))
    for graph, city in ((beijing, "beijing"), (new_york, "new_york")):
        for *_, evidence in graph.edges(data="evidence"):
            assert evidence and all(city in cities[s].split(";") for s in evidence)
