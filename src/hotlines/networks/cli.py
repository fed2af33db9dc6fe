"""The ``hotlines networks`` commands: build a graph, measure graphs, simulate requests.

The maintainer registers :data:`app` in ``hotlines.cli`` as ``hotlines networks``;
standalone: ``python -m hotlines.networks.cli --help``.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import pandas as pd
import typer
from rich.table import Table

app = typer.Typer(help="Coordination networks: build graphs, measure their structure, simulate requests (simulated output is labelled).", no_args_is_help=True)
from hotlines.console import console, errors


def _fail(message: str, code: int = 1) -> None:
    errors.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)


def _refuse_overwrite(path: Path) -> None:
    if path.exists():
        _fail(f"{path}: exists; nothing is overwritten (remove it or choose another name)", 2)


def _print_frame(frame: pd.DataFrame, title: str) -> None:
    table = Table(title=title)
    for column in frame.columns:
        table.add_column(str(column), overflow="fold")
    for _, row in frame.iterrows():
        table.add_row(*[("" if pd.isna(v) else (f"{v:.3f}" if isinstance(v, float) else str(v))) for v in row])
    console.print(table)


@app.command("build")
def build(
    kind: str = typer.Argument(..., help="vertical, horizontal, mixture, or coded (from a coded corpus)"),
    out: Path = typer.Argument(..., help="Output file: .graphml or .json (node-link)"),
    districts: int = typer.Option(8, help="vertical: district governments"),
    grassroots: int = typer.Option(10, help="vertical: grassroots units per district"),
    agencies: Optional[int] = typer.Option(None, help="agencies (default 20 vertical, 21 horizontal)"),
    sla_share: float = typer.Option(1.0, help="horizontal: share of agencies with a service-level contract; mixture: share added"),
    base: str = typer.Option("horizontal", help="mixture: the archetype to start from"),
    escalation_share: float = typer.Option(0.0, help="mixture: share of primary resolvers given cross-level escalation"),
    seed: int = typer.Option(0, help="mixture: seed for which actors the added ties touch"),
    city: Optional[str] = typer.Option(None, help="coded: city id"),
    segments: Optional[Path] = typer.Option(None, help="coded: segments.csv"),
    codings: Optional[Path] = typer.Option(None, help="coded: codings.csv"),
    codebook: Optional[Path] = typer.Option(None, help="coded: codebook YAML (default data/codebook.yaml)"),
    min_coders: int = typer.Option(1, help="coded: coders who must agree on a code"),
) -> None:
    """Build a coordination graph and write it (GraphML or node-link JSON)."""
    from . import builders
    from .io import write_graph
    from .model import GraphValidationError

    _refuse_overwrite(out)
    try:
        if kind == "vertical":
            graph = builders.vertical(districts, grassroots, agencies or 20)
        elif kind == "horizontal":
            graph = builders.horizontal(agencies or 21, sla_share)
        elif kind == "mixture":
            options = {"n_agencies": agencies} if agencies else {}
            if base == "vertical":
                options.update(n_districts=districts, n_grassroots_per_district=grassroots)
            graph = builders.mixture(base, escalation_share=escalation_share, sla_share=sla_share if base == "vertical" else 0.0, seed=seed, **options)
        elif kind == "coded":
            if not (city and segments and codings):
                _fail("coded needs --city, --segments and --codings", 2)
            from .. import paths

            graph = builders.from_codings(
                city,
                codebook or paths.data_dir() / "codebook.yaml",
                pd.read_csv(segments, dtype=str, keep_default_na=False),
                pd.read_csv(codings, dtype=str, keep_default_na=False),
                min_coders=min_coders,
            )
        else:
            _fail(f"unknown kind {kind!r}: use vertical, horizontal, mixture or coded", 2)
    except (GraphValidationError, ValueError, FileNotFoundError) as exc:
        _fail(str(exc))
    try:
        write_graph(graph, out)
    except ValueError as exc:
        _fail(str(exc), 2)
    console.print(f"wrote {out}: {graph.number_of_nodes()} actors, {graph.number_of_edges()} ties")


@app.command("measures")
def measures(
    graphs: List[Path] = typer.Argument(..., help="Graph files (.graphml or .json); named by file stem"),
    csv: Optional[Path] = typer.Option(None, "--csv", help="Also write the long table to this CSV"),
) -> None:
    """Structural measures of one or more graphs, side by side."""
    from .io import read_graph
    from .measures import structure_table
    from .model import GraphValidationError

    loaded = {}
    for path in graphs:
        try:
            loaded[path.stem] = read_graph(path)
        except (GraphValidationError, ValueError, FileNotFoundError) as exc:
            _fail(str(exc))
    wide = structure_table(loaded, wide=True).reset_index()
    _print_frame(wide, "structural measures")
    if csv:
        _refuse_overwrite(csv)
        structure_table(loaded).to_csv(csv, index=False)
        console.print(f"wrote {csv}")


@app.command("simulate")
def simulate_command(
    graph_file: Path = typer.Argument(..., help="Graph file (.graphml or .json)"),
    out: Path = typer.Argument(..., help="Simulated records: .parquet or .csv"),
    seed: int = typer.Option(0, help="Random seed"),
    days: float = typer.Option(60.0, help="Arrival window [days]"),
    horizon: float = typer.Option(90.0, help="Snapshot [days]; requests open then are censored"),
    rate: float = typer.Option(600.0, help="Total arrival rate [requests/day], split evenly over the graph's categories"),
    complex_share: float = typer.Option(0.2, help="Share of requests needing several agencies"),
    negotiation_days: float = typer.Option(3.0, help="Mean of one voluntary negotiation [days]"),
    report_in_deadline_days: float = typer.Option(2.0, help="Deadline for an obliged agency to report in [days]"),
) -> None:
    """Simulate requests through a graph. The output is SIMULATED (dataset 'simulation', column simulated=True)."""
    from .builders import DEFAULT_CATEGORIES
    from .io import read_graph
    from .model import GraphValidationError
    from .simulate import SimulationParameters, resolution_summary, simulate

    _refuse_overwrite(out)
    if out.suffix.lower() not in (".parquet", ".csv"):
        _fail(f"{out}: write .parquet or .csv", 2)
    try:
        graph = read_graph(graph_file)
        categories = graph.graph.get("categories") or list(DEFAULT_CATEGORIES)
        params = SimulationParameters(
            arrival_rates={c: rate / len(categories) for c in categories},
            arrival_days=days,
            horizon_days=horizon,
            complex_share=complex_share,
            negotiation_days=negotiation_days,
            report_in_deadline_days=report_in_deadline_days,
        )
        result = simulate(graph, params, seed=seed)
    except (GraphValidationError, ValueError, FileNotFoundError) as exc:
        _fail(str(exc))
    records = result.records.assign(coordination=result.records["coordination"].astype("string"))
    if out.suffix.lower() == ".parquet":
        records.to_parquet(out, index=False)
    else:
        records.to_csv(out, index=False)
    summary = resolution_summary(result.records, by="complex")
    shown = ["complex", "n", "n_closed", "share_censored", "median_days", "median_ci_low", "median_ci_high", "restricted_mean_days"]
    _print_frame(summary[shown].round(3), "SIMULATED resolution times (model results, not observations)")
    console.print(f"wrote {out}: {len(records)} simulated requests")


if __name__ == "__main__":
    app()
