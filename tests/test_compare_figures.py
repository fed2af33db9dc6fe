"""The comparison figures: titles, axis labels with units, grade legend, the correlation in the title, pixels."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.image import imread  # noqa: E402

from hotlines import data, viz  # noqa: E402
from hotlines.compare.figures import measures_dot_plot, scale_scatter  # noqa: E402
from hotlines.compare.measures import harmonised_measures  # noqa: E402


def test_dot_plot_has_one_labelled_panel_per_measure_and_a_grade_legend(tmp_path):
    measures = harmonised_measures(data.indicators(), data.cities())
    modes = pd.DataFrame({"city_id": measures["city_id"].unique(), "dimension": "overall", "mode": "vertical"})
    fig = measures_dot_plot(measures, modes)
    axes = fig.axes
    assert len(axes) == measures["measure"].nunique()
    labels = [ax.get_xlabel() for ax in axes]
    assert any("calendar days; lower is better" in label for label in labels)
    assert any("%; higher is better" in label for label in labels)
    assert "by collaboration mode" in axes[0].get_title()
    legend_texts = [t.get_text() for t in axes[-1].get_legend().get_texts()]
    assert any(t.startswith("grade A") for t in legend_texts) and any(t.startswith("grade C") for t in legend_texts)
    viz.save(fig, "dots", tmp_path)
    image = imread(tmp_path / "dots.png")
    assert image.shape[0] > 500 and np.std(image) > 0.05
    plt.close(fig)


def test_scatter_titles_carry_the_rank_correlation_and_n(tmp_path):
    scale = pd.DataFrame({"city_id": ["beijing", "seoul", "tokyo", "paris", "london"],
                          "population": [2e7, 1e7, 1.4e7, 2.1e6, 8.8e6],
                          "gdp_usd_billion": [620.0, 410, 1035, np.nan, 643]})
    perf = pd.DataFrame({"city_id": ["beijing", "seoul", "tokyo", "paris", "london"], "measure": "4g_total",
                         "label": "4G total (rebuilt)", "value": [88.7, 88.4, 73.4, 68.0, 69.8],
                         "unit": "points of 100", "grade": pd.array([pd.NA] * 5, dtype="string")})
    fig = scale_scatter(scale, perf, "4g_total", seed=0)
    titles = [ax.get_title() for ax in fig.axes]
    # Ranks by population 5,3,4,1,2 and by score 5,4,3,1,2: sum of d^2 = 2, rho = 1 - 6*2/(5*24) = 0.9.
    assert titles[0].startswith("Spearman ρ = 0.90") and "n = 5" in titles[0]
    assert "n = 4" in titles[1]
    assert fig.axes[0].get_xlabel().startswith("Population (millions")
    assert "USD billion" in fig.axes[1].get_xlabel()
    assert fig.axes[0].get_ylabel() == "4G total (rebuilt) (points of 100)"
    results = pd.DataFrame([{"scale_variable": "population", "measure": "4g_total", "rows": "all grades",
                             "spearman": 0.123, "p_value": 0.456, "n": 5}])
    fig2 = scale_scatter(scale, perf, "4g_total", results=results, scale_variables=("population",))
    assert fig2.axes[0].get_title() == "Spearman ρ = 0.12 (permutation p = 0.46, n = 5)"
    plt.close(fig)
    plt.close(fig2)
