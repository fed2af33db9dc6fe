"""A discrete-event simulation (simpy) from a coordination graph to resolution times.

**Everything this module produces is simulated**: the records are labelled
``dataset = "simulation"``, carry a ``simulated`` column that is True on every row and
``records.attrs["simulated"] = True``; they are model results, never observations.

The model, in the words of the graph (:mod:`hotlines.networks.model`):

1. **Arrivals.** Requests arrive as a Poisson process in ``[0, arrival_days)``, by
   category with ``arrival_rates``; a share ``complex_share`` are *complex*: they need
   1 + k agencies, k uniform on ``extra_agencies`` (capped by the agencies available).
2. **Routing.** The hotline centre sends a request to a *primary resolver*: a resolver
   (``resolves``) that handles its category (node attribute ``categories``; ``"*"`` or
   none means all) and that a routing path (dispatch or referral ties) from the hub
   reaches, at the lowest government tier among such resolvers (territorial first, as
   Beijing's direct dispatch to district and grassroots governments, seed 000 line 157;
   in a graph with only municipal agencies, the agency of the category), drawn uniformly.
   Transit takes an exponential ``dispatch_days_per_hop`` for each tie of the shortest
   routing path.
3. **Deadlines and service levels.** A request gets a due time when the first dispatch
   tie of its route carries ``deadline_days`` (or ``binding`` without a number:
   ``deadline_days`` of the parameters) or when the hub holds a service-level contract
   (``target_days``) with the primary resolver (the earlier of the two). Every resolver
   is a pool of ``servers`` servers (:class:`ServerPool`, on simpy events): work with a
   due time is served earliest-due-first, ahead of work without one, which waits
   first-come first-served.
4. **Simple requests**: the primary works ``handling_days`` and closes the request.
5. **Complex requests**: the primary assesses (``assessment_days``), then involves each
   helper agency in one of two ways:

   - *report-in* (吹哨报到): when the helper can be summoned, that is, an escalation
     path leads from the primary to the helper or to an actor that reaches the helper
     through supervision ties, **and** the helper is accountable (a leadership actor
     reaches it through supervision ties, so someone enforces the obligation). Summoned
     helpers respond in parallel, each within ``report_in_deadline_days`` (uniform
     delay), and their part is due by that deadline (priority in their queue);
   - *negotiation* otherwise: voluntary bilateral agreements, one helper after the
     other, each taking an exponential ``negotiation_days``; each helper starts its part
     once agreed, with no due time (it waits behind due work).

   Each helper's part takes ``helper_days``; when all parts are done the primary closes
   the case (``closing_days``).
6. **Snapshot.** At ``horizon_days`` the records are taken: requests still open are
   right-censored there (``closed`` missing, ``snapshot`` = horizon).

Work times are lognormal with the given mean and coefficient of variation ``work_cv``.
**Staffing**: with ``staffing="utilisation"`` (default) every resolver gets the fewest
servers that keep its nominal utilisation (the work the drawn requests bring it, over the
arrival window) at or below ``utilisation``, so that archetypes are compared at equal
load and differences come from routing and coordination, not from staffing; with
``"graph"`` the node attribute ``servers`` is used.

Where the defaults come from: the seven-day deadline and the equal default service-level
target are Beijing's regulation (seed 000 line 210; ``data/indicators.csv`` I0029); every
other default is an **assumption** of this model, chosen to be plausible orders of
magnitude (days of work, days of negotiation), not estimated from data. The contrast
between the archetypes for complex requests comes from two stated mechanisms, the
obligated, parallel, deadline-bound report-in against the voluntary, sequential,
open-ended negotiation (seed 000 lines 220-227); :mod:`hotlines.networks.experiments`
shows what happens when they are made equal.

Limits: a server is a concurrent case slot, not a person; agencies do no work other
than hotline requests, so a service-level contract or deadline changes only the order of
work (and the ``due`` column), never the amount of capacity; the vertical archetype
routes every request territorially, so its agencies see only summoned work; simple
requests differ between the archetypes only by routing hops and pool sizes. Under the
defaults the archetypes' overall means differ far less than the published aggregates;
the contrast is in complex requests (see :func:`calibrate_time_scale`).

>>> from hotlines.networks.builders import vertical
>>> params = SimulationParameters(arrival_rates={"noise": 40.0}, arrival_days=10, horizon_days=20)
>>> result = simulate(vertical(2, 3, 4, categories=["noise"]), params, seed=1)
>>> result.records["dataset"].unique().tolist(), bool(result.records["simulated"].all())
(['simulation'], True)
"""

