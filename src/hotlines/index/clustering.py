"""Clusters of the rebuilt data compared with the report's four clusters.

The report sorts the 20 cities into four clusters (Integrative, Distinctive,
Innovative, Inclusive) by 'cluster analysis ... to survey data' (seed 001, L326),
naming neither variables, algorithm nor k's choice. Here the cities are clustered on
the rebuilt, normalised third-level indicators with k-means (scipy, seeded,
best of ``n_init`` starts) and with Ward's hierarchical method, and each partition is
compared with the report's by the adjusted Rand index (Hubert and Arabie 1985),
computed from the contingency table, and a cross-table.

>>> round(adjusted_rand_index([0, 0, 1, 1], [0, 0, 1, 2]), 12)  # 4/7
0.571428571429
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.cluster.vq import kmeans2
from scipy.special import comb

from .composite import CompositeIndex


def contingency(labels_a, labels_b) -> pd.DataFrame:
    """Cross-table of two labelings of the same items (counts)."""
    a, b = pd.Series(list(labels_a), name="a"), pd.Series(list(labels_b), name="b")
    if len(a) != len(b):
        raise ValueError(f"the two labelings have different lengths ({len(a)} and {len(b)})")
    return pd.crosstab(a, b)


def adjusted_rand_index(labels_a, labels_b) -> float:
    """Adjusted Rand index of two partitions (Hubert and Arabie 1985).

    ARI = (Σ C(n_ij, 2) - E) / (½ [Σ C(a_i, 2) + Σ C(b_j, 2)] - E), with
    E = Σ C(a_i, 2) Σ C(b_j, 2) / C(n, 2), from the contingency table n_ij with row
    sums a_i and column sums b_j. 1 for identical partitions (up to relabelling),
    about 0 for independent ones; it can be negative.

    >>> adjusted_rand_index(["x", "x", "y"], [1, 1, 2])
    1.0
    """
    a, b = np.asarray(list(labels_a)), np.asarray(list(labels_b))
    if a.size != b.size:
        raise ValueError(f"the two labelings have different lengths ({a.size} and {b.size})")
    _, ia = np.unique(a, return_inverse=True)
    _, ib = np.unique(b, return_inverse=True)
    table = np.zeros((ia.max() + 1, ib.max() + 1))
    np.add.at(table, (ia, ib), 1)
    n = table.sum()
    index = comb(table, 2).sum()
    rows, cols = comb(table.sum(axis=1), 2).sum(), comb(table.sum(axis=0), 2).sum()
    expected = rows * cols / comb(n, 2)
    maximum = (rows + cols) / 2
    if maximum == expected:  # both partitions trivial (all in one cluster, or all singletons)
        return 1.0
    return float((index - expected) / (maximum - expected))


def ari_permutation_test(labels_a, labels_b, n_permutations: int = 9999, seed: int | None = 2024) -> dict:
    """ARI with a permutation p-value (share of relabellings of ``labels_b`` with ARI at least as high).

    Returns ``{'ari', 'p_value', 'n_permutations'}``; the p-value counts the observed
    labelling, so it is never below 1 / (n_permutations + 1).
    """
    rng = np.random.default_rng(seed)
    observed = adjusted_rand_index(labels_a, labels_b)
    b = np.asarray(list(labels_b))
    hits = sum(adjusted_rand_index(labels_a, rng.permutation(b)) >= observed - 1e-12 for _ in range(n_permutations))
    return {"ari": observed, "p_value": (hits + 1) / (n_permutations + 1), "n_permutations": n_permutations}


def clustering_data(index: CompositeIndex) -> pd.DataFrame:
    """City × indicator matrix the clusters are computed on: the normalised, imputed
    third-level values, without indicators on which all cities are equal."""
    if index.settings.imputation == "none":
        raise ValueError("clustering needs complete data: use an index with an imputation other than 'none'")
    data = index.normalised
    varying = data.columns[data.std(ddof=0) > 1e-12]
    return data[varying]


def _relabel(labels: np.ndarray) -> np.ndarray:
    """Cluster numbers 1..k in order of first appearance, so equal partitions print equally."""
    order = {}
    for x in labels:
        order.setdefault(x, len(order) + 1)
    return np.array([order[x] for x in labels])


def kmeans_labels(data: pd.DataFrame, k: int = 4, seed: int | None = 2024, n_init: int = 50) -> np.ndarray:
    """k-means (scipy ``kmeans2``, k-means++ starts) keeping the start with the lowest within-cluster
    sum of squares among ``n_init``; starts that leave a cluster empty are discarded."""
    rng = np.random.default_rng(seed)
    x = data.to_numpy(dtype=float)
    best, best_inertia = None, np.inf
    for _ in range(n_init):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            centroids, labels = kmeans2(x, k, minit="++", seed=rng)
        if len(np.unique(labels)) < k:
            continue
        inertia = ((x - centroids[labels]) ** 2).sum()
        if inertia < best_inertia - 1e-12:
            best, best_inertia = labels, inertia
    if best is None:
        raise ValueError(f"k-means found no partition into {k} non-empty clusters in {n_init} starts")
    return _relabel(best)


def ward_labels(data: pd.DataFrame, k: int = 4) -> np.ndarray:
    """Ward's hierarchical clustering (scipy ``linkage``), cut into ``k`` clusters."""
    tree = linkage(data.to_numpy(dtype=float), method="ward")
    return _relabel(fcluster(tree, t=k, criterion="maxclust"))


def cluster_cities(index: CompositeIndex, k: int = 4, seed: int | None = 2024, n_init: int = 50,
                   data_dir=None) -> pd.DataFrame:
    """One row per city: ``report_cluster`` (data/cities.csv), ``kmeans`` and ``ward`` cluster numbers."""
    from .. import data

    x = clustering_data(index)
    cities = data.cities(data_dir).set_index("city_id")
    out = pd.DataFrame({"city_id": index.cities,
                        "report_cluster": cities.loc[index.cities, "cluster"].astype(str).to_numpy(),
                        "kmeans": kmeans_labels(x.loc[index.cities], k, seed, n_init),
                        "ward": ward_labels(x.loc[index.cities], k)})
    out.attrs["indicators"] = list(x.columns)
    out.attrs["note"] = (f"k = {k} clusters of the normalised, imputed rebuilt indicators ({len(x.columns)} that vary); "
                         f"k-means best of {n_init} seeded starts (seed {seed}); Ward linkage")
    return out


def compare_clusters(table: pd.DataFrame, n_permutations: int = 9999, seed: int | None = 2024) -> pd.DataFrame:
    """ARI of each rebuilt partition against the report's clusters, with a permutation p-value."""
    rows = []
    for method in ("kmeans", "ward"):
        test = ari_permutation_test(table["report_cluster"], table[method], n_permutations, seed)
        rows.append({"method": method, "ari": test["ari"], "p_value": test["p_value"],
                     "n_permutations": n_permutations, "n_cities": len(table)})
    return pd.DataFrame(rows)


REPORT_ORDER = ["integrative", "distinctive", "innovative", "inclusive"]


def cluster_cross_table(table: pd.DataFrame, method: str = "kmeans") -> pd.DataFrame:
    """Report's cluster (rows, in the report's order) × rebuilt cluster (columns): counts of cities."""
    cross = pd.crosstab(table["report_cluster"], table[method])
    rows = [c for c in REPORT_ORDER if c in cross.index] + [c for c in cross.index if c not in REPORT_ORDER]
    cross = cross.loc[rows]
    cross.index.name, cross.columns.name = "report_cluster", f"{method}_cluster"
    return cross
