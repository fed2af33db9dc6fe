"""The ``networks`` typer sub-app: build, measures, simulate, on real files."""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

from hotlines.networks.cli import app
from hotlines.networks.io import read_graph

from .conftest import DATA
from .test_networks_builders import CODINGS, SEGMENTS

runner = CliRunner()


def test_build_measure_and_simulate(tmp_path):
    v, h = tmp_path / "v.graphml", tmp_path / "h.json"
    result = runner.invoke(app, ["build", "vertical", str(v), "--districts", "2", "--grassroots", "3", "--agencies", "4"])
    assert result.exit_code == 0, result.output
    assert read_graph(v).number_of_nodes() == 2 + 4 + 2 + 6
    assert runner.invoke(app, ["build", "horizontal", str(h), "--agencies", "5", "--sla-share", "0.4"]).exit_code == 0
    out_csv = tmp_path / "measures.csv"
    result = runner.invoke(app, ["measures", str(v), str(h), "--csv", str(out_csv)])
    assert result.exit_code == 0, result.output
    assert "escalation_depth" in result.output
    table = pd.read_csv(out_csv)
    assert set(table["graph"]) == {"v", "h"}
    assert table.query("graph == 'h' and measure == 'share_agencies_with_sla'")["value"].item() == 0.4
    records_path = tmp_path / "sim.parquet"
    result = runner.invoke(app, ["simulate", str(v), str(records_path), "--rate", "60", "--days", "10", "--horizon", "15", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "SIMULATED" in result.output
    records = pd.read_parquet(records_path)
    assert records["simulated"].all() and set(records["dataset"]) == {"simulation"}
    assert records["source_file"].iloc[0] == "simulation:vertical:seed=3"


def test_mixture_and_coded_builds(tmp_path):
    m = tmp_path / "m.graphml"
    result = runner.invoke(app, ["build", "mixture", str(m), "--base", "horizontal", "--escalation-share", "1", "--agencies", "3"])
    assert result.exit_code == 0, result.output
    assert sum(1 for *_, t in read_graph(m).edges(keys=True) if t == "escalation") == 3
    (tmp_path / "segments.csv").write_text(SEGMENTS, encoding="utf-8")
    (tmp_path / "codings.csv").write_text(CODINGS, encoding="utf-8")
    coded = tmp_path / "beijing.json"
    result = runner.invoke(
        app,
        ["build", "coded", str(coded), "--city", "beijing", "--segments", str(tmp_path / "segments.csv"), "--codings", str(tmp_path / "codings.csv"), "--codebook", str(DATA / "codebook.yaml")],
    )
    assert result.exit_code == 0, result.output
    assert read_graph(coded).edges["grassroots_units", "district_governments", "escalation"]["evidence"] == ["S-BEI-03"]


def test_errors_exit_non_zero_and_nothing_is_overwritten(tmp_path):
    existing = tmp_path / "v.graphml"
    existing.write_text("keep me", encoding="utf-8")
    result = runner.invoke(app, ["build", "vertical", str(existing)])
    assert result.exit_code == 2 and "nothing is overwritten" in result.output
    assert existing.read_text(encoding="utf-8") == "keep me"
    bad = tmp_path / "bad.graphml"
    assert runner.invoke(app, ["build", "horizontal", str(bad), "--agencies", "2"]).exit_code == 0
    bad.write_text(bad.read_text(encoding="utf-8").replace(">dispatch<", ">orders<"), encoding="utf-8")
    result = runner.invoke(app, ["measures", str(bad)])
    assert result.exit_code == 1
    assert "orders" in result.output and "bad.graphml" in result.output
    assert runner.invoke(app, ["build", "pyramid", str(tmp_path / "p.graphml")]).exit_code == 2
    assert runner.invoke(app, ["build", "coded", str(tmp_path / "c.graphml"), "--city", "beijing"]).exit_code == 2