from __future__ import annotations

import dataclasses
import heapq
import math
from dataclasses import dataclass, field
from typing import Mapping

import networkx as nx
import numpy as np
import pandas as pd
import simpy

from ..requests.schema import conform
from .builders import DEFAULT_CATEGORIES, DEFAULT_DEADLINE_DAYS
from .model import ROUTING_TYPES, TIER_LEVEL, hub, resolvers, subgraph_of, validate

INF = math.inf
#: Complex requests whose helper agencies are drawn at once (bounds memory on large graphs).
HELPER_CHUNK = 20_000


def _default_rates() -> dict[str, float]:
    return {category: 100.0 for category in DEFAULT_CATEGORIES}


@dataclass(frozen=True)
class SimulationParameters:
    """Every parameter of the simulation, with its unit. Times are in days.

    Arrivals
        ``arrival_rates`` {category: requests per day}; ``arrival_days`` [days] window
        of arrivals; ``horizon_days`` [days] snapshot time (>= ``arrival_days``);
        ``complex_share`` [share of requests] needing several agencies;
        ``extra_agencies`` (low, high) [agencies] beyond the primary, uniform.
    Work (lognormal, mean in days, coefficient of variation ``work_cv``)
        ``handling_days`` primary's work on a simple request; ``assessment_days``
        primary's first look at a complex one; ``helper_days`` a helper's part;
        ``closing_days`` the primary's closing work on a complex request.
    Coordination
        ``dispatch_days_per_hop`` [days] mean transit per routing tie (exponential);
        ``report_in_deadline_days`` [days] an obliged helper reports in uniformly
        within it; ``negotiation_days`` [days] mean of one voluntary negotiation
        (exponential), negotiations run one after the other.
    Rules
        ``deadline_days`` [days] deadline of a binding dispatch tie that states none
        (Beijing's seven days, seed 000 line 210).
    Staffing
        ``staffing`` ``"utilisation"`` or ``"graph"``; ``utilisation`` [share] nominal
        utilisation each resolver is staffed to.
    Labels
        ``origin`` [UTC timestamp] time zero; ``city`` the label written to the
        ``city`` column (default ``sim_<graph name>``).
    """

    arrival_rates: Mapping[str, float] = field(default_factory=_default_rates)
    arrival_days: float = 60.0
    horizon_days: float = 90.0
    complex_share: float = 0.2
    extra_agencies: tuple[int, int] = (1, 2)
    handling_days: float = 1.5
    assessment_days: float = 0.5
    helper_days: float = 1.5
    closing_days: float = 0.5
    work_cv: float = 1.0
    dispatch_days_per_hop: float = 0.25
    report_in_deadline_days: float = 2.0
    negotiation_days: float = 3.0
    deadline_days: float = DEFAULT_DEADLINE_DAYS
    staffing: str = "utilisation"
    utilisation: float = 0.8
    origin: str = "2024-01-01T00:00:00Z"
    city: str | None = None

    #: Parameters that are times of work or coordination (scaled by calibration);
    #: deadlines and service-level targets are rules and are not scaled.
    TIME_FIELDS = ("handling_days", "assessment_days", "helper_days", "closing_days", "dispatch_days_per_hop", "report_in_deadline_days", "negotiation_days")

    def __post_init__(self) -> None:
        if not self.arrival_rates:
            raise ValueError("arrival_rates: at least one category with a rate (requests per day)")
        for category, rate in self.arrival_rates.items():
            if not (rate >= 0 and math.isfinite(rate)):
                raise ValueError(f"arrival_rates[{category!r}]: a rate is a non-negative number of requests per day, got {rate!r}")
        if sum(self.arrival_rates.values()) <= 0:
            raise ValueError("arrival_rates: the total rate must be positive")
        if not (0 < self.arrival_days <= self.horizon_days):
            raise ValueError(f"need 0 < arrival_days <= horizon_days, got {self.arrival_days} and {self.horizon_days}")
        if not (0 <= self.complex_share <= 1):
            raise ValueError(f"complex_share must lie in [0, 1], got {self.complex_share}")
        low, high = self.extra_agencies
        if not (1 <= low <= high):
            raise ValueError(f"extra_agencies must be (low, high) with 1 <= low <= high, got {self.extra_agencies}")
        for name in self.TIME_FIELDS + ("deadline_days",):
            value = getattr(self, name)
            if not (value > 0 and math.isfinite(value)):
                raise ValueError(f"{name} must be a positive number of days, got {value!r}")
        if self.work_cv < 0:
            raise ValueError(f"work_cv must be >= 0, got {self.work_cv}")
        if self.staffing not in ("utilisation", "graph"):
            raise ValueError(f"staffing must be 'utilisation' or 'graph', got {self.staffing!r}")
        if not (0 < self.utilisation < 1):
            raise ValueError(f"utilisation must lie in (0, 1), got {self.utilisation}")

    def replace(self, **changes) -> "SimulationParameters":
        """A copy with some parameters changed."""
        return dataclasses.replace(self, **changes)

    def scaled(self, factor: float) -> "SimulationParameters":
        """A copy with every work and coordination time multiplied by ``factor``."""
        return self.replace(**{name: getattr(self, name) * factor for name in self.TIME_FIELDS})

    def table(self) -> pd.DataFrame:
        """The parameters as a tidy table: parameter, value, unit."""
        units = {
            "arrival_rates": "requests per day, by category", "arrival_days": "days", "horizon_days": "days",
            "complex_share": "share of requests", "extra_agencies": "agencies (low, high)", "work_cv": "coefficient of variation",
            "staffing": "rule", "utilisation": "share", "origin": "UTC timestamp", "city": "label", "deadline_days": "days",
        }
        rows = [
            {"parameter": f.name, "value": repr(getattr(self, f.name)) if not isinstance(getattr(self, f.name), Mapping) else repr(dict(getattr(self, f.name))), "unit": units.get(f.name, "days")}
            for f in dataclasses.fields(self)
        ]
        return pd.DataFrame(rows, columns=["parameter", "value", "unit"])


