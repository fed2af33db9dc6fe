"""Simulated requests per second of the coordination-network simulation.

Goal (issue 4): one million requests on a 500-node graph within a minute on the 2-core
development machine. Runs, side by side in one process:

- the vertical archetype with 500 actors (16 districts x 28 grassroots units, 34
  agencies, hub, leadership);
- the horizontal archetype with 500 actors (249 agencies, 249 liaisons, hub, leadership);
- a floor: the cheapest simpy model of the same arrivals (one ``simpy.Resource`` use per
  request at its primary resolver, no routing, no coordination), to show what the model
  costs over plain simpy.

Requests arrive over ``--days`` (default 365) so that a million requests is about 2,700
a day. Prints seconds, requests per second, the ratio to the floor, and the load
average, since other work on the machine slows every run alike. Every request here is
simulated.

    .venv/bin/python benchmarks/simulation_speed.py              # 1,000,000 requests
    .venv/bin/python benchmarks/simulation_speed.py --requests 100000
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import time

import numpy as np
import simpy

from hotlines.networks.builders import DEFAULT_CATEGORIES, horizontal, vertical
from hotlines.networks.simulate import SimulationParameters, plan, simulate


def floor_run(graph, params: SimulationParameters, seed: int) -> tuple[int, float]:
    """Plain simpy: Poisson arrivals, one Resource use per request at a primary resolver."""
    rng = np.random.default_rng(seed)
    p = plan(graph, params)
    total = sum(params.arrival_rates.values())
    n = int(rng.poisson(total * params.arrival_days))
    arrival = np.sort(rng.uniform(0, params.arrival_days, n)).tolist()
    candidates = np.concatenate(list(p.candidates.values()))
    primary = candidates[rng.integers(0, len(candidates), n)].tolist()
    work = rng.exponential(params.handling_days, n).tolist()
    load = np.bincount(primary, weights=work, minlength=len(p.nodes))
    servers = np.maximum(1, np.ceil(load / (params.utilisation * params.arrival_days))).astype(int)
    start = time.perf_counter()
    env = simpy.Environment()
    resources = [simpy.Resource(env, capacity=int(c)) for c in servers]

    def handle(i):
        resource = resources[primary[i]]
        with resource.request() as request:
            yield request
            yield env.timeout(work[i])

    def arrivals():
        clock = 0.0
        for i, at in enumerate(arrival):
            yield env.timeout(at - clock)
            clock = at
            env.process(handle(i))

    env.process(arrivals())
    env.run(until=params.horizon_days)
    return n, time.perf_counter() - start


def timed(graph, params, seed) -> tuple[int, float]:
    start = time.perf_counter()
    result = simulate(graph, params, seed=seed)
    return len(result.records), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1_000_000, help="expected number of simulated requests per run")
    parser.add_argument("--days", type=float, default=365.0, help="arrival window in days")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rate = args.requests / args.days / len(DEFAULT_CATEGORIES)
    params = SimulationParameters(arrival_rates={c: rate for c in DEFAULT_CATEGORIES}, arrival_days=args.days, horizon_days=args.days + 30)
    graphs = {
        "vertical": vertical(n_districts=16, n_grassroots_per_district=28, n_agencies=34),
        "horizontal": horizontal(n_agencies=249),
    }
    print(f"python {platform.python_version()}, simpy {simpy.__version__}, {os.cpu_count()} cores; load average before: {os.getloadavg()}")
    print(f"{args.requests:,} requests expected per run over {args.days:g} days; every request is simulated\n")
    rows = []
    for name, graph in graphs.items():
        gc.collect()
        n_floor, floor_seconds = floor_run(graph, params, args.seed)
        gc.collect()
        n, seconds = timed(graph, params, args.seed)
        rows.append((name, graph.number_of_nodes(), n, seconds, n / seconds, n_floor / floor_seconds, seconds / floor_seconds * n_floor / n))
    header = f"{'model':<11} {'nodes':>5} {'requests':>10} {'seconds':>8} {'requests/s':>11} {'floor req/s':>12} {'time / floor':>12} {'1M within 60 s':>15}"
    print(header)
    print("-" * len(header))
    for name, nodes, n, seconds, rps, floor_rps, ratio in rows:
        projected = 1_000_000 / rps
        print(f"{name:<11} {nodes:>5} {n:>10,} {seconds:>8.1f} {rps:>11,.0f} {floor_rps:>12,.0f} {ratio:>12.2f} {('yes' if projected <= 60 else 'no'):>8} ({projected:.0f} s)")
    print(f"\nload average after: {os.getloadavg()}")
    print("seconds include drawing the requests, the simpy run and building the records table; the floor times only its simpy run.")


if __name__ == "__main__":
    main()
