"""Benchmark: the vectorised Monte Carlo of the rebuilt 4G index against a naive loop.

Prints, measured side by side in one run:

- preparation (normalised data of every method combination, shared by both paths);
- 10,000 replications, vectorised (replications aggregated together as matrix products);
- the same replications one at a time in a Python loop over the same numpy aggregation
  (same random draws; the ranks are checked to be identical);
- a sample of replications through the full pandas object (``CompositeIndex.with_``
  per replication), extrapolated to 10,000 and labelled as such.

Usage: ``.venv/bin/python benchmarks/index_uncertainty.py [--n 10000] [--object-sample 40]``
"""

from __future__ import annotations

import argparse
import itertools
import platform
import time

import numpy as np

from hotlines.index import CompositeIndex
from hotlines.index import uncertainty as unc


def best_of(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="replications (default 10,000)")
    parser.add_argument("--object-sample", type=int, default=40, help="replications run through CompositeIndex.with_")
    parser.add_argument("--repeat", type=int, default=3, help="timing repeats of the vectorised run (best is shown)")
    args = parser.parse_args()

    index = CompositeIndex()
    struct = unc.Structure.of(index)
    options = (unc.NORMALISATIONS, unc.IMPUTATIONS, unc.AGGREGATIONS, unc.LOWER_BOUNDS)
    combos = list(itertools.product(*options))

    t_prep, prepared = best_of(lambda: unc._prepared(index, struct, *options), 1)

    def draws(n, seed=2024):
        rng = np.random.default_rng(seed)
        weights = unc.draw_weights(struct, n, 100.0, rng)
        picks = [rng.integers(0, len(o), size=n) for o in options]
        return weights, picks

    def vectorised():
        weights, picks = draws(args.n)
        s = (len(options[1]), len(options[2]), len(options[3]))
        choice = ((picks[0] * s[0] + picks[1]) * s[1] + picks[2]) * s[2] + picks[3]
        return unc.rank_rows(unc.evaluate(prepared, combos, choice, weights, struct))

    def loop():
        weights, picks = draws(args.n)
        ranks = np.empty((args.n, len(index.cities)), dtype=np.int16)
        for r in range(args.n):
            combo = tuple(options[f][picks[f][r]] for f in range(4))
            total = unc.aggregate(prepared[combo], weights[r:r + 1], struct, combo[2] == "geometric")
            ranks[r] = unc.rank_rows(total)[0]
        return ranks

    def object_path():
        weights, picks = draws(args.object_sample)
        for r in range(args.object_sample):
            combo = tuple(options[f][picks[f][r]] for f in range(4))
            index.with_(normalisation=combo[0], imputation=combo[1], aggregation=combo[2], lower_bounds=combo[3]).totals

    t_vec, ranks_vec = best_of(vectorised, args.repeat)
    t_loop, ranks_loop = best_of(loop, 1)
    t_obj, _ = best_of(object_path, 1)
    t_obj_full = t_obj / args.object_sample * args.n
    identical = np.array_equal(ranks_vec, ranks_loop)

    print(f"hotlines 4G index Monte Carlo benchmark ({platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}, numpy {np.__version__})")
    print(f"{len(index.cities)} cities x {len(struct.third_ids)} indicators; {len(combos)} method combinations; "
          f"{args.n:,} replications")
    print(f"{'path':<58}{'seconds':>10}{'ratio to vectorised':>22}")
    print(f"{'preparation (normalised data of every combination, once)':<58}{t_prep:>10.3f}{'':>22}")
    print(f"{'vectorised replications (best of ' + str(args.repeat) + ')':<58}{t_vec:>10.3f}{1.0:>22.1f}")
    print(f"{'naive loop, one replication at a time':<58}{t_loop:>10.3f}{t_loop / t_vec:>22.1f}")
    label = f"CompositeIndex.with_ per replication (EXTRAPOLATED from {args.object_sample})"
    print(f"{label:<58}{t_obj_full:>10.1f}{t_obj_full / t_vec:>22.0f}")
    print(f"vectorised and loop ranks identical: {identical}")


if __name__ == "__main__":
    main()