@dataclass
class SimulationResult:
    """Simulated request records and the staffing used. ``records`` holds the canonical
    columns of :mod:`hotlines.requests.schema` (conformed) followed by ``simulated``
    (always True), ``path``, ``complex``, ``n_agencies`` and ``coordination``."""

    records: pd.DataFrame
    staffing: pd.DataFrame
    parameters: SimulationParameters
    seed: object
    simulated: bool = True


def _lognormal(rng: np.random.Generator, mean: float, cv: float, size) -> np.ndarray:
    if cv == 0:
        return np.full(size, mean)
    sigma2 = math.log1p(cv * cv)
    return rng.lognormal(math.log(mean) - sigma2 / 2, math.sqrt(sigma2), size)


class ServerPool:
    """``capacity`` identical servers on simpy events; waiting work is served lowest
    ``key`` first (earliest due), first come first served among equal keys.

    Use: ``if pool.free: pool.free -= 1`` else ``yield pool.wait(key)``; then work; then
    ``pool.release()``, which hands the server straight to the next in line. Written on
    simpy's ``Event`` rather than ``simpy.PriorityResource`` for speed: that resource
    keeps its users in a list (a removal costing O(servers) at every release) and
    creates two events per use; this pool creates one event, and only when work waits.

    >>> env = simpy.Environment(); pool = ServerPool(env, 1); log = []
    >>> def job(name, key, work):
    ...     if pool.free:
    ...         pool.free -= 1
    ...     else:
    ...         yield pool.wait(key)
    ...     yield env.timeout(work); pool.release(); log.append((name, env.now))
    >>> for name, key in [("a", 5.0), ("b", 9.0), ("c", 1.0)]:
    ...     _ = env.process(job(name, key, 1.0))
    >>> env.run(); log          # c (key 1) overtakes b (key 9) while a works
    [('a', 1.0), ('c', 2.0), ('b', 3.0)]
    """

    __slots__ = ("env", "free", "waiting", "order")

    def __init__(self, env: simpy.Environment, capacity: int):
        if capacity < 1:
            raise ValueError(f"a server pool needs at least one server, got {capacity}")
        self.env = env
        self.free = capacity
        self.waiting: list = []
        self.order = 0

    def wait(self, key: float) -> simpy.Event:
        """An event that succeeds when a server is handed to this work (call when none is free)."""
        event = self.env.event()
        self.order += 1
        heapq.heappush(self.waiting, (key, self.order, event))
        return event

    def release(self) -> None:
        """Free a server, or hand it to the waiting work with the lowest key."""
        if self.waiting:
            heapq.heappop(self.waiting)[2].succeed()
        else:
            self.free += 1


