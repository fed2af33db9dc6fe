"""Reading and writing coordination graphs: GraphML and node-link JSON, and tidy tables.

GraphML is what R's igraph (``read_graph(file, format = "graphml")``) and statnet (via
igraph and ``intergraph``) read; node-link JSON is what d3 and ``networkx`` read.
GraphML has no list type, so the list attributes (:data:`~.model.LIST_ATTRIBUTES`:
``evidence``, ``codes``, ``categories``) are written as ``;``-joined strings (the
separator of ``segments.csv``) and split again on reading; an empty list is an empty
string. Attributes whose value is None are left out (GraphML has no null). Edge keys
(the tie types) are written as the GraphML edge ``id``.

Every reader validates the graph and names the file in its error.

>>> import tempfile, pathlib
>>> from hotlines.networks.builders import horizontal
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> write_graphml(horizontal(3), folder / "h.graphml")
>>> read_graph(folder / "h.graphml").number_of_edges()
25
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import networkx as nx
import pandas as pd

from .model import LIST_ATTRIBUTES, validate

SEPARATOR = ";"


def _encode(attrs: dict) -> dict:
    out = {}
    for name, value in attrs.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            items = [str(item) for item in value]
            bad = [item for item in items if SEPARATOR in item]
            if bad:
                raise ValueError(f"attribute {name!r}: item {bad[0]!r} contains the list separator {SEPARATOR!r}")
            out[name] = SEPARATOR.join(items)
        else:
            out[name] = value
    return out


def _decode(attrs: dict) -> None:
    for name in LIST_ATTRIBUTES:
        if name in attrs:
            value = attrs[name]
            if isinstance(value, str):
                attrs[name] = [item for item in value.split(SEPARATOR) if item]
            elif value is None:
                attrs[name] = []


def _for_graphml(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    out = nx.MultiDiGraph()
    out.graph.update(_encode(graph.graph))
    for node, data in graph.nodes(data=True):
        out.add_node(node, **_encode(data))
    for u, v, key, data in graph.edges(keys=True, data=True):
        out.add_edge(u, v, key=key, **_encode(data))
    return out


def write_graphml(graph: nx.MultiDiGraph, path: str | os.PathLike) -> None:
    """Write ``graph`` as GraphML (lists as ``;``-joined strings); refuses to overwrite a file."""
    target = Path(path)
    if target.exists():
        raise FileExistsError(f"{target}: exists; graphs are never overwritten (remove it or choose another name)")
    text = "\n".join(nx.generate_graphml(_for_graphml(graph)))
    target.write_bytes(_lowercase_booleans(text))


def _lowercase_booleans(text: str) -> bytes:
    """GraphML booleans are ``true``/``false`` (networkx writes Python's ``True``), which
    R's igraph needs; parsed with defusedxml as every XML input of the project is."""
    from xml.etree.ElementTree import register_namespace, tostring

    from defusedxml.ElementTree import fromstring

    ns = "http://graphml.graphdrawing.org/xmlns"
    register_namespace("", ns)
    register_namespace("xsi", "http://www.w3.org/2001/XMLSchema-instance")
    root = fromstring(text.encode("utf-8"))
    boolean_keys = {k.get("id") for k in root.iter(f"{{{ns}}}key") if k.get("attr.type") == "boolean"}
    for data in root.iter(f"{{{ns}}}data"):
        if data.get("key") in boolean_keys and data.text is not None:
            data.text = data.text.strip().lower()
    return b"<?xml version='1.0' encoding='utf-8'?>\n" + tostring(root, encoding="utf-8", xml_declaration=False)


def read_graphml(path: str | os.PathLike, check: bool = True) -> nx.MultiDiGraph:
    """Read a GraphML coordination graph written by :func:`write_graphml` (or by R) and validate it."""
    source = Path(path)
    graph = nx.read_graphml(source, force_multigraph=True)
    if not graph.is_directed():
        raise ValueError(f"{source}: the graph is undirected; coordination graphs are directed")
    out = nx.MultiDiGraph()
    out.graph.update({k: v for k, v in graph.graph.items() if k not in ("node_default", "edge_default")})
    _decode(out.graph)
    for node, data in graph.nodes(data=True):
        attrs = dict(data)
        _decode(attrs)
        out.add_node(node, **attrs)
    for u, v, key, data in graph.edges(keys=True, data=True):
        attrs = dict(data)
        attrs.pop("id", None)
        _decode(attrs)
        edge_type = attrs.get("type", key)
        out.add_edge(u, v, key=edge_type, **attrs)
    if check:
        validate(out, source=str(source))
    return out


def to_node_link(graph: nx.MultiDiGraph) -> dict:
    """The node-link dictionary (``nodes``, ``edges``) of ``graph``; lists stay lists."""
    return nx.node_link_data(copy.deepcopy(graph), edges="edges")


def write_node_link(graph: nx.MultiDiGraph, path: str | os.PathLike) -> None:
    """Write ``graph`` as node-link JSON (UTF-8, indented); refuses to overwrite a file."""
    target = Path(path)
    if target.exists():
        raise FileExistsError(f"{target}: exists; graphs are never overwritten (remove it or choose another name)")
    target.write_text(json.dumps(to_node_link(graph), ensure_ascii=False, indent=1), encoding="utf-8")


def read_node_link(path: str | os.PathLike, check: bool = True) -> nx.MultiDiGraph:
    """Read a node-link JSON coordination graph and validate it."""
    source = Path(path)
    try:
        document = json.loads(source.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{source}: not valid JSON ({exc})") from exc
    for field in ("nodes", "edges"):
        if field not in document:
            raise ValueError(f"{source}: node-link JSON needs a {field!r} list")
    graph = nx.node_link_graph(document, directed=True, multigraph=True, edges="edges")
    out = nx.MultiDiGraph()
    out.graph.update(graph.graph)
    out.add_nodes_from(graph.nodes(data=True))
    for u, v, key, data in graph.edges(keys=True, data=True):
        out.add_edge(u, v, key=data.get("type", key), **data)
    for _, data in out.nodes(data=True):
        _decode(data)
    for *_, data in out.edges(keys=True, data=True):
        _decode(data)
    if check:
        validate(out, source=str(source))
    return out


def read_graph(path: str | os.PathLike, check: bool = True) -> nx.MultiDiGraph:
    """Read a ``.graphml`` or ``.json`` coordination graph (by extension) and validate it."""
    suffix = Path(path).suffix.lower()
    if suffix in (".graphml", ".xml"):
        return read_graphml(path, check=check)
    if suffix == ".json":
        return read_node_link(path, check=check)
    raise ValueError(f"{path}: unknown graph format {suffix!r} (use .graphml or .json)")


def write_graph(graph: nx.MultiDiGraph, path: str | os.PathLike) -> None:
    """Write ``graph`` as GraphML or node-link JSON, by the extension of ``path``."""
    suffix = Path(path).suffix.lower()
    if suffix in (".graphml", ".xml"):
        write_graphml(graph, path)
    elif suffix == ".json":
        write_node_link(graph, path)
    else:
        raise ValueError(f"{path}: unknown graph format {suffix!r} (use .graphml or .json)")


def nodes_frame(graph: nx.MultiDiGraph) -> pd.DataFrame:
    """One row per actor: node, type, tier, resolves, label, evidence (``;``-joined), n_evidence."""
    rows = []
    for node, data in graph.nodes(data=True):
        evidence = data.get("evidence", [])
        rows.append(
            {
                "node": node,
                "type": data.get("type"),
                "tier": data.get("tier"),
                "resolves": data.get("resolves"),
                "label": data.get("label", node),
                "evidence": SEPARATOR.join(evidence),
                "n_evidence": len(evidence),
            }
        )
    return pd.DataFrame(rows, columns=["node", "type", "tier", "resolves", "label", "evidence", "n_evidence"])


def edges_frame(graph: nx.MultiDiGraph, explode_evidence: bool = False) -> pd.DataFrame:
    """One row per tie (source, target, type, evidence, codes, n_evidence, counterfactual);
    with ``explode_evidence`` one row per (tie, segment id), ties without evidence kept
    with an empty ``segment_id``."""
    rows = []
    for u, v, key, data in graph.edges(keys=True, data=True):
        evidence = list(data.get("evidence", []))
        base = {
            "source": u,
            "target": v,
            "type": key,
            "codes": SEPARATOR.join(data.get("codes", [])),
            "counterfactual": bool(data.get("counterfactual", False)),
        }
        if explode_evidence:
            for segment in evidence or [""]:
                rows.append({**base, "segment_id": segment})
        else:
            rows.append({**base, "evidence": SEPARATOR.join(evidence), "n_evidence": len(evidence)})
    columns = ["source", "target", "type", "codes", "counterfactual"] + (["segment_id"] if explode_evidence else ["evidence", "n_evidence"])
    return pd.DataFrame(rows, columns=columns)
