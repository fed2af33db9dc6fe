"""The coordination-graph model: every validator error names its node or edge; files too."""

from __future__ import annotations

import json

import networkx as nx
import pytest

from hotlines.networks import builders
from hotlines.networks.io import read_graph, write_graphml, write_node_link
from hotlines.networks.model import GraphValidationError, add_actor, add_tie, collapse, new_graph, problems, validate


def small() -> nx.MultiDiGraph:
    g = new_graph("small")
    add_actor(g, "hub", "hotline_centre", "municipal")
    add_actor(g, "lead", "leadership", "municipal")
    add_actor(g, "a1", "agency", "municipal")
    add_actor(g, "d1", "district_government", "district")
    add_actor(g, "g1", "grassroots_unit", "grassroots")
    add_tie(g, "lead", "hub", "supervision")
    add_tie(g, "hub", "a1", "dispatch", deadline_days=7.0)
    add_tie(g, "hub", "d1", "dispatch")
    add_tie(g, "d1", "g1", "dispatch")
    add_tie(g, "g1", "d1", "escalation")
    return g


def raised(g) -> GraphValidationError:
    with pytest.raises(GraphValidationError) as info:
        validate(g)
    return info.value


def test_a_valid_graph_passes_and_has_no_problems():
    g = small()
    validate(g)
    assert problems(g) == []
    validate(builders.vertical(2, 2, 3))
    validate(builders.horizontal(4, 0.5))


def test_unknown_edge_type_names_the_edge():
    g = small()
    g.add_edge("hub", "a1", key="bribery", type="bribery", evidence=[])
    err = raised(g)
    assert "edge ('hub', 'a1', 'bribery')" in str(err)
    assert "unknown edge type 'bribery'" in str(err)
    assert [p.rule for p in err.problems] == ["edge_type"]


def test_add_tie_refuses_an_unknown_type_and_a_missing_actor():
    g = small()
    with pytest.raises(ValueError, match=r"edge \('hub', 'a1'\): unknown edge type 'orders'"):
        add_tie(g, "hub", "a1", "orders")
    with pytest.raises(ValueError, match=r"actor 'ghost' is not in the graph"):
        add_tie(g, "hub", "ghost", "dispatch")


def test_unknown_node_type_names_the_node():
    g = small()
    g.add_node("x", type="committee", tier="municipal")
    err = raised(g)
    assert "node 'x'" in str(err) and "unknown node type 'committee'" in str(err)


def test_missing_tier_names_the_node():
    g = small()
    del g.nodes["a1"]["tier"]
    err = raised(g)
    assert [(p.rule, p.element) for p in err.problems] == [("tier", "node 'a1'")]
    assert "has no tier" in str(err)


def test_a_tier_the_type_cannot_have_names_the_node():
    g = small()
    g.nodes["g1"]["tier"] = "municipal"
    err = raised(g)
    assert "node 'g1'" in str(err) and "a grassroots_unit cannot sit at tier 'municipal'" in str(err)


def test_unreachable_resolver_names_the_node():
    g = small()
    add_actor(g, "a2", "agency", "municipal")
    add_tie(g, "hub", "a2", "information_sharing")  # sharing is not routing
    err = raised(g)
    assert [(p.rule, p.element) for p in err.problems] == [("unreachable_resolver", "node 'a2'")]
    assert "no dispatch or referral path from the hub 'hub' reaches it" in str(err)


def test_referral_counts_as_a_routing_path():
    g = small()
    add_actor(g, "a2", "agency", "municipal")
    add_tie(g, "a1", "a2", "referral")
    validate(g)


def test_a_dispatch_cycle_names_its_edges():
    g = small()
    add_tie(g, "g1", "d1", "dispatch")
    err = raised(g)
    (problem,) = err.problems
    assert problem.rule == "cycle"
    assert "edge ('d1', 'g1', 'dispatch')" in problem.element and "edge ('g1', 'd1', 'dispatch')" in problem.element


def test_a_supervision_cycle_is_forbidden_but_an_information_cycle_is_not():
    g = small()
    add_tie(g, "hub", "lead", "supervision")
    assert [p.rule for p in problems(g)] == ["cycle"]
    h = small()
    add_tie(h, "hub", "a1", "information_sharing")
    add_tie(h, "a1", "hub", "information_sharing")
    validate(h)


def test_downward_escalation_names_the_edge():
    g = small()
    add_tie(g, "d1", "g1", "escalation")
    err = raised(g)
    assert any(p.rule == "escalation_direction" and p.element == "edge ('d1', 'g1', 'escalation')" for p in err.problems)


def test_self_loops_only_on_collective_nodes_and_only_peer_ties():
    g = small()
    add_tie(g, "a1", "a1", "information_sharing")
    assert [p.element for p in problems(g)] == ["edge ('a1', 'a1', 'information_sharing')"]
    g.nodes["a1"]["collective"] = True
    validate(g)


def test_evidence_must_be_a_list_and_the_key_must_be_the_type():
    g = small()
    g.edges["hub", "a1", "dispatch"]["evidence"] = "S-1"
    g.add_edge("hub", "d1", key="x", type="supervision", evidence=[])
    rules = sorted(p.rule for p in problems(g))
    assert rules == ["edge_key", "evidence"]


def test_exactly_one_hub():
    g = small()
    add_actor(g, "hub2", "hotline_centre", "municipal")
    assert any(p.rule == "one_hub" for p in problems(g))
    h = small()
    h.remove_node("hub")
    assert any(p.rule == "one_hub" for p in problems(h))


def test_a_plain_digraph_is_refused():
    assert problems(nx.DiGraph())[0].rule == "graph_class"


def test_collapse_keeps_one_edge_per_pair_and_drops_self_loops():
    g = small()
    add_tie(g, "hub", "a1", "information_sharing")
    g.nodes["a1"]["collective"] = True
    add_tie(g, "a1", "a1", "information_sharing")
    simple = collapse(g)
    assert simple.number_of_edges() == 5  # lead-hub, hub-a1, hub-d1, d1-g1, g1-d1
    assert not any(u == v for u, v in simple.edges)


def test_a_graphml_file_with_an_unknown_edge_type_names_file_and_edge(tmp_path):
    path = tmp_path / "bad.graphml"
    write_graphml(small(), path)
    path.write_text(path.read_text(encoding="utf-8").replace(">escalation<", ">bribery<"), encoding="utf-8")
    with pytest.raises(GraphValidationError) as info:
        read_graph(path)
    assert str(path) in str(info.value)
    assert "edge ('g1', 'd1', 'bribery')" in str(info.value)


def test_a_json_file_with_a_missing_tier_names_file_and_node(tmp_path):
    path = tmp_path / "bad.json"
    write_node_link(small(), path)
    document = json.loads(path.read_text(encoding="utf-8"))
    for node in document["nodes"]:
        if node["id"] == "d1":
            del node["tier"]
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(GraphValidationError) as info:
        read_graph(path)
    assert str(path) in str(info.value) and "node 'd1'" in str(info.value) and "has no tier" in str(info.value)


def test_unreadable_files_get_clear_errors(tmp_path):
    bad = tmp_path / "g.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match=r"g\.json: not valid JSON"):
        read_graph(bad)
    missing = tmp_path / "n.json"
    missing.write_text(json.dumps({"nodes": []}), encoding="utf-8")
    with pytest.raises(ValueError, match=r"needs a 'edges' list"):
        read_graph(missing)
    with pytest.raises(ValueError, match="unknown graph format"):
        read_graph(tmp_path / "g.gexf")