@dataclass
class _Plan:
    """What the simulation needs from the graph, computed once."""

    nodes: list[str]
    index: dict[str, int]
    route: dict[int, list[str]]
    hops: np.ndarray
    due_offset: np.ndarray
    candidates: dict[str, np.ndarray]
    helpers: np.ndarray
    summonable: np.ndarray  # [node index, helper position] -> bool
    servers_attr: np.ndarray


def _handles(data: dict, category: str) -> bool:
    categories = data.get("categories")
    return not categories or "*" in categories or category in categories


def plan(graph: nx.MultiDiGraph, params: SimulationParameters) -> _Plan:
    """Routes, candidates, due times and report-in obligations of ``graph`` (validated first)."""
    validate(graph)
    centre = hub(graph)
    nodes = list(graph.nodes)
    index = {n: i for i, n in enumerate(nodes)}
    routing = subgraph_of(graph, ROUTING_TYPES)
    routing.remove_edges_from(list(nx.selfloop_edges(routing)))
    paths = nx.single_source_shortest_path(routing, centre)
    solvers = [n for n in resolvers(graph) if n != centre and n in paths]
    hops = np.zeros(len(nodes), dtype=np.int64)
    due_offset = np.full(len(nodes), np.nan)
    route: dict[int, list[str]] = {}
    for node in solvers:
        path = paths[node]
        route[index[node]] = path
        hops[index[node]] = len(path) - 1
        offsets = []
        first = graph.get_edge_data(path[0], path[1], key="dispatch")
        if first is not None:
            if first.get("deadline_days") is not None:
                offsets.append(float(first["deadline_days"]))
            elif first.get("binding"):
                offsets.append(params.deadline_days)
        sla = graph.get_edge_data(centre, node, key="service_level_contract")
        if sla is not None and sla.get("target_days") is not None:
            offsets.append(float(sla["target_days"]))
        if offsets:
            due_offset[index[node]] = min(offsets)
    candidates = {}
    for category in params.arrival_rates:
        eligible = [n for n in solvers if _handles(graph.nodes[n], category) and graph.nodes[n].get("tier") in TIER_LEVEL]
        if not eligible:
            raise ValueError(f"graph {graph.graph.get('name', '')!r}: no reachable resolver handles category {category!r}")
        deepest = max(TIER_LEVEL[graph.nodes[n]["tier"]] for n in eligible)
        candidates[category] = np.array([index[n] for n in eligible if TIER_LEVEL[graph.nodes[n]["tier"]] == deepest], dtype=np.int64)
    helper_nodes = [n for n in solvers if graph.nodes[n].get("type") == "agency"]
    helpers = np.array([index[n] for n in helper_nodes], dtype=np.int64)
    # Report-in obligations: escalation reach, then supervision reach, and accountability.
    escalation = subgraph_of(graph, "escalation")
    supervision = subgraph_of(graph, "supervision")
    leaders = [n for n, t in graph.nodes(data="type") if t == "leadership"]
    accountable = set().union(*(nx.descendants(supervision, leader) for leader in leaders)) if leaders else set()
    supervised_by = {n: nx.descendants(supervision, n) for n in graph.nodes}
    summonable = np.zeros((len(nodes), len(helpers)), dtype=bool)
    helper_position = {n: j for j, n in enumerate(helper_nodes)}
    for node in solvers:
        reach = nx.descendants(escalation, node)
        covered = set(reach)
        for above in reach:
            covered |= supervised_by[above]
        for helper in covered & accountable:
            if helper in helper_position and helper != node:
                summonable[index[node], helper_position[helper]] = True
    servers_attr = np.array([int(graph.nodes[n].get("servers", 0) or 0) for n in nodes], dtype=np.int64)
    return _Plan(nodes, index, route, hops, due_offset, candidates, helpers, summonable, servers_attr)


def _seed_label(seed) -> str:
    return str(seed) if isinstance(seed, (int, np.integer)) else "generator"


