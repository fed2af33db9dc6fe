"""Adjusted Rand index against hand computation, and the clusters of the rebuilt data."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from hotlines.index import (CompositeIndex, adjusted_rand_index, ari_permutation_test, cluster_cities,
                            cluster_cross_table, compare_clusters)
from hotlines.index.clustering import clustering_data


def test_ari_of_a_hand_computed_example():
    # contingency [[2, 0, 0], [0, 1, 1]]: sum C(n_ij, 2) = 1; rows C(2,2)+C(2,2) = 2; columns C(2,2) = 1; C(4,2) = 6
    # expected = 2 * 1 / 6 = 1/3; max = (2 + 1) / 2 = 3/2; ARI = (1 - 1/3) / (3/2 - 1/3) = 4/7
    assert adjusted_rand_index([0, 0, 1, 1], [0, 0, 1, 2]) == pytest.approx(4 / 7, abs=1e-15)


def test_ari_of_a_second_hand_example_with_a_negative_value():
    # a = [0,0,1,1], b = [0,1,0,1]: every n_ij = 1 -> index 0; rows 2, columns 2, expected 2*2/6 = 2/3, max 2
    # ARI = (0 - 2/3) / (2 - 2/3) = -1/2
    assert adjusted_rand_index([0, 0, 1, 1], [0, 1, 0, 1]) == pytest.approx(-0.5)


def test_ari_is_one_for_relabelled_partitions_and_symmetric():
    a = ["integrative"] * 5 + ["distinctive"] * 6 + ["innovative"] * 6 + ["inclusive"] * 3
    b = [3] * 5 + [1] * 6 + [4] * 6 + [2] * 3
    assert adjusted_rand_index(a, b) == 1.0
    rng = np.random.default_rng(0)
    c = rng.integers(0, 4, size=20)
    assert adjusted_rand_index(a, c) == pytest.approx(adjusted_rand_index(c, a))


def test_ari_matches_a_brute_force_pair_count():
    rng = np.random.default_rng(1)
    a, b = rng.integers(0, 4, 20), rng.integers(0, 3, 20)
    pairs = list(itertools.combinations(range(20), 2))
    both = sum(a[i] == a[j] and b[i] == b[j] for i, j in pairs)
    same_a = sum(a[i] == a[j] for i, j in pairs)
    same_b = sum(b[i] == b[j] for i, j in pairs)
    expected = same_a * same_b / len(pairs)
    ari = (both - expected) / ((same_a + same_b) / 2 - expected)
    assert adjusted_rand_index(a, b) == pytest.approx(ari, abs=1e-12)


def test_ari_rejects_labelings_of_different_lengths():
    with pytest.raises(ValueError, match="different lengths"):
        adjusted_rand_index([0, 1], [0, 1, 1])


def test_permutation_test_is_reproducible_and_bounded():
    a, b = list("aabbccdd"), [1, 1, 2, 2, 3, 3, 4, 1]
    first = ari_permutation_test(a, b, n_permutations=499, seed=3)
    assert first == ari_permutation_test(a, b, n_permutations=499, seed=3)
    assert 1 / 500 <= first["p_value"] <= 1
    big = [0] * 5 + [1] * 5 + [2] * 5 + [3] * 5
    assert ari_permutation_test(big, big, n_permutations=499, seed=3)["p_value"] == pytest.approx(1 / 500)


@pytest.fixture(scope="module")
def clusters():
    return cluster_cities(CompositeIndex(), k=4, seed=2024, n_init=30)


def test_clusters_are_seeded_complete_and_compared(clusters):
    again = cluster_cities(CompositeIndex(), k=4, seed=2024, n_init=30)
    assert clusters.equals(again)
    assert len(clusters) == 20
    assert clusters["kmeans"].nunique() == 4 and clusters["ward"].nunique() == 4
    assert set(clusters["report_cluster"]) == {"integrative", "distinctive", "innovative", "inclusive"}
    table = compare_clusters(clusters, n_permutations=199, seed=1)
    assert list(table["method"]) == ["kmeans", "ward"]
    for method in ("kmeans", "ward"):
        assert table.set_index("method").at[method, "ari"] == pytest.approx(
            adjusted_rand_index(clusters["report_cluster"], clusters[method]))
    cross = cluster_cross_table(clusters, "ward")
    assert cross.to_numpy().sum() == 20
    assert list(cross.index) == ["integrative", "distinctive", "innovative", "inclusive"]


def test_clustering_needs_complete_data_and_drops_constant_indicators():
    idx = CompositeIndex()
    data = clustering_data(idx)
    assert (data.std(ddof=0) > 0).all()
    assert "appeal_traceability" not in data.columns  # every city 1 after mean imputation
    with pytest.raises(ValueError, match="complete data"):
        clustering_data(idx.with_(imputation="none"))
