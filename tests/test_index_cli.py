"""The `hotlines index` sub-app and the chapter's figures."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from hotlines.index import CompositeIndex, cluster_cities, cluster_cross_table, monte_carlo, sobol_indices  # noqa: E402
from hotlines.index.cli import app  # noqa: E402
from hotlines.index.figures import cluster_heatmap, rank_interval_figure, sobol_figure  # noqa: E402

from .conftest import SEEDS  # noqa: E402

runner = CliRunner()


def test_score_prints_totals_and_writes_tidy_scores(tmp_path):
    out = tmp_path / "scores.csv"
    result = runner.invoke(app, ["score", "--imputation", "median", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "imputation=median" in result.output and "beijing" in result.output
    scores = pd.read_csv(out)
    assert {"city_id", "level", "indicator", "points"} <= set(scores.columns)
    expected = CompositeIndex(imputation="median").scores
    assert len(scores) == len(expected)


def test_compare_names_the_change_and_bad_settings_fail(tmp_path):
    out = tmp_path / "cmp.csv"
    result = runner.invoke(app, ["compare", "--set", "imputation=worst", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "imputation: mean -> worst" in result.output
    table = pd.read_csv(out)
    assert set(table["level"]) >= {"total", "process_governance"}
    bad = runner.invoke(app, ["compare", "--set", "imputation=knn"])
    assert bad.exit_code == 1 and "unknown imputation 'knn'" in bad.output


def test_uncertainty_runs_seeded(tmp_path):
    out_a, out_b = tmp_path / "a.csv", tmp_path / "b.csv"
    for out in (out_a, out_b):
        result = runner.invoke(app, ["uncertainty", "--n", "400", "--seed", "9", "--imputation", "mean",
                                     "--imputation", "worst", "--out", str(out)])
        assert result.exit_code == 0, result.output
    assert out_a.read_bytes() == out_b.read_bytes()
    assert "Simulated ranks" in result.output


def test_validate_command():
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 0, result.output
    assert "valid" in result.output
    if SEEDS is not None:
        assert "0 not found" in result.output


@pytest.fixture(scope="module")
def index():
    return CompositeIndex()


def test_rank_interval_figure(index):
    fig = rank_interval_figure(monte_carlo(index, n=300, seed=1).summary())
    ax = fig.axes[0]
    assert ax.get_title() and "simulated" in ax.get_xlabel() and ax.get_ylabel() == "City"
    assert len(ax.get_yticklabels()) == 20


def test_sobol_figure(index):
    fig = sobol_figure(sobol_indices(index, n_base=64, seed=1))
    ax = fig.axes[0]
    assert "Sobol" in ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    assert {t.get_text() for t in ax.get_yticklabels()} >= {"imputation of missing values", "weights, first level"}


def test_cluster_heatmap(index):
    fig = cluster_heatmap(cluster_cross_table(cluster_cities(index, n_init=10)))
    ax = fig.axes[0]
    assert "k-means" in ax.get_xlabel() and "Report's cluster" in ax.get_ylabel()
    assert sum(int(t.get_text()) for t in ax.texts) == 20