def simulate(
    graph: nx.MultiDiGraph,
    params: SimulationParameters | None = None,
    seed: int | np.random.Generator | None = 0,
) -> SimulationResult:
    """Simulate requests through ``graph``; returns **simulated** request records.

    Reproducible bit for bit for a given ``seed`` (an int or a numpy Generator): every
    random number is drawn up front from one :func:`numpy.random.default_rng` stream,
    and simpy breaks ties between simultaneous events in a fixed order.

    ``records`` has the canonical request columns (``dataset`` = ``"simulation"``,
    ``city`` = ``params.city`` or ``sim_<graph name>``, ``agency`` = the primary
    resolver, ``due`` from deadlines or service levels, ``closed`` missing for requests
    open at the horizon, ``snapshot`` = the horizon), then ``simulated`` (True),
    ``path`` (routing path joined by ``>``, then each helper after ``+``), ``complex``,
    ``n_agencies`` and ``coordination`` (``single``, ``report_in``, ``negotiation``,
    ``mixed``). ``staffing`` lists each resolver's servers, nominal utilisation and work.
    """
    params = params or SimulationParameters()
    rng = np.random.default_rng(seed)
    p = plan(graph, params)
    categories = list(params.arrival_rates)
    rates = np.array([params.arrival_rates[c] for c in categories], dtype=float)
    total_rate = rates.sum()

    # ---- every random number, drawn up front in a fixed order
    n = int(rng.poisson(total_rate * params.arrival_days))
    arrival = np.sort(rng.uniform(0.0, params.arrival_days, n))
    category = rng.choice(len(categories), size=n, p=rates / total_rate)
    is_complex = rng.random(n) < params.complex_share
    pick = rng.random(n)
    primary = np.empty(n, dtype=np.int64)
    for k, name in enumerate(categories):
        mask = category == k
        cands = p.candidates[name]
        primary[mask] = cands[np.minimum((pick[mask] * len(cands)).astype(np.int64), len(cands) - 1)]
    low, high = params.extra_agencies
    wanted = rng.integers(low, high + 1, size=n)
    dispatch = rng.gamma(np.maximum(p.hops[primary], 1), params.dispatch_days_per_hop)
    handling = _lognormal(rng, params.handling_days, params.work_cv, n)
    assessment = _lognormal(rng, params.assessment_days, params.work_cv, n)
    closing = _lognormal(rng, params.closing_days, params.work_cv, n)
    helper_work = _lognormal(rng, params.helper_days, params.work_cv, (n, high))
    report_delay = rng.uniform(0.0, params.report_in_deadline_days, (n, high))
    negotiation = rng.exponential(params.negotiation_days, (n, high))

    # Helpers: the first k agencies (other than the primary) in a random order.
    n_helpers = np.zeros(n, dtype=np.int64)
    helper_of = np.full((n, high), -1, dtype=np.int64)  # positions in p.helpers
    complex_rows = np.flatnonzero(is_complex)
    if len(complex_rows) and len(p.helpers):
        take = min(high, len(p.helpers))
        # in chunks, to bound memory (rows x agencies); the stream of draws is the same
        for begin in range(0, len(complex_rows), HELPER_CHUNK):
            rows = complex_rows[begin : begin + HELPER_CHUNK]
            keys = rng.random((len(rows), len(p.helpers)))
            keys[p.helpers[None, :] == primary[rows, None]] = np.inf
            if take < len(p.helpers):
                smallest = np.argpartition(keys, take - 1, axis=1)[:, :take]
            else:
                smallest = np.tile(np.arange(len(p.helpers)), (len(rows), 1))
            order = np.take_along_axis(smallest, np.argsort(np.take_along_axis(keys, smallest, axis=1), axis=1, kind="stable"), axis=1)
            helper_of[rows, :take] = order
        available = len(p.helpers) - np.isin(primary[complex_rows], p.helpers).astype(np.int64)
        n_helpers[complex_rows] = np.minimum(wanted[complex_rows], available)
    n_helpers[~is_complex] = 0

    # ---- staffing: servers per node
    work = np.bincount(primary, weights=np.where(is_complex, assessment + closing, handling), minlength=len(p.nodes))
    for j in range(high):
        rows = np.flatnonzero(n_helpers > j)
        work += np.bincount(p.helpers[helper_of[rows, j]], weights=helper_work[rows, j], minlength=len(p.nodes))
    if params.staffing == "utilisation":
        servers = np.maximum(1, np.ceil(work / (params.utilisation * params.arrival_days) - 1e-9)).astype(np.int64)
    else:
        servers = p.servers_attr
        missing = [p.nodes[i] for i in np.flatnonzero((work > 0) & (servers < 1))]
        if missing:
            raise ValueError(f"staffing='graph' but resolver(s) {missing[:5]} have no positive 'servers' attribute")

    # ---- the simpy model
    env = simpy.Environment()
    pools = [ServerPool(env, int(max(1, c))) for c in servers]
    timeout, process, all_of = env.timeout, env.process, env.all_of
    offset = p.due_offset[primary]
    due_key = np.where(np.isnan(offset), INF, arrival + np.nan_to_num(offset, nan=0.0))
    closed = np.full(n, np.nan)
    coordination = np.zeros(n, dtype=np.int8)  # 0 single, 1 report_in, 2 negotiation, 3 mixed
    # Python scalars in the event loop: numpy scalars would make every simpy time a
    # numpy float and slow each heap comparison.
    primary_l, key_l, helpers_l = primary.tolist(), due_key.tolist(), p.helpers.tolist()
    n_helpers_l, handling_l, assessment_l, closing_l = n_helpers.tolist(), handling.tolist(), assessment.tolist(), closing.tolist()
    summonable = p.summonable.tolist()
    report_deadline = params.report_in_deadline_days
    closed_l = closed.tolist()
    coordination_l = coordination.tolist()

    def part(node: int, delay: float, key: float, duration: float):
        if delay > 0:
            yield timeout(delay)
        pool = pools[node]
        if pool.free:
            pool.free -= 1
        else:
            yield pool.wait(key)
        yield timeout(duration)
        pool.release()

    def negotiate(i: int, positions: list[int]):
        started = []
        for j in positions:
            yield timeout(float(negotiation[i, j]))
            started.append(process(part(helpers_l[helper_of[i, j]], 0.0, INF, float(helper_work[i, j]))))
        yield all_of(started)

    def handle(i: int):
        # starts when the request reaches its primary resolver (created + dispatch transit)
        node = primary_l[i]
        pool = pools[node]
        key = key_l[i]
        if pool.free:
            pool.free -= 1
        else:
            yield pool.wait(key)
        if n_helpers_l[i] == 0:
            yield timeout(handling_l[i])
            pool.release()
        else:
            yield timeout(assessment_l[i])
            pool.release()
            now = env.now
            parts, voluntary = [], []
            for j in range(n_helpers_l[i]):
                position = int(helper_of[i, j])
                if summonable[node][position]:
                    parts.append(process(part(helpers_l[position], float(report_delay[i, j]), now + report_deadline, float(helper_work[i, j]))))
                else:
                    voluntary.append(j)
            if voluntary:
                parts.append(process(negotiate(i, voluntary)))
            coordination_l[i] = 2 if len(voluntary) == n_helpers_l[i] else (1 if not voluntary else 3)
            yield all_of(parts)
            if pool.free:
                pool.free -= 1
            else:
                yield pool.wait(key)
            yield timeout(closing_l[i])
            pool.release()
        closed_l[i] = env.now

    # requests enter the model in the order they reach their primary resolver
    reach = arrival + dispatch
    order = np.argsort(reach, kind="stable")
    reach_l, order_l = reach[order].tolist(), order.tolist()

    def arrivals():
        clock = 0.0
        for at, i in zip(reach_l, order_l):
            if at > clock:
                yield timeout(at - clock)
                clock = at
            process(handle(i))

    env.process(arrivals())
    env.run(until=params.horizon_days)
    closed = np.array(closed_l, dtype=float)
    coordination = np.array(coordination_l, dtype=np.int8)

    return SimulationResult(
        records=_records(graph, params, p, seed, arrival, closed, category, categories, primary, due_key, is_complex, n_helpers, helper_of, coordination),
        staffing=pd.DataFrame(
            {
                "node": [p.nodes[i] for i in np.flatnonzero(work > 0)],
                "servers": servers[work > 0],
                "work_days": work[work > 0],
                "nominal_utilisation": work[work > 0] / (servers[work > 0] * params.arrival_days),
                "simulated": True,
            }
        ),
        parameters=params,
        seed=seed,
    )


