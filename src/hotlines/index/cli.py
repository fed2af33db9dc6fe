"""``hotlines index``: score, uncertainty, compare (a typer sub-app; register it with
``app.add_typer(index.cli.app, name="index")``)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.table import Table

app = typer.Typer(help="The 4G composite index rebuilt from its spec, with its uncertainty.", no_args_is_help=True)
from hotlines.console import console, errors

NORM = typer.Option(None, "--normalisation", help="minmax | minmax_scale | zscore | rank (default: the spec's, minmax)")
IMP = typer.Option(None, "--imputation", help="mean | median | worst | none (default: mean)")
AGG = typer.Option(None, "--aggregation", help="weighted_sum | geometric (default: weighted_sum)")
WEI = typer.Option(None, "--weighting", help="published | equal | entropy (default: published)")
BND = typer.Option(None, "--lower-bounds", help="as_value | floor | missing (default: as_value)")


def _settings(**kwargs) -> dict:
    return {k: v for k, v in kwargs.items() if v is not None}


def _pairs(items: list[str] | None, option: str) -> dict:
    out = {}
    for item in items or []:
        if "=" not in item:
            raise typer.BadParameter(f"{item!r} is not key=value", param_hint=option)
        key, value = item.split("=", 1)
        out[key.strip().replace("-", "_")] = value.strip()
    return out


def _build(**settings):
    from . import CompositeIndex, SpecError
    from .inputs import InputsError

    try:
        return CompositeIndex(**settings)
    except (SpecError, InputsError) as exc:
        errors.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1)


def _print(frame, title: str, digits: int = 2) -> None:
    table = Table(title=title)
    for column in frame.columns:
        table.add_column(str(column), justify="right" if frame[column].dtype.kind in "fiu" else "left")
    for row in frame.itertuples(index=False):
        table.add_row(*[f"{v:.{digits}f}" if isinstance(v, float) else str(v) for v in row])
    console.print(table)


@app.command("score")
def score(
    normalisation: Optional[str] = NORM, imputation: Optional[str] = IMP, aggregation: Optional[str] = AGG,
    weighting: Optional[str] = WEI, lower_bounds: Optional[str] = BND,
    out: Optional[Path] = typer.Option(None, "--out", help="Write the tidy scores (all levels) to this CSV."),
    show_log: bool = typer.Option(False, "--log", help="Print the log of every step."),
) -> None:
    """Build the index and print each city's total, rank and first-level scores."""
    index = _build(**_settings(normalisation=normalisation, imputation=imputation, aggregation=aggregation,
                               weighting=weighting, lower_bounds=lower_bounds))
    table = index.level_scores(1).reset_index().merge(index.totals[["city_id", "total", "rank"]], on="city_id")
    _print(table.sort_values("rank"), f"{index!r}")
    if show_log:
        _print(index.log.astype(str), "log")
    if out:
        index.scores.to_csv(out, index=False)
        console.print(f"scores written to {out}")


@app.command("uncertainty")
def uncertainty(
    n: int = typer.Option(10_000, "--n", help="Monte Carlo replications."),
    seed: int = typer.Option(2024, "--seed", help="Random seed (reproducible bit for bit)."),
    concentration: float = typer.Option(100.0, "--concentration", help="Dirichlet concentration of the weight perturbation; 0 = fixed weights."),
    normalisations: Optional[List[str]] = typer.Option(None, "--normalisation", help="Options to draw from (repeatable; default: all)."),
    imputations: Optional[List[str]] = typer.Option(None, "--imputation", help="Options to draw from (repeatable; default: all)."),
    aggregations: Optional[List[str]] = typer.Option(None, "--aggregation", help="Options to draw from (repeatable; default: all)."),
    lower_bounds: Optional[List[str]] = typer.Option(None, "--lower-bounds", help="Options to draw from (repeatable; default: all)."),
    sobol: int = typer.Option(0, "--sobol", help="Also compute Sobol indices with this base sample size (a power of 2; 0 = skip)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the rank summary to this CSV."),
) -> None:
    """Simulate the index under perturbed weights and drawn methods; print rank intervals (simulated)."""
    from . import uncertainty as unc
    from .spec import SpecError

    index = _build()
    options = dict(normalisations=tuple(normalisations or unc.NORMALISATIONS), imputations=tuple(imputations or unc.IMPUTATIONS),
                   aggregations=tuple(aggregations or unc.AGGREGATIONS), lower_bounds=tuple(lower_bounds or unc.LOWER_BOUNDS))
    try:
        result = unc.monte_carlo(index, n=n, seed=seed, concentration=concentration or None, **options)
    except SpecError as exc:
        errors.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1)
    summary = result.summary()
    _print(summary, f"Simulated ranks ({n:,} replications, seed {seed})")
    if sobol:
        table = unc.sobol_indices(index, n_base=sobol, seed=seed, concentration=concentration or 100.0, **options)
        _print(table.groupby("factor", sort=False)[["S1", "ST"]].mean().reset_index(), "Sobol indices, mean over cities (simulated)")
    if out:
        summary.to_csv(out, index=False)
        console.print(f"summary written to {out}")


@app.command("compare")
def compare_cmd(
    set_: Optional[List[str]] = typer.Option(None, "--set", help="A setting of version B, key=value (repeatable)."),
    base: Optional[List[str]] = typer.Option(None, "--base", help="A setting of version A, key=value (repeatable; default: the report's method)."),
    level: str = typer.Option("total", "--level", help="'total' or a first-level indicator id, or 'all'."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the comparison to this CSV."),
) -> None:
    """Compare two versions of the index: score and rank differences per city."""
    from . import compare

    a = _build(**_pairs(base, "--base"))
    try:
        b = a.with_(**_pairs(set_, "--set"))
    except ValueError as exc:
        errors.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1)
    table = compare(a, b)
    changed = table.attrs["changed"]
    shown = table if level == "all" else table[table["level"] == level]
    if shown.empty:
        errors.print(f"[red]error:[/red] no level {level!r} (use 'total', 'all' or a first-level id)")
        raise typer.Exit(1)
    description = ", ".join(f"{k}: {va} -> {vb}" for k, (va, vb) in changed.items()) or "no setting changed"
    _print(shown.sort_values(["level", "rank_a"]), f"B - A ({description})")
    if out:
        table.to_csv(out, index=False)
        console.print(f"comparison written to {out}")


@app.command("validate")
def validate_cmd(
    seeds: Optional[Path] = typer.Option(None, "--seeds", help="Folder of the seed documents (default: $HOTLINES_SEEDS or ../shared/seeds)."),
) -> None:
    """Check the spec and the coded inputs (schema, values, quotes on their seed lines). Exits 1 on any problem."""
    from .inputs import validate_inputs
    from .spec import SpecError, check_spec_quotes, load_spec

    try:
        spec = load_spec()
    except SpecError as exc:
        errors.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1)
    quotes = check_spec_quotes(spec, seeds)
    console.print(f"spec: {len(spec.third_level)} third-level indicators; quotes {quotes.attrs['note']}")
    bad = quotes[quotes["found"].fillna(True) == False]  # noqa: E712
    report = validate_inputs(spec=spec, seeds=seeds)
    for note in report.notes:
        console.print(note)
    for row in bad.itertuples():
        errors.print(f"spec quote not found: {row.where} at {row.locator}")
    for problem in report.problems:
        errors.print(str(problem))
    if report.problems or not bad.empty:
        raise typer.Exit(1)
    console.print("[green]valid[/green]")