def _records(graph, params, p, seed, arrival, closed, category, categories, primary, due_key, is_complex, n_helpers, helper_of, coordination) -> pd.DataFrame:
    n = len(arrival)
    origin = pd.Timestamp(params.origin)
    origin = origin.tz_localize("UTC") if origin.tzinfo is None else origin.tz_convert("UTC")
    label = params.city or f"sim_{graph.graph.get('name', 'graph')}"
    is_closed = ~np.isnan(closed)
    route_text = {i: ">".join(map(str, path)) for i, path in p.route.items()}
    path = np.empty(n, dtype=object)
    by_node = np.array([route_text.get(i, "") for i in range(len(p.nodes))], dtype=object)
    path[:] = by_node[primary]
    for i in np.flatnonzero(n_helpers > 0):
        path[i] = path[i] + "".join("+" + str(p.nodes[p.helpers[helper_of[i, j]]]) for j in range(n_helpers[i]))
    names = np.array(categories, dtype=object)
    frame = pd.DataFrame(
        {
            "city": label,
            "dataset": "simulation",
            "request_id": [f"{label}-{k:07d}" for k in range(1, n + 1)],
            "created": origin + pd.to_timedelta(arrival, unit="D"),
            "closed": origin + pd.to_timedelta(closed, unit="D"),
            "status": np.where(is_closed, "closed", "open"),
            "is_closed": is_closed,
            "agency": np.array(p.nodes, dtype=object)[primary] if n else np.array([], dtype=object),
            "category": names[category] if n else np.array([], dtype=object),
            "channel": pd.NA,
            "due": origin + pd.to_timedelta(np.where(np.isinf(due_key), np.nan, due_key), unit="D"),
            "snapshot": origin + pd.to_timedelta(params.horizon_days, unit="D"),
            "source_file": f"simulation:{graph.graph.get('name', 'graph')}:seed={_seed_label(seed)}",
            "source_row": np.arange(1, n + 1),
        }
    )
    records = conform(frame)
    records["simulated"] = True
    records["path"] = pd.array(path, dtype="string")
    records["complex"] = is_complex
    records["n_agencies"] = np.where(is_complex, 1 + n_helpers, 1)
    records["coordination"] = pd.Categorical.from_codes(coordination, ["single", "report_in", "negotiation", "mixed"])
    records.attrs["simulated"] = True
    records.attrs["note"] = "simulated records: model results, not observations"
    return records


# ------------------------------------------------------------------ summaries and calibration


def resolution_summary(records: pd.DataFrame, by: str | list[str] | None = None, tau_days: float | None = None) -> pd.DataFrame:
    """Resolution times of (simulated or real) records with censoring handled.

    A thin renaming of :func:`hotlines.requests.survival.naive_vs_censoring_aware` (the
    project's survival module; lifelines Kaplan–Meier underneath): open requests are
    right-censored at the snapshot. Columns: the ``by`` groups, ``n``, ``n_closed``,
    ``share_censored``, ``median_days`` with ``median_ci_low`` and ``median_ci_high``
    (95%; ``inf`` when more than half are still open: the median is then longer than
    the follow-up), ``restricted_mean_days`` with ``restricted_mean_ci_low`` and
    ``restricted_mean_ci_high`` (area under the Kaplan–Meier curve up to ``tau_days``),
    ``tau_days``, and ``mean_days_closed_only`` (naive, biased down under censoring;
    shown for contrast). ``tau_days`` defaults to the smallest, over the groups, of each
    group's longest observed duration; pass a fixed value to compare separate runs.

    >>> import pandas as pd
    >>> t0 = pd.Timestamp("2024-01-01", tz="UTC")
    >>> records = pd.DataFrame({"created": [t0] * 3, "is_closed": [True, True, False],
    ...     "closed": [t0 + pd.Timedelta(days=1), t0 + pd.Timedelta(days=3), pd.NaT],
    ...     "snapshot": [t0 + pd.Timedelta(days=10)] * 3})
    >>> resolution_summary(records)[["n", "n_closed", "median_days"]].values.tolist()
    [[3.0, 2.0, 3.0]]
    """
    from ..requests.survival import naive_vs_censoring_aware

    table = naive_vs_censoring_aware(records, by=by, horizon_days=tau_days)
    table = table.rename(
        columns={
            "share_open": "share_censored",
            "km_median_days": "median_days",
            "km_median_ci_low": "median_ci_low",
            "km_median_ci_high": "median_ci_high",
            "rmst_days": "restricted_mean_days",
            "rmst_ci_low": "restricted_mean_ci_low",
            "rmst_ci_high": "restricted_mean_ci_high",
            "horizon_days": "tau_days",
            "naive_mean_days": "mean_days_closed_only",
        }
    )
    keys = [] if by is None else ([by] if isinstance(by, str) else list(by))
    columns = keys + [
        "n", "n_closed", "share_censored", "median_days", "median_ci_low", "median_ci_high",
        "restricted_mean_days", "restricted_mean_ci_low", "restricted_mean_ci_high", "tau_days", "mean_days_closed_only",
    ]
    return table[columns]


def published_resolution_aggregates(data_dir=None) -> pd.DataFrame:
    """The published average resolution times of Beijing and New York (data/indicators.csv):
    Beijing "fewer than five days", New York "above ten days" until 2024 (seed 000 line 69).
    They are bounds (qualifier ``<``, ``>``), not point values."""
    from .. import data

    ind = data.indicators(data_dir)
    chosen = ind[(ind["indicator"] == "average_resolution_time") & ind["city_id"].isin(["beijing", "new_york"]) & (ind["kind"] == "measured")]
    return chosen[["indicator_id", "city_id", "qualifier", "value", "unit", "source_id", "locator", "quote"]].reset_index(drop=True)


@dataclass
class Calibration:
    """The outcome of :func:`calibrate_time_scale`: the scaled parameters, each
    iteration's result (``log``), and the caveat (``note``)."""

    parameters: SimulationParameters
    scale: float
    log: pd.DataFrame
    note: str = (
        "Calibrated simulation outputs are model results, not observations: one scale factor on the assumed work "
        "and coordination times was tuned so that the simulated mean resolution time meets a target chosen from "
        "published aggregates; the published figures remain the only observations."
    )


def calibrate_time_scale(
    graph: nx.MultiDiGraph,
    target_mean_days: float,
    params: SimulationParameters | None = None,
    seed: int = 0,
    *,
    tolerance: float = 0.02,
    max_iterations: int = 12,
) -> Calibration:
    """Scale the work and coordination times so the simulated mean resolution time meets a target.

    Deadlines and service-level targets are rules and stay fixed; arrival rates stay
    fixed and staffing follows the scaled work (``staffing="utilisation"``). The mean is
    the Kaplan–Meier restricted mean (:func:`resolution_summary`). The published
    aggregates are bounds (Beijing below five days, New York above ten before 2024:
    :func:`published_resolution_aggregates`), so the target is the caller's choice inside
    them, and the calibrated outputs remain **model results, not observations**.

    Secant steps on the log scale, with the same seed throughout (common random numbers);
    stops when the relative error is within ``tolerance`` and raises if it is not reached.

    Calibrating each archetype on its own absorbs whatever gap the structure does not
    produce into its scale factor. Under the defaults the vertical archetype needed a
    scale of about 1.8 to reach a mean of 4.5 days and the horizontal one about 3.8 to
    reach 11 days (seed 0): the structural mechanisms alone give a much smaller gap in
    the overall mean than the published aggregates, so a chapter must not present the
    calibrated gap as produced by structure.
    """
    if not (target_mean_days > 0):
        raise ValueError(f"target_mean_days must be positive, got {target_mean_days}")
    params = params or SimulationParameters()
    rows = []

    def mean_at(scale: float) -> float:
        result = simulate(graph, params.scaled(scale), seed=seed)
        value = resolution_summary(result.records)["restricted_mean_days"].item()
        rows.append({"iteration": len(rows) + 1, "scale": scale, "restricted_mean_days": value, "target_mean_days": target_mean_days, "simulated": True})
        return value

    x0, f0 = 0.0, math.log(mean_at(1.0)) - math.log(target_mean_days)
    x1 = -f0  # a first step as if the mean were proportional to the scale
    for _ in range(max_iterations):
        f1 = math.log(mean_at(math.exp(x1))) - math.log(target_mean_days)
        if abs(math.expm1(f1)) <= tolerance:
            return Calibration(params.scaled(math.exp(x1)), math.exp(x1), pd.DataFrame(rows))
        slope = (f1 - f0) / (x1 - x0) if x1 != x0 else 1.0
        if not (slope > 0.05):
            slope = 1.0  # the mean grows with the scale; a flat or negative secant is noise
        x0, f0, x1 = x1, f1, x1 - f1 / slope
    raise RuntimeError(f"calibration did not reach {target_mean_days} days within {tolerance:.0%} in {max_iterations} iterations: {rows[-1]}")
